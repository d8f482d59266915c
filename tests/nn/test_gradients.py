"""BP1-BP4 against finite differences (ex4's criterion), the engine's reverse and forward modes,
and the step-by-step trace; L2 on the weights only; float32 kept."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.nn import Network
from chainrule.nn.check import relative_difference
from chainrule.nn.functional import network_cost

# every (output, cost) pair the network accepts (costs.check_pairing)
PAIRS = [("sigmoid", "quadratic"), ("tanh", "quadratic"), ("relu", "quadratic"),
         ("leaky-relu", "quadratic"), ("identity", "quadratic"), ("softmax", "quadratic"),
         ("sigmoid", "cross-entropy"), ("softmax", "cross-entropy"),
         ("softmax", "log-likelihood")]
HIDDEN = ["sigmoid", "tanh", "relu", "leaky-relu", "identity"]


def numerical_gradient(net, X, y, l2, eps=1e-3):
    """ex4's computeNumericalGradient over the unrolled vector thetaVec, with the five-point
    stencil (8[J(θ+ε) − J(θ−ε)] − [J(θ+2ε) − J(θ−2ε)]) / 12ε (error O(ε⁴))."""
    theta = net.to_vector()
    grad = np.empty_like(theta)
    for i in range(theta.size):
        def J(step, i=i):
            v = theta.copy()
            v[i] += step
            net.from_vector(v)
            return net.cost(X, y, l2=l2)
        grad[i] = (8 * (J(eps) - J(-eps)) - (J(2 * eps) - J(-2 * eps))) / (12 * eps)
    net.from_vector(theta)
    return grad


def unrolled(grads):
    return np.concatenate([g.ravel() for g in grads])


def data(net, m=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (m, net.sizes[0]))
    k = net.sizes[-1]
    y = rng.integers(0, k if k > 1 else 2, m)
    return net.check_inputs(X), y


def away_from_kinks(net, X, eps):
    """relu-type units: no weighted input within the stencil's reach of the kink at 0."""
    return min(np.abs(z).min() for z in net.backprop_trace(X, np.zeros(len(X), int)).z) > 3 * eps


@pytest.mark.parametrize("output,cost", PAIRS)
def test_ex4_criterion_3_5_3_with_lambda_3(output, cost):
    """ex4: 3-5-3 sigmoid network, λ = 3, analytic vs numerical relative difference < 1e-9."""
    net = Network([3, 5, 3], activation="sigmoid", output=output, cost=cost, init="uniform",
                  init_scale=0.5, seed=1, dtype="float64")
    X, y = data(net)
    assert away_from_kinks(net, X, 1e-3) or output not in ("relu", "leaky-relu")
    analytic = unrolled(net.gradients(X, net.encode_targets(y), l2=3.0))
    numeric = numerical_gradient(net, X, y, l2=3.0)
    assert relative_difference(analytic, numeric) < 1e-9


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output,cost", PAIRS)
def test_backprop_equals_engine_reverse_and_forward(hidden, output, cost):
    """BP1-BP4 == cr.grad (reverse) == cr.jvp along random directions (forward), ~1e-12."""
    net = Network([4, 6, 5, 3], activation=hidden, output=output, cost=cost, init="uniform",
                  init_scale=0.7, seed=2, dtype="float64")
    X, y = data(net, m=7, seed=2)
    Y = net.encode_targets(y)
    backprop = net.gradients(X, Y, l2=0.5)

    def f(*params):
        return network_cost(params, X, Y, net.config(), l2=0.5)

    reverse = cr.grad(f, argnums=tuple(range(len(net.params))))(*net.params)
    for b, r in zip(backprop, reverse):
        assert relative_difference(b, r) < 1e-12
    rng = np.random.default_rng(0)
    forward, dots = [], []
    for _ in range(6):
        V = [rng.standard_normal(p.shape) for p in net.params]
        forward.append(float(cr.jvp(f, tuple(net.params), tuple(V))[1]))
        dots.append(sum(float(np.vdot(b, v)) for b, v in zip(backprop, V)))
    assert relative_difference(np.array(forward), np.array(dots)) < 1e-12
    value = float(cr.value_and_grad(f)(net.params[0], *net.params[1:])[0])
    assert value == pytest.approx(net.cost(X, y, l2=0.5), rel=1e-12)


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh"])
def test_backprop_equals_finite_differences_to_high_precision(hidden):
    net = Network([3, 4, 2], activation=hidden, cost="cross-entropy", init="uniform",
                  seed=5, dtype="float64")
    X, y = data(net, m=4, seed=5)
    analytic = unrolled(net.gradients(X, net.encode_targets(y), l2=1.0))
    assert relative_difference(analytic, numerical_gradient(net, X, y, l2=1.0)) < 1e-10


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4),
       m=st.integers(1, 8), hidden=st.sampled_from(HIDDEN), pair=st.sampled_from(PAIRS),
       l2=st.sampled_from([0.0, 0.3]), seed=st.integers(0, 10_000), soft=st.booleans())
def test_hypothesis_random_networks_fused_equals_trace_equals_engine(sizes, m, hidden, pair,
                                                                     l2, seed, soft):
    output, cost = pair
    if output == "softmax" and sizes[-1] < 2:
        sizes[-1] = 2
    net = Network(sizes, activation=hidden, output=output, cost=cost, init="normal", seed=seed,
                  dtype="float64")
    X, y = data(net, m=m, seed=seed)
    if soft:   # a target matrix instead of labels: distributions for log-likelihood
        rng = np.random.default_rng(seed)
        y = (rng.dirichlet(np.ones(sizes[-1]), m) if cost == "log-likelihood"
             else rng.uniform(0, 1, (m, sizes[-1])))
    Y = net.encode_targets(y)
    fused = net.gradients(X, Y, l2=l2, n=m + 3)
    trace = net.backprop_trace(X, y, l2=l2, n=m + 3)
    steps = [g for pair in zip(trace.grad_weights, trace.grad_biases) for g in pair]
    for f, s in zip(fused, steps):
        np.testing.assert_allclose(f, s, rtol=1e-12, atol=1e-14)
    reverse = cr.grad(lambda *p: network_cost(p, X, Y, net.config(), l2, m + 3),
                      argnums=tuple(range(len(net.params))))(*net.params)
    for f, r in zip(fused, reverse):
        np.testing.assert_allclose(f, r, rtol=1e-10, atol=1e-13)
    cost_value, grads = net.value_and_grad(X, Y, l2=l2, n=m + 3)
    assert cost_value == pytest.approx(trace.cost, rel=1e-12)
    assert all(np.array_equal(a, b) for a, b in zip(grads, fused))


def test_gradient_has_no_per_example_dependence_on_batch_order():
    net = Network([5, 4, 3], cost="log-likelihood", seed=0, dtype="float64")
    X, y = data(net, m=9)
    order = np.random.default_rng(1).permutation(9)
    a = net.gradients(X, net.encode_targets(y))
    b = net.gradients(X[order], net.encode_targets(y[order]))
    for g, h in zip(a, b):
        np.testing.assert_allclose(g, h, rtol=1e-12, atol=1e-15)


def test_batch_gradient_is_the_mean_of_single_example_gradients():
    net = Network([3, 4, 2], activation="tanh", cost="quadratic", seed=4, dtype="float64")
    X, y = data(net, m=6)
    Y = net.encode_targets(y)
    batch = net.gradients(X, Y)
    singles = [net.gradients(X[i:i + 1], Y[i:i + 1]) for i in range(6)]
    for k, g in enumerate(batch):
        np.testing.assert_allclose(g, np.mean([s[k] for s in singles], axis=0), rtol=1e-12)


def test_l2_acts_on_weights_only_with_lambda_over_n():
    net = Network([3, 4, 2], seed=0, dtype="float64")
    X, y = data(net, m=5)
    Y = net.encode_targets(y)
    plain = net.gradients(X, Y)
    lam, n = 2.0, 50
    regularised = net.gradients(X, Y, l2=lam, n=n)
    for i, (g, r) in enumerate(zip(plain, regularised)):
        if i % 2 == 0:   # W^l: + λ/n W
            np.testing.assert_allclose(r - g, lam / n * net.params[i], rtol=1e-12)
        else:            # b^l: untouched
            assert np.array_equal(r, g)
    penalty = lam / (2 * n) * sum((W ** 2).sum() for W in net.weights)
    assert net.cost(X, y, l2=lam, n=n) == pytest.approx(net.cost(X, y) + penalty, rel=1e-13)
    # n defaults to the batch size
    np.testing.assert_allclose(net.gradients(X, Y, l2=lam)[0] - plain[0],
                               lam / 5 * net.weights[0], rtol=1e-12)
    # changing the biases does not change the penalty
    before = net.cost(X, y, l2=lam) - net.cost(X, y)
    net.biases[0] += 3.0
    assert net.cost(X, y, l2=lam) - net.cost(X, y) == pytest.approx(before, rel=1e-12)


def test_float32_stays_float32_everywhere():
    net = Network([6, 5, 4], activation="relu", cost="log-likelihood", seed=0)
    X = np.random.default_rng(0).random((8, 6))          # float64 in: cast once
    Xc = net.check_inputs(X)
    assert Xc.dtype == np.float32
    Y = net.encode_targets(np.arange(8) % 4)
    assert Y.dtype == np.float32
    assert all(g.dtype == np.float32 for g in net.gradients(Xc, Y, l2=1.0, n=100))
    assert net.forward(X).dtype == np.float32
    trace = net.backprop_trace(X, np.arange(8) % 4, l2=1.0)
    assert all(t.dtype == np.float32 for t in trace.z + trace.a + trace.delta
               + trace.grad_weights + trace.grad_biases)
    grad_weights, grad_biases = net.backprop(X, np.arange(8) % 4)
    assert all(g.dtype == np.float32 for g in grad_weights + grad_biases)
    assert isinstance(net.cost(X, np.arange(8) % 4), float)
    # and float32 agrees with float64 to float32 precision
    net64 = net.astype("float64")
    for g32, g64 in zip(net.gradients(Xc, Y), net64.gradients(X, net64.encode_targets(
            np.arange(8) % 4))):
        np.testing.assert_allclose(g32, g64, rtol=2e-4, atol=1e-6)


def test_gradients_reuse_scratch_but_return_fresh_arrays():
    net = Network([4, 3, 2], seed=0, dtype="float64")
    X, y = data(net, m=5)
    Y = net.encode_targets(y)
    first = net.gradients(X, Y)
    kept = [g.copy() for g in first]
    net.gradients(X[:3], Y[:3])
    net.gradients(X, Y)
    assert all(np.array_equal(a, b) for a, b in zip(first, kept))


def test_gradients_can_write_into_given_buffers():
    net = Network([4, 3, 2], activation="relu", cost="log-likelihood", seed=0)
    X, y = data(net, m=6)
    Y = net.encode_targets(y)
    buffers = [np.full_like(p, np.nan) for p in net.params]
    returned = net.gradients(X, Y, l2=0.5, n=10, out=buffers)
    assert all(r is b for r, b in zip(returned, buffers))
    for b, fresh in zip(buffers, net.gradients(X, Y, l2=0.5, n=10)):
        assert np.array_equal(b, fresh)


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4), m=st.integers(1, 8),
       hidden=st.sampled_from(HIDDEN), l2=st.sampled_from([0.0, 0.7]),
       scale=st.floats(-3, 3), keep=st.sampled_from([0.0, 0.5, 0.9, 1.0]),
       into_params=st.booleans(), seed=st.integers(0, 10_000))
def test_scaled_gradients_accumulate_into_out_or_into_the_parameters(
        sizes, m, hidden, l2, scale, keep, into_params, seed):
    """gradients(out, scale=α, keep=β): out ← α ∂C/∂θ + β out, BP2 seeing the old W even when
    out is the parameters themselves (an SGD step with the L2 term folded into β)."""
    net = Network(sizes, activation=hidden, cost="cross-entropy", init="normal", seed=seed,
                  dtype="float64")
    X, y = data(net, m=m, seed=seed)
    Y = net.encode_targets(y)
    grads = net.gradients(X, Y, l2=l2, n=m + 2)
    rng = np.random.default_rng(seed)
    before = [p.copy() for p in net.params]
    out = net.params if into_params else [rng.normal(size=p.shape) for p in net.params]
    start = [o.copy() for o in out]
    returned = net.gradients(X, Y, l2=l2, n=m + 2, out=out, scale=scale, keep=keep)
    assert all(r is o for r, o in zip(returned, out))
    for o, s, g in zip(out, start, grads):
        np.testing.assert_allclose(o, scale * g + keep * s, rtol=1e-11, atol=1e-12)
    if not into_params:
        assert all(np.array_equal(p, b) for p, b in zip(net.params, before))


def test_an_sgd_step_in_place_is_nielsens_weight_decay_rule():
    """out=params, scale=−η, keep=1: w ← (1 − ηλ/n) w − η/m Σ ∂C_x/∂w, b ← b − η/m Σ ∂C_x/∂b
    (Nielsen ch. 3, eqs. 93-94), worked against the trace's per-example errors δ."""
    net = Network([3, 4, 2], activation="tanh", cost="quadratic", seed=3, dtype="float64")
    X, y = data(net, m=5, seed=3)
    trace = net.backprop_trace(X, y)
    eta, lam, n = 0.4, 2.0, 50
    expected = []
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        delta, a_prev = trace.delta[l], trace.a[l]
        expected += [(1 - eta * lam / n) * W - eta / 5 * delta.T @ a_prev,
                     b - eta / 5 * delta.sum(axis=0)]
    net.gradients(X, net.encode_targets(y), l2=lam, n=n, out=net.params, scale=-eta, keep=1.0)
    for p, e in zip(net.params, expected):
        np.testing.assert_allclose(p, e, rtol=1e-13, atol=1e-15)


def test_keep_without_out_is_an_input_error():
    net = Network([2, 2], seed=0, dtype="float64")
    with pytest.raises(cr.errors.InputError, match="keep= needs"):
        net.gradients(np.ones((1, 2)), np.ones((1, 2)), keep=0.9)


def test_adam_without_out_is_an_input_error():
    net = Network([2, 2], seed=0, dtype="float64")
    with pytest.raises(cr.errors.InputError, match="adam= needs the arrays out="):
        net.gradients(np.ones((1, 2)), np.ones((1, 2)), adam=([], [], [], 0.9, 0.999, 1e-8, 0.1))
