"""Argument checks for the public entry points.

Each check either returns a clean value (numbers converted to float, a fresh
list that the caller's later edits cannot reach) or raises ``TypeError`` (the
wrong kind of thing) or ``ValueError`` (the right kind, a wrong value), with a
message in purebp's style (purebp.errors): the operation, the argument, what
was expected and what came. Nothing here changes a network: callers check
everything first and only then touch their state.

Each check takes any object, since it is what stands between a caller's
value and the arithmetic; ``float_matrix`` is annotated with the RealMatrix
a caller is meant to pass, and returns the Matrix purebp computes with.
"""

from __future__ import annotations

import math
import numbers
import os
from typing import List, Optional, Sequence, Tuple, cast

from purebp._types import Matrix, Real, RealMatrix

#: The most characters of a file name a message shows; a longer one loses its middle.
SHOWN_PATH = 200


def _shown(value: object) -> Tuple[str, bool]:
    """Return (text, described): repr(value) cut to 40 characters, safe for any value.

    Huge ints (whose repr Python refuses beyond 4300 digits) are described
    by their size, and lists nested too deeply to print by their type;
    ``described`` says the text is such a description, not a repr.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an int of about {int(value.bit_length() * 0.30103) + 1} digits", True
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        return f"a {type(value).__name__} too large or deep to print", True
    return (text if len(text) <= 40 else text[:37] + "..."), False


def _short_repr(value: object) -> str:
    """Return repr(value) cut to 40 characters, or a description of a value too large to print."""
    return _shown(value)[0]


def _describe(value: object) -> str:
    """Return a short description of a value for an error message: its type and short repr."""
    text, described = _shown(value)
    return text if described else f"{type(value).__name__} {text}"


def shown_path(path: str) -> str:
    r"""Return a file name as a message shows it: whole, on one line, and bounded.

    A plain name is shown as it is; one with a line break, a NUL, another
    unprintable character or a space at an end is shown as its repr, escapes
    visible. A name longer than SHOWN_PATH characters is shown by its first and
    last SHOWN_PATH // 2 (the folder and the file), and only those are copied,
    so the message stays short however long the name.

    >>> print(shown_path("data/xor.csv"))
    data/xor.csv
    >>> print(shown_path("no\nsuch.csv"))
    'no\nsuch.csv'
    >>> print(shown_path("/tmp/" + "d" * 500 + "/xor.csv"))  # doctest: +ELLIPSIS
    /tmp/dddd...dddd…dddd...dddd/xor.csv (513 characters)
    """
    def show(text: str) -> str:
        return text if text.isprintable() and text.strip() == text else repr(text)

    if len(path) > SHOWN_PATH:
        half = SHOWN_PATH // 2
        return f"{show(path[:half])}…{show(path[-half:])} ({len(path):,} characters)"
    return show(path) if path else "''"


def path(op: str, value: object, name: str = "path") -> str:
    """Return a file path as a str, refusing other types and NUL bytes by name."""
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{op}: {name} must be a str or os.PathLike, got {_describe(value)}")
    text = os.fspath(value)
    if not isinstance(text, str):
        raise ValueError(f"{op}: {name} must name a file as a str, got {_describe(text)}")
    if "\0" in text:
        raise ValueError(f"{op}: {name} must not hold a NUL byte, got {shown_path(text)}")
    return text


def is_sequence(value: object) -> bool:
    """Return True for list-like values: lists, tuples, arrays, not strings."""
    if isinstance(value, (str, bytes, bytearray, dict, set)):
        return False
    return hasattr(value, "__len__") and hasattr(value, "__getitem__")


def as_lists(value: object) -> object:
    """Return an array's nested lists of Python numbers (its ``tolist()``), else value.

    Arrays are recognised by that method alone (numpy's, array.array,
    anything with it), so nothing is imported for them. ``tolist()`` gives
    each float32 or float16 entry as the Python float of exactly its value,
    so the arithmetic that follows is float64 on the numbers given.
    """
    if isinstance(value, (list, tuple, str, bytes)):
        return value
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else value


def real_number(op: str, name: str, value: object) -> float:
    """Return value as a finite float, or raise naming op and name.

    Accepts ints and floats (and other real number types: numpy's scalars,
    a 0-d array); refuses bools, strings, None, NaN and ±inf.
    """
    if not isinstance(value, numbers.Real):
        value = as_lists(value)  # a 0-d array is its one number
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a real number, got {_describe(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(
            f"{op}: {name} must fit in a float, got {_describe(value)}"
        ) from None
    if not math.isfinite(number):
        raise ValueError(f"{op}: {name} must be finite, got {number!r}")
    return number


#: The types _exact_row takes as they are: exactly float and int, no subclass (bool is one).
_FLOAT_OR_INT = frozenset((float, int))


def _exact_row(row: Sequence[Real]) -> Optional[Tuple[List[float], bool]]:
    """Return (the row as floats, whether it held ints) for a row of exact floats and
    ints, all finite and fitting in a float; else None, for the general check.

    It gives what real_number gives for each entry (float(a), the same object
    for a float), only faster. Measured on float_matrix of 1797×64 (sklearn's
    digits, CPython 3.11, best of 21): 13 ms for ints against 156 ms with
    real_number on each entry (6% of a digits train call, now under 1%), and
    7 ms for floats (every matrix a network keeps) against 12 ms with the
    former per-entry type test. A row it refuses goes through the general
    check, which finds and names the first bad entry (a bool, an int too
    large, a NaN), as it always did.
    """
    try:
        kinds = set(map(type, row))
    except TypeError:  # a type that cannot be hashed: the general check gives its error
        return None
    if not kinds <= _FLOAT_OR_INT:
        return None
    had_ints = int in kinds
    try:  # (the cast's type is a string: built at run time it cost a fifth of this)
        values = list(map(float, row)) if had_ints else cast("List[float]", list(row))
    except OverflowError:  # an int beyond the floats' range
        return None
    # A sum is finite only if every term is (an inf or a NaN makes it inf or NaN),
    # and sum() is 3× quicker than isfinite on each; only when the sum is not
    # finite (a NaN, or finite terms whose sum overflows) is each term tested.
    if not math.isfinite(sum(values)) and not all(map(math.isfinite, values)):
        return None
    return values, had_ints


def float_matrix(
    op: str,
    name: str,
    value: RealMatrix,
    rows: Optional[int] = None,
    columns: Optional[int] = None,
    columns_meaning: str = "",
) -> Matrix:
    """Return value as a new non-empty list of equal-length rows of finite floats.

    ``rows`` and ``columns``, when given, are the sizes it must have;
    ``columns_meaning`` names where the expected column count comes from
    (``"input_size"``, say), for the message. An array (numpy's, say) is
    read through its ``tolist()`` (as_lists).
    """
    return float_matrix_copied(op, name, value, rows, columns, columns_meaning)[0]


def float_matrix_copied(
    op: str,
    name: str,
    value: RealMatrix,
    rows: Optional[int] = None,
    columns: Optional[int] = None,
    columns_meaning: str = "",
) -> Tuple[Matrix, bool]:
    """Return (float_matrix(...), converted): converted is False if value was already
    a list of lists of floats, which the result then equals entry for entry.

    A network's parameter that was converted (an array, ints, numpy scalars) is
    replaced by the result, so that its arithmetic is float64 (check_parameters).
    """
    converted = type(value) is not list
    value = cast(RealMatrix, as_lists(value))
    if not is_sequence(value):
        raise TypeError(
            f"{op}: {name} must be a list of rows (lists of numbers),"
            f" got {_describe(value)}"
        )
    if len(value) == 0:
        raise ValueError(f"{op}: {name} is empty; it must have at least one row")
    if rows is not None and len(value) != rows:
        raise ValueError(f"{op}: {name} has {len(value)} rows, expected {rows}")
    result: Matrix = []
    width = columns
    for i, row in enumerate(value):
        if type(row) is not list:  # (a list is a sequence: only others need the test)
            converted = True
            row = cast("Sequence[float]", as_lists(row))
            if not is_sequence(row):
                raise TypeError(
                    f"{op}: {name}[{i}] must be a row (a list of numbers),"
                    f" got {_describe(row)}"
                )
        if width is None:
            width = len(row)
            if width == 0:
                raise ValueError(f"{op}: {name}[0] is empty; it must have at least one entry")
        elif len(row) != width:
            if len(row) and is_sequence(row[0]):  # one level too deep: say so, not the count
                real_number(op, f"{name}[{i}][0]", as_lists(row[0]))
            if columns is None:
                raise ValueError(
                    f"{op}: {name} is ragged: {name}[{i}] has {len(row)} entries,"
                    f" expected {width} like {name}[0]"
                )
            because = f" ({columns_meaning})" if columns_meaning else ""
            raise ValueError(
                f"{op}: {name}[{i}] has {len(row)} entries, expected {width}{because}"
            )
        fast = _exact_row(row)
        if fast is not None:
            values, had_ints = fast
            result.append(values)
            converted = converted or had_ints
            continue
        converted = True
        row_values = [real_number(op, f"{name}[{i}][{j}]", a) for j, a in enumerate(row)]
        result.append(row_values)
    return result, converted


def integer(op: str, name: str, value: object, minimum: int) -> int:
    """Return value if it is an int (not a bool) ≥ minimum, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: {name} must be an int, got {_describe(value)}")
    if value < minimum:
        wanted = "must not be negative" if minimum == 0 else f"must be at least {minimum}"
        raise ValueError(f"{op}: {name} {wanted}, got {value}")
    return int(value)


def size(op: str, name: str, value: object) -> int:
    """Return value if it is an int ≥ 1 (a layer size, a batch size), else raise."""
    return integer(op, name, value, 1)


def count(op: str, name: str, value: object) -> int:
    """Return value if it is an int ≥ 0 (a number of epochs), else raise."""
    return integer(op, name, value, 0)


#: The largest layer, and the most weights, a network may have: beyond these a
#: pure-Python network would take hours per epoch or exhaust memory.
MAX_LAYER_SIZE = 100_000
MAX_WEIGHTS = 10_000_000


def layer_sizes(op: str, sizes: Sequence[object], names: Sequence[str]) -> List[int]:
    """Return the sizes as ints ≥ 1, refusing layers or networks too large to run."""
    checked = [size(op, name, value) for name, value in zip(names, sizes)]
    for name, value in zip(names, checked):
        if value > MAX_LAYER_SIZE:
            shown = str(value) if value < 10 ** 12 else _short_repr(value)
            raise ValueError(f"{op}: {name} must be at most {MAX_LAYER_SIZE:,}, the units a"
                             f" pure-Python layer may have, got {shown}")
    weights = sum(a * b for a, b in zip(checked[:-1], checked[1:]))
    if weights > MAX_WEIGHTS:
        raise ValueError(f"{op}: sizes must make at most {MAX_WEIGHTS:,} weights, got"
                         f" {checked}, which make {weights:,}")
    return checked


def learning_rate(op: str, value: object) -> float:
    """Return the learning rate as a finite float ≥ 0, else raise."""
    rate = real_number(op, "learning_rate", value)
    if rate < 0:
        raise ValueError(f"{op}: learning_rate must not be negative, got {rate!r}")
    return rate


def seed(op: str, value: object) -> Optional[int]:
    """Return the seed if it is None or an int (not a bool), else raise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: seed must be an int or None, got {_describe(value)}")
    return int(value)


def name(op: str, argument: str, value: object, known: Sequence[str]) -> str:
    """Return value if it is one of the known names, else raise listing them."""
    if not isinstance(value, str):
        raise TypeError(f"{op}: {argument} must be a name (a str), got {_describe(value)}")
    if value not in known:
        choices = ", ".join(repr(k) for k in known)
        raise ValueError(f"{op}: unknown {argument} {_short_repr(value)}; expected one of {choices}")
    return value


def all_finite(matrices: Sequence[Sequence[Sequence[float]]]) -> bool:
    """Return True if every entry of every matrix is a finite number."""
    isfinite = math.isfinite
    return all(isfinite(v) for m in matrices for row in m for v in row)
