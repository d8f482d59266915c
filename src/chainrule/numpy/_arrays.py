"""NumPy's functions that move entries: reshaping, joining, splitting, rearranging, padding,
sorting and picking. All are composed from the shape rows (reshape, transpose, getitem and its
transpose scatter, concatenate, stack, broadcast_to): a gather's gradient is a scatter-add, so
an entry picked twice (repeat, tile, pad's reflections) receives both cotangents.

>>> import chainrule as cr, chainrule.numpy as cnp
>>> cr.grad(lambda x: cnp.sum(cnp.tile(x, 3)))(np.array([1.0, 2.0]))
array([3., 3.])
"""

from __future__ import annotations

import numpy as np

from chainrule.engine import ops, ops_index, ops_shape
from chainrule.engine.graph import broadcast_to as _broadcast_to
from chainrule.engine.tensor import raw
from chainrule.errors import InputError
from chainrule.numpy._wrap import array, differentiable, shape_of

_GATHER = "composed: getitem (a gather; its vjp scatter-adds)"


def _index_along(a, index, axis):
    return ops_shape.getitem(a, (slice(None),) * (axis % len(shape_of(a))) + (index,))


@differentiable(np.reshape, "row reshape")
def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C":
        raise InputError("reshape: only order='C' is differentiable")
    return ops_shape.reshape(array(a), shape if shape is not None else newshape)


@differentiable(np.transpose, "row transpose")
def transpose(a, axes=None):
    return ops_shape.transpose(array(a), axes)


@differentiable(np.ravel, "row reshape")
def ravel(a, order="C"):
    return reshape(a, (-1,), order)


@differentiable(np.squeeze, "row reshape")
def squeeze(a, axis=None):
    return ops_index.squeeze(array(a), axis)


@differentiable(np.expand_dims, "row reshape")
def expand_dims(a, axis):
    return ops_index.expand_dims(array(a), axis)


@differentiable(np.moveaxis, "row transpose")
def moveaxis(a, source, destination):
    return ops_index.moveaxis(array(a), source, destination)


@differentiable(np.swapaxes, "row transpose")
def swapaxes(a, axis1, axis2):
    return ops_index.swapaxes(array(a), axis1, axis2)


@differentiable(np.broadcast_to, "row broadcast_to (its vjp: sum_to)")
def broadcast_to(array_, shape):
    return _broadcast_to(array(array_), tuple(shape) if not isinstance(shape, int) else (shape,))


@differentiable(np.broadcast_arrays, "row broadcast_to")
def broadcast_arrays(*args):
    joint = np.broadcast_shapes(*(shape_of(a) for a in args))
    return tuple(_broadcast_to(array(a), joint) for a in args)


_AT_LEAST = {  # (n, ndim) -> where NumPy puts the new axes of length 1
    (1, 0): lambda s: (1,), (2, 0): lambda s: (1, 1), (2, 1): lambda s: (1, *s),
    (3, 0): lambda s: (1, 1, 1), (3, 1): lambda s: (1, *s, 1), (3, 2): lambda s: (*s, 1),
}


def _at_least(numpy_function, n, name):
    def impl(*arys):
        out = []
        for a in arys:
            a, s = array(a), shape_of(a)
            out.append(ops_shape.reshape(a, _AT_LEAST[n, len(s)](s)) if len(s) < n else a)
        return out[0] if len(out) == 1 else tuple(out)
    impl.__name__ = name
    return differentiable(numpy_function, "row reshape", name)(impl)


atleast_1d = _at_least(np.atleast_1d, 1, "atleast_1d")
atleast_2d = _at_least(np.atleast_2d, 2, "atleast_2d")
atleast_3d = _at_least(np.atleast_3d, 3, "atleast_3d")


@differentiable(np.concatenate, "row concatenate")
def concatenate(arrays, axis=0):
    arrays = [array(a) for a in arrays]
    if axis is None:
        arrays, axis = [ops_shape.reshape(a, (-1,)) for a in arrays], 0
    return ops_shape.concatenate(arrays, axis)


@differentiable(np.stack, "row stack")
def stack(arrays, axis=0):
    return ops_shape.stack([array(a) for a in arrays], axis)


@differentiable(np.vstack, "row concatenate (after reshape)")
def vstack(tup):
    return ops_shape.concatenate([atleast_2d(a) for a in tup], 0)


@differentiable(np.hstack, "row concatenate")
def hstack(tup):
    arrays = [atleast_1d(a) for a in tup]
    return ops_shape.concatenate(arrays, 0 if len(shape_of(arrays[0])) == 1 else 1)


@differentiable(np.dstack, "row concatenate (after reshape)")
def dstack(tup):
    return ops_shape.concatenate([atleast_3d(a) for a in tup], 2)


@differentiable(np.column_stack, "row concatenate (after reshape)")
def column_stack(tup):
    arrays = [array(a) for a in tup]
    arrays = [ops_shape.reshape(a, (-1, 1)) if len(shape_of(a)) < 2 else a for a in arrays]
    return ops_shape.concatenate(arrays, 1)


@differentiable(np.array_split, _GATHER + ", one slice each")
def array_split(ary, indices_or_sections, axis=0):
    ary = array(ary)
    n = shape_of(ary)[axis]
    if isinstance(indices_or_sections, int | np.integer):
        if indices_or_sections <= 0:
            raise InputError("array_split: the number of sections must be >= 1")
        size, extra = divmod(n, int(indices_or_sections))
        sizes = [size + 1] * extra + [size] * (int(indices_or_sections) - extra)
        bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    else:
        bounds = [0, *[int(i) for i in indices_or_sections], n]
    return [_index_along(ary, slice(lo, hi), axis) for lo, hi in zip(bounds[:-1], bounds[1:])]


@differentiable(np.split, _GATHER + ", one slice each")
def split(ary, indices_or_sections, axis=0):
    if isinstance(indices_or_sections, int | np.integer) and shape_of(ary)[axis] % int(
            indices_or_sections):
        raise InputError(f"split: {shape_of(ary)[axis]} entries along axis {axis} do not split "
                         f"into {indices_or_sections} equal sections (array_split allows it)")
    return array_split(ary, indices_or_sections, axis)


@differentiable(np.hsplit, _GATHER + ", one slice each")
def hsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, 1 if len(shape_of(ary)) > 1 else 0)


@differentiable(np.vsplit, _GATHER + ", one slice each")
def vsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, 0)


@differentiable(np.dsplit, _GATHER + ", one slice each")
def dsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, 2)


@differentiable(np.flip, "composed: getitem with reversed slices")
def flip(m, axis=None):
    return ops_index.flip(array(m), axis)


@differentiable(np.fliplr, "composed: getitem with reversed slices")
def fliplr(m):
    return ops_index.flip(array(m), 1)


@differentiable(np.flipud, "composed: getitem with reversed slices")
def flipud(m):
    return ops_index.flip(array(m), 0)


@differentiable(np.rot90, "composed: flip (getitem), transpose")
def rot90(m, k=1, axes=(0, 1)):
    m, k = array(m), k % 4
    if k == 0:
        return m
    if k == 2:
        return ops_index.flip(m, axes)
    order = list(range(len(shape_of(m))))
    order[axes[0]], order[axes[1]] = order[axes[1]], order[axes[0]]
    if k == 1:
        return ops_shape.transpose(ops_index.flip(m, axes[1]), order)
    return ops_index.flip(ops_shape.transpose(m, order), axes[1])


@differentiable(np.roll, _GATHER)
def roll(a, shift, axis=None):
    a = array(a)
    if axis is None:
        return ops_shape.reshape(roll(ops_shape.reshape(a, (-1,)), shift, 0), shape_of(a))
    shifts, axes = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
    for s, ax in zip(shifts.ravel(), axes.ravel()):
        a = _index_along(a, np.roll(np.arange(shape_of(a)[ax]), int(s)), int(ax))
    return a


@differentiable(np.repeat, _GATHER)
def repeat(a, repeats, axis=None):
    a = array(a)
    if axis is None:
        a, axis = ops_shape.reshape(a, (-1,)), 0
    return _index_along(a, np.repeat(np.arange(shape_of(a)[axis]), raw(repeats)), axis)


@differentiable(np.tile, _GATHER)
def tile(A, reps):
    A = array(A)
    reps = (reps,) if isinstance(reps, int | np.integer) else tuple(reps)
    ndim = max(len(shape_of(A)), len(reps))
    A = ops_shape.reshape(A, (1,) * (ndim - len(shape_of(A))) + shape_of(A))
    reps = (1,) * (ndim - len(reps)) + reps
    index = np.ix_(*(np.tile(np.arange(n), r) for n, r in zip(shape_of(A), reps)))
    return ops_shape.getitem(A, index)


@differentiable(np.pad, "composed: scatter (constant) or getitem (edge, reflect, symmetric, "
                        "wrap)")
def pad(array_, pad_width, mode="constant", constant_values=0):
    """NumPy's pad for modes constant (any ``constant_values``), edge, reflect, symmetric
    and wrap. A constant frame is a constant: the entries of ``array_`` are scattered into it."""
    a = array(array_)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (len(shape_of(a)), 2))
    if mode == "constant":
        fill = np.asarray(raw(constant_values))
        frame = np.pad(np.zeros(shape_of(a), np.result_type(raw(a), fill)), widths,
                       constant_values=fill)
        inside = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, shape_of(a)))
        return ops.add(frame, ops_shape._scatter(a, frame.shape, inside))
    if mode not in ("edge", "reflect", "symmetric", "wrap"):
        raise InputError(f"pad: mode {mode!r} is not differentiable here (use constant, edge, "
                         "reflect, symmetric or wrap)")
    for axis, width in enumerate(widths):  # which entry each padded place copies, axis by axis
        a = _index_along(a, np.pad(np.arange(shape_of(a)[axis]), width, mode=mode), axis)
    return a


@differentiable(np.diff, "composed: getitem, sub")
def diff(a, n=1, axis=-1, prepend=None, append=None):
    a = array(a)
    axis = axis % len(shape_of(a))
    parts = [a]
    for extra, where in ((prepend, 0), (append, 1)):
        if extra is not None:
            s = list(shape_of(a))
            s[axis] = 1
            extra = array(extra)
            extra = extra if len(shape_of(extra)) == len(s) else _broadcast_to(extra, tuple(s))
            parts.insert(0 if where == 0 else len(parts), extra)
    if len(parts) > 1:
        a = ops_shape.concatenate(parts, axis)
    for _ in range(n):
        a = _index_along(a, slice(1, None), axis) - _index_along(a, slice(None, -1), axis)
    return a


@differentiable(np.sort, "composed: take_along_axis (getitem) by the stable argsort; ties "
                         "keep their order")
def sort(a, axis=-1, kind=None, order=None):
    return ops_index.sort(array(a), axis)


@differentiable(np.partition, "composed: take_along_axis (getitem) by argpartition")
def partition(a, kth, axis=-1, kind="introselect", order=None):
    return ops_index.partition(array(a), kth, axis)


@differentiable(np.take, _GATHER)
def take(a, indices, axis=None, mode="raise"):
    return ops_index.take(array(a), indices, axis, mode)


@differentiable(np.take_along_axis, _GATHER)
def take_along_axis(arr, indices, axis=-1):
    return ops_index.take_along_axis(array(arr), indices, axis)


@differentiable(np.select, "composed: where, from the last condition to the first")
def select(condlist, choicelist, default=0):
    if len(condlist) != len(choicelist):
        raise InputError(f"select: {len(condlist)} conditions but {len(choicelist)} choices")
    result = array(default)
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        result = ops.where(condition, array(choice), result)
    return result
