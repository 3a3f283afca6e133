"""Tests for purebp.oracle.vectors: the JSON format's round trip, the suites, atomic writes, the loader.

The round trip is checked bit for bit (float.hex), not just with ==. The
curated suite is checked by what its expected values show (saturated
pre-activations, exact zeros at the kinks, huge logits, tiny and large
inputs), not by its case names. The loader is fed hostile and malformed
files, and each refusal must be a VectorFormatError naming the file and the
place in it.
"""

import copy
import json
import math
import os
import re
import stat
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from purebp import vectors
from purebp.activations import ACTIVATIONS
from purebp.losses import LOSSES
from purebp.tutorial import NeuralNetwork
from purebp.vectors import VectorFormatError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def curated():
    """The curated suite, computed once for the module (it takes a fraction of a second)."""
    return vectors.curated()


def same_bits(a, b, where="case"):
    """Assert a and b are equal with identical types and every float bit-identical."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            same_bits(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            same_bits(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert a.hex() == b.hex(), f"{where}: {a!r} vs {b!r}"  # tells −0.0 from 0.0
    else:
        assert a == b, where


def refuse_constant(name):
    raise AssertionError(f"dump wrote the non-JSON constant {name}")


# -- round trip ---------------------------------------------------------------------


def test_curated_round_trips_bit_for_bit(curated):
    """parse(dump(curated())) gives back every case, every float bit-identical."""
    text = vectors.dump(curated)
    back = vectors.parse(text)
    assert back == curated
    same_bits(back, curated, "curated")


@pytest.mark.parametrize("seed", [0, 7])
def test_random_cases_round_trip_bit_for_bit(seed):
    """parse(dump(random_cases(5, seed))) gives back every case, every float bit-identical."""
    cases = vectors.random_cases(5, seed)
    same_bits(vectors.parse(vectors.dump(cases)), cases, f"random({seed})")


def small_case():
    """A valid 2-3-4 case, written out by hand, without expected values."""
    return {
        "id": "small",
        "description": "a hand-written case",
        "network": {"sizes": [2, 3, 4], "activation": "tanh",
                    "output_activation": "sigmoid", "loss": "half_sse"},
        "parameters": {
            "weights": [[[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]],
                        [[0.1, 0.2, 0.3, 0.4], [-0.5, 0.6, 0.7, 0.8], [0.9, -1.0, 1.1, 1.2]]],
            "biases": [[[0.0, 0.1, -0.1]], [[0.2, 0.0, 0.0, -0.2]]],
        },
        "inputs": [[1.0, 2.0], [-0.5, 0.25]],
        "targets": [[0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 1.0, 0.0]],
        "learning_rate": 0.1,
        "steps": 2,
    }


@settings(max_examples=30)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=4, max_size=4))
def test_any_finite_floats_round_trip_bit_for_bit(values):
    """Any finite floats (subnormals, −0.0, extremes) read back bit-identical after dump."""
    case = small_case()
    case["inputs"] = [values[:2], values[2:]]
    same_bits(vectors.parse(vectors.dump([case]))[0]["inputs"], case["inputs"], "inputs")


def test_dump_never_writes_nan_or_infinity(curated):
    """dump's text has no NaN/Infinity literal, and a case holding one is refused, not written."""
    json.loads(vectors.dump(curated + vectors.random_cases(3, 1)),
               parse_constant=refuse_constant)
    for bad in (math.nan, math.inf, -math.inf):
        case = small_case()
        case["inputs"][0][0] = bad
        with pytest.raises(ValueError):
            vectors.dump([case])


# -- the curated suite --------------------------------------------------------------


def entries(matrices):
    return [v for m in matrices for row in m for v in row]


def hidden_zs(case):
    return entries(case["expected"]["pre_activations"][:-1])


def output_zs(case):
    return entries(case["expected"]["pre_activations"][-1:])


def test_curated_has_twenty_cases_with_unique_valid_ids(curated):
    """The curated suite has at least 20 cases, each id unique and usable as a file name."""
    ids = [c["id"] for c in curated]
    assert len(ids) >= 20
    assert len(set(ids)) == len(ids)
    assert all(vectors._ID.match(i) and "/" not in i and i.strip() == i for i in ids)


def test_curated_covers_every_hidden_activation_and_loss(curated):
    """Every activation appears as a hidden activation (with a hidden layer), every loss once."""
    hidden = {c["network"]["activation"] for c in curated if len(c["network"]["sizes"]) > 2}
    assert set(ACTIVATIONS) <= hidden
    assert set(LOSSES) <= {c["network"]["loss"] for c in curated}


def test_curated_has_the_tutorial_xor_case(curated):
    """Some case is the tutorial's XOR run: NeuralNetwork(2, 4, 1, seed=0)'s weights, lr 0.1."""
    tut = NeuralNetwork(2, 4, 1, seed=0)
    want_params = {"weights": [tut.weights_input_hidden, tut.weights_hidden_output],
                   "biases": [tut.bias_hidden, tut.bias_output]}
    matches = [c for c in curated
               if c["parameters"] == want_params
               and c["inputs"] == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
               and c["targets"] == [[0.0], [1.0], [1.0], [0.0]]
               and c["learning_rate"] == 0.1
               and c["network"] == {"sizes": [2, 4, 1], "activation": "sigmoid",
                                    "output_activation": "sigmoid", "loss": "half_sse"}]
    assert len(matches) == 1


def test_curated_covers_batch_and_shape_extremes(curated):
    """Cases have: one sample, 64 samples, all-zero inputs, ≥ 6 weight layers, a 64-unit layer."""
    assert any(len(c["inputs"]) == 1 for c in curated)
    assert any(len(c["inputs"]) == 64 for c in curated)
    assert any(all(v == 0.0 for row in c["inputs"] for v in row) for c in curated)
    assert any(len(c["network"]["sizes"]) - 1 >= 6 for c in curated)
    assert any(64 in c["network"]["sizes"][1:-1] for c in curated)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_curated_saturates_sigmoid_and_tanh(curated, activation):
    """Some case of this activation has all hidden |z| ≥ 30, another all ≥ 800 (from expected)."""
    cases = [c for c in curated if c["network"]["activation"] == activation and hidden_zs(c)]
    assert any(min(abs(z) for z in hidden_zs(c)) >= 30 for c in cases)
    assert any(min(abs(z) for z in hidden_zs(c)) >= 800 for c in cases)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_curated_hits_the_kink_exactly(curated, activation):
    """Some case of this activation has a hidden pre-activation of exactly 0.0 (the kink)."""
    assert any(0.0 in hidden_zs(c) for c in curated if c["network"]["activation"] == activation)


def test_curated_has_huge_softmax_logits_and_saturated_bce_and_cross_entropy(curated):
    """A softmax case has a logit ≥ 500 in size; bce and cross_entropy cases reach |z| ≥ 800."""
    def top(c):
        return max(abs(z) for z in output_zs(c))

    assert any(top(c) >= 500 for c in curated if c["network"]["output_activation"] == "softmax")
    assert any(top(c) >= 800 for c in curated if c["network"]["loss"] == "bce")
    assert any(top(c) >= 800 for c in curated if c["network"]["loss"] == "cross_entropy")


def test_curated_has_tiny_and_large_inputs(curated):
    """One case's inputs are all nonzero and ≤ 1e-290 in size; another's reach ≥ 1e6."""
    def sizes(c):
        return [abs(v) for row in c["inputs"] for v in row]

    assert any(0 < min(sizes(c)) and max(sizes(c)) <= 1e-290 for c in curated)
    assert any(max(sizes(c)) >= 1e6 and min(sizes(c)) >= 1e5 for c in curated)


def test_curated_tiny_inputs_keep_nonzero_first_layer_gradients(curated):
    """The tiny-input case's first-layer weight gradients do not underflow to 0."""
    tiny = [c for c in curated
            if 0 < min(abs(v) for row in c["inputs"] for v in row)
            and max(abs(v) for row in c["inputs"] for v in row) <= 1e-290]
    assert tiny
    for c in tiny:
        # each is Σ_n x_ni·δ_nj with |x| ≈ 1e-300 and δ = O(1): ≈ 1e-300, normal floats
        assert all(g != 0.0 for g in entries(c["expected"]["gradients"]["weights"][:1]))


def test_every_trajectory_has_steps_entries_starting_at_the_loss(curated):
    """Every curated and random case's trajectory has `steps` losses, the first being `loss`,
    or with mini-batches the loss of the first batch's rows (that batch as a case of its own)."""
    for c in curated + vectors.random_cases(4, 3):
        trajectory = c["expected"]["trajectory"]
        assert len(trajectory) == c["steps"], c["id"]
        if "batches" not in c:
            assert trajectory[0] == c["expected"]["loss"], c["id"]
            continue
        rows = c["batches"][0]
        first = {k: v for k, v in vectors.case_input(c).items() if k not in ("batches",)}
        first.update(inputs=[c["inputs"][i] for i in rows], targets=[c["targets"][i] for i in rows],
                     steps=0)
        assert trajectory[0] == vectors.complete(first)["expected"]["loss"], c["id"]


def test_curated_expected_loss_is_the_textbook_loss_of_its_outputs(curated):
    """Each half_sse/mse case's expected loss is ½Σ or the mean of (ŷ − y)² of its outputs."""
    for c in curated:
        loss = c["network"]["loss"]
        if loss not in ("half_sse", "mse"):
            continue
        y_hat, y = c["expected"]["activations"][-1], c["targets"]
        sq = math.fsum((a - t) ** 2 for ar, tr in zip(y_hat, y) for a, t in zip(ar, tr))
        want = sq / 2 if loss == "half_sse" else sq / (len(y) * len(y[0]))
        # ŷ is rounded to float (½ ulp each); with (ŷ − y)² summed, 1e-12
        # relative covers it unless ŷ ≈ y cancels, which these cases avoid.
        assert math.isclose(c["expected"]["loss"], want, rel_tol=1e-12), c["id"]


# -- random cases -------------------------------------------------------------------


def without_names(cases):
    return [{k: v for k, v in c.items() if k not in ("id", "description")} for c in cases]


def test_random_cases_are_reproducible_and_depend_on_the_seed():
    """random_cases(n, seed) is the same for the same seed and differs (beyond ids) by seed."""
    a, b, c = vectors.random_cases(4, 11), vectors.random_cases(4, 11), vectors.random_cases(4, 12)
    same_bits(a, b, "same seed")
    assert without_names(a) != without_names(c)
    assert [x["id"] for x in a] != [x["id"] for x in c]


@pytest.mark.parametrize("seed", range(4))
def test_random_trajectories_never_increase(seed):
    """Every random case's trajectory is non-increasing (the _tame guarantee)."""
    for c in vectors.random_cases(12, seed):
        t = c["expected"]["trajectory"]
        assert all(b <= a for a, b in zip(t, t[1:])), (c["id"], t)


def test_random_cases_are_valid_vector_cases():
    """random cases pass the strict validator as they are."""
    cases = vectors.random_cases(6, 5)
    for i, c in enumerate(cases):
        assert vectors.validate_case(c, f"cases[{i}]") == c


# -- writing ------------------------------------------------------------------------


def listing(folder):
    return sorted(os.listdir(folder))


def test_write_replaces_an_existing_file(tmp_path):
    """write over an existing file leaves the new cases in it and nothing else in the folder."""
    path = tmp_path / "v.json"
    vectors.write(str(path), [small_case()])
    new = vectors.random_cases(2, 4)
    vectors.write(str(path), new)
    assert vectors.load(str(path)) == new
    assert listing(tmp_path) == ["v.json"]


class Boom(OSError):
    pass


def test_write_failing_at_replace_keeps_the_old_file(tmp_path, monkeypatch):
    """If os.replace fails, the old file is intact and no temporary file is left behind."""
    path = tmp_path / "v.json"
    vectors.write(str(path), [small_case()])
    before = path.read_bytes()

    def fail(*args):
        raise Boom("disk gone")

    monkeypatch.setattr(vectors.os, "replace", fail)
    with pytest.raises(Boom):
        vectors.write(str(path), vectors.random_cases(2, 4))
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["v.json"]


@pytest.mark.parametrize("error", [Boom("no space left"), KeyboardInterrupt()])
def test_write_failing_mid_write_keeps_the_old_file(tmp_path, monkeypatch, error):
    """A failure half-way through writing leaves the old file intact and no temporary file."""
    path = tmp_path / "v.json"
    vectors.write(str(path), [small_case()])
    before = path.read_bytes()
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()
            return False

        def write(self, text):
            self.handle.write(text[: len(text) // 2])
            self.handle.flush()
            raise error

    monkeypatch.setattr(vectors.os, "fdopen", lambda *a, **k: HalfWriter(real_fdopen(*a, **k)))
    with pytest.raises(type(error)):
        vectors.write(str(path), vectors.random_cases(2, 4))
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["v.json"]


def test_write_of_an_unwritable_case_keeps_the_old_file(tmp_path):
    """A case dump refuses (NaN) raises before anything is written: the old file is intact."""
    path = tmp_path / "v.json"
    vectors.write(str(path), [small_case()])
    before = path.read_bytes()
    bad = small_case()
    bad["learning_rate"] = math.nan
    with pytest.raises(ValueError):
        vectors.write(str(path), [bad])
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["v.json"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_write_gives_the_file_an_ordinary_mode(tmp_path):
    """A written file gets the mode open() would give it (umask applied), not 0600."""
    ordinary = tmp_path / "ordinary.json"
    ordinary.write_text("{}")
    path = tmp_path / "v.json"
    vectors.write(str(path), [small_case()])
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(ordinary.stat().st_mode)


def test_load_folder_ignores_a_temporary_file_left_by_a_killed_writer(tmp_path):
    """A write killed before its rename leaves load(folder) reading only the real files."""
    vectors.write(str(tmp_path / "v.json"), [small_case()])
    # A child process dies (os._exit, like SIGKILL) between writing the
    # temporary file and renaming it: no cleanup code can run.
    script = ("import os, sys; from purebp import vectors; "
              "os.replace = lambda *a: os._exit(9); "
              "vectors.write(sys.argv[1], [dict(vectors.random_cases(1, 0)[0], id='small')])")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "v.json")],
                          cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), timeout=60)
    assert done.returncode == 9
    assert len(listing(tmp_path)) == 2  # the crash did leave a temporary file
    assert [c["id"] for c in vectors.load(str(tmp_path))] == ["small"]


def test_write_suite_writes_one_file_per_case_and_loads_back(tmp_path, curated):
    """write_suite writes <id>.json holding that one case, and load(folder) reads all back equal."""
    out = tmp_path / "suite"
    paths = vectors.write_suite(str(out), random_count=2, seed=5)
    want = {c["id"]: c for c in curated + vectors.random_cases(2, 5)}
    assert sorted(os.path.basename(p) for p in paths) == sorted(i + ".json" for i in want)
    assert listing(out) == sorted([vectors.MANIFEST] + [i + ".json" for i in want])
    for p in paths:
        (case,) = vectors.load(p)
        assert os.path.basename(p) == case["id"] + ".json"
    back = vectors.load(str(out))
    assert len(back) == len(want)
    for case in back:
        same_bits(case, want[case["id"]], case["id"])


# -- hostile and malformed input --------------------------------------------------------


def document(cases):
    return {"format": vectors.FORMAT, "version": vectors.VERSION, "cases": cases}


def text_of(doc):
    return json.dumps(doc)


def mutated(change):
    """The JSON text of a one-case document after change(doc) edits it in place."""
    doc = document([small_case()])
    change(doc)
    return text_of(doc)


def _set(path, value):
    """A change that sets doc[path...] = value (path: keys and indexes)."""
    def change(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _delete(path):
    def change(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


C0 = ("cases", 0)
GOOD = text_of(document([small_case()]))

#: (test id, the file's text, text the message must contain besides the file name,
#: compared ignoring case)
BAD_TEXTS = [
    ("truncated", GOOD[: len(GOOD) // 2], "not valid JSON"),
    ("empty", "", "not valid JSON"),
    ("not-an-object", "[1, 2]", "must be an object, got [1, 2]"),
    ("wrong-format", mutated(_set(("format",), "other-vectors")), ".format"),
    ("wrong-version", mutated(_set(("version",), 2)), ".version"),
    ("version-as-string", mutated(_set(("version",), "1")), ".version"),
    ("missing-version", mutated(_delete(("version",))), ".version"),
    ("missing-cases", mutated(_delete(("cases",))), "'cases'"),
    ("cases-not-a-list", mutated(_set(("cases",), {"id": "x"})), ".cases"),
    ("case-not-an-object", mutated(_set(C0, [1])), "cases[0]"),
    ("missing-network", mutated(_delete(C0 + ("network",))), "cases[0]: missing field 'network'"),
    ("missing-parameters", mutated(_delete(C0 + ("parameters",))), "'parameters'"),
    ("missing-id", mutated(_delete(C0 + ("id",))), "cases[0]: missing field 'id'"),
    ("unknown-activation", mutated(_set(C0 + ("network", "activation"), "swish")),
     "cases[0].network.activation"),
    ("softmax-hidden", mutated(_set(C0 + ("network", "activation"), "softmax")),
     "cases[0].network.activation"),
    ("unknown-output", mutated(_set(C0 + ("network", "output_activation"), "gelu")),
     "cases[0].network.output_activation"),
    ("unknown-loss", mutated(_set(C0 + ("network", "loss"), "hinge")), "cases[0].network.loss"),
    ("bce-after-tanh", mutated(lambda d: d["cases"][0]["network"].update(
        loss="bce", output_activation="tanh")), "cases[0].network"),
    ("softmax-with-mse", mutated(lambda d: d["cases"][0]["network"].update(
        loss="mse", output_activation="softmax")), "cases[0].network"),
    ("sizes-with-zero", mutated(_set(C0 + ("network", "sizes"), [2, 0, 4])),
     "cases[0].network.sizes"),
    ("sizes-of-floats", mutated(_set(C0 + ("network", "sizes"), [2.0, 3, 4])),
     "cases[0].network.sizes"),
    ("too-few-layers", mutated(_set(C0 + ("parameters", "weights"),
                                    [[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]])),
     "cases[0].parameters.weights"),
    ("too-few-rows", mutated(lambda d: d["cases"][0]["parameters"]["weights"][1].pop()),
     "cases[0].parameters.weights[1] has 2 rows, expected 3"),
    ("short-row", mutated(lambda d: d["cases"][0]["parameters"]["weights"][0][1].pop()),
     "cases[0].parameters.weights[0][1] has 2 entries, expected 3"),
    ("bias-not-a-row-matrix", mutated(_set(C0 + ("parameters", "biases", 0), [0.0, 0.1, 0.2])),
     "cases[0].parameters.biases[0] has 3 rows, expected 1"),
    ("string-for-a-number", mutated(_set(C0 + ("parameters", "weights", 1, 0, 2), "a")),
     "cases[0].parameters.weights[1][0][2] must be a number, got \"a\""),
    ("bool-for-a-number", mutated(_set(C0 + ("inputs", 1, 0), True)),
     "cases[0].inputs[1][0] must be a number, got true"),
    ("null-for-a-number", mutated(_set(C0 + ("targets", 0, 3), None)), "cases[0].targets[0][3]"),
    ("inputs-wrong-width", mutated(_set(C0 + ("inputs",), [[1.0, 2.0, 3.0]])),
     "cases[0].inputs[0]"),
    ("targets-wrong-count", mutated(_set(C0 + ("targets",), [[0.0, 1.0, 0.0, 1.0]])),
     "cases[0].targets"),
    ("negative-learning-rate", mutated(_set(C0 + ("learning_rate",), -0.1)),
     "cases[0].learning_rate"),
    ("steps-too-many", mutated(_set(C0 + ("steps",), 10_001)), "cases[0].steps"),
    ("steps-as-float", mutated(_set(C0 + ("steps",), 2.0)), "cases[0].steps"),
    ("description-not-a-string", mutated(_set(C0 + ("description",), 5)),
     "cases[0].description"),
    ("expected-unknown-field", mutated(_set(C0 + ("expected",), {"hessian": 1})),
     "cases[0].expected"),
    ("expected-gradient-wrong-shape", mutated(_set(C0 + ("expected",), {"gradients": {
        "weights": [[[0.0] * 3] * 2, [[0.0] * 4] * 2]}})),
     "cases[0].expected.gradients.weights[1]"),
    ("expected-trajectory-wrong-length", mutated(_set(C0 + ("expected",),
                                                      {"trajectory": [1.0, 0.5, 0.25]})),
     "cases[0].expected.trajectory"),
    # the place of a NaN literal has a test of its own below
    ("nan-literal", GOOD.replace("0.25", "NaN", 1), "nan"),
    ("infinity-literal", GOOD.replace("0.25", "Infinity", 1), "inf"),
    ("minus-infinity-literal", GOOD.replace("0.25", "-Infinity", 1), "inf"),
    ("1e400", GOOD.replace("0.25", "1e400", 1), "cases[0].inputs[1][1] must be a finite number, got inf"),
    ("-1e400", GOOD.replace("0.25", "-1e400", 1), "cases[0].inputs[1][1]"),
    ("10**400", GOOD.replace("0.25", str(10 ** 400), 1),
     "cases[0].inputs[1][1] must fit in a float, got an int of about 401 digits"),
    ("nested-100000-deep", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("deep-object", '{"a":' * 100_000 + "1" + "}" * 100_000, "nested too deeply"),
    ("duplicate-ids", text_of(document([small_case(), small_case()])),
     "cases[1].id must be unique, got 'small', the id of cases[0] too"),
]


@pytest.mark.parametrize("text, where", [b[1:] for b in BAD_TEXTS], ids=[b[0] for b in BAD_TEXTS])
def test_load_refuses_bad_files_naming_file_and_place(tmp_path, text, where):
    """Each malformed or hostile file raises VectorFormatError naming the file and the place."""
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(VectorFormatError) as info:
        vectors.load(str(path))
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert message.startswith(str(path)), message
    assert where.lower() in message.lower(), message


@pytest.mark.parametrize("text, where", [b[1:] for b in BAD_TEXTS], ids=[b[0] for b in BAD_TEXTS])
def test_parse_names_its_source(text, where):
    """parse raises the same errors, naming the source it was given."""
    with pytest.raises(VectorFormatError) as info:
        vectors.parse(text, source="from-the-net")
    assert str(info.value).startswith("from-the-net")
    assert where.lower() in str(info.value).lower()


BAD_IDS = ["", "-lead", ".hidden", "_x", "a/b", "../up", "a b", "x" * 101, "é", 5, None, ["a"]]


@pytest.mark.parametrize("bad_id", BAD_IDS, ids=[repr(i)[:12] for i in BAD_IDS])
def test_bad_ids_are_refused(bad_id):
    """An id other than 1–100 of letters, digits, '-', '_', '.' (alphanumeric first) is refused."""
    text = mutated(_set(C0 + ("id",), bad_id))
    with pytest.raises(VectorFormatError) as info:
        vectors.parse(text, source="ids.json")
    assert "ids.json: cases[0].id" in str(info.value)


def test_an_id_with_a_trailing_newline_is_refused():
    """An id ending in a newline is refused like any other bad character."""
    with pytest.raises(VectorFormatError, match=r"cases\[0\]\.id"):
        vectors.parse(mutated(_set(C0 + ("id",), "case\n")), source="ids.json")


def test_an_integer_too_long_for_python_is_refused_naming_the_file(tmp_path):
    """A 5000-digit integer literal raises VectorFormatError naming the file."""
    path = tmp_path / "long.json"
    path.write_text(GOOD.replace("0.25", "9" * 5000, 1), encoding="utf-8")
    with pytest.raises(VectorFormatError, match=r"long\.json"):
        vectors.load(str(path))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_literals_are_refused_naming_the_place(literal):
    """A NaN/Infinity literal in inputs is refused naming cases[0].inputs[1][1]."""
    with pytest.raises(VectorFormatError, match=r"cases\[0\]\.inputs\[1\]\[1\]"):
        vectors.parse(GOOD.replace("0.25", literal, 1), source="nan.json")


def test_file_over_max_bytes_is_refused_before_reading(tmp_path, monkeypatch):
    """A file larger than MAX_BYTES is refused, naming the file and its size."""
    path = tmp_path / "big.json"
    path.write_text(GOOD, encoding="utf-8")
    monkeypatch.setattr(vectors, "MAX_BYTES", 100)
    with pytest.raises(VectorFormatError) as info:
        vectors.load(str(path))
    assert str(path) in str(info.value) and str(len(GOOD)) in str(info.value)


def test_non_utf8_file_is_refused(tmp_path):
    """A file that is not UTF-8 is refused with a VectorFormatError naming it."""
    path = tmp_path / "latin.json"
    path.write_bytes(GOOD.replace('"a hand-written case"', '"caf\xe9"').encode("latin-1"))
    with pytest.raises(VectorFormatError, match="UTF-8") as info:
        vectors.load(str(path))
    assert str(path) in str(info.value)


def test_missing_file_is_refused(tmp_path):
    """A path that does not exist gives VectorFormatError naming it, not FileNotFoundError."""
    path = tmp_path / "absent.json"
    with pytest.raises(VectorFormatError) as info:
        vectors.load(str(path))
    assert str(path) in str(info.value)


def test_empty_folder_is_refused(tmp_path):
    """A folder without .json files is refused, naming the folder."""
    (tmp_path / "notes.txt").write_text("no vectors here")
    with pytest.raises(VectorFormatError, match=r"no \.json files") as info:
        vectors.load(str(tmp_path))
    assert str(tmp_path) in str(info.value)


def test_duplicate_ids_across_files_are_refused(tmp_path):
    """The same id in two files of a folder is refused, naming both files."""
    (tmp_path / "a.json").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.json").write_text(GOOD, encoding="utf-8")
    with pytest.raises(VectorFormatError) as info:
        vectors.load(str(tmp_path))
    message = str(info.value)
    assert str(tmp_path / "a.json") in message and str(tmp_path / "b.json") in message
    assert "'small'" in message


def test_bad_file_in_a_folder_is_named(tmp_path):
    """A folder with one bad file is refused naming that file and the place in it."""
    (tmp_path / "a.json").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.json").write_text(mutated(lambda d: d["cases"][0].update(id="other")
                                             or d["cases"][0]["inputs"][0].__setitem__(1, "x")))
    with pytest.raises(VectorFormatError) as info:
        vectors.load(str(tmp_path))
    assert f"{tmp_path / 'b.json'}: cases[0].inputs[0][1]" in str(info.value)


# -- partial (results) files --------------------------------------------------------------


def results_case(**expected):
    return {"id": "small", "expected": expected}


def test_partial_reads_a_results_file_with_only_id_and_gradients():
    """partial=True accepts a case with just id and expected gradients, shapes read off them."""
    grads = {"weights": [[[0.5, -0.5, 1.0], [0.0, 2.0, 3.0]], [[1.0]] * 3]}
    (case,) = vectors.parse(text_of(document([results_case(gradients=grads, loss=0.5)])),
                            partial=True)
    assert case == {"id": "small", "expected": {"gradients": grads, "loss": 0.5}}
    with pytest.raises(VectorFormatError, match=r"cases\[0\]: missing field 'network'"):
        vectors.parse(text_of(document([results_case(gradients=grads)])))


def test_partial_refuses_a_matrix_of_empty_rows():
    """Without shapes to hold it to, [[]] is still no matrix: the empty row is named."""
    grads = {"weights": [[[]], [[1.0]]]}
    with pytest.raises(VectorFormatError, match=r"weights\[0\]\[0\] is empty"):
        vectors.parse(text_of(document([results_case(gradients=grads)])), partial=True)


def test_partial_checks_shapes_against_the_network_when_given():
    """With "network" given, a results file's gradients must have the network's shapes."""
    net = small_case()["network"]
    good = {"weights": [[[0.0] * 3] * 2, [[0.0] * 4] * 3], "biases": [[[0.0] * 3], [[0.0] * 4]]}
    case = dict(results_case(gradients=good), network=net)
    assert vectors.parse(text_of(document([case])), partial=True)[0]["expected"]["gradients"] \
        == good
    bad = copy.deepcopy(good)
    bad["biases"][1][0].pop()
    case = dict(results_case(gradients=bad), network=net)
    where = r"cases\[0\]\.expected\.gradients\.biases\[1\]\[0\]"
    with pytest.raises(VectorFormatError, match=where):
        vectors.parse(text_of(document([case])), partial=True, source="r.json")


def test_partial_checks_pre_activation_rows_against_inputs():
    """With inputs given, a results file's pre-activations must have one row per input."""
    case = dict(results_case(pre_activations=[[[0.0] * 3], [[0.0] * 4]]),
                network=small_case()["network"], inputs=[[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(VectorFormatError, match=r"expected\.pre_activations\[0\] has 1 rows, expected 2"):
        vectors.parse(text_of(document([case])), partial=True)


@pytest.mark.parametrize("bad, where", [
    ({"loss": "0.5"}, "cases[0].expected.loss"),
    ({"trajectory": [1.0, True]}, "cases[0].expected.trajectory[1]"),
    ({"gradients": {"weights": [[[0.0, "x"]]]}}, "cases[0].expected.gradients.weights[0][0][1]"),
    ({"gradients": {"weights": [[[0.0, None]]]}}, "cases[0].expected.gradients.weights[0][0][1]"),
    ({"surprise": 1}, "cases[0].expected"),
])
def test_partial_still_checks_what_is_present(bad, where):
    """partial=True still refuses strings, nulls and unknown fields in what is present."""
    # A network is given so that the shapes are known too.
    case = dict(results_case(**bad), network={"sizes": [1, 2], "activation": "identity",
                                              "output_activation": "identity", "loss": "mse"})
    text = text_of(document([case]))
    with pytest.raises(VectorFormatError) as info:
        vectors.parse(text, partial=True, source="r.json")
    assert f"r.json: {where}" in str(info.value)


#: A JSON number or literal as a results file may write it, and the float it reads as.
BLOW_UPS = [("NaN", math.nan), ("Infinity", math.inf), ("-Infinity", -math.inf),
            ("1e400", math.inf), ("-1e400", -math.inf), (str(10 ** 400), math.inf),
            (str(-10 ** 400), -math.inf)]


def same_float(a, b):
    """True if a and b are the same float, NaN being the same as NaN."""
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("literal, value", BLOW_UPS)
def test_partial_reads_nan_and_infinities_in_every_reported_quantity(literal, value):
    """A results file's NaN, ±Infinity and numbers past the float range read as nan and ±inf."""
    numbers = {"pre_activations": [[[7.5, 0.5]]], "activations": [[[7.5, 0.5]]],
               "outputs": [[7.5, 0.5]], "loss": 7.5, "trajectory": [0.5, 7.5],
               "gradients": {"weights": [[[7.5, 0.5]]], "biases": [[[0.5, 7.5]]]},
               "updated": {"weights": [[[0.5, 7.5]]], "biases": [[[7.5, 0.5]]]}}
    case = dict(results_case(**numbers), network={"sizes": [1, 2], "activation": "identity",
                                                   "output_activation": "identity", "loss": "mse"},
                inputs=[[1.0]])
    # 7.5 stands for the blow-up: json.dumps writes it as "7.5", replaced by the literal
    (got,) = vectors.parse(text_of(document([case])).replace("7.5", literal), partial=True)
    found, written = list(leaves(got["expected"])), list(leaves(numbers))
    assert [p for p, _ in found] == [p for p, _ in written] and len(found) == 17
    assert all(same_float(v, value if w == 7.5 else w) for (_, v), (_, w) in zip(found, written))


def leaves(value, path=""):
    """Yield (path, number) for every number of nested dicts and lists."""
    if isinstance(value, dict):
        for key in sorted(value):
            yield from leaves(value[key], f"{path}.{key}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, f"{path}[{i}]")
    else:
        yield path, value


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
@pytest.mark.parametrize("field, where", [
    ("loss", "cases[0].expected.loss must be a finite number"),
    ("gradients", "cases[0].expected.gradients.weights[0][0][0] must be a finite number"),
])
def test_a_suite_refuses_nan_and_infinities_in_expected_values(literal, field, where):
    """Without partial (a suite), a NaN or ±Infinity in expected values is refused, naming it."""
    expected = {"loss": 0.125} if field == "loss" else {
        "gradients": {"weights": [[[0.125, 0.0, 0.0], [0.0, 0.0, 0.0]],
                                  [[0.0] * 4] * 3]}}
    doc = document([dict(small_case(), expected=expected)])
    text = text_of(doc).replace("0.125", literal, 1)
    assert literal in text
    with pytest.raises(VectorFormatError, match=re.escape(where)):
        vectors.parse(text, source="suite.json")


@pytest.mark.parametrize("expected", [{"loss": 0.5}, {"trajectory": [0.5, 0.25]}, None])
def test_partial_reads_results_without_network_or_gradients(expected):
    """A results case with only an id and a loss or trajectory (or nothing) loads with partial."""
    case = {"id": "small"} if expected is None else results_case(**expected)
    (got,) = vectors.parse(text_of(document([case])), partial=True)
    assert got == {"id": "small", "expected": expected or {}}


def test_partial_load_of_a_results_file(tmp_path):
    """load(path, partial=True) reads a results file written by another implementation."""
    path = tmp_path / "results.json"
    path.write_text(text_of(document([
        {"id": "a", "network": small_case()["network"], "expected": {"loss": 1.5}},
        {"id": "b", "expected": {"updated": {"weights": [[[1.0]]]}}},
    ])), encoding="utf-8")
    got = vectors.load(str(path), partial=True)
    assert got == [{"id": "a", "expected": {"loss": 1.5}},
                   {"id": "b", "expected": {"updated": {"weights": [[[1.0]]]}}}]


# -- the manifest of a written suite ---------------------------------------------------------


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A suite written by write_suite (curated and 2 random cases), left untouched."""
    out = tmp_path_factory.mktemp("written") / "suite"
    vectors.write_suite(str(out), random_count=2, seed=5)
    return out


def copy_of(folder, tmp_path):
    target = tmp_path / "copy"
    target.mkdir()
    for name in os.listdir(folder):
        (target / name).write_bytes((folder / name).read_bytes())
    return target


def test_write_suite_writes_a_manifest_of_every_case_file_and_its_sha256(written):
    """MANIFEST.sha256 has one '<sha256>  <file>' line per case file, hashed here with hashlib."""
    import hashlib

    lines = (written / "MANIFEST.sha256").read_text(encoding="utf-8").splitlines()
    files = sorted(n for n in os.listdir(written) if n.endswith(".json"))
    assert sorted(line.split("  ")[1] for line in lines) == files
    for line in lines:
        digest, name = line.split("  ")
        assert digest == hashlib.sha256((written / name).read_bytes()).hexdigest(), name


def test_a_suite_with_a_missing_case_file_is_refused_naming_it(written, tmp_path, capsys):
    """A case file gone (a partial suite): load and check refuse the folder (exit 2), naming it."""
    from purebp import cli
    suite = copy_of(written, tmp_path)
    (suite / "one-unit.json").unlink()
    with pytest.raises(VectorFormatError, match=r"partial suite.*one-unit\.json"):
        vectors.load(str(suite))
    assert cli.main(["check", str(suite), str(written)]) == 2
    err = capsys.readouterr().err
    assert "one-unit.json" in err and "MANIFEST.sha256" in err


def test_a_suite_with_an_altered_case_file_is_refused_naming_it(written, tmp_path):
    """One byte changed (still valid JSON, a different learning rate): refused by its SHA-256."""
    suite = copy_of(written, tmp_path)
    path = suite / "xor-tutorial.json"
    text = path.read_text(encoding="utf-8")
    assert '"learning_rate": 0.1,' in text
    path.write_text(text.replace('"learning_rate": 0.1,', '"learning_rate": 0.2,'),
                    encoding="utf-8")
    with pytest.raises(VectorFormatError, match=r"xor-tutorial\.json: its SHA-256 differs"):
        vectors.load(str(suite))


def test_a_writer_killed_midway_leaves_a_suite_that_is_refused(tmp_path):
    """write_suite killed after a few case files: the manifest, written first, exposes it."""
    out = tmp_path / "suite"
    script = ("import os, sys; from purebp.oracle import vectors; real = vectors.write_atomic\n"
              "done = []\n"
              "def dying(path, text, **options):\n"
              "    real(path, text, **options); done.append(path)\n"
              "    if len(done) == 4: os._exit(9)\n"
              "vectors.write_atomic = dying\n"
              "vectors.write_suite(sys.argv[1])")
    done = subprocess.run([sys.executable, "-c", script, str(out)], cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=ROOT), timeout=120)
    assert done.returncode == 9
    assert len([n for n in os.listdir(out) if n.endswith(".json")]) == 3
    with pytest.raises(VectorFormatError, match="partial suite"):
        vectors.load(str(out))


def test_a_folder_without_a_manifest_still_loads(written, tmp_path):
    """Folders written before manifests (or by hand) load as before: every *.json file."""
    suite = copy_of(written, tmp_path)
    (suite / "MANIFEST.sha256").unlink()
    assert [c["id"] for c in vectors.load(str(suite))] == \
        [c["id"] for c in vectors.load(str(written))]


def test_a_suite_with_a_manifest_reads_only_the_files_it_lists(written, tmp_path):
    """A *.json file the manifest does not list (left from another suite) is not read."""
    suite = copy_of(written, tmp_path)
    vectors.write(str(suite / "stray.json"), [small_case()])
    assert "small" not in {c["id"] for c in vectors.load(str(suite))}


@pytest.mark.parametrize("line", ["not a line", "0" * 64 + "  ../etc.json", "ab  x.json"])
def test_a_malformed_manifest_is_refused_naming_its_line(written, tmp_path, line):
    """A manifest line that is no '<sha256>  <file>.json' is refused with its line number."""
    suite = copy_of(written, tmp_path)
    manifest = suite / "MANIFEST.sha256"
    manifest.write_text(manifest.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
    with pytest.raises(VectorFormatError, match=r"MANIFEST.sha256, line \d+"):
        vectors.load(str(suite))


@pytest.mark.parametrize("path, kind", [(3, TypeError), (b"suite", TypeError), (None, TypeError),
                                        ("a\0b", ValueError)])
def test_load_refuses_what_is_no_path_as_a_wrong_type_or_value(path, kind):
    """A path of the wrong type is a TypeError and a NUL in it a ValueError, both naming path."""
    with pytest.raises(kind, match="load: path must"):
        vectors.load(path)


def test_a_manifest_in_any_form_sha256sum_writes_is_read(written, tmp_path):
    """Upper-case hex and the binary-mode ' *name' are sha256sum's too: read, and still checked."""
    suite = copy_of(written, tmp_path)
    manifest = suite / "MANIFEST.sha256"
    lines = manifest.read_text(encoding="utf-8").splitlines()
    redone = [line.split("  ")[0].upper() + " *" + line.split("  ")[1] if i % 2 else line
              for i, line in enumerate(lines)]
    manifest.write_text("\n".join(redone) + "\n", encoding="utf-8")
    assert [c["id"] for c in vectors.load(str(suite))] == \
        [c["id"] for c in vectors.load(str(written))]
    (suite / "one-unit.json").write_text("[]", encoding="utf-8")
    with pytest.raises(VectorFormatError, match=r"one-unit\.json: its SHA-256 differs"):
        vectors.load(str(suite))
