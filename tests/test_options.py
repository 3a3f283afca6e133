"""Tests for purebp.cli.options: one name per option, the old names as hidden aliases.

Each old spelling (``train --n``, ``explain --network``, ``check --json``) is
run beside its new name and must print the same thing and write the same
files; errors name the option as it was typed; ``--help`` shows only the new
names. Then the laws the shared definitions promise across every command: one
flag per value, one value parser per flag. Last, the layout: no module of
purebp.cli imports the one that dispatches to it.
"""

import argparse
import ast
import json
import os
import re

import pytest

from purebp import cli
from purebp.cli import app, options
from purebp.network import Network

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI_DIR = os.path.join(ROOT, "purebp", "cli")


def run_main(capsys, *argv):
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def every_parser():
    """(name, parser) for the demo and every command."""
    return [("demo", cli.build_parser())] + [(c.name, c.parser()) for c in app.COMMANDS]


# -- the old spellings still work, and mean the same ------------------------------------

TRAIN = ["train", "--data", "moons", "--layers", "2,5,1", "--activation", "tanh", "--loss", "bce",
         "--lr", "0.5", "--batch-size", "7", "--seed", "4", "--epochs", "6"]


def test_train_n_trains_exactly_like_samples(capsys, tmp_path):
    """``train --n 40`` prints what ``--samples 40`` prints and saves the same model file, byte for byte."""
    old, new = str(tmp_path / "old.json"), str(tmp_path / "new.json")
    by_n = run_main(capsys, *TRAIN, "--n", "40", "--save", old)
    by_samples = run_main(capsys, *TRAIN, "--samples", "40", "--save", new)
    assert by_n[0] == 0 and "40 samples" in by_n[1].splitlines()[0]
    assert by_n[1].replace(old, new) == by_samples[1] and by_n[2] == by_samples[2] == ""
    with open(old, "rb") as a, open(new, "rb") as b:
        assert a.read() == b.read()


def test_a_checkpoint_keeps_recording_the_sample_count_as_n(capsys, tmp_path):
    """The checkpoint's run settings still say "n" (the file format), so old checkpoints resume."""
    path = str(tmp_path / "ck.json")
    assert cli.main([*TRAIN, "--samples", "30", "--checkpoint", path, "--quiet"]) == 0
    with open(path) as handle:
        settings = json.load(handle)["run"]["settings"]
    assert settings["n"] == 30 and "samples" not in settings
    assert cli.main(["train", "--resume", path, "--epochs", "8", "--quiet"]) == 0


def test_explain_network_explains_exactly_like_layers(capsys):
    """``explain --network 2,3,1`` prints what ``--layers 2,3,1`` prints."""
    argv = ["explain", "--activation", "tanh", "--loss", "bce", "--seed", "5"]
    old = run_main(capsys, *argv, "--network", "2,3,1")
    new = run_main(capsys, *argv, "--layers", "2,3,1")
    assert old == new and old[0] == 0
    assert "Network [2, 3, 1]" in new[1]


def test_check_json_prints_exactly_like_format_json(capsys, tmp_path):
    """``check --json`` prints the JSON report that ``--format json`` prints."""
    folder = str(tmp_path / "v")
    assert cli.main(["vectors", "--out", folder]) == 0
    capsys.readouterr()
    old = run_main(capsys, "check", folder, folder, "--json")
    new = run_main(capsys, "check", folder, folder, "--format", "json")
    text = run_main(capsys, "check", folder, folder)
    assert old == new and old[0] == 0 and old[1].startswith("{")
    assert text[1] != new[1] and text[1].splitlines()[-1] == "PASS"


@pytest.mark.parametrize("argv, typed", [
    (["train", "--data", "xor", "--n", "5"], "--n does not apply to --data xor"),
    (["train", "--data", "xor", "--samples", "5"], "--samples does not apply to --data xor"),
    (["train", "--n", "0"], "argument --n: must be at least 1"),
    (["train", "--samples", "0"], "argument --samples: must be at least 1"),
    (["train", "--samples", "4", "--n", "3", "--data", "xor"], "--n does not apply"),
    (["train", "--n", "3", "--samples", "4", "--data", "xor"], "--samples does not apply"),
    (["explain", "--network", "3,4,1"],
     "--network must start with 2 and end with 1 (xor has 2 inputs and 1 targets), got 3,4,1"),
    (["explain", "--layers", "3,4,1"],
     "--layers must start with 2 and end with 1 (xor has 2 inputs and 1 targets), got 3,4,1"),
    (["explain", "--network", "2"], "argument --network: must be at least two sizes"),
    (["explain", "--layers", "2"], "argument --layers: must be at least two sizes"),
    (["check", "a", "b", "--json=yes"], "argument --json: ignored explicit argument"),
])
def test_an_error_names_the_option_as_it_was_typed(capsys, argv, typed):
    """A mistake with an old spelling is reported with the old spelling, in one line, exit 2."""
    code, out, err = run_main(capsys, *argv)
    assert code == 2 and out == ""
    assert typed in err and err.count("\n") == 1


def test_resume_names_the_sample_option_as_typed(capsys, tmp_path):
    """With --resume, a sample count other than the checkpoint's is refused under the name it was given by."""
    path = str(tmp_path / "ck.json")
    assert cli.main([*TRAIN, "--samples", "20", "--checkpoint", path, "--quiet"]) == 0
    for flag in ("--n", "--samples"):
        code, _, err = run_main(capsys, "train", "--resume", path, "--epochs", "9", flag, "25")
        assert code == 2 and f": {flag} (checkpoint 20, given 25)" in err


def test_the_last_of_two_spellings_wins(capsys):
    """Given both, argparse's rule holds: the later one is the value (and the name errors use)."""
    for argv, samples in ((["--n", "7", "--samples", "9"], 9), (["--samples", "9", "--n", "7"], 7)):
        _, out, _ = run_main(capsys, "train", "--data", "moons", *argv, "--epochs", "1")
        assert f"on moons: {samples} samples" in out.splitlines()[0]


@pytest.mark.parametrize("command, old, new", [
    ("train", "--n", "--samples"), ("explain", "--network", "--layers"), ("check", "--json", "--format"),
])
def test_help_shows_the_new_name_only(capsys, command, old, new):
    """``--help`` documents the new name and hides the old one."""
    code, out, _ = run_main(capsys, command, "--help")
    assert code == 0 and new in out
    assert not re.search(re.escape(old) + r"(?![\w-])", out), out


# -- one name per concept, one definition per option ------------------------------------


def visible_options():
    """(command, flag, action) for every option that --help shows."""
    for name, parser in every_parser():
        for action in parser._actions:
            if action.help != argparse.SUPPRESS:
                for flag in action.option_strings:
                    if flag.startswith("--") and flag != "--help":
                        yield name, flag, action


def test_each_value_has_one_visible_flag_in_every_command():
    """A value (argparse dest) goes by one flag across all commands: no --network beside --layers."""
    flags = {}
    for _, flag, action in visible_options():
        flags.setdefault(action.dest, set()).add(flag)
    assert {dest: names for dest, names in flags.items() if len(names) > 1} == {}
    assert flags["layers"] == {"--layers"} and flags["samples"] == {"--samples"}


def test_a_flag_shared_by_commands_parses_its_value_one_way():
    """--seed, --lr, --samples, --layers, ... use the same value parser in every command."""
    types = {}
    for name, flag, action in visible_options():
        types.setdefault(flag, {})[name] = action.type
    shared = {flag: by_command for flag, by_command in types.items() if len(by_command) > 1}
    assert {"--seed", "--lr", "--epochs", "--samples", "--layers"} <= set(shared)
    for flag, by_command in shared.items():
        assert len(set(map(id, by_command.values()))) == 1, (flag, by_command)


def test_network_options_default_to_what_network_does(capsys):
    """explain's and train's defaults build the network Network's own defaults build."""
    args = cli.build_parser("explain").parse_args([])
    net = Network(args.layers, args.activation, args.output_activation, args.loss, args.init,
                  args.seed)
    assert repr(net) == repr(Network([2, 4, 1], seed=0))
    assert args.output_activation is None  # Network picks it from the loss
    _, out, _ = run_main(capsys, "train", "--loss", "bce", "--epochs", "1")
    assert out.startswith(repr(Network([2, 8, 1], loss="bce", seed=0)))


def test_option_help_states_the_default_it_is_given():
    """Option.add fills {default} with the default, or with what a None default stands for."""
    parser = options.Parser(prog="t")
    options.LR.add(parser, 0.25)
    options.SEED.add(parser, shown="the clock's")
    text = parser.format_help()
    assert "(default 0.25)" in text and "(default the clock's)" in text
    assert parser.parse_args([]).seed is None


# -- the layout: nothing in purebp.cli imports its dispatcher ------------------------------


def cli_imports():
    """{module: the purebp.cli modules it imports, at the top or inside a function}."""
    modules = sorted(name[:-3] for name in os.listdir(CLI_DIR) if name.endswith(".py"))
    graph = {}
    for module in modules:
        with open(os.path.join(CLI_DIR, module + ".py"), encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "purebp.cli":
                found |= {alias.name for alias in node.names if alias.name in modules}
                found |= {"__init__" for alias in node.names if alias.name not in modules}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("purebp.cli."):
                found.add(node.module.split(".")[2])
            elif isinstance(node, ast.Import):
                found |= {alias.name.split(".")[2] for alias in node.names
                          if alias.name.startswith("purebp.cli.")}
        graph[module] = found
    return graph


def test_command_modules_import_options_only():
    """Every command module imports purebp.cli.options and no other module of purebp.cli."""
    graph = cli_imports()
    # a command's module is its name with "-" as "_" (check-torch: check_torch.py)
    commands = {c.name.replace("-", "_") for c in app.COMMANDS} | {"demo"}
    assert set(graph) == commands | {"__init__", "app", "options"}
    for module in commands:
        assert graph[module] == {"options"}, module
    assert graph["options"] == set()


def test_the_imports_of_purebp_cli_have_no_cycle():
    """Following imports from any module of purebp.cli never leads back to it."""
    graph = cli_imports()

    def reachable(start):
        seen, todo = set(), list(graph[start])
        while todo:
            module = todo.pop()
            if module not in seen:
                seen.add(module)
                todo += graph.get(module, ())
        return seen

    assert [module for module in graph if module in reachable(module)] == []
