"""One training run described by a dict of train options, run alone, in shards or over MPI.

The options, their defaults and the run itself are :mod:`chainrule.training.options`'s
(``chainrule train`` uses them too); here :func:`fit` adds the data-parallel ways to train
(shards, :mod:`chainrule.distributed.shards`, or MPI ranks), and :func:`run_point` runs one
point of a sweep and returns its row. The same options give the same weights bit for bit,
whichever of these runs them.

>>> options = train_options(epochs=2, hidden=[8], lr=0.5)
>>> row = run_point(options, progress=False)
>>> row["error"], row["epochs"], 0.5 < row["test_accuracy"] <= 1.0
(None, 2, True)
"""

from __future__ import annotations

import math
import os
import tempfile
import time

from chainrule.errors import InputError, RunFailed
from chainrule.training import options as _options
from chainrule.training.options import (
    DEFAULTS,
    SCIPY_OPTIMIZERS,
    Prepared,
    load_data,
    prepare,
    train_options,
)

__all__ = ["DEFAULTS", "Prepared", "fit", "load_data", "prepare", "run_point", "scores",
           "train_options"]

SCORES = ("test_accuracy", "test_cost", "val_accuracy", "val_cost", "train_accuracy",
          "train_cost", "epochs")


def fit(prepared, *, shards=1, comm=None, checkpoint=None, progress=False, callbacks=()):
    """Train ``prepared.net`` with :func:`chainrule.training.options.fit` and return its
    History (a resumed run, ``prepared.state``, continues).

    ``shards`` > 1 computes each mini-batch's gradient in that many shards summed in order
    (:class:`~chainrule.distributed.shards.ShardedNetwork`); ``comm`` (an mpi4py communicator)
    spreads the shards over its ranks, one each (:mod:`chainrule.distributed.mpi`), with
    ``threads`` BLAS threads or those of :func:`~chainrule.distributed.mpi.blas_threads`.
    Otherwise the BLAS threads are left as they are (``threads`` is :func:`run_point`'s).
    """
    options, model = prepared.options, prepared.net
    if comm is not None or shards != 1:
        if options["optimizer"] in SCIPY_OPTIMIZERS:
            raise InputError(f"optimizer {options['optimizer']}: data-parallel training splits "
                             "mini-batches, and CG/L-BFGS take the whole training set; use sgd, "
                             "momentum or adam")
        if comm is not None:
            from chainrule.distributed.mpi import blas_threads, mpi_network

            model = mpi_network(model, comm)
            with pinned_blas(options["threads"] or blas_threads(comm)):
                return _options.fit(prepared, model, checkpoint=checkpoint, progress=progress,
                                    callbacks=callbacks)
        from chainrule.distributed.shards import ShardedNetwork

        model = ShardedNetwork(model, shards)
    return _options.fit(prepared, model, checkpoint=checkpoint, progress=progress,
                        callbacks=callbacks)


def scores(prepared, history) -> dict:
    """The run's numbers (:func:`chainrule.training.options.summary`): the final weights' test,
    validation and training accuracy and data cost C_0 (no L2 term, so they compare), the
    number of epochs."""
    report = _options.summary(prepared, history)
    return {key: report[key] for key in SCORES}


def pinned_blas(threads=1):
    """``threads`` BLAS threads from here on (threadpoolctl), NumPy's and SciPy's BLAS alike:
    runs side by side share the cores. SciPy's BLAS (the training's, loaded by chainrule._fast
    on its first product) is loaded first, since threadpoolctl limits only the libraries
    loaded when it is called: two processes whose OpenBLAS threads spin on two cores run
    each product several times slower."""
    import scipy.linalg.blas  # noqa: F401
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads)


def run_point(options, params=None, keep_model=False, progress=False) -> dict:
    """Run one point of a sweep and return its row; a failure is the row's ``error``.

    The run's BLAS has ``threads`` threads (default 1: runs side by side share the cores), and
    its weights are those of ``chainrule train --threads`` with as many, bit for bit (OpenBLAS
    may split a large product's sums differently over another number of threads).

    ``params``: the swept values, reported as given; ``keep_model``: the row's ``model_bytes``
    hold the final checkpoint file (a model file ``chainrule evaluate`` loads), written by the
    run as ``chainrule train --save`` writes it, so the caller can store it wherever it likes
    (a cluster's workers need not share a disk with it).
    """
    started = time.perf_counter()
    options = _options.resolve(options)
    row = {"params": dict(params or {}), "error": None, "model_bytes": None,
           **dict.fromkeys(SCORES)}
    folder = tempfile.mkdtemp(prefix="chainrule-run-") if keep_model else None
    path = None if folder is None else os.path.join(folder, "model.npz")
    try:
        with pinned_blas(options["threads"] or 1):
            prepared = prepare(options)
            history = fit(prepared, checkpoint=path, progress=progress)
            row.update(scores(prepared, history))
        if path is not None:
            with open(path, "rb") as f:
                row["model_bytes"] = f.read()
    except (InputError, RunFailed, ValueError, OSError, MemoryError, FloatingPointError) as error:
        row["error"] = f"{type(error).__name__}: {' '.join(str(error).split())}"
    finally:
        if folder is not None:
            for name in os.listdir(folder):
                os.unlink(os.path.join(folder, name))
            os.rmdir(folder)
    row["seconds"] = time.perf_counter() - started
    for key in SCORES:
        value = row[key]
        if value is not None and not math.isfinite(value):
            row[key] = None
    return row
