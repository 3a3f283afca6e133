"""Tests for purebp.matrix: the algebraic laws, generic numbers, and shape errors.

The laws are checked on integers (and Fractions), where arithmetic is exact,
so each law must hold with ==, not approximately.
"""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import matrices

from purebp import matrix as M

small_ints = st.integers(-50, 50)
dims = st.integers(1, 5)


@st.composite
def int_matrix(draw, rows=None, columns=None):
    r = rows or draw(dims)
    c = columns or draw(dims)
    return draw(matrices(r, c, small_ints))


@st.composite
def chain(draw, length):
    """``length`` integer matrices whose sizes fit for A·B·C·..."""
    sizes = [draw(dims) for _ in range(length + 1)]
    return [draw(matrices(sizes[i], sizes[i + 1], small_ints)) for i in range(length)]


def loop_matmul(A, B):
    """The textbook triple loop, for comparison."""
    return [[sum(A[i][m] * B[m][j] for m in range(len(B))) for j in range(len(B[0]))]
            for i in range(len(A))]


@given(int_matrix())
def test_transpose_twice_is_identity(A):
    """(Aᵀ)ᵀ = A."""
    assert M.transpose(M.transpose(A)) == A


@given(chain(2))
def test_transpose_of_product(AB):
    """(AB)ᵀ = BᵀAᵀ."""
    A, B = AB
    assert M.transpose(M.matmul(A, B)) == M.matmul(M.transpose(B), M.transpose(A))


@given(int_matrix())
def test_identity_is_neutral(A):
    """A·I = A and I·A = A."""
    rows, columns = M.shape(A)
    assert M.matmul(A, M.identity(columns)) == A
    assert M.matmul(M.identity(rows), A) == A


@given(chain(3))
def test_matmul_is_associative_and_matches_the_triple_loop(ABC):
    """(AB)C = A(BC), and AB equals the textbook triple loop."""
    A, B, C = ABC
    assert M.matmul(M.matmul(A, B), C) == M.matmul(A, M.matmul(B, C))
    assert M.matmul(A, B) == loop_matmul(A, B)


@given(st.data())
def test_elementwise_operations(data):
    """add, subtract, multiply, scale, apply act entry by entry; A + B − B = A."""
    rows, columns = data.draw(dims), data.draw(dims)
    A = data.draw(int_matrix(rows, columns))
    B = data.draw(int_matrix(rows, columns))
    c = data.draw(small_ints)
    for i in range(rows):
        for j in range(columns):
            assert M.add(A, B)[i][j] == A[i][j] + B[i][j]
            assert M.subtract(A, B)[i][j] == A[i][j] - B[i][j]
            assert M.multiply(A, B)[i][j] == A[i][j] * B[i][j]
            assert M.scale(c, A)[i][j] == c * A[i][j]
            assert M.apply(lambda a: a * a - 1, A)[i][j] == A[i][j] ** 2 - 1
    assert M.subtract(M.add(A, B), B) == A


@given(st.data())
def test_add_row_and_column_sums(data):
    """add_row adds the row to every row; column_sums(A) = 1ᵀ·A."""
    A = data.draw(int_matrix())
    rows, columns = M.shape(A)
    b = data.draw(int_matrix(1, columns))
    assert M.add_row(A, b) == [[a + b_j for a, b_j in zip(row, b[0])] for row in A]
    assert M.column_sums(A) == M.matmul([[1] * rows], A)


@given(int_matrix())
def test_operations_do_not_change_their_arguments(A):
    """Every operation returns a new matrix and leaves its arguments alone."""
    snapshot = [list(row) for row in A]
    M.transpose(A), M.matmul(A, M.transpose(A)), M.add(A, A), M.scale(2, A)
    M.add_row(A, [A[0]]), M.column_sums(A), M.apply(abs, A), M.multiply(A, A)
    assert A == snapshot


def test_fractions_flow_through_unchanged():
    """Only + − * are used, so Fractions stay exact Fractions."""
    A = [[Fraction(1, 3), Fraction(1, 7)]]
    product = M.matmul(M.transpose(A), A)
    assert product == [[Fraction(1, 9), Fraction(1, 21)], [Fraction(1, 21), Fraction(1, 49)]]
    assert all(isinstance(a, Fraction) for row in product for a in row)


def test_zeros_and_shape():
    """zeros has the asked shape; shape counts rows and columns."""
    assert M.shape(M.zeros(3, 2)) == (3, 2)
    assert M.zeros(1, 1) == [[0.0]]
    assert M.shape([]) == (0, 0)


SHAPE_ERRORS = [
    (lambda: M.matmul(M.zeros(4, 2), M.zeros(3, 4)), "matmul: (4, 2) @ (3, 4): inner sizes differ"),
    (lambda: M.add(M.zeros(2, 3), M.zeros(3, 2)), "add: (2, 3) + (3, 2): shapes differ"),
    (lambda: M.subtract(M.zeros(1, 3), M.zeros(1, 2)), "subtract: (1, 3) - (1, 2): shapes differ"),
    (lambda: M.multiply(M.zeros(2, 2), M.zeros(1, 2)), "multiply: (2, 2) * (1, 2): shapes differ"),
    (lambda: M.add_row(M.zeros(4, 3), M.zeros(1, 2)),
     "add_row: (4, 3) + (1, 2): the row must be (1, 3)"),
    (lambda: M.add_row(M.zeros(4, 3), M.zeros(2, 3)),
     "add_row: (4, 3) + (2, 3): the row must be (1, 3)"),
    (lambda: M.transpose([[1, 2], [3]]),
     "transpose: ragged matrix: row 1 has 1 entries, expected 2 like row 0"),
    (lambda: M.matmul([[1]], [[1, 2], [3]]), "matmul: ragged matrix"),
    (lambda: M.scale(2, [[1], [2, 3]]), "scale: ragged matrix"),
    (lambda: M.apply(abs, [[1], []]), "apply: ragged matrix"),
    (lambda: M.column_sums([[1, 2], [3]]), "column_sums: ragged matrix"),
    (lambda: M.column_sums([]), "column_sums: A is empty; it must have at least one row"),
    (lambda: M.zeros(-1, 2), "zeros: sizes must not be negative, got (-1, 2)"),
    (lambda: M.identity(-3), "identity: n must not be negative, got -3"),
]


@pytest.mark.parametrize("call, message", SHAPE_ERRORS, ids=[m.split(":")[0] + str(i)
                                                            for i, (_, m) in enumerate(SHAPE_ERRORS)])
def test_shape_errors_name_the_operation_and_shapes(call, message):
    """A mismatched or ragged argument raises ValueError naming operation and shapes."""
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value).startswith(message)


def test_shape_finds_a_ragged_row_anywhere():
    """Raggedness is found in any row, not only the second."""
    with pytest.raises(ValueError, match="row 2 has 1 entries, expected 2"):
        M.shape([[1, 2], [3, 4], [5]])


def test_tuples_go_in_and_new_lists_come_out():
    """Rows given as tuples of ints are read like lists; every result is a new list of lists."""
    A = ((1, 2), (3, 4))
    results = [M.transpose(A), M.matmul(A, A), M.add(A, A), M.subtract(A, A), M.multiply(A, A),
               M.scale(2, A), M.add_row(A, ((1, 1),)), M.column_sums(A), M.apply(abs, A)]
    assert all(type(r) is list and all(type(row) is list for row in r) for r in results)
    assert M.matmul(A, A) == [[7, 10], [15, 22]] and M.transpose(A) == [[1, 3], [2, 4]]
