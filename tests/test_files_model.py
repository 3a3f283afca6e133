"""Tests for purebp.files.model: model files saved and loaded exactly, written atomically, read warily.

The round trip is checked bit for bit (struct-packed float64, so −0.0 and
the subnormals count), generator state included, and then by its use: a
loaded network computes and trains exactly as the one saved, and training
resumed from a file continues as if it had never stopped. The loader is fed
damaged, hostile and randomly mutated files; each refusal must be a
ModelFormatError naming the file and the place, and nothing else may escape.
"""

import copy
import json
import math
import os
import random
import stat
import struct
import subprocess
import sys
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import cases, floats, general_cases, matrices, optimizers, targets_for

from purebp import _checks, datasets
from purebp.errors import DivergenceError
from purebp.files import jsonfile as _jsonfile
from purebp.files import model as persistence
from purebp.files.model import ModelFormatError
from purebp.network import Network
from purebp.optimizers import SGD, Adam, AdamW, RMSprop
from purebp.tutorial import NeuralNetwork

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
XOR_X, XOR_Y = datasets.xor()

#: Floats a writer could mangle: subnormals, −0.0, the ends of the range, repeating fractions.
EXTREMES = [5e-324, -5e-324, -0.0, 0.0, 1e308, -1e308, 1.7976931348623157e308,
            2.2250738585072014e-308, 1 / 3, -2 / 3, 0.1, 1e-300, 123456789.123456789]
extreme_floats = st.one_of(st.sampled_from(EXTREMES),
                           st.floats(allow_nan=False, allow_infinity=False))


# -- helpers -------------------------------------------------------------------------


def bits(value):
    """A float's 64 bits as hex (−0.0 is not 0.0), element by element for lists."""
    if isinstance(value, (list, tuple)):
        return [bits(v) for v in value]
    assert type(value) is float, f"{value!r} is a {type(value).__name__}, not a float"
    return struct.pack(">d", value).hex()


def rng_state(rng):
    version, key, gauss_next = rng.getstate()
    return version, key, None if gauss_next is None else bits(gauss_next)


def snapshot(net):
    """Everything a model file must carry, floats as bit patterns."""
    assert type(net.epochs_trained) is int
    if isinstance(net, Network):
        return {"class": "Network", "sizes": list(net.sizes), "activation": net.activation,
                "output_activation": net.output_activation, "loss": net.loss_name,
                "init": net.init, "weights": bits(net.weights), "biases": bits(net.biases),
                "epochs_trained": net.epochs_trained, "rng": rng_state(net.rng),
                "optimizer": optimizer_state(net.optimizer), "best": best_state(net.best)}
    return {"class": "NeuralNetwork",
            "sizes": [net.input_size, net.hidden_size, net.output_size],
            "weights_input_hidden": bits(net.weights_input_hidden),
            "weights_hidden_output": bits(net.weights_hidden_output),
            "bias_hidden": bits(net.bias_hidden), "bias_output": bits(net.bias_output),
            "epochs_trained": net.epochs_trained}


def optimizer_state(optimizer):
    """An optimizer's class, arguments, size and state, the buffers as bits (None: none)."""
    if optimizer is None:
        return None
    state = {k: bits(v) if isinstance(v, list) else v for k, v in optimizer.state.items()}
    return type(optimizer).__name__, optimizer.config(), optimizer.size, state


def best_state(best):
    """Early stopping's record, floats as bits."""
    if best is None:
        return None
    return {k: bits(v) if isinstance(v, (float, list)) else v for k, v in best.items()}


def listing(folder):
    return sorted(os.listdir(folder))


def set_at(data, path, value):
    """Return a deep copy of data with the entry at ``path`` (keys and indices) replaced or deleted."""
    data = copy.deepcopy(data)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


DELETE = object()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A folder for the property tests (hypothesis refuses function-scoped fixtures)."""
    return tmp_path_factory.mktemp("models")


def save_and_load(net, folder):
    path = os.path.join(folder, "model.json")
    net.save(path)
    return type(net).load(path), path


# -- round trip ----------------------------------------------------------------------


@st.composite
def general_networks_with_history(draw):
    """A general network with finite weights of any size, a training count, a used generator,
    and maybe an optimizer with state and an early-stopping record."""
    net, _, _ = draw(general_cases())
    if draw(st.booleans()):
        net.weights = [draw(matrices(r, c, extreme_floats))
                       for r, c in zip(net.sizes[:-1], net.sizes[1:])]
        net.biases = [draw(matrices(1, c, extreme_floats)) for c in net.sizes[1:]]
    net.epochs_trained = draw(st.integers(0, 2 ** 70))
    if draw(st.booleans()):
        net.rng.seed(draw(st.integers(0, 2 ** 64)))
    for _ in range(draw(st.integers(0, 700))):
        net.rng.random()  # moves the index through the whole state, past a refill
    if draw(st.booleans()):
        net.rng.gauss(0.0, 1.0)  # toggles gauss_next between None and a float
    if draw(st.booleans()):  # an optimizer with state: buffers of extreme floats too
        net.optimizer = draw(optimizers())
        size = sum(m * (n + 1) for n, m in zip(net.sizes[:-1], net.sizes[1:]))
        for _ in range(draw(st.integers(0, 3))):
            p = [draw(extreme_floats) for _ in range(size)]
            g = [draw(st.floats(-1e150, 1e150)) for _ in range(size)]
            net.optimizer.update(p, g)
        assume(all(math.isfinite(x) for k, v in net.optimizer.state.items() if k != "step"
                   for x in v))
    if draw(st.booleans()):
        net.best = {"epoch": draw(st.integers(0, 2 ** 70)),
                    "val_loss": draw(extreme_floats),
                    "weights": [draw(matrices(r, c, extreme_floats))
                                for r, c in zip(net.sizes[:-1], net.sizes[1:])],
                    "biases": [draw(matrices(1, c, extreme_floats)) for c in net.sizes[1:]],
                    "epochs_without_improvement": draw(st.integers(0, 2 ** 70))}
    return net


@given(general_networks_with_history())
def test_network_load_of_save_is_the_same_network_bit_for_bit(folder, net):
    """Network.load(save(net)) has the same sizes, names, init, float bits, epochs_trained, rng
    state, optimizer (class, arguments, size, step and every buffer) and early-stopping record."""
    loaded, _ = save_and_load(net, folder)
    assert type(loaded) is Network
    assert snapshot(loaded) == snapshot(net)


@given(cases(), st.integers(0, 2 ** 70), st.data())
def test_neural_network_load_of_save_is_the_same_network_bit_for_bit(folder, case, epochs, data):
    """NeuralNetwork.load(save(net)) has the same sizes, float bits (extremes too) and epochs_trained."""
    net, _, _ = case
    if data.draw(st.booleans()):
        net.weights_input_hidden = data.draw(matrices(net.input_size, net.hidden_size, extreme_floats))
        net.bias_output = data.draw(matrices(1, net.output_size, extreme_floats))
    net.epochs_trained = epochs
    loaded, _ = save_and_load(net, folder)
    assert type(loaded) is NeuralNetwork
    assert snapshot(loaded) == snapshot(net)


def test_extreme_floats_survive_in_their_sign_and_last_bit(tmp_path):
    """−0.0, 5e-324, 1e308 and 1/3 come back as exactly those floats (a check the helpers cannot fake)."""
    net = Network([2, 2, 1], seed=0)
    net.weights[0] = [[-0.0, 5e-324], [1e308, 1 / 3]]
    loaded, _ = save_and_load(net, tmp_path)
    w = loaded.weights[0]
    assert math.copysign(1.0, w[0][0]) == -1.0 and w[0][0] == 0.0
    assert w[0][1] == 5e-324 and w[0][1] / 2 == 0.0
    assert w[1][0] == 1e308 and w[1][1] == 1 / 3 and w[1][1] * 3 == 1.0


@given(general_networks_with_history())
@settings(max_examples=20)
def test_saving_a_loaded_network_writes_the_same_text(folder, net):
    """save(load(save(net))) writes the file save(net) wrote, character for character."""
    loaded, path = save_and_load(net, folder)
    with open(path, encoding="utf-8") as handle:
        first = handle.read()
    loaded.save(path)
    with open(path, encoding="utf-8") as handle:
        assert handle.read() == first


def test_the_file_is_plain_json_without_nan_or_infinity_literals(tmp_path):
    """A model file parses with a strict JSON reader that refuses NaN and Infinity."""
    path = tmp_path / "m.json"
    Network([3, 4, 2], "tanh", "softmax", "cross_entropy", seed=1).save(path)

    def refuse(name):
        raise AssertionError(f"the file holds the non-JSON constant {name}")

    with open(path, encoding="utf-8") as handle:
        data = json.loads(handle.read(), parse_constant=refuse)
    assert isinstance(data, dict)


# -- a loaded network works as the original ------------------------------------------


def outcome_of_training(net, X, y, **kwargs):
    """What training does to a network: its losses and state, or where it diverged."""
    try:
        losses = net.train(X, y, 3, 0.05, log=None, **kwargs)
    except DivergenceError as error:
        return "diverged", error.epoch, snapshot(net)
    return "trained", bits(losses), snapshot(net)


@given(general_cases(), st.integers(1, 8))
@settings(max_examples=30)
def test_loaded_network_computes_and_trains_exactly_as_the_original(folder, case, batch_size):
    """After a round trip, forward, loss, gradients and mini-batch training agree bit for bit."""
    net, X, y = case
    net.rng.seed(12345)
    loaded, _ = save_and_load(net, folder)
    assert bits(loaded.forward(X)) == bits(net.forward(X))
    assert bits(loaded.loss(X, y)) == bits(net.loss(X, y))
    assert bits(loaded.gradients(X, y)["weights"]) == bits(net.gradients(X, y)["weights"])
    assert bits(loaded.gradients(X, y)["biases"]) == bits(net.gradients(X, y)["biases"])
    assert (outcome_of_training(loaded, X, y, batch_size=batch_size)
            == outcome_of_training(net, X, y, batch_size=batch_size))


@given(cases())
@settings(max_examples=30)
def test_loaded_neural_network_computes_and_trains_exactly_as_the_original(folder, case):
    """After a round trip, feedforward, gradients and full-batch training agree bit for bit."""
    net, X, y = case
    loaded, _ = save_and_load(net, folder)
    assert bits(loaded.feedforward(X)) == bits(net.feedforward(X))
    ours, theirs = loaded.gradients(X, y), net.gradients(X, y)
    assert {k: bits(v) for k, v in ours.items()} == {k: bits(v) for k, v in theirs.items()}
    assert outcome_of_training(loaded, X, y) == outcome_of_training(net, X, y)


# -- resuming ------------------------------------------------------------------------

MOONS_X, MOONS_Y = datasets.moons(n=14, noise=0.2, seed=1)


def moons_network():
    return Network([2, 5, 1], "tanh", "sigmoid", "bce", "xavier", seed=7)


def test_network_resumed_from_a_file_continues_exactly_as_one_run(tmp_path):
    """10 mini-batch epochs in one go equal 4, save, load, then 6: weights, losses, rng, epochs, log lines."""
    whole, lines = moons_network(), []
    losses = whole.train(MOONS_X, MOONS_Y, 10, 0.3, batch_size=3, log_every=1, log=lines.append)

    first = moons_network()
    first.train(MOONS_X, MOONS_Y, 4, 0.3, batch_size=3, log=None)
    first.save(tmp_path / "m.json")
    resumed, resumed_lines = Network.load(tmp_path / "m.json"), []
    rest = resumed.train(MOONS_X, MOONS_Y, 6, 0.3, batch_size=3, log_every=1,
                         log=resumed_lines.append)

    assert bits(rest) == bits(losses[4:])
    assert resumed.epochs_trained == 10
    assert snapshot(resumed) == snapshot(whole)
    assert resumed_lines[0].startswith("Epoch 4,")
    assert resumed_lines == lines[4:]


def test_the_shuffles_matter_so_the_resume_test_can_fail(tmp_path):
    """Resuming with a fresh generator instead of the saved one gives other losses (the rng must travel)."""
    whole = moons_network()
    losses = whole.train(MOONS_X, MOONS_Y, 10, 0.3, batch_size=3, log=None)
    first = moons_network()
    first.train(MOONS_X, MOONS_Y, 4, 0.3, batch_size=3, log=None)
    first.rng = random.Random(7)
    assert bits(first.train(MOONS_X, MOONS_Y, 6, 0.3, batch_size=3, log=None)) != bits(losses[4:])


def test_resumed_log_keeps_the_log_every_schedule(tmp_path):
    """With log_every=3, a run resumed at epoch 4 logs epochs 6 and 9, as the uninterrupted run does."""
    whole, lines = moons_network(), []
    whole.train(MOONS_X, MOONS_Y, 10, 0.3, batch_size=3, log_every=3, log=lines.append)
    first = moons_network()
    first.train(MOONS_X, MOONS_Y, 4, 0.3, batch_size=3, log=None)
    first.save(tmp_path / "m.json")
    resumed_lines = []
    Network.load(tmp_path / "m.json").train(MOONS_X, MOONS_Y, 6, 0.3, batch_size=3,
                                            log_every=3, log=resumed_lines.append)
    assert [line.split(",")[0] for line in lines] == ["Epoch 0", "Epoch 3", "Epoch 6", "Epoch 9"]
    assert resumed_lines == lines[2:]


def test_neural_network_resumed_from_a_file_continues_exactly_as_one_run(tmp_path):
    """The tutorial's network: 10 full-batch epochs in one go equal 4, save, load, then 6."""
    whole, lines = NeuralNetwork(2, 4, 1, seed=0), []
    losses = whole.train(XOR_X, XOR_Y, 10, 0.5, log_every=1, log=lines.append)

    first = NeuralNetwork(2, 4, 1, seed=0)
    first.train(XOR_X, XOR_Y, 4, 0.5, log=None)
    first.save(tmp_path / "m.json")
    resumed, resumed_lines = NeuralNetwork.load(tmp_path / "m.json"), []
    rest = resumed.train(XOR_X, XOR_Y, 6, 0.5, log_every=1, log=resumed_lines.append)

    assert bits(rest) == bits(losses[4:])
    assert resumed.epochs_trained == 10
    assert snapshot(resumed) == snapshot(whole)
    assert resumed_lines[0].startswith("Epoch 4,")
    assert resumed_lines == lines[4:]


def test_a_checkpoint_saved_from_on_epoch_resumes_exactly(tmp_path):
    """Saving in on_epoch and stopping there (as Ctrl-C does) gives a file that resumes bit for bit."""
    path = tmp_path / "checkpoint.json"
    whole = moons_network()
    losses = whole.train(MOONS_X, MOONS_Y, 9, 0.3, batch_size=4, log=None)

    def checkpoint(net, epoch, loss):
        net.save(path)
        return epoch < 4  # stop after epoch 4, as an interrupted run would

    interrupted = moons_network()
    done = interrupted.train(MOONS_X, MOONS_Y, 9, 0.3, batch_size=4, log=None, on_epoch=checkpoint)
    assert len(done) == 5
    resumed = Network.load(path)
    assert resumed.epochs_trained == 5
    rest = resumed.train(MOONS_X, MOONS_Y, 4, 0.3, batch_size=4, log=None)
    assert bits(done + rest) == bits(losses)
    assert snapshot(resumed) == snapshot(whole)


# -- resuming with an optimizer, validation and early stopping ------------------------


def history_bits(history):
    return {k: v if k == "epoch" else bits(v) for k, v in history.items()}


def trained(net, X, y, epochs, **kwargs):
    """Train; return (losses as bits, or where it diverged)."""
    try:
        return bits(net.train(X, y, epochs, log=None, **kwargs))
    except DivergenceError as error:
        return "diverged", error.epoch


@given(general_cases(max_depth=3), optimizers(), st.integers(1, 8), st.data())
@settings(max_examples=40)
def test_training_resumed_from_a_file_with_any_optimizer_continues_as_one_run(folder, case,
                                                                             optimizer, epochs,
                                                                             data):
    """N epochs in one go equal k, save, load, N − k with the loaded optimizer: losses, parameters,
    optimizer state, generator, epochs, early stopping's record and the history, bit for bit;
    full batch or mini-batches, with or without validation and early stopping."""
    net, X, y = case
    k = data.draw(st.integers(0, epochs), label="k")
    options = {"batch_size": data.draw(st.one_of(st.none(), st.integers(1, 4)), label="batch")}
    if data.draw(st.booleans(), label="validation"):
        n = data.draw(st.integers(1, 4))
        options["validation"] = (data.draw(matrices(n, net.sizes[0], floats(2))),
                                 data.draw(targets_for(net, n)))
        options["early_stopping"] = data.draw(st.one_of(st.none(), st.integers(1, 3)))
    whole, first = copy.deepcopy(net), copy.deepcopy(net)
    losses = trained(whole, X, y, epochs, optimizer=copy.deepcopy(optimizer), **options)
    done = trained(first, X, y, k, optimizer=copy.deepcopy(optimizer), **options)
    # No divergence before the save, and no early stop at or before it (a run that has
    # stopped trains on when called again, as it should, unlike the uninterrupted run):
    assume(isinstance(done, list) and len(done) == k)
    assume(not isinstance(losses, list) or len(losses) > k or len(losses) == epochs)
    resumed, _ = save_and_load(first, folder)
    rest = trained(resumed, X, y, epochs - k, **options)
    if isinstance(losses, list):
        assert done + rest == losses
    else:  # diverged: at the same epoch, in the same state
        assert rest[0] == "diverged" and rest == losses
    assert snapshot(resumed) == snapshot(whole)
    assert history_bits({k_: first.history[k_] + resumed.history[k_] for k_ in first.history}) \
        == history_bits(whole.history)


#: One of each optimizer, every option on.
EVERY_OPTIMIZER = [
    SGD(0.2, momentum=0.9, dampening=0.1, weight_decay=0.01),
    SGD(0.2, momentum=0.9, weight_decay=0.01, nesterov=True),
    RMSprop(0.01, alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.5, centered=True),
    Adam(0.02, betas=(0.8, 0.99), weight_decay=0.01, amsgrad=True),
    AdamW(0.02, weight_decay=0.1, amsgrad=True),
]


@pytest.mark.parametrize("batch_size", [None, 3])
@pytest.mark.parametrize("optimizer", EVERY_OPTIMIZER, ids=repr)
def test_a_stateful_optimizer_resumes_mid_run_exactly(tmp_path, optimizer, batch_size):
    """12 epochs in one go equal 5, save, load, 7, for every optimizer (its state is in the file)."""
    whole = moons_network()
    losses = whole.train(MOONS_X, MOONS_Y, 12, optimizer=copy.deepcopy(optimizer),
                         batch_size=batch_size, log=None)
    first = moons_network()
    first.train(MOONS_X, MOONS_Y, 5, optimizer=copy.deepcopy(optimizer), batch_size=batch_size,
                log=None)
    first.save(tmp_path / "m.json")
    resumed = Network.load(tmp_path / "m.json")
    assert resumed.optimizer is not None and resumed.optimizer.state["step"] == first.optimizer.state["step"]
    rest = resumed.train(MOONS_X, MOONS_Y, 7, batch_size=batch_size, log=None)
    assert bits(rest) == bits(losses[5:])
    assert snapshot(resumed) == snapshot(whole)


@pytest.mark.parametrize("optimizer", EVERY_OPTIMIZER[:1] + EVERY_OPTIMIZER[2:], ids=repr)
def test_the_optimizer_state_matters_so_the_resume_test_can_fail(tmp_path, optimizer):
    """Resuming with a fresh optimizer of the same arguments gives other losses: the state must travel."""
    whole = moons_network()
    losses = whole.train(MOONS_X, MOONS_Y, 12, optimizer=copy.deepcopy(optimizer), log=None)
    first = moons_network()
    first.train(MOONS_X, MOONS_Y, 5, optimizer=copy.deepcopy(optimizer), log=None)
    fresh = first.train(MOONS_X, MOONS_Y, 7, optimizer=optimizers_by_config(optimizer), log=None)
    assert bits(fresh) != bits(losses[5:])


def optimizers_by_config(optimizer):
    from purebp.optimizers import from_config
    return from_config(optimizer.config())


def test_early_stopping_resumed_from_a_checkpoint_stops_where_one_run_stops(tmp_path):
    """A run stopped early at epoch e: checkpointed at every epoch, resumed from the file of
    any epoch before e, it stops at e too, with the same restored parameters."""
    X_val, y_val = datasets.moons(n=10, noise=0.4, seed=9)
    options = {"validation": (X_val, y_val), "early_stopping": 3, "batch_size": 3}
    big = Network([2, 16, 1], "tanh", "sigmoid", "bce", "xavier", seed=7)
    whole = copy.deepcopy(big)
    losses = whole.train(MOONS_X, MOONS_Y, 200, optimizer=Adam(0.05), log=None, **options)
    stopped = len(losses)
    assert 5 < stopped < 200, "the case should stop early, after some epochs"
    assert whole.best is None  # cleared by the stop

    def checkpoint(net, epoch, loss):
        net.save(tmp_path / f"epoch-{epoch}.json")

    copy.deepcopy(big).train(MOONS_X, MOONS_Y, 200, optimizer=Adam(0.05), log=None,
                             on_epoch=checkpoint, **options)
    for epoch in (0, stopped // 2, stopped - 2):
        resumed = Network.load(tmp_path / f"epoch-{epoch}.json")
        assert resumed.best is not None and resumed.best["epoch"] <= epoch
        rest = resumed.train(MOONS_X, MOONS_Y, 200 - epoch - 1, log=None, **options)
        assert bits(losses[:epoch + 1] + rest) == bits(losses)
        assert snapshot(resumed) == snapshot(whole)


# -- version-1 files ---------------------------------------------------------------


DATA = os.path.join(ROOT, "tests", "data")


def old_runs():
    with open(os.path.join(DATA, "sgd-runs-595b03c.json"), encoding="utf-8") as f:
        return {run["file"]: run for run in json.load(f)["train_on"]}


@pytest.mark.parametrize("name, cls", [("model-v1-network.json", Network),
                                       ("model-v1-neuralnetwork.json", NeuralNetwork)])
def test_a_version_1_file_loads_with_its_parameters_and_trains_on_as_before(tmp_path, name, cls):
    """A file commit 595b03c wrote (format version 1, before optimizers) loads with the
    parameters it holds, bit for bit, and no optimizer yet; plain gradient descent from there
    gives the losses and parameters the old code gave (tests/data/make_v1_data.py)."""
    path = os.path.join(DATA, name)
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    assert data["version"] == 1 and "optimizer" not in data["training"]
    net = cls.load(path)
    run = old_runs()[name]
    if cls is Network:
        assert bits(net.weights) == bits(data["parameters"]["weights"])
        assert bits(net.biases) == bits(data["parameters"]["biases"])
        assert net.optimizer is None and net.best is None
        key = data["training"]["rng_state"]["key"]
        assert list(net.rng.getstate()[1]) == key
        weights, biases = lambda: net.weights, lambda: net.biases
    else:
        assert bits([net.weights_input_hidden, net.weights_hidden_output]) \
            == bits(data["parameters"]["weights"])
        weights = lambda: [net.weights_input_hidden, net.weights_hidden_output]  # noqa: E731
        biases = lambda: [net.bias_hidden, net.bias_output]  # noqa: E731
    assert net.epochs_trained == data["training"]["epochs_trained"]
    options = {} if run["batch_size"] is None else {"batch_size": run["batch_size"]}
    losses = net.train(run["X"], run["y"], run["epochs"], run["learning_rate"], log=None,
                       **options)
    assert bits(losses) == run["losses"]
    assert bits(weights()) == run["weights"] and bits(biases()) == run["biases"]
    if cls is Network:
        assert bits(net.rng.random()) == run["next_random"]


def test_a_version_1_network_trains_on_with_an_optimizer_and_saves_as_version_2(tmp_path):
    """A loaded version-1 Network takes an optimizer, and saves as version 2 with it."""
    net = Network.load(os.path.join(DATA, "model-v1-network.json"))
    net.train(MOONS_X, MOONS_Y, 3, optimizer=Adam(0.01), batch_size=4, log=None)
    net.save(tmp_path / "m.json")
    data = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    assert data["version"] == 2 and data["training"]["optimizer"]["name"] == "adam"
    assert snapshot(Network.load(tmp_path / "m.json")) == snapshot(net)


def test_run_settings_travel_with_the_model(tmp_path):
    """persistence.read returns the run settings save was given, as they were."""
    run = {"data": "moons", "lr": 0.3, "layers": [2, 5, 1], "note": "ünïcode", "none": None}
    net = moons_network()
    persistence.save(net, tmp_path / "m.json", run=run)
    loaded, loaded_run = persistence.read(tmp_path / "m.json")
    assert loaded_run == run
    assert snapshot(loaded) == snapshot(net)
    assert persistence.read(save_and_load(net, tmp_path)[1])[1] is None


def test_run_settings_that_are_not_json_are_refused_and_nothing_is_written(tmp_path):
    """A run with a NaN or a set is refused with ValueError before the file is touched."""
    path = tmp_path / "m.json"
    moons_network().save(path)
    before = path.read_bytes()
    for run in ({"lr": math.nan}, {"tags": {1, 2}}):
        with pytest.raises(ValueError):
            persistence.save(moons_network(), path, run=run)
        assert path.read_bytes() == before
        assert listing(tmp_path) == ["m.json"]


# -- atomic writes -------------------------------------------------------------------


def saved_once(tmp_path):
    path = tmp_path / "m.json"
    NeuralNetwork(2, 4, 1, seed=0).save(path)
    return path, path.read_bytes()


def test_save_replaces_an_existing_file(tmp_path):
    """Saving over an old model leaves exactly the new one, and no other file."""
    path, before = saved_once(tmp_path)
    net = NeuralNetwork(2, 4, 1, seed=1)
    net.save(str(path))
    assert path.read_bytes() != before
    assert snapshot(NeuralNetwork.load(str(path))) == snapshot(net)
    assert listing(tmp_path) == ["m.json"]


@pytest.mark.parametrize("where", ["fsync", "replace"])
def test_a_write_failing_midway_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch,
                                                                          where):
    """If os.fsync or os.replace fails, save raises ValueError naming the path; the old file is intact."""
    path, before = saved_once(tmp_path)

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_jsonfile.os, where, fail)
    with pytest.raises(ValueError) as info:
        NeuralNetwork(2, 4, 1, seed=1).save(str(path))
    monkeypatch.undo()
    assert str(path) in str(info.value)
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["m.json"]


def test_an_interrupt_during_the_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path,
                                                                                  monkeypatch):
    """A KeyboardInterrupt at fsync propagates, and the old file is intact with nothing beside it."""
    path, before = saved_once(tmp_path)

    def interrupt(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(_jsonfile.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        moons_network().save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["m.json"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_saved_file_has_an_ordinary_mode(tmp_path):
    """A model file gets the mode open() gives a new file (umask applied), not mkstemp's 0600."""
    ordinary = tmp_path / "ordinary.json"
    ordinary.write_text("{}")
    moons_network().save(tmp_path / "m.json")
    mode = stat.S_IMODE((tmp_path / "m.json").stat().st_mode)
    assert mode == stat.S_IMODE(ordinary.stat().st_mode)


# -- save refuses --------------------------------------------------------------------


def _nan_weight(net):
    net.weights[0][1][2] = math.nan


def _inf_bias(net):
    net.biases[1][0][0] = -math.inf


BAD_PARAMETERS = [
    ("NaN weight", lambda: Network([2, 3, 1], seed=0), _nan_weight, "weights[0]"),
    ("infinite bias", lambda: Network([2, 3, 1], seed=0), _inf_bias, "biases[1]"),
    ("missing layer", lambda: Network([2, 3, 1], seed=0), lambda n: n.weights.pop(), "weights"),
    ("bias too wide", lambda: Network([2, 3, 1], seed=0),
     lambda n: n.biases.__setitem__(1, [[0.0, 0.0]]), "biases[1]"),
    ("string weight", lambda: Network([2, 3, 1], seed=0),
     lambda n: n.weights[1].__setitem__(0, ["0.5"]), "weights[1]"),
    ("tutorial W1 wrong shape", lambda: NeuralNetwork(2, 4, 1, seed=0),
     lambda n: setattr(n, "weights_input_hidden", [[1.0] * 4]), "weights_input_hidden"),
    ("tutorial b2 NaN", lambda: NeuralNetwork(2, 4, 1, seed=0),
     lambda n: setattr(n, "bias_output", [[math.nan]]), "bias_output"),
]


@pytest.mark.parametrize("what, make, spoil, words", BAD_PARAMETERS,
                         ids=[c[0] for c in BAD_PARAMETERS])
def test_save_refuses_bad_parameters_and_writes_nothing(tmp_path, what, make, spoil, words):
    """Parameters a caller made NaN, infinite or misshapen are refused naming them; the old file stays."""
    path, before = saved_once(tmp_path)
    net = make()
    spoil(net)
    with pytest.raises((ValueError, TypeError)) as info:
        net.save(path)
    assert words in str(info.value)
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["m.json"]


def overflowed_adam():
    """A network Adam trained on a gradient of 2e160: its v holds g² = inf, its parameters stay
    finite (m̂/(√inf + eps) = 0), so training goes on, as in torch."""
    net = Network([1, 1], "identity", "identity", "mse", seed=0)
    net.weights = [[[0.0]]]
    net.train([[1e10]], [[1e150]], 1, optimizer=Adam(0.1), log=None)
    assert net.optimizer.state["exp_avg_sq"][0] == math.inf and net._finite()
    return net


def infinite_record():
    """A validation loss of inf at epoch 0 (an overflowing square) is early stopping's record."""
    net = Network([1, 1], "identity", "identity", "half_sse", seed=0)
    net.train([[1.0]], [[0.0]], 1, 0.0, validation=([[1e200]], [[0.0]]), early_stopping=2,
              log=None)
    assert net.best["val_loss"] == math.inf
    return net


@pytest.mark.parametrize("make, words", [
    (overflowed_adam, "save: optimizer.state['exp_avg_sq'][0] must be finite for a model file,"
                      " got inf"),
    (infinite_record, "save: best['val_loss'] must be finite for a model file, got inf"),
], ids=["optimizer state", "early stopping"])
def test_save_refuses_a_training_state_a_file_cannot_hold_naming_it(tmp_path, make, words):
    """An infinite buffer or record is refused naming it (once blamed on the run settings), and
    the old file stays."""
    path, before = saved_once(tmp_path)
    with pytest.raises(ValueError) as info:
        make().save(path)
    assert str(info.value) == words
    assert path.read_bytes() == before and listing(tmp_path) == ["m.json"]


@pytest.mark.parametrize("path", [3, None, b"m.json", ["m.json"]])
def test_save_refuses_a_path_that_is_not_a_str_or_pathlike(tmp_path, monkeypatch, path):
    """A path of another type raises TypeError naming the path, and nothing is written anywhere."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TypeError) as info:
        moons_network().save(path)
    assert "path" in str(info.value)
    assert listing(tmp_path) == []


def test_save_into_a_missing_folder_is_a_value_error_naming_the_path(tmp_path):
    """A folder that does not exist gives ValueError (not an OSError) naming the path; nothing is made."""
    path = tmp_path / "missing" / "m.json"
    with pytest.raises(ValueError) as info:
        moons_network().save(path)
    assert not isinstance(info.value, OSError)
    assert str(path) in str(info.value)
    assert listing(tmp_path) == []


def test_save_refuses_something_that_is_not_a_network_with_type_error(tmp_path):
    """persistence.save of an object that is no network raises TypeError, and writes nothing."""
    with pytest.raises(TypeError):
        persistence.save({"weights": []}, tmp_path / "m.json")
    assert listing(tmp_path) == []


@pytest.mark.parametrize("epochs", [-1, 2.5, "3", True])
def test_save_refuses_an_epochs_trained_that_load_would_refuse(tmp_path, epochs):
    """A caller's epochs_trained that is not an int ≥ 0 is refused at save, not discovered at load."""
    net = moons_network()
    net.epochs_trained = epochs
    try:
        net.save(tmp_path / "m.json")
    except (TypeError, ValueError) as error:
        assert "epochs_trained" in str(error)
        assert listing(tmp_path) == []
    else:
        Network.load(tmp_path / "m.json")  # whatever save writes, load must read


def test_parameters_that_train_accepts_save_as_their_floats(tmp_path):
    """A Fraction weight, which forward and train accept as a real number, saves as its float."""
    net = moons_network()
    net.weights[0][0][0] = Fraction(1, 3)
    net.save(tmp_path / "m.json")
    assert bits(Network.load(tmp_path / "m.json").weights[0][0][0]) == bits(1 / 3)


# -- load refuses --------------------------------------------------------------------


def network_file_data():
    net = Network([2, 3, 1], "tanh", "sigmoid", "bce", seed=0)
    net.rng.gauss(0.0, 1.0)
    return json.loads(json.dumps(persistence.to_dict(net, run={"lr": 0.1})))


def trained_file_data():
    """A Network file with an optimizer's state (Adam with amsgrad) and early stopping's record."""
    net = Network([2, 3, 1], "tanh", "sigmoid", "bce", seed=0)
    net.train(XOR_X, XOR_Y, 2, optimizer=Adam(0.01, amsgrad=True), validation=(XOR_X, XOR_Y),
              early_stopping=5, log=None)
    return json.loads(json.dumps(persistence.to_dict(net)))


def tutorial_file_data():
    return json.loads(json.dumps(persistence.to_dict(NeuralNetwork(2, 3, 1, seed=0))))


def four_layer_tutorial_data():
    data = json.loads(json.dumps(persistence.to_dict(Network([2, 3, 3, 1], seed=0))))
    data["class"] = "NeuralNetwork"
    del data["training"]["rng_state"]
    return data


def with_text(data, old, new):
    """The JSON text of data with one literal swapped for raw text (1e400, a 5000-digit int)."""
    text = json.dumps(data)
    assert text.count(old) == 1
    return text.replace(old, new)


W = ("parameters", "weights")
B = ("parameters", "biases")
KEY = ("training", "rng_state", "key")
OPT = ("training", "optimizer")
STATE = OPT + ("state",)
BEST = ("training", "early_stopping")
NET, TUT, OPTIMIZED = network_file_data, tutorial_file_data, trained_file_data


def with_tutorial_optimizer(data):
    data["training"]["optimizer"] = trained_file_data()["training"]["optimizer"]
    return json.dumps(data)

# (what, which file, how to spoil it: path and value, or a function giving text; the place named)
BAD_FILES = [
    ("truncated", NET, lambda d: json.dumps(d)[: len(json.dumps(d)) // 2], "line 1"),
    ("empty", NET, lambda d: "", "line 1"),
    ("top level a list", NET, lambda d: "[]", None),
    ("format", NET, (("format",), "purebp-vectors"), "format"),
    ("no format", NET, (("format",), DELETE), "format"),
    ("version 3", NET, (("version",), 3), "version"),
    ("version string", NET, (("version",), "1"), "version"),
    ("unknown class", NET, (("class",), "Perceptron"), "class"),
    ("no class", NET, (("class",), DELETE), "class"),
    ("unknown activation", NET, (("network", "activation"), "swish"), "network.activation"),
    ("unknown output", NET, (("network", "output_activation"), "elu"), "network.output_activation"),
    ("unknown loss", NET, (("network", "loss"), "hinge"), "network.loss"),
    ("loss and output disagree", NET, (("network", "output_activation"), "identity"), "network"),
    ("unknown init", NET, (("network", "init"), "uniform"), "init"),
    ("no network", NET, (("network",), DELETE), "network"),
    ("size zero", NET, (("network", "sizes", 1), 0), "network.sizes"),
    ("size float", NET, (("network", "sizes", 1), 3.0), "network.sizes"),
    ("size bool", NET, (("network", "sizes", 2), True), "network.sizes"),
    ("sizes a string", NET, (("network", "sizes"), "2,3,1"), "network.sizes"),
    ("one size", NET, (("network", "sizes"), [2]), "network.sizes"),
    ("layer over the limit", NET, (("network", "sizes"), [2, 100001, 1]), "network.sizes"),
    ("a layer missing", NET, (W, [[[0.5] * 3] * 2]), "parameters.weights"),
    ("weights row missing", NET, (W + (0,), [[0.5] * 3]), "parameters.weights[0]"),
    ("weights row too wide", NET, (W + (1, 2), [0.5, 0.5]), "parameters.weights[1][2]"),
    ("weights a number", NET, (W + (1,), 0.5), "parameters.weights[1]"),
    ("biases two rows", NET, (B + (0,), [[0.0] * 3] * 2), "parameters.biases[0]"),
    ("no parameters", NET, (("parameters",), DELETE), "parameters"),
    ("weight a string", NET, (W + (0, 1, 2), "0.5"), "parameters.weights[0][1][2]"),
    ("weight NaN", NET, (W + (0, 1, 2), math.nan), "parameters.weights[0][1][2]"),
    ("weight Infinity", NET, (W + (0, 1, 2), math.inf), "parameters.weights[0][1][2]"),
    ("weight -Infinity", NET, (W + (1, 0, 0), -math.inf), "parameters.weights[1][0][0]"),
    ("weight true", NET, (W + (0, 1, 2), True), "parameters.weights[0][1][2]"),
    ("weight null", NET, (W + (0, 1, 2), None), "parameters.weights[0][1][2]"),
    ("weight 1e400", NET, lambda d: with_text(set_at(d, W + (0, 1, 2), 0.125), "0.125", "1e400"),
     "parameters.weights[0][1][2]"),
    ("bias NaN", NET, (B + (1, 0, 0), math.nan), "parameters.biases[1][0][0]"),
    ("weight a 5000-digit int", NET,
     lambda d: with_text(set_at(d, W + (0, 1, 2), 0.125), "0.125", "9" * 5000), None),
    ("no rng_state", NET, (("training", "rng_state"), DELETE), "rng_state"),
    ("rng version 2", NET, (("training", "rng_state", "version"), 2), "rng_state.version"),
    ("rng 624 ints", NET, (KEY, [1] * 624), "rng_state.key"),
    ("rng word 2**32", NET, (KEY + (5,), 2 ** 32), "rng_state.key"),
    ("rng word negative", NET, (KEY + (5,), -1), "rng_state.key"),
    ("rng word float", NET, (KEY + (5,), 1.5), "rng_state.key"),
    ("rng index 700", NET, (KEY + (624,), 700), "rng_state.key"),
    ("rng key a string", NET, (KEY, "mt19937"), "rng_state.key"),
    ("gauss_next a string", NET, (("training", "rng_state", "gauss_next"), "0.5"),
     "rng_state.gauss_next"),
    ("training a list", NET, (("training",), []), "training"),
    ("epochs negative", NET, (("training", "epochs_trained"), -1), "training.epochs_trained"),
    ("epochs float", NET, (("training", "epochs_trained"), 2.0), "training.epochs_trained"),
    ("epochs string", NET, (("training", "epochs_trained"), "3"), "training.epochs_trained"),
    ("epochs true", NET, (("training", "epochs_trained"), True), "training.epochs_trained"),
    ("run a number", NET, (("run",), 3), "run"),
    ("optimizer a list", OPTIMIZED, (OPT, []), "training.optimizer"),
    ("optimizer unknown", OPTIMIZED, (OPT + ("name",), "adagrad"), "training.optimizer.name"),
    ("optimizer name a list", OPTIMIZED, (OPT + ("name",), ["adam"]), "training.optimizer.name"),
    ("optimizer no name", OPTIMIZED, (OPT + ("name",), DELETE), "training.optimizer"),
    ("optimizer no arguments", OPTIMIZED, (OPT + ("arguments",), DELETE), "training.optimizer"),
    ("arguments a list", OPTIMIZED, (OPT + ("arguments",), [0.01]),
     "training.optimizer.arguments"),
    ("lr negative", OPTIMIZED, (OPT + ("arguments", "lr"), -0.01),
     "training.optimizer.arguments: adam: lr must not be negative"),
    ("lr a string", OPTIMIZED, (OPT + ("arguments", "lr"), "0.01"),
     "training.optimizer.arguments: adam: lr must be a real number"),
    ("beta1 one", OPTIMIZED, (OPT + ("arguments", "betas", 0), 1.0),
     "training.optimizer.arguments: adam: betas[0] must lie in [0, 1)"),
    ("betas three", OPTIMIZED, (OPT + ("arguments", "betas"), [0.9, 0.99, 0.999]),
     "training.optimizer.arguments: adam: betas must be a pair"),
    ("eps zero", OPTIMIZED, (OPT + ("arguments", "eps"), 0.0),
     "training.optimizer.arguments: adam: eps must be positive"),
    ("amsgrad 1", OPTIMIZED, (OPT + ("arguments", "amsgrad"), 1),
     "training.optimizer.arguments: adam: amsgrad must be True or False"),
    ("an argument unknown", OPTIMIZED, (OPT + ("arguments", "momentum"), 0.9),
     "training.optimizer.arguments: adam: arguments must be some of"),
    ("no state", OPTIMIZED, (STATE, DELETE), "training.optimizer"),
    ("state a list", OPTIMIZED, (STATE, []), "training.optimizer.state"),
    ("no step", OPTIMIZED, (STATE + ("step",), DELETE), "training.optimizer.state"),
    ("step negative", OPTIMIZED, (STATE + ("step",), -1), "training.optimizer.state.step"),
    ("step float", OPTIMIZED, (STATE + ("step",), 2.0), "training.optimizer.state.step"),
    ("step true", OPTIMIZED, (STATE + ("step",), True), "training.optimizer.state.step"),
    ("step 0 with buffers", OPTIMIZED, (STATE + ("step",), 0), "training.optimizer.state"),
    ("a buffer missing", OPTIMIZED, (STATE + ("max_exp_avg_sq",), DELETE),
     "training.optimizer.state must hold step, exp_avg, exp_avg_sq, max_exp_avg_sq"),
    ("a buffer too many", OPTIMIZED, (STATE + ("momentum_buffer",), {"weights": [], "biases": []}),
     "training.optimizer.state must hold"),
    ("buffer a list", OPTIMIZED, (STATE + ("exp_avg",), [0.0]), "training.optimizer.state.exp_avg"),
    ("buffer no biases", OPTIMIZED, (STATE + ("exp_avg", "biases"), DELETE),
     "training.optimizer.state.exp_avg"),
    ("buffer row missing", OPTIMIZED, (STATE + ("exp_avg", "weights", 0), [[0.0] * 3]),
     "training.optimizer.state.exp_avg.weights[0]"),
    ("buffer layer missing", OPTIMIZED, (STATE + ("exp_avg_sq", "biases"), [[[0.0] * 3]]),
     "training.optimizer.state.exp_avg_sq.biases"),
    ("buffer NaN", OPTIMIZED, (STATE + ("exp_avg_sq", "biases", 1, 0, 0), math.nan),
     "training.optimizer.state.exp_avg_sq.biases[1][0][0]"),
    ("buffer Infinity", OPTIMIZED, (STATE + ("max_exp_avg_sq", "weights", 1, 2, 0), math.inf),
     "training.optimizer.state.max_exp_avg_sq.weights[1][2][0]"),
    ("buffer a string", OPTIMIZED, (STATE + ("exp_avg", "weights", 0, 1, 2), "0.5"),
     "training.optimizer.state.exp_avg.weights[0][1][2]"),
    ("early_stopping a list", OPTIMIZED, (BEST, []), "training.early_stopping"),
    ("best epoch negative", OPTIMIZED, (BEST + ("epoch",), -1), "training.early_stopping.epoch"),
    ("best epoch float", OPTIMIZED, (BEST + ("epoch",), 1.0), "training.early_stopping.epoch"),
    ("best no epoch", OPTIMIZED, (BEST + ("epoch",), DELETE), "training.early_stopping"),
    ("best wait true", OPTIMIZED, (BEST + ("epochs_without_improvement",), True),
     "training.early_stopping.epochs_without_improvement"),
    ("best no wait", OPTIMIZED, (BEST + ("epochs_without_improvement",), DELETE),
     "training.early_stopping"),
    ("best val_loss NaN", OPTIMIZED, (BEST + ("val_loss",), math.nan),
     "training.early_stopping.val_loss"),
    ("best val_loss a string", OPTIMIZED, (BEST + ("val_loss",), "0.5"),
     "training.early_stopping.val_loss"),
    ("best weights row missing", OPTIMIZED, (BEST + ("weights", 0), [[0.5] * 3]),
     "training.early_stopping.weights[0]"),
    ("best bias Infinity", OPTIMIZED, (BEST + ("biases", 1, 0, 0), -math.inf),
     "training.early_stopping.biases[1][0][0]"),
    ("best no biases", OPTIMIZED, (BEST + ("biases",), DELETE), "training.early_stopping"),
    ("tutorial with an optimizer", TUT, with_tutorial_optimizer,
     "training: a NeuralNetwork has no optimizer"),
    ("tutorial with 4 layers", four_layer_tutorial_data, lambda d: json.dumps(d), "network"),
    ("tutorial with tanh", TUT, (("network", "activation"), "tanh"), "network"),
    ("tutorial with mse", TUT, (("network", "loss"), "mse"), "network"),
    ("tutorial weight NaN", TUT, (W + (1, 0, 0), math.nan), "parameters.weights[1][0][0]"),
    ("tutorial epochs negative", TUT, (("training", "epochs_trained"), -3),
     "training.epochs_trained"),
]


def spoiled_text(make, spoil):
    data = make()
    if callable(spoil):
        return spoil(data)
    path, value = spoil
    return json.dumps(set_at(data, path, value))  # NaN and Infinity written as JS literals


def load_any(path):
    """Load with the class the file's own class field names, as the command line does."""
    return persistence.load(path)


@pytest.mark.parametrize("what, make, spoil, place", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_load_refuses_a_damaged_file_naming_the_file_and_the_place(tmp_path, what, make, spoil,
                                                                   place):
    """Each damaged file raises ModelFormatError (a ValueError) whose message names the file and place."""
    path = tmp_path / "m.json"
    path.write_text(spoiled_text(make, spoil), encoding="utf-8")
    cls = Network if make in (NET, OPTIMIZED) else NeuralNetwork
    for load in (load_any, cls.load):
        with pytest.raises(ModelFormatError) as info:
            load(str(path))
        assert isinstance(info.value, ValueError)
        message = str(info.value)
        assert str(path) in message
        if place is not None:
            assert place in message, message
        assert len(message) < 400, "a refusal should be one readable line, not the file"


def test_the_unspoiled_files_of_the_refusal_table_load(tmp_path):
    """The files the refusal table starts from are valid, so each refusal is the spoiling's doing."""
    path = tmp_path / "m.json"
    for make, cls in ((NET, Network), (TUT, NeuralNetwork), (OPTIMIZED, Network)):
        path.write_text(json.dumps(make()))
        assert type(cls.load(path)) is cls


@pytest.mark.parametrize("cls, other", [(Network, NeuralNetwork), (NeuralNetwork, Network)])
def test_load_refuses_a_file_of_the_other_class(tmp_path, cls, other):
    """Network.load on a NeuralNetwork file, and the reverse, are refused naming the class."""
    path = tmp_path / "m.json"
    (Network([2, 4, 1], seed=0) if other is Network else NeuralNetwork(2, 4, 1, seed=0)).save(path)
    with pytest.raises(ModelFormatError) as info:
        cls.load(path)
    assert str(path) in str(info.value) and "class" in str(info.value)
    assert type(persistence.load(path)) is other


@pytest.mark.parametrize("sizes, cls", [
    ([100000, 200], "Network"),  # 20 million weights
    ([5000, 5000, 5000], "Network"),  # 50 million
    ([5000, 5000, 1], "NeuralNetwork"),  # 25 million
])
def test_sizes_beyond_purebps_limits_are_refused(tmp_path, sizes, cls):
    """A file claiming more than 10 million weights is refused with ModelFormatError naming the file."""
    data = network_file_data() if cls == "Network" else tutorial_file_data()
    data["network"]["sizes"] = sizes
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelFormatError) as info:
        persistence.load(path)
    assert str(path) in str(info.value)


def test_the_weight_limit_is_enforced_on_a_consistent_file(tmp_path, monkeypatch):
    """A file whose weights match its sizes is still refused when the sizes exceed MAX_WEIGHTS."""
    path = tmp_path / "m.json"
    Network([2, 3, 4], seed=0).save(path)  # 6 + 12 = 18 weights
    monkeypatch.setattr(_checks, "MAX_WEIGHTS", 17)
    with pytest.raises(ModelFormatError) as info:
        Network.load(path)
    assert str(path) in str(info.value) and "network" in str(info.value)
    monkeypatch.setattr(_checks, "MAX_WEIGHTS", 18)
    assert Network.load(path).sizes == [2, 3, 4]


@pytest.mark.parametrize("text", ["[" * 100000, '{"run": ' + "[" * 100000 + "]" * 100000 + "}",
                                  '{"a": ' * 50000 + "1" + "}" * 50000])
def test_deep_nesting_is_refused_naming_the_file(tmp_path, text):
    """JSON nested 50,000–100,000 deep raises ModelFormatError, not RecursionError."""
    path = tmp_path / "m.json"
    path.write_text(text)
    with pytest.raises(ModelFormatError) as info:
        Network.load(path)
    assert str(path) in str(info.value)


def test_a_file_over_max_bytes_is_refused_before_it_is_read(tmp_path, monkeypatch):
    """A file one byte over MAX_BYTES is refused naming the file without opening it; one at it loads."""
    path = tmp_path / "m.json"
    moons_network().save(path)
    size = path.stat().st_size
    monkeypatch.setattr(persistence, "MAX_BYTES", size)
    assert type(Network.load(path)) is Network
    monkeypatch.setattr(persistence, "MAX_BYTES", size - 1)

    def no_open(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(_jsonfile, "open", no_open, raising=False)
    with pytest.raises(ModelFormatError) as info:
        Network.load(path)
    assert str(path) in str(info.value)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /dev/zero and RLIMIT_AS")
def test_an_endless_file_is_refused_rather_than_read_into_memory():
    """Loading /dev/zero (size 0, endless) stops at MAX_BYTES with ModelFormatError, not MemoryError."""
    code = (
        "import resource; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from purebp.files import model as persistence\n"
        "persistence.MAX_BYTES = 1000\n"
        "try:\n    persistence.load('/dev/zero')\n"
        "except persistence.ModelFormatError as error:\n    print('refused:', error)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-500:]
    assert result.stdout.startswith("refused: /dev/zero")


def test_a_missing_file_is_refused_naming_it(tmp_path):
    """A path with no file behind it raises ModelFormatError naming the path."""
    path = tmp_path / "nowhere.json"
    with pytest.raises(ModelFormatError) as info:
        Network.load(path)
    assert str(path) in str(info.value)


def test_a_folder_is_refused_naming_it(tmp_path):
    """A path to a folder raises ModelFormatError naming the path."""
    with pytest.raises(ModelFormatError) as info:
        NeuralNetwork.load(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_non_utf8_bytes_are_refused_naming_the_file(tmp_path):
    """A file with bytes that are not UTF-8 raises ModelFormatError naming the file."""
    path = tmp_path / "m.json"
    path.write_bytes(json.dumps(network_file_data()).encode("utf-8").replace(b'"tanh"', b'"t\xffnh"'))
    with pytest.raises(ModelFormatError) as info:
        Network.load(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("path", [3, None, b"m.json"])
def test_load_refuses_a_path_that_is_not_a_str_or_pathlike(path):
    """A path of another type raises TypeError naming the path."""
    with pytest.raises(TypeError) as info:
        Network.load(path)
    assert "path" in str(info.value)


@pytest.mark.parametrize("where", [
    ("class",),
    ("network", "activation"),
    ("network", "loss"),
    ("network", "output_activation"),
    ("network", "init"),
    ("format",),
])
@pytest.mark.parametrize("value", [["Network"], {"name": "tanh"}])
def test_a_list_or_object_where_a_name_belongs_is_refused(tmp_path, where, value):
    """A JSON list or object in place of a name raises ModelFormatError naming the place."""
    path = tmp_path / "m.json"
    path.write_text(json.dumps(set_at(network_file_data(), where, value)))
    with pytest.raises(ModelFormatError) as info:
        Network.load(path)
    assert where[-1] in str(info.value)


def test_a_bool_version_is_refused(tmp_path):
    """"version": true is a bool where the number 1 belongs, and is refused naming version."""
    path = tmp_path / "m.json"
    path.write_text(json.dumps(set_at(network_file_data(), ("version",), True)))
    with pytest.raises(ModelFormatError) as info:
        Network.load(path)
    assert "version" in str(info.value)


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_a_non_finite_gauss_next_is_refused(tmp_path, value):
    """A NaN or infinite gauss_next (which save could never write back) is refused naming it."""
    path = tmp_path / "m.json"
    path.write_text(json.dumps(set_at(network_file_data(), ("training", "rng_state", "gauss_next"),
                                      value)))
    with pytest.raises(ModelFormatError) as info:
        Network.load(path)
    assert "gauss_next" in str(info.value)


# -- nothing is executed -------------------------------------------------------------


def test_code_in_a_file_is_never_executed(tmp_path):
    """Python written where names, numbers or settings belong is refused or kept as text, never run."""
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    places = [("class",), ("format",), ("network", "activation"), ("network", "output_activation"),
              ("network", "loss"), ("network", "init"), ("network", "sizes"), W + (0, 0, 0),
              ("training", "epochs_trained"), ("training", "rng_state", "version"), KEY + (0,),
              ("training", "rng_state", "gauss_next")]
    path = tmp_path / "m.json"
    for place in places:
        path.write_text(json.dumps(set_at(network_file_data(), place, payload)))
        with pytest.raises(ModelFormatError):
            Network.load(path)
    data = set_at(network_file_data(), ("run",), {"command": payload, payload: [payload]})
    data[payload] = payload  # an unknown top-level field
    path.write_text(json.dumps(data))
    _, run = persistence.read(path)
    assert run == {"command": payload, payload: [payload]}
    assert not marker.exists()


# -- fuzzing -------------------------------------------------------------------------

#: Characters that matter to JSON, and a few that should not be there at all.
EDIT_CHARACTERS = st.one_of(st.sampled_from(list('{}[],:"0123456789.-+eE tfnNI\\\x00')),
                            st.characters())


@st.composite
def edited_texts(draw):
    """The text of a valid model file with 1–6 characters deleted, replaced or inserted."""
    data = network_file_data() if draw(st.booleans()) else tutorial_file_data()
    text = json.dumps(data, indent=draw(st.sampled_from([None, 1])))
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(text) - 1))
        kind = draw(st.sampled_from(["delete", "replace", "insert"]))
        if kind == "delete":
            text = text[:i] + text[i + 1:]
        elif kind == "replace":
            text = text[:i] + draw(EDIT_CHARACTERS) + text[i + 1:]
        else:
            text = text[:i] + draw(EDIT_CHARACTERS) + text[i:]
    return text


def load_or_refuse(path):
    """Load the file; a ModelFormatError is an accepted answer, any other exception fails the test."""
    try:
        net = persistence.load(path)
    except ModelFormatError as error:
        assert str(path) in str(error)
        return None
    assert isinstance(net, (Network, NeuralNetwork))
    return net


@given(edited_texts())
@settings(max_examples=100)
def test_an_edited_file_loads_or_is_refused_with_model_format_error(folder, text):
    """Random character edits of a valid file give a network or ModelFormatError, nothing else."""
    path = os.path.join(folder, "edited.json")
    with open(path, "w", encoding="utf-8", errors="surrogatepass") as handle:
        handle.write(text)
    load_or_refuse(path)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats()
    | st.text(max_size=8) | st.sampled_from(["Network", "NeuralNetwork", "tanh", "mse", 3, 624]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=6,
)

FUZZ_PLACES = [
    ("format",), ("version",), ("network",), ("network", "sizes"), ("network", "sizes", 1),
    ("network", "output_activation"), ("network", "init"), ("parameters",), W, W + (0,),
    W + (0, 1), W + (1, 2, 0), B + (0, 0, 1), ("training",), ("training", "epochs_trained"),
    ("training", "rng_state"), ("training", "rng_state", "version"), KEY, KEY + (0,),
    KEY + (624,), ("training", "rng_state", "gauss_next"), ("run",),
]


def fuzz_places():
    for place in FUZZ_PLACES + [("class",), ("network", "activation"), ("network", "loss")]:
        yield pytest.param(place, id=".".join(map(str, place)))


@pytest.mark.parametrize("place", list(fuzz_places()))
@given(value=st.one_of(st.just(DELETE), json_values), tutorial=st.booleans())
@settings(max_examples=25)
def test_a_value_replaced_anywhere_loads_or_is_refused_with_model_format_error(folder, place,
                                                                               value, tutorial):
    """Any JSON value (or none) put at a place of a valid file gives a network or ModelFormatError."""
    data = tutorial_file_data() if tutorial else network_file_data()
    try:
        data = set_at(data, place, value)
    except (KeyError, IndexError):
        data = set_at(network_file_data(), place, value)  # the tutorial file has no rng_state
    path = os.path.join(folder, "replaced.json")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(data))
    load_or_refuse(path)


OPTIMIZER_PLACES = [OPT, OPT + ("name",), OPT + ("arguments",), OPT + ("arguments", "betas"),
                    OPT + ("arguments", "betas", 1), OPT + ("arguments", "eps"), STATE,
                    STATE + ("step",), STATE + ("exp_avg",), STATE + ("exp_avg", "weights", 0),
                    STATE + ("exp_avg_sq", "biases", 1, 0), STATE + ("max_exp_avg_sq", "weights"),
                    BEST, BEST + ("epoch",), BEST + ("val_loss",), BEST + ("weights", 1),
                    BEST + ("biases", 0, 0), BEST + ("epochs_without_improvement",)]


@pytest.mark.parametrize("place", OPTIMIZER_PLACES, ids=[".".join(map(str, p)) for p in OPTIMIZER_PLACES])
@given(value=st.one_of(st.just(DELETE), json_values))
@settings(max_examples=25)
def test_a_value_replaced_in_the_optimizer_or_the_record_loads_or_is_refused(folder, place, value):
    """Any JSON value (or none) in the optimizer's fields or early stopping's gives a network or
    ModelFormatError, and a network that loads trains on."""
    path = os.path.join(folder, "replaced.json")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(set_at(trained_file_data(), place, value)))
    net = load_or_refuse(path)
    if net is not None:
        rate = 0.1 if net.optimizer is None else None  # an optimizer deleted: plain steps
        net.train(XOR_X, XOR_Y, 1, rate, log=None, validation=(XOR_X, XOR_Y), early_stopping=2)


@pytest.mark.parametrize("text", ["\x82", "\xddK", "[\u123a]", "{\"a\": \u00e9}"])
def test_non_ascii_json_errors_are_reported_safely(tmp_path, text):
    """JSON broken at a non-ASCII character gives a ModelFormatError naming the file and position.

    (PyPy 3.9's json module builds a malformed message for these; printing it
    crashed the interpreter until purebp rebuilt it.)
    """
    path = tmp_path / "m.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(persistence.ModelFormatError) as info:
        persistence.load(str(path))
    message = str(info.value)
    assert str(path) in message and "line 1" in message
    assert f"{message}" == message  # formatting the message must not fail
