"""Measure the oracle's tolerances as an implementer would: how much of them correct code uses,
and how often a small uniform error is caught.

    python3 scripts/tolerance_audit.py [--random N] [--optimizer-random M] [--seed S]

Two tables, measured in one run (purebp/docs/vectors.md, "What the policy
measured", states the figures):

1. Correct implementations on the curated suite, N seeded random cases
   (default 1,000) and M random cases with optimizers and mini-batches
   (default 300): the largest share of any entry's tolerance each uses, per
   quantity. They are purebp's own float64 code, the plain-Python
   backpropagation of examples/plain_backprop.py in every summation order and
   float format it has, with the optimizers' steps written here as plain loops
   (PlainOptimizer, in torch's arrangement and a textbook one), and, when
   installed, the numpy and PyTorch examples.
   float32 variants are checked under the float32 preset. The target: none
   above 10%.
2. A uniform relative error (1e-11, 1e-12) in all of the loss, of the
   gradients, of the updated parameters or of the trajectory, on the curated
   suite, and in the parameters or the optimizer's state after the last step
   on its cases with an optimizer or batches: how many cases catch it. The
   target: at least 90% at 1e-11.

It prints, it never asserts (tests/test_oracle_tolerance_policy.py keeps the
targets true on a smaller sample).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
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
              "updated.weights", "updated.biases", "trajectory", "final.weights", "final.biases",
              "optimizer_state")
#: The table's column heads, one per quantity ("state": every buffer of the optimizer's).
HEADS = ("z", "a", "loss", "grad W", "grad b", "new W", "new b", "traj.", "final W", "final b",
         "state")


# -- the optimizers as plain loops: an independent float implementation -----------------------
#
# Written from torch.optim's documented rules, sharing no code with purebp.optimizers or the
# 50-digit pass, in two arrangements: torch's (lerp for the moving averages, addcmul,
# step_size = lr/(1 − β1^t), √v/√(1 − β2^t) + eps, addcdiv) and a textbook one (products and
# sums, β^t by repeated products, m̂ and v̂, p − lr·(m̂/(√v̂ + eps))). Every result of an
# operation is rounded by r (float32 for the float32 variants). The gradients are
# examples/plain_backprop.py's, in its summation orders.

ARRANGEMENTS = ("torch", "textbook")


def _lerp(start, end, weight, r):
    """torch.lerp as its CPU kernel computes it: from the nearer end."""
    if weight < 0.5:
        return r(start + r(weight * r(end - start)))
    return r(end - r(r(end - start) * r(1.0 - weight)))


class PlainOptimizer:
    """One optimizer's steps on flat parameters, its state in torch's names."""

    def __init__(self, config, r, arrangement):
        self.name, self.r, self.arrangement = config["name"], r, arrangement
        self.a = {k: (v if isinstance(v, bool) else [r(b) for b in v] if isinstance(v, list)
                      else r(v)) for k, v in config["arguments"].items()}
        a = self.a
        if self.name == "sgd":
            self.names = ["momentum_buffer"] if a["momentum"] else []
        elif self.name == "rmsprop":
            self.names = (["momentum_buffer"] if a["momentum"] else []) + ["square_avg"] + (
                ["grad_avg"] if a["centered"] else [])
        else:
            self.names = ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if a["amsgrad"] else [])
        self.t = 0
        self.state = {}
        self.powers = [1.0, 1.0]  # β1^t, β2^t by products (the textbook arrangement)

    def step(self, p, g):
        self.t += 1
        if not self.state:
            self.state = {name: [0.0] * len(p) for name in self.names}
        if self.name in ("adam", "adamw"):
            beta1, beta2 = self.a["betas"]
            self.powers = [self.r(self.powers[0] * beta1), self.r(self.powers[1] * beta2)]
        rule = {"sgd": self._sgd, "rmsprop": self._rmsprop, "adam": self._adam,
                "adamw": self._adam}[self.name]
        return [rule(i, p[i], g[i]) for i in range(len(p))]

    def _sgd(self, i, p, g):
        a, r, s = self.a, self.r, self.state
        if a["weight_decay"]:
            g = r(g + r(a["weight_decay"] * p))
        d = g
        if a["momentum"]:
            mu = a["momentum"]
            if self.t == 1:
                b = g
            elif self.arrangement == "torch":  # buf.mul_(mu).add_(g, alpha=1 − dampening)
                b = r(r(s["momentum_buffer"][i] * mu) + r(r(1.0 - a["dampening"]) * g))
            else:
                b = r(r(mu * s["momentum_buffer"][i]) + r(r(1.0 - a["dampening"]) * g))
            s["momentum_buffer"][i] = b
            d = r(g + r(mu * b)) if a["nesterov"] else b
        return r(p + r(-a["lr"] * d)) if self.arrangement == "torch" else r(p - r(a["lr"] * d))

    def _rmsprop(self, i, p, g):
        a, r, s = self.a, self.r, self.state
        alpha, w = a["alpha"], r(1.0 - a["alpha"])
        if a["weight_decay"]:
            g = r(g + r(a["weight_decay"] * p))
        v = r(r(s["square_avg"][i] * alpha) + r(r(w * g) * g))
        s["square_avg"][i] = v
        if a["centered"]:
            if self.arrangement == "torch":
                ga = _lerp(s["grad_avg"][i], g, w, r)
            else:
                ga = r(r(alpha * s["grad_avg"][i]) + r(w * g))
            s["grad_avg"][i] = ga
            v = r(v - r(ga * ga))
        avg = r(r(math.sqrt(v) if v >= 0 else math.nan) + a["eps"])
        d = r(g / avg)
        if a["momentum"]:
            d = r(r(s["momentum_buffer"][i] * a["momentum"]) + d)
            s["momentum_buffer"][i] = d
        return r(p - r(a["lr"] * d))

    def _adam(self, i, p, g):
        a, r, s = self.a, self.r, self.state
        lr, eps, wd = a["lr"], a["eps"], a["weight_decay"]
        beta1, beta2 = a["betas"]
        if wd and self.name == "adamw":
            p = r(p * r(1.0 - r(lr * wd)))
        elif wd:
            g = r(g + r(wd * p))
        if self.arrangement == "torch":
            m = _lerp(s["exp_avg"][i], g, r(1.0 - beta1), r)
        else:
            m = r(r(beta1 * s["exp_avg"][i]) + r(r(1.0 - beta1) * g))
        v = r(r(s["exp_avg_sq"][i] * beta2) + r(r(r(1.0 - beta2) * g) * g))
        s["exp_avg"][i], s["exp_avg_sq"][i] = m, v
        if a["amsgrad"]:
            s["max_exp_avg_sq"][i] = v = max(s["max_exp_avg_sq"][i], v)
        if self.arrangement == "torch":
            correction1, correction2 = r(1.0 - r(beta1 ** self.t)), r(1.0 - r(beta2 ** self.t))
            step_size = r(lr / correction1)
            denom = r(r(r(math.sqrt(v)) / r(math.sqrt(correction2))) + eps)
            return r(p + r(-step_size * r(m / denom)))
        m_hat = r(m / r(1.0 - self.powers[0]))
        v_hat = r(v / r(1.0 - self.powers[1]))
        return r(p - r(lr * r(m_hat / r(r(math.sqrt(v_hat)) + eps))))


def _flat(matrices):
    return [v for m in matrices for row in m for v in row]


def _shaped(flat, like):
    out, at = [], 0
    for m in like:
        rows = []
        for row in m:
            rows.append(flat[at:at + len(row)])
            at += len(row)
        out.append(rows)
    return out


def plain_run(case, order="forward", fmt="float64", derivative="output", kink_slope=0,
              arrangement="torch", seed=0):
    """A case's quantities from plain loops: examples/plain_backprop.py's passes in the given
    summation order and format, the optimizer's steps (PlainOptimizer) over the batches.

    A case without optimizer or batches is plain_backprop.run's."""
    if "optimizer" not in case and "batches" not in case:
        return plain_backprop.run(case, order=order, fmt=fmt, derivative=derivative,
                                  kink_slope=kink_slope, seed=seed)
    ar = plain_backprop.Arithmetic(order, fmt, seed)
    net = case["network"]
    W0 = [ar.matrix(m) for m in case["parameters"]["weights"]]
    B0 = [ar.matrix(m) for m in case["parameters"]["biases"]]
    X, y = ar.matrix(case["inputs"]), ar.matrix(case["targets"])
    config = case.get("optimizer") or {"name": "sgd", "arguments": {
        "lr": case["learning_rate"], "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0,
        "nesterov": False}}
    zs, acts, loss, gw, gb = plain_backprop._pass(net, W0, B0, X, y, ar, derivative, kink_slope)
    result = {"pre_activations": zs, "activations": acts[1:], "loss": loss,
              "gradients": {"weights": gw, "biases": gb}}
    first = PlainOptimizer(config, ar.r, arrangement)
    new = first.step(_flat(W0) + _flat(B0), _flat(gw) + _flat(gb))
    count = len(_flat(W0))
    result["updated"] = {"weights": _shaped(new[:count], W0), "biases": _shaped(new[count:], B0)}
    rule = PlainOptimizer(config, ar.r, arrangement)
    W, B = W0, B0
    trajectory = []
    for k in range(case["steps"]):
        rows = case["batches"][k] if "batches" in case else range(len(X))
        _, _, loss, gw, gb = plain_backprop._pass(net, W, B, [X[i] for i in rows],
                                                  [y[i] for i in rows], ar, derivative,
                                                  kink_slope)
        trajectory.append(loss)
        new = rule.step(_flat(W) + _flat(B), _flat(gw) + _flat(gb))
        W, B = _shaped(new[:count], W0), _shaped(new[count:], B0)
    result["trajectory"] = trajectory
    result["final"] = {"weights": W, "biases": B}
    state = {"step": rule.t}
    for name in rule.names if rule.t else ():
        flat = rule.state[name]
        state[name] = {"weights": _shaped(flat[:count], W0), "biases": _shaped(flat[count:], B0)}
    result["optimizer_state"] = state
    return result


#: More plain variants, for the cases with an optimizer or batches only (on the others they
#: are plain_backprop.VARIANTS'): the textbook arrangement of the steps.
TEXTBOOK_VARIANTS = [
    (f"{order}, {fmt}, f′ from z, textbook steps",
     {"order": order, "fmt": fmt, "derivative": "z", "arrangement": "textbook"}, fmt)
    for fmt in ("float64", "float32") for order in ("forward", "largest-first")]


def _runs(case):
    return "optimizer" in case or "batches" in case


def implementations():
    """Return (label, impl, preset, takes) for every implementation available here; takes
    None: every case, else a test of the cases it takes."""
    found = [("purebp Network (float64)", checker.purebp_results, "float64", None)]
    for label, kwargs, preset in plain_backprop.VARIANTS:  # the optimizers' steps as torch's
        found.append((f"plain: {label}", lambda c, kw=kwargs: plain_run(c, **kw), preset, None))
    for label, kwargs, preset in TEXTBOOK_VARIANTS:
        found.append((f"plain: {label}", lambda c, kw=kwargs: plain_run(c, **kw), preset, _runs))
    if importlib.util.find_spec("numpy") is not None:
        import numpy_backprop

        found.append(("numpy example (float64)", numpy_backprop.run, "float64", None))
    if importlib.util.find_spec("torch") is not None:
        import torch_adapter

        found.append(("torch example (float64, autograd)", torch_adapter.run, "float64", None))
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
            name = "optimizer_state" if q.name.startswith("optimizer_state.") else q.name
            if name in worst and q.max_used is not None:
                worst[name] = max(worst[name], q.max_used)
    return worst, bad


def scaled(value, factor):
    """Every number of a quantity times factor (the optimizer's step count left alone)."""
    if isinstance(value, list):
        return [scaled(v, factor) for v in value]
    if isinstance(value, dict):
        return {k: v if k == "step" else scaled(v, factor) for k, v in value.items()}
    return value * factor


def caught(cases, part, relative, tolerances):
    """How many of the cases fail with every number of ``part`` off by ``relative``."""
    count = 0
    for case in cases:
        got = {part: scaled(case["expected"][part], 1 + relative)}
        count += not checker._compare(case, got, POLICIES["float64"], (),
                                      tolerances["float64"][case["id"]]).passed
    return count


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=1000, help="random cases (default 1000)")
    parser.add_argument("--optimizer-random", type=int, default=300,
                        help="random cases with optimizers and mini-batches (default 300)")
    parser.add_argument("--seed", type=int, default=13, help="their seed (default 13)")
    args = parser.parse_args(argv)
    start = time.time()
    curated = vectors.curated()
    cases = (curated + vectors.random_cases(args.random, args.seed)
             + vectors.random_cases(args.optimizer_random, args.seed, optimizers=True))
    tolerances = {preset: {c["id"]: case_tolerances(c, POLICIES[preset]) for c in cases}
                  for preset in POLICIES}
    print(f"{len(curated)} curated, {args.random} random and {args.optimizer_random} random"
          f" cases with optimizers (seed {args.seed}); tolerances computed in"
          f" {time.time() - start:.0f} s")
    print()
    print("1. The largest share of any entry's tolerance used (target: at most 10%)")
    header = "".join(f"{h:>8}" for h in HEADS)
    print(f"{'implementation':<52}{header}  failed")
    overall = 0.0
    for label, impl, preset, takes in implementations():
        worst, bad = used_by(impl, [c for c in cases if takes is None or takes(c)], tolerances,
                             preset)
        overall = max([overall, *worst.values()])
        print(f"{label:<52}" + "".join(f"{100 * worst[q]:>7.2f}%" for q in QUANTITIES)
              + f"  {bad}")
    print(f"largest share used: {100 * overall:.2f}%")
    print()
    runs = [c for c in curated if _runs(c)]
    print(f"2. A uniform relative error caught on the {len(curated)} curated cases, and on the"
          f" {len(runs)} with an optimizer or batches for their run's end (target: 90% at 1e-11)")
    for part, among in (("loss", curated), ("gradients", curated), ("updated", curated),
                        ("trajectory", curated), ("final", runs), ("optimizer_state", [
                            c for c in runs if len(c["expected"]["optimizer_state"]) > 1])):
        row = [f"{relative:g}: {caught(among, part, relative, tolerances)}/{len(among)}"
               for relative in (1e-11, 1e-12)]
        print(f"  {part:<16} " + "   ".join(row))
    print(f"\n({time.time() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
