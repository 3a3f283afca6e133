"""Tests for purebp.fast.loop: train gives the same bits on either fast path as with fast=False.

Each law is checked on both fast paths that fast=True chooses between: the
written-out code (purebp.fast.unrolled, where it covers the network) and the
reference's arithmetic in its fastest exact form (purebp.fast.rows).

The reference (each network's readable ``_epoch``) is checked against
hand-derived formulas, finite differences and 50-digit arithmetic elsewhere;
here the law is that training with ``fast=False`` changes nothing that
a caller can see: losses, parameters, the kept forward pass, epochs_trained,
the generator state, the optimizer's state, the validation history and early
stopping's record, the log lines, the on_epoch calls, and where and how a
diverging run stops.
"""

import copy
import math
import sys

import pytest
from bitwise import bits, snapshot
from hypothesis import given
from hypothesis import strategies as st
from strategies import batches, floats, general_cases, matrices, networks, optimizers, targets_for

from purebp.errors import DivergenceError
from purebp.fast import loop as fast_loop
from purebp.fast import unrolled
from purebp.network import Network
from purebp.optimizers import SGD, Adam
from purebp.tutorial import NeuralNetwork

XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_Y = [[0.0], [1.0], [1.0], [0.0]]


def optimizer_state(optimizer):
    """An optimizer's arguments and state, the buffers as bits (None: no optimizer)."""
    if optimizer is None:
        return None
    return (optimizer.config(), optimizer.size,
            {k: bits(v) if isinstance(v, list) else v for k, v in optimizer.state.items()})


def training_state(net):
    """What training with an optimizer and validation adds to snapshot(): the optimizer's
    state, early stopping's record and the history, floats as bits."""
    if not isinstance(net, Network):
        return None
    best = None if net.best is None else {k: bits(v) if isinstance(v, (list, float)) else v
                                          for k, v in net.best.items()}
    return {"optimizer": optimizer_state(net.optimizer), "best": best,
            "history": {k: bits(v) if k != "epoch" else v for k, v in net.history.items()}}


def run(net, X, y, enabled, **kwargs):
    """Train a copy of net with ``fast=enabled``; return what a caller sees."""
    net = copy.deepcopy(net)
    if kwargs.get("optimizer") is not None:
        kwargs["optimizer"] = copy.deepcopy(kwargs["optimizer"])  # each run its own state
    lines, calls = [], []
    stop_at = kwargs.pop("stop_at", None)

    def on_epoch(n, epoch, loss):
        calls.append((epoch, bits(loss), n.epochs_trained, snapshot(n), training_state(n)))
        return epoch != stop_at

    if kwargs.pop("with_on_epoch", False):
        kwargs["on_epoch"] = on_epoch
    try:
        losses, error = net.train(X, y, log=lines.append, fast=enabled, **kwargs), None
    except DivergenceError as e:
        # A NaN's sign bit is not part of the result (x − x and inf − inf may set it either way).
        losses, error = None, (e.epoch, bits(e.loss) if e.loss == e.loss else "nan", str(e))
    return {"losses": bits(losses), "error": error, "state": snapshot(net),
            "training": training_state(net), "lines": lines, "calls": calls}


def fast_paths(net):
    """The fast paths that can train net: "reference" always, "written-out" where it covers it."""
    return (["written-out"] if unrolled.supported(net._spec()) else []) + ["reference"]


def assert_same_either_way(net, X, y, **kwargs):
    readable = run(net, X, y, False, **kwargs)
    for path in fast_paths(net):
        assert run(net, X, y, path, **kwargs) == readable, path


settings_strategy = st.fixed_dictionaries({
    "epochs": st.integers(0, 12),
    "learning_rate": st.sampled_from([0.0, 0.05, 0.5, 3.0]),
    "log_every": st.integers(1, 5),
    "with_on_epoch": st.booleans(),
    "stop_at": st.one_of(st.none(), st.integers(0, 12)),
})


@given(general_cases(), settings_strategy, st.one_of(st.none(), st.integers(1, 9)))
def test_network_train_is_the_same_with_and_without_unrolled_code(case, kwargs, batch_size):
    """Every activation, loss, depth, batch size, log and on_epoch pattern: identical bits."""
    net, X, y = case
    assert_same_either_way(net, X, y, batch_size=batch_size, **kwargs)


optimizer_settings = st.fixed_dictionaries({
    "epochs": st.integers(0, 12),
    "log_every": st.integers(1, 5),
    "with_on_epoch": st.booleans(),
    "stop_at": st.one_of(st.none(), st.integers(0, 12)),
})


@given(general_cases(), optimizers(), optimizer_settings, st.one_of(st.none(), st.integers(1, 9)))
def test_every_optimizer_trains_the_same_with_and_without_unrolled_code(case, optimizer, kwargs,
                                                                        batch_size):
    """Every optimizer and argument set, any shape, full batch or mini-batches: the same losses,
    parameters, optimizer state (buffers and step count), generator, log and on_epoch calls."""
    net, X, y = case
    assert_same_either_way(net, X, y, optimizer=optimizer, batch_size=batch_size, **kwargs)


@given(general_cases(), optimizers(), optimizer_settings, st.one_of(st.none(), st.integers(1, 3)),
       st.one_of(st.none(), st.integers(1, 3)), st.data())
def test_validation_and_early_stopping_are_the_same_with_and_without_unrolled_code(
        case, optimizer, kwargs, batch_size, early_stopping, data):
    """With validation data and early stopping: the same history, record, restored parameters,
    stopping epoch and log lines either way."""
    net, X, y = case
    n = data.draw(st.integers(1, 5))
    X_val = data.draw(matrices(n, net.sizes[0], floats(2)))
    y_val = data.draw(targets_for(net, n))
    assert_same_either_way(net, X, y, optimizer=optimizer, batch_size=batch_size,
                           validation=(X_val, y_val), early_stopping=early_stopping, **kwargs)


@given(general_cases(), optimizers(learning_rates=(1e3, 1e12, 1e300)),
       st.one_of(st.none(), st.integers(1, 3)))
def test_diverging_runs_with_any_optimizer_stop_alike_in_the_same_state(case, optimizer,
                                                                         batch_size):
    """Huge learning rates with every optimizer: the same DivergenceError (or none), and the
    network and the optimizer's state left as after the last finite epoch, either way."""
    net, X, y = case
    assert_same_either_way(net, X, y, epochs=30, optimizer=optimizer, batch_size=batch_size,
                           log_every=7)


@given(networks().flatmap(lambda net: st.tuples(st.just(net), batches(net))), settings_strategy)
def test_neural_network_train_is_the_same_with_and_without_unrolled_code(case, kwargs):
    """The tutorial's class, any sizes and settings: identical bits."""
    net, (X, y) = case
    assert_same_either_way(net, X, y, **kwargs)


@given(general_cases(), st.sampled_from([1e3, 1e6, 1e12]), st.one_of(st.none(), st.integers(1, 3)))
def test_diverging_runs_stop_at_the_same_epoch_in_the_same_state(case, learning_rate, batch_size):
    """Huge learning rates: the same DivergenceError (or none), the same state left behind."""
    net, X, y = case
    assert_same_either_way(net, X, y, epochs=30, learning_rate=learning_rate,
                           batch_size=batch_size, log_every=7)


@pytest.mark.parametrize("scale", [1.0, 30.0, 800.0])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "identity"])
def test_saturated_and_extreme_units_give_the_same_bits(activation, scale):
    """Weights scaled so that sigmoid reaches its e^x branch (z < −708) and tanh saturates."""
    net = Network([2, 3, 2], activation, "sigmoid", "bce", seed=3)
    net.weights = [[[w * scale for w in row] for row in W] for W in net.weights]
    X = [[1.0, -1.0], [0.5, 2.0], [-2.0, 0.25]]
    y = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    assert_same_either_way(net, X, y, epochs=5, learning_rate=0.1, log_every=2)


@pytest.mark.parametrize("path", ["written-out", "reference"])
def test_negative_zero_gradients_reach_negative_zero_parameters_as_in_the_reference(path):
    """An off relu output gives δ = e·0.0 = −0.0; with −0.0 parameters the start of each sum shows.

    z = 0.0 + 1·(−0.0) + (−1)·1 + (−0.0) = −1, so ŷ = 0, e = −1 and δ = −1·0.0 = −0.0.
    The weight gradient (a dot product, from 0.0) is 0.0 + 1·(−0.0) = 0.0, leaving w0 = −0.0;
    the bias gradient (a column sum, from the first row) is −0.0, turning b = −0.0 into 0.0.
    """
    net = Network([2, 1], "relu", "relu", "half_sse", seed=0)
    net.weights, net.biases = [[[-0.0], [1.0]]], [[[-0.0]]]
    X, y = [[1.0, -1.0]], [[1.0]]
    reference = run(net, X, y, False, epochs=1, learning_rate=1.0)
    assert reference["state"]["weights"][0][0] == [bits(-0.0)], "the case no longer tests the sign"
    assert reference["state"]["biases"] == [[[bits(0.0)]]], "the case no longer tests the sign"
    assert run(net, X, y, path, epochs=1, learning_rate=1.0) == reference


@pytest.mark.parametrize("path", ["written-out", "reference"])
def test_a_negative_zero_hidden_delta_sum_matches_the_reference(path):
    """δ0 = (0.0 + δ1·w1)·f′ with δ1 = −1, w1 = 0.0: the sum is 0.0, so a −0.0 hidden bias stays −0.0."""
    net = Network([1, 1, 1], "relu", "identity", "half_sse", seed=0)
    net.weights, net.biases = [[[1.0]], [[0.0]]], [[[-0.0]], [[0.0]]]
    X, y = [[1.0]], [[1.0]]
    reference = run(net, X, y, False, epochs=1, learning_rate=1.0)
    assert reference["state"]["biases"][0] == [[bits(-0.0)]], "the case no longer tests the sign"
    assert run(net, X, y, path, epochs=1, learning_rate=1.0) == reference


# Zeros of both signs, ±1 and ±0.5: units exactly at 0 (relu′(0)) and −0.0 products are common.
_SMALL = st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, -0.5])
ELEMENTWISE = ("identity", "sigmoid", "tanh", "relu", "leaky_relu")


@given(st.sampled_from(ELEMENTWISE), st.sampled_from(("identity", "relu", "leaky_relu")),
       st.lists(st.integers(1, 3), min_size=2, max_size=4), st.data())
def test_zero_heavy_networks_give_the_same_bits(hidden, output, sizes, data):
    """Weights, biases, inputs and targets from {±0.0, ±0.5, ±1}: every sign of zero as the reference."""
    net = Network(sizes, hidden, output, "half_sse", seed=0)
    net.weights = [[[data.draw(_SMALL) for _ in range(c)] for _ in range(r)]
                   for r, c in zip(sizes[:-1], sizes[1:])]
    net.biases = [[[data.draw(_SMALL) for _ in range(c)]] for c in sizes[1:]]
    n = data.draw(st.integers(1, 3))
    X = [[data.draw(_SMALL) for _ in range(sizes[0])] for _ in range(n)]
    y = [[data.draw(_SMALL) for _ in range(sizes[-1])] for _ in range(n)]
    assert_same_either_way(net, X, y, epochs=2, learning_rate=1.0)


@pytest.mark.parametrize("path", ["written-out", "reference"])
def test_relu_derivative_at_exactly_zero_is_zero_as_in_the_reference(path):
    """A hidden relu unit with z = 0.0 exactly has f′ = 0: its bias must not move."""
    net = Network([1, 1, 1], "relu", "identity", "half_sse", seed=0)
    net.weights, net.biases = [[[0.0]], [[1.0]]], [[[0.0]], [[0.0]]]
    X, y = [[1.0]], [[1.0]]
    reference = run(net, X, y, False, epochs=2, learning_rate=0.5)
    assert reference["state"]["biases"][0] == [[bits(0.0)]]
    assert run(net, X, y, path, epochs=2, learning_rate=0.5) == reference


@pytest.mark.parametrize("activation", ELEMENTWISE)
def test_a_dense_sweep_of_hidden_units_gives_the_same_bits(activation):
    """60 hidden units × 17 inputs: ~1,000 activations and derivatives per epoch, where a
    formula that is right only to within an ulp (a ** 2 for a * a, say) shows up."""
    width = 60
    net = Network([1, width, 1], activation, "identity", "half_sse", seed=0)
    net.weights = [[[(j - width // 2) / 7.0 for j in range(width)]],
                   [[1.0 / (j + 1)] for j in range(width)]]
    net.biases = [[[0.0] * width], [[0.0]]]
    X = [[x / 4.0] for x in range(-8, 9)]  # includes 0.0: units exactly at z = 0
    y = [[math.sin(x)] for x in range(-8, 9)]
    assert_same_either_way(net, X, y, epochs=3, learning_rate=0.01)


@pytest.mark.parametrize("path", ["written-out", "reference"])
def test_an_overflowing_loss_with_finite_parameters_diverges(path):
    """e = 1e200 makes e·e = inf while learning rate 0 keeps every parameter finite: epoch 0 diverges."""
    net = Network([1, 1], "identity", "identity", "half_sse", seed=0)
    net.weights, net.biases = [[[1e200]]], [[[0.0]]]
    result = run(net, [[1.0]], [[0.0]], path, epochs=3, learning_rate=0.0)
    assert result["error"] is not None and result["error"][0] == 0
    assert result["state"]["epochs_trained"] == 0
    assert result == run(net, [[1.0]], [[0.0]], False, epochs=3, learning_rate=0.0)


@pytest.mark.parametrize("path", ["written-out", "reference"])
def test_finite_batch_losses_that_add_up_to_inf_diverge(path):
    """Three batches of half_sse 7.2e307 each: every batch is finite, the epoch's sum is not."""
    net = Network([1, 1], "identity", "identity", "half_sse", seed=0)
    net.weights, net.biases = [[[1.2e154]]], [[[0.0]]]
    X, y = [[1.0]] * 3, [[0.0]] * 3
    result = run(net, X, y, path, epochs=2, learning_rate=0.0, batch_size=1)
    assert result["error"] is not None and result["error"][0] == 0
    assert result["error"][1] == bits(math.inf)
    assert result == run(net, X, y, False, epochs=2, learning_rate=0.0, batch_size=1)


@pytest.mark.parametrize("path", ["written-out", "reference"])
def test_huge_but_finite_parameters_are_not_mistaken_for_divergence(path):
    """Parameters whose sum overflows are still finite: training goes on, as the reference does."""
    net = Network([2, 2, 1], "identity", "identity", "half_sse", seed=0)
    net.weights = [[[1.5e308, 1.5e308], [0.0, 0.0]], [[0.0], [0.0]]]
    X, y = [[0.0, 0.0]], [[0.0]]
    result = run(net, X, y, path, epochs=3, learning_rate=0.5)
    assert result["error"] is None and len(result["losses"]) == 3
    assert result == run(net, X, y, False, epochs=3, learning_rate=0.5)


def test_the_tutorial_workload_is_the_same_either_way():
    """10,000 epochs of the tutorial's run: the same losses, weights and log, bit for bit."""
    net = NeuralNetwork(2, 4, 1, seed=0)
    assert_same_either_way(net, XOR_X, XOR_Y, epochs=10_000, learning_rate=0.1)


# -- softmax with cross_entropy, written out row by row ----------------------------


@st.composite
def softmax_cases(draw):
    """(net, X, y, batch_size): a softmax network of 2–5 classes, with logits that tie (zero
    output weights), reach ±1000, or neither; one-hot or soft targets, zeros among them, some
    rows summing to 1 only within the network's 1e-6; a batch size that may leave a last batch of 1."""
    k = draw(st.integers(2, 5))
    sizes = [draw(st.integers(1, 4)) for _ in range(draw(st.integers(1, 3)))] + [k]
    net = Network(sizes, draw(st.sampled_from(ELEMENTWISE)), "softmax", "cross_entropy", seed=0)
    net.weights = [draw(matrices(r, c, floats(1.5))) for r, c in zip(sizes[:-1], sizes[1:])]
    net.biases = [draw(matrices(1, c, floats(1.5))) for c in sizes[1:]]
    logits = draw(st.sampled_from(["drawn", "tied", "huge"]))
    if logits == "tied":  # every logit is its bias: equal ones where the biases are equal
        net.weights[-1] = [[0.0] * k for _ in range(sizes[-2])]
        net.biases[-1] = [[draw(st.sampled_from([0.0, -0.0, 0.5])) for _ in range(k)]]
    elif logits == "huge":  # ±1000 and beyond: e^z would overflow, the parts must not
        net.biases[-1] = [[draw(st.sampled_from([1000.0, -1000.0, 999.0])) for _ in range(k)]]
        net.weights[-1] = [[w * 1000.0 for w in row] for row in net.weights[-1]]
    batch_size = draw(st.one_of(st.none(), st.integers(1, 4)))
    n = draw(st.integers(1, 9))
    if batch_size is not None and draw(st.booleans()):
        n = batch_size * draw(st.integers(1, 2)) + 1  # the last batch holds one sample
    X = draw(matrices(n, sizes[0], floats(2)))
    y = []
    for _ in range(n):
        kind = draw(st.sampled_from(["one-hot", "soft", "nearly"]))
        if kind == "one-hot":
            c = draw(st.integers(0, k - 1))
            y.append([1.0 if j == c else 0.0 for j in range(k)])
        else:
            weights = draw(st.lists(st.sampled_from([0.0, 0.25, 1.0, 3.0]), min_size=k, max_size=k))
            weights[draw(st.integers(0, k - 1))] = 1.0
            row = [w / math.fsum(weights) for w in weights]
            if kind == "nearly":  # within the 1e-6 the network allows: mass ≠ 1
                row[draw(st.integers(0, k - 1))] += draw(st.sampled_from([4e-7, -4e-7]))
                row = [min(max(t, 0.0), 1.0) for t in row]
            y.append(row)
    return net, X, y, batch_size


@given(softmax_cases(), settings_strategy)
def test_softmax_networks_train_the_same_with_and_without_unrolled_code(case, kwargs):
    """Softmax with cross_entropy, ties, ±1000 logits, soft targets, mini-batches, logs and
    on_epoch: identical bits either way."""
    net, X, y, batch_size = case
    assert_same_either_way(net, X, y, batch_size=batch_size, **kwargs)


@given(softmax_cases(), optimizers(), optimizer_settings)
def test_softmax_networks_with_any_optimizer_train_the_same_either_way(case, optimizer, kwargs):
    """Softmax with cross_entropy and every optimizer: the same losses, parameters and state."""
    net, X, y, batch_size = case
    assert_same_either_way(net, X, y, optimizer=optimizer, batch_size=batch_size, **kwargs)


@pytest.mark.parametrize("optimizer", [Adam(0.05), Adam(0.01, amsgrad=True, weight_decay=0.1),
                                       SGD(0.3, momentum=0.9), SGD(0.1, momentum=0.5, nesterov=True)],
                         ids=repr)
@pytest.mark.parametrize("batch_size", [None, 2, 3])
def test_softmax_with_adam_and_momentum_trains_the_same_either_way(optimizer, batch_size):
    """Five samples in batches of 2 or 3 (a last batch of 1 or 2), Adam and SGD momentum, logged
    every 2 epochs with on_epoch: the same bits either way."""
    net = Network([3, 4, 3], "relu", "softmax", "cross_entropy", seed=4)
    X = [[0.5, -1.0, 2.0], [1.0, 1.0, 0.0], [-2.0, 0.25, 1.0], [0.0, 0.0, 0.0], [1.5, -0.5, -1.0]]
    y = [[1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 1.0], [0.25, 0.75, 0.0], [0.0, 1.0, 0.0]]
    assert_same_either_way(net, X, y, epochs=9, optimizer=optimizer, batch_size=batch_size,
                           log_every=2, with_on_epoch=True)


@given(softmax_cases(), st.sampled_from([1e3, 1e6, 1e12, 1e300]))
def test_diverging_softmax_runs_stop_alike_in_the_same_state(case, learning_rate):
    """Huge learning rates on softmax networks: the same DivergenceError (or none) and state."""
    net, X, y, batch_size = case
    assert_same_either_way(net, X, y, epochs=30, learning_rate=learning_rate,
                           batch_size=batch_size, log_every=7)


def test_softmax_networks_train_with_the_written_out_code(monkeypatch):
    """The written-out code is what trains a softmax network: supported, compiled and called,
    once per batch, and the run agrees with the reference."""
    from purebp.fast import unrolled

    net = Network([2, 3, 3], "tanh", "softmax", "cross_entropy", seed=1)
    assert unrolled.supported(net._spec())
    calls = []
    compiled = unrolled.compiled

    def counting(spec):
        kernel = compiled(spec)

        def counted(rows, *args):
            calls.append(len(rows))
            return kernel(rows, *args)
        return counted

    monkeypatch.setattr(unrolled, "compiled", counting)
    y = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    result = run(net, XOR_X, y, True, epochs=20, learning_rate=0.5, log_every=5)
    assert calls == [4] * 5  # epochs 0, 1–5, 6–10, 11–15 (each up to a log line), 16–19
    assert result == run(net, XOR_X, y, False, epochs=20, learning_rate=0.5, log_every=5)
    assert len(result["lines"]) == 4
    calls.clear()
    run(net, XOR_X, y, True, epochs=2, learning_rate=0.5, batch_size=3)
    assert calls == [3, 1, 3, 1]


def test_softmax_networks_above_the_limit_train_with_the_reference(monkeypatch):
    """Over MAX_WRITTEN_OUT parameters a softmax network never reaches the written-out code."""
    from purebp.fast import unrolled

    net = Network([2, 1366], "identity", "softmax", "cross_entropy", seed=0)
    assert not unrolled.supported(net._spec())
    monkeypatch.setattr(unrolled, "compiled", lambda spec: pytest.fail("compiled was called"))
    X, y = [[1.0, -1.0]], [[1.0] + [0.0] * 1365]
    assert run(net, X, y, True, epochs=2, learning_rate=0.1) == run(net, X, y, False, epochs=2,
                                                                     learning_rate=0.1)


def test_on_epoch_sees_the_network_as_it_is_after_that_epoch():
    """Inside on_epoch the parameters and predictions are those after the epoch it names."""
    net = NeuralNetwork(2, 4, 1, seed=0)
    seen = []
    net.train(XOR_X, XOR_Y, 3, 0.1, log=None,
              on_epoch=lambda n, epoch, loss: seen.append(
                  (epoch, copy.deepcopy(n.weights_input_hidden), n.predicted_output)))
    twin = NeuralNetwork(2, 4, 1, seed=0)
    for epoch, weights, predicted in seen:
        twin.feedforward(XOR_X)
        twin.backward(XOR_X, XOR_Y, 0.1)
        assert weights == twin.weights_input_hidden
        assert predicted == twin.predicted_output, f"epoch {epoch}"


def test_the_log_lines_are_the_epochs_the_reference_logs():
    """log_every 3 over 10 epochs: epochs 0, 3, 6, 9, with each epoch's own loss."""
    net = Network([2, 4, 1], seed=0)
    lines = []
    losses = net.train(XOR_X, XOR_Y, 10, 0.1, log_every=3, log=lines.append)
    assert lines == [f"Epoch {e}, Loss: {losses[e]:.4f}" for e in (0, 3, 6, 9)]
    assert all(math.isfinite(v) for v in losses)


@pytest.mark.parametrize("fast", [True, False])
def test_plain_sgd_through_the_written_out_step_refuses_another_shape_afterwards(fast):
    """SGD(lr) steps written out still fix the optimizer's size, so that reusing it on a network
    of another shape is refused as after the readable loop (once, only fast=False refused)."""
    optimizer = SGD(0.1)
    Network([2, 3, 1], seed=0).train(XOR_X, XOR_Y, 2, optimizer=optimizer, log=None, fast=fast)
    assert optimizer.size == 2 * 3 + 3 + 3 * 1 + 1 and optimizer.state == {"step": 2}
    other = Network([2, 4, 1], seed=0)
    with pytest.raises(ValueError, match="train: optimizer holds state for 13 parameters and"
                                         " the network has 17"):
        other.train(XOR_X, XOR_Y, 1, optimizer=optimizer, log=None, fast=fast)
    assert other.epochs_trained == 0 and optimizer.state == {"step": 2}


# -- which path runs ------------------------------------------------------------


def expected_path(spec, interpreter):
    """The rule of purebp/docs/speed.md, written again: written-out where it covers the
    network, on PyPy only up to 300 weights and biases and 8 relu/leaky_relu units."""
    count = sum(m * (n + 1) for n, m in zip(spec.sizes[:-1], spec.sizes[1:]))
    covered = count <= 4096 and ((spec.output_activation == "softmax")
                                 == (spec.loss == "cross_entropy"))
    if interpreter == "pypy":
        kinds = [spec.activation] * (len(spec.sizes) - 2) + [spec.output_activation]
        branching = sum(n for n, kind in zip(spec.sizes[1:], kinds) if "relu" in kind)
        covered = covered and count <= 300 and branching <= 8
    return "written-out" if covered else "reference"


@pytest.mark.parametrize("interpreter", ["cpython", "pypy"])
@pytest.mark.parametrize("sizes, activation, output, loss", [
    ([2, 4, 1], "relu", "identity", "mse"), ([2, 8, 1], "relu", "identity", "mse"),
    ([2, 8, 8, 1], "relu", "identity", "mse"), ([2, 8, 8, 1], "tanh", "relu", "mse"),
    ([2, 14, 14, 1], "tanh", "sigmoid", "bce"), ([2, 16, 16, 1], "tanh", "sigmoid", "bce"),
    ([4, 12, 12, 2], "leaky_relu", "sigmoid", "bce"), ([64, 32, 10], "sigmoid", "sigmoid", "bce"),
    ([30, 100, 9], "tanh", "identity", "mse"), ([8, 64, 64, 1], "relu", "identity", "mse"),
    ([2, 3, 3], "tanh", "softmax", "cross_entropy"), ([64, 32, 10], "relu", "softmax", "cross_entropy"),
    ([64, 64, 10], "relu", "softmax", "cross_entropy"),
])
def test_choose_follows_the_documented_rule_on_each_interpreter(interpreter, sizes, activation,
                                                               output, loss, monkeypatch):
    spec = Network(sizes, activation, output, loss, seed=0)._spec()
    monkeypatch.setattr(sys.implementation, "name", interpreter)
    assert fast_loop.choose(spec) == expected_path(spec, interpreter)


@pytest.mark.parametrize("sizes, activation, output, loss", [
    ([2, 4, 1], "sigmoid", "sigmoid", "half_sse"),
    ([2, 16, 16, 1], "tanh", "sigmoid", "bce"),
    ([8, 64, 64, 1], "relu", "identity", "mse"),  # 4,801 parameters: over the written-out limit
    ([2, 3, 3], "tanh", "softmax", "cross_entropy"),
])
def test_fast_true_runs_the_path_choose_picks_and_says_so(sizes, activation, output, loss):
    net = Network(sizes, activation, output, loss, seed=0)
    X = [[0.5] * sizes[0], [-1.0] * sizes[0]]
    y = [[1.0] + [0.0] * (sizes[-1] - 1)] * 2
    assert net.last_path is None
    net.train(X, y, 1, 0.1, log=None)
    assert net.last_path == fast_loop.choose(net._spec())
    assert net.last_path == expected_path(net._spec(), sys.implementation.name)
    net.train(X, y, 1, 0.1, log=None, fast=False)
    assert net.last_path == "readable"
    net.train(X, y, 1, 0.1, log=None, fast="reference")
    assert net.last_path == "reference"


def test_a_readable_replay_after_divergence_still_reports_the_fast_path():
    net = Network([1, 1], "identity", "identity", "half_sse", seed=0)
    net.weights, net.biases = [[[1e200]]], [[[0.0]]]
    with pytest.raises(DivergenceError):
        net.train([[1.0]], [[0.0]], 3, 0.0, log=None, fast="reference")
    assert net.last_path == "reference"


def test_the_tutorial_class_says_which_path_ran():
    net = NeuralNetwork(2, 4, 1, seed=0)
    net.train(XOR_X, XOR_Y, 2, 0.1, log=None, fast="reference")
    assert net.last_path == "reference"
    net.train(XOR_X, XOR_Y, 2, 0.1, log=None)
    assert net.last_path == fast_loop.choose(net._spec())
    net.train(XOR_X, XOR_Y, 2, 0.1, log=None, fast=False)
    assert net.last_path == "readable"


def test_written_out_is_refused_where_it_does_not_cover_the_network_and_nothing_changes():
    net = Network([8, 64, 64, 1], "relu", "identity", "mse", seed=0)
    before = snapshot(net)
    with pytest.raises(ValueError, match=r"train: fast='written-out' cannot run this network"
                                         r" \(sizes \[8, 64, 64, 1\], relu/identity, loss mse\)"):
        net.train([[0.0] * 8], [[1.0]], 1, 0.1, log=None, fast="written-out")
    assert snapshot(net) == before and net.optimizer is None and net.last_path is None


@pytest.mark.parametrize("fast", ["fast", "Written-out", 1, None, b"reference"])
def test_fast_must_be_a_bool_or_a_path_name(fast):
    net = Network([2, 2, 1], seed=0)
    with pytest.raises(TypeError, match="train: fast must be True, False, 'written-out' or"
                                        " 'reference', got"):
        net.train(XOR_X, XOR_Y, 1, 0.1, log=None, fast=fast)
    assert net.epochs_trained == 0


def test_a_network_over_the_written_out_limit_trains_on_the_reference_path_with_the_same_bits():
    """4,801 parameters, mini-batches of 2 and Adam: the reference path's products, the
    readable loop's bits."""
    from purebp.optimizers import Adam
    net = Network([8, 64, 64, 1], "relu", "identity", "mse", seed=0)
    X = [[math.sin(i * 8 + j) for j in range(8)] for i in range(5)]
    y = [[math.cos(i)] for i in range(5)]
    assert_same_either_way(net, X, y, epochs=2, batch_size=2, optimizer=Adam(0.01))
