"""``purebp check``: compare another implementation's results with test vectors.

The comparison and its tolerance policy are purebp.oracle.checker's. Exit
code 0: every quantity passed; 1: some failed, or a case of the suite has no
results (unless --subset), or nothing was compared at all; 2: an input is
unusable.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, TextIO

from purebp import _limits
from purebp.cli.options import Parser, add_format, int_at_least, parse_non_negative
from purebp.oracle import checker

DESCRIPTION = ("Compare ACTUAL (another implementation's results) with EXPECTED"
               " (test vectors), case by case and quantity by quantity. Exit 0 when"
               " all pass, 1 when any fails or a case has no results (see --subset),"
               " 2 when an input is unusable.")


def add_options(parser: Parser) -> None:
    """Add EXPECTED, ACTUAL, the tolerance options, --require, --format, --failures-only,
    --per-layer, --subset."""
    parser.add_argument("expected", metavar="EXPECTED", help="a vector file or folder")
    parser.add_argument("actual", metavar="ACTUAL",
                        help="a results file or folder in the same format")
    parser.add_argument("--preset", choices=tuple(checker.POLICIES), default="float64",
                        help="tolerance policy for the arithmetic checked (default float64)")
    parser.add_argument("--rtol", type=parse_non_negative, default=None,
                        help="relative tolerance, times each entry's scale (overrides the preset)")
    parser.add_argument("--atol", type=parse_non_negative, default=None,
                        help="absolute tolerance floor (overrides the preset)")
    parser.add_argument("--ulps", type=int_at_least(0), default=None,
                        help="also pass entries within this many units in the last place")
    parser.add_argument("--require", default="", metavar="Q1,Q2",
                        help="quantities that must be present, e.g. loss,gradients"
                             f" (from: {', '.join(checker.QUANTITIES)}; for op cases:"
                             f" {', '.join(checker.OP_QUANTITIES)})")
    add_format(parser, {"text": "a table, one line per case and quantity",
                        "json": "a machine-readable JSON report"}, old_flags={"--json": "json"})
    parser.add_argument("--failures-only", action="store_true",
                        help="list only the failing quantities in the table")
    # not --layers: in train and explain that flag gives a network's sizes (one name, one meaning)
    parser.add_argument("--per-layer", action="store_true",
                        help="show every case's table per layer (tolerance used by z, a, the"
                             " gradients and the updated parameters), not only a failing case's")
    parser.add_argument("--subset", action="store_true",
                        help="ACTUAL holds results for only some of EXPECTED's cases, on purpose:"
                             " the others are listed, not failed")


def run(args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    """Check and print the report; return 0 (all pass) or 1 (some fail, are missing or
    are not checkable)."""
    stream = sys.stdout if out is None else out
    require = [r.strip() for r in args.require.split(",") if r.strip()]
    known = checker.QUANTITIES + checker.OP_QUANTITIES
    for r in require:
        if not any(q == r or q.startswith(r + ".") for q in known):
            raise ValueError(f"--require: unknown quantity {r!r}; expected some of"
                             f" {', '.join(known)}")
    policy = checker.policy(args.preset, args.rtol, args.atol, args.ulps)
    with _limits.tally():  # both folders' files are held at once: one budget for all
        report = checker.check_files(args.expected, args.actual, policy, require, args.subset)
    text = (report.to_json() if args.format == "json"
            else report.table(args.failures_only, layers=args.per_layer))
    print(text, file=stream)
    return 0 if report.passed else 1
