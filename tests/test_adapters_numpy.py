"""Tests for purebp.adapters.numpy: any function of numpy arrays under the oracle.

The correct implementation is examples/numpy_backprop.py (plain numpy,
written from the equations); the buggy one is it with its weight gradients
doubled. The function is given arrays of the asked dtype. Without numpy
(blocked in a subprocess) the module imports and a call says "pip install
numpy"; the rest skips without numpy.
"""

import importlib.util
import os
import subprocess
import sys

import pytest

from purebp.oracle import vectors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def np():
    return pytest.importorskip("numpy")


@pytest.fixture(scope="module")
def adapter(np):
    from purebp.adapters import numpy as adapter
    return adapter


@pytest.fixture(scope="module")
def numpy_backprop(np):
    path = os.path.join(ROOT, "examples", "numpy_backprop.py")
    spec = importlib.util.spec_from_file_location("numpy_backprop", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_correct_numpy_function_passes_every_case(adapter, numpy_backprop):
    """The plain numpy backprop, given arrays, passes the curated suite and random cases."""
    report = adapter.check(numpy_backprop.run, vectors.curated() + vectors.random_cases(10, 2))
    assert report.passed, report.table(failures_only=True)
    assert report.counts()["not checked"] == 0


def test_a_buggy_numpy_function_fails(adapter, numpy_backprop):
    """The same with every weight gradient doubled fails, on the weight gradients."""
    def doubled(case):
        result = numpy_backprop.run(case)
        result["gradients"]["weights"] = [2 * np_array(g) for g in result["gradients"]["weights"]]
        return result

    def np_array(g):
        import numpy
        return numpy.asarray(g)

    report = adapter.check(doubled)
    assert not report.passed
    failed = {q.name for c in report.cases for q in c.quantities if q.status == "fail"}
    assert "gradients.weights" in failed and "loss" not in failed


def test_the_function_gets_arrays_of_the_dtype(np, adapter):
    """inputs, targets and every parameter arrive as arrays of float32 when asked; pol follows."""
    seen = []

    def spy(case):
        seen.append([case["inputs"].dtype, case["targets"].dtype]
                    + [m.dtype for m in case["parameters"]["weights"] + case["parameters"]["biases"]])
        return {"loss": 0.0}

    report = adapter.check(spy, vectors.curated()[:2], dtype="float32")
    assert report.policy.name == "float32" and len(seen) == 2
    assert {d for row in seen for d in row} == {np.dtype(np.float32)}


def test_as_arrays_converts_the_matrices_of_op_cases_too(np, adapter):
    """An op case's inputs, weights, biases and upstream become arrays; other fields stay."""
    case = {"id": "op-dense-x", "op": "dense", "inputs": [[1.0, 2.0]], "weights": [[1.0], [2.0]],
            "biases": [[0.5]], "upstream": [[1.0]]}
    got = adapter.as_arrays(case)
    assert got["op"] == "dense" and got["id"] == "op-dense-x"
    assert [got[k].shape for k in ("inputs", "weights", "biases", "upstream")] == [
        (1, 2), (2, 1), (1, 1), (1, 1)]
    assert case["inputs"] == [[1.0, 2.0]]  # the case given is not changed


def test_a_dtype_other_than_float64_or_float32_is_refused(adapter):
    """float16 or junk: ValueError naming dtype."""
    with pytest.raises(ValueError, match="dtype must be float64 or float32"):
        adapter.check(lambda case: {}, dtype="float16")
    with pytest.raises(ValueError, match="dtype must be"):
        adapter.as_arrays({"id": "x"}, dtype="nonsense")


def test_the_adapter_imports_without_numpy_and_a_call_says_what_to_install():
    """With numpy blocked, the module imports, and check raises ImportError naming pip install numpy."""
    code = ("import sys; sys.modules['numpy'] = None\n"
            "import purebp.adapters.numpy as a\n"
            "try:\n"
            "    a.check(print)\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("purebp.adapters.numpy needs numpy, which is not installed:"
                           " pip install numpy\n")
