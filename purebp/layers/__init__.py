"""Layers, each backward pass beside its forward, in PyTorch's names and layouts.

    Linear(in_features, out_features, bias=True)                        linear.py
    Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0)  conv.py
    MaxPool2d(kernel_size, stride=None, padding=0), AvgPool2d(...)      conv.py
    Flatten(start_dim=1, end_dim=-1)                                     conv.py
    BatchNorm1d(num_features, eps=1e-5, momentum=0.1), BatchNorm2d(...)  norm.py
    LayerNorm(normalized_shape, eps=1e-5)                                norm.py
    Dropout(p=0.5)                                                       dropout.py
    ReLU, LeakyReLU, Sigmoid, Tanh, Identity, Softmax                    activation.py
    Sequential(*layers, loss="mse", seed=0)                              sequential.py
    Layer, default_generator, manual_seed                                base.py
    tensors as nested lists: shapes, zeros, flat/unflat                  tensor.py

Tensors are nested lists of floats (what torch's ``.tolist()`` gives),
inputs N × C × H × W. A layer's ``forward(x)`` returns its output and keeps
what ``backward`` needs; ``backward(grad_output)`` takes ∂loss/∂output,
returns ∂loss/∂input and sets ``grads`` (∂loss/∂parameter under the
parameter's torch name). Each is written as plain index loops over the
shapes, the equations in its docstring; docs/layers.md derives them.

Conv2d runs a fast path by default (purebp/fast/conv.py, the same bits;
``layer.fast = False`` runs its loops). What is not here: the loss
(purebp.losses), autograd.
"""

from purebp.layers.activation import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from purebp.layers.base import Layer, default_generator, manual_seed
from purebp.layers.conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from purebp.layers.dropout import Dropout
from purebp.layers.linear import Linear
from purebp.layers.norm import BatchNorm1d, BatchNorm2d, LayerNorm
from purebp.layers.sequential import Sequential

__all__ = [
    "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "Dropout", "Flatten", "Identity",
    "Layer", "LayerNorm", "LeakyReLU", "Linear", "MaxPool2d", "ReLU", "Sequential", "Sigmoid",
    "Softmax",
    "Tanh", "default_generator", "manual_seed",
]
