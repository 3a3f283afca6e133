"""Tests for purebp.oracle.checker and the ``purebp vectors`` / ``purebp check`` commands.

The oracle must be tight enough to catch a wrong implementation and loose
enough to pass every correct one. Both sides are shown with implementations
written here:

- purebp's own results (oracle.purebp_results), measured against the
  50-digit truth: the error bound the README states;
- tight: the exact values with one entry off by 1e-6 relative, or one
  gradient entry with its sign flipped, fail;
- loose: purebp with its matmul and column sums replaced by reversed-order
  and pairwise ones written here, the numpy example, and purebp with the
  other textbook forms of σ′ and tanh′ and the other convention at relu's
  kink, all pass; a wrong leaky slope fails; results rounded to float32 pass
  the float32 preset and fail the float64 one.

Then policy(), ulp_distance, the Report, and the command line through
cli.main: exit 0 all pass, 1 some fail, 2 unusable input (never a traceback).
The curated suite is computed once per module (the ``curated`` fixture).
"""

import copy
import importlib.util
import json
import math
import os
import struct

import pytest

from purebp import activations, cli, network, oracle, vectors
from purebp.activations import ACTIVATIONS
from purebp.oracle import checker as oracle_check

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: Every quantity a complete case holds, in the oracle's report order, written
#: out here from the format's description (docs/vectors.md), not read from the code.
ALL_QUANTITIES = ("pre_activations", "activations", "outputs", "loss", "gradients.weights",
                  "gradients.biases", "updated.weights", "updated.biases", "trajectory")

#: A relative error that must never pass the float64 policy in a well-conditioned
#: entry: 1e-6 is ten thousand times its rtol of 1e-10.
WRONG = 1e-6


@pytest.fixture(scope="module")
def curated():
    """The curated suite with its 50-digit expected values (~0.3 s, so once per module)."""
    return vectors.curated()


@pytest.fixture(scope="module")
def by_id(curated):
    return {case["id"]: case for case in curated}


@pytest.fixture(scope="module")
def own_results(curated):
    """purebp's float64 results for every curated case, by id."""
    return {case["id"]: oracle.purebp_results(vectors.case_input(case)) for case in curated}


def run_main(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- nested lists of numbers ---------------------------------------------------------------


def leaves(value, path=()):
    """Yield (path, number) for every number in nested lists, depth first."""
    if isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, path + (i,))
    else:
        yield path, value


def get_at(value, path):
    for i in path:
        value = value[i]
    return value


def replaced(value, path, new):
    """Return a deep copy of nested lists with the entry at path set to new."""
    result = copy.deepcopy(value)
    get_at(result, path[:-1])[path[-1]] = new
    return result


def largest(value):
    """Return the path of the largest-magnitude entry."""
    return max(leaves(value), key=lambda item: abs(item[1]))[0]


def expected_of(case, name):
    """The case's expected value of a quantity named as in the report ("gradients.weights")."""
    if name == "outputs":
        return case["expected"]["activations"][-1]
    part, _, sub = name.partition(".")
    return case["expected"][part][sub] if sub else case["expected"][part]


def as_actual(name, value):
    """An "expected"-style dict holding only one quantity."""
    part, _, sub = name.partition(".")
    return {part: {sub: value}} if sub else {part: value}


def status(case_result, name):
    return {q.name: q.status for q in case_result.quantities}[name]


def max_used(report):
    return max(q.max_used for c in report.cases for q in c.quantities if q.max_used is not None)


# -- implementations written here ------------------------------------------------------------


def patched_purebp(network_names=None, derivatives=None):
    """Return an impl: purebp's own results with some of its parts replaced while it runs.

    ``network_names`` replaces names in purebp.network (matmul, column_sums);
    ``derivatives`` replaces f_prime(z, a) of ACTIVATIONS entries, which Network
    looks up by name on every backward pass. The replacement lasts for the
    impl's call only, so the oracle's own tolerances are computed unpatched.
    """
    def impl(case):
        with pytest.MonkeyPatch.context() as patch:
            for name, value in (network_names or {}).items():
                patch.setattr(network, name, value)
            for name, f_prime in (derivatives or {}).items():
                patch.setitem(ACTIVATIONS, name, ACTIVATIONS[name]._replace(f_prime=f_prime))
            return oracle.purebp_results(case)
    return impl


def reversed_dot(u, v):
    """Σ u_i·v_i added from the last term to the first."""
    total = 0.0
    for i in range(len(u) - 1, -1, -1):
        total += u[i] * v[i]
    return total


def pairwise_dot(u, v):
    """Σ u_i·v_i added as a balanced tree of halves, as BLAS-style kernels do."""
    if len(u) == 1:
        return u[0] * v[0]
    half = len(u) // 2
    return pairwise_dot(u[:half], v[:half]) + pairwise_dot(u[half:], v[half:])


def matmul_with(dot):
    def matmul(A, B):
        columns = [list(column) for column in zip(*B)]
        return [[dot(row, column) for column in columns] for row in A]
    return matmul


def column_sums_with(dot):
    def column_sums(A):
        return [[dot(list(column), [1.0] * len(column)) for column in zip(*A)]]
    return column_sums


def sigmoid_prime_from_z(z, a):
    """σ′(z) = σ(z)·σ(−z): from z, not from the rounded output a."""
    return activations.sigmoid(z) * activations.sigmoid(-z)


def tanh_prime_from_z(z, a):
    """tanh′(z) = 1/cosh²(z); cosh overflows past |z| ≈ 710, where 1/cosh² is 0 anyway."""
    c = math.cosh(z) if abs(z) < 700 else math.inf
    return 1.0 / (c * c)


def to_float32(value):
    """Every number of nested dicts and lists rounded to the nearest float32."""
    if isinstance(value, dict):
        return {k: to_float32(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_float32(v) for v in value]
    return struct.unpack("f", struct.pack("f", value))[0]


def float32_neighbour(x):
    """The next float32 above a positive float32 x, by stepping its bit pattern."""
    (bits,) = struct.unpack("<I", struct.pack("<f", x))
    return struct.unpack("<f", struct.pack("<I", bits + 1))[0]


# -- purebp's own results: the bound the README states ----------------------------------------


def test_purebp_passes_the_curated_suite_using_under_one_percent_of_any_tolerance(curated):
    """purebp's float64 results pass every curated quantity with error < 1% of its tolerance."""
    report = oracle.check_implementation(oracle.purebp_results, curated)
    assert report.passed, report.table(failures_only=True)
    assert report.counts()["not checked"] == 0
    # Measured 0.25% (sigmoid-saturated-30's gradients); 1% is the bound the README states.
    assert max_used(report) < 0.01


def test_purebp_passes_forty_random_cases_using_under_one_percent_of_any_tolerance():
    """purebp's float64 results pass 40 seeded random cases with error < 1% of any tolerance."""
    report = oracle.check_implementation(oracle.purebp_results, vectors.random_cases(40, seed=5))
    assert report.passed, report.table(failures_only=True)
    assert max_used(report) < 0.01  # measured 0.008%


def test_purebp_loss_and_trajectory_are_within_a_few_ulps_of_the_exact_values(curated,
                                                                             own_results):
    """purebp's loss is within 4 ulps and every trajectory loss within 16 ulps of the truth."""
    # Measured: loss at most 2 ulps (wide-64), trajectory at most 12 (large-values, whose
    # losses near 1e12 come from long sums); the margins are the README's stated bounds.
    for case in curated:
        got, want = own_results[case["id"]], case["expected"]
        assert oracle.ulp_distance(got["loss"], want["loss"]) <= 4, case["id"]
        assert len(got["trajectory"]) == case["steps"] == len(want["trajectory"])
        for a, e in zip(got["trajectory"], want["trajectory"]):
            assert oracle.ulp_distance(a, e) <= 16, case["id"]


# -- tight enough ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["gradients.weights", "loss"])
def test_one_entry_off_by_1e6_relative_fails_in_every_curated_case(curated, name):
    """The largest gradient entry, or the loss, times (1 + 1e-6) fails; the exact value passes."""
    failures = []
    for case in curated:
        exact = expected_of(case, name)
        assert status(oracle.compare(case, as_actual(name, exact)), name) == "pass"
        wrong = exact * (1 + WRONG) if name == "loss" else \
            replaced(exact, largest(exact), get_at(exact, largest(exact)) * (1 + WRONG))
        if status(oracle.compare(case, as_actual(name, wrong)), name) != "fail":
            failures.append(case["id"])
    assert failures == []


def outputs_off_by_1e6(case):
    """The statuses of outputs with one largest-magnitude entry times (1 + 1e-6), for each
    entry tied for largest (saturated softmax rows hold several 1.0s)."""
    outputs = expected_of(case, "outputs")
    top = max(abs(v) for _, v in leaves(outputs))
    return [status(oracle.compare(case, {"outputs": replaced(outputs, path, v * (1 + WRONG))}),
                   "outputs") for path, v in leaves(outputs) if abs(v) == top]


def test_an_output_off_by_1e6_relative_fails_in_every_other_curated_case(curated):
    """The largest output times (1 + 1e-6) fails in every curated case but softmax-large-logits."""
    failures = [case["id"] for case in curated if case["id"] != "softmax-large-logits"
                and set(outputs_off_by_1e6(case)) != {"fail"}]
    assert failures == []


def test_an_output_off_by_1e6_relative_fails_at_large_softmax_logits(by_id):
    """Each saturated softmax output 1.0 reported as 1.000001 fails."""
    assert outputs_off_by_1e6(by_id["softmax-large-logits"]) == ["fail"] * 3


#: Cases whose saturated units (σ′(30) ≈ 1e-13, tanh′(30) ≈ 4e-26) or units at relu's kink
#: make some gradient entries as uncertain as they are large: there a correct
#: implementation may legitimately differ by the whole entry (see the saturation and kink
#: tests below), so flipping the sign of such an entry is no error the oracle may report.
UNCERTAIN_ENTRIES = ("sigmoid-saturated-30", "tanh-saturated-30", "relu-at-zero",
                     "leaky_relu-at-zero")


def test_a_sign_flip_of_any_nonzero_gradient_entry_fails(curated):
    """Negating any one nonzero gradient entry fails, outside saturated and kinked units."""
    pol = oracle.policy("float64")
    failures, flips = [], 0
    for case in curated:
        if case["id"] in UNCERTAIN_ENTRIES:
            continue
        # compare() is tolerances() + compare_quantity() per quantity; calling them
        # directly computes each case's tolerances once instead of once per entry.
        tolerance = oracle.tolerances(case, pol)
        for name in ("gradients.weights", "gradients.biases"):
            exact = expected_of(case, name)
            for path, g in leaves(exact):
                if g != 0:
                    flips += 1
                    result = oracle.compare_quantity(name, exact, replaced(exact, path, -g),
                                                     tolerance[name], pol)
                    if result.status != "fail":
                        failures.append((case["id"], name, path, g))
    assert flips > 1000  # the sweep really covered the suite
    assert failures == []


def test_a_sign_flipped_gradient_fails_even_with_saturated_or_kinked_units(curated):
    """Negating the whole gradient (ascent instead of descent) fails every curated case."""
    for case in curated:
        grads = copy.deepcopy(case["expected"]["gradients"])
        negated = {kind: [[[-g for g in row] for row in m] for m in grads[kind]]
                   for kind in grads}
        result = oracle.compare(case, {"gradients": negated})
        assert status(result, "gradients.weights") == "fail", case["id"]
        if any(g != 0 for _, g in leaves(grads["biases"])):  # bce-saturated's are all 0
            assert status(result, "gradients.biases") == "fail", case["id"]


# -- loose enough ------------------------------------------------------------------------------


@pytest.mark.parametrize("dot", [reversed_dot, pairwise_dot], ids=["reversed", "pairwise"])
def test_summing_in_another_order_passes(curated, own_results, dot):
    """purebp with every matrix product and bias sum added in another order passes."""
    impl = patched_purebp({"matmul": matmul_with(dot), "column_sums": column_sums_with(dot)})
    changed = [case["id"] for case in curated
               if impl(vectors.case_input(case)) != own_results[case["id"]]]
    assert len(changed) >= 10  # the other order really changed the numbers (measured 20+)
    report = oracle.check_implementation(impl, curated)
    assert report.passed, report.table(failures_only=True)


def load_numpy_example():
    path = os.path.join(ROOT, "examples", "numpy_backprop.py")
    spec = importlib.util.spec_from_file_location("numpy_backprop", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_numpy_example_passes_the_curated_suite_and_random_cases(curated):
    """examples/numpy_backprop.run, with numpy's own summation, passes curated and 30 random cases."""
    pytest.importorskip("numpy")
    example = load_numpy_example()
    for cases in (curated, vectors.random_cases(30, seed=7)):
        report = oracle.check_implementation(example.run, cases)
        assert report.passed, report.table(failures_only=True)
        assert report.counts()["not checked"] == 0


def test_derivatives_computed_from_z_pass_at_saturation(curated, by_id, own_results):
    """σ′ = σ(z)·σ(−z) and tanh′ = 1/cosh²(z), not from the rounded output, pass the suite."""
    impl = patched_purebp(derivatives={"sigmoid": sigmoid_prime_from_z,
                                       "tanh": tanh_prime_from_z})
    for case_id in ("sigmoid-saturated-30", "tanh-saturated-30"):  # the forms really differ
        got = impl(vectors.case_input(by_id[case_id]))
        assert got["gradients"] != own_results[case_id]["gradients"], case_id
    report = oracle.check_implementation(impl, curated)
    assert report.passed, report.table(failures_only=True)


#: The other convention at the kink (TensorFlow-ish): the right-hand slope, 1, at z = 0.
KINK_AT_ONE = {"relu": lambda z, a: 1.0 if z >= 0 else 0.0,
               "leaky_relu": lambda z, a: 1.0 if z >= 0 else activations.LEAKY_SLOPE}


def kink_report(curated, by_id, name, with_trajectory):
    """Check purebp with f′(0) = 1 for ``name`` against the suite."""
    impl = patched_purebp(derivatives={name: KINK_AT_ONE[name]})
    case = by_id[f"{name}-at-zero"]  # the convention really changes that case's gradients
    assert impl(vectors.case_input(case))["gradients"] != case["expected"]["gradients"]

    def first_step_only(case):
        result = impl(case)
        del result["trajectory"]
        return result
    return oracle.check_implementation(impl if with_trajectory else first_step_only, curated)


@pytest.mark.parametrize("name", ["relu", "leaky_relu"])
def test_the_other_slope_at_the_kink_passes_the_first_step(curated, by_id, name):
    """relu′(0) = 1 or leaky_relu′(0) = 1 passes every quantity of the first step."""
    report = kink_report(curated, by_id, name, with_trajectory=False)
    assert report.passed, report.table(failures_only=True)


@pytest.mark.parametrize("name", [
    "relu",
    "leaky_relu",
])
def test_the_other_slope_at_the_kink_passes_the_whole_suite(curated, by_id, name):
    """relu′(0) = 1 or leaky_relu′(0) = 1 passes the curated suite, trajectories included."""
    report = kink_report(curated, by_id, name, with_trajectory=True)
    assert report.passed, report.table(failures_only=True)


def test_a_wrong_leaky_slope_fails(curated):
    """leaky_relu′ = 0.02 for z < 0 instead of 0.01 fails the cases with leaky units below 0."""
    impl = patched_purebp(derivatives={"leaky_relu": lambda z, a: 1.0 if z > 0 else 0.02})
    report = oracle.check_implementation(impl, curated)
    assert not report.passed
    failed = {c.id: c for c in report.cases if not c.passed}
    assert "activation-leaky_relu" in failed
    assert status(failed["activation-leaky_relu"], "gradients.weights") == "fail"


def test_float32_results_pass_the_float32_preset_and_fail_float64(curated):
    """purebp's results rounded to float32 pass --preset float32 and fail every case in float64."""
    def float32_impl(case):
        return to_float32(oracle.purebp_results(case))

    report32 = oracle.check_implementation(float32_impl, curated, oracle.policy("float32"))
    assert report32.passed, report32.table(failures_only=True)
    report64 = oracle.check_implementation(float32_impl, curated)
    # float32 rounding is up to 6e-8 relative, 600 times float64's rtol: every case fails.
    assert [c.id for c in report64.cases if c.passed] == []


# -- the Report --------------------------------------------------------------------------------


def test_report_counts_table_and_summary(by_id):
    """A report counts pass / fail / not checked, shows PASS and FAIL rows and a summary line."""
    good, bad = by_id["xor-tutorial"], by_id["one-unit"]
    actual = [{"id": good["id"], "expected": good["expected"]},
              {"id": bad["id"], "expected": {"loss": bad["expected"]["loss"] * (1 + WRONG)}}]
    report = oracle.check([good, bad], actual)
    # xor-tutorial: all 9 quantities pass; one-unit: the loss fails, 8 are not given.
    assert report.counts() == {"pass": 9, "fail": 1, "not checked": 8}
    assert not report.passed
    table = report.table()
    rows = table.splitlines()
    assert any(r.startswith("xor-tutorial") and "gradients.weights" in r and r.endswith("PASS")
               for r in rows)
    assert any(r.startswith("one-unit") and " loss " in r and r.endswith("FAIL") for r in rows)
    assert any(r.startswith("one-unit") and "trajectory" in r and r.endswith("NOT CHECKED")
               for r in rows)
    assert "2 cases: 9 passed, 1 failed, 8 not checked (float64 policy" in table
    assert rows[-1] == "FAIL"
    failures_only = report.table(failures_only=True)
    assert "PASS\n" not in failures_only and "one-unit" in failures_only


def no_constants(name):
    raise AssertionError(f"the report's JSON holds {name}")


def test_report_json_parses_and_holds_no_nan_even_for_an_infinite_result(by_id):
    """to_json() parses with json.loads, says passed, and writes an infinite error as null."""
    case = by_id["xor-tutorial"]
    report = oracle.check([case], [{"id": case["id"], "expected": {"loss": math.inf}}])
    data = json.loads(report.to_json(), parse_constant=no_constants)
    assert data["passed"] is False
    (loss,) = [q for q in data["cases"][0]["quantities"] if q["name"] == "loss"]
    assert loss["status"] == "fail" and loss["max_abs_error"] is None
    good = oracle.check([case], [{"id": case["id"], "expected": case["expected"]}])
    assert json.loads(good.to_json(), parse_constant=no_constants)["passed"] is True


def test_missing_quantities_are_not_checked_unless_required(by_id):
    """A quantity absent from actual is "not checked"; named (or its prefix) in require, it fails."""
    case = by_id["xor-tutorial"]
    actual = {"loss": case["expected"]["loss"]}
    free = oracle.compare(case, actual)
    assert {q.name: q.status for q in free.quantities} == \
        {name: "pass" if name == "loss" else "not checked" for name in ALL_QUANTITIES}
    assert free.passed
    required = oracle.compare(case, actual, require=["gradients", "trajectory"])
    assert [q.name for q in required.quantities if q.status == "fail"] == \
        ["gradients.weights", "gradients.biases", "trajectory"]
    assert not required.passed


def test_unknown_ids_in_actual_are_reported_and_fail(by_id):
    """A results case whose id is not among the expected ones is listed and fails the report."""
    case = by_id["one-unit"]
    actual = [{"id": case["id"], "expected": case["expected"]},
              {"id": "no-such-case", "expected": {"loss": 1.0}}]
    report = oracle.check([case], actual)
    assert report.unknown_ids == ["no-such-case"]
    assert report.cases[0].passed and not report.passed
    assert "no-such-case" in report.table() and "not among the expected" in report.table()
    assert json.loads(report.to_json())["unknown_ids"] == ["no-such-case"]


def test_a_shape_mismatch_fails_naming_both_shapes(by_id):
    """A weight gradient with a column missing fails with a message giving both shapes."""
    case = by_id["xor-tutorial"]  # gradients.weights[0] is 2 × 4
    short = copy.deepcopy(case["expected"]["gradients"]["weights"])
    for row in short[0]:
        row.pop()
    (result,) = [q for q in oracle.compare(case, {"gradients": {"weights": short}}).quantities
                 if q.name == "gradients.weights"]
    assert result.status == "fail"
    assert "3" in result.detail and "4" in result.detail and "expected" in result.detail


def test_a_shape_mismatch_in_a_later_layer_names_two_different_shapes(by_id):
    """A transposed last-layer weight gradient fails with a message whose two shapes differ."""
    case = by_id["xor-tutorial"]  # gradients.weights[1] is 4 × 1
    grads = copy.deepcopy(case["expected"]["gradients"]["weights"])
    grads[1] = [list(column) for column in zip(*grads[1])]  # 1 × 4
    (result,) = [q for q in oracle.compare(case, {"gradients": {"weights": grads}}).quantities
                 if q.name == "gradients.weights"]
    assert result.status == "fail"
    got, _, want = result.detail.partition(" but expected ")
    assert got.removeprefix("shape ") != want


def test_an_impl_that_raises_or_returns_no_dict_fails_that_case_and_the_run_goes_on(curated):
    """An exception or a non-dict fails its own case with the message; other cases are checked."""
    first, second, third = curated[:3]

    def impl(case):
        if case["id"] == first["id"]:
            raise ZeroDivisionError("planted failure")
        if case["id"] == second["id"]:
            return [1.0]
        return oracle.purebp_results(case)

    report = oracle.check_implementation(impl, [first, second, third])
    results = {c.id: c for c in report.cases}
    assert [q.detail for q in results[first["id"]].quantities] == \
        ["raised ZeroDivisionError: planted failure"]
    assert "returned list" in results[second["id"]].quantities[0].detail
    assert not results[first["id"]].passed and not results[second["id"]].passed
    assert results[third["id"]].passed and len(results[third["id"]].quantities) == 9
    assert not report.passed


# -- policy() and ulps -------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [
    {"preset": "float16"}, {"rtol": -1.0}, {"rtol": math.nan}, {"atol": -1e-300},
    {"atol": math.nan}, {"rtol": math.inf}, {"ulps": -1}, {"ulps": 1.5}, {"ulps": True},
])
def test_policy_refuses_bad_values(kwargs):
    """An unknown preset, a negative or non-finite tolerance, or a bad ulps raises ValueError."""
    with pytest.raises(ValueError):
        oracle.policy(**kwargs)


def test_policy_replaces_only_what_is_given():
    """policy() keeps the preset's values except those passed."""
    pol = oracle.policy("float32", atol=0.0)
    assert (pol.name, pol.rtol, pol.atol, pol.ulps) == ("float32", 2e-4, 0.0, None)


def steps_up(x, n):
    for _ in range(n):
        x = math.nextafter(x, math.inf)
    return x


def test_ulps_lets_near_entries_pass_with_zero_rtol_and_atol(by_id):
    """With rtol = atol = 0, outputs 1 ulp off and a loss 3 ulps off pass only under --ulps."""
    case = by_id["xor-tutorial"]
    # Outputs and the loss have no uncertainty term, so their tolerance is exactly 0 here.
    outputs = [[steps_up(v, 1) for v in row] for row in case["expected"]["activations"][-1]]
    actual = {"outputs": outputs, "loss": steps_up(case["expected"]["loss"], 3)}

    def statuses(ulps):
        result = oracle.compare(case, actual, oracle.policy(rtol=0.0, atol=0.0, ulps=ulps))
        return status(result, "outputs"), status(result, "loss")

    assert statuses(None) == ("fail", "fail")
    assert statuses(1) == ("pass", "fail")
    assert statuses(3) == ("pass", "pass")


def test_ulp_distance_counts_floats():
    """0 for equal floats, 1 for neighbours, symmetric, and it scales with the steps taken."""
    for x in (1.0, -2.5, 1e-300, 5e-324, 1.7e308, 0.1):
        assert oracle.ulp_distance(x, x) == 0
        up = math.nextafter(x, math.inf)
        assert oracle.ulp_distance(x, up) == oracle.ulp_distance(up, x) == 1
        assert oracle.ulp_distance(x, steps_up(x, 7)) == 7
    assert oracle.ulp_distance(0.0, -0.0) == 0  # equal values


def test_ulp_distance_crosses_zero():
    """The smallest positive and negative subnormals are 2 apart; 0 lies between them."""
    tiny = math.nextafter(0.0, 1.0)
    assert oracle.ulp_distance(tiny, -tiny) == 2
    assert oracle.ulp_distance(tiny, 0.0) == oracle.ulp_distance(-tiny, 0.0) == 1
    assert oracle.ulp_distance(-1.0, 1.0) == 2 * oracle.ulp_distance(0.0, 1.0)


def test_ulp_distance_in_float32_counts_float32_steps():
    """single=True counts float32 neighbours, not float64 ones."""
    up = float32_neighbour(1.0)  # 1 + 2**-23
    assert oracle.ulp_distance(1.0, up, single=True) == 1
    assert oracle.ulp_distance(1.0, up) == 2 ** 29  # float64 has 29 more bits of mantissa
    tiny32 = struct.unpack("<f", struct.pack("<I", 1))[0]  # smallest float32 subnormal
    assert oracle.ulp_distance(tiny32, -tiny32, single=True) == 2


# -- the command line ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory, curated):
    """The curated suite, one file per case, as ``purebp vectors`` writes it."""
    folder = tmp_path_factory.mktemp("vectors")
    for case in curated:
        vectors.write(str(folder / (case["id"] + ".json")), [case])
    return folder


def write_results(path, results):
    """Write purebp-format results: one case per id holding only "expected" quantities."""
    vectors.write(str(path), [{"id": case_id, "expected": r} for case_id, r in results.items()])
    return path


def test_vectors_writes_the_curated_and_random_files(capsys, tmp_path, curated):
    """vectors --random 3 writes one file per curated case plus 3 random ones and says so."""
    out = tmp_path / "suite"
    code, stdout, err = run_main(capsys, "vectors", "--out", out, "--random", "3", "--seed", "1")
    assert code == 0 and err == ""
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == len(curated) + 3
    assert {case["id"] + ".json" for case in curated} <= set(names)
    total = len(curated) + 3
    assert stdout == f"wrote {total} cases ({len(curated)} curated, 3 random) to {out}\n"
    assert [c["id"] for c in vectors.load(str(out))] == [n[:-len(".json")] for n in names]


def test_check_a_folder_against_itself_exits_0(capsys, suite_dir, curated):
    """check DIR DIR passes every quantity of every case."""
    code, out, err = run_main(capsys, "check", suite_dir, suite_dir)
    assert code == 0 and err == ""
    assert out.splitlines()[-1] == "PASS"
    assert f"{len(curated)} cases: {9 * len(curated)} passed, 0 failed" in out


def test_check_purebps_own_results_exits_0(capsys, tmp_path, suite_dir, own_results):
    """A results file written from purebp_results passes."""
    results = write_results(tmp_path / "results.json", own_results)
    code, out, _ = run_main(capsys, "check", suite_dir, results)
    assert code == 0, out
    assert " 0 failed, 0 not checked" in out


@pytest.fixture
def perturbed_results(tmp_path, own_results):
    """purebp's results with xor-tutorial's largest weight gradient off by 1e-6 relative."""
    results = copy.deepcopy(own_results)
    grads = results["xor-tutorial"]["gradients"]
    path = largest(grads["weights"])
    grads["weights"] = replaced(grads["weights"], path, get_at(grads["weights"], path) * (1 + WRONG))
    return write_results(tmp_path / "perturbed.json", results)


def test_check_a_perturbed_gradient_exits_1_naming_case_and_quantity(capsys, suite_dir,
                                                                     perturbed_results):
    """One gradient entry off by 1e-6 relative exits 1; the table's FAIL row names it."""
    code, out, _ = run_main(capsys, "check", suite_dir, perturbed_results)
    assert code == 1
    failing = [line for line in out.splitlines() if line.endswith("FAIL")]
    assert len(failing) == 2  # the one quantity's row, then the verdict
    assert failing[0].split()[:2] == ["xor-tutorial", "gradients.weights"]
    assert out.splitlines()[-1] == "FAIL"


def test_check_json_reports_the_failure(capsys, suite_dir, perturbed_results):
    """--json prints one valid JSON document with "passed": false and the failing quantity."""
    code, out, _ = run_main(capsys, "check", "--json", suite_dir, perturbed_results)
    assert code == 1
    data = json.loads(out, parse_constant=no_constants)
    assert data["passed"] is False
    failed = [(c["id"], q["name"]) for c in data["cases"] for q in c["quantities"]
              if q["status"] == "fail"]
    assert failed == [("xor-tutorial", "gradients.weights")]


def test_check_preset_float32_accepts_float32_results(capsys, tmp_path, suite_dir, own_results):
    """Results rounded to float32 exit 0 with --preset float32 and 1 without it."""
    results = write_results(tmp_path / "f32.json", to_float32(own_results))
    assert run_main(capsys, "check", "--preset", "float32", suite_dir, results)[0] == 0
    assert run_main(capsys, "check", suite_dir, results)[0] == 1


def test_check_require_trajectory_fails_when_it_is_missing(capsys, tmp_path, suite_dir,
                                                           own_results):
    """--require trajectory on results without trajectories exits 1; without --require, 0."""
    results = copy.deepcopy(own_results)
    for r in results.values():
        del r["trajectory"]
    path = write_results(tmp_path / "no-trajectory.json", results)
    assert run_main(capsys, "check", suite_dir, path)[0] == 0
    code, out, _ = run_main(capsys, "check", "--require", "trajectory", suite_dir, path)
    assert code == 1
    assert "required but missing" in out


def test_check_require_an_unknown_quantity_exits_2(capsys, suite_dir):
    """--require nonsense is a usage error: exit 2, the name on stderr."""
    code, out, err = run_main(capsys, "check", "--require", "nonsense", suite_dir, suite_dir)
    assert code == 2 and out == ""
    assert err.startswith("purebp: error:") and "nonsense" in err


@pytest.mark.parametrize("option", [["--rtol", "-1"], ["--atol", "nan"], ["--ulps", "-1"],
                                    ["--preset", "float16"]])
def test_check_bad_tolerance_options_exit_2(capsys, suite_dir, option):
    """A negative or NaN tolerance or an unknown preset is refused by argparse: exit 2."""
    code, out, err = run_main(capsys, "check", *option, suite_dir, suite_dir)
    assert code == 2 and out == ""
    assert option[0] in err and "Traceback" not in err


def results_text(own_results):
    return vectors.dump([{"id": "xor-tutorial", "expected": own_results["xor-tutorial"]}])


#: A results file's text for each way it can be unusable (None: no file at all).
UNUSABLE = {
    "missing file": lambda own: None,
    "truncated JSON": lambda own: results_text(own)[:200],
    "wrong version": lambda own: results_text(own).replace('"version": 1', '"version": 2'),
    "NaN literal": lambda own: results_text(own).replace(
        repr(own["xor-tutorial"]["loss"]), "NaN"),
}


@pytest.mark.parametrize("problem", list(UNUSABLE) + ["expected without values"])
def test_check_unusable_input_exits_2_naming_the_file(capsys, tmp_path, suite_dir, by_id,
                                                      own_results, problem):
    """A missing, truncated, wrong-version or NaN file, or vectors without values, exit 2."""
    expected, actual = suite_dir, tmp_path / "bad.json"
    if problem == "expected without values":
        expected = tmp_path / "inputs-only.json"
        vectors.write(str(expected), [vectors.case_input(by_id["xor-tutorial"])])
        actual = write_results(tmp_path / "results.json", own_results)
        bad = expected
    else:
        text = UNUSABLE[problem](own_results)
        if text is not None:
            assert text != results_text(own_results)  # the damage was really done
            actual.write_text(text, encoding="utf-8")
        bad = actual
    code, out, err = run_main(capsys, "check", expected, actual)
    assert code == 2 and out == ""
    assert err.startswith("purebp: error: ") and err.count("\n") == 1
    assert str(bad) in err and "Traceback" not in err


def test_gradients_given_as_a_list_fail_instead_of_going_unchecked(by_id):
    """A result whose gradients are not a {weights, biases} dict fails, not "not checked"."""
    case = by_id["xor-tutorial"]
    actual = {"gradients": [case["expected"]["gradients"]["weights"]]}
    result = oracle.compare(case, actual)
    assert not result.passed
    assert any(q.name == "gradients" and "must be a dict" in q.detail for q in result.quantities)


def scaled_errors(case):
    """Return {(quantity, saturated?): max |purebp − truth| / (eps·S)} for one case.

    S is recovered from the tolerance, (tol − atol)/rtol: away from saturated
    units and kinks the uncertainty term is eps-sized and adds under 1e-5·S.
    """
    pol = oracle.POLICIES["float64"]
    tol = oracle.tolerances(case, pol)
    got = oracle.purebp_results(case)
    worst = {}
    for name in ("pre_activations", "activations", "gradients.weights", "gradients.biases",
                 "updated.weights", "updated.biases"):
        want = oracle_check._entries(oracle_check._get(case["expected"], name))
        have = oracle_check._entries(oracle_check._get(got, name))
        allowed = oracle_check._entries(tol[name])
        for (_, e), (_, a), (_, t) in zip(want, have, allowed):
            scale = (t - pol.atol) / pol.rtol
            if scale > 0:
                worst[name] = max(worst.get(name, 0.0), abs(a - e) / (pol.eps * scale))
    return worst


def test_purebp_is_as_close_to_the_truth_as_the_readme_says(curated):
    """Forward values within 1.3·eps·S, gradients and updates within 100·eps·S (1,200 saturated).

    These are the figures README.md states, measured on the curated suite;
    the bounds here carry a margin of about 1.5 so that a different libm
    does not break them, while a real loss of accuracy (a cancelling
    formula, a wrong summation) would exceed them by orders of magnitude.
    """
    for case in curated:
        saturated = case["id"] in ("sigmoid-saturated-30", "tanh-saturated-30")
        for name, value in scaled_errors(case).items():
            if name.startswith(("gradients", "updated")):
                bound = 1800.0 if saturated else 150.0
            else:
                bound = 2.0
            assert value <= bound, (case["id"], name, value)
