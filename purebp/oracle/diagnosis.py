"""Diagnosis: which classic mistake the failing numbers of a case are evidence of.

When a case fails, the checker asks ``diagnose`` why. Each mistake of the
CATALOG is a small change to a readable float64 reference pass (``Pass``,
one hook per place a classic mistake sits); recomputing the case with the
mistake planted gives the numbers an implementation with that mistake
produces. A failing matrix of a quantity is diagnosed with the mistake when
the mistake changes exactly the matrices that failed and this one's numbers
equal the mistaken ones entry by entry, within the very tolerance entries
the checker judged it by (purebp/docs/vectors.md, "Diagnosis", states the
rule):

    Pass                        the correct pass, its hooks in forward → loss → backward → update order
    run(hooks, steps)           the quantities of a case, in the layout of case["expected"]
                                (final and optimizer_state too, for optimizer and batch cases)
    Mistake, CATALOG            the catalog: id → Mistake (description, where it applies, recompute)
    Diagnosis                   one finding: (id, quantity, layer, text, ratio)
    diagnose(case, actual, tolerance, pol, failing)   the findings for a case's failing quantities

A case with an ``optimizer`` (purebp.optimizers' rules, torch.optim's) is
recomputed with it, over the case's ``batches``: the pass's ``step`` hands
the gradients to the optimizer, and four mistakes of the catalog change the
optimizer itself (``adam-no-bias-correction``, ``adamw-as-l2``,
``nesterov-as-momentum``, ``momentum-without-dampening``).

Besides the recomputed mistakes, two findings are matched by their shape
alone, where no recomputed one explains a matrix: ``float32-somewhere``
(every failed entry within the float32 preset's tolerance, half of them or
more off by at least 1/8 of a float32 ulp) and ``constant-ratio`` (every
entry r times the expected, r ≠ 1).

>>> CATALOG["missing-half"].applies_to
'half_sse'
>>> Diagnosis("sign-flipped", "gradients.weights", None, "").record()
{'id': 'sign-flipped', 'quantity': 'gradients.weights', 'layer': None}

What this module does not do: judge pass or fail (purebp.oracle.checker
does, and calls ``diagnose`` only for failing cases), or compute a tolerance
(it uses the ones it is given, and purebp.oracle.tolerance_policy's
``case_tolerances`` for the float32 preset). A diagnosis is evidence that the
numbers are what that mistake produces, not proof that the implementation
makes it.
"""

from __future__ import annotations

import math
import struct
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Type

from purebp import optimizers
from purebp._types import Matrix
from purebp.activations import ACTIVATIONS, softmax
from purebp.losses import LOSSES
from purebp.matrix import add_row, apply, column_sums, matmul, multiply, scale, subtract, transpose
from purebp.optimizers import Optimizer
from purebp.oracle import vectors
from purebp.oracle.tolerance_policy import POLICIES, Policy, case_tolerances

__all__ = ["CATALOG", "Diagnosis", "Mistake", "Pass", "diagnose", "run"]

Case = Mapping[str, Any]
Results = Dict[str, Any]


# -- the reference pass, with its hooks --------------------------------------------------


class Pass:
    """purebp's float64 backpropagation, one method per place a classic mistake sits.

    Every method computes the correct value; a mistake is a subclass that
    overrides one of them. ``layer`` is where the mistake sits: an int k
    (layer k only, ``here(k)``), or None for every layer where it can. The
    layer l maps a[l] (n × sizes[l]) to z[l] = a[l]·W[l] + b[l] and
    a[l+1] = f(z[l]), n × sizes[l+1]; δ[l] = ∂loss/∂z[l].
    """

    def __init__(self, case: Case, layer: Optional[int] = None, **options: Any) -> None:
        network = case["network"]
        self.case, self.layer, self.options = case, layer, options
        self.L = len(network["sizes"]) - 1
        self.loss_name: str = network["loss"]
        self.names = [network["activation"]] * (self.L - 1) + [network["output_activation"]]

    def here(self, l: int) -> bool:
        """True where the mistake sits: layer l, or every layer when ``layer`` is None."""
        return self.layer is None or self.layer == l

    # forward
    def activate(self, l: int, z: Matrix) -> Matrix:
        """a[l+1] = f(z[l]): softmax row by row, the others entry by entry."""
        if self.names[l] == "softmax":
            return [softmax(row) for row in z]
        return apply(ACTIVATIONS[self.names[l]].f, z)

    # loss
    def loss(self, y: Matrix, z: Matrix, a: Matrix) -> float:
        """The loss of the outputs a = f(z) of the last layer (of z, for bce and cross_entropy)."""
        loss = LOSSES[self.loss_name]
        return loss.value(y, z if loss.of == "logits" else a)

    # backward
    def f_prime(self, l: int, z: Matrix, a: Matrix) -> Matrix:
        """f′(z[l]) entry by entry, from z[l] and a[l+1] = f(z[l])."""
        return apply(ACTIVATIONS[self.names[l]].f_prime, z, a)

    def output_delta(self, y: Matrix, z: Matrix, a: Matrix) -> Matrix:
        """δ[L−1]: the loss's own ∂loss/∂z for bce and cross_entropy, else ∂loss/∂ŷ ⊙ f′."""
        loss = LOSSES[self.loss_name]
        if loss.of == "logits":
            return loss.gradient(y, z)
        return multiply(loss.gradient(y, a), self.f_prime(self.L - 1, z, a))

    def backward_weights(self, l: int, W: Matrix, grad_w: Matrix, lr: float) -> Matrix:
        """The weights[l] that carry δ[l] down to layer l − 1: this step's, not updated."""
        return W

    def back(self, l: int, delta: Matrix, W: Matrix) -> Matrix:
        """δ[l]·W[l]ᵀ, ∂loss/∂a[l] (n × sizes[l])."""
        return matmul(delta, transpose(W))

    def bias_gradient(self, l: int, delta: Matrix) -> Matrix:
        """∂loss/∂b[l] = Σ_n δ[l]_n, the column sums of δ[l] (1 × sizes[l+1])."""
        return column_sums(delta)

    def reported(self, g: Matrix, lr: float) -> Matrix:
        """The gradient as the implementation holds it, reports it and steps with it."""
        return g

    # update
    def optimizer(self) -> Optional[Optimizer]:
        """A fresh optimizer of the case's ``optimizer`` (purebp.optimizers); None without one."""
        config = self.case.get("optimizer")
        return None if config is None else optimizers.from_config(config)

    def update(self, kind: str, l: int, p: Matrix, g: Matrix, lr: float) -> Matrix:
        """p − lr·g, a parameter after one step of gradient descent (kind: "weights" or "biases")."""
        return subtract(p, scale(lr, g))

    def step(self, optimizer: Optional[Optimizer], W: List[Matrix], B: List[Matrix],
             grad_w: List[Matrix], grad_b: List[Matrix], lr: float
             ) -> Tuple[List[Matrix], List[Matrix]]:
        """Return (weights, biases) after one step: gradient descent (``update``) or the optimizer's.

        The optimizer steps every parameter at once, flat (every weights[l]
        row by row, then every biases[l]), and its state moves on one step.
        """
        if optimizer is None:
            return ([self.update("weights", l, W[l], grad_w[l], lr) for l in range(self.L)],
                    [self.update("biases", l, B[l], grad_b[l], lr) for l in range(self.L)])
        new = optimizer.update(_entries(W + B), _entries(grad_w + grad_b))
        return _shaped(new, W), _shaped(new[len(_entries(W)):], B)


def _entries(matrices: Sequence[Matrix]) -> List[float]:
    """The entries of the matrices, each row by row, in one list."""
    return [v for m in matrices for row in m for v in row]


def _shaped(flat: Sequence[float], like: Sequence[Matrix]) -> List[Matrix]:
    """The first entries of ``flat`` as matrices of the shapes of ``like`` (_entries undone)."""
    values = iter(flat)
    return [[[next(values) for _ in row] for row in m] for m in like]


class _Step(NamedTuple):
    """One forward and backward pass on a batch, and the step after it."""

    zs: List[Matrix]
    activations: List[Matrix]  # a[1] … a[L]
    loss: float
    gradients: Dict[str, List[Matrix]]
    weights: List[Matrix]  # after the step
    biases: List[Matrix]


def _step(hooks: Pass, W: List[Matrix], B: List[Matrix], X: Matrix, y: Matrix,
          optimizer: Optional[Optimizer]) -> _Step:
    """Return the pass on (X, y) at (W, B) and the parameters after its step."""
    lr, L = hooks.case["learning_rate"], hooks.L
    # forward
    zs, acts = [], [[list(row) for row in X]]
    for l in range(L):
        zs.append(add_row(matmul(acts[l], W[l]), B[l]))
        acts.append(hooks.activate(l, zs[l]))
    loss = hooks.loss(y, zs[-1], acts[-1])
    # backward
    delta = hooks.output_delta(y, zs[-1], acts[-1])
    grad_w: List[Matrix] = [[] for _ in range(L)]
    grad_b: List[Matrix] = [[] for _ in range(L)]
    for l in range(L - 1, -1, -1):
        grad_w[l] = hooks.reported(matmul(transpose(acts[l]), delta), lr)
        grad_b[l] = hooks.reported(hooks.bias_gradient(l, delta), lr)
        if l > 0:
            outer = hooks.backward_weights(l, W[l], grad_w[l], lr)
            delta = multiply(hooks.back(l, delta, outer), hooks.f_prime(l - 1, zs[l - 1], acts[l]))
    # update
    new_w, new_b = hooks.step(optimizer, W, B, grad_w, grad_b, lr)
    return _Step(zs, acts[1:], loss, {"weights": grad_w, "biases": grad_b}, new_w, new_b)


def run(hooks: Pass, steps: Optional[int] = None) -> Results:
    """Return the quantities of hooks.case as the pass computes them, in case["expected"]'s layout.

    Keys: pre_activations, activations (L matrices each), loss, gradients and
    updated ({"weights", "biases"}, L matrices each: one step on every row
    from fresh optimizer state), trajectory (the losses before each of the
    case's steps, or of ``steps`` of them when given, step k on the rows
    batches[k] where the case has batches). A case with ``optimizer`` or
    ``batches`` adds final ({"weights", "biases"} after those steps) and
    optimizer_state (the step count and the optimizer's buffers, shaped as
    the parameters).
    """
    case = hooks.case
    W = [[list(row) for row in m] for m in case["parameters"]["weights"]]
    B = [[list(row) for row in m] for m in case["parameters"]["biases"]]
    X, y, batches = case["inputs"], case["targets"], case.get("batches")
    K = case.get("steps", 0) if steps is None else steps
    optimizer = hooks.optimizer()
    first = _step(hooks, W, B, X, y, optimizer)
    result: Results = {"pre_activations": first.zs, "activations": first.activations,
                       "loss": first.loss, "gradients": first.gradients,
                       "updated": {"weights": first.weights, "biases": first.biases}}
    trajectory: List[float] = []
    if batches is None and K > 0:  # the first step on every row is the trajectory's first
        trajectory.append(first.loss)
        W, B = first.weights, first.biases
    else:  # the trajectory starts again from the case's parameters and a fresh state
        optimizer = hooks.optimizer()
    for k in range(len(trajectory), K):
        rows = range(len(X)) if batches is None else batches[k]
        taken = _step(hooks, W, B, [X[i] for i in rows], [y[i] for i in rows], optimizer)
        trajectory.append(taken.loss)
        W, B = taken.weights, taken.biases
    result["trajectory"] = trajectory
    if "optimizer" in case or batches is not None:
        result["final"] = {"weights": W, "biases": B}
        # (plain gradient descent over batches: SGD(learning_rate), its steps and no buffer)
        state: Dict[str, Any] = {"step": K if optimizer is None else optimizer.state["step"]}
        for name, buffer in ({} if optimizer is None else optimizer.state).items():
            if name != "step":
                state[name] = {"weights": _shaped(buffer, W),
                               "biases": _shaped(buffer[len(_entries(W)):], B)}
        result["optimizer_state"] = state
    return result


# -- the mistakes, each a few lines changed ---------------------------------------------


def _mean_count(case: Case) -> float:
    """The mean's divisor: n·k for mse and bce, n for cross_entropy."""
    n, k = len(case["targets"]), len(case["targets"][0])
    return float(n if case["network"]["loss"] == "cross_entropy" else n * k)


class _Factors(Pass):
    """The loss's value times options["loss"], its gradient times options["gradient"]."""

    def factors(self, y: Matrix) -> Tuple[float, float]:
        raise NotImplementedError

    def loss(self, y: Matrix, z: Matrix, a: Matrix) -> float:
        return self.factors(y)[0] * super().loss(y, z, a)

    def output_delta(self, y: Matrix, z: Matrix, a: Matrix) -> Matrix:
        return scale(self.factors(y)[1], super().output_delta(y, z, a))


class MissingMean(_Factors):
    """The 1/N (1/(N·K) for mse and bce) of a mean loss left out: value and gradient × count."""

    def factors(self, y: Matrix) -> Tuple[float, float]:
        count = _mean_count(self.case)
        return (count if self.options["loss"] else 1.0), (count if self.options["gradient"] else 1.0)


class ExtraMean(_Factors):
    """The mean applied twice: value and gradient divided by the count once more."""

    def factors(self, y: Matrix) -> Tuple[float, float]:
        count = _mean_count(self.case)
        return (1 / count if self.options["loss"] else 1.0), (1 / count if self.options["gradient"]
                                                              else 1.0)


class MissingHalf(_Factors):
    """half_sse without its ½: Σ(ŷ − y)² and its gradient 2(ŷ − y)."""

    def factors(self, y: Matrix) -> Tuple[float, float]:
        return (2.0 if self.options["loss"] else 1.0), (2.0 if self.options["gradient"] else 1.0)


class SignFlipped(Pass):
    """The gradient negated, so the step p − lr·(−g) climbs."""

    def reported(self, g: Matrix, lr: float) -> Matrix:
        return scale(-1.0, g)


class TransposedWeights(Pass):
    """δ[l]·W[l] where δ[l]·W[l]ᵀ belongs (a square W[l] keeps the shapes)."""

    def back(self, l: int, delta: Matrix, W: Matrix) -> Matrix:
        return matmul(delta, W) if self.here(l) else super().back(l, delta, W)


class BiasGradientOneRow(Pass):
    """∂loss/∂b[l] from one sample's δ (options["row"]: 0 the first, −1 the last) for the sum."""

    def bias_gradient(self, l: int, delta: Matrix) -> Matrix:
        return [list(delta[self.options["row"]])] if self.here(l) else column_sums(delta)


class DerivativeOfZ(Pass):
    """σ′ or tanh′ in its output form, s·(1 − s) or 1 − s², fed z[l] instead of a[l+1]."""

    def f_prime(self, l: int, z: Matrix, a: Matrix) -> Matrix:
        if self.here(l) and self.names[l] in ("sigmoid", "tanh"):
            return super().f_prime(l, z, z)
        return super().f_prime(l, z, a)


class DerivativeOfOutputAsZ(Pass):
    """σ′ or tanh′ in its input form, σ(x)·(1 − σ(x)) or 1 − tanh(x)², fed a[l+1]: f applied twice."""

    def f_prime(self, l: int, z: Matrix, a: Matrix) -> Matrix:
        if self.here(l) and self.names[l] in ("sigmoid", "tanh"):
            return super().f_prime(l, a, self.activate(l, a))
        return super().f_prime(l, z, a)


def _softmax_vjp(s: Matrix, g: Matrix) -> Matrix:
    """Row by row J·g for the softmax Jacobian J = diag(s) − s·sᵀ: s_k·(g_k − Σ_j s_j·g_j)."""
    out = []
    for s_row, g_row in zip(s, g):
        inner = 0.0
        for s_j, g_j in zip(s_row, g_row):  # left to right, as purebp.matrix adds
            inner += s_j * g_j
        out.append([s_k * (g_k - inner) for s_k, g_k in zip(s_row, g_row)])
    return out


class ExtraDerivative(Pass):
    """bce's or cross_entropy's ∂loss/∂z multiplied by f′ once more: (a − y)·a(1 − a) for bce.

    For softmax, f′ is its diagonal s·(1 − s) (options["form"] "diagonal") or
    its whole Jacobian ("jacobian").
    """

    def output_delta(self, y: Matrix, z: Matrix, a: Matrix) -> Matrix:
        delta = super().output_delta(y, z, a)
        if self.names[-1] == "softmax" and self.options["form"] == "jacobian":
            return _softmax_vjp(a, delta)
        return multiply(delta, apply(lambda s: s * (1.0 - s), a))


class UpdatedWeightsInBackward(Pass):
    """W[l] − lr·∂loss/∂W[l], already updated, carries δ[l] down in place of W[l]."""

    def backward_weights(self, l: int, W: Matrix, grad_w: Matrix, lr: float) -> Matrix:
        return subtract(W, scale(lr, grad_w)) if self.here(l) else W


class LearningRateTwice(Pass):
    """The learning rate multiplied in twice: gradients reported as lr·g, the step p − lr²·g
    (or, option ``step_only``, the gradients right and only the step p − lr²·g)."""

    def reported(self, g: Matrix, lr: float) -> Matrix:
        return g if self.options.get("step_only") else scale(lr, g)

    def update(self, kind: str, l: int, p: Matrix, g: Matrix, lr: float) -> Matrix:
        if self.options.get("step_only"):
            return subtract(p, scale(lr * lr, g))
        return super().update(kind, l, p, g, lr)


class BiasNotUpdated(Pass):
    """b[l] left as it was by the step (its gradient right)."""

    def step(self, optimizer: Optional[Optimizer], W: List[Matrix], B: List[Matrix],
             grad_w: List[Matrix], grad_b: List[Matrix], lr: float
             ) -> Tuple[List[Matrix], List[Matrix]]:
        new_w, new_b = super().step(optimizer, W, B, grad_w, grad_b, lr)
        return new_w, [[list(row) for row in B[l]] if self.here(l) else new_b[l]
                       for l in range(self.L)]


class WrongLeakySlope(Pass):
    """leaky_relu with slope options["slope"] for z ≤ 0, in f and f′ or in f′ only ("forward")."""

    def _wrong(self, l: int) -> bool:
        return self.here(l) and self.names[l] == "leaky_relu"

    def activate(self, l: int, z: Matrix) -> Matrix:
        if self._wrong(l) and self.options["forward"]:
            c = self.options["slope"]
            return apply(lambda x: x if x > 0.0 else c * x, z)
        return super().activate(l, z)

    def f_prime(self, l: int, z: Matrix, a: Matrix) -> Matrix:
        if self._wrong(l):
            c = self.options["slope"]
            return apply(lambda x: 1.0 if x > 0.0 else c, z)
        return super().f_prime(l, z, a)


class OutputActivationTwice(Pass):
    """The output activation applied twice: outputs f(f(z)); bce and cross_entropy get f(z) as logits.

    options["outputs_once"]: the outputs f(z) are reported right, only the loss
    (bce, cross_entropy) takes them as its logits: a Sigmoid module before
    torch's BCEWithLogitsLoss, or a Softmax before CrossEntropyLoss.

    The gradient: the loss's gradient at the doubled output as the usual
    formula writes it (options["chained"] False: f′ from the stored output,
    the logits loss's gradient at f(z) taken for ∂loss/∂z), or the exact
    derivative of the mistaken computation (True, as autograd computes it).
    """

    def activate(self, l: int, z: Matrix) -> Matrix:
        once = super().activate(l, z)
        if l != self.L - 1 or self.options.get("outputs_once"):
            return once  # (outputs_once: a Sigmoid module before BCEWithLogitsLoss reports f(z))
        return super().activate(l, once)

    def loss(self, y: Matrix, z: Matrix, a: Matrix) -> float:
        if LOSSES[self.loss_name].of == "logits":
            return super().loss(y, super().activate(self.L - 1, z), a)
        return super().loss(y, z, a)

    def output_delta(self, y: Matrix, z: Matrix, a: Matrix) -> Matrix:
        loss, last = LOSSES[self.loss_name], self.L - 1
        once = super().activate(last, z)
        if loss.of == "logits":
            delta = loss.gradient(y, once)  # ∂loss/∂(the logits it was fed, f(z))
        elif self.options["chained"]:
            delta = multiply(loss.gradient(y, a), super().f_prime(last, once, a))
        else:
            return multiply(loss.gradient(y, a), super().f_prime(last, z, a))
        if not self.options["chained"]:
            return delta
        if self.names[last] == "softmax":  # then through f(z) itself
            return _softmax_vjp(once, delta)
        return multiply(delta, super().f_prime(last, z, once))


def _arguments(case: Case, **changed: Any) -> Dict[str, Any]:
    """The case's optimizer config with some of its arguments changed."""
    config = case["optimizer"]
    return {"name": config["name"], "arguments": {**config["arguments"], **changed}}


class NesterovAsMomentum(Pass):
    """SGD with nesterov=True stepping along the velocity alone: d ← b, not d ← g + μ·b."""

    def optimizer(self) -> Optional[Optimizer]:
        return optimizers.from_config(_arguments(self.case, nesterov=False))


class MomentumWithoutDampening(Pass):
    """SGD's dampening ignored: b ← μ·b + g where μ·b + (1 − dampening)·g belongs."""

    def optimizer(self) -> Optional[Optimizer]:
        return optimizers.from_config(_arguments(self.case, dampening=0.0))


class AdamWAsL2(Pass):
    """AdamW's decay put into the gradient as L2, g ← g + λ·p: Adam's step with its arguments."""

    def optimizer(self) -> Optional[Optimizer]:
        return optimizers.from_config({"name": "adam",
                                       "arguments": self.case["optimizer"]["arguments"]})


class _UncorrectedAdam(optimizers.Adam):
    """Adam's (or AdamW's) step with the moments' bias corrections (A3) left out.

    ``first``/``second`` False: m̂ = m, v̂ = v instead of m / (1 − β1^t),
    v / (1 − β2^t). The other equations are purebp.optimizers' (ids as there).
    """

    def __init__(self, config: Mapping[str, Any], first: bool, second: bool) -> None:
        arguments = dict(config["arguments"])
        super().__init__(**{**arguments, "betas": tuple(arguments["betas"])})
        self.decoupled = config["name"] == "adamw"
        self.first, self.second = first, second

    def update(self, p: Sequence[float], g: Sequence[float]) -> List[float]:
        self._start(len(p))
        lr, eps, wd, t = self.lr, self.eps, self.weight_decay, self.state["step"]
        beta1, beta2 = self.betas
        m, v, max_v = (self._buffer(k) for k in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"))
        correction1 = 1 - beta1 ** t if self.first else 1.0    # the mistake: 1 for m̂ = m
        correction2 = 1 - beta2 ** t if self.second else 1.0   # and for v̂ = v
        new = []
        for i in range(len(p)):
            p_i, g_i = p[i], g[i]
            if wd and self.decoupled:
                p_i = p_i * (1 - lr * wd)                             # (DW)
            elif wd:
                g_i = g_i + wd * p_i                                  # (WD)
            m[i] = beta1 * m[i] + (1 - beta1) * g_i                   # (A1)
            v[i] = beta2 * v[i] + (1 - beta2) * g_i * g_i             # (A2)
            if self.amsgrad:
                max_v[i] = max(max_v[i], v[i])                        # (AG)
            v_i = max_v[i] if self.amsgrad else v[i]
            new.append(p_i - lr * (m[i] / correction1) / (math.sqrt(v_i / correction2) + eps))
        return new


class AdamNoBiasCorrection(Pass):
    """Adam's (AdamW's) moments used as they are: m̂ = m and v̂ = v, or one of the two."""

    def optimizer(self) -> Optional[Optimizer]:
        return _UncorrectedAdam(self.case["optimizer"], self.options["first"],
                                self.options["second"])


# -- the catalog --------------------------------------------------------------------------


def _always(case: Case) -> bool:
    return True


def _mean_loss(case: Case) -> bool:
    return bool(case["network"]["loss"] != "half_sse")


def _names(case: Case) -> List[str]:
    network = case["network"]
    L = len(network["sizes"]) - 1
    return [network["activation"]] * (L - 1) + [network["output_activation"]]


def _output_layer(case: Case) -> Optional[List[int]]:
    return [len(case["network"]["sizes"]) - 2]


def _not_layered(case: Case) -> Optional[List[int]]:
    return None


def _every_layer(case: Case) -> Optional[List[int]]:
    return list(range(len(case["network"]["sizes"]) - 1))


def _square_layers(case: Case) -> Optional[List[int]]:
    """The layers l ≥ 1 (those δ goes down through) whose weights[l] is square."""
    sizes = case["network"]["sizes"]
    return [l for l in range(1, len(sizes) - 1) if sizes[l] == sizes[l + 1]]


def _hidden_below(case: Case) -> Optional[List[int]]:
    """The layers l ≥ 1 whose weights carry δ down."""
    return list(range(1, len(case["network"]["sizes"]) - 1))


def _output_form_layers(case: Case) -> Optional[List[int]]:
    """The sigmoid and tanh layers whose f′ backpropagation uses (not the output of bce, cross_entropy)."""
    names = _names(case)
    logits = LOSSES[case["network"]["loss"]].of == "logits"
    return [l for l, name in enumerate(names) if name in ("sigmoid", "tanh")
            and not (logits and l == len(names) - 1)]


def _optimizer_arguments(case: Case, *names: str) -> Optional[Dict[str, Any]]:
    """The arguments of the case's optimizer when it is one of ``names``, else None."""
    config = case.get("optimizer")
    if not isinstance(config, Mapping) or config.get("name") not in names:
        return None
    arguments: Dict[str, Any] = dict(config["arguments"])
    return arguments


def _adam_like(case: Case) -> bool:
    return _optimizer_arguments(case, "adam", "adamw") is not None


def _adamw_decaying(case: Case) -> bool:
    arguments = _optimizer_arguments(case, "adamw")
    return arguments is not None and arguments["weight_decay"] > 0


def _nesterov(case: Case) -> bool:
    arguments = _optimizer_arguments(case, "sgd")
    return arguments is not None and bool(arguments["nesterov"])


def _dampened(case: Case) -> bool:
    arguments = _optimizer_arguments(case, "sgd")
    return arguments is not None and arguments["momentum"] > 0 and arguments["dampening"] > 0


def _leaky_layers(case: Case) -> Optional[List[int]]:
    return [l for l, name in enumerate(_names(case)) if name == "leaky_relu"]


class Variant(NamedTuple):
    """One form of a mistake: its words in a diagnosis's text ("" for none), its options."""

    label: str
    options: Mapping[str, Any]


class Mistake(NamedTuple):
    """A classic mistake: what it is, where it applies, and how to recompute a case with it.

    ``layers(case)`` lists the layers where it can sit (None: it belongs to no
    layer); ``hooks`` is the Pass subclass that plants it, tried in each of
    ``variants``; ``factor(case)`` says by how much it multiplies the numbers,
    and so their rounding, which widens the tolerance of its match (1 for
    most). ``hooks`` None: matched by the numbers' shape (float32-somewhere).
    """

    id: str
    description: str
    applies_to: str
    applies: Callable[[Case], bool]
    layers: Callable[[Case], Optional[List[int]]]
    hooks: Optional[Type[Pass]]
    variants: Tuple[Variant, ...] = (Variant("", {}),)
    factor: Callable[[Case], float] = lambda case: 1.0

    def recompute(self, case: Case, layer: Optional[int] = None,
                  variant: Optional[Variant] = None, steps: Optional[int] = None) -> Results:
        """Return the case's quantities with the mistake in ``layer`` (None: every layer)."""
        if self.hooks is None:
            raise ValueError(f"recompute: {self.id} is matched by the numbers' size, not recomputed")
        form = self.variants[0] if variant is None else variant
        return run(self.hooks(case, layer, **form.options), steps)


#: Where a factor mistake sits: loss and gradient both, the gradient only, the loss only.
_FACTOR_VARIANTS = (Variant("", {"loss": True, "gradient": True}),
                    Variant("gradient only", {"loss": False, "gradient": True}),
                    Variant("loss only", {"loss": True, "gradient": False}))

#: The wrong slopes tried: 0.1, 0.2 and 0.3 (other libraries' defaults), 0.001 (a
#: zero too many), 0 (relu's), 0.05 and 0.5, 1 (no slope change at all).
WRONG_LEAKY_SLOPES = (0.1, 0.2, 0.3, 0.001, 0.0, 0.05, 0.5, 1.0)

CATALOG: Dict[str, Mistake] = {m.id: m for m in (
    Mistake("missing-mean", "the 1/N (1/(N·K)) of a mean loss left out, of its value or gradient",
            "mse, bce, cross_entropy", _mean_loss, _not_layered, MissingMean, _FACTOR_VARIANTS,
            _mean_count),
    Mistake("extra-mean", "the mean applied twice: the value or gradient divided by N (N·K) again",
            "mse, bce, cross_entropy (half_sse has no mean)", _mean_loss, _not_layered, ExtraMean,
            _FACTOR_VARIANTS),
    Mistake("missing-half", "the ½ of half_sse left out, of its value or gradient", "half_sse",
            lambda case: bool(case["network"]["loss"] == "half_sse"), _not_layered, MissingHalf,
            _FACTOR_VARIANTS, lambda case: 2.0),
    Mistake("sign-flipped", "the gradient negated, so the step climbs", "every case", _always,
            _not_layered, SignFlipped),
    Mistake("transposed-weights", "δ·W where δ·Wᵀ belongs in the backward pass",
            "square weights[l], l ≥ 1", lambda case: bool(_square_layers(case)), _square_layers,
            TransposedWeights),
    Mistake("bias-gradient-one-row", "one sample's δ (the first or last row) for the batch sum",
            "every layer", lambda case: len(case["inputs"]) > 1, _every_layer, BiasGradientOneRow,
            (Variant("the first row", {"row": 0}), Variant("the last row", {"row": -1}))),
    Mistake("derivative-of-z", "σ′ or tanh′ in output form, s·(1 − s) or 1 − s², fed z",
            "sigmoid and tanh layers", lambda case: bool(_output_form_layers(case)),
            _output_form_layers, DerivativeOfZ),
    Mistake("derivative-of-output-as-z", "σ(x)·(1 − σ(x)) or 1 − tanh(x)² fed the activation",
            "sigmoid and tanh layers", lambda case: bool(_output_form_layers(case)),
            _output_form_layers, DerivativeOfOutputAsZ),
    Mistake("extra-derivative", "f′ multiplied into bce's or cross_entropy's ∂loss/∂z",
            "bce, cross_entropy (the output layer)",
            lambda case: bool(case["network"]["loss"] in ("bce", "cross_entropy")), _output_layer,
            ExtraDerivative, (Variant("", {"form": "diagonal"}),
                              Variant("the whole softmax Jacobian", {"form": "jacobian"}))),
    Mistake("updated-weights-in-backward", "the already-updated W[l] carries δ down",
            "weights[l], l ≥ 1", lambda case: bool(_hidden_below(case)), _hidden_below,
            UpdatedWeightsInBackward),
    Mistake("learning-rate-twice", "the learning rate multiplied in twice: lr·g, p − lr²·g",
            "every case", _always, _not_layered, LearningRateTwice,
            (Variant("", {"step_only": False}), Variant("in the step only", {"step_only": True})),
            factor=lambda case: max(1.0, float(case["learning_rate"]))),
    Mistake("bias-not-updated", "the biases left out of the step", "every layer", _always,
            _every_layer, BiasNotUpdated),
    Mistake("wrong-leaky-slope", "leaky_relu with another slope than 0.01, in f and f′ or f′ only",
            "leaky_relu layers", lambda case: bool(_leaky_layers(case)), _leaky_layers,
            WrongLeakySlope, tuple(
                Variant(f"slope {slope!r}{' in f′ only' if not forward else ''}",
                        {"slope": slope, "forward": forward})
                for forward in (True, False) for slope in WRONG_LEAKY_SLOPES)),
    Mistake("output-activation-twice", "the output activation applied twice, f(f(z))",
            "the output layer", _always, _output_layer, OutputActivationTwice,
            (Variant("", {"chained": False}), Variant("its gradient chained", {"chained": True}),
             Variant("the outputs right, the loss fed them as logits",
                     {"chained": True, "outputs_once": True}))),
    Mistake("adam-no-bias-correction", "Adam's moments without their bias corrections,"
            " m̂ = m and v̂ = v (or one of them)", "adam, adamw", _adam_like, _not_layered,
            AdamNoBiasCorrection, (Variant("", {"first": False, "second": False}),
                                   Variant("m̂ = m only", {"first": False, "second": True}),
                                   Variant("v̂ = v only", {"first": True, "second": False}))),
    Mistake("adamw-as-l2", "AdamW's decoupled decay put into the gradient as L2 (Adam's step)",
            "adamw with weight_decay > 0", _adamw_decaying, _not_layered, AdamWAsL2),
    Mistake("nesterov-as-momentum", "Nesterov ignored: the step along the velocity b, not g + μ·b",
            "sgd with nesterov", _nesterov, _not_layered, NesterovAsMomentum),
    Mistake("momentum-without-dampening", "dampening ignored: b ← μ·b + g",
            "sgd with momentum and dampening > 0", _dampened, _not_layered,
            MomentumWithoutDampening),
    Mistake("float32-somewhere", "a value rounded through float32", "every case", _always,
            _not_layered, None),
)}


# -- matching ------------------------------------------------------------------------------


class Diagnosis(NamedTuple):
    """One finding: quantity ("gradients.weights") matches mistake ``id`` in ``layer``.

    ``layer``: the layer the mistake sits in, None for a mistake of no layer or
    in every layer; for float32-somewhere and constant-ratio, the matrix of the
    quantity it was seen in (None for the loss, the outputs, the trajectory).
    ``ratio``: constant-ratio's r.
    """

    id: str
    quantity: str
    layer: Optional[int]
    text: str
    ratio: Optional[float] = None

    def record(self) -> Dict[str, Any]:
        """Return the finding as the JSON report writes it: id, quantity, layer (and ratio)."""
        found: Dict[str, Any] = {"id": self.id, "quantity": self.quantity, "layer": self.layer}
        if self.ratio is not None:
            found["ratio"] = self.ratio
        return found


class _Block(NamedTuple):
    """One matrix of a quantity the implementation gave (layer None: the loss, outputs, trajectory)."""

    quantity: str
    layer: Optional[int]  # which matrix of the quantity
    expected: List[float]
    actual: List[float]
    tolerance: List[Any]
    failed: bool  # False: every entry passed

    @property
    def name(self) -> str:
        return self.quantity if self.layer is None else f"{self.quantity}[{self.layer}]"


#: A quantity of an "expected"-style dict, by name (the format's: purebp.oracle.vectors).
_get = vectors.quantity


def _flat(value: Any) -> Optional[List[Any]]:
    """Return the entries of a number, list of numbers or matrix, row by row (None if neither)."""
    if not isinstance(value, (list, tuple)):
        return [value]
    out: List[Any] = []
    for v in value:
        if isinstance(v, (list, tuple)):
            if any(isinstance(x, (list, tuple)) for x in v):
                return None
            out.extend(v)
        else:
            out.append(v)
    return out


def _shape(value: Any) -> Any:
    return [_shape(v) for v in value] if isinstance(value, (list, tuple)) else None


def _is_number(x: Any) -> bool:
    """True for a float, or an int within the float range (a results file's numbers)."""
    if isinstance(x, float):
        return True
    if not isinstance(x, int) or isinstance(x, bool):
        return False
    try:
        float(x)
    except OverflowError:
        return False
    return True


def _close(a: float, b: float, t: Any) -> bool:
    """True when |a − b| ≤ t, the checker's rule for one entry (its ``ulps`` option aside)."""
    if a == b:
        return True
    allowed = float(t)  # t may be a Decimal, where the loss's scale overflows floats
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(allowed)):
        return False  # an infinite allowance proves nothing
    return abs(a - b) <= allowed


def _blocks(case: Case, actual: Mapping[str, Any], tolerance: Mapping[str, Any],
            failing: Iterable[str]) -> List[_Block]:
    """Return the matrices of the quantities the implementation gave, judged as the checker does.

    A matrix of a failing quantity that has an entry beyond its tolerance is
    failed; a matrix all of whose entries pass is not; the rest (shapes not
    as expected, entries that are no numbers, a quantity not checkable) are
    left out.
    """
    failed_names = set(failing)
    blocks = []
    for name in tolerance:  # the quantities, in the checker's order
        if name.startswith("trajectory_"):  # what the trajectory's bound says of its steps
            continue
        want, got, tol = _get(case["expected"], name), _get(actual, name), tolerance.get(name)
        if want is None or got is None or tol is None or _shape(want) != _shape(got):
            continue
        layered = name not in ("loss", "outputs", "trajectory")
        parts = [(i, w, g, t) for i, (w, g, t) in enumerate(zip(want, got, tol))] if layered \
            else [(None, want, got, tol)]
        for layer, w, g, t in parts:
            e, a, allowed = _flat(w), _flat(g), _flat(t)
            if e is None or a is None or allowed is None or not all(_is_number(x) for x in a):
                continue
            a = [float(x) for x in a]
            passed = all(_close(x, y, s) for x, y, s in zip(a, e, allowed))
            if passed or name in failed_names:
                blocks.append(_Block(name, layer, e, a, allowed, not passed))
    return blocks


def _mistaken_block(block: _Block, mistaken: Results) -> Optional[List[float]]:
    """Return the mistaken pass's entries of the block (None where it has none)."""
    value = _get(mistaken, block.quantity)
    if value is not None and block.layer is not None:
        value = value[block.layer] if block.layer < len(value) else None
    m = None if value is None else _flat(value)
    return m if m is not None and len(m) == len(block.expected) else None


def _evidence(blocks: Sequence[_Block], mistaken: Results, factor: float) -> List[int]:
    """Return the failed blocks whose numbers equal the mistaken ones ([] if it does not fit).

    The mistake fits when it changes (beyond tolerance) exactly the matrices
    that failed: one it leaves right must have passed, one it changes must
    have failed. A failed matrix is explained when every entry is within the
    checker's tolerance of the mistaken value, that tolerance times
    ``factor``: a mistake that multiplies a value by N multiplies its
    rounding by N as well.
    """
    explained = []
    for i, block in enumerate(blocks):
        m = _mistaken_block(block, mistaken)
        if m is None:
            return []
        changed = not all(_close(x, e, t) for x, e, t in zip(m, block.expected, block.tolerance))
        if changed != block.failed:
            return []
        if block.failed and all(_close(a, x, factor * float(t))
                                for a, x, t in zip(block.actual, m, block.tolerance)):
            explained.append(i)
    return explained


def _ulp32(e: float) -> float:
    """Return the spacing of float32 numbers at |e| (2^−149 below float32's normal range)."""
    f = abs(_to_float32(e))
    if not math.isfinite(f):
        return math.inf
    if f < 2.0 ** -126:
        return 2.0 ** -149
    return math.ldexp(1.0, math.frexp(f)[1] - 24)  # 24 significant bits


#: An error of float32 size is at least this part of a float32 ulp of the expected
#: value: a generic error of 1e-9 relative is 0.017 ulp at most, one rounding to
#: float32 is at least 1/8 ulp three times in four.
_FLOAT32_SIZE = 1 / 8


def _within_float32(block: _Block, tolerance32: Mapping[str, Any]) -> bool:
    """True when every entry of the block passes the float32 preset's tolerance."""
    tol = tolerance32.get(block.quantity)
    if tol is not None and block.layer is not None:
        tol = tol[block.layer]
    allowed = None if tol is None else _flat(tol)
    if allowed is None or len(allowed) != len(block.expected):
        return False
    return all(_close(a, e, t) for a, e, t in zip(block.actual, block.expected, allowed))


def _float32_sized(a: float, e: float) -> bool:
    """True when |a − e| is at least _FLOAT32_SIZE of a float32 ulp at e."""
    return abs(a - e) >= _FLOAT32_SIZE * _ulp32(e)


def _float32_spread(blocks: Iterable[_Block]) -> bool:
    """True when at least half the failed entries carry an error of float32 size.

    Entries whose expected value is itself a float32 number are not counted
    (rounding it to float32 changes nothing), unless all are. One entry
    changed is not a float32 computation, whose every entry is rounded.
    """
    entries = [(a, e) for b in blocks for a, e in zip(b.actual, b.expected)]
    rounded = [(a, e) for a, e in entries if _to_float32(e) != e] or entries
    return 2 * sum(_float32_sized(a, e) for a, e in rounded) >= len(rounded)


def _to_float32(x: float) -> float:
    try:
        rounded: float = struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        return math.inf if x > 0 else -math.inf
    return rounded


def _ratio(block: _Block) -> Optional[float]:
    """Return r ≠ 1 when every actual entry equals r·expected within tolerance (times |r|).

    r is read off the largest expected entry; at least two entries must tell
    r from 1 (a single number is always some multiple of the expected).
    """
    top = max(range(len(block.expected)), key=lambda i: abs(block.expected[i]))
    e_top = block.expected[top]
    if e_top == 0 or not math.isfinite(block.actual[top]):
        return None
    r = block.actual[top] / e_top
    if not math.isfinite(r) or r == 0:  # beyond the float range, or nothing: no ratio to tell
        return None
    widen = max(1.0, abs(r))  # r multiplies the implementation's rounding too
    telling = [i for i, (e, t) in enumerate(zip(block.expected, block.tolerance))
               if not _close(r * e, e, t)]
    if len(telling) < 2 or not all(_close(a, r * e, widen * float(t))
                                   for a, e, t in zip(block.actual, block.expected,
                                                      block.tolerance)):
        return None
    return r


def _ratio_words(r: float) -> str:
    """r to three decimals; as 1 + δ where that would show 1.000; in 4 digits beyond 10⁴."""
    if abs(r) >= 1e4:
        return f"{r:.4g}"
    if f"{r:.3f}" != "1.000":
        return f"{r:.3f}"
    return f"(1 {'+' if r >= 1 else '−'} {abs(r - 1):.3g})"


def _where(layers: Optional[List[int]], layer: Optional[int]) -> str:
    if layer is not None:
        return f" in layer {layer}"
    if layers is None:
        return ""
    return " in layer" + ("s " if len(layers) > 1 else " ") + ", ".join(str(k) for k in layers)


def _text(blocks: Sequence[_Block], what: str) -> str:
    names = ", ".join(b.name for b in blocks)
    single = len(blocks) == 1 and blocks[0].layer is None and blocks[0].quantity != "outputs"
    return f"{names} {'matches' if single else 'match'} {what}"


#: The quantities of the whole run of a case's steps (the others are of its first step).
_AFTER_THE_STEPS = ("trajectory", "final", "optimizer_state")


def _catalog_matches(case: Case, blocks: Sequence[_Block]
                     ) -> Dict[Tuple[str, str], Dict[Optional[int], Tuple[List[int], Variant]]]:
    """Return, by (id, quantity), by the layer planted in: the blocks explained, the first variant."""
    # the whole run only where a block needs it: the trajectory, and what the last step leaves
    whole = any(b.quantity.split(".")[0] in _AFTER_THE_STEPS for b in blocks)
    steps = int(case.get("steps", 0)) if whole else 1
    matched: Dict[Tuple[str, str], Dict[Optional[int], Tuple[List[int], Variant]]] = {}
    try:
        correct: Optional[Results] = run(Pass(case), steps)
    except (ArithmeticError, ValueError, IndexError):
        correct = None
    for mistake in CATALOG.values():
        if mistake.hooks is None or not mistake.applies(case):
            continue
        layers = mistake.layers(case)
        # every layer (None) and each layer alone; where it can sit in one layer only, that one
        tried: List[Optional[int]] = [None] if layers is None or len(layers) != 1 else [layers[0]]
        if layers is not None and len(layers) > 1:
            tried += layers
        factor = mistake.factor(case)
        for variant in mistake.variants:
            for layer in tried:
                try:
                    mistaken = mistake.recompute(case, layer, variant, steps)
                except (ArithmeticError, ValueError, IndexError):
                    continue  # the mistaken pass itself fails here: no numbers to match
                if mistaken == correct:
                    continue  # changes nothing in this case (f(f(z)) = z, one row, N = 1)
                for i in _evidence(blocks, mistaken, factor):
                    found = matched.setdefault((mistake.id, blocks[i].quantity), {})
                    explained, first = found.get(layer, ([], variant))
                    if i not in explained:
                        found[layer] = ([*explained, i], first)
    return matched


def diagnose(case: Case, actual: Mapping[str, Any], tolerance: Mapping[str, Any], pol: Policy,
             failing: Iterable[str]) -> List[Diagnosis]:
    """Return the diagnoses of a case's failing quantities, in the order of the quantities.

    ``case``: a checked case with its expected values; ``actual``: the
    implementation's quantities (as plain floats); ``tolerance``: the
    checker's tolerances for the case (case_tolerances(case, pol)), keyed by
    quantity name ("gradients.weights"); ``pol``: the policy they are of
    (its ``ulps`` is not used: a match is by tolerance alone; under the
    float32 preset, float32-somewhere is not looked for); ``failing``: the
    names of the quantities that failed. Each (id, quantity, layer) is
    reported once; its text names the failing matrices it explains.
    """
    blocks = _blocks(case, actual, tolerance, failing)
    failed = [i for i, b in enumerate(blocks) if b.failed]
    if not failed:
        return []
    found_at: Dict[int, List[Diagnosis]] = {}  # by the first block each explains
    explained_blocks = set()
    for (mistake_id, quantity), by_layer in _catalog_matches(case, blocks).items():
        mistake = CATALOG[mistake_id]
        everywhere = by_layer.pop(None, None)
        if everywhere is not None and any(set(everywhere[0]) <= set(one[0])
                                          for one in by_layer.values()):
            everywhere = None  # one layer explains as much: the more specific finding
        chosen: List[Tuple[Optional[int], Tuple[List[int], Variant]]] = []
        if everywhere is not None:
            chosen.append((None, everywhere))
        chosen += [(k, one) for k, one in sorted(by_layer.items(), key=lambda kv: kv[0] or 0)
                   if everywhere is None or not set(one[0]) <= set(everywhere[0])]
        for layer, (indices, variant) in chosen:
            detail = f" ({variant.label})" if variant.label else ""
            what = f"`{mistake_id}`{detail}{_where(mistake.layers(case), layer)}"
            found_at.setdefault(min(indices), []).append(Diagnosis(
                mistake_id, quantity, layer, _text([blocks[i] for i in sorted(indices)], what)))
            explained_blocks.update(indices)
    # float32-somewhere: every failed number within float32's tolerance, their errors of
    # float32 size (in half the entries at least), in each matrix it names at its worst
    unexplained = [i for i in failed if i not in explained_blocks]
    # (not from the trajectory alone: its allowance in float32 holds the run's amplification)
    if unexplained and pol.name != "float32" and not all(
            blocks[i].quantity == "trajectory" for i in failed):
        tolerance32 = case_tolerances(case, POLICIES["float32"])
        if all(_within_float32(blocks[i], tolerance32) for i in failed) and _float32_spread(
                blocks[i] for i in failed):
            for i in unexplained:
                if any(_float32_sized(a, e) for a, e in zip(blocks[i].actual, blocks[i].expected)):
                    found_at.setdefault(i, []).append(Diagnosis(
                        "float32-somewhere", blocks[i].quantity, blocks[i].layer,
                        _text([blocks[i]], "`float32-somewhere` (within float32 rounding)")))
                    explained_blocks.add(i)
    for i in failed:
        # (a ratio of p − lr·g to p says nothing: the parameters stepped are not scanned)
        r = (None if i in explained_blocks
             or blocks[i].quantity.startswith(("updated.", "final.")) else _ratio(blocks[i]))
        if r is not None:
            found_at.setdefault(i, []).append(Diagnosis(
                "constant-ratio", blocks[i].quantity, blocks[i].layer,
                f"{blocks[i].name}: every entry is {_ratio_words(r)} times the expected", r))
    ordered: List[Diagnosis] = []
    for i in sorted(found_at):
        ordered.extend(d for d in found_at[i] if d not in ordered)
    return ordered
