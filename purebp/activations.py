"""Activation functions, each with its derivative beside it.

Contents:

    sigmoid(x)               σ(x) = 1 / (1 + e^−x), for any float
    sigmoid_derivative(s)    σ′ written in terms of the OUTPUT s = σ(x): s·(1 − s)

These work on one number at a time; apply them to a matrix with
``purebp.matrix.apply``. What this module does not hold (yet): other
activations, which come with the general network.
"""

from __future__ import annotations

import math

# Below this, e^−x would overflow a float (e^709.78... is the largest finite
# one). There 1 + e^x rounds to exactly 1, so σ(x) = e^x / (1 + e^x) = e^x.
_SIGMOID_EXP_LIMIT = -708.0


def sigmoid(x: float) -> float:
    """Return σ(x) = 1 / (1 + e^−x), a number in [0, 1].

    Defined for every float: it never raises OverflowError.

    >>> sigmoid(0.0)
    0.5
    >>> sigmoid(-1000.0), sigmoid(1000.0)
    (0.0, 1.0)
    """
    if x < _SIGMOID_EXP_LIMIT:
        # The textbook form would compute e^−x and overflow; this is exact here.
        return math.exp(x)
    # Everywhere else the textbook form itself, the one the tutorial evaluates,
    # so our numbers agree with it bit for bit.
    return 1.0 / (1.0 + math.exp(-x))


def sigmoid_derivative(s: float) -> float:
    """Return σ′ at the point whose sigmoid is s, that is s·(1 − s).

    Note the argument: s is the sigmoid's OUTPUT s = σ(x), not its input x.
    σ′(x) = σ(x)·(1 − σ(x)), and the forward pass has σ(x) at hand already,
    so backpropagation passes that in (the tutorial does the same). Passing
    x instead is a classic bug: it gives x·(1 − x), not σ′(x).

    >>> sigmoid_derivative(sigmoid(0.0))  # σ′(0) = 0.5·0.5
    0.25
    """
    return s * (1.0 - s)
