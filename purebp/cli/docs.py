"""``purebp docs [NAME]``: print one of purebp's documents, or list them.

    names()      → the documents' names, sorted: ["backprop", "model-format", ...]
    title(name)  → its one-line description, the document's own first heading
    text(name)   → the document, Markdown as written

The documents are the Markdown files in purebp/docs/, the one copy there is
(docs/README.md on GitHub points there). They are package data, so the
wheel, the sdist and dist/purebp.pyz carry them, and importlib.resources
reads them from a folder and from inside a zip file alike: a pip user reads
``purebp docs backprop`` where the checkout has purebp/docs/backprop.md.

What it does not do: render the Markdown, or page it (pipe it to ``less``).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from importlib import resources
from typing import TYPE_CHECKING, List, Optional, TextIO

from purebp._checks import _short_repr
from purebp.cli.options import Parser

if TYPE_CHECKING:  # importlib.abc's name for it from 3.9; resources.abc's only from 3.11
    from importlib.abc import Traversable

DESCRIPTION = ("Print one of purebp's documents (Markdown, as written in purebp/docs/),"
               " or, with no NAME, list them with what each is about.")

#: The folder inside the package that holds the documents, one NAME.md each.
FOLDER = "docs"


def _folder() -> Traversable:
    # files() rather than pkgutil.get_data because it can also list the folder;
    # inside dist/purebp.pyz it is a zipfile.Path, on Python 3.9 too.
    return resources.files("purebp").joinpath(FOLDER)


def names() -> List[str]:
    """Return the documents' names (their file names without .md), sorted.

    >>> names()[:2]
    ['backprop', 'layers']
    """
    return sorted(entry.name[:-len(".md")] for entry in _folder().iterdir()
                  if entry.name.endswith(".md") and entry.is_file())


def unknown_document(word: str) -> str:
    """The message for a NAME that is no document: the nearest one, if one is near.

    >>> unknown_document("backprp")
    "unknown document 'backprp'; did you mean 'backprop'?"
    """
    known = names()
    # BACKPROP and Backprop are near backprop too
    near = difflib.get_close_matches(word.lower(), known, n=1)
    if near:
        return f"unknown document {_short_repr(word)}; did you mean {near[0]!r}?"
    return (f"unknown document {_short_repr(word)};"
            f" expected one of {', '.join(known)}")


def text(name: str) -> str:
    """Return the document called ``name`` (as written, Markdown); ValueError if there is none.

    >>> text("backprop").splitlines()[0]
    '# Backpropagation, from the chain rule to the code'
    """
    if name not in names():  # never a path: "../x" or "a/b" is no document either
        raise ValueError(unknown_document(name))
    return _folder().joinpath(f"{name}.md").read_text(encoding="utf-8")


def title(name: str) -> str:
    """Return the document's first heading, its one-line description.

    >>> title("vectors")
    'Test vectors: the format, the checker and the tolerance policy'
    """
    first = text(name).splitlines()[0]
    return first[len("# "):] if first.startswith("# ") else first


def listing() -> str:
    """Return what ``purebp docs`` prints: every document's name and description."""
    known = names()
    width = max(len(name) for name in known)
    lines = [f"  {name.ljust(width)}  {title(name)}" for name in known]
    return "\n".join(["purebp's documents ('purebp docs NAME' prints one):", *lines]) + "\n"


def add_options(parser: Parser) -> None:
    """Add NAME, optional."""
    parser.add_argument("name", metavar="NAME", nargs="?", default=None,
                        help="the document to print; without it, the list")


def run(args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    """Print the document, or the list; return 0."""
    stream = sys.stdout if out is None else out
    print(listing() if args.name is None else text(args.name), end="", file=stream)
    return 0
