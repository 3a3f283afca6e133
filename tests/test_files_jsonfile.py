"""Tests for purebp.files.jsonfile's reading: regular files only, each key once.

A FIFO is read in a child process with a timeout, since the bug it pins is
a read that waits forever.
"""

import json
import os
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
    with pytest.raises(ModelFormatError, match='key "loss" appears twice in one object'):
        model.load(str(path))


def test_a_vector_file_with_a_key_given_twice_is_refused():
    """The same rule holds for vector and results files, at any depth."""
    with pytest.raises(FormatError, match='key "id" appears twice'):
        vectors.parse('{"format": "purebp-vectors", "version": 1,'
                      ' "cases": [{"id": "a", "id": "b"}]}', "v.json")


def test_keys_given_once_parse_as_before():
    """An object with distinct keys parses to the dict json.loads gives, order kept."""
    text = '{"b": 1, "a": [2, {"c": 3}], "d": {}}'
    assert list(jsonfile.parse_json(text, "t").items()) == list(json.loads(text).items())
