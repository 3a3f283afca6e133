"""The oracle: compare another implementation's numbers with the test vectors.

    load(path)                  the cases of a vector file or folder (purebp.vectors.load)
    curated()                   the curated suite, expected values included
    POLICIES                    the tolerance presets, "float64" and "float32"
    policy(preset, rtol=, atol=, ulps=)   a preset with some values replaced
    tolerances(case, policy)    the allowed error of every expected entry of a case
    compare(case, actual, policy, require)  one case's CaseResult
    check(expected, actual, policy, require)  a Report over two lists of cases
    check_files(expected_path, actual_path, ...)  the same from files or folders
    check_implementation(impl, cases=None, ...)  run a callable on each case and check it
    purebp_results(case)        what purebp's own float64 Network computes for a case
    Report                      .passed, .table(), .to_json()

The tolerance policy (docs/vectors.md gives the derivation). An entry passes
when |actual − expected| ≤ atol + rtol·S + κ·U, or when the two are within
``ulps`` units in the last place (if given), where

- S, the entry's *scale*, is the sum of the absolute values of the terms that
  make it up (Σ_i |a_i·w_ij| + |b_j| for a pre-activation, Σ_n |a_ni·δ_nj| for
  a weight gradient, and so on down the backward recursion): the rounding of
  any order of summation is at most a modest multiple of eps·S, so a correct
  implementation that adds in another order (BLAS, PyTorch) passes, while a
  relative error of 1e-6 in a well-conditioned entry is ten thousand times
  rtol and fails;
- U, the entry's *uncertainty*, carries what a correct implementation may
  legitimately do differently through the backward recursion, to first
  order: a sigmoid or tanh derivative computed from the rounded output
  (s·(1 − s), 1 − t²) is off by a few eps in absolute terms, which is 100% of
  a saturated unit's true derivative; a relu unit whose pre-activation is zero
  to rounding may take either slope. Entries that depend on such units get
  that much room and no more, so saturation and kinks raise no false alarms
  while every other entry is held to rtol.

What this module does not do: decide what an implementation computes (a
results file or ``impl`` fills in any subset of the quantities; the rest are
"not checked" unless ``require`` names them), or read anything but the
test-vector format (purebp.vectors).
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from purebp.activations import softmax as _softmax
from purebp.network import Network
from purebp.oracle import vectors
from purebp.oracle.vectors import curated, load

__all__ = [
    "POLICIES",
    "QUANTITIES",
    "CaseResult",
    "Policy",
    "QuantityResult",
    "Report",
    "check",
    "check_files",
    "check_implementation",
    "compare",
    "compare_quantity",
    "curated",
    "load",
    "policy",
    "purebp_results",
    "tolerances",
    "ulp_distance",
]


class Policy(NamedTuple):
    """A tolerance policy: see the module docstring."""

    name: str
    rtol: float    # relative to each entry's scale S
    atol: float    # absolute floor (for values that underflow)
    ulps: Optional[int]  # also pass within this many units in the last place
    eps: float     # the machine epsilon of the arithmetic being checked
    kappa: float   # safety factor on the uncertainty U


POLICIES: Dict[str, Policy] = {
    # rtol 1e-10: a thousand times the worst rounding of the curated suite's
    # longest sums (64 terms, 7 layers: ~1e-13·S), ten thousand times below 1e-6.
    "float64": Policy("float64", rtol=1e-10, atol=1e-320, ulps=None, eps=2.0 ** -52, kappa=4.0),
    # float32 arithmetic: eps 1.2e-7, so the same reasoning gives 2e-4; atol
    # lets values below float32's range (1e-300) come back as 0.
    "float32": Policy("float32", rtol=2e-4, atol=1e-37, ulps=None, eps=2.0 ** -23, kappa=4.0),
}

#: The quantities, in report order; "outputs" is the last layer's activations.
QUANTITIES = (
    "pre_activations", "activations", "outputs", "loss",
    "gradients.weights", "gradients.biases", "updated.weights", "updated.biases", "trajectory",
)


def policy(preset: str = "float64", rtol: Optional[float] = None, atol: Optional[float] = None,
           ulps: Optional[int] = None) -> Policy:
    """Return the preset policy with the given values replaced."""
    if preset not in POLICIES:
        raise ValueError(f"unknown preset {preset!r}; expected one of {', '.join(POLICIES)}")
    base = POLICIES[preset]
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number ≥ 0, got {value!r}")
    if ulps is not None and (isinstance(ulps, bool) or not isinstance(ulps, int) or ulps < 0):
        raise ValueError(f"ulps must be an int ≥ 0, got {ulps!r}")
    return base._replace(rtol=base.rtol if rtol is None else rtol,
                         atol=base.atol if atol is None else atol,
                         ulps=base.ulps if ulps is None else ulps)


# -- scales and uncertainties ------------------------------------------------------------

#: max |f″| of the smooth activations (sigmoid: 1/(6√3); tanh: 4/(3√3)).
_CURVATURE = {"sigmoid": 0.0963, "tanh": 0.770, "identity": 0.0}
#: The jump of the derivative at the kink.
_KINK_JUMP = {"relu": 1.0, "leaky_relu": 0.99}


def _abs_matmul(A, B):
    """|A|·|B| for matrices of non-negative numbers (or any: abs is applied)."""
    Bt = list(zip(*B))
    return [[math.fsum(abs(a) * abs(b) for a, b in zip(row, col)) for col in Bt] for row in A]


def _slope_and_uncertainty(name: str, z: float, a: float, dz: float, eps: float):
    """Return (|f′(z)|, how far a correct f′ may be from it) for one unit."""
    if name in _KINK_JUMP:
        slope = 1.0 if z > 0 else 1.0 - _KINK_JUMP[name]
        # z within its own rounding of 0: either side's slope is correct
        return slope, (_KINK_JUMP[name] if abs(z) <= dz else 0.0)
    if name == "identity":
        return 1.0, 0.0
    slope = a * (1.0 - a) if name == "sigmoid" else 1.0 - a * a
    # from the rounded output (≈ 4 eps) and from the rounding of z itself
    return abs(slope), 4.0 * eps + _CURVATURE[name] * dz


def tolerances(case: Dict[str, Any], pol: Policy) -> Dict[str, Any]:
    """Return the allowed |actual − expected| for every entry of a case's quantities.

    The result has the layout of ``case["expected"]`` (with "outputs" added):
    nested lists of floats, one per entry, and a float for the loss.
    """
    network = case["network"]
    sizes = network["sizes"]
    L = len(sizes) - 1
    net = Network(sizes, network["activation"], network["output_activation"],
                  network["loss"], seed=0)
    W = case["parameters"]["weights"]
    B = case["parameters"]["biases"]
    net.weights, net.biases = W, B
    X, y, lr = case["inputs"], case["targets"], case["learning_rate"]
    zs, acts = net._forward(X)
    eps, k = pol.eps, pol.kappa
    n = len(X)

    def tol(scale: float, uncertainty: float = 0.0) -> float:
        return pol.atol + pol.rtol * scale + k * uncertainty

    # forward: Ez = Σ (|a| + Ea)|W| + |b|, Ea = slope·Ez + |a|  (errors in units of eps)
    Ea = [[0.0] * sizes[0] for _ in range(n)]
    Ez_all, Ea_all = [], []
    for l in range(L):
        mags = [[abs(v) + e for v, e in zip(ra, re)] for ra, re in zip(acts[l], Ea)]
        Ez = [[s + abs(b) for s, b in zip(row, B[l][0])] for row in _abs_matmul(mags, W[l])]
        name = network["output_activation"] if l == L - 1 else network["activation"]
        if name == "softmax":
            # ds_k = s_k·(dz_k − Σ_j s_j·dz_j), at most 2·s_k·(1 − s_k)·max|dz|
            Ea = [[abs(v) * (1.0 + 2.0 * (1.0 - v) * max(ez)) for v in ra]
                  for ra, ez in zip(acts[l + 1], Ez)]
        else:
            lip = {"sigmoid": 0.25, "identity": 1.0}.get(name, 1.0)
            Ea = [[lip * ez + abs(v) for ez, v in zip(rz, ra)] for rz, ra in zip(Ez, acts[l + 1])]
        Ez_all.append(Ez)
        Ea_all.append(Ea)
    result: Dict[str, Any] = {
        "pre_activations": [[[tol(e) for e in row] for row in Ez] for Ez in Ez_all],
        "activations": [[[tol(e) for e in row] for row in Ea] for Ea in Ea_all],
    }
    result["outputs"] = result["activations"][-1]

    # the loss: its terms' sizes, with the outputs' own errors
    loss = network["loss"]
    zL, aL, EzL, EaL = zs[-1], acts[-1], Ez_all[-1], Ea_all[-1]
    if loss in ("half_sse", "mse"):
        terms = math.fsum(abs(a - t) * (abs(a) + abs(t) + 2 * e)
                          for ra, rt, re in zip(aL, y, EaL) for a, t, e in zip(ra, rt, re))
        loss_scale = terms / (2 if loss == "half_sse" else n * sizes[-1])
    elif loss == "bce":
        loss_scale = math.fsum(abs(z) + e + 1.0 for rz, re in zip(zL, EzL)
                               for z, e in zip(rz, re)) / (n * sizes[-1])
    else:
        loss_scale = math.fsum(math.fsum(abs(t) for t in rt) * (2 * max(abs(z) for z in rz)
                                                                  + 2 * max(re) + 1.0)
                               for rt, rz, re in zip(y, zL, EzL)) / n
    result["loss"] = tol(loss_scale)

    # backward: magnitudes D and uncertainties dD of the deltas, layer by layer
    D, dD = _output_delta_bounds(network, y, zL, aL, EzL, EaL, eps, n, sizes[-1])
    G_w, dG_w, G_b, dG_b = [None] * L, [None] * L, [None] * L, [None] * L
    for l in range(L - 1, -1, -1):
        a_prev = acts[l]
        Ea_prev = [[0.0] * sizes[0] for _ in range(n)] if l == 0 else Ea_all[l - 1]
        G_w[l] = _abs_matmul(list(zip(*a_prev)), D)
        dG_w[l] = [[u + eps * v for u, v in zip(r1, r2)] for r1, r2 in
                   zip(_abs_matmul(list(zip(*a_prev)), dD), _abs_matmul(list(zip(*Ea_prev)), D))]
        G_b[l] = [[math.fsum(col) for col in zip(*D)]]
        dG_b[l] = [[math.fsum(col) for col in zip(*dD)]]
        if l > 0:
            back = _abs_matmul(D, list(zip(*W[l])))
            dback = _abs_matmul(dD, list(zip(*W[l])))
            name = network["activation"]
            D, dD = [], []
            for rb, rdb, rz, ra, rez in zip(back, dback, zs[l - 1], acts[l], Ez_all[l - 1]):
                row_d, row_dd = [], []
                for b_, db_, z, a, ez in zip(rb, rdb, rz, ra, rez):
                    slope, u = _slope_and_uncertainty(name, z, a, k * eps * ez, eps)
                    row_d.append(b_ * slope)
                    row_dd.append(db_ * (slope + u) + b_ * u)
                D.append(row_d)
                dD.append(row_dd)

    def grad_tol(G, dG):
        return [[[tol(g, u) for g, u in zip(rg, ru)] for rg, ru in zip(mg, mu)]
                for mg, mu in zip(G, dG)]

    result["gradients.weights"] = grad_tol(G_w, dG_w)
    result["gradients.biases"] = grad_tol(G_b, dG_b)

    def updated_tol(P, G, dG):
        return [[[pol.atol + pol.rtol * (abs(p) + lr * g) + k * lr * u
                  for p, g, u in zip(rp, rg, ru)] for rp, rg, ru in zip(mp, mg, mu)]
                for mp, mg, mu in zip(P, G, dG)]

    result["updated.weights"] = updated_tol(W, G_w, dG_w)
    result["updated.biases"] = updated_tol(B, G_b, dG_b)

    # the trajectory: a parameter off by Δθ after a step moves the next loss by
    # about |∂loss/∂θ|·Δθ, where ∂loss/∂θ is itself only known to within its
    # uncertainty (a kink's other slope); summed over parameters and steps.
    grads = net._backpropagate(y, zs, acts)
    drift = 0.0
    for kind, G, dG in (("weights", G_w, dG_w), ("biases", G_b, dG_b)):
        for mg, mG, mdG in zip(grads[kind], G, dG):
            for rg, rG, rdG in zip(mg, mG, mdG):
                drift += math.fsum((abs(g) + k * u) * lr * (pol.rtol * s + k * u)
                                   for g, s, u in zip(rg, rG, rdG))
    steps = case.get("steps", 0)
    # Each step may add rounding of its own, relative to that step's loss (a
    # sum of non-negative terms, so |loss| is its own scale).
    trajectory = case.get("expected", {}).get("trajectory") or [0.0] * steps
    result["trajectory"] = [tol((1 + 10 * s) * (loss_scale + abs(trajectory[s]))) + 2 * s * drift
                            for s in range(steps)]
    return result


def _output_delta_bounds(network, y, z, a, Ez, Ea, eps, n, k_out):
    """Magnitudes and uncertainties of ∂loss/∂z for the last layer."""
    loss, name = network["loss"], network["output_activation"]
    D, dD = [], []
    for rt, rz, ra, rez, rea in zip(y, z, a, Ez, Ea):
        row_d, row_dd = [], []
        if loss == "cross_entropy":
            mass = math.fsum(abs(t) for t in rt)
            s_row = _softmax(rz)
            spread = 2.0 * max(rez) * eps
            for t, s in zip(rt, s_row):
                row_d.append((mass * s + abs(t)) / n)
                row_dd.append(mass * s * (1.0 - s) * spread / n)
        elif loss == "bce":
            for t, zz, ez in zip(rt, rz, rez):
                sig = 1.0 / (1.0 + math.exp(-zz)) if zz > -700 else 0.0
                row_d.append((sig + abs(t)) / (n * k_out))
                row_dd.append((sig * (1.0 - sig) * ez * eps + eps) / (n * k_out))
        else:
            factor = 1.0 if loss == "half_sse" else 2.0 / (n * k_out)
            for t, zz, aa, ez, ea in zip(rt, rz, ra, rez, rea):
                slope, u = _slope_and_uncertainty(name, zz, aa, 4 * eps * ez, eps)
                diff = abs(aa) + abs(t)
                row_d.append(factor * diff * slope)
                row_dd.append(factor * (ea * eps * (slope + u) + diff * u))
        D.append(row_d)
        dD.append(row_dd)
    return D, dD


# -- comparing ---------------------------------------------------------------------------


def _ordinal(x: float, single: bool) -> int:
    """Return an integer that counts floats: neighbours differ by 1 (float32 if single)."""
    if single:
        try:
            (bits,) = struct.unpack("<i", struct.pack("<f", x))
        except OverflowError:
            return (1 << 31) if x > 0 else -(1 << 31)
        return bits if bits >= 0 else -(bits & 0x7FFFFFFF)
    (bits,) = struct.unpack("<q", struct.pack("<d", x))
    return bits if bits >= 0 else -(bits & 0x7FFFFFFFFFFFFFFF)


def ulp_distance(a: float, b: float, single: bool = False) -> int:
    """Return how many floats lie between a and b, plus one (0 when equal).

    >>> ulp_distance(1.0, 1.0 + 2 ** -52)
    1
    """
    return abs(_ordinal(a, single) - _ordinal(b, single))


class QuantityResult(NamedTuple):
    """One quantity of one case: status and the largest errors found."""

    name: str
    status: str  # "pass", "fail", "not checked"
    max_abs_error: Optional[float]
    max_rel_error: Optional[float]
    max_ulps: Optional[int]
    detail: str  # where the worst entry is, or why it failed or was not checked
    max_used: Optional[float] = None  # the largest error as a fraction of its tolerance


class CaseResult(NamedTuple):
    """All quantities of one case."""

    id: str
    quantities: List[QuantityResult]

    @property
    def passed(self) -> bool:
        return all(q.status != "fail" for q in self.quantities)


def _get(expected: Dict[str, Any], name: str) -> Any:
    if name == "outputs":
        if "outputs" in expected:
            return expected["outputs"]
        acts = expected.get("activations")
        return acts[-1] if isinstance(acts, list) and acts else None
    part, _, sub = name.partition(".")
    value = expected.get(part)
    if sub:
        return value.get(sub) if isinstance(value, dict) else None
    return value


def _entries(value: Any, path: str = "") -> List[Tuple[str, Any]]:
    if isinstance(value, (list, tuple)):
        out: List[Tuple[str, Any]] = []
        for i, v in enumerate(value):
            out.extend(_entries(v, f"{path}[{i}]"))
        return out
    return [(path, value)]


def _shape(value: Any) -> Any:
    """Return a nested description of a value's shape, every differing row shown."""
    if isinstance(value, (list, tuple)):
        inner = [_shape(v) for v in value]
        if all(i == inner[0] for i in inner):
            inner = inner[:1]
        return [len(value)] + inner
    return None


def compare_quantity(name: str, expected: Any, actual: Any, tolerance: Any,
                     pol: Policy) -> QuantityResult:
    """Compare one quantity entry by entry under the policy."""
    exp, act, tol = _entries(expected), _entries(actual), _entries(tolerance)
    if len(exp) != len(act) or [p for p, _ in exp] != [p for p, _ in act]:
        return QuantityResult(name, "fail", None, None, None,
                              f"shape {_shape(actual)} but expected {_shape(expected)}")
    single = pol.name == "float32"
    worst_abs = worst_rel = worst_used = 0.0
    worst_ulps = 0
    failure = None
    for (path, e), (_, a), (_, t) in zip(exp, act, tol):
        try:
            a = float(a)
        except (TypeError, ValueError, OverflowError):
            return QuantityResult(name, "fail", None, None, None, f"{name}{path}: not a number: {a!r}")
        if not math.isfinite(a):
            return QuantityResult(name, "fail", math.inf, math.inf, None,
                                  f"{name}{path}: {a!r} where {e!r} was expected")
        error = abs(a - e)
        ulps = ulp_distance(a, e, single)
        rel = error / abs(e) if e != 0 else (0.0 if error == 0 else math.inf)
        worst_abs, worst_rel, worst_ulps = max(worst_abs, error), max(worst_rel, rel), max(worst_ulps, ulps)
        worst_used = max(worst_used, error / t if t > 0 else (0.0 if error == 0 else math.inf))
        ok = error <= t or (pol.ulps is not None and ulps <= pol.ulps)
        if not ok and (failure is None or error / max(t, 1e-300) > failure[0]):
            failure = (error / max(t, 1e-300),
                       f"{name}{path}: got {a!r}, expected {e!r} (error {error:.3g},"
                       f" allowed {t:.3g})")
    if failure is not None:
        return QuantityResult(name, "fail", worst_abs, worst_rel, worst_ulps, failure[1], worst_used)
    return QuantityResult(name, "pass", worst_abs, worst_rel, worst_ulps, "", worst_used)


def compare(case: Dict[str, Any], actual: Dict[str, Any], pol: Optional[Policy] = None,
            require: Sequence[str] = ()) -> CaseResult:
    """Compare the quantities in ``actual`` (an "expected"-style dict) with the case's."""
    pol = pol or POLICIES["float64"]
    tolerance = tolerances(case, pol)
    results = []
    for part in ("gradients", "updated"):
        if part in actual and not isinstance(actual[part], dict):
            results.append(QuantityResult(part, "fail", None, None, None,
                                          f"{part} must be a dict with 'weights' and 'biases',"
                                          f" got {type(actual[part]).__name__}"))
    for name in QUANTITIES:
        want = _get(case["expected"], name)
        got = _get(actual, name)
        if want is None:
            continue
        if got is None:
            required = any(name == r or name.startswith(r + ".") for r in require)
            results.append(QuantityResult(name, "fail" if required else "not checked",
                                          None, None, None,
                                          "required but missing" if required else "not given"))
            continue
        results.append(compare_quantity(name, want, got, tolerance[name], pol))
    return CaseResult(case["id"], results)


class Report(NamedTuple):
    """The results of a check: one CaseResult per case, plus ids that could not be matched."""

    cases: List[CaseResult]
    policy: Policy
    unknown_ids: List[str]

    @property
    def passed(self) -> bool:
        return not self.unknown_ids and all(c.passed for c in self.cases)

    def counts(self) -> Dict[str, int]:
        counts = {"pass": 0, "fail": 0, "not checked": 0}
        for c in self.cases:
            for q in c.quantities:
                counts[q.status] += 1
        return counts

    def table(self, failures_only: bool = False) -> str:
        """Return the report as a text table, one line per case and quantity."""
        def fmt(v):
            return "-" if v is None else (f"{v:.2e}" if isinstance(v, float) else str(v))

        lines = [f"{'case':<26} {'quantity':<18} {'max abs err':>11} {'max rel err':>11}"
                 f" {'max ulps':>10} {'tol used':>9}  result"]
        for c in self.cases:
            for q in c.quantities:
                if failures_only and q.status != "fail":
                    continue
                used = "-" if q.max_used is None else (
                    f"{100 * q.max_used:.1f}%" if q.max_used < 10 else ">1000%")
                lines.append(f"{c.id:<26} {q.name:<18} {fmt(q.max_abs_error):>11}"
                             f" {fmt(q.max_rel_error):>11} {fmt(q.max_ulps):>10} {used:>9}"
                             f"  {q.status.upper()}")
                if q.status == "fail":
                    lines.append(f"    {q.detail}")
        for case_id in self.unknown_ids:
            lines.append(f"{case_id:<26} {'(whole case)':<18} {'':>11} {'':>11} {'':>10}"
                         f" {'':>9}  FAIL")
            lines.append("    this id is not among the expected cases")
        n = self.counts()
        lines.append(f"{len(self.cases)} cases: {n['pass']} passed, {n['fail']} failed,"
                     f" {n['not checked']} not checked ({self.policy.name} policy,"
                     f" rtol {self.policy.rtol!r}, atol {self.policy.atol!r}"
                     + (f", ulps {self.policy.ulps}" if self.policy.ulps is not None else "") + ")")
        lines.append("PASS" if self.passed else "FAIL")
        return "\n".join(lines)

    def to_json(self) -> str:
        """Return the report as JSON (finite numbers only; inf written as null)."""
        def num(v):
            return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v

        return json.dumps({
            "format": "purebp-check-report", "version": 1, "passed": self.passed,
            "policy": self.policy._asdict(), "counts": self.counts(),
            "unknown_ids": self.unknown_ids,
            "cases": [{"id": c.id, "passed": c.passed, "quantities": [
                {"name": q.name, "status": q.status, "max_abs_error": num(q.max_abs_error),
                 "max_rel_error": num(q.max_rel_error), "max_ulps": q.max_ulps,
                 "tolerance_used": num(q.max_used), "detail": q.detail} for q in c.quantities]} for c in self.cases],
        }, indent=1, allow_nan=False)


def check(expected: List[Dict[str, Any]], actual: List[Dict[str, Any]],
          pol: Optional[Policy] = None, require: Sequence[str] = ()) -> Report:
    """Check results (cases with partial "expected") against expected cases, by id."""
    pol = pol or POLICIES["float64"]
    by_id = {c["id"]: c for c in actual}
    known = {c["id"] for c in expected}
    results = [compare(c, by_id.get(c["id"], {}).get("expected", {}), pol, require)
               for c in expected]
    return Report(results, pol, [c["id"] for c in actual if c["id"] not in known])


def check_files(expected_path: str, actual_path: str, pol: Optional[Policy] = None,
                require: Sequence[str] = ()) -> Report:
    """Check a results file or folder against an expected file or folder."""
    expected = vectors.load(expected_path)
    for case in expected:
        if "expected" not in case:
            raise vectors.VectorFormatError(f"{expected_path}: case {case['id']!r} has no expected values")
    actual = vectors.load(actual_path, partial=True)
    return check(expected, actual, pol, require)


def purebp_results(case: Dict[str, Any]) -> Dict[str, Any]:
    """Return every quantity of a case as purebp's float64 ``Network`` computes it.

    The layout is that of a case's "expected"; this is purebp taking part as
    an implementation (its error against the 50-digit truth is measured by
    the tests and stated in the README).
    """
    spec = case["network"]
    net = Network(spec["sizes"], spec["activation"], spec["output_activation"], spec["loss"],
                  seed=0)
    net.weights = [[list(row) for row in m] for m in case["parameters"]["weights"]]
    net.biases = [[list(row) for row in m] for m in case["parameters"]["biases"]]
    X, y, lr = case["inputs"], case["targets"], case["learning_rate"]
    net.forward(X)
    result: Dict[str, Any] = {
        "pre_activations": net.zs, "activations": net.activations[1:],
        "loss": net.loss(X, y), "gradients": net.gradients(X, y),
    }
    trajectory = []
    for step in range(max(case.get("steps", 0), 1)):
        trajectory.append(net.step(X, y, lr))
        if step == 0:
            result["updated"] = {"weights": net.weights, "biases": net.biases}
    result["trajectory"] = trajectory[: case.get("steps", 0)]
    return result


def check_implementation(impl: Callable[[Dict[str, Any]], Dict[str, Any]],
                         cases: Optional[Iterable[Dict[str, Any]]] = None,
                         pol: Optional[Policy] = None, require: Sequence[str] = ()) -> Report:
    """Run ``impl`` on each case and check what it returns.

    ``impl(case)`` gets a case without its expected values (a dict with
    ``network``, ``parameters``, ``inputs``, ``targets``, ``learning_rate``
    and ``steps``; see docs/vectors.md) and returns a dict with any of
    ``pre_activations``, ``activations``, ``outputs``, ``loss``,
    ``gradients`` ({"weights", "biases"}), ``updated`` ({"weights",
    "biases"}) and ``trajectory``. ``cases`` defaults to the curated suite.
    An exception from ``impl`` fails that case with its message.
    """
    pol = pol or POLICIES["float64"]
    cases = list(vectors.curated() if cases is None else cases)
    results = []
    for case in cases:
        try:
            got = impl(vectors.case_input(case))
        except Exception as error:  # the implementation under test failed: report, go on
            results.append(CaseResult(case["id"], [QuantityResult(
                "(call)", "fail", None, None, None, f"raised {type(error).__name__}: {error}")]))
            continue
        if not isinstance(got, dict):
            results.append(CaseResult(case["id"], [QuantityResult(
                "(call)", "fail", None, None, None,
                f"returned {type(got).__name__}, expected a dict of quantities")]))
            continue
        results.append(compare(case, got, pol, require))
    return Report(results, pol, [])
