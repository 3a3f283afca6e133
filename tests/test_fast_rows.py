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

from purebp.fast import rows
from purebp.matrix import matmul, transpose

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
