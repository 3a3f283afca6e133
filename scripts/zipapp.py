"""Build dist/purebp.pyz: purebp as one file that runs on a bare Python.

    python3 scripts/zipapp.py [--out dist/purebp.pyz]
    python3 -S dist/purebp.pyz [command] [options]    # the demo, or any command

The archive holds the package's Python files (and py.typed, the stubs, the
documents in purebp/docs/ that ``purebp docs`` prints, the playground's page) and
a ``__main__.py`` that runs ``purebp.__main__.run`` and exits with its code,
made with the standard library's zipapp; Python runs it as it runs
``python3 -m purebp``, with nothing installed and no site-packages.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import sys
import tempfile
from typing import List, Optional

# This file is called zipapp.py, so "import zipapp" run from here would find
# it; the standard library's zipapp is what is meant.
if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]
import zipapp  # after the path fix above

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "purebp"
#: The archive's entry point: what purebp/__main__.py does, exit code included.
MAIN = '''"""purebp as one file: the demo, or any command (python3 -S purebp.pyz --help)."""
import sys

try:
    from purebp.__main__ import run
except KeyboardInterrupt:  # Ctrl-C while purebp itself loads
    print("purebp: interrupted", file=sys.stderr)
    sys.exit(130)
sys.exit(run())
'''


def package_files() -> List[pathlib.Path]:
    """Return the package's files to ship, relative to the repository, sorted."""
    wanted = {".py", ".pyi", ".typed", ".md", ".html", ".css", ".js"}
    return sorted(path.relative_to(ROOT) for path in PACKAGE.rglob("*")
                  if path.is_file() and path.suffix in wanted and "__pycache__" not in path.parts)


def build(out: pathlib.Path) -> pathlib.Path:
    """Write the archive to ``out`` (its folder is made if need be) and return its path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as staging:
        for relative in package_files():
            target = pathlib.Path(staging) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / relative, target)
        (pathlib.Path(staging) / "__main__.py").write_text(MAIN, encoding="utf-8")
        # compressed: deflate, which every Python can read (zipimport included)
        zipapp.create_archive(staging, out, interpreter="/usr/bin/env python3", compressed=True)
    return out


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "dist" / "purebp.pyz"),
                        help="where to write the archive (default dist/purebp.pyz)")
    args = parser.parse_args(argv)
    out = build(pathlib.Path(args.out))
    print(f"wrote {os.path.relpath(out)} ({out.stat().st_size:,} bytes);"
          f" run it with: python3 -S {os.path.relpath(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
