"""The activations as layers: ReLU, LeakyReLU, Sigmoid, Tanh, Identity, Softmax.

Each element-wise one applies purebp.activations' function to every entry of
a tensor of any shape, and its backward multiplies ∂loss/∂output by that
function's derivative, entry by entry ((F2) and the f′ of (BP2) in
docs/backprop.md). The functions and derivatives themselves live in
purebp/activations.py, their one home; LeakyReLU with a slope other than
0.01 writes its two lines out here. Softmax acts along the last dimension.
"""

from __future__ import annotations

from typing import Any, Callable, List

from purebp import activations
from purebp._checks import real_number
from purebp.layers.base import Layer
from purebp.layers.tensor import Tensor, rank_of, shape_of, total


def _map(f: Callable[..., float], *tensors: Tensor) -> Tensor:
    """f applied entry by entry to tensors of one shape."""
    if isinstance(tensors[0], list):
        return [_map(f, *parts) for parts in zip(*tensors)]
    return f(*tensors)


def _rank(t: Tensor) -> int:
    return rank_of(t)


class _Elementwise(Layer):
    """y = f(x) entry by entry; ∂loss/∂x = ∂loss/∂y · f′(x)."""

    def __init__(self) -> None:
        super().__init__()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def f(self, x: float) -> float:
        raise NotImplementedError

    def f_prime(self, x: float, y: float) -> float:
        """f′ at x, given y = f(x) (sigmoid's and tanh's are cheapest from y)."""
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        shape = shape_of(name, "input", x, max(1, _rank(x)))
        y = _map(self.f, x)
        self._saved = {"x": x, "y": y, "shape": shape}
        return y

    def backward(self, grad_output: Tensor) -> Tensor:
        saved = self._saved_for_backward()
        name = type(self).__name__
        if shape_of(name, "grad_output", grad_output, len(saved["shape"])) != saved["shape"]:
            raise ValueError(f"{name}: grad_output must have the output's shape {saved['shape']},"
                             f" got {shape_of(name, 'grad_output', grad_output, len(saved['shape']))}")
        self.grads = {}
        return _map(lambda g, x, y: g * self.f_prime(x, y), grad_output, saved["x"], saved["y"])


class ReLU(_Elementwise):
    """max(0, x); its derivative 1 for x > 0, else 0 (0 at x = 0, as torch's autograd)."""

    def f(self, x: float) -> float:
        return activations.relu(x)

    def f_prime(self, x: float, y: float) -> float:
        return activations.relu_derivative(x)


class LeakyReLU(_Elementwise):
    """x for x > 0, else negative_slope·x (torch.nn.LeakyReLU(negative_slope=0.01))."""

    def __init__(self, negative_slope: float = activations.LEAKY_SLOPE) -> None:
        super().__init__()
        self.negative_slope = real_number("LeakyReLU", "negative_slope", negative_slope)

    def __repr__(self) -> str:
        return f"LeakyReLU(negative_slope={self.negative_slope!r})"

    def f(self, x: float) -> float:
        return x if x > 0 else self.negative_slope * x

    def f_prime(self, x: float, y: float) -> float:
        return 1.0 if x > 0 else self.negative_slope  # the left slope at x = 0, as torch


class Sigmoid(_Elementwise):
    """σ(x) = 1 / (1 + e^−x); σ′ = σ·(1 − σ), from the output."""

    def f(self, x: float) -> float:
        return activations.sigmoid(x)

    def f_prime(self, x: float, y: float) -> float:
        return activations.sigmoid_derivative(y)


class Tanh(_Elementwise):
    """tanh(x); tanh′ = 1 − tanh², from the output."""

    def f(self, x: float) -> float:
        return activations.tanh(x)

    def f_prime(self, x: float, y: float) -> float:
        return activations.tanh_derivative(y)


class Identity(_Elementwise):
    """x; its derivative 1 (torch.nn.Identity)."""

    def f(self, x: float) -> float:
        return activations.identity(x)

    def f_prime(self, x: float, y: float) -> float:
        return activations.identity_derivative(x)


class Softmax(Layer):
    """softmax along the last dimension, as torch.nn.Softmax(dim=-1).

    Shapes: any (…, K) → the same. For each row s = softmax(z) of K entries,

        forward    s_k = e^(z_k − max z) / Σ_j e^(z_j − max z)
        backward   ∂loss/∂z_k = s_k·(g_k − Σ_j g_j·s_j),  g = ∂loss/∂s

    (the product of g with the Jacobian s_k·([k = j] − s_j)). Only the last
    dimension: torch's other ``dim`` values are refused.
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"Softmax: dim must be an int, got {dim!r}")
        self.dim = dim

    def __repr__(self) -> str:
        return f"Softmax(dim={self.dim})"

    def forward(self, x: Tensor) -> Tensor:
        rank = max(1, _rank(x))
        shape = shape_of("Softmax", "input", x, rank)
        if self.dim not in (-1, rank - 1):
            raise ValueError(f"Softmax: dim must be the last dimension (-1 or {rank - 1}) of a"
                             f" rank-{rank} input, got {self.dim}")
        s = _rows(activations.softmax, x)
        self._saved = {"s": s, "shape": shape}
        return s

    def backward(self, grad_output: Tensor) -> Tensor:
        saved = self._saved_for_backward()
        shape = saved["shape"]
        if shape_of("Softmax", "grad_output", grad_output, len(shape)) != shape:
            raise ValueError(f"Softmax: grad_output must have the output's shape {shape}, got"
                             f" {shape_of('Softmax', 'grad_output', grad_output, len(shape))}")
        self.grads = {}

        def row_gradient(g: List[float], s: List[float]) -> List[float]:
            g_dot_s = total(gj * sj for gj, sj in zip(g, s))
            return [sk * (gk - g_dot_s) for gk, sk in zip(g, s)]

        return _rows(row_gradient, grad_output, saved["s"])


def _rows(f: Callable[..., Any], *tensors: Tensor) -> Tensor:
    """f applied to each last-dimension row of tensors of one shape."""
    if isinstance(tensors[0][0], list):
        return [_rows(f, *parts) for parts in zip(*tensors)]
    return f(*tensors)
