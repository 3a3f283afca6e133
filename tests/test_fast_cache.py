"""Tests for purebp.fast.cache: the disk cache of the written-out code's code objects.

Every test uses a folder of its own (tmp_path), never the user's cache
(tests/conftest.py points PUREBP_CACHE_DIR at a temporary folder for the
whole suite as well). The expected code objects come from the built-in
``compile`` called here directly.
"""

import hashlib
import marshal
import os
import subprocess
import sys
import traceback

import pytest

from purebp.fast import cache, unrolled
from purebp.optimizers import SGD, Adam

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: A shape whose written-out source is long enough to be stored (about 74,000 characters).
SIZES = (4, 16, 16, 1)
SPEC = unrolled.Spec(SIZES, "sigmoid", "sigmoid", "half_sse", "mse")
TEXT = unrolled.source(SPEC)
PARAMETERS = 4 * 16 + 16 * 16 + 16 + 16 + 16 + 1


@pytest.fixture
def where(tmp_path, monkeypatch):
    """A fresh cache folder, named by PUREBP_CACHE_DIR."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.ENV, str(folder))
    return folder


@pytest.fixture
def compiles(monkeypatch):
    """Count the module's calls of compile (a list of the file names compiled)."""
    calls = []

    def counting(text, filename, mode):
        calls.append(filename)
        return compile(text, filename, mode)

    monkeypatch.setattr(cache, "compile", counting, raising=False)
    return calls


def run(code):
    """Return the hex of every number train_epochs (from ``code``) computes on fixed data."""
    namespace = dict(unrolled._NAMESPACE)
    exec(code, namespace)
    rows = [tuple((i * 7 + k * 3) % 5 / 4 - 0.5 for k in range(5)) for i in range(6)]
    start = [((p * 37) % 11 - 5) / 10 for p in range(PARAMETERS)]
    losses = []
    end = namespace["train_epochs"](rows, start, 0.5, 20, losses, None)
    return [x.hex() for x in losses + end]


def fields(code):
    """Return what a code object is made of, nested code objects included, for comparing."""
    return (code.co_code, code.co_names, code.co_varnames, code.co_filename, code.co_name,
            code.co_flags, code.co_firstlineno, code.co_argcount, code.co_stacksize,
            getattr(code, "co_linetable", None), getattr(code, "co_qualname", None),
            tuple(fields(c) if hasattr(c, "co_code") else (type(c), repr(c))
                  for c in code.co_consts))


def the_file(folder):
    """Return the path of the one cache file in ``folder``."""
    names = [name for name in os.listdir(folder) if name.endswith(".code")]
    assert len(names) == 1, names
    return folder / names[0]


def test_the_folder_follows_the_variable_then_the_platform(monkeypatch, tmp_path):
    """PUREBP_CACHE_DIR wins, empty turns the cache off; unset, each platform's user cache."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "here"))
    assert cache.folder() == str(tmp_path / "here")
    monkeypatch.setenv(cache.ENV, "")
    assert cache.folder() is None
    monkeypatch.delenv(cache.ENV)
    monkeypatch.setenv("HOME", "/home/someone")
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", "/var/xdg")
    assert cache.folder() == "/var/xdg/purebp"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert cache.folder() == "/home/someone/.cache/purebp"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.folder() == "/home/someone/.cache/purebp"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert cache.folder() == "/home/someone/Library/Caches/purebp"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", "/c/Local")
    assert cache.folder() == os.path.join("/c/Local", "purebp", "Cache")


def test_the_second_load_comes_from_disk_with_the_same_code_and_bits(where, compiles):
    """The first call compiles and stores; the second compiles nothing and gives equal code."""
    expected = compile(TEXT, "<name>", "exec")
    first = cache.code_for(TEXT, "<name>")
    assert compiles == ["<name>"]
    the_file(where)
    second = cache.code_for(TEXT, "<name>")
    assert compiles == ["<name>"]
    assert fields(first) == fields(second) == fields(expected)
    assert run(second) == run(expected)


def test_a_loaded_code_object_takes_the_callers_file_name(where, compiles):
    """Stored under one file name, loaded under another: the loaded code has the new name."""
    cache.code_for(TEXT, "<stored by another process>")
    loaded = cache.code_for(TEXT, "<this process>")
    assert len(compiles) == 1
    assert fields(loaded) == fields(compile(TEXT, "<this process>", "exec"))
    space = dict(unrolled._NAMESPACE)
    exec(loaded, space)
    assert space["train_epochs"].__code__.co_filename == "<this process>"


def test_tracebacks_show_the_generated_lines_of_loaded_code(where, compiles):
    """compiled() from a disk file still registers its lines: a traceback shows them."""
    unrolled._compiled.cache_clear()
    unrolled.compiled(SPEC)
    unrolled._compiled.cache_clear()
    function = unrolled.compiled(SPEC)
    assert len(compiles) == 1  # the second came from disk
    with pytest.raises(TypeError) as raised:
        function([("not a number",) * 5], [0.5] * PARAMETERS, 0.1, 1, [], None)
    shown = "".join(traceback.format_exception(raised.type, raised.value, raised.tb))
    assert unrolled._compiled(SPEC)[1] in shown
    assert "z0_0 = 0.0 + a0_0 * w0_0_0 + a0_1 * w0_1_0" in shown


def test_the_cache_per_process_is_one_entry_per_spec_and_optimizer_code(where, compiles):
    """compiled() compiles once per spec; equal optimizer code shares it, other code does not."""
    unrolled._compiled.cache_clear()
    adam = SPEC._replace(step=Adam(0.01).code())
    assert unrolled.compiled(adam) is unrolled.compiled(SPEC._replace(step=Adam(0.5).code()))
    momentum = SPEC._replace(step=SGD(0.1, momentum=0.9).code())
    assert unrolled.compiled(momentum) is not unrolled.compiled(adam)
    assert unrolled.compiled(SPEC) is unrolled.compiled(SPEC)
    assert len(compiles) == 3


def test_short_sources_and_a_cache_turned_off_touch_no_disk(tmp_path, monkeypatch, compiles):
    """The tutorial's [2, 4, 1] is compiled every time; PUREBP_CACHE_DIR='' stores nothing."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "short"))
    small = unrolled.source(unrolled.Spec((2, 4, 1), "sigmoid", "sigmoid", "half_sse", "mse"))
    assert len(small) < cache.MIN_SOURCE
    cache.code_for(small, "<small>")
    cache.code_for(small, "<small>")
    assert not (tmp_path / "short").exists() and len(compiles) == 2
    monkeypatch.setenv(cache.ENV, "")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    cache.code_for(TEXT, "<off>")
    cache.code_for(TEXT, "<off>")
    assert os.listdir(tmp_path) == []  # no folder here, none in HOME or XDG_CACHE_HOME
    assert len(compiles) == 4


def damaged(good, header_end):
    """Yield (what, bytes) for every kind of bad file made from a good one."""
    yield "empty", b""
    yield "garbage", b"not a cache file at all\n" * 10
    for cut in (5, header_end - 3, header_end + 10, len(good) // 2, len(good) - 1):
        yield f"truncated at {cut}", good[:cut]
    flipped = bytearray(good)
    flipped[-100] ^= 0x01
    yield "a flipped payload bit", bytes(flipped)
    yield "another format", good.replace(b"format 1\n", b"format 2\n", 1)
    lines = good.split(b"\n", 4)
    yield "another source", b"\n".join(lines[:2] + [b"source " + b"0" * 64] + lines[3:])
    yield "another interpreter", b"\n".join(
        lines[:3] + [b"interpreter cpython-99 0d0d O0 99.0", lines[4]])
    payload = lines[4].split(b"\n", 1)[1]
    wrong = bytes(64) + payload[64:]
    yield "a wrong payload hash", b"\n".join(lines[:4] + [lines[4].split(b"\n")[0]]) + b"\n" + wrong
    number = marshal.dumps(42)
    yield "a checked payload that is no code", (
        b"\n".join(lines[:4]) + b"\n" + cache._payload_line(number) + number)


def test_a_bad_file_is_ignored_compiled_again_and_replaced(where, compiles):
    """Each damaged file falls back to compiling, gives the same bits and is rewritten whole."""
    expected = run(compile(TEXT, "<name>", "exec"))
    cache.code_for(TEXT, "<name>")
    path = the_file(where)
    good = path.read_bytes()
    header_end = good.index(b"payload ")
    for what, data in damaged(good, header_end):
        path.write_bytes(data)
        count = len(compiles)
        code = cache.code_for(TEXT, "<name>")
        assert len(compiles) == count + 1, what
        assert run(code) == expected, what
        assert path.read_bytes() == good, what


def test_an_unusable_folder_falls_back_to_compiling(tmp_path, monkeypatch, compiles):
    """A folder that is a file, unreadable entries, a full disk: compiled, no error, no leftovers."""
    expected = run(compile(TEXT, "<name>", "exec"))
    blocker = tmp_path / "a file"
    blocker.write_text("in the way")
    monkeypatch.setenv(cache.ENV, str(blocker / "cache"))
    assert run(cache.code_for(TEXT, "<name>")) == expected
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.ENV, str(folder))
    folder.mkdir()
    name = cache.file_name(hashlib.sha256(TEXT.encode()).hexdigest(),
                           cache.interpreter())
    (folder / name).mkdir()  # the file's name taken by a folder: unreadable, unreplaceable
    assert run(cache.code_for(TEXT, "<name>")) == expected
    (folder / name).rmdir()

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    assert run(cache.code_for(TEXT, "<name>")) == expected
    assert os.listdir(folder) == []  # the temporary file was removed
    assert len(compiles) == 3


def test_the_cap_evicts_the_least_recently_used_files(where, monkeypatch, compiles):
    """Past MAX_FILES (or MAX_BYTES) the oldest go; a load refreshes a file; others' files stay."""
    monkeypatch.setattr(cache, "MIN_SOURCE", 0)
    monkeypatch.setattr(cache, "MAX_FILES", 3)
    texts = [f"def f():\n    return {i}\n" for i in range(5)]
    where.mkdir()
    (where / "notes.txt").write_text("not the cache's")
    (where / ".tmp-stale").write_text("left by a killed process")
    os.utime(where / ".tmp-stale", (1, 1))
    (where / ".tmp-writing").write_text("another process is writing this")
    for age, text in enumerate(texts[:3]):
        cache.code_for(text, "<t>")
        path = max(where.glob("*.code"), key=os.path.getmtime) if age else the_file(where)
        os.utime(path, (1000 + age, 1000 + age))
    oldest = min(where.glob("*.code"), key=os.path.getmtime)
    cache.code_for(texts[0], "<t>")  # loaded: now the most recently used
    assert len(compiles) == 3
    cache.code_for(texts[3], "<t>")
    names = sorted(p.name for p in where.iterdir())
    assert len([n for n in names if n.endswith(".code")]) == 3
    assert oldest.exists()  # refreshed by the load
    assert "notes.txt" in names and ".tmp-writing" in names and ".tmp-stale" not in names
    size = max(p.stat().st_size for p in where.glob("*.code"))
    monkeypatch.setattr(cache, "MAX_BYTES", size + 1)
    cache.code_for(texts[4], "<t>")
    assert len(list(where.glob("*.code"))) == 1


CONCURRENT = """
import sys
from purebp.fast import cache
cache.MAX_FILES = 2
texts = [("x = 0.5\\n" + "x = x * 0.5 + %d\\n" * 3000) % ((i,) * 3000) for i in range(3)]
out = []
for round in range(4):
    for i, text in enumerate(texts):
        space = {}
        exec(cache.code_for(text, "<c>"), space)
        out.append(space["x"].hex())
print(" ".join(out))
"""


def test_concurrent_writers_and_readers_never_see_a_partial_file(where):
    """Four processes writing, reading and evicting at once all get the compiled results."""
    texts = [("x = 0.5\n" + "x = x * 0.5 + %d\n" * 3000) % ((i,) * 3000) for i in range(3)]
    results = []
    for text in texts:
        space = {}
        exec(compile(text, "<c>", "exec"), space)
        results.append(space["x"].hex())
    expected = " ".join(results * 4)
    env = dict(os.environ, PYTHONPATH=ROOT)
    processes = [subprocess.Popen([sys.executable, "-c", CONCURRENT], env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(4)]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        assert out.strip() == expected
    assert not [name for name in os.listdir(where) if name.startswith(".tmp-")]
    for path in where.glob("*.code"):
        assert marshal.loads(path.read_bytes().split(b"\n", 5)[5]) is not None


TRAIN = """
from purebp import Network
import purebp.fast.cache as cache
import sys
if sys.argv[1] == "loaded":
    def refuse(*args):
        raise AssertionError("compiled although the cache had it")
    cache.compile = refuse
net = Network([4, 16, 16, 1], seed=3)
X = [[(i * 3 + k) % 5 / 4 for k in range(4)] for i in range(8)]
y = [[i % 2] for i in range(8)]
losses = net.train(X, y, epochs=30, learning_rate=0.5, fast="written-out")  # on PyPy too
print([x.hex() for x in losses], [[w.hex() for w in row] for row in net.weights[0]])
"""


def test_a_second_process_trains_from_the_cache_to_the_same_bits(where):
    """Process one compiles and stores; process two, unable to compile, loads and matches."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    outputs = []
    for how in ("compiled", "loaded"):
        done = subprocess.run([sys.executable, "-c", TRAIN, how], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
        the_file(where)
    assert outputs[0] == outputs[1]
