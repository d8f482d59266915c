"""The package's shape, as docs/architecture.md draws it: imports go one way, rooms stay apart.

Every ``import`` statement in every file counts, at module level or inside a function.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from imports import GRAPH, MODULES, PACKAGE, SRC, cycles

ENGINE_ORDER = ["tensor", "graph", "ops_shape", "ops", "ops_math", "ops_reduce", "ops_index",
                "linalg", "custom", "methods", "api", "gradcheck"]


def test_the_analysis_sees_imports():
    """The checks below can fail: the graph holds the edges we know are there."""
    assert "chainrule.engine.tensor" in GRAPH["chainrule.engine.graph"]
    assert "chainrule.explanations.render" in GRAPH["chainrule.explanations.diagram"]
    assert "chainrule.training.checkpoint" in GRAPH["chainrule.training.loop"]  # inside a function


def test_no_import_cycle_at_any_depth():
    assert cycles() == []


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
