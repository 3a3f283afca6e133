"""Tests for purebp train's optimizers, validation split and early stopping (purebp.cli.train).

What the command line does is checked against things it does not compute
itself: the optimizers' defaults as torch.optim's documentation states them
(and, when torch is installed, as its signatures give them), the split
recomputed from its documented recipe, validation losses and accuracies
summed by hand, the epoch early stopping must stop at found by a loop over
a run without it, runs without the new options against the hashes of what
purebp printed and drew before they existed, and resumed runs against the
uninterrupted ones. Every refusal: exit 2, one line, no traceback.
"""

import hashlib
import json
import math
import random
import re
import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from purebp import cli
from purebp.cli import train
from purebp.datasets import moons
from purebp.network import Network
from purebp.optimizers import SGD, Adam, AdamW, RMSprop

SVG = "{http://www.w3.org/2000/svg}"
XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_Y = [[0.0], [1.0], [1.0], [0.0]]
#: A small run on 40 moons samples, mini-batches (so the network's generator matters).
RUN = ["--data", "moons", "--samples", "40", "--layers", "2,5,1", "--activation", "tanh",
       "--loss", "bce", "--batch-size", "7", "--seed", "4", "--quiet"]
VAL_LOG_LINE = re.compile(r"Epoch (\d+), Loss: (\d+\.\d{4}), Validation loss: (\d+\.\d{4})")


def run_main(capsys, *argv):
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def model_numbers(path):
    """The parameters and training state of a model file, as written."""
    with open(path) as handle:
        data = json.load(handle)
    return data["parameters"], data["training"]


def file_json(path):
    with open(path) as handle:
        return json.load(handle)


def hand_bce(y, y_hat):
    """−(1/nk) Σ [y·log ŷ + (1 − y)·log(1 − ŷ)], by loops."""
    total, count = 0.0, 0
    for t_row, p_row in zip(y, y_hat):
        for t, p in zip(t_row, p_row):
            total -= t * math.log(p) + (1 - t) * math.log(1 - p)
            count += 1
    return total / count


def hand_right(y, y_hat):
    """How many one-output predictions fall on their target's side of 0.5."""
    return sum((p > 0.5) == (t > 0.5) for (p,), (t,) in zip(y_hat, y))


def documented_split(X, y, fraction, seed):
    """The split as purebp train's help and README describe it, written again here.

    k = F·n (as Python computes it) rounded to the nearest whole number, a
    half up, exactly; the indices shuffled by random.Random(f"val-split
    {seed}"); the first k are validation rows; both parts in the data's order.
    """
    n = len(X)
    k = math.floor(Fraction(fraction * n) + Fraction(1, 2))
    order = list(range(n))
    random.Random(f"val-split {seed}").shuffle(order)
    val_rows = sorted(order[:k])
    train_rows = sorted(order[k:])
    return ([X[i] for i in train_rows], [y[i] for i in train_rows],
            [X[i] for i in val_rows], [y[i] for i in val_rows])


def parse(path):
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return root


def group(root, name):
    (found,) = [g for g in root.iter(f"{SVG}g") if g.get("class") == name]
    return found


def legend_names(root):
    return [text.text for text in group(root, "legend").iter(f"{SVG}text")]


# -- without the new options nothing changed ---------------------------------------------

#: What purebp printed and drew for this run before it had optimizers (commit bc032a1).
OLD_RUN = ["train", "--data", "moons", "--samples", "30", "--layers", "2,4,1", "--activation",
           "tanh", "--loss", "bce", "--epochs", "20", "--lr", "0.5", "--batch-size", "8",
           "--seed", "2"]
OLD_LOG_SHA256 = "e6fde194e6e7ad378406707adb3c5a9642ad257415a66d13e4e1243a9035256c"
OLD_SVG_SHA256 = {
    "loss.svg": "5c37a7070200456ef714bb0610cff730d2f3e8d7e1ed3e23d5ef793a5073adc4",
    "decision-boundary.svg": "b9a0b34a471d8418554080dc6328e3b5782c83060b680d671fb34762fe466ff4",
}


def test_a_run_without_the_new_options_prints_and_draws_what_it_did_before_them(
        capsys, tmp_path):
    """No --optimizer, no --val-split: the log and both pictures are byte for byte the old ones."""
    code, out, err = run_main(capsys, *OLD_RUN)
    assert code == 0 and err == ""
    assert hashlib.sha256(out.encode()).hexdigest() == OLD_LOG_SHA256
    code, _, _ = run_main(capsys, *OLD_RUN, "--quiet", "--plot", str(tmp_path))
    for name, digest in OLD_SVG_SHA256.items():
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == digest


def test_optimizer_sgd_is_the_default_to_the_bit(capsys, tmp_path):
    """--optimizer sgd prints and saves what leaving it out does: plain gradient descent."""
    plain, sgd = str(tmp_path / "plain.json"), str(tmp_path / "sgd.json")
    left_out = run_main(capsys, *OLD_RUN, "--save", plain)
    given_ = run_main(capsys, *OLD_RUN, "--optimizer", "sgd", "--weight-decay", "0",
                      "--save", sgd)
    assert left_out[0] == given_[0] == 0
    assert left_out[1].replace(plain, sgd) == given_[1]
    assert model_numbers(plain) == model_numbers(sgd)
    assert ", lr 0.5, batch size 8," in given_[1].splitlines()[0]


# -- each optimizer, with torch.optim's defaults -----------------------------------------

#: The optimizer each --optimizer choice must build when no option is given: torch.optim's
#: defaults as its documentation states them (SGD: momentum 0, dampening 0, weight_decay 0;
#: RMSprop: lr 0.01, alpha 0.99, eps 1e-8; Adam: lr 0.001, betas (0.9, 0.999), eps 1e-8;
#: AdamW: the same and weight_decay 0.01), but SGD's lr, which is the tutorial's 0.1, and
#: momentum's 0.9 with lr 0.01 (the same steady step as sgd's 0.1).
DEFAULT_OPTIMIZERS = {
    "sgd": lambda: SGD(lr=0.1),
    "momentum": lambda: SGD(lr=0.01, momentum=0.9),
    "nesterov": lambda: SGD(lr=0.01, momentum=0.9, nesterov=True),
    "rmsprop": lambda: RMSprop(lr=0.01, alpha=0.99, eps=1e-8),
    "adam": lambda: Adam(lr=0.001, betas=(0.9, 0.999), eps=1e-8),
    "adamw": lambda: AdamW(lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
}


def api_run(optimizer, epochs, X=None, y=None, batch_size=7, **train_args):
    """RUN's network trained through the API with ``optimizer``."""
    if X is None:
        X, y = moons(n=40, seed=0)
    net = Network([2, 5, 1], "tanh", "sigmoid", "bce", "normal", 4)
    net.train(X, y, epochs, batch_size=batch_size, log=None, optimizer=optimizer, **train_args)
    return net


@pytest.mark.parametrize("choice", list(DEFAULT_OPTIMIZERS))
def test_each_optimizer_trains_with_torch_optims_defaults(capsys, tmp_path, choice):
    """--optimizer NAME alone trains as the API does with torch.optim's defaults."""
    path = str(tmp_path / "m.json")
    assert cli.main(["train", *RUN, "--optimizer", choice, "--epochs", "6", "--save", path]) == 0
    expected = DEFAULT_OPTIMIZERS[choice]()
    net = api_run(expected, 6)
    saved = file_json(path)
    assert saved["training"]["optimizer"]["name"] == expected.config()["name"]
    assert saved["training"]["optimizer"]["arguments"] == expected.config()["arguments"]
    loaded = Network.load(path)
    assert loaded.weights == net.weights and loaded.biases == net.biases
    assert loaded.optimizer.state == net.optimizer.state


def test_the_defaults_are_torch_optims_own(capsys, tmp_path):
    """Each choice's arguments, lr aside (and momentum's 0.9), are torch.optim's signature defaults."""
    torch = pytest.importorskip("torch")
    import inspect
    classes = {"sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop,
               "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    for choice, make in DEFAULT_OPTIMIZERS.items():
        ours = make().config()
        theirs = inspect.signature(classes[ours["name"]]).parameters
        for name, value in ours["arguments"].items():
            if name == "lr" or (choice in ("momentum", "nesterov") and name in ("momentum", "nesterov")):
                continue
            default = theirs[name].default
            assert (list(default) if isinstance(default, tuple) else default) == value, (choice, name)


@pytest.mark.parametrize("choice, options, expected", [
    ("sgd", ["--lr", "0.3", "--weight-decay", "0.05"], SGD(lr=0.3, weight_decay=0.05)),
    ("momentum", ["--momentum", "0.5", "--lr", "0.2"], SGD(lr=0.2, momentum=0.5)),
    ("nesterov", ["--momentum", "0.8", "--weight-decay", "0.1"],
     SGD(lr=0.01, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("rmsprop", ["--momentum", "0.3", "--eps", "1e-6", "--weight-decay", "0.01"],
     RMSprop(lr=0.01, momentum=0.3, eps=1e-6, weight_decay=0.01)),
    ("adam", ["--beta1", "0.8", "--beta2", "0.99", "--eps", "1e-6", "--lr", "0.02",
              "--weight-decay", "0.1"],
     Adam(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("adamw", ["--weight-decay", "0.5", "--beta2", "0.9"],
     AdamW(lr=0.001, betas=(0.9, 0.9), weight_decay=0.5)),
])
def test_each_option_reaches_the_optimizer(capsys, tmp_path, choice, options, expected):
    """Every option given sets its argument of the optimizer; the run equals the API's with it."""
    path = str(tmp_path / "m.json")
    code, out, _ = run_main(capsys, "train", *RUN[:-1], "--optimizer", choice, *options,
                            "--epochs", "5", "--save", path, "--log-every", "100")
    assert code == 0
    assert f"optimizer {choice}: {expected!r}" in out.splitlines()[0]
    assert file_json(path)["training"]["optimizer"]["arguments"] == expected.config()["arguments"]
    net = api_run(expected, 5)
    loaded = Network.load(path)
    assert loaded.weights == net.weights and loaded.biases == net.biases


# -- refusals: exit 2, one line -----------------------------------------------------------

#: Which options each optimizer takes (besides --lr), as the README documents them.
TAKES = {
    "sgd": {"--weight-decay"},
    "momentum": {"--momentum", "--weight-decay"},
    "nesterov": {"--momentum", "--weight-decay"},
    "rmsprop": {"--momentum", "--eps", "--weight-decay"},
    "adam": {"--beta1", "--beta2", "--eps", "--weight-decay"},
    "adamw": {"--beta1", "--beta2", "--eps", "--weight-decay"},
}
STEP_OPTIONS = ["--momentum", "--beta1", "--beta2", "--eps", "--weight-decay"]


def one_error_line(code, out, err):
    assert code == 2 and out == "", (code, out, err)
    assert err.endswith("\n") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("choice, option", [(c, o) for c in TAKES for o in STEP_OPTIONS
                                            if o not in TAKES[c]])
def test_an_option_the_optimizer_does_not_take_is_refused_naming_both(capsys, choice, option):
    """--beta1 with sgd (and every such pair): one line naming the option and the optimizer."""
    err = one_error_line(*run_main(capsys, "train", "--optimizer", choice, option, "0.5",
                                   "--epochs", "1"))
    assert err.startswith(f"purebp: error: {option} does not apply to --optimizer {choice} ")
    takers = [c for c in TAKES if option in TAKES[c]]
    assert err.rstrip().endswith(f"it applies to {', '.join(takers)}")


@pytest.mark.parametrize("option", STEP_OPTIONS[:-1])
def test_without_optimizer_the_step_is_sgd_and_its_options_are_refused(capsys, option):
    """No --optimizer is sgd, plain gradient descent: --momentum or --beta1 alone are refused."""
    err = one_error_line(*run_main(capsys, "train", option, "0.5", "--epochs", "1"))
    assert f"{option} does not apply to --optimizer sgd (plain gradient descent, the default)" in err


@pytest.mark.parametrize("argv, message", [
    (["--optimizer", "adam", "--beta1", "1"], "--beta1 must lie in [0, 1), got 1.0"),
    (["--optimizer", "adamw", "--beta1", "-0.1"], "--beta1 must lie in [0, 1), got -0.1"),
    (["--optimizer", "adam", "--beta2", "1.5"], "--beta2 must lie in [0, 1), got 1.5"),
    (["--optimizer", "adam", "--eps", "0"], "--eps must be positive, got 0.0"),
    (["--optimizer", "rmsprop", "--eps=-1e-8"], "--eps must be positive, got -1e-08"),
    (["--optimizer", "adam", "--eps", "nan"], "--eps must be finite, got nan"),
    (["--optimizer", "adam", "--eps", "inf"], "--eps must be finite, got inf"),
    (["--optimizer", "momentum", "--momentum", "-0.5"], "--momentum must not be negative, got -0.5"),
    (["--optimizer", "rmsprop", "--momentum", "-1"], "--momentum must not be negative, got -1.0"),
    (["--weight-decay", "-0.1"], "--weight-decay must not be negative, got -0.1"),
    (["--optimizer", "adamw", "--weight-decay", "-1"], "--weight-decay must not be negative, got -1.0"),
    (["--optimizer", "nesterov", "--momentum", "0"], "--momentum must be positive for --optimizer"
     " nesterov"),
    (["--early-stopping", "5"], "--early-stopping must come with --val-split F"),
    (["--val-split", "0.1"], "--val-split must leave at least one sample for validation and one"
     " for training, got 0.1 of 4 samples: 0 for validation"),
    (["--val-split", "0.9"], "got 0.9 of 4 samples: 4 for validation"),
])
def test_bad_values_are_refused_in_one_line_naming_the_option(capsys, argv, message):
    """Values the optimizer or the split cannot take: one line, the option, what was wrong."""
    err = one_error_line(*run_main(capsys, "train", *argv, "--epochs", "1"))
    assert err.startswith("purebp: error: --") and message in err, err


@pytest.mark.parametrize("argv, option", [
    (["--optimizer", "lbfgs"], "--optimizer"),
    (["--optimizer", "adam", "--beta1", "x"], "--beta1"),
    (["--optimizer", "adam", "--eps", ""], "--eps"),
    (["--lr", "-0.1", "--optimizer", "adam"], "--lr"),
    (["--val-split", "0"], "--val-split"),
    (["--val-split", "1"], "--val-split"),
    (["--val-split", "-0.5"], "--val-split"),
    (["--val-split", "nan"], "--val-split"),
    (["--val-split", "half"], "--val-split"),
    (["--val-split", "0.2", "--early-stopping", "0"], "--early-stopping"),
    (["--val-split", "0.2", "--early-stopping", "2.5"], "--early-stopping"),
])
def test_unparsable_values_are_usage_errors(capsys, argv, option):
    """A value that is no number (or out of a parser's range): argparse's one line, exit 2."""
    err = one_error_line(*run_main(capsys, "train", *argv))
    assert err.startswith(f"purebp train: error: argument {option}")


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(option=st.sampled_from(STEP_OPTIONS + ["--lr", "--val-split", "--early-stopping"]),
       choice=st.sampled_from([None, *TAKES]),
       value=st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                       st.integers(-10, 10).map(str), st.text(max_size=8)))
def test_any_value_of_a_new_option_is_a_run_or_one_line(capsys, option, choice, value):
    """Junk or edge values: exit 0, or 2 with one line and no traceback, never anything else."""
    argv = ["train", "--epochs", "1", "--quiet", f"{option}={value}"]
    if choice is not None:
        argv += ["--optimizer", choice]
    code, out, err = run_main(capsys, *argv)
    assert code in (0, 1, 2) and "Traceback" not in out + err
    if code == 2:
        one_error_line(code, out, err)


# -- the validation split ------------------------------------------------------------------

@settings(max_examples=60)
@given(n=st.integers(2, 300), fraction=st.floats(0.001, 0.999), seed=st.integers(-10**6, 10**6))
def test_the_split_is_the_documented_one_disjoint_and_complete(n, fraction, seed):
    """Train and validation rows: disjoint, together all rows, each in order, as documented."""
    X = [[float(i), -float(i)] for i in range(n)]
    y = [[float(i % 2)] for i in range(n)]
    k = math.floor(Fraction(fraction * n) + Fraction(1, 2))
    if not 0 < k < n:
        with pytest.raises(ValueError, match="--val-split must leave at least one sample"):
            train.validation_split(X, y, fraction, seed)
        return
    X_train, y_train, X_val, y_val = train.validation_split(X, y, fraction, seed)
    assert (X_train, y_train, X_val, y_val) == documented_split(X, y, fraction, seed)
    assert len(X_val) == k and len(X_train) == n - k
    train_ids, val_ids = [int(r[0]) for r in X_train], [int(r[0]) for r in X_val]
    assert not set(train_ids) & set(val_ids) and sorted(train_ids + val_ids) == list(range(n))
    assert train_ids == sorted(train_ids) and val_ids == sorted(val_ids)
    assert all(y_row == [float(i % 2)] for i, y_row in zip(train_ids + val_ids, y_train + y_val))
    assert train.validation_split(X, y, fraction, seed) == (X_train, y_train, X_val, y_val)


def test_another_seed_draws_another_split():
    """The split follows --seed: of ten seeds on 100 rows, no two hold out the same rows."""
    X = [[float(i)] for i in range(100)]
    held_out = {tuple(r[0] for r in train.validation_split(X, X, 0.2, seed)[2])
                for seed in range(10)}
    assert len(held_out) == 10


def test_a_half_rounds_up_and_floats_count_as_python_computes_them():
    """0.25 of 10 rows is 2.5, so 3; 0.3 of 5 is 1.5 in floats, so 2; 0.2 of 7 is 1.4, so 1."""
    for fraction, n, k in ((0.25, 10, 3), (0.3, 5, 2), (0.2, 7, 1), (0.5, 3, 2)):
        X = [[float(i)] for i in range(n)]
        assert len(train.validation_split(X, X, fraction, 0)[2]) == k


def test_the_split_leaves_the_networks_generator_alone(capsys, tmp_path):
    """With --val-split the run trains exactly as the API does on the training rows alone,
    mini-batch shuffles included: the split draws from no generator the network uses."""
    path = str(tmp_path / "m.json")
    assert cli.main(["train", *RUN, "--val-split", "0.25", "--epochs", "6", "--save", path]) == 0
    X, y = moons(n=40, seed=0)
    X_train, y_train, _, _ = documented_split(X, y, 0.25, 4)
    net = api_run(SGD(lr=0.1), 6, X_train, y_train)
    loaded = Network.load(path)
    assert loaded.weights == net.weights and loaded.biases == net.biases
    assert loaded.rng.getstate() == net.rng.getstate()


# -- log lines and the summary ---------------------------------------------------------------

def test_log_lines_and_summary_show_the_validation_loss_and_accuracy(capsys):
    """Each log line adds the validation loss at the epoch's end; the summary both sets' numbers."""
    code, out, err = run_main(capsys, "train", *RUN[:-1], "--val-split", "0.3", "--epochs", "8",
                              "--log-every", "3", "--optimizer", "adam", "--lr", "0.05")
    assert code == 0 and err == ""
    X, y = moons(n=40, seed=0)
    X_train, y_train, X_val, y_val = documented_split(X, y, 0.3, 4)
    by_hand = []
    net = Network([2, 5, 1], "tanh", "sigmoid", "bce", "normal", 4)
    net.train(X_train, y_train, 8, batch_size=7, log=None, optimizer=Adam(lr=0.05),
              on_epoch=lambda n, e, loss: by_hand.append(
                  (e, loss, hand_bce(y_val, n.forward(X_val)))))
    lines = out.splitlines()
    assert "28 training and 12 validation samples (--val-split 0.3)" in lines[0]
    logged = [VAL_LOG_LINE.fullmatch(line) for line in lines if line.startswith("Epoch")]
    assert all(logged) and [int(m.group(1)) for m in logged] == [0, 3, 6]
    for match in logged:
        _epoch, loss, val_loss = by_hand[int(match.group(1))]
        assert float(match.group(2)) == pytest.approx(loss, abs=5e-5)
        assert float(match.group(3)) == pytest.approx(val_loss, abs=5e-5 + 1e-12)
    assert lines[-4] == f"Final loss (bce): {hand_bce(y_train, net.forward(X_train)):.6f}"
    assert lines[-3] == f"Validation loss (bce): {hand_bce(y_val, net.forward(X_val)):.6f}"
    right, val_right = hand_right(y_train, net.forward(X_train)), hand_right(y_val, net.forward(X_val))
    assert lines[-2] == f"Accuracy: {100 * right / 28:.1f}% ({right} of 28)"
    assert lines[-1] == f"Validation accuracy: {100 * val_right / 12:.1f}% ({val_right} of 12)"
    assert any(line.startswith("validation loss ") for line in lines)  # its text chart


def expected_stop(val_losses, patience):
    """(stop epoch, best epoch) by the documented rule, or None: improving means strictly lower."""
    best, best_epoch, waited = math.inf, None, 0
    for epoch, v in enumerate(val_losses):
        if v < best:
            best, best_epoch, waited = v, epoch, 0
        else:
            waited += 1
            if waited == patience:
                return epoch, best_epoch
    return None


#: A run that early stopping stops: lr 2 on 28 moons samples, the validation loss wanders.
STOPPING = [*RUN, "--lr", "2", "--val-split", "0.3"]


def test_early_stopping_stops_where_the_rule_says_and_keeps_the_best_parameters(capsys, tmp_path):
    """The run stops after the K-th epoch in a row without a lower validation loss, with the
    parameters of the epoch that reached the lowest, found here in a run without early stopping."""
    X, y = moons(n=40, seed=0)
    X_train, y_train, X_val, y_val = documented_split(X, y, 0.3, 4)
    seen = []
    net = Network([2, 5, 1], "tanh", "sigmoid", "bce", "normal", 4)
    net.train(X_train, y_train, 60, 2.0, batch_size=7, log=None, on_epoch=lambda n, e, loss: seen.append(
        (hand_bce(y_val, n.forward(X_val)), [[list(r) for r in m] for m in n.weights])))
    stop, best = expected_stop([v for v, _ in seen], 3)
    assert 5 < stop < 50  # the premise: it stops, and not at once
    path = str(tmp_path / "m.json")
    code, out, _ = run_main(capsys, "train", *RUN[:-1], *STOPPING[len(RUN):], "--early-stopping",
                            "3", "--epochs", "60", "--save", path, "--log-every", "1000")
    assert code == 0
    loaded = Network.load(path)
    assert loaded.epochs_trained == stop + 1 and loaded.weights == seen[best][1]
    assert (f"Early stopping after epoch {stop}: the validation loss has not improved for 3"
            f" epochs; the parameters are epoch {best}'s") in out
    assert file_json(path)["run"]["early_stopped"] == {"epoch": stop, "best_epoch": best}


# -- resuming ----------------------------------------------------------------------------------

@pytest.mark.parametrize("options", [
    ["--optimizer", "adam", "--lr", "0.05"],
    ["--optimizer", "momentum", "--momentum", "0.8"],
    ["--optimizer", "nesterov", "--val-split", "0.25"],
    ["--optimizer", "rmsprop", "--momentum", "0.5", "--val-split", "0.2"],
    ["--optimizer", "adamw", "--weight-decay", "0.1", "--val-split", "0.3"],
    ["--lr", "2", "--val-split", "0.3", "--early-stopping", "3"],
    ["--optimizer", "adam", "--lr", "0.2", "--val-split", "0.3", "--early-stopping", "2"],
])
@pytest.mark.parametrize("form", ["bare", "repeated"])
def test_a_resumed_run_ends_bit_for_bit_where_the_whole_run_ends(capsys, tmp_path, options,
                                                                  form):
    """k epochs, then --resume to N (alone, or the first command repeated): the model file of
    the N-epoch run, optimizer state and early stopping's record included."""
    whole, part, resumed = (str(tmp_path / f) for f in ("whole.json", "ck.json", "res.json"))
    assert cli.main(["train", *RUN, *options, "--epochs", "30", "--save", whole]) == 0
    assert cli.main(["train", *RUN, *options, "--epochs", "4", "--checkpoint", part]) == 0
    again = [*RUN, *options] if form == "repeated" else ["--quiet"]
    assert cli.main(["train", *again, "--resume", part, "--epochs", "30", "--save",
                     resumed]) == 0
    assert model_numbers(resumed) == model_numbers(whole)
    assert file_json(resumed)["run"].get("early_stopped") == file_json(whole)["run"].get(
        "early_stopped")
    if "--early-stopping" in options:  # the premise: it stopped between the two
        assert 4 < file_json(whole)["run"]["early_stopped"]["epoch"] < 29
    else:
        assert file_json(whole)["training"]["optimizer"]["state"]["step"] > 0


def test_resuming_a_run_early_stopping_ended_trains_nothing(capsys, tmp_path):
    """A checkpoint written when early stopping stopped: a message, exit 0, nothing written."""
    path, saved = tmp_path / "ck.json", tmp_path / "m.json"
    assert cli.main(["train", *STOPPING, "--early-stopping", "3", "--epochs", "60",
                     "--checkpoint", str(path)]) == 0
    capsys.readouterr()
    stopped = file_json(path)["run"]["early_stopped"]
    before = path.read_bytes()
    code, out, err = run_main(capsys, "train", "--resume", str(path), "--epochs", "100",
                              "--checkpoint", str(path), "--save", str(saved))
    assert code == 0 and err == ""
    assert out.startswith(f"Nothing to train: {path} stopped early after epoch"
                          f" {stopped['epoch']} (--early-stopping 3")
    assert f"it holds epoch {stopped['best_epoch']}'s parameters" in out
    assert path.read_bytes() == before and not saved.exists()


def test_resume_names_every_new_option_that_differs(capsys, tmp_path):
    """--optimizer, its options, --val-split and --early-stopping against the checkpoint's."""
    path = str(tmp_path / "ck.json")
    assert cli.main(["train", *RUN, "--optimizer", "adam", "--val-split", "0.3",
                     "--early-stopping", "4", "--epochs", "2", "--checkpoint", path]) == 0
    capsys.readouterr()
    err = one_error_line(*run_main(
        capsys, "train", "--resume", path, "--optimizer", "adamw", "--beta1", "0.5",
        "--eps", "1e-8", "--val-split", "0.2", "--early-stopping", "4", "--momentum", "0.9"))
    for part in ("--optimizer (checkpoint adam, given adamw)", "--beta1 (checkpoint 0.9, given 0.5)",
                 "--val-split (checkpoint 0.3, given 0.2)", "--momentum (checkpoint none, given 0.9)"):
        assert part in err
    assert "--eps" not in err and "--early-stopping" not in err  # given, but the same


def test_resume_accepts_the_new_options_stating_what_the_checkpoint_used(capsys, tmp_path):
    """Every default of the step given again (torch's numbers) agrees with the checkpoint."""
    path = str(tmp_path / "ck.json")
    assert cli.main(["train", *RUN, "--optimizer", "adam", "--epochs", "2",
                     "--checkpoint", path]) == 0
    code, _, err = run_main(capsys, "train", "--resume", path, "--epochs", "3", "--quiet",
                            "--optimizer", "adam", "--lr", "0.001", "--beta1", "0.9",
                            "--beta2", "0.999", "--eps", "1e-8", "--weight-decay", "0",
                            "--checkpoint", path)
    assert code == 0 and err == "" and Network.load(path).epochs_trained == 3


def test_a_checkpoint_from_before_the_optimizers_resumes_as_plain_gradient_descent(capsys,
                                                                                tmp_path):
    """Run settings without the new keys are a run of sgd without validation, and resume so."""
    whole, part = str(tmp_path / "whole.json"), tmp_path / "ck.json"
    assert cli.main(["train", *RUN, "--lr", "0.5", "--epochs", "9", "--save", whole]) == 0
    assert cli.main(["train", *RUN, "--lr", "0.5", "--epochs", "3", "--checkpoint",
                     str(part)]) == 0
    data = file_json(part)
    for key in ("optimizer", "momentum", "beta1", "beta2", "eps", "weight_decay", "val_split",
                "early_stopping"):
        del data["run"]["settings"][key]
    part.write_text(json.dumps(data))
    assert cli.main(["train", "--resume", str(part), "--epochs", "9", "--weight-decay", "0",
                     "--optimizer", "sgd", "--checkpoint", str(part), "--quiet"]) == 0
    assert model_numbers(str(part)) == model_numbers(whole)


@pytest.mark.parametrize("key, value, words", [
    ("optimizer", "lbfgs", "the run settings' optimizer must be one of sgd, momentum"),
    ("optimizer", 3, "the run settings' optimizer must be one of"),
    ("val_split", 1.5, "the run settings' val_split must be a number between 0 and 1"),
    ("val_split", "0.2", "the run settings' val_split must be"),
    ("early_stopping", 0, "the run settings' early_stopping must be a whole number"),
    ("beta1", 0.5, "in its run settings, --beta1 does not apply to --optimizer sgd"),
    ("weight_decay", -1.0, "in its run settings, --weight-decay must not be negative, got -1.0"),
    ("weight_decay", "\x1b[31m", "in its run settings, --weight-decay must be a real number"),
    ("lr", 0.3, "the run settings' optimizer must be the training state's"),
])
def test_resume_refuses_step_settings_train_could_not_have_written(capsys, tmp_path, key,
                                                                  value, words):
    """A checkpoint's step or split settings altered: exit 2, one line, before anything prints."""
    path = tmp_path / "ck.json"
    assert cli.main(["train", *RUN, "--epochs", "2", "--checkpoint", str(path)]) == 0
    capsys.readouterr()
    data = file_json(path)
    data["run"]["settings"][key] = value
    path.write_text(json.dumps(data))
    err = one_error_line(*run_main(capsys, "train", "--resume", str(path), "--epochs", "4"))
    assert words in err and "\x1b" not in err


# -- pictures ------------------------------------------------------------------------------------

def test_plots_draw_the_validation_curve_and_points_apart(capsys, tmp_path):
    """loss.svg: two labelled curves and a legend; the boundary: filled training, hollow validation."""
    code, _, _ = run_main(capsys, "train", *RUN, "--val-split", "0.25", "--epochs", "12",
                          "--plot", str(tmp_path))
    assert code == 0
    root = parse(tmp_path / "loss.svg")
    lines = list(root.iter(f"{SVG}polyline"))
    assert [line.find(f"{SVG}title").text for line in lines] == ["training loss",
                                                                 "validation loss"]
    assert all(len(line.get("points").split()) == 12 for line in lines)
    assert lines[0].get("points") != lines[1].get("points")
    assert legend_names(root) == ["training loss", "validation loss"]
    assert "validation" in root.find(f"{SVG}title").text
    root = parse(tmp_path / "decision-boundary.svg")
    training = list(group(root, "points").iter(f"{SVG}circle"))
    validation = list(group(root, "validation-points").iter(f"{SVG}circle"))
    assert len(training) == 30 and len(validation) == 10
    assert all(c.get("fill") not in (None, "none") for c in training)
    assert group(root, "validation-points").get("fill") == "none"
    assert all(c.get("stroke") for c in validation)
    centres = {(c.get("cx"), c.get("cy")) for c in training}
    assert not centres & {(c.get("cx"), c.get("cy")) for c in validation}
    assert legend_names(root)[-2:] == ["training sample (30)", "validation sample (10)"]


def test_the_boundary_of_an_early_stopped_run_says_whose_parameters_it_shows(capsys, tmp_path):
    """The picture's title names the epoch whose parameters early stopping kept."""
    path = str(tmp_path / "m.json")
    code, _, _ = run_main(capsys, "train", *STOPPING, "--early-stopping", "3", "--epochs", "60",
                          "--plot", str(tmp_path), "--save", path)
    assert code == 0
    best = file_json(path)["run"]["early_stopped"]["best_epoch"]
    title = parse(tmp_path / "decision-boundary.svg").find(f"{SVG}title").text
    assert title.endswith(f"(early stopping: epoch {best}'s parameters)")


def test_help_documents_the_new_options(capsys):
    """--help lists every new option and the per-optimizer defaults of --lr."""
    code, out, _ = run_main(capsys, "train", "--help")
    assert code == 0
    for option in ("--optimizer", "--momentum", "--beta1", "--beta2", "--eps", "--weight-decay",
                   "--val-split", "--early-stopping"):
        assert option in out
    flat = " ".join(out.split())
    assert "0.1 for sgd; 0.01 for momentum, nesterov, rmsprop; 0.001 for adam, adamw" in flat
