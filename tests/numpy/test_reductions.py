"""Reductions and scans: both modes to order 2 over random shapes, axes and keepdims, NumPy's
values, and the edges (zeros in prod, zero variance in std, ties in min and max)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
import chainrule.numpy as cnp
from tests.numpy.common import SETTINGS, assert_values_like_numpy, check, one_shape, seeds, values


@st.composite
def axes_of(draw, shape):
    if not shape or draw(st.booleans()):
        return None
    picked = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape),
                           unique=True))
    return picked[0] - len(shape) if len(picked) == 1 else tuple(picked)


REDUCTIONS = ["sum", "mean", "max", "amax", "min", "amin", "ptp", "prod", "var", "std",
              "nansum", "nanmean"]


@pytest.mark.parametrize("name", REDUCTIONS)
@SETTINGS
@given(data=st.data(), shape=one_shape, keepdims=st.booleans(), seed=seeds)
def test_reductions_over_any_axes(name, data, shape, keepdims, seed):
    axis = data.draw(axes_of(shape))
    x = values(np.random.default_rng(seed), shape, "distinct")
    f = getattr(cnp, name)
    check(lambda x: f(x, axis=axis, keepdims=keepdims) * 1.5, x)
    assert_values_like_numpy(f, getattr(np, name), x, axis=axis, keepdims=keepdims)


@pytest.mark.parametrize("name", ["var", "std"])
@SETTINGS
@given(shape=one_shape, ddof=st.integers(0, 1), seed=seeds)
def test_var_and_std_with_ddof(name, shape, ddof, seed):
    x = values(np.random.default_rng(seed), shape + (3,), "any")
    f = getattr(cnp, name)
    check(lambda x: f(x, axis=-1, ddof=ddof), x)
    assert_values_like_numpy(f, getattr(np, name), x, axis=-1, ddof=ddof)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@SETTINGS
@given(data=st.data(), shape=one_shape, seed=seeds)
def test_scans_along_any_axis_or_flattened(name, data, shape, seed):
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1)) if shape else None
    x = values(np.random.default_rng(seed), shape, "any")
    f = getattr(cnp, name)
    check(lambda x: f(x, axis=axis), x)
    assert_values_like_numpy(f, getattr(np, name), x, axis=axis)


@SETTINGS
@given(shape=one_shape, seed=seeds, returned=st.booleans())
def test_average_with_weights_differentiates_both(shape, seed, returned):
    rng = np.random.default_rng(seed)
    x, w = values(rng, shape, "any"), values(rng, shape, "positive")
    check(lambda x, w: cnp.average(x, weights=w), x, w)
    assert_values_like_numpy(lambda x, w: cnp.average(x, weights=w, returned=returned),
                             lambda x, w: np.average(x, weights=w, returned=returned), x, w)


def test_average_with_one_dimensional_weights_along_an_axis():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(2, 3)), np.array([1.0, 2.0, 5.0])
    check(lambda x, w: cnp.average(x, axis=1, weights=w), x, w)
    assert_values_like_numpy(lambda x: cnp.average(x, axis=1, weights=w),
                             lambda x: np.average(x, axis=1, weights=w), x)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_median_odd_and_even(n):
    x = values(np.random.default_rng(n), (2, n), "distinct")
    check(lambda x: cnp.median(x, axis=1), x)
    check(lambda x: cnp.median(x), x)
    assert_values_like_numpy(cnp.median, np.median, x, axis=1, keepdims=True)
    assert_values_like_numpy(cnp.median, np.median, x, keepdims=True)


# -- the edges ------------------------------------------------------------------------------
def test_prod_with_zeros_is_exact_at_first_and_second_order():
    # d/dx_i Π x = Π_{j≠i} x_j: with one zero only that entry's partial survives; with two
    # zeros every first partial is 0 and the one nonzero second partial is ∂²/∂x1∂x3 = x2
    # (autograd divides by x and gives nan here; JAX gives these numbers)
    x = np.array([2.0, 0.0, 3.0])
    assert np.array_equal(cr.grad(cnp.prod)(x), [0.0, 6.0, 0.0])
    assert np.array_equal(cr.hessian(cnp.prod)(x), [[0, 3, 0], [3, 0, 2], [0, 2, 0]])
    two = np.array([0.0, 5.0, 0.0])
    assert np.array_equal(cr.grad(cnp.prod)(two), [0.0, 0.0, 0.0])
    assert np.array_equal(cr.hessian(cnp.prod)(two), [[0, 0, 5], [0, 0, 0], [5, 0, 0]])
    check(lambda x: cnp.prod(x, axis=0), np.array([[0.0, 1.5], [2.0, 0.0], [0.5, 3.0]]))
    check(lambda x: cnp.cumprod(x), np.array([1.5, 0.0, 2.0, 0.0, -1.0]))


def test_std_at_zero_variance_has_gradient_zero():
    # std is a norm of the deviations, ||x - x̄|| / √n: at zero variance it has a kink like |x|
    # at 0 and chainrule takes the least-norm subgradient, 0 (JAX and autograd give nan: 0/0)
    x = np.full(4, 2.5)
    assert np.array_equal(cr.grad(cnp.std)(x), np.zeros(4))
    assert np.array_equal(cr.jvp(cnp.std, (x,), (np.arange(4.0),))[1], 0.0)
    assert np.all(np.isfinite(cr.hessian(cnp.std)(x)))
    assert np.array_equal(cr.grad(lambda x: cnp.linalg.norm(x))(np.zeros(3)), np.zeros(3))


def test_min_and_max_ties_share_the_gradient_evenly():
    x = np.array([1.0, 3.0, 1.0, 3.0])
    assert np.array_equal(cr.grad(cnp.min)(x), [0.5, 0.0, 0.5, 0.0])
    assert np.array_equal(cr.grad(cnp.max)(x), [0.0, 0.5, 0.0, 0.5])


def test_known_values():
    # d var / dx_i = 2 (x_i - x̄) / (n - ddof): for [1, 2, 6], x̄ = 3, ddof 1 -> [-2, -1, 3]
    assert np.allclose(cr.grad(lambda x: cnp.var(x, ddof=1))(np.array([1.0, 2.0, 6.0])),
                       [-2.0, -1.0, 3.0])
    # d cumsum: each x_i is in n - i of the sums -> [3, 2, 1]
    assert np.array_equal(cr.grad(lambda x: cnp.sum(cnp.cumsum(x)))(np.ones(3)), [3, 2, 1])
    # logsumexp's gradient is softmax: at [0, ln 3] it is [1/4, 3/4]
    assert np.allclose(cr.grad(cr.logsumexp)(np.array([0.0, np.log(3.0)])), [0.25, 0.75])


@SETTINGS
@given(data=st.data(), shape=one_shape, keepdims=st.booleans(), seed=seeds)
def test_logsumexp_over_any_axes(data, shape, keepdims, seed):
    axis = data.draw(axes_of(shape))
    x = values(np.random.default_rng(seed), shape, "any") * 3
    check(lambda x: cr.logsumexp(x, axis=axis, keepdims=keepdims), x)
    want = np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))
    np.testing.assert_allclose(cr.logsumexp(x, axis=axis, keepdims=keepdims), want)
