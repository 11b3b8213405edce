"""The tree's rules (DESIGN: each box one folder, imports run one way), checked on the source itself."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Folders from the bottom up: each may import only those before it (and itself).
# The log shipper (replay.ship) is a client of the HTTP API: it may use the core (settings, logging), nothing else.
LAYERS = ["replay.core", "replay.ship", "replay.storage", "replay.index", "replay.web", "replay.ingest", "replay.api",
          "replay.viewer", "replay.app", "replay.serve", "replay.cli", "replay.__main__"]
# The RQ side sits beside the web tier: it may use the data layers and the ingest buffer, never the web.
WORKER_MAY_IMPORT = {"replay.core", "replay.storage", "replay.index", "replay.ingest", "worker"}
# Only the command-line entry points start a worker.
ENTRY_POINTS = {"replay.cli", "replay.serve", "replay.__main__"}
MAX_MODULE_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for package in ("replay", "worker"):
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _owner(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path: Path) -> set[str]:
    """Our modules this file imports, at any depth (inside functions too)."""
    deps = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            deps |= {_owner(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            deps |= {_owner(f"{node.module}.{alias.name}") or _owner(node.module) for alias in node.names}
    return {d for d in deps if d}


GRAPH = {name: {d for d in _imports(path) if d != name and not name.startswith(d + ".")}
         for name, path in MODULES.items()}


def _box(module: str) -> str:
    parts = module.split(".")
    return "worker" if parts[0] == "worker" else ".".join(parts[:2])


def test_the_tree_has_the_boxes_of_the_flow():
    boxes = {_box(m) for m in MODULES}
    assert {"replay.core", "replay.storage", "replay.index", "replay.ingest", "replay.web", "replay.api",
            "replay.viewer", "worker"} <= boxes


def test_no_import_cycles():
    cycles, state, stack = [], {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for dep in sorted(GRAPH.get(node, ())):
            if state.get(dep) == "open":
                cycles.append(" -> ".join(stack[stack.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)
    assert cycles == []


def test_imports_run_down_the_layers():
    wrong = []
    for module, deps in GRAPH.items():
        box = _box(module)
        for dep in deps:
            target = _box(dep)
            if target == box:
                continue
            if box == "worker":
                ok = target in WORKER_MAY_IMPORT
            elif target == "worker":
                ok = module in ENTRY_POINTS
            else:
                ok = LAYERS.index(target) < LAYERS.index(box)
            if not ok:
                wrong.append(f"{module} -> {dep}")
    assert sorted(wrong) == []


def test_only_the_entry_points_import_the_factory():
    importers = sorted(m for m, deps in GRAPH.items() if "replay.app" in deps)
    assert set(importers) <= ENTRY_POINTS


def test_the_core_imports_nothing_of_ours_above_it():
    outside = sorted(f"{m} -> {d}" for m, deps in GRAPH.items() if _box(m) == "replay.core"
                     for d in deps if _box(d) != "replay.core")
    assert outside == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_short(module):
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_MODULE_LINES, f"{module} has {lines} lines; split it by concern"


def test_the_log_shipper_is_a_client_of_the_http_api():
    """`replay logs ship` runs on the nginx host: it reaches the collector over HTTP, never through our web code."""
    reaches = sorted(f"{m} -> {d}" for m, deps in GRAPH.items() if _box(m) == "replay.ship"
                     for d in deps if _box(d) not in ("replay.ship", "replay.core"))
    users = sorted(m for m, deps in GRAPH.items() if _box(m) != "replay.ship" and any(_box(d) == "replay.ship" for d in deps))
    assert reaches == [] and users == ["replay.cli"]
