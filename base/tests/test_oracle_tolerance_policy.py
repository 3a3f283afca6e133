"""Tests for purebp.oracle.tolerance_policy: each quantity's S and U, and each constant's reason.

Nothing here is read back from the code under test. Each per-quantity
function is checked on a tiny case against numbers worked out by hand from
docs/vectors.md ("Quantity by quantity"); every constant against the fact
its comment gives as its reason (a maximum found on a grid, a bound checked
on perturbed inputs, a measurement against 60-digit decimals); and a whole
case, a 1-1-1 network with a relu unit exactly at its kink, against the
full table of its tolerances derived by hand.
"""

import math
import random
from decimal import Decimal, localcontext

import pytest

from purebp import activations, oracle
from purebp.oracle import checker, vectors
from purebp.oracle import tolerance_policy as tol

EPS = 2.0 ** -52
F64 = tol.POLICIES["float64"]
#: The hand values below add their terms in another order than the code: they
#: may differ from it in the last few bits, never more.
CLOSE = 1e-12


def flat(value):
    """The numbers of nested lists, in order (pytest.approx takes flat lists only)."""
    if isinstance(value, list):
        return [x for v in value for x in flat(v)]
    return [value]


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


# -- the constants, against their stated reasons ----------------------------------------------

GRID = [i / 2000 for i in range(-20000, 20001)]  # z from −10 to 10 in steps of 0.0005


def test_sigmoid_and_tanh_curvatures_are_their_max_second_derivatives_rounded_up():
    """0.0963 and 0.770 are max |σ″| = 1/(6√3) and max |tanh″| = 4/(3√3) rounded up to 3 digits."""
    def sigmoid_2(z):  # σ″ = σ(1 − σ)(1 − 2σ)
        s = sigmoid(z)
        return s * (1 - s) * (1 - 2 * s)

    def tanh_2(z):  # tanh″ = −2·tanh·(1 − tanh²)
        t = math.tanh(z)
        return -2 * t * (1 - t * t)

    for name, f2, closed in (("sigmoid", sigmoid_2, 1 / (6 * math.sqrt(3))),
                             ("tanh", tanh_2, 4 / (3 * math.sqrt(3)))):
        peak = max(abs(f2(z)) for z in GRID)
        assert peak == pytest.approx(closed, rel=1e-6)  # the grid finds the closed form
        last_digit = 10.0 ** (math.floor(math.log10(closed)) - 2)  # 3 significant digits
        assert closed <= tol._CURVATURE[name] < closed + last_digit


def test_lipschitz_constants_are_the_max_first_derivatives():
    """max |f′| on a grid: 1/4 for sigmoid, 1 for tanh, relu, leaky_relu and identity."""
    for name in ("sigmoid", "tanh", "relu", "leaky_relu", "identity"):
        act = activations.ACTIVATIONS[name]
        peak = max(abs(act.f_prime(z, act.f(z))) for z in GRID)
        assert tol._LIPSCHITZ[name] == peak


def test_kink_jumps_are_the_slopes_either_side_of_zero():
    """relu′ jumps by 1 at 0 and leaky_relu′ by 1 − 0.01."""
    for name in ("relu", "leaky_relu"):
        f_prime = activations.ACTIVATIONS[name].f_prime
        assert tol._KINK_JUMP[name] == pytest.approx(f_prime(1e-9, 1e-9) - f_prime(-1e-9, -1e-9))


def exact_prime(name, z):
    """σ′(z) = e^−z/(1 + e^−z)² or tanh′(z) = 4/(e^z + e^−z)², at 60 digits."""
    with localcontext() as ctx:
        ctx.prec = 60
        z = Decimal(z)
        if name == "sigmoid":
            e = (-z).exp()
            return e / (1 + e) ** 2
        return 4 / (z.exp() + (-z).exp()) ** 2


def test_a_derivative_from_an_output_off_by_eps_is_within_4_eps():
    """s·(1 − s) and 1 − t² from σ(z), tanh(z) moved by eps relative either way stay within 4·eps."""
    rng = random.Random(5)
    worst = {"sigmoid": 0.0, "tanh": 0.0}
    for _ in range(3000):
        z = rng.uniform(-40.0, 40.0) if rng.random() < 0.5 else rng.uniform(-3.0, 3.0)
        for name, f, from_output in (("sigmoid", activations.sigmoid, lambda s: s * (1.0 - s)),
                                     ("tanh", activations.tanh, lambda t: 1.0 - t * t)):
            out = f(z)
            truth = exact_prime(name, z)
            for a in (out * (1.0 - EPS), out, out * (1.0 + EPS)):
                with localcontext() as ctx:
                    ctx.prec = 60
                    error = float(abs(Decimal(from_output(a)) - truth)) / EPS
                worst[name] = max(worst[name], error)
    assert max(worst.values()) <= tol._ROUNDED_OUTPUT_SLACK
    assert worst["tanh"] > 1.0  # the slack is needed: 1 − t² really moves by eps and more


def test_softmax_moves_by_at_most_two_s_one_minus_s_max_dz():
    """A softmax row whose logits move by at most m moves by at most 2·s_k·(1 − s_k)·m (to first order)."""
    rng = random.Random(6)
    m = 1e-7
    for _ in range(300):
        z = [rng.uniform(-5, 5) for _ in range(rng.randint(2, 6))]
        dz = [rng.choice((-m, m)) * rng.random() for _ in z]
        s = activations.softmax(z)
        moved = activations.softmax([a + b for a, b in zip(z, dz)])
        for sk, mk in zip(s, moved):
            assert abs(mk - sk) <= tol._SOFTMAX_SPREAD * sk * (1 - sk) * m * (1 + 1e-3) + 1e-15


def test_sigmoid_counts_as_zero_only_where_it_is_below_1e_304():
    """σ(−700) < 1e-304, and e^700 still fits in a float (e^710 does not)."""
    assert sigmoid(tol._SIGMOID_ZERO_BELOW) < 1e-304
    assert math.isfinite(math.exp(-tol._SIGMOID_ZERO_BELOW))
    with pytest.raises(OverflowError):
        math.exp(710)


def test_the_trajectory_growth_is_not_yet_needed_by_purebp():
    """purebp's trajectory is within eps·(S + |loss_s|) of the truth at every step of the curated suite."""
    for case in vectors.curated():
        spec = case["network"]
        zs, acts, _ = tol._float_pass(case)
        z_s, a_s = tol.forward_scales(spec, case["parameters"]["weights"],
                                      case["parameters"]["biases"], acts)
        scale = tol.loss_scale(spec["loss"], case["targets"], zs[-1], acts[-1], z_s[-1], a_s[-1])
        got = checker.purebp_results(vectors.case_input(case))["trajectory"]
        for g, e in zip(got, case["expected"]["trajectory"]):
            assert abs(g - e) <= EPS * (scale + abs(e)), case["id"]


# -- each quantity on a tiny case, by hand ---------------------------------------------------


def test_pre_activation_scales_add_each_terms_size_and_error():
    """z = a·w + b: S = Σ_i (|a_i| + S_a_i)·|w_ij| + |b_j|, row by row."""
    a, a_s = [[1.0, -2.0], [0.5, 0.0]], [[0.0, 0.25], [1.0, 2.0]]
    w, b = [[3.0, -1.0], [0.5, 2.0]], [[-1.0, 0.125]]
    # row 0: (1 + 0)·3 + (2 + 0.25)·0.5 + 1 = 5.125; (1 + 0)·1 + (2 + 0.25)·2 + 0.125 = 5.625
    # row 1: (0.5 + 1)·3 + (0 + 2)·0.5 + 1 = 6.5; (0.5 + 1)·1 + (0 + 2)·2 + 0.125 = 5.625
    assert tol.pre_activation_scales(a, a_s, w, b) == [[5.125, 5.625], [6.5, 5.625]]


def test_activation_scales_carry_z_through_max_slope_plus_own_rounding():
    """S_a = max|f′|·S_z + |a|; softmax: |a_k|·(1 + 2·(1 − a_k)·max S_z)."""
    assert tol.activation_scales("sigmoid", [[4.0, 2.0]], [[0.5, 0.75]]) == [[1.5, 1.25]]
    assert tol.activation_scales("tanh", [[2.0]], [[-0.5]]) == [[2.5]]
    assert tol.activation_scales("relu", [[2.0]], [[0.0]]) == [[2.0]]
    # 0.25·(1 + 2·0.75·3) = 1.375, 0.75·(1 + 2·0.25·3) = 1.875
    assert tol.activation_scales("softmax", [[1.0, 3.0]], [[0.25, 0.75]]) == [[1.375, 1.875]]


def test_loss_scale_of_each_loss():
    """The loss scale: its terms' sizes with the outputs' errors, as docs/vectors.md gives them."""
    y, a, a_s = [[0.0, 1.0]], [[0.5, 0.5]], [[1.0, 2.0]]
    # Σ |a − y|·(|a| + |y| + 2·S_a) = 0.5·(0.5 + 0 + 2) + 0.5·(0.5 + 1 + 4) = 4
    assert tol.loss_scale("half_sse", y, a, a, a_s, a_s) == 2.0  # ½·4
    assert tol.loss_scale("mse", y, a, a, a_s, a_s) == 2.0  # 4/(1·2)
    # bce: (|z| + S_z + 1)/nk = (3 + 2 + 1)/1
    assert tol.loss_scale("bce", [[1.0]], [[-3.0]], [[0.05]], [[2.0]], [[9.0]]) == 6.0
    # cross_entropy, row 0: 1·(2·4 + 2·2 + 1) = 13; row 1: 1·(2·0 + 2·0.5 + 1) = 2; (13 + 2)/2
    y, z, z_s = [[0.5, 0.5], [1.0, 0.0]], [[1.0, -4.0], [0.0, 0.0]], [[1.0, 2.0], [0.5, 0.5]]
    assert tol.loss_scale("cross_entropy", y, z, z, z_s, z_s) == 7.5


def test_derivative_bound_at_and_beside_a_kink():
    """relu and leaky_relu take either slope only within dz of 0; identity is certain."""
    assert tol.derivative_bound("relu", 0.0, 0.0, 1e-16, EPS) == (0.0, 1.0)
    assert tol.derivative_bound("relu", 0.0, 0.0, 0.0, EPS) == (0.0, 1.0)  # exactly 0, no error
    assert tol.derivative_bound("relu", -1e-17, 0.0, 1e-16, EPS) == (0.0, 1.0)
    assert tol.derivative_bound("relu", 1e-17, 1e-17, 1e-16, EPS) == (1.0, 1.0)
    assert tol.derivative_bound("relu", -1e-15, 0.0, 1e-16, EPS) == (0.0, 0.0)
    assert tol.derivative_bound("relu", 2.0, 2.0, 1e-16, EPS) == (1.0, 0.0)
    slope, u = tol.derivative_bound("leaky_relu", -1e-17, -1e-19, 1e-16, EPS)
    assert slope == pytest.approx(0.01) and u == pytest.approx(0.99)
    assert tol.derivative_bound("leaky_relu", -1.0, -0.01, 1e-16, EPS)[1] == 0.0
    assert tol.derivative_bound("identity", 0.0, 0.0, 1.0, EPS) == (1.0, 0.0)


def test_derivative_bound_of_a_smooth_unit():
    """sigmoid, tanh: |f′| from the output, uncertain by 4·eps + max|f″|·dz."""
    dz = 1e-10
    slope, u = tol.derivative_bound("sigmoid", 0.0, 0.5, dz, EPS)
    assert slope == 0.25 and u == pytest.approx(4 * EPS + dz / (6 * math.sqrt(3)), rel=1e-3)
    slope, u = tol.derivative_bound("tanh", 0.0, 0.5, dz, EPS)
    assert slope == 0.75 and u == pytest.approx(4 * EPS + dz * 4 / (3 * math.sqrt(3)), rel=1e-3)


def test_output_delta_bounds_of_each_loss():
    """δ of the last layer: its terms' sizes and the uncertainty from the outputs' errors."""
    eps = 2.0 ** -20
    # half_sse, identity: S = |a| + |y| = 1.25; U = S_a·eps·(1 + 0) = 6·eps
    got = tol.output_delta_bounds({"loss": "half_sse", "output_activation": "identity"},
                                  [[0.25]], [[1.0]], [[1.0]], [[5.0]], [[6.0]], eps)
    assert got == tol.Bounds([[1.25]], [[6 * eps]])
    # mse, identity, n·k = 2: the same with 2/nk = 1 in front
    got = tol.output_delta_bounds({"loss": "mse", "output_activation": "identity"},
                                  [[0.0, 1.0]], [[0.5, 0.5]], [[0.5, 0.5]], [[1.0, 1.0]],
                                  [[1.0, 2.0]], eps)
    assert got == tol.Bounds([[0.5, 1.5]], [[eps, 2 * eps]])
    # bce: S = (σ(z) + |y|)/nk, U = (σ′(z)·S_z·eps + eps)/nk; σ(0) = 0.5; σ(−800) counts as 0
    got = tol.output_delta_bounds({"loss": "bce", "output_activation": "sigmoid"},
                                  [[1.0, 0.0]], [[0.0, -800.0]], [[0.5, 0.0]], [[2.0, 7.0]],
                                  [[0.0, 0.0]], eps)
    assert got == tol.Bounds([[0.75, 0.0]], [[0.75 * eps, 0.5 * eps]])
    # cross_entropy: S = ((Σ|y|)·s + |y|)/n; U = (Σ|y|)·s(1 − s)·2·max S_z·eps/n
    got = tol.output_delta_bounds({"loss": "cross_entropy", "output_activation": "softmax"},
                                  [[0.0, 1.0]], [[0.0, 1.1]], [[0.25, 0.75]], [[1.0, 3.0]],
                                  [[0.0, 0.0]], eps)
    assert got == tol.Bounds([[0.25, 1.75]], [[1.125 * eps, 1.125 * eps]])


def test_hidden_delta_bounds_go_back_through_the_weights_and_the_slope():
    """δ[l−1]: B = S_δ·|W|ᵀ times |f′|; U = (U_δ·|W|ᵀ)·(|f′| + u) + B·u."""
    delta = tol.Bounds([[1.0, 2.0]], [[0.5, 0.25]])
    w = [[1.0, -3.0], [2.0, 0.5]]  # weights[l]: 2 units below, 2 above
    # B = [1·1 + 2·3, 1·2 + 2·0.5] = [7, 3]; B_U = [0.5·1 + 0.25·3, 0.5·2 + 0.25·0.5] = [1.25, 1.125]
    # unit 0: relu at z = 0 (within dz): slope 0, u 1 → S 0, U 1.25·1 + 7·1 = 8.25
    # unit 1: relu at z = 2: slope 1, u 0 → S 3, U 1.125
    got = tol.hidden_delta_bounds("relu", delta, w, [[0.0, 2.0]], [[0.0, 2.0]], [[1.0, 1.0]],
                                  EPS, 4.0)
    assert got == tol.Bounds([[0.0, 3.0]], [[8.25, 1.125]])


def test_gradient_bounds_sum_over_the_batch():
    """weights: Σ_n |a|·S_δ and Σ_n |a|·U_δ + eps·Σ_n S_a·S_δ; biases: Σ_n S_δ, Σ_n U_δ."""
    eps = 0.5
    a, a_s = [[1.0], [-2.0]], [[0.5], [1.0]]
    delta = tol.Bounds([[3.0, 1.0], [0.5, 2.0]], [[0.25, 0.0], [1.0, 0.5]])
    weights, biases = tol.gradient_bounds(a, a_s, delta, eps)
    # S: [1·3 + 2·0.5, 1·1 + 2·2] = [4, 5]
    # U: [1·0.25 + 2·1 + 0.5·(0.5·3 + 1·0.5), 1·0 + 2·0.5 + 0.5·(0.5·1 + 1·2)] = [3.25, 2.25]
    assert weights == tol.Bounds([[4.0, 5.0]], [[3.25, 2.25]])
    assert biases == tol.Bounds([[3.5, 3.0]], [[1.25, 0.5]])


def test_updated_and_gradient_tolerances():
    """gradient: atol + rtol·S + κ·U; updated p − lr·g: atol + rtol·(|p| + lr·S) + κ·lr·U."""
    pol = tol.Policy("test", rtol=0.5, atol=0.125, ulps=None, eps=EPS, kappa=2.0)
    bounds = [tol.Bounds([[4.0, 0.0]], [[1.0, 3.0]])]
    assert tol.gradient_tolerances(pol, bounds) == [[[0.125 + 2.0 + 2.0, 0.125 + 6.0]]]
    # p = −2, 3 and lr = 0.25: 0.125 + 0.5·(2 + 0.25·4) + 2·0.25·1; 0.125 + 0.5·3 + 2·0.25·3
    assert tol.updated_tolerances(pol, [[[-2.0, 3.0]]], bounds, 0.25) == [[[2.125, 3.125]]]


def test_trajectory_drift_and_tolerances():
    """drift = Σ (|g| + κU)·lr·(rtol·S + κU); step s: tolerance of (1 + 10s)·(S + |loss_s|) + 2s·drift."""
    pol = tol.Policy("test", rtol=0.5, atol=0.0, ulps=None, eps=EPS, kappa=2.0)
    grads = {"weights": [[[-1.0, 0.0]]], "biases": [[[2.0]]]}
    w_bounds = [tol.Bounds([[2.0, 1.0]], [[0.0, 0.25]])]
    b_bounds = [tol.Bounds([[4.0]], [[0.5]])]
    # (1 + 0)·0.5·(1 + 0) + (0 + 0.5)·0.5·(0.5 + 0.5) + (2 + 1)·0.5·(2 + 1) = 0.5 + 0.25 + 4.5
    drift = tol.trajectory_drift(pol, grads, w_bounds, b_bounds, 0.5)
    assert drift == 5.25
    # s = 0: 0.5·1·(2 + 1); s = 1: 0.5·11·(2 + 0.5) + 2·5.25; s = 2: 0.5·21·(2 + 0.25) + 4·5.25
    got = tol.trajectory_tolerances(pol, 3, [1.0, -0.5, 0.25], 2.0, drift)
    assert got == [1.5, 13.75 + 10.5, 23.625 + 21.0]


# -- a whole case, by hand --------------------------------------------------------------------


def kink_case():
    """A 1-1-1 relu network whose hidden unit sits exactly at its kink: z = 2·0.5 − 1 = 0."""
    return {
        "id": "hand-kink", "network": {"sizes": [1, 1, 1], "activation": "relu",
                                       "output_activation": "identity", "loss": "half_sse"},
        "parameters": {"weights": [[[0.5]], [[3.0]]], "biases": [[[-1.0]], [[0.25]]]},
        "inputs": [[2.0]], "targets": [[1.0]], "learning_rate": 0.5, "steps": 2,
        "expected": {"trajectory": [0.28125, 0.125]},
    }


def hand_tolerances(pol):
    """The tolerances of kink_case(), derived by hand (docs/vectors.md, "Quantity by quantity")."""
    e, k, r, at, lr = pol.eps, pol.kappa, pol.rtol, pol.atol, 0.5
    # forward: S_z0 = 2·0.5 + 1 = 2; S_a1 = 1·2 + 0 = 2; S_z1 = (0 + 2)·3 + 0.25 = 6.25;
    # S_a2 = 6.25 + 0.25 = 6.5. a1 = relu(0) = 0, ŷ = 0.25
    # loss: |0.25 − 1|·(0.25 + 1 + 2·6.5)/2 = 5.34375
    # δ1 = ŷ − y: S 1.25, U 6.5·e. δ0: B = 1.25·3 = 3.75, B_U = 19.5·e; relu at its kink
    # (|0| ≤ 4·e·2): slope 0, u 1 → S 0, U 19.5·e + 3.75
    # grad W1 = a1·δ1: S 0·1.25 = 0, U 0·6.5e + e·2·1.25 = 2.5e; grad b1: S 1.25, U 6.5e
    # grad W0 = x·δ0: S 0, U 2·(3.75 + 19.5e); grad b0: S 0, U 3.75 + 19.5e
    u_w0, u_b0, u_w1, u_b1 = 2 * (3.75 + 19.5 * e), 3.75 + 19.5 * e, 2.5 * e, 6.5 * e
    # float gradients: δ1 = −0.75, grad W1 = 0·δ1 = 0, grad b1 = −0.75, δ0 = 0 (relu′(0) = 0)
    drift = (k * u_w0 * lr * k * u_w0 + k * u_b0 * lr * k * u_b0 + k * u_w1 * lr * k * u_w1
             + (0.75 + k * u_b1) * lr * (r * 1.25 + k * u_b1))
    return {
        "pre_activations": [[[at + r * 2]], [[at + r * 6.25]]],
        "activations": [[[at + r * 2]], [[at + r * 6.5]]],
        "outputs": [[at + r * 6.5]],
        "loss": at + r * 5.34375,
        "gradients.weights": [[[at + k * u_w0]], [[at + k * u_w1]]],
        "gradients.biases": [[[at + k * u_b0]], [[at + r * 1.25 + k * u_b1]]],
        "updated.weights": [[[at + r * 0.5 + k * lr * u_w0]], [[at + r * 3 + k * lr * u_w1]]],
        "updated.biases": [[[at + r * 1 + k * lr * u_b0]],
                           [[at + r * (0.25 + lr * 1.25) + k * lr * u_b1]]],
        "trajectory": [at + r * (5.34375 + 0.28125), at + r * 11 * (5.34375 + 0.125) + 2 * drift],
    }


@pytest.mark.parametrize("preset", ["float64", "float32"])
def test_tolerances_of_a_kinked_case_match_the_hand_derivation(preset):
    """Every tolerance of the 1-1-1 kink case, for both presets, as derived by hand."""
    pol = tol.POLICIES[preset]
    got, want = tol.tolerances(kink_case(), pol), hand_tolerances(pol)
    assert set(got) == set(want)
    for name in want:
        assert flat(got[name]) == pytest.approx(flat(want[name]), rel=CLOSE), name


def test_either_slope_at_the_kink_passes_the_hand_case():
    """Taking relu′(0) = 1 moves grad W0 from 0 to −4.5: inside its tolerance; 10× that is not."""
    case = kink_case()
    # relu′(0) = 1: δ0 = −0.75·3·1 = −2.25, grad W0 = 2·δ0 = −4.5, grad b0 = −2.25
    actual = {"gradients": {"weights": [[[-4.5]], [[0.0]]], "biases": [[[-2.25]], [[-0.75]]]}}
    expected = dict(case, expected={"gradients": {"weights": [[[0.0]], [[0.0]]],
                                                  "biases": [[[0.0]], [[-0.75]]]}})
    assert oracle.compare(expected, actual).passed
    actual["gradients"]["weights"][0][0][0] = -45.0
    assert not oracle.compare(expected, actual).passed


def test_tolerances_and_the_policy_are_one_object_wherever_imported():
    """purebp.oracle, its checker and its tolerance_policy share one tolerances and one Policy."""
    assert oracle.tolerances is checker.tolerances is tol.tolerances  # the function
    assert oracle.Policy is checker.Policy is tol.Policy
    assert oracle.POLICIES is checker.POLICIES is tol.POLICIES
    assert oracle.policy is checker.policy is tol.policy
