"""NumPy's elementwise functions (its ufuncs and a few more), each one row of the primitive table
or composed from rows. Arguments broadcast as in NumPy; no ``out=``.

>>> import chainrule as cr, chainrule.numpy as cnp
>>> cr.grad(lambda x: cnp.sum(cnp.arctan2(x, 1.0)))(np.array([0.0, 1.0]))   # 1 / (1 + x²)
array([1. , 0.5])
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.engine import ops, ops_math
from chainrule.engine.tensor import raw
from chainrule.numpy._wrap import array, differentiable, values_only

_ROW = "row "


def _identity(x):
    return x


def _unary(numpy_function, engine_function, how, name=None):
    name = name or numpy_function.__name__

    def impl(x):
        return engine_function(array(x))
    impl.__name__ = name
    return differentiable(numpy_function, how, name)(impl)


def _binary(numpy_function, engine_function, how, name=None):
    name = name or numpy_function.__name__

    def impl(x1, x2):
        return engine_function(array(x1), array(x2))
    impl.__name__ = name
    return differentiable(numpy_function, how, name)(impl)


negative = _unary(np.negative, ops.neg, _ROW + "neg")
positive = _unary(np.positive, _identity, "the identity")
absolute = _unary(np.absolute, ops.abs, _ROW + "abs (sign x, 0 at 0)")
abs = _unary(np.abs, ops.abs, _ROW + "abs (sign x, 0 at 0)", "abs")
fabs = _unary(np.fabs, ops.abs, _ROW + "abs (sign x, 0 at 0)")
exp = _unary(np.exp, ops.exp, _ROW + "exp")
log = _unary(np.log, ops.log, _ROW + "log")
sqrt = _unary(np.sqrt, ops.sqrt, _ROW + "sqrt")
sin = _unary(np.sin, ops.sin, _ROW + "sin")
cos = _unary(np.cos, ops.cos, _ROW + "cos")
tanh = _unary(np.tanh, ops.tanh, _ROW + "tanh")
square = _unary(np.square, lambda x: x * x, "composed: mul")
reciprocal = _unary(np.reciprocal, lambda x: 1.0 / x, "composed: div")
deg2rad = _unary(np.deg2rad, lambda x: x * (math.pi / 180), "composed: mul by π/180")
radians = _unary(np.radians, lambda x: x * (math.pi / 180), "composed: mul by π/180")
rad2deg = _unary(np.rad2deg, lambda x: x * (180 / math.pi), "composed: mul by 180/π")
degrees = _unary(np.degrees, lambda x: x * (180 / math.pi), "composed: mul by 180/π")
sinc = _unary(np.sinc, ops_math.sinc, "composed: sin, div, where; at 0 the row sinc_at_zero "
                                      "(its Maclaurin series: exact at every order)")
fix = _unary(np.fix, ops_math.trunc, _ROW + "trunc (derivative 0)", "fix")
real = _unary(np.real, _identity, "the identity (real arrays only)")
conj = _unary(np.conj, _identity, "the identity (real arrays only)", "conj")
conjugate = _unary(np.conjugate, _identity, "the identity (real arrays only)")
imag = _unary(np.imag, lambda x: ops.where(np.ones(np.shape(raw(x)), bool), 0.0, x),
              "composed: where, picking 0 (real arrays only)")
for _name in ("tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh",
              "arctanh", "exp2", "expm1", "log2", "log10", "log1p", "cbrt"):
    globals()[_name] = _unary(getattr(np, _name), getattr(ops_math, _name), _ROW + _name)
for _name in ("sign", "floor", "ceil", "rint", "trunc"):
    globals()[_name] = _unary(getattr(np, _name), getattr(ops_math, _name),
                              _ROW + _name + " (derivative 0)")

add = _binary(np.add, ops.add, _ROW + "add")
subtract = _binary(np.subtract, ops.sub, _ROW + "sub")
multiply = _binary(np.multiply, ops.mul, _ROW + "mul")
divide = _binary(np.divide, ops.div, _ROW + "div")
true_divide = _binary(np.true_divide, ops.div, _ROW + "div", "true_divide")
power = _binary(np.power, ops.pow, _ROW + "pow (d/dx = 0 where the exponent is 0)")
pow = _binary(np.pow, ops.pow, _ROW + "pow (d/dx = 0 where the exponent is 0)", "pow")
float_power = _binary(np.float_power, lambda x, y: ops.pow(ops_math.astype(x, np.float64), y),
                      "composed: astype, pow")
maximum = _binary(np.maximum, ops.maximum, _ROW + "maximum (ties share)")
minimum = _binary(np.minimum, ops.minimum, _ROW + "minimum (ties share)")
mod = _binary(np.mod, ops_math.mod, _ROW + "mod", "mod")
remainder = _binary(np.remainder, ops_math.mod, _ROW + "mod")
floor_divide = _binary(np.floor_divide, lambda x, y: ops_math.floor(x / y),
                       "composed: div, floor (derivative 0)")
copysign = _binary(np.copysign, lambda x, y: ops.abs(x) * np.where(np.signbit(raw(y)), -1.0, 1.0),
                   "composed: abs, mul by ±1 (derivative 0 in the sign's argument)")
for _name in ("fmax", "fmin", "arctan2", "hypot", "logaddexp", "logaddexp2", "fmod"):
    globals()[_name] = _binary(getattr(np, _name), getattr(ops_math, _name), _ROW + _name)


@differentiable(np.round, _ROW + "round (derivative 0)")
def round(a, decimals=0):
    return ops_math.round(array(a), decimals)


@differentiable(np.around, _ROW + "round (derivative 0)")
def around(a, decimals=0):
    return ops_math.round(array(a), decimals)


@differentiable(np.clip, _ROW + "clip (the gradient passes inside [lo, hi], ends included)")
def clip(a, a_min=None, a_max=None, *, min=None, max=None):
    """NumPy's clip (``a_min``/``a_max`` or ``min``/``max``; None for no bound)."""
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    return ops.clip(array(a), -np.inf if lo is None else lo, np.inf if hi is None else hi)


@differentiable(np.nan_to_num, _ROW + "nan_to_num (the gradient passes where x is finite)")
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    return ops_math.nan_to_num(array(x), nan, posinf, neginf)


@differentiable(np.where, _ROW + "where (the condition is not differentiated)")
def where(condition, *xy):
    """NumPy's where: ``x`` where ``condition`` holds, else ``y``; with the condition alone,
    the indices where it holds (``nonzero``)."""
    if not xy:
        return np.nonzero(raw(condition))
    x, y = xy
    return ops.where(condition, array(x), array(y))


for _name, _what in [("greater", "truth values"), ("greater_equal", "truth values"),
                     ("less", "truth values"), ("less_equal", "truth values"),
                     ("equal", "truth values"), ("not_equal", "truth values"),
                     ("logical_and", "truth values"), ("logical_or", "truth values"),
                     ("logical_not", "truth values"), ("logical_xor", "truth values"),
                     ("isnan", "truth values"), ("isinf", "truth values"),
                     ("isfinite", "truth values"), ("signbit", "truth values"),
                     ("isclose", "truth values"), ("allclose", "a truth value"),
                     ("array_equal", "a truth value"), ("all", "a truth value"),
                     ("any", "a truth value")]:
    globals()[_name] = values_only(getattr(np, _name), _what)
del _name, _what
