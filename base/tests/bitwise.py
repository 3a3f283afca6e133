"""Bit-for-bit views of floats and networks, for tests that promise identical bits.

``bits`` turns floats (in nested lists or tuples) into their 64 bits as hex,
so that −0.0 differs from 0.0 and any NaN compares equal to itself;
``snapshot`` gives everything training may change in a network that way.
"""

import struct

from purebp.network import Network

#: What NeuralNetwork keeps: its parameters and its last forward pass.
NEURAL_NETWORK_STATE = (
    "weights_input_hidden", "weights_hidden_output", "bias_hidden", "bias_output",
    "hidden_activation", "hidden_output", "output_activation", "predicted_output",
)


def bits(value):
    """A float's 64 bits as hex, element by element for lists and tuples (None passes through)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [bits(v) for v in value]
    assert type(value) is float, f"{value!r} is a {type(value).__name__}, not a float"
    return struct.pack(">d", value).hex()


def snapshot(net):
    """Parameters, the last forward pass (as bits), epochs_trained and the generator state."""
    if isinstance(net, Network):
        version, key, gauss_next = net.rng.getstate()
        return {"weights": bits(net.weights), "biases": bits(net.biases),
                "zs": bits(net.zs), "activations": bits(net.activations),
                "epochs_trained": net.epochs_trained, "rng": (version, key, bits(gauss_next))}
    state = {name: bits(getattr(net, name)) for name in NEURAL_NETWORK_STATE}
    state["epochs_trained"] = net.epochs_trained
    return state
