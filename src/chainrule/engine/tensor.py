"""Tensor: a value in a computational graph. No calculus lives here.

The first file of the engine: it imports nothing of chainrule but its errors. The graph
(graph.py) runs primitives on tensors; the operators ``+ - * / ** @``, indexing and methods
such as ``.sum()`` and ``.backward()`` are attached in methods.py, once the ops exist (as HIPS
autograd gives its ArrayBox its operators in numpy_boxes.py).

A ``Tensor`` wraps a NumPy array. A tensor made with ``requires_grad=True`` is a leaf of the
user's graph: operations on it are recorded, and ``y.backward()`` fills ``leaf.grad``.

>>> w = tensor([[1.0, 2.0]], requires_grad=True)
>>> w.shape, w.requires_grad, w.op, w.level
((1, 2), True, None, 0)

How nesting works (the "boxes" of HIPS autograd and JAX). Every transformation (``grad``,
``jvp``, ...) gets a fresh integer *level*; ``requires_grad`` tensors use level 0; plain
constants have level -1. A tensor at level L holds in ``value`` its primal *one level down*:
a NumPy array, or a tensor of a lower level when an outer transformation is also watching.
Each level only ever looks at its own tensors, so ``jacfwd(jacrev(f))`` cannot confuse the
perturbations of its two levels. A tensor is a reverse-mode node (``tangent is None``) or a
forward-mode dual number (``tangent`` holds its directional derivative, pushed along as the
value is computed). A node records ``prim``, ``params``, its ``inputs`` (its arguments as
given) and ``args`` (the same one level down: what its rules work on).
"""

from __future__ import annotations

import numpy as np

from chainrule.errors import InputError


class ComplexValueError(InputError, TypeError):
    """chainrule differentiates real functions of real arrays: a complex value was met.

    A ``TypeError`` (a complex number is the wrong type here) and an ``InputError``.
    """


def refuse_complex(value, who, what):
    """Raise ComplexValueError if ``value`` (an array, a scalar or a tensor) is complex."""
    dtype = np.result_type(complex) if isinstance(value, complex) else getattr(value, "dtype", None)
    if dtype is not None and dtype.kind == "c":
        raise ComplexValueError(f"{who}: {what} is complex (dtype {dtype}); chainrule "
                                "differentiates real functions of real arrays only")


class Tensor:
    """A node: ``value`` (the primal), ``level``, the op that made it and its ``inputs``."""

    __slots__ = ("value", "level", "prim", "inputs", "args", "params", "tangent", "grad")
    __array_priority__ = 1000  # ndarray <op> Tensor defers to the Tensor's reflected operator
    # NumPy's functions on a Tensor (np.exp(t), np.sum(t)): `import chainrule` gives the class
    # __array_ufunc__ and __array_function__, which run chainrule.numpy's differentiable twins
    __array_ufunc__ = None  # (until then NumPy refuses Tensors rather than silently drop them)

    def __init__(self, data, requires_grad=False):
        if isinstance(data, Tensor):
            data = data.numpy()
        value = data if isinstance(data, np.ndarray | np.generic) else _from_python(data)
        refuse_complex(value, "tensor", "the data")
        self.value = value
        self.level = 0 if requires_grad else -1
        self.prim = self.inputs = self.args = self.params = self.tangent = self.grad = None
        if requires_grad and value.dtype.kind != "f":
            raise InputError(f"tensor: requires_grad needs a float array, got dtype {value.dtype}")

    # -- what it holds ---------------------------------------------------------------------
    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        return self.value.dtype

    @property
    def ndim(self):
        return len(self.value.shape)

    @property
    def size(self):
        return int(np.prod(self.value.shape))

    @property
    def requires_grad(self):
        """True for a node that reverse mode tracks (a ``requires_grad`` leaf or anything made
        from one, or a node inside ``cr.grad``)."""
        return self.level >= 0 and self.tangent is None

    @property
    def op(self):
        """Name of the primitive that made this node ("add", "exp", ...); None for a leaf."""
        return None if self.prim is None else self.prim.name

    @property
    def parents(self):
        """The tensors this node was computed from, at its own level (the graph's edges)."""
        if self.inputs is None:
            return ()
        level = self.level
        return tuple(a for a in self.inputs if type(a) is Tensor and a.level == level)

    def numpy(self):
        """The value as a NumPy array (the innermost primal, outside every transformation)."""
        value = self.value
        while type(value) is Tensor:
            value = value.value
        return np.asarray(value)

    def item(self):
        return self.numpy().item()

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def __repr__(self):
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        if self.tangent is not None:
            return f"tensor({body}, tangent at level {self.level})"
        if self.prim is not None:
            return f"tensor({body}, op={self.prim.name})"
        return f"tensor({body}, requires_grad=True)" if self.level >= 0 else f"tensor({body})"

    def __len__(self):
        return len(self.value)

    def __iter__(self):  # rows, each a tensor (indexing past the end is an InputError)
        return (self[i] for i in range(len(self)))

    def __float__(self):
        return float(self.numpy())

    def __bool__(self):
        return bool(self.numpy())

    __hash__ = object.__hash__  # identity: comparisons below return arrays, not bools

    # comparisons are not differentiable: they answer with plain boolean arrays
    def __lt__(self, other):
        return self.numpy() < _plain(other)

    def __le__(self, other):
        return self.numpy() <= _plain(other)

    def __gt__(self, other):
        return self.numpy() > _plain(other)

    def __ge__(self, other):
        return self.numpy() >= _plain(other)

    def __eq__(self, other):
        return self.numpy() == _plain(other)

    def __ne__(self, other):
        return self.numpy() != _plain(other)


def tensor(data, requires_grad=False):
    """Make a Tensor. NumPy arrays keep their dtype; Python scalars and lists become float64.

    >>> tensor([1, 2]).dtype
    dtype('float64')
    >>> tensor(np.zeros(2, dtype=np.float32), requires_grad=True).dtype
    dtype('float32')
    """
    return Tensor(data, requires_grad=requires_grad)


def _from_python(data):
    try:
        return np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as e:
        if isinstance(e, TypeError) and "complex" in str(e):
            refuse_complex(np.asarray(data), "tensor", "the data")
        raise InputError(f"tensor: cannot make a float array from {type(data).__name__}: "
                         f"{e}") from None


def raw(x):
    """The plain array inside ``x`` (through every level of boxing): for locally constant
    factors in the rules (masks, signs, weights)."""
    while type(x) is Tensor:
        x = x.value
    return x


def _plain(x):
    return x.numpy() if isinstance(x, Tensor) else x
