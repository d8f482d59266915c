"""Where a sweep's runs go: a pool of local processes, or a Dask distributed cluster.

Both take the same task, :func:`chainrule.distributed.runner.run_point`, one per grid point,
and yield ``(index, row, ran)`` as the runs finish (``ran`` False: the backend failed the
run, e.g. a pool whose worker died, so the row is not the run's own). A run is a pure
function of its options, so it gives the same weights on any worker; each pins its BLAS to one
thread (threadpoolctl), since the runs already share the cores between them.

- ``local``: :class:`concurrent.futures.ProcessPoolExecutor` with K processes (spawned, so no
  BLAS thread state is inherited). A worker that dies breaks the pool: its runs report it.
- ``dask``: a ``distributed.Client`` on a ``LocalCluster`` of K worker processes with one thread
  each, or on the scheduler at ``scheduler`` (``tcp://host:8786``) that ``dask scheduler`` and
  ``dask worker`` started. A worker killed mid-run has its task run again elsewhere by Dask's
  scheduler (up to ``distributed.scheduler.allowed-failures`` times), with the same result.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time

from chainrule.errors import InputError, quoted

__all__ = ["BACKENDS", "INSTALL_DASK", "Backend", "default_backend", "open_backend", "warm_up"]

BACKENDS = ("local", "dask")
INSTALL_DASK = "the dask backend needs Dask's distributed scheduler: pip install 'chainrule[dask]'"


def have_dask() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def default_backend(scheduler=None) -> str:
    """``dask`` when Dask's distributed is installed (or a scheduler is named), else ``local``."""
    return "dask" if scheduler is not None or have_dask() else "local"


def _default_workers():
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


def warm_up(options=None, pause=0.0):
    """A worker's start-up, counted as the backend's: import what a run needs and load the
    sweep's data (``options``), then wait ``pause`` seconds so that K such calls land on K
    different workers."""
    import chainrule.nn
    import chainrule.training  # noqa: F401
    from chainrule.distributed import runner

    if options is not None:
        runner.load_data(options)
    time.sleep(pause)
    return os.getpid()


def _quiet_worker():
    """A local pool's worker leaves Ctrl-C to the parent, which cancels the sweep."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Backend:
    """An open backend: ``submit(options, params)``, ``as_completed()``, ``cancel()``,
    ``close()``; ``startup_seconds`` is what opening it cost (a cluster's start-up)."""

    name = ""
    startup_seconds = 0.0
    workers = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class LocalBackend(Backend):
    name = "local"

    def __init__(self, workers, warm=None):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        started = time.perf_counter()
        self.workers = workers
        self.pool = ProcessPoolExecutor(max_workers=workers, initializer=_quiet_worker,
                                        mp_context=multiprocessing.get_context("spawn"))
        self.futures = {}
        pids = {f.result() for f in [self.pool.submit(warm_up, warm, 0.2) for _ in range(workers)]}
        self.workers = len(pids)
        self.startup_seconds = time.perf_counter() - started

    def submit(self, index, options, params, keep_model):
        from chainrule.distributed.runner import run_point

        future = self.pool.submit(run_point, options, params, keep_model)
        self.futures[future] = index

    def as_completed(self):
        from concurrent.futures import as_completed

        for future in as_completed(list(self.futures)):
            index = self.futures.pop(future)
            try:
                yield index, future.result(), True
            except Exception as error:  # the pool broke (a worker died): not the run's fault
                yield index, {"error": f"{type(error).__name__}: {error or 'a worker died'}"}, \
                    False

    def cancel(self):
        for future in self.futures:
            future.cancel()

    def close(self):
        self.cancel()
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskBackend(Backend):
    name = "dask"

    def __init__(self, workers, scheduler, warm=None):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError(INSTALL_DASK) from None
        started = time.perf_counter()
        self.cluster = None
        if scheduler is None:
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=logging.ERROR)
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as error:
                raise InputError(f"--scheduler {scheduler}: no Dask scheduler answered "
                                 f"({' '.join(str(error).split())})") from None
        self.workers = len(self.client.run(warm_up, warm))
        self.startup_seconds = time.perf_counter() - started
        self.futures = {}

    def submit(self, index, options, params, keep_model):
        from chainrule.distributed.runner import run_point

        future = self.client.submit(run_point, options, params, keep_model, pure=False,
                                    key=f"chainrule-run-{index}-{os.getpid()}-{time.time_ns()}")
        self.futures[future] = index

    def as_completed(self):
        from distributed import as_completed

        for future in as_completed(list(self.futures)):
            index = self.futures.pop(future)
            try:
                yield index, future.result(), True
            except Exception as error:   # e.g. KilledWorker: the task's retries ran out
                yield index, {"error": f"{type(error).__name__}: "
                              f"{' '.join(str(error).split())}"}, False

    def cancel(self):
        if self.futures:
            with contextlib.suppress(Exception):
                self.client.cancel(list(self.futures), force=True)
        self.futures.clear()

    def close(self):
        self.cancel()
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()


def open_backend(name=None, workers=None, scheduler=None, warm=None) -> Backend:
    """Open the backend ``name`` (local, dask; None: :func:`default_backend`); with ``warm``
    (train options) every worker loads their data before the backend counts as started."""
    name = default_backend(scheduler) if name is None else name
    if name not in BACKENDS:
        raise InputError(f"backend: unknown name {quoted(name)}; choose one of: "
                         f"{', '.join(BACKENDS)}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise InputError(f"workers: expected an integer >= 1, got {quoted(workers)}")
    if name == "local":
        if scheduler is not None:
            raise InputError("scheduler: a scheduler address is for the dask backend")
        return LocalBackend(workers or _default_workers(), warm)
    return DaskBackend(workers or _default_workers(), scheduler, warm)
