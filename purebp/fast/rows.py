"""Training epochs as the reference computes them, matrix by matrix, at the interpreter's best speed.

This is what ``train`` runs for a network the written-out code
(purebp.fast.unrolled) does not pay for: large networks, and every network
on an interpreter where straight-line code is slow (purebp.fast.loop
chooses). Every step is ``Network._step``'s, the readable reference in
purebp/network.py, in the same order:

    zs[l]            = activations[l]·weights[l] + biases[l]
    activations[l+1] = f_l(zs[l])
    δ_{L−1}          = ∂loss/∂zs[L−1]            (the loss's own gradient function)
    ∂loss/∂weights[l] = activations[l]ᵀ·δ_l,  ∂loss/∂biases[l] = Σ_n δ_l
    δ_{l−1}          = (δ_l·weights[l]ᵀ) ⊙ f′(zs[l−1])
    p                ← p − learning_rate·∂loss/∂p, or the optimizer's update

and with the same functions wherever the work grows with the samples and
units only (activations, losses, their gradients, column sums): only the
three products, whose work grows with every weight, are computed another
way. The reference's matmul takes one dot product per entry, each added
from 0 up the index (purebp.matrix._dot); here each is one call of

    sum(map(mul, row, column))

which, where ``sum`` adds left to right (CPython up to 3.11, PyPy), adds
the very same products in the very same order from the same int 0, in C
instead of a Python loop: 35 against 55 ns per multiply-add on CPython
3.11. CPython 3.12 made ``sum`` of floats compensated (it rounds
differently), so there each dot product is the reference's own loop, still
without the reference's per-call checks. ``SUM_ADDS_LEFT_TO_RIGHT`` is
found by asking ``sum`` itself, not from the version number.

Each step transposes what it needs once: the weights as columns for the
forward pass (the rows serve δ·weightsᵀ as they are), the activations and
deltas for the gradients. tests/test_fast_loop.py holds this code to the
readable loop's bits on every activation, loss, optimizer and batch size.

``kernel(spec)`` returns ``train_epochs`` with the signature of the
written-out code's (purebp.fast.unrolled.source), so purebp.fast.loop runs
either the same way.
"""

from __future__ import annotations

import math
from operator import add, mul
from typing import Any, Callable, List, NamedTuple, Optional, Sequence, Tuple

from purebp._types import Matrix
from purebp.activations import ACTIVATIONS, softmax
from purebp.losses import LOSSES
from purebp.matrix import column_sums
from purebp.optimizers import Optimizer

#: True where ``sum`` adds floats left to right, one rounding per addition
#: (CPython ≤ 3.11, PyPy): 1e100 + 1.0 rounds to 1e100, so the sum is 0.0.
#: A compensated sum (CPython ≥ 3.12) keeps the 1.0.
SUM_ADDS_LEFT_TO_RIGHT = sum([1e100, 1.0, -1e100]) == 0.0

Rows = Sequence[Sequence[float]]


class ForwardPass(NamedTuple):
    """What the last epoch's forward pass leaves in ``keep``: every layer's zs and
    activations (without the inputs), as the readable loop keeps them."""

    zs: List[Matrix]
    activations: List[Matrix]


def _products_by_sum(A: Rows, columns: Rows) -> Matrix:
    """Return A·B from B's columns: [[Σ_m a[m]·c[m] for c in columns] for a in A], by ``sum``."""
    return [[sum(map(mul, a, c)) for c in columns] for a in A]


def _products_by_loop(A: Rows, columns: Rows) -> Matrix:
    """The same as _products_by_sum, each sum by the reference's loop (purebp.matrix._dot)."""
    result = []
    for a in A:
        row = []
        for c in columns:
            total: Any = 0  # as in _dot: the int 0 (0 + −0.0 is 0.0, as sum gives)
            for u, v in zip(a, c):
                total = total + u * v
            row.append(total)
        result.append(row)
    return result


def _affine_by_sum(A: Rows, columns: Rows, b: Sequence[float]) -> Matrix:
    """Return A·W + b from W's columns: the reference's add_row(matmul(A, W), [b])."""
    return [[sum(map(mul, a, c)) + b_j for c, b_j in zip(columns, b)] for a in A]


def _affine_by_loop(A: Rows, columns: Rows, b: Sequence[float]) -> Matrix:
    """The same as _affine_by_sum, each sum by the reference's loop."""
    return [list(map(add, row, b)) for row in _products_by_loop(A, columns)]


def _column_totals_by_sum(A: Rows) -> List[float]:
    """Return the column sums of A, each from the top row down: column_sums(A)[0].

    −0.0 is the one start that adds nothing to any float, so Σ starts at A[0][j] exactly.
    """
    return [sum(column, -0.0) for column in zip(*A)]


def _column_totals_by_loop(A: Rows) -> List[float]:
    """The same as _column_totals_by_sum: the reference's own column_sums."""
    return column_sums(A)[0]


#: The matrix product with B given by its columns: products(A, Bᵀ) = A·B, the
#: reference's matmul(A, B) bit for bit; affine adds a bias row to it, and
#: column_totals is column_sums. Each by ``sum`` where it adds left to right.
products: Callable[[Rows, Rows], Matrix] = (
    _products_by_sum if SUM_ADDS_LEFT_TO_RIGHT else _products_by_loop)
affine: Callable[[Rows, Rows, Sequence[float]], Matrix] = (
    _affine_by_sum if SUM_ADDS_LEFT_TO_RIGHT else _affine_by_loop)
column_totals: Callable[[Rows], List[float]] = (
    _column_totals_by_sum if SUM_ADDS_LEFT_TO_RIGHT else _column_totals_by_loop)


def transposed(A: Rows) -> List[Tuple[float, ...]]:
    """Return Aᵀ as a list of tuples: (r, c) becomes (c, r)."""
    return list(zip(*A))


#: What the activations' written-out forms may call (purebp.activations.WrittenOut).
_NAMESPACE = {"exp": math.exp, "tanh": math.tanh}


def activation_of(name: str) -> Callable[[Matrix], Matrix]:
    """Return Z ↦ f(Z), entry by entry, for the activation ``name``: apply(f, Z) bit for bit.

    Built from the activation's written-out form (purebp.activations, which
    the tests hold to its Python form bit for bit), so that each entry is an
    expression in a comprehension rather than a call.
    """
    f = ACTIVATIONS[name].code.f.format(z="z")
    # the text comes from purebp.activations, never from user input
    function: Callable[[Matrix], Matrix] = eval(
        f"lambda Z: [[{f} for z in row] for row in Z]", dict(_NAMESPACE))
    return function


def times_derivative_of(name: str) -> Callable[[Matrix, Matrix, Matrix], Matrix]:
    """Return (S, Z, A) ↦ S ⊙ f′(Z) for the activation ``name``, A = f(Z) at hand.

    multiply(S, f′(Z, A)) bit for bit, in one pass, from the written-out form.
    """
    derivative = ACTIVATIONS[name].code.f_prime.format(z="z", a="a")
    function: Callable[[Matrix, Matrix, Matrix], Matrix] = eval(
        f"lambda S, Z, A: [[s * ({derivative}) for s, z, a in zip(s_row, z_row, a_row)]"
        f" for s_row, z_row, a_row in zip(S, Z, A)]", dict(_NAMESPACE))
    return function


def kernel(spec: Any) -> Callable[..., Optional[List[float]]]:
    """Return ``train_epochs(rows, parameters, step, epochs, losses, keep)`` for ``spec``.

    The arguments and the result are those of the written-out code
    (purebp.fast.unrolled.source): ``rows`` are tuples of a sample's inputs
    then its targets, ``parameters`` the flat list (every weights[l] row
    by row, then every biases[l]); ``step`` is the learning rate, or an
    optimizer whose ``update`` takes each step (and keeps its state; on
    divergence the caller puts it back). It returns the new flat
    parameters, or None as soon as an epoch's loss or a parameter stops
    being finite. If ``keep`` is a list, the last epoch appends its
    ForwardPass to it (whole matrices, not the written-out code's tuples per
    sample: a deep network's forward pass is not copied twice).
    """
    sizes = tuple(spec.sizes)
    L = len(sizes) - 1
    descended, logged = LOSSES[spec.loss], LOSSES[spec.logged]
    output = spec.output_activation
    # each layer's f, None for softmax (it acts on whole rows)
    names = [output if l == L - 1 else spec.activation for l in range(L)]
    fs = [None if name == "softmax" else activation_of(name) for name in names]
    hidden_times = times_derivative_of(spec.activation) if L > 1 else None
    output_times = None if output == "softmax" else times_derivative_of(output)

    def activate(l: int, z: Matrix) -> Matrix:
        f = fs[l]
        return [softmax(row) for row in z] if f is None else f(z)

    def train_epochs(rows: Sequence[Sequence[float]], parameters: List[float], step: Any,
                     epochs: int, losses: List[float],
                     keep: Optional[List[Any]]) -> Optional[List[float]]:
        weights, biases = split(parameters, sizes)
        X: Matrix = [list(r[:sizes[0]]) for r in rows]
        y: Matrix = [list(r[sizes[0]:]) for r in rows]
        optimizer = step if isinstance(step, Optimizer) else None
        flat = parameters
        for epoch in range(epochs):
            # forward: zs[l] = activations[l]·weights[l] + biases[l], activations[l+1] = f_l(zs[l])
            zs: List[Matrix] = []
            activations: List[Matrix] = [X]
            for l in range(L):
                z = affine(activations[l], transposed(weights[l]), biases[l])
                zs.append(z)
                activations.append(activate(l, z))
            # the loss before the step, and the output delta δ_{L−1} = ∂loss/∂zs[L−1]
            if logged.of == "logits":
                loss = logged.value(y, zs[-1])
            else:
                loss = logged.value(y, activations[-1])
            if descended.of == "logits":
                delta = descended.gradient(y, zs[-1])
            else:
                assert output_times is not None
                delta = output_times(descended.gradient(y, activations[-1]), zs[-1],
                                     activations[-1])
            # backward: the gradients of layer l, then δ_{l−1} = (δ_l·weights[l]ᵀ) ⊙ f′(zs[l−1])
            grad_w: List[Matrix] = [[] for _ in range(L)]
            grad_b: List[List[float]] = [[] for _ in range(L)]
            for l in range(L - 1, -1, -1):
                grad_w[l] = products(transposed(activations[l]), transposed(delta))
                grad_b[l] = column_totals(delta)
                if l > 0:
                    assert hidden_times is not None
                    delta = hidden_times(products(delta, weights[l]), zs[l - 1],
                                         activations[l])
            # the step
            if optimizer is None:
                rate = step
                weights = [[[w - rate * g for w, g in zip(w_row, g_row)]
                            for w_row, g_row in zip(W, G)] for W, G in zip(weights, grad_w)]
                biases = [[b - rate * g for b, g in zip(B, G)] for B, G in zip(biases, grad_b)]
                flat = _flat(weights, biases)
            else:
                flat = optimizer.update(_flat(weights, biases), _flat(grad_w, grad_b))
                weights, biases = split(flat, sizes)
            # diverged? A sum is finite only if every term is; if not, look term by term
            if not math.isfinite(loss + sum(flat)) and not (
                    math.isfinite(loss) and all(map(math.isfinite, flat))):
                return None
            losses.append(loss)
            if keep is not None and epoch == epochs - 1:
                keep.append(ForwardPass(zs, activations[1:]))
        return flat

    return train_epochs


def split(flat: Sequence[float], sizes: Tuple[int, ...]) -> Tuple[List[Matrix], List[List[float]]]:
    """Split the flat parameters into each layer's weights (rows) and biases (one row each)."""
    at, weights, biases = 0, [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        weights.append([list(flat[at + i * fan_out:at + (i + 1) * fan_out])
                        for i in range(fan_in)])
        at += fan_in * fan_out
    for fan_out in sizes[1:]:
        biases.append(list(flat[at:at + fan_out]))
        at += fan_out
    return weights, biases


def _flat(weights: Sequence[Matrix], biases: Sequence[Sequence[float]]) -> List[float]:
    """Return every weights[l] row by row, then every biases[l]: the flat order."""
    return [w for W in weights for row in W for w in row] + [b for B in biases for b in B]
