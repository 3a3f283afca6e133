"""The commands beyond the demo: train, vanishing, vectors and check.

    purebp train       trains a ``Network`` on a named data set (purebp.datasets)
                       or a CSV file, prints the log, and ends with the loss and,
                       for 0/1 targets, the accuracy
    purebp vanishing   prints the gradient norm of every layer of a deep network
                       at initialisation, for several activation / init pairs:
                       the tutorial's "vanishing and exploding gradients", in numbers
    purebp vectors     writes the test-vector suite (purebp.vectors) to a folder
    purebp check       compares another implementation's results with test vectors
                       (purebp.oracle): exit 0 all pass, 1 some fail, 2 unusable input

``purebp.cli.app`` dispatches here; errors propagate as ValueError or
TypeError, which it turns into one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import os
import signal
import sys
import time
from typing import Any, Dict, List, Tuple

from purebp.activations import ACTIVATIONS
from purebp.activations import NAMES as ACTIVATION_NAMES
from purebp.cli.app import Parser, int_at_least, parse_non_negative, parse_seed
from purebp.datasets import DATASETS, load_csv
from purebp.errors import DivergenceError
from purebp.files import model as persistence
from purebp.losses import LOSSES
from purebp.network import INITS, Network
from purebp.study import plots, vanishing

Matrix = List[List[float]]


def _layers(text: str) -> List[int]:
    """Parse '2,16,16,1' into [2, 16, 16, 1]."""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected sizes separated by commas like 2,16,1, got {text!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected at least two sizes, each at least 1, got {text!r}")
    return sizes


def build_parser(command: str) -> argparse.ArgumentParser:
    """Return the argument parser of ``purebp COMMAND``."""
    return {"train": _train_parser, "vanishing": _vanishing_parser,
            "vectors": _vectors_parser, "check": _check_parser,
            "explain": _explain_parser}[command]()


# -- purebp train --------------------------------------------------------------


#: The settings that define a training run, with their defaults. ``--resume``
#: takes all of them from the checkpoint, so none may be given with it.
RUN_DEFAULTS = {
    "data": "xor", "targets": None, "n": None, "noise": None, "bits": None,
    "layers": None, "activation": "sigmoid", "output_activation": None,
    "loss": "half_sse", "init": "normal", "lr": 0.1, "batch_size": None, "seed": 0,
}


def _network_options(group, with_defaults: bool) -> None:
    """Add --activation, --output-activation, --loss and --init (train and explain).

    ``purebp train`` leaves the defaults out (None) so that it can tell what
    was given, which --resume refuses; it fills them in from RUN_DEFAULTS.
    """
    def default(value):
        return value if with_defaults else None

    group.add_argument("--activation", choices=tuple(ACTIVATIONS), default=default("sigmoid"),
                       help="hidden activation (default sigmoid)")
    group.add_argument("--output-activation", choices=ACTIVATION_NAMES, default=None,
                       help="output activation (default: the hidden one, or what the loss needs)")
    group.add_argument("--loss", choices=tuple(LOSSES), default=default("half_sse"),
                       help="loss (default half_sse, the tutorial's)")
    group.add_argument("--init", choices=tuple(INITS), default=default("normal"),
                       help="weight initialisation (default normal, the tutorial's)")


def _train_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="purebp train",
        description="Train a fully-connected network by gradient descent and report"
                    " its loss and accuracy. Ctrl-C stops at the end of the current"
                    " epoch (and writes the --checkpoint, if given).",
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data", default=None, metavar="NAME|FILE",
        help=f"a data set ({', '.join(DATASETS)}) or a CSV file of numbers (default xor)")
    data.add_argument(
        "--targets", type=int_at_least(1), default=None,
        help="for a CSV file only: how many of the last columns are targets (default 1)")
    data.add_argument("--n", type=int_at_least(1), default=None,
                      help="samples to generate for moons, circles, spirals (default 200)")
    data.add_argument("--noise", type=parse_non_negative, default=None,
                      help="noise level for moons, circles, spirals")
    data.add_argument("--bits", type=int_at_least(1), default=None,
                      help="input bits for parity (default 3)")
    model = parser.add_argument_group("network")
    model.add_argument(
        "--layers", type=_layers, default=None,
        help="layer sizes, input first, like 2,16,16,1 (default: inputs,8,outputs)")
    _network_options(model, with_defaults=False)
    run = parser.add_argument_group("training")
    run.add_argument("--epochs", type=int_at_least(0), default=1000,
                     help="train until this many epochs in all (default 1000)")
    run.add_argument("--lr", type=parse_non_negative, default=None,
                     help="learning rate, a finite number ≥ 0 (default 0.1)")
    run.add_argument("--batch-size", type=int_at_least(1), default=None,
                     help="mini-batch size, with a seeded shuffle (default: full batch)")
    run.add_argument("--seed", type=parse_seed, default=None,
                     help="seed for the weights and the shuffles (default 0)")
    run.add_argument("--log-every", type=int_at_least(1), default=None,
                     help="log every this many epochs (default: a tenth of --epochs)")
    run.add_argument("--quiet", action="store_true",
                     help="print only the final loss and accuracy (no log, no progress line)")
    files = parser.add_argument_group("saving and resuming")
    files.add_argument("--save", metavar="PATH", default=None,
                       help="write the trained model to PATH at the end (docs/model-format.md)")
    files.add_argument("--checkpoint", metavar="PATH", default=None,
                       help="write a checkpoint to PATH during training, on Ctrl-C and at the end")
    files.add_argument("--checkpoint-every", type=int_at_least(1), default=None, metavar="K",
                       help="with --checkpoint: write it every K epochs (default: a tenth of"
                            " --epochs)")
    files.add_argument("--plot", metavar="DIR", default=None,
                       help="write SVG pictures to DIR: the loss curve and, for two inputs,"
                            " the decision boundary")
    files.add_argument("--resume", metavar="PATH", default=None,
                       help="continue the run saved in a checkpoint (or --save file) until"
                            " --epochs in all; its settings come from the file")
    return parser


def load_data(args: argparse.Namespace) -> Tuple[Matrix, Matrix]:
    """Return (X, y) for --data: a generated data set by name, else a CSV file."""
    options = {"n": args.n, "noise": args.noise, "bits": args.bits, "targets": args.targets}
    if not isinstance(args.data, str):
        raise ValueError(f"--data must name a data set or a file, got {args.data!r}")
    given = {key: value for key, value in options.items() if value is not None}
    if args.data in DATASETS:
        generator = DATASETS[args.data]
        accepted = inspect.signature(generator).parameters
        for key in given:
            if key not in accepted:
                raise ValueError(f"--{key} does not apply to --data {args.data}")
        return generator(**given)
    given.pop("targets", None)
    if given:
        raise ValueError(f"--{next(iter(given))} applies to generated data sets only,"
                         f" not to the file {args.data!r}")
    if not args.data.lower().endswith(".csv"):
        raise ValueError(f"--data: unknown data set {args.data!r}; expected one of"
                         f" {', '.join(DATASETS)}, or a .csv file")
    return load_csv(args.data, targets=args.targets or 1)


def one_hot(y: Matrix, classes: int) -> Matrix:
    """Return one-hot rows for a column of class indices 0 … classes−1."""
    rows = []
    for i, (label,) in enumerate(y):
        if label != int(label) or not 0 <= label < classes:
            raise ValueError(
                f"targets: row {i} holds {label!r}; with one target column and"
                f" {classes} outputs, cross_entropy needs class indices 0 to {classes - 1}")
        rows.append([1.0 if k == int(label) else 0.0 for k in range(classes)])
    return rows


def _data_digest(X: Matrix, y: Matrix) -> str:
    """A fingerprint of the training data, to check a resumed run trains on the same."""
    return hashlib.sha256(repr((X, y)).encode()).hexdigest()


def _settings(args: argparse.Namespace) -> Dict[str, Any]:
    """The run settings: those given, else the defaults; with --resume, the checkpoint's."""
    given = {key: getattr(args, key) for key in RUN_DEFAULTS if getattr(args, key) is not None}
    if args.resume is None:
        return {key: given.get(key, default) for key, default in RUN_DEFAULTS.items()}
    if given:
        option = "--" + next(iter(given)).replace("_", "-")
        raise ValueError(f"{option}: --resume takes the data, network and training settings"
                         " from the checkpoint; leave it out")
    return {}


class Progress:
    """A single updating status line on a terminal: epoch, loss, speed, time left.

    It writes only when the stream is a terminal (redirected output stays
    clean), at most ten times a second, and ``clear()`` wipes it before other
    output is printed.
    """

    def __init__(self, stream, total: int, start: int, enabled: bool) -> None:
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


class CtrlC:
    """While active, the first Ctrl-C only asks training to stop after the current epoch."""

    def __init__(self, err) -> None:
        self.err, self.requested, self.previous = err, False, None

    def _handle(self, signum, frame) -> None:
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

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def run_train(args: argparse.Namespace, out=None, err=None) -> int:
    """Train as ``args`` say; print the log, then the final loss and accuracy.

    Returns the exit code: 0 done, 1 training diverged, 130 stopped by Ctrl-C.
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    settings = _settings(args)
    if args.resume is not None:
        net, run = persistence.read(args.resume, Network)
        if not run or not isinstance(run.get("settings"), dict):
            raise ValueError(f"--resume {args.resume}: the file has no run settings;"
                             " only files written by purebp train can be resumed")
        settings = dict(RUN_DEFAULTS, **run["settings"])
    X, y = load_data(argparse.Namespace(**settings))
    if args.resume is None:
        layers = settings["layers"] or [len(X[0]), 8, len(y[0])]
        if settings["loss"] == "cross_entropy" and len(y[0]) == 1 and layers[-1] > 1:
            y = one_hot(y, layers[-1])
        if layers[0] != len(X[0]) or layers[-1] != len(y[0]):
            raise ValueError(
                f"--layers {','.join(map(str, layers))}: the data has {len(X[0])} inputs and"
                f" {len(y[0])} targets, so the sizes must start with {len(X[0])}"
                f" and end with {len(y[0])}")
        output_activation = settings["output_activation"]
        if output_activation is None and settings["loss"] in ("bce", "cross_entropy"):
            output_activation = LOSSES[settings["loss"]].output_activation
        net = Network(layers, settings["activation"], output_activation, settings["loss"],
                      settings["init"], settings["seed"])
        digest = _data_digest(X, y)
    else:
        if net.loss_name == "cross_entropy" and len(y[0]) == 1 and net.sizes[-1] > 1:
            y = one_hot(y, net.sizes[-1])
        digest = _data_digest(X, y)
        if digest != run.get("data_sha256"):
            raise ValueError(f"--resume {args.resume}: the data is not what the run started"
                             f" with (has {settings['data']!r} changed?)")
    run = {"settings": settings, "data_sha256": digest}
    log_every = args.log_every or max(1, args.epochs // 10)
    every = args.checkpoint_every or max(1, args.epochs // 10)
    remaining = max(0, args.epochs - net.epochs_trained)
    progress = Progress(err, args.epochs, net.epochs_trained, enabled=not args.quiet)

    def say(line: str) -> None:
        progress.clear()
        print(line, file=out)

    def save(path: str) -> None:
        persistence.save(net, path, run)

    if not args.quiet:
        start = f"resuming {args.resume} at epoch {net.epochs_trained}: " if args.resume else ""
        say(f"{start}{net} on {settings['data']}: {len(X)} samples, lr {settings['lr']},"
            f" batch size {settings['batch_size'] or 'full'}, seed {settings['seed']}")
    with CtrlC(err) as ctrl_c:
        def on_epoch(_, epoch: int, loss: float) -> bool:
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
            print(f"purebp: {error}", file=err)
            if args.checkpoint:
                save(args.checkpoint)
                print(f"purebp: the last finite state is in {args.checkpoint}", file=err)
            return 1
        finally:
            progress.clear()
    if args.checkpoint:
        save(args.checkpoint)
    if ctrl_c.requested:
        where = (f"checkpoint written to {args.checkpoint}; resume with: purebp train --resume"
                 f" {args.checkpoint} --epochs {args.epochs}" if args.checkpoint
                 else "nothing saved (no --checkpoint)")
        print(f"purebp: interrupted after epoch {net.epochs_trained - 1}; {where}", file=err)
        return 130
    if args.save:
        save(args.save)
    if losses and not args.quiet:
        say(plots.sparkline(losses))
    if args.plot:
        _plot_training(args.plot, net, X, y, losses, settings["data"])
    say(f"Final loss ({net.loss_name}): {net.loss(X, y):.6f}")
    one_column = len(y[0]) == 1 and all(t in (0.0, 1.0) for (t,) in y)
    one_hot_rows = all(sorted(row) == [0.0] * (len(row) - 1) + [1.0] for row in y)
    if one_column or one_hot_rows:  # classification: accuracy means something
        accuracy = net.accuracy(X, y)
        say(f"Accuracy: {100 * accuracy:.1f}% ({round(accuracy * len(X))} of {len(X)})")
    if args.save and not args.quiet:
        say(f"Saved to {args.save}")
    return 0


def _plot_training(folder: str, net: Network, X: Matrix, y: Matrix, losses: List[float],
                   data: str) -> None:
    """Write loss.svg and, for two inputs, decision-boundary.svg into folder."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise ValueError(f"--plot {folder}: cannot create it: {error.strerror or error}") from None
    first = net.epochs_trained - len(losses)
    plots.write(os.path.join(folder, "loss.svg"), plots.line_chart(
        {net.loss_name: losses}, f"Training loss on {data} ({net.loss_name})", "epoch",
        f"{net.loss_name} (log scale)", log_y=True,
        x_values=list(range(first, first + len(losses)))))
    if len(X[0]) == 2:
        plots.write(os.path.join(folder, "decision-boundary.svg"), plots.decision_boundary(
            net, X, y, f"Decision boundary on {data} after {net.epochs_trained} epochs"))


# -- purebp vanishing ------------------------------------------------------------

def _configurations(text: str) -> List[Tuple[str, str]]:
    pairs = []
    for part in text.split(","):
        activation, _, init = part.partition(":")
        if activation not in ACTIVATIONS or init not in INITS:
            raise argparse.ArgumentTypeError(
                f"expected activation:init pairs like tanh:xavier (activations:"
                f" {', '.join(ACTIVATIONS)}; inits: {', '.join(INITS)}), got {part!r}")
        pairs.append((activation, init))
    return pairs


def _vanishing_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="purebp vanishing",
        description="Print the gradient norm of every layer of a deep network at"
                    " initialisation, for several activation:init pairs, on the moons"
                    " data with a sigmoid output and bce.",
    )
    parser.add_argument("--depth", type=int_at_least(1), default=10,
                        help="number of hidden layers (default 10)")
    parser.add_argument("--width", type=int_at_least(1), default=16,
                        help="units per hidden layer (default 16)")
    parser.add_argument("--samples", type=int_at_least(1), default=64,
                        help="moons samples in the batch (default 64)")
    parser.add_argument("--seed", type=parse_seed, default=0,
                        help="seed for the weights and the data (default 0)")
    parser.add_argument("--plot", metavar="DIR", default=None,
                        help="also write DIR/gradient-norms.svg")
    default = ",".join(f"{activation}:{init}" for activation, init in vanishing.CONFIGURATIONS)
    parser.add_argument("--configs", type=_configurations, default=list(vanishing.CONFIGURATIONS),
                        help=f"comma-separated activation:init pairs (default {default})")
    return parser


def run_vanishing(args: argparse.Namespace, out=None) -> None:
    """Print the per-layer gradient norms table."""
    out = sys.stdout if out is None else out
    norms = vanishing.experiment(args.configs, args.depth, args.width, args.samples, args.seed)
    names, columns = [name for name, _ in norms], [column for _, column in norms]
    cell = max(14, *(len(n) + 2 for n in names))
    print(f"Gradient norm ‖∂loss/∂W‖ per layer at initialisation: {args.depth} hidden"
          f" layers of {args.width}, sigmoid output, bce, {args.samples} moons samples,"
          f" seed {args.seed}", file=out)
    labels = [f"W{l}" for l in range(args.depth)] + [f"W{args.depth} (out)"]
    width = max(len(label) for label in labels + ["W0 / out"])
    print("layer".ljust(width) + "".join(n.rjust(cell) for n in names), file=out)
    for l, label in enumerate(labels):
        print(label.ljust(width) + "".join(f"{c[l]:.2e}".rjust(cell) for c in columns),
              file=out)
    def ratio(column: List[float]) -> str:
        value = vanishing.first_to_last(column)
        return "n/a" if value is None else f"{value:.1e}"  # n/a: every gradient is 0 (dead units)

    ratios = "".join(ratio(c).rjust(cell) for c in columns)
    print("W0 / out".ljust(width) + ratios, file=out)
    print("A ratio far below 1 means the first layers barely learn (vanishing);"
          " far above 1 or huge norms mean exploding gradients.", file=out)
    if args.plot:
        try:
            os.makedirs(args.plot, exist_ok=True)
        except OSError as error:
            raise ValueError(f"--plot {args.plot}: cannot create it: {error.strerror or error}") \
                from None
        safe = {name: [max(v, 1e-300) for v in c] for name, c in zip(names, columns)}
        plots.write(os.path.join(args.plot, "gradient-norms.svg"), plots.line_chart(
            safe, f"Gradient norm per layer at initialisation ({args.depth} hidden layers of"
                  f" {args.width})", "layer (0 = first weight matrix)", "‖∂loss/∂W‖ (log scale)"))


# -- purebp vectors ----------------------------------------------------------------


def _vectors_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="purebp vectors",
        description="Write the test-vector suite: the curated cases and N seeded random"
                    " ones, one JSON file per case (format: docs/vectors.md). Expected"
                    " values are computed with 50-digit decimals and rounded to float64.",
    )
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder to write into (created if missing)")
    parser.add_argument("--random", type=int_at_least(0), default=0, metavar="N",
                        help="how many random cases to add (default 0)")
    parser.add_argument("--seed", type=parse_seed, default=0,
                        help="seed of the random cases (default 0)")
    return parser


def run_vectors(args: argparse.Namespace, out=None) -> int:
    """Write the suite and say how many files went where."""
    from purebp.oracle import vectors

    out = sys.stdout if out is None else out
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise ValueError(f"--out {args.out}: exists and is not a folder")
    try:
        paths = vectors.write_suite(args.out, args.random, args.seed)
    except OSError as error:
        raise ValueError(f"--out {args.out}: cannot write: {error.strerror or error}") from None
    print(f"wrote {len(paths)} cases ({len(paths) - args.random} curated,"
          f" {args.random} random) to {args.out}", file=out)
    return 0


# -- purebp check ------------------------------------------------------------------


def _non_negative_int(text: str) -> int:
    return int_at_least(0)(text)


def _check_parser() -> argparse.ArgumentParser:
    from purebp.oracle.checker import POLICIES, QUANTITIES

    parser = Parser(
        prog="purebp check",
        description="Compare ACTUAL (another implementation's results) with EXPECTED"
                    " (test vectors), case by case and quantity by quantity. Exit 0 when"
                    " all pass, 1 when any fails, 2 when an input is unusable.",
    )
    parser.add_argument("expected", metavar="EXPECTED", help="a vector file or folder")
    parser.add_argument("actual", metavar="ACTUAL",
                        help="a results file or folder in the same format")
    parser.add_argument("--preset", choices=tuple(POLICIES), default="float64",
                        help="tolerance policy for the arithmetic checked (default float64)")
    parser.add_argument("--rtol", type=parse_non_negative, default=None,
                        help="relative tolerance, times each entry's scale (overrides the preset)")
    parser.add_argument("--atol", type=parse_non_negative, default=None,
                        help="absolute tolerance floor (overrides the preset)")
    parser.add_argument("--ulps", type=_non_negative_int, default=None,
                        help="also pass entries within this many units in the last place")
    parser.add_argument("--require", default="", metavar="Q1,Q2",
                        help="quantities that must be present, e.g. loss,gradients"
                             f" (from: {', '.join(QUANTITIES)})")
    parser.add_argument("--json", action="store_true",
                        help="print a machine-readable JSON report instead of the table")
    parser.add_argument("--failures-only", action="store_true",
                        help="list only the failing quantities in the table")
    return parser


def run_check(args: argparse.Namespace, out=None) -> int:
    """Check and print the report; return 0 (all pass) or 1 (some fail)."""
    from purebp.oracle import checker as oracle

    out = sys.stdout if out is None else out
    require = [r.strip() for r in args.require.split(",") if r.strip()]
    for r in require:
        if not any(q == r or q.startswith(r + ".") for q in oracle.QUANTITIES):
            raise ValueError(f"--require: unknown quantity {r!r}; expected some of"
                             f" {', '.join(oracle.QUANTITIES)}")
    pol = oracle.policy(args.preset, args.rtol, args.atol, args.ulps)
    report = oracle.check_files(args.expected, args.actual, pol, require)
    print(report.to_json() if args.json else report.table(args.failures_only), file=out)
    return 0 if report.passed else 1


# -- purebp explain -----------------------------------------------------------------


def _explain_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="purebp explain",
        description="Print one full training step of a small network, every equation of"
                    " docs/backprop.md with the numbers put into it. Default: the tutorial's"
                    " XOR network (2-4-1 sigmoid, half_sse, seed 0, learning rate 0.1).",
    )
    parser.add_argument("--case", metavar="FILE", default=None,
                        help="explain a case from a test-vector file (docs/vectors.md)")
    parser.add_argument("--id", default=None,
                        help="with --case: which case, when the file holds several")
    parser.add_argument("--network", type=_layers, default=[2, 4, 1], metavar="SIZES",
                        help="layer sizes, like 2,4,1 (default)")
    _network_options(parser, with_defaults=True)
    parser.add_argument("--seed", type=parse_seed, default=0, help="seed of the weights (default 0)")
    parser.add_argument("--lr", type=parse_non_negative, default=0.1,
                        help="learning rate (default 0.1)")
    parser.add_argument("--data", default="xor", choices=tuple(DATASETS),
                        help="data set whose first --samples rows are the batch (default xor)")
    parser.add_argument("--samples", type=int_at_least(1), default=4,
                        help="how many rows of the data set (default 4)")
    parser.add_argument("--precision", type=int_at_least(1), default=4,
                        help="decimals shown (default 4)")
    parser.add_argument("--format", choices=("text", "md"), default="text",
                        help="terminal text (default) or Markdown")
    return parser


def run_explain(args: argparse.Namespace, out=None) -> int:
    """Print the explained step."""
    from purebp.oracle import vectors
    from purebp.study import explain

    out = sys.stdout if out is None else out
    if args.precision > 17:
        raise ValueError(f"--precision: at most 17 digits, got {args.precision}")
    if args.case is not None:
        cases = vectors.load(args.case)
        if args.id is not None:
            cases = [c for c in cases if c["id"] == args.id]
            if not cases:
                raise ValueError(f"--id {args.id}: no such case in {args.case}")
        elif len(cases) > 1:
            raise ValueError(f"--case {args.case} holds {len(cases)} cases; pick one with --id")
        case = cases[0]
        spec = case["network"]
        net = Network(spec["sizes"], spec["activation"], spec["output_activation"],
                      spec["loss"], seed=0)
        net.weights = case["parameters"]["weights"]
        net.biases = case["parameters"]["biases"]
        X, y, lr = case["inputs"], case["targets"], case["learning_rate"]
        source = f"case {case['id']!r} of {args.case}"
    else:
        output = args.output_activation
        if output is None and args.loss in ("bce", "cross_entropy"):
            output = LOSSES[args.loss].output_activation
        net = Network(args.network, args.activation, output, args.loss, args.init, args.seed)
        X, y = DATASETS[args.data]()
        X, y = X[:args.samples], y[:args.samples]
        if args.loss == "cross_entropy" and len(y[0]) == 1 and net.sizes[-1] > 1:
            y = one_hot(y, net.sizes[-1])
        if len(X[0]) != net.sizes[0] or len(y[0]) != net.sizes[-1]:
            raise ValueError(f"--network {','.join(map(str, args.network))}: {args.data} has"
                             f" {len(X[0])} inputs and {len(y[0])} targets")
        lr = args.lr
        source = f"the first {len(X)} rows of {args.data}, seed {args.seed}"
    print(explain.run(net, X, y, lr, source, args.format, args.precision)["text"], end="",
          file=out)
    return 0
