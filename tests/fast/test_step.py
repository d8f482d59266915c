"""The C step (one call per mini-batch, ``_kernels.network_step``) computes bit for bit what the
NumPy passes of ``nn/_fused.py`` compute, for every network it takes; the rest fall back."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule._fast import kernels

needs_c = pytest.mark.skipif(not kernels.BUILT, reason="chainrule._kernels was not built")

PAIRS = [("sigmoid", "quadratic"), ("sigmoid", "cross-entropy"), ("softmax", "log-likelihood"),
         ("identity", "quadratic"), ("tanh", "quadratic"), ("relu", "quadratic")]


def train_steps(native, hidden, output, cost, dtype, sizes, m, l2, mode, seed, steps=3):
    """Parameters (and gradients) after ``steps`` calls of ``gradients``, C step or NumPy."""
    net = cr.nn.Network(list(sizes), activation=hidden, output=output, cost=cost, dtype=dtype,
                        seed=seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, sizes[0])).astype(dtype)
    Y = net.encode_targets(rng.integers(0, sizes[-1], m))
    saved = kernels._kernels
    if not native:
        kernels._kernels = None
    try:
        g = [np.zeros_like(p) for p in net.params]
        for _ in range(steps):
            if mode == "sgd":              # the update inside BP4: out=params, keep=1
                net.gradients(X, Y, l2, 50, out=net.params, scale=-0.1, keep=1.0)
            elif mode == "out":            # gradients into buffers (Adam's way)
                net.gradients(X, Y, l2, 50, out=g)
                for p, gi in zip(net.params, g):
                    p -= 0.1 * gi
            else:                          # a velocity: scale and keep both in play
                net.gradients(X, Y, l2, 50, out=g, scale=-0.3, keep=0.9)
                for p, gi in zip(net.params, g):
                    p += gi
    finally:
        kernels._kernels = saved
    return [p.copy() for p in net.params] + g + [net._last_output.copy(),
                                                 np.array(net.batch_stats(Y))]


@needs_c
@settings(max_examples=120, deadline=None)
@given(hidden=st.sampled_from(["sigmoid", "relu", "tanh", "identity"]),
       pair=st.sampled_from(PAIRS), dtype=st.sampled_from(["float32", "float64"]),
       sizes=st.lists(st.integers(1, 9), min_size=2, max_size=4),
       m=st.integers(1, 17), l2=st.sampled_from([0.0, 0.5]),
       mode=st.sampled_from(["sgd", "out", "velocity"]), seed=st.integers(0, 100))
def test_the_c_step_is_the_numpy_passes_bit_for_bit(hidden, pair, dtype, sizes, m, l2, mode,
                                                    seed):
    output, cost = pair
    if output == "softmax":
        sizes[-1] = max(sizes[-1], 2)
    if output == "sigmoid" and cost == "cross-entropy" and sizes[-1] == 1:
        sizes[-1] = 2
    args = (hidden, output, cost, dtype, sizes, m, l2, mode, seed)
    c, numpy = train_steps(True, *args), train_steps(False, *args)
    for a, b in zip(c, numpy):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


@needs_c
def test_the_c_step_runs_for_the_networks_it_takes_and_not_the_others():
    net = cr.nn.Network([4, 3, 2], activation="relu", output="softmax", cost="log-likelihood")
    X, Y = np.ones((2, 4), np.float32), net.encode_targets([0, 1])
    net._buffers(2)
    assert net._c_step(X, Y, 0.0, net.params, -0.1, 1.0) is True
    assert net._c_step(X.astype(np.float64), Y, 0.0, net.params, -0.1, 1.0) is False  # dtype
    assert net._c_step(np.asfortranarray(np.ones((2, 4), np.float32)), Y, 0.0, net.params,
                       -0.1, 1.0) is False     # not C-contiguous
    leaky = cr.nn.Network([4, 3, 2], activation="leaky-relu", output="softmax",
                          cost="log-likelihood")
    leaky._buffers(2)
    assert leaky._c_step(X, Y, 0.0, leaky.params, -0.1, 1.0) is False


def test_a_network_the_c_step_refuses_trains_as_before():
    """leaky-relu is not in the C step: the NumPy passes train it, equal to the readable BP1-BP4."""
    net = cr.nn.Network([3, 4, 2], activation="leaky-relu", output="softmax",
                        cost="log-likelihood", dtype="float64", seed=0)
    X = np.random.default_rng(0).normal(size=(5, 3))
    Y = net.encode_targets([0, 1, 1, 0, 1])
    fused = net.gradients(X, Y)
    grad_weights, grad_biases = net.backprop(X, Y)
    for a, b in zip(fused, [g for pair in zip(grad_weights, grad_biases) for g in pair]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@needs_c
def test_read_only_inputs_and_targets_still_take_the_c_step():
    net = cr.nn.Network([4, 3, 2], activation="sigmoid", cost="quadratic", dtype="float64")
    X, Y = np.ones((2, 4)), net.encode_targets([0, 1])
    X.flags.writeable = Y.flags.writeable = False
    net._buffers(2)
    assert net._c_step(X, Y, 0.0, net.params, -0.1, 1.0) is True


def adam_training(native, fused, dtype, hidden, seed):
    """Parameters and Adam's state after cr.train, Adam fused into the step or after it."""
    net = cr.nn.Network([6, 5, 3], activation=hidden, output="softmax", cost="log-likelihood",
                        dtype=dtype, seed=seed)
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(45, 6)), rng.integers(0, 3, 45)
    optimizer = cr.optim.Adam(lr=0.01)
    if not fused:
        optimizer.step_fused = None          # the plain step(params, grads) after gradients()
    saved = kernels._kernels
    if not native:
        kernels._kernels = None
    try:
        cr.train(net, X, y, epochs=3, batch_size=8, optimizer=optimizer, progress=False)
    finally:
        kernels._kernels = saved
    state = optimizer.state_dict()
    return [net.to_vector(), *state["m"], *state["v"], np.array(state["step"])]


@settings(max_examples=12, deadline=None)
@given(dtype=st.sampled_from(["float32", "float64"]),
       hidden=st.sampled_from(["relu", "sigmoid", "leaky-relu"]), seed=st.integers(0, 50))
def test_adam_fused_into_the_step_is_adam_after_it_bit_for_bit(dtype, hidden, seed):
    """Adam inside the C step, inside the NumPy passes, and after gradients(): the same bits."""
    after = adam_training(False, False, dtype, hidden, seed)
    for native, fused in ((True, True), (False, True), (True, False)):
        if native and not kernels.BUILT:
            continue
        for a, b in zip(adam_training(native, fused, dtype, hidden, seed), after):
            np.testing.assert_array_equal(a, b)
