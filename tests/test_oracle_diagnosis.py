"""Tests for purebp.oracle.diagnosis: a failing case names the classic mistake it makes.

The implementation under test is written here, separately from the catalog's
recomputations: plain index loops over lists, no numpy, nothing from
purebp.oracle.diagnosis, purebp.network or purebp.matrix. Each mistake is
planted in it by name; the oracle's report must then carry that mistake's id
and layer. The mistakes move the numbers far beyond any tolerance, so the
tests hold however tight the tolerances are.
"""

import json
import math
import random
import struct

import pytest

from purebp import oracle
from purebp.oracle import vectors
from purebp.oracle.diagnosis import CATALOG


@pytest.fixture(scope="module")
def curated():
    return {case["id"]: case for case in vectors.curated()}


# -- an implementation written from the equations, with mistakes to plant ---------------


def sigmoid(x):
    if x < -700.0:  # e^−x would overflow; there σ(x) = e^x to the last bit
        return math.exp(x)
    return 1.0 / (1.0 + math.exp(-x))


def activate(name, z_row, slope):
    """f of one row of pre-activations."""
    if name == "softmax":
        top = max(z_row)
        e = [math.exp(v - top) for v in z_row]
        total = 0.0
        for v in e:
            total += v
        return [v / total for v in e]
    f = {"identity": lambda x: x, "sigmoid": sigmoid, "tanh": math.tanh,
         "relu": lambda x: x if x > 0.0 else 0.0,
         "leaky_relu": lambda x: x if x > 0.0 else slope * x}[name]
    return [f(v) for v in z_row]


def slope_of(name, z, a, slope):
    """f′ at one unit from its z and a = f(z): the output forms for sigmoid and tanh."""
    if name == "sigmoid":
        return a * (1.0 - a)
    if name == "tanh":
        return 1.0 - a * a
    if name == "relu":
        return 1.0 if z > 0.0 else 0.0
    if name == "leaky_relu":
        return 1.0 if z > 0.0 else slope
    return 1.0


def loss_of(name, y, z, a, half=0.5):
    """The loss of one batch: half_sse, mse, bce (on z), cross_entropy (on z)."""
    n, k = len(y), len(y[0])
    total = 0.0
    for i in range(n):
        if name == "cross_entropy":
            top = max(z[i])
            rest = 0.0
            for v in z[i]:
                rest += math.exp(v - top)
            lse = top + math.log(rest)
        for j in range(k):
            if name in ("half_sse", "mse"):
                total += (a[i][j] - y[i][j]) ** 2
            elif name == "bce":
                total += max(z[i][j], 0.0) - y[i][j] * z[i][j] + math.log1p(math.exp(-abs(z[i][j])))
            elif y[i][j] != 0.0:
                total += y[i][j] * (lse - z[i][j])
    if name == "half_sse":
        return half * total
    return total / (n * k) if name in ("mse", "bce") else total / n


def to_float32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def gradients_at(case, W, B, X, y, bug=None, where=None, slope=0.01, factor=1.0):
    """Return (zs, activations, loss, weight gradients, bias gradients) of the rows X, y at W, B."""
    net = case["network"]
    L = len(net["sizes"]) - 1
    names = [net["activation"]] * (L - 1) + [net["output_activation"]]
    loss = net["loss"]
    lr = case["learning_rate"]
    n, k = len(y), len(y[0])
    count = n if loss == "cross_entropy" else n * k  # the mean's divisor

    def at(l):
        return where is None or where == l

    def leaky(l):
        return slope if bug == "wrong-leaky-slope" and at(l) else 0.01

    # forward
    a, zs = [[list(r) for r in X]], []
    for l in range(L):
        z = [[B[l][0][j] + sum_of(a[l][i][m] * W[l][m][j] for m in range(len(W[l])))
              for j in range(len(W[l][0]))] for i in range(n)]
        zs.append(z)
        out = [activate(names[l], row, leaky(l)) for row in z]
        if bug == "output-activation-twice" and l == L - 1:
            out = [activate(names[l], row, leaky(l)) for row in out]
        a.append(out)
    z, out = zs[-1], a[-1]
    value = loss_of(loss, y, z, out, 1.0 if bug == "missing-half" else 0.5)
    if bug == "missing-mean-loss":
        value *= count
    # backward: the output delta
    delta = [[0.0] * k for _ in range(n)]
    for i in range(n):
        for j in range(k):
            if loss in ("bce", "cross_entropy"):
                d = (sigmoid(z[i][j]) if loss == "bce" else out[i][j]) - y[i][j]
                d /= count
                if bug == "extra-derivative":
                    d *= out[i][j] * (1.0 - out[i][j])
            else:
                e = out[i][j] - y[i][j]
                d = e if loss == "half_sse" else 2.0 * e / count
                if bug == "missing-half":
                    d = 2.0 * e
                s = out[i][j]
                if bug in ("derivative-of-z", "derivative-of-output-as-z") and at(L - 1):
                    s = z[i][j] if bug == "derivative-of-z" else activate(names[-1], [s], 0.01)[0]
                d *= slope_of(names[-1], z[i][j], s, leaky(L - 1))
            if bug == "missing-mean":
                d *= count
            if bug == "extra-mean":
                d /= count
            delta[i][j] = d
    gw, gb = [None] * L, [None] * L
    for l in range(L - 1, -1, -1):
        rows, cols = len(W[l]), len(W[l][0])
        gw[l] = [[sum_of(a[l][i][r] * delta[i][c] for i in range(n)) for c in range(cols)]
                 for r in range(rows)]
        if bug == "bias-gradient-one-row" and at(l):
            gb[l] = [list(delta[0])]
        else:
            gb[l] = [[sum_of(delta[i][c] for i in range(n)) for c in range(cols)]]
        if l == 0:
            break
        outer = W[l]
        if bug == "updated-weights-in-backward" and at(l):
            outer = [[W[l][r][c] - lr * gw[l][r][c] for c in range(cols)] for r in range(rows)]
        below = []
        for i in range(n):
            row = []
            for r in range(rows):
                if bug == "transposed-weights" and at(l):  # δ·W: W[l] is square here
                    back = sum_of(delta[i][c] * outer[c][r] for c in range(cols))
                else:
                    back = sum_of(delta[i][c] * outer[r][c] for c in range(cols))
                zv, av = zs[l - 1][i][r], a[l][i][r]
                if bug == "derivative-of-z" and at(l - 1) and names[l - 1] in ("sigmoid", "tanh"):
                    av = zv
                if bug == "derivative-of-output-as-z" and at(l - 1):
                    av = activate(names[l - 1], [av], 0.01)[0]
                row.append(back * slope_of(names[l - 1], zv, av, leaky(l - 1)))
            below.append(row)
        delta = below
    for grads in (gw, gb):
        for g in grads:
            for row in g:
                for c in range(len(row)):
                    if bug == "sign-flipped":
                        row[c] = -row[c]
                    if bug == "learning-rate-twice":
                        row[c] *= lr
                    if bug == "float32-somewhere":
                        row[c] = to_float32(row[c])
                    row[c] *= factor
    return zs, a[1:], value, gw, gb


def entry_step(name, a, state, key, p, g, bug=None):
    """One parameter entry after one step of torch.optim's rule ``name``; its buffers move on.

    ``state``: {"step": t, buffer name: {key: value}}, every buffer 0 before
    its entry's first step. Planted here: adamw-as-l2, adam-no-bias-correction,
    nesterov-as-momentum, momentum-without-dampening.
    """
    t, lr, wd = state["step"], a["lr"], a.get("weight_decay", 0.0)

    def buffer(buf, value=None):
        entries = state.setdefault(buf, {})
        if value is not None:
            entries[key] = value
        return entries.get(key, 0.0)

    if name == "adamw" and bug != "adamw-as-l2":
        p = p * (1.0 - lr * wd)  # decoupled: the parameter shrinks, the gradient stays
    elif wd:
        g = g + wd * p  # L2: λ·p joins the gradient
    if name == "sgd":
        mu, tau = a["momentum"], a["dampening"]
        if not mu:
            return p - lr * g
        if bug == "momentum-without-dampening":
            tau = 0.0
        b = buffer("momentum_buffer", g if t == 1 else mu * buffer("momentum_buffer")
                   + (1.0 - tau) * g)
        nesterov = a["nesterov"] and bug != "nesterov-as-momentum"
        return p - lr * (g + mu * b if nesterov else b)
    if name == "rmsprop":
        alpha = a["alpha"]
        v = buffer("square_avg", alpha * buffer("square_avg") + (1.0 - alpha) * g * g)
        if a["centered"]:
            mean = buffer("grad_avg", alpha * buffer("grad_avg") + (1.0 - alpha) * g)
            v = v - mean * mean
        d = g / (math.sqrt(v) + a["eps"])
        if a["momentum"]:
            d = buffer("momentum_buffer", a["momentum"] * buffer("momentum_buffer") + d)
        return p - lr * d
    beta1, beta2 = a["betas"]
    m = buffer("exp_avg", beta1 * buffer("exp_avg") + (1.0 - beta1) * g)
    v = buffer("exp_avg_sq", beta2 * buffer("exp_avg_sq") + (1.0 - beta2) * g * g)
    if a["amsgrad"]:
        v = buffer("max_exp_avg_sq", max(buffer("max_exp_avg_sq"), v))
    if bug != "adam-no-bias-correction":
        m, v = m / (1.0 - beta1 ** t), v / (1.0 - beta2 ** t)
    return p - lr * m / (math.sqrt(v) + a["eps"])


def optimizer_step(config, state, W, B, gw, gb, bug=None, where=None):
    """(weights, biases) after one step of the optimizer ``config``, entry by entry."""
    state["step"] += 1

    def at(l):
        return where is None or where == l

    def stepped(kind, P, G):
        return [[[entry_step(config["name"], config["arguments"], state, (kind, l, r, c), p, g, bug)
                  for c, (p, g) in enumerate(zip(P[l][r], G[l][r]))] for r in range(len(P[l]))]
                for l in range(len(P))]

    new_b = stepped("biases", B, gb)
    if bug == "bias-not-updated":
        new_b = [[list(r) for r in B[l]] if at(l) else new_b[l] for l in range(len(B))]
    return stepped("weights", W, gw), new_b


def backprop(case, bug=None, where=None, slope=0.01, factor=1.0):
    """Return every quantity of a case, with ``bug`` planted in layer ``where`` (None: all).

    ``updated``: one step on every row from fresh optimizer state; the
    trajectory: the case's steps, step k on the rows batches[k]; then, for a
    case with an optimizer or batches, ``final`` and ``optimizer_state``.
    """
    planted = {"bug": bug, "where": where, "slope": slope, "factor": factor}
    config = case.get("optimizer") or {"name": "sgd", "arguments": {
        "lr": case["learning_rate"], "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0,
        "nesterov": False}}
    X, y, batches = case["inputs"], case["targets"], case.get("batches")
    W = [[list(r) for r in m] for m in case["parameters"]["weights"]]
    B = [[list(r) for r in m] for m in case["parameters"]["biases"]]
    zs, a, value, gw, gb = gradients_at(case, W, B, X, y, **planted)
    new_w, new_b = optimizer_step(config, {"step": 0}, W, B, gw, gb, bug, where)
    result = {"pre_activations": zs, "activations": a, "loss": value,
              "gradients": {"weights": gw, "biases": gb},
              "updated": {"weights": new_w, "biases": new_b}}
    state, trajectory = {"step": 0}, []
    for k in range(case["steps"]):
        rows = range(len(X)) if batches is None else batches[k]
        *_, value, gw, gb = gradients_at(case, W, B, [X[i] for i in rows], [y[i] for i in rows],
                                         **planted)
        trajectory.append(value)
        W, B = optimizer_step(config, state, W, B, gw, gb, bug, where)
    result["trajectory"] = trajectory
    if "optimizer" in case or batches is not None:
        result["final"] = {"weights": W, "biases": B}
        result["optimizer_state"] = {"step": state["step"]}
        for name, entries in state.items():
            if name != "step":
                result["optimizer_state"][name] = {kind: [
                    [[entries[(kind, l, r, c)] for c in range(len(P[l][r]))]
                     for r in range(len(P[l]))] for l in range(len(P))]
                    for kind, P in (("weights", W), ("biases", B))}
    return result


def sum_of(terms):
    total = 0.0
    for t in terms:  # left to right
        total += t
    return total


def check(case, pol=None, **planted):
    """Return the report and its one case for the implementation with ``planted`` mistakes."""
    report = oracle.check_implementation(lambda c: backprop(c, **planted), [case], pol)
    return report, report.cases[0]


#: The float64 preset (16 times what rounding can do) and one 10 times looser: a diagnosis
#: does not hang on the width. (Tighter is not possible: correct rounding would fail.)
POLICIES = [None, oracle.policy(rtol=oracle.POLICIES["float64"].rtol * 10)]


# -- the tests ------------------------------------------------------------------------------


def test_the_catalog_holds_every_id_the_issue_names():
    """Every mistake id issue 13 lists is in the catalog, described, with where it applies."""
    ids = ["missing-mean", "extra-mean", "missing-half", "sign-flipped", "transposed-weights",
           "bias-gradient-one-row", "derivative-of-z", "derivative-of-output-as-z",
           "extra-derivative", "updated-weights-in-backward", "learning-rate-twice",
           "bias-not-updated", "wrong-leaky-slope", "output-activation-twice",
           "float32-somewhere"]
    assert [i for i in ids if i not in CATALOG] == []
    for mistake_id, mistake in CATALOG.items():
        assert mistake.id == mistake_id and mistake.description and mistake.applies_to


@pytest.mark.parametrize("pol", POLICIES, ids=["float64", "looser"])
def test_the_implementation_here_is_correct_on_every_curated_case(curated, pol):
    """Without a mistake planted, every curated case passes and none has a diagnosis."""
    report = oracle.check_implementation(backprop, list(curated.values()), pol)
    assert report.passed, report.table(failures_only=True)
    assert [c.id for c in report.cases if c.diagnosis] == []


#: (mistake, what to plant, the case where it shows, the quantity and layer to be named)
PLANTED = [
    ("missing-mean", {}, "loss-mse", "gradients.weights", None),
    ("missing-mean", {"bug": "missing-mean"}, "loss-cross_entropy", "gradients.biases", None),
    ("missing-mean", {"bug": "missing-mean-loss"}, "loss-bce", "loss", None),
    ("extra-mean", {}, "loss-mse", "gradients.weights", None),
    ("missing-half", {}, "loss-half_sse", "gradients.weights", None),
    ("missing-half", {}, "xor-tutorial", "loss", None),
    ("sign-flipped", {}, "loss-mse", "gradients.weights", None),
    ("transposed-weights", {}, "square-layers", "gradients.weights", None),
    ("transposed-weights", {"where": 2}, "square-layers", "gradients.weights", 2),
    ("bias-gradient-one-row", {}, "loss-mse", "gradients.biases", None),
    ("bias-gradient-one-row", {"where": 1}, "batch-64", "gradients.biases", 1),
    ("derivative-of-z", {"where": 0}, "activation-sigmoid", "gradients.weights", 0),
    ("derivative-of-z", {}, "loss-half_sse", "gradients.weights", None),
    ("derivative-of-output-as-z", {"where": 1}, "activation-tanh", "gradients.weights", 1),
    ("derivative-of-output-as-z", {}, "xor-tutorial", "gradients.weights", None),
    ("extra-derivative", {}, "loss-bce", "gradients.weights", 1),
    ("extra-derivative", {}, "loss-cross_entropy", "gradients.weights", 1),
    ("updated-weights-in-backward", {}, "activation-tanh", "gradients.weights", None),
    ("updated-weights-in-backward", {}, "loss-mse", "gradients.weights", 1),
    ("learning-rate-twice", {}, "loss-mse", "gradients.weights", None),
    ("learning-rate-twice", {}, "loss-mse", "updated.biases", None),
    ("bias-not-updated", {}, "loss-mse", "updated.biases", None),
    ("bias-not-updated", {"where": 0}, "activation-relu", "updated.biases", 0),
    ("wrong-leaky-slope", {"slope": 0.1}, "activation-leaky_relu", "gradients.weights", None),
    ("wrong-leaky-slope", {"slope": 0.2}, "activation-leaky_relu", "pre_activations", None),
    ("output-activation-twice", {}, "loss-half_sse", "outputs", 1),
    ("output-activation-twice", {}, "loss-half_sse", "gradients.weights", 1),
    ("float32-somewhere", {}, "loss-mse", "gradients.weights", 0),
]


@pytest.mark.parametrize("pol", POLICIES, ids=["float64", "looser"])
@pytest.mark.parametrize("mistake, planted, case_id, quantity, layer", PLANTED)
def test_a_planted_mistake_is_diagnosed_by_its_id_and_layer(curated, mistake, planted, case_id,
                                                             quantity, layer, pol):
    """The report of the case carries the mistake's id with the layer it was planted in."""
    planted = {"bug": mistake, **planted}
    report, result = check(curated[case_id], pol, **planted)
    assert not result.passed
    found = [(d.id, d.quantity, d.layer) for d in result.diagnosis]
    assert (mistake, quantity, layer) in found, report.table(failures_only=True)
    others = {d.id for d in result.diagnosis} - {mistake}
    assert others == set(), f"also diagnosed: {sorted(others)}\n{report.table()}"


def test_the_text_report_adds_one_line_per_diagnosis_under_the_case(curated):
    """A derivative-of-z in layer 0 reads '    gradients.weights[0] match `derivative-of-z` in layer 0'."""
    report, _ = check(curated["activation-sigmoid"], bug="derivative-of-z", where=0)
    lines = report.table().splitlines()
    expected = ["    gradients.weights[0] match `derivative-of-z` in layer 0",
                "    gradients.biases[0] match `derivative-of-z` in layer 0",
                "    updated.weights[0] match `derivative-of-z` in layer 0",
                "    updated.biases[0] match `derivative-of-z` in layer 0",
                "    trajectory matches `derivative-of-z` in layer 0"]
    first = lines.index(expected[0])
    assert lines[first:first + len(expected)] == expected
    # right after the case's first failure, before its table per layer
    assert lines[first - 1].startswith("    first failure: ")
    assert lines[first + len(expected)].startswith("    layer ")


def test_the_json_report_has_a_diagnosis_list_per_case(curated):
    """--json: each case has "diagnosis", a list of {"id", "quantity", "layer"}."""
    report, _ = check(curated["activation-sigmoid"], bug="derivative-of-z", where=0)
    (case,) = json.loads(report.to_json())["cases"]
    assert case["diagnosis"][0] == {"id": "derivative-of-z", "quantity": "gradients.weights",
                                    "layer": 0}
    assert [d["quantity"] for d in case["diagnosis"]] == [
        "gradients.weights", "gradients.biases", "updated.weights", "updated.biases", "trajectory"]
    assert [d["layer"] for d in case["diagnosis"]] == [0, 0, 0, 0, 0]
    passing = oracle.check_implementation(backprop, [curated["one-unit"]])
    assert json.loads(passing.to_json())["cases"][0]["diagnosis"] == []


def test_a_mistake_in_every_layer_is_reported_once_for_all_of_them(curated):
    """Planted in both hidden layers, derivative-of-z is one line naming both, layer None."""
    _, result = check(curated["activation-tanh"], bug="derivative-of-z")
    first = result.diagnosis[0]
    assert (first.id, first.quantity, first.layer) == ("derivative-of-z", "gradients.weights", None)
    assert first.text == ("gradients.weights[0], gradients.weights[1] match `derivative-of-z`"
                          " in layers 0, 1")


def test_the_wrong_leaky_slope_is_named(curated):
    """The text says which slope the numbers match."""
    _, result = check(curated["activation-leaky_relu"], bug="wrong-leaky-slope", slope=0.3)
    assert any("`wrong-leaky-slope` (slope 0.3)" in d.text for d in result.diagnosis)


@pytest.mark.parametrize("pol", POLICIES, ids=["float64", "looser"])
def test_a_uniform_factor_no_mistake_explains_is_a_constant_ratio(curated, pol):
    """Every gradient ×4 (and the step taken with it): "every entry is 4.000 times the expected"."""
    report, result = check(curated["activation-tanh"], pol, factor=4.0)
    ratios = [d for d in result.diagnosis if d.id == "constant-ratio"]
    assert {(d.quantity, d.layer) for d in ratios} == {
        (q, l) for q in ("gradients.weights", "gradients.biases") for l in range(3)}
    assert all(d.ratio == pytest.approx(4.0, rel=1e-12) for d in ratios)
    assert "    gradients.weights[0]: every entry is 4.000 times the expected" in report.table()
    assert {d.id for d in result.diagnosis} == {"constant-ratio"}
    (case,) = json.loads(report.to_json())["cases"]
    entry = case["diagnosis"][0]
    assert entry["id"] == "constant-ratio" and entry["layer"] == 0
    assert entry["ratio"] == pytest.approx(4.0, rel=1e-12)


def test_a_factor_the_catalog_explains_is_named_by_it_not_as_a_ratio(curated):
    """Every gradient ×2 on half_sse is missing-half, not a constant ratio of 2."""
    _, result = check(curated["loss-half_sse"], factor=2.0)
    assert "missing-half" in {d.id for d in result.diagnosis}
    assert "constant-ratio" not in {d.id for d in result.diagnosis}


def perturbed(case, rng, signs):
    """The correct results with every gradient entry ×(1 + 1e-9·a random sign)."""
    result = backprop(case)
    for part in ("weights", "biases"):
        for l, g in enumerate(result["gradients"][part]):
            for row in g:
                for c in range(len(row)):
                    sign = rng.choice((-1.0, 1.0))
                    signs.setdefault((part, l), set()).add(sign)
                    row[c] *= 1.0 + 1e-9 * sign
    return result


@pytest.mark.parametrize("pol", POLICIES, ids=["float64", "looser"])
@pytest.mark.parametrize("case_id", ["loss-mse", "activation-tanh", "deep-7-layers", "batch-64",
                                     "square-layers", "loss-cross_entropy"])
def test_a_generic_small_error_is_not_diagnosed(curated, case_id, pol):
    """Gradients off by 1e-9 relative in random directions: no catalog id, no float32, no false ratio."""
    rng, signs = random.Random(case_id), {}
    report = oracle.check_implementation(lambda c: perturbed(c, rng, signs), [curated[case_id]], pol)
    (result,) = report.cases
    assert not result.passed
    for d in result.diagnosis:
        assert d.id == "constant-ratio", d.text
        assert len(signs[(d.quantity.split(".")[1], d.layer)]) == 1, d.text  # truly constant


@pytest.mark.parametrize("pol", POLICIES, ids=["float64", "looser"])
def test_one_entry_changed_is_not_diagnosed(curated, pol):
    """A single gradient entry off by 1e-6 relative matches nothing."""
    def one_off(case):
        result = backprop(case)
        result["gradients"]["weights"][0][0][0] *= 1.0 + 1e-6
        return result

    for case_id in ("loss-mse", "square-layers", "xor-tutorial"):
        report = oracle.check_implementation(one_off, [curated[case_id]], pol)
        assert not report.passed
        assert report.cases[0].diagnosis == (), report.table()


def test_purebp_check_prints_the_diagnosis_from_files(capsys, tmp_path, curated):
    """`purebp check` on files shows the diagnosis lines, and --json its list."""
    from purebp import cli

    case = curated["activation-sigmoid"]
    expected, actual = tmp_path / "expected.json", tmp_path / "actual.json"
    vectors.write(str(expected), [case])
    results = backprop(vectors.case_input(case), bug="derivative-of-z", where=0)
    vectors.write(str(actual), [{"id": case["id"], "expected": results}])
    assert cli.main(["check", "--failures-only", str(expected), str(actual)]) == 1
    out = capsys.readouterr().out
    assert "    gradients.weights[0] match `derivative-of-z` in layer 0\n" in out
    assert cli.main(["check", "--json", str(expected), str(actual)]) == 1
    (found,) = json.loads(capsys.readouterr().out)["cases"]
    assert {"id": "derivative-of-z", "quantity": "gradients.weights", "layer": 0} in found["diagnosis"]


def test_a_case_result_made_without_a_diagnosis_has_none(curated):
    """CaseResult(id, quantities) still works, with an empty diagnosis; diagnose of nothing failing is []."""
    from purebp.oracle.diagnosis import diagnose

    assert oracle.CaseResult("x", []).diagnosis == ()
    case = curated["loss-mse"]
    tolerance = oracle.tolerances(case, oracle.POLICIES["float64"])
    assert diagnose(case, backprop(case), tolerance, oracle.POLICIES["float64"], []) == []


def test_the_reference_pass_without_a_mistake_passes_every_curated_case(curated):
    """diagnosis.run(Pass(case)), the pass every mistake changes, is itself right (50-digit truth)."""
    from purebp.oracle.diagnosis import Pass, run

    for case in curated.values():
        result = oracle.compare(case, run(Pass(vectors.case_input(case))))
        assert result.passed, (case["id"], [q for q in result.quantities if q.status != "pass"])


def test_a_step_of_lr_squared_with_right_gradients_is_learning_rate_twice(curated):
    """Gradients right, the step p − lr²·g: `learning-rate-twice` (in the step only)."""
    case = curated["loss-mse"]
    lr, want = case["learning_rate"], case["expected"]
    got = {"gradients": want["gradients"],
           "updated": {k: [[[p - lr * lr * g for p, g in zip(rp, rg)]
                            for rp, rg in zip(mp, mg)]
                           for mp, mg in zip(case["parameters"][k], want["gradients"][k])]
                       for k in ("weights", "biases")}}
    (result,) = oracle.check([case], [{"id": case["id"], "expected": got}]).cases
    assert "learning-rate-twice" in {d.id for d in result.diagnosis}
    assert all(d.id != "constant-ratio" for d in result.diagnosis)  # not for updated values


def test_a_trajectory_alone_off_is_not_taken_for_float32(curated):
    """One trajectory step 1% off, the rest exact: no `float32-somewhere`, whatever its allowance."""
    case = curated["xor-chaotic"]
    got = {"trajectory": list(case["expected"]["trajectory"])}
    got["trajectory"][3] *= 1.01
    (result,) = oracle.check([case], [{"id": case["id"], "expected": got}]).cases
    assert not result.passed
    assert all(d.id != "float32-somewhere" for d in result.diagnosis)


def test_a_zero_ratio_is_no_diagnosis(curated):
    """Gradients all 0 where they are not: no "every entry is 0.000 times the expected"."""
    case = curated["loss-bce"]
    zeros = {k: [[[0.0 for _ in row] for row in m] for m in case["expected"]["gradients"][k]]
             for k in ("weights", "biases")}
    (result,) = oracle.check([case], [{"id": case["id"], "expected": {"gradients": zeros}}]).cases
    assert not result.passed
    assert all(d.id != "constant-ratio" or d.ratio != 0 for d in result.diagnosis)


def test_a_sigmoid_before_a_logits_loss_is_output_activation_twice(curated):
    """Outputs σ(z) right, the loss and its gradient taken of σ(σ(z)) (a Sigmoid module before
    BCEWithLogitsLoss), written out here by hand: `output-activation-twice` is named."""
    case = curated["loss-bce"]
    want = case["expected"]
    a = want["activations"][-1]  # σ(z), reported right
    n, k = len(a), len(a[0])
    s2 = [[1 / (1 + math.exp(-v)) for v in row] for row in a]  # the loss's σ of them
    y = case["targets"]
    loss = sum(math.log1p(math.exp(-abs(v))) + max(v, 0) - v * t
               for row, trow in zip(a, y) for v, t in zip(row, trow)) / (n * k)
    # ∂loss/∂z through both: (σ(σ(z)) − y)/nk · σ′(z), σ′(z) = a(1 − a)
    delta = [[(q - t) / (n * k) * v * (1 - v) for q, t, v in zip(rq, rt, ra)]
             for rq, rt, ra in zip(s2, y, a)]
    hidden, X, W1 = want["activations"][0], case["inputs"], case["parameters"]["weights"][1]
    grad_w1 = [[sum(hidden[m][i] * delta[m][j] for m in range(n)) for j in range(k)]
               for i in range(len(hidden[0]))]
    # one layer down, through W1ᵀ and tanh′ = 1 − a²
    delta0 = [[sum(delta[m][j] * W1[i][j] for j in range(k)) * (1 - hidden[m][i] ** 2)
               for i in range(len(W1))] for m in range(n)]
    grad_w0 = [[sum(X[m][i] * delta0[m][j] for m in range(n)) for j in range(len(W1))]
               for i in range(len(X[0]))]
    assert case["network"]["sizes"] == [2, 5, 3] and case["network"]["activation"] == "tanh"
    got = {"activations": want["activations"], "loss": loss,
           "gradients": {"weights": [grad_w0, grad_w1]}}
    (result,) = oracle.check([case], [{"id": case["id"], "expected": got}]).cases
    assert "output-activation-twice" in {d.id for d in result.diagnosis}, result.diagnosis
