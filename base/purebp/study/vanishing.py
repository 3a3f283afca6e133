"""Vanishing and exploding gradients, in numbers: the norm of every layer's gradient.

    frobenius          ‖M‖ = √(Σ m²) of a matrix
    gradient_norms     ‖∂bce/∂W_l‖ for every layer l of a fresh deep network
    experiment         those norms for several (activation, init) pairs, on moons
    first_to_last      ‖∂/∂W_0‖ / ‖∂/∂W_out‖, the ratio that shows vanishing
    CONFIGURATIONS     the pairs ``purebp vanishing`` shows by default

The network is [inputs] + [width] × depth + [1], with a sigmoid output and
bce, seen at initialisation (no training step). This module only computes;
``purebp vanishing`` (purebp.cli.vanishing) prints the table, and
purebp.study.plots draws the picture.
"""

from __future__ import annotations

import math
from typing import List, Optional, Sequence, Tuple

from purebp._types import Matrix
from purebp.datasets import moons
from purebp.network import Network

#: (hidden activation, init) pairs shown by default: the tutorial's sigmoid with
#: its standard normal, then the usual remedies, then relu's explosion.
CONFIGURATIONS: Tuple[Tuple[str, str], ...] = (
    ("sigmoid", "normal"), ("sigmoid", "xavier"), ("tanh", "xavier"), ("relu", "he"),
    ("relu", "normal"),
)


def frobenius(matrix: Sequence[Sequence[float]]) -> float:
    """Return ‖M‖ = √(Σ m²), the Frobenius norm.

    math.fsum adds the squares exactly, so the norm does not depend on their order.

    >>> frobenius([[3.0, 0.0], [0.0, 4.0]])
    5.0
    """
    return math.sqrt(math.fsum(m * m for row in matrix for m in row))


def gradient_norms(activation: str, init: str, depth: int, width: int,
                   X: Matrix, y: Matrix, seed: Optional[int]) -> List[float]:
    """Return ‖∂bce/∂weights[l]‖ for every layer l of a fresh deep network: depth + 1 norms.

    >>> X, y = moons(n=8, seed=0)
    >>> len(gradient_norms("tanh", "xavier", 3, 4, X, y, seed=0))
    4
    """
    net = Network([len(X[0])] + [width] * depth + [1], activation, "sigmoid", "bce", init, seed)
    return [frobenius(g) for g in net.gradients(X, y)["weights"]]


def experiment(configurations: Sequence[Tuple[str, str]], depth: int, width: int,
               samples: int, seed: int) -> List[Tuple[str, List[float]]]:
    """Return ("activation:init", its per-layer norms) for each pair, in the order given.

    The data is ``samples`` moons drawn with ``seed``; the same seed draws
    every configuration's weights.

    >>> [(name, len(norms)) for name, norms in
    ...  experiment([("sigmoid", "normal"), ("relu", "he")], depth=2, width=3, samples=8, seed=0)]
    [('sigmoid:normal', 3), ('relu:he', 3)]
    """
    X, y = moons(n=samples, seed=seed)
    return [(f"{activation}:{init}", gradient_norms(activation, init, depth, width, X, y, seed))
            for activation, init in configurations]


def first_to_last(norms: Sequence[float]) -> Optional[float]:
    """Return the first layer's norm over the output layer's: far below 1 means vanishing.

    inf when only the output layer's gradient is 0; None when both are (every
    unit dead, as relu's can be), for then there is no ratio to show.

    >>> first_to_last([1e-3, 0.5]), first_to_last([1.0, 0.0]), first_to_last([0.0, 0.0])
    (0.002, inf, None)
    """
    first, last = norms[0], norms[-1]
    if last > 0:
        return first / last
    return math.inf if first > 0 else None
