"""Tests for purebp.fast.unrolled: the written-out code compiles, reads, and computes one epoch right.

Whole training runs are compared with the reference in test_fast_loop.py.
Here the generated function is called directly and checked against the
network's own reference epoch, and the code itself against what it promises
to a reader (one statement per equation, names from the docs).
"""

import copy
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import general_cases

from purebp.fast import unrolled
from purebp.fast.loop import flat_parameters, keep_forward
from purebp.fast.unrolled import Spec
from purebp.network import Network
from purebp.optimizers import SGD

TUTORIAL = Spec((2, 4, 1), "sigmoid", "sigmoid", "half_sse", "mse")


@given(general_cases())
def test_one_unrolled_epoch_equals_one_reference_epoch(case):
    """train_epochs(epochs=1) returns the parameters, loss and forward pass of Network._epoch."""
    net, X, y = case
    spec = net._spec()
    assert unrolled.supported(spec), spec
    rows = [tuple(x) + tuple(t) for x, t in zip(X, y)]
    losses, kept = [], []
    flat = unrolled.compiled(spec)(rows, flat_parameters(net), 0.25, 1, losses, kept)
    reference = copy.deepcopy(net)
    loss = reference._epoch(X, y, SGD(0.25), None)
    if flat is None:  # the unrolled code saw a non-finite value: so must the reference
        assert not (math.isfinite(loss) and reference._finite())
        return
    assert flat == flat_parameters(reference)
    assert losses == [loss] or (math.isnan(loss) and math.isnan(losses[0]))
    keep_forward(net, X, kept)
    assert net.zs == reference.zs and net.activations == reference.activations


def test_the_tutorial_source_reads_like_the_equations():
    """The 2-4-1 code names every quantity as the docs do and has one statement per equation."""
    text = unrolled.source(TUTORIAL)
    for line in (
        "for a0_0, a0_1, y_0 in rows:",
        "z0_0 = 0.0 + a0_0 * w0_0_0 + a0_1 * w0_1_0",
        "z0_0 = z0_0 + b0_0",
        "a1_0 = exp(z0_0) if z0_0 < -708.0 else 1.0 / (1.0 + exp(-z0_0))",
        "e_0 = a2_0 - y_0",
        "d1_0 = e_0 * (a2_0 * (1.0 - a2_0))",
        "d0_3 = d0_3 * (a1_3 * (1.0 - a1_3))",
        "gw0_1_2 = gw0_1_2 + a0_1 * d0_2",
        "w1_3_0 = w1_3_0 - learning_rate * gw1_3_0",
        "loss = total / count",
    ):
        assert line in text, line
    assert "[" not in text.split("for epoch in range(epochs):")[1].split("if kept")[0], \
        "the epoch loop should build no lists"


def test_long_sums_are_split_over_lines_in_the_same_order():
    """A fan-in of 20 becomes lines of 8 terms, each continuing the last."""
    text = unrolled.source(Spec((20, 1), "identity", "identity", "half_sse", "half_sse"))
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("z0_0 =")]
    assert lines[0] == "z0_0 = 0.0 + " + " + ".join(f"a0_{i} * w0_{i}_0" for i in range(8))
    assert lines[1] == "z0_0 = z0_0 + " + " + ".join(f"a0_{i} * w0_{i}_0" for i in range(8, 16))
    assert lines[2] == "z0_0 = z0_0 + " + " + ".join(f"a0_{i} * w0_{i}_0" for i in range(16, 20))
    assert lines[3] == "z0_0 = z0_0 + b0_0"


def test_the_largest_supported_network_compiles_and_matches():
    """A network just under MAX_WEIGHTS compiles (no recursion limit) and agrees with the reference."""
    net = Network([30, 100, 9], "relu", "identity", "mse", seed=2)
    spec = net._spec()
    assert unrolled.supported(spec)
    X = [[math.sin(i + j) for j in range(30)] for i in range(3)]
    y = [[math.cos(i * j) for j in range(9)] for i in range(3)]
    rows = [tuple(x) + tuple(t) for x, t in zip(X, y)]
    flat = unrolled.compiled(spec)(rows, flat_parameters(net), 0.01, 1, [], None)
    net._epoch(X, y, SGD(0.01), None)
    assert flat == flat_parameters(net)


@pytest.mark.parametrize("spec, why", [
    (Spec((64, 64, 2), "relu", "identity", "mse", "mse"), "more than MAX_WEIGHTS"),
    (Spec((64, 64, 2), "relu", "softmax", "cross_entropy", "cross_entropy"), "more than MAX_WEIGHTS"),
    (Spec((2, 3), "tanh", "softmax", "mse", "mse"), "softmax without cross_entropy"),
    (Spec((2, 3), "tanh", "softmax", "cross_entropy", "mse"), "softmax logging another loss"),
    (Spec((2, 3), "tanh", "identity", "cross_entropy", "cross_entropy"), "cross_entropy without softmax"),
])
def test_what_is_not_unrolled(spec, why):
    """Networks over MAX_WEIGHTS weights, and softmax or cross_entropy without the other, stay
    with the reference (the network refuses the pairs anyway)."""
    assert not unrolled.supported(spec), why


def test_softmax_with_cross_entropy_is_unrolled_up_to_the_limit():
    """Softmax networks are written out like any other, up to MAX_WRITTEN_OUT parameters."""
    assert unrolled.supported(Spec((2, 3), "tanh", "softmax", "cross_entropy", "cross_entropy"))
    assert unrolled.supported(Spec((1, 2048), "tanh", "softmax", "cross_entropy", "cross_entropy"))
    assert not unrolled.supported(Spec((2, 1366), "tanh", "softmax", "cross_entropy",
                                       "cross_entropy"))


@given(general_cases(output_and_loss=("softmax", "cross_entropy")), st.data())
def test_one_unrolled_softmax_epoch_equals_the_reference_for_any_targets(case, data):
    """Targets the network would refuse (unnormalised, above 1, all zero, −0.0): the written-out
    epoch still gives Network._epoch's parameters, loss and forward pass, bit for bit."""
    net, X, y = case
    y = [[data.draw(st.sampled_from([0.0, -0.0, 1.0, 0.5, 2.0, 0.3])) for _ in row] for row in y]
    rows = [tuple(x) + tuple(t) for x, t in zip(X, y)]
    losses, kept = [], []
    flat = unrolled.compiled(net._spec())(rows, flat_parameters(net), 0.25, 1, losses, kept)
    reference = copy.deepcopy(net)
    loss = reference._epoch(X, y, SGD(0.25), None)
    assert flat is not None and math.isfinite(loss)
    assert flat == flat_parameters(reference) and losses == [loss]
    keep_forward(net, X, kept)
    assert net.zs == reference.zs and net.activations == reference.activations


def test_the_softmax_source_reads_like_the_equations():
    """The 2-3 softmax code names the reference's quantities: top, u, m, others, log_rest, mass."""
    text = unrolled.source(Spec((2, 3), "tanh", "softmax", "cross_entropy", "cross_entropy"))
    for line in (
        "n = len(rows)",
        "top = max((z0_0, z0_1, z0_2,))",
        "u_1 = exp(z0_1 - top)",
        "u_sum = 0.0 + u_0 + u_1 + u_2",
        "a1_2 = u_2 / u_sum",
        "m = (z0_0, z0_1, z0_2,).index(top)",
        "others = 0.0 + (u_0 if m != 0 else -0.0) + (u_1 if m != 1 else -0.0) + (u_2 if m != 2 else -0.0)",
        "log_rest = log1p(others)",
        "mass = 0.0 + y_0 + y_1 + y_2",
        "row_loss = 0.0 + (y_0 * ((top - z0_0) + log_rest) if y_0 != 0.0 else -0.0) + (y_1 * ((top"
        " - z0_1) + log_rest) if y_1 != 0.0 else -0.0) + (y_2 * ((top - z0_2) + log_rest) if y_2 !="
        " 0.0 else -0.0)",
        "total = total + row_loss",
        "d0_1 = (mass * a1_1 - y_1) / n",
        "loss = total / n",
    ):
        assert line in text, line


def test_compiled_functions_are_cached_per_spec():
    """The same spec compiles once; a different one gets its own code."""
    assert unrolled.compiled(TUTORIAL) is unrolled.compiled(Spec(*TUTORIAL))
    assert unrolled.compiled(TUTORIAL) is not unrolled.compiled(TUTORIAL._replace(logged="half_sse"))


def test_every_activation_and_loss_is_written_out():
    """Every element-wise activation and every loss carries its written-out form; cross_entropy's
    is the one loss of whole rows, after softmax's row steps."""
    from purebp.activations import ACTIVATIONS, SOFTMAX_CODE
    from purebp.losses import LOSSES
    assert all(isinstance(a.code.f, str) and isinstance(a.code.f_prime, str)
               for a in ACTIVATIONS.values())
    assert all(isinstance(loss.code.entry, str) for loss in LOSSES.values())
    assert {name for name, loss in LOSSES.items() if loss.code.row} == {"cross_entropy"}
    assert {step.kind for step in SOFTMAX_CODE} == {"row", "entry", "sum"}


def test_a_traceback_inside_written_out_code_shows_its_source_line():
    """Generated code is registered with linecache: a traceback shows the line that failed."""
    import traceback
    spec = Spec((2, 3, 1), "tanh", "sigmoid", "bce", "bce")
    kernel = unrolled.compiled(spec)
    net = Network([2, 3, 1], "tanh", "sigmoid", "bce", seed=0)
    try:  # a target that is no number fails inside the written-out loss
        kernel([(0.0, 1.0, "one")], flat_parameters(net), 0.1, 1, [], None)
    except TypeError as error:
        frame = traceback.extract_tb(error.__traceback__)[-1]
    else:
        raise AssertionError("a str target should fail inside the generated code")
    assert frame.filename.startswith("<purebp.fast.unrolled [2, 3, 1]")
    source_lines = unrolled.source(spec).splitlines()
    assert frame.line == source_lines[frame.lineno - 1].strip()
    assert "y_0" in frame.line


def test_each_written_out_function_has_its_own_file_name_and_survives_clearcache():
    """Two specs that differ only in the logged loss get two names; clearcache loses no source."""
    import linecache
    first = unrolled.compiled(TUTORIAL)
    other = unrolled.compiled(TUTORIAL._replace(logged="half_sse"))
    names = {f.__code__.co_filename for f in (first, other)}
    assert len(names) == 2
    linecache.clearcache()
    for spec in (TUTORIAL, TUTORIAL._replace(logged="half_sse")):
        function = unrolled.compiled(spec)
        text = linecache.getlines(function.__code__.co_filename)
        assert "".join(text) == unrolled.source(spec)


def test_docs_show_the_code_purebp_generates_for_the_tutorial():
    """purebp/docs/speed.md's code block is exactly source() for NeuralNetwork(2, 4, 1)."""
    import pathlib
    text = (pathlib.Path(__file__).parent.parent / "purebp" / "docs" / "speed.md").read_text("utf-8")
    block = text.split("```python\n", 1)[1].split("```", 1)[0]
    assert block == unrolled.source(TUTORIAL), "regenerate the block in purebp/docs/speed.md"
