"""Reductions and scans beyond sum, mean and max: min, prod, var, std, cumsum, cumprod, logsumexp.

Most are composed from rows that exist, so they need no rule of their own and are
differentiable to any order: ``min(x) = -max(-x)`` (ties share as max's do), ``var`` is the
mean of squared deviations, ``std`` its square root. ``prod`` and ``cumprod`` are trees of
pairwise products (JAX does the same): no division by an entry, so zeros are exact, at every
order. Two are rows: ``cumsum`` (linear: its vjp is the cumulative sum taken from the other
end) and ``logsumexp`` (fused, with the reason beside it).

>>> import chainrule as cr
>>> cr.grad(prod)(np.array([2.0, 0.0, 3.0]))   # ∂/∂x_i = product of the others, zero included
array([0., 6., 0.])
>>> cr.grad(std)(np.array([1.0, 1.0]))         # zero variance: 0, the least-norm subgradient
array([0., 0.])
"""

from __future__ import annotations

import builtins

import numpy as np

from chainrule.engine.graph import Primitive, _shape, apply
from chainrule.engine.ops import _unreduce, exp, max, mean, sqrt, sum, where
from chainrule.engine.ops_shape import concatenate, getitem, reshape, transpose
from chainrule.engine.tensor import raw


def _axes(axis, ndim):
    """``axis`` (None, an int or a tuple, negatives allowed) as a sorted tuple of axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(axis) if isinstance(axis, tuple | list) else (axis,)
    for a in axes:
        if not -ndim <= a < builtins.max(ndim, 1):
            raise np.exceptions.AxisError(a, ndim)
    return tuple(sorted({a % builtins.max(ndim, 1) for a in axes}))


def _to_last(x, axes):
    """``x`` with ``axes`` moved to the end and merged into one: shape ``kept + (n,)``."""
    shape = _shape(x)
    kept = [i for i in range(len(shape)) if i not in axes]
    if kept + list(axes) != list(range(len(shape))):
        x = transpose(x, kept + list(axes))
    n = int(np.prod([shape[a] for a in axes]))
    return reshape(x, tuple(shape[i] for i in kept) + (n,)), n


def _reduced_shape(shape, axes, keepdims):
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _flip(x, axis):
    return getitem(x, (slice(None),) * (axis % len(_shape(x))) + (slice(None, None, -1),))


def _last(x, start=None, stop=None):
    return getitem(x, (Ellipsis, slice(start, stop)))


def _logsumexp(x, axis, keepdims):
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)  # all -inf (or an inf): no inf - inf
    out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.reshape(out, _reduced_shape(np.shape(x), _axes(
        axis, np.ndim(x)), False))


# -- THE TABLE, continued --------------------------------------------------------------------------
CUMSUM = Primitive("cumsum", lambda x, axis: np.cumsum(x, axis=axis),
    vjp=(lambda g, out, x, axis: _flip(cumsum(_flip(g, axis), axis), axis),),
    jvp=(lambda t, out, x, axis: cumsum(t, axis),))
# NOTE: logsumexp is fused rather than composed from max, exp, sum and log: the forward pass
# subtracts the maximum (no overflow), and both rules read the softmax off the output,
# ∂out/∂x = e^(x - out), like log_softmax's.
LOGSUMEXP = Primitive("logsumexp", _logsumexp,
    vjp=(lambda g, out, x, axis, keepdims: _unreduce(g, x, axis, keepdims)
         * exp(x - _unreduce(out, x, axis, keepdims)),),
    jvp=(lambda t, out, x, axis, keepdims:
         sum(t * exp(x - _unreduce(out, x, axis, keepdims)), axis, keepdims),))


# -- the public functions ------------------------------------------------------------------------
def min(x, axis=None, keepdims=False):
    """Minimum over ``axis``: ``-max(-x)``, so entries that tie share its gradient evenly.
    >>> min(np.array([[1.0, 2.0], [0.5, 4.0]]), axis=1)
    array([1. , 0.5])
    """
    return -max(-x, axis, keepdims)


def prod(x, axis=None, keepdims=False):
    """Product over ``axis``: a tree of pairwise products (exact with zeros, at every order).
    >>> prod(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=0)
    array([3., 8.])
    """
    shape = _shape(x)
    axes = _axes(axis, len(shape))
    out_shape = _reduced_shape(shape, axes, keepdims)
    y, n = _to_last(x, axes)
    if n == 0:
        return np.ones(out_shape, np.result_type(raw(x)))
    while n > 1:
        if n % 2:  # pad with a 1 to pair every entry
            y = concatenate([y, np.ones(_shape(y)[:-1] + (1,), np.result_type(raw(y)))], -1)
            n += 1
        y = _last(y, None, n // 2) * _last(y, n // 2)
        n //= 2
    return reshape(y, out_shape)


def cumsum(x, axis=None):
    """Running sums along ``axis`` (of the flattened array when ``axis`` is None).
    >>> cumsum(np.array([1.0, 2.0, 3.0]))
    array([1., 3., 6.])
    """
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    return apply(CUMSUM, (x,), {"axis": axis})


def cumprod(x, axis=None):
    """Running products along ``axis``: a parallel prefix scan of pairwise products
    (Hillis and Steele), so zeros are exact.
    >>> cumprod(np.array([1.0, 2.0, 0.0, 3.0]))
    array([1., 2., 0., 0.])
    """
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    ndim = len(_shape(x))
    axis = _axes(axis, ndim)[0]
    order = [i for i in range(ndim) if i != axis] + [axis]
    y = transpose(x, order) if axis != ndim - 1 else x
    n, k = _shape(y)[-1], 1
    while k < n:  # after this step, entry i holds the product of the 2k entries up to i
        y = concatenate([_last(y, None, k), _last(y, k) * _last(y, None, n - k)], -1)
        k *= 2
    return transpose(y, tuple(np.argsort(order))) if axis != ndim - 1 else y


def var(x, axis=None, ddof=0, keepdims=False):
    """Variance: the mean squared deviation, over ``n - ddof``.
    >>> float(var(np.array([1.0, 2.0, 3.0, 4.0]), ddof=1))
    1.6666666666666667
    """
    shape = _shape(x)
    n = int(np.prod([shape[a] for a in _axes(axis, len(shape))]))
    deviation = x - mean(x, axis, True)
    return sum(deviation * deviation, axis, keepdims) / builtins.max(n - ddof, 0)


def sqrt_or_zero(v):
    """√v, with derivative 0 where v = 0 (where √'s is infinite): the least-norm subgradient
    of a norm at its kink, as |x|'s at 0; JAX and autograd give nan (0/0) there."""
    zero = raw(v) == 0
    if not np.any(zero):
        return sqrt(v)
    return where(zero, 0.0, sqrt(where(zero, 1.0, v)))


def std(x, axis=None, ddof=0, keepdims=False):
    """Standard deviation, √var; at zero variance its gradient is 0 (see ``sqrt_or_zero``).
    >>> float(std(np.array([1.0, 3.0])))
    1.0
    """
    return sqrt_or_zero(var(x, axis, ddof, keepdims))


def logsumexp(x, axis=None, keepdims=False):
    """log Σ exp(x) over ``axis``, without overflow; its gradient is softmax(x).
    >>> logsumexp(np.array([1000.0, 1000.0]))
    array(1000.69314718)
    """
    return apply(LOGSUMEXP, (x,), {"axis": tuple(axis) if isinstance(axis, list) else axis,
                                   "keepdims": keepdims})
