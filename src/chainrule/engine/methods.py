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

from chainrule.engine import graph, ops, ops_shape
from chainrule.engine.tensor import Tensor


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


def _reshape(self, *shape):
    return ops_shape.reshape(self, shape[0] if len(shape) == 1 else shape)


def _transpose(self, *axes):
    return ops_shape.transpose(self, (axes[0] if len(axes) == 1 else axes) if axes else None)


# (name, function of (self, other)): the binary operators and their reflected forms
_BINARY = {
    "add": ops.add, "sub": ops.sub, "mul": ops.mul, "truediv": ops.div, "pow": ops.pow,
    "matmul": ops_shape.matmul,
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


_attach()
