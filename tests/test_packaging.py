"""Tests for what a stranger needs before using purebp: its license and metadata.

The metadata is read from pyproject.toml as written, with the standard
library's TOML reader where there is one (Python 3.11 and later).
"""

import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def pyproject():
    tomllib = pytest.importorskip("tomllib", reason="in the standard library from Python 3.11")
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]


def test_the_license_file_is_the_mit_license():
    """LICENSE holds the MIT license, with its grant and its warranty disclaimer."""
    text = (ROOT / "LICENSE").read_text("utf-8")
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text


def test_the_metadata_names_the_license_and_describes_the_project():
    """pyproject.toml declares MIT (SPDX), ships LICENSE, and names authors, keywords, classifiers."""
    project = pyproject()
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert project["authors"] and project["keywords"]
    assert "Typing :: Typed" in project["classifiers"]
    # PEP 639: a license expression excludes the old license classifiers.
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]


def test_the_sdist_takes_everything_the_test_suite_needs():
    """MANIFEST.in grafts every folder the tests read (CI builds the sdist and runs them from it)."""
    manifest = (ROOT / "MANIFEST.in").read_text("utf-8").splitlines()
    grafted = {line.split()[1] for line in manifest if line.startswith("graft ")}
    assert {"tests", "docs", "examples", "scripts"} <= grafted
    included = {word for line in manifest if line.startswith("include ") for word in line.split()[1:]}
    assert {"LICENSE", "README.md"} <= included


def test_every_subpackage_is_in_the_wheel():
    """pyproject.toml's packages list each folder of purebp/ that has an __init__.py, and
    name only folders that are there (purebp.docs holds documents, no Python)."""
    tomllib = pytest.importorskip("tomllib", reason="in the standard library from Python 3.11")
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["packages"]
    found = {f"purebp.{path.parent.name}" for path in (ROOT / "purebp").glob("*/__init__.py")}
    assert found <= set(listed)
    assert all((ROOT / name.replace(".", "/")).is_dir() for name in listed)
