"""A sweep's throughput: 8 runs on 1 worker against the same 8 runs on 2 workers.

Each repetition runs the same sweep (4 learning rates × 2 seeds of the digits' [64,100,10],
``--epochs`` each) on one worker and on two, alternating which goes first; it reports the
median time of the runs on each (start-up apart), their ratio (2 workers / 1: 0.5 is perfect
scaling), and the median start-up of the backend (a LocalCluster with its workers' imports, or
a process pool). Every run pins its BLAS to one thread, so the two workers do not fight over
the cores with BLAS threads. One run's median time alone and beside another shows how much
the two slow each other down (shared caches, memory, other users). The machine's load
(``os.getloadavg``) is printed before and after: other processes on a shared machine take
cores from the two workers.

    python benchmarks/bench_sweep.py                         # dask, 5 alternating repeats
    python benchmarks/bench_sweep.py --backend local --repeats 3 --json sweep.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics

import chainrule as cr
from chainrule.fsutil import atomic_write

GRID = {"lr": [0.1, 0.3, 1.0, 3.0], "seed": [0, 1]}


def one(backend, workers, epochs):
    result = cr.sweep(GRID, hidden=[100], epochs=epochs, backend=backend, workers=workers,
                      progress=False)
    assert all(r["error"] is None for r in result.runs), result.table()
    per_run = statistics.median(r["seconds"] for r in result.runs)
    return result.seconds, result.startup_seconds, result.best["val_accuracy"], per_run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("dask", "local"), default="dask")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    times = {1: [], 2: []}
    startup = {1: [], 2: []}
    per_run = {1: [], 2: []}
    for repeat in range(args.repeats):
        for workers in ((1, 2) if repeat % 2 == 0 else (2, 1)):
            seconds, start, best, run = one(args.backend, workers, args.epochs)
            times[workers].append(seconds)
            per_run[workers].append(run)
            startup[workers].append(start)
            print(f"repeat {repeat + 1}: {workers} worker(s) {seconds:.2f} s "
                  f"(start-up {start:.2f} s, a run {run:.2f} s), best val accuracy {best:.2%}",
                  flush=True)
    load_after = os.getloadavg()
    median = {w: statistics.median(t) for w, t in times.items()}
    ratios = [b / a for a, b in zip(times[1], times[2])]
    summary = {
        "backend": args.backend, "runs": 8, "epochs": args.epochs, "repeats": args.repeats,
        "median_seconds": median, "ratio_2_over_1": median[2] / median[1],
        "ratio_per_repeat": ratios,
        "median_startup_seconds": {w: statistics.median(s) for w, s in startup.items()},
        "median_run_seconds": {w: statistics.median(s) for w, s in per_run.items()},
        "load_before": load_before, "load_after": load_after, "cores": os.cpu_count(),
    }
    print(f"\n{args.backend}: 8 runs of {args.epochs} epochs; median {median[1]:.2f} s on 1 "
          f"worker, {median[2]:.2f} s on 2: ratio {summary['ratio_2_over_1']:.2f} "
          f"(per repeat {min(ratios):.2f}-{max(ratios):.2f}); start-up median "
          f"{summary['median_startup_seconds'][1]:.2f} s (1 worker), "
          f"{summary['median_startup_seconds'][2]:.2f} s (2 workers); one run's median "
          f"{summary['median_run_seconds'][1]:.2f} s alone, {summary['median_run_seconds'][2]:.2f}"
          f" s beside another; load average "
          f"{load_before[0]:.2f} before, {load_after[0]:.2f} after, {os.cpu_count()} cores")
    if args.json:
        with atomic_write(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    return summary


if __name__ == "__main__":
    main()
