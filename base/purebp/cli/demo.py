"""``purebp`` with no command: the tutorial's demo.

It trains the tutorial's 2-4-1 sigmoid network on XOR (10,000 epochs at
learning rate 0.1, by default), prints the tutorial's log lines, the four
predictions and whether each falls on the right side of 0.5. It uses
purebp.tutorial alone; the general network's commands live in their own modules.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional, TextIO

from purebp.cli.options import EPOCHS, LOG_EVERY, LR, SEED, Group, add_quiet, int_at_least
from purebp.tutorial import NeuralNetwork

#: XOR's truth table: the tutorial's inputs and targets.
XOR_INPUTS: List[List[float]] = [[0, 0], [0, 1], [1, 0], [1, 1]]
XOR_TARGETS: List[List[float]] = [[0], [1], [1], [0]]

#: A seed whose network learns XOR in the default 10,000 epochs
#: (tests/test_cli.py checks that it does).
DEFAULT_SEED = 0

THRESHOLD = 0.5

DESCRIPTION = ("Train the tutorial's sigmoid network on XOR by backpropagation,"
               " in pure Python, and show its predictions.")


def add_options(parser: Group) -> None:
    """Add the demo's options: --seed, --epochs, --lr, --hidden, --log-every, --quiet."""
    SEED.add(parser, DEFAULT_SEED,
             help="seed for the initial weights (default {default}, which converges)")
    EPOCHS.add(parser, 10_000, help="number of full-batch gradient-descent steps (default {default})")
    LR.add(parser, 0.1)
    parser.add_argument("--hidden", type=int_at_least(1), default=4,
                        help="number of hidden units (default 4)")
    LOG_EVERY.add(parser, 1000)
    add_quiet(parser, "print only the final verdict, not the log or the predictions")


def run(args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    """Train on XOR as ``args`` say and print the log, predictions and verdict; return 0."""
    stream = sys.stdout if out is None else out

    def say(line: str) -> None:
        print(line, file=stream)

    net = NeuralNetwork(2, args.hidden, 1, seed=args.seed)
    net.train(
        XOR_INPUTS, XOR_TARGETS, epochs=args.epochs, learning_rate=args.lr,
        log_every=args.log_every, log=None if args.quiet else say,
    )
    predictions = net.feedforward(XOR_INPUTS)
    right = 0
    if not args.quiet:
        say("Predictions after training:")
    for x, (target,), (predicted,) in zip(XOR_INPUTS, XOR_TARGETS, predictions):
        label = 1 if predicted > THRESHOLD else 0
        right += label == target
        if not args.quiet:
            verdict = "right" if label == target else "WRONG"
            say(f"  {x} -> {predicted:.8f}  (target {target}: {verdict})")
    if right == len(XOR_TARGETS):
        say(f"All {right} XOR cases classified correctly (threshold {THRESHOLD}).")
    else:
        say(
            f"{right} of {len(XOR_TARGETS)} XOR cases classified correctly"
            f" (threshold {THRESHOLD}); try more --epochs or another --seed."
        )
    return 0
