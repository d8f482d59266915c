"""THE primitive table: one row per op, elementwise ops and reductions.

An elementwise op has a diagonal Jacobian, so its reverse-mode rule (pull the output's
cotangent ``g`` back to an argument) and its forward-mode rule (push an argument's tangent
``t`` to the output) are one and the same product with the partial derivative: ``g ⊙ ∂out/∂x``
and ``t ⊙ ∂out/∂x``. Those rows give the partials once, ``partial(out, *args, **params)``, and
:func:`elementwise` builds both rules from them (JAX's ``defjvp`` with ``defvjp``, autograd's
``def_linear`` for the linear ones, whose partial is a constant: ``ONE`` or ``MINUS_ONE``).
Reductions and softmax write the pair apart, since there the two rules differ (a reduction's
vjp broadcasts back, its jvp reduces). BP2's ``δ^l = (δ^{l+1} W) ⊙ σ'(z)`` is ``matmul`` then
``mul``. Rules are written with these very ops, so they can be differentiated again
(``hessian``, ``grad(grad)``). Rules may return a result with the broadcast shape of the op;
graph.py un-broadcasts cotangents (``sum_to``) and broadcasts tangents (``broadcast_to``).
Shape ops (reshape, getitem, matmul, ...) are rows of the same table, in ``ops_shape.py``.

>>> import chainrule as cr
>>> cr.grad(lambda x: cr.sum(cr.exp(x)))(np.zeros(2))
array([1., 1.])
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from chainrule.engine.graph import (
    _EMPTY,
    Primitive,
    _dtype,
    _shape,
    apply,
    broadcast_to,
)
from chainrule.engine.ops_shape import reshape
from chainrule.engine.tensor import raw


# -- small helpers used by the rules -------------------------------------------------------------
def _keepdims_shape(shape, axis):
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _unreduce(g, x, axis, keepdims):
    """Broadcast the cotangent of a reduction back to the shape of its input."""
    if not keepdims:
        g = reshape(g, _keepdims_shape(_shape(x), axis))
    return broadcast_to(g, _shape(x))


def _tie_weights(x, y, dtype):
    """d max(x, y)/dx: 1 where x > y, 0 where x < y, and 1/2 at ties (the two share)."""
    x, y = raw(x), raw(y)
    return np.where(x > y, 1.0, np.where(x == y, 0.5, 0.0)).astype(dtype)


def _max_weights(x, out, axis, keepdims):
    """d max(x)/dx: 1 at the maximum; ties split it evenly (k maxima get 1/k each)."""
    x, m = raw(x), raw(out)
    if not keepdims:
        m = np.reshape(m, _keepdims_shape(x.shape, axis))
    mask = x == m
    return (mask / mask.sum(axis=axis, keepdims=True)).astype(x.dtype)


def _safe_log(x):
    """log x where x > 0, else 0 (d x**y / dy = x**y ln x, taken as 0 where x <= 0)."""
    if isinstance(x, int | float):  # a Python number stays one (keeps float32 float32)
        return math.log(x) if x > 0 else 0.0
    return log(where(raw(x) > 0, x, 1.0))


def _pow_partial(x, y):
    """d x**y / dx = y x**(y-1), and 0 where y = 0 (as JAX and autograd: x**0 is the constant 1,
    also at x = 0, where y x**(y-1) would be 0 * inf). Where y = 0, x is replaced by 1 before
    the power, so that differentiating this partial again meets no inf either."""
    if type(y) is float or type(y) is int:  # a Python exponent: x ** 2, x ** 0.5 (usually)
        return y * x ** (y - 1) if y != 0 else 0.0
    exponent = raw(y)
    if np.count_nonzero(exponent) == exponent.size:  # no zero (the cheapest check NumPy has)
        return y * x ** (y - 1)
    zero = exponent == 0
    return where(zero, 0.0, y * where(zero, 1.0, x) ** (y - 1))


def _sigmoid(x):
    return np.exp(-np.logaddexp(0, -x))  # = 1 / (1 + e^-x), without overflow for x << 0


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _leaky(x, slope):
    return np.where(x > 0, x, x * slope)


def _mask(x, lo, hi):
    x = raw(x)
    return (x >= lo) & (x <= hi)


# -- building a row from its partial derivatives -------------------------------------------------
ONE, MINUS_ONE = "1", "-1"  # constant partials: the rule passes g (or -g) on without a product


def _times(partial, n_args):
    """The rule ``g ↦ g ⊙ partial(out, *args)``, for a cotangent and a tangent alike.

    Written out for one and two arguments without parameters (most rows): a rule runs once per
    node and pass, and packing ``*args, **params`` would cost more than the product's call.
    """
    if partial is ONE:
        return lambda g, out, *args, **params: g
    if partial is MINUS_ONE:
        return lambda g, out, *args, **params: -g
    code = partial.__code__
    if not code.co_flags & 0x0C and code.co_argcount == 1 + n_args:   # (out, x) or (out, x, y)
        if n_args == 1:
            return lambda g, out, x: g * partial(out, x)
        if n_args == 2:
            return lambda g, out, x, y: g * partial(out, x, y)
    return lambda g, out, *args, **params: g * partial(out, *args, **params)


def elementwise(name, forward, partials):
    """A row for an elementwise op from ∂out/∂(each argument): both modes' rules in one."""
    rules = tuple(_times(p, len(partials)) for p in partials)
    return Primitive(name, forward, vjp=rules, jvp=rules)


# -- THE TABLE (elementwise and reductions; shape ops are in ops_shape.py) ------------------------
# elementwise rows: (out, x, y) -> ∂out/∂x, ∂out/∂y
ADD = elementwise("add", np.add, (ONE, ONE))
SUB = elementwise("sub", np.subtract, (ONE, MINUS_ONE))
MUL = elementwise("mul", np.multiply, (lambda out, x, y: y, lambda out, x, y: x))
DIV = elementwise("div", np.true_divide, (lambda out, x, y: 1 / y, lambda out, x, y: -out / y))
POW = elementwise("pow", np.power, (lambda out, x, y: _pow_partial(x, y),
                                    lambda out, x, y: out * _safe_log(x)))
MAXIMUM = elementwise("maximum", np.maximum, (lambda out, x, y: _tie_weights(x, y, _dtype(out)),
                                              lambda out, x, y: _tie_weights(y, x, _dtype(out))))
MINIMUM = elementwise("minimum", np.minimum, (lambda out, x, y: _tie_weights(y, x, _dtype(out)),
                                              lambda out, x, y: _tie_weights(x, y, _dtype(out))))
NEG = elementwise("neg", np.negative, (MINUS_ONE,))
EXP = elementwise("exp", np.exp, (lambda out, x: out,))
LOG = elementwise("log", np.log, (lambda out, x: 1 / x,))
SQRT = elementwise("sqrt", np.sqrt, (lambda out, x: 0.5 / out,))
SIN = elementwise("sin", np.sin, (lambda out, x: cos(x),))
COS = elementwise("cos", np.cos, (lambda out, x: -sin(x),))
ABS = elementwise("abs", np.abs, (lambda out, x: np.sign(raw(x)),))  # sign x, 0 at x = 0
TANH = elementwise("tanh", np.tanh, (lambda out, x: 1 - out * out,))
# NOTE: sigmoid is fused (not 1 / (1 + exp(-x))) so that its derivative is read off the
# output, σ' = σ(1 - σ) (Nielsen, ch. 2), and exp(-x) never overflows for very negative x.
SIGMOID = elementwise("sigmoid", _sigmoid, (lambda out, x: out * (1 - out),))
RELU = elementwise("relu", lambda x: np.maximum(x, 0),  # derivative taken as 0 at x = 0
                   (lambda out, x: raw(x) > 0,))
LEAKY_RELU = elementwise("leaky_relu", _leaky,
                         (lambda out, x, slope: np.where(raw(x) > 0, 1.0, slope).astype(
                             _dtype(out)),))
# clip: the gradient passes where lo <= x <= hi (ends included), 0 outside
CLIP = elementwise("clip", lambda x, lo, hi: np.clip(x, lo, hi),
                   (lambda out, x, lo, hi: _mask(x, lo, hi),))
# where selects rather than multiplies (an inf cotangent of the branch not taken must not
# become inf · 0 = nan), so its rules are written out; the condition is not differentiable
WHERE = Primitive("where", np.where,
    vjp=(None, lambda g, out, c, x, y: where(c, g, 0), lambda g, out, c, x, y: where(c, 0, g)),
    jvp=(None, lambda t, out, c, x, y: where(c, t, 0), lambda t, out, c, x, y: where(c, 0, t)))

# reductions and softmax: (g: output cotangent, t: input tangent), the two rules differ
SUM = Primitive("sum", np.sum,
    vjp=(lambda g, out, x, axis, keepdims: _unreduce(g, x, axis, keepdims),),
    jvp=(lambda t, out, x, axis, keepdims: sum(t, axis, keepdims),))
MEAN = Primitive("mean", np.mean,
    vjp=(lambda g, out, x, axis, keepdims:
         _unreduce(g, x, axis, keepdims) / (_size(x) // builtins.max(_size(out), 1)),),
    jvp=(lambda t, out, x, axis, keepdims: mean(t, axis, keepdims),))
MAX = Primitive("max", np.max,
    vjp=(lambda g, out, x, axis, keepdims:
         _unreduce(g, x, axis, keepdims) * _max_weights(x, out, axis, keepdims),),
    jvp=(lambda t, out, x, axis, keepdims:
         sum(t * _max_weights(x, out, axis, keepdims), axis, keepdims),))
# NOTE: softmax and log_softmax are fused rather than composed from exp, sum and div: the
# forward pass subtracts the row maximum (no overflow), and the rules need only the output,
# δ = s ⊙ (g − Σ g s) and δ = g − e^out Σ g, instead of a graph of five nodes.
SOFTMAX = Primitive("softmax", _softmax,
    vjp=(lambda g, out, x, axis: out * (g - sum(g * out, axis, True)),),
    jvp=(lambda t, out, x, axis: out * (t - sum(t * out, axis, True)),))
LOG_SOFTMAX = Primitive("log_softmax", _log_softmax,
    vjp=(lambda g, out, x, axis: g - exp(out) * sum(g, axis, True),),
    jvp=(lambda t, out, x, axis: t - sum(exp(out) * t, axis, True),))


def _size(x):
    return int(np.prod(_shape(x)))


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


# -- the public functions -----------------------------------------------------------------------
def add(x, y):
    """``x + y``, broadcasting like NumPy.
    >>> add(np.ones(2), 1.0)
    array([2., 2.])
    """
    return apply(ADD, (x, y), _EMPTY)


def sub(x, y):
    """``x - y``.
    >>> sub(3.0, np.array([1.0, 2.0]))
    array([2., 1.])
    """
    return apply(SUB, (x, y), _EMPTY)


def mul(x, y):
    """``x * y`` elementwise.
    >>> mul(np.array([1.0, 2.0]), 3.0)
    array([3., 6.])
    """
    return apply(MUL, (x, y), _EMPTY)


def div(x, y):
    """``x / y``.
    >>> div(1.0, np.array([2.0, 4.0]))
    array([0.5 , 0.25])
    """
    return apply(DIV, (x, y), _EMPTY)


def pow(x, y):
    """``x ** y``; the exponent may be differentiated too (d/dy = x**y ln x, for x > 0).
    >>> import chainrule as cr
    >>> cr.grad(pow, argnums=(0, 1))(2.0, 3.0)  # (3 x^2, x^3 ln x)
    (array(12.), array(5.54517744))
    """
    return apply(POW, (x, y), _EMPTY)


def neg(x):
    """``-x``.
    >>> neg(np.array([1.0, -2.0]))
    array([-1.,  2.])
    """
    return apply(NEG, (x,), _EMPTY)


def exp(x):
    """e**x elementwise (its derivative is itself).
    >>> exp(np.array([0.0, 1.0]))
    array([1.        , 2.71828183])
    """
    return apply(EXP, (x,), _EMPTY)


def log(x):
    """Natural logarithm (d/dx = 1/x).
    >>> log(np.array([1.0, np.e]))
    array([0., 1.])
    """
    return apply(LOG, (x,), _EMPTY)


def sqrt(x):
    """Square root (d/dx = 1 / (2 sqrt x)).
    >>> sqrt(np.array([4.0, 9.0]))
    array([2., 3.])
    """
    return apply(SQRT, (x,), _EMPTY)


def sin(x):
    """Sine (d/dx = cos x).
    >>> sin(np.array([0.0, np.pi / 2]))
    array([0., 1.])
    """
    return apply(SIN, (x,), _EMPTY)


def cos(x):
    """Cosine (d/dx = -sin x).
    >>> cos(np.array([0.0, np.pi]))
    array([ 1., -1.])
    """
    return apply(COS, (x,), _EMPTY)


def abs(x):
    """|x| (d/dx = sign x, taken as 0 at 0).
    >>> abs(np.array([-2.0, 3.0]))
    array([2., 3.])
    """
    return apply(ABS, (x,), _EMPTY)


def tanh(x):
    """Hyperbolic tangent (d/dx = 1 - tanh² x).
    >>> tanh(np.array([0.0]))
    array([0.])
    """
    return apply(TANH, (x,), _EMPTY)


def sigmoid(x):
    """The logistic function σ(z) = 1 / (1 + e^-z), stable for large |z|; σ' = σ(1 - σ).
    >>> sigmoid(np.array([0.0, 1000.0, -1000.0]))
    array([0.5, 1. , 0. ])
    """
    return apply(SIGMOID, (x,), _EMPTY)


def relu(x):
    """max(x, 0) (derivative 1 for x > 0, else 0).
    >>> relu(np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    return apply(RELU, (x,), _EMPTY)


def leaky_relu(x, slope=0.01):
    """x for x > 0, else ``slope * x``.
    >>> leaky_relu(np.array([-1.0, 2.0]), slope=0.1)
    array([-0.1,  2. ])
    """
    return apply(LEAKY_RELU, (x,), {"slope": slope})


def maximum(x, y):
    """Elementwise maximum; at ties x and y share the gradient equally.
    >>> maximum(np.array([1.0, 5.0]), 2.0)
    array([2., 5.])
    """
    return apply(MAXIMUM, (x, y), _EMPTY)


def minimum(x, y):
    """Elementwise minimum; at ties x and y share the gradient equally.
    >>> minimum(np.array([1.0, 5.0]), 2.0)
    array([1., 2.])
    """
    return apply(MINIMUM, (x, y), _EMPTY)


def where(condition, x, y):
    """``x`` where ``condition`` holds, else ``y`` (the condition is not differentiated).
    >>> where(np.array([True, False]), 1.0, np.array([5.0, 6.0]))
    array([1., 6.])
    """
    return apply(WHERE, (np.asarray(raw(condition), dtype=bool), x, y), _EMPTY)


def clip(x, lo, hi):
    """``x`` limited to [lo, hi]; the gradient passes inside (ends included), 0 outside.
    >>> clip(np.array([-2.0, 0.5, 2.0]), -1.0, 1.0)
    array([-1. ,  0.5,  1. ])
    """
    return apply(CLIP, (x,), {"lo": raw(lo), "hi": raw(hi)})


def sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (all axes by default).
    >>> sum(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=0)
    array([4., 6.])
    """
    return apply(SUM, (x,), {"axis": _axis(axis), "keepdims": keepdims})


def mean(x, axis=None, keepdims=False):
    """Mean over ``axis`` (all axes by default).
    >>> mean(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=1)
    array([1.5, 3.5])
    """
    return apply(MEAN, (x,), {"axis": _axis(axis), "keepdims": keepdims})


def max(x, axis=None, keepdims=False):
    """Maximum over ``axis``; entries that tie for the maximum share its gradient evenly.
    >>> import chainrule as cr
    >>> cr.grad(max)(np.array([1.0, 3.0, 3.0]))
    array([0. , 0.5, 0.5])
    """
    return apply(MAX, (x,), {"axis": _axis(axis), "keepdims": keepdims})


def softmax(x, axis=-1):
    """exp(x) / Σ exp(x) along ``axis``, computed without overflow.
    >>> softmax(np.array([0.0, np.log(3.0)]))
    array([0.25, 0.75])
    """
    return apply(SOFTMAX, (x,), {"axis": axis})


def log_softmax(x, axis=-1):
    """log softmax(x) along ``axis``: x - max - log Σ exp(x - max), stable.
    >>> log_softmax(np.array([1000.0, 1000.0]))
    array([-0.69314718, -0.69314718])
    """
    return apply(LOG_SOFTMAX, (x,), {"axis": axis})
