"""Tests for purebp.errors: one hierarchy of ValueErrors, defined in one module, importable as before."""

import ast
import pathlib
import re

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


# -- the one message style ----------------------------------------------------------------

#: Wordings the messages have left behind for the forms purebp.errors gives, each with
#: a message that once read so.
OLD_FORMS = {
    "'PLACE: expected X' (now 'PLACE must be X, got Y')":
        (re.compile(r"(?:^|: )expected "), "{}.cases[0].id: expected an id, got {}"),
    "'..., but ...' (now 'ARG must be X, got Y' or 'ARG has N, expected M like Z')":
        (re.compile(r"\bbut\b"), "{}: y has {} rows but X has {}"),
    "'ARG needs ...' (now 'ARG must ...')":
        (re.compile(r"\bneeds\b"), "{}: sizes needs at least an input and an output size, got {}"),
    "'works only with' (now 'ARG must be X for Y, got Z')":
        (re.compile(r"\bworks only with\b"), "{}: output_activation='softmax' works only with"),
    "'ARG: at most N' (now 'ARG must be at most N, got X')":
        (re.compile(r"(?:^|\s)\S+: at (?:most|least) "), "--precision: at most 17 digits, got {}"),
    "'not a usable ...' (now 'ARG must not ..., got X')":
        (re.compile(r"\bnot a usable\b"), "{}: not a usable file name (it holds a NUL byte)"),
}
#: 'ARG must be WANTED' (or 'OP: ARG must be ...') is followed by what came instead.
MUST_BE = re.compile(r"(?:[^:]*: )?[^\s:;]+ must be\b")


def _text(node):
    """The text of a str literal or f-string, each {placeholder} as "{}"; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def raised_messages(root):
    """Return [(file:line, text)] for every raise X("...") and fail(...) under root.

    The texts of a call's string arguments are joined by ": ", so that the old
    fail(where, "expected ...") reads as the message it made, "{}: expected ...".
    """
    found = []
    for path in sorted(pathlib.Path(root).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                call = node.exc
            elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "fail":
                call = node
            else:
                continue
            texts = [_text(arg) for arg in call.args]
            if any(t is not None for t in texts):
                text = ": ".join("{}" if t is None else t for t in texts)
                found.append((f"{path.relative_to(root).as_posix()}:{call.lineno}", text))
    return found


def old_style(text):
    """Return the old forms a message's text uses (empty if none)."""
    problems = [name for name, (pattern, _) in OLD_FORMS.items() if pattern.search(text)]
    if MUST_BE.match(text) and ", got " not in text:
        problems.append("'ARG must be X' without ', got ACTUAL'")
    return problems


@pytest.mark.parametrize("name", list(OLD_FORMS))
def test_each_old_form_is_recognised(name):
    """Each pattern finds the old message it stands for, so the scan below can fail."""
    pattern, example = OLD_FORMS[name]
    assert pattern.search(example) and name in old_style(example)
    assert old_style("{}: log must be a callable taking a string, or None")
    assert not old_style("{}: X[{}] has {} entries, expected {} like X[0]")
    assert not old_style("{}: unknown loss {}; expected one of {}")


def test_no_message_in_purebp_uses_an_old_form():
    """Every message raised in purebp/ follows purebp.errors' forms; none reads the old ways."""
    root = pathlib.Path(purebp.__file__).parent
    messages = raised_messages(root)
    # The scan sees the messages (so an empty scan cannot pass): ones of each module kind.
    assert len(messages) > 100
    places = {where.split(":")[0] for where, _ in messages}
    assert {"network.py", "files/jsonfile.py", "oracle/vectors.py", "cli/explain.py"} <= places
    wrong = [f"{where}: {text!r}: {', '.join(old_style(text))}"
             for where, text in messages if old_style(text)]
    assert not wrong, "\n".join(wrong)
