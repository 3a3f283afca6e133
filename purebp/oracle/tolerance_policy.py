"""How far from the truth a correct implementation may land: every entry's tolerance.

purebp/docs/vectors.md ("The tolerance policy") derives what is computed here, with
the same names. An entry passes when

    |actual − expected| ≤ atol + rtol·S + κ·U

S, the entry's *rounding scale*, bounds what rounding can do to it: a correct
implementation, adding in any order (blocked, pairwise, fused multiply-add),
computes the entry to within u·S, u being the unit roundoff of the arithmetic
checked (2^-53 for float64), to first order. S is carried through the network
the way the entry is computed: each sum adds its terms' sizes times the
number of roundings a term can pass through, each activation carries its
input's S through its local slope (σ′(z), tanh′(z), the softmax Jacobian) and
adds its own rounding. U, its *uncertainty*, is what a correct implementation
may legitimately compute differently: either slope at a relu kink. The preset
rtol is κ·u, so a correct implementation uses at most 1/κ = 1/16 of a
tolerance. One function per quantity, in the order the passes compute them:

    Policy, POLICIES, policy(...)     the presets: rtol, atol, eps, κ
    tolerance(pol, S, U)              atol + rtol·S + κ·U
    leaf_scales(pol, M)               S of a case's own numbers (0 in float64; float32 rounds them)
    pre_activation_scales(...)        S of z[l] = a[l]·weights[l] + biases[l]
    activation_scales(...)            S of a[l+1] = f(z[l])
    forward_scales(...)               both, for every layer
    loss_scale(...)                   S of the loss
    derivative_bound(...)             f′(z) of one unit, how far a computed f′ may be off, its jump
    output_delta_bounds(...)          S and U of δ = ∂loss/∂z of the last layer
    hidden_delta_bounds(...)          S and U of δ one layer down
    gradient_bounds(...)              S and U of gradients.weights[l] and gradients.biases[l]
    backward_bounds(...)              both, for every layer
    updated_bounds(...)               S and U of updated.weights[l] (or .biases[l])
    trajectory_tolerances(...)        the tolerance of each loss of the trajectory
    case_tolerances(case, pol)        all of them, in the layout of case["expected"]
                                      (purebp.oracle.tolerances checks the case first)
    wide_loss_tolerance(case, pol)    the loss's, in Decimal, where its scale overflows floats

(The module is not called ``tolerances``, so that ``purebp.oracle.tolerances``
stays the function, as it was before this module existed. That function, which
checks the case it is given, is purebp.oracle.checker's: this module reads
cases already checked and does not import their format, which imports it.)

What it does not do: compare numbers (purebp.oracle.checker does), or make
the expected values (purebp.oracle.exact does). The float forward pass and
gradient it starts from are purebp's own (purebp.network); a bound only
needs their sizes, not their last digits.
"""

from __future__ import annotations

import functools
import math
import numbers
from decimal import MAX_EMAX, MIN_EMIN, Decimal, localcontext
from fractions import Fraction
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple, cast

from purebp import optimizers
from purebp._checks import _describe as describe
from purebp._types import Matrix
from purebp.network import Network
from purebp.optimizers import SGD

__all__ = [
    "POLICIES",
    "Arithmetic",
    "Bounds",
    "Policy",
    "activation_scales",
    "arithmetic",
    "backward_bounds",
    "case_tolerances",
    "checked_policy",
    "derivative_bound",
    "forward_scales",
    "gradient_bounds",
    "hidden_delta_bounds",
    "leaf_scales",
    "loss_scale",
    "optimizer_of",
    "optimizer_step_bounds",
    "output_delta_bounds",
    "parameters_layout",
    "policy",
    "pre_activation_scales",
    "run_tolerances",
    "tolerance",
    "trajectory_tolerances",
    "updated_bounds",
    "wide_loss_tolerance",
]

Rows = Sequence[Sequence[float]]


# -- the policy ---------------------------------------------------------------------------


class Policy(NamedTuple):
    """A tolerance policy: an entry passes within atol + rtol·S + κ·U (or ``ulps``)."""

    name: str
    rtol: float    # times each entry's rounding scale S: κ·u in the presets
    atol: float    # absolute floor: the smallest normal number, so flush-to-zero passes
    ulps: Optional[int]  # also pass within this many units in the last place
    eps: float     # the machine epsilon of the arithmetic being checked (u = eps/2)
    kappa: float   # safety factor: a correct implementation uses at most 1/κ of a bound


#: κ of the presets: a correct implementation lands within 1/16 of every tolerance (the
#: issue's target is a tenth), and an error 16 times a bound's worst case fails.
KAPPA = 16.0

POLICIES: Dict[str, Policy] = {
    # u = 2^-53; atol 2^-1022, the smallest normal float64: an entry below it may come
    # back as 0 (flush-to-zero, as JAX on CPU does) or as any subnormal.
    "float64": Policy("float64", rtol=KAPPA * 2.0 ** -53, atol=2.0 ** -1022, ulps=None,
                      eps=2.0 ** -52, kappa=KAPPA),
    # u = 2^-24; atol 2^-126, the smallest normal float32. The case's own numbers are
    # rounded to float32 first (leaf_scales).
    "float32": Policy("float32", rtol=KAPPA * 2.0 ** -24, atol=2.0 ** -126, ulps=None,
                      eps=2.0 ** -23, kappa=KAPPA),
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

    >>> tolerance(POLICIES["float64"], 1.0) == 2.0 ** -1022 + 16 * 2.0 ** -53
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


# -- the arithmetic checked ---------------------------------------------------------------


class Arithmetic(NamedTuple):
    """The float format a policy checks: its unit roundoff and its range."""

    u: float         # unit roundoff, eps/2: one rounding moves a value x by at most u·|x|
    narrow: bool     # narrower than float64: the case's own float64 numbers are rounded too
    tiny: float      # the smallest normal number; below it a value may vanish (flush to zero)
    largest: float   # the largest finite number; beyond it a value overflows


FLOAT32_MAX = 3.4028234663852886e38


def arithmetic(pol: Policy) -> Arithmetic:
    """Return the format a policy's eps names: float32 for 2^-23, float64 otherwise.

    >>> arithmetic(POLICIES["float32"]).u == 2.0 ** -24
    True
    """
    if pol.eps == 2.0 ** -23:
        return Arithmetic(2.0 ** -24, True, 2.0 ** -126, FLOAT32_MAX)
    return Arithmetic(pol.eps / 2, pol.eps > 2.0 ** -52, 2.0 ** -1022, 1.7976931348623157e308)


# -- the constants: each one's reason ---------------------------------------------------

#: Each activation's own rounding, in units of u relative to |f(z)|: relu is exact; leaky_relu
#: rounds 0.01·z once and 0.01 is itself within u/2 of a float (2); σ = 1/(1 + e^−z) rounds
#: e^−z (up to one unit in the last place, 2, as C libraries' exp), the sum and the quotient,
#: each moving σ by at most that relative amount (4); tanh as the C library's, within 2 ulps (4).
_OWN_ROUNDING = {"identity": 0.0, "relu": 0.0, "leaky_relu": 2.0, "sigmoid": 4.0, "tanh": 4.0}
#: The jump of the derivative at the kink: relu′ is 0 or 1, leaky_relu′ 0.01 or 1.
_KINK_JUMP = {"relu": 1.0, "leaky_relu": 0.99}
#: PyTorch's slope at the kink (z = 0), which the expected values take.
_KINK_SLOPE = {"relu": 0.0, "leaky_relu": 0.01}
#: A unit is at its kink when |z| ≤ 2·u·S_z: the float z and another implementation's are
#: each within u·S_z of the truth, so their signs may differ only there.
_KINK_REACH = 2.0
#: e^x of a C library: within one unit in the last place, 2·u relative.
_EXP_ROUNDING = 2.0
#: A trajectory's loss is checked while its tolerance stays within this fraction of the
#: loss: beyond it, a run is too chaotic (its rounding amplified too much) for a useful check.
USEFUL_TRAJECTORY = 1e-3
#: ... and while the loss stays within this multiple of its start: a run whose loss has
#: doubled diverges, its units saturate one after another and rounding moves it by jumps,
#: which a sensitivity measured with tiny perturbations does not bound (a run 40 times
#: too fast rose from 0.54 to 7.5e19 in 7 steps, where correct float64 code was 14% off).
DIVERGED = 2.0


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
    except (OverflowError, ValueError):  # the sum exceeds the float range, or inf − inf
        return math.inf


def _abs_matmul(A: Rows, B: Rows) -> Matrix:
    """Return |A|·|B|: entry [i][j] is Σ_m |A[i][m]|·|B[m][j]|, summed exactly (fsum)."""
    columns = list(zip(*B))
    return [[_fsum(abs(a) * abs(b) for a, b in zip(row, column)) for column in columns]
            for row in A]


def _add(*matrices: Rows) -> Matrix:
    """Return the entry-wise sum of matrices of one shape."""
    return [[_fsum(values) for values in zip(*rows)] for rows in zip(*matrices)]


def _scaled(c: float, A: Rows) -> Matrix:
    return [[c * v for v in row] for row in A]


def _matrix_of(pol: Policy, S: Rows, U: Optional[Rows] = None) -> Matrix:
    """Return the tolerance of every entry of a matrix from its S (and U)."""
    if U is None:
        return [[_tolerance(pol, s) for s in row] for row in S]
    return [[_tolerance(pol, s, u) for s, u in zip(rs, ru)] for rs, ru in zip(S, U)]


class Bounds(NamedTuple):
    """The rounding scale S and the uncertainty U of every entry of one matrix."""

    scale: Matrix
    uncertainty: Matrix


# -- the case's own numbers ----------------------------------------------------------------


def leaf_scale(ar: Arithmetic, x: float) -> float:
    """Return S of one of the case's numbers as the arithmetic reads it.

    float64 reads the file's numbers as they are (0). A narrower format rounds
    each once (|x|), may flush one below its normal range to 0 (an error of
    |x| = u·(|x|/u)), and overflows one beyond its range (inf: not checkable).

    >>> leaf_scale(arithmetic(POLICIES["float32"]), 1e-100) == 1e-100 / 2.0 ** -24
    True
    """
    if not ar.narrow:
        return 0.0
    size = abs(x)
    if size > ar.largest:
        return math.inf
    return size / ar.u if size < ar.tiny else size


def leaf_scales(pol: Policy, M: Rows) -> Matrix:
    """Return leaf_scale of every entry of a matrix of the case's numbers."""
    ar = arithmetic(pol)
    return [[leaf_scale(ar, v) for v in row] for row in M]


# -- forward: pre_activations and activations ------------------------------------------


def pre_activation_scales(a: Rows, a_scales: Rows, weights: Rows, w_scales: Rows, bias: Rows,
                          b_scales: Rows) -> Matrix:
    """Return S of z = a·weights + bias, entry [i][j] of n × k.

    Σ_m a_im·w_mj + b_j has m + 1 terms; each product is rounded once and,
    in any order of the sum, passes through at most m additions, so rounding
    adds (m + 1)·(Σ_m |a_im·w_mj| + |b_j|). The inputs' own errors add
    Σ_m (S_a_im·|w_mj| + |a_im|·S_w_mj) + S_b_j.

    >>> pre_activation_scales([[1.0, -2.0]], [[0.0, 0.0]], [[3.0], [0.5]], [[0.0], [0.0]],
    ...                       [[-1.0]], [[0.0]])
    [[15.0]]
    """
    m = len(weights)
    terms = _abs_matmul(a, weights)
    carried = _add(_abs_matmul(a_scales, weights), _abs_matmul(a, w_scales))
    return [[(m + 1) * (t + abs(b)) + c + sb for t, c, b, sb in zip(rt, rc, bias[0], b_scales[0])]
            for rt, rc in zip(terms, carried)]


def _at_kink(z: float, z_scale: float, u: float) -> bool:
    return abs(z) <= _KINK_REACH * u * z_scale


def _sigmoid_slope(z: float) -> float:
    """σ′(z) = e^−|z|/(1 + e^−|z|)², without cancellation for large |z|."""
    e = math.exp(-abs(z))
    return e / (1.0 + e) ** 2


def _tanh_slope(z: float) -> float:
    """tanh′(z) = 4·e^−2|z|/(1 + e^−2|z|)², without cancellation for large |z|."""
    e = math.exp(-2.0 * abs(z)) if abs(z) < 400 else 0.0
    return 4.0 * e / (1.0 + e) ** 2


def _slope(name: str, z: float) -> float:
    """Return |f′(z)| at the unit (PyTorch's slope at a kink)."""
    if name in _KINK_JUMP:
        return 1.0 if z > 0 else _KINK_SLOPE[name]
    if name == "sigmoid":
        return _sigmoid_slope(z)
    if name == "tanh":
        return _tanh_slope(z)
    return 1.0


def activation_scales(name: str, z: Rows, z_scales: Rows, a: Rows, u: float) -> Matrix:
    """Return S of a = f(z): z's S through the local slope, plus f's own rounding.

    Elementwise: |f′(z)|·S_z + c_f·|a| (c_f: _OWN_ROUNDING), with slope 1 at a
    kink. softmax, row by row, s_k = e^(z_k − m)/Σ_j e^(z_j − m), m = max z:
    z's errors through the Jacobian, s_k·((1 − s_k)·S_z_k + Σ_{j≠k} s_j·S_z_j),
    plus the rounding of z_k − m, exp, the sum and the quotient,
    s_k·(|z_k − m| + 2 + Σ_j s_j·(|z_j − m| + 2) + K) for K outputs.

    >>> activation_scales("relu", [[-1.0, 2.0]], [[4.0, 4.0]], [[0.0, 2.0]], 2.0 ** -53)
    [[0.0, 4.0]]
    """
    if name == "softmax":
        result = []
        for rz, rs, ra in zip(z, z_scales, a):
            top, k = max(rz), len(rz)
            spread = _fsum(s * (abs(v - top) + _EXP_ROUNDING) for v, s in zip(rz, ra))
            carried = _fsum(s * e for s, e in zip(ra, rs))
            result.append([s * ((1.0 - s) * e + (carried - s * e) + abs(v - top) + _EXP_ROUNDING
                                + spread + k) for v, e, s in zip(rz, rs, ra)])
        return result
    own = _OWN_ROUNDING[name]
    return [[(1.0 if name in _KINK_JUMP and _at_kink(v, e, u) else _slope(name, v)) * e
             + own * abs(s) for v, e, s in zip(rz, re, ra)] for rz, re, ra in zip(z, z_scales, a)]


def forward_scales(network: Mapping[str, Any], weights: Sequence[Rows], biases: Sequence[Rows],
                   zs: Sequence[Rows], activations: Sequence[Rows],
                   pol: Policy) -> Tuple[List[Matrix], List[Matrix]]:
    """Return (S of z[l] for every layer, S of a[l] for every layer, a[0] = the inputs).

    ``zs`` and ``activations`` are the float forward pass's, inputs first; the
    inputs' S is their leaf_scales (0 in float64).
    """
    L = len(weights)
    u = arithmetic(pol).u
    a_scales = [leaf_scales(pol, activations[0])]
    z_scales = []
    for l in range(L):
        name = network["output_activation"] if l == L - 1 else network["activation"]
        z_scales.append(pre_activation_scales(activations[l], a_scales[l], weights[l],
                                              leaf_scales(pol, weights[l]), biases[l],
                                              leaf_scales(pol, biases[l])))
        a_scales.append(activation_scales(name, zs[l], z_scales[l], activations[l + 1], u))
    return z_scales, a_scales


# -- the loss -----------------------------------------------------------------------------


#: How a scale's terms are added: _fsum for floats; _decimal_sum (wide_loss_tolerance)
#: runs the same formulas in Decimal, beyond the float range.
Add = Callable[[Iterable[Any]], Any]


def _squared_error_scale(loss: str, y: Rows, y_scales: Rows, a: Rows, a_scales: Rows,
                         add: Add) -> Any:
    # d = a − y: S_d = S_a + S_y + |d|; t = d²: S_t = 2·|d|·S_d + t; the N = nk terms'
    # sum passes each through at most N − 1 additions (N covers mse's division per term
    # too); then ½ (exact), or 1/N and its rounding (+ the loss)
    count = len(y) * len(y[0])
    diffs = [(v - t, e + f) for ra, rt, re, rf in zip(a, y, a_scales, y_scales)
             for v, t, e, f in zip(ra, rt, re, rf)]
    squares = add(d * d for d, _ in diffs)
    carried = add(2 * abs(d) * (e + abs(d)) + d * d for d, e in diffs)
    total = carried + count * squares
    return total / 2 if loss == "half_sse" else total / count + squares / count


def _bce_scale(y: Rows, y_scales: Rows, z: Rows, z_scales: Rows, s: Rows, add: Add) -> Any:
    # ℓ = max(z, 0) − z·y + log(1 + e^−|z|) ≤ |max(z, 0) − z·y| + 1 (log 2 < 1) =: ℓ_b;
    # its rounding: z·y and the difference (2·(|z| + |z·y|)), exp and log1p (4, their
    # values below 1), the sum (ℓ_b); z's and y's errors through ∂ℓ/∂z = σ(z) − y and
    # ∂ℓ/∂y = −z; the N = nk terms' sum (N − 1) and the division by N (1)
    count = len(y) * len(y[0])
    entries = [(v, t, e, f, g) for rz, rt, re, rf, rg in zip(z, y, z_scales, y_scales, s)
               for v, t, e, f, g in zip(rz, rt, re, rf, rg)]
    bounds = add(abs(max(v, 0 * v) - v * t) + 1 for v, t, _, _, _ in entries)
    own = add(2 * (abs(v) + abs(v * t)) + 4 + abs(g - t) * e + abs(v) * f
              for v, t, e, f, g in entries)
    return (own + count * bounds) / count


def _cross_entropy_scale(y: Rows, y_scales: Rows, z: Rows, z_scales: Rows, s: Rows,
                         add: Add) -> Any:
    # a row: Σ_k y_k·(lse − z_k), lse = m + log Σ_j e^(z_j − m), m = max z, K outputs.
    # |lse| ≤ |m| + K (log K < K); lse's rounding: the sum's relative error
    # Σ_j s_j·(|z_j − m| + 2) + K (as softmax's) passes through log unchanged, log's own
    # (2·K) and m + log (|m| + K); G_k = |m − z_k| + K ≥ |lse − z_k|; each term
    # |y_k|·(S_lse + 2·G_k) (difference and product), the row's sum (K − 1)·Σ|y_k|·G_k;
    # z's errors through ∂/∂z_j = (Σy)·s_j − y_j, y's through lse − z_k; then the rows'
    # sum and the division by n
    n = len(y)
    rows = []
    for rt, rf, rz, re, rs in zip(y, y_scales, z, z_scales, s):
        top, k = max(rz), len(rz)
        mass = add(rt)
        lse_scale = abs(top) + 4 * k + add(p * (abs(v - top) + 2) for p, v in zip(rs, rz))
        gaps = [abs(top - v) + k for v in rz]
        terms = add(abs(t) * g for t, g in zip(rt, gaps))
        rows.append((add(abs(t) * (lse_scale + 2 * g) for t, g in zip(rt, gaps)) + (k - 1) * terms
                     + add(abs(mass * p - t) * e for p, t, e in zip(rs, rt, re))
                     + add(g * f for g, f in zip(gaps, rf)), terms))
    return (add(r for r, _ in rows) + n * add(t for _, t in rows)) / n


def loss_scale(loss: str, y: Rows, y_scales: Rows, z: Rows, a: Rows, z_scales: Rows,
               a_scales: Rows, add: Add = _fsum) -> float:
    """Return S of the loss, from the last layer's z and a and their S.

    ``add`` sums the terms (the formulas hold the inputs' own numbers and small
    ints only, so Decimal inputs with a Decimal sum give S beyond the float range).

    >>> loss_scale("half_sse", [[0.25]], [[0.0]], [[1.0]], [[1.0]], [[5.0]], [[6.0]])
    5.625
    """
    if loss in ("half_sse", "mse"):
        return cast(float, _squared_error_scale(loss, y, y_scales, a, a_scales, add))
    if loss == "bce":
        return cast(float, _bce_scale(y, y_scales, z, z_scales, a, add))
    return cast(float, _cross_entropy_scale(y, y_scales, z, z_scales, a, add))


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
                                        case["parameters"]["biases"], zs, acts, pol)
    inputs = [case["targets"], leaf_scales(pol, case["targets"]), zs[-1], acts[-1],
              z_scales[-1], a_scales[-1]]
    if not all(math.isfinite(v) for m in inputs for row in m for v in row):
        return None
    with localcontext() as ctx:
        ctx.prec, ctx.Emax, ctx.Emin = 50, MAX_EMAX, MIN_EMIN
        y, sy, z, a, sz, sa = [cast(Rows, [[Decimal(v) for v in row] for row in m])
                               for m in inputs]
        scale = Decimal(loss_scale(network["loss"], y, sy, z, a, sz, sa, _decimal_sum))
        return Decimal(pol.atol) + Decimal(pol.rtol) * scale


# -- backward: the deltas ----------------------------------------------------------------


def derivative_bound(name: str, z: float, a: float, a_scale: float, z_scale: float,
                     u: float, exact_zero: bool = False) -> Tuple[float, float, float]:
    """Return (|f′(z)|, F, J) for one unit with a = f(z).

    F bounds how far a computed f′ may be from the true one, in units of u:
    f′ may be computed from the output (s·(1 − s), 1 − t², the tutorial's
    way), off by |1 − 2s|·S_a + 2·|f′| or 2·|t|·S_a + t² + |1 − t²| (the
    output's own error and two roundings): for a saturated unit that is most
    of its true derivative. J is the derivative's jump where a relu or
    leaky_relu unit is at its kink (|z| ≤ 2·u·S_z), else 0: either slope is correct.
    A unit whose exact z is 0 (``exact_zero``) has J = 0 and the larger slope,
    1, so that S bounds the rounding of either choice: the checker compares
    with the values for each slope there instead (purebp/docs/vectors.md).

    >>> derivative_bound("relu", 0.0, 0.0, 0.0, 6.0, 2.0 ** -53)
    (0.0, 0.0, 1.0)
    >>> derivative_bound("relu", 0.0, 0.0, 0.0, 6.0, 2.0 ** -53, exact_zero=True)
    (1.0, 0.0, 0.0)
    """
    if name in _KINK_JUMP:
        if exact_zero and z == 0:
            return 1.0, 0.0, 0.0
        return _slope(name, z), 0.0, (_KINK_JUMP[name] if _at_kink(z, z_scale, u) else 0.0)
    if name == "identity":
        return 1.0, 0.0, 0.0
    slope = _slope(name, z)
    if name == "sigmoid":
        return slope, abs(1.0 - 2.0 * a) * a_scale + 2.0 * slope, 0.0
    return slope, 2.0 * abs(a) * a_scale + a * a + abs(1.0 - a * a), 0.0


def _cross_entropy_delta(y: Rows, y_scales: Rows, s: Rows, s_scales: Rows) -> Bounds:
    # δ_k = (Σ_j y_j·s_k − y_k)/n: s's errors times Σ|y|, y's (Σ_j S_y_j·s_k + S_y_k),
    # the rounding of Σ_j y_j (K·Σ|y|·s_k with the product), of the difference, of /n (|δ|)
    n = len(y)
    S, U = [], []
    for rt, rf, rs, re in zip(y, y_scales, s, s_scales):
        mass, k = _fsum(abs(t) for t in rt), len(rt)
        carried = _fsum(rf)
        row = []
        for t, f, v, e in zip(rt, rf, rs, re):
            delta = abs(mass * v - t) / n
            row.append((mass * e + v * (carried + k * mass) + abs(mass * v - t) + f) / n + delta)
        S.append(row)
        U.append([0.0] * k)
    return Bounds(S, U)


def _bce_delta(y: Rows, y_scales: Rows, s: Rows, s_scales: Rows) -> Bounds:
    # δ = (σ(z) − y)/N: σ's and y's errors, the difference's rounding, /N's (|δ|)
    count = len(y) * len(y[0])
    S = [[(e + f + abs(v - t)) / count + abs(v - t) / count
          for t, f, v, e in zip(rt, rf, rs, re)] for rt, rf, rs, re in zip(y, y_scales, s, s_scales)]
    return Bounds(S, _zeros(len(y), len(y[0])))


def _squared_error_delta(loss: str, name: str, y: Rows, y_scales: Rows, z: Rows, a: Rows,
                         z_scales: Rows, a_scales: Rows, u: float,
                         zeros: Optional[Sequence[Sequence[bool]]]) -> Bounds:
    # δ = c·(a − y)·f′(z), c = 1 for half_sse, 2/(n·k) for mse: a's and y's errors and
    # the difference's rounding through c·f′, f′'s own error F through c·|a − y|, two
    # roundings of the products (2·|δ|); at a kink, c·|a − y|·J either way
    factor = 1.0 if loss == "half_sse" else 2.0 / (len(y) * len(y[0]))
    S, U = [], []
    flags = zeros if zeros is not None else [[False] * len(row) for row in z]
    for rt, rf, rz, ra, rez, rea, rk in zip(y, y_scales, z, a, z_scales, a_scales, flags):
        row_s, row_u = [], []
        for t, f, zz, aa, ez, ea, zero in zip(rt, rf, rz, ra, rez, rea, rk):
            slope, error, jump = derivative_bound(name, zz, aa, ea, ez, u, zero)
            diff = abs(aa - t)
            row_s.append(factor * ((slope + jump) * (ea + f + diff) + diff * error)
                         + 2.0 * factor * diff * slope)
            row_u.append(factor * diff * jump)
        S.append(row_s)
        U.append(row_u)
    return Bounds(S, U)


def output_delta_bounds(network: Mapping[str, Any], y: Rows, y_scales: Rows, z: Rows, a: Rows,
                        z_scales: Rows, a_scales: Rows, u: float,
                        zeros: Optional[Sequence[Sequence[bool]]] = None) -> Bounds:
    """Return S and U of the output delta δ = ∂loss/∂z of the last layer.

    ``z``, ``a`` are the last layer's pre-activations and activations, ``y``
    the targets and ``y_scales`` their leaf_scales; ``zeros`` flags the units
    whose exact z is 0 (derivative_bound's ``exact_zero``).

    >>> output_delta_bounds({"loss": "half_sse", "output_activation": "identity"},
    ...                     [[0.25]], [[0.0]], [[1.0]], [[1.0]], [[5.0]], [[6.0]], 0.5)
    Bounds(scale=[[8.25]], uncertainty=[[0.0]])
    """
    loss = network["loss"]
    if loss == "cross_entropy":
        return _cross_entropy_delta(y, y_scales, a, a_scales)
    if loss == "bce":
        return _bce_delta(y, y_scales, a, a_scales)
    return _squared_error_delta(loss, network["output_activation"], y, y_scales, z, a,
                                z_scales, a_scales, u, zeros)


def hidden_delta_bounds(name: str, delta: Bounds, d: Rows, weights: Rows, w_scales: Rows,
                        z: Rows, a: Rows, z_scales: Rows, a_scales: Rows, u: float,
                        zeros: Optional[Sequence[Sequence[bool]]] = None) -> Bounds:
    """Return S and U of δ[l−1] = (δ[l]·weights[l]ᵀ) ⊙ f′(z[l−1]) from δ[l]'s.

    ``d`` is the float δ[l]; ``weights`` is weights[l]; ``z``, ``a`` and their
    S are layer l−1's. b = δ·wᵀ: S_b = Σ_j (S_δ_j·|w_ij| + |δ_j|·S_w_ij) +
    K·Σ_j |δ_j·w_ij| (K products summed); then S = S_b·(|f′| + J) + |b|·F + |δ'|
    and U = U_b·(|f′| + J) + |b|·J; ``zeros`` flags the units whose exact z is 0.
    """
    k = len(weights[0])
    flags = zeros if zeros is not None else [[False] * len(row) for row in z]
    weights_t, scales_t = _transpose(weights), _transpose(w_scales)
    terms = _abs_matmul(d, weights_t)
    carried = _add(_abs_matmul(delta.scale, weights_t), _abs_matmul(d, scales_t))
    back_u = _abs_matmul(delta.uncertainty, weights_t)
    back = [[_fsum(abs(v) * abs(w) for v, w in zip(rd, rw)) for rw in weights] for rd in d]
    S, U = [], []
    for rt, rc, rbu, rb, rz, ra, rez, rea, rk in zip(terms, carried, back_u, back, z, a,
                                                      z_scales, a_scales, flags):
        row_s, row_u = [], []
        for t, c, bu, b, zz, aa, ez, ea, zero in zip(rt, rc, rbu, rb, rz, ra, rez, rea, rk):
            slope, error, jump = derivative_bound(name, zz, aa, ea, ez, u, zero)
            # |b| ≤ Σ_j |δ_j·w_ij| = b here: a bound of the float b, which is all S needs
            row_s.append((c + k * t) * (slope + jump) + b * error + b * slope)
            row_u.append(bu * (slope + jump) + b * jump)
        S.append(row_s)
        U.append(row_u)
    return Bounds(S, U)


# -- gradients ---------------------------------------------------------------------------


def gradient_bounds(a: Rows, a_scales: Rows, d: Rows, delta: Bounds) -> Tuple[Bounds, Bounds]:
    """Return (S and U of gradients.weights[l], of gradients.biases[l]) from a[l] and δ[l].

    ∂loss/∂weights[l] = a[l]ᵀ·δ[l], n terms: S = Σ_n (S_a_ni·|δ_nj| + |a_ni|·S_δ_nj)
    + n·Σ_n |a_ni·δ_nj|, U = Σ_n |a_ni|·U_δ_nj; ∂loss/∂biases[l] = Σ_n δ[l]_n:
    S = Σ_n S_δ_nj + (n − 1)·Σ_n |δ_nj|, U = Σ_n U_δ_nj. ``d`` is the float δ[l].
    """
    n = len(a)
    a_t, s_t = _transpose(a), _transpose(a_scales)
    weight_s = _add(_abs_matmul(s_t, d), _abs_matmul(a_t, delta.scale),
                    _scaled(float(n), _abs_matmul(a_t, d)))
    weight_u = _abs_matmul(a_t, delta.uncertainty)
    bias_s = [[_fsum(column) + (n - 1) * _fsum(abs(v) for v in values)
               for column, values in zip(zip(*delta.scale), zip(*d))]]
    bias_u = [[_fsum(column) for column in zip(*delta.uncertainty)]]
    return Bounds(weight_s, weight_u), Bounds(bias_s, bias_u)


def backward_bounds(network: Mapping[str, Any], weights: Sequence[Rows], y: Rows,
                    zs: Sequence[Rows], activations: Sequence[Rows], deltas: Sequence[Rows],
                    z_scales: Sequence[Rows], a_scales: Sequence[Rows],
                    pol: Policy, zeros: Optional[Sequence[Sequence[Sequence[bool]]]] = None
                    ) -> Tuple[List[Bounds], List[Bounds]]:
    """Return (Bounds of gradients.weights[l], of gradients.biases[l]) for every layer l.

    ``deltas`` are the float pass's δ[l]; the deltas' S and U go down the
    backward recursion from the output delta. ``zeros[l]`` flags layer l's
    units whose exact z is 0 (None: none known).
    """
    L = len(weights)
    u = arithmetic(pol).u
    flags: Sequence[Optional[Sequence[Sequence[bool]]]] = zeros if zeros is not None else [None] * L
    delta = output_delta_bounds(network, y, leaf_scales(pol, y), zs[-1], activations[-1],
                                z_scales[-1], a_scales[-1], u, flags[-1])
    weight_bounds: List[Bounds] = []
    bias_bounds: List[Bounds] = []
    for l in range(L - 1, -1, -1):
        weight_l, bias_l = gradient_bounds(activations[l], a_scales[l], deltas[l], delta)
        weight_bounds.insert(0, weight_l)
        bias_bounds.insert(0, bias_l)
        if l > 0:
            delta = hidden_delta_bounds(network["activation"], delta, deltas[l], weights[l],
                                        leaf_scales(pol, weights[l]), zs[l - 1], activations[l],
                                        z_scales[l - 1], a_scales[l], u, flags[l - 1])
    return weight_bounds, bias_bounds


# -- the updated parameters --------------------------------------------------------------


def updated_bounds(pol: Policy, parameters: Rows, gradients: Rows, bounds: Bounds,
                   learning_rate: float) -> Bounds:
    """Return S and U of updated p' = p − learning_rate·g for one matrix.

    S = S_p + lr·S_g + |lr·g|·(1 + S_lr) + |p'| (the product's and the
    difference's roundings; S_lr = 1 where the learning rate itself is rounded
    to a narrower format); U = lr·U_g.
    """
    lr = learning_rate
    narrow = 1.0 if arithmetic(pol).narrow else 0.0
    leaves = leaf_scales(pol, parameters)
    S = [[f + lr * s + abs(lr * g) * (1.0 + narrow) + abs(p - lr * g)
          for p, g, s, f in zip(rp, rg, rs, rf)]
         for rp, rg, rs, rf in zip(parameters, gradients, bounds.scale, leaves)]
    return Bounds(S, _scaled(lr, bounds.uncertainty))


# -- an optimizer's step ---------------------------------------------------------------
#
# The rules are torch.optim's (purebp/docs/optimizers.md; equation ids in the comments).
# Each bound is first order, entry by entry, from the float run's values: an input's
# (S, U) carried through the rule's local slope, plus each operation's own rounding, in
# units of u, bounding torch's arrangement (lerp, addcmul, addcdiv, lr/(1 − β^t) before
# the quotient) and purebp's alike. n = 1 where the arithmetic is narrower than the
# case's float64 numbers, for each constant (lr, betas, eps, ...) rounded to it.

#: One entry's bound: (S, U), its rounding scale in units of u and its uncertainty.
Entry = Tuple[float, float]
_EXACT: Entry = (0.0, 0.0)


def _times(c: float, x: float) -> float:
    """|c|·x, 0 where c is 0 (an infinite bound times a slope of 0 moves nothing)."""
    return 0.0 if c == 0 else abs(c) * x


def _carry(terms: Iterable[Tuple[float, Entry]], own: float = 0.0) -> Entry:
    """Return Σ |c|·(S, U) over (slope c, input's bound), ``own`` rounding added to S."""
    s, un = own, 0.0
    for c, (bs, bu) in terms:
        s += _times(c, bs)
        un += _times(c, bu)
    return s, un


def _root(x: float, e: Entry, u: float) -> Tuple[float, Entry]:
    """Return (√x, its bound): x's error through 1/(2√x), or √error where that is smaller
    (at x near 0), plus the root's own rounding; NaN where x < 0 (not checkable).

    |√(x + ε) − √x| ≤ min(ε/(2√x), √ε); S is in units of u, so √(u·S)/u.
    """
    if not x >= 0:  # a rounded v − ḡ² below 0: torch's √ is NaN there
        return math.nan, (math.inf, math.inf)
    r = math.sqrt(x)

    def through(error: float, unit: float) -> float:
        if error == 0:
            return 0.0
        return min(error / (2.0 * r) if r > 0 else math.inf, math.sqrt(error / unit))

    return r, (through(e[0], u) + r, through(e[1], 1.0))


def _bias_correction(beta: float, t: int, u: float, n: float) -> Tuple[float, float]:
    """Return (1 − β^t, its relative error in units of u).

    β^1 is β itself; β^t by pow is within an ulp, by t − 1 products within
    (t − 1)·u·β^t ≤ (t − 1) ulps: max(1, t − 1) ulps of β^t (of the arithmetic
    checked), and t·u·β^t more where β itself is rounded (narrow). 1 − β^t
    magnifies that by 1/(1 − β^t) (500 at t = 2 for β = 0.999) and rounds once.
    """
    power = beta ** t
    correction = 1.0 - power
    ulp = math.ulp(power) * (u / 2.0 ** -53)  # the same binade's spacing in a narrower format
    error = (0.0 if t == 1 else max(1, t - 1) * ulp) + n * t * u * power
    return correction, error / (u * correction) + 1.0


def _complement(beta: float, n: float) -> float:
    """Return the relative error of 1 − β as computed, in units of u: its rounding (1), and
    where β itself is rounded to a narrower format, that rounding magnified β/(1 − β)-fold
    (1000-fold for β = 0.999 in float32); 0 for β = 1, where 1 − β multiplies nothing."""
    return 0.0 if beta == 1 else 1.0 + n * beta / (1.0 - beta)


def _l2(wd: float, n: float, p: float, g: float, e_p: Entry, e_g: Entry) -> Tuple[float, Entry]:
    """(WD) g + wd·p and its bound: the product's rounding (wd's too, narrow), the sum's."""
    if not wd:
        return g, e_g
    g2 = g + wd * p
    return g2, _carry([(1.0, e_g), (wd, e_p)], (1 + n) * abs(wd * p) + abs(g2))


#: What a rule's bound gives: (the bound of p before its step, lr·d: AdamW's decayed p; the
#: step d; its bound; the bounds of the state's buffers after the step).
RuleBounds = Tuple[Entry, float, Entry, Dict[str, Entry]]
State1 = Mapping[str, float]
Bounds1 = Mapping[str, Entry]


def _sgd_bounds(a: Mapping[str, Any], t: int, n: float, u: float, p: float, g: float,
                e_p: Entry, e_g: Entry, before: State1, e_before: Bounds1,
                after: State1) -> RuleBounds:
    mu, tau = a["momentum"], a["dampening"]
    g, e_g = _l2(a["weight_decay"], n, p, g, e_p, e_g)                       # (WD)
    if not mu:
        return e_p, g, e_g, {}
    b = after["momentum_buffer"]
    if t == 1:
        e_b = e_g                                                              # (M) b ← g
    else:                                                                      # (M)
        e_b = _carry([(mu, e_before["momentum_buffer"]), (1 - tau, e_g)],
                     (1 + n) * abs(mu * before["momentum_buffer"])
                     + (1 + _complement(tau, n)) * abs((1 - tau) * g) + abs(b))
    if a["nesterov"]:                                                          # (N)
        d = g + mu * b
        return e_p, d, _carry([(1.0, e_g), (mu, e_b)], (1 + n) * abs(mu * b) + abs(d)), \
            {"momentum_buffer": e_b}
    return e_p, b, e_b, {"momentum_buffer": e_b}


def _moving_square(beta: float, n: float, v0: float, e_v0: Entry, g: float, e_g: Entry,
                   v: float) -> Entry:
    """The bound of v ← β·v + (1 − β)·g² (RMSprop's V, Adam's A2): β·v, g·g, the
    constant and its product, the sum (torch: mul_ then addcmul_). U is no small
    error: |(g + U)² − g²| ≤ 2·|g|·U + U², its square kept (at g = 0 it is all there is)."""
    s, un = _carry([(beta, e_v0), (2 * (1 - beta) * abs(g), e_g)],
                   (1 + n) * abs(beta * v0) + (2 + _complement(beta, n)) * abs((1 - beta) * g * g)
                   + abs(v))
    return s, un + (1 - beta) * e_g[1] ** 2


def _moving_average(beta: float, n: float, m0: float, e_m0: Entry, g: float, e_g: Entry,
                    m: float) -> Entry:
    """The bound of m ← β·m + (1 − β)·g (Adam's A1, RMSprop's C) in either arrangement: as
    products and a sum, (1 + n)·|β·m| + (1 + k)·|(1 − β)·g| + |m'|, k the error of 1 − β
    (_complement); as torch's lerp, m + w·(g − m) for w = 1 − β < ½, else
    g − (g − m)·(1 − w), the difference's and the product's roundings scaled by
    min(β, 1 − β), and w's error: (2·min(β, 1 − β) + k·(1 − β))·|g − m| + |m'|."""
    k = _complement(beta, n)
    products = (1 + n) * abs(beta * m0) + (1 + k) * abs((1 - beta) * g)
    lerp = (2 * min(beta, 1 - beta) + k * (1 - beta)) * (abs(g) + abs(m0))
    return _carry([(beta, e_m0), (1 - beta, e_g)], products + lerp + abs(m))


def _quotient(x: float, e_x: Entry, den: float, e_den: Entry) -> Tuple[float, Entry]:
    """(x / den, its bound): x's error over den, den's through x/den², one rounding."""
    q = x / den
    return q, _carry([(1.0 / den, e_x), (abs(x) / den ** 2, e_den)], abs(q))


def _capped(e: Entry, reach: float, u: float) -> Entry:
    """A step's bound no wider than its range: two values of a step that is at most
    ``reach`` in size differ by at most 2·reach (S in units of u). First-order bounds
    through 1/(√v + eps) grow without limit where √v + eps is tiny; the step does not."""
    most = 2.0 * reach * (1.0 + 1e-9)  # the computed step's own roundings, a few u more
    return min(e[0], most / u), min(e[1], most)


def _adam_reach(beta1: float, beta2: float, t: int) -> float:
    """Return C_t ≥ |m̂/(√v̂ + eps)| whatever the gradients: by Cauchy–Schwarz over
    m = (1 − β1)·Σ β1^(t−j)·g_j and v = (1 − β2)·Σ β2^(t−j)·g_j² (AMSGrad's v̂ only larger),
    C_t = (1 − β1)/(1 − β1^t)·√((1 − β2^t)/(1 − β2))·√(Σ_{k<t} (β1²/β2)^k); inf where
    β2 = 0 < β1 and t > 1 (v forgets the gradients m keeps)."""
    if beta1 == 0 or t == 1:
        spread = 1.0
    elif beta2 == 0:
        return math.inf
    else:
        ratio = beta1 * beta1 / beta2
        spread = float(t) if ratio == 1 else (1.0 - ratio ** t) / (1.0 - ratio)
    return (1 - beta1) / (1 - beta1 ** t) * math.sqrt((1 - beta2 ** t) / (1 - beta2) * spread)


def _rmsprop_bounds(a: Mapping[str, Any], t: int, n: float, u: float, p: float, g: float,
                    e_p: Entry, e_g: Entry, before: State1, e_before: Bounds1,
                    after: State1) -> RuleBounds:
    alpha, eps, mu = a["alpha"], a["eps"], a["momentum"]
    g, e_g = _l2(a["weight_decay"], n, p, g, e_p, e_g)                       # (WD)
    v = after["square_avg"]
    e_v = _moving_square(alpha, n, before["square_avg"], e_before["square_avg"], g, e_g, v)
    state = {"square_avg": e_v}                                                # (V)
    if a["centered"]:                                                          # (C)
        g_avg = after["grad_avg"]
        e_avg = _moving_average(alpha, n, before["grad_avg"], e_before["grad_avg"], g, e_g,
                                g_avg)
        state["grad_avg"] = e_avg
        # v − ḡ²: may cancel (a steady gradient), which the slopes carry
        w = v - g_avg * g_avg
        e_w = _carry([(1.0, e_v), (2 * abs(g_avg), e_avg)], 2 * g_avg * g_avg + abs(w))
        v, e_v = w, (e_w[0], e_w[1] + e_avg[1] ** 2)  # ḡ²'s U², as v's
    root, e_root = _root(v, e_v, u)                                            # (R)
    den = root + eps
    d, e_d = _quotient(g, e_g, den, (e_root[0] + abs(den) + n * eps, e_root[1]))
    # |d| ≤ 1/√(1 − alpha): v ≥ (1 − alpha)·g² (not so for v − ḡ², which may be 0)
    reach = math.inf if a["centered"] or alpha == 1 else 1.0 / math.sqrt(1.0 - alpha)
    e_d = _capped(e_d, reach, u)
    if mu:                                                                     # (RM)
        b = after["momentum_buffer"]
        e_b = _carry([(mu, e_before["momentum_buffer"]), (1.0, e_d)],
                     (1 + n) * abs(mu * before["momentum_buffer"]) + abs(b))
        # b = Σ_{k<t} μ^k·d: at most reach·Σ μ^k in size
        e_b = _capped(e_b, reach * (float(t) if mu == 1 else (1 - mu ** t) / (1 - mu)), u)
        state["momentum_buffer"] = e_b
        d, e_d = b, e_b
    return e_p, d, e_d, state


def _adam_bounds(a: Mapping[str, Any], t: int, n: float, u: float, p: float, g: float,
                 e_p: Entry, e_g: Entry, before: State1, e_before: Bounds1, after: State1,
                 decoupled: bool) -> RuleBounds:
    lr, eps, wd = a["lr"], a["eps"], a["weight_decay"]
    beta1, beta2 = a["betas"]
    if wd and decoupled:                                                       # (DW)
        c = 1.0 - lr * wd
        shrunk = p * c  # lr·wd rounds (twice narrow), 1 − lr·wd and the product once each
        e_p = _carry([(c, e_p)], abs(p) * (lr * wd * (1 + 2 * n) + abs(c)) + abs(shrunk))
    elif wd:
        g, e_g = _l2(wd, n, p, g, e_p, e_g)                                    # (WD)
    m, v = after["exp_avg"], after["exp_avg_sq"]
    e_m = _moving_average(beta1, n, before["exp_avg"], e_before["exp_avg"], g, e_g, m)  # (A1)
    e_v = _moving_square(beta2, n, before["exp_avg_sq"], e_before["exp_avg_sq"], g, e_g,
                         v)                                                    # (A2)
    state = {"exp_avg": e_m, "exp_avg_sq": e_v}
    if a["amsgrad"]:                                                           # (AG)
        # max(x, y) moves by at most the larger of the two moves
        e_max = e_before["max_exp_avg_sq"]
        e_v = (max(e_max[0], e_v[0]), max(e_max[1], e_v[1]))
        v = after["max_exp_avg_sq"]
        state["max_exp_avg_sq"] = e_v
    correction1, c1 = _bias_correction(beta1, t, u, n)                         # (A3)
    correction2, c2 = _bias_correction(beta2, t, u, n)
    m_hat = m / correction1
    e_hat = _carry([(1.0 / correction1, e_m)], abs(m_hat) * (c1 + 1))
    root, e_root = _root(v / correction2, _carry([(1.0 / correction2, e_v)]), u)
    # √(v/(1 − β2^t)), or torch's √v/√(1 − β2^t): the correction's error halved, two roundings
    e_root = (e_root[0] + abs(root) * (c2 / 2 + 2), e_root[1])
    den = root + eps                                                           # (A4)
    d, e_d = _quotient(m_hat, e_hat, den, (e_root[0] + abs(den) + n * eps, e_root[1]))
    return e_p, d, _capped(e_d, _adam_reach(beta1, beta2, t), u), state


_RULE_BOUNDS: Dict[str, Callable[..., RuleBounds]] = {
    "sgd": _sgd_bounds, "rmsprop": _rmsprop_bounds,
    "adam": functools.partial(_adam_bounds, decoupled=False),
    "adamw": functools.partial(_adam_bounds, decoupled=True),
}


def optimizer_step_bounds(pol: Policy, optimizer: Mapping[str, Any], t: int,
                          p: Sequence[float], g: Sequence[float], e_p: Sequence[Entry],
                          e_g: Sequence[Entry], before: Mapping[str, Sequence[float]],
                          e_before: Mapping[str, Sequence[Entry]],
                          after: Mapping[str, Sequence[float]], p_new: Sequence[float]
                          ) -> Tuple[List[Entry], Dict[str, List[Entry]]]:
    """Return the bounds (S, U) of the parameters after one step of ``optimizer``, and of
    its state's buffers after it, entry by entry over the flat parameters.

    ``optimizer`` is a case's {"name", "arguments"}; t the step count (1 at the first
    step); p, g the float parameters and gradients, e_p and e_g their bounds;
    ``before`` and ``after`` the float state's buffers (flat lists) around the step
    (zeros before the first), ``e_before`` the buffers' bounds before it; p_new the
    float parameters after it. Then p' = p − lr·d: S = S_p + lr·S_d + |lr·d|·(1 + n)
    + |p'|, U = U_p + lr·U_d, d the rule's step (the gradient for plain SGD, whose
    bound is then updated_bounds').
    """
    n = 1.0 if arithmetic(pol).narrow else 0.0
    u = arithmetic(pol).u
    a = dict(optimizer["arguments"])
    rule = _RULE_BOUNDS[optimizer["name"]]
    lr = a["lr"]
    new: List[Entry] = []
    state: Dict[str, List[Entry]] = {name: [] for name in after}
    for i in range(len(p)):
        e_base, d, e_d, buffers = rule(
            a, t, n, u, p[i], g[i], e_p[i], e_g[i], {k: v[i] for k, v in before.items()},
            {k: v[i] for k, v in e_before.items()}, {k: v[i] for k, v in after.items()})
        entry = _carry([(1.0, e_base), (lr, e_d)], (1 + n) * abs(lr * d) + abs(p_new[i]))
        new.append(_finite_or_inf(entry))                                      # (S), (A4)
        for name, e in buffers.items():
            state[name].append(_finite_or_inf(e))
    return new, state


def _finite_or_inf(e: Entry) -> Entry:
    """A bound with NaN (an undefined slope: √ of a negative) made inf: not checkable."""
    return (e[0] if e[0] == e[0] else math.inf, e[1] if e[1] == e[1] else math.inf)


# -- all of one step's bounds ----------------------------------------------------------------


class StepBounds(NamedTuple):
    """The float pass at one set of parameters and the S (and U) of everything in it."""

    zs: List[Matrix]
    activations: List[Matrix]
    gradients: Dict[str, List[Matrix]]
    z_scales: List[Matrix]
    a_scales: List[Matrix]
    loss_scale: float
    weights: List[Bounds]   # of gradients.weights[l]
    biases: List[Bounds]    # of gradients.biases[l]
    updated_weights: List[Bounds]
    updated_biases: List[Bounds]


def _float_net(case: Mapping[str, Any]) -> Network:
    spec = case["network"]
    net = Network(spec["sizes"], spec["activation"], spec["output_activation"], spec["loss"],
                  seed=0)
    net.weights = [[list(row) for row in m] for m in case["parameters"]["weights"]]
    net.biases = [[list(row) for row in m] for m in case["parameters"]["biases"]]
    return net


def _step_bounds(network: Mapping[str, Any], net: Network, X: Matrix, y: Matrix, lr: float,
                 pol: Policy, zeros: Optional[Sequence[Sequence[Sequence[bool]]]] = None
                 ) -> StepBounds:
    """Return the bounds of every quantity at ``net``'s present parameters (``zeros``: as
    backward_bounds')."""
    W, B = net.weights, net.biases
    zs, acts = net._forward(X)
    deltas: List[Matrix] = []
    grads = net._backpropagate(y, zs, acts, deltas)
    z_scales, a_scales = forward_scales(network, W, B, zs, acts, pol)
    scale = loss_scale(network["loss"], y, leaf_scales(pol, y), zs[-1], acts[-1], z_scales[-1],
                       a_scales[-1])
    weight_bounds, bias_bounds = backward_bounds(network, W, y, zs, acts, deltas, z_scales,
                                                 a_scales, pol, zeros)
    new_w = [updated_bounds(pol, p, g, b, lr) for p, g, b in zip(W, grads["weights"], weight_bounds)]
    new_b = [updated_bounds(pol, p, g, b, lr) for p, g, b in zip(B, grads["biases"], bias_bounds)]
    return StepBounds(zs, acts, grads, z_scales, a_scales, scale, weight_bounds, bias_bounds,
                      new_w, new_b)


def _float_pass(case: Mapping[str, Any]) -> Tuple[List[Matrix], List[Matrix], Dict[str, List[Matrix]]]:
    """Return (zs, activations, gradients) of purebp's float64 Network on the case."""
    net = _float_net(case)
    zs, activations = net._forward(case["inputs"])
    return zs, activations, net._backpropagate(case["targets"], zs, activations)


# -- the trajectory ----------------------------------------------------------------------


#: D's perturbation: one unit in the last place of a float64 of size 1 (purebp.oracle.exact).
_SENSITIVITY_STEP = 2.0 ** -52


def _perturbation_units(pol: Policy, step: StepBounds, bases: Sequence[Rows],
                        kinks_apart: bool) -> float:
    """Return r: how many of D's perturbations (2^-52 times each base) one step's error is.

    The largest, over the parameters after the step, of their error bound
    u·S (+ κ·U unless the kinks' other slope is checked apart) divided by
    2^-52·base, the bases being exact.perturbation_bases of the case's
    parameters, those that D was measured with.
    """
    u = arithmetic(pol).u
    worst = 0.0
    bounds = list(step.updated_weights) + list(step.updated_biases)
    for mb, b in zip(bases, bounds):
        for rb, rs, ru in zip(mb, b.scale, b.uncertainty):
            for size, s, un in zip(rb, rs, ru):
                error = u * s + (0.0 if kinks_apart else pol.kappa * un)
                step_size = _SENSITIVITY_STEP * size  # 0 where it underflows (a subnormal θ)
                if error > 0:
                    worst = max(worst, error / step_size if step_size > 0 else math.inf)
    return worst


def trajectory_tolerances(pol: Policy, case: Mapping[str, Any], trajectory: Sequence[float]
                          ) -> Tuple[List[float], int, Optional[List[float]]]:
    """Return (the tolerance of each loss of the trajectory, how many of them are checkable,
    the trajectory with the other slope at exact kinks where the case lacks it and has kinks).

    Step s: atol + rtol·(S_loss_s + |L_s| + Σ_{j<s} r_j·D_s/G_{j+1}/u). S_loss_s is
    the loss's rounding scale at purebp's own float parameters of step s; r_j
    (_perturbation_units) is step j's rounding error in units of the starting
    perturbation that moves L_s by D_s (case["expected"]["trajectory_sensitivity"])
    and had grown G_{j+1}-fold by step j + 1 ("trajectory_growth"): both
    measured along the run in 50-digit decimals by
    purebp.oracle.exact.trajectory_bounds, or here where a case lacks them.
    A step is not checkable, nor is any later one, where that tolerance exceeds
    USEFUL_TRAJECTORY·|L_s| or where the loss exceeds DIVERGED·|L_0|.
    """
    steps = case.get("steps", 0)
    if steps == 0:
        return [], 0, None
    if "optimizer" in case or "batches" in case:
        run = run_tolerances(pol, case, trajectory)
        return run.trajectory, run.checkable, run.right_slope
    expected = case.get("expected", {})
    sensitivity = expected.get("trajectory_sensitivity")
    growth = expected.get("trajectory_growth")
    # the other slope's run stands apart only for kinks no rounding can move (exact_zeros)
    kinks_apart = "trajectory_right_slope" in expected and _kinks_unambiguous(case)
    right_slope = None
    if (sensitivity is None or growth is None) and steps > 1:
        from purebp.oracle import exact  # the 50-digit pass, for a case made without it
        truth = exact.trajectory_bounds(case["network"], case["parameters"]["weights"],
                                        case["parameters"]["biases"], case["inputs"],
                                        case["targets"], case["learning_rate"], steps)
        sensitivity = [float(v) if not v.is_nan() else math.inf for v in truth["sensitivity"]]
        growth = [float(v) for v in truth["growth"]]
        kinks_apart = "right_slope" in truth and _kinks_unambiguous(case)
        if kinks_apart:
            right_slope = [float(v) for v in truth["right_slope"]]
    from purebp.oracle.exact import perturbation_bases

    network, X, y, lr = case["network"], case["inputs"], case["targets"], case["learning_rate"]
    bases = perturbation_bases(list(case["parameters"]["weights"]) + list(case["parameters"]["biases"]))
    u = arithmetic(pol).u
    net = _float_net(case)
    units: List[float] = []
    result: List[float] = []
    checkable = steps
    for s in range(steps):
        if not (_all_finite(net.weights) and _all_finite(net.biases)):
            result.extend([math.inf] * (steps - s))
            checkable = min(checkable, s)
            break
        try:
            step = _step_bounds(network, net, X, y, lr, pol)
        except OverflowError:
            result.extend([math.inf] * (steps - s))
            checkable = min(checkable, s)
            break
        # step j's error, a perturbation r_j times D's made at θ_{j+1}, moves L_s by
        # r_j·D_s/G_{j+1}: D_s is what the start's perturbation does to L_s, G_{j+1} how
        # far it had grown by then (both measured along this very run)
        carried = _fsum(r * _ratio(sensitivity[s], growth[j + 1]) for j, r in enumerate(units))
        own = 2.0 ** -53 / u * abs(trajectory[s])  # the expected loss's rounding to float64
        allowed = pol.atol + pol.rtol * (step.loss_scale + own + (carried / u if u > 0 else 0.0))
        if not math.isfinite(allowed) or allowed > USEFUL_TRAJECTORY * abs(trajectory[s]) \
                or abs(trajectory[s]) > DIVERGED * abs(trajectory[0]):
            checkable = min(checkable, s)
        result.append(allowed)
        if s + 1 < steps:
            net._step(X, y, SGD(lr))
            units.append(_perturbation_units(pol, step, bases, kinks_apart))
    return result, checkable, right_slope


def _kinks_unambiguous(case: Mapping[str, Any]) -> bool:
    """True if every relu or leaky_relu unit whose expected z is 0 is 0 in every
    implementation (exact_zeros): then all take one of the two slopes there."""
    expected = case.get("expected", {})
    zs = expected.get("pre_activations")
    if not isinstance(zs, list):
        return False
    flags = exact_zeros(case) or [[[False] * len(row) for row in z] for z in zs]
    network = case["network"]
    names = [network["activation"]] * (len(zs) - 1) + [network["output_activation"]]
    return all(flag or not (name in _KINK_JUMP and v == 0)
               for name, z, fz in zip(names, zs, flags) for row, frow in zip(z, fz)
               for v, flag in zip(row, frow))


def _ratio(move: float, growth: float) -> float:
    """D_s/G_j, inf where the perturbation was lost (G_j = 0: the run left Decimal's range)."""
    if growth > 0:
        try:
            return move / growth
        except OverflowError:
            return math.inf
    return 0.0 if move == 0 else math.inf


def _all_finite(matrices: Sequence[Rows]) -> bool:
    return all(math.isfinite(v) for m in matrices for row in m for v in row)


# -- a run with an optimizer or mini-batches ---------------------------------------------


def _flat(matrices: Sequence[Rows]) -> List[float]:
    """Every entry of the matrices in order, row by row (purebp.optimizers' flat order)."""
    return [v for m in matrices for row in m for v in row]


def _unflat(flat: Sequence[Any], like: Sequence[Rows]) -> List[List[List[Any]]]:
    """The flat entries put back into matrices of the shapes of ``like``."""
    result, at = [], 0
    for m in like:
        rows = []
        for row in m:
            rows.append(list(flat[at:at + len(row)]))
            at += len(row)
        result.append(rows)
    return result


def parameters_layout(flat: Sequence[Any], case: Mapping[str, Any]) -> Dict[str, List[Any]]:
    """Return {"weights", "biases"}: flat entries over the case's weights[l] row by row, then
    its biases[l] (how purebp.optimizers holds parameters and state) as matrices."""
    W, B = case["parameters"]["weights"], case["parameters"]["biases"]
    count = sum(len(row) for m in W for row in m)
    return {"weights": _unflat(flat[:count], W), "biases": _unflat(flat[count:], B)}


def optimizer_of(case: Mapping[str, Any]) -> Dict[str, Any]:
    """Return the case's optimizer ({"name", "arguments"}), or plain SGD's with its rate."""
    given = case.get("optimizer")
    return dict(given) if given is not None else SGD(case["learning_rate"]).config()


def _rows(case: Mapping[str, Any], k: int) -> Tuple[Matrix, Matrix]:
    """Return (inputs, targets) of step k: the whole batch, or the rows batches[k] in order."""
    X, y = case["inputs"], case["targets"]
    batches = case.get("batches")
    if batches is None:
        return X, y
    return [X[i] for i in batches[k]], [y[i] for i in batches[k]]


def _entries_of(bounds: Sequence[Bounds]) -> List[Entry]:
    """The (S, U) of every entry of a list of Bounds, in the flat order."""
    return [(s, un) for b in bounds for rs, ru in zip(b.scale, b.uncertainty)
            for s, un in zip(rs, ru)]


def _first_step(pol: Policy, case: Mapping[str, Any], net: Network, step: StepBounds
                ) -> Tuple[List[float], List[Entry]]:
    """Return (the float parameters after one step of the case's optimizer from a fresh
    state, their bounds): ``updated`` of an optimizer case."""
    config = optimizer_of(case)
    p = _flat(net.weights) + _flat(net.biases)
    g = _flat(step.gradients["weights"]) + _flat(step.gradients["biases"])
    ar = arithmetic(pol)
    rule = optimizers.from_config(config)
    p_new = rule.update(p, g)
    zeros = {name: [0.0] * len(p) for name in rule.buffers()}
    e_zeros = {name: [_EXACT] * len(p) for name in rule.buffers()}
    new, _ = optimizer_step_bounds(pol, config, 1, p, g, [(leaf_scale(ar, v), 0.0) for v in p],
                                   _entries_of(step.weights) + _entries_of(step.biases), zeros,
                                   e_zeros, {name: rule.state[name] for name in rule.buffers()},
                                   p_new)
    return p_new, new


def _units_of(pol: Policy, bounds: Sequence[Entry], bases: Sequence[float],
              kinks_apart: bool) -> float:
    """_perturbation_units for flat bounds: the step's largest error in units of D's
    perturbation, 2^-52 times each parameter's base."""
    u = arithmetic(pol).u
    worst = 0.0
    for size, (s, un) in zip(bases, bounds):
        error = u * s + (0.0 if kinks_apart else pol.kappa * un)
        step_size = _SENSITIVITY_STEP * size
        if error > 0:
            worst = max(worst, error / step_size if step_size > 0 else math.inf)
    return worst


class RunTolerances(NamedTuple):
    """The tolerances of what a run with an optimizer or mini-batches gives."""

    trajectory: List[float]
    checkable: int  # how many of the trajectory's steps can be checked
    right_slope: Optional[List[float]]  # the other slope's trajectory, where the case lacks it
    final: Dict[str, List[Matrix]]  # {"weights", "biases"}: the parameters after the last step
    optimizer_state: Dict[str, Dict[str, List[Matrix]]]  # {buffer: {"weights", "biases"}}
    #: True where a relu or leaky_relu unit is at its kink to within rounding during the run
    #: (U > 0): the slope a correct implementation takes there moves the run's end by jumps.
    kinked: bool = False


def _floats(value: Any) -> Any:
    """Decimals (nested) as floats, NaN (not measurable: the run left Decimal's range) as inf."""
    if isinstance(value, dict):
        return {k: _floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floats(v) for v in value]
    number = float(value)
    return math.inf if number != number else number


def run_tolerances(pol: Policy, case: Mapping[str, Any], trajectory: Sequence[float]
                   ) -> RunTolerances:
    """Return the tolerances of a case with an optimizer or batches: its trajectory (each
    step's loss on its batch), the parameters and the optimizer's state after its last step.

    The trajectory's are trajectory_tolerances' with r_j from the optimizer's step
    (optimizer_step_bounds): its rounding carried through the state from every
    earlier step, the gradient's at the float parameters of step j; and with
    G_{j+1} taken only where it is below 1. An entry x of the parameters or of
    the state after the last step K (value v) allows

        atol + rtol·(S_x + |v| + Σ_{j<K−1} r_j·P_x/min(1, G_{j+1})/u) + κ·U_x

    with S_x, U_x from the last step's optimizer_step_bounds (the state's rounding
    carried along the run) and P_x how far x moves under the start's perturbation
    (expected "final_sensitivity" and "optimizer_state_sensitivity", measured
    with trajectory_sensitivity by purebp.oracle.exact.trajectory_bounds, or here
    where a case lacks them): step j's error, r_j perturbations made before step
    j + 1 where the start's had grown G_{j+1}-fold. Where a relu or leaky_relu
    unit is at its kink to within rounding during the run (U > 0, ``kinked``),
    either slope is correct and the two runs part by jumps (a unit switched on
    by the other slope at one step feeds the next), which no linear bound
    carries: the checker does not compare the run's end there. Growth is not divided out:
    G is the largest move of one parameter, and under an optimizer that
    normalises the step one parameter can grow alone (Adam at a gradient far
    below eps steps g/eps, amplifying its perturbation lr·|∂g/∂θ|/eps-fold a
    step) while an error made later moves the others as the start's moved
    them; a run that damps (G < 1) damps the later errors less, so there G
    divides. The checker compares them only where the whole trajectory is
    checkable.
    """
    steps = case.get("steps", 0)
    expected = case.get("expected", {})
    names = ("trajectory_sensitivity", "trajectory_growth", "final_sensitivity",
             "optimizer_state_sensitivity")
    sensitivity, growth, final_moves, state_moves = (expected.get(k) for k in names)
    kinks_apart = "trajectory_right_slope" in expected and _kinks_unambiguous(case)
    right_slope = None
    if steps > 1 and any(v is None for v in (sensitivity, growth, final_moves, state_moves)):
        from purebp.oracle import exact  # the 50-digit pass, for a case made without it
        truth = exact.trajectory_bounds(case["network"], case["parameters"]["weights"],
                                        case["parameters"]["biases"], case["inputs"],
                                        case["targets"], case["learning_rate"], steps,
                                        case.get("optimizer"), case.get("batches"))
        sensitivity, growth = _floats(truth["sensitivity"]), _floats(truth["growth"])
        final_moves = _floats(truth["final_sensitivity"])
        state_moves = _floats(truth["optimizer_state_sensitivity"])
        kinks_apart = "right_slope" in truth and _kinks_unambiguous(case)
        if kinks_apart:
            right_slope = [float(v) for v in truth["right_slope"]]
    from purebp.oracle.exact import perturbation_bases

    params = list(case["parameters"]["weights"]) + list(case["parameters"]["biases"])
    bases = _flat(perturbation_bases(params))
    network, lr = case["network"], case["learning_rate"]
    config = optimizer_of(case)
    rule = optimizers.from_config(config)
    net = _float_net(case)
    ar = arithmetic(pol)
    u = ar.u
    p = _flat(net.weights) + _flat(net.biases)
    bounds: List[Entry] = [(leaf_scale(ar, v), 0.0) for v in p]  # of the parameters: steps = 0
    state_bounds: Dict[str, List[Entry]] = {name: [_EXACT] * len(p) for name in rule.buffers()}
    units: List[float] = []
    result: List[float] = []
    checkable = steps
    broken = kinked = False
    # a run diverges where a loss exceeds DIVERGED times its rows' loss at the start: the
    # first loss for full-batch steps; mini-batches hold other rows, with other losses
    start = _float_net(case)
    reference = [abs(trajectory[0]) if "batches" not in case else
                 abs(start._loss_value(_rows(case, s)[1], *start._forward(_rows(case, s)[0])))
                 for s in range(steps)]
    for s in range(steps):
        try:
            if not (_all_finite(net.weights) and _all_finite(net.biases)):
                raise OverflowError
            X, y = _rows(case, s)
            step = _step_bounds(network, net, X, y, lr, pol)
        except OverflowError:
            result.extend([math.inf] * (steps - s))
            checkable, broken = min(checkable, s), True
            break
        carried = _fsum(r * _ratio(sensitivity[s], min(1.0, growth[j + 1])) for j, r in enumerate(units))
        own = 2.0 ** -53 / u * abs(trajectory[s])  # the expected loss's rounding to float64
        allowed = pol.atol + pol.rtol * (step.loss_scale + own + (carried / u if u > 0 else 0.0))
        if not math.isfinite(allowed) or allowed > USEFUL_TRAJECTORY * abs(trajectory[s]) \
                or abs(trajectory[s]) > DIVERGED * reference[s]:
            checkable = min(checkable, s)
        result.append(allowed)
        # the optimizer's step, and the rounding bounds of its parameters and state
        p = _flat(net.weights) + _flat(net.biases)
        g = _flat(step.gradients["weights"]) + _flat(step.gradients["biases"])
        before = {name: list(rule.state.get(name, [0.0] * len(p))) for name in rule.buffers()}
        p_new = rule.update(p, g)
        bounds, state_bounds = optimizer_step_bounds(
            pol, config, rule.state["step"], p, g, [(leaf_scale(ar, v), 0.0) for v in p],
            _entries_of(step.weights) + _entries_of(step.biases), before, state_bounds,
            {name: rule.state[name] for name in rule.buffers()}, p_new)
        layout = parameters_layout(p_new, case)
        net.weights, net.biases = layout["weights"], layout["biases"]
        kinked = kinked or (not kinks_apart and any(un > 0 for _, un in bounds))
        if s + 1 < steps:
            units.append(_units_of(pol, bounds, bases, kinks_apart))
    share = 2.0 ** -53 / u

    def allowances(values: Sequence[float], entries: Sequence[Entry],
                   moves: Optional[Sequence[float]]) -> List[float]:
        if broken:
            return [math.inf] * len(values)
        allowed = []
        for i, (v, (s, un)) in enumerate(zip(values, entries)):
            carried = 0.0 if moves is None else _fsum(
                r * _ratio(moves[i], min(1.0, growth[j + 1])) for j, r in enumerate(units))
            allowed.append(_tolerance(pol, s + share * abs(v) + (carried / u if u > 0 else 0.0),
                                      un))
        return allowed

    final_flat = None if final_moves is None else _flat(final_moves["weights"]) + _flat(
        final_moves["biases"])
    final = allowances(_flat(net.weights) + _flat(net.biases), bounds, final_flat)
    state: Dict[str, Dict[str, List[Matrix]]] = {}
    for name in rule.buffers() if steps else ():
        moved = None if state_moves is None else state_moves.get(name)
        flat_moves = None if moved is None else _flat(moved["weights"]) + _flat(moved["biases"])
        values = rule.state.get(name, [0.0] * len(state_bounds[name]))  # none if it broke at 0
        state[name] = parameters_layout(allowances(values, state_bounds[name], flat_moves), case)
    return RunTolerances(result, checkable, right_slope, parameters_layout(final, case), state,
                         kinked)


# -- all of a case's tolerances ---------------------------------------------------------


def _rounded(pol: Policy, S: Rows, values: Rows, U: Optional[Rows] = None) -> Matrix:
    """Return the tolerances of a matrix whose expected values are its truth rounded once.

    The expected value is within u64·|v| of the truth (rounded to the nearest
    float64), so S gains |v|·u64/u, v the float pass's value.
    """
    share = 2.0 ** -53 / arithmetic(pol).u
    return _matrix_of(pol, [[s + share * abs(v) for s, v in zip(rs, rv)]
                            for rs, rv in zip(S, values)], U)


def _zero_in_every_order(terms: Sequence[float]) -> bool:
    """True if Σ terms, in floats, is exactly its exact value in any order of summation.

    Sufficient: all terms multiples of one power of two 2^e (every float is a
    multiple of its last bit's), and Σ|terms| < 2^(e + 53), so that every
    partial sum is a multiple of 2^e small enough to be a float.
    """
    nonzero = [Fraction(t) for t in terms if t != 0]
    if not nonzero:
        return True
    last_bit = min(Fraction(1, f.denominator) if f.denominator > 1 else Fraction(
        f.numerator & -f.numerator) for f in nonzero)
    return sum(abs(f) for f in nonzero) < last_bit * 2 ** 53


def exact_zeros(case: Mapping[str, Any]) -> Optional[List[List[List[bool]]]]:
    """Return, layer by layer, the relu or leaky_relu units whose z is 0 in every
    implementation, or None where there are none.

    A unit counts when its exact z is 0 (its expected pre-activation is exactly
    0.0) and no order of summation can round it off 0: in the first layer, its
    products x_i·w_ij are exact floats and their sum with b_j is exact in every
    order (_zero_in_every_order); in a later one, its weights and bias are all 0.
    Either slope is correct there, and the checker compares with the values for
    each (purebp/docs/vectors.md, "Exact kinks"); a zero that rounding could move
    off 0 is a kink like any other (U).
    """
    network = case["network"]
    zs = case.get("expected", {}).get("pre_activations")
    L = len(network["sizes"]) - 1
    names = [network["activation"]] * (L - 1) + [network["output_activation"]]
    if not isinstance(zs, list) or len(zs) != L or not any(n in _KINK_JUMP for n in names):
        return None
    X, W, B = case["inputs"], case["parameters"]["weights"], case["parameters"]["biases"]

    def exact(l: int, i: int, j: int) -> bool:
        column, bias = [row[j] for row in W[l]], B[l][0][j]
        if l > 0:
            return bias == 0 and all(w == 0 for w in column)
        products = [x * w for x, w in zip(X[i], column)]
        if any(Fraction(p) != Fraction(x) * Fraction(w) for p, x, w in zip(products, X[i], column)):
            return False
        return _zero_in_every_order([*products, bias])

    flags = [[[name in _KINK_JUMP and v == 0 and exact(l, i, j) for j, v in enumerate(row)]
              for i, row in enumerate(z)] for l, (name, z) in enumerate(zip(names, zs))]
    return flags if any(v for m in flags for row in m for v in row) else None


def case_tolerances(case: Mapping[str, Any], pol: Policy) -> Dict[str, Any]:
    """Return the allowed |actual − expected| for every entry of a checked case's quantities.

    The result has the layout of ``case["expected"]`` (with "outputs" added):
    nested lists of floats, one per entry, and a float for the loss, under
    the names of purebp.oracle.checker.QUANTITIES ("gradients.weights", ...);
    "trajectory_checkable" is how many of the trajectory's steps can be checked
    (and "trajectory_right_slope" the trajectory with the other slope at exact
    kinks, where the case has kinks but not that field).
    """
    network = case["network"]
    net = _float_net(case)
    lr = case["learning_rate"]
    step = _step_bounds(network, net, case["inputs"], case["targets"], lr, pol,
                        exact_zeros(case))
    result: Dict[str, Any] = {
        "pre_activations": [_rounded(pol, S, z) for S, z in zip(step.z_scales, step.zs)],
        "activations": [_rounded(pol, S, a) for S, a in zip(step.a_scales[1:],
                                                             step.activations[1:])],
    }
    result["outputs"] = result["activations"][-1]
    loss = net._loss_value(case["targets"], step.zs, step.activations)
    share = 2.0 ** -53 / arithmetic(pol).u
    result["loss"] = _tolerance(pol, step.loss_scale + share * abs(loss))
    for kind, bounds in (("weights", step.weights), ("biases", step.biases)):
        result[f"gradients.{kind}"] = [_rounded(pol, b.scale, g, b.uncertainty)
                                       for b, g in zip(bounds, step.gradients[kind])]
    if "optimizer" in case:  # one step of it from a fresh state (optimizer_step_bounds)
        values, entries = _first_step(pol, case, net, step)
        new_values = parameters_layout(values, case)
        new_bounds = parameters_layout(entries, case)
        for kind in ("weights", "biases"):
            result[f"updated.{kind}"] = [
                _rounded(pol, [[s for s, _ in row] for row in b], v, [[un for _, un in row]
                                                                      for row in b])
                for b, v in zip(new_bounds[kind], new_values[kind])]
    else:
        for kind, new, parameters in (("weights", step.updated_weights, net.weights),
                                      ("biases", step.updated_biases, net.biases)):
            grads = step.gradients[kind]
            result[f"updated.{kind}"] = [
                _rounded(pol, b.scale, [[p - lr * v for p, v in zip(rp, rg)]
                                        for rp, rg in zip(m, g)], b.uncertainty)
                for b, g, m in zip(new, grads, parameters)]
    steps = case.get("steps", 0)
    trajectory = case.get("expected", {}).get("trajectory") or [0.0] * steps
    if "optimizer" in case or "batches" in case:
        run = run_tolerances(pol, case, trajectory)
        result["trajectory"], result["trajectory_checkable"], other = (
            run.trajectory, run.checkable, run.right_slope)
        result["final.weights"], result["final.biases"] = run.final["weights"], run.final["biases"]
        result["trajectory_kinks"] = run.kinked
        for name, part in run.optimizer_state.items():
            for kind in ("weights", "biases"):
                result[f"optimizer_state.{name}.{kind}"] = part[kind]
    else:
        result["trajectory"], result["trajectory_checkable"], other = trajectory_tolerances(
            pol, case, trajectory)
    if other is not None:  # a case made before trajectory_right_slope was written
        result["trajectory_right_slope"] = other
    return result
