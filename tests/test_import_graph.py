"""The package's import graph: every module imports, no module imports in a cycle, and
imports go down the layers of STYLE.md (a file imports only from the rows above it)."""

import ast
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = REPO / "albert_tf"

# Bottom -> top; a module may import from its own row and the rows before it.
LAYERS = [
    ("albert_tf.settings", "albert_tf.config", "albert_tf.atomic_write", "albert_tf.quiet_logs",
     "albert_tf.run_lock", "albert_tf.varint"),
    ("albert_tf.tokenization",),
    ("albert_tf.modeling",),
    ("albert_tf.checkpoints",),
    ("albert_tf.data",),
    ("albert_tf.pretraining_data",),
    ("albert_tf.training",),
    ("albert_tf.tasks",),
    ("albert_tf.export",),
    ("albert_tf.text",),   # raw-text Python models, on export's in-graph text pieces
    ("albert_tf.cli",),
]
# Known upward imports still to be removed (none today).
KNOWN_UPWARD = set()


def module_files():
    """{dotted module name: path} of every module of the package."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_main_guard(node):
    """`if __name__ == "__main__":` - a script's entry, not a dependency of the module."""
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__" and len(test.comparators) == 1
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def _import_nodes(tree):
    """Every Import/ImportFrom node of `tree` outside `if __name__ == "__main__":`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if _is_main_guard(node):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph(modules):
    """{module: set of albert_tf modules it imports}, lazy (in-function) imports
    included: `from a.b import c` is an edge to a.b.c when that is a module, else a.b."""
    def owner(name):
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name

    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(owner(a.name) for a in node.names
                               if a.name.split(".")[0] == "albert_tf")
            elif (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                  and node.module.split(".")[0] == "albert_tf"):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    targets.add(full if full in modules else owner(node.module))
        targets.discard(name)
        graph[name] = targets
    return graph


def find_cycle(graph):
    """One import cycle as a list of modules [a, b, ..., a], or None."""
    state, path = {}, []

    def visit(node):
        state[node] = "open"
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def layer(module):
    for index, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def test_find_cycle_and_layer_on_a_hand_made_graph():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert layer("albert_tf.training.trainer") == 6 and layer("albert_tf.settings") == 0
    assert layer("albert_tf.trainingx") is None


def test_every_module_is_in_a_layer():
    unplaced = [m for m in module_files() if m != "albert_tf" and layer(m) is None]
    assert not unplaced, f"modules outside the layers of STYLE.md: {unplaced}"


def test_the_package_has_no_import_cycle():
    cycle = find_cycle(import_graph(module_files()))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_imports_go_down_the_layers():
    upward = sorted((m, t) for m, targets in import_graph(module_files()).items()
                    for t in targets
                    if m != "albert_tf" and t != "albert_tf" and layer(t) > layer(m))
    assert [edge for edge in upward if edge not in KNOWN_UPWARD] == []


def test_every_module_imports():
    names = sorted(module_files())
    code = ("import importlib, sys\n"
            "failed = []\n"
            f"for name in {names!r}:\n"
            "    try:\n"
            "        importlib.import_module(name)\n"
            "    except Exception as e:\n"
            "        failed.append(f'{name}: {type(e).__name__}: {e}')\n"
            "print('\\n'.join(failed))\n"
            "sys.exit(1 if failed else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
