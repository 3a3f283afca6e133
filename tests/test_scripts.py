"""Tests for scripts/: the benchmark runs and prints its three tables (it times, never asserts speed).

The numpy workload in scripts/bench.py must also be the tutorial's
algorithm: from the same start it must reach purebp's weights to rounding.
"""

import importlib.util
import math
import os
import subprocess
import sys

import pytest

from purebp import Network, NeuralNetwork

SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts")
BENCH = os.path.join(SCRIPTS, "bench.py")


def test_bench_layers_prints_the_conv_table_and_the_cnn_line():
    """bench.py --layers (scripts/bench_layers.py): Conv2d's ns per multiply-add on each
    path, its fastest form checked bit-identical, and the strokes CNN per sample."""
    result = subprocess.run([sys.executable, BENCH, "--layers", "--pairs", "1", "--quick"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Conv2d: forward and backward, ns per multiply-add" in out
    assert "16×4×12×12 → 8 ch, k3 s1 p1" in out
    if sys.implementation.name == "cpython" and sum([1e100, 1.0, -1e100]) == 0.0:
        assert "same bits: yes" in out  # where sum adds left to right, as the fastest form
    assert "purebp Sequential: " in out and " ms per sample" in out
    if importlib.util.find_spec("micrograd") is not None:
        assert "→ purebp is " in out
    else:
        assert "micrograd: not installed" in out


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
    for workload in ("the tutorial's workload", "moons 2-16-16-1"):
        assert f"Optimizers, Network.train: {workload}" in out
    for name in ("SGD momentum 0.9", "Adam ", "AdamW", "RMSprop"):
        assert name in out
    if sys.implementation.name == "cpython":
        assert "Peak memory of NeuralNetwork.train" in out
        lines = out.splitlines()
        at = next(i for i, line in enumerate(lines) if "Peak memory of NeuralNetwork.train" in line)
        rows = [line.split() for line in lines[at + 2:at + 4]]
        assert [row[0] for row in rows] == ["1000", "10000"]
    # the workloads section: every workload in the table, each fastest step checked
    assert "\n  workload   | purebp s | × numpy | × fastest pure-Python step" in out
    for name in ("tutorial", "moons", "digits", "regression"):
        assert f"\n  {name:<10} | " in out
    assert out.count("fastest step bit-identical to purebp") == 4
    assert "bit-identical to purebp (float.hex" in out and ": NO" not in out
    assert "Peak memory of the digits run" in out
    assert "compiling (cache off)" in out and "from the disk cache" in out


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


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def _tiny(bench, name):
    """A tiny version of a bench workload: 37 rows (batches of 32 and 5, or one full batch), 3 epochs."""
    workload = bench.workload_named(name)
    X, y = workload.data(True)
    return workload, X[:37], y[:37], 3


def _purebp_bits(workload, X, y, epochs, seed):
    """float.hex of every epoch loss and final parameter of purebp's readable loop (fast=False)."""
    net = Network(**workload.network, seed=seed)
    losses = net.train(X, y, epochs, workload.lr, batch_size=workload.batch_size, log=None, fast=False)
    numbers = losses + [v for m in net.weights + net.biases for row in m for v in row]
    return [v.hex() for v in numbers]


@pytest.mark.parametrize("name", ["tutorial", "moons", "digits", "regression"])
def test_the_benchmarks_fastest_step_gives_purebps_bits(name):
    """bench.fastest_train gives purebp's readable loop's bits on a tiny version of each workload."""
    bench = _load_bench()
    workload, X, y, epochs = _tiny(bench, name)
    want = _purebp_bits(workload, X, y, epochs, bench.SEED)
    got = bench.hexes(*bench.fastest_train(workload, X, y, epochs))
    assert got == want
    # and the bench's comparison sees a single bit: the last parameter one ulp off
    changed = got[:-1] + [math.nextafter(float.fromhex(got[-1]), math.inf).hex()]
    assert bench.mismatches(want, changed) == 1
    assert bench.mismatches(want, got[:-1]) == len(want)


@pytest.mark.parametrize("name", ["tutorial", "moons", "digits", "regression"])
def test_the_benchmarks_numpy_workload_is_the_same_algorithm(name):
    """bench.numpy_workload reaches purebp's losses and parameters to rounding (1e-9 relative)."""
    np = pytest.importorskip("numpy")
    bench = _load_bench()
    workload, X, y, epochs = _tiny(bench, name)
    want = [float.fromhex(h) for h in _purebp_bits(workload, X, y, epochs, bench.SEED)]
    got = [float.fromhex(h) for h in bench.hexes(*bench.numpy_workload(np, workload, X, y, epochs))]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert abs(g - w) <= 1e-9 * max(1.0, abs(w))


@pytest.mark.parametrize("name", ["tutorial", "moons", "digits", "regression"])
def test_the_benchmarks_micrograd_network_is_the_workloads(name):
    """bench.micrograd_run's first loss is purebp's on the same 5 rows from the same start (1e-12)."""
    pytest.importorskip("micrograd")
    bench = _load_bench()
    workload, X, y, _ = _tiny(bench, name)
    _, first_loss, trained = bench.micrograd_run(workload, X, y, 2, 5)
    order = bench.batch_order(bench.starting_point(workload.network)[2], len(X), workload.batch_size)
    rows = order[0][:5]
    want = Network(**workload.network, seed=bench.SEED).loss([X[i] for i in rows], [y[i] for i in rows])
    assert trained == 2 * len(rows)  # two batches of (at most) 5 rows
    assert abs(first_loss - want) <= 1e-12 * max(1.0, abs(want))


# -- scripts/zipapp.py: purebp as one file for a bare Python ----------------------------


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """dist/purebp.pyz, built by scripts/zipapp.py into a temporary folder."""
    out = tmp_path_factory.mktemp("zipapp") / "purebp.pyz"
    result = subprocess.run([sys.executable, os.path.join(SCRIPTS, "zipapp.py"), "--out", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return out


def bare(*argv, cwd=None):
    """Run a command with no site-packages (-S) and no PYTHONPATH; return (code, stdout, stderr)."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-S", *argv], capture_output=True, text=True,
                            timeout=300, env=env, cwd=cwd)
    return result.returncode, result.stdout, result.stderr


def test_the_archive_holds_the_package_and_nothing_else(archive):
    """Every module of purebp/ is in the archive, with a __main__.py, and no tests or caches."""
    import zipfile
    names = set(zipfile.ZipFile(archive).namelist())
    package = os.path.join(os.path.dirname(SCRIPTS), "purebp")
    for folder, _, files in os.walk(package):
        for name in files:
            if name.endswith(".py"):
                relative = os.path.relpath(os.path.join(folder, name), os.path.dirname(package))
                assert relative.replace(os.sep, "/") in names
    assert "__main__.py" in names
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]


def test_the_archive_runs_the_demo_on_a_bare_python_as_the_checkout_does(archive, tmp_path):
    """python3 -S purebp.pyz prints what python3 -S -m purebp prints, and exits the same way."""
    root = os.path.dirname(SCRIPTS)
    from_archive = bare(str(archive), "--epochs", "300", "--log-every", "100", cwd=tmp_path)
    from_checkout = bare("-m", "purebp", "--epochs", "300", "--log-every", "100", cwd=root)
    assert from_archive == from_checkout and from_archive[0] == 0
    code, out, err = bare(str(archive), "trian", cwd=tmp_path)
    assert code == 2 and out == "" and "did you mean 'train'?" in err


def test_every_command_runs_from_the_archive(archive, tmp_path):
    """train, explain, vanishing, vectors and check all run from the one file, with -S."""
    run = [("train", "--data", "xor", "--epochs", "5", "--save", "m.json"),
           ("explain",), ("vanishing", "--depth", "2", "--width", "4"),
           ("vectors", "--out", "v", "--random", "1"), ("check", "v", "v")]
    for argv in run:
        code, out, err = bare(str(archive), *argv, cwd=tmp_path)
        assert code == 0 and out and "Traceback" not in err, (argv, err)
    assert (tmp_path / "m.json").is_file()


def test_the_archive_carries_the_documents_and_prints_them(archive, tmp_path):
    """Every purebp/docs/*.md is in the archive; ``docs NAME`` from it prints the file byte for byte."""
    import pathlib
    import zipfile
    folder = pathlib.Path(SCRIPTS).parent / "purebp" / "docs"
    documents = sorted(path.name for path in folder.glob("*.md"))
    inside = sorted(n[len("purebp/docs/"):] for n in zipfile.ZipFile(archive).namelist()
                    if n.startswith("purebp/docs/") and n.endswith(".md"))
    assert inside == documents and "model-format.md" in documents
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-S", str(archive), "docs", "model-format"],
                            capture_output=True, timeout=120, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (folder / "model-format.md").read_bytes()
    code, out, _ = bare(str(archive), "docs", cwd=tmp_path)
    assert code == 0 and [line.split()[0] for line in out.splitlines()[1:]] == \
        [name[:-len(".md")] for name in documents]


def test_bench_cache_prints_compile_and_load_times():
    """A one-round run of scripts/bench_cache.py exits 0 and prints both kinds of row."""
    result = subprocess.run([sys.executable, os.path.join(SCRIPTS, "bench_cache.py"), "--quick",
                             "--rounds", "1"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "compile/load" in result.stdout and "not stored" in result.stdout


def test_the_crossover_table_names_the_path_choose_takes_for_each_shape(capsys):
    bench = _load_bench()
    bench.crossover(1, quick=True)
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line.startswith("  [")]
    assert len(rows) == 6
    for line in rows:
        assert line.split()[-1] in ("written-out", "reference") or "the faster here" in line
