"""What purebp agrees to read, and how much memory and time a request may take.

    open_regular(path)            a binary handle on a regular file; a folder, FIFO,
                                  device or socket is refused at once (an OSError)
    MEMORY_VARIABLE, TIME_VARIABLE    the environment variables that set the budgets
    memory_budget(), time_budget()    the budgets in force: bytes, seconds (None: no limit)
    check(what, need_bytes, need_seconds, how)   refuse a request that exceeds either
    network_bytes, network_seconds    what training or a gradient of a network takes
                                  (the formulas are at their constants)
    json_bytes(text)              what parsing a JSON text takes, at most
    RANDOM_CASE_BYTES, random_case_seconds()     what one random test-vector case takes

The budgets default to 2 GiB and 6 hours; ``PUREBP_MEMORY_BUDGET=8GiB`` or
``PUREBP_TIME_BUDGET=2d`` raise them, ``unlimited`` lifts them. Each estimate
is a stated formula with constants measured on a small case (the comment at
each says how), checked with integer arithmetic before anything is built, so
``--depth 100000000`` is refused in microseconds. Memory estimates are meant
to be high (they refuse what could not fit), time estimates low (they refuse
only what would surely run too long). What this module does not do: watch a
running computation, or count what the process holds already.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import stat
from fractions import Fraction
from typing import BinaryIO, Dict, Iterator, List, Optional, Sequence, Tuple

#: The environment variables that set the memory and time budgets.
MEMORY_VARIABLE = "PUREBP_MEMORY_BUDGET"
TIME_VARIABLE = "PUREBP_TIME_BUDGET"
DEFAULT_MEMORY = 2 * 1024 ** 3
DEFAULT_TIME = 6 * 3600.0

_BYTE_UNITS = {"": 1, "b": 1, "kib": 1024, "mib": 1024 ** 2, "gib": 1024 ** 3,
               "tib": 1024 ** 4}
_TIME_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_AMOUNT = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([A-Za-z]*)\s*")


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def open_regular(path: str) -> BinaryIO:
    """Return the file at ``path`` opened for binary reading; refuse anything but a regular file.

    O_NONBLOCK, so that opening a FIFO returns at once (a plain open waits
    for a writer forever); the kind is then read from the open descriptor,
    so a path swapped after a check cannot slip past. Raises OSError; for
    anything but a regular file, one whose strerror says what the path is.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise OSError(0, f"{kind}, not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


# -- the budgets ----------------------------------------------------------------------


def _parse(variable: str, text: str, units: Dict[str, float], example: str) -> Optional[Fraction]:
    """The amount ``text`` gives, exactly (a Fraction, so that 400 digits neither overflow
    nor lose a unit); None for 'unlimited'."""
    if text.strip().lower() == "unlimited":
        return None
    match = _AMOUNT.fullmatch(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in units or Fraction(match.group(1)) <= 0:
        raise ValueError(f"{variable} must be {example}, or 'unlimited', got {_cut(text)!r}")
    return Fraction(match.group(1)) * Fraction(units[unit])


def _cut(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def parse_bytes(text: str, variable: str = MEMORY_VARIABLE) -> Optional[int]:
    """Return a size in bytes from text like 2GiB, 512MiB or 4000000000; None for 'unlimited'.

    >>> parse_bytes("2GiB"), parse_bytes("1.5 kib"), parse_bytes("unlimited")
    (2147483648, 1536, None)
    """
    value = _parse(variable, text, {k: float(v) for k, v in _BYTE_UNITS.items()},
                   "a size like 2GiB, 512MiB or a number of bytes")
    if value is not None and value.denominator != 1:  # 0.5, or 1.5 bytes
        raise ValueError(f"{variable} must be a whole number of bytes, or 'unlimited', got"
                         f" {_cut(text)!r} ({float(value):g} bytes)")
    return None if value is None else int(value)


def parse_seconds(text: str, variable: str = TIME_VARIABLE) -> Optional[float]:
    """Return a duration in seconds from text like 6h, 90m, 2d or 3600; None for 'unlimited'.

    >>> parse_seconds("6h"), parse_seconds("90m"), parse_seconds("unlimited")
    (21600.0, 5400.0, None)
    """
    value = _parse(variable, text, _TIME_UNITS, "a duration like 6h, 90m, 2d or seconds")
    # Past 1e300 seconds a budget is as good as none, and a float still holds it.
    return None if value is None else float(min(value, Fraction(10) ** 300))


def memory_budget() -> Optional[int]:
    """Return the memory budget in bytes ($PUREBP_MEMORY_BUDGET, default 2 GiB); None: none."""
    text = os.environ.get(MEMORY_VARIABLE)
    return DEFAULT_MEMORY if text is None else parse_bytes(text)


def time_budget() -> Optional[float]:
    """Return the time budget in seconds ($PUREBP_TIME_BUDGET, default 6 hours); None: none."""
    text = os.environ.get(TIME_VARIABLE)
    return DEFAULT_TIME if text is None else parse_seconds(text)


def show_bytes(n: float) -> str:
    """Return a size for a message.

    >>> show_bytes(2 * 1024 ** 3), show_bytes(1536), show_bytes(10 ** 15)
    ('2 GiB', '1.5 KiB', '909 TiB')
    >>> show_bytes(1), show_bytes(10 ** 400)
    ('1 byte', 'more than 1e+300 bytes')
    """
    if n > 10 ** 300:  # past what a float holds
        return "more than 1e+300 bytes"
    for unit in ("TiB", "GiB", "MiB", "KiB"):
        size = _BYTE_UNITS[unit.lower()]
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return "1 byte" if n == 1 else f"{int(n)} bytes"


def show_seconds(s: float) -> str:
    """Return a duration for a message.

    >>> show_seconds(21600), show_seconds(90), show_seconds(1e9)
    ('6 hours', '1.5 minutes', '1.16e+04 days')
    """
    if s > 1e300:
        return "more than 1e+300 seconds"
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if s >= size:
            return f"{s / size:.3g} {unit}"
    return f"{s:.3g} seconds"


def check(what: str, need_bytes: int, need_seconds: float, how: str) -> None:
    """Refuse (ValueError) a request estimated above the memory or the time budget.

    ``what`` names the request (``purebp train``), ``how`` the sizes the
    estimate comes from; the message names the budget and how to change it.
    """
    memory = memory_budget()
    if memory is not None and need_bytes > memory:
        raise ValueError(
            f"{what}: {how} must fit in the memory budget of {show_bytes(memory)}, got an"
            f" estimate of {show_bytes(need_bytes)}; ask for less, or raise the budget with"
            f" {MEMORY_VARIABLE} (e.g. {MEMORY_VARIABLE}=16GiB, or unlimited)")
    seconds = time_budget()
    if seconds is not None and need_seconds > seconds:
        raise ValueError(
            f"{what}: {how} must finish within the time budget of {show_seconds(seconds)},"
            f" got an estimate of at least {show_seconds(need_seconds)}; ask for less, or"
            f" raise the budget with {TIME_VARIABLE} (e.g. {TIME_VARIABLE}=2d, or unlimited)")


#: The running totals of the tallies open, innermost last (see tally).
_held: List[int] = []


@contextlib.contextmanager
def tally() -> Iterator[None]:
    """Within the block, count every parse's estimate against the budget together.

    For what holds many files at once (``purebp check`` of two folders):
    parse_json refuses a text once it and those parsed before it in the
    block would exceed the budget, not only a text that alone would.
    """
    _held.append(0)
    try:
        yield
    finally:
        _held.pop()


def held() -> int:
    """Return the bytes counted so far in the innermost tally (0 outside one)."""
    return _held[-1] if _held else 0


def hold(need: int) -> None:
    """Count ``need`` bytes in the innermost tally, if one is open."""
    if _held:
        _held[-1] += need


# -- the estimates --------------------------------------------------------------------

#: Bytes per sample of a network: the data itself, its digest, and the
#: per-sample loss and row lists, whatever the shape. Fitted with the two
#: terms below to tracemalloc's peak over `purebp train` on moons (CPython 3.11):
#: 1,000,000 samples through 2,1,1 took 1.45 GiB (1,557 bytes a sample), through
#: 2,4,1 1.83 GiB; 200 samples through 20,000 one-unit layers 2.04 GiB.
SAMPLE_BYTES = 256
#: Bytes per sample per unit (every layer, input included): the forward pass
#: keeps z and a for each, the backward pass a δ; 93 to 231 measured over
#: layers 2,8,1 to 2,300,300,1, 136 fitted from 2,1,1 and 2,4,1.
SAMPLE_UNIT_BYTES = 256
#: Bytes per sample per layer of weights: each layer's arrays are lists of
#: rows, one list object per sample (about 410 bytes fitted from the deep case
#: with 136 a unit, 290 with the 256 above).
SAMPLE_LAYER_BYTES = 384
#: Bytes per weight: the weights, their gradients, the stepped copy and the
#: copy kept in case the epoch diverges, at 32 bytes a float in a list (an
#: 8-byte pointer and a 24-byte float object), and the saved file's text:
#: 2,3000,3000,1 on 10 samples with --save peaked at 173 bytes a weight.
WEIGHT_BYTES = 200
#: The time of one epoch (or one gradient) is at least, in nanoseconds,
#:     samples × (weights × SAMPLE_WEIGHT_NS + layers × SAMPLE_LAYER_NS)
#:     + steps × (weights × STEP_WEIGHT_NS + layers × STEP_LAYER_NS)
#:     + weights × EPOCH_WEIGHT_NS
#: where steps = ceil(samples / batch size) (1 for the full batch, 0 for a
#: gradient alone) and layers counts the layers of weights. The constants sit
#: below what `purebp train` on moons took per epoch once running, on CPython
#: 3.11 (PyPy 3.9 once warm is about ten times faster, hence a tenth): over
#: 2,1,1 (20,000 samples, full batch, batches of 100 and of 1), 2,16,16,1 and
#: 2,300,1 (full and batches of 1), 2,1000,1000,1 on 2 samples, 2,000
#: one-unit layers on 10 and 200 samples, the runs took 1.2 to 5.2 times the
#: estimate (4.4 for 2,1,1 in batches of 1), so that only what surely takes
#: too long is refused.
SAMPLE_WEIGHT_NS = {"CPython": 60, "PyPy": 6}
SAMPLE_LAYER_NS = {"CPython": 300, "PyPy": 30}
STEP_WEIGHT_NS = {"CPython": 20, "PyPy": 2}
STEP_LAYER_NS = {"CPython": 50, "PyPy": 5}
EPOCH_WEIGHT_NS = {"CPython": 400, "PyPy": 40}


def counts(sizes: Sequence[int]) -> Tuple[int, int]:
    """Return (units, weights) of a network of these layer sizes, biases counted as weights.

    >>> counts([2, 4, 1])
    (7, 17)
    """
    weights = 0
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        weights += fan_in * fan_out + fan_out
    return sum(sizes), weights


#: Networks of at most this many weights train through code written out for
#: their shape (purebp.fast.unrolled.MAX_WRITTEN_OUT; a test holds them equal),
WRITTEN_OUT_WEIGHTS = 4096
#: which costs about 14.4 KB per weight while it is compiled (tracemalloc's
#: peak over `purebp train` with 2,16,1, 6,40,1 and 2,60,60,1: 56 MB for 3,901
#: weights, 17.8 KB per weight for the smallest), on top of a base of about 1 MB.
WRITTEN_OUT_BYTES = 16 * 1024
BASE_BYTES = 1024 * 1024


def network_bytes(samples: int, units: int, weights: int, layers: int = 1) -> int:
    """Return the memory a forward and backward pass over ``samples`` takes, at most.

    ``layers``: the layers of weights (one less than the layer sizes).

    >>> network_bytes(200, 37, 337, 3) // 1024  # moons through 2,16,16,1: about 8.4 MiB
    8606
    """
    written_out = WRITTEN_OUT_BYTES * weights if weights <= WRITTEN_OUT_WEIGHTS else 0
    return (BASE_BYTES + samples * sample_bytes(units, layers) + WEIGHT_BYTES * weights
            + written_out)


def sample_bytes(units: int, layers: int) -> int:
    """Return what each sample adds to network_bytes: the per-sample terms alone.

    >>> sample_bytes(10, 2)  # --layers 1,8,1
    3584
    """
    return SAMPLE_BYTES + SAMPLE_UNIT_BYTES * units + SAMPLE_LAYER_BYTES * layers


def _constant(table: Dict[str, int]) -> int:
    return table.get(platform.python_implementation(), table["PyPy"])


def network_seconds(samples: int, weights: int, passes: int, layers: int = 1,
                    batch_size: Optional[int] = None) -> float:
    """Return the time of ``passes`` epochs (or gradients) over ``samples``, at least.

    ``batch_size`` None: the full batch, one step an epoch; 0: no step at all
    (a gradient only). Counted in integers, so that any size gives a number:
    one past 1e300 seconds stands at 1e300.

    >>> network_seconds(10 ** 400, 10 ** 400, 10 ** 400)
    1e+300
    """
    steps = 1 if batch_size is None else -(-samples // batch_size) if batch_size else 0
    ns = passes * (samples * (weights * _constant(SAMPLE_WEIGHT_NS)
                              + layers * _constant(SAMPLE_LAYER_NS))
                   + steps * (weights * _constant(STEP_WEIGHT_NS)
                              + layers * _constant(STEP_LAYER_NS))
                   + weights * _constant(EPOCH_WEIGHT_NS))
    return seconds_of(ns, 10 ** 9)


def seconds_of(count: int, per_second: float) -> float:
    """Return count / per_second as a float, 1e300 for anything larger."""
    return float(min(Fraction(count) / Fraction(per_second), Fraction(10) ** 300))


def json_bytes(text: str) -> int:
    """Return the memory Python's json module takes to parse ``text``, at most.

    Every value costs its object and its 8-byte place in a list or dict.
    Measured with tracemalloc on CPython 3.11 (bytes per value): an empty list
    64, an empty dict 72, a one-key dict 247, a float 32, a 23-digit int 44,
    a key in a large dict 93, a string 57 and its length; the constants below
    keep above each, counting
    the characters that open or separate values (one inside a string is
    counted too, which only makes the estimate higher). Strings cost about
    their length, the ``len(text)`` term.

    >>> json_bytes("[[], []]") > 2 * 64
    True
    """
    return (len(text) + 240 * text.count("{") + 72 * text.count("[")
            + 96 * text.count(":") + 64 * (text.count(",") + 1))


#: Bytes one random test-vector case holds until the suite is written: 22 KiB
#: kept and 24 KiB at the peak (tracemalloc, 40 cases), rounded up.
RANDOM_CASE_BYTES = 32 * 1024
#: Seconds one random case takes (50-digit decimals): 6 ms on CPython 3.11,
#: 116 ms on PyPy 3.9 (its decimal module is pure Python); the low ends.
RANDOM_CASE_SECONDS = {"CPython": 0.004, "PyPy": 0.05}


def random_case_seconds() -> float:
    """Return the time one random test-vector case takes on this Python, at least."""
    return RANDOM_CASE_SECONDS.get(platform.python_implementation(), RANDOM_CASE_SECONDS["CPython"])


def random_cases_seconds(cases: int) -> float:
    """Return the time ``cases`` random test-vector cases take on this Python, at least."""
    return seconds_of(cases, 1 / random_case_seconds())
