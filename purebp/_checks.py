"""Argument checks for the public entry points.

Each check either returns a clean value (numbers converted to float, a fresh
list that the caller's later edits cannot reach) or raises ``TypeError`` (the
wrong kind of thing) or ``ValueError`` (the right kind, a wrong value), with a
message that names the operation, the argument, what was expected and what
came. Nothing here changes a network: callers check everything first and only
then touch their state.
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any, List, Optional, Sequence


def _short_repr(value: Any) -> str:
    """Return repr(value) cut to 40 characters, safe for any value.

    Huge ints (whose repr Python refuses beyond 4300 digits) are described
    by their size, and lists nested too deeply to print by their type.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an int of about {int(value.bit_length() * 0.30103) + 1} digits"
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        return f"a {type(value).__name__} too large or deep to print"
    return text if len(text) <= 40 else text[:37] + "..."


def _describe(value: Any) -> str:
    """Return a short description of a value for an error message."""
    return f"{type(value).__name__} {_short_repr(value)}"


def path(op: str, value: Any, name: str = "path") -> str:
    """Return a file path as a str, refusing other types and NUL bytes by name."""
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{op}: {name} must be a str or os.PathLike, got {_describe(value)}")
    text = os.fspath(value)
    if not isinstance(text, str) or "\0" in text:
        raise ValueError(f"{op}: {name} {_short_repr(text)} is not a usable file name")
    return text


def is_sequence(value: Any) -> bool:
    """Return True for list-like values: lists, tuples, arrays, not strings."""
    if isinstance(value, (str, bytes, bytearray, dict, set)):
        return False
    return hasattr(value, "__len__") and hasattr(value, "__getitem__")


def real_number(op: str, name: str, value: Any) -> float:
    """Return value as a finite float, or raise naming op and name.

    Accepts ints and floats (and other real number types); refuses bools,
    strings, None, NaN and ±inf.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a real number, got {_describe(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(
            f"{op}: {name} is too large for a float: {_describe(value)}"
        ) from None
    if not math.isfinite(number):
        raise ValueError(f"{op}: {name} must be finite, got {number!r}")
    return number


def float_matrix(
    op: str,
    name: str,
    value: Any,
    rows: Optional[int] = None,
    columns: Optional[int] = None,
    columns_meaning: str = "",
) -> List[List[float]]:
    """Return value as a new non-empty list of equal-length rows of finite floats.

    ``rows`` and ``columns``, when given, are the sizes it must have;
    ``columns_meaning`` names where the expected column count comes from
    (``"input_size"``, say), for the message.
    """
    if not is_sequence(value):
        raise TypeError(
            f"{op}: {name} must be a list of rows (lists of numbers),"
            f" got {_describe(value)}"
        )
    if len(value) == 0:
        raise ValueError(f"{op}: {name} is empty; it needs at least one row")
    if rows is not None and len(value) != rows:
        raise ValueError(f"{op}: {name} has {len(value)} rows, expected {rows}")
    result = []
    width = columns
    for i, row in enumerate(value):
        if not is_sequence(row):
            raise TypeError(
                f"{op}: {name}[{i}] must be a row (a list of numbers),"
                f" got {_describe(row)}"
            )
        if width is None:
            width = len(row)
            if width == 0:
                raise ValueError(f"{op}: {name}[0] is an empty row")
        elif len(row) != width:
            if columns is None:
                raise ValueError(
                    f"{op}: {name} is ragged: {name}[0] has {width} entries"
                    f" but {name}[{i}] has {len(row)}"
                )
            because = f" ({columns_meaning})" if columns_meaning else ""
            raise ValueError(
                f"{op}: {name}[{i}] has {len(row)} entries, expected {width}{because}"
            )
        row_values = [real_number(op, f"{name}[{i}][{j}]", a) for j, a in enumerate(row)]
        result.append(row_values)
    return result


def integer(op: str, name: str, value: Any, minimum: int) -> int:
    """Return value if it is an int (not a bool) ≥ minimum, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: {name} must be an int, got {_describe(value)}")
    if value < minimum:
        wanted = "must not be negative" if minimum == 0 else f"must be at least {minimum}"
        raise ValueError(f"{op}: {name} {wanted}, got {value}")
    return int(value)


def size(op: str, name: str, value: Any) -> int:
    """Return value if it is an int ≥ 1 (a layer size, a batch size), else raise."""
    return integer(op, name, value, 1)


def count(op: str, name: str, value: Any) -> int:
    """Return value if it is an int ≥ 0 (a number of epochs), else raise."""
    return integer(op, name, value, 0)


#: The largest layer, and the most weights, a network may have: beyond these a
#: pure-Python network would take hours per epoch or exhaust memory.
MAX_LAYER_SIZE = 100_000
MAX_WEIGHTS = 10_000_000


def layer_sizes(op: str, sizes: Sequence[Any], names: Sequence[str]) -> List[int]:
    """Return the sizes as ints ≥ 1, refusing layers or networks too large to run."""
    checked = [size(op, name, value) for name, value in zip(names, sizes)]
    for name, value in zip(names, checked):
        if value > MAX_LAYER_SIZE:
            shown = str(value) if value < 10 ** 12 else _short_repr(value)
            raise ValueError(f"{op}: {name} = {shown} is more than the {MAX_LAYER_SIZE:,}"
                             " units a pure-Python layer may have")
    weights = sum(a * b for a, b in zip(checked[:-1], checked[1:]))
    if weights > MAX_WEIGHTS:
        raise ValueError(f"{op}: sizes {checked} make {weights:,} weights, more than the"
                         f" {MAX_WEIGHTS:,} purebp allows")
    return checked


def learning_rate(op: str, value: Any) -> float:
    """Return the learning rate as a finite float ≥ 0, else raise."""
    rate = real_number(op, "learning_rate", value)
    if rate < 0:
        raise ValueError(f"{op}: learning_rate must not be negative, got {rate!r}")
    return rate


def seed(op: str, value: Any) -> Optional[int]:
    """Return the seed if it is None or an int (not a bool), else raise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: seed must be an int or None, got {_describe(value)}")
    return int(value)


def name(op: str, argument: str, value: Any, known: Sequence[str]) -> str:
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
