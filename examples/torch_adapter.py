"""PyTorch (float64, autograd) as an implementation under purebp's oracle.

``run(case)`` builds the case's network from torch operations, lets autograd
compute the gradients and takes the case's steps with torch.optim's own
optimizer (SGD, RMSprop, Adam or AdamW with the case's arguments; plain SGD of
its learning rate without one), step k on the rows batches[k] where the case
has batches, and returns the quantities in the test-vector layout, the
optimizer's state read off ``optimizer.state``. The losses are torch's own modules (MSELoss,
BCEWithLogitsLoss, CrossEntropyLoss with probability targets), so a PASS says
purebp's loss conventions are PyTorch's.

    python3 examples/torch_adapter.py [VECTORS]
    python3 examples/torch_adapter.py --ops [VECTORS]

checks it against the curated suite (or the vector files in VECTORS); with
--ops, against the curated per-operation suite: ``run_op(case)`` runs one
dense layer, activation or loss forward and lets autograd carry the case's
upstream gradient back (``.backward(upstream)``). Needs torch.
"""

from __future__ import annotations

import os
import sys

import torch

ACTIVATIONS = {
    "identity": lambda z: z,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": torch.nn.functional.leaky_relu,  # negative_slope 0.01
}


def _loss(name, z, a, y):
    if name == "half_sse":
        return 0.5 * ((a - y) ** 2).sum()
    if name == "mse":
        return torch.nn.MSELoss()(a, y)
    if name == "bce":
        return torch.nn.BCEWithLogitsLoss()(z, y)
    return torch.nn.CrossEntropyLoss()(z, y)


#: The case's optimizer names and torch.optim's own classes for them.
OPTIMIZERS = {"sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam,
              "adamw": torch.optim.AdamW}


def make_optimizer(case, params):
    """torch.optim's optimizer of the case, built with its arguments (SGD(lr) without one)."""
    config = case.get("optimizer")
    if config is None:
        return torch.optim.SGD(params, lr=case["learning_rate"])
    arguments = dict(config["arguments"])  # torch.optim's names already
    if "betas" in arguments:
        arguments["betas"] = tuple(arguments["betas"])
    return OPTIMIZERS[config["name"]](params, **arguments)


def run(case):
    """Return the case's quantities as PyTorch computes them in float64."""
    net = case["network"]
    X = torch.tensor(case["inputs"], dtype=torch.float64)
    y = torch.tensor(case["targets"], dtype=torch.float64)
    L = len(case["parameters"]["weights"])

    def start():
        """The case's parameters as [W0, b0, W1, b1, ...] (purebp's layout), and a fresh optimizer."""
        params = [torch.tensor(m, dtype=torch.float64, requires_grad=True)
                  for pair in zip(case["parameters"]["weights"], case["parameters"]["biases"])
                  for m in pair]
        return params, make_optimizer(case, params)

    def forward_backward(params, rows):
        zs, acts, a = [], [], X[rows]
        for l in range(L):
            z = a @ params[2 * l] + params[2 * l + 1]
            name = net["output_activation"] if l == L - 1 else net["activation"]
            a = torch.softmax(z, dim=1) if name == "softmax" else ACTIVATIONS[name](z)
            zs.append(z)
            acts.append(a)
        loss = _loss(net["loss"], zs[-1], acts[-1], y[rows])
        loss.backward()
        return zs, acts, loss

    def layers(tensors):
        return {"weights": [tensors[2 * l].tolist() for l in range(L)],
                "biases": [tensors[2 * l + 1].tolist() for l in range(L)]}

    # one step on every row, from fresh optimizer state
    params, optimizer = start()
    zs, acts, loss = forward_backward(params, slice(None))
    result = {
        "pre_activations": [z.tolist() for z in zs],
        "activations": [a.tolist() for a in acts],
        "loss": loss.item(),
        "gradients": layers([p.grad for p in params]),
    }
    optimizer.step()
    result["updated"] = layers([p.detach() for p in params])
    # the trajectory, from the case's parameters again: step k on the rows batches[k]
    params, optimizer = start()
    trajectory, batches = [], case.get("batches")
    for k in range(case.get("steps", 0)):
        optimizer.zero_grad()
        trajectory.append(forward_backward(params, slice(None) if batches is None
                                           else batches[k])[2].item())
        optimizer.step()
    result["trajectory"] = trajectory
    if "optimizer" in case or batches is not None:
        result["final"] = layers([p.detach() for p in params])
        # torch's state per parameter tensor: here already in purebp's layout
        state = optimizer.state[params[0]]
        step = state.get("step", len(trajectory))  # SGD counts no steps itself
        result["optimizer_state"] = {"step": int(step)}
        for name, buffer in state.items():
            if name != "step" and buffer is not None:
                result["optimizer_state"][name] = layers([optimizer.state[p][name] for p in params])
    return result


def run_op(case):
    """Return the quantities of a per-operation case as PyTorch computes them in float64."""
    def tensor(name, grad=False):
        return torch.tensor(case[name], dtype=torch.float64, requires_grad=grad)

    x = tensor("inputs", grad=True)
    if case["op"] == "dense":
        W, b = tensor("weights", grad=True), tensor("biases", grad=True)
        z = x @ W + b
        z.backward(tensor("upstream"))  # G = ∂L/∂z, carried back by autograd
        return {"output": z.tolist(), "grad_inputs": x.grad.tolist(),
                "grad_weights": W.grad.tolist(), "grad_biases": b.grad.tolist()}
    if case["op"] == "activation":
        name = case["activation"]
        a = torch.softmax(x, dim=1) if name == "softmax" else ACTIVATIONS[name](x)
        a.backward(tensor("upstream"))  # G = ∂L/∂a
        return {"output": a.tolist(), "grad_inputs": x.grad.tolist()}
    # x is the outputs for half_sse and mse, the logits for bce and cross_entropy
    value = _loss(case["loss"], x, x, tensor("targets"))
    value.backward()
    return {"output": value.item(), "grad_inputs": x.grad.tolist()}


def main():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from purebp import oracle, vectors
    from purebp.oracle import ops

    args = sys.argv[1:]
    paths = [a for a in args if a != "--ops"]
    if paths:
        try:
            cases = vectors.load(paths[0])
        except (OSError, ValueError) as error:  # a bad path or file: one line, exit 2
            print(f"torch_adapter.py: error: {error}", file=sys.stderr)
            return 2
    else:
        cases = ops.curated_ops() if "--ops" in args else None
    report = oracle.check_implementation(
        lambda case: run_op(case) if "op" in case else run(case), cases)
    print(report.table())
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
