"""``python3 -m purebp`` and the ``purebp`` script: run purebp.cli.app.

purebp.cli, which loads every command, is imported inside ``run``, so that a
Ctrl-C while it loads ends as one anywhere else does: "purebp: interrupted",
exit 130, no traceback. The package itself (purebp/__init__.py, which both
``-m`` and the script import before this file runs) guards its own imports
the same way. What is left unguarded is the interpreter's own start-up
(site, runpy) and the few statements between the package's last import and
``run``'s ``try``: microseconds, where a Ctrl-C still gives Python's
KeyboardInterrupt traceback. SIGTERM and SIGHUP before training starts keep
their default action: the process ends at once, with no message and no
traceback (the shell reports 143 and 129); only ``purebp train``'s epochs
catch them.
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
