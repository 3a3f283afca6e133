"""purebp: backpropagation written out in plain Python, as a reference.

Contents:

    NeuralNetwork   the tutorial's 2-4-1 sigmoid network (purebp.tutorial)
    Network         the general fully-connected network (purebp.network)
    matrix          the tiny list-of-lists matrix helper (purebp.matrix)
    activations     activation functions beside their derivatives (purebp.activations)
    losses          losses beside their gradients (purebp.losses)
    datasets        seeded toy data sets and a CSV loader (purebp.datasets)
    exact, vectors, oracle, testing   the 50-digit truth, test vectors, the checker,
                    and helpers for other projects' tests (imported on demand)
    training, unrolled   the shared training loop, and the same arithmetic
                    written out per weight, which makes train fast
    persistence     model files: save, load, resume (Network.save / Network.load)
    DivergenceError, ModelFormatError   what training and loading raise (ValueErrors)
    cli             ``python3 -m purebp``: the tutorial's demo and the commands (purebp.cli)

Everything runs on the standard library alone: no numpy, nothing to compile.
"""

from purebp import activations, datasets, losses, matrix
from purebp.errors import DivergenceError
from purebp.files.model import ModelFormatError
from purebp.network import Network
from purebp.tutorial import NeuralNetwork

__all__ = [
           "DivergenceError",
           "ModelFormatError",
           "Network",
           "NeuralNetwork",
           "activations",
           "datasets",
           "losses",
           "matrix",
]
__version__ = "0.1.0"
