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


# -- the general network -------------------------------------------------------

ELEMENTWISE = ("identity", "sigmoid", "tanh", "relu", "leaky_relu")

#: Every (output_activation, loss) pair the general network allows.
OUTPUT_AND_LOSS = (
    [(a, "half_sse") for a in ELEMENTWISE]
    + [(a, "mse") for a in ELEMENTWISE]
    + [("sigmoid", "bce"), ("softmax", "cross_entropy")]
)


@st.composite
def general_networks(draw, activation=None, output_and_loss=None, max_depth=4):
    """A Network of depth 1–4, widths 1–6, any allowed activation × loss, drawn weights.

    Weights and biases lie in [-1.5, 1.5] so that deep identity or relu
    stacks stay moderate in size.
    """
    from purebp.network import Network

    depth = draw(st.integers(1, max_depth))
    sizes = [draw(st.integers(1, 6)) for _ in range(depth + 1)]
    hidden = activation or draw(st.sampled_from(ELEMENTWISE))
    output, loss = output_and_loss or draw(st.sampled_from(OUTPUT_AND_LOSS))
    if output == "softmax" and sizes[-1] == 1:
        sizes[-1] = draw(st.integers(2, 6))  # one class would make the loss always 0
    net = Network(sizes, hidden, output, loss, seed=0)
    net.weights = [draw(matrices(r, c, floats(1.5))) for r, c in zip(sizes[:-1], sizes[1:])]
    net.biases = [draw(matrices(1, c, floats(1.5))) for c in sizes[1:]]
    return net


@st.composite
def targets_for(draw, net, n):
    """n rows of targets that net's loss accepts."""
    k = net.sizes[-1]
    if net.loss_name == "cross_entropy":
        rows = []
        for _ in range(n):
            weights = draw(st.lists(st.floats(0, 1), min_size=k, max_size=k))
            total = sum(weights)
            if total == 0:
                rows.append([1.0 / k] * k)
            else:
                rows.append([w / total for w in weights])
        return rows
    if net.loss_name == "bce":
        return draw(matrices(n, k, st.floats(0, 1)))
    return draw(matrices(n, k, floats(2)))


@st.composite
def general_cases(draw, **kwargs):
    """(net, X, y): a general network and a batch of 1–8 samples for it."""
    net = draw(general_networks(**kwargs))
    n = draw(st.integers(1, 8))
    X = draw(matrices(n, net.sizes[0], floats(2)))
    y = draw(targets_for(net, n))
    return net, X, y


# -- optimizers ------------------------------------------------------------------


@st.composite
def optimizers(draw, learning_rates=(0.0, 0.01, 0.1, 0.5)):
    """One of purebp.optimizers' optimizers, fresh, with arguments that switch its options on and off.

    Plain gradient descent (SGD with no momentum and no weight decay) is among
    them, as are Nesterov, dampening, centered RMSprop, amsgrad and AdamW.
    """
    from purebp.optimizers import by_name

    name = draw(st.sampled_from(["sgd", "rmsprop", "adam", "adamw"]))
    lr = draw(st.sampled_from(learning_rates))
    weight_decay = draw(st.sampled_from([0.0, 0.01, 0.1]))
    if name == "sgd":
        momentum = draw(st.sampled_from([0.0, 0.5, 0.9]))
        nesterov = momentum > 0 and draw(st.booleans())
        dampening = 0.0 if nesterov else draw(st.sampled_from([0.0, 0.3]))
        return by_name(name, lr=lr, momentum=momentum, dampening=dampening,
                       weight_decay=weight_decay, nesterov=nesterov)
    eps = draw(st.sampled_from([1e-8, 1e-3]))
    if name == "rmsprop":
        return by_name(name, lr=lr, alpha=draw(st.sampled_from([0.99, 0.9, 0.0])), eps=eps,
                       weight_decay=weight_decay, momentum=draw(st.sampled_from([0.0, 0.5])),
                       centered=draw(st.booleans()))
    return by_name(name, lr=lr, betas=draw(st.sampled_from([(0.9, 0.999), (0.0, 0.5), (0.5, 0.0)])),
                   eps=eps, weight_decay=weight_decay, amsgrad=draw(st.booleans()))
