"""How a NumPy function becomes differentiable: NumPy's own result when no Tensor is among the
arguments, the engine's rows when one is (HIPS autograd's ``primitive`` does the same).

Every function registers how it is differentiated in :data:`COVERAGE` (the row of the primitive
table it is, or the rows it is composed from); docs/numpy.md is that table, and a test holds the
two equal.
"""

from __future__ import annotations

import functools

import numpy as np

from chainrule.engine.ops_shape import stack
from chainrule.engine.tensor import Tensor, raw, refuse_complex

COVERAGE: dict[str, str] = {}  # name -> how it is differentiated
NOT_DIFFERENTIABLE: dict[str, str] = {}  # name -> what it returns (indices, truth values, ...)


def has_tensor(args, kwargs=None):
    """Is a Tensor among ``args`` (or inside a list or tuple among them, as in concatenate)?"""
    for a in (*args, *(kwargs or {}).values()):
        if type(a) is Tensor:
            return True
        if isinstance(a, list | tuple) and any(type(b) is Tensor or (
                isinstance(b, list | tuple) and has_tensor(b)) for b in a):
            return True
    return False


def _refuse_complex(args, name):
    for a in args:
        if isinstance(a, list | tuple):
            _refuse_complex(a, name)
        elif type(a) is Tensor or isinstance(a, np.ndarray | np.generic | complex):
            refuse_complex(a, name, "an argument")


def array(x):
    """An argument as the engine takes it: a Tensor or a Python number as it is, a (nested)
    list holding Tensors stacked into one, anything else a NumPy array."""
    if type(x) is Tensor or isinstance(x, np.ndarray | np.generic | float | int):
        return x
    if isinstance(x, list | tuple) and has_tensor(x):
        return stack([array(item) for item in x], 0)
    return np.asarray(x)


def shape_of(x):
    """The shape of an array, a number or a Tensor."""
    return np.shape(raw(x))


def differentiable(numpy_function, how, name=None):
    """Decorate the engine version of ``numpy_function``; ``how`` says which rows it uses."""
    def decorate(impl):
        label = name or impl.__name__

        @functools.wraps(impl)
        def function(*args, **kwargs):
            if not has_tensor(args, kwargs):
                return numpy_function(*args, **kwargs)
            _refuse_complex((*args, *kwargs.values()), label)
            return impl(*args, **kwargs)

        function.__name__ = function.__qualname__ = label
        function.__doc__ = impl.__doc__ or f"NumPy's ``{label}``, differentiable: {how}."
        function.numpy_function = numpy_function
        COVERAGE[_qualified(label, impl)] = how
        return function
    return decorate


def values_only(numpy_function, what, name=None):
    """A function whose result has no derivative (indices, counts, truth values): NumPy's own,
    run on the values of any Tensors among the arguments."""
    label = name or numpy_function.__name__

    @functools.wraps(numpy_function, assigned=("__module__",))
    def function(*args, **kwargs):
        args = [_values(a) for a in args]
        return numpy_function(*args, **{k: _values(v) for k, v in kwargs.items()})

    function.__name__ = function.__qualname__ = label
    function.__doc__ = f"NumPy's ``{label}`` on the values (not differentiable: {what})."
    function.numpy_function = numpy_function
    NOT_DIFFERENTIABLE[label] = what
    return function


def _qualified(label, impl):
    """``inv`` of chainrule.numpy.linalg is ``linalg.inv`` in the tables."""
    return "linalg." + label if impl.__module__.endswith(".linalg") else label


def _values(a):
    if type(a) is Tensor:
        return a.numpy()
    if isinstance(a, list | tuple) and has_tensor(a):
        return type(a)(_values(b) for b in a)
    return a
