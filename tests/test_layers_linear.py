"""Tests for purebp.layers.linear: Linear against 50-digit finite differences, by hand, and
against the general network's own dense layer (the same bits)."""

import random

import layers_exact as exact
import pytest

from purebp.layers import Linear
from purebp.layers.tensor import unflat
from purebp.network import Network


@pytest.mark.parametrize("N, I, O, bias", [(1, 1, 1, True), (3, 4, 2, True), (5, 2, 3, False)])
def test_linear_matches_the_50_digit_forward_and_its_finite_differences(N, I, O, bias):
    rng = random.Random(repr((N, I, O, bias)))
    layer = Linear(I, O, bias=bias, generator=rng)
    x = unflat([rng.uniform(-2, 2) for _ in range(N * I)], (N, I))
    exact.assert_layer_matches(layer, x, lambda x, p: exact.linear(x, p["weight"], p.get("bias")),
                               rng)


def test_the_first_weights_are_torchs_uniform_bound():
    """U(−1/√in, 1/√in) for weight and bias, and drawn from the generator given."""
    layer = Linear(16, 50, generator=random.Random(1))
    values = [w for row in layer.weight for w in row] + layer.bias
    assert max(abs(v) for v in values) <= 0.25 and max(abs(v) for v in values) > 0.2
    again = Linear(16, 50, generator=random.Random(1))
    assert again.weight == layer.weight and again.bias == layer.bias


def test_linear_gives_the_networks_dense_layer_bit_for_bit():
    """Network's z = a·W + b with W in × out is Linear's x·Wᵀ + b with weight out × in."""
    net = Network([3, 4], activation="identity", seed=2)
    layer = Linear(3, 4)
    layer.weight = [list(column) for column in zip(*net.weights[0])]
    layer.bias = list(net.biases[0][0])
    X = [[0.5, -1.25, 3.0], [1e-3, 2.0, -0.75]]
    zs, _ = net._forward(X)
    assert layer.forward(X) == zs[0]


def test_a_wrong_input_width_names_in_features():
    with pytest.raises(ValueError) as caught:
        Linear(3, 2).forward([[1.0, 2.0]])
    assert str(caught.value) == "Linear: input must be N × 3 (in_features), got 1 × 2"
