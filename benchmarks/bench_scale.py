"""Scale: one epoch of N1's and N3's networks on the 60,000 MNIST training digits, time and
peak memory per system, each run in a fresh process.

    python benchmarks/bench_scale.py                    # N1, N3; chainrule, JAX jit/scan, PyTorch
    python benchmarks/bench_scale.py --workloads N3 --repeats 3 --json scale.json

Each repeat starts one child process per system, in turn (A, B, C, A, B, C, ...). The child
loads the digits, warms up (a trainer on a few digits, run once), builds the trainer (JAX
compiles here, timed apart), reads its peak resident
set size (VmHWM from /proc), trains once (timed), and reads it again: ``peak`` is the whole
process's, ``+training`` what the run added on top of the data and the model. The table shows
medians; accuracy is on the training digits, as in ``chainrule bench``. ``import chainrule``
is timed last, in fresh interpreters (a row, not a test).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import peers as bench_peers
from chainrule.fsutil import atomic_write
from run import HERE, PEAK_MIB, import_times

CHILD = """
import json, resource, sys, time
import numpy as np
from threadpoolctl import threadpool_limits
import harness as bench


""" + PEAK_MIB + """

workload, system, n = bench.WORKLOADS[sys.argv[1]], sys.argv[2], int(sys.argv[3])
X, y, source = bench.load_data(n, split="train")
with threadpool_limits(limits=2):
    # warm up on a few digits (imports, lazy initialisation, first calls), then build anew
    m = 2 * workload.batch_size
    warm = bench.builder(workload, system)(workload, bench.initial_params(workload), X[:m],
                                           y[:m], 0)
    warm.run()
    trainer = bench.builder(workload, system)(workload, bench.initial_params(workload), X, y, 0)
    before = peak_mib()
    start = time.perf_counter()
    trainer.run()
    elapsed = time.perf_counter() - start
    peak = peak_mib()
accuracy = float(np.mean(trainer.predict(X) == y))
print(json.dumps({"time_s": elapsed, "before_mib": before, "peak_mib": peak,
                  "compile_s": trainer.compile_s, "accuracy": accuracy, "data": source}))
"""


def one_run(name, system, n):
    out = subprocess.run([sys.executable, "-c", CHILD, name, system, str(n)], cwd=HERE,
                         capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"{name} {system}: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(names, systems, repeats, n, log) -> list:
    rows = []
    for name in names:
        runs = {s: [] for s in systems}
        for repeat in range(repeats):
            for system in systems:
                runs[system].append(one_run(name, system, n))
                r = runs[system][-1]
                log(f"{name} {system:<9} run {repeat + 1}/{repeats}: {r['time_s']:.3f} s, "
                    f"peak {r['peak_mib']:.0f} MiB (+{r['peak_mib'] - r['before_mib']:.0f})")
        for system in systems:
            rs = runs[system]
            compile_s = [r["compile_s"] for r in rs if r["compile_s"] is not None]
            rows.append({
                "workload": name, "system": system, "n": n, "data": rs[0]["data"],
                "time_s": statistics.median(r["time_s"] for r in rs),
                "peak_mib": statistics.median(r["peak_mib"] for r in rs),
                "training_mib": statistics.median(r["peak_mib"] - r["before_mib"] for r in rs),
                "compile_s": statistics.median(compile_s) if compile_s else None,
                "accuracy": rs[-1]["accuracy"], "runs": rs})
    return rows


def table(rows) -> str:
    lines = [f"{'workload':<9}{'system':<11}{'time (s)':>9}{'chainrule/system':>18}"
             f"{'peak MiB':>10}{'+training':>11}{'accuracy':>10}"]
    for row in rows:
        ours = next(r for r in rows if r["workload"] == row["workload"]
                    and r["system"] == "chainrule")
        ratio = "" if row is ours else f"{ours['time_s'] / row['time_s']:.2f}"
        compiled = "" if row["compile_s"] is None else f"  (compile {row['compile_s']:.2f} s)"
        lines.append(f"{row['workload']:<9}{row['system']:<11}{row['time_s']:>9.3f}{ratio:>18}"
                     f"{row['peak_mib']:>10.0f}{row['training_mib']:>+11.0f}"
                     f"{row['accuracy']:>10.4f}{compiled}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="N1,N3")
    parser.add_argument("--systems", default=None,
                        help="default: chainrule and the installed jax-jit, jax-scan, pytorch")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n", type=int, default=60000)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    systems = (args.systems.split(",") if args.systems else
               ["chainrule", *[p for p in ("jax-jit", "jax-scan", "pytorch")
                               if bench_peers.available(p)]])
    rows = measure(args.workloads.split(","), systems, args.repeats, args.n,
                   lambda line: print(line, file=sys.stderr, flush=True))
    imports = import_times()
    print(f"{rows[0]['n']} digits: {rows[0]['data']}, float32, 2 threads, medians of "
          f"{args.repeats} run(s), each in a fresh process")
    print(table(rows))
    print(f"import chainrule: {imports['import_inside_s'] * 1e3:.0f} ms in-process "
          f"(whole process {imports['import_process_s'] * 1e3:.0f} ms, bare python "
          f"{imports['python_bare_s'] * 1e3:.0f} ms; goal <= 150 ms)")
    if args.json:
        with atomic_write(Path(args.json), "w") as f:
            f.write(json.dumps({"rows": rows, "imports": imports}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
