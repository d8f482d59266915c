"""Training under a competing load: how much slower each system gets when another process keeps
one core busy.

    python benchmarks/bench_load.py                     # N1, N2, N3; chainrule, JAX jit/scan
    python benchmarks/bench_load.py --workloads N2 --repeats 5 --json load.json

Each repeat times every system twice, alternating: on the machine as it is ("quiet"), then
with a busy process (a Python loop, pinned to the last core where the OS allows) started
0.3 s before and killed after the run ("loaded"). The slowdown is the loaded median over the
quiet median; the goal is chainrule's slowdown no worse than JAX's. ``chainrule`` shares its
products' pieces between two threads (``chainrule._fast.threads``), ``chainrule-1`` runs them
on one.
Same digits, initial weights and batches as ``chainrule bench`` (harness.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import harness as bench
import peers as bench_peers
from chainrule.fsutil import atomic_write

SPIN = "while True: pass"


@contextlib.contextmanager
def busy_core():
    """A process spinning on one core (the last one this process may use) while inside."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    # the child pins itself (no preexec_fn: forking a process that runs JAX's threads is unsafe)
    pin = f"import os; os.sched_setaffinity(0, {{{cores[-1]}}})\n" if cores else ""
    spinner = subprocess.Popen([sys.executable, "-c", pin + SPIN])
    try:
        time.sleep(0.3)
        yield
    finally:
        spinner.kill()
        spinner.wait()


def _on_one_thread(builder):
    """chainrule's builder with its run limited to one thread (threadpoolctl's limit, which
    the run's products are shared by)."""
    from threadpoolctl import threadpool_limits

    def build(*args):
        trainer = builder(*args)
        run = trainer.run

        def limited():
            with threadpool_limits(limits=1):
                run()
        trainer.run = limited
        return trainer
    return build


def _builder(workload, system):
    if system == "chainrule-1":
        return _on_one_thread(bench.builder(workload, "chainrule"))
    return bench.builder(workload, system)


def measure(names, systems, repeats, n, log) -> list:
    import scipy.linalg.blas  # noqa: F401  (chainrule's BLAS, loaded before the first timed run)
    from threadpoolctl import threadpool_limits

    X, y, source = bench.load_data(n)
    log(f"{len(X)} digits: {source}")
    rows = []
    with threadpool_limits(limits=2):
        for name in names:
            workload = bench.WORKLOADS[name]
            params = bench.initial_params(workload)
            times = {(s, c): [] for s in systems for c in ("quiet", "loaded")}
            for repeat in range(repeats):
                for system in systems:
                    for condition in ("quiet", "loaded"):
                        trainer = _builder(workload, system)(workload, params, X, y, 0)
                        bench.settle(0.2, max_wait=5.0)
                        with busy_core() if condition == "loaded" else contextlib.nullcontext():
                            start = time.perf_counter()
                            trainer.run()
                            elapsed = time.perf_counter() - start
                        times[system, condition].append(elapsed)
                        log(f"{name} {system:<15} {condition:<6} run {repeat + 1}/{repeats}: "
                            f"{elapsed:.3f} s")
            for system in systems:
                quiet = statistics.median(times[system, "quiet"])
                loaded = statistics.median(times[system, "loaded"])
                rows.append({"workload": name, "system": system, "quiet_s": quiet,
                             "loaded_s": loaded, "slowdown": loaded / quiet,
                             "times": {c: times[system, c] for c in ("quiet", "loaded")}})
    return rows


def table(rows) -> str:
    lines = [f"{'workload':<9}{'system':<16}{'quiet (s)':>10}{'loaded (s)':>11}{'slowdown':>10}"
             f"  chainrule's slowdown / this one's"]
    for row in rows:
        ours = next(r for r in rows if r["workload"] == row["workload"]
                    and r["system"] == "chainrule")
        ratio = "" if row["system"].startswith("chainrule") else \
            f"{ours['slowdown'] / row['slowdown']:.2f} (goal <= 1: " + \
            ("met)" if ours["slowdown"] <= row["slowdown"] else "NOT met)")
        lines.append(f"{row['workload']:<9}{row['system']:<16}{row['quiet_s']:>10.3f}"
                     f"{row['loaded_s']:>11.3f}{row['slowdown']:>9.1f}×  {ratio}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="N1,N2,N3")
    parser.add_argument("--systems", default=None,
                        help="default: chainrule, chainrule-1 and JAX's peers "
                             "if installed")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    systems = (args.systems.split(",") if args.systems else
               ["chainrule", "chainrule-1",
                *[p for p in ("jax-jit", "jax-scan") if bench_peers.available(p)]])
    rows = measure(args.workloads.split(","), systems, args.repeats, args.n,
                   lambda line: print(line, file=sys.stderr, flush=True))
    print(table(rows))
    if args.json:
        with atomic_write(Path(args.json), "w") as f:
            f.write(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
