"""What the tests of chainrule.numpy share: random values on each function's domain, shapes,
and the two checks every function gets (derivatives against NumPy's own function by central
differences, values against NumPy's)."""

from __future__ import annotations

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import chainrule as cr

SETTINGS = settings(max_examples=4, deadline=None)
seeds = st.integers(0, 2**32 - 1)
one_shape = array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)
matrix_shape = array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)
two_shapes = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3)


def values(rng, shape, kind="any"):
    """Random values on a function's domain, away from its kinks: "any" in [-2, 2], "positive"
    in [0.5, 2], "unit" in (-0.8, 0.8), "above1" in [1.2, 3], "off-kink" at least 0.1 from 0,
    "grid" on k + 0.3 and "grid2" on k + 0.7 (never tied, never on an integer)."""
    if kind == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "unit":
        return rng.uniform(-0.8, 0.8, shape)
    if kind == "above1":
        return rng.uniform(1.2, 3.0, shape)
    if kind == "off-kink":
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 2.0, shape)
    if kind == "grid":
        return rng.integers(-2, 2, shape) + 0.3
    if kind == "grid2":
        return rng.integers(-2, 2, shape) + 0.7
    if kind == "distinct":  # no two entries equal: max, min, sort are differentiable
        return (rng.permutation(int(np.prod(shape))) * 0.37 - 1.1).reshape(shape)
    return rng.uniform(-2.0, 2.0, shape)


def as_tensors(xs):
    return [cr.tensor(x) for x in xs]


def assert_values_like_numpy(ours, theirs, *xs, **kwargs):
    """``ours`` on constant Tensors (the engine's rows) gives NumPy's values."""
    got = ours(*as_tensors(xs), **kwargs)
    want = theirs(*xs, **kwargs)
    if isinstance(want, tuple | list):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_allclose(np.asarray(g), w, rtol=1e-9, atol=1e-12)
        return
    assert isinstance(got, cr.Tensor)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-9, atol=1e-12)
    assert got.shape == np.shape(want)


def check(f, *xs):
    """Both modes, to order 2, against central differences of ``f`` on plain arrays (which is
    NumPy's own function: chainrule.numpy hands plain arrays to NumPy)."""
    cr.check_grads(f, *xs, modes=("fwd", "rev"), order=2)
