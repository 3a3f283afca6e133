"""The tiny matrix helper: row-major lists of lists, nothing more.

A matrix here is a list of rows, each a list of numbers, all rows the same
length: ``[[1.0, 2.0], [3.0, 4.0]]`` has shape (2, 2). A 1 x n matrix such as a
bias ``[[0.0, 0.0, 0.0]]`` is still a list holding one row.

Contents:

    shape(A)            (rows, columns), after checking A is not ragged
    zeros(r, c)         an r x c matrix of 0.0
    identity(n)         the n x n identity
    transpose(A)        Aᵀ
    matmul(A, B)        the matrix product A·B
    add(A, B)           A + B, element by element
    subtract(A, B)      A − B, element by element
    multiply(A, B)      A ⊙ B, element by element (the Hadamard product)
    scale(c, A)         c·A for a number c
    add_row(A, row)     adds a 1 x n row to every row of A (the bias broadcast)
    column_sums(A)      the 1 x n row of column sums (Σ over rows)
    apply(f, A, ...)    f applied to every element (of one or more matrices)

What it deliberately does not do: no broadcasting beyond ``add_row``, no
in-place updates (every function returns a new matrix and leaves its
arguments alone), no numbers other than what the arguments hold. The
arithmetic uses only ``+``, ``-`` and ``*``, so ints, floats, Fractions or
Decimals flow through unchanged. The signatures say so: each function takes
any sequence of rows (lists, tuples) of one Number type, float (ints too),
Fraction or Decimal, and returns new lists of that type (purebp._types).

Every function checks shapes and raises ``ValueError`` naming the operation
and the shapes involved:

>>> matmul(zeros(4, 2), zeros(3, 4))
Traceback (most recent call last):
    ...
ValueError: matmul: (4, 2) @ (3, 4): inner sizes differ
"""

from __future__ import annotations

from typing import Any, Callable, List, Sequence, Sized, Tuple, TypeVar, cast

from purebp._types import Matrix as Matrix  # still importable from here, as before
from purebp._types import Number

T = TypeVar("T")  # any element: transpose only moves entries
R = TypeVar("R")  # what apply's function returns


def shape(A: Sequence[Sized], op: str = "shape") -> Tuple[int, int]:
    """Return (rows, columns) of A, after checking every row has the same length.

    >>> shape([[1, 2, 3], [4, 5, 6]])
    (2, 3)
    >>> shape([])
    (0, 0)
    >>> shape([[1, 2], [3]])
    Traceback (most recent call last):
        ...
    ValueError: shape: ragged matrix: row 1 has 1 entries, expected 2 like row 0
    """
    rows = len(A)
    if rows == 0:
        return (0, 0)
    columns = len(A[0])
    for i, row in enumerate(A):
        if len(row) != columns:
            raise ValueError(
                f"{op}: ragged matrix: row {i} has {len(row)} entries,"
                f" expected {columns} like row 0"
            )
    return (rows, columns)


def _same_shape(op: str, symbol: str, A: Sequence[Sized], B: Sequence[Sized]) -> None:
    """Raise ValueError unless A and B have the same shape."""
    shape_a, shape_b = shape(A, op), shape(B, op)
    if shape_a != shape_b:
        raise ValueError(f"{op}: {shape_a} {symbol} {shape_b}: shapes differ")


def zeros(rows: int, columns: int) -> List[List[float]]:
    """Return a rows x columns matrix of 0.0.

    >>> zeros(2, 3)
    [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    if rows < 0 or columns < 0:
        raise ValueError(f"zeros: sizes must not be negative, got ({rows}, {columns})")
    return [[0.0] * columns for _ in range(rows)]


def identity(n: int) -> List[List[float]]:
    """Return the n x n identity matrix.

    >>> identity(2)
    [[1.0, 0.0], [0.0, 1.0]]
    """
    if n < 0:
        raise ValueError(f"identity: n must not be negative, got {n}")
    return [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]


def transpose(A: Sequence[Sequence[T]]) -> List[List[T]]:
    """Return Aᵀ: an (r, c) matrix becomes (c, r).

    >>> transpose([[1, 2, 3], [4, 5, 6]])
    [[1, 4], [2, 5], [3, 6]]
    """
    rows, columns = shape(A, "transpose")
    return [[A[i][j] for i in range(rows)] for j in range(columns)]


def _dot(u: Sequence[Number], v: Sequence[Number]) -> Number:
    """Return Σ_i u[i]·v[i], added left to right."""
    # A plain loop rather than sum(): since CPython 3.12 sum() of floats is
    # compensated, so it would make our numbers depend on the Python version.
    # total starts as the int 0, as in sum(), which adds to a float, a Fraction and
    # a Decimal alike; so it is Any until the end, not Number.
    total: Any = 0
    for a, b in zip(u, v):
        total = total + a * b
    return cast(Number, total)


def matmul(A: Sequence[Sequence[Number]], B: Sequence[Sequence[Number]]) -> List[List[Number]]:
    """Return the product A·B: (r, k) @ (k, c) gives (r, c).

    Entry [i][j] is Σ_m A[i][m]·B[m][j], added in the order m = 0, 1, ...

    >>> matmul([[1, 2], [3, 4]], [[5], [6]])
    [[17], [39]]
    """
    shape_a, shape_b = shape(A, "matmul"), shape(B, "matmul")
    if shape_a[1] != shape_b[0]:
        raise ValueError(f"matmul: {shape_a} @ {shape_b}: inner sizes differ")
    columns_of_b: List[List[Number]] = (
        transpose(B) if shape_b[0] else [[] for _ in range(shape_b[1])])
    return [[_dot(row, column) for column in columns_of_b] for row in A]


def add(A: Sequence[Sequence[Number]], B: Sequence[Sequence[Number]]) -> List[List[Number]]:
    """Return A + B element by element.

    >>> add([[1, 2]], [[10, 20]])
    [[11, 22]]
    """
    _same_shape("add", "+", A, B)
    return [[a + b for a, b in zip(row_a, row_b)] for row_a, row_b in zip(A, B)]


def subtract(A: Sequence[Sequence[Number]], B: Sequence[Sequence[Number]]) -> List[List[Number]]:
    """Return A − B element by element.

    >>> subtract([[1, 2]], [[10, 20]])
    [[-9, -18]]
    """
    _same_shape("subtract", "-", A, B)
    return [[a - b for a, b in zip(row_a, row_b)] for row_a, row_b in zip(A, B)]


def multiply(A: Sequence[Sequence[Number]], B: Sequence[Sequence[Number]]) -> List[List[Number]]:
    """Return A ⊙ B, the element-by-element (Hadamard) product.

    >>> multiply([[1, 2]], [[10, 20]])
    [[10, 40]]
    """
    _same_shape("multiply", "*", A, B)
    return [[a * b for a, b in zip(row_a, row_b)] for row_a, row_b in zip(A, B)]


def scale(c: Number, A: Sequence[Sequence[Number]]) -> List[List[Number]]:
    """Return c·A, every element multiplied by the number c.

    >>> scale(0.5, [[2, 4]])
    [[1.0, 2.0]]
    """
    shape(A, "scale")
    return [[c * a for a in row] for row in A]


def add_row(A: Sequence[Sequence[Number]], row: Sequence[Sequence[Number]]) -> List[List[Number]]:
    """Return A with the 1 x c matrix ``row`` added to each of its rows.

    This is the bias broadcast: (r, c) + (1, c) gives (r, c).

    >>> add_row([[1, 2], [3, 4]], [[10, 20]])
    [[11, 22], [13, 24]]
    """
    shape_a, shape_row = shape(A, "add_row"), shape(row, "add_row")
    if shape_row != (1, shape_a[1]):
        raise ValueError(
            f"add_row: {shape_a} + {shape_row}: the row must be (1, {shape_a[1]})"
        )
    (b,) = row
    return [[a + b_j for a, b_j in zip(row_a, b)] for row_a in A]


def column_sums(A: Sequence[Sequence[Number]]) -> List[List[Number]]:
    """Return the 1 x c matrix of column sums of an (r, c) matrix, for r ≥ 1.

    Each column is added from the top row down.

    >>> column_sums([[1, 2], [3, 4], [5, 6]])
    [[9, 12]]
    """
    rows, _ = shape(A, "column_sums")
    if rows == 0:
        raise ValueError("column_sums: A is empty; it must have at least one row")
    totals = list(A[0])
    for row in A[1:]:
        totals = [t + a for t, a in zip(totals, row)]
    return [totals]


def apply(f: Callable[..., R], A: Sequence[Sequence[Any]],
          *others: Sequence[Sequence[Any]]) -> List[List[R]]:
    """Return the matrix of f(a) for every element a of A.

    With more matrices of A's shape, f takes one element of each:
    ``apply(f, A, B)[i][j] == f(A[i][j], B[i][j])``.

    >>> apply(abs, [[-1, 2], [3, -4]])
    [[1, 2], [3, 4]]
    >>> apply(max, [[1, 5]], [[4, 2]])
    [[4, 5]]
    """
    if not others:
        shape(A, "apply")
        return [[f(a) for a in row] for row in A]
    for B in others:
        _same_shape("apply", ",", A, B)
    return [[f(*entries) for entries in zip(*rows)] for rows in zip(A, *others)]
