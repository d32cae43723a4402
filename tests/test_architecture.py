"""The package's shape: no import circles, no library module on the CLI, benchmarks on the public API.

The import graph is read from the source (every ``import`` statement, at module level or inside a
function), so a lazy import counts like any other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "graphwgan"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The graphwgan modules that ``path`` imports (``from a import b`` counts ``a.b`` when it is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found.update(target for target in targets if target in known and target != name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, name, known) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index, low, stack, on_stack, result, counter = {}, {}, [], set(), [], [0]

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return result


def test_the_import_graph_is_read():
    graph = import_graph()
    assert "graphwgan.graph" in graph["graphwgan.datasets"]
    assert "graphwgan.synthesis.walk_model" in graph["graphwgan.synthesis.cell"]


def test_no_import_circles():
    assert _cycles(import_graph()) == []


def test_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_library_never_imports_the_cli():
    offenders = [name for name, targets in import_graph().items()
                 if "graphwgan.cli" in targets and name not in ("graphwgan.cli", "graphwgan.__main__")]
    assert offenders == []


def test_nothing_outside_synthesis_reaches_into_it_for_a_private_name():
    offenders = []
    for name, path in _modules().items():
        if name.startswith("graphwgan.synthesis"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("graphwgan.synthesis"):
                offenders += [f"{name}: {alias.name}" for alias in node.names if alias.name.startswith("_")]
    assert offenders == []


@pytest.mark.parametrize("folder", ["benchmarks", "examples"])
def test_scripts_use_the_public_api_without_path_edits(folder):
    problems = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", None) == "sys":
                problems.append(f"{path.name}: sys.path")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("graphwgan"):
                if any(part.startswith("_") for part in node.module.split(".")):
                    problems.append(f"{path.name}: {node.module}")
                problems += [f"{path.name}: {alias.name}" for alias in node.names if alias.name.startswith("_")]
            if isinstance(node, ast.Import):
                problems += [f"{path.name}: {alias.name}" for alias in node.names
                             if alias.name.startswith("graphwgan") and "._" in alias.name]
    assert problems == []
