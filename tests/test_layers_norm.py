"""Tests for purebp.layers.norm: BatchNorm1d, BatchNorm2d and LayerNorm against 50-digit
finite differences (the three-term input gradient), the running statistics as torch keeps
them, evaluation mode, the laws, and the edge cases (batch 1, variance near 0)."""

import random
from decimal import Decimal

import layers_exact as exact
import pytest

from purebp.layers import BatchNorm1d, BatchNorm2d, LayerNorm
from purebp.layers.tensor import flat, unflat


def tensor(rng, shape, low=-2, high=2):
    n = 1
    for d in shape:
        n *= d
    return unflat([rng.uniform(low, high) for _ in range(n)], shape)


def affine(layer, rng):
    """Give γ and β values other than 1 and 0, so that their gradients are tested."""
    layer.weight = unflat([rng.uniform(0.5, 2) for _ in flat(layer.weight)], _shape(layer.weight))
    layer.bias = unflat([rng.uniform(-1, 1) for _ in flat(layer.bias)], _shape(layer.bias))
    return layer


def _shape(t):
    shape = []
    while isinstance(t, list):
        shape.append(len(t))
        t = t[0]
    return tuple(shape)


@pytest.mark.parametrize("make, shape", [
    (lambda: BatchNorm1d(3), (4, 3)),
    (lambda: BatchNorm1d(2), (2, 2)),          # batch size 2 in training mode
    (lambda: BatchNorm1d(2), (3, 2, 4)),       # N × C × L
    (lambda: BatchNorm2d(2), (2, 2, 3, 3)),
    (lambda: BatchNorm2d(1), (1, 1, 2, 3)),    # one sample, several positions
])
def test_batch_norm_in_training_mode_matches_the_50_digit_forward_and_its_finite_differences(
        make, shape):
    rng = random.Random(repr(shape))
    layer = affine(make(), rng)
    x = tensor(rng, shape)
    eps = Decimal(layer.eps)
    # the three terms of the input gradient are about |γ|·|g|/σ ≈ 1 each and can cancel
    # (for two values per channel x̂ = ±1 and they nearly do): an absolute 1e-14 for that
    exact.assert_layer_matches(
        layer, x, lambda x, p: exact.batch_norm(x, p["weight"], p["bias"], eps), rng,
        rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("normalized_shape, shape", [
    (4, (3, 4)), ((2, 3), (2, 2, 3)), ((2, 2, 2), (2, 2, 2, 2)), (5, (5,))])
def test_layer_norm_matches_the_50_digit_forward_and_its_finite_differences(normalized_shape,
                                                                            shape):
    rng = random.Random(repr(shape))
    layer = affine(LayerNorm(normalized_shape), rng)
    x = tensor(rng, shape)
    dims = 1 if isinstance(normalized_shape, int) else len(normalized_shape)
    exact.assert_layer_matches(
        layer, x, lambda x, p: exact.layer_norm(x, p["weight"], p["bias"], Decimal(layer.eps), dims),
        rng, rtol=1e-12, atol=1e-14)


def test_training_mode_output_has_zero_mean_and_unit_variance_per_channel():
    """Law: with γ = 1 and β = 0, each channel's output has mean 0 and variance 1 (nearly:
    eps is added to the variance)."""
    rng = random.Random(3)
    layer = BatchNorm2d(3, eps=1e-12)
    y = layer.forward(tensor(rng, (4, 3, 2, 2), -5, 9))
    for c in range(3):
        values = [y[n][c][i][j] for n in range(4) for i in range(2) for j in range(2)]
        mean = sum(values) / len(values)
        assert abs(mean) < 1e-14
        assert sum(v * v for v in values) / len(values) == pytest.approx(1.0, rel=1e-12)


def test_the_running_statistics_move_as_torchs_with_the_unbiased_variance():
    layer = BatchNorm1d(1, momentum=0.1)
    layer.forward([[1.0], [3.0]])  # mean 2, biased variance 1, unbiased 2
    assert layer.running_mean == [pytest.approx(0.2)]
    assert layer.running_var == [pytest.approx(0.9 * 1.0 + 0.1 * 2.0)]
    assert layer.num_batches_tracked == 1
    cumulative = BatchNorm1d(1, momentum=None)
    cumulative.forward([[1.0], [3.0]])
    cumulative.forward([[5.0], [7.0]])
    assert cumulative.running_mean == [pytest.approx(4.0)]  # the plain average of 2 and 6


def test_evaluation_mode_uses_the_running_statistics_and_takes_a_batch_of_one():
    layer = BatchNorm1d(2, eps=0.0 + 1e-5)
    layer.running_mean, layer.running_var = [1.0, -2.0], [4.0, 0.25]
    layer.weight, layer.bias = [2.0, 1.0], [0.5, 0.0]
    layer.eval()
    y = layer.forward([[3.0, -1.0]])
    assert y[0][0] == pytest.approx(2.0 * 2.0 / (4.0 + 1e-5) ** 0.5 + 0.5, rel=1e-15)
    grad = layer.backward([[1.0, 1.0]])
    assert grad[0] == [pytest.approx(2.0 / (4.0 + 1e-5) ** 0.5), pytest.approx(1.0 / (0.25 + 1e-5) ** 0.5)]
    assert layer.running_mean == [1.0, -2.0] and layer.num_batches_tracked == 0


def test_training_mode_refuses_one_value_per_channel_as_torch():
    layer = BatchNorm1d(3)
    with pytest.raises(ValueError, match="more than one value per channel in training mode"):
        layer.forward([[1.0, 2.0, 3.0]])
    assert layer.running_mean == [0.0] * 3 and layer.num_batches_tracked == 0


def test_a_constant_channel_normalises_to_zero_and_its_gradient_stays_finite():
    """Variance 0: x̂ = 0 (eps keeps the division finite), and the three-term rule gives 0."""
    layer = BatchNorm1d(1)
    y = layer.forward([[2.5], [2.5], [2.5]])
    assert y == [[0.0], [0.0], [0.0]]
    grad = layer.backward([[1.0], [-2.0], [0.5]])
    exact_grad = [(1.0 - (-0.5 / 3)) / (1e-5) ** 0.5, (-2.0 - (-0.5 / 3)) / (1e-5) ** 0.5,
                  (0.5 - (-0.5 / 3)) / (1e-5) ** 0.5]
    for (found,), wanted in zip(grad, exact_grad):
        assert found == pytest.approx(wanted, rel=1e-12)


def test_the_state_dict_has_torchs_keys():
    assert sorted(BatchNorm2d(2).state_dict()) == ["bias", "num_batches_tracked", "running_mean",
                                                   "running_var", "weight"]
    assert sorted(LayerNorm((2, 3)).state_dict()) == ["bias", "weight"]
    assert LayerNorm((2, 3)).weight == [[1.0] * 3] * 2


@pytest.mark.parametrize("make, shape", [(lambda: BatchNorm2d(2), (3, 2, 2, 2)),
                                         (lambda: LayerNorm(6), (4, 6))])
def test_the_input_gradient_sums_to_zero_over_each_group(make, shape):
    """Law: the output is unchanged by adding a constant to a group's inputs, so the input
    gradient of each group sums to 0 (here to rounding: 1e-14 of its size)."""
    rng = random.Random(repr(shape))
    layer = affine(make(), rng)
    layer.forward(tensor(rng, shape))
    grad = layer.backward(tensor(rng, shape, -1, 1))
    if isinstance(layer, BatchNorm2d):
        groups = [[v for n in grad for row in n[c] for v in row] for c in range(shape[1])]
    else:
        groups = grad
    for group in groups:
        assert abs(sum(group)) <= 1e-14 * sum(abs(v) for v in group)


def test_huge_values_overflow_to_inf_as_torch_and_a_refused_batch_changes_nothing():
    """d·d overflows to inf (torch's running_var [0.95, inf]), no OverflowError; and the
    statistics move only once every channel is done."""
    layer = BatchNorm1d(2)
    y = layer.forward([[0.0, 1e200], [1.0, -1e200]])
    assert y[0][1] == 0.0 and y[1][1] == 0.0
    assert layer.running_var[0] == pytest.approx(0.95) and layer.running_var[1] == float("inf")
    other = BatchNorm1d(2)
    with pytest.raises(ValueError, match="must be finite, within a float's range"):
        other.forward([[0.0, 10 ** 400], [1.0, 2.0]])
    assert other.num_batches_tracked == 0 and other.running_mean == [0.0, 0.0]
