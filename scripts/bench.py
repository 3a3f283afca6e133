"""Time purebp against numpy on the tutorial's workload, and show how cost scales.

Usage: python3 scripts/bench.py [--pairs N] [--epochs E] [--quick]

1. The tutorial's workload: 2-4-1 sigmoid network, the four XOR rows, full
   batch, learning rate 0.1, 10,000 epochs, logging silenced. purebp's
   ``NeuralNetwork.train`` and ``Network.train`` are timed against a plain
   numpy implementation of the same algorithm (written below), in one
   process, interleaved (numpy, purebp, numpy, purebp, ...) so that a noisy
   neighbour slows both alike. It prints the median and the min–max of each
   and the ratio of the medians. Without numpy it times purebp alone and
   says so.
2. Scaling: ``Network.gradients`` over batch sizes 1 to 1024 and widths 4 to
   256, with the time per sample and per weight, so anyone can see the cost
   grow linearly with the batch and with the number of weights.

This is a script, not a test: timings on a shared machine are noisy, so
nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from purebp import Network, NeuralNetwork  # noqa: E402

XOR_X = [[0, 0], [0, 1], [1, 0], [1, 1]]
XOR_Y = [[0], [1], [1], [0]]


def numpy_train(np, net, epochs, learning_rate):
    """The tutorial's algorithm on numpy arrays, from net's starting weights."""
    W1 = np.array(net.weights_input_hidden)
    W2 = np.array(net.weights_hidden_output)
    b1 = np.array(net.bias_hidden)
    b2 = np.array(net.bias_output)
    X = np.array(XOR_X, dtype=float)
    y = np.array(XOR_Y, dtype=float)
    for _ in range(epochs):
        h = 1 / (1 + np.exp(-(X @ W1 + b1)))
        out = 1 / (1 + np.exp(-(h @ W2 + b2)))
        d_out = (y - out) * (out * (1 - out))
        d_hidden = (d_out @ W2.T) * (h * (1 - h))
        W2 += h.T @ d_out * learning_rate
        b2 += d_out.sum(axis=0, keepdims=True) * learning_rate
        W1 += X.T @ d_hidden * learning_rate
        b1 += d_hidden.sum(axis=0, keepdims=True) * learning_rate
    return W1, W2


def timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def describe(times):
    return (f"median {statistics.median(times):.3f} s"
            f" (min {min(times):.3f}, max {max(times):.3f}, {len(times)} runs)")


def tutorial_workload(pairs, epochs):
    try:
        import numpy as np
    except ImportError:
        np = None
    contenders = {
        "purebp NeuralNetwork.train": lambda: NeuralNetwork(2, 4, 1, seed=0).train(
            XOR_X, XOR_Y, epochs, 0.1, log=None),
        "purebp Network.train": lambda: Network([2, 4, 1], seed=0).train(
            XOR_X, XOR_Y, epochs, 0.1, log=None),
    }
    if np is not None:
        contenders["numpy (the tutorial's algorithm)"] = \
            lambda: numpy_train(np, NeuralNetwork(2, 4, 1, seed=0), epochs, 0.1)
    times = {name: [] for name in contenders}
    for _ in range(pairs):  # interleaved: every contender once per round
        for name, run in contenders.items():
            times[name].append(timed(run))
    print(f"The tutorial's workload: 2-4-1 on XOR, {epochs} epochs, lr 0.1 ({sys.implementation.name}"
          f" {sys.version.split()[0]})")
    for name, ts in times.items():
        print(f"  {name:<36} {describe(ts)}")
    if np is None:
        print("  numpy is not installed: no ratio (pip install numpy to compare)")
        return
    base = statistics.median(times["numpy (the tutorial's algorithm)"])
    for name in ("purebp NeuralNetwork.train", "purebp Network.train"):
        print(f"  ratio {name} / numpy: {statistics.median(times[name]) / base:.2f}x")


def scaling(quick):
    rng = random.Random(0)
    print("\nNetwork.gradients, one call each ([width, width, 1], sigmoid, half_sse):")
    print(f"  {'width':>5} {'batch':>6} {'weights':>8} {'seconds':>9} {'µs/sample':>10}"
          f" {'ns/(sample·weight)':>19}")
    widths = (4, 16, 64) if quick else (4, 16, 64, 256)
    batches = (1, 16, 256) if quick else (1, 4, 16, 64, 256, 1024)
    for width in widths:
        net = Network([width, width, 1], seed=1)
        weights = width * width + width
        for batch in batches:
            if width * width * batch > 20_000_000:
                continue  # minutes in pure Python; the trend is clear without it
            X = [[rng.uniform(-1, 1) for _ in range(width)] for _ in range(batch)]
            y = [[rng.random()] for _ in range(batch)]
            seconds = timed(lambda: net.gradients(X, y))
            print(f"  {width:>5} {batch:>6} {weights:>8} {seconds:>9.4f}"
                  f" {1e6 * seconds / batch:>10.1f} {1e9 * seconds / (batch * weights):>19.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--epochs", type=int, default=10_000, help="epochs per run (default 10000)")
    parser.add_argument("--quick", action="store_true", help="a smaller scaling table")
    args = parser.parse_args()
    tutorial_workload(args.pairs, args.epochs)
    scaling(args.quick)


if __name__ == "__main__":
    main()
