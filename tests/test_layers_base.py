"""Tests for purebp.layers.base and tensor: parameters, state dicts with torch's keys,
modes, and the tensor helpers' checks."""

import random

import pytest

from purebp.layers import BatchNorm2d, Conv2d, Dropout, Linear, ReLU, default_generator, manual_seed
from purebp.layers.tensor import flat, shape_of, unflat, zeros


def test_manual_seed_makes_the_same_first_weights_again():
    manual_seed(11)
    first = Linear(3, 2).weight
    manual_seed(11)
    assert Linear(3, 2).weight == first
    default_generator.seed(0)


def test_state_dict_round_trips_and_load_state_dict_checks_keys_and_shapes():
    conv = Conv2d(2, 3, 2, generator=random.Random(1))
    other = Conv2d(2, 3, 2, generator=random.Random(2))
    other.load_state_dict(conv.state_dict())
    assert other.weight == conv.weight and other.bias == conv.bias
    state = conv.state_dict()
    state["weight"] = state["weight"][:2]
    before = other.state_dict()
    with pytest.raises(ValueError, match=r"weight must have the shape \(3, 2, 2, 2\), got \(2, 2, 2, 2\)"):
        other.load_state_dict(state)
    with pytest.raises(ValueError, match=r"missing \['bias'\]"):
        other.load_state_dict({"weight": conv.weight})
    assert other.state_dict() == before


def test_a_state_dict_is_a_copy():
    layer = Linear(2, 2)
    state = layer.state_dict()
    state["weight"][0][0] = 99.0
    assert layer.weight[0][0] != 99.0


def test_batch_norm_buffers_load_with_the_count():
    a, b = BatchNorm2d(2), BatchNorm2d(2)
    a.forward([[[[1.0, 2.0]], [[3.0, 5.0]]]])
    b.load_state_dict(a.state_dict())
    assert b.running_mean == a.running_mean and b.num_batches_tracked == 1


def test_train_and_eval_switch_the_mode_and_return_the_layer():
    layer = Dropout()
    assert layer.training and layer.eval() is layer and not layer.training
    assert layer.train() is layer and layer.training
    with pytest.raises(TypeError, match="mode must be True or False"):
        layer.train("no")


def test_gradients_before_backward_say_so_and_a_layer_without_parameters_has_none():
    with pytest.raises(ValueError, match="backward must have run first"):
        Linear(1, 1).gradients()
    assert ReLU().gradients() == {}


def test_reprs_read_like_the_constructor():
    assert repr(Linear(3, 2)) == "Linear(in_features=3, out_features=2, bias=True)"
    assert repr(Conv2d(1, 4, 3, padding=1)) == \
        "Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=True)"


def test_tensor_helpers():
    assert zeros((1, 2)) == [[0.0, 0.0]]
    assert unflat(flat([[[1.0, 2.0]], [[3.0, 4.0]]]), (2, 1, 2)) == [[[1.0, 2.0]], [[3.0, 4.0]]]
    with pytest.raises(TypeError, match=r"input\[0\]\[1\] must be a real number, got str 'x'"):
        shape_of("op", "input", [[1.0, "x"]], 2)
    with pytest.raises(ValueError, match=r"input\[0\]\[0\] must be finite, got nan"):
        shape_of("op", "input", [[float("nan")]], 2)


@pytest.mark.parametrize("make, message", [
    (lambda: Linear(100_000, 101), "Linear: the parameters must be at most 10,000,000"),
    (lambda: Linear(100_001, 1), "Linear: in_features must be at most 100,000, got 100,001"),
    (lambda: Conv2d(64, 64, 50), "Conv2d: the parameters must be at most 10,000,000"),
    (lambda: Conv2d(1, 1, 100_001), "Conv2d: kernel_size must be at most 100,000"),
    (lambda: BatchNorm2d(10 ** 6), "BatchNorm2d: num_features must be at most 100,000"),
])
def test_sizes_are_bounded_before_any_memory_is_taken(make, message):
    with pytest.raises(ValueError) as caught:
        make()
    assert str(caught.value).startswith(message)
