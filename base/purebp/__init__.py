"""purebp: backpropagation written out in plain Python, as a reference.

The learner's files, at the top (each reads as the equations):

    NeuralNetwork   the tutorial's 2-4-1 sigmoid network (purebp.tutorial)
    Network         the general fully-connected network (purebp.network)
    matrix          the tiny list-of-lists matrix helper (purebp.matrix)
    activations     activation functions beside their derivatives (purebp.activations)
    losses          losses beside their gradients (purebp.losses)
    datasets        seeded toy data sets and a CSV loader (purebp.datasets)
    training        what every training loop does at the end of an epoch (purebp.training)
    errors          every error purebp raises, all ValueErrors or TypeErrors (purebp.errors)

And one subpackage per audience:

    purebp.fast     speed: the same arithmetic written out per weight, which makes train fast
    purebp.oracle   for other implementations: the 50-digit truth, test vectors, the
                    checker, hypothesis helpers (imported on demand; purebp.exact,
                    purebp.vectors and purebp.testing are their old names)
    purebp.files    model files: save, load, resume (Network.save / Network.load)
    purebp.study    explain (one step, every number), plots (SVG pictures), vanishing
                    (per-layer gradient norms)
    purebp.cli      ``python3 -m purebp``: the tutorial's demo and the commands

Everything runs on the standard library alone: no numpy, nothing to compile.
"""

from purebp import activations, datasets, losses, matrix
from purebp.errors import DivergenceError
from purebp.files.model import ModelFormatError
from purebp.network import Network
from purebp.tutorial import NeuralNetwork

__all__ = ["DivergenceError", "ModelFormatError", "Network", "NeuralNetwork",
           "activations", "datasets", "losses", "matrix"]
__version__ = "0.1.0"
