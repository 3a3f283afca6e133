"""``purebp explain``: one training step, every equation with its numbers.

The step is purebp.study.explain's; this module picks the network and batch
(the tutorial's XOR network by default, another from --layers and the
network options, or a test-vector case from --case), the rule of the step
(gradient descent with --lr, or --optimizer with its options), takes the
--step − 1 steps before the one explained, and prints the result.

The optimizer options mean what they mean for ``purebp train``: --optimizer
sgd is SGD(lr) (plain gradient descent, with --weight-decay if given),
momentum is SGD with momentum 0.9, nesterov the same with nesterov=True,
rmsprop, adam and adamw are RMSprop, Adam and AdamW; every argument not given
is torch.optim's default (AdamW's weight_decay 0.01), and --lr defaults to
the tutorial's 0.1 for the SGD kinds and to torch's for the others (RMSprop
0.01, Adam and AdamW 0.001). An option the chosen optimizer does not take
(--beta1 with momentum) is refused, naming both.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, List, Optional, TextIO

from purebp import _checks, _limits
from purebp._checks import shown_path
from purebp.cli.options import (
    LR,
    SAMPLES,
    SEED,
    Parser,
    add_format,
    add_network_options,
    add_optimizer_options,
    build_optimizer,
    int_at_least,
    lr_defaults_shown,
    one_hot,
    optimizer_settings,
    spelling,
)
from purebp.datasets import DATASETS, IMAGE_DATASETS
from purebp.layers import Sequential, manual_seed
from purebp.layers.spec import parse_layers, sizes_per_sample
from purebp.network import Network
from purebp.optimizers import Optimizer
from purebp.oracle import vectors
from purebp.study import explain, explain_layers

DESCRIPTION = ("Print one full training step of a small network, every equation of"
               " 'purebp docs backprop' with the numbers put into it (with --optimizer, the"
               " optimizer's step as 'purebp docs optimizers' derives it). Default: the tutorial's"
               " XOR network (2-4-1 sigmoid, half_sse, seed 0, learning rate 0.1).")

class _Default(str):
    """A default that can be told from the same text given on the command line."""


#: --loss's default for the network, half_sse; --model's is cross_entropy for images, else
#: mse, unless --loss is given (even --loss half_sse): ``args.loss is DEFAULT_LOSS`` tells.
DEFAULT_LOSS = _Default("half_sse")

#: The settings of a step that --optimizer's options give (lr apart).
SETTINGS = ("momentum", "beta1", "beta2", "eps", "weight_decay")


def add_options(parser: Parser) -> None:
    """Add --case, --id, the network options, --seed, --lr, --data, --samples, --precision,
    --max-entries, --format."""
    parser.add_argument("--case", metavar="FILE", default=None,
                        help="explain a case from a test-vector file (format: purebp docs vectors)")
    parser.add_argument("--id", default=None,
                        help="with --case: which case, when the file holds several")
    add_network_options(parser, layers_shown="2,4,1", layers_old_names=("--network",))
    parser.set_defaults(layers=[2, 4, 1], activation="sigmoid", loss=DEFAULT_LOSS, init="normal")
    SEED.add(parser, 0)
    LR.add(parser, shown="0.1; with --optimizer: " + lr_defaults_shown())
    step = parser.add_argument_group("the optimizer (default: gradient descent with --lr)")
    add_optimizer_options(step)  # the same options, defaults and checks as purebp train's
    step.add_argument("--step", type=int_at_least(1), default=1, metavar="T",
                      help="explain step T: take T − 1 steps on the same samples first, silently"
                           " (default 1; the bias corrections of adam differ after the first)")
    parser.add_argument("--data", default=None, choices=tuple(DATASETS) + tuple(IMAGE_DATASETS),
                        help="data set whose first --samples rows are the batch (default xor;"
                             " strokes with --model)")
    parser.add_argument("--model", metavar="LAYERS|FILE", default=None,
                        help="explain a step of a purebp.layers Sequential instead: its layer"
                             " list, as for purebp train --model (e.g. \"Conv2d(1, 2, 3,"
                             " padding=1), ReLU(), MaxPool2d(2), Flatten(), Linear(32, 4)\" on"
                             " --data strokes); gradient descent with --lr, equations of"
                             " 'purebp docs layers'")
    SAMPLES.add(parser, 4, help="how many rows of the data set (default {default})")
    parser.add_argument("--precision", type=int_at_least(1, 17), default=4,
                        help="decimals shown (default 4)")
    parser.add_argument("--max-entries", type=int_at_least(1, explain.MAX_ENTRIES), default=32,
                        metavar="N",
                        help="show at most N entries of each matrix, from 1 to"
                             f" {explain.MAX_ENTRIES} (default 32; a note counts the rest)")
    add_format(parser, {"text": "terminal text", "md": "Markdown"})


#: Bytes the explanation's text may take per entry shown: each matrix of each
#: layer (weights, biases, sums, activations, deltas, gradients, new weights:
#: counted as 16 a layer, to be high) shows at most --max-entries entries of
#: precision + 24 characters, held as parts and as the joined text (4 times).
ENTRY_TEXT_BYTES = 4 * 24
MATRICES_A_LAYER = 16
#: What an optimizer adds: up to 9 lines an entry of each weight and bias
#: matrix (counted as 2 × 9 matrices a layer), and its state, up to three
#: flat lists of 32-byte floats, held three times (the optimizer, the
#: trace's copy, explain's copy).
OPTIMIZER_MATRICES_A_LAYER = 2 * 9
OPTIMIZER_BYTES_A_WEIGHT = 3 * 3 * 32


def check_budget(sizes: List[int], samples: int, max_entries: int, precision: int,
                 steps: int = 1, optimizer: bool = False) -> None:
    """Refuse, before the network is built, an explanation over the memory or time budget.

    Its network's forward and backward pass and ``steps`` steps (purebp._limits),
    an optimizer's state, and the text of the matrices it prints.
    """
    units, weights = _limits.counts(sizes)
    layers = len(sizes) - 1
    matrices = MATRICES_A_LAYER + OPTIMIZER_MATRICES_A_LAYER * optimizer
    entries = layers * matrices * min(max_entries, max(weights, units * samples))
    text = entries * (ENTRY_TEXT_BYTES + 4 * precision)
    state = OPTIMIZER_BYTES_A_WEIGHT * weights * optimizer
    steps_shown = f", after {steps - 1:,} steps" if steps > 1 else ""
    _limits.check("purebp explain",
                  _limits.network_bytes(samples, units, weights, layers) + state + text,
                  _limits.network_seconds(samples, weights, steps, layers),
                  f"{samples:,} samples through layers {','.join(map(str, sizes))}"
                  f" ({weights:,} weights){steps_shown}, showing up to {max_entries:,} entries"
                  f" a matrix")


def make_optimizer(args: argparse.Namespace, lr: Optional[float]) -> Optional[Optimizer]:
    """Return the optimizer --optimizer and its options ask for (None without --optimizer).

    As ``purebp train`` builds it (purebp.cli.options): an option the
    optimizer does not take is refused, naming both; a value the optimizer
    refuses (nesterov with --momentum 0) is refused with its reason, after
    the option's name. ``lr`` None: the choice's default.
    """
    given = {name: getattr(args, name) for name in SETTINGS}
    if args.optimizer is None:
        for name, value in given.items():
            if value is not None:
                raise ValueError(f"--optimizer must be given for --{name.replace('_', '-')},"
                                 " got none")
        return None
    return build_optimizer(args.optimizer, optimizer_settings(args.optimizer, {**given, "lr": lr}))


#: The most samples a --model step explains (its lines list every term before eliding).
MODEL_SAMPLES = 64


def run_model(args: argparse.Namespace, stream: TextIO) -> int:
    """Explain one SGD step of the Sequential of --model; return 0."""
    for name in ("case", "optimizer"):
        if getattr(args, name) is not None:
            raise ValueError(f"--{name} does not apply to --model (a layer list) yet, got"
                             f" --{name}")
    if args.step != 1:
        raise ValueError(f"--step does not apply to --model (a layer list) yet, got --step"
                         f" {args.step}")
    if args.samples > MODEL_SAMPLES:
        raise ValueError(f"--samples must be at most {MODEL_SAMPLES} with --model, got"
                         f" {args.samples}")
    data = args.data or "strokes"
    loss = (("cross_entropy" if data in IMAGE_DATASETS else "mse") if args.loss is DEFAULT_LOSS
            else args.loss)
    manual_seed(args.seed)
    model = Sequential(*parse_layers(train_text(args.model)), loss=loss, seed=args.seed)
    X: Any
    if data in IMAGE_DATASETS:
        X, y = IMAGE_DATASETS[data](args.samples, seed=args.seed)
    else:
        rows, y = DATASETS[data]()
        X, y = rows[:args.samples], y[:args.samples]
        if loss == "cross_entropy" and len(y[0]) == 1:
            y = one_hot(y, 2)
    shape, t = [], X[0]
    while isinstance(t, list) and t:
        shape.append(len(t))
        t = t[0]
    held, work = sizes_per_sample(model.layers, shape)
    _limits.check("purebp explain", 40 * len(X) * held, 20e-9 * work * len(X) * 2,
                  f"{len(X):,} samples through {len(model)} layers ({held:,} numbers and"
                  f" {work:,} multiply-adds a sample)")
    lr = 0.1 if args.lr is None else args.lr
    source = (f"{len(X)} images of {data}, seed {args.seed}" if data in IMAGE_DATASETS
              else f"the first {len(X)} rows of {data}")
    try:
        lines = explain_layers.explain_model(model, X, y, lr, args.precision,
                                             max_entries=args.max_entries)
    except ValueError as error:
        raise ValueError(f"--model on --data {data}: {error}") from None
    head = explain_layers.header_model(model, X, y, lr, source)
    print(explain.render(lines, head, args.format), end="", file=stream)
    return 0


def train_text(text: str) -> str:
    """The layer list of --model: the text itself, or the contents of the file it names."""
    import os

    if os.path.isfile(text):
        with _limits.open_regular(text) as handle:
            return handle.read(20_000).decode("utf-8", errors="replace")
    return text


def run(args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    """Print the explained step; return 0."""
    stream = sys.stdout if out is None else out
    if args.model is not None:
        return run_model(args, stream)
    if args.data is None:
        args.data = "xor"
    if args.data in IMAGE_DATASETS:
        raise ValueError(f"--data {args.data} is a set of images: it takes --model (a layer"
                         f" list with Conv2d), got none")
    if args.case is not None:
        cases = vectors.load(args.case)
        if args.id is not None:
            ids = [c["id"] for c in cases]
            cases = [c for c in cases if c["id"] == args.id]
            if not cases:
                listed = ", ".join(repr(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
                raise ValueError(f"--id: unknown case id {_checks._short_repr(args.id)} in"
                                 f" {shown_path(args.case)}; expected one of {listed}")
        elif len(cases) > 1:
            raise ValueError(f"--case {shown_path(args.case)} holds {len(cases)} cases;"
                             " pick one with --id")
        case = cases[0]
        if "op" in case:
            raise ValueError(f"--case {shown_path(args.case)}: case {case['id']!r} is a"
                             " per-operation case; explain steps through network cases only")
        spec = case["network"]
        check_budget(spec["sizes"], len(case["inputs"]), args.max_entries, args.precision,
                     args.step, args.optimizer is not None)
        net = Network(spec["sizes"], spec["activation"], spec["output_activation"],
                      spec["loss"], seed=0)
        net.weights = case["parameters"]["weights"]
        net.biases = case["parameters"]["biases"]
        X, y, lr = case["inputs"], case["targets"], case["learning_rate"]
        source = f"case {case['id']!r} of {shown_path(args.case)}"
    else:
        check_budget(args.layers, args.samples, args.max_entries, args.precision, args.step,
                     args.optimizer is not None)
        # An output activation of None is what the loss needs (Network decides).
        net = Network(args.layers, args.activation, args.output_activation, args.loss,
                      args.init, args.seed)
        X, y = DATASETS[args.data]()
        X, y = X[:args.samples], y[:args.samples]
        if args.loss == "cross_entropy" and len(y[0]) == 1 and net.sizes[-1] > 1:
            y = one_hot(y, net.sizes[-1])
        if len(X[0]) != net.sizes[0] or len(y[0]) != net.sizes[-1]:
            raise ValueError(f"{spelling(args, 'layers', '--layers')} must start with"
                             f" {len(X[0])} and end with {len(y[0])} ({args.data} has"
                             f" {len(X[0])} inputs and {len(y[0])} targets),"
                             f" got {','.join(map(str, args.layers))}")
        lr = 0.1 if args.lr is None else args.lr
        source = f"the first {len(X)} rows of {args.data}, seed {args.seed}"
    # With --optimizer: --lr, or the optimizer's default, never the case's.
    optimizer = make_optimizer(args, args.lr)
    for _ in range(args.step - 1):
        if optimizer is None:
            net.step(X, y, lr)
        else:
            net.step(X, y, optimizer=optimizer)
    print(explain.run(net, X, y, lr if optimizer is None else None, source, args.format,
                      args.precision, args.max_entries, optimizer=optimizer,
                      step=args.step)["text"], end="", file=stream)
    return 0
