"""Tests that every public entry point refuses malformed values cleanly.

The contract (README, "Bad arguments"): whatever a caller passes, only
``ValueError`` or ``TypeError`` (or a subclass) comes out, its message names
the argument, and the network is exactly as it was. The command line turns
each refusal into one line on stderr and exit code 2, never a traceback.

``malformed()`` draws the values: ragged and empty matrices, bools, text,
None, lists nested 3–50 deep, ints too large for a float, NaN and ±inf, zero
and negative ints, unknown names, dicts, huge sizes, and matrices or lists
with one such value inside. Each test substitutes one of them for one
argument while the others stay valid. ``must_refuse`` states, independently
of purebp's checks, which of them no argument of that kind may accept, so a
check that lets them through fails here too.

The last section pins inputs that once escaped as the wrong error (huge
ints, deep nesting, NUL bytes, line breaks, huge sample counts).
"""

import copy
import glob
import json
import math
import os
import random
import re
import sys
import types

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from purebp import NeuralNetwork, cli, datasets
from purebp.activations import NAMES as ACTIVATION_NAMES
from purebp.errors import DivergenceError
from purebp.files import model as persistence
from purebp.files.model import ModelFormatError
from purebp.losses import LOSSES
from purebp.network import INITS, Network
from purebp.optimizers import SGD, Adam

XOR_X = [[0, 0], [0, 1], [1, 0], [1, 1]]
XOR_Y = [[0], [1], [1], [0]]
XOR_ONE_HOT = [[1, 0], [0, 1], [0, 1], [1, 0]]

NAN, INF = float("nan"), float("inf")
HUGE_INT = 10 ** 400  # too large for a float, small enough to print
KNOWN_NAMES = set(ACTIVATION_NAMES) | set(LOSSES) | set(INITS)

# A function-scoped fixture (monkeypatch, capsys) serves every example of a
# test here on purpose: one working folder, output read after each call.
SHARED_FIXTURES = [HealthCheck.function_scoped_fixture]


def examples(n):
    """n examples under the ci profile (100 each), scaled with the profile: dev 30%."""
    return max(1, n * settings().max_examples // 100)


# -- malformed values ------------------------------------------------------------------


def nested(depth):
    """[[...[0.0]...]]: a list nested ``depth`` deep."""
    value = [0.0]
    for _ in range(depth - 1):
        value = [value]
    return value


SCALAR_JUNK = st.one_of(
    st.booleans(),
    st.none(),
    st.text(max_size=8),
    st.sampled_from(["swish", "", "SIGMOID", "Sigmoid", " tanh"]),
    st.sampled_from([HUGE_INT, -HUGE_INT, 10 ** 9, NAN, INF, -INF]),
    st.integers(-5, 0),
    st.dictionaries(st.text(max_size=3), st.integers(0, 3), max_size=2),
    st.integers(3, 50).map(nested),
)


@st.composite
def ragged(draw):
    """2–4 rows of 0s and 1s, two of them of different lengths: [[0, 1], [1]]."""
    first = draw(st.integers(0, 3))
    lengths = [first, draw(st.integers(0, 3).filter(lambda k: k != first))]
    lengths += draw(st.lists(st.integers(0, 3), max_size=2))
    return [draw(st.lists(st.integers(0, 1), min_size=k, max_size=k)) for k in lengths]


EMPTY = st.sampled_from([[], [[]], [[], []], [[0, 1], []]]).map(copy.deepcopy)


@st.composite
def junk_matrix(draw):
    """A 1–4 × 1–3 matrix of small floats with one malformed entry."""
    rows, columns = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    matrix = [[draw(st.floats(-2, 2)) for _ in range(columns)] for _ in range(rows)]
    matrix[draw(st.integers(0, rows - 1))][draw(st.integers(0, columns - 1))] = draw(SCALAR_JUNK)
    return matrix


@st.composite
def junk_list(draw):
    """A flat list of small ints (a would-be sizes) with one malformed entry."""
    values = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    values.insert(draw(st.integers(0, len(values))), draw(SCALAR_JUNK))
    return values


def malformed():
    """Values no careful caller passes; a few are legitimately valid somewhere."""
    return st.one_of(SCALAR_JUNK, ragged(), EMPTY, junk_matrix(), junk_list())


# -- what each kind of argument must refuse, stated independently -----------------------

#: kind of each argument; "?" marks those for which None is valid
KINDS = {
    "X": "matrix", "y": "matrix", "learning_rate": "rate", "epochs": "count",
    "log_every": "size", "batch_size": "size?", "log": "callable?", "on_epoch": "callable?",
    "input_size": "size", "hidden_size": "size", "output_size": "size", "seed": "seed?",
    "sizes": "sizes", "activation": "name", "output_activation": "name?", "loss": "name",
    "init": "name", "n": "size", "bits": "size", "targets": "size", "noise": "rate",
    "factor": "rate", "turns": "rate", "optimizer": "optimizer?", "validation": "pair?",
    "early_stopping": "size?",
}


def is_number(value):
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and abs(value) <= sys.float_info.max)


def is_numeric_matrix(value):
    """A non-empty list of equal, non-empty rows of finite numbers."""
    return (isinstance(value, list) and len(value) > 0
            and all(isinstance(row, list) and len(row) == len(value[0]) > 0 for row in value)
            and all(is_number(v) for row in value for v in row))


def must_refuse(argument, value):
    """Return True if no value of this kind may be ``value`` (False: no claim)."""
    kind = KINDS[argument]
    optional, kind = kind.endswith("?"), kind.rstrip("?")
    if value is None:
        return not optional
    if isinstance(value, (bool, dict)) or kind == "optimizer":  # nor is any of these an optimizer
        return True
    if kind == "pair":  # (X_val, y_val): two matrices
        return not (isinstance(value, (list, tuple)) and len(value) == 2
                    and all(is_numeric_matrix(m) for m in value))
    if isinstance(value, float):
        return kind != "rate" or not math.isfinite(value)
    if isinstance(value, str):
        return kind != "name" or value not in KNOWN_NAMES
    if isinstance(value, int):
        return {"seed": False, "size": value < 1, "count": value < 0,
                "rate": value < 0 or not is_number(value)}.get(kind, True)
    if isinstance(value, list):
        if kind == "matrix":
            return not is_numeric_matrix(value)
        if kind == "sizes":
            return not (len(value) >= 2 and all(
                isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in value))
        return True
    return False


def names(message, argument):
    """True if the message names the argument as a word: "X[0][1]", "epochs must"."""
    return re.search(rf"(?<!\w){re.escape(argument)}(?!\w)", message) is not None


def snapshot(net):
    """Everything a network holds, printed (NaN equals NaN), its generator's state and its
    optimizer's (whose repr shows only its arguments)."""
    held = {key: value for key, value in vars(net).items() if key != "rng"}
    optimizer = getattr(net, "optimizer", None)
    return (repr(copy.deepcopy(held)), (net.rng.getstate() if hasattr(net, "rng") else None),
            None if optimizer is None else (repr(optimizer.state), optimizer.size))


def call_and_judge(call, argument, value, net=None):
    """Call; a refusal must be a named ValueError/TypeError that changed nothing.

    Any other exception propagates and fails the test. Returns the refusal, or
    None when the call succeeded.
    """
    before = snapshot(net) if net is not None else None
    epochs_before = getattr(net, "epochs_trained", None)
    try:
        call()
    except DivergenceError as error:
        # Not a refusal: training ran and stopped; the network is as before the
        # epoch that diverged, which is the state we took if that was the first.
        if net is not None and error.epoch == epochs_before:
            assert snapshot(net) == before
        return error
    except (ValueError, TypeError) as error:
        assert names(str(error), argument), (
            f"{type(error).__name__} for {argument}={value!r} does not name it: {error}")
        if net is not None:
            assert snapshot(net) == before, f"{argument}={value!r} changed the network"
        return error
    assert not must_refuse(argument, value), f"{argument}={value!r} was accepted"
    return None


# -- constructors --------------------------------------------------------------------------

CONSTRUCTORS = {
    "NeuralNetwork": (NeuralNetwork, {"input_size": 2, "hidden_size": 4, "output_size": 1,
                                      "seed": 0}),
    "Network": (Network, {"sizes": [2, 3, 2], "activation": "tanh",
                          "output_activation": "softmax", "loss": "cross_entropy",
                          "init": "xavier", "seed": 0}),
}
CONSTRUCTOR_ARGUMENTS = [(c, a) for c, (_, valid) in CONSTRUCTORS.items() for a in valid]


@pytest.mark.parametrize("constructor, argument", CONSTRUCTOR_ARGUMENTS)
@settings(max_examples=examples(100))
@given(value=malformed())
def test_constructors_refuse_malformed_arguments_by_name(constructor, argument, value):
    """Each constructor argument, malformed, is refused by name or gives a working network."""
    cls, valid = CONSTRUCTORS[constructor]
    kwargs = dict(valid, **{argument: value})
    built = []
    if call_and_judge(lambda: built.append(cls(**kwargs)), argument, value) is None:
        net = built[0]
        out = net.feedforward(XOR_X) if cls is NeuralNetwork else net.forward(XOR_X)
        assert len(out) == 4


# -- methods ---------------------------------------------------------------------------------


def tutorial():
    return NeuralNetwork(2, 4, 1, seed=0)


def tutorial_after_forward():
    net = tutorial()
    net.feedforward(XOR_X)
    return net


def softmax_net():
    return Network([2, 3, 2], "tanh", "softmax", "cross_entropy", seed=0)


def sigmoid_net():
    return Network([2, 3, 1], "tanh", "sigmoid", "bce", seed=0)


def stop(net, epoch, loss):
    """on_epoch that ends training after one epoch, however large ``epochs`` is."""
    return False


TRAIN = {"epochs": 2, "learning_rate": 0.1, "log_every": 1, "log": None, "on_epoch": stop}


def trained_with_momentum(make, y):
    """A network that has trained with an optimizer: it holds one, with state."""
    def made():
        net = make()
        net.train(XOR_X, y, 2, optimizer=SGD(0.1, momentum=0.9), log=None)
        return net
    made.__name__ = f"trained_{make.__name__}"
    return made

METHODS = {
    "NeuralNetwork.feedforward": (tutorial, "feedforward", {"X": XOR_X}),
    "NeuralNetwork.gradients": (tutorial, "gradients", {"X": XOR_X, "y": XOR_Y}),
    "NeuralNetwork.backward": (tutorial_after_forward, "backward",
                               {"X": XOR_X, "y": XOR_Y, "learning_rate": 0.1}),
    "NeuralNetwork.train": (tutorial, "train", dict(TRAIN, X=XOR_X, y=XOR_Y)),
}
for _label, _make, _y in (("softmax", softmax_net, XOR_ONE_HOT), ("sigmoid", sigmoid_net, XOR_Y)):
    _make_trained = trained_with_momentum(_make, _y)
    METHODS.update({
        f"Network[{_label}].forward": (_make, "forward", {"X": XOR_X}),
        f"Network[{_label}].loss": (_make, "loss", {"X": XOR_X, "y": _y}),
        f"Network[{_label}].gradients": (_make, "gradients", {"X": XOR_X, "y": _y}),
        f"Network[{_label}].accuracy": (_make, "accuracy", {"X": XOR_X, "y": _y}),
        f"Network[{_label}].step": (_make, "step", {"X": XOR_X, "y": _y, "learning_rate": 0.1}),
        f"Network[{_label}].train": (_make, "train", dict(TRAIN, X=XOR_X, y=_y, batch_size=3)),
        f"Network[{_label}].train(optimizer)": (_make_trained, "train", {
            "X": XOR_X, "y": _y, "epochs": 2, "batch_size": 3, "log_every": 1, "log": None,
            "on_epoch": stop, "optimizer": Adam(0.1, amsgrad=True), "validation": (XOR_X, _y),
            "early_stopping": 2}),
    })
METHOD_ARGUMENTS = [(m, a) for m, (_, _, valid) in METHODS.items() for a in valid]


@pytest.mark.parametrize("method, argument", METHOD_ARGUMENTS)
@settings(max_examples=examples(100))
@given(value=malformed())
def test_methods_refuse_malformed_arguments_by_name_and_change_nothing(method, argument, value):
    """Every method's argument, malformed, is refused by name and the network stays as it was."""
    make, name, valid = METHODS[method]
    net = make()
    kwargs = dict(copy.deepcopy(valid), **{argument: value})
    call_and_judge(lambda: getattr(net, name)(**kwargs), argument, value, net)


# -- parameters a caller assigns -------------------------------------------------------------

#: (make, attribute, index or None, expected shape or None when never valid)
ASSIGNABLE = [
    (tutorial_after_forward, "weights_input_hidden", None, (2, 4)),
    (tutorial_after_forward, "weights_hidden_output", None, (4, 1)),
    (tutorial_after_forward, "bias_hidden", None, (1, 4)),
    (tutorial_after_forward, "bias_output", None, (1, 1)),
    (softmax_net, "weights", None, None),
    (softmax_net, "biases", None, None),
    (softmax_net, "weights", 1, (3, 2)),
    (sigmoid_net, "biases", 0, (1, 3)),
]
TARGETS = object()  # stands for the network's kind of targets
USES = {
    NeuralNetwork: [("feedforward", (XOR_X,)), ("gradients", (XOR_X, XOR_Y)),
                    ("backward", (XOR_X, XOR_Y, 0.1)), ("train", (XOR_X, XOR_Y, 2, 0.1, 1, None)),
                    ("save", ("model.json",))],
    Network: [("forward", (XOR_X,)), ("loss", (XOR_X, TARGETS)),
              ("gradients", (XOR_X, TARGETS)), ("step", (XOR_X, TARGETS, 0.1)),
              ("accuracy", (XOR_X, TARGETS)), ("train", (XOR_X, TARGETS, 2, 0.1, None, 1, None)),
              ("save", ("model.json",))],
}


def shape(matrix):
    return len(matrix), len(matrix[0])


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """Run in an empty folder, so whatever a test writes lands there."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("make, attribute, index, expected", ASSIGNABLE,
                         ids=[f"{m.__name__}.{a}{'' if i is None else f'[{i}]'}"
                              for m, a, i, _ in ASSIGNABLE])
@settings(max_examples=examples(60), suppress_health_check=SHARED_FIXTURES)
@given(value=malformed(), use=st.integers(0, 6))
def test_malformed_assigned_parameters_are_named_when_used(
        workdir, make, attribute, index, expected, value, use):
    """A caller's malformed weight or bias is refused by name when used; nothing is written."""
    net = make()
    if index is None:
        setattr(net, attribute, value)
    else:
        getattr(net, attribute)[index] = value
    uses = USES[type(net)]
    name, args = uses[use % len(uses)]
    y = XOR_ONE_HOT if getattr(net, "loss_name", "") == "cross_entropy" else XOR_Y
    args = tuple(y if a is TARGETS else a for a in args)
    if os.path.exists("model.json"):
        os.remove("model.json")
    before = snapshot(net)
    try:
        getattr(net, name)(*args)
    except DivergenceError:
        pass  # large but valid weights may diverge: not a refusal
    except (ValueError, TypeError) as error:
        assert names(str(error), attribute), f"{attribute}={value!r}: {error}"
        assert snapshot(net) == before
        assert not os.path.exists("model.json") and not glob.glob(".tmp-*")
    else:
        assert expected is not None and is_numeric_matrix(value) and shape(value) == expected, (
            f"{attribute}={value!r} was used by {name}")


# -- saving and loading ------------------------------------------------------------------------

NETWORKS = {"NeuralNetwork": tutorial, "Network[softmax]": softmax_net,
            "Network[sigmoid]": sigmoid_net}


def stays_here(path):
    """False for a text that, used as a path, would reach outside the working folder."""
    return not (isinstance(path, str) and (os.path.isabs(path) or ".." in path
                                           or path.startswith("~")))


def save_path_values():
    """Paths no one should save to: malformed values, a missing folder, a folder, nothing."""
    return st.one_of(malformed(), st.sampled_from(
        [os.path.join("no", "such", "folder", "m.json"), ".", ""])).filter(stays_here)


def names_path(message, path):
    """A path argument is named by the word "path" or by showing the path, or its repr if unusual."""
    return names(message, "path") or (isinstance(path, str) and (path in message
                                                                 or repr(path) in message))


@pytest.mark.parametrize("kind", sorted(NETWORKS))
@settings(max_examples=examples(60), suppress_health_check=SHARED_FIXTURES)
@given(path=save_path_values())
def test_save_refuses_malformed_paths_and_changes_nothing(workdir, kind, path):
    """save(path) with a malformed path raises ValueError/TypeError naming it; no file is left."""
    net = NETWORKS[kind]()
    before = snapshot(net)
    try:
        net.save(path)
    except (ValueError, TypeError) as error:
        assert names_path(str(error), path), str(error)
        assert not glob.glob(".tmp-*")
    else:
        assert isinstance(path, str) and type(net).load(path).epochs_trained == 0
    assert snapshot(net) == before


def _documents():
    """A valid model file's JSON for each class, as plain JSON values."""
    return {kind: json.loads(json.dumps(persistence.to_dict(make())))
            for kind, make in NETWORKS.items()}


DOCUMENTS = _documents()
#: Fields whose value is looked up in a dict: a list or dict there is unhashable.
LOOKED_UP_FIELDS = [("class",), ("network", "activation"), ("network", "output_activation"),
                    ("network", "loss"), ("network", "init")]


@st.composite
def damaged_documents(draw):
    """(kind, file text, where, value): a model file with one field malformed or missing."""
    kind = draw(st.sampled_from(sorted(DOCUMENTS)))
    document = copy.deepcopy(DOCUMENTS[kind])
    node, where = document, ()
    while True:  # walk down: each level, stop or go deeper with equal chance
        key = draw(st.sampled_from(list(node) if isinstance(node, dict) else range(len(node))))
        child = node[key]
        if isinstance(child, (dict, list)) and child and draw(st.booleans()):
            node, where = child, where + (key,)
            continue
        break
    where += (key,)
    if isinstance(node, dict) and draw(st.integers(0, 4)) == 0:
        del node[key]
        value = "<missing>"
    else:
        value = node[key] = draw(malformed())
    return kind, json.dumps(document), where, value


def model_files():
    """Text or bytes of a file that is not a valid model file (nearly always)."""
    return st.one_of(
        damaged_documents(), damaged_documents(), damaged_documents(),
        malformed().map(lambda v: ("Network[sigmoid]", json.dumps(v), (), v)),
        st.text(max_size=30).map(lambda t: ("NeuralNetwork", t, (), t)),
        st.binary(max_size=30).map(lambda b: ("Network[softmax]", b, (), b)),
    )


@settings(max_examples=examples(400), suppress_health_check=SHARED_FIXTURES)
@given(case=model_files())
def test_load_refuses_malformed_files_with_a_model_format_error_naming_the_file(workdir, case):
    """A malformed model file gives a ModelFormatError that names the file, or a valid network."""
    kind, content, where, _ = case
    path = str(workdir / "model.json")
    with open(path, "wb") as out:
        out.write(content if isinstance(content, bytes) else content.encode("utf-8", "replace"))
    cls = NeuralNetwork if kind == "NeuralNetwork" else Network
    try:
        net = cls.load(path)
    except ModelFormatError as error:
        assert path in str(error), f"damaged at {where}: {error}"
    else:
        assert isinstance(net, cls)
        net.save(path)  # what loads is a whole network
        assert type(net).load(path).epochs_trained == net.epochs_trained


@settings(max_examples=examples(60), suppress_health_check=SHARED_FIXTURES)
@given(path=save_path_values(), cls=st.sampled_from([NeuralNetwork, Network]))
@example(path="\x1f", cls=Network)  # shown as its repr, '\x1f', not as the raw character
def test_load_refuses_malformed_paths_naming_them(workdir, path, cls):
    """load(path) with a malformed or missing path raises ValueError/TypeError naming it."""
    with pytest.raises((ValueError, TypeError)) as info:
        cls.load(path)
    assert names_path(str(info.value), path), str(info.value)


# -- data sets -----------------------------------------------------------------------------------

GENERATORS = {
    "moons": (datasets.moons, {"n": 6, "noise": 0.1, "seed": 0}),
    "circles": (datasets.circles, {"n": 6, "noise": 0.1, "factor": 0.5, "seed": 0}),
    "spirals": (datasets.spirals, {"n": 6, "turns": 1.5, "noise": 0.1, "seed": 0}),
    "parity": (datasets.parity, {"bits": 3}),
}
GENERATOR_ARGUMENTS = [(g, a) for g, (_, valid) in GENERATORS.items() for a in valid]


@pytest.mark.parametrize("generator, argument", GENERATOR_ARGUMENTS)
@settings(max_examples=examples(40))
@given(value=malformed())
def test_data_set_generators_refuse_malformed_arguments_by_name(generator, argument, value):
    """moons, circles, spirals, parity: a malformed argument is refused by name or gives data."""
    function, valid = GENERATORS[generator]
    made = []
    if call_and_judge(lambda: made.append(function(**dict(valid, **{argument: value}))),
                      argument, value) is None:
        X, y = made[0]
        assert len(X) == len(y) > 0


CSV_CELLS = st.one_of(
    st.sampled_from(["0", "1", "-2.5", "1e3", "nan", "inf", "-inf", "1e400", "", " ", "x",
                     "True", "None", '"1"', "0x1", "1_0", "\ufeff1"]),
    malformed().map(str),
)


@settings(max_examples=examples(100), suppress_health_check=SHARED_FIXTURES)
@given(lines=st.lists(st.lists(CSV_CELLS, max_size=4), max_size=5),
       targets=st.one_of(st.integers(1, 3), malformed()))
def test_load_csv_refuses_malformed_files_naming_them(workdir, lines, targets):
    """load_csv of a malformed file or targets is refused naming it, or reads consistent rows."""
    path = str(workdir / "data.csv")
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("\n".join(",".join(cells) for cells in lines))
    try:
        X, y = datasets.load_csv(path, targets)
    except (ValueError, TypeError) as error:
        assert path in str(error) or names(str(error), "targets"), str(error)
    else:
        assert not must_refuse("targets", targets)
        assert len(X) == len(y) > 0 and all(len(row) == targets for row in y)
        assert len({len(row) for row in X}) == 1 and len(X[0]) > 0
        assert all(math.isfinite(v) for row in X + y for v in row)


@settings(max_examples=examples(40), suppress_health_check=SHARED_FIXTURES)
@given(path=st.text(max_size=12).filter(stays_here))
# Once cut short: a NUL and characters whose escapes make a repr longer than 40.
@example(path="0\x1f\x00\U000103d6\U00018d09" + "\U000e0001" * 7)
@example(path="no\nsuch.csv")
@example(path=" ")
def test_load_csv_refuses_missing_files_naming_them(workdir, path):
    """load_csv of a name that is no readable file raises ValueError showing the whole name, on one line."""
    with pytest.raises(ValueError) as info:
        datasets.load_csv(path)
    message = str(info.value)
    assert path in message or repr(path) in message, message
    assert "\n" not in message and len(message) < 300, message


# -- the command line ------------------------------------------------------------------------------

#: Each command's options with a few valid values; junk values come from malformed().
OPTIONS = {
    "demo": {"--seed": ["1"], "--epochs": ["3"], "--lr": ["0.5"], "--hidden": ["2"],
             "--log-every": ["1"], "--quiet": None},
    "train": {
        "--data": ["xor", "moons", "parity", "data.csv"], "--layers": ["2,3,1", "2,3,2"],
        "--activation": ["tanh", "relu"], "--output-activation": ["sigmoid", "softmax"],
        "--loss": ["bce", "cross_entropy", "mse"], "--init": ["xavier", "he"],
        "--epochs": ["0", "3"], "--lr": ["0", "0.5", "1e300"], "--batch-size": ["1", "3"],
        "--seed": ["7", "-1"], "--log-every": ["1"], "--targets": ["1", "2"], "--n": ["6"],
        "--noise": ["0.1"], "--bits": ["2"], "--save": ["model.json"],
        "--checkpoint": ["ckpt.json"], "--checkpoint-every": ["1"],
        "--resume": ["ckpt.json", "model.json", "data.csv"], "--plot": ["plots"],
        "--quiet": None,
    },
    "vanishing": {"--depth": ["1", "3"], "--width": ["2", "4"], "--samples": ["4"],
                  "--seed": ["3"], "--configs": ["tanh:xavier", "relu:he,sigmoid:normal"],
                  "--plot": ["plots"]},
    "vectors": {"--out": ["vectors", "out"], "--random": ["1"], "--seed": ["3"], "--ops": None},
    "check": {"--preset": ["float32"], "--rtol": ["1e-3"], "--atol": ["0"], "--ulps": ["4"],
              "--require": ["loss", "gradients,loss"], "--json": None,
              "--failures-only": None, "--per-layer": None},
    "explain": {
        "--case": ["vectors/activation-tanh.json", "vectors", "data.csv"],
        "--id": ["activation-tanh"], "--network": ["2,3,1", "2,2,2"],
        "--activation": ["tanh"], "--output-activation": ["softmax", "identity"],
        "--loss": ["bce", "cross_entropy"], "--init": ["he"], "--seed": ["5"], "--lr": ["0.5"],
        "--data": ["moons", "parity"], "--samples": ["2"], "--precision": ["2", "18"],
        "--max-entries": ["1", "40"], "--format": ["md"],
    },
}
#: Words that are no option of the command (and -h, which is one everywhere).
OTHER_WORDS = ["--swish", "--Epochs", "-x", "--", "-", "--epoch=2", "--lr=", "-h"]
CHECK_FILES = ["vectors", "missing.json", "data.csv", "model.json"]


def rendered():
    """A malformed value as a command-line word."""
    return st.one_of(
        malformed().map(str), junk_list().map(lambda v: ",".join(map(str, v)))
    ).filter(stays_here)  # --save, --out: never outside the test's folder


def caps(command, argv):
    """Options appended last (argparse keeps the last) so that nothing trains long."""
    given_ = {word.split("=")[0] for word in argv}
    extra = []
    if command in ("demo", "train"):
        extra += ["--epochs", "2"]
    if command == "train":
        extra += ["--n", "8"] * ("--n" in given_) + ["--bits", "3"] * ("--bits" in given_)
    if command == "vanishing":
        extra += ["--depth", "2", "--samples", "8"]
    if command == "vectors":
        extra += ["--random", "0"]
    return extra


@st.composite
def command_lines(draw):
    """(command, argv): real options of one command with junk or valid values, in any order."""
    command = draw(st.sampled_from(
        ["train", "train", "demo", "vanishing", "vectors", "check", "explain"]))
    options = OPTIONS[command]
    argv = []
    if command == "check":  # EXPECTED ACTUAL, mostly: two of them
        argv += [draw(st.one_of(st.sampled_from(CHECK_FILES), rendered()))
                 for _ in range(draw(st.sampled_from([2, 2, 2, 0, 1, 3])))]
    for _ in range(draw(st.integers(0, 4))):
        option = draw(st.sampled_from(sorted(options) * 3 + OTHER_WORDS))
        if option in OTHER_WORDS or options[option] is None:
            argv.append(option)
            continue
        value = draw(st.one_of(rendered(), st.sampled_from(options[option])))
        argv += [f"{option}={value}"] if draw(st.booleans()) else [option, value]
    argv += caps(command, argv)
    return command, ([] if command == "demo" else [command]) + argv


@pytest.fixture(scope="module")
def cli_folder(tmp_path_factory):
    """A folder holding a CSV of XOR and the test-vector suite, for the commands to read."""
    folder = tmp_path_factory.mktemp("cli")
    (folder / "data.csv").write_text("a,b,t\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    assert cli.main(["vectors", "--out", str(folder / "vectors")]) == 0
    return folder


@settings(max_examples=examples(150), suppress_health_check=SHARED_FIXTURES)
@given(line=command_lines())
def test_cli_turns_malformed_arguments_into_one_line_and_exit_2(
        cli_folder, monkeypatch, capsys, line):
    """Real options with junk values: an int exit code; 2 means one line on stderr, no traceback."""
    command, argv = line
    monkeypatch.chdir(cli_folder)
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert isinstance(code, int) and not isinstance(code, bool)
    allowed = {0, 1, 2} if command in ("train", "check") else {0, 2}
    assert code in allowed, (code, err)
    assert "Traceback" not in out + err
    if code == 2:
        assert err.endswith("\n") and "\n" not in err[:-1], err
        assert err.startswith("purebp"), err


# -- inputs that once escaped as the wrong error ---------------------------------------------------

INT_BEYOND_STR = 10 ** 5000  # more digits than int → str allows (4300): repr() raises


@pytest.mark.parametrize("argument, call", [
    ("input_size", lambda: NeuralNetwork(INT_BEYOND_STR, 4, 1)),
    ("sizes", lambda: Network([2, INT_BEYOND_STR, 1])),
    ("learning_rate", lambda: tutorial().train(XOR_X, XOR_Y, 1, INT_BEYOND_STR, log=None)),
    ("X", lambda: tutorial().feedforward([[INT_BEYOND_STR, 0]])),
])
def test_an_int_too_long_to_print_is_refused_naming_the_argument(argument, call):
    """A 5001-digit int is refused with a message that names the argument."""
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert names(str(info.value), argument), str(info.value)


@pytest.mark.parametrize("argument, call", [
    ("X", lambda: tutorial().feedforward([[nested(10_000), 0]])),
    ("sizes", lambda: Network(nested(10_000))),
])
def test_a_list_nested_too_deep_to_print_is_refused_naming_the_argument(argument, call):
    """A list nested 10,000 deep is refused as a TypeError naming the argument."""
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert names(str(info.value), argument), str(info.value)


@pytest.mark.parametrize("method", ["loss", "gradients", "step", "train"])
def test_cross_entropy_targets_too_large_to_sum_are_refused_naming_y(method):
    """Targets [1e308, 1e308] are no class probabilities: ValueError naming y, not OverflowError."""
    net = softmax_net()
    args = ([[0, 0]], [[1e308, 1e308]]) + {"step": (0.1,), "train": (1, 0.1)}.get(method, ())
    with pytest.raises(ValueError, match=r"\by\b"):
        getattr(net, method)(*args)


@pytest.mark.parametrize("where", LOOKED_UP_FIELDS, ids=".".join)
def test_an_unhashable_name_in_a_model_file_is_a_model_format_error(workdir, where):
    """A list where a model file names a class, activation, loss or init: ModelFormatError."""
    document = copy.deepcopy(DOCUMENTS["Network[sigmoid]"])
    node = document
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = [node[where[-1]]]
    path = str(workdir / "model.json")
    with open(path, "w") as out:
        json.dump(document, out)
    with pytest.raises(ModelFormatError, match=re.escape(path)):
        Network.load(path)


@pytest.mark.parametrize("call", ["save", "load", "load_csv"])
def test_a_path_with_a_nul_byte_is_refused_naming_it(workdir, call):
    """A path holding a NUL byte is refused with a message that names the path."""
    path = "model\0.json"
    run = {"save": lambda: sigmoid_net().save(path), "load": lambda: Network.load(path),
           "load_csv": lambda: datasets.load_csv(path)}[call]
    with pytest.raises((ValueError, TypeError)) as info:
        run()
    assert names(str(info.value), "path"), str(info.value)


@pytest.mark.parametrize("kind", ["None", "list", "int file descriptor"])
def test_load_csv_refuses_a_path_that_is_not_a_string(workdir, kind):
    """load_csv(None), load_csv([...]) and load_csv(3) raise TypeError naming path."""
    if kind == "int file descriptor":
        # Our own descriptor, never one pytest holds: load_csv reads it and closes it.
        with open("fd.csv", "w") as out:
            out.write("0,0,1\n")
        path = os.open("fd.csv", os.O_RDONLY)
    else:
        path = {"None": None, "list": ["data.csv"]}[kind]
    try:
        with pytest.raises(TypeError, match=r"\bpath\b"):
            datasets.load_csv(path)
    finally:
        if isinstance(path, int):
            try:
                os.close(path)
            except OSError:
                pass  # already closed: nothing more to clean up


@pytest.mark.parametrize("entry", ["load_csv", "cli"])
def test_a_csv_field_too_long_for_the_csv_module_is_refused(workdir, capsys, entry):
    """A 200,000-character field is refused as ValueError naming the file, and exit 2 on the CLI."""
    with open("big.csv", "w") as out:
        out.write("1," + "2" * 200_000 + "\n")
    if entry == "load_csv":
        with pytest.raises(ValueError, match=r"big\.csv"):
            datasets.load_csv("big.csv")
    else:
        assert cli.main(["train", "--data", "big.csv", "--epochs", "2"]) == 2
        assert "big.csv" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["train", "--data", "no\nsuch.csv", "--epochs", "2"],
    ["train", "--resume", "no\nsuch.json"],
    ["check", "no\nsuch", "vectors"],
    ["vectors", "--out", "a\nfile", "--random", "0"],
    ["--epochs", "2", "stray\nword"],
], ids=["data", "resume", "check", "vectors-out", "unrecognized"])
def test_a_line_break_in_an_argument_stays_on_one_line_of_stderr(workdir, capsys, argv):
    """An argument holding a line break still gives exit 2 and exactly one line on stderr."""
    (workdir / "a\nfile").write_text("not a folder")  # for --out: exists, not a folder
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.endswith("\n") and "\n" not in err[:-1], err


class TooMuchWork(Exception):
    """Raised by BudgetRandom once a data set has drawn far more numbers than any test needs."""


class BudgetRandom(random.Random):
    """random.Random that gives up after 100,000 draws, to show a would-be hours-long loop."""

    def random(self):
        self.draws = getattr(self, "draws", 0) + 1
        if self.draws > 100_000:
            raise TooMuchWork("still drawing after 100,000 numbers: the size was not refused")
        return super().random()


@pytest.mark.parametrize("call", [
    lambda: datasets.moons(n=10 ** 9),
    lambda: datasets.circles(n=10 ** 9),
    lambda: datasets.spirals(n=HUGE_INT),
    lambda: cli.main(["train", "--data", "moons", "--n", "1000000000", "--epochs", "1"]),
    lambda: cli.main(["vanishing", "--samples", "1000000000", "--depth", "1"]),
], ids=["moons", "circles", "spirals", "cli-train", "cli-vanishing"])
def test_a_huge_sample_count_is_refused_before_any_work(monkeypatch, capsys, call):
    """A sample count of 10**9 is refused at once (ValueError naming n, or exit 2), like sizes."""
    monkeypatch.setattr(datasets, "random", types.SimpleNamespace(Random=BudgetRandom))
    try:
        result = call()
    except ValueError as error:
        assert names(str(error), "n"), str(error)
    else:
        assert result == 2 and capsys.readouterr().err.count("\n") == 1


def test_spirals_with_turns_too_large_to_draw_names_turns():
    """spirals(turns=1e308) makes infinite angles: refused naming turns."""
    with pytest.raises(ValueError, match="turns"):
        datasets.spirals(n=4, turns=1e308)


# -- optimizers, validation and early stopping in train, step and trace ---------------------------


def everything(net, optimizer=None):
    """snapshot(net), its history and record, and the given optimizer's arguments and state."""
    return (snapshot(net), repr(net.history), repr(net.best), net.epochs_trained,
            None if optimizer is None else (repr(optimizer), repr(optimizer.state),
                                            optimizer.size))


def mid_run():
    """A network mid-run: trained with Adam, validation and early stopping, its record kept."""
    net = Network([2, 3, 1], "tanh", "sigmoid", "bce", seed=0)
    net.train(XOR_X, XOR_Y, 3, optimizer=Adam(0.05, amsgrad=True), batch_size=2, log=None,
              validation=(XOR_X, XOR_Y), early_stopping=10)
    assert net.best is not None and net.optimizer.state["step"] == 6
    return net


def used_elsewhere():
    """An Adam that has stepped a network of another shape (17 parameters, not 13)."""
    optimizer = Adam(0.1)
    Network([2, 4, 1], seed=0).train(XOR_X, XOR_Y, 2, optimizer=optimizer, log=None)
    return optimizer


BAD_TRAINING = [
    ("both", lambda: {"learning_rate": 0.1, "optimizer": SGD(0.1)}, ValueError,
     "train: give learning_rate or optimizer, not both; got learning_rate=0.1 and optimizer=SGD("),
    ("a class", lambda: {"optimizer": Adam}, TypeError,
     "train: optimizer must be one of purebp.optimizers' SGD, RMSprop, Adam, AdamW, got type"),
    ("a name", lambda: {"optimizer": "adam"}, TypeError,
     "train: optimizer must be one of purebp.optimizers' SGD, RMSprop, Adam, AdamW, got str"),
    ("a rate as optimizer", lambda: {"optimizer": 0.1}, TypeError,
     "train: optimizer must be one of purebp.optimizers'"),
    ("another shape's", lambda: {"optimizer": used_elsewhere()}, ValueError,
     "train: optimizer holds state for 17 parameters and the network has 13; give each network"),
    ("validation one matrix", lambda: {"learning_rate": 0.1, "validation": XOR_X}, TypeError,
     "train: validation must be a pair (X_val, y_val), got list"),
    ("validation three", lambda: {"learning_rate": 0.1, "validation": (XOR_X, XOR_Y, XOR_Y)},
     TypeError, "train: validation must be a pair (X_val, y_val), got tuple"),
    ("validation a string", lambda: {"learning_rate": 0.1, "validation": "val.csv"}, TypeError,
     "train: validation must be a pair (X_val, y_val), got str"),
    ("validation inputs too wide", lambda: {"learning_rate": 0.1,
                                            "validation": ([[0, 0, 0]], [[1]])},
     ValueError, "train: validation[0][0] has 3 entries, expected 2 (sizes[0])"),
    ("validation targets too wide", lambda: {"learning_rate": 0.1,
                                             "validation": ([[0, 0]], [[1, 0]])},
     ValueError, "train: validation[1][0] has 2 entries, expected 1 (sizes[-1])"),
    ("validation rows differ", lambda: {"learning_rate": 0.1,
                                        "validation": ([[0, 0]], [[1], [0]])},
     ValueError, "train: validation[1] has 2 rows, expected 1 like validation[0]"),
    ("validation target outside [0, 1]", lambda: {"learning_rate": 0.1,
                                                  "validation": ([[0, 0]], [[2.0]])},
     ValueError, "train: validation[1][0][0] must lie in [0, 1] for loss='bce', got 2.0"),
    ("validation NaN", lambda: {"learning_rate": 0.1, "validation": ([[0, math.nan]], [[1]])},
     ValueError, "train: validation[0][0][1] must be finite, got nan"),
    ("validation empty", lambda: {"learning_rate": 0.1, "validation": ([], [])}, ValueError,
     "train: validation[0] is empty"),
    ("early stopping alone", lambda: {"learning_rate": 0.1, "early_stopping": 3}, ValueError,
     "train: validation must be given as (X_val, y_val) for early_stopping=3, got None"),
    ("early stopping 0", lambda: {"learning_rate": 0.1, "validation": (XOR_X, XOR_Y),
                                  "early_stopping": 0},
     ValueError, "train: early_stopping must be at least 1, got 0"),
    ("early stopping negative", lambda: {"learning_rate": 0.1, "validation": (XOR_X, XOR_Y),
                                         "early_stopping": -2},
     ValueError, "train: early_stopping must be at least 1, got -2"),
    ("early stopping float", lambda: {"learning_rate": 0.1, "validation": (XOR_X, XOR_Y),
                                      "early_stopping": 2.0},
     TypeError, "train: early_stopping must be an int, got float 2.0"),
    ("early stopping true", lambda: {"learning_rate": 0.1, "validation": (XOR_X, XOR_Y),
                                     "early_stopping": True},
     TypeError, "train: early_stopping must be an int, got bool True"),
]


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("what, options, error, words", BAD_TRAINING,
                         ids=[c[0] for c in BAD_TRAINING])
def test_bad_training_options_are_refused_before_anything_changes(what, options, error, words,
                                                                  fast):
    """Each refusal names the argument, says what it must be and what came, and changes nothing:
    not the parameters, the generator, epochs_trained, the history, the record, the network's
    optimizer and its state, nor the optimizer given."""
    net = mid_run()
    options = options()
    given_optimizer = options.get("optimizer")
    if not isinstance(given_optimizer, (SGD, Adam)):
        given_optimizer = None
    before = everything(net, given_optimizer)
    with pytest.raises(error) as info:
        net.train(XOR_X, XOR_Y, 5, log=None, fast=fast, **options)
    assert type(info.value) is error and words in str(info.value), str(info.value)
    assert everything(net, given_optimizer) == before


def test_neither_learning_rate_nor_optimizer_is_refused_until_the_network_holds_one():
    """A new network needs one of them; one that has trained goes on with its own optimizer."""
    net = Network([2, 3, 1], seed=0)
    before = everything(net)
    with pytest.raises(TypeError, match=re.escape("train: give learning_rate (a float) or"
                                                  " optimizer (purebp.optimizers), got neither")):
        net.train(XOR_X, XOR_Y, 2, log=None)
    assert everything(net) == before and net.optimizer is None
    optimizer = Adam(0.1)
    net.train(XOR_X, XOR_Y, 2, optimizer=optimizer, log=None)
    net.train(XOR_X, XOR_Y, 2, log=None)
    assert net.optimizer is optimizer and optimizer.state["step"] == 4


@pytest.mark.parametrize("call", [
    lambda net, optimizer: net.step(XOR_X, XOR_Y, optimizer=optimizer),
    lambda net, optimizer: net.trace(XOR_X, XOR_Y, optimizer=optimizer),
    lambda net, optimizer: net.train(XOR_X, XOR_Y, 1, optimizer=optimizer, log=None),
    lambda net, optimizer: net.train(XOR_X, XOR_Y, 1, optimizer=optimizer, log=None, fast=False),
], ids=["step", "trace", "train", "train-readable"])
def test_an_optimizer_of_another_network_shape_is_refused_and_nothing_changes(call):
    """step, trace and train refuse an optimizer whose state is for another parameter count,
    naming both counts; the network and the optimizer are as they were."""
    net, optimizer = mid_run(), used_elsewhere()
    before = everything(net, optimizer)
    with pytest.raises(ValueError, match=r"(step|trace|train): optimizer holds state for 17"
                                         r" parameters and the network has 13"):
        call(net, optimizer)
    assert everything(net, optimizer) == before


def test_a_network_optimizer_assigned_from_another_shape_is_refused_when_used():
    """net.optimizer set by hand to one that stepped another shape is refused by train()."""
    net = mid_run()
    net.optimizer = used_elsewhere()
    before = everything(net)
    with pytest.raises(ValueError, match="train: optimizer holds state for 17 parameters"):
        net.train(XOR_X, XOR_Y, 1, log=None)
    assert everything(net) == before


def test_trace_leaves_the_optimizer_it_is_given_as_it_was():
    """trace steps a copy: the optimizer given, and the network's, keep their state."""
    net = mid_run()
    optimizer = net.optimizer
    before = everything(net, optimizer)
    traced = net.trace(XOR_X, XOR_Y, optimizer=optimizer)
    assert everything(net, optimizer) == before
    net.step(XOR_X, XOR_Y)
    assert net.weights == traced["updated"]["weights"] and net.biases == traced["updated"]["biases"]
