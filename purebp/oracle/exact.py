"""The same forward and backward pass in ``decimal.Decimal``, for the truth beyond float64.

The test vectors' expected values come from here: every quantity computed
with 50 significant digits (``PRECISION``), then rounded once to the nearest
float64, so an expected value is the float closest to the true answer for the
case's (float) inputs and parameters, not one float computation among many.

    forward(network, weights, biases, X)      → (zs, activations), Decimal matrices
    loss_value(network, y, zs, activations)   → Decimal
    run(network, weights, biases, X, y, learning_rate, steps, optimizer=, batches=)
        → every expected quantity of a test-vector case (pre-activations,
          activations, loss, gradients, the parameters after one step, the
          trajectory; with an optimizer or mini-batches the parameters and the
          optimizer's state after the last step too), as Decimals
    buffers(optimizer)                         the state's buffers an optimizer's arguments use
    to_float(value)                            nested lists of Decimal → of float

``network`` is a dict with ``sizes``, ``activation``, ``output_activation``
and ``loss``, as in a test-vector case. Nothing here comes from the float
code that the vectors judge: the layer algebra is written out below as index
loops over Decimals (not purebp.matrix), and each activation, derivative and
loss is written for Decimal (not purebp.activations or purebp.losses), in
forms that lose no digits where the float forms would (σ′ as σ(z)·σ(−z)
rather than s·(1 − s), log(1 + x) and e^x − 1 by their series for tiny x).
The optimizers (SGD with momentum, dampening, Nesterov and weight decay,
RMSprop, Adam, AdamW: torch.optim's rules) are written here again for
Decimal, not taken from purebp.optimizers.
The loops add in the order purebp.matrix does (Σ_m from m = 0 up, starting
from 0; column sums from the top row down), so the vectors are the same,
digit for digit, as when this module used it.

What it does not do: check its arguments (the callers have), or run fast.
"""

from __future__ import annotations

import random
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, Overflow, getcontext, localcontext
from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

#: Significant digits of every Decimal computation here.
PRECISION = 50
#: e^x beyond the widest exponent Decimal has (10^MAX_EMAX, about e^(2.3e18)) counts as
#: infinite: σ, tanh and tanh′ then take their limits, which they equal to far more than
#: 50 digits (σ(−z) and tanh′(z) lie below 10^−(10^18), tanh(z) within that of 1).
INFINITY = Decimal("Infinity")
#: A trajectory's loss after the run has left that range: not computable.
NAN = Decimal("NaN")

DMatrix = List[List[Decimal]]
DRows = Sequence[Sequence[Decimal]]
ONE = Decimal(1)
ZERO = Decimal(0)
#: Below this size, e^x − 1 and log(1 + x) use their series (9 terms give 50 digits).
SERIES_BELOW = Decimal("1e-6")


def _wider() -> Context:
    """A context 10 digits wider than the current one, for sums that cancel."""
    return Context(prec=getcontext().prec + 10, Emax=getcontext().Emax, Emin=getcontext().Emin)


def _exp(x: Decimal) -> Decimal:
    """Return e^x, or Infinity where e^x is beyond Decimal's widest range (see INFINITY)."""
    try:
        return x.exp()
    except Overflow:
        return INFINITY


def _expm1(x: Decimal) -> Decimal:
    """Return e^x − 1 without the cancellation of exp(x) − 1 for tiny x."""
    if abs(x) >= SERIES_BELOW:
        # just above the series' range e^x − 1 still cancels some digits
        wide = _wider()
        try:
            return +wide.subtract(wide.exp(x), ONE)
        except Overflow:
            return INFINITY
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
    return ONE / (ONE + _exp(-z))


def sigmoid_prime(z: Decimal) -> Decimal:
    # σ(z)·σ(−z) = σ(z)·(1 − σ(z)), without 1 − σ(z) cancelling for large z
    return sigmoid(z) * sigmoid(-z)


def tanh(z: Decimal) -> Decimal:
    if z < 0:
        return -tanh(-z)
    # (e^2z − 1) / (e^2z + 1), with e^2z − 1 computed without cancellation
    m = _expm1(2 * z)
    return ONE if m == INFINITY else m / (m + 2)


def tanh_prime(z: Decimal) -> Decimal:
    # 1/cosh²(z) = 4 / (e^z + e^−z)², without 1 − tanh² cancelling for large z
    return 4 / (_exp(z) + _exp(-z)) ** 2


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


#: The activations with a kink at 0, where either one-sided slope is a correct derivative.
KINKED = ("relu", "leaky_relu")


#: Kinks, one matrix of flags per layer: the units taken as exactly at the kink.
Kinks = List[List[List[bool]]]


def _derivative(name: str, z: Decimal, at_kink: bool, right_slope: bool) -> Decimal:
    """Return f′(z); a kinked unit at its kink takes PyTorch's slope, or 1 with ``right_slope``."""
    if at_kink and name in KINKED:
        return ONE if right_slope else ACTIVATIONS[name][1](ZERO)
    return ACTIVATIONS[name][1](z)


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


def _output_delta(network: Mapping[str, Any], y: DRows, z: DRows, a: DRows,
                  kinks: Optional[List[List[bool]]] = None, right_slope: bool = False) -> DMatrix:
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
    if name == "half_sse":
        d_a = [[a[i][k] - y[i][k] for k in range(len(a[i]))] for i in range(len(a))]
    else:  # mse
        d_a = [[2 * (ak - t) / _entries(y) for t, ak in zip(t_row, a_row)]
               for t_row, a_row in zip(y, a)]
    return _times_slope(d_a, network["output_activation"], z, kinks, right_slope)


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


def _times_slope(g: DRows, name: str, z: DRows, kinks: Optional[List[List[bool]]],
                 right_slope: bool) -> DMatrix:
    """Return g ⊙ f′(z), the units flagged in ``kinks`` (None: those with z = 0) at their kink."""
    flags = kinks if kinks is not None else [[v == 0 for v in row] for row in z]
    return [[g[i][j] * _derivative(name, z[i][j], flags[i][j], right_slope)
             for j in range(len(z[i]))] for i in range(len(z))]


def _times_derivative(g: DRows, f_prime: Callable[[Decimal], Decimal], z: DRows) -> DMatrix:
    """Return g ⊙ f′(z): entry [i][j] is g[i][j]·f′(z[i][j])."""
    return [[g[i][j] * f_prime(z[i][j]) for j in range(len(z[i]))] for i in range(len(z))]


# -- the optimizers ----------------------------------------------------------------------
#
# torch.optim's update rules (purebp/docs/optimizers.md derives them; its equation ids
# are in the comments), for one entry: p the parameter, g its gradient, s the entry's
# state (its buffers by torch's names, 0 before the first step), t the step count (1 at
# the first step). Written here for Decimal, not taken from purebp.optimizers, so that a
# mistake there cannot hide in the truth too. Every parameter is decayed, biases too.

#: Every buffer an optimizer's state may hold, by torch's names, in the order files give them.
STATE_BUFFERS = ("momentum_buffer", "square_avg", "grad_avg", "exp_avg", "exp_avg_sq",
                 "max_exp_avg_sq")

#: An optimizer as a case gives it: {"name": ..., "arguments": {...}} (purebp.optimizers'
#: config(), with torch.optim's argument names).
Config = Mapping[str, Any]


def buffers(optimizer: Config) -> Tuple[str, ...]:
    """Return the buffers the optimizer's state keeps: those its arguments use, as torch's.

    >>> buffers({"name": "adam", "arguments": {"amsgrad": True}})
    ('exp_avg', 'exp_avg_sq', 'max_exp_avg_sq')
    """
    name, a = optimizer["name"], optimizer["arguments"]
    if name == "sgd":
        used = {"momentum_buffer"} if a["momentum"] else set()
    elif name == "rmsprop":
        used = ({"square_avg"} | ({"momentum_buffer"} if a["momentum"] else set())
                | ({"grad_avg"} if a["centered"] else set()))
    else:  # adam, adamw
        used = {"exp_avg", "exp_avg_sq"} | ({"max_exp_avg_sq"} if a["amsgrad"] else set())
    return tuple(b for b in STATE_BUFFERS if b in used)


Arguments = Dict[str, Any]
EntryState = Dict[str, Decimal]


def _sgd(a: Arguments, t: int, p: Decimal, g: Decimal, s: EntryState) -> Decimal:
    lr: Decimal = a["lr"]
    mu: Decimal = a["momentum"]
    tau: Decimal = a["dampening"]
    wd: Decimal = a["weight_decay"]
    if wd:
        g = g + wd * p                                              # (WD)
    if not mu:
        return p - lr * g                                           # (S)
    # the velocity starts as the first gradient itself: no dampening at t = 1
    b = g if t == 1 else mu * s["momentum_buffer"] + (ONE - tau) * g  # (M)
    s["momentum_buffer"] = b
    d = g + mu * b if a["nesterov"] else b                          # (N)
    return p - lr * d                                               # (S)


def _rmsprop(a: Arguments, t: int, p: Decimal, g: Decimal, s: EntryState) -> Decimal:
    lr: Decimal = a["lr"]
    alpha: Decimal = a["alpha"]
    eps: Decimal = a["eps"]
    wd: Decimal = a["weight_decay"]
    mu: Decimal = a["momentum"]
    if wd:
        g = g + wd * p                                              # (WD)
    v = alpha * s["square_avg"] + (ONE - alpha) * g * g             # (V)
    s["square_avg"] = v
    if a["centered"]:
        g_avg = alpha * s["grad_avg"] + (ONE - alpha) * g           # (C)
        s["grad_avg"] = g_avg
        # v − ḡ² ≥ 0 exactly (Cauchy–Schwarz over the averages); max() only keeps the
        # 50-digit rounding of an exact 0 (alpha 0 or 1) from going below it
        v = max(v - g_avg * g_avg, ZERO)
    d = g / (v.sqrt() + eps)                                        # (R)
    if mu:
        b = mu * s["momentum_buffer"] + d                           # (RM)
        s["momentum_buffer"] = b
        d = b
    return p - lr * d                                               # (RM)


def _adam(a: Arguments, t: int, p: Decimal, g: Decimal, s: EntryState,
          decoupled: bool) -> Decimal:
    lr: Decimal = a["lr"]
    eps: Decimal = a["eps"]
    wd: Decimal = a["weight_decay"]
    beta1: Decimal = a["betas"][0]
    beta2: Decimal = a["betas"][1]
    if wd and decoupled:
        p = p * (ONE - lr * wd)                                     # (DW) AdamW, first
    elif wd:
        g = g + wd * p                                              # (WD) Adam: L2
    m = beta1 * s["exp_avg"] + (ONE - beta1) * g                    # (A1)
    v = beta2 * s["exp_avg_sq"] + (ONE - beta2) * g * g             # (A2)
    s["exp_avg"], s["exp_avg_sq"] = m, v
    m_hat = m / (ONE - beta1 ** t)                                  # (A3)
    if a["amsgrad"]:
        s["max_exp_avg_sq"] = max(s["max_exp_avg_sq"], v)           # (AG) of v, uncorrected
        v = s["max_exp_avg_sq"]
    v_hat = v / (ONE - beta2 ** t)                                  # (A3)
    return p - lr * m_hat / (v_hat.sqrt() + eps)                    # (A4) eps after √v̂


def _adamw(a: Arguments, t: int, p: Decimal, g: Decimal, s: EntryState) -> Decimal:
    return _adam(a, t, p, g, s, decoupled=True)


def _adam_l2(a: Arguments, t: int, p: Decimal, g: Decimal, s: EntryState) -> Decimal:
    return _adam(a, t, p, g, s, decoupled=False)


RULES: Dict[str, Callable[[Arguments, int, Decimal, Decimal, EntryState], Decimal]] = {
    "sgd": _sgd, "rmsprop": _rmsprop, "adam": _adam_l2, "adamw": _adamw,
}

#: An optimizer's state over a network: {buffer: {"weights": [matrices], "biases": [...]}}.
NetworkState = Dict[str, Dict[str, List[DMatrix]]]


class Stepper:
    """One run's optimizer: its rule, its Decimal arguments, the step count and the state.

    ``optimizer`` None is plain gradient descent with ``learning_rate``, the
    tutorial's p − lr·g, which has no state. Each run gets a fresh Stepper.
    """

    def __init__(self, optimizer: Optional[Config], learning_rate: Decimal) -> None:
        self.lr = learning_rate
        self.rule = None if optimizer is None else RULES[optimizer["name"]]
        self.names: Tuple[str, ...] = () if optimizer is None else buffers(optimizer)
        self.arguments: Arguments = {} if optimizer is None else {
            k: (v if isinstance(v, bool) else
                tuple(Decimal(b) for b in v) if isinstance(v, (list, tuple)) else Decimal(v))
            for k, v in optimizer["arguments"].items()}
        self.t = 0
        self.state: NetworkState = {}

    def __call__(self, W: Sequence[DRows], B: Sequence[DRows],
                 grads: Mapping[str, Sequence[DRows]]) -> Tuple[List[DMatrix], List[DMatrix]]:
        """Return (weights, biases) after one step with gradients ``grads``; the state moves on."""
        self.t += 1
        if self.rule is None:
            lr = self.lr
            return ([[[w - lr * g for w, g in zip(wr, gr)] for wr, gr in zip(wm, gm)]
                     for wm, gm in zip(W, grads["weights"])],
                    [[[b - lr * g for b, g in zip(br, gr)] for br, gr in zip(bm, gm)]
                     for bm, gm in zip(B, grads["biases"])])
        if not self.state:  # torch's start: every buffer 0, of the parameters' shapes
            self.state = {name: {"weights": [[[ZERO] * len(row) for row in m] for m in W],
                                 "biases": [[[ZERO] * len(row) for row in m] for m in B]}
                          for name in self.names}
        new: Dict[str, List[DMatrix]] = {}
        for kind, params in (("weights", W), ("biases", B)):
            new[kind] = []
            for l, (pm, gm) in enumerate(zip(params, grads[kind])):
                rows = []
                for i, (pr, gr) in enumerate(zip(pm, gm)):
                    row = []
                    for j, (p, g) in enumerate(zip(pr, gr)):
                        s = {name: self.state[name][kind][l][i][j] for name in self.names}
                        row.append(self.rule(self.arguments, self.t, p, g, s))
                        for name in self.names:
                            self.state[name][kind][l][i][j] = s[name]
                    rows.append(row)
                new[kind].append(rows)
        return new["weights"], new["biases"]

    def record(self) -> Dict[str, Any]:
        """Return the state as a case's expected.optimizer_state holds it: {"step": t, buffers}."""
        result: Dict[str, Any] = {"step": self.t}
        for name in self.names:
            if name in self.state:  # none before the first step, as torch's
                result[name] = self.state[name]
        return result


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
                   zs: Sequence[DRows], activations: Sequence[DRows],
                   kinks: Optional[Kinks] = None,
                   right_slope: bool = False) -> Dict[str, List[DMatrix]]:
    """Return {"weights": [∂loss/∂weights[l]], "biases": [∂loss/∂biases[l]]}.

    A relu or leaky_relu unit at its kink (z exactly 0, or flagged in
    ``kinks``) takes PyTorch's slope there, or with ``right_slope`` the slope
    to its right, 1 (trajectory_bounds' other correct choice).
    """
    L = len(weights)
    flags: List[Optional[List[List[bool]]]] = list(kinks) if kinks is not None else [None] * L
    delta = _output_delta(network, y, zs[-1], activations[-1], flags[-1], right_slope)
    grad_w: List[DMatrix] = [[] for _ in range(L)]
    grad_b: List[DMatrix] = [[] for _ in range(L)]
    for l in range(L - 1, -1, -1):
        grad_w[l] = _weight_gradient(activations[l], delta)
        grad_b[l] = _bias_gradient(delta)
        if l > 0:
            delta = _times_slope(_back(delta, weights[l]), network["activation"], zs[l - 1],
                                 flags[l - 1], right_slope)
    return {"weights": grad_w, "biases": grad_b}


def _step(network: Mapping[str, Any], W: List[DMatrix], B: List[DMatrix], Xd: DRows, yd: DRows,
          stepper: Stepper, right_slope: bool = False,
          kinks: Optional[Kinks] = None) -> Tuple[Decimal, Dict[str, List[DMatrix]],
                                                  List[DMatrix], List[DMatrix], Kinks]:
    """Return (loss, gradients, the weights after the step, the biases after it, the kinks).

    The step is ``stepper``'s (plain gradient descent, or an optimizer's, whose
    state moves on). ``kinks``: the units to take as at their kink (None: those
    with z exactly 0); the kinks returned are the units with z exactly 0 in this step.
    """
    zs, activations = forward(network, W, B, Xd)
    loss = loss_value(network, yd, zs, activations)
    grads = _backpropagate(network, W, yd, zs, activations, kinks, right_slope)
    W, B = stepper(W, B, grads)
    return loss, grads, W, B, [[[v == 0 for v in row] for row in z] for z in zs]


#: The rows each step uses: (inputs, targets) of step k, the whole batch or batches[k]'s rows.
Data = Sequence[Tuple[DRows, DRows]]


class Run(NamedTuple):
    """A run of steps: the loss before each, each step's exact kinks, the parameters after."""

    losses: List[Decimal]
    kinks: List[Kinks]
    weights: List[DMatrix]
    biases: List[DMatrix]


def _trajectory(network: Mapping[str, Any], W: List[DMatrix], B: List[DMatrix], data: Data,
                stepper: Stepper, steps: int, right_slope: bool = False,
                kinks: Optional[List[Kinks]] = None,
                states: Optional[List[List[DMatrix]]] = None) -> Run:
    """Return the Run of ``steps`` steps, step k on the rows data[k].

    A loss is NaN once the run leaves Decimal's range (and so are the parameters
    after it). ``kinks``: each step's units to take as at their kink (None: those
    with z exactly 0 in this run). ``states``, if a list, gets the parameters
    (weights, then biases) before each step.
    """
    trajectory: List[Decimal] = []
    seen: List[Kinks] = []
    for k in range(steps):
        if states is not None:
            states.append(W + B)
        try:
            loss, _, W, B, at = _step(network, W, B, data[k][0], data[k][1], stepper, right_slope,
                                      None if kinks is None or k >= len(kinks) else kinks[k])
        except Overflow:
            # A diverging run has left even Decimal's widest range (its parameters grow
            # like w^depth a step): the losses from here on cannot be computed (NaN).
            lost = [[[NAN] * len(row) for row in m] for m in W + B]
            return Run(trajectory + [NAN] * (steps - len(trajectory)), seen, lost[:len(W)],
                       lost[len(W):])
        trajectory.append(loss)
        seen.append(at)
    return Run(trajectory, seen, W, B)


def _data(Xd: DRows, yd: DRows, steps: int,
          batches: Optional[Sequence[Sequence[int]]]) -> List[Tuple[DRows, DRows]]:
    """Return each step's (inputs, targets): the whole batch, or the rows batches[k] in order."""
    if batches is None:
        return [(Xd, yd)] * steps
    return [([Xd[i] for i in rows], [yd[i] for i in rows]) for rows in batches[:steps]]


def run(network: Mapping[str, Any], weights: Sequence[Sequence[Sequence[float]]],
        biases: Sequence[Sequence[Sequence[float]]], X: Sequence[Sequence[float]],
        y: Sequence[Sequence[float]], learning_rate: float, steps: int,
        right_slope: bool = False, optimizer: Optional[Config] = None,
        batches: Optional[Sequence[Sequence[int]]] = None) -> Dict[str, Any]:
    """Return every expected quantity of a case, in Decimal.

    ``right_slope``: a relu or leaky_relu unit whose z is exactly 0 takes the
    slope to the right of its kink, 1, rather than PyTorch's: the other correct
    values there (the checker compares with them too). ``optimizer``: the
    case's {"name", "arguments"} (None: plain gradient descent with
    ``learning_rate``); ``batches``: the rows of each step (None: every step on
    the whole batch).

    Keys: pre_activations, activations (one matrix per layer, not the input),
    loss, gradients, updated (the parameters after one step from a fresh
    optimizer, on the whole batch), trajectory (the loss before each of
    ``steps`` steps, of that step's rows; without batches the first is
    ``loss``); with an optimizer or batches also final (the parameters after
    the last step) and optimizer_state ({"step": steps, buffer: {"weights",
    "biases"}} after it). A loss of a diverging trajectory that lies beyond
    even Decimal's widest range (10^(10^18)) is NaN: not computable; to_float
    rounds a value beyond the float range to ±inf.
    """
    with localcontext() as ctx:
        ctx.prec = PRECISION
        # The widest exponents Decimal has: no float case's forward and backward pass
        # comes near them (values in range compute the same digits as under any Emax).
        ctx.Emax, ctx.Emin = MAX_EMAX, MIN_EMIN
        W, B = [_decimal(w) for w in weights], [_decimal(b) for b in biases]
        Xd, yd, lr = _decimal(X), _decimal(y), Decimal(learning_rate)
        zs, activations = forward(network, W, B, Xd)
        # a float case's first step stays far inside the range (above): no Overflow here
        loss, grads, W1, B1, _ = _step(network, W, B, Xd, yd, Stepper(optimizer, lr), right_slope)
        result = {
            "pre_activations": zs,
            "activations": activations[1:],
            "loss": loss,
            "gradients": grads,
            "updated": {"weights": W1, "biases": B1},
        }
        if optimizer is None and batches is None:
            # the first step of the trajectory is the one just taken: go on from it
            later = (_trajectory(network, W1, B1, _data(Xd, yd, steps - 1, None),
                                 Stepper(None, lr), steps - 1, right_slope).losses
                     if steps > 1 else [])
            result["trajectory"] = [loss] + later if steps else []
            return result
        stepper = Stepper(optimizer, lr)
        done = _trajectory(network, W, B, _data(Xd, yd, steps, batches), stepper, steps,
                           right_slope)
        result["trajectory"] = done.losses
        result["final"] = {"weights": done.weights, "biases": done.biases}
        result["optimizer_state"] = stepper.record()
        return result


#: The size of the perturbation of trajectory_sensitivity: one unit in the last place of a
#: float64 of size 1, relative to each parameter (2^-52·|θ|).
ULP = Decimal(2) ** -52


def perturbation_bases(matrices: Sequence[Sequence[Sequence[Any]]]) -> List[List[List[Any]]]:
    """Return each parameter's perturbation base: |θ|; for θ = 0 its matrix's largest |θ|,
    or every matrix's largest if that is 0 too, or 1 (all zero).

    Works on floats and on Decimals alike (tolerance_policy uses the same bases).
    """
    tops = [max((abs(v) for row in m for v in row), default=0) for m in matrices]
    overall = max(tops, default=0) or 1
    return [[[abs(v) if v != 0 else (top or overall) for v in row] for row in m]
            for m, top in zip(matrices, tops)]


def _perturbed(matrices: Sequence[DRows], signs: Sequence[Sequence[Sequence[int]]],
               bases: Sequence[Sequence[Sequence[Decimal]]]) -> List[DMatrix]:
    """Return every entry θ moved by sign·2^-52·base (perturbation_bases)."""
    return [[[v + s * ULP * b for v, s, b in zip(row, srow, brow)]
             for row, srow, brow in zip(m, sm, bm)] for m, sm, bm in zip(matrices, signs, bases)]


def _spread(state: Sequence[DRows], base: Sequence[DRows],
            bases: Sequence[Sequence[Sequence[Decimal]]]) -> Decimal:
    """Return max |θ' − θ| / (2^-52·base) over the parameters: a perturbed run's distance
    from the unperturbed one in units of the starting perturbation (1 at the start)."""
    return max((abs(p - q) / (ULP * b) for m, n, mb in zip(state, base, bases)
                for row, other, brow in zip(m, n, mb) for p, q, b in zip(row, other, brow)),
               default=ZERO)


def _moved(other: Sequence[DRows], base: Sequence[DRows]) -> List[DMatrix]:
    """Return |θ' − θ| entry by entry (NaN where either run left Decimal's range)."""
    return [[[abs(p - q) if not (p.is_nan() or q.is_nan()) else NAN for p, q in zip(ro, rb)]
             for ro, rb in zip(mo, mb)] for mo, mb in zip(other, base)]


def _larger(a: List[DMatrix], b: List[DMatrix]) -> List[DMatrix]:
    """Return the larger of two moves entry by entry (NaN stays NaN: not measurable)."""
    return [[[x if x.is_nan() else y if y.is_nan() else max(x, y) for x, y in zip(ra, rb)]
             for ra, rb in zip(ma, mb)] for ma, mb in zip(a, b)]


def trajectory_bounds(network: Mapping[str, Any], weights: Sequence[Sequence[Sequence[float]]],
                      biases: Sequence[Sequence[Sequence[float]]], X: Sequence[Sequence[float]],
                      y: Sequence[Sequence[float]], learning_rate: float, steps: int,
                      optimizer: Optional[Config] = None,
                      batches: Optional[Sequence[Sequence[int]]] = None) -> Dict[str, Any]:
    """Return how far each loss of the trajectory moves under a perturbation of the start.

    "sensitivity"[s]: the larger |L_s(θ + δ) − L_s(θ)| of two perturbations δ
    that move every weight and bias by one unit in its last place, 2^-52·|θ|
    (perturbation_bases gives |θ|'s stand-in for a zero): one along the signs
    of the first step's gradient (the direction that moves the next losses
    most, to first order), one along seeded random
    signs (what chaos amplifies, whatever the direction). "growth"[s]: the
    smaller, over the two, of how far the perturbed run's parameters are from
    the unperturbed ones before step s, in units of the starting perturbation
    (growth[0] = 1; 0 once a run leaves Decimal's range): with it, the move of
    L_s under a perturbation made at step j is about sensitivity[s]/growth[j].
    "right_slope", for a
    case with a relu or leaky_relu unit whose pre-activation is exactly 0 at
    the start: the trajectory with the slope to the right of the kink (1)
    taken there instead of PyTorch's (0, or 0.01), the other correct choice;
    absent otherwise. With an ``optimizer`` or ``batches`` (run's), each run
    starts from a fresh optimizer, and "final_sensitivity" ({"weights",
    "biases"}) and "optimizer_state_sensitivity" ({buffer: {"weights",
    "biases"}}) are the larger move, over the two, of every parameter and
    every entry of the state after the last step. purebp/docs/vectors.md
    ("The trajectory") uses them all.
    """
    with localcontext() as ctx:
        ctx.prec = PRECISION
        ctx.Emax, ctx.Emin = MAX_EMAX, MIN_EMIN
        W, B = [_decimal(w) for w in weights], [_decimal(b) for b in biases]
        Xd, yd, lr = _decimal(X), _decimal(y), Decimal(learning_rate)
        data = _data(Xd, yd, steps, batches)
        base_states: List[List[DMatrix]] = []
        base_stepper = Stepper(optimizer, lr)
        base = _trajectory(network, W, B, data, base_stepper, steps, states=base_states)
        kinks = base.kinks
        first_X, first_y = data[0] if data else (Xd, yd)
        zs, activations = forward(network, W, B, first_X)
        grads = _backpropagate(network, W, first_y, zs, activations)
        rng = random.Random(0)
        directions = [tuple([[[1 if g >= 0 else -1 for g in row] for row in m] for m in grads[kind]]
                            for kind in ("weights", "biases")),
                      tuple([[[rng.choice((-1, 1)) for _ in row] for row in m] for m in M]
                            for M in (W, B))]
        moves = [ZERO] * steps
        bases = perturbation_bases(W + B)
        growth: List[Decimal] = [INFINITY] * steps
        final_moves: Optional[List[DMatrix]] = None
        state_moves: Dict[str, List[DMatrix]] = {}
        for weight_signs, bias_signs in directions:
            # A unit exactly at its kink in the unperturbed run stays on PyTorch's side
            # in the perturbed one, step by step ("right_slope" has the other side).
            states: List[List[DMatrix]] = []
            stepper = Stepper(optimizer, lr)
            other = _trajectory(network, _perturbed(W, weight_signs, bases[:len(W)]),
                                _perturbed(B, bias_signs, bases[len(W):]), data, stepper, steps,
                                kinks=kinks, states=states)
            moves = [max(m, abs(o - b)) if not (o.is_nan() or b.is_nan()) else NAN
                     for m, o, b in zip(moves, other.losses, base.losses)]
            # how far the perturbation has grown by each step, in units of its start
            grown = [_spread(state, start, bases) for state, start in zip(states, base_states)]
            grown += [ZERO] * (steps - len(grown))  # the run left Decimal's range
            growth = [min(g, h) for g, h in zip(growth, grown)]
            if optimizer is not None or batches is not None:
                moved = _moved(other.weights + other.biases, base.weights + base.biases)
                final_moves = moved if final_moves is None else _larger(final_moves, moved)
                mine, theirs = stepper.record(), base_stepper.record()
                for name in base_stepper.names:
                    if name not in theirs:
                        continue
                    change = _moved(mine[name]["weights"] + mine[name]["biases"],
                                    theirs[name]["weights"] + theirs[name]["biases"])
                    state_moves[name] = (change if name not in state_moves
                                         else _larger(state_moves[name], change))
        result: Dict[str, Any] = {"sensitivity": moves, "growth": growth}
        kinked = [network["activation"]] * (len(W) - 1) + [network["output_activation"]]
        if any(name in KINKED and any(any(row) for row in at)
               for step in kinks for name, at in zip(kinked, step)):
            result["right_slope"] = _trajectory(network, W, B, data, Stepper(optimizer, lr), steps,
                                                right_slope=True).losses
        if final_moves is not None:
            L = len(W)
            result["final_sensitivity"] = {"weights": final_moves[:L], "biases": final_moves[L:]}
            result["optimizer_state_sensitivity"] = {
                name: {"weights": m[:L], "biases": m[L:]} for name, m in state_moves.items()}
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
