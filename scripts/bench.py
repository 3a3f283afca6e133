"""Time purebp against numpy on the tutorial's workload, and show how cost scales.

Usage: python3 scripts/bench.py [--pairs N] [--epochs E] [--pypy PATH] [--quick]

1. The tutorial's workload: 2-4-1 sigmoid network, the four XOR rows, full
   batch, learning rate 0.1, 10,000 epochs, logging silenced. Timed in one
   process, interleaved (one run of each contender per round, so that a
   noisy neighbour slows them alike), with the median and min–max of each
   and the ratio of the medians to numpy's:
     - numpy: a plain numpy implementation of the same algorithm, below;
     - purebp's ``NeuralNetwork.train`` and ``Network.train`` (unrolled code);
     - the same two with ``train(..., fast=False)``: the readable
       reference matrix code alone, to show what the unrolled code saves;
     - with ``--pypy`` (or a ``pypy3`` on PATH), ``NeuralNetwork.train`` in a
       fresh PyPy process each round, timed inside that process (JIT warm-up
       included, interpreter start-up not).
   Without numpy it times purebp alone and says so.
2. Scaling: ``Network.gradients`` (the reference code) over batch sizes 1 to
   1024 and widths 4 to 256, with the time per sample and per weight, so the
   cost can be seen to grow linearly with the batch and with the weights.
3. Optimizers: ``Network.train`` with SGD momentum, Nesterov, RMSprop, Adam
   and AdamW against plain gradient descent on the same network and data,
   interleaved the same way, as ratios of medians (the issue's target: at
   most 1.5× for momentum and Adam): the tutorial's workload, and moons
   2-16-16-1 tanh/bce in mini-batches of 32.
4. Memory: the peak traced by tracemalloc while training for 1,000 to
   100,000 epochs. ``train`` returns every epoch's loss, a list that grows
   by one float (32 bytes with its slot) per epoch; the rest stays flat.

This is a script, not a test: timings on a shared machine are noisy, so
nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

from purebp import Network, NeuralNetwork, datasets  # noqa: E402
from purebp.optimizers import SGD, Adam, AdamW, RMSprop  # noqa: E402

XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_Y = [[0.0], [1.0], [1.0], [0.0]]
NUMPY = "numpy (the tutorial's algorithm)"


def numpy_train(np, net, epochs, learning_rate):
    """The tutorial's algorithm on numpy arrays, from net's starting weights."""
    W1 = np.array(net.weights_input_hidden)
    W2 = np.array(net.weights_hidden_output)
    b1 = np.array(net.bias_hidden)
    b2 = np.array(net.bias_output)
    X = np.array(XOR_X)
    y = np.array(XOR_Y)
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


def purebp_train(cls, epochs, fast=True):
    """A run of the tutorial's workload; fast=False runs the readable loop alone."""
    if cls is NeuralNetwork:
        return lambda: NeuralNetwork(2, 4, 1, seed=0).train(XOR_X, XOR_Y, epochs, 0.1, log=None,
                                                            fast=fast)
    return lambda: Network([2, 4, 1], seed=0).train(XOR_X, XOR_Y, epochs, 0.1, log=None, fast=fast)


def pypy_seconds(pypy, epochs):
    """Seconds NeuralNetwork.train takes inside a fresh PyPy process."""
    result = subprocess.run([pypy, os.path.abspath(__file__), "--time-one", str(epochs)],
                            capture_output=True, text=True, check=True)
    return float(result.stdout)


def describe(times):
    return (f"median {statistics.median(times):.3f} s"
            f" (min {min(times):.3f}, max {max(times):.3f}, {len(times)} runs)")


def tutorial_workload(pairs, epochs, pypy):
    try:
        import numpy as np
    except ImportError:
        np = None
    contenders = {}
    if np is not None:
        contenders[NUMPY] = lambda: numpy_train(np, NeuralNetwork(2, 4, 1, seed=0), epochs, 0.1)
    contenders["purebp NeuralNetwork.train"] = purebp_train(NeuralNetwork, epochs)
    contenders["purebp Network.train"] = purebp_train(Network, epochs)
    contenders["  reference code, NeuralNetwork"] = purebp_train(NeuralNetwork, epochs, fast=False)
    contenders["  reference code, Network"] = purebp_train(Network, epochs, fast=False)
    if pypy:
        contenders["purebp NeuralNetwork.train on PyPy"] = None
    times = {name: [] for name in contenders}
    for _ in range(pairs):  # interleaved: every contender once per round
        for name, run in contenders.items():
            times[name].append(pypy_seconds(pypy, epochs) if run is None else timed(run))
    print(f"The tutorial's workload: 2-4-1 on XOR, {epochs} epochs, lr 0.1"
          f" ({sys.implementation.name} {sys.version.split()[0]}"
          + (f"; PyPy: {pypy}" if pypy else "") + ")")
    base = statistics.median(times[NUMPY]) if np is not None else None
    for name, ts in times.items():
        ratio = "" if base is None else f"  {statistics.median(ts) / base:5.2f}× numpy"
        print(f"  {name:<36} {describe(ts)}{ratio}")
    if np is None:
        print("  numpy is not installed: no ratio (pip install numpy to compare)")


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
            seconds = timed(functools.partial(net.gradients, X, y))
            print(f"  {width:>5} {batch:>6} {weights:>8} {seconds:>9.4f}"
                  f" {1e6 * seconds / batch:>10.1f} {1e9 * seconds / (batch * weights):>19.1f}")


#: The optimizers timed against plain gradient descent, as (name, factory).
OPTIMIZERS = [
    ("SGD (plain gradient descent)", lambda lr: SGD(lr)),
    ("SGD momentum 0.9", lambda lr: SGD(lr, momentum=0.9)),
    ("SGD Nesterov 0.9, weight decay", lambda lr: SGD(lr, momentum=0.9, nesterov=True,
                                                      weight_decay=1e-4)),
    ("RMSprop", lambda lr: RMSprop(lr / 10)),
    ("Adam", lambda lr: Adam(lr / 10)),
    ("AdamW", lambda lr: AdamW(lr / 10)),
]


def optimizers(pairs, quick):
    moons = datasets.moons(n=200, noise=0.1, seed=0)
    workloads = [
        ("the tutorial's workload, 2-4-1 on XOR, full batch",
         {"sizes": [2, 4, 1]}, (XOR_X, XOR_Y), 2_000 if quick else 10_000, None, 0.1),
        ("moons 2-16-16-1 tanh/bce, 200 samples, batch 32",
         {"sizes": [2, 16, 16, 1], "activation": "tanh", "loss": "bce", "init": "xavier"}, moons,
         10 if quick else 50, 32, 0.5),
    ]
    for title, shape, (X, y), epochs, batch_size, lr in workloads:
        runs = {name: functools.partial(_train_with, shape, X, y, epochs, batch_size, make(lr))
                for name, make in OPTIMIZERS}
        times = {name: [] for name in runs}
        for _ in range(pairs):
            for name, run in runs.items():
                times[name].append(timed(run))
        print(f"\nOptimizers, Network.train: {title} ({epochs} epochs; ratio of medians to plain SGD)")
        base = statistics.median(times[OPTIMIZERS[0][0]])
        for name, ts in times.items():
            print(f"  {name:<32} {describe(ts)}  {statistics.median(ts) / base:5.2f}×")


def _train_with(shape, X, y, epochs, batch_size, optimizer):
    """Train a fresh network with a copy of ``optimizer`` (so each run starts from step 0)."""
    net = Network(**shape, seed=0)
    net.train(X, y, epochs, optimizer=optimizer.copy(), batch_size=batch_size, log=None)


def memory(quick):
    try:
        import tracemalloc
    except ImportError:  # PyPy has no tracemalloc
        print(f"\nNo tracemalloc on {sys.implementation.name}: no memory table")
        return
    print("\nPeak memory of NeuralNetwork.train (tracemalloc), logging every 1000 epochs:")
    print(f"  {'epochs':>7} {'peak KiB':>9} {'loss history KiB':>17} {'the rest KiB':>13}")
    for epochs in (1_000, 10_000) if quick else (1_000, 10_000, 100_000):
        net = NeuralNetwork(2, 4, 1, seed=0)
        tracemalloc.start()
        losses = net.train(XOR_X, XOR_Y, epochs, 0.1, log=lambda line: None)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        history = sys.getsizeof(losses) + sum(sys.getsizeof(v) for v in losses)
        print(f"  {epochs:>7} {peak / 1024:>9.1f} {history / 1024:>17.1f}"
              f" {(peak - history) / 1024:>13.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--epochs", type=int, default=10_000, help="epochs per run (default 10000)")
    parser.add_argument("--pypy", default=shutil.which("pypy3"),
                        help="a PyPy to time too (default: pypy3 on PATH, if any)")
    parser.add_argument("--no-pypy", dest="pypy", action="store_const", const=None,
                        help="do not time PyPy")
    parser.add_argument("--quick", action="store_true", help="smaller scaling and memory tables")
    parser.add_argument("--time-one", type=int, metavar="EPOCHS",
                        help=argparse.SUPPRESS)  # what the PyPy subprocess runs
    args = parser.parse_args()
    if args.time_one is not None:
        print(timed(purebp_train(NeuralNetwork, args.time_one)))
        return
    if sys.implementation.name == "pypy":
        args.pypy = None  # this process is PyPy already
    tutorial_workload(args.pairs, args.epochs, args.pypy)
    scaling(args.quick)
    optimizers(args.pairs, args.quick)
    memory(args.quick)


if __name__ == "__main__":
    main()
