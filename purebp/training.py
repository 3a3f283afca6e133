"""What every training loop shares: the divergence check, the log line, the options.

``NeuralNetwork.train`` and ``Network.train`` write their epoch loops out in
plain sight; the written-out fast code (purebp.fast) runs the same epochs in
chunks. All of them end an epoch the same way, with these:

    count_epoch(net, before, op, epoch, loss, learning_rate)
        count the epoch in ``net.epochs_trained``, or, if the loss or a
        parameter is no longer finite, put the network back to ``before`` and
        raise DivergenceError
    log_line(epoch, loss)       the tutorial's ``Epoch N, Loss: 0.1234``
    report(net, epoch, loss, log_every, log, on_epoch, watch)
        the validation (``watch``, a Validation or None), the log line every
        ``log_every`` epochs and the ``on_epoch(net, epoch, loss)`` call;
        False when early stopping or on_epoch stops training
    check_options(op, log_every, log, on_epoch, fast, spec)
        the checks of the options every ``train`` takes

A network taking part has ``epochs_trained`` and three small methods:
``_state()`` (what to go back to), ``_restore(state)`` and ``_finite()``;
with validation data also ``history``, ``best``, ``_validate(X, y)`` (the
loss and the accuracy), ``_layers()`` and ``_set_layers(weights, biases)``.

Validation and early stopping, exactly. After every epoch e (counted as
``epochs_trained`` counts, from 0) the validation loss v_e is computed at
the parameters the epoch ended with. With ``early_stopping=K``, the record
``net.best`` holds the lowest v so far, the first epoch that reached it and
that epoch's parameters, and the epochs since: v_e improves only if
v_e < best (strictly; a tie or NaN does not). When K epochs in a row have
not improved, training stops after epoch e, the network gets back the best
epoch's parameters, and ``net.best`` is cleared. If the epochs run out
first, nothing is restored and ``net.best`` stays, saved in checkpoints, so
that a resumed run stops where the uninterrupted one would.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Dict, List, Optional, Tuple, TypedDict

from purebp import _checks
from purebp.errors import DivergenceError
from purebp.fast import unrolled

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


def log_line(epoch: int, loss: float, validation_loss: Optional[float] = None) -> str:
    """Return the tutorial's log line, and the validation loss if there is one.

    >>> log_line(9000, 0.00218)
    'Epoch 9000, Loss: 0.0022'
    >>> log_line(12, 0.25, 0.3125)
    'Epoch 12, Loss: 0.2500, Validation loss: 0.3125'
    """
    line = f"Epoch {epoch}, Loss: {loss:.4f}"
    if validation_loss is not None:
        line += f", Validation loss: {validation_loss:.4f}"
    return line


class Best(TypedDict):
    """Early stopping's record (``net.best``): the lowest validation loss so far."""

    epoch: int  # the first epoch whose validation loss was the lowest
    val_loss: float
    weights: List[List[List[float]]]  # that epoch's parameters
    biases: List[List[List[float]]]
    epochs_without_improvement: int  # since that epoch


def new_history() -> Dict[str, List[Any]]:
    """Return an empty ``net.history``: one entry per epoch trained with validation data."""
    return {"epoch": [], "loss": [], "val_loss": [], "val_accuracy": []}


class Validation:
    """The validation data of one ``train`` call, and its early stopping (or None)."""

    def __init__(self, X: Any, y: Any, early_stopping: Optional[int]) -> None:
        self.X, self.y, self.early_stopping = X, y, early_stopping
        self.loss: Optional[float] = None  # the last epoch's, for the log line
        self.stopped: Optional[str] = None  # why early stopping stopped, once it has

    @classmethod
    def of(cls, op: str, net: Any, validation: object,
           early_stopping: object) -> Optional[Validation]:
        """Check ``train``'s validation and early_stopping; None when there is no validation."""
        patience = None
        if early_stopping is not None:
            patience = _checks.size(op, "early_stopping", early_stopping)
        if validation is None:
            if patience is not None:
                raise ValueError(f"{op}: validation must be given as (X_val, y_val) for"
                                 f" early_stopping={patience}, got None")
            return None
        if isinstance(validation, (str, bytes)) or not _checks.is_sequence(validation) \
                or len(validation) != 2:  # type: ignore[arg-type]
            raise TypeError(f"{op}: validation must be a pair (X_val, y_val), got"
                            f" {_checks._describe(validation)}")
        X, y = net._check_batch(op, validation[0], validation[1],  # type: ignore[index]
                                names=("validation[0]", "validation[1]"))
        return cls(X, y, patience)

    def after_epoch(self, net: Any, epoch: int, loss: float) -> bool:
        """Record epoch ``epoch``'s validation loss and accuracy; False if early stopping stops."""
        self.loss, accuracy = net._validate(self.X, self.y)
        for key, value in zip(("epoch", "loss", "val_loss", "val_accuracy"),
                              (epoch, loss, self.loss, accuracy)):
            net.history[key].append(value)
        if self.early_stopping is None:
            return True
        best = net.best
        if best is None or self.loss < best["val_loss"]:
            weights, biases = net._layers()
            net.best = {"epoch": epoch, "val_loss": self.loss,
                        "weights": [[list(row) for row in m] for m in weights],
                        "biases": [[list(row) for row in m] for m in biases],
                        "epochs_without_improvement": 0}
            return True
        best["epochs_without_improvement"] += 1
        if best["epochs_without_improvement"] < self.early_stopping:
            return True
        net._set_layers(best["weights"], best["biases"])
        net.best = None
        self.stopped = (f"Early stopping after epoch {epoch}: the validation loss has not"
                        f" improved for {self.early_stopping} epochs; the parameters are"
                        f" epoch {best['epoch']}'s, of validation loss {best['val_loss']:.4f}")
        return False


def report(net: Any, epoch: int, loss: float, log_every: int, log: Log,
           on_epoch: OnEpoch, watch: Optional[Validation] = None) -> bool:
    """Validate, log epoch ``epoch`` if it is a multiple of log_every, call on_epoch.

    False means stop: early stopping has stopped (the log line and on_epoch
    still see the epoch), or on_epoch returned False.
    """
    go_on = watch is None or watch.after_epoch(net, epoch, loss)
    if log is not None and epoch % log_every == 0:
        log(log_line(epoch, loss, None if watch is None else watch.loss))
    if log is not None and watch is not None and watch.stopped is not None:
        log(watch.stopped)
    return (on_epoch is None or on_epoch(net, epoch, loss) is not False) and go_on


#: What ``train``'s ``fast`` may be: True (purebp.fast chooses the faster
#: code), False (the readable loop), or one of the two fast paths by name.
FAST_PATHS = ("written-out", "reference")


def check_options(op: str, log_every: int, log: Log, on_epoch: OnEpoch, fast: bool | str,
                  spec: Optional[unrolled.Spec] = None) -> int:
    """Check the options every ``train`` takes; return log_every as an int ≥ 1.

    ``spec`` is the network's (purebp.fast.unrolled.Spec), to refuse
    ``fast="written-out"`` for a network the written-out code does not cover.
    """
    log_every = _checks.size(op, "log_every", log_every)
    _check_callback(op, "log", log, "a callable taking a string, or None", ("Epoch 0",))
    _check_callback(op, "on_epoch", on_epoch, "a callable taking (net, epoch, loss), or None",
                    (None, 0, 0.0))
    if not (isinstance(fast, bool) or (type(fast) is str and fast in FAST_PATHS)):
        raise TypeError(f"{op}: fast must be True, False, 'written-out' or 'reference',"
                        f" got {_checks._describe(fast)}")
    if fast == "written-out" and spec is not None and not unrolled.supported(spec):
        raise ValueError(
            f"{op}: fast='written-out' cannot run this network (sizes {list(spec.sizes)},"
            f" {spec.activation}/{spec.output_activation}, loss {spec.loss}): the written-out"
            f" code covers up to {unrolled.MAX_WRITTEN_OUT} weights and biases, cross_entropy"
            f" with a softmax output only; got fast='written-out'")
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
