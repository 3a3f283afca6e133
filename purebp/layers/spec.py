"""A layer list as text, as one writes it in Python: read it into layers, write it back.

    parse_layers(text)   "Conv2d(1, 4, 3, padding=1), ReLU(), MaxPool2d(2), Flatten(), Linear(64, 4)"
                         → the layers (``purebp train --model`` takes this text, or a file of it)
    describe(layers)     the text of a layer list, which parse_layers reads back

Only the layers of purebp.layers by name, with numbers, True/False, None and
tuples of numbers as arguments, are read: the text is parsed with the
standard library's ``ast`` and nothing in it is ever run. A name alone
(``ReLU``) means the layer with its defaults.
"""

from __future__ import annotations

import ast
from typing import Any, Dict, List, Sequence

from purebp.layers.activation import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from purebp.layers.base import Layer
from purebp.layers.conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from purebp.layers.dropout import Dropout
from purebp.layers.linear import Linear
from purebp.layers.norm import BatchNorm1d, BatchNorm2d, LayerNorm

#: The layers a layer list may name.
LAYERS: Dict[str, Any] = {cls.__name__: cls for cls in (
    Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten, BatchNorm1d, BatchNorm2d, LayerNorm, Dropout,
    ReLU, LeakyReLU, Sigmoid, Tanh, Identity, Softmax)}

#: The longest layer list text read (a list of 100 layers fits many times over).
MAX_TEXT = 10_000


def parse_layers(text: str) -> List[Layer]:
    """Return the layers the text names, in order, made with the arguments it gives.

    >>> parse_layers("Linear(2, 3), ReLU, Flatten()")
    [Linear(in_features=2, out_features=3, bias=True), ReLU(), Flatten(start_dim=1, end_dim=-1)]
    >>> parse_layers("Linear(2, 3), open('x')")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: layers: layer 2 must be one of purebp.layers' layers (Linear, ...), got 'open'
    """
    op = "layers"
    if not isinstance(text, str):
        raise TypeError(f"{op}: the layer list must be a text, got {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise ValueError(f"{op}: the layer list must be at most {MAX_TEXT:,} characters, got"
                         f" {len(text):,}")
    try:
        tree = ast.parse(f"({text.strip()},)" if text.strip() else "()", mode="eval")
    except SyntaxError as error:
        raise ValueError(f"{op}: the layer list must be layers like 'Conv2d(1, 4, 3), ReLU()',"
                         f" separated by commas; got a syntax error at character"
                         f" {max(1, (error.offset or 2) - 1)}: {error.msg}") from None
    items = tree.body.elts if isinstance(tree.body, ast.Tuple) else []
    if not items:
        raise ValueError(f"{op}: the layer list must name at least one layer, got none")
    layers: List[Layer] = []
    for k, item in enumerate(items, start=1):
        call = item if isinstance(item, ast.Call) else None
        name_node = call.func if call is not None else item
        name = name_node.id if isinstance(name_node, ast.Name) else ast.unparse(name_node)[:40]
        if name not in LAYERS:
            raise ValueError(f"{op}: layer {k} must be one of purebp.layers' layers"
                             f" ({', '.join(LAYERS)}), got {name!r}")
        args = [_value(op, k, name, a) for a in (call.args if call else [])]
        kwargs = {kw.arg: _value(op, k, name, kw.value) for kw in (call.keywords if call else [])
                  if kw.arg is not None}
        if call is not None and any(kw.arg is None for kw in call.keywords):
            raise ValueError(f"{op}: layer {k} ({name}) must give its arguments one by one,"
                             f" got **")
        try:
            layers.append(LAYERS[name](*args, **kwargs))
        except (TypeError, ValueError) as error:
            message = str(error)
            if message.startswith(f"{name}: "):  # the layer's own name once is enough
                message = message[len(name) + 2:]
            raise type(error)(f"{op}: layer {k} ({name}): {message}") from None
    return layers


def _value(op: str, k: int, name: str, node: ast.expr) -> Any:
    """A layer argument: a number, True/False/None, or a tuple or list of numbers."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
            and isinstance(node.operand, ast.Constant):
        node = ast.Constant(-node.operand.value) if isinstance(
            node.operand.value, (int, float)) and not isinstance(node.operand.value, bool) else node
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (int, float))):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_value(op, k, name, element) for element in node.elts)
    raise ValueError(f"{op}: layer {k} ({name}): an argument must be a number, True, False,"
                     f" None or a tuple of numbers, got {ast.unparse(node)[:40]!r}")


def describe(layers: Sequence[Layer]) -> str:
    """Return the layer list as text, each layer as its repr (which parse_layers reads)."""
    return ", ".join(repr(layer) for layer in layers)
