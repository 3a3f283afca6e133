"""purebp.layers against PyTorch's own modules in float64 autograd, on random shapes,
strides and paddings: outputs, input gradients and parameter gradients within 1e-10
(relative to each tensor's largest entry). Skipped without torch (imported here only)."""

import random

import pytest

from purebp import layers
from purebp.layers.tensor import flat

torch = pytest.importorskip("torch")

RTOL = 1e-10


def close(found, wanted, what):
    found, wanted = flat(found), flat(wanted)
    assert len(found) == len(wanted), what
    scale = max(max(abs(v) for v in wanted), 1e-300)
    error = max(abs(a - b) for a, b in zip(found, wanted)) / scale
    assert error <= RTOL, f"{what}: relative error {error:.3g}"


def compare(ours, theirs, x, rng, names=("weight", "bias")):
    """Copy our parameters into torch's module, run both, compare y, ∂/∂x and ∂/∂params."""
    theirs.zero_grad()  # torch adds gradients up; purebp's backward replaces them
    for name in names:
        value = getattr(ours, name, None)
        if value is not None:
            getattr(theirs, name).data = torch.tensor(value, dtype=torch.float64)
    y = ours.forward(x)
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ty = theirs(tx)
    close(y, ty.tolist(), "output")
    g = [rng.uniform(-1, 1) for _ in flat(y)]
    ty.backward(torch.tensor(g, dtype=torch.float64).reshape(ty.shape))
    grad_x = ours.backward(torch.tensor(g, dtype=torch.float64).reshape(ty.shape).tolist())
    close(grad_x, tx.grad.tolist(), "∂loss/∂x")
    for name in names:
        if getattr(ours, name, None) is not None:
            close(ours.grads[name], getattr(theirs, name).grad.tolist(), f"∂loss/∂{name}")


def random_input(rng, shape):
    return torch.empty(shape, dtype=torch.float64).uniform_(-2, 2,
                                                              generator=_gen(rng)).tolist()


def _gen(rng):
    return torch.Generator().manual_seed(rng.randrange(2 ** 31))


@pytest.mark.parametrize("seed", range(25))
def test_conv2d_matches_torch_on_random_shapes_strides_and_paddings(seed):
    rng = random.Random(seed)
    kh, kw = rng.randint(1, 4), rng.randint(1, 4)
    sh, sw = rng.randint(1, 3), rng.randint(1, 3)
    ph, pw = rng.randint(0, 2), rng.randint(0, 2)
    C, O, N = rng.randint(1, 3), rng.randint(1, 3), rng.randint(1, 2)
    H, W = rng.randint(max(1, kh - 2 * ph), 7), rng.randint(max(1, kw - 2 * pw), 7)
    bias = rng.random() < 0.7
    ours = layers.Conv2d(C, O, (kh, kw), (sh, sw), (ph, pw), bias=bias, generator=rng)
    theirs = torch.nn.Conv2d(C, O, (kh, kw), (sh, sw), (ph, pw), bias=bias).double()
    compare(ours, theirs, random_input(rng, (N, C, H, W)), rng)


@pytest.mark.parametrize("seed", range(15))
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_matches_torch(seed, kind):
    rng = random.Random(seed)
    k = (rng.randint(1, 3), rng.randint(1, 3))
    s = (rng.randint(1, 3), rng.randint(1, 3))
    p = (rng.randint(0, k[0] // 2), rng.randint(0, k[1] // 2))
    shape = (rng.randint(1, 2), rng.randint(1, 2), rng.randint(k[0], 7), rng.randint(k[1], 7))
    ours = (layers.MaxPool2d if kind == "max" else layers.AvgPool2d)(k, s, p)
    theirs = (torch.nn.MaxPool2d if kind == "max" else torch.nn.AvgPool2d)(k, s, p)
    compare(ours, theirs, random_input(rng, shape), rng, names=())


def test_max_pool_ties_go_where_torch_sends_them():
    x = [[[[1.0, 3.0, 3.0], [3.0, 0.0, 3.0], [2.0, 3.0, 1.0]]]]
    compare(layers.MaxPool2d(2, 1), torch.nn.MaxPool2d(2, 1), x, random.Random(0), names=())


@pytest.mark.parametrize("shape", [(5, 3), (2, 3), (4, 3, 6)])
def test_batch_norm_1d_matches_torch_in_training_and_evaluation_mode(shape):
    rng = random.Random(repr(shape))
    ours, theirs = layers.BatchNorm1d(3), torch.nn.BatchNorm1d(3).double()
    ours.weight = [rng.uniform(0.5, 2) for _ in range(3)]
    ours.bias = [rng.uniform(-1, 1) for _ in range(3)]
    for _ in range(2):  # twice: the running statistics move twice
        compare(ours, theirs, random_input(rng, shape), rng)
    close(ours.running_mean, theirs.running_mean.tolist(), "running_mean")
    close(ours.running_var, theirs.running_var.tolist(), "running_var")
    assert ours.num_batches_tracked == int(theirs.num_batches_tracked)
    ours.eval()
    theirs.eval()
    compare(ours, theirs, random_input(rng, (1,) + shape[1:]), rng)


def test_batch_norm_2d_matches_torch():
    rng = random.Random(2)
    ours, theirs = layers.BatchNorm2d(2, momentum=0.3), torch.nn.BatchNorm2d(2, momentum=0.3).double()
    compare(ours, theirs, random_input(rng, (3, 2, 4, 3)), rng)
    close(ours.running_var, theirs.running_var.tolist(), "running_var")


@pytest.mark.parametrize("normalized, shape", [(5, (3, 5)), ((2, 3), (4, 2, 3)), ((3, 2, 2), (2, 3, 2, 2))])
def test_layer_norm_matches_torch(normalized, shape):
    rng = random.Random(repr(shape))
    ours, theirs = layers.LayerNorm(normalized), torch.nn.LayerNorm(normalized).double()
    n = 1
    for d in ours.normalized_shape:
        n *= d
    ours.weight = torch.empty(ours.normalized_shape, dtype=torch.float64).uniform_(
        0.5, 2, generator=_gen(rng)).tolist()
    ours.bias = torch.empty(ours.normalized_shape, dtype=torch.float64).uniform_(
        -1, 1, generator=_gen(rng)).tolist()
    compare(ours, theirs, random_input(rng, shape), rng)


def test_linear_matches_torch():
    rng = random.Random(3)
    compare(layers.Linear(4, 3, generator=rng), torch.nn.Linear(4, 3).double(),
            random_input(rng, (5, 4)), rng)


@pytest.mark.parametrize("ours, theirs", [
    (layers.ReLU, torch.nn.ReLU), (layers.Sigmoid, torch.nn.Sigmoid), (layers.Tanh, torch.nn.Tanh),
    (lambda: layers.LeakyReLU(0.1), lambda: torch.nn.LeakyReLU(0.1)),
    (lambda: layers.Softmax(-1), lambda: torch.nn.Softmax(-1)), (layers.Identity, torch.nn.Identity),
])
def test_activations_match_torch(ours, theirs):
    rng = random.Random(4)
    compare(ours(), theirs(), random_input(rng, (3, 2, 4)), rng, names=())


def test_flatten_matches_torch():
    rng = random.Random(5)
    compare(layers.Flatten(), torch.nn.Flatten(), random_input(rng, (2, 3, 2, 2)), rng, names=())


def test_a_torch_models_state_dict_loads_and_its_gradients_match_key_by_key():
    """A trained torch CNN's weights, via .tolist(), give purebp the same loss and gradients."""
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 3, 3, padding=1), torch.nn.BatchNorm2d(3), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(3 * 3 * 3, 4)).double()
    x = torch.randn(5, 1, 6, 6, dtype=torch.float64)
    labels = torch.tensor([0, 3, 1, 2, 3])
    torch.nn.CrossEntropyLoss()(theirs(x), labels).backward()  # one step, so the weights move
    with torch.no_grad():
        for p in theirs.parameters():
            p -= 0.1 * p.grad
    theirs.zero_grad()
    ours = layers.Sequential(layers.Conv2d(1, 3, 3, padding=1), layers.BatchNorm2d(3),
                             layers.ReLU(), layers.MaxPool2d(2), layers.Flatten(),
                             layers.Linear(27, 4), loss="cross_entropy")
    ours.load_state_dict({k: v.tolist() for k, v in theirs.state_dict().items()})
    loss = torch.nn.CrossEntropyLoss()(theirs(x), labels)
    loss.backward()
    y = [[1.0 if k == c else 0.0 for k in range(4)] for c in labels.tolist()]
    output = ours.forward(x.tolist())
    assert abs(ours.loss(output, y) - loss.item()) <= RTOL * loss.item()
    ours.backward(ours.loss_gradient(output, y))
    grads = ours.gradients()
    for name, p in theirs.named_parameters():
        if name == "0.bias":
            # a bias just before batch norm has gradient 0 exactly (the norm takes the mean
            # out): both sides hold rounding noise only
            assert max(abs(v) for v in flat(grads[name]) + flat(p.grad.tolist())) < 1e-14
            continue
        close(grads[name], p.grad.tolist(), name)
    close(ours[1].running_mean, theirs[1].running_mean.tolist(), "running_mean")
