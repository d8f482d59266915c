"""The package's shape, as docs/architecture.md draws it: imports go one way, rooms stay apart.

Every ``import`` statement in every file counts, at module level or inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "chainrule"
ENGINE_ORDER = ["tensor", "graph", "ops_shape", "ops", "custom", "methods", "api", "gradcheck"]


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str) -> set[str]:
    """The chainrule modules that ``name``'s file imports (``from pkg import mod`` -> pkg.mod)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name) for name in MODULES}


def _cycles():
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in GRAPH:
        if v not in index:
            visit(v)
    return found


def test_the_analysis_sees_imports():
    """The checks below can fail: the graph holds the edges we know are there."""
    assert "chainrule.engine.tensor" in GRAPH["chainrule.engine.graph"]
    assert "chainrule.explanations.render" in GRAPH["chainrule.explanations.diagram"]
    assert "chainrule.training.checkpoint" in GRAPH["chainrule.training.loop"]  # inside a function


def test_no_import_cycle_at_any_depth():
    assert _cycles() == []


def test_the_engine_imports_only_what_comes_before():
    for position, name in enumerate(ENGINE_ORDER):
        module = f"chainrule.engine.{name}"
        earlier = {f"chainrule.engine.{n}" for n in ENGINE_ORDER[:position]}
        inside = {m for m in GRAPH[module] if m.startswith("chainrule.engine")}
        assert inside <= earlier, f"{name} imports {sorted(inside - earlier)}"
        outside = GRAPH[module] - inside
        assert outside <= {"chainrule.errors"}, f"{name} imports {sorted(outside)}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_rooms_stay_apart(name):
    imports = GRAPH[name]
    if name.startswith("chainrule.nn"):
        assert not {m for m in imports if m.startswith("chainrule.training")}, "nn -> training"
    if not name.startswith("chainrule.cli") and name != "chainrule.__main__":
        assert not {m for m in imports if m.startswith("chainrule.cli")}, "library -> cli"
    fast = {m for m in imports if m.startswith("chainrule._fast")}
    seams = {"chainrule.nn._fused", "chainrule.training.steps"}
    if fast and not name.startswith("chainrule._fast"):
        assert name in seams, f"{name} reaches into _fast; only {sorted(seams)} may"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_long(name):
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= 450, f"{MODULES[name].relative_to(SRC)} has {lines} lines"


def test_few_plain_modules_at_the_top():
    plain = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(plain) <= 6, plain
