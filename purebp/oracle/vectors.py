"""Test vectors: the versioned JSON format, its loader, and the suite purebp writes.

A file holds ``{"format": "purebp-vectors", "version": 1, "cases": [...]}``;
purebp/docs/vectors.md describes every field. The functions here:

    load(path)                 every case in a file, or in every *.json file of a folder
    parse(text, source)        the cases of a JSON text (source names it in errors)
    dump(cases) / write(path, cases)   the JSON text / an atomic write of one file
    case_input(case)           what an implementation is given: the case without "expected"
    curated()                  the named cases of the suite, expected values included
    random_cases(n, seed)      n seeded random cases, expected values included
    random_optimizer_cases(n, seed)  n seeded random cases with optimizers and mini-batches
    complete(case)             a case with its "expected" computed (purebp.oracle.exact)
    write_suite(out, n, seed)  the suite as one file per case in folder ``out``, and its MANIFEST
    write_case_files(out, cases)  any cases so: one file each, MANIFEST first (write_suite's)

A case with ``"op"`` instead of ``"network"`` is a per-operation case (one
dense layer, activation or loss on its own): validate_case checks it with
_validate_op_case, next to it; purebp.oracle.ops makes those cases and their
truth.
    read_manifest(folder)      the file names and SHA-256 a folder's MANIFEST lists

Loading is strict and safe: the file is plain JSON read with the standard
library (nothing in it is executed), at most ``MAX_BYTES`` long; NaN,
Infinity, numbers too large for a float, strings where numbers belong, wrong
shapes and unknown names are refused with a ``VectorFormatError`` (a
``ValueError``) naming the file and the place in it, like
``vectors/xor.json: cases[0].parameters.weights[1][2][0] must be a number, got "a"``.
Results files from other implementations use the same format; there only
``id`` and whichever ``expected`` fields they computed are needed
(``load(path, partial=True)``), and those may hold NaN and ±Infinity (a
number past the float range reads as ±inf): an implementation that
overflowed has results too, which purebp.oracle.checker fails entry by entry.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
import os
import random
import re
import sys
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, TypeVar, cast

from purebp import _checks, _limits, optimizers
from purebp._types import RealMatrix
from purebp.activations import ACTIVATIONS
from purebp.datasets import moons
from purebp.errors import VectorFormatError as VectorFormatError  # still importable from here
from purebp.files.jsonfile import (
    FormatError,
    describe,
    fail,
    field,
    layers,
    matrix,
    names,
    network_spec,
    number,
    obj,
    parse_json,
    read_text,
    remove_stale_partials,
    version,
    write_atomic,
)
from purebp.network import Network
from purebp.oracle import exact
from purebp.tutorial import NeuralNetwork

FORMAT = "purebp-vectors"
VERSION = 1
#: Files larger than this are refused before they are read.
MAX_BYTES = 64 * 1024 * 1024
#: The quantities a case's "expected" may hold.
QUANTITIES = ("pre_activations", "activations", "loss", "gradients", "updated", "trajectory")
#: ... and those of a case with an optimizer or mini-batches: the parameters and the
#: optimizer's state after the last step.
RUN_QUANTITIES = ("final", "optimizer_state")
#: What the 50-digit pass adds about the trajectory, for its tolerances (docs/vectors.md,
#: "The trajectory"): two lists of one number per step, and a count of steps.
TRAJECTORY_BOUNDS = ("trajectory_sensitivity", "trajectory_growth", "trajectory_right_slope",
                     "trajectory_checkable")
#: ... and for final and optimizer_state: how far each of their entries moves.
RUN_BOUNDS = ("final_sensitivity", "optimizer_state_sensitivity")
#: The buffers an optimizer's state may hold (torch's names), in the order files give them.
STATE_BUFFERS = exact.STATE_BUFFERS
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
#: The operations a per-operation case may hold, and the quantities of each one's "expected".
OPS = {
    "dense": ("output", "grad_inputs", "grad_weights", "grad_biases"),
    "activation": ("output", "grad_inputs"),
    "loss": ("output", "grad_inputs"),
}
#: Every per-operation quantity, in report order (purebp.oracle.checker.OP_QUANTITIES).
OP_QUANTITIES = OPS["dense"]
#: The activations and losses of the per-operation cases.
OP_ACTIVATIONS = tuple(ACTIVATIONS) + ("softmax",)
OP_LOSSES = ("half_sse", "mse", "bce", "cross_entropy")


_F = TypeVar("_F", bound=Callable[..., Any])


def _as_vector_error(function: _F) -> _F:
    """Make every FormatError that ``function`` raises a VectorFormatError."""
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except VectorFormatError:
            raise
        except FormatError as error:
            raise VectorFormatError(str(error)) from None
    return cast(_F, wrapper)


# -- validation ------------------------------------------------------------------------


def _expected(value: Any, where: str, sizes: Optional[List[int]], n: Optional[int],
              steps: Optional[int], finite: bool = True, run: bool = True,
              buffers: Optional[Tuple[str, ...]] = None) -> Dict[str, Any]:
    """Check the expected quantities that are present; all are optional.

    With ``sizes`` None (a results file without its network) only the kinds
    of values are checked, not their shapes. ``finite=False`` (a results
    file) lets entries be NaN or ±inf, a number past the float range read as
    ±inf: what an implementation that overflowed reports, for the checker to
    fail where it happened. A suite's expected values are always finite.
    ``run``: final and optimizer_state may be given (a case with an optimizer
    or batches, or a results file); ``buffers``: the state's buffers a suite
    case's optimizer keeps (None: any, for a results file).
    """
    exp = obj(value, where)
    allowed = (QUANTITIES + ("outputs",) + RUN_QUANTITIES * run + TRAJECTORY_BOUNDS
               + RUN_BOUNDS * run)
    unknown = set(exp) - set(allowed)
    if unknown:
        fail(f"{where}: unknown field {describe(sorted(unknown)[0])};"
             f" expected some of {names(allowed)}")
    w_shapes = b_shapes = layer_shapes = None
    if sizes is not None:
        w_shapes = list(zip(sizes[:-1], sizes[1:]))
        b_shapes = [(1, c) for c in sizes[1:]]
        layer_shapes = [(n, c) for c in sizes[1:]]
    result: Dict[str, Any] = {}
    for key in ("pre_activations", "activations"):
        if key in exp:
            result[key] = layers(exp[key], f"{where}.{key}", layer_shapes, finite)
    if "outputs" in exp:
        result["outputs"] = matrix(exp["outputs"], f"{where}.outputs", n,
                                    None if sizes is None else sizes[-1], finite)
    if "loss" in exp:
        result["loss"] = number(exp["loss"], f"{where}.loss", finite)
    for key in ("gradients", "updated"):
        if key in exp:
            part = obj(exp[key], f"{where}.{key}")
            result[key] = {}
            if "weights" in part:
                result[key]["weights"] = layers(part["weights"], f"{where}.{key}.weights", w_shapes,
                                                finite)
            if "biases" in part:
                result[key]["biases"] = layers(part["biases"], f"{where}.{key}.biases", b_shapes,
                                               finite)
    if "trajectory" in exp:
        traj = exp["trajectory"]
        if not isinstance(traj, list) or (steps is not None and len(traj) != steps):
            count = "" if steps is None else f"{steps} "
            fail(f"{where}.trajectory must be a list of {count}losses, got {describe(traj)}")
        result["trajectory"] = [number(v, f"{where}.trajectory[{k}]", finite)
                                for k, v in enumerate(traj)]
    if "final" in exp:
        result["final"] = _parameters(exp["final"], f"{where}.final", w_shapes, b_shapes, finite)
    if "optimizer_state" in exp:
        result["optimizer_state"] = _optimizer_state(exp["optimizer_state"],
                                                     f"{where}.optimizer_state", w_shapes,
                                                     b_shapes, steps, buffers, finite)
    for key in TRAJECTORY_BOUNDS[:3]:
        if key in exp:
            values = exp[key]
            if not isinstance(values, list) or (steps is not None and len(values) != steps):
                count = "" if steps is None else f"{steps} "
                fail(f"{where}.{key} must be a list of {count}numbers, got {describe(values)}")
            result[key] = [number(v, f"{where}.{key}[{k}]") for k, v in enumerate(values)]
            if key != "trajectory_right_slope" and any(v < 0 for v in result[key]):
                fail(f"{where}.{key} must hold numbers ≥ 0, got {min(result[key])!r}")
    if "trajectory_checkable" in exp:
        count = exp["trajectory_checkable"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0 \
                or (steps is not None and count > steps):
            top = "" if steps is None else f" to {steps}"
            fail(f"{where}.trajectory_checkable must be an int from 0{top}, got {describe(count)}")
        result["trajectory_checkable"] = count
    if "final_sensitivity" in exp:
        result["final_sensitivity"] = _moves(exp["final_sensitivity"], f"{where}.final_sensitivity",
                                             w_shapes, b_shapes)
    if "optimizer_state_sensitivity" in exp:
        where_moves = f"{where}.optimizer_state_sensitivity"
        moves = obj(exp["optimizer_state_sensitivity"], where_moves)
        known = STATE_BUFFERS if buffers is None else buffers
        strange = [k for k in moves if k not in known]
        if strange:
            fail(f"{where_moves}: unknown field {describe(strange[0])}; expected some of"
                 f" {names(known)}")
        result["optimizer_state_sensitivity"] = {
            name: _moves(moves[name], f"{where_moves}.{name}", w_shapes, b_shapes)
            for name in STATE_BUFFERS if name in moves}
    return result


def _parameters(value: Any, where: str, w_shapes: Optional[List[Tuple[int, int]]],
                b_shapes: Optional[List[Tuple[int, int]]], finite: bool) -> Dict[str, Any]:
    """Check {"weights", "biases"} (either may be missing), the shapes of the parameters."""
    part = obj(value, where)
    result: Dict[str, Any] = {}
    if "weights" in part:
        result["weights"] = layers(part["weights"], f"{where}.weights", w_shapes, finite)
    if "biases" in part:
        result["biases"] = layers(part["biases"], f"{where}.biases", b_shapes, finite)
    return result


def _moves(value: Any, where: str, w_shapes: Optional[List[Tuple[int, int]]],
           b_shapes: Optional[List[Tuple[int, int]]]) -> Dict[str, Any]:
    """Check a sensitivity of parameters' layout: {"weights", "biases"} of numbers ≥ 0."""
    result = _parameters(value, where, w_shapes, b_shapes, True)
    for kind, part in result.items():
        lowest = min((v for m in part for row in m for v in row), default=0.0)
        if lowest < 0:
            fail(f"{where}.{kind} must hold numbers ≥ 0, got {lowest!r}")
    return result


def _optimizer_state(value: Any, where: str, w_shapes: Optional[List[Tuple[int, int]]],
                     b_shapes: Optional[List[Tuple[int, int]]], steps: Optional[int],
                     buffers: Optional[Tuple[str, ...]], finite: bool) -> Dict[str, Any]:
    """Check {"step": K, buffer: {"weights", "biases"}, ...}.

    A suite's case (``buffers`` given) holds step = steps and exactly the
    buffers its optimizer keeps (none before a first step); a results file any
    of STATE_BUFFERS, and a step that may be any number (the checker compares it).
    """
    state = obj(value, where)
    known = ("step",) + STATE_BUFFERS
    unknown = [k for k in state if k not in known]
    if unknown:
        fail(f"{where}: unknown field {describe(unknown[0])}; expected some of {names(known)}")
    result: Dict[str, Any] = {}
    if buffers is not None:
        kept = buffers if steps else ()
        for name in ("step",) + kept:
            field(state, name, where)
        extra = [k for k in state if k != "step" and k not in kept]
        if extra:
            fail(f"{where}: unknown field {describe(extra[0])} for this optimizer;"
                 f" expected {names(('step',) + kept)}")
    if "step" in state:
        step = state["step"]
        if buffers is not None:
            if isinstance(step, bool) or not isinstance(step, int) or step != steps:
                fail(f"{where}.step must be the case's steps, {steps}, got {describe(step)}")
            result["step"] = step
        else:
            result["step"] = number(step, f"{where}.step", finite)
    for name in STATE_BUFFERS:
        if name in state:
            result[name] = _parameters(state[name], f"{where}.{name}", w_shapes, b_shapes, finite)
    return result


def _is_op_case(case: Mapping[str, Any], partial: bool) -> bool:
    """True for a per-operation case: it has "op", or (a result) op quantities in "expected"."""
    if "op" in case:
        return True
    expected = case.get("expected")
    return partial and isinstance(expected, dict) and bool(set(expected) & set(OP_QUANTITIES))


def _op_expected(value: Any, where: str, op: Optional[str],
                 shapes: Optional[Dict[str, Tuple[int, int]]], finite: bool = True) -> Dict[str, Any]:
    """Check the per-operation quantities present; with ``shapes`` None only their kinds.

    A loss's "output" is one number; every other quantity is a matrix. ``op``
    None (a result without its "op") accepts any of OP_QUANTITIES.
    """
    exp = obj(value, where)
    allowed = OP_QUANTITIES if op is None else OPS[op]
    unknown = set(exp) - set(allowed)
    if unknown:
        fail(f"{where}: unknown field {describe(sorted(unknown)[0])};"
             f" expected some of {names(allowed)}")
    result: Dict[str, Any] = {}
    for key in allowed:
        if key not in exp:
            continue
        if op == "loss" and key == "output":
            result[key] = number(exp[key], f"{where}.{key}", finite)
        elif op is None and key == "output" and not isinstance(exp[key], list):
            result[key] = number(exp[key], f"{where}.{key}", finite)  # a loss's value
        else:
            rows, columns = (None, None) if shapes is None else shapes[key]
            result[key] = matrix(exp[key], f"{where}.{key}", rows, columns, finite)
    return result


def _validate_op_case(case: Dict[str, Any], case_id: str, where: str,
                      partial: bool) -> Dict[str, Any]:
    """validate_case for a per-operation case (purebp/docs/vectors.md, "Per-operation vectors").

    dense: inputs x (n × m), weights W (m × k), biases b (1 × k), upstream G
    (n × k); activation: activation, inputs z (n × k), upstream G (n × k);
    loss: loss, inputs (n × k: outputs for half_sse and mse, logits for bce and
    cross_entropy), targets (n × k).
    """
    op = case.get("op")
    if op is not None or not partial:
        op = field(case, "op", where)
        if not isinstance(op, str) or op not in OPS:
            fail(f"{where}.op: unknown operation {describe(op)}; expected one of {names(OPS)}")
    if partial:
        expected = case.get("expected", {})
        # a result may be NaN or ±inf: the checker fails that entry ("got nan")
        return {"id": case_id, "expected": _op_expected(expected, f"{where}.expected", op, None,
                                                        finite=False)}
    if not case_id.startswith("op-"):
        fail(f"{where}.id of a per-operation case must start with \"op-\", got {describe(case_id)}")
    if "network" in case:
        fail(f"{where}: a case has either \"network\" or \"op\", got both")
    description = case.get("description", "")
    if not isinstance(description, str):
        fail(f"{where}.description must be a string, got {describe(description)}")
    result: Dict[str, Any] = {"id": case_id, "description": description, "op": op}
    inputs = matrix(field(case, "inputs", where), f"{where}.inputs", None, None)
    n, width = len(inputs), len(inputs[0])
    result["inputs"] = inputs
    if op == "dense":
        weights = matrix(field(case, "weights", where), f"{where}.weights", width, None)
        k = len(weights[0])
        result["weights"] = weights
        result["biases"] = matrix(field(case, "biases", where), f"{where}.biases", 1, k)
        result["upstream"] = matrix(field(case, "upstream", where), f"{where}.upstream", n, k)
        shapes = {"output": (n, k), "grad_inputs": (n, width), "grad_weights": (width, k),
                  "grad_biases": (1, k)}
    elif op == "activation":
        name = field(case, "activation", where)
        if not isinstance(name, str) or name not in OP_ACTIVATIONS:
            fail(f"{where}.activation: unknown activation {describe(name)};"
                 f" expected one of {names(OP_ACTIVATIONS)}")
        result["activation"] = name
        result["upstream"] = matrix(field(case, "upstream", where), f"{where}.upstream", n, width)
        shapes = {"output": (n, width), "grad_inputs": (n, width)}
    else:
        name = field(case, "loss", where)
        if not isinstance(name, str) or name not in OP_LOSSES:
            fail(f"{where}.loss: unknown loss {describe(name)}; expected one of {names(OP_LOSSES)}")
        result["loss"] = name
        result["targets"] = matrix(field(case, "targets", where), f"{where}.targets", n, width)
        shapes = {"grad_inputs": (n, width)}
    if "expected" in case:
        result["expected"] = _op_expected(case["expected"], f"{where}.expected", op, shapes)
    return result


@_as_vector_error
def validate_case(value: Any, where: str, partial: bool = False) -> Dict[str, Any]:
    """Return a checked copy of one case, or raise VectorFormatError saying where.

    With ``partial=True`` (results files) only ``id`` and ``expected`` are
    read; shapes of what is present are checked against ``network`` when given
    (without it, purebp.oracle.checker compares them with the suite's). A
    per-operation case (one with "op") is checked by _validate_op_case.
    """
    case = obj(value, where)
    case_id = field(case, "id", where)
    if not isinstance(case_id, str) or not _ID.fullmatch(case_id):
        fail(f"{where}.id must be an id of letters, digits, '-', '_', '.', got {describe(case_id)}")
    if _is_op_case(case, partial):
        return _validate_op_case(case, case_id, where, partial)
    if partial:
        result: Dict[str, Any] = {"id": case_id}
        sizes = n = steps = None
        if "network" in case:
            sizes = network_spec(case["network"], f"{where}.network")["sizes"]
        if "inputs" in case and isinstance(case["inputs"], list):
            n = len(case["inputs"])
        # Without a network, only the kinds of values are checked here: shapes read
        # off one quantity would blame the others for its mistakes, and the checker
        # compares each quantity's shape with the suite's, naming the one that differs.
        expected = case.get("expected", {})
        # finite=False: a results file may report NaN and ±inf (an overflow is a result)
        result["expected"] = _expected(expected, f"{where}.expected", sizes, n, None, False)
        return result

    description = case.get("description", "")
    if not isinstance(description, str):
        fail(f"{where}.description must be a string, got {describe(description)}")
    network = network_spec(field(case, "network", where), f"{where}.network")
    sizes = network["sizes"]
    params = obj(field(case, "parameters", where), f"{where}.parameters")
    weights = layers(field(params, "weights", f"{where}.parameters"),
                      f"{where}.parameters.weights", list(zip(sizes[:-1], sizes[1:])))
    biases = layers(field(params, "biases", f"{where}.parameters"),
                     f"{where}.parameters.biases", [(1, c) for c in sizes[1:]])
    inputs = matrix(field(case, "inputs", where), f"{where}.inputs", None, sizes[0])
    targets = matrix(field(case, "targets", where), f"{where}.targets", len(inputs), sizes[-1])
    learning_rate = number(field(case, "learning_rate", where), f"{where}.learning_rate")
    if learning_rate < 0:
        fail(f"{where}.learning_rate must be a number ≥ 0, got {learning_rate!r}")
    steps = case.get("steps", 0)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= 10_000:
        fail(f"{where}.steps must be an int from 0 to 10000, got {describe(steps)}")
    result = {
        "id": case_id, "description": description, "network": network,
        "parameters": {"weights": weights, "biases": biases},
        "inputs": inputs, "targets": targets, "learning_rate": learning_rate, "steps": steps,
    }
    if "optimizer" in case:
        result["optimizer"] = _optimizer(case["optimizer"], f"{where}.optimizer", learning_rate)
    if "batches" in case:
        result["batches"] = _batches(case["batches"], f"{where}.batches", len(inputs), steps)
    if "expected" in case:
        run = "optimizer" in result or "batches" in result
        buffers = exact.buffers(result["optimizer"]) if "optimizer" in result else ()
        result["expected"] = _expected(case["expected"], f"{where}.expected", sizes,
                                       len(inputs), steps, run=run, buffers=buffers)
    return result


def _optimizer(value: Any, where: str, learning_rate: float) -> Dict[str, Any]:
    """Check a case's optimizer, {"name": ..., "arguments": {...}}, as purebp.optimizers'
    config() writes it: every argument of the constructor, each checked by its rules,
    and arguments.lr the case's learning_rate. Returns its config()."""
    spec = obj(value, where)
    unknown = [k for k in spec if k not in ("name", "arguments")]
    if unknown:
        fail(f"{where}: unknown field {describe(unknown[0])}; expected \"name\", \"arguments\"")
    name = field(spec, "name", where)
    if not isinstance(name, str) or name not in optimizers.OPTIMIZERS:
        fail(f"{where}.name: unknown optimizer {describe(name)}; expected one of"
             f" {names(optimizers.OPTIMIZERS)}")
    arguments = obj(field(spec, "arguments", where), f"{where}.arguments")
    known = list(optimizers.by_name(name).config()["arguments"])
    for key in arguments:
        if key not in known:
            fail(f"{where}.arguments: unknown argument {describe(key)} of {name}; expected"
                 f" {names(known)}")
    for key in known:
        field(arguments, key, f"{where}.arguments")
    if "betas" in arguments and not isinstance(arguments["betas"], list):
        fail(f"{where}.arguments.betas must be a list [beta1, beta2], got"
             f" {describe(arguments['betas'])}")
    try:
        config = optimizers.from_config({"name": name, "arguments": arguments}).config()
    except (TypeError, ValueError) as error:  # the classes' own rules, named here
        fail(f"{where}.arguments: {error}")
    if config["arguments"]["lr"] != learning_rate:
        fail(f"{where}.arguments.lr must equal the case's learning_rate, {learning_rate!r},"
             f" got {config['arguments']['lr']!r}")
    return config


def _batches(value: Any, where: str, n: int, steps: int) -> List[List[int]]:
    """Check a case's mini-batches: one list of row indices into inputs per step."""
    if not isinstance(value, list) or len(value) != steps:
        fail(f"{where} must be a list of {steps} batches (one per step), got {describe(value)}")
    result = []
    for k, rows in enumerate(value):
        if not isinstance(rows, list) or not rows:
            fail(f"{where}[{k}] must be a non-empty list of row indices, got {describe(rows)}")
        for i, row in enumerate(rows):
            if isinstance(row, bool) or not isinstance(row, int) or not 0 <= row < n:
                fail(f"{where}[{k}][{i}] must be a row of inputs, an int from 0 to {n - 1},"
                     f" got {describe(row)}")
        if len(set(rows)) != len(rows):
            twice = next(r for r in rows if rows.count(r) > 1)
            fail(f"{where}[{k}] must hold each row at most once, got row {twice} twice")
        result.append(list(rows))
    return result


# -- reading and writing files -----------------------------------------------------------


def _flag(op: str, name: str, value: object) -> None:
    """Refuse a flag that is not True or False (a truthy "no" would mean yes)."""
    if not isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be True or False, got {_checks._describe(value)}")


@_as_vector_error
def parse(text: str, source: str = "<text>", partial: bool = False) -> List[Dict[str, Any]]:
    """Return the checked cases of a JSON text in the format; errors name ``source``."""
    if not isinstance(text, str):
        raise TypeError(f"parse: text must be a str (a file's JSON text), got"
                        f" {_checks._describe(text)}")
    _flag("parse", "partial", partial)
    data = parse_json(text, source)
    top = obj(data, source)
    if top.get("format") != FORMAT:
        fail(f"{source}.format must be {describe(FORMAT)}, got {describe(top.get('format'))}")
    version(top.get("version"), f"{source}.version", VERSION)
    cases = field(top, "cases", source)
    if not isinstance(cases, list):
        fail(f"{source}.cases must be a list of cases, got {describe(cases)}")
    checked = [validate_case(c, f"{source}: cases[{i}]", partial) for i, c in enumerate(cases)]
    seen: Dict[str, int] = {}
    for i, c in enumerate(checked):
        if c["id"] in seen:
            fail(f"{source}: cases[{i}].id must be unique, got {c['id']!r},"
                 f" the id of cases[{seen[c['id']]}] too")
        seen[c["id"]] = i
    return checked


#: The file of a written suite's folder that lists its case files with their SHA-256, in
#: the format of ``sha256sum`` (so ``sha256sum -c MANIFEST.sha256`` verifies it too). Not
#: *.json, so that a reader without manifests still loads the folder.
MANIFEST = "MANIFEST.sha256"
#: A line as sha256sum writes it, or accepts it: either case of hex, and " *" (binary mode)
#: as well as "  " before the name.
_MANIFEST_LINE = re.compile(r"([0-9a-fA-F]{64}) [ *]([A-Za-z0-9][A-Za-z0-9_.-]{0,99}\.json)")


def _sha256(text: str) -> str:
    """The SHA-256 of a file holding ``text``: of its UTF-8 bytes, as written and read here."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def manifest_text(files: Sequence[Tuple[str, str]]) -> str:
    """Return the manifest of (file name, text) pairs: one "<sha256>  <name>" line each.

    >>> manifest_text([("a.json", "")])
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a.json\\n'
    """
    return "".join(f"{_sha256(text)}  {name}\n" for name, text in files)


@_as_vector_error
def read_manifest(folder: str) -> Optional[Dict[str, str]]:
    """Return {file name: sha256} from a folder's MANIFEST, or None if it has none."""
    path = os.path.join(folder, MANIFEST)
    if not os.path.lexists(path):
        return None
    shown = _checks.shown_path(path)
    listed: Dict[str, str] = {}
    for line_number, line in enumerate(read_text(path, MAX_BYTES, "manifest").splitlines(), 1):
        match = _MANIFEST_LINE.fullmatch(line)
        if match is None:
            fail(f"{shown}, line {line_number}: must be '<sha256>  <id>.json', got {describe(line)}")
        digest, name = match.group(1).lower(), match.group(2)
        if name in listed:
            fail(f"{shown}, line {line_number}: {name} is listed twice")
        listed[name] = digest
    if not listed:
        fail(f"{shown}: lists no case files")
    return listed


@_as_vector_error
def load(path: str, partial: bool = False) -> List[Dict[str, Any]]:
    """Return the cases of a file, or of every ``*.json`` file in a folder (sorted by name).

    A folder with a MANIFEST (``write_suite`` writes one) holds exactly the
    files it lists: one missing (a partial suite) or whose SHA-256 differs (an
    altered or half-written file) is refused, and *.json files it does not
    list (left from another suite) are not read.
    """
    path = _checks.path("load", path)  # TypeError for another type, ValueError for a NUL
    _flag("load", "partial", partial)
    shown = _checks.shown_path(path)
    if os.path.isdir(path):
        listed = read_manifest(os.fspath(path))
        if listed is None:
            files = sorted(n for n in os.listdir(path) if n.endswith(".json"))
        else:
            files = sorted(listed)
            missing = [n for n in files if not os.path.lexists(os.path.join(path, n))]
            if missing:
                shown_missing = ", ".join(missing[:10]) + (", ..." if len(missing) > 10 else "")
                raise VectorFormatError(
                    f"{shown}: a partial suite: {len(missing)} of the {len(files)} case files"
                    f" that {MANIFEST} lists are missing ({shown_missing}); write the suite"
                    f" again (purebp vectors)")
        if not files:
            raise VectorFormatError(f"{shown}: the folder holds no .json files")
        cases: List[Dict[str, Any]] = []
        seen: Dict[str, str] = {}
        for name in files:
            file = os.path.join(path, name)
            text = read_text(file, MAX_BYTES, "vector file")
            if listed is not None and _sha256(text) != listed[name]:
                raise VectorFormatError(
                    f"{_checks.shown_path(file)}: its SHA-256 differs from the one {MANIFEST}"
                    f" lists: the file was altered or only partly written")
            for case in parse(text, _checks.shown_path(file), partial):
                if case["id"] in seen:
                    raise VectorFormatError(
                        f"{_checks.shown_path(file)}: case id {case['id']!r} must be unique"
                        f" in the folder, got it in {_checks.shown_path(seen[case['id']])} too")
                seen[case["id"]] = file
                cases.append(case)
        return cases
    text = read_text(path, MAX_BYTES, "vector file")
    return parse(text, shown, partial)


def dump(cases: List[Dict[str, Any]]) -> str:
    """Return the JSON text of a file holding ``cases`` (floats as their shortest repr)."""
    if not isinstance(cases, list) or not all(isinstance(c, dict) for c in cases):
        raise TypeError(f"dump: cases must be a list of cases (dicts), got"
                        f" {_checks._describe(cases)}")
    # allow_nan=False: a NaN or infinity must never reach a file.
    try:
        return json.dumps({"format": FORMAT, "version": VERSION, "cases": cases},
                          indent=1, allow_nan=False) + "\n"
    except ValueError:
        for i, case in enumerate(cases):
            where = _not_finite(case, "")
            if where is not None:
                raise ValueError(f"dump: cases[{i}] (id {_checks._short_repr(case.get('id'))}):"
                                 f" {where[0]} must be finite to be written, got {where[1]!r}"
                                 ) from None
        raise


def _not_finite(value: Any, path: str) -> Optional[Tuple[str, float]]:
    """Return (where, value) of the first NaN or infinity in a case, or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return path.lstrip("."), value
    if isinstance(value, dict):
        items: Any = ((f"{path}.{k}", v) for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for where, v in items:
        found = _not_finite(v, where)
        if found is not None:
            return found
    return None


def write(path: str, cases: List[Dict[str, Any]]) -> None:
    """Write ``cases`` to ``path`` atomically (a temporary file, then os.replace)."""
    write_atomic(path, dump(cases))


# -- making cases ---------------------------------------------------------------------


def quantity(values: Mapping[str, Any], name: str) -> Any:
    """Return quantity ``name`` ("loss", "gradients.weights", ...) of an "expected"-style
    dict, or None where it is not given; "outputs" falls back to the last activations.

    >>> quantity({"gradients": {"biases": [[[0.5]]]}}, "gradients.biases")
    [[[0.5]]]
    >>> quantity({"optimizer_state": {"step": 3}}, "optimizer_state.step")
    3
    """
    if name == "outputs":
        if "outputs" in values:
            return values["outputs"]
        acts = values.get("activations")
        return acts[-1] if isinstance(acts, list) and acts else None
    part, _, sub = name.partition(".")
    value = values.get(part)
    for key in sub.split(".") if sub else ():  # "optimizer_state.exp_avg.weights"
        value = value.get(key) if isinstance(value, dict) else None
    return value


def case_input(case: Mapping[str, Any]) -> Dict[str, Any]:
    """Return the case without ``expected``: what an implementation under test is given."""
    if not isinstance(case, Mapping):
        raise TypeError(f"case_input: case must be a test-vector case (a dict), got"
                        f" {_checks._describe(case)}")
    return {k: v for k, v in case.items() if k != "expected"}


def complete(case: Mapping[str, Any]) -> Dict[str, Any]:
    """Return the case with ``expected`` computed in 50-digit Decimal and rounded to float.

    Values beyond the float range are ±inf, a diverging trajectory's losses
    beyond even Decimal's range NaN (purebp.oracle.exact.run): such a case can
    be checked in Python but not written to a file.
    """
    if not isinstance(case, Mapping):
        raise TypeError(f"complete: case must be a test-vector case (a dict), got"
                        f" {_checks._describe(case)}")
    checked = validate_case(case_input(case), "complete: case")  # exact.run checks nothing itself
    if "op" in checked:
        raise ValueError(f"complete: case must be a network case, got the per-operation case"
                         f" {checked['id']!r}; purebp.oracle.ops.complete_op computes those")
    return _complete(case, bounds=True)


def _complete(case: Mapping[str, Any], bounds: bool) -> Dict[str, Any]:
    """complete, for a checked case; ``bounds``: add the trajectory's (TRAJECTORY_BOUNDS).

    A trajectory of two or more steps gets its measured sensitivity, the
    trajectory with the other slope at exact kinks where there are any, and
    how many of its steps the float64 preset can check (purebp.oracle.tolerance_policy).
    """
    args = (case["network"], case["parameters"]["weights"], case["parameters"]["biases"],
            case["inputs"], case["targets"], case["learning_rate"], case["steps"])
    run = {k: case[k] for k in ("optimizer", "batches") if k in case}  # and the run's outputs
    result = dict(case_input(case))
    result["expected"] = exact.to_float(exact.run(*args, **run))
    if bounds and case["steps"] > 1:
        from purebp.oracle import tolerance_policy  # it reads this module's format

        truth = exact.to_float(exact.trajectory_bounds(*args, **run))
        # A move beyond the float range is written as the largest float: a file holds
        # finite numbers only, and any tolerance it gives is useless anyway.
        result["expected"]["trajectory_sensitivity"] = [min(v, sys.float_info.max)
                                                        for v in truth["sensitivity"]]
        result["expected"]["trajectory_growth"] = [min(v, sys.float_info.max)
                                                   for v in truth["growth"]]
        if "right_slope" in truth:
            result["expected"]["trajectory_right_slope"] = truth["right_slope"]
        if run:  # measured before trajectory_checkable is: it uses them
            result["expected"]["final_sensitivity"] = _written(truth["final_sensitivity"])
            result["expected"]["optimizer_state_sensitivity"] = _written(
                truth["optimizer_state_sensitivity"])
        _, checkable, _ = tolerance_policy.trajectory_tolerances(
            tolerance_policy.POLICIES["float64"], result, result["expected"]["trajectory"])
        result["expected"]["trajectory_checkable"] = checkable
        for key in RUN_BOUNDS * bool(run):  # written after it, as the loader orders them
            result["expected"][key] = result["expected"].pop(key)
    return result


def _written(moves: Any) -> Any:
    """Moves as a file holds them: beyond the float range, or not measurable (NaN: the run
    left Decimal's), the largest float, whose tolerance is useless anyway."""
    if isinstance(moves, dict):
        return {k: _written(v) for k, v in moves.items()}
    if isinstance(moves, list):
        return [_written(v) for v in moves]
    return sys.float_info.max if not moves <= sys.float_info.max else moves


def _case(case_id: str, description: str, net: Network, inputs: RealMatrix, targets: RealMatrix,
          learning_rate: float, steps: int = 3, optimizer: Optional[optimizers.Optimizer] = None,
          batches: Optional[List[List[int]]] = None) -> Dict[str, Any]:
    case: Dict[str, Any] = {
        "id": case_id,
        "description": description,
        "network": {"sizes": net.sizes, "activation": net.activation,
                    "output_activation": net.output_activation, "loss": net.loss_name},
        "parameters": {"weights": net.weights, "biases": net.biases},
        "inputs": [[float(v) for v in row] for row in inputs],
        "targets": [[float(v) for v in row] for row in targets],
        "learning_rate": learning_rate if optimizer is None else optimizer.lr,
        "steps": steps if batches is None else len(batches),
    }
    if optimizer is not None:
        case["optimizer"] = optimizer.config()
    if batches is not None:
        case["batches"] = batches
    return case


def _uniform(rng: random.Random, rows: int, columns: int, bound: float) -> List[List[float]]:
    return [[rng.uniform(-bound, bound) for _ in range(columns)] for _ in range(rows)]


def _one_hot(rng: random.Random, rows: int, classes: int) -> List[List[float]]:
    labels = [rng.randrange(classes) for _ in range(rows)]
    return [[1.0 if k == label else 0.0 for k in range(classes)] for label in labels]


XOR_X = [[0, 0], [0, 1], [1, 0], [1, 1]]
XOR_Y = [[0], [1], [1], [0]]


def _curated_skeletons() -> List[Dict[str, Any]]:
    """The named cases, without their expected values."""
    rng = random.Random(2024)
    cases: List[Dict[str, Any]] = []
    add = cases.append

    tutorial = NeuralNetwork(2, 4, 1, seed=0)
    net = Network([2, 4, 1])
    net.weights = [tutorial.weights_input_hidden, tutorial.weights_hidden_output]
    net.biases = [tutorial.bias_hidden, tutorial.bias_output]
    add(_case("xor-tutorial", "The tutorial's 2-4-1 sigmoid network on XOR, half_sse, lr 0.1"
              " (NeuralNetwork seed 0)", net, XOR_X, XOR_Y, 0.1, steps=5))
    add(_case("xor-chaotic", "The same network at lr 20 for 60 steps: a chaotic run that"
              " amplifies rounding about twofold a step, so its later losses are not"
              " checkable (trajectory_checkable says from where)", net, XOR_X, XOR_Y, 20.0,
              steps=60))

    net = Network([3, 5, 2], "tanh", "sigmoid", "mse", "xavier", seed=11)
    add(_case("single-sample", "One sample: batch sums and means over a single row",
              net, [[0.5, -1.0, 2.0]], [[0.0, 1.0]], 0.5))

    X, y = moons(n=64, noise=0.1, seed=3)
    net = Network([2, 8, 1], "tanh", "sigmoid", "bce", "xavier", seed=12)
    add(_case("batch-64", "64 moons samples: long sums over the batch", net, X, y, 0.5))

    net = Network([3, 4, 2], "sigmoid", "sigmoid", "half_sse", seed=13)
    net.biases = [_uniform(rng, 1, 4, 1.0), _uniform(rng, 1, 2, 1.0)]
    add(_case("zero-inputs", "All inputs 0: first-layer weight gradients are exactly 0",
              net, [[0.0] * 3] * 4, [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]], 0.5))

    for act, size in (("sigmoid", 30.0), ("sigmoid", 800.0), ("tanh", 30.0), ("tanh", 800.0)):
        # x = ±1 and one weight of ±size per unit: every hidden pre-activation is ±size
        net = Network([2, 3, 1], act, "identity" if act == "tanh" else "sigmoid",
                      "mse" if act == "tanh" else "half_sse", seed=14)
        net.weights[0] = [[size, -size, size], [0.0, 0.0, 0.0]]
        net.weights[1] = [[0.5], [-0.25], [1.0]]
        add(_case(f"{act}-saturated-{int(size)}",
                  f"{act} hidden units at pre-activations ±{size:g}: derivatives near 0",
                  net, [[1.0, 0.5], [-1.0, 2.0]], [[0.0], [1.0]], 0.1))

    for act in ("relu", "leaky_relu"):
        net = Network([2, 3, 1], act, "identity", "mse", seed=15)
        net.weights[0] = [[1.0, 2.0, -1.0], [-1.0, 0.5, -1.0]]
        net.weights[1] = [[1.5], [-0.5], [2.0]]
        add(_case(f"{act}-at-zero", f"{act} units whose pre-activation is exactly 0"
                  " (the kink; PyTorch's derivative there is used)",
                  net, [[1.0, 1.0], [2.0, 2.0], [1.0, -1.0]], [[1.0], [0.0], [2.0]], 0.02))

    net = Network([2, 3, 4], "tanh", "softmax", "cross_entropy", seed=16)
    net.weights[1] = [[500.0 * w for w in row] for row in net.weights[1]]
    add(_case("softmax-large-logits", "Logits in the hundreds to a thousand: softmax needs"
              " the max shift", net, _uniform(rng, 3, 2, 2.0), _one_hot(rng, 3, 4), 1e-4))

    net = Network([1, 2, 1], "identity", "sigmoid", "bce", seed=17)
    net.weights = [[[1.0, -1.0]], [[400.0], [-400.0]]]
    add(_case("bce-saturated", "bce at z = ±800: right and wrong confident outputs",
              net, [[1.0], [-1.0], [1.0], [-1.0]], [[1.0], [0.0], [0.0], [1.0]], 0.001))

    net = Network([1, 2, 3], "identity", "softmax", "cross_entropy", seed=18)
    net.weights = [[[1.0, -1.0]], [[400.0, 0.0, -400.0], [-400.0, 0.0, 400.0]]]
    add(_case("cross-entropy-saturated", "cross_entropy with logits ±800: right and wrong"
              " confident classes", net, [[1.0], [-1.0], [1.0]],
              [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.5, 0.5]], 0.001))

    net = Network([3, 5, 5, 5, 5, 5, 5, 2], "tanh", "softmax", "cross_entropy", "xavier", seed=19)
    add(_case("deep-7-layers", "Seven weight layers of tanh: a long chain of deltas",
              net, _uniform(rng, 6, 3, 1.0), _one_hot(rng, 6, 2), 0.1))

    net = Network([4, 64, 3], "relu", "softmax", "cross_entropy", "he", seed=20)
    add(_case("wide-64", "64 relu units: long sums inside each layer",
              net, _uniform(rng, 16, 4, 1.0), _one_hot(rng, 16, 3), 0.05))

    net = Network([2, 3, 1], "sigmoid", "identity", "mse", seed=21)
    add(_case("tiny-values", "Inputs around 1e-300: tiny first-layer gradients, no underflow"
              " to zero", net, [[1e-300, -3e-300], [2e-300, 5e-301]], [[0.5], [-0.5]], 0.1))

    net = Network([2, 3, 1], "relu", "identity", "mse", "he", seed=22)
    add(_case("large-values", "Inputs around 1e6: losses near 1e12",
              net, [[1e6, -2e6], [3e6, 5e5]], [[1.0], [-1.0]], 1e-14))

    for act in ACTIVATIONS:
        net = Network([3, 4, 4, 2], act, "identity", "mse", "xavier", seed=23)
        net.biases = [_uniform(rng, 1, 4, 0.5), _uniform(rng, 1, 4, 0.5), _uniform(rng, 1, 2, 0.5)]
        add(_case(f"activation-{act}", f"Two hidden layers of {act}, linear output, mse",
                  net, _uniform(rng, 5, 3, 2.0), _uniform(rng, 5, 2, 1.0), 0.1))

    for loss, output in (("half_sse", "sigmoid"), ("mse", "tanh"), ("bce", "sigmoid"),
                         ("cross_entropy", "softmax")):
        k = 3
        net = Network([2, 5, k], "tanh", output, loss, "xavier", seed=24)
        targets = (_one_hot(rng, 6, k) if loss == "cross_entropy" else
                   [[rng.random() for _ in range(k)] for _ in range(6)])
        add(_case(f"loss-{loss}", f"{loss} over 6 samples and 3 outputs ({output} output)",
                  net, _uniform(rng, 6, 2, 1.5), targets, 0.2))

    net = Network([3, 3, 3, 3], "tanh", "identity", "mse", "xavier", seed=27)
    add(_case("square-layers", "Every weight matrix square: a transposed weight in the backward"
              " pass keeps the shapes right and only the numbers wrong",
              net, _uniform(rng, 4, 3, 1.0), _uniform(rng, 4, 3, 1.0), 0.1))

    net = Network([1, 1, 1], "sigmoid", "sigmoid", "half_sse", seed=25)
    add(_case("one-unit", "The smallest network: 1-1-1", net, [[1.0], [-1.0]], [[1.0], [0.0]], 1.0))

    net = Network([3, 2], "identity", "identity", "mse", seed=26)
    add(_case("linear-regression", "No hidden layer: one linear layer with mse",
              net, _uniform(rng, 5, 3, 1.0), _uniform(rng, 5, 2, 1.0), 0.1))
    cases.extend(_optimizer_skeletons(tutorial))
    return cases


def _optimizer_skeletons(tutorial: NeuralNetwork) -> List[Dict[str, Any]]:
    """The named cases with an optimizer or mini-batches, without their expected values.

    Each aims at a mistake implementations of the optimizers make (purebp/docs/vectors.md,
    "The curated suite"); their own generator, so that the cases before them stay as they were.
    """
    rng = random.Random(2026)
    cases: List[Dict[str, Any]] = []
    add = cases.append
    xor = Network([2, 4, 1])
    xor.weights = [tutorial.weights_input_hidden, tutorial.weights_hidden_output]
    xor.biases = [tutorial.bias_hidden, tutorial.bias_output]

    add(_case("adam-first-steps", "Adam's first four steps on the tutorial's XOR network: the"
              " bias corrections 1 − β^t (0.1 and 0.001 at t = 1) matter most here",
              xor, XOR_X, XOR_Y, 0, 4, optimizers.Adam(lr=0.05)))

    net = Network([2, 3, 1], "tanh", "identity", "mse", "xavier", seed=31)
    X, y = _uniform(rng, 4, 2, 1.0), _uniform(rng, 4, 1, 1.0)
    add(_case("adam-eps-comparable", "Adam with eps = 0.05, about √v̂: eps added after √v̂"
              " and after the bias correction, not inside the root or before it",
              net, X, y, 0, 3, optimizers.Adam(lr=0.01, eps=0.05)))

    net = Network([3, 4, 2], "tanh", "sigmoid", "bce", "xavier", seed=32)
    X = _uniform(rng, 5, 3, 1.5)
    y = [[float(rng.randint(0, 1)) for _ in range(2)] for _ in range(5)]
    for name, other, rule, what in (
            ("adam", "adamw", optimizers.Adam, "Adam's weight decay is L2: wd·p added to the"
             " gradient, then normalised with it"),
            ("adamw", "adam", optimizers.AdamW, "AdamW's is decoupled: p·(1 − lr·wd) first,"
             " then Adam's step on the gradient alone")):
        add(_case(f"{name}-weight-decay", f"{what} (weight_decay 0.5; {other}-weight-decay has"
                  " the same network and numbers)", net, X, y, 0, 4,
                  rule(lr=0.02, weight_decay=0.5)))

    net = Network([2, 3, 1], "sigmoid", "sigmoid", "half_sse", seed=33)
    add(_case("sgd-nesterov", "SGD with Nesterov momentum 0.9: the step g + μ·b, not b",
              net, XOR_X, XOR_Y, 0, 5, optimizers.SGD(lr=0.2, momentum=0.9, nesterov=True)))
    add(_case("sgd-momentum-dampening", "SGD with momentum 0.9 and dampening 0.5: b = g at the"
              " first step (no dampening there), then 0.9·b + 0.5·g",
              net, XOR_X, XOR_Y, 0, 5, optimizers.SGD(lr=0.2, momentum=0.9, dampening=0.5)))

    net = Network([3, 3, 2], "tanh", "identity", "mse", "xavier", seed=34)
    net.biases = [_uniform(rng, 1, 3, 1.0), _uniform(rng, 1, 2, 1.0)]
    add(_case("weight-decay-biases", "SGD with momentum and weight decay 0.2, biases drawn"
              " in (−1, 1): torch decays every parameter it is given, biases too",
              net, _uniform(rng, 4, 3, 1.0), _uniform(rng, 4, 2, 1.0), 0, 4,
              optimizers.SGD(lr=0.1, momentum=0.5, weight_decay=0.2)))

    net = Network([2, 4, 1], "tanh", "sigmoid", "bce", "xavier", seed=35)
    X, y = moons(n=8, noise=0.1, seed=5)
    add(_case("rmsprop", "RMSprop with its defaults (alpha 0.99, eps 1e-8): v from 0, so the"
              " first step is about lr·g/(0.1·|g|)", net, X, y, 0, 4,
              optimizers.RMSprop(lr=0.01)))
    add(_case("rmsprop-centered-momentum", "RMSprop centered (v − ḡ² under the root) with"
              " momentum 0.9 and alpha 0.9", net, X, y, 0, 4,
              optimizers.RMSprop(lr=0.01, alpha=0.9, momentum=0.9, centered=True)))

    net = Network([2, 3, 1], "tanh", "sigmoid", "half_sse", "xavier", seed=36)
    X, y = moons(n=6, noise=0.1, seed=6)
    add(_case("adam-amsgrad", "AMSGrad over mini-batches with beta2 0.5: the batches' gradients"
              " shrink, so the running maximum of v, uncorrected, differs from v",
              net, X, y, 0, 4, optimizers.Adam(lr=0.05, betas=(0.9, 0.5), amsgrad=True),
              batches=[[0, 1, 2, 3, 4, 5], [4, 1], [2], [5, 0, 3]]))

    add(_case("minibatch-trajectory", "Plain gradient descent over four mini-batches (no"
              " optimizer): each step's loss and gradient on its own rows, in their order",
              xor, XOR_X, XOR_Y, 0.5, batches=[[0, 1], [2, 3], [3, 1], [2, 0, 1]]))

    net = Network([3, 4, 2], "sigmoid", "sigmoid", "mse", seed=37)
    add(_case("adam-zero-gradients", "All inputs 0: the first-layer weight gradients are"
              " exactly 0, so m and v stay 0 there and the step is 0/(0 + eps) = 0",
              net, [[0.0] * 3] * 3, _uniform(rng, 3, 2, 1.0), 0, 3, optimizers.Adam(lr=0.01)))
    return cases


_CURATED: List[Dict[str, Any]] = []


def curated() -> List[Dict[str, Any]]:
    """Return the curated suite, every case with its expected values.

    The 50-digit computation runs once per process (it takes seconds on
    PyPy, whose decimal module is pure Python); each call returns a fresh
    copy, so callers may change what they get.
    """
    if not _CURATED:
        _CURATED.extend(complete(c) for c in _curated_skeletons())
    return copy.deepcopy(_CURATED)


def _seed(op: str, seed: Any) -> int:
    """Return seed if it is an int (any sign), else raise naming it."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"{op}: seed must be an int, got {_checks._describe(seed)}")
    return seed


#: How many times a plain random case's time a random case with an optimizer takes at most
#: (its trajectory's bounds are measured, up to five steps, whatever its steps).
OPTIMIZER_CASE_COST = 4


def random_cases(n: int, seed: int = 0, optimizers: bool = False) -> List[Dict[str, Any]]:
    """Return n seeded random cases (depth 1–4, widths 1–8, batches 1–8), expected included.

    ``optimizers=True``: cases with a random optimizer (random_optimizer_cases), the
    same n and seed giving other cases (ids random-opt-…); without it, the cases are
    what they always were for that n and seed.
    """
    if not isinstance(optimizers, bool):
        raise TypeError(f"random_cases: optimizers must be True or False, got"
                        f" {_checks._describe(optimizers)}")
    if optimizers:
        return random_optimizer_cases(n, seed)
    n, seed = _checks.count("random_cases", "n", n), _seed("random_cases", seed)
    _limits.check("random_cases", _limits.RANDOM_CASE_BYTES * n, _limits.random_case_seconds() * n,
                  f"n = {n:,} (each case computed in 50-digit decimals)")
    rng = random.Random(seed)
    cases = []
    for i in range(n):
        net, sizes, rows, targets = _random_network(rng, depths=4, widths=8)
        case = _case(f"random-{seed}-{i:04d}", f"Random case {i} of seed {seed}", net,
                     _uniform(rng, rows, sizes[0], 2.0), targets, round(rng.uniform(0.01, 1.0), 3))
        cases.append(_tame(case))
    return cases


def _random_network(rng: random.Random, depths: int,
                    widths: int) -> Tuple[Network, List[int], int, List[List[float]]]:
    """Draw a random network and its targets: (net, sizes, rows, targets).

    Depth 1 to ``depths``, widths and rows 1 to ``widths``; every activation with
    half_sse and mse, sigmoid with bce, softmax with cross_entropy. The draws
    come in the order the random cases have always drawn them, so a seed gives
    the same cases as before this was shared.
    """
    pairs = [(a, l) for a in ACTIVATIONS for l in ("half_sse", "mse")] + \
        [("sigmoid", "bce"), ("softmax", "cross_entropy")]
    depth = rng.randint(1, depths)
    sizes = [rng.randint(1, widths) for _ in range(depth + 1)]
    output, loss = rng.choice(pairs)
    if output == "softmax":
        sizes[-1] = max(sizes[-1], 2)
    net = Network(sizes, rng.choice(list(ACTIVATIONS)), output, loss,
                  rng.choice(["normal", "xavier", "he"]), seed=rng.randrange(2 ** 32))
    rows = rng.randint(1, widths)
    if loss == "cross_entropy":
        targets = _one_hot(rng, rows, sizes[-1])
    elif loss == "bce":
        targets = [[float(rng.randint(0, 1)) for _ in range(sizes[-1])] for _ in range(rows)]
    else:
        targets = _uniform(rng, rows, sizes[-1], 1.0)
    return net, sizes, rows, targets


def _random_optimizer(rng: random.Random) -> optimizers.Optimizer:
    """Return an optimizer drawn at random, with arguments where each rule's mistakes show."""
    name = rng.choice(["sgd", "rmsprop", "adam", "adamw"])
    if name == "sgd":
        momentum = rng.choice([0.0, 0.5, 0.9])
        nesterov = momentum > 0 and rng.random() < 0.4
        return optimizers.SGD(round(rng.uniform(0.05, 0.5), 3), momentum,
                              0.0 if nesterov else rng.choice([0.0, 0.3]),
                              rng.choice([0.0, 0.01, 0.1]), nesterov)
    if name == "rmsprop":
        return optimizers.RMSprop(round(rng.uniform(0.001, 0.02), 4), rng.choice([0.9, 0.99]),
                                  rng.choice([1e-8, 1e-3]), rng.choice([0.0, 0.01]),
                                  rng.choice([0.0, 0.9]), rng.random() < 0.5)
    rule = optimizers.Adam if name == "adam" else optimizers.AdamW
    return rule(round(rng.uniform(0.005, 0.05), 4), rng.choice([(0.9, 0.999), (0.8, 0.9), (0.5, 0.7)]),
                rng.choice([1e-8, 1e-4]), rng.choice([0.0, 0.01, 0.1]), rng.random() < 0.3)


def random_optimizer_cases(n: int, seed: int = 0) -> List[Dict[str, Any]]:
    """Return n seeded random cases with an optimizer (SGD with momentum, Nesterov,
    dampening, weight decay; RMSprop; Adam; AdamW; random arguments), 2–5 steps, and
    in half of them mini-batches of distinct rows; expected values included.

    Ids are random-opt-<seed>-<i>: a generator of their own, so that random_cases(n,
    seed) without optimizers gives the cases it always gave.
    """
    op = "random_optimizer_cases"
    n, seed = _checks.count(op, "n", n), _seed(op, seed)
    _limits.check(op, _limits.RANDOM_CASE_BYTES * n,
                  _limits.random_case_seconds() * n * OPTIMIZER_CASE_COST,
                  f"n = {n:,} (each case computed in 50-digit decimals)")
    rng = random.Random(f"optimizers-{seed}")
    cases = []
    for i in range(n):
        net, sizes, rows, targets = _random_network(rng, depths=3, widths=6)
        rule = _random_optimizer(rng)
        steps = rng.randint(2, 5)
        batches = None if rng.random() < 0.5 else [
            rng.sample(range(rows), rng.randint(1, rows)) for _ in range(steps)]
        shown = "" if batches is None else f", {steps} mini-batches"
        case = _case(f"random-opt-{seed}-{i:04d}", f"Random case {i} of seed {seed}: {rule!r}"
                     f"{shown}", net, _uniform(rng, rows, sizes[0], 2.0), targets, 0, steps,
                     rule, batches)
        cases.append(_tame_run(case))
    return cases


def _tame_run(case: Dict[str, Any]) -> Dict[str, Any]:
    """Return a case with an optimizer completed, its rate halved until its whole trajectory
    is checkable (a run too fast for its network amplifies rounding beyond any bound)."""
    for _ in range(30):
        done = _complete(case, bounds=True)
        if done["expected"].get("trajectory_checkable", case["steps"]) == case["steps"]:
            return done
        config = copy.deepcopy(case["optimizer"])
        config["arguments"]["lr"] /= 2
        case = dict(case, optimizer=config, learning_rate=config["arguments"]["lr"])
    return done


def _tame(case: Dict[str, Any]) -> Dict[str, Any]:
    """Return the case completed, its learning rate halved until the trajectory descends.

    A diverging trajectory amplifies every rounding difference, so two correct
    implementations could disagree on it by more than any useful tolerance.
    """
    for _ in range(60):
        done = _complete(case, bounds=False)
        trajectory = done["expected"]["trajectory"]
        if all(b <= a for a, b in zip(trajectory, trajectory[1:])):
            break
        case = dict(case, learning_rate=case["learning_rate"] / 2)
    return _complete(case, bounds=True)


def write_suite(out: str, random_count: int = 0, seed: int = 0,
                optimizers: bool = False) -> List[str]:
    """Write the curated suite and ``random_count`` random cases to folder ``out``, one file each.

    ``optimizers``: the random cases have optimizers (random_optimizer_cases).
    Returns the paths of the case files written. The folder is created if
    needed; its MANIFEST (written first) lists every case file with its
    SHA-256, so that ``load`` refuses the folder while any is missing or altered.
    """
    out = _checks.path("write_suite", out, "out")
    random_count = _checks.count("write_suite", "random_count", random_count)
    seed = _seed("write_suite", seed)
    _flag("write_suite", "optimizers", optimizers)
    return write_case_files(out, curated() + random_cases(random_count, seed, optimizers))


def write_case_files(out: str, cases: List[Dict[str, Any]]) -> List[str]:
    """Write ``cases`` to folder ``out`` as write_suite does: ``<id>.json`` each, MANIFEST first.

    Returns the paths of the case files written (``out`` is checked by the caller).
    """
    os.makedirs(out, exist_ok=True)
    files = [(case["id"] + ".json", dump([case])) for case in cases]
    # The manifest first: a writer killed midway leaves files it lists missing, so
    # the partial suite is refused rather than read as a smaller one.
    manifest = os.path.join(out, MANIFEST)
    write_atomic(manifest, manifest_text(files), clean=False)
    paths = []
    for name, text in files:
        path = os.path.join(out, name)
        write_atomic(path, text, clean=False)
        paths.append(path)
    # One listing of the folder for all: one per file made a big suite quadratic.
    remove_stale_partials(manifest, *paths)
    return paths
