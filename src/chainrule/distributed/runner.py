"""One training run described by a dict of train options, as ``chainrule train`` takes them.

The names are the command's flags without their dashes (``lr``, ``l2``, ``hidden``,
``batch_size`` or ``batch-size``, ``seed``, ``optimizer`` …); a missing name takes the flag's
default. :func:`prepare` loads the data and builds the network and optimiser, :func:`fit` trains
them with :func:`chainrule.train` (optionally in shards, :mod:`chainrule.distributed.shards`, or
over MPI ranks), and :func:`run_point` does both for one point of a sweep and returns its row.
The same options give the same weights bit for bit, whichever of these runs them.

>>> options = train_options(epochs=2, hidden=[8], lr=0.5)
>>> options["batch_size"], options["cost"], options["dtype"]
(10, None, 'float32')
>>> row = run_point(options, progress=False)
>>> row["error"], row["epochs"], 0.5 < row["test_accuracy"] <= 1.0
(None, 2, True)
"""

from __future__ import annotations

import functools
import math
import os
import tempfile
import time
from dataclasses import dataclass

import numpy as np

from chainrule.errors import InputError, RunFailed

__all__ = ["DEFAULTS", "Prepared", "fit", "load_data", "prepare", "run_point", "scores",
           "train_options"]

# every train option and the default ``chainrule train`` gives it
DEFAULTS = {
    "data": "digits", "data_dir": None, "no_download": False,
    "layers": None, "hidden": None, "activation": "sigmoid", "output": None, "cost": None,
    "init": "scaled-normal", "optimizer": "sgd", "lr": None, "momentum": 0.9,
    "batch_size": 10, "epochs": 30, "l2": 0.0, "validation": 0.1, "patience": None,
    "seed": 0, "dtype": "float32", "threads": None,
}
DEFAULT_HIDDEN = {"digits": [100], "mnist": [100], "fashion-mnist": [100]}   # else [30]
SCIPY_OPTIMIZERS = ("cg", "lbfgs")
SCORES = ("test_accuracy", "test_cost", "val_accuracy", "val_cost", "train_accuracy",
          "train_cost", "epochs")


def train_options(**given) -> dict:
    """A complete dict of train options: ``given`` over :data:`DEFAULTS` (dashes or
    underscores in the names), unknown names refused.

    >>> train_options(**{"batch-size": 32})["batch_size"]
    32
    >>> train_options(learning_rate=0.1)
    Traceback (most recent call last):
    ...
    chainrule.errors.InputError: unknown train option 'learning_rate'; choose from: data, ...
    """
    options = dict(DEFAULTS)
    for name, value in given.items():
        key = name.replace("-", "_")
        if key not in DEFAULTS:
            raise InputError(f"unknown train option {name!r}; choose from: "
                             + ", ".join(k.replace("_", "-") for k in DEFAULTS))
        options[key] = value
    return options


@dataclass
class Prepared:
    """What a run needs before its first epoch: the three sets, the network, the optimiser."""

    source: str
    X: np.ndarray
    y: np.ndarray
    validation: tuple | None
    X_test: np.ndarray
    y_test: np.ndarray
    net: object
    optimizer: object
    options: dict


@functools.lru_cache(maxsize=8)
def _load(source, data_dir, download, split):
    """A data set's split, loaded once per process (a sweep's runs share it: never written)."""
    from chainrule import data

    X, y = data.load(source, data_dir=data_dir, split=split, download=download)
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def load_data(options):
    """The (train, test) splits of the options' data set, loaded once per process."""
    download = not options["no_download"]
    return (_load(options["data"], options["data_dir"], download, "train"),
            _load(options["data"], options["data_dir"], download, "test"))


def _n_classes(*label_arrays):
    labels = np.concatenate([np.asarray(y) for y in label_arrays if y is not None])
    return int(labels.max()) + 1 if labels.size else 0


def _sizes_list(value, what):
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list | tuple) or not value or any(
            isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1 for v in value):
        raise InputError(f"{what}: expected a list of integers >= 1, got {value!r}")
    return [int(v) for v in value]


def network_sizes(options, n_features, n_classes):
    """The layer sizes: ``layers`` (the full list, its ends fixed by the data) or
    ``[n_features, *hidden, n_classes]``.

    >>> network_sizes(train_options(hidden=[30, 10]), 64, 10)
    [64, 30, 10, 10]
    >>> network_sizes(train_options(layers=[10, 5, 3]), 64, 10)   # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    chainrule.errors.InputError: layers: [10, 5, 3] must start with the data's 64 features ...
    """
    if options["layers"] is not None and options["hidden"] is not None:
        raise InputError("layers and hidden: give one of them (layers is the full list)")
    if options["layers"] is not None:
        sizes = _sizes_list(options["layers"], "layers")
        outputs_fit = sizes[-1] == n_classes or (n_classes == 2 and sizes[-1] == 1)
        if len(sizes) < 2 or sizes[0] != n_features or not outputs_fit:
            raise InputError(f"layers: {sizes} must start with the data's {n_features} features "
                             f"and end with its {n_classes} classes (or give the hidden sizes "
                             "only with hidden)")
        return sizes
    hidden = options["hidden"]
    hidden = DEFAULT_HIDDEN.get(options["data"], [30]) if hidden is None else hidden
    hidden = [] if hidden == [] else _sizes_list(hidden, "hidden")
    return [n_features, *hidden, n_classes]


def make_optimizer(options):
    """The optimiser ``chainrule train`` makes: η's default 0.001 for Adam, 3.0 for SGD with the
    quadratic cost (Nielsen ch. 1), else 0.5 (ch. 3); CG/L-BFGS run ``epochs`` iterations."""
    from chainrule.training import optim

    name, cost = options["optimizer"], options["cost"] or "log-likelihood"
    if name in SCIPY_OPTIMIZERS:
        return (optim.CG if name == "cg" else optim.LBFGS)(max_iter=options["epochs"])
    lr = options["lr"]
    if lr is None:
        lr = 0.001 if name == "adam" else (3.0 if cost == "quadratic" else 0.5)
    if name == "adam":
        return optim.Adam(lr=lr)
    if name not in ("sgd", "momentum"):
        raise InputError(f"optimizer: unknown name {name!r}; choose one of: sgd, momentum, adam, "
                         "cg, lbfgs")
    return optim.SGD(lr=lr, momentum=options["momentum"] if name == "momentum" else 0.0)


def prepare(options, resume=None) -> Prepared:
    """Load the data, hold out the validation fraction (seeded by ``seed``) and build the
    network and optimiser; with ``resume`` (a :class:`TrainingState`'s network and state pair)
    the saved network and optimiser instead."""
    from chainrule import data, nn

    options = train_options(**options)
    source = options["data"]
    (X, y), (X_test, y_test) = load_data(options)
    fraction = options["validation"]
    if not isinstance(fraction, int | float) or not 0 <= fraction < 1:
        raise InputError(f"validation: expected a fraction in [0, 1), got {fraction!r}")
    validation = None
    if fraction > 0:
        X, X_val, y, y_val = data.train_val_split(X, y, val_fraction=fraction,
                                                  seed=options["seed"])
        validation = (X_val, y_val)
    if resume is not None:
        net, state = resume
        if net.sizes[0] != X.shape[1]:
            raise InputError(f"resume: the model takes {net.sizes[0]} inputs but {source} has "
                             f"{X.shape[1]} features")
        optimizer = state.optimizer
    else:
        cost = options["cost"] or "log-likelihood"
        sizes = network_sizes(options, X.shape[1], _n_classes(y, y_test))
        net = nn.Network(sizes, activation=options["activation"], output=options["output"],
                         cost=cost, init=options["init"], seed=options["seed"],
                         dtype=options["dtype"])
        optimizer = make_optimizer(options)
    return Prepared(source, X, y, validation, X_test, y_test, net, optimizer, options)


def fit(prepared, *, shards=1, comm=None, checkpoint=None, resume=None, progress=False,
        callbacks=()):
    """Train ``prepared.net`` with :func:`chainrule.train` and return its History.

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
                return _train(prepared, model, checkpoint, resume, progress, callbacks)
        from chainrule.distributed.shards import ShardedNetwork

        model = ShardedNetwork(model, shards)
    return _train(prepared, model, checkpoint, resume, progress, callbacks)


def _train(prepared, model, checkpoint, resume, progress, callbacks):
    from chainrule import training

    options, patience = prepared.options, prepared.options["patience"]
    return training.train(
        model, prepared.X, prepared.y, epochs=options["epochs"],
        batch_size=options["batch_size"], optimizer=prepared.optimizer, l2=options["l2"],
        validation=prepared.validation, seed=options["seed"], progress=progress,
        callbacks=callbacks,
        early_stopping=None if patience is None else training.EarlyStopping(
            patience=patience, monitor="val_accuracy"),
        checkpoint=checkpoint, resume=resume, metadata={"data": prepared.source})


def scores(prepared, history) -> dict:
    """The run's numbers: test accuracy and cost (the data cost C_0), the last epoch's
    training and validation scores, the number of epochs."""
    net = prepared.net
    last = history.to_dict()

    def final(key):
        values = last.get(key) or []
        return None if not values or values[-1] is None else float(values[-1])

    return {"test_accuracy": float(np.mean(net.predict(prepared.X_test) == prepared.y_test)),
            "test_cost": float(net.cost(prepared.X_test, prepared.y_test)),
            "val_accuracy": final("val_accuracy"), "val_cost": final("val_cost"),
            "train_accuracy": final("train_accuracy"), "train_cost": final("train_cost"),
            "epochs": len(history)}


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
    options = train_options(**options)
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
