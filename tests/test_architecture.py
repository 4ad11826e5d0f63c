"""The package's layers hold, and no two modules import each other, even indirectly.

The layers are import-linter contracts in pyproject.toml; the cycles are found on
the import graph grimp builds (imports inside functions included: a lazy import
hides a cycle from Python, not from the reader).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp

from cidery.migrations import scripts

ROOT = Path(__file__).resolve().parents[1]


def test_the_layer_contracts_hold() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--config", str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_cycles() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(edges) == [["a", "b", "c"]]


def test_no_module_imports_itself_through_others() -> None:
    graph = grimp.build_graph("cidery")
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert _cycles(edges) == []


def _cidery_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cidery"):
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("cidery"))
    return found


def test_revisions_import_only_the_authoring_helpers() -> None:
    """A shipped revision runs on every future version of the code: it must not depend on
    the models, the runner or the checks, which change as the schema moves on. Revisions
    0001 and 0002 name the helpers by their first home (``cidery.migrations.ops``), which
    the package re-exports from ``authoring``."""
    allowed = {"cidery.migrations.archive", "cidery.migrations.ops"}
    for script in scripts.revisions_in_order():
        assert script.path is not None
        imports = _cidery_imports(Path(script.path))
        assert imports, f"{script.revision} imports no helper at all?"
        strays = {
            name
            for name in imports
            if name not in allowed and not name.startswith("cidery.migrations.authoring.")
        }
        assert strays == set(), f"revision {script.revision} imports {sorted(strays)}"
