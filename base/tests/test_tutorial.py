"""Tests for purebp.tutorial: the tutorial's network, its gradients and its training.

The gradients are checked three independent ways: against the closed forms
derived by hand and written below as plain index loops (no purebp.matrix), against
central finite differences of E in floats, and against finite differences
of E computed with 50-digit decimals. Then the laws any correct gradient obeys,
then bad input.
"""

import copy
import math
import random
import re
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import cases

from purebp import NeuralNetwork

XOR_X = [[0, 0], [0, 1], [1, 0], [1, 1]]
XOR_Y = [[0], [1], [1], [0]]
NAMES = ("weights_input_hidden", "weights_hidden_output", "bias_hidden", "bias_output")


# -- an independent reference, written as plain loops ------------------------


def ref_sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def ref_forward(net, X):
    """Return (h, ŷ) by index loops: h_nj = σ(Σ_i x_ni W1_ij + b1_j), ŷ likewise."""
    W1, b1 = net.weights_input_hidden, net.bias_hidden[0]
    W2, b2 = net.weights_hidden_output, net.bias_output[0]
    I, J, K = net.input_size, net.hidden_size, net.output_size
    h = [[ref_sigmoid(b1[j] + sum(x[i] * W1[i][j] for i in range(I))) for j in range(J)]
         for x in X]
    yhat = [[ref_sigmoid(b2[k] + sum(hn[j] * W2[j][k] for j in range(J))) for k in range(K)]
            for hn in h]
    return h, yhat


def ref_E(net, X, y):
    """E = ½ Σ_n Σ_k (y_nk − ŷ_nk)², by loops."""
    _, yhat = ref_forward(net, X)
    return 0.5 * sum((y[n][k] - yhat[n][k]) ** 2
                     for n in range(len(X)) for k in range(net.output_size))


def ref_gradients(net, X, y):
    """The hand-derived closed forms, each entry with Σ|terms| beside it.

    Returns {name: (gradient, scale)} where scale[r][c] is the sum of the
    absolute values of the terms that make up gradient[r][c] (the size of the
    rounding error any order of summation can make is eps times that).

      ∂E/∂W2[j][k] = Σ_n (ŷ_nk − y_nk)·ŷ_nk·(1 − ŷ_nk)·h_nj
      ∂E/∂b2[k]    = Σ_n (ŷ_nk − y_nk)·ŷ_nk·(1 − ŷ_nk)
      ∂E/∂W1[i][j] = Σ_n Σ_k (ŷ_nk − y_nk)·ŷ_nk·(1 − ŷ_nk)·W2[j][k]·h_nj·(1 − h_nj)·x_ni
      ∂E/∂b1[j]    = Σ_n Σ_k (ŷ_nk − y_nk)·ŷ_nk·(1 − ŷ_nk)·W2[j][k]·h_nj·(1 − h_nj)
    """
    h, yhat = ref_forward(net, X)
    W2 = net.weights_hidden_output
    I, J, K, N = net.input_size, net.hidden_size, net.output_size, len(X)

    def entry(terms):
        terms = list(terms)
        return sum(terms), sum(abs(t) for t in terms)

    def out(n, k):
        return (yhat[n][k] - y[n][k]) * yhat[n][k] * (1 - yhat[n][k])

    def hid(n, j, k):
        return out(n, k) * W2[j][k] * h[n][j] * (1 - h[n][j])

    table = {
        "weights_hidden_output": [[entry(out(n, k) * h[n][j] for n in range(N))
                                   for k in range(K)] for j in range(J)],
        "bias_output": [[entry(out(n, k) for n in range(N)) for k in range(K)]],
        "weights_input_hidden": [[entry(hid(n, j, k) * X[n][i]
                                        for n in range(N) for k in range(K))
                                  for j in range(J)] for i in range(I)],
        "bias_hidden": [[entry(hid(n, j, k) for n in range(N) for k in range(K))
                         for j in range(J)]],
    }
    return {name: ([[g for g, _ in row] for row in rows], [[s for _, s in row] for row in rows])
            for name, rows in table.items()}


def params_of(net):
    return {name: copy.deepcopy(getattr(net, name)) for name in NAMES}


def entries(matrix):
    return [a for row in matrix for a in row]


# -- construction ------------------------------------------------------------


def test_shapes_and_zero_biases():
    """The four parameters have the tutorial's shapes; biases start at zero."""
    net = NeuralNetwork(3, 5, 2, seed=1)
    assert [len(net.weights_input_hidden), len(net.weights_input_hidden[0])] == [3, 5]
    assert [len(net.weights_hidden_output), len(net.weights_hidden_output[0])] == [5, 2]
    assert net.bias_hidden == [[0.0] * 5]
    assert net.bias_output == [[0.0] * 2]
    assert all(type(a) is float for name in NAMES for a in entries(getattr(net, name)))


def test_weights_are_standard_normal_draws_in_documented_order():
    """Weights are random.Random(seed).gauss(0, 1) draws, W1 row by row, then W2."""
    rng = random.Random(42)
    draws = [rng.gauss(0.0, 1.0) for _ in range(2 * 4 + 4 * 1)]
    net = NeuralNetwork(2, 4, 1, seed=42)
    assert entries(net.weights_input_hidden) + entries(net.weights_hidden_output) == draws


def test_same_seed_same_network_other_seed_other_network():
    """One seed gives one network bit for bit; another seed gives another."""
    a, b, c = (NeuralNetwork(2, 4, 1, seed=s) for s in (7, 7, 8))
    assert params_of(a) == params_of(b)
    assert params_of(a) != params_of(c)


def test_repr_reads_like_the_constructor():
    """repr names the class and the three sizes."""
    assert repr(NeuralNetwork(2, 4, 1, seed=0)) == (
        "NeuralNetwork(input_size=2, hidden_size=4, output_size=1)")


# -- forward pass ------------------------------------------------------------


@given(cases())
def test_feedforward_matches_loops_and_keeps_intermediates(case):
    """feedforward returns ŷ and keeps z1, h, z2, ŷ, equal to the loop reference."""
    net, X, _ = case
    h, yhat = ref_forward(net, X)
    out = net.feedforward(X)
    assert out is net.predicted_output
    for got, want in ((net.hidden_output, h), (net.predicted_output, yhat)):
        for g, w in zip(entries(got), entries(want)):
            assert g == pytest.approx(w, rel=1e-12, abs=1e-300)
    assert [ref_sigmoid(z) for z in entries(net.hidden_activation)] == pytest.approx(entries(h))
    assert len(net.output_activation) == len(X)


def test_int_and_float_inputs_give_identical_results():
    """X and y of ints give bit for bit what the same values as floats give."""
    net = NeuralNetwork(2, 4, 1, seed=3)
    X_float = [[float(a) for a in row] for row in XOR_X]
    y_float = [[float(a) for a in row] for row in XOR_Y]
    assert net.gradients(XOR_X, XOR_Y) == net.gradients(X_float, y_float)


# -- gradients: three independent checks -------------------------------------


@given(cases())
def test_gradients_equal_hand_derived_closed_forms(case):
    """gradients() equals the closed forms to 1e-12 relative to Σ|terms|.

    Both sides sum at most 8·4 products of a few factors each, so their
    rounding errors are at most a few dozen eps (~1e-14) times Σ|terms|;
    1e-12 leaves a margin, and any wrong factor, sign or index is far outside.
    """
    net, X, y = case
    got = net.gradients(X, y)
    for name, (want, scale) in ref_gradients(net, X, y).items():
        assert len(got[name]) == len(want) and len(got[name][0]) == len(want[0]), name
        for g, w, s in zip(entries(got[name]), entries(want), entries(scale)):
            assert abs(g - w) <= 1e-12 * s + 1e-300, (name, g, w, s)


def nudged(net, name, r, c, delta):
    """A copy of net with parameter name[r][c] moved by delta."""
    other = copy.deepcopy(net)
    getattr(other, name)[r][c] += delta
    return other


@given(cases())
def test_gradients_agree_with_float_central_differences(case):
    """gradients() agrees with (E(θ+h) − E(θ−h)) / 2h within 1e-7, for h = 1e-6.

    The error of a central difference is at most h²/6·|E'''| (truncation)
    plus about eps·|E|/h (rounding). Here |E| ≤ ½·8·4 = 16, so rounding is
    ≤ 2.2e-16·16/1e-6 ≈ 4e-9; with weights ≤ 3 and inputs ≤ 2, |E'''| stays
    below ~1.5e3, so truncation is ≤ 1e-12/6·1.5e3 ≈ 3e-10. The bound 1e-7
    is 20 times their sum.
    """
    net, X, y = case
    h = 1e-6
    grads = net.gradients(X, y)
    for name in NAMES:
        for r, row in enumerate(grads[name]):
            for c, g in enumerate(row):
                fd = (ref_E(nudged(net, name, r, c, h), X, y)
                      - ref_E(nudged(net, name, r, c, -h), X, y)) / (2 * h)
                assert abs(fd - g) <= 1e-7, (name, r, c, fd, g)


def decimal_E(net, X, y):
    """E computed in the current decimal context, every operation in Decimal."""
    def sig(z):
        return 1 / (1 + (-z).exp())

    W1 = [[Decimal(a) for a in row] for row in net.weights_input_hidden]
    W2 = [[Decimal(a) for a in row] for row in net.weights_hidden_output]
    b1 = [Decimal(a) for a in net.bias_hidden[0]]
    b2 = [Decimal(a) for a in net.bias_output[0]]
    E = Decimal(0)
    for x, t in zip(X, y):
        hn = [sig(b1[j] + sum(Decimal(x[i]) * W1[i][j] for i in range(len(x))))
              for j in range(len(b1))]
        for k in range(len(b2)):
            yk = sig(b2[k] + sum(hn[j] * W2[j][k] for j in range(len(hn))))
            E += (Decimal(t[k]) - yk) ** 2
    return E / 2


@settings(max_examples=15)
@given(cases())
def test_gradients_agree_with_50_digit_finite_differences(case):
    """gradients() agrees within 1e-10 with central differences done in 50 digits.

    With 50 significant digits and h = 1e-20 the central difference is
    exact to ~1e-29, so what remains is the float gradient's own rounding:
    at most a few dozen eps times Σ|terms| ≤ ~200, i.e. below 1e-12.
    """
    net, X, y = case
    grads = net.gradients(X, y)
    h = Decimal("1e-20")
    with localcontext() as ctx:
        ctx.prec = 50
        for name in NAMES:
            for r, row in enumerate(grads[name]):
                for c, g in enumerate(row):
                    plus, minus = copy.deepcopy(net), copy.deepcopy(net)
                    getattr(plus, name)[r][c] = Decimal(getattr(net, name)[r][c]) + h
                    getattr(minus, name)[r][c] = Decimal(getattr(net, name)[r][c]) - h
                    fd = (decimal_E(plus, X, y) - decimal_E(minus, X, y)) / (2 * h)
                    assert abs(Decimal(g) - fd) <= Decimal("1e-10"), (name, r, c, g, fd)


# -- laws -----------------------------------------------------------------


@given(cases())
def test_small_step_lowers_E(case):
    """A gradient step of 1e-4 lowers E whenever the gradient is not negligible."""
    net, X, y = case
    grads = net.gradients(X, y)
    norm2 = sum(g * g for name in NAMES for g in entries(grads[name]))
    before = ref_E(net, X, y)
    # Below this, the decrease (≈ 1e-4·|g|²) drowns in the rounding of E.
    if norm2 * 1e-4 <= 1e-12 * (1 + before):
        return
    net.feedforward(X)
    net.backward(X, y, 1e-4)
    assert ref_E(net, X, y) < before


@given(cases())
def test_batch_gradient_is_sum_of_sample_gradients(case):
    """The gradient of a batch is the sum of its samples' gradients."""
    net, X, y = case
    whole = net.gradients(X, y)
    parts = [net.gradients([x], [t]) for x, t in zip(X, y)]
    for name in NAMES:
        summed = [sum(p[name][r][c] for p in parts) for r in range(len(whole[name]))
                  for c in range(len(whole[name][0]))]
        scale = [sum(abs(p[name][r][c]) for p in parts) for r in range(len(whole[name]))
                 for c in range(len(whole[name][0]))]
        for g, s, a in zip(entries(whole[name]), summed, scale):
            assert abs(g - s) <= 1e-13 * a + 1e-300


@given(cases(), st.randoms(use_true_random=False))
def test_permuting_hidden_units_permutes_gradients(case, rng):
    """Relabelling hidden units relabels the gradients the same way."""
    net, X, y = case
    perm = list(range(net.hidden_size))
    rng.shuffle(perm)
    other = copy.deepcopy(net)
    other.weights_input_hidden = [[row[p] for p in perm] for row in net.weights_input_hidden]
    other.bias_hidden = [[net.bias_hidden[0][p] for p in perm]]
    other.weights_hidden_output = [net.weights_hidden_output[p] for p in perm]
    g, g_perm = net.gradients(X, y), other.gradients(X, y)
    expected = {
        "weights_input_hidden": [[row[p] for p in perm] for row in g["weights_input_hidden"]],
        "bias_hidden": [[g["bias_hidden"][0][p] for p in perm]],
        "weights_hidden_output": [g["weights_hidden_output"][p] for p in perm],
        "bias_output": g["bias_output"],
    }
    # z2 adds the hidden units in another order, so allow rounding (1e-12 of Σ|terms|).
    for name in NAMES:
        _, scale = ref_gradients(other, X, y)[name]
        for a, b, s in zip(entries(g_perm[name]), entries(expected[name]), entries(scale)):
            assert abs(a - b) <= 1e-12 * s + 1e-300, name


@given(cases())
def test_learning_rate_zero_changes_nothing(case):
    """backward with learning rate 0 leaves every parameter exactly as it was."""
    net, X, y = case
    before = params_of(net)
    net.feedforward(X)
    net.backward(X, y, 0)
    assert params_of(net) == before


@given(cases())
def test_gradients_leave_the_network_as_it_was(case):
    """gradients() changes no attribute, not even what feedforward kept."""
    net, X, y = case
    net.feedforward(X[:1])
    before = copy.deepcopy(vars(net))
    net.gradients(X, y)
    assert vars(net) == before


@given(cases(), st.floats(0, 10))
def test_backward_moves_each_parameter_by_minus_lr_times_gradient(case, lr):
    """backward subtracts learning_rate × gradient from every parameter."""
    net, X, y = case
    grads = net.gradients(X, y)
    before = params_of(net)
    net.feedforward(X)
    net.backward(X, y, lr)
    for name in NAMES:
        want = [p - lr * g for p, g in zip(entries(before[name]), entries(grads[name]))]
        assert entries(getattr(net, name)) == want


# -- training -------------------------------------------------------------


def ref_train(net, X, y, epochs, lr):
    """Train a copy of net by the closed-form gradients; return (copy, MSE per epoch)."""
    net = copy.deepcopy(net)
    losses = []
    for _ in range(epochs):
        _, yhat = ref_forward(net, X)
        losses.append(sum((t - p) ** 2 for tr, pr in zip(y, yhat) for t, p in zip(tr, pr))
                      / (len(y) * len(y[0])))
        grads = ref_gradients(net, X, y)
        for name in NAMES:
            setattr(net, name, [[p - lr * g for p, g in zip(prow, grow)]
                                for prow, grow in zip(getattr(net, name), grads[name][0])])
    return net, losses


def test_training_follows_the_reference_epoch_by_epoch():
    """50 epochs of train() stay within 1e-12 of training by the closed forms."""
    net = NeuralNetwork(2, 4, 1, seed=5)
    want_net, want_losses = ref_train(net, XOR_X, XOR_Y, 50, 0.1)
    losses = net.train(XOR_X, XOR_Y, 50, 0.1, log=None)
    assert losses == pytest.approx(want_losses, rel=1e-12)
    for name in NAMES:
        assert entries(getattr(net, name)) == pytest.approx(
            entries(getattr(want_net, name)), rel=1e-12, abs=1e-15)


def test_log_lines_have_the_tutorial_format_and_values():
    """train logs 'Epoch N, Loss: x.xxxx' every log_every epochs, with the epoch's MSE."""
    net = NeuralNetwork(2, 4, 1, seed=5)
    _, want_losses = ref_train(net, XOR_X, XOR_Y, 21, 0.1)
    lines = []
    net.train(XOR_X, XOR_Y, 21, 0.1, log_every=10, log=lines.append)
    assert lines == [f"Epoch {e}, Loss: {want_losses[e]:.4f}" for e in (0, 10, 20)]
    assert all(re.fullmatch(r"Epoch \d+, Loss: \d\.\d{4}", line) for line in lines)


def test_log_goes_to_stdout_by_default_and_none_silences(capsys):
    """With no log argument the lines are printed; log=None prints nothing."""
    NeuralNetwork(2, 4, 1, seed=0).train(XOR_X, XOR_Y, 3, 0.1, log_every=2)
    printed = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in printed] == ["Epoch 0", "Epoch 2"]
    NeuralNetwork(2, 4, 1, seed=0).train(XOR_X, XOR_Y, 3, 0.1, log=None)
    assert capsys.readouterr().out == ""


def test_train_returns_one_loss_per_epoch_and_zero_epochs_is_a_no_op():
    """train returns a list of `epochs` losses; 0 epochs changes nothing."""
    net = NeuralNetwork(2, 4, 1, seed=0)
    before = params_of(net)
    assert net.train(XOR_X, XOR_Y, 0, 0.1) == []
    assert params_of(net) == before
    assert len(net.train(XOR_X, XOR_Y, 7, 0.1, log=None)) == 7


def test_training_on_xor_learns_it():
    """The tutorial's set-up (seed 0, 10,000 epochs, lr 0.1) classifies XOR right."""
    net = NeuralNetwork(2, 4, 1, seed=0)
    losses = net.train(XOR_X, XOR_Y, 10_000, 0.1, log=None)
    predictions = [p for (p,) in net.feedforward(XOR_X)]
    assert [int(p > 0.5) for p in predictions] == [t for (t,) in XOR_Y]
    assert losses[-1] < losses[0] / 10


# -- bad input --------------------------------------------------------------

NAN, INF = float("nan"), float("inf")

BAD_CALLS = [
    # (description, call on a fresh 2-4-1 net, words the message must contain)
    ("ragged X", lambda n: n.feedforward([[0, 0], [1]]), "X[1]"),
    ("X row too long", lambda n: n.feedforward([[0, 0, 0]]), "input_size"),
    ("empty X", lambda n: n.feedforward([]), "X is empty"),
    ("X not a list", lambda n: n.feedforward(None), "X must be"),
    ("X of strings", lambda n: n.feedforward([["a", "b"]]), "X[0][0]"),
    ("X a string", lambda n: n.feedforward("00"), "X must be"),
    ("X flat", lambda n: n.feedforward([0, 1]), "X[0]"),
    ("X too deep", lambda n: n.feedforward([[[0], [1]]]), "X[0][0]"),
    ("NaN in X", lambda n: n.gradients([[NAN, 0]], [[0]]), "X[0][0]"),
    ("inf in X", lambda n: n.gradients([[0, INF]], [[0]]), "X[0][1]"),
    ("bool in X", lambda n: n.gradients([[True, 0]], [[0]]), "X[0][0]"),
    ("huge int in X", lambda n: n.gradients([[10 ** 400, 0]], [[0]]), "X[0][0]"),
    ("-inf in y", lambda n: n.gradients([[0, 0]], [[-INF]]), "y[0][0]"),
    ("None in y", lambda n: n.gradients([[0, 0]], [[None]]), "y[0][0]"),
    ("y rows differ", lambda n: n.gradients(XOR_X, XOR_Y[:3]), "y has 3 rows, expected 4 like X"),
    ("y too wide", lambda n: n.gradients([[0, 0]], [[0, 1]]), "output_size"),
    ("y flat", lambda n: n.gradients(XOR_X, [0, 1, 1, 0]), "y[0]"),
    ("lr NaN", lambda n: n.train(XOR_X, XOR_Y, 1, NAN), "learning_rate"),
    ("lr inf", lambda n: n.train(XOR_X, XOR_Y, 1, INF), "learning_rate"),
    ("lr negative", lambda n: n.train(XOR_X, XOR_Y, 1, -0.1), "learning_rate"),
    ("lr string", lambda n: n.train(XOR_X, XOR_Y, 1, "0.1"), "learning_rate"),
    ("epochs negative", lambda n: n.train(XOR_X, XOR_Y, -1, 0.1), "epochs"),
    ("epochs float", lambda n: n.train(XOR_X, XOR_Y, 2.5, 0.1), "epochs"),
    ("log_every zero", lambda n: n.train(XOR_X, XOR_Y, 1, 0.1, log_every=0), "log_every"),
    ("log not callable", lambda n: n.train(XOR_X, XOR_Y, 1, 0.1, log="x"), "log"),
    ("backward lr NaN", lambda n: (n.feedforward(XOR_X), n.backward(XOR_X, XOR_Y, NAN)),
     "learning_rate"),
    ("backward bad y", lambda n: (n.feedforward(XOR_X), n.backward(XOR_X, [[0]], 0.1)),
     "y has 1 rows"),
    ("backward other batch", lambda n: (n.feedforward(XOR_X[:2]), n.backward(XOR_X, XOR_Y, 0.1)),
     "feedforward"),
]


@pytest.mark.parametrize("what, call, words", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_input_is_refused_clearly_and_changes_nothing(what, call, words):
    """Each malformed call raises ValueError/TypeError naming the problem; params unchanged."""
    net = NeuralNetwork(2, 4, 1, seed=0)
    before = params_of(net)
    with pytest.raises((ValueError, TypeError)) as info:
        call(net)
    assert words in str(info.value), str(info.value)
    assert params_of(net) == before


def test_backward_before_any_feedforward_is_refused():
    """backward with no forward pass to use says to call feedforward first."""
    net = NeuralNetwork(2, 4, 1, seed=0)
    before = copy.deepcopy(vars(net))
    with pytest.raises(ValueError, match="call feedforward"):
        net.backward(XOR_X, XOR_Y, 0.1)
    assert vars(net) == before


@pytest.mark.parametrize("sizes, words", [
    ((0, 4, 1), "input_size"), ((2, -1, 1), "hidden_size"), ((2, 4, 0), "output_size"),
    ((2.0, 4, 1), "input_size"), ((2, "4", 1), "hidden_size"), ((2, 4, None), "output_size"),
    ((True, 4, 1), "input_size"),
])
def test_constructor_refuses_bad_sizes(sizes, words):
    """Sizes below 1 or not ints are refused, naming the size."""
    with pytest.raises((ValueError, TypeError), match=words):
        NeuralNetwork(*sizes)


@pytest.mark.parametrize("seed", [1.5, "0", True])
def test_constructor_refuses_bad_seeds(seed):
    """A seed must be an int or None."""
    with pytest.raises(TypeError, match="seed"):
        NeuralNetwork(2, 4, 1, seed=seed)


@pytest.mark.parametrize("name, value, words", [
    ("weights_input_hidden", [[0.0] * 4] * 3, "weights_input_hidden has 3 rows, expected 2"),
    ("weights_hidden_output", [[0.0, 0.0]] * 4, "weights_hidden_output[0] has 2 entries"),
    ("bias_hidden", [[0.0] * 4, [0.0] * 4], "bias_hidden has 2 rows, expected 1"),
    ("bias_output", [[NAN]], "bias_output[0][0] must be finite"),
    ("bias_output", [0.0], "bias_output[0] must be a row"),
])
def test_assigned_parameters_of_wrong_shape_are_refused(name, value, words):
    """A caller-assigned parameter of the wrong shape or value is named when used."""
    net = NeuralNetwork(2, 4, 1, seed=0)
    setattr(net, name, value)
    before = copy.deepcopy(vars(net))
    for call in (lambda: net.feedforward(XOR_X), lambda: net.gradients(XOR_X, XOR_Y),
                 lambda: net.train(XOR_X, XOR_Y, 1, 0.1)):
        with pytest.raises((ValueError, TypeError)) as info:
            call()
        assert words in str(info.value)
    # NaN != NaN, so compare by repr.
    assert repr(vars(net)) == repr(before)


def test_mean_squared_error_averages_over_samples_and_outputs():
    """The logged MSE divides by samples × outputs, not by samples alone."""
    from purebp.tutorial import mean_squared_error

    assert mean_squared_error([[0.0, 1.0]], [[0.5, 0.5]]) == 0.25
    assert mean_squared_error([[0.0, 1.0], [1.0, 1.0]], [[0.0, 0.0], [1.0, 1.0]]) == 0.25


def test_train_keeps_the_last_forward_pass_like_feedforward():
    """After train, the intermediates of the last epoch are kept, so backward can follow."""
    net = NeuralNetwork(2, 4, 1, seed=0)
    net.train(XOR_X, XOR_Y, 3, 0.1, log=None)
    # What the last epoch started from, not what the final weights give.
    _, yhat_after_update = ref_forward(net, XOR_X)
    assert net.predicted_output is not None and len(net.predicted_output) == 4
    assert net.predicted_output != yhat_after_update
    net.backward(XOR_X, XOR_Y, 0.1)


def test_the_readable_loop_checks_again_once_train_is_over_or_interrupted():
    """train(fast=False) lets its own loop skip re-checks; afterwards, and on_epoch's calls, are checked."""
    net = NeuralNetwork(2, 3, 1, seed=0)
    X, y = [[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]]
    seen = []

    def on_epoch(n, epoch, loss):
        with pytest.raises(TypeError, match=r"feedforward: X\[0\]\[1\]"):
            n.feedforward([[0.0, "one"]])  # not train's own X: checked
        n.weights_input_hidden = [[1.0, 2.0, 3.0]]  # a spoiled parameter ...
        seen.append(epoch)
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError):
        net.train(X, y, 5, 0.1, log=None, on_epoch=on_epoch, fast=False)
    assert seen == [0]
    with pytest.raises(ValueError, match="feedforward: weights_input_hidden"):
        net.feedforward(X)  # ... is refused once train has stopped
    with pytest.raises(ValueError, match="backward: weights_input_hidden"):
        net.backward(X, y, 0.1)


def test_the_docs_numbers_for_the_one_sample_bias_mistake_are_the_tutorials():
    """docs/backprop.md's row on the bias gradient from one sample quotes δ2[0] and Σ_n δ2 truly."""
    import pathlib
    docs = (pathlib.Path(__file__).parent.parent / "docs" / "backprop.md").read_text("utf-8")
    row = next(line for line in docs.splitlines() if line.startswith("| bias gradient from one sample"))
    net = NeuralNetwork(2, 4, 1, seed=0)
    X, y = [[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]]
    net.feedforward(X)
    # Independently of the library's backward pass: δ2 = (ŷ − y)·ŷ·(1 − ŷ), row by row.
    deltas = [(p - t) * p * (1 - p) for (p,), (t,) in zip(net.predicted_output, y)]
    total = 0.0
    for d in deltas:
        total += d
    (library,), = net.gradients(X, y)["bias_output"]
    assert math.isclose(library, total, rel_tol=1e-12)
    assert f"δ2[0] = {deltas[0]:.4f}" in row and f"Σ_n δ2 = {total:.4f}".replace("-", "−") in row
    assert (deltas[0] > 0) != (total > 0) and "wrong sign" in row
