"""Train the tutorial's numpy algorithm and purebp from the same weights; compare.

Usage: python3 scripts/compare_tutorial.py [--epochs N] [--seed S] [--hidden H]

Needs numpy (purebp itself does not). The numpy side below is our own
transcription of the tutorial's update, keeping its order of operations (the
association of each product, y − ŷ with the step added) because the point is
to follow the tutorial's floating-point numbers, not just its mathematics.
It prints, every 1000 epochs, the largest difference between the two sets of
weights, and at the end the largest over the whole run.

tests/test_tutorial_numpy.py runs the same comparison as a test.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np

from purebp import NeuralNetwork

XOR_INPUTS = [[0, 0], [0, 1], [1, 0], [1, 1]]
XOR_TARGETS = [[0], [1], [1], [0]]
PARAMETERS = ("weights_input_hidden", "weights_hidden_output", "bias_hidden", "bias_output")


def numpy_step(params, X, y, learning_rate):
    """One epoch of the tutorial's algorithm on numpy arrays; returns the MSE.

    ``params`` maps the tutorial's attribute names to arrays, updated in place.
    """
    w_ih = params["weights_input_hidden"]
    w_ho = params["weights_hidden_output"]

    def squash(v):
        return 1 / (1 + np.exp(-v))

    def squash_slope(s):  # takes the sigmoid's output, like the tutorial's
        return s * (1 - s)

    h = squash(np.dot(X, w_ih) + params["bias_hidden"])
    out = squash(np.dot(h, w_ho) + params["bias_output"])

    delta_out = (y - out) * squash_slope(out)
    delta_hidden = np.dot(delta_out, w_ho.T) * squash_slope(h)

    params["weights_hidden_output"] += np.dot(h.T, delta_out) * learning_rate
    params["bias_output"] += np.sum(delta_out, axis=0, keepdims=True) * learning_rate
    params["weights_input_hidden"] += np.dot(X.T, delta_hidden) * learning_rate
    params["bias_hidden"] += np.sum(delta_hidden, axis=0, keepdims=True) * learning_rate
    return float(np.mean(np.square(y - out)))


def largest_difference(net, params):
    """Return max |purebp − numpy| over every parameter entry."""
    return max(
        float(np.max(np.abs(np.array(getattr(net, name)) - params[name])))
        for name in PARAMETERS
    )


def compare(epochs, seed, hidden, report=None):
    """Train both for ``epochs`` from one seed; return (max weight diff, max loss diff).

    ``report(epoch, diff)`` is called every 1000 epochs when given.
    """
    net = NeuralNetwork(2, hidden, 1, seed=seed)
    params = {name: np.array(getattr(net, name), dtype=float) for name in PARAMETERS}
    X = np.array(XOR_INPUTS)
    y = np.array(XOR_TARGETS)
    worst_weights = worst_loss = 0.0
    for epoch in range(epochs):
        numpy_loss = numpy_step(params, X, y, 0.1)
        (purebp_loss,) = net.train(XOR_INPUTS, XOR_TARGETS, 1, 0.1, log=None)
        diff = largest_difference(net, params)
        worst_weights = max(worst_weights, diff)
        worst_loss = max(worst_loss, abs(numpy_loss - purebp_loss))
        if report is not None and (epoch + 1) % 1000 == 0:
            report(epoch + 1, diff)
    return worst_weights, worst_loss


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10_000, help="epochs to train (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the starting weights (default 0)")
    parser.add_argument("--hidden", type=int, default=4, help="hidden units (default 4)")
    args = parser.parse_args()
    print(f"numpy {np.__version__}; 2-{args.hidden}-1 on XOR, lr 0.1, seed {args.seed}")
    worst_weights, worst_loss = compare(
        args.epochs, args.seed, args.hidden,
        report=lambda epoch, diff: print(f"after epoch {epoch:6d}: max |Δweight| = {diff:.3e}"),
    )
    print(f"over all {args.epochs} epochs: max |Δweight| = {worst_weights:.3e},"
          f" max |Δloss| = {worst_loss:.3e}")


if __name__ == "__main__":
    main()
