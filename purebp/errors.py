"""The errors purebp raises beyond plain ValueError and TypeError, and how its messages read.

    PurebpError            the base of the classes here (a ValueError)
      DivergenceError      training stopped: the loss or a parameter stopped being finite
      FormatError          a file breaks its format; the message names the file and the place
        ModelFormatError   ... a model file (purebp.files.model)
        VectorFormatError  ... a test-vector or results file (purebp.oracle.vectors)
      RequestError         a request the playground's server refuses, with its HTTP status

Every class is a ValueError. A bad argument is refused with a plain
ValueError (the right kind of thing, a wrong value) or TypeError (the wrong
kind of thing), so ``except (ValueError, TypeError)`` catches every refusal
purebp makes, and ``except PurebpError`` the ones listed here. The old homes still import the same classes
(``from purebp.files.model import ModelFormatError``, ``from purebp import
DivergenceError``). This module imports nothing from the rest of purebp, so
that every other module can import it.

How a message reads. It is one line, bounded in length whatever the value
(purebp._checks shortens long values and file names), and starts with where
the fault is: the operation the caller called and the argument (``OP: ARG``),
or the place in a file (``PLACE``, below). Then, for

    a value of the wrong kind or out of range:   OP: ARG must be WANTED, got ACTUAL
        train: learning_rate must not be negative, got -0.1
        Network: output_activation must be 'sigmoid' for loss='bce', got 'identity'
    a size that does not match:                  OP: ARG has ACTUAL THINGS, expected WANTED
        forward: X[1] has 3 entries, expected 2 (sizes[0])
        step: y has 2 rows, expected 4 like X
    an empty matrix:                             OP: ARG is empty; it must have at least one ROW
    a name outside a fixed list:                 OP: unknown ARG 'x'; expected one of 'a', 'b'
    a call the object's state does not allow:    OP: what is missing; what to do
        backward: there is no forward pass to use; call feedforward(X) first

Advice, where there is some, follows the form after "; " (``backward: X has 4
rows, expected 2 like the last feedforward; call feedforward(X) on this X
first``). ARG is the argument's name as the caller wrote it, indexed down to
the entry at fault (``weights[1][0][2]``). A command-line option is an ARG
with no OP (``--precision must be at most 17, got 40``; argparse puts its own
``argument --lr:`` before the messages of the option parsers). The matrix
helper, which has no argument names, names the shapes: ``matmul: (4, 2) @
(3, 4): inner sizes differ``. TypeError is for the wrong kind of value,
ValueError for the right kind with a wrong value.

A file that cannot be used (purebp.files.jsonfile, purebp.files.model,
purebp.oracle.vectors) is refused in the same forms, with PLACE where ``OP:
ARG`` stands: the file's name (shown_path) and the path of the field in it,
``m.json.training.epochs_trained`` in a model file and, since a vector file's
cases are numbered, ``vectors/xor.json: cases[0].inputs`` in a vector file:

    PLACE must be WANTED, got ACTUAL
        m.json.training.epochs_trained must be an int ≥ 0, got 2.5
        vectors/xor.json: cases[0].parameters.weights[1][2][0] must be a number, got "a"
    PLACE has ACTUAL THINGS, expected WANTED
        vectors/xor.json: cases[0].parameters.weights[1] has 2 rows, expected 3
    PLACE is empty; it must have at least one row
    PLACE: unknown THING "x"; expected one of "a", "b"
        m.json.network.loss: unknown loss "hinge"; expected one of "half_sse", "mse", ...
    PLACE: missing field 'x'
    FILE: what is wrong with the file as a whole
        m.json: not valid JSON: Expecting value at line 1, column 1

Values read from a file are shown as JSON (``"tanh"``, ``true``, ``[2, 4, 1]``),
values a caller passed as Python reprs (``'tanh'``, ``True``). A CSV file is
an argument of load_csv, so its messages start with the operation and its
places are lines: ``load_csv: data.csv, line 2: field 3 must be finite, got
'nan'``. tests/test_errors.py reads every raise in purebp/ and fails on the
forms these replaced (``PLACE: expected X``, ``..., but ...``, ``needs``,
``works only with``, a ``must be`` that does not say what it got).
"""

from __future__ import annotations

__all__ = ["DivergenceError", "FormatError", "ModelFormatError", "PurebpError",
           "RequestError", "VectorFormatError"]


class PurebpError(ValueError):
    """The base of purebp's own errors; a ValueError, as every refusal of purebp is."""


class DivergenceError(PurebpError):
    """Training diverged: the loss or a parameter became NaN or infinite.

    The network is left as it was before the epoch that diverged, that is
    after the last epoch whose loss and parameters were finite. ``epoch`` is
    the epoch that diverged, ``loss`` its loss, ``learning_rate`` the rate in use.
    """

    def __init__(self, op: str, epoch: int, loss: float, learning_rate: float) -> None:
        self.epoch, self.loss, self.learning_rate = epoch, loss, learning_rate
        what = f"the loss became {loss!r}" if loss != loss or loss in (float("inf"), float("-inf")) \
            else "a weight or bias became NaN or infinite"
        super().__init__(
            f"{op}: training diverged at epoch {epoch}: {what}; the network is left as it"
            f" was before that epoch. Try a smaller learning_rate than {learning_rate!r}.")


class FormatError(PurebpError):
    """A file or value that does not follow its format; the message says where."""


class ModelFormatError(FormatError):
    """A model file that cannot be loaded; the message names the file and the place."""


class VectorFormatError(FormatError):
    """A file or case that does not follow the test-vector format; says where."""


class RequestError(PurebpError):
    """A request purebp.playground.server refuses: ``status`` is its HTTP status (404, 413, ...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
