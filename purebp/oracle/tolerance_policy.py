"""How far from the truth a correct implementation may land: every entry's tolerance.

purebp/docs/vectors.md ("The tolerance policy") derives what is computed here, with
the same names. An entry passes when

    |actual − expected| ≤ atol + rtol·S + κ·U

S, the entry's *scale*, is the sum of the absolute values of the terms that
make it, carried through the network the way the entry is computed; U, its
*uncertainty*, is what a correct implementation may legitimately compute
differently (a derivative from a rounded output, either slope at a kink),
carried to first order through the same recursion. S is a size: rounding
moves the entry by a modest multiple of eps·S, eps being the machine epsilon
of the arithmetic checked, which rtol·S covers many times over. U is an
amount the entry itself may move by (it carries its own factors of eps). One
function per quantity, in the order the passes compute them:

    Policy, POLICIES, policy(...)     the presets: rtol, atol, eps, κ
    tolerance(pol, S, U)              atol + rtol·S + κ·U
    pre_activation_scales(...)        S of z[l] = a[l]·weights[l] + biases[l]
    activation_scales(...)            S of a[l+1] = f(z[l])
    forward_scales(...)               both, for every layer
    loss_scale(...)                   S of the loss
    derivative_bound(...)             |f′(z)| of one unit and how far a correct f′ may be from it
    output_delta_bounds(...)          S and U of δ = ∂loss/∂z of the last layer
    hidden_delta_bounds(...)          S and U of δ one layer down
    gradient_bounds(...)              S and U of gradients.weights[l] and gradients.biases[l]
    backward_bounds(...)              both, for every layer
    gradient_tolerances(...)          the tolerances of gradients.weights or gradients.biases
    updated_tolerances(...)           the tolerances of updated.weights or updated.biases
    trajectory_drift(...)             how much the next loss may move per step
    trajectory_tolerances(...)        the tolerance of each loss of the trajectory
    tolerances(case, pol)             all of them, in the layout of case["expected"]
    wide_loss_tolerance(case, pol)    the loss's, in Decimal, where its scale overflows floats

(The module is not called ``tolerances``, so that ``purebp.oracle.tolerances``
stays the function, as it was before this module existed.)

What it does not do: compare numbers (purebp.oracle.checker does), or make
the expected values (purebp.oracle.exact does). The float forward pass and
gradient it starts from are purebp's own (purebp.network); a tolerance only
needs their sizes, not their last digits.
"""

from __future__ import annotations

import math
import numbers
from decimal import MAX_EMAX, MIN_EMIN, Decimal, localcontext
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple, cast

from purebp._checks import _describe as describe
from purebp._types import Matrix
from purebp.network import Network

__all__ = [
    "POLICIES",
    "Bounds",
    "Policy",
    "activation_scales",
    "backward_bounds",
    "checked_policy",
    "derivative_bound",
    "forward_scales",
    "gradient_bounds",
    "gradient_tolerances",
    "hidden_delta_bounds",
    "loss_scale",
    "output_delta_bounds",
    "policy",
    "pre_activation_scales",
    "tolerance",
    "tolerances",
    "trajectory_drift",
    "trajectory_tolerances",
    "updated_tolerances",
    "wide_loss_tolerance",
]

Rows = Sequence[Sequence[float]]


# -- the policy ---------------------------------------------------------------------------


class Policy(NamedTuple):
    """A tolerance policy: an entry passes within atol + rtol·S + κ·U (or ``ulps``)."""

    name: str
    rtol: float    # relative to each entry's scale S
    atol: float    # absolute floor (for values that underflow)
    ulps: Optional[int]  # also pass within this many units in the last place
    eps: float     # the machine epsilon of the arithmetic being checked
    kappa: float   # safety factor on the uncertainty U


POLICIES: Dict[str, Policy] = {
    # rtol 1e-10: a thousand times the worst rounding of the curated suite's
    # longest sums (64 terms, 7 layers: ~1e-13·S), ten thousand times below 1e-6.
    # atol 1e-320: only keeps entries below the normal range (tiny-values) from
    # failing on underflow. κ 4: room for four times each stated uncertainty.
    "float64": Policy("float64", rtol=1e-10, atol=1e-320, ulps=None, eps=2.0 ** -52, kappa=4.0),
    # float32 arithmetic: eps 1.2e-7, so the same reasoning gives 2e-4; atol
    # lets values below float32's range (1e-300) come back as 0.
    "float32": Policy("float32", rtol=2e-4, atol=1e-37, ulps=None, eps=2.0 ** -23, kappa=4.0),
}


def _checked_bound(name: str, value: Optional[float]) -> Optional[float]:
    """Return value (None: not given), after checking it is a finite number ≥ 0."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
        raise TypeError(f"policy: {name} must be a number or None, got {describe(value)}")
    if value is None:
        return None
    try:
        number = float(value)
    except OverflowError:  # an int past the float range (10**400)
        number = math.inf
    if not (math.isfinite(number) and number >= 0):
        raise ValueError(f"policy: {name} must be a finite number ≥ 0, got {describe(value)}")
    return number


def _checked_ulps(ulps: Optional[int]) -> Optional[int]:
    """Return ulps (None: not given), after checking it is an int ≥ 0."""
    if ulps is not None and (isinstance(ulps, bool) or not isinstance(ulps, int) or ulps < 0):
        raise ValueError(f"policy: ulps must be an int ≥ 0, got {ulps!r}")
    return ulps


def checked_policy(op: str, pol: Any) -> Policy:
    """Return pol (None: the float64 preset), after checking it is a usable Policy."""
    if pol is None:
        return POLICIES["float64"]
    if not isinstance(pol, Policy):
        raise TypeError(f"{op}: pol must be a Policy (purebp.oracle.policy(...) or"
                        f" POLICIES[name]) or None, got {describe(pol)}")
    for field in ("rtol", "atol", "eps", "kappa"):
        value = getattr(pol, field)
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{op}: pol.{field} must be a finite number ≥ 0, got"
                             f" {describe(value)}")
    if pol.ulps is not None and (isinstance(pol.ulps, bool) or not isinstance(pol.ulps, int)
                                 or pol.ulps < 0):
        raise ValueError(f"{op}: pol.ulps must be None or an int ≥ 0, got"
                         f" {describe(pol.ulps)}")
    if not isinstance(pol.name, str):
        raise TypeError(f"{op}: pol.name must be a str, got {describe(pol.name)}")
    return pol


def policy(preset: str = "float64", rtol: Optional[float] = None, atol: Optional[float] = None,
           ulps: Optional[int] = None) -> Policy:
    """Return the preset policy with the given values replaced.

    >>> policy("float32", rtol=1e-3).rtol
    0.001
    """
    if not isinstance(preset, str):
        raise TypeError(f"policy: preset must be a preset's name (a str), got {describe(preset)}")
    if preset not in POLICIES:
        raise ValueError(f"policy: unknown preset {preset!r}; expected one of"
                         f" {', '.join(repr(name) for name in POLICIES)}")
    base = POLICIES[preset]
    rtol, atol, ulps = _checked_bound("rtol", rtol), _checked_bound("atol", atol), _checked_ulps(ulps)
    return base._replace(rtol=base.rtol if rtol is None else rtol,
                         atol=base.atol if atol is None else atol,
                         ulps=base.ulps if ulps is None else ulps)


def tolerance(pol: Optional[Policy], scale: float, uncertainty: float = 0.0) -> float:
    """Return atol + rtol·S + κ·U, the allowed |actual − expected| of one entry.

    ``pol`` None is the float64 preset, as for every function of the oracle.

    >>> tolerance(POLICIES["float64"], 1.0) == 1e-320 + 1e-10
    True
    """
    pol = checked_policy("tolerance", pol)
    for name, value in (("scale", scale), ("uncertainty", uncertainty)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"tolerance: {name} must be a float, got {describe(value)}")
        if not value >= 0:
            raise ValueError(f"tolerance: {name} must be ≥ 0, got {describe(value)}")
    return _tolerance(pol, float(scale), float(uncertainty))


def _tolerance(pol: Policy, scale: float, uncertainty: float = 0.0) -> float:
    """tolerance, for checked arguments (called once per entry)."""
    return pol.atol + pol.rtol * scale + pol.kappa * uncertainty


# -- the constants: each one's reason ---------------------------------------------------

#: max |f′| of each activation, which carries z's error scale into a's: σ′ = σ·(1 − σ)
#: peaks at 1/4 (z = 0); tanh′ = 1 − t², relu′, leaky_relu′ and identity′ at 1.
_LIPSCHITZ = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0, "leaky_relu": 1.0, "identity": 1.0}
#: max |f″| of the smooth activations, rounded up: σ″ = σ(1 − σ)(1 − 2σ) peaks at
#: 1/(6√3) = 0.096225 (σ = (3 ± √3)/6); tanh″ = −2t(1 − t²) at 4/(3√3) = 0.769800 (t = 1/√3).
_CURVATURE = {"sigmoid": 0.0963, "tanh": 0.770}
#: s·(1 − s) or 1 − t² from an output off by up to 3 roundings (3·eps/2 relative):
#: 1 − t² moves by 2t²·3·eps/2 ≤ 3·eps, its two roundings add ≤ eps, so ≤ 4·eps (and
#: s·(1 − s) less). purebp's own sigmoid and tanh: 0.75·eps and 1.47·eps at most
#: (200,000 random z; tests/test_oracle_tolerance_policy.py moves their outputs by eps too).
_ROUNDED_OUTPUT_SLACK = 4.0
#: The jump of the derivative at the kink: relu′ is 0 or 1, leaky_relu′ 0.01 or 1.
_KINK_JUMP = {"relu": 1.0, "leaky_relu": 0.99}
#: The output layer's kink test is |z| ≤ 4·eps·S_z: the presets' κ, written out
#: (this layer does not read pol.kappa, unlike the hidden layers' test).
_OUTPUT_KINK_KAPPA = 4
#: Below z = −700, σ(z) < 1e-304 counts as 0 in a scale (e^−z overflows past 709.78).
_SIGMOID_ZERO_BELOW = -700
#: |ds_k| = s_k·|dz_k − Σ_j s_j·dz_j| ≤ 2·s_k·(1 − s_k)·max|dz|, since Σ_{j≠k} s_j = 1 − s_k.
_SOFTMAX_SPREAD = 2.0
#: The rounding allowance of trajectory step s is (1 + 10·s) times that step's loss
#: scale: a margin for the rounding each earlier step adds and carries on (purebp and
#: the numpy example, curated suite and 200 random cases: within 0.6·eps·(S + |loss_s|)).
_TRAJECTORY_GROWTH = 10
#: After s steps a parameter may be off by s steps' allowances, each moving the loss
#: by up to the drift; 2 is a margin for the gradient changing along the way (the drift
#: is estimated from the first step's gradient only).
_DRIFT_MARGIN = 2


# -- small helpers ------------------------------------------------------------------------


def _zeros(rows: int, columns: int) -> Matrix:
    return [[0.0] * columns for _ in range(rows)]


def _transpose(A: Rows) -> Matrix:
    return [list(column) for column in zip(*A)]


def _fsum(terms: Iterable[float]) -> float:
    """Return the exact sum of non-negative terms (fsum), or inf where it overflows.

    A scale or uncertainty beyond the float range is inf, never an error: the
    checker reports the entries it bounds as not checkable (purebp/docs/vectors.md).
    """
    try:
        return math.fsum(terms)
    except OverflowError:  # "intermediate overflow": the sum exceeds the float range
        return math.inf


def _abs_matmul(A: Rows, B: Rows) -> Matrix:
    """Return |A|·|B|: entry [i][j] is Σ_m |A[i][m]|·|B[m][j]|, summed exactly (fsum)."""
    columns = list(zip(*B))
    return [[_fsum(abs(a) * abs(b) for a, b in zip(row, column)) for column in columns]
            for row in A]


def _matrix_of(pol: Policy, S: Rows, U: Optional[Rows] = None) -> Matrix:
    """Return the tolerance of every entry of a matrix from its S (and U)."""
    if U is None:
        return [[_tolerance(pol, s) for s in row] for row in S]
    return [[_tolerance(pol, s, u) for s, u in zip(rs, ru)] for rs, ru in zip(S, U)]


class Bounds(NamedTuple):
    """The scale S and uncertainty U of every entry of one matrix."""

    scale: Matrix
    uncertainty: Matrix


# -- forward: pre_activations and activations ------------------------------------------


def pre_activation_scales(a: Rows, a_scales: Rows, weights: Rows, bias: Rows) -> Matrix:
    """Return S of z = a·weights + bias: Σ_i (|a_i| + S_a_i)·|w_ij| + |b_j|.

    Each term a_i·w_ij counts with its size and with a_i's own error scale.

    >>> pre_activation_scales([[1.0, -2.0]], [[0.0, 0.0]], [[3.0], [0.5]], [[-1.0]])
    [[5.0]]
    """
    sizes = [[abs(v) + e for v, e in zip(ra, re)] for ra, re in zip(a, a_scales)]
    return [[s + abs(b) for s, b in zip(row, bias[0])] for row in _abs_matmul(sizes, weights)]


def activation_scales(name: str, z_scales: Rows, a: Rows) -> Matrix:
    """Return S of a = f(z): z's error scale through max |f′|, plus a's own rounding |a|.

    softmax, row by row: |a_k|·(1 + 2·(1 − a_k)·max_j S_z_j).

    >>> activation_scales("sigmoid", [[4.0]], [[0.5]])
    [[1.5]]
    """
    if name == "softmax":
        return [[abs(v) * (1.0 + _SOFTMAX_SPREAD * (1.0 - v) * max(ez)) for v in ra]
                for ra, ez in zip(a, z_scales)]
    lipschitz = _LIPSCHITZ[name]
    return [[lipschitz * ez + abs(v) for ez, v in zip(rz, ra)] for rz, ra in zip(z_scales, a)]


def forward_scales(network: Mapping[str, Any], weights: Sequence[Rows], biases: Sequence[Rows],
                   activations: Sequence[Rows]) -> Tuple[List[Matrix], List[Matrix]]:
    """Return (S of z[l] for every layer, S of a[l] for every layer, a[0] = the inputs).

    ``activations`` are the float forward pass's, inputs first; the inputs are
    exact, so their scale is 0.
    """
    L = len(weights)
    a_scales = [_zeros(len(activations[0]), len(activations[0][0]))]
    z_scales = []
    for l in range(L):
        name = network["output_activation"] if l == L - 1 else network["activation"]
        z_scales.append(pre_activation_scales(activations[l], a_scales[l], weights[l], biases[l]))
        a_scales.append(activation_scales(name, z_scales[l], activations[l + 1]))
    return z_scales, a_scales


# -- the loss -----------------------------------------------------------------------------


#: How a scale's terms are added: _fsum for floats; _decimal_sum (wide_loss_tolerance)
#: runs the same formulas in Decimal, beyond the float range.
Add = Callable[[Iterable[Any]], Any]


def _squared_error_scale(loss: str, y: Rows, a: Rows, a_scales: Rows, add: Add) -> float:
    # a term (a − y)² has scale |a − y|·(|a| + |y|) (a − y is made of |a| + |y|) and
    # moves by 2·|a − y|·S_a with a; then ½Σ or (1/nk)Σ
    terms = add(abs(v - t) * (abs(v) + abs(t) + 2 * e)
                for ra, rt, re in zip(a, y, a_scales) for v, t, e in zip(ra, rt, re))
    return cast(float, terms / (2 if loss == "half_sse" else len(y) * len(y[0])))


def _bce_scale(y: Rows, z: Rows, z_scales: Rows, add: Add) -> float:
    # a term log(1 + e^z) − y·z is at most |z| + log 2 in size (1 covers log 2) and
    # moves by |σ(z) − y|·S_z ≤ S_z with z; then (1/nk)Σ
    return cast(float, add(abs(v) + e + 1 for rz, re in zip(z, z_scales)
                           for v, e in zip(rz, re)) / (len(y) * len(y[0])))


def _cross_entropy_scale(y: Rows, z: Rows, z_scales: Rows, add: Add) -> float:
    # a row's terms y_k·(max z + log Σ_j e^(z_j − max z) − z_k): 2·max|z|, 1 for the log
    # term (between 0 and log k), and 2·max S_z as log Σ_j e^z_j and z_k each move by at
    # most max S_z; then (1/n)Σ
    return cast(float, add(add(abs(t) for t in rt) * (2 * max(abs(v) for v in rz)
                                                      + 2 * max(re) + 1)
                           for rt, rz, re in zip(y, z, z_scales)) / len(y))


def loss_scale(loss: str, y: Rows, z: Rows, a: Rows, z_scales: Rows, a_scales: Rows,
               add: Add = _fsum) -> float:
    """Return S of the loss: its terms' sizes, with the outputs' own error scales.

    ``z``, ``a`` are the last layer's pre-activations and activations; ``add``
    sums the terms (the formulas hold ints and the inputs' own numbers only, so
    Decimal inputs with a Decimal sum give S beyond the float range).

    >>> loss_scale("half_sse", [[0.25]], [[1.0]], [[1.0]], [[5.0]], [[6.0]])
    4.96875
    """
    if loss in ("half_sse", "mse"):
        return _squared_error_scale(loss, y, a, a_scales, add)
    if loss == "bce":
        return _bce_scale(y, z, z_scales, add)
    return _cross_entropy_scale(y, z, z_scales, add)


def _decimal_sum(terms: Iterable[Decimal]) -> Decimal:
    return sum(terms, Decimal(0))


def wide_loss_tolerance(case: Mapping[str, Any], pol: Policy) -> Optional[Decimal]:
    """Return the loss's tolerance atol + rtol·S in Decimal, for an S beyond the float range.

    The same loss_scale, from the same float pass, in 50-digit decimals with
    Decimal's widest exponents (the loss has no U). None where that pass's own
    values are not finite: then nothing bounds S.
    """
    network = case["network"]
    zs, acts, _ = _float_pass(case)
    z_scales, a_scales = forward_scales(network, case["parameters"]["weights"],
                                        case["parameters"]["biases"], acts)
    inputs = [case["targets"], zs[-1], acts[-1], z_scales[-1], a_scales[-1]]
    if not all(math.isfinite(v) for m in inputs for row in m for v in row):
        return None
    with localcontext() as ctx:
        ctx.prec, ctx.Emax, ctx.Emin = 50, MAX_EMAX, MIN_EMIN
        y, z, a, sz, sa = [cast(Rows, [[Decimal(v) for v in row] for row in m]) for m in inputs]
        scale = Decimal(loss_scale(network["loss"], y, z, a, sz, sa, _decimal_sum))
        return Decimal(pol.atol) + Decimal(pol.rtol) * scale


# -- backward: the deltas ----------------------------------------------------------------


def derivative_bound(name: str, z: float, a: float, dz: float, eps: float) -> Tuple[float, float]:
    """Return (|f′(z)|, how far a correct f′ may be from it) for one unit with a = f(z).

    ``dz`` is how far z itself may be off. At a relu or leaky_relu kink
    (|z| ≤ dz) either slope is correct; a sigmoid or tanh derivative may be
    computed from the rounded output, and moves by max |f″|·dz with z.

    >>> derivative_bound("relu", 0.0, 0.0, 1e-16, 2.0 ** -52)
    (0.0, 1.0)
    """
    if name in _KINK_JUMP:
        slope = 1.0 if z > 0 else 1.0 - _KINK_JUMP[name]
        return slope, (_KINK_JUMP[name] if abs(z) <= dz else 0.0)
    if name == "identity":
        return 1.0, 0.0
    slope = a * (1.0 - a) if name == "sigmoid" else 1.0 - a * a
    return abs(slope), _ROUNDED_OUTPUT_SLACK * eps + _CURVATURE[name] * dz


def _cross_entropy_delta(y: Rows, s: Rows, z_scales: Rows, eps: float) -> Bounds:
    # δ = (Σ_j y_j·s_k − y_k)/n; s moves by ≤ 2·s_k·(1 − s_k)·max dz (_SOFTMAX_SPREAD)
    n = len(y)
    S, U = [], []
    for rt, rs, rez in zip(y, s, z_scales):
        mass = _fsum(abs(t) for t in rt)
        spread = _SOFTMAX_SPREAD * max(rez) * eps
        S.append([(mass * v + abs(t)) / n for t, v in zip(rt, rs)])
        U.append([mass * v * (1.0 - v) * spread / n for v in rs])
    return Bounds(S, U)


def _bce_delta(y: Rows, z: Rows, z_scales: Rows, eps: float) -> Bounds:
    # δ = (σ(z) − y)/(n·k); σ moves by σ′(z)·dz with z and rounds by up to eps (σ ≤ 1)
    count = len(y) * len(y[0])
    S, U = [], []
    for rt, rz, rez in zip(y, z, z_scales):
        row_s, row_u = [], []
        for t, v, ez in zip(rt, rz, rez):
            sig = 1.0 / (1.0 + math.exp(-v)) if v > _SIGMOID_ZERO_BELOW else 0.0
            row_s.append((sig + abs(t)) / count)
            row_u.append((sig * (1.0 - sig) * ez * eps + eps) / count)
        S.append(row_s)
        U.append(row_u)
    return Bounds(S, U)


def _squared_error_delta(loss: str, name: str, y: Rows, z: Rows, a: Rows, z_scales: Rows,
                         a_scales: Rows, eps: float) -> Bounds:
    # δ = factor·(a − y)·f′(z): 1 for half_sse, 2/(n·k) for mse; a is off by S_a·eps,
    # f′ by its own uncertainty u
    factor = 1.0 if loss == "half_sse" else 2.0 / (len(y) * len(y[0]))
    S, U = [], []
    for rt, rz, ra, rez, rea in zip(y, z, a, z_scales, a_scales):
        row_s, row_u = [], []
        for t, zz, aa, ez, ea in zip(rt, rz, ra, rez, rea):
            slope, u = derivative_bound(name, zz, aa, _OUTPUT_KINK_KAPPA * eps * ez, eps)
            diff = abs(aa) + abs(t)
            row_s.append(factor * diff * slope)
            row_u.append(factor * (ea * eps * (slope + u) + diff * u))
        S.append(row_s)
        U.append(row_u)
    return Bounds(S, U)


def output_delta_bounds(network: Mapping[str, Any], y: Rows, z: Rows, a: Rows, z_scales: Rows,
                        a_scales: Rows, eps: float) -> Bounds:
    """Return S and U of the output delta δ = ∂loss/∂z of the last layer.

    ``z``, ``a`` are the last layer's pre-activations and activations.

    >>> output_delta_bounds({"loss": "half_sse", "output_activation": "identity"},
    ...                     [[0.25]], [[1.0]], [[1.0]], [[5.0]], [[6.0]], 0.5)
    Bounds(scale=[[1.25]], uncertainty=[[3.0]])
    """
    loss = network["loss"]
    if loss == "cross_entropy":
        return _cross_entropy_delta(y, a, z_scales, eps)
    if loss == "bce":
        return _bce_delta(y, z, z_scales, eps)
    return _squared_error_delta(loss, network["output_activation"], y, z, a, z_scales,
                                a_scales, eps)


def hidden_delta_bounds(name: str, delta: Bounds, weights: Rows, z: Rows, a: Rows,
                        z_scales: Rows, eps: float, kappa: float) -> Bounds:
    """Return S and U of δ[l−1] = (δ[l]·weights[l]ᵀ) ⊙ f′(z[l−1]) from δ[l]'s.

    ``weights`` is weights[l]; ``z``, ``a``, ``z_scales`` are layer l−1's. A
    unit is at its kink when |z| ≤ κ·eps·S_z.
    """
    weights_t = _transpose(weights)
    back = _abs_matmul(delta.scale, weights_t)
    back_u = _abs_matmul(delta.uncertainty, weights_t)
    S, U = [], []
    for rb, rbu, rz, ra, rez in zip(back, back_u, z, a, z_scales):
        row_s, row_u = [], []
        for b, bu, zz, aa, ez in zip(rb, rbu, rz, ra, rez):
            slope, u = derivative_bound(name, zz, aa, kappa * eps * ez, eps)
            row_s.append(b * slope)
            row_u.append(bu * (slope + u) + b * u)
        S.append(row_s)
        U.append(row_u)
    return Bounds(S, U)


# -- gradients ---------------------------------------------------------------------------


def gradient_bounds(a: Rows, a_scales: Rows, delta: Bounds, eps: float) -> Tuple[Bounds, Bounds]:
    """Return (S and U of gradients.weights[l], of gradients.biases[l]) from a[l] and δ[l].

    ∂loss/∂weights[l] = a[l]ᵀ·δ[l]: S = Σ_n |a_ni|·S_δ_nj, U = Σ_n |a_ni|·U_δ_nj
    + eps·Σ_n S_a_ni·S_δ_nj; ∂loss/∂biases[l] = Σ_n δ[l]_n: the column sums of S and U.
    """
    a_t = _transpose(a)
    weight_s = _abs_matmul(a_t, delta.scale)
    weight_u = [[u + eps * v for u, v in zip(r1, r2)] for r1, r2 in
                zip(_abs_matmul(a_t, delta.uncertainty), _abs_matmul(_transpose(a_scales), delta.scale))]
    bias_s = [[_fsum(column) for column in zip(*delta.scale)]]
    bias_u = [[_fsum(column) for column in zip(*delta.uncertainty)]]
    return Bounds(weight_s, weight_u), Bounds(bias_s, bias_u)


def backward_bounds(network: Mapping[str, Any], weights: Sequence[Rows], y: Rows,
                    zs: Sequence[Rows], activations: Sequence[Rows], z_scales: Sequence[Rows],
                    a_scales: Sequence[Rows], eps: float,
                    kappa: float) -> Tuple[List[Bounds], List[Bounds]]:
    """Return (Bounds of gradients.weights[l], of gradients.biases[l]) for every layer l.

    The deltas' S and U go down the backward recursion from the output delta.
    """
    L = len(weights)
    delta = output_delta_bounds(network, y, zs[-1], activations[-1], z_scales[-1],
                                a_scales[-1], eps)
    weight_bounds: List[Bounds] = []
    bias_bounds: List[Bounds] = []
    for l in range(L - 1, -1, -1):
        weight_l, bias_l = gradient_bounds(activations[l], a_scales[l], delta, eps)
        weight_bounds.insert(0, weight_l)
        bias_bounds.insert(0, bias_l)
        if l > 0:
            delta = hidden_delta_bounds(network["activation"], delta, weights[l], zs[l - 1],
                                        activations[l], z_scales[l - 1], eps, kappa)
    return weight_bounds, bias_bounds


def gradient_tolerances(pol: Policy, bounds: Sequence[Bounds]) -> List[Matrix]:
    """Return the tolerance of every entry of gradients.weights (or .biases): S and U as they are."""
    return [_matrix_of(pol, b.scale, b.uncertainty) for b in bounds]


# -- the updated parameters --------------------------------------------------------------


def updated_tolerances(pol: Policy, parameters: Sequence[Rows], bounds: Sequence[Bounds],
                       learning_rate: float) -> List[Matrix]:
    """Return the tolerance of every entry of updated.weights (or .biases).

    p − learning_rate·g has S = |p| + learning_rate·S_g and U = learning_rate·U_g.
    """
    lr, k = learning_rate, pol.kappa
    return [[[pol.atol + pol.rtol * (abs(p) + lr * g) + k * lr * u
              for p, g, u in zip(rp, rg, ru)] for rp, rg, ru in zip(mp, b.scale, b.uncertainty)]
            for mp, b in zip(parameters, bounds)]


# -- the trajectory ----------------------------------------------------------------------


def trajectory_drift(pol: Policy, gradients: Mapping[str, Sequence[Rows]],
                     weight_bounds: Sequence[Bounds], bias_bounds: Sequence[Bounds],
                     learning_rate: float) -> float:
    """Return how far one step may move the next loss: Σ_θ (|g| + κU_g)·Δθ.

    A parameter off by Δθ = learning_rate·(rtol·S_g + κ·U_g) after a step moves
    the next loss by about |∂loss/∂θ|·Δθ, and ∂loss/∂θ = g (the float
    gradient) is itself known only to within κ·U_g (a kink's other slope).
    """
    lr, k = learning_rate, pol.kappa
    drift = 0.0
    for kind, bounds in (("weights", weight_bounds), ("biases", bias_bounds)):
        for mg, b in zip(gradients[kind], bounds):
            for rg, rs, ru in zip(mg, b.scale, b.uncertainty):
                drift += _fsum((abs(g) + k * u) * lr * (pol.rtol * s + k * u)
                                   for g, s, u in zip(rg, rs, ru))
    return drift


def trajectory_tolerances(pol: Policy, steps: int, trajectory: Sequence[float], scale: float,
                          drift: float) -> List[float]:
    """Return the tolerance of each of the ``steps`` losses of the trajectory.

    Step s: rounding relative to (1 + 10·s)·(S + |loss_s|), S the loss scale
    (the loss is a sum of non-negative terms, so |loss_s| is its own scale),
    plus 2·s·drift.

    >>> trajectory_tolerances(POLICIES["float64"]._replace(rtol=0.25, atol=0.0), 2, [1.0, 0.5],
    ...                       1.0, 0.25)
    [0.5, 4.625]
    """
    return [_tolerance(pol, (1 + _TRAJECTORY_GROWTH * s) * (scale + abs(trajectory[s])))
            + _DRIFT_MARGIN * s * drift for s in range(steps)]


# -- all of a case's tolerances ---------------------------------------------------------


def _float_pass(case: Mapping[str, Any]) -> Tuple[List[Matrix], List[Matrix], Dict[str, List[Matrix]]]:
    """Return (zs, activations, gradients) of purebp's float64 Network on the case.

    The unchecked inner passes: a case is already checked, and its targets
    are taken as the file gives them.
    """
    spec = case["network"]
    net = Network(spec["sizes"], spec["activation"], spec["output_activation"], spec["loss"],
                  seed=0)
    net.weights, net.biases = case["parameters"]["weights"], case["parameters"]["biases"]
    zs, activations = net._forward(case["inputs"])
    return zs, activations, net._backpropagate(case["targets"], zs, activations)


def tolerances(case: Mapping[str, Any], pol: Policy) -> Dict[str, Any]:
    """Return the allowed |actual − expected| for every entry of a case's quantities.

    The result has the layout of ``case["expected"]`` (with "outputs" added):
    nested lists of floats, one per entry, and a float for the loss, under
    the names of purebp.oracle.checker.QUANTITIES ("gradients.weights", ...).
    """
    from purebp.oracle import vectors  # the case's format; vectors does not import this module

    pol = checked_policy("tolerances", pol)
    if not isinstance(case, Mapping) or not isinstance(case.get("network"), Mapping):
        raise TypeError(f"tolerances: case must be a test-vector case (a dict with a network),"
                        f" got {describe(case)}")
    checked = vectors.validate_case(vectors.case_input(case), "tolerances: case")
    given = case.get("expected", {})
    checked["expected"] = given if isinstance(given, Mapping) else {}
    return case_tolerances(checked, pol)


def case_tolerances(case: Mapping[str, Any], pol: Policy) -> Dict[str, Any]:
    """tolerances, for a checked case and policy (purebp.oracle.checker's)."""
    network = case["network"]
    W, B = case["parameters"]["weights"], case["parameters"]["biases"]
    y, lr = case["targets"], case["learning_rate"]
    zs, acts, grads = _float_pass(case)
    z_scales, a_scales = forward_scales(network, W, B, acts)
    result: Dict[str, Any] = {
        "pre_activations": [_matrix_of(pol, S) for S in z_scales],
        "activations": [_matrix_of(pol, S) for S in a_scales[1:]],
    }
    result["outputs"] = result["activations"][-1]
    scale = loss_scale(network["loss"], y, zs[-1], acts[-1], z_scales[-1], a_scales[-1])
    result["loss"] = _tolerance(pol, scale)
    weight_bounds, bias_bounds = backward_bounds(network, W, y, zs, acts, z_scales, a_scales,
                                                 pol.eps, pol.kappa)
    result["gradients.weights"] = gradient_tolerances(pol, weight_bounds)
    result["gradients.biases"] = gradient_tolerances(pol, bias_bounds)
    result["updated.weights"] = updated_tolerances(pol, W, weight_bounds, lr)
    result["updated.biases"] = updated_tolerances(pol, B, bias_bounds, lr)
    steps = case.get("steps", 0)
    trajectory = case.get("expected", {}).get("trajectory") or [0.0] * steps
    drift = trajectory_drift(pol, grads, weight_bounds, bias_bounds, lr)
    result["trajectory"] = trajectory_tolerances(pol, steps, trajectory, scale, drift)
    return result
