"""BatchNorm1d, BatchNorm2d and LayerNorm, with their three-term input gradients.

Both normalise a group of m values x_k by its mean and (biased) variance,
then scale and shift:

    μ = (1/m) Σ_k x_k        σ² = (1/m) Σ_k (x_k − μ)²        x̂_k = (x_k − μ) / √(σ² + eps)
    y_k = γ·x̂_k + β

and, since μ and σ² depend on every x_k, the input gradient has three terms
(docs/layers.md derives it): with g = ∂loss/∂y and ĝ_k = g_k·γ,

    ∂loss/∂x_k = (1 / (m·√(σ² + eps))) · (m·ĝ_k − Σ_j ĝ_j − x̂_k · Σ_j ĝ_j·x̂_j)
    ∂loss/∂γ = Σ_k g_k·x̂_k        ∂loss/∂β = Σ_k g_k

BatchNorm's group is one channel over the batch (and the positions);
LayerNorm's is one sample over its last dimensions. In evaluation mode
BatchNorm uses its running statistics, which are constants: then
∂loss/∂x_k = ĝ_k / √(running_var + eps).
"""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, Tuple

from purebp._checks import _describe, real_number
from purebp.layers.base import Layer, check_parameter_count, checked_size
from purebp.layers.tensor import Tensor, flat, rank_of, shape_of, total, unflat


def _normalize(values: Sequence[float], eps: float) -> Tuple[List[float], float, float]:
    """(x̂, μ, σ²) of one group: x̂_k = (x_k − μ) / √(σ² + eps), σ² the biased variance."""
    m = len(values)
    mean = total(values) / m
    var = total((x - mean) * (x - mean) for x in values) / m  # d·d: inf, not an error, if huge
    inv_std = 1.0 / math.sqrt(var + eps)
    return [(x - mean) * inv_std for x in values], mean, var


def _input_gradient(g_hat: Sequence[float], x_hat: Sequence[float], var: float,
                    eps: float) -> List[float]:
    """The three-term ∂loss/∂x_k of a normalised group, from ĝ_k = g_k·γ and x̂."""
    m = len(g_hat)
    sum_g = total(g_hat)
    sum_gx = total(g * x for g, x in zip(g_hat, x_hat))
    scale = 1.0 / (m * math.sqrt(var + eps))
    return [scale * (m * g - sum_g - x * sum_gx) for g, x in zip(g_hat, x_hat)]


class _BatchNorm(Layer):
    """What BatchNorm1d and BatchNorm2d share; RANKS are the input ranks each takes."""

    PARAMETERS = ("weight", "bias")
    BUFFERS = ("running_mean", "running_var", "num_batches_tracked")
    RANKS: Tuple[int, ...] = ()
    NAME = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: Optional[float] = 0.1,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        op = self.NAME
        self.num_features = checked_size(op, "num_features", num_features)
        self.eps = real_number(op, "eps", eps)
        if not self.eps > 0:
            raise ValueError(f"{op}: eps must be > 0, got {eps!r}")
        if momentum is not None:
            momentum = real_number(op, "momentum", momentum)
            if not 0 <= momentum <= 1:
                raise ValueError(f"{op}: momentum must be from 0 to 1, or None, got {momentum!r}")
        self.momentum = momentum
        for name, flag in (("affine", affine), ("track_running_stats", track_running_stats)):
            if not isinstance(flag, bool):
                raise TypeError(f"{op}: {name} must be True or False, got {_describe(flag)}")
        C = self.num_features
        self.weight: Optional[Tensor] = [1.0] * C if affine else None
        self.bias: Optional[Tensor] = [0.0] * C if affine else None
        self.track_running_stats = track_running_stats
        self.running_mean: Tensor = [0.0] * C
        self.running_var: Tensor = [1.0] * C
        self.num_batches_tracked = 0

    def buffers(self) -> Dict[str, Tensor]:
        return super().buffers() if self.track_running_stats else {}

    def __repr__(self) -> str:
        return (f"{self.NAME}({self.num_features}, eps={self.eps!r}, momentum={self.momentum!r},"
                f" affine={self.weight is not None},"
                f" track_running_stats={self.track_running_stats})")

    def _channels(self, x: Tensor) -> Tuple[Tuple[int, ...], List[List[float]]]:
        """The input's shape, and each channel's values over the batch and positions."""
        depth = rank_of(x)
        if depth not in self.RANKS:
            wanted = " or ".join(self._layout(r) for r in self.RANKS)
            raise ValueError(f"{self.NAME}: input must be {wanted}, got a rank-{depth} tensor")
        shape = shape_of(self.NAME, "input", x, depth)
        if shape[1] != self.num_features:
            raise ValueError(f"{self.NAME}: input must have {self.num_features} channels"
                             f" (num_features) in dimension 1, got shape {shape}")
        positions = 1
        for d in shape[2:]:
            positions *= d
        values = flat(x)
        per_sample = self.num_features * positions
        channels = [[values[n * per_sample + c * positions + k]
                     for n in range(shape[0]) for k in range(positions)]
                    for c in range(self.num_features)]
        return shape, channels

    @staticmethod
    def _layout(rank: int) -> str:
        return {2: "N × C", 3: "N × C × L", 4: "N × C × H × W"}[rank]

    @staticmethod
    def _tensor(channels: List[List[float]], shape: Tuple[int, ...]) -> Tensor:
        """The inverse of _channels: per-channel values back into a tensor of ``shape``."""
        N, C = shape[0], shape[1]
        positions = len(channels[0]) // N
        values = [channels[c][n * positions + k]
                  for n in range(N) for c in range(C) for k in range(positions)]
        return unflat(values, shape)

    def forward(self, x: Tensor) -> Tensor:
        shape, channels = self._channels(x)
        use_batch = self.training or not self.track_running_stats
        gamma = self.weight or [1.0] * self.num_features
        beta = self.bias or [0.0] * self.num_features
        out: List[List[float]] = []
        x_hats: List[List[float]] = []
        variances: List[float] = []
        if use_batch and len(channels[0]) < 2:
            raise ValueError(f"{self.NAME}: input must have more than one value per channel in"
                             f" training mode (as torch), got shape {shape}; use eval() for one")
        means: List[float] = []
        for c, values in enumerate(channels):
            if use_batch:
                x_hat, mean, var = _normalize(values, self.eps)
            else:
                mean, var = self.running_mean[c], self.running_var[c]
                inv_std = 1.0 / math.sqrt(var + self.eps)
                x_hat = [(v - mean) * inv_std for v in values]
            out.append([gamma[c] * v + beta[c] for v in x_hat])
            x_hats.append(x_hat)
            means.append(mean)
            variances.append(var)
        if use_batch and self.training and self.track_running_stats:
            # only now, every channel done: a failure above changes no statistic
            self.num_batches_tracked += 1
            factor = 1.0 / self.num_batches_tracked if self.momentum is None else self.momentum
            m = len(channels[0])
            for c in range(self.num_features):
                # torch: the running variance takes the unbiased variance, m/(m − 1)·σ²
                self.running_mean[c] = (1 - factor) * self.running_mean[c] + factor * means[c]
                self.running_var[c] = ((1 - factor) * self.running_var[c]
                                       + factor * variances[c] * m / (m - 1))
        self._saved = {"shape": shape, "x_hat": x_hats, "var": variances, "batch": use_batch}
        return self._tensor(out, shape)

    def backward(self, grad_output: Tensor) -> Tensor:
        saved = self._saved_for_backward()
        shape = saved["shape"]
        found = shape_of(self.NAME, "grad_output", grad_output, len(shape))
        if found != shape:
            raise ValueError(f"{self.NAME}: grad_output must have the output's shape {shape},"
                             f" got {found}")
        _, g_channels = self._channels(grad_output)
        gamma = self.weight or [1.0] * self.num_features
        grad_x, grad_gamma, grad_beta = [], [], []
        for c, g in enumerate(g_channels):
            x_hat, var = saved["x_hat"][c], saved["var"][c]
            g_hat = [gk * gamma[c] for gk in g]
            if saved["batch"]:
                grad_x.append(_input_gradient(g_hat, x_hat, var, self.eps))
            else:  # the running statistics are constants
                inv_std = 1.0 / math.sqrt(var + self.eps)
                grad_x.append([gk * inv_std for gk in g_hat])
            grad_gamma.append(total(gk * xk for gk, xk in zip(g, x_hat)))
            grad_beta.append(total(g))
        self.grads = {} if self.weight is None else {"weight": grad_gamma, "bias": grad_beta}
        return self._tensor(grad_x, shape)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over N (and L), as torch.nn.BatchNorm1d(num_features, eps=1e-5,
    momentum=0.1, affine=True, track_running_stats=True).

    Shapes: (N, C) or (N, C, L) → the same; weight, bias, running_mean,
    running_var (C,); num_batches_tracked an int. In training mode (the
    default) each channel is normalised by its batch mean and biased
    variance, and the running statistics move toward them (the variance's
    unbiased form, as torch); ``eval()`` normalises by the running ones.
    """

    RANKS = (2, 3)
    NAME = "BatchNorm1d"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over N, H and W, as torch.nn.BatchNorm2d(num_features, ...).

    Shapes: (N, C, H, W) → the same; everything else as BatchNorm1d.
    """

    RANKS = (4,)
    NAME = "BatchNorm2d"


class LayerNorm(Layer):
    """Normalisation of each sample over its last dimensions, as
    torch.nn.LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True).

    Shapes: (…, *normalized_shape) → the same; weight and bias have the shape
    normalized_shape (ones and zeros at first), one γ and β per position.
    Each group is one sample's entries over those dimensions (m of them):

        y = γ ⊙ x̂ + β,  x̂ as above;  ∂loss/∂x from ĝ = g ⊙ γ by the three-term rule;
        ∂loss/∂γ = Σ over the groups of g ⊙ x̂,  ∂loss/∂β = Σ over the groups of g
    """

    PARAMETERS = ("weight", "bias")

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True) -> None:
        super().__init__()
        op = "LayerNorm"
        dims = [normalized_shape] if isinstance(normalized_shape, int) else list(normalized_shape)
        if not dims:
            raise ValueError(f"{op}: normalized_shape must have at least one size, got {dims}")
        self.normalized_shape = tuple(checked_size(op, "normalized_shape", d) for d in dims)
        self.eps = real_number(op, "eps", eps)
        if not self.eps > 0:
            raise ValueError(f"{op}: eps must be > 0, got {eps!r}")
        m = 1
        for d in self.normalized_shape:
            m *= d
        check_parameter_count(op, 2 * m)
        self.weight: Optional[Tensor] = (unflat([1.0] * m, self.normalized_shape)
                                         if elementwise_affine else None)
        self.bias: Optional[Tensor] = (unflat([0.0] * m, self.normalized_shape)
                                       if elementwise_affine else None)

    def __repr__(self) -> str:
        return (f"LayerNorm({self.normalized_shape}, eps={self.eps!r},"
                f" elementwise_affine={self.weight is not None})")

    def _groups(self, x: Tensor, name: str) -> Tuple[Tuple[int, ...], List[List[float]]]:
        shape = shape_of("LayerNorm", name, x, rank_of(x))
        k = len(self.normalized_shape)
        if shape[len(shape) - k:] != self.normalized_shape:
            raise ValueError(f"LayerNorm: {name} must end in the dimensions"
                             f" {self.normalized_shape} (normalized_shape), got shape {shape}")
        values = flat(x)
        m = len(values) // max(1, _count(shape[:len(shape) - k]))
        return shape, [values[i:i + m] for i in range(0, len(values), m)]

    def forward(self, x: Tensor) -> Tensor:
        shape, groups = self._groups(x, "input")
        m = len(groups[0])
        gamma = flat(self.weight) if self.weight is not None else [1.0] * m
        beta = flat(self.bias) if self.bias is not None else [0.0] * m
        out: List[float] = []
        saved = []
        for values in groups:
            x_hat, _, var = _normalize(values, self.eps)
            out.extend(gamma[k] * x_hat[k] + beta[k] for k in range(m))
            saved.append((x_hat, var))
        self._saved = {"shape": shape, "groups": saved}
        return unflat(out, shape)

    def backward(self, grad_output: Tensor) -> Tensor:
        saved = self._saved_for_backward()
        shape, g_groups = self._groups(grad_output, "grad_output")
        if shape != saved["shape"]:
            raise ValueError(f"LayerNorm: grad_output must have the output's shape"
                             f" {saved['shape']}, got {shape}")
        m = len(g_groups[0])
        gamma = flat(self.weight) if self.weight is not None else [1.0] * m
        grad_x: List[float] = []
        grad_gamma, grad_beta = [0.0] * m, [0.0] * m
        for g, (x_hat, var) in zip(g_groups, saved["groups"]):
            g_hat = [g[k] * gamma[k] for k in range(m)]
            grad_x.extend(_input_gradient(g_hat, x_hat, var, self.eps))
            for k in range(m):
                grad_gamma[k] += g[k] * x_hat[k]
                grad_beta[k] += g[k]
        self.grads = ({} if self.weight is None else
                      {"weight": unflat(grad_gamma, self.normalized_shape),
                       "bias": unflat(grad_beta, self.normalized_shape)})
        return unflat(grad_x, shape)


def _count(dims: Sequence[int]) -> int:
    n = 1
    for d in dims:
        n *= d
    return n



