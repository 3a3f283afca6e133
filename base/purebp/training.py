"""What every training loop shares: the divergence check, the log line, the options.

``NeuralNetwork.train`` and ``Network.train`` write their epoch loops out in
plain sight; the written-out fast code (purebp.fast) runs the same epochs in
chunks. All of them end an epoch the same way, with these:

    count_epoch(net, before, op, epoch, loss, learning_rate)
        count the epoch in ``net.epochs_trained``, or, if the loss or a
        parameter is no longer finite, put the network back to ``before`` and
        raise DivergenceError
    log_line(epoch, loss)       the tutorial's ``Epoch N, Loss: 0.1234``
    report(net, epoch, loss, log_every, log, on_epoch)
        the log line every ``log_every`` epochs and the ``on_epoch(net, epoch,
        loss)`` call, as the loops write them out; False when on_epoch asks to stop
    check_options(op, log_every, log, on_epoch, fast)
        the checks of the options every ``train`` takes

A network taking part has ``epochs_trained`` and three small methods:
``_state()`` (what to go back to), ``_restore(state)`` and ``_finite()``.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Optional, Tuple

from purebp import _checks
from purebp.errors import DivergenceError

#: The type of ``log``: any callable that takes the line, or None for silence.
Log = Optional[Callable[[str], object]]
#: The type of ``on_epoch``: called as on_epoch(net, epoch, loss); False stops training.
OnEpoch = Optional[Callable[[Any, int, float], object]]


def count_epoch(net: Any, before: Any, op: str, epoch: int, loss: float,
                learning_rate: float) -> None:
    """Count a finished epoch, or undo it and raise DivergenceError if it stopped being finite.

    ``before`` is the network's ``_state()`` from the start of the epoch; a
    diverged network is put back to it, so it is left as it was after the
    last finite epoch.
    """
    if not (math.isfinite(loss) and net._finite()):
        net._restore(before)
        raise DivergenceError(op, epoch, loss, learning_rate)
    net.epochs_trained += 1


def log_line(epoch: int, loss: float) -> str:
    """Return the tutorial's log line.

    >>> log_line(9000, 0.00218)
    'Epoch 9000, Loss: 0.0022'
    """
    return f"Epoch {epoch}, Loss: {loss:.4f}"


def report(net: Any, epoch: int, loss: float, log_every: int, log: Log,
           on_epoch: OnEpoch) -> bool:
    """Log epoch ``epoch`` if it is a multiple of log_every, call on_epoch; False means stop."""
    if log is not None and epoch % log_every == 0:
        log(log_line(epoch, loss))
    return on_epoch is None or on_epoch(net, epoch, loss) is not False


def check_options(op: str, log_every: int, log: Log, on_epoch: OnEpoch, fast: bool) -> int:
    """Check the options every ``train`` takes; return log_every as an int ≥ 1."""
    log_every = _checks.size(op, "log_every", log_every)
    _check_callback(op, "log", log, "a callable taking a string, or None", ("Epoch 0",))
    _check_callback(op, "on_epoch", on_epoch, "a callable taking (net, epoch, loss), or None",
                    (None, 0, 0.0))
    if not isinstance(fast, bool):
        raise TypeError(f"{op}: fast must be True or False, got {_checks._describe(fast)}")
    return log_every


def _check_callback(op: str, name: str, value: object, wanted: str,
                    example: Tuple[object, ...]) -> None:
    """Refuse a callback that is no callable, or that could not take the arguments it will get.

    Checked before the first epoch, so a wrong callback changes nothing. A
    callable whose signature Python cannot tell (some built-ins) is taken
    on trust.
    """
    if value is None:
        return
    if not callable(value):
        raise TypeError(f"{op}: {name} must be {wanted}, got {_checks._describe(value)}")
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*example)
    except TypeError as error:
        raise TypeError(f"{op}: {name} must be {wanted}, got one that cannot be called"
                        f" with {len(example)} argument{'s' * (len(example) > 1)}: {error}") from None
