"""One training run described by a dict of train options, as ``chainrule train`` takes them.

The names are the command's flags without their dashes (``lr``, ``l2``, ``hidden``,
``batch_size`` or ``batch-size``, ``seed``, ``optimizer`` …). :func:`train_options` checks the
names and keeps None for every option not given, so that a given value can be told from a
default; :func:`resolve` applies the defaults (those of :data:`DEFAULTS`, and η's, the batch
size's and the momentum's, which depend on the optimiser) and refuses options that would be
ignored. :func:`prepare` loads the data and builds the network and optimiser (or continues a
saved run, refusing a given option that differs from the saved one), :func:`fit` trains them
with :func:`chainrule.train` and :func:`summary` reports the run. ``chainrule train``,
``chainrule sweep`` and ``--shards``/``--mpi`` all train through these functions.

>>> options = train_options(epochs=2, hidden=[8], lr=0.5)
>>> options["batch_size"] is None, resolve(options)["batch_size"]
(True, 10)
>>> prepared = prepare(options)
>>> history = fit(prepared)
>>> report = summary(prepared, history)
>>> report["epochs"], report["optimizer"], report["sizes"], report["examples"]["test"]
(2, 'sgd', [64, 8, 10], 359)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from chainrule.errors import InputError, quoted

__all__ = ["DEFAULTS", "Prepared", "fit", "load_data", "make_optimizer", "network_sizes",
           "prepare", "resolve", "summary", "train_options"]

# every train option and the default ``chainrule train`` gives it; None for those whose
# default depends on another option (see resolve)
DEFAULTS = {
    "data": "digits", "data_dir": None, "no_download": False,
    "layers": None, "hidden": None, "activation": "sigmoid", "output": None, "cost": None,
    "init": "scaled-normal", "optimizer": "sgd", "lr": None, "momentum": None,
    "batch_size": None, "epochs": 30, "l2": 0.0, "validation": 0.1, "patience": None,
    "seed": 0, "dtype": "float32", "threads": None,
}
DEFAULT_HIDDEN = {"digits": [100], "mnist": [100], "fashion-mnist": [100]}   # else [30]
DEFAULT_BATCH_SIZE = 10
DEFAULT_MOMENTUM = 0.9
SCIPY_OPTIMIZERS = ("cg", "lbfgs")
OPTIMIZERS = ("sgd", "momentum", "adam", "cg", "lbfgs")
# options a resumed run may change: how long, where the data is, how fast the BLAS runs
RESUMABLE = ("epochs", "data_dir", "no_download", "threads")


def train_options(**given) -> dict:
    """Every train option: the ``given`` ones (dashes or underscores in the names), None for
    the others; unknown names refused. :func:`resolve` applies the defaults.

    >>> train_options(**{"batch-size": 32})["batch_size"], train_options()["lr"]
    (32, None)
    >>> train_options(learning_rate=0.1)
    Traceback (most recent call last):
    ...
    chainrule.errors.InputError: unknown train option 'learning_rate'; choose from: data, ...
    """
    options = dict.fromkeys(DEFAULTS)
    for name, value in given.items():
        key = name.replace("-", "_")
        if key not in DEFAULTS:
            raise InputError(f"unknown train option {quoted(name)}; choose from: "
                             + ", ".join(k.replace("_", "-") for k in DEFAULTS))
        options[key] = value
    return options


def given(options) -> dict:
    """The options that were given (not None, and not a boolean flag left off)."""
    return {k: v for k, v in train_options(**options).items()
            if v is not None and not (k == "no_download" and v is False)}


def resolve(options) -> dict:
    """The options a run uses: the defaults applied, and an option the run would ignore
    refused (``momentum`` without optimizer momentum, ``lr``/``batch_size`` with CG/L-BFGS).

    η defaults to 0.001 for Adam, 3.0 for SGD with the quadratic cost (Nielsen ch. 1), else
    0.5 (ch. 3); CG and L-BFGS have no η and no batches (None).

    >>> resolve(train_options(optimizer="adam"))["lr"]
    0.001
    >>> resolve(train_options(optimizer="lbfgs", lr=0.5))
    Traceback (most recent call last):
    ...
    chainrule.errors.InputError: lr: optimizer lbfgs has no learning rate (it searches along ...
    """
    options = train_options(**options)
    name = options["optimizer"] or DEFAULTS["optimizer"]
    if name not in OPTIMIZERS:
        raise InputError(f"optimizer: unknown name {quoted(name)}; choose one of: "
                         + ", ".join(OPTIMIZERS))
    if name in SCIPY_OPTIMIZERS:
        for key in ("lr", "batch_size"):
            if options[key] is not None:
                raise InputError(f"{key.replace('_', '-')}: optimizer {name} has no "
                                 + ("learning rate (it searches along each direction itself)"
                                    if key == "lr" else "mini-batches (every iteration takes "
                                    "the whole training set)") + f"; leave out {key}")
    if options["momentum"] is not None and name != "momentum":
        raise InputError(f"momentum: only optimizer momentum uses it, and the optimizer is "
                         f"{name}; give optimizer momentum or leave out momentum")
    if options["layers"] is not None and options["hidden"] is not None:
        raise InputError("layers and hidden: give one of them (layers is the full list, "
                         "hidden the hidden sizes only)")
    run = {k: (DEFAULTS[k] if v is None else v) for k, v in options.items()}
    run["cost"] = run["cost"] or "log-likelihood"
    if name in SCIPY_OPTIMIZERS:
        run["lr"] = run["batch_size"] = None
    else:
        run["batch_size"] = run["batch_size"] or DEFAULT_BATCH_SIZE
        if run["lr"] is None:
            run["lr"] = 0.001 if name == "adam" else (3.0 if run["cost"] == "quadratic"
                                                      else 0.5)
    if name == "momentum" and run["momentum"] is None:
        run["momentum"] = DEFAULT_MOMENTUM
    return run


@dataclass
class Prepared:
    """What a run needs before its first epoch: the three sets, the network, the optimiser,
    the options it runs with (resolved), for a resumed run the saved state, and with
    ``patience`` the EarlyStopping (on validation accuracy) that says when and why it stopped."""

    source: str
    X: np.ndarray
    y: np.ndarray
    validation: tuple | None
    X_test: np.ndarray
    y_test: np.ndarray
    net: object
    optimizer: object
    options: dict
    state: object = None
    early_stopping: object = None


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
    options = resolve(options)
    download = not options["no_download"]
    if options["data"] not in ("mnist", "fashion-mnist"):   # these mean nothing to other data
        flag = ("--data-dir" if options["data_dir"] is not None
                else None if download else "--no-download")
        if flag:
            raise InputError(f"{flag} is for --data mnist or fashion-mnist; {options['data']} is "
                             "read from where it is (drop the flag)")
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
        raise InputError(f"{what}: expected a list of integers >= 1, got {quoted(value)}")
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
    """The optimiser of the (resolved) options; CG/L-BFGS run ``epochs`` iterations."""
    from chainrule.training import optim

    options = resolve(options)
    name = options["optimizer"]
    if name in SCIPY_OPTIMIZERS:
        return (optim.CG if name == "cg" else optim.LBFGS)(max_iter=options["epochs"])
    if name == "adam":
        return optim.Adam(lr=options["lr"])
    return optim.SGD(lr=options["lr"], momentum=options["momentum"] or 0.0)


def _split(options, X, y):
    from chainrule import data

    fraction = options["validation"]
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) \
            or not 0 <= fraction < 1:
        raise InputError(f"validation: expected a fraction in [0, 1), got {quoted(fraction)}")
    if fraction == 0:
        return X, y, None
    X, X_val, y, y_val = data.train_val_split(X, y, val_fraction=fraction, seed=options["seed"])
    return X, y, (X_val, y_val)


def prepare(options, resume=None, where="resume") -> Prepared:
    """Load the data, hold out the validation fraction (seeded by ``seed``) and build the
    network and optimiser.

    ``resume``: the ``(network, state)`` pair of :func:`chainrule.training.load_checkpoint`;
    the run continues with the saved options (:func:`saved_options`), and a given option that
    differs from the saved one is refused, naming both (``where`` names the file). Only
    ``epochs`` (the total), ``data_dir``, ``no_download`` and ``threads`` may change; CG and
    L-BFGS then run up to the new ``epochs`` iterations.
    """
    from chainrule import nn

    if resume is not None:
        options = _resumed(options, *resume, where)
    run = resolve(options)
    (X, y), (X_test, y_test) = load_data(run)
    X, y, validation = _split(run, X, y)
    if resume is not None:
        net, state = resume
        if net.sizes[0] != X.shape[1]:
            raise InputError(f"{where}: the model takes {net.sizes[0]} inputs but "
                             f"{run['data']} has {X.shape[1]} features")
        optimizer = state.optimizer
        if optimizer.uses_scipy:
            optimizer.max_iter = run["epochs"]         # --epochs is the total, as for SGD
        return Prepared(run["data"], X, y, validation, X_test, y_test, net, optimizer, run,
                        state, _early_stopping(run))
    sizes = network_sizes(run, X.shape[1], _n_classes(y, y_test))
    net = nn.Network(sizes, activation=run["activation"], output=run["output"],
                     cost=run["cost"], init=run["init"], seed=run["seed"], dtype=run["dtype"])
    return Prepared(run["data"], X, y, validation, X_test, y_test, net, make_optimizer(run),
                    run, None, _early_stopping(run))


def _early_stopping(run):
    from chainrule import training

    if run["patience"] is None:
        return None
    return training.EarlyStopping(patience=run["patience"], monitor="val_accuracy")


def saved_options(net, state) -> dict:
    """The options a saved run was trained with: those stored with it (``options`` in its
    metadata), and what its network and optimiser say themselves."""
    saved = dict(state.metadata.get("options") or {})
    if "data" in state.metadata:
        saved["data"] = state.metadata["data"]
    optimizer = state.optimizer
    name = type(optimizer).__name__.lower()
    if name == "sgd":
        name = "momentum" if optimizer.momentum else "sgd"
    saved.update(layers=list(net.sizes), activation=net.activation, output=net.output,
                 cost=str(net.cost), init=net.init, dtype=str(net.dtype), optimizer=name,
                 seed=state.seed)
    if not optimizer.uses_scipy:
        saved["lr"] = optimizer.base_lr
    if name == "momentum":
        saved["momentum"] = optimizer.momentum
    saved.pop("hidden", None)
    return {k: v for k, v in saved.items() if k in DEFAULTS}


def _resumed(options, net, state, where):
    """The saved run's options, with the given ones that may change; a conflict refused."""
    saved = saved_options(net, state)
    asked = given(options)
    if "hidden" in asked:                  # the hidden sizes, compared as the full list
        hidden = asked.pop("hidden")
        hidden = [] if hidden == [] else _sizes_list(hidden, "hidden")
        asked["layers"] = [net.sizes[0], *hidden, net.sizes[-1]]
    for key, value in asked.items():
        if key in RESUMABLE or key not in saved:
            continue
        old = saved[key]
        if old is None and key in ("lr", "momentum", "batch_size"):
            continue                    # resolve refuses it: the saved optimiser has none
        same = (list(old) == list(value)) if isinstance(old, list | tuple) else (
            old == value or (isinstance(old, float) and isinstance(value, int | float)
                             and bool(np.isclose(old, value, rtol=1e-12, atol=0))))
        if not same:
            flag = key.replace("_", "-")
            was = f"without {flag}" if old is None else f"with {flag} {_show(old)}"
            raise InputError(f"{flag}: {where} was trained {was}, not {flag} {_show(value)}; "
                             f"leave {flag} out to continue the run as it was, or start a new "
                             "run without resume")
    merged = {**saved, **{k: v for k, v in asked.items() if k in RESUMABLE or k not in saved}}
    merged["layers"] = saved["layers"]
    return train_options(**merged)


def _show(value):
    return ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def fit(prepared, model=None, *, checkpoint=None, progress=False, callbacks=()):
    """Train ``prepared.net`` (or ``model``, a sharded or MPI view of it) with
    :func:`chainrule.train` and return its History; a resumed run continues its state."""
    from chainrule import training

    options = prepared.options
    metadata = {"data": prepared.source, "options": _json_options(options)}
    return training.train(
        prepared.net if model is None else model, prepared.X, prepared.y,
        epochs=options["epochs"], batch_size=options["batch_size"],
        optimizer=prepared.optimizer, l2=options["l2"], validation=prepared.validation,
        seed=options["seed"], progress=progress, callbacks=callbacks,
        early_stopping=prepared.early_stopping,
        checkpoint=checkpoint, resume=prepared.state, metadata=metadata)


def _json_options(options):
    """The options worth keeping with a model (where its data lives is not among them)."""
    return {k: v for k, v in options.items() if k not in ("data_dir", "no_download", "threads")}


def summary(prepared, history) -> dict:
    """The run's report: the options it ran with, the set sizes, and the final weights'
    scores. ``train_cost``, ``val_cost`` and ``test_cost`` are all the data cost C_0 (no L2
    term), so they compare; ``objective`` is what training minimised, C_0 + λ/(2n) Σ w² on
    the training set."""
    net, run = prepared.net, prepared.options
    n = len(prepared.X)

    def scored(X, y):
        if X is None:
            return None, None
        return float(np.mean(net.predict(X) == y)), float(net.cost(X, y))

    train_accuracy, train_cost = scored(prepared.X, prepared.y)
    val_accuracy, val_cost = scored(*(prepared.validation or (None, None)))
    test_accuracy, test_cost = scored(prepared.X_test, prepared.y_test)
    return {
        "data": prepared.source, "sizes": list(net.sizes), "activation": net.activation,
        "output": net.output, "cost": str(net.cost), "init": net.init, "dtype": str(net.dtype),
        "optimizer": run["optimizer"], "lr": run["lr"], "momentum": run["momentum"],
        "batch_size": run["batch_size"], "l2": run["l2"], "seed": run["seed"],
        "validation": run["validation"], "patience": run["patience"],
        "examples": {"train": n, "validation": 0 if prepared.validation is None
                     else len(prepared.validation[0]), "test": len(prepared.X_test)},
        "epochs": len(history),
        "epochs_run": len(history) - (0 if prepared.state is None else prepared.state.epoch),
        "train_accuracy": train_accuracy, "train_cost": train_cost,
        "val_accuracy": val_accuracy, "val_cost": val_cost,
        "test_accuracy": test_accuracy, "test_cost": test_cost,
        "objective": train_cost + net.penalty(run["l2"], n),
        "early_stopping": _stopped_early(prepared.early_stopping, history),
        "minimizer": getattr(prepared.optimizer, "message", None),
    }


def _stopped_early(early_stopping, history):
    """With ``patience``: the epoch it stopped at (None if it ran to ``epochs``) and the
    epoch whose weights the model holds (the best validation accuracy)."""
    if early_stopping is None:
        return None
    return {"monitor": early_stopping.monitor, "patience": early_stopping.patience,
            "stopped_epoch": early_stopping.stopped_epoch,
            "best_epoch": early_stopping.best_epoch, "best": early_stopping.best,
            "restored_epoch": early_stopping.best_epoch if early_stopping.restore_best
            and early_stopping.best_params is not None else len(history) or None}
