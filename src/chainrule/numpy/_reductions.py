"""NumPy's reductions and scans with NumPy's signatures (``axis``, ``keepdims``, ``ddof``,
``dtype``; no ``out=``), each a row of the primitive table or composed from rows.

>>> import chainrule as cr, chainrule.numpy as cnp
>>> cr.grad(lambda x: cnp.average(x, weights=np.array([1.0, 3.0])))(np.array([5.0, 7.0]))
array([0.25, 0.75])
"""

from __future__ import annotations

import builtins

import numpy as np

from chainrule.engine import ops, ops_index, ops_math, ops_reduce
from chainrule.engine.ops_shape import reshape
from chainrule.engine.tensor import raw
from chainrule.errors import InputError
from chainrule.numpy._wrap import array, differentiable, shape_of, values_only


def _typed(a, dtype):
    a = array(a)
    return a if dtype is None else ops_math.astype(a, dtype)


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


@differentiable(np.sum, "row sum")
def sum(a, axis=None, dtype=None, keepdims=False):
    return ops.sum(_typed(a, dtype), _axis(axis), keepdims)


@differentiable(np.mean, "row mean")
def mean(a, axis=None, dtype=None, keepdims=False):
    return ops.mean(_typed(a, dtype), _axis(axis), keepdims)


@differentiable(np.max, "row max (ties share evenly)")
def max(a, axis=None, keepdims=False):
    return ops.max(array(a), _axis(axis), keepdims)


@differentiable(np.amax, "row max (ties share evenly)")
def amax(a, axis=None, keepdims=False):
    return ops.max(array(a), _axis(axis), keepdims)


@differentiable(np.min, "composed: -max(-x) (ties share evenly)")
def min(a, axis=None, keepdims=False):
    return ops_reduce.min(array(a), _axis(axis), keepdims)


@differentiable(np.amin, "composed: -max(-x) (ties share evenly)")
def amin(a, axis=None, keepdims=False):
    return ops_reduce.min(array(a), _axis(axis), keepdims)


@differentiable(np.ptp, "composed: max - min")
def ptp(a, axis=None, keepdims=False):
    a = array(a)
    return ops.max(a, _axis(axis), keepdims) - ops_reduce.min(a, _axis(axis), keepdims)


@differentiable(np.prod, "composed: a tree of pairwise mul (exact with zeros)")
def prod(a, axis=None, dtype=None, keepdims=False):
    return ops_reduce.prod(_typed(a, dtype), _axis(axis), keepdims)


@differentiable(np.var, "composed: mean, sub, mul, sum, div")
def var(a, axis=None, dtype=None, ddof=0, keepdims=False):
    return ops_reduce.var(_typed(a, dtype), _axis(axis), ddof, keepdims)


@differentiable(np.std, "composed: var, then sqrt with derivative 0 at zero variance")
def std(a, axis=None, dtype=None, ddof=0, keepdims=False):
    return ops_reduce.std(_typed(a, dtype), _axis(axis), ddof, keepdims)


@differentiable(np.cumsum, "row cumsum (its vjp: the cumulative sum from the other end)")
def cumsum(a, axis=None, dtype=None):
    return ops_reduce.cumsum(_typed(a, dtype), axis)


@differentiable(np.cumprod, "composed: a prefix scan of pairwise mul (exact with zeros)")
def cumprod(a, axis=None, dtype=None):
    return ops_reduce.cumprod(_typed(a, dtype), axis)


@differentiable(np.average, "composed: mul, sum, div")
def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """NumPy's average: the mean, or Σ w a / Σ w with ``weights`` (which may be watched too);
    1-d weights go along ``axis``, as in NumPy."""
    a = array(a)
    if weights is None:
        result = ops.mean(a, _axis(axis), keepdims)
        n = np.size(raw(a)) / builtins.max(np.size(raw(result)), 1)
        count = np.full(np.shape(raw(result)), n)
        return (result, count) if returned else result
    weights = array(weights)
    if shape_of(weights) != shape_of(a):
        if axis is None or len(shape_of(weights)) != 1 or not isinstance(axis, int):
            raise InputError(f"average: weights of shape {shape_of(weights)} need the shape "
                             f"{shape_of(a)} of a, or one axis and 1-d weights")
        axis = axis % len(shape_of(a))
        weights = reshape(weights, (-1,) + (1,) * (len(shape_of(a)) - axis - 1))
        weights = weights * np.ones(shape_of(a), dtype=np.result_type(raw(weights)))
    total = ops.sum(weights, _axis(axis), keepdims)
    result = ops.sum(a * weights, _axis(axis), keepdims) / total
    return (result, total) if returned else result


@differentiable(np.median, "composed: sort (a gather), then mean of the middle")
def median(a, axis=None, keepdims=False):
    a = array(a)
    if axis is None:
        out_shape = (1,) * len(shape_of(a)) if keepdims else ()
        a, axis = reshape(a, (-1,)), 0
    else:
        out_shape = None
    n = shape_of(a)[axis]
    s = ops_index.moveaxis(ops_index.sort(a, axis), axis, -1)
    middle = s[..., (n - 1) // 2:n // 2 + 1]
    result = ops.mean(middle, -1, False)
    if keepdims:
        result = ops_index.expand_dims(result, axis) if out_shape is None else reshape(
            result, out_shape)
    return result


@differentiable(np.nansum, "composed: where, sum (nan entries count as 0)")
def nansum(a, axis=None, dtype=None, keepdims=False):
    a = _typed(a, dtype)
    return ops.sum(ops.where(np.isnan(raw(a)), 0.0, a), _axis(axis), keepdims)


@differentiable(np.nanmean, "composed: where, sum, div over the entries that are not nan")
def nanmean(a, axis=None, dtype=None, keepdims=False):
    a = _typed(a, dtype)
    count = np.sum(~np.isnan(raw(a)), axis=_axis(axis), keepdims=keepdims)
    return ops.sum(ops.where(np.isnan(raw(a)), 0.0, a), _axis(axis), keepdims) / count


for _name, _what in [("argmax", "indices"), ("argmin", "indices"), ("argsort", "indices"),
                     ("argpartition", "indices"), ("argwhere", "indices"),
                     ("nonzero", "indices"), ("flatnonzero", "indices"),
                     ("count_nonzero", "counts"), ("searchsorted", "indices"),
                     ("digitize", "indices"), ("shape", "a shape"), ("ndim", "a count"),
                     ("size", "a count")]:
    globals()[_name] = values_only(getattr(np, _name), _what)
del _name, _what
