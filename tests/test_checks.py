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


class Tolist:
    """An array-like known only by its tolist(), as numpy's arrays and scalars are."""

    def __init__(self, value):
        self.value = value

    def tolist(self):
        return self.value


def test_float_matrix_and_real_number_read_array_likes_through_tolist():
    """Objects with tolist() (no len, no indexing) are read as the lists or number it gives."""
    assert _checks.float_matrix("op", "X", Tolist([[1, 2.5]])) == [[1.0, 2.5]]
    assert _checks.float_matrix("op", "X", [Tolist([3, 4])]) == [[3.0, 4.0]]
    assert _checks.real_number("op", "lr", Tolist(0.25)) == 0.25
    with pytest.raises(TypeError, match="op: lr must be a real number"):
        _checks.real_number("op", "lr", Tolist("0.25"))


def test_float_matrix_copied_says_whether_anything_was_converted():
    """Only a list of lists of floats counts as unconverted; arrays, tuples and ints do not."""
    assert _checks.float_matrix_copied("op", "X", [[1.0, 2.0]]) == ([[1.0, 2.0]], False)
    for value in ([[1, 2.0]], [(1.0, 2.0)], ((1.0, 2.0),), Tolist([[1.0, 2.0]])):
        assert _checks.float_matrix_copied("op", "X", value) == ([[1.0, 2.0]], True), value


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


def test_float_matrix_takes_any_sequence_of_real_rows():
    """Tuples, ints and Fractions go in; a new list of lists of floats comes out."""
    from fractions import Fraction

    result = _checks.float_matrix("op", "X", ((0, 1), [Fraction(1, 4), 2.5]))
    assert result == [[0.0, 1.0], [0.25, 2.5]]
    assert type(result) is list and all(type(row) is list for row in result)
    assert all(type(v) is float for row in result for v in row)


@pytest.mark.parametrize("name, shown", [
    ("data/xor.csv", "data/xor.csv"),
    ("", "''"),
    ("no\nsuch.csv", "'no\\nsuch.csv'"),
    (" lead.csv", "' lead.csv'"),
    ("nul\0.csv", "'nul\\x00.csv'"),
])
def test_shown_path_shows_a_name_whole_and_on_one_line(name, shown):
    """A plain name is shown as it is; an empty or unusual one as its repr."""
    assert _checks.shown_path(name) == shown


def test_shown_path_keeps_the_ends_of_a_long_name_and_copies_no_more():
    """A name of a million characters is shown by its first and last 100, and its length."""
    name = "/top/" + "x\n" * 500_000 + "/file.csv"
    shown = _checks.shown_path(name)
    assert shown.startswith("'/top/x\\nx\\n") and shown.endswith(f"/file.csv' ({len(name):,} characters)")
    assert "\n" not in shown and len(shown) < 600


SIGNATURES_ACCEPT = '''
from decimal import Decimal
from fractions import Fraction
from typing import List

from purebp import _checks, datasets
from purebp import matrix as M
from purebp._types import Matrix
from purebp.network import Network
from purebp.study import explain, plots

XOR = [[0, 0], [0, 1], [1, 0], [1, 1]]
TUPLES = ((0, 0), (0, 1))
a: Matrix = M.matmul(TUPLES, ((1,), (2,)))
b: Matrix = _checks.float_matrix("op", "X", XOR)
c: Matrix = _checks.float_matrix("op", "X", [(Fraction(1, 3), 2.5)])
d: List[List[Fraction]] = M.matmul([[Fraction(1, 3)]], [[Fraction(3)]])
e: List[List[Decimal]] = M.add([[Decimal(1)]], [[Decimal(2)]])
f: Matrix = M.transpose(TUPLES)
g: Matrix = M.add_row(XOR, [[1, 2]])
net = Network([2, 3, 1])
h = explain.explain(net, TUPLES, ((0,), (1,)), 0.1)
i: str = plots.decision_boundary(net, XOR, [[0], [1], [1], [0]], "xor")
j = datasets.load_csv("data.csv")
# The networks, on the tutorial's integer data, tuples and Fractions; paths as Path.
from pathlib import Path
from purebp import NeuralNetwork
import purebp.exact
from purebp.testing import cases
from purebp.vectors import curated
tutorial = NeuralNetwork(2, 4, 1, seed=0)
k: List[float] = tutorial.train(XOR, [[0], [1], [1], [0]], 10, 0.1, log=None)
l: Matrix = tutorial.feedforward(((Fraction(1, 2), 0),))
net.train(TUPLES, ((0,), (1,)), 2, 0.5, batch_size=1, log=None, fast=False)
tutorial.save(Path("m.json"))
m: NeuralNetwork = NeuralNetwork.load(Path("m.json"))
n = (purebp.exact.run, cases, curated)
'''
SIGNATURES_REFUSE = '''
from purebp import _checks, datasets
from purebp import matrix as M

M.matmul([["a"]], [["b"]])
_checks.float_matrix("op", "X", [["a"]])
datasets.load_csv(3)
'''


def test_the_annotations_take_what_users_pass_and_refuse_the_rest(tmp_path):
    """Under mypy --strict, tuples and ints pass where matrices go; strings and an int path do not.

    Skipped where mypy is not installed (it is no test dependency).
    """
    api = pytest.importorskip("mypy.api")
    results = {}
    for name, text in (("accept", SIGNATURES_ACCEPT), ("refuse", SIGNATURES_REFUSE)):
        path = tmp_path / f"{name}.py"
        path.write_text(text, encoding="utf-8")
        out, _, status = api.run(["--strict", "--follow-imports=silent",
                                  f"--cache-dir={tmp_path / 'cache'}", str(path)])
        results[name] = out, status
    assert results["accept"][1] == 0, results["accept"][0]
    out, status = results["refuse"]
    assert status == 1 and "Found 3 errors" in out, out
    assert [line.split(":")[1] for line in out.splitlines() if ": error:" in line] == ["5", "6", "7"]


# -- the fast path for rows of exact floats and ints -------------------------------

class IntSub(int):
    """An int subclass: not an exact int, so it takes the general check."""


class FloatSub(float):
    """A float subclass: not an exact float, so it takes the general check."""


class OddFloat(int):
    """An int subclass whose float() is not its value: the general check's float() gives 2.5."""

    def __float__(self):
        return 2.5


class EqualityMeta(type):
    """A metaclass defining __eq__ alone, so its classes cannot be hashed."""

    def __eq__(self, other):
        return self is other


class Unhashable(metaclass=EqualityMeta):
    """An instance whose type cannot go in a set."""

    def __repr__(self):
        return "Unhashable()"


def _entries():
    """Entries for the grid: exact ints and floats at their edges, and everything else."""
    from decimal import Decimal
    from fractions import Fraction

    entries = [0, 1, -3, 16, 2 ** 53 + 1, 2 ** 1024 - 2 ** 970, 2 ** 1024 - 1, 10 ** 400,
               -10 ** 400, True, False, 0.5, -0.0, 0.0, 1e308, -1e308, 5e-324,
               float("nan"), float("inf"), float("-inf"), IntSub(3), FloatSub(2.5),
               FloatSub("nan"), OddFloat(7), Fraction(1, 3), Decimal("0.1"), Decimal("nan"),
               "1", None, [1], (1.0,), Unhashable()]
    try:
        import numpy
    except ImportError:
        return entries
    return entries + [numpy.float64(2.5), numpy.int64(3), numpy.float32("nan"),
                      numpy.bool_(True), numpy.array(1.5), numpy.array([1.0])]


def _checked(check, *args):
    """Return ("ok", result) or ("error", type, message) of check(*args)."""
    try:
        return "ok", check(*args)
    except (TypeError, ValueError) as error:
        return "error", type(error), str(error)


def _by_entry(value):
    """float_matrix_copied as the per-entry check gives it, for rows of one width.

    real_number on every entry in row-major order (the first refusal is the
    error), and converted unless every row is a list of exact floats.
    """
    rows = [[_checks.real_number("op", f"X[{i}][{j}]", a) for j, a in enumerate(row)]
            for i, row in enumerate(value)]
    converted = not all(type(row) is list and all(type(a) is float for a in row)
                        for row in value)
    return rows, converted


def _general(monkeypatch, *args):
    """float_matrix_copied(*args) with the fast path turned off: every row the general way.

    Its converted flag is always True (rows of floats too), so only _by_entry's is compared.
    """
    with monkeypatch.context() as patch:
        patch.setattr(_checks, "_exact_row", lambda row: None)
        return _checked(_checks.float_matrix_copied, *args)


def _same(one, other, flag=True):
    """True if two _checked outcomes agree, floats compared by float.hex (so -0.0 ≠ 0.0),
    and the converted flags too unless flag is False."""
    if one[0] != other[0] or one[0] == "error":
        return one == other
    (rows, converted), (other_rows, other_converted) = one[1], other[1]
    hexes = [[float.hex(v) for v in row] for row in rows]
    return ((converted == other_converted or not flag) and all(type(v) is float for r in rows for v in r)
            and hexes == [[float.hex(v) for v in row] for row in other_rows])


def test_the_fast_path_gives_the_per_entry_checks_results_and_errors(monkeypatch):
    """Every pair of grid entries as a 1×2 and a 2×1 matrix: the same values, converted flag
    and first error as real_number entry by entry, and as the check with no fast path."""
    entries = _entries()
    for a in entries:
        for b in entries:
            for value in ([[a, b]], [[a], [b]], [(a, b)]):
                got = _checked(_checks.float_matrix_copied, "op", "X", value)
                assert _same(got, _checked(_by_entry, value)), (value, got)
                assert _same(got, _general(monkeypatch, "op", "X", value), False), (value, got)


def test_the_fast_path_agrees_on_random_rows_of_the_grid(monkeypatch):
    """Random 3×4 matrices, mostly exact ints and floats with the odd other entry in any row."""
    import random

    rng = random.Random(15)
    entries = _entries()
    exact = [e for e in entries if type(e) in (int, float)]
    for _ in range(3000):
        pool = exact if rng.random() < 0.5 else entries
        value = [[rng.choice(exact) if rng.random() < 0.9 else rng.choice(pool)
                  for _ in range(4)] for _ in range(3)]
        got = _checked(_checks.float_matrix_copied, "op", "X", value, None, 4, "sizes[0]")
        assert _same(got, _checked(_by_entry, value)), (value, got)
        general = _general(monkeypatch, "op", "X", value, None, 4, "sizes[0]")
        assert _same(got, general, False), value


@pytest.mark.parametrize("value, error, message", [
    ([[1, True]], TypeError, "op: X[0][1] must be a real number, got bool True"),
    ([[1, 2], [3, 10 ** 400]], ValueError,
     "op: X[1][1] must fit in a float, got an int of about 401 digits"),
    ([[1, 2 ** 1024 - 1]], ValueError, "op: X[0][1] must fit in a float, got an int of about 309 digits"),
    ([[1, float("nan"), 10 ** 400]], ValueError, "op: X[0][1] must be finite, got nan"),
    ([[3, -float("inf")]], ValueError, "op: X[0][1] must be finite, got -inf"),
    ([[1, None]], TypeError, "op: X[0][1] must be a real number, got NoneType None"),
    ([[1, 2], [3]], ValueError, "op: X is ragged: X[1] has 1 entries, expected 2 like X[0]"),
    ([[1, 2], [3, 4, 5]], ValueError, "op: X is ragged: X[1] has 3 entries, expected 2 like X[0]"),
    ([[1, 2], [[3, 4]]], TypeError, "op: X[1][0] must be a real number, got list [3, 4]"),
])
def test_rows_of_ints_and_floats_are_refused_as_before(value, error, message, monkeypatch):
    """A bool among ints, a huge int, NaN or inf among ints, ragged rows: the messages written
    out, and the same from the check with no fast path."""
    with pytest.raises(error) as info:
        _checks.float_matrix("op", "X", value)
    assert str(info.value) == message
    assert _general(monkeypatch, "op", "X", value) == ("error", error, message)


def test_the_fast_path_converts_ints_as_float_does_and_keeps_floats_as_they_are():
    """Ints become float(int) (2**53 + 1 rounds to even), -0.0 stays -0.0, floats are the
    caller's own objects, and a row of floats alone leaves converted False."""
    row = [-0.0, 0.1, 2.5e-300]
    (out,), converted = _checks.float_matrix_copied("op", "X", [row])
    assert converted is False and out is not row and all(a is b for a, b in zip(out, row))
    assert [float.hex(v) for v in out] == ["-0x0.0p+0", (0.1).hex(), (2.5e-300).hex()]
    (out,), converted = _checks.float_matrix_copied("op", "X", [[2 ** 53 + 1, -0.0, 16]])
    assert converted is True and [float.hex(v) for v in out] == [
        float.hex(9007199254740992.0), "-0x0.0p+0", "0x1.0000000000000p+4"]
    assert all(type(v) is float for v in out)
    (out,), _ = _checks.float_matrix_copied("op", "X", [[1e308, 1e308]])  # the sum overflows
    assert out == [1e308, 1e308]
    assert _checks.float_matrix("op", "X", [[OddFloat(7), IntSub(3), FloatSub(2.5)]]) == \
        [[2.5, 3.0, 2.5]]
