"""Tests for purebp.errors: one hierarchy of ValueErrors, defined in one module, importable as before."""

import ast
import pathlib

import pytest

import purebp
from purebp import errors
from purebp.files import jsonfile, model
from purebp.network import Network
from purebp.oracle import vectors

CLASSES = [errors.PurebpError, errors.DivergenceError, errors.FormatError,
           errors.ModelFormatError, errors.VectorFormatError]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_error_is_a_value_error_defined_in_purebp_errors(cls):
    """Each class lives in purebp.errors and is a PurebpError and a ValueError."""
    assert cls.__module__ == "purebp.errors"
    assert issubclass(cls, errors.PurebpError) and issubclass(cls, ValueError)
    assert cls.__name__ in errors.__all__


def test_the_file_errors_are_format_errors():
    """ModelFormatError and VectorFormatError are FormatErrors, so one except catches both."""
    assert issubclass(errors.ModelFormatError, errors.FormatError)
    assert issubclass(errors.VectorFormatError, errors.FormatError)
    assert not issubclass(errors.DivergenceError, errors.FormatError)


@pytest.mark.parametrize("old_home, name", [
    (purebp, "DivergenceError"), (purebp, "ModelFormatError"),
    (jsonfile, "FormatError"), (model, "ModelFormatError"), (vectors, "VectorFormatError"),
])
def test_the_old_import_paths_give_the_same_class(old_home, name):
    """from purebp import ModelFormatError (and the like) still works, and is the same class."""
    assert getattr(old_home, name) is getattr(errors, name)


def test_no_other_module_defines_an_exception_class():
    """Every exception class in purebp/ is defined in purebp/errors.py, nowhere else."""
    root = pathlib.Path(purebp.__file__).parent
    defined = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    getattr(base, "id", getattr(base, "attr", "")).endswith(("Error", "Exception"))
                    for base in node.bases):
                defined.append((path.relative_to(root).as_posix(), node.name))
    assert {name for _, name in defined} >= {c.__name__ for c in CLASSES}
    assert {file for file, _ in defined} == {"errors.py"}, defined


def test_errors_imports_nothing_from_purebp():
    """purebp.errors is the bottom of the import graph: it imports no other purebp module."""
    tree = ast.parse(pathlib.Path(errors.__file__).read_text(encoding="utf-8"))
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [name for name in imported if name.split(".")[0] == "purebp"], imported


def test_a_damaged_model_file_is_caught_by_each_base(tmp_path):
    """A ModelFormatError from load is caught by except FormatError, PurebpError and ValueError."""
    path = tmp_path / "m.json"
    path.write_text("{}", encoding="utf-8")
    for base in (errors.ModelFormatError, errors.FormatError, errors.PurebpError, ValueError):
        with pytest.raises(base):
            Network.load(path)


def test_a_bad_argument_is_a_plain_value_error_not_a_purebp_error():
    """Argument checks raise plain ValueError/TypeError; PurebpError is for divergence and files."""
    with pytest.raises(ValueError) as info:
        Network([2, 0, 1])
    assert not isinstance(info.value, errors.PurebpError)
