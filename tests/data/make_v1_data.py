"""Write the version-1 model files and plain gradient-descent runs of tests/data, with old purebp.

The files are made by the code of commit 595b03c, before optimizers (format
version 1, ``train(X, y, epochs, learning_rate, ...)`` only), so that the
tests can hold today's code to what that code did:

    git worktree add --detach /tmp/old 595b03c
    PYTHONPATH=/tmp/old python3 tests/data/make_v1_data.py tests/data

writes

    model-v1-network.json        a Network after 4 mini-batch epochs
    model-v1-neuralnetwork.json  the tutorial's NeuralNetwork after 5 epochs
    sgd-runs-595b03c.json        runs of plain gradient descent (losses, the
                                 parameters after the run, as float64 bits), and
                                 what each file above gives when it trains on

Floats are stored as the hex of their 64 bits ("3fb999999999999a"), so
that −0.0 and the last bit count. Nothing here is imported by the tests.
"""

import json
import math
import os
import struct
import sys

import purebp
from purebp import NeuralNetwork
from purebp.network import Network


def bits(value):
    if isinstance(value, (list, tuple)):
        return [bits(v) for v in value]
    return struct.pack(">d", value).hex()


def data(n_in, n_out, n, kind):
    """A small fixed data set: inputs from sines, targets as the loss needs them."""
    X = [[math.sin(1.3 * i + 0.7 * j + 0.1) * 1.5 for j in range(n_in)] for i in range(n)]
    if kind == "classes":
        y = [[1.0 if k == i % n_out else 0.0 for k in range(n_out)] for i in range(n)]
    elif kind == "binary":
        y = [[1.0 if math.cos(2.1 * i + k) > 0 else 0.0 for k in range(n_out)] for i in range(n)]
    else:
        y = [[math.cos(0.9 * i - 0.4 * k) for k in range(n_out)] for i in range(n)]
    return X, y


XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_Y = [[0.0], [1.0], [1.0], [0.0]]

#: (name, Network's arguments, data, epochs, learning rate, batch size)
RUNS = [
    ("tutorial xor", ([2, 4, 1],), {"seed": 0}, (XOR_X, XOR_Y), 60, 0.5, None),
    ("tanh bce mini-batches", ([2, 5, 1], "tanh", "sigmoid", "bce", "xavier"), {"seed": 7},
     data(2, 1, 14, "binary"), 12, 0.3, 3),
    ("relu mse deep", ([3, 4, 3, 2], "relu", "identity", "mse", "he"), {"seed": 3},
     data(3, 2, 10, "values"), 20, 0.05, 4),
    ("leaky_relu half_sse", ([2, 6, 2], "leaky_relu", "sigmoid", "half_sse"), {"seed": 5},
     data(2, 2, 9, "binary"), 15, 0.2, None),
    ("softmax cross_entropy", ([2, 3, 3], "tanh", "softmax", "cross_entropy"), {"seed": 1},
     data(2, 3, 8, "classes"), 20, 0.5, 3),
]


def main(folder):
    runs = []
    for name, args, kwargs, (X, y), epochs, lr, batch_size in RUNS:
        results = []
        for fast in (True, False):
            net = Network(*args, **kwargs)
            losses = net.train(X, y, epochs, lr, batch_size=batch_size, log=None, fast=fast)
            results.append({"losses": bits(losses), "weights": bits(net.weights),
                            "biases": bits(net.biases), "next_random": bits(net.rng.random())})
        assert results[0] == results[1], name
        runs.append({"name": name, "args": list(args), "kwargs": kwargs, "X": X, "y": y,
                     "epochs": epochs, "learning_rate": lr, "batch_size": batch_size,
                     **results[0]})

    # The version-1 files, and what training on from them gives.
    net = Network([2, 5, 1], "tanh", "sigmoid", "bce", "xavier", seed=7)
    X, y = data(2, 1, 14, "binary")
    net.train(X, y, 4, 0.3, batch_size=3, log=None)
    path = os.path.join(folder, "model-v1-network.json")
    net.save(path)
    losses = net.train(X, y, 6, 0.3, batch_size=3, log=None)
    train_on = [{"file": "model-v1-network.json", "X": X, "y": y, "epochs": 6,
                 "learning_rate": 0.3, "batch_size": 3, "losses": bits(losses),
                 "weights": bits(net.weights), "biases": bits(net.biases),
                 "next_random": bits(net.rng.random())}]

    tutorial = NeuralNetwork(2, 4, 1, seed=0)
    tutorial.train(XOR_X, XOR_Y, 5, 0.5, log=None)
    tutorial.save(os.path.join(folder, "model-v1-neuralnetwork.json"))
    losses = tutorial.train(XOR_X, XOR_Y, 7, 0.5, log=None)
    train_on.append({"file": "model-v1-neuralnetwork.json", "X": XOR_X, "y": XOR_Y,
                     "epochs": 7, "learning_rate": 0.5, "batch_size": None,
                     "losses": bits(losses),
                     "weights": bits([tutorial.weights_input_hidden,
                                      tutorial.weights_hidden_output]),
                     "biases": bits([tutorial.bias_hidden, tutorial.bias_output])})

    out = {"made_by": "tests/data/make_v1_data.py at commit 595b03c (purebp "
                      f"{getattr(purebp, '__version__', '?')})",
           "runs": runs, "train_on": train_on}
    with open(os.path.join(folder, "sgd-runs-595b03c.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
