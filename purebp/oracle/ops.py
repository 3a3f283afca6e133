"""Per-operation test vectors: one dense layer, one activation or one loss at a time.

When a whole network's gradients are wrong, these cases say which operation
is at fault. Each case holds one operation's inputs and, in ``expected``,
what a correct implementation of that operation alone must produce
(purebp/docs/vectors.md, "Per-operation vectors", gives the fields):

    dense       z = x·W + b;  ∂L/∂x = G·Wᵀ, ∂L/∂W = xᵀ·G, ∂L/∂b = Σ_n G[n]  (G = ∂L/∂z)
    activation  a = f(z);     ∂L/∂z = G ⊙ f′(z), softmax: s ⊙ (G − Σ_j G_j·s_j) per row
    loss        the loss;     ∂loss/∂inputs (the outputs ŷ, or the logits for bce and
                              cross_entropy)

The functions here:

    curated_ops()               the named op cases ("op-..."), expected values included
    random_op_cases(n, seed)    n seeded random op cases, expected values included
    complete_op(case)           an op case with its "expected" computed in 50-digit Decimal
    op_truth(case)              those expected values, in Decimal
    op_tolerances(case, pol)    the allowed |actual − expected| of every entry
    write_op_suite(out, n, seed)    the op suite as one file per case, and its MANIFEST

The truth is purebp.oracle.exact's: its layer loops (_layer, _back,
_weight_gradient, _bias_gradient), activations and their derivatives at z,
softmax, loss_value and output delta, run with the same 50 digits and widest
exponents, then rounded once to float. The tolerances are
purebp.oracle.tolerance_policy's per-quantity functions applied to one
operation whose inputs are exact (their error scales are 0).

What it does not do: check a case's format (purebp.oracle.vectors.validate_case
does, for op cases as for network cases), or compare numbers
(purebp.oracle.checker does).
"""

from __future__ import annotations

import copy
import math
import random
from decimal import MAX_EMAX, MIN_EMIN, Decimal, localcontext
from typing import Any, Dict, List, Mapping, Sequence

from purebp import _checks, _limits
from purebp._types import Matrix
from purebp.activations import ACTIVATIONS as FLOAT_ACTIVATIONS
from purebp.activations import softmax as float_softmax
from purebp.losses import LOSSES as FLOAT_LOSSES
from purebp.oracle import exact, vectors
from purebp.oracle.tolerance_policy import (
    Bounds,
    Policy,
    _rounded,
    _transpose,
    activation_scales,
    arithmetic,
    checked_policy,
    derivative_bound,
    gradient_bounds,
    hidden_delta_bounds,
    leaf_scales,
    loss_scale,
    output_delta_bounds,
    pre_activation_scales,
    tolerance,
)

__all__ = [
    "OPS",
    "OP_ACTIVATIONS",
    "OP_LOSSES",
    "OP_QUANTITIES",
    "complete_op",
    "curated_ops",
    "op_tolerances",
    "op_truth",
    "random_op_cases",
    "write_op_suite",
]

OPS = vectors.OPS
OP_QUANTITIES = vectors.OP_QUANTITIES
OP_ACTIVATIONS = vectors.OP_ACTIVATIONS
OP_LOSSES = vectors.OP_LOSSES

Rows = Sequence[Sequence[float]]
DMatrix = exact.DMatrix


# -- the truth, in 50-digit Decimal -------------------------------------------------------


def _dense_truth(x: DMatrix, W: DMatrix, b: DMatrix, G: DMatrix) -> Dict[str, Any]:
    """z = x·W + b, and G = ∂L/∂z carried back: G·Wᵀ, xᵀ·G, Σ_n G[n]."""
    return {
        "output": exact._layer(x, W, b),
        "grad_inputs": exact._back(G, W),
        "grad_weights": exact._weight_gradient(x, G),
        "grad_biases": exact._bias_gradient(G),
    }


def _softmax_vjp(s: Sequence[Decimal], g: Sequence[Decimal]) -> List[Decimal]:
    """Return the row g·J of softmax's Jacobian J = diag(s) − s·sᵀ: s_k·(g_k − Σ_j g_j·s_j)."""
    with localcontext(exact._wider()):  # g_k − Σ_j g_j·s_j may cancel: 10 more digits
        mean = sum((gj * sj for gj, sj in zip(g, s)), exact.ZERO)
        return [+(sk * (gk - mean)) for sk, gk in zip(s, g)]


def _activation_truth(name: str, z: DMatrix, G: DMatrix) -> Dict[str, Any]:
    """a = f(z), and G = ∂L/∂a carried back through f: G ⊙ f′(z), or softmax's vector-Jacobian product."""
    if name == "softmax":
        s = [exact.softmax(row) for row in z]
        return {"output": s, "grad_inputs": [_softmax_vjp(sr, gr) for sr, gr in zip(s, G)]}
    f, f_prime = exact.ACTIVATIONS[name]
    return {"output": [[f(v) for v in row] for row in z],
            "grad_inputs": exact._times_derivative(G, f_prime, z)}


def _loss_truth(name: str, inputs: DMatrix, y: DMatrix) -> Dict[str, Any]:
    """The loss of the inputs (outputs ŷ, or logits z for bce and cross_entropy) and its gradient.

    exact's loss_value and output delta with an identity output layer: for
    half_sse and mse the inputs are the outputs (and z = ŷ, f′ = 1); bce and
    cross_entropy read the logits only, σ and softmax being inside the loss.
    """
    network = {"loss": name, "output_activation": "identity"}
    return {"output": exact.loss_value(network, y, [inputs], [inputs]),
            "grad_inputs": exact._output_delta(network, y, inputs, inputs)}


def op_truth(case: Mapping[str, Any]) -> Dict[str, Any]:
    """Return the expected quantities of a checked op case, in 50-digit Decimal.

    Keys: "output" (a matrix, or the loss's value), "grad_inputs", and for
    dense "grad_weights" and "grad_biases". The case's numbers are taken as
    the floats they are (Decimal(float) is exact).
    """
    with localcontext() as ctx:
        ctx.prec = exact.PRECISION
        ctx.Emax, ctx.Emin = MAX_EMAX, MIN_EMIN  # as exact.run: no op case comes near them
        x = exact._decimal(case["inputs"])
        if case["op"] == "dense":
            return _dense_truth(x, exact._decimal(case["weights"]), exact._decimal(case["biases"]),
                                exact._decimal(case["upstream"]))
        if case["op"] == "activation":
            return _activation_truth(case["activation"], x, exact._decimal(case["upstream"]))
        return _loss_truth(case["loss"], x, exact._decimal(case["targets"]))


def complete_op(case: Mapping[str, Any]) -> Dict[str, Any]:
    """Return the op case with ``expected`` computed in 50-digit Decimal and rounded to float."""
    if not isinstance(case, Mapping):
        raise TypeError(f"complete_op: case must be a per-operation case (a dict), got"
                        f" {_checks._describe(case)}")
    checked = vectors.validate_case(vectors.case_input(case), "complete_op: case")
    if "op" not in checked:
        raise ValueError("complete_op: case must be a per-operation case (with \"op\"), got a"
                         " network case; vectors.complete computes those")
    result = dict(vectors.case_input(case))
    result["expected"] = exact.to_float(op_truth(checked))
    return result


# -- the tolerances -----------------------------------------------------------------------


def _zeros(A: Rows) -> Matrix:
    return [[0.0] * len(row) for row in A]


def _float_activation(name: str, z: Rows) -> Matrix:
    """a = f(z) in float64 (purebp's own): a tolerance needs its sizes, not its last digits."""
    if name == "softmax":
        return [float_softmax(row) for row in z]
    f = FLOAT_ACTIVATIONS[name].f
    return [[f(v) for v in row] for row in z]


def _dot(A: Rows, B: Rows) -> Matrix:
    """A·B in floats, for the sizes of the expected values."""
    columns = list(zip(*B))
    return [[math.fsum(a * b for a, b in zip(row, column)) for column in columns] for row in A]


def _softmax_vjp_scales(s: Rows, s_scales: Rows, G: Rows, G_scales: Rows) -> Matrix:
    """S of g_k = s_k·(G_k − Σ_j G_j·s_j), row by row (tolerance_policy's rules).

    The dot Σ_j G_j·s_j of K terms: K·Σ|G_j·s_j| plus its factors' errors; the
    difference: its terms' errors and its own rounding; the product with s_k:
    S_s_k·|G_k − dot| + s_k·S_difference + |g_k|.
    """
    result = []
    for rs, re, rg, rf in zip(s, s_scales, G, G_scales):
        k = len(rs)
        dot = math.fsum(g * v for g, v in zip(rg, rs))
        dot_scale = (k * math.fsum(abs(g * v) for g, v in zip(rg, rs))
                     + math.fsum(abs(g) * e + f * v for g, e, f, v in zip(rg, re, rf, rs)))
        row = []
        for v, e, g, f in zip(rs, re, rg, rf):
            difference = abs(g - dot)
            row.append(e * difference + v * (f + dot_scale + difference) + v * difference)
        result.append(row)
    return result


def op_tolerances(case: Mapping[str, Any], pol: Policy) -> Dict[str, Any]:
    """Return the allowed |actual − expected| of every entry of a checked op case's quantities.

    tolerance_policy's functions for one operation whose inputs are the case's
    own numbers (leaf_scales: exact in float64, rounded once in float32):
    dense as a layer (pre_activation_scales; the deltas' recursion with
    identity f for G·Wᵀ; gradient_bounds for xᵀ·G and Σ_n G); an activation by
    activation_scales and, for G ⊙ f′(z), derivative_bound (either slope
    passes at a kink: U); softmax's vector-Jacobian product by
    _softmax_vjp_scales; a loss by loss_scale and output_delta_bounds. Each S
    gains the expected value's own rounding (_rounded).
    """
    pol = checked_policy("op_tolerances", pol)
    u = arithmetic(pol).u
    x = case["inputs"]
    x_scales = leaf_scales(pol, x)
    zeros = _zeros(x)
    if case["op"] == "dense":
        W, b, G = case["weights"], case["biases"], case["upstream"]
        upstream = Bounds(leaf_scales(pol, G), _zeros(G))
        z = [[v + c for v, c in zip(row, b[0])] for row in _dot(x, W)]
        back = hidden_delta_bounds("identity", upstream, G, W, leaf_scales(pol, W), zeros, zeros,
                                   zeros, zeros, u)
        grad_w, grad_b = gradient_bounds(x, x_scales, G, upstream)
        return {"output": _rounded(pol, pre_activation_scales(x, x_scales, W, leaf_scales(pol, W),
                                                              b, leaf_scales(pol, b)), z),
                "grad_inputs": _rounded(pol, back.scale, _dot(G, _transpose(W)), back.uncertainty),
                "grad_weights": _rounded(pol, grad_w.scale, _dot(_transpose(x), G),
                                         grad_w.uncertainty),
                "grad_biases": _rounded(pol, grad_b.scale, [[math.fsum(c) for c in zip(*G)]],
                                        grad_b.uncertainty)}
    if case["op"] == "activation":
        name, G = case["activation"], case["upstream"]
        G_scales = leaf_scales(pol, G)
        a = _float_activation(name, x)
        a_scales = activation_scales(name, x, x_scales, a, u)
        output = _rounded(pol, a_scales, a)
        if name == "softmax":
            g = [[v * (gk - math.fsum(gj * sj for gj, sj in zip(rg, rs))) for v, gk in zip(rs, rg)]
                 for rs, rg in zip(a, G)]
            return {"output": output,
                    "grad_inputs": _rounded(pol, _softmax_vjp_scales(a, a_scales, G, G_scales), g)}
        S, U, g = [], [], []
        for rz, ra, re, rez, rg, rf in zip(x, a, a_scales, x_scales, G, G_scales):
            row_s, row_u, row_g = [], [], []
            for zz, aa, ea, ez, gg, fg in zip(rz, ra, re, rez, rg, rf):
                # z exactly 0: either slope is correct, compared by the checker (no U)
                slope, error, jump = derivative_bound(name, zz, aa, ea, ez, u, zz == 0)
                # g·f′: G's error through f′, f′'s through |G|, the product's rounding
                row_s.append(fg * (slope + jump) + abs(gg) * error + abs(gg) * slope)
                row_u.append(abs(gg) * jump)
                row_g.append(gg * slope)
            S.append(row_s)
            U.append(row_u)
            g.append(row_g)
        return {"output": output, "grad_inputs": _rounded(pol, S, g, U)}
    name, y = case["loss"], case["targets"]
    y_scales = leaf_scales(pol, y)
    # the inputs are ŷ for half_sse and mse, the logits for bce and cross_entropy,
    # whose outputs σ(z) or softmax(z) carry the logits' errors (activation_scales)
    if name in ("half_sse", "mse"):
        a, a_scales = x, x_scales
    else:
        output_name = "sigmoid" if name == "bce" else "softmax"
        a = _float_activation(output_name, x)
        a_scales = activation_scales(output_name, x, x_scales, a, u)
    network = {"loss": name, "output_activation": "identity"}
    delta = output_delta_bounds(network, y, y_scales, x, a, x_scales, a_scales, u)
    value = _float_loss(name, y, x, a)
    grads = _float_loss_gradient(name, y, x, a)
    share = 2.0 ** -53 / u
    return {"output": tolerance(pol, loss_scale(name, y, y_scales, x, a, x_scales, a_scales)
                                + share * abs(value)),
            "grad_inputs": _rounded(pol, delta.scale, grads, delta.uncertainty)}


def _float_loss(name: str, y: Rows, x: Rows, a: Rows) -> float:
    """The loss in floats (purebp.losses), for the size of its expected value."""
    return float(FLOAT_LOSSES[name].value(y, a if name in ("half_sse", "mse") else x))


def _float_loss_gradient(name: str, y: Rows, x: Rows, a: Rows) -> Matrix:
    """∂loss/∂inputs in floats (purebp.losses), for the sizes of the expected values."""
    return FLOAT_LOSSES[name].gradient(y, a if name in ("half_sse", "mse") else x)


# -- the curated op suite -----------------------------------------------------------------


def _uniform(rng: random.Random, rows: int, columns: int, bound: float) -> List[List[float]]:
    return [[rng.uniform(-bound, bound) for _ in range(columns)] for _ in range(rows)]


def _dense(case_id: str, description: str, x: Rows, W: Rows, b: Rows, G: Rows) -> Dict[str, Any]:
    return {"id": case_id, "description": description, "op": "dense",
            "inputs": [list(r) for r in x], "weights": [list(r) for r in W],
            "biases": [list(r) for r in b], "upstream": [list(r) for r in G]}


def _activation(case_id: str, description: str, name: str, z: Rows, G: Rows) -> Dict[str, Any]:
    return {"id": case_id, "description": description, "op": "activation", "activation": name,
            "inputs": [list(r) for r in z], "upstream": [list(r) for r in G]}


def _loss(case_id: str, description: str, name: str, inputs: Rows, y: Rows) -> Dict[str, Any]:
    return {"id": case_id, "description": description, "op": "loss", "loss": name,
            "inputs": [list(r) for r in inputs], "targets": [list(r) for r in y]}


def _curated_op_skeletons() -> List[Dict[str, Any]]:
    """The named op cases, without their expected values."""
    rng = random.Random(2025)
    cases: List[Dict[str, Any]] = []
    add = cases.append

    # -- dense
    add(_dense("op-dense-basic", "A 3-sample batch through a 2 → 4 dense layer",
               _uniform(rng, 3, 2, 2.0), _uniform(rng, 2, 4, 1.0), _uniform(rng, 1, 4, 1.0),
               _uniform(rng, 3, 4, 1.0)))
    add(_dense("op-dense-batch-of-one", "One sample: the bias gradient is that sample's G",
               _uniform(rng, 1, 3, 2.0), _uniform(rng, 3, 2, 1.0), _uniform(rng, 1, 2, 1.0),
               _uniform(rng, 1, 2, 1.0)))
    add(_dense("op-dense-zero-inputs", "All inputs 0: z = b and the weight gradient is exactly 0",
               [[0.0] * 3] * 4, _uniform(rng, 3, 2, 1.0), _uniform(rng, 1, 2, 1.0),
               _uniform(rng, 4, 2, 1.0)))
    add(_dense("op-dense-64-terms", "64 inputs: every z is a sum of 64 products",
               _uniform(rng, 4, 64, 1.0), _uniform(rng, 64, 3, 1.0), _uniform(rng, 1, 3, 1.0),
               _uniform(rng, 4, 3, 1.0)))
    add(_dense("op-dense-batch-64", "64 samples: the weight and bias gradients sum 64 terms",
               _uniform(rng, 64, 2, 1.0), _uniform(rng, 2, 3, 1.0), _uniform(rng, 1, 3, 1.0),
               _uniform(rng, 64, 3, 1.0)))
    add(_dense("op-dense-large-values", "Inputs and upstream gradients around 1e6",
               [[1e6 * v for v in r] for r in _uniform(rng, 3, 2, 2.0)], _uniform(rng, 2, 2, 1.0),
               _uniform(rng, 1, 2, 1.0), [[1e6 * v for v in r] for r in _uniform(rng, 3, 2, 1.0)]))
    add(_dense("op-dense-tiny-values", "Inputs and biases around 1e-300: tiny z and weight"
               " gradients, no underflow to zero",
               [[1e-300 * v for v in r] for r in _uniform(rng, 2, 3, 2.0)],
               _uniform(rng, 3, 2, 1.0), [[1e-300 * v for v in r] for r in _uniform(rng, 1, 2, 1.0)],
               _uniform(rng, 2, 2, 1.0)))
    add(_dense("op-dense-square", "A square 3 × 3 W: W in place of Wᵀ keeps the shapes and"
               " only the numbers wrong",
               _uniform(rng, 2, 3, 1.0), [[1.0, 2.0, -0.5], [-1.5, 0.25, 3.0], [0.75, -2.0, 1.0]],
               _uniform(rng, 1, 3, 1.0), _uniform(rng, 2, 3, 1.0)))

    # -- activations
    for name in OP_ACTIVATIONS:
        add(_activation(f"op-activation-{name}", f"{name} on ordinary inputs in (−3, 3)", name,
                        _uniform(rng, 3, 4, 3.0), _uniform(rng, 3, 4, 1.0)))
    for name in ("relu", "leaky_relu"):
        add(_activation(f"op-activation-{name}-at-zero", f"{name} at z = 0 exactly (the kink;"
                        " PyTorch's slope there is expected, the other side's also passes)", name,
                        [[0.0, 1.5, -2.0], [0.0, -0.0, 0.5]], _uniform(rng, 2, 3, 1.0)))
    for name in ("sigmoid", "tanh"):
        for size in (30.0, 800.0):
            add(_activation(f"op-activation-{name}-saturated-{int(size)}",
                            f"{name} at z = ±{size:g}: derivatives near 0, below the float"
                            " range at 800", name, [[size, -size], [-size, size]],
                            _uniform(rng, 2, 2, 1.0)))
    add(_activation("op-activation-softmax-large-logits", "softmax of logits around 1000: e^z"
                    " overflows without the max shift", "softmax",
                    [[1000.0, 999.0, 998.5, 1001.0], [-1000.0, -999.5, -1002.0, -998.0]],
                    _uniform(rng, 2, 4, 1.0)))
    add(_activation("op-activation-softmax-dominant", "softmax with one dominant class:"
                    " probabilities near 1 and e^-40", "softmax",
                    [[40.0, 0.0, -5.0], [0.0, 45.0, 2.0]], _uniform(rng, 2, 3, 1.0)))

    # -- losses
    y_hat, y = _uniform(rng, 4, 3, 1.5), _uniform(rng, 4, 3, 1.0)
    add(_loss("op-loss-half_sse", "½ΣΣ(ŷ − y)² over 4 samples and 3 outputs", "half_sse", y_hat, y))
    add(_loss("op-loss-mse", "the mean of (ŷ − y)² over 4 samples and 3 outputs", "mse", y_hat, y))
    add(_loss("op-loss-bce", "bce from logits, targets in [0, 1]", "bce", _uniform(rng, 4, 2, 3.0),
              [[rng.random() for _ in range(2)] for _ in range(4)]))
    add(_loss("op-loss-bce-saturated", "bce at logits ±800: right and wrong confident outputs",
              "bce", [[800.0, -800.0], [800.0, -800.0]], [[1.0, 0.0], [0.0, 1.0]]))
    add(_loss("op-loss-cross_entropy", "cross_entropy from logits with one-hot targets",
              "cross_entropy", _uniform(rng, 4, 3, 3.0),
              [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
    add(_loss("op-loss-cross_entropy-saturated", "cross_entropy with logits ±800: right and"
              " wrong confident classes", "cross_entropy",
              [[800.0, 0.0, -800.0], [800.0, 0.0, -800.0], [-800.0, 0.0, 800.0]],
              [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.5, 0.5]]))
    add(_loss("op-loss-cross_entropy-soft-targets", "cross_entropy with probability targets"
              " (rows summing to 1, none one-hot)", "cross_entropy", _uniform(rng, 3, 3, 3.0),
              [[0.2, 0.5, 0.3], [0.6, 0.3, 0.1], [1 / 3, 1 / 3, 1 / 3]]))
    return cases


_CURATED: List[Dict[str, Any]] = []


def curated_ops() -> List[Dict[str, Any]]:
    """Return the curated op suite, every case with its expected values (a fresh copy each call)."""
    if not _CURATED:
        _CURATED.extend(complete_op(c) for c in _curated_op_skeletons())
    return copy.deepcopy(_CURATED)


def random_op_cases(n: int, seed: int = 0) -> List[Dict[str, Any]]:
    """Return n seeded random op cases (batches 1–6, widths 1–6), expected values included.

    Each is a dense layer, an activation or a loss, chosen in turn at random;
    bce targets lie in [0, 1], cross_entropy targets are rows of probabilities.
    """
    n = _checks.count("random_op_cases", "n", n)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"random_op_cases: seed must be an int, got {_checks._describe(seed)}")
    # An op case is smaller than a network case: its budget is a high estimate.
    _limits.check("random_op_cases", _limits.RANDOM_CASE_BYTES * n,
                  _limits.random_case_seconds() * n / 10, f"n = {n:,}")
    rng = random.Random(seed)
    cases = []
    for i in range(n):
        case_id, description = f"op-random-{seed}-{i:04d}", f"Random op case {i} of seed {seed}"
        rows, width, k = rng.randint(1, 6), rng.randint(1, 6), rng.randint(1, 6)
        op = rng.choice(sorted(OPS))
        if op == "dense":
            case = _dense(case_id, description, _uniform(rng, rows, width, 2.0),
                          _uniform(rng, width, k, 1.0), _uniform(rng, 1, k, 1.0),
                          _uniform(rng, rows, k, 1.0))
        elif op == "activation":
            case = _activation(case_id, description, rng.choice(OP_ACTIVATIONS),
                               _uniform(rng, rows, k, 4.0), _uniform(rng, rows, k, 1.0))
        else:
            name = rng.choice(OP_LOSSES)
            if name == "cross_entropy":
                weights = [[rng.random() for _ in range(k)] for _ in range(rows)]
                targets = [[w / sum(r) for w in r] for r in weights]
            elif name == "bce":
                targets = [[rng.random() for _ in range(k)] for _ in range(rows)]
            else:
                targets = _uniform(rng, rows, k, 1.0)
            case = _loss(case_id, description, name, _uniform(rng, rows, k, 3.0), targets)
        cases.append(complete_op(case))
    return cases


def write_op_suite(out: str, random_count: int = 0, seed: int = 0) -> List[str]:
    """Write the curated op suite and ``random_count`` random op cases to folder ``out``.

    One file per case and MANIFEST.sha256 first, as vectors.write_suite does;
    returns the paths of the case files written.
    """
    out = _checks.path("write_op_suite", out, "out")
    random_count = _checks.count("write_op_suite", "random_count", random_count)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"write_op_suite: seed must be an int, got {_checks._describe(seed)}")
    return vectors.write_case_files(out, curated_ops() + random_op_cases(random_count, seed))
