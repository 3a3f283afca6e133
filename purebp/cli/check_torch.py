"""``purebp check-torch MODULE_FILE``: check a PyTorch model against the test vectors.

MODULE_FILE is the user's own Python file, and it is executed: it defines
``model`` (a torch.nn.Sequential) and ``loss`` (its torch loss module), or
``build(spec)``, which returns (model, loss) for a case's network or None.
purebp.adapters.torch runs the model on every case it can express and
purebp.oracle.checker judges the results, as ``purebp check`` does. Exit
code 0: every quantity passed; 1: some failed; 2: unusable input (torch not
installed, a file that cannot run or defines neither, vectors that cannot be
read, a model that can express none of the cases).
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from typing import Any, Dict, List, Optional, TextIO

from purebp._checks import shown_path
from purebp.adapters import torch as torch_adapter
from purebp.cli.options import Parser, add_format
from purebp.oracle import checker, vectors

DESCRIPTION = ("Check a PyTorch model against the test vectors. MODULE_FILE is your own"
               " Python file and it is run, as python would run it: it defines `model`"
               " (an nn.Sequential of Linear layers and activations) and `loss` (torch's"
               " MSELoss, BCEWithLogitsLoss, BCELoss, CrossEntropyLoss, or"
               " purebp.adapters.torch.half_sse_loss()), or a function `build(spec)`"
               " returning (model, loss) for a case's network, or None. Cases the model"
               " cannot express are listed as not checked (purebp docs vectors,"
               " \"Adapters\"). Exit 0 when all pass, 1 when any fails, 2 when an input is"
               " unusable (torch missing, a file that defines neither, nothing expressible).")


def add_options(parser: Parser) -> None:
    """Add MODULE_FILE, --vectors, --preset, --dtype, --format and --failures-only."""
    parser.add_argument("module_file", metavar="MODULE_FILE",
                        help="your Python file defining model and loss, or build(spec); it is run")
    parser.add_argument("--vectors", metavar="DIR", default=None,
                        help="a vector file or folder (default: the curated suite)")
    parser.add_argument("--preset", choices=tuple(checker.POLICIES), default=None,
                        help="tolerance policy (default: the one of --dtype)")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                        help="the precision torch computes in (default float64)")
    add_format(parser, {"text": "a table, one line per case and quantity",
                        "json": "a machine-readable JSON report"})
    parser.add_argument("--failures-only", action="store_true",
                        help="list only the failing quantities in the table")


def load_module_file(path: str) -> Dict[str, Any]:
    """Run the user's file and return what it defines (its folder is importable while it runs).

    Raises ValueError, in one line, for a file that is missing or raises.
    """
    shown = shown_path(path)
    if not os.path.isfile(path):
        raise ValueError(f"MODULE_FILE {shown}: no such file")
    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)
    try:
        return runpy.run_path(path, run_name="__purebp_check_torch__")
    except (Exception, SystemExit) as error:  # the user's code failed: say so in one line
        raise ValueError(f"MODULE_FILE {shown}: raised {type(error).__name__}: {error}") from None
    finally:
        if sys.path and sys.path[0] == folder:
            del sys.path[0]


def _cases(path: Optional[str]) -> Optional[List[Dict[str, Any]]]:
    """The cases of --vectors, each with its expected values; None for the curated suite."""
    if path is None:
        return None
    cases = vectors.load(path)
    for case in cases:
        if "expected" not in case:
            raise ValueError(f"--vectors {shown_path(path)}: case {case['id']!r} has no expected"
                             f" values")
    return cases


def run(args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    """Run the model on the cases, print the report; return 0 (all pass) or 1."""
    stream = sys.stdout if out is None else out
    try:
        torch_adapter.require()
    except ImportError as error:  # before the user's file, which would fail on `import torch`
        raise ValueError(str(error)) from None
    cases = _cases(args.vectors)
    names = load_module_file(args.module_file)
    pol = checker.policy(args.preset or args.dtype)
    if callable(names.get("build")):
        report = torch_adapter.check(names["build"], cases=cases, pol=pol, dtype=args.dtype)
    elif "model" in names and "loss" in names:
        report = torch_adapter.check(names["model"], names["loss"], cases=cases, pol=pol,
                                     dtype=args.dtype)
    else:
        raise ValueError(f"MODULE_FILE {shown_path(args.module_file)}: defines neither `model`"
                         f" and `loss` nor a function `build(spec)`")
    if args.format == "json":
        print(report.to_json(), file=stream)
    else:
        print(torch_adapter.not_expressible_note(report), file=stream)
        print(report.table(args.failures_only), file=stream)
    return 0 if report.passed else 1
