"""Tests for purebp.study.explain_layers: one step of a small CNN, every equation with its
numbers. The printed arithmetic is evaluated again here and must give the printed result;
the update is that of the same model stepped apart; the command prints every section."""

import re

import pytest

from purebp import cli
from purebp.datasets import strokes
from purebp.layers import AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, Tanh, manual_seed
from purebp.layers.tensor import flat
from purebp.optimizers import SGD
from purebp.study.explain_layers import explain_model


def model(seed=0, pool=MaxPool2d):
    manual_seed(seed)
    return Sequential(Conv2d(1, 2, 3, stride=(1, 2), padding=1), ReLU(), pool(2),
                      Flatten(), Linear(16, 4), Tanh(), Linear(4, 4), loss="cross_entropy",
                      seed=seed)


def evaluate(expression):
    """The printed arithmetic of a line as a number (test code: eval of our own output)."""
    text = expression.replace("·", "*").replace("−", "-")
    assert re.fullmatch(r"[-+*/().0-9e ]+", text), text
    return eval(text)


@pytest.mark.parametrize("pool", [MaxPool2d, AvgPool2d])
def test_the_printed_arithmetic_gives_the_printed_result(pool):
    X, y = strokes(3, seed=2)
    lines = explain_model(model(pool=pool), X, y, 0.1, precision=12, max_terms=10_000,
                          max_entries=6)
    checked = 0
    for line in lines:
        if line.tag in ("C1", "D1", "C2", "C3", "C4", "D2", "D3", "D4", "AP1", "S"):
            expression = line.text.rsplit(" = ", 2)[1]
            assert evaluate(expression) == pytest.approx(line.value, rel=1e-9, abs=1e-11), line.text
            checked += 1
        assert line.text.endswith(f"= {line.value:.12f}") or line.tag == "" or \
            "e" in line.text.rsplit("= ", 1)[1]
    assert checked > 40


def test_the_update_is_the_step_the_same_model_takes_apart():
    X, y = strokes(2, seed=1)
    explained, apart = model(3), model(3)
    lines = explain_model(explained, X, y, 0.05, max_entries=10_000)
    apart.step(X, y, SGD(0.05))
    assert explained.state_dict() == apart.state_dict()
    updates = [line for line in lines if line.tag == "S"]
    params = apart.parameters()
    assert len(updates) == sum(len(flat(v)) for v in params.values())
    first = updates[0]
    assert first.value == params["0.weight"][0][0][0][0]


def test_max_pooling_says_which_entries_get_the_gradient():
    X, y = strokes(1, seed=4)
    lines = explain_model(model(), X, y, 0.1, max_entries=10_000)
    routed = [line for line in lines if line.tag == "MP2"]
    chosen = [line for line in routed if "the window's largest is this entry" in line.text]
    assert len(chosen) == 2 * 4 * 2 and all("no window chose" in line.text and line.value == 0
                                            for line in routed if line not in chosen)


def test_purebp_explain_model_prints_each_section_and_tag(capsys):
    code = cli.main(["explain", "--model", "Conv2d(1, 2, 3, padding=1), ReLU(), MaxPool2d(2),"
                     " Flatten(), Linear(32, 4)", "--samples", "2", "--max-entries", "2"])
    out = capsys.readouterr().out
    assert code == 0
    for heading in ("Forward pass", "Loss", "Backward pass", "Update"):
        assert f"\n{heading}\n" in out
    for tag in ("C1", "E1", "MP1", "FL", "D1", "L", "D3", "D4", "D2", "MP2", "E2", "C2", "C3",
                "C4", "S"):
        assert f"\n({tag}) " in out, tag


@pytest.mark.parametrize("argv, message", [
    (["--data", "strokes"], "--data strokes is a set of images: it takes --model"),
    (["--model", "Linear(2, 1)", "--optimizer", "adam"], "--optimizer does not apply to --model"),
    (["--model", "Linear(3, 1)", "--data", "xor"], "--model on --data xor: Linear: input must be"),
    (["--model", "Linear(2, 1)", "--samples", "65"], "--samples must be at most 64 with --model"),
])
def test_explain_model_mistakes_are_messages(capsys, argv, message):
    code = cli.main(["explain", *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


@pytest.mark.parametrize("given, shown", [([], "Loss mse,"), (["--loss", "half_sse"], "Loss half_sse,")])
def test_explain_model_takes_loss_when_given_even_the_networks_default(capsys, given, shown):
    code = cli.main(["explain", "--model", "Linear(2, 1)", "--data", "xor", "--samples", "2",
                     "--max-entries", "1", *given])
    assert code == 0 and shown in capsys.readouterr().out
