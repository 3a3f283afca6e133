"""Tests for purebp.cli.docs: ``purebp docs [NAME]`` prints the documents shipped in the package.

What is printed is checked against the files themselves, read here with
pathlib from purebp/docs/ (the one copy there is), not through the module
under test. That the wheel, the sdist and the zipapp carry the files is
checked where each is built: pyproject.toml's package data here,
tests/test_scripts.py for dist/purebp.pyz, and CI for the installed wheel.
"""

import pathlib
import re

import pytest

from purebp import cli
from purebp.cli import app, docs

ROOT = pathlib.Path(__file__).resolve().parent.parent
FOLDER = ROOT / "purebp" / "docs"
DOCUMENTS = sorted(path.stem for path in FOLDER.glob("*.md"))


def run_main(capsys, *argv):
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_documents_are_the_markdown_files_in_the_package():
    """names() is every purebp/docs/*.md, and the five the CLI and README refer to are there."""
    assert docs.names() == DOCUMENTS
    assert {"backprop", "model-format", "optimizers", "speed", "vectors"} <= set(DOCUMENTS)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_docs_name_prints_the_file_byte_for_byte(capsys, name):
    """``purebp docs NAME`` prints purebp/docs/NAME.md exactly, and exits 0."""
    code, out, err = run_main(capsys, "docs", name)
    assert (code, err) == (0, "")
    assert out == (FOLDER / f"{name}.md").read_text("utf-8")


def test_docs_alone_lists_every_document_with_its_first_heading(capsys):
    """``purebp docs`` prints one line per document: its name and its first heading, without '# '."""
    code, out, err = run_main(capsys, "docs")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert "purebp docs NAME" in lines[0]
    listed = [re.fullmatch(r"  (\S+) +(.+)", line).groups() for line in lines[1:]]
    expected = [(name, (FOLDER / f"{name}.md").read_text("utf-8").splitlines()[0][2:])
                for name in DOCUMENTS]
    assert listed == expected
    assert ("backprop", "Backpropagation, from the chain rule to the code") in listed


@pytest.mark.parametrize("word, expected", [
    ("backprp", "purebp: error: unknown document 'backprp'; did you mean 'backprop'?\n"),
    ("model_format", "purebp: error: unknown document 'model_format'; did you mean 'model-format'?\n"),
    ("BACKPROP", "purebp: error: unknown document 'BACKPROP'; did you mean 'backprop'?\n"),
    ("xyzzy", "purebp: error: unknown document 'xyzzy'; expected one of"
              " backprop, layers, model-format, optimizers, playground, speed, vectors\n"),
])
def test_an_unknown_name_exits_2_with_the_nearest_document(capsys, word, expected):
    """A NAME that is no document: exit 2, one line, the nearest name or the list, nothing on stdout."""
    assert run_main(capsys, "docs", word) == (2, "", expected)


@pytest.mark.parametrize("word", ["../README", "docs/backprop.md", "backprop.md", "/etc/passwd",
                                  "", ".", "back\nprop", "x" * 10_000])
def test_a_path_or_junk_is_no_document(capsys, word):
    """Paths, file names and junk are refused in one short line with exit 2: NAME is never a path."""
    code, out, err = run_main(capsys, "docs", word)
    assert (code, out) == (2, "") and err.count("\n") == 1 and len(err) < 300
    assert err.startswith("purebp: error: unknown document ") and "Traceback" not in err


def test_docs_is_a_command_listed_in_the_help(capsys):
    """docs is in COMMANDS, so the demo's --help lists it and ``purebp docs --help`` describes NAME."""
    assert app.find("docs") is not None
    assert "  purebp docs " in run_main(capsys, "--help")[1]
    code, out, _ = run_main(capsys, "docs", "--help")
    assert code == 0 and out.startswith("usage: purebp docs [-h] [NAME]")


def all_help_texts():
    """Every command's --help, and the demo's."""
    texts = {"purebp": cli.build_parser().format_help()}
    for command in app.COMMANDS:
        texts[command.name] = cli.build_parser(command.name).format_help()
    return texts


def test_no_message_points_to_a_docs_folder_a_pip_user_lacks(capsys):
    """No --help and no explain output says docs/NAME.md; they say ``purebp docs NAME``."""
    texts = all_help_texts()
    code, texts["explain output"], _ = run_main(capsys, "explain")
    assert code == 0
    texts = {where: " ".join(text.split()) for where, text in texts.items()}  # unwrap the help
    for where, text in texts.items():
        assert not re.search(r"docs/[\w-]+\.md", text), where
    assert "purebp docs backprop" in texts["explain output"]
    assert "purebp docs backprop" in texts["explain"] and "purebp docs vectors" in texts["vectors"]
    assert "purebp docs model-format" in texts["train"]
    for where in ("explain", "vectors", "train", "explain output"):  # the documents named exist
        for name in re.findall(r"purebp docs ([\w-]+)", texts[where]):
            assert name in DOCUMENTS, (where, name)


def test_docs_readme_points_to_every_document_in_the_package():
    """docs/README.md (what GitHub shows in docs/) links each purebp/docs/*.md, and only those;
    besides it docs/ holds only images/, the README's pictures (SVG files and the playground's
    screenshots, PNG), no document."""
    text = (ROOT / "docs" / "README.md").read_text("utf-8")
    linked = sorted(re.findall(r"\]\(\.\./purebp/docs/([\w-]+)\.md\)", text))
    assert linked == DOCUMENTS
    assert sorted(path.name for path in (ROOT / "docs").iterdir()) in (["README.md"],
                                                                       ["README.md", "images"])
    assert all(path.suffix == ".svg" or (path.name.startswith("playground-") and path.suffix == ".png")
               for path in (ROOT / "docs").glob("images/*"))


def test_the_wheel_takes_the_documents():
    """pyproject.toml ships purebp/docs/*.md as package data of purebp.docs, a listed package."""
    tomllib = pytest.importorskip("tomllib", reason="in the standard library from Python 3.11")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    assert "purebp.docs" in config["packages"]
    assert config["package-data"]["purebp.docs"] == ["*.md"]


def test_the_optimizers_document_derives_every_rule_the_code_tags():
    """optimizers.md writes out an equation for each id in purebp/optimizers.py's comments, and no other."""
    code = (ROOT / "purebp" / "optimizers.py").read_text("utf-8")
    tagged = set(re.findall(r"# \((\w+)\)", code))
    assert {"WD", "M", "N", "S", "V", "C", "R", "RM", "A1", "A2", "A3", "A4", "AG", "DW"} == tagged
    text = (FOLDER / "optimizers.md").read_text("utf-8")
    derived = set(re.findall(r"^ {4}\((\w+)\) ", text, flags=re.MULTILINE))  # the equation blocks
    assert derived == tagged
    assert docs.title("optimizers") == "Optimizers, from the idea to the update rule"
