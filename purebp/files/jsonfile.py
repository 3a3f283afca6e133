"""Reading and writing purebp's JSON files safely: vectors and model files alike.

    FormatError                 ValueError for a file that breaks its format; says where
                                (defined in purebp.errors, importable from here too)
    read_text(path, max_bytes, what)  the text of a regular file, every failure a FormatError
    parse_json(text, source)    the same for a text
    write_atomic(path, text)    write through a temporary file and os.replace
    remove_stale_partials(path) remove the temporaries of writers that were killed
    special_file(path)          what path is, if a device, FIFO or socket (never replaced)
    fail, describe, names, number, matrix, layers, obj, field, version, network_spec
                                validators: each returns a clean value or raises
                                FormatError naming the place (``where``), in the
                                style purebp.errors gives: ``m.json.loss must be ...``

Nothing read is ever executed: the standard library's JSON parser, then these
checks. NaN and Infinity literals parse as floats and are refused by
``number`` where they stand, so the message can name their place; only
the reported numbers of a results file accept them (``finite=False``). A file
name in a message is shown by purebp._checks.shown_path: whole, on one line.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import re
import stat
import tempfile
from typing import Any, Callable, Dict, Iterable, List, NoReturn, Optional, Sequence, Tuple

from purebp import _limits
from purebp._checks import shown_path
from purebp._types import Matrix
from purebp.activations import ACTIVATIONS
from purebp.activations import NAMES as ACTIVATION_NAMES
from purebp.errors import FormatError as FormatError  # still importable from here
from purebp.losses import LOSSES

#: A matrix's expected (rows, columns); None where any size will do.
Shape = Tuple[Optional[int], Optional[int]]


def fail(message: str) -> NoReturn:
    """Raise FormatError(message); the message starts with the place (purebp.errors)."""
    raise FormatError(message)


def describe(value: Any) -> str:
    """A short rendering of a JSON value for an error message: at most 40 characters.

    A short list of numbers is shown as it is written; another list by its
    length, an object as such (never the whole file).

    >>> print(describe("tanh"), describe([2, 4, 1]), describe([[0.5]] * 3), describe({}), sep="; ")
    "tanh"; [2, 4, 1]; a list of length 3; an object
    """
    if _huge(value):
        return f"an int of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, list):
        if len(value) > 8 or not all(isinstance(v, (int, float)) and not _huge(v) for v in value):
            return f"a list of length {len(value)}"
        text = json.dumps(value)
    elif isinstance(value, dict):
        return "an object"
    elif isinstance(value, (str, int, float, bool, type(None))):
        text = json.dumps(value)
    else:
        text = type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _huge(value: Any) -> bool:
    """True for an int whose digits would make a message long (or json.dumps refuse it)."""
    return isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128


def names(known: Iterable[str]) -> str:
    """The names a field may hold, as a message lists them: "a", "b", "c"."""
    return ", ".join(json.dumps(name) for name in known)


def number(value: Any, where: str, finite: bool = True) -> float:
    """A finite float (ints accepted, bools refused).

    ``finite=False`` (the numbers a results file reports, never its inputs)
    also accepts NaN and ±inf, and reads a number past the float range as
    the infinity of its sign, as float() reads "1e400" (the JSON parser has
    done so already for a literal with a fraction or an exponent).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        fail(f"{where} must be a number, got {describe(value)}")
    try:
        number = float(value)
    except OverflowError:
        if not finite:  # an int of more than 309 digits: an overflow like 1e400's
            return math.inf if value > 0 else -math.inf
        fail(f"{where} must fit in a float, got {describe(value)}")
    if finite and not math.isfinite(number):
        fail(f"{where} must be a finite number, got {number!r}")
    return number


def matrix(value: Any, where: str, rows: Optional[int], columns: Optional[int],
           finite: bool = True) -> Matrix:
    """A non-empty list of equal rows of finite floats, of the given sizes when not None.

    ``finite=False``: NaN and ±inf entries too (``number``).
    """
    if not isinstance(value, list):
        fail(f"{where} must be a matrix (a list of rows), got {describe(value)}")
    if rows is not None and len(value) != rows:
        fail(f"{where} has {len(value)} rows, expected {rows}")
    if not value:
        fail(f"{where} is empty; it must have at least one row")
    result = []
    for i, row in enumerate(value):
        if not isinstance(row, list):
            fail(f"{where}[{i}] must be a row (a list of numbers), got {describe(row)}")
        width = columns if columns is not None else len(value[0])
        if width == 0:  # a row of no entries is never a network's: [[]] is no 1 × 0 matrix
            fail(f"{where}[0] is empty; it must have at least one entry")
        if len(row) != width:
            if row and isinstance(row[0], list):  # one level too deep: say so, not the count
                number(row[0], f"{where}[{i}][0]", finite)
            like = "" if columns is not None else f" like {where}[0]"
            fail(f"{where}[{i}] has {len(row)} entries, expected {width}{like}")
        result.append([number(v, f"{where}[{i}][{j}]", finite) for j, v in enumerate(row)])
    return result


def layers(value: Any, where: str, shapes: Optional[Sequence[Shape]],
           finite: bool = True) -> List[Matrix]:
    """A list of matrices, one per layer; shapes None: any number, any sizes.

    ``finite=False``: NaN and ±inf entries too (``number``).
    """
    if not isinstance(value, list) or (shapes is not None and len(value) != len(shapes)):
        count = "" if shapes is None else f"{len(shapes)} "
        fail(f"{where} must be a list of {count}matrices (one per layer), got {describe(value)}")
    if shapes is None:
        shapes = [(None, None)] * len(value)
    return [matrix(m, f"{where}[{l}]", r, c, finite)
            for l, (m, (r, c)) in enumerate(zip(value, shapes))]


def obj(value: Any, where: str) -> Dict[str, Any]:
    """A JSON object."""
    if not isinstance(value, dict):
        fail(f"{where} must be an object, got {describe(value)}")
    return value


def field(mapping: Dict[str, Any], key: str, where: str) -> Any:
    """mapping[key], or a FormatError saying it is missing."""
    if key not in mapping:
        fail(f"{where}: missing field {key!r}")
    return mapping[key]


def version(value: Any, where: str, expected: int) -> None:
    """Refuse any version but ``expected`` (an int: true is not 1 here)."""
    if type(value) is not int or value != expected:
        fail(f"{where} must be {expected}, the version this purebp reads, got {describe(value)}")


def network_spec(value: Any, where: str) -> Dict[str, Any]:
    """A network description: sizes, activation, output_activation, loss (all checked)."""
    net = obj(value, where)
    sizes = field(net, "sizes", where)
    if (not isinstance(sizes, list) or len(sizes) < 2
            or not all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= 100_000
                       for s in sizes)):
        fail(f"{where}.sizes must be a list of at least two sizes from 1 to 100000,"
             f" got {describe(sizes)}")
    activation = field(net, "activation", where)
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        fail(f"{where}.activation: unknown activation {describe(activation)};"
             f" expected one of {names(ACTIVATIONS)}")
    output = field(net, "output_activation", where)
    if not isinstance(output, str) or output not in ACTIVATION_NAMES:
        fail(f"{where}.output_activation: unknown activation {describe(output)};"
             f" expected one of {names(ACTIVATION_NAMES)}")
    loss = field(net, "loss", where)
    if not isinstance(loss, str) or loss not in LOSSES:
        fail(f"{where}.loss: unknown loss {describe(loss)}; expected one of {names(LOSSES)}")
    needed = LOSSES[loss].output_activation
    if needed is not None and output != needed:
        fail(f"{where}.output_activation must be {describe(needed)} for loss {describe(loss)},"
             f" got {describe(output)}")
    if output == "softmax" and loss != "cross_entropy":
        fail(f"{where}.loss must be \"cross_entropy\" for output_activation \"softmax\","
             f" got {describe(loss)}")
    return {"sizes": list(sizes), "activation": activation,
            "output_activation": output, "loss": loss}


def _clean(text: str) -> str:
    """Return text rebuilt as a well-formed str, or a stand-in if it is not one.

    PyPy 3.9's json module puts a malformed string in its error message for
    a non-ASCII character, and using that string later crashes the
    interpreter's formatting; rebuilding it from its bytes is safe everywhere.
    """
    try:
        return text.encode("utf-8", "surrogatepass").decode("utf-8")
    except Exception:  # a malformed str can fail in ways no normal one does
        return "unexpected character"


def _unique_keys(source: str) -> Callable[[List[Tuple[str, Any]]], Dict[str, Any]]:
    """Return json's object_pairs_hook that builds an object, refusing a key given twice.

    The standard library lets the last of two equal keys win; a file could
    then say one thing to one reader and another to the next.
    """
    def build(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen = set()
            for key, _ in pairs:
                if key in seen:
                    fail(f"{source}: the key {describe(key)} must appear once in an object,"
                         " got it twice")
                seen.add(key)
        return result

    return build


def parse_json(text: str, source: str) -> Any:
    """Return the parsed JSON of ``text``; errors name ``source``.

    An object that gives a key twice is refused (_unique_keys), and so is a
    text whose parse would exceed the memory budget (purebp._limits).
    """
    need = _limits.json_bytes(text)
    budget = _limits.memory_budget()
    before = _limits.held()  # the files read already and still held (purebp check)
    if budget is not None and before + need > budget:
        besides = f", on top of {_limits.show_bytes(before)} read already" if before else ""
        raise FormatError(
            f"{source} must parse within the memory budget of {_limits.show_bytes(budget)},"
            f" got a text whose parse is estimated at {_limits.show_bytes(need)}{besides}"
            f" ({_limits.MEMORY_VARIABLE}; set it higher, or unlimited, to read it)")
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys(source))
        _limits.hold(need)
        return value
    except FormatError:  # a key given twice
        raise
    except json.JSONDecodeError as error:
        # some of json's messages end in "at" already ("Invalid control character at")
        what = _clean(error.msg)
        what = what[:-3] if what.endswith(" at") else what
        raise FormatError(
            f"{source}: not valid JSON: {what} at line {error.lineno},"
            f" column {error.colno}") from None
    except RecursionError:
        raise FormatError(f"{source}: nested too deeply to be a purebp file") from None
    except ValueError as error:  # an integer literal of more than int()'s 4300 digits
        raise FormatError(f"{source}: numbers must be JSON numbers of at most 4300 digits,"
                          f" got {'a longer one' if 'digits' in str(error) else error}") from None


def read_text(name: str | os.PathLike[str], max_bytes: int, what: str) -> str:
    """Return the UTF-8 text of a regular file of at most max_bytes; errors name the file.

    name is a str or a pathlib.Path. A folder, FIFO or device is refused
    before a byte is read, and so is a file whose bytes and text (two copies
    while decoding) exceed the memory budget.
    """
    path = os.fspath(name)
    if "\0" in path:
        raise FormatError(f"{shown_path(path)}: a file name must not hold a NUL byte")
    try:
        with _limits.open_regular(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise FormatError(f"{shown_path(path)} has {size} bytes, more than the"
                                  f" {max_bytes} a {what} may have")
            budget = _limits.memory_budget()
            if budget is not None and 2 * size > budget:
                raise FormatError(
                    f"{shown_path(path)} must be read within the memory budget of"
                    f" {_limits.show_bytes(budget)}, got {size} bytes, which take"
                    f" {_limits.show_bytes(2 * size)} to read and decode"
                    f" ({_limits.MEMORY_VARIABLE}; set it higher, or unlimited, to read it)")
            data = bytearray()
            # Counted chunk by chunk, since a file can grow while it is read (and
            # /proc files report size 0); not read(max_bytes + 1), for which PyPy
            # allocates the whole limit (a 512 MiB buffer, 0.24 s, for every model file).
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                data += chunk
                if len(data) > max_bytes:
                    raise FormatError(
                        f"{shown_path(path)} has more than the {max_bytes} bytes a {what} may have")
        return data.decode("utf-8")
    except OSError as error:
        raise FormatError(f"{shown_path(path)}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise FormatError(f"{shown_path(path)}: not a UTF-8 text file") from None


def _host_tag() -> str:
    """Return what names this host, and this host's PID numbering, in a temporary's name.

    The host name (cut to 24 characters, made file-name safe), then 8 hex
    digits of a hash of the whole name and of the PID namespace: two hosts
    whose names share a long start differ, and so do two containers that share a
    folder and a host name but number their processes apart, since a PID is
    only proof of a dead writer in the numbering it came from.
    """
    node = platform.node()
    try:
        numbering = os.readlink("/proc/self/ns/pid")  # Linux: e.g. 'pid:[4026531836]'
    except (OSError, AttributeError):
        numbering = ""
    digest = hashlib.sha256(f"{node}\0{numbering}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"{re.sub(r'[^A-Za-z0-9-]', '-', node)[:24] or 'host'}-{digest[:8]}"


def _partial_prefix(path: str) -> str:
    """Return the name a temporary file for ``path`` starts with: .NAME.HOST.PID.

    The writer's host (_host_tag) and PID are in the name so that a later
    writer can tell a temporary left by a killed one from one still being
    written. NAME is cut to 100 characters to leave room in a file name.
    """
    return f".{os.path.basename(path)[:100]}.{_host_tag()}.{os.getpid()}."


def _alive(pid: int) -> bool:
    """Return False only for a PID that provably names no running process."""
    try:
        os.kill(pid, 0)  # signal 0: no signal sent, only the existence checked
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # someone else's process, or no way to tell
        return True
    return True


def remove_stale_partials(path: str, *more: str) -> List[str]:
    """Remove the temporaries of ``path`` whose writer, on this host, is no longer running.

    Returns the names removed. Only a file named by ``_partial_prefix`` for
    this host with a PID that no process has is removed: never a live
    writer's (this process's own included), never one from another machine
    sharing the folder, never an older ``.tmp-*.partial`` (left harmless: no
    reader takes a .partial file). Not on Windows, where os.kill cannot test a PID.
    ``more``: other paths in the same folder, cleaned in the same single
    listing of it (write_suite's thousands of files).
    """
    if os.name == "nt":
        return []
    folder = os.path.dirname(os.path.abspath(path))
    shared = set()
    for each in (path, *more):
        mine = _partial_prefix(each)
        # .NAME.HOST. is what every writer on this host shares; the PID follows
        shared.add(mine[:mine.rstrip(".").rindex(".") + 1])
    removed = []
    try:
        entries = os.listdir(folder)
    except OSError:
        return []
    for entry in entries:
        if not entry.endswith(".partial"):
            continue
        # .NAME.HOST.PID.XXXXXXXX.partial: mkstemp's XXXXXXXX holds no dot
        head, _, pid_text = entry[:-len(".partial")].rpartition(".")[0].rpartition(".")
        if head + "." not in shared:
            continue
        if not pid_text.isdigit() or int(pid_text) in (0, os.getpid()) or _alive(int(pid_text)):
            continue
        try:
            os.remove(os.path.join(folder, entry))
            removed.append(entry)
        except OSError:  # gone already, or not ours to remove: leave it
            pass
    return removed


def special_file(path: str) -> str:
    """Return what path is if it is a device, a FIFO or a socket (following links), else "".

    write_atomic must not replace such a file with a regular one: ``save
    /dev/null`` as root would replace the system's /dev/null. A folder, a
    regular file or a path that does not exist gives "".
    """
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):  # missing, unreadable, or a name the OS refuses
        return ""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return ""
    return next((kind for test, kind in _limits._KINDS if test(mode)), "not a regular file")


def write_atomic(name: str | os.PathLike[str], text: str, clean: bool = True) -> None:
    """Write text to the file name (a str or a pathlib.Path) through a temporary file in
    the same folder and os.replace.

    A crash mid-write leaves the old file (or none) where the good one was,
    never a half-written one. The temporary, ``.NAME.HOST.PID.XXXXXXXX.partial``,
    is never read as a file of ours (not *.json); one left by a writer that
    was killed is removed by the next successful write of the same path
    (remove_stale_partials); ``clean=False`` leaves that to the caller, who
    writes many files and cleans once.
    """
    path = os.fspath(name)
    if "\0" in path:
        raise ValueError(f"{shown_path(path)}: a file name must not hold a NUL byte")
    if special_file(path):
        raise ValueError(f"{shown_path(path)} must be a regular file or a new path to be"
                         f" written over, got {special_file(path)}")
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=_partial_prefix(path),
                                         suffix=".partial")
    try:
        # newline="\n": the same bytes on every system (Windows' text mode would write
        # \r\n), so a file's SHA-256, as a vector folder's MANIFEST lists it, is its text's
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp makes the file private (0600); give it the mode a new file gets
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    if clean:
        remove_stale_partials(path)
