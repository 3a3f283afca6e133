"""``purebp train``: train a ``Network`` on a named data set or a CSV file.

It prints the log and ends with the final loss and, for 0/1 or one-hot
targets, the accuracy. It steps by plain gradient descent or by another
optimizer (--optimizer, and its options: purebp.cli.options), holds out a
seeded share of the data for validation (--val-split, ``validation_split``)
and can stop early (--early-stopping). It saves (--save), checkpoints during
training (--checkpoint), resumes a checkpointed run bit for bit (--resume,
with the run's options left out or repeated), draws the loss curves and
decision boundary (--plot), stops cleanly at the end of an epoch on the
first Ctrl-C, SIGTERM or SIGHUP (exit 128 + the signal's number: 130, 143,
129) and on divergence (exit 1). Mistakes raise ValueError, which
purebp.cli.app reports in one line (exit 2).
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import inspect
import math
import os
import random
import shlex
import signal
import sys
import time
from types import FrameType
from typing import Any, Callable, Dict, List, Optional, TextIO, Tuple, Union

from purebp import _checks, _limits
from purebp._checks import shown_path
from purebp._types import Matrix
from purebp.cli.options import (
    EPOCHS,
    LOG_EVERY,
    LR,
    OPTIMIZER_ARGUMENTS,
    OPTIMIZER_CHOICES,
    PLOT,
    SAMPLES,
    SEED,
    Parser,
    add_network_options,
    add_optimizer_options,
    add_quiet,
    build_optimizer,
    int_at_least,
    lr_defaults_shown,
    one_hot,
    optimizer_settings,
    parse_fraction,
    parse_non_negative,
    printable,
    spelling,
)
from purebp.datasets import DATASETS, IMAGE_DATASETS, MAX_SAMPLES, class_count, load_csv
from purebp.errors import DivergenceError
from purebp.files import jsonfile, model
from purebp.layers import Sequential, manual_seed
from purebp.layers.spec import MAX_TEXT, describe, parse_layers, sizes_per_sample
from purebp.layers.tensor import Tensor
from purebp.network import Network
from purebp.optimizers import Optimizer
from purebp.study import plots

DESCRIPTION = ("Train a fully-connected network (or, with --model, a layer list such as a"
               " small CNN) by gradient descent and report its loss and accuracy. Ctrl-C (or"
               " SIGTERM, SIGHUP) stops at the end of the current epoch (and writes the"
               " --checkpoint, if given).")

#: The settings that define a training run, with their defaults, by the names
#: the checkpoint records them under. ``--resume`` takes them from the
#: checkpoint; those given with it must agree with it. The step's settings,
#: lr to weight_decay, default to the optimizer's (None here; a run records
#: what they became, purebp.cli.options.optimizer_settings), and a checkpoint
#: written before there were optimizers is a run of sgd without validation.
RUN_DEFAULTS: Dict[str, Any] = {
    "data": "xor", "targets": None, "n": None, "noise": None, "bits": None,
    "layers": None, "activation": "sigmoid", "output_activation": None,
    "loss": "half_sse", "init": "normal", "lr": None, "batch_size": None, "seed": 0,
    "optimizer": "sgd", "momentum": None, "beta1": None, "beta2": None, "eps": None,
    "weight_decay": None, "val_split": None, "early_stopping": None,
}

#: A setting whose option has another name: --samples was --n, the name
#: checkpoints keep (and the hidden alias still accepts).
OPTION_OF = {"n": "samples"}


def add_options(parser: Parser) -> None:
    """Add the data, network, training and file options; their defaults stay None.

    None means "not given", which --resume needs to know; _settings fills in
    RUN_DEFAULTS afterwards, as the help lines say.
    """
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data", default=None, metavar="NAME|FILE",
        help=f"a data set ({', '.join(DATASETS)}), a CSV file of numbers (default xor), or"
             f" with --model the images of strokes (its default)")
    data.add_argument(
        "--targets", type=int_at_least(1), default=None,
        help="for a CSV file only: how many of the last columns are targets (default 1)")
    SAMPLES.add(data, shown="200", old_names=("--n",),
                help="samples to generate for moons, circles, spirals (default {default});"
                     " strokes (default 800)")
    data.add_argument("--noise", type=parse_non_negative, default=None,
                      help="noise level for moons, circles, spirals")
    data.add_argument("--bits", type=int_at_least(1), default=None,
                      help="input bits for parity (default 3)")
    network = parser.add_argument_group("network")
    add_network_options(network, layers_shown="inputs,8,outputs")
    network.add_argument(
        "--model", metavar="LAYERS|FILE", default=None,
        help="instead of --layers: a purebp.layers Sequential, as its layer list in Python's"
             " notation or a file of it, e.g. \"Conv2d(1, 4, 3, padding=1), ReLU(),"
             " MaxPool2d(2), Flatten(), Linear(64, 4)\" on --data strokes (8 × 8 images);"
             " the loss (--loss, default cross_entropy for images, else mse) takes its output")
    training = parser.add_argument_group("training")
    EPOCHS.add(training, 1000, help="train until this many epochs in all (default {default})")
    LR.add(training, shown=lr_defaults_shown())
    training.add_argument("--batch-size", type=int_at_least(1), default=None,
                          help="mini-batch size, with a seeded shuffle (default: full batch)")
    SEED.add(training, shown="0", help="seed for the weights and the shuffles (default {default})")
    LOG_EVERY.add(training, shown="a tenth of --epochs")
    add_quiet(training, "print only the final loss and accuracy (no log, no progress line)")
    training.add_argument("--verbose", action="store_true",
                          help="also say which code trained the network (written-out or"
                               " reference: purebp docs speed) and how long training took")
    add_optimizer_options(parser.add_argument_group("optimizer"))
    validation = parser.add_argument_group("validation")
    validation.add_argument(
        "--val-split", type=parse_fraction, default=None, metavar="F",
        help="hold out this share of the samples (0 < F < 1) for validation, drawn with a"
             " shuffle seeded by --seed; the log and summary show the validation loss too")
    validation.add_argument(
        "--early-stopping", type=int_at_least(1), default=None, metavar="K",
        help="with --val-split: stop when the validation loss has not improved for K"
             " epochs, and keep the parameters of the epoch that reached its lowest")
    files = parser.add_argument_group("saving and resuming")
    files.add_argument("--save", metavar="PATH", default=None,
                       help="write the trained model to PATH at the end (format: purebp docs model-format)")
    files.add_argument("--checkpoint", metavar="PATH", default=None,
                       help="write a checkpoint to PATH during training, on Ctrl-C (or SIGTERM,"
                            " SIGHUP) and at the end")
    files.add_argument("--checkpoint-every", type=int_at_least(1), default=None, metavar="K",
                       help="with --checkpoint: write it every K epochs (default: a tenth of"
                            " --epochs)")
    PLOT.add(files, help="write SVG pictures to DIR: the loss curve (and the validation"
                         " loss's) and, for two inputs, the decision boundary (validation"
                         " points hollow); with --model, the learned filters and the first"
                         " sample's feature maps")
    files.add_argument("--resume", metavar="PATH", default=None,
                       help="continue the run saved in a checkpoint (or --save file) until"
                            " --epochs in all; its settings come from the file, and data,"
                            " network or training options given too must agree with it")


def _option(args: Optional[argparse.Namespace], setting: str) -> str:
    """The option that gives ``setting``, as the user typed it (``args`` None: its name)."""
    dest = OPTION_OF.get(setting, setting)
    flag = "--" + dest.replace("_", "-")
    return flag if args is None else spelling(args, dest, flag)


def load_data(settings: Dict[str, Any], option: Callable[[str], str]) -> Tuple[Matrix, Matrix]:
    """Return (X, y) for the settings' data: a generated data set by name, else a CSV file.

    ``option(setting)`` names the option of a setting in error messages.
    """
    data = settings["data"]
    if not isinstance(data, str):
        raise ValueError(f"--data must name a data set or a file, got {_checks._describe(data)}")
    given = {key: settings[key] for key in ("n", "noise", "bits", "targets")
             if settings[key] is not None}
    if data in DATASETS:
        generator = DATASETS[data]
        accepted = inspect.signature(generator).parameters
        for key in given:
            if key not in accepted:
                raise ValueError(f"{option(key)} does not apply to --data {data}")
        return generator(**given)
    given.pop("targets", None)
    if given:
        raise ValueError(f"{option(next(iter(given)))} applies to generated data sets only,"
                         f" not to the file {shown_path(data)}")
    if not data.lower().endswith(".csv"):
        images = f" ({data} is a set of images: it takes --model)" if data in IMAGE_DATASETS else ""
        raise ValueError(f"--data: unknown data set {_checks._short_repr(data)}; expected one of"
                         f" {', '.join(DATASETS)}, or a .csv file{images}")
    # Each row read will be trained on: count what that takes too, so that a file of
    # millions of short rows is refused while it is read, not after (at least
    # what --layers 1,8,1 takes when the layers are not given).
    layers = settings["layers"]
    if not (isinstance(layers, list) and len(layers) >= 2
            and all(type(size) is int and size >= 1 for size in layers)):
        layers = [1, 8, 1]
    units, _ = _limits.counts(layers)
    return load_csv(data, targets=settings["targets"] or 1,
                    sample_bytes=_limits.sample_bytes(units, len(layers) - 1))


#: The data sets of a fixed size: the truth tables' four rows.
_FIXED_SAMPLES = {"xor": 4, "and": 4, "or": 4}


def samples_before_loading(settings: Dict[str, Any]) -> Optional[int]:
    """Return how many samples the settings' data will have, if known without making it.

    None for a CSV file (read first, within the memory budget, then counted)
    and for settings the loader will refuse anyway.
    """
    data, n, bits = settings["data"], settings["n"], settings["bits"]
    if data in _FIXED_SAMPLES:
        return _FIXED_SAMPLES[data]
    if data == "parity":
        bits = 3 if bits is None else bits
        return 2 ** bits if isinstance(bits, int) and 1 <= bits <= 16 else None
    if data in DATASETS:
        if n is None:
            return int(inspect.signature(DATASETS[data]).parameters["n"].default)
        return n if type(n) is int and 1 <= n <= MAX_SAMPLES else None
    return None


def check_budget(samples: int, sizes: List[int], epochs: int,
                 batch_size: Optional[int] = None) -> None:
    """Refuse, before the work, a run whose memory or time is over budget (purebp._limits)."""
    units, weights = _limits.counts(sizes)
    layers = len(sizes) - 1
    _limits.check("purebp train", _limits.network_bytes(samples, units, weights, layers),
                  _limits.network_seconds(samples, weights, max(epochs, 1), layers,
                                          _batch(batch_size, samples)),
                  f"{samples:,} samples through layers {','.join(map(str, sizes))}"
                  f" ({weights:,} weights) for {epochs:,} epochs")


def _batch(batch_size: object, samples: int) -> Optional[int]:
    """The batch size the estimate counts steps by: None (one step an epoch) for the full
    batch, or for a setting that is not a whole number of at least 1 (refused later)."""
    if type(batch_size) is int and batch_size >= 1:
        return min(batch_size, max(samples, 1))
    return None


def _data_digest(X: Matrix, y: Matrix) -> str:
    """A fingerprint of the training data, to check a resumed run trains on the same."""
    return hashlib.sha256(repr((X, y)).encode()).hexdigest()


def validation_split(X: Matrix, y: Matrix, fraction: float, seed: int
                     ) -> Tuple[Matrix, Matrix, Matrix, Matrix]:
    """Return (X_train, y_train, X_val, y_val): a seeded share of the n rows held out.

    k = ⌊fraction·n + ½⌋ rows (fraction·n to the nearest whole number, a half
    up) go to validation: the row indices 0 … n−1 are shuffled by
    ``random.Random(f"val-split {seed}")``, a generator of its own (Python
    turns a text seed into a number through SHA-512, the same on every
    Python), and the first k of them are the validation rows. Both parts keep
    the data's order. The network's generator, which draws its weights and
    shuffles its mini-batches, is not touched: a run with --val-split
    differs from one without only in the rows it trains on.

    >>> X = [[float(i)] for i in range(10)]
    >>> X_train, y_train, X_val, y_val = validation_split(X, X, 0.3, seed=0)
    >>> X_val
    [[3.0], [8.0], [9.0]]
    >>> len(X_train), sorted(X_train + X_val) == X
    (7, True)
    """
    n = len(X)
    k = math.floor(fraction * n + 0.5)
    if not 0 < k < n:
        raise ValueError(f"--val-split must leave at least one sample for validation and one"
                         f" for training, got {fraction} of {n} samples: {k} for validation")
    order = list(range(n))
    random.Random(f"val-split {seed}").shuffle(order)
    held_out = set(order[:k])
    train_rows = [i for i in range(n) if i not in held_out]
    val_rows = sorted(held_out)
    return ([X[i] for i in train_rows], [y[i] for i in train_rows],
            [X[i] for i in val_rows], [y[i] for i in val_rows])


def _given(args: argparse.Namespace) -> Dict[str, Any]:
    """The run settings given on the command line (the others are None: not given)."""
    given = {key: getattr(args, OPTION_OF.get(key, key)) for key in RUN_DEFAULTS}
    return {key: value for key, value in given.items() if value is not None}


def _step_given(settings: Dict[str, Any]) -> Dict[str, Any]:
    """The step's settings (lr, momentum, beta1, ...) of settings, None where not given."""
    return {key: settings[key] for key in OPTIMIZER_ARGUMENTS}


def _samples_shown(settings: Dict[str, Any], X: Matrix,
                   validation: Optional[Tuple[Matrix, Matrix]]) -> str:
    """The samples as the settings line shows them: "200 samples", or the split."""
    if validation is None:
        return f"{len(X)} samples"
    stopping = settings["early_stopping"]
    return (f"{len(X)} training and {len(validation[0])} validation samples (--val-split"
            f" {settings['val_split']}{f', --early-stopping {stopping}' if stopping else ''})")


def _step_shown(settings: Dict[str, Any], optimizer: Optimizer) -> str:
    """The step as the settings line shows it: "lr 0.1" for plain gradient descent, else
    the optimizer with its arguments."""
    if settings["optimizer"] == "sgd" and not settings["weight_decay"]:
        return f"lr {settings['lr']}"
    return f"optimizer {settings['optimizer']}: {optimizer!r}"


def _resumed_optimizer(args: argparse.Namespace, settings: Dict[str, Any],
                       net: Network) -> Optimizer:
    """The optimizer a resumed run goes on with: the checkpoint's, with its state.

    A checkpoint from before there were optimizers holds none: its run was
    plain gradient descent, which has no state to go on from.
    """
    built = build_optimizer(settings["optimizer"], settings)
    if net.optimizer is None:
        return built
    if net.optimizer.config() != built.config():
        raise ValueError(f"--resume {shown_path(args.resume)}: the run settings' optimizer"
                         f" must be the training state's, {net.optimizer!r}, got {built!r}")
    return net.optimizer


def _in_effect(settings: Dict[str, Any], net: Network) -> Dict[str, Any]:
    """A checkpoint's settings as the run used them, to compare with options given again.

    A setting recorded as None (not given) stands for what it became: the
    network's own sizes and output activation, a data set's default sample
    count, noise or bits, one target column of a CSV file.
    """
    used = dict(settings, layers=net.sizes, activation=net.activation,
                output_activation=net.output_activation, loss=net.loss_name, init=net.init)
    data = settings["data"]
    if isinstance(data, str) and data in DATASETS:
        defaults = inspect.signature(DATASETS[data]).parameters
        for key in ("n", "noise", "bits"):
            if used[key] is None and key in defaults:
                used[key] = defaults[key].default
    else:
        used["targets"] = settings["targets"] or 1
    return used


def _is_file(data: object) -> bool:
    """Whether a --data value names a file rather than a data set."""
    return isinstance(data, str) and data not in DATASETS


def _shown_setting(key: str, value: Any) -> str:
    """A setting as its option takes it: layers as 2,8,1, no batch size as full."""
    if value is None:
        return "full" if key == "batch_size" else "none"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return shown_path(value) if key == "data" and isinstance(value, str) else str(value)


def _resume_settings(args: argparse.Namespace, saved: Dict[str, Any], net: Network
                     ) -> Dict[str, Any]:
    """The run settings of a resumed run: the checkpoint's, checked against those given.

    Every option given that differs from the checkpoint is named, in one
    ValueError, with both values. A data file given again may be named by
    another path (the run goes on from it): the data's fingerprint decides.
    """
    settings = dict(RUN_DEFAULTS, **saved)
    _check_saved_settings(args, settings)
    used = _in_effect(settings, net)
    differ = []
    for key, value in _given(args).items():
        if key == "data" and _is_file(value) and _is_file(used["data"]):
            settings["data"] = value
        elif value != used[key]:
            differ.append(f"{_option(args, key)} (checkpoint {_shown_setting(key, used[key])},"
                          f" given {_shown_setting(key, value)})")
    if differ:
        raise ValueError(f"--resume {shown_path(args.resume)}: options differ from the"
                         f" checkpoint's settings: {', '.join(differ)}; leave them out, or give"
                         " the checkpoint's values")
    return settings


def _check_saved_settings(args: argparse.Namespace, settings: Dict[str, Any]) -> None:
    """Refuse a checkpoint whose settings could not be what train wrote; fill in the step's.

    The step's settings a checkpoint leaves out (one from before there were
    optimizers) get their defaults, as the run had them.

    Before anything is printed: the settings line shows them, and a file's
    40-million-character lr would otherwise be printed before it is refused.
    """
    lr, batch_size, seed = settings["lr"], settings["batch_size"], settings["seed"]
    choice, val_split, patience = (settings["optimizer"], settings["val_split"],
                                   settings["early_stopping"])
    bad = None
    if type(lr) not in (int, float) or not 0 < lr < math.inf:
        bad = ("lr", "a positive number", lr)
    elif batch_size is not None and (type(batch_size) is not int or batch_size < 1):
        bad = ("batch_size", "a whole number of at least 1, or null", batch_size)
    elif type(seed) is not int:
        bad = ("seed", "a whole number", seed)
    elif not isinstance(choice, str) or choice not in OPTIMIZER_CHOICES:
        bad = ("optimizer", f"one of {', '.join(OPTIMIZER_CHOICES)}", choice)
    elif val_split is not None and (type(val_split) not in (int, float) or not 0 < val_split < 1):
        bad = ("val_split", "a number between 0 and 1 (both left out), or null", val_split)
    elif patience is not None and (type(patience) is not int or patience < 1 or val_split is None):
        bad = ("early_stopping", "a whole number of at least 1 with a val_split, or null",
               patience)
    if bad is None:
        try:  # the step's settings: what the optimizer takes, its defaults filled in
            settings.update(optimizer_settings(choice, _step_given(settings)))
            build_optimizer(choice, settings)
        except (TypeError, ValueError) as error:
            raise ValueError(f"--resume {shown_path(args.resume)}: in its run settings,"
                             f" {error}") from None
    if bad is not None:
        key, expected, value = bad
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise ValueError(f"--resume {shown_path(args.resume)}: the run settings' {key} must be"
                         f" {expected}, got {shown}")


class Progress:
    """A single updating status line on a terminal: epoch, loss, speed, time left.

    It writes only when the stream is a terminal (redirected output stays
    clean), at most ten times a second, and ``clear()`` wipes it before other
    output is printed.
    """

    def __init__(self, stream: TextIO, total: int, start: int, enabled: bool) -> None:
        self.stream, self.total, self.start = stream, total, start
        self.enabled = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.began = self.last = time.monotonic()
        self.shown = False

    def update(self, epoch: int, loss: float) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.1:
            return
        self.last = now
        done = epoch + 1 - self.start
        rate = done / max(now - self.began, 1e-9)
        left = (self.total - epoch - 1) / rate if rate > 0 else 0.0
        self.stream.write(f"\repoch {epoch + 1}/{self.total}  loss {loss:.6g}"
                          f"  {rate:,.0f} epochs/s  {left:,.1f} s left\x1b[K")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


#: What signal.signal returns: the handler that was there before (None: one not
#: installed from Python, which cannot be put back).
_Handler = Union[Callable[[int, Optional[FrameType]], Any], int, None]


#: The signals that ask a run to stop at the end of its epoch: Ctrl-C, and what
#: a cluster's scheduler (SIGTERM) and a closed terminal (SIGHUP) send. Windows
#: has no SIGHUP.
STOP_SIGNALS: Tuple[int, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


#: The exit codes of a run whose output went away are 128 + these, as if the
#: signal had come: SIGHUP for a closed terminal (EIO), SIGPIPE for a closed
#: pipe (EPIPE). Their POSIX numbers, which Windows's signal module lacks.
_SIGHUP, _SIGPIPE = 1, 13


def _silence(stream: TextIO) -> None:
    """Point stream's file descriptor at os.devnull, once its terminal or reader has gone.

    Later writes then succeed unseen, and so does the interpreter's last flush
    of what is still buffered (which would otherwise fail at exit). A stream
    with no descriptor (a StringIO) is left as it is.
    """
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


class Stopped(KeyboardInterrupt):
    """A second stop signal during training: stop at once; purebp.cli.app exits 128 + signum."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class StopSignals:
    """While active, the first Ctrl-C, SIGTERM or SIGHUP only asks training to stop after the epoch.

    ``signum`` is then that signal's number (0 until one comes); a second
    Ctrl-C or SIGTERM raises Stopped at once. A SIGHUP never does: a hang-up
    comes as a burst (the shell's and the kernel's, a few milliseconds apart)
    and no one is left at the terminal to ask twice, so a repeated SIGHUP is
    the same request. Once one has come, SIGHUP stays ignored after the
    handlers are put back, so that a late copy cannot kill the run while it
    exits. A signal the process was started to ignore (``nohup`` ignores
    SIGHUP) stays ignored, and the handlers found are put back at the end.
    """

    def __init__(self, err: TextIO) -> None:
        self.err, self.signum, self.cause = err, 0, ""
        self.hung_up = self.active = False
        self.previous: Dict[int, _Handler] = {}

    def _handle(self, signum: int, frame: Optional[FrameType]) -> None:
        hangup = signum == getattr(signal, "SIGHUP", None)
        if hangup and self.hung_up:  # the same hang-up again: nothing new to do
            return
        self.hung_up = self.hung_up or hangup
        if self.signum:
            if hangup:  # a hang-up after Ctrl-C or SIGTERM asks nothing new
                return
            raise Stopped(signum)  # a second Ctrl-C or SIGTERM: stop at once
        self.request(signum)

    def request(self, signum: int, cause: str = "") -> None:
        """Ask training to stop at the end of the epoch, as signal ``signum`` does.

        ``cause``: why, when no signal came (the output went away).
        """
        self.signum, self.cause = signum, cause
        if cause:
            message = f"{cause}: stopping at the end of this epoch"
        elif signum == signal.SIGINT:
            message = "stopping at the end of this epoch (Ctrl-C again to stop at once)"
        elif self.hung_up:
            message = "SIGHUP: stopping at the end of this epoch"
        else:
            name = signal.Signals(signum).name
            message = f"{name}: stopping at the end of this epoch ({name} again to stop at once)"
        try:
            print(f"\npurebp: {message}", file=self.err)
        except OSError:  # the terminal has gone (SIGHUP): the checkpoint matters more
            pass

    def __enter__(self) -> StopSignals:
        self.active = True
        for signum in STOP_SIGNALS:
            try:
                if signal.getsignal(signum) != signal.SIG_IGN:
                    self.previous[signum] = signal.signal(signum, self._handle)
            except ValueError:  # not the main thread: leave the signals alone
                break
        return self

    def __exit__(self, *exc: object) -> None:
        self.active = False
        for signum, previous in self.previous.items():
            if self.hung_up and signum == signal.SIGHUP:
                signal.signal(signum, signal.SIG_IGN)
            elif previous is not None:
                signal.signal(signum, previous)


def run(args: argparse.Namespace, out: Optional[TextIO] = None,
        err: Optional[TextIO] = None) -> int:
    """Train as ``args`` say; print the log, then the final loss and accuracy.

    Returns the exit code: 0 done (or nothing left to train), 1 training
    diverged, 128 + the signal's number when stopped by Ctrl-C (130),
    SIGTERM (143) or SIGHUP (129).
    """
    stdout = sys.stdout if out is None else out
    stderr = sys.stderr if err is None else err
    if args.model is not None:  # a layer list: a Sequential, its own shorter run (below)
        return run_model(args, stdout, stderr)
    for option in ("--resume", "--save", "--checkpoint", "--plot"):
        if getattr(args, option[2:]) == "":
            raise ValueError(f"{option} must be a path, got an empty one")
    if args.resume is not None:
        net, saved = model.read(args.resume, Network)
        if not saved or not isinstance(saved.get("settings"), dict):
            raise ValueError(f"--resume {shown_path(args.resume)}: the file has no run settings;"
                             " only files written by purebp train can be resumed")
        settings = _resume_settings(args, saved["settings"], net)
        optimizer = _resumed_optimizer(args, settings, net)
        _check_outputs(args, str(settings["data"]))
        stopped = saved.get("early_stopped")
        if isinstance(stopped, dict) and type(stopped.get("epoch")) is int:
            best = stopped.get("best_epoch")
            kept = f"; it holds epoch {best}'s parameters" if type(best) is int else ""
            print(f"Nothing to train: {shown_path(args.resume)} stopped early after epoch"
                  f" {stopped['epoch']} (--early-stopping {settings['early_stopping']}: its"
                  f" validation loss had stopped improving), which ended its run{kept}",
                  file=stdout)
            return 0
        if net.epochs_trained >= args.epochs:
            print(f"Nothing to train: {shown_path(args.resume)} has trained"
                  f" {net.epochs_trained} epochs, and --epochs {args.epochs} is the total"
                  " (a larger --epochs goes on)", file=stdout)
            return 0
        remaining = args.epochs - net.epochs_trained
        known = samples_before_loading(settings)
        if known is not None:  # a generated set: refuse before making it
            check_budget(known, net.sizes, remaining, settings["batch_size"])
        X, y = load_data(settings, lambda key: _option(args, key))
        check_budget(len(X), net.sizes, remaining, settings["batch_size"])
        if net.loss_name == "cross_entropy" and len(y[0]) == 1 and net.sizes[-1] > 1:
            y = one_hot(y, net.sizes[-1])
        digest = _data_digest(X, y)
        if digest != saved.get("data_sha256"):
            raise ValueError(f"--resume {shown_path(args.resume)}: the data is not what the run"
                             f" started with (has {shown_path(str(settings['data']))} changed?)")
    else:
        settings = {key: _given(args).get(key, default) for key, default in RUN_DEFAULTS.items()}
        settings.update(optimizer_settings(settings["optimizer"], _step_given(settings)))
        if settings["early_stopping"] is not None and settings["val_split"] is None:
            raise ValueError("--early-stopping must come with --val-split F, the validation"
                             " data it watches, got no --val-split")
        optimizer = build_optimizer(settings["optimizer"], settings)
        _check_outputs(args, str(settings["data"]))
        known = samples_before_loading(settings)
        if known is not None:  # a generated set: refuse before making it
            inputs = (settings["bits"] or 3) if settings["data"] == "parity" else 2
            check_budget(known, settings["layers"] or [inputs, 8, 1], args.epochs,
                         settings["batch_size"])
        X, y = load_data(settings, lambda key: _option(args, key))
        layers = settings["layers"] or [len(X[0]), 8, len(y[0])]
        if settings["loss"] == "cross_entropy" and len(y[0]) == 1:
            # Class indices: one output per class, one-hot targets.
            classes = class_count(y)
            if classes < 2:
                raise ValueError("targets must hold at least two classes for --loss"
                                 " cross_entropy, got only class 0")
            if classes > _checks.MAX_LAYER_SIZE:  # before one_hot builds rows that wide
                raise ValueError(
                    f"targets: the class indices go up to {classes - 1:,}, so --loss"
                    f" cross_entropy would need {classes:,} outputs, one per class; a layer"
                    f" may have at most {_checks.MAX_LAYER_SIZE:,} units")
            if settings["layers"] is None:
                layers = [len(X[0]), 8, classes]
            elif layers[-1] != classes:
                start_too = (f"start with {len(X[0])} (the data has {len(X[0])} inputs) and "
                             if layers[0] != len(X[0]) else "")
                raise ValueError(
                    f"--layers must {start_too}end with {classes}, one output per class, for"
                    f" --loss cross_entropy (the targets are class indices 0 to"
                    f" {classes - 1}), got {','.join(map(str, layers))}")
            y = one_hot(y, classes)
        if layers[0] != len(X[0]) or layers[-1] != len(y[0]):
            raise ValueError(
                f"--layers must start with {len(X[0])} and end with {len(y[0])} (the data has"
                f" {len(X[0])} inputs and {len(y[0])} targets), got {','.join(map(str, layers))}")
        check_budget(len(X), layers, args.epochs, settings["batch_size"])
        # An output activation of None is what the loss needs (Network decides).
        net = Network(layers, settings["activation"], settings["output_activation"],
                      settings["loss"], settings["init"], settings["seed"])
        digest = _data_digest(X, y)
    record: Dict[str, Any] = {"settings": settings, "data_sha256": digest}
    validation = None
    if settings["val_split"] is not None:
        X, y, X_val, y_val = validation_split(X, y, settings["val_split"], settings["seed"])
        validation = (X_val, y_val)
    log_every = args.log_every or max(1, args.epochs // 10)
    every = args.checkpoint_every or max(1, args.epochs // 10)
    remaining = max(0, args.epochs - net.epochs_trained)
    progress = Progress(stderr, args.epochs, net.epochs_trained, enabled=not args.quiet)

    stop = StopSignals(stderr)
    lost: List[str] = []  # the output that went away: "EIO" (a closed terminal) or "EPIPE"

    def write(action: Callable[[], None], stream: TextIO) -> None:
        """Do action, a write to stream. One that fails because the terminal or the
        reader went away (EIO, EPIPE) points the stream at os.devnull and, during
        training, asks it to stop, as SIGHUP does: the checkpoint still gets
        written, and the exit code says what happened (129, 141). After a stop
        signal, any failed write is let go, for the same reason."""
        try:
            action()
        except OSError as error:
            if error.errno not in (errno.EIO, errno.EPIPE):
                if not stop.signum:
                    raise
                return
            _silence(stream)
            if not lost:
                lost.append(errno.errorcode[error.errno])
                if stop.active and not stop.signum:
                    stop.request(_SIGPIPE if error.errno == errno.EPIPE else _SIGHUP,
                                 f"its output went away: {lost[0]}")

    def say(line: str) -> None:
        write(progress.clear, stderr)
        write(lambda: print(line, file=stdout), stdout)

    def save(path: str) -> None:
        model.save(net, path, record)

    if not args.quiet:
        start = f"resuming {args.resume} at epoch {net.epochs_trained}: " if args.resume else ""
        # printable: with --resume, these settings are text from the file
        say(printable(f"{start}{net} on {settings['data']}: {_samples_shown(settings, X, validation)},"
                      f" {_step_shown(settings, optimizer)},"
                      f" batch size {settings['batch_size'] or 'full'}, seed {settings['seed']}"))
    # The epoch whose parameters early stopping keeps, as its record says.
    best_epoch: List[Optional[int]] = [None if net.best is None else net.best["epoch"]]
    # The handlers stay until the checkpoint is written and the run has said so.
    with stop:
        def on_epoch(_: Network, epoch: int, loss: float) -> bool:
            write(lambda: progress.update(epoch, loss), stderr)
            if net.best is not None:
                best_epoch[0] = net.best["epoch"]
            elif settings["early_stopping"] is not None:
                # early stopping has ended the run (and cleared its record): so
                # the files say, and a resumed run does not train on
                record["early_stopped"] = {"epoch": epoch, "best_epoch": best_epoch[0]}
            if args.checkpoint and (epoch + 1) % every == 0:
                save(args.checkpoint)
            return not stop.signum

        started = time.perf_counter()
        try:
            losses = net.train(X, y, remaining, batch_size=settings["batch_size"],
                               log_every=log_every, log=None if args.quiet else say,
                               on_epoch=on_epoch, optimizer=optimizer, validation=validation,
                               early_stopping=settings["early_stopping"])
        except DivergenceError as error:
            message = f"purebp: {error}"
            write(progress.clear, stderr)
            write(lambda: print(message, file=stderr), stderr)
            if args.checkpoint:
                save(args.checkpoint)
                write(lambda: print(f"purebp: the last finite state is in {shown_path(args.checkpoint)}",
                                    file=stderr), stderr)
            return 1
        finally:
            write(progress.clear, stderr)
        if args.checkpoint:
            save(args.checkpoint)
        if stop.signum:
            where = (f"checkpoint written to {shown_path(args.checkpoint)}; resume with:"
                     f" {resume_command(args)}" if args.checkpoint
                     else "nothing saved (no --checkpoint)")
            how = (f" ({stop.cause})" if stop.cause else "" if stop.signum == signal.SIGINT
                   else f" by {signal.Signals(stop.signum).name}")
            write(lambda: print(f"purebp: interrupted{how} after epoch"
                                f" {net.epochs_trained - 1}; {where}", file=stderr), stderr)
            return 128 + stop.signum
    if args.save:
        save(args.save)
    val_losses = net.history["val_loss"][-len(losses):] if validation and losses else []
    if losses and not args.quiet:
        say(plots.sparkline(losses))
        if val_losses:
            say(plots.sparkline(val_losses, label="validation loss"))
    if args.plot is not None:
        stopped_at = record.get("early_stopped")
        _plot(args.plot, net, X, y, losses, settings["data"], validation, val_losses,
              None if stopped_at is None else stopped_at["best_epoch"])
    if args.verbose:
        seconds = time.perf_counter() - started
        say(f"Trained {len(losses)} epochs in {seconds:.2f} s with the {net.last_path} code"
            f" ({_PATHS_SHOWN.get(str(net.last_path), 'no epoch to run')})")
    say(f"Final loss ({net.loss_name}): {net.loss(X, y):.6f}")
    if validation is not None:
        say(f"Validation loss ({net.loss_name}): {net.loss(*validation):.6f}")
    rows = y + (validation[1] if validation is not None else [])
    one_column = len(y[0]) == 1 and all(t in (0.0, 1.0) for (t,) in rows)
    one_hot_rows = all(sorted(row) == [0.0] * (len(row) - 1) + [1.0] for row in rows)
    if one_column or one_hot_rows:  # classification: accuracy means something
        parts = [("Accuracy", X, y)]
        if validation is not None:
            parts.append(("Validation accuracy", *validation))
        for name, X_part, y_part in parts:
            accuracy = net.accuracy(X_part, y_part)
            say(f"{name}: {100 * accuracy:.1f}% ({round(accuracy * len(X_part))} of"
                f" {len(X_part)})")
    if args.save and not args.quiet:
        say(f"Saved to {shown_path(args.save)}")
    if lost:  # the run is done, but its output was cut short
        return 128 + (_SIGPIPE if lost == ["EPIPE"] else _SIGHUP)
    return 0


#: Where each training path's code lives, for --verbose (purebp/docs/speed.md).
_PATHS_SHOWN = {
    "written-out": "the equations written out for this shape, purebp.fast.unrolled",
    "reference": "the reference's matrix arithmetic, purebp.fast.rows",
}


def resume_command(args: argparse.Namespace) -> str:
    """The command that continues a stopped run as it was going, ready to paste.

    --resume its checkpoint, to the same --epochs, writing the same
    checkpoint and outputs; each word quoted as a POSIX shell needs it.

    >>> args = argparse.Namespace(checkpoint="ck 1.json", epochs=50, checkpoint_every=None,
    ...                           save="m.json", plot=None, log_every=None, quiet=False)
    >>> print(resume_command(args))
    purebp train --resume 'ck 1.json' --epochs 50 --checkpoint 'ck 1.json' --save m.json
    """
    words = ["purebp", "train", "--resume", args.checkpoint, "--epochs", str(args.epochs),
             "--checkpoint", args.checkpoint]
    for flag, value in (("--checkpoint-every", args.checkpoint_every), ("--save", args.save),
                        ("--plot", args.plot), ("--log-every", args.log_every)):
        if value is not None:
            words += [flag, str(value)]
    if args.quiet:
        words.append("--quiet")
    return " ".join(shell_word(word) for word in words)


def shell_word(word: str) -> str:
    r"""Quote word for a POSIX shell; one with unprintable characters as bash's $'...'.

    So a pasted hint gives the same word back, and no raw control character
    reaches the terminal.

    >>> print(shell_word("ck 1.json"), shell_word("ck\x1b[31m.json"))
    'ck 1.json' $'ck\x1b[31m.json'
    """
    if word.isprintable():
        return shlex.quote(word)
    escaped = "".join(
        "\\\\" if c == "\\" else "\\'" if c == "'" else c if c.isprintable()
        else f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}" if ord(c) < 0x10000
        else f"\\U{ord(c):08x}" for c in word)
    return f"$'{escaped}'"


#: The files --plot DIR may write, in DIR.
PLOT_FILES = ("loss.svg", "decision-boundary.svg")


def _check_target(option: str, path: str) -> None:
    """Refuse a path a file cannot be written to with os.replace: a folder, a device, a FIFO."""
    if os.path.isdir(path):
        raise ValueError(f"{option} must be a file to write, got the folder {shown_path(path)}")
    if os.path.basename(path) in ("", ".", ".."):  # m.json/ or m.json/. would be a folder
        raise ValueError(f"{option} must be a file to write, got {shown_path(path)}, which"
                         " ends as a folder does")
    special = jsonfile.special_file(path)
    if special:
        raise ValueError(f"{option} must be a regular file or a new path, got"
                         f" {shown_path(path)}, {special}")


def _check_outputs(args: argparse.Namespace, data: str) -> None:
    """Refuse, before any work, an output path that could not be written at the end.

    A model file is written through a temporary file in its folder and
    os.replace, so its folder must exist and take new files, and the path
    must be a regular file or a new one (never a device or a FIFO, which
    os.replace would turn into a regular file); the --plot folder is created
    if missing, so its nearest existing ancestor must take new files, and
    the pictures it would hold (PLOT_FILES) must be writable files too.
    """
    if args.checkpoint_every is not None and not args.checkpoint:
        raise ValueError("--checkpoint-every must come with --checkpoint PATH, got no --checkpoint")
    for option, path in (("--save", args.save), ("--checkpoint", args.checkpoint)):
        if path is None:
            continue
        _check_target(option, path)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise ValueError(f"{option} {shown_path(path)}: its folder {shown_path(folder)}"
                             " does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ValueError(f"{option} {shown_path(path)}: its folder {shown_path(folder)}"
                             " is not writable")
        # A named data set is no file, even if a file of its name is here.
        if (_is_file(data) and os.path.exists(data) and os.path.exists(path)
                and os.path.samefile(data, path)):
            raise ValueError(f"{option} must not be the --data file, got {shown_path(path)}")
    if args.plot is not None:
        if os.path.exists(args.plot) and not os.path.isdir(args.plot):
            raise ValueError(f"--plot must be a folder, got the file {shown_path(args.plot)}")
        existing = os.path.abspath(args.plot)
        while not os.path.exists(existing):
            existing = os.path.dirname(existing)
        if not os.path.isdir(existing) or not os.access(existing, os.W_OK | os.X_OK):
            raise ValueError(f"--plot {shown_path(args.plot)}: {shown_path(existing)} cannot"
                             " take new files")
        for name in PLOT_FILES:
            _check_target(f"--plot {shown_path(args.plot)}: {name}",
                          os.path.join(args.plot, name))


def _plot(folder: str, net: Network, X: Matrix, y: Matrix, losses: List[float], data: str,
          validation: Optional[Tuple[Matrix, Matrix]] = None,
          val_losses: Optional[List[float]] = None, best_epoch: Optional[int] = None) -> None:
    """Write loss.svg and, for two inputs, decision-boundary.svg into folder.

    With validation data, loss.svg has the validation loss's curve beside
    the training loss's, and the decision boundary shows the validation
    points apart from the training points; ``best_epoch``: the epoch whose
    parameters early stopping kept.
    """
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise ValueError(f"--plot {shown_path(folder)}: cannot create it:"
                         f" {error.strerror or error}") from None
    first = net.epochs_trained - len(losses)
    x_values = list(range(first, first + len(losses)))
    if validation is None or not val_losses:
        chart = plots.line_chart(
            {net.loss_name: losses}, f"Training loss on {data} ({net.loss_name})", "epoch",
            f"{net.loss_name} (log scale)", log_y=True, x_values=x_values)
    else:
        chart = plots.line_chart(
            {"training loss": losses, "validation loss": val_losses},
            f"Training and validation loss on {data} ({net.loss_name})", "epoch",
            f"{net.loss_name} (log scale)", log_y=True, x_values=x_values)
    plots.write(os.path.join(folder, "loss.svg"), chart)
    if len(X[0]) == 2:
        title = f"Decision boundary on {data} after {net.epochs_trained} epochs"
        if best_epoch is not None:
            title += f" (early stopping: epoch {best_epoch}'s parameters)"
        plots.write(os.path.join(folder, "decision-boundary.svg"), plots.decision_boundary(
            net, X, y, title, validation=validation))


# -- --model: a layer list, trained as a purebp.layers Sequential --------------------------
#
# ``purebp train --model LAYERS`` takes the layer list as text (purebp.layers.spec: the
# layers by name with literal arguments, parsed, never run) or the name of a file holding
# it. The data is an image set (purebp.datasets.IMAGE_DATASETS: strokes) or any data set or
# CSV file the general run takes (then rows, for a model that starts with Linear). The run
# is bounded before it starts: from the shapes alone (the numbers one sample holds and its
# multiply-adds), then one sample's forward and backward, timed, must fit the budgets
# (purebp._limits). What the general network's run has and this one has not yet (--save,
# --checkpoint, --resume, --early-stopping), and the general network's own options, are
# refused with a message.

#: The options of the general network's run that a --model run does not take (yet).
REFUSED = ("layers", "activation", "output_activation", "init", "save", "checkpoint",
           "checkpoint_every", "resume", "early_stopping", "targets", "bits")


def read_model(text: str) -> str:
    """The layer list of --model: the text itself, or the contents of the file it names."""
    if os.path.isfile(text):
        with _limits.open_regular(text) as handle:
            data = handle.read(MAX_TEXT + 1)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"--model {shown_path(text)}: the file must be UTF-8 text of a layer"
                             f" list, got bytes that are not") from None
    return text


def _load(args: argparse.Namespace, classes_wanted: bool) -> Tuple[Tensor, List[List[float]], str]:
    """(X, y, what) for --data: an image set, or the rows of a data set or CSV file."""
    data = "strokes" if args.data is None else args.data
    given = {key: value for key, value in (("n", args.samples), ("noise", args.noise))
             if value is not None}
    if data in IMAGE_DATASETS:
        generator = IMAGE_DATASETS[data]
        accepted = inspect.signature(generator).parameters
        for key in given:
            if key not in accepted:
                raise ValueError(f"--{'samples' if key == 'n' else key} does not apply to"
                                 f" --data {data}")
        images, labels = generator(**given)
        return images, labels, data
    settings: Dict[str, Any] = {"data": data, "n": args.samples, "noise": args.noise,
                                "bits": None, "targets": None, "layers": None}
    X, y = load_data(settings, lambda key: "--samples" if key == "n" else f"--{key}")
    if classes_wanted and len(y[0]) == 1:
        classes = class_count(y)
        if classes < 2:
            raise ValueError("targets must hold at least two classes for --loss cross_entropy,"
                             " got only class 0")
        y = one_hot(y, classes)
    return X, y, str(data) if data in DATASETS else shown_path(str(data))


def _accuracy(loss: str, output: List[List[float]], y: List[List[float]]) -> Tuple[int, int]:
    """(right, all): the largest output where the largest target is; for one output, the
    side of the threshold (0 for logits, 0.5 for a prediction) matching the target's."""
    threshold = 0.0 if loss in ("bce", "cross_entropy") else 0.5
    right = 0
    for out, target in zip(output, y):
        if len(out) == 1:
            right += (out[0] > threshold) == (target[0] > 0.5)
        else:
            right += max(range(len(out)), key=out.__getitem__) == \
                max(range(len(target)), key=target.__getitem__)
    return right, len(output)


def run_model(args: argparse.Namespace, out: Optional[TextIO] = None,
              err: Optional[TextIO] = None) -> int:
    """Train the Sequential of --model's layer list; print the log, the final loss and
    accuracy. Returns 0, or 1 if training diverged."""
    stdout = sys.stdout if out is None else out
    for key in REFUSED:
        if getattr(args, key, None) not in (None, False):
            flag = "--" + key.replace("_", "-")
            raise ValueError(f"{flag} does not apply to --model (a layer list) yet; it is for"
                             f" the general network's run, got {flag}")
    data = "strokes" if args.data is None else args.data
    loss = args.loss or ("cross_entropy" if data in IMAGE_DATASETS else "mse")
    seed = 0 if args.seed is None else args.seed
    text = read_model(args.model)
    manual_seed(seed)  # the first weights come from the seed
    layers = parse_layers(text)
    if data in IMAGE_DATASETS:  # memory, before the images are made: ~40 bytes an entry
        samples = args.samples or int(inspect.signature(IMAGE_DATASETS[data]).parameters["n"].default)
        _limits.check("purebp train", samples * 64 * 40, 0.0,
                      f"{samples:,} images of 8 × 8 for --data {data}")
    X, y, what = _load(args, loss == "cross_entropy")
    model = Sequential(*layers, loss=loss, seed=seed)
    choice = args.optimizer or "sgd"
    settings = optimizer_settings(choice, {"lr": args.lr, "momentum": args.momentum,
                                           "beta1": args.beta1, "beta2": args.beta2,
                                           "eps": args.eps, "weight_decay": args.weight_decay})
    optimizer = build_optimizer(choice, settings)
    validation = None
    if args.val_split is not None:
        X, y, X_val, y_val = validation_split(X, y, args.val_split, seed)
        validation = (X_val, y_val)
    # Bounded before the work: from the shapes alone, the numbers one sample holds and the
    # multiply-adds it costs (at least 20 ns each); then one sample's step, timed.
    held, work = sizes_per_sample(layers, _tensor_shape(X[0]))
    batch = min(args.batch_size or len(X), len(X))
    _limits.check("purebp train", 40 * (len(X) * len(_flat_values(X[0])) + batch * held),
                  20e-9 * work * len(X) * max(args.epochs, 1),
                  f"{len(X):,} samples through {len(layers)} layers ({held:,} numbers and"
                  f" {work:,} multiply-adds a sample) for {args.epochs:,} epochs")
    started = time.perf_counter()
    try:
        probe = model.forward(X[:1])
    except ValueError as error:
        raise ValueError(f"--model: the data's samples do not fit the first layers: {error}") \
            from None
    if len(probe[0]) != len(y[0]):
        raise ValueError(f"--model must end with {len(y[0])} outputs (the targets of --data"
                         f" {what} have {len(y[0])} columns), got {len(probe[0])}")
    model.backward(model.loss_gradient(probe, y[:1]))
    per_sample = time.perf_counter() - started
    epochs = args.epochs
    _limits.check("purebp train", 0, per_sample * len(X) * epochs,
                  f"{len(X):,} samples through {len(layers)} layers for {epochs:,} epochs")
    manual_seed(seed)  # the same first weights again, the probe's changes gone
    model = Sequential(*parse_layers(text), loss=loss, seed=seed)
    if not args.quiet:
        print(f"Sequential({describe(model.layers)}) on {what}: {len(X)} samples"
              f"{'' if validation is None else f' and {len(validation[0])} for validation'},"
              f" loss {loss}, {optimizer!r}, batch size {args.batch_size or 'all'}, seed {seed}",
              file=stdout)
    log_every = args.log_every or max(1, epochs // 10)
    if args.plot is not None:  # made before training, so that a bad folder fails first
        os.makedirs(args.plot, exist_ok=True)
    try:
        losses = model.train(X, y, epochs, batch_size=args.batch_size, log_every=log_every,
                             log=None if args.quiet else (lambda line: print(line, file=stdout)),
                             optimizer=optimizer)
    except DivergenceError as error:
        print(f"purebp: error: {error}", file=sys.stderr if err is None else err)
        return 1
    model.eval()
    final = model.loss(model.forward(X), y)
    right, total = _accuracy(loss, model.forward(X), y)
    print(f"Final loss ({loss}): {final:.6f}", file=stdout)
    if validation is not None:
        output = model.forward(validation[0])
        print(f"Validation loss ({loss}): {model.loss(output, validation[1]):.6f}", file=stdout)
    print(f"Accuracy: {100 * right / total:.1f}% ({right} of {total})", file=stdout)
    if validation is not None:
        right, total = _accuracy(loss, model.forward(validation[0]), validation[1])
        print(f"Validation accuracy: {100 * right / total:.1f}% ({right} of {total})",
              file=stdout)
    if args.plot is not None:
        for name in _plot_model(args.plot, model, X, losses, what):
            print(f"wrote {name}", file=stdout)
    return 0 if math.isfinite(final) and losses else 1


def _tensor_shape(t: Tensor) -> Tuple[int, ...]:
    shape = []
    while isinstance(t, (list, tuple)) and t:
        shape.append(len(t))
        t = t[0]
    return tuple(shape)


def _flat_values(t: Tensor) -> List[float]:
    from purebp.layers.tensor import flat
    return flat(t)


def _plot_model(folder: str, model: Sequential, X: Tensor, losses: List[float],
                what: str) -> List[str]:
    """Write the loss curve, and for each Conv2d its filters and the first sample's feature
    maps (in evaluation mode), as SVG files in ``folder``; return their paths."""
    from purebp.layers import Conv2d

    written = []
    path = os.path.join(folder, "loss.svg")
    plots.write(path, plots.line_chart({"training": losses}, f"Training loss on {what}",
                                       "epoch", "loss (log scale)"))
    written.append(path)
    convs = [(k, layer) for k, layer in enumerate(model.layers) if isinstance(layer, Conv2d)]
    if convs:
        maps = [(f"{k}.weight[{o}][{c}]", layer.weight[o][c]) for k, layer in convs
                for o in range(layer.out_channels) for c in range(layer.in_channels)]
        path = os.path.join(folder, "filters.svg")
        plots.write(path, plots.heat_maps(maps, "The learned filters", "each kernel, one"
                                          " colour scale: orange < 0 < blue"))
        written.append(path)
        sample = X[:1]
        feature = [(f"input[{c}]", plane) for c, plane in enumerate(sample[0])]
        out = sample
        for k, layer in enumerate(model.layers):
            out = layer.forward(out)
            if isinstance(out[0], list) and isinstance(out[0][0], list) and \
                    isinstance(out[0][0][0], list):
                feature += [(f"after {k} {type(layer).__name__}[{c}]", plane)
                            for c, plane in enumerate(out[0])]
        path = os.path.join(folder, "feature-maps.svg")
        plots.write(path, plots.heat_maps(feature, f"Feature maps of the first sample of {what}",
                                          "each layer's output channels, in evaluation mode"))
        written.append(path)
    return written
