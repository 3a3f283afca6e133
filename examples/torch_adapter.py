"""PyTorch (float64, autograd) as an implementation under purebp's oracle.

``run(case)`` builds the case's network from torch operations, lets autograd
compute the gradients and takes plain SGD steps, and returns the quantities in
the test-vector layout. The losses are torch's own modules (MSELoss,
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


def run(case):
    """Return the case's quantities as PyTorch computes them in float64."""
    net = case["network"]
    params = [torch.tensor(m, dtype=torch.float64, requires_grad=True)
              for pair in zip(case["parameters"]["weights"], case["parameters"]["biases"])
              for m in pair]
    X = torch.tensor(case["inputs"], dtype=torch.float64)
    y = torch.tensor(case["targets"], dtype=torch.float64)
    lr = case["learning_rate"]
    optimizer = torch.optim.SGD(params, lr=lr)
    L = len(params) // 2
    result, trajectory = {}, []
    for step in range(max(case.get("steps", 0), 1)):
        optimizer.zero_grad()
        zs, acts, a = [], [], X
        for l in range(L):
            z = a @ params[2 * l] + params[2 * l + 1]
            name = net["output_activation"] if l == L - 1 else net["activation"]
            a = torch.softmax(z, dim=1) if name == "softmax" else ACTIVATIONS[name](z)
            zs.append(z)
            acts.append(a)
        loss = _loss(net["loss"], zs[-1], acts[-1], y)
        loss.backward()
        if step == 0:
            result = {
                "pre_activations": [z.tolist() for z in zs],
                "activations": [a.tolist() for a in acts],
                "loss": loss.item(),
                "gradients": {"weights": [params[2 * l].grad.tolist() for l in range(L)],
                              "biases": [params[2 * l + 1].grad.tolist() for l in range(L)]},
            }
        trajectory.append(loss.item())
        optimizer.step()
        if step == 0:
            result["updated"] = {"weights": [params[2 * l].tolist() for l in range(L)],
                                 "biases": [params[2 * l + 1].tolist() for l in range(L)]}
    result["trajectory"] = trajectory[: case.get("steps", 0)]
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
