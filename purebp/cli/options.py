"""What the commands share: the parser, the value parsers, the options used by more than one.

    Parser           argparse, with a usage mistake reported in one line (exit 2)
    Command          one command: name, help line, description, options, run function
    int_at_least, parse_non_negative, parse_fraction, parse_number, parse_seed, layer_sizes
                     value parsers for argparse's type=, each naming what it expected
    one_hot          class indices as one-hot rows, for --loss cross_entropy
    Option           one option defined once: its flag, its value parser, its help;
                     LAYERS, SAMPLES, SEED, LR, EPOCHS, ... are the shared ones
    add_network_options   --layers, --activation, --output-activation, --loss, --init
    OPTIMIZER_CHOICES, add_optimizer_options, optimizer_settings, build_optimizer
                     --optimizer and the options of its step (--momentum, --beta1, ...):
                     which choice takes which, their defaults, the optimizer they build
    spelling         the flag the user typed for an option (an old name, or the new one)

Every command module imports this one and nothing else from purebp.cli, so
that purebp.cli.app, which lists the commands, can import them all without a
cycle. Old spellings of renamed options (``explain --network``, ``train --n``,
``check --json``) stay as hidden aliases for one release: they parse as before
and their errors name them as before, but ``--help`` shows only the new name.
"""

from __future__ import annotations

import argparse
import inspect
import math
from typing import (
    Any,
    Callable,
    Dict,
    List,
    NamedTuple,
    NoReturn,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from purebp._checks import _short_repr
from purebp.activations import ACTIVATIONS
from purebp.activations import NAMES as ACTIVATION_NAMES
from purebp.losses import LOSSES
from purebp.network import INITS
from purebp.optimizers import OPTIMIZERS, Optimizer

#: What add_argument accepts to add options to: a parser, or a group of one.
Group = Union[argparse.ArgumentParser, "argparse._ArgumentGroup"]


class Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake reported in one line on stderr (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see '{self.prog} --help')\n")


#: The most characters an error message shows; a longer one keeps its start and end.
MAX_MESSAGE = 1000


def printable(text: str) -> str:
    r"""Return text with every unprintable character shown as its escape (\x1b, \n, \u2028).

    Text from a file or the command line may hold terminal escape sequences;
    shown escaped, they cannot recolour or rewrite the user's terminal.

    >>> printable("red \x1b[31m")
    'red \\x1b[31m'
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def one_line(message: str) -> str:
    """Return message on one line, unprintable characters escaped, at most MAX_MESSAGE long.

    A line break is shown as \\n; a longer message keeps its start, where the
    place and the rule are, and its end.

    >>> one_line("no such file: a\\nb")
    'no such file: a\\\\nb'
    >>> len(one_line("x" * 10 ** 6)) <= MAX_MESSAGE
    True
    """
    text = printable(message) if len(message) <= MAX_MESSAGE else message
    if len(text) <= MAX_MESSAGE:
        return text
    cut = f" … ({len(message):,} characters in all) … "
    room = MAX_MESSAGE - len(cut)
    head, tail = room * 3 // 4, room - room * 3 // 4
    return printable(message[:head])[:head] + cut + printable(message[-tail:])[-tail:]


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


def int_at_least(minimum: int, maximum: Optional[int] = None) -> Callable[[str], int]:
    """Return a parser of integers ≥ minimum (and ≤ maximum, if given).

    >>> int_at_least(1)("3")
    3
    """
    limits = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            digits = text.strip().lstrip("+-").replace("_", "")
            if digits.isdigit():  # an integer past int()'s 4,300-digit limit
                raise argparse.ArgumentTypeError(
                    f"must be an integer {limits}, got one of {len(digits):,} digits") from None
            raise argparse.ArgumentTypeError(
                f"must be an integer, got {_short_repr(text)}") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be {'an integer ' if maximum else ''}{limits},"
                                             f" got {_short_repr(value)}")
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


def parse_fraction(text: str) -> float:
    """Parse a number strictly between 0 and 1 (a share of the samples).

    >>> parse_fraction("0.25")
    0.25
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {_short_repr(text)}") from None
    if not 0 < value < 1:  # NaN too
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1 (both left out),"
                                         f" got {_short_repr(text)}")
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


# -- the optimizers: --optimizer and the options of its step -----------------------


class OptimizerChoice(NamedTuple):
    """One ``--optimizer`` choice: the purebp.optimizers class it builds, and what it takes.

    ``options`` are the settings the choice takes (lr first), by their
    attribute names; ``defaults`` the ones whose default is not the class's
    own (torch.optim's); ``fixed`` the arguments the choice sets itself.
    """

    optimizer: str  # the class's NAME in purebp.optimizers
    options: Tuple[str, ...]
    defaults: Dict[str, float]
    fixed: Dict[str, Any]
    what: str  # what the choice is, in a few words


#: The --optimizer choices. Every default is torch.optim's but these: sgd's lr
#: is 0.1, the tutorial's, as it was before there were optimizers; momentum is
#: SGD with momentum 0.9, and its lr 0.01 makes the steady step, lr/(1 − 0.9)
#: times the gradient, sgd's 0.1 again (nesterov likewise).
OPTIMIZER_CHOICES: Dict[str, OptimizerChoice] = {
    "sgd": OptimizerChoice("sgd", ("lr", "weight_decay"), {"lr": 0.1}, {},
                           "plain gradient descent, the default"),
    "momentum": OptimizerChoice("sgd", ("lr", "momentum", "weight_decay"),
                                {"lr": 0.01, "momentum": 0.9}, {}, "SGD with momentum"),
    "nesterov": OptimizerChoice("sgd", ("lr", "momentum", "weight_decay"),
                                {"lr": 0.01, "momentum": 0.9}, {"nesterov": True},
                                "SGD with Nesterov momentum"),
    "rmsprop": OptimizerChoice("rmsprop", ("lr", "momentum", "eps", "weight_decay"), {}, {},
                               "RMSprop"),
    "adam": OptimizerChoice("adam", ("lr", "beta1", "beta2", "eps", "weight_decay"), {}, {},
                            "Adam"),
    "adamw": OptimizerChoice("adamw", ("lr", "beta1", "beta2", "eps", "weight_decay"), {}, {},
                             "Adam with decoupled weight decay"),
}
#: Every setting of a step, by attribute name, and the class argument it gives.
OPTIMIZER_ARGUMENTS = {"lr": "lr", "momentum": "momentum", "beta1": "betas[0]",
                       "beta2": "betas[1]", "eps": "eps", "weight_decay": "weight_decay"}


def _flag_of(setting: str) -> str:
    return "--" + setting.replace("_", "-")


def optimizer_default(choice: str, setting: str) -> float:
    """Return the default of ``setting`` (lr, momentum, beta1, ...) for an --optimizer choice.

    >>> optimizer_default("adam", "beta2"), optimizer_default("momentum", "momentum")
    (0.999, 0.9)
    """
    spec = OPTIMIZER_CHOICES[choice]
    if setting in spec.defaults:
        return spec.defaults[setting]
    parameters = inspect.signature(OPTIMIZERS[spec.optimizer].__init__).parameters
    if setting in ("beta1", "beta2"):
        return float(parameters["betas"].default[setting == "beta2"])
    return float(parameters[setting].default)


def optimizer_settings(choice: str, given: Dict[str, Optional[float]]) -> Dict[str, Optional[float]]:
    """Return every step setting for ``choice``: the given value or its default where the
    choice takes it, None where it does not.

    ``given`` maps settings to a value or None (not given); a value given for
    a setting the choice does not take is refused, naming both.

    >>> optimizer_settings("momentum", {"lr": 0.05})
    {'lr': 0.05, 'momentum': 0.9, 'beta1': None, 'beta2': None, 'eps': None, 'weight_decay': 0.0}
    """
    spec = OPTIMIZER_CHOICES[choice]
    for setting, value in given.items():
        if value is not None and setting not in spec.options:
            takers = [name for name, other in OPTIMIZER_CHOICES.items() if setting in other.options]
            raise ValueError(f"{_flag_of(setting)} does not apply to --optimizer {choice}"
                             f" ({spec.what}); it applies to {', '.join(takers)}")
    settings: Dict[str, Optional[float]] = {}
    for setting in OPTIMIZER_ARGUMENTS:
        value = given.get(setting)
        if setting in spec.options:
            settings[setting] = optimizer_default(choice, setting) if value is None else value
        else:
            settings[setting] = None
    return settings


def build_optimizer(choice: str, settings: Dict[str, Any]) -> Optimizer:
    """Return the optimizer of an --optimizer choice with its settings (optimizer_settings's).

    The class checks the values; its message is given back naming the option
    (``--beta1 must lie in [0, 1), got 1.0``).

    >>> build_optimizer("nesterov", optimizer_settings("nesterov", {}))
    SGD(lr=0.01, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=True)
    """
    spec = OPTIMIZER_CHOICES[choice]
    if choice == "nesterov" and settings["momentum"] == 0:
        raise ValueError("--momentum must be positive for --optimizer nesterov (its step"
                         f" looks ahead along the velocity), got {settings['momentum']!r}")
    arguments: Dict[str, Any] = dict(spec.fixed)
    for setting in spec.options:
        if setting in ("beta1", "beta2"):
            arguments["betas"] = (settings["beta1"], settings["beta2"])
        else:
            arguments[setting] = settings[setting]
    try:
        return OPTIMIZERS[spec.optimizer](**arguments)
    except (TypeError, ValueError) as error:
        message = str(error)
        for setting, argument in OPTIMIZER_ARGUMENTS.items():
            prefix = f"{spec.optimizer}: {argument} "
            if message.startswith(prefix):
                raise type(error)(_flag_of(setting) + " " + message[len(prefix):]) from None
        raise type(error)(f"--optimizer {choice}: {message}") from None


def _defaults_shown(setting: str) -> str:
    """The defaults of a setting as a help line states them: "0.9 for momentum, nesterov; 0
    for rmsprop", or one value if every optimizer that takes it has the same."""
    by_value: Dict[float, List[str]] = {}
    for choice, spec in OPTIMIZER_CHOICES.items():
        if setting in spec.options:
            by_value.setdefault(optimizer_default(choice, setting), []).append(choice)
    if len(by_value) == 1:
        return f"{next(iter(by_value)):g}"
    return "; ".join(f"{value:g} for {', '.join(choices)}" for value, choices in by_value.items())


def parse_number(text: str) -> float:
    """Parse a number; the optimizer it is for checks its range (and refuses NaN, ±inf).

    >>> parse_number("1e-8")
    1e-08
    """
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {_short_repr(text)}") from None


def add_optimizer_options(group: Group) -> None:
    """Add --optimizer, --momentum, --beta1, --beta2, --eps and --weight-decay, defaults None.

    None stands for the default of the chosen optimizer (optimizer_settings
    fills it in), so that an option given for an optimizer that does not
    take it can be refused, and ``purebp train --resume`` can tell what was given.
    --lr is added by the command (LR), its help stating these defaults.
    """
    group.add_argument(
        "--optimizer", choices=tuple(OPTIMIZER_CHOICES), default=None,
        help="the step, with torch.optim's rules and defaults (but --lr's): "
             + "; ".join(f"{name}: {spec.what}" for name, spec in OPTIMIZER_CHOICES.items()))
    helps = {
        "momentum": "the velocity's decay, for momentum, nesterov and rmsprop",
        "beta1": "Adam's β1, the decay of the gradient's running mean, for adam and adamw",
        "beta2": "Adam's β2, the decay of the squared gradient's running mean, for adam and"
                 " adamw",
        "eps": "added to the root of the squared gradient's mean, for rmsprop, adam and adamw",
        "weight_decay": "weight decay, for every optimizer: added to the gradient as"
                        " weight_decay·p (L2), but decoupled for adamw, p ← p·(1 − lr·weight_decay)",
    }
    for setting, text in helps.items():
        group.add_argument(_flag_of(setting), type=parse_number, default=None, metavar="X",
                           help=f"{text} (default {_defaults_shown(setting)})")


def lr_defaults_shown() -> str:
    """The --lr defaults per optimizer, as the help line states them.

    >>> lr_defaults_shown()
    '0.1 for sgd; 0.01 for momentum, nesterov, rmsprop; 0.001 for adam, adamw'
    """
    return _defaults_shown("lr")
