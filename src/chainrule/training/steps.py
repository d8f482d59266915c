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
from chainrule.errors import InputError, quoted
from chainrule.training.optimizer import Optimizer, StepsPlan, _number

__all__ = ["SGD", "Adam", "Optimizer", "StepsPlan", "gradient_buffers"]


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

class _FlatOptimizer(Optimizer):
    """An optimiser whose state arrays are views of one vector each, so its updates run over
    whole vectors (:func:`chainrule._fast.flat.as_one`)."""

    def __init__(self, lr, schedule=None):
        super().__init__(lr, schedule)
        self._flat = _FlatMemo()

    _zeros_like = staticmethod(flat_zeros_like)


def _c_ordered(grads):
    """The gradients, each C-contiguous: a copy only of those that are not.

    ``cr.grad`` returns ∂C/∂W of a ``cr.transpose(W)`` as an F-ordered view; mixed with the
    C-ordered parameters and state, every pass of an update would then run strided (the
    cost of that, measured, is in docs/performance.md).
    """
    if all(isinstance(g, np.ndarray) and g.flags.c_contiguous for g in grads):
        return grads
    return [np.asarray(g, order="C") for g in grads]


class SGD(_FlatOptimizer):
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
        (scale, c_old, c_new, fold), self._velocity_scale = self._momentum_numbers(
            self._velocity_scale)
        if self.nesterov:                                 # keep v: w' = w − μv + (1 + μ)v'
            for _, u, old in triples:
                np.copyto(old, u)
        accumulate(self._buffers[0], scale, 1.0)          # s′u′ = μsu − η∇C
        for p, u, old in triples:
            if self.nesterov:                             # = w + μv' − η∇C
                axpy(c_old, old, p)
            axpy(c_new, u, p)                             # w' = w + v' (Nesterov: + μv' − η∇C)
        if fold:
            for u in self._buffers[0]:
                u *= fold

    def _momentum_numbers(self, s):
        """One momentum step's numbers from the velocity scale s before it, and s after:
        (the scale of ∇C into u, old u's and new u's factors into w, the fold factor or 0)."""
        mu = self.momentum
        c_old, c_new = (-mu * s, (1.0 + mu) * mu * s) if self.nesterov else (0.0, mu * s)
        if s < _SMALLEST_SCALE:                           # u ← s′u, s′ ← 1 after the step
            return (-self.lr / (mu * s), c_old, c_new, mu * s), 1.0
        return (-self.lr / (mu * s), c_old, c_new, 0.0), mu * s

    def steps_plan(self, params, count):
        """The next ``count`` steps as :func:`chainrule._fast.kernels.network_steps` runs them
        (a :class:`StepsPlan`), or None where it cannot; :meth:`commit` then advances the
        state as ``count`` calls of :meth:`step_with` would."""
        numbers = np.zeros((count, 4))
        if not self.momentum:
            numbers[:, 0] = -self.lr
            return StepsPlan("sgd", numbers, list(params), None, None, None)
        if self._buffers is None:
            self._make_buffers(params, 1)
        groups = list(self._flat.groups(params, self._buffers[0], self._scratch))
        if len(groups) != 1:                              # not one vector each
            return None
        w, u, old = groups[0]
        s = self._velocity_scale
        for j in range(count):
            numbers[j], s = self._momentum_numbers(s)
        if self.nesterov:
            return StepsPlan("nesterov", numbers, self._buffers[0], (w, u, old), None, s)
        return StepsPlan("momentum", numbers, self._buffers[0], (w, u), None, s)

    def commit(self, plan):
        """The state after the steps of ``plan`` (from :meth:`steps_plan`) ran."""
        if self.momentum:
            self._velocity_scale = plan.after

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


class Adam(_FlatOptimizer):
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
        """t ← t + 1 and this step's (step size, ε) (:meth:`_step_numbers`)."""
        self.t += 1
        return self._step_numbers(self.t)

    def _step_numbers(self, t):
        """Step t's (step size, ε): η/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε), both sides
        multiplied by √(1 − β2^t)."""
        root_bc2 = math.sqrt(1 - self.beta2 ** t)
        return self.lr * root_bc2 / (1 - self.beta1 ** t), self.eps * root_bc2

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
        grads = self._gradient_arrays(params)
        step_size, eps = self._next_step()
        gradients(out=grads, adam=(*self._buffers, self._scratch, self.beta1, self.beta2, eps,
                                   step_size))

    def _gradient_arrays(self, params):
        """step_fused's arrays for the gradients (and the state's, made on the first step)."""
        if self._buffers is None:
            self._make_buffers(params, 2)
        grads = self._grads
        if grads is None or len(grads) != len(params) or any(
                g.shape != p.shape or g.dtype != p.dtype for g, p in zip(grads, params)):
            grads = self._grads = flat_zeros_like(params)
        return grads

    def steps_plan(self, params, count):
        """The next ``count`` steps as :func:`chainrule._fast.kernels.network_steps` runs them
        (a :class:`StepsPlan`); :meth:`commit` then advances t as ``count`` calls of
        :meth:`step_fused` would."""
        grads = self._gradient_arrays(params)
        numbers = np.zeros((count, 4))
        for j in range(count):
            numbers[j, :2] = self._step_numbers(self.t + 1 + j)
        adam = (*self._buffers, self.beta1, self.beta2)
        return StepsPlan("adam", numbers, grads, None, adam, self.t + count)

    def commit(self, plan):
        """The state after the steps of ``plan`` (from :meth:`steps_plan`) ran."""
        self.t = plan.after


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
