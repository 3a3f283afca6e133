"""Measure the oracle's tolerances as an implementer would: how much of them correct code uses,
and how often a small uniform error is caught.

    python3 scripts/tolerance_audit.py [--random N] [--seed S]

Two tables, measured in one run (purebp/docs/vectors.md, "What the policy
measured", states the figures):

1. Correct implementations on the curated suite and N seeded random cases
   (default 1,000): the largest share of any entry's tolerance each uses, per
   quantity. They are purebp's own float64 code, the plain-Python
   backpropagation of examples/plain_backprop.py in every summation order and
   float format it has, and, when installed, the numpy and PyTorch examples.
   float32 variants are checked under the float32 preset. The target: none
   above 10%.
2. A uniform relative error (1e-11, 1e-12) in all of the loss, of the
   gradients or of the updated parameters, on the curated suite: how many
   cases catch it. The target: at least 90% at 1e-11.

It prints, it never asserts (tests/test_oracle_tolerance_policy.py keeps the
targets true on a smaller sample).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "examples"))

import plain_backprop  # noqa: E402

from purebp.oracle import checker, vectors  # noqa: E402  (after the path above)
from purebp.oracle.tolerance_policy import POLICIES, case_tolerances  # noqa: E402

QUANTITIES = ("pre_activations", "activations", "loss", "gradients.weights", "gradients.biases",
              "updated.weights", "updated.biases", "trajectory")
#: The table's column heads, one per quantity.
HEADS = ("z", "a", "loss", "grad W", "grad b", "new W", "new b", "traj.")


def implementations():
    """Return (label, impl, preset) for every implementation available here."""
    found = [("purebp Network (float64)", checker.purebp_results, "float64")]
    for label, kwargs, preset in plain_backprop.VARIANTS:
        found.append((f"plain: {label}", lambda c, kw=kwargs: plain_backprop.run(c, **kw), preset))
    if importlib.util.find_spec("numpy") is not None:
        import numpy_backprop

        found.append(("numpy example (float64)", numpy_backprop.run, "float64"))
    if importlib.util.find_spec("torch") is not None:
        import torch_adapter

        found.append(("torch example (float64, autograd)", torch_adapter.run, "float64"))
    return found


def used_by(impl, cases, tolerances, preset):
    """Return ({quantity: largest share used}, how many quantities failed or were not checkable)."""
    pol = POLICIES[preset]
    worst = dict.fromkeys(QUANTITIES, 0.0)
    bad = 0
    for case in cases:
        got = checker._plain(impl(vectors.case_input(case)))
        result = checker._compare(case, got, pol, (), tolerances[preset][case["id"]])
        for q in result.quantities:
            if q.status not in ("pass", "not checked"):
                bad += 1
            if q.name in worst and q.max_used is not None:
                worst[q.name] = max(worst[q.name], q.max_used)
    return worst, bad


def scaled(value, factor):
    if isinstance(value, list):
        return [scaled(v, factor) for v in value]
    return value * factor


def caught(cases, part, relative, tolerances):
    count = 0
    for case in cases:
        want = case["expected"][part]
        got = {part: scaled(want, 1 + relative) if part == "loss" else
               {k: scaled(v, 1 + relative) for k, v in want.items()}}
        count += not checker._compare(case, got, POLICIES["float64"], (),
                                      tolerances["float64"][case["id"]]).passed
    return count


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=1000, help="random cases (default 1000)")
    parser.add_argument("--seed", type=int, default=13, help="their seed (default 13)")
    args = parser.parse_args(argv)
    start = time.time()
    curated = vectors.curated()
    cases = curated + vectors.random_cases(args.random, args.seed)
    tolerances = {preset: {c["id"]: case_tolerances(c, POLICIES[preset]) for c in cases}
                  for preset in POLICIES}
    print(f"{len(curated)} curated and {args.random} random cases (seed {args.seed});"
          f" tolerances computed in {time.time() - start:.0f} s")
    print()
    print("1. The largest share of any entry's tolerance used (target: at most 10%)")
    header = "".join(f"{h:>8}" for h in HEADS)
    print(f"{'implementation':<48}{header}  failed")
    overall = 0.0
    for label, impl, preset in implementations():
        worst, bad = used_by(impl, cases, tolerances, preset)
        overall = max([overall, *worst.values()])
        print(f"{label:<48}" + "".join(f"{100 * worst[q]:>7.2f}%" for q in QUANTITIES)
              + f"  {bad}")
    print(f"largest share used: {100 * overall:.2f}%")
    print()
    print(f"2. A uniform relative error caught on the {len(curated)} curated cases"
          " (target: 90% at 1e-11)")
    for part in ("loss", "gradients", "updated"):
        row = [f"{relative:g}: {caught(curated, part, relative, tolerances)}/{len(curated)}"
               for relative in (1e-11, 1e-12)]
        print(f"  {part:<10} " + "   ".join(row))
    print(f"\n({time.time() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
