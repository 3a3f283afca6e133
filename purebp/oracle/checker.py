"""The oracle: compare another implementation's numbers with the test vectors.

    load(path)                  the cases of a vector file or folder (purebp.oracle.vectors.load)
    curated()                   the curated suite, expected values included
    POLICIES                    the tolerance presets, "float64" and "float32"
    policy(preset, rtol=, atol=, ulps=)   a preset with some values replaced
    tolerances(case, policy)    the allowed error of every expected entry of a case
    op_tolerances(case, policy)  the same for a per-operation case (purebp.oracle.ops)
    compare(case, actual, policy, require)  one case's CaseResult
    check(expected, actual, policy, require, subset)  a Report over two lists of cases
    check_files(expected_path, actual_path, ...)  the same from files or folders
    check_implementation(impl, cases=None, ...)  run a callable on each case and check it
    purebp_results(case)        what purebp's own float64 Network computes for a case
    Report                      .passed, .table(), .verdict(), .to_json()
    CaseResult.first_failure    the failing quantity computed first, with its layer and phase
    QuantityResult.layers       a quantity held per layer, compared layer by layer

A failing case's CaseResult carries its ``diagnosis``: the classic mistakes
its numbers match (purebp.oracle.diagnosis), shown by the table and the JSON.

An entry passes when |actual − expected| ≤ atol + rtol·S + κ·U, or when the
two are within ``ulps`` units in the last place (if given): S is the entry's
rounding scale, a first-order bound of what rounding in any order of
summation can do to it (in units of the arithmetic's unit roundoff u; the
presets' rtol is 16·u), and U its uncertainty, what a correct implementation
may legitimately compute differently (either slope at a kink). A trajectory's
bound grows as the run amplifies rounding, and its steps beyond a useful
bound are reported, not judged (_compare_trajectory).
purebp.oracle.tolerance_policy computes both, one function per quantity;
purebp/docs/vectors.md gives the derivation. POLICIES, Policy, policy and
tolerances are importable from here as well. Where an entry's truth or its
tolerance lies beyond the float range, it passes only if equal, fails only
where that is certain, and is otherwise "not checkable", never a pass
(_judge; purebp/docs/vectors.md, "Beyond the float range"). Results may be numpy
arrays and scalars: they are read as Python floats (_plain).

Results may be NaN or ±inf (a results file's NaN and Infinity literals, an
overflow in numpy): such an entry fails, "got nan", unless it is the very
infinity expected; the quantity's line says how many entries are not finite.

A failing case is reported in the order a step computes its quantities
(_computed_order): the forward pass layer by layer (z⁰, a⁰, z¹, …), the
loss, the backward pass from the last layer, the update from the first, the
trajectory. Each quantity held per layer is compared once whole and once
layer by layer (``QuantityResult.layers``), so that ``first_failure`` can
name the first layer to go wrong, and the report can show a table per layer
(Report.table(layers=True), ``purebp check --per-layer``; "first_failure" and
"layers" in to_json()).

What this module does not do: decide what an implementation computes (a
results file or ``impl`` fills in any subset of the quantities; the rest are
"not checked" unless ``require`` names them), or read anything but the
test-vector format (purebp.oracle.vectors). Per-operation cases (with
"op": one dense layer, activation or loss) are compared the same way, on
their own quantities OP_QUANTITIES (_compare_op); a suite may mix both kinds.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import struct
import sys
from decimal import ROUND_FLOOR, Decimal, localcontext
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from purebp import _checks, optimizers
from purebp._checks import shown_path
from purebp.network import Network
from purebp.oracle import exact, vectors
from purebp.oracle.diagnosis import Diagnosis, diagnose
from purebp.oracle.ops import op_tolerances
from purebp.oracle.tolerance_policy import (
    POLICIES,
    USEFUL_TRAJECTORY,
    Policy,
    arithmetic,
    case_tolerances,
    checked_policy,
    exact_zeros,
    optimizer_of,
    parameters_layout,
    policy,
    wide_loss_tolerance,
)
from purebp.oracle.vectors import OP_QUANTITIES, curated, load

__all__ = [
    "OP_QUANTITIES",
    "POLICIES",
    "QUANTITIES",
    "CaseResult",
    "FirstFailure",
    "LayerResult",
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
    "op_tolerances",
    "phase_of",
    "policy",
    "purebp_results",
    "tolerances",
    "ulp_distance",
]


#: The quantities, in report order; "outputs" is the last layer's activations. The last
#: ones, after the last step, only cases with an optimizer or mini-batches have: the
#: parameters, the step count and each buffer of the optimizer's state (torch's names).
QUANTITIES = (
    "pre_activations", "activations", "outputs", "loss",
    "gradients.weights", "gradients.biases", "updated.weights", "updated.biases", "trajectory",
    "final.weights", "final.biases", "optimizer_state.step",
) + tuple(f"optimizer_state.{name}.{kind}" for name in vectors.STATE_BUFFERS
          for kind in ("weights", "biases"))


# -- comparing ---------------------------------------------------------------------------


def _count(items: Sequence[str], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _some(ids: Sequence[str], shown: int = 5) -> str:
    """Return the first few ids, comma-separated, and how many more there are."""
    more = f", and {len(ids) - shown} more" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more


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
    for name, value in (("a", a), ("b", b)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"ulp_distance: {name} must be a float, got {_checks._describe(value)}")
        try:
            float(value)
        except OverflowError:  # an int past the float range (10**400)
            raise ValueError(f"ulp_distance: {name} must fit in a float, got"
                             f" {_checks._describe(value)}") from None
    if not isinstance(single, bool):
        raise TypeError(f"ulp_distance: single must be True or False, got"
                        f" {_checks._describe(single)}")
    a, b = float(a), float(b)
    return abs(_ordinal(a, single) - _ordinal(b, single))


class LayerResult(NamedTuple):
    """One layer's part of a quantity held per layer (gradients.weights[1], say)."""

    layer: int  # l = 0 … L−1: the weight layer, as in parameters.weights[l]
    status: str  # as QuantityResult's
    max_abs_error: Optional[float]
    max_used: Optional[float]  # the layer's largest error as a fraction of its tolerance
    detail: str  # the layer's worst entry, in full ("gradients.weights[1][0][2]: got …")


class QuantityResult(NamedTuple):
    """One quantity of one case: status and the largest errors found."""

    name: str
    status: str  # "pass", "fail", "not checked" (not given), "not checkable" (beyond float range)
    max_abs_error: Optional[float]
    max_rel_error: Optional[float]
    max_ulps: Optional[int]
    detail: str  # where the worst entry is, or why it failed or was not checked
    max_used: Optional[float] = None  # the largest error as a fraction of its tolerance
    layers: Tuple[LayerResult, ...] = ()  # one per layer, where the quantity has layers


#: The phases of a training step, in the order a first failure is looked for; "final" is
#: what the run has left after its last step (parameters and optimizer state).
PHASES = ("forward", "loss", "backward", "update", "trajectory", "final")
#: The phase of each quantity (by the part of its name before the dot).
_PHASE_OF = {"pre_activations": "forward", "activations": "forward", "outputs": "forward",
             "loss": "loss", "gradients": "backward", "updated": "update",
             "trajectory": "trajectory", "final": "final", "optimizer_state": "final",
             # a per-operation case: its value, then the gradients of its inputs
             "output": "forward", "grad_inputs": "backward", "grad_weights": "backward",
             "grad_biases": "backward"}
#: Within one layer of one phase: z before a = f(z) before the outputs; W before b.
_RANK_IN_LAYER = {"pre_activations": 0, "activations": 1, "outputs": 2,
                  "gradients.weights": 0, "gradients.biases": 1,
                  "updated.weights": 0, "updated.biases": 1,
                  "final.weights": 0, "final.biases": 1,
                  **{f"optimizer_state.{name}.{kind}": 2 + 2 * i + j
                     for i, name in enumerate(vectors.STATE_BUFFERS)
                     for j, kind in enumerate(("weights", "biases"))}}


def phase_of(name: str) -> str:
    """Return the phase a quantity belongs to ("call" for a failed call of the implementation).

    >>> phase_of("gradients.biases"), phase_of("outputs")
    ('backward', 'forward')
    """
    return _PHASE_OF.get(name.partition(".")[0], "call")


def _computed_order(name: str, layer: Optional[int]) -> Tuple[float, float, int]:
    """Return where (quantity, layer) is computed: forward, loss, backward, update, trajectory.

    The forward pass goes z⁰, a⁰, z¹, a¹, …; the backward pass from the last
    layer to the first; the update from the first to the last. A failure with no
    layer (a quantity with the wrong number of layers) comes first in its phase;
    a failed call before everything.
    """
    phase = phase_of(name)
    where = PHASES.index(phase) if phase in PHASES else -1
    if layer is None:
        step = -math.inf
    else:
        step = -layer if phase == "backward" else layer
    return float(where), step, _RANK_IN_LAYER.get(name, 0)


class FirstFailure(NamedTuple):
    """The first failing quantity in the order the step computes them (_computed_order)."""

    quantity: str  # "gradients.weights"
    layer: Optional[int]  # its layer, None for the loss, the trajectory or a whole quantity
    phase: str  # one of PHASES, or "call"
    detail: str  # its worst entry, as the quantity's (or layer's) detail says it


class CaseResult(NamedTuple):
    """All quantities of one case."""

    id: str
    quantities: List[QuantityResult]
    diagnosis: Tuple[Diagnosis, ...] = ()  # the likely causes of its failures (diagnosis.py)

    @property
    def passed(self) -> bool:
        """True when no quantity failed and none was beyond checking ("not checkable")."""
        return all(q.status in ("pass", "not checked") for q in self.quantities)

    @property
    def first_failure(self) -> Optional[FirstFailure]:
        """The failing quantity (and layer) computed first, where a wrong value arises before
        it propagates; None when nothing failed."""
        found: List[FirstFailure] = []
        for q in self.quantities:
            if q.status != "fail":
                continue
            failing = [l for l in q.layers if l.status == "fail"]
            found.extend([FirstFailure(q.name, l.layer, phase_of(q.name), l.detail)
                          for l in failing] or [FirstFailure(q.name, None, phase_of(q.name),
                                                             q.detail)])
        if not found:
            return None
        return min(found, key=lambda f: _computed_order(f.quantity, f.layer))


#: A quantity of an "expected"-style dict, by name (the format's: purebp.oracle.vectors).
_get = vectors.quantity


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


def _first_difference(expected: Any, actual: Any, path: str = "") -> str:
    """Return where the shapes of two nested values first differ, and how.

    >>> _first_difference([[1.0, 2.0]], [[1.0], [2.0]])
    ' has 2 rows, expected 1'
    """
    if isinstance(expected, (list, tuple)) and isinstance(actual, (list, tuple)):
        if len(expected) != len(actual):
            nested = expected and isinstance(expected[0], (list, tuple))
            what = ("layers" if nested and expected[0] and isinstance(expected[0][0], (list, tuple))
                    else "rows" if nested else "entries")  # a list of matrices: one per layer
            return f"{path} has {len(actual)} {what}, expected {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            found = _first_difference(e, a, f"{path}[{i}]")
            if found:
                return found
        return ""
    if isinstance(expected, (list, tuple)):
        return f"{path} is a single value, expected a list of {len(expected)}"
    if isinstance(actual, (list, tuple)):
        return f"{path} is a list, expected a single number"
    return ""


def _ratio(error: float, allowed: float) -> float:
    """Return error / allowed: 0 when both are 0, inf when only ``allowed`` is."""
    return error / allowed if allowed > 0 else (0.0 if error == 0 else math.inf)


def _unusable(name: str, path: str, got: Any) -> Optional[QuantityResult]:
    """Return the failure of an entry that is not a number at all, or None if it is one.

    Results are read as the file format reads them: an int or a float (after
    _plain), so a string, bytes, a bool, a Decimal or a masked value is not a
    number, however float() would read it.
    """
    if isinstance(got, float) or (isinstance(got, int) and not isinstance(got, bool)):
        try:
            float(got)
        except OverflowError:
            return QuantityResult(name, "fail", None, None, None,
                                  f"{name}{path}: {_checks._short_repr(got)} is beyond the"
                                  f" float range")
        return None
    return QuantityResult(name, "fail", None, None, None,
                          f"{name}{path}: not a number: {_checks._describe(got)}")


#: The largest float. A truth beyond it is expected as ±inf, and is at least this large.
MAX_FLOAT = sys.float_info.max


def _judge(a: float, e: float, t: float | Decimal, pol: Policy) -> Tuple[str, str]:
    """Return ("pass" | "fail" | "not checkable", why) for one entry: actual a, expected e.

    ``t`` is the allowed |a − e|: a float, inf where it lies beyond the float
    range (its scale overflowed), or a Decimal computed beyond that range.
    purebp/docs/vectors.md ("Beyond the float range") states the rule.
    """
    if a == e:  # the very float expected: an infinity too, where the truth overflows
        return "pass", ""
    if math.isnan(e):
        return "not checkable", "the exact value is beyond even 50-digit decimals' range"
    if isinstance(t, float) and not math.isfinite(t):
        return "not checkable", "the allowed error is beyond the float range"
    narrowest = arithmetic(pol)
    if narrowest.narrow and abs(e) > narrowest.largest:
        return "not checkable", (f"the exact value {e!r} is beyond {pol.name}'s range, where a"
                                 f" correct {pol.name} computation overflows")
    if not math.isfinite(a):
        # NaN, or an infinity other than e: never within a finite t of the truth, which
        # e bounds (a finite e, or ±inf: beyond the float range on e's side)
        return "fail", f"got {a!r}, expected {e!r}"
    if math.isfinite(e):
        ok = abs(a - e) <= t or (pol.ulps is not None
                                 and ulp_distance(a, e, pol.name == "float32") <= pol.ulps)
        return ("pass", "") if ok else ("fail", "")
    # e is ±inf and a finite: the truth lies beyond the float range, so |truth| > MAX_FLOAT
    # and |truth − a| > MAX_FLOAT − a·sign(e).
    with localcontext() as ctx:
        ctx.rounding = ROUND_FLOOR  # a lower bound, rounded down
        lowest_error = Decimal(MAX_FLOAT) - Decimal(a) * (1 if e > 0 else -1)
    if lowest_error > t:
        return "fail", f"{a!r} where the exact value is beyond the float range ({e!r})"
    return "not checkable", (f"the exact value is beyond the float range ({e!r}) and {a!r} is"
                             f" within the allowed error of its edge")


def compare_quantity(name: str, expected: Any, actual: Any, tolerance: Any,
                     pol: Policy) -> QuantityResult:
    """Compare one quantity entry by entry under the policy (pol: a Policy).

    An entry passes within its tolerance, fails beyond it, and is "not
    checkable" where the tolerance or the truth cannot be computed (beyond the
    float range; _judge). One failing entry fails the quantity.
    """
    op = "compare_quantity"
    pol = checked_policy(op, pol)
    exp, act, tol = _entries(expected), _entries(actual), _entries(tolerance)
    if not isinstance(name, str):
        raise TypeError(f"{op}: name must be a quantity's name (a str), got {_checks._describe(name)}")
    if [p for p, _ in tol] != [p for p, _ in exp]:
        raise ValueError(f"{op}: tolerance must have the shape of expected, {_shape(expected)},"
                         f" got {_shape(tolerance)}")
    for argument, entries in (("expected", exp), ("tolerance", tol)):
        for path, value in entries:
            if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
                raise TypeError(f"{op}: {argument}{path} must be a number, got"
                                f" {_checks._describe(value)}")
    if [p for p, _ in exp] != [p for p, _ in act]:
        return QuantityResult(name, "fail", None, None, None,
                              f"{name}{_first_difference(expected, actual)}; shape"
                              f" {_shape(actual)} but expected {_shape(expected)}")
    single = pol.name == "float32"
    worst_abs = worst_rel = worst_used = 0.0
    worst_ulps: Optional[int] = 0  # None once an entry is infinitely far (no ULP count)
    failure = undecided = None
    decided = blown_up = 0  # blown_up: failing entries that are NaN or ±inf
    for (path, e), (_, a), (_, t) in zip(exp, act, tol):
        unusable = _unusable(name, path, a)
        if unusable is not None:
            return unusable
        a = float(a)
        verdict, why = _judge(a, e, t, pol)
        if verdict == "not checkable":
            if undecided is None:
                undecided = f"{name}{path}: got {a!r}, expected {e!r}: {why}"
            continue
        decided += 1
        if a == e:
            error, ulps = 0.0, 0
        elif math.isfinite(a) and math.isfinite(e):
            error, ulps = abs(a - e), ulp_distance(a, e, single)
        else:
            error, ulps = math.inf, None
        allowed = float(t)
        worst_abs = max(worst_abs, error)
        worst_rel, worst_used = max(worst_rel, _ratio(error, abs(e))), max(worst_used,
                                                                            _ratio(error, allowed))
        worst_ulps = None if ulps is None or worst_ulps is None else max(worst_ulps, ulps)
        if verdict == "fail":
            blown_up += not math.isfinite(a)
            badness = error / max(allowed, 1e-300) if math.isfinite(allowed) else math.inf
            # strictly worse only: of equally bad entries (every NaN), the first is shown
            if failure is None or badness > failure[0]:
                failure = (badness, f"{name}{path}: {why}" if why else
                           f"{name}{path}: got {a!r}, expected {e!r} (error {error:.3g},"
                           f" allowed {allowed:.3g})")
    if failure is not None:
        detail = failure[1] + (f"; {blown_up} entries are nan or ±inf" if blown_up > 1 else "")
        return QuantityResult(name, "fail", worst_abs, worst_rel, worst_ulps, detail, worst_used)
    if undecided is not None:
        if not decided:  # no entry could be judged: no errors to show
            return QuantityResult(name, "not checkable", None, None, None, undecided)
        return QuantityResult(name, "not checkable", worst_abs, worst_rel, worst_ulps, undecided,
                              worst_used)
    return QuantityResult(name, "pass", worst_abs, worst_rel, worst_ulps, "", worst_used)


def tolerances(case: Mapping[str, Any], pol: Optional[Policy] = None) -> Dict[str, Any]:
    """Return the allowed |actual − expected| for every entry of a case's quantities.

    The result has the layout of ``case["expected"]`` (with "outputs" added):
    nested lists of floats, one per entry, and a float for the loss, under
    the names of QUANTITIES ("gradients.weights", ...), and
    "trajectory_checkable", how many of the trajectory's steps can be checked
    (purebp.oracle.tolerance_policy.case_tolerances).
    """
    pol = checked_policy("tolerances", pol)
    if not isinstance(case, Mapping) or not isinstance(case.get("network"), Mapping):
        raise TypeError(f"tolerances: case must be a test-vector case (a dict with a network),"
                        f" got {_checks._describe(case)}")
    checked = vectors.validate_case(vectors.case_input(case), "tolerances: case")
    given = case.get("expected", {})
    checked["expected"] = given if isinstance(given, Mapping) else {}
    return case_tolerances(checked, pol)


# -- checking the arguments of the public functions -------------------------------------


def checked_require(op: str, require: Any) -> Tuple[str, ...]:
    """Return the quantity names of ``require`` (one name, or a list of them), checked.

    A name is a quantity of QUANTITIES or the part before its dot
    ("gradients" for both gradient quantities), or a per-operation quantity
    of OP_QUANTITIES.
    """
    names = (require,) if isinstance(require, str) else require
    if not isinstance(names, (list, tuple)):
        raise TypeError(f"{op}: require must be a list of quantity names, got"
                        f" {_checks._describe(require)}")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{op}: require must hold quantity names (str), got"
                            f" {_checks._describe(name)}")
        if not any(q == name or q.startswith(name + ".") for q in QUANTITIES + OP_QUANTITIES):
            raise ValueError(f"{op}: require: unknown quantity {_checks._short_repr(name)};"
                             f" expected some of {', '.join(QUANTITIES + OP_QUANTITIES)}")
    return tuple(names)


def _checked_case(op: str, name: str, case: Any, expected: bool = True) -> Dict[str, Any]:
    """Return a case checked as a test-vector case (its "expected" kept as it is)."""
    if not isinstance(case, Mapping):
        raise TypeError(f"{op}: {name} must be a test-vector case (a dict), got"
                        f" {_checks._describe(case)}")
    checked = vectors.validate_case(_plain(vectors.case_input(dict(case))), f"{op}: {name}")
    if expected:
        if not isinstance(case.get("expected"), Mapping):
            raise ValueError(f"{op}: {name} must hold its expected values (vectors.complete"
                             f" computes them), got case {checked['id']!r} without them")
        checked["expected"] = case["expected"]
    return checked


def _plain(value: Any) -> Any:
    """Return value with arrays and array scalars (numpy's, say) as lists of Python floats.

    Duck-typed, so that numpy is never imported: anything with ``tolist()``
    becomes its list (a float32 or float16 entry becomes the Python float of the
    same exact value), any other real number a float, and dicts, lists and
    tuples are converted entry by entry. Everything is then computed in float64.
    """
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, bytes, bool, int)) or value is None:
        return value
    if not isinstance(value, float) and callable(getattr(value, "tolist", None)):
        listed = value.tolist()
        # A long double's tolist() is itself (read as a real number below, rounded to
        # float64); a masked value's is None, kept as the object so it fails as no number.
        if type(listed) is not type(value) and listed is not None:
            return _plain(listed)
    if isinstance(value, numbers.Real) and not isinstance(value, float):
        try:
            return float(value)
        except OverflowError:  # a Fraction beyond the float range: fails as not a float
            return value
    return value


# -- comparing cases ------------------------------------------------------------------


def compare(case: Mapping[str, Any], actual: Mapping[str, Any], pol: Optional[Policy] = None,
            require: Sequence[str] = ()) -> CaseResult:
    """Compare the quantities in ``actual`` (an "expected"-style dict) with the case's.

    Numbers in ``actual`` may be numpy arrays and scalars (any object with
    ``tolist()``); they are converted to Python floats first (_plain).
    """
    op = "compare"
    checked = _checked_case(op, "case", case)
    if not isinstance(actual, Mapping):
        raise TypeError(f"{op}: actual must be a dict of quantities, got"
                        f" {_checks._describe(actual)}")
    return _compare(checked, _plain(dict(actual)), checked_policy(op, pol),
                    checked_require(op, require))


def _compare(case: Mapping[str, Any], actual: Mapping[str, Any], pol: Policy,
             require: Sequence[str], tolerance: Optional[Dict[str, Any]] = None) -> CaseResult:
    """compare, for checked arguments; ``tolerance``: the case's case_tolerances under
    ``pol``, where the caller has them already (scripts/tolerance_audit.py)."""
    if "op" in case:
        return _compare_op(case, actual, pol, require)
    if tolerance is None:
        tolerance = case_tolerances(case, pol)
    other_slope: Optional[Dict[str, Any]] = None  # computed when first needed
    results = []
    for part in ("gradients", "updated", "final", "optimizer_state"):
        if part in actual and not isinstance(actual[part], dict):
            what = "'step' and the buffers" if part == "optimizer_state" else "'weights' and 'biases'"
            results.append(QuantityResult(part, "fail", None, None, None,
                                          f"{part} must be a dict with {what},"
                                          f" got {type(actual[part]).__name__}"))
    steps, checkable = case.get("steps", 0), tolerance.get("trajectory_checkable", 0)
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
        if name == "optimizer_state.step":
            results.append(_compare_step(want, got))
            continue
        if phase_of(name) == "final" and checkable < steps:
            results.append(QuantityResult(name, "not checked", None, None, None, (
                f"{CHAOTIC} {checkable} of {steps}: {RUN_END} (it amplifies"
                f" rounding beyond a useful bound, or diverges)")))
            continue
        if phase_of(name) == "final" and tolerance.get("trajectory_kinks"):
            results.append(QuantityResult(name, "not checked", None, None, None, (
                f"{RUN_END}: a relu or leaky_relu unit is at its kink to within rounding"
                f" during the run, where either slope is correct and the runs part by jumps")))
            continue
        allowed = tolerance[name]
        if name == "loss" and not math.isfinite(allowed):
            # The loss's scale overflows floats: its tolerance in Decimal, where it can be had.
            wide = wide_loss_tolerance(case, pol)
            allowed = allowed if wide is None else wide
        if name == "trajectory":
            other = case["expected"].get("trajectory_right_slope",
                                         tolerance.get("trajectory_right_slope"))
            results.append(_compare_trajectory(want, got, allowed, tolerance["trajectory_checkable"],
                                               other, pol))
            continue
        result = compare_quantity(name, want, got, allowed, pol)
        if result.status == "fail" and name.startswith(("gradients.", "updated.", "final.",
                                                        "optimizer_state.")):
            # at an exact kink either slope is correct: the values for slope 1 there pass too
            if other_slope is None:
                other_slope = _right_slope_values(case)
            if other_slope:
                other = _get(other_slope, name)
                if phase_of(name) == "final":  # the other run's own rounding, in proportion
                    allowed = _in_proportion(want, other, allowed)
                alternative = compare_quantity(name, other, got, allowed, pol)
                if alternative.status == "pass":
                    want, result = other, alternative._replace(detail=(
                        "matches the values with slope 1 at the kink: either slope is"
                        " correct there"))
        results.append(_with_layers(result, want, got, allowed, pol,
                                    len(case["network"]["sizes"]) - 2))
    results.extend(_strange_buffers(case, actual))
    failing = [q.name for q in results if q.status == "fail" and q.name in QUANTITIES]
    found = tuple(diagnose(case, actual, tolerance, pol, failing)) if failing else ()
    return CaseResult(case["id"], results, found)


#: The quantities held as one matrix per layer (outputs is one matrix: the last layer's).
LAYERED = ("pre_activations", "activations", "gradients.weights", "gradients.biases",
           "updated.weights", "updated.biases", "final.weights", "final.biases") + tuple(
    name for name in QUANTITIES if name.startswith("optimizer_state.") and name.count(".") == 2)


def _compare_step(want: int, got: Any) -> QuantityResult:
    """Compare the optimizer's step count: the steps taken, exactly."""
    name = "optimizer_state.step"
    unusable = _unusable(name, "", got)
    if unusable is not None:
        return unusable
    if float(got) == want:
        return QuantityResult(name, "pass", 0.0, 0.0, 0, "", 0.0)
    error = abs(float(got) - want) if math.isfinite(float(got)) else math.inf
    return QuantityResult(name, "fail", error, _ratio(error, abs(want)), None,
                          f"{name}: got {got!r}, expected {want!r} (the steps taken, exactly)")


def _strange_buffers(case: Mapping[str, Any], actual: Mapping[str, Any]) -> List[QuantityResult]:
    """Fail the buffers a result's optimizer_state gives that the case's optimizer has not."""
    given, kept = actual.get("optimizer_state"), case["expected"].get("optimizer_state")
    if not isinstance(given, dict) or not isinstance(kept, dict):
        return []
    name = optimizer_of(case)["name"]
    return [QuantityResult(f"optimizer_state.{b}", "fail", None, None, None,
                           f"optimizer_state.{b}: the case's optimizer ({name}, with these"
                           f" arguments) keeps no such buffer, expected only"
                           f" {', '.join(k for k in kept if k != 'step') or 'the step'}")
            for b in given if b != "step" and b not in kept]


def _layer_result(layer: int, q: QuantityResult) -> LayerResult:
    return LayerResult(layer, q.status, q.max_abs_error, q.max_used, q.detail)


def _with_layers(result: QuantityResult, want: Any, got: Any, allowed: Any, pol: Policy,
                 last: int) -> QuantityResult:
    """Return ``result`` with its ``layers``: each layer compared on its own.

    A layer is compared as a quantity named "gradients.weights[1]", so that
    its detail names the entry in full; outputs is layer ``last``'s. A
    quantity with the wrong number of layers (or none) gets no layers.
    """
    if result.name == "outputs":
        return result._replace(layers=(_layer_result(last, result),))
    if (result.name not in LAYERED or not isinstance(want, list) or not isinstance(got, list)
            or len(got) != len(want)):
        return result
    return result._replace(layers=tuple(
        _layer_result(l, compare_quantity(f"{result.name}[{l}]", w, g, t, pol))
        for l, (w, g, t) in enumerate(zip(want, got, allowed))))


def _compare_op(case: Mapping[str, Any], actual: Mapping[str, Any], pol: Policy,
                require: Sequence[str]) -> CaseResult:
    """_compare for a per-operation case: each of its OP_QUANTITIES, under op_tolerances.

    A quantity ``require`` names fails when missing; one that the results do
    not give is otherwise "not checked", as for network cases.
    """
    tolerance = op_tolerances(case, pol)
    results = []
    for name in OP_QUANTITIES:
        want = case["expected"].get(name)
        if want is None:
            continue
        got = actual.get(name)
        if got is None:
            required = name in require
            results.append(QuantityResult(name, "fail" if required else "not checked",
                                          None, None, None,
                                          "required but missing" if required else "not given"))
            continue
        result = compare_quantity(name, want, got, tolerance[name], pol)
        other = _other_slope_op(case) if result.status == "fail" and name == "grad_inputs" else None
        if other is not None:
            alternative = compare_quantity(name, other, got, tolerance[name], pol)
            if alternative.status == "pass":
                result = alternative._replace(detail="matches the values with slope 1 at the"
                                                     " kink: either slope is correct there")
        results.append(result)
    return CaseResult(case["id"], results)


def _other_slope_op(case: Mapping[str, Any]) -> Optional[List[List[float]]]:
    """Return a relu or leaky_relu op case's grad_inputs with slope 1 at z = 0, or None.

    G·1 = G exactly there; elsewhere the expected values (either slope is
    correct at the kink, so both sets pass).
    """
    if case["op"] != "activation" or case["activation"] not in ("relu", "leaky_relu"):
        return None
    z, G, want = case["inputs"], case["upstream"], case["expected"]["grad_inputs"]
    if not any(v == 0 for row in z for v in row):
        return None
    return [[g if v == 0 else w for v, g, w in zip(rz, rg, rw)] for rz, rg, rw in zip(z, G, want)]


def _in_proportion(want: Any, other: Any, allowed: Any) -> Any:
    """Return the tolerances of the other slope's run's end: each entry allowed at least the
    expected run's largest tolerance relative to its value, times its own value.

    After a run the two slopes' values may differ everywhere (an Adam state that is 0 for
    one slope is not for the other), and the tolerances, measured along the expected run,
    bound the rounding of its values only: this applies their worst relative share to
    the other's values (a run's rounding grows with what it computes).
    """
    entries = list(zip(_entries(want), _entries(other), _entries(allowed)))
    share = max((float(t) / abs(w) for (_, w), _, (_, t) in entries if w and math.isfinite(w)),
                default=0.0)
    flat = [max(float(t), share * abs(o)) if math.isfinite(o) else float(t)
            for (_, w), (_, o), (_, t) in entries]
    shaped, _ = _reshaped(flat, allowed)
    return shaped


def _reshaped(flat: List[float], like: Any) -> Tuple[Any, List[float]]:
    """Return flat's numbers in the nesting of ``like``, and those left over."""
    if isinstance(like, (list, tuple)):
        out = []
        for part in like:
            value, flat = _reshaped(flat, part)
            out.append(value)
        return out, flat
    return flat[0], flat[1:]


def _right_slope_values(case: Mapping[str, Any]) -> Dict[str, Any]:
    """Return the case's exact values with slope 1 at its exact kinks, or {} if it has none.

    Computed in 50-digit decimals (purebp.oracle.exact.run with right_slope),
    where tolerance_policy.exact_zeros finds a relu or leaky_relu unit whose
    exact z is 0: an implementation taking relu′(0) = 1 there is as correct.
    """
    if exact_zeros(case) is None:
        return {}
    spec = case["network"]
    run = {k: case[k] for k in ("optimizer", "batches") if k in case}
    values: Dict[str, Any] = exact.to_float(exact.run(
        spec, case["parameters"]["weights"], case["parameters"]["biases"], case["inputs"],
        case["targets"], case["learning_rate"], case["steps"] if run else 1, right_slope=True,
        **run))
    return values


#: How a trajectory's detail starts when its later steps are too chaotic to check.
CHAOTIC = "not checkable from step"
#: What the detail of final and optimizer_state says where they cannot be compared.
RUN_END = "the run's end is not compared"


def _compare_trajectory(want: Any, got: Any, allowed: List[float], checkable: int,
                        other: Optional[List[float]], pol: Policy) -> QuantityResult:
    """Compare a trajectory: its first ``checkable`` steps, against either slope at a kink.

    Steps from ``checkable`` on are too chaotic to check (purebp/docs/vectors.md,
    "The trajectory"): they are named in the detail, and neither pass nor fail.
    Where the case has exact kinks, the trajectory with the other slope taken
    there (``other``, its "trajectory_right_slope") is as correct as the expected one.
    """
    steps = len(want)
    if not isinstance(got, (list, tuple)) or len(got) != steps or checkable == 0:
        return compare_quantity("trajectory", want, got, allowed, pol)
    result = compare_quantity("trajectory", want[:checkable], list(got[:checkable]),
                              allowed[:checkable], pol)
    if result.status == "fail" and other is not None:
        # the other run's rounding grows with its own losses, which may be far larger
        scaled = [t * max(1.0, abs(o) / abs(w)) if w else t
                  for t, o, w in zip(allowed[:checkable], other, want)]
        alternative = compare_quantity("trajectory", other[:checkable], list(got[:checkable]),
                                       scaled, pol)
        if alternative.status == "pass":
            result = alternative._replace(detail="matches the trajectory with slope 1 at the"
                                                 " kink (trajectory_right_slope): either slope"
                                                 " is correct there")
    exact = all(a == e for a, e in zip(got[checkable:], want[checkable:]))
    if checkable < steps and result.status != "fail" and not exact:  # equal passes anywhere
        chaos = (f"{CHAOTIC} {checkable} of {steps}: the run amplifies rounding beyond a"
                 f" useful bound (an allowance over {USEFUL_TRAJECTORY:g} of the loss) or"
                 f" diverges (its loss more than doubled)")
        result = result._replace(detail=f"{chaos}; {result.detail}" if result.detail else chaos)
    return result


#: A report's statuses, in the order of its counts.
STATUSES = ("pass", "fail", "not checked", "not checkable")


class Report(NamedTuple):
    """The results of a check: one CaseResult per case, and the ids that could not be matched.

    ``unknown_ids``: results for cases the suite does not hold (they fail the
    report); ``missing_ids``: cases of the suite with no results, which fail
    it unless ``subset`` (a subset was checked on purpose).
    """

    cases: List[CaseResult]
    policy: Policy
    unknown_ids: List[str]
    missing_ids: Sequence[str] = ()
    subset: bool = False

    @property
    def passed(self) -> bool:
        return (not self.unknown_ids and (self.subset or not self.missing_ids)
                and all(c.passed for c in self.cases) and self.compared)

    @property
    def compared(self) -> bool:
        """True if some quantity was compared at all: a report that compared nothing fails."""
        return any(q.status in ("pass", "fail", "not checkable")
                   for c in self.cases for q in c.quantities)

    def counts(self) -> Dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for c in self.cases:
            for q in c.quantities:
                counts[q.status] += 1
        return counts

    def verdict(self) -> str:
        """Return the last line of the table: PASS or FAIL, and what was not checked.

        >>> Report([], POLICIES["float64"], [], ["one-unit"]).verdict()
        'FAIL: no results for 1 case of the suite (one-unit); nothing was compared'
        """
        notes = []
        if self.missing_ids:
            notes.append(f"no results for {_count(self.missing_ids, 'case')} of the suite"
                         f" ({_some(self.missing_ids)})"
                         + (", allowed by subset" if self.subset else ""))
        if self.unknown_ids:
            notes.append(f"{_count(self.unknown_ids, 'case')} not in the suite"
                         f" ({_some(self.unknown_ids)})")
        chaotic = [f"{c.id} (from step {q.detail[len(CHAOTIC):].split()[0]})"
                   for c in self.cases for q in c.quantities
                   if q.name == "trajectory" and q.detail.startswith(CHAOTIC)]
        if chaotic:
            notes.append(f"trajectory not checkable to its end in {_some(chaotic)}")
        ends = [c.id for c in self.cases
                if any(q.status == "not checked" and RUN_END in q.detail for q in c.quantities)]
        if ends:
            notes.append(f"final and optimizer_state not compared where the run cannot be"
                         f" checked to its end: {_some(ends)}")
        for status, words in (("not checked", "not given"), ("not checkable", "not checkable")):
            where: Dict[str, List[str]] = {}
            for c in self.cases:
                for q in c.quantities:
                    if q.status == status and RUN_END not in q.detail:
                        where.setdefault(q.name, []).append(c.id)
            if where:
                notes.append(f"{words}: " + ", ".join(
                    f"{name} in {_some(ids) if len(ids) <= 3 else _count(ids, 'case')}"
                    for name, ids in where.items()))
        if not self.compared:
            notes.append("nothing was compared")
        if self.passed:
            word = "PASS"
        elif not self.compared or self.unknown_ids or (self.missing_ids and not self.subset) or any(
                q.status == "fail" for c in self.cases for q in c.quantities):
            word = "FAIL"
        else:  # nothing failed, but some entry could not be judged either way
            word = "NOT CHECKABLE"
        return word + (": " + "; ".join(notes) if notes else "")

    def table(self, failures_only: bool = False, layers: bool = False) -> str:
        """Return the report as a text table, one line per case and quantity.

        A failing case's rows are followed by its first failure and its table
        per layer (_layer_lines); ``layers`` shows that table for every case.
        """
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
                if q.status in ("fail", "not checkable") or q.detail.startswith(CHAOTIC) \
                        or RUN_END in q.detail:
                    lines.append(f"    {q.detail}")
            lines.extend(_layer_lines(c, failures_only, layers))
        blank = f"{'':>11} {'':>11} {'':>10} {'':>9}"
        for case_id in self.unknown_ids:
            lines.append(f"{case_id:<26} {'(whole case)':<18} {blank}  FAIL")
            lines.append("    this id is not among the expected cases")
        for case_id in self.missing_ids:
            if self.subset and not failures_only:
                lines.append(f"{case_id:<26} {'(whole case)':<18} {blank}  NOT CHECKED")
            elif not self.subset:
                lines.append(f"{case_id:<26} {'(whole case)':<18} {blank}  FAIL")
                lines.append("    no results for this case of the suite")
        n = self.counts()
        unsure = f", {n['not checkable']} not checkable" if n["not checkable"] else ""
        lines.append(f"{len(self.cases)} cases: {n['pass']} passed, {n['fail']} failed,"
                     f" {n['not checked']} not checked{unsure} ({self.policy.name} policy,"
                     f" rtol {self.policy.rtol!r}, atol {self.policy.atol!r}"
                     + (f", ulps {self.policy.ulps}" if self.policy.ulps is not None else "") + ")")
        lines.append(self.verdict())
        return "\n".join(lines)

    def to_json(self) -> str:
        """Return the report as JSON (finite numbers only; inf written as null)."""
        def num(v: Optional[float]) -> Optional[float]:
            return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v

        return json.dumps({
            "format": "purebp-check-report", "version": 1, "passed": self.passed,
            "policy": self.policy._asdict(), "counts": self.counts(),
            "unknown_ids": self.unknown_ids, "missing_ids": list(self.missing_ids),
            "subset": self.subset, "verdict": self.verdict(),
            "cases": [{"id": c.id, "passed": c.passed, "quantities": [
                {"name": q.name, "status": q.status, "max_abs_error": num(q.max_abs_error),
                 "max_rel_error": num(q.max_rel_error), "max_ulps": q.max_ulps,
                 "tolerance_used": num(q.max_used), "detail": q.detail}
                for q in c.quantities], **_layer_json(c),
                "diagnosis": [d.record() for d in c.diagnosis]} for c in self.cases],
        }, indent=1, allow_nan=False)


# -- the report per layer, and the first failure -------------------------------------------


#: The per-layer table's columns: (heading, quantity).
LAYER_COLUMNS = (("z", "pre_activations"), ("a", "activations"),
                 ("grad W", "gradients.weights"), ("grad b", "gradients.biases"),
                 ("new W", "updated.weights"), ("new b", "updated.biases"))
#: The short name of each buffer of an optimizer's state in the per-layer table.
_BUFFER_HEADS = {"momentum_buffer": "buf", "square_avg": "sq", "grad_avg": "gavg",
                 "exp_avg": "m", "exp_avg_sq": "v", "max_exp_avg_sq": "vmax"}
#: ... and the columns after the last step, shown for the cases that have them.
RUN_COLUMNS = (("final W", "final.weights"), ("final b", "final.biases")) + tuple(
    (f"{_BUFFER_HEADS[name]} {kind[0].upper() if kind == 'weights' else 'b'}",
     f"optimizer_state.{name}.{kind}")
    for name in vectors.STATE_BUFFERS for kind in ("weights", "biases"))


def _finite(v: Optional[float]) -> Optional[float]:
    """v, or None for None and for ±inf and NaN (a JSON report holds finite numbers only)."""
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v


def _by_layer(c: CaseResult) -> Dict[int, Dict[str, LayerResult]]:
    """Return {layer: {quantity: its LayerResult}} for the quantities compared per layer."""
    found: Dict[int, Dict[str, LayerResult]] = {}
    for q in c.quantities:
        for part in q.layers:
            found.setdefault(part.layer, {})[q.name] = part
    return dict(sorted(found.items()))


def _first_failure_line(first: FirstFailure) -> str:
    """Return "first failure: gradients.weights[1][0][2] (layer 1, backward): got …".

    The entry's path is taken from the detail where it starts with the quantity
    (compare_quantity's "name[i][j]: what"); otherwise the detail follows whole.
    """
    if first.phase == "call":  # the implementation raised or returned no dict: nothing ran
        return f"    first failure: the call: {first.detail}"
    # outputs is one matrix, the last layer's: its entries are outputs[i][j], no layer index
    held_per_layer = first.layer is not None and first.quantity in LAYERED
    where = f"{first.quantity}[{first.layer}]" if held_per_layer else first.quantity
    when = first.phase if first.layer is None else f"layer {first.layer}, {first.phase}"
    head, colon, rest = first.detail.partition(": ")
    if colon and head.startswith(where):
        where, what = head, rest
    elif first.detail.startswith(where + " "):  # "gradients.weights[0] has 5 rows, …"
        what = first.detail[len(where) + 1:]
    else:
        what = first.detail
    if when == first.quantity:  # the loss, the trajectory: their own phase, said once
        return f"    first failure: {where}: {what}"
    return f"    first failure: {where} ({when}): {what}"


def _layer_cell(part: Optional[LayerResult]) -> str:
    """One cell of the per-layer table: the tolerance used, in %.

    "-": not given; "n/c": not checkable; "fail": failed with no error to
    measure (a wrong shape or a value that is no number).
    """
    if part is None:
        return "-"
    if part.status == "not checkable":
        return "n/c"
    if part.max_used is None:
        return "fail" if part.status == "fail" else "-"
    return f"{100 * part.max_used:.1f}%" if part.max_used < 10 else ">1000%"


def _layer_lines(c: CaseResult, failures_only: bool, every_case: bool) -> List[str]:
    """Return the lines after a case's rows: its first failure, the likely causes
    (diagnosis) and its table per layer.

    A failing case gets both; with ``every_case`` (``purebp check --per-layer``)
    every case shown gets its table, one row per layer and one column per
    quantity held per layer, each cell the share of the tolerance its worst
    entry used.
    """
    first = c.first_failure
    if failures_only and first is None:
        return []
    lines = [] if first is None else [_first_failure_line(first)]
    lines.extend(f"    {d.text}" for d in c.diagnosis)  # the likely causes, if any
    by_layer = _by_layer(c)
    if by_layer and (first is not None or every_case):
        present = {q for parts in by_layer.values() for q in parts}
        columns = LAYER_COLUMNS + tuple(col for col in RUN_COLUMNS if col[1] in present)
        lines.append(f"    {'layer':>5} " + " ".join(f"{h:>8}" for h, _ in columns)
                     + "  (tolerance used per layer)")
        for layer, parts in by_layer.items():
            lines.append(f"    {layer:>5} "
                         + " ".join(f"{_layer_cell(parts.get(q)):>8}" for _, q in columns))
    return lines


def _layer_json(c: CaseResult) -> Dict[str, Any]:
    """Return a case's "first_failure" and "layers" entries of the JSON report."""
    first = c.first_failure
    return {
        "first_failure": None if first is None else first._asdict(),
        "layers": [dict({"layer": layer}, **{
            name: {"status": part.status, "max_abs_error": _finite(part.max_abs_error),
                   "tolerance_used": _finite(part.max_used), "detail": part.detail}
            for name, part in parts.items()}) for layer, parts in _by_layer(c).items()],
    }


def _ids(op: str, name: str, cases: Any) -> List[str]:
    """Return the ids of a list of cases, checking it is one (each a dict with an "id")."""
    if isinstance(cases, (str, bytes, Mapping)) or not isinstance(cases, Sequence):
        raise TypeError(f"{op}: {name} must be a list of cases, got {_checks._describe(cases)}")
    ids: List[str] = []
    for i, case in enumerate(cases):
        if not isinstance(case, Mapping) or not isinstance(case.get("id"), str):
            raise TypeError(f"{op}: {name}[{i}] must be a case with an id (a dict with a str"
                            f" \"id\"), got {_checks._describe(case)}")
        if case["id"] in ids:
            raise ValueError(f"{op}: {name} holds case id {_checks._short_repr(case['id'])}"
                             f" twice ({name}[{ids.index(case['id'])}] and {name}[{i}]);"
                             f" each case must appear once")
        ids.append(case["id"])
    return ids


def check(expected: Sequence[Mapping[str, Any]], actual: Sequence[Mapping[str, Any]],
          pol: Optional[Policy] = None, require: Sequence[str] = (),
          subset: bool = False) -> Report:
    """Check results (cases with partial "expected") against expected cases, by id.

    Expected cases with no results are the report's ``missing_ids``: they fail
    it, unless ``subset`` says that checking only some cases is meant.
    """
    op = "check"
    pol, require = checked_policy(op, pol), checked_require(op, require)
    if not isinstance(subset, bool):
        raise TypeError(f"{op}: subset must be True or False, got {_checks._describe(subset)}")
    known, given = _ids(op, "expected", expected), _ids(op, "actual", actual)
    _same_kind(op, expected, known, given)
    by_id = {c["id"]: (i, c) for i, c in enumerate(actual)}
    results = []
    for i, case in enumerate(expected):
        if case["id"] in by_id:
            j, result = by_id[case["id"]]
            got = result.get("expected", {})
            if not isinstance(got, Mapping):
                raise TypeError(f"{op}: actual[{j}].expected must be a dict of quantities, got"
                                f" {_checks._describe(got)}")
            _known_quantities(op, j, case, got)
            results.append(_compare(_checked_case(op, f"expected[{i}]", case), _plain(dict(got)),
                                    pol, require))
    return Report(results, pol, [i for i in given if i not in set(known)],
                  [i for i in known if i not in by_id], subset)


#: The quantity names of a network case's "expected", as a results file gives them.
_NETWORK_FIELDS = ("pre_activations", "activations", "outputs", "loss", "gradients", "updated",
                   "trajectory", "final", "optimizer_state")


def _known_quantities(op: str, j: int, case: Mapping[str, Any], got: Mapping[str, Any]) -> None:
    """Refuse a result holding a quantity of the other kind of case (a misnamed field)."""
    per_op = "op" in case
    wrong = [k for k in got if (k in _NETWORK_FIELDS if per_op else k in OP_QUANTITIES)]
    if wrong:
        kind, other = ("per-operation", "network") if per_op else ("network", "per-operation")
        hint = " (did you mean 'outputs'?)" if wrong[0] == "output" else ""
        raise vectors.VectorFormatError(
            f"{op}: actual[{j}].expected must hold quantities of the {kind} case"
            f" {case['id']!r} ({', '.join(OP_QUANTITIES if per_op else QUANTITIES)}), got"
            f" {wrong[0]!r}, a {other} quantity{hint}")


def _same_kind(op: str, expected: Sequence[Mapping[str, Any]], known: Sequence[str],
               given: Sequence[str]) -> None:
    """Refuse results for per-operation cases against network cases only, or the reverse."""
    if not given or set(given) & set(known):
        return
    ops_given = all(i.startswith("op-") for i in given)
    ops_known = [("op" in c) for c in expected]
    if ops_given and not any(ops_known):
        raise vectors.VectorFormatError(
            f"{op}: the results are for per-operation cases ({_some(list(given), 3)}) and the"
            f" expected cases are network cases: check them against the op suite"
            f" (purebp vectors --ops)")
    if not any(i.startswith("op-") for i in given) and ops_known and all(ops_known):
        raise vectors.VectorFormatError(
            f"{op}: the results are for network cases ({_some(list(given), 3)}) and the expected"
            f" cases are per-operation cases: check them against the network suite")


def check_files(expected_path: str, actual_path: str, pol: Optional[Policy] = None,
                require: Sequence[str] = (), subset: bool = False) -> Report:
    """Check a results file or folder against an expected file or folder (see check)."""
    op = "check_files"
    pol, require = checked_policy(op, pol), checked_require(op, require)
    for name, value in (("expected_path", expected_path), ("actual_path", actual_path)):
        _checks.path(op, value, name)
    expected = vectors.load(expected_path)
    for case in expected:
        if "expected" not in case:
            raise vectors.VectorFormatError(
                f"check_files: expected_path must hold expected values for every case, got"
                f" case {case['id']!r} without them in {shown_path(os.fspath(expected_path))}")
    actual = vectors.load(actual_path, partial=True)
    return check(expected, actual, pol, require, subset)


def purebp_results(case: Mapping[str, Any]) -> Dict[str, Any]:
    """Return every quantity of a case as purebp's float64 ``Network`` computes it.

    The layout is that of a case's "expected"; this is purebp taking part as
    an implementation (its error against the 50-digit truth is measured by
    the tests and stated in the README).
    """
    op = "purebp_results"
    checked = vectors.validate_case(_plain(vectors.case_input(case)), f"{op}: case")
    if "op" in checked:
        raise ValueError(f"{op}: case must be a network case, got the per-operation case"
                         f" {checked['id']!r} (purebp's Network runs whole networks only)")
    return float64_results(checked, op)


def float64_results(case: Mapping[str, Any], op: str) -> Dict[str, Any]:
    """purebp_results for a checked case; ``op`` names the public function in errors.

    A case whose float64 parameters overflow to ±inf or NaN before its last
    step (a learning rate of 1e300, say) raises ValueError: purebp's own run
    of it has no finite next step (its exact values are vectors.complete's).
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
    if "optimizer" in case or "batches" in case:
        return _run_results(case, net, result, op)
    trajectory = []
    for step in range(max(case.get("steps", 0), 1)):
        if not (_checks.all_finite(net.weights) and _checks.all_finite(net.biases)):
            raise ValueError(f"{op}: case {case['id']!r} diverges in float64: after step {step}"
                             f" of its {case['steps']} a weight or bias is no longer finite"
                             f" (learning_rate {lr!r}), so purebp's float64 run cannot take"
                             f" step {step + 1}")
        trajectory.append(net.step(X, y, lr))
        if step == 0:
            result["updated"] = {"weights": net.weights, "biases": net.biases}
    result["trajectory"] = trajectory[: case.get("steps", 0)]
    return result


def _run_results(case: Mapping[str, Any], net: Network, result: Dict[str, Any],
                 op: str) -> Dict[str, Any]:
    """float64_results for a case with an optimizer or batches: the step of ``updated`` from a
    fresh optimizer on the whole batch, then ``steps`` steps of another fresh one, step k on
    the rows batches[k], with Network.step; the parameters and the state after the last."""
    config = optimizer_of(case)
    X, y = case["inputs"], case["targets"]
    result["updated"] = net.trace(X, y, optimizer=optimizers.from_config(config))["updated"]
    rule = optimizers.from_config(config)
    batches = case.get("batches")
    trajectory = []
    for step in range(case["steps"]):
        if not (_checks.all_finite(net.weights) and _checks.all_finite(net.biases)):
            raise ValueError(f"{op}: case {case['id']!r} diverges in float64: after step {step}"
                             f" of its {case['steps']} a weight or bias is no longer finite"
                             f" ({rule!r}), so purebp's float64 run cannot take step {step + 1}")
        rows = range(len(X)) if batches is None else batches[step]
        trajectory.append(net.step([X[i] for i in rows], [y[i] for i in rows], optimizer=rule))
    result["trajectory"] = trajectory
    result["final"] = {"weights": net.weights, "biases": net.biases}
    state: Dict[str, Any] = {"step": rule.state["step"]}
    for name in rule.buffers() if case["steps"] else ():
        state[name] = parameters_layout(rule.state[name], case)
    result["optimizer_state"] = state
    return result


def check_implementation(impl: Callable[[Dict[str, Any]], Dict[str, Any]],
                         cases: Optional[Iterable[Dict[str, Any]]] = None,
                         pol: Optional[Policy] = None, require: Sequence[str] = ()) -> Report:
    """Run ``impl`` on each case and check what it returns.

    ``impl(case)`` gets a case without its expected values (a dict with
    ``network``, ``parameters``, ``inputs``, ``targets``, ``learning_rate``
    and ``steps``; see purebp/docs/vectors.md) and returns a dict with any of
    ``pre_activations``, ``activations``, ``outputs``, ``loss``,
    ``gradients`` ({"weights", "biases"}), ``updated`` ({"weights",
    "biases"}) and ``trajectory``, as lists or numpy arrays; for a
    per-operation case (one with "op", purebp.oracle.ops) any of OP_QUANTITIES
    (``output``, ``grad_inputs``, ``grad_weights``, ``grad_biases``). ``cases``
    defaults to the curated suite; each must hold its expected values. An
    exception from ``impl`` fails that case with its message.
    """
    op = "check_implementation"
    if not callable(impl):
        raise TypeError(f"{op}: impl must be a callable taking a case, got {_checks._describe(impl)}")
    pol, require = checked_policy(op, pol), checked_require(op, require)
    if isinstance(cases, (str, bytes, Mapping)) or not (cases is None or isinstance(cases, Iterable)):
        raise TypeError(f"{op}: cases must be a list of cases or None, got {_checks._describe(cases)}")
    cases = [_checked_case(op, f"cases[{i}]", c)
             for i, c in enumerate(vectors.curated() if cases is None else cases)]
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
        results.append(_compare(case, _plain(got), pol, require))
    return Report(results, pol, [])
