"""Tests for purebp.adapters.torch: an nn.Sequential and torch's loss modules under the oracle.

The truth is the vectors' 50-digit expected values: torch's float64
autograd, run through the adapter, passes every case it can express; a
model of another network expresses no case of it; a Linear layer whose
backward pass is planted wrong (a torch.autograd.Function) fails, and on
the gradients, not the forward pass. Without torch (blocked in a
subprocess), ``import purebp.adapters.torch`` still works and a call says
"pip install torch" in one line. Every test but those needs torch and
skips without it.
"""

import copy
import os
import subprocess
import sys

import pytest

from purebp.oracle import checker, vectors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(scope="module")
def adapter(torch):
    from purebp.adapters import torch as adapter
    return adapter


@pytest.fixture(scope="module")
def curated():
    return vectors.curated()


def sequential(torch, adapter, spec, linear=None):
    """(model, loss) for a case's network, as a torch user would write it."""
    nn = torch.nn
    acts = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
            "leaky_relu": nn.LeakyReLU, "identity": nn.Identity}
    sizes, modules = spec["sizes"], []
    for l in range(len(sizes) - 1):
        modules.append((linear or nn.Linear)(sizes[l], sizes[l + 1]))
        if l < len(sizes) - 2:
            modules.append(acts[spec["activation"]]())
    if spec["loss"] == "bce":
        return nn.Sequential(*modules), nn.BCEWithLogitsLoss()
    if spec["loss"] == "cross_entropy":
        return nn.Sequential(*modules), nn.CrossEntropyLoss()
    if spec["output_activation"] != "identity":
        modules.append(acts[spec["output_activation"]]())
    return nn.Sequential(*modules), (nn.MSELoss() if spec["loss"] == "mse"
                                     else adapter.half_sse_loss())


def by_id(cases, case_id):
    return next(c for c in cases if c["id"] == case_id)


# -- correct: torch float64 passes every case -------------------------------------------


def test_torch_float64_passes_every_curated_and_random_case(torch, adapter, curated):
    """A build(spec) of plain nn modules expresses every case and passes all of them."""
    cases = curated + vectors.random_cases(10, 5)
    report = adapter.check(lambda spec: sequential(torch, adapter, spec), cases=cases)
    assert report.passed, report.table(failures_only=True)
    assert list(report.missing_ids) == [] and len(report.cases) == len(cases)
    assert report.counts()["not checked"] == 0


def test_torch_float32_passes_under_the_float32_preset(torch, adapter, curated):
    """dtype float32 computes in single precision, and the default policy is then float32's."""
    report = adapter.check(lambda spec: sequential(torch, adapter, spec), cases=curated,
                           dtype="float32")
    assert report.policy.name == "float32"
    assert report.passed, report.table(failures_only=True)
    case = by_id(curated, "xor-tutorial")
    model, loss = sequential(torch, adapter, case["network"])
    got = adapter.results(model, loss, case, dtype=torch.float32)["loss"]
    assert got == float(torch.tensor(got, dtype=torch.float32))  # a float32 value
    assert got != case["expected"]["loss"]  # rounded to float32: not the float64 truth


def test_results_give_purebp_layout_and_leave_the_model_alone(torch, adapter, curated):
    """weights come back sizes[l] × sizes[l+1] (torch's transposed), and the model's own weights stay."""
    case = by_id(curated, "xor-tutorial")  # 2-4-1: a transposed weight has another shape
    model, loss = sequential(torch, adapter, case["network"])
    before = [p.detach().clone() for p in model.parameters()]
    got = adapter.results(model, loss, case)
    assert [len(w) for w in got["gradients"]["weights"]] == [2, 4]
    assert [len(w[0]) for w in got["updated"]["weights"]] == [4, 1]
    assert len(got["trajectory"]) == case["steps"] and got["trajectory"][0] == got["loss"]
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    result = checker.compare(case, got)
    assert result.passed, result


def test_half_sse_loss_is_half_the_summed_squared_error(torch, adapter):
    """half_sse_loss() gives ½ Σ (ŷ − y)², summed by hand here."""
    y_hat = [[0.5, -1.0], [2.0, 0.25]]
    y = [[1.0, 0.0], [0.0, 0.25]]
    by_hand = 0.5 * ((0.5 - 1.0) ** 2 + 1.0 + 4.0 + 0.0)
    value = adapter.half_sse_loss()(torch.tensor(y_hat, dtype=torch.float64),
                                    torch.tensor(y, dtype=torch.float64))
    assert value.item() == by_hand


# -- what a model can express ----------------------------------------------------------


def test_network_spec_reads_the_modules(torch, adapter):
    """Linear sizes, the hidden activation, and the output the loss implies."""
    nn = torch.nn
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 5), nn.Tanh(), nn.Linear(5, 2))
    assert adapter.network_spec(model, nn.CrossEntropyLoss()) == {
        "sizes": [3, 5, 5, 2], "activation": "tanh", "output_activation": "softmax",
        "loss": "cross_entropy"}
    assert adapter.network_spec(model, nn.MSELoss())["output_activation"] == "identity"
    assert adapter.network_spec(model, nn.BCEWithLogitsLoss())["output_activation"] == "sigmoid"
    probabilities = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    assert adapter.network_spec(probabilities, nn.BCELoss()) == {
        "sizes": [2, 1], "activation": None, "output_activation": "sigmoid", "loss": "bce"}


def test_a_model_of_another_network_expresses_no_case_of_it(torch, adapter, curated):
    """Another size, activation or loss is not expressible; an op case never is."""
    nn = torch.nn
    xor = by_id(curated, "xor-tutorial")
    right = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
    assert adapter.expressible(right, adapter.half_sse_loss(), xor)
    for model, loss in [
        (nn.Sequential(nn.Linear(2, 5), nn.Sigmoid(), nn.Linear(5, 1), nn.Sigmoid()),
         adapter.half_sse_loss()),
        (nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid()),
         adapter.half_sse_loss()),
        (right, nn.MSELoss()),
        (nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1)), nn.BCEWithLogitsLoss()),
    ]:
        assert not adapter.expressible(model, loss, xor)
    op_case = {"id": "op-dense-1", "op": "dense", "inputs": [[1.0]], "weights": [[1.0]],
               "biases": [[0.0]], "upstream": [[1.0]]}
    assert not adapter.expressible(right, adapter.half_sse_loss(), op_case)
    with pytest.raises(ValueError, match="the case needs sizes"):
        adapter.results(right, nn.MSELoss(), xor)


def test_check_lists_the_cases_it_cannot_express_as_not_checked(torch, adapter, curated):
    """A fixed model is checked on its own cases; the others are missing_ids under subset."""
    nn = torch.nn
    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
    report = adapter.check(model, adapter.half_sse_loss(), cases=curated)
    # the model's network: 2-4-1, sigmoid hidden and output, half_sse
    mine = [c["id"] for c in curated
            if c["network"] == {"sizes": [2, 4, 1], "activation": "sigmoid",
                                "output_activation": "sigmoid", "loss": "half_sse"}]
    assert {"xor-tutorial", "xor-chaotic"} <= set(mine)
    assert [c.id for c in report.cases] == mine
    assert report.subset and len(report.missing_ids) == len(curated) - len(mine)
    assert report.passed and "allowed by subset" in report.verdict()


def test_check_refuses_a_model_that_expresses_nothing(torch, adapter, curated):
    """No expressible case is an error, not a vacuous PASS."""
    nn = torch.nn
    model = nn.Sequential(nn.Linear(7, 3), nn.Linear(3, 1))
    with pytest.raises(ValueError, match=f"can express none of the {len(curated)} cases"):
        adapter.check(model, nn.MSELoss(), cases=curated)
    with pytest.raises(ValueError, match="none of"):
        adapter.check(lambda spec: None, cases=curated)


@pytest.mark.parametrize("make, words", [
    (lambda nn: (nn.Sequential(nn.Linear(2, 2), nn.Dropout(), nn.Linear(2, 1)), nn.MSELoss()),
     "model[1] (Dropout) is neither a Linear layer"),
    (lambda nn: (nn.Sequential(nn.Linear(2, 2), nn.LeakyReLU(0.2), nn.Linear(2, 1)), nn.MSELoss()),
     "LeakyReLU(0.2)"),
    (lambda nn: (nn.Sequential(nn.Linear(2, 1, bias=False)), nn.MSELoss()), "has no bias"),
    (lambda nn: (nn.Sequential(nn.Linear(2, 1)), nn.MSELoss(reduction="sum")), "reduction='sum'"),
    (lambda nn: (nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2), nn.Tanh(),
                               nn.Linear(2, 1)), nn.MSELoss()), "relu, tanh"),
    (lambda nn: (nn.Sequential(nn.Linear(2, 3), nn.Linear(2, 1)), nn.MSELoss()), "has 2 inputs, expected 3"),
    (lambda nn: (nn.Sequential(nn.Linear(2, 1), nn.ReLU()), nn.BCEWithLogitsLoss()), "takes logits"),
    (lambda nn: (nn.Sequential(nn.Linear(2, 1)), nn.BCELoss()), "must end with Sigmoid"),
    (lambda nn: (nn.Sequential(nn.Linear(2, 1)), nn.L1Loss()), "L1Loss is none of"),
    (lambda nn: (lambda act: (nn.Sequential(nn.Linear(2, 2), act, nn.Linear(2, 2), act,
                                            nn.Linear(2, 1)), nn.MSELoss()))(nn.Tanh()),
     "model[3] (Tanh) is the same module object as model[1]"),
])
def test_a_model_purebp_has_no_network_for_is_refused_naming_the_module(torch, adapter, make,
                                                                          words):
    """Unknown modules, other slopes, no bias or reduction, mixed activations, a reused module: ValueError."""
    model, loss = make(torch.nn)
    with pytest.raises(ValueError) as caught:
        adapter.network_spec(model, loss)
    assert words in str(caught.value)


# -- buggy: the check fails, where the bug is ----------------------------------------------


def planted_linear(torch, mistake):
    """A Linear module whose backward pass makes one classic mistake (a torch.autograd.Function)."""

    class Dense(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, weight, bias):
            ctx.save_for_backward(x, weight)
            return x @ weight.T + bias

        @staticmethod
        def backward(ctx, grad):
            x, weight = ctx.saved_tensors
            grad_weight = grad.T @ x
            grad_bias = grad.sum(0)
            if mistake == "bias-one-row":
                grad_bias = grad[0]  # one sample's delta, not the batch sum
            elif mistake == "weight-doubled":
                grad_weight = 2 * grad_weight
            return grad @ weight, grad_weight, grad_bias

    class PlantedLinear(torch.nn.Module):
        def __init__(self, inputs, outputs):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(outputs, inputs))
            self.bias = torch.nn.Parameter(torch.zeros(outputs))

        def forward(self, x):
            return Dense.apply(x, self.weight, self.bias)

    return PlantedLinear


def test_a_linear_like_module_with_a_correct_backward_passes(torch, adapter, curated):
    """The custom Linear itself, with nothing planted, passes: the failures below are the bugs'."""
    linear = planted_linear(torch, None)
    report = adapter.check(lambda spec: sequential(torch, adapter, spec, linear), cases=curated)
    assert report.passed, report.table(failures_only=True)


@pytest.mark.parametrize("mistake, quantity", [("bias-one-row", "gradients.biases"),
                                               ("weight-doubled", "gradients.weights")])
def test_a_planted_backward_bug_fails_on_the_gradients_only(torch, adapter, curated, mistake,
                                                            quantity):
    """The forward pass and loss still pass; the planted gradient fails on many cases."""
    linear = planted_linear(torch, mistake)
    report = adapter.check(lambda spec: sequential(torch, adapter, spec, linear), cases=curated)
    assert not report.passed
    failed = {(c.id, q.name) for c in report.cases for q in c.quantities if q.status == "fail"}
    assert sum(name == quantity for _, name in failed) >= 10
    assert not {name for _, name in failed} & {"pre_activations", "activations", "loss"}


def test_a_sigmoid_before_bce_with_logits_is_run_and_fails(torch, adapter, curated):
    """Sigmoid then BCEWithLogitsLoss maps to bce but applies σ twice: the loss fails."""
    nn = torch.nn
    case = by_id(curated, "loss-bce")
    sizes = case["network"]["sizes"]
    modules = []
    for l in range(len(sizes) - 1):
        modules += [nn.Linear(sizes[l], sizes[l + 1]), nn.Sigmoid() if l == len(sizes) - 2
                    else {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}[
                        case["network"]["activation"]]()]
    report = adapter.check(nn.Sequential(*modules), nn.BCEWithLogitsLoss(), cases=[case])
    statuses = {q.name: q.status for q in report.cases[0].quantities}
    assert statuses["activations"] == "pass" and statuses["loss"] == "fail"


def test_a_build_that_raises_or_lies_fails_that_case_only(torch, adapter, curated):
    """An exception from build, or a model of another network, fails its case with a message."""
    def build(spec):
        if spec["sizes"] == [1, 1, 1]:
            raise RuntimeError("no 1-1-1 today")
        if spec["sizes"] == [2, 4, 1]:
            return sequential(torch, adapter, dict(spec, sizes=[2, 5, 1]))
        return sequential(torch, adapter, spec)

    report = adapter.check(build, cases=curated)
    failed = {c.id: c.quantities[0].detail for c in report.cases if not c.passed}
    assert set(failed) == {c["id"] for c in curated if c["network"]["sizes"] in ([1, 1, 1], [2, 4, 1])}
    assert {"one-unit", "xor-tutorial", "xor-chaotic"} <= set(failed)
    assert "no 1-1-1 today" in failed["one-unit"] and "the case needs" in failed["xor-tutorial"]


def test_check_refuses_cases_given_as_the_loss(torch, adapter, curated):
    """check(build, cases) (cases in loss's place) is a TypeError that says to name them."""
    with pytest.raises(TypeError, match="cases="):
        adapter.check(lambda spec: None, curated)


def test_the_model_given_is_never_trained(torch, adapter, curated):
    """check runs deep copies: the caller's parameters are the same afterwards."""
    nn = torch.nn
    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
    before = copy.deepcopy(model.state_dict())
    adapter.check(model, adapter.half_sse_loss(), cases=curated)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


# -- without torch ----------------------------------------------------------------------

BLOCK_TORCH = "import sys; sys.modules['torch'] = None\n"


def test_purebp_and_the_adapter_import_without_torch():
    """With torch blocked, import purebp and purebp.adapters.torch work, and a call says what to install."""
    code = BLOCK_TORCH + (
        "import purebp, purebp.oracle, purebp.adapters.torch as a\n"
        "assert 'torch' not in [m for m, v in sys.modules.items() if v is not None]\n"
        "try:\n"
        "    a.check(None, None)\n"
        "except ImportError as e:\n"
        "    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("purebp.adapters.torch needs PyTorch, which is not installed:"
                           " pip install torch\n")


def test_importing_purebp_imports_no_torch_even_where_it_is_installed():
    """``import purebp.adapters.torch`` loads neither torch nor numpy (lazy imports)."""
    code = ("import sys, purebp, purebp.adapters.torch, purebp.adapters.numpy\n"
            "print(sorted(m for m in ('torch', 'numpy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"
