"""Linear: the dense layer, y = x·Wᵀ + b, in torch.nn.Linear's layout (weight is out × in).

The same algebra as the general network's (F1) and (BP3), (BP4) (docs/backprop.md),
with the weight stored the other way round, as PyTorch stores it:
Network's W[l][i][j] is Linear's weight[j][i].
"""

from __future__ import annotations

import math
import random
from typing import List, Optional

from purebp.layers.base import Layer, check_parameter_count, checked_size, default_generator
from purebp.layers.tensor import Tensor, shape_of, total


class Linear(Layer):
    """y = x·Wᵀ + b, as torch.nn.Linear(in_features, out_features, bias=True).

    Shapes: x (N, in_features) → y (N, out_features); weight (out_features,
    in_features); bias (out_features,). Only 2-D inputs (torch also takes
    more leading dimensions).

        forward    y[n][o] = Σ_i x[n][i]·W[o][i] + b[o]
        backward   with g = ∂loss/∂y:
                   ∂loss/∂x[n][i] = Σ_o g[n][o]·W[o][i]
                   ∂loss/∂W[o][i] = Σ_n g[n][o]·x[n][i]
                   ∂loss/∂b[o]    = Σ_n g[n][o]

    The first weights are torch's: every entry of weight and bias uniform on
    [−1/√in_features, 1/√in_features], from ``generator`` (default: the
    layers' default_generator).

    >>> layer = Linear(2, 1)
    >>> layer.weight, layer.bias = [[1.0, -2.0]], [0.5]
    >>> layer.forward([[3.0, 1.0]])
    [[1.5]]
    >>> layer.backward([[1.0]])
    [[1.0, -2.0]]
    >>> layer.grads
    {'weight': [[3.0, 1.0]], 'bias': [1.0]}
    """

    PARAMETERS = ("weight", "bias")

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 generator: Optional[random.Random] = None) -> None:
        super().__init__()
        self.in_features = checked_size("Linear", "in_features", in_features)
        self.out_features = checked_size("Linear", "out_features", out_features)
        check_parameter_count("Linear", (self.in_features + 1) * self.out_features)
        rng = default_generator if generator is None else generator
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight: Tensor = [[rng.uniform(-bound, bound) for _ in range(self.in_features)]
                               for _ in range(self.out_features)]
        self.bias: Optional[Tensor] = ([rng.uniform(-bound, bound) for _ in range(self.out_features)]
                                       if bias else None)

    def __repr__(self) -> str:
        return (f"Linear(in_features={self.in_features}, out_features={self.out_features},"
                f" bias={self.bias is not None})")

    def forward(self, x: Tensor) -> Tensor:
        N, I = shape_of("Linear", "input", x, 2)
        if I != self.in_features:
            raise ValueError(f"Linear: input must be N × {self.in_features} (in_features), got"
                             f" {N} × {I}")
        W, b = self.weight, self.bias
        y: List[List[float]] = []
        for n in range(N):
            row = []
            for o in range(self.out_features):
                total = 0.0
                for i in range(I):
                    total += x[n][i] * W[o][i]
                row.append(total + b[o] if b is not None else total)
            y.append(row)
        self._saved = {"x": x}
        return y

    def backward(self, grad_output: Tensor) -> Tensor:
        x = self._saved_for_backward()["x"]
        N, I, O = len(x), self.in_features, self.out_features
        g = grad_output
        if shape_of("Linear", "grad_output", g, 2) != (N, O):
            raise ValueError(f"Linear: grad_output must be {N} × {O} (the output's shape), got"
                             f" {len(g)} × {len(g[0])}")
        W = self.weight
        grad_x = [[total(g[n][o] * W[o][i] for o in range(O)) for i in range(I)] for n in range(N)]
        self.grads = {"weight": [[total(g[n][o] * x[n][i] for n in range(N)) for i in range(I)]
                                 for o in range(O)]}
        if self.bias is not None:
            self.grads["bias"] = [total(g[n][o] for n in range(N)) for o in range(O)]
        return grad_x

