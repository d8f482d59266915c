"""Data-parallel training over MPI: one full-MNIST epoch of [784,1024,1024,10] on 1 and 2 ranks.

Each repetition runs ``mpiexec -n 1`` and ``mpiexec -n 2`` of the same epoch (alternating which
goes first), each rank with one BLAS thread (the one-process runs too: OpenBLAS splits a large
product's sums differently over another number of threads); it reports the median epoch time
of each and their ratio, the bytes each rank receives per step (the gathered gradients) against
the flops of its shard, and how close the weights are: the 2-rank run against ``--shards 2``
in one process (bit for bit) and against the plain, unsharded run (rounding, relative to the
largest weight).

    python benchmarks/bench_mpi.py                          # batch 10, 3 repeats, float32
    python benchmarks/bench_mpi.py --batch-size 100 --dtype float64 --repeats 1

Needs mpi4py, an mpiexec (``pip install 'chainrule[mpi]'``) and MNIST (``--data-dir``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES = [784, 1024, 1024, 10]


def prepared(args):
    """The run's data and network; ``--rows`` keeps only the first rows (a quick check)."""
    from chainrule.distributed import runner

    run = runner.prepare(options(args))
    if args.rows:
        run.X, run.y = run.X[:args.rows], run.y[:args.rows]
    return run


def options(args):
    from chainrule.distributed import runner

    return runner.train_options(data="mnist", data_dir=args.data_dir, no_download=True,
                                layers=SIZES, epochs=1, batch_size=args.batch_size,
                                dtype=args.dtype, lr=args.lr, validation=0.1)


def rank_run(args):
    """One rank of ``mpiexec -n K``: train the epoch, rank 0 writes seconds and weights."""
    from chainrule.distributed import mpi, runner

    comm = mpi.world()
    with runner.pinned_blas(1):
        run = prepared(args)
        comm.Barrier()
        started = time.perf_counter()
        runner.fit(run, comm=comm)
        seconds = time.perf_counter() - started
    if comm.Get_rank() == 0:
        np.save(args.out + ".npy", run.net.to_vector())
        Path(args.out + ".json").write_text(json.dumps({"seconds": seconds}))


def in_process(args, shards):
    from chainrule.distributed import runner

    with runner.pinned_blas(1):          # as each of the 2 ranks on this 2-core machine
        run = prepared(args)
        started = time.perf_counter()
        runner.fit(run, shards=shards)
        return run.net.to_vector(), time.perf_counter() - started


def mpiexec():
    found = shutil.which("mpiexec", path=sysconfig.get_path("scripts")) or shutil.which("mpiexec")
    if found is None:
        sys.exit("bench_mpi: no mpiexec (pip install 'chainrule[mpi]')")
    return [found, "--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])


def launch(args, ranks, out):
    command = [*mpiexec(), "-n", str(ranks), sys.executable, __file__, "--rank-run",
               "--out", out, "--batch-size", str(args.batch_size), "--dtype", args.dtype,
               "--lr", str(args.lr), "--data-dir", args.data_dir, "--rows", str(args.rows)]
    subprocess.run(command, check=True)
    return (np.load(out + ".npy"), json.loads(Path(out + ".json").read_text())["seconds"])


def paper(args):
    """Per step and rank: bytes received by the gather against the flops of the shard."""
    params = sum(a * b + a for a, b in zip(SIZES[1:], SIZES[:-1]))
    itemsize = np.dtype(args.dtype).itemsize
    flops = 6 * (params - sum(SIZES[1:])) * args.batch_size   # forward 2, backward 4 per weight
    return {"params": params, "bytes_received_per_step_per_rank_2_ranks": params * itemsize,
            "flops_per_step_whole_batch": flops, "flops_per_step_per_rank_2_ranks": flops / 2}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=0,
                        help="train on the first ROWS rows only (a quick check; 0: all)")
    parser.add_argument("--data-dir", default=os.environ.get("CHAINRULE_DATA",
                                                             "../shared/data"))
    parser.add_argument("--rank-run", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    if args.rank_run:
        return rank_run(args)
    load_before = os.getloadavg()
    folder = tempfile.mkdtemp(prefix="bench-mpi-")
    seconds, weights = {1: [], 2: []}, {}
    for repeat in range(args.repeats):
        for ranks in ((1, 2) if repeat % 2 == 0 else (2, 1)):
            vector, took = launch(args, ranks, os.path.join(folder, f"r{ranks}-{repeat}"))
            seconds[ranks].append(took)
            weights[ranks] = vector
            print(f"repeat {repeat + 1}: {ranks} rank(s) {took:.1f} s", flush=True)
    shards_2, _ = in_process(args, 2)
    plain, plain_seconds = in_process(args, 1)
    scale = float(np.abs(plain).max())
    median = {k: statistics.median(v) for k, v in seconds.items()}
    summary = {
        "sizes": SIZES, "batch_size": args.batch_size, "dtype": args.dtype,
        "rows": args.rows or "all",
        "median_epoch_seconds": median, "ratio_2_over_1": median[2] / median[1],
        "plain_epoch_seconds_one_process": plain_seconds,
        "mpi2_equals_shards2_bit_for_bit": bool(np.array_equal(weights[2], shards_2)),
        "mpi2_vs_plain_max_relative": float(np.abs(weights[2] - plain).max()) / scale,
        "mpi1_vs_plain_max_relative": float(np.abs(weights[1] - plain).max()) / scale,
        "paper": paper(args), "load_before": load_before, "load_after": os.getloadavg(),
    }
    print(json.dumps(summary, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1))
    shutil.rmtree(folder)
    return summary


if __name__ == "__main__":
    main()
