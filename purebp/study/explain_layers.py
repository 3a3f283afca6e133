"""One step of a purebp.layers Sequential (a small CNN), every equation with its numbers.

    explain_model(model, X, y, learning_rate, precision=4, max_terms=6, max_entries=4)
        → a list of Line(section, tag, text, value), as purebp.study.explain's:
          each layer's forward pass, the loss, each layer's backward pass in
          reverse (∂E/∂input and the parameters' gradients), the SGD update
    header_model(model, X, y, learning_rate, source) → the lines that say what it is

Every value is the library's own: the layers' outputs and gradients from one
``forward`` and ``backward`` of the model; the formula beside it is filled in
with the numbers that went into it. Tags are the equation ids of
purebp/docs/layers.md: (D1)–(D4) Linear, (E1) (E2) an element-wise activation,
(C1)–(C4) Conv2d, (MP1) (MP2) max pooling, (AP1) (AP2) average pooling, (FL)
Flatten; the loss is (L) and the update (S) (backprop.md, optimizers.md).
Layers are numbered from 0, as the model's keys ("0.weight"). The other
layers (normalisation, dropout, softmax) get one line saying so.

What it does not do: explain an optimizer other than SGD, or more than one
step. The model is changed as one SGD step changes it.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Tuple

from purebp.layers import (
    AvgPool2d,
    Conv2d,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from purebp.layers.base import Layer
from purebp.layers.tensor import Tensor, dims, flat
from purebp.optimizers import SGD
from purebp.study.explain import _LOSS, Line, _sum, as_factor, number

#: How each element-wise layer's function and derivative read, given the numbers.
_F: Dict[type, Tuple[str, str]] = {ReLU: ("max(0, {x})", "[{x} > 0]"), Sigmoid: ("σ({x})", "{y}·(1 − {py})"),
      Tanh: ("tanh({x})", "(1 − {py}²)"), Identity: ("{x}", "1"),
      LeakyReLU: ("({x} if {x} > 0 else {slope}·{px})", "(1 if {x} > 0 else {slope})")}


def _entries(shape: Tuple[int, ...], limit: int) -> List[Tuple[int, ...]]:
    """The first ``limit`` index tuples of a shape, the last index fastest."""
    out: List[Tuple[int, ...]] = []
    total = 1
    for d in shape:
        total *= d
    for k in range(min(limit, total)):
        index, rest = [], k
        for d in reversed(shape):
            index.append(rest % d)
            rest //= d
        out.append(tuple(reversed(index)))
    return out


def _at(t: Tensor, index: Tuple[int, ...]) -> float:
    for i in index:
        t = t[i]
    return float(t)


def _name(symbol: str, index: Tuple[int, ...]) -> str:
    return symbol + "".join(f"[{i}]" for i in index)


def _more(section: str, shown: int, total: int, what: str) -> List[Line]:
    if total <= shown:
        return []
    return [Line(section, "", f"      … and {total - shown} more entries of {what}", math.nan)]


def explain_model(model: Sequential, X: Tensor, y: Tensor, learning_rate: float,
                  precision: int = 4, max_terms: int = 6, max_entries: int = 4) -> List[Line]:
    """Take one SGD step on (X, y); return its equations with their numbers."""
    p = precision

    def num(v: float) -> str:
        return number(v, p)

    def fac(v: float) -> str:
        return as_factor(v, p)

    lines: List[Line] = []
    inputs: List[Tensor] = []
    out = X
    section = "Forward pass"
    for k, layer in enumerate(model.layers):
        inputs.append(out)
        out = layer.forward(out)
        a, b = f"a{k}", f"a{k + 1}"
        for index in _entries(dims(out), max_entries):
            text, value = _forward_line(layer, k, inputs[-1], out, index, a, b, num, fac,
                                        max_terms)
            lines.append(Line(section, text[1:text.index(")")] if text.startswith("(") else "",
                              text, value))
        lines += _more(section, min(max_entries, len(flat(out))), len(flat(out)),
                       f"{b} ({type(layer).__name__} {k})")
    loss = model.loss(out, y)
    last = f"a{len(model.layers)}"
    lines.append(Line("Loss", "L", f"(L) E = {_LOSS[model.loss_name]} of {last} against y ="
                                   f" {num(loss)}", loss))
    g = model.loss_gradient(out, y)
    section = "Backward pass"
    for index in _entries(dims(g), max_entries):
        lines.append(Line(section, "L", f"(L) ∂E/∂{_name(last, index)} = {num(_at(g, index))}",
                          _at(g, index)))
    for k in reversed(range(len(model.layers))):
        layer = model.layers[k]
        g_in = layer.backward(g)
        lines += _backward_lines(layer, k, inputs[k], g, g_in, num, fac, max_terms, max_entries)
        g = g_in
    section = "Update"
    step = SGD(learning_rate)
    params = model.parameters()
    grads = model.gradients()
    for key, value in params.items():
        for index in _entries(dims(value), max_entries):
            before, grad = _at(value, index), _at(grads[key], index)
            after = step.update([before], [grad])[0]
            layer_index, name = key.split(".", 1)
            entry = _name(f"{name}{layer_index}", index)
            lines.append(Line(section, "S", f"(S) {entry} ← {entry} − lr·∂E/∂{entry} ="
                                            f" {num(before)} − {learning_rate!r}·{fac(grad)} ="
                                            f" {num(after)}", after))
    model.step(X, y, SGD(learning_rate))
    return lines


def _forward_line(layer: Layer, k: int, x: Tensor, y: Tensor, index: Tuple[int, ...], a: str,
                  b: str, num: Callable[[float], str], fac: Callable[[float], str],
                  max_terms: int) -> Tuple[str, float]:
    """(the text, the value) of one output entry's forward equation."""
    value = _at(y, index)
    lhs = _name(b, index)
    if isinstance(layer, Linear):
        n, o = index
        terms = [f"{fac(x[n][i])}·{fac(layer.weight[o][i])}" for i in range(layer.in_features)]
        names = f"Σ_i {a}[{n}][i]·weight{k}[{o}][i]" + (f" + bias{k}[{o}]" if layer.bias else "")
        bias = f" + {fac(layer.bias[o])}" if layer.bias is not None else ""
        return f"(D1) {lhs} = {names} = {_sum(terms, max_terms)}{bias} = {num(value)}", value
    if isinstance(layer, Conv2d):
        n, o, i, j = index
        (kh, kw), (sh, sw), (ph, pw) = layer.kernel_size, layer.stride, layer.padding
        terms = []
        H, W = len(x[0][0]), len(x[0][0][0])
        for c in range(layer.in_channels):
            for pp in range(kh):
                for q in range(kw):
                    u, v = i * sh + pp - ph, j * sw + q - pw
                    if 0 <= u < H and 0 <= v < W:
                        terms.append(f"{fac(layer.weight[o][c][pp][q])}·{fac(x[n][c][u][v])}")
        bias = f"{fac(layer.bias[o])} + " if layer.bias is not None else ""
        names = (f"{f'bias{k}[{o}] + ' if layer.bias is not None else ''}Σ_c Σ_p Σ_q"
                 f" weight{k}[{o}][c][p][q]·{a}[{n}][c][{i}·{sh} + p − {ph}][{j}·{sw} + q − {pw}]")
        return f"(C1) {lhs} = {names} = {bias}{_sum(terms, max_terms)} = {num(value)}", value
    if isinstance(layer, (MaxPool2d, AvgPool2d)):
        n, c, i, j = index
        (kh, kw), (sh, sw), (ph, pw) = layer.kernel_size, layer.stride, layer.padding
        H, W = len(x[0][0]), len(x[0][0][0])
        window = [x[n][c][i * sh + pp - ph][j * sw + q - pw] for pp in range(kh) for q in range(kw)
                  if 0 <= i * sh + pp - ph < H and 0 <= j * sw + q - pw < W]
        shown = ", ".join(num(v) for v in window)
        if isinstance(layer, MaxPool2d):
            return f"(MP1) {lhs} = max of its {kh}×{kw} window = max({shown}) = {num(value)}", value
        return (f"(AP1) {lhs} = (1/{kh * kw})·Σ of its {kh}×{kw} window = (1/{kh * kw})·"
                f"({_sum([num(v) for v in window], max_terms)}) = {num(value)}", value)
    if isinstance(layer, Flatten):
        return f"(FL) {lhs} = the entries of {a} in order, the last index fastest = {num(value)}", value
    forms = _F.get(type(layer))
    if forms is not None:
        xv = _at(x, index)
        slope = getattr(layer, "negative_slope", 0.0)
        f = forms[0].format(x=num(xv), px=fac(xv), slope=slope)
        return f"(E1) {lhs} = {f} = {num(value)}", value
    return (f"{lhs} = {num(value)} ({type(layer).__name__}: its equations are in purebp docs"
            f" layers, not written out here)", value)


def _backward_lines(layer: Layer, k: int, x: Tensor, g: Tensor, g_in: Tensor,
                    num: Callable[[float], str], fac: Callable[[float], str], max_terms: int,
                    max_entries: int) -> List[Line]:
    """The lines of layer k's backward pass: ∂E/∂(its parameters), then ∂E/∂(its input)."""
    section = "Backward pass"
    a, b = f"a{k}", f"a{k + 1}"
    out: List[Line] = []

    def add(tag: str, text: str, value: float) -> None:
        out.append(Line(section, tag, f"({tag}) {text}", value))

    if isinstance(layer, Linear):
        for o, i in _entries((layer.out_features, layer.in_features), max_entries):
            value = layer.grads["weight"][o][i]
            terms = [f"{fac(g[n][o])}·{fac(x[n][i])}" for n in range(len(x))]
            add("D3", f"∂E/∂weight{k}[{o}][{i}] = Σ_n ∂E/∂{b}[n][{o}]·{a}[n][{i}] ="
                      f" {_sum(terms, max_terms)} = {num(value)}", value)
        if layer.bias is not None:
            for (o,) in _entries((layer.out_features,), max_entries):
                value = layer.grads["bias"][o]
                add("D4", f"∂E/∂bias{k}[{o}] = Σ_n ∂E/∂{b}[n][{o}] ="
                          f" {_sum([num(g[n][o]) for n in range(len(g))], max_terms)} ="
                          f" {num(value)}", value)
        for n, i in _entries(dims(g_in), max_entries):
            value = g_in[n][i]
            terms = [f"{fac(g[n][o])}·{fac(layer.weight[o][i])}" for o in range(layer.out_features)]
            add("D2", f"∂E/∂{a}[{n}][{i}] = Σ_o ∂E/∂{b}[{n}][o]·weight{k}[o][{i}] ="
                      f" {_sum(terms, max_terms)} = {num(value)}", value)
        return out
    if isinstance(layer, Conv2d):
        (kh, kw), (sh, sw), (ph, pw) = layer.kernel_size, layer.stride, layer.padding
        N, O, Ho, Wo = dims(g)
        H, W = len(x[0][0]), len(x[0][0][0])
        for o, c, pp, q in _entries((O, layer.in_channels, kh, kw), max_entries):
            value = layer.grads["weight"][o][c][pp][q]
            terms = [f"{fac(g[n][o][i][j])}·{fac(x[n][c][i * sh + pp - ph][j * sw + q - pw])}"
                     for n in range(N) for i in range(Ho) for j in range(Wo)
                     if 0 <= i * sh + pp - ph < H and 0 <= j * sw + q - pw < W]
            add("C2", f"∂E/∂weight{k}[{o}][{c}][{pp}][{q}] = Σ_n Σ_i Σ_j ∂E/∂{b}[n][{o}][i][j]"
                      f"·{a}[n][{c}][i·{sh} + {pp} − {ph}][j·{sw} + {q} − {pw}] ="
                      f" {_sum(terms, max_terms)} = {num(value)}", value)
        if layer.bias is not None:
            for (o,) in _entries((O,), max_entries):
                value = layer.grads["bias"][o]
                terms = [num(g[n][o][i][j]) for n in range(N) for i in range(Ho) for j in range(Wo)]
                add("C3", f"∂E/∂bias{k}[{o}] = Σ_n Σ_i Σ_j ∂E/∂{b}[n][{o}][i][j] ="
                          f" {_sum(terms, max_terms)} = {num(value)}", value)
        for n, c, u, v in _entries(dims(g_in), max_entries):
            value = g_in[n][c][u][v]
            terms = []
            for o in range(O):
                for pp in range(kh):
                    i, rest = divmod(u + ph - pp, sh)
                    if rest or not 0 <= i < Ho:
                        continue
                    for q in range(kw):
                        j, rest = divmod(v + pw - q, sw)
                        if rest == 0 and 0 <= j < Wo:
                            terms.append(f"{fac(layer.weight[o][c][pp][q])}·{fac(g[n][o][i][j])}")
            add("C4", f"∂E/∂{a}[{n}][{c}][{u}][{v}] = Σ_o Σ_p Σ_q weight{k}[o][{c}][p][q]·∂E/∂{b}"
                      f"[{n}][o][({u} + {ph} − p)/{sh}][({v} + {pw} − q)/{sw}] ="
                      f" {_sum(terms, max_terms) or '0'} = {num(value)}", value)
        return out
    if isinstance(layer, MaxPool2d):
        chosen = layer._saved_for_backward()["chosen"]
        for n, c, u, v in _entries(dims(g_in), max_entries):
            value = g_in[n][c][u][v]
            from_windows = [(i, j) for i in range(len(g[0][0])) for j in range(len(g[0][0][0]))
                            if chosen[n][c][i][j] == (u, v)]
            if from_windows:
                shown = " + ".join(f"∂E/∂{b}[{n}][{c}][{i}][{j}]" for i, j in from_windows)
                add("MP2", f"∂E/∂{a}[{n}][{c}][{u}][{v}] = {shown} (the window's largest is this"
                           f" entry) = {num(value)}", value)
            else:
                add("MP2", f"∂E/∂{a}[{n}][{c}][{u}][{v}] = 0 (no window chose this entry) ="
                           f" {num(value)}", value)
        return out
    if isinstance(layer, AvgPool2d):
        kh, kw = layer.kernel_size
        for n, c, u, v in _entries(dims(g_in), max_entries):
            value = g_in[n][c][u][v]
            add("AP2", f"∂E/∂{a}[{n}][{c}][{u}][{v}] = (1/{kh * kw})·Σ over the windows holding"
                       f" it of ∂E/∂{b} = {num(value)}", value)
        return out
    if isinstance(layer, Flatten):
        for index in _entries(dims(g_in), max_entries):
            value = _at(g_in, index)
            add("FL", f"∂E/∂{_name(a, index)} = its entry of ∂E/∂{b}, reshaped = {num(value)}",
                value)
        return out
    forms = _F.get(type(layer))
    saved: Any = layer._saved
    for index in _entries(dims(g_in), max_entries):
        value = _at(g_in, index)
        if forms is not None and saved is not None:
            xv, yv = _at(saved["x"], index), _at(saved["y"], index)
            slope = getattr(layer, "negative_slope", 0.0)
            fp = forms[1].format(x=num(xv), y=num(yv), py=fac(yv), slope=slope)
            add("E2", f"∂E/∂{_name(a, index)} = ∂E/∂{_name(b, index)}·f′ ="
                      f" {fac(_at(g, index))}·{fp} = {num(value)}", value)
        else:
            out.append(Line(section, "", f"∂E/∂{_name(a, index)} = {num(value)}"
                                         f" ({type(layer).__name__}: see purebp docs layers)", value))
    return out


def header_model(model: Sequential, X: Tensor, y: Tensor, learning_rate: float,
                 source: str) -> List[str]:
    """The lines that say what is being explained."""
    return [
        f"One step of gradient descent on {source}, every number as purebp computes it.",
        f"Sequential of {len(model)} layers: "
        + ", ".join(f"{k}: {layer!r}" for k, layer in enumerate(model.layers)),
        f"Loss {model.loss_name}, learning rate lr = {learning_rate!r}, {len(X)} samples.",
        "Equation numbers refer to 'purebp docs layers'; a0 is the input, a(k+1) layer k's"
        " output, weight0 the weight of layer 0.",
    ]

