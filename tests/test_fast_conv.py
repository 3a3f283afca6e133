"""Tests for purebp.fast.conv: Conv2d's fast path gives the readable loops' bits exactly, on
random shapes, strides and paddings, with ``sum`` (where it adds left to right) and with
the loop used where sum is compensated."""

import random

import pytest

from purebp.fast import conv as fast_conv
from purebp.layers import Conv2d
from purebp.layers.tensor import flat, unflat


def configs(count):
    rng = random.Random(17)
    for _ in range(count):
        kh, kw = rng.randint(1, 4), rng.randint(1, 4)
        ph, pw = rng.randint(0, 3), rng.randint(0, 3)
        yield {"N": rng.randint(1, 3), "C": rng.randint(1, 3), "O": rng.randint(1, 3),
               "H": rng.randint(max(1, kh - 2 * ph), 8), "W": rng.randint(max(1, kw - 2 * pw), 8),
               "kernel": (kh, kw), "stride": (rng.randint(1, 3), rng.randint(1, 3)),
               "padding": (ph, pw), "bias": rng.random() < 0.7, "seed": rng.randrange(10 ** 6)}


def both(c):
    """(readable, fast) results of one forward and backward: y, ∂/∂x and the grads."""
    results = []
    for fast in (False, True):
        rng = random.Random(c["seed"])
        layer = Conv2d(c["C"], c["O"], c["kernel"], c["stride"], c["padding"], bias=c["bias"],
                       generator=rng)
        layer.fast = fast
        # values of every sign and size, zeros and -0.0 among them
        pool = [rng.uniform(-3, 3) for _ in range(20)] + [0.0, -0.0, 1e-300, -1e200]
        x = unflat([rng.choice(pool) for _ in range(c["N"] * c["C"] * c["H"] * c["W"])],
                   (c["N"], c["C"], c["H"], c["W"]))
        y = layer.forward(x)
        g = unflat([rng.choice(pool[:22]) for _ in flat(y)], _shape(y))
        results.append((y, layer.backward(g), layer.grads))
    return results


def _shape(t):
    shape = []
    while isinstance(t, list):
        shape.append(len(t))
        t = t[0]
    return tuple(shape)


def bits(t):
    return [float.hex(v) for v in flat(t)]


@pytest.mark.parametrize("c", list(configs(40)), ids=lambda c: f"{c['kernel']}-{c['stride']}-{c['padding']}")
def test_the_fast_path_gives_the_readable_loops_bits(c):
    (y0, gx0, grads0), (y1, gx1, grads1) = both(c)
    assert bits(y1) == bits(y0)
    assert bits(gx1) == bits(gx0)
    assert {k: bits(v) for k, v in grads1.items()} == {k: bits(v) for k, v in grads0.items()}


@pytest.mark.parametrize("c", list(configs(8)), ids=lambda c: f"{c['kernel']}-{c['stride']}")
def test_where_sum_is_compensated_the_loop_gives_the_same_bits(c, monkeypatch):
    monkeypatch.setattr(fast_conv, "SUM_ADDS_LEFT_TO_RIGHT", not fast_conv.SUM_ADDS_LEFT_TO_RIGHT)
    (y0, gx0, grads0), (y1, gx1, grads1) = both(c)
    assert bits(y1) == bits(y0) and bits(gx1) == bits(gx0)
    assert {k: bits(v) for k, v in grads1.items()} == {k: bits(v) for k, v in grads0.items()}


def test_the_layer_is_fast_by_default_and_says_how_to_step_through_the_loops():
    assert Conv2d.fast is True and "fast = False" in Conv2d.__doc__.replace("layer.fast", "fast")


def test_int_inputs_give_floats_with_the_loops_bits():
    """The loops add from 0.0; so does the fast path: int inputs give the same floats."""
    results = []
    for fast in (False, True):
        layer = Conv2d(1, 1, 1, bias=False)
        layer.weight = [[[[1]]]]
        layer.fast = fast
        y = layer.forward([[[[2 ** 53, 1, 1]]]])
        grad = layer.backward([[[[1, 1, 1]]]])
        results.append((y, grad, layer.grads))
    assert results[0] == results[1]
    assert all(type(v) is float for v in flat(results[1][0]) + flat(results[1][2]["weight"]))
