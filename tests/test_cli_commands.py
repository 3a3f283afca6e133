"""Tests for purebp.cli.train and purebp.cli.vanishing: ``purebp train`` and ``purebp vanishing``.

The printed numbers are checked against independent recomputations: the
same Network built and trained here with log=None, its predictions
thresholded and its loss summed by hand; the vanishing table's norms
recomputed from Network.gradients with a hand-written Frobenius norm. Then
the log and its options, CSV input, the one-hot conversion, and every usage
mistake: exit 2, a message naming the argument, never a traceback.
"""

import io
import json
import math
import os
import pathlib
import re
import shlex
import signal
import stat
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from purebp import cli
from purebp.cli import train
from purebp.datasets import moons
from purebp.fast import loop as fast_loop
from purebp.files import model as persistence
from purebp.network import Network

XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_Y = [[0.0], [1.0], [1.0], [0.0]]
LOG_LINE = re.compile(r"Epoch (\d+), Loss: \d+\.\d{4}")
ACCURACY = re.compile(r"Accuracy: (\d+\.\d)% \((\d+) of (\d+)\)")
FINAL = re.compile(r"Final loss \((\w+)\): (\d+\.\d{6})")


def run_main(capsys, *argv):
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_csv(tmp_path, rows, header="", name="data.csv"):
    path = tmp_path / name
    path.write_text(header + "".join(",".join(map(str, row)) + "\n" for row in rows),
                    encoding="utf-8")
    return str(path)


def hand_half_sse(y, y_hat):
    """½ Σ (ŷ − y)², by loops."""
    return 0.5 * sum((p - t) ** 2 for t_row, p_row in zip(y, y_hat) for t, p in zip(t_row, p_row))


# -- purebp train: the printed result against a recomputation ---------------------


def test_train_xor_defaults_report_the_loss_and_accuracy_of_the_same_network(capsys):
    """Default train on xor ends with the final half_sse and the accuracy a 2-8-1 net reaches."""
    code, out, err = run_main(capsys, "train")
    assert code == 0 and err == ""
    *_, final_line, accuracy_line = out.splitlines()

    net = Network([2, 8, 1], "sigmoid", None, "half_sse", "normal", 0)
    net.train(XOR_X, XOR_Y, 1000, 0.1, log=None)
    y_hat = net.forward(XOR_X)
    right = sum((p > 0.5) == (t == 1.0) for (p,), (t,) in zip(y_hat, XOR_Y))

    final = FINAL.fullmatch(final_line)
    assert final and final.group(1) == "half_sse"
    assert abs(float(final.group(2)) - hand_half_sse(XOR_Y, y_hat)) <= 5e-7
    accuracy = ACCURACY.fullmatch(accuracy_line)
    assert accuracy and accuracy.groups() == (f"{100 * right / 4:.1f}", str(right), "4")


def test_train_logs_the_untrained_networks_loss_at_epoch_0(capsys):
    """The first log line shows the loss of the freshly initialised network."""
    _, out, _ = run_main(capsys, "train", "--epochs", "3", "--seed", "5")
    fresh = Network([2, 8, 1], seed=5)
    expected = hand_half_sse(XOR_Y, fresh.forward(XOR_X))
    assert f"Epoch 0, Loss: {expected:.4f}" in out.splitlines()


def test_train_moons_deep_tanh_bce_reaches_95_percent(capsys):
    """A 2-16-16-1 tanh network with bce learns moons to at least 95% accuracy."""
    code, out, err = run_main(capsys, "train", "--data", "moons", "--layers", "2,16,16,1",
                              "--activation", "tanh", "--loss", "bce", "--epochs", "300",
                              "--lr", "0.5", "--batch-size", "32", "--seed", "1", "--quiet")
    assert code == 0 and err == ""
    percent, right, total = ACCURACY.fullmatch(out.splitlines()[-1]).groups()
    assert int(total) == 200 and int(right) >= 190
    assert float(percent) == round(100 * int(right) / 200, 1)


def test_two_identical_runs_print_identical_output_and_seeds_matter(capsys):
    """The same options print the same text; another seed prints another."""
    argv = ["train", "--data", "moons", "--n", "40", "--epochs", "20", "--batch-size", "8",
            "--log-every", "1"]
    first = run_main(capsys, *argv, "--seed", "3")
    second = run_main(capsys, *argv, "--seed", "3")
    other = run_main(capsys, *argv, "--seed", "4")
    assert first == second and first[0] == 0
    assert other[1] != first[1]


# -- purebp train: the log ------------------------------------------------------------


def test_quiet_prints_only_the_final_loss_and_accuracy(capsys):
    """--quiet leaves exactly two lines: the final loss, then the accuracy."""
    code, out, _ = run_main(capsys, "train", "--epochs", "50", "--quiet")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert FINAL.fullmatch(lines[0]) and ACCURACY.fullmatch(lines[1])


@pytest.mark.parametrize("epochs, log_every, expected", [
    (25, 7, [0, 7, 14, 21]),
    (5, 1, [0, 1, 2, 3, 4]),
    (10, 100, [0]),
    (50, None, list(range(0, 50, 5))),   # default: a tenth of --epochs
    (7, None, list(range(7))),           # a tenth rounds down to 0, so every epoch
])
def test_log_lines_appear_every_log_every_epochs(capsys, epochs, log_every, expected):
    """Log lines match 'Epoch N, Loss: x.xxxx' and come at epochs 0, k, 2k, … < --epochs."""
    argv = ["train", "--epochs", str(epochs)]
    if log_every is not None:
        argv += ["--log-every", str(log_every)]
    code, out, _ = run_main(capsys, *argv)
    log = [line for line in out.splitlines() if line.startswith("Epoch")]
    assert code == 0
    assert all(LOG_LINE.fullmatch(line) for line in log)
    assert [int(LOG_LINE.fullmatch(line).group(1)) for line in log] == expected


# -- purebp train: CSV files and the one-hot conversion ------------------------------


def test_csv_file_trains_exactly_like_the_named_data_set(tmp_path, capsys):
    """XOR from a CSV file with a header gives the same log and result as --data xor."""
    path = write_csv(tmp_path, [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]], header="a,b,y\n")
    code, from_file, err = run_main(capsys, "train", "--data", path, "--targets", "1",
                                    "--epochs", "40")
    _, named, _ = run_main(capsys, "train", "--data", "xor", "--epochs", "40")
    assert code == 0 and err == ""
    assert path in from_file.splitlines()[0]
    assert from_file.splitlines()[1:] == named.splitlines()[1:]


def test_csv_with_two_real_targets_trains_and_reports_no_accuracy(tmp_path, capsys):
    """--targets 2 gives a net ending in 2 outputs; targets not all 0/1 get no accuracy line."""
    path = write_csv(tmp_path, [[0.1, 0.2, 0.25, 0.5], [0.3, 0.4, 0.75, 0.5],
                                [0.5, 0.6, 0.5, 0.125]])
    code, out, err = run_main(capsys, "train", "--data", path, "--targets", "2",
                              "--epochs", "5")
    assert code == 0 and err == ""
    assert out.splitlines()[0].startswith("Network([2, 8, 2]")
    assert FINAL.fullmatch(out.splitlines()[-1])
    assert "Accuracy" not in out


def test_cross_entropy_turns_one_label_column_into_one_hot_targets(capsys):
    """cross_entropy with one 0/1 column and --layers ending in 2 trains on one-hot targets."""
    code, out, err = run_main(capsys, "train", "--loss", "cross_entropy", "--layers", "2,4,2",
                              "--epochs", "200", "--lr", "0.5", "--seed", "2")
    assert code == 0 and err == ""

    one_hot = [[1.0 - t, t] for (t,) in XOR_Y]
    net = Network([2, 4, 2], "sigmoid", "softmax", "cross_entropy", "normal", 2)
    net.train(XOR_X, one_hot, 200, 0.5, log=None)
    y_hat = net.forward(XOR_X)
    right = sum(row.index(max(row)) == int(t) for row, (t,) in zip(y_hat, XOR_Y))
    expected_loss = sum(-math.log(row[int(t)]) for row, (t,) in zip(y_hat, XOR_Y)) / 4

    *_, final_line, accuracy_line = out.splitlines()
    assert abs(float(FINAL.fullmatch(final_line).group(2)) - expected_loss) <= 5e-7
    assert ACCURACY.fullmatch(accuracy_line).group(2, 3) == (str(right), "4")


@pytest.mark.parametrize("label", ["-1", "0.5", "1.5"])
def test_cross_entropy_label_outside_the_classes_exits_2(tmp_path, capsys, label):
    """A label that is not a class index 0, 1, 2, ... exits 2 with one line naming the targets."""
    path = write_csv(tmp_path, [[0, 0, 0], [0, 1, 1], [1, 0, label]])
    code, out, err = run_main(capsys, "train", "--data", path, "--loss", "cross_entropy",
                              "--layers", "2,4,2", "--epochs", "1")
    assert code == 2 and out == ""
    assert err.startswith("purebp: error: targets: row 2") and err.count("\n") == 1
    assert "Traceback" not in err


def test_cross_entropy_on_class_indices_gets_one_output_per_class(capsys):
    """Without --layers, cross_entropy on xor's 0/1 column builds 2-8-2 and trains on one-hot rows."""
    code, out, err = run_main(capsys, "train", "--data", "xor", "--loss", "cross_entropy",
                              "--epochs", "60", "--lr", "0.5", "--seed", "2")
    assert code == 0 and err == ""
    assert out.startswith("Network([2, 8, 2], activation='sigmoid', output_activation='softmax'")

    net = Network([2, 8, 2], "sigmoid", "softmax", "cross_entropy", "normal", 2)
    net.train(XOR_X, [[1.0 - t, t] for (t,) in XOR_Y], 60, 0.5, log=None)
    expected = sum(-math.log(row[int(t)]) for row, (t,) in zip(net.forward(XOR_X), XOR_Y)) / 4
    assert abs(float(FINAL.fullmatch(out.splitlines()[-2]).group(2)) - expected) <= 5e-7


def test_cross_entropy_counts_the_classes_of_a_csv_file(tmp_path, capsys):
    """Class indices 0, 1, 2 in a CSV file give three outputs."""
    path = write_csv(tmp_path, [[0, 0, 0], [0, 1, 1], [1, 0, 2], [1, 1, 2]])
    code, out, _ = run_main(capsys, "train", "--data", path, "--loss", "cross_entropy",
                            "--epochs", "3", "--quiet")
    assert code == 0 and ACCURACY.fullmatch(out.splitlines()[-1])
    code, out, _ = run_main(capsys, "train", "--data", path, "--loss", "cross_entropy",
                            "--epochs", "1")
    assert out.startswith("Network([2, 8, 3]")


@pytest.mark.parametrize(("data", "layers", "classes"), [
    ("xor", "2,4,1", 2), ("xor", "2,4,3", 2), ("three", "2,4,2", 3)])
def test_layers_that_do_not_match_the_classes_are_refused(tmp_path, capsys, data, layers,
                                                          classes):
    """With cross_entropy on class indices, an output size other than the class count exits 2."""
    if data == "three":
        data = write_csv(tmp_path, [[0, 0, 0], [0, 1, 1], [1, 0, 2]])
    code, out, err = run_main(capsys, "train", "--data", data, "--loss", "cross_entropy",
                              "--layers", layers, "--epochs", "1")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert (f"--layers must end with {classes}, one output per class, for --loss cross_entropy"
            f" (the targets are class indices 0 to {classes - 1}), got {layers}") in err


def test_cross_entropy_with_a_single_class_is_refused(tmp_path, capsys):
    """Targets that are all class 0 leave nothing for a softmax to choose: exit 2, saying so."""
    path = write_csv(tmp_path, [[0, 0, 0], [0, 1, 0]])
    code, _, err = run_main(capsys, "train", "--data", path, "--loss", "cross_entropy")
    assert code == 2 and "targets must hold at least two classes for --loss cross_entropy" in err


# -- purebp train: usage mistakes -------------------------------------------------------


@pytest.mark.parametrize("argv, words", [
    (["--data", "nosuch"], "--data: unknown data set 'nosuch'"),
    (["--data", "moons", "--bits", "3"], "--bits does not apply to --data moons"),
    (["--data", "parity", "--n", "8"], "--n does not apply to --data parity"),
    (["--noise", "0.1"], "--noise does not apply to --data xor"),
    (["--layers", "3,4,1"], "--layers must start with 2 and end with 1 (the data has 2 inputs"
     " and 1 targets), got 3,4,1"),
    (["--layers", "2,4,3"], "--layers must start with 2 and end with 1 (the data has 2 inputs"
     " and 1 targets), got 2,4,3"),
    (["--loss", "bce", "--output-activation", "identity"], "output_activation"),
    (["--loss", "half_sse", "--output-activation", "softmax"], "output_activation"),
    (["--data", "{tmp}/missing.csv"], "{tmp}/missing.csv"),
    (["--data", "{csv}", "--n", "10"], "--n applies to generated data sets only"),
    (["--data", "{csv}", "--targets", "3"],
     "targets must be less than the 3 columns found, to leave an input column, got 3"),
])
def test_train_mistakes_exit_2_with_one_error_line(tmp_path, capsys, argv, words):
    """A mistake found after parsing exits 2 with one 'purebp: error:' line naming it."""
    csv_path = write_csv(tmp_path, [[0, 1, 1], [1, 1, 0]])
    argv = [a.format(tmp=tmp_path, csv=csv_path) for a in argv]
    code, out, err = run_main(capsys, "train", "--epochs", "1", *argv)
    assert code == 2 and out == ""
    assert err.startswith("purebp: error: ") and err.count("\n") == 1
    assert words.format(tmp=tmp_path) in err and "Traceback" not in err


@pytest.mark.parametrize("argv, option", [
    (["--layers", "2,x,1"], "--layers"),
    (["--layers", "2"], "--layers"),
    (["--layers", "2,0,1"], "--layers"),
    (["--activation", "softmax"], "--activation"),
    (["--loss", "hinge"], "--loss"),
    (["--init", "zeros"], "--init"),
    (["--noise", "-1"], "--noise"),
    (["--noise", "nan"], "--noise"),
    (["--n", "0"], "--n"),
    (["--epochs", "-1"], "--epochs"),
    (["--lr", "inf"], "--lr"),
    (["--batch-size", "0"], "--batch-size"),
    (["--targets", "0"], "--targets"),
    (["--seed", "1.5"], "--seed"),
])
def test_train_bad_option_values_are_usage_errors(capsys, argv, option):
    """A bad option value: one line on stderr naming the option, exit 2."""
    code, out, err = run_main(capsys, "train", *argv)
    assert code == 2 and out == ""
    assert err.startswith(f"purebp train: error: argument {option}")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_targets_with_a_named_data_set_is_refused(capsys):
    """--targets applies to CSV files only; with --data xor it is a usage mistake."""
    code, _, err = run_main(capsys, "train", "--data", "xor", "--targets", "3", "--epochs", "1")
    assert code == 2 and "--targets" in err


@pytest.mark.parametrize("command", ["train", "vanishing"])
def test_help_documents_every_option(capsys, command):
    """--help exits 0 and lists every option of the command."""
    code, out, _ = run_main(capsys, command, "--help")
    options = {
        "train": ["--data", "--targets", "--samples", "--noise", "--bits", "--layers", "--activation",
                  "--output-activation", "--loss", "--init", "--epochs", "--lr",
                  "--batch-size", "--seed", "--log-every", "--quiet"],
        "vanishing": ["--depth", "--width", "--samples", "--seed", "--configs"],
    }[command]
    assert code == 0 and out.startswith(f"usage: purebp {command}")
    for option in options:
        assert option in out


# -- purebp vanishing --------------------------------------------------------------------


def parse_table(out):
    """Return (column names, {row label: [cell strings]}) of the vanishing table."""
    lines = out.splitlines()
    names = lines[1].split()[1:]
    rows = {}
    for line in lines[2:]:
        if line.startswith("W"):
            words = line.split()
            rows[" ".join(words[:-len(names)])] = words[-len(names):]
    return names, rows


def half_unit_in_last_place(printed):
    """Half a unit in the last printed digit of a number like 3.92e-03."""
    mantissa, exponent = printed.split("e")
    decimals = len(mantissa.split(".")[1])
    return 0.5 * 10.0 ** (int(exponent) - decimals)


def test_vanishing_prints_a_row_per_weight_layer_and_the_ratio(capsys):
    """--depth 8: a title, a header, rows W0…W8 (the last marked out), then 'W0 / out'."""
    code, out, err = run_main(capsys, "vanishing", "--depth", "8", "--width", "16")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("Gradient norm") and "8 hidden layers of 16" in lines[0]
    assert lines[1].split()[0] == "layer"
    assert lines[-1].startswith("A ratio far below 1") and len(lines) == 2 + 9 + 1 + 1
    names, rows = parse_table(out)
    assert list(rows) == [f"W{l}" for l in range(8)] + ["W8 (out)", "W0 / out"]
    assert "sigmoid:normal" in names
    assert all(len(cells) == len(names) for cells in rows.values())


def test_sigmoid_with_normal_init_shows_the_vanishing_gradient(capsys):
    """With sigmoid:normal at depth 8, the first layer's norm is ≥ 10× below the output's."""
    _, out, _ = run_main(capsys, "vanishing", "--depth", "8", "--width", "16",
                         "--configs", "sigmoid:normal")
    _, rows = parse_table(out)
    first, last = float(rows["W0"][0]), float(rows["W8 (out)"][0])
    assert 0 < 10 * first <= last


def test_vanishing_norms_equal_an_independent_recomputation(capsys):
    """Every printed norm and ratio equals ‖∂bce/∂W‖ recomputed from Network.gradients."""
    depth, width, samples, seed = 3, 5, 20, 7
    code, out, _ = run_main(capsys, "vanishing", "--depth", str(depth), "--width", str(width),
                            "--samples", str(samples), "--seed", str(seed))
    assert code == 0
    names, rows = parse_table(out)
    X, y = moons(n=samples, seed=seed)
    for column, name in enumerate(names):
        activation, init = name.split(":")
        net = Network([2] + [width] * depth + [1], activation, "sigmoid", "bce", init, seed)
        norms = [math.sqrt(sum(g * g for row in grad for g in row))
                 for grad in net.gradients(X, y)["weights"]]
        labels = [f"W{l}" for l in range(depth)] + [f"W{depth} (out)"]
        for label, norm in zip(labels, norms):
            printed = rows[label][column]
            assert abs(float(printed) - norm) <= half_unit_in_last_place(printed) * (1 + 1e-9), \
                (name, label, printed, norm)
        ratio = rows["W0 / out"][column]
        assert abs(float(ratio) - norms[0] / norms[-1]) <= half_unit_in_last_place(ratio) * 1.01


@pytest.mark.parametrize("columns", ["60", "80", "100"])
def test_vanishing_help_never_breaks_a_configuration_across_lines(capsys, monkeypatch, columns):
    """argparse wraps help at spaces: the default's pairs are each on one line whole."""
    monkeypatch.setenv("COLUMNS", columns)
    assert cli.main(["vanishing", "--help"]) == 0
    help_text = capsys.readouterr().out
    words = set(help_text.replace(",", " ").replace(")", " ").split())
    assert {"sigmoid:normal", "sigmoid:xavier", "tanh:xavier", "relu:he", "relu:normal"} <= words


def test_configs_choose_the_columns_in_order(capsys):
    """--configs relu:he,tanh:xavier prints exactly those two columns, in that order."""
    code, out, _ = run_main(capsys, "vanishing", "--depth", "2", "--width", "3",
                            "--samples", "8", "--configs", "relu:he,tanh:xavier")
    names, rows = parse_table(out)
    assert code == 0 and names == ["relu:he", "tanh:xavier"]
    assert all(len(cells) == 2 for cells in rows.values())


# capsys is read out after every run, so one fixture serves all the examples.
@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(1, 12), seed=st.integers(-1000, 1000))
def test_vanishing_has_depth_plus_one_layer_rows_for_any_depth(capsys, depth, seed):
    """For any --depth, the table has depth + 1 weight rows W0 … W{depth} and a ratio row."""
    code, out, _ = run_main(capsys, "vanishing", "--depth", str(depth), "--width", "3",
                            "--samples", "6", "--seed", str(seed), "--configs", "tanh:xavier")
    _, rows = parse_table(out)
    assert code == 0
    assert list(rows) == [f"W{l}" for l in range(depth)] + [f"W{depth} (out)", "W0 / out"]


def test_vanishing_refuses_an_empty_plot_path(capsys):
    """--plot '' names no folder: exit 2 before any work, not a silent run without pictures."""
    code, out, err = run_main(capsys, "vanishing", "--depth", "2", "--plot", "")
    assert (code, out, err) == (2, "", "purebp: error: --plot must be a path, got an empty one\n")


@pytest.mark.parametrize("argv, option", [
    (["--configs", "sigmoid"], "--configs"),
    (["--configs", "sigmoid:bogus"], "--configs"),
    (["--configs", "softmax:normal"], "--configs"),
    (["--configs", "tanh:xavier,"], "--configs"),
    (["--configs", ""], "--configs"),
    (["--configs", "tanh:xavier, relu:he"], "--configs"),
    (["--configs", "tanh:xavier,relu:he,tanh:xavier"], "--configs"),
    (["--depth", "0"], "--depth"),
    (["--width", "x"], "--width"),
    (["--samples", "0"], "--samples"),
])
def test_vanishing_bad_options_are_usage_errors(capsys, argv, option):
    """A bad --configs pair (or size) exits 2 with one line naming the option, no traceback."""
    code, out, err = run_main(capsys, "vanishing", *argv)
    assert code == 2 and out == ""
    assert err.startswith(f"purebp vanishing: error: argument {option}")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_dead_relu_network_prints_zero_norms(capsys):
    """Seed 0 at width 1 kills every relu unit: all gradients, printed and recomputed, are 0."""
    _, out, _ = run_main(capsys, "vanishing", "--depth", "4", "--width", "1", "--seed", "0",
                         "--configs", "relu:normal")
    _, rows = parse_table(out)
    net = Network([2, 1, 1, 1, 1, 1], "relu", "sigmoid", "bce", "normal", 0)
    grads = net.gradients(*moons(n=64, seed=0))["weights"]
    assert all(g == 0.0 for grad in grads for row in grad for g in row)
    assert [cells[0] for label, cells in rows.items() if label != "W0 / out"] == ["0.00e+00"] * 5


def test_all_zero_gradients_are_not_reported_as_an_infinite_ratio(capsys):
    """A dead relu network (all norms 0) must not print 'inf' as its W0 / out ratio."""
    _, out, _ = run_main(capsys, "vanishing", "--depth", "4", "--width", "1", "--seed", "0",
                         "--configs", "relu:normal")
    _, rows = parse_table(out)
    assert rows["W0 / out"][0] != "inf"


def test_train_command_trains_with_the_given_batch_size(capsys):
    """--batch-size reaches Network.train: the final loss is that of mini-batch training."""
    X, y = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [[0.0], [1.0], [1.0], [0.0]]
    args = ["--epochs", "50", "--lr", "0.5", "--seed", "0", "--quiet"]
    assert cli.main(["train", *args, "--batch-size", "1"]) == 0
    out = capsys.readouterr().out
    net = Network([2, 8, 1], seed=0)
    net.train(X, y, 50, 0.5, batch_size=1, log=None)
    full = Network([2, 8, 1], seed=0)
    full.train(X, y, 50, 0.5, log=None)
    assert f"{net.loss(X, y):.6f}" != f"{full.loss(X, y):.6f}"  # the premise: they differ
    assert f"Final loss (half_sse): {net.loss(X, y):.6f}" in out


# -- purebp train: saving, checkpoints, resuming, Ctrl-C, divergence, progress ------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = ["--data", "moons", "--n", "40", "--layers", "2,5,1", "--activation", "tanh",
       "--loss", "bce", "--lr", "0.5", "--batch-size", "7", "--seed", "4", "--quiet"]


def model_numbers(path):
    """The parameters and training state of a model file, as written."""
    with open(path) as handle:
        data = json.load(handle)
    return data["parameters"], data["training"]


def test_save_writes_the_trained_network(capsys, tmp_path):
    """--save writes a model whose network equals training the same run through the API."""
    path = str(tmp_path / "m.json")
    assert cli.main(["train", *RUN, "--epochs", "9", "--save", path]) == 0
    X, y = moons(n=40, seed=0)
    net = Network([2, 5, 1], "tanh", "sigmoid", "bce", "normal", 4)
    net.train(X, y, 9, 0.5, batch_size=7, log=None)
    loaded = Network.load(path)
    assert loaded.weights == net.weights and loaded.biases == net.biases
    assert loaded.epochs_trained == 9 and loaded.rng.getstate() == net.rng.getstate()


@pytest.mark.parametrize("stop", [1, 5, 11])
def test_a_resumed_run_ends_bit_for_bit_where_the_whole_run_ends(capsys, tmp_path, stop):
    """Stopping at any epoch and resuming from the checkpoint gives the uninterrupted run's model."""
    whole, part, resumed = (str(tmp_path / f) for f in ("whole.json", "ck.json", "res.json"))
    assert cli.main(["train", *RUN, "--epochs", "12", "--save", whole]) == 0
    assert cli.main(["train", *RUN, "--epochs", str(stop), "--checkpoint", part]) == 0
    assert persistence.load(part).epochs_trained == stop
    assert cli.main(["train", "--resume", part, "--epochs", "12", "--save", resumed,
                     "--quiet"]) == 0
    assert model_numbers(resumed) == model_numbers(whole)


def test_checkpoint_every_k_epochs_is_written_during_training(capsys, tmp_path, monkeypatch):
    """--checkpoint-every K saves after epochs K, 2K, ... and at the end."""
    path = str(tmp_path / "ck.json")
    saved = []
    real_save = persistence.save

    def spy(net, where, run=None):
        saved.append(net.epochs_trained)
        real_save(net, where, run)

    monkeypatch.setattr(persistence, "save", spy)
    assert cli.main(["train", *RUN, "--epochs", "10", "--checkpoint", path,
                     "--checkpoint-every", "4"]) == 0
    assert saved == [4, 8, 10]


def test_resume_refuses_a_setting_other_than_the_checkpoints(capsys, tmp_path):
    """With --resume, an --lr (or any run setting) other than the checkpoint's is a usage mistake, exit 2."""
    path = str(tmp_path / "ck.json")
    assert cli.main(["train", *RUN, "--epochs", "2", "--checkpoint", path]) == 0
    capsys.readouterr()
    code, _, err = run_main(capsys, "train", "--resume", path, "--epochs", "5", "--lr", "0.2")
    assert code == 2 and "--lr" in err and "Traceback" not in err


@pytest.mark.parametrize("spelling", [[], ["--samples", "40"]])
def test_resume_with_the_original_options_ends_bit_for_bit_where_the_whole_run_ends(
        capsys, tmp_path, spelling):
    """The first run's command with --resume added continues it to the uninterrupted run's model."""
    whole, part = str(tmp_path / "whole.json"), str(tmp_path / "ck.json")
    assert cli.main(["train", *RUN, "--epochs", "12", "--save", whole]) == 0
    assert cli.main(["train", *RUN, *spelling, "--epochs", "5", "--checkpoint", part]) == 0
    assert cli.main(["train", *RUN, *spelling, "--epochs", "12", "--checkpoint", part,
                     "--resume", part]) == 0
    assert model_numbers(part) == model_numbers(whole)


def test_resume_accepts_options_that_state_what_the_checkpoint_used(capsys, tmp_path):
    """Defaults the first run left out (layers, samples, noise, output activation) may be given."""
    path = str(tmp_path / "ck.json")
    assert cli.main(["train", "--data", "moons", "--epochs", "2", "--checkpoint", path]) == 0
    capsys.readouterr()
    code, _, err = run_main(capsys, "train", "--resume", path, "--epochs", "3", "--data", "moons",
                            "--samples", "200", "--noise", "0.1", "--layers", "2,8,1",
                            "--activation", "sigmoid", "--output-activation", "sigmoid",
                            "--loss", "half_sse", "--init", "normal", "--lr", "0.10",
                            "--seed", "0", "--checkpoint", path, "--quiet")
    assert code == 0 and err == "" and Network.load(path).epochs_trained == 3


def test_resume_names_every_option_that_differs_in_one_message(capsys, tmp_path):
    """Each differing option is listed with the checkpoint's and the given value; nothing is written."""
    path = tmp_path / "ck.json"
    assert cli.main(["train", *RUN, "--epochs", "2", "--checkpoint", str(path)]) == 0
    capsys.readouterr()
    before = path.read_bytes()
    code, out, err = run_main(capsys, "train", *RUN, "--resume", str(path), "--epochs", "5",
                              "--lr", "0.2", "--layers", "2,6,1", "--samples", "30",
                              "--activation", "relu", "--batch-size", "8", "--checkpoint",
                              str(path))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"purebp: error: --resume {path}: options differ from the checkpoint's")
    for option in ("--samples (checkpoint 40, given 30)", "--layers (checkpoint 2,5,1, given 2,6,1)",
                   "--activation (checkpoint tanh, given relu)", "--lr (checkpoint 0.5, given 0.2)",
                   "--batch-size (checkpoint 7, given 8)"):
        assert option in err
    assert "--loss" not in err and "--seed" not in err  # given, but the same
    assert path.read_bytes() == before


def test_resume_shows_a_full_batch_as_full(capsys, tmp_path):
    """A checkpoint of a full-batch run shows its batch size as "full" when another is given."""
    path = str(tmp_path / "ck.json")
    assert cli.main(["train", "--epochs", "2", "--checkpoint", path]) == 0
    capsys.readouterr()
    code, _, err = run_main(capsys, "train", "--resume", path, "--batch-size", "2")
    assert code == 2 and "--batch-size (checkpoint full, given 2)" in err


@pytest.mark.parametrize("epochs", ["6", "4"])
def test_resuming_a_finished_run_says_so_and_trains_nothing(capsys, tmp_path, epochs):
    """--epochs at or below the checkpoint's epochs: a message, exit 0, no training, no file written."""
    path, saved = tmp_path / "ck.json", tmp_path / "m.json"
    assert cli.main(["train", *RUN, "--epochs", "6", "--checkpoint", str(path)]) == 0
    capsys.readouterr()
    before = path.read_bytes()
    code, out, err = run_main(capsys, "train", *RUN[:-1], "--resume", str(path), "--epochs",
                              epochs, "--checkpoint", str(path), "--save", str(saved))
    assert code == 0 and err == ""
    assert out == (f"Nothing to train: {path} has trained 6 epochs, and --epochs {epochs} is"
                   " the total (a larger --epochs goes on)\n")
    assert path.read_bytes() == before and not saved.exists()


def test_resume_takes_the_data_file_by_another_path_but_not_other_data(capsys, tmp_path,
                                                                       monkeypatch):
    """The same CSV file named another way resumes; a different file is refused, exit 2."""
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path, [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]])
    write_csv(tmp_path, [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 0]], name="other.csv")
    assert cli.main(["train", "--data", "data.csv", "--epochs", "2", "--checkpoint", "ck.json",
                     "--quiet"]) == 0
    code, _, _ = run_main(capsys, "train", "--data", str(tmp_path / "data.csv"), "--epochs", "3",
                          "--resume", "ck.json", "--save", "m.json", "--quiet")
    assert code == 0 and Network.load("m.json").epochs_trained == 3
    code, _, err = run_main(capsys, "train", "--data", "other.csv", "--epochs", "3",
                            "--resume", "ck.json")
    assert code == 2 and "the data is not what the run started with" in err


def test_resume_refuses_a_file_without_run_settings(capsys, tmp_path):
    """A model saved through the API (no run settings) cannot be resumed by the command line."""
    path = str(tmp_path / "m.json")
    Network([2, 3, 1], seed=0).save(path)
    code, _, err = run_main(capsys, "train", "--resume", path, "--epochs", "5")
    assert code == 2 and "run settings" in err


def test_resume_refuses_a_damaged_checkpoint_naming_the_file(capsys, tmp_path):
    """A truncated checkpoint is refused with the file's name, exit 2, no traceback."""
    path = tmp_path / "ck.json"
    assert cli.main(["train", *RUN, "--epochs", "2", "--checkpoint", str(path)]) == 0
    capsys.readouterr()
    path.write_text(path.read_text()[:200])
    code, _, err = run_main(capsys, "train", "--resume", str(path), "--epochs", "5")
    assert code == 2 and str(path) in err and "Traceback" not in err


def test_divergence_stops_with_a_message_and_exit_1(capsys, tmp_path):
    """lr 1e6 stops training with a message naming the epoch; the checkpoint holds the last finite state."""
    path = str(tmp_path / "ck.json")
    code, _, err = run_main(capsys, "train", "--data", "moons", "--layers", "2,8,1",
                            "--activation", "relu", "--output-activation", "identity",
                            "--loss", "mse", "--lr", "1e6", "--epochs", "50",
                            "--checkpoint", path)
    assert code == 1 and "Traceback" not in err
    assert "diverged at epoch" in err and "smaller learning_rate" in err
    net = Network.load(path)
    assert all(math.isfinite(v) for m in net.weights + net.biases for row in m for v in row)


class FakeTerminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self):
        return True


def test_progress_line_updates_in_place_on_a_terminal(monkeypatch):
    """On a terminal the progress line is rewritten in place and cleared at the end."""
    clock = iter(range(0, 10_000))
    monkeypatch.setattr(train.time, "monotonic", lambda: next(clock) * 0.2)
    err = FakeTerminal()
    out = io.StringIO()
    args = cli.build_parser("train").parse_args(["--epochs", "5", "--log-every", "100"])
    assert train.run(args, out=out, err=err) == 0
    text = err.getvalue()
    assert text.count("\r") >= 5 and "epoch 5/5" in text and "epochs/s" in text
    assert text.endswith("\r\x1b[K")  # wiped before the final lines
    assert "\r" not in out.getvalue()


def test_no_progress_line_when_redirected_or_quiet(monkeypatch):
    """Redirected stderr, or --quiet, gets no progress line at all."""
    for argv, err in ((["--epochs", "5"], io.StringIO()),
                      (["--epochs", "5", "--quiet"], FakeTerminal())):
        args = cli.build_parser("train").parse_args(argv)
        assert train.run(args, out=io.StringIO(), err=err) == 0
        assert err.getvalue() == ""


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or sys.platform == "win32",
                    reason="needs POSIX signals")
def test_ctrl_c_stops_at_an_epoch_writes_the_checkpoint_and_exits_130(tmp_path):
    """SIGINT during purebp train: exit 130, the checkpoint written and named, no traceback; it resumes."""
    path = str(tmp_path / "ck.json")
    process = subprocess.Popen(
        [sys.executable, "-S", "-m", "purebp", "train", "--data", "moons", "--layers",
         "2,16,16,1", "--activation", "tanh", "--loss", "bce", "--lr", "0.2",
         "--epochs", "1000000", "--log-every", "20", "--checkpoint", path,
         "--checkpoint-every", "1000000"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline().startswith("Network(")
    assert process.stdout.readline().startswith("Epoch 0, Loss: ")  # training is under way
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err and f"checkpoint written to {path}" in err
    net = Network.load(path)
    assert net.epochs_trained >= 1
    resumed = subprocess.run(
        [sys.executable, "-S", "-m", "purebp", "train", "--resume", path, "--epochs",
         str(net.epochs_trained + 2), "--quiet"], cwd=ROOT, capture_output=True, text=True,
        timeout=120)
    assert resumed.returncode == 0 and "Final loss (bce)" in resumed.stdout


#: A run whose epochs take a few milliseconds, for the signal tests.
SIGNALED = ["--data", "moons", "--layers", "2,16,16,1", "--activation", "tanh", "--loss", "bce",
            "--lr", "0.2", "--batch-size", "50", "--seed", "3"]


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_like_ctrl_c_and_the_run_resumes_bit_for_bit(capsys, tmp_path,
                                                                            name):
    """SIGTERM/SIGHUP: the epoch ends, the checkpoint is written, exit 128 + signal; it resumes exactly."""
    signum = getattr(signal, name, None)
    if signum is None or sys.platform == "win32":
        pytest.skip(f"no {name} here")
    path, whole = str(tmp_path / "ck.json"), str(tmp_path / "whole.json")
    process = subprocess.Popen(
        [sys.executable, "-S", "-m", "purebp", "train", *SIGNALED, "--epochs", "1000000",
         "--log-every", "1000000", "--checkpoint", path, "--checkpoint-every", "1000000"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline().startswith("Network(")
    assert process.stdout.readline().startswith("Epoch 0, Loss: ")  # training is under way
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signum, err
    stopped = Network.load(path).epochs_trained
    assert stopped >= 1
    again = "" if name == "SIGHUP" else f" ({name} again to stop at once)"  # a hang-up never asks twice
    assert err == (f"\npurebp: {name}: stopping at the end of this epoch{again}\npurebp:"
                   f" interrupted by {name} after epoch {stopped - 1}; checkpoint written to"
                   f" {path}; resume with: purebp train --resume {path} --epochs 1000000"
                   f" --checkpoint {path} --checkpoint-every 1000000 --log-every 1000000\n")
    total = str(stopped + 3)
    assert cli.main(["train", *SIGNALED, "--epochs", total, "--checkpoint", path, "--resume",
                     path, "--quiet"]) == 0
    assert cli.main(["train", *SIGNALED, "--epochs", total, "--save", whole, "--quiet"]) == 0
    assert model_numbers(path) == model_numbers(whole)


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP here")
def test_sighup_from_a_closed_terminal_still_writes_the_checkpoint(tmp_path):
    """After SIGHUP, writes to the terminal that went away (EIO) do not stop the checkpoint; exit 129."""
    pty = pytest.importorskip("pty")
    path = str(tmp_path / "ck.json")
    master, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-S", "-m", "purebp", "train", *SIGNALED, "--layers", "2,64,64,1",
         "--epochs", "1000000", "--log-every", "1000000", "--checkpoint", path,
         "--checkpoint-every", "1000000"],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal,
        start_new_session=True,
        # a million epochs of 2-64-64-1 is over the time budget: this run is meant to be stopped
        env=dict(os.environ, PUREBP_TIME_BUDGET="unlimited"))
    os.close(terminal)
    seen = b""
    while b"Epoch 0, Loss: " not in seen:
        seen += os.read(master, 4096)
    process.send_signal(signal.SIGHUP)
    os.close(master)  # from now on the run's writes fail with EIO, as after a hang-up
    assert process.wait(timeout=120) == 129
    assert Network.load(path).epochs_trained >= 1


def start_training(path, **streams):
    """Start a long purebp train run, checkpointing to path only when it stops."""
    return subprocess.Popen(
        [sys.executable, "-S", "-m", "purebp", "train", *SIGNALED, "--epochs", "1000000",
         "--log-every", "1", "--checkpoint", path, "--checkpoint-every", "1000000"],
        cwd=ROOT, stdin=subprocess.DEVNULL, **streams)


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP here")
@pytest.mark.parametrize("gap", [0.002, 0.005, 0.02])  # not 0: the kernel would merge them
def test_a_burst_of_sighups_is_one_hangup_and_the_checkpoint_is_written(tmp_path, gap):
    """Two or three SIGHUPs ms apart (the shell's and the kernel's) stop once: checkpoint, exit 129."""
    path = str(tmp_path / "ck.json")
    process = start_training(path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline().startswith(b"Network(")
    assert process.stdout.readline().startswith(b"Epoch 0, Loss: ")
    for _ in range(3):
        process.send_signal(signal.SIGHUP)
        time.sleep(gap)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 129, err
    assert b"Traceback" not in err and f"checkpoint written to {path}".encode() in err
    assert Network.load(path).epochs_trained >= 1


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP here")
def test_a_sighup_after_the_run_has_stopped_cannot_kill_it(tmp_path):
    """After a hang-up, a late SIGHUP while it exits is ignored: exit 129, never death by SIGHUP."""
    err = io.StringIO()
    previous = signal.getsignal(signal.SIGHUP)
    try:
        with train.StopSignals(err) as stop:
            signal.raise_signal(signal.SIGHUP)
            signal.raise_signal(signal.SIGHUP)  # the kernel's copy: no Stopped
            assert stop.signum == signal.SIGHUP
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
        assert err.getvalue() == "\npurebp: SIGHUP: stopping at the end of this epoch\n"
    finally:
        signal.signal(signal.SIGHUP, previous)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX terminal")
def test_a_terminal_that_goes_away_without_sighup_still_gets_the_checkpoint(tmp_path):
    """EIO on stdout, no signal at all (no controlling terminal): checkpoint, exit 129, no traceback."""
    pty = pytest.importorskip("pty")
    path = str(tmp_path / "ck.json")
    master, terminal = pty.openpty()
    process = start_training(path, stdout=terminal, stderr=subprocess.PIPE,
                             start_new_session=True)
    os.close(terminal)
    seen = b""
    while b"Epoch 1, Loss: " not in seen:
        seen += os.read(master, 4096)
    os.close(master)  # writes to the terminal now fail with EIO
    _, err = process.communicate(timeout=120)
    assert process.returncode == 129, err
    assert b"Traceback" not in err and b"its output went away: EIO" in err
    assert f"checkpoint written to {path}".encode() in err
    assert Network.load(path).epochs_trained >= 2


@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX pipes")
def test_a_reader_that_goes_away_still_gets_the_checkpoint_exit_141(tmp_path):
    """purebp train ... | head -2: EPIPE stops at the epoch's end, writes the checkpoint, exit 141."""
    path = str(tmp_path / "ck.json")
    process = start_training(path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.readline()
    process.stdout.readline()
    process.stdout.close()  # as head does when it has its lines
    err = process.stderr.read()
    assert process.wait(timeout=120) == 141, err
    assert b"Traceback" not in err and b"its output went away: EPIPE" in err
    assert Network.load(path).epochs_trained >= 1


class ClosedAfterTraining(io.StringIO):
    """stdout whose reader goes away once training is over (at the loss chart)."""

    def write(self, text):
        if text.startswith("loss ") or self.closed_now:
            self.closed_now = True
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)

    closed_now = False


def test_a_reader_gone_after_training_still_gets_the_save_and_plots_exit_141(tmp_path):
    """EPIPE after the last epoch: the model is saved, the pictures drawn, exit 141, no stop message."""
    args = cli.build_parser("train").parse_args(
        [*RUN[:-1], "--epochs", "3", "--save", str(tmp_path / "m.json"),
         "--plot", str(tmp_path / "pl")])
    err = io.StringIO()
    assert train.run(args, out=ClosedAfterTraining(), err=err) == 141
    assert Network.load(str(tmp_path / "m.json")).epochs_trained == 3
    assert (tmp_path / "pl" / "loss.svg").is_file() and err.getvalue() == ""


def test_the_resume_hint_pasted_continues_the_run_with_its_checkpoint(tmp_path, monkeypatch):
    """The hint quotes paths and keeps --checkpoint and --save: pasted, it goes on and saves."""
    monkeypatch.chdir(tmp_path)
    path, saved = "ck 1.json", "m 1.json"
    args = cli.build_parser("train").parse_args(
        [*RUN, "--epochs", "7", "--checkpoint", path, "--save", saved, "--quiet"])
    assert cli.main(["train", *RUN, "--epochs", "3", "--checkpoint", path, "--quiet"]) == 0
    words = shlex.split(train.resume_command(args))
    assert words[:2] == ["purebp", "train"] and words.count(path) == 2
    assert cli.main(words[1:]) == 0
    assert Network.load(saved).epochs_trained == 7 == Network.load(path).epochs_trained


@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")
def test_the_stop_handlers_stop_at_once_on_a_second_signal_and_are_put_back():
    """First signal: a request; second: Stopped; an ignored SIGHUP stays ignored; old handlers return."""
    before = {signum: signal.getsignal(signum) for signum in train.STOP_SIGNALS}
    previous_hup = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    err = io.StringIO()
    try:
        with train.StopSignals(err) as stop:
            signal.raise_signal(signal.SIGHUP)  # ignored, as nohup asks
            assert stop.signum == 0 and err.getvalue() == ""
            signal.raise_signal(signal.SIGTERM)
            assert stop.signum == signal.SIGTERM
            assert "purebp: SIGTERM: stopping at the end of this epoch" in err.getvalue()
            with pytest.raises(train.Stopped) as second:
                signal.raise_signal(signal.SIGINT)
            assert second.value.signum == signal.SIGINT
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
        for signum in (signal.SIGINT, signal.SIGTERM):
            assert signal.getsignal(signum) == before[signum]
    finally:
        signal.signal(signal.SIGHUP, previous_hup)


def test_a_second_signal_exits_128_plus_its_number(capsys, monkeypatch):
    """Stopped(SIGTERM) out of training (a second SIGTERM) exits 143 with one line."""
    def second_sigterm(*args, **kwargs):
        raise train.Stopped(signal.SIGTERM)

    monkeypatch.setattr(Network, "train", second_sigterm)
    code, _, err = run_main(capsys, "train", "--epochs", "1", "--quiet")
    assert code == 143 and err == "purebp: interrupted by SIGTERM\n"


def test_the_readmes_divergence_example_diverges():
    """The command README.md gives as its divergence example does diverge: exit 1, the epoch named."""
    import pathlib
    import re
    import shlex
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text("utf-8")
    bullet = readme[readme.index("- **Divergence.**"):]
    command = re.search(r"`purebp (train [^`]+)`", " ".join(bullet.split()))
    assert command, "the Divergence bullet should show a purebp train command"
    argv = shlex.split(command.group(1))
    import contextlib
    import io

    from purebp import cli
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(argv)
    assert code == 1 and "diverged at epoch" in err.getvalue()


@pytest.mark.parametrize(("make_argv", "words"), [
    (lambda d: ["--save", str(d / "missing" / "m.json")], "--save"),
    (lambda d: ["--save", str(d)], "--save must be a file to write, got the folder"),
    (lambda d: ["--checkpoint", str(d / "no" / "ck.json")], "--checkpoint"),
    (lambda d: ["--checkpoint", str(d)], "--checkpoint must be a file to write"),
    (lambda d: ["--checkpoint-every", "3"], "--checkpoint-every must come with --checkpoint"),
    (lambda d: ["--plot", str(d / "data.csv")], "--plot must be a folder, got the file"),
    (lambda d: ["--save", str(d / "data.csv")], "--save must not be the --data file"),
    (lambda d: ["--checkpoint", str(d / "data.csv")], "--checkpoint must not be the --data file"),
])
def test_an_output_that_cannot_be_written_is_refused_before_training(capsys, tmp_path, make_argv,
                                                                     words):
    """Unwritable --save, --checkpoint or --plot, or one that is the data file: exit 2 at once."""
    data = pathlib.Path(write_csv(tmp_path, [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]], "a,b,t\n"))
    before = data.read_bytes()
    code, out, err = run_main(capsys, "train", "--data", str(data), "--epochs", "3",
                              *make_argv(tmp_path))
    assert code == 2 and out == "" and words in err and err.count("\n") == 1
    assert data.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def make_special(tmp_path, kind):
    """A FIFO, or a character device like /dev/null (mknod needs root: skipped without)."""
    path = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(path)
    else:
        try:
            os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        except (PermissionError, AttributeError):
            pytest.skip("making a device node needs root")
    return path


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("kind", ["fifo", "device"])
@pytest.mark.parametrize("option", ["--save", "--checkpoint"])
def test_a_device_or_fifo_is_refused_as_an_output_and_left_as_it_is(capsys, tmp_path, kind,
                                                                    option):
    """--save or --checkpoint on a FIFO or a device: exit 2 at once, the node is not replaced."""
    path = make_special(tmp_path, kind)
    code, out, err = run_main(capsys, "train", "--epochs", "1", "--quiet", option, str(path))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"{option} must be a regular file or a new path" in err
    assert not path.is_file() and (path.is_fifo() or path.is_char_device())


@pytest.mark.parametrize(("make_argv", "words"), [
    (lambda d: ["--save", str(d / "m.json") + "/"], "--save must be a file to write, got"),
    (lambda d: ["--checkpoint", str(d / "ck.json") + "/"], "--checkpoint must be a file to write"),
    (lambda d: ["--save", str(d / "m.json") + "/."], "--save must be a file to write, got"),
    (lambda d: ["--plot", str(d / "pl")], "pl: loss.svg must be a file to write, got the folder"),
    (lambda d: ["--plot", str(d / "pb")], "decision-boundary.svg must be a file to write"),
    (lambda d: ["--save", ""], "--save must be a path, got an empty one"),
    (lambda d: ["--checkpoint", "", "--checkpoint-every", "1"],
     "--checkpoint must be a path, got an empty one"),
    (lambda d: ["--plot", ""], "--plot must be a path, got an empty one"),
    (lambda d: ["--resume", ""], "--resume must be a path, got an empty one"),
])
def test_a_path_that_names_no_file_to_write_is_refused_before_training(capsys, tmp_path,
                                                                      make_argv, words):
    """A trailing slash, a plot file that is a folder, an empty path: exit 2 at once, nothing made."""
    (tmp_path / "pl" / "loss.svg").mkdir(parents=True)
    (tmp_path / "pb" / "decision-boundary.svg").mkdir(parents=True)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    started = time.monotonic()
    code, out, err = run_main(capsys, "train", "--data", "moons", "--epochs", "3000",
                              *make_argv(tmp_path))
    assert code == 2 and out == "" and words in err and err.count("\n") == 1, err
    assert time.monotonic() - started < 1.5  # refused, not trained (3000 epochs take seconds)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_a_named_data_set_is_no_file_even_beside_a_file_of_its_name(capsys, tmp_path,
                                                                    monkeypatch):
    """--data moons --save moons, with a file moons here: saved (the data set is no file)."""
    monkeypatch.chdir(tmp_path)
    pathlib.Path("moons").write_text("old")
    code, _, err = run_main(capsys, "train", "--data", "moons", "--epochs", "1", "--quiet",
                            "--save", "moons")
    assert code == 0, err
    assert Network.load("moons").epochs_trained == 1


def test_a_class_count_beyond_the_layer_limit_is_refused_before_one_hot(capsys, tmp_path):
    """Class index 1e8: refused at once as the data's class count, not a 1e8-wide one-hot."""
    path = write_csv(tmp_path, [[0, 0, 0], [1, 1, 100_000_000]])
    started = time.monotonic()
    code, out, err = run_main(capsys, "train", "--data", path, "--loss", "cross_entropy")
    assert time.monotonic() - started < 1.5
    assert code == 2 and out == "" and err.count("\n") == 1
    assert ("the class indices go up to 100,000,000, so --loss cross_entropy would need"
            " 100,000,001 outputs") in err and "100,000 units" in err


def test_layers_wrong_at_both_ends_for_cross_entropy_are_named_in_one_message(capsys):
    """--layers 3,4,3 on xor with cross_entropy: both the input size and the class count named."""
    code, _, err = run_main(capsys, "train", "--data", "xor", "--loss", "cross_entropy",
                            "--layers", "3,4,3", "--epochs", "1")
    assert code == 2 and err.count("\n") == 1
    assert ("--layers must start with 2 (the data has 2 inputs) and end with 2, one output per"
            " class") in err and "got 3,4,3" in err


def test_a_missing_plot_folder_is_made_with_its_parents(capsys, tmp_path):
    """--plot a/b/c, none of which exists yet, is fine: the folders are made at the end."""
    code, _, _ = run_main(capsys, "train", "--data", "xor", "--epochs", "3",
                          "--plot", str(tmp_path / "a" / "b" / "c"))
    assert code == 0 and (tmp_path / "a" / "b" / "c" / "loss.svg").is_file()


@pytest.mark.skipif(not os.path.exists("/bin/bash"), reason="needs bash")
@pytest.mark.parametrize("word", ["ck 1.json", "ck\x1b[31m.json", "it's\x07", "a\\b\n.json",
                                  "x\u202ey.json", "plain.json"])
def test_the_resume_hint_quotes_every_name_so_bash_gives_it_back(word):
    """train.shell_word: printable, with no control character, and bash reads back the same word."""
    quoted = train.shell_word(word)
    assert quoted.isprintable()
    back = subprocess.run(["/bin/bash", "-c", f"printf %s {quoted}"], capture_output=True,
                          timeout=30).stdout
    assert back == word.encode("utf-8")


def test_paths_echoed_after_work_are_escaped(capsys, tmp_path):
    """Saved to, wrote N cases to, explain's case header: a name with ESC is shown escaped."""
    odd = str(tmp_path / "m\x1b[31m")
    assert cli.main(["train", "--data", "xor", "--epochs", "2", "--save", odd + ".json"]) == 0
    assert cli.main(["vectors", "--out", odd]) == 0
    assert cli.main(["explain", "--case", os.path.join(odd, "one-unit.json")]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "Saved to '" in out and "\\x1b[31m" in out


# -- purebp check: the report per layer ---------------------------------------------------


@pytest.fixture(scope="module")
def two_cases(tmp_path_factory):
    """A suite file of two curated cases (2 and 3 weight layers), and results with one NaN."""
    from purebp import vectors

    folder = tmp_path_factory.mktemp("per-layer")
    cases = [c for c in vectors.curated() if c["id"] in ("xor-tutorial", "activation-tanh")]
    suite = folder / "suite.json"
    vectors.write(str(suite), cases)
    results = [{"id": c["id"], "expected": json.loads(json.dumps(c["expected"]))} for c in cases]
    results[1]["expected"]["gradients"]["biases"][1][0][2] = math.nan
    blown = folder / "blown.json"
    blown.write_text(json.dumps({"format": "purebp-vectors", "version": 1, "cases": results}),
                     "utf-8")  # json.dumps writes the NaN literal, as vectors.write never does
    return suite, blown, cases


def per_layer_tables(out):
    """{case id: the rows of its per-layer table} of a check's text report."""
    tables, case_id, rows = {}, None, None
    for line in out.splitlines():
        if line and not line.startswith(" "):
            case_id, rows = line.split()[0], None
        elif "(tolerance used per layer)" in line:
            rows = tables.setdefault(case_id, [])
        elif rows is not None and line.strip()[:1].isdigit():
            rows.append(line.split())
    return tables


def test_check_per_layer_shows_every_cases_table(capsys, two_cases):
    """--per-layer prints each case's table, one row per layer; without it a passing case has none."""
    suite, _, _ = two_cases
    code, out, err = run_main(capsys, "check", str(suite), str(suite))
    assert (code, err) == (0, "") and per_layer_tables(out) == {}
    code, out, err = run_main(capsys, "check", "--per-layer", str(suite), str(suite))
    assert (code, err) == (0, "")
    assert per_layer_tables(out) == {
        "xor-tutorial": [[str(l)] + ["0.0%"] * 6 for l in range(2)],
        "activation-tanh": [[str(l)] + ["0.0%"] * 6 for l in range(3)]}
    assert "first failure" not in out and out.splitlines()[-1] == "PASS"


def test_check_names_a_nan_gradient_first_in_backward_order_exit_1(capsys, two_cases):
    """A NaN in layer 1's bias gradient: exit 1, first failure named with its layer, tabled."""
    suite, blown, cases = two_cases
    want = cases[1]["expected"]["gradients"]["biases"][1][0][2]
    code, out, err = run_main(capsys, "check", str(suite), str(blown))
    assert (code, err) == (1, "")
    assert (f"    first failure: gradients.biases[1][0][2] (layer 1, backward): got nan,"
            f" expected {want!r}\n") in out
    tables = per_layer_tables(out)
    assert list(tables) == ["activation-tanh"]  # the failing case only
    assert tables["activation-tanh"][1] == ["1", "0.0%", "0.0%", "0.0%", ">1000%", "0.0%", "0.0%"]
    code, out, err = run_main(capsys, "check", "--format", "json", str(suite), str(blown))
    assert (code, err) == (1, "")
    report = json.loads(out, parse_constant=lambda name: pytest.fail(f"JSON holds {name}"))
    first = [c["first_failure"] for c in report["cases"]]
    assert first[0] is None
    assert {k: first[1][k] for k in ("quantity", "layer", "phase")} == \
        {"quantity": "gradients.biases", "layer": 1, "phase": "backward"}
    assert report["cases"][1]["layers"][1]["gradients.biases"]["status"] == "fail"
    assert report["cases"][1]["layers"][1]["gradients.biases"]["tolerance_used"] is None


@pytest.mark.parametrize("layers, path", [("2,8,1", "written-out"), ("2,64,64,1", "reference")])
def test_train_verbose_says_which_code_trained_and_how_long(capsys, layers, path):
    """--verbose names the path fast_loop.choose picks for the network (4,417 parameters are
    over the written-out limit on every interpreter)."""
    code, out, _ = run_main(capsys, "train", "--data", "moons", "--layers", layers,
                            "--epochs", "2", "--quiet", "--verbose")
    spec = Network([int(n) for n in layers.split(",")], seed=0)._spec()
    expected = path if layers != "2,8,1" else fast_loop.choose(spec)
    match = re.search(r"^Trained 2 epochs in \d+\.\d\d s with the ([\w-]+) code \((.*)\)$", out,
                      re.M)
    assert code == 0 and match is not None, out
    assert match.group(1) == expected
    assert ("purebp.fast.unrolled" if expected == "written-out" else "purebp.fast.rows") in out


def test_train_without_verbose_does_not_say_which_code_ran(capsys):
    code, out, _ = run_main(capsys, "train", "--data", "xor", "--epochs", "2", "--quiet")
    assert code == 0 and "Trained" not in out
