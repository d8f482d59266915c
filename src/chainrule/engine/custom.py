"""``cr.primitive``: a user's own row of the primitive table, usable wherever the built-in ops are.

A user gives NumPy functions; this module wraps them into a
:class:`~chainrule.engine.graph.Primitive`, checks the shapes of the cotangents the user's vjp
returns, and turns the ``TypeError`` of a NumPy-only rule met by a tensor (a derivative of a
derivative) into an error that says what to do.
Check a new op with ``cr.check_grads(f, *inputs, modes=("fwd", "rev"), order=2)``.
"""

from __future__ import annotations

import numpy as np

from chainrule.engine.graph import _EMPTY, Primitive, _shape, apply, broadcast_to
from chainrule.engine.tensor import Tensor
from chainrule.errors import InputError


def _guarded(rule, kind, name):
    """``rule``, with a clear error when it meets tensors (a derivative of a derivative) but
    was written with NumPy functions, which refuse them."""
    def call(*args):
        try:
            return rule(*args)
        except TypeError as e:
            if not any(type(a) is Tensor for a in args):
                raise
            raise InputError(f"{name}: to differentiate it again, write its {kind} rule with "
                             f"chainrule's ops (cr.exp, cr.sum, ...), not NumPy's ({e})") from None
    return call


def _checked_cotangent(c, x, i, name):
    """A user vjp's cotangent for input ``i``, of ``x``'s shape: a smaller one (say a scalar 0)
    is broadcast up, a broadcast one is summed back by the backward pass, others refused."""
    if type(c) is not Tensor:
        c = np.asarray(c, dtype=getattr(x, "dtype", None))
    want = _shape(x)
    try:
        joint = np.broadcast_shapes(c.shape, want)
    except ValueError:
        joint = None
    if joint == want:
        return c if c.shape == want else broadcast_to(c, want)
    if joint != c.shape:
        raise InputError(f"{name}: vjp gave a cotangent of shape {c.shape} for input {i}, "
                         f"which has shape {want}")
    return c


def primitive(forward, vjp, jvp=None, name=None):
    """Make a new op from NumPy functions, usable everywhere the built-in ops are.

    ``forward(*arrays) -> array``; ``vjp(g, out, *xs) -> tuple`` (one cotangent per input);
    ``jvp(tangents, out, *xs) -> array`` (needed for forward mode: jvp, jacfwd, hessian).
    Rules written with chainrule's own ops can be differentiated again.

    >>> import chainrule as cr
    >>> cube = cr.primitive(lambda x: x ** 3, lambda g, out, x: (g * 3 * x ** 2,),
    ...                     lambda ts, out, x: ts[0] * 3 * x ** 2, name="cube")
    >>> cr.grad(cube)(2.0), cr.jvp(cube, (2.0,), (1.0,))[1]
    (array(12.), array(12.))
    """
    if not callable(forward) or not callable(vjp) or (jvp is not None and not callable(jvp)):
        raise InputError("primitive: forward, vjp (and jvp if given) must be functions")
    name = name or getattr(forward, "__name__", "primitive")

    def array_forward(*xs):
        return np.asarray(forward(*xs))

    def vjp_rule(i):
        def rule(g, out, *xs):
            cotangents = _guarded(vjp, "vjp", name)(g, out, *xs)
            if not isinstance(cotangents, tuple | list) or len(cotangents) != len(xs):
                raise InputError(f"{name}: vjp must return a tuple of {len(xs)} cotangent(s), "
                                 f"got {type(cotangents).__name__}")
            return _checked_cotangent(cotangents[i], xs[i], i, name)
        return rule

    prim = Primitive(name, array_forward, vjp_rule, jvp and _guarded(jvp, "jvp", name), verb=None)

    def op(*xs):
        return apply(prim, xs, _EMPTY)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = forward.__doc__
    op.prim = prim
    return op
