"""``python3 -m purebp`` and the ``purebp`` script: run purebp.cli.app.

purebp.cli, which loads every command, is imported inside ``run``, so that a
Ctrl-C while it loads ends as one anywhere else does: "purebp: interrupted",
exit 130, no traceback.
"""

import sys


def run() -> int:
    """Import the command line and run it on sys.argv; return the exit code."""
    try:
        from purebp.cli import main
    except KeyboardInterrupt:
        print("purebp: interrupted", file=sys.stderr)
        return 130
    return main()


if __name__ == "__main__":
    sys.exit(run())
