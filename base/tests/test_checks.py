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
