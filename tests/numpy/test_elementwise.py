"""Every elementwise function of chainrule.numpy: both modes to order 2 over random shapes
with broadcasting, and NumPy's values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

import chainrule.numpy as cnp
from tests.numpy.common import (
    SETTINGS,
    assert_values_like_numpy,
    check,
    one_shape,
    seeds,
    two_shapes,
    values,
)

UNARY = {  # name -> the domain its values are drawn from
    "negative": "any", "positive": "any", "absolute": "off-kink", "abs": "off-kink",
    "fabs": "off-kink", "exp": "any", "log": "positive", "sqrt": "positive", "sin": "any",
    "cos": "any", "tanh": "any", "square": "any", "reciprocal": "off-kink", "deg2rad": "any",
    "radians": "any", "rad2deg": "any", "degrees": "any", "sinc": "any", "fix": "grid",
    "real": "any", "conj": "any", "conjugate": "any", "imag": "any", "tan": "unit",
    "arcsin": "unit", "arccos": "unit", "arctan": "any", "sinh": "any", "cosh": "any",
    "arcsinh": "any", "arccosh": "above1", "arctanh": "unit", "exp2": "any", "expm1": "any",
    "log2": "positive", "log10": "positive", "log1p": "positive", "cbrt": "off-kink",
    "sign": "off-kink", "floor": "grid", "ceil": "grid", "rint": "grid", "trunc": "grid",
    "round": "grid", "around": "grid", "nan_to_num": "any",
}
BINARY = {  # name -> the domains of x1 and x2
    "add": ("any", "any"), "subtract": ("any", "any"), "multiply": ("any", "any"),
    "divide": ("any", "off-kink"), "true_divide": ("any", "off-kink"),
    "power": ("positive", "any"), "pow": ("positive", "any"),
    "float_power": ("positive", "any"), "maximum": ("grid", "grid2"),
    "minimum": ("grid2", "grid"), "fmax": ("grid", "grid2"), "fmin": ("grid2", "grid"),
    "arctan2": ("any", "off-kink"), "hypot": ("off-kink", "off-kink"),
    "logaddexp": ("any", "any"), "logaddexp2": ("any", "any"), "mod": ("any", "positive"),
    "remainder": ("any", "positive"), "fmod": ("any", "positive"),
    "floor_divide": ("grid", "positive"), "copysign": ("off-kink", "off-kink"),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(shape=one_shape, seed=seeds)
def test_unary(name, shape, seed):
    x = values(np.random.default_rng(seed), shape, UNARY[name])
    f = getattr(cnp, name)
    check(lambda x: f(x) * 1.5, x)  # * 1.5: a non-trivial cotangent for the linear ones
    assert_values_like_numpy(f, getattr(np, name), x)


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(shapes=two_shapes, seed=seeds)
def test_binary_with_broadcasting(name, shapes, seed):
    rng = np.random.default_rng(seed)
    kinds = BINARY[name]
    x, y = (values(rng, s, k) for s, k in zip(shapes.input_shapes, kinds))
    f = getattr(cnp, name)
    check(f, x, y)
    assert_values_like_numpy(f, getattr(np, name), x, y)


@SETTINGS
@given(shape=one_shape, seed=seeds)
def test_clip_where_and_round_with_their_arguments(shape, seed):
    rng = np.random.default_rng(seed)
    x = values(rng, shape, "grid")
    check(lambda x: cnp.clip(x, -1.05, 1.05), x)
    check(lambda x: cnp.clip(x, None, 0.5), x)
    check(lambda x: cnp.round(x * 7.0, 1) * x, x)
    condition = rng.random(shape) > 0.5
    check(lambda x: cnp.where(condition, x, x * x), x)
    assert_values_like_numpy(lambda x: cnp.clip(x, 0.0, None), lambda x: np.clip(x, 0.0, None),
                             x)


def test_piecewise_constant_functions_have_derivative_zero():
    import chainrule as cr
    x = np.array([-1.7, -0.3, 0.0, 0.4, 2.5])
    for name in ("sign", "floor", "ceil", "rint", "trunc", "fix", "round"):
        f = getattr(cnp, name)
        grad = cr.grad(lambda x, f=f: cnp.sum(f(x)))(x)
        assert np.array_equal(grad, np.zeros(5)), name


def test_nan_to_num_passes_the_gradient_only_where_x_is_finite():
    import chainrule as cr
    x = np.array([1.0, np.nan, np.inf, -np.inf, -2.0])
    grad = cr.grad(lambda x: cnp.sum(cnp.nan_to_num(x, posinf=9.0, neginf=-9.0) * 3.0))(x)
    assert np.array_equal(grad, [3.0, 0.0, 0.0, 0.0, 3.0])


def test_fmax_ignores_nan_where_maximum_propagates_it():
    import chainrule as cr
    x, y = np.array([1.0, np.nan, 2.0]), np.array([np.nan, 3.0, 2.0])
    assert np.array_equal(cr.grad(lambda x: cnp.sum(cnp.fmax(x, y)))(x), [1.0, 0.0, 0.5])
    assert np.array_equal(cr.grad(lambda y: cnp.sum(cnp.fmin(x, y)))(y), [0.0, 1.0, 0.5])
