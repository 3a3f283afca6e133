"""``purebp vectors``: write the test-vector suite (purebp.oracle.vectors) to a folder.

With ``--ops``, the per-operation suite instead (purebp.oracle.ops): one dense
layer, activation or loss per case.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, TextIO

from purebp import _limits
from purebp._checks import shown_path
from purebp.cli.options import SEED, Parser, int_at_least
from purebp.oracle import ops, vectors

DESCRIPTION = ("Write the test-vector suite: the curated cases and N seeded random"
               " ones (with --optimizers, random optimizers and mini-batches),"
               " one JSON file per case (format: purebp docs vectors), and"
               " MANIFEST.sha256, which lists them with their SHA-256 so that check"
               " refuses a partial or altered suite. Expected values are computed"
               " with 50-digit decimals and rounded to float64. With --ops, the"
               " per-operation suite instead: a dense layer, each activation and each"
               " loss on its own (output and gradients), checked the same way.")


def add_options(parser: Parser) -> None:
    """Add --out, --ops, --random, --optimizers and --seed."""
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder to write into (created if missing)")
    parser.add_argument("--ops", action="store_true",
                        help="write the per-operation suite (op-* cases: dense, activations,"
                             " losses) instead of the network suite")
    parser.add_argument("--random", type=int_at_least(0), default=0, metavar="N",
                        help="how many random cases to add (default 0)")
    parser.add_argument("--optimizers", action="store_true",
                        help="give the random cases optimizers (SGD with momentum, RMSprop, Adam,"
                             " AdamW) and mini-batches: other cases, ids random-opt-SEED-I")
    SEED.add(parser, 0, help="seed of the random cases (default {default})")


def run(args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    """Write the suite and say how many files went where; return 0."""
    stream = sys.stdout if out is None else out
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise ValueError(f"--out {shown_path(args.out)}: exists and is not a folder")
    if args.ops and args.optimizers:
        raise ValueError("--optimizers must go with the network suite, got --ops too"
                         " (per-operation cases take no optimizer)")
    cost = vectors.OPTIMIZER_CASE_COST if args.optimizers else 1
    _limits.check("purebp vectors", _limits.RANDOM_CASE_BYTES * args.random,
                  _limits.random_cases_seconds(args.random * cost),
                  f"--random {args.random:,} (each case computed in 50-digit decimals and held"
                  " until the suite is written)")
    try:
        if args.ops:
            paths = ops.write_op_suite(args.out, args.random, args.seed)
        else:
            paths = vectors.write_suite(args.out, args.random, args.seed, args.optimizers)
    except OSError as error:
        raise ValueError(f"--out {shown_path(args.out)}: cannot write:"
                         f" {error.strerror or error}") from None
    kind = "op cases" if args.ops else "cases"
    print(f"wrote {len(paths)} {kind} ({len(paths) - args.random} curated,"
          f" {args.random} random) to {shown_path(args.out)}", file=stream)
    return 0
