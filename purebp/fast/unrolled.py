"""Training epochs written out as straight-line Python for one network shape.

This is where ``train`` gets its speed. The readable reference (``matmul``,
``apply`` and friends in ``Network._backpropagate`` and the tutorial's
``_backpropagate``) spends most of its time on Python's per-call and
per-list costs, not on arithmetic: on the tutorial's 2-4-1 network a
matrix is 4 numbers, and building it costs more than filling it. Here the
same equations are written out once per weight, as plain statements on
local variables, for the network's exact sizes, and compiled with
``exec``. On the tutorial's workload that is about 14× faster than the
reference and 4× faster than numpy (``scripts/bench.py``).

``source(spec)`` returns the code, which is meant to be read; for the
tutorial's network it is printed in purebp/docs/speed.md, and
``print(source(spec_for(net)))`` shows it for any network. Its names follow the
general network's equations (purebp.network), one scalar per entry:

    a0_i                 activations[0][n][i], input i of the current sample
    y_k                  target k of the current sample
    w{l}_{i}_{j}, b{l}_{j}    weights[l][i][j] and biases[l][0][j]
    z{l}_{j}, a{l+1}_{j}      zs[l][n][j] and activations[l+1][n][j]
    d{l}_{j}             deltas[l][n][j] = ∂loss/∂zs[l][n][j]
    gw{l}_{i}_{j}, gb{l}_{j}  the gradients, summed over the samples

and, for a softmax output with cross_entropy (purebp.activations.SOFTMAX_CODE,
purebp.losses.CROSS_ENTROPY_CODE; the names of purebp.losses._log_softmax_parts):

    top, u_k, u_sum      max(z), e^(z_k − top) and Σ_k u_k of the sample's output row
    m, others, log_rest  the first maximum's index, Σ_(j≠m) u_j and log1p(others)
    mass, row_loss, n    Σ_k y_k, the sample's loss and the samples in the batch

The code is bit-for-bit the reference's arithmetic: every sum is added in
the reference's order (a dot product from 0.0 up the index, a column sum
from the first row down, which starting from −0.0 reproduces exactly), and
every activation, derivative and loss is the expression the reference
evaluates. Tests (tests/test_fast_loop.py) hold ``train`` with and without
this module to identical bits over random shapes, data and settings.

The speed choices, each measured on the tutorial's workload (10,000 epochs,
CPython 3.11; this code takes 0.037 s, numpy 0.15 s):
    - one scalar local per weight and no list in the epoch loop: nothing is
      built, indexed or transposed (the reference matrix code: 0.53 s; the
      same equations as list comprehensions over whole columns: 0.15 s);
    - one pass per sample does forward, backward and the gradient sums, so
      no per-sample value is stored between the passes;
    - many epochs per call, between two reports (purebp.fast.loop): one call
      per epoch, with its flattening and unflattening, takes 0.085 s;
    - the divergence check is one sum per epoch, which is finite only when
      every term is, and goes term by term only when it is not (term by
      term every epoch: 0.039 s).

Softmax with cross_entropy is written out row by row: the softmax once the
output row's logits are all there, then the loss's parts, its entries summed
per row, and the output delta, each the expression purebp.activations and
purebp.losses evaluate (a term the reference skips, as the first maximum in
Σ_(j≠m) or a zero target, is added as −0.0, which leaves every float as it is).
It builds the row's logits as a tuple twice per sample, for max and index, as
the reference's ``max(row)`` and ``row.index(top)``; on [64, 32, 10], batch
32, training is 2.1× faster than the reference (0.63 s against 1.35 s).

What this module does not do: networks of more than ``MAX_WRITTEN_OUT``
weights and biases (purebp.fast.rows trains those, softmax ones too):
compiling grows with the code, to 0.3 s and some 50 MB at that size (1 s
and 110 MB with Adam's step; purebp.fast.cache keeps it on disk for the
next process), while the gain over purebp.fast.rows shrinks to about 1.5×
(116 against 180 ns per sample·weight for [30, 100, 9], batch 32, CPython
3.11: ``scripts/bench.py --crossover``). On PyPy the JIT does better with
the rows form for all but small networks (purebp.fast.loop.choose).
"""

from __future__ import annotations

import functools
import linecache
import math
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

from purebp.activations import ACTIVATIONS, SOFTMAX_CODE, RowStep, WrittenOut
from purebp.fast import cache
from purebp.losses import LOSSES
from purebp.losses import WrittenOut as LossWrittenOut
from purebp.optimizers import WrittenOut as OptimizerCode
from purebp.optimizers import sqrt_or_nan

#: The largest network (in weights and biases) that gets written-out code.
MAX_WRITTEN_OUT = 4096

#: An optimizer's functions, as locals of its written-out code (faster than globals).
_LOCAL_FUNCTIONS = ", sqrt=sqrt, sqrt_or_nan=sqrt_or_nan, max=max"

#: Terms per line in a written-out sum; longer lines are split (same order).
_TERMS_PER_LINE = 8

#: What the written-out code may call: the functions the written-out forms
#: of purebp.activations and purebp.losses name.
_NAMESPACE: Dict[str, Any] = {"exp": math.exp, "tanh": math.tanh, "log1p": math.log1p, "abs": abs,
              "isfinite": math.isfinite, "sqrt": math.sqrt, "sqrt_or_nan": sqrt_or_nan,
              "max": max}


class Spec(NamedTuple):
    """What the written-out code depends on: the shape and the formulas.

    ``loss`` is the loss whose gradient is descended; ``logged`` the one
    whose value each epoch reports (the tutorial descends half_sse and logs
    the mse).
    """

    sizes: Tuple[int, ...]
    activation: str
    output_activation: str
    loss: str
    logged: str
    #: "gd": the step p = p − learning_rate·g written out; else an
    #: optimizer's step written out from its ``code()`` (purebp.optimizers).
    step: str | OptimizerCode = "gd"


def _activation(name: str) -> WrittenOut:
    """Return the written-out form of an activation (purebp.activations)."""
    return ACTIVATIONS[name].code


def _loss(name: str) -> LossWrittenOut:
    """Return the written-out form of a loss (purebp.losses)."""
    return LOSSES[name].code


def spec_for(net: Any) -> Spec:
    """Return the Spec of a NeuralNetwork or a Network, for ``source`` and ``compiled``.

    >>> from purebp import NeuralNetwork
    >>> spec_for(NeuralNetwork(2, 4, 1, seed=0))
    Spec(sizes=(2, 4, 1), activation='sigmoid', output_activation='sigmoid', loss='half_sse', \
logged='mse', step='gd')
    """
    spec: Spec = net._spec()
    return spec


def supported(spec: Spec) -> bool:
    """Return True if ``spec`` can be written out (else train uses the reference)."""
    weights = parameter_count(spec.sizes)
    if spec.output_activation == "softmax":
        # softmax and cross_entropy go together (descended and logged): the loss's
        # row steps use softmax's top and u_k, and no other loss has its δ on z
        output = spec.loss == spec.logged == "cross_entropy"
    else:
        output = (spec.output_activation in ACTIVATIONS
                  and "cross_entropy" not in (spec.loss, spec.logged))
    return (output and spec.activation in ACTIVATIONS
            and all(name in LOSSES for name in (spec.loss, spec.logged))
            and weights <= MAX_WRITTEN_OUT)


def parameter_count(sizes: Sequence[int]) -> int:
    """Return the number of weights and biases of a network of these layer sizes."""
    return sum(m * (n + 1) for n, m in zip(sizes[:-1], sizes[1:]))


def _sum_lines(target: str, start: str, terms: List[str], indent: str) -> List[str]:
    """Lines setting target = start + terms[0] + terms[1] + ..., added left to right.

    Long sums are split over lines (target = target + ...), which adds in the
    same order and keeps the compiler's expression depth small.
    """
    lines, head = [], start
    for i in range(0, max(len(terms), 1), _TERMS_PER_LINE):
        chunk = terms[i:i + _TERMS_PER_LINE]
        lines.append(f"{indent}{target} = {' + '.join([head] + chunk)}")
        head = target
    return lines


def _row_lines(steps: Tuple[RowStep, ...], z_row: str, entries: List[Dict[str, str]],
               indent: str) -> List[str]:
    """Lines for one row's steps (purebp.activations.RowStep), ``entries`` the fill-ins of each k."""
    lines = []
    for step in steps:
        if step.comment:
            lines.append(f"{indent}# {step.comment}")
        if step.kind == "row":
            lines.append(f"{indent}{step.target} = {step.text.format(z_row=z_row)}")
        elif step.kind == "entry":
            lines += [f"{indent}{step.target.format(**fill)} = {step.text.format(**fill)}"
                      for fill in entries]
        else:
            assert step.kind == "sum", step
            lines += _sum_lines(step.target, "0.0", [step.text.format(**fill) for fill in entries],
                                indent)
    return lines


def source(spec: Spec) -> str:
    """Return the Python source of ``train_epochs`` for this spec.

    ``train_epochs(rows, parameters, learning_rate, epochs, losses, keep)``
    runs ``epochs`` full-batch gradient-descent epochs on ``rows`` (tuples
    x_0, …, x_{m−1}, y_0, …, y_{k−1}), starting from ``parameters`` (the
    flat list: every weights[l] row by row, then every biases[l], layer by
    layer). It appends each epoch's logged loss to ``losses`` and returns
    the new flat parameters, or None as soon as an epoch's loss or a
    parameter stops being finite (the caller then replays with the
    reference to report it). If ``keep`` is a list, the last epoch appends
    each sample's forward pass to it: (zs[0], activations[1], zs[1], ...)
    as tuples.

    With an optimizer's code as ``spec.step`` the third argument is the
    optimizer instead, prepared (its buffers made): each step is its
    ``code()`` written out per parameter, on local copies of its step count
    and buffers, which are written back to ``optimizer.state`` only when the
    call returns the parameters (never when it returns None).
    """
    sizes, L = spec.sizes, len(spec.sizes) - 1
    weights = [f"w{l}_{i}_{j}" for l in range(L)
               for i in range(sizes[l]) for j in range(sizes[l + 1])]
    biases = [f"b{l}_{j}" for l in range(L) for j in range(sizes[l + 1])]
    grads_w = ["g" + w for w in weights]
    grads_b = ["g" + b for b in biases]
    inputs = [f"a0_{i}" for i in range(sizes[0])]
    targets = [f"y_{k}" for k in range(sizes[L])]
    out = "    "
    body = out * 3  # inside: def, for epoch, for sample
    lines = [
        f"def train_epochs(rows, parameters, {'learning_rate' if spec.step == 'gd' else 'optimizer'},"
        f" epochs, losses, keep{'' if spec.step == 'gd' else _LOCAL_FUNCTIONS}):",
        f'{out}"""{len(weights) + len(biases)} parameters, sizes {list(sizes)};'
        f' see purebp.fast.unrolled.source."""',
        f"{out}({', '.join(weights + biases)},) = parameters",
        f"{out}count = len(rows) * {sizes[L]}  # entries of ŷ: samples × outputs",
    ]
    code = spec.step if isinstance(spec.step, OptimizerCode) else None
    if code is not None:
        lines.append(f"{out}# the optimizer's arguments, step count and buffers, as locals")
        lines += [out + line for line in code.setup]
        lines.append(f"{out}t = optimizer.state['step']")
        for placeholder, key in code.buffers:
            names = [f"{placeholder}_{p}" for p in weights + biases]
            lines.append(f"{out}({', '.join(names)},) = optimizer.state[{key!r}]")
    setup = _loss(spec.loss).setup  # mse's factor 2 / count, formed once as purebp.losses does
    if setup:
        lines.append(f"{out}{setup}  # formed once, as purebp.losses does")
    lines += [
        f"{out}for epoch in range(epochs):",
        f"{out * 2}kept = keep if epoch == epochs - 1 else None",
        f"{out * 2}# Σ_n a·δ for the weights starts at 0.0, as a dot product does;",
        f"{out * 2}# Σ_n δ for the biases at −0.0, which adds nothing to the first row.",
    ]
    for names, start in ((grads_w, "0.0"), (grads_b, "-0.0")):
        for i in range(0, len(names), _TERMS_PER_LINE):
            lines.append(f"{out * 2}{' = '.join(names[i:i + _TERMS_PER_LINE])} = {start}")
    lines += [f"{out * 2}total = logged = 0.0",
              f"{out * 2}for {', '.join(inputs + targets)} in rows:"]

    # the output layer's entries, as the row steps of softmax and cross_entropy fill them in
    z_row = f"({', '.join(f'z{L - 1}_{k}' for k in range(sizes[L]))},)"
    entries = [{"k": str(k), "z": f"z{L - 1}_{k}", "a": f"a{L}_{k}", "y": f"y_{k}"}
               for k in range(sizes[L])]

    # forward: zs[l] = activations[l]·weights[l] + biases[l], activations[l+1] = f_l(zs[l])
    for l in range(L):
        name = spec.output_activation if l == L - 1 else spec.activation
        lines.append(f"{body}# forward, layer {l}: z{l} = a{l}·w{l} + b{l}, a{l + 1} = {name}(z{l})")
        for j in range(sizes[l + 1]):
            z = f"z{l}_{j}"
            terms = [f"a{l}_{i} * w{l}_{i}_{j}" for i in range(sizes[l])]
            lines += _sum_lines(z, "0.0", terms, body)
            lines.append(f"{body}{z} = {z} + b{l}_{j}")
            if name != "softmax":
                lines.append(f"{body}a{l + 1}_{j} = {_activation(name).f.format(z=z)}")
        if name == "softmax":  # of the whole row, once its entries are all there
            lines += _row_lines(SOFTMAX_CODE, z_row, entries, body)

    # the loss and the output delta δ_{L−1} = ∂loss/∂z_{L−1}
    descended, reported = _loss(spec.loss), _loss(spec.logged)
    # The logged loss needs a total of its own only if its entries differ.
    separate_log = reported.entry != descended.entry
    lines.append(f"{body}# loss ({spec.loss}) and the output delta d{L - 1} = ∂loss/∂z{L - 1}")
    if descended.row:
        # A loss of whole rows (cross_entropy): its row's parts, its entries summed
        # per row from 0.0, that sum added to the total (supported(): logged is the same).
        assert not separate_log, spec
        lines += _row_lines(descended.row, z_row, entries, body)
        lines.append(f"{body}# the row's loss: the sum of its entries, from 0.0")
        lines += _sum_lines("row_loss", "0.0", [descended.entry.format(**fill) for fill in entries],
                            body)
        lines.append(f"{body}total = total + row_loss")
        lines.append(f"{body}# the output delta of each entry, ∂loss/∂z{L - 1}")
        lines += [f"{body}d{L - 1}_{k} = {descended.delta.format(**fill)}"
                  for k, fill in enumerate(entries)]
    else:
        f_prime = _activation(spec.output_activation).f_prime
        for k in range(sizes[L]):
            a, z, y, e = f"a{L}_{k}", f"z{L - 1}_{k}", f"y_{k}", f"e_{k}"
            fill = {"a": a, "z": z, "y": y, "e": e, "f_prime": f_prime.format(z=z, a=a)}
            lines.append(f"{body}{e} = {a} - {y}")
            # Each entry is added as a whole: total + (entry), as the reference sums.
            lines.append(f"{body}total = total + ({descended.entry.format(**fill)})")
            if separate_log:
                lines.append(f"{body}logged = logged + ({reported.entry.format(**fill)})")
            lines.append(f"{body}d{L - 1}_{k} = {descended.delta.format(**fill)}")

    # backward: δ_{l−1} = (δ_l·weights[l]ᵀ) ⊙ f′(z_{l−1}); the gradient sums
    for l in range(L - 1, -1, -1):
        lines.append(f"{body}# gradients of layer {l}: gw{l} += a{l}ᵀ·d{l}, gb{l} += d{l}")
        for i in range(sizes[l]):
            for j in range(sizes[l + 1]):
                lines.append(f"{body}gw{l}_{i}_{j} = gw{l}_{i}_{j} + a{l}_{i} * d{l}_{j}")
        for j in range(sizes[l + 1]):
            lines.append(f"{body}gb{l}_{j} = gb{l}_{j} + d{l}_{j}")
        if l > 0:
            f_prime = _activation(spec.activation).f_prime
            lines.append(f"{body}# backward: d{l - 1} = (d{l}·w{l}ᵀ) ⊙ f′(z{l - 1})")
            for i in range(sizes[l]):
                terms = [f"d{l}_{j} * w{l}_{i}_{j}" for j in range(sizes[l + 1])]
                lines += _sum_lines(f"d{l - 1}_{i}", "0.0", terms, body)
                derivative = f_prime.format(z=f"z{l - 1}_{i}", a=f"a{l}_{i}")
                lines.append(f"{body}d{l - 1}_{i} = d{l - 1}_{i} * ({derivative})")

    lines.append(f"{body}if kept is not None:")
    forward = []
    for l in range(L):
        forward.append(f"({', '.join(f'z{l}_{j}' for j in range(sizes[l + 1]))},)")
        forward.append(f"({', '.join(f'a{l + 1}_{j}' for j in range(sizes[l + 1]))},)")
    lines.append(f"{body}{out}kept.append(({', '.join(forward)}))")

    # the step: every parameter p becomes p − learning_rate·∂loss/∂p
    inside = out * 2
    logged = reported.value
    lines.append(f"{inside}loss = {logged.replace('total', 'logged') if separate_log else logged}")
    if code is not None:
        lines.append(f"{inside}# the step: the optimizer's (purebp.optimizers), entry by entry")
        lines.append(f"{inside}t = t + 1")
        lines += [inside + line for line in code.step]
        for p, g in zip(weights + biases, grads_w + grads_b):
            fill = {placeholder: f"{placeholder}_{p}" for placeholder, _ in code.buffers}
            lines += [inside + line.format(p=p, g=g, **fill) for line in code.entry]
    else:
        lines.append(f"{inside}# the step: p = p − learning_rate·∂loss/∂p")
        for p, g in zip(weights + biases, grads_w + grads_b):
            lines.append(f"{inside}{p} = {p} - learning_rate * {g}")
    lines.append(f"{inside}# diverged? A sum is finite only if every term is; if it is not,"
                 " look term by term")
    lines += _sum_lines("check", "loss", weights + biases, inside)
    lines += [
        f"{inside}if not isfinite(check) and not all(map(isfinite, (loss, {', '.join(weights + biases)}))):",
        f"{inside}{out}return None",
        f"{inside}losses.append(loss)",
    ]
    if code is not None:
        lines.append(f"{out}optimizer.state['step'] = t")
        for placeholder, key in code.buffers:
            names = [f"{placeholder}_{p}" for p in weights + biases]
            lines.append(f"{out}optimizer.state[{key!r}] = [{', '.join(names)}]")
    lines.append(f"{out}return [{', '.join(weights + biases)}]")
    return "\n".join(lines) + "\n"


def compiled(spec: Spec) -> Callable[..., Optional[List[float]]]:
    """Return ``train_epochs`` for ``spec``, compiled once and cached.

    The source is registered with linecache under the code's file name, so
    a traceback printed by the traceback module, pdb or pytest shows its
    lines. (CPython's built-in printer for an uncaught exception reads only
    real files up to 3.12; from 3.13 it uses linecache too.)
    """
    function, filename, lines = _compiled(spec)
    # Registered on every call, as linecache.clearcache() may have dropped it;
    # mtime None: linecache.checkcache keeps the entry (no file to recheck).
    linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
    return function


@functools.lru_cache(maxsize=32)
def _compiled(spec: Spec) -> Tuple[Callable[..., Optional[List[float]]], str, List[str]]:
    """Return (train_epochs, its file name, its source lines) for ``spec``."""
    text = source(spec)
    formulas = f"{spec.activation}/{spec.output_activation}/{spec.loss}, logs {spec.logged}"
    if isinstance(spec.step, OptimizerCode):
        formulas += f", optimizer {abs(hash(spec.step)):x}"
    filename = f"<purebp.fast.unrolled {list(spec.sizes)} {formulas}>"
    namespace: Dict[str, Any] = dict(_NAMESPACE)
    # The source is built from ints and the written-out forms of purebp.activations
    # and purebp.losses, never from user input.
    # compile(text, filename, "exec"), or the same code object from the disk cache.
    exec(cache.code_for(text, filename), namespace)
    function: Callable[..., Optional[List[float]]] = namespace["train_epochs"]
    return function, filename, text.splitlines(True)
