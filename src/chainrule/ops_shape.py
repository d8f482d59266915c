"""The primitive table, continued: rows that move entries around rather than compute them.

Same layout as ops.py: ``Primitive(name, forward, vjp=(one rule per argument), jvp=(...))``.
``sum_to`` is where broadcasting is un-done (the one place: graph.backward calls it), and
``broadcast_to`` is its transpose. ``primitive()`` lets a user add a row of their own.

>>> import chainrule as cr
>>> cr.grad(lambda x: cr.sum(x[[0, 0, 1]]))(np.zeros(3))  # repeated indices accumulate
array([2., 1., 0.])
"""

from __future__ import annotations

import numpy as np

from chainrule.errors import InputError
from chainrule.graph import _EMPTY, _shape, apply
from chainrule.ops import Primitive, _raw
from chainrule.tensor import Tensor


def _sum_to_forward(x, shape):
    """Sum ``x`` over the axes that broadcasting added or stretched, giving ``shape``."""
    x_shape = np.shape(x)
    if x_shape == shape:
        return x
    lead = len(x_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x_shape[lead + i] != 1)
    return np.reshape(np.sum(x, axis=axes, keepdims=True), shape) if axes else np.reshape(x, shape)


def _scatter_forward(g, shape, index):
    """The transpose of ``x[index]``: a zero array of ``shape`` with ``g`` added at ``index``
    (``np.add.at``, so an entry picked twice receives both cotangents)."""
    out = np.zeros(shape, dtype=np.result_type(g))
    np.add.at(out, index, g)
    return out


def _inverse_axes(axes):
    return None if axes is None else tuple(int(i) for i in np.argsort(axes))


def _transpose_forward(x, axes):
    return np.transpose(x, axes)


def _concat_vjp(i):
    def rule(g, out, *xs, axis):
        ax = axis % len(_shape(out))
        start = int(np.sum([_shape(x)[ax] for x in xs[:i]]))
        return getitem(g, (slice(None),) * ax + (slice(start, start + _shape(xs[i])[ax]),))
    return rule


def _stack_vjp(i):
    def rule(g, out, *xs, axis):
        return getitem(g, (slice(None),) * (axis % len(_shape(out))) + (i,))
    return rule


def _swap_last(a):
    n = len(_shape(a))
    return transpose(a, tuple(range(n - 2)) + (n - 1, n - 2))


def _add_axis(a, position):
    """``a`` with a new axis of length 1 inserted at ``position`` (negative counts from the end)."""
    shape = list(_shape(a))
    shape.insert(position if position >= 0 else len(shape) + position + 1, 1)
    return reshape(a, tuple(shape))


def _matmul_vjp_x(g, out, x, y):
    if len(_shape(y)) == 1:  # out = x @ y contracts y away: dx = g ⊗ y
        return g * y if len(_shape(x)) == 1 else _add_axis(g, -1) * y
    if len(_shape(x)) == 1:  # x (n,) @ y (..., n, m): dx = y @ g, summed over batch by sum_to
        return reshape(matmul(y, _add_axis(g, -1)), _shape(y)[:-1])
    return matmul(g, _swap_last(y))


def _matmul_vjp_y(g, out, x, y):
    if len(_shape(x)) == 1:  # x (n,) @ y: dy = x ⊗ g
        return g * x if len(_shape(y)) == 1 else _add_axis(x, -1) * _add_axis(g, -2)
    if len(_shape(y)) == 1:  # x (..., k, n) @ y (n,): dy = Σ g x, summed by sum_to
        return _add_axis(g, -1) * x
    return matmul(_swap_last(x), g)


# -- THE TABLE, continued ------------------------------------------------------------------------
SUM_TO = Primitive("sum_to", _sum_to_forward,
    vjp=(lambda g, out, x, shape: broadcast_to(g, _shape(x)),),
    jvp=(lambda t, out, x, shape: sum_to(t, shape),))
BROADCAST_TO = Primitive("broadcast_to", np.broadcast_to,
    vjp=(lambda g, out, x, shape: sum_to(g, _shape(x)),),
    jvp=(lambda t, out, x, shape: broadcast_to(t, shape),))
RESHAPE = Primitive("reshape", lambda x, shape: np.reshape(x, shape),
    vjp=(lambda g, out, x, shape: reshape(g, _shape(x)),),
    jvp=(lambda t, out, x, shape: reshape(t, _shape(out)),), verb="fit")
TRANSPOSE = Primitive("transpose", _transpose_forward,
    vjp=(lambda g, out, x, axes: transpose(g, _inverse_axes(axes)),),
    jvp=(lambda t, out, x, axes: transpose(t, axes),))
GETITEM = Primitive("getitem", lambda x, index: x[index],
    vjp=(lambda g, out, x, index: _scatter(g, _shape(x), index),),
    jvp=(lambda t, out, x, index: getitem(t, index),))
SCATTER = Primitive("scatter", _scatter_forward,
    vjp=(lambda g, out, x, shape, index: getitem(g, index),),
    jvp=(lambda t, out, x, shape, index: _scatter(t, shape, index),))
CONCATENATE = Primitive("concatenate", lambda *xs, axis: np.concatenate(xs, axis=axis),
    vjp=_concat_vjp, jvp=lambda ts, out, *xs, axis: concatenate(ts, axis), verb="match")
STACK = Primitive("stack", lambda *xs, axis: np.stack(xs, axis=axis),
    vjp=_stack_vjp, jvp=lambda ts, out, *xs, axis: stack(ts, axis), verb="match")
MATMUL = Primitive("matmul", np.matmul,  # NumPy's semantics: 1-d operands, batches broadcast
    vjp=(_matmul_vjp_x, _matmul_vjp_y),
    jvp=(lambda t, out, x, y: matmul(t, y), lambda t, out, x, y: matmul(x, t)), verb="align")


# -- the public functions ------------------------------------------------------------------------
def sum_to(x, shape):
    """Sum ``x`` down to ``shape``: undoes broadcasting (the backward pass's one place for it).
    >>> sum_to(np.ones((3, 2)), (2,))
    array([3., 3.])
    """
    return apply(SUM_TO, (x,), {"shape": tuple(shape)})


def broadcast_to(x, shape):
    """``x`` repeated to ``shape`` (NumPy broadcasting); the transpose of ``sum_to``.
    >>> broadcast_to(np.array([1.0, 2.0]), (2, 2))
    array([[1., 2.],
           [1., 2.]])
    """
    return apply(BROADCAST_TO, (x,), {"shape": tuple(shape)})


def reshape(x, shape):
    """``x`` with a new shape (one entry may be -1).
    >>> reshape(np.arange(6.0), (2, -1)).shape
    (2, 3)
    """
    return apply(RESHAPE, (x,), {"shape": tuple(shape) if isinstance(shape, list) else shape})


def transpose(x, axes=None):
    """Permute the axes (reverse them by default), like ``np.transpose``.
    >>> transpose(np.zeros((2, 3, 4)), (1, 0, 2)).shape
    (3, 2, 4)
    """
    return apply(TRANSPOSE, (x,), {"axes": None if axes is None else tuple(axes)})


def getitem(x, index):
    """``x[index]``: basic and advanced indexing; repeated indices accumulate their gradients.
    >>> getitem(np.array([1.0, 2.0, 3.0]), [2, 0, 2])
    array([3., 1., 3.])
    """
    index = tuple(_raw(i) for i in index) if isinstance(index, tuple) else _raw(index)
    return apply(GETITEM, (x,), {"index": index})


def _scatter(g, shape, index):
    return apply(SCATTER, (g,), {"shape": shape, "index": index})


def concatenate(xs, axis=0):
    """Join a sequence of arrays along an existing axis (like ``np.concatenate``).
    >>> concatenate([np.zeros(2), np.ones(1)])
    array([0., 0., 1.])
    """
    return apply(CONCATENATE, tuple(xs), {"axis": axis})


def stack(xs, axis=0):
    """Join a sequence of same-shape arrays along a new axis (like ``np.stack``).
    >>> stack([np.zeros(2), np.ones(2)], axis=1).shape
    (2, 2)
    """
    return apply(STACK, tuple(xs), {"axis": axis})


def matmul(x, y):
    """Matrix product with NumPy's rules (1-d vectors, broadcast batches), the ``@`` operator.
    >>> matmul(np.ones((5, 2, 3)), np.ones(3)).shape
    (5, 2)
    """
    return apply(MATMUL, (x, y), _EMPTY)


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
