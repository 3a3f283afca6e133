"""Tests for purebp.playground.session: the settings, the training, the explained last step."""

import json
import random
import re

import pytest

from purebp import datasets
from purebp.network import Network
from purebp.optimizers import SGD, Adam
from purebp.playground.session import MAX_UNITS, Session, parse_config


def _split(X, y, seed, fraction):
    """The documented split: shuffle the indices with random.Random(seed), hold out the first."""
    order = list(range(len(X)))
    random.Random(seed).shuffle(order)
    held = round(len(X) * fraction)
    return [X[i] for i in order[held:]], [y[i] for i in order[held:]]


@pytest.fixture
def sessions():
    made = []

    def make(config):
        session = Session(config)
        made.append(session)
        return session

    yield make
    for session in made:
        session.close()


@pytest.mark.parametrize("optimizer, rule", [
    ("sgd", lambda: SGD(lr=0.1)), ("momentum", lambda: SGD(lr=0.1, momentum=0.9)),
    ("adam", lambda: Adam(lr=0.1)),
])
def test_two_steps_are_two_epochs_of_the_network_trained_in_python(sessions, optimizer, rule):
    """The page's step is one Network.train epoch: the same data, split and bits."""
    config = {"data": "moons", "samples": 60, "noise": 0.2, "validation_split": 0.25,
              "batch_size": 8, "hidden": [3], "activation": "tanh", "loss": "bce",
              "init": "xavier", "optimizer": optimizer, "learning_rate": 0.1, "seed": 4}
    session = sessions(config)
    session.step()
    state = session.step()
    X, y = _split(*datasets.moons(60, noise=0.2, seed=4), 4, 0.25)
    net = Network([2, 3, 1], "tanh", "sigmoid", "bce", "xavier", seed=4)
    net.train(X, y, 2, optimizer=rule(), batch_size=8, log=None, fast=False)
    assert state["epoch"] == 2
    assert state["weights"] == net.weights
    assert state["biases"] == [b[0] for b in net.biases]


def test_a_new_learning_rate_goes_on_from_the_network_and_the_optimizers_state(sessions):
    """As torch with param_groups[0]["lr"] edited between epochs: Adam's moments go on."""
    config = {"data": "moons", "samples": 60, "noise": 0.2, "batch_size": 8, "hidden": [3],
              "optimizer": "adam", "learning_rate": 0.1, "seed": 4}
    session = sessions(config)
    session.step()
    session.step()
    state = session.configure(dict(config, learning_rate=0.01))
    assert state["epoch"] == 2 and len(state["history"]["epoch"]) == 3
    state = session.step()
    X, y = _split(*datasets.moons(60, noise=0.2, seed=4), 4, 0.3)
    net = Network([2, 3, 1], "tanh", "sigmoid", "bce", "xavier", seed=4)
    adam = Adam(lr=0.1)
    net.train(X, y, 2, optimizer=adam, batch_size=8, log=None, fast=False)
    adam.lr = 0.01
    net.train(X, y, 1, optimizer=adam, batch_size=8, log=None, fast=False)
    assert state["epoch"] == 3 and state["weights"] == net.weights
    # and the last step is explained with the rate it was taken with
    assert session.explain("weight", 0, 0, 0)["updated"] == net.weights[0][0][0]


def test_another_optimizer_goes_on_from_the_network_with_a_fresh_state(sessions):
    config = {"data": "xor", "samples": 40, "batch_size": None, "hidden": [2],
              "optimizer": "adam", "learning_rate": 0.1, "seed": 2}
    session = sessions(config)
    session.step()
    state = session.configure(dict(config, optimizer="momentum", weight_decay=0.01))
    assert state["epoch"] == 1 and not state["running"]
    epochs = session.net.epochs_trained
    weights, biases = session.net.weights, session.net.biases
    session.step()
    net = Network([2, 2, 1], "tanh", "sigmoid", "bce", "xavier", seed=2)
    net.weights, net.biases = weights, biases
    X, y = _split(*datasets.quadrants(40, noise=0.1, seed=2), 2, 0.3)
    net.train(X, y, 1, optimizer=SGD(lr=0.1, momentum=0.9, weight_decay=0.01), log=None)
    assert session.net.epochs_trained == epochs + 1 and session.net.weights == net.weights
    # a running session goes on running
    session.play()
    assert session.configure(dict(config, optimizer="rmsprop"))["running"]


def test_any_other_setting_starts_again_from_epoch_0_paused(sessions):
    config = {"data": "xor", "samples": 40, "hidden": [2], "seed": 2}
    session = sessions(config)
    session.step()
    session.play()
    state = session.configure(dict(config, activation="relu", learning_rate=0.5))
    assert not state["running"] and state["epoch"] == 0 and state["activations"][0] == "relu"


@pytest.mark.parametrize("optimizer, batch_size", [("sgd", 5), ("adam", 7), ("rmsprop", None)])
def test_the_explained_step_ends_on_the_parameters_the_network_has(sessions, optimizer,
                                                                  batch_size):
    """The replayed last step's update equals every current weight and bias, bit for bit."""
    session = sessions({"data": "xor", "samples": 40, "batch_size": batch_size, "hidden": [2, 2],
                        "optimizer": optimizer, "learning_rate": 0.05, "seed": 1})
    for _ in range(3):
        session.step()
    net = session.net
    for l, W in enumerate(net.weights):
        for i, row in enumerate(W):
            for j, w in enumerate(row):
                answer = session.explain("weight", l, i, j)
                assert answer["updated"] == w
                assert answer["lines"][-1]["value"] == w  # the update line ends on it
    for k in range(1, net.depth + 1):
        for c in range(net.sizes[k]):
            assert session.explain("neuron", k, c)["updated"] == net.biases[k - 1][0][c]


def test_the_explained_gradient_is_the_last_batchs(sessions):
    """Full batch, plain SGD: the panel's gradient is Network.gradients before the last step."""
    session = sessions({"data": "circles", "samples": 30, "batch_size": None, "hidden": [3],
                        "seed": 2, "validation_split": 0.0})
    session.step()
    before = Network([2, 3, 1], "tanh", "sigmoid", "bce", "xavier", seed=2)
    X, y = _split(*datasets.circles(30, noise=0.1, seed=2), 2, 0.0)
    session.step()
    before.train(X, y, 1, learning_rate=0.03, log=None)
    expected = before.gradients(X, y)["weights"][0][1][2]
    assert session.explain("weight", 0, 1, 2)["gradient"] == expected


def test_explain_before_any_step_says_what_to_do(sessions):
    session = sessions({})
    with pytest.raises(ValueError, match="no last step to explain yet; press step or play"):
        session.explain("weight", 0, 0, 0)


@pytest.mark.parametrize("config, message", [
    ({"noise": -0.1}, "config.noise must be from 0 to 1, got -0.1"),
    ({"hidden": [4, MAX_UNITS + 1]}, "config.hidden[1] must be at most 8 units, got 9"),
    ({"hidden": [1] * 7}, "config.hidden must hold at most 6 layers, got 7"),
    ({"samples": 5000}, "config.samples must be from 10 to 2000, got 5000"),
    ({"weight_decay": -1}, "config.weight_decay must be at least 0, got -1"),
    ({"seed": 2 ** 53}, "config.seed must be an int from 0 to 9007199254740991, got 9007199254740992"),
    ({"seed": -1}, "config.seed must be an int from 0 to 9007199254740991, got -1"),
    ({"data": "csv", "csv": "1,2,0\n1e300,0,1\n3,4,1\n"},
     "config.csv's x in data row 2 must be from -1e+06 to 1e+06, got 1e+300"),
    ({"activation": "swish"}, "unknown config.activation 'swish'"),
    ({"learning_rate": "fast"}, "learning_rate must be a real number"),
    ({"batch_size": 0}, "config.batch_size must be at least 1, got 0"),
    ({"batch_size": 500}, "config.batch_size must be at most the 140 training points, got 500"),
    ({"data": "csv", "csv": "1,2,7\n"}, "config.csv's label in data row 1 must be 0 or 1, got 7.0"),
    ({"colour": "red"}, "unknown config key 'colour'"),
])
def test_a_bad_setting_is_refused_and_changes_nothing(sessions, config, message):
    session = sessions({"data": "moons", "samples": 200})
    session.step()
    before = json.dumps(session.state())
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        session.configure(dict({"data": "moons", "samples": 200}, **config))
    assert json.dumps(session.state()) == before


def test_parse_config_fills_in_the_defaults_and_the_output_the_loss_needs():
    config = parse_config({"loss": "cross_entropy", "output_activation": "tanh"})
    assert config["output_activation"] == "softmax" and config["hidden"] == [4, 2]


def test_a_diverging_run_pauses_with_a_message_and_keeps_the_last_finite_network(sessions):
    session = sessions({"data": "spirals", "activation": "tanh", "loss": "mse",
                        "output_activation": "identity", "init": "normal", "hidden": [8, 8],
                        "learning_rate": 1e6, "batch_size": None})
    for _ in range(50):
        state = session.step()
        if state["message"]:
            break
    assert state["message"].endswith(". Training paused; press Reset to start again.")
    assert "learning_rate" in state["message"] and ".." not in state["message"]
    assert not state["running"]
    assert all(abs(w) < float("inf") for W in state["weights"] for row in W for w in row)


def test_the_model_export_loads_as_the_network(sessions, tmp_path):
    session = sessions({"optimizer": "adam"})
    session.step()
    path = tmp_path / "m.json"
    path.write_text(session.model_file(), "utf-8")
    net = Network.load(path)
    assert net.weights == session.net.weights and net.epochs_trained == 1
    assert net.optimizer.state["step"] == session.net.optimizer.state["step"]


def test_the_model_export_after_a_new_optimizer_has_that_optimizer(sessions, tmp_path):
    session = sessions({"optimizer": "sgd", "learning_rate": 0.03})
    session.step()
    session.configure({"optimizer": "adam", "learning_rate": 0.1})
    path = tmp_path / "m.json"
    path.write_text(session.model_file(), "utf-8")
    net = Network.load(path)
    assert net.optimizer.NAME == "adam" and net.optimizer.lr == 0.1
    assert json.loads(path.read_text("utf-8"))["run"]["playground"]["optimizer"] == "adam"


def test_explain_names_the_entry_and_its_source(sessions):
    session = sessions({"data": "xor", "hidden": [3]})
    session.step()
    weight = session.explain("weight", 0, 1, 2)
    assert (weight["entry"], weight["title"]) == (
        "W1[1][2]", "W1[1][2]: the weight from input x2 to unit 2 of layer 1")
    assert session.explain("weight", 1, 2, 0)["title"].startswith(
        "W2[2][0]: the weight from unit 2 of layer 1 to unit 0 of layer 2")
    assert session.explain("neuron", 1, 0)["entry"] == "b1[0]"


def test_a_step_takes_the_next_turn_before_the_playing_sessions():
    """_Turns: one epoch at a time over all sessions; a waiting Step goes first."""
    import threading
    import time as clock

    from purebp.playground.session import _Turns

    turns, order = _Turns(), []
    holding, release = threading.Event(), threading.Event()

    def first():
        with turns.turn(step=False):
            holding.set()
            release.wait(10)

    def take(name, step):
        with turns.turn(step=step):
            order.append(name)

    threads = [threading.Thread(target=first)]
    threads[0].start()
    holding.wait(10)
    for name, step in [("play 1", False), ("play 2", False), ("step", True), ("play 3", False)]:
        threads.append(threading.Thread(target=take, args=(name, step)))
        threads[-1].start()
    for _ in range(1000):  # until the step is waiting (the others wait anyway: it is)
        if turns._steps_waiting == 1:
            break
        clock.sleep(0.01)
    assert order == [] and turns._steps_waiting == 1
    release.set()
    for thread in threads:
        thread.join(10)
    assert order[0] == "step" and sorted(order[1:]) == ["play 1", "play 2", "play 3"]
