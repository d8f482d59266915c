"""One optimiser step on a mini-batch, in the fastest form the model and optimiser allow.

:func:`chainrule.train` and the playground's sessions step through :func:`batch_step`, so a
playground session trains bit for bit as ``cr.train`` does.
"""

from __future__ import annotations

import functools
import inspect

from chainrule.training.steps import gradient_buffers


def _accepts(function, name):
    """True when ``function`` has a parameter called ``name``."""
    try:
        return name in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


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
    step_fused = getattr(optimizer, "step_fused", None)
    if step_fused is not None and _accepts(gradients, "adam"):
        return lambda X, Y: step_fused(params, functools.partial(gradients, X, Y, l2, n))
    step_with = getattr(optimizer, "step_with", None)
    if step_with is not None and _accepts(gradients, "keep"):
        return lambda X, Y: step_with(params, functools.partial(gradients, X, Y, l2, n))
    if _accepts(gradients, "out"):
        buffers = gradient_buffers(params)    # one flat array: the update runs on it whole
        return lambda X, Y: optimizer.step(params, gradients(X, Y, l2, n, out=buffers))
    return lambda X, Y: optimizer.step(params, gradients(X, Y, l2, n))
