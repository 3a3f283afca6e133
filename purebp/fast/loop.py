"""The training loop both networks share: epochs, logging, on_epoch, divergence.

``NeuralNetwork.train`` and ``Network.train`` check their arguments and hand
over to ``run``. An epoch is computed one of two ways, with identical bits:

    the reference   the network's own ``_epoch``: the readable matrix code,
                    equation by equation (tutorial.py, network.py);
    unrolled        the same arithmetic written out for the network's shape
                    (purebp.unrolled), many times faster.

``run`` uses the unrolled code when the network's shape and formulas allow
it and ``enabled`` is True, and the reference otherwise. Between two epochs
that must be reported (a log line, an ``on_epoch`` call) the unrolled code
runs all the epochs in one call; the network's attributes are brought up to
date before every report and at the end, so callers see what the reference
would show them. If an unrolled epoch stops being finite, the network goes
back to the start of that call and the reference replays those epochs, so
DivergenceError is raised by the same code, at the same epoch, with the same
state as without this module.

A network taking part provides: ``_spec()`` (a ``purebp.unrolled.Spec``),
``_flat_parameters()`` / ``_set_flat_parameters(flat)`` (every
weights[l] row by row, then every biases[l]), ``_set_forward(X, kept)`` (the
intermediates from the unrolled code's kept forward pass), ``_state()`` /
``_restore(state)``, ``_epoch(X, y, learning_rate, batch_size)`` (one
reference epoch, returning its loss) and ``_finite()``; for mini-batches
also ``_batches(n, batch_size)`` and ``_share(batch_loss, size, n)``.
"""

from __future__ import annotations

import math
from typing import Callable, List, Optional

from purebp.errors import DivergenceError
from purebp.fast import unrolled

#: Set to False to train with the reference alone: the tests compare the two,
#: and a learner can then step through train's epochs in the readable code.
enabled = True

Matrix = List[List[float]]


def run(net, op: str, X: Matrix, y: Matrix, epochs: int, learning_rate: float,
        batch_size: Optional[int], log_every: int,
        log: Optional[Callable[[str], object]],
        on_epoch: Optional[Callable[..., object]]) -> List[float]:
    """Train ``net`` for ``epochs`` epochs on checked X and y; return each epoch's loss."""
    kernel = None
    if enabled and unrolled.supported(net._spec()):
        kernel = unrolled.compiled(net._spec())
    rows = [tuple(x) + tuple(t) for x, t in zip(X, y)] if kernel else []
    losses: List[float] = []
    remaining = epochs
    while remaining:
        epoch = net.epochs_trained
        if kernel is None:
            count = 1
            _reference(net, op, X, y, learning_rate, batch_size, losses)
        else:
            # As many epochs per call as can run before the next report (log line
            # or on_epoch): one call per epoch made the tutorial's run 2.3× slower.
            count = remaining if on_epoch is None and batch_size is None else 1
            if log is not None:
                count = min(count, -epoch % log_every + 1)
            before = net._state()
            done = (_unrolled_epochs(net, kernel, X, rows, learning_rate, count, losses)
                    if batch_size is None else
                    _unrolled_batches(net, kernel, X, rows, learning_rate, batch_size, losses))
            if not done:
                # Not finite somewhere: go back and let the reference find the epoch and raise.
                net._restore(before)
                for _ in range(count):
                    _reference(net, op, X, y, learning_rate, batch_size, losses)
            else:
                net.epochs_trained += count
        remaining -= count
        last, loss = net.epochs_trained - 1, losses[-1]
        if log is not None and last % log_every == 0:
            log(f"Epoch {last}, Loss: {loss:.4f}")
        if on_epoch is not None and on_epoch(net, last, loss) is False:
            break
    return losses


def _reference(net, op: str, X: Matrix, y: Matrix, learning_rate: float,
               batch_size: Optional[int], losses: List[float]) -> None:
    """Run one reference epoch; on a non-finite loss or parameter restore and raise."""
    epoch = net.epochs_trained
    before = net._state()  # to go back to if this epoch diverges
    loss = net._epoch(X, y, learning_rate, batch_size)
    if not (math.isfinite(loss) and net._finite()):
        net._restore(before)
        raise DivergenceError(op, epoch, loss, learning_rate)
    net.epochs_trained += 1
    losses.append(loss)


def _unrolled_epochs(net, kernel, X: Matrix, rows: list, learning_rate: float,
                     count: int, losses: List[float]) -> bool:
    """Run ``count`` full-batch epochs unrolled; False if one stopped being finite."""
    kept: list = []
    start = len(losses)
    flat = kernel(rows, net._flat_parameters(), learning_rate, count, losses, kept)
    if flat is None:
        del losses[start:]  # the reference will append them again as it replays
        return False
    net._set_flat_parameters(flat)
    net._set_forward(X, kept)
    return True


def _unrolled_batches(net, kernel, X: Matrix, rows: list, learning_rate: float,
                      batch_size: int, losses: List[float]) -> bool:
    """Run one mini-batch epoch unrolled, with ``Network._epoch``'s batches and loss."""
    flat = net._flat_parameters()
    loss = 0.0
    kept: list = []
    batches = net._batches(len(rows), batch_size)
    for batch in batches:
        batch_losses: List[float] = []
        flat = kernel([rows[i] for i in batch], flat, learning_rate, 1, batch_losses,
                      kept if batch is batches[-1] else None)
        if flat is None:
            return False
        loss += net._share(batch_losses[0], len(batch), len(rows))
    if not math.isfinite(loss):  # finite batches can still add up to an overflow
        return False
    net._set_flat_parameters(flat)
    net._set_forward([X[i] for i in batches[-1]], kept)
    losses.append(loss)
    return True
