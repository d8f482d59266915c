"""Learning-rate schedules: η for the next epoch from the base η and the history so far.

A schedule is a pure function of ``(epoch, base_lr, history)``: ``epoch`` counts the epochs
already done (0 before the first), ``history`` is the run's :class:`~chainrule.training.History`.
Because nothing else is remembered, a resumed run (whose history is restored from the checkpoint)
gets exactly the η the uninterrupted run would have had.

>>> StepDecay(every=10, factor=0.5)(25, 3.0, None)          # two halvings after 20 epochs
0.75
>>> Cosine(epochs=10)(5, 1.0, None)                           # half way down the cosine
0.5

Nielsen's rule (chapter 3, "halve η when the validation accuracy stalls") is
:class:`ReduceOnPlateau` with ``monitor="val_accuracy"``.
"""

from __future__ import annotations

import math

from chainrule.errors import InputError, quoted

MONITORS = ("val_cost", "val_accuracy", "train_cost", "train_accuracy")


def check_monitor(monitor: str) -> str:
    """``monitor`` if it names a per-epoch metric of the history, else InputError."""
    if monitor not in MONITORS:
        raise InputError(f"monitor: expected one of {', '.join(MONITORS)}, got {quoted(monitor)}")
    return monitor


def improved(value: float, best: float | None, monitor: str, min_delta: float = 0.0) -> bool:
    """True when ``value`` beats ``best`` by more than ``min_delta`` (costs down, accuracy up).

    >>> improved(0.9, 0.8, "val_accuracy"), improved(0.9, 0.8, "val_cost")
    (True, False)
    """
    if best is None:
        return True
    if monitor.endswith("cost"):
        return value < best - min_delta
    return value > best + min_delta


def is_finite_number(value) -> bool:
    """A number that is finite as a float (not a bool; an int too large for a float is not).

    >>> is_finite_number(0.5), is_finite_number(10 ** 400), is_finite_number(True)
    (True, False, False)
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _positive(value, what, allow_zero=False):
    ok = is_finite_number(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InputError(f"{what}: expected a finite number {bound}, got {quoted(value)}")
    return float(value)


def _count(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{what}: expected an integer >= 1, got {quoted(value)}")
    return int(value)


class StepDecay:
    """η = base · factor^⌊epoch / every⌋ (multiply by ``factor`` every ``every`` epochs)."""

    name = "step"

    def __init__(self, every: int, factor: float = 0.5):
        self.every = _count(every, "every")
        self.factor = _positive(factor, "factor")

    def __call__(self, epoch, base_lr, history):
        try:
            return base_lr * self.factor ** (epoch // self.every)
        except OverflowError:             # factor > 1 for long enough: η is beyond any float
            return math.inf

    def config(self):
        return {"name": self.name, "every": self.every, "factor": self.factor}


class Cosine:
    """η = min + (base − min)(1 + cos(π t / T)) / 2 with t = min(epoch, T), T = ``epochs``."""

    name = "cosine"

    def __init__(self, epochs: int, min_lr: float = 0.0):
        self.epochs = _count(epochs, "epochs")
        self.min_lr = _positive(min_lr, "min_lr", allow_zero=True)

    def __call__(self, epoch, base_lr, history):
        t = min(epoch, self.epochs) / self.epochs
        return self.min_lr + (base_lr - self.min_lr) * (1 + math.cos(math.pi * t)) / 2

    def config(self):
        return {"name": self.name, "epochs": self.epochs, "min_lr": self.min_lr}


class ReduceOnPlateau:
    """Multiply η by ``factor`` each time ``monitor`` has not improved for ``patience`` epochs.

    The count restarts after every reduction; η never goes below ``min_lr``. The history is
    replayed from the start, so the schedule keeps no state of its own.

    >>> class H: val_accuracy = [0.5, 0.6, 0.6, 0.6, 0.55, 0.6]
    >>> ReduceOnPlateau(patience=2)(6, 3.0, H())    # stalled twice after 0.6: halved twice
    0.75
    """

    name = "plateau"

    def __init__(self, monitor: str = "val_accuracy", patience: int = 10, factor: float = 0.5,
                 min_lr: float = 0.0, min_delta: float = 0.0):
        self.monitor = check_monitor(monitor)
        self.patience = _count(patience, "patience")
        self.factor = _positive(factor, "factor")
        self.min_lr = _positive(min_lr, "min_lr", allow_zero=True)
        self.min_delta = _positive(min_delta, "min_delta", allow_zero=True)

    def __call__(self, epoch, base_lr, history):
        lr, best, wait = base_lr, None, 0
        values = [] if history is None else getattr(history, self.monitor)[:epoch]
        for value in values:
            if value is None:
                continue
            if improved(value, best, self.monitor, self.min_delta):
                best, wait = value, 0
            else:
                wait += 1
                if wait >= self.patience:
                    lr, wait = max(lr * self.factor, self.min_lr), 0
        return lr

    def config(self):
        return {"name": self.name, "monitor": self.monitor, "patience": self.patience,
                "factor": self.factor, "min_lr": self.min_lr, "min_delta": self.min_delta}


SCHEDULES = {cls.name: cls for cls in (StepDecay, Cosine, ReduceOnPlateau)}


def schedule_from_config(config):
    """Rebuild a schedule from its :meth:`config` dict (None stays None); InputError if unknown.

    >>> schedule_from_config({"name": "step", "every": 5, "factor": 0.1}).every
    5
    """
    if config is None:
        return None
    if not isinstance(config, dict) or not isinstance(config.get("name"), str) \
            or config["name"] not in SCHEDULES:
        raise InputError(f"schedule: expected one of {', '.join(SCHEDULES)}, got {quoted(config)}")
    kwargs = {k: v for k, v in config.items() if k != "name"}
    try:
        return SCHEDULES[config["name"]](**kwargs)
    except TypeError:
        raise InputError(f"schedule {quoted(config['name'])}: unexpected settings "
                         f"{sorted(kwargs)}") from None
