"""Tests for purebp.fast.rows: its products are the reference's matmul, bit for bit.

Training with it is held to the readable loop's bits in tests/test_fast_loop.py;
here the law is the one it rests on: ``products(A, Bᵀ)`` is
``purebp.matrix.matmul(A, B)`` entry for entry, on every interpreter, by
``sum`` where it adds left to right and by the loop everywhere.
"""

import sys

import pytest
from bitwise import bits
from hypothesis import given
from hypothesis import strategies as st

from purebp.activations import ACTIVATIONS
from purebp.fast import rows
from purebp.matrix import add_row, apply, column_sums, matmul, multiply, transpose

#: Floats that test the order and the start of each sum: zeros of both signs,
#: magnitudes whose sums round differently in another order, inf and nan.
_AWKWARD = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 1e16, -1e16, 1e308, -1e308, 3e-324]),
    st.floats(-1e6, 1e6), st.floats(allow_nan=True, allow_infinity=True))


@st.composite
def factors(draw):
    """(A, B): an (r, k) and a (k, c) matrix of awkward floats."""
    r, k, c = draw(st.integers(1, 4)), draw(st.integers(1, 12)), draw(st.integers(1, 4))
    A = draw(st.lists(st.lists(_AWKWARD, min_size=k, max_size=k), min_size=r, max_size=r))
    B = draw(st.lists(st.lists(_AWKWARD, min_size=c, max_size=c), min_size=k, max_size=k))
    return A, B


IMPLEMENTATIONS = [rows._products_by_loop] + (
    [rows._products_by_sum] if rows.SUM_ADDS_LEFT_TO_RIGHT else [])


@pytest.mark.parametrize("products", IMPLEMENTATIONS, ids=lambda f: f.__name__)
@given(factors())
def test_products_are_the_reference_matmul_bit_for_bit(products, case):
    A, B = case
    expected = matmul(A, B)
    got = products(A, rows.transposed(B))
    # a NaN's sign and payload are not part of the result: compare NaN as NaN
    view = [[bits(v) if v == v else "nan" for v in row] for row in expected]
    assert [[bits(v) if v == v else "nan" for v in row] for row in got] == view


def test_the_products_used_are_the_sum_ones_exactly_where_sum_adds_left_to_right():
    assert (rows.products is rows._products_by_sum) == rows.SUM_ADDS_LEFT_TO_RIGHT


def test_sum_is_detected_as_compensated_exactly_from_cpython_3_12_on():
    """The detection by behaviour agrees with what each interpreter documents."""
    compensated = sys.implementation.name == "cpython" and sys.version_info >= (3, 12)
    assert rows.SUM_ADDS_LEFT_TO_RIGHT is not compensated


def test_a_dot_product_of_negative_zeros_is_positive_zero_as_matmul_gives():
    """matmul's sums start from the int 0, and 0 + (−0.0) is 0.0: so must the products'."""
    A, B = [[-0.0, -0.0]], [[1.0], [1.0]]
    assert bits(matmul(A, B)) == [[bits(0.0)]]
    for products in IMPLEMENTATIONS:
        assert bits(products(A, transpose(B))) == [[bits(0.0)]]


def test_transposed_swaps_rows_and_columns():
    assert rows.transposed([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]) == [(1.0, 4.0), (2.0, 5.0),
                                                                  (3.0, 6.0)]


AFFINE = [rows._affine_by_loop] + ([rows._affine_by_sum] if rows.SUM_ADDS_LEFT_TO_RIGHT else [])
TOTALS = [rows._column_totals_by_loop] + (
    [rows._column_totals_by_sum] if rows.SUM_ADDS_LEFT_TO_RIGHT else [])


def nan_aware(matrix):
    return [[bits(v) if v == v else "nan" for v in row] for row in matrix]


@pytest.mark.parametrize("affine", AFFINE, ids=lambda f: f.__name__)
@given(factors(), st.data())
def test_affine_is_add_row_of_matmul_bit_for_bit(affine, case, data):
    A, W = case
    b = data.draw(st.lists(_AWKWARD, min_size=len(W[0]), max_size=len(W[0])))
    assert nan_aware(affine(A, rows.transposed(W), b)) == nan_aware(add_row(matmul(A, W), [b]))


@pytest.mark.parametrize("totals", TOTALS, ids=lambda f: f.__name__)
@given(factors())
def test_column_totals_are_column_sums_bit_for_bit(totals, case):
    """Column sums start from the top row: a column of −0.0 sums to −0.0, not 0.0."""
    A, _ = case
    assert nan_aware([totals(A)]) == nan_aware(column_sums(A))


def test_a_column_of_negative_zeros_sums_to_negative_zero():
    for totals in TOTALS:
        assert bits(totals([[-0.0], [-0.0]])) == [bits(-0.0)]


@pytest.mark.parametrize("name", ["identity", "sigmoid", "tanh", "relu", "leaky_relu"])
@given(st.lists(st.tuples(_AWKWARD, _AWKWARD), min_size=1, max_size=20))
def test_activations_and_their_derivative_products_are_apply_and_multiply_bit_for_bit(name, pairs):
    """f(Z) and S ⊙ f′(Z) from the written-out forms equal apply(f, Z) and multiply(S, f′(Z, A))
    of the Python forms, on two rows of awkward pre-activations (NaN left out: the network
    never keeps one)."""
    pairs = [(s, z) for s, z in pairs if z == z]
    if not pairs:
        return
    S = [[s for s, _ in pairs], [s for s, _ in reversed(pairs)]]
    Z = [[z for _, z in pairs], [z for _, z in reversed(pairs)]]
    f, f_prime = ACTIVATIONS[name].f, ACTIVATIONS[name].f_prime
    A = apply(f, Z)
    assert nan_aware(rows.activation_of(name)(Z)) == nan_aware(A)
    expected = multiply(S, apply(f_prime, Z, A))
    assert nan_aware(rows.times_derivative_of(name)(S, Z, A)) == nan_aware(expected)
