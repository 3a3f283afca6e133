"""Tests for purebp.optimizers: each rule against its documented algorithm, torch.optim, the laws.

Three independent things hold the optimizers to their equations:

  - the algorithms of torch.optim's documentation (the pseudo-code of SGD,
    RMSprop, Adam and AdamW), written below as plain loops over one
    parameter at a time, in ``Rounded`` numbers that carry a bound of
    their own rounding; hypothesis draws the arguments, the parameters and
    several steps of gradients, and every parameter and every buffer of
    the state must agree after every step;
  - torch.optim itself in float64 (skipped without torch): a Network and the
    same model in torch trained 100 steps, full batch and mini-batches in
    the same order, must agree in every loss, parameter and buffer;
  - laws that need no reference at all: momentum 0 is plain gradient
    descent, bit for bit, and learning_rate=lr is SGD(lr) with the very
    bits purebp gave before optimizers existed (runs stored by commit
    595b03c in tests/data); Adam with betas (0, 0) and a vanishing eps is
    sign descent with step lr; weight decay is the gradient g + λ·p (SGD,
    RMSprop, Adam) or a shrink before the step (AdamW), and 0 changes
    nothing; Nesterov and dampening do what their definitions say.

The refusals of bad arguments close the file.
"""

import copy
import json
import math
import os
import random
import re
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import general_cases

from purebp import optimizers
from purebp.errors import DivergenceError
from purebp.network import Network
from purebp.optimizers import SGD, Adam, AdamW, RMSprop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data")

#: How far purebp may be from the reference, in units of the reference's
#: rounding scale (``Rounded.scale``): 1e-12 is about 4,500 units of float64
#: rounding (u = 2⁻⁵³ ≈ 1.1e-16), room for the few dozen roundings of six
#: steps in any order of operations; a wrong rule is off by far more.
TOLERANCE = 1e-12


def bits(value):
    """A float's 64 bits as hex (−0.0 is not 0.0), element by element for lists."""
    if isinstance(value, (list, tuple)):
        return [bits(v) for v in value]
    assert type(value) is float, f"{value!r} is a {type(value).__name__}, not a float"
    return struct.pack(">d", value).hex()


# -- the reference: torch.optim's documented algorithms, one parameter at a time ---------


class Rounded:
    """A float64 result of the reference, with a scale that bounds its rounding error.

    ``value`` is computed in float64 as the formula is written; ``scale`` is
    the same formula on the magnitudes of its terms (|x| + |y| for x ± y,
    |x|·|y| for x·y, and the first-order growth of x/y and √x), so that any
    correct float64 evaluation of the formula, in any order, lies within a
    small multiple of u·scale of the exact value: two such evaluations may
    differ by TOLERANCE·scale, and a parameter near 0 whose terms were large
    is judged on the terms, not on itself.
    """

    __slots__ = ("scale", "value")

    def __init__(self, value, scale=None):
        self.value = float(value)
        self.scale = abs(self.value) if scale is None else scale

    def __repr__(self):
        return f"Rounded({self.value!r}, scale={self.scale!r})"

    def __add__(self, other):
        other = rounded(other)
        return Rounded(self.value + other.value, self.scale + other.scale)

    __radd__ = __add__

    def __sub__(self, other):
        other = rounded(other)
        return Rounded(self.value - other.value, self.scale + other.scale)

    def __rsub__(self, other):
        return rounded(other) - self

    def __mul__(self, other):
        other = rounded(other)
        return Rounded(self.value * other.value, self.scale * other.scale)

    __rmul__ = __mul__

    def __truediv__(self, other):
        other = rounded(other)
        quotient = self.value / other.value
        return Rounded(quotient, (self.scale + abs(quotient) * other.scale) / abs(other.value))

    def __rtruediv__(self, other):
        return rounded(other) / self


def rounded(x):
    """x as a Rounded: a float given to the reference, or one operation on such floats (1 − β,
    rounded to within u·|1 − β|), is exact to the comparison, its scale |x|."""
    return x if isinstance(x, Rounded) else Rounded(x)


def sqrt(x):
    """√x; its error grows as δ/(2√x), taken here as δ/√x (an exact 0 stays exact)."""
    if x.value == 0:
        return Rounded(0.0, 0.0 if x.scale == 0 else math.inf)
    return Rounded(math.sqrt(x.value), x.scale / math.sqrt(x.value))


def maximum(a, b):
    return Rounded(max(a.value, b.value), max(a.scale, b.scale))


def power(beta, t):
    """β^t as t − 1 products."""
    result = rounded(beta)
    for _ in range(t - 1):
        result = result * beta
    return result


def zeros(n):
    return [Rounded(0.0) for _ in range(n)]


def sgd_reference(params, grads, lr=0.001, momentum=0, dampening=0, weight_decay=0,
                  nesterov=False):
    """torch.optim.SGD's documented algorithm; yields (θ_t, state) after each step t."""
    theta, b = [Rounded(x) for x in params], zeros(len(params))
    for t, grad in enumerate(grads, start=1):
        for i in range(len(theta)):
            g = Rounded(grad[i])
            if weight_decay != 0:
                g = g + weight_decay * theta[i]
            if momentum != 0:
                if t > 1:
                    b[i] = momentum * b[i] + (1 - dampening) * g
                else:
                    b[i] = g
                if nesterov:
                    g = g + momentum * b[i]
                else:
                    g = b[i]
            theta[i] = theta[i] - lr * g
        yield list(theta), ({"momentum_buffer": list(b)} if momentum != 0 else {})


def rmsprop_reference(params, grads, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                      centered=False):
    """torch.optim.RMSprop's documented algorithm; yields (θ_t, state) after each step t."""
    n = len(params)
    theta, v, b, g_ave = [Rounded(x) for x in params], zeros(n), zeros(n), zeros(n)
    for grad in grads:
        for i in range(n):
            g = Rounded(grad[i])
            if weight_decay != 0:
                g = g + weight_decay * theta[i]
            v[i] = alpha * v[i] + (1 - alpha) * (g * g)
            v_tilde = v[i]
            if centered:
                g_ave[i] = g_ave[i] * alpha + (1 - alpha) * g
                v_tilde = v_tilde - g_ave[i] * g_ave[i]
            if momentum > 0:
                b[i] = momentum * b[i] + g / (sqrt(v_tilde) + eps)
                theta[i] = theta[i] - lr * b[i]
            else:
                theta[i] = theta[i] - lr * g / (sqrt(v_tilde) + eps)
        state = {"square_avg": list(v)}
        if momentum > 0:
            state["momentum_buffer"] = list(b)
        if centered:
            state["grad_avg"] = list(g_ave)
        yield list(theta), state


def adam_reference(params, grads, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                   amsgrad=False, decoupled=False):
    """torch.optim.Adam's documented algorithm, or AdamW's with decoupled=True.

    Yields (θ_t, state) after each step t. The documents give v_t^max as the
    maximum of the raw second moments, bias-corrected afterwards.
    """
    n = len(params)
    beta1, beta2 = betas
    theta, m, v, v_max = [Rounded(x) for x in params], zeros(n), zeros(n), zeros(n)
    for t, grad in enumerate(grads, start=1):
        for i in range(n):
            g = Rounded(grad[i])
            if decoupled:
                theta[i] = theta[i] - lr * weight_decay * theta[i]
            elif weight_decay != 0:
                g = g + weight_decay * theta[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * (g * g)
            m_hat = m[i] / (1 - power(beta1, t))
            if amsgrad:
                v_max[i] = maximum(v_max[i], v[i])
                v_hat = v_max[i] / (1 - power(beta2, t))
            else:
                v_hat = v[i] / (1 - power(beta2, t))
            theta[i] = theta[i] - lr * m_hat / (sqrt(v_hat) + eps)
        state = {"exp_avg": list(m), "exp_avg_sq": list(v)}
        if amsgrad:
            state["max_exp_avg_sq"] = list(v_max)
        yield list(theta), state


def adamw_reference(params, grads, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01,
                    amsgrad=False):
    return adam_reference(params, grads, lr, betas, eps, weight_decay, amsgrad, decoupled=True)


REFERENCES = {"sgd": sgd_reference, "rmsprop": rmsprop_reference, "adam": adam_reference,
              "adamw": adamw_reference}


def disagreements(optimizer, reference, params, grads):
    """Run ``optimizer`` step by step beside the reference; return where they part, if anywhere."""
    found = []
    p = list(params)
    for t, (g, (want, state)) in enumerate(zip(grads, reference(params, grads)), start=1):
        p = optimizer.update(p, g)
        if optimizer.state["step"] != t:
            found.append(f"step {t}: state['step'] is {optimizer.state['step']}")
        if set(optimizer.state) != {"step"} | set(state):
            found.append(f"step {t}: state holds {sorted(optimizer.state)}, expected"
                         f" {sorted({'step'} | set(state))}")
        for name, got, expected in [("p", p, want)] + [
                (key, optimizer.state.get(key, []), value) for key, value in state.items()]:
            for i, (a, b) in enumerate(zip(got, expected)):
                if not abs(a - b.value) <= TOLERANCE * b.scale:
                    found.append(f"step {t}: {name}[{i}] = {a!r}, expected {b.value!r}"
                                 f" (scale {b.scale:.3g})")
            if len(got) != len(expected):
                found.append(f"step {t}: {name} has {len(got)} entries, expected {len(expected)}")
    return found


# -- what hypothesis draws -------------------------------------------------------------------


def values(bound):
    """Finite floats in [−bound, bound], ±0.0 included, none so small that its square underflows."""
    return st.floats(-bound, bound).map(lambda x: x if x == 0 or abs(x) >= 1e-100 else 0.0)


@st.composite
def runs(draw, arguments):
    """(arguments, parameters, gradients): 1–5 parameters and 1–6 steps of gradients."""
    n, steps = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    params = draw(st.lists(values(10), min_size=n, max_size=n))
    scale = draw(st.sampled_from([1e-3, 1.0, 100.0]))
    grads = draw(st.lists(st.lists(values(scale), min_size=n, max_size=n),
                          min_size=steps, max_size=steps))
    return draw(arguments), params, grads


def maybe_zero(strategy):
    return st.one_of(st.just(0.0), strategy)


def between(low, high):
    """Floats in [low, high], none so small (below 1e-100) that a product of two underflows."""
    return st.floats(low, high).map(lambda x: x if x == 0 or x >= 1e-100 else 0.0)


EPS = st.one_of(st.sampled_from([1e-8, 1e-12, 1e-3, 0.5, 2.0]), st.floats(1e-10, 1.0))


@st.composite
def sgd_arguments(draw):
    momentum = draw(maybe_zero(between(0, 1.5)))
    nesterov = momentum > 0 and draw(st.booleans())
    return {"lr": draw(between(0, 2)), "momentum": momentum,
            "dampening": 0.0 if nesterov else draw(maybe_zero(between(0, 1))),
            "weight_decay": draw(maybe_zero(between(0, 1))), "nesterov": nesterov}


@st.composite
def rmsprop_arguments(draw):
    centered = draw(st.booleans())
    # Centered: v − ḡ² ≥ α^t·v, so α ≥ 0.5 over ≤ 6 steps keeps it ≥ v/64, away from the
    # cancellation where √ of a rounding error would swamp the comparison.
    alpha = draw(between(0.5, 1) if centered else between(0, 1))
    return {"lr": draw(between(0, 1)), "alpha": alpha, "eps": draw(EPS),
            "weight_decay": draw(maybe_zero(between(0, 1))),
            "momentum": draw(maybe_zero(between(0, 1.5))), "centered": centered}


# β ≤ 0.999 keeps 1 − β^t ≥ 0.001: the bias corrections divide by it.
BETA = st.one_of(st.sampled_from([0.0, 0.5, 0.9, 0.999]), between(0, 0.999))


@st.composite
def adam_arguments(draw):
    return {"lr": draw(between(0, 1)), "betas": (draw(BETA), draw(BETA)), "eps": draw(EPS),
            "weight_decay": draw(maybe_zero(between(0, 1))), "amsgrad": draw(st.booleans())}


ARGUMENTS = {"sgd": sgd_arguments(), "rmsprop": rmsprop_arguments(), "adam": adam_arguments(),
             "adamw": adam_arguments()}


# -- each rule against its documented algorithm ----------------------------------------------


@pytest.mark.parametrize("name", list(REFERENCES))
@given(data=st.data())
def test_each_rule_follows_its_documented_algorithm_step_by_step(name, data):
    """Parameters, step count and every buffer agree with torch's pseudo-code after every step."""
    arguments, params, grads = data.draw(runs(ARGUMENTS[name]))
    optimizer = optimizers.by_name(name, **arguments)
    found = disagreements(optimizer, lambda p, g: REFERENCES[name](p, g, **arguments),
                          params, grads)
    assert not found, "\n".join(found)


#: A run where every argument shows: gradients that change sign and shrink (amsgrad's
#: maximum then holds), parameters of both signs, and five steps (the bias corrections move).
SHOWING_PARAMS = [0.5, -1.5, 2.0]
SHOWING_GRADS = [[3.0, -0.5, 0.25], [-1.0, 0.75, 0.5], [0.5, 0.25, -2.0], [0.125, -0.25, 0.5],
                 [0.0625, 1.0, -0.125]]
#: (optimizer, its arguments, an argument, another value for it)
EVERY_ARGUMENT = [
    ("sgd", {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.1,
             "nesterov": True}, "lr", 0.11),
    ("sgd", {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.1,
             "nesterov": True}, "momentum", 0.8),
    ("sgd", {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.1,
             "nesterov": True}, "nesterov", False),
    ("sgd", {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.1,
             "nesterov": True}, "weight_decay", 0.0),
    ("sgd", {"lr": 0.1, "momentum": 0.9, "dampening": 0.25}, "dampening", 0.0),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-3, "weight_decay": 0.1, "momentum": 0.5,
                 "centered": True}, "alpha", 0.99),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-3, "weight_decay": 0.1, "momentum": 0.5,
                 "centered": True}, "eps", 1e-8),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-3, "weight_decay": 0.1, "momentum": 0.5,
                 "centered": True}, "weight_decay", 0.0),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-3, "weight_decay": 0.1, "momentum": 0.5,
                 "centered": True}, "momentum", 0.0),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-3, "weight_decay": 0.1, "momentum": 0.5,
                 "centered": True}, "centered", False),
    ("adam", {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-3, "weight_decay": 0.1,
              "amsgrad": True}, "betas", (0.9, 0.9)),
    ("adam", {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-3, "weight_decay": 0.1,
              "amsgrad": True}, "betas", (0.8, 0.99)),
    ("adam", {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-3, "weight_decay": 0.1,
              "amsgrad": True}, "eps", 1e-8),
    ("adam", {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-3, "weight_decay": 0.1,
              "amsgrad": True}, "weight_decay", 0.0),
    ("adam", {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-3, "weight_decay": 0.1,
              "amsgrad": True}, "amsgrad", False),
    ("adamw", {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-3, "weight_decay": 0.1,
               "amsgrad": True}, "weight_decay", 0.0),
    ("adamw", {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-3, "weight_decay": 0.1,
               "amsgrad": True}, "amsgrad", False),
]


@pytest.mark.parametrize("name, arguments, argument, other", EVERY_ARGUMENT,
                         ids=[f"{n}-{a}-{o}" for n, _, a, o in EVERY_ARGUMENT])
def test_the_comparison_sees_every_argument(name, arguments, argument, other):
    """Against a reference given one argument otherwise, the comparison fails: it can fail."""
    assert not disagreements(optimizers.by_name(name, **arguments),
                             lambda p, g: REFERENCES[name](p, g, **arguments),
                             SHOWING_PARAMS, SHOWING_GRADS)
    wrong = dict(arguments, **{argument: other})
    assert disagreements(optimizers.by_name(name, **arguments),
                         lambda p, g: REFERENCES[name](p, g, **wrong),
                         SHOWING_PARAMS, SHOWING_GRADS)


@pytest.mark.parametrize("mistaken, right", [("adam", "adamw"), ("adamw", "adam")])
def test_adamw_is_not_adam_with_l2_and_the_comparison_tells_them_apart(mistaken, right):
    """AdamW's decoupled decay against Adam's L2 decay, same arguments: the references disagree."""
    arguments = {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.1}
    assert disagreements(optimizers.by_name(right, **arguments),
                         lambda p, g: REFERENCES[mistaken](p, g, **arguments),
                         SHOWING_PARAMS, SHOWING_GRADS)


@pytest.mark.parametrize("name", list(REFERENCES))
@given(data=st.data())
def test_update_returns_a_new_list_and_leaves_its_arguments_alone(name, data):
    """update(p, g) returns a new list of floats; p and g are as they were."""
    arguments, params, grads = data.draw(runs(ARGUMENTS[name]))
    optimizer = optimizers.by_name(name, **arguments)
    p, g = list(params), list(grads[0])
    new = optimizer.update(p, g)
    assert new is not p and p == params and g == grads[0]
    assert all(type(x) is float for x in new) and len(new) == len(p)


# -- against torch.optim in float64 -----------------------------------------------------------

#: (name, arguments): every optimizer, with its defaults and with every option on
TORCH_CASES = [
    ("sgd", {"lr": 0.1}),
    ("sgd", {"lr": 0.05, "momentum": 0.9}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.01}),
    ("sgd", {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.001, "nesterov": True}),
    ("rmsprop", {"lr": 0.01}),
    ("rmsprop", {"lr": 0.002, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.01, "momentum": 0.5}),
    ("rmsprop", {"lr": 0.002, "momentum": 0.9, "centered": True}),
    ("adam", {"lr": 0.01}),
    ("adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.01,
              "amsgrad": True}),
    ("adam", {"lr": 0.02, "betas": (0.0, 0.5)}),
    ("adamw", {"lr": 0.01}),
    ("adamw", {"lr": 0.01, "betas": (0.85, 0.95), "weight_decay": 0.1, "amsgrad": True}),
]


def fixed_data(n, n_in, n_out, kind, seed):
    rng = random.Random(seed)
    X = [[rng.uniform(-2, 2) for _ in range(n_in)] for _ in range(n)]
    if kind == "classes":
        y = [[1.0 if k == i % n_out else 0.0 for k in range(n_out)] for i in range(n)]
    elif kind == "binary":
        y = [[1.0 if rng.random() < 0.5 else 0.0 for _ in range(n_out)] for _ in range(n)]
    else:
        y = [[rng.uniform(-1, 1) for _ in range(n_out)] for _ in range(n)]
    return X, y


#: Networks of every loss; each torch case trains one of them (in turn).
TORCH_NETWORKS = [
    (([2, 5, 1], "tanh", "sigmoid", "bce", "xavier"), "binary"),
    (([3, 4, 3, 2], "relu", "identity", "mse", "he"), "values"),
    (([2, 4, 3], "tanh", "softmax", "cross_entropy", "xavier"), "classes"),
    (([2, 4, 1], "sigmoid", "sigmoid", "half_sse", "normal"), "binary"),
    (([2, 6, 2], "leaky_relu", "sigmoid", "half_sse", "xavier"), "values"),
]


def torch_epochs(torch, net, X, y, name, arguments, epochs, batch_size):
    """The same model in torch, trained on the same batches: (losses, model's layers, optimizer)."""
    F = torch.nn.functional
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
           "leaky_relu": lambda z: F.leaky_relu(z, 0.01), "identity": lambda z: z}
    layers = []
    for W, b in zip(net.weights, net.biases):
        linear = torch.nn.Linear(len(W), len(W[0]), dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(W, dtype=torch.float64).T)
            linear.bias.copy_(torch.tensor(b[0], dtype=torch.float64))
        layers.append(linear)
    cls = {"sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam,
           "adamw": torch.optim.AdamW}[name]
    optimizer = cls([p for layer in layers for p in (layer.weight, layer.bias)], **arguments)

    def loss_of(rows):
        a = torch.tensor([X[i] for i in rows], dtype=torch.float64)
        target = torch.tensor([y[i] for i in rows], dtype=torch.float64)
        for l, linear in enumerate(layers):
            z = linear(a)
            if l < len(layers) - 1:
                a = act[net.activation](z)
        if net.loss_name == "bce":
            return F.binary_cross_entropy_with_logits(z, target)
        if net.loss_name == "cross_entropy":
            return F.cross_entropy(z, target)
        a = act[net.output_activation](z)
        if net.loss_name == "mse":
            return F.mse_loss(a, target)
        return 0.5 * ((a - target) ** 2).sum()

    # The documented batches: every epoch shuffles range(n) with the network's generator.
    order_rng = random.Random()
    order_rng.setstate(net.rng.getstate())
    losses = []
    for _ in range(epochs):
        order = list(range(len(X)))
        if batch_size is None:
            batches = [order]
        else:
            order_rng.shuffle(order)
            batches = [order[s:s + batch_size] for s in range(0, len(X), batch_size)]
        epoch_loss = 0.0
        for rows in batches:
            optimizer.zero_grad()
            loss = loss_of(rows)
            loss.backward()
            optimizer.step()
            share = 1 if net.loss_name == "half_sse" else len(rows) / len(X)
            epoch_loss += loss.item() * share
        losses.append(epoch_loss)
    return losses, layers, optimizer


def assert_near(what, got, want, scale):
    """|got − want| ≤ 1e-12·scale for every entry (scale: the tensor's largest |entry|)."""
    for i, (a, b) in enumerate(zip(got, want)):
        assert abs(a - b) <= 1e-12 * scale, f"{what}[{i}]: purebp {a!r}, torch {b!r}"


def flat(rows):
    return [x for row in rows for x in row]


@pytest.mark.parametrize("batch_size", [None, 4], ids=["full-batch", "mini-batches"])
@pytest.mark.parametrize("case", range(len(TORCH_CASES)),
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(TORCH_CASES)])
def test_training_agrees_with_torch_optim_after_100_steps(case, batch_size):
    """100 steps with torch.optim in float64: each loss, parameter and buffer within 1e-12.

    Relative error, each loss to itself and each parameter or buffer to the
    largest |entry| of its own weight matrix or bias row: an entry near 0
    of a tensor of size 1 may differ by 1e-12, not by 1e-12 of itself.
    Full batch: 100 epochs; mini-batches: 14 samples in batches of 4, 4, 4
    and 2, 25 epochs, in the order the network's generator shuffles them.
    Each case is first shown to be well-conditioned (see below).
    """
    torch = pytest.importorskip("torch")
    name, arguments = TORCH_CASES[case]
    (args, kind) = TORCH_NETWORKS[case % len(TORCH_NETWORKS)]
    net = Network(*args, seed=case)
    X, y = fixed_data(10 if batch_size is None else 14, args[0][0], args[0][-1], kind, case)
    epochs = 100 if batch_size is None else 25
    want_losses, layers, theirs = torch_epochs(torch, copy.deepcopy(net), X, y, name,
                                               arguments, epochs, batch_size)
    moved = copy.deepcopy(net)
    moved.weights = [[[math.nextafter(w, math.inf) for w in row] for row in W] for W in net.weights]
    ours = optimizers.by_name(name, **arguments)
    losses = net.train(X, y, epochs, optimizer=ours, batch_size=batch_size, log=None)
    assert ours.state["step"] == 100

    # The case must be one where 1e-12 is an honest bound: moving every starting weight by
    # one ulp moves purebp's own results by less than 1e-13. (RMSprop with λ = 0.01 and
    # lr = 0.005 once reached a point where weight decay balanced a gradient, and its
    # steps there multiplied any difference by 4 per epoch: a one-ulp start moved the end
    # by 1e-8, so no two correct float64 implementations could agree to 1e-12.)
    moved_losses = moved.train(X, y, epochs, optimizer=optimizers.by_name(name, **arguments),
                               batch_size=batch_size, log=None)
    growth = max(abs(a - b) / abs(b) for a, b in zip(moved_losses, losses))
    for W, V in zip(net.weights + net.biases, moved.weights + moved.biases):
        scale = max(abs(x) for x in flat(W))
        growth = max(growth, max(abs(a - b) for a, b in zip(flat(W), flat(V))) / scale)
    assert growth < 1e-13, f"a chaotic case ({growth:.1e} from one ulp): choose another"

    for e, (a, b) in enumerate(zip(losses, want_losses)):
        assert abs(a - b) <= 1e-12 * abs(b), f"epoch {e}: loss {a!r}, torch {b!r}"
    tensors = [(f"weights[{l}]", flat(W), linear.weight)
               for l, (W, linear) in enumerate(zip(net.weights, layers))]
    tensors += [(f"biases[{l}]", B[0], linear.bias)
                for l, (B, linear) in enumerate(zip(net.biases, layers))]
    at = 0  # where each tensor starts in the optimizer's flat buffers
    for what, mine, tensor in tensors:
        theirs_now = tensor.detach()
        want = flat(theirs_now.T.tolist()) if theirs_now.dim() == 2 else theirs_now.tolist()
        assert_near(what, mine, want, max(abs(x) for x in want))
        state = theirs.state[tensor]
        for key in ours.buffers():
            buffer = state[key]
            want = flat(buffer.T.tolist()) if buffer.dim() == 2 else buffer.tolist()
            assert_near(f"{key} of {what}", ours.state[key][at:at + len(mine)], want,
                        max(abs(x) for x in want))
        if "step" in state:  # torch's SGD counts no steps
            assert int(state["step"]) == 100
        at += len(mine)


# -- laws: plain gradient descent, bit for bit ------------------------------------------------


@given(lr=st.floats(0, 2), dampening=maybe_zero(st.floats(0, 1)), data=st.data())
def test_momentum_zero_is_plain_gradient_descent_bit_for_bit(lr, dampening, data):
    """SGD(lr, momentum=0, dampening=τ): every step is p − lr·g exactly, whatever τ."""
    _, params, grads = data.draw(runs(st.just(None)))
    optimizer = SGD(lr, momentum=0, dampening=dampening)
    p = list(params)
    for g in grads:
        want = [p_i - lr * g_i for p_i, g_i in zip(p, g)]
        p = optimizer.update(p, g)
        assert bits(p) == bits(want)
    assert set(optimizer.state) == {"step"}


def hand_trained(net, X, y, epochs, lr):
    """Full-batch gradient descent as a loop of Network.gradients: p ← p − lr·∂loss/∂p."""
    net = copy.deepcopy(net)
    losses = []
    for _ in range(epochs):
        losses.append(net.loss(X, y))
        grads = net.gradients(X, y)
        net.weights = [[[w - lr * g for w, g in zip(rw, rg)] for rw, rg in zip(W, G)]
                       for W, G in zip(net.weights, grads["weights"])]
        net.biases = [[[b - lr * g for b, g in zip(rb, rg)] for rb, rg in zip(B, G)]
                      for B, G in zip(net.biases, grads["biases"])]
    return losses, net


@pytest.mark.parametrize("fast", [True, False])
@given(case=general_cases(max_depth=3), lr=st.sampled_from([0.0, 0.05, 0.5]))
def test_sgd_and_learning_rate_train_as_the_hand_loop_bit_for_bit(case, lr, fast):
    """learning_rate=lr, SGD(lr) and SGD(lr, momentum=0, dampening=0.5): the hand loop's bits."""
    net, X, y = case
    want_losses, want = hand_trained(net, X, y, 3, lr)
    for way in ({"learning_rate": lr}, {"optimizer": SGD(lr)},
                {"optimizer": SGD(lr, momentum=0, dampening=0.5)}):
        trained = copy.deepcopy(net)
        try:
            losses = trained.train(X, y, 3, log=None, fast=fast, **way)
        except DivergenceError:  # then the hand loop must have left the finite numbers too
            assert not all(math.isfinite(v) for v in want_losses + flat(flat(want.weights))
                           + flat(flat(want.biases)))
            continue
        assert bits(losses) == bits(want_losses), way
        assert bits(trained.weights) == bits(want.weights), way
        assert bits(trained.biases) == bits(want.biases), way


def stored_runs():
    with open(os.path.join(DATA, "sgd-runs-595b03c.json"), encoding="utf-8") as f:
        return json.load(f)["runs"]


STORED = stored_runs()


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("way", ["learning_rate", "SGD(lr)", "SGD(lr, momentum=0)"])
@pytest.mark.parametrize("run", STORED, ids=[r["name"] for r in STORED])
def test_plain_gradient_descent_keeps_the_bits_of_before_optimizers(run, way, fast):
    """The runs commit 595b03c stored (tests/data/make_v1_data.py): the same losses,
    parameters and generator, bit for bit, however plain gradient descent is asked for."""
    net = Network(*run["args"], **run["kwargs"])
    lr = run["learning_rate"]
    options = {"learning_rate": {"learning_rate": lr}, "SGD(lr)": {"optimizer": SGD(lr)},
               "SGD(lr, momentum=0)": {"optimizer": SGD(lr, momentum=0.0, dampening=0.3)}}[way]
    losses = net.train(run["X"], run["y"], run["epochs"], batch_size=run["batch_size"],
                       log=None, fast=fast, **options)
    assert bits(losses) == run["losses"]
    assert bits(net.weights) == run["weights"] and bits(net.biases) == run["biases"]
    assert bits(net.rng.random()) == run["next_random"]


# -- laws: Adam ---------------------------------------------------------------------------------


def sign(x):
    return math.copysign(1.0, x)


@given(lr=st.floats(1e-6, 1.0), data=st.data())
def test_adam_with_betas_zero_and_a_vanishing_eps_is_sign_descent_with_step_lr(lr, data):
    """betas (0, 0): m̂ = g and v̂ = g², so with eps → 0 every step is p − lr·sign(g) (0 where g = 0).

    Within 4 roundings of p and lr: lr·g/|g| is computed, not taken as ±lr.
    """
    _, params, grads = data.draw(runs(st.just(None)))
    for cls in (Adam, AdamW):
        optimizer = cls(lr, betas=(0.0, 0.0), eps=1e-300, weight_decay=0.0)
        p = list(params)
        for g in grads:
            new = optimizer.update(p, g)
            for p_i, g_i, n_i in zip(p, g, new):
                want = p_i if g_i == 0 else p_i - lr * sign(g_i)
                assert abs(n_i - want) <= 4 * 2 ** -53 * (abs(p_i) + lr), (p_i, g_i, n_i)
            p = new


@given(general_cases(max_depth=3), st.floats(1e-4, 0.1))
def test_a_network_trained_by_sign_descent_moves_each_parameter_by_lr(case, lr):
    """Adam(betas=(0, 0), eps=1e-300) on a Network: each parameter moves lr against its gradient's sign."""
    net, X, y = case
    grads = net.gradients(X, y)
    before = copy.deepcopy(net)
    net.train(X, y, 1, optimizer=Adam(lr, betas=(0.0, 0.0), eps=1e-300), log=None)
    for kind in ("weights", "biases"):
        for p, g, new in zip(flat(flat(getattr(before, kind))), flat(flat(grads[kind])),
                             flat(flat(getattr(net, kind)))):
            if g == 0 or abs(g) > 1e-140:  # g² neither underflows nor meets eps
                want = p if g == 0 else p - lr * sign(g)
                assert abs(new - want) <= 4 * 2 ** -53 * (abs(p) + lr)


@given(beta1=BETA, beta2=BETA, eps=EPS, lr=st.floats(1e-3, 1), data=st.data())
def test_adams_first_step_is_lr_g_over_abs_g_plus_eps_whatever_the_betas(beta1, beta2, eps, lr,
                                                                         data):
    """The bias corrections make m̂ = g and v̂ = g² at t = 1: the first step is lr·g/(|g| + eps)."""
    _, params, grads = data.draw(runs(st.just(None)))
    new = Adam(lr, betas=(beta1, beta2), eps=eps).update(params, grads[0])
    for p, g, n in zip(params, grads[0], new):
        step = lr * g / (abs(g) + eps)
        assert abs(n - (p - step)) <= 1e-12 * (abs(p) + abs(step)), (p, g, n)


@pytest.mark.parametrize("fast", [True, False])
@given(case=general_cases(max_depth=3), data=st.data())
def test_adamw_with_weight_decay_zero_is_adam_bit_for_bit(case, data, fast):
    """AdamW(weight_decay=0) and Adam(weight_decay=0), same other arguments: the same training."""
    net, X, y = case
    arguments = dict(data.draw(adam_arguments()), weight_decay=0.0)
    runs_ = []
    for cls in (Adam, AdamW):
        trained = copy.deepcopy(net)
        optimizer = cls(**arguments)
        try:
            losses = trained.train(X, y, 3, optimizer=optimizer, log=None, fast=fast)
        except DivergenceError as error:  # then both must, at the same epoch
            losses = ("diverged", error.epoch)
        state = {k: bits(v) if isinstance(v, list) else v for k, v in optimizer.state.items()}
        runs_.append((bits(losses) if isinstance(losses, list) else losses,
                      bits(trained.weights), bits(trained.biases), state))
    assert runs_[0] == runs_[1]


# -- laws: weight decay -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adam"])
@given(data=st.data())
def test_weight_decay_is_the_gradient_plus_lambda_p_bit_for_bit(name, data):
    """SGD, RMSprop and Adam decay as L2: weight_decay=λ on g is weight_decay=0 on g + λ·p."""
    arguments, params, grads = data.draw(runs(ARGUMENTS[name]))
    wd = arguments["weight_decay"]
    decayed = optimizers.by_name(name, **arguments)
    plain = optimizers.by_name(name, **dict(arguments, weight_decay=0.0))
    p = q = list(params)
    for g in grads:
        p = decayed.update(p, g)
        q = plain.update(q, [g_i + wd * q_i if wd else g_i for g_i, q_i in zip(g, q)])
        assert bits(p) == bits(q)


@given(data=st.data())
def test_adamw_shrinks_p_then_takes_adams_step_on_the_undecayed_gradient(data):
    """AdamW(λ): p·(1 − lr·λ) first, then Adam(weight_decay=0)'s step with g itself, bit for bit."""
    arguments, params, grads = data.draw(runs(adam_arguments()))
    lr, wd = arguments["lr"], arguments["weight_decay"]
    adamw, adam = AdamW(**arguments), Adam(**dict(arguments, weight_decay=0.0))
    p = q = list(params)
    for g in grads:
        p = adamw.update(p, g)
        q = adam.update([q_i * (1 - lr * wd) if wd else q_i for q_i in q], g)
        assert bits(p) == bits(q)


@pytest.mark.parametrize("name", list(REFERENCES))
@given(data=st.data())
def test_with_zero_gradients_only_weight_decay_moves_parameters(name, data):
    """g = 0 at every step: weight_decay 0 leaves every parameter exactly as it was; λ > 0
    moves every nonzero parameter towards 0: SGD's first step by lr·λ·p (Nesterov's by
    lr·(1 + μ)·λ·p), AdamW's by lr·λ·p too (its decay is then the whole step), RMSprop's and
    Adam's by their step of the gradient λ·p."""
    arguments, params, grads = data.draw(runs(ARGUMENTS[name]))
    zero = [0.0] * len(params)
    still = optimizers.by_name(name, **dict(arguments, weight_decay=0.0))
    p = list(params)
    for _ in grads:
        p = still.update(p, zero)
    assert bits(p) == bits(params)
    lr, wd = max(arguments["lr"], 1e-3), 0.5
    decaying = optimizers.by_name(name, **dict(arguments, lr=lr, weight_decay=wd))
    new = decaying.update(params, zero)
    for before, after in zip(params, new):
        if name == "sgd":  # the first step's buffer is the gradient itself
            g = wd * before
            assert after == before - lr * (g + arguments["momentum"] * g if arguments["nesterov"]
                                           else g)
        elif name == "adamw":
            assert after == before * (1 - lr * wd)
        if before != 0:
            assert (after - before) * sign(before) < 0, (before, after)


# -- laws: momentum, Nesterov, dampening ---------------------------------------------------------


@given(lr=st.floats(0.01, 2), momentum=st.floats(0.01, 1.5), data=st.data())
def test_nesterov_steps_by_g_plus_momentum_times_the_same_buffer_as_momentum(lr, momentum, data):
    """Nesterov and plain momentum keep the same buffer b; Nesterov steps by g + μ·b, momentum by b."""
    _, params, grads = data.draw(runs(st.just(None)))
    nesterov, heavy = SGD(lr, momentum, nesterov=True), SGD(lr, momentum)
    p = q = list(params)
    for g in grads:
        new_p, new_q = nesterov.update(p, g), heavy.update(q, g)
        b = heavy.state["momentum_buffer"]
        assert bits(nesterov.state["momentum_buffer"]) == bits(b)
        assert bits(new_p) == bits([p_i - lr * (g_i + momentum * b_i)
                                    for p_i, g_i, b_i in zip(p, g, b)])
        assert bits(new_q) == bits([q_i - lr * b_i for q_i, b_i in zip(q, b)])
        p, q = new_p, new_q


def test_nesterov_differs_from_momentum_from_the_first_step():
    """One step with g = 1: momentum moves by lr, Nesterov by lr·(1 + μ)."""
    assert SGD(0.5, 0.5).update([0.0], [1.0]) == [-0.5]
    assert SGD(0.5, 0.5, nesterov=True).update([0.0], [1.0]) == [-0.75]


@given(lr=st.floats(0.01, 2), momentum=st.floats(0.01, 1), dampening=st.floats(0.01, 1),
       data=st.data())
def test_dampening_starts_after_the_first_step(lr, momentum, dampening, data):
    """The buffer starts as the first gradient itself, dampened or not; from step 2 dampening
    weighs the new gradient by 1 − τ: b₂ = μ·g₁ + (1 − τ)·g₂."""
    _, params, grads = data.draw(runs(st.just(None)))
    damped, undamped = SGD(lr, momentum, dampening), SGD(lr, momentum)
    assert bits(damped.update(params, grads[0])) == bits(undamped.update(params, grads[0]))
    assert damped.state["momentum_buffer"] == list(grads[0])
    if len(grads) > 1:
        damped.update(params, grads[1])
        want = [momentum * g1 + (1 - dampening) * g2 for g1, g2 in zip(grads[0], grads[1])]
        assert bits(damped.state["momentum_buffer"]) == bits(want)


def test_dampening_one_keeps_only_the_first_gradient():
    """τ = 1: b_t = μ^(t−1)·g₁, whatever comes later; with τ = 0 the later gradients count."""
    damped, undamped = SGD(0.1, 0.5, dampening=1.0), SGD(0.1, 0.5)
    p = q = [1.0, -2.0]
    for g in ([4.0, -8.0], [100.0, 3.0], [-7.0, 0.5]):
        p, q = damped.update(p, g), undamped.update(q, g)
    assert damped.state["momentum_buffer"] == [1.0, -2.0]  # 0.5² · (4, −8)
    assert undamped.state["momentum_buffer"] == [0.25 * 4 + 0.5 * 100 - 7, 0.25 * -8 + 1.5 + 0.5]


# -- configs, copies, names ---------------------------------------------------------------------


@pytest.mark.parametrize("name", list(REFERENCES))
@given(data=st.data())
def test_config_builds_the_same_optimizer_and_copy_takes_the_same_steps(name, data):
    """from_config(config()) has the same arguments and a fresh state; copy() steps as the
    original from then on, and stepping one leaves the other's state alone."""
    arguments, params, grads = data.draw(runs(ARGUMENTS[name]))
    optimizer = optimizers.by_name(name, **arguments)
    p = optimizer.update(params, grads[0])
    config = json.loads(json.dumps(optimizer.config()))  # as a model file holds it
    rebuilt = optimizers.from_config(config)
    assert rebuilt.arguments() == optimizer.arguments() and rebuilt.state == {"step": 0}
    assert repr(rebuilt) == repr(optimizer)
    twin = optimizer.copy()
    frozen = copy.deepcopy(twin.state)
    for g in grads[1:]:
        p = optimizer.update(p, g)
    assert twin.state == frozen
    q = optimizer.copy().update(p, grads[0])
    assert bits(q) == bits(optimizer.update(p, grads[0]))


def test_the_defaults_are_torch_optims():
    """Each constructor's defaults, as torch.optim documents them (AdamW decays by 0.01)."""
    assert SGD().arguments() == {"lr": 0.001, "momentum": 0, "dampening": 0,
                                 "weight_decay": 0, "nesterov": False}
    assert RMSprop().arguments() == {"lr": 0.01, "alpha": 0.99, "eps": 1e-8,
                                     "weight_decay": 0, "momentum": 0, "centered": False}
    assert Adam().arguments() == {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-8,
                                  "weight_decay": 0, "amsgrad": False}
    assert AdamW().arguments() == {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-8,
                                   "weight_decay": 0.01, "amsgrad": False}


def test_torch_optim_has_the_same_names_and_defaults():
    """The signatures of torch.optim's four classes: purebp's arguments, in order, with its defaults."""
    torch = pytest.importorskip("torch")
    import inspect
    for ours, theirs in ((SGD, torch.optim.SGD), (RMSprop, torch.optim.RMSprop),
                         (Adam, torch.optim.Adam), (AdamW, torch.optim.AdamW)):
        mine = list(inspect.signature(ours).parameters.values())
        their = inspect.signature(theirs).parameters
        names = [p for p in their if p not in ("params",)][:len(mine)]
        assert [p.name for p in mine] == names, ours
        for p in mine:
            default = their[p.name].default
            assert p.default == (default if not hasattr(default, "item") else default.item())


# -- refusals -------------------------------------------------------------------------------------

#: (constructor, arguments, error, words of the message)
BAD_ARGUMENTS = [
    (SGD, {"lr": -0.1}, ValueError, "sgd: lr must not be negative, got -0.1"),
    (SGD, {"lr": math.nan}, ValueError, "sgd: lr must be finite, got nan"),
    (SGD, {"lr": "0.1"}, TypeError, "sgd: lr must be a real number, got str '0.1'"),
    (SGD, {"lr": True}, TypeError, "sgd: lr must be a real number, got bool True"),
    (SGD, {"lr": None}, TypeError, "sgd: lr must be a real number, got NoneType None"),
    (SGD, {"momentum": -0.5}, ValueError, "sgd: momentum must not be negative, got -0.5"),
    (SGD, {"dampening": 1.5}, ValueError, "sgd: dampening must lie in [0, 1], got 1.5"),
    (SGD, {"dampening": -0.1}, ValueError, "sgd: dampening must lie in [0, 1], got -0.1"),
    (SGD, {"weight_decay": -1e-3}, ValueError, "sgd: weight_decay must not be negative"),
    (SGD, {"weight_decay": math.inf}, ValueError, "sgd: weight_decay must be finite, got inf"),
    (SGD, {"nesterov": True}, ValueError,
     "sgd: with nesterov=True, momentum must be > 0 and dampening 0, got momentum=0.0"),
    (SGD, {"momentum": 0.9, "dampening": 0.1, "nesterov": True}, ValueError,
     "dampening 0, got momentum=0.9, dampening=0.1"),
    (SGD, {"nesterov": 1}, TypeError, "sgd: nesterov must be True or False, got int 1"),
    (SGD, {"nesterov": "False"}, TypeError, "sgd: nesterov must be True or False, got str"),
    (RMSprop, {"lr": -1.0}, ValueError, "rmsprop: lr must not be negative, got -1.0"),
    (RMSprop, {"alpha": 1.01}, ValueError, "rmsprop: alpha must lie in [0, 1], got 1.01"),
    (RMSprop, {"alpha": -0.01}, ValueError, "rmsprop: alpha must lie in [0, 1], got -0.01"),
    (RMSprop, {"eps": 0.0}, ValueError, "rmsprop: eps must be positive, got 0.0"),
    (RMSprop, {"eps": -1e-8}, ValueError, "rmsprop: eps must be positive, got -1e-08"),
    (RMSprop, {"weight_decay": -0.5}, ValueError, "rmsprop: weight_decay must not be negative"),
    (RMSprop, {"momentum": -0.5}, ValueError, "rmsprop: momentum must not be negative"),
    (RMSprop, {"centered": 0}, TypeError, "rmsprop: centered must be True or False, got int 0"),
    (RMSprop, {"centered": None}, TypeError, "rmsprop: centered must be True or False"),
    (Adam, {"lr": -0.001}, ValueError, "adam: lr must not be negative, got -0.001"),
    (Adam, {"betas": (1.0, 0.999)}, ValueError, "adam: betas[0] must lie in [0, 1), got 1.0"),
    (Adam, {"betas": (0.9, 1.0)}, ValueError, "adam: betas[1] must lie in [0, 1), got 1.0"),
    (Adam, {"betas": (-0.1, 0.999)}, ValueError, "adam: betas[0] must lie in [0, 1), got -0.1"),
    (Adam, {"betas": (0.9, 1.5)}, ValueError, "adam: betas[1] must lie in [0, 1), got 1.5"),
    (Adam, {"betas": (0.9,)}, TypeError, "adam: betas must be a pair (beta1, beta2), got tuple"),
    (Adam, {"betas": (0.9, 0.99, 0.999)}, TypeError, "adam: betas must be a pair"),
    (Adam, {"betas": 0.9}, TypeError, "adam: betas must be a pair (beta1, beta2), got float 0.9"),
    (Adam, {"betas": "ab"}, TypeError, "adam: betas must be a pair (beta1, beta2), got str"),
    (Adam, {"betas": (0.9, "0.999")}, TypeError, "adam: betas[1] must be a real number, got str"),
    (Adam, {"betas": (None, 0.999)}, TypeError, "adam: betas[0] must be a real number"),
    (Adam, {"eps": 0.0}, ValueError, "adam: eps must be positive, got 0.0"),
    (Adam, {"eps": -1e-8}, ValueError, "adam: eps must be positive, got -1e-08"),
    (Adam, {"weight_decay": -0.01}, ValueError, "adam: weight_decay must not be negative"),
    (Adam, {"amsgrad": 1}, TypeError, "adam: amsgrad must be True or False, got int 1"),
    (Adam, {"amsgrad": "yes"}, TypeError, "adam: amsgrad must be True or False, got str"),
    (AdamW, {"lr": -1.0}, ValueError, "adamw: lr must not be negative, got -1.0"),
    (AdamW, {"betas": (0.9, 1.0)}, ValueError, "adamw: betas[1] must lie in [0, 1), got 1.0"),
    (AdamW, {"eps": 0}, ValueError, "adamw: eps must be positive, got 0.0"),
    (AdamW, {"weight_decay": -0.01}, ValueError, "adamw: weight_decay must not be negative"),
    (AdamW, {"amsgrad": None}, TypeError, "adamw: amsgrad must be True or False, got NoneType"),
]


@pytest.mark.parametrize("cls, arguments, error, words", BAD_ARGUMENTS,
                         ids=[f"{c.__name__}-{a}" for c, a, _, _ in BAD_ARGUMENTS])
def test_each_bad_argument_is_refused_naming_it_with_what_came(cls, arguments, error, words):
    """Every argument's refusal: the class's name, the argument, what it must be, what came."""
    with pytest.raises(error) as info:
        cls(**arguments)
    assert type(info.value) is error
    assert words in str(info.value), str(info.value)


@pytest.mark.parametrize("name, arguments, words", [
    ("adagrad", {}, "optimizer: unknown name 'adagrad'; expected one of 'sgd', 'rmsprop'"),
    ("SGD", {}, "optimizer: unknown name 'SGD'"),
    (3, {}, "optimizer: name must be a name (a str), got int 3"),
    ("sgd", {"betas": (0.9, 0.99)}, "sgd: arguments must be some of lr, momentum, dampening,"
                                    " weight_decay, nesterov, got betas"),
    ("adam", {"momentum": 0.9}, "adam: arguments must be some of lr, betas, eps, weight_decay,"
                                " amsgrad, got momentum"),
])
def test_by_name_refuses_unknown_names_and_arguments(name, arguments, words):
    """by_name names what it knows when given a name or an argument it does not."""
    with pytest.raises((ValueError, TypeError), match=re.escape(words)):
        optimizers.by_name(name, **arguments)


def test_update_refuses_parameters_of_another_size_and_changes_nothing():
    """The state is for the size of the first step; another size is refused, state untouched."""
    optimizer = Adam(0.1)
    optimizer.update([1.0, 2.0, 3.0], [0.5, 0.5, 0.5])
    frozen = copy.deepcopy(optimizer.state)
    with pytest.raises(ValueError, match=r"update: optimizer holds state for 3 parameters and"
                                         r" the parameters given has 2"):
        optimizer.update([1.0, 2.0], [0.5, 0.5])
    assert optimizer.state == frozen and optimizer.size == 3


def test_as_optimizer_refuses_anything_else_by_name():
    """A torch optimizer, a class instead of an instance, a name: refused, naming the argument."""
    for value in (SGD, "adam", 0.1, None):
        with pytest.raises(TypeError, match=r"train: optimizer must be one of purebp.optimizers'"
                                            r" SGD, RMSprop, Adam, AdamW, got "):
            optimizers.as_optimizer("train", value)
