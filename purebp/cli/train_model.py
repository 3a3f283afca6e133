"""``purebp train --model LAYERS``: train a purebp.layers Sequential from a layer list.

    purebp train --data strokes --model "Conv2d(1, 4, 3, padding=1), ReLU(), MaxPool2d(2),
                 Flatten(), Linear(64, 4)" --loss cross_entropy --optimizer adam --lr 0.02
                 --batch-size 16 --epochs 10

``--model`` takes the layer list as text (purebp.layers.spec: the layers by
name with literal arguments, parsed, never run) or the name of a file
holding it. The data is an image set (purebp.datasets.IMAGE_DATASETS:
strokes) or any data set or CSV file ``purebp train`` takes (then rows, for
a model that starts with Linear). The run is bounded before it starts: one
sample's forward and backward is timed, and the estimate for all of them
must fit the time budget (purebp._limits).

What the general network's run has and this one has not yet: --save,
--checkpoint, --resume, --plot, --early-stopping; those, and the general
network's own options (--layers, --activation, --output-activation,
--init), are refused with a message.
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import sys
import time
from typing import Any, Dict, List, Optional, TextIO, Tuple

from purebp import _limits
from purebp._checks import shown_path
from purebp.cli import train
from purebp.cli.options import build_optimizer, one_hot, optimizer_settings
from purebp.datasets import DATASETS, IMAGE_DATASETS, class_count
from purebp.errors import DivergenceError
from purebp.layers import Sequential, manual_seed
from purebp.layers.spec import MAX_TEXT, describe, parse_layers
from purebp.layers.tensor import Tensor

#: The options of the general network's run that a --model run does not take (yet).
REFUSED = ("layers", "activation", "output_activation", "init", "save", "checkpoint",
           "checkpoint_every", "resume", "plot", "early_stopping", "targets", "bits")


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
    X, y = train.load_data(settings, lambda key: "--samples" if key == "n" else f"--{key}")
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


def run(args: argparse.Namespace, out: Optional[TextIO] = None,
        err: Optional[TextIO] = None) -> int:
    """``purebp train``: the general network's run (purebp.cli.train), or with --model the
    Sequential of the layer list; print the log, the final loss and accuracy.

    Returns 0, or 1 if training diverged (and train.run's other codes for its runs).
    """
    if args.model is None:
        return train.run(args, out, err)
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
        X, y, X_val, y_val = train.validation_split(X, y, args.val_split, seed)
        validation = (X_val, y_val)
    # Bounded before the work: one sample's forward and backward, timed, times all of them.
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
    return 0 if math.isfinite(final) and losses else 1
