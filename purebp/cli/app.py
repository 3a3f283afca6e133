"""The command line: ``python3 -m purebp`` (or ``purebp`` once installed).

    purebp [options]            the tutorial's demo: 2-4-1 sigmoid network on XOR,
                                10,000 epochs at learning rate 0.1, its log lines,
                                the four predictions and whether each is right
    purebp train [options]      train a general Network on a named data set or CSV
    purebp vanishing [options]  per-layer gradient norms of a deep network at
                                initialisation: vanishing and exploding gradients
    purebp explain [options]    one training step, every equation with its numbers
    purebp vectors --out DIR    writes the test-vector suite
    purebp check EXPECTED ACTUAL  checks another implementation's results against it

``main(argv)`` returns the exit code: 0 when the run finished (for ``check``:
and everything passed; 1 when something failed), 2 for a usage mistake or an
unusable input (one line on stderr, never a traceback), 130 when interrupted
with Ctrl-C, 141 when the reader of its output went away.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Optional, Sequence

from purebp.tutorial import NeuralNetwork

#: XOR's truth table: the tutorial's inputs and targets.
XOR_INPUTS = [[0, 0], [0, 1], [1, 0], [1, 1]]
XOR_TARGETS = [[0], [1], [1], [0]]

#: A seed whose network learns XOR in the default 10,000 epochs
#: (tests/test_cli.py checks that it does).
DEFAULT_SEED = 0

THRESHOLD = 0.5


# Argument parsers for argparse's type=: each turns a bad value into a usage
# error naming the option, never a traceback.


def int_at_least(minimum: int):
    """Return a parser of integers ≥ minimum."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def parse_non_negative(text: str) -> float:
    """Parse a finite number ≥ 0 (a learning rate, a noise level)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number ≥ 0, got {text!r}")
    return value


def parse_seed(text: str) -> int:
    """Parse any integer."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


class Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake reported in one line on stderr (exit 2)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see '{self.prog} --help')\n")


def one_line(message: str) -> str:
    """Return message with line breaks shown as \\n, so an error stays on one line."""
    return message.replace("\r", "\\r").replace("\n", "\\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the demo."""
    parser = Parser(
        prog="purebp",
        description=(
            "Train the tutorial's sigmoid network on XOR by backpropagation,"
            " in pure Python, and show its predictions."
        ),
        epilog=(
            "Other commands, each with --help: 'purebp train' (a general network on a"
            " data set), 'purebp explain' (one step with every number), 'purebp vanishing'"
            " (gradient norms per layer), 'purebp vectors' (write test vectors), 'purebp"
            " check' (check results against them)."
        ),
    )
    parser.add_argument(
        "--seed", type=parse_seed, default=DEFAULT_SEED,
        help=f"seed for the initial weights (default {DEFAULT_SEED}, which converges)",
    )
    parser.add_argument(
        "--epochs", type=int_at_least(0), default=10_000,
        help="number of full-batch gradient-descent steps (default 10000)",
    )
    parser.add_argument(
        "--lr", type=parse_non_negative, default=0.1,
        help="learning rate, a finite number ≥ 0 (default 0.1)",
    )
    parser.add_argument(
        "--hidden", type=int_at_least(1), default=4,
        help="number of hidden units (default 4)",
    )
    parser.add_argument(
        "--log-every", type=int_at_least(1), default=1000,
        help="print 'Epoch N, Loss: ...' every this many epochs (default 1000)",
    )
    parser.add_argument(
        "--quiet", action="store_true",
        help="print only the final verdict, not the log or the predictions",
    )
    return parser


def run_demo(args: argparse.Namespace, out=None) -> None:
    """Train on XOR as ``args`` say and print the log, predictions and verdict."""
    out = sys.stdout if out is None else out

    def say(line: str) -> None:
        print(line, file=out)

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


COMMANDS = ("train", "vanishing", "vectors", "check", "explain")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line with ``argv`` (default: sys.argv[1:]); return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        from purebp.cli import commands  # the general network's commands

        parser = commands.build_parser(argv[0])
        run = getattr(commands, "run_" + argv[0])
        argv = argv[1:]
    else:
        parser, run = build_parser(), run_demo
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error already printed
        return int(stop.code or 0)
    try:
        code = run(args)
    except (ValueError, TypeError) as error:
        print(f"purebp: error: {one_line(str(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("purebp: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`purebp | head`): stop quietly, as a program
        # killed by SIGPIPE would, and keep the interpreter's final flush of
        # stdout from raising again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return code or 0
