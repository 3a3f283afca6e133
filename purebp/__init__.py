"""purebp: backpropagation written out in plain Python, as a reference.

The learner's files, at the top (each reads as the equations):

    NeuralNetwork   the tutorial's 2-4-1 sigmoid network (purebp.tutorial)
    Network         the general fully-connected network (purebp.network)
    matrix          the tiny list-of-lists matrix helper (purebp.matrix)
    activations     activation functions beside their derivatives (purebp.activations)
    losses          losses beside their gradients (purebp.losses)
    optimizers      SGD (momentum, Nesterov), RMSprop, Adam, AdamW as torch.optim (purebp.optimizers)
    datasets        seeded toy data sets and a CSV loader (purebp.datasets)
    training        what every training loop does at the end of an epoch: the divergence
                    check, the log line, validation and early stopping (purebp.training)
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

import os as _os
import sys as _sys


def _loading_the_command_line() -> bool:
    """Whether this import is ``python3 -m purebp`` finding its __main__, or the purebp script's.

    While ``-m`` looks for its module, sys.argv[0] is "-m" (the documented
    stand-in); the installed script's sys.argv[0] is its own path, purebp.
    """
    if _sys.argv[:1] == ["-m"]:
        return True
    name = _os.path.splitext(_os.path.basename(_sys.argv[0] if _sys.argv else ""))[0]
    return name in ("purebp", "purebp-script")


# A Ctrl-C while these load (they are most of the command line's start-up)
# ends the command line as one anywhere else does: "purebp: interrupted",
# exit 130, no traceback. In a program that imports purebp it stays a
# KeyboardInterrupt.
try:
    from purebp import activations, datasets, losses, matrix, optimizers
    from purebp.errors import DivergenceError
    from purebp.files.model import ModelFormatError
    from purebp.network import Network
    from purebp.tutorial import NeuralNetwork
except KeyboardInterrupt:
    if not _loading_the_command_line():
        raise
    print("purebp: interrupted", file=_sys.stderr)
    raise SystemExit(130) from None

__all__ = ["DivergenceError", "ModelFormatError", "Network", "NeuralNetwork",
           "activations", "datasets", "losses", "matrix", "optimizers"]
__version__ = "0.1.0"
