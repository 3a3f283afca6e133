"""A straightforward numpy backpropagation, checked through purebp's oracle.

This is what another library's implementation looks like from purebp's side:
a function that takes a test-vector case (without its expected values) and
returns the quantities it computes. ``run(case)`` is correct; ``run(case,
bug=NAME)`` plants one of the classic mistakes in ``BUGS``, so that
tests/test_examples.py can show the oracle reporting each one. The steps are
those of the case's ``optimizer`` (``optimizer_step``: SGD, RMSprop, Adam,
AdamW, with torch.optim's rules), or plain gradient descent, on the rows of
each of its ``batches`` where it has them.

    python3 examples/numpy_backprop.py [VECTORS]
    python3 examples/numpy_backprop.py --ops [VECTORS]

checks the correct version against the curated suite (or the vector files in
VECTORS) and prints the oracle's table; with --ops, against the curated
per-operation suite: ``run_op(case)`` computes one dense layer, activation or
loss (a folder may mix both kinds of case). Needs numpy.
"""

from __future__ import annotations

import os
import sys

import numpy as np

#: The planted bugs, each a classic of hand-written backprop, named as in the oracle's
#: diagnosis catalog (purebp.oracle.diagnosis.CATALOG) where it has them.
BUGS = {
    "transposed-weights": "backward pass multiplies by W instead of Wᵀ (only square layers get that far)",
    "derivative-of-z": "sigmoid/tanh derivative applied to the pre-activation z instead of the output",
    "bias-gradient-one-row": "bias gradient taken from the first sample instead of summed over the batch",
    "missing-mean": "the 1/N of a mean loss left out of the gradient",
    "sign-flipped": "gradient with the wrong sign (ascent instead of descent)",
    "updated-weights-in-backward": "the outer weights updated before the hidden delta is computed from them",
    "softmax-no-shift": "softmax computed without subtracting the row maximum",
    "wrong-layer-delta": "the hidden delta takes f′ of the layer above instead of its own",
}


def _activate(name, z):
    if name == "identity":
        return z
    if name == "sigmoid":  # e^−|z| never overflows: σ = 1/(1 + e) above 0, e/(1 + e) below
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    return np.where(z > 0, z, 0.01 * z)  # leaky_relu


def _slope(name, z, a, bug):
    """f′ at z, from z and a = f(z); the planted bug feeds z where a belongs."""
    if name in ("sigmoid", "tanh") and bug == "derivative-of-z":
        a = z
    if name == "identity":
        return np.ones_like(z)
    if name == "sigmoid":
        return a * (1.0 - a)
    if name == "tanh":
        return 1.0 - a * a
    if name == "relu":
        return (z > 0).astype(float)
    return np.where(z > 0, 1.0, 0.01)


def _softmax(z, bug):
    shifted = z if bug == "softmax-no-shift" else z - z.max(axis=1, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(shifted)
        return e / e.sum(axis=1, keepdims=True)


def forward(net, Ws, bs, X, bug=None):
    """Return (zs, activations) with activations[0] = X."""
    zs, acts = [], [X]
    for l, (W, b) in enumerate(zip(Ws, bs)):
        z = acts[-1] @ W + b
        name = net["output_activation"] if l == len(Ws) - 1 else net["activation"]
        zs.append(z)
        acts.append(_softmax(z, bug) if name == "softmax" else _activate(name, z))
    return zs, acts


def loss(net, y, z, a):
    n, _ = y.shape
    name = net["loss"]
    if name == "half_sse":
        return 0.5 * np.sum((a - y) ** 2)
    if name == "mse":
        return np.mean((a - y) ** 2)
    if name == "bce":
        linear = np.where(z >= 0, (1 - y) * z, -y * z)
        return np.mean(linear + np.log1p(np.exp(-np.abs(z))))
    top = z.max(axis=1, keepdims=True)
    logp = (z - top) - np.log(np.exp(z - top).sum(axis=1, keepdims=True))
    return -np.sum(np.where(y != 0, y * logp, 0.0)) / n


def backward(net, Ws, y, zs, acts, learning_rate, bug=None):
    """Return (weight gradients, bias gradients)."""
    n, k = y.shape
    L = len(Ws)
    name = net["loss"]
    z, a = zs[-1], acts[-1]
    # the mean losses' 1/N (or 1/NK); the planted bug forgets it
    per = 1.0 if bug == "missing-mean" else None
    if name == "half_sse":
        delta = (a - y) * _slope(net["output_activation"], z, a, bug)
    elif name == "mse":
        delta = 2.0 * (a - y) / (per or n * k) * _slope(net["output_activation"], z, a, bug)
    elif name == "bce":
        delta = (_activate("sigmoid", z) - y) / (per or n * k)
    else:
        delta = (y.sum(axis=1, keepdims=True) * a - y) / (per or n)
    Ws = list(Ws)
    grads_w, grads_b = [None] * L, [None] * L
    for l in range(L - 1, -1, -1):
        grads_w[l] = acts[l].T @ delta
        grads_b[l] = delta[:1] if bug == "bias-gradient-one-row" else delta.sum(axis=0, keepdims=True)
        if bug == "updated-weights-in-backward":
            Ws[l] = Ws[l] - learning_rate * grads_w[l]
        if l > 0:
            back = delta @ (Ws[l] if bug == "transposed-weights" else Ws[l].T)
            if bug == "wrong-layer-delta":  # f′ of the layer above instead of this one
                delta = back * _slope(net["activation"], zs[l], acts[l + 1], bug)
            else:
                delta = back * _slope(net["activation"], zs[l - 1], acts[l], bug)
    if bug == "sign-flipped":
        grads_w = [-g for g in grads_w]
        grads_b = [-g for g in grads_b]
    return grads_w, grads_b


def optimizer_step(config, state, params, grads):
    """Return the parameters after one step of the optimizer ``config``; ``state`` moves on.

    ``params`` and ``grads``: lists of arrays (every weight, then every bias).
    ``config``: {"name", "arguments"} of a case (torch.optim's names and rules);
    ``state``: {"step": t} and the buffers, one array per parameter, named as
    torch's state.
    """
    name, a = config["name"], config["arguments"]
    state["step"] += 1
    t, lr, wd = state["step"], a["lr"], a.get("weight_decay", 0)

    def buffer(key):
        return state.setdefault(key, [np.zeros_like(p) for p in params])

    new = []
    for i, (p, g) in enumerate(zip(params, grads)):
        if name == "adamw":
            p = p * (1 - lr * wd)                          # decoupled decay, before the rest
        elif wd:
            g = g + wd * p                                 # L2, in the gradient
        if name == "sgd":
            if a["momentum"]:
                b = buffer("momentum_buffer")
                b[i] = g if t == 1 else a["momentum"] * b[i] + (1 - a["dampening"]) * g
                g = g + a["momentum"] * b[i] if a["nesterov"] else b[i]
            new.append(p - lr * g)
        elif name == "rmsprop":
            alpha, v = a["alpha"], buffer("square_avg")
            v[i] = alpha * v[i] + (1 - alpha) * g * g
            spread = v[i]
            if a["centered"]:
                g_avg = buffer("grad_avg")
                g_avg[i] = alpha * g_avg[i] + (1 - alpha) * g
                spread = v[i] - g_avg[i] * g_avg[i]
            d = g / (np.sqrt(spread) + a["eps"])
            if a["momentum"]:
                b = buffer("momentum_buffer")
                b[i] = a["momentum"] * b[i] + d
                d = b[i]
            new.append(p - lr * d)
        else:  # adam, adamw
            (beta1, beta2), m, v = a["betas"], buffer("exp_avg"), buffer("exp_avg_sq")
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            if a["amsgrad"]:
                top = buffer("max_exp_avg_sq")
                top[i] = np.maximum(top[i], v[i])
                v_hat = top[i] / (1 - beta2 ** t)
            else:
                v_hat = v[i] / (1 - beta2 ** t)
            new.append(p - lr * (m[i] / (1 - beta1 ** t)) / (np.sqrt(v_hat) + a["eps"]))
    return new


def run(case, bug=None):
    """Return the quantities of a test-vector case as numpy computes them (lists of floats)."""
    net = case["network"]
    Ws = [np.array(w, dtype=float) for w in case["parameters"]["weights"]]
    bs = [np.array(b, dtype=float) for b in case["parameters"]["biases"]]
    X = np.array(case["inputs"], dtype=float)
    y = np.array(case["targets"], dtype=float)
    lr, L = case["learning_rate"], len(Ws)
    config = case.get("optimizer") or {"name": "sgd", "arguments": {
        "lr": lr, "momentum": 0, "dampening": 0, "weight_decay": 0, "nesterov": False}}

    def layers(arrays):
        return {"weights": [m.tolist() for m in arrays[:L]], "biases": [m.tolist() for m in arrays[L:]]}

    # one step on every row, from fresh optimizer state
    zs, acts = forward(net, Ws, bs, X, bug)
    gw, gb = backward(net, Ws, y, zs, acts, lr, bug)
    result = {
        "pre_activations": [z.tolist() for z in zs],
        "activations": [a.tolist() for a in acts[1:]],
        "loss": float(loss(net, y, zs[-1], acts[-1])),
        "gradients": layers(gw + gb),
        "updated": layers(optimizer_step(config, {"step": 0}, Ws + bs, gw + gb)),
    }
    # the trajectory, from the case's parameters again: step k on the rows batches[k]
    state, params, trajectory = {"step": 0}, Ws + bs, []
    batches = case.get("batches")
    for k in range(case.get("steps", 0)):
        rows = slice(None) if batches is None else list(batches[k])
        zs, acts = forward(net, params[:L], params[L:], X[rows], bug)
        trajectory.append(float(loss(net, y[rows], zs[-1], acts[-1])))
        gw, gb = backward(net, params[:L], y[rows], zs, acts, lr, bug)
        params = optimizer_step(config, state, params, gw + gb)
    result["trajectory"] = trajectory
    if "optimizer" in case or batches is not None:
        result["final"] = layers(params)
        result["optimizer_state"] = {key: (value if key == "step" else layers(value))
                                     for key, value in state.items()}
    return result


def _op_sigmoid(z):
    """σ(z) in its two stable forms: e^z never overflows, and σ(−800) is 0 as it must be.

    (_activate clips z at −700 instead, which makes σ(−800) about 1e-304; a
    network case cannot tell, its tolerance there being wide, but the op case
    gives z exactly and holds σ(−800) to the float nearest 1e-348: 0.)
    """
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def run_op(case):
    """Return the quantities of a per-operation case (one dense layer, activation or loss)."""
    x = np.array(case["inputs"], dtype=float)
    if case["op"] == "dense":
        W = np.array(case["weights"], dtype=float)
        b = np.array(case["biases"], dtype=float)
        G = np.array(case["upstream"], dtype=float)  # ∂L/∂z
        return {"output": (x @ W + b).tolist(), "grad_inputs": (G @ W.T).tolist(),
                "grad_weights": (x.T @ G).tolist(),
                "grad_biases": G.sum(axis=0, keepdims=True).tolist()}
    if case["op"] == "activation":
        name = case["activation"]
        G = np.array(case["upstream"], dtype=float)  # ∂L/∂a
        if name == "softmax":
            s = _softmax(x, None)
            # the vector-Jacobian product of softmax, row by row: s ⊙ (G − Σ_j G_j·s_j)
            return {"output": s.tolist(),
                    "grad_inputs": (s * (G - (G * s).sum(axis=1, keepdims=True))).tolist()}
        a = _op_sigmoid(x) if name == "sigmoid" else _activate(name, x)
        return {"output": a.tolist(), "grad_inputs": (G * _slope(name, x, a, None)).tolist()}
    name = case["loss"]
    y = np.array(case["targets"], dtype=float)
    n, k = y.shape
    value = float(loss({"loss": name}, y, x, x))  # x: the outputs, or the logits for bce and CE
    if name == "half_sse":
        grad = x - y
    elif name == "mse":
        grad = 2.0 * (x - y) / (n * k)
    elif name == "bce":
        grad = (_op_sigmoid(x) - y) / (n * k)
    else:
        grad = (y.sum(axis=1, keepdims=True) * _softmax(x, None) - y) / n
    return {"output": value, "grad_inputs": grad.tolist()}


def main():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from purebp import oracle, vectors
    from purebp.oracle import ops

    args = sys.argv[1:]
    paths = [a for a in args if a != "--ops"]
    if paths:
        try:
            cases = vectors.load(paths[0])
        except (OSError, ValueError) as error:  # a bad path or file: one line, exit 2
            print(f"numpy_backprop.py: error: {error}", file=sys.stderr)
            return 2
    else:
        cases = ops.curated_ops() if "--ops" in args else None
    report = oracle.check_implementation(
        lambda case: run_op(case) if "op" in case else run(case), cases)
    print(report.table())
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
