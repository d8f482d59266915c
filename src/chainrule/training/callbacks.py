"""What a training run records and who watches it: History, TrainingState and the callbacks.

The callback protocol of :func:`chainrule.train` (every method optional; a plain function is
taken as ``on_epoch_end``):

- ``on_train_begin(model, epochs)`` once, before the first epoch (``epochs`` is the total);
- ``on_epoch_end(epoch, history)`` after each epoch (``epoch`` counts epochs done, from 1; for
  CG/L-BFGS one "epoch" is one SciPy iteration); return True to stop training;
- ``on_train_end(model, history)`` once, at the end (also after an early stop).

>>> h = History()
>>> h.append(epoch=1, train_cost=0.5, train_accuracy=0.8, lr=3.0, time=0.1)
>>> len(h), h.train_cost, h.val_cost
(1, [0.5], [None])
>>> History.from_dict(h.to_dict()).to_dict() == h.to_dict()
True
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np

from chainrule.errors import InputError, quoted
from chainrule.training.schedules import check_monitor, improved, is_finite_number

FIELDS = ("epoch", "train_cost", "train_accuracy", "val_cost", "val_accuracy", "lr", "time")


def _in_range(name, value):
    """Accuracies are fractions in [0, 1]; times and learning rates are >= 0."""
    if name.endswith("accuracy"):
        return 0 <= value <= 1
    return value >= 0 if name in ("time", "lr") else True


class History:
    """Per-epoch lists: ``epoch``, ``train_cost``, ``train_accuracy``, ``val_cost``,
    ``val_accuracy``, ``lr`` (η used; None for CG/L-BFGS) and ``time`` (seconds).

    ``train_cost`` is the training objective, C_0 + λ/(2n) Σ w² (what training minimises,
    ex4's J); ``val_cost`` is the validation set's data cost C_0 alone, without λ's term, the
    same kind of number as a test cost. Validation entries are None when the run has no
    validation set. For a network trained
    by mini-batches, ``train_cost``/``train_accuracy`` are running means over the epoch's
    batches, each scored with the weights before its update (as Keras reports them), the L2
    term from the weights at the end of the epoch; ``val_*`` score the weights at the end of
    the epoch exactly (see :func:`chainrule.train`). ``to_dict()`` is JSON-ready (the CLI's
    ``--json`` and ``plots.learning_curves`` read it).
    """

    def __init__(self):
        for name in FIELDS:
            setattr(self, name, [])

    def __len__(self):
        return len(self.epoch)

    def append(self, epoch, train_cost, train_accuracy, val_cost=None, val_accuracy=None,
               lr=None, time=0.0):
        """Record one epoch."""
        values = dict(epoch=int(epoch), train_cost=train_cost, train_accuracy=train_accuracy,
                      val_cost=val_cost, val_accuracy=val_accuracy, lr=lr, time=time)
        for name in FIELDS:
            value = values[name]
            getattr(self, name).append(value if value is None or name == "epoch"
                                       else float(value))

    def truncate(self, n):
        """Keep the first ``n`` epochs (used when a run is cut short)."""
        for name in FIELDS:
            del getattr(self, name)[n:]

    def last(self):
        """The latest epoch as a dict (empty dict before the first)."""
        return {name: getattr(self, name)[-1] for name in FIELDS} if len(self) else {}

    def to_dict(self):
        """{field: list} with plain Python numbers (JSON-serialisable)."""
        return {name: list(getattr(self, name)) for name in FIELDS}

    @classmethod
    def from_dict(cls, data):
        """Rebuild from :meth:`to_dict` output, checking every field (InputError otherwise)."""
        if not isinstance(data, dict) or set(data) != set(FIELDS):
            raise InputError(f"history: expected the fields {', '.join(FIELDS)}")
        lengths = {len(v) if isinstance(v, list) else -1 for v in data.values()}
        if len(lengths) != 1 or -1 in lengths:
            raise InputError("history: every field must be a list of the same length")
        history = cls()
        for name in FIELDS:
            for i, value in enumerate(data[name]):
                if name == "epoch":           # the epochs run, in order: 1, 2, ..., n
                    ok = isinstance(value, int) and not isinstance(value, bool) \
                        and value == i + 1
                else:
                    ok = value is None or (is_finite_number(value)
                                           and _in_range(name, value))
                if not ok:
                    raise InputError(f"history: {name}[{i}] is {quoted(value)}, not a valid value")
            getattr(history, name).extend(data[name])
        return history

    def __repr__(self):
        last = self.last()
        if not last:
            return "History(0 epochs)"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in last.items()
                          if k not in ("epoch", "time") and v is not None)
        return f"History({len(self)} epochs; last: {shown})"

    def _repr_html_(self):
        """Jupyter's view: a small table of the epochs and the cost and accuracy curves."""
        from chainrule.explanations.display import history_html

        return history_html(self)


@dataclass
class TrainingState:
    """Everything needed to continue a run exactly: what ``cr.training.load_checkpoint`` returns.

    ``epoch`` epochs are done; ``optimizer`` carries its restored state; ``rng_state`` is the
    shuffling Generator's ``bit_generator.state``; ``early_stopping`` the
    :meth:`EarlyStopping.state_dict` (or None); ``metadata`` free JSON the caller attached
    (the CLI stores the data set's name). ``params`` is None, or the unrolled weights training
    continues from when they differ from the model's (early stopping gave the model its best
    weights back, but a resumed run carries on from the last epoch's).
    """

    epoch: int
    optimizer: object
    history: History
    rng_state: dict
    seed: int | None = 0
    metadata: dict = field(default_factory=dict)
    early_stopping: dict | None = None
    params: np.ndarray | None = None


def _fmt(value, percent=False):
    if value is None:
        return "-"
    return f"{value:.2%}" if percent else f"{value:.4f}"


class ProgressPrinter:
    """One concise line per epoch on ``stream`` (default: sys.stderr at the time of printing):
    the training objective (C_0 + λ's term) and accuracy, the validation cost C_0 and accuracy.

    >>> import io
    >>> out, h = io.StringIO(), History()
    >>> printer = ProgressPrinter(stream=out)
    >>> printer.on_train_begin(None, 30)
    >>> h.append(epoch=1, train_cost=0.1234, train_accuracy=0.9, lr=3.0, time=0.5)
    >>> printer.on_epoch_end(1, h)
    >>> out.getvalue()
    'epoch  1/30  objective 0.1234  accuracy 90.00%  lr 3  0.50 s\\n'
    """

    def __init__(self, stream=None, every: int = 1):
        self.stream, self.every, self.epochs = stream, every, None

    def on_train_begin(self, model, epochs):
        self.epochs = epochs

    def format(self, epoch, history):
        """The line for ``epoch`` (no newline)."""
        last = history.last()
        width = len(str(self.epochs or epoch))
        parts = [f"epoch {epoch:>{width}}/{self.epochs or '?'}",
                 f"objective {_fmt(last['train_cost'])}",
                 f"accuracy {_fmt(last['train_accuracy'], True)}"]
        if last["val_cost"] is not None:
            parts += [f"val cost {_fmt(last['val_cost'])}",
                      f"val accuracy {_fmt(last['val_accuracy'], True)}"]
        if last["lr"] is not None:
            parts.append(f"lr {last['lr']:.4g}")
        parts.append(f"{last['time']:.2f} s")
        return "  ".join(parts)

    def on_epoch_end(self, epoch, history):
        if epoch % self.every == 0 or epoch == self.epochs:
            stream = self.stream or sys.stderr
            stream.write(self.format(epoch, history) + "\n")
            stream.flush()


class EarlyStopping:
    """Stop when ``monitor`` has not improved for ``patience`` epochs; keep the best weights.

    ``monitor`` is one of val_cost, val_accuracy, train_cost, train_accuracy (costs must go
    down, accuracies up, by more than ``min_delta``). With ``restore_best`` the model gets the
    weights of its best epoch back when training ends.

    >>> import numpy as np
    >>> class Model:                                  # anything with to_vector/from_vector
    ...     w = np.zeros(1)
    ...     def to_vector(self): return self.w.copy()
    ...     def from_vector(self, v): self.w[...] = v
    >>> model, h, stop = Model(), History(), EarlyStopping("val_cost", patience=2)
    >>> stop.on_train_begin(model, 10)
    >>> for epoch, cost in enumerate([0.5, 0.3, 0.4, 0.35], start=1):
    ...     model.w[0] = epoch
    ...     h.append(epoch, None, None, val_cost=cost)
    ...     print(epoch, stop.on_epoch_end(epoch, h))
    1 False
    2 False
    3 False
    4 True
    >>> stop.on_train_end(model, h); model.w, stop.best_epoch     # epoch 2's weights are back
    (array([2.]), 2)
    """

    def __init__(self, monitor: str = "val_cost", patience: int = 10, min_delta: float = 0.0,
                 restore_best: bool = True):
        self.monitor = check_monitor(monitor)
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise InputError(f"patience: expected an integer >= 1, got {quoted(patience)}")
        if not (is_finite_number(min_delta) and min_delta >= 0):
            raise InputError(f"min_delta: expected a number >= 0, got {quoted(min_delta)}")
        self.patience, self.min_delta, self.restore_best = patience, float(min_delta), restore_best
        self.model = None
        self.reset()

    def reset(self):
        """Forget the best value and weights seen (a new run starts)."""
        self.best = self.best_epoch = self.best_params = None
        self.wait = 0
        self.stopped_epoch = None

    def on_train_begin(self, model, epochs):
        self.model = model

    def on_epoch_end(self, epoch, history):
        value = getattr(history, self.monitor)[-1]
        if value is None:
            raise InputError(f"early stopping on {self.monitor} needs a validation set")
        if improved(value, self.best, self.monitor, self.min_delta):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.best_params = self.model.to_vector()
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, model, history):
        if self.restore_best and self.best_params is not None:
            model.from_vector(self.best_params)

    def state_dict(self):
        """JSON-able counters plus ``best_params`` (an array, or None)."""
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "best_params": None if self.best_params is None else self.best_params.copy()}

    def load_state_dict(self, state):
        """Restore :meth:`state_dict` output (from a checkpoint); InputError if malformed."""
        if not isinstance(state, dict) or set(state) != {"best", "best_epoch", "wait",
                                                         "best_params"}:
            raise InputError("early stopping state: expected best, best_epoch, wait, "
                             "best_params")
        best, best_epoch, wait = state["best"], state["best_epoch"], state["wait"]
        number = is_finite_number(best)
        count = isinstance(best_epoch, int) and not isinstance(best_epoch, bool) \
            and best_epoch >= 1
        if (best is None) != (best_epoch is None) or not (best is None or (number and count)) \
                or isinstance(wait, bool) or not isinstance(wait, int) or wait < 0:
            raise InputError(f"early stopping state: best {quoted(best)} at epoch "
                             f"{quoted(best_epoch)}, wait {quoted(wait)} are not valid")
        params = None if state["best_params"] is None else np.array(state["best_params"])
        if params is not None and (params.ndim != 1 or params.dtype.kind != "f"
                                   or not np.isfinite(params).all()):
            raise InputError("early stopping state: best_params must be a vector of finite "
                             "floats (the unrolled weights)")
        self.best, self.best_epoch, self.wait = best, best_epoch, wait
        self.best_params = params
