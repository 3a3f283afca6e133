"""Tests for purebp.study.vanishing: the per-layer gradient norms, recomputed independently.

Each norm is recomputed from Network.gradients with a plain loop of squares
(not math.fsum), on the same moons batch; the ratio follows its three cases.
"""

import math

import pytest

from purebp.datasets import moons
from purebp.network import Network
from purebp.study import vanishing


def hand_norm(matrix):
    """√(Σ m²), added left to right."""
    total = 0.0
    for row in matrix:
        for m in row:
            total += m * m
    return math.sqrt(total)


@pytest.mark.parametrize("activation, init", vanishing.CONFIGURATIONS)
def test_norms_are_those_of_network_gradients(activation, init):
    """experiment's norms equal ‖∂bce/∂W_l‖ of the same fresh network, layer by layer."""
    depth, width, samples, seed = 4, 5, 12, 3
    [(name, norms)] = vanishing.experiment([(activation, init)], depth, width, samples, seed)
    X, y = moons(n=samples, seed=seed)
    net = Network([2] + [width] * depth + [1], activation, "sigmoid", "bce", init, seed)
    expected = [hand_norm(g) for g in net.gradients(X, y)["weights"]]
    assert name == f"{activation}:{init}" and len(norms) == depth + 1
    assert norms == pytest.approx(expected, rel=1e-12, abs=0.0)


def test_configurations_keep_their_order_and_repeats():
    """Every pair gives one entry, in the order given, a repeated pair twice."""
    pairs = [("tanh", "xavier"), ("relu", "he"), ("tanh", "xavier")]
    result = vanishing.experiment(pairs, depth=2, width=3, samples=6, seed=0)
    assert [name for name, _ in result] == ["tanh:xavier", "relu:he", "tanh:xavier"]
    assert result[0][1] == result[2][1]


def test_sigmoid_gradients_vanish_towards_the_input():
    """With the tutorial's sigmoid and normal init, 10 layers deep, W0's norm is below 1% of the output's."""
    [(_, norms)] = vanishing.experiment([("sigmoid", "normal")], 10, 16, 64, 0)
    assert 0 < vanishing.first_to_last(norms) < 0.01


@pytest.mark.parametrize("norms, ratio", [
    ([2.0, 3.0, 4.0], 0.5), ([1.0, 0.0], math.inf), ([0.0, 0.0], None), ([0.0, 2.0], 0.0),
])
def test_first_to_last(norms, ratio):
    """The ratio is first/last; inf when only the last is 0; None when both are."""
    assert vanishing.first_to_last(norms) == ratio
