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


def run_row_steps(steps, scope, k):
    """Evaluate written-out row steps (purebp.activations.RowStep) on one row, as documented.

    ``scope`` holds the row's entries as z_0, …, y_0, … (and a_0, … once set)
    plus whatever the steps call; it is updated in place and returned. This
    follows RowStep's docstring on its own, not purebp.fast's renderer, so the
    written-out forms are held to their Python forms independently of it.
    """
    fills = [{"k": str(j), "z": f"z_{j}", "a": f"a_{j}", "y": f"y_{j}"} for j in range(k)]
    z_row = "(" + "".join(f"z_{j}, " for j in range(k)) + ")"
    for step in steps:
        if step.kind == "row":
            scope[step.target] = eval(step.text.format(z_row=z_row), scope)
        elif step.kind == "entry":
            for fill in fills:
                scope[step.target.format(**fill)] = eval(step.text.format(**fill), scope)
        else:
            assert step.kind == "sum", step
            total = 0.0
            for fill in fills:
                total = total + eval(step.text.format(**fill), scope)
            scope[step.target] = total
    return scope
