"""The command line: ``python3 -m purebp`` (or ``purebp`` once installed).

    purebp.cli.app        main(argv) -> exit code, and COMMANDS, the list of commands
    purebp.cli.options    the parser, value parsers and options the commands share
    purebp.cli.demo       ``purebp``: the tutorial's demo on XOR
    purebp.cli.train      ``purebp train``
    purebp.cli.explain    ``purebp explain``
    purebp.cli.vanishing  ``purebp vanishing`` (its numbers: purebp.study.vanishing)
    purebp.cli.vectors    ``purebp vectors``
    purebp.cli.check      ``purebp check``
"""

from purebp.cli.app import build_parser, main
from purebp.cli.demo import DEFAULT_SEED, XOR_INPUTS, XOR_TARGETS

__all__ = ["DEFAULT_SEED", "XOR_INPUTS", "XOR_TARGETS", "build_parser", "main"]
