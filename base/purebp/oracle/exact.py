"""The same forward and backward pass in ``decimal.Decimal``, for the truth beyond float64.

The test vectors' expected values come from here: every quantity computed
with 50 significant digits (``PRECISION``), then rounded once to the nearest
float64, so an expected value is the float closest to the true answer for the
case's (float) inputs and parameters, not one float computation among many.

    forward(network, weights, biases, X)      → (zs, activations), Decimal matrices
    loss_value(network, y, zs, activations)   → Decimal
    run(network, weights, biases, X, y, learning_rate, steps)
        → every expected quantity of a test-vector case (pre-activations,
          activations, loss, gradients, the parameters after one step, the
          trajectory), as Decimals
    to_float(value)                            nested lists of Decimal → of float

``network`` is a dict with ``sizes``, ``activation``, ``output_activation``
and ``loss``, as in a test-vector case. Nothing here comes from the float
code that the vectors judge: the layer algebra is written out below as index
loops over Decimals (not purebp.matrix), and each activation, derivative and
loss is written for Decimal (not purebp.activations or purebp.losses), in
forms that lose no digits where the float forms would (σ′ as σ(z)·σ(−z)
rather than s·(1 − s), log(1 + x) and e^x − 1 by their series for tiny x).
The loops add in the order purebp.matrix does (Σ_m from m = 0 up, starting
from 0; column sums from the top row down), so the vectors are the same,
digit for digit, as when this module used it.

What it does not do: check its arguments (the callers have), or run fast.
"""

from __future__ import annotations

from decimal import Context, Decimal, getcontext, localcontext
from typing import Any, Callable, Dict, List, Mapping, Sequence, Tuple

#: Significant digits of every Decimal computation here.
PRECISION = 50

DMatrix = List[List[Decimal]]
DRows = Sequence[Sequence[Decimal]]
ONE = Decimal(1)
ZERO = Decimal(0)
#: Below this size, e^x − 1 and log(1 + x) use their series (9 terms give 50 digits).
SERIES_BELOW = Decimal("1e-6")


def _wider() -> Context:
    """A context 10 digits wider than the current one, for sums that cancel."""
    return Context(prec=getcontext().prec + 10, Emax=getcontext().Emax, Emin=getcontext().Emin)


def _expm1(x: Decimal) -> Decimal:
    """Return e^x − 1 without the cancellation of exp(x) − 1 for tiny x."""
    if abs(x) >= SERIES_BELOW:
        # just above the series' range e^x − 1 still cancels some digits
        wide = _wider()
        return +wide.subtract(wide.exp(x), ONE)
    term, total = x, x
    for k in range(2, 12):
        term = term * x / k
        total += term
    return total


def _log1p(x: Decimal) -> Decimal:
    """Return log(1 + x) without the cancellation of ln(1 + x) for tiny x."""
    if abs(x) >= SERIES_BELOW:
        wide = _wider()
        return +wide.ln(wide.add(ONE, x))
    power, total = x, x
    for k in range(2, 12):
        power = -power * x
        total += power / k
    return total


# -- activations and their derivatives, at z ---------------------------------------


def sigmoid(z: Decimal) -> Decimal:
    return ONE / (ONE + (-z).exp())


def sigmoid_prime(z: Decimal) -> Decimal:
    # σ(z)·σ(−z) = σ(z)·(1 − σ(z)), without 1 − σ(z) cancelling for large z
    return sigmoid(z) * sigmoid(-z)


def tanh(z: Decimal) -> Decimal:
    if z < 0:
        return -tanh(-z)
    # (e^2z − 1) / (e^2z + 1), with e^2z − 1 computed without cancellation
    m = _expm1(2 * z)
    return m / (m + 2)


def tanh_prime(z: Decimal) -> Decimal:
    # 1/cosh²(z) = 4 / (e^z + e^−z)², without 1 − tanh² cancelling for large z
    return 4 / (z.exp() + (-z).exp()) ** 2


def relu(z: Decimal) -> Decimal:
    return z if z > 0 else ZERO


def relu_prime(z: Decimal) -> Decimal:
    return ONE if z > 0 else ZERO  # relu′(0) = 0, as in PyTorch


LEAKY_SLOPE = Decimal("0.01")


def leaky_relu(z: Decimal) -> Decimal:
    return z if z > 0 else LEAKY_SLOPE * z


def leaky_relu_prime(z: Decimal) -> Decimal:
    return ONE if z > 0 else LEAKY_SLOPE  # 0.01 at 0, as in PyTorch


def identity(z: Decimal) -> Decimal:
    return z


def identity_prime(z: Decimal) -> Decimal:
    return ONE


#: name → (f, f′), both functions of z.
ACTIVATIONS: Dict[str, Tuple[Callable[[Decimal], Decimal], Callable[[Decimal], Decimal]]] = {
    "identity": (identity, identity_prime),
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (relu, relu_prime),
    "leaky_relu": (leaky_relu, leaky_relu_prime),
}


def softmax(row: Sequence[Decimal]) -> List[Decimal]:
    top = max(row)
    exps = [(z - top).exp() for z in row]
    total = sum(exps, ZERO)
    return [e / total for e in exps]


# -- losses and their gradients ------------------------------------------------------


def _softplus(z: Decimal) -> Decimal:
    """log(1 + e^z), exact for large |z|."""
    if z > 0:
        return z + _log1p((-z).exp())
    return _log1p(z.exp())


def _entries(y: DRows) -> int:
    return len(y) * len(y[0])


def loss_value(network: Mapping[str, Any], y: DRows, zs: Sequence[DRows],
               activations: Sequence[DRows]) -> Decimal:
    """Return the case's loss from the last layer's z and a."""
    name = network["loss"]
    z, a = zs[-1], activations[-1]
    pairs = [(t, zk, ak) for t_row, z_row, a_row in zip(y, z, a)
             for t, zk, ak in zip(t_row, z_row, a_row)]
    if name == "half_sse":
        return sum(((ak - t) ** 2 for t, _, ak in pairs), ZERO) / 2
    if name == "mse":
        return sum(((ak - t) ** 2 for t, _, ak in pairs), ZERO) / _entries(y)
    if name == "bce":
        # −[t·log σ(z) + (1 − t)·log(1 − σ(z))] = t·softplus(−z) + (1 − t)·softplus(z)
        return sum((t * _softplus(-zk) + (ONE - t) * _softplus(zk)
                    for t, zk, _ in pairs), ZERO) / _entries(y)
    # cross_entropy: Σ_k t_k·(log Σ_j e^z_j − z_k), log Σ kept exact with log1p
    total = ZERO
    for t_row, z_row in zip(y, z):
        top = max(z_row)
        m = z_row.index(top)
        log_rest = _log1p(sum(((v - top).exp() for j, v in enumerate(z_row) if j != m), ZERO))
        total += sum((t * ((top - v) + log_rest) for t, v in zip(t_row, z_row) if t != 0),
                     ZERO)
    return total / len(y)


def _output_delta(network: Mapping[str, Any], y: DRows, z: DRows, a: DRows) -> DMatrix:
    """Return ∂loss/∂z for the last layer."""
    name = network["loss"]
    if name == "bce":
        count = _entries(y)
        return [[(sigmoid(zk) - t) / count for t, zk in zip(t_row, z_row)]
                for t_row, z_row in zip(y, z)]
    if name == "cross_entropy":
        n = len(y)
        return [[(sum(t_row, ZERO) * s - t) / n for t, s in zip(t_row, softmax(z_row))]
                for t_row, z_row in zip(y, z)]
    _, f_prime = ACTIVATIONS[network["output_activation"]]
    if name == "half_sse":
        d_a = [[a[i][k] - y[i][k] for k in range(len(a[i]))] for i in range(len(a))]
    else:  # mse
        d_a = [[2 * (ak - t) / _entries(y) for t, ak in zip(t_row, a_row)]
               for t_row, a_row in zip(y, a)]
    return _times_derivative(d_a, f_prime, z)


# -- the layer algebra, as index loops ---------------------------------------------
#
# This module's own, so that a bug in purebp.matrix cannot be shared by the truth
# and the float code it judges. Each sum starts from 0 and adds m = 0, 1, ...
# (column sums: from the top row down), the order the docstring states.


def _layer(a: DRows, w: DRows, b: DRows) -> DMatrix:
    """Return z = a·w + b: z[i][j] = Σ_m a[i][m]·w[m][j] + b[0][j], the bias row on every row."""
    z = []
    for i in range(len(a)):
        row = []
        for j in range(len(w[0])):
            total = ZERO
            for m in range(len(w)):
                total += a[i][m] * w[m][j]
            row.append(total + b[0][j])
        z.append(row)
    return z


def _back(delta: DRows, w: DRows) -> DMatrix:
    """Return δ·wᵀ: entry [i][m] is Σ_j δ[i][j]·w[m][j]."""
    result = []
    for i in range(len(delta)):
        row = []
        for m in range(len(w)):
            total = ZERO
            for j in range(len(w[m])):
                total += delta[i][j] * w[m][j]
            row.append(total)
        result.append(row)
    return result


def _weight_gradient(a: DRows, delta: DRows) -> DMatrix:
    """Return aᵀ·δ: entry [i][j] is Σ_n a[n][i]·δ[n][j], the sum over the batch."""
    result = []
    for i in range(len(a[0])):
        row = []
        for j in range(len(delta[0])):
            total = ZERO
            for n in range(len(a)):
                total += a[n][i] * delta[n][j]
            row.append(total)
        result.append(row)
    return result


def _bias_gradient(delta: DRows) -> DMatrix:
    """Return the 1 × c row Σ_n δ[n], each column added from the top row down."""
    row = []
    for j in range(len(delta[0])):
        total = delta[0][j]
        for n in range(1, len(delta)):
            total += delta[n][j]
        row.append(total)
    return [row]


def _times_derivative(g: DRows, f_prime: Callable[[Decimal], Decimal], z: DRows) -> DMatrix:
    """Return g ⊙ f′(z): entry [i][j] is g[i][j]·f′(z[i][j])."""
    return [[g[i][j] * f_prime(z[i][j]) for j in range(len(z[i]))] for i in range(len(z))]


# -- the passes --------------------------------------------------------------------


def _decimal(matrix: Sequence[Sequence[float]]) -> DMatrix:
    # Decimal(float) is exact: the case's numbers are taken as the floats they are.
    return [[Decimal(v) for v in row] for row in matrix]


def forward(network: Mapping[str, Any], weights: Sequence[DRows], biases: Sequence[DRows],
            X: DRows) -> Tuple[List[DMatrix], List[DMatrix]]:
    """Return (zs, activations) in Decimal; activations[0] is X."""
    L = len(weights)
    zs: List[DMatrix] = []
    activations = [[list(row) for row in X]]
    for l in range(L):
        z = _layer(activations[l], weights[l], biases[l])
        name = network["output_activation"] if l == L - 1 else network["activation"]
        if name == "softmax":
            a = [softmax(row) for row in z]
        else:
            f = ACTIVATIONS[name][0]
            a = [[f(v) for v in row] for row in z]
        zs.append(z)
        activations.append(a)
    return zs, activations


def _backpropagate(network: Mapping[str, Any], weights: Sequence[DRows], y: DRows,
                   zs: Sequence[DRows], activations: Sequence[DRows]) -> Dict[str, List[DMatrix]]:
    """Return {"weights": [∂loss/∂weights[l]], "biases": [∂loss/∂biases[l]]}."""
    L = len(weights)
    delta = _output_delta(network, y, zs[-1], activations[-1])
    grad_w: List[DMatrix] = [[] for _ in range(L)]
    grad_b: List[DMatrix] = [[] for _ in range(L)]
    for l in range(L - 1, -1, -1):
        grad_w[l] = _weight_gradient(activations[l], delta)
        grad_b[l] = _bias_gradient(delta)
        if l > 0:
            _, f_prime = ACTIVATIONS[network["activation"]]
            delta = _times_derivative(_back(delta, weights[l]), f_prime, zs[l - 1])
    return {"weights": grad_w, "biases": grad_b}


def run(network: Mapping[str, Any], weights: Sequence[Sequence[Sequence[float]]],
        biases: Sequence[Sequence[Sequence[float]]], X: Sequence[Sequence[float]],
        y: Sequence[Sequence[float]], learning_rate: float, steps: int) -> Dict[str, Any]:
    """Return every expected quantity of a case, in Decimal.

    Keys: pre_activations, activations (one matrix per layer, not the input),
    loss, gradients, updated (the parameters after one step of
    learning_rate), trajectory (the loss before each of ``steps`` full-batch
    steps, the first being ``loss``).
    """
    with localcontext() as ctx:
        ctx.prec = PRECISION
        W, B = [_decimal(w) for w in weights], [_decimal(b) for b in biases]
        Xd, yd, lr = _decimal(X), _decimal(y), Decimal(learning_rate)
        zs, activations = forward(network, W, B, Xd)
        loss = loss_value(network, yd, zs, activations)
        grads = _backpropagate(network, W, yd, zs, activations)
        result = {
            "pre_activations": zs,
            "activations": activations[1:],
            "loss": loss,
            "gradients": grads,
        }
        trajectory = []
        for k in range(max(steps, 1)):
            if k > 0:
                zs, activations = forward(network, W, B, Xd)
                grads = _backpropagate(network, W, yd, zs, activations)
            trajectory.append(loss_value(network, yd, zs, activations))
            W = [[[w - lr * g for w, g in zip(wr, gr)] for wr, gr in zip(wm, gm)]
                 for wm, gm in zip(W, grads["weights"])]
            B = [[[b - lr * g for b, g in zip(br, gr)] for br, gr in zip(bm, gm)]
                 for bm, gm in zip(B, grads["biases"])]
            if k == 0:
                result["updated"] = {"weights": W, "biases": B}
        result["trajectory"] = trajectory[:steps] if steps else []
        return result


def to_float(value: Any) -> Any:
    """Return value with every Decimal rounded to the nearest float (nested lists, dicts)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: to_float(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_float(v) for v in value]
    return value
