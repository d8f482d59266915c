"""Every primitive, reverse and forward mode against central differences, to second order,
over random shapes with broadcasting (hypothesis). Values are drawn away from kinks (relu, abs,
max, clip) and outside the domains' edges (log, sqrt, div), where derivatives are defined."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import chainrule as cr
from chainrule import check_grads
from chainrule.engine.ops import cos, sin

SETTINGS = settings(max_examples=40, deadline=None)
seeds = st.integers(0, 2**32 - 1)
two_shapes = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
one_shape = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


def values(rng, shape, kind="any"):
    """Random values for ``shape``: "any" in [-2, 2], "positive" in [0.5, 2], "off-kink" at
    least 0.1 away from 0, "grid" on k + 0.3 (never within 0.4 of a "grid2" value, k + 0.7)."""
    if kind == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "off-kink":
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 2.0, shape)
    if kind == "grid":
        return rng.integers(-2, 2, shape) + 0.3
    if kind == "grid2":
        return rng.integers(-2, 2, shape) + 0.7
    return rng.uniform(-2.0, 2.0, shape)


UNARY = {
    "neg": (lambda x: -x, "any"),
    "exp": (cr.exp, "any"),
    "log": (cr.log, "positive"),
    "sqrt": (cr.sqrt, "positive"),
    "abs": (cr.abs, "off-kink"),
    "tanh": (cr.tanh, "any"),
    "sigmoid": (cr.sigmoid, "any"),
    "relu": (cr.relu, "off-kink"),
    "leaky_relu": (lambda x: cr.leaky_relu(x, 0.2), "off-kink"),
    "sin": (sin, "any"),
    "cos": (cos, "any"),
    "pow_scalar": (lambda x: x ** 3 + (x * x) ** 1.5 + x ** -1, "positive"),
    "rpow": (lambda x: 2.0 ** x, "any"),
    "clip": (lambda x: cr.clip(x, -1.05, 1.05), "grid"),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(shape=one_shape, seed=seeds)
def test_unary(name, shape, seed):
    f, kind = UNARY[name]
    rng = np.random.default_rng(seed)
    check_grads(f, values(rng, shape, kind))


BINARY = {
    "add": (lambda x, y: x + y, "any", "any"),
    "sub": (lambda x, y: x - y, "any", "any"),
    "mul": (lambda x, y: x * y, "any", "any"),
    "div": (lambda x, y: x / y, "any", "off-kink"),
    "pow": (lambda x, y: x ** y, "positive", "any"),
    "maximum": (cr.maximum, "grid", "grid2"),
    "minimum": (cr.minimum, "grid2", "grid"),
    "where": (lambda x, y: cr.where(np.asarray(x) > 0, x * y, y - x), "off-kink", "any"),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(shapes=two_shapes, seed=seeds)
def test_binary_with_broadcasting(name, shapes, seed):
    f, kind_x, kind_y = BINARY[name]
    rng = np.random.default_rng(seed)
    x_shape, y_shape = shapes.input_shapes
    check_grads(f, values(rng, x_shape, kind_x), values(rng, y_shape, kind_y))


@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3), seed=seeds)
def test_where_broadcasts_condition_and_both_branches(shapes, seed):
    rng = np.random.default_rng(seed)
    c_shape, x_shape, y_shape = shapes.input_shapes
    condition = rng.random(c_shape) > 0.5
    check_grads(lambda x, y: cr.where(condition, x, y), rng.normal(size=x_shape),
                rng.normal(size=y_shape))


@st.composite
def axes_of(draw, shape):
    if not shape or draw(st.booleans()):
        return None
    picked = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape),
                           unique=True))
    return picked[0] - len(shape) if len(picked) == 1 else tuple(picked)


@pytest.mark.parametrize("reduction", ["sum", "mean", "max"])
@SETTINGS
@given(data=st.data(), shape=one_shape, keepdims=st.booleans(), seed=seeds)
def test_reductions(reduction, data, shape, keepdims, seed):
    axis = data.draw(axes_of(shape))
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    x = (rng.permutation(size) * 0.3 + 0.01).reshape(shape)  # distinct: max is differentiable
    f = getattr(cr, reduction)
    check_grads(lambda x: f(x, axis=axis, keepdims=keepdims) * 1.5, x)


@pytest.mark.parametrize("fused", ["softmax", "log_softmax"])
@SETTINGS
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=3), data=st.data(), seed=seeds)
def test_softmax_family_along_any_axis(fused, shape, data, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=shape)  # a non-trivial cotangent (plain sums have zero gradient)
    f = getattr(cr, fused)
    check_grads(lambda x: f(x, axis=axis) * weights, rng.normal(size=shape) * 3)


@SETTINGS
@given(shape=one_shape, data=st.data(), seed=seeds)
def test_reshape_and_transpose(shape, data, seed):
    rng = np.random.default_rng(seed)
    axes = tuple(data.draw(st.permutations(range(len(shape)))))
    check_grads(lambda x: cr.transpose(x, axes) * 2, rng.normal(size=shape))
    check_grads(lambda x: cr.reshape(x, (-1,)) * np.arange(x.size), rng.normal(size=shape))
    check_grads(lambda x: x.T.reshape(1, -1), rng.normal(size=shape))


@SETTINGS
@given(n=st.integers(1, 4), picks=st.lists(st.integers(0, 3), min_size=1, max_size=6),
       seed=seeds)
def test_getitem_with_repeated_indices(n, picks, seed):
    rng = np.random.default_rng(seed)
    index = [p % n for p in picks]
    check_grads(lambda x: x[index] * np.arange(1, len(index) + 1)[:, None], rng.normal(size=(n, 2)))
    check_grads(lambda x: x[1:, ::-1] + x[-1, None], rng.normal(size=(n, 2)))
    check_grads(lambda x: x[..., 0][x[..., 0] > 0], rng.normal(size=(n, 2)))


@SETTINGS
@given(sizes=st.lists(st.integers(1, 3), min_size=1, max_size=3), axis=st.integers(0, 1),
       seed=seeds)
def test_concatenate_and_stack(sizes, axis, seed):
    rng = np.random.default_rng(seed)
    parts = [rng.normal(size=(s, 2) if axis == 0 else (2, s)) for s in sizes]
    check_grads(lambda *xs: cr.concatenate(xs, axis=axis) * 1.5, *parts)
    same = [rng.normal(size=(2, 3)) for _ in sizes]
    check_grads(lambda *xs: cr.stack(xs, axis=axis - 1) * 1.5, *same)


@st.composite
def matmul_shapes(draw):
    """Operand shapes NumPy's matmul accepts: 1-d vectors, matrices, broadcast batches."""
    n, k, m = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batch = draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=2))
    bx, by = batch.input_shapes
    x = (k,) if draw(st.booleans()) else (*bx, n, k)
    y = (k,) if draw(st.booleans()) else (*by, k, m)
    return x, y


@SETTINGS
@given(shapes=matmul_shapes(), seed=seeds)
def test_matmul_one_dimensional_and_batched(shapes, seed):
    rng = np.random.default_rng(seed)
    x_shape, y_shape = shapes
    check_grads(cr.matmul, rng.normal(size=x_shape), rng.normal(size=y_shape))


def test_max_ties_share_the_gradient_evenly():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    assert np.allclose(cr.grad(lambda x: cr.max(x))(x), [[0, 0.5, 0.5], [0, 0, 0]])
    assert np.allclose(cr.grad(lambda x: cr.sum(cr.max(x, axis=1)))(x),
                       [[0, 0.5, 0.5], [0.5, 0, 0.5]])
    assert np.allclose(cr.jvp(lambda x: cr.max(x), (x,), (np.ones_like(x),))[1], 1.0)
    both = cr.grad(cr.maximum, argnums=(0, 1))(2.0, 2.0)
    assert both == (0.5, 0.5)


def test_softmax_and_log_softmax_are_stable_for_huge_inputs():
    x = np.array([1000.0, 0.0, -1000.0])
    assert np.allclose(cr.softmax(x), [1, 0, 0])
    assert np.allclose(cr.log_softmax(x), [0, -1000, -2000])
    g = cr.grad(lambda x: cr.log_softmax(x)[1])(x)
    assert np.all(np.isfinite(g)) and np.allclose(g, [-1, 1, 0])
    assert cr.sigmoid(-1000.0) == 0.0 and np.isfinite(cr.grad(cr.sigmoid)(-1000.0))


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 6), n=st.integers(2, 6), k=st.integers(2, 6), seed=st.integers(0, 99))
def test_the_gradient_of_a_layer_x_at_W_T_is_C_ordered_like_W_and_right(m, n, k, seed):
    """x @ W^T (the usual layer): dW = g^T x computed in W's own layout, so an optimiser's
    update runs on it without a copy; the values are the finite differences'."""
    rng = np.random.default_rng(seed)
    x, W, V = rng.normal(size=(m, k)), rng.normal(size=(n, k)), rng.normal(size=(m, n))

    def f(W):
        return cr.sum(cr.tanh(cr.matmul(x, cr.transpose(W))) * V)

    g = cr.grad(f)(W)
    assert g.flags.c_contiguous
    h, numeric = 1e-6, np.empty_like(W)
    for i in np.ndindex(W.shape):
        step = np.zeros_like(W)
        step[i] = h
        numeric[i] = (float(f(W + step)) - float(f(W - step))) / (2 * h)
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8)
    second = cr.jacfwd(cr.grad(f))(W)          # and it differentiates again
    assert second.shape == W.shape * 2
