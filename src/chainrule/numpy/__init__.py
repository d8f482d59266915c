"""``import chainrule.numpy as cnp``: NumPy's functions with NumPy's names and signatures,
differentiable in reverse and forward mode, to any order (as ``autograd.numpy`` and ``jax.numpy``).

Called on plain arrays and numbers, each function is NumPy's own and returns NumPy's result;
called with a Tensor among its arguments (inside ``cr.grad``, ``cr.jvp``, ``cr.hessian``, or on a
``requires_grad`` tensor), it runs the engine's rows and returns a Tensor. ``cnp.linalg`` holds
inv, solve, det, slogdet, cholesky, matrix_power, multi_dot and norm. docs/numpy.md lists every
function with the rows it is made of, and what is not covered.

NumPy's own functions called on a Tensor (``np.exp(t)``, ``np.sum(t)``) run these twins, or
raise a TypeError naming what to do: never a silent, non-differentiable result.

>>> import numpy as np, chainrule as cr, chainrule.numpy as cnp
>>> def f(x):
...     return cnp.sum(cnp.tanh(x) ** 2) + cnp.prod(x) + cnp.std(x)
>>> cr.check_grads(f, np.array([0.5, -1.0, 2.0]), modes=("fwd", "rev"), order=2)
>>> cnp.var(np.array([1.0, 2.0, 3.0]))          # plain arrays in, NumPy's result out
np.float64(0.6666666666666666)
>>> np.exp(cr.tensor([0.0]))                     # NumPy's function, the differentiable twin
tensor([1.])
"""

from __future__ import annotations

import sys as _sys

import numpy as _np

from chainrule.numpy import _arrays, _create, _elementwise, _products, _reductions, linalg
from chainrule.numpy._dispatch import install as _install
from chainrule.numpy._wrap import COVERAGE, NOT_DIFFERENTIABLE

_MODULES = (_elementwise, _reductions, _arrays, _products, _create)
for _module in _MODULES:  # the functions of each part, under NumPy's names
    for _name, _function in vars(_module).items():
        if hasattr(_function, "numpy_function") and not _name.startswith("_"):
            globals()[_name] = _function
_NAMES = sorted({n for n in COVERAGE if "." not in n} | set(NOT_DIFFERENTIABLE))
del _module, _name, _function

# NumPy's constants and types, so that code written for ``import numpy as np`` keeps working
pi, e, inf, nan, newaxis = _np.pi, _np.e, _np.inf, _np.nan, _np.newaxis
float16, float32, float64, int32, int64, bool_ = (_np.float16, _np.float32, _np.float64,
                                                  _np.int32, _np.int64, _np.bool_)
ndarray, dtype, random = _np.ndarray, _np.dtype, _np.random

__all__ = [*_NAMES, "linalg", "pi", "e", "inf", "nan", "newaxis", "float16", "float32",
           "float64", "int32", "int64", "bool_", "ndarray", "dtype", "random"]

_install(_sys.modules[__name__], linalg)
