"""NumPy's products and diagonals: einsum (a row, any subscripts), and what is composed from it or
from matmul and indexing: tensordot, inner, outer, kron, dot (every rank), vdot, cross, trace,
diag, diagonal, triu, tril.

>>> import chainrule as cr, chainrule.numpy as cnp
>>> cr.grad(lambda a: cnp.trace(cnp.dot(a, a)))(np.array([[1.0, 2.0], [3.0, 4.0]]))  # 2 Aᵀ
array([[2., 6.],
       [4., 8.]])
"""

from __future__ import annotations

import numpy as np

from chainrule.engine import ops, ops_index, ops_shape
from chainrule.errors import InputError
from chainrule.numpy._wrap import array, differentiable, shape_of


@differentiable(np.einsum, "row einsum (repeated labels, ellipses, implicit output)")
def einsum(subscripts, *operands, optimize=False):
    """NumPy's einsum with the subscripts as a string (``optimize`` is accepted and ignored)."""
    return ops_index.einsum(subscripts, *(array(x) for x in operands))


@differentiable(np.tensordot, "composed: einsum")
def tensordot(a, b, axes=2):
    return ops_index.tensordot(array(a), array(b), axes)


@differentiable(np.matmul, "row matmul")
def matmul(x1, x2):
    return ops_shape.matmul(array(x1), array(x2))


@differentiable(np.dot, "composed: mul (a scalar), matmul (up to 2-d), einsum (N-d)")
def dot(a, b):
    return ops_index.dot(array(a), array(b))


@differentiable(np.vdot, "composed: reshape, matmul")
def vdot(a, b):
    return ops_shape.matmul(ops_shape.reshape(array(a), (-1,)), ops_shape.reshape(array(b), (-1,)))


@differentiable(np.inner, "composed: mul (a scalar), einsum (tensordot)")
def inner(a, b):
    a, b = array(a), array(b)
    if not shape_of(a) or not shape_of(b):
        return a * b
    return ops_index.tensordot(a, b, ([len(shape_of(a)) - 1], [len(shape_of(b)) - 1]))


@differentiable(np.outer, "composed: reshape, mul")
def outer(a, b):
    return ops_shape.reshape(array(a), (-1, 1)) * ops_shape.reshape(array(b), (1, -1))


@differentiable(np.kron, "composed: reshape, mul (the outer product, interleaved)")
def kron(a, b):
    a, b = array(a), array(b)
    ndim = max(len(shape_of(a)), len(shape_of(b)))
    sa = (1,) * (ndim - len(shape_of(a))) + shape_of(a)
    sb = (1,) * (ndim - len(shape_of(b))) + shape_of(b)
    a = ops_shape.reshape(a, tuple(x for n in sa for x in (n, 1)))
    b = ops_shape.reshape(b, tuple(x for n in sb for x in (1, n)))
    return ops_shape.reshape(a * b, tuple(p * q for p, q in zip(sa, sb)))


@differentiable(np.cross, "composed: getitem, mul, sub, stack")
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """NumPy's cross of 3-vectors (or 2-vectors: the z component) along the last axis, or
    ``axis`` for all three."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a = ops_index.moveaxis(array(a), axisa, -1)
    b = ops_index.moveaxis(array(b), axisb, -1)
    if shape_of(a)[-1] not in (2, 3) or shape_of(b)[-1] not in (2, 3):
        raise InputError(f"cross: vectors must have 2 or 3 components, got {shape_of(a)[-1]} and "
                         f"{shape_of(b)[-1]}")
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    a2 = a[..., 2] if shape_of(a)[-1] == 3 else 0.0
    b2 = b[..., 2] if shape_of(b)[-1] == 3 else 0.0
    z = a0 * b1 - a1 * b0
    if shape_of(a)[-1] == 2 and shape_of(b)[-1] == 2:
        return z
    x, y = a1 * b2 - a2 * b1, a2 * b0 - a0 * b2
    joint = np.broadcast_shapes(shape_of(x), shape_of(y), shape_of(z))
    c = ops_shape.stack([ops.add(part, np.zeros(joint)) for part in (x, y, z)], -1)
    return ops_index.moveaxis(c, -1, axisc)


@differentiable(np.trace, "composed: diagonal (getitem), sum")
def trace(a, offset=0, axis1=0, axis2=1):
    return ops_index.trace(array(a), offset, axis1, axis2)


@differentiable(np.diagonal, "composed: transpose, getitem")
def diagonal(a, offset=0, axis1=0, axis2=1):
    return ops_index.diagonal(array(a), offset, axis1, axis2)


@differentiable(np.diag, "composed: getitem (2-d in), scatter (1-d in)")
def diag(v, k=0):
    v = array(v)
    if len(shape_of(v)) == 2:
        return ops_index.diagonal(v, k)
    if len(shape_of(v)) != 1:
        raise InputError(f"diag: input must be 1-d or 2-d, got shape {shape_of(v)}")
    n = shape_of(v)[0] + abs(k)
    index = np.arange(shape_of(v)[0])
    return ops_shape._scatter(v, (n, n), (index + max(-k, 0), index + max(k, 0)))


def _triangle(m, k, lower):
    m = array(m)
    rows, cols = shape_of(m)[-2:] if len(shape_of(m)) >= 2 else (shape_of(m)[0], shape_of(m)[0])
    if len(shape_of(m)) < 2:  # NumPy makes a 1-d input the rows of a square matrix
        m = ops_shape.reshape(m, (1, cols)) * np.ones((rows, 1))
    keep = np.tri(rows, cols, k, dtype=bool)
    return ops.where(keep if lower else ~np.tri(rows, cols, k - 1, dtype=bool), m, 0.0)


@differentiable(np.triu, "composed: where (a constant mask)")
def triu(m, k=0):
    return _triangle(m, k, lower=False)


@differentiable(np.tril, "composed: where (a constant mask)")
def tril(m, k=0):
    return _triangle(m, k, lower=True)

