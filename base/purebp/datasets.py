"""Small data sets to train on at once, made in code (no downloads), and a CSV loader.

Every function returns ``(X, y)``: lists of rows of floats, inputs and
targets. The binary ones have one target column holding 0.0 or 1.0.

    xor(), and_(), or_()        the four rows of a two-input truth table
    parity(bits)                all 2^bits rows; target 1 when an odd number of bits are 1
    moons(n, noise, seed)       two interleaving half circles in the plane
    circles(n, noise, factor, seed)   a small circle inside a large one
    spirals(n, turns, noise, seed)    two interleaved spiral arms
    load_csv(path, targets)     a file of numbers; the last ``targets`` columns are y

    DATASETS                    the generators by name, as ``purebp train --data`` takes them

Noise is Gaussian, drawn with ``random.Random(seed)``: one seed, one data set,
on every Python. What this module does not do: split into train and test
sets, scale features, or read anything but plain numbers.
"""

from __future__ import annotations

import csv
import math
import random
from typing import Callable, Dict, List, Optional, Tuple

from purebp import _checks
from purebp._types import Matrix, StrPath

#: What every function here returns: (X, y), inputs and targets.
Data = Tuple[Matrix, Matrix]


def _truth_table(rule: Callable[[int, int], int]) -> Data:
    rows = [(0, 0), (0, 1), (1, 0), (1, 1)]
    return ([[float(a), float(b)] for a, b in rows],
            [[float(rule(a, b))] for a, b in rows])


def xor() -> Data:
    """Return XOR's truth table: the tutorial's four rows.

    >>> xor()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [[0.0], [1.0], [1.0], [0.0]])
    """
    return _truth_table(lambda a, b: a ^ b)


def and_() -> Data:
    """Return AND's truth table (linearly separable, unlike XOR)."""
    return _truth_table(lambda a, b: a & b)


def or_() -> Data:
    """Return OR's truth table (linearly separable, unlike XOR)."""
    return _truth_table(lambda a, b: a | b)


def parity(bits: int = 3) -> Data:
    """Return all 2^bits rows of bits, with target 1 when an odd number are 1.

    parity(2) is XOR. Rows come in counting order, most significant bit first.

    >>> parity(3)[1][:4]
    [[0.0], [1.0], [1.0], [0.0]]
    """
    bits = _checks.size("parity", "bits", bits)
    if bits > 16:
        raise ValueError(f"parity: bits must be at most 16 (65,536 rows), got {_checks._short_repr(bits)}")
    X, y = [], []
    for number in range(2 ** bits):
        row = [float((number >> (bits - 1 - b)) & 1) for b in range(bits)]
        X.append(row)
        y.append([float(sum(int(v) for v in row) % 2)])
    return X, y


#: The most samples a generator makes: more would take pure Python minutes to train on.
MAX_SAMPLES = 1_000_000


def _noise_args(op: str, n: int, noise: float, seed: Optional[int]) -> random.Random:
    _checks.size(op, "n", n)
    if n > MAX_SAMPLES:
        raise ValueError(f"{op}: n must be at most {MAX_SAMPLES:,}, got {_checks._short_repr(n)}")
    level = _checks.real_number(op, "noise", noise)
    if level < 0:
        raise ValueError(f"{op}: noise must not be negative, got {level!r}")
    return random.Random(_checks.seed(op, seed))


def moons(n: int = 200, noise: float = 0.1, seed: Optional[int] = 0) -> Data:
    """Return n points on two interleaving half circles; y is which moon.

    Moon 0 is the upper half of the unit circle; moon 1 is the lower half,
    shifted to (1, 0.5). Each point gets Gaussian noise of std ``noise``.
    """
    rng = _noise_args("moons", n, noise, seed)
    X, y = [], []
    for i in range(n):
        label = i % 2
        angle = math.pi * rng.random()
        if label == 0:
            x0, x1 = math.cos(angle), math.sin(angle)
        else:
            x0, x1 = 1.0 - math.cos(angle), 0.5 - math.sin(angle)
        X.append([x0 + rng.gauss(0.0, noise), x1 + rng.gauss(0.0, noise)])
        y.append([float(label)])
    return X, y


def circles(
    n: int = 200, noise: float = 0.05, factor: float = 0.5, seed: Optional[int] = 0
) -> Data:
    """Return n points on two concentric circles; y is 1 on the inner one.

    The outer circle has radius 1 and the inner one radius ``factor`` (< 1).
    """
    rng = _noise_args("circles", n, noise, seed)
    factor = _checks.real_number("circles", "factor", factor)
    if not 0.0 < factor < 1.0:
        raise ValueError(f"circles: factor must lie strictly between 0 and 1, got {factor!r}")
    X, y = [], []
    for i in range(n):
        label = i % 2
        radius = factor if label else 1.0
        angle = 2.0 * math.pi * rng.random()
        X.append([radius * math.cos(angle) + rng.gauss(0.0, noise),
                  radius * math.sin(angle) + rng.gauss(0.0, noise)])
        y.append([float(label)])
    return X, y


def spirals(
    n: int = 200, turns: float = 1.5, noise: float = 0.05, seed: Optional[int] = 0
) -> Data:
    """Return n points on two interleaved spiral arms; y is which arm.

    Arm 0 runs from the centre outwards through ``turns`` full turns; arm 1 is
    arm 0 rotated by half a turn. The radius grows from 0 to 1.
    """
    rng = _noise_args("spirals", n, noise, seed)
    turns = _checks.real_number("spirals", "turns", turns)
    if not 0 < turns <= 1e6:
        raise ValueError(f"spirals: turns must be positive and at most 1e6, got {turns!r}")
    X, y = [], []
    for i in range(n):
        label = i % 2
        radius = rng.random()
        angle = 2.0 * math.pi * turns * radius + math.pi * label
        X.append([radius * math.cos(angle) + rng.gauss(0.0, noise),
                  radius * math.sin(angle) + rng.gauss(0.0, noise)])
        y.append([float(label)])
    return X, y


#: The generators by name; each takes only keyword arguments with defaults.
DATASETS: Dict[str, Callable[..., Data]] = {
    "xor": xor,
    "and": and_,
    "or": or_,
    "parity": parity,
    "moons": moons,
    "circles": circles,
    "spirals": spirals,
}


def _first_non_number(fields: List[str]) -> Tuple[int, str]:
    """Return (column, text) of the first field float() refuses, counting from 1."""
    for column, text in enumerate(fields, start=1):
        try:
            float(text)
        except ValueError:
            return column, text
    raise AssertionError("every field is a number")  # only called when one is not


def load_csv(path: StrPath, targets: int = 1) -> Data:
    """Return (X, y) from a CSV file of numbers: the last ``targets`` columns are y.

    A first line that is not all numbers is taken as a header and skipped;
    blank lines are skipped. Every other line must have the same number of
    numeric, finite fields, more than ``targets`` of them; anything else
    raises ValueError naming the file, the line and the field.
    """
    op = "load_csv"
    path = _checks.path(op, path)
    shown = _checks.shown_path(path)
    targets = _checks.size(op, "targets", targets)
    X: Matrix = []
    y: Matrix = []
    width = None
    try:
        # utf-8-sig: a byte-order mark (as spreadsheets write) would make the first
        # line look like a header and lose it.
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for line_number, fields in enumerate(csv.reader(handle), start=1):
                if not fields or all(not f.strip() for f in fields):
                    continue
                try:
                    row = [float(f) for f in fields]
                except ValueError:
                    if width is None and not X:
                        width = -1  # a header: skip it, but only the first line
                        continue
                    column, text = _first_non_number(fields)
                    raise ValueError(
                        f"{op}: {shown}, line {line_number}: field {column} must be a number,"
                        f" got {_checks._short_repr(text)}"
                    ) from None
                if not all(math.isfinite(v) for v in row):
                    column = next(k for k, v in enumerate(row, start=1) if not math.isfinite(v))
                    raise ValueError(
                        f"{op}: {shown}, line {line_number}: field {column} must be finite,"
                        f" got {_checks._short_repr(fields[column - 1])}"
                    )
                if width in (None, -1):
                    width = len(row)
                    if width <= targets:
                        raise ValueError(
                            f"{op}: {shown}, line {line_number}: targets must be less than the"
                            f" {width} columns found, to leave an input column, got {targets}"
                        )
                elif len(row) != width:
                    raise ValueError(
                        f"{op}: {shown}, line {line_number}: {len(row)} fields,"
                        f" expected {width} like the first data line"
                    )
                X.append(row[:-targets])
                y.append(row[-targets:])
    except OSError as error:
        raise ValueError(f"{op}: cannot read {shown}: {error.strerror or error}") from None
    except csv.Error as error:  # e.g. a field longer than the csv module allows
        raise ValueError(f"{op}: {shown}: not readable as CSV: {error}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{op}: {shown} is not a UTF-8 text file") from None
    if not X:
        raise ValueError(f"{op}: {shown} holds no data rows")
    return X, y
