"""Tests for purebp.layers.sequential: forward, backward and gradients by torch's keys, the
general network as a Sequential with the same bits, training, state dicts, bad input."""

import random

import layers_exact as exact
import pytest

from purebp import optimizers
from purebp.errors import DivergenceError
from purebp.layers import (
    BatchNorm1d,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from purebp.layers.tensor import flat, unflat
from purebp.network import Network


def as_sequential(net, loss):
    """The Network's layers as Linear + activation layers (the bce output's sigmoid is in the loss)."""
    layers = []
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        linear = Linear(len(W), len(W[0]))
        linear.weight = [list(column) for column in zip(*W)]
        linear.bias = list(b[0])
        layers.append(linear)
        last = l == len(net.weights) - 1
        name = net.output_activation if last else net.activation
        if last and loss in ("bce", "cross_entropy"):
            continue
        layers.append({"tanh": Tanh, "sigmoid": Sigmoid, "relu": ReLU}[name]())
    return Sequential(*layers, loss=loss)


@pytest.mark.parametrize("activation, output, loss", [
    ("tanh", "sigmoid", "bce"), ("sigmoid", "sigmoid", "half_sse"), ("relu", "sigmoid", "mse")])
def test_the_network_is_a_sequential_of_linear_and_activations_with_the_same_bits(
        activation, output, loss):
    net = Network([2, 4, 3, 1], activation=activation, output_activation=output, loss=loss, seed=3)
    model = as_sequential(net, loss)
    X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    y = [[0.0], [1.0], [1.0], [0.0]]
    grads = net.gradients(X, y)
    output_ = model.forward(X)
    model.backward(model.loss_gradient(output_, y))
    g = model.gradients()
    for l in range(3):
        assert g[f"{2 * l}.weight"] == [list(c) for c in zip(*grads["weights"][l])]
        assert g[f"{2 * l}.bias"] == grads["biases"][l][0]
    # and ten epochs of Adam, bit for bit
    net.train(X, y, 10, optimizer=optimizers.Adam(lr=0.05), log=None)
    model.train(X, y, 10, optimizer=optimizers.Adam(lr=0.05), log=None)
    for l in range(3):
        assert model[2 * l].weight == [list(c) for c in zip(*net.weights[l])]


def test_a_small_cnn_matches_the_50_digit_forward_and_its_finite_differences():
    rng = random.Random(7)
    model = Sequential(Conv2d(1, 2, 2, padding=1, generator=rng), ReLU(), MaxPool2d(2),
                       Flatten(), Linear(8, 3, generator=rng), loss="cross_entropy")
    x = unflat([rng.uniform(-1, 1) for _ in range(2 * 16)], (2, 1, 4, 4))
    conv, linear = model[0], model[4]
    params = {k: exact.D(v) for k, v in model.parameters().items()}

    def forward(x, p):
        y = exact.conv2d(x, p["0.weight"], p["0.bias"], (1, 1), (1, 1))
        y = exact.elementwise(lambda v: max(v, exact.Decimal(0)), y)
        y = exact.max_pool2d(y, (2, 2), (2, 2), (0, 0))
        y = [flat(sample) for sample in y]
        return exact.linear(y, p["4.weight"], p["4.bias"])

    out = model.forward(x)
    exact.check(out, exact.run(forward, exact.D(x), params))
    g = [[0.3, -0.2, 0.5], [-1.0, 0.25, 0.1]]
    model.backward(g)
    found = model.gradients()
    for key, value in params.items():
        shape = exact._shape(value)

        def loss(v, key=key, shape=shape):
            return exact.upstream_sum(g, forward(exact.D(x), {**params, key: unflat(v, shape)}))

        exact.check(found[key], exact.gradient(loss, flat(value)))
    assert conv is model[0] and linear is model[4]


def test_the_keys_are_torchs_and_a_state_dict_loads_back():
    model = Sequential(Linear(3, 4), BatchNorm1d(4), ReLU(), Linear(4, 2))
    assert list(model.state_dict()) == [
        "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
        "1.num_batches_tracked", "3.weight", "3.bias"]
    other = Sequential(Linear(3, 4), BatchNorm1d(4), ReLU(), Linear(4, 2))
    other.load_state_dict(model.state_dict())
    assert other.state_dict() == model.state_dict()


def test_a_bad_state_dict_names_the_layer_and_changes_nothing():
    model = Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
    before = model.state_dict()
    state = dict(before, **{"2.weight": [[0.0] * 4]})
    with pytest.raises(ValueError) as caught:
        model.load_state_dict(state)
    assert "layer 2 (Linear(in_features=4, out_features=2, bias=True))" in str(caught.value)
    assert "weight must have the shape (2, 4), got (1, 4)" in str(caught.value)
    assert model.state_dict() == before
    with pytest.raises(ValueError, match=r"missing \['0.bias'\]"):
        model.load_state_dict({k: v for k, v in before.items() if k != "0.bias"})


def test_train_and_eval_switch_every_layer():
    model = Sequential(Linear(2, 2), Dropout(0.5), BatchNorm1d(2))
    assert model.eval() is model and not any(layer.training for layer in model)
    assert model.train() is model and all(layer.training for layer in model)


def test_minibatch_training_is_seeded_and_learns_xor():
    X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 4
    y = [[0.0], [1.0], [1.0], [0.0]] * 4
    runs = []
    for _ in range(2):
        model = Sequential(Linear(2, 8, generator=random.Random(1)), Tanh(),
                           Linear(8, 1, generator=random.Random(2)), loss="bce", seed=5)
        losses = model.train(X, y, 150, optimizer=optimizers.Adam(lr=0.05), batch_size=4,
                             log=None)
        runs.append((losses, model.state_dict()))
    assert runs[0] == runs[1]
    assert runs[0][0][-1] < 0.05 < runs[0][0][0]


def test_a_diverging_run_raises_and_keeps_the_last_finite_model():
    model = Sequential(Linear(1, 1), loss="mse")
    model[0].weight, model[0].bias = [[1.0]], [0.0]
    with pytest.raises(DivergenceError):
        model.train([[1e150]], [[0.0]], 5, learning_rate=1e10, log=None)
    assert all(abs(v) < float("inf") for v in flat(model[0].weight))


def test_train_without_an_optimizer_says_what_to_give():
    with pytest.raises(ValueError, match="an optimizer must be given"):
        Sequential(Linear(1, 1)).train([[1.0]], [[1.0]], 1, log=None)


def test_targets_of_another_width_are_refused_before_training():
    model = Sequential(Linear(3, 1), loss="mse")
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"y must have the output's shape 1 × 1 .* got 1 × 2"):
        model.train([[1.0, 2.0, 3.0]] * 5, [[1.0, 0.0]] * 5, 1, optimizer=optimizers.SGD(0.1),
                    log=None)
    assert model.state_dict() == before and model.optimizer is None


def test_a_batch_a_layer_refuses_undoes_the_epoch():
    """The last batch of one sample: BatchNorm refuses it in training mode, as torch; the
    epoch's earlier steps, statistics and the optimizer are all put back."""
    X = [[float(i), float(i % 3), 1.0] for i in range(5)]
    y = [[float(i % 2)] for i in range(5)]
    model = Sequential(Linear(3, 4), BatchNorm1d(4), ReLU(), Linear(4, 1))
    before = model.state_dict()
    with pytest.raises(ValueError, match="more than one value per channel"):
        model.train(X, y, 2, optimizer=optimizers.SGD(0.1), batch_size=2, log=None)
    assert model.state_dict() == before and model.optimizer is None
    assert model.epochs_trained == 0


def test_a_failed_forward_puts_the_statistics_back():
    model = Sequential(Linear(2, 3), BatchNorm1d(3), Linear(4, 1))  # the last layer is too wide
    before = model.state_dict()
    with pytest.raises(ValueError, match="Linear: input must be N × 4"):
        model.forward([[1.0, 2.0], [3.0, -1.0]])
    assert model.state_dict() == before
