"""``purebp explain``: one training step, every equation with its numbers.

    explain(net, X, y, learning_rate, precision=4, max_terms=6, max_entries=32,
            *, optimizer=None)
        (max_entries: up to MAX_ENTRIES; ``purebp explain --max-entries N``)
        → a list of Line(section, tag, text, value): the forward pass layer by
          layer, the loss, each delta, each gradient, each updated parameter
    render(lines, header, fmt="text"|"md")  → the printable text

Every value is taken from ``Network.trace``, that is from the library's own
computation; the formula beside it is filled in with the numbers that went
into it. Tags are the equation numbers of purebp/docs/backprop.md: (F1) (F2) (L)
(BP1) (BP2) (BP3) (BP4) (GD). Layers count from 1 as in the docs: W1 is
``weights[0]``, z1 is ``zs[0]``, a0 is the input.

With ``optimizer`` (one of purebp.optimizers', in any state) instead of a
learning rate, the update is that optimizer's next step, t = state["step"] + 1,
tagged with the equation ids of purebp/docs/optimizers.md (WD, M, N, S; V, C,
R, RM; A1–A4, AG; DW): for each parameter entry shown, its gradient, the
buffers of the state before → after (the old value is the one put into the
formula, the new one ends the line), the bias corrections, m̂ and v̂, and the
new parameter. The buffers before are ``optimizer.state``'s, those after a
copy's that took the step; the new parameters are the trace's; the numbers
in between (m̂, v̂, the step direction d) are computed here with the very
expressions of purebp/optimizers.py, so they are its bits too. The
optimizer's arguments (lr, betas, ...) are printed as given, in full; the
numbers computed, rounded to ``precision``.

What it does not do: explain more than one step (train for that; ``purebp
explain --step T`` takes T − 1 steps first), or draw (see purebp.study.plots).
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from purebp import _checks, optimizers
from purebp._types import Matrix, RealMatrix
from purebp.network import Network
from purebp.optimizers import SGD, Adam, AdamW, Optimizer, RMSprop

SECTIONS = ("Forward pass", "Loss", "Backward pass", "Update")
#: The most entries of one quantity ``max_entries`` may ask for (``--max-entries``):
#: 10,000 lines of one matrix is more than anyone reads, and it keeps a typo
#: (--max-entries 10000000 on a wide layer) from printing millions of lines.
#: A quantity with fewer entries is shown whole; the network's size bounds the rest.
MAX_ENTRIES = 10_000


class Line(NamedTuple):
    """One printed equation: its section, tag, full text and the value it ends with."""

    section: str
    tag: str
    text: str
    value: float


def number(v: float, precision: int) -> str:
    """Format a number: fixed with ``precision`` decimals, scientific when far from 1."""
    if v == 0 or 10.0 ** -(precision - 1) <= abs(v) < 1e6:
        return f"{v:.{precision}f}"
    return f"{v:.{precision}e}"


def as_factor(v: float, precision: int) -> str:
    """Format a number as a factor: a negative one, -0.0 too, in parentheses.

    >>> as_factor(-0.5, 2), as_factor(0.25, 2), as_factor(-0.0, 1)
    ('(-0.50)', '0.25', '(-0.0)')
    """
    text = number(v, precision)
    return f"({text})" if math.copysign(1.0, v) < 0 else text


def _note(section: str, shown: int, total: int, what: str) -> List[Line]:
    """The note that ``total − shown`` entries of ``what`` are left out (none if none are)."""
    if total <= shown:
        return []
    more = total - shown
    return [Line(section, "", f"      … and {more} more {'entry' if more == 1 else 'entries'}"
                              f" of {what} (--max-entries shows more)", math.nan)]


def _plus(left: str, term: str) -> str:
    """Return ``left + term`` as printed: a negative number is subtracted, a − b, not a + -b.

    The operator is the − (U+2212) of every formula here; a number's own sign
    stays the ASCII - it is formatted with, as in "= -0.0754" or a first term.

    >>> _plus("0.0976", "-0.1191"), _plus("-0.0319", "0.0304"), _plus("a", "0.5·(-2.0)")
    ('0.0976 − 0.1191', '-0.0319 + 0.0304', 'a + 0.5·(-2.0)')
    """
    if term.startswith("-"):
        return f"{left} − {term[1:]}"
    return f"{left} + {term}"


def _sum(terms: Sequence[str], max_terms: int) -> str:
    """Join terms with + (− before a negative number), eliding the middle beyond max_terms.

    >>> _sum(["0.1", "-0.2", "0.3", "-0.4"], 3)
    '0.1 − 0.2 + … (4 terms) … − 0.4'
    """
    if len(terms) > max_terms:
        terms = list(terms[: max_terms - 1]) + [f"… ({len(terms)} terms) …", terms[-1]]
    if not terms:
        return ""
    joined = terms[0]
    for term in terms[1:]:
        joined = _plus(joined, term)
    return joined


# How each activation and its derivative read, given the numbers (as strings);
# {pz} and {pa} are z and a as factors, a negative one in parentheses:
# (1 − (-0.5)²), never 1 − -0.5², which reads as 1 + 0.25.
_F = {
    "identity": "{z}",
    "sigmoid": "σ({z})",
    "tanh": "tanh({z})",
    "relu": "max(0, {z})",
    "leaky_relu": "{z} if {z} > 0 else 0.01·{pz}",
}
_F_PRIME = {
    "identity": ("1", "1"),
    "sigmoid": ("a·(1 − a)", "{a}·(1 − {pa})"),
    "tanh": ("(1 − a²)", "(1 − {pa}²)"),
    "relu": ("[z > 0]", "[{z} > 0]"),
    "leaky_relu": ("(1 if z > 0 else 0.01)", "(1 if {z} > 0 else 0.01)"),
}
_LOSS = {
    "half_sse": "½ Σ_n Σ_k (ŷ − y)²",
    "mse": "(1/nK) Σ_n Σ_k (ŷ − y)²",
    "bce": "(1/nK) Σ_n Σ_k [max(z, 0) − y·z + log(1 + e^−|z|)]",
    "cross_entropy": "(1/n) Σ_n Σ_k y·(log Σ_j e^z_j − z_k)",
}


def explain(net: Network, X: RealMatrix, y: RealMatrix, learning_rate: Optional[float],
            precision: int = 4, max_terms: int = 6, max_entries: int = 32, *,
            optimizer: Optional[Optimizer] = None) -> List[Line]:
    """Return the lines of one explained training step of ``net`` on (X, y).

    The step is gradient descent with ``learning_rate`` (GD), or, with
    ``learning_rate`` None, ``optimizer``'s next step (its state moves on in
    a copy only). Quantities with more than ``max_entries`` entries (1 to
    MAX_ENTRIES; default 32) are shown by their first ``max_entries`` entries
    (and a note of how many more there are); sums of more than ``max_terms``
    terms elide their middle. Neither the network nor the optimizer is changed.
    """
    if isinstance(precision, bool) or not isinstance(precision, int) or not 1 <= precision <= 17:
        raise ValueError(f"explain: precision must be an int from 1 to 17,"
                         f" got {_checks._short_repr(precision)}")
    if isinstance(max_entries, bool) or not isinstance(max_entries, int) \
            or not 1 <= max_entries <= MAX_ENTRIES:
        raise ValueError(f"explain: max_entries must be an int from 1 to {MAX_ENTRIES},"
                         f" got {_checks._short_repr(max_entries)}")
    if optimizer is not None:
        optimizer = optimizers.as_optimizer("explain", optimizer)
        if not isinstance(optimizer, (SGD, RMSprop, Adam)):  # AdamW is an Adam
            raise TypeError(f"explain: optimizer must be an SGD, RMSprop, Adam or AdamW of"
                            f" purebp.optimizers, got {optimizer!r}")
        if learning_rate is not None:
            raise ValueError(f"explain: learning_rate must be None with an optimizer (its lr is"
                             f" the step's), got {_checks._short_repr(learning_rate)} and"
                             f" {optimizer!r}")
    elif learning_rate is None:
        raise TypeError("explain: learning_rate must be a float, or optimizer one of"
                        " purebp.optimizers', got neither")
    t = net.trace(X, y, learning_rate, optimizer=optimizer)
    zs, acts, deltas = t["zs"], t["activations"], t["deltas"]
    grads, updated, loss = t["gradients"], t["updated"], t["loss"]
    targets = [[float(v) for v in row] for row in y]
    L, n = net.depth, len(acts[0])
    K = net.sizes[-1]

    def f(v: float) -> str:
        return number(v, precision)

    def fp(v: float) -> str:
        return as_factor(v, precision)

    lines: List[Line] = []

    def add(section: str, tag: str, text: str, value: float) -> None:
        lines.append(Line(section, tag, f"({tag}) {text} = {f(value)}", value))

    def entries(rows: int, cols: int) -> Tuple[List[Tuple[int, int]], int]:
        """The (r, c) pairs to show, at most max_entries of them."""
        pairs = [(r, c) for r in range(rows) for c in range(cols)]
        return pairs[:max_entries], len(pairs)

    def note(section: str, shown: int, total: int, what: str) -> None:
        lines.extend(_note(section, shown, total, what))

    # forward pass: (F1) z = a·W + b, (F2) a = f(z)
    for l in range(L):
        k = l + 1
        name = net.output_activation if l == L - 1 else net.activation
        W, b = net.weights[l], net.biases[l][0]
        pairs, total = entries(n, net.sizes[k])
        for r, c in pairs:
            terms = [f"{fp(acts[l][r][i])}·{fp(W[i][c])}" for i in range(net.sizes[l])]
            symbols = [f"a{k - 1}[{r}][{i}]·W{k}[{i}][{c}]" for i in range(net.sizes[l])]
            add("Forward pass", "F1",
                f"z{k}[{r}][{c}] = {_sum(symbols, max_terms)} + b{k}[{c}]"
                f" = {_plus(_sum(terms, max_terms), f(b[c]))}", zs[l][r][c])
        note("Forward pass", len(pairs), total, f"z{k}")
        for r, c in pairs:
            if name == "softmax":
                text = (f"a{k}[{r}][{c}] = softmax(z{k}[{r}])[{c}] = e^{fp(zs[l][r][c])}"
                        f" / Σ_j e^z{k}[{r}][j]")
            else:
                form = _F[name]
                symbol = f"z{k}[{r}][{c}]"
                text = f"a{k}[{r}][{c}] = {form.format(z=symbol, pz=symbol)}" \
                       f" = {form.format(z=f(zs[l][r][c]), pz=fp(zs[l][r][c]))}"
            add("Forward pass", "F2", text, acts[k][r][c])
        note("Forward pass", len(pairs), total, f"a{k}")

    # the loss
    a_out, z_out = acts[L], zs[L - 1]
    pieces: List[str] = []
    for r in range(n):
        for c in range(K):
            if net.loss_name in ("half_sse", "mse"):
                pieces.append(f"({f(a_out[r][c])} − {fp(targets[r][c])})²")
            elif net.loss_name == "bce":
                zz = z_out[r][c]
                pieces.append(f(max(zz, 0.0) - targets[r][c] * zz + math.log1p(math.exp(-abs(zz)))))
            elif targets[r][c] != 0:
                top = max(z_out[r])
                lse = top + math.log(math.fsum(math.exp(v - top) for v in z_out[r]))
                pieces.append(f"{fp(targets[r][c])}·({f(lse)} − {fp(z_out[r][c])})")
    factor = {"half_sse": "½", "mse": f"(1/{n * K})", "bce": f"(1/{n * K})",
              "cross_entropy": f"(1/{n})"}[net.loss_name]
    add("Loss", "L", f"E = {_LOSS[net.loss_name]} = {factor}·({_sum(pieces, max_terms)})", loss)

    # backward pass: (BP1) the output delta, (BP2) each hidden delta
    pairs, total = entries(n, K)
    for r, c in pairs:
        a, zz, target = a_out[r][c], z_out[r][c], targets[r][c]
        if net.loss_name == "bce":
            text = (f"δ{L}[{r}][{c}] = (σ(z) − y)/nK = (σ({f(zz)}) − {fp(target)})/{n * K}")
        elif net.loss_name == "cross_entropy":
            text = (f"δ{L}[{r}][{c}] = (softmax(z)_k − y)/n = ({f(a)} − {fp(target)})/{n}")
        else:
            symbol, numbers = _F_PRIME[net.output_activation]
            symbol = symbol.replace("a", "ŷ")  # at the output, a is ŷ
            scale = "" if net.loss_name == "half_sse" else f"2/{n * K}·"
            filled = numbers.format(a=f(a), z=f(zz), pa=fp(a))
            text = (f"δ{L}[{r}][{c}] = {'' if not scale else '2/nK·'}(ŷ − y)·{symbol}"
                    f" = {scale}({f(a)} − {fp(target)})·{filled}")
        add("Backward pass", "BP1", text, deltas[L - 1][r][c])
    note("Backward pass", len(pairs), total, f"δ{L}")
    for l in range(L - 2, -1, -1):
        k = l + 1
        W_next = net.weights[l + 1]
        symbol, numbers = _F_PRIME[net.activation]
        pairs, total = entries(n, net.sizes[k])
        for r, c in pairs:
            back = [f"{fp(deltas[l + 1][r][j])}·{fp(W_next[c][j])}"
                    for j in range(net.sizes[k + 1])]
            syms = [f"δ{k + 1}[{r}][{j}]·W{k + 1}[{c}][{j}]" for j in range(net.sizes[k + 1])]
            filled = numbers.format(a=f(acts[k][r][c]), z=f(zs[l][r][c]), pa=fp(acts[k][r][c]))
            add("Backward pass", "BP2",
                f"δ{k}[{r}][{c}] = ({_sum(syms, max_terms)})·{symbol}"
                f" = ({_sum(back, max_terms)})·{filled}", deltas[l][r][c])
        note("Backward pass", len(pairs), total, f"δ{k}")

    # gradients: (BP3) biases, (BP4) weights, last layer first as computed
    for l in range(L - 1, -1, -1):
        k = l + 1
        pairs, total = entries(1, net.sizes[k])
        for _, c in pairs:
            terms = [f(deltas[l][r][c]) for r in range(n)]
            add("Backward pass", "BP3",
                f"∂E/∂b{k}[{c}] = Σ_n δ{k}[n][{c}] = {_sum(terms, max_terms)}",
                grads["biases"][l][0][c])
        note("Backward pass", len(pairs), total, f"∂E/∂b{k}")
        pairs, total = entries(net.sizes[l], net.sizes[k])
        for i, c in pairs:
            terms = [f"{fp(acts[l][r][i])}·{fp(deltas[l][r][c])}" for r in range(n)]
            add("Backward pass", "BP4",
                f"∂E/∂W{k}[{i}][{c}] = Σ_n a{k - 1}[n][{i}]·δ{k}[n][{c}] = {_sum(terms, max_terms)}",
                grads["weights"][l][i][c])
        note("Backward pass", len(pairs), total, f"∂E/∂W{k}")

    if optimizer is not None:
        lines.extend(_optimizer_step(net, optimizer, grads, updated, precision, max_entries))
        return lines

    # the update: (GD)
    assert learning_rate is not None  # checked above
    eta = f(learning_rate)
    for l in range(L):
        k = l + 1
        pairs, total = entries(net.sizes[l], net.sizes[k])
        for i, c in pairs:
            add("Update", "GD",
                f"W{k}[{i}][{c}] ← W{k}[{i}][{c}] − η·∂E/∂W{k}[{i}][{c}] = {f(net.weights[l][i][c])}"
                f" − {eta}·{fp(grads['weights'][l][i][c])}", updated["weights"][l][i][c])
        note("Update", len(pairs), total, f"W{k}")
        pairs, total = entries(1, net.sizes[k])
        for _, c in pairs:
            add("Update", "GD",
                f"b{k}[{c}] ← b{k}[{c}] − η·∂E/∂b{k}[{c}] = {f(net.biases[l][0][c])}"
                f" − {eta}·{fp(grads['biases'][l][0][c])}", updated["biases"][l][0][c])
        note("Update", len(pairs), total, f"b{k}")
    return lines


#: The optimizer step's equation ids, as purebp/docs/optimizers.md numbers them.
OPTIMIZER_TAGS = ("WD", "M", "N", "S", "V", "C", "R", "RM", "A1", "A2", "A3", "A4", "AG", "DW")


def _given(v: float) -> str:
    """An optimizer's argument as given (its repr: 0.999, 1e-08), never rounded.

    Rounded to four decimals, β2 = 0.99999 would print as 1.0000 and 1 − β2 as 0.

    >>> _given(0.999), _given(1e-08), _given(0)
    ('0.999', '1e-08', '0.0')
    """
    return repr(float(v))


def _optimizer_step(net: Network, optimizer: Optimizer, grads: Dict[str, List[Matrix]],
                   updated: Dict[str, List[Matrix]], precision: int,
                   max_entries: int) -> List[Line]:
    """Return the Update lines of ``optimizer``'s next step, for each parameter entry shown.

    ``grads`` and ``updated`` are Network.trace's (the step's gradients and
    new parameters). The state before is ``optimizer.state``; the state after
    is a copy's that took the same step on the same flat lists (the order of
    purebp.optimizers: every weights[l] row by row, then every biases[l]).
    """
    p = [x for m in net.weights + net.biases for row in m for x in row]
    g = [x for m in grads["weights"] + grads["biases"] for row in m for x in row]
    before = optimizer.state
    twin = optimizer.copy()
    new = twin.update(p, g)
    after = twin.state
    t: int = after["step"]
    flat_updated = [x for m in updated["weights"] + updated["biases"] for row in m for x in row]
    # the same rule from the same state: the copy's step is the trace's, NaN for NaN
    assert all(a == b or (math.isnan(a) and math.isnan(b)) for a, b in zip(new, flat_updated))

    def f(v: float) -> str:
        return number(v, precision)

    def fp(v: float) -> str:
        return as_factor(v, precision)

    lines: List[Line] = []

    def add(tag: str, text: str, value: float) -> None:
        lines.append(Line("Update", tag, f"({tag}) {text} = {f(value)}", value))

    def old(name: str, i: int) -> float:
        """A buffer's entry before the step: 0.0 while the state has none yet (torch's start)."""
        buffer: List[float] = before.get(name, [])
        return buffer[i] if buffer else 0.0

    def new_value(name: str, i: int) -> float:
        value: float = after[name][i]
        return value

    lr = _given(optimizer.lr)
    correction1 = correction2 = 1.0
    if isinstance(optimizer, Adam):  # AdamW too
        beta1, beta2 = optimizer.betas
        # the same expressions as purebp.optimizers.Adam, so the same bits
        correction1, correction2 = 1 - beta1 ** t, 1 - beta2 ** t
        add("A3", f"1 − β1^t = 1 − {_given(beta1)}^{t}", correction1)
        add("A3", f"1 − β2^t = 1 − {_given(beta2)}^{t}", correction2)

    def entry(P: str, grad: str, bp: str, i: int) -> None:
        """The lines of flat entry i, called P (W1[0][0]), whose gradient is grad (∂E/∂W1[0][0])."""
        p_i, g_i = p[i], g[i]
        wd = optimizer.weight_decay if isinstance(optimizer, (SGD, RMSprop, Adam)) else 0.0
        decoupled = isinstance(optimizer, AdamW)
        if wd and not decoupled:
            g_wd = g_i + wd * p_i
            add("WD", f"{P}: g ← {grad} + weight_decay·{P} = {_plus(f(g_i), f'{_given(wd)}·{fp(p_i)}')}",
                g_wd)
            g_i = g_wd
        else:
            add(bp, f"{P}: g = {grad}", g_i)
        if wd and decoupled:
            p_dec = p_i * (1 - optimizer.lr * wd)
            add("DW", f"{P} ← {P}·(1 − lr·weight_decay) = {fp(p_i)}·(1 − {lr}·{_given(wd)})", p_dec)
            p_i = p_dec
        step_symbol, d = "g", g_i
        if isinstance(optimizer, SGD):
            mu, tau = optimizer.momentum, optimizer.dampening
            if mu:
                b = new_value("momentum_buffer", i)
                if t == 1:
                    add("M", f"{P}: b ← g, the first step's gradient (no dampening)", b)
                else:
                    add("M", f"{P}: b ← momentum·b + (1 − dampening)·g = {_given(mu)}·"
                             f"{fp(old('momentum_buffer', i))} + (1 − {_given(tau)})·{fp(g_i)}", b)
                if optimizer.nesterov:
                    d = g_i + mu * b
                    add("N", f"{P}: d = g + momentum·b = {_plus(f(g_i), f'{_given(mu)}·{fp(b)}')}", d)
                    step_symbol = "d"
                else:
                    step_symbol, d = "b", b
            add("S", f"{P} ← {P} − lr·{step_symbol} = {f(p_i)} − {lr}·{fp(d)}", new[i])
        elif isinstance(optimizer, RMSprop):
            alpha, eps = _given(optimizer.alpha), _given(optimizer.eps)
            v = new_value("square_avg", i)
            add("V", f"{P}: v ← alpha·v + (1 − alpha)·g² = {alpha}·{fp(old('square_avg', i))}"
                     f" + (1 − {alpha})·{fp(g_i)}²", v)
            if optimizer.centered:
                g_avg = new_value("grad_avg", i)
                add("C", f"{P}: ḡ ← alpha·ḡ + (1 − alpha)·g = {alpha}·{fp(old('grad_avg', i))}"
                         f" + (1 − {alpha})·{fp(g_i)}", g_avg)
                centered = v - g_avg * g_avg
                add("C", f"{P}: v′ = v − ḡ² = {f(v)} − {fp(g_avg)}²", centered)
                d = g_i / (optimizers.sqrt_or_nan(centered) + optimizer.eps)
                add("R", f"{P}: d = g / (√v′ + eps) = {fp(g_i)} / (√{f(centered)} + {eps})", d)
            else:
                d = g_i / (math.sqrt(v) + optimizer.eps)
                add("R", f"{P}: d = g / (√v + eps) = {fp(g_i)} / (√{f(v)} + {eps})", d)
            step_symbol = "d"
            if optimizer.momentum:
                b = new_value("momentum_buffer", i)
                add("RM", f"{P}: b ← momentum·b + d = "
                          f"{_plus(_given(optimizer.momentum) + '·' + fp(old('momentum_buffer', i)), f(d))}",
                    b)
                step_symbol, d = "b", b
            add("RM", f"{P} ← {P} − lr·{step_symbol} = {f(p_i)} − {lr}·{fp(d)}", new[i])
        elif isinstance(optimizer, Adam):
            beta1, beta2 = optimizer.betas
            b1, b2 = _given(beta1), _given(beta2)
            m = new_value("exp_avg", i)
            v = new_value("exp_avg_sq", i)
            add("A1", f"{P}: m ← β1·m + (1 − β1)·g = {b1}·{fp(old('exp_avg', i))}"
                      f" + (1 − {b1})·{fp(g_i)}", m)
            add("A2", f"{P}: v ← β2·v + (1 − β2)·g² = {b2}·{fp(old('exp_avg_sq', i))}"
                      f" + (1 − {b2})·{fp(g_i)}²", v)
            m_hat = m / correction1
            add("A3", f"{P}: m̂ = m / (1 − β1^t) = {fp(m)} / {f(correction1)}", m_hat)
            if optimizer.amsgrad:
                max_v = new_value("max_exp_avg_sq", i)
                add("AG", f"{P}: max_v ← max(max_v, v) = max({f(old('max_exp_avg_sq', i))}, {f(v)})",
                    max_v)
                v_hat = max_v / correction2
                add("AG", f"{P}: v̂ = max_v / (1 − β2^t) = {f(max_v)} / {f(correction2)}", v_hat)
            else:
                v_hat = v / correction2
                add("A3", f"{P}: v̂ = v / (1 − β2^t) = {f(v)} / {f(correction2)}", v_hat)
            add("A4", f"{P} ← {P} − lr·m̂ / (√v̂ + eps) = {f(p_i)} − {lr}·{fp(m_hat)}"
                      f" / (√{f(v_hat)} + {_given(optimizer.eps)})", new[i])

    def note(shown: int, total: int, what: str) -> None:
        lines.extend(_note("Update", shown, total, what))

    at = 0
    bias_at = sum(rows * cols for rows, cols in zip(net.sizes[:-1], net.sizes[1:]))
    for l in range(net.depth):
        k, rows, cols = l + 1, net.sizes[l], net.sizes[l + 1]
        pairs = [(r, c) for r in range(rows) for c in range(cols)][:max_entries]
        for r, c in pairs:
            entry(f"W{k}[{r}][{c}]", f"∂E/∂W{k}[{r}][{c}]", "BP4", at + r * cols + c)
        note(len(pairs), rows * cols, f"W{k}")
        for c in range(min(cols, max_entries)):
            entry(f"b{k}[{c}]", f"∂E/∂b{k}[{c}]", "BP3", bias_at + c)
        note(min(cols, max_entries), cols, f"b{k}")
        at += rows * cols
        bias_at += cols
    return lines


def header(net: Network, X: RealMatrix, y: RealMatrix, learning_rate: Optional[float],
           source: str, *, optimizer: Optional[Optimizer] = None, step: int = 1) -> List[str]:
    """The lines that say what is being explained.

    ``step``: which step it is (the steps before it were taken silently);
    with ``optimizer``, the optimizer as it is before the step.
    """
    hidden = f"hidden {net.activation}, " if net.depth > 1 else ""
    if optimizer is None:
        what, rule = "gradient descent", f"learning rate η = {learning_rate!r}"
        documents = "'purebp docs backprop'"
    else:
        what, rule = type(optimizer).__name__, f"optimizer {optimizer!r}"
        documents = "'purebp docs backprop' and 'purebp docs optimizers'"
    lines = [
        f"One step of {what} on {source}, every number as purebp computes it." if step == 1 else
        f"Step {step} of {what} on {source}, every number as purebp computes it.",
        f"Network {net.sizes}: {hidden}output {net.output_activation}, loss {net.loss_name},"
        f" {rule}, {len(X)} samples.",
    ]
    if step > 1:
        taken, they = ("Step 1 was", "it") if step == 2 else (f"Steps 1 to {step - 1} were", "they")
        kept = ("network and the optimizer's state below are where {} left them"
                if optimizer is not None else "network below is where {} left it").format(they)
        lines.append(f"{taken} taken silently on the same samples; the {kept}.")
    lines += [
        f"Equation numbers refer to {documents}; layers count from 1 (W1 is weights[0]).",
        f"Inputs a0 = X = {X!r}",
        f"Targets y = {y!r}",
    ]
    return lines


def render(lines: List[Line], head: List[str], fmt: str = "text") -> str:
    """Return the explained step as terminal text or Markdown."""
    if fmt not in ("text", "md"):
        raise ValueError(f"render: fmt must be 'text' or 'md', got {_checks._short_repr(fmt)}")
    out: List[str] = []
    if fmt == "md":
        out.append("# One step of backpropagation, with its numbers")
        out.append("")
        out.extend(head)
    else:
        out.extend(head)
    section = None
    for line in lines:
        if line.section != section:
            section = line.section
            out.append("")
            out.append(f"## {section}" if fmt == "md" else section)
            if fmt == "md":
                out.append("")
        out.append(f"- `{line.text.strip()}`" if fmt == "md" else line.text)
    return "\n".join(out) + "\n"


def run(net: Network, X: RealMatrix, y: RealMatrix, learning_rate: Optional[float], source: str,
        fmt: str = "text", precision: int = 4, max_entries: int = 32, *,
        optimizer: Optional[Optimizer] = None, step: int = 1) -> Dict[str, Any]:
    """Explain and render; return {"text": ..., "lines": [...]}.

    ``step`` only says which step this is, in the header; taking the steps
    before it is the caller's (``purebp explain --step``).
    """
    lines = explain(net, X, y, learning_rate, precision, max_entries=max_entries,
                    optimizer=optimizer)
    head = header(net, X, y, learning_rate, source, optimizer=optimizer, step=step)
    return {"text": render(lines, head, fmt), "lines": lines}
