"""The primitive table, continued: NumPy's other elementwise functions, each a row built from its
partial derivatives with :func:`~chainrule.engine.ops.elementwise` (both modes from one formula).

The partials are written with the engine's own ops, so every row can be differentiated again.
Functions that are piecewise constant (sign, floor, ceil, rint, trunc, round) have derivative 0
wherever it exists, and 0 is what their rows give everywhere, as in JAX and autograd.

>>> import chainrule as cr
>>> cr.grad(tan)(0.0), cr.grad(log1p)(1.0), cr.grad(floor)(2.5)   # sec² 0, 1/(1 + x), 0
(array(1.), array(0.5), array(0.))
>>> cr.grad(cr.grad(sinc))(0.0)     # -π²/3, from the Maclaurin series at 0 (as JAX does)
array(-3.28986813)
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.engine.graph import _EMPTY, Primitive, _dtype, _shape, apply
from chainrule.engine.ops import (
    ONE,
    _tie_weights,
    elementwise,
    exp,
    sin,
    sqrt,
    where,
)
from chainrule.engine.tensor import Tensor, raw, refuse_complex

LN2, LN10 = math.log(2.0), math.log(10.0)


def _zero(g, out, *args, **params):
    """The rule of a piecewise-constant function: a zero cotangent (tangent) of out's shape."""
    return np.zeros(_shape(out), _dtype(out))


def _constant_row(name, forward):
    """A row whose derivative is 0 (sign, floor, ...): no product with g, so no inf * 0."""
    return Primitive(name, forward, vjp=(_zero,), jvp=(_zero,))


def _nan_ignoring(x, y, dtype, smaller=False):
    """d fmax(x, y)/dx (or fmin's): they ignore a nan, so x takes it all where only y is nan,
    and otherwise the weights of maximum (minimum)."""
    x, y = raw(x), raw(y)
    shared = _tie_weights(y, x, dtype) if smaller else _tie_weights(x, y, dtype)
    return np.where(np.isnan(x), 0.0, np.where(np.isnan(y), 1.0, shared)).astype(dtype)


def _sinc_coefficient(k):
    """The k-th derivative of sinc x = sin(πx)/(πx) at 0: the Maclaurin series
    Σ (-1)^n (πx)^(2n) / (2n+1)! gives (-1)^(k/2) π^k / (k+1) for even k, 0 for odd k."""
    return 0.0 if k % 2 else (-1.0) ** (k // 2) * math.pi ** k / (k + 1)


# -- THE TABLE, continued: (out, x[, y]) -> ∂out/∂x[, ∂out/∂y] ---------------------------------
TAN = elementwise("tan", np.tan, (lambda out, x: 1 + out * out,))
ARCSIN = elementwise("arcsin", np.arcsin, (lambda out, x: 1 / sqrt(1 - x * x),))
ARCCOS = elementwise("arccos", np.arccos, (lambda out, x: -1 / sqrt(1 - x * x),))
ARCTAN = elementwise("arctan", np.arctan, (lambda out, x: 1 / (1 + x * x),))
SINH = elementwise("sinh", np.sinh, (lambda out, x: cosh(x),))
COSH = elementwise("cosh", np.cosh, (lambda out, x: sinh(x),))
ARCSINH = elementwise("arcsinh", np.arcsinh, (lambda out, x: 1 / sqrt(x * x + 1),))
ARCCOSH = elementwise("arccosh", np.arccosh, (lambda out, x: 1 / sqrt(x * x - 1),))
ARCTANH = elementwise("arctanh", np.arctanh, (lambda out, x: 1 / (1 - x * x),))
EXP2 = elementwise("exp2", np.exp2, (lambda out, x: out * LN2,))
EXPM1 = elementwise("expm1", np.expm1, (lambda out, x: out + 1,))
LOG2 = elementwise("log2", np.log2, (lambda out, x: 1 / (x * LN2),))
LOG10 = elementwise("log10", np.log10, (lambda out, x: 1 / (x * LN10),))
LOG1P = elementwise("log1p", np.log1p, (lambda out, x: 1 / (1 + x),))
CBRT = elementwise("cbrt", np.cbrt, (lambda out, x: 1 / (3 * out * out),))
ARCTAN2 = elementwise("arctan2", np.arctan2, (lambda out, y, x: x / (x * x + y * y),
                                              lambda out, y, x: -y / (x * x + y * y)))
HYPOT = elementwise("hypot", np.hypot, (lambda out, x, y: x / out, lambda out, x, y: y / out))
# logaddexp's partials are read off the output: e^x / (e^x + e^y) = e^(x - out), never overflowing
LOGADDEXP = elementwise("logaddexp", np.logaddexp, (lambda out, x, y: exp(x - out),
                                                    lambda out, x, y: exp(y - out)))
LOGADDEXP2 = elementwise("logaddexp2", np.logaddexp2, (lambda out, x, y: exp2(x - out),
                                                       lambda out, x, y: exp2(y - out)))
FMAX = elementwise("fmax", np.fmax, (lambda out, x, y: _nan_ignoring(x, y, _dtype(out)),
                                     lambda out, x, y: _nan_ignoring(y, x, _dtype(out))))
FMIN = elementwise("fmin", np.fmin, (lambda out, x, y: _nan_ignoring(x, y, _dtype(out), True),
                                     lambda out, x, y: _nan_ignoring(y, x, _dtype(out), True)))
# x mod y = x - y floor(x / y) (Python's sign rule); fmod truncates instead (C's). The quotient
# is piecewise constant, so ∂/∂y is minus it, a constant array, as JAX takes it.
MOD = elementwise("mod", np.mod, (ONE, lambda out, x, y: -np.floor(raw(x) / raw(y))))
FMOD = elementwise("fmod", np.fmod, (ONE, lambda out, x, y: -np.trunc(raw(x) / raw(y))))
# nan_to_num passes the gradient where x is finite; the entries it replaces are constants
NAN_TO_NUM = elementwise("nan_to_num", lambda x, nan, posinf, neginf: np.nan_to_num(
    x, nan=nan, posinf=posinf, neginf=neginf), (lambda out, x, **_: np.isfinite(raw(x)),))
SIGN = _constant_row("sign", np.sign)
FLOOR = _constant_row("floor", np.floor)
CEIL = _constant_row("ceil", np.ceil)
RINT = _constant_row("rint", np.rint)
TRUNC = _constant_row("trunc", np.trunc)
ROUND = _constant_row("round", lambda x, decimals: np.round(x, decimals))
# astype between float types: the cotangent goes back in the input's precision
ASTYPE = Primitive("astype", lambda x, dtype: np.asarray(x).astype(dtype),
    vjp=(lambda g, out, x, dtype: astype(g, _dtype(x)),),
    jvp=(lambda t, out, x, dtype: astype(t, dtype),))
# sinc's k-th derivative at exactly 0, a constant of x's shape; its own derivative is the
# (k+1)-th (JAX's _sinc_maclaurin). Away from 0, sinc is composed: sin(πx) / (πx).
SINC_AT_ZERO = Primitive("sinc_at_zero", lambda x, k: np.full(np.shape(x), _sinc_coefficient(k),
                                                              np.result_type(x, 1.0)),
    vjp=(lambda g, out, x, k: g * _sinc_at_zero(x, k + 1),),
    jvp=(lambda t, out, x, k: t * _sinc_at_zero(x, k + 1),))


# -- the public functions --------------------------------------------------------------------------
def _unary(prim, doc):
    def op(x):
        return apply(prim, (x,), _EMPTY)
    op.__name__ = op.__qualname__ = prim.name
    op.__doc__ = doc
    op.prim = prim
    return op


def _binary(prim, doc):
    def op(x, y):
        return apply(prim, (x, y), _EMPTY)
    op.__name__ = op.__qualname__ = prim.name
    op.__doc__ = doc
    op.prim = prim
    return op


tan = _unary(TAN, "Tangent (d/dx = 1 + tan² x).")
arcsin = _unary(ARCSIN, "Inverse sine (d/dx = 1/√(1 - x²)).")
arccos = _unary(ARCCOS, "Inverse cosine (d/dx = -1/√(1 - x²)).")
arctan = _unary(ARCTAN, "Inverse tangent (d/dx = 1/(1 + x²)).")
sinh = _unary(SINH, "Hyperbolic sine (d/dx = cosh x).")
cosh = _unary(COSH, "Hyperbolic cosine (d/dx = sinh x).")
arcsinh = _unary(ARCSINH, "Inverse hyperbolic sine (d/dx = 1/√(x² + 1)).")
arccosh = _unary(ARCCOSH, "Inverse hyperbolic cosine (d/dx = 1/√(x² - 1), x > 1).")
arctanh = _unary(ARCTANH, "Inverse hyperbolic tangent (d/dx = 1/(1 - x²)).")
exp2 = _unary(EXP2, "2**x (d/dx = 2**x ln 2).")
expm1 = _unary(EXPM1, "e**x - 1, accurate near 0 (d/dx = e**x).")
log2 = _unary(LOG2, "Base-2 logarithm (d/dx = 1/(x ln 2)).")
log10 = _unary(LOG10, "Base-10 logarithm (d/dx = 1/(x ln 10)).")
log1p = _unary(LOG1P, "log(1 + x), accurate near 0 (d/dx = 1/(1 + x)).")
cbrt = _unary(CBRT, "Cube root (d/dx = 1/(3 ∛x²)).")
sign = _unary(SIGN, "-1, 0 or 1 (derivative 0).")
floor = _unary(FLOOR, "Round down (derivative 0).")
ceil = _unary(CEIL, "Round up (derivative 0).")
rint = _unary(RINT, "Round to the nearest integer (derivative 0).")
trunc = _unary(TRUNC, "Round toward zero (derivative 0).")
arctan2 = _binary(ARCTAN2, "The angle of the point (x, y): arctan2(y, x), y first as in NumPy.")
hypot = _binary(HYPOT, "√(x² + y²) without overflow (d/dx = x / hypot).")
logaddexp = _binary(LOGADDEXP, "log(e**x + e**y), stable (d/dx = e**(x - out)).")
logaddexp2 = _binary(LOGADDEXP2, "log2(2**x + 2**y), stable.")
fmax = _binary(FMAX, "Elementwise maximum ignoring nan; ties share the gradient equally.")
fmin = _binary(FMIN, "Elementwise minimum ignoring nan; ties share the gradient equally.")
mod = _binary(MOD, "x mod y with the sign of y (NumPy's mod and remainder; d/dx = 1).")
fmod = _binary(FMOD, "C's remainder, with the sign of x (d/dx = 1).")


def round(x, decimals=0):
    """Round to ``decimals`` places (derivative 0).
    >>> round(np.array([0.123, 2.5]), 1)
    array([0.1, 2.5])
    """
    return apply(ROUND, (x,), {"decimals": decimals})


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """nan and ±inf replaced by numbers; the gradient passes only where x is finite.
    >>> nan_to_num(np.array([np.nan, 1.0]))
    array([0., 1.])
    """
    return apply(NAN_TO_NUM, (x,), {"nan": nan, "posinf": posinf, "neginf": neginf})


def astype(x, dtype):
    """``x`` as ``dtype``: differentiable between float types; to an integer or boolean type
    the result is a constant (its derivative is 0, as JAX's float0).
    >>> astype(np.array([1.7, -0.2]), np.float32)
    array([ 1.7, -0.2], dtype=float32)
    """
    dtype = np.dtype(dtype)
    refuse_complex(np.empty(0, dtype), "astype", "the new dtype")
    if dtype.kind != "f":
        value = np.asarray(raw(x)).astype(dtype)
        return Tensor(value) if type(x) is Tensor else value
    return apply(ASTYPE, (x,), {"dtype": dtype})


def _sinc_at_zero(x, k):
    return apply(SINC_AT_ZERO, (x,), {"k": k})


def sinc(x):
    """sin(πx)/(πx), 1 at 0; every derivative is exact at 0 too (JAX's construction).
    >>> sinc(np.array([0.0, 0.5]))
    array([1.        , 0.63661977])
    """
    at_zero = raw(x) == 0
    if not np.any(at_zero):
        return sin(math.pi * x) / (math.pi * x)
    safe = where(at_zero, 1.0, x)  # no 0/0 in the branch not taken, nor in its derivatives
    return where(at_zero, _sinc_at_zero(x, 0), sin(math.pi * safe) / (math.pi * safe))

