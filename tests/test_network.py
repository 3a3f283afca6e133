"""Tests for purebp.network: the general network's forward pass, loss, gradients, training.

Gradients are checked against a reference written below as plain index loops
(no purebp.matrix, no purebp.activations, no purebp.losses): each activation's
derivative and each loss's gradient with respect to the last pre-activation
is spelled out here, and one generic loop runs the layer recursion
δ_l = (δ_{l+1}·W_{l+1}ᵀ) ⊙ f′(z_l). Then against central finite differences
(away from relu's kink), then the laws, then bad input.
"""

import copy
import math
import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import ELEMENTWISE, OUTPUT_AND_LOSS, cases, general_cases

from purebp import NeuralNetwork, oracle
from purebp.network import Network
from purebp.optimizers import SGD, Adam
from purebp.oracle import vectors

XOR_X = [[0, 0], [0, 1], [1, 0], [1, 1]]
XOR_Y = [[0], [1], [1], [0]]


# -- the reference, by loops ---------------------------------------------------


def ref_sigmoid(z):
    # 1/(1 + e^−z), rewritten as e^z/(1 + e^z) where e^−z would overflow
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def ref_sigmoid_for_f(z):
    # The textbook form wherever it does not overflow, the same as the tutorial's.
    return 1.0 / (1.0 + math.exp(-z)) if z > -700 else math.exp(z)


REF_F = {
    "identity": lambda z: z,
    "sigmoid": ref_sigmoid_for_f,
    "tanh": math.tanh,
    "relu": lambda z: z if z > 0 else 0.0,
    "leaky_relu": lambda z: z if z > 0 else 0.01 * z,
}

# f′ at z, from z and a = f(z). Sigmoid and tanh use the output, as the
# library and the tutorial do: their error is then absolute (≈ eps) rather
# than relative when a unit saturates, and matching the convention keeps the
# comparison at rounding level.
REF_F_PRIME = {
    "identity": lambda z, a: 1.0,
    "sigmoid": lambda z, a: a * (1.0 - a),
    "tanh": lambda z, a: 1.0 - a * a,
    "relu": lambda z, a: 1.0 if z > 0 else 0.0,  # PyTorch: relu′(0) = 0
    "leaky_relu": lambda z, a: 1.0 if z > 0 else 0.01,  # PyTorch: 0.01 at 0
}


def ref_softmax(row):
    top = max(row)
    exps = [math.exp(v - top) for v in row]
    total = 0.0
    for e in exps:
        total += e
    return [e / total for e in exps]


def ref_forward(net, X):
    """Return (zs, activations) by loops: z_l[n][j] = Σ_i a_l[n][i]·W_l[i][j] + b_l[j]."""
    activations, zs = [[[float(v) for v in row] for row in X]], []
    L = len(net.weights)
    for l in range(L):
        W, b = net.weights[l], net.biases[l][0]
        a = activations[l]
        z = []
        for n in range(len(a)):
            row = []
            for j in range(len(b)):
                s = 0.0
                for i in range(len(a[n])):
                    s += a[n][i] * W[i][j]
                row.append(s + b[j])
            z.append(row)
        name = net.output_activation if l == L - 1 else net.activation
        if name == "softmax":
            a_next = [ref_softmax(row) for row in z]
        else:
            a_next = [[REF_F[name](v) for v in row] for row in z]
        zs.append(z)
        activations.append(a_next)
    return zs, activations


def ref_loss(net, X, y):
    """The loss by its formula, written out (bce and cross_entropy from z, stably)."""
    zs, activations = ref_forward(net, X)
    z, a = zs[-1], activations[-1]
    n, k = len(y), len(y[0])
    name = net.loss_name
    if name == "half_sse":
        return 0.5 * sum((a[i][j] - y[i][j]) ** 2 for i in range(n) for j in range(k))
    if name == "mse":
        return sum((a[i][j] - y[i][j]) ** 2 for i in range(n) for j in range(k)) / (n * k)
    if name == "bce":
        # −[y log σ(z) + (1 − y) log(1 − σ(z))] = log(1 + e^z) − y·z
        def log1pexp(v):
            return v + math.log1p(math.exp(-v)) if v > 0 else math.log1p(math.exp(v))
        return sum(log1pexp(z[i][j]) - y[i][j] * z[i][j]
                   for i in range(n) for j in range(k)) / (n * k)
    # cross_entropy: −Σ_k y_k (z_k − log Σ_j e^{z_j})
    total = 0.0
    for i in range(n):
        top = max(z[i])
        lse = top + math.log(sum(math.exp(v - top) for v in z[i]))
        total += sum(y[i][j] * (lse - z[i][j]) for j in range(k))
    return total / n


def ref_output_delta(net, y, z, a, absolute):
    """∂loss/∂z_L per entry, each loss's formula spelled out (|terms| when absolute)."""
    n, k = len(y), len(y[0])
    A = abs if absolute else (lambda v: v)
    name = net.loss_name
    f_prime = REF_F_PRIME.get(net.output_activation)
    delta = [[0.0] * k for _ in range(n)]
    for i in range(n):
        s = ref_softmax(z[i]) if name == "cross_entropy" else None
        for j in range(k):
            if name == "half_sse":      # ∂/∂a = a − y, then the chain through f′
                d = (A(a[i][j]) + A(y[i][j])) if absolute else (a[i][j] - y[i][j])
                delta[i][j] = d * A(f_prime(z[i][j], a[i][j]))
            elif name == "mse":         # ∂/∂a = 2(a − y)/nk
                d = (A(a[i][j]) + A(y[i][j])) if absolute else (a[i][j] - y[i][j])
                delta[i][j] = 2.0 * d / (n * k) * A(f_prime(z[i][j], a[i][j]))
            elif name == "bce":         # ∂/∂z = (σ(z) − y)/nk
                sig = ref_sigmoid(z[i][j])
                delta[i][j] = ((sig + A(y[i][j])) if absolute else (sig - y[i][j])) / (n * k)
            else:                       # cross_entropy: ∂/∂z = (softmax(z) − y)/n
                delta[i][j] = ((s[j] + A(y[i][j])) if absolute else (s[j] - y[i][j])) / n
    return delta


def ref_gradients(net, X, y, absolute=False):
    """Gradients by the recursion, as loops; with absolute=True, Σ|terms| instead.

    The absolute version bounds the size of every sum the real one adds up,
    so c·eps·(it) bounds the rounding error of any order of summation.
    """
    zs, activations = ref_forward(net, X)
    A = abs if absolute else (lambda v: v)
    L = len(net.weights)
    delta = ref_output_delta(net, y, zs[-1], activations[-1], absolute)
    grads_w, grads_b = [None] * L, [None] * L
    for l in range(L - 1, -1, -1):
        a, W = activations[l], net.weights[l]
        rows, cols = len(W), len(W[0])
        grads_w[l] = [[sum(A(a[n][i]) * delta[n][j] for n in range(len(a)))
                       for j in range(cols)] for i in range(rows)]
        grads_b[l] = [[sum(delta[n][j] for n in range(len(a))) for j in range(cols)]]
        if l > 0:
            f_prime = REF_F_PRIME[net.activation]
            z_prev = zs[l - 1]
            delta = [[sum(delta[n][k] * A(W[j][k]) for k in range(cols))
                      * A(f_prime(z_prev[n][j], a[n][j]))
                      for j in range(rows)] for n in range(len(a))]
    return {"weights": grads_w, "biases": grads_b}


def entries(matrix):
    return [v for row in matrix for v in row]


def state(net):
    return copy.deepcopy(vars(net))


# -- construction --------------------------------------------------------------


def test_shapes_follow_sizes():
    """weights[l] is sizes[l] × sizes[l+1]; biases[l] is 1 × sizes[l+1], zero."""
    net = Network([3, 5, 4, 2], seed=1)
    assert [(len(w), len(w[0])) for w in net.weights] == [(3, 5), (5, 4), (4, 2)]
    assert net.biases == [[[0.0] * 5], [[0.0] * 4], [[0.0] * 2]]
    assert net.depth == 3


def test_normal_init_equals_the_tutorial_class_draws():
    """init="normal" draws what NeuralNetwork draws from the same seed."""
    net, tut = Network([2, 4, 1], seed=9), NeuralNetwork(2, 4, 1, seed=9)
    assert net.weights == [tut.weights_input_hidden, tut.weights_hidden_output]


@pytest.mark.parametrize("init, std", [
    ("normal", lambda i, o: 1.0),
    ("xavier", lambda i, o: math.sqrt(2.0 / (i + o))),
    ("he", lambda i, o: math.sqrt(2.0 / i)),
])
def test_init_scales_have_the_documented_spread(init, std):
    """Each init's sample standard deviation is within 3% of its formula (60,000 draws).

    The sample std of N normal draws has relative standard error 1/√(2N) ≈ 0.3%,
    so 3% is ten standard errors: it cannot fail by chance, but a wrong
    formula (fan_out for fan_in, a missing factor 2) is off by far more.
    """
    net = Network([200, 300, 100], init=init, seed=4)
    for w, (fan_in, fan_out) in zip(net.weights, [(200, 300), (300, 100)]):
        values = entries(w)
        mean = sum(values) / len(values)
        sample_std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
        assert sample_std == pytest.approx(std(fan_in, fan_out), rel=0.03)
        assert abs(mean) < 5 * std(fan_in, fan_out) / math.sqrt(len(values))


def test_same_seed_same_network():
    """One seed, one network, bit for bit; another seed, another network."""
    a, b, c = (Network([2, 3, 2], "tanh", init="xavier", seed=s) for s in (5, 5, 6))
    assert a.weights == b.weights and a.weights != c.weights


def test_output_activation_defaults_to_activation_and_repr_reads_like_constructor():
    """output_activation=None means the hidden activation; repr shows every choice."""
    net = Network([2, 3, 1], "tanh", loss="mse", init="he", seed=0)
    assert net.output_activation == "tanh"
    assert repr(net) == ("Network([2, 3, 1], activation='tanh', output_activation='tanh',"
                         " loss='mse', init='he')")


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize(("loss", "expected"), [
    ("bce", "sigmoid"), ("cross_entropy", "softmax"), ("mse", None), ("half_sse", None)])
def test_output_activation_defaults_to_what_the_loss_needs(activation, loss, expected):
    """output_activation=None gives bce a sigmoid and cross_entropy a softmax, else the hidden one."""
    net = Network([2, 3, 2], activation, loss=loss, seed=0)
    assert net.output_activation == (activation if expected is None else expected)


# -- forward, loss, gradients against the reference -----------------------------


@given(general_cases())
def test_forward_matches_loops_and_keeps_every_layer(case):
    """forward returns the last activation and keeps zs and activations as the loops do."""
    net, X, _ = case
    zs, activations = ref_forward(net, X)
    out = net.forward(X)
    assert out == net.activations[-1]
    assert len(net.zs) == net.depth and len(net.activations) == net.depth + 1
    for got, want in zip(net.activations, activations):
        assert entries(got) == pytest.approx(entries(want), rel=1e-12, abs=1e-300)
    for got, want in zip(net.zs, zs):
        assert entries(got) == pytest.approx(entries(want), rel=1e-12, abs=1e-12)


@given(general_cases())
def test_loss_equals_its_formula(case):
    """net.loss equals the loss written out in the test, to 1e-12 relative."""
    net, X, y = case
    assert net.loss(X, y) == pytest.approx(ref_loss(net, X, y), rel=1e-12, abs=1e-300)


@given(general_cases())
def test_gradients_equal_the_loop_reference(case):
    """gradients() equals the per-element reference to 1e-12 of Σ|terms|.

    Both sides sum the same terms, possibly in another order and with other
    roundings: a few dozen eps times Σ|terms| at most, for depth ≤ 4 and
    widths ≤ 6. A wrong derivative, loss gradient or index is far outside.
    """
    check_against_reference(*case)


def check_against_reference(net, X, y):
    got = net.gradients(X, y)
    want = ref_gradients(net, X, y)
    scale = ref_gradients(net, X, y, absolute=True)
    for kind in ("weights", "biases"):
        assert len(got[kind]) == net.depth
        for l in range(net.depth):
            g, w, s = got[kind][l], want[kind][l], scale[kind][l]
            assert (len(g), len(g[0])) == (len(w), len(w[0])), (kind, l)
            for a, b, c in zip(entries(g), entries(w), entries(s)):
                assert abs(a - b) <= 1e-12 * c + 1e-300, (kind, l, a, b, c)


def _kink_signs(net, X):
    """The sign pattern of every relu / leaky_relu pre-activation."""
    zs, _ = ref_forward(net, X)
    kinked = [net.output_activation if l == net.depth - 1 else net.activation
              for l in range(net.depth)]
    return [[[v > 0 for v in row] for row in z] for z, name in zip(zs, kinked)
            if name in ("relu", "leaky_relu")]


@given(general_cases())
def test_gradients_agree_with_central_differences(case):
    """gradients() agrees with (L(θ+h) − L(θ−h)) / 2h for h = 1e-6, away from kinks.

    Rounding in the loss contributes about 20·eps·|L|/h ≈ 4.4e-9·|L|; the
    truncation error h²/6·|L'''| is below 1e-12·|L'''|. With weights ≤ 1.5,
    inputs ≤ 2, depth ≤ 4 both stay well under the bound
    1e-6·max(1, |L|, |g|). Entries where a relu unit crosses its kink
    between θ−h and θ+h are skipped: there the difference quotient does not
    estimate a derivative.
    """
    check_against_central_differences(*case)


def check_against_central_differences(net, X, y):
    h = 1e-6
    grads = net.gradients(X, y)
    loss = net.loss(X, y)
    signs = _kink_signs(net, X)
    for kind in ("weights", "biases"):
        for l in range(net.depth):
            for r, row in enumerate(grads[kind][l]):
                for c, g in enumerate(row):
                    plus, minus = copy.deepcopy(net), copy.deepcopy(net)
                    getattr(plus, kind)[l][r][c] += h
                    getattr(minus, kind)[l][r][c] -= h
                    if _kink_signs(plus, X) != signs or _kink_signs(minus, X) != signs:
                        continue
                    fd = (plus.loss(X, y) - minus.loss(X, y)) / (2 * h)
                    bound = 1e-6 * max(1.0, abs(loss), abs(g))
                    assert abs(fd - g) <= bound, (kind, l, r, c, fd, g)


# -- equivalence with the tutorial's class ---------------------------------------


@given(cases())
def test_network_equals_the_tutorial_class_bit_for_bit(case):
    """Network([i, h, o]) with sigmoid and half_sse gives NeuralNetwork's numbers exactly."""
    tut, X, y = case
    net = Network([tut.input_size, tut.hidden_size, tut.output_size], seed=0)
    net.weights = [tut.weights_input_hidden, tut.weights_hidden_output]
    net.biases = [tut.bias_hidden, tut.bias_output]
    assert net.forward(X) == tut.feedforward(X)
    g, t = net.gradients(X, y), tut.gradients(X, y)
    assert g["weights"] == [t["weights_input_hidden"], t["weights_hidden_output"]]
    assert g["biases"] == [t["bias_hidden"], t["bias_output"]]


def test_training_equals_the_tutorial_class_bit_for_bit():
    """1000 epochs of Network.train end on NeuralNetwork.train's weights exactly."""
    tut, net = NeuralNetwork(2, 4, 1, seed=3), Network([2, 4, 1], seed=3)
    tut_losses = tut.train(XOR_X, XOR_Y, 1000, 0.1, log=None)
    net_losses = net.train(XOR_X, XOR_Y, 1000, 0.1, log=None)
    assert net.weights == [tut.weights_input_hidden, tut.weights_hidden_output]
    assert net.biases == [tut.bias_hidden, tut.bias_output]
    # The tutorial logs the MSE; half_sse is ½·SSE = MSE·n·k/2 = 2·MSE here.
    assert net_losses == pytest.approx([2 * v for v in tut_losses], rel=1e-14)


# -- laws -------------------------------------------------------------------------


@given(general_cases())
def test_a_small_step_lowers_the_loss(case):
    """A step of learning rate η, small against the gradient, lowers the loss."""
    net, X, y = case
    grads = net.gradients(X, y)
    norm2 = sum(v * v for kind in ("weights", "biases") for m in grads[kind] for v in entries(m))
    before = net.loss(X, y)
    assume(norm2 > 1e-10 * (1 + abs(before)))
    # Keep the step at 1e-3 of the gradient's size, where the first-order
    # decrease η·|g|² dominates the second-order term and the rounding of the loss.
    eta = 1e-3 / (1 + math.sqrt(norm2))
    assume(eta * norm2 > 1e-9 * (1 + abs(before)))
    kinks = _kink_signs(net, X)
    net.step(X, y, eta)
    assume(_kink_signs(net, X) == kinks)  # crossing a kink may change the slope
    assert net.loss(X, y) < before


@given(general_cases())
def test_batch_gradient_is_the_combination_of_sample_gradients(case):
    """A batch's gradient is the sum (half_sse) or the mean (others) of its samples'."""
    net, X, y = case
    whole = net.gradients(X, y)
    parts = [net.gradients([x], [t]) for x, t in zip(X, y)]
    weight = 1.0 if net.loss_name == "half_sse" else 1.0 / len(X)
    for kind in ("weights", "biases"):
        for l in range(net.depth):
            combined = [weight * sum(entries(p[kind][l])[e] for p in parts)
                        for e in range(len(entries(whole[kind][l])))]
            scale = [weight * sum(abs(entries(p[kind][l])[e]) for p in parts)
                     for e in range(len(entries(whole[kind][l])))]
            for g, s, c in zip(entries(whole[kind][l]), combined, scale):
                assert abs(g - s) <= 1e-12 * c + 1e-300


@given(general_cases(), st.randoms(use_true_random=False))
def test_permuting_hidden_units_permutes_gradients(case, rng):
    """Relabelling the units of one hidden layer relabels the gradients the same way."""
    net, X, y = case
    assume(net.depth >= 2)
    l = rng.randrange(net.depth - 1)  # the layer whose outputs are permuted
    perm = list(range(net.sizes[l + 1]))
    rng.shuffle(perm)
    other = copy.deepcopy(net)
    other.weights[l] = [[row[p] for p in perm] for row in net.weights[l]]
    other.biases[l] = [[net.biases[l][0][p] for p in perm]]
    other.weights[l + 1] = [net.weights[l + 1][p] for p in perm]
    g, g_perm = net.gradients(X, y), other.gradients(X, y)
    expected_w = copy.deepcopy(g["weights"])
    expected_b = copy.deepcopy(g["biases"])
    expected_w[l] = [[row[p] for p in perm] for row in g["weights"][l]]
    expected_b[l] = [[g["biases"][l][0][p] for p in perm]]
    expected_w[l + 1] = [g["weights"][l + 1][p] for p in perm]
    scale = ref_gradients(other, X, y, absolute=True)
    for kind, expected in (("weights", expected_w), ("biases", expected_b)):
        for m in range(net.depth):
            for a, b, c in zip(entries(g_perm[kind][m]), entries(expected[m]),
                               entries(scale[kind][m])):
                # the next layer adds the units in another order: rounding only
                assert abs(a - b) <= 1e-11 * c + 1e-300, (kind, m)


@given(general_cases())
def test_gradients_and_loss_change_nothing(case):
    """gradients() and loss() leave every attribute as it was, even the last forward's."""
    net, X, y = case
    net.forward(X[:1])
    before = state(net)
    net.gradients(X, y)
    net.loss(X, y)
    after = state(net)
    assert after["weights"] == before["weights"] and after["zs"] == before["zs"]
    assert after["rng"].getstate() == before["rng"].getstate()
    assert {k: v for k, v in after.items() if k != "rng"} == \
        {k: v for k, v in before.items() if k != "rng"}


@given(general_cases())
def test_learning_rate_zero_changes_no_parameter(case):
    """A step with learning rate 0 leaves weights and biases exactly as they were."""
    net, X, y = case
    weights, biases = copy.deepcopy(net.weights), copy.deepcopy(net.biases)
    net.step(X, y, 0.0)
    assert net.weights == weights and net.biases == biases


@given(general_cases(), st.floats(0, 2))
def test_step_moves_each_parameter_by_minus_lr_times_gradient_and_returns_the_loss(case, lr):
    """step subtracts learning_rate × gradient from every parameter and returns the old loss."""
    net, X, y = case
    grads, loss = net.gradients(X, y), net.loss(X, y)
    before = copy.deepcopy(net)
    assert net.step(X, y, lr) == loss
    for kind in ("weights", "biases"):
        for l in range(net.depth):
            want = [p - lr * g for p, g in zip(entries(getattr(before, kind)[l]),
                                                 entries(grads[kind][l]))]
            assert entries(getattr(net, kind)[l]) == want


@given(general_cases(), st.floats(0, 1), st.floats(0, 1))
def test_weight_decay_reaches_every_weight_and_every_bias(case, lr, wd):
    """SGD(lr, weight_decay=λ): every parameter, biases included (as torch decays whatever it is
    given), moves by −lr·(∂loss/∂p + λ·p); trace shows it and changes nothing, step takes it."""
    net, X, y = case
    grads, before = net.gradients(X, y), copy.deepcopy(net)
    optimizer = SGD(lr, weight_decay=wd)
    traced = net.trace(X, y, optimizer=optimizer)
    assert optimizer.state == {"step": 0} and net.weights == before.weights
    net.step(X, y, optimizer=optimizer)
    assert net.optimizer is optimizer and optimizer.state["step"] == 1
    for kind in ("weights", "biases"):
        for l in range(net.depth):
            want = [p - lr * (g + wd * p) for p, g in zip(entries(getattr(before, kind)[l]),
                                                           entries(grads[kind][l]))]
            assert entries(getattr(net, kind)[l]) == want
            assert entries(traced["updated"][kind][l]) == want


@given(general_cases(max_depth=3))
def test_step_with_an_optimizer_hands_it_the_parameters_weights_first_row_by_row(case):
    """The optimizer sees one flat list: every weights[l] row by row, then every biases[l]; and
    its gradients in the same order (Adam's first m is (1 − β1)·g)."""
    net, X, y = case
    grads = net.gradients(X, y)
    optimizer = Adam(0.01, betas=(0.5, 0.999))
    flat_p = [x for W in net.weights for row in W for x in row] + [x for B in net.biases
                                                                   for x in B[0]]
    flat_g = [x for W in grads["weights"] for row in W for x in row] + [x for B in grads["biases"]
                                                                        for x in B[0]]
    want = Adam(0.01, betas=(0.5, 0.999)).update(flat_p, flat_g)
    net.step(X, y, optimizer=optimizer)
    assert optimizer.state["exp_avg"] == [0.5 * g for g in flat_g]
    assert [x for W in net.weights for row in W for x in row] + [x for B in net.biases
                                                                 for x in B[0]] == want


# -- training ---------------------------------------------------------------------


def moons_like(seed, n=24):
    rng = random.Random(seed)
    X = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(n)]
    y = [[1.0 if a * b > 0 else 0.0] for a, b in X]
    return X, y


@given(st.integers(0, 2 ** 32), st.integers(1, 10), st.sampled_from(OUTPUT_AND_LOSS[:5]
                                                                      + OUTPUT_AND_LOSS[-2:-1]))
@settings(max_examples=20)
def test_mini_batch_training_is_reproducible_bit_for_bit(seed, batch_size, output_and_loss):
    """Two networks with one seed, trained on mini-batches, end bit for bit equal."""
    X, y = moons_like(seed)
    output, loss = output_and_loss
    if loss != "bce":
        y = [[2 * t - 1] for (t,) in y] if output in ("tanh", "identity") else y
    runs = []
    for _ in range(2):
        net = Network([2, 5, 1], "tanh", output, loss, "xavier", seed=seed)
        losses = net.train(X, y, 5, 0.1, batch_size=batch_size, log=None)
        runs.append((net.weights, net.biases, losses, net.rng.getstate()))
    assert runs[0] == runs[1]


def test_mini_batches_shuffle_with_the_networks_rng():
    """Different seeds shuffle differently; the shuffle draws come from net.rng."""
    X, y = moons_like(1)
    a, b = Network([2, 3, 1], seed=1), Network([2, 3, 1], seed=2)
    b.weights, b.biases = copy.deepcopy(a.weights), copy.deepcopy(a.biases)
    a.train(X, y, 3, 0.5, batch_size=4, log=None)
    b.train(X, y, 3, 0.5, batch_size=4, log=None)
    assert a.weights != b.weights  # same start, other order of batches
    # Reproducing the shuffles by hand gives the same training.
    c = Network([2, 3, 1], seed=1)
    rng = random.Random(1)
    for _ in range(2 * 3 + 3 * 1):
        rng.gauss(0.0, 1.0)
    for _ in range(3):
        order = list(range(len(X)))
        rng.shuffle(order)
        for start in range(0, len(X), 4):
            rows = order[start:start + 4]
            c.step([X[i] for i in rows], [y[i] for i in rows], 0.5)
    assert c.weights == a.weights


@pytest.mark.parametrize("output, loss", [("sigmoid", "half_sse"), ("sigmoid", "mse"),
                                          ("sigmoid", "bce"), ("softmax", "cross_entropy")])
def test_epoch_loss_of_mini_batches_is_the_data_sets_loss_when_nothing_moves(output, loss):
    """With learning rate 0 the epoch loss from mini-batches equals the full-batch loss."""
    X, y = moons_like(3, n=23)
    if loss == "cross_entropy":
        y = [[1.0 - t, t] for (t,) in y]
    net = Network([2, 4, len(y[0])], "tanh", output, loss, seed=3)
    (epoch_loss,) = net.train(X, y, 1, 0.0, batch_size=5, log=None)
    assert epoch_loss == pytest.approx(net.loss(X, y), rel=1e-12)


def test_train_logs_the_epoch_loss_in_the_tutorials_format():
    """train logs 'Epoch N, Loss: x.xxxx' every log_every epochs with that epoch's loss."""
    net = Network([2, 4, 1], "tanh", "sigmoid", "bce", seed=2)
    lines = []
    losses = net.train(XOR_X, XOR_Y, 25, 0.3, log_every=10, log=lines.append)
    assert lines == [f"Epoch {e}, Loss: {losses[e]:.4f}" for e in (0, 10, 20)]
    # The first epoch's loss is the loss of the untrained network, computed independently.
    fresh = Network([2, 4, 1], "tanh", "sigmoid", "bce", seed=2)
    assert losses[0] == pytest.approx(ref_loss(fresh, XOR_X, XOR_Y), rel=1e-12)


@pytest.mark.parametrize("activation, output, loss, init, lr", [
    ("sigmoid", "sigmoid", "half_sse", "normal", 0.5),
    ("tanh", "sigmoid", "bce", "xavier", 0.5),
    ("relu", "softmax", "cross_entropy", "he", 0.2),
    ("leaky_relu", "identity", "mse", "he", 0.05),
])
def test_every_family_learns_xor(activation, output, loss, init, lr):
    """Each kind of network reaches 100% on XOR within 3000 epochs."""
    y = XOR_Y
    if loss == "cross_entropy":
        y = [[1 - t, t] for (t,) in XOR_Y]
    net = Network([2, 8, len(y[0])], activation, output, loss, init, seed=1)
    losses = net.train(XOR_X, y, 3000, lr, log=None)
    assert net.accuracy(XOR_X, y) == 1.0
    assert losses[-1] < losses[0]


# -- bad input ---------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("args, kwargs, words", [
    (([2, 0, 1],), {}, "sizes[1]"),
    (([2, -3, 1],), {}, "sizes[1]"),
    (([2],), {}, "sizes must hold at least two sizes, an input and an output size, got [2]"),
    (("2,4,1",), {}, "sizes must be a list"),
    (([2, 4.0, 1],), {}, "sizes[1]"),
    (([2, True, 1],), {}, "sizes[1]"),
    (([2, 4, 1],), {"activation": "swish"}, "unknown activation 'swish'"),
    (([2, 4, 1],), {"activation": "softmax"}, "activation"),
    (([2, 4, 1],), {"output_activation": "gelu"}, "output_activation"),
    (([2, 4, 1],), {"loss": "hinge"}, "unknown loss 'hinge'"),
    (([2, 4, 1],), {"loss": None}, "loss"),
    (([2, 4, 1],), {"init": "orthogonal"}, "init"),
    (([2, 4, 1],), {"loss": "bce", "output_activation": "identity"},
     "output_activation must be 'sigmoid' for loss='bce', got 'identity'"),
    (([2, 4, 2],), {"loss": "cross_entropy", "output_activation": "sigmoid"},
     "output_activation must be 'softmax' for loss='cross_entropy', got 'sigmoid'"),
    (([2, 4, 2],), {"output_activation": "softmax"},
     "loss must be 'cross_entropy' for output_activation='softmax', got 'half_sse'"),
    (([2, 4, 1],), {"seed": 1.5}, "seed"),
])
def test_constructor_refuses_bad_arguments_naming_them(args, kwargs, words):
    """Unknown names, bad sizes and disallowed pairs are refused with a clear message."""
    with pytest.raises((ValueError, TypeError)) as info:
        Network(*args, **kwargs)
    assert words in str(info.value)


def _bce_net():
    return Network([2, 3, 1], "tanh", "sigmoid", "bce", seed=0)


def _ce_net():
    return Network([2, 3, 3], "tanh", "softmax", "cross_entropy", seed=0)


BAD_CALLS = [
    ("ragged X", _bce_net, lambda n: n.forward([[0, 0], [1]]), "X[1]"),
    ("X too wide", _bce_net, lambda n: n.forward([[0, 0, 0]]), "sizes[0]"),
    ("empty X", _bce_net, lambda n: n.loss([], []), "X is empty"),
    ("NaN in X", _bce_net, lambda n: n.gradients([[NAN, 0]], [[0]]), "X[0][0]"),
    ("string in y", _bce_net, lambda n: n.gradients([[0, 0]], [["1"]]), "y[0][0]"),
    ("y rows differ", _bce_net, lambda n: n.step(XOR_X, XOR_Y[:2], 0.1), "y has 2 rows, expected 4 like X"),
    ("y too wide", _bce_net, lambda n: n.loss([[0, 0]], [[0, 1]]), "sizes[-1]"),
    ("bce target 2", _bce_net, lambda n: n.gradients([[0, 0]], [[2]]),
     "y[0][0] must lie in [0, 1] for loss='bce', got 2.0"),
    ("bce target -0.5", _bce_net, lambda n: n.train([[0, 0]], [[-0.5]], 1, 0.1), "y[0][0]"),
    ("ce row sums to 2", _ce_net, lambda n: n.gradients([[0, 0]], [[1, 1, 0]]),
     "y[0] must sum to 1 for loss='cross_entropy' (class probabilities: one-hot, say), got a sum of 2.0"),
    ("ce negative", _ce_net, lambda n: n.loss([[0, 0]], [[1.5, -0.5, 0]]),
     "y[0] must hold class probabilities in [0, 1] for loss='cross_entropy', got [1.5, -0.5, 0.0]"),
    ("lr inf", _bce_net, lambda n: n.train(XOR_X, XOR_Y, 1, INF), "learning_rate"),
    ("lr negative", _bce_net, lambda n: n.step(XOR_X, XOR_Y, -1), "learning_rate"),
    ("epochs negative", _bce_net, lambda n: n.train(XOR_X, XOR_Y, -2, 0.1), "epochs"),
    ("batch_size 0", _bce_net, lambda n: n.train(XOR_X, XOR_Y, 1, 0.1, batch_size=0), "batch_size"),
    ("batch_size str", _bce_net, lambda n: n.train(XOR_X, XOR_Y, 1, 0.1, batch_size="4"),
     "batch_size"),
    ("log not callable", _bce_net, lambda n: n.train(XOR_X, XOR_Y, 1, 0.1, log=3), "log"),
]


@pytest.mark.parametrize("what, make, call, words", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_input_is_refused_clearly_and_changes_nothing(what, make, call, words):
    """Each malformed call raises ValueError/TypeError naming the problem; the network is unchanged."""
    net = make()
    before = state(net)
    with pytest.raises((ValueError, TypeError)) as info:
        call(net)
    assert words in str(info.value), str(info.value)
    after = state(net)
    assert after["rng"].getstate() == before["rng"].getstate()
    after.pop("rng"), before.pop("rng")
    assert after == before


@pytest.mark.parametrize("mutate, words", [
    (lambda n: n.weights.pop(), "weights has 1 matrices, expected 2 (one per layer)"),
    (lambda n: n.weights.__setitem__(0, [[0.0] * 3]), "weights[0] has 1 rows, expected 2"),
    (lambda n: n.biases.__setitem__(1, [[0.0, 0.0]]), "biases[1][0] has 2 entries, expected 1"),
    (lambda n: n.biases.__setitem__(0, [[0.0, NAN, 0.0]]), "biases[0][0][1] must be finite"),
])
def test_assigned_parameters_of_the_wrong_shape_are_named(mutate, words):
    """A caller's weights or biases of the wrong shape or value are refused when used."""
    net = _bce_net()
    mutate(net)
    with pytest.raises((ValueError, TypeError)) as info:
        net.loss(XOR_X, XOR_Y)
    assert words in str(info.value)


# -- every allowed pair, explicitly ---------------------------------------------------

ALL_PAIRS = [(hidden, output, loss) for hidden in ELEMENTWISE for output, loss in OUTPUT_AND_LOSS]


@pytest.mark.parametrize("hidden, output, loss", ALL_PAIRS,
                         ids=[f"{h}-{o}-{l}" for h, o, l in ALL_PAIRS])
@settings(max_examples=5)
@given(data=st.data())
def test_every_allowed_combination_matches_reference_and_finite_differences(
        hidden, output, loss, data):
    """For each hidden activation × (output, loss) pair: reference gradients and differences agree."""
    case = data.draw(general_cases(activation=hidden, output_and_loss=(output, loss), max_depth=3))
    check_against_reference(*case)
    check_against_central_differences(*case)


# -- PyTorch, when it is installed -----------------------------------------------------


def torch_loss_and_gradients(net, X, y):
    """The same network in float64 PyTorch: (loss, weight gradients, bias gradients)."""
    torch = pytest.importorskip("torch")
    f = {"identity": lambda t: t, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
         "relu": torch.relu, "leaky_relu": torch.nn.functional.leaky_relu}
    Ws = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in net.weights]
    bs = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in net.biases]
    a = torch.tensor(X, dtype=torch.float64)
    target = torch.tensor(y, dtype=torch.float64)
    for l, (W, b) in enumerate(zip(Ws, bs)):
        z = a @ W + b
        last = l == len(Ws) - 1
        if last and net.loss_name in ("bce", "cross_entropy"):
            break
        a = f[net.output_activation if last else net.activation](z)
    if net.loss_name == "half_sse":
        loss = 0.5 * ((a - target) ** 2).sum()
    elif net.loss_name == "mse":
        loss = torch.nn.MSELoss()(a, target)
    elif net.loss_name == "bce":
        loss = torch.nn.BCEWithLogitsLoss()(z, target)
    else:
        loss = torch.nn.CrossEntropyLoss()(z, target)
    loss.backward()
    return (loss.item(), [W.grad.tolist() for W in Ws], [b.grad.tolist() for b in bs])


@settings(max_examples=50)
@given(general_cases())
def test_loss_and_gradients_match_pytorch_autograd(case):
    """PyTorch's float64 autograd and purebp both pass the oracle's float64 check of the same
    case against its 50-digit truth (skipped without torch).

    Both are correct float64 computations that round differently; the
    oracle's tolerance is what rounding can explain, forward cancellation
    included. (A bound of 1e-11 of the backward Σ|terms| alone is not: deep
    identity layers with a tanh output moved a gradient by 4e-11 of itself.)
    """
    net, X, y = case
    loss, grad_w, grad_b = torch_loss_and_gradients(net, X, y)
    truth = vectors.complete(vectors._case("torch", "one network", net, X, y, 0.1, steps=1))
    results = {"torch": {"loss": loss, "gradients": {"weights": grad_w, "biases": grad_b}},
               "purebp": {"loss": net.loss(X, y), "gradients": net.gradients(X, y)}}
    for who, result in results.items():
        verdict = oracle.compare(truth, result, require=["loss", "gradients"])
        assert verdict.passed, (who, verdict)


def test_accuracy_counts_an_output_of_exactly_one_half_as_class_0():
    """With one output, ŷ = 0.5 is class 0: the threshold is strict."""
    net = Network([2, 1, 1], seed=0)
    net.weights = [[[0.0], [0.0]], [[0.0]]]  # every output is σ(0) = 0.5
    assert net.forward(XOR_X) == [[0.5]] * 4
    assert net.accuracy(XOR_X, [[0.0]] * 4) == 1.0
    assert net.accuracy(XOR_X, [[1.0]] * 4) == 0.0


@pytest.mark.parametrize("sizes, output, loss", [([2, 4, 1], "sigmoid", "bce"),
                                                 ([2, 4, 3], "softmax", "cross_entropy")])
def test_softmax_is_refused_as_a_hidden_activation(sizes, output, loss):
    """softmax as the hidden activation is refused, whatever the output layer is."""
    with pytest.raises(ValueError, match="unknown activation 'softmax'"):
        Network(sizes, "softmax", output, loss)


# -- numpy arrays as parameters and data ------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_numpy_weights_are_computed_in_float64_at_their_exact_values(dtype):
    """A layer's weights assigned as a float32 or float16 array compute in float64.

    The outputs, the gradients and a step equal, bit for bit, those of the
    same values given as lists, and the gradients are Python floats, not
    numpy scalars of the low precision.
    """
    np = pytest.importorskip("numpy")
    X = np.array([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]], dtype=dtype)
    y = [[1.0], [0.0], [1.0]]
    arrays = Network([2, 3, 1], "tanh", "sigmoid", "bce", seed=4)
    lists = Network([2, 3, 1], "tanh", "sigmoid", "bce", seed=4)
    arrays.weights = [np.array(w, dtype=dtype) for w in arrays.weights]
    lists.weights = [w.tolist() for w in arrays.weights]
    arrays.biases[1] = np.array(arrays.biases[1], dtype=dtype)
    lists.biases[1] = arrays.biases[1].tolist()
    assert arrays.forward(X) == lists.forward(X.tolist())
    grads = arrays.gradients(X, y)
    assert grads == lists.gradients(X.tolist(), y)
    assert all(type(v) is float for m in grads["weights"] for row in m for v in row)
    assert arrays.step(X, y, 0.1) == lists.step(X.tolist(), y, 0.1)
    assert arrays.weights == lists.weights
