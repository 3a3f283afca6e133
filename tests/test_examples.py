"""Tests for examples/: the oracle passes correct implementations and catches classic bugs.

examples/numpy_backprop.py is a plain numpy backpropagation with eight
plantable bugs; examples/torch_adapter.py runs the cases through PyTorch's
autograd in float64. Both also compute the per-operation cases (run_op), and
pass the op suite. Each test skips when its library is absent (CI installs
numpy, so the bug hunt always runs there).
"""

import functools
import importlib.util
import os

import pytest

from purebp import oracle, vectors
from purebp.oracle import ops
from purebp.oracle.diagnosis import CATALOG

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def curated():
    return vectors.curated()


@pytest.fixture(scope="module")
def numpy_example():
    pytest.importorskip("numpy")
    return load_example("numpy_backprop")


def test_correct_numpy_implementation_passes_every_case(numpy_example, curated):
    """Straightforward numpy backprop passes the curated suite and 40 random cases."""
    report = oracle.check_implementation(numpy_example.run, curated + vectors.random_cases(40, 9))
    assert report.passed, report.table(failures_only=True)
    assert report.counts()["not checked"] == 0


BUGS = ["transposed-weights", "derivative-of-z", "bias-gradient-one-row", "missing-mean",
        "sign-flipped", "updated-weights-in-backward", "softmax-no-shift", "wrong-layer-delta"]


def test_the_example_plants_the_eight_bugs_named_here(numpy_example):
    """The example's bug list is the eight classic bugs this file hunts."""
    assert sorted(numpy_example.BUGS) == sorted(BUGS)


@pytest.mark.parametrize("bug", BUGS)
def test_each_classic_bug_is_reported_as_a_failure_by_the_numbers(numpy_example, curated, bug):
    """With the bug planted, the oracle reports FAIL, and some failure is a wrong number."""
    report = oracle.check_implementation(functools.partial(numpy_example.run, bug=bug), curated)
    assert not report.passed
    by_comparison = [(c.id, q.name) for c in report.cases for q in c.quantities
                     if q.status == "fail" and not q.detail.startswith("raised")]
    assert by_comparison, f"{bug}: only exceptions, no wrong number was caught"


@pytest.mark.parametrize("bug", [bug for bug in BUGS if bug in CATALOG])
def test_each_catalogued_bug_is_diagnosed_by_its_id(numpy_example, curated, bug):
    """A planted bug the diagnosis catalog names is diagnosed by that id, and by no other."""
    report = oracle.check_implementation(functools.partial(numpy_example.run, bug=bug), curated)
    found = {d.id for c in report.cases for d in c.diagnosis}
    assert bug in found, f"{bug}: diagnosed as {sorted(found)}"
    assert found <= {bug, "constant-ratio"}, f"{bug}: also diagnosed as {sorted(found - {bug})}"


def test_pytorch_float64_passes_every_case(curated):
    """PyTorch autograd in float64, with its own loss modules, passes the curated suite."""
    pytest.importorskip("torch")
    torch_example = load_example("torch_adapter")
    report = oracle.check_implementation(torch_example.run, curated + vectors.random_cases(20, 4))
    assert report.passed, report.table(failures_only=True)


@pytest.fixture(scope="module")
def op_suite():
    return ops.curated_ops() + ops.random_op_cases(60, 11)


def test_numpy_run_op_passes_the_op_suite(numpy_example, op_suite):
    """numpy's dense layer, activations and losses (run_op) pass every op case, each quantity given."""
    report = oracle.check_implementation(numpy_example.run_op, op_suite)
    assert report.passed, report.table(failures_only=True)
    assert report.counts()["not checked"] == 0


def test_numpy_example_checks_the_op_suite_from_the_command_line(numpy_example, monkeypatch,
                                                                  capsys):
    """``numpy_backprop.py --ops`` checks the curated op suite and exits 0 with PASS."""
    monkeypatch.setattr("sys.argv", ["numpy_backprop.py", "--ops"])
    assert numpy_example.main() == 0
    out = capsys.readouterr().out
    assert "op-dense-square" in out and out.rstrip().endswith("PASS")


def test_numpy_example_checks_an_op_folder(numpy_example, monkeypatch, capsys, tmp_path):
    """Given a folder that ``purebp vectors --ops`` wrote, the example checks every case in it."""
    folder = str(tmp_path / "ops")
    ops.write_op_suite(folder, 2, 1)
    monkeypatch.setattr("sys.argv", ["numpy_backprop.py", folder])
    assert numpy_example.main() == 0
    assert "op-random-1-0001" in capsys.readouterr().out


def test_pytorch_float64_run_op_passes_the_op_suite(op_suite):
    """torch's own ops and losses, with autograd's backward(upstream), pass every op case."""
    pytest.importorskip("torch")
    torch_example = load_example("torch_adapter")
    report = oracle.check_implementation(torch_example.run_op, op_suite)
    assert report.passed, report.table(failures_only=True)
    assert report.counts()["not checked"] == 0
