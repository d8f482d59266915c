"""The full benchmark: times and ratios (harness.py), peak memory and import times.

    python benchmarks/run.py                       # everything, 5 alternating repeats
    python benchmarks/run.py --workloads N3 --repeats 3 --no-memory --no-imports
    python benchmarks/run.py --json results.json --markdown
    python benchmarks/run.py --combine run1.json run2.json --markdown   # times pooled

Peak memory: each (workload, system) trains once in a fresh child process, which reports its
peak resident set size (VmHWM from /proc; ``ru_maxrss`` elsewhere) before training (imports,
data, model built) and after.
Import times: ``import chainrule`` in a fresh interpreter (time inside the process, and the
whole process's wall time) and ``chainrule --help`` (wall time), medians of several runs, plus
the slowest modules of ``python -X importtime -c "import chainrule"``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import harness as bench
from chainrule.fsutil import atomic_write

HERE = Path(__file__).resolve().parent  # the memory child imports harness from here

PEAK_MIB = '''
def peak_mib():
    # VmHWM: this process image's peak RSS (ru_maxrss would carry the parent's over exec)
    try:
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
'''

MEMORY_CHILD = """
import json, resource, sys
from threadpoolctl import threadpool_limits
import harness as bench


""" + PEAK_MIB + """

workload, system = bench.WORKLOADS[sys.argv[1]], sys.argv[2]
X, y, _ = bench.load_data(int(sys.argv[3]))
with threadpool_limits(limits=2):
    trainer = bench.builder(workload, system)(workload, bench.initial_params(workload), X, y, 0)
    before = peak_mib()
    trainer.run()
print(json.dumps({"before_mib": before, "peak_mib": peak_mib()}))
"""

IMPORT_CHILD = ("import time; t = time.perf_counter(); import chainrule; "
                "print(time.perf_counter() - t)")


def peak_memory(workloads, systems, n, log) -> list:
    """Peak RSS (MiB) of training each workload once per system, each in a fresh process."""
    rows = []
    for name in workloads:
        for system in systems:
            out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, name, system, str(n)],
                                 cwd=HERE,
                                 capture_output=True, text=True, check=False)
            if out.returncode:
                log(f"memory {name} {system}: failed: {out.stderr.strip().splitlines()[-1:]}")
                continue
            row = {"workload": name, "system": system, **json.loads(out.stdout)}
            row["training_mib"] = row["peak_mib"] - row["before_mib"]
            log(f"memory {name} {system}: peak {row['peak_mib']:.0f} MiB "
                f"(+{row['training_mib']:.0f} MiB while training)")
            rows.append(row)
    return rows


def _wall(cmd, runs) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def import_times(runs: int = 7) -> dict:
    """Medians over fresh interpreters, in seconds, and the slowest imports (cumulative µs)."""
    inside = statistics.median(
        float(subprocess.run([sys.executable, "-c", IMPORT_CHILD], capture_output=True,
                             text=True, check=True).stdout) for _ in range(runs))
    cli = shutil.which("chainrule")
    help_cmd = [cli, "--help"] if cli else [sys.executable, "-m", "chainrule", "--help"]
    trace = subprocess.run([sys.executable, "-X", "importtime", "-c", "import chainrule"],
                           capture_output=True, text=True, check=True).stderr
    modules = []
    for line in trace.splitlines()[1:]:
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[1].isdigit():
            modules.append((int(parts[1]), parts[2].strip()))
    return {"import_inside_s": inside,
            "import_process_s": _wall([sys.executable, "-c", "import chainrule"], runs),
            "python_bare_s": _wall([sys.executable, "-c", "pass"], runs),
            "help_process_s": _wall(help_cmd, runs),
            "slowest_imports_us": sorted(modules, reverse=True)[:12]}


def _accuracy(value) -> str:
    return "-" if value is None else f"{value:.4f}"


def _goal(goal, counts=True) -> str:
    notes = [] if counts else ["accuracy differs: does not count"]
    if goal is not None:
        notes.insert(0, f"≤ {goal['goal']:.2f} " + ("met" if goal["met"] else "**not met**"))
    return "; ".join(notes)


def markdown(results) -> str:
    """The timing table as Markdown (for docs/performance.md)."""
    lines = ["| workload | system | time (s) | chainrule/system | accuracy | compile (s) | goal |",
             "|---|---|---:|---:|---:|---:|---|"]
    for w in results["workloads"]:
        goals = {g["peer"]: g for g in w["goals"]}
        for system, r in w["systems"].items():
            ratio = w["ratios"].get(system)
            compiled = r.get("compile_s")
            lines.append(
                f"| {w['name']} | {system} | {r['median']:.3f} | "
                f"{'' if ratio is None else f'{ratio:.2f}'} | "
                f"{_accuracy(r['accuracy'])} | "
                f"{'' if compiled is None else f'{compiled:.2f}'} | "
                f"{_goal(goals.get(system), r.get('counts', True))} |")
    return "\n".join(lines)


def combine(paths) -> dict:
    """Several runs' results as one: each system's times pooled, medians and ratios redone."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    merged = runs[0]
    merged["meta"]["repeats"] = sum(r["meta"]["repeats"] for r in runs)
    merged["meta"]["runs"] = len(runs)
    for w in merged["workloads"]:
        others = [o for r in runs[1:] for o in r["workloads"] if o["name"] == w["name"]]
        for system, r in w["systems"].items():
            for o in others:
                r["times"] += o["systems"][system]["times"]
            r["median"] = statistics.median(r["times"])
        chainrule = w["systems"]["chainrule"]["median"]
        w["ratios"] = {s: chainrule / r["median"] for s, r in w["systems"].items()
                       if s != "chainrule"}
        w["goals"] = bench.goals(w["name"], w["ratios"],
                                 {s: r.get("counts", True) for s, r in w["systems"].items()})
    return merged


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default=None, help="e.g. N1,N2 (default: all)")
    parser.add_argument("--peers", default=None, help="e.g. numpy,pytorch (default: installed)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--memory-workloads", default="N3")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--no-imports", action="store_true")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--combine", nargs="+", metavar="JSON",
                        help="pool the times of earlier --json runs and print their table")
    args = parser.parse_args(argv)
    if args.combine:
        results = combine(args.combine)
        print(bench.format_table(results))
        if args.markdown:
            print("\n" + markdown(results))
        return 0

    def log(line):
        print(line, file=sys.stderr, flush=True)

    workloads = None if args.workloads is None else args.workloads.split(",")
    peers = True if args.peers is None else args.peers.split(",")
    results = bench.run_benchmarks(workloads, peers=peers, repeats=args.repeats, n=args.n, log=log)
    results["meta"]["openblas_env"] = {k: os.environ.get(k)
                                       for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    systems = list(results["workloads"][0]["systems"]) if results["workloads"] else []
    if not args.no_memory:
        results["memory"] = peak_memory(args.memory_workloads.split(","),
                                        [s for s in systems if s != "floor"], args.n, log)
    if not args.no_imports:
        results["imports"] = import_times()
    print(bench.format_table(results))
    if args.markdown:
        print("\n" + markdown(results))
    for row in results.get("memory", []):
        print(f"peak RSS {row['workload']} {row['system']:<9} {row['peak_mib']:7.0f} MiB "
              f"(+{row['training_mib']:.0f} MiB training)")
    if "imports" in results:
        im = results["imports"]
        print(f"import chainrule: {im['import_inside_s'] * 1e3:.0f} ms in-process, "
              f"{im['import_process_s'] * 1e3:.0f} ms whole process "
              f"(bare python {im['python_bare_s'] * 1e3:.0f} ms); "
              f"chainrule --help: {im['help_process_s'] * 1e3:.0f} ms")
        for us, module in im["slowest_imports_us"]:
            print(f"  {us / 1e3:7.1f} ms  {module}")
    if args.json:
        with atomic_write(Path(args.json), "w") as f:
            f.write(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
