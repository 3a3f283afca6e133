"""Time purebp against numpy on the tutorial's workload, and show how cost scales.

Usage: python3 scripts/bench.py [--pairs N] [--epochs E] [--pypy PATH] [--quick]
                                [--workloads-only | --crossover | --layers]

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
5. Workloads (alone with ``--workloads-only``): the tutorial's, moons
   2-16-16-1 tanh/bce, an 8×8 digits-like set made here (64-32-10
   softmax/cross_entropy) and a smooth regression (8-64-64-1 relu/mse), all
   seeded, in mini-batches of 32 but the tutorial's. Contenders, interleaved:
     - purebp ``Network.train``, on each path ``train`` lets a caller force
       (``fast="written-out"``/``"reference"`` where it takes them, else
       fast=True and fast=False), with the path taken;
     - the fastest pure-Python step we could write, here (``fastest_train``):
       ``sum(map(mul, row, column))`` dot products with both weight layouts
       kept, ``zip(*)`` transposes, comprehensions, the same batches, the same
       order of every sum, so its bits are purebp's, which the run checks
       (float.hex of every epoch loss and final parameter);
     - numpy float64 arrays, the same algorithm and batches;
     - micrograd (if installed), the same network from its Value nodes, a few
       batches timed and scaled linearly to the whole run;
     - with a PyPy, purebp's paths and the fastest step in a fresh PyPy
       process per round, timed inside it.
   Then the digits run's peak RSS (VmHWM) in a fresh process each: purebp,
   the fastest step, numpy.
6. The crossover (alone, with ``--crossover``; run it with each interpreter,
   ``pypy3 scripts/bench.py --crossover`` too): ``fast="written-out"``
   against ``fast="reference"`` over shapes from 17 to 4,009 parameters,
   per sample and weight, and the path ``purebp.fast.loop.choose`` takes,
   flagged where the other was faster: the measurement behind that rule.

This is a script, not a test: timings on a shared machine are noisy, so
nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from math import exp, log1p, tanh
from operator import add, mul
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

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


# -- 5. Workloads: purebp against the fastest pure-Python step, numpy, micrograd, PyPy --------

class Workload(NamedTuple):
    """One training run: the network, its data and its schedule (every number fixed)."""

    name: str
    about: str  # what it is, for the output
    network: Dict[str, Any]  # Network's keyword arguments but the seed
    data: Callable[[bool], Tuple[List[List[float]], List[List[float]]]]  # quick → (X, y)
    epochs: int
    quick_epochs: int
    batch_size: Optional[int]  # None: full batch
    lr: float
    micrograd_batches: int  # how many batches micrograd runs, to be scaled up
    micrograd_rows: Optional[int]  # of how many rows each (None: the whole batch)


def digits_like(quick, n=500, seed=15):
    """An 8×8 digits-like set: 10 fixed random prototypes of pixels 0..16, noisy copies as ints.

    Sample i is of class i % 10: its prototype plus Gaussian noise of std 3 per
    pixel, rounded and clipped to 0..16 (ints, as sklearn's digits); the
    targets are one-hot floats.
    """
    rng = random.Random(seed)
    prototypes = [[rng.randint(0, 16) for _ in range(64)] for _ in range(10)]
    X, y = [], []
    for i in range(n):
        label = i % 10
        X.append([min(16, max(0, round(p + rng.gauss(0.0, 3.0)))) for p in prototypes[label]])
        y.append([1.0 if k == label else 0.0 for k in range(10)])
    return X, y


def smooth_regression(quick, n=256, seed=16):
    """n points uniform in [−1, 1]⁸, y = 1.5 + sin(x0 + x1) + x2·x3/2 − x4²/4 + 0.3·cos(x5 − x6 + x7)."""
    rng = random.Random(seed)
    X = [[rng.uniform(-1.0, 1.0) for _ in range(8)] for _ in range(n)]
    y = [[1.5 + math.sin(x[0] + x[1]) + 0.5 * x[2] * x[3] - 0.25 * x[4] * x[4]
          + 0.3 * math.cos(x[5] - x[6] + x[7])] for x in X]
    return X, y


WORKLOADS = [
    Workload("tutorial", "the tutorial's 2-4-1 sigmoid/half_sse on the 4 XOR rows, full batch",
             {"sizes": [2, 4, 1]}, lambda quick: (XOR_X, XOR_Y), 10_000, 1_000, None, 0.1, 200, None),
    Workload("moons", "moons(n=200, noise=0.1, seed=0), 2-16-16-1 tanh, bce, xavier, batch 32",
             {"sizes": [2, 16, 16, 1], "activation": "tanh", "loss": "bce", "init": "xavier"},
             lambda quick: datasets.moons(n=200, noise=0.1, seed=0), 200, 10, 32, 0.5, 7, None),
    Workload("digits", "500 digits-like 8×8 ints 0..16 (10 seeded prototypes + noise), one-hot;"
             " 64-32-10 sigmoid, softmax, cross_entropy, batch 32",
             {"sizes": [64, 32, 10], "output_activation": "softmax", "loss": "cross_entropy"},
             digits_like, 4, 1, 32, 0.1, 1, None),
    Workload("regression", "256 points uniform in [-1, 1]^8, a smooth target (1.5 + sin + ...);"
             " 8-64-64-1 relu, identity output, he init, mse, batch 32",
             {"sizes": [8, 64, 64, 1], "activation": "relu", "output_activation": "identity",
              "loss": "mse", "init": "he"},
             smooth_regression, 6, 1, 32, 0.01, 1, 16),
]
SEED = 0  # every network's seed


def workload_named(name):
    return next(w for w in WORKLOADS if w.name == name)


# -- purebp, every path it offers -------------------------------------------------------


def purebp_paths():
    """Return [(label, train's keyword arguments)]: the default and every path it can force.

    A purebp whose ``train`` takes ``fast="written-out"`` / ``fast="reference"``
    is timed on each; one that takes only True/False on fast=True and fast=False.
    """
    probe = Network([1, 1], seed=0)
    try:
        probe.train([[0.0]], [[0.0]], 1, 0.1, log=None, fast="written-out")
    except (TypeError, ValueError):
        return [("fast=True", {}), ("fast=False", {"fast": False})]
    return [("default", {}), ("written-out", {"fast": "written-out"}),
            ("reference", {"fast": "reference"})]


def purebp_run(workload, X, y, epochs, options):
    """Train a fresh seeded Network; return (losses, weights, biases, the path it took)."""
    net = Network(**workload.network, seed=SEED)
    losses = net.train(X, y, epochs, workload.lr, batch_size=workload.batch_size, log=None,
                       **options)
    return losses, net.weights, net.biases, path_taken(net, options)


def path_taken(net, options):
    """The path ``train`` took: ``net.last_path`` if purebp records it, else inferred."""
    path = getattr(net, "last_path", None)
    if path is not None:
        return str(path)
    if options.get("fast", True) is False:
        return "reference"
    try:
        from purebp.fast import unrolled
        return ("written-out" if unrolled.supported(net._spec()) else "reference") + " (inferred)"
    except (ImportError, AttributeError):
        return "?"


# -- the fastest pure-Python training step ------------------------------------------------
#
# Written here from the equations, not from purebp's code: the same sums in the
# same order (so the same bits), laid out for CPython's speed. Σ_i u_i·v_i is
# sum(map(mul, u, v)), which adds left to right from the int 0 on CPython ≤ 3.11
# and PyPy; CPython 3.12+ compensates sum() of floats, so there `total` is a
# plain left-to-right fold, reduce(add, ..., start), instead.

if sys.implementation.name == "cpython" and sys.version_info >= (3, 12):
    def total(values, start=0):
        return functools.reduce(add, values, start)
    TOTAL = "functools.reduce(operator.add) (sum() compensates on CPython 3.12+)"
else:
    total = sum
    TOTAL = "sum()"

INIT_STD = {"normal": lambda fan_in, fan_out: 1.0,
            "xavier": lambda fan_in, fan_out: math.sqrt(2.0 / (fan_in + fan_out)),
            "he": lambda fan_in, fan_out: math.sqrt(2.0 / fan_in)}


def starting_point(network, seed=SEED):
    """Return (W, B, rng): weights drawn row by row with rng.gauss, zero biases, as Network draws them."""
    sizes = network["sizes"]
    rng = random.Random(seed)
    W, B = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        std = INIT_STD[network.get("init", "normal")](fan_in, fan_out)
        W.append([[rng.gauss(0.0, std) for _ in range(fan_out)] for _ in range(fan_in)])
        B.append([0.0] * fan_out)
    return W, B, rng


def batch_order(rng, n, batch_size):
    """One epoch's batches: range(n) shuffled with rng and cut up (no shuffle for a full batch)."""
    if batch_size is None:
        return [list(range(n))]
    order = list(range(n))
    rng.shuffle(order)
    return [order[start:start + batch_size] for start in range(0, n, batch_size)]


def _sigmoid(z):
    return exp(z) if z < -708.0 else 1.0 / (1.0 + exp(-z))


def _activate(name, Z):
    """f(Z) for a batch Z (rows); softmax per row with the max subtracted."""
    if name == "tanh":
        return [list(map(tanh, row)) for row in Z]
    if name == "identity":
        return Z
    if name == "relu":
        return [[z if z > 0.0 else 0.0 for z in row] for row in Z]
    if name == "sigmoid":
        return [list(map(_sigmoid, row)) for row in Z]
    if name == "softmax":
        out = []
        for row in Z:
            top = max(row)
            e = [exp(z - top) for z in row]
            s = total(e, 0.0)
            out.append([v / s for v in e])
        return out
    raise ValueError(f"fastest step: activation {name!r} is not written here")


def _f_prime(name, Z, A):
    """f′ at Z given A = f(Z): tanh and sigmoid from the output, relu from the input."""
    if name == "tanh":
        return [[1.0 - a * a for a in row] for row in A]
    if name == "identity":
        return [[1.0] * len(row) for row in Z]
    if name == "relu":
        return [[1.0 if z > 0.0 else 0.0 for z in row] for row in Z]
    if name == "sigmoid":
        return [[a * (1.0 - a) for a in row] for row in A]
    raise ValueError(f"fastest step: activation {name!r} is not written here")


def _loss_and_delta(loss, output, T, Z, A):
    """(the batch's loss, δ = ∂loss/∂Z) for targets T, logits Z and outputs A."""
    count = len(T) * len(T[0])
    if loss == "bce":  # on the logits: softplus(z) − t·z, δ = (σ(z) − t) / nk
        value = total([((1.0 - t) * z if z >= 0.0 else -t * z) + log1p(exp(-abs(z)))
                       for t_row, z_row in zip(T, Z) for t, z in zip(t_row, z_row)], 0.0) / count
        return value, [[(a - t) / count for t, a in zip(t_row, a_row)] for t_row, a_row in zip(T, A)]
    if loss == "cross_entropy":  # Σ_k t·(lse(z) − z_k) per row, mean over rows; δ = (Σt·s − t) / n
        n, value, delta = len(T), 0.0, []
        for t_row, z_row, s_row in zip(T, Z, A):
            top = max(z_row)
            m = z_row.index(top)
            log_rest = log1p(total([exp(v - top) for j, v in enumerate(z_row) if j != m], 0.0))
            value += total([t * ((top - z) + log_rest) for t, z in zip(t_row, z_row) if t != 0.0], 0.0)
            mass = total(t_row, 0.0)
            delta.append([(mass * s - t) / n for t, s in zip(t_row, s_row)])
        return value / n, delta
    E = [[a - t for t, a in zip(t_row, a_row)] for t_row, a_row in zip(T, A)]
    squares = total([e * e for row in E for e in row], 0.0)
    F = _f_prime(output, Z, A)
    if loss == "half_sse":  # ½ Σ e², δ = e·f′
        return 0.5 * squares, [[e * f for e, f in zip(e_row, f_row)] for e_row, f_row in zip(E, F)]
    if loss == "mse":  # Σ e² / nk, δ = (2/nk · e)·f′
        norm = 2.0 / count
        return squares / count, [[(norm * e) * f for e, f in zip(e_row, f_row)]
                                 for e_row, f_row in zip(E, F)]
    raise ValueError(f"fastest step: loss {loss!r} is not written here")


def fastest_train(workload, X, y, epochs):
    """Train the workload's network with the fastest pure-Python step; return (losses, W, B).

    Each layer keeps W (rows, for δ·Wᵀ) and Wᵀ (columns, for a·W); z_j is
    Σ_i a_i·W[i][j] + b_j, a gradient Σ_n, a bias gradient Σ_n δ from the first
    row down (from −0.0, which adds nothing), the step p − lr·g.
    """
    net = workload.network
    sizes = net["sizes"]
    L = len(sizes) - 1
    loss = net.get("loss", "half_sse")
    hidden = net.get("activation", "sigmoid")
    output = net.get("output_activation") or {"bce": "sigmoid", "cross_entropy": "softmax"}.get(loss, hidden)
    W, B, rng = starting_point(net)
    WT = [[list(column) for column in zip(*w)] for w in W]
    X = [[float(v) for v in row] for row in X]
    lr, n = float(workload.lr), len(X)
    losses = []
    for _ in range(epochs):
        epoch_loss = 0.0
        for rows in batch_order(rng, n, workload.batch_size):
            A = [X[i] for i in rows]
            activations, zs = [A], []
            for l in range(L):  # forward: z = a·W + b
                Z = [[total(map(mul, a, column)) + b for column, b in zip(WT[l], B[l])] for a in A]
                A = _activate(output if l == L - 1 else hidden, Z)
                zs.append(Z)
                activations.append(A)
            batch_loss, D = _loss_and_delta(loss, output, [y[i] for i in rows], Z, A)
            for l in range(L - 1, -1, -1):  # backward
                DT = list(zip(*D))
                GW = [[total(map(mul, a_i, d_j)) for d_j in DT] for a_i in zip(*activations[l])]
                GB = [total(d_j, -0.0) for d_j in DT]
                if l > 0:  # δ ← (δ·Wᵀ) ⊙ f′, with the weights before this step
                    F = _f_prime(hidden, zs[l - 1], activations[l])
                    D = [[total(map(mul, d, w_row)) * f for w_row, f in zip(W[l], f_row)]
                         for d, f_row in zip(D, F)]
                W[l] = [[p - lr * g for p, g in zip(p_row, g_row)] for p_row, g_row in zip(W[l], GW)]
                WT[l] = list(zip(*W[l]))
                B[l] = [p - lr * g for p, g in zip(B[l], GB)]
            if workload.batch_size is None:  # one step: its loss is the epoch's
                epoch_loss = batch_loss
            else:  # each batch's share (a sum adds as it is)
                epoch_loss += batch_loss if loss == "half_sse" else batch_loss * len(rows) / n
        losses.append(epoch_loss)
    return losses, W, [[b] for b in B]


def hexes(losses, weights, biases):
    """Every epoch loss and every final parameter as float.hex, in one list."""
    flat = [float(v) for v in losses]
    flat += [float(v) for m in weights for row in m for v in row]
    flat += [float(v) for m in biases for row in m for v in row]
    return [v.hex() for v in flat]


def mismatches(a, b):
    """How many entries of two hexes() lists differ (a length difference counts as all)."""
    if len(a) != len(b):
        return max(len(a), len(b))
    return sum(x != y for x, y in zip(a, b))


# -- numpy: the same algorithm on float64 arrays, the same batches ----------------------------


def numpy_workload(np, workload, X, y, epochs):
    """Train with numpy float64 arrays from the same start on the same batches; return (losses, W, B)."""
    net = workload.network
    L = len(net["sizes"]) - 1
    loss = net.get("loss", "half_sse")
    hidden = net.get("activation", "sigmoid")
    output = net.get("output_activation") or {"bce": "sigmoid", "cross_entropy": "softmax"}.get(loss, hidden)
    W0, B0, rng = starting_point(net)
    W = [np.array(w) for w in W0]
    B = [np.array(b) for b in B0]
    X, y = np.array(X, dtype=np.float64), np.array(y, dtype=np.float64)
    n, lr = len(X), workload.lr

    def f(name, Z):
        if name == "tanh":
            return np.tanh(Z)
        if name == "identity":
            return Z
        if name == "relu":
            return np.where(Z > 0.0, Z, 0.0)
        if name == "sigmoid":
            return 1.0 / (1.0 + np.exp(-Z))
        e = np.exp(Z - Z.max(axis=1, keepdims=True))  # softmax
        return e / e.sum(axis=1, keepdims=True)

    def f_prime(name, Z, A):
        if name == "tanh":
            return 1.0 - A * A
        if name == "identity":
            return np.ones_like(Z)
        if name == "relu":
            return (Z > 0.0).astype(np.float64)
        return A * (1.0 - A)  # sigmoid

    losses = []
    for _ in range(epochs):
        epoch_loss = 0.0
        for rows in batch_order(rng, n, workload.batch_size):
            A = X[rows]
            T = y[rows]
            activations, zs = [A], []
            for l in range(L):
                Z = A @ W[l] + B[l]
                A = f(output if l == L - 1 else hidden, Z)
                zs.append(Z)
                activations.append(A)
            if loss == "bce":
                batch_loss = float(np.mean(np.where(Z >= 0.0, (1.0 - T) * Z, -T * Z)
                                           + np.log1p(np.exp(-np.abs(Z)))))
                D = (A - T) / T.size
            elif loss == "cross_entropy":
                top = Z.max(axis=1, keepdims=True)
                lse = top + np.log(np.exp(Z - top).sum(axis=1, keepdims=True))
                batch_loss = float((T * (lse - Z)).sum() / len(T))
                D = (T.sum(axis=1, keepdims=True) * A - T) / len(T)
            else:
                E = A - T
                batch_loss = float(0.5 * (E * E).sum() if loss == "half_sse" else (E * E).mean())
                D = (E if loss == "half_sse" else (2.0 / T.size) * E) * f_prime(output, Z, A)
            for l in range(L - 1, -1, -1):
                GW = activations[l].T @ D
                GB = D.sum(axis=0)
                if l > 0:
                    D = (D @ W[l].T) * f_prime(hidden, zs[l - 1], activations[l])
                W[l] -= lr * GW
                B[l] -= lr * GB
            epoch_loss += batch_loss if loss == "half_sse" else batch_loss * len(rows) / n
        losses.append(epoch_loss)
    return losses, [w.tolist() for w in W], [[b.tolist()] for b in B]


# -- micrograd: the same network from Value nodes, a few batches, scaled -------------------------

MICROGRAD_OPS = ("micrograd 0.1.0's Value has +, *, ** and relu only: tanh, exp and log are added"
                 " here as Value nodes in its own pattern (data, children, a _backward closure);"
                 " sigmoid = 1/(1 + exp(−z)), softmax/cross_entropy = log Σ exp(z) − Σ t·z"
                 " (no max shift), bce = −[t·log σ + (1 − t)·log(1 − σ)], mse = mean (ŷ − y)**2")


def _micrograd_unary(Value, x, data, slope, op):
    """A Value node out = f(x) with ∂out/∂x = slope(x.data, out.data), as micrograd builds its own."""
    out = Value(data, (x,), op)

    def _backward():
        x.grad += slope(x.data, out.data) * out.grad
    out._backward = _backward
    return out


def micrograd_run(workload, X, y, batches, rows_per_batch):
    """Train ``batches`` batches (the first ``rows_per_batch`` rows of each) with micrograd.

    Returns (seconds, the first batch's loss, the rows it trained on), from the
    same start as purebp, the loss to be compared with purebp's on those rows.
    """
    from micrograd.engine import Value

    def tanh_(v):
        return _micrograd_unary(Value, v, math.tanh(v.data), lambda x, t: 1.0 - t * t, "tanh")

    def exp_(v):
        return _micrograd_unary(Value, v, math.exp(v.data), lambda x, e: e, "exp")

    def log_(v):
        return _micrograd_unary(Value, v, math.log(v.data), lambda x, out: 1.0 / x, "log")

    def act(name, v):
        if name == "tanh":
            return tanh_(v)
        if name == "identity":
            return v
        if name == "relu":
            return v.relu()
        return 1 / (1 + exp_(-v))  # sigmoid

    net = workload.network
    L = len(net["sizes"]) - 1
    loss_name = net.get("loss", "half_sse")
    hidden = net.get("activation", "sigmoid")
    output = net.get("output_activation") or {"bce": "sigmoid", "cross_entropy": "softmax"}.get(
        loss_name, hidden)
    W0, B0, rng = starting_point(net)
    W = [[[Value(w) for w in row] for row in m] for m in W0]
    B = [[Value(b) for b in row] for row in B0]
    parameters = [p for m in W for row in m for p in row] + [p for row in B for p in row]
    X = [[float(v) for v in row] for row in X]
    schedule = []
    while len(schedule) < batches:
        schedule += batch_order(rng, len(X), workload.batch_size)
    schedule = [rows[:rows_per_batch] for rows in schedule[:batches]]
    first_loss = None
    start = time.perf_counter()
    for rows in schedule:
        terms = []
        for i in rows:
            a = X[i]
            for l in range(L):
                zs = [sum((a[k] * W[l][k][j] for k in range(len(a))), B[l][j])
                      for j in range(len(B[l]))]
                if l < L - 1 or output != "softmax":
                    a = [act(output if l == L - 1 else hidden, z) for z in zs]
            if loss_name == "cross_entropy":
                terms.append(log_(sum(exp_(z) for z in zs)) - sum(t * z for t, z in zip(y[i], zs)))
            elif loss_name == "bce":
                terms += [-(t * log_(s) + (1 - t) * log_(1 - s)) for t, s in zip(y[i], a)]
            else:
                terms += [(s - t) ** 2 for t, s in zip(y[i], a)]
        loss = sum(terms) * (0.5 if loss_name == "half_sse" else 1.0 / len(terms))
        for p in parameters:
            p.grad = 0.0
        loss.backward()
        for p in parameters:
            p.data -= workload.lr * p.grad
        if first_loss is None:
            first_loss = loss.data
    return time.perf_counter() - start, first_loss, sum(map(len, schedule))


def batches_per_epoch(workload, n):
    return 1 if workload.batch_size is None else -(-n // workload.batch_size)


# -- memory: the digits run in a fresh process each ---------------------------------------------


def vm_hwm_kib():
    """The process's peak resident set so far (VmHWM, KiB); ru_maxrss where there is no /proc."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def memory_child(contender, quick):
    """In a fresh process: the peak RSS before and after training digits with ``contender``."""
    workload = workload_named("digits")
    if contender == "numpy":
        import numpy as np
    X, y = workload.data(quick)
    baseline = vm_hwm_kib()
    epochs = workload.quick_epochs if quick else workload.epochs
    if contender == "numpy":
        numpy_workload(np, workload, X, y, epochs)
    elif contender == "fastest":
        fastest_train(workload, X, y, epochs)
    else:
        purebp_run(workload, X, y, epochs, {})
    print(json.dumps({"baseline": baseline, "peak": vm_hwm_kib()}))


def memory_of_digits(quick, have_numpy):
    """The digits run's peak RSS per contender, each in a fresh process.

    purebp twice: compiling its written-out code (the disk cache turned off
    with PUREBP_CACHE_DIR=, as a machine's very first run does), and loading
    it from the disk cache (after one unmeasured run has stored it), as every
    later process does.
    """
    print(f"\nPeak memory of the digits run, each in a fresh {sys.implementation.name} process:"
          " the process's VmHWM"
          " (peak RSS) after imports and data, then after training, and the difference:")
    print(f"  {'contender':<40} {'baseline KiB':>13} {'peak KiB':>9} {'training KiB':>13}")
    contenders = [("purebp", "purebp Network.train, compiling (cache off)", {"PUREBP_CACHE_DIR": ""}),
                  ("purebp", "purebp Network.train, from the disk cache", None),
                  ("fastest", "fastest pure-Python step", None), ("numpy", "numpy", None)]
    for contender, label, env in contenders:
        if contender == "numpy" and not have_numpy:
            print("  numpy                        not installed")
            continue
        command = [sys.executable, os.path.abspath(__file__), "--memory-child", contender]
        command += ["--quick"] if quick else []
        if label.endswith("from the disk cache"):
            subprocess.run(command, capture_output=True, text=True, check=True)  # stores it
        result = subprocess.run(command, capture_output=True, text=True, check=True,
                                env=None if env is None else {**os.environ, **env})
        got = json.loads(result.stdout)
        print(f"  {label:<40} {got['baseline']:>13} {got['peak']:>9}"
              f" {got['peak'] - got['baseline']:>13}")


# -- PyPy: each contender in a fresh process per round, timed inside -------------------------------


def workload_child(name, contender, quick):
    """In a fresh process: time one contender on one workload; print seconds and a digest of its bits."""
    workload = workload_named(name)
    X, y = workload.data(quick)
    epochs = workload.quick_epochs if quick else workload.epochs
    start = time.perf_counter()
    if contender == "fastest":
        result = fastest_train(workload, X, y, epochs)
    else:
        options = dict(purebp_paths())[contender]
        result = purebp_run(workload, X, y, epochs, options)[:3]
    seconds = time.perf_counter() - start
    digest = hashlib.sha256(" ".join(hexes(*result)).encode()).hexdigest()
    print(json.dumps({"seconds": seconds, "digest": digest}))


def pypy_child(pypy, name, contender, quick):
    command = [pypy, os.path.abspath(__file__), "--workload-child", name, contender]
    result = subprocess.run(command + (["--quick"] if quick else []), capture_output=True, text=True)
    if result.returncode != 0:
        return None, result.stderr.strip().splitlines()[-1] if result.stderr else "failed"
    return json.loads(result.stdout), None


# -- the section ---------------------------------------------------------------------------------


def workloads(pairs, quick, pypy):
    try:
        import numpy as np
    except ImportError:
        np = None
    try:
        import micrograd
    except ImportError:
        micrograd = None
    paths = purebp_paths()
    print(f"\nWorkloads ({sys.implementation.name} {sys.version.split()[0]}; {pairs} interleaved"
          f" rounds, medians; purebp's paths: {', '.join(label for label, _ in paths)};"
          f" the fastest pure-Python step sums with {TOTAL})")
    if np is None:
        print("  numpy is not installed: no numpy column (pip install numpy)")
    if micrograd is None:
        print("  micrograd is not installed: no micrograd column (pip install micrograd)")
    else:
        print(f"  micrograd: {MICROGRAD_OPS}; it runs a few batches, timed, scaled linearly"
              " to the whole workload")
    if pypy:
        print(f"  PyPy ({pypy}): every purebp path and the fastest step in a fresh process per"
              " round, timed inside it (JIT warm-up included, start-up not)")
    rows = []
    for workload in WORKLOADS:
        rows.append(_one_workload(workload, pairs, quick, pypy, np, micrograd is not None, paths))
    print("\n  Ratios of medians: purebp ÷ numpy, purebp ÷ the fastest pure-Python step, micrograd"
          " (scaled) ÷ purebp" + ("; PyPy purebp ÷ CPython numpy, PyPy fastest step ÷ the faster of"
                                 " purebp's paths on PyPy" if pypy else "") + ":")
    print("\n  workload   | purebp s | × numpy | × fastest pure-Python step | path"
          + " " * 22 + "| micrograd × purebp" + (" | PyPy purebp s | PyPy × CPython numpy"
                                                  " | PyPy fastest × PyPy purebp" if pypy else ""))
    for row in rows:
        print("  " + " | ".join(row))
    memory_of_digits(quick, np is not None)


def _ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "-"


def _one_workload(workload, pairs, quick, pypy, np, have_micrograd, paths):
    X, y = workload.data(quick)
    epochs = workload.quick_epochs if quick else workload.epochs
    n_batches = batches_per_epoch(workload, len(X)) * epochs
    results, contenders = {}, {}
    for label, options in paths:
        contenders[f"purebp {label}"] = functools.partial(purebp_run, workload, X, y, epochs, options)
    contenders["fastest pure-Python step"] = functools.partial(fastest_train, workload, X, y, epochs)
    if np is not None:
        contenders["numpy"] = functools.partial(numpy_workload, np, workload, X, y, epochs)
    # micrograd: a few batches (in --quick, of 4 rows), scaled by the rows trained on
    mg_batches = min(workload.micrograd_batches, n_batches)
    mg_rows = 4 if quick else workload.micrograd_rows
    mg_rows_all = len(X) * epochs
    if have_micrograd:
        contenders["micrograd"] = functools.partial(micrograd_run, workload, X, y, mg_batches, mg_rows)
    if pypy:
        for label, _ in paths:
            contenders[f"PyPy purebp {label}"] = functools.partial(pypy_child, pypy, workload.name,
                                                                 label, quick)
        contenders["PyPy fastest step"] = functools.partial(pypy_child, pypy, workload.name,
                                                            "fastest", quick)
    times = {name: [] for name in contenders}
    for _ in range(pairs):  # interleaved: every contender once per round
        for name, run in contenders.items():
            if name in results and results[name] is None:
                continue  # refused in an earlier round
            start = time.perf_counter()
            try:
                result = run()
            except (TypeError, ValueError) as error:  # a path purebp refuses for this network
                if not name.startswith("purebp "):
                    raise
                results[name] = None
                print(f"  {workload.name}: {name} refused: {error}")
                continue
            seconds = time.perf_counter() - start
            if name == "micrograd":
                seconds = result[0] * mg_rows_all / result[2]
            elif name.startswith("PyPy"):
                got, error = result
                if got is None:
                    results[name] = None
                    print(f"  {workload.name}: {name} failed: {error}")
                    continue
                seconds, result = got["seconds"], got["digest"]
            times[name].append(seconds)
            results[name] = result
    medians = {name: statistics.median(ts) for name, ts in times.items() if ts}
    base_name = f"purebp {paths[0][0]}"
    print(f"\n  {workload.name}: {workload.about}; {epochs} epochs, lr {workload.lr}"
          f" ({n_batches} steps)")
    for name, ts in times.items():
        if not ts:
            continue
        extra = f"  {medians[name] / medians[base_name]:6.2f}× purebp {paths[0][0]}"
        if name == "micrograd":
            measured = results[name][2]
            extra += (f"  (scaled: {mg_batches} batch(es) of {mg_rows or 'all the'} rows measured,"
                      f" {measured} of the run's {mg_rows_all} sample-steps, ×{mg_rows_all / measured:g})")
        print(f"    {name:<30} {describe(ts)}{extra}")
    # The bits: the fastest step against purebp's default run.
    purebp_bits = hexes(*results[base_name][:3])
    fastest_bits = hexes(*results["fastest pure-Python step"])
    wrong = mismatches(purebp_bits, fastest_bits)
    print(f"    fastest step bit-identical to purebp (float.hex of {len(purebp_bits)} epoch losses and"
          f" final parameters): {'yes' if wrong == 0 else f'NO, {wrong} differ'}")
    for label, _ in paths[1:]:
        other = results.get(f"purebp {label}")
        if other is not None:
            same = mismatches(purebp_bits, hexes(*other[:3])) == 0
            print(f"    purebp {label} bit-identical to purebp {paths[0][0]}: {'yes' if same else 'NO'}")
    if "numpy" in results:
        numpy_bits = [float.fromhex(h) for h in hexes(*results["numpy"])]
        worst = max(abs(a - float.fromhex(b)) / max(1.0, abs(a)) for a, b in zip(numpy_bits, purebp_bits))
        print(f"    numpy against purebp: largest difference {worst:.1e} (relative, floor 1)")
    if have_micrograd:
        first = batch_order(starting_point(workload.network)[2], len(X), workload.batch_size)[0]
        first = first[:mg_rows]
        want = Network(**workload.network, seed=SEED).loss([X[i] for i in first], [y[i] for i in first])
        print(f"    micrograd's first-batch loss against purebp's: {results['micrograd'][1]:.15g}"
              f" vs {want:.15g}")
    pypy_cell = ""
    if pypy:
        pypy_paths = [medians[f"PyPy purebp {label}"] for label, _ in paths
                      if f"PyPy purebp {label}" in medians]
        best = min(pypy_paths) if pypy_paths else None
        digests = {results.get(name) for name in contenders if name.startswith("PyPy")} - {None}
        cpython = hashlib.sha256(" ".join(purebp_bits).encode()).hexdigest()
        print("    PyPy: fastest step and purebp's paths bit-identical there: "
              f"{'yes' if len(digests) == 1 else 'NO'}; the same bits as on CPython:"
              f" {'yes' if digests == {cpython} else 'NO'}")
        pypy_cell = (f" | {medians.get(f'PyPy purebp {paths[0][0]}', float('nan')):13.3f}"
                     f" | {_ratio(medians.get(f'PyPy purebp {paths[0][0]}'), medians.get('numpy')):>20}"
                     f" | {_ratio(medians.get('PyPy fastest step'), best):>26}")
    purebp_s = medians[base_name]
    path = results[base_name][3]
    return [f"{workload.name:<10}", f"{purebp_s:8.3f}", f"{_ratio(purebp_s, medians.get('numpy')):>7}",
            f"{_ratio(purebp_s, medians['fastest pure-Python step']):>26}", f"{path:<25}",
            f"{_ratio(medians.get('micrograd'), purebp_s):>18}" + pypy_cell]


# -- the crossover: where each fast path is the faster, on this interpreter ------------------

#: (sizes, activation, output activation, loss, batch size, samples): the shapes the
#: path rule of purebp.fast.loop.choose was measured on (purebp/docs/speed.md).
CROSSOVER_SHAPES = [
    ([2, 4, 1], "sigmoid", "sigmoid", "half_sse", None, 4),
    ([2, 4, 1], "relu", "identity", "mse", None, 4),
    ([2, 8, 1], "relu", "identity", "mse", 32, 200),
    ([2, 8, 8, 1], "tanh", "sigmoid", "bce", 32, 200),
    ([2, 8, 8, 1], "relu", "sigmoid", "bce", 32, 200),
    ([8, 16, 1], "tanh", "identity", "mse", None, 100),
    ([8, 16, 1], "relu", "identity", "mse", 32, 100),
    ([2, 12, 12, 1], "tanh", "sigmoid", "bce", 32, 200),
    ([2, 14, 14, 1], "tanh", "sigmoid", "bce", 32, 200),
    ([2, 16, 16, 1], "tanh", "sigmoid", "bce", 32, 200),
    ([8, 24, 24, 1], "relu", "identity", "mse", 32, 200),
    ([8, 32, 32, 1], "relu", "identity", "mse", 32, 200),
    ([64, 32, 10], "sigmoid", "softmax", "cross_entropy", 32, 300),
    ([8, 48, 48, 1], "relu", "identity", "mse", 32, 200),
    ([30, 100, 9], "relu", "identity", "mse", 32, 200),
]


def crossover(pairs, quick):
    """Time fast="written-out" against fast="reference" per shape; say which choose() takes.

    Each pair of runs trains the same seeded network on the same data for
    about 3 million sample·weights (a tenth with --quick), after one
    untimed epoch of each path (compiling, or loading from the disk cache,
    and PyPy's warm-up); the ratio is of the medians.
    """
    from purebp.fast import loop as fast_loop
    from purebp.fast import unrolled

    rng = random.Random(0)
    print(f"\nThe crossover ({sys.implementation.name} {sys.version.split()[0]}; {pairs} rounds,"
          " medians; ns per sample and weight; the rule: purebp.fast.loop.choose):")
    print(f"  {'sizes':<16} {'activations':<24} {'batch':>5} {'params':>6} {'written-out':>11}"
          f" {'reference':>9} {'ref ÷ w-o':>9}  choose")
    for sizes, hidden, output, loss, batch, n in CROSSOVER_SHAPES[:6] if quick else CROSSOVER_SHAPES:
        X = [[rng.uniform(-1, 1) for _ in range(sizes[0])] for _ in range(n)]
        if loss == "cross_entropy":
            y = [[1.0 if k == i % sizes[-1] else 0.0 for k in range(sizes[-1])] for i in range(n)]
        else:
            y = [[rng.random() for _ in range(sizes[-1])] for _ in range(n)]
        params = unrolled.parameter_count(sizes)
        epochs = max(1, int((3e5 if quick else 3e6) / (params * n)))
        times = {"written-out": [], "reference": []}

        shape = (sizes, hidden, output, loss)
        for path in times:
            _crossover_run(shape, X, y, batch, path, 1)
        for _ in range(pairs):
            for path in times:
                times[path].append(_crossover_run(shape, X, y, batch, path, epochs))
        per = {path: statistics.median(ts) / (epochs * n * params) * 1e9 for path, ts in times.items()}
        chosen = fast_loop.choose(Network(sizes, hidden, output, loss, seed=0)._spec())
        faster = min(per, key=per.get)
        print(f"  {sizes!s:<16} {hidden + '/' + output:<24} {batch or 'full':>5} {params:>6}"
              f" {per['written-out']:>11.1f} {per['reference']:>9.1f}"
              f" {per['reference'] / per['written-out']:>9.2f}  {chosen}"
              + ("" if chosen == faster else f"  (the faster here: {faster})"))


def _crossover_run(shape, X, y, batch, path, epochs):
    """Seconds to train a fresh seeded network of ``shape`` on ``path``."""
    net = Network(*shape, seed=0)
    return timed(lambda: net.train(X, y, epochs, 0.001, batch_size=batch, log=None, fast=path))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--epochs", type=int, default=10_000, help="epochs per run (default 10000)")
    parser.add_argument("--pypy", default=shutil.which("pypy3"),
                        help="a PyPy to time too (default: pypy3 on PATH, if any)")
    parser.add_argument("--no-pypy", dest="pypy", action="store_const", const=None,
                        help="do not time PyPy")
    parser.add_argument("--quick", action="store_true", help="smaller scaling and memory tables")
    parser.add_argument("--workloads-only", action="store_true",
                        help="run only the workloads section (moons, digits, regression, tutorial)")
    parser.add_argument("--layers", action="store_true",
                        help="run only purebp.layers' benchmark (scripts/bench_layers.py: Conv2d"
                             " against the fastest pure-Python form, the strokes CNN against"
                             " micrograd)")
    parser.add_argument("--crossover", action="store_true",
                        help="run only the crossover table (written-out against reference per"
                             " shape, on the interpreter running this script)")
    parser.add_argument("--time-one", type=int, metavar="EPOCHS",
                        help=argparse.SUPPRESS)  # what the PyPy subprocess runs
    parser.add_argument("--workload-child", nargs=2, metavar=("WORKLOAD", "CONTENDER"),
                        help=argparse.SUPPRESS)  # a PyPy subprocess of the workloads section
    parser.add_argument("--memory-child", metavar="CONTENDER",
                        help=argparse.SUPPRESS)  # a subprocess of the digits memory table
    args = parser.parse_args()
    if args.time_one is not None:
        print(timed(purebp_train(NeuralNetwork, args.time_one)))
        return
    if args.workload_child is not None:
        workload_child(*args.workload_child, args.quick)
        return
    if args.memory_child is not None:
        memory_child(args.memory_child, args.quick)
        return
    if sys.implementation.name == "pypy":
        args.pypy = None  # this process is PyPy already
    if args.layers:  # its own file: python3 scripts/bench_layers.py does the same
        import bench_layers
        bench_layers.main(["--pairs", str(args.pairs)] + (["--quick"] if args.quick else []))
        return
    if args.crossover:
        crossover(args.pairs, args.quick)
        return
    if args.workloads_only:
        workloads(args.pairs, args.quick, args.pypy)
        return
    tutorial_workload(args.pairs, args.epochs, args.pypy)
    scaling(args.quick)
    optimizers(args.pairs, args.quick)
    memory(args.quick)
    workloads(args.pairs, args.quick, args.pypy)


if __name__ == "__main__":
    main()
