"""autograd-style ``check_grads(f, *args, modes=("fwd", "rev"), order=2)`` for the engine tests.

Order 1 compares reverse and forward mode with central differences (``cr.gradcheck``); order 2
then checks the derivatives of the derivative functions themselves, a vector-Jacobian product
``x -> vjp(f, x)(v)`` and a Jacobian-vector product ``x -> jvp(f, x, t)``, in both modes again:
reverse-over-reverse, forward-over-reverse, reverse-over-forward and forward-over-forward.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr


def check_grads(f, *args, modes=("fwd", "rev"), order=2, atol=1e-5, rtol=1e-4):
    args = [np.asarray(a, dtype=np.float64) for a in args]
    result = cr.gradcheck(f, *args, modes=modes, atol=atol, rtol=rtol)
    assert result.ok, f"order {order} check of {getattr(f, '__name__', f)}:\n{result}"
    assert set(result.modes) == set(modes), result.skipped
    if order < 2:
        return
    rng = np.random.default_rng(1234)
    out_shape = np.shape(np.asarray(f(*args)))
    cotangent = rng.normal(size=out_shape)
    tangents = [rng.normal(size=a.shape) for a in args]

    def vjp_of_f(*xs):
        grads = cr.vjp(f, *xs)[1](cotangent)
        return cr.concatenate([cr.reshape(g, (-1,)) for g in grads])

    def jvp_of_f(*xs):
        return cr.jvp(f, xs, tangents)[1]

    if "rev" in modes:
        check_grads(vjp_of_f, *args, modes=modes, order=order - 1, atol=atol, rtol=rtol)
    if "fwd" in modes:
        check_grads(jvp_of_f, *args, modes=modes, order=order - 1, atol=atol, rtol=rtol)
