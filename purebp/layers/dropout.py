"""Dropout: each entry zeroed with probability p in training mode, the rest scaled by 1/(1 − p).

    forward    y = x · mask / (1 − p),  mask entries 1 with probability 1 − p, else 0
    backward   ∂loss/∂x = ∂loss/∂y · mask / (1 − p)

(inverted dropout, as torch.nn.Dropout: the expected output equals the input,
so evaluation mode is the identity). p = 1 zeroes everything, as torch does.
"""

from __future__ import annotations

import random
from typing import Optional

from purebp._checks import real_number
from purebp.layers.base import Layer, default_generator
from purebp.layers.tensor import Tensor, flat, rank_of, shape_of, unflat


class Dropout(Layer):
    """torch.nn.Dropout(p=0.5), its masks drawn from a seeded generator, or given.

    Shapes: any → the same. The mask of each forward in training mode is
    drawn from ``generator`` (default: the layers' default_generator; a
    Sequential built with a seed gives its own): entry by entry in order,
    ``generator.random() >= p``. Give the mask yourself with
    ``forward(x, mask=...)``, a tensor of 0s and 1s of x's shape (what a
    test of another library's dropout does). The last one used is ``mask``.
    """

    def __init__(self, p: float = 0.5, generator: Optional[random.Random] = None) -> None:
        super().__init__()
        self.p = real_number("Dropout", "p", p)
        if not 0 <= self.p <= 1:
            raise ValueError(f"Dropout: p must be from 0 to 1, got {p!r}")
        self.generator = generator
        #: The mask of the last forward in training mode (None before one).
        self.mask: Optional[Tensor] = None

    def __repr__(self) -> str:
        return f"Dropout(p={self.p!r})"

    def _scale(self) -> float:
        return 0.0 if self.p == 1 else 1.0 / (1.0 - self.p)

    def forward(self, x: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        shape = shape_of("Dropout", "input", x, rank_of(x))
        if not self.training:
            if mask is not None:
                raise ValueError("Dropout: mask must not be given in evaluation mode, where"
                                 " dropout is the identity; got one")
            self._saved = {"shape": shape, "mask": None}
            return x
        if mask is None:
            rng = default_generator if self.generator is None else self.generator
            m = [1.0 if rng.random() >= self.p else 0.0 for _ in range(len(flat(x)))]
        else:
            if shape_of("Dropout", "mask", mask, len(shape)) != shape:
                raise ValueError(f"Dropout: mask must have the input's shape {shape}, got"
                                 f" {shape_of('Dropout', 'mask', mask, len(shape))}")
            m = flat(mask)
            if any(v not in (0, 1) for v in m):
                raise ValueError("Dropout: mask must hold only 0s and 1s, got"
                                 f" {next(v for v in m if v not in (0, 1))!r}")
        scale = self._scale()
        self.mask = unflat([float(v) for v in m], shape)
        self._saved = {"shape": shape, "mask": m}
        return unflat([v * k * scale for v, k in zip(flat(x), m)], shape)

    def backward(self, grad_output: Tensor) -> Tensor:
        saved = self._saved_for_backward()
        shape = saved["shape"]
        if shape_of("Dropout", "grad_output", grad_output, len(shape)) != shape:
            raise ValueError(f"Dropout: grad_output must have the output's shape {shape}, got"
                             f" {shape_of('Dropout', 'grad_output', grad_output, len(shape))}")
        self.grads = {}
        if saved["mask"] is None:
            return grad_output
        scale = self._scale()
        return unflat([g * k * scale for g, k in zip(flat(grad_output), saved["mask"])], shape)
