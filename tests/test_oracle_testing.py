"""Tests for purebp.oracle.testing: the strategies and assertion other projects test with."""

import copy
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings

from purebp import oracle, vectors
from purebp.activations import ACTIVATIONS
from purebp.losses import LOSSES
from purebp.testing import assert_matches, cases, expected, networks

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@settings(max_examples=40)
@given(cases())
def test_drawn_cases_are_valid_test_vector_cases(case):
    """Every drawn case passes the format's own validation and has targets its loss accepts."""
    checked = vectors.validate_case(case, "case")
    loss = checked["network"]["loss"]
    if loss == "cross_entropy":
        assert all(sorted(row)[-1] == 1.0 and sum(row) == 1.0 for row in checked["targets"])
    if loss == "bce":
        assert all(t in (0.0, 1.0) for row in checked["targets"] for t in row)


@settings(max_examples=40)
@given(cases())
def test_the_documented_few_line_differential_test_passes_for_a_correct_implementation(case):
    """assert_matches accepts the exact values of a case (computed at 50 digits)."""
    truth = vectors.complete(vectors.validate_case(case, "case"))["expected"]
    result = assert_matches(case, truth)
    assert result.passed


def wrong_sign(case):
    """An implementation whose gradients point the wrong way."""
    result = oracle.purebp_results(vectors.validate_case(case, "case"))
    for kind in ("weights", "biases"):
        result["gradients"][kind] = [[[-g for g in row] for row in m]
                                     for m in result["gradients"][kind]]
    return result


def flat(nested):
    """Every number of nested lists, in order."""
    if isinstance(nested, list):
        return [v for item in nested for v in flat(item)]
    return [nested]


@settings(max_examples=20)
@given(cases())
def test_assert_matches_catches_a_sign_error(case):
    """A flipped gradient fails with an AssertionError naming the gradients whenever the flip
    moves some entry by more than its tolerance, and only then.

    Flipping g moves it by 2|g|: all zeros, or gradients within a kink's or a
    saturated unit's allowance of either slope, may not be told apart.
    """
    actual = wrong_sign(case)
    truth = vectors.complete(vectors.validate_case(case, "case"))["expected"]
    allowed = oracle.tolerances(case, oracle.POLICIES["float64"])
    detectable = any(abs(a - t) > e
                     for kind in ("weights", "biases")
                     for a, t, e in zip(flat(actual["gradients"][kind]),
                                        flat(truth["gradients"][kind]),
                                        flat(allowed[f"gradients.{kind}"])))
    if not detectable:
        assert_matches(case, actual, require=["gradients"])
        return
    with pytest.raises(AssertionError, match="gradients"):
        assert_matches(case, actual)


def test_a_sign_error_is_caught_on_every_curated_case_with_a_gradient():
    """Each curated case with a gradient clearly away from 0 catches the flip (not vacuous)."""
    caught = 0
    for case in vectors.curated():
        grads = flat(case["expected"]["gradients"]["weights"])
        if max(abs(g) for g in grads) > 1e-3:
            with pytest.raises(AssertionError, match="gradients"):
                assert_matches(case, wrong_sign(case))
            caught += 1
    assert caught >= 10


def test_require_makes_a_missing_quantity_fail():
    """A quantity named in require must be present."""
    case = vectors.curated()[0]
    with pytest.raises(AssertionError, match="required but missing"):
        assert_matches(case, {"loss": case["expected"]["loss"]}, require=["gradients"])


def test_expected_float_reference_is_close_to_the_exact_one():
    """expected() of purebp's float64 network passes against the exact values."""
    case = vectors.curated()[0]
    fast = expected(case)
    assert_matches(case, fast, exact=True)
    assert fast["loss"] == pytest.approx(expected(case, exact=True)["loss"], rel=1e-15)


@settings(max_examples=30)
@given(networks(max_depth=2, max_width=3))
def test_networks_draw_every_kind_of_spec_validly(spec):
    """Drawn specs use known activations and losses, and softmax outputs have two or more units."""
    assert spec["activation"] in ACTIVATIONS and spec["loss"] in LOSSES
    assert 2 <= len(spec["sizes"]) <= 3 and max(spec["sizes"]) <= 3
    if spec["output_activation"] == "softmax":
        assert spec["sizes"][-1] >= 2


def test_purebp_imports_without_hypothesis():
    """import purebp, purebp.testing and purebp.oracle work on a Python with no site-packages."""
    code = ("import purebp, purebp.testing, purebp.oracle, sys;"
            "assert 'hypothesis' not in sys.modules;"
            "import purebp.testing as t\n"
            "try:\n    t.cases()\nexcept ImportError as e:\n    print(e)")
    result = subprocess.run([sys.executable, "-S", "-c", code], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "pip install 'purebp[hypothesis]'" in result.stdout


def test_assert_matches_leaves_the_case_alone():
    """assert_matches does not change the case it is given."""
    case = vectors.curated()[1]
    before = copy.deepcopy(case)
    assert_matches(case, oracle.purebp_results(case))
    assert case == before


def test_assert_matches_takes_numpy_cases_and_results():
    """A case whose inputs are numpy arrays, and results as arrays and scalars, pass as lists do."""
    np = pytest.importorskip("numpy")
    case = next(c for c in vectors.curated() if c["id"] == "single-sample")  # lr 0.5
    got = oracle.purebp_results(case)
    numpy_case = dict(vectors.case_input(case), inputs=np.array(case["inputs"]),
                      targets=np.array(case["targets"]), learning_rate=np.float64(0.5))
    numpy_got = dict(got, loss=np.float64(got["loss"]), trajectory=np.array(got["trajectory"]),
                     pre_activations=[np.array(z) for z in got["pre_activations"]])
    result = assert_matches(numpy_case, numpy_got, require=["loss", "trajectory"])
    assert all(q.status == "pass" for q in result.quantities)


@pytest.mark.parametrize("make, words", [
    (lambda: networks(max_depth=None), "networks: max_depth"),
    (lambda: networks(max_width="x"), "networks: max_width"),
    (lambda: networks(max_depth=-1), "networks: max_depth"),
    (lambda: networks(activations=["swish"]), "networks: unknown activations"),
    (lambda: networks(output_and_loss=[("softmax", "mse")]), "networks: output_and_loss"),
    (lambda: cases(max_batch=-1), "cases: max_batch"),
    (lambda: cases(max_steps=None), "cases: max_steps"),
    (lambda: cases(weight_bound="x"), "cases: weight_bound"),
    (lambda: cases(input_bound=-1.0), "cases: input_bound"),
    (lambda: cases(network_specs="x"), "cases: network_specs"),
], ids=["depth None", "width str", "depth -1", "activation", "pair", "batch -1", "steps None",
        "bound str", "bound -1", "specs str"])
def test_strategies_refuse_bad_bounds_when_called_not_when_drawn(make, words):
    """A bad bound raises TypeError or ValueError at the call, naming it (it failed only when drawn)."""
    with pytest.raises((TypeError, ValueError)) as info:
        make()
    assert str(info.value).startswith(words), str(info.value)
