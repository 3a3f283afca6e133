"""The command line: ``python3 -m purebp`` (or ``purebp`` once installed).

``main(argv)`` returns the exit code; purebp.cli.app documents the commands.
"""

from purebp.cli.app import DEFAULT_SEED, XOR_INPUTS, XOR_TARGETS, build_parser, main

__all__ = ["DEFAULT_SEED", "XOR_INPUTS", "XOR_TARGETS", "build_parser", "main"]
