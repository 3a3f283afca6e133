"""Hypothesis strategies for purebp's tests: networks with given weights, and batches.

Sizes follow the core issue: 1–5 inputs, 1–6 hidden units, 1–4 outputs and
batches of 1–8 samples. Weights lie in [-3, 3], biases in [-1, 1], inputs in
[-2, 2] and targets in [0, 1]: wide enough to reach saturated units, narrow
enough that the bounds the tests derive (finite differences) stay meaningful.
"""

from hypothesis import strategies as st

from purebp import NeuralNetwork


def floats(bound):
    """Finite floats in [-bound, bound]."""
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False)


def matrices(rows, columns, elements):
    """rows × columns lists of lists drawn from ``elements``."""
    return st.lists(
        st.lists(elements, min_size=columns, max_size=columns),
        min_size=rows, max_size=rows,
    )


@st.composite
def networks(draw, input_size=None, hidden_size=None, output_size=None):
    """A NeuralNetwork of random (or given) sizes with drawn weights and biases."""
    i = input_size or draw(st.integers(1, 5))
    h = hidden_size or draw(st.integers(1, 6))
    o = output_size or draw(st.integers(1, 4))
    net = NeuralNetwork(i, h, o, seed=0)
    net.weights_input_hidden = draw(matrices(i, h, floats(3)))
    net.weights_hidden_output = draw(matrices(h, o, floats(3)))
    net.bias_hidden = draw(matrices(1, h, floats(1)))
    net.bias_output = draw(matrices(1, o, floats(1)))
    return net


@st.composite
def batches(draw, net, min_size=1, max_size=8):
    """(X, y): a batch of inputs and targets shaped for ``net``."""
    n = draw(st.integers(min_size, max_size))
    X = draw(matrices(n, net.input_size, floats(2)))
    y = draw(matrices(n, net.output_size, st.floats(0, 1)))
    return X, y


@st.composite
def cases(draw):
    """(net, X, y): a random network and a batch for it."""
    net = draw(networks())
    X, y = draw(batches(net))
    return net, X, y
