"""Conv2d's forward and backward as dot products over patches: the same bits, faster.

purebp.layers.conv.Conv2d holds the reference: for every output entry a
Python loop adds W[o][c][p][q]·x[...] over c, p, q in that order, from 0,
skipping the entries the padding covers, then adds the bias. Here the input
is padded with zeros once, each output position's patch (c, p, q in the
same order) is cut once and shared by every output channel, and each entry
is one

    sum(map(mul, kernel, patch))

which, where ``sum`` adds left to right (purebp.fast.rows.SUM_ADDS_LEFT_TO_RIGHT:
CPython up to 3.11, PyPy), adds the same products in the same order from
0.0, in C: about 3 to 4 times faster on CPython 3.11 (scripts/bench.py
--layers). The padding's terms are extra here, but each is ±0.0 (a finite
number times 0.0), and adding ±0.0 to a sum that started at 0 changes no
bit. Where ``sum`` is compensated (CPython 3.12 and later) each dot product
is the reference's own loop instead, so the bits stay the reference's on
every Python.

The backward pass does the same with its two correlations:

    ∂loss/∂W[o][c][p][q] = Σ_n Σ_i Σ_j g[n][o][i][j] · x[n][c][i·sh + p − ph][j·sw + q − pw]
    ∂loss/∂x[n][c][u][v] = Σ_o Σ_p Σ_q W[o][c][p][q] · g[n][o][(u + ph − p)/sh][(v + pw − q)/sw]

the first over the patches already cut (its terms in the order n, i, j),
the second over the upstream gradient spread out by the stride and padded
with zeros (in the order o, p, q), so that the entries where the index is
no whole number, or falls outside, are zeros too. tests/test_fast_conv.py
holds both to the reference's bits on random shapes, strides and paddings.
"""

from __future__ import annotations

from operator import mul
from typing import Any, List, Optional, Sequence, Tuple

from purebp.fast.rows import SUM_ADDS_LEFT_TO_RIGHT

Tensor = Any


def _dot(u: Sequence[float], v: Sequence[float]) -> Any:
    """Σ u[k]·v[k] from 0.0, left to right (as the loops: a float, for int inputs too): by
    ``sum`` where it adds so, else a loop."""
    if SUM_ADDS_LEFT_TO_RIGHT:
        return sum(map(mul, u, v), 0.0)
    total = 0.0
    for a, b in zip(u, v):
        total += a * b
    return total


def _padded(plane: Sequence[Sequence[float]], ph: int, pw: int) -> List[List[float]]:
    width = len(plane[0]) + 2 * pw
    return ([[0.0] * width for _ in range(ph)] + [[0.0] * pw + list(row) + [0.0] * pw for row in plane]
            + [[0.0] * width for _ in range(ph)])


def patches(x: Tensor, kernel: Tuple[int, int], stride: Tuple[int, int],
            padding: Tuple[int, int], out: Tuple[int, int]) -> List[List[List[float]]]:
    """For each sample, each output position's patch (i, j row by row), entries in (c, p, q) order."""
    (kh, kw), (sh, sw), (ph, pw), (Ho, Wo) = kernel, stride, padding, out
    result = []
    for sample in x:
        planes = [_padded(plane, ph, pw) for plane in sample]
        result.append([[plane[i * sh + p][j * sw + q]
                        for plane in planes for p in range(kh) for q in range(kw)]
                       for i in range(Ho) for j in range(Wo)])
    return result


def forward(x: Tensor, weight: Tensor, bias: Optional[Sequence[float]], kernel: Tuple[int, int],
            stride: Tuple[int, int], padding: Tuple[int, int], out: Tuple[int, int]
            ) -> Tuple[Tensor, List[List[List[float]]]]:
    """Return (y, the patches), y with Conv2d.forward's bits; the patches serve backward."""
    Ho, Wo = out
    kernels = [[w for channel in kernel_o for row in channel for w in row] for kernel_o in weight]
    cut = patches(x, kernel, stride, padding, out)
    y = []
    for sample in cut:
        planes = []
        for o, k in enumerate(kernels):
            values = [_dot(k, patch) for patch in sample]
            if bias is not None:
                b = bias[o]
                values = [v + b for v in values]
            planes.append([values[i * Wo:(i + 1) * Wo] for i in range(Ho)])
        y.append(planes)
    return y, cut


def weight_gradient(g: Tensor, cut: List[List[List[float]]], shape: Tuple[int, int, int, int]
                    ) -> Tensor:
    """∂loss/∂W with Conv2d.backward's bits, from the forward pass's patches."""
    O, C, kh, kw = shape
    # the terms of each entry in the order n, i, j: the upstream gradients of channel o over
    # every sample and position, against the patches' entry (c, p, q) over the same
    g_rows = [[v for sample in g for row in sample[o] for v in row] for o in range(O)]
    columns = list(zip(*[patch for sample in cut for patch in sample]))
    return [[[[_dot(g_rows[o], columns[(c * kh + p) * kw + q]) for q in range(kw)]
              for p in range(kh)] for c in range(C)] for o in range(O)]


def input_gradient(g: Tensor, weight: Tensor, stride: Tuple[int, int],
                   padding: Tuple[int, int], in_shape: Tuple[int, int, int, int]) -> Tensor:
    """∂loss/∂x with Conv2d.backward's bits: the spread-out, padded upstream gradient
    correlated with the flipped kernels, terms in the order o, p, q."""
    N, C, H, W = in_shape
    O, kh, kw = len(weight), len(weight[0][0]), len(weight[0][0][0])
    (sh, sw), (ph, pw) = stride, padding
    Ho, Wo = len(g[0][0]), len(g[0][0][0])
    # D[o][r][s]: g[n][o][i][j] at r = i·sh + kh − 1, s = j·sw + kw − 1, zeros elsewhere; the
    # term (o, p, q) of entry (u, v) is D[o][u + ph + kh − 1 − p][v + pw + kw − 1 − q]
    rows, cols = H + ph + kh, W + pw + kw
    kernels = [[weight[o][c][p][q] for o in range(O) for p in range(kh) for q in range(kw)]
               for c in range(C)]
    result = []
    for n in range(N):
        spread = []
        for o in range(O):
            grid = [[0.0] * cols for _ in range(rows)]
            for i in range(Ho):
                r = i * sh + kh - 1
                if r < rows:
                    line = grid[r]
                    for j in range(Wo):
                        if j * sw + kw - 1 < cols:
                            line[j * sw + kw - 1] = g[n][o][i][j]
            spread.append(grid)
        planes: List[List[List[float]]] = [[[] for _ in range(H)] for _ in range(C)]
        for u in range(H):
            r0 = u + ph + kh - 1
            for v in range(W):
                s0 = v + pw + kw - 1
                # one patch of the spread gradient, shared by every input channel
                patch = [spread[o][r0 - p][s0 - q] for o in range(O) for p in range(kh)
                         for q in range(kw)]
                for c in range(C):
                    planes[c][u].append(_dot(kernels[c], patch))
        result.append(planes)
    return result
