"""The errors purebp raises beyond plain ValueError and TypeError, and how its messages read.

    PurebpError            the base of the classes here (a ValueError)
      DivergenceError      training stopped: the loss or a parameter stopped being finite
      FormatError          a file breaks its format; the message names the file and the place
        ModelFormatError   ... a model file (purebp.files.model)
        VectorFormatError  ... a test-vector or results file (purebp.oracle.vectors)

Every class is a ValueError, so ``except ValueError`` catches every refusal
purebp makes; ``except PurebpError`` catches these and not the plain
TypeError and ValueError with which the public functions refuse a bad
argument. The old homes still import the same classes
(``from purebp.files.model import ModelFormatError``, ``from purebp import
DivergenceError``). This module imports nothing from the rest of purebp, so
that every other module can import it.

How a message reads. It is one line, bounded in length whatever the value
(purebp._checks shortens long values and file names), and starts with the
operation the caller called or the file being read. Then, for

    a value of the wrong kind or out of range:   OP: ARG must be WANTED, got ACTUAL
        train: learning_rate must not be negative, got -0.1
        forward: X[0][1] must be finite, got nan
    a size that does not match:                  OP: ARG has ACTUAL THINGS, expected WANTED
        forward: X[1] has 3 entries, expected 2 (sizes[0])
        matmul: (4, 2) @ (3, 4): inner sizes differ      (the matrix helper names shapes)
    an empty matrix:                             OP: ARG is empty; it must have at least one ROW
    a name outside a fixed list:                 OP: unknown ARG 'x'; expected one of 'a', 'b'
    a file that cannot be used:                  OP: FILE[, PLACE]: what is wrong, in these forms
        load_csv: data.csv, line 2: 2 fields, expected 3 like the first data line

ARG is the argument's name as the caller wrote it, indexed down to the entry
at fault (``weights[1][0][2]``). TypeError is for the wrong kind of value,
ValueError for the right kind with a wrong value.

The file readers (purebp.files.jsonfile, purebp.files.model and
purebp.oracle.vectors) still write the older form ``FILE: PLACE: expected
WANTED, got ACTUAL``; they are to move to ``FILE: PLACE must be WANTED, got
ACTUAL`` together, with the tests that quote them.
"""

from __future__ import annotations

__all__ = ["DivergenceError", "FormatError", "ModelFormatError", "PurebpError",
           "VectorFormatError"]


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
