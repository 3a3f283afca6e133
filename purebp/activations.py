"""Activation functions, each with its derivative beside it.

Contents:

    sigmoid(x)                 σ(x) = 1 / (1 + e^−x), for any float
    sigmoid_derivative(s)      σ′ written in terms of the OUTPUT s = σ(x): s·(1 − s)
    tanh(x)                    tanh(x), for any float
    tanh_derivative(t)         tanh′ written in terms of the OUTPUT t = tanh(x): 1 − t²
    relu(x)                    max(0, x)
    relu_derivative(x)         1 for x > 0, else 0 (0 at the kink x = 0)
    leaky_relu(x)              x for x > 0, else 0.01·x
    leaky_relu_derivative(x)   1 for x > 0, else 0.01 (0.01 at the kink x = 0)
    identity(x)                x
    identity_derivative(x)     1
    softmax(row)               e^z_k / Σ_j e^z_j over one row, for any floats
    softmax_jacobian(s)        ∂s_k/∂z_j = s_k·([k = j] − s_j), from the OUTPUT row s

    Activation, ACTIVATIONS    the table the general network looks names up in

Each element-wise activation also has its *written-out form*, the same two
expressions as Python source text with ``{z}`` (the input) and ``{a}`` (the
output) to fill in, for the written-out training code of purebp.fast. It
sits right below the functions it restates, and tests/test_activations.py
holds the two forms to the same bits. softmax, which acts on a whole row,
has a written-out form of its own (``SOFTMAX_CODE``, steps of ``RowStep``),
for the output layer the written-out code gives cross_entropy.

sigmoid and tanh have derivatives that are cheapest and exact in terms of
their output, which the forward pass keeps anyway, so their derivative
functions take the output (as the tutorial's does). relu, leaky_relu and
identity take the input. Each ``Activation`` hides that choice behind one
``f_prime(z, a)``, the derivative f′ at z given both z and a = f(z).

At the kink x = 0, relu and leaky_relu use the derivative PyTorch's autograd
uses: relu′(0) = 0 and leaky_relu′(0) = 0.01 (the left-hand slope), so
gradients compared against PyTorch agree even there.

Element-wise functions work on one number; apply them to a matrix with
``purebp.matrix.apply``. softmax works on a row. What this module does not do:
losses (see ``purebp.losses``), or softmax anywhere but on an output layer
(the general network refuses that, since only cross_entropy's combined
gradient is implemented for it).
"""

from __future__ import annotations

import math
from typing import Callable, Dict, List, NamedTuple, Sequence, Tuple

# Below this, e^−x would overflow a float (e^709.78... is the largest finite
# one). There 1 + e^x rounds to exactly 1, so σ(x) = e^x / (1 + e^x) = e^x.
_SIGMOID_EXP_LIMIT = -708.0

#: The slope of leaky_relu for x ≤ 0 (PyTorch's default negative_slope).
LEAKY_SLOPE = 0.01


class WrittenOut(NamedTuple):
    """An activation as source text: f with {z} to fill in, f′ with {z} and {a} = f(z).

    The names it may call are ``exp`` and ``tanh`` (math's); purebp.fast
    builds its code from these.

    >>> TANH_CODE.f.format(z="z0_1")
    'tanh(z0_1)'
    """

    f: str
    f_prime: str


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


#: σ and σ′ written out (purebp.fast): the expressions ``sigmoid`` and
#: ``sigmoid_derivative`` evaluate, the branch included.
SIGMOID_CODE = WrittenOut(
    f"exp({{z}}) if {{z}} < {_SIGMOID_EXP_LIMIT!r} else 1.0 / (1.0 + exp(-{{z}}))",
    "{a} * (1.0 - {a})")


def tanh(x: float) -> float:
    """Return tanh(x), a number in [−1, 1]; math.tanh never overflows.

    >>> tanh(0.0), tanh(800.0)
    (0.0, 1.0)
    """
    return math.tanh(x)


def tanh_derivative(t: float) -> float:
    """Return tanh′ at the point whose tanh is t, that is 1 − t².

    Like ``sigmoid_derivative``, it takes the OUTPUT t = tanh(x), not x.

    >>> tanh_derivative(tanh(0.0))
    1.0
    """
    return 1.0 - t * t


#: tanh and tanh′ written out (purebp.fast).
TANH_CODE = WrittenOut("tanh({z})", "1.0 - {a} * {a}")


def relu(x: float) -> float:
    """Return max(0, x).

    >>> relu(-2.0), relu(3.0)
    (0.0, 3.0)
    """
    return x if x > 0.0 else 0.0


def relu_derivative(x: float) -> float:
    """Return relu′(x): 1 for x > 0, else 0. Takes the INPUT x; relu′(0) = 0.

    >>> relu_derivative(-1.0), relu_derivative(0.0), relu_derivative(1.0)
    (0.0, 0.0, 1.0)
    """
    return 1.0 if x > 0.0 else 0.0


#: relu and relu′ written out (purebp.fast).
RELU_CODE = WrittenOut("{z} if {z} > 0.0 else 0.0", "1.0 if {z} > 0.0 else 0.0")


def leaky_relu(x: float) -> float:
    """Return x for x > 0, else 0.01·x.

    >>> leaky_relu(-2.0), leaky_relu(3.0)
    (-0.02, 3.0)
    """
    return x if x > 0.0 else LEAKY_SLOPE * x


def leaky_relu_derivative(x: float) -> float:
    """Return leaky_relu′(x): 1 for x > 0, else 0.01. Takes the INPUT x.

    >>> leaky_relu_derivative(0.0), leaky_relu_derivative(1.0)
    (0.01, 1.0)
    """
    return 1.0 if x > 0.0 else LEAKY_SLOPE


#: leaky_relu and leaky_relu′ written out (purebp.fast).
LEAKY_RELU_CODE = WrittenOut(f"{{z}} if {{z}} > 0.0 else {LEAKY_SLOPE!r} * {{z}}",
                             f"1.0 if {{z}} > 0.0 else {LEAKY_SLOPE!r}")


def identity(x: float) -> float:
    """Return x unchanged (a linear layer).

    >>> identity(-2.5)
    -2.5
    """
    return x


def identity_derivative(x: float) -> float:
    """Return 1, the identity's derivative everywhere.

    >>> identity_derivative(7.0)
    1.0
    """
    return 1.0


#: identity and its derivative written out (purebp.fast).
IDENTITY_CODE = WrittenOut("{z}", "1.0")


def softmax(row: Sequence[float]) -> List[float]:
    """Return the softmax of one row: e^z_k / Σ_j e^z_j, entries in [0, 1].

    Subtracting the row's largest entry first leaves the result unchanged
    mathematically and keeps every exponent ≤ 0, so nothing overflows:

    >>> softmax([1000.0, 1000.0])
    [0.5, 0.5]
    """
    top = max(row)
    exps = [math.exp(z - top) for z in row]
    total = 0.0
    for e in exps:  # left to right, not sum(): see purebp.matrix._dot
        total += e
    return [e / total for e in exps]


def softmax_jacobian(s: Sequence[float]) -> List[List[float]]:
    """Return the Jacobian ∂s_k/∂z_j = s_k·([k = j] − s_j), from the OUTPUT row s.

    Softmax is not element-wise, so its derivative is a matrix per row. The
    general network never needs it: with cross_entropy the product of this
    Jacobian with ∂L/∂s collapses to (s − y)/n (see ``purebp.losses``).

    >>> softmax_jacobian([0.5, 0.5])
    [[0.25, -0.25], [-0.25, 0.25]]
    """
    return [[s_k * ((1.0 if k == j else 0.0) - s_j) for j, s_j in enumerate(s)]
            for k, s_k in enumerate(s)]


class RowStep(NamedTuple):
    """One step of a row's written-out code (purebp.fast): ``target = text``, per row or entry.

    ``kind`` says how often and how: ``"row"``, one line for the row, with
    {z_row} the row's logits as a tuple, ``(z1_0, z1_1)``; ``"entry"``, one line per entry
    k, with {k}, {z} (the logit), {a} (the output) and {y} (the target) of
    entry k filled in, in target and text; ``"sum"``, target = 0.0 + text_0 +
    text_1 + ..., each text_k filled in for entry k and added in index order,
    as ``softmax`` and purebp.losses add a row. ``comment``, if any, is
    written on a line of its own before the step's lines.

    >>> RowStep("entry", "u_{k}", "exp({z} - top)").text.format(z="z1_0")
    'exp(z1_0 - top)'
    """

    kind: str
    target: str
    text: str
    comment: str = ""


#: softmax written out (purebp.fast), row by row: the expressions ``softmax``
#: evaluates, top = max(z) (the first of equal maxima), u_k = e^(z_k − top)
#: for every k, the maximum's own included, their sum from 0.0 up the index,
#: then ŷ_k = u_k / Σ_j u_j. (cross_entropy's written-out form reuses top and
#: u_k: ``_log_softmax_parts`` evaluates the same max and exponentials.)
SOFTMAX_CODE: Tuple[RowStep, ...] = (
    RowStep("row", "top", "max({z_row})", "softmax of the row: top = max(z), the first of equal maxima"),
    RowStep("entry", "u_{k}", "exp({z} - top)", "u_k = e^(z_k − top) ≤ 1, for every k"),
    RowStep("sum", "u_sum", "u_{k}", "Σ_j u_j, from 0.0 up the index"),
    RowStep("entry", "{a}", "u_{k} / u_sum", "ŷ_k = u_k / Σ_j u_j"),
)


class Activation(NamedTuple):
    """An element-wise activation: its name, f, f′(z, a) at z given a = f(z), both written out."""

    name: str
    f: Callable[[float], float]
    f_prime: Callable[[float, float], float]
    code: WrittenOut


#: The element-wise activations by name. softmax is not among them: it acts
#: on whole rows and only as an output layer with cross_entropy.
ACTIVATIONS: Dict[str, Activation] = {
    "identity": Activation("identity", identity, lambda z, a: identity_derivative(z),
                           IDENTITY_CODE),
    "sigmoid": Activation("sigmoid", sigmoid, lambda z, a: sigmoid_derivative(a), SIGMOID_CODE),
    "tanh": Activation("tanh", tanh, lambda z, a: tanh_derivative(a), TANH_CODE),
    "relu": Activation("relu", relu, lambda z, a: relu_derivative(z), RELU_CODE),
    "leaky_relu": Activation("leaky_relu", leaky_relu, lambda z, a: leaky_relu_derivative(z),
                             LEAKY_RELU_CODE),
}

#: Every activation name the general network accepts.
NAMES = tuple(ACTIVATIONS) + ("softmax",)
