"""Tests for scripts/: the benchmark runs and prints its three tables (it times, never asserts speed).

The numpy workload in scripts/bench.py must also be the tutorial's
algorithm: from the same start it must reach purebp's weights to rounding.
"""

import importlib.util
import os
import subprocess
import sys

import pytest

from purebp import NeuralNetwork

SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts")
BENCH = os.path.join(SCRIPTS, "bench.py")


def test_bench_prints_the_workload_the_scaling_and_the_memory_tables():
    """A short run of bench.py exits 0 and prints every section (ratios only with numpy)."""
    result = subprocess.run(
        [sys.executable, BENCH, "--pairs", "1", "--epochs", "20", "--quick", "--no-pypy"],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "The tutorial's workload: 2-4-1 on XOR, 20 epochs" in out
    for name in ("purebp NeuralNetwork.train", "purebp Network.train",
                 "reference code, NeuralNetwork", "reference code, Network"):
        assert name in out
    if importlib.util.find_spec("numpy") is not None:
        assert "× numpy" in out
    else:
        assert "numpy is not installed" in out
    assert "Network.gradients, one call each" in out
    if sys.implementation.name == "cpython":
        assert "Peak memory of NeuralNetwork.train" in out
        rows = [line.split() for line in out.splitlines()[-2:]]
        assert [row[0] for row in rows] == ["1000", "10000"]


def test_the_benchmarks_numpy_code_is_the_tutorials_algorithm():
    """bench.numpy_train reaches NeuralNetwork.train's weights after 200 epochs (to 1e-12)."""
    np = pytest.importorskip("numpy")
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    net = NeuralNetwork(2, 4, 1, seed=3)
    W1, W2 = bench.numpy_train(np, net, 200, 0.1)
    net.train(bench.XOR_X, bench.XOR_Y, 200, 0.1, log=None)
    for got, want in ((W1.tolist(), net.weights_input_hidden),
                      (W2.tolist(), net.weights_hidden_output)):
        for got_row, want_row in zip(got, want):
            for g, w in zip(got_row, want_row):
                assert abs(g - w) <= 1e-12
