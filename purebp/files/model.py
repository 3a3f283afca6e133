"""Model files: save a network, load it back exactly, and resume its training.

A model file is UTF-8 JSON (purebp/docs/model-format.md describes every field):

    {"format": "purebp-model", "version": 2, "class": "Network",
     "network": {"sizes": [...], "activation": ..., "output_activation": ...,
                 "loss": ..., "init": ...},
     "parameters": {"weights": [...], "biases": [...]},
     "training": {"epochs_trained": 120,
                  "rng_state": {"version": 3, "key": [...625 ints...], "gauss_next": null},
                  "optimizer": {"name": "adam", "arguments": {...},
                                "state": {"step": 120, "exp_avg": {"weights": [...],
                                          "biases": [...]}, ...}},
                  "early_stopping": {"epoch": ..., "val_loss": ..., ...}},
     "run": {...}}

``training`` is what a checkpoint needs to resume bit for bit: the epochs
done so far and, for ``Network``, the state of the random generator that
shuffles its mini-batches, the optimizer with its state (each buffer in
the layout of "parameters") and early stopping's record. Version 1 files
(before optimizers) still load: their network has no optimizer yet.
``run`` is free-form, JSON-safe settings that the command line records so
that ``purebp train --resume`` needs nothing else.

    save(net, path, run=None)   write atomically (temporary file, then os.replace)
    load(path, cls=None)        a new network of the file's class (or refuse another)
    read(path)                  (network, run) for the command line
    model_file(cls)             the class decorator that lets a network class take part

A class takes part by a small protocol (``Saveable``; and ``WithGenerator``
for a network whose generator is training state), so this module knows no
network class by name and imports none:

    MODEL_CLASS                 the class's name in the file's "class" field
    model_network()             the "network" field: sizes, activation,
                                output_activation, loss, init
    check_parameters(op)        (weights, biases) as floats, every layer, or a
                                TypeError/ValueError naming the attribute at fault
    from_model(network)         (a classmethod) a new network of that architecture;
                                ValueError if the class cannot be that
    _set_layers(weights, biases), epochs_trained
    rng                         if the network has one: its state is saved and restored
    optimizer, best             if the network has them (Network): saved and restored

Floats are written as their shortest round-trip repr, so a loaded network
equals the saved one bit for bit. Loading checks everything (format,
version, class, names, shapes against sizes, finite numbers, the generator
state) before it builds anything, and raises ``ModelFormatError`` (a
ValueError) naming the file and the place; nothing in a file is executed.
"""

from __future__ import annotations

import json
import math
import random
from typing import (
    Any,
    ClassVar,
    Dict,
    List,
    Optional,
    Protocol,
    Tuple,
    Type,
    TypeVar,
    overload,
    runtime_checkable,
)

from purebp import _checks, optimizers
from purebp._types import Matrix, StrPath
from purebp.errors import ModelFormatError as ModelFormatError  # still importable from here
from purebp.files.jsonfile import (
    FormatError,
    describe,
    fail,
    field,
    layers,
    names,
    network_spec,
    number,
    obj,
    parse_json,
    read_text,
    write_atomic,
)

FORMAT = "purebp-model"
VERSION = 2
#: The versions this purebp reads: 1 (before optimizers) and 2.
READS = (1, 2)
#: Model files larger than this are refused before they are read.
MAX_BYTES = 512 * 1024 * 1024
_MT_WORDS = 625  # random.Random's Mersenne Twister state: 624 words and an index


def _rng_to_json(rng: random.Random) -> Dict[str, Any]:
    version, key, gauss_next = rng.getstate()
    return {"version": version, "key": list(key), "gauss_next": gauss_next}


def _rng_from_json(value: Any, where: str) -> random.Random:
    state = obj(value, where)
    if field(state, "version", where) != 3:
        fail(f"{where}.version must be 3 (random.Random's state), got {describe(state['version'])}")
    key = field(state, "key", where)
    if not isinstance(key, list):
        fail(f"{where}.key must be a list of {_MT_WORDS} ints, got {describe(key)}")
    if len(key) != _MT_WORDS:
        fail(f"{where}.key has {len(key)} entries, expected {_MT_WORDS}"
             " (624 words and an index)")
    for i, k in enumerate(key):
        top = 2 ** 32 - 1 if i < _MT_WORDS - 1 else 624
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= top:
            what = "a word of the state" if i < _MT_WORDS - 1 else "the index"
            fail(f"{where}.key[{i}] must be an int from 0 to {top} ({what}), got {describe(k)}")
    gauss_next = state.get("gauss_next")
    if gauss_next is not None:
        gauss_next = number(gauss_next, f"{where}.gauss_next")
    rng = random.Random()
    try:
        rng.setstate((3, tuple(key), None if gauss_next is None else float(gauss_next)))
    except (ValueError, TypeError, OverflowError) as error:
        fail(f"{where} must be a state random.Random accepts, got one it refuses: {error}")
    return rng


class Saveable(Protocol):
    """What a network class provides to be saved and loaded (see the module docstring)."""

    MODEL_CLASS: ClassVar[str]
    epochs_trained: int

    def model_network(self) -> Dict[str, Any]: ...

    def check_parameters(self, op: str) -> Tuple[List[Matrix], List[Matrix]]: ...

    def _set_layers(self, weights: List[Matrix], biases: List[Matrix]) -> None: ...

    @classmethod
    def from_model(cls, network: Dict[str, Any]) -> Saveable: ...


@runtime_checkable
class WithGenerator(Protocol):
    """A network whose random generator (mini-batch shuffles) is part of its training state."""

    rng: random.Random


@runtime_checkable
class WithOptimizer(Protocol):
    """A network whose optimizer and early-stopping record are part of its training state."""

    optimizer: Optional[optimizers.Optimizer]
    best: Optional[Dict[str, Any]]


#: The classes that take part, by their MODEL_CLASS (filled by ``model_file``).
_CLASSES: Dict[str, Type[Saveable]] = {}

_S = TypeVar("_S", bound=Saveable)


def model_file(cls: Type[_S]) -> Type[_S]:
    """Register a network class as one that model files can hold (a class decorator)."""
    _CLASSES[cls.MODEL_CLASS] = cls
    return cls


def _class_name(net: Any) -> str:
    """Return the MODEL_CLASS of a registered network, or raise TypeError for anything else."""
    name = getattr(type(net), "MODEL_CLASS", None)
    if not isinstance(name, str) or _CLASSES.get(name) is not type(net):
        raise TypeError(f"save: net must be a {' or a '.join(_CLASSES)}, got {type(net).__name__}")
    return name


def to_dict(net: Saveable, run: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Return the JSON-ready dict of a Network or NeuralNetwork (and ``run``, if given).

    Every parameter is checked and written as a float (an int or Fraction a
    caller assigned becomes the float it computes with); TypeError or
    ValueError name what is wrong.
    """
    name = _class_name(net)
    weights, biases = net.check_parameters("save")
    training: Dict[str, Any] = {
        "epochs_trained": _checks.count("save", "epochs_trained", net.epochs_trained)}
    if isinstance(net, WithGenerator):  # a network with a generator saves its state
        training["rng_state"] = _rng_to_json(net.rng)
    if isinstance(net, WithOptimizer):
        sizes = net.model_network()["sizes"]
        if net.optimizer is not None:
            training["optimizer"] = _optimizer_to_json(net.optimizer, sizes)
        if net.best is not None:
            if not math.isfinite(net.best["val_loss"]):
                raise ValueError(f"save: best['val_loss'] must be finite for a model file,"
                                 f" got {net.best['val_loss']!r}")
            training["early_stopping"] = dict(net.best)
    data = {"format": FORMAT, "version": VERSION, "class": name, "network": net.model_network(),
            "parameters": {"weights": weights, "biases": biases}, "training": training}
    if run is not None:
        data["run"] = run
    return data


def save(net: Saveable, path: StrPath, run: Optional[Dict[str, Any]] = None) -> None:
    """Write ``net`` to ``path`` atomically; ValueError if it cannot be written.

    The parameters are checked first (a NaN or a wrong shape is refused, and
    nothing is written).
    """
    path = _checks.path("save", path)
    data = to_dict(net, run)
    try:
        # allow_nan=False: a NaN or infinity must never reach a file.
        text = json.dumps(data, indent=1, allow_nan=False) + "\n"
    except (TypeError, ValueError) as error:
        raise ValueError(f"save: run must hold only JSON-safe settings, got one that JSON"
                         f" cannot hold: {error}") from None
    try:
        write_atomic(path, text)
    except OSError as error:
        raise ValueError(f"save: cannot write {_checks.shown_path(path)}:"
                         f" {error.strerror or error}") from None


def _build(data: Any, source: str,
           cls: Optional[Type[Saveable]]) -> Tuple[Saveable, Optional[Dict[str, Any]]]:
    top = obj(data, source)
    if top.get("format") != FORMAT:
        fail(f"{source}.format must be {describe(FORMAT)}, got {describe(top.get('format'))}")
    if type(top.get("version")) is not int or top["version"] not in READS:
        fail(f"{source}.version must be 1 or 2, the versions this purebp reads,"
             f" got {describe(top.get('version'))}")
    name = field(top, "class", source)
    if not isinstance(name, str) or name not in _CLASSES:
        fail(f"{source}.class: unknown class {describe(name)}; expected one of {names(_CLASSES)}")
    if cls is not None and _CLASSES[name] is not cls:
        fail(f"{source}.class must name {cls.__name__}, the class loading it,"
             f" got {describe(name)}; load the file with {name}.load")
    spec = network_spec(field(top, "network", source), f"{source}.network")
    spec["init"] = obj(top["network"], f"{source}.network").get("init", "normal")
    sizes = spec["sizes"]
    params = obj(field(top, "parameters", source), f"{source}.parameters")
    weights = layers(field(params, "weights", f"{source}.parameters"),
                     f"{source}.parameters.weights", list(zip(sizes[:-1], sizes[1:])))
    biases = layers(field(params, "biases", f"{source}.parameters"),
                    f"{source}.parameters.biases", [(1, c) for c in sizes[1:]])
    training = obj(top.get("training", {}), f"{source}.training")
    epochs = training.get("epochs_trained", 0)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        fail(f"{source}.training.epochs_trained must be an int ≥ 0, got {describe(epochs)}")
    run = top.get("run")
    if run is not None:
        obj(run, f"{source}.run")
    shapes = list(zip(sizes[:-1], sizes[1:])) + [(1, c) for c in sizes[1:]]
    optimizer = None
    if "optimizer" in training:
        optimizer = _optimizer_from_json(training["optimizer"], f"{source}.training.optimizer",
                                         shapes)
    best = None
    if "early_stopping" in training:
        best = _best_from_json(training["early_stopping"], f"{source}.training.early_stopping",
                               shapes)

    try:
        net = _CLASSES[name].from_model(spec)
    except (TypeError, ValueError) as error:
        fail(f"{source}.network: {error}")
    if isinstance(net, WithGenerator):  # and gets it back
        net.rng = _rng_from_json(field(training, "rng_state", f"{source}.training"),
                                 f"{source}.training.rng_state")
    net._set_layers(weights, biases)
    net.epochs_trained = epochs
    if isinstance(net, WithOptimizer):
        net.optimizer, net.best = optimizer, best
    elif optimizer is not None or best is not None:
        fail(f"{source}.training: a {name} has no optimizer or early stopping to restore")
    return net, run


Shape = Tuple[int, int]


def _nested(flat: List[float], shapes: List[Shape]) -> Dict[str, List[Matrix]]:
    """A flat list (weights, then biases) in the layout of "parameters"."""
    at, out = 0, []
    for rows, columns in shapes:
        out.append([flat[at + i * columns:at + (i + 1) * columns] for i in range(rows)])
        at += rows * columns
    half = len(shapes) // 2
    return {"weights": out[:half], "biases": out[half:]}


def _optimizer_to_json(optimizer: optimizers.Optimizer, sizes: List[int]) -> Dict[str, Any]:
    shapes = list(zip(sizes[:-1], sizes[1:])) + [(1, c) for c in sizes[1:]]
    state: Dict[str, Any] = {"step": optimizer.state["step"]}
    for name in optimizer.buffers():
        if name in optimizer.state:
            _finite(f"optimizer.state[{name!r}]", optimizer.state[name])
            state[name] = _nested(optimizer.state[name], shapes)
    return {**optimizer.config(), "state": state}


def _finite(name: str, values: List[float]) -> None:
    """Refuse what a file cannot hold: an infinite or NaN entry of the optimizer's state.

    Training goes on where Adam's v overflows (g² > 1.8e308 leaves the
    parameters finite), as in torch; but JSON has no inf, and load would refuse it.
    """
    for i, x in enumerate(values):
        if not math.isfinite(x):
            raise ValueError(f"save: {name}[{i}] must be finite for a model file, got {x!r}")


def _optimizer_from_json(value: Any, where: str, shapes: List[Shape]) -> optimizers.Optimizer:
    """The optimizer a model file describes, its state checked against the parameters' shapes."""
    config = obj(value, where)
    name = field(config, "name", where)
    if not isinstance(name, str) or name not in optimizers.OPTIMIZERS:
        fail(f"{where}.name must be one of {names(optimizers.OPTIMIZERS)}, got {describe(name)}")
    arguments = obj(field(config, "arguments", where), f"{where}.arguments")
    try:
        optimizer = optimizers.from_config({"name": name, "arguments": arguments})
    except (TypeError, ValueError) as error:
        fail(f"{where}.arguments: {error}")
    state = obj(field(config, "state", where), f"{where}.state")
    step = field(state, "step", f"{where}.state")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        fail(f"{where}.state.step must be an int ≥ 0, got {describe(step)}")
    wanted = set(optimizer.buffers()) if step > 0 else set()
    given = set(state) - {"step"}
    if given != wanted:
        fail(f"{where}.state must hold {', '.join(['step'] + sorted(wanted))} for these"
             f" arguments at step {step}, got {', '.join(sorted(state)) or 'nothing'}")
    flat_state: Dict[str, Any] = {"step": step}
    half = len(shapes) // 2
    for key in sorted(wanted):
        buffer = obj(state[key], f"{where}.state.{key}")
        matrices = (layers(field(buffer, "weights", f"{where}.state.{key}"),
                           f"{where}.state.{key}.weights", shapes[:half])
                    + layers(field(buffer, "biases", f"{where}.state.{key}"),
                             f"{where}.state.{key}.biases", shapes[half:]))
        flat_state[key] = [float(x) for m in matrices for row in m for x in row]
    optimizer.set_state(flat_state, sum(r * c for r, c in shapes))
    return optimizer


def _best_from_json(value: Any, where: str, shapes: List[Shape]) -> Dict[str, Any]:
    """Early stopping's record, checked: epoch, val_loss, epochs_without_improvement, parameters."""
    best = obj(value, where)
    epoch, wait = field(best, "epoch", where), field(best, "epochs_without_improvement", where)
    for key, n in (("epoch", epoch), ("epochs_without_improvement", wait)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            fail(f"{where}.{key} must be an int ≥ 0, got {describe(n)}")
    half = len(shapes) // 2
    return {"epoch": epoch, "val_loss": number(field(best, "val_loss", where), f"{where}.val_loss"),
            "weights": layers(field(best, "weights", where), f"{where}.weights", shapes[:half]),
            "biases": layers(field(best, "biases", where), f"{where}.biases", shapes[half:]),
            "epochs_without_improvement": wait}


@overload
def read(path: StrPath, cls: Type[_S]) -> Tuple[_S, Optional[Dict[str, Any]]]: ...


@overload
def read(path: StrPath, cls: None = None) -> Tuple[Saveable, Optional[Dict[str, Any]]]: ...


def read(path: StrPath,
         cls: Optional[Type[Saveable]] = None) -> Tuple[Saveable, Optional[Dict[str, Any]]]:
    """Return (network, run settings or None) from a model file; see the module docstring."""
    path = _checks.path("load", path)
    try:
        source = _checks.shown_path(path)
        data = parse_json(read_text(path, MAX_BYTES, "model file"), source)
        return _build(data, source, cls)
    except ModelFormatError:
        raise
    except FormatError as error:
        raise ModelFormatError(str(error)) from None


@overload
def load(path: StrPath, cls: Type[_S]) -> _S: ...


@overload
def load(path: StrPath, cls: None = None) -> Saveable: ...


def load(path: StrPath, cls: Optional[Type[Saveable]] = None) -> Saveable:
    """Return the network saved in ``path``; with ``cls``, refuse a file of another class."""
    return read(path, cls)[0]
