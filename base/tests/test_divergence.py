"""Tests for training's two ways of stopping early: DivergenceError and on_epoch.

A diverging run must raise DivergenceError (a ValueError) naming the epoch
and pointing at the learning rate, and leave the network exactly as a twin
trained, without error, for ``error.epoch`` epochs from the same start:
weights, biases, epochs_trained and generator state, bit for bit. on_epoch
must be called once per finished epoch, count on from epochs_trained, and
stop training when (and only when) it returns False.
"""

import copy
import math

import pytest
from bitwise import bits, snapshot

from purebp import datasets
from purebp.errors import DivergenceError
from purebp.network import Network
from purebp.tutorial import NeuralNetwork

XOR_X, XOR_Y = datasets.xor()


def all_finite(matrices):
    return all(math.isfinite(v) for m in matrices for row in m for v in row)


# -- divergence ----------------------------------------------------------------------


def relu_regression():
    return Network([2, 3, 1], "relu", "identity", "mse", seed=0)


@pytest.mark.parametrize("batch_size", [None, 2])
def test_a_huge_learning_rate_raises_divergence_error_and_keeps_the_last_finite_epoch(batch_size):
    """lr 1e6 on XOR raises DivergenceError naming its epoch; the net equals a twin trained as many epochs."""
    net, twin = relu_regression(), relu_regression()
    lines = []
    with pytest.raises(DivergenceError) as info:
        net.train(XOR_X, XOR_Y, 1000, 1e6, batch_size=batch_size, log_every=1, log=lines.append)
    error = info.value
    assert isinstance(error, ValueError)
    assert error.epoch >= 2, "the run should diverge after some finite epochs, or the test is weak"
    assert error.learning_rate == 1e6
    message = str(error)
    assert f"epoch {error.epoch}" in message
    assert "smaller learning_rate" in message

    # The twin runs exactly the epochs that were finite, without error.
    twin.train(XOR_X, XOR_Y, error.epoch, 1e6, batch_size=batch_size, log=None)
    assert snapshot(net) == snapshot(twin)
    assert net.epochs_trained == error.epoch
    assert all_finite(net.weights) and all_finite(net.biases)
    assert len(lines) == error.epoch and lines[-1].startswith(f"Epoch {error.epoch - 1},")

    # From there, the next epoch diverges again, the same way.
    with pytest.raises(DivergenceError) as again:
        net.train(XOR_X, XOR_Y, 1, 1e6, batch_size=batch_size, log=None)
    assert again.value.epoch == error.epoch
    assert snapshot(net) == snapshot(twin)


def test_the_twin_comparison_is_sharp_one_epoch_short_differs():
    """The twin comparison is sharp: a net trained one epoch fewer than error.epoch differs from it."""
    net, twin = relu_regression(), relu_regression()
    with pytest.raises(DivergenceError) as info:
        net.train(XOR_X, XOR_Y, 1000, 1e6, log=None)
    twin.train(XOR_X, XOR_Y, info.value.epoch - 1, 1e6, log=None)
    assert snapshot(net) != snapshot(twin)


def on_the_edge(cls):
    """A 2-2-1 sigmoid net whose equal hidden units cancel output weights of ±1.7e308, so ŷ = 0.5.

    On X = [[0, 0]], y = [[0]]: h = (0.5, 0.5), z2 = 0, δ2 = (0.5 − 0)·0.25 = 0.125,
    ∂E/∂W2 = h·δ2 = 0.0625, and a step of 1.7e308 takes W2[1] from −1.7e308 to
    −1.7e308 − 1.0625e307, beyond the largest float: −inf.
    """
    if cls is NeuralNetwork:
        net = NeuralNetwork(2, 2, 1, seed=0)
        net.weights_input_hidden = [[0.5, 0.5], [0.5, 0.5]]
        net.weights_hidden_output = [[1.7e308], [-1.7e308]]
    else:
        net = Network([2, 2, 1], seed=0)
        net.weights = [[[0.5, 0.5], [0.5, 0.5]], [[1.7e308], [-1.7e308]]]
    return net


@pytest.mark.parametrize("cls", [NeuralNetwork, Network])
def test_a_step_that_makes_a_parameter_infinite_raises_and_restores(cls):
    """A finite loss but an infinite weight after the step raises DivergenceError; the net is restored."""
    X, y = [[0, 0]], [[0]]
    net, twin = on_the_edge(cls), on_the_edge(cls)
    # Three epochs at learning rate 0 change no parameter but count, so the epoch numbers move on.
    net.train(X, y, 3, 0.0, log=None)
    calls = []
    with pytest.raises(DivergenceError) as info:
        net.train(X, y, 5, 1.7e308, log=None, on_epoch=lambda *args: calls.append(args))
    error = info.value
    assert error.epoch == 3
    assert "epoch 3" in str(error) and "smaller learning_rate" in str(error)
    assert math.isfinite(error.loss)  # it was a parameter, not the loss, that broke
    assert calls == []  # the diverged epoch is not reported as finished
    twin.train(X, y, 3, 0.0, log=None)
    assert snapshot(net) == snapshot(twin)
    assert net.epochs_trained == 3


def test_the_edge_really_overflows_in_plain_arithmetic():
    """The hand computation behind on_the_edge: −1.7e308 − 1.7e308·(0.5·0.125) is −inf."""
    assert -1.7e308 - 1.7e308 * (0.5 * ((0.5 - 0.0) * (0.5 * (1 - 0.5)))) == -math.inf


@pytest.mark.parametrize("make", [lambda: Network([2, 4, 1], seed=0),
                                  lambda: NeuralNetwork(2, 4, 1, seed=0)],
                         ids=["Network", "NeuralNetwork"])
def test_a_run_that_does_not_diverge_raises_nothing(make):
    """XOR at learning rate 0.1 trains its 500 epochs with finite losses and no error."""
    net = make()
    losses = net.train(XOR_X, XOR_Y, 500, 0.1, log=None)
    assert len(losses) == 500 and net.epochs_trained == 500
    assert all(math.isfinite(loss) for loss in losses)
    assert losses[-1] < losses[0]


# -- on_epoch ------------------------------------------------------------------------

MAKERS = {
    "Network full batch": (lambda: Network([2, 4, 1], "tanh", "sigmoid", "bce", seed=2), {}),
    "Network mini-batch": (lambda: Network([2, 4, 1], "tanh", "sigmoid", "bce", seed=2),
                           {"batch_size": 3}),
    "NeuralNetwork": (lambda: NeuralNetwork(2, 4, 1, seed=2), {}),
}


@pytest.mark.parametrize("name", MAKERS)
def test_on_epoch_is_called_once_per_epoch_counting_on_from_epochs_trained(name):
    """After 2 epochs, 5 more call on_epoch(net, 2..6, loss) once each, with that epoch's returned loss."""
    make, kwargs = MAKERS[name]
    net = make()
    net.train(XOR_X, XOR_Y, 2, 0.5, log=None, **kwargs)
    calls = []

    def record(got, epoch, loss):
        calls.append((got, epoch, loss, got.epochs_trained))

    losses = net.train(XOR_X, XOR_Y, 5, 0.5, log=None, on_epoch=record, **kwargs)
    assert [c[1] for c in calls] == [2, 3, 4, 5, 6]
    assert all(c[0] is net for c in calls)
    assert bits([c[2] for c in calls]) == bits(losses)
    assert [c[3] for c in calls] == [3, 4, 5, 6, 7]  # the epoch is counted before on_epoch sees it


@pytest.mark.parametrize("name", MAKERS)
def test_on_epoch_returning_false_stops_after_that_epoch(name):
    """Returning False at epoch 4 ends train there: it returns 3 losses, and the net is as after 5 epochs."""
    make, kwargs = MAKERS[name]
    net, twin = make(), make()
    net.train(XOR_X, XOR_Y, 2, 0.5, log=None, **kwargs)
    seen = []

    def stop_at_4(got, epoch, loss):
        seen.append(epoch)
        return epoch != 4

    losses = net.train(XOR_X, XOR_Y, 10, 0.5, log=None, on_epoch=stop_at_4, **kwargs)
    assert seen == [2, 3, 4]
    assert net.epochs_trained == 5
    twin.train(XOR_X, XOR_Y, 2, 0.5, log=None, **kwargs)
    twin_losses = twin.train(XOR_X, XOR_Y, 3, 0.5, log=None, **kwargs)
    assert bits(losses) == bits(twin_losses)
    assert snapshot(net) == snapshot(twin)


@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize("answer", [None, True])
def test_on_epoch_returning_none_or_true_lets_training_run_on(name, answer):
    """An on_epoch returning None or True changes nothing: every epoch runs, as without it."""
    make, kwargs = MAKERS[name]
    net, twin = make(), make()
    losses = net.train(XOR_X, XOR_Y, 6, 0.5, log=None, on_epoch=lambda *args: answer, **kwargs)
    twin_losses = twin.train(XOR_X, XOR_Y, 6, 0.5, log=None, **kwargs)
    assert len(losses) == 6 and net.epochs_trained == 6
    assert bits(losses) == bits(twin_losses)
    assert snapshot(net) == snapshot(twin)


@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize("on_epoch", [3, "stop", [print]])
def test_a_non_callable_on_epoch_is_a_type_error_naming_it(name, on_epoch):
    """on_epoch that cannot be called raises TypeError naming on_epoch, before anything changes."""
    make, kwargs = MAKERS[name]
    net = make()
    before = copy.deepcopy(snapshot(net))
    with pytest.raises(TypeError) as info:
        net.train(XOR_X, XOR_Y, 3, 0.5, log=None, on_epoch=on_epoch, **kwargs)
    assert "on_epoch" in str(info.value)
    assert snapshot(net) == before
