"""A plain-Python backpropagation with a choice of summation order and float format.

It is an implementation under test, written from the equations of
purebp/docs/vectors.md and sharing no code with purebp: the oracle's
tolerances must let every variant of it pass, however it adds and whichever
correct choices it makes. ``run(case, order=..., fmt=..., derivative=...,
kink_slope=...)`` returns the case's quantities:

    order       "forward" (m = 0, 1, …), "reversed", "fsum" (every sum exactly
                rounded), "shuffled" (a seeded random order per sum),
                "largest-first" (terms by decreasing size: the order that lets
                rounding grow most, an adversary's choice)
    fmt         "float64", or "float32": every number of the case and every
                result of an operation is rounded to float32 (struct), as a
                float32 implementation computes
    derivative  "output" (σ′ = s·(1 − s), tanh′ = 1 − t², from the rounded
                output, the tutorial's way) or "z" (from z: σ(z)·σ(−z), 1/cosh²)
    kink_slope  relu′(0) and leaky_relu′(0): 0 (PyTorch's) or 1 (the other correct one)

A case's ``optimizer`` (SGD, RMSprop, Adam, AdamW, torch.optim's rules) takes
the steps, entry by entry over the flat parameters, every operation rounded
like the rest; its ``batches`` give each step's rows.

    python3 examples/plain_backprop.py [VECTORS]

checks every variant against the curated suite (or VECTORS) and prints one
line each. scripts/tolerance_audit.py measures how much of each tolerance the
variants use; tests/test_oracle_tolerance_policy.py keeps them passing.
"""

from __future__ import annotations

import math
import os
import random
import struct
import sys

ORDERS = ("forward", "reversed", "fsum", "shuffled", "largest-first")


def _float32(x):
    """x rounded to the nearest float32 (±inf beyond its range)."""
    try:
        return struct.unpack("f", struct.pack("f", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


class Arithmetic:
    """Rounding (r) and summation (sum) of one variant."""

    def __init__(self, order, fmt, seed=0):
        self.order = order
        self.r = _float32 if fmt == "float32" else float
        self.rng = random.Random(seed)

    def sum(self, terms):
        terms = [self.r(t) for t in terms]
        if self.order == "fsum":
            return self.r(math.fsum(terms))
        if self.order == "reversed":
            terms.reverse()
        elif self.order == "shuffled":
            self.rng.shuffle(terms)
        elif self.order == "largest-first":
            terms.sort(key=abs, reverse=True)
        total = 0.0
        for t in terms:
            total = self.r(total + t)
        return total

    def matrix(self, M):
        return [[self.r(v) for v in row] for row in M]


def _activate(name, z, r):
    if name == "identity":
        return z
    if name == "sigmoid":
        e = r(math.exp(-abs(z)))
        return r(1.0 / r(1.0 + e)) if z >= 0 else r(e / r(1.0 + e))
    if name == "tanh":
        return r(math.tanh(z))
    if name == "relu":
        return z if z > 0 else 0.0
    return z if z > 0 else r(r(0.01) * z)  # leaky_relu


def _slope(name, z, a, r, derivative, kink_slope):
    if name == "identity":
        return 1.0
    if name in ("relu", "leaky_relu"):
        low = 0.0 if name == "relu" else r(0.01)
        return 1.0 if z > 0 or (z == 0 and kink_slope == 1) else low
    if derivative == "z":
        if name == "sigmoid":
            e = r(math.exp(-abs(z)))
            return r(e / r(r(1.0 + e) * r(1.0 + e)))
        c = r(math.cosh(z)) if abs(z) < 700 else math.inf
        return r(1.0 / r(c * c))
    if name == "sigmoid":
        return r(a * r(1.0 - a))
    return r(1.0 - r(a * a))


def _softmax(row, ar):
    top = max(row)
    e = [ar.r(math.exp(ar.r(v - top))) for v in row]
    total = ar.sum(e)
    return [ar.r(v / total) for v in e]


def _loss(name, y, z, a, ar):
    r = ar.r
    n, k = len(y), len(y[0])
    if name in ("half_sse", "mse"):
        total = ar.sum(r(r(av - t) * r(av - t)) for ra, rt in zip(a, y) for av, t in zip(ra, rt))
        return r(total * 0.5) if name == "half_sse" else r(total / (n * k))
    if name == "bce":
        terms = []
        for rz, rt in zip(z, y):
            for v, t in zip(rz, rt):
                terms.append(r(r(max(v, 0.0) - r(v * t)) + r(math.log1p(r(math.exp(-abs(v)))))))
        return r(ar.sum(terms) / (n * k))
    rows = []
    for rz, rt in zip(z, y):
        top = max(rz)
        lse = r(top + r(math.log(ar.sum(r(math.exp(r(v - top))) for v in rz))))
        rows.append(ar.sum(r(t * r(lse - v)) for v, t in zip(rz, rt) if t != 0))
    return r(ar.sum(rows) / n)


def _pass(net, W, B, X, y, ar, derivative, kink_slope):
    """Return (zs, activations, loss, weight gradients, bias gradients)."""
    r = ar.r
    L = len(W)
    zs, acts = [], [X]
    for l in range(L):
        a = acts[-1]
        z = [[ar.sum([a[i][m] * W[l][m][j] for m in range(len(W[l]))] + [B[l][0][j]])
              for j in range(len(W[l][0]))] for i in range(len(a))]
        name = net["output_activation"] if l == L - 1 else net["activation"]
        zs.append(z)
        acts.append([_softmax(row, ar) for row in z] if name == "softmax"
                    else [[_activate(name, v, r) for v in row] for row in z])
    n, k = len(y), len(y[0])
    loss = _loss(net["loss"], y, zs[-1], acts[-1], ar)
    z, a = zs[-1], acts[-1]
    if net["loss"] == "bce":
        delta = [[r(r(av - t) / (n * k)) for av, t in zip(ra, rt)] for ra, rt in zip(a, y)]
    elif net["loss"] == "cross_entropy":
        delta = [[r(r(r(ar.sum(rt) * s) - t) / n) for s, t in zip(rs, rt)] for rs, rt in zip(a, y)]
    else:
        c = 1.0 if net["loss"] == "half_sse" else 2.0 / (n * k)
        name = net["output_activation"]
        delta = [[r(r(r(c * r(av - t))) * _slope(name, zv, av, r, derivative, kink_slope))
                  for zv, av, t in zip(rz, ra, rt)] for rz, ra, rt in zip(z, a, y)]
    gw, gb = [None] * L, [None] * L
    for l in range(L - 1, -1, -1):
        a = acts[l]
        gw[l] = [[ar.sum(a[s][i] * delta[s][j] for s in range(n)) for j in range(len(delta[0]))]
                 for i in range(len(a[0]))]
        gb[l] = [[ar.sum(delta[s][j] for s in range(n)) for j in range(len(delta[0]))]]
        if l > 0:
            name = net["activation"]
            back = [[ar.sum(delta[s][j] * W[l][i][j] for j in range(len(W[l][0])))
                     for i in range(len(W[l]))] for s in range(n)]
            delta = [[r(back[s][i] * _slope(name, zs[l - 1][s][i], acts[l][s][i], r, derivative,
                                            kink_slope))
                      for i in range(len(back[0]))] for s in range(n)]
    return zs, acts, loss, gw, gb


def _optimizer_step(config, state, p, g, r):
    """Return the flat parameters p after one step with flat gradients g; ``state`` moves on.

    ``config`` is a case's {"name", "arguments"} (torch.optim's names and
    rules); ``state`` is {"step": t} and flat buffers named as torch's state.
    Every argument and every result of an operation is rounded by r.
    """
    name = config["name"]
    a = {k: v if isinstance(v, bool) else [r(x) for x in v] if isinstance(v, list) else r(v)
         for k, v in config["arguments"].items()}
    state["step"] += 1
    t, lr, wd = state["step"], a["lr"], a.get("weight_decay", 0.0)

    def buffer(key):
        return state.setdefault(key, [0.0] * len(p))

    if name in ("adam", "adamw"):
        (beta1, beta2) = a["betas"]
        correction1, correction2 = r(1.0 - r(beta1 ** t)), r(1.0 - r(beta2 ** t))
    new = []
    for i in range(len(p)):
        p_i, g_i = p[i], g[i]
        if name == "adamw":
            p_i = r(p_i * r(1.0 - r(lr * wd)))                     # decoupled decay first
        elif wd:
            g_i = r(g_i + r(wd * p_i))                             # L2, in the gradient
        if name == "sgd":
            mu = a["momentum"]
            if mu:
                b = buffer("momentum_buffer")
                b[i] = g_i if t == 1 else r(r(mu * b[i]) + r(r(1.0 - a["dampening"]) * g_i))
                g_i = r(g_i + r(mu * b[i])) if a["nesterov"] else b[i]
            new.append(r(p_i - r(lr * g_i)))
        elif name == "rmsprop":
            alpha, v = a["alpha"], buffer("square_avg")
            v[i] = r(r(alpha * v[i]) + r(r(1.0 - alpha) * r(g_i * g_i)))
            spread = v[i]
            if a["centered"]:
                g_avg = buffer("grad_avg")
                g_avg[i] = r(r(alpha * g_avg[i]) + r(r(1.0 - alpha) * g_i))
                spread = r(v[i] - r(g_avg[i] * g_avg[i]))
            root = r(math.sqrt(spread)) if spread >= 0 else math.nan
            d = r(g_i / r(root + a["eps"]))
            if a["momentum"]:
                b = buffer("momentum_buffer")
                b[i] = r(r(a["momentum"] * b[i]) + d)
                d = b[i]
            new.append(r(p_i - r(lr * d)))
        else:  # adam, adamw
            m, v = buffer("exp_avg"), buffer("exp_avg_sq")
            m[i] = r(r(beta1 * m[i]) + r(r(1.0 - beta1) * g_i))
            v[i] = r(r(beta2 * v[i]) + r(r(1.0 - beta2) * r(g_i * g_i)))
            if a["amsgrad"]:
                top = buffer("max_exp_avg_sq")
                top[i] = max(top[i], v[i])
                v_hat = r(top[i] / correction2)
            else:
                v_hat = r(v[i] / correction2)
            m_hat = r(m[i] / correction1)
            new.append(r(p_i - r(r(lr * m_hat) / r(r(math.sqrt(v_hat)) + a["eps"]))))
    return new


def _flat(W, B):
    """Every weights[l] row by row, then every biases[l]: the optimizer's order."""
    return [v for M in W + B for row in M for v in row]


def _layers(flat, W, B):
    """(weights, biases) shaped as W and B, from a flat list in _flat's order."""
    values = iter(flat)
    shaped = [[[next(values) for _ in row] for row in M] for M in W + B]
    return shaped[:len(W)], shaped[len(W):]


def run(case, order="forward", fmt="float64", derivative="output", kink_slope=0, seed=0):
    """Return the case's quantities as this variant computes them.

    ``updated`` is one step on every row from fresh optimizer state; the
    trajectory takes the case's steps, step k on the rows batches[k] (every row
    without batches: its first step is then that same step).
    """
    ar = Arithmetic(order, fmt, seed)
    net = case["network"]
    W = [ar.matrix(m) for m in case["parameters"]["weights"]]
    B = [ar.matrix(m) for m in case["parameters"]["biases"]]
    X, y = ar.matrix(case["inputs"]), ar.matrix(case["targets"])
    config = case.get("optimizer") or {"name": "sgd", "arguments": {
        "lr": case["learning_rate"], "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0,
        "nesterov": False}}
    batches, steps = case.get("batches"), case.get("steps", 0)
    result = {}

    def first_step(W, B, X, y):
        zs, acts, loss, gw, gb = _pass(net, W, B, X, y, ar, derivative, kink_slope)
        result.update({"pre_activations": zs, "activations": acts[1:], "loss": loss,
                       "gradients": {"weights": gw, "biases": gb}})
        state = {"step": 0}
        new = _layers(_optimizer_step(config, state, _flat(W, B), _flat(gw, gb), ar.r), W, B)
        result["updated"] = {"weights": new[0], "biases": new[1]}
        return loss, new, state

    state, trajectory = {"step": 0}, []
    if batches is not None:  # the first step of the trajectory is on a batch: updated apart
        first_step(W, B, X, y)
    for k in range(max(steps, 0 if batches is not None else 1)):
        if batches is None and k == 0:
            loss, (W, B), state = first_step(W, B, X, y)
        else:
            rows = range(len(X)) if batches is None else batches[k]
            Xk, yk = [X[i] for i in rows], [y[i] for i in rows]
            _, _, loss, gw, gb = _pass(net, W, B, Xk, yk, ar, derivative, kink_slope)
            W, B = _layers(_optimizer_step(config, state, _flat(W, B), _flat(gw, gb), ar.r), W, B)
        trajectory.append(loss)
    result["trajectory"] = trajectory[:steps]
    if "optimizer" in case or batches is not None:
        result["final"] = {"weights": W, "biases": B}
        result["optimizer_state"] = {key: value if key == "step" else dict(zip(
            ("weights", "biases"), _layers(value, W, B))) for key, value in state.items()}
    return result


#: The variants main() checks: (label, keyword arguments of run, preset).
VARIANTS = [(f"{order}, {fmt}, f′ from {d}", {"order": order, "fmt": fmt, "derivative": d}, fmt)
            for fmt in ("float64", "float32") for order in ORDERS for d in ("output", "z")] + [
    ("forward, float64, relu′(0) = 1", {"kink_slope": 1}, "float64")]


def main():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from purebp import oracle, vectors

    cases = vectors.load(sys.argv[1]) if len(sys.argv) > 1 else None
    status = 0
    for label, kwargs, preset in VARIANTS:
        report = oracle.check_implementation(lambda c, kw=kwargs: run(c, **kw), cases,
                                             oracle.POLICIES[preset])
        print(f"{label:<40} {report.verdict()}")
        status |= not report.passed
    return status


if __name__ == "__main__":
    sys.exit(main())
