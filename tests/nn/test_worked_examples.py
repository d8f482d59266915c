"""Published worked examples, computed by hand: Mazur's 2-2-2 network and a two-layer
softmax net.

Mazur, "A Step by Step Backpropagation Example" (2015): inputs 0.05, 0.10; targets 0.01, 0.99;
w1..w8 = .15 .20 .25 .30 .40 .45 .50 .55; b1 = .35, b2 = .60 shared by the units of a layer;
sigmoid everywhere; E = Σ ½(target − out)². The numbers below are the ones printed in the post.
"""

import numpy as np
import pytest

from chainrule.nn import Network


@pytest.fixture
def mazur():
    # W^l row j, column k: from unit k of layer l-1 to unit j of layer l (Nielsen's w_jk)
    return Network([2, 2, 2], activation="sigmoid", cost="quadratic", dtype="float64",
                   weights=[[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
                   biases=[[0.35, 0.35], [0.60, 0.60]])


X = np.array([[0.05, 0.10]])
Y = np.array([[0.01, 0.99]])


def test_mazur_forward_pass(mazur):
    trace = mazur.backprop_trace(X, Y)
    assert trace.z[0][0, 0] == pytest.approx(0.3775, abs=1e-12)           # net_h1
    assert trace.a[1][0] == pytest.approx([0.593269992, 0.596884378], abs=1e-9)
    assert trace.z[1][0, 0] == pytest.approx(1.105905967, abs=1e-9)       # net_o1
    assert trace.a[2][0] == pytest.approx([0.75136507, 0.772928465], abs=1e-8)
    assert trace.cost == pytest.approx(0.298371109, abs=1e-9)
    assert mazur.cost(X, Y) == pytest.approx(0.298371109, abs=1e-9)


def test_mazur_backward_pass(mazur):
    trace = mazur.backprop_trace(X, Y)
    assert trace.grad_a[0, 0] == pytest.approx(0.74136507, abs=1e-8)      # ∂E/∂out_o1
    assert trace.delta[1][0, 0] == pytest.approx(0.138498562, abs=1e-9)   # δ_o1, BP1
    assert trace.delta_rule == ["BP2", "BP1"]
    assert trace.grad_weights[1][0, 0] == pytest.approx(0.082167041, abs=1e-9)   # ∂E/∂w5
    assert trace.grad_weights[0][0, 0] == pytest.approx(0.000438568, abs=1e-9)   # ∂E/∂w1


def test_mazur_weights_after_one_step(mazur):
    grad_weights, _ = mazur.backprop(X, Y)
    eta = 0.5
    for W, g in zip(mazur.weights, grad_weights):
        W -= eta * g                       # Mazur does not update the biases
    w5, w6, w7, w8 = mazur.weights[1].ravel()
    w1, w2, w3, w4 = mazur.weights[0].ravel()
    assert [w5, w6, w7, w8] == pytest.approx(
        [0.35891648, 0.408666186, 0.511301270, 0.561370121], abs=1e-8)
    assert [w1, w2, w3, w4] == pytest.approx(
        [0.149780716, 0.19956143, 0.24975114, 0.29950229], abs=1e-8)
    # the update went into the live arrays: params and the unrolled vector see it
    assert mazur.params[2][0, 0] == w5
    assert mazur.to_vector()[0] == w1


def test_mazur_in_float32_matches_to_float32_precision(mazur):
    net32 = mazur.astype("float32")
    grad_weights, _ = net32.backprop(X, Y)
    assert grad_weights[1].dtype == np.float32
    assert grad_weights[1][0, 0] == pytest.approx(0.082167041, rel=1e-5)


def _seed_003_gradients(W1, b1, W2, b2, X, labels, lam):
    """A worked two-layer softmax derivation's formulas, one column-vector example at a
    time, as written there:
    dJ/dW2 = 1/m Σ (p − 1(y)) a1^T + λ W2, dJ/db2 = 1/m Σ (p − 1(y)),
    dJ/dW1 = 1/m Σ [W2^T (p − 1(y)) ⊙ g(z1)(1 − g(z1))] a0^T + λ W1, dJ/db1 likewise."""
    g = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    m = len(X)
    dW1, db1, dW2, db2 = (np.zeros_like(W1), np.zeros_like(b1), np.zeros_like(W2),
                          np.zeros_like(b2))
    for x, label in zip(X, labels):
        a0 = x[:, None]
        z1 = W1 @ a0 + b1[:, None]
        a1 = g(z1)
        a2 = W2 @ a1 + b2[:, None]                # the output layer: no activation
        p = np.exp(a2) / np.exp(a2).sum()         # the softmax score h
        indicator = np.zeros_like(p)
        indicator[label] = 1
        d2 = p - indicator
        dW2 += d2 @ a1.T
        db2 += d2[:, 0]
        d1 = (W2.T @ d2) * a1 * (1 - a1)
        dW1 += d1 @ a0.T
        db1 += d1[:, 0]
    return dW1 / m + lam * W1, db1 / m, dW2 / m + lam * W2, db2 / m


def test_seed_003_two_layer_softmax_network():
    rng = np.random.default_rng(3)
    net = Network([2, 3, 2], activation="sigmoid", output="softmax", cost="log-likelihood",
                  init="normal", seed=3, dtype="float64")
    X = rng.normal(size=(6, 2))
    labels = np.array([0, 1, 1, 0, 1, 0])
    # that derivation's cost adds ½λ||W||², i.e. chainrule's λ/(2n) with λ = n·λ_seed
    lam_seed = 0.1
    expected = _seed_003_gradients(*net.params, X, labels, lam_seed)
    got = net.gradients(net.check_inputs(X), net.encode_targets(labels), l2=lam_seed * len(X))
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)
    # and the cost: −1/m Σ ln p(y) + ½ λ (||W1||² + ||W2||²)
    W1, b1, W2, b2 = net.params
    z2 = 1 / (1 + np.exp(-(X @ W1.T + b1))) @ W2.T + b2
    p = np.exp(z2) / np.exp(z2).sum(axis=1, keepdims=True)
    cost = (-np.log(p[np.arange(6), labels]).mean()
            + 0.5 * lam_seed * ((W1 ** 2).sum() + (W2 ** 2).sum()))
    assert net.cost(X, labels, l2=lam_seed * len(X)) == pytest.approx(cost, rel=1e-13)
