"""``purebp explain``: one training step, every equation with its numbers.

The step is purebp.study.explain's; this module picks the network and batch
(the tutorial's XOR network by default, another from --layers and the
network options, or a test-vector case from --case) and prints the result.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional, TextIO

from purebp import _checks, _limits
from purebp._checks import shown_path
from purebp.cli.options import (
    LR,
    SAMPLES,
    SEED,
    Parser,
    add_format,
    add_network_options,
    int_at_least,
    one_hot,
    spelling,
)
from purebp.datasets import DATASETS
from purebp.network import Network
from purebp.oracle import vectors
from purebp.study import explain

DESCRIPTION = ("Print one full training step of a small network, every equation of"
               " 'purebp docs backprop' with the numbers put into it. Default: the tutorial's"
               " XOR network (2-4-1 sigmoid, half_sse, seed 0, learning rate 0.1).")


def add_options(parser: Parser) -> None:
    """Add --case, --id, the network options, --seed, --lr, --data, --samples, --precision,
    --max-entries, --format."""
    parser.add_argument("--case", metavar="FILE", default=None,
                        help="explain a case from a test-vector file (format: purebp docs vectors)")
    parser.add_argument("--id", default=None,
                        help="with --case: which case, when the file holds several")
    add_network_options(parser, layers_shown="2,4,1", layers_old_names=("--network",))
    parser.set_defaults(layers=[2, 4, 1], activation="sigmoid", loss="half_sse", init="normal")
    SEED.add(parser, 0)
    LR.add(parser, 0.1)
    parser.add_argument("--data", default="xor", choices=tuple(DATASETS),
                        help="data set whose first --samples rows are the batch (default xor)")
    SAMPLES.add(parser, 4, help="how many rows of the data set (default {default})")
    parser.add_argument("--precision", type=int_at_least(1, 17), default=4,
                        help="decimals shown (default 4)")
    parser.add_argument("--max-entries", type=int_at_least(1, explain.MAX_ENTRIES), default=32,
                        metavar="N",
                        help="show at most N entries of each matrix, from 1 to"
                             f" {explain.MAX_ENTRIES} (default 32; a note counts the rest)")
    add_format(parser, {"text": "terminal text", "md": "Markdown"})


#: Bytes the explanation's text may take per entry shown: each matrix of each
#: layer (weights, biases, sums, activations, deltas, gradients, new weights:
#: counted as 16 a layer, to be high) shows at most --max-entries entries of
#: precision + 24 characters, held as parts and as the joined text (4 times).
ENTRY_TEXT_BYTES = 4 * 24
MATRICES_A_LAYER = 16


def check_budget(sizes: List[int], samples: int, max_entries: int, precision: int) -> None:
    """Refuse, before the network is built, an explanation over the memory or time budget.

    Its network's forward and backward pass and one step (purebp._limits), and
    the text of the matrices it prints.
    """
    units, weights = _limits.counts(sizes)
    layers = len(sizes) - 1
    entries = layers * MATRICES_A_LAYER * min(max_entries, max(weights, units * samples))
    text = entries * (ENTRY_TEXT_BYTES + 4 * precision)
    _limits.check("purebp explain", _limits.network_bytes(samples, units, weights, layers) + text,
                  _limits.network_seconds(samples, weights, 1, layers),
                  f"{samples:,} samples through layers {','.join(map(str, sizes))}"
                  f" ({weights:,} weights), showing up to {max_entries:,} entries a matrix")


def run(args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    """Print the explained step; return 0."""
    stream = sys.stdout if out is None else out
    if args.case is not None:
        cases = vectors.load(args.case)
        if args.id is not None:
            ids = [c["id"] for c in cases]
            cases = [c for c in cases if c["id"] == args.id]
            if not cases:
                listed = ", ".join(repr(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
                raise ValueError(f"--id: unknown case id {_checks._short_repr(args.id)} in"
                                 f" {shown_path(args.case)}; expected one of {listed}")
        elif len(cases) > 1:
            raise ValueError(f"--case {shown_path(args.case)} holds {len(cases)} cases;"
                             " pick one with --id")
        case = cases[0]
        if "op" in case:
            raise ValueError(f"--case {shown_path(args.case)}: case {case['id']!r} is a"
                             " per-operation case; explain steps through network cases only")
        spec = case["network"]
        check_budget(spec["sizes"], len(case["inputs"]), args.max_entries, args.precision)
        net = Network(spec["sizes"], spec["activation"], spec["output_activation"],
                      spec["loss"], seed=0)
        net.weights = case["parameters"]["weights"]
        net.biases = case["parameters"]["biases"]
        X, y, lr = case["inputs"], case["targets"], case["learning_rate"]
        source = f"case {case['id']!r} of {shown_path(args.case)}"
    else:
        check_budget(args.layers, args.samples, args.max_entries, args.precision)
        # An output activation of None is what the loss needs (Network decides).
        net = Network(args.layers, args.activation, args.output_activation, args.loss,
                      args.init, args.seed)
        X, y = DATASETS[args.data]()
        X, y = X[:args.samples], y[:args.samples]
        if args.loss == "cross_entropy" and len(y[0]) == 1 and net.sizes[-1] > 1:
            y = one_hot(y, net.sizes[-1])
        if len(X[0]) != net.sizes[0] or len(y[0]) != net.sizes[-1]:
            raise ValueError(f"{spelling(args, 'layers', '--layers')} must start with"
                             f" {len(X[0])} and end with {len(y[0])} ({args.data} has"
                             f" {len(X[0])} inputs and {len(y[0])} targets),"
                             f" got {','.join(map(str, args.layers))}")
        lr = args.lr
        source = f"the first {len(X)} rows of {args.data}, seed {args.seed}"
    print(explain.run(net, X, y, lr, source, args.format, args.precision,
                      args.max_entries)["text"], end="", file=stream)
    return 0
