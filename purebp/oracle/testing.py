"""For other projects' tests: hypothesis strategies and an assertion against purebp.

A property-based differential test of another backprop implementation takes
a few lines:

    from hypothesis import given
    from purebp.testing import cases, assert_matches

    @given(cases())
    def test_my_backprop_agrees_with_purebp(case):
        assert_matches(case, my_backprop(case))   # my_backprop returns a dict of quantities

Contents:

    networks(...)         strategy: network specs {"sizes", "activation", "output_activation", "loss"}
    cases(...)            strategy: test-vector cases without expected values (what an
                          implementation is given; see purebp/docs/vectors.md)
    expected(case, exact=False)   purebp's values for a case: its float64 Network,
                          or with exact=True the 50-digit truth rounded to float64
                          (for a per-operation case, always the 50-digit truth)
    assert_matches(case, actual, ...)   raise AssertionError listing what differs
                          beyond the oracle's tolerance policy (purebp.oracle)

hypothesis is needed only for the strategies and is imported when one is
called (``pip install "purebp[hypothesis]"``); ``assert_matches`` and
``expected`` work without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple

from purebp import _checks
from purebp._checks import _describe as describe
from purebp.activations import ACTIVATIONS
from purebp.oracle import checker as oracle
from purebp.oracle import ops, vectors

if TYPE_CHECKING:  # hypothesis is imported only when a strategy is asked for
    from hypothesis.strategies import DrawFn, SearchStrategy

#: A network spec, a case: the JSON-shaped dicts of purebp/docs/vectors.md.
Spec = Dict[str, Any]
Case = Dict[str, Any]

#: Every (output_activation, loss) pair purebp allows.
OUTPUT_AND_LOSS = tuple([(a, "half_sse") for a in ACTIVATIONS] + [(a, "mse") for a in ACTIVATIONS]
                        + [("sigmoid", "bce"), ("softmax", "cross_entropy")])


def _require_hypothesis() -> None:
    """Raise a clear ImportError if hypothesis is missing (the strategies need it)."""
    try:
        import hypothesis  # noqa: F401
    except ImportError:  # pragma: no cover - exercised only without hypothesis
        raise ImportError(
            "purebp.testing's strategies need hypothesis: pip install 'purebp[hypothesis]'"
        ) from None


def networks(max_depth: int = 4, max_width: int = 8,
             activations: Sequence[str] = tuple(ACTIVATIONS),
             output_and_loss: Sequence[Tuple[str, str]] = OUTPUT_AND_LOSS) -> SearchStrategy[Spec]:
    """Return a strategy of network specs: depth 1–max_depth, widths 1–max_width."""
    _require_hypothesis()
    op = "networks"
    _checks.size(op, "max_depth", max_depth)
    _checks.size(op, "max_width", max_width)
    if isinstance(activations, str) or not isinstance(activations, Sequence) or not activations:
        raise TypeError(f"{op}: activations must be a non-empty list of activation names, got"
                        f" {describe(activations)}")
    for name in activations:
        _checks.name(op, "activations", name, list(ACTIVATIONS))
    if isinstance(output_and_loss, str) or not isinstance(output_and_loss, Sequence) \
            or not output_and_loss:
        raise TypeError(f"{op}: output_and_loss must be a non-empty list of (output_activation,"
                        f" loss) pairs, got {describe(output_and_loss)}")
    for pair in output_and_loss:
        if not isinstance(pair, (tuple, list)) or tuple(pair) not in OUTPUT_AND_LOSS:
            raise ValueError(f"{op}: output_and_loss must hold pairs of OUTPUT_AND_LOSS, got"
                             f" {describe(pair)}")
    from hypothesis import strategies as st

    @st.composite
    def build(draw: DrawFn) -> Spec:
        depth = draw(st.integers(1, max_depth))
        sizes = [draw(st.integers(1, max_width)) for _ in range(depth + 1)]
        output, loss = draw(st.sampled_from(list(output_and_loss)))
        if output == "softmax" and sizes[-1] < 2:
            sizes[-1] = draw(st.integers(2, max(2, max_width)))
        return {"sizes": sizes, "activation": draw(st.sampled_from(list(activations))),
                "output_activation": output, "loss": loss}

    strategy: SearchStrategy[Spec] = build()
    return strategy


def cases(network_specs: Optional[SearchStrategy[Spec]] = None, max_batch: int = 8,
          weight_bound: float = 2.0, input_bound: float = 2.0,
          max_steps: int = 3) -> SearchStrategy[Case]:
    """Return a strategy of cases (no expected values) for the given network specs.

    Weights and biases lie in [−weight_bound, weight_bound], inputs in
    [−input_bound, input_bound]; targets are what the loss accepts (one-hot
    rows for cross_entropy, 0/1 for bce, any value in [−1, 1] otherwise); the
    learning rate lies in [0.001, 1], steps in 0–max_steps.
    """
    _require_hypothesis()
    from hypothesis import strategies as st
    op = "cases"
    if network_specs is not None and not isinstance(network_specs, st.SearchStrategy):
        raise TypeError(f"{op}: network_specs must be a hypothesis strategy (networks(...)) or"
                        f" None, got {describe(network_specs)}")
    _checks.size(op, "max_batch", max_batch)
    _checks.count(op, "max_steps", max_steps)
    for name, bound in (("weight_bound", weight_bound), ("input_bound", input_bound)):
        if _checks.real_number(op, name, bound) < 0:
            raise ValueError(f"{op}: {name} must not be negative, got {describe(bound)}")
    specs = networks() if network_specs is None else network_specs

    def floats(bound: float) -> SearchStrategy[float]:
        return st.floats(-bound, bound, allow_nan=False, allow_infinity=False)

    def matrix(rows: int, columns: int,
               elements: SearchStrategy[float]) -> SearchStrategy[List[List[float]]]:
        return st.lists(st.lists(elements, min_size=columns, max_size=columns),
                        min_size=rows, max_size=rows)

    @st.composite
    def build(draw: DrawFn) -> Case:
        spec = draw(specs)
        sizes = spec["sizes"]
        n = draw(st.integers(1, max_batch))
        k = sizes[-1]
        if spec["loss"] == "cross_entropy":
            labels = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
            targets = [[1.0 if j == c else 0.0 for j in range(k)] for c in labels]
        elif spec["loss"] == "bce":
            targets = draw(matrix(n, k, st.sampled_from([0.0, 1.0])))
        else:
            targets = draw(matrix(n, k, floats(1.0)))
        return {
            "id": "hypothesis-case",
            "description": "drawn by purebp.testing.cases",
            "network": spec,
            "parameters": {
                "weights": [draw(matrix(r, c, floats(weight_bound)))
                            for r, c in zip(sizes[:-1], sizes[1:])],
                "biases": [draw(matrix(1, c, floats(weight_bound))) for c in sizes[1:]],
            },
            "inputs": draw(matrix(n, sizes[0], floats(input_bound))),
            "targets": targets,
            "learning_rate": draw(st.floats(0.001, 1.0)),
            "steps": draw(st.integers(0, max_steps)),
        }

    strategy: SearchStrategy[Case] = build()
    return strategy


def expected(case: Dict[str, Any], exact: bool = False) -> Dict[str, Any]:
    """Return purebp's expected quantities for a case.

    By default purebp's own float64 ``Network`` (fast, and within a small
    fraction of the tolerances of the 50-digit truth); with ``exact=True`` the
    50-digit computation rounded to float64 (slower).
    """
    if not isinstance(case, Mapping):
        raise TypeError(f"expected: case must be a test-vector case (a dict), got {describe(case)}")
    if not isinstance(exact, bool):
        raise TypeError(f"expected: exact must be True or False, got {describe(exact)}")
    checked = vectors.validate_case(oracle._plain(vectors.case_input(dict(case))), "case")
    return _expected(checked, exact, "expected")


def _expected(checked: Case, exact: bool, op: str) -> Dict[str, Any]:
    """expected, for a checked case; ``op`` names the public function in errors.

    A per-operation case has no float64 run of purebp's: its values are the
    50-digit ones (purebp.oracle.ops), exact or not.
    """
    if "op" in checked:
        op_values: Dict[str, Any] = ops.complete_op(checked)["expected"]
        return op_values
    if exact:
        values: Dict[str, Any] = vectors.complete(checked)["expected"]
        return values
    return oracle.float64_results(checked, op)


def assert_matches(case: Dict[str, Any], actual: Dict[str, Any], preset: str = "float64",
                   rtol: Optional[float] = None, atol: Optional[float] = None,
                   ulps: Optional[int] = None, require: Sequence[str] = (),
                   exact: bool = False) -> oracle.CaseResult:
    """Check ``actual`` (a dict of quantities) against purebp for ``case``; return the result.

    Raises AssertionError, with a table of the failing quantities, when any
    entry is outside the tolerance policy (purebp.oracle) or a quantity named
    in ``require`` is missing. The case and ``actual`` may hold numpy arrays
    and scalars: they are converted to Python floats (float32 at its exact
    value) and everything is computed in float64.
    """
    op = "assert_matches"
    if not isinstance(case, Mapping):
        raise TypeError(f"{op}: case must be a test-vector case (a dict), got {describe(case)}")
    if not isinstance(actual, Mapping):
        raise TypeError(f"{op}: actual must be a dict of quantities, got {describe(actual)}")
    if not isinstance(exact, bool):
        raise TypeError(f"{op}: exact must be True or False, got {describe(exact)}")
    pol = oracle.policy(preset, rtol, atol, ulps)
    require = oracle.checked_require(op, require)
    checked = vectors.validate_case(oracle._plain(vectors.case_input(dict(case))), f"{op}: case")
    checked["expected"] = _expected(checked, exact, op)
    result = oracle.compare(checked, actual, pol, require)
    if not result.passed:
        report = oracle.Report([result], pol, [])
        raise AssertionError("differs from purebp:\n" + report.table(failures_only=True))
    return result
