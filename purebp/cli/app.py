"""The command line: ``python3 -m purebp`` (or ``purebp`` once installed).

``purebp [options]`` runs the tutorial's demo (purebp.cli.demo); ``purebp
COMMAND [options]`` runs one of COMMANDS below, the only list of them: the
demo's --help is written from it, and ``main`` dispatches through it. Each
command lives in its own module, which imports purebp.cli.options and never
this one.

``main(argv)`` returns the exit code: 0 when the run finished (for ``check``:
and everything passed; 1 when something failed, or memory ran out), 2 for a
usage mistake, an unusable input or a request over the memory or time budget
(purebp._limits) (one line on stderr, never a traceback), 130 when interrupted
with Ctrl-C (also while starting up), 143 and 129 when ``train`` is stopped
by SIGTERM or SIGHUP (129 too when its terminal went away without one), 141
when the reader of its output went away.
"""

from __future__ import annotations

import argparse
import difflib
import errno
import os
import signal
import sys
import textwrap
from typing import List, Optional, Sequence, Tuple

from purebp import __version__, _limits
from purebp._checks import _short_repr, shown_path
from purebp.cli import (
    check,
    check_torch,
    demo,
    docs,
    explain,
    playground,
    train,
    vanishing,
    vectors,
)
from purebp.cli.options import Command, Parser, one_line

#: Every command but the demo, in the order --help lists them: the one list.
COMMANDS: Tuple[Command, ...] = (
    Command("train", "train a general network (or a layer list) on a data set or a CSV file",
            train.DESCRIPTION, train.add_options, train.run),
    Command("explain", "one training step, every equation with its numbers",
            explain.DESCRIPTION, explain.add_options, explain.run),
    Command("vanishing", "per-layer gradient norms of a deep net: vanishing, exploding",
            vanishing.DESCRIPTION, vanishing.add_options, vanishing.run),
    Command("vectors", "write the test-vector suite",
            vectors.DESCRIPTION, vectors.add_options, vectors.run),
    Command("check", "check another implementation's results against test vectors",
            check.DESCRIPTION, check.add_options, check.run),
    Command("check-torch", "check a PyTorch model (your MODULE_FILE, which is run) against test vectors",
            check_torch.DESCRIPTION, check_torch.add_options, check_torch.run),
    Command("playground", "train in the browser: click any number to see its equation",
            playground.DESCRIPTION, playground.add_options, playground.run),
    Command("docs", "print one of purebp's documents (backprop, ...), or list them",
            docs.DESCRIPTION, docs.add_options, docs.run),
)


def find(name: str) -> Optional[Command]:
    """Return the command called ``name``, or None (then ``purebp`` runs the demo)."""
    return next((command for command in COMMANDS if command.name == name), None)


def epilog() -> str:
    """The demo's --help ending: every command with its help line.

    >>> print(epilog().splitlines()[1])
      purebp train        train a general network (or a layer list) on a data set or a CSV file
    """
    width = max(len(command.name) for command in COMMANDS)
    lines = [f"  purebp {command.name.ljust(width)}  {command.help}" for command in COMMANDS]
    return "\n".join(["other commands (each with --help):", *lines])


def unknown_command(word: str) -> str:
    """The message for a first word that is no command: the nearest one, if one is near.

    >>> unknown_command("trian")
    "unknown command 'trian'; did you mean 'train'?"
    """
    names = [command.name for command in COMMANDS]
    near = difflib.get_close_matches(word, names, n=1)
    if near:
        return f"unknown command {_short_repr(word)}; did you mean {near[0]!r}?"
    return f"unknown command {_short_repr(word)}; expected one of {', '.join(names)}, or options"


def build_parser(command: Optional[str] = None) -> argparse.ArgumentParser:
    """Return the argument parser of ``purebp COMMAND``, or of the demo (no command)."""
    if command is not None:
        found = find(command)
        if found is None:
            raise ValueError(f"build_parser: unknown command {command!r}; expected one of"
                             f" {', '.join(c.name for c in COMMANDS)}")
        return found.parser()
    # Raw, to keep the epilog's list of commands one per line; so the
    # description is wrapped here.
    parser = Parser(prog="purebp", description=textwrap.fill(demo.DESCRIPTION, 79),
                    epilog=epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    demo.add_options(parser)
    parser.add_argument("--version", action="version", version=f"purebp {__version__}",
                        help="print purebp's version and exit")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line with ``argv`` (default: sys.argv[1:]); return the exit code."""
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt as stop:  # Ctrl-C at any point, or a second signal in train
        signum = stop.signum if isinstance(stop, train.Stopped) else signal.SIGINT
        how = "" if signum == signal.SIGINT else f" by {signal.Signals(signum).name}"
        try:
            print(f"purebp: interrupted{how}", file=sys.stderr)
        except OSError:  # the terminal has gone (SIGHUP): the exit code still says it
            pass
        return 128 + signum


#: The errors of writing to a full disk, a terminal gone or a quota reached.
OUTPUT_ERRORS = {errno.ENOSPC, errno.EIO, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _main(words: List[str]) -> int:
    """main's work: parse ``words`` and run the command or the demo."""
    parser: argparse.ArgumentParser
    command = find(words[0]) if words else None
    if command is not None:
        parser, run, words = command.parser(), command.run, words[1:]
    elif words and not words[0].startswith("-"):  # the demo takes no words, only options
        print(f"purebp: error: {one_line(unknown_command(words[0]))} (see 'purebp --help')",
              file=sys.stderr)
        return 2
    else:
        parser, run = build_parser(), demo.run
    try:
        args = parser.parse_args(words)
    except SystemExit as stop:  # --help, or a usage error already printed
        return int(stop.code or 0)
    try:
        code = run(args)
    except (ValueError, TypeError) as error:
        print(f"purebp: error: {one_line(str(error))}", file=sys.stderr)
        return 2
    except MemoryError:
        # What the estimates let through and still did not fit. Said after the
        # except block: inside it the traceback still holds the failed work's
        # frames, and printing there can itself run out of memory.
        code = OUT_OF_MEMORY_CODE
    except SystemError as error:
        # The same, when an allocation fails deep in CPython's C code and it returns
        # without setting MemoryError ("error return without exception set": one run
        # in three under a 400 MB RLIMIT_AS in tests/test_limits.py). Any other
        # SystemError is a bug, and shown as one.
        if "without exception set" not in str(error):
            raise
        code = OUT_OF_MEMORY_CODE
    except BrokenPipeError:
        # The reader went away (`purebp | head`): stop quietly, as a program
        # killed by SIGPIPE would, and keep the interpreter's final flush of
        # stdout from raising again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as error:
        # Output that cannot be written (`purebp > /dev/full`, a terminal gone), or a
        # file error no command turned into a message: one line and exit 1.
        what = error.strerror or str(error)
        if error.filename is not None:
            what = f"{shown_path(str(error.filename))}: {what}"
        elif error.errno in OUTPUT_ERRORS:  # a stream has no file name: the output
            what = f"cannot write the output: {what}"
        try:
            sys.stdout.flush()
        except OSError:  # keep the interpreter's final flush from raising again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        try:
            print(f"purebp: error: {one_line(what)}", file=sys.stderr)
        except OSError:  # nowhere to say it either
            pass
        return 1
    if code == OUT_OF_MEMORY_CODE:
        return say_out_of_memory()
    return code


#: The out-of-memory line, built at import time so that saying it needs no memory.
OUT_OF_MEMORY = (f"purebp: error: out of memory: this request needed more than the machine"
                 f" could give, though its estimate fitted {_limits.MEMORY_VARIABLE}; ask for"
                 " less, or lower the budget to what the machine has free\n")
OUT_OF_MEMORY_BYTES = OUT_OF_MEMORY.encode()
#: run's stand-in code for a MemoryError (no command returns it).
OUT_OF_MEMORY_CODE = -1


def say_out_of_memory() -> int:
    """Print the out-of-memory line on stderr, straight to the descriptor if printing fails; return 1."""
    try:
        sys.stderr.write(OUT_OF_MEMORY)
        sys.stderr.flush()
    except (MemoryError, OSError):
        try:
            os.write(2, OUT_OF_MEMORY_BYTES)
        except OSError:  # nowhere to say it: the exit code still does
            pass
    return 1
