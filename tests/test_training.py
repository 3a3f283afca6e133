"""Tests for purebp.training: what every training loop shares at the end of an epoch.

Whole runs (logging, on_epoch, divergence, fast or not) are compared in
test_fast_loop.py and test_divergence.py; here each shared piece is pinned
on its own.
"""

import copy
import math
import re

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from strategies import floats, general_cases, matrices, optimizers, targets_for

from purebp import Network, NeuralNetwork, training
from purebp import optimizers as optimizers_
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
    ({"fast": 1}, "fast must be True, False, .written-out. or .reference., got int 1"),
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


# -- early stopping, exactly as the module's docstring says ---------------------------------


class Scripted:
    """A stand-in network whose validation losses are given: epoch e's parameters are [[[e]]]."""

    def __init__(self, val_losses):
        self.val_losses = list(val_losses)
        self.history = training.new_history()
        self.best = None
        self.weights, self.biases = [[[math.nan]]], [[[math.nan]]]

    def _validate(self, X, y):
        return self.val_losses[len(self.history["epoch"])], 0.5

    def _layers(self):
        return self.weights, self.biases

    def _set_layers(self, weights, biases):
        self.weights, self.biases = weights, biases


def scripted_run(val_losses, patience):
    """Run Validation.after_epoch over the scripted epochs; return (net, epoch stopped or None)."""
    net = Scripted(val_losses)
    watch = training.Validation([[0.0]], [[0.0]], patience)
    for epoch in range(len(val_losses)):
        net.weights, net.biases = [[[float(epoch)]]], [[[-float(epoch)]]]  # the epoch's parameters
        if not watch.after_epoch(net, epoch, 0.25):
            return net, epoch
    return net, None


NAN = math.nan

#: (K, validation losses, epoch it stops after or None, epoch whose parameters it ends with
#: or holds as best, epochs without improvement left in the record)
EARLY_STOPPING = [
    (2, [3.0, 2.0, 2.0, 2.5, 1.0], 3, 1, None),  # a tie and a rise: 2 epochs without improvement
    (1, [1.0, 1.0, 0.5], 1, 0, None),  # a tie is no improvement, and keeps the earlier epoch
    (2, [1.0, 2.0, 0.5, 0.7, 0.6, 0.1], 4, 2, None),  # an improvement starts the count again
    (3, [5.0, NAN, 4.0, NAN, NAN, NAN, 0.0], 5, 2, None),  # NaN never improves
    (3, [3.0, 2.0, 1.0, 1.5], None, 2, 1),  # the epochs run out first: nothing restored
    (1, [4.0, 3.0, 2.0, 1.0], None, 3, 0),  # always improving: never stops
    (2, [1.0, 1.0 + 2 ** -52, 1.0 - 2 ** -53], None, 2, 0),  # one ulp lower is lower
    (1, [math.inf, 7.0, 7.0], 2, 1, None),  # anything finite is below inf
]


@pytest.mark.parametrize("patience, val_losses, stops_after, best_epoch, wait", EARLY_STOPPING)
def test_early_stopping_follows_its_documented_rule(patience, val_losses, stops_after,
                                                    best_epoch, wait):
    """Strictly lower is an improvement; after K epochs in a row without one, stop and restore the
    first epoch that reached the lowest loss, and clear the record; if the epochs run out first,
    keep the last parameters and the record."""
    net, stopped = scripted_run(val_losses, patience)
    assert stopped == stops_after
    if stopped is not None:
        assert net.best is None
        assert net.weights == [[[float(best_epoch)]]] and net.biases == [[[-float(best_epoch)]]]
        assert len(net.history["epoch"]) == stopped + 1
    else:
        last = len(val_losses) - 1
        assert net.weights == [[[float(last)]]]
        assert net.best["epoch"] == best_epoch and net.best["val_loss"] == val_losses[best_epoch]
        assert net.best["weights"] == [[[float(best_epoch)]]]
        assert net.best["biases"] == [[[-float(best_epoch)]]]
        assert net.best["epochs_without_improvement"] == wait
    assert net.history["val_loss"] == val_losses[:len(net.history["val_loss"])] or NAN in val_losses


def test_the_record_holds_a_copy_of_the_best_parameters():
    """Changing the network's matrices in place after an epoch does not change the record."""
    net = Scripted([1.0, 2.0])
    watch = training.Validation([[0.0]], [[0.0]], 5)
    net.weights = [[[1.0]]]
    watch.after_epoch(net, 0, 0.5)
    net.weights[0][0][0] = 99.0
    assert net.best["weights"] == [[[1.0]]]


def irrelevant_weight_network():
    """A 2-1 identity network whose validation loss cannot change while training moves a weight.

    Training rows (1, 0) → 1 and (−1, 0) → −1 move w0 towards 1 (∂E/∂w0 = 2(w0 − 1)) and
    leave b at 0 exactly (∂E/∂b = (w0 − 1) + (1 − w0) = 0); the validation row (0, 0) → 0.5
    sees only b: every epoch's validation loss is (0 − 0.5)²/2, a tie.
    """
    net = Network([2, 1], "identity", "identity", "half_sse", seed=0)
    net.weights, net.biases = [[[0.0], [0.0]]], [[[0.0]]]
    return net, [[1.0, 0.0], [-1.0, 0.0]], [[1.0], [-1.0]], ([[0.0, 0.0]], [[0.5]])


@pytest.mark.parametrize("fast", [True, False])
def test_a_tie_keeps_the_earlier_epochs_parameters(fast):
    """Validation losses all equal, K = 3: stops after epoch 3 and gives back epoch 0's weights."""
    net, X, y, validation = irrelevant_weight_network()
    twin = copy.deepcopy(net)
    twin.train(X, y, 1, 0.1, log=None, fast=fast)
    epoch_0 = copy.deepcopy(twin.weights)
    twin.train(X, y, 3, log=None, fast=fast)
    assert twin.weights != epoch_0, "the weight must move, or the tie tells nothing"
    lines = []
    losses = net.train(X, y, 50, 0.1, validation=validation, early_stopping=3, log=lines.append,
                       log_every=1, fast=fast)
    assert len(losses) == 4 and net.epochs_trained == 4
    assert net.weights == epoch_0 and net.best is None
    assert net.history["val_loss"] == [0.125] * 4
    assert lines[-1] == ("Early stopping after epoch 3: the validation loss has not improved for"
                         " 3 epochs; the parameters are epoch 0's, of validation loss 0.1250")
    assert lines[0] == "Epoch 0, Loss: 1.0000, Validation loss: 0.1250"


def by_the_rule(val_losses, patience):
    """The documented rule, by hand: (the epoch it stops after or None, the best epoch, wait)."""
    best, best_epoch, wait = None, None, 0
    for epoch, v in enumerate(val_losses):
        if best is None or v < best:
            best, best_epoch, wait = v, epoch, 0
            continue
        wait += 1
        if wait == patience:
            return epoch, best_epoch, wait
    return None, best_epoch, wait


@pytest.mark.parametrize("fast", [True, False])
@given(case=general_cases(max_depth=3), optimizer=optimizers(), epochs=st.integers(1, 12),
       patience=st.integers(1, 3), batch_size=st.one_of(st.none(), st.integers(1, 4)),
       data=st.data())
@settings(max_examples=30)
def test_validation_and_early_stopping_of_real_runs_follow_the_rule(case, optimizer, epochs,
                                                                    patience, batch_size, data,
                                                                    fast):
    """A network trained with validation data equals a twin trained one epoch at a time: each
    epoch's history entry is the twin's loss, validation loss and accuracy at that epoch's end;
    early stopping stops where the rule applied to those losses says, with that epoch's
    parameters, and the optimizer's state and the epochs those of the last epoch run."""
    net, X, y = case
    n = data.draw(st.integers(1, 4))
    validation = (data.draw(matrices(n, net.sizes[0], floats(2))), data.draw(targets_for(net, n)))
    twin, twin_optimizer = copy.deepcopy(net), copy.deepcopy(optimizer)
    after, twin_losses = [], []
    try:
        for _ in range(epochs):
            twin_losses += twin.train(X, y, 1, optimizer=twin_optimizer, batch_size=batch_size,
                                      log=None, fast=fast)
            after.append((copy.deepcopy(twin.weights), copy.deepcopy(twin.biases),
                          twin.loss(*validation), twin.accuracy(*validation),
                          copy.deepcopy(twin_optimizer.state)))
    except DivergenceError:
        assume(False)
    stops_after, best_epoch, wait = by_the_rule([v for _, _, v, _, _ in after], patience)
    event("stops early" if stops_after is not None else "runs out")

    losses = net.train(X, y, epochs, optimizer=optimizer, batch_size=batch_size, log=None,
                       validation=validation, early_stopping=patience, fast=fast)
    ran = epochs if stops_after is None else stops_after + 1
    assert losses == twin_losses[:ran] and net.epochs_trained == ran
    assert net.history == {"epoch": list(range(ran)), "loss": twin_losses[:ran],
                           "val_loss": [v for _, _, v, _, _ in after[:ran]],
                           "val_accuracy": [a for _, _, _, a, _ in after[:ran]]}
    assert optimizer.state == after[ran - 1][4]
    kept = best_epoch if stops_after is not None else ran - 1
    assert (net.weights, net.biases) == after[kept][:2]
    if stops_after is not None:
        assert net.best is None
    else:
        assert net.best["epoch"] == best_epoch and net.best["epochs_without_improvement"] == wait
        assert (net.best["weights"], net.best["biases"]) == after[best_epoch][:2]
        assert net.best["val_loss"] == after[best_epoch][2]


def test_the_history_grows_over_calls_and_is_not_saved(tmp_path):
    """Each call with validation data adds its epochs, numbered as epochs_trained counts; a call
    without adds nothing; a loaded network starts with an empty history."""
    net, X, y, validation = irrelevant_weight_network()
    net.train(X, y, 2, 0.1, validation=validation, log=None)
    net.train(X, y, 3, 0.1, log=None)
    net.train(X, y, 2, 0.1, validation=validation, log=None)
    assert net.history["epoch"] == [0, 1, 5, 6]
    net.save(tmp_path / "m.json")
    assert Network.load(tmp_path / "m.json").history == training.new_history()


# -- divergence with an optimizer ------------------------------------------------------------


def optimizer_snapshot(optimizer):
    return None if optimizer is None else (optimizer.config(), optimizer.size,
                                           copy.deepcopy(optimizer.state))


@pytest.mark.parametrize("batch_size", [None, 2])
@pytest.mark.parametrize("fast", [True, False])
# Each diverges after some finite epochs: SGD by momentum; the others by a decay whose step
# multiplies p by 1 − 3 = −2 (RMSprop's and Adam's L2 gradient λ·p over an eps that dwarfs
# √v, AdamW's p·(1 − lr·λ)), until the loss overflows.
@pytest.mark.parametrize("make", [
    lambda: optimizers_.SGD(5.0, momentum=0.99),
    lambda: optimizers_.RMSprop(3e200, eps=1e200, weight_decay=1.0, momentum=0.5, centered=True),
    lambda: optimizers_.Adam(3e200, eps=1e200, weight_decay=1.0, amsgrad=True),
    lambda: optimizers_.AdamW(3.0, weight_decay=1.0, amsgrad=True),
], ids=["sgd", "rmsprop", "adam", "adamw"])
def test_a_diverging_optimizer_leaves_net_and_state_as_after_the_last_finite_epoch(make, fast,
                                                                                  batch_size):
    """DivergenceError names the epoch; the network, its generator and the optimizer's state
    (buffers and step count) equal a twin's trained, without error, for that many epochs."""
    X, y = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [[0.0], [1.0], [1.0], [0.0]]
    net, optimizer = Network([2, 3, 1], "relu", "identity", "mse", seed=0), make()
    with pytest.raises(DivergenceError) as info:
        net.train(X, y, 500, optimizer=optimizer, batch_size=batch_size, log=None, fast=fast)
    epoch = info.value.epoch
    assert epoch >= 1, "the run should diverge after some finite epochs, or the test is weak"
    assert info.value.learning_rate == optimizer.lr
    twin, twin_optimizer = Network([2, 3, 1], "relu", "identity", "mse", seed=0), make()
    twin.train(X, y, epoch, optimizer=twin_optimizer, batch_size=batch_size, log=None, fast=fast)
    assert net.epochs_trained == epoch == twin.epochs_trained
    assert (net.weights, net.biases) == (twin.weights, twin.biases)
    assert net.rng.getstate() == twin.rng.getstate()
    assert net.optimizer is optimizer
    assert optimizer_snapshot(optimizer) == optimizer_snapshot(twin_optimizer)


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("diverging", [{"learning_rate": 1.7e308},
                                       {"optimizer": optimizers_.SGD(1.7e308, momentum=0.5)}],
                         ids=["learning_rate", "optimizer"])
def test_a_call_whose_first_epoch_diverges_leaves_the_previous_optimizer_in_place(diverging,
                                                                                   fast):
    """If no epoch of a call is finite, the network keeps the optimizer (and state) of the last
    finite epoch, as a checkpoint saved then, or train() with neither argument, expects."""
    # Targets of 1e10 give gradients that a rate of 1.7e308 takes past the largest float.
    X, y = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [[0.0], [1e10], [1e10], [0.0]]
    net = Network([2, 3, 1], "relu", "identity", "mse", seed=0)
    adam = optimizers_.Adam(0.01, amsgrad=True)
    net.train(X, y, 3, optimizer=adam, log=None, fast=fast)
    before = (copy.deepcopy(net.weights), copy.deepcopy(net.biases), optimizer_snapshot(adam))
    with pytest.raises(DivergenceError) as info:
        net.train(X, y, 5, log=None, fast=fast, **copy.deepcopy(diverging))
    assert info.value.epoch == 3 and net.epochs_trained == 3
    assert net.optimizer is adam
    assert (net.weights, net.biases, optimizer_snapshot(adam)) == before
    net.train(X, y, 1, log=None, fast=fast)  # goes on with Adam
    assert adam.state["step"] == 4
