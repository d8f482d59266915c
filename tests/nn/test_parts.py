"""Activations (value, derivative from the output, backward) and costs (value, ∇_a C, BP1)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from chainrule.nn.activations import ACTIVATIONS, LEAKY_SLOPE
from chainrule.nn.costs import COSTS

ELEMENTWISE = [name for name, act in ACTIVATIONS.items() if act.elementwise]
finite_z = arrays(np.float64, st.integers(1, 12),
                  elements=st.floats(-8, 8).filter(lambda v: abs(v) > 1e-3))


def test_values_by_hand():
    z = np.array([[-2.0, 0.0, 3.0]])
    assert ACTIVATIONS["sigmoid"].forward(z.copy()) == pytest.approx(1 / (1 + np.exp(-z)))
    assert ACTIVATIONS["tanh"].forward(z.copy()) == pytest.approx(np.tanh(z))
    assert ACTIVATIONS["relu"].forward(z.copy()).tolist() == [[0.0, 0.0, 3.0]]
    assert ACTIVATIONS["leaky-relu"].forward(z.copy()).tolist() == [[-0.02, 0.0, 3.0]]
    assert ACTIVATIONS["identity"].forward(z.copy()).tolist() == z.tolist()
    e = np.exp(z)
    assert ACTIVATIONS["softmax"].forward(z.copy()) == pytest.approx(e / e.sum())


@settings(max_examples=40, deadline=None)
@given(z=finite_z, name=st.sampled_from(ELEMENTWISE))
def test_derivative_from_the_output_matches_central_differences(z, name):
    act = ACTIVATIONS[name]
    h = 1e-6
    numeric = (act.forward(z + h) - act.forward(z - h)) / (2 * h)
    a = act.forward(z.copy())
    np.testing.assert_allclose(act.derivative(a), numeric, rtol=1e-6, atol=1e-9)
    g = np.random.default_rng(0).standard_normal(z.shape)
    np.testing.assert_allclose(act.backward(g.copy(), a), g * numeric, rtol=1e-6, atol=1e-9)


def test_leaky_relu_slope():
    a = ACTIVATIONS["leaky-relu"].forward(np.array([-1.0, 2.0]))
    assert ACTIVATIONS["leaky-relu"].derivative(a).tolist() == [LEAKY_SLOPE, 1.0]


@settings(max_examples=30, deadline=None)
@given(z=arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 5)),
                elements=st.floats(-5, 5)), seed=st.integers(0, 100))
def test_softmax_backward_is_the_transposed_jacobian(z, seed):
    softmax = ACTIVATIONS["softmax"]
    a = softmax.forward(z.copy())
    g = np.random.default_rng(seed).standard_normal(z.shape)
    expected = np.stack([(np.diag(row) - np.outer(row, row)).T @ gr for row, gr in zip(a, g)])
    np.testing.assert_allclose(softmax.backward(g.copy(), a), expected, atol=1e-12)


def test_cost_values_by_hand():
    a, y = np.array([[0.8, 0.3]]), np.array([[1.0, 0.0]])
    assert COSTS["quadratic"].fn(a, y) == pytest.approx(0.5 * (0.2 ** 2 + 0.3 ** 2))
    assert COSTS["cross-entropy"].fn(a, y) == pytest.approx(-np.log(0.8) - np.log(0.7))
    assert COSTS["log-likelihood"].fn(np.array([[0.25, 0.75]]), np.array([[0.0, 1.0]])) == \
        pytest.approx(-np.log(0.75))
    # the mean over rows
    two = np.vstack([a, a])
    assert COSTS["quadratic"].fn(two, np.vstack([y, y])) == pytest.approx(
        COSTS["quadratic"].fn(a, y))


def test_costs_are_finite_at_saturation():
    a, y = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    for name in COSTS:
        assert np.isfinite(COSTS[name].fn(a, y))
        assert np.isfinite(COSTS[name].grad_a(a, y)).all()


@settings(max_examples=30, deadline=None)
@given(z=arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 4)),
                elements=st.floats(-4, 4)), seed=st.integers(0, 100))
def test_fused_bp1_equals_the_general_form(z, seed):
    """a − y for sigmoid + cross-entropy and softmax + log-likelihood equals ∇_a C ⊙ σ'(z)."""
    rng = np.random.default_rng(seed)
    y = np.eye(z.shape[1])[rng.integers(0, z.shape[1], z.shape[0])]
    for cost, output in [("cross-entropy", "sigmoid"), ("log-likelihood", "softmax")]:
        act = ACTIVATIONS[output]
        a = act.forward(z.copy())
        general = act.backward(COSTS[cost].grad_a(a, y), a)
        np.testing.assert_allclose(COSTS[cost].delta(a, y, act), a - y, atol=1e-10)
        np.testing.assert_allclose(general, a - y, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(a=arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 4)),
                elements=st.floats(0.05, 0.95)), seed=st.integers(0, 100))
def test_grad_a_matches_central_differences_of_the_cost(a, seed):
    y = np.random.default_rng(seed).uniform(0, 1, a.shape)
    h = 1e-7
    for name, cost in COSTS.items():
        numeric = np.empty_like(a)
        for idx in np.ndindex(a.shape):
            up, down = a.copy(), a.copy()
            up[idx] += h
            down[idx] -= h
            numeric[idx] = (cost.fn(up, y) - cost.fn(down, y)) / (2 * h)
        # fn is the mean over rows, grad_a is per example
        np.testing.assert_allclose(cost.grad_a(a, y) / len(a), numeric, rtol=1e-5, atol=1e-7,
                                   err_msg=name)
