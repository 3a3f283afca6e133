"""The types in purebp's signatures: what its functions take, and what they return.

    Real        a real number a caller may pass: float, int (and so bool), Fraction
    RealMatrix  a matrix a caller may pass: any sequence of rows, each any sequence of Reals
                (lists, tuples, ``[[0, 0], [0, 1]]``)
    Matrix      the matrix purebp returns: a new list of rows, each a list of floats
    Number      the element type the matrix helper computes with: float (ints included),
                Fraction or Decimal, the same throughout one call
    StrPath     a file name a caller may pass: a str or an os.PathLike of str (a pathlib.Path)

Under mypy an int is accepted where a float is expected, so ``Sequence[float]``
takes ints too; bools are ints to the type checker, and only the checks at
run time (purebp._checks) refuse them. What this module does not do: check
anything at run time; the names exist for the annotations alone.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, List, Sequence, TypeVar, Union

if TYPE_CHECKING:
    from decimal import Decimal
    from fractions import Fraction

# The classes by name: importing fractions and decimal for annotations alone would
# add 2.5 ms to every start of purebp (python3 -X importtime), which uses neither.
Real = Union[float, "Fraction"]
RealMatrix = Sequence[Sequence[Real]]
Matrix = List[List[float]]
Number = TypeVar("Number", float, "Fraction", "Decimal")
StrPath = Union[str, "os.PathLike[str]"]
