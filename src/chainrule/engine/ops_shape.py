"""The primitive table's shape rows: ops that move entries around rather than compute them.

``Primitive(name, forward, vjp=(one rule per argument), jvp=(...))``, as in ops.py, but here
the two rules are written apart: for a shape op the vjp is the *transpose* of the jvp
(reshape back, scatter for a gather, the swapped product for matmul), not the same function.
The rules use these very ops (and ``*`` on tensors), so they can be differentiated again.

>>> import chainrule as cr
>>> cr.grad(lambda x: cr.sum(x[[0, 0, 1]]))(np.zeros(3))  # repeated indices accumulate
array([2., 1., 0.])
"""

from __future__ import annotations

import numpy as np

from chainrule.engine.graph import _EMPTY, Primitive, _shape, apply
from chainrule.engine.tensor import raw


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
    if len(_shape(x)) == 2 == len(_shape(y)) and _transposed(y):
        # y is W^T, a view (x @ W^T, the usual layer): dy = (g^T x)^T, so that dW = g^T x
        # comes out C-ordered like W (no copy in an optimiser's update)
        return _swap_last(matmul(_swap_last(g), x))
    return matmul(_swap_last(x), g)


def _transposed(y):
    """True for a 2-d array laid out as the transpose of a C-ordered one (``W.T``)."""
    flags = getattr(raw(y), "flags", None)
    return flags is not None and flags.f_contiguous and not flags.c_contiguous


# -- THE TABLE, continued ------------------------------------------------------------------------
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
    index = tuple(raw(i) for i in index) if isinstance(index, tuple) else raw(index)
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
