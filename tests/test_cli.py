"""Tests for purebp.cli and ``python3 -m purebp``: the XOR demo, its errors, the list of commands."""

import os
import re
import subprocess
import sys

import pytest

from purebp import NeuralNetwork, cli
from purebp.cli import app, options

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_main(capsys, *argv):
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_default_demo_prints_ten_log_lines_predictions_and_success(capsys):
    """The default run logs epochs 0..9000, shows 4 predictions, all classified right."""
    code, out, err = run_main(capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    log = [line for line in lines if line.startswith("Epoch")]
    assert [int(re.fullmatch(r"Epoch (\d+), Loss: \d\.\d{4}", line).group(1)) for line in log] \
        == list(range(0, 10_000, 1000))
    predictions = [line for line in lines if "->" in line]
    assert len(predictions) == 4 and all("right" in line for line in predictions)
    assert lines[-1] == "All 4 XOR cases classified correctly (threshold 0.5)."


def test_default_seed_learns_xor_by_the_library_too():
    """Independently of the CLI's printing: the default seed's network learns XOR."""
    net = NeuralNetwork(2, 4, 1, seed=cli.DEFAULT_SEED)
    net.train(cli.XOR_INPUTS, cli.XOR_TARGETS, 10_000, 0.1, log=None)
    predicted = [int(p > 0.5) for (p,) in net.feedforward(cli.XOR_INPUTS)]
    assert predicted == [t for (t,) in cli.XOR_TARGETS]


def test_two_runs_with_one_seed_end_identically(capsys):
    """Same seed, same options: identical weights and identical output."""
    nets = [NeuralNetwork(2, 4, 1, seed=11) for _ in range(2)]
    for net in nets:
        net.train(cli.XOR_INPUTS, cli.XOR_TARGETS, 500, 0.1, log=None)
    assert vars(nets[0]) == vars(nets[1])
    first = run_main(capsys, "--seed", "11", "--epochs", "500")
    second = run_main(capsys, "--seed", "11", "--epochs", "500")
    assert first == second


def test_options_are_used(capsys):
    """--epochs, --log-every, --hidden and --lr change what the demo does."""
    code, out, _ = run_main(capsys, "--epochs", "30", "--log-every", "10", "--hidden", "3",
                            "--lr", "0.5")
    assert code == 0
    assert [line.split(",")[0] for line in out.splitlines() if line.startswith("Epoch")] \
        == ["Epoch 0", "Epoch 10", "Epoch 20"]


def test_quiet_prints_only_the_verdict(capsys):
    """--quiet leaves one line: the verdict."""
    code, out, _ = run_main(capsys, "--quiet", "--epochs", "10")
    assert code == 0
    assert len(out.splitlines()) == 1 and "XOR cases classified correctly" in out


def test_help_lists_every_option(capsys):
    """--help exits 0 and documents every option."""
    code, out, _ = run_main(capsys, "--help")
    assert code == 0
    for option in ("--seed", "--epochs", "--lr", "--hidden", "--log-every", "--quiet"):
        assert option in out


@pytest.mark.parametrize("argv, words", [
    (["--epochs", "-5"], "--epochs"),
    (["--epochs", "ten"], "--epochs"),
    (["--lr", "nan"], "--lr"),
    (["--lr", "inf"], "--lr"),
    (["--lr", "-1"], "--lr"),
    (["--hidden", "0"], "--hidden"),
    (["--log-every", "0"], "--log-every"),
    (["--seed", "x"], "--seed"),
    (["--bogus"], "unrecognized"),
])
def test_usage_mistakes_exit_2_with_a_message_and_no_traceback(capsys, argv, words):
    """A bad option value exits 2 with a message naming the option; no traceback."""
    code, out, err = run_main(capsys, *argv)
    assert code == 2
    assert words in err and "Traceback" not in err
    assert out == ""


def test_library_errors_become_one_line_and_exit_2(capsys, monkeypatch):
    """A ValueError from the library is reported on stderr in one line, exit 2."""
    def refuse(*args, **kwargs):
        raise ValueError("train: something is wrong")

    monkeypatch.setattr(NeuralNetwork, "train", refuse)
    code, _, err = run_main(capsys, "--epochs", "1")
    assert code == 2
    assert err == "purebp: error: train: something is wrong\n"


def run_module(*args):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_runs_on_a_bare_python_without_site_packages():
    """python3 -S -m purebp works from the repository root with no site-packages."""
    result = run_module("-S", "-m", "purebp", "--epochs", "50", "--log-every", "25")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("Epoch 0, Loss: ")


def test_module_usage_error_has_no_traceback():
    """python3 -m purebp with a bad option prints usage, no traceback, exit 2."""
    result = run_module("-S", "-m", "purebp", "--lr", "-3")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "--lr" in result.stderr


def test_a_closed_pipe_ends_quietly():
    """When the reader stops early (purebp | head -1), no traceback is printed."""
    process = subprocess.Popen(
        [sys.executable, "-S", "-m", "purebp", "--epochs", "20000", "--log-every", "1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline().startswith("Epoch 0, Loss: ")
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(timeout=120) == 141
    assert "Traceback" not in err and err == ""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
@pytest.mark.parametrize("argv", [[], ["docs", "backprop"], ["explain"], ["vanishing", "--depth", "2"]])
def test_a_full_disk_for_the_output_is_one_line_and_exit_1(argv):
    """purebp > /dev/full: the write fails with ENOSPC; one line naming it, exit 1, no traceback."""
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-S", "-m", "purebp", *argv], cwd=ROOT,
                                stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr == "purebp: error: cannot write the output: No space left on device\n"


def test_a_file_error_no_command_caught_names_the_file(capsys, monkeypatch):
    """An OSError with a file name that escapes a command is one line with the name, exit 1."""
    from purebp.cli import demo

    def fail(args):
        raise PermissionError(13, "Permission denied", "/some/where.json")
    monkeypatch.setattr(demo, "run", fail)
    assert cli.main([]) == 1
    assert capsys.readouterr().err == "purebp: error: /some/where.json: Permission denied\n"


def test_ctrl_c_exits_130_without_a_traceback(capsys, monkeypatch):
    """An interrupt during training ends with exit code 130 and one line on stderr."""
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(NeuralNetwork, "train", interrupted)
    assert cli.main(["--epochs", "1"]) == 130
    assert capsys.readouterr().err == "purebp: interrupted\n"


#: Runs ``python3 -m purebp train`` with a real SIGINT arriving while purebp.cli
#: loads: a finder, asked for purebp.cli.train, sends it. Deterministic, no timing.
CTRL_C_WHILE_LOADING = """
import runpy, signal, sys

class CtrlCWhileLoading:
    def find_spec(self, name, path=None, target=None):
        if name == "purebp.cli.train":
            signal.raise_signal(signal.SIGINT)
        return None

sys.meta_path.insert(0, CtrlCWhileLoading())
sys.argv = ["purebp", "train", "--epochs", "1"]
runpy.run_module("purebp", run_name="__main__", alter_sys=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")
def test_ctrl_c_while_purebp_loads_says_interrupted_and_exits_130():
    """A Ctrl-C while the commands are imported: "purebp: interrupted", exit 130, no traceback."""
    result = subprocess.run([sys.executable, "-S", "-c", CTRL_C_WHILE_LOADING], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stderr, result.stdout) == (130, "purebp: interrupted\n", "")


#: A sitecustomize that sends Ctrl-C while ``import purebp`` loads purebp.network,
#: before purebp.__main__ (and its guard) exists: the package's own guard must act.
CTRL_C_WHILE_IMPORTING = """
import signal, sys

class CtrlCWhileImporting:
    def find_spec(self, name, path=None, target=None):
        if name == "purebp.network":
            signal.raise_signal(signal.SIGINT)
        return None

sys.meta_path.insert(0, CtrlCWhileImporting())
"""

#: What pip writes as the purebp console script (pyproject.toml's [project.scripts]).
CONSOLE_SCRIPT = """import sys
from purebp.__main__ import run
if __name__ == "__main__":
    sys.exit(run())
"""


@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")
@pytest.mark.parametrize("how", ["-m", "script"])
def test_ctrl_c_during_import_purebp_exits_130_from_python_m_and_the_script(tmp_path, how):
    """Ctrl-C inside purebp/__init__.py's imports: "purebp: interrupted", exit 130, no traceback."""
    (tmp_path / "sitecustomize.py").write_text(CTRL_C_WHILE_IMPORTING)
    (tmp_path / "purebp").write_text(CONSOLE_SCRIPT)
    start = ["-m", "purebp"] if how == "-m" else [str(tmp_path / "purebp")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), ROOT]))
    result = subprocess.run([sys.executable, *start, "train", "--epochs", "1"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stderr, result.stdout) == (130, "purebp: interrupted\n", "")


def test_ctrl_c_during_import_purebp_in_a_program_stays_a_keyboard_interrupt(tmp_path):
    """A program that imports purebp gets its KeyboardInterrupt, not an exit."""
    (tmp_path / "sitecustomize.py").write_text(CTRL_C_WHILE_IMPORTING)
    program = "try:\n    import purebp\nexcept KeyboardInterrupt:\n    print('caught')\n"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), ROOT]))
    result = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout) == (0, "caught\n")


def test_ctrl_c_while_the_options_are_parsed_exits_130(capsys, monkeypatch):
    """A Ctrl-C before the command runs (here: while parsing) exits 130 with one line."""
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(options.Parser, "parse_args", interrupted)
    assert cli.main(["train", "--epochs", "1"]) == 130
    assert capsys.readouterr().err == "purebp: interrupted\n"


def test_defaults_are_the_tutorials():
    """With no options: seed 0, 10,000 epochs, lr 0.1, 4 hidden units, a log every 1000."""
    args = cli.build_parser().parse_args([])
    assert (args.seed, args.epochs, args.lr, args.hidden, args.log_every, args.quiet) \
        == (0, 10_000, 0.1, 4, 1000, False)


@pytest.mark.parametrize("argv", [["--seed", "11"], ["--lr", "0.5"], ["--hidden", "3"]])
def test_seed_lr_and_hidden_reach_the_network(capsys, argv):
    """The demo's log and predictions are those of a NeuralNetwork built with its options."""
    options = dict(zip(argv[::2], argv[1::2]))
    code, out, _ = run_main(capsys, *argv, "--epochs", "30", "--log-every", "10")
    assert code == 0
    net = NeuralNetwork(2, int(options.get("--hidden", 4)), 1,
                        seed=int(options.get("--seed", 0)))
    losses = net.train(cli.XOR_INPUTS, cli.XOR_TARGETS, 30, float(options.get("--lr", 0.1)),
                       log=None)
    assert [line for line in out.splitlines() if line.startswith("Epoch")] == \
        [f"Epoch {e}, Loss: {losses[e]:.4f}" for e in (0, 10, 20)]
    predictions = net.feedforward(cli.XOR_INPUTS)
    assert all(f"-> {p:.8f}" in out for (p,) in predictions)


def test_an_untrained_network_is_reported_as_wrong(capsys):
    """With 0 epochs some case is misclassified, and the verdict says how many are right."""
    net = NeuralNetwork(2, 4, 1, seed=0)
    right = sum(int(p > 0.5) == t for (p,), (t,) in
                zip(net.feedforward(cli.XOR_INPUTS), cli.XOR_TARGETS))
    assert right < 4  # the premise: seed 0 starts wrong somewhere
    _, out, _ = run_main(capsys, "--epochs", "0")
    assert "WRONG" in out
    assert out.splitlines()[-1].startswith(f"{right} of 4 XOR cases classified correctly")


def test_exactly_one_half_counts_as_class_0(capsys, monkeypatch):
    """The threshold is strict: a prediction of exactly 0.5 is class 0."""
    monkeypatch.setattr(NeuralNetwork, "feedforward", lambda self, X: [[0.5]] * 4)
    _, out, _ = run_main(capsys, "--epochs", "0")
    assert "[0, 0] -> 0.50000000  (target 0: right)" in out
    assert "[0, 1] -> 0.50000000  (target 1: WRONG)" in out


# -- the list of commands: app.COMMANDS, and nothing else -------------------------------


def test_help_lists_every_command_with_its_help_line(capsys):
    """The demo's --help names each command of app.COMMANDS, with its help line."""
    _, out, _ = run_main(capsys, "--help")
    listed = out.split("other commands (each with --help):\n", 1)[1].splitlines()
    assert [line.split()[1] for line in listed] == [c.name for c in app.COMMANDS]
    for line, command in zip(listed, app.COMMANDS):
        assert line.endswith("  " + command.help)


@pytest.mark.parametrize("name", [c.name for c in app.COMMANDS])
def test_every_listed_command_has_its_own_parser(capsys, name):
    """``purebp NAME --help`` is NAME's parser, with its description."""
    code, out, _ = run_main(capsys, name, "--help")
    command = app.find(name)
    assert code == 0 and out.startswith(f"usage: purebp {name} ")
    assert " ".join(command.description.split()[:5]) in " ".join(out.split())


def test_a_command_added_to_the_list_is_dispatched_and_listed(capsys, monkeypatch):
    """Adding one entry to app.COMMANDS is all it takes: main runs it and --help lists it."""
    def add_options(parser):
        parser.add_argument("--who", default="world", help="whom to greet")

    def run(args):
        print(f"hello, {args.who}")
        return 3

    hello = options.Command("hello", "say hello", "Say hello.", add_options, run)
    monkeypatch.setattr(app, "COMMANDS", (*app.COMMANDS, hello))
    assert run_main(capsys, "hello", "--who", "you") == (3, "hello, you\n", "")
    code, out, _ = run_main(capsys, "hello", "--help")
    assert code == 0 and out.startswith("usage: purebp hello") and "whom to greet" in out
    width = max(len(c.name) for c in app.COMMANDS)  # the names are padded to the longest
    assert f"  purebp {'hello'.ljust(width)}  say hello" in run_main(capsys, "--help")[1]
    code, _, err = run_main(capsys, "hello", "--bogus")
    assert code == 2 and err.startswith("purebp hello: error: unrecognized arguments: --bogus")


def test_a_mistyped_command_suggests_the_nearest_one(capsys):
    """``purebp trian`` is no command: exit 2, one line, naming the command it is nearest to."""
    code, out, err = run_main(capsys, "trian", "--epochs", "3")
    assert (code, out) == (2, "")
    assert err == "purebp: error: unknown command 'trian'; did you mean 'train'? (see 'purebp --help')\n"
    code, out, err = run_main(capsys, "vanishng")
    assert code == 2 and "did you mean 'vanishing'?" in err


def test_a_word_near_no_command_lists_them_all(capsys):
    """A first word like no command at all gets the list of commands, still one line and exit 2."""
    code, out, err = run_main(capsys, "zzz\nq")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "unknown command 'zzz\\nq'" in err
    assert "expected one of train, explain, vanishing, vectors, check" in err


def test_version_prints_the_packages_version(capsys):
    """``purebp --version`` prints purebp's version, the one pyproject.toml gives, and exits 0."""
    import pathlib
    import re

    import purebp
    pyproject = (pathlib.Path(__file__).parent.parent / "pyproject.toml").read_text("utf-8")
    declared = re.search(r'^version = "([^"]+)"', pyproject, re.M).group(1)
    code, out, _ = run_main(capsys, "--version")
    assert (code, out) == (0, f"purebp {declared}\n") and purebp.__version__ == declared


def test_build_parser_refuses_an_unknown_command():
    """build_parser('nosuch') names the known commands."""
    with pytest.raises(ValueError, match="train, explain"):
        cli.build_parser("nosuch")
