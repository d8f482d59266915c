"""Tensor's operators and methods, attached once the ops exist: each is one call into the table.

tensor.py defines the value and its graph bookkeeping and imports no op; the engine's files
import only those before them (tensor → graph → ops_shape → ops → custom → methods → api →
gradcheck). This file closes the loop the other way round without an import cycle, the way HIPS
autograd's numpy_boxes.py gives ArrayBox its operators after numpy_wrapper defined the functions.

>>> import chainrule as cr
>>> a = cr.tensor(2.0, requires_grad=True)
>>> b = cr.tensor(1.0, requires_grad=True)
>>> e = (a + b) * (b + 1)
>>> e.backward()
>>> a.grad, b.grad
(array(2.), array(5.))
"""

from __future__ import annotations

import numpy as np

from chainrule.engine import graph, ops, ops_index, ops_math, ops_reduce, ops_shape
from chainrule.engine.tensor import Tensor, raw
from chainrule.errors import InputError


def backward(self, cotangent=None):
    """Reverse mode from this node: add d(self)/d(leaf) into ``leaf.grad`` for every leaf.

    Like PyTorch, leaf gradients accumulate over calls (set ``leaf.grad = None`` to reset);
    intermediate nodes keep nothing, so nothing leaks from one call into the next.
    """
    graph.backward(self, cotangent)


def _sum(self, axis=None, keepdims=False):
    return ops.sum(self, axis=axis, keepdims=keepdims)


def _mean(self, axis=None, keepdims=False):
    return ops.mean(self, axis=axis, keepdims=keepdims)


def _max(self, axis=None, keepdims=False):
    return ops.max(self, axis=axis, keepdims=keepdims)


def _min(self, axis=None, keepdims=False):
    return ops_reduce.min(self, axis=axis, keepdims=keepdims)


def _prod(self, axis=None, keepdims=False):
    return ops_reduce.prod(self, axis=axis, keepdims=keepdims)


def _var(self, axis=None, ddof=0, keepdims=False):
    return ops_reduce.var(self, axis=axis, ddof=ddof, keepdims=keepdims)


def _std(self, axis=None, ddof=0, keepdims=False):
    return ops_reduce.std(self, axis=axis, ddof=ddof, keepdims=keepdims)


def _clip(self, min=None, max=None):
    lo = -np.inf if min is None else min
    return ops.clip(self, lo, np.inf if max is None else max)


def _squeeze(self, axis=None):
    return ops_index.squeeze(self, axis)


class _At:
    """``t.at[index].add(v)`` and ``.set(v)``: JAX's functional updates, a new tensor each."""

    __slots__ = ("tensor",)

    def __init__(self, tensor):
        self.tensor = tensor

    def __getitem__(self, index):
        return _AtIndex(self.tensor, index)


class _AtIndex:
    __slots__ = ("tensor", "index")

    def __init__(self, tensor, index):
        self.tensor = tensor
        self.index = tuple(raw(i) for i in index) if isinstance(index, tuple) else raw(index)

    def get(self):
        return ops_shape.getitem(self.tensor, self.index)

    def add(self, values):
        """``tensor`` with ``values`` added at ``index``; a repeated index adds each time."""
        x = self.tensor
        picked = np.shape(np.empty(x.shape, dtype=bool)[self.index])
        return x + ops_shape._scatter(graph.broadcast_to(values, picked), x.shape, self.index)

    def set(self, values):
        """``tensor`` with ``values`` put at ``index`` (which must not repeat an entry)."""
        x = self.tensor
        hits = np.zeros(x.shape, dtype=np.int64)
        np.add.at(hits, self.index, 1)
        if (hits > 1).any():
            raise InputError("at[...].set: the index names an entry more than once")
        return ops.where(hits > 0, self.add(values) - x, x)


def _reshape(self, *shape):
    return ops_shape.reshape(self, shape[0] if len(shape) == 1 else shape)


def _transpose(self, *axes):
    return ops_shape.transpose(self, (axes[0] if len(axes) == 1 else axes) if axes else None)


# (name, function of (self, other)): the binary operators and their reflected forms
_BINARY = {
    "add": ops.add, "sub": ops.sub, "mul": ops.mul, "truediv": ops.div, "pow": ops.pow,
    "matmul": ops_shape.matmul, "mod": ops_math.mod,
    "floordiv": lambda x, y: ops_math.floor(ops.div(x, y)),
}


def _attach():
    for name, op in _BINARY.items():
        setattr(Tensor, f"__{name}__", lambda self, other, op=op: op(self, other))
        setattr(Tensor, f"__r{name}__", lambda self, other, op=op: op(other, self))
    Tensor.__neg__ = lambda self: ops.neg(self)
    Tensor.__pos__ = lambda self: self
    Tensor.__abs__ = lambda self: ops.abs(self)
    Tensor.__getitem__ = lambda self, index: ops_shape.getitem(self, index)
    Tensor.T = property(lambda self: ops_shape.transpose(self))
    Tensor.backward = backward
    Tensor.sum, Tensor.mean, Tensor.max = _sum, _mean, _max
    Tensor.reshape, Tensor.transpose = _reshape, _transpose
    Tensor.exp = lambda self: ops.exp(self)
    Tensor.log = lambda self: ops.log(self)
    Tensor.min, Tensor.prod, Tensor.var, Tensor.std = _min, _prod, _var, _std
    Tensor.cumsum = lambda self, axis=None: ops_reduce.cumsum(self, axis)
    Tensor.cumprod = lambda self, axis=None: ops_reduce.cumprod(self, axis)
    Tensor.ravel = Tensor.flatten = lambda self: ops_shape.reshape(self, (-1,))
    Tensor.squeeze, Tensor.clip = _squeeze, _clip
    Tensor.astype = lambda self, dtype: ops_math.astype(self, dtype)
    Tensor.swapaxes = lambda self, axis1, axis2: ops_index.swapaxes(self, axis1, axis2)
    Tensor.dot = lambda self, other: ops_index.dot(self, other)
    Tensor.trace = lambda self, offset=0, axis1=0, axis2=1: ops_index.trace(self, offset, axis1,
                                                                            axis2)
    Tensor.diagonal = lambda self, offset=0, axis1=0, axis2=1: ops_index.diagonal(
        self, offset, axis1, axis2)
    Tensor.round = lambda self, decimals=0: ops_math.round(self, decimals)
    Tensor.take = lambda self, indices, axis=None: ops_index.take(self, indices, axis)
    Tensor.at = property(_At)
    # not differentiable: positions and truth values of the entries, as NumPy arrays
    Tensor.argmax = lambda self, axis=None: np.argmax(self.numpy(), axis)
    Tensor.argmin = lambda self, axis=None: np.argmin(self.numpy(), axis)
    Tensor.argsort = lambda self, axis=-1: np.argsort(self.numpy(), axis, kind="stable")
    Tensor.tolist = lambda self: self.numpy().tolist()


_attach()
