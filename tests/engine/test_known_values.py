"""Known values: colah's graph, Baydin et al.'s worked example, closed-form Jacobians and
Hessians, and nested transformations that a confused implementation gets wrong."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.engine.graph import toposort
from chainrule.engine.ops import cos, sin


def seeds_e(a, b):
    return (a + b) * (b + 1)


def test_seeds_graph_reverse_mode_with_backward():
    a, b = cr.tensor(2.0, requires_grad=True), cr.tensor(1.0, requires_grad=True)
    e = seeds_e(a, b)
    assert e.numpy() == 6.0
    e.backward()
    assert (a.grad, b.grad) == (2.0, 5.0)


def test_seeds_graph_with_grad_and_jvp():
    assert cr.grad(seeds_e, argnums=(0, 1))(2.0, 1.0) == (2.0, 5.0)
    assert cr.jvp(seeds_e, (2.0, 1.0), (1.0, 0.0)) == (6.0, 2.0)  # forward mode, da = 1
    assert cr.jvp(seeds_e, (2.0, 1.0), (0.0, 1.0)) == (6.0, 5.0)  # forward mode, db = 1


def baydin(x1, x2):
    """Baydin, Pearlmutter, Radul, Siskind (2018), JMLR 18(153), Table 2 and Figure 1."""
    return cr.log(x1) + x1 * x2 - sin(x2)


def test_baydin_2018_worked_example():
    value, grads = cr.value_and_grad(baydin, argnums=(0, 1))(2.0, 5.0)
    assert value == pytest.approx(11.652, abs=1e-3)
    assert grads[0] == pytest.approx(5.5)
    assert grads[1] == pytest.approx(1.716, abs=1e-3)
    # forward mode, the paper's Table 2: seed dx1 = 1, dx2 = 0 gives dy = 5.5
    assert cr.jvp(baydin, (2.0, 5.0), (1.0, 0.0))[1] == pytest.approx(5.5)
    assert cr.jvp(baydin, (2.0, 5.0), (0.0, 1.0))[1] == pytest.approx(2 - np.cos(5.0))


def test_baydin_2018_evaluation_trace():
    x1, x2 = cr.tensor(2.0, requires_grad=True), cr.tensor(5.0, requires_grad=True)
    y = baydin(x1, x2)
    trace = {node.op: float(node.numpy()) for node in toposort(y) if node.op}
    # the primal trace of Table 2: v1 = ln 2, v2 = 10, v3 = sin 5, v4 = v1 + v2, v5 = v4 - v3
    assert trace["log"] == pytest.approx(0.693, abs=1e-3)
    assert trace["mul"] == 10.0
    assert trace["sin"] == pytest.approx(-0.959, abs=1e-3)
    assert trace["add"] == pytest.approx(10.693, abs=1e-3)
    assert trace["sub"] == pytest.approx(11.652, abs=1e-3)
    y.backward()
    assert (float(x1.grad), float(x2.grad)) == pytest.approx((5.5, 1.716), abs=1e-3)


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def test_hessian_of_rosenbrock_against_closed_form():
    for x, y in [(1.0, 1.0), (-1.2, 1.0), (0.3, -0.7)]:
        expected = [[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200]]
        point = np.array([x, y])
        assert np.allclose(cr.hessian(rosenbrock)(point), expected)
        assert np.allclose(cr.jacrev(cr.jacrev(rosenbrock))(point), expected)
        assert np.allclose(cr.jacfwd(cr.jacfwd(rosenbrock))(point), expected)
        assert np.allclose(cr.jacrev(cr.jacfwd(rosenbrock))(point), expected)
    assert np.allclose(cr.hessian(rosenbrock)(np.array([1.0, 1.0])), [[802, -400], [-400, 200]])


def test_hessian_of_quadratic_form_and_log_sum_exp():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 4))
    x = rng.normal(size=4)
    assert np.allclose(cr.hessian(lambda x: x @ A @ x / 2)(x), (A + A.T) / 2)
    s = np.exp(x) / np.exp(x).sum()
    lse = lambda x: cr.log(cr.sum(cr.exp(x)))  # noqa: E731
    assert np.allclose(cr.grad(lse)(x), s)
    assert np.allclose(cr.hessian(lse)(x), np.diag(s) - np.outer(s, s))


def test_jacfwd_equals_jacrev_on_vector_functions():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(3, 4))

    def f(x):
        return cr.tanh(W @ x) * cr.sum(x ** 2) + cr.softmax(W @ x)

    x = rng.normal(size=4)
    J_fwd, J_rev = cr.jacfwd(f)(x), cr.jacrev(f)(x)
    assert J_fwd.shape == (3, 4)
    assert np.allclose(J_fwd, J_rev)
    s = np.exp(W @ x) / np.exp(W @ x).sum()  # softmax's Jacobian is diag(s) - s s^T
    assert np.allclose(cr.jacrev(cr.softmax)(W @ x), np.diag(s) - np.outer(s, s))
    M = rng.normal(size=(2, 3))
    J = cr.jacrev(lambda m: m @ W)(M)  # d(MW)_{ij} / dM_{kl} = δ_ik W_lj
    assert J.shape == (2, 4, 2, 3)
    assert np.allclose(J, np.einsum("ik,lj->ijkl", np.eye(2), W))
    assert np.allclose(cr.jacfwd(lambda m: m @ W)(M), J)


def test_higher_derivatives_of_sin():
    third = cr.grad(cr.grad(cr.grad(sin)))
    fourth = cr.grad(third)
    assert third(0.7) == pytest.approx(-np.cos(0.7))
    assert fourth(0.7) == pytest.approx(np.sin(0.7))
    d2 = lambda x: cr.jvp(lambda y: cr.jvp(cos, (y,), (1.0,))[1], (x,), (1.0,))[1]  # noqa: E731
    assert d2(0.7) == pytest.approx(-np.cos(0.7))


def test_nested_derivatives_do_not_confuse_perturbations():
    """Siskind & Pearlmutter's example: d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1, not 2."""
    def inner_fwd(x):
        return x * cr.jvp(lambda y: x + y, (1.0,), (1.0,))[1]

    def inner_rev(x):
        return x * cr.grad(lambda y: x + y)(1.0)

    assert cr.jvp(inner_fwd, (1.0,), (1.0,))[1] == 1.0
    assert cr.grad(inner_fwd)(1.0) == 1.0
    assert cr.jvp(inner_rev, (1.0,), (1.0,))[1] == 1.0
    assert cr.grad(inner_rev)(1.0) == 1.0
    # an inner derivative that does depend on the outer variable: d/dx [x * d/dy (x y)] = 2x
    assert cr.grad(lambda x: x * cr.grad(lambda y: x * y)(3.0))(5.0) == 10.0
    outer = lambda x: x * cr.jvp(lambda y: x * y, (3.0,), (1.0,))[1]  # noqa: E731
    assert cr.jvp(outer, (5.0,), (1.0,))[1] == 10.0


def test_jvp_of_grad_is_a_hessian_vector_product():
    rng = np.random.default_rng(2)
    x, v = rng.normal(size=2), rng.normal(size=2)
    hvp = cr.jvp(cr.grad(rosenbrock), (x,), (v,))[1]
    assert np.allclose(hvp, cr.hessian(rosenbrock)(x) @ v)
