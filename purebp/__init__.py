"""purebp: backpropagation written out in plain Python, as a reference.

Contents:

    NeuralNetwork   the tutorial's 2-4-1 sigmoid network (purebp.tutorial)
    matrix          the tiny list-of-lists matrix helper (purebp.matrix)
    activations     sigmoid and its derivative (purebp.activations)
    cli             ``python3 -m purebp``, the tutorial's XOR demo (purebp.cli)

Everything runs on the standard library alone: no numpy, nothing to compile.
"""

from purebp import activations, matrix
from purebp.tutorial import NeuralNetwork

__all__ = ["NeuralNetwork", "activations", "matrix"]
__version__ = "0.1.0"
