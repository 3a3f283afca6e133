"""Tests for purebp.layers.conv: Conv2d, MaxPool2d, AvgPool2d, Flatten.

Each forward and backward against the 50-digit forward of tests/layers_exact.py
and its finite differences, on shapes that exercise the borders (padding),
strides that do not tile the input, and kernels wider than they are tall;
then hand-derived cases, the laws, ties, and bad input.
"""

import random

import layers_exact as exact
import pytest

from purebp.layers import AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d
from purebp.layers.tensor import flat, unflat


def tensor(rng, *shape):
    return unflat([rng.uniform(-2, 2) for _ in range(_count(shape))], shape)


def _count(shape):
    n = 1
    for d in shape:
        n *= d
    return n


CONVS = [  # (N, C, H, W, O, kernel, stride, padding)
    (1, 1, 3, 3, 1, 2, 1, 0),
    (2, 2, 5, 4, 3, 3, 1, 1),           # padding at every border
    (1, 2, 7, 6, 2, (3, 2), (2, 3), 0),  # strides that do not tile: the last rows unused
    (2, 1, 5, 5, 2, 3, 2, (1, 2)),       # stride and padding together
    (1, 3, 4, 4, 1, 1, 1, 0),           # a 1×1 kernel
    (1, 1, 3, 3, 2, 3, 1, 2),           # padding wider than the image's border
]


@pytest.mark.parametrize("N, C, H, W, O, kernel, stride, padding", CONVS)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_the_50_digit_forward_and_its_finite_differences(
        N, C, H, W, O, kernel, stride, padding, bias):
    rng = random.Random(repr((N, C, H, W, O, str(kernel), str(stride), str(padding), bias)))
    layer = Conv2d(C, O, kernel, stride=stride, padding=padding, bias=bias, generator=rng)
    x = tensor(rng, N, C, H, W)
    exact.assert_layer_matches(
        layer, x,
        lambda x, p: exact.conv2d(x, p["weight"], p.get("bias"), layer.stride, layer.padding),
        rng)


POOLS = [  # (N, C, H, W, kernel, stride, padding)
    (1, 1, 4, 4, 2, None, 0),
    (2, 2, 5, 5, 3, 2, 1),
    (1, 1, 5, 7, (2, 3), (1, 2), (1, 1)),
    (1, 2, 6, 5, 3, 3, 0),               # the last column unused
]


@pytest.mark.parametrize("N, C, H, W, kernel, stride, padding", POOLS)
def test_max_pool2d_matches_the_50_digit_forward_and_its_finite_differences(
        N, C, H, W, kernel, stride, padding):
    rng = random.Random(repr((N, C, H, W, str(kernel), str(stride), str(padding))))
    layer = MaxPool2d(kernel, stride, padding)
    x = tensor(rng, N, C, H, W)  # random: no ties, so the maximum is differentiable
    exact.assert_layer_matches(
        layer, x, lambda x, p: exact.max_pool2d(x, layer.kernel_size, layer.stride, layer.padding),
        rng)


@pytest.mark.parametrize("N, C, H, W, kernel, stride, padding", POOLS)
def test_avg_pool2d_matches_the_50_digit_forward_and_its_finite_differences(
        N, C, H, W, kernel, stride, padding):
    rng = random.Random(repr((N, C, H, W, str(kernel), str(stride), str(padding), "avg")))
    layer = AvgPool2d(kernel, stride, padding)
    x = tensor(rng, N, C, H, W)
    exact.assert_layer_matches(
        layer, x, lambda x, p: exact.avg_pool2d(x, layer.kernel_size, layer.stride, layer.padding),
        rng)


def test_conv2d_of_one_pixel_is_w_times_x_plus_b_and_its_gradients_by_hand():
    """On a 1×1 image with a 1×1 kernel: y = w·x + b, ∂/∂w = g·x, ∂/∂b = g, ∂/∂x = g·w."""
    layer = Conv2d(1, 1, 1)
    layer.weight, layer.bias = [[[[3.0]]]], [0.5]
    assert layer.forward([[[[2.0]]]]) == [[[[6.5]]]]
    assert layer.backward([[[[-1.5]]]]) == [[[[-4.5]]]]
    assert layer.grads == {"weight": [[[[-3.0]]]], "bias": [-1.5]}


def test_conv2d_is_correlation_not_convolution():
    """The kernel is not flipped: a kernel [1, 0] picks each window's first (left) entry."""
    layer = Conv2d(1, 1, (1, 2), bias=False)
    layer.weight = [[[[1.0, 0.0]]]]
    assert layer.forward([[[[1.0, 2.0, 3.0]]]]) == [[[[1.0, 2.0]]]]


def test_the_padding_gets_no_gradient_the_input_gradient_has_the_inputs_shape():
    layer = Conv2d(1, 1, 3, padding=1, bias=False)
    layer.weight = [[[[1.0] * 3] * 3]]
    y = layer.forward([[[[1.0, 2.0], [3.0, 4.0]]]])
    assert y == [[[[10.0, 10.0], [10.0, 10.0]]]]
    grad = layer.backward([[[[1.0, 1.0], [1.0, 1.0]]]])
    assert grad == [[[[4.0, 4.0], [4.0, 4.0]]]]  # each input pixel is in all 4 windows


def test_a_1x1_convolution_is_a_linear_layer_over_the_channels():
    """Law: Conv2d(C, O, 1) at every pixel equals Linear(C, O) with the same weights."""
    rng = random.Random(5)
    conv = Conv2d(3, 2, 1, generator=rng)
    linear = Linear(3, 2)
    linear.weight = [[conv.weight[o][c][0][0] for c in range(3)] for o in range(2)]
    linear.bias = list(conv.bias)
    x = tensor(rng, 2, 3, 2, 3)
    y = conv.forward(x)
    for n in range(2):
        for i in range(2):
            for j in range(3):
                pixel = [[x[n][c][i][j] for c in range(3)]]
                assert [y[n][o][i][j] for o in range(2)] == linear.forward(pixel)[0]


def test_average_pooling_is_a_convolution_with_constant_weights():
    """Law: AvgPool2d(k, s, p) on each channel equals Conv2d(1, 1, k, s, p) with weights 1/k²."""
    rng = random.Random(6)
    pool = AvgPool2d(3, 2, 1)
    conv = Conv2d(1, 1, 3, stride=2, padding=1, bias=False)
    conv.weight = [[[[1.0] * 3 for _ in range(3)]]]
    x = tensor(rng, 2, 2, 5, 6)
    y = pool.forward(x)
    for n in range(2):
        for c in range(2):
            summed = conv.forward([[x[n][c]]])[0][0]
            for row_y, row_s in zip(y[n][c], summed):
                assert row_y == pytest.approx([v / 9 for v in row_s], rel=1e-15)


def test_max_pool_ties_send_the_gradient_to_the_first_largest_entry_only():
    """As torch's CPU kernel: the first of equal maxima in row order gets all of it."""
    layer = MaxPool2d(2)
    assert layer.forward([[[[1.0, 5.0], [5.0, 5.0]]]]) == [[[[5.0]]]]
    assert layer.backward([[[[2.0]]]]) == [[[[0.0, 2.0], [0.0, 0.0]]]]


def test_max_pool_overlapping_windows_add_up_at_a_shared_maximum():
    layer = MaxPool2d(2, stride=1)
    layer.forward([[[[0.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]]])
    grad = layer.backward([[[[1.0, 2.0], [3.0, 4.0]]]])
    assert grad[0][0][1][1] == 10.0 and sum(flat(grad)) == 10.0


def test_flatten_keeps_the_order_and_its_backward_reshapes_back():
    layer = Flatten()
    x = [[[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]]
    assert layer.forward(x) == [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]]
    assert layer.backward([[8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0]]) == \
        [[[[8.0, 7.0], [6.0, 5.0]], [[4.0, 3.0], [2.0, 1.0]]]]
    assert Flatten(0, 1).forward([[1.0], [2.0]]) == [1.0, 2.0]


@pytest.mark.parametrize("make, x, message", [
    (lambda: Conv2d(2, 1, 3), [[[[1.0] * 3] * 3]],
     "Conv2d: input must have 2 channels (N × C × H × W with C = in_channels), got shape (1, 1, 3, 3)"),
    (lambda: Conv2d(1, 1, 3), [[[[1.0] * 2] * 2]],
     "Conv2d: input must be at least the kernel 3 × 3 after padding 0 × 0, got 2 × 2"),
    (lambda: Conv2d(1, 1, 3), [[1.0, 2.0]],
     "Conv2d: input must be a tensor of rank 4 (nested lists 4 deep), got 2 deep"),
    (lambda: MaxPool2d(2), [[[[1.0, 2.0], [3.0]]]],
     "MaxPool2d: input must be rectangular, got rows of lengths 2 and 1 at input[0][0][1]"),
])
def test_bad_input_is_a_message_naming_the_layer_and_the_shapes(make, x, message):
    layer = make()
    before = layer.state_dict()
    with pytest.raises(ValueError) as caught:
        layer.forward(x)
    assert str(caught.value) == message
    assert layer.state_dict() == before


@pytest.mark.parametrize("make, message", [
    (lambda: Conv2d(1, 1, 0), "Conv2d: kernel_size must be at least 1, got 0"),
    (lambda: Conv2d(1, 1, 3, stride=(1, 0)), "Conv2d: stride must be at least 1, got (1, 0)"),
    (lambda: MaxPool2d(2, padding=2),
     "MaxPool2d: padding must be at most half the kernel size (as torch), got padding (2, 2)"
     " for kernel (2, 2)"),
])
def test_bad_arguments_are_refused(make, message):
    with pytest.raises(ValueError) as caught:
        make()
    assert str(caught.value) == message


def test_backward_before_forward_says_so():
    with pytest.raises(ValueError, match=r"Conv2d\.backward: forward must run first"):
        Conv2d(1, 1, 1).backward([[[[1.0]]]])


def test_a_grad_output_of_the_wrong_shape_is_refused_and_changes_nothing():
    layer = Conv2d(1, 1, 2)
    layer.forward([[[[1.0, 2.0, 3.0]] * 3]])
    with pytest.raises(ValueError, match=r"grad_output must have the output's shape \(1, 1, 2, 2\)"):
        layer.backward([[[[1.0]]]])
    assert layer.grads == {}
