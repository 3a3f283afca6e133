"""Tests for purebp.oracle.ops: the per-operation vectors, their loader, tolerances and checker.

The truth is checked against computations written here: exact rational
index loops (fractions.Fraction) for the dense layer, central finite
differences in 80-digit Decimal of activations and losses written here for
their gradients, hand-derived formulas at kinks. A correct float
implementation written here (plain Python loops, summing forwards or in
reversed order) passes the curated op suite and random op cases; planted
classic mistakes fail it. The command line writes the suite, which then
checks against itself.
"""

import json
import math
import os
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest

from purebp import cli
from purebp.oracle import checker, ops, vectors
from purebp.oracle.tolerance_policy import POLICIES

F64 = POLICIES["float64"]


@pytest.fixture(scope="module")
def suite():
    return ops.curated_ops()


@pytest.fixture(scope="module")
def random_suite():
    return ops.random_op_cases(60, 7)


def by_id(cases, case_id):
    return next(c for c in cases if c["id"] == case_id)


# -- the curated suite -----------------------------------------------------------------


def test_the_curated_op_suite_covers_every_operation_activation_and_loss(suite):
    """Every op, every activation and every loss has a case; ids are unique and start with op-."""
    ids = [c["id"] for c in suite]
    assert len(ids) == len(set(ids)) and all(i.startswith("op-") for i in ids)
    assert {c["op"] for c in suite} == {"dense", "activation", "loss"}
    assert {c["activation"] for c in suite if c["op"] == "activation"} == set(ops.OP_ACTIVATIONS)
    assert {c["loss"] for c in suite if c["op"] == "loss"} == set(ops.OP_LOSSES)
    for wanted in ("op-dense-square", "op-dense-64-terms", "op-dense-tiny-values",
                   "op-activation-relu-at-zero", "op-activation-leaky_relu-at-zero",
                   "op-activation-sigmoid-saturated-800", "op-activation-tanh-saturated-30",
                   "op-activation-softmax-large-logits", "op-loss-bce-saturated",
                   "op-loss-cross_entropy-soft-targets"):
        assert wanted in ids


def test_every_op_case_reads_back_through_the_loader_unchanged(suite, random_suite):
    """dump then parse gives each case back, expected values included, float for float."""
    for case in suite + random_suite[:10]:
        assert vectors.parse(vectors.dump([case]))[0] == case


def test_curated_ops_returns_a_fresh_copy():
    """Changing what curated_ops returned does not change the next call's cases."""
    first = ops.curated_ops()
    first[0]["inputs"][0][0] = 12345.0
    assert ops.curated_ops()[0]["inputs"][0][0] != 12345.0


def test_random_op_cases_are_seeded():
    """The same seed gives the same cases; another seed other ones."""
    assert ops.random_op_cases(5, 3) == ops.random_op_cases(5, 3)
    assert ops.random_op_cases(5, 3) != ops.random_op_cases(5, 4)


# -- the truth against independent computations ---------------------------------------


def fraction_dense(x, W, b, G):
    """The dense layer's four quantities as exact rationals, by index loops."""
    x, W, b, G = ([[Fraction(v) for v in row] for row in m] for m in (x, W, b, G))
    n, m, k = len(x), len(W), len(W[0])
    z = [[sum(x[i][p] * W[p][j] for p in range(m)) + b[0][j] for j in range(k)] for i in range(n)]
    gx = [[sum(G[i][j] * W[p][j] for j in range(k)) for p in range(m)] for i in range(n)]
    gw = [[sum(x[i][p] * G[i][j] for i in range(n)) for j in range(k)] for p in range(m)]
    gb = [[sum(G[i][j] for i in range(n)) for j in range(k)]]
    return {"output": z, "grad_inputs": gx, "grad_weights": gw, "grad_biases": gb}


def test_dense_truth_is_the_exactly_rounded_value_of_rational_index_loops(suite, random_suite):
    """Every dense entry is a float nearest the exact rational x·W + b, G·Wᵀ, xᵀ·G, Σ_n G.

    Within half a unit in the last place (and 50 digits): where the exact sum
    is a float midpoint, the 50-digit rounding may break the tie either way.
    """
    dense = [c for c in suite + random_suite if c["op"] == "dense"]
    assert len(dense) > 10
    for case in dense:
        exact = fraction_dense(case["inputs"], case["weights"], case["biases"], case["upstream"])
        for name, matrix in exact.items():
            for got_row, want_row in zip(case["expected"][name], matrix):
                for got, want in zip(got_row, want_row):
                    half_ulp = Fraction(math.ulp(float(want))) / 2
                    assert abs(Fraction(got) - want) <= half_ulp + abs(want) * Fraction(1, 10 ** 49), \
                        (case["id"], name, got, float(want))


def test_dense_tiny_values_keep_their_digits(suite):
    """At inputs of 1e-300 the weight gradient and z are of that size, not flushed to 0."""
    case = by_id(suite, "op-dense-tiny-values")
    assert all(1e-303 < abs(v) < 1e-297 for row in case["expected"]["grad_weights"] for v in row)
    assert all(1e-303 < abs(v) < 1e-297 for row in case["expected"]["output"] for v in row)


DIGITS = 80
H = Decimal("1e-30")


def d_sigmoid(z):
    return 1 / (1 + (-z).exp())


def d_tanh(z):
    e = (2 * z).exp()
    return (e - 1) / (e + 1)


D_ACTIVATIONS = {
    "identity": lambda z: z,
    "sigmoid": d_sigmoid,
    "tanh": d_tanh,
    "relu": lambda z: max(z, Decimal(0)),
    "leaky_relu": lambda z: z if z > 0 else Decimal("0.01") * z,
}


def d_softmax(row):
    top = max(row)
    e = [(v - top).exp() for v in row]
    return [v / sum(e) for v in e]


def central_difference(f, point, k):
    """(f(point + h·e_k) − f(point − h·e_k)) / 2h, in 80-digit Decimal (error ~h²)."""
    up, down = list(point), list(point)
    up[k] += H
    down[k] -= H
    return (f(up) - f(down)) / (2 * H)


def close(got, want):
    return math.isclose(got, want, rel_tol=1e-13, abs_tol=1e-300)


def test_activation_outputs_and_gradients_match_finite_differences(suite, random_suite):
    """a = f(z), and G ⊙ f′(z) (softmax: ∂(Σ_k G_k·s_k)/∂z_j) match 80-digit central differences."""
    checked = 0
    with localcontext() as ctx:
        ctx.prec = DIGITS
        for case in suite + random_suite:
            if case["op"] != "activation":
                continue
            name, exp = case["activation"], case["expected"]
            for i, (z_row, g_row) in enumerate(zip(case["inputs"], case["upstream"])):
                z = [Decimal(v) for v in z_row]
                g = [Decimal(v) for v in g_row]
                if name == "softmax":
                    outputs = d_softmax(z)

                    def weighted(zs, g=g):
                        return sum(gk * sk for gk, sk in zip(g, d_softmax(zs)))
                else:
                    f = D_ACTIVATIONS[name]
                    outputs = [f(v) for v in z]
                for j in range(len(z)):
                    assert close(exp["output"][i][j], float(outputs[j])), (case["id"], i, j)
                    if name in ("relu", "leaky_relu") and z[j] == 0:
                        continue  # the kink: no derivative; the test below pins it
                    if name == "softmax":
                        want = central_difference(weighted, z, j)
                    else:
                        want = g[j] * central_difference(lambda zs, f=f, j=j: f(zs[j]), z, j)
                    assert close(exp["grad_inputs"][i][j], float(want)), (case["id"], i, j)
                    checked += 1
    assert checked > 200


def test_at_the_kink_the_expected_slopes_are_pytorchs(suite):
    """At z = 0 exactly, relu′ is 0 and leaky_relu′ is 0.01 (PyTorch's choice), times G."""
    for name, slope in (("relu", Fraction(0)), ("leaky_relu", Fraction(1, 100))):
        case = by_id(suite, f"op-activation-{name}-at-zero")
        for z_row, g_row, want_row in zip(case["inputs"], case["upstream"],
                                          case["expected"]["grad_inputs"]):
            for z, g, want in zip(z_row, g_row, want_row):
                if z == 0:
                    assert want == float(slope * Fraction(g))


def test_saturated_activations_have_the_hand_derived_derivatives(suite):
    """σ′(±30) = e^−30/(1 + e^−30)², tanh′(±30) = 4e^−60/(1 + e^−60)²; at ±800 both are 0."""
    for name, size, slope in (("sigmoid", 30, math.exp(-30) / (1 + math.exp(-30)) ** 2),
                              ("tanh", 30, 4 * math.exp(-60) / (1 + math.exp(-60)) ** 2),
                              ("sigmoid", 800, 0.0), ("tanh", 800, 0.0)):
        case = by_id(suite, f"op-activation-{name}-saturated-{size}")
        for g_row, want_row in zip(case["upstream"], case["expected"]["grad_inputs"]):
            for g, want in zip(g_row, want_row):
                assert math.isclose(want, g * slope, rel_tol=1e-14, abs_tol=0.0)


def test_softmax_of_large_logits_is_finite_and_sums_to_one(suite):
    """Logits around 1000 give probabilities (the max shift), each row summing to 1."""
    case = by_id(suite, "op-activation-softmax-large-logits")
    for row in case["expected"]["output"]:
        assert all(0 <= p <= 1 for p in row) and math.isclose(math.fsum(row), 1.0, rel_tol=1e-15)


def d_loss(name, inputs, y):
    """The loss of rows of Decimal inputs, from the definitions in purebp/docs/vectors.md."""
    n, k = len(y), len(y[0])
    if name == "half_sse":
        return sum((a - t) ** 2 for ra, rt in zip(inputs, y) for a, t in zip(ra, rt)) / 2
    if name == "mse":
        return sum((a - t) ** 2 for ra, rt in zip(inputs, y) for a, t in zip(ra, rt)) / (n * k)
    if name == "bce":
        def softplus(z):  # log(1 + e^z), without e^800
            return z + (1 + (-z).exp()).ln() if z > 0 else (1 + z.exp()).ln()
        # −[t log σ(z) + (1 − t) log(1 − σ(z))] = softplus(z) − t·z
        return sum(softplus(z) - t * z for rz, rt in zip(inputs, y)
                   for z, t in zip(rz, rt)) / (n * k)
    total = Decimal(0)
    for rz, rt in zip(inputs, y):
        top = max(rz)
        log_sum = top + sum((z - top).exp() for z in rz).ln()
        total += sum(-t * (z - log_sum) for z, t in zip(rz, rt))
    return total / n


def test_loss_values_and_gradients_match_finite_differences(suite, random_suite):
    """Each loss's value is its definition, its gradient the 80-digit central differences of it."""
    checked = 0
    with localcontext() as ctx:
        ctx.prec = DIGITS
        for case in suite + random_suite:
            if case["op"] != "loss":
                continue
            name, exp = case["loss"], case["expected"]
            x = [[Decimal(v) for v in row] for row in case["inputs"]]
            y = [[Decimal(v) for v in row] for row in case["targets"]]
            assert close(exp["output"], float(d_loss(name, x, y))), case["id"]
            for i in range(len(x)):
                for j in range(len(x[0])):
                    def along(row, i=i, name=name, x=x, y=y):
                        return d_loss(name, x[:i] + [row] + x[i + 1:], y)
                    want = central_difference(along, x[i], j)
                    assert close(exp["grad_inputs"][i][j], float(want)), (case["id"], i, j)
                    checked += 1
    assert checked > 100


def test_saturated_losses_have_the_hand_derived_values(suite):
    """bce at ±800: mean of 0 (right) and 800 (wrong); gradients (σ(z) − y)/nk = 0 or ±1/4."""
    case = by_id(suite, "op-loss-bce-saturated")
    assert case["expected"]["output"] == 400.0
    assert case["expected"]["grad_inputs"] == [[0.0, 0.0], [0.25, -0.25]]
    case = by_id(suite, "op-loss-cross_entropy-saturated")
    # rows: right (0), wrong by 800 − (−800) = 1600, soft targets ½·(800 − 0) + ½·0 = 400
    assert case["expected"]["output"] == pytest.approx((0 + 1600 + 400) / 3, rel=1e-15)


# -- the loader ------------------------------------------------------------------------


def bad(case, match):
    with pytest.raises(vectors.VectorFormatError, match=match):
        vectors.validate_case(case, "c")


def test_the_loader_refuses_malformed_op_cases(suite):
    """Unknown op, activation or loss, wrong shapes, a network too, an id without op-: named."""
    dense = vectors.case_input(by_id(suite, "op-dense-basic"))
    act = vectors.case_input(by_id(suite, "op-activation-tanh"))
    loss = vectors.case_input(by_id(suite, "op-loss-mse"))
    bad(dict(dense, op="conv"), r'c\.op: unknown operation "conv"; expected one of "dense"')
    bad(dict(act, activation="swish"), r'c\.activation: unknown activation "swish"')
    bad(dict(loss, loss="hinge"), r'c\.loss: unknown loss "hinge"')
    bad(dict(dense, weights=dense["weights"][:1]), r"c\.weights has 1 rows, expected 2")
    bad(dict(dense, biases=[[0.0]]), r"c\.biases\[0\] has 1 entries, expected 4")
    bad(dict(dense, upstream=dense["upstream"][:2]), r"c\.upstream has 2 rows, expected 3")
    bad(dict(act, upstream=[row[:2] for row in act["upstream"]]),
        r"c\.upstream\[0\] has 2 entries, expected 4")
    bad(dict(loss, targets=loss["targets"][:1]), r"c\.targets has 1 rows, expected 4")
    bad({k: v for k, v in dense.items() if k != "upstream"}, r"c: missing field 'upstream'")
    bad(dict(dense, network={"sizes": [2, 4]}), r'either "network" or "op", got both')
    bad(dict(dense, id="dense-basic"), r'c\.id of a per-operation case must start with "op-"')
    bad(dict(dense, inputs=[[1.0, "a"]] * 3), r'c\.inputs\[0\]\[1\] must be a number, got "a"')


def test_the_loader_refuses_nan_and_wrong_expected_values_in_op_cases(suite):
    """NaN in a file, an unknown or misshapen expected quantity: refused, the place named."""
    case = by_id(suite, "op-dense-basic")
    text = vectors.dump([case]).replace(str(case["weights"][0][0]), "NaN", 1)
    with pytest.raises(vectors.VectorFormatError, match=r"weights\[0\]\[0\] must be a finite"):
        vectors.parse(text, "f.json")
    bad(dict(case, expected=dict(case["expected"], loss=1.0)),
        r'c\.expected: unknown field "loss"; expected some of "output", "grad_inputs"')
    bad(dict(case, expected=dict(case["expected"], grad_biases=[[0.0]])),
        r"c\.expected\.grad_biases\[0\] has 1 entries, expected 4")
    act = by_id(suite, "op-activation-relu")
    bad(dict(act, expected={"grad_weights": [[0.0]]}), r'unknown field "grad_weights"')
    loss = by_id(suite, "op-loss-mse")
    bad(dict(loss, expected={"output": [[1.0]]}), r"c\.expected\.output must be a number")


def test_a_results_file_for_op_cases_needs_only_ids_and_op_quantities(tmp_path, suite):
    """Results with just id and any op quantities load (partial) and are matched by id."""
    results = [{"id": c["id"], "expected": {"grad_inputs": c["expected"]["grad_inputs"]}}
               for c in suite]
    results[0]["expected"]["output"] = suite[0]["expected"]["output"]
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"format": "purebp-vectors", "version": 1,
                                "cases": results[::-1]}))
    loaded = vectors.load(str(path), partial=True)
    report = checker.check(suite, loaded)
    assert report.passed, report.table(failures_only=True)
    counts = report.counts()
    assert counts["pass"] == len(suite) + 1 and counts["fail"] == 0
    assert not checker.check(suite, loaded, require=["grad_weights"]).passed
    with pytest.raises(vectors.VectorFormatError, match=r"expected\.output must be a number"):
        vectors.validate_case({"id": "op-x", "expected": {"output": "a"}}, "r", partial=True)


def test_network_only_functions_name_an_op_case_they_cannot_run(suite):
    """vectors.complete and purebp_results refuse an op case, naming where its truth is made."""
    with pytest.raises(ValueError, match=r"complete_op computes those"):
        vectors.complete(suite[0])
    with pytest.raises(ValueError, match="must be a network case"):
        checker.purebp_results(suite[0])
    with pytest.raises(ValueError, match=r"vectors\.complete computes those"):
        ops.complete_op(vectors.curated()[0])


# -- implementations written here ------------------------------------------------------


def _sum(terms, reverse):
    terms = list(terms)
    total = 0.0
    for t in reversed(terms) if reverse else terms:
        total += t
    return total


def _sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _softmax(row):
    top = max(row)
    e = [math.exp(v - top) for v in row]
    total = sum(e)
    return [v / total for v in e]


SLOPES = {"identity": lambda z, a: 1.0, "sigmoid": lambda z, a: a * (1.0 - a),
          "tanh": lambda z, a: 1.0 - a * a, "relu": lambda z, a: 1.0 if z > 0 else 0.0,
          "leaky_relu": lambda z, a: 1.0 if z > 0 else 0.01}
FUNCTIONS = {"identity": lambda z: z, "sigmoid": _sigmoid, "tanh": math.tanh,
             "relu": lambda z: z if z > 0 else 0.0, "leaky_relu": lambda z: z if z > 0 else 0.01 * z}


def loop_op(case, reverse=False, mistake=None):
    """A plain-Python implementation of one op case; ``mistake`` plants one classic error."""
    x = case["inputs"]
    n, m = len(x), len(x[0])
    if case["op"] == "dense":
        W, b, G = case["weights"], case["biases"], case["upstream"]
        k = len(W[0])
        back = (lambda i, p: _sum((G[i][j] * W[j][p] for j in range(k)), reverse)
                ) if mistake == "transposed" else (
                lambda i, p: _sum((G[i][j] * W[p][j] for j in range(k)), reverse))
        return {
            "output": [[_sum((x[i][p] * W[p][j] for p in range(m)), reverse) + b[0][j]
                        for j in range(k)] for i in range(n)],
            "grad_inputs": [[back(i, p) for p in range(m)] for i in range(n)],
            "grad_weights": [[_sum((x[i][p] * G[i][j] for i in range(n)), reverse)
                              for j in range(k)] for p in range(m)],
            "grad_biases": [G[0] if mistake == "bias-one-row" else
                            [_sum((G[i][j] for i in range(n)), reverse) for j in range(k)]],
        }
    if case["op"] == "activation":
        name, G = case["activation"], case["upstream"]
        if name == "softmax":
            s = [_softmax(row) for row in x]
            grad = [[sk * (gk - _sum((gj * sj for gj, sj in zip(rg, rs)), reverse))
                     for sk, gk in zip(rs, rg)] for rs, rg in zip(s, G)]
            return {"output": s, "grad_inputs": grad}
        a = [[FUNCTIONS[name](v) for v in row] for row in x]
        slope = SLOPES[name]
        if mistake == "derivative-of-z" and name in ("sigmoid", "tanh"):
            grad = [[g * slope(z, z) for g, z in zip(rg, rz)] for rg, rz in zip(G, x)]
        elif mistake == "relu-slope-1-at-0" and name == "relu":
            grad = [[g * (1.0 if z >= 0 else 0.0) for g, z in zip(rg, rz)] for rg, rz in zip(G, x)]
        else:
            grad = [[g * slope(z, v) for g, z, v in zip(rg, rz, ra)]
                    for rg, rz, ra in zip(G, x, a)]
        return {"output": a, "grad_inputs": grad}
    name, y = case["loss"], case["targets"]
    k = m
    pairs = [(v, t) for rx, ry in zip(x, y) for v, t in zip(rx, ry)]
    per = 1.0 if mistake == "missing-mean" else None
    if name in ("half_sse", "mse"):
        total = _sum(((v - t) ** 2 for v, t in pairs), reverse)
        value = total / 2 if name == "half_sse" else total / (n * k)
        c = 1.0 if name == "half_sse" else 2.0 / (per or n * k)
        grad = [[c * (v - t) for v, t in zip(rx, ry)] for rx, ry in zip(x, y)]
    elif name == "bce":
        value = _sum(((max(z, 0.0) - t * z + math.log1p(math.exp(-abs(z)))) for z, t in pairs),
                     reverse) / (n * k)
        grad = [[(_sigmoid(z) - t) / (per or n * k) for z, t in zip(rx, ry)]
                for rx, ry in zip(x, y)]
    else:
        value, grad = 0.0, []
        for rx, ry in zip(x, y):
            top = max(rx)
            log_sum = top + math.log(_sum((math.exp(v - top) for v in rx), reverse))
            value += _sum((-t * (v - log_sum) for v, t in zip(rx, ry)), reverse)
            s, mass = _softmax(rx), _sum(ry, reverse)
            grad.append([(mass * sk - t) / (per or n) for sk, t in zip(s, ry)])
        value /= n
    return {"output": value, "grad_inputs": grad}


@pytest.mark.parametrize("reverse", [False, True])
def test_a_correct_loop_implementation_passes_in_either_summation_order(suite, random_suite,
                                                                         reverse):
    """Plain Python loops, summing forwards or backwards, pass the op suite and random cases."""
    report = checker.check_implementation(lambda c: loop_op(c, reverse), suite + random_suite)
    assert report.passed, report.table(failures_only=True)
    assert report.counts()["not checked"] == 0
    assert max(q.max_used for c in report.cases for q in c.quantities) < 0.05


@pytest.mark.parametrize("mistake, case_id, quantity", [
    ("transposed", "op-dense-square", "grad_inputs"),
    ("bias-one-row", "op-dense-basic", "grad_biases"),
    ("derivative-of-z", "op-activation-sigmoid", "grad_inputs"),
    ("derivative-of-z", "op-activation-tanh-saturated-30", "grad_inputs"),
    ("missing-mean", "op-loss-mse", "grad_inputs"),
    ("missing-mean", "op-loss-cross_entropy", "grad_inputs"),
])
def test_a_planted_mistake_fails_where_it_shows(suite, mistake, case_id, quantity):
    """Each classic mistake fails its quantity on the case made to show it."""
    report = checker.check_implementation(lambda c: loop_op(c, mistake=mistake), suite)
    failed = {(c.id, q.name) for c in report.cases for q in c.quantities if q.status == "fail"}
    assert (case_id, quantity) in failed
    assert not report.passed


def test_either_slope_at_the_kink_passes(suite):
    """relu′(0) = 1 instead of PyTorch's 0 is accepted at z = 0 exactly: both slopes are correct."""
    report = checker.check_implementation(lambda c: loop_op(c, mistake="relu-slope-1-at-0"),
                                          suite)
    assert report.passed, report.table(failures_only=True)
    case = by_id(suite, "op-activation-relu-at-zero")
    got = loop_op(case, mistake="relu-slope-1-at-0")["grad_inputs"]
    assert got != case["expected"]["grad_inputs"]  # the other slope was really taken


def test_op_tolerances_hold_the_kinks_to_either_slope_and_the_rest_tight(suite):
    """At z = 0 either slope passes (the checker compares with both), 10·G or G/2 does not;
    every tolerance is within about 1e-14 relative."""
    case = by_id(suite, "op-activation-relu-at-zero")
    tol = ops.op_tolerances(case, F64)["grad_inputs"]
    for g_row, t_row in zip(case["upstream"], tol):
        for g, t in zip(g_row, t_row):
            assert t <= 1e-14 * abs(g) + 1e-300
    for slope, passes in ((0.0, True), (1.0, True), (10.0, False), (0.5, False)):
        got = [[g * (slope if z == 0 else (1.0 if z > 0 else 0.0)) for z, g in zip(rz, rg)]
               for rz, rg in zip(case["inputs"], case["upstream"])]
        assert checker.compare(case, {"grad_inputs": got}).passed is passes, slope
    case = by_id(suite, "op-dense-basic")
    tol = ops.op_tolerances(case, F64)
    for name in ("output", "grad_inputs", "grad_weights", "grad_biases"):
        for e_row, t_row in zip(case["expected"][name], tol[name]):
            for e, t in zip(e_row, t_row):
                assert t <= 1e-9 * max(abs(e), 1.0)


def test_a_relative_error_of_one_in_a_million_fails_every_op_quantity(suite):
    """The truth with every entry off by 1e-6 relative fails each quantity not exactly 0.

    Except the derivatives of units saturated at ±30, which a correct σ′ or
    tanh′ from the rounded output gets wrong by their whole size (1e-13 and
    1e-26): there only an absolute error of several eps·|G| fails.
    """
    saturated = {"op-activation-sigmoid-saturated-30", "op-activation-tanh-saturated-30"}
    for case in suite:
        for name, want in case["expected"].items():
            if case["id"] in saturated and name == "grad_inputs":
                continue
            if name == "output" and case["op"] == "loss":
                off = want * (1 + 1e-6)
            else:
                off = [[v * (1 + 1e-6) for v in row] for row in want]
            result = checker.compare(case, {name: off})
            status = {q.name: q.status for q in result.quantities}[name]
            assert status == ("fail" if off != want else "pass"), (case["id"], name)


def test_op_tolerances_checks_its_policy(suite):
    """A policy that is no Policy is refused, naming op_tolerances."""
    with pytest.raises(TypeError, match="op_tolerances: pol must be a Policy"):
        ops.op_tolerances(suite[0], "float64")


def test_a_suite_may_mix_network_and_op_cases():
    """check matches network and op results by id in one report."""
    network = vectors.curated()[:2]
    op_cases = ops.curated_ops()[:3]
    results = [{"id": c["id"], "expected": c["expected"]} for c in network + op_cases]
    report = checker.check(network + op_cases, results)
    assert report.passed and len(report.cases) == 5


# -- the command line ------------------------------------------------------------------


def test_vectors_ops_writes_a_suite_that_checks_against_itself(tmp_path, capsys):
    """purebp vectors --ops --out writes every op case and a manifest; check DIR DIR passes."""
    out = str(tmp_path / "ops")
    assert cli.main(["vectors", "--ops", "--out", out, "--random", "3", "--seed", "5"]) == 0
    assert "wrote 32 op cases (29 curated, 3 random)" in capsys.readouterr().out
    listed = vectors.read_manifest(out)
    files = sorted(n for n in os.listdir(out) if n.endswith(".json"))
    assert sorted(listed) == files and len(files) == 32
    assert all(name.startswith("op-") for name in files)
    assert cli.main(["check", out, out, "--require", "output,grad_inputs"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("PASS")
    with open(os.path.join(out, "op-dense-basic.json"), encoding="utf-8") as handle:
        case = json.load(handle)["cases"][0]
    wrong = [[v + 1e-6 for v in row] for row in case["expected"]["output"]]
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"format": "purebp-vectors", "version": 1, "cases": [
        {"id": "op-dense-basic", "expected": {"output": wrong}}]}))
    assert cli.main(["check", out, str(results), "--subset"]) == 1
    assert "op-dense-basic" in capsys.readouterr().out


def test_explain_refuses_an_op_case_in_one_line(tmp_path, capsys):
    """purebp explain --case on an op case exits 2 saying it steps through network cases only."""
    path = tmp_path / "op.json"
    vectors.write(str(path), ops.curated_ops()[:1])
    assert cli.main(["explain", "--case", str(path)]) == 2
    err = capsys.readouterr().err
    assert "is a per-operation case" in err and len(err.strip().splitlines()) == 1


def test_assert_matches_checks_op_cases_against_their_50_digit_truth(suite):
    """purebp.testing.assert_matches takes an op case: the truth passes, W for Wᵀ raises."""
    from purebp.oracle import testing

    case = by_id(suite, "op-dense-square")
    assert testing.assert_matches(vectors.case_input(case), loop_op(case)).passed
    with pytest.raises(AssertionError, match="grad_inputs"):
        testing.assert_matches(vectors.case_input(case), loop_op(case, mistake="transposed"))
    assert testing.expected(vectors.case_input(case)) == case["expected"]
