"""What every gradient-step optimiser shares: η and its schedule, config and state round trips.

:class:`Optimizer` is the base of ``SGD`` and ``Adam`` (:mod:`chainrule.training.steps`);
:class:`StepsPlan` is how they describe their next steps to the C extension's many-batch call.

>>> opt = Optimizer(0.5)
>>> opt.config(), opt.state_dict()
({'name': 'optimizer', 'lr': 0.5, 'schedule': None}, {'lr': 0.5, 'step': 0})
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from chainrule.errors import InputError, RunFailed, quoted

__all__ = ["Optimizer", "StepsPlan"]

class StepsPlan(NamedTuple):
    """An optimiser's next steps as :func:`chainrule._fast.kernels.network_steps` runs them:
    its ``mode``, the ``numbers`` of each step, the arrays the step writes into (``outs``), the
    flat vectors of momentum's updates (``flats``), Adam's state (``adam``) and the optimiser's
    state once they ran (``after``: momentum's velocity scale, Adam's t)."""

    mode: str
    numbers: np.ndarray
    outs: list
    flats: tuple | None
    adam: tuple | None
    after: float | int | None


def _number(value, what, low=0.0, high=math.inf, low_open=True, high_open=False):
    ok = isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool)
    if ok:
        try:
            value = float(value)
        except OverflowError:             # an int beyond any float
            value = math.inf
        ok = (math.isfinite(value) and (value > low if low_open else value >= low)
              and (value < high if high_open else value <= high))
    if not ok:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise InputError(f"{what}: expected a finite number in {lo}{low:g}, {high:g}{hi}, "
                         f"got {quoted(value)}")
    return value


class Optimizer:
    """Shared parts: the learning rate η (``lr``), its schedule, config and state round trips."""

    name = "optimizer"
    uses_scipy = False

    def __init__(self, lr, schedule=None):
        self.base_lr = _number(lr, "lr")
        self.lr = self.base_lr
        if schedule is not None and not callable(schedule):
            raise InputError(f"schedule: expected a schedule from cr.optim (StepDecay, ...), got "
                             f"{quoted(schedule)}")
        self.schedule = schedule
        self._buffers = None  # per-parameter arrays, made on the first step

    def start_epoch(self, epoch, history):
        """Set η for the epoch about to run (``epoch`` = epochs already done) from the schedule."""
        if self.schedule is not None:
            lr = float(self.schedule(epoch, self.base_lr, history))
            if not math.isfinite(lr):    # a factor > 1 compounded past any float, say
                named = getattr(self.schedule, "config", lambda: quoted(self.schedule))()
                raise RunFailed(f"the learning-rate schedule {named} gives "
                                f"η = {lr} for epoch {epoch + 1}; the epochs before it are kept")
            self.lr = lr
        return self.lr

    def _hyperparams(self):
        return {"lr": self.base_lr}

    def config(self):
        """JSON description: name, hyper-parameters and the schedule's config."""
        schedule = None
        if self.schedule is not None:
            describe = getattr(self.schedule, "config", None)
            if not callable(describe):
                raise InputError(f"schedule: {quoted(self.schedule)} has no config(), so a "
                                 "checkpoint cannot record it; use one from cr.optim (StepDecay, "
                                 "Cosine, ReduceOnPlateau) or give it a config() method")
            schedule = describe()
        return {"name": self.name, **self._hyperparams(), "schedule": schedule}

    def __repr__(self):
        settings = ", ".join(f"{k}={v!r}" for k, v in self._hyperparams().items())
        if self.schedule is not None:
            settings += f", schedule={getattr(self.schedule, 'name', 'custom')}"
        return f"{type(self).__name__}({settings})"

    def check_params(self, params):
        """Make sure this optimiser's arrays fit ``params``; InputError if its state does not.

        An optimiser without state (plain SGD) simply forgets its scratch arrays.
        """
        scratch = getattr(self, "_scratch", None)
        if scratch is None or (len(scratch) == len(params) and all(
                a.shape == p.shape and a.dtype == p.dtype for a, p in zip(scratch, params))):
            return
        if not self._buffers:
            self._buffers = self._scratch = None
            return
        shapes = [tuple(a.shape) for a in scratch]
        raise InputError(f"optimizer: its state was made for parameters of shapes {shapes} "
                         f"({scratch[0].dtype}), not this model's; use a new optimizer")

    def _make_buffers(self, params, count):
        self._buffers = [self._zeros_like(params) for _ in range(count)]
        self._scratch = self._zeros_like(params)

    @staticmethod
    def _zeros_like(arrays):
        """Zero arrays shaped like ``arrays``, for the optimiser's state (the steps' classes
        make them views of one vector)."""
        return [np.zeros_like(a) for a in arrays]

    # state: arrays per parameter (named lists) plus JSON-able scalars
    _array_names: tuple = ()

    def state_dict(self):
        """{"lr": η now, "step": t, <name>: [arrays per parameter] ...}; arrays are copies."""
        state = {"lr": self.lr, "step": getattr(self, "t", 0)}
        for i, key in enumerate(self._array_names):
            state[key] = [] if self._buffers is None else [b.copy() for b in self._buffers[i]]
        return state

    def load_state_dict(self, state, params=None):
        """Restore :meth:`state_dict` output; with ``params``, check each array's shape/dtype."""
        if not isinstance(state, dict):
            raise InputError("optimizer state: expected a dict")
        self.lr = _number(state.get("lr"), "optimizer state lr")
        step = state.get("step", 0)
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise InputError(f"optimizer state step: expected an integer >= 0, got {quoted(step)}")
        self.t = step
        lists = [state.get(key, []) for key in self._array_names]
        if not self._array_names or all(len(a) == 0 for a in lists):
            self._buffers = None
            return
        for key, arrays in zip(self._array_names, lists):
            if params is not None and len(arrays) != len(params):
                raise InputError(f"optimizer state {key}: {len(arrays)} arrays for "
                                 f"{len(params)} parameters")
            for i, a in enumerate(arrays):
                if params is not None and (a.shape != params[i].shape
                                           or a.dtype != params[i].dtype):
                    raise InputError(f"optimizer state {key}[{i}]: shape {a.shape} {a.dtype}, "
                                     f"expected {params[i].shape} {params[i].dtype}")
                if not np.isfinite(a).all():
                    raise InputError(f"optimizer state {key}[{i}]: contains NaN or infinite "
                                     f"values")
        self._buffers = []
        for arrays in lists:
            buffers = self._zeros_like(arrays)
            for buffer, a in zip(buffers, arrays):
                buffer[...] = a
            self._buffers.append(buffers)
        self._scratch = self._zeros_like(self._buffers[0])
