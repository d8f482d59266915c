"""``chainrule train --shards K`` and ``mpiexec -n K chainrule train --mpi``: the train
command's data-parallel flags, and what they change in its run.

Every rank runs the whole command: the same data, the same network, the same seeded batches;
:mod:`chainrule.distributed.mpi` splits each batch's gradient over the ranks. Rank 0 alone
prints and writes ``--save``; a rank that fails ends the job (``MPI_Abort``) so that no rank
waits for it for ever, and rank 0 reports the end with the last checkpoint it left intact.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

from chainrule.errors import InputError, RunFailed, quoted


def add_arguments(t):
    t.add_argument("--shards", type=_shards, default=1, metavar="K",
                   help="split every mini-batch into K shards, one gradient each summed in "
                        "shard order: the arithmetic of --mpi with K ranks, in one process "
                        "(default: 1, no sharding)")
    t.add_argument("--threads", type=_shards, default=None, metavar="T",
                   help="threads sharing the run's matrix products (default: the BLAS "
                        "library's limit, usually every core; a sweep runs each run with 1; an "
                        "MPI rank with the cores it shares); the weights do not depend on it: "
                        "every product is cut into the same pieces on any number of threads")
    t.add_argument("--mpi", action="store_true",
                   help="data-parallel over MPI ranks: mpiexec -n K chainrule train --mpi ... "
                        "(needs mpi4py: pip install 'chainrule[mpi]'); rank 0 prints and saves")


def _shards(text):
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {quoted(text)}")
    return int(text)


class Parallel:
    """How one ``train`` command runs: alone, in shards, or as one MPI rank of several."""

    def __init__(self, args):
        self.shards, self.comm, self.threads = args.shards, None, args.threads
        sharded = args.mpi or args.shards > 1
        if sharded and args.optimizer in ("cg", "lbfgs"):
            raise InputError(f"--optimizer {args.optimizer}: --shards and --mpi split "
                             "mini-batches, and CG/L-BFGS take the whole training set; use sgd, "
                             "momentum or adam")
        if args.mpi:
            if args.shards > 1:
                raise InputError("--shards with --mpi: the ranks are the shards (mpiexec -n K)")
            from chainrule.distributed import mpi

            self.comm = mpi.world()
        self.rank = 0 if self.comm is None else self.comm.Get_rank()
        if self.comm is not None and self.threads is None:
            from chainrule.distributed.mpi import blas_threads

            self.threads = blas_threads(self.comm)
        self.speaks = self.rank == 0          # prints and writes files

    @property
    def active(self):
        return self.comm is not None or self.shards > 1

    def describe(self):
        threads = "" if self.threads is None else f", {self.threads} BLAS thread" + \
            ("s" if self.threads > 1 else "") + (" per rank" if self.comm is not None else "")
        if self.comm is not None:
            return f"; data-parallel over {self.comm.Get_size()} MPI ranks{threads}"
        return (f"; {self.shards} shards per batch" if self.shards > 1 else "") + threads

    def model(self, net):
        """The network as training sees it: sharded, one shard per rank, or itself."""
        if self.comm is not None:
            from chainrule.distributed.mpi import mpi_network

            return mpi_network(net, self.comm)
        if self.shards > 1:
            from chainrule.distributed.shards import ShardedNetwork

            return ShardedNetwork(net, self.shards)
        return net

    def checkpoint(self, path):
        return path if self.speaks else None

    @contextlib.contextmanager
    def running(self, checkpoint, net):
        """Around the training: the BLAS threads pinned (``--threads``, an MPI rank's share of
        its machine), MPI's end by signal reported, a rank's own error ending every rank, and
        at the end a check that every rank holds the same weights."""
        from chainrule.distributed.runner import pinned_blas

        with contextlib.ExitStack() as stack:
            if self.threads is not None:
                stack.enter_context(pinned_blas(self.threads))
            if self.comm is None:
                yield
                return
            from chainrule.distributed import mpi

            stack.enter_context(mpi.ended_by_signal(self.comm, checkpoint))
            try:
                yield
                mpi.check_weights_agree(self.comm, net)
            except RunFailed:
                raise               # divergence (every rank alike) or the job's end by signal
            except BaseException as error:
                if self.comm.Get_size() > 1:
                    print(f"chainrule: error: rank {self.rank} of {self.comm.Get_size()}: "
                          f"{type(error).__name__}: {' '.join(str(error).split())}; ending "
                          "every rank", file=sys.stderr, flush=True)
                    mpi.abort_on_error(self.comm, 2 if isinstance(error, InputError) else 1)
                raise
