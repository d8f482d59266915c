"""Optimiser steps on mini-batches, in the fastest form the model and optimiser allow.

:func:`chainrule.train` and the playground's sessions step through :func:`batch_step`, so a
playground session trains bit for bit as ``cr.train`` does; :func:`batch_steps` runs many
batches at once (for a network, in one call into the C extension where it was built), the
same bits as one :func:`batch_step` after another.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from chainrule.training.steps import gradient_buffers


def _accepts(function, name):
    """True when ``function`` has a parameter called ``name``."""
    try:
        return name in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def _form(model, optimizer):
    """How the step rides on the model's gradients: "adam" (``Adam.step_fused``), "keep"
    (``SGD.step_with``) or None (the gradients first, then the optimiser's step)."""
    gradients = model.gradients
    if getattr(optimizer, "step_fused", None) is not None and _accepts(gradients, "adam"):
        return "adam"
    if getattr(optimizer, "step_with", None) is not None and _accepts(gradients, "keep"):
        return "keep"
    return None


def batch_step(model, optimizer, l2, n):
    """``step(X, Y)``: one optimiser step on a mini-batch, in the fastest form both allow.

    The playground steps its sessions with it too, so they train bit for bit as :func:`train`.

    A :class:`~chainrule.nn.Network` with SGD (or momentum) fuses the step into BP4's
    matrix product (``gradients(keep=)`` and ``SGD.step_with``), with Adam it updates each
    parameter right after its gradient (``gradients(adam=)``, ``Adam.step_fused``); a model
    whose gradients take ``out=`` reuses one set of gradient arrays; any other model allocates
    them.
    """
    params, gradients = model.params, model.gradients
    form = _form(model, optimizer)
    if form == "adam":
        return lambda X, Y: optimizer.step_fused(params, functools.partial(gradients, X, Y, l2, n))
    if form == "keep":
        return lambda X, Y: optimizer.step_with(params, functools.partial(gradients, X, Y, l2, n))
    if _accepts(gradients, "out"):
        buffers = gradient_buffers(params)    # one flat array: the update runs on it whole
        return lambda X, Y: optimizer.step(params, gradients(X, Y, l2, n, out=buffers))
    return lambda X, Y: optimizer.step(params, gradients(X, Y, l2, n))


def batch_steps(model, optimizer, l2, n):
    """``steps(X, Y, rows, m, outputs)``: a step on each mini-batch of m rows of ``rows``
    (indices into X and Y, ``len(rows)`` a multiple of m), in order, each batch's a^L (before
    its step) written into ``outputs[:len(rows)]``; for models with ``last_output``.

    A network whose optimiser plans its steps (``steps_plan``, ``commit``) runs them all in one
    call (:meth:`~chainrule.nn.Network.steps_in_c`); otherwise, and where that call cannot
    take the arrays, each batch is gathered and stepped by :func:`batch_step`, the readable
    twin of that call (the same bits, tested).
    """
    step = batch_step(model, optimizer, l2, n)
    in_c = getattr(model, "steps_in_c", None)
    # the plan is of the fused steps: where the step is not fused, neither are the batches
    plans = getattr(optimizer, "steps_plan", None) if _form(model, optimizer) else None
    decay = l2 / n
    gathered = {}        # m -> the batch's (X, Y) buffers

    def steps(X, Y, rows, m, outputs):
        if m not in gathered:
            gathered[m] = (np.empty((m, X.shape[1]), X.dtype), np.empty((m, Y.shape[1]), Y.dtype))
        Xb, Yb = gathered[m]
        if in_c is not None and plans is not None:
            plan = plans(model.params, len(rows) // m)
            if plan is not None and in_c(X, Y, rows, Xb, Yb, outputs, decay, plan):
                optimizer.commit(plan)
                return
        for start in range(0, len(rows), m):
            idx = rows[start:start + m]
            # gather the batch into its buffers ("clip": the rows are a permutation's, so in
            # range, and NumPy's bounds check would copy through a buffer)
            X.take(idx, axis=0, out=Xb, mode="clip")
            Y.take(idx, axis=0, out=Yb, mode="clip")
            step(Xb, Yb)
            outputs[start:start + m] = model.last_output
    return steps
