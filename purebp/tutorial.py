"""The tutorial's network: 2-4-1 sigmoid layers, trained on XOR, in pure Python.

``NeuralNetwork`` keeps the tutorial's class, method and attribute names and
its arithmetic, operation for operation, so it can be read line by line beside
the numpy original and follows it epoch for epoch. The equations, with the
names used here (one row per sample, as in the tutorial):

    forward                                      backward (gradients of E)
    hidden_activation  z1 = X·W1 + b1            output_delta  δ2 = (ŷ − y) ⊙ σ′(ŷ)
    hidden_output      h  = σ(z1)                hidden_delta  δ1 = (δ2·W2ᵀ) ⊙ σ′(h)
    output_activation  z2 = h·W2 + b2            ∂E/∂W2 = hᵀ·δ2    ∂E/∂b2 = Σ_n δ2
    predicted_output   ŷ  = σ(z2)                ∂E/∂W1 = Xᵀ·δ1    ∂E/∂b1 = Σ_n δ1

where W1 = ``weights_input_hidden``, b1 = ``bias_hidden``,
W2 = ``weights_hidden_output``, b2 = ``bias_output``, σ′ is
``sigmoid_derivative`` (which takes σ's output), and

    E = ½ Σ_n Σ_k (y_nk − ŷ_nk)²

is the loss whose gradient-descent step the tutorial takes: each parameter
moves by −learning_rate × ∂E/∂parameter. The log line, like the tutorial's,
shows a different number: the mean squared error, E·2 / (samples × outputs).

One sign convention differs from the tutorial's text, never its numbers: the
tutorial's ``output_error`` is y − ŷ and it adds its step; here it is ŷ − y,
the gradient ∂E/∂ŷ, and the step is subtracted. Negation is exact in floating
point, so every number agrees bit for bit.

``train`` is the tutorial's loop: for each epoch, ``feedforward``, then
``backward``, then the log line. By default one visible line before that
loop hands the same work to purebp.fast, which gets the same numbers, bit
for bit, from the equations written out for the network's sizes, many
times faster; ``train(..., fast=False)`` runs the loop itself. The methods
here are the reference the fast code is tested against, and
``feedforward``, ``backward`` and ``gradients`` always use them.

What this module does not do: other sizes of depth, other activations or
losses (that is the general network's work), mini-batches.
"""

from __future__ import annotations

import contextlib
import random
from typing import Any, ClassVar, Dict, Iterator, List, Optional, Tuple

from purebp import _checks, training
from purebp._types import Matrix, RealMatrix, StrPath
from purebp.activations import sigmoid, sigmoid_derivative
from purebp.fast import loop as fast_loop
from purebp.fast import unrolled
from purebp.files import model
from purebp.matrix import (
    add_row,
    apply,
    column_sums,
    matmul,
    multiply,
    scale,
    subtract,
    transpose,
)

#: The names of the parameters, in the order the constructor draws them.
PARAMETERS = (
    "weights_input_hidden",
    "weights_hidden_output",
    "bias_hidden",
    "bias_output",
)
#: What feedforward keeps, as the tutorial does.
INTERMEDIATES = ("hidden_activation", "hidden_output", "output_activation", "predicted_output")


@model.model_file
class NeuralNetwork:
    """A network with one hidden layer, sigmoid units and the tutorial's training.

    ``NeuralNetwork(2, 4, 1, seed=0)`` is the tutorial's XOR network. Weights
    are drawn from a standard normal with ``random.Random(seed)``, first
    ``weights_input_hidden`` row by row, then ``weights_hidden_output``;
    biases start at zero. The same seed always gives the same network, bit for
    bit; ``seed=None`` draws a fresh one.

    Attributes (plain lists of lists of float, which a caller may replace):
        weights_input_hidden   W1, input_size × hidden_size
        weights_hidden_output  W2, hidden_size × output_size
        bias_hidden            b1, 1 × hidden_size
        bias_output            b2, 1 × output_size
    and, after ``feedforward(X)`` with n rows, the tutorial's intermediates:
        hidden_activation z1 (n × hidden_size), hidden_output h (n × hidden_size),
        output_activation z2 (n × output_size), predicted_output ŷ (n × output_size);
    and ``epochs_trained``, the epochs ``train`` has completed.

    >>> net = NeuralNetwork(2, 4, 1, seed=1)
    >>> net
    NeuralNetwork(input_size=2, hidden_size=4, output_size=1)
    >>> len(net.feedforward([[0, 0], [0, 1], [1, 0], [1, 1]]))
    4
    """

    # The activation and its derivative, as the tutorial has them, on one number
    # (purebp.activations holds them, with their reasons).
    sigmoid = staticmethod(sigmoid)
    sigmoid_derivative = staticmethod(sigmoid_derivative)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        seed: Optional[int] = None,
    ) -> None:
        op = "NeuralNetwork"
        self.input_size, self.hidden_size, self.output_size = _checks.layer_sizes(
            op, (input_size, hidden_size, output_size), ("input_size", "hidden_size", "output_size"))
        rng = random.Random(_checks.seed(op, seed))

        def standard_normal(rows: int, columns: int) -> Matrix:
            return [[rng.gauss(0.0, 1.0) for _ in range(columns)] for _ in range(rows)]

        self.weights_input_hidden = standard_normal(self.input_size, self.hidden_size)
        self.weights_hidden_output = standard_normal(self.hidden_size, self.output_size)
        self.bias_hidden = [[0.0] * self.hidden_size]
        self.bias_output = [[0.0] * self.output_size]

        self.hidden_activation: Optional[Matrix] = None
        self.hidden_output: Optional[Matrix] = None
        self.output_activation: Optional[Matrix] = None
        self.predicted_output: Optional[Matrix] = None
        self.epochs_trained = 0
        #: Which code the last ``train`` ran: "written-out", "reference", "readable" (None: none yet).
        self.last_path: Optional[str] = None
        self._checked: Optional[Tuple[Matrix, Matrix]] = None  # see _checked_by_train

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(input_size={self.input_size},"
            f" hidden_size={self.hidden_size}, output_size={self.output_size})"
        )

    # -- the forward pass --------------------------------------------------

    def feedforward(self, X: RealMatrix) -> Matrix:
        """Return the predictions ŷ for the rows of X (n × input_size → n × output_size).

        Keeps z1, h, z2 and ŷ as ``hidden_activation``, ``hidden_output``,
        ``output_activation`` and ``predicted_output``, as the tutorial does.
        """
        X = self._check_inputs("feedforward", X)
        self._check_own_parameters("feedforward")

        self.hidden_activation = add_row(matmul(X, self.weights_input_hidden), self.bias_hidden)
        self.hidden_output = apply(self.sigmoid, self.hidden_activation)

        self.output_activation = add_row(matmul(self.hidden_output, self.weights_hidden_output),
                                         self.bias_output)
        self.predicted_output = apply(self.sigmoid, self.output_activation)

        return self.predicted_output

    # -- the backward pass -------------------------------------------------

    def backward(self, X: RealMatrix, y: RealMatrix, learning_rate: float) -> None:
        """Take one gradient-descent step on E, using the last ``feedforward(X)``.

        Every parameter p becomes p − learning_rate × ∂E/∂p, as in the
        tutorial; the gradients come from the h and ŷ that the last
        ``feedforward`` kept, so call it on the same X first.
        """
        X, y, learning_rate = self._check_step("backward", X, y, learning_rate)
        grad = self._backpropagate(X, y)

        # Update weights and biases: p ← p − learning_rate·∂E/∂p
        self.weights_hidden_output = subtract(self.weights_hidden_output,
                                              scale(learning_rate, grad["weights_hidden_output"]))
        self.bias_output = subtract(self.bias_output, scale(learning_rate, grad["bias_output"]))
        self.weights_input_hidden = subtract(self.weights_input_hidden,
                                             scale(learning_rate, grad["weights_input_hidden"]))
        self.bias_hidden = subtract(self.bias_hidden, scale(learning_rate, grad["bias_hidden"]))

    def _backpropagate(self, X: Matrix, y: Matrix) -> Dict[str, Matrix]:
        """Return ∂E/∂parameter from the last forward pass's h and ŷ; changes nothing."""
        assert self.hidden_output is not None and self.predicted_output is not None
        # The tutorial writes y − ŷ and adds its step; ŷ − y = ∂E/∂ŷ, with the
        # step subtracted, gives the same numbers (negation is exact).
        output_error = subtract(self.predicted_output, y)
        output_delta = multiply(output_error, apply(self.sigmoid_derivative, self.predicted_output))

        hidden_error = matmul(output_delta, transpose(self.weights_hidden_output))
        hidden_delta = multiply(hidden_error, apply(self.sigmoid_derivative, self.hidden_output))

        return {
            "weights_input_hidden": matmul(transpose(X), hidden_delta),
            "weights_hidden_output": matmul(transpose(self.hidden_output), output_delta),
            "bias_hidden": column_sums(hidden_delta),
            "bias_output": column_sums(output_delta),
        }

    def gradients(self, X: RealMatrix, y: RealMatrix) -> Dict[str, Matrix]:
        """Return ∂E/∂parameter for E = ½ Σ_n Σ_k (y_nk − ŷ_nk)², by parameter name.

        The dict has the keys ``weights_input_hidden``, ``weights_hidden_output``,
        ``bias_hidden`` and ``bias_output``, each a matrix of that parameter's
        shape. Runs its own forward pass; the network, including what the last
        ``feedforward`` kept, is left exactly as it was.
        """
        X = self._check_inputs("gradients", X)
        y = self._check_targets("gradients", y, len(X))
        self.check_parameters("gradients")
        kept = self._state()
        try:
            self.feedforward(X)
            return self._backpropagate(X, y)
        finally:
            self._restore(kept)

    # -- training ----------------------------------------------------------

    def train(
        self,
        X: RealMatrix,
        y: RealMatrix,
        epochs: int,
        learning_rate: float,
        log_every: int = 1000,
        log: training.Log = print,
        on_epoch: training.OnEpoch = None,
        fast: bool | str = True,
    ) -> List[float]:
        """Train by full-batch gradient descent; return each epoch's MSE.

        Each epoch runs ``feedforward(X)`` then ``backward(X, y, learning_rate)``,
        as in the tutorial. Every ``log_every`` epochs (0, log_every, ...) it
        passes the line ``Epoch N, Loss: 0.1234`` to ``log`` (``print`` by
        default; any callable taking a string redirects it, ``None`` silences
        it). The loss of an epoch is the mean squared error of the predictions
        that epoch's step started from. Epochs count on from
        ``epochs_trained``, so a saved and loaded network resumes where it was.

        ``on_epoch(net, epoch, loss)``, if given, runs after every epoch and
        stops training by returning False. If the loss or a parameter stops
        being finite, training stops with ``DivergenceError`` and the network
        is left as it was before that epoch.

        ``fast=True`` computes the very same bits many times faster, from the
        equations written out for this network's sizes or the reference's
        matrix arithmetic in its fastest exact form, whichever is faster here
        (purebp.fast, purebp/docs/speed.md; ``fast="written-out"`` or
        ``fast="reference"`` takes one); ``fast=False`` runs the loop below,
        to step through it. ``last_path`` says which ran.
        """
        op = "train"
        X = self._check_inputs(op, X)
        y = self._check_targets(op, y, len(X))
        epochs = _checks.count(op, "epochs", epochs)
        learning_rate = _checks.learning_rate(op, learning_rate)
        log_every = training.check_options(op, log_every, log, on_epoch, fast, self._spec())
        self.check_parameters(op)
        if fast:  # the same numbers, faster (purebp.fast); skip to read on
            return fast_loop.train(self, X, y, epochs, learning_rate, None, log_every, log,
                                   on_epoch, None, fast)

        self.last_path = "readable"

        losses: List[float] = []
        with self._checked_by_train(X, y):  # feedforward and backward need not check them again
            for epoch in range(self.epochs_trained, self.epochs_trained + epochs):
                before = self._state()  # to go back to if this epoch diverges
                output = self.feedforward(X)
                self.backward(X, y, learning_rate)
                loss = mean_squared_error(y, output)
                training.count_epoch(self, before, op, epoch, loss, learning_rate)
                losses.append(loss)
                if log is not None and epoch % log_every == 0:
                    log(training.log_line(epoch, loss))
                if on_epoch is not None and on_epoch(self, epoch, loss) is False:
                    break
        return losses

    # -- saving and loading --------------------------------------------------

    def save(self, path: StrPath) -> None:
        """Write the network to a model file atomically (purebp/docs/model-format.md)."""
        model.save(self, path)

    @classmethod
    def load(cls, path: StrPath) -> NeuralNetwork:
        """Return the NeuralNetwork saved in ``path``; ModelFormatError if it is unusable."""
        network: NeuralNetwork = model.load(path, cls)
        return network

    # What a model file needs of this class (the protocol of purebp.files.model).
    MODEL_CLASS: ClassVar[str] = "NeuralNetwork"

    def model_network(self) -> Dict[str, Any]:
        """Return the model file's "network" field: the sizes, and the tutorial's choices."""
        return {"sizes": [self.input_size, self.hidden_size, self.output_size],
                "activation": "sigmoid", "output_activation": "sigmoid",
                "loss": "half_sse", "init": "normal"}

    @classmethod
    def from_model(cls, network: Dict[str, Any]) -> NeuralNetwork:
        """Return a network of the architecture ``model_network`` describes (weights to be set)."""
        if len(network["sizes"]) != 3 or any(network[key] != value for key, value in (
                ("activation", "sigmoid"), ("output_activation", "sigmoid"), ("loss", "half_sse"))):
            raise ValueError(
                "NeuralNetwork: network must be three sizes [i, h, o] with activation and"
                " output_activation 'sigmoid' and loss 'half_sse', got sizes"
                f" {_checks._short_repr(network['sizes'])}, activation {network['activation']!r},"
                f" output_activation {network['output_activation']!r}, loss {network['loss']!r}")
        input_size, hidden_size, output_size = network["sizes"]
        return cls(input_size, hidden_size, output_size, seed=0)

    # -- the network as layers, for purebp.fast and purebp.files --------------

    def _layers(self) -> Tuple[List[Matrix], List[Matrix]]:
        """Return ([W1, W2], [b1, b2])."""
        return ([self.weights_input_hidden, self.weights_hidden_output],
                [self.bias_hidden, self.bias_output])

    def _set_layers(self, weights: List[Matrix], biases: List[Matrix]) -> None:
        self.weights_input_hidden, self.weights_hidden_output = weights
        self.bias_hidden, self.bias_output = biases

    def _keep_forward(self, X: Matrix, zs: List[Matrix], activations: List[Matrix]) -> None:
        self.hidden_activation, self.output_activation = zs
        self.hidden_output, self.predicted_output = activations

    def _spec(self) -> unrolled.Spec:
        # Descends half_sse, logs the mean squared error, as the tutorial does.
        return unrolled.Spec((self.input_size, self.hidden_size, self.output_size),
                             "sigmoid", "sigmoid", "half_sse", "mse")

    def _state(self) -> Tuple[Any, ...]:
        # The lists are replaced, never changed in place, so references suffice.
        # (From a list, not a generator: tuple(generator) left ~100 bytes per
        # call behind, which the bench's memory table showed growing.)
        return tuple([getattr(self, name) for name in PARAMETERS + INTERMEDIATES])

    def _restore(self, state: Tuple[Any, ...]) -> None:
        for name, value in zip(PARAMETERS + INTERMEDIATES, state):
            setattr(self, name, value)

    def _finite(self) -> bool:
        return _checks.all_finite([getattr(self, name) for name in PARAMETERS])

    # -- checks ------------------------------------------------------------

    @contextlib.contextmanager
    def _checked_by_train(self, X: Matrix, y: Matrix) -> Iterator[None]:
        """Within train's loop, let feedforward and backward skip what train checked.

        X and y are train's own checked copies, which no caller can reach, and
        the parameters are the ones train checked and backward replaces. The
        checks, run again twice an epoch, made the readable loop 1.6× slower
        (the tutorial's 10,000 epochs, medians of 7 runs: 1.13 s against 0.71 s).
        """
        self._checked = (X, y)
        try:
            yield
        finally:
            self._checked = None

    def _check_inputs(self, op: str, X: RealMatrix) -> Matrix:
        if self._checked is not None and X is self._checked[0]:
            return self._checked[0]
        return _checks.float_matrix(
            op, "X", X, columns=self.input_size, columns_meaning="input_size"
        )

    def _check_targets(self, op: str, y: RealMatrix, rows: int) -> Matrix:
        if self._checked is not None and y is self._checked[1]:
            return self._checked[1]
        targets = _checks.float_matrix(
            op, "y", y, columns=self.output_size, columns_meaning="output_size"
        )
        if len(targets) != rows:
            raise ValueError(f"{op}: y has {len(targets)} rows, expected {rows} like X")
        return targets

    def _check_step(self, op: str, X: RealMatrix, y: RealMatrix,
                    learning_rate: float) -> Tuple[Matrix, Matrix, float]:
        """Check backward's arguments against the last feedforward; return them as floats."""
        if self._checked is not None and X is self._checked[0] and y is self._checked[1]:
            return self._checked[0], self._checked[1], learning_rate  # train checked all three
        X = self._check_inputs(op, X)
        y = self._check_targets(op, y, len(X))
        learning_rate = _checks.learning_rate(op, learning_rate)
        self._check_own_parameters(op)
        if self.predicted_output is None or self.hidden_output is None:
            raise ValueError(f"{op}: there is no forward pass to use; call feedforward(X) first")
        if len(self.predicted_output) != len(X):
            raise ValueError(
                f"{op}: X has {len(X)} rows, expected {len(self.predicted_output)} like the last"
                " feedforward; call feedforward(X) on this X first"
            )
        return X, y, learning_rate

    def _check_own_parameters(self, op: str) -> None:
        if self._checked is None:  # in train's loop they are train's own (see _checked_by_train)
            self.check_parameters(op)

    def check_parameters(self, op: str) -> Tuple[List[Matrix], List[Matrix]]:
        """Return ([W1, W2], [b1, b2]) as floats; raise naming an attribute a caller spoiled."""
        expected = {
            "weights_input_hidden": (self.input_size, self.hidden_size),
            "weights_hidden_output": (self.hidden_size, self.output_size),
            "bias_hidden": (1, self.hidden_size),
            "bias_output": (1, self.output_size),
        }
        # A list, not a generator: PyPy 3.9 replaces an error raised inside a
        # generator being unpacked with "cannot unpack non-iterable generator".
        checked = [_checks.float_matrix_copied(op, name, getattr(self, name), rows=rows,
                                               columns=columns)
                   for name, (rows, columns) in expected.items()]
        # Every check passed: a parameter given as a numpy array (float32, say) or
        # as ints becomes its float copy, the same values, so the arithmetic is float64.
        for name, (matrix, converted) in zip(expected, checked):
            if converted:
                setattr(self, name, [list(row) for row in matrix])
        W1, W2, b1, b2 = [matrix for matrix, _ in checked]
        return [W1, W2], [b1, b2]

def mean_squared_error(y: RealMatrix, predicted_output: RealMatrix) -> float:
    """Return the mean of (y − ŷ)² over every sample and output, as the tutorial logs.

    >>> mean_squared_error([[0.0], [1.0]], [[0.5], [0.5]])
    0.25
    """
    squared = [(t - p) * (t - p) for t_row, p_row in zip(y, predicted_output)
               for t, p in zip(t_row, p_row)]
    total = 0.0
    for s in squared:  # left to right, not sum(): see purebp.matrix._dot
        total += s
    return total / len(squared)
