"""Optimizers: what turns a gradient into a step, written as their equations.

Each class takes the arguments of its namesake in ``torch.optim``, with the
same names, defaults and update rule, so that a model can move between the
two without surprises. purebp/docs/optimizers.md derives each rule and says
where torch's conventions differ from the papers'. With g = ∂loss/∂p for a
parameter p, t the step count (1 at the first step) and every operation
taken entry by entry:

    SGD      (WD) g ← g + weight_decay·p                     (L2, in the gradient)
             (M)  b ← g at t = 1, else momentum·b + (1 − dampening)·g
             (N)  d ← g + momentum·b if nesterov, else b      (d ← g without momentum)
             (S)  p ← p − lr·d
    RMSprop  (WD) as SGD's
             (V)  v ← alpha·v + (1 − alpha)·g²
             (C)  ḡ ← alpha·ḡ + (1 − alpha)·g;  v′ = v − ḡ²  if centered, else v′ = v
             (R)  d ← g / (√v′ + eps)
             (RM) b ← momentum·b + d;  p ← p − lr·b  if momentum, else p ← p − lr·d
    Adam     (WD) as SGD's (Adam's weight decay is L2)
             (A1) m ← β1·m + (1 − β1)·g
             (A2) v ← β2·v + (1 − β2)·g²
             (A3) m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)
             (AG) v̂ = max_v / (1 − β2^t), max_v ← max(max_v, v), if amsgrad
             (A4) p ← p − lr·m̂ / (√v̂ + eps)
    AdamW    (DW) p ← p·(1 − lr·weight_decay)                 (decoupled, before the rest)
             then Adam's A1–A4 on the undecayed g

An optimizer keeps its state (``state``) as flat lists over the network's
parameters in one fixed order: every weights[l] row by row, then every
biases[l] (the order of purebp.fast.loop.flat_parameters). The state's keys
are torch's: ``step`` (t), ``momentum_buffer`` (b), ``square_avg`` (v),
``grad_avg`` (ḡ), ``exp_avg`` (m), ``exp_avg_sq`` (v), ``max_exp_avg_sq``.
Like torch, every parameter it is given is decayed, biases included.

    optimizer.update(p, g)   the new parameters (a new list), after one step
                             on the flat parameters p with flat gradients g;
                             the state moves on one step
    optimizer.config()       {"name": ..., "arguments": {...}}: how to build it again
    from_config(config)      the optimizer a config() describes, with fresh state
    by_name(name, **args)    "sgd", "rmsprop", "adam", "adamw"
    optimizer.code()         the same step as source text (WrittenOut), which
                             purebp.fast writes out once per parameter; the
                             tests hold it to ``update``'s bits

The rules leave out what torch has for speed or other hardware (foreach,
fused, capturable, differentiable) and ``maximize``.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, ClassVar, Dict, List, NamedTuple, Optional, Sequence, Tuple, Type

from purebp import _checks

#: The state of an optimizer: the step count and its flat buffers.
State = Dict[str, Any]


class WrittenOut(NamedTuple):
    """An optimizer's step as source text, for purebp.fast to write out per parameter.

    ``setup`` runs once, reading the arguments from ``optimizer``; ``step``
    once per step, after ``t = t + 1``; ``entry`` once per parameter, with
    {p} and {g} to fill in and one placeholder per buffer, named as in
    ``buffers`` (placeholder, state key). The lines are ``update``'s
    expressions, operation for operation, so that they give its bits
    (a constant such as 1 − β1 is formed once in ``setup``: the same number).
    The names they may call are ``sqrt``, ``sqrt_or_nan`` and ``max``.
    """

    setup: Tuple[str, ...]
    step: Tuple[str, ...]
    entry: Tuple[str, ...]
    buffers: Tuple[Tuple[str, str], ...]


class Optimizer:
    """What every optimizer shares: its learning rate, its state and the checks.

    Subclasses set ``NAME``, ``BUFFERS`` (the state's flat lists, for the
    arguments that use them) and write ``update`` as their equations.
    """

    NAME: ClassVar[str] = ""

    def __init__(self, lr: float) -> None:
        self.lr = _nonnegative(self.NAME, "lr", lr)
        self.state: State = {"step": 0}
        #: The parameter count this state is for, fixed by the first step.
        self.size: Optional[int] = None

    # -- what subclasses write ------------------------------------------------

    def buffers(self) -> Tuple[str, ...]:
        """Return the names of the flat buffers this optimizer's arguments need."""
        return ()

    def arguments(self) -> Dict[str, Any]:
        """Return the constructor's arguments, by name (lr first)."""
        return {"lr": self.lr}

    def update(self, p: Sequence[float], g: Sequence[float]) -> List[float]:
        """Return the parameters after one step; the state moves on one step."""
        raise NotImplementedError

    def code(self) -> WrittenOut:
        """Return ``update`` as source text (see WrittenOut)."""
        raise NotImplementedError

    # -- shared --------------------------------------------------------------

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.arguments().items())
        return f"{type(self).__name__}({shown})"

    def config(self) -> Dict[str, Any]:
        """Return {"name": NAME, "arguments": {...}}: what ``from_config`` builds it from."""
        arguments = {k: (list(v) if isinstance(v, tuple) else v)
                     for k, v in self.arguments().items()}
        return {"name": self.NAME, "arguments": arguments}

    def check_size(self, op: str, size: int, what: str = "the network") -> None:
        """Refuse to step parameters of another size than the state is for."""
        if self.size is not None and self.size != size:
            raise ValueError(
                f"{op}: optimizer holds state for {self.size} parameters and {what} has"
                f" {size}; give each network its own optimizer")

    def prepare(self, size: int) -> None:
        """Fix the state's size before the first step, with zero buffers (torch's start)."""
        self.check_size("update", size, "the parameters given")
        if self.size is None:
            self.size = size
            for name in self.buffers():
                self.state[name] = [0.0] * size

    def _start(self, size: int) -> None:
        self.prepare(size)
        self.state["step"] += 1

    def _buffer(self, name: str) -> List[float]:
        """The state's flat list ``name`` (empty if these arguments do not use it)."""
        buffer: List[float] = self.state.get(name, [])
        return buffer

    def copy(self) -> Optimizer:
        """Return an optimizer with the same arguments and a copy of the state."""
        twin = from_config(self.config())
        twin.size = self.size
        twin.state = {k: (list(v) if isinstance(v, list) else v) for k, v in self.state.items()}
        return twin

    def take_state(self, other: Optimizer) -> None:
        """Take the state of ``other`` (a ``copy()`` of this one), as it is."""
        self.size = other.size
        self.state = {k: (list(v) if isinstance(v, list) else v) for k, v in other.state.items()}

    def set_state(self, state: State, size: int) -> None:
        """Take a state read back (a model file's), for ``size`` parameters; checked by the caller."""
        self.size = size if state["step"] > 0 else None
        self.state = {k: (list(v) if isinstance(v, list) else v) for k, v in state.items()}


def sqrt_or_nan(x: float) -> float:
    """√x, and NaN for x < 0 as torch gives (rounding can take v − ḡ² below 0)."""
    return math.sqrt(x) if x >= 0 else math.nan


def _nonnegative(op: str, name: str, value: object) -> float:
    number = _checks.real_number(op, name, value)
    if number < 0:
        raise ValueError(f"{op}: {name} must not be negative, got {number!r}")
    return number


def _positive(op: str, name: str, value: object) -> float:
    number = _checks.real_number(op, name, value)
    if number <= 0:
        raise ValueError(f"{op}: {name} must be positive, got {number!r}")
    return number


def _fraction(op: str, name: str, value: object, closed: bool) -> float:
    """A number in [0, 1) (closed=False) or [0, 1] (closed=True)."""
    number = _checks.real_number(op, name, value)
    if not (0.0 <= number <= 1.0 if closed else 0.0 <= number < 1.0):
        interval = "[0, 1]" if closed else "[0, 1)"
        raise ValueError(f"{op}: {name} must lie in {interval}, got {number!r}")
    return number


def _flag(op: str, name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be True or False, got {_checks._describe(value)}")
    return value


def _betas(op: str, value: object) -> Tuple[float, float]:
    if isinstance(value, (str, bytes)) or not _checks.is_sequence(value) or len(value) != 2:  # type: ignore[arg-type]
        raise TypeError(f"{op}: betas must be a pair (beta1, beta2), got {_checks._describe(value)}")
    beta1: object = value[0]  # type: ignore[index]
    beta2: object = value[1]  # type: ignore[index]
    return _fraction(op, "betas[0]", beta1, False), _fraction(op, "betas[1]", beta2, False)


class SGD(Optimizer):
    """Stochastic gradient descent, with momentum, Nesterov and weight decay as torch.optim.SGD.

    SGD(lr) alone is plain gradient descent, p ← p − lr·g, the tutorial's
    step bit for bit. With momentum the velocity b starts as the first
    gradient itself (torch's rule: dampening does not apply at t = 1).
    """

    NAME = "sgd"

    def __init__(self, lr: float = 0.001, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False) -> None:
        super().__init__(lr)
        op = self.NAME
        self.momentum = _nonnegative(op, "momentum", momentum)
        self.dampening = _fraction(op, "dampening", dampening, True)
        self.nesterov = _flag(op, "nesterov", nesterov)
        self.weight_decay = _nonnegative(op, "weight_decay", weight_decay)
        if self.nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError(f"{op}: with nesterov=True, momentum must be > 0 and dampening 0,"
                             f" got momentum={self.momentum!r}, dampening={self.dampening!r}")

    def arguments(self) -> Dict[str, Any]:
        return {"lr": self.lr, "momentum": self.momentum, "dampening": self.dampening,
                "weight_decay": self.weight_decay, "nesterov": self.nesterov}

    def buffers(self) -> Tuple[str, ...]:
        return ("momentum_buffer",) if self.momentum else ()

    def update(self, p: Sequence[float], g: Sequence[float]) -> List[float]:
        self._start(len(p))
        lr, mu, tau, wd = self.lr, self.momentum, self.dampening, self.weight_decay
        first = self.state["step"] == 1
        b = self._buffer("momentum_buffer")
        new = []
        for i in range(len(p)):
            g_i = g[i] + wd * p[i] if wd else g[i]                    # (WD)
            if mu:
                b[i] = g_i if first else mu * b[i] + (1 - tau) * g_i  # (M)
                d_i = g_i + mu * b[i] if self.nesterov else b[i]      # (N)
            else:
                d_i = g_i
            new.append(p[i] - lr * d_i)                               # (S)
        return new

    def code(self) -> WrittenOut:
        entry: Tuple[str, ...] = ("{g} = {g} + wd * {p}",) if self.weight_decay else ()
        if self.momentum:
            entry += ("{b} = {g} if first else mu * {b} + one_minus_tau * {g}",
                      "{p} = {p} - lr * ({g} + mu * {b})" if self.nesterov else "{p} = {p} - lr * {b}")
        else:
            entry += ("{p} = {p} - lr * {g}",)
        return WrittenOut(
            setup=("lr, mu, tau, wd = (optimizer.lr, optimizer.momentum, optimizer.dampening,"
                   " optimizer.weight_decay)", "one_minus_tau = 1 - tau"),
            step=("first = t == 1",), entry=entry,
            buffers=(("b", "momentum_buffer"),) if self.momentum else ())


class RMSprop(Optimizer):
    """RMSprop as torch.optim.RMSprop: eps added after the square root, v and ḡ starting at 0."""

    NAME = "rmsprop"

    def __init__(self, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False) -> None:
        super().__init__(lr)
        op = self.NAME
        self.alpha = _fraction(op, "alpha", alpha, True)
        self.eps = _positive(op, "eps", eps)
        self.weight_decay = _nonnegative(op, "weight_decay", weight_decay)
        self.momentum = _nonnegative(op, "momentum", momentum)
        self.centered = _flag(op, "centered", centered)

    def arguments(self) -> Dict[str, Any]:
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps,
                "weight_decay": self.weight_decay, "momentum": self.momentum,
                "centered": self.centered}

    def buffers(self) -> Tuple[str, ...]:
        return (("square_avg",) + ("momentum_buffer",) * bool(self.momentum)
                + ("grad_avg",) * self.centered)

    def update(self, p: Sequence[float], g: Sequence[float]) -> List[float]:
        self._start(len(p))
        lr, alpha, eps, wd, mu = self.lr, self.alpha, self.eps, self.weight_decay, self.momentum
        v, b, g_avg = (self._buffer(k) for k in ("square_avg", "momentum_buffer", "grad_avg"))
        new = []
        for i in range(len(p)):
            g_i = g[i] + wd * p[i] if wd else g[i]                    # (WD)
            v[i] = alpha * v[i] + (1 - alpha) * g_i * g_i             # (V)
            if self.centered:
                g_avg[i] = alpha * g_avg[i] + (1 - alpha) * g_i       # (C)
                d_i = g_i / (sqrt_or_nan(v[i] - g_avg[i] * g_avg[i]) + eps)  # (R)
            else:
                d_i = g_i / (math.sqrt(v[i]) + eps)                   # (R)
            if mu:
                b[i] = mu * b[i] + d_i                                # (RM)
                d_i = b[i]
            new.append(p[i] - lr * d_i)
        return new

    def code(self) -> WrittenOut:
        entry: Tuple[str, ...] = ("{g} = {g} + wd * {p}",) if self.weight_decay else ()
        entry += ("{v} = alpha * {v} + one_minus_alpha * {g} * {g}",)
        if self.centered:
            entry += ("{ga} = alpha * {ga} + one_minus_alpha * {g}",
                      "{g} = {g} / (sqrt_or_nan({v} - {ga} * {ga}) + eps)")
        else:
            entry += ("{g} = {g} / (sqrt({v}) + eps)",)
        if self.momentum:
            entry += ("{b} = mu * {b} + {g}", "{p} = {p} - lr * {b}")
        else:
            entry += ("{p} = {p} - lr * {g}",)
        buffers = (("v", "square_avg"),) + (("b", "momentum_buffer"),) * bool(self.momentum) \
            + (("ga", "grad_avg"),) * self.centered
        return WrittenOut(
            setup=("lr, alpha, eps, wd, mu = (optimizer.lr, optimizer.alpha, optimizer.eps,"
                   " optimizer.weight_decay, optimizer.momentum)", "one_minus_alpha = 1 - alpha"),
            step=(), entry=entry, buffers=buffers)


class Adam(Optimizer):
    """Adam as torch.optim.Adam: bias-corrected moments, eps added to √v̂, weight decay as L2."""

    NAME = "adam"

    def __init__(self, lr: float = 0.001, betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False) -> None:
        super().__init__(lr)
        op = self.NAME
        self.betas = _betas(op, betas)
        self.eps = _positive(op, "eps", eps)
        self.weight_decay = _nonnegative(op, "weight_decay", weight_decay)
        self.amsgrad = _flag(op, "amsgrad", amsgrad)

    def arguments(self) -> Dict[str, Any]:
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps,
                "weight_decay": self.weight_decay, "amsgrad": self.amsgrad}

    def buffers(self) -> Tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq") + ("max_exp_avg_sq",) * self.amsgrad

    def update(self, p: Sequence[float], g: Sequence[float]) -> List[float]:
        return self._adam(p, g, decoupled=False)

    def _adam(self, p: Sequence[float], g: Sequence[float], decoupled: bool) -> List[float]:
        self._start(len(p))
        lr, eps, wd, t = self.lr, self.eps, self.weight_decay, self.state["step"]
        beta1, beta2 = self.betas
        m, v, max_v = (self._buffer(k) for k in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"))
        correction1, correction2 = 1 - beta1 ** t, 1 - beta2 ** t
        new = []
        for i in range(len(p)):
            p_i, g_i = p[i], g[i]
            if wd and decoupled:
                p_i = p_i * (1 - lr * wd)                             # (DW)
            elif wd:
                g_i = g_i + wd * p_i                                  # (WD)
            m[i] = beta1 * m[i] + (1 - beta1) * g_i                   # (A1)
            v[i] = beta2 * v[i] + (1 - beta2) * g_i * g_i             # (A2)
            m_hat = m[i] / correction1                                # (A3)
            if self.amsgrad:
                max_v[i] = max(max_v[i], v[i])                        # (AG)
                v_hat = max_v[i] / correction2
            else:
                v_hat = v[i] / correction2                            # (A3)
            new.append(p_i - lr * m_hat / (math.sqrt(v_hat) + eps))   # (A4)
        return new

    def _code(self, decoupled: bool) -> WrittenOut:
        entry: Tuple[str, ...] = ()
        if self.weight_decay:
            entry = ("{p} = {p} * decay",) if decoupled else ("{g} = {g} + wd * {p}",)
        entry += ("{m} = beta1 * {m} + one_minus_beta1 * {g}",
                  "{v} = beta2 * {v} + one_minus_beta2 * {g} * {g}")
        if self.amsgrad:
            entry += ("{mv} = max({mv}, {v})",
                      "{p} = {p} - lr * ({m} / correction1) / (sqrt({mv} / correction2) + eps)")
        else:
            entry += ("{p} = {p} - lr * ({m} / correction1) / (sqrt({v} / correction2) + eps)",)
        return WrittenOut(
            setup=("lr, eps, wd = optimizer.lr, optimizer.eps, optimizer.weight_decay",
                   "beta1, beta2 = optimizer.betas",
                   "one_minus_beta1, one_minus_beta2 = 1 - beta1, 1 - beta2",
                   "decay = 1 - lr * wd"),
            step=("correction1, correction2 = 1 - beta1 ** t, 1 - beta2 ** t",),
            entry=entry,
            buffers=(("m", "exp_avg"), ("v", "exp_avg_sq"))
            + (("mv", "max_exp_avg_sq"),) * self.amsgrad)

    def code(self) -> WrittenOut:
        return self._code(decoupled=False)


class AdamW(Adam):
    """AdamW as torch.optim.AdamW: Adam with the weight decay decoupled from the gradient.

    Each step first shrinks every parameter, p ← p·(1 − lr·weight_decay), then
    takes Adam's step with the gradient alone (Loshchilov & Hutter, 2019;
    torch multiplies the decay by lr, the paper by a separate schedule).
    """

    NAME = "adamw"

    def __init__(self, lr: float = 0.001, betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.01, amsgrad: bool = False) -> None:
        super().__init__(lr, betas, eps, weight_decay, amsgrad)

    def update(self, p: Sequence[float], g: Sequence[float]) -> List[float]:
        return self._adam(p, g, decoupled=True)

    def code(self) -> WrittenOut:
        return self._code(decoupled=True)


#: The optimizers by name, as configs and the command line name them.
OPTIMIZERS: Dict[str, Type[Optimizer]] = {
    cls.NAME: cls for cls in (SGD, RMSprop, Adam, AdamW)
}


def by_name(name: str, **arguments: Any) -> Optimizer:
    """Return the optimizer called ``name`` ("sgd", "rmsprop", "adam", "adamw") built with ``arguments``."""
    name = _checks.name("optimizer", "name", name, tuple(OPTIMIZERS))
    cls = OPTIMIZERS[name]
    known = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(arguments) - set(known))
    if unknown:
        raise TypeError(f"{name}: arguments must be some of {', '.join(known)},"
                        f" got {', '.join(unknown)}")
    return cls(**arguments)


def from_config(config: Dict[str, Any]) -> Optimizer:
    """Return the optimizer that ``config()`` described, with fresh state."""
    arguments = dict(config["arguments"])
    if "betas" in arguments:
        arguments["betas"] = tuple(arguments["betas"])
    return by_name(config["name"], **arguments)


def as_optimizer(op: str, value: object) -> Optimizer:
    """Return value if it is an Optimizer, else raise a TypeError naming ``op``."""
    if not isinstance(value, Optimizer):
        raise TypeError(f"{op}: optimizer must be one of purebp.optimizers' SGD, RMSprop, Adam,"
                        f" AdamW, got {_checks._describe(value)}")
    return value
