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
tutorial's network it is printed in docs/speed.md, and
``print(source(spec_for(net)))`` shows it for any network. Its names follow the
general network's equations (purebp.network), one scalar per entry:

    a0_i                 activations[0][n][i], input i of the current sample
    y_k                  target k of the current sample
    w{l}_{i}_{j}, b{l}_{j}    weights[l][i][j] and biases[l][0][j]
    z{l}_{j}, a{l+1}_{j}      zs[l][n][j] and activations[l+1][n][j]
    d{l}_{j}             deltas[l][n][j] = ∂loss/∂zs[l][n][j]
    gw{l}_{i}_{j}, gb{l}_{j}  the gradients, summed over the samples

The code is bit-for-bit the reference's arithmetic: every sum is added in
the reference's order (a dot product from 0.0 up the index, a column sum
from the first row down, which starting from −0.0 reproduces exactly), and
every activation, derivative and loss is the expression the reference
evaluates. Tests (tests/test_training.py) hold ``train`` with and without
this module to identical bits over random shapes, data and settings.

The speed choices, each measured on the tutorial's workload (10,000 epochs,
CPython 3.11; this code takes 0.037 s, numpy 0.15 s):
    - one scalar local per weight and no list in the epoch loop: nothing is
      built, indexed or transposed (the reference matrix code: 0.53 s; the
      same equations as list comprehensions over whole columns: 0.15 s);
    - one pass per sample does forward, backward and the gradient sums, so
      no per-sample value is stored between the passes;
    - many epochs per call, between two reports (purebp.training): one call
      per epoch, with its flattening and unflattening, takes 0.085 s;
    - the divergence check is one sum per epoch, which is finite only when
      every term is, and goes term by term only when it is not (term by
      term every epoch: 0.039 s).

What this module does not do: softmax with cross_entropy (``train`` uses the
reference for it), and networks of more than ``MAX_WEIGHTS`` weights and
biases (the reference trains those): compiling grows with the code, to
about 0.1 s at that size, while the gain shrinks to about 2× (43 against
77 ns per sample·weight for [30, 100, 9], batch 64).
"""

from __future__ import annotations

import functools
import math
from typing import Callable, List, NamedTuple, Optional, Tuple

from purebp.activations import _SIGMOID_EXP_LIMIT, LEAKY_SLOPE

#: The largest network (in weights and biases) that gets written-out code.
MAX_WEIGHTS = 4096

#: Terms per line in a written-out sum; longer lines are split (same order).
_TERMS_PER_LINE = 8

#: Each activation as code: (forward, derivative f′ given z and a = f(z)),
#: the expressions purebp.activations evaluates, with {z} and {a} to fill in.
ACTIVATION_CODE = {
    "sigmoid": (f"exp({{z}}) if {{z}} < {_SIGMOID_EXP_LIMIT!r} else 1.0 / (1.0 + exp(-{{z}}))",
                "{a} * (1.0 - {a})"),
    "tanh": ("tanh({z})", "1.0 - {a} * {a}"),
    "relu": ("{z} if {z} > 0.0 else 0.0", "1.0 if {z} > 0.0 else 0.0"),
    "leaky_relu": (f"{{z}} if {{z}} > 0.0 else {LEAKY_SLOPE!r} * {{z}}",
                   f"1.0 if {{z}} > 0.0 else {LEAKY_SLOPE!r}"),
    "identity": ("{z}", "1.0"),
}

#: Each loss as code: (what one entry adds to the running total, the output
#: delta ∂loss/∂z of one entry, the loss from the total), with {a} = ŷ,
#: {y} = target, {z} = logit, {e} = ŷ − y, {f_prime} = f′ of the output, and
#: ``count`` = the number of entries (samples × outputs), as purebp.losses.
LOSS_CODE = {
    "half_sse": ("{e} * {e}", "{e} * ({f_prime})", "0.5 * total"),
    "mse": ("{e} * {e}", "(norm * {e}) * ({f_prime})", "total / count"),
    "bce": ("((1.0 - {y}) * {z} if {z} >= 0.0 else -{y} * {z}) + log1p(exp(-abs({z})))",
            "({a} - {y}) / count", "total / count"),
}


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


def spec_for(net) -> Spec:
    """Return the Spec of a NeuralNetwork or a Network, for ``source`` and ``compiled``.

    >>> from purebp import NeuralNetwork
    >>> spec_for(NeuralNetwork(2, 4, 1, seed=0))
    Spec(sizes=(2, 4, 1), activation='sigmoid', output_activation='sigmoid', loss='half_sse', logged='mse')
    """
    return net._spec()


def supported(spec: Spec) -> bool:
    """Return True if ``spec`` can be written out (else train uses the reference)."""
    weights = sum(m * (n + 1) for m, n in zip(spec.sizes[1:], spec.sizes[:-1]))
    return (spec.activation in ACTIVATION_CODE and spec.output_activation in ACTIVATION_CODE
            and spec.loss in LOSS_CODE and spec.logged in LOSS_CODE
            and weights <= MAX_WEIGHTS)


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
        "def train_epochs(rows, parameters, learning_rate, epochs, losses, keep):",
        f'{out}"""{len(weights) + len(biases)} parameters, sizes {list(sizes)};'
        f' see purebp.unrolled.source."""',
        f"{out}({', '.join(weights + biases)},) = parameters",
        f"{out}count = len(rows) * {sizes[L]}  # entries of ŷ: samples × outputs",
    ]
    if spec.loss == "mse":  # only its gradient uses the factor
        lines.append(f"{out}norm = 2.0 / count  # mse's factor, formed as purebp.losses does")
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

    # forward: zs[l] = activations[l]·weights[l] + biases[l], activations[l+1] = f_l(zs[l])
    for l in range(L):
        name = spec.output_activation if l == L - 1 else spec.activation
        f, _ = ACTIVATION_CODE[name]
        lines.append(f"{body}# forward, layer {l}: z{l} = a{l}·w{l} + b{l}, a{l + 1} = {name}(z{l})")
        for j in range(sizes[l + 1]):
            z = f"z{l}_{j}"
            terms = [f"a{l}_{i} * w{l}_{i}_{j}" for i in range(sizes[l])]
            lines += _sum_lines(z, "0.0", terms, body)
            lines.append(f"{body}{z} = {z} + b{l}_{j}")
            lines.append(f"{body}a{l + 1}_{j} = {f.format(z=z)}")

    # the loss and the output delta δ_{L−1} = ∂loss/∂z_{L−1}
    _, f_prime = ACTIVATION_CODE[spec.output_activation]
    # The logged loss needs a total of its own only if its entries differ.
    separate_log = LOSS_CODE[spec.logged][0] != LOSS_CODE[spec.loss][0]
    lines.append(f"{body}# loss ({spec.loss}) and the output delta d{L - 1} = ∂loss/∂z{L - 1}")
    for k in range(sizes[L]):
        a, z, y, e = f"a{L}_{k}", f"z{L - 1}_{k}", f"y_{k}", f"e_{k}"
        fill = dict(a=a, z=z, y=y, e=e, f_prime=f_prime.format(z=z, a=a))
        lines.append(f"{body}{e} = {a} - {y}")
        # Each entry is added as a whole: total + (entry), as the reference sums.
        lines.append(f"{body}total = total + ({LOSS_CODE[spec.loss][0].format(**fill)})")
        if separate_log:
            lines.append(f"{body}logged = logged + ({LOSS_CODE[spec.logged][0].format(**fill)})")
        lines.append(f"{body}d{L - 1}_{k} = {LOSS_CODE[spec.loss][1].format(**fill)}")

    # backward: δ_{l−1} = (δ_l·weights[l]ᵀ) ⊙ f′(z_{l−1}); the gradient sums
    for l in range(L - 1, -1, -1):
        lines.append(f"{body}# gradients of layer {l}: gw{l} += a{l}ᵀ·d{l}, gb{l} += d{l}")
        for i in range(sizes[l]):
            for j in range(sizes[l + 1]):
                lines.append(f"{body}gw{l}_{i}_{j} = gw{l}_{i}_{j} + a{l}_{i} * d{l}_{j}")
        for j in range(sizes[l + 1]):
            lines.append(f"{body}gb{l}_{j} = gb{l}_{j} + d{l}_{j}")
        if l > 0:
            _, f_prime = ACTIVATION_CODE[spec.activation]
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
    logged = LOSS_CODE[spec.logged][2]
    lines.append(f"{inside}loss = {logged.replace('total', 'logged') if separate_log else logged}")
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
        f"{out}return [{', '.join(weights + biases)}]",
    ]
    return "\n".join(lines) + "\n"


@functools.lru_cache(maxsize=32)
def compiled(spec: Spec) -> Callable[..., Optional[List[float]]]:
    """Return ``train_epochs`` for ``spec``, compiled once and cached."""
    namespace = {"exp": math.exp, "tanh": math.tanh, "log1p": math.log1p,
                 "isfinite": math.isfinite}
    code = compile(source(spec), f"<purebp.unrolled {list(spec.sizes)}>", "exec")
    exec(code, namespace)  # the source is built from ints and the fixed tables above
    return namespace["train_epochs"]
