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
import pathlib
import re

import pytest

from purebp import Network, NeuralNetwork, cli, optimizers, vectors
from purebp.study import explain

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_Y = [[0.0], [1.0], [1.0], [0.0]]


def tutorial_network():
    t = NeuralNetwork(2, 4, 1, seed=0)
    net = Network([2, 4, 1], seed=0)
    assert net.weights == [t.weights_input_hidden, t.weights_hidden_output]
    return net


def biased_network():
    """A 2-3-1 tanh net with negative biases, so that (F1) adds a negative bias."""
    net = Network([2, 3, 1], "tanh", "sigmoid", "half_sse", seed=5)
    net.biases = [[[-0.5, 0.25, -1.5]], [[-0.75]]]
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
    ("negative-biases", lambda: (biased_network(), XOR_X, XOR_Y, 0.1)),
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
    checked, sums = 0, 0
    for line in explain.explain(net, X, y, lr, precision=10):
        if line.tag not in ("F1", "F2", "BP1", "BP2", "BP3", "BP4", "GD") or "…" in line.text:
            continue
        sums += line.tag == "BP3"  # a − b: the sums with a negative term, parsed below
        middle = line.text.rsplit(" = ", 2)[1]
        if any(ch.isalpha() and ch not in "eσ" for ch in middle) or ">" in middle:
            continue  # symbolic parts ([z > 0], if/else, tanh) are not plain arithmetic
        # operands are rounded to 10 decimals; the result of a few of them
        # products and sums is good to about 1e-9 relative to its operands' size
        assert evaluate(middle) == pytest.approx(line.value, rel=1e-8, abs=1e-8), line.text
        checked += 1
    assert checked >= 30 and sums == sum(net.sizes[1:])  # every bias gradient's sum re-added


def signed_sum(values, precision):
    """The printed sum of numbers, written out here: a + b, a − |b| for a negative b (-0.0 too)."""
    text = explain.number(values[0], precision)
    for v in values[1:]:
        negative = math.copysign(1.0, v) < 0
        text += f" {'−' if negative else '+'} {explain.number(abs(v), precision)}"
    return text


@pytest.mark.parametrize("name, make", CASES, ids=[c[0] for c in CASES])
def test_a_negative_term_is_subtracted_never_added(name, make):
    """No line prints "a + -b" (or "a − -b"): a negative term after the first is "− |b|"."""
    net, X, y, lr = make()
    lines = explain.explain(net, X, y, lr, precision=6)
    for line in lines:
        assert "+ -" not in line.text and "− -" not in line.text, line.text
    deltas = net.trace(X, y, lr)["deltas"]
    for line in lines:
        if line.tag == "BP3":  # ∂E/∂bk[c] = Σ_n δk[n][c] = the deltas, signed
            k, c = map(int, re.match(r"\(BP3\) ∂E/∂b(\d+)\[(\d+)\]", line.text).groups())
            column = [row[c] for row in deltas[k - 1]]
            assert f" = {signed_sum(column, 6)} = " in line.text, line.text


def test_a_negative_bias_is_subtracted_in_the_forward_pass():
    """(F1) ends with "− 0.5000" for b1[0] = -0.5, and the first term keeps its own sign."""
    lines = explain.explain(biased_network(), XOR_X, XOR_Y, 0.1)
    first = next(l.text for l in lines if l.text.startswith("(F1) z1[0][0] "))
    assert first.endswith(" − 0.5000 = -0.5000"), first  # row 0 of X is zeros: z = b
    assert next(l.text for l in lines if l.text.startswith("(F1) z1[0][1] ")).endswith(" + 0.2500 = 0.2500")
    tutorial = explain.explain(tutorial_network(), XOR_X, XOR_Y, 0.1)
    b1 = next(l.text for l in tutorial if l.text.startswith("(BP3) ∂E/∂b1[0] "))
    assert "= -0.0319 + 0.0304 + 0.0383 − 0.0298 = 0.0070" in b1  # a first term's sign is its own


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


def test_a_note_of_one_more_entry_says_entry():
    """The note counts in the singular when one entry is left out."""
    net = Network([2, 3, 1], seed=1)
    notes = [l.text for l in explain.explain(net, XOR_X, XOR_Y, 0.1, max_entries=11) if not l.tag]
    assert any(n.endswith("… and 1 more entry of z1 (--max-entries shows more)") for n in notes)
    assert not any("1 more entries" in n for n in notes)


def test_a_negative_zero_factor_is_in_parentheses_like_any_negative_one():
    """relu's derivative at a dead unit is 0, and a delta can be -0.0: never printed as ·-0.0000."""
    net = Network([2, 4, 1], "relu", "sigmoid", "bce", seed=4)
    text = "\n".join(l.text for l in explain.explain(net, XOR_X, XOR_Y, 0.1))
    assert "(-0.0000)" in text  # the case has such a factor, so the test can fail
    assert "·-" not in text and "− -" not in text and "+ -" not in text


def z_lines(out, k):
    return [line for line in out.splitlines() if line.startswith(f"(F1) z{k}[")]


def test_max_entries_lifts_the_32_entry_cap(capsys):
    """--max-entries N shows up to N entries of each matrix; the default stays 32 with a note."""
    argv = ["explain", "--layers", "2,10,1"]  # z1 is 4 samples × 10 units: 40 entries
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert len(z_lines(out, 1)) == 32 and "… and 8 more entries of z1" in out
    assert cli.main([*argv, "--max-entries", "40"]) == 0
    out = capsys.readouterr().out
    assert len(z_lines(out, 1)) == 40 and "more entries" not in out
    assert z_lines(out, 1)[-1].startswith("(F1) z1[3][9] = ")
    assert cli.main([*argv, "--max-entries", "10000"]) == 0  # more than there are: all of them
    assert capsys.readouterr().out == out
    assert cli.main([*argv, "--max-entries", "3"]) == 0
    out = capsys.readouterr().out
    assert len(z_lines(out, 1)) == 3 and "… and 37 more entries of z1" in out


@pytest.mark.parametrize("value, words", [
    ("0", "argument --max-entries: must be an integer from 1 to 10000, got 0"),
    ("-2", "argument --max-entries: must be an integer from 1 to 10000, got -2"),
    ("2.5", "argument --max-entries: must be an integer, got '2.5'"),
    ("ten", "argument --max-entries: must be an integer, got 'ten'"),
    ("10001", "argument --max-entries: must be an integer from 1 to 10000, got 10001"),
    ("9" * 200, "argument --max-entries: must be an integer from 1 to 10000, got an int of about "),
    ("9" * 5000, "argument --max-entries: must be an integer from 1 to 10000, got one of 5,000 digits"),
    ("x" * 100_000, "argument --max-entries: must be an integer, got 'xxxx"),
])
def test_a_bad_max_entries_exits_2_naming_it(capsys, value, words):
    """--max-entries takes a whole number from 1 to 10000: anything else is one line and exit 2."""
    code = cli.main(["explain", "--max-entries", value])
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    assert words in captured.err and captured.err.count("\n") == 1
    assert len(captured.err) < 300  # never the whole value back


@pytest.mark.parametrize("value, shown", [
    (0, "0"), (10_001, "10001"), (True, "True"), (2.0, "2.0"), ("8", "'8'"), (None, "None"),
])
def test_explain_refuses_a_bad_max_entries_naming_it(value, shown):
    """explain(max_entries=...) takes an int from 1 to MAX_ENTRIES, and says so."""
    with pytest.raises(ValueError) as info:
        explain.explain(tutorial_network(), XOR_X, XOR_Y, 0.1, max_entries=value)
    assert str(info.value) == f"explain: max_entries must be an int from 1 to 10000, got {shown}"
    assert explain.MAX_ENTRIES == 10_000


# -- the optimizer's step (purebp explain --optimizer) ---------------------------------------------
#
# The expected numbers come from the library's own state and trace: the new
# parameters from Network.trace(optimizer=...), the buffers after from a copy of
# the optimizer that took the same step, the buffers before from the optimizer
# itself. What the library keeps nowhere (m̂, v̂, v′, d, a decayed gradient) is
# recomputed here from docs/optimizers.md's equations.

OPTIMIZER_CASES = [
    ("sgd", lambda: optimizers.SGD(0.1), 0),
    ("sgd-weight-decay", lambda: optimizers.SGD(0.1, weight_decay=0.05), 0),
    ("momentum-first", lambda: optimizers.SGD(0.1, momentum=0.9), 0),
    ("momentum-dampening", lambda: optimizers.SGD(0.1, momentum=0.9, dampening=0.3), 2),
    ("nesterov", lambda: optimizers.SGD(0.2, momentum=0.8, nesterov=True, weight_decay=0.01), 1),
    ("rmsprop", lambda: optimizers.RMSprop(), 0),
    ("rmsprop-all", lambda: optimizers.RMSprop(0.01, alpha=0.9, eps=1e-6, weight_decay=0.1,
                                               momentum=0.5, centered=True), 2),
    ("adam", lambda: optimizers.Adam(0.01), 0),
    ("adam-step-3", lambda: optimizers.Adam(0.01, betas=(0.8, 0.99)), 2),
    ("adam-amsgrad-l2", lambda: optimizers.Adam(0.01, weight_decay=0.1, amsgrad=True), 3),
    ("adamw", lambda: optimizers.AdamW(0.01, weight_decay=0.1), 1),
    ("adamw-amsgrad", lambda: optimizers.AdamW(0.01, amsgrad=True), 2),
]
#: The tags each case must print (beyond BP3/BP4), so that a line left out is noticed.
CASE_TAGS = {
    "sgd": {"S"}, "sgd-weight-decay": {"WD", "S"}, "momentum-first": {"M", "S"},
    "momentum-dampening": {"M", "S"}, "nesterov": {"WD", "M", "N", "S"},
    "rmsprop": {"V", "R", "RM"}, "rmsprop-all": {"WD", "V", "C", "R", "RM"},
    "adam": {"A1", "A2", "A3", "A4"}, "adam-step-3": {"A1", "A2", "A3", "A4"},
    "adam-amsgrad-l2": {"WD", "A1", "A2", "A3", "AG", "A4"}, "adamw": {"DW", "A1", "A2", "A3", "A4"},
    "adamw-amsgrad": {"DW", "A1", "A2", "A3", "AG", "A4"},
}
ENTRY_LINE = re.compile(r"\((\w+)\) (?:(?P<entry>[Wb]\d+\[\d+\](?:\[\d+\])?)(?:: (?P<symbol>\S+)| ←)"
                        r"|1 − β(?P<beta>[12])\^t)")


def stepped(name):
    """(net, X, y, optimizer) with the optimizer's warm-up steps already taken on XOR."""
    make, before = next((make, before) for case, make, before in OPTIMIZER_CASES if case == name)
    net, optimizer = biased_network(), make()
    for _ in range(before):
        net.step(XOR_X, XOR_Y, optimizer=optimizer)
    return net, XOR_X, XOR_Y, optimizer


def flat_index(net):
    """Entry name (W1[0][2], b2[0]) → its index in the optimizer's flat lists: weights, then biases."""
    index, at = {}, 0
    for l in range(net.depth):
        for r in range(net.sizes[l]):
            for c in range(net.sizes[l + 1]):
                index[f"W{l + 1}[{r}][{c}]"] = at
                at += 1
    for l in range(net.depth):
        for c in range(net.sizes[l + 1]):
            index[f"b{l + 1}[{c}]"] = at
            at += 1
    return index


def flat(matrices):
    return [x for m in matrices for row in m for x in row]


def expected_step(net, X, y, optimizer):
    """What each line should end with: {(entry, symbol): value}, from the library's trace and state."""
    trace = net.trace(X, y, optimizer=optimizer)
    p = flat(net.weights) + flat(net.biases)
    g = flat(trace["gradients"]["weights"]) + flat(trace["gradients"]["biases"])
    new = flat(trace["updated"]["weights"]) + flat(trace["updated"]["biases"])
    twin = optimizer.copy()
    twin.update(p, g)
    after, t = twin.state, twin.state["step"]
    adam = isinstance(optimizer, optimizers.Adam)
    decoupled = isinstance(optimizer, optimizers.AdamW)
    wd = optimizer.weight_decay
    values = {}
    if adam:
        beta1, beta2 = optimizer.betas
        values[("1 − β1^t", None)], values[("1 − β2^t", None)] = 1 - beta1 ** t, 1 - beta2 ** t
    for name, i in flat_index(net).items():
        e = {}
        grad = g[i] + wd * p[i] if wd and not decoupled else g[i]  # (WD), L2
        e["g"], e["new"] = grad, new[i]
        if decoupled and wd:
            e["decayed"] = p[i] * (1 - optimizer.lr * wd)  # (DW)
        if isinstance(optimizer, optimizers.SGD) and optimizer.momentum:
            e["b"] = after["momentum_buffer"][i]
            if optimizer.nesterov:
                e["d"] = grad + optimizer.momentum * e["b"]  # (N)
        if isinstance(optimizer, optimizers.RMSprop):
            e["v"] = after["square_avg"][i]
            v = e["v"]
            if optimizer.centered:
                e["ḡ"] = after["grad_avg"][i]
                e["v′"] = v = e["v"] - e["ḡ"] * e["ḡ"]
            e["d"] = grad / (math.sqrt(v) + optimizer.eps)  # (R)
            if optimizer.momentum:
                e["b"] = after["momentum_buffer"][i]
        if adam:
            e["m"], e["v"] = after["exp_avg"][i], after["exp_avg_sq"][i]
            e["m̂"] = e["m"] / values[("1 − β1^t", None)]
            if optimizer.amsgrad:
                e["max_v"] = after["max_exp_avg_sq"][i]
                e["v̂"] = e["max_v"] / values[("1 − β2^t", None)]
            else:
                e["v̂"] = e["v"] / values[("1 − β2^t", None)]
        values.update({(name, symbol): value for symbol, value in e.items()})
    return values


def update_lines(lines):
    return [line for line in lines if line.section == "Update" and line.tag]


def line_key(line):
    """(entry, symbol) of an Update line: symbol "new" for the new parameter, "decayed" for (DW)."""
    match = ENTRY_LINE.match(line.text)
    assert match, line.text
    if match["beta"]:
        return (f"1 − β{match['beta']}^t", None)
    symbol = match["symbol"] or ("decayed" if line.tag == "DW" else "new")
    return (match["entry"], symbol)


@pytest.mark.parametrize("name", [case[0] for case in OPTIMIZER_CASES])
def test_every_printed_optimizer_number_is_the_librarys(name):
    """Each Update line ends with the library's bits: the trace's new parameter, the copy's buffers."""
    net, X, y, optimizer = stepped(name)
    values = expected_step(net, X, y, optimizer)
    lines = update_lines(explain.explain(net, X, y, None, precision=6, optimizer=optimizer))
    seen = set()
    for line in lines:
        key = line_key(line)
        assert key in values, line.text
        assert line.value == values[key] or (math.isnan(line.value) and math.isnan(values[key])), \
            (line.text, values[key])
        assert line.text.endswith(" = " + explain.number(values[key], 6)), line.text
        seen.add(key)
    assert seen == set(values)  # every entry (the 2-3-1 net shows all 13), every quantity
    tags = {line.tag for line in lines}
    assert tags - {"BP3", "BP4"} == CASE_TAGS[name]
    assert tags <= set(explain.OPTIMIZER_TAGS) | {"BP3", "BP4"}


@pytest.mark.parametrize("name", [case[0] for case in OPTIMIZER_CASES])
def test_each_buffer_line_puts_in_the_state_before_the_step(name):
    """The old value in a buffer's formula is optimizer.state's, before the step (0 at the start)."""
    net, X, y, optimizer = stepped(name)
    before = optimizer.state
    index = flat_index(net)
    keys = {"b": "momentum_buffer", "v": "square_avg" if isinstance(optimizer, optimizers.RMSprop)
            else "exp_avg_sq", "ḡ": "grad_avg", "m": "exp_avg", "max_v": "max_exp_avg_sq"}
    checked = 0
    for line in update_lines(explain.explain(net, X, y, None, precision=8, optimizer=optimizer)):
        entry, symbol = line_key(line)
        if symbol not in keys or " ← " not in line.text or "first step" in line.text:
            continue
        old = before[keys[symbol]][index[entry]] if keys[symbol] in before else 0.0
        middle = line.text.rsplit(" = ", 2)[1]
        if symbol == "max_v":
            assert middle.startswith(f"max({explain.number(old, 8)}, "), line.text
        else:
            assert middle.split(" ", 1)[0].endswith("·" + explain.as_factor(old, 8)), line.text
        checked += 1
    first_sgd_step = isinstance(optimizer, optimizers.SGD) and optimizer.state["step"] == 0
    if optimizer.buffers() and not first_sgd_step:  # then each of the 13 parameters has one
        assert checked >= 13
    else:
        assert checked == 0


def test_the_first_momentum_step_starts_the_buffer_at_the_gradient():
    """At t = 1 (M) says b ← g and prints g itself: no dampening, no zero start."""
    net, X, y, optimizer = biased_network(), XOR_X, XOR_Y, optimizers.SGD(0.1, momentum=0.9,
                                                                            dampening=0.5)
    lines = update_lines(explain.explain(net, X, y, None, optimizer=optimizer))
    g = flat(net.gradients(X, y)["weights"])[0]
    first = next(line for line in lines if line.tag == "M")
    assert first.text.startswith("(M) W1[0][0]: b ← g, the first step's gradient")
    assert first.value == g
    net.step(X, y, optimizer=optimizer)
    second = next(line for line in update_lines(explain.explain(net, X, y, None, optimizer=optimizer))
                  if line.tag == "M")
    assert "momentum·b + (1 − dampening)·g = 0.9·" in second.text and "(1 − 0.5)·" in second.text


def evaluate_step(expression):
    """Evaluate an optimizer line's printed arithmetic: numbers, · / − + ² ^ √ max and parentheses."""
    assert re.fullmatch(r"[0-9e.()+\-/ ·−²^√,max]+", expression), expression
    python = re.sub(r"√(\d[\d.]*(?:e[+-]\d+)?)", r"sqrt(\1)", expression)
    python = (python.replace("·", "*").replace("−", "-").replace("²", "**2").replace("^", "**"))
    return eval(python, {"__builtins__": {}}, {"sqrt": math.sqrt, "max": max})


@pytest.mark.parametrize("name", [case[0] for case in OPTIMIZER_CASES])
def test_the_printed_optimizer_arithmetic_gives_the_printed_result(name):
    """Evaluating each optimizer line's arithmetic, with its printed operands, gives its printed result."""
    net, X, y, optimizer = stepped(name)
    checked = 0
    for line in update_lines(explain.explain(net, X, y, None, precision=17, optimizer=optimizer)):
        parts = line.text.rsplit(" = ", 2)
        if len(parts) < 3 or "∂E" in parts[1]:
            continue  # (M) at t = 1 and the gradient lines: nothing to compute
        rel = rounding_bound(parts[1], 17)
        assert evaluate_step(parts[1]) == pytest.approx(line.value, rel=rel, abs=1e-300), line.text
        checked += 1
    assert checked >= 13


def rounding_bound(expression, precision):
    """A relative bound on what rounding the printed operands to ``precision`` can do to a result.

    A fixed-point operand x is off by at most ½·10^−precision, a relative error
    of that over |x|; a scientific one by ½·10^−precision of itself. Products,
    quotients and roots add up relative errors (a square doubles one, a root
    halves it), and the sums printed here add terms of one sign or subtract a
    smaller one (v − ḡ² ≥ 0.9·v for these cases), so 4·Σ bounds the result's;
    the float arithmetic of evaluating adds a few ulps.
    """
    total = 0.0
    for text in re.findall(r"\d[\d.]*(?:e[+-]\d+)?", expression):
        x = abs(float(text))
        if x == 0 or text.isdigit():  # 0 (an exact operand) and exponents like the t of β^t
            continue
        total += 0.5 * 10.0 ** -precision * (1.0 if "e" in text else 1.0 / x)
    return 4 * total + 1e-14


def test_explaining_an_optimizer_changes_neither_it_nor_the_network():
    """The step is a copy's: the optimizer's state and the network's parameters are as they were."""
    net, X, y, optimizer = stepped("adam-amsgrad-l2")
    state = optimizer.copy().state
    weights = [[row[:] for row in w] for w in net.weights]
    biases = [[row[:] for row in b] for b in net.biases]
    explain.explain(net, X, y, None, optimizer=optimizer)
    assert optimizer.state == state and optimizer.state["step"] == 3
    assert net.weights == weights and net.biases == biases


def test_sgd_explains_the_same_numbers_as_gradient_descent():
    """--optimizer sgd's (S) lines end with the (GD) lines' numbers: SGD(lr) is the tutorial's step."""
    net = tutorial_network()
    gd = [line for line in explain.explain(net, XOR_X, XOR_Y, 0.1) if line.tag == "GD"]
    sgd = [line for line in explain.explain(net, XOR_X, XOR_Y, None, optimizer=optimizers.SGD(0.1))
           if line.tag == "S"]
    assert [line.value for line in sgd] == [line.value for line in gd] and len(gd) == 17
    assert [line.text.split(" ← ")[0][4:] for line in sgd] == [line.text.split(" ← ")[0][5:] for line in gd]


def test_optimizer_tags_are_the_codes_and_the_documents():
    """explain's optimizer tags are exactly the ids in purebp/optimizers.py's comments."""
    source = (pathlib.Path(ROOT) / "purebp" / "optimizers.py").read_text("utf-8")
    assert set(re.findall(r"# \((\w+)\)", source)) == set(explain.OPTIMIZER_TAGS)


def test_the_header_names_the_optimizer_and_the_step():
    """The header says which optimizer, which step, and points to both documents."""
    net, X, y, optimizer = stepped("adam-step-3")
    text = explain.run(net, X, y, None, "xor", optimizer=optimizer, step=3)["text"]
    assert text.startswith("Step 3 of Adam on xor, every number as purebp computes it.\n")
    assert "optimizer Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-08, weight_decay=0.0, amsgrad=False)" in text
    assert "Steps 1 to 2 were taken silently on the same samples" in text
    assert "'purebp docs backprop' and 'purebp docs optimizers'" in text
    assert "(A3) 1 − β1^t = 1 − 0.8^3 = 0.4880" in text  # 1 − 0.512


@pytest.mark.parametrize("call, error, message", [
    (lambda: explain.explain(tutorial_network(), XOR_X, XOR_Y, None), TypeError,
     "explain: learning_rate must be a float, or optimizer one of purebp.optimizers', got neither"),
    (lambda: explain.explain(tutorial_network(), XOR_X, XOR_Y, 0.1, optimizer=optimizers.Adam()),
     ValueError, "explain: learning_rate must be None with an optimizer (its lr is the step's),"
                 " got 0.1 and Adam(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0,"
                 " amsgrad=False)"),
    (lambda: explain.explain(tutorial_network(), XOR_X, XOR_Y, None, optimizer="adam"), TypeError,
     "explain: optimizer must be one of purebp.optimizers' SGD, RMSprop, Adam, AdamW, got str 'adam'"),
    (lambda: explain.explain(tutorial_network(), XOR_X, XOR_Y, None,
                             optimizer=optimizers.Optimizer(0.1)), TypeError,
     "explain: optimizer must be an SGD, RMSprop, Adam or AdamW of purebp.optimizers, got"
     " Optimizer(lr=0.1)"),
])
def test_a_bad_optimizer_argument_is_refused_naming_it(call, error, message):
    """explain takes a learning rate or one of the four optimizers, and says so."""
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message


def test_an_optimizer_of_another_network_is_refused_before_anything_changes():
    """An optimizer that stepped a network of another size is refused by the trace, and left as it was."""
    optimizer = optimizers.Adam()
    Network([2, 2, 1], seed=0).step(XOR_X, XOR_Y, optimizer=optimizer)
    state = optimizer.copy().state
    with pytest.raises(ValueError, match="optimizer holds state for 9 parameters"):
        explain.explain(tutorial_network(), XOR_X, XOR_Y, None, optimizer=optimizer)
    assert optimizer.state == state


# -- purebp explain --optimizer, --step --------------------------------------------------------------

def cli_text(capsys, *argv):
    assert cli.main(["explain", *argv]) == 0
    return capsys.readouterr().out


def equations(text):
    """The printed equations of an explanation (its tagged lines), without headers and notes."""
    return [line for line in text.splitlines() if line.startswith("(")]


@pytest.mark.parametrize("choice, built", [
    ("sgd", optimizers.SGD(0.1)),
    ("momentum", optimizers.SGD(0.01, momentum=0.9)),  # lr/(1 − 0.9) = sgd's 0.1 again
    ("nesterov", optimizers.SGD(0.01, momentum=0.9, nesterov=True)),
    ("rmsprop", optimizers.RMSprop(0.01)),
    ("adam", optimizers.Adam(0.001)),
    ("adamw", optimizers.AdamW(0.001, weight_decay=0.01)),
])
def test_each_optimizer_choice_explains_its_optimizer(capsys, choice, built):
    """--optimizer NAME explains its optimizer with torch's defaults (momentum's 0.9), as explain() does."""
    out = cli_text(capsys, "--optimizer", choice)
    assert f"optimizer {built!r}, 4 samples." in out
    lines = explain.explain(tutorial_network(), XOR_X, XOR_Y, None, optimizer=built)
    assert equations(out) == [line.text for line in lines if line.tag]


def test_the_options_reach_the_optimizer(capsys):
    """--lr, --beta1, --beta2, --eps, --weight-decay, --momentum set the arguments they name."""
    out = cli_text(capsys, "--optimizer", "adam", "--lr", "0.01", "--beta1", "0.5", "--eps", "1e-6",
                   "--weight-decay", "0.1")
    assert "Adam(lr=0.01, betas=(0.5, 0.999), eps=1e-06, weight_decay=0.1, amsgrad=False)" in out
    out = cli_text(capsys, "--optimizer", "adamw", "--beta2", "0.9")
    assert "AdamW(lr=0.001, betas=(0.9, 0.9), eps=1e-08, weight_decay=0.01, amsgrad=False)" in out
    out = cli_text(capsys, "--optimizer", "rmsprop", "--momentum", "0.5", "--eps", "0.001")
    assert "RMSprop(lr=0.01, alpha=0.99, eps=0.001, weight_decay=0.0, momentum=0.5, centered=False)" in out
    out = cli_text(capsys, "--optimizer", "nesterov", "--momentum", "0.5", "--weight-decay", "0.2")
    assert "SGD(lr=0.01, momentum=0.5, dampening=0.0, weight_decay=0.2, nesterov=True)" in out


@pytest.mark.parametrize("argv", [
    ["--optimizer", "adam", "--step", "2"],
    ["--optimizer", "momentum", "--step", "3", "--layers", "2,3,1", "--activation", "tanh"],
    ["--step", "2"],  # gradient descent's second step
])
def test_step_t_explains_the_step_after_t_minus_1_silent_ones(capsys, argv):
    """--step T prints what explain gives for the network and optimizer after T − 1 steps, and says so."""
    out = cli_text(capsys, *argv)
    options = dict(zip(argv[::2], argv[1::2]))
    steps = int(options["--step"])
    if "--layers" in options:
        net = Network([2, 3, 1], "tanh", seed=0)
    else:
        net = tutorial_network()
    optimizer = {"adam": optimizers.Adam(0.001), "momentum": optimizers.SGD(0.01, momentum=0.9),
                 None: None}[options.get("--optimizer")]
    for _ in range(steps - 1):
        net.step(XOR_X, XOR_Y, 0.1 if optimizer is None else None, optimizer=optimizer)
    lines = explain.explain(net, XOR_X, XOR_Y, 0.1 if optimizer is None else None,
                            optimizer=optimizer)
    assert equations(out) == [line.text for line in lines if line.tag]
    assert out.startswith(f"Step {steps} of ")
    assert f"Step{'s' if steps > 2 else ''} 1{f' to {steps - 1}' if steps > 2 else ''} " in out
    if optimizer is not None:
        assert optimizer.state["step"] == steps - 1


def test_adams_second_step_has_other_bias_corrections(capsys):
    """At --step 2 the corrections are 1 − β^2, and the first moment starts from the first step's."""
    out = cli_text(capsys, "--optimizer", "adam", "--step", "2")
    assert "(A3) 1 − β1^t = 1 − 0.9^2 = 0.1900" in out and "(A3) 1 − β2^t = 1 − 0.999^2 = 0.0020" in out
    first = cli_text(capsys, "--optimizer", "adam")
    assert "(A3) 1 − β1^t = 1 − 0.9^1 = 0.1000" in first and "0.9·0.0000 + " in first
    assert "0.9·0.0000 + " not in out.split("Update")[1]  # m is no longer zero anywhere


def test_step_1_without_optimizer_is_the_default_output(capsys):
    """--step 1 is the default: the same bytes as plain ``purebp explain``."""
    assert cli_text(capsys, "--step", "1") == cli_text(capsys)


def test_a_case_file_can_be_explained_with_an_optimizer(capsys, tmp_path):
    """--case with --optimizer: the case's network and data, the optimizer's step with its default lr."""
    case = next(c for c in vectors.curated() if c["id"] == "relu-at-zero")
    path = str(tmp_path / "case.json")
    vectors.write(path, [case])
    out = cli_text(capsys, "--case", path, "--optimizer", "adamw")
    assert "optimizer AdamW(lr=0.001," in out and "(DW) W1[0][0] ← W1[0][0]·(1 − lr·weight_decay)" in out


@pytest.mark.parametrize("argv, words", [
    (["--beta1", "0.5"], "--optimizer must be given for --beta1, got none"),
    (["--weight-decay", "0.1"], "--optimizer must be given for --weight-decay"),
    (["--optimizer", "sgd", "--momentum", "0.5"],
     "--momentum does not apply to --optimizer sgd (plain gradient descent, the default);"
     " it applies to momentum, nesterov, rmsprop"),
    (["--optimizer", "momentum", "--eps", "0.001"],
     "--eps does not apply to --optimizer momentum (SGD with momentum); it applies to rmsprop,"
     " adam, adamw"),
    (["--optimizer", "rmsprop", "--beta2", "0.9"],
     "--beta2 does not apply to --optimizer rmsprop (RMSprop); it applies to adam, adamw"),
    (["--optimizer", "nesterov", "--momentum", "0"],
     "--momentum must be positive for --optimizer nesterov"),
    (["--optimizer", "adam", "--beta2", "1"], "--beta2 must lie in [0, 1), got 1.0"),
    (["--optimizer", "adam", "--beta1", "nan"], "--beta1 must be finite, got nan"),
    (["--optimizer", "adam", "--eps", "0"], "--eps must be positive, got 0.0"),
    (["--optimizer", "rmsprop", "--momentum", "-1"], "--momentum must not be negative, got -1.0"),
    (["--optimizer", "adamw", "--weight-decay", "inf"], "--weight-decay must be finite, got inf"),
    (["--optimizer", "adamw", "--lr", "-0.1"], "argument --lr: must be a finite number ≥ 0"),
    (["--optimizer", "adagrad"], "argument --optimizer: invalid choice: 'adagrad'"),
    (["--step", "0"], "argument --step: must be at least 1, got 0"),
    (["--step", "two"], "argument --step: must be an integer, got 'two'"),
])
def test_bad_optimizer_options_are_one_line_and_exit_2(capsys, argv, words):
    """A bad or misplaced optimizer option: exit 2, one line naming it, nothing printed on stdout."""
    code = cli.main(["explain", *argv])
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    assert words in captured.err and captured.err.count("\n") == 1, captured.err
    assert "Traceback" not in captured.err


def test_the_step_budget_counts_the_steps_before(monkeypatch, capsys):
    """--step T is refused before any step when T steps would take longer than the time budget."""
    monkeypatch.setenv("PUREBP_TIME_BUDGET", "1s")
    code = cli.main(["explain", "--optimizer", "adam", "--step", str(10 ** 9)])
    err = capsys.readouterr().err
    assert code == 2 and "after 999,999,999 steps" in err and "time budget of 1 s" in err


@pytest.mark.parametrize("document", ["README.md", "purebp/docs/optimizers.md"])
def test_the_documents_adam_lines_are_what_explain_prints(capsys, document):
    """The lines quoted from ``purebp explain --optimizer adam --step 2`` are its output, verbatim."""
    text = (pathlib.Path(ROOT) / document).read_text("utf-8")
    quoted = [line for line in text.splitlines() if re.match(r"\((A\d|BP4)\) (1 − β|W2\[0\]\[0\])", line)]
    assert len(quoted) >= 1
    out = cli_text(capsys, "--optimizer", "adam", "--step", "2").splitlines()
    for line in quoted:
        assert line in out, line
