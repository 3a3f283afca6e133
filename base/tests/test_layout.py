"""Tests for the package's layout: no import cycles, the old import paths still work.

The import graph is read from the source (every ``import`` and ``from ...
import`` statement, the ones inside functions included), not from what a
run happens to import, so a lazy import that closes a cycle is caught too.
"""

import ast
import importlib
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "purebp"


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name):
    """True if the dotted name is a module or package of purebp/."""
    base = PACKAGE.parent.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def import_graph():
    """Return {module: set of purebp modules it imports}, from every import statement."""
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        edges = graph.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name.startswith("purebp"))
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                    and node.module.startswith("purebp"):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    edges.add(full if _is_module(full) else node.module)
        edges.discard(name)
    return graph


def cycles(graph):
    """Return one cycle (a list of modules) per strongly connected group, if any."""
    found, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_the_cycle_finder_finds_a_cycle():
    """The checker below can fail: a two-module cycle and a lazy three-module one are reported."""
    assert cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_purebp_has_no_import_cycles():
    """No module of purebp/ imports, directly or through others, a module that imports it back."""
    graph = import_graph()
    assert "purebp.network" in graph and "purebp.files.model" in graph
    assert cycles(graph) == []


def test_model_files_know_no_network_class():
    """purebp.files imports neither network class: the classes take part through a protocol."""
    graph = import_graph()
    for module in ("purebp.files.model", "purebp.files.jsonfile"):
        assert not graph[module] & {"purebp.network", "purebp.tutorial"}, module


@pytest.mark.parametrize(("old", "new"), [
    ("purebp.exact", "purebp.oracle.exact"),
    ("purebp.vectors", "purebp.oracle.vectors"),
    ("purebp.testing", "purebp.oracle.testing"),
])
def test_old_module_names_import_the_moved_modules_themselves(old, new):
    """``import purebp.exact`` (and the others) gives the very module now in purebp.oracle."""
    if old == "purebp.testing":
        pytest.importorskip("hypothesis")
    assert importlib.import_module(old) is importlib.import_module(new)


def test_public_names_import_from_where_users_have_them():
    """The imports the README shows keep working after the move."""
    import purebp
    from purebp import Network, NeuralNetwork, datasets, oracle  # noqa: F401
    assert callable(oracle.check_implementation) and callable(oracle.compare)
    assert issubclass(purebp.ModelFormatError, ValueError)
