"""A disk cache of the compiled written-out code, so a new process need not compile it again.

What: purebp.fast.unrolled writes a training epoch out as Python source for
each network shape and compiles it. In one process that happens once per
shape (``unrolled._compiled`` is cached in memory), but every new process
compiled again: 0.4 to 1 s and 114 MB of the compiler's memory for the
largest shapes (CPython 3.11, 4,009 parameters with Adam), where finding,
checking and loading the compiled code object (``marshal.loads``) takes
about 14 ms and 8 MB. ``code_for(text, filename)`` returns exactly what
``compile(text, filename, "exec")`` returns, from a file here when a
checked one is there, and stores it there when it was not.

Only sources of ``MIN_SOURCE`` characters or more are stored (about 5 ms of
compiling, some 100 weights and biases with plain descent): below that a
file saves a process less than a millisecond, and the tutorial's [2, 4, 1]
(5,000 characters, 1 ms to compile) is never written to disk.
purebp/docs/speed.md has the measurements.

Where: the folder named by the environment variable PUREBP_CACHE_DIR;
PUREBP_CACHE_DIR set to an empty string turns the cache off (nothing is
read or written). Unset, the platform's user cache folder:

    Linux, BSD   $XDG_CACHE_HOME/purebp, else ~/.cache/purebp
    macOS        ~/Library/Caches/purebp
    Windows      %LOCALAPPDATA%\\purebp\\Cache

The folder is safe to delete at any time, whole or file by file: a missing
file is compiled again. It is bounded: after each write the least recently
used files (by modification time, which a load refreshes) are removed until
at most ``MAX_FILES`` files of at most ``MAX_BYTES`` bytes in all remain.
Only this module's own files are ever removed (names ``<64 hex>.code``, and
its temporary files ``.tmp-*`` left by a killed process, after an hour).

Never trusted blindly. A file's name is the SHA-256 of the source's SHA-256
and the interpreter's tag (``sys.implementation.cache_tag``, the byte-code
magic number ``importlib.util.MAGIC_NUMBER``, ``sys.version`` and the
optimization level ``-O``/``-OO``, which drops docstrings). The file holds
a header: a magic line, the format version, the source's SHA-256 and the
interpreter's tag, then the SHA-256 and length of the marshalled code
object that follows. All of it is checked before ``marshal.loads`` sees a
byte, and the result must be a code object. Anything wrong — a missing,
truncated, corrupt or foreign file, an unreadable folder, a read-only or
full disk, a permission error — falls back to compiling, silently, and a
bad file is replaced by a good one when the folder is writable.

Writes are atomic: a temporary file in the same folder, renamed over the
final name with ``os.replace``, so a reader never sees a partial file and
concurrent processes at worst write the same bytes twice. A loaded code
object gets the caller's file name (the written-out code's name includes
the optimizer's ``hash``, which differs between processes), so tracebacks
and linecache show the generated lines as for freshly compiled code.

What this module does not do: cache anything but code objects, or trust a
file because of its name alone.
"""

# Same future flags as purebp.fast.unrolled, whose compile() this replaces:
# compile() inherits the calling module's future statements, so the code
# objects are the same as when unrolled compiled them itself.
from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
import time
from types import CodeType
from typing import List, Optional, Tuple

#: The environment variable naming the cache folder ("" turns the cache off).
ENV = "PUREBP_CACHE_DIR"

#: Sources shorter than this (in characters) are compiled, never stored:
#: they compile in under about 5 ms (0.24 µs per character, measured).
MIN_SOURCE = 20_000

#: At most this many files stay in the folder (the least recently used go first).
MAX_FILES = 64

#: At most this many bytes stay in the folder (the largest file is about 2 MB).
MAX_BYTES = 64 * 2**20

#: The first line of every file, and the format that follows it.
_MAGIC = b"purebp.fast.cache compiled code\n"
_FORMAT = 1

#: The file names this module writes (64 hex digits and this suffix) and its temporary files.
_SUFFIX = ".code"
_TEMPORARY = ".tmp-"

#: A temporary file older than this (seconds) was left by a killed process.
_STALE = 3600.0


def folder() -> Optional[str]:
    """Return the cache folder, or None if the cache is off (or no home folder is known)."""
    chosen = os.environ.get(ENV)
    if chosen is not None:
        return chosen or None
    if sys.platform.startswith("win"):
        local = os.environ.get("LOCALAPPDATA") or os.path.join(
            os.path.expanduser("~"), "AppData", "Local")
        path = os.path.join(local, "purebp", "Cache")
    elif sys.platform == "darwin":
        path = os.path.join(os.path.expanduser("~"), "Library", "Caches", "purebp")
    else:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        # The XDG specification ignores a relative path.
        base = xdg if os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache")
        path = os.path.join(base, "purebp")
    # expanduser leaves "~" in place when it finds no home folder: no cache then.
    return None if path.startswith("~") else path


def interpreter() -> str:
    """Return the tag of this interpreter and its byte code, one line of text.

    Code objects are marshalled in a form only the same version of the same
    implementation reads back; -OO compiles without docstrings.
    """
    import importlib.util  # only when the cache is used: it costs an import

    parts = (sys.implementation.cache_tag or sys.implementation.name,
             importlib.util.MAGIC_NUMBER.hex(), f"O{sys.flags.optimize}", sys.version)
    return " ".join(" ".join(parts).split())  # PyPy's sys.version has a line break


def code_for(text: str, filename: str) -> CodeType:
    """Return ``compile(text, filename, "exec")``, loaded from the cache folder when possible.

    A source shorter than MIN_SOURCE, or with the cache off, is just compiled.
    Otherwise a checked file is loaded (and given ``filename``), or the
    compiled code is stored for the next process. Errors never escape: the
    fallback is always to compile.
    """
    where = folder() if len(text) >= MIN_SOURCE else None
    if where is None:
        return compile(text, filename, "exec")
    source_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    tag = interpreter()
    path = os.path.join(where, file_name(source_hash, tag))
    code = _load(path, _header(source_hash, tag))
    if code is not None:
        return _renamed(code, filename)
    code = compile(text, filename, "exec")
    _store(where, path, _header(source_hash, tag), marshal.dumps(code))
    return code


def file_name(source_hash: str, tag: str) -> str:
    """Return the file name for a source's SHA-256 (hex) and an interpreter's tag."""
    return hashlib.sha256(f"{source_hash}\n{tag}".encode()).hexdigest() + _SUFFIX


def _header(source_hash: str, tag: str) -> bytes:
    """Return the lines every file starts with, up to the payload's own line."""
    return (_MAGIC + f"format {_FORMAT}\nsource {source_hash}\ninterpreter {tag}\n"
            .encode())


def _payload_line(payload: bytes) -> bytes:
    """Return the line that checks the payload: its SHA-256 and its length."""
    return f"payload {hashlib.sha256(payload).hexdigest()} {len(payload)}\n".encode("ascii")


def _load(path: str, header: bytes) -> Optional[CodeType]:
    """Return the code object stored at ``path`` if every check passes, else None."""
    try:
        with open(path, "rb") as file:
            if os.fstat(file.fileno()).st_size > MAX_BYTES:
                return None  # not one of ours
            data = file.read()
    except (OSError, ValueError):
        return None
    if not data.startswith(header):
        return None  # another format, source or interpreter, or a truncated header
    end = data.find(b"\n", len(header))
    if end < 0:
        return None
    payload = data[end + 1:]
    if data[len(header):end + 1] != _payload_line(payload):
        return None  # truncated or corrupt
    try:
        code = marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return None
    if not isinstance(code, CodeType):
        return None
    try:
        os.utime(path)  # recently used: evicted last
    except OSError:
        pass  # a read-only folder still serves its files
    return code


def _renamed(code: CodeType, filename: str) -> CodeType:
    """Return ``code`` with ``co_filename`` set to ``filename``, in its nested code too."""
    consts = tuple(_renamed(c, filename) if isinstance(c, CodeType) else c
                   for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def _store(where: str, path: str, header: bytes, payload: bytes) -> None:
    """Write header, payload line and payload to ``path`` atomically; then evict. Never raises OSError."""
    try:
        os.makedirs(where, mode=0o700, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=where, prefix=_TEMPORARY)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(header + _payload_line(payload) + payload)
            os.replace(temporary, path)
        except BaseException:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise
        evict(where)
    except OSError:
        pass  # read-only, full, not ours: the code was compiled anyway


def _entries(where: str) -> List[Tuple[float, int, str]]:
    """Return (modification time, size, path) of this module's files in ``where``.

    Temporary files older than an hour are removed on the way.
    """
    entries = []
    now = time.time()
    for name in os.listdir(where):
        path = os.path.join(where, name)
        try:
            if name.startswith(_TEMPORARY):
                if now - os.stat(path).st_mtime > _STALE:
                    os.unlink(path)
                continue
            if not (name.endswith(_SUFFIX) and len(name) == 64 + len(_SUFFIX)):
                continue
            status = os.stat(path)
        except OSError:
            continue  # removed meanwhile by another process
        entries.append((status.st_mtime, status.st_size, path))
    return entries


def evict(where: str) -> None:
    """Remove the least recently used files until MAX_FILES and MAX_BYTES hold."""
    entries = sorted(_entries(where), reverse=True)  # newest first
    count = total = 0
    for _, size, path in entries:
        count, total = count + 1, total + size
        if count > MAX_FILES or total > MAX_BYTES:
            try:
                os.unlink(path)
            except OSError:
                pass
