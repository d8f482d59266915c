"""Making arrays. Those computed from their arguments propagate derivatives (``linspace`` and
``logspace`` with Tensor ends, ``array`` of a list of Tensors, ``full_like`` with a Tensor fill
value); those that only take a shape from their argument do not (``zeros_like``, ``ones_like``,
``empty_like``: their entries are constants, whatever the argument holds).

>>> import chainrule as cr, chainrule.numpy as cnp
>>> cr.grad(lambda b: cnp.sum(cnp.linspace(0.0, b, 5)))(1.0)   # Σ_k k/4 for k = 0..4
array(2.5)
"""

from __future__ import annotations

import numpy as np

from chainrule.engine import ops, ops_math, ops_shape
from chainrule.engine.graph import broadcast_to
from chainrule.engine.tensor import Tensor, raw
from chainrule.errors import InputError
from chainrule.numpy._wrap import array as _array
from chainrule.numpy._wrap import differentiable, shape_of, values_only


@differentiable(np.array, "composed: stack (a nested list of Tensors)")
def array(object, dtype=None, copy=True, ndmin=0):
    result = _array(object)
    if dtype is not None:
        result = ops_math.astype(result, dtype)
    if ndmin > len(shape_of(result)):
        padding = (1,) * (ndmin - len(shape_of(result)))
        result = ops_shape.reshape(result, padding + shape_of(result))
    return result


@differentiable(np.asarray, "the Tensor itself, or stack (a list of Tensors)")
def asarray(a, dtype=None):
    return array(a, dtype)


@differentiable(np.linspace, "composed: mul, add (the ends may be watched)")
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """NumPy's linspace; ``start`` and ``stop`` may be Tensors (arrays broadcast, as in NumPy)."""
    if num < 0:
        raise InputError(f"linspace: num must be >= 0, got {num}")
    start, stop = _array(start), _array(stop)
    div = (num - 1) if endpoint else num
    fraction = np.arange(num, dtype=np.float64) / div if div > 0 else np.zeros(num)
    joint = np.broadcast_shapes(shape_of(start), shape_of(stop))
    fraction = fraction.reshape((num,) + (1,) * len(joint))
    step = stop - start
    samples = start + fraction * step
    if endpoint and num > 1:  # the last sample is stop exactly, as in NumPy
        samples = ops_shape.concatenate([samples[:-1], broadcast_to(
            ops_shape.reshape(stop, (1,) + shape_of(stop)), (1,) + joint)], 0)
    if axis != 0:
        samples = ops_shape.transpose(samples, _axis_order(len(joint) + 1, axis))
    if dtype is not None:
        samples = ops_math.astype(samples, dtype)
    return (samples, step / div if div > 0 else np.nan) if retstep else samples


def _axis_order(ndim, axis):
    order = list(range(1, ndim))
    order.insert(axis % ndim, 0)
    return order


@differentiable(np.logspace, "composed: linspace, pow")
def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    samples = ops.pow(_array(base), linspace(start, stop, num, endpoint, axis=axis))
    return samples if dtype is None else ops_math.astype(samples, dtype)


@differentiable(np.geomspace, "composed: log, linspace, exp (positive ends)")
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    if np.any(raw(start) <= 0) or np.any(raw(stop) <= 0):
        raise InputError("geomspace: differentiable for positive ends only")
    samples = ops.exp(linspace(ops.log(_array(start)), ops.log(_array(stop)), num, endpoint,
                               axis=axis))
    return samples if dtype is None else ops_math.astype(samples, dtype)


@differentiable(np.full_like, "row broadcast_to (a Tensor fill value)")
def full_like(a, fill_value, dtype=None):
    if type(fill_value) is not Tensor:
        return np.full_like(raw(a), fill_value, dtype)
    return broadcast_to(fill_value if dtype is None else ops_math.astype(fill_value, dtype),
                        shape_of(a))


@differentiable(np.full, "row broadcast_to (a Tensor fill value)")
def full(shape_, fill_value, dtype=None):
    return broadcast_to(fill_value if dtype is None else ops_math.astype(fill_value, dtype),
                        (shape_,) if isinstance(shape_, int) else tuple(shape_))


for _name in ("zeros_like", "ones_like", "empty_like"):
    globals()[_name] = values_only(getattr(np, _name), "constants of the argument's shape")
for _name in ("zeros", "ones", "empty", "eye", "identity", "tri", "indices"):
    globals()[_name] = values_only(getattr(np, _name), "constants (of a given size)")
del _name


@differentiable(np.arange, "composed: mul, add (start and step may be watched)")
def arange(start, stop=None, step=1, dtype=None):
    k = np.arange(np.arange(raw(start), raw(stop), raw(step)).size if stop is not None else
                  np.arange(raw(start)).size, dtype=np.float64)
    if stop is None:
        start, step = 0.0, 1
    samples = _array(start) + k * _array(step)
    return samples if dtype is None else ops_math.astype(samples, dtype)


@differentiable(np.meshgrid, "composed: reshape, broadcast_to")
def meshgrid(*xi, indexing="xy"):
    if indexing not in ("xy", "ij"):
        raise InputError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    xi = [ops_shape.reshape(_array(x), (-1,)) for x in xi]
    sizes = [shape_of(x)[0] for x in xi]
    if indexing == "xy" and len(xi) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for i, x in enumerate(xi):
        where = (1 - i if i < 2 else i) if indexing == "xy" and len(xi) >= 2 else i
        grids.append(broadcast_to(ops_shape.reshape(x, tuple(
            -1 if d == where else 1 for d in range(len(xi)))), tuple(sizes)))
    return grids
