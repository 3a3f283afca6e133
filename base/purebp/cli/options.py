"""What the commands share: the parser, the value parsers, the options used by more than one.

    Parser           argparse, with a usage mistake reported in one line (exit 2)
    Command          one command: name, help line, description, options, run function
    int_at_least, parse_non_negative, parse_seed, layer_sizes
                     value parsers for argparse's type=, each naming what it expected
    one_hot          class indices as one-hot rows, for --loss cross_entropy
    Option           one option defined once: its flag, its value parser, its help;
                     LAYERS, SAMPLES, SEED, LR, EPOCHS, ... are the shared ones
    add_network_options   --layers, --activation, --output-activation, --loss, --init
    spelling         the flag the user typed for an option (an old name, or the new one)

Every command module imports this one and nothing else from purebp.cli, so
that purebp.cli.app, which lists the commands, can import them all without a
cycle. Old spellings of renamed options (``explain --network``, ``train --n``,
``check --json``) stay as hidden aliases for one release: they parse as before
and their errors name them as before, but ``--help`` shows only the new name.
"""

from __future__ import annotations

import argparse
import math
from typing import Any, Callable, Dict, List, NamedTuple, NoReturn, Optional, Sequence, Union

from purebp.activations import ACTIVATIONS
from purebp.activations import NAMES as ACTIVATION_NAMES
from purebp.losses import LOSSES
from purebp.network import INITS

#: What add_argument accepts to add options to: a parser, or a group of one.
Group = Union[argparse.ArgumentParser, "argparse._ArgumentGroup"]


class Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake reported in one line on stderr (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see '{self.prog} --help')\n")


def one_line(message: str) -> str:
    """Return message with line breaks shown as \\n, so an error stays on one line.

    >>> one_line("no such file: a\\nb")
    'no such file: a\\\\nb'
    """
    return message.replace("\r", "\\r").replace("\n", "\\n")


class Command(NamedTuple):
    """One command of ``purebp NAME``: what purebp.cli.app needs to list, parse and run it."""

    name: str
    help: str  # one line for the demo's --help: what the command does
    description: str  # the first paragraph of the command's own --help
    add_options: Callable[[Parser], None]
    run: Callable[[argparse.Namespace], int]

    def parser(self) -> Parser:
        """Return the argument parser of ``purebp NAME``."""
        parser = Parser(prog=f"purebp {self.name}", description=self.description)
        self.add_options(parser)
        return parser


# -- value parsers for argparse's type=: each turns a bad value into a usage
# error naming the option, never a traceback.


def int_at_least(minimum: int) -> Callable[[str], int]:
    """Return a parser of integers ≥ minimum.

    >>> int_at_least(1)("3")
    3
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def parse_non_negative(text: str) -> float:
    """Parse a finite number ≥ 0 (a learning rate, a noise level, a tolerance).

    >>> parse_non_negative("0.5")
    0.5
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number ≥ 0, got {text!r}")
    return value


def parse_seed(text: str) -> int:
    """Parse any integer."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def layer_sizes(text: str) -> List[int]:
    """Parse layer sizes, input first.

    >>> layer_sizes("2,16,16,1")
    [2, 16, 16, 1]
    """
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be sizes separated by commas like 2,16,1, got {text!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"must be at least two sizes, each at least 1, got {text!r}")
    return sizes


def one_hot(y: List[List[float]], classes: int) -> List[List[float]]:
    """Return one-hot rows for a column of class indices 0 … classes−1.

    What train and explain do to a single target column for ``--loss
    cross_entropy`` with more than one output.

    >>> one_hot([[1.0], [0.0]], 3)
    [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    """
    rows = []
    for i, (label,) in enumerate(y):
        if label != int(label) or not 0 <= label < classes:
            raise ValueError(
                f"targets: row {i} must be a class index from 0 to {classes - 1} for"
                f" cross_entropy with one target column and {classes} outputs, got {label!r}")
        rows.append([1.0 if k == int(label) else 0.0 for k in range(classes)])
    return rows


# -- options shared by several commands ------------------------------------------


class _Spelled(argparse.Action):
    """Store the value, and remember which of the option's flags the user typed."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: Optional[str] = None) -> None:
        setattr(namespace, self.dest, values)
        typed: Dict[str, str] = dict(getattr(namespace, "_typed", {}))
        if option_string is not None:
            typed[self.dest] = option_string
        namespace._typed = typed


def spelling(args: argparse.Namespace, dest: str, flag: str) -> str:
    """Return the flag typed for the option stored in ``dest``: an old alias, else ``flag``.

    Errors found after parsing name the option so: ``purebp explain --network
    3,4,1`` says ``--network 3,4,1: ...``, as it did before the option was renamed.
    """
    typed: Dict[str, str] = getattr(args, "_typed", {})
    return typed.get(dest, flag)


class Option(NamedTuple):
    """One option, defined once: its flag, how its value is parsed, and what it means.

    ``help`` may hold ``{default}``, filled in by ``add`` with the default as
    the command shows it.
    """

    flag: str
    help: str
    type: Optional[Callable[[str], Any]] = None
    metavar: Optional[str] = None
    choices: Optional[Sequence[str]] = None

    @property
    def dest(self) -> str:
        """The attribute of the parsed arguments that holds the value."""
        return self.flag.lstrip("-").replace("-", "_")

    def add(self, group: Group, default: Any = None, *, shown: Optional[str] = None,
            help: Optional[str] = None, old_names: Sequence[str] = ()) -> None:
        """Add the option to a parser or group, with its hidden old spellings.

        ``shown``: the default as the help text states it (default: ``default``
        itself; a command that keeps ``default=None`` to tell what was given
        says what None stands for).
        """
        text = (self.help if help is None else help).format(
            default=default if shown is None else shown)
        common: Dict[str, Any] = {"type": self.type, "choices": self.choices}
        group.add_argument(self.flag, default=default, help=text, metavar=self.metavar,
                           action=_Spelled if old_names else "store", **common)
        for old in old_names:
            # A separate option, so that argparse's errors name it as typed.
            group.add_argument(old, dest=self.dest, default=argparse.SUPPRESS,
                               help=argparse.SUPPRESS, metavar=self.metavar, action=_Spelled,
                               **common)


LAYERS = Option("--layers", "layer sizes, input first, like 2,16,16,1 (default {default})",
                type=layer_sizes, metavar="SIZES")
ACTIVATION = Option("--activation", "hidden activation (default {default})",
                    choices=tuple(ACTIVATIONS))
OUTPUT_ACTIVATION = Option(
    "--output-activation",
    "output activation (default: what the loss needs, sigmoid for bce and softmax for"
    " cross_entropy, else the hidden one)", choices=ACTIVATION_NAMES)
LOSS = Option("--loss", "loss (default {default}, the tutorial's)", choices=tuple(LOSSES))
INIT = Option("--init", "weight initialisation (default {default}, the tutorial's)",
              choices=tuple(INITS))
SEED = Option("--seed", "seed of the initial weights (default {default})", type=parse_seed)
SAMPLES = Option("--samples", "how many samples (default {default})", type=int_at_least(1))
LR = Option("--lr", "learning rate, a finite number ≥ 0 (default {default})",
            type=parse_non_negative)
EPOCHS = Option("--epochs", "number of epochs (default {default})", type=int_at_least(0))
LOG_EVERY = Option("--log-every",
                   "print 'Epoch N, Loss: ...' every this many epochs (default {default})",
                   type=int_at_least(1))
PLOT = Option("--plot", "write SVG pictures into DIR (created if missing)", metavar="DIR")


def add_quiet(group: Group, help: str) -> None:
    """Add --quiet, which leaves out the log."""
    group.add_argument("--quiet", action="store_true", help=help)


def add_network_options(group: Group, layers_shown: str,
                        layers_old_names: Sequence[str] = ()) -> None:
    """Add --layers, --activation, --output-activation, --loss and --init, defaults None.

    None stands for the default each help line states (sigmoid, the loss's
    output, half_sse, normal), so a command can tell what was given; ``purebp
    train --resume`` refuses them all. A command with fixed defaults sets them
    with ``parser.set_defaults`` (``Network`` takes an output activation of
    None to mean what the loss needs).
    """
    LAYERS.add(group, shown=layers_shown, old_names=layers_old_names)
    ACTIVATION.add(group, shown="sigmoid")
    OUTPUT_ACTIVATION.add(group)
    LOSS.add(group, shown="half_sse")
    INIT.add(group, shown="normal")


def add_format(group: Group, formats: Dict[str, str], old_flags: Optional[Dict[str, str]] = None
               ) -> None:
    """Add --format with ``formats`` (name: what it prints; the first is the default).

    ``old_flags``: old switches that meant one format, like {"--json": "json"},
    kept as hidden aliases of ``--format NAME``.
    """
    names = tuple(formats)
    group.add_argument("--format", choices=names, default=names[0],
                       help="; ".join(f"{name}: {what}" for name, what in formats.items())
                            + f" (default {names[0]})")
    for flag, name in (old_flags or {}).items():
        group.add_argument(flag, dest="format", action="store_const", const=name,
                           default=argparse.SUPPRESS, help=argparse.SUPPRESS)
