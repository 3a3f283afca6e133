"""Tests for purebp.layers.activation: each activation layer against 50-digit finite
differences, and against purebp.activations, their functions' one home."""

import random
from decimal import Decimal

import layers_exact as exact
import pytest

from purebp import activations
from purebp.layers import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from purebp.layers.tensor import flat, unflat

CASES = [
    ("relu", ReLU, lambda v: max(v, Decimal(0))),
    ("leaky 0.2", lambda: LeakyReLU(0.2), lambda v: v if v > 0 else Decimal("0.2") * v),
    ("leaky", LeakyReLU, lambda v: v if v > 0 else Decimal("0.01") * v),
    ("sigmoid", Sigmoid, exact.sigmoid),
    ("tanh", Tanh, exact.tanh),
    ("identity", Identity, lambda v: v),
]


@pytest.mark.parametrize("name, make, f", CASES)
@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 2, 2, 3)])
def test_each_activation_matches_the_50_digit_forward_and_its_finite_differences(name, make, f,
                                                                                shape):
    rng = random.Random(repr((shape, name)))
    n = 1
    for d in shape:
        n *= d
    x = unflat([rng.uniform(-3, 3) for _ in range(n)], shape)
    exact.assert_layer_matches(make(), x, lambda x, p: exact.elementwise(f, x), rng)


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 2, 3)])
def test_softmax_matches_the_50_digit_forward_and_its_finite_differences(shape):
    rng = random.Random(repr(shape))
    n = 1
    for d in shape:
        n *= d
    x = unflat([rng.uniform(-3, 3) for _ in range(n)], shape)
    exact.assert_layer_matches(Softmax(dim=-1), x, lambda x, p: exact.softmax_rows(x), rng)


def test_the_layers_use_purebp_activations_functions():
    x = [-2.5, -1e-3, 0.0, 0.7, 40.0, -800.0]
    for layer, f in [(ReLU(), activations.relu), (Sigmoid(), activations.sigmoid),
                     (Tanh(), activations.tanh), (LeakyReLU(), activations.leaky_relu)]:
        assert layer.forward(x) == [f(v) for v in x]


def test_at_zero_relu_and_leaky_relu_take_torchs_slopes():
    relu, leaky = ReLU(), LeakyReLU(0.3)
    relu.forward([0.0])
    leaky.forward([0.0])
    assert relu.backward([1.0]) == [0.0] and leaky.backward([1.0]) == [0.3]


def test_softmax_refuses_a_dimension_other_than_the_last():
    with pytest.raises(ValueError) as caught:
        Softmax(dim=0).forward([[1.0, 2.0], [3.0, 4.0]])
    assert str(caught.value) == ("Softmax: dim must be the last dimension (-1 or 1) of a rank-2"
                                 " input, got 0")


def test_softmax_rows_sum_to_one_and_its_gradient_of_a_constant_is_zero():
    """Law: softmax's outputs sum to 1, so an upstream gradient the same for every k gives 0."""
    layer = Softmax()
    s = layer.forward([[0.3, -1.2, 2.0, 0.0]])
    assert sum(s[0]) == pytest.approx(1.0, abs=1e-15)
    assert all(abs(v) < 1e-16 for v in flat(layer.backward([[0.7] * 4])))
