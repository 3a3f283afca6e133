"""Tests for purebp.layers.dropout: inverted dropout with seeded or given masks."""

import random

import layers_exact as exact
import pytest

from purebp.layers import Dropout
from purebp.layers.tensor import flat


def test_a_given_mask_zeroes_and_rescales_and_the_gradient_follows_it():
    layer = Dropout(0.25)
    y = layer.forward([[1.0, 2.0], [3.0, 4.0]], mask=[[1, 0], [0, 1]])
    assert y == [[1.0 / 0.75, 0.0], [0.0, 4.0 / 0.75]]
    assert layer.backward([[3.0, 3.0], [3.0, 3.0]]) == [[4.0, 0.0], [0.0, 4.0]]
    assert layer.mask == [[1.0, 0.0], [0.0, 1.0]]


def test_with_a_fixed_mask_it_is_linear_and_its_gradient_is_exact():
    rng = random.Random(4)
    layer = Dropout(0.4)
    x = [[rng.uniform(-1, 1) for _ in range(5)] for _ in range(3)]
    mask = [[(rng.random() < 0.6 and 1) or 0 for _ in range(5)] for _ in range(3)]

    class Fixed(Dropout):
        def forward(self, x):
            return super().forward(x, mask=mask)

    fixed = Fixed(0.4)
    exact.assert_layer_matches(
        fixed, x, lambda x, p: [[v * m / (1 - exact.D(0.4)) for v, m in zip(row, mrow)]
                                for row, mrow in zip(x, mask)], rng, rtol=1e-15)
    assert layer.p == 0.4


def test_the_masks_come_from_the_generator_in_order():
    layer = Dropout(0.5, generator=random.Random(9))
    layer.forward([[1.0] * 8])
    draws = random.Random(9)
    assert flat(layer.mask) == [1.0 if draws.random() >= 0.5 else 0.0 for _ in range(8)]


def test_p_zero_is_the_identity_and_p_one_zeroes_everything_as_torch():
    assert Dropout(0.0).forward([[1.5, -2.0]]) == [[1.5, -2.0]]
    layer = Dropout(1.0)
    assert layer.forward([[1.5, -2.0]]) == [[0.0, 0.0]]
    assert layer.backward([[1.0, 1.0]]) == [[0.0, 0.0]]


def test_p_near_one_scales_the_few_kept_by_one_over_one_minus_p():
    layer = Dropout(0.999)
    assert layer.forward([[2.0]], mask=[[1]]) == [[2.0 / (1 - 0.999)]]


def test_evaluation_mode_is_the_identity():
    layer = Dropout(0.9).eval()
    x = [[1.0, 2.0, 3.0]]
    assert layer.forward(x) == x and layer.backward([[1.0, 1.0, 1.0]]) == [[1.0, 1.0, 1.0]]


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_p_outside_0_to_1_is_refused(p):
    with pytest.raises(ValueError, match=f"Dropout: p must be from 0 to 1, got {p}"):
        Dropout(p)


def test_a_mask_of_another_shape_or_values_is_refused():
    with pytest.raises(ValueError, match=r"mask must have the input's shape \(1, 2\)"):
        Dropout().forward([[1.0, 2.0]], mask=[[1]])
    with pytest.raises(ValueError, match=r"mask must hold only 0s and 1s, got 0\.5"):
        Dropout().forward([[1.0, 2.0]], mask=[[1, 0.5]])
