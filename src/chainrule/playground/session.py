"""A playground session: chainrule's own training, stepped a mini-batch or an epoch at a time.

A session holds a :class:`~chainrule.nn.Network` (float64), an optimiser from
:mod:`chainrule.optim` and the training set, and walks the epochs exactly as
:func:`chainrule.train` does: at the start of each epoch ``optimizer.start_epoch`` and one
``rng.permutation(n)`` of a ``numpy.random.default_rng(seed)`` Generator, then the rows in
mini-batches of ``batch_size`` in that order, each batch one optimiser step on
``net.gradients`` (BP1-BP4) taken by ``cr.train``'s own ``batch_step``. So after k epochs the
weights are bit for bit those of ::

    cr.train(net, X_train, y_train, epochs=k, batch_size=batch_size, optimizer=optimizer,
             l2=l2, seed=seed, progress=False)

on a network built with the same config — however the k epochs were split into steps.

>>> s = Session({"dataset": "xor", "layers": [4], "seed": 1})
>>> s.step(epochs=2)["epoch"], s.net.sizes
(2, [2, 4, 1])
"""

from __future__ import annotations

import threading
import time

import numpy as np

import chainrule as cr
from chainrule.errors import InputError, RunFailed, quoted
from chainrule.playground.config import MAX_PARAMS, MOMENTUM, parse_config
from chainrule.playground.datasets import features, make_dataset
from chainrule.training.batch import batch_step

MAX_EPOCHS_PER_STEP = 1_000
MAX_WORK_PER_STEP = 1_000_000_000  # examples × parameters passed through in one step request
MAX_GRID = 100


def make_optimizer(config):
    """``sgd`` → SGD(lr), ``momentum`` → SGD(lr, momentum=0.9), ``adam`` → Adam(lr)."""
    name, lr = config["optimizer"], config["lr"]
    if name == "adam":
        return cr.optim.Adam(lr=lr)
    return cr.optim.SGD(lr=lr, momentum=MOMENTUM if name == "momentum" else 0.0)


def make_network(config, data):
    """The network a config describes on ``data``: inputs, hidden layers, outputs."""
    if data.kind == "regression":
        outputs = 1
    elif data.classes > 2 or config["output"] == "softmax":
        outputs = data.classes
    else:
        outputs = 1                   # one sigmoid unit: a ≥ 0.5 means class 1
    sizes = [data.X_train.shape[1], *config["layers"], outputs]
    count = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    if count > MAX_PARAMS:
        raise InputError(f"layers: {sizes} has {count} weights and biases; the limit is "
                         f"{MAX_PARAMS}")
    return cr.nn.Network(sizes, activation=config["activation"], output=config["output"],
                         cost=config["cost"], seed=config["seed"], dtype="float64")


class Session:
    """One network learning one data set; every method runs under the session's lock."""

    def __init__(self, raw_config):
        self.config = parse_config(raw_config)
        c = self.config
        self.data = make_dataset(c["dataset"], c["noise"], c["train_fraction"], c["points"],
                                 c["seed"], c["features"], c["csv"])
        if self.data.classes > 2:     # an uploaded CSV: its classes decide output and cost
            self.config = c = parse_config(raw_config, self.data.classes)
        self.net = make_network(c, self.data)
        self.optimizer = make_optimizer(c)
        self.lock = threading.Lock()
        self.last_used = time.monotonic()
        net = self.net
        self.X, self.Y = net.check_inputs(self.data.X_train), net.encode_targets(self.data.y_train)
        self.X_test = net.check_inputs(self.data.X_test)
        self.Y_test = net.encode_targets(self.data.y_test)
        self.n, self.l2, self.batch_size = len(self.X), float(c["l2"]), c["batch_size"]
        self.rng = np.random.default_rng(c["seed"])
        self.history = cr.History()
        self.epoch, self.batch = 0, 0         # epochs done; batches done in the current epoch
        self.diverged = ""                    # why training stopped, once it has diverged
        self.optimizer.check_params(net.params)
        self._step = batch_step(net, self.optimizer, self.l2, self.n)
        self._start_epoch()

    # -- the training loop of cr.train, one batch at a time ------------------------------------
    @property
    def full_batch(self):
        return self.batch_size >= self.n

    @property
    def batches_per_epoch(self):
        return 1 if self.full_batch else -(-self.n // self.batch_size)

    def _start_epoch(self):
        """What ``cr.train`` does before an epoch's first batch: η for it, a new order."""
        self.lr = self.optimizer.start_epoch(self.epoch, self.history)
        self.order = np.arange(self.n) if self.full_batch else self.rng.permutation(self.n)
        self.started = time.perf_counter()

    def next_batch(self):
        """The indices (into the training set) of the mini-batch the next step trains on."""
        if self.full_batch:
            return self.order
        start = self.batch * self.batch_size
        return self.order[start:start + self.batch_size]

    def _one_batch(self):
        if self.full_batch:
            self._step(self.X, self.Y)
        else:
            idx = self.next_batch()
            self._step(self.X.take(idx, axis=0), self.Y.take(idx, axis=0))
        self.batch += 1
        if self.batch == self.batches_per_epoch:
            self.epoch, self.batch = self.epoch + 1, 0
            cost, accuracy = self.score(self.X, self.Y)
            self.history.append(self.epoch, cost, accuracy, lr=self.lr,
                                time=time.perf_counter() - self.started)
            self._start_epoch()

    def step(self, epochs=None, batches=None):
        """Train ``epochs`` whole epochs (finishing the current one counts as the first) or
        ``batches`` mini-batches; return :meth:`status` with the parameters."""
        if (epochs is None) == (batches is None):
            raise InputError("step: give either \"epochs\" or \"batches\"")
        count = epochs if batches is None else batches
        what = "epochs" if batches is None else "batches"
        limit = MAX_EPOCHS_PER_STEP * (1 if batches is None else self.batches_per_epoch)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= limit:
            raise InputError(f"{what}: expected an integer from 1 to {limit}, got {quoted(count)}")
        rows = count * (self.n if batches is None else min(self.batch_size, self.n))
        if rows * sum(p.size for p in self.net.params) > MAX_WORK_PER_STEP:
            raise InputError(f"{what}: {count} is too much work for one request on this network "
                             "and data set; step in smaller pieces")
        if self.diverged:
            raise RunFailed(self.diverged)
        before = self.net.to_vector()
        with np.errstate(over="ignore", invalid="ignore"):   # a diverging run is reported below
            if batches is not None:
                for _ in range(batches):
                    self._one_batch()
            else:
                target = self.epoch + epochs
                while self.epoch < target:
                    self._one_batch()
        status = self.status()
        if status["train_loss"] is None or not np.isfinite(self.net.to_vector()).all():
            self.net.from_vector(before)       # as cr.train: the last good weights are kept
            self.diverged = (f"training diverged by epoch {self.epoch + 1}: the cost or the "
                             f"weights overflowed; try a smaller learning rate than η = "
                             f"{self.lr:g}, then reset (the weights before this step are kept)")
            raise RunFailed(self.diverged)
        return {**status, "params": [p.tolist() for p in self.net.params]}

    # -- what the page shows -----------------------------------------------------------------
    def score(self, X, Y):
        """(cost C = C_0 + λ/(2n) Σw² with the training set's n, accuracy or None)."""
        with np.errstate(over="ignore", invalid="ignore"):
            total, correct = self.net.totals(X, Y)
        cost = total / len(X) + self.net.penalty(self.l2, self.n)
        accuracy = None if self.data.kind == "regression" else correct / len(X)
        return (float(cost) if np.isfinite(cost) else None), accuracy

    def status(self):
        train_loss, train_accuracy = self.score(self.X, self.Y)
        test_loss, test_accuracy = self.score(self.X_test, self.Y_test)
        return {"id": getattr(self, "id", None), "epoch": self.epoch, "batch": self.batch,
                "batches_per_epoch": self.batches_per_epoch, "lr": self.lr,
                "train_loss": train_loss, "test_loss": test_loss,
                "train_accuracy": train_accuracy, "test_accuracy": test_accuracy,
                "diverged": bool(self.diverged)}

    def describe(self):
        """The session as created: id, the full config, the network and the data's shape."""
        net, data = self.net, self.data
        config = {k: v for k, v in self.config.items() if k != "csv"}
        return {**self.status(), "config": config, "sizes": list(net.sizes),
                "activation": net.activation, "output": net.output, "cost": net.cost_name,
                "optimizer": repr(self.optimizer), "features": data.names, "kind": data.kind,
                "classes": data.classes, "planar": data.planar,
                "domain": [list(d) for d in data.domain] if data.planar else None,
                "n_train": self.n, "n_test": len(self.X_test),
                "params": [p.tolist() for p in net.params]}

    def split(self, which):
        """(X, y) of the ``"train"`` or ``"test"`` rows, as trained and tested on."""
        if which == "train":
            return self.data.X_train, self.data.y_train
        return self.data.X_test, self.data.y_test

    def data_json(self):
        """The exact feature matrices and labels (or targets), with the raw 2-D points."""
        out = {"features": self.data.names, "kind": self.data.kind,
               "classes": self.data.classes}
        for which, P in (("train", self.data.P_train), ("test", self.data.P_test)):
            X, y = self.split(which)
            out[which] = {"X": X.tolist(), "y": np.ravel(y).tolist(),
                          "points": None if P is None else P.tolist()}
        return out

    def set_param(self, layer, row, col, value):
        """Set w^l_jk (``col`` given) or b^l_j (``col`` None) of weight layer ``layer`` (from 0)."""
        W, b = locate(self.net, layer, row, col)
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not np.isfinite(value) or abs(value) > 1e6:
            raise InputError(f"value: expected a finite number of size at most 1e6, got "
                             f"{quoted(value)}")
        target = b if col is None else W
        index = (row,) if col is None else (row, col)
        target[index] = value
        return float(target[index])

    def check_grid(self, grid):
        """InputError unless heatmaps on a grid × grid lattice can be drawn for this data."""
        if not self.data.planar:
            raise InputError("heatmaps: this data set is not 2-D (heatmaps need points x1, x2)")
        if isinstance(grid, bool) or not isinstance(grid, int) or not 2 <= grid <= MAX_GRID:
            raise InputError(f"grid: expected an integer from 2 to {MAX_GRID}, got {quoted(grid)}")

    def heatmaps(self, grid):
        """Every unit's activation (and each input feature) on a grid × grid lattice of the
        2-D domain: {"grid", "domain", "features": [...], "layers": [[...] per unit], "output"}."""
        self.check_grid(grid)
        (x_lo, x_hi), (y_lo, y_hi) = self.data.domain
        xs, ys = np.linspace(x_lo, x_hi, grid), np.linspace(y_hi, y_lo, grid)   # row 0: top
        P = np.column_stack([np.tile(xs, grid), np.repeat(ys, grid)])
        a = features(P, self.data.names)
        maps = {"grid": grid, "domain": [[x_lo, x_hi], [y_lo, y_hi]],
                "features": [a[:, i] for i in range(a.shape[1])], "layers": []}
        with np.errstate(over="ignore", invalid="ignore"):
            for l, (W, b) in enumerate(zip(self.net.weights, self.net.biases)):
                last = l == len(self.net.weights) - 1
                act = cr.nn.ACTIVATIONS[self.net.output if last else self.net.activation]
                a = act.forward(a @ W.T + b)
                if not last:
                    maps["layers"].append([a[:, j] for j in range(a.shape[1])])
        maps["output"] = [a[:, j] for j in range(a.shape[1])]
        return maps


def locate(net, layer, row, col):
    """(W^l, b^l) of weight layer ``layer`` after checking that the indices exist."""
    L = len(net.weights)
    for name, value, size in (("layer", layer, L), ("row", row, None), ("col", col, None)):
        if value is None and name == "col":
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"{name}: expected an integer, got {quoted(value)}")
        if name == "layer" and not 0 <= value < size:
            raise InputError(f"layer: expected 0 to {L - 1} (W^1 .. W^{L}), got {value}")
    W, b = net.weights[layer], net.biases[layer]
    if not 0 <= row < W.shape[0]:
        raise InputError(f"row: W^{layer + 1} has rows 0 to {W.shape[0] - 1}, got {row}")
    if col is not None and not 0 <= col < W.shape[1]:
        raise InputError(f"col: W^{layer + 1} has columns 0 to {W.shape[1] - 1}, got {col}")
    return W, b
