"""Tests for the test vectors with optimizers and mini-batches (purebp/docs/vectors.md).

The 50-digit optimizers of purebp.oracle.exact are checked against the rules
written again here from torch.optim's documented equations, on a one-weight
linear network whose gradient is written out by hand (no backpropagation), at
80 digits; and against the laws the rules must keep (momentum 0 is plain
descent, Adam's first step is g/(|g| + eps), AdamW without decay is Adam). The
loader is fed every kind of bad optimizer and batch. Correct float
implementations (purebp's own, the plain loops of scripts/tolerance_audit.py in
torch's and a textbook arrangement, float64 and float32, and torch.optim when it
is installed) must pass using under a tenth of any tolerance; the classic
mistakes, made on purpose, must fail the case aimed at them; a relative error
of 1e-11 in the parameters or the state after the run must be caught on nine
of ten curated cases. And the files of the cases that existed before must be
the same, byte for byte.
"""

import copy
import hashlib
import math
import os
import sys
from decimal import Decimal, localcontext

import pytest

from purebp import cli, optimizers, oracle
from purebp.oracle import exact, vectors
from purebp.oracle import tolerance_policy as tol
from purebp.oracle.vectors import VectorFormatError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import tolerance_audit  # noqa: E402  (found through sys.path: the plain optimizer loops)

F64, F32 = tol.POLICIES["float64"], tol.POLICIES["float32"]


@pytest.fixture(scope="module")
def curated():
    return vectors.curated()


@pytest.fixture(scope="module")
def runs(curated):
    """The curated cases with an optimizer or mini-batches."""
    return [c for c in curated if "optimizer" in c or "batches" in c]


@pytest.fixture(scope="module")
def by_id(curated):
    return {c["id"]: c for c in curated}


@pytest.fixture(scope="module")
def random_runs():
    return vectors.random_cases(24, 5, optimizers=True)


def flat(value):
    if isinstance(value, dict):
        return [x for k in sorted(value) for x in flat(value[k])]
    if isinstance(value, list):
        return [x for v in value for x in flat(v)]
    return [value]


# -- the 50-digit rules against the documented equations, by hand ---------------------------


LINE = {"sizes": [1, 1], "activation": "identity", "output_activation": "identity",
        "loss": "mse"}
X, Y = [[0.5], [-1.5], [2.0]], [[1.0], [0.25], [-0.75]]
#: The line's starting weight and bias, a rate and an eps (taken as the floats they are).
W0, B0, RATE, EPS = 0.75, -0.5, 0.05, 1e-3


def line_gradient(w, b, rows):
    """∂/∂w and ∂/∂b of (1/n)·Σ (w·x + b − y)² over the rows, by hand."""
    n = len(rows)
    r = [w * Decimal(X[i][0]) + b - Decimal(Y[i][0]) for i in rows]
    return (sum((2 * ri * Decimal(X[i][0]) for ri, i in zip(r, rows)), Decimal(0)) / n,
            sum((2 * ri for ri in r), Decimal(0)) / n)


def line_loss(w, b, rows):
    return sum(((w * Decimal(X[i][0]) + b - Decimal(Y[i][0])) ** 2 for i in rows),
               Decimal(0)) / len(rows)


def documented_step(name, a, t, p, g, s):
    """One entry's step as torch.optim's documentation writes the rule (λ the decay)."""
    D = {k: (v if isinstance(v, bool) else [Decimal(x) for x in v] if isinstance(v, list)
             else Decimal(v)) for k, v in a.items()}
    lam, lr = D["weight_decay"], D["lr"]
    if name == "sgd":
        g = g + lam * p
        if D["momentum"]:
            s["momentum_buffer"] = g if t == 1 else (D["momentum"] * s["momentum_buffer"]
                                                     + (1 - D["dampening"]) * g)
            g = g + D["momentum"] * s["momentum_buffer"] if D["nesterov"] else s["momentum_buffer"]
        return p - lr * g
    if name == "rmsprop":
        g = g + lam * p
        s["square_avg"] = D["alpha"] * s["square_avg"] + (1 - D["alpha"]) * g * g
        v = s["square_avg"]
        if D["centered"]:
            s["grad_avg"] = D["alpha"] * s["grad_avg"] + (1 - D["alpha"]) * g
            v = v - s["grad_avg"] ** 2
        step = g / (v.sqrt() + D["eps"])
        if D["momentum"]:
            s["momentum_buffer"] = D["momentum"] * s["momentum_buffer"] + step
            step = s["momentum_buffer"]
        return p - lr * step
    beta1, beta2 = D["betas"]
    if name == "adamw":
        p = p * (1 - lr * lam)
    else:
        g = g + lam * p
    s["exp_avg"] = beta1 * s["exp_avg"] + (1 - beta1) * g
    s["exp_avg_sq"] = beta2 * s["exp_avg_sq"] + (1 - beta2) * g * g
    v = s["exp_avg_sq"]
    if D["amsgrad"]:
        s["max_exp_avg_sq"] = max(s["max_exp_avg_sq"], v)
        v = s["max_exp_avg_sq"]
    m_hat, v_hat = s["exp_avg"] / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return p - lr * m_hat / (v_hat.sqrt() + D["eps"])


CONFIGS = [
    optimizers.SGD(0.1, momentum=0.9, dampening=0.3, weight_decay=0.05),
    optimizers.SGD(0.1, momentum=0.8, nesterov=True, weight_decay=0.1),
    optimizers.RMSprop(0.02, alpha=0.9, eps=1e-3, weight_decay=0.1, momentum=0.5, centered=True),
    optimizers.RMSprop(0.02),
    optimizers.Adam(0.05, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.2, amsgrad=True),
    optimizers.AdamW(0.05, betas=(0.5, 0.7), weight_decay=0.3),
]


@pytest.mark.parametrize("rule", CONFIGS, ids=repr)
def test_each_50_digit_rule_is_the_documented_equations(rule):
    """exact.run's trajectory, final parameters and state after four mini-batch steps equal
    the documented rule applied by hand to the hand-written gradient, to 45 digits."""
    config = rule.config()
    batches = [[0, 1], [2], [1, 2, 0], [0]]
    truth = exact.run(LINE, [[[0.75]]], [[[-0.5]]], X, Y, rule.lr, 4, optimizer=config,
                      batches=batches)
    with localcontext() as ctx:
        ctx.prec = 80
        w, b = Decimal(W0), Decimal(B0)
        names = exact.buffers(config)
        sw, sb = dict.fromkeys(names, Decimal(0)), dict.fromkeys(names, Decimal(0))
        losses = []
        for t, rows in enumerate(batches, 1):
            losses.append(line_loss(w, b, rows))
            gw, gb = line_gradient(w, b, rows)
            w = documented_step(config["name"], config["arguments"], t, w, gw, sw)
            b = documented_step(config["name"], config["arguments"], t, b, gb, sb)
        close = Decimal(10) ** -45
        pairs = list(zip(losses, truth["trajectory"]))
        pairs += [(w, truth["final"]["weights"][0][0][0]), (b, truth["final"]["biases"][0][0][0])]
        for name in names:
            pairs += [(sw[name], truth["optimizer_state"][name]["weights"][0][0][0]),
                      (sb[name], truth["optimizer_state"][name]["biases"][0][0][0])]
        for mine, theirs in pairs:
            assert abs(mine - theirs) <= close * max(abs(mine), Decimal(1)), (mine, theirs)
    assert truth["optimizer_state"]["step"] == 4
    assert list(truth["optimizer_state"]) == ["step", *names]


def test_sgd_without_momentum_is_the_plain_step_digit_for_digit():
    """SGD(lr) as an optimizer gives the very Decimals of plain gradient descent."""
    args = (LINE, [[[0.75]]], [[[-0.5]]], X, Y, 0.1, 3)
    plain = exact.run(*args)
    sgd = exact.run(*args, optimizer=optimizers.SGD(0.1).config())
    assert sgd["trajectory"] == plain["trajectory"] and sgd["updated"] == plain["updated"]
    assert sgd["optimizer_state"] == {"step": 3}


def test_adams_first_step_is_g_over_its_size_plus_eps():
    """At t = 1 the bias corrections cancel: p − lr·g/(|g| + eps), whatever the betas."""
    for betas in ((0.9, 0.999), (0.0, 0.0), (0.5, 0.3)):
        rule = optimizers.Adam(0.05, betas=betas, eps=1e-3)
        truth = exact.run(LINE, [[[0.75]]], [[[-0.5]]], X, Y, 0.05, 1, optimizer=rule.config())
        with localcontext() as ctx:
            ctx.prec = 60
            gw, _ = line_gradient(Decimal(W0), Decimal(B0), [0, 1, 2])
            want = Decimal(W0) - Decimal(RATE) * gw / (abs(gw) + Decimal(EPS))
        assert abs(truth["updated"]["weights"][0][0][0] - want) < Decimal(10) ** -45


def test_adam_with_betas_zero_is_sign_descent_scaled_by_eps():
    """betas (0, 0): every step is lr·g/(|g| + eps), the gradient of that step alone."""
    rule = optimizers.Adam(0.05, betas=(0.0, 0.0), eps=1e-3)
    truth = exact.run(LINE, [[[0.75]]], [[[-0.5]]], X, Y, 0.05, 3, optimizer=rule.config())
    with localcontext() as ctx:
        ctx.prec = 60
        w, b = Decimal(W0), Decimal(B0)
        for _ in range(3):
            gw, gb = line_gradient(w, b, [0, 1, 2])
            w, b = (w - Decimal(RATE) * gw / (abs(gw) + Decimal(EPS)),
                    b - Decimal(RATE) * gb / (abs(gb) + Decimal(EPS)))
    assert abs(truth["final"]["weights"][0][0][0] - w) < Decimal(10) ** -45


def test_adamw_without_decay_is_adam_and_with_it_is_not():
    """weight_decay 0: AdamW's run is Adam's to the digit; 0.3: AdamW shrinks p, Adam adds L2."""
    args = (LINE, [[[0.75]]], [[[-0.5]]], X, Y, 0.05, 3)
    adam = exact.run(*args, optimizer=optimizers.Adam(0.05).config())
    adamw = exact.run(*args, optimizer=optimizers.AdamW(0.05, weight_decay=0.0).config())
    assert adam["final"] == adamw["final"] and adam["optimizer_state"] == adamw["optimizer_state"]
    decayed = [exact.run(*args, optimizer=rule(0.05, weight_decay=0.3).config())
               for rule in (optimizers.Adam, optimizers.AdamW)]
    assert decayed[0]["final"] != decayed[1]["final"]


def test_a_mini_batch_trajectory_is_each_batch_loss_before_its_step():
    """Step k's loss is the loss of batches[k]'s rows at the parameters the steps before left:
    run again on those rows alone, from exact.run's parameters after k steps."""
    batches = [[2, 0], [1], [0, 1, 2]]
    rule = optimizers.SGD(0.1, momentum=0.5).config()
    truth = exact.run(LINE, [[[0.75]]], [[[-0.5]]], X, Y, 0.1, 3, optimizer=rule, batches=batches)
    for k, rows in enumerate(batches):
        before = exact.run(LINE, [[[0.75]]], [[[-0.5]]], X, Y, 0.1, k, optimizer=rule,
                           batches=batches[:k])
        with localcontext() as ctx:
            ctx.prec = 60
            at = line_loss(before["final"]["weights"][0][0][0],
                           before["final"]["biases"][0][0][0], rows)
        assert abs(truth["trajectory"][k] - at) < Decimal(10) ** -45, k


def test_the_50_digit_run_agrees_with_purebps_float_optimizers():
    """Two independent computations: purebp.optimizers in float64 is within 1e-13 of them."""
    case = copy.deepcopy(vectors.curated()[0])
    for rule in CONFIGS:
        config = rule.config()
        truth = exact.to_float(exact.run(case["network"], case["parameters"]["weights"],
                                         case["parameters"]["biases"], case["inputs"],
                                         case["targets"], rule.lr, 4, optimizer=config))
        net = tol._float_net(case)
        floats = optimizers.from_config(config)
        for _ in range(4):
            net.step(case["inputs"], case["targets"], optimizer=floats)
        got = flat(net.weights) + flat(net.biases)
        want = flat(truth["final"]["weights"]) + flat(truth["final"]["biases"])
        assert max(abs(a - b) for a, b in zip(got, want)) < 1e-13, config["name"]


# -- the format: what the loader takes and refuses -------------------------------------------


def line_case(**changes):
    case = {"id": "line", "network": LINE, "parameters": {"weights": [[[0.75]]],
                                                          "biases": [[[-0.5]]]},
            "inputs": X, "targets": Y, "learning_rate": 0.05, "steps": 2,
            "optimizer": optimizers.Adam(0.05).config(), "batches": [[0, 1], [2]]}
    case.update(changes)
    return case


def refused(case, where):
    with pytest.raises(VectorFormatError) as info:
        vectors.parse(vectors.dump([case]), "x.json")
    assert f"x.json: cases[0].{where}" in str(info.value), str(info.value)
    return str(info.value)


def test_a_case_with_optimizer_and_batches_round_trips():
    """A valid case loads as given, its optimizer as config() writes it."""
    case = line_case()
    back = vectors.parse(vectors.dump([case]))[0]
    assert back["optimizer"] == case["optimizer"] and back["batches"] == case["batches"]


@pytest.mark.parametrize("change, where, words", [
    ({"optimizer": {"name": "adagrad", "arguments": {"lr": 0.05}}}, "optimizer.name",
     "unknown optimizer"),
    ({"optimizer": {"name": "adam", "arguments": {"lr": 0.05}}}, "optimizer.arguments",
     "missing field 'betas'"),
    ({"optimizer": dict(optimizers.Adam(0.05).config(), extra=1)}, "optimizer", "unknown field"),
    ({"optimizer": {"name": "sgd", "arguments": dict(optimizers.SGD(0.05).config()["arguments"],
                                                      foo=1)}},
     "optimizer.arguments", "unknown argument"),
    ({"optimizer": {"name": "adam", "arguments": dict(
        optimizers.Adam(0.05).config()["arguments"], betas=[1.5, 0.9])}},
     "optimizer.arguments", "betas[0] must lie in [0, 1), got 1.5"),
    ({"optimizer": {"name": "adam", "arguments": dict(
        optimizers.Adam(0.05).config()["arguments"], betas=0.9)}},
     "optimizer.arguments.betas", "must be a list"),
    ({"optimizer": {"name": "sgd", "arguments": dict(
        optimizers.SGD(0.05).config()["arguments"], nesterov=True)}},
     "optimizer.arguments", "nesterov=True"),
    ({"optimizer": {"name": "sgd", "arguments": dict(
        optimizers.SGD(0.05).config()["arguments"], momentum=-1)}},
     "optimizer.arguments", "momentum must not be negative"),
    ({"optimizer": {"name": "rmsprop", "arguments": dict(
        optimizers.RMSprop(0.05).config()["arguments"], centered="yes")}},
     "optimizer.arguments", "centered must be True or False"),
    ({"optimizer": optimizers.Adam(0.01).config()}, "optimizer.arguments.lr",
     "must equal the case's learning_rate, 0.05, got 0.01"),
    ({"batches": [[0, 1]]}, "batches", "must be a list of 2 batches"),
    ({"batches": [[0, 1], []]}, "batches[1]", "non-empty list"),
    ({"batches": [[0, 3], [1]]}, "batches[0][1]", "an int from 0 to 2, got 3"),
    ({"batches": [[0, True], [1]]}, "batches[0][1]", "got true"),
    ({"batches": [[0, 1.0], [1]]}, "batches[0][1]", "got 1.0"),
    ({"batches": [[2, 0, 2], [1]]}, "batches[0]", "row 2 twice"),
])
def test_the_loader_refuses_bad_optimizers_and_batches_naming_the_place(change, where, words):
    """Each bad optimizer or batch is a VectorFormatError naming the file and the field."""
    assert words in refused(line_case(**change), where)


def completed_line():
    return vectors.complete(line_case())


def test_a_case_without_optimizer_or_batches_may_not_give_final():
    """final and optimizer_state belong to runs with an optimizer or batches only."""
    done = completed_line()
    plain = {k: v for k, v in done.items() if k not in ("optimizer", "batches")}
    assert "unknown field \"final\"" in refused(plain, "expected")


@pytest.mark.parametrize("edit, where, words", [
    (lambda s: s.pop("exp_avg"), "expected.optimizer_state", "missing field 'exp_avg'"),
    (lambda s: s.update(momentum_buffer=s["exp_avg"]), "expected.optimizer_state",
     "unknown field \"momentum_buffer\" for this optimizer"),
    (lambda s: s.update(step=3), "expected.optimizer_state.step", "must be the case's steps, 2"),
    (lambda s: s.update(velocity=1), "expected.optimizer_state", "unknown field \"velocity\""),
    (lambda s: s["exp_avg"].update(weights=[[[1.0, 2.0]]]),
     "expected.optimizer_state.exp_avg.weights[0][0]", "has 2 entries, expected 1"),
])
def test_the_loader_refuses_a_state_that_is_not_the_optimizers(edit, where, words):
    """The suite's state holds the step count and exactly the optimizer's buffers."""
    done = completed_line()
    edit(done["expected"]["optimizer_state"])
    assert words in refused(done, where)


def test_the_loader_refuses_negative_sensitivities():
    done = completed_line()
    done["expected"]["final_sensitivity"]["weights"][0][0][0] = -1.0
    assert "must hold numbers ≥ 0" in refused(done, "expected.final_sensitivity.weights")


def test_a_results_file_may_give_final_and_state_with_nan():
    """Results read final and any buffer by torch's names, NaN and ±inf included."""
    text = ('{"format": "purebp-vectors", "version": 1, "cases": [{"id": "line", "expected":'
            ' {"final": {"weights": [[[NaN]]]}, "optimizer_state": {"step": 2,'
            ' "exp_avg": {"biases": [[[Infinity]]]}}}}]}')
    got = vectors.parse(text, partial=True)[0]["expected"]
    assert math.isnan(got["final"]["weights"][0][0][0])
    assert got["optimizer_state"]["exp_avg"]["biases"] == [[[math.inf]]]


# -- the old files ---------------------------------------------------------------------------


#: The SHA-256 of MANIFEST.sha256 that purebp wrote for `purebp vectors --random 25 --seed 1`
#: before cases had optimizers (commit bc032a1): its 55 lines, the old cases' files.
OLD_MANIFEST = "c38da12d765e1c52e1b16722f1d7f91c16904e3582a6b8adf795cc8e8569cf91"


def test_the_files_of_the_cases_before_optimizers_are_unchanged_byte_for_byte(tmp_path, runs):
    """The suite written now lists every old case file with the very SHA-256 it had."""
    vectors.write_suite(str(tmp_path), 25, 1)
    new_ids = {c["id"] for c in runs}
    lines = [line for line in (tmp_path / vectors.MANIFEST).read_text().splitlines(True)
             if line.split()[1][:-len(".json")] not in new_ids]
    assert len(lines) == 55
    assert hashlib.sha256("".join(lines).encode()).hexdigest() == OLD_MANIFEST


def test_random_cases_gain_optimizers_only_when_asked(random_runs):
    """Without the option the random cases are as before; with it, others, with optimizers."""
    plain = vectors.random_cases(3, 5)
    assert all("optimizer" not in c and "batches" not in c for c in plain)
    assert [c["id"] for c in plain] == [f"random-5-{i:04d}" for i in range(3)]
    assert all(c["id"].startswith("random-opt-5-") and "optimizer" in c for c in random_runs)
    assert {c["optimizer"]["name"] for c in random_runs} == {"sgd", "rmsprop", "adam", "adamw"}
    assert any("batches" in c for c in random_runs) and any("batches" not in c for c in random_runs)
    assert vectors.random_cases(24, 5, optimizers=True) == random_runs  # seeded
    with pytest.raises(TypeError, match="optimizers must be True or False"):
        vectors.random_cases(2, 5, optimizers="yes")


def test_every_random_run_is_checkable_to_its_end(random_runs):
    """Taming halves the rate until the whole trajectory is checkable."""
    assert all(c["expected"]["trajectory_checkable"] == c["steps"] for c in random_runs)


# -- correct implementations pass, using little of the tolerances ----------------------------


def used(report):
    return max((q.max_used or 0.0) for c in report.cases for q in c.quantities)


def test_purebp_passes_the_runs_using_under_a_tenth(runs, random_runs):
    """purebp's Network, stepping the batches with purebp.optimizers, passes every quantity."""
    report = oracle.check_implementation(oracle.purebp_results, runs + random_runs)
    assert report.passed, report.table(failures_only=True)
    assert used(report) < 0.1
    assert report.counts()["not checked"] == 0


VARIANTS = [(f"{order}, {fmt}, {arrangement}", {"order": order, "fmt": fmt, "derivative": d,
                                                 "arrangement": arrangement}, fmt)
            for fmt in ("float64", "float32") for arrangement in tolerance_audit.ARRANGEMENTS
            for order, d in (("forward", "output"), ("largest-first", "z"), ("shuffled", "z"))]


@pytest.mark.parametrize("label, kwargs, preset", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_plain_loops_in_any_order_and_arrangement_pass_using_under_a_tenth(runs, random_runs,
                                                                            label, kwargs, preset):
    """The plain loops (torch's lerp and addcdiv, or textbook products), float64 or float32,
    in three summation orders, pass their preset with a tenth of any tolerance."""
    report = oracle.check_implementation(lambda c: tolerance_audit.plain_run(c, **kwargs),
                                         runs + random_runs, tol.POLICIES[preset])
    assert report.passed, report.table(failures_only=True)
    assert used(report) < 0.1


def test_the_other_slope_at_a_kink_passes_the_runs(random_runs):
    """relu′(0) = 1 passes: at exact kinks against the other slope's run, elsewhere within U."""
    report = oracle.check_implementation(
        lambda c: tolerance_audit.plain_run(c, kink_slope=1), random_runs)
    assert report.passed, report.table(failures_only=True)


def test_torch_optim_passes_the_runs(runs, random_runs):
    """torch.optim's own classes in float64 (foreach off) pass every run quantity."""
    torch = pytest.importorskip("torch")
    report = oracle.check_implementation(lambda c: torch_run(torch, c), runs + random_runs)
    assert report.passed, report.table(failures_only=True)
    assert used(report) < 0.1


def torch_run(torch, case):
    """A case's loss, updated, trajectory, final and state from torch.optim, float64."""
    net = case["network"]
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
           "identity": lambda z: z,
           "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01)}
    X, y = (torch.tensor(case[k], dtype=torch.float64) for k in ("inputs", "targets"))

    def loss(Ws, Bs, rows):
        a = X[rows]
        for l, (W, B) in enumerate(zip(Ws, Bs)):
            z = a @ W + B
            name = net["output_activation"] if l == len(Ws) - 1 else net["activation"]
            a = torch.softmax(z, 1) if name == "softmax" else act[name](z)
        t = y[rows]
        return {"half_sse": lambda: 0.5 * ((a - t) ** 2).sum(),
                "mse": lambda: ((a - t) ** 2).mean(),
                "bce": lambda: torch.nn.functional.binary_cross_entropy_with_logits(z, t),
                "cross_entropy": lambda: torch.nn.functional.cross_entropy(z, t)}[net["loss"]]()

    def fresh():
        Ws = [torch.tensor(w, dtype=torch.float64, requires_grad=True)
              for w in case["parameters"]["weights"]]
        Bs = [torch.tensor(b, dtype=torch.float64, requires_grad=True)
              for b in case["parameters"]["biases"]]
        config = tol.optimizer_of(case)
        arguments = dict(config["arguments"])
        if "betas" in arguments:
            arguments["betas"] = tuple(arguments["betas"])
        cls = {"sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam,
               "adamw": torch.optim.AdamW}[config["name"]]
        return Ws, Bs, cls(Ws + Bs, foreach=False, **arguments)

    def step(Ws, Bs, opt, rows):
        opt.zero_grad()
        value = loss(Ws, Bs, rows)
        value.backward()
        opt.step()
        return value.item()

    everything = list(range(len(case["inputs"])))
    Ws, Bs, opt = fresh()
    out = {"loss": step(Ws, Bs, opt, everything)}
    out["updated"] = {"weights": [w.tolist() for w in Ws], "biases": [b.tolist() for b in Bs]}
    Ws, Bs, opt = fresh()
    out["trajectory"] = [step(Ws, Bs, opt, case["batches"][k] if "batches" in case else everything)
                         for k in range(case["steps"])]
    out["final"] = {"weights": [w.tolist() for w in Ws], "biases": [b.tolist() for b in Bs]}
    state = {"step": case["steps"]}
    for name in exact.buffers(tol.optimizer_of(case)):
        state[name] = {"weights": [opt.state[w][name].tolist() for w in Ws],
                       "biases": [opt.state[b][name].tolist() for b in Bs]}
    out["optimizer_state"] = state
    return out


# -- errors and mistakes are caught ----------------------------------------------------------


def scaled(value, factor):
    if isinstance(value, dict):
        return {k: v if k == "step" else scaled(v, factor) for k, v in value.items()}
    if isinstance(value, list):
        return [scaled(v, factor) for v in value]
    return value * factor


@pytest.mark.parametrize("part", ["final", "optimizer_state", "trajectory", "updated"])
def test_a_relative_error_of_1e_11_after_the_run_is_caught_on_nine_cases_in_ten(runs, part):
    """×(1 + 1e-11) in all of one quantity fails on ≥ 90% of the curated runs (measured: all)."""
    among = [c for c in runs if part != "optimizer_state"
             or len(c["expected"]["optimizer_state"]) > 1]
    caught = sum(not oracle.compare(c, {part: scaled(c["expected"][part], 1 + 1e-11)}).passed
                 for c in among)
    assert caught >= 0.9 * len(among)


def nudged(value, tolerance, factor):
    """value moved by factor·tolerance where the move is exact enough (test_oracle_tolerance_policy's)."""
    if isinstance(value, list):
        return [nudged(v, t, factor) for v, t in zip(value, tolerance)]
    if tolerance < 2 ** 12 * math.ulp(value) or not math.isfinite(tolerance):
        return value
    return value + factor * tolerance


@pytest.mark.parametrize("name", ["final.weights", "final.biases", "optimizer_state.exp_avg.weights",
                                  "optimizer_state.momentum_buffer.biases",
                                  "optimizer_state.square_avg.weights"])
def test_an_error_just_beyond_the_run_end_bound_fails_and_just_within_passes(runs, name):
    """Every entry moved by 1.01 of its tolerance fails; by 0.99 it passes."""
    tried = 0
    for case in runs:
        want = vectors.quantity(case["expected"], name)
        if want is None:
            continue
        allowed = oracle.tolerances(case)[name]
        for factor, passes in ((0.99, True), (1.01, False)):
            moved = nudged(want, allowed, factor)
            if moved == want:
                continue
            actual = {}
            node = actual
            parts = name.split(".")
            for key in parts[:-1]:
                node = node.setdefault(key, {})
            node[parts[-1]] = moved
            if name.startswith("optimizer_state."):
                actual["optimizer_state"]["step"] = case["steps"]
            assert oracle.compare(case, actual).passed is passes, (case["id"], factor)
            tried += 1
    assert tried >= 2


class Mistaken(tolerance_audit.PlainOptimizer):
    """The textbook steps with one classic mistake (``MISTAKE``, set by the test)."""

    MISTAKE = ""
    WEIGHTS = 0  # how many of the flat parameters are weights (the rest biases)

    def __init__(self, config, r, arrangement):
        super().__init__(config, r, "textbook")

    def _sgd(self, i, p, g):
        a, s, mistake = self.a, self.state, self.MISTAKE
        if a["weight_decay"] and not (mistake == "biases-not-decayed" and i >= self.WEIGHTS):
            g = g + a["weight_decay"] * p
        if a["momentum"]:
            b = s["momentum_buffer"][i]
            if self.t == 1:
                b = (1 - a["dampening"]) * g if mistake == "dampening-at-first-step" else g
            elif mistake == "momentum-without-dampening":
                b = a["momentum"] * b + g
            else:
                b = a["momentum"] * b + (1 - a["dampening"]) * g
            s["momentum_buffer"][i] = b
            g = g + a["momentum"] * b if a["nesterov"] and mistake != "nesterov-as-momentum" else b
        return p - a["lr"] * g

    def _rmsprop(self, i, p, g):
        a, s, mistake = self.a, self.state, self.MISTAKE
        v = s["square_avg"][i] = a["alpha"] * s["square_avg"][i] + (1 - a["alpha"]) * g * g
        if a["centered"]:
            ga = s["grad_avg"][i] = a["alpha"] * s["grad_avg"][i] + (1 - a["alpha"]) * g
            if mistake != "rmsprop-uncentered":
                v = v - ga * ga
        d = g / (math.sqrt(v + a["eps"]) if mistake == "eps-inside-sqrt" else
                 math.sqrt(v) + a["eps"])
        if a["momentum"]:
            d = s["momentum_buffer"][i] = a["momentum"] * s["momentum_buffer"][i] + d
        return p - a["lr"] * d

    def _adam(self, i, p, g):
        a, s, mistake = self.a, self.state, self.MISTAKE
        (beta1, beta2), lr, wd, t = a["betas"], a["lr"], a["weight_decay"], self.t
        if wd and self.name == "adamw" and mistake != "adamw-as-l2":
            p = p * (1 - lr * wd)
        elif wd:
            g = g + wd * p
        m = s["exp_avg"][i] = beta1 * s["exp_avg"][i] + (1 - beta1) * g
        v = s["exp_avg_sq"][i] = beta2 * s["exp_avg_sq"][i] + (1 - beta2) * g * g
        c1, c2 = ((1.0, 1.0) if mistake == "adam-no-bias-correction" else
                  (1 - beta1 ** t, 1 - beta2 ** t))
        if a["amsgrad"]:
            if mistake == "amsgrad-of-corrected":
                v = s["max_exp_avg_sq"][i] = max(s["max_exp_avg_sq"][i], v / c2) * c2
            else:
                v = s["max_exp_avg_sq"][i] = max(s["max_exp_avg_sq"][i], v)
        if mistake == "eps-inside-sqrt":
            return p - lr * (m / c1) / math.sqrt(v / c2 + a["eps"])
        if mistake == "eps-before-correction":
            return p - lr * (m / c1) / ((math.sqrt(v) + a["eps"]) / math.sqrt(c2))
        if mistake == "no-eps":  # 0/0 where m = v = 0: IEEE's NaN (Python's floats raise)
            root = math.sqrt(v / c2)
            return p - lr * (m / c1) / root if root else math.nan
        return p - lr * (m / c1) / (math.sqrt(v / c2) + a["eps"])


@pytest.mark.parametrize("mistake, case_id", [
    ("adam-no-bias-correction", "adam-first-steps"),
    ("adamw-as-l2", "adamw-weight-decay"),
    ("nesterov-as-momentum", "sgd-nesterov"),
    ("momentum-without-dampening", "sgd-momentum-dampening"),
    ("dampening-at-first-step", "sgd-momentum-dampening"),
    ("eps-inside-sqrt", "adam-eps-comparable"),
    ("eps-before-correction", "adam-eps-comparable"),
    ("eps-inside-sqrt", "rmsprop"),
    ("biases-not-decayed", "weight-decay-biases"),
    ("amsgrad-of-corrected", "adam-amsgrad"),
    ("rmsprop-uncentered", "rmsprop-centered-momentum"),
    ("no-eps", "adam-zero-gradients"),
    ("batches-ignored", "minibatch-trajectory"),
])
def test_each_classic_optimizer_mistake_fails_the_case_aimed_at_it(by_id, mistake, case_id,
                                                                   monkeypatch):
    """Made on purpose in plain loops, each mistake fails its curated case; the same loops
    without it pass there."""
    case = by_id[case_id]
    monkeypatch.setattr(Mistaken, "WEIGHTS", len(flat(case["parameters"]["weights"])))
    monkeypatch.setattr(Mistaken, "MISTAKE", "")
    right = tolerance_audit.plain_run(vectors.case_input(case), rule=Mistaken)
    assert oracle.compare(case, right).passed
    monkeypatch.setattr(Mistaken, "MISTAKE", mistake)
    given = vectors.case_input(case)
    if mistake == "batches-ignored":
        given = {k: v for k, v in given.items() if k != "batches"}
    wrong = tolerance_audit.plain_run(given, rule=Mistaken)
    result = oracle.compare(case, wrong)
    assert not result.passed
    assert result.first_failure.phase in ("update", "trajectory", "final")


def test_a_wrong_step_count_and_a_buffer_the_optimizer_lacks_fail(by_id):
    """optimizer_state.step must be the steps taken; a buffer the rule has not is a failure."""
    case = by_id["sgd-nesterov"]
    state = copy.deepcopy(case["expected"]["optimizer_state"])
    result = oracle.compare(case, {"optimizer_state": dict(state, step=4)})
    assert [q.status for q in result.quantities if q.name == "optimizer_state.step"] == ["fail"]
    result = oracle.compare(case, {"optimizer_state": dict(state, exp_avg=state["momentum_buffer"])})
    assert not result.passed
    assert any(q.name == "optimizer_state.exp_avg" and "keeps no such buffer" in q.detail
               for q in result.quantities)


# -- the report --------------------------------------------------------------------------------


def test_the_report_per_layer_shows_the_run_end_and_its_first_failure(by_id):
    """A wrong exp_avg in layer 1 is the first failure, phase "final", in its own column."""
    case = by_id["adam-first-steps"]
    got = oracle.purebp_results(case)
    got["optimizer_state"]["exp_avg"]["weights"][1][0][0] *= 1 + 1e-6
    result = oracle.compare(case, got)
    assert result.first_failure[:3] == ("optimizer_state.exp_avg.weights", 1, "final")
    table = oracle.Report([result], F64, []).table()
    head = next(line for line in table.splitlines() if line.strip().startswith("layer"))
    assert head.split()[1:13] == ["z", "a", "grad", "W", "grad", "b", "new", "W", "new", "b",
                                  "final", "W"]
    assert "m W" in head and "v b" in head and "buf" not in head
    assert "first failure: optimizer_state.exp_avg.weights[1][0][0] (layer 1, final)" in table


def test_the_run_end_of_a_chaotic_run_is_not_compared_and_said_so(by_id):
    """Where the trajectory is not checkable to its end, final and the state are NOT CHECKED,
    the verdict says why, and the report still passes (xor-chaotic's run, as an SGD case)."""
    case = dict(vectors.case_input(by_id["xor-chaotic"]), id="chaos", steps=40,
                optimizer=optimizers.SGD(20.0, momentum=0.0).config())
    case = vectors.complete(case)
    assert 0 < case["expected"]["trajectory_checkable"] < 40
    got = oracle.purebp_results(case)
    got["final"]["weights"][0][0][0] += 1.0  # far off, and not judged
    report = oracle.check([case], [{"id": case["id"], "expected": got}])
    assert report.passed
    finals = [q for q in report.cases[0].quantities if q.name.startswith("final.")]
    assert finals and all(q.status == "not checked" and oracle.checker.RUN_END in q.detail
                          for q in finals)
    assert "final and optimizer_state not compared" in report.verdict()
    assert "not given" not in report.verdict()


def test_purebp_check_on_a_suite_with_random_runs_exits_0(capsys, tmp_path):
    """purebp vectors --optimizers writes random-opt cases; purebp's own results pass check."""
    suite, results = str(tmp_path / "v"), str(tmp_path / "r")
    assert cli.main(["vectors", "--out", suite, "--random", "3", "--seed", "2",
                     "--optimizers"]) == 0
    cases = vectors.load(suite)
    assert sum(c["id"].startswith("random-opt-2-") for c in cases) == 3
    os.makedirs(results)
    vectors.write(os.path.join(results, "all.json"),
                  [{"id": c["id"], "expected": oracle.purebp_results(c)} for c in cases])
    capsys.readouterr()
    assert cli.main(["check", suite, results]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("PASS")


def test_optimizers_with_ops_exits_2_in_one_line(capsys, tmp_path):
    code = cli.main(["vectors", "--out", str(tmp_path), "--ops", "--optimizers"])
    err = capsys.readouterr().err
    assert code == 2 and "--optimizers must go with the network suite" in err
    assert len(err.strip().splitlines()) == 1
