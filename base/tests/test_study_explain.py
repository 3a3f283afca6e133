"""Tests for purebp.study.explain and ``purebp explain``: every printed number is the library's.

Each line ends with "= value"; the value must be the one Network.trace (and
so Network.gradients) computes, rounded as printed. The numbers substituted
into the formula are checked too: evaluating the printed arithmetic gives
the printed result, to the rounding of the operands.

tests/data/explain-default.md is the Markdown of the default case. If the
output changes on purpose, regenerate it with

    python3 -m purebp explain --format md > tests/data/explain-default.md

and read the diff before committing it.
"""

import math
import os
import re

import pytest

from purebp import Network, NeuralNetwork, cli, vectors
from purebp.study import explain

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_Y = [[0.0], [1.0], [1.0], [0.0]]


def tutorial_network():
    t = NeuralNetwork(2, 4, 1, seed=0)
    net = Network([2, 4, 1], seed=0)
    assert net.weights == [t.weights_input_hidden, t.weights_hidden_output]
    return net


def printed_value(line):
    return float(line.text.rsplit("= ", 1)[1])


def library_values(net, X, y, lr):
    """(tag, name) → the library's value, from gradients(), forward() and by hand."""
    grads = net.gradients(X, y)
    copy_net = Network(net.sizes, net.activation, net.output_activation, net.loss_name, seed=0)
    copy_net.weights, copy_net.biases = net.weights, net.biases
    copy_net.forward(X)
    values = {}
    for l in range(net.depth):
        k = l + 1
        for r, row in enumerate(copy_net.zs[l]):
            for c, v in enumerate(row):
                values[("F1", f"z{k}[{r}][{c}]")] = v
                values[("F2", f"a{k}[{r}][{c}]")] = copy_net.activations[k][r][c]
        for i, row in enumerate(grads["weights"][l]):
            for c, g in enumerate(row):
                values[("BP4", f"∂E/∂W{k}[{i}][{c}]")] = g
                values[("GD", f"W{k}[{i}][{c}]")] = net.weights[l][i][c] - lr * g
        for c, g in enumerate(grads["biases"][l][0]):
            values[("BP3", f"∂E/∂b{k}[{c}]")] = g
            values[("GD", f"b{k}[{c}]")] = net.biases[l][0][c] - lr * g
    values[("L", "E")] = net.loss(X, y)
    return values


CASES = [
    ("tutorial", lambda: (tutorial_network(), XOR_X, XOR_Y, 0.1)),
    ("tanh-bce", lambda: (Network([2, 3, 1], "tanh", "sigmoid", "bce", seed=2), XOR_X, XOR_Y, 0.5)),
    ("relu-softmax", lambda: (Network([2, 3, 2], "relu", "softmax", "cross_entropy", seed=3),
                              XOR_X, [[1, 0], [0, 1], [0, 1], [1, 0]], 0.2)),
    ("deep-leaky-mse", lambda: (Network([2, 3, 3, 2], "leaky_relu", "identity", "mse", seed=4),
                                XOR_X, [[0.5, -1], [1, 2], [0, 0], [-1, 1]], 0.05)),
]


@pytest.mark.parametrize("name, make", CASES, ids=[c[0] for c in CASES])
def test_every_printed_result_is_the_librarys_number(name, make):
    """Each F1/F2/L/BP3/BP4/GD line ends with the library's value, rounded as printed."""
    net, X, y, lr = make()
    values = library_values(net, X, y, lr)
    lines = explain.explain(net, X, y, lr, precision=6)
    checked = 0
    for line in lines:
        if not line.tag:
            continue
        lhs = line.text.split(") ", 1)[1].split(" = ")[0].split(" ← ")[0]
        key = (line.tag, lhs)
        if key in values:
            assert line.text.endswith(explain.number(values[key], 6)), (line.text, values[key])
            assert line.value == values[key]
            checked += 1
    tags = {line.tag for line in lines if line.tag}
    assert tags >= {"F1", "F2", "L", "BP1", "BP3", "BP4", "GD"}
    assert checked >= len(values) - 1  # every gradient, update, z, a and the loss


def test_deltas_are_the_ones_that_make_the_gradients():
    """Σ_n a[n][i]·δ[n][j] of the printed deltas is the library's weight gradient."""
    net, X, y, lr = CASES[3][1]()
    lines = explain.explain(net, X, y, lr, precision=8)
    delta = {}
    for line in lines:
        if line.tag in ("BP1", "BP2"):
            name = line.text.split(") ", 1)[1].split(" = ")[0]
            k, r, c = re.fullmatch(r"δ(\d)\[(\d+)\]\[(\d+)\]", name).groups()
            delta[(int(k), int(r), int(c))] = line.value
    grads = net.gradients(X, y)
    acts = net.trace(X, y, lr)["activations"]
    for l in range(net.depth):
        for i in range(net.sizes[l]):
            for j in range(net.sizes[l + 1]):
                total = math.fsum(acts[l][r][i] * delta[(l + 1, r, j)] for r in range(len(X)))
                assert total == pytest.approx(grads["weights"][l][i][j], rel=1e-12, abs=1e-15)


def evaluate(expression):
    """Evaluate the printed arithmetic of one line (numbers, ·, −, ², σ, parentheses)."""
    allowed = re.fullmatch(r"[0-9eE.()+\-*/ σ²·−]+", expression)
    assert allowed, expression
    python = (expression.replace("·", "*").replace("−", "-").replace("²", "**2")
              .replace("σ", "sig"))
    return eval(python, {"__builtins__": {}}, {"sig": lambda z: 1 / (1 + math.exp(-z))})


@pytest.mark.parametrize("name, make", CASES, ids=[c[0] for c in CASES])
def test_the_substituted_numbers_give_the_printed_result(name, make):
    """Evaluating each line's arithmetic with its printed operands gives its printed result."""
    net, X, y, lr = make()
    checked = 0
    for line in explain.explain(net, X, y, lr, precision=10):
        if line.tag not in ("F1", "BP1", "BP3", "BP4", "GD") or "…" in line.text:
            continue
        middle = line.text.rsplit(" = ", 2)[1]
        if any(ch.isalpha() and ch not in "eσ" for ch in middle):
            continue  # symbolic parts (e.g. [z > 0], if/else) are not plain arithmetic
        # operands are rounded to 10 decimals; the result of a few of them
        # products and sums is good to about 1e-9 relative to its operands' size
        assert evaluate(middle) == pytest.approx(line.value, rel=1e-8, abs=1e-8), line.text
        checked += 1
    assert checked >= 30


def test_markdown_of_the_default_case_matches_the_stored_file(capsys):
    """``purebp explain --format md`` prints exactly tests/data/explain-default.md (see the docstring)."""
    assert cli.main(["explain", "--format", "md"]) == 0
    with open(os.path.join(ROOT, "tests", "data", "explain-default.md"), encoding="utf-8") as f:
        assert capsys.readouterr().out == f.read()


def test_the_default_is_the_tutorials_network_and_its_gradients(capsys):
    """The default text explains NeuralNetwork(2, 4, 1, seed=0) on XOR with η = 0.1."""
    assert cli.main(["explain"]) == 0
    out = capsys.readouterr().out
    tut = NeuralNetwork(2, 4, 1, seed=0)
    g = tut.gradients(XOR_X, XOR_Y)
    assert "∂E/∂W2[0][0] = Σ_n" in out
    assert out.count("(BP4)") == 2 * 4 + 4 * 1 and out.count("(BP3)") == 4 + 1
    for line in out.splitlines():
        if line.startswith("(BP4) ∂E/∂W2[3][0]"):
            assert line.endswith(explain.number(g["weights_hidden_output"][3][0], 4))
    assert "(BP1) δ2[0][0] = (ŷ − y)·ŷ·(1 − ŷ) = " in out


def test_a_case_file_is_replayed(capsys, tmp_path):
    """--case explains a test-vector case with its own weights, data and learning rate."""
    case = next(c for c in vectors.curated() if c["id"] == "relu-at-zero")
    path = str(tmp_path / "case.json")
    vectors.write(path, [case])
    assert cli.main(["explain", "--case", path, "--precision", "6"]) == 0
    out = capsys.readouterr().out
    want = case["expected"]["gradients"]["weights"][0][0][0]
    line = next(l for l in out.splitlines() if l.startswith("(BP4) ∂E/∂W1[0][0]"))
    assert float(line.rsplit("= ", 1)[1]) == pytest.approx(want, abs=1e-6)
    assert "learning rate η = 0.02" in out


@pytest.mark.parametrize("argv, words", [
    (["--case", "/nonexistent.json"], "/nonexistent.json"),
    (["--network", "3,4,1"], "--network"),
    (["--precision", "40"], "--precision"),
    (["--format", "html"], "--format"),
    (["--loss", "bce", "--output-activation", "tanh"],
     "output_activation must be 'sigmoid' for loss='bce', got 'tanh'"),
])
def test_mistakes_are_one_line_and_exit_2(capsys, argv, words):
    """Bad explain options exit 2 with one line naming the problem."""
    code = cli.main(["explain", *argv])
    err = capsys.readouterr().err
    assert code == 2 and words in err and err.count("\n") == 1


def test_tuples_of_ints_explain_like_lists_of_floats():
    """XOR as tuples of ints gives the same lines as XOR as lists of floats."""
    net = tutorial_network()
    as_tuples = explain.explain(net, ((0, 0), (0, 1), (1, 0), (1, 1)), ((0,), (1,), (1,), (0,)), 0.1)
    assert as_tuples == explain.explain(net, XOR_X, XOR_Y, 0.1)


@pytest.mark.parametrize("call, message", [
    (lambda: explain.explain(tutorial_network(), XOR_X, XOR_Y, 0.1, precision=18),
     "explain: precision must be an int from 1 to 17, got 18"),
    (lambda: explain.explain(tutorial_network(), XOR_X, XOR_Y, 0.1, precision=10 ** 5000),
     "explain: precision must be an int from 1 to 17, got an int of about 5001 digits"),
    (lambda: explain.render([], [], fmt="html"), "render: fmt must be 'text' or 'md', got 'html'"),
])
def test_bad_options_are_refused_naming_them(call, message):
    """A bad precision or format is refused in one short line naming the argument and the value."""
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value) == message


def test_large_layers_are_summarised():
    """Quantities with more entries than max_entries say how many more there are."""
    net = Network([2, 10, 1], seed=1)
    lines = explain.explain(net, XOR_X, XOR_Y, 0.1, max_entries=8)
    notes = [l.text for l in lines if not l.tag]
    assert any("and 32 more entries of z1" in n for n in notes)
