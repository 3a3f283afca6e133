"""``purebp explain``: one training step, every equation with its numbers.

    explain(net, X, y, learning_rate, precision=4, max_terms=6, max_entries=32)
        → a list of Line(section, tag, text, value): the forward pass layer by
          layer, the loss, each delta, each gradient, each updated parameter
    render(lines, header, fmt="text"|"md")  → the printable text

Every value is taken from ``Network.trace``, that is from the library's own
computation; the formula beside it is filled in with the numbers that went
into it. Tags are the equation numbers of docs/backprop.md: (F1) (F2) (L)
(BP1) (BP2) (BP3) (BP4) (GD). Layers count from 1 as in the docs: W1 is
``weights[0]``, z1 is ``zs[0]``, a0 is the input.

What it does not do: explain more than one step (train for that), or draw
(see purebp.study.plots).
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, NamedTuple, Sequence, Tuple

from purebp import _checks
from purebp._types import RealMatrix
from purebp.network import Network

SECTIONS = ("Forward pass", "Loss", "Backward pass", "Update")


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


def _sum(terms: Sequence[str], max_terms: int) -> str:
    """Join terms with +, eliding the middle when there are more than max_terms."""
    if len(terms) <= max_terms:
        return " + ".join(terms)
    return " + ".join(list(terms[: max_terms - 1]) + [f"… ({len(terms)} terms) …", terms[-1]])


# How each activation and its derivative read, given the numbers (as strings).
_F = {
    "identity": "{z}",
    "sigmoid": "σ({z})",
    "tanh": "tanh({z})",
    "relu": "max(0, {z})",
    "leaky_relu": "{z} if {z} > 0 else 0.01·{z}",
}
_F_PRIME = {
    "identity": ("1", "1"),
    "sigmoid": ("a·(1 − a)", "{a}·(1 − {a})"),
    "tanh": ("(1 − a²)", "(1 − {a}²)"),
    "relu": ("[z > 0]", "[{z} > 0]"),
    "leaky_relu": ("(1 if z > 0 else 0.01)", "(1 if {z} > 0 else 0.01)"),
}
_LOSS = {
    "half_sse": "½ Σ_n Σ_k (ŷ − y)²",
    "mse": "(1/nK) Σ_n Σ_k (ŷ − y)²",
    "bce": "(1/nK) Σ_n Σ_k [max(z, 0) − y·z + log(1 + e^−|z|)]",
    "cross_entropy": "(1/n) Σ_n Σ_k y·(log Σ_j e^z_j − z_k)",
}


def explain(net: Network, X: RealMatrix, y: RealMatrix, learning_rate: float, precision: int = 4,
            max_terms: int = 6, max_entries: int = 32) -> List[Line]:
    """Return the lines of one explained training step of ``net`` on (X, y).

    Quantities with more than ``max_entries`` entries are shown by their
    first ``max_entries`` entries (and a note of how many there are); sums of
    more than ``max_terms`` terms elide their middle. The network is not changed.
    """
    if isinstance(precision, bool) or not isinstance(precision, int) or not 1 <= precision <= 17:
        raise ValueError(f"explain: precision must be an int from 1 to 17,"
                         f" got {_checks._short_repr(precision)}")
    t = net.trace(X, y, learning_rate)
    zs, acts, deltas = t["zs"], t["activations"], t["deltas"]
    grads, updated, loss = t["gradients"], t["updated"], t["loss"]
    targets = [[float(v) for v in row] for row in y]
    L, n = net.depth, len(acts[0])
    K = net.sizes[-1]

    def f(v: float) -> str:
        return number(v, precision)

    def fp(v: float) -> str:
        """A number as a factor: negative ones in parentheses."""
        return f"({f(v)})" if v < 0 else f(v)

    lines: List[Line] = []

    def add(section: str, tag: str, text: str, value: float) -> None:
        lines.append(Line(section, tag, f"({tag}) {text} = {f(value)}", value))

    def entries(rows: int, cols: int) -> Tuple[List[Tuple[int, int]], int]:
        """The (r, c) pairs to show, at most max_entries of them."""
        pairs = [(r, c) for r in range(rows) for c in range(cols)]
        return pairs[:max_entries], len(pairs)

    def note(section: str, shown: int, total: int, what: str) -> None:
        if total > shown:
            lines.append(Line(section, "", f"      … and {total - shown} more entries of {what}",
                              math.nan))

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
                f" = {_sum(terms, max_terms)} + {f(b[c])}", zs[l][r][c])
        note("Forward pass", len(pairs), total, f"z{k}")
        for r, c in pairs:
            if name == "softmax":
                text = (f"a{k}[{r}][{c}] = softmax(z{k}[{r}])[{c}] = e^{fp(zs[l][r][c])}"
                        f" / Σ_j e^z{k}[{r}][j]")
            else:
                form = _F[name]
                text = f"a{k}[{r}][{c}] = {form.format(z=f'z{k}[{r}][{c}]')}" \
                       f" = {form.format(z=f(zs[l][r][c]))}"
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
            filled = numbers.format(a=f(a), z=f(zz))
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
            filled = numbers.format(a=f(acts[k][r][c]), z=f(zs[l][r][c]))
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

    # the update: (GD)
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


def header(net: Network, X: RealMatrix, y: RealMatrix, learning_rate: float,
           source: str) -> List[str]:
    """The lines that say what is being explained."""
    hidden = f"hidden {net.activation}, " if net.depth > 1 else ""
    return [
        f"One step of gradient descent on {source}, every number as purebp computes it.",
        f"Network {net.sizes}: {hidden}output {net.output_activation}, loss {net.loss_name},"
        f" learning rate η = {learning_rate!r}, {len(X)} samples.",
        "Equation numbers refer to docs/backprop.md; layers count from 1 (W1 is weights[0]).",
        f"Inputs a0 = X = {X!r}",
        f"Targets y = {y!r}",
    ]


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


def run(net: Network, X: RealMatrix, y: RealMatrix, learning_rate: float, source: str,
        fmt: str = "text", precision: int = 4) -> Dict[str, Any]:
    """Explain and render; return {"text": ..., "lines": [...]}."""
    lines = explain(net, X, y, learning_rate, precision)
    return {"text": render(lines, header(net, X, y, learning_rate, source), fmt),
            "lines": lines}
