"""Tests for purebp._checks: the argument checks behind every public entry point."""

import pytest

from purebp import _checks


@pytest.mark.parametrize("value, error, words", [
    ([[]], ValueError, "X[0] is empty; it must have at least one entry"),
    ([[1, 2], [3]], ValueError, "X is ragged: X[1] has 1 entries, expected 2 like X[0]"),
    ([], ValueError, "X is empty; it must have at least one row"),
    ("12", TypeError, "X must be a list of rows"),
    ([[1, float("nan")]], ValueError, "X[0][1] must be finite, got nan"),
    ([[10 ** 400]], ValueError, "X[0][0] must fit in a float, got an int of about 401 digits"),
    ([[None]], TypeError, "X[0][0] must be a real number, got NoneType None"),
])
def test_float_matrix_without_sizes_names_what_is_wrong(value, error, words):
    """With no expected sizes, empty, ragged and non-numeric matrices are refused by name."""
    with pytest.raises(error) as info:
        _checks.float_matrix("op", "X", value)
    assert str(info.value).startswith("op: ") and words in str(info.value)


def test_float_matrix_returns_a_float_copy():
    """Ints become floats, tuples become lists, and the caller's rows are not shared."""
    rows = [[1, 2], (3, 4.5)]
    result = _checks.float_matrix("op", "X", rows)
    assert result == [[1.0, 2.0], [3.0, 4.5]]
    assert all(type(v) is float for row in result for v in row)
    assert result[0] is not rows[0]


@pytest.mark.parametrize("value, minimum, error", [
    (0, 1, ValueError), (-1, 0, ValueError), (True, 0, TypeError), (2.0, 0, TypeError),
    ("3", 1, TypeError),
])
def test_integer_refuses_bools_floats_and_small_values(value, minimum, error):
    """integer() accepts only ints (not bools) at or above the minimum."""
    with pytest.raises(error, match="op: n "):
        _checks.integer("op", "n", value, minimum)


def test_name_lists_the_choices():
    """An unknown name is refused with every accepted name listed."""
    with pytest.raises(ValueError, match="unknown loss 'l1'; expected one of 'a', 'b'"):
        _checks.name("op", "loss", "l1", ("a", "b"))
