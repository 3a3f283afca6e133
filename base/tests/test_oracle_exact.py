"""Tests for purebp.oracle.exact: the 50-digit Decimal pass that the test vectors take as the truth.

Nothing here trusts purebp.exact's own formulas. The helpers are checked
against their textbook forms at 200 digits (more where even 200 would
cancel); the loss against the textbook losses on a forward pass written out
as index loops at 120 digits; the gradients against central finite
differences of the loss at 60 digits; "updated" and "trajectory" by redoing
the gradient steps here; to_float against the nearest float found with
exact fractions; and purebp's float Network against the rounded truth.
Every tolerance is derived where it is used.
"""

import math
import random
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from purebp import exact
from purebp.network import Network

LN10 = math.log(10)


def rel_err(got, want):
    """|got − want| / |want| (or |got| when want is 0), in a 200-digit context."""
    with localcontext() as ctx:
        ctx.prec = 200
        if want == 0:
            return abs(got)
        return abs((got - want) / want)


def digits_for(z, base=200):
    """Digits that keep ``base`` significant digits of the textbook forms at z.

    1 − σ(z) is about e^−|z| and 1 − tanh²(z) about 4e^−2|z|: beside 1 they
    need |z|/ln 10 (2|z|/ln 10) more digits; e^x − 1 and ln(1 + x) at tiny x
    need −log10|x| more.
    """
    z = Decimal(z)
    tiny = max(0, -z.adjusted()) if z else 0
    return base + tiny + int(2 * abs(z) / Decimal(LN10)) + 1


def at_fifty(fn, *args):
    """fn(*args) evaluated under exact's own 50-digit context."""
    with localcontext() as ctx:
        ctx.prec = exact.PRECISION
        return fn(*args)


# -- the helpers against their textbook forms -----------------------------------------

SMALL_XS = ["1e-300", "-1e-300", "-1e-20", "1e-20", "1e-7", "-1e-7", "9.99e-7",
            "1e-3", "0.5", "-0.5", "-0.9", "-0.999999", "2.5", "-5"]


@pytest.mark.parametrize("x", SMALL_XS)
def test_expm1_matches_exp_minus_one_at_high_precision(x):
    """_expm1(x) equals e^x − 1 at 200+ digits to 1e-45 relative, tiny x included."""
    x = Decimal(x)
    with localcontext() as ctx:
        ctx.prec = digits_for(x)
        want = x.exp() - 1
    # 50 digits leave a rounding error near 1e-50 per operation; 1e-45 allows
    # a few dozen of them, yet a cancelling e^x − 1 at x = 1e-7 (7 lost digits)
    # or a truncated series would miss it.
    assert rel_err(at_fifty(exact._expm1, x), want) < Decimal("1e-45")


@pytest.mark.parametrize("x", [x for x in SMALL_XS if Decimal(x) > -1])
def test_log1p_matches_ln_one_plus_x_at_high_precision(x):
    """_log1p(x) equals ln(1 + x) at 200+ digits to 1e-45 relative, tiny x included."""
    x = Decimal(x)
    with localcontext() as ctx:
        ctx.prec = digits_for(x)
        want = (1 + x).ln()
    # Same budget as for _expm1 above.
    assert rel_err(at_fifty(exact._log1p, x), want) < Decimal("1e-45")


@pytest.mark.parametrize("x", [Decimal("1e-6"), 1.5e-6, 3e-6])
def test_expm1_and_log1p_keep_fifty_digits_just_above_the_series_threshold(x):
    """Just above 1e-6, where exact switches from the series, both still hold 1e-45 relative."""
    x = Decimal(x)  # a float's exact value has many digits: 1 + x is rounded at 50 digits
    with localcontext() as ctx:
        ctx.prec = digits_for(x)
        want_expm1, want_log1p = x.exp() - 1, (1 + x).ln()
    # The module promises forms "that lose no digits"; float64 rounding would
    # not notice the loss, but a 50-digit truth should be good to ~1e-48.
    assert rel_err(at_fifty(exact._expm1, x), want_expm1) < Decimal("1e-45")
    assert rel_err(at_fifty(exact._log1p, x), want_log1p) < Decimal("1e-45")


def textbook_sigmoid(z):
    return 1 / (1 + (-z).exp())


def textbook_tanh(z):
    e = (2 * z).exp()
    return (e - 1) / (e + 1)


EXTREME_ZS = ["0", "1e-300", "-1e-300", "1", "-1", "3.5", "-30", "30",
              "700", "-700", "800", "-800"]


@pytest.mark.parametrize("z", EXTREME_ZS)
def test_sigmoid_prime_matches_sigma_times_one_minus_sigma(z):
    """sigmoid_prime(z) equals σ(z)(1 − σ(z)) at 200+ digits, at ±700 and ±800 too."""
    z = Decimal(z)
    with localcontext() as ctx:
        ctx.prec = digits_for(z)  # enough that 1 − σ(z) ≈ e^−|z| keeps 200 digits
        s = textbook_sigmoid(z)
        want = s * (1 - s)
    # Two 50-digit sigmoids and a product: ~3 half-ulps, far below 1e-45. At
    # z = 800 the cancelling 50-digit form would give 0 (relative error 1).
    assert want > 0
    assert rel_err(at_fifty(exact.sigmoid_prime, z), want) < Decimal("1e-45")


@pytest.mark.parametrize("z", EXTREME_ZS)
def test_sigmoid_matches_the_textbook_form(z):
    """sigmoid(z) equals 1/(1 + e^−z) at 200+ digits."""
    z = Decimal(z)
    with localcontext() as ctx:
        ctx.prec = digits_for(z)
        want = textbook_sigmoid(z)
    # One exp, one add, one divide at 50 digits.
    assert rel_err(at_fifty(exact.sigmoid, z), want) < Decimal("1e-45")


@pytest.mark.parametrize("z", EXTREME_ZS)
def test_tanh_matches_the_textbook_form(z):
    """tanh(z) equals (e^2z − 1)/(e^2z + 1) at 200+ digits, z = 1e-300 and ±800 included."""
    z = Decimal(z)
    with localcontext() as ctx:
        ctx.prec = digits_for(z)  # e^2z − 1 at z = 1e-300 needs 300 extra digits
        want = textbook_tanh(z)
    # A 50-digit expm1 and a division: a few half-ulps.
    assert rel_err(at_fifty(exact.tanh, z), want) < Decimal("1e-45")


@pytest.mark.parametrize("z", EXTREME_ZS)
def test_tanh_prime_matches_one_minus_tanh_squared(z):
    """tanh_prime(z) equals 1 − tanh²(z) at 200+ digits, z = 1e-300 and ±800 included."""
    z = Decimal(z)
    with localcontext() as ctx:
        ctx.prec = digits_for(z)  # 1 − tanh²(800) ≈ 4e^−1600 needs ~700 extra digits
        t = textbook_tanh(z)
        want = 1 - t * t
    assert want > 0
    # Two exps, a sum, a square and a division at 50 digits.
    assert rel_err(at_fifty(exact.tanh_prime, z), want) < Decimal("1e-45")


@settings(max_examples=25)
@given(st.floats(-900, 900, allow_nan=False))
def test_sigmoid_and_tanh_derivatives_match_textbook_forms_anywhere(z):
    """For any float z in [−900, 900], σ′, tanh and tanh′ match their textbook forms."""
    z = Decimal(z)
    with localcontext() as ctx:
        ctx.prec = digits_for(z, base=80)
        s, t = textbook_sigmoid(z), textbook_tanh(z)
        want_sp, want_t, want_tp = s * (1 - s), t, 1 - t * t
    # 1e-45: fifty digits less a few roundings; far below float64's 1e-16.
    bound = Decimal("1e-45")
    assert rel_err(at_fifty(exact.sigmoid_prime, z), want_sp) < bound
    assert rel_err(at_fifty(exact.tanh, z), want_t) < bound
    assert rel_err(at_fifty(exact.tanh_prime, z), want_tp) < bound


# -- small networks that cover every activation and loss ----------------------------------

#: (sizes, hidden activation, output activation, loss, seed): every hidden
#: activation, every output activation and every loss appear at least once.
NETWORKS = [
    ([2, 3, 2], "sigmoid", "sigmoid", "half_sse", 1),
    ([2, 3, 2], "tanh", "tanh", "mse", 2),
    ([3, 2, 2, 1], "relu", "sigmoid", "bce", 3),
    ([2, 3, 3], "leaky_relu", "softmax", "cross_entropy", 4),
    ([2, 2, 2, 2], "identity", "identity", "mse", 5),
    ([2, 3, 2], "sigmoid", "relu", "half_sse", 6),
    ([2, 2, 2], "tanh", "leaky_relu", "mse", 7),
    ([2, 4, 3], "identity", "softmax", "cross_entropy", 8),
]


def make_case(sizes, activation, output, loss, seed, n=3):
    """(network dict, weights, biases, X, y): float parameters from Network(seed=...)."""
    net = Network(sizes, activation, output, loss, seed=seed)
    rng = random.Random(seed)
    biases = [[[rng.uniform(-0.5, 0.5) for _ in range(c)]] for c in sizes[1:]]
    X = [[rng.uniform(-1.5, 1.5) for _ in range(sizes[0])] for _ in range(n)]
    k = sizes[-1]
    if loss == "cross_entropy":
        y = []
        for _ in range(n):
            row = [rng.random() for _ in range(k)]
            total = math.fsum(row)
            y.append([v / total for v in row])  # soft targets: each row sums to ~1
    elif loss == "bce":
        y = [[rng.random() for _ in range(k)] for _ in range(n)]
    else:
        y = [[rng.uniform(-1, 1) for _ in range(k)] for _ in range(n)]
    network = {"sizes": sizes, "activation": activation,
               "output_activation": output, "loss": loss}
    return network, net.weights, biases, X, y


def dec(matrix):
    return [[Decimal(v) for v in row] for row in matrix]


def decimal_loss(network, W, B, X, y):
    """exact's loss at Decimal parameters, in the current context."""
    zs, activations = exact.forward(network, W, B, X)
    return exact.loss_value(network, y, zs, activations)


def ids(params):
    return [f"{a}-{o}-{l}" for _, a, o, l, _ in params]


@pytest.mark.parametrize("params", NETWORKS, ids=ids(NETWORKS))
def test_run_gradients_equal_central_finite_differences(params):
    """run's gradients equal central differences of the loss in 60-digit Decimal, h = 1e-25."""
    network, weights, biases, X, y = make_case(*params)
    truth = exact.run(network, weights, biases, X, y, 0.1, 1)
    with localcontext() as ctx:
        ctx.prec = 60
        W, B, Xd, yd = [dec(w) for w in weights], [dec(b) for b in biases], dec(X), dec(y)
        zs, _ = exact.forward(network, W, B, Xd)
        # relu's kink: a difference across z = 0 would not be a derivative.
        assert min(abs(v) for z in zs for row in z for v in row) > Decimal("1e-10")
        loss = decimal_loss(network, W, B, Xd, yd)
        h = Decimal("1e-25")
        # Truncation error h²/6·|f‴| ≈ 1e-51; rounding 60-digit losses
        # (error ~1e-58·|loss|) divided by 2h gives ~1e-33·|loss|. A wrong
        # gradient is off by far more than 1e-28·(1 + |loss|).
        bound = Decimal("1e-28") * (1 + abs(loss))
        checked = 0
        for kind, params_ in (("weights", W), ("biases", B)):
            for l, matrix in enumerate(params_):
                for i, row in enumerate(matrix):
                    for j, p in enumerate(row):
                        row[j] = p + h
                        up = decimal_loss(network, W, B, Xd, yd)
                        row[j] = p - h
                        down = decimal_loss(network, W, B, Xd, yd)
                        row[j] = p
                        fd = (up - down) / (2 * h)
                        got = truth["gradients"][kind][l][i][j]
                        assert abs(got - fd) <= bound, (kind, l, i, j, got, fd)
                        checked += 1
    assert checked == sum((r + 1) * c for r, c in zip(network["sizes"], network["sizes"][1:]))


# -- the forward pass and loss against the textbook, written out --------------------------

def textbook_activation(name, z):
    if name == "identity":
        return z
    if name == "sigmoid":
        return 1 / (1 + (-z).exp())
    if name == "tanh":
        e = (2 * z).exp()
        return (e - 1) / (e + 1)
    if name == "relu":
        return z if z > 0 else Decimal(0)
    return z if z > 0 else Decimal("0.01") * z  # leaky_relu


def textbook_run(network, weights, biases, X, y):
    """(zs, activations, loss) by index loops and textbook losses, in the current context."""
    a = dec(X)
    zs, activations = [], []
    L = len(weights)
    for l in range(L):
        W, b = dec(weights[l]), dec(biases[l])[0]
        z = [[sum((a[n][i] * W[i][j] for i in range(len(W))), Decimal(0)) + b[j]
              for j in range(len(b))] for n in range(len(a))]
        name = network["output_activation"] if l == L - 1 else network["activation"]
        if name == "softmax":
            a = []
            for row in z:
                exps = [v.exp() for v in row]
                total = sum(exps, Decimal(0))
                a.append([e / total for e in exps])
        else:
            a = [[textbook_activation(name, v) for v in row] for row in z]
        zs.append(z)
        activations.append(a)
    t = dec(y)
    n, k = len(t), len(t[0])
    pairs = [(t[i][j], a[i][j]) for i in range(n) for j in range(k)]
    loss = network["loss"]
    if loss == "half_sse":
        value = sum(((p - q) ** 2 for q, p in pairs), Decimal(0)) / 2
    elif loss == "mse":
        value = sum(((p - q) ** 2 for q, p in pairs), Decimal(0)) / (n * k)
    elif loss == "bce":  # −[y log ŷ + (1 − y) log(1 − ŷ)]
        value = -sum((q * p.ln() + (1 - q) * (1 - p).ln() for q, p in pairs),
                     Decimal(0)) / (n * k)
    else:  # cross_entropy: −Σ y log ŷ
        value = -sum((q * p.ln() for q, p in pairs if q != 0), Decimal(0)) / n
    return zs, activations, value


@pytest.mark.parametrize("params", NETWORKS, ids=ids(NETWORKS))
def test_run_forward_and_loss_equal_the_textbook_at_120_digits(params):
    """run's pre-activations, activations and loss equal the textbook forms at 120 digits."""
    network, weights, biases, X, y = make_case(*params)
    truth = exact.run(network, weights, biases, X, y, 0.1, 1)
    with localcontext() as ctx:
        ctx.prec = 120
        zs, activations, loss = textbook_run(network, weights, biases, X, y)
    # Moderate values (|z| < 10): each 50-digit quantity carries a few dozen
    # half-ulp roundings at most, so 1e-44 relative to the larger of the
    # value and 1 (the loss may be a small difference of O(1) terms).
    bound = Decimal("1e-44")
    for key, want in (("pre_activations", zs), ("activations", activations)):
        assert len(truth[key]) == len(want)
        for got_m, want_m in zip(truth[key], want):
            for got_r, want_r in zip(got_m, want_m):
                for g, w in zip(got_r, want_r):
                    assert abs(g - w) <= bound * max(1, abs(w)), (key, g, w)
    assert abs(truth["loss"] - loss) <= bound * max(1, abs(loss))


# -- updated and trajectory -------------------------------------------------------------

@pytest.mark.parametrize("params", NETWORKS[:4], ids=ids(NETWORKS[:4]))
def test_run_updated_is_one_gradient_step(params):
    """run's "updated" equals W − lr·g for the returned gradients, weights and biases."""
    network, weights, biases, X, y = make_case(*params)
    lr = 0.37
    truth = exact.run(network, weights, biases, X, y, lr, 2)
    g = truth["gradients"]
    with localcontext() as ctx:
        ctx.prec = 120  # W − lr·g exactly (lr·g has ≤ 103 digits), then compared
        for kind, params_ in (("weights", weights), ("biases", biases)):
            for l, matrix in enumerate(params_):
                for i, row in enumerate(matrix):
                    for j, p in enumerate(row):
                        want = Decimal(p) - Decimal(lr) * g[kind][l][i][j]
                        got = truth["updated"][kind][l][i][j]
                        # exact rounds each of its two operations to 50
                        # digits: ≤ 1e-49 of the larger operand.
                        scale = max(abs(Decimal(p)), abs(Decimal(lr) * g[kind][l][i][j]))
                        assert abs(got - want) <= Decimal("1e-48") * scale, (kind, l, i, j)


@pytest.mark.parametrize("params", NETWORKS, ids=ids(NETWORKS))
def test_run_trajectory_is_the_loss_before_each_step(params):
    """trajectory[k] is the loss after k steps of W − lr·g, the first one being "loss"."""
    network, weights, biases, X, y = make_case(*params)
    lr, steps = 0.25, 4
    truth = exact.run(network, weights, biases, X, y, lr, steps)
    assert len(truth["trajectory"]) == steps
    assert truth["trajectory"][0] == truth["loss"]
    W, B = [dec(w) for w in weights], [dec(b) for b in biases]
    for k in range(steps):
        with localcontext() as ctx:
            ctx.prec = exact.PRECISION
            want = decimal_loss(network, W, B, dec(X), dec(y))
        # Both are the same 50-digit loss at parameters that differ only by
        # the roundings of k steps: 1e-40 relative is far above that and far
        # below the change one step makes (an off-by-one step).
        assert abs(truth["trajectory"][k] - want) <= Decimal("1e-40") * max(1, abs(want)), k
        # The next parameters: one step, taken here from exact's gradient at (W, B).
        g = exact.run(network, W, B, X, y, lr, 1)["gradients"]
        with localcontext() as ctx:
            ctx.prec = exact.PRECISION
            W = [[[w - Decimal(lr) * gw for w, gw in zip(wr, gr)] for wr, gr in zip(wm, gm)]
                 for wm, gm in zip(W, g["weights"])]
            B = [[[b - Decimal(lr) * gb for b, gb in zip(br, gr)] for br, gr in zip(bm, gm)]
                 for bm, gm in zip(B, g["biases"])]


def test_run_with_zero_steps_has_an_empty_trajectory():
    """steps = 0 gives an empty trajectory but still the loss, gradients and one update."""
    network, weights, biases, X, y = make_case(*NETWORKS[0])
    truth = exact.run(network, weights, biases, X, y, 0.1, 0)
    assert truth["trajectory"] == []
    assert set(truth) == {"pre_activations", "activations", "loss", "gradients",
                          "updated", "trajectory"}


# -- no arithmetic shared with the float code -------------------------------------------


def test_exact_imports_nothing_from_purebp():
    """purebp.oracle.exact imports only the standard library: no purebp module at all."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(exact))
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert imported and not [name for name in imported if name.split(".")[0] == "purebp"]


@pytest.mark.parametrize("params", NETWORKS, ids=ids(NETWORKS))
def test_a_broken_float_matrix_helper_leaves_the_truth_alone(params, monkeypatch):
    """With purebp.matrix's products, sums and transposes all wrong, exact.run gives the same values."""
    from purebp import matrix

    network, weights, biases, X, y = make_case(*params)
    truth = exact.run(network, weights, biases, X, y, 0.1, 2)
    for name in ("matmul", "add_row", "column_sums", "multiply", "subtract", "transpose", "apply"):
        monkeypatch.setattr(matrix, name, lambda *args, **kwargs: [[Decimal(7)]])
    assert exact.run(network, weights, biases, X, y, 0.1, 2) == truth


# -- to_float ---------------------------------------------------------------------------

def is_nearest_float(result, value):
    """True when result is the float nearest to the Decimal value (ties to even)."""
    exact_value = Fraction(value)
    err = abs(Fraction(result) - exact_value)
    for neighbour in (math.nextafter(result, math.inf), math.nextafter(result, -math.inf)):
        if math.isinf(neighbour):
            continue  # beyond the largest float: overflow is not a rounding choice here
        other = abs(Fraction(neighbour) - exact_value)
        if other < err:
            return False
        if other == err and int(Fraction(result) / Fraction(math.ulp(result))) % 2:
            return False  # a tie must go to the even significand
    return True


@pytest.mark.parametrize("text, want", [
    ("0.1", 0.1),
    ("-2.5", -2.5),
    ("1e-320", 1e-320),  # subnormal
    ("4.9406564584124654e-324", 5e-324),  # the smallest subnormal
    ("2.4703282292062327e-324", 0.0),  # just below half of it: rounds to zero
    # 1 + 2^−53 exactly: halfway between 1 and the next float, ties to even = 1
    ("1.00000000000000011102230246251565404236316680908203125", 1.0),
    # a hair above halfway: rounds up
    ("1.00000000000000011102230246251565404236316680908203126", 1.0000000000000002),
    ("1.7976931348623157e308", 1.7976931348623157e308),
])
def test_to_float_rounds_to_nearest(text, want):
    """to_float rounds a Decimal to the nearest float, ties to even, subnormals included."""
    got = exact.to_float(Decimal(text))
    assert type(got) is float and got == want
    assert is_nearest_float(got, Decimal(text))


@settings(max_examples=40)
@given(st.floats(-1e300, 1e300, allow_nan=False), st.integers(-1000, 1000))
def test_to_float_is_nearest_for_points_between_floats(x, k):
    """For x + k/1000 ulp (a point between floats), to_float picks the nearest float."""
    with localcontext() as ctx:
        ctx.prec = 1200  # enough to hold x + k·ulp/1000 exactly
        value = Decimal(x) + Decimal(k) * Decimal(math.ulp(x)) / 1000
    assert is_nearest_float(exact.to_float(value), value)


def test_to_float_keeps_the_structure():
    """to_float maps nested dicts and lists entry by entry and leaves non-Decimals alone."""
    value = {"loss": Decimal("0.5"), "gradients": {"weights": [[[Decimal("0.1"), Decimal(-3)]]]},
             "trajectory": [], "name": "x", "steps": 3}
    got = exact.to_float(value)
    assert got == {"loss": 0.5, "gradients": {"weights": [[[0.1, -3.0]]]},
                   "trajectory": [], "name": "x", "steps": 3}
    assert type(got["gradients"]["weights"][0][0][1]) is float
    assert type(got["steps"]) is int


# -- purebp's float network against the truth -----------------------------------------

@pytest.mark.parametrize("params", NETWORKS, ids=ids(NETWORKS))
def test_float_network_loss_is_within_8_ulps_of_the_truth(params):
    """Network.loss in floats is within 8 ulps of exact.run's loss rounded to float."""
    network, weights, biases, X, y = make_case(*params)
    net = Network(network["sizes"], network["activation"], network["output_activation"],
                  network["loss"], seed=0)
    net.weights, net.biases = weights, biases
    want = exact.to_float(exact.run(network, weights, biases, X, y, 0.1, 1)["loss"])
    # A few dozen float operations on moderate values with the targets well
    # away from the outputs (no cancellation): each rounds by ≤ ½ ulp, and
    # errors partly cancel; 8 ulps holds with margin and catches any formula slip.
    assert abs(net.loss(X, y) - want) <= 8 * math.ulp(want)
