"""Parameters as one flat vector: the arrays W^1, b^1, ... are consecutive views of it.

The network's parameters live this way (so ``to_vector``/``from_vector``, ex4's unrolled
thetaVec, are single copies), and so do the training loop's gradient buffers and the
optimisers' state: an update over such arrays then runs on the flat vector whole, one NumPy
call per operation instead of one per parameter (:func:`as_one` finds the vector).

>>> flat, (W, b) = flat_views([np.ones((2, 2)), np.zeros(2)], "float64")
>>> W += 1; flat.tolist()
[2.0, 2.0, 2.0, 2.0, 0.0, 0.0]
>>> as_one([W, b]) is flat
True
"""

from __future__ import annotations

import numpy as np


def _carve(flat, shapes):
    """Consecutive views of the 1-d ``flat`` with the given shapes."""
    views, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape, dtype=np.int64))
        views.append(flat[start:start + size].reshape(shape))
        start += size
    return views


def flat_views(arrays, dtype):
    """One flat vector holding copies of ``arrays`` (as ``dtype``), and the views into it."""
    shapes = [np.shape(a) for a in arrays]
    flat = np.empty(sum(int(np.prod(s, dtype=np.int64)) for s in shapes), dtype=dtype)
    views = _carve(flat, shapes)
    for view, a in zip(views, arrays):
        view[...] = a
    return flat, views


def flat_zeros_like(arrays):
    """Zero arrays shaped like ``arrays``, consecutive views of one flat buffer (one dtype);
    arrays of mixed dtypes get separate buffers.

    >>> W, b = flat_zeros_like([np.ones((2, 2)), np.ones(2)])
    >>> as_one([W, b]).shape
    (6,)
    """
    dtypes = {np.asarray(a).dtype for a in arrays}
    if len(dtypes) != 1:
        return [np.zeros_like(a, order="C") for a in arrays]
    shapes = [np.shape(a) for a in arrays]
    flat = np.zeros(sum(int(np.prod(s, dtype=np.int64)) for s in shapes), dtype=dtypes.pop())
    return _carve(flat, shapes)


def _address(a):
    return a.__array_interface__["data"][0]


def as_one(arrays):
    """The flat array that ``arrays`` are consecutive C-ordered views of, in order, or None.

    >>> flat = np.arange(5.0)
    >>> as_one([flat[:3].reshape(3, 1), flat[3:]]) is flat, as_one([flat[:3]])
    (True, None)
    """
    base = arrays[0].base
    if not isinstance(base, np.ndarray) or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    end = _address(base)
    for a in arrays:
        if a.base is not base or not a.flags.c_contiguous or _address(a) != end:
            return None
        end += a.nbytes
    return base if end == _address(base) + base.nbytes else None
