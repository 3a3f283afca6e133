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

``train`` gets the same numbers, bit for bit, from the equations written
out for the network's sizes (purebp.unrolled, via purebp.training), which is
many times faster; the methods here are the reference it is tested against,
and ``feedforward``, ``backward`` and ``gradients`` always use them.

What this module does not do: other sizes of depth, other activations or
losses (that is the general network's work), mini-batches.
"""

from __future__ import annotations

import random
from typing import Callable, Dict, List, Optional, Tuple

from purebp import _checks
from purebp.activations import sigmoid, sigmoid_derivative
from purebp.fast import loop as training
from purebp.fast import unrolled
from purebp.files import model as persistence
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

Matrix = List[List[float]]

#: The names of the parameters, in the order the constructor draws them.
PARAMETERS = (
    "weights_input_hidden",
    "weights_hidden_output",
    "bias_hidden",
    "bias_output",
)
#: What feedforward keeps, as the tutorial does.
INTERMEDIATES = ("hidden_activation", "hidden_output", "output_activation", "predicted_output")


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

    # The activation and its derivative, as the tutorial has them, on one number.
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

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(input_size={self.input_size},"
            f" hidden_size={self.hidden_size}, output_size={self.output_size})"
        )

    # -- the forward pass --------------------------------------------------

    def feedforward(self, X: Matrix) -> Matrix:
        """Return the predictions ŷ for the rows of X (n × input_size → n × output_size).

        Keeps z1, h, z2 and ŷ as ``hidden_activation``, ``hidden_output``,
        ``output_activation`` and ``predicted_output``, as the tutorial does.
        """
        X = self._check_inputs("feedforward", X)
        self._check_parameters("feedforward")
        (
            self.hidden_activation,
            self.hidden_output,
            self.output_activation,
            self.predicted_output,
        ) = self._forward(X)
        return self.predicted_output

    def _forward(self, X: Matrix) -> Tuple[Matrix, Matrix, Matrix, Matrix]:
        """Return (z1, h, z2, ŷ) for checked X; changes nothing."""
        hidden_activation = add_row(matmul(X, self.weights_input_hidden), self.bias_hidden)
        hidden_output = apply(sigmoid, hidden_activation)
        output_activation = add_row(
            matmul(hidden_output, self.weights_hidden_output), self.bias_output
        )
        predicted_output = apply(sigmoid, output_activation)
        return hidden_activation, hidden_output, output_activation, predicted_output

    # -- the backward pass -------------------------------------------------

    def gradients(self, X: Matrix, y: Matrix) -> Dict[str, Matrix]:
        """Return ∂E/∂parameter for E = ½ Σ_n Σ_k (y_nk − ŷ_nk)², by parameter name.

        The dict has the keys ``weights_input_hidden``, ``weights_hidden_output``,
        ``bias_hidden`` and ``bias_output``, each a matrix of that parameter's
        shape. Runs its own forward pass; the network, including what the last
        ``feedforward`` kept, is left exactly as it was.
        """
        X = self._check_inputs("gradients", X)
        y = self._check_targets("gradients", y, len(X))
        self._check_parameters("gradients")
        _, hidden_output, _, predicted_output = self._forward(X)
        return self._backpropagate(X, y, hidden_output, predicted_output)

    def _backpropagate(
        self, X: Matrix, y: Matrix, hidden_output: Matrix, predicted_output: Matrix
    ) -> Dict[str, Matrix]:
        """Return the gradients of E from a forward pass's h and ŷ; changes nothing."""
        # The tutorial writes y − ŷ and adds its step; ŷ − y = ∂E/∂ŷ, with the
        # step subtracted, gives the same numbers (negation is exact).
        output_error = subtract(predicted_output, y)
        output_delta = multiply(output_error, apply(sigmoid_derivative, predicted_output))

        hidden_error = matmul(output_delta, transpose(self.weights_hidden_output))
        hidden_delta = multiply(hidden_error, apply(sigmoid_derivative, hidden_output))

        return {
            "weights_input_hidden": matmul(transpose(X), hidden_delta),
            "weights_hidden_output": matmul(transpose(hidden_output), output_delta),
            "bias_hidden": column_sums(hidden_delta),
            "bias_output": column_sums(output_delta),
        }

    def backward(self, X: Matrix, y: Matrix, learning_rate: float) -> None:
        """Take one gradient-descent step on E, using the last ``feedforward(X)``.

        Every parameter p becomes p − learning_rate × ∂E/∂p, as in the
        tutorial; the gradients come from the h and ŷ that the last
        ``feedforward`` kept, so call it on the same X first.
        """
        op = "backward"
        X = self._check_inputs(op, X)
        y = self._check_targets(op, y, len(X))
        learning_rate = _checks.learning_rate(op, learning_rate)
        self._check_parameters(op)
        if self.predicted_output is None or self.hidden_output is None:
            raise ValueError(f"{op}: call feedforward(X) first; there is no forward pass to use")
        if len(self.predicted_output) != len(X):
            raise ValueError(
                f"{op}: X has {len(X)} rows but the last feedforward had"
                f" {len(self.predicted_output)}; call feedforward(X) on this X first"
            )
        grads = self._backpropagate(X, y, self.hidden_output, self.predicted_output)
        self._descend(grads, learning_rate)

    def _descend(self, grads: Dict[str, Matrix], learning_rate: float) -> None:
        """Move every parameter by −learning_rate × its gradient."""
        for name in PARAMETERS:
            step = scale(learning_rate, grads[name])
            setattr(self, name, subtract(getattr(self, name), step))

    # -- training ----------------------------------------------------------

    def train(
        self,
        X: Matrix,
        y: Matrix,
        epochs: int,
        learning_rate: float,
        log_every: int = 1000,
        log: Optional[Callable[[str], object]] = print,
        on_epoch: Optional[Callable[[NeuralNetwork, int, float], object]] = None,
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
        """
        op = "train"
        X = self._check_inputs(op, X)
        y = self._check_targets(op, y, len(X))
        epochs = _checks.count(op, "epochs", epochs)
        learning_rate = _checks.learning_rate(op, learning_rate)
        log_every = _checks.size(op, "log_every", log_every)
        if log is not None and not callable(log):
            raise TypeError(f"{op}: log must be a callable taking a string, or None")
        if on_epoch is not None and not callable(on_epoch):
            raise TypeError(f"{op}: on_epoch must be a callable, or None")
        self._check_parameters(op)

        return training.run(self, op, X, y, epochs, learning_rate, None, log_every, log,
                            on_epoch)

    def _epoch(self, X: Matrix, y: Matrix, learning_rate: float, batch_size: None) -> float:
        """Run one epoch as the tutorial does; return the MSE it started from.

        This is the reference; ``train`` runs the same arithmetic unrolled
        (purebp.unrolled), which gives the same bits many times faster.
        """
        (
            self.hidden_activation,
            self.hidden_output,
            self.output_activation,
            self.predicted_output,
        ) = self._forward(X)
        grads = self._backpropagate(X, y, self.hidden_output, self.predicted_output)
        self._descend(grads, learning_rate)
        return mean_squared_error(y, self.predicted_output)

    # What purebp.training asks of a network besides _epoch: the state to go
    # back to, and the parameters as one flat list for unrolled code.

    def _state(self) -> tuple:
        # The lists are replaced, never changed in place, so references suffice.
        # (From a list, not a generator: tuple(generator) left ~100 bytes per
        # call behind, which the bench's memory table showed growing.)
        return tuple([getattr(self, name) for name in PARAMETERS + INTERMEDIATES])

    def _restore(self, state: tuple) -> None:
        for name, value in zip(PARAMETERS + INTERMEDIATES, state):
            setattr(self, name, value)

    def _finite(self) -> bool:
        return _checks.all_finite([getattr(self, name) for name in PARAMETERS])

    def _spec(self) -> unrolled.Spec:
        # Descends half_sse, logs the mean squared error, as the tutorial does.
        return unrolled.Spec((self.input_size, self.hidden_size, self.output_size),
                             "sigmoid", "sigmoid", "half_sse", "mse")

    def _flat_parameters(self) -> List[float]:
        return ([w for row in self.weights_input_hidden for w in row]
                + [w for row in self.weights_hidden_output for w in row]
                + self.bias_hidden[0] + self.bias_output[0])

    def _set_flat_parameters(self, flat: List[float]) -> None:
        I, H, K = self.input_size, self.hidden_size, self.output_size
        self.weights_input_hidden = [flat[i * H:(i + 1) * H] for i in range(I)]
        at = I * H
        self.weights_hidden_output = [flat[at + j * K:at + (j + 1) * K] for j in range(H)]
        at += H * K
        self.bias_hidden = [flat[at:at + H]]
        self.bias_output = [flat[at + H:at + H + K]]

    def _set_forward(self, X: Matrix, kept: list) -> None:
        """Keep z1, h, z2 and ŷ from unrolled code's per-sample (z1, h, z2, ŷ)."""
        (
            self.hidden_activation,
            self.hidden_output,
            self.output_activation,
            self.predicted_output,
        ) = ([list(sample[part]) for sample in kept] for part in range(4))

    # -- saving and loading --------------------------------------------------

    def save(self, path: str) -> None:
        """Write the network to a model file atomically (docs/model-format.md)."""
        persistence.save(self, path)

    @classmethod
    def load(cls, path: str) -> NeuralNetwork:
        """Return the NeuralNetwork saved in ``path``; ModelFormatError if it is unusable."""
        return persistence.load(path, cls)

    # -- checks ------------------------------------------------------------

    def _check_inputs(self, op: str, X: Matrix) -> Matrix:
        return _checks.float_matrix(
            op, "X", X, columns=self.input_size, columns_meaning="input_size"
        )

    def _check_targets(self, op: str, y: Matrix, rows: int) -> Matrix:
        targets = _checks.float_matrix(
            op, "y", y, columns=self.output_size, columns_meaning="output_size"
        )
        if len(targets) != rows:
            raise ValueError(f"{op}: y has {len(targets)} rows but X has {rows}")
        return targets

    def _check_parameters(self, op: str) -> None:
        """Raise if a caller assigned a parameter of the wrong shape or values."""
        expected = {
            "weights_input_hidden": (self.input_size, self.hidden_size),
            "weights_hidden_output": (self.hidden_size, self.output_size),
            "bias_hidden": (1, self.hidden_size),
            "bias_output": (1, self.output_size),
        }
        for name, (rows, columns) in expected.items():
            _checks.float_matrix(op, name, getattr(self, name), rows=rows, columns=columns)


def mean_squared_error(y: Matrix, predicted_output: Matrix) -> float:
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
