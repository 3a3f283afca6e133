"""The oracle: compare another implementation's numbers with the test vectors.

    load(path)                  the cases of a vector file or folder (purebp.oracle.vectors.load)
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

An entry passes when |actual − expected| ≤ atol + rtol·S + κ·U, or when the
two are within ``ulps`` units in the last place (if given): S is the entry's
scale, the sum of the absolute values of the terms that make it, and U its
uncertainty, what a correct implementation may legitimately compute
differently (a saturated unit's derivative from its rounded output, either
slope at a kink). purebp.oracle.tolerance_policy computes both, one function per
quantity; docs/vectors.md gives the derivation. POLICIES, Policy, policy and
tolerances are importable from here as well.

What this module does not do: decide what an implementation computes (a
results file or ``impl`` fills in any subset of the quantities; the rest are
"not checked" unless ``require`` names them), or read anything but the
test-vector format (purebp.oracle.vectors).
"""

from __future__ import annotations

import json
import math
import os
import struct
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from purebp._checks import shown_path
from purebp.network import Network
from purebp.oracle import vectors
from purebp.oracle.tolerance_policy import POLICIES, Policy, policy, tolerances
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


#: The quantities, in report order; "outputs" is the last layer's activations.
QUANTITIES = (
    "pre_activations", "activations", "outputs", "loss",
    "gradients.weights", "gradients.biases", "updated.weights", "updated.biases", "trajectory",
)


# -- comparing ---------------------------------------------------------------------------


def _ordinal(x: float, single: bool) -> int:
    """Return an integer that counts floats: neighbours differ by 1 (float32 if single)."""
    if single:
        try:
            bits: int = struct.unpack("<i", struct.pack("<f", x))[0]
        except OverflowError:
            return (1 << 31) if x > 0 else -(1 << 31)
        return bits if bits >= 0 else -(bits & 0x7FFFFFFF)
    bits = struct.unpack("<q", struct.pack("<d", x))[0]
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


def _get(expected: Mapping[str, Any], name: str) -> Any:
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


def _ratio(error: float, allowed: float) -> float:
    """Return error / allowed: 0 when both are 0, inf when only ``allowed`` is."""
    return error / allowed if allowed > 0 else (0.0 if error == 0 else math.inf)


def _unusable(name: str, path: str, got: Any, want: float) -> Optional[QuantityResult]:
    """Return the failure of an entry that is not a finite number, or None if it is one."""
    try:
        value = float(got)
    except (TypeError, ValueError, OverflowError):
        return QuantityResult(name, "fail", None, None, None, f"{name}{path}: not a number: {got!r}")
    if not math.isfinite(value):
        return QuantityResult(name, "fail", math.inf, math.inf, None,
                              f"{name}{path}: {value!r} where {want!r} was expected")
    return None


def compare_quantity(name: str, expected: Any, actual: Any, tolerance: Any,
                     pol: Policy) -> QuantityResult:
    """Compare one quantity entry by entry under the policy."""
    exp, act, tol = _entries(expected), _entries(actual), _entries(tolerance)
    if [p for p, _ in exp] != [p for p, _ in act]:
        return QuantityResult(name, "fail", None, None, None,
                              f"shape {_shape(actual)} but expected {_shape(expected)}")
    single = pol.name == "float32"
    worst_abs = worst_rel = worst_used = 0.0
    worst_ulps = 0
    failure = None
    for (path, e), (_, a), (_, t) in zip(exp, act, tol):
        unusable = _unusable(name, path, a, e)
        if unusable is not None:
            return unusable
        a = float(a)
        error = abs(a - e)
        ulps = ulp_distance(a, e, single)
        worst_abs, worst_ulps = max(worst_abs, error), max(worst_ulps, ulps)
        worst_rel, worst_used = max(worst_rel, _ratio(error, abs(e))), max(worst_used, _ratio(error, t))
        ok = error <= t or (pol.ulps is not None and ulps <= pol.ulps)
        if not ok and (failure is None or error / max(t, 1e-300) > failure[0]):
            failure = (error / max(t, 1e-300),
                       f"{name}{path}: got {a!r}, expected {e!r} (error {error:.3g},"
                       f" allowed {t:.3g})")
    if failure is not None:
        return QuantityResult(name, "fail", worst_abs, worst_rel, worst_ulps, failure[1], worst_used)
    return QuantityResult(name, "pass", worst_abs, worst_rel, worst_ulps, "", worst_used)


def compare(case: Mapping[str, Any], actual: Mapping[str, Any], pol: Optional[Policy] = None,
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
        def fmt(v: Optional[float]) -> str:
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
        def num(v: Optional[float]) -> Optional[float]:
            return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v

        return json.dumps({
            "format": "purebp-check-report", "version": 1, "passed": self.passed,
            "policy": self.policy._asdict(), "counts": self.counts(),
            "unknown_ids": self.unknown_ids,
            "cases": [{"id": c.id, "passed": c.passed, "quantities": [
                {"name": q.name, "status": q.status, "max_abs_error": num(q.max_abs_error),
                 "max_rel_error": num(q.max_rel_error), "max_ulps": q.max_ulps,
                 "tolerance_used": num(q.max_used), "detail": q.detail}
                for q in c.quantities]} for c in self.cases],
        }, indent=1, allow_nan=False)


def check(expected: Sequence[Mapping[str, Any]], actual: Sequence[Mapping[str, Any]],
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
            raise vectors.VectorFormatError(
                f"check_files: expected_path must hold expected values for every case, got"
                f" case {case['id']!r} without them in {shown_path(os.fspath(expected_path))}")
    actual = vectors.load(actual_path, partial=True)
    return check(expected, actual, pol, require)


def purebp_results(case: Mapping[str, Any]) -> Dict[str, Any]:
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
