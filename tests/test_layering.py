"""Module-level imports of evogan form no cycle, and the pure core never imports upwards."""

from __future__ import annotations

import ast
from pathlib import Path

import evogan

ROOT = Path(evogan.__file__).parent
CORE = ("evogan.models", "evogan.losses", "evogan.metrics", "evogan.training", "evogan.hyperparameters",
        "evogan.config", "evogan.data")
UPPER = ("evogan.evolution", "evogan.distributed", "evogan.driver", "evogan.tune", "evogan.run", "ray")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path, modules: frozenset[str] = frozenset()) -> set[str]:
    """Modules imported at module level (function-level imports are deliberate deferrals);
    ``from package import submodule`` counts as importing the submodule only."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            subs = {f"{node.module}.{alias.name}" for alias in node.names}
            names.update(subs & modules if subs <= modules else subs | {node.module})
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in ROOT.rglob("*.py")}
    known = frozenset(modules)
    return {name: {m for m in top_level_imports(path, known) if m in modules and m != name}
            for name, path in modules.items()}


def test_no_import_cycles():
    edges, state, cycles = graph(), {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_pure_core_knows_nothing_of_evolution_or_ray():
    upward = {}
    for path in ROOT.rglob("*.py"):
        name = module_name(path)
        if name.startswith(CORE) and not name.startswith("evogan.training.run_output"):
            bad = {m for m in top_level_imports(path) if m.startswith(UPPER)}
            if bad:
                upward[name] = bad
    assert upward == {}
