"""The C kernels (chainrule._kernels) compute bit for bit what their NumPy versions compute."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule._fast import kernels

needs_c = pytest.mark.skipif(not kernels.BUILT, reason="chainrule._kernels was not built")


@pytest.fixture
def numpy_only(monkeypatch):
    monkeypatch.setattr(kernels, "_kernels", None)


def arrays(rng, size, dtype, count):
    return [rng.normal(scale=s, size=size).astype(dtype) for s in (1.0, 0.1, 0.01, 1e-4)[:count]]


@needs_c
@settings(max_examples=60, deadline=None)
@given(size=st.sampled_from([1, 7, 1000, kernels.PIECE + 3]),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 1000),
       beta1=st.floats(0.0, 0.99), beta2=st.floats(0.5, 0.9999), steps=st.integers(1, 4))
def test_adam_kernel_is_the_numpy_passes_bit_for_bit(size, dtype, seed, beta1, beta2, steps):
    rng = np.random.default_rng(seed)
    p, g, m, v = arrays(rng, size, dtype, 4)
    v = np.abs(v)
    c_state, np_state = [p, m, v], [p.copy(), m.copy(), v.copy()]
    scratch = np.empty_like(p)
    native = kernels._kernels
    for t in range(1, steps + 1):
        args = (beta1, beta2, 1e-8 * t, 0.01 / t)
        kernels.adam(c_state[0], g, c_state[1], c_state[2], scratch, *args)
        kernels._kernels = None
        try:
            kernels.adam(np_state[0], g, np_state[1], np_state[2], scratch, *args)
        finally:
            kernels._kernels = native
    for c, n in zip(c_state, np_state):
        assert c.dtype == dtype
        np.testing.assert_array_equal(c, n)


def test_arrays_the_kernels_cannot_take_go_to_numpy():
    g = np.arange(6.0).reshape(2, 3).T                  # F-ordered
    sums = np.empty(2)
    np.testing.assert_array_equal(kernels.relu_backward(g.copy(), np.ones((3, 2)), sums), g)
    np.testing.assert_array_equal(sums, [3.0, 12.0])
    p32, g64 = np.ones(3, np.float32), np.ones(3)       # mixed dtypes
    m, v = np.zeros(3, np.float32), np.zeros(3, np.float32)
    kernels.adam(p32, g64, m, v, np.empty(3, np.float32), 0.9, 0.999, 1e-8, 0.1)
    np.testing.assert_allclose(p32, 1 - 0.1 / (np.sqrt(0.001) + 1e-8) * 0.1, rtol=1e-6)


@needs_c
def test_the_native_module_refuses_what_it_cannot_take():
    ones = [np.ones(3) for _ in range(4)]
    args = (0.9, 0.1, 0.999, 0.001, 1e-8, 0.1)
    with pytest.raises(TypeError, match="float32 or float64"):
        kernels._kernels.adam(np.ones(3, np.float32), *ones[1:], *args)
    with pytest.raises(ValueError, match="one length"):
        kernels._kernels.adam(np.ones(4), *ones[1:], *args)
    with pytest.raises(ValueError, match="not C-contiguous"):
        kernels._kernels.adam(np.ones(6)[::2], *ones[1:], *args)
    read_only = np.ones(3)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        kernels._kernels.adam(read_only, *ones[1:], *args)
    with pytest.raises(ValueError, match="row's length"):
        kernels._kernels.relu_backward(np.ones((2, 3)), np.ones((2, 3)), np.ones(4))
    p = np.ones(3)
    kernels._kernels.adam(p, *ones[1:], *args)          # what it takes, it steps
    assert (p < 1).all()


def train_adam(X, y):
    net = cr.nn.Network([64, 16, 12, 10], activation="relu", cost="log-likelihood", seed=1)
    cr.train(net, X, y, epochs=2, batch_size=32, optimizer=cr.optim.Adam(lr=1e-2),
             progress=False)
    return net.to_vector()


@needs_c
def test_training_with_and_without_the_c_kernels_is_identical(monkeypatch):
    X, y = cr.data.load_digits(split="train")
    with_c = train_adam(X[:300], y[:300])
    monkeypatch.setattr(kernels, "_kernels", None)
    np.testing.assert_array_equal(with_c, train_adam(X[:300], y[:300]))


def test_numpy_kernels_train(numpy_only):
    X, y = cr.data.load_digits(split="train")
    net = cr.nn.Network([64, 16, 10], activation="relu", cost="log-likelihood", seed=1)
    history = cr.train(net, X, y, epochs=4, batch_size=32, optimizer=cr.optim.Adam(lr=1e-2),
                       progress=False)
    assert history.train_accuracy[-1] > history.train_accuracy[0]
    assert np.mean(net.predict(X) == y) > 0.9


@needs_c
@settings(max_examples=40, deadline=None)
@given(shape=st.sampled_from([(1, 1), (3, 5), (7, 33), (256, 1024)]),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 1000))
def test_relu_kernel_is_the_mask_multiply_and_numpys_column_sums(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    g = rng.normal(size=shape).astype(dtype)
    a = np.maximum(rng.normal(size=shape), 0).astype(dtype)
    g[0, 0], a[0, 0] = np.inf, 0.0                     # inf · 0 = nan, as NumPy has it
    with np.errstate(invalid="ignore"):
        expected = g * (a > 0)
    sums = np.empty(shape[1], dtype)
    assert kernels.relu_backward(g, a, sums) is g
    assert np.isnan(g[0, 0])
    np.testing.assert_array_equal(g, expected)
    assert np.array_equal(np.signbit(g), np.signbit(expected))     # −0 where g < 0 and a = 0
    np.testing.assert_array_equal(sums, np.add.reduce(expected, axis=0))


@needs_c
@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 300), cols=st.sampled_from([1, 2, 5]),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 1000))
def test_relu_backward_sums_as_numpy_does_a_single_column_too(rows, cols, dtype, seed):
    """NumPy adds an (m, 1) column pairwise, an (m, n) array row after row: the kernel too."""
    rng = np.random.default_rng(seed)
    g, a = rng.normal(size=(2, rows, cols)).astype(dtype)
    c_sums, numpy_sums = np.empty(cols, dtype), np.empty(cols, dtype)
    c_g = kernels.relu_backward(g.copy(), a, c_sums)
    np.multiply(g, a > 0, out=g)
    np.add.reduce(g, axis=0, out=numpy_sums)
    np.testing.assert_array_equal(c_g, g)
    np.testing.assert_array_equal(c_sums, numpy_sums)
