"""Losses, each with its gradient beside it.

y is the targets and ŷ the outputs, both n × k (n samples, k outputs); z is
the output layer's pre-activation, ŷ = f(z).

    half_sse(y, ŷ)            ½ Σ_n Σ_k (ŷ − y)²                  (the tutorial's)
    half_sse_gradient(y, ŷ)   ∂/∂ŷ = ŷ − y
    mse(y, ŷ)                 (1 / nk) Σ_n Σ_k (ŷ − y)²           (torch MSELoss)
    mse_gradient(y, ŷ)        ∂/∂ŷ = 2(ŷ − y) / nk
    bce(y, z)                 (1 / nk) Σ_n Σ_k [softplus(z) − y·z]  (torch BCEWithLogitsLoss)
    bce_gradient(y, z)        ∂/∂z = (σ(z) − y) / nk
    cross_entropy(y, z)       (1 / n) Σ_n Σ_k y_nk·(lse(z_n) − z_nk) (torch CrossEntropyLoss)
    cross_entropy_gradient    ∂/∂z = ((Σ_k y_nk)·softmax(z_n) − y_n) / n

    Loss, LOSSES              the table the general network looks names up in

Each loss also has its *written-out form* (``WrittenOut``), the same
arithmetic as Python source text for one entry (cross_entropy: for one row,
then its entries), for the written-out training code of purebp.fast; it sits
right below the functions it restates, and tests/test_losses.py holds the two
to the same bits.

The reductions are PyTorch's defaults (``reduction="mean"``): mse and bce
average over all n·k entries, cross_entropy over the n samples only;
half_sse sums, as the tutorial's update does.

bce and cross_entropy take the pre-activation z, not ŷ. With ŷ = σ(z),
−[y·log ŷ + (1 − y)·log(1 − ŷ)] equals softplus(z) − y·z, where
softplus(z) = log(1 + e^z) = max(z, 0) + log(1 + e^−|z|) never overflows;
with ŷ = softmax(z), −Σ_k y_k·log ŷ_k equals Σ_k y_k·(lse(z) − z_k), where
lse(z) = log Σ_j e^z_j is computed after subtracting max(z). Both stay finite
and exact for saturated outputs (z = ±800) where log(ŷ) would be log(0), and
their gradients with respect to z are the simple, exact forms above. That is
also what PyTorch's BCEWithLogitsLoss computes; its BCELoss (on ŷ) instead
clamps each log at −100, so the two differ once |z| > 100 or so.

What this module does not do: check arguments (the network does that before
calling in), or pair losses with activations (``Loss.output_activation`` says
which one a loss on z needs, and the network enforces it).
"""

from __future__ import annotations

import math
from typing import Callable, Dict, Iterable, NamedTuple, Optional, Sequence, Tuple

from purebp._types import Matrix
from purebp.activations import RowStep, sigmoid, softmax

#: What the losses take: rows of floats (ints pass too), as lists or tuples.
#: Narrower than purebp._types.RealMatrix on purpose: the losses check
#: nothing and compute in floats, so the network hands them checked floats.
RealMatrix = Sequence[Sequence[float]]


class WrittenOut(NamedTuple):
    """A loss as source text, one entry of ŷ at a time, for purebp.fast.

    Fields to fill in: {a} = ŷ, {y} = the target, {z} = the logit,
    {e} = ŷ − y, {f_prime} = the output activation's derivative. The code
    adds each ``entry`` to ``total`` and the loss is ``value`` of that total;
    ``delta`` is ∂loss/∂z of the entry. ``count`` is the number of entries
    (samples × outputs) and ``setup`` a line run once before the epochs.
    The names it may call are ``exp``, ``log1p`` and ``abs``.

    A loss of whole rows (cross_entropy) has ``row``: steps run once per
    sample before its entries (purebp.activations.RowStep; they may use what
    the output activation's row steps set). Its entries are then added up per
    row, from 0.0, and each row's sum is added to ``total``, as the reference
    sums them; {k} is the entry's index.

    >>> HALF_SSE_CODE.entry.format(e="e_0")
    'e_0 * e_0'
    """

    entry: str
    delta: str
    value: str
    setup: str = ""
    row: Tuple[RowStep, ...] = ()


def _total(values: Iterable[float]) -> float:
    """Return the sum of values, added left to right (not sum(): see matrix._dot)."""
    total = 0.0
    for v in values:
        total += v
    return total


def _entries(y: RealMatrix) -> int:
    return len(y) * len(y[0])


# -- half_sse: the tutorial's loss ----------------------------------------


def half_sse(y: RealMatrix, y_hat: RealMatrix) -> float:
    """Return ½ Σ_n Σ_k (ŷ_nk − y_nk)², half the summed squared error.

    >>> half_sse([[0.0], [1.0]], [[0.5], [0.5]])
    0.25
    """
    return 0.5 * _total((p - t) * (p - t) for t_row, p_row in zip(y, y_hat)
                        for t, p in zip(t_row, p_row))


def half_sse_gradient(y: RealMatrix, y_hat: RealMatrix) -> Matrix:
    """Return ∂half_sse/∂ŷ = ŷ − y (n × k)."""
    return [[p - t for t, p in zip(t_row, p_row)] for t_row, p_row in zip(y, y_hat)]


#: half_sse written out: ½ of the total of (ŷ − y)², and δ = (ŷ − y)·f′.
HALF_SSE_CODE = WrittenOut("{e} * {e}", "{e} * ({f_prime})", "0.5 * total")


# -- mse: torch.nn.MSELoss(reduction="mean") -------------------------------


def mse(y: RealMatrix, y_hat: RealMatrix) -> float:
    """Return (1 / nk) Σ_n Σ_k (ŷ_nk − y_nk)², the mean over all n·k entries.

    >>> mse([[0.0, 0.0]], [[1.0, 3.0]])
    5.0
    """
    return _total((p - t) * (p - t) for t_row, p_row in zip(y, y_hat)
                  for t, p in zip(t_row, p_row)) / _entries(y)


def mse_gradient(y: RealMatrix, y_hat: RealMatrix) -> Matrix:
    """Return ∂mse/∂ŷ = 2(ŷ − y) / nk (n × k)."""
    norm = 2.0 / _entries(y)  # one factor, as torch's mse_loss_backward forms it
    return [[norm * (p - t) for t, p in zip(t_row, p_row)]
            for t_row, p_row in zip(y, y_hat)]


#: mse written out: the total of (ŷ − y)² over count, and δ = (norm·(ŷ − y))·f′
#: with norm = 2 / count formed once, as ``mse_gradient`` forms it.
MSE_CODE = WrittenOut("{e} * {e}", "(norm * {e}) * ({f_prime})", "total / count",
                      setup="norm = 2.0 / count")


# -- bce: torch.nn.BCEWithLogitsLoss(reduction="mean"), on z ---------------


def softplus(z: float) -> float:
    """Return log(1 + e^z) without overflow: max(z, 0) + log1p(e^−|z|).

    >>> softplus(0.0) == math.log(2.0), softplus(800.0), softplus(-800.0)
    (True, 800.0, 0.0)
    """
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def bce(y: RealMatrix, z: RealMatrix) -> float:
    """Return the binary cross-entropy of ŷ = σ(z) against y ∈ [0, 1], mean over n·k.

    Each entry is −[y·log σ(z) + (1 − y)·log(1 − σ(z))] = max(z, 0) − y·z + log(1 + e^−|z|).

    >>> round(bce([[1.0]], [[0.0]]), 6)  # log 2
    0.693147
    """
    return _total(_bce_entry(t, z_nk) for t_row, z_row in zip(y, z)
                  for t, z_nk in zip(t_row, z_row)) / _entries(y)


def _bce_entry(t: float, z: float) -> float:
    """Return max(z, 0) − t·z + log1p(e^−|z|), one entry of bce."""
    # max(z, 0) − t·z written as (1 − t)·z or −t·z: for a confident right
    # answer (t = 1, z = 30) the loss is e^−30 and must not cancel to 0.
    linear = (1.0 - t) * z if z >= 0.0 else -t * z
    return linear + math.log1p(math.exp(-abs(z)))


def bce_gradient(y: RealMatrix, z: RealMatrix) -> Matrix:
    """Return ∂bce/∂z = (σ(z) − y) / nk (n × k)."""
    count = _entries(y)
    return [[(sigmoid(z_nk) - t) / count for t, z_nk in zip(t_row, z_row)]
            for t_row, z_row in zip(y, z)]


#: bce written out: ``_bce_entry`` per entry, the total over count, and
#: δ = (σ(z) − y) / count with σ(z) the output the forward pass kept.
BCE_CODE = WrittenOut("((1.0 - {y}) * {z} if {z} >= 0.0 else -{y} * {z}) + log1p(exp(-abs({z})))",
                      "({a} - {y}) / count", "total / count")


# -- cross_entropy: torch.nn.CrossEntropyLoss(reduction="mean"), on z ------


def log_sum_exp(row: Sequence[float]) -> float:
    """Return log Σ_j e^z_j without overflow, by factoring out e^max(z).

    >>> log_sum_exp([1000.0, 1000.0]) == 1000.0 + math.log(2.0)
    True
    """
    top, log_rest = _log_softmax_parts(row)
    return top + log_rest


def _log_softmax_parts(row: Sequence[float]) -> Tuple[float, float]:
    """Return (top, log Σ_j e^(z_j − top)), top = max(z), the latter via log1p."""
    top = max(row)
    m = row.index(top)
    # Σ_j e^(z_j − top) = 1 + (the others); log1p keeps the small part exact
    # when one logit dominates, where log(1 + tiny) would round it away.
    others = _total(math.exp(v - top) for j, v in enumerate(row) if j != m)
    return top, math.log1p(others)


def cross_entropy(y: RealMatrix, z: RealMatrix) -> float:
    """Return −(1/n) Σ_n Σ_k y_nk·log softmax(z_n)_k, with class-probability targets y.

    −log softmax(z)_k = (max(z) − z_k) + log Σ_j e^(z_j − max(z)); a target of 0
    adds nothing (0·log 0 = 0), however far its logit lies below the others.

    >>> round(cross_entropy([[0.0, 1.0]], [[0.0, 0.0]]), 6)  # log 2
    0.693147
    """
    total = 0.0
    for t_row, z_row in zip(y, z):
        top, log_rest = _log_softmax_parts(z_row)
        total += _total(t * ((top - z_nk) + log_rest)
                        for t, z_nk in zip(t_row, z_row) if t != 0.0)
    return total / len(y)


def cross_entropy_gradient(y: RealMatrix, z: RealMatrix) -> Matrix:
    """Return ∂cross_entropy/∂z = ((Σ_k y_nk)·softmax(z_n) − y_n) / n (n × k).

    Targets whose rows sum to 1 make this the familiar (softmax(z) − y) / n;
    keeping the row sum makes it the exact gradient of ``cross_entropy`` for
    any targets.
    """
    n = len(y)
    gradient = []
    for t_row, z_row in zip(y, z):
        mass = _total(t_row)
        gradient.append([(mass * s - t) / n for t, s in zip(t_row, softmax(z_row))])
    return gradient


#: cross_entropy written out, row by row, after softmax's written-out form
#: (purebp.activations.SOFTMAX_CODE), whose top = max(z) and u_j = e^(z_j − top)
#: are the ones ``_log_softmax_parts`` computes: m = row.index(top), the first
#: maximum; others = Σ_{j≠m} u_j from 0.0 up the index, the skipped term added
#: as −0.0, which leaves every float as it is; then, as ``cross_entropy``, the
#: entries y_k·((top − z_k) + log_rest) for y_k ≠ 0 (a skipped one again adds
#: −0.0), summed per row from 0.0, the rows' total over n; and, as
#: ``cross_entropy_gradient``, δ = (mass·ŷ − y) / n with mass = Σ_k y_k from
#: 0.0 and ŷ the softmax output the forward pass kept. n is the samples.
CROSS_ENTROPY_CODE = WrittenOut(
    "({y} * ((top - {z}) + log_rest) if {y} != 0.0 else -0.0)",
    "(mass * {a} - {y}) / n", "total / n", setup="n = len(rows)",
    row=(RowStep("row", "m", "{z_row}.index(top)", "m = row.index(top), the first maximum"),
         RowStep("sum", "others", "(u_{k} if m != {k} else -0.0)",
                 "others = Σ_(j≠m) u_j, from 0.0 up the index; the skipped term adds −0.0"),
         RowStep("row", "log_rest", "log1p(others)",
                 "log_rest = log Σ_j e^(z_j − top) = log1p(others)"),
         RowStep("sum", "mass", "{y}", "mass = Σ_k y_k, from 0.0 up the index")))


class Loss(NamedTuple):
    """A loss: its name, value, gradient, and what it is computed from.

    ``of`` is ``"output"`` when value and gradient take ŷ (the gradient is
    then ∂L/∂ŷ) and ``"logits"`` when they take z (the gradient is ∂L/∂z,
    with the output activation folded in); ``output_activation`` is the one
    activation a loss on z works with. ``reduction`` says how a data set's
    loss combines its batches' losses: ``"sum"`` adds them, ``"mean"`` weights
    each by its share of the samples.
    """

    name: str
    value: Callable[[RealMatrix, RealMatrix], float]
    gradient: Callable[[RealMatrix, RealMatrix], Matrix]
    of: str
    output_activation: Optional[str]
    reduction: str
    code: WrittenOut  # its written-out form, for purebp.fast


LOSSES: Dict[str, Loss] = {
    "half_sse": Loss("half_sse", half_sse, half_sse_gradient, "output", None, "sum", HALF_SSE_CODE),
    "mse": Loss("mse", mse, mse_gradient, "output", None, "mean", MSE_CODE),
    "bce": Loss("bce", bce, bce_gradient, "logits", "sigmoid", "mean", BCE_CODE),
    "cross_entropy": Loss(
        "cross_entropy", cross_entropy, cross_entropy_gradient, "logits", "softmax", "mean",
        CROSS_ENTROPY_CODE
    ),
}
