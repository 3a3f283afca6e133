"""Tests for purebp.files.jsonfile's reading and writing: regular files only, keys once, no stale temporaries.

A FIFO is read in a child process with a timeout, since the bug it pins is
a read that waits forever.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from purebp import Network
from purebp.errors import FormatError, ModelFormatError, VectorFormatError
from purebp.files import jsonfile, model
from purebp.oracle import vectors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")


def purebp(*argv, timeout=30):
    """Run ``python3 -m purebp ARGV`` from the checkout; return (code, stderr, seconds)."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "purebp", *argv], capture_output=True,
                          text=True, env=env, timeout=timeout)
    return done.returncode, done.stderr, time.monotonic() - start


# -- only regular files are read ------------------------------------------------------


@needs_fifo
@pytest.mark.parametrize("argv", [
    ["train", "--resume", "{fifo}.json"],
    ["check", "{fifo}.json", "{fifo}.json"],
    ["explain", "--case", "{fifo}.json"],
    ["train", "--data", "{fifo}.csv"],
])
def test_a_fifo_given_as_a_file_is_refused_at_once(tmp_path, argv):
    """A named pipe as model, vector, results or CSV path: exit 2 at once, not a wait forever."""
    for suffix in (".json", ".csv"):
        os.mkfifo(str(tmp_path / f"pipe{suffix}"))
    argv = [a.format(fifo=tmp_path / "pipe") for a in argv]
    code, err, seconds = purebp(*argv)
    assert code == 2 and seconds < 20
    assert "a named pipe (FIFO), not a regular file" in err and len(err.splitlines()) == 1


@needs_fifo
def test_saving_over_a_fifo_or_a_device_is_a_value_error_and_leaves_it(tmp_path):
    """Network.save, a vector file, a picture: none replaces a FIFO (or /dev/null) with a file."""
    pipe = tmp_path / "pipe.json"
    os.mkfifo(str(pipe))
    for write in (lambda: Network([2, 3, 1]).save(str(pipe)),
                  lambda: vectors.write(str(pipe), vectors.curated()[:1]),
                  lambda: jsonfile.write_atomic(str(pipe), "text")):
        with pytest.raises(ValueError, match=f"{pipe} must be a regular file or a new path to"
                                             " be written over, got a named pipe"):
            write()
        assert pipe.is_fifo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.json"]  # no temporary left
    if os.path.exists("/dev/null"):
        assert jsonfile.special_file("/dev/null") == "a character device"
    assert jsonfile.special_file(str(tmp_path)) == "" == jsonfile.special_file(str(tmp_path / "new"))


def test_a_folder_given_as_a_model_file_is_named_as_a_folder(tmp_path):
    """Loading a folder says it is a folder, not a file."""
    with pytest.raises(ModelFormatError, match="a folder, not a regular file"):
        model.load(str(tmp_path))


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_a_device_given_as_a_model_file_is_refused_before_reading():
    """/dev/zero is refused by its kind, without reading its endless zeros."""
    start = time.monotonic()
    with pytest.raises(ModelFormatError, match="a character device, not a regular file"):
        model.load("/dev/zero")
    assert time.monotonic() - start < 2
    with pytest.raises(VectorFormatError, match="a character device"):
        vectors.load("/dev/zero")


# -- a key given twice ----------------------------------------------------------------


def test_a_model_file_with_a_key_given_twice_is_refused(tmp_path):
    """{"loss": "mse", "loss": "bce"} could be read two ways; purebp reads it neither."""
    path = tmp_path / "m.json"
    Network([2, 3, 1], seed=0).save(str(path))
    text = path.read_text("utf-8").replace('"loss": "half_sse"',
                                           '"loss": "half_sse", "loss": "mse"', 1)
    assert text.count('"loss"') == 2
    path.write_text(text, "utf-8")
    with pytest.raises(ModelFormatError, match='the key "loss" must appear once in an object, got it twice'):
        model.load(str(path))


def test_a_vector_file_with_a_key_given_twice_is_refused():
    """The same rule holds for vector and results files, at any depth."""
    with pytest.raises(FormatError, match='key "id" must appear once'):
        vectors.parse('{"format": "purebp-vectors", "version": 1,'
                      ' "cases": [{"id": "a", "id": "b"}]}', "v.json")


def test_keys_given_once_parse_as_before():
    """An object with distinct keys parses to the dict json.loads gives, order kept."""
    text = '{"b": 1, "a": [2, {"c": 3}], "d": {}}'
    assert list(jsonfile.parse_json(text, "t").items()) == list(json.loads(text).items())


# -- temporaries left by a killed writer ----------------------------------------------


def _dead_pid():
    """Return the PID of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _partials(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".partial"))


def test_a_stale_partial_of_a_dead_writer_is_removed_by_the_next_write(tmp_path):
    """.m.json.HOST.PID.x.partial with a dead PID goes; a live writer's and others' stay."""
    target = str(tmp_path / "m.json")
    prefix = jsonfile._partial_prefix(target)
    shared = prefix[:prefix.rstrip(".").rindex(".") + 1]  # .m.json.HOST.
    dead = _dead_pid()
    stale = f"{shared}{dead}.abcd1234.partial"
    live = f"{shared}{os.getppid()}.abcd1234.partial"  # pytest's parent shell: running
    mine = f"{shared}{os.getpid()}.abcd1234.partial"  # a write of this process, under way
    elsewhere = f".m.json.another-host.{dead}.abcd1234.partial"
    old = ".tmp-abcd1234.partial"  # the naming before PIDs: left harmless
    other_target = f".n.json.{shared.split('.')[-2]}.{dead}.abcd1234.partial"
    for name in (stale, live, mine, elsewhere, old, other_target):
        (tmp_path / name).write_text("half a fi", "utf-8")
    Network([2, 3, 1], seed=0).save(target)
    assert _partials(tmp_path) == sorted([live, mine, elsewhere, old, other_target])
    assert Network.load(target).sizes == [2, 3, 1]


@needs_fork
def test_a_writer_killed_mid_write_leaves_a_partial_the_next_write_removes(tmp_path):
    """kill -9 during the write: the target is untouched, and the next save cleans up."""
    target = str(tmp_path / "m.json")
    Network([2, 3, 1], seed=1).save(target)
    before = open(target, encoding="utf-8").read()
    pid = os.fork()
    if pid == 0:  # the child: hang before the rename, as a slow disk would
        try:
            os.fsync = lambda fd: time.sleep(600)
            Network([2, 4, 1], seed=2).save(target)
        finally:
            os._exit(0)
    deadline = time.monotonic() + 20
    while not _partials(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    left = _partials(tmp_path)
    assert len(left) == 1 and f".{pid}." in left[0]
    assert open(target, encoding="utf-8").read() == before
    Network([2, 5, 1], seed=3).save(target)
    assert _partials(tmp_path) == []
    assert Network.load(target).sizes == [2, 5, 1]


def test_the_temporary_is_named_after_the_target_and_the_writer(tmp_path, monkeypatch):
    """While it is written, the temporary's name holds the target's name and this PID."""
    seen = []
    real_replace = os.replace

    def spy(source, destination):
        seen.append(os.path.basename(source))
        real_replace(source, destination)

    monkeypatch.setattr(jsonfile.os, "replace", spy)
    jsonfile.write_atomic(str(tmp_path / "out.json"), "{}\n")
    assert len(seen) == 1 and seen[0].startswith(".out.json.")
    assert f".{os.getpid()}." in seen[0] and seen[0].endswith(".partial")
    assert (tmp_path / "out.json").read_text("utf-8") == "{}\n"


def test_written_files_have_the_same_bytes_where_text_mode_writes_crlf(monkeypatch, tmp_path):
    """write_atomic writes "\\n" as is even where text mode turns it into "\\r\\n" (Windows),
    simulated with the pure-Python io and os.linesep set to "\\r\\n"."""
    import _pyio
    monkeypatch.setattr(os, "linesep", "\r\n")
    monkeypatch.setattr(os, "fdopen", lambda fd, *args, **kwargs: _pyio.open(fd, *args, **kwargs))
    path = tmp_path / "m.json"
    jsonfile.write_atomic(str(path), '{\n  "a": 1\n}\n')
    assert path.read_bytes() == b'{\n  "a": 1\n}\n'


def test_every_file_function_takes_a_pathlib_path(tmp_path):
    """A pathlib.Path works wherever a str path does: vector files and folders, results, models."""
    import pathlib

    from purebp import NeuralNetwork
    from purebp.oracle import checker, vectors

    cases = vectors.curated()[:2]
    one = pathlib.Path(tmp_path) / "two.json"
    vectors.write(one, cases)
    assert [c["id"] for c in vectors.load(one)] == [c["id"] for c in cases]
    vectors.write_suite(pathlib.Path(tmp_path) / "suite")
    assert len(vectors.load(pathlib.Path(tmp_path) / "suite")) == len(vectors.curated())
    assert checker.check_files(one, one).passed
    net = Network([2, 3, 1], seed=0)
    net.save(pathlib.Path(tmp_path) / "m.json")
    assert Network.load(pathlib.Path(tmp_path) / "m.json").weights == net.weights
    tutorial = NeuralNetwork(2, 4, 1, seed=0)
    tutorial.save(pathlib.Path(tmp_path) / "t.json")
    assert NeuralNetwork.load(pathlib.Path(tmp_path) / "t.json").weights_input_hidden == \
        tutorial.weights_input_hidden


@pytest.mark.parametrize("text, message", [
    # CPython's words; PyPy's decoder words it its own way, also without "at at"
    pytest.param('{"a": "x\x01"}', "m.json: not valid JSON: Invalid control character at line 1,"
                 " column 9", marks=pytest.mark.skipif(sys.implementation.name != "cpython",
                                                       reason="CPython's json message")),
    pytest.param("[" + "1" * 5000 + "]", "m.json: numbers must be JSON numbers of at most 4300"
                 " digits, got a longer one",
                 marks=pytest.mark.skipif(not hasattr(sys, "get_int_max_str_digits"),
                                          reason="this Python has no limit on digits")),
])
def test_json_errors_read_as_one_plain_sentence(text, message):
    """json's own wording is cleaned: no 'at at', no advice to call sys.set_int_max_str_digits."""
    with pytest.raises(FormatError) as error:
        jsonfile.parse_json(text, "m.json")
    assert str(error.value) == message


def test_no_json_error_says_at_at_on_any_python():
    """Whatever this Python's json says of a control character, the message has one 'at'."""
    with pytest.raises(FormatError) as error:
        jsonfile.parse_json('{"a": "x\x01"}', "m.json")
    assert " at at " not in str(error.value) and "Invalid control character" in str(error.value)
    assert re.search(r" at line 1, column \d+$", str(error.value))


def test_a_suite_lists_its_folder_once_and_still_removes_stale_partials(tmp_path, monkeypatch):
    """write_suite cleans once for all its files (one listing per file was quadratic), and a
    case file's temporary left by a killed writer still goes."""
    from purebp.oracle import vectors

    out = tmp_path / "suite"
    out.mkdir()
    name = vectors.curated()[0]["id"] + ".json"
    prefix = jsonfile._partial_prefix(str(out / name))
    shared = prefix[:prefix.rstrip(".").rindex(".") + 1]
    stale = f"{shared}{_dead_pid()}.abcd1234.partial"
    (out / stale).write_text("half a fi", "utf-8")
    listings = []
    real = os.listdir
    monkeypatch.setattr(jsonfile.os, "listdir", lambda p: listings.append(p) or real(p))
    paths = vectors.write_suite(str(out))
    assert len(paths) > 10 and len(listings) == 1
    assert _partials(out) == []


def test_a_partial_from_another_pid_numbering_or_a_longer_host_name_is_kept(tmp_path, monkeypatch):
    """A dead PID proves nothing about a writer in another PID namespace (a container sharing the
    folder and host name), nor on a host whose name only starts like ours: both temporaries stay."""
    target = str(tmp_path / "m.json")
    dead = _dead_pid()
    real_readlink, real_node = os.readlink, jsonfile.platform.node
    monkeypatch.setattr(os, "readlink", lambda p: "pid:[1]" if p == "/proc/self/ns/pid"
                        else real_readlink(p))
    container = jsonfile._partial_prefix(target).rsplit(".", 2)[0] + f".{dead}.abcd1234.partial"
    monkeypatch.setattr(os, "readlink", real_readlink)
    monkeypatch.setattr(jsonfile.platform, "node", lambda: real_node() + "-and-more" * 4)
    longer = jsonfile._partial_prefix(target).rsplit(".", 2)[0] + f".{dead}.abcd1234.partial"
    monkeypatch.setattr(jsonfile.platform, "node", real_node)
    ours = jsonfile._partial_prefix(target).rsplit(".", 2)[0] + f".{dead}.abcd1234.partial"
    assert len({container, longer, ours}) == 3
    for name in (container, longer, ours):
        (tmp_path / name).write_text("half a fi", "utf-8")
    Network([2, 3, 1], seed=0).save(target)
    assert _partials(tmp_path) == sorted([container, longer])


@pytest.mark.parametrize("value, read", [
    (float("nan"), "nan"), (float("inf"), "inf"), (float("-inf"), "-inf"),
    (10 ** 400, "inf"), (-10 ** 400, "-inf"), (2, "2.0"), (-0.5, "-0.5"),
])
def test_number_with_finite_false_reads_nan_and_infinities(value, read):
    """number(..., finite=False) reads NaN and ±inf as they are and a huge int as ±inf."""
    assert repr(jsonfile.number(value, "r.json.loss", finite=False)) == read


@pytest.mark.parametrize("value, message", [
    (float("nan"), "r.json.loss must be a finite number, got nan"),
    (float("-inf"), "r.json.loss must be a finite number, got -inf"),
    (10 ** 400, "r.json.loss must fit in a float, got an int of about 401 digits"),
])
def test_number_refuses_nan_and_infinities_by_default(value, message):
    """number's default, for every input of a file, still refuses NaN, ±inf and huge ints."""
    with pytest.raises(FormatError, match=re.escape(message)):
        jsonfile.number(value, "r.json.loss")


@pytest.mark.parametrize("value", [True, "1.0", None, [1.0]])
def test_number_with_finite_false_still_refuses_what_is_no_number(value):
    """finite=False lets infinities through, never a bool, a string, null or a list."""
    with pytest.raises(FormatError, match=r"r\.json\.loss must be a number"):
        jsonfile.number(value, "r.json.loss", finite=False)
