"""What every layer shares: its parameters, their gradients, training or evaluation mode.

    Layer              forward(x) → y; backward(grad_output) → grad_input, setting grads
    default_generator  the random.Random the layers draw their first weights from
    manual_seed(seed)  reseed it (as torch.manual_seed)

A layer keeps its parameters as attributes named as PyTorch names them
(``weight``, ``bias``), nested lists in PyTorch's layouts, and lists their
names in ``PARAMETERS``; buffers that are state but no parameter
(``running_mean``) in ``BUFFERS``. ``forward`` keeps what ``backward`` needs;
``backward`` takes ∂loss/∂output, returns ∂loss/∂input and puts each
parameter's gradient in ``grads`` under its name (replacing, not adding to,
the last ones: purebp has no ``zero_grad``).
"""

from __future__ import annotations

import random
from typing import Any, ClassVar, Dict, Optional, Tuple

from purebp import _checks
from purebp.layers.tensor import Tensor, copy, dims, shape_of

#: The generator layers draw their first weights from, unless given one (seed 0).
default_generator = random.Random(0)


def checked_size(op: str, name: str, value: object) -> int:
    """An int from 1 to MAX_LAYER_SIZE (100,000): a layer's size, checked before any memory
    is taken for it."""
    n = _checks.size(op, name, value)
    if n > _checks.MAX_LAYER_SIZE:
        raise ValueError(f"{op}: {name} must be at most {_checks.MAX_LAYER_SIZE:,}, got {n:,}")
    return n


def check_parameter_count(op: str, count: int) -> None:
    """Refuse, before allocating them, more parameters than MAX_WEIGHTS (10,000,000)."""
    if count > _checks.MAX_WEIGHTS:
        raise ValueError(f"{op}: the parameters must be at most {_checks.MAX_WEIGHTS:,} (beyond"
                         f" that a pure-Python layer would take hours per step), got {count:,}")


def manual_seed(seed: int) -> None:
    """Reseed ``default_generator``: the layers made next draw the same weights again."""
    default_generator.seed(seed)


class Layer:
    """A layer of a network: forward and backward, its parameters and their gradients."""

    #: The names of the parameters (attributes holding nested lists), in state_dict order.
    PARAMETERS: ClassVar[Tuple[str, ...]] = ()
    #: The names of the buffers: state that is no parameter (BatchNorm's running statistics).
    BUFFERS: ClassVar[Tuple[str, ...]] = ()

    def __init__(self) -> None:
        #: True in training mode (the default), False in evaluation mode, as torch's.
        self.training = True
        #: ∂loss/∂parameter by name, set by backward.
        self.grads: Dict[str, Tensor] = {}
        self._saved: Optional[Dict[str, Any]] = None

    # -- what each layer writes ------------------------------------------------

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def backward(self, grad_output: Tensor) -> Tensor:
        raise NotImplementedError

    # -- shared ----------------------------------------------------------------

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

    def train(self, mode: bool = True) -> Layer:
        """Set training mode (or evaluation mode with False); return the layer, as torch's."""
        if not isinstance(mode, bool):
            raise TypeError(f"{type(self).__name__}.train: mode must be True or False, got {mode!r}")
        self.training = mode
        return self

    def eval(self) -> Layer:
        """Set evaluation mode; return the layer."""
        return self.train(False)

    def parameters(self) -> Dict[str, Tensor]:
        """Return the parameters by name (the lists themselves, not copies)."""
        return {name: getattr(self, name) for name in self.PARAMETERS
                if getattr(self, name) is not None}

    def buffers(self) -> Dict[str, Tensor]:
        """Return the buffers by name (the values themselves, not copies)."""
        return {name: getattr(self, name) for name in self.BUFFERS}

    def gradients(self) -> Dict[str, Tensor]:
        """Return ∂loss/∂parameter by name, from the last backward."""
        if not self.grads and self.parameters():
            raise ValueError(f"{type(self).__name__}.gradients: backward must have run first,"
                             f" got no gradients yet")
        return dict(self.grads)

    def state_dict(self) -> Dict[str, Tensor]:
        """Return copies of the parameters and buffers by name, as torch's state_dict."""
        state = {name: copy(value) for name, value in self.parameters().items()}
        for name, value in self.buffers().items():
            state[name] = value if isinstance(value, int) else copy(value)
        return state

    def load_state_dict(self, state: Dict[str, Tensor]) -> None:
        """Take the parameters and buffers from ``state`` (torch's keys and shapes).

        Every key must be there with the shape it has here, and no other; on a
        mismatch ValueError names it, and nothing is changed.
        """
        for name, value in self.checked_state(state).items():
            setattr(self, name, value)

    def checked_state(self, state: Dict[str, Tensor]) -> Dict[str, Any]:
        """Return copies of what load_state_dict would take from ``state``, changing nothing;
        ValueError or TypeError naming the key if it is not what this layer holds."""
        op = f"{type(self).__name__}.load_state_dict"
        wanted = {**self.parameters(), **self.buffers()}
        if not isinstance(state, dict):
            raise TypeError(f"{op}: state must be a dict of tensors, got {type(state).__name__}")
        missing, unknown = sorted(set(wanted) - set(state)), sorted(set(state) - set(wanted))
        if missing or unknown:
            raise ValueError(f"{op}: state must have the keys {sorted(wanted)}, got"
                             f" {sorted(state)} (missing {missing}, unexpected {unknown})")
        taken: Dict[str, Any] = {}
        for name, value in wanted.items():
            if isinstance(value, int):  # num_batches_tracked
                given = state[name]
                if isinstance(given, bool) or not isinstance(given, int) or given < 0:
                    raise TypeError(f"{op}: {name} must be an int ≥ 0, got {given!r}")
                taken[name] = given
                continue
            wanted_shape = dims(value)
            found = shape_of(op, name, state[name], len(wanted_shape))
            if found != wanted_shape:
                raise ValueError(f"{op}: {name} must have the shape {wanted_shape}, got {found}")
            taken[name] = copy(state[name])
        return taken

    def _saved_for_backward(self) -> Dict[str, Any]:
        if self._saved is None:
            raise ValueError(f"{type(self).__name__}.backward: forward must run first,"
                             f" got no saved input")
        return self._saved
