"""Any numpy function as an implementation under purebp's oracle (numpy imported lazily).

    as_arrays(case, dtype="float64")   the case with its numbers as numpy arrays of dtype
    check(fn, cases=None, pol=None, dtype="float64")
                                       a purebp.oracle Report of fn's results on the cases

``fn(case)`` gets a case without its expected values, its matrices as numpy
arrays of ``dtype`` (float64, or float32 to check single precision):
``inputs`` and ``targets``, and ``parameters["weights"]`` and
``parameters["biases"]`` as lists of arrays (an op case's ``weights``,
``biases`` and ``upstream`` are arrays too); the other fields are as in the
file. It returns a dict of the quantities it computes, as arrays or lists
(purebp/docs/vectors.md, "expected"); purebp.oracle.checker reads arrays
through ``tolist()``, so a float32 result is judged at its exact value.

numpy is imported when a function here is called, never by this module, so
``import purebp.adapters.numpy`` needs nothing; calling one without numpy
raises ImportError ("pip install numpy"). What this module does not do:
compute anything itself, or judge (purebp.oracle.checker does).
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Dict, Iterable, Mapping, Optional

from purebp import _checks
from purebp.oracle import checker
from purebp.oracle.checker import Report
from purebp.oracle.tolerance_policy import POLICIES, Policy

#: The line an ImportError says when numpy is missing.
INSTALL = "purebp.adapters.numpy needs numpy, which is not installed: pip install numpy"

#: The fields of a case that hold one matrix (network cases and op cases).
MATRICES = ("inputs", "targets", "weights", "biases", "upstream")


def require() -> Any:
    """Return the numpy module, or raise ImportError saying how to install it."""
    try:
        return importlib.import_module("numpy")
    except ImportError:
        raise ImportError(INSTALL) from None


def _dtype(op: str, np: Any, dtype: Any) -> Any:
    """Return numpy's float64 or float32 dtype for ``dtype`` (a name, a type or a dtype)."""
    try:
        found = np.dtype(dtype)
    except TypeError:
        found = None
    # (None first: numpy compares None as equal to float64, its default dtype)
    if found is None or found not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"{op}: dtype must be float64 or float32, got {_checks._describe(dtype)}")
    return found


def as_arrays(case: Mapping[str, Any], dtype: Any = "float64") -> Dict[str, Any]:
    """Return a copy of ``case`` with its matrices as numpy arrays of ``dtype``.

    Rounding to float32, when asked, happens here, once per number.
    """
    op = "as_arrays"
    np = require()
    found = _dtype(op, np, dtype)
    if not isinstance(case, Mapping):
        raise TypeError(f"{op}: case must be a test-vector case (a dict), got"
                        f" {_checks._describe(case)}")
    result = dict(case)
    for name in MATRICES:
        if name in result:
            result[name] = np.array(result[name], dtype=found)
    if isinstance(result.get("parameters"), Mapping):
        result["parameters"] = {name: [np.array(m, dtype=found) for m in matrices]
                                for name, matrices in result["parameters"].items()}
    return result


def check(fn: Callable[[Dict[str, Any]], Dict[str, Any]],
          cases: Optional[Iterable[Dict[str, Any]]] = None, pol: Optional[Policy] = None,
          dtype: Any = "float64") -> Report:
    """Return a purebp.oracle Report of ``fn``'s results on ``cases`` (default: the curated suite).

    ``fn`` gets each case as ``as_arrays`` gives it and returns a dict of
    quantities; ``pol`` defaults to the preset of ``dtype`` (float64, or
    float32's). An exception from ``fn`` fails that case with its message.
    """
    op = "purebp.adapters.numpy.check"
    np = require()
    found = _dtype(op, np, dtype)
    if not callable(fn):
        raise TypeError(f"{op}: fn must be a callable taking a case, got {_checks._describe(fn)}")
    pol = POLICIES["float32" if found == np.dtype(np.float32) else "float64"] if pol is None else pol

    def run(case: Dict[str, Any]) -> Dict[str, Any]:
        return fn(as_arrays(case, found))  # checked as check_implementation checks any result

    return checker.check_implementation(run, cases, pol)


__all__ = ["as_arrays", "check", "require"]
