"""A PyTorch ``nn.Sequential`` as an implementation under purebp's oracle (torch imported lazily).

    network_spec(model, loss)       the purebp network the model and the loss module compute
    expressible(model, loss, case)  True if that is the case's network
    results(model, loss, case, dtype=None)   the case's quantities, as torch computes them
    check(model, loss, *, cases=None, pol=None, dtype=None)
                                    a purebp.oracle Report over the cases it can express
    check(build, *, cases=...)       the same, with ``build(spec)`` giving (model, loss) or
                                    None for each case's network, so one file covers many sizes
    half_sse_loss()                 ½ Σ_n Σ_k (ŷ − y)², the tutorial's loss, as a torch module
    not_expressible_note(report)    one line: how many cases were checked, how many not expressible
    require()                       the torch module, or ImportError saying "pip install torch"

A model is an ``nn.Sequential`` of Linear layers (``nn.Linear``, or any
module with a ``weight`` Parameter of out × in and a ``bias`` Parameter of
out), each followed by at most one activation module: ``nn.Sigmoid``,
``nn.Tanh``, ``nn.ReLU``, ``nn.LeakyReLU(0.01)``, ``nn.Identity`` (or
none), and ``nn.Softmax(dim=1)`` after the last. The losses are torch's own
modules, with their default reduction (the mean):

    nn.MSELoss()                                       mse
    nn.BCEWithLogitsLoss(), the model ending in Linear bce, output sigmoid (inside the loss)
    nn.BCELoss(), the model ending in nn.Sigmoid       bce
    nn.CrossEntropyLoss(), the model ending in Linear  cross_entropy, output softmax (inside)
    half_sse_loss()                                    half_sse

What the model computes is read off its modules, and the model is then run
as it is: a Sigmoid before BCEWithLogitsLoss (or a Softmax before
CrossEntropyLoss) maps to purebp's bce (cross_entropy) network but applies
the output activation twice, and the check fails, as it should.

``results`` copies the case's parameters into a deep copy of the model (a
torch Linear's weight is out × in, the transpose of purebp's
``weights[l]``), runs the forward pass (a forward hook on each module
records z and a), the loss and autograd's backward pass, and takes the
case's steps with torch.optim's own optimizer (SGD, RMSprop, Adam, AdamW
with the case's arguments; SGD of the case's learning rate without one), on
the rows of each of the case's ``batches`` where it has them; it returns the
"expected" layout of the test vectors, with the optimizer's state read off
``optimizer.state`` and shaped as purebp's parameters. Cases of another
network, and op cases, are not expressible: ``check`` lists them as not
checked (the Report's ``missing_ids``, with ``subset``) and raises
ValueError if no case is expressible at all.

torch is imported by the functions, never by this module, so that
``import purebp.adapters.torch`` needs nothing; calling one without torch
raises ImportError ("pip install torch"). What this module does not do:
other layer types (convolutions, dropout, normalisation), per-layer
activations that differ (purebp's networks use one for the hidden layers),
or judge anything itself (purebp.oracle.checker does).
"""

from __future__ import annotations

import copy
import importlib
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple

from purebp import _checks
from purebp.oracle import checker, vectors
from purebp.oracle.checker import Report
from purebp.oracle.tolerance_policy import POLICIES, Policy

#: The line an ImportError says when torch is missing.
INSTALL = "purebp.adapters.torch needs PyTorch, which is not installed: pip install torch"

#: purebp's leaky_relu slope; nn.LeakyReLU's default too.
LEAKY_SLOPE = 0.01


def require() -> Any:
    """Return the torch module, or raise ImportError saying how to install it."""
    try:
        return importlib.import_module("torch")
    except ImportError:
        raise ImportError(INSTALL) from None


def _dtype(op: str, torch: Any, dtype: Any) -> Any:
    """Return the torch dtype meant by ``dtype``: None or "float64" (default), "float32"."""
    names = {"float64": torch.float64, "float32": torch.float32}
    if dtype is None:
        return torch.float64
    if isinstance(dtype, str) and dtype in names:
        return names[dtype]
    if dtype in (torch.float64, torch.float32):
        return dtype
    raise ValueError(f"{op}: dtype must be torch.float64 or torch.float32 (or their names),"
                     f" got {_checks._describe(dtype)}")


def _policy(dtype: Any, torch: Any) -> Policy:
    """The tolerance preset of the arithmetic: float32's for float32, else float64's."""
    return POLICIES["float32" if dtype == torch.float32 else "float64"]


# -- the half_sse loss, which torch has no module for ------------------------------------

_HALF_SSE: List[Any] = []  # the class, made on first use (it needs torch)


def _half_sse_class(torch: Any) -> Any:
    if not _HALF_SSE:
        class HalfSSELoss(torch.nn.Module):  # type: ignore[misc]  # torch is Any: a base of type Any
            """½ Σ_n Σ_k (ŷ − y)²: the tutorial's loss, summed, not averaged (purebp's half_sse)."""

            def forward(self, input: Any, target: Any) -> Any:
                return 0.5 * ((input - target) ** 2).sum()

        _HALF_SSE.append(HalfSSELoss)
    return _HALF_SSE[0]


def half_sse_loss() -> Any:
    """Return a new torch loss module computing ½ Σ_n Σ_k (ŷ − y)² (purebp's half_sse)."""
    return _half_sse_class(require())()


# -- what a model computes -----------------------------------------------------------------


class Mapped(NamedTuple):
    """What a model and loss compute, in purebp's terms.

    ``network``: sizes, activation (None for one layer: it has no hidden
    layer), output_activation, loss. ``linears``: the positions of the Linear
    layers among the model's modules; ``activations``: for each, the
    position of its activation module, or None (no module: identity, or the
    loss applies the output activation). ``loss_applies_output``: the loss
    module applies the output activation itself (BCEWithLogitsLoss,
    CrossEntropyLoss), so ``a`` of the last layer is σ(z) or softmax(z).
    """

    network: Dict[str, Any]
    linears: List[int]
    activations: List[Optional[int]]
    loss_applies_output: bool


def _activation_name(op: str, torch: Any, module: Any, where: str) -> Optional[str]:
    """Return purebp's name of an activation module, None if it is no activation module."""
    nn = torch.nn
    if isinstance(module, nn.LeakyReLU):
        if module.negative_slope != LEAKY_SLOPE:
            raise ValueError(f"{op}: {where} is LeakyReLU({module.negative_slope!r}); purebp's"
                             f" leaky_relu has slope {LEAKY_SLOPE}, so no case can be expressed")
        return "leaky_relu"
    if isinstance(module, nn.Softmax):
        if module.dim not in (1, -1):
            raise ValueError(f"{op}: {where} is Softmax(dim={module.dim!r}); purebp's softmax is"
                             f" row-wise, Softmax(dim=1)")
        return "softmax"
    for kind, name in ((nn.Sigmoid, "sigmoid"), (nn.Tanh, "tanh"), (nn.ReLU, "relu"),
                       (nn.Identity, "identity")):
        if isinstance(module, kind):
            return name
    return None


def _is_linear(torch: Any, module: Any) -> bool:
    """True for a module with a weight of out × in and a bias (nn.Linear or one like it).

    A convolution's weight has more than two dimensions: it is not one.
    """
    weight = getattr(module, "weight", None)
    return isinstance(weight, torch.Tensor) and weight.dim() == 2 and hasattr(module, "bias")


def _check_linear(op: str, torch: Any, module: Any, where: str) -> Tuple[int, int]:
    """Return (in, out) of a Linear-like module, after checking its weight and bias."""
    weight, bias = module.weight, module.bias
    if not isinstance(weight, torch.nn.Parameter):
        raise ValueError(f"{op}: {where}.weight must be a Parameter of out × in, got"
                         f" {type(weight).__name__} of shape {tuple(weight.shape)}")
    if bias is None:
        raise ValueError(f"{op}: {where} has no bias; purebp's layers all have one"
                         f" (nn.Linear(..., bias=True))")
    out, inputs = weight.shape
    if not isinstance(bias, torch.nn.Parameter) or tuple(bias.shape) != (out,):
        raise ValueError(f"{op}: {where}.bias must be a Parameter of {out} entries, got"
                         f" {type(bias).__name__} of shape {tuple(bias.shape)}")
    return int(inputs), int(out)


def _map(op: str, model: Any, loss: Any) -> Mapped:
    """Return what ``model`` and ``loss`` compute, or raise ValueError naming the module."""
    torch = require()
    nn = torch.nn
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"{op}: model must be a torch.nn.Sequential, got {_checks._describe(model)}")
    modules = list(model)
    sizes: List[int] = []
    linears: List[int] = []
    activations: List[Optional[int]] = []
    names: List[Optional[str]] = []
    for i, module in enumerate(modules):
        where = f"model[{i}] ({type(module).__name__})"
        first = next(j for j, other in enumerate(modules) if other is module)
        if first != i:  # one module twice: its hook could not tell the two calls apart
            raise ValueError(f"{op}: {where} is the same module object as model[{first}]; give"
                             f" each place its own module")
        if _is_linear(torch, module):
            inputs, out = _check_linear(op, torch, module, where)
            if sizes and sizes[-1] != inputs:
                raise ValueError(f"{op}: {where} has {inputs} inputs, expected {sizes[-1]}, the"
                                 f" outputs of the Linear layer before it")
            sizes.extend([inputs, out] if not sizes else [out])
            linears.append(i)
            activations.append(None)
            names.append(None)
            continue
        name = _activation_name(op, torch, module, where)
        if name is None:
            raise ValueError(f"{op}: {where} is neither a Linear layer nor one of the activations"
                             f" Sigmoid, Tanh, ReLU, LeakyReLU(0.01), Identity, Softmax(dim=1)")
        if not linears:
            raise ValueError(f"{op}: {where} comes before the first Linear layer")
        if activations[-1] is not None:
            raise ValueError(f"{op}: {where} follows another activation; purebp's layers have one")
        activations[-1], names[-1] = i, name
    if not linears:
        raise ValueError(f"{op}: model has no Linear layer")
    hidden = [n or "identity" for n in names[:-1]]
    if "softmax" in hidden:
        raise ValueError(f"{op}: model has a Softmax in a hidden layer; purebp's softmax is the"
                         f" output activation only")
    if len(set(hidden)) > 1:
        raise ValueError(f"{op}: model's hidden layers use {', '.join(sorted(set(hidden)))};"
                         f" purebp's networks use one hidden activation")
    last = names[-1]
    loss_name, output, applies = _loss_mapping(op, torch, loss, last)
    network = {"sizes": sizes, "activation": hidden[0] if hidden else None,
               "output_activation": output, "loss": loss_name}
    return Mapped(network, linears, activations, applies)


def _loss_mapping(op: str, torch: Any, loss: Any, last: Optional[str]) -> Tuple[str, str, bool]:
    """Return (purebp loss, output activation, whether the loss applies it) for a loss module.

    ``last`` is the model's last activation (None: it ends with a Linear layer).
    """
    nn = torch.nn
    ends = "a Linear layer" if last is None else f"{last}"
    if isinstance(loss, _half_sse_class(torch)):
        return "half_sse", last or "identity", False
    if not isinstance(loss, nn.Module) or not hasattr(loss, "reduction"):
        raise TypeError(f"{op}: loss must be a torch loss module (MSELoss, BCEWithLogitsLoss,"
                        f" BCELoss, CrossEntropyLoss, or purebp.adapters.torch.half_sse_loss()),"
                        f" got {_checks._describe(loss)}")
    name = type(loss).__name__
    if loss.reduction != "mean":
        raise ValueError(f"{op}: {name}(reduction={loss.reduction!r}); purebp's losses are"
                         f" torch's default, reduction='mean' (half_sse_loss() for the sum)")
    for setting, none in (("weight", None), ("pos_weight", None), ("label_smoothing", 0.0)):
        value = getattr(loss, setting, none)
        if value is not none and not (none == 0.0 and value == 0.0):
            raise ValueError(f"{op}: {name} with {setting}={value!r}; purebp's losses have none")
    if isinstance(loss, nn.MSELoss):
        return "mse", last or "identity", False
    if isinstance(loss, nn.BCEWithLogitsLoss):
        # A Sigmoid before it maps too: the sigmoid is then applied twice, and the check says so.
        if last not in (None, "identity", "sigmoid"):
            raise ValueError(f"{op}: BCEWithLogitsLoss takes logits: the model must end with a"
                             f" Linear layer, got {ends}")
        return "bce", "sigmoid", last in (None, "identity")
    if isinstance(loss, nn.BCELoss):
        if last != "sigmoid":
            raise ValueError(f"{op}: BCELoss takes probabilities: the model must end with"
                             f" Sigmoid, got {ends} (or use BCEWithLogitsLoss)")
        return "bce", "sigmoid", False
    if isinstance(loss, nn.CrossEntropyLoss):
        if last not in (None, "identity", "softmax"):
            raise ValueError(f"{op}: CrossEntropyLoss takes logits: the model must end with a"
                             f" Linear layer, got {ends}")
        return "cross_entropy", "softmax", last in (None, "identity")
    raise ValueError(f"{op}: loss {name} is none of MSELoss, BCEWithLogitsLoss, BCELoss,"
                     f" CrossEntropyLoss, half_sse_loss()")


def network_spec(model: Any, loss: Any) -> Dict[str, Any]:
    """Return the purebp network that ``model`` with ``loss`` computes.

    A dict with ``sizes``, ``activation`` (None for a model of one Linear
    layer, which has no hidden layer), ``output_activation`` and ``loss``, as
    in a test-vector case. Raises ValueError or TypeError, naming the module,
    for a model or loss purebp has no network for.
    """
    return dict(_map("network_spec", model, loss).network)


def _matches(network: Mapping[str, Any], wanted: Any) -> bool:
    """True if the model's network is the case's (the hidden activation only where there is one)."""
    if not isinstance(wanted, Mapping):
        return False
    same = all(network[k] == wanted.get(k) for k in ("sizes", "output_activation", "loss"))
    return same and (len(network["sizes"]) <= 2 or network["activation"] == wanted.get("activation"))


def expressible(model: Any, loss: Any, case: Mapping[str, Any]) -> bool:
    """True if ``model`` with ``loss`` computes the network of ``case`` (False for op cases)."""
    if not isinstance(case, Mapping):
        raise TypeError(f"expressible: case must be a test-vector case (a dict), got"
                        f" {_checks._describe(case)}")
    return _matches(_map("expressible", model, loss).network, case.get("network"))


def _describe_network(network: Mapping[str, Any]) -> str:
    hidden = f"{network['activation']} hidden, " if network.get("activation") else ""
    return (f"sizes {network['sizes']}, {hidden}{network['output_activation']} output,"
            f" {network['loss']}")


# -- running a case --------------------------------------------------------------------


def results(model: Any, loss: Any, case: Mapping[str, Any], dtype: Any = None) -> Dict[str, Any]:
    """Return the case's quantities as torch computes them, in the "expected" layout.

    ``pre_activations`` and ``activations`` (one n × sizes[l+1] matrix per
    layer), ``loss``, ``gradients`` and ``updated`` ({"weights", "biases"},
    purebp's shapes: one step on every row, from fresh optimizer state),
    ``trajectory`` (the loss before each of ``steps`` steps, step k on the
    rows ``batches[k]``, every row without batches), as Python floats. A
    case with ``optimizer`` or ``batches`` adds ``final`` (the parameters
    after the steps) and ``optimizer_state`` (``step`` and torch's buffers,
    reshaped as the parameters). The step is the case's optimizer as
    torch.optim's own class with the case's arguments, or torch.optim.SGD
    with the case's learning rate. ``dtype`` is torch.float64 (default) or
    torch.float32: the case's numbers are rounded to it, and everything is
    computed in it. The model itself is not changed (a deep copy is run).
    """
    op = "results"
    torch = require()
    dt = _dtype(op, torch, dtype)
    mapped = _map(op, model, loss)
    if not isinstance(case, Mapping) or not _matches(mapped.network, case.get("network")):
        wanted = case.get("network") if isinstance(case, Mapping) else None
        raise ValueError(f"{op}: the model computes {_describe_network(mapped.network)}; the"
                         f" case needs " + (_describe_network(wanted) if isinstance(wanted, Mapping)
                                            else "no network (an op case)"))
    optimizer_class, arguments = _optimizer_of(op, torch, case)
    net, loss_fn = copy.deepcopy(model).to(dt), copy.deepcopy(loss)
    modules = list(net)
    linears = [modules[i] for i in mapped.linears]
    parameters = [p for layer in linears for p in (layer.weight, layer.bias)]
    X = torch.tensor(case["inputs"], dtype=dt)
    y = torch.tensor(case["targets"], dtype=dt)

    def start() -> Any:
        """Put the case's parameters into the copy; return a fresh torch optimizer for them."""
        with torch.no_grad():
            for layer, W, b in zip(linears, case["parameters"]["weights"],
                                   case["parameters"]["biases"]):
                layer.weight.copy_(torch.tensor(W, dtype=dt).T)  # torch's weight is out × in
                layer.bias.copy_(torch.tensor(b[0], dtype=dt))
        return optimizer_class(parameters, **arguments)

    def backward(rows: Any) -> Any:
        """The loss of the rows (a slice, or a list of row indices); its gradients in .grad."""
        for p in parameters:
            p.grad = None
        outputs.clear()
        value = loss_fn(net(X[rows]), y[rows])
        value.backward()
        return value

    for p in parameters:
        p.requires_grad_(True)
    outputs: Dict[int, Any] = {}
    hooks = [module.register_forward_hook(
        lambda _module, _inputs, output, i=i: outputs.__setitem__(i, output))
        for i, module in enumerate(modules)]
    steps, batches = case.get("steps", 0), case.get("batches")
    result: Dict[str, Any] = {}
    trajectory: List[float] = []
    try:
        # one step on every row from the case's parameters: the quantities there, and updated
        optimizer = start()
        value = backward(slice(None))
        result.update(_forward_quantities(torch, mapped, outputs))
        result["loss"] = value.item()
        result["gradients"] = {"weights": [layer.weight.grad.T.tolist() for layer in linears],
                               "biases": [[layer.bias.grad.tolist()] for layer in linears]}
        optimizer.step()
        result["updated"] = _parameters(linears)
        # the trajectory: from the case's parameters again, step k on batches[k]
        optimizer = start()
        for k in range(steps):
            trajectory.append(backward(slice(None) if batches is None else batches[k]).item())
            optimizer.step()
    finally:
        for hook in hooks:
            hook.remove()
    result["trajectory"] = trajectory
    if "optimizer" in case or batches is not None:
        result["final"] = _parameters(linears)
        result["optimizer_state"] = _state(optimizer, linears, steps)
    return result


#: The case's optimizer names and torch.optim's classes of them.
OPTIMIZERS = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW"}


def _optimizer_of(op: str, torch: Any, case: Mapping[str, Any]) -> Tuple[Any, Dict[str, Any]]:
    """Return torch.optim's class for the case's optimizer and the arguments to build it with.

    The arguments are the case's, which carry torch.optim's names (betas as a
    pair); without ``optimizer``, torch.optim.SGD with lr = ``learning_rate``.
    """
    config = case.get("optimizer")
    if config is None:
        return torch.optim.SGD, {"lr": case["learning_rate"]}
    name = config.get("name") if isinstance(config, Mapping) else None
    if name not in OPTIMIZERS or not isinstance(config.get("arguments"), Mapping):
        raise ValueError(f"{op}: case optimizer must be {{\"name\": one of"
                         f" {', '.join(OPTIMIZERS)}, \"arguments\": {{...}}}}, got {config!r}")
    arguments = dict(config["arguments"])
    if "betas" in arguments:
        arguments["betas"] = tuple(arguments["betas"])
    return getattr(torch.optim, OPTIMIZERS[name]), arguments


def _parameters(linears: List[Any]) -> Dict[str, Any]:
    """{"weights", "biases"} of the Linear layers, in purebp's shapes (torch's weight transposed)."""
    return {"weights": [layer.weight.detach().T.tolist() for layer in linears],
            "biases": [[layer.bias.detach().tolist()] for layer in linears]}


def _state(optimizer: Any, linears: List[Any], steps: int) -> Dict[str, Any]:
    """optimizer_state: torch's step count and buffers, each reshaped as the parameters are.

    torch keeps a state per parameter tensor (``optimizer.state[p]``); its
    buffers have the tensor's shape, so a weight's is out × in and is
    transposed like the weight. SGD keeps no step count: the steps taken are it.
    """
    first = optimizer.state.get(linears[0].weight, {}) if linears else {}
    count = first.get("step", steps)
    state: Dict[str, Any] = {"step": int(count.item() if hasattr(count, "item") else count)}
    for name in first:
        if name == "step" or first[name] is None:
            continue
        state[name] = {
            "weights": [optimizer.state[layer.weight][name].T.tolist() for layer in linears],
            "biases": [[optimizer.state[layer.bias][name].tolist()] for layer in linears]}
    return state


def _forward_quantities(torch: Any, mapped: Mapped, outputs: Dict[int, Any]) -> Dict[str, Any]:
    """Return pre_activations and activations from the outputs the hooks recorded."""
    zs, acts = [], []
    for l, (i, j) in enumerate(zip(mapped.linears, mapped.activations)):
        z = outputs[i].detach()
        if j is not None:
            a = outputs[j].detach()
        elif l == len(mapped.linears) - 1 and mapped.loss_applies_output:
            # The loss applies the output activation inside: a is what it applies.
            name = mapped.network["output_activation"]
            a = torch.sigmoid(z) if name == "sigmoid" else torch.softmax(z, dim=1)
        else:
            a = z  # no activation module: identity
        zs.append(z.tolist())
        acts.append(a.tolist())
    return {"pre_activations": zs, "activations": acts}


# -- checking ----------------------------------------------------------------------------


Build = Callable[[Dict[str, Any]], Optional[Tuple[Any, Any]]]


def check(model: Any, loss: Any = None, *, cases: Optional[Iterable[Mapping[str, Any]]] = None,
          pol: Optional[Policy] = None, dtype: Any = None) -> Report:
    """Return a purebp.oracle Report of the model's results on every case it can express.

    ``model`` is an ``nn.Sequential`` and ``loss`` its torch loss module;
    or, with ``loss`` left out, ``model`` is a function ``build(spec)`` that
    returns (model, loss) for a case's network (a dict: sizes, activation,
    output_activation, loss) or None where it has none. ``cases`` defaults
    to the curated suite (each must hold its expected values); ``pol`` to the
    preset of ``dtype`` (float64, or float32 for torch.float32). Cases the
    model cannot express are the report's ``missing_ids`` with ``subset``
    set: listed as not checked. Raises ValueError if no case is expressible.
    A build that raises, or returns a model of another network, fails that
    case with its message.
    """
    op = "purebp.adapters.torch.check"
    torch = require()
    dt = _dtype(op, torch, dtype)
    pol = _policy(dt, torch) if pol is None else pol
    if loss is None:
        if not callable(model) or isinstance(model, torch.nn.Module):
            raise TypeError(f"{op}: give a model and its loss module, or a function build(spec);"
                            f" got {_checks._describe(model)} and no loss")
        build: Build = model
        fixed = None
    else:
        if isinstance(loss, (list, tuple)) and callable(model) \
                and not isinstance(model, torch.nn.Module):
            raise TypeError(f"{op}: loss must be a torch loss module, got a list; to check a"
                            f" build function on some cases, name them: check(build, cases=...)")
        fixed = _map(op, model, loss)  # a model no case can use is a mistake: raise now

        def build(spec: Dict[str, Any]) -> Optional[Tuple[Any, Any]]:
            return (model, loss) if _matches(fixed.network, spec) else None

    if isinstance(cases, (str, bytes, Mapping)) or not (cases is None or isinstance(cases, Iterable)):
        raise TypeError(f"{op}: cases must be a list of cases or None, got {_checks._describe(cases)}")
    every = vectors.curated() if cases is None else list(cases)
    chosen: Dict[str, Any] = {}  # id → (model, loss), or the exception build raised
    left_out: List[str] = []
    for i, case in enumerate(every):
        if not isinstance(case, Mapping) or not isinstance(case.get("id"), str):
            raise TypeError(f"{op}: cases[{i}] must be a test-vector case, got"
                            f" {_checks._describe(case)}")
        network = case.get("network")
        if not isinstance(network, Mapping):  # an op case: no model computes one operation
            left_out.append(case["id"])
            continue
        try:
            pair = build(copy.deepcopy(dict(network)))
        except Exception as error:  # the user's build failed: that case fails, the others run
            chosen[case["id"]] = error
            continue
        if pair is None:
            left_out.append(case["id"])
        else:
            chosen[case["id"]] = pair
    if not chosen:
        what = "" if fixed is None else f" (it computes {_describe_network(fixed.network)})"
        raise ValueError(f"{op}: the model can express none of the {len(every)} cases{what}")

    def run(case: Dict[str, Any]) -> Dict[str, Any]:
        pair = chosen[case["id"]]
        if isinstance(pair, Exception):
            raise pair
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise TypeError(f"build(spec) must return (model, loss) or None, got"
                            f" {_checks._describe(pair)}")
        return results(pair[0], pair[1], case, dt)

    report = checker.check_implementation(run, [dict(c) for c in every if c["id"] in chosen], pol)
    return report._replace(missing_ids=left_out, subset=True)


def not_expressible_note(report: Report) -> str:
    """Return the line saying how many cases were checked and how many were not expressible."""
    def cases(count: int) -> str:
        return f"{count} case{'' if count == 1 else 's'}"

    checked = cases(len(report.cases))
    if not report.missing_ids:
        return f"{checked} expressible by the model, all checked"
    return (f"{checked} expressible by the model and checked; {cases(len(report.missing_ids))}"
            f" not expressible, listed as NOT CHECKED")


__all__ = ["check", "expressible", "half_sse_loss", "network_spec", "not_expressible_note", "require",
           "results"]
