"""Tests for purebp.cli.options: the options the commands share, and the layout.

The laws the shared definitions promise across every command: one value
parser per flag, defaults that build what Network builds. Then the layout:
no module of purebp.cli imports the one that dispatches to it.
"""

import argparse
import ast
import os

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


# -- one definition per option, the same in every command ----------------------------


def visible_options():
    """(command, flag, action) for every option that --help shows."""
    for name, parser in every_parser():
        for action in parser._actions:
            if action.help != argparse.SUPPRESS:
                for flag in action.option_strings:
                    if flag.startswith("--") and flag != "--help":
                        yield name, flag, action


def test_a_flag_shared_by_commands_parses_its_value_one_way():
    """--seed, --lr, --epochs, --samples, ... use the same value parser in every command."""
    types = {}
    for name, flag, action in visible_options():
        types.setdefault(flag, {})[name] = action.type
    shared = {flag: by_command for flag, by_command in types.items() if len(by_command) > 1}
    assert {"--seed", "--lr", "--epochs", "--samples"} <= set(shared)
    for flag, by_command in shared.items():
        assert len(set(map(id, by_command.values()))) == 1, (flag, by_command)


def test_network_options_default_to_what_network_does(capsys):
    """explain's and train's defaults build the network Network's own defaults build."""
    args = cli.build_parser("explain").parse_args([])
    net = Network(args.network, args.activation, args.output_activation, args.loss, args.init,
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
    commands = {c.name for c in app.COMMANDS} | {"demo"}
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
