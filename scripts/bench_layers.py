"""Time purebp.layers: Conv2d against the fastest pure-Python form, a small CNN against micrograd.

Usage: python3 scripts/bench_layers.py [--pairs N] [--quick]   (also: scripts/bench.py --layers)

1. Conv2d's forward and backward (∂/∂W and ∂/∂x), on two shapes, interleaved
   rounds, medians, in nanoseconds per multiply-add (the forward has
   N·O·H_out·W_out·C·kH·kW of them, the backward twice that):
     - purebp's Conv2d as it runs by default (purebp/fast/conv.py);
     - the same layer with ``fast = False``: the readable reference loops;
     - the fastest pure-Python form we could write, here, on its own: the
       input padded once, patches cut by comprehensions, every entry one
       ``sum(map(mul, kernel, patch))``; it checks that its bits are
       purebp's (where sum adds left to right, CPython ≤ 3.11 and PyPy).
   The ratio is purebp's median over the fastest form's.
2. The CNN of ``purebp train --data strokes --model ...`` (Conv2d(1, 4, 3,
   padding=1), ReLU, MaxPool2d(2), Flatten, Linear(64, 4), cross_entropy):
   one epoch of Adam steps in batches of 16, per sample, against the same
   network built from micrograd's Value nodes (if micrograd is installed;
   a squared error on its logits, as micrograd has no exp), a few batches
   timed, per sample.

A script, not a test: it times and prints, and asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from operator import mul

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from purebp import optimizers  # noqa: E402  (after the path)
from purebp.datasets import strokes  # noqa: E402
from purebp.layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential  # noqa: E402

SHAPES = [  # (N, C, H, W, O, kernel, stride, padding)
    (16, 4, 12, 12, 8, 3, 1, 1),
    (8, 3, 15, 15, 6, 5, 2, 2),
]


def tensor(rng, *shape):
    if not shape:
        return rng.uniform(-1, 1)
    return [tensor(rng, *shape[1:]) for _ in range(shape[0])]


# -- the fastest form, written here on its own -----------------------------------------------


def fastest_conv(x, w, b, k, s, p):
    """(y, ∂/∂W, ∂/∂x) for an upstream gradient made here: patches and sum(map(mul))."""
    N, C, H, W = len(x), len(x[0]), len(x[0][0]), len(x[0][0][0])
    O = len(w)
    Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    kernels = [[v for ch in wo for row in ch for v in row] for wo in w]

    def forward():
        out, cut = [], []
        for sample in x:
            zero = [0.0] * (W + 2 * p)
            planes = [[zero] * p + [[0.0] * p + row + [0.0] * p for row in plane] + [zero] * p
                      for plane in sample]
            patches = [[plane[i * s + a][j * s + c] for plane in planes for a in range(k)
                        for c in range(k)] for i in range(Ho) for j in range(Wo)]
            cut.append(patches)
            out.append([[[sum(map(mul, kern, patches[i * Wo + j])) + bo for j in range(Wo)]
                         for i in range(Ho)] for kern, bo in zip(kernels, b)])
        return out, cut

    def backward(g, cut):
        g_rows = [[v for sample in g for row in sample[o] for v in row] for o in range(O)]
        columns = list(zip(*[patch for sample in cut for patch in sample]))
        grad_w = [[sum(map(mul, g_rows[o], col)) for col in columns] for o in range(O)]
        flipped = [[w[o][c][a][e] for o in range(O) for a in range(k) for e in range(k)]
                   for c in range(C)]
        grad_x = []
        size = H + p + k
        for n in range(N):
            grids = []
            for o in range(O):
                grid = [[0.0] * (W + p + k) for _ in range(size)]
                for i in range(Ho):
                    row, src = grid[i * s + k - 1], g[n][o][i]
                    for j in range(Wo):
                        row[j * s + k - 1] = src[j]
                grids.append(grid)
            planes = [[[] for _ in range(H)] for _ in range(C)]
            for u in range(H):
                r0 = u + p + k - 1
                for v in range(W):
                    s0 = v + p + k - 1
                    patch = [grid[r0 - a][s0 - e] for grid in grids for a in range(k)
                             for e in range(k)]
                    for c in range(C):
                        planes[c][u].append(sum(map(mul, flipped[c], patch)))
            grad_x.append(planes)
        return grad_w, grad_x

    return forward, backward


def bench_conv(pairs, quick):
    print("Conv2d: forward and backward, ns per multiply-add (medians of interleaved rounds)")
    print(f"  {'shape':<38} {'purebp':>9} {'readable':>9} {'fastest':>9}  purebp/fastest")
    for N, C, H, W, O, k, s, p in SHAPES[:1] if quick else SHAPES:
        rng = random.Random(1)
        x = tensor(rng, N, C, H, W)
        layer = Conv2d(C, O, k, stride=s, padding=p, generator=rng)
        Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
        g = tensor(rng, N, O, Ho, Wo)
        macs = N * O * Ho * Wo * C * k * k * 3  # forward, ∂/∂W, ∂/∂x
        forward, backward = fastest_conv(x, layer.weight, layer.bias, k, s, p)
        times = {"purebp": [], "readable": [], "fastest": []}
        results = {}
        for _ in range(pairs):
            for name in times:
                start = time.perf_counter()
                if name == "fastest":
                    y, cut = forward()
                    grad_w, grad_x = backward(g, cut)
                    results[name] = (y, grad_w, grad_x)
                else:
                    layer.fast = name == "purebp"
                    y = layer.forward(x)
                    grad_x = layer.backward(g)
                    flat_w = [[v for ch in wo for row in ch for v in row]
                              for wo in layer.grads["weight"]]
                    results[name] = (y, flat_w, grad_x)
                times[name].append(time.perf_counter() - start)
        ns = {name: statistics.median(t) / macs * 1e9 for name, t in times.items()}
        same = results["purebp"] == results["fastest"] == results["readable"]
        shown = f"{N}×{C}×{H}×{W} → {O} ch, k{k} s{s} p{p}"
        print(f"  {shown:<38} {ns['purebp']:>9.1f} {ns['readable']:>9.1f} {ns['fastest']:>9.1f}"
              f"  {ns['purebp'] / ns['fastest']:.2f}×   same bits: {'yes' if same else 'NO'}")
    layer.fast = True


# -- the CNN of the strokes task, against micrograd ----------------------------------------------


def cnn_purebp(X, y, batch):
    rng = random.Random(0)
    model = Sequential(Conv2d(1, 4, 3, padding=1, generator=rng), ReLU(), MaxPool2d(2),
                       Flatten(), Linear(64, 4, generator=rng), loss="cross_entropy", seed=0)
    start = time.perf_counter()
    model.train(X, y, 1, optimizer=optimizers.Adam(lr=0.02), batch_size=batch, log=None)
    return (time.perf_counter() - start) / len(X)


def cnn_micrograd(X, y, batch, batches):
    """The same network from Value nodes: conv, relu, 2×2 max, linear (a squared error for
    the loss: micrograd has no exp), backward, a plain SGD update; a few batches, per sample."""
    from micrograd.engine import Value

    rng = random.Random(0)
    kernel = [[[Value(rng.uniform(-1 / 3, 1 / 3)) for _ in range(3)] for _ in range(3)]
              for _ in range(4)]
    kbias = [Value(0.0) for _ in range(4)]
    weight = [[Value(rng.uniform(-0.125, 0.125)) for _ in range(64)] for _ in range(4)]
    bias = [Value(0.0) for _ in range(4)]
    params = [v for f in kernel for row in f for v in row] + kbias + \
        [v for row in weight for v in row] + bias

    def vmax(values):
        best = values[0]
        for v in values[1:]:
            best = v if v.data > best.data else best
        return best

    start = time.perf_counter()
    count = 0
    for b in range(batches):
        total = Value(0.0)
        for image, target in zip(X[b * batch:(b + 1) * batch], y[b * batch:(b + 1) * batch]):
            pixels = image[0]
            maps = []
            for f in range(4):
                plane = []
                for i in range(8):
                    row = []
                    for j in range(8):
                        acc = kbias[f]
                        for a in range(3):
                            for c in range(3):
                                u, v = i + a - 1, j + c - 1
                                if 0 <= u < 8 and 0 <= v < 8:
                                    acc = acc + kernel[f][a][c] * pixels[u][v]
                        row.append(acc.relu())
                    plane.append(row)
                maps.append(plane)
            pooled = [vmax([maps[f][2 * i + a][2 * j + c] for a in range(2) for c in range(2)])
                      for f in range(4) for i in range(4) for j in range(4)]
            logits = [sum((w * v for w, v in zip(weight[o], pooled)), bias[o]) for o in range(4)]
            # micrograd has no exp or log, so no softmax: a squared error on the logits,
            # whose 8 nodes are nothing beside the convolution's 2,304 products
            total = total + sum(((z - t) ** 2 for z, t in zip(logits, target)), Value(0.0))
            count += 1
        for p in params:
            p.grad = 0.0
        total.backward()
        for p in params:
            p.data -= 0.01 * p.grad
    return (time.perf_counter() - start) / count


def bench_cnn(quick):
    n = 64 if quick else 256
    X, y = strokes(n, seed=0)
    batch = 16
    ours = cnn_purebp(X, y, batch)
    print("\nThe strokes CNN (Conv2d(1, 4, 3, padding=1), ReLU, MaxPool2d(2), Flatten,"
          " Linear(64, 4)), one epoch of steps in batches of 16:")
    print(f"  purebp Sequential: {ours * 1e3:.2f} ms per sample")
    try:
        import micrograd  # noqa: F401
    except ImportError:
        print("  micrograd: not installed (pip install micrograd), not compared")
        return
    theirs = cnn_micrograd(X, y, batch, 1 if quick else 2)
    print(f"  micrograd Value nodes: {theirs * 1e3:.2f} ms per sample"
          f" ({1 if quick else 2} batches timed)  → purebp is {theirs / ours:.0f}× faster")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--quick", action="store_true", help="one shape, fewer samples")
    args = parser.parse_args(argv)
    bench_conv(max(1, args.pairs), args.quick)
    bench_cnn(args.quick)


if __name__ == "__main__":
    main()
