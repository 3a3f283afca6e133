"""Tests for purebp.activations: each activation on every float, beside its derivative.

sigmoid and tanh against 60-digit decimals, relu, leaky_relu and identity against
their definitions, every derivative against central finite differences (with
the bound derived where it is used), softmax and its Jacobian against decimals,
finite differences and their laws, and the ACTIVATIONS table.
"""

import math
import struct
from decimal import Decimal, localcontext

import pytest
from bitwise import run_row_steps
from hypothesis import given
from hypothesis import strategies as st

from purebp.activations import (
    ACTIVATIONS,
    LEAKY_SLOPE,
    NAMES,
    SOFTMAX_CODE,
    identity,
    identity_derivative,
    leaky_relu,
    leaky_relu_derivative,
    relu,
    relu_derivative,
    sigmoid,
    sigmoid_derivative,
    softmax,
    softmax_jacobian,
    tanh,
    tanh_derivative,
)

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


@given(st.floats(-708, 700))
def test_sigmoid_is_the_textbook_formula_in_the_safe_range(x):
    """Down to −708, where e^−x is still finite, σ(x) is exactly 1 / (1 + e^−x)."""
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
        assert abs(Decimal(got) - exact) <= Decimal(5e-324)  # noqa: RUF032 (the float's value)
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


# -- tanh, relu, leaky_relu, identity ------------------------------------------

EPS = 2.0 ** -52  # one ulp of 1.0; one rounding is off by at most EPS/2 relative
MAX = 1.7976931348623157e308


def decimal_tanh(x):
    """tanh(x) = (e^2x − 1)/(e^2x + 1), with 60 digits beyond those 1/|x| eats."""
    if x == 0:
        return Decimal(0)
    with localcontext() as ctx:
        ctx.prec = 60 + max(0, -math.floor(math.log10(abs(x))))
        e = (2 * Decimal(x)).exp()
        return (e - 1) / (e + 1)


def measured_difference(f, x, h):
    """(f(x + h) − f(x − h)) / step and the step, measured after rounding x ± h.

    For |x| ≥ 3h the two points are within a factor 2 of each other, so the
    step (x + h) − (x − h) is computed exactly (Sterbenz).
    """
    up, down = x + h, x - h
    step = up - down
    return (f(up) - f(down)) / step, step


@pytest.mark.parametrize("x", EXTREMES)
def test_tanh_never_overflows_and_stays_in_its_range(x):
    """tanh(x) is defined for extreme floats, without OverflowError, within [−1, 1]."""
    t = tanh(x)
    assert -1.0 <= t <= 1.0
    if abs(x) >= 20:  # 1 − tanh(20) ≈ 8e-18 < ½ ulp below 1: the float is ±1
        assert t == math.copysign(1.0, x)


@given(st.floats(-25, 25))
def test_tanh_is_within_a_few_ulps_of_the_60_digit_value(x):
    """tanh(x) is within 4 ulps of (e^2x − 1)/(e^2x + 1) in 60-digit decimals.

    libm's tanh is not correctly rounded (glibc documents ≤ 2 ulps); 4 ulps is
    the budget the sigmoid test uses, with room for other platforms' libm.
    """
    exact = decimal_tanh(x)
    assert abs(Decimal(tanh(x)) - exact) <= 4 * Decimal(math.ulp(float(exact)))


@given(st.floats(-20, 20))
def test_tanh_derivative_takes_the_output_and_matches_finite_differences(x):
    """tanh_derivative(tanh(x)) agrees with the central difference of tanh, within 1e-9.

    With h = 1e-5 the truncation error is ≤ h²/6·max|tanh'''| = h²/6·2 ≈ 3e-11;
    tanh is within 4 ulps ≤ 9e-16, so rounding adds ≤ 2·9e-16/2h ≈ 9e-11, and
    1 − t² a few EPS more. 1e-9 bounds their sum five times over.
    """
    fd, _ = measured_difference(tanh, x, 1e-5)
    assert abs(tanh_derivative(tanh(x)) - fd) <= 1e-9


def test_tanh_derivative_of_the_input_is_the_classic_mistake():
    """tanh_derivative takes t = tanh(x): given x = 2 it returns 1 − 4, not sech²(2)."""
    assert tanh_derivative(tanh(2.0)) == pytest.approx(1 / math.cosh(2.0) ** 2, rel=1e-14)
    assert tanh_derivative(2.0) == -3.0


@given(st.floats(allow_nan=False))
def test_relu_leaky_relu_and_identity_follow_their_definitions(x):
    """relu = max(0, x); leaky_relu = max(0, x) + 0.01·min(0, x) (PyTorch's formula); identity = x.

    Both sides round 0.01·x once and add exact zeros, so they agree with ==.
    """
    assert relu(x) == max(0.0, x)
    assert leaky_relu(x) == max(0.0, x) + 0.01 * min(0.0, x)
    assert identity(x) == x and math.copysign(1.0, identity(x)) == math.copysign(1.0, x)


@given(st.floats(-100, 100).filter(lambda v: abs(v) >= 1e-3))
def test_piecewise_linear_derivatives_match_finite_differences_away_from_the_kink(x):
    """relu′, leaky_relu′ and identity′ agree with central differences wherever |x| ≥ 1e-3.

    With h = 1e-4 both points lie on one side of the kink, where the functions
    are linear: no truncation error, and the step is exact (|x| ≥ 3h). relu and
    identity then give the slope exactly. leaky_relu rounds 0.01·(x ± h) by
    ≤ ½ ulp each, so its difference is off by ≤ 0.01·(|x| + h)·EPS / step.
    """
    h = 1e-4
    assert measured_difference(relu, x, h)[0] == relu_derivative(x)
    assert measured_difference(identity, x, h)[0] == identity_derivative(x) == 1.0
    fd, step = measured_difference(leaky_relu, x, h)
    assert abs(fd - leaky_relu_derivative(x)) <= 0.01 * (abs(x) + h) * EPS / step


@pytest.mark.parametrize("x", [0.0, -0.0])
def test_derivatives_at_the_kink_follow_pytorch(x):
    """At x = ±0, relu′ is 0 and leaky_relu′ is 0.01: the values PyTorch's autograd uses."""
    assert LEAKY_SLOPE == 0.01  # PyTorch's default negative_slope
    assert relu_derivative(x) == 0.0
    assert leaky_relu_derivative(x) == 0.01


@pytest.mark.parametrize("x", [5e-324, -5e-324, 1e308, -1e308, math.inf, -math.inf])
def test_derivatives_just_off_the_kink_and_at_the_extremes(x):
    """The smallest step off 0 selects the other branch; huge inputs keep their side's slope."""
    assert relu_derivative(x) == (1.0 if x > 0 else 0.0)
    assert leaky_relu_derivative(x) == (1.0 if x > 0 else 0.01)
    assert identity_derivative(x) == 1.0


def test_kink_convention_matches_pytorch_autograd():
    """torch's relu and leaky_relu (float64) have gradient 0 and 0.01 at 0, and ours elsewhere."""
    torch = pytest.importorskip("torch")
    points = [-2.0, -0.0, 0.0, 3.0]
    for ours, theirs in [(relu_derivative, torch.relu),
                         (leaky_relu_derivative, torch.nn.functional.leaky_relu)]:
        x = torch.tensor(points, dtype=torch.float64, requires_grad=True)
        theirs(x).sum().backward()
        assert x.grad.tolist() == [ours(p) for p in points]


# -- softmax and its Jacobian ------------------------------------------------------


def decimal_softmax(row):
    """e^z_k / Σ_j e^z_j in 60-digit decimals, no shift."""
    with localcontext() as ctx:
        ctx.prec = 60
        exps = [Decimal(v).exp() for v in row]
        total = sum(exps)
        return [e / total for e in exps]


finite_rows = st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=8)


@given(finite_rows)
def test_softmax_is_a_distribution_for_any_finite_row(row):
    """For any finite floats, softmax gives entries in [0, 1] that sum to 1 within (k + 1)·EPS/2.

    The sum of the k exponentials is off by ≤ (k − 1) roundings relative, each
    quotient by one, and fsum adds one more: (k + 1) half-ulps of 1 in all.
    """
    s = softmax(row)
    assert len(s) == len(row)
    assert all(0.0 <= v <= 1.0 for v in s)
    assert abs(math.fsum(s) - 1.0) <= (len(row) + 1) * EPS / 2


grid = st.integers(-50 * 2 ** 20, 50 * 2 ** 20).map(lambda i: i / 2 ** 20)


@given(st.lists(grid, min_size=1, max_size=8), st.integers(-10 ** 6, 10 ** 6))
def test_softmax_is_exactly_invariant_to_adding_a_constant(row, c):
    """softmax(z + c) == softmax(z) bit for bit when every z_k + c is exact.

    On multiples of 2^-20 below 2^21 in size, z_k + c and the differences
    (z_k + c) − (top + c) = z_k − top are exact, so every later step is the same.
    """
    assert softmax([v + c for v in row]) == softmax(row)


@given(st.lists(st.floats(-50, 50), min_size=1, max_size=8), st.floats(-1000, 1000))
def test_softmax_is_invariant_to_adding_a_constant_up_to_rounding_the_shift(row, c):
    """For any floats, softmax(z + c) equals softmax(z) within the rounding z + c costs.

    Rounding z_k + c and top + c moves each exponent z_k − top by ≤ ulp(|z_k| + |c|),
    which changes s_k by ≤ 2·that relative; each softmax is itself within
    (k + 2)·EPS relative (see the Decimal test); a factor 2 to spare.
    """
    shifted, plain = softmax([v + c for v in row]), softmax(row)
    move = max(math.ulp(abs(v) + abs(c)) for v in row)
    for a, b in zip(shifted, plain):
        assert abs(a - b) <= 2 * b * (2 * move + 2 * (len(row) + 2) * EPS)


@pytest.mark.parametrize("row, expected", [
    ([1000.0, 1000.0], [0.5, 0.5]),
    ([-1000.0, -1000.0], [0.5, 0.5]),  # unshifted, e^−1000 = 0 and 0/0 would follow
    ([800.0, -800.0], [1.0, 0.0]),  # e^−1600 is far below the smallest float
    ([1000.0, 0.0, -1000.0], [1.0, 0.0, 0.0]),
    ([1e308, -1e308], [1.0, 0.0]),
    ([MAX, MAX], [0.5, 0.5]),
    ([-MAX, MAX], [0.0, 1.0]),
])
def test_softmax_never_overflows(row, expected):
    """softmax of huge logits is the float nearest the true distribution: no overflow, no 0/0."""
    assert softmax(row) == expected


@given(st.lists(st.floats(-50, 50), min_size=1, max_size=6))
def test_softmax_agrees_with_a_60_digit_softmax(row):
    """Each s_k is within (span + k + 3)·EPS relative of e^z_k / Σ e^z_j in 60-digit decimals.

    z_k − top is rounded by ≤ ½ ulp ≤ span·EPS/2 (span = max − min), which
    e^· turns into that relative error; exp adds ≤ 1 ulp, the sum k − 1
    roundings and the division one. Twice the first two for the sum's share.
    """
    span = max(row) - min(row)
    for got, exact in zip(softmax(row), decimal_softmax(row)):
        bound = exact * Decimal((span + len(row) + 3) * EPS)
        assert abs(Decimal(got) - exact) <= bound


@given(st.lists(st.floats(0, 1), min_size=1, max_size=6))
def test_softmax_jacobian_is_the_textbook_formula(s):
    """softmax_jacobian(s)[k][j] is s_k·([k = j] − s_j) within two roundings (EPS relative).

    The reference is exact: the Decimal product of two floats needs ≤ 34 digits.
    """
    J = softmax_jacobian(s)
    assert len(J) == len(s) and all(len(row) == len(s) for row in J)
    with localcontext() as ctx:
        ctx.prec = 60
        for k, s_k in enumerate(s):
            for j, s_j in enumerate(s):
                exact = Decimal(s_k) * ((1 if k == j else 0) - Decimal(s_j))
                # + the smallest subnormal: a product below 2^-1022 loses bits to underflow
                tiny = Decimal(5e-324)  # noqa: RUF032 (the float's exact value is meant)
                assert abs(Decimal(J[k][j]) - exact) <= abs(exact) * Decimal(EPS) + tiny


@given(st.lists(st.floats(-5, 5), min_size=1, max_size=5))
def test_softmax_jacobian_matches_finite_differences_of_softmax(row):
    """J[k][j] = ∂s_k/∂z_j agrees with the central difference of softmax in z_j.

    Along z_j, s_j = σ(z_j + c) and s_k = a·(1 − σ(z_j + c)) with 0 ≤ a ≤ 1, so
    every third derivative is bounded by max|σ'''| ≤ ¼: truncation ≤ h²/6·¼.
    Rounding: each s_k is within (span + k + 3)·EPS ≤ (10 + k + 3)·EPS, twice
    over the step. With h = 1e-5 both are below ~4e-10; the bound is their sum.
    """
    h = 1e-5
    J = softmax_jacobian(softmax(row))
    for j in range(len(row)):
        up, down = list(row), list(row)
        up[j], down[j] = row[j] + h, row[j] - h
        step = up[j] - down[j]
        s_up, s_down = softmax(up), softmax(down)
        bound = 2 * (10 + len(row) + 3) * EPS / step + h * h / 24
        for k in range(len(row)):
            assert abs((s_up[k] - s_down[k]) / step - J[k][j]) <= bound, (k, j)


@given(st.lists(st.floats(-30, 30), min_size=1, max_size=6))
def test_softmax_jacobian_is_symmetric_with_rows_summing_to_zero(row):
    """J = diag(s) − s·sᵀ is symmetric exactly, and each row sums to 0 since Σ s = 1.

    Off the diagonal both are −(s_k·s_j), the same product; a row's exact sum
    is s_k·(1 − Σ_j s_j) plus ≤ 2 roundings per entry, within (2k + 2)·EPS·s_k.
    """
    s = softmax(row)
    J = softmax_jacobian(s)
    for k in range(len(s)):
        for j in range(len(s)):
            assert J[k][j] == J[j][k]
        assert abs(math.fsum(J[k])) <= (2 * len(s) + 2) * EPS * s[k] + 5e-324


# -- the ACTIVATIONS table ------------------------------------------------------------

THIRD_DERIVATIVE_BOUND = {"identity": 0.0, "relu": 0.0, "leaky_relu": 0.0,
                          "sigmoid": 0.125, "tanh": 2.0}


def test_activations_table_lists_the_element_wise_activations():
    """ACTIVATIONS holds the five element-wise activations by name; NAMES adds softmax."""
    assert set(ACTIVATIONS) == set(THIRD_DERIVATIVE_BOUND)
    for name, activation in ACTIVATIONS.items():
        assert activation.name == name
    assert set(NAMES) == set(ACTIVATIONS) | {"softmax"}
    assert ACTIVATIONS["sigmoid"].f is sigmoid and ACTIVATIONS["tanh"].f is tanh


@pytest.mark.parametrize("name", sorted(THIRD_DERIVATIVE_BOUND))
@given(z=st.floats(-20, 20).filter(lambda v: abs(v) >= 1e-3))
def test_every_activations_f_prime_is_the_derivative_of_its_f(name, z):
    """f_prime(z, f(z)) agrees with the central difference of f at z, away from the kink at 0.

    With h = 1e-5, truncation is ≤ h²/6·max|f'''| (2 for tanh, ⅛ for sigmoid,
    0 for the piecewise-linear ones, |z| ≥ 1e-3 keeping both points on one
    side); f's values ≤ 20 are each within 4 ulps ≤ 4·EPS·|f| (exact for relu
    and identity), so rounding adds ≤ 8·EPS·max|f| / step; f_prime itself is
    a few roundings of numbers ≤ 1 from an output within 4 ulps: ≤ 16·EPS.
    """
    activation = ACTIVATIONS[name]
    h = 1e-5
    fd, step = measured_difference(activation.f, z, h)
    largest = max(abs(activation.f(z + h)), abs(activation.f(z - h)))
    bound = h * h / 6 * THIRD_DERIVATIVE_BOUND[name] + 8 * EPS * largest / step + 16 * EPS
    assert abs(activation.f_prime(z, activation.f(z)) - fd) <= bound


# -- the written-out forms (purebp.fast builds its code from them) -------------

_WRITTEN_OUT_NAMES = {"exp": math.exp, "tanh": math.tanh}
#: Inputs where the branches and the rounding of the two forms could part ways.
_SPECIAL = [0.0, -0.0, 1e-300, -1e-300, 5e-324, 0.5, -0.5, 30.0, -30.0, 708.0, -708.0,
            -708.0000000000001, -707.9999999999999, -709.0, 800.0, -800.0, 1e308, -1e308]


def _bits(x):
    return struct.pack("<d", x)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@given(z=st.one_of(st.sampled_from(_SPECIAL), st.floats(allow_nan=False, allow_infinity=False)))
def test_written_out_form_computes_the_same_bits_as_the_function(name, z):
    """Each activation's written-out f and f′, evaluated as Python, give the functions' exact bits."""
    activation = ACTIVATIONS[name]
    a = activation.f(z)
    written_a = eval(activation.code.f.format(z="z"), dict(_WRITTEN_OUT_NAMES), {"z": z})
    written_prime = eval(activation.code.f_prime.format(z="z", a="a"), dict(_WRITTEN_OUT_NAMES),
                         {"z": z, "a": a})
    assert _bits(written_a) == _bits(a)
    assert _bits(written_prime) == _bits(activation.f_prime(z, a))


#: Rows where softmax's written-out form could part from softmax(): ties (the first maximum
#: is the one subtracted), ±0.0, logits ±1000 and 1e308 apart, infinities and NaN.
_SOFTMAX_ROWS = [[0.0, 0.0], [-0.0, 0.0], [0.0, -0.0, 0.0], [1.0, 3.0, 3.0, -2.0], [1000.0, -1000.0],
                 [-1000.0, -1000.0, -999.0], [1e308, -1e308], [5.0], [math.inf, 0.0],
                 [-math.inf, 1.0], [math.nan, 1.0], [1.0, math.nan], [-745.0, 0.0, 745.0]]


@given(row=st.one_of(st.sampled_from(_SOFTMAX_ROWS),
                     st.lists(st.one_of(st.sampled_from([0.0, -0.0, 1000.0, -1000.0, 2.5]),
                                        st.floats(-1e4, 1e4)), min_size=1, max_size=6)))
def test_softmax_written_out_computes_the_same_bits_as_softmax(row):
    """SOFTMAX_CODE's steps, evaluated as Python on a row, give softmax(row)'s exact bits."""
    k = len(row)
    scope = run_row_steps(SOFTMAX_CODE, {"exp": math.exp, "max": max,
                                         **{f"z_{j}": z for j, z in enumerate(row)}}, k)
    assert [_bits(scope[f"a_{j}"]) for j in range(k)] == [_bits(s) for s in softmax(row)]
