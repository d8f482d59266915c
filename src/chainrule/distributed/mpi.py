"""Data-parallel training over MPI (mpi4py): ``mpiexec -n K chainrule train --mpi``.

Every rank holds the whole data set and the same network, and walks the same seeded mini-batches.
Rank r computes the gradient of shard r of each batch with BP1–BP4
(:class:`~chainrule.distributed.shards.ShardedNetwork`); the ranks then *gather* every shard's
gradient (``Iallgather``: each rank receives all K of them) and each adds them **in rank order**,
the same additions as ``chainrule train --shards K`` makes in one process. An ``Allreduce`` would
leave the order of the sum to the MPI library (a tree, a ring, whatever the message sizes
choose), and the weights would then depend on K's layout; gathering costs (K − 1)·P numbers
received per rank and step instead of about 2·P, for exact weights. Every rank takes the same
step; rank 0 alone writes the checkpoint and prints.

A rank that dies makes ``mpiexec`` end the others with SIGTERM. The collectives here wait by
polling (``Test``), so that signal reaches Python: rank 0 reports it as one line naming the last
checkpoint, which atomic writes leave intact (:func:`ended_by_signal`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal

import numpy as np

from chainrule.errors import InputError, RunFailed

__all__ = ["INSTALL", "abort_on_error", "check_weights_agree", "ended_by_signal", "mpi_network",
           "same_on_every_rank", "world"]

INSTALL = ("data-parallel training needs mpi4py and an MPI library: pip install "
           "'chainrule[mpi]' (mpi4py and Open MPI's wheel), then run it as "
           "mpiexec -n K chainrule train --mpi ...")


def world():
    """mpi4py's COMM_WORLD, or an InputError saying how to install it."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise InputError(f"--mpi: {INSTALL} ({error})") from None
    return MPI.COMM_WORLD


def _wait(request):
    """Wait for a non-blocking collective by polling, so Python's signal handlers can run;
    between polls the core is offered to other processes (``sched_yield``): on a machine
    with more processes than cores, a rank spinning on its core keeps the rank it waits for
    off it."""
    while not request.Test():
        os.sched_yield()


def _gather(comm):
    """``combine`` for ShardedNetwork: every rank's gradient row and scores, to every rank."""
    from mpi4py import MPI

    def combine(ranks, rows, stats):
        _wait(comm.Iallgather(MPI.IN_PLACE, rows))
        _wait(comm.Iallgather(MPI.IN_PLACE, stats))

    return combine


def mpi_network(net, comm):
    """``net`` trained as rank ``comm.rank`` of ``comm.size``: one shard per rank, gathered.

    A one-rank communicator is the sharded arithmetic with K = 1 (still gathered through MPI).
    """
    from chainrule.distributed.shards import ShardedNetwork

    return ShardedNetwork(net, comm.Get_size(), ranks=[comm.Get_rank()], combine=_gather(comm))


def blas_threads(comm):
    """BLAS threads per rank: the cores of this machine shared by the ranks on it (one each
    when ``mpiexec -n 2`` runs on two cores; all of them for one rank per machine).
    Threads beyond the cores make OpenBLAS's spinning threads and the ranks fight, several
    times slower."""
    from mpi4py import MPI

    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    try:
        ranks_here = local.Get_size()
    finally:
        local.Free()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // ranks_here)


@contextlib.contextmanager
def ended_by_signal(comm, checkpoint=None):
    """Turn the SIGTERM that ``mpiexec`` sends when a rank dies into a RunFailed on rank 0
    naming the last checkpoint (its epoch read back from the file, which atomic writes keep
    whole); the other ranks end without a word."""
    rank, size = comm.Get_rank(), comm.Get_size()

    def ended(signum, frame):
        if rank != 0:               # rank 0 speaks for the job; the others end quietly
            os._exit(128 + signum)
        raise RunFailed(f"rank {rank} of {size}: the MPI job was ended (signal "
                        f"{signal.Signals(signum).name}), most likely because another rank "
                        f"stopped (mpiexec names it); {_checkpoint_note(checkpoint)}")

    previous = signal.signal(signal.SIGTERM, ended)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _checkpoint_note(path):
    if path is None:
        return "no checkpoint was asked for (--save)"
    from chainrule.training import load_checkpoint

    try:
        _, state = load_checkpoint(path)
    except (InputError, OSError):
        return f"no complete checkpoint was written to {path} yet"
    epoch = "?" if state is None else state.epoch
    return f"the last checkpoint {path} (epoch {epoch}) is intact: continue with --resume {path}"


def abort_on_error(comm, code):
    """End every rank (``MPI_Abort``): after an error on one rank the others would wait in the
    next gather for ever."""
    if comm.Get_size() > 1:
        comm.Abort(code)


def same_on_every_rank(comm, value):
    """True when every rank holds the same ``value`` (e.g. the options they parsed).

    >>> class One:                                    # a one-rank communicator
    ...     def allgather(self, v): return [v]
    >>> same_on_every_rank(One(), {"lr": 0.5})
    True
    """
    values = comm.allgather(value)
    return all(v == values[0] for v in values)


def check_weights_agree(comm, net):
    """Raise RunFailed when the ranks' weights differ (they never should: same steps)."""
    digest = hashlib.sha256(np.ascontiguousarray(net.to_vector()).tobytes()).hexdigest()
    if not same_on_every_rank(comm, digest):
        raise RunFailed("the ranks' weights differ after training: each rank's BLAS must round "
                        "alike (the same library and threads on every machine)")
