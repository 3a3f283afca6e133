"""Tests for purebp.activations: sigmoid on every float, and its derivative."""

import math
from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from purebp.activations import sigmoid, sigmoid_derivative

EXTREMES = [1000.0, -1000.0, 1e308, -1e308, -745.0, -746.0, 710.0, -710.0, 709.8, -709.8,
            -708.0, -708.0000001, 5e-324, -5e-324, 0.0, -0.0, math.inf, -math.inf,
            1.7976931348623157e308, -1.7976931348623157e308]


def decimal_sigmoid(x):
    """σ(x) to 60 digits."""
    with localcontext() as ctx:
        ctx.prec = 60
        return 1 / (1 + (-Decimal(x)).exp())


@pytest.mark.parametrize("x", EXTREMES)
def test_sigmoid_never_overflows_and_stays_in_unit_interval(x):
    """σ(x) is defined for extreme floats, without OverflowError, within [0, 1]."""
    s = sigmoid(x)
    assert 0.0 <= s <= 1.0


@given(st.floats(allow_nan=False))
def test_sigmoid_is_in_unit_interval_for_every_float(x):
    """For any non-NaN float σ(x) is a float in [0, 1]."""
    assert 0.0 <= sigmoid(x) <= 1.0


@given(st.floats(-700, 700))
def test_sigmoid_is_the_textbook_formula_in_the_safe_range(x):
    """Where e^−x cannot overflow, σ(x) is exactly 1 / (1 + e^−x)."""
    assert sigmoid(x) == 1.0 / (1.0 + math.exp(-x))


@given(st.floats(-1e4, 40))
def test_sigmoid_is_within_a_few_ulps_of_the_60_digit_value(x):
    """σ(x) is within 4 ulps of σ computed with 60-digit decimals (also below -708).

    1/(1 + e^−x) makes at most three roundings (exp, +, /) of ≤ ½ ulp each
    plus libm's exp error (≤ 1 ulp), so 4 ulps is a safe bound. Above 40,
    σ(x) rounds to 1 and the check would be trivial.
    """
    exact = decimal_sigmoid(x)
    got = sigmoid(x)
    if exact < Decimal("1e-320"):  # subnormal or zero: absolute error then
        assert abs(Decimal(got) - exact) <= Decimal(5e-324)
    else:
        assert abs(Decimal(got) - exact) <= 4 * Decimal(math.ulp(float(exact)))


@given(st.floats(-700, 700))
def test_sigmoid_is_symmetric(x):
    """σ(−x) = 1 − σ(x), to rounding."""
    assert sigmoid(-x) == pytest.approx(1 - sigmoid(x), abs=2e-16)


@given(st.floats(-30, 30))
def test_sigmoid_derivative_takes_the_output_and_matches_finite_differences(x):
    """sigmoid_derivative(σ(x)) agrees with (σ(x+h) − σ(x−h)) / 2h.

    With h = 1e-5 the truncation error is ≤ h²/6·max|σ'''| ≈ 2e-12 and the
    rounding error ≤ eps/h ≈ 2e-11; 1e-9 bounds both.
    """
    h = 1e-5
    fd = (sigmoid(x + h) - sigmoid(x - h)) / (2 * h)
    assert abs(sigmoid_derivative(sigmoid(x)) - fd) <= 1e-9


def test_sigmoid_derivative_of_the_input_is_the_classic_mistake():
    """Passing x instead of σ(x) gives a different number: the convention matters."""
    x = 2.0
    assert sigmoid_derivative(sigmoid(x)) == pytest.approx(math.exp(-x) / (1 + math.exp(-x)) ** 2)
    assert sigmoid_derivative(x) == -2.0
