"""Sequential: layers one after another, a loss at the end, trained with purebp's optimizers.

    model = Sequential(Conv2d(1, 4, 3), ReLU(), MaxPool2d(2), Flatten(), Linear(36, 3),
                       loss="cross_entropy", seed=0)
    output = model.forward(X)              # every layer's forward, in order
    grad_X = model.backward(grad_output)   # every layer's backward, in reverse
    loss = model.step(X, y, optimizer)     # forward, loss, backward, one optimizer step
    model.train(X, y, epochs, optimizer=Adam(lr=0.01), batch_size=32)

Names are torch's: ``parameters()``, ``gradients()`` and ``state_dict()``
use the keys "0.weight", "1.running_mean", … (the layer's index, a dot, the
parameter's name), with nested lists as values, so that a torch model's
``{k: v.tolist() for k, v in model.state_dict().items()}`` loads here and
its gradients can be compared key by key. ``train()`` and ``eval()`` switch
every layer's mode, as torch's do; ``train(X, y, epochs, ...)`` trains.

The loss is one of purebp.losses, on the last layer's output: for "bce"
and "cross_entropy" that output is the logits (the sigmoid or softmax is in
the loss, as torch's BCEWithLogitsLoss and CrossEntropyLoss), for "mse" and
"half_sse" the prediction itself.
"""

from __future__ import annotations

import math
import random
from typing import Any, Dict, Iterator, List, Optional, Tuple

from purebp import _checks, training
from purebp.layers.base import Layer
from purebp.layers.dropout import Dropout
from purebp.layers.tensor import Tensor, dims, flat, rank_of, shape_of, unflat
from purebp.losses import LOSSES
from purebp.optimizers import SGD, Optimizer


class Sequential:
    """Layers applied in order, with a loss: forward, backward, state_dict, train.

    ``seed`` seeds the model's generator, which shuffles the mini-batches and
    draws the masks of the Dropout layers that have no generator of their own.
    """

    def __init__(self, *layers: Layer, loss: str = "mse", seed: Optional[int] = 0) -> None:
        op = "Sequential"
        for k, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"{op}: layer {k} must be a purebp.layers layer, got"
                                f" {type(layer).__name__}")
        if not layers:
            raise ValueError(f"{op}: layers must be at least one, got none")
        self.layers: Tuple[Layer, ...] = tuple(layers)
        self.loss_name = _checks.name(op, "loss", loss, tuple(LOSSES))
        self.rng = random.Random(_checks.seed(op, seed))
        for layer in self.layers:
            if isinstance(layer, Dropout) and layer.generator is None:
                layer.generator = self.rng
        #: The optimizer of the last training, with its state (None before any).
        self.optimizer: Optional[Optimizer] = None
        #: Epochs trained so far (training continues counting from here).
        self.epochs_trained = 0

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({k}): {layer!r}" for k, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)  # loss={self.loss_name!r}"

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, k: int) -> Layer:
        return self.layers[k]

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    # -- forward and backward ----------------------------------------------------

    def forward(self, x: Tensor) -> Tensor:
        """Return the last layer's output: x through every layer's forward, in order.

        If a layer refuses what it gets, the error names it, and what the layers
        before it changed (BatchNorm's running statistics, the generator that
        draws dropout masks) is put back: a failed forward changes nothing.
        """
        buffers = [(layer, layer.state_dict()) for layer in self.layers if layer.buffers()]
        rng = self.rng.getstate()
        try:
            for layer in self.layers:
                x = layer.forward(x)
        except BaseException:
            for layer, state in buffers:
                for name in layer.BUFFERS:
                    setattr(layer, name, state[name])
            self.rng.setstate(rng)
            raise
        return x

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

    def backward(self, grad_output: Tensor) -> Tensor:
        """Return ∂loss/∂input from ∂loss/∂output, every layer's backward in reverse order
        (each sets its parameters' gradients: ``gradients()``)."""
        for layer in reversed(self.layers):
            grad_output = layer.backward(grad_output)
        return grad_output

    def loss(self, output: Tensor, y: Tensor) -> float:
        """Return the loss of the output (N × K) against the targets y (N × K)."""
        _same_shape("Sequential.loss", output, y)
        return LOSSES[self.loss_name].value(y, output)

    def loss_gradient(self, output: Tensor, y: Tensor) -> Tensor:
        """Return ∂loss/∂output: the gradient backward starts from."""
        _same_shape("Sequential.loss_gradient", output, y)
        return LOSSES[self.loss_name].gradient(y, output)

    # -- parameters, by torch's keys ------------------------------------------------

    def parameters(self) -> Dict[str, Tensor]:
        """Return every parameter by torch's key ("0.weight"), the lists themselves."""
        return {f"{k}.{name}": value for k, layer in enumerate(self.layers)
                for name, value in layer.parameters().items()}

    def gradients(self) -> Dict[str, Tensor]:
        """Return ∂loss/∂parameter under the keys of ``parameters()``, from the last backward."""
        out: Dict[str, Tensor] = {}
        for k, layer in enumerate(self.layers):
            if layer.parameters():
                for name, value in layer.gradients().items():
                    out[f"{k}.{name}"] = value
        return out

    def state_dict(self) -> Dict[str, Tensor]:
        """Return copies of every parameter and buffer by torch's keys, in torch's order."""
        return {f"{k}.{name}": value for k, layer in enumerate(self.layers)
                for name, value in layer.state_dict().items()}

    def load_state_dict(self, state: Dict[str, Tensor]) -> None:
        """Take every parameter and buffer from ``state`` (torch's keys, nested lists).

        Checked whole before anything is taken: a missing or unexpected key, or a
        shape that differs, is a ValueError naming the key and the layer, and
        the model is left as it was.
        """
        op = "Sequential.load_state_dict"
        if not isinstance(state, dict):
            raise TypeError(f"{op}: state must be a dict of tensors, got {type(state).__name__}")
        wanted = self.state_dict()
        missing, unknown = sorted(set(wanted) - set(state)), sorted(set(state) - set(wanted))
        if missing or unknown:
            raise ValueError(f"{op}: state must have the keys {list(wanted)}, got missing"
                             f" {missing} and unexpected {unknown}")
        parts: List[Dict[str, Tensor]] = [{} for _ in self.layers]
        for key, value in state.items():
            index, name = key.split(".", 1)
            parts[int(index)][name] = value
        taken = []
        for k, (layer, part) in enumerate(zip(self.layers, parts)):  # every layer checked first
            try:
                taken.append(layer.checked_state(part))
            except (ValueError, TypeError) as error:
                raise type(error)(f"{op}: layer {k} ({layer!r}): {error}") from None
        for layer, values in zip(self.layers, taken):  # then taken, all of it
            for name, value in values.items():
                setattr(layer, name, value)

    # -- modes ----------------------------------------------------------------------

    def eval(self) -> Sequential:
        """Evaluation mode for every layer (BatchNorm's running statistics, no dropout)."""
        for layer in self.layers:
            layer.eval()
        return self

    # -- training ------------------------------------------------------------------

    def step(self, X: Tensor, y: Tensor, optimizer: Optimizer) -> float:
        """One step: forward, the loss, backward, the optimizer's update; return the loss
        before the step. The optimizer works on the parameters in one flat list, in
        ``parameters()`` order."""
        output = self.forward(X)
        before = self.loss(output, y)
        self.backward(self.loss_gradient(output, y))
        params, grads = self.parameters(), self.gradients()
        keys = list(params)
        p = [v for key in keys for v in flat(params[key])]
        g = [v for key in keys for v in flat(grads[key])]
        updated = optimizer.update(p, g)
        start = 0
        for key in keys:
            count = len(flat(params[key]))
            index, name = key.split(".", 1)
            value = updated[start:start + count]
            shape = dims(params[key])
            setattr(self.layers[int(index)], name, unflat(value, shape) if shape else value[0])
            start += count
        return before

    def train(self, X: Any = True, y: Optional[Tensor] = None, epochs: Optional[int] = None,
              learning_rate: Optional[float] = None, batch_size: Optional[int] = None,
              log_every: int = 1000, log: training.Log = print,
              *, optimizer: Optional[Optimizer] = None) -> Any:
        """``train()`` or ``train(False)``: set the mode, as torch's (returns the model).
        ``train(X, y, epochs, ...)``: train, in training mode; return each epoch's loss.

        Each epoch is one full-batch step (``batch_size=None``) or steps on the
        mini-batches of one shuffle of the samples by the model's generator; an
        epoch's loss adds the batches' losses by their share of the samples
        ("half_sse": adds them), as Network's. The step is ``optimizer``'s, or
        SGD(learning_rate), or the last training's optimizer going on. If the
        loss or a parameter stops being finite, DivergenceError, and the model
        is as it was after the last finite epoch.
        """
        if isinstance(X, bool):
            for layer in self.layers:
                layer.train(X)
            return self
        op = "Sequential.train"
        if y is None or epochs is None:
            raise TypeError(f"{op}: train(X, y, epochs) must have X, y and epochs, or be"
                            f" train() / train(False) to set the mode; got y={y!r},"
                            f" epochs={epochs!r}")
        epochs = _checks.count(op, "epochs", epochs)
        n = shape_of(op, "X", X, _rank(X))[0]
        if shape_of(op, "y", y, 2)[0] != n:
            raise ValueError(f"{op}: y must have one row per sample of X ({n}), got"
                             f" {len(y)}")
        if learning_rate is not None and optimizer is not None:
            raise ValueError(f"{op}: give learning_rate or optimizer, not both; got"
                             f" learning_rate={learning_rate!r} and optimizer={optimizer!r}")
        step = (optimizer if optimizer is not None
                else SGD(_checks.learning_rate(op, learning_rate)) if learning_rate is not None
                else self.optimizer)
        if step is None:
            raise ValueError(f"{op}: an optimizer must be given (optimizer= or learning_rate=)"
                             f" for the first training, got neither")
        if batch_size is not None:
            batch_size = _checks.size(op, "batch_size", batch_size)
        log_every = training.check_options(op, log_every, log, None, False, None)
        modes = [layer.training for layer in self.layers]
        self.train(False)  # one sample, in evaluation mode (no statistic moves): y's width
        try:
            _same_shape(op, self.forward(X[:1]), [y[0]])
        finally:
            for layer, mode in zip(self.layers, modes):
                layer.train(mode)
        self.train(True)
        previous, self.optimizer = self.optimizer, step
        first_epoch = self.epochs_trained
        sum_reduction = LOSSES[self.loss_name].reduction == "sum"
        losses: List[float] = []
        for epoch in range(self.epochs_trained, self.epochs_trained + epochs):
            before = self._state()
            try:
                if batch_size is None:
                    loss = self.step(X, y, step)
                else:
                    order = list(range(n))
                    self.rng.shuffle(order)
                    loss = 0.0
                    for start in range(0, n, batch_size):
                        rows = order[start:start + batch_size]
                        batch_loss = self.step([X[i] for i in rows], [y[i] for i in rows], step)
                        loss += batch_loss if sum_reduction else batch_loss * len(rows) / n
                training.count_epoch(self, before, op, epoch, loss, step.lr)
            except (ValueError, TypeError, ArithmeticError):
                # divergence (count_epoch undid the epoch), or a batch a layer refuses (a
                # BatchNorm batch of one): the epoch is undone; if no epoch of this call
                # was finished, the optimizer of the last training stays, as Network's
                self._restore(before)
                if self.epochs_trained == first_epoch:
                    self.optimizer = previous
                raise
            losses.append(loss)
            training.report(self, epoch, loss, log_every, log, None)
        return losses

    # -- what purebp.training needs -------------------------------------------------

    def _state(self) -> Any:
        return ([layer.state_dict() for layer in self.layers], self.rng.getstate(),
                None if self.optimizer is None else self.optimizer.copy())

    def _restore(self, state: Any) -> None:
        layers, rng_state, optimizer = state
        for layer, saved in zip(self.layers, layers):
            for name, value in saved.items():  # copies made by _state: no checks needed
                setattr(layer, name, value)
        self.rng.setstate(rng_state)
        if optimizer is not None and self.optimizer is not None:
            self.optimizer.take_state(optimizer)

    def _finite(self) -> bool:
        return all(math.isfinite(v) for value in self.state_dict().values()
                   if not isinstance(value, int) for v in flat(value))


def _same_shape(op: str, output: Tensor, y: Tensor) -> None:
    """Refuse targets whose shape is not the output's (N × K), naming both."""
    found = shape_of(op, "y", y, 2)
    wanted = shape_of(op, "the output", output, 2)
    if found != wanted:
        raise ValueError(f"{op}: y must have the output's shape {wanted[0]} × {wanted[1]} (one"
                         f" row per sample, one column per output), got {found[0]} × {found[1]}")


def _rank(t: Tensor) -> int:
    return rank_of(t)


