"""Tensors as nested lists of floats: their shape, checked; zeros of a shape; copies.

    shape_of(op, name, t, rank)   the shape of a nested list, checked rectangular and real
    rank_of(t)                    how deep a nested list goes (following first entries)
    dims(t)                       the shape of a tensor known to be rectangular (unchecked)
    zeros(shape)                  a nested list of 0.0 of that shape
    copy(t)                       a deep copy of a nested list
    flat(t) / unflat(v, shape)    a tensor's entries in order (last index fastest), and back
    total(terms)                  Σ of numbers, added left to right from 0.0

A tensor here is what PyTorch's ``.tolist()`` gives: a number (rank 0), or a
list of tensors of one shape. Nothing here does arithmetic but ``total``: the
layers write their own loops, so that each reads as its equations.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable, List, Sequence, Tuple

from purebp._checks import _describe

Shape = Tuple[int, ...]
#: A nested list of floats (Any: mypy has no recursive list type to say it better).
Tensor = Any


def shape_of(op: str, name: str, t: object, rank: int) -> Shape:
    """Return the shape of ``t``, a nested list of ``rank`` levels of real numbers.

    ValueError or TypeError name the argument, what was expected and what came:

    >>> shape_of("Conv2d", "input", [[[[1.0, 2.0]]]], 4)
    (1, 1, 1, 2)
    >>> shape_of("Linear", "input", [[1.0], [2.0, 3.0]], 2)
    Traceback (most recent call last):
    ...
    ValueError: Linear: input must be rectangular, got rows of lengths 1 and 2 at input[1]
    """
    found = _shape(t, rank)
    if found is None:
        depth = _depth(t)
        raise ValueError(f"{op}: {name} must be a tensor of rank {rank} (nested lists"
                         f" {rank} deep), got {_describe(t) if depth == 0 else f'{depth} deep'}")
    _check_entries(op, name, t, found, name)
    return tuple(found)


def _depth(t: object) -> int:
    depth = 0
    while isinstance(t, (list, tuple)) and len(t) > 0:
        t, depth = t[0], depth + 1
    return depth


def dims(t: Tensor) -> Shape:
    """The shape of a tensor known to be rectangular (one a layer made): first entries only.

    >>> dims([[1.0, 2.0, 3.0]])
    (1, 3)
    """
    shape = []
    while isinstance(t, list):
        shape.append(len(t))
        t = t[0]
    return tuple(shape)


def rank_of(t: object) -> int:
    """How many levels of lists (or tuples) t has, following first entries; at least 1, so
    that shape_of(…, rank_of(t)) says what is wrong with a number or an empty list."""
    return max(1, _depth(t))


def _shape(t: object, rank: int) -> Any:
    sizes: List[int] = []
    for _ in range(rank):
        if not isinstance(t, (list, tuple)) or len(t) == 0:
            return None
        sizes.append(len(t))
        t = t[0]
    return tuple(sizes)


#: The number types a row may hold and be checked at C speed (others go the long way).
_PLAIN = {float, int}


def _check_entries(op: str, name: str, t: Any, shape: Shape, where: str) -> None:
    try:
        if len(shape) == 1 and type(t) in (list, tuple) and len(t) == shape[0] \
                and set(map(type, t)) <= _PLAIN and all(map(math.isfinite, t)):
            return  # a row of finite floats and ints (no bools): the common case, in C
    except OverflowError:  # an int too large for a float: said below, entry by entry
        pass
    if not shape:
        if isinstance(t, bool) or not isinstance(t, numbers.Real):
            raise TypeError(f"{op}: {where} must be a real number, got {_describe(t)}")
        try:
            finite = math.isfinite(t)
        except OverflowError:  # an int beyond the largest float
            finite = False
        if not finite:
            if isinstance(t, int):
                raise ValueError(f"{op}: {where} must be finite, within a float's range, got"
                                 f" {_describe(t)}")
            raise ValueError(f"{op}: {where} must be finite, got {t!r}")
        return
    if not isinstance(t, (list, tuple)) or len(t) != shape[0]:
        got = len(t) if isinstance(t, (list, tuple)) else _describe(t)
        raise ValueError(f"{op}: {name} must be rectangular, got rows of lengths {shape[0]} and"
                         f" {got} at {where}")
    for i, sub in enumerate(t):
        _check_entries(op, name, sub, shape[1:], f"{where}[{i}]")


def zeros(shape: Sequence[int]) -> Tensor:
    """Return a nested list of 0.0 of ``shape``.

    >>> zeros((2, 3))
    [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    if not shape:
        return 0.0
    return [zeros(shape[1:]) for _ in range(shape[0])]


def copy(t: Tensor) -> Tensor:
    """Return a deep copy of the nested list ``t`` (its numbers as floats)."""
    if isinstance(t, (list, tuple)):
        return [copy(sub) for sub in t]
    return float(t)


def flat(t: Tensor) -> List[float]:
    """Return the entries of ``t`` in order, the last index fastest (as torch's ``flatten``).

    >>> flat([[1.0, 2.0], [3.0, 4.0]])
    [1.0, 2.0, 3.0, 4.0]
    """
    if isinstance(t, (list, tuple)):
        out: List[float] = []
        for sub in t:
            out.extend(flat(sub))
        return out
    return [t]


def unflat(values: Sequence[float], shape: Sequence[int]) -> Tensor:
    """Return ``values`` (as many as the shape holds) as a nested list of ``shape``.

    >>> unflat([1.0, 2.0, 3.0, 4.0], (2, 2))
    [[1.0, 2.0], [3.0, 4.0]]
    """
    if not shape:
        return values[0]
    step = len(values) // shape[0]
    return [unflat(values[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def total(terms: Iterable[float]) -> float:
    """Return Σ of the terms, added left to right from 0.0.

    Not sum(): since CPython 3.12 sum() of floats is compensated, so the bits
    would depend on the Python version.
    """
    result = 0.0
    for t in terms:
        result += t
    return result
