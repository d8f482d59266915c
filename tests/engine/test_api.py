"""The functional API (JAX's signatures), user primitives, gradcheck, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule.engine.graph import MissingJvpRule
from chainrule.engine.ops import cos, sin
from chainrule.errors import InputError


def test_grad_argnums_and_value_and_grad():
    f = lambda x, y, z: x * y * y + z  # noqa: E731
    assert cr.grad(f)(2.0, 3.0, 1.0) == 9.0
    assert cr.grad(f, argnums=1)(2.0, 3.0, 1.0) == 12.0
    assert cr.grad(f, argnums=-1)(2.0, 3.0, 1.0) == 1.0
    assert cr.grad(f, argnums=(2, 0))(2.0, 3.0, 1.0) == (1.0, 9.0)
    value, g = cr.value_and_grad(f, argnums=(0,))(2.0, 3.0, 1.0)
    assert value == 19.0 and g == (9.0,)
    with pytest.raises(InputError, match="argnums 3 out of range for 3"):
        cr.grad(f, argnums=3)(2.0, 3.0, 1.0)


def test_has_aux():
    def f(x):
        return cr.sum(x * x), {"norm": cr.sqrt(cr.sum(x * x)), "n": 2}

    x = np.array([3.0, 4.0])
    g, aux = cr.grad(f, has_aux=True)(x)
    assert np.array_equal(g, [6.0, 8.0]) and aux["norm"] == 5.0 and aux["n"] == 2
    (value, aux), g = cr.value_and_grad(f, has_aux=True)(x)
    assert value == 25.0 and isinstance(aux["norm"], np.ndarray)
    out, vjp_fn, aux = cr.vjp(f, x, has_aux=True)
    assert out == 25.0 and np.array_equal(vjp_fn(2.0)[0], [12.0, 16.0])


def test_vjp_returns_a_tuple_and_can_be_called_repeatedly():
    A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    out, vjp_fn = cr.vjp(lambda x, b: A @ x + b, np.array([1.0, -1.0]), np.zeros(3))
    assert np.array_equal(out, [-1.0, -1.0, -1.0])
    for u in np.eye(3):
        gx, gb = vjp_fn(u)
        assert np.array_equal(gx, u @ A) and np.array_equal(gb, u)
    with pytest.raises(InputError, match=r"cotangent has shape \(2,\) but the output has shape"):
        vjp_fn(np.ones(2))
    assert cr.vjp(lambda x, y: x, 1.0, 2.0)[1](1.0) == (1.0, 0.0)  # y unused: zero gradient


def test_jvp_pushes_tangents_and_checks_them():
    out, tangent = cr.jvp(lambda x, y: sin(x) * y, (0.5, 2.0), (1.0, 0.0))
    assert out == pytest.approx(2 * np.sin(0.5)) and tangent == pytest.approx(2 * np.cos(0.5))
    with pytest.raises(InputError, match="got 2 primal.* but 1 tangent"):
        cr.jvp(lambda x, y: x * y, (1.0, 2.0), (1.0,))
    with pytest.raises(InputError, match=r"tangent 0 has shape \(2,\) but primal 0 has shape"):
        cr.jvp(lambda x: x, (np.ones(3),), (np.ones(2),))
    with pytest.raises(InputError, match="must be tuples"):
        cr.jvp(lambda x: x, np.ones(3), np.ones(3))
    assert cr.jvp(lambda x: 5.0, (1.0,), (1.0,)) == (5.0, 0.0)  # constant output


def test_forward_mode_is_one_pass_with_tangents_not_a_backward_pass(monkeypatch):
    from chainrule.engine import api, graph

    def no_backward(*args, **kwargs):
        raise AssertionError("forward mode must not run a backward pass")

    monkeypatch.setattr(graph, "backward_pass", no_backward)
    monkeypatch.setattr(api, "backward_pass", no_backward)
    with pytest.raises(AssertionError, match="must not run a backward pass"):
        cr.jacrev(lambda x: x * 2.0)(np.ones(2))  # the patch is live
    calls = []

    def f(x):
        calls.append(x)
        return cr.tanh(x) * x

    J = cr.jacfwd(f)(np.array([0.1, 0.2, 0.3]))
    assert len(calls) == 3  # one forward pass per input direction
    x = np.array([0.1, 0.2, 0.3])
    assert np.allclose(J, np.diag(np.tanh(x) + x / np.cosh(x) ** 2))


def test_jacrev_makes_one_backward_pass_per_output(monkeypatch):
    from chainrule.engine import api

    passes = []
    original = api.backward_pass
    monkeypatch.setattr(api, "backward_pass", lambda *a: passes.append(1) or original(*a))
    J = cr.jacrev(lambda x: x[:2] * 3.0)(np.ones(5))
    assert len(passes) == 2 and J.shape == (2, 5)


def test_integer_inputs_are_refused_by_name():
    with pytest.raises(InputError, match="grad needs float inputs; argument 0 has dtype int64"):
        cr.grad(lambda x: cr.sum(x))(np.array([1, 2]))
    with pytest.raises(InputError, match="argument 1 has dtype int32"):
        cr.grad(lambda x, y: x * y, argnums=(0, 1))(1.0, np.int32(2))
    with pytest.raises(InputError, match="jvp needs float inputs"):
        cr.jvp(lambda x: x, (np.arange(2),), (np.ones(2),))
    assert cr.grad(lambda x: x * x)(3) == 6.0  # a Python int is a number, taken as float64
    with pytest.raises(InputError, match="not a number or array"):
        cr.grad(lambda x: x)("three")
    with pytest.raises(InputError, match=r"must return a scalar, got shape \(2,\)"):
        cr.grad(lambda x: x * 2)(np.ones(2))


def test_shape_errors_name_the_op_and_both_shapes():
    with pytest.raises(InputError, match=r"^matmul: shapes \(3, 4\) and \(5, 2\) do not align$"):
        cr.tensor(np.ones((3, 4))) @ np.ones((5, 2))
    with pytest.raises(InputError, match=r"^add: shapes \(3,\) and \(4,\) do not broadcast$"):
        cr.grad(lambda x: cr.sum(x + np.ones(4)))(np.ones(3))
    with pytest.raises(InputError, match=r"concatenate: shapes \(2, 3\) and \(2, 4\) do not match"):
        cr.concatenate([np.ones((2, 3)), cr.tensor(np.ones((2, 4)))])
    with pytest.raises(InputError, match=r"^reshape: .*\(shape \(6,\)\)"):
        cr.reshape(cr.tensor(np.ones(6)), (4,))
    with pytest.raises(InputError, match=r"^sum: axis 2 is out of bounds .*\(shape \(2,\)\)"):
        cr.sum(cr.tensor(np.ones(2)), axis=2)
    with pytest.raises(InputError, match=r"^getitem: index 5 is out of bounds .*\(shape \(3,\)\)"):
        cr.tensor(np.ones(3))[5]
    dot = cr.primitive(np.dot, lambda g, out, a, b: (g * b, g * a), name="dot")
    with pytest.raises(InputError, match=r"^dot: .*\(shapes \(2,\), \(3,\)\)$"):
        dot(cr.tensor(np.ones(2)), np.ones(3))
    with pytest.raises(InputError, match="^mul: ufunc 'multiply' did not contain a loop"):
        cr.tensor([1.0]) * "x"
    with pytest.raises(InputError, match="^exp: "):
        cr.exp("abc")
    with pytest.raises(InputError, match="eps > 0"):
        cr.gradcheck(cr.exp, np.ones(2), eps=0.0)


def test_user_primitive_in_reverse_forward_and_second_order():
    # rules written with chainrule's own ops, so they can be differentiated again
    softplus = cr.primitive(lambda x: np.logaddexp(0.0, x),
                            lambda g, out, x: (g * cr.sigmoid(x),),
                            lambda ts, out, x: ts[0] * cr.sigmoid(x), name="softplus")
    x = np.array([-1.0, 0.5, 2.0])
    s = 1 / (1 + np.exp(-x))
    assert np.allclose(cr.grad(lambda x: cr.sum(softplus(x)))(x), s)
    assert np.allclose(cr.jvp(softplus, (x,), (np.ones(3),))[1], s)
    assert np.allclose(cr.hessian(lambda x: cr.sum(softplus(x)))(x), np.diag(s * (1 - s)))
    t = cr.tensor(x, requires_grad=True)
    y = softplus(t)
    assert y.op == "softplus"
    y.sum().backward()
    assert np.allclose(t.grad, s)
    assert cr.gradcheck(lambda x: softplus(x) * x, x).ok


def test_user_primitive_without_jvp_names_itself_in_forward_mode():
    cube = cr.primitive(lambda x: x ** 3, lambda g, out, x: (3 * g * x ** 2,), name="cube")
    assert cr.grad(cube)(2.0) == 12.0
    with pytest.raises(MissingJvpRule, match="^cube: forward mode needs a jvp rule"):
        cr.jvp(cube, (2.0,), (1.0,))
    result = cr.gradcheck(cube, np.array([1.0, 2.0]))
    assert result.ok and result.modes == ("rev",) and "fwd" in result.skipped
    assert "skipped fwd: cube: forward mode needs a jvp rule" in str(result)
    with pytest.raises(InputError, match="must be functions"):
        cr.primitive(lambda x: x, None)
    bad_shape = cr.primitive(lambda x: x * 2, lambda g, out, x: (np.ones(2),), name="bad_shape")
    with pytest.raises(InputError, match=r"bad_shape: vjp gave a cotangent of shape \(2,\) for "
                                         r"input 0, which has shape \(3,\)"):
        cr.grad(lambda x: cr.sum(bad_shape(x)))(np.ones(3))
    bad_count = cr.primitive(lambda x: x * 2, lambda g, out, x: g * 2, name="bad_count")
    with pytest.raises(InputError, match="bad_count: vjp must return a tuple of 1 cotangent"):
        cr.grad(lambda x: cr.sum(bad_count(x)))(np.ones(3))
    scalar_zero = cr.primitive(lambda x: x * 2, lambda g, out, x: (0.0,), name="zero")
    assert np.array_equal(cr.grad(lambda x: cr.sum(scalar_zero(x)))(np.ones(3)), np.zeros(3))


def test_user_primitive_with_numpy_rules_goes_second_order_through_the_twins():
    """np.cos on a tensor runs chainrule.numpy.cos, so rules written with NumPy differentiate
    again: d²/dx² sin = -sin, in all three ways of going second order."""
    np_sin = cr.primitive(np.sin, lambda g, out, x: (g * np.cos(x),),
                          lambda ts, out, x: ts[0] * np.cos(x), name="np_sin")
    assert cr.grad(np_sin)(0.5) == pytest.approx(np.cos(0.5))
    assert cr.grad(cr.grad(np_sin))(0.5) == pytest.approx(-np.sin(0.5))
    assert cr.jvp(lambda x: cr.jvp(np_sin, (x,), (1.0,))[1], (0.5,), (1.0,))[1] == \
        pytest.approx(-np.sin(0.5))
    assert cr.hessian(np_sin)(0.5) == pytest.approx(-np.sin(0.5))


def test_user_primitive_with_rules_numpy_cannot_differentiate_explains_why():
    """A rule using a NumPy function without a differentiable twin (here np.frexp, the
    mantissa) works at first order and says what to do at the second."""
    def cos_by_frexp(x):
        mantissa, exponent = np.frexp(np.cos(x))
        return mantissa * 2.0 ** exponent

    np_sin = cr.primitive(np.sin, lambda g, out, x: (g * cos_by_frexp(x),),
                          lambda ts, out, x: ts[0] * cos_by_frexp(x), name="np_sin")
    assert cr.grad(np_sin)(0.5) == pytest.approx(np.cos(0.5))  # first order is fine
    assert cr.jvp(np_sin, (0.5,), (1.0,))[1] == pytest.approx(np.cos(0.5))
    with pytest.raises(InputError, match="np_sin: to differentiate it again, write its vjp"):
        cr.grad(cr.grad(np_sin))(0.5)
    with pytest.raises(InputError, match="np_sin: to differentiate it again, write its jvp"):
        cr.jvp(lambda x: cr.jvp(np_sin, (x,), (1.0,))[1], (0.5,), (1.0,))
    with pytest.raises(InputError, match="np_sin: to differentiate it again, write its vjp"):
        cr.hessian(np_sin)(0.5)  # forward over reverse: the vjp rule meets tangents


def test_gradcheck_catches_a_rule_off_by_three_percent():
    bad_sin = cr.primitive(np.sin, lambda g, out, x: (g * cos(x) * 1.03,),
                           lambda ts, out, x: ts[0] * cos(x), name="bad_sin")
    x = np.array([[0.2, -0.4], [1.0, 0.1]])
    result = cr.gradcheck(bad_sin, x)
    assert not result.ok
    w = result.worst
    assert w["mode"] == "rev" and w["input"] == 0
    i, j = w["index"]
    assert w["numeric"] == pytest.approx(np.cos(x[i, j]), rel=1e-6)
    assert w["analytic"] == pytest.approx(1.03 * np.cos(x[i, j]))
    assert result.max_rel_error == pytest.approx(0.03 / 1.03, rel=1e-3)
    text = str(result)
    assert text.startswith("gradcheck FAILED") and f"index ({i}, {j})" in text
    assert cr.gradcheck(bad_sin, x, modes="fwd").ok  # its jvp rule is right


def test_gradcheck_result_on_a_correct_function():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=3)
    result = cr.gradcheck(lambda a, b: cr.tanh(a * b) @ b, a, b)
    assert result.ok and result.modes == ("rev", "fwd") and result.entries == 2 * 6 + 2 * 3
    assert result.max_abs_error < 1e-8 and result.max_rel_error < 1e-6
    assert result.worst["mode"] in ("rev", "fwd")
    assert str(result).startswith("gradcheck ok: 18 Jacobian entries")
    as_json = json.loads(json.dumps(result.to_dict()))
    assert as_json["ok"] is True and as_json["modes"] == ["rev", "fwd"]
    assert as_json["worst"]["index"] == list(result.worst["index"])
    with pytest.raises(InputError, match="modes must be chosen from"):
        cr.gradcheck(lambda a: a, a, modes=("backward",))
    with pytest.raises(InputError, match="gradcheck needs float inputs; input 0 has dtype int64"):
        cr.gradcheck(lambda a: a, np.arange(3))


def test_jacobians_of_empty_arrays_and_tuple_outputs():
    assert cr.jacfwd(lambda x: cr.sum(x) * np.ones(2))(np.zeros(0)).shape == (2, 0)
    assert cr.jacrev(lambda x: cr.sum(x) * np.ones(2))(np.zeros(0)).shape == (2, 0)
    assert cr.jacrev(lambda x: x[:0])(np.ones(3)).shape == (0, 3)
    assert cr.jvp(lambda x: (x * x, 3.0), (2.0,), (1.0,)) == ((4.0, 3.0), (4.0, 0.0))
    with pytest.raises(InputError, match="vjp: f must return one array"):
        cr.vjp(lambda x: (x, x), 1.0)


def test_jacobians_with_several_argnums():
    f = lambda x, y: x * y  # noqa: E731
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    for jac in (cr.jacfwd, cr.jacrev):
        Jx, Jy = jac(f, argnums=(0, 1))(x, y)
        assert np.array_equal(Jx, np.diag(y)) and np.array_equal(Jy, np.diag(x))
    assert cr.hessian(lambda x, y: cr.sum(x * x * y), argnums=1)(x, y).shape == (2, 2)
    # blocks of the Hessian of Σ x² y: ∂²/∂x² = diag(2y), ∂²/∂x∂y = diag(2x), ∂²/∂y² = 0
    (Hxx, Hxy), (Hyx, Hyy) = cr.hessian(lambda x, y: cr.sum(x * x * y), argnums=(0, 1))(x, y)
    assert np.array_equal(Hxx, np.diag(2 * y)) and np.array_equal(Hxy, np.diag(2 * x))
    assert np.array_equal(Hyx, np.diag(2 * x)) and np.array_equal(Hyy, np.zeros((2, 2)))
    jx, jy = cr.jacfwd(lambda x: (x * 2.0, cr.sum(x)))(x)
    assert np.array_equal(jx, 2 * np.eye(2)) and np.array_equal(jy, [1.0, 1.0])
