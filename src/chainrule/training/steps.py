"""Gradient steps: SGD (momentum, Nesterov) and Adam, updating the parameter arrays in place.

``SGD`` is the rule ``w → w − η ∂C/∂w`` (Nielsen eq. 20-21), with optional momentum
(Nielsen ch. 3: ``v → μv − η∇C``, ``w → w + v``) and Nesterov's look-ahead; ``Adam`` is Kingma &
Ba's, with bias correction written as PyTorch does. Each ``step(params, grads)`` changes the
arrays of ``params`` in place and allocates nothing after the first call. Updates run over the
flat parameter vector (``chainrule._fast``: this file is training's one door into it).

>>> import numpy as np
>>> w = np.array([3.0, -2.0])                  # minimise C(w) = ||w||² / 2, so ∇C = w
>>> opt = SGD(lr=0.5)
>>> for _ in range(20):
...     opt.step([w], [w.copy()])
>>> bool(np.abs(w).max() < 1e-5)
True

``state_dict()`` / ``load_state_dict()`` carry everything a resumed run needs (NumPy arrays and
JSON-able numbers), so training resumed from a checkpoint continues bit for bit.
"""
from __future__ import annotations

import contextlib
import math

import numpy as np

from chainrule._fast import kernels, threads
from chainrule._fast.blas import axpy
from chainrule._fast.flat import as_one, flat_zeros_like
from chainrule.errors import InputError, RunFailed, quoted

__all__ = ["SGD", "Adam", "Optimizer", "gradient_buffers"]


_SMALLEST_SCALE = 2.0 ** -16   # momentum's velocity scale s is folded in below this (step_with)


class _FlatMemo:
    """:func:`as_one` of the lists an optimiser is handed step after step, remembered.

    ``as_one`` reads every array's address (a microsecond or two each, thirty a step for
    Adam); the training loop hands over the same arrays every step, so the answer for the
    last arrays seen in each position is kept (with the arrays, so their ids stay theirs).
    """

    def __init__(self):
        self._last = {}   # position -> (ids of the arrays, the arrays, their flat array)

    def groups(self, *lists):
        """Matching arrays of ``lists`` (params, grads, state...): all of each list as one flat
        array when every list allows it (:func:`as_one`), else parameter by parameter."""
        flats = []
        for position, arrays in enumerate(lists):
            ids = tuple(map(id, arrays))
            last = self._last.get(position)
            if last is None or last[0] != ids:
                last = self._last[position] = (ids, tuple(arrays), as_one(arrays))
            flats.append(last[2])
        if all(f is not None for f in flats):
            return [flats]
        return zip(*lists)


def _c_ordered(grads):
    """The gradients, each C-contiguous: a copy only of those that are not.

    ``cr.grad`` returns ∂C/∂W of a ``cr.transpose(W)`` as an F-ordered view; mixed with the
    C-ordered parameters and state, every pass of an update would then run strided (the
    cost of that, measured, is in docs/performance.md).
    """
    if all(isinstance(g, np.ndarray) and g.flags.c_contiguous for g in grads):
        return grads
    return [np.asarray(g, order="C") for g in grads]


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
        self._flat = _FlatMemo()

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
        self._buffers = [flat_zeros_like(params) for _ in range(count)]
        self._scratch = flat_zeros_like(params)

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
            buffers = flat_zeros_like(arrays)
            for buffer, a in zip(buffers, arrays):
                buffer[...] = a
            self._buffers.append(buffers)
        self._scratch = flat_zeros_like(self._buffers[0])


class SGD(Optimizer):
    """Stochastic gradient descent: w → w − η ∂C/∂w (Nielsen's eq. 20-21).

    With ``momentum`` μ > 0 (Nielsen ch. 3): v → μv − η∇C, w → w + v. With ``nesterov``, the
    step uses the look-ahead form w → w + μv' − η∇C (Sutskever et al. 2013, as rewritten by
    Bengio et al.), v' being the new velocity.

    >>> import numpy as np
    >>> w, opt = np.array([1.0]), SGD(lr=0.1, momentum=0.9)
    >>> opt.step([w], [np.array([1.0])]); opt.step([w], [np.array([1.0])]); w    # v = −0.1, −0.19
    array([0.71])
    """

    name = "SGD"

    def __init__(self, lr=3.0, momentum=0.0, nesterov=False, schedule=None):
        super().__init__(lr, schedule)
        self.momentum = _number(momentum, "momentum", low=0.0, high=1.0, low_open=False,
                                high_open=True)
        if not isinstance(nesterov, bool):
            raise InputError(f"nesterov: expected True or False, got {quoted(nesterov)}")
        if nesterov and not self.momentum:
            raise InputError("nesterov: needs momentum > 0")
        self.nesterov = nesterov
        self._array_names = ("velocity",) if self.momentum else ()
        self._velocity_scale = 1.0   # the velocity is v = scale · buffers (see step_with)

    def _hyperparams(self):
        return {"lr": self.base_lr, "momentum": self.momentum, "nesterov": self.nesterov}

    def step(self, params, grads):
        """Update ``params`` in place from ``grads`` (the gradients of the cost)."""
        lr = self.lr
        grads = _c_ordered(grads)
        if not self.momentum:
            if self._buffers is None:
                self._make_buffers(params, 0)
            for arrays in self._flat.groups(params, grads, self._scratch):
                for p, g, s in kernels.pieces(arrays):
                    np.multiply(g, lr, out=s)             # η ∂C/∂w
                    np.subtract(p, s, out=p)              # w − η ∂C/∂w
            return
        if self._buffers is None:
            self._make_buffers(params, 1)
        self._fold_velocity()
        mu = self.momentum
        for arrays in self._flat.groups(params, grads, self._buffers[0], self._scratch):
            for p, g, v, s in kernels.pieces(arrays):
                np.multiply(g, lr, out=s)                 # η∇C
                v *= mu
                v -= s                                    # v' = μv − η∇C
                if self.nesterov:
                    p -= s                                # w − η∇C ...
                    np.multiply(v, mu, out=s)
                    p += s                                # ... + μv'
                else:
                    p += v                                # w' = w + v'

    def step_with(self, params, accumulate):
        """The same step, the gradient fused into the model's products.

        ``accumulate(out, scale, keep)`` must write ``out_i ← scale·∇C_i + keep·out_i`` (as
        :meth:`chainrule.nn.Network.gradients` does inside BP4's matrix product): plain SGD
        then updates the parameters inside that product, momentum its velocity, and no
        gradient array is ever made. The arithmetic is the step's, rounded in another order.

        Momentum keeps its velocity as ``v = s·u`` with a number s: v' = μv − η∇C becomes
        s' = μs, u' = u − (η/s')∇C, i.e. ``keep=1``, which BLAS adds without first scaling
        all of u by μ (that pass costs 3 % of N3's epoch). u is folded back (u ← s·u, s = 1)
        when s gets small, at the start of each epoch and before ``state_dict``, so a
        checkpoint holds v itself and a resumed run continues bit for bit.

        >>> import numpy as np
        >>> w, opt = np.array([1.0]), SGD(lr=0.1, momentum=0.9)
        >>> def accumulate(out, scale, keep):            # ∇C = 1, as in step()'s example
        ...     out[0] *= keep; out[0] += scale * 1.0
        >>> opt.step_with([w], accumulate); opt.step_with([w], accumulate); w.round(12)
        array([0.71])
        """
        if not self.momentum:
            accumulate(params, -self.lr, 1.0)             # w ← w − η∇C
            return
        if self._buffers is None:
            self._make_buffers(params, 1)
        triples = list(self._flat.groups(params, self._buffers[0], self._scratch))  # w, u, copy
        mu, s = self.momentum, self._velocity_scale
        if self.nesterov:                                 # keep v: w' = w − μv + (1 + μ)v'
            for _, u, old in triples:
                np.copyto(old, u)
        accumulate(self._buffers[0], -self.lr / (mu * s), 1.0)     # s′u′ = μsu − η∇C
        for p, u, old in triples:
            if self.nesterov:                             # = w + μv' − η∇C
                axpy(-mu * s, old, p)
                axpy((1.0 + mu) * mu * s, u, p)
            else:
                axpy(mu * s, u, p)                        # w' = w + v'
        self._velocity_scale = mu * s
        if s < _SMALLEST_SCALE:
            self._fold_velocity()

    def _fold_velocity(self):
        """u ← s·u, s ← 1: the velocity buffers hold v itself again."""
        if self._velocity_scale != 1.0 and self._buffers is not None:
            for u in self._buffers[0]:
                u *= self._velocity_scale
        self._velocity_scale = 1.0

    def start_epoch(self, epoch, history):
        self._fold_velocity()
        return super().start_epoch(epoch, history)

    def state_dict(self):
        self._fold_velocity()
        return super().state_dict()

    def load_state_dict(self, state, params=None):
        super().load_state_dict(state, params)
        self._velocity_scale = 1.0


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): moving averages m, v of ∇C and (∇C)², bias-corrected.

    m → β1 m + (1 − β1)∇C,  v → β2 v + (1 − β2)(∇C)²,
    w → w − η/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε)   (PyTorch's arrangement).

    >>> import numpy as np
    >>> w = np.array([1.0, -1.0])
    >>> Adam(lr=0.1).step([w], [np.array([5.0, -2.0])]); w      # first step: ≈ η · sign(∇C)
    array([ 0.9, -0.9])
    """

    name = "Adam"
    _array_names = ("m", "v")

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, schedule=None):
        super().__init__(lr, schedule)
        self.beta1 = _number(beta1, "beta1", low=0.0, high=1.0, low_open=False, high_open=True)
        self.beta2 = _number(beta2, "beta2", low=0.0, high=1.0, low_open=False, high_open=True)
        self.eps = _number(eps, "eps")
        self.t = 0
        self._grads = None   # step_fused's gradient arrays

    def _hyperparams(self):
        return {"lr": self.base_lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}

    def _next_step(self):
        """t ← t + 1 and this step's (step size, ε): η/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε),
        both sides multiplied by √(1 − β2^t)."""
        self.t += 1
        root_bc2 = math.sqrt(1 - self.beta2 ** self.t)
        return self.lr * root_bc2 / (1 - self.beta1 ** self.t), self.eps * root_bc2

    def step(self, params, grads):
        """Update ``params`` in place from ``grads``."""
        if self._buffers is None:
            self._make_buffers(params, 2)
        grads = _c_ordered(grads)
        step_size, eps = self._next_step()
        b1, b2 = self.beta1, self.beta2
        for p, g, m, v, s in self._flat.groups(params, grads, *self._buffers, self._scratch):
            kernels.adam(p, g, m, v, s, b1, b2, eps, step_size)

    def load_state_dict(self, state, params=None):
        """Restore :meth:`state_dict` output; v, an average of squares, must be >= 0."""
        for i, v in enumerate(state.get("v", []) if isinstance(state, dict) else []):
            if (np.asarray(v) < 0).any():
                raise InputError(f"optimizer state v[{i}]: negative values (v averages "
                                 f"(∂C/∂w)², so it is >= 0)")
        super().load_state_dict(state, params)

    def step_fused(self, params, gradients):
        """The same step, each parameter updated as soon as its gradient is computed.

        ``gradients(out=, adam=)`` must write ∂C/∂θ_i into ``out`` and run
        :func:`chainrule._fast.kernels.adam` on each parameter with it (as
        :meth:`chainrule.nn.Network.gradients` does, inside its C step, while the gradient is
        still in the CPU's cache). Element by element the arithmetic of :meth:`step`.

        >>> import numpy as np
        >>> w, opt = np.array([1.0, -1.0]), Adam(lr=0.1)
        >>> def gradients(out, adam):                  # ∇C = (5, −2), as in the example above
        ...     out[0][...] = [5.0, -2.0]
        ...     m, v, scratch, b1, b2, eps, size = adam
        ...     kernels.adam(w, out[0], m[0], v[0], scratch[0], b1, b2, eps, size)
        >>> opt.step_fused([w], gradients); w
        array([ 0.9, -0.9])
        """
        if self._buffers is None:
            self._make_buffers(params, 2)
        grads = self._grads
        if grads is None or len(grads) != len(params) or any(
                g.shape != p.shape or g.dtype != p.dtype for g, p in zip(grads, params)):
            grads = self._grads = flat_zeros_like(params)
        step_size, eps = self._next_step()
        gradients(out=grads, adam=(*self._buffers, self._scratch, self.beta1, self.beta2, eps,
                                   step_size))


def gradient_buffers(params):
    """Zero arrays shaped like ``params``, views of one flat vector, for a model's gradients:
    an optimiser's update over them then runs on that vector whole.

    >>> import numpy as np
    >>> [g.shape for g in gradient_buffers([np.ones((2, 3)), np.ones(2)])]
    [(2, 3), (2,)]
    """
    return flat_zeros_like(params)


def blas_threads(model):
    """The threads of a network's run (``chainrule._fast.threads``): BLAS on one thread, the
    products in pieces shared by the thread limit in force, so the limit changes no bit;
    other models keep the threads they have."""
    sizes = getattr(model, "sizes", None)
    if not isinstance(sizes, list | tuple) or len(sizes) < 2:
        return contextlib.nullcontext()
    return threads.BlasThreads()
