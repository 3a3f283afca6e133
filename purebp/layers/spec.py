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
import inspect
from typing import Any, Dict, List, Sequence, Tuple

from purebp._checks import MAX_WEIGHTS
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
#: The deepest nesting of brackets a layer list may have (a pair inside a call needs 2).
MAX_NESTING = 8


def _nesting(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    return deepest


def _parameters(name: str, args: Sequence[Any], kwargs: Dict[str, Any]) -> int:
    """How many parameters the layer would have, worked out from its arguments before it is
    made (0 where they do not bind: making it then says what is wrong)."""
    try:
        bound = inspect.signature(LAYERS[name]).bind(*args, **kwargs)
    except TypeError:
        return 0
    bound.apply_defaults()
    a = bound.arguments

    def whole(*values: Any) -> bool:
        return all(type(v) is int and v > 0 for v in values)

    if name == "Linear" and whole(a["in_features"], a["out_features"]):
        return int((a["in_features"] + 1) * a["out_features"])
    if name == "Conv2d":
        k = a["kernel_size"]
        kh, kw = (k, k) if isinstance(k, int) else (tuple(k) + (1, 1))[:2]
        if whole(a["in_channels"], a["out_channels"], kh, kw):
            return int(a["out_channels"] * (a["in_channels"] * kh * kw + 1))
    if name in ("BatchNorm1d", "BatchNorm2d") and whole(a["num_features"]):
        return int(4 * a["num_features"])
    if name == "LayerNorm":
        dims = a["normalized_shape"]
        dims = (dims,) if isinstance(dims, int) else tuple(dims)
        if dims and whole(*dims):
            count = 2
            for d in dims:
                count *= d
            return count
    return 0


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
    if _nesting(text) > MAX_NESTING:
        raise ValueError(f"{op}: the layer list must nest brackets at most {MAX_NESTING} deep,"
                         f" got {_nesting(text)}")
    try:
        tree = ast.parse(f"({text.strip()},)" if text.strip() else "()", mode="eval")
    except (RecursionError, MemoryError):
        raise ValueError(f"{op}: the layer list must be layers like 'Conv2d(1, 4, 3), ReLU()',"
                         f" got text too deeply nested to read") from None
    except SyntaxError as error:
        raise ValueError(f"{op}: the layer list must be layers like 'Conv2d(1, 4, 3), ReLU()',"
                         f" separated by commas; got a syntax error at character"
                         f" {max(1, (error.offset or 2) - 1)}: {error.msg}") from None
    items = tree.body.elts if isinstance(tree.body, ast.Tuple) else []
    if not items:
        raise ValueError(f"{op}: the layer list must name at least one layer, got none")
    calls = []
    total = 0
    for k, item in enumerate(items, start=1):
        call = item if isinstance(item, ast.Call) else None
        name_node = call.func if call is not None else item
        name = name_node.id if isinstance(name_node, ast.Name) else _shown(text, name_node)
        if name not in LAYERS:
            raise ValueError(f"{op}: layer {k} must be one of purebp.layers' layers"
                             f" ({', '.join(LAYERS)}), got {name!r}")
        args = [_value(op, k, name, a) for a in (call.args if call else [])]
        kwargs = {kw.arg: _value(op, k, name, kw.value) for kw in (call.keywords if call else [])
                  if kw.arg is not None}
        if call is not None and any(kw.arg is None for kw in call.keywords):
            raise ValueError(f"{op}: layer {k} ({name}) must give its arguments one by one,"
                             f" got **")
        if "generator" in kwargs:
            raise ValueError(f"{op}: layer {k} ({name}): generator cannot be given in a layer"
                             f" list (the seed gives it), got generator=")
        total += _parameters(name, args, kwargs)
        if total > MAX_WEIGHTS:
            raise ValueError(f"{op}: the layers' parameters must be at most {MAX_WEIGHTS:,} in"
                             f" all (beyond that pure Python takes hours a step), got {total:,}"
                             f" by layer {k}")
        calls.append((k, name, args, kwargs))
    layers: List[Layer] = []
    for k, name, args, kwargs in calls:  # made only once all of them are known to fit
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
                     f" None or a tuple of numbers, got {_shown(None, node)!r}")


def _shown(text: Any, node: ast.AST) -> str:
    """A node's source, short, for a message (never ast.unparse: it recurses)."""
    try:
        shown = ast.unparse(node) if _depth(node) < 50 else type(node).__name__
    except (RecursionError, MemoryError, ValueError):
        shown = type(node).__name__
    return shown[:40]


def _depth(node: ast.AST) -> int:
    deepest, todo = 0, [(node, 1)]
    while todo:
        current, depth = todo.pop()
        deepest = max(deepest, depth)
        if deepest >= 50:
            return deepest
        todo.extend((child, depth + 1) for child in ast.iter_child_nodes(current))
    return deepest


def describe(layers: Sequence[Layer]) -> str:
    """Return the layer list as text, each layer as its repr (which parse_layers reads)."""
    return ", ".join(repr(layer) for layer in layers)


def sizes_per_sample(layers: Sequence[Layer], shape: Sequence[int]) -> Tuple[int, int]:
    """(the numbers held, the multiply-adds) one sample of ``shape`` (C, H, W or features)
    costs through the layers' forward and backward, worked out from the shapes alone,
    before anything is made: what bounds a run before it starts. Stops counting where a
    layer would refuse the shape (its forward then says why, before it allocates)."""
    current = tuple(shape)
    held, work = _count(current), 0
    for layer in layers:
        if isinstance(layer, Linear) and current == (layer.in_features,):
            work += 3 * layer.in_features * layer.out_features
            current = (layer.out_features,)
        elif isinstance(layer, (Conv2d, MaxPool2d, AvgPool2d)) and len(current) == 3:
            (kh, kw), (sh, sw), (ph, pw) = layer.kernel_size, layer.stride, layer.padding
            Ho, Wo = (current[1] + 2 * ph - kh) // sh + 1, (current[2] + 2 * pw - kw) // sw + 1
            if Ho < 1 or Wo < 1:
                break
            channels = layer.out_channels if isinstance(layer, Conv2d) else current[0]
            window = current[0] * kh * kw if isinstance(layer, Conv2d) else kh * kw
            held += Ho * Wo * window  # Conv2d's patches, a pool's windows
            held += (current[1] + 2 * ph) * (current[2] + 2 * pw) * current[0]  # the padded input
            work += 3 * channels * Ho * Wo * window
            current = (channels, Ho, Wo)
        elif isinstance(layer, Flatten):
            current = (_count(current),)
        elif isinstance(layer, (Linear, Conv2d, MaxPool2d, AvgPool2d)):
            break
        held += 3 * _count(current)  # the output, its gradient, what backward keeps
        work += _count(current)
    return held, work


def _count(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n
