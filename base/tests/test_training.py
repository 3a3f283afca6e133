"""Tests for purebp.training: what every training loop shares at the end of an epoch.

Whole runs (logging, on_epoch, divergence, fast or not) are compared in
test_fast_loop.py and test_divergence.py; here each shared piece is pinned
on its own.
"""

import math
import re

import pytest

from purebp import Network, NeuralNetwork, training
from purebp.errors import DivergenceError


def test_log_line_is_the_tutorials_format():
    """The tutorial prints 'Epoch N, Loss: ' and the loss to four decimals."""
    assert training.log_line(0, 0.26523) == "Epoch 0, Loss: 0.2652"
    assert training.log_line(12000, 1.5) == "Epoch 12000, Loss: 1.5000"


def test_count_epoch_counts_a_finite_epoch():
    """A finite loss and finite parameters count one more epoch and change nothing else."""
    net = NeuralNetwork(2, 3, 1, seed=0)
    weights = net.weights_input_hidden
    training.count_epoch(net, net._state(), "train", 0, 0.25, 0.1)
    assert net.epochs_trained == 1 and net.weights_input_hidden is weights


@pytest.mark.parametrize("loss", [math.nan, math.inf])
def test_count_epoch_undoes_a_diverged_epoch_and_names_it(loss):
    """A non-finite loss puts the network back to its state before the epoch and raises."""
    net = Network([2, 3, 1], seed=0)
    before = net._state()
    net.weights = [[[1.0] * 3] * 2, [[2.0]] * 3]  # what the diverged epoch left
    with pytest.raises(DivergenceError, match="train: training diverged at epoch 7") as info:
        training.count_epoch(net, before, "train", 7, loss, 0.5)
    assert net.weights is before[0] and net.epochs_trained == 0
    assert info.value.epoch == 7 and info.value.learning_rate == 0.5


def test_count_epoch_catches_a_parameter_that_stopped_being_finite():
    """A finite loss is not enough: an infinite weight is divergence too."""
    net = NeuralNetwork(2, 3, 1, seed=0)
    before = net._state()
    net.bias_output = [[math.inf]]
    with pytest.raises(DivergenceError, match="a weight or bias"):
        training.count_epoch(net, before, "train", 0, 0.25, 0.1)
    assert net.bias_output == [[0.0]]


def test_report_logs_every_log_every_epochs_and_asks_on_epoch():
    """report logs epochs 0, k, 2k, ... and returns False only when on_epoch returns False."""
    lines, calls = [], []
    for epoch in range(7):
        go_on = training.report(None, epoch, 0.5, 3, lines.append,
                                lambda net, e, loss: calls.append(e) or e != 5)
        assert go_on == (epoch != 5)
    assert lines == [training.log_line(e, 0.5) for e in (0, 3, 6)]
    assert calls == list(range(7))


@pytest.mark.parametrize(("options", "words"), [
    ({"log": "print"}, "log must be"),
    ({"on_epoch": 3}, "on_epoch must be"),
    ({"fast": 1}, "fast must be True or False, got int 1"),
    ({"log_every": 0}, "log_every"),
])
def test_check_options_refuses_bad_options_by_name(options, words):
    """Each option every train takes is refused by name, with what came."""
    settings = {"log_every": 10, "log": None, "on_epoch": None, "fast": True, **options}
    with pytest.raises((TypeError, ValueError), match=words):
        training.check_options("train", settings["log_every"], settings["log"],
                               settings["on_epoch"], settings["fast"])


@pytest.mark.parametrize("make", [lambda: NeuralNetwork(2, 3, 1, seed=0),
                                  lambda: Network([2, 3, 1], "tanh", seed=0)])
@pytest.mark.parametrize(("options", "words"), [
    ({"on_epoch": lambda net, epoch: None}, "on_epoch must be a callable taking (net, epoch, loss)"),
    ({"on_epoch": lambda: None}, "cannot be called with 3 arguments"),
    ({"log": lambda: None}, "log must be a callable taking a string"),
    ({"log": lambda a, b: None}, "cannot be called with 1 argument"),
])
@pytest.mark.parametrize("fast", [True, False])
def test_a_callback_that_cannot_take_its_arguments_is_refused_before_any_epoch(make, options,
                                                                                 words, fast):
    """A log or on_epoch of the wrong arity is refused by name up front; the network is untouched."""
    net = make()
    before = repr(vars(net))
    with pytest.raises(TypeError, match=re.escape(words)):
        net.train([[0, 0], [1, 1]], [[0], [1]], 5, 0.1, fast=fast, **options)
    assert repr(vars(net)) == before and net.epochs_trained == 0


def test_callbacks_that_take_their_arguments_in_any_form_are_accepted():
    """Defaults, *args, bound methods and built-ins Python cannot inspect all pass the check."""
    class Recorder:
        def __init__(self):
            self.seen = []

        def on_epoch(self, net, epoch, loss, extra=None):
            self.seen.append(epoch)

    recorder = Recorder()
    lines = []
    net = NeuralNetwork(2, 3, 1, seed=0)
    net.train([[0, 0]], [[0]], 3, 0.1, log_every=1, log=lambda *parts: lines.append(parts),
              on_epoch=recorder.on_epoch)
    assert recorder.seen == [0, 1, 2] and len(lines) == 3
    net.train([[0, 0]], [[0]], 1, 0.1, log=print, on_epoch=None)
