"""Tests for examples/: the oracle passes correct implementations and catches classic bugs.

examples/numpy_backprop.py is a plain numpy backpropagation with eight
plantable bugs; examples/torch_adapter.py runs the cases through PyTorch's
autograd in float64. Both also compute the per-operation cases (run_op), and
pass the op suite; examples/js/backprop.js is the same in plain JavaScript,
run with node. Each test skips when its library (or node) is absent (CI
installs numpy and nodejs, so the bug hunt and the JavaScript always run there).
"""

import functools
import importlib.util
import json
import math
import os
import re
import shutil
import subprocess

import pytest

from purebp import oracle, vectors
from purebp.oracle import ops
from purebp.oracle.diagnosis import CATALOG

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def curated():
    return vectors.curated()


@pytest.fixture(scope="module")
def numpy_example():
    pytest.importorskip("numpy")
    return load_example("numpy_backprop")


def test_correct_numpy_implementation_passes_every_case(numpy_example, curated):
    """Straightforward numpy backprop passes the curated suite and 40 random cases."""
    report = oracle.check_implementation(numpy_example.run, curated + vectors.random_cases(40, 9))
    assert report.passed, report.table(failures_only=True)
    assert report.counts()["not checked"] == 0


BUGS = ["transposed-weights", "derivative-of-z", "bias-gradient-one-row", "missing-mean",
        "sign-flipped", "updated-weights-in-backward", "softmax-no-shift", "wrong-layer-delta"]


def test_the_example_plants_the_eight_bugs_named_here(numpy_example):
    """The example's bug list is the eight classic bugs this file hunts."""
    assert sorted(numpy_example.BUGS) == sorted(BUGS)


@pytest.mark.parametrize("bug", BUGS)
def test_each_classic_bug_is_reported_as_a_failure_by_the_numbers(numpy_example, curated, bug):
    """With the bug planted, the oracle reports FAIL, and some failure is a wrong number."""
    report = oracle.check_implementation(functools.partial(numpy_example.run, bug=bug), curated)
    assert not report.passed
    by_comparison = [(c.id, q.name) for c in report.cases for q in c.quantities
                     if q.status == "fail" and not q.detail.startswith("raised")]
    assert by_comparison, f"{bug}: only exceptions, no wrong number was caught"


@pytest.mark.parametrize("bug", [bug for bug in BUGS if bug in CATALOG])
def test_each_catalogued_bug_is_diagnosed_by_its_id(numpy_example, curated, bug):
    """A planted bug the diagnosis catalog names is diagnosed by that id, and by no other."""
    report = oracle.check_implementation(functools.partial(numpy_example.run, bug=bug), curated)
    found = {d.id for c in report.cases for d in c.diagnosis}
    assert bug in found, f"{bug}: diagnosed as {sorted(found)}"
    assert found <= {bug, "constant-ratio"}, f"{bug}: also diagnosed as {sorted(found - {bug})}"


def test_pytorch_float64_passes_every_case(curated):
    """PyTorch autograd in float64, with its own loss modules, passes the curated suite."""
    pytest.importorskip("torch")
    torch_example = load_example("torch_adapter")
    report = oracle.check_implementation(torch_example.run, curated + vectors.random_cases(20, 4))
    assert report.passed, report.table(failures_only=True)


@pytest.fixture(scope="module")
def op_suite():
    return ops.curated_ops() + ops.random_op_cases(60, 11)


def test_numpy_run_op_passes_the_op_suite(numpy_example, op_suite):
    """numpy's dense layer, activations and losses (run_op) pass every op case, each quantity given."""
    report = oracle.check_implementation(numpy_example.run_op, op_suite)
    assert report.passed, report.table(failures_only=True)
    assert report.counts()["not checked"] == 0


def test_numpy_example_checks_the_op_suite_from_the_command_line(numpy_example, monkeypatch,
                                                                  capsys):
    """``numpy_backprop.py --ops`` checks the curated op suite and exits 0 with PASS."""
    monkeypatch.setattr("sys.argv", ["numpy_backprop.py", "--ops"])
    assert numpy_example.main() == 0
    out = capsys.readouterr().out
    assert "op-dense-square" in out and out.rstrip().endswith("PASS")


def test_numpy_example_checks_an_op_folder(numpy_example, monkeypatch, capsys, tmp_path):
    """Given a folder that ``purebp vectors --ops`` wrote, the example checks every case in it."""
    folder = str(tmp_path / "ops")
    ops.write_op_suite(folder, 2, 1)
    monkeypatch.setattr("sys.argv", ["numpy_backprop.py", folder])
    assert numpy_example.main() == 0
    assert "op-random-1-0001" in capsys.readouterr().out


def test_pytorch_float64_run_op_passes_the_op_suite(op_suite):
    """torch's own ops and losses, with autograd's backward(upstream), pass every op case."""
    pytest.importorskip("torch")
    torch_example = load_example("torch_adapter")
    report = oracle.check_implementation(torch_example.run_op, op_suite)
    assert report.passed, report.table(failures_only=True)
    assert report.counts()["not checked"] == 0


# -- examples/js/backprop.js: the vectors from another language ----------------------------

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


def run_js(vectors_folder, results_folder):
    done = subprocess.run([NODE, os.path.join(EXAMPLES, "js", "backprop.js"), vectors_folder,
                           results_folder], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


@needs_node
def test_the_javascript_backprop_passes_the_op_suite(tmp_path):
    """node backprop.js computes every per-operation case of ``purebp vectors --ops``."""
    suite, results = str(tmp_path / "ops"), str(tmp_path / "r")
    ops.write_op_suite(suite, 10, 5)
    run_js(suite, results)
    report = oracle.check_files(suite, results)
    assert report.passed, report.table(failures_only=True)
    assert report.counts()["not checked"] == 0 and not report.missing_ids


@needs_node
def test_the_javascript_backprop_passes_the_curated_suite(tmp_path):
    """node backprop.js reads every case file the manifest lists, and its results pass check."""
    suite, results = str(tmp_path / "v"), str(tmp_path / "r")
    vectors.write_suite(suite, 3, 11)
    count = len(vectors.curated()) + 3
    assert run_js(suite, results) == f"wrote results for {count} cases to {results}\n"
    report = oracle.check_files(suite, results)
    assert report.passed, report.table(failures_only=True)
    assert report.counts()["not checked"] == 0 and not report.missing_ids


@needs_node
def test_the_javascript_writes_shortest_round_trip_numbers(tmp_path):
    """Each number in its files is the shortest decimal of its double: 0.1, never 0.1000000000000000055."""
    suite, results = str(tmp_path / "v"), str(tmp_path / "r")
    vectors.write_suite(suite)
    run_js(suite, results)
    with open(os.path.join(results, "xor-tutorial.json"), encoding="utf-8") as handle:
        text = handle.read()
    mine = vectors.load(os.path.join(results, "xor-tutorial.json"), partial=True)[0]["expected"]
    for number in re.findall(r"-?\d[\d.e+-]*", text)[:200]:
        assert repr(float(number)) == number or float(number) == int(number), number
    assert mine["loss"] == pytest.approx(oracle.purebp_results(vectors.curated()[0])["loss"],
                                         rel=1e-14)


def tiny_case(case_id, optimizer, steps=1, batches=None):
    """z = w·x + b on x = 2, y = 1 (w = 0.5, b = 0.25), mse: z = 1.25, ∂/∂w = 1, ∂/∂b = 0.5."""
    case = {"id": case_id, "network": {"sizes": [1, 1], "activation": "identity",
                                        "output_activation": "identity", "loss": "mse"},
            "parameters": {"weights": [[[0.5]]], "biases": [[[0.25]]]},
            "inputs": [[2.0], [2.0]], "targets": [[1.0], [1.0]],
            "learning_rate": optimizer["arguments"]["lr"], "steps": steps, "optimizer": optimizer}
    if batches is not None:
        case["batches"] = batches
    return case


def w_and_b(parameters):
    """(w, b) of a tiny case's {"weights", "biases"}."""
    return [parameters["weights"][0][0][0], parameters["biases"][0][0][0]]


def sgd(**arguments):
    return {"name": "sgd", "arguments": {"lr": 0.1, "momentum": 0.0, "dampening": 0.0,
                                         "weight_decay": 0.0, "nesterov": False, **arguments}}


def adam(name="adam", **arguments):
    return {"name": name, "arguments": {"lr": 0.1, "betas": [0.9, 0.999], "eps": 1e-8,
                                        "weight_decay": 0.0, "amsgrad": False, **arguments}}


def tiny_gradient(w, b, rows):
    """(∂/∂w, ∂/∂b) of mse on the rows (x, y): the mean of 2·(w·x + b − y)·(x, 1)."""
    errors = [2 * (w * x + b - y) for x, y in rows]
    return (sum(e * x for e, (x, _) in zip(errors, rows)) / len(rows), sum(errors) / len(rows))


def dampened_final():
    """Two SGD steps, momentum 0.9, dampening 0.5, the second on the row (1, 0) alone."""
    g1 = tiny_gradient(0.5, 0.25, [(2.0, 1.0), (1.0, 0.0)])
    w1, b1 = 0.5 - 0.1 * g1[0], 0.25 - 0.1 * g1[1]  # b = g at the first step
    g2 = tiny_gradient(w1, b1, [(1.0, 0.0)])
    buffer = [0.9 * g1[0] + 0.5 * g2[0], 0.9 * g1[1] + 0.5 * g2[1]]
    return [w1, b1], [w1 - 0.1 * buffer[0], b1 - 0.1 * buffer[1]], buffer


#: (case, what its updated (w, b), or final and momentum_buffer, must be), worked out by hand:
#: Adam's first step is lr·g/(|g| + eps) (m̂ = g, v̂ = g²), Nesterov's (1 + μ)·lr·g, AdamW's
#: decay p·(1 − lr·λ) comes first, RMSprop's first v is (1 − α)·g².
TINY = [
    (tiny_case("tiny-adam", adam()), [0.5 - 0.1 * 1 / (1 + 1e-8), 0.25 - 0.1 * 0.5 / (0.5 + 1e-8)]),
    (tiny_case("tiny-adamw", adam("adamw", weight_decay=0.5)),
     [0.5 * (1 - 0.05) - 0.1 / (1 + 1e-8), 0.25 * (1 - 0.05) - 0.1 * 0.5 / (0.5 + 1e-8)]),
    (tiny_case("tiny-nesterov", sgd(momentum=0.9, nesterov=True)), [0.5 - 0.19, 0.25 - 0.095]),
    (tiny_case("tiny-l2", sgd(weight_decay=0.5)), [0.5 - 0.1 * 1.25, 0.25 - 0.1 * 0.625]),
    (tiny_case("tiny-rmsprop", {"name": "rmsprop", "arguments": {
        "lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0,
        "centered": False}}),
     [0.5 - 0.01 * 1 / (0.1 + 1e-8), 0.25 - 0.01 * 0.5 / (0.05 + 1e-8)]),
]


@needs_node
@pytest.mark.parametrize("case, want", TINY, ids=[c["id"] for c, _ in TINY])
def test_the_javascript_optimizers_take_the_first_step_worked_out_by_hand(tmp_path, case, want):
    """One step of Adam, AdamW, Nesterov, L2 SGD, RMSprop on z = w·x + b: the values by hand."""
    suite, results = tmp_path / "v", tmp_path / "r"
    suite.mkdir()
    (suite / "c.json").write_text(json.dumps({"format": "purebp-vectors", "version": 1,
                                              "cases": [case]}), encoding="utf-8")
    run_js(str(suite), str(results))
    with open(results / f"{case['id']}.json", encoding="utf-8") as handle:
        got = json.load(handle)["cases"][0]["expected"]
    assert w_and_b(got["updated"]) == pytest.approx(want, rel=1e-15)
    assert w_and_b(got["final"]) == pytest.approx(want, rel=1e-15)  # one step: final is updated
    assert got["optimizer_state"]["step"] == 1


@needs_node
def test_the_javascript_dampens_momentum_and_steps_on_each_batch(tmp_path):
    """Two dampened momentum steps, the second on row 1 alone: losses, final and the buffer by hand."""
    case = tiny_case("tiny-dampened", sgd(momentum=0.9, dampening=0.5), steps=2,
                     batches=[[0, 1], [1]])
    case["inputs"][1], case["targets"][1] = [1.0], [0.0]  # the rows (2, 1) and (1, 0)
    suite, results = tmp_path / "v", tmp_path / "r"
    suite.mkdir()
    (suite / "c.json").write_text(json.dumps({"format": "purebp-vectors", "version": 1,
                                              "cases": [case]}), encoding="utf-8")
    run_js(str(suite), str(results))
    with open(results / "tiny-dampened.json", encoding="utf-8") as handle:
        got = json.load(handle)["cases"][0]["expected"]
    (w1, b1), final, buffer = dampened_final()
    assert w_and_b(got["final"]) == pytest.approx(final, rel=1e-15)
    assert got["optimizer_state"] == {"step": 2, "momentum_buffer": {
        "weights": [[[pytest.approx(buffer[0], rel=1e-15)]]],
        "biases": [[[pytest.approx(buffer[1], rel=1e-15)]]]}}
    first = ((2 * 0.5 + 0.25 - 1) ** 2 + (0.5 + 0.25) ** 2) / 2
    assert got["trajectory"] == pytest.approx([first, (w1 + b1) ** 2], rel=1e-15)


OP_CASES = [
    {"id": "op-dense-hand", "op": "dense", "inputs": [[1.0, 2.0], [3.0, -1.0]],
     "weights": [[1.0, 0.5, -1.0], [2.0, 0.0, 1.0]], "biases": [[0.25, 0.0, 1.0]],
     "upstream": [[1.0, 0.0, -1.0], [0.5, 2.0, 0.0]]},
    {"id": "op-softmax-hand", "op": "activation", "activation": "softmax",
     "inputs": [[1.0, 2.0, 3.0], [800.0, 0.0, -800.0]], "upstream": [[1.0, -2.0, 0.5], [0.0, 1.0, 3.0]]},
    {"id": "op-sigmoid-hand", "op": "activation", "activation": "sigmoid",
     "inputs": [[0.0, 30.0, -800.0]], "upstream": [[2.0, 1.0, 1.0]]},
    {"id": "op-relu-hand", "op": "activation", "activation": "relu",
     "inputs": [[0.0, 2.0, -3.0]], "upstream": [[5.0, 5.0, 5.0]]},
    {"id": "op-leaky-hand", "op": "activation", "activation": "leaky_relu",
     "inputs": [[0.0, 2.0, -3.0]], "upstream": [[5.0, 5.0, 5.0]]},
    {"id": "op-ce-hand", "op": "loss", "loss": "cross_entropy",
     "inputs": [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], "targets": [[0.0, 0.0, 1.0], [0.5, 0.5, 0.0]]},
    {"id": "op-bce-hand", "op": "loss", "loss": "bce", "inputs": [[800.0, -800.0]],
     "targets": [[1.0, 1.0]]},
    {"id": "op-mse-hand", "op": "loss", "loss": "mse", "inputs": [[1.0, 4.0]], "targets": [[0.0, 1.0]]},
    {"id": "op-half-hand", "op": "loss", "loss": "half_sse", "inputs": [[1.0, 4.0]],
     "targets": [[0.0, 1.0]]},
]


def flat(value):
    """A number, or the entries of nested lists, as one list."""
    if isinstance(value, list):
        return [v for item in value for v in flat(item)]
    return [value]


def op_truth():
    """What each op case above must give, by hand-written loops and math's functions."""
    x, W, b, G = (OP_CASES[0][k] for k in ("inputs", "weights", "biases", "upstream"))
    dense = {
        "output": [[sum(x[i][m] * W[m][j] for m in range(2)) + b[0][j] for j in range(3)]
                   for i in range(2)],
        "grad_inputs": [[sum(G[i][j] * W[m][j] for j in range(3)) for m in range(2)]
                        for i in range(2)],
        "grad_weights": [[sum(x[n][m] * G[n][j] for n in range(2)) for j in range(3)]
                         for m in range(2)],
        "grad_biases": [[G[0][j] + G[1][j] for j in range(3)]],
    }

    def softmax(row):
        exps = [math.exp(v - max(row)) for v in row]
        return [e / sum(exps) for e in exps]

    z, g = OP_CASES[1]["inputs"], OP_CASES[1]["upstream"]
    s = [softmax(row) for row in z]
    soft = {"output": s, "grad_inputs": [
        [s[i][k] * (g[i][k] - sum(g[i][j] * s[i][j] for j in range(3))) for k in range(3)]
        for i in range(2)]}
    sig = [0.5, 1 / (1 + math.exp(-30.0)), math.exp(-800.0)]
    sigmoid = {"output": [sig], "grad_inputs": [[2 * 0.25, math.exp(-30.0) / (1 + math.exp(-30.0)) ** 2,
                                                 0.0]]}
    relu = {"output": [[0.0, 2.0, 0.0]], "grad_inputs": [[0.0, 5.0, 0.0]]}
    leaky = {"output": [[0.0, 2.0, -0.03]], "grad_inputs": [[0.05, 5.0, 0.05]]}
    ce_rows = [math.log(math.exp(1) + math.exp(2) + math.exp(3)) - 3.0, math.log(3.0)]
    ce = {"output": sum(ce_rows) / 2, "grad_inputs": [
        [(p - t) / 2 for p, t in zip(softmax(z_row), y_row)]
        for z_row, y_row in zip(OP_CASES[5]["inputs"], OP_CASES[5]["targets"])]}
    bce = {"output": 400.0, "grad_inputs": [[0.0, -0.5]]}
    mse = {"output": (1.0 + 9.0) / 2, "grad_inputs": [[1.0, 3.0]]}
    half = {"output": 0.5 * (1.0 + 9.0), "grad_inputs": [[1.0, 3.0]]}
    return [dense, soft, sigmoid, relu, leaky, ce, bce, mse, half]


@needs_node
def test_the_javascript_computes_op_cases_as_the_op_format_defines_them(tmp_path):
    """Dense, activation and loss op cases give the outputs and gradients computed here by hand."""
    suite, results = tmp_path / "ops", tmp_path / "r"
    suite.mkdir()
    (suite / "ops.json").write_text(json.dumps({"format": "purebp-vectors", "version": 1,
                                                "cases": OP_CASES}), encoding="utf-8")
    run_js(str(suite), str(results))
    for case, truth in zip(OP_CASES, op_truth()):
        with open(results / f"{case['id']}.json", encoding="utf-8") as handle:
            got = json.load(handle)["cases"][0]["expected"]
        assert sorted(got) == sorted(truth), case["id"]
        for name, want in truth.items():
            assert flat(got[name]) == pytest.approx(flat(want), rel=1e-14, abs=1e-300), (
                case["id"], name)
