"""The training loop of the fast paths: the same bits as ``train``'s own loop.

``NeuralNetwork.train`` and ``Network.train`` (with ``fast=True``, the
default) hand their checked arguments to ``train`` here, which gets the
same numbers as their readable loops from one of two kernels with the
same signature, whichever ``choose`` finds faster for the network's shape
on this interpreter (``fast="written-out"`` or ``"reference"`` picks one):

  - purebp.fast.unrolled: the code written out for the network's shape;
  - purebp.fast.rows: the reference's matrix arithmetic, its products in
    the interpreter's fastest exact form.

Then:

  - between two epochs that must be reported (a log line, an ``on_epoch``
    call) it runs all the epochs in one call of the kernel, and
    brings the network's attributes up to date before each report and at
    the end, so callers see what the readable loop would show them;
  - if an epoch stops being finite, the network is left as it was at the
    start of that call and the readable loop (``train(..., fast=False)``)
    replays those epochs, so DivergenceError is raised by the same code, at
    the same epoch, with the same state;
  - ``net.last_path`` says which kernel ran.

A network taking part has ``epochs_trained``, ``train`` with a ``fast``
argument, and:

    _spec()                     its purebp.fast.unrolled.Spec
    _layers()                   (weights, biases): the matrices of every layer, in order
    _set_layers(weights, biases)
    _keep_forward(X, zs, activations)   what the last forward pass kept (activations
                                without X: the output of every layer)
and, for mini-batches (Network), ``rng``, ``_batches(n, batch_size)`` and
``_share(batch_loss, size, n)``.
"""

from __future__ import annotations

import math
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

from purebp import training
from purebp._types import Matrix
from purebp.fast import rows as reference
from purebp.fast import unrolled
from purebp.optimizers import SGD, Optimizer

#: Where the written-out code trains faster than the reference's arithmetic
#: (purebp.fast.rows), measured per interpreter with scripts/bench.py and the
#: crossover table in purebp/docs/speed.md:
#:   - CPython: everywhere it covers (up to unrolled.MAX_WRITTEN_OUT weights
#:     and biases), 1.2× to 12× faster per epoch;
#:   - PyPy: up to PYPY_WRITTEN_OUT_UP_TO weights and biases with at most
#:     PYPY_BRANCHING_UNITS relu or leaky_relu units. PyPy's JIT compiles the
#:     loop over the samples as one trace, and a longer body (more weights),
#:     or one that branches one way or the other on every unit (relu's z > 0),
#:     makes it give up and interpret: then the reference, whose loops are
#:     short, is 2× to 7× faster.
PYPY_WRITTEN_OUT_UP_TO = 300
PYPY_BRANCHING_UNITS = 8

#: The activations whose code branches on the sign of z (for PyPy's rule).
_BRANCHING = ("relu", "leaky_relu")

#: One sample's row for the written-out code: its inputs, then its targets.
Row = Tuple[float, ...]


def train(net: Any, X: Matrix, y: Matrix, epochs: int, step: float | Optimizer,
          batch_size: Optional[int], log_every: int, log: training.Log,
          on_epoch: training.OnEpoch, watch: Optional[training.Validation] = None,
          fast: bool | str = True) -> List[float]:
    """Train ``net`` for ``epochs`` epochs on checked X and y; return each epoch's loss.

    ``step`` is a learning rate (plain gradient descent, as the tutorial's
    class trains) or an optimizer (purebp.optimizers, as Network trains).
    Plain gradient descent, SGD(lr) included, runs the step p − lr·g
    written out; any other optimizer's step is written out from its
    ``code()``, the same expressions as its ``update``, so its bits are the
    readable loop's.

    ``fast`` is True (the path ``choose`` picks) or the name of a path,
    "written-out" or "reference" (the caller checked that it can run);
    ``net.last_path`` says which ran.
    """
    spec = net._spec()
    path = choose(spec) if fast is True else str(fast)
    net.last_path = path
    return _train(net, path, spec, X, y, epochs, step, batch_size, log_every, log,
                  on_epoch, watch)


def choose(spec: unrolled.Spec) -> str:
    """Return the path that trains a network of this spec faster on this interpreter.

    "written-out" (purebp.fast.unrolled) if it covers the spec, and on PyPy
    only for networks small enough (PYPY_WRITTEN_OUT_UP_TO) with few
    branching units (PYPY_BRANCHING_UNITS); else "reference" (purebp.fast.rows).
    """
    if not unrolled.supported(spec):
        return "reference"
    if sys.implementation.name == "pypy":
        depth = len(spec.sizes) - 1
        names = [spec.output_activation if l == depth - 1 else spec.activation
                 for l in range(depth)]
        branching = sum(units for units, name in zip(spec.sizes[1:], names)
                        if name in _BRANCHING)
        small = unrolled.parameter_count(spec.sizes) <= PYPY_WRITTEN_OUT_UP_TO
        return "written-out" if small and branching <= PYPY_BRANCHING_UNITS else "reference"
    return "written-out"


def _train(net: Any, path: str, spec: unrolled.Spec, X: Matrix, y: Matrix, epochs: int,
           step: float | Optimizer, batch_size: Optional[int], log_every: int,
           log: training.Log, on_epoch: training.OnEpoch,
           watch: Optional[training.Validation]) -> List[float]:
    """``train`` on the path given: "written-out" or "reference"."""
    rate = _plain_rate(step)
    optimizer = step if isinstance(step, Optimizer) else None
    take: Any = rate
    if path == "reference":
        take = step if rate is None else rate
        kernel = reference.kernel(spec)
    else:
        if rate is None and optimizer is not None:
            spec = spec._replace(step=optimizer.code())
            take = optimizer
        kernel = unrolled.compiled(spec)
    rows = [tuple(x) + tuple(t) for x, t in zip(X, y)]
    losses: List[float] = []
    remaining = epochs
    while remaining:
        epoch = net.epochs_trained
        # As many epochs per call as can run before the next report (log line,
        # on_epoch, validation): one call per epoch made the tutorial's run 2.3× slower.
        count = remaining if on_epoch is None and batch_size is None and watch is None else 1
        if log is not None:
            count = min(count, -epoch % log_every + 1)
        saved = None if optimizer is None else optimizer.copy()
        if take is optimizer and optimizer is not None and path == "written-out":
            optimizer.prepare(len(flat_parameters(net)))  # its buffers, for the written-out code
        steps = (_epochs(net, kernel, X, rows, take, count, losses)
                 if batch_size is None else
                 _batches(net, kernel, X, rows, take, batch_size, losses))
        if steps:
            net.epochs_trained += count
            if optimizer is not None and rate is not None:
                # the written-out step: count it, and fix the state's size as update would
                optimizer.size = unrolled.parameter_count(spec.sizes)
                optimizer.state["step"] += steps
        else:
            # Not finite somewhere: the readable loop finds the epoch and raises.
            if saved is not None and optimizer is not None:
                optimizer.take_state(saved)
            losses += _readable(net, X, y, count, step, batch_size, log_every, None, None, None)
        remaining -= count
        if not training.report(net, net.epochs_trained - 1, losses[-1], log_every, log, on_epoch,
                               watch):
            break
    return losses


def _plain_rate(step: float | Optimizer) -> Optional[float]:
    """The learning rate if ``step`` is plain gradient descent, p ← p − lr·g; else None."""
    if isinstance(step, Optimizer):
        plain = isinstance(step, SGD) and not step.momentum and not step.weight_decay
        return step.lr if plain else None
    return step


def _readable(net: Any, X: Matrix, y: Matrix, epochs: int, step: float | Optimizer,
              batch_size: Optional[int], log_every: int, log: training.Log,
              on_epoch: training.OnEpoch, watch: Optional[training.Validation]) -> List[float]:
    """Run the network's own readable loop: ``net.train(..., fast=False)``."""
    path = net.last_path
    options: Dict[str, Any] = {} if batch_size is None else {"batch_size": batch_size}
    if isinstance(step, Optimizer):
        options["optimizer"] = step
    if watch is not None:
        options.update(validation=(watch.X, watch.y), early_stopping=watch.early_stopping)
    rate = None if isinstance(step, Optimizer) else step
    try:
        losses: List[float] = net.train(X, y, epochs, rate, log_every=log_every, log=log,
                                        on_epoch=on_epoch, fast=False, **options)
    finally:
        net.last_path = path  # the fast path ran; the readable loop only replayed its end
    return losses


def _epochs(net: Any, kernel: Any, X: Matrix, rows: List[Row], take: Any,
            count: int, losses: List[float]) -> int:
    """Run ``count`` full-batch epochs written out; return the steps, 0 (nothing changed) if one diverged.

    ``take`` is the learning rate, or the optimizer's ``update`` (then the
    caller puts the optimizer's state back on divergence).
    """
    kept: List[Any] = []
    start = len(losses)
    flat = kernel(rows, flat_parameters(net), take, count, losses, kept)
    if flat is None:
        del losses[start:]  # the readable loop will append them again as it replays
        return 0
    set_flat_parameters(net, flat)
    keep_forward(net, X, kept)
    return count


def _batches(net: Any, kernel: Any, X: Matrix, rows: List[Row], take: Any,
             batch_size: int, losses: List[float]) -> int:
    """Run one mini-batch epoch written out, with ``Network._epoch``'s batches and loss.

    Returns the steps taken, or 0 if it diverged; the network, its generator
    included, is then unchanged.
    """
    rng_state = net.rng.getstate()
    flat: Optional[List[float]] = flat_parameters(net)
    loss = 0.0
    kept: List[Any] = []
    batches = net._batches(len(rows), batch_size)
    for batch in batches:
        batch_losses: List[float] = []
        flat = kernel([rows[i] for i in batch], flat, take, 1, batch_losses,
                      kept if batch is batches[-1] else None)
        if flat is None:
            net.rng.setstate(rng_state)
            return 0
        loss += net._share(batch_losses[0], len(batch), len(rows))
    if flat is None or not math.isfinite(loss):  # finite batches can add up to an overflow
        net.rng.setstate(rng_state)
        return 0
    set_flat_parameters(net, flat)
    keep_forward(net, [X[i] for i in batches[-1]], kept)
    losses.append(loss)
    return len(batches)


# -- between the network's matrices and the written-out code's flat list ------


def flat_parameters(net: Any) -> List[float]:
    """Return every weights[l] row by row, then every biases[l]: the written-out code's order."""
    weights, biases = net._layers()
    return ([w for W in weights for row in W for w in row]
            + [b for B in biases for b in B[0]])


def set_flat_parameters(net: Any, flat: Sequence[float]) -> None:
    """Give ``net`` the parameters of a flat list in ``flat_parameters``' order."""
    weights, biases = reference.split(flat, tuple(net._spec().sizes))
    net._set_layers(weights, [[b] for b in biases])  # each bias a 1 × n matrix


def keep_forward(net: Any, X: Matrix, kept: List[Any]) -> None:
    """Keep the forward pass the kernel kept: the written-out code's per sample
    (z0, a1, z1, a2, ...), or the rows kernel's one ForwardPass of whole matrices."""
    if len(kept) == 1 and isinstance(kept[0], reference.ForwardPass):
        net._keep_forward(X, kept[0].zs, kept[0].activations)
        return
    depth = len(net._spec().sizes) - 1
    zs = [[list(sample[2 * l]) for sample in kept] for l in range(depth)]
    activations = [[list(sample[2 * l + 1]) for sample in kept] for l in range(depth)]
    net._keep_forward(X, zs, activations)
