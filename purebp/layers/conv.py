"""Conv2d, MaxPool2d, AvgPool2d and Flatten, each backward beside its forward.

Layouts are PyTorch's: inputs N × C × H × W; Conv2d's weight
out_channels × in_channels × kH × kW. Like torch, "convolution" here is
cross-correlation: the kernel is not flipped in the forward pass. The
backward pass is written out as the correlations it is, index by index,
with the stride and the padding in the indices (docs/layers.md derives
them); there is no im2col.

Sizes: with kernel k, stride s and padding p, an input of height H gives
H_out = ⌊(H + 2p − k) / s⌋ + 1 (and the same for the width), as torch's
default ceil_mode=False.
"""

from __future__ import annotations

import math
import random
from typing import Any, List, Optional, Sequence, Tuple, Union

from purebp._checks import MAX_LAYER_SIZE, _describe
from purebp.fast import conv as fast_conv
from purebp.layers.base import Layer, check_parameter_count, checked_size, default_generator
from purebp.layers.tensor import Tensor, flat, rank_of, shape_of, unflat, zeros

Pair = Union[int, Tuple[int, int], Sequence[int]]


def _pair(op: str, name: str, value: Pair, least: int) -> Tuple[int, int]:
    """(h, w) from an int or a pair of ints, each at least ``least``."""
    if isinstance(value, bool) or not isinstance(value, (int, tuple, list)):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {_describe(value)}")
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < least:
        raise ValueError(f"{op}: {name} must be at least {least}, got {value!r}")
    if max(pair) > MAX_LAYER_SIZE:
        raise ValueError(f"{op}: {name} must be at most {MAX_LAYER_SIZE:,}, got {value!r}")
    return pair[0], pair[1]


def _output_size(op: str, H: int, W: int, k: Tuple[int, int], s: Tuple[int, int],
                 p: Tuple[int, int]) -> Tuple[int, int]:
    Ho, Wo = (H + 2 * p[0] - k[0]) // s[0] + 1, (W + 2 * p[1] - k[1]) // s[1] + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(f"{op}: input must be at least the kernel {k[0]} × {k[1]} after padding"
                         f" {p[0]} × {p[1]}, got {H} × {W}")
    return Ho, Wo


def _check_grad(op: str, g: Tensor, shape: Tuple[int, ...]) -> None:
    found = shape_of(op, "grad_output", g, len(shape))
    if found != shape:
        raise ValueError(f"{op}: grad_output must have the output's shape {shape}, got {found}")


class Conv2d(Layer):
    """2-D cross-correlation with bias, as torch.nn.Conv2d(in_channels, out_channels,
    kernel_size, stride=1, padding=0, bias=True) (zero padding; no dilation, no groups).

    Shapes: x (N, C, H, W) → y (N, O, H_out, W_out); weight (O, C, kH, kW);
    bias (O,). With x = 0 outside the input (the padding), sh, sw the
    strides and ph, pw the paddings:

        forward   y[n][o][i][j] = b[o] + Σ_c Σ_p Σ_q W[o][c][p][q] · x[n][c][i·sh + p − ph][j·sw + q − pw]

        backward, with g = ∂loss/∂y, each the correlation it is:
        ∂loss/∂W[o][c][p][q] = Σ_n Σ_i Σ_j g[n][o][i][j] · x[n][c][i·sh + p − ph][j·sw + q − pw]
        ∂loss/∂b[o]          = Σ_n Σ_i Σ_j g[n][o][i][j]
        ∂loss/∂x[n][c][u][v] = Σ_o Σ_p Σ_q W[o][c][p][q] · g[n][o][i][j]
                               over the (p, q) with i = (u + ph − p)/sh and j = (v + pw − q)/sw
                               whole numbers inside the output: the upstream gradient, spread
                               out by the stride, correlated with the flipped kernel; the
                               padding's own gradient is never formed (it is cropped).

    The first weights are torch's: uniform on [−1/√(C·kH·kW), 1/√(C·kH·kW)]
    for weight and bias, from ``generator`` (default: default_generator).

    ``fast`` (True by default) computes the very same bits as the loops
    below, about 3 to 4 times faster, with purebp/fast/conv.py's dot products
    over patches; ``layer.fast = False`` runs the loops, to step through them.
    """

    PARAMETERS = ("weight", "bias")
    #: Compute with purebp.fast.conv (the same bits); False: the readable loops here.
    fast = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Pair, stride: Pair = 1,
                 padding: Pair = 0, bias: bool = True,
                 generator: Optional[random.Random] = None) -> None:
        super().__init__()
        op = "Conv2d"
        self.in_channels = checked_size(op, "in_channels", in_channels)
        self.out_channels = checked_size(op, "out_channels", out_channels)
        self.kernel_size = _pair(op, "kernel_size", kernel_size, 1)
        self.stride = _pair(op, "stride", stride, 1)
        self.padding = _pair(op, "padding", padding, 0)
        check_parameter_count(op, self.out_channels * (self.in_channels * self.kernel_size[0]
                                                        * self.kernel_size[1] + 1))
        rng = default_generator if generator is None else generator
        kh, kw = self.kernel_size
        bound = 1.0 / math.sqrt(self.in_channels * kh * kw)
        self.weight: Tensor = [[[[rng.uniform(-bound, bound) for _ in range(kw)] for _ in range(kh)]
                                for _ in range(self.in_channels)] for _ in range(self.out_channels)]
        self.bias: Optional[Tensor] = ([rng.uniform(-bound, bound) for _ in range(self.out_channels)]
                                       if bias else None)

    def __repr__(self) -> str:
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size},"
                f" stride={self.stride}, padding={self.padding}, bias={self.bias is not None})")

    def forward(self, x: Tensor) -> Tensor:
        N, C, H, W = shape_of("Conv2d", "input", x, 4)
        if C != self.in_channels:
            raise ValueError(f"Conv2d: input must have {self.in_channels} channels (N × C × H × W"
                             f" with C = in_channels), got shape {(N, C, H, W)}")
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        Ho, Wo = _output_size("Conv2d", H, W, self.kernel_size, self.stride, self.padding)
        w, b = self.weight, self.bias
        self._saved = {"x": x, "out": (N, self.out_channels, Ho, Wo)}
        if self.fast:  # the same bits, faster (purebp/fast/conv.py); skip to read on
            y, self._saved["patches"] = fast_conv.forward(x, w, b, self.kernel_size, self.stride,
                                                          self.padding, (Ho, Wo))
            return y
        y = zeros((N, self.out_channels, Ho, Wo))
        for n in range(N):
            for o in range(self.out_channels):
                for i in range(Ho):
                    for j in range(Wo):
                        total = 0.0
                        for c in range(C):
                            for p in range(kh):
                                u = i * sh + p - ph
                                if 0 <= u < H:
                                    for q in range(kw):
                                        v = j * sw + q - pw
                                        if 0 <= v < W:
                                            total += w[o][c][p][q] * x[n][c][u][v]
                        y[n][o][i][j] = total + b[o] if b is not None else total
        return y

    def backward(self, grad_output: Tensor) -> Tensor:
        saved = self._saved_for_backward()
        x, (N, O, Ho, Wo) = saved["x"], saved["out"]
        g = grad_output
        _check_grad("Conv2d", g, (N, O, Ho, Wo))
        C, H, W = self.in_channels, len(x[0][0]), len(x[0][0][0])
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        w = self.weight
        bias = {} if self.bias is None else {"bias": self._bias_gradient(g, (N, O, Ho, Wo))}
        if "patches" in saved:  # the same bits, faster (purebp/fast/conv.py); skip to read on
            self.grads = {"weight": fast_conv.weight_gradient(g, saved["patches"], (O, C, kh, kw)),
                          **bias}
            return fast_conv.input_gradient(g, w, self.stride, self.padding, (N, C, H, W))
        grad_w = zeros((O, C, kh, kw))
        for o in range(O):
            for c in range(C):
                for p in range(kh):
                    for q in range(kw):
                        total = 0.0
                        for n in range(N):
                            for i in range(Ho):
                                u = i * sh + p - ph
                                if 0 <= u < H:
                                    for j in range(Wo):
                                        v = j * sw + q - pw
                                        if 0 <= v < W:
                                            total += g[n][o][i][j] * x[n][c][u][v]
                        grad_w[o][c][p][q] = total
        grad_x = zeros((N, C, H, W))
        for n in range(N):
            for c in range(C):
                for u in range(H):
                    for v in range(W):
                        total = 0.0
                        for o in range(O):
                            for p in range(kh):
                                i, rest = divmod(u + ph - p, sh)
                                if rest == 0 and 0 <= i < Ho:
                                    for q in range(kw):
                                        j, rest = divmod(v + pw - q, sw)
                                        if rest == 0 and 0 <= j < Wo:
                                            total += w[o][c][p][q] * g[n][o][i][j]
                        grad_x[n][c][u][v] = total
        self.grads = {"weight": grad_w, **bias}
        return grad_x

    @staticmethod
    def _bias_gradient(g: Tensor, shape: Tuple[int, int, int, int]) -> List[float]:
        """∂loss/∂b[o] = Σ_n Σ_i Σ_j g[n][o][i][j]."""
        N, O, Ho, Wo = shape
        grad_b = []
        for o in range(O):
            total = 0.0
            for n in range(N):
                for i in range(Ho):
                    for j in range(Wo):
                        total += g[n][o][i][j]
            grad_b.append(total)
        return grad_b


class _Pool2d(Layer):
    """What the two poolings share: kernel, stride (default: the kernel), padding."""

    NAME = ""

    def __init__(self, kernel_size: Pair, stride: Optional[Pair] = None, padding: Pair = 0) -> None:
        super().__init__()
        op = self.NAME
        self.kernel_size = _pair(op, "kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else _pair(op, "stride", stride, 1)
        self.padding = _pair(op, "padding", padding, 0)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(f"{op}: padding must be at most half the kernel size (as torch),"
                             f" got padding {self.padding} for kernel {self.kernel_size}")

    def __repr__(self) -> str:
        return (f"{self.NAME}(kernel_size={self.kernel_size}, stride={self.stride},"
                f" padding={self.padding})")

    def _sizes(self, x: Tensor) -> Tuple[int, int, int, int, int, int]:
        N, C, H, W = shape_of(self.NAME, "input", x, 4)
        Ho, Wo = _output_size(self.NAME, H, W, self.kernel_size, self.stride, self.padding)
        return N, C, H, W, Ho, Wo


class MaxPool2d(_Pool2d):
    """The largest entry of each window, as torch.nn.MaxPool2d(kernel_size, stride=None,
    padding=0) (padding with −∞; no dilation, no ceil_mode).

    Shapes: x (N, C, H, W) → y (N, C, H_out, W_out).

        forward    y[n][c][i][j] = max over p < kH, q < kW of x[n][c][i·sh + p − ph][j·sw + q − pw]
        backward   ∂loss/∂x[n][c][u][v] = Σ over the windows (i, j) whose chosen entry is (u, v)
                   of g[n][c][i][j]

    Ties: the chosen entry of a window is the first of its largest ones in
    the order p, then q (row by row), as torch's CPU kernel chooses; only it
    gets the gradient. Where windows overlap, an entry chosen by several
    gets the sum of their gradients.
    """

    NAME = "MaxPool2d"

    def forward(self, x: Tensor) -> Tensor:
        N, C, H, W, Ho, Wo = self._sizes(x)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        y = zeros((N, C, Ho, Wo))
        chosen: List[Any] = zeros((N, C, Ho, Wo))
        for n in range(N):
            for c in range(C):
                for i in range(Ho):
                    for j in range(Wo):
                        best, where = -math.inf, (0, 0)
                        for p in range(kh):
                            u = i * sh + p - ph
                            for q in range(kw):
                                v = j * sw + q - pw
                                if 0 <= u < H and 0 <= v < W and x[n][c][u][v] > best:
                                    best, where = x[n][c][u][v], (u, v)
                        y[n][c][i][j], chosen[n][c][i][j] = best, where
        self._saved = {"chosen": chosen, "in": (N, C, H, W), "out": (N, C, Ho, Wo)}
        return y

    def backward(self, grad_output: Tensor) -> Tensor:
        saved = self._saved_for_backward()
        (N, C, H, W), (_, _, Ho, Wo) = saved["in"], saved["out"]
        _check_grad(self.NAME, grad_output, saved["out"])
        chosen = saved["chosen"]
        grad_x = zeros((N, C, H, W))
        for n in range(N):
            for c in range(C):
                for i in range(Ho):
                    for j in range(Wo):
                        u, v = chosen[n][c][i][j]
                        grad_x[n][c][u][v] += grad_output[n][c][i][j]
        self.grads = {}
        return grad_x


class AvgPool2d(_Pool2d):
    """The mean of each window, as torch.nn.AvgPool2d(kernel_size, stride=None, padding=0)
    with its defaults ceil_mode=False and count_include_pad=True: the padding's
    zeros count, so every window divides by kH·kW.

    Shapes: x (N, C, H, W) → y (N, C, H_out, W_out).

        forward    y[n][c][i][j] = (1 / (kH·kW)) · Σ_p Σ_q x[n][c][i·sh + p − ph][j·sw + q − pw]
        backward   ∂loss/∂x[n][c][u][v] = (1 / (kH·kW)) · Σ over the windows (i, j) holding
                   (u, v) of g[n][c][i][j]
    """

    NAME = "AvgPool2d"

    def forward(self, x: Tensor) -> Tensor:
        N, C, H, W, Ho, Wo = self._sizes(x)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        y = zeros((N, C, Ho, Wo))
        for n in range(N):
            for c in range(C):
                for i in range(Ho):
                    for j in range(Wo):
                        total = 0.0
                        for p in range(kh):
                            u = i * sh + p - ph
                            for q in range(kw):
                                v = j * sw + q - pw
                                if 0 <= u < H and 0 <= v < W:
                                    total += x[n][c][u][v]
                        y[n][c][i][j] = total / (kh * kw)
        self._saved = {"in": (N, C, H, W), "out": (N, C, Ho, Wo)}
        return y

    def backward(self, grad_output: Tensor) -> Tensor:
        saved = self._saved_for_backward()
        (N, C, H, W), (_, _, Ho, Wo) = saved["in"], saved["out"]
        _check_grad(self.NAME, grad_output, saved["out"])
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        grad_x = zeros((N, C, H, W))
        for n in range(N):
            for c in range(C):
                for i in range(Ho):
                    for j in range(Wo):
                        share = grad_output[n][c][i][j] / (kh * kw)
                        for p in range(kh):
                            u = i * sh + p - ph
                            for q in range(kw):
                                v = j * sw + q - pw
                                if 0 <= u < H and 0 <= v < W:
                                    grad_x[n][c][u][v] += share
        self.grads = {}
        return grad_x


class Flatten(Layer):
    """Dimensions start_dim … end_dim made one, as torch.nn.Flatten(start_dim=1, end_dim=-1).

    Shapes: (N, C, H, W) → (N, C·H·W) with the defaults. The entries keep
    their order (the last index fastest), so backward only reshapes
    ∂loss/∂output back to the input's shape.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        for name, value in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"Flatten: {name} must be an int, got {_describe(value)}")
        self.start_dim, self.end_dim = start_dim, end_dim

    def __repr__(self) -> str:
        return f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim})"

    def forward(self, x: Tensor) -> Tensor:
        rank = rank_of(x)
        shape = shape_of("Flatten", "input", x, rank)
        start = self.start_dim % rank if -rank <= self.start_dim < rank else None
        end = self.end_dim % rank if -rank <= self.end_dim < rank else None
        if start is None or end is None or start > end:
            raise ValueError(f"Flatten: start_dim and end_dim must be dimensions of the rank-{rank}"
                             f" input with start_dim ≤ end_dim, got {self.start_dim} and"
                             f" {self.end_dim}")
        merged = 1
        for d in shape[start:end + 1]:
            merged *= d
        out = shape[:start] + (merged,) + shape[end + 1:]
        self._saved = {"in": shape, "out": out}
        return unflat(flat(x), out)

    def backward(self, grad_output: Tensor) -> Tensor:
        saved = self._saved_for_backward()
        _check_grad("Flatten", grad_output, saved["out"])
        self.grads = {}
        return unflat(flat(grad_output), saved["in"])
