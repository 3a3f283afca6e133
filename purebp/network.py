"""The general fully-connected network: any depth, the usual activations and losses.

``Network([2, 4, 1])`` is the tutorial's network again, written as the loop
version of the same equations; ``Network([3, 16, 16, 2], "tanh", "softmax",
"cross_entropy", "xavier")`` is a deeper one. The equations, with the code's
names (one row per sample; layers l = 0 … L−1, L = len(sizes) − 1):

    forward                                   backward
    activations[0] = X                        deltas[L−1] = ∂loss/∂zs[L−1]           (output delta)
    zs[l] = activations[l]·weights[l]         deltas[l−1] = (deltas[l]·weights[l]ᵀ) ⊙ f′(zs[l−1])
            + biases[l]                       grad_w[l] = activations[l]ᵀ·deltas[l]
    activations[l+1] = f_l(zs[l])             grad_b[l] = Σ_n deltas[l]

where f_l is ``activation`` for the hidden layers and ``output_activation``
for the last one. The output delta is ∂loss/∂ŷ ⊙ f′(zs[L−1]) for half_sse
and mse; for bce (with sigmoid) and cross_entropy (with softmax) the loss
gives ∂loss/∂zs[L−1] directly, in its stable form (see ``purebp.losses``).

The numbering differs from some texts by one: here ``weights[l]`` takes layer
l's activations to layer l+1's pre-activations, so ``zs[l]`` belongs to layer
l+1 and the input X is ``activations[0]``.

``train`` is the loop of ``_epoch`` in plain sight; by default one visible
line before it hands the same work to purebp.fast, which gets the same bits
from code written out for the network's shape where it can. The matrix code
here is the reference, which ``forward``, ``gradients``, ``step``, ``trace``
and ``train(..., fast=False)`` use.

The step is the optimizer's (purebp.optimizers): plain gradient descent,
p ← p − learning_rate·∂loss/∂p, unless ``train`` is given another, such as
``Adam(lr=0.01)``. ``train(..., validation=(X_val, y_val))`` records the
validation loss each epoch, and ``early_stopping=K`` stops when it has not
improved for K epochs (purebp.training).

What this module does not do: convolution, recurrence, dropout.
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable, ClassVar, Dict, List, Optional, Sequence, Tuple, TypedDict

from purebp import _checks, optimizers, training
from purebp._types import Matrix, RealMatrix, StrPath
from purebp.activations import ACTIVATIONS, softmax
from purebp.activations import NAMES as ACTIVATION_NAMES
from purebp.errors import DivergenceError
from purebp.fast import loop as fast_loop
from purebp.fast import unrolled
from purebp.files import model
from purebp.losses import LOSSES
from purebp.matrix import (
    add_row,
    apply,
    column_sums,
    matmul,
    multiply,
    transpose,
)
from purebp.optimizers import SGD, Optimizer

#: The initialisations: the standard deviation of the normal each layer's
#: weights are drawn from, given the layer's fan_in and fan_out.
INITS: Dict[str, Callable[[int, int], float]] = {
    # The tutorial's np.random.randn: a standard normal.
    "normal": lambda fan_in, fan_out: 1.0,
    # Glorot & Bengio (2010), normal form: Var = 2 / (fan_in + fan_out)
    # (torch.nn.init.xavier_normal_ with gain 1).
    "xavier": lambda fan_in, fan_out: math.sqrt(2.0 / (fan_in + fan_out)),
    # He et al. (2015), normal form: Var = 2 / fan_in
    # (torch.nn.init.kaiming_normal_ with mode="fan_in", nonlinearity="relu").
    "he": lambda fan_in, fan_out: math.sqrt(2.0 / fan_in),
}


class Trace(TypedDict):
    """What ``Network.trace`` returns: every quantity of one gradient-descent step."""

    zs: List[Matrix]  # zs[l] = activations[l]·weights[l] + biases[l]
    activations: List[Matrix]  # activations[0] is X
    loss: float
    deltas: List[Matrix]  # deltas[l] = ∂loss/∂zs[l]
    gradients: Dict[str, List[Matrix]]  # {"weights": [...], "biases": [...]}, as gradients returns
    updated: Dict[str, List[Matrix]]  # the parameters after the step, in the same layout


@model.model_file
class Network:
    """A fully-connected feed-forward network, trained by gradient descent or an optimizer.

    Arguments:
        sizes              layer sizes, input first: [2, 4, 1], [3, 16, 16, 2]
        activation         of the hidden layers: identity, sigmoid, tanh, relu, leaky_relu
        output_activation  of the last layer; None means what the loss needs (sigmoid
                           for bce, softmax for cross_entropy), else ``activation``;
                           softmax only with loss="cross_entropy"
        loss               half_sse, mse, bce (needs a sigmoid output),
                           cross_entropy (needs a softmax output)
        init               normal (standard normal), xavier or he
        seed               for the weights and, later, the mini-batch shuffles

    Attributes (lists of lists of float, which a caller may replace):
        weights  L matrices, weights[l] of shape (sizes[l], sizes[l+1])
        biases   L matrices, biases[l] of shape (1, sizes[l+1]), zero at first
        zs, activations   after ``forward``: each layer's pre-activation and
                 activation (activations[0] is the input)
        rng      the random.Random that drew the weights and shuffles batches
        epochs_trained   epochs ``train`` has completed (saved with the network)
        optimizer        the optimizer ``train`` last used, with its state (saved
                 with the network), None before the first ``train``
        best     early stopping's record during a run (saved), else None
        history  per epoch trained with validation data: "epoch", "loss",
                 "val_loss", "val_accuracy" (lists; not saved)

    Weights are drawn layer by layer, row by row, with ``rng.gauss``; with
    init="normal" and the same seed they equal ``NeuralNetwork``'s.

    >>> Network([2, 4, 1], seed=0)
    Network([2, 4, 1], activation='sigmoid', output_activation='sigmoid', loss='half_sse', init='normal')
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "sigmoid",
        output_activation: Optional[str] = None,
        loss: str = "half_sse",
        init: str = "normal",
        seed: Optional[int] = None,
    ) -> None:
        op = "Network"
        if isinstance(sizes, (str, bytes)) or not _checks.is_sequence(sizes):
            raise TypeError(f"{op}: sizes must be a list of ints like [2, 4, 1],"
                            f" got {_checks._describe(sizes)}")
        if len(sizes) < 2:
            raise ValueError(
                f"{op}: sizes must hold at least two sizes, an input and an output size,"
                f" got {_checks._short_repr(list(sizes))}"
            )
        sizes = _checks.layer_sizes(op, sizes, [f"sizes[{i}]" for i in range(len(sizes))])
        activation = _checks.name(op, "activation", activation, tuple(ACTIVATIONS))
        loss = _checks.name(op, "loss", loss, tuple(LOSSES))
        needed = LOSSES[loss].output_activation
        if output_activation is None:
            # What the loss needs (sigmoid for bce, softmax for cross_entropy),
            # else the hidden layers' activation.
            output_activation = activation if needed is None else needed
        output_activation = _checks.name(
            op, "output_activation", output_activation, ACTIVATION_NAMES
        )
        if needed is not None and output_activation != needed:
            raise ValueError(
                f"{op}: output_activation must be {needed!r} for loss={loss!r},"
                f" got {output_activation!r}"
            )
        if output_activation == "softmax" and loss != "cross_entropy":
            raise ValueError(
                f"{op}: loss must be 'cross_entropy' for output_activation='softmax',"
                f" got {loss!r}"
            )
        init = _checks.name(op, "init", init, tuple(INITS))
        self.rng = random.Random(_checks.seed(op, seed))

        self.sizes = sizes
        self.activation = activation
        self.output_activation = output_activation
        self.loss_name = loss
        self.init = init
        self.weights: List[Matrix] = []
        self.biases: List[Matrix] = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            std = INITS[init](fan_in, fan_out)
            self.weights.append(
                [[self.rng.gauss(0.0, std) for _ in range(fan_out)] for _ in range(fan_in)]
            )
            self.biases.append([[0.0] * fan_out])
        self.zs: List[Matrix] = []
        self.activations: List[Matrix] = []
        self.epochs_trained = 0
        #: Which code the last ``train`` ran: "written-out", "reference", "readable" (None: none yet).
        self.last_path: Optional[str] = None
        self.optimizer: Optional[Optimizer] = None
        self.best: Optional[training.Best] = None
        self.history: Dict[str, List[Any]] = training.new_history()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.sizes!r}, activation={self.activation!r},"
            f" output_activation={self.output_activation!r}, loss={self.loss_name!r},"
            f" init={self.init!r})"
        )

    @property
    def depth(self) -> int:
        """L, the number of weight layers (len(sizes) − 1)."""
        return len(self.sizes) - 1

    # -- the forward pass --------------------------------------------------

    def forward(self, X: RealMatrix) -> Matrix:
        """Return the outputs ŷ for the rows of X (n × sizes[0] → n × sizes[-1]).

        Keeps every layer's pre-activation in ``zs`` and activation in
        ``activations`` (``activations[0]`` is X as floats).
        """
        X = self._check_inputs("forward", X)
        self.check_parameters("forward")
        self.zs, self.activations = self._forward(X)
        return self.activations[-1]

    def _forward(self, X: Matrix) -> Tuple[List[Matrix], List[Matrix]]:
        """Return (zs, activations) for checked X; changes nothing."""
        zs, activations = [], [X]
        for l in range(self.depth):
            z = add_row(matmul(activations[l], self.weights[l]), self.biases[l])
            zs.append(z)
            activations.append(self._activate(l, z))
        return zs, activations

    def _activate(self, l: int, z: Matrix) -> Matrix:
        """Return f_l(z): layer l's activation (softmax acts row by row)."""
        name = self.output_activation if l == self.depth - 1 else self.activation
        if name == "softmax":
            return [softmax(row) for row in z]
        return apply(ACTIVATIONS[name].f, z)

    # -- the loss and its gradients ----------------------------------------

    def loss(self, X: RealMatrix, y: RealMatrix) -> float:
        """Return the loss of the network's outputs on X against targets y."""
        X, y = self._check_batch("loss", X, y)
        self.check_parameters("loss")
        zs, activations = self._forward(X)
        return self._loss_value(y, zs, activations)

    def _loss_value(self, y: Matrix, zs: List[Matrix], activations: List[Matrix]) -> float:
        loss = LOSSES[self.loss_name]
        return loss.value(y, zs[-1] if loss.of == "logits" else activations[-1])

    def gradients(self, X: RealMatrix, y: RealMatrix) -> Dict[str, List[Matrix]]:
        """Return {"weights": [∂loss/∂weights[l]], "biases": [∂loss/∂biases[l]]}.

        Each gradient has the shape of its parameter. The network, including
        what the last ``forward`` kept, is left exactly as it was.
        """
        X, y = self._check_batch("gradients", X, y)
        self.check_parameters("gradients")
        zs, activations = self._forward(X)
        return self._backpropagate(y, zs, activations)

    def _backpropagate(
        self, y: Matrix, zs: List[Matrix], activations: List[Matrix],
        deltas: Optional[List[Matrix]] = None,
    ) -> Dict[str, List[Matrix]]:
        """Return the gradients from one forward pass's zs and activations.

        If ``deltas`` is a list, it is filled with δ for every layer (as
        ``deltas[l]`` = ∂loss/∂zs[l]), for ``trace`` and ``purebp explain``.
        """
        L = self.depth
        loss = LOSSES[self.loss_name]
        # output delta: ∂loss/∂zs[L−1]
        if loss.of == "logits":
            delta = loss.gradient(y, zs[L - 1])
        else:
            delta = multiply(
                loss.gradient(y, activations[L]),
                self._f_prime(self.output_activation, zs[L - 1], activations[L]),
            )
        grad_w: List[Matrix] = [[] for _ in range(L)]
        grad_b: List[Matrix] = [[] for _ in range(L)]
        if deltas is not None:
            deltas[:] = [[] for _ in range(L)]
        for l in range(L - 1, -1, -1):
            if deltas is not None:
                deltas[l] = delta
            grad_w[l] = matmul(transpose(activations[l]), delta)
            grad_b[l] = column_sums(delta)
            if l > 0:
                # hidden delta: back through weights[l], then through f′ of layer l
                delta = multiply(
                    matmul(delta, transpose(self.weights[l])),
                    self._f_prime(self.activation, zs[l - 1], activations[l]),
                )
        return {"weights": grad_w, "biases": grad_b}

    @staticmethod
    def _f_prime(name: str, z: Matrix, a: Matrix) -> Matrix:
        """Return f′(z) element by element, given z and a = f(z)."""
        return apply(ACTIVATIONS[name].f_prime, z, a)

    def trace(self, X: RealMatrix, y: RealMatrix, learning_rate: Optional[float] = None,
              *, optimizer: Optional[Optimizer] = None) -> Trace:
        """Return every quantity of one training step (a Trace), changing nothing.

        Keys: ``zs``, ``activations`` (activations[0] is X), ``loss``,
        ``deltas`` (∂loss/∂zs[l] per layer), ``gradients`` (as ``gradients``
        returns them) and ``updated`` ({"weights", "biases"} after the step).
        The step is gradient descent with ``learning_rate``, or ``optimizer``'s
        (a copy of it takes the step; the one given is left as it was).
        ``purebp explain`` prints these.
        """
        op = "trace"
        X, y = self._check_batch(op, X, y)
        step = self._optimizer(op, learning_rate, optimizer).copy()
        self.check_parameters(op)
        zs, activations = self._forward(X)
        deltas: List[Matrix] = []
        grads = self._backpropagate(y, zs, activations, deltas)
        return {
            "zs": zs, "activations": activations,
            "loss": self._loss_value(y, zs, activations), "deltas": deltas,
            "gradients": grads,
            "updated": self._updated(step, grads),
        }

    # -- training ------------------------------------------------------------

    def step(self, X: RealMatrix, y: RealMatrix, learning_rate: Optional[float] = None,
             *, optimizer: Optional[Optimizer] = None) -> float:
        """Take one step on the batch (X, y); return the loss before it.

        The step is gradient descent with ``learning_rate``, or ``optimizer``'s,
        which then becomes ``self.optimizer``; with neither, ``self.optimizer``'s.
        """
        op = "step"
        X, y = self._check_batch(op, X, y)
        step = self._optimizer(op, learning_rate, optimizer)
        self.check_parameters(op)
        self.optimizer = step
        return self._step(X, y, step)

    def _step(self, X: Matrix, y: Matrix, optimizer: Optimizer) -> float:
        self.zs, self.activations = self._forward(X)
        before = self._loss_value(y, self.zs, self.activations)
        grads = self._backpropagate(y, self.zs, self.activations)
        updated = self._updated(optimizer, grads)
        self.weights, self.biases = updated["weights"], updated["biases"]
        return before

    def _updated(self, optimizer: Optimizer, grads: Dict[str, List[Matrix]]) -> Dict[str, List[Matrix]]:
        """Return the parameters after the optimizer's step; the optimizer's state moves on.

        With SGD(learning_rate), every parameter p becomes p − learning_rate·∂loss/∂p.
        The optimizer works on the parameters in one flat list (weights, then
        biases, layer by layer, row by row: purebp.optimizers).
        """
        p = _flat(self.weights) + _flat(self.biases)
        g = _flat(grads["weights"]) + _flat(grads["biases"])
        return _unflat(optimizer.update(p, g), self.sizes)

    def _optimizer(self, op: str, learning_rate: Optional[float],
                   optimizer: Optional[Optimizer]) -> Optimizer:
        """Return the step to take: SGD(learning_rate), the optimizer given, or self.optimizer."""
        if learning_rate is not None and optimizer is not None:
            raise ValueError(f"{op}: give learning_rate or optimizer, not both; got"
                             f" learning_rate={learning_rate!r} and optimizer={optimizer!r}")
        if learning_rate is not None:
            plain = SGD(_checks.learning_rate(op, learning_rate))
            if self.optimizer is not None and self.optimizer.config() == plain.config():
                return self.optimizer  # the same rule goes on counting its steps
            return plain
        if optimizer is None:
            if self.optimizer is None:
                raise TypeError(f"{op}: give learning_rate (a float) or optimizer"
                                f" (purebp.optimizers), got neither")
            optimizer = self.optimizer
        optimizer = optimizers.as_optimizer(op, optimizer)
        optimizer.check_size(op, self._parameter_count())
        return optimizer

    def _parameter_count(self) -> int:
        return sum(m * (n + 1) for n, m in zip(self.sizes[:-1], self.sizes[1:]))

    def train(
        self,
        X: RealMatrix,
        y: RealMatrix,
        epochs: int,
        learning_rate: Optional[float] = None,
        batch_size: Optional[int] = None,
        log_every: int = 1000,
        log: training.Log = print,
        on_epoch: training.OnEpoch = None,
        fast: bool | str = True,
        *,
        optimizer: Optional[Optimizer] = None,
        validation: Optional[Tuple[RealMatrix, RealMatrix]] = None,
        early_stopping: Optional[int] = None,
    ) -> List[float]:
        """Train for ``epochs`` more epochs; return each epoch's loss.

        The step is gradient descent with ``learning_rate`` (``SGD(learning_rate)``),
        or ``optimizer``'s (``Adam(lr=0.01)``, purebp.optimizers), which becomes
        ``self.optimizer`` and keeps its state there; give one or the other,
        or neither to go on with ``self.optimizer`` (a loaded checkpoint's).

        With ``batch_size=None`` every epoch is one full-batch step, as in the
        tutorial. With a batch size, every epoch shuffles the samples with
        ``self.rng`` and steps on consecutive batches of that size (the last
        may be smaller); the same seed gives the same run, bit for bit.

        An epoch's loss is the loss of the data set at the parameters each
        batch saw: the batches' losses added (half_sse) or averaged by their
        share of samples (mse, bce, cross_entropy). For one full batch that is
        simply the loss before the step. Every ``log_every`` epochs it passes
        ``Epoch N, Loss: 0.1234`` to ``log`` (``print`` by default; ``None``
        silences it). Epochs count on from ``self.epochs_trained``, so a
        network saved and loaded mid-training resumes exactly where it was.

        ``on_epoch(net, epoch, loss)``, if given, is called after every epoch;
        when it returns False training stops there (the command line's Ctrl-C
        and checkpoints use this). If the loss or a parameter stops being
        finite, training stops with ``DivergenceError`` and the network is
        left as it was after the last finite epoch.

        ``validation=(X_val, y_val)`` computes the loss and accuracy on that
        data after every epoch, at the epoch's final parameters, records them
        in ``self.history`` and shows the loss in the log line.
        ``early_stopping=K`` (with validation) stops when K epochs in a row
        have not lowered the validation loss below the lowest so far, and
        gives the network back the parameters of the epoch that reached that
        lowest loss first (ties keep the earlier epoch); ``epochs_trained``
        and the optimizer's state stay those of the last epoch run.
        purebp.training describes it exactly.

        ``fast=True`` computes the very same bits many times faster, with the
        faster of two codes for this network and interpreter (purebp.fast,
        purebp/docs/speed.md): the equations written out for its shape, or
        the reference's matrix arithmetic in the fastest exact form;
        ``fast="written-out"`` or ``fast="reference"`` takes one of them,
        and ``fast=False`` runs the loop below, to step through it.
        ``self.last_path`` says which ran: "written-out", "reference" or "readable".
        """
        op = "train"
        X, y = self._check_batch(op, X, y)
        epochs = _checks.count(op, "epochs", epochs)
        step = self._optimizer(op, learning_rate, optimizer)
        if batch_size is not None:
            batch_size = _checks.size(op, "batch_size", batch_size)
        log_every = training.check_options(op, log_every, log, on_epoch, fast, self._spec())
        watch = training.Validation.of(op, self, validation, early_stopping)
        self.check_parameters(op)
        start, previous, self.optimizer = self.epochs_trained, self.optimizer, step
        try:
            if fast:  # the same numbers, faster (purebp.fast); skip to read on
                return fast_loop.train(self, X, y, epochs, step, batch_size, log_every, log,
                                       on_epoch, watch, fast)

            self.last_path = "readable"

            losses: List[float] = []
            for epoch in range(self.epochs_trained, self.epochs_trained + epochs):
                before = self._state()  # to go back to if this epoch diverges
                loss = self._epoch(X, y, step, batch_size)
                training.count_epoch(self, before, op, epoch, loss, step.lr)
                losses.append(loss)
                # validation, the log line, on_epoch; False: early stopping or on_epoch stops
                if not training.report(self, epoch, loss, log_every, log, on_epoch, watch):
                    break
            return losses
        except DivergenceError:
            if self.epochs_trained == start:  # no epoch of this call was finite:
                self.optimizer = previous  # the optimizer of the last finite one stays
            raise

    def _epoch(self, X: Matrix, y: Matrix, optimizer: Optimizer,
               batch_size: Optional[int]) -> float:
        """Run one epoch (full batch, or shuffled mini-batches); return its loss."""
        if batch_size is None:
            return self._step(X, y, optimizer)
        loss = 0.0
        for rows in self._batches(len(X), batch_size):
            batch_loss = self._step([X[i] for i in rows], [y[i] for i in rows], optimizer)
            loss += self._share(batch_loss, len(rows), len(X))
        return loss

    def _batches(self, n: int, batch_size: int) -> List[List[int]]:
        """Return an epoch's mini-batches: the n row indices shuffled with self.rng, cut up."""
        order = list(range(n))
        self.rng.shuffle(order)
        return [order[start:start + batch_size] for start in range(0, n, batch_size)]

    def _share(self, batch_loss: float, size: int, n: int) -> float:
        """Return what a batch of ``size`` of the n samples adds to the epoch's loss."""
        if LOSSES[self.loss_name].reduction == "sum":
            return batch_loss
        return batch_loss * size / n

    # -- saving and loading --------------------------------------------------

    def save(self, path: StrPath) -> None:
        """Write the network, its training state included, to a model file (atomically).

        The format is documented in purebp/docs/model-format.md; ``Network.load``
        reads it back bit for bit.
        """
        model.save(self, path)

    @classmethod
    def load(cls, path: StrPath) -> Network:
        """Return the Network saved in ``path``; ModelFormatError (a ValueError) if it is unusable."""
        network: Network = model.load(path, cls)
        return network

    # What a model file needs of this class (the protocol of purebp.files.model).
    MODEL_CLASS: ClassVar[str] = "Network"

    def model_network(self) -> Dict[str, Any]:
        """Return the model file's "network" field: the constructor's arguments but the seed."""
        return {"sizes": self.sizes, "activation": self.activation,
                "output_activation": self.output_activation, "loss": self.loss_name,
                "init": self.init}

    @classmethod
    def from_model(cls, network: Dict[str, Any]) -> Network:
        """Return a network of the architecture ``model_network`` describes (weights to be set)."""
        return cls(network["sizes"], network["activation"], network["output_activation"],
                   network["loss"], network["init"], seed=0)

    # -- the network as layers, for purebp.fast and purebp.files ----------------

    def _layers(self) -> Tuple[List[Matrix], List[Matrix]]:
        return self.weights, self.biases

    def _set_layers(self, weights: List[Matrix], biases: List[Matrix]) -> None:
        self.weights, self.biases = weights, biases

    def _keep_forward(self, X: Matrix, zs: List[Matrix], activations: List[Matrix]) -> None:
        self.zs, self.activations = zs, [X] + activations

    def _spec(self) -> unrolled.Spec:
        return unrolled.Spec(tuple(self.sizes), self.activation, self.output_activation,
                             self.loss_name, self.loss_name)

    def _state(self) -> Tuple[Any, ...]:
        # The lists are replaced, never changed in place, so references suffice;
        # the optimizer changes its state in place, so it is copied.
        optimizer = None if self.optimizer is None else self.optimizer.copy()
        return (self.weights, self.biases, self.rng.getstate(), self.zs, self.activations,
                optimizer)

    def _restore(self, state: Tuple[Any, ...]) -> None:
        self.weights, self.biases, rng_state, self.zs, self.activations, optimizer = state
        self.rng.setstate(rng_state)
        if optimizer is not None and self.optimizer is not None:
            self.optimizer.take_state(optimizer)  # the same object, its state put back

    def _validate(self, X: Matrix, y: Matrix) -> Tuple[float, float]:
        """Return (loss, accuracy) on checked data, changing nothing."""
        zs, activations = self._forward(X)
        return self._loss_value(y, zs, activations), _accuracy(activations[-1], y)

    def _finite(self) -> bool:
        return _checks.all_finite(self.weights) and _checks.all_finite(self.biases)

    def accuracy(self, X: RealMatrix, y: RealMatrix) -> float:
        """Return the fraction of samples classified right.

        With one output, a sample counts as class 1 when ŷ > 0.5 and matches
        a target > 0.5; with several, the largest output must be where the
        largest target is (one-hot or class-probability targets).
        """
        X, y = self._check_batch("accuracy", X, y)
        self.check_parameters("accuracy")
        _, activations = self._forward(X)
        return _accuracy(activations[-1], y)

    # -- checks ------------------------------------------------------------

    def _check_inputs(self, op: str, X: RealMatrix, name: str = "X") -> Matrix:
        return _checks.float_matrix(op, name, X, columns=self.sizes[0], columns_meaning="sizes[0]")

    def _check_batch(self, op: str, X: RealMatrix, y: RealMatrix,
                     names: Tuple[str, str] = ("X", "y")) -> Tuple[Matrix, Matrix]:
        """Return X and y as floats, checked against the sizes and the loss.

        ``names`` are what messages call them (validation data: "validation[0]", ...).
        """
        x_name, y_name = names
        X = self._check_inputs(op, X, x_name)
        y = _checks.float_matrix(op, y_name, y, columns=self.sizes[-1],
                                 columns_meaning="sizes[-1]")
        if len(y) != len(X):
            raise ValueError(f"{op}: {y_name} has {len(y)} rows, expected {len(X)} like {x_name}")
        if self.loss_name == "bce":
            for i, row in enumerate(y):
                for j, t in enumerate(row):
                    if not 0.0 <= t <= 1.0:
                        raise ValueError(
                            f"{op}: {y_name}[{i}][{j}] must lie in [0, 1] for loss='bce',"
                            f" got {t!r}"
                        )
        if self.loss_name == "cross_entropy":
            for i, row in enumerate(y):
                if min(row) < 0.0 or max(row) > 1.0 + 1e-6:
                    raise ValueError(
                        f"{op}: {y_name}[{i}] must hold class probabilities in [0, 1] for"
                        f" loss='cross_entropy', got {_checks._short_repr(row)}"
                    )
                total = math.fsum(row)
                # Probabilities written to a few digits may miss 1 by rounding.
                if abs(total - 1.0) > 1e-6:
                    raise ValueError(
                        f"{op}: {y_name}[{i}] must sum to 1 for loss='cross_entropy' (class"
                        f" probabilities: one-hot, say), got a sum of {total!r}"
                    )
        return X, y

    def check_parameters(self, op: str) -> Tuple[List[Matrix], List[Matrix]]:
        """Return (weights, biases) as floats; raise naming a layer a caller spoiled.

        Parameters given as anything but lists of lists of floats (numpy arrays,
        float32 scalars, ints) are replaced by these float copies, of the same
        values, so that the network computes in float64.
        """
        checked: List[List[Matrix]] = []
        converted = False
        for name, params, row_sizes in (
            ("weights", self.weights, self.sizes[:-1]),
            ("biases", self.biases, [1] * self.depth),
        ):
            if not _checks.is_sequence(params):
                raise ValueError(f"{op}: {name} must be a list of {self.depth} matrices"
                                 f" (one per layer), got {_checks._describe(params)}")
            if len(params) != self.depth:
                raise ValueError(f"{op}: {name} has {len(params)} matrices, expected"
                                 f" {self.depth} (one per layer)")
            layers = [_checks.float_matrix_copied(op, f"{name}[{l}]", matrix, rows=rows,
                                                  columns=self.sizes[l + 1])
                      for l, (matrix, rows) in enumerate(zip(params, row_sizes))]
            checked.append([matrix for matrix, _ in layers])
            converted = converted or type(params) is not list or any(c for _, c in layers)
        weights, biases = checked
        if converted:  # every check passed: only now may the network change
            self.weights, self.biases = [[list(row) for row in m] for m in weights], \
                [[list(row) for row in m] for m in biases]
        return weights, biases


def _accuracy(outputs: Matrix, y: Matrix) -> float:
    """The fraction of rows classified right (see ``Network.accuracy``)."""
    right = 0
    for out, target in zip(outputs, y):
        if len(out) == 1:
            right += (out[0] > 0.5) == (target[0] > 0.5)
        else:
            right += out.index(max(out)) == target.index(max(target))
    return right / len(outputs)


def _flat(matrices: List[Matrix]) -> List[float]:
    """Every entry of the matrices, one after the other, row by row."""
    return [x for m in matrices for row in m for x in row]


def _unflat(flat: List[float], sizes: List[int]) -> Dict[str, List[Matrix]]:
    """{"weights", "biases"} for ``sizes`` from a flat list of weights, then biases."""
    at, weights, biases = 0, [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        weights.append([flat[at + i * fan_out:at + (i + 1) * fan_out] for i in range(fan_in)])
        at += fan_in * fan_out
    for fan_out in sizes[1:]:
        biases.append([flat[at:at + fan_out]])
        at += fan_out
    return {"weights": weights, "biases": biases}
