"""Tests for purebp.losses: each loss against its textbook formula, each gradient
against finite differences and its closed form, the reductions against PyTorch's.

Every reference is independent of the code under test: half_sse and mse written
out as index loops; bce and cross-entropy in their textbook forms on σ(z) and
softmax(z), evaluated in Decimal with enough digits that nothing saturates;
gradients by central finite differences and by the closed forms, also in
Decimal. Each tolerance is derived where it is used.
"""

import copy
import math
import random
import struct
from decimal import Decimal, localcontext

import pytest
from bitwise import run_row_steps
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import floats, matrices

from purebp.activations import NAMES, SOFTMAX_CODE, softmax_jacobian
from purebp.losses import (
    CROSS_ENTROPY_CODE,
    LOSSES,
    _log_softmax_parts,
    bce,
    bce_gradient,
    cross_entropy,
    cross_entropy_gradient,
    half_sse,
    half_sse_gradient,
    log_sum_exp,
    mse,
    mse_gradient,
    softplus,
)

EPS = 2.0 ** -52  # one ulp of 1.0; one rounding is off by at most EPS/2 relative
TINY = 2.0 ** -1074  # the smallest subnormal: no float can resolve anything below it
MAX = 1.7976931348623157e308


# -- independent references -------------------------------------------------


def digits_for(span):
    """Decimal digits that keep 60 significant digits of e^−span beside 1.

    With them 1 − σ(span) and log(1 + e^−span) are still exact to 60 digits,
    so the textbook forms can be evaluated even where floats saturate.
    """
    return 60 + int(span / math.log(10)) + 1


def decimal_bce(y, z):
    """−(1/nk) Σ [y·ln σ(z) + (1 − y)·ln(1 − σ(z))], σ(z) = 1/(1 + e^−z), in Decimal."""
    with localcontext() as ctx:
        ctx.prec = digits_for(max(abs(v) for row in z for v in row))
        total = Decimal(0)
        for t_row, z_row in zip(y, z):
            for t, z_nk in zip(t_row, z_row):
                t, p = Decimal(t), 1 / (1 + (-Decimal(z_nk)).exp())
                total -= t * p.ln() + (1 - t) * (1 - p).ln()
        return total / (len(y) * len(y[0]))


def decimal_softmax(row):
    """e^z_k / Σ_j e^z_j in the current decimal context."""
    exps = [Decimal(v).exp() for v in row]
    total = sum(exps)
    return [e / total for e in exps]


def decimal_cross_entropy(y, z):
    """−(1/n) Σ_n Σ_k y_nk·ln softmax(z_n)_k, the textbook form, in Decimal."""
    with localcontext() as ctx:
        ctx.prec = digits_for(max(max(row) - min(row) for row in z))
        total = Decimal(0)
        for t_row, z_row in zip(y, z):
            for t, s in zip(t_row, decimal_softmax(z_row)):
                total -= Decimal(t) * s.ln()
        return total / len(y)


def decimal_softplus(z):
    """ln(1 + e^z) in Decimal, with digits enough to keep e^z beside 1."""
    with localcontext() as ctx:
        ctx.prec = digits_for(abs(z))
        return (1 + Decimal(z).exp()).ln()


def assert_close(got, exact, rel=0.0, abs_=0.0, what=""):
    """Assert |got − exact| ≤ rel·|exact| + abs_ + TINY; on failure report both errors."""
    exact = Decimal(exact)
    err = abs(Decimal(got) - exact)
    bound = Decimal(rel) * abs(exact) + Decimal(abs_) + Decimal(TINY)
    rel_err = float(err / abs(exact)) if exact else math.inf
    assert err <= bound, (f"{what}: got {got!r}, exact {float(exact)!r}, "
                          f"abs err {float(err):.3g}, rel err {rel_err:.3g}, "
                          f"bound {float(bound):.3g}")


def nudged(m, n, k, value):
    """A copy of matrix m with entry [n][k] set to value."""
    other = copy.deepcopy(m)
    other[n][k] = value
    return other


def central_difference(f, m, n, k, h):
    """(f(m + h·e_nk) − f(m − h·e_nk)) / step, and the step actually taken.

    x ± h is rounded, so the step is measured as (x + h) − (x − h) after rounding,
    which is exact when |x| ≥ 3h (Sterbenz) and off by ½ ulp otherwise.
    """
    x = m[n][k]
    up, down = x + h, x - h
    step = up - down
    return (f(nudged(m, n, k, up)) - f(nudged(m, n, k, down))) / step, step


def entries(m):
    return [v for row in m for v in row]


# -- hypothesis strategies for problems of one random n × k shape --------------


@st.composite
def shaped(draw, *elements, max_rows=4, max_columns=4, min_columns=1):
    """One n × k matrix per element strategy, all of the same random shape."""
    n = draw(st.integers(1, max_rows))
    k = draw(st.integers(min_columns, max_columns))
    return tuple(draw(matrices(n, k, e)) for e in elements)


@st.composite
def probability_rows(draw, n, k):
    """n rows of k class probabilities, multiples of 1/32 summing to exactly 1."""
    rows = []
    for _ in range(n):
        cuts = sorted(draw(st.lists(st.integers(0, 32), min_size=k - 1, max_size=k - 1)))
        edges = [0] + cuts + [32]
        rows.append([(b - a) / 32 for a, b in zip(edges, edges[1:])])
    return rows


@st.composite
def classification(draw, z_bound=8.0, max_rows=4, max_columns=5):
    """(y, z): class-probability targets (rows summing to 1) and logits."""
    (z,) = draw(shaped(floats(z_bound), max_rows=max_rows, max_columns=max_columns))
    return draw(probability_rows(len(z), len(z[0]))), z


# A dyadic grid: multiples of 1/64 in [-1, 1]. Differences, squares and sums of
# a few hundred of them are exact in floats, so laws about half_sse and mse can
# be checked with == instead of a tolerance.
dyadic = st.integers(-64, 64).map(lambda i: i / 64)


# -- half_sse and mse ------------------------------------------------------


def loop_sse(y, y_hat):
    """Σ_n Σ_k (y_nk − ŷ_nk)², by index loops, left to right."""
    total = 0.0
    for n in range(len(y)):
        for k in range(len(y[0])):
            d = y[n][k] - y_hat[n][k]
            total += d * d
    return total


@given(shaped(floats(2), floats(2), max_rows=6))
def test_half_sse_and_mse_equal_their_formulas_written_as_loops(problem):
    """half_sse is ½·S and mse is S/nk, S the squared error summed by loops, bit for bit.

    Bit for bit because the README promises left-to-right sums and (y − ŷ)² is
    (ŷ − y)² exactly.
    """
    y, y_hat = problem
    assert half_sse(y, y_hat) == 0.5 * loop_sse(y, y_hat)
    assert mse(y, y_hat) == loop_sse(y, y_hat) / (len(y) * len(y[0]))


@given(shaped(floats(2), floats(2), max_rows=6))
def test_half_sse_and_mse_gradients_equal_their_closed_forms(problem):
    """half_sse_gradient is ŷ − y exactly; mse_gradient is 2(ŷ − y)/nk within 3 ulps.

    2(ŷ − y)/nk is rounded once (the doubling is exact); mse_gradient forms
    2/nk and multiplies, two roundings: three half-ulps of ½·EPS·|g| ≤ 3 ulps.
    """
    y, y_hat = problem
    count = len(y) * len(y[0])
    half, full = half_sse_gradient(y, y_hat), mse_gradient(y, y_hat)
    for n in range(len(y)):
        for k in range(len(y[0])):
            assert half[n][k] == y_hat[n][k] - y[n][k]
            expected = 2.0 * (y_hat[n][k] - y[n][k]) / count
            assert abs(full[n][k] - expected) <= 3 * math.ulp(expected)


@pytest.mark.parametrize("name", ["half_sse", "mse"])
@given(problem=shaped(floats(1), floats(1)))
def test_half_sse_and_mse_gradients_match_central_differences(name, problem):
    """∂L/∂ŷ_nk agrees with the central difference of L in ŷ_nk, within a derived bound.

    L is quadratic in ŷ_nk, so the central difference over the rounded points
    has no truncation error: it is L′ at their midpoint, within one ulp of x,
    which moves L′ by ≤ L″·ulp(x) ≤ 2·EPS. What remains is rounding: L is a sum
    of m non-negative squares, each with ≤ 3 roundings, so it is off by at most
    (m + 3)·EPS/2·S, S = Σ(ŷ − y)²·(its reduction factor); two values over the
    step give (m + 3)·EPS·S / step.
    """
    loss = LOSSES[name]
    y, y_hat = problem
    m = len(y) * len(y[0])
    factor = 0.5 if name == "half_sse" else 1.0 / m
    h = 1e-3
    # S bounds the loss at ŷ and at both nudged points.
    S = factor * sum((abs(p - t) + h) ** 2 for p, t in zip(entries(y_hat), entries(y)))
    grad = loss.gradient(y, y_hat)
    for n in range(len(y)):
        for k in range(len(y[0])):
            fd, step = central_difference(lambda p: loss.value(y, p), y_hat, n, k, h)
            bound = (m + 3) * EPS * S / step + 2 * EPS + 4 * EPS * abs(grad[n][k])
            assert abs(fd - grad[n][k]) <= bound, (name, n, k, fd, grad[n][k])


# -- bce --------------------------------------------------------------------

BCE_CASES = [  # (y, z), values where neither float saturation nor cancellation hides bits
    ([[0.0]], [[0.0]]),
    ([[1.0]], [[0.0]]),
    ([[0.3]], [[1e-3]]),
    ([[0.0]], [[30.0]]),
    ([[0.0]], [[-30.0]]),
    ([[1.0]], [[-30.0]]),
    ([[0.5]], [[30.0]]),
    ([[0.5]], [[-30.0]]),
    ([[0.0]], [[800.0]]),
    ([[1.0]], [[-800.0]]),
    ([[0.25]], [[800.0]]),
    ([[0.0]], [[-800.0]]),  # e^−800 underflows: the float answer is 0, and so is bce's
    ([[1.0]], [[800.0]]),
    ([[1.0, 0.0], [0.25, 1.0]], [[30.0, -30.0], [800.0, -800.0]]),
    ([[0.0, 1.0, 0.5], [0.9, 0.1, 0.0]], [[-2.0, 3.5, 0.25], [4.0, -1.5, 7.0]]),
]


@pytest.mark.parametrize("y, z", BCE_CASES)
def test_bce_equals_the_textbook_formula_in_decimal(y, z):
    """bce(y, z) is −mean[y·ln σ(z) + (1 − y)·ln(1 − σ(z))] to 1e-15 relative, saturated or not.

    Each entry costs a handful of roundings (exp, log1p, +, ×, −) of EPS/2
    each, the entries are non-negative, and there are at most 6 of them here,
    so (6 + 5)·EPS/2 ≈ 1.2e-15 bounds the mean; every case lands below 1e-15.
    """
    assert_close(bce(y, z), decimal_bce(y, z), rel=1e-15, what="bce")


@pytest.mark.parametrize("y, z", [
    ([[1.0]], [[20.0]]),
    ([[1.0]], [[30.0]]),
    ([[1.0]], [[40.0]]),
    ([[1.0, 1.0], [0.0, 1.0]], [[30.0, 25.0], [-30.0, 35.0]]),
])
def test_bce_keeps_relative_accuracy_for_confident_correct_predictions(y, z):
    """A tiny bce (y = 1, z ≫ 1) is still accurate to 1e-15 relative (torch's log_sigmoid is)."""
    assert_close(bce(y, z), decimal_bce(y, z), rel=1e-15, what="bce")


@given(shaped(st.floats(0, 1), floats(40)))
def test_bce_agrees_with_decimal_to_the_rounding_of_its_pieces(problem):
    """For any y ∈ [0, 1] and |z| ≤ 40, bce is within (m + 4)·EPS of the size of its pieces.

    Each entry softplus(z) − y·z is off by ≤ 4 roundings of numbers no larger
    than max(z, 0) + 1 + |y·z|; the non-negative entries add (m − 1) more and
    the mean one more; EPS instead of EPS/2 per rounding leaves a factor 2.
    (The relative accuracy of tiny losses has its own test above.)
    """
    y, z = problem
    m = len(y) * len(y[0])
    pieces = sum(max(v, 0.0) + 1.0 + abs(t * v) for t, v in zip(entries(y), entries(z)))
    assert_close(bce(y, z), decimal_bce(y, z), abs_=(m + 4) * EPS * pieces / m, what="bce")


def decimal_bce_gradient(y, z):
    """(σ(z) − y)/nk, the closed form, in Decimal."""
    m = len(y) * len(y[0])
    with localcontext() as ctx:
        ctx.prec = 60
        return [[(1 / (1 + (-Decimal(v)).exp()) - Decimal(t)) / m for t, v in zip(t_row, z_row)]
                for t_row, z_row in zip(y, z)]


@pytest.mark.parametrize("y, z", BCE_CASES)
def test_bce_gradient_is_sigmoid_minus_y_over_nk_even_when_saturated(y, z):
    """bce_gradient equals (σ(z) − y)/nk computed in Decimal, within 5·EPS/nk.

    σ(z) is within 4 ulps ≤ 4·EPS (σ ≤ 1, see test_activations); subtracting y
    and dividing by nk each add ½ ulp of a number ≤ 1/nk after division.
    """
    m = len(y) * len(y[0])
    got, exact = bce_gradient(y, z), decimal_bce_gradient(y, z)
    for g, e in zip(entries(got), entries(exact)):
        assert_close(g, e, abs_=5 * EPS / m, what="bce_gradient")


@given(shaped(st.floats(0, 1), floats(40)))
def test_bce_gradient_is_sigmoid_minus_y_over_nk(problem):
    """For y ∈ [0, 1], |z| ≤ 40, bce_gradient is (σ(z) − y)/nk within 5·EPS/nk (derived above)."""
    y, z = problem
    m = len(y) * len(y[0])
    for g, e in zip(entries(bce_gradient(y, z)), entries(decimal_bce_gradient(y, z))):
        assert_close(g, e, abs_=5 * EPS / m, what="bce_gradient")


@given(shaped(st.floats(0, 1), floats(8)))
def test_bce_gradient_matches_central_differences(problem):
    """∂bce/∂z_nk agrees with the float central difference of bce, within a derived bound.

    Truncation: h²/6·|∂³bce/∂z³| = h²/6·|σ″(z)|/m ≤ h²/6·0.0963/m. Rounding:
    bce is off by ≤ (m + 4)·EPS/2 times Σ(max(z, 0) + 1 + |y·z|)/m (see the
    test above), twice over the step. With h = 1e-4 and |z| ≤ 8 that is ~5e-10
    at most; the bound is computed for each example, with a factor 2 to spare.
    """
    y, z = problem
    m = len(y) * len(y[0])
    grad = bce_gradient(y, z)
    h = 1e-4
    pieces = sum(max(v, 0.0) + 1.0 + abs(t * v) for t, v in zip(entries(y), entries(z)))
    for n in range(len(z)):
        for k in range(len(z[0])):
            fd, step = central_difference(lambda zz: bce(y, zz), z, n, k, h)
            bound = 2 * ((m + 4) * EPS * pieces / m / step + h * h / 6 * 0.0963 / m)
            assert abs(fd - grad[n][k]) <= bound, (n, k, fd, grad[n][k])


@pytest.mark.parametrize("z", [30.0, -30.0, 800.0, -800.0, 1e308, -1e308, MAX, -MAX])
@pytest.mark.parametrize("t", [0.0, 0.5, 1.0])
def test_bce_value_and_gradient_stay_finite_when_saturated(t, z):
    """For saturated logits bce is finite and ≥ 0, and its gradient finite and within [−1, 1]."""
    value, (grad,) = bce([[t]], [[z]]), bce_gradient([[t]], [[z]])
    assert math.isfinite(value) and value >= 0.0
    assert math.isfinite(grad[0]) and -1.0 <= grad[0] <= 1.0


# -- cross_entropy -------------------------------------------------------------

CE_CASES = [  # (y, z)
    ([[0.0, 1.0]], [[0.0, 0.0]]),
    ([[1.0, 0.0, 0.0]], [[1000.0, 0.0, -1000.0]]),  # ≈ e^−1000: the float answer is 0
    ([[0.0, 1.0, 0.0]], [[1000.0, 0.0, -1000.0]]),
    ([[0.0, 0.0, 1.0]], [[1000.0, 0.0, -1000.0]]),
    ([[0.25, 0.25, 0.5]], [[1000.0, 0.0, -1000.0]]),
    ([[0.0, 1.0]], [[800.0, -800.0]]),
    ([[1.0, 0.0]], [[800.0, -800.0]]),
    ([[0.0, 1.0]], [[30.0, 0.0]]),
    ([[0.5, 0.5]], [[30.0, 0.0]]),
    ([[0.5, 0.5]], [[1000.0, 0.0]]),
    ([[0.1, 0.2, 0.7], [1.0, 0.0, 0.0]], [[-1.0, 2.0, 0.5], [3.0, -30.0, 30.0]]),
]


@pytest.mark.parametrize("y, z", CE_CASES)
def test_cross_entropy_equals_the_textbook_formula_in_decimal(y, z):
    """cross_entropy is −(1/n) Σ y_k·ln softmax(z)_k to 1e-15 relative, large logits included.

    Per row: k exponentials and the sum (≤ 1 ulp each, relative to a total
    ≥ 1), a log, an addition, and k products and subtractions; the terms are
    non-negative, so with k ≤ 3 and n ≤ 2 the mean is within ~9·EPS/2 ≈ 1e-15.
    """
    assert_close(cross_entropy(y, z), decimal_cross_entropy(y, z), rel=1e-15, what="cross_entropy")


@pytest.mark.parametrize("y, z", [
    ([[0.5, 0.5]], [[1000.0, 1000.0]]),
    ([[0.0, 1.0]], [[-1000.0, -1000.0]]),
    ([[1.0, 0.0]], [[30.0, 0.0]]),
    ([[0.0, 1.0, 0.0]], [[0.0, 25.0, -5.0]]),
    ([[1.0, 0.0], [0.0, 1.0]], [[30.0, 0.0], [-20.0, 10.0]]),
])
def test_cross_entropy_keeps_relative_accuracy_for_large_or_dominant_logits(y, z):
    """cross_entropy is within 1e-15 relative for large equal logits and a far-ahead target."""
    assert_close(cross_entropy(y, z), decimal_cross_entropy(y, z), rel=1e-15, what="cross_entropy")


@given(classification(z_bound=40.0))
def test_cross_entropy_agrees_with_decimal_to_the_rounding_of_its_pieces(problem):
    """For probability targets and |z| ≤ 40, cross_entropy is within (k + n + 6)·EPS of its pieces.

    Per row lse is off by ≤ (4k + 2 + |lse|)·EPS/2 (exponents rounded to ½ ulp
    of |z_j − top| cost ≤ e^−d·d·EPS/2 < EPS/2 each, exp ≤ 1 ulp, the sum k − 1
    roundings, log and + one each); each term y_k·(lse − z_k) adds two
    roundings; rows and samples sum non-negative terms. So the error is below
    (k + n + 6)·EPS times Σ_n Σ_k y_k·(|lse| + |z_k| + 4k + 2) / n.
    """
    y, z = problem
    n, k = len(z), len(z[0])
    pieces = sum(t * (max(abs(v) for v in z_row) + math.log(k) + abs(v) + 4 * k + 2)
                 for t_row, z_row in zip(y, z) for t, v in zip(t_row, z_row))
    assert_close(cross_entropy(y, z), decimal_cross_entropy(y, z),
                 abs_=(k + n + 6) * EPS * pieces / n, what="cross_entropy")


def decimal_softmax_minus_y(y, z, mass=False):
    """(softmax(z_n) − y_n)/n, or with mass=True ((Σ_k y_nk)·softmax(z_n) − y_n)/n, in Decimal."""
    with localcontext() as ctx:
        ctx.prec = digits_for(max(max(row) - min(row) for row in z))
        out = []
        for t_row, z_row in zip(y, z):
            weight = sum(Decimal(t) for t in t_row) if mass else 1
            out.append([(weight * s - Decimal(t)) / len(y)
                        for t, s in zip(t_row, decimal_softmax(z_row))])
        return out


def ce_gradient_bound(y, z):
    """(2k + 8)·EPS·(1 + max_n Σ_k y_nk)/n: softmax's ≤ (k + 3) roundings, the mass's k, −, /."""
    k = len(z[0])
    return (2 * k + 8) * EPS * (1 + max(sum(row) for row in y)) / len(y)


@pytest.mark.parametrize("y, z", CE_CASES)
def test_cross_entropy_gradient_is_softmax_minus_y_over_n_even_for_large_logits(y, z):
    """cross_entropy_gradient equals (softmax(z) − y)/n computed in Decimal, within a few EPS/n."""
    got, exact = cross_entropy_gradient(y, z), decimal_softmax_minus_y(y, z)
    for g, e in zip(entries(got), entries(exact)):
        assert math.isfinite(g)
        assert_close(g, e, abs_=ce_gradient_bound(y, z), what="cross_entropy_gradient")


@given(classification(z_bound=40.0))
def test_cross_entropy_gradient_is_softmax_minus_y_over_n(problem):
    """For targets summing to exactly 1, the gradient is (softmax(z) − y)/n within a few EPS/n."""
    y, z = problem
    for g, e in zip(entries(cross_entropy_gradient(y, z)), entries(decimal_softmax_minus_y(y, z))):
        assert_close(g, e, abs_=ce_gradient_bound(y, z), what="cross_entropy_gradient")


@given(shaped(st.floats(0, 1), floats(8), max_columns=5))
def test_cross_entropy_gradient_matches_central_differences_for_any_targets(problem):
    """For any targets y ≥ 0 (rows need not sum to 1), the gradient matches central differences.

    Along z_nk the loss is (mass·lse(z_n) − y_n·z_n)/n, whose third derivative
    is mass·σ″/n with |σ″| ≤ 0.0963, so truncation is ≤ h²/6·0.0963·mass/n.
    Rounding: cross_entropy is off by ≤ (k + n + 6)·EPS/2·P (P as in the test
    against Decimal, with |lse| ≤ 8 + ln k), twice over the step. With
    h = 1e-4 both are ≲ 1e-9; the bound is computed per example, doubled.
    Subnormal targets make subnormal losses, whose roundings are absolute:
    each of the ≤ 4·n·k + 4 operations adds up to one TINY, over the step.
    The closed form ((Σ_k y_nk)·softmax(z_n) − y_n)/n is checked in Decimal too.
    """
    y, z = problem
    n, k = len(z), len(z[0])
    grad = cross_entropy_gradient(y, z)
    mass = max(sum(row) for row in y)
    pieces = sum(t * (8 + math.log(k) + abs(v) + 4 * k + 2)
                 for t_row, z_row in zip(y, z) for t, v in zip(t_row, z_row))
    h = 1e-4
    for r in range(n):
        for c in range(k):
            fd, step = central_difference(lambda zz: cross_entropy(y, zz), z, r, c, h)
            bound = 2 * ((k + n + 6) * EPS * pieces / n / step + h * h / 6 * 0.0963 * mass / n
                         + (4 * n * k + 4) * TINY / step)
            assert abs(fd - grad[r][c]) <= bound, (r, c, fd, grad[r][c])
    for g, e in zip(entries(grad), entries(decimal_softmax_minus_y(y, z, mass=True))):
        assert_close(g, e, abs_=ce_gradient_bound(y, z), what="cross_entropy_gradient")


@given(classification(z_bound=5.0))
def test_cross_entropy_gradient_is_the_softmax_jacobian_chain_rule(problem):
    """∂L/∂z is Jᵀ·∂L/∂s, ∂L/∂s_k = −y_k/(n·s_k), J = softmax_jacobian(s), within a few EPS/n.

    Jᵀ·∂L/∂s = −Σ_k y_k(δ_kj − s_j)/n: k terms, each ≤ 4 roundings of a number
    ≤ y_k/n, summed with k − 1 more, so ≤ (k + 4)·EPS·Σ_k y_k/n beyond the
    gradient's own error (s_k ≥ e^−10/k never underflows for |z| ≤ 5).
    """
    y, z = problem
    n = len(z)
    for t_row, z_row, g_row in zip(y, z, cross_entropy_gradient(y, z)):
        exps = [math.exp(v) for v in z_row]
        s = [e / sum(exps) for e in exps]
        J = softmax_jacobian(s)
        for j in range(len(s)):
            chain = sum(J[k][j] * (-t_row[k] / (n * s[k])) for k in range(len(s)))
            bound = ce_gradient_bound(y, z) + (len(s) + 4) * EPS * sum(t_row) / n
            assert abs(chain - g_row[j]) <= bound, (j, chain, g_row[j])


@pytest.mark.parametrize("y, z", CE_CASES + [([[0.5, 0.5]], [[MAX, MAX]]),
                                             ([[0.5, 0.5]], [[1000.0, 1000.0]]),
                                             ([[0.3, 0.7]], [[-MAX, -MAX]])])
def test_cross_entropy_value_and_gradient_stay_finite_for_large_logits(y, z):
    """cross_entropy and its gradient are finite for large logits whose loss is finite."""
    assert math.isfinite(cross_entropy(y, z))
    assert all(math.isfinite(g) for g in entries(cross_entropy_gradient(y, z)))


def test_cross_entropy_gradient_is_exact_for_logits_2e308_apart():
    """With logits 2e308 apart the gradient is still (softmax(z) − y)/n = [0, 0] or [∓1, ±1]."""
    assert cross_entropy_gradient([[1.0, 0.0]], [[1e308, -1e308]]) == [[0.0, 0.0]]
    assert cross_entropy_gradient([[0.0, 1.0]], [[1e308, -1e308]]) == [[1.0, -1.0]]


def test_cross_entropy_of_a_zero_target_with_an_unrepresentable_gap_is_zero():
    """A class with target 0 adds nothing, even when lse − z_k overflows (logits 2e308 apart)."""
    assert cross_entropy([[1.0, 0.0]], [[1e308, -1e308]]) == 0.0


# -- softplus and log_sum_exp ------------------------------------------------


@pytest.mark.parametrize("z", [0.0, -0.0, 1e-3, -1e-3, 30.0, -30.0, 700.0, -700.0, 710.0,
                               -710.0, 745.0, -745.0, 800.0, -800.0, 1000.0, -1000.0,
                               5e-324, -5e-324])
def test_softplus_agrees_with_decimal_where_floats_saturate(z):
    """softplus(z) is ln(1 + e^z) to 4 ulps at saturating and subnormal-producing z.

    exp and log1p are each within 1 ulp in libm and one addition adds ½ ulp;
    4 ulps is the budget test_activations uses for sigmoid.
    """
    got = softplus(z)
    exact = decimal_softplus(z)
    assert math.isfinite(got)
    assert abs(Decimal(got) - exact) <= 4 * Decimal(math.ulp(float(exact)))


@given(floats(1000))
def test_softplus_is_within_4_ulps_of_decimal(z):
    """For |z| ≤ 1000 softplus(z) is within 4 ulps of ln(1 + e^z) in Decimal."""
    exact = decimal_softplus(z)
    assert abs(Decimal(softplus(z)) - exact) <= 4 * Decimal(math.ulp(float(exact)))


@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: abs(v) > 1000))
def test_softplus_beyond_1000_is_max_of_z_and_0(z):
    """For |z| > 1000, softplus(z) is max(z, 0), no overflow: e^−|z| < 1e-434 is below any ulp."""
    assert softplus(z) == max(z, 0.0)


LSE_KNOWN = [  # (row, the float nearest log Σ e^z, reasoned by hand)
    ([1000.0, 1000.0], 1000.0 + math.log(2.0)),  # one rounding: 1000 + ln 2
    ([-1000.0, -1000.0], -1000.0 + math.log(2.0)),
    ([800.0, -800.0], 800.0),  # + e^−1600
    ([1e308, 1e308], 1e308),  # + ln 2, far below ulp(1e308)
    ([-1e308, -1e308], -1e308),
    ([1e308, -1e308], 1e308),
    ([-1e308, 1e308], 1e308),
    ([MAX, MAX, MAX], MAX),  # + ln 3: would overflow without factoring out the max
    ([-MAX, MAX], MAX),  # the exponent −MAX − MAX is −inf, whose exp is 0
    ([-MAX], -MAX),
]


@pytest.mark.parametrize("row, expected", LSE_KNOWN)
def test_log_sum_exp_never_overflows_where_the_answer_is_finite(row, expected):
    """log_sum_exp of huge or tiny logits is the finite float nearest the true value."""
    assert log_sum_exp(row) == expected


@given(st.lists(floats(1000), min_size=1, max_size=6))
def test_log_sum_exp_agrees_with_decimal(row):
    """log_sum_exp is within 2 ulps of its result plus (k + 4)·EPS of ln Σ e^z in 60-digit Decimal.

    Factoring out the max leaves a sum in [1, k]; the rounded exponents cost
    ≤ e^−d·d·EPS/2 < EPS/2 each, exp ≤ 1 ulp each, the sum k − 1 roundings,
    the log one, and adding back the max ½ ulp of the result. The bound is
    absolute near 0; cross_entropy's relative accuracy has its own test.
    """
    with localcontext() as ctx:
        ctx.prec = 60
        exact = sum(Decimal(v).exp() for v in row).ln()
    got = log_sum_exp(row)
    assert_close(got, exact, abs_=2 * math.ulp(got) + (len(row) + 4) * EPS, what="log_sum_exp")


# -- reductions: PyTorch's defaults ---------------------------------------------


def twice_the_columns(m):
    return [[v for v in row for _ in range(2)] for row in m]


@given(shaped(dyadic, dyadic, max_rows=5))
def test_half_sse_sums_and_mse_averages_over_all_entries(problem):
    """Duplicating the batch, or every column, doubles half_sse and leaves mse unchanged.

    On the dyadic grid every step is exact, so the laws hold with ==; they
    tell apart a sum, a mean over n and a mean over n·k.
    """
    y, y_hat = problem
    assert half_sse(y + y, y_hat + y_hat) == 2 * half_sse(y, y_hat)
    assert half_sse(twice_the_columns(y), twice_the_columns(y_hat)) == 2 * half_sse(y, y_hat)
    assert mse(y + y, y_hat + y_hat) == mse(y, y_hat)
    assert mse(twice_the_columns(y), twice_the_columns(y_hat)) == mse(y, y_hat)
    g, g2 = mse_gradient(y, y_hat), mse_gradient(y + y, y_hat + y_hat)
    assert entries(g2) == [v / 2 for v in entries(g) * 2]
    assert half_sse_gradient(y + y, y_hat + y_hat) == half_sse_gradient(y, y_hat) * 2


@given(shaped(st.floats(0, 1), floats(8), max_rows=5))
def test_bce_averages_over_all_entries(problem):
    """Duplicating every column or the whole batch leaves bce unchanged and halves its gradient.

    Both are means of the same non-negative entries summed in another order,
    so they agree within (2m + 2)·EPS relative (m entries, each summation
    ≤ 2m roundings of partial sums ≤ the total); the gradient halves exactly.
    """
    y, z = problem
    m = len(y) * len(y[0])
    value = bce(y, z)
    tol = (2 * m + 2) * EPS * value + TINY
    assert abs(bce(twice_the_columns(y), twice_the_columns(z)) - value) <= tol
    assert abs(bce(y + y, z + z) - value) <= tol
    g = entries(bce_gradient(y, z))
    assert entries(bce_gradient(y + y, z + z)) == [v / 2 for v in g * 2]


@given(classification())
def test_cross_entropy_averages_over_rows_only(problem):
    """Adding a never-chosen class leaves cross_entropy unchanged; duplicating the batch too.

    A class with logit min(z) − 1000 adds e^−1000 = 0.0 to every row's sum and
    0·(lse − z) = 0.0 to every row's loss, so the value is the same bit for
    bit; a mean over n·k entries would shrink by k/(k + 1). Duplicating rows
    sums the same non-negative row losses in another order: within (2n + 2)·EPS.
    """
    y, z = problem
    value = cross_entropy(y, z)
    low = min(entries(z)) - 1000.0
    assert cross_entropy([row + [0.0] for row in y], [row + [low] for row in z]) == value
    assert abs(cross_entropy(y + y, z + z) - value) <= (2 * len(y) + 2) * EPS * value + TINY
    g = entries(cross_entropy_gradient(y, z))
    assert entries(cross_entropy_gradient(y + y, z + z)) == [v / 2 for v in g * 2]


@pytest.mark.parametrize("name", sorted(LOSSES))
@given(data=st.data())
def test_the_reduction_field_says_how_batch_losses_combine(name, data):
    """Split a batch in two: "sum" adds the halves' losses, "mean" weights them by sample share.

    All four losses sum non-negative terms, so two summation orders of m
    entries agree within (2m + 4)·EPS relative.
    """
    loss = LOSSES[name]
    if loss.of == "logits" and loss.output_activation == "softmax":
        y, out = data.draw(classification(max_rows=6))
    else:
        y, out = data.draw(shaped(st.floats(0, 1), floats(4), max_rows=6))
    assume(len(y) >= 2)
    cut = data.draw(st.integers(1, len(y) - 1))
    whole = loss.value(y, out)
    first, second = loss.value(y[:cut], out[:cut]), loss.value(y[cut:], out[cut:])
    if loss.reduction == "sum":
        combined = first + second
    else:
        combined = (cut * first + (len(y) - cut) * second) / len(y)
    m = len(y) * len(y[0])
    assert abs(combined - whole) <= (2 * m + 4) * EPS * whole + TINY


# -- against PyTorch, when it is installed --------------------------------------


def torch_problem(name, seed):
    """(y, inputs): a reproducible problem for the loss called name."""
    rng = random.Random(seed)
    n, k = rng.randint(1, 5), rng.randint(2, 4)
    z = [[rng.uniform(-6, 6) for _ in range(k)] for _ in range(n)]
    if name == "cross_entropy":
        y = []
        for _ in range(n):
            cuts = sorted(rng.randint(0, 32) for _ in range(k - 1))
            edges = [0] + cuts + [32]
            y.append([(b - a) / 32 for a, b in zip(edges, edges[1:])])
    else:
        y = [[rng.random() for _ in range(k)] for _ in range(n)]
    return y, z


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name, module", [("mse", "MSELoss"), ("bce", "BCEWithLogitsLoss"),
                                          ("cross_entropy", "CrossEntropyLoss")])
def test_values_and_gradients_match_pytorch_in_float64(name, module, seed):
    """Value and gradient equal torch.nn's loss (default reduction, float64) to 1e-12 relative.

    1e-12 leaves room for torch's different (vectorised) summation order and
    stable forms, which differ from ours by a few dozen EPS at |z| ≤ 6.
    The gradient's error is taken relative to its largest entry.
    """
    torch = pytest.importorskip("torch", minversion="1.10")  # probability targets need 1.10
    y, inputs = torch_problem(name, seed)
    x = torch.tensor(inputs, dtype=torch.float64, requires_grad=True)
    expected = getattr(torch.nn, module)()(x, torch.tensor(y, dtype=torch.float64))
    expected.backward()
    loss = LOSSES[name]
    assert loss.value(y, inputs) == pytest.approx(expected.item(), rel=1e-12)
    theirs = entries(x.grad.tolist())
    ours = entries(loss.gradient(y, inputs))
    scale = max(abs(v) for v in theirs)
    assert all(abs(a - b) <= 1e-12 * scale for a, b in zip(ours, theirs))


# -- the LOSSES table ------------------------------------------------------------


@pytest.mark.parametrize("name, functions, of, activation, reduction", [
    ("half_sse", (half_sse, half_sse_gradient), "output", None, "sum"),
    ("mse", (mse, mse_gradient), "output", None, "mean"),
    ("bce", (bce, bce_gradient), "logits", "sigmoid", "mean"),
    ("cross_entropy", (cross_entropy, cross_entropy_gradient), "logits", "softmax", "mean"),
])
def test_losses_table_matches_the_module_docstring(name, functions, of, activation, reduction):
    """Each LOSSES entry names its functions, input kind, output activation and reduction."""
    loss = LOSSES[name]
    assert (loss.name, (loss.value, loss.gradient)) == (name, functions)
    assert (loss.of, loss.output_activation, loss.reduction) == (of, activation, reduction)
    assert activation is None or activation in NAMES  # one the network can look up


def test_losses_table_holds_exactly_the_four_losses():
    """LOSSES has the four documented losses and nothing else."""
    assert set(LOSSES) == {"half_sse", "mse", "bce", "cross_entropy"}


def test_bce_keeps_relative_accuracy_for_soft_targets_near_one():
    """bce of t = 1 − 1e-12 at z = 30 is (1 − t)·z + log1p(e^−30), to 1e-12 relative.

    (1 − t) is exact for t near 1 and the rest is a sum of two positive terms,
    so the only error is a few roundings; max(z, 0) − t·z would cancel and
    lose six digits.
    """
    from fractions import Fraction

    t, z = 1.0 - 1e-12, 30.0
    exact = float((1 - Fraction(t)) * Fraction(z)) + math.log1p(math.exp(-z))
    assert abs(bce([[t]], [[z]]) - exact) <= 1e-12 * exact


# -- the written-out forms (purebp.fast builds its code from them) -------------


def _bits(matrix):
    return [[struct.pack("<d", v) for v in row] for row in matrix]


@pytest.mark.parametrize(("loss_name", "output"), [
    ("half_sse", "sigmoid"), ("half_sse", "tanh"), ("half_sse", "relu"), ("mse", "identity"),
    ("mse", "leaky_relu"), ("mse", "sigmoid"), ("bce", "sigmoid")])
@given(data=st.data())
def test_written_out_form_gives_the_losses_value_and_output_delta_bit_for_bit(loss_name, output, data):
    """Entry by entry, the written-out loss adds up to the loss's value, and its delta is the network's."""
    from purebp.activations import ACTIVATIONS
    n, k = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 3))
    z = data.draw(st.lists(st.lists(st.floats(-40, 40), min_size=k, max_size=k), min_size=n, max_size=n))
    activation = ACTIVATIONS[output]
    a = [[activation.f(v) for v in row] for row in z]
    if loss_name == "bce":
        y = data.draw(st.lists(st.lists(st.sampled_from([0.0, 1.0, 0.25]), min_size=k, max_size=k),
                               min_size=n, max_size=n))
    else:
        y = data.draw(st.lists(st.lists(st.floats(-2, 2), min_size=k, max_size=k),
                               min_size=n, max_size=n))
    loss, code = LOSSES[loss_name], LOSSES[loss_name].code
    names = {"exp": math.exp, "tanh": math.tanh, "log1p": math.log1p, "abs": abs}
    scope = {"count": n * k}
    if code.setup:
        exec(code.setup, names, scope)
    total, deltas = 0.0, []
    for y_row, z_row, a_row in zip(y, z, a):
        deltas.append([])
        for t, z_nk, a_nk in zip(y_row, z_row, a_row):
            fill = {"a": "a", "y": "y", "z": "z", "e": "e",
                    "f_prime": activation.code.f_prime.format(z="z", a="a")}
            local = dict(scope, a=a_nk, y=t, z=z_nk, e=a_nk - t)
            total = total + eval(code.entry.format(**fill), names, local)
            deltas[-1].append(eval(code.delta.format(**fill), names, local))
    value = eval(code.value, names, dict(scope, total=total))
    expected = loss.value(y, z if loss.of == "logits" else a)
    assert struct.pack("<d", value) == struct.pack("<d", expected)
    if loss.of == "logits":
        reference = loss.gradient(y, z)
    else:
        g = loss.gradient(y, a)
        reference = [[g_nk * activation.f_prime(z_nk, a_nk) for g_nk, z_nk, a_nk in zip(*rows)]
                     for rows in zip(g, z, a)]
    assert _bits(deltas) == _bits(reference)


#: Logit rows for cross_entropy's written-out form: ties (several equal maxima, the first is m),
#: ±0.0, one class, ±1000 (e^1000 overflows, the parts do not), logits 1e308 apart (top − z = inf).
_CE_ROWS = [[0.0, 0.0], [0.0, 0.0, 0.0], [-0.0, 0.0], [2.0, 7.0, 7.0, 1.0], [7.0, 2.0, 7.0],
            [1000.0, -1000.0], [-1000.0, 1000.0, 1000.0], [1000.0, 999.0, -1000.0], [5.0],
            [1e308, -1e308], [30.0, 0.0, -30.0], [-800.0, -800.0, -800.0, -800.0, -799.0]]
#: Targets: one-hot, soft, with zeros of both signs, unnormalised (mass ≠ 1), all zero.
_CE_TARGETS = st.sampled_from([0.0, -0.0, 1.0, 0.5, 0.25, 0.1, 1.0000005, 2.0, 0.3])


def _check_written_out_cross_entropy(y, z):
    """Evaluate softmax's and cross_entropy's written-out forms on y and z; compare every piece."""
    k, code = len(z[0]), CROSS_ENTROPY_CODE
    names = {"exp": math.exp, "log1p": math.log1p, "max": max}
    scope = {"rows": [None] * len(y)}
    exec(code.setup, names, scope)
    total, deltas = 0.0, []
    for y_row, z_row in zip(y, z):
        row = dict(names, **scope, **{f"z_{j}": v for j, v in enumerate(z_row)},
                   **{f"y_{j}": t for j, t in enumerate(y_row)})
        run_row_steps(SOFTMAX_CODE + code.row, row, k)
        assert (_bits([[row["top"], row["log_rest"]]])
                == _bits([list(_log_softmax_parts(z_row))]))
        row_loss = 0.0
        for j in range(k):
            row_loss = row_loss + eval(code.entry.format(y=f"y_{j}", z=f"z_{j}", k=j), row)
        total = total + row_loss
        deltas.append([eval(code.delta.format(a=f"a_{j}", y=f"y_{j}", z=f"z_{j}", k=j), row)
                       for j in range(k)])
    value = eval(code.value, names, dict(scope, total=total))
    assert _bits([[value]]) == _bits([[cross_entropy(y, z)]])
    assert _bits(deltas) == _bits(cross_entropy_gradient(y, z))


@given(data=st.data())
def test_written_out_cross_entropy_gives_its_parts_value_and_delta_bit_for_bit(data):
    """Row by row after softmax's steps, cross_entropy's written-out form gives
    _log_softmax_parts' (top, log_rest), cross_entropy's value and cross_entropy_gradient's
    δ, all to the bit, for ties, ±1000, 1e308 gaps, zero and unnormalised targets."""
    n, k = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 5))
    logits = st.one_of(st.sampled_from([0.0, -0.0, 1000.0, -1000.0, 3.0]), st.floats(-1e3, 1e3))
    z = [data.draw(st.one_of(st.sampled_from([r for r in _CE_ROWS if len(r) == k] or [[0.0] * k]),
                             st.lists(logits, min_size=k, max_size=k))) for _ in range(n)]
    y = data.draw(matrices(n, k, st.one_of(_CE_TARGETS, st.floats(0, 3))))
    _check_written_out_cross_entropy(y, z)


@pytest.mark.parametrize(("y", "z"), [
    ([[1.0, 0.0]], [[1e308, -1e308]]),  # a zero target with an infinite gap adds nothing, not 0·inf
    ([[0.0, 1.0, 0.0]], [[3.0, 3.0, 3.0]]),  # three-way tie: m is the first
    ([[0.5, 0.5], [1.0, 0.0]], [[1000.0, -1000.0], [-1000.0, 1000.0]]),
    ([[0.2, 0.3000004, 0.5]], [[0.0, -0.0, 0.0]]),  # mass 1.0000004, signed zeros
    ([[0.0, 0.0]], [[1.0, 2.0]]),  # no mass at all: loss 0, δ = −y / n = −0.0
    ([[1.0]], [[7.0]]),  # one class
])
def test_written_out_cross_entropy_on_edge_cases(y, z):
    """The cases a random draw may miss, each held to the reference bit for bit."""
    _check_written_out_cross_entropy(y, z)
