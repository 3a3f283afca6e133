"""``purebp vectors``: write the test-vector suite (purebp.oracle.vectors) to a folder."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, TextIO

from purebp._checks import shown_path
from purebp.cli.options import SEED, Parser, int_at_least
from purebp.oracle import vectors

DESCRIPTION = ("Write the test-vector suite: the curated cases and N seeded random"
               " ones, one JSON file per case (format: docs/vectors.md). Expected"
               " values are computed with 50-digit decimals and rounded to float64.")


def add_options(parser: Parser) -> None:
    """Add --out, --random and --seed."""
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder to write into (created if missing)")
    parser.add_argument("--random", type=int_at_least(0), default=0, metavar="N",
                        help="how many random cases to add (default 0)")
    SEED.add(parser, 0, help="seed of the random cases (default {default})")


def run(args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    """Write the suite and say how many files went where; return 0."""
    stream = sys.stdout if out is None else out
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise ValueError(f"--out {shown_path(args.out)}: exists and is not a folder")
    try:
        paths = vectors.write_suite(args.out, args.random, args.seed)
    except OSError as error:
        raise ValueError(f"--out {shown_path(args.out)}: cannot write:"
                         f" {error.strerror or error}") from None
    print(f"wrote {len(paths)} cases ({len(paths) - args.random} curated,"
          f" {args.random} random) to {args.out}", file=stream)
    return 0
