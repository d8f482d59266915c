"""benchmarks/bench_load.py and bench_scale.py: the runs they report are the runs they made
(no timing assertions)."""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_load
import bench_scale
from chainrule._fast import threads

HAS_JAX = importlib.util.find_spec("jax") is not None


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="needs os.sched_getaffinity")
def test_busy_core_spins_while_inside_and_is_gone_after():
    def spinners():
        found = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and bench_load.SPIN.encode() in \
                        (proc / "cmdline").read_bytes():
                    found.append(proc.name)
            except OSError:
                pass
        return found

    with bench_load.busy_core():
        spinning = spinners()
        assert spinning
    for pid in spinning:
        assert not Path(f"/proc/{pid}").exists() or \
            Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def test_load_rows_are_medians_and_each_system_runs_on_its_threads(monkeypatch):
    monkeypatch.setattr(bench_load, "busy_core", lambda: __import__("contextlib").nullcontext())
    monkeypatch.setattr(bench_load.bench, "settle", lambda *a, **k: 0.0)
    seen, running = [], []
    original_builder, original_enter = bench_load._builder, threads.BlasThreads.__enter__

    def spy(workload, system):
        running[:] = [system]
        return original_builder(workload, system)

    def enter(self):                                # the threads each run is given
        entered = original_enter(self)
        seen.append((running[0], entered.threads))
        return entered
    monkeypatch.setattr(bench_load, "_builder", spy)
    monkeypatch.setattr(threads.BlasThreads, "__enter__", enter)
    rows = bench_load.measure(["N1"], ["chainrule", "chainrule-1"], 2, 40, lambda line: None)
    assert sorted(set(seen)) == [("chainrule", 2), ("chainrule-1", 1)] and len(seen) == 8
    for row in rows:
        import statistics

        assert row["quiet_s"] == statistics.median(row["times"]["quiet"])
        assert row["slowdown"] == pytest.approx(row["loaded_s"] / row["quiet_s"])
    assert "chainrule-1" in bench_load.table(rows)


def test_load_table_compares_slowdowns():
    rows = [{"workload": "N2", "system": "chainrule", "quiet_s": 0.2, "loaded_s": 0.5,
             "slowdown": 2.5},
            {"workload": "N2", "system": "jax-jit", "quiet_s": 0.2, "loaded_s": 0.6,
             "slowdown": 3.0}]
    line = next(row for row in bench_load.table(rows).splitlines() if "jax-jit" in row)
    assert "0.83" in line and "met" in line and "NOT" not in line


@pytest.mark.parametrize("systems", [["chainrule"]] + ([["chainrule", "jax-scan"]] if HAS_JAX
                                                        else []))
def test_scale_runs_each_system_in_a_fresh_process(systems):
    rows = bench_scale.measure(["N1"], systems, 1, 40, lambda line: None)
    assert [r["system"] for r in rows] == systems
    for r in rows:
        (run,) = r["runs"]
        assert r["peak_mib"] == run["peak_mib"] >= run["before_mib"] > 0
        assert 0 <= r["accuracy"] <= 1 and r["time_s"] > 0
    assert (rows[-1]["compile_s"] is not None) == (systems[-1] == "jax-scan")
    assert "chainrule" in bench_scale.table(rows)
