"""Tests for purebp.cli.check_torch: ``purebp check-torch MODULE_FILE``.

The MODULE_FILE is written here, in tmp_path: a correct model passes (exit
0), a model with a planted backward bug fails (exit 1), and a file that
defines neither model and loss nor build, that raises, or whose model
expresses no case is unusable input (exit 2, one line, no traceback).
Without torch the command says "pip install torch" and exits 2; that test
runs everywhere (torch is blocked in-process), the others skip without torch.
"""

import json
import os
import sys

import pytest

from purebp import cli
from purebp.oracle import vectors

CURATED = vectors.curated()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

XOR_FILE = """
from torch import nn
from purebp.adapters.torch import half_sse_loss
model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
loss = half_sse_loss()
"""

BUILD_FILE = """
from torch import nn
from purebp.adapters.torch import half_sse_loss

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
               "leaky_relu": nn.LeakyReLU, "identity": nn.Identity}

def build(spec):
    sizes, modules = spec["sizes"], []
    for l in range(len(sizes) - 1):
        modules.append(nn.Linear(sizes[l], sizes[l + 1]))
        if l < len(sizes) - 2:
            modules.append(ACTIVATIONS[spec["activation"]]())
    if spec["loss"] == "bce":
        return nn.Sequential(*modules), nn.BCEWithLogitsLoss()
    if spec["loss"] == "cross_entropy":
        return nn.Sequential(*modules), nn.CrossEntropyLoss()
    if spec["output_activation"] != "identity":
        modules.append(ACTIVATIONS[spec["output_activation"]]())
    return nn.Sequential(*modules), nn.MSELoss() if spec["loss"] == "mse" else half_sse_loss()
"""

# The XOR model with the output's sigmoid applied twice: Sigmoid, then BCEWithLogitsLoss.
TWICE_FILE = """
from torch import nn
model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
loss = nn.BCEWithLogitsLoss()
"""


def run_main(capsys, *argv):
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(tmp_path, text, name="model.py"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def test_a_correct_model_passes_and_says_what_it_expressed(capsys, tmp_path, torch):
    """The XOR model expresses the two XOR cases only: it passes there, the rest are NOT CHECKED."""
    code, out, err = run_main(capsys, "check-torch", write(tmp_path, XOR_FILE))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    mine = sum(c["network"] == {"sizes": [2, 4, 1], "activation": "sigmoid",
                                "output_activation": "sigmoid", "loss": "half_sse"}
               for c in CURATED)
    assert lines[0].startswith(f"{mine} cases expressible by the model and checked;"
                               f" {len(CURATED) - mine} cases not"
                               " expressible")
    assert lines[-1].startswith("PASS")
    assert any(line.startswith("xor-tutorial") and line.endswith("PASS") for line in lines)


def test_a_build_file_covers_every_case_of_a_vectors_folder(capsys, tmp_path, torch):
    """build(spec) with --vectors: every case of a written suite (with random ones) passes, JSON too."""
    folder = str(tmp_path / "v")
    vectors.write_suite(folder, 5, 3)
    code, out, _ = run_main(capsys, "check-torch", write(tmp_path, BUILD_FILE), "--vectors", folder,
                            "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["passed"] and report["missing_ids"] == []
    assert len(report["cases"]) == len(vectors.curated()) + 5


def test_float32_uses_the_float32_preset_unless_told(capsys, tmp_path, torch):
    """--dtype float32 checks under the float32 policy; --preset float64 then overrides it."""
    path = write(tmp_path, BUILD_FILE)
    code, out, _ = run_main(capsys, "check-torch", path, "--dtype", "float32")
    assert code == 0 and "(float32 policy" in out
    code, out, _ = run_main(capsys, "check-torch", path, "--dtype", "float32", "--preset", "float64",
                            "--failures-only")
    assert code == 1 and "(float64 policy" in out


def test_a_model_that_applies_its_output_twice_fails_with_exit_1(capsys, tmp_path, torch):
    """Sigmoid before BCEWithLogitsLoss: no case of bce with a 2-4-1 model, so nothing to express."""
    code, _, err = run_main(capsys, "check-torch", write(tmp_path, TWICE_FILE))
    assert code == 2 and "can express none" in err
    folder = str(tmp_path / "v")
    case = vectors.complete(dict(vectors.case_input(vectors.curated()[0]),
                                 network={"sizes": [2, 4, 1], "activation": "sigmoid",
                                          "output_activation": "sigmoid", "loss": "bce"}))
    vectors.write(folder + ".json", [case])
    code, out, _ = run_main(capsys, "check-torch", write(tmp_path, TWICE_FILE),
                            "--vectors", folder + ".json", "--failures-only")
    assert code == 1 and "xor-tutorial" in out and out.splitlines()[-1].startswith("FAIL")


@pytest.mark.parametrize("text, words", [
    ("x = 1\n", "defines neither `model` and `loss` nor a function `build(spec)`"),
    ("raise RuntimeError('boom')\n", "raised RuntimeError: boom"),
    ("import sys\nsys.exit(3)\n", "raised SystemExit: 3"),
    ("from torch import nn\nmodel = nn.Sequential(nn.Linear(9, 1))\nloss = nn.MSELoss()\n",
     f"can express none of the {len(CURATED)} cases"),
    ("from torch import nn\nmodel = nn.Sequential(nn.Conv1d(1, 1, 1))\nloss = nn.MSELoss()\n",
     "model[0] (Conv1d) is neither a Linear layer"),
])
def test_an_unusable_module_file_exits_2_in_one_line(capsys, tmp_path, torch, text, words):
    """No model, an exception, SystemExit, nothing expressible, an unknown module: exit 2, one line."""
    code, out, err = run_main(capsys, "check-torch", write(tmp_path, text))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and words in err and "Traceback" not in err


def test_a_missing_module_file_exits_2(capsys, tmp_path, torch):
    """A MODULE_FILE that does not exist: one line naming it."""
    code, _, err = run_main(capsys, "check-torch", str(tmp_path / "nope.py"))
    assert code == 2 and "nope.py: no such file" in err


def test_the_module_file_can_import_its_neighbours(capsys, tmp_path, torch):
    """The file's folder is importable while it runs (a model kept in a module beside it)."""
    write(tmp_path, XOR_FILE, name="my_xor_model.py")
    code, out, _ = run_main(capsys, "check-torch",
                            write(tmp_path, "from my_xor_model import model, loss\n"))
    assert code == 0 and out.splitlines()[-1].startswith("PASS")
    assert str(tmp_path) not in sys.path[:1]


def test_without_torch_it_says_pip_install_torch_and_exits_2(capsys, tmp_path, monkeypatch):
    """torch missing: one line naming pip install torch, exit 2, before the file is run."""
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    path = write(tmp_path, "raise RuntimeError('this file must not run')\n")
    code, out, err = run_main(capsys, "check-torch", path)
    assert (code, out) == (2, "")
    assert err == ("purebp: error: purebp.adapters.torch needs PyTorch, which is not installed:"
                   " pip install torch\n")


def test_the_example_module_file_passes_every_curated_case(capsys, torch):
    """examples/torch_build.py, the documented MODULE_FILE, expresses and passes the whole suite."""
    path = os.path.join(ROOT, "examples", "torch_build.py")
    code, out, _ = run_main(capsys, "check-torch", path)
    assert code == 0 and out.splitlines()[0] == f"{len(CURATED)} cases expressible by the model, all checked"
