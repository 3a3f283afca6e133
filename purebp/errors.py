"""The errors purebp raises beyond plain ValueError and TypeError.

    DivergenceError    training stopped: the loss or a parameter stopped being finite
    FormatError        a file breaks its format (purebp._jsonfile); its subclasses are
                       VectorFormatError (purebp.vectors) and ModelFormatError
                       (purebp.persistence)

All are ValueError subclasses, so ``except ValueError`` catches every
refusal purebp makes; each message names the operation or file and what is
wrong.
"""

from __future__ import annotations

from purebp.files.jsonfile import FormatError

__all__ = ["DivergenceError", "FormatError"]


class DivergenceError(ValueError):
    """Training diverged: the loss or a parameter became NaN or infinite.

    The network is left as it was before the epoch that diverged, that is
    after the last epoch whose loss and parameters were finite. ``epoch`` is the epoch that diverged, ``loss``
    its loss, ``learning_rate`` the rate in use.
    """

    def __init__(self, op: str, epoch: int, loss: float, learning_rate: float) -> None:
        self.epoch, self.loss, self.learning_rate = epoch, loss, learning_rate
        what = f"the loss became {loss!r}" if loss != loss or loss in (float("inf"), float("-inf")) \
            else "a weight or bias became NaN or infinite"
        super().__init__(
            f"{op}: training diverged at epoch {epoch}: {what}; the network is left as it"
            f" was before that epoch. Try a smaller learning_rate than {learning_rate!r}.")
