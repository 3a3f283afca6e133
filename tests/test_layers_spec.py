"""Tests for purebp.layers.spec: layer lists as text, read without running anything."""

import pytest

from purebp.layers import Conv2d, Dropout, LeakyReLU, Linear, ReLU, Softmax
from purebp.layers.spec import describe, parse_layers


def test_a_layer_list_reads_into_the_layers_it_names():
    layers = parse_layers("Conv2d(1, 4, 3, padding=1), ReLU(), Dropout(p=0.25),"
                          " Linear(in_features=64, out_features=4, bias=False), Softmax(dim=-1),"
                          " LeakyReLU(-0.5)")
    assert [type(layer) for layer in layers] == [Conv2d, ReLU, Dropout, Linear, Softmax, LeakyReLU]
    assert layers[0].padding == (1, 1) and layers[2].p == 0.25 and layers[3].bias is None
    assert layers[4].dim == -1 and layers[5].negative_slope == -0.5


def test_a_name_alone_is_the_layer_with_its_defaults():
    (relu,) = parse_layers("ReLU")
    assert isinstance(relu, ReLU)


def test_describe_writes_what_parse_layers_reads_back():
    text = ("Conv2d(2, 3, (3, 2), stride=(2, 1), padding=1), MaxPool2d(2, 1), BatchNorm2d(3),"
            " Flatten(), LayerNorm((2, 3)), AvgPool2d(3, padding=1), Tanh, Sigmoid, Identity")
    once = describe(parse_layers(text))
    assert describe(parse_layers(once)) == once


@pytest.mark.parametrize("text, message", [
    ("Linear(2, 3), open('x')", "layer 2 must be one of purebp.layers' layers"),
    ("__import__('os').system('true')", "layer 1 must be one of purebp.layers' layers"),
    ("Linear(2, n)", "layer 1 (Linear): an argument must be a number, True, False, None or a"
                     " tuple of numbers, got 'n'"),
    ("Linear(2, 2 ** 40)", "an argument must be a number"),
    ("Linear(2, 3", "the layer list must be layers like 'Conv2d(1, 4, 3), ReLU()'"),
    ("", "the layer list must name at least one layer, got none"),
    ("Conv2d(1, 1, 0)", "layers: layer 1 (Conv2d): kernel_size must be at least 1, got 0"),
    ("x" * 10_001, "the layer list must be at most 10,000 characters, got 10,001"),
])
def test_anything_else_is_refused_with_a_message_and_nothing_is_run(text, message):
    with pytest.raises((ValueError, TypeError)) as caught:
        parse_layers(text)
    assert message in str(caught.value)


def test_a_wrong_argument_names_the_layer():
    with pytest.raises(TypeError) as caught:
        parse_layers("ReLU(), Linear(2)")
    assert str(caught.value).startswith("layers: layer 2 (Linear): ")


@pytest.mark.parametrize("text, message", [
    (", ".join(["Linear(99999, 100)"] * 20), "the layers' parameters must be at most 10,000,000 in"
                                             " all (beyond that pure Python takes hours a step),"
                                             " got 20,000,000 by layer 2"),
    ("Linear(2, " + "(1," * 200 + ")" * 200 + ")", "must nest brackets at most 8 deep, got 201"),
    ("Linear(" + "-" * 500 + "1, 2)", "an argument must be a number"),
    ("Linear(2, 3, generator=1)", "generator cannot be given in a layer list"),
])
def test_a_layer_list_is_bounded_before_any_layer_is_made(text, message):
    with pytest.raises(ValueError) as caught:
        parse_layers(text)
    assert message in str(caught.value)
