"""``purebp train``: train a ``Network`` on a named data set or a CSV file.

It prints the log and ends with the final loss and, for 0/1 or one-hot
targets, the accuracy. It saves (--save), checkpoints during training
(--checkpoint), resumes a checkpointed run bit for bit (--resume), draws the
loss curve and decision boundary (--plot), stops cleanly on the first Ctrl-C
(exit 130) and on divergence (exit 1). Mistakes raise ValueError, which
purebp.cli.app reports in one line (exit 2).
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import os
import signal
import sys
import time
from types import FrameType
from typing import Any, Callable, Dict, List, Optional, TextIO, Tuple, Union

from purebp import _checks
from purebp._checks import shown_path
from purebp._types import Matrix
from purebp.cli.options import (
    EPOCHS,
    LOG_EVERY,
    LR,
    PLOT,
    SAMPLES,
    SEED,
    Parser,
    add_network_options,
    add_quiet,
    int_at_least,
    one_hot,
    parse_non_negative,
    spelling,
)
from purebp.datasets import DATASETS, load_csv
from purebp.errors import DivergenceError
from purebp.files import model
from purebp.network import Network
from purebp.study import plots

DESCRIPTION = ("Train a fully-connected network by gradient descent and report"
               " its loss and accuracy. Ctrl-C stops at the end of the current"
               " epoch (and writes the --checkpoint, if given).")

#: The settings that define a training run, with their defaults, by the names
#: the checkpoint records them under. ``--resume`` takes all of them from the
#: checkpoint, so none may be given with it.
RUN_DEFAULTS: Dict[str, Any] = {
    "data": "xor", "targets": None, "n": None, "noise": None, "bits": None,
    "layers": None, "activation": "sigmoid", "output_activation": None,
    "loss": "half_sse", "init": "normal", "lr": 0.1, "batch_size": None, "seed": 0,
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
        help=f"a data set ({', '.join(DATASETS)}) or a CSV file of numbers (default xor)")
    data.add_argument(
        "--targets", type=int_at_least(1), default=None,
        help="for a CSV file only: how many of the last columns are targets (default 1)")
    SAMPLES.add(data, shown="200", old_names=("--n",),
                help="samples to generate for moons, circles, spirals (default {default})")
    data.add_argument("--noise", type=parse_non_negative, default=None,
                      help="noise level for moons, circles, spirals")
    data.add_argument("--bits", type=int_at_least(1), default=None,
                      help="input bits for parity (default 3)")
    add_network_options(parser.add_argument_group("network"), layers_shown="inputs,8,outputs")
    training = parser.add_argument_group("training")
    EPOCHS.add(training, 1000, help="train until this many epochs in all (default {default})")
    LR.add(training, shown="0.1")
    training.add_argument("--batch-size", type=int_at_least(1), default=None,
                          help="mini-batch size, with a seeded shuffle (default: full batch)")
    SEED.add(training, shown="0", help="seed for the weights and the shuffles (default {default})")
    LOG_EVERY.add(training, shown="a tenth of --epochs")
    add_quiet(training, "print only the final loss and accuracy (no log, no progress line)")
    files = parser.add_argument_group("saving and resuming")
    files.add_argument("--save", metavar="PATH", default=None,
                       help="write the trained model to PATH at the end (docs/model-format.md)")
    files.add_argument("--checkpoint", metavar="PATH", default=None,
                       help="write a checkpoint to PATH during training, on Ctrl-C and at the end")
    files.add_argument("--checkpoint-every", type=int_at_least(1), default=None, metavar="K",
                       help="with --checkpoint: write it every K epochs (default: a tenth of"
                            " --epochs)")
    PLOT.add(files, help="write SVG pictures to DIR: the loss curve and, for two inputs,"
                         " the decision boundary")
    files.add_argument("--resume", metavar="PATH", default=None,
                       help="continue the run saved in a checkpoint (or --save file) until"
                            " --epochs in all; its settings come from the file")


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
        raise ValueError(f"--data: unknown data set {_checks._short_repr(data)}; expected one of"
                         f" {', '.join(DATASETS)}, or a .csv file")
    return load_csv(data, targets=settings["targets"] or 1)


def _data_digest(X: Matrix, y: Matrix) -> str:
    """A fingerprint of the training data, to check a resumed run trains on the same."""
    return hashlib.sha256(repr((X, y)).encode()).hexdigest()


def _settings(args: argparse.Namespace) -> Dict[str, Any]:
    """The run settings: those given, else the defaults; with --resume, the checkpoint's."""
    given = {key: getattr(args, OPTION_OF.get(key, key)) for key in RUN_DEFAULTS}
    given = {key: value for key, value in given.items() if value is not None}
    if args.resume is None:
        return {key: given.get(key, default) for key, default in RUN_DEFAULTS.items()}
    if given:
        raise ValueError(f"{_option(args, next(iter(given)))}: --resume takes the data, network"
                         " and training settings from the checkpoint; leave it out")
    return {}


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


class CtrlC:
    """While active, the first Ctrl-C only asks training to stop after the current epoch."""

    def __init__(self, err: TextIO) -> None:
        self.err, self.requested = err, False
        self.previous: _Handler = None

    def _handle(self, signum: int, frame: Optional[FrameType]) -> None:
        if self.requested:  # a second Ctrl-C: stop at once
            raise KeyboardInterrupt
        self.requested = True
        print("\npurebp: stopping at the end of this epoch (Ctrl-C again to stop at once)",
              file=self.err)

    def __enter__(self) -> CtrlC:
        try:
            self.previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: leave Ctrl-C alone
            self.previous = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def run(args: argparse.Namespace, out: Optional[TextIO] = None,
        err: Optional[TextIO] = None) -> int:
    """Train as ``args`` say; print the log, then the final loss and accuracy.

    Returns the exit code: 0 done, 1 training diverged, 130 stopped by Ctrl-C.
    """
    stdout = sys.stdout if out is None else out
    stderr = sys.stderr if err is None else err
    settings = _settings(args)
    if args.resume is not None:
        net, saved = model.read(args.resume, Network)
        if not saved or not isinstance(saved.get("settings"), dict):
            raise ValueError(f"--resume {shown_path(args.resume)}: the file has no run settings;"
                             " only files written by purebp train can be resumed")
        settings = dict(RUN_DEFAULTS, **saved["settings"])
        _check_outputs(args, str(settings["data"]))
        X, y = load_data(settings, lambda key: _option(None, key))
        if net.loss_name == "cross_entropy" and len(y[0]) == 1 and net.sizes[-1] > 1:
            y = one_hot(y, net.sizes[-1])
        digest = _data_digest(X, y)
        if digest != saved.get("data_sha256"):
            raise ValueError(f"--resume {shown_path(args.resume)}: the data is not what the run"
                             f" started with (has {shown_path(str(settings['data']))} changed?)")
    else:
        _check_outputs(args, str(settings["data"]))
        X, y = load_data(settings, lambda key: _option(args, key))
        layers = settings["layers"] or [len(X[0]), 8, len(y[0])]
        if settings["loss"] == "cross_entropy" and len(y[0]) == 1 and layers[-1] > 1:
            y = one_hot(y, layers[-1])
        if layers[0] != len(X[0]) or layers[-1] != len(y[0]):
            raise ValueError(
                f"--layers must start with {len(X[0])} and end with {len(y[0])} (the data has"
                f" {len(X[0])} inputs and {len(y[0])} targets), got {','.join(map(str, layers))}")
        # An output activation of None is what the loss needs (Network decides).
        net = Network(layers, settings["activation"], settings["output_activation"],
                      settings["loss"], settings["init"], settings["seed"])
        digest = _data_digest(X, y)
    record = {"settings": settings, "data_sha256": digest}
    log_every = args.log_every or max(1, args.epochs // 10)
    every = args.checkpoint_every or max(1, args.epochs // 10)
    remaining = max(0, args.epochs - net.epochs_trained)
    progress = Progress(stderr, args.epochs, net.epochs_trained, enabled=not args.quiet)

    def say(line: str) -> None:
        progress.clear()
        print(line, file=stdout)

    def save(path: str) -> None:
        model.save(net, path, record)

    if not args.quiet:
        start = f"resuming {args.resume} at epoch {net.epochs_trained}: " if args.resume else ""
        say(f"{start}{net} on {settings['data']}: {len(X)} samples, lr {settings['lr']},"
            f" batch size {settings['batch_size'] or 'full'}, seed {settings['seed']}")
    with CtrlC(stderr) as ctrl_c:
        def on_epoch(_: Network, epoch: int, loss: float) -> bool:
            progress.update(epoch, loss)
            if args.checkpoint and (epoch + 1) % every == 0:
                save(args.checkpoint)
            return not ctrl_c.requested

        try:
            losses = net.train(X, y, remaining, settings["lr"], batch_size=settings["batch_size"],
                               log_every=log_every, log=None if args.quiet else say,
                               on_epoch=on_epoch)
        except DivergenceError as error:
            progress.clear()
            print(f"purebp: {error}", file=stderr)
            if args.checkpoint:
                save(args.checkpoint)
                print(f"purebp: the last finite state is in {args.checkpoint}", file=stderr)
            return 1
        finally:
            progress.clear()
    if args.checkpoint:
        save(args.checkpoint)
    if ctrl_c.requested:
        where = (f"checkpoint written to {args.checkpoint}; resume with: purebp train --resume"
                 f" {args.checkpoint} --epochs {args.epochs}" if args.checkpoint
                 else "nothing saved (no --checkpoint)")
        print(f"purebp: interrupted after epoch {net.epochs_trained - 1}; {where}", file=stderr)
        return 130
    if args.save:
        save(args.save)
    if losses and not args.quiet:
        say(plots.sparkline(losses))
    if args.plot:
        _plot(args.plot, net, X, y, losses, settings["data"])
    say(f"Final loss ({net.loss_name}): {net.loss(X, y):.6f}")
    one_column = len(y[0]) == 1 and all(t in (0.0, 1.0) for (t,) in y)
    one_hot_rows = all(sorted(row) == [0.0] * (len(row) - 1) + [1.0] for row in y)
    if one_column or one_hot_rows:  # classification: accuracy means something
        accuracy = net.accuracy(X, y)
        say(f"Accuracy: {100 * accuracy:.1f}% ({round(accuracy * len(X))} of {len(X)})")
    if args.save and not args.quiet:
        say(f"Saved to {args.save}")
    return 0


def _check_outputs(args: argparse.Namespace, data: str) -> None:
    """Refuse, before any work, an output path that could not be written at the end.

    A model file is written through a temporary file in its folder and
    os.replace, so its folder must exist and take new files; the --plot
    folder is created if missing, so its nearest existing ancestor must.
    """
    if args.checkpoint_every is not None and not args.checkpoint:
        raise ValueError("--checkpoint-every must come with --checkpoint PATH, got no --checkpoint")
    for option, path in (("--save", args.save), ("--checkpoint", args.checkpoint)):
        if not path:
            continue
        if os.path.isdir(path):
            raise ValueError(f"{option} must be a file to write, got the folder {shown_path(path)}")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise ValueError(f"{option} {shown_path(path)}: its folder {shown_path(folder)}"
                             " does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ValueError(f"{option} {shown_path(path)}: its folder {shown_path(folder)}"
                             " is not writable")
        if os.path.exists(data) and os.path.exists(path) and os.path.samefile(data, path):
            raise ValueError(f"{option} must not be the --data file, got {shown_path(path)}")
    if args.plot:
        if os.path.exists(args.plot) and not os.path.isdir(args.plot):
            raise ValueError(f"--plot must be a folder, got the file {shown_path(args.plot)}")
        existing = os.path.abspath(args.plot)
        while not os.path.exists(existing):
            existing = os.path.dirname(existing)
        if not os.path.isdir(existing) or not os.access(existing, os.W_OK | os.X_OK):
            raise ValueError(f"--plot {shown_path(args.plot)}: {shown_path(existing)} cannot"
                             " take new files")


def _plot(folder: str, net: Network, X: Matrix, y: Matrix, losses: List[float],
          data: str) -> None:
    """Write loss.svg and, for two inputs, decision-boundary.svg into folder."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise ValueError(f"--plot {shown_path(folder)}: cannot create it:"
                         f" {error.strerror or error}") from None
    first = net.epochs_trained - len(losses)
    plots.write(os.path.join(folder, "loss.svg"), plots.line_chart(
        {net.loss_name: losses}, f"Training loss on {data} ({net.loss_name})", "epoch",
        f"{net.loss_name} (log scale)", log_y=True,
        x_values=list(range(first, first + len(losses)))))
    if len(X[0]) == 2:
        plots.write(os.path.join(folder, "decision-boundary.svg"), plots.decision_boundary(
            net, X, y, f"Decision boundary on {data} after {net.epochs_trained} epochs"))
