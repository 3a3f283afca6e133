"""A MODULE_FILE for ``purebp check-torch``: plain PyTorch modules for every case's network.

    python3 -m purebp check-torch examples/torch_build.py            # the curated suite
    python3 -m purebp check-torch examples/torch_build.py --vectors DIR

``build(spec)`` gets a case's network (sizes, activation, output_activation,
loss) and returns the ``nn.Sequential`` and torch loss module a PyTorch user
would write for it; purebp.adapters.torch copies the case's parameters in,
runs it and checks the results. A file with one fixed network defines
``model`` and ``loss`` instead. Needs torch.
"""

from torch import nn

from purebp.adapters.torch import half_sse_loss

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
               "leaky_relu": nn.LeakyReLU, "identity": nn.Identity}


def build(spec):
    """Return (model, loss) for the network ``spec``."""
    sizes, modules = spec["sizes"], []
    for l in range(len(sizes) - 1):
        modules.append(nn.Linear(sizes[l], sizes[l + 1]))
        if l < len(sizes) - 2:
            modules.append(ACTIVATIONS[spec["activation"]]())
    # bce and cross_entropy take logits: torch's losses apply σ and softmax themselves.
    if spec["loss"] == "bce":
        return nn.Sequential(*modules), nn.BCEWithLogitsLoss()
    if spec["loss"] == "cross_entropy":
        return nn.Sequential(*modules), nn.CrossEntropyLoss()
    if spec["output_activation"] != "identity":
        modules.append(ACTIVATIONS[spec["output_activation"]]())
    return nn.Sequential(*modules), nn.MSELoss() if spec["loss"] == "mse" else half_sse_loss()
