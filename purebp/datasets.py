"""Small data sets to train on at once, made in code (no downloads), and a CSV loader.

Every function returns ``(X, y)``: lists of rows of floats, inputs and
targets. The binary ones have one target column holding 0.0 or 1.0.

    xor(), and_(), or_()        the four rows of a two-input truth table
    parity(bits)                all 2^bits rows; target 1 when an odd number of bits are 1
    moons(n, noise, seed)       two interleaving half circles in the plane
    circles(n, noise, factor, seed)   a small circle inside a large one
    spirals(n, turns, noise, seed)    two interleaved spiral arms
    gaussians(n, noise, seed)         two Gaussian clouds, one per class
    quadrants(n, noise, seed)  points of the square; target 1 where the signs of x0 and x1
                               differ: XOR as a cloud of points (the playground's "xor")
    strokes(n, noise, seed)    8 × 8 images of one stroke each (4 directions), for a small CNN:
                               X is n × 1 × 8 × 8 (torch's layout), y one-hot n × 4
    load_csv(path, targets)     a file of numbers; the last ``targets`` columns are y
    parse_csv(text, targets, source)  the same from a CSV text (an upload)
    class_count(y)              K, for a column of class indices 0 … K−1

    DATASETS                    the generators by name, as ``purebp train --data`` takes them
    IMAGE_DATASETS              the image sets by name (``purebp train --data`` with --model)

Noise is Gaussian, drawn with ``random.Random(seed)``: one seed, one data set,
on every Python. What this module does not do: split into train and test
sets, scale features, or read anything but plain numbers.
"""

from __future__ import annotations

import csv
import io
import math
import os
import random
from typing import Callable, Dict, Iterator, List, Optional, TextIO, Tuple

from purebp import _checks, _limits
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


def gaussians(n: int = 200, noise: float = 0.1, seed: Optional[int] = 0) -> Data:
    """Return n points of two Gaussian clouds; y is which cloud.

    Cloud 0 is centred at (−0.5, −0.5), cloud 1 at (0.5, 0.5); each point is
    its centre plus Gaussian noise of std 0.25 + ``noise`` in each coordinate,
    so that even noise 0 leaves two clouds, not two points.
    """
    rng = _noise_args("gaussians", n, noise, seed)
    spread = 0.25 + noise
    X, y = [], []
    for i in range(n):
        label = i % 2
        centre = 0.5 if label else -0.5
        X.append([centre + rng.gauss(0.0, spread), centre + rng.gauss(0.0, spread)])
        y.append([float(label)])
    return X, y


def quadrants(n: int = 200, noise: float = 0.05, seed: Optional[int] = 0) -> Data:
    """Return n points of the square [−1, 1]²; y is 1 where x0 and x1 have opposite signs.

    XOR of the signs, as a cloud of points (TensorFlow Playground's "xor"
    data set). Each point is drawn uniformly at least 0.05 away from the axes,
    labelled, then moved by Gaussian noise of std ``noise`` (so with noise,
    points near an axis may cross it and keep their label).
    """
    rng = _noise_args("quadrants", n, noise, seed)
    X, y = [], []
    for _ in range(n):
        x0, x1 = (math.copysign(0.05 + 0.95 * rng.random(), rng.random() - 0.5)
                  for _ in range(2))
        label = 1.0 if (x0 < 0) != (x1 < 0) else 0.0
        X.append([x0 + rng.gauss(0.0, noise), x1 + rng.gauss(0.0, noise)])
        y.append([label])
    return X, y


#: The four kinds of stroke ``strokes`` draws, by class: the step from one pixel to the next.
STROKES = (("horizontal", (0, 1)), ("vertical", (1, 0)), ("diagonal", (1, 1)),
           ("antidiagonal", (1, -1)))


#: What ``strokes`` returns: images (N × C × H × W nested lists) and one-hot targets.
Images = Tuple[List[List[List[List[float]]]], Matrix]


def strokes(n: int = 800, noise: float = 0.25, seed: Optional[int] = 0) -> Images:
    """Return n grey 8 × 8 images of one stroke each, and its class one-hot.

    Sample i is of class i mod 4 (STROKES: horizontal, vertical, diagonal \\,
    antidiagonal /), so the classes are balanced. Its stroke is 3 to 6 pixels
    of 1.0 in a line, placed at random where it fits, on a background of 0.0;
    then every pixel gets Gaussian noise of std ``noise``. A stroke's class
    does not depend on where it is, which is what a convolution's shared
    weights are good at. X is n × 1 × 8 × 8 (N × C × H × W, as torch), y is
    n × 4.

    >>> X, y = strokes(4, noise=0.0)
    >>> [sum(map(sum, image[0])) >= 3 for image in X], y[1]
    ([True, True, True, True], [0.0, 1.0, 0.0, 0.0])
    """
    rng = _noise_args("strokes", n, noise, seed)
    size = 8
    X, y = [], []
    for i in range(n):
        label = i % len(STROKES)
        _, (di, dj) = STROKES[label]
        length = rng.randint(3, 6)
        span = length - 1
        rows = range(size - di * span)
        columns = range(max(0, -dj * span), size - max(0, dj * span))
        i0, j0 = rng.choice(list(rows)), rng.choice(list(columns))
        image = [[0.0] * size for _ in range(size)]
        for step in range(length):
            image[i0 + di * step][j0 + dj * step] = 1.0
        X.append([[[v + rng.gauss(0.0, noise) for v in row] for row in image]])
        y.append([1.0 if k == label else 0.0 for k in range(len(STROKES))])
    return X, y


#: The image data sets by name (inputs N × C × H × W, for purebp.layers).
IMAGE_DATASETS: Dict[str, Callable[..., Images]] = {
    "strokes": strokes,
}


#: The generators by name; each takes only keyword arguments with defaults.
DATASETS: Dict[str, Callable[..., Data]] = {
    "xor": xor,
    "and": and_,
    "or": or_,
    "parity": parity,
    "moons": moons,
    "circles": circles,
    "spirals": spirals,
    "gaussians": gaussians,
    "quadrants": quadrants,
}


def class_count(y: Matrix) -> int:
    """Return K for one target column of class indices 0 … K−1: the largest index + 1.

    What ``purebp train --loss cross_entropy`` needs to give such data one
    output per class. A class that never occurs below the largest still
    counts; a value that is not a whole number ≥ 0 raises ValueError naming
    its row.

    >>> class_count([[0.0], [2.0], [1.0], [2.0]])
    3
    """
    largest = 0
    for i, row in enumerate(y):
        if len(row) != 1:
            raise ValueError(f"class_count: y must have one column of class indices,"
                             f" got {len(row)} columns in row {i}")
        (label,) = row
        if not (math.isfinite(label) and label >= 0 and label == int(label)):
            raise ValueError(f"targets: row {i} must be a class index 0, 1, 2, ... for"
                             f" cross_entropy with one target column, got {label!r}")
        largest = max(largest, int(label))
    return largest + 1


def _first_non_number(fields: List[str]) -> Tuple[int, str]:
    """Return (column, text) of the first field float() refuses, counting from 1."""
    for column, text in enumerate(fields, start=1):
        try:
            float(text)
        except ValueError:
            return column, text
    raise AssertionError("every field is a number")  # only called when one is not


#: The longest line load_csv reads, in characters: 100,000 inputs of 80 characters.
MAX_CSV_LINE = 8 * 1024 * 1024
#: What a data row costs in memory beyond its floats (32 bytes each, pointer
#: and object): X's row and y's row, each a list of 56 bytes and its 8-byte place.
_ROW_BYTES = 128


def _lines(handle: TextIO, op: str, shown: str) -> Iterator[str]:
    """Yield the file's lines, refusing one longer than MAX_CSV_LINE before it is held whole."""
    for number, line in enumerate(iter(lambda: handle.readline(MAX_CSV_LINE + 1), ""), start=1):
        if len(line) > MAX_CSV_LINE:
            raise ValueError(f"{op}: {shown}, line {number} must be at most {MAX_CSV_LINE:,}"
                             " characters long, got a longer one")
        yield line


def load_csv(path: StrPath, targets: int = 1, sample_bytes: int = 0) -> Data:
    """Return (X, y) from a CSV file of numbers: the last ``targets`` columns are y.

    A first line that is not all numbers is taken as a header and skipped;
    blank lines are skipped. Every other line must have the same number of
    numeric, finite fields, more than ``targets`` of them; anything else
    raises ValueError naming the file, the line and the field.

    Only a regular file is read (a folder, FIFO or device is refused at
    once), and only within the memory budget (purebp._limits): a file larger
    than the budget is refused before it is read, since its rows take more
    memory than their text (32 bytes a float against a field of at most 25
    characters as floats are written), and reading stops with a ValueError
    once the rows read would exceed the budget. ``sample_bytes``: what the
    caller will spend on each row besides (purebp train: training it), counted
    in, so that reading stops as soon as the whole would not fit.
    """
    op = "load_csv"
    path = _checks.path(op, path)
    shown = _checks.shown_path(path)
    targets = _checks.size(op, "targets", targets)
    budget = _limits.memory_budget()
    try:
        with _limits.open_regular(path) as raw:
            size = os.fstat(raw.fileno()).st_size
            if budget is not None and size > budget:
                raise ValueError(
                    f"{op}: {shown} must fit in the memory budget of {_limits.show_bytes(budget)},"
                    f" got a file of {size:,} bytes, whose rows would take more"
                    f" ({_limits.MEMORY_VARIABLE}; set it higher, or unlimited, to read it)")
            # utf-8-sig: a byte-order mark (as spreadsheets write) would make the first
            # line look like a header and lose it.
            handle = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            X, y = _rows(_lines(handle, op, shown), op, shown, targets, budget, sample_bytes)
    except OSError as error:
        raise ValueError(f"{op}: cannot read {shown}: {error.strerror or error}") from None
    except csv.Error as error:  # e.g. a field longer than the csv module allows
        raise ValueError(f"{op}: {shown}: not readable as CSV: {error}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{op}: {shown} is not a UTF-8 text file") from None
    return X, y


def parse_csv(text: str, targets: int = 1, source: str = "the CSV text") -> Data:
    """Return (X, y) from the text of a CSV file, read as ``load_csv`` reads a file.

    The same rules and the same errors, naming ``source`` where load_csv names
    the file (the playground's upload, for one); the memory budget counts the
    rows as they are read, the text itself being already in memory.
    """
    op = "parse_csv"
    if not isinstance(text, str):
        raise TypeError(f"{op}: text must be a str, got {_checks._describe(text)}")
    targets = _checks.size(op, "targets", targets)
    handle = io.StringIO(text[1:] if text.startswith("\ufeff") else text, newline="")
    try:
        return _rows(_lines(handle, op, source), op, source, targets,
                     _limits.memory_budget(), 0)
    except csv.Error as error:
        raise ValueError(f"{op}: {source}: not readable as CSV: {error}") from None


def _rows(lines: Iterator[str], op: str, shown: str, targets: int, budget: Optional[int],
          sample_bytes: int) -> Data:
    """Return (X, y) from a CSV file's lines: load_csv's and parse_csv's reading."""
    X: Matrix = []
    y: Matrix = []
    width = None
    held = 0  # bytes the rows read so far take
    for line_number, fields in enumerate(csv.reader(lines), start=1):
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
        held += _ROW_BYTES + 32 * len(row) + sample_bytes
        if budget is not None and held > budget:
            raise ValueError(
                f"{op}: {shown} must fit in the memory budget of"
                f" {_limits.show_bytes(budget)}, got {len(X) + 1:,} rows taking"
                f" {_limits.show_bytes(held)}{' with their training' if sample_bytes else ''}"
                f" by line {line_number}"
                f" ({_limits.MEMORY_VARIABLE}; set it higher, or unlimited, to read it)")
        X.append(row[:-targets])
        y.append(row[-targets:])
    if not X:
        raise ValueError(f"{op}: {shown} holds no data rows")
    return X, y
