"""Tests for purebp.cli.train's --model: ``purebp train --model LAYERS`` trains a Sequential."""

import pytest

from purebp import cli, optimizers
from purebp.datasets import strokes
from purebp.layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, manual_seed

CNN = "Conv2d(1, 2, 3, padding=1), ReLU(), MaxPool2d(2), Flatten(), Linear(32, 4)"


def run_main(capsys, *argv):
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_small_cnn_trains_on_strokes_and_prints_the_log_and_accuracy(capsys):
    code, out, err = run_main(capsys, "train", "--data", "strokes", "--samples", "40",
                              "--model", CNN, "--optimizer", "adam", "--lr", "0.02",
                              "--batch-size", "8", "--epochs", "3", "--log-every", "1")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("Sequential(Conv2d(1, 2, kernel_size=(3, 3)") and \
        "on strokes: 40 samples, loss cross_entropy, Adam(lr=0.02" in lines[0]
    assert [line.split(",")[0] for line in lines[1:4]] == ["Epoch 0", "Epoch 1", "Epoch 2"]
    assert lines[4].startswith("Final loss (cross_entropy): ")
    assert lines[5].startswith("Accuracy: ") and lines[5].endswith(" of 40)")


def test_the_run_is_the_sequential_trained_in_python(capsys):
    """The command's final loss is that of the same model, seed and steps, trained here."""
    code, out, _ = run_main(capsys, "train", "--data", "strokes", "--samples", "24", "--model",
                            CNN, "--optimizer", "adam", "--lr", "0.02", "--batch-size", "8",
                            "--epochs", "2", "--seed", "3", "--quiet")
    manual_seed(3)
    model = Sequential(Conv2d(1, 2, 3, padding=1), ReLU(), MaxPool2d(2), Flatten(),
                       Linear(32, 4), loss="cross_entropy", seed=3)
    X, y = strokes(24)
    model.train(X, y, 2, optimizer=optimizers.Adam(lr=0.02), batch_size=8, log=None)
    model.eval()
    assert code == 0 and out.splitlines()[0] == \
        f"Final loss (cross_entropy): {model.loss(model.forward(X), y):.6f}"


def test_the_model_may_be_a_file_and_rows_train_a_model_of_linear_layers(capsys, tmp_path):
    path = tmp_path / "mlp.txt"
    path.write_text("Linear(2, 8), Tanh(), Linear(8, 1)\n", "utf-8")
    code, out, err = run_main(capsys, "train", "--data", "moons", "--model", str(path),
                              "--loss", "bce", "--lr", "0.5", "--epochs", "30", "--quiet",
                              "--val-split", "0.25")
    assert (code, err) == (0, "")
    assert "Validation accuracy: " in out and "Final loss (bce): " in out


@pytest.mark.parametrize("argv, message", [
    (["--model", "Linear(2, 3), Oops()"], "layers: layer 2 must be one of purebp.layers' layers"),
    (["--model", "Linear(3, 4)"], "--model: the data's samples do not fit the first layers:"
                                  " Linear: input must be N × 3 (in_features), got 1 × 2"),
    (["--model", "Linear(2, 3)", "--loss", "bce"], "--model must end with 1 outputs"),
    (["--model", "Linear(2, 1)", "--activation", "tanh"],
     "--activation does not apply to --model (a layer list) yet"),
    (["--model", "Linear(2, 1)", "--save", "m.json"], "--save does not apply to --model"),
    (["--data", "strokes", "--model", CNN, "--bits", "3"], "--bits does not apply to --model"),
])
def test_mistakes_are_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run_main(capsys, "train", "--data", "moons", *argv) if "--data" not in argv \
        else run_main(capsys, "train", *argv)
    assert code == 2 and out == "" and message in err and "Traceback" not in err


def test_a_run_over_the_time_budget_is_refused_before_it_starts(capsys, monkeypatch):
    monkeypatch.setenv("PUREBP_TIME_BUDGET", "1s")
    code, out, err = run_main(capsys, "train", "--data", "strokes", "--model", CNN,
                              "--epochs", "100000")
    assert code == 2 and "must finish within the time budget of 1 s" in err and out == ""


def test_divergence_is_exit_1_with_a_message(capsys):
    code, out, err = run_main(capsys, "train", "--data", "moons", "--model", "Linear(2, 1)",
                              "--lr", "1e200", "--epochs", "5", "--quiet")
    assert code == 1 and out == ""
    assert err.startswith("purebp: error: Sequential.train: training diverged at epoch ")


def test_the_same_seed_gives_the_same_run(capsys):
    argv = ["train", "--data", "strokes", "--samples", "16", "--model", CNN, "--epochs", "2",
            "--quiet", "--lr", "0.1", "--seed", "5"]
    assert run_main(capsys, *argv) == run_main(capsys, *argv)


def test_plot_draws_the_loss_the_filters_and_the_feature_maps(capsys, tmp_path):
    import xml.etree.ElementTree as ElementTree

    folder = tmp_path / "pictures"
    code, out, err = run_main(capsys, "train", "--data", "strokes", "--samples", "16", "--model",
                              CNN, "--epochs", "2", "--quiet", "--plot", str(folder))
    assert (code, err) == (0, "")
    svg = "{http://www.w3.org/2000/svg}"
    for name, maps in (("filters.svg", 2 * 1), ("feature-maps.svg", 1 + 2 + 2 + 2)):
        root = ElementTree.parse(folder / name).getroot()
        found = [g for g in root.iter(f"{svg}g") if g.get("class") == "map"]
        assert len(found) == maps, name
        assert f"wrote {folder / name}" in out
    assert (folder / "loss.svg").exists()


def test_heat_maps_share_one_scale_with_white_at_zero():
    from purebp.study import plots

    svg = plots.heat_maps([("a", [[0.0, 2.0]]), ("b", [[-2.0, 1.0]])], "t")
    fills = [part.split('"')[0] for part in svg.split('fill="')[1:]]
    assert "#f7f7f7" in fills and "#2166ac" in fills and "#e08214" in fills
    with pytest.raises(ValueError, match="maps must hold at least one matrix"):
        plots.heat_maps([], "t")


def test_a_model_too_big_for_the_budget_is_refused_from_its_shapes_at_once(capsys):
    code, out, err = run_main(capsys, "train", "--data", "strokes", "--model",
                              "Conv2d(1, 1, 1, padding=30000), Flatten(), Linear(4, 4)")
    assert code == 2 and out == "" and "must fit in the memory budget" in err
    assert "numbers and" in err and "multiply-adds a sample" in err
