"""``chainrule.numpy.linalg``: NumPy's linalg, differentiable. inv, solve, det, slogdet and
cholesky are rows of the primitive table (engine/linalg.py, with their matrix calculus);
matrix_power, multi_dot and norm are composed.

>>> import chainrule as cr, chainrule.numpy as cnp
>>> cr.grad(lambda x: cnp.linalg.norm(x))(np.array([3.0, 4.0]))   # x / |x|
array([0.6, 0.8])
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from chainrule.engine import linalg as _rows
from chainrule.engine import ops, ops_reduce, ops_shape
from chainrule.engine.tensor import raw
from chainrule.errors import InputError
from chainrule.numpy._wrap import array, differentiable, shape_of


@differentiable(np.linalg.inv, "row inv")
def inv(a):
    return _rows.inv(array(a))


@differentiable(np.linalg.solve, "row solve (b a vector or a stack of matrices)")
def solve(a, b):
    return _rows.solve(array(a), array(b))


@differentiable(np.linalg.det, "row det (its rules need an invertible matrix)")
def det(a):
    return _rows.det(array(a))


SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])  # NumPy's fields


@differentiable(np.linalg.slogdet, "row logabsdet; the sign is a constant")
def slogdet(a):
    """``(sign, logabsdet)`` with NumPy's field names: the sign a constant, the log a Tensor."""
    return SlogdetResult(*_rows.slogdet(array(a)))


@differentiable(np.linalg.cholesky, "row cholesky (the symmetric gradient)")
def cholesky(a, /, *, upper=False):
    lower = _rows.cholesky(array(a))
    return ops_shape.transpose(lower, _swap(len(shape_of(lower)))) if upper else lower


def _swap(ndim):
    return tuple(range(ndim - 2)) + (ndim - 1, ndim - 2)


@differentiable(np.linalg.matrix_power, "composed: matmul by repeated squaring (inv for n < 0)")
def matrix_power(a, n):
    if not isinstance(n, int | np.integer):
        raise InputError(f"matrix_power: the power must be an integer, got {n!r}")
    a = array(a)
    if n < 0:
        a, n = _rows.inv(a), -n
    if n == 0:
        return np.broadcast_to(np.eye(shape_of(a)[-1], dtype=np.result_type(raw(a))), shape_of(a))
    result = None
    while n:  # a^n as the product of the squarings a^(2^k) for the bits k of n
        if n & 1:
            result = a if result is None else ops_shape.matmul(result, a)
        n >>= 1
        if n:
            a = ops_shape.matmul(a, a)
    return result


@differentiable(np.linalg.multi_dot, "composed: matmul, left to right")
def multi_dot(arrays):
    arrays = [array(a) for a in arrays]
    result = arrays[0]
    for a in arrays[1:]:
        result = ops_shape.matmul(result, a)
    return result


def _vector_norm(x, ord, axis, keepdims):
    size = ops.abs(x)
    if ord is None or ord == 2:
        return ops_reduce.sqrt_or_zero(ops.sum(x * x, axis, keepdims))
    if ord == np.inf:
        return ops.max(size, axis, keepdims)
    if ord == -np.inf:
        return ops_reduce.min(size, axis, keepdims)
    if ord == 0:  # the number of nonzero entries: a constant
        return np.sum(raw(x) != 0, axis=axis, keepdims=keepdims).astype(np.result_type(raw(x)))
    if ord == 1:
        return ops.sum(size, axis, keepdims)
    return ops.sum(size ** ord, axis, keepdims) ** (1.0 / ord)


def _matrix_norm(x, ord, axes, keepdims):
    rows, cols = axes
    if ord in (None, "fro"):
        return ops_reduce.sqrt_or_zero(ops.sum(x * x, axes, keepdims))
    if ord not in (1, -1, np.inf, -np.inf):
        raise InputError(f"norm: the matrix norm ord={ord!r} needs the SVD, which chainrule does "
                         "not differentiate (ord 'fro', 1, -1, inf and -inf are covered)")
    summed, pick = (rows, cols) if ord in (1, -1) else (cols, rows)
    sums = ops.sum(ops.abs(x), summed, True)
    best = ops.max(sums, pick, True) if ord > 0 else ops_reduce.min(sums, pick, True)
    if keepdims:
        return best
    return ops_shape.reshape(best, tuple(n for i, n in enumerate(shape_of(best)) if i not in axes))


@differentiable(np.linalg.norm, "composed: abs, mul, sum, max or min, and sqrt (derivative 0 at "
                                "the zero vector)")
def norm(x, ord=None, axis=None, keepdims=False):
    """NumPy's norm: vectors (ord None, 2, 1, inf, -inf, 0, any p) and matrices (None, 'fro', 1,
    -1, inf, -inf). The 2-norm's gradient at 0 is 0 (the least-norm subgradient)."""
    x = array(x)
    ndim = len(shape_of(x))
    if axis is None:
        if ord is None:
            return _vector_norm(ops_shape.reshape(x, (-1,)), None, 0, False) if not keepdims \
                else _vector_norm(x, None, None, True)
        axis = tuple(range(ndim))
        if ndim not in (1, 2):
            raise InputError(f"norm: ord={ord!r} needs a 1-d or 2-d array, or axis")
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    axes = tuple(int(a) % ndim for a in axes)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise InputError(f"norm: axis must name 1 or 2 axes, got {axis!r}")
