"""No import cycle anywhere in src/aloft: every module's imports, read from its source, form a graph
without a cycle. Imports inside functions count, and so do `if TYPE_CHECKING:` ones: a module
that needs another's type only for its annotations still depends on it (the cycle this test was
written against, control API → dashboard → status → control API, ran through such imports, for
`Platform`). A cycle is named module by module, so it can be cut where it is."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import aloft

SRC = Path(aloft.__file__).resolve().parent.parent


def _modules() -> dict[str, Path]:
    """Every module of the aloft package: dotted name → file (a package is its __init__.py)."""
    found = {}
    for path in sorted((SRC / "aloft").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, wherever it is (module level, functions, `if TYPE_CHECKING:`)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def _imported(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The aloft modules that `module` imports (a package counts as its __init__)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from pkg import name`: the submodule pkg.name if there is one, else pkg itself
            names = [f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target
                     for alias in node.names]
        for name in names:
            while name and name not in modules:  # outside aloft (`json`: nothing left), or
                name = name.rpartition(".")[0]  # a package's attribute: the package
            if name and name != module:
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imported(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as [a, b, ..., a], or None (iterative depth-first search)."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path: list[str] = [start]
        on_path = {start}
        stack: list[Iterator[str]] = [iter(sorted(graph[start]))]
        while stack:
            following = next(stack[-1], None)
            if following is None:
                stack.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
                continue
            if following in on_path:
                return [*path[path.index(following):], following]
            if following not in done:
                path.append(following)
                on_path.add(following)
                stack.append(iter(sorted(graph.get(following, ()))))
    return None


def test_src_aloft_has_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_the_graph_sees_imports_inside_functions_and_for_type_checking() -> None:
    graph = import_graph()
    # `aloft cloud` imports the client inside its command function
    assert "aloft.local.control.client" in graph["aloft.cli.commands.cloud"]
    assert "aloft.local.provider" not in graph["aloft.cli.providers"]  # a string, not an import
    # status needs Platform for its annotations only
    status = (SRC / "aloft/local/control/status.py").read_text()
    assert "if TYPE_CHECKING:\n    from aloft.local.control.platform import Platform" in status
    assert "aloft.local.control.platform" in graph["aloft.local.control.status"]
    # `from package import submodule` is an edge to the submodule
    assert {"aloft.local.control.dashboard", "aloft.local.control.invoke_api"} <= graph[
        "aloft.local.control.control_api"]


def test_a_cycle_is_found_and_named() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a"}}) is None
