"""The graph and the backward pass: long chains, fan-out, no leaks between calls, no_grad,
topological order and the edge derivatives the graph drawer shows."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.engine.graph import local_derivatives, toposort
from chainrule.errors import InputError


def test_a_chain_of_100000_ops_needs_no_recursion():
    x = cr.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    assert len(toposort(y)) == 100_001
    y.backward()
    assert float(x.grad) == pytest.approx(1.00001 ** 100_000)  # ≈ e
    del y  # freeing the chain must not recurse either


def test_a_long_chain_through_grad_and_jvp():
    def f(x):
        for _ in range(20_000):
            x = cr.tanh(x) * 0.5 + x * 0.5
        return x

    assert np.isfinite(cr.grad(f)(0.3))
    assert cr.grad(f)(0.3) == pytest.approx(cr.jvp(f, (0.3,), (1.0,))[1])


def test_fan_out_accumulates():
    x = cr.tensor(3.0, requires_grad=True)
    y = x * x + x  # x used three times
    y.backward()
    assert x.grad == 7.0  # 2x + 1
    assert cr.grad(lambda x: x * x * x + x / x)(2.0) == 12.0


def test_intermediate_gradients_do_not_leak_between_calls():
    a, b = cr.tensor(2.0, requires_grad=True), cr.tensor(1.0, requires_grad=True)
    c = a * b  # shared intermediate node
    (c * 2).backward()
    assert (a.grad, b.grad) == (2.0, 4.0)
    a.grad = b.grad = None
    (c * 3).backward()  # micrograd's bug would leave c's old gradient in and give 5 * b
    assert (a.grad, b.grad) == (3.0, 6.0)
    assert all(node.grad is None for node in toposort(c * 3) if node.op)
    f = cr.grad(lambda a: (a * 2) ** 2)
    assert f(1.5) == f(1.5) == 12.0


def test_leaf_gradients_accumulate_like_pytorch():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * x).sum().backward()
    assert np.array_equal(x.grad, [4.0, 8.0])


def test_gradients_handed_out_are_separate_writable_arrays():
    ga, gb = cr.grad(lambda a, b: a + b, argnums=(0, 1))(2.0, 1.0)  # one cotangent for both
    ga += 10.0  # an optimiser may update gradients in place
    assert (ga, gb) == (11.0, 1.0)
    gx, gy = cr.grad(lambda x, y: cr.sum(x + y), argnums=(0, 1))(np.ones(3), np.ones(3))
    assert gx.flags.writeable and gy.flags.writeable and not np.shares_memory(gx, gy)
    ga, gb = cr.grad(lambda a, b: cr.sum(a.reshape(-1) + b), argnums=(0, 1))(np.ones((2, 2)),
                                                                             np.ones(4))
    assert not np.shares_memory(ga, gb)  # a reshaped view of b's cotangent would be shared
    a, b = cr.tensor(2.0, requires_grad=True), cr.tensor(1.0, requires_grad=True)
    seed = np.array(1.0)
    (a + b).backward(seed)
    assert a.grad is not b.grad and a.grad is not seed and b.grad is not seed


def test_backward_with_an_explicit_cotangent():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * np.array([1.0, 2.0, 3.0])
    y.backward(np.array([1.0, 0.0, 2.0]))
    assert np.array_equal(x.grad, [1.0, 0.0, 6.0])


def test_backward_errors():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(InputError, match=r"output has shape \(2,\).*cotangent"):
        (x * 2).backward()
    with pytest.raises(InputError, match=r"cotangent has shape \(3,\) but the output has shape"):
        (x * 2).backward(np.ones(3))
    with pytest.raises(InputError, match="not part of a graph"):
        cr.tensor([1.0]).backward()
    with pytest.raises(InputError, match="requires_grad needs a float array"):
        cr.tensor(np.arange(3), requires_grad=True)


def test_no_grad():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.no_grad():
        y = w * 2 + 1
        z = cr.exp(w)
    assert not y.requires_grad and y.op is None and not z.requires_grad
    assert np.array_equal(y.numpy(), [3.0, 5.0])
    assert (w * 2).requires_grad  # recording resumes afterwards
    with cr.no_grad():  # functional transformations are not affected
        assert cr.grad(lambda x: x * x)(3.0) == 6.0


def test_toposort_parents_and_ops_of_the_seeds_graph():
    a, b = cr.tensor(2.0, requires_grad=True), cr.tensor(1.0, requires_grad=True)
    c = a + b
    d = b + 1
    e = c * d
    order = toposort(e)
    position = {id(node): i for i, node in enumerate(order)}  # (== on tensors gives arrays)
    assert order[-1] is e and len(order) == 5
    assert position[id(a)] < position[id(c)] and position[id(b)] < position[id(d)]
    assert position[id(c)] < position[id(e)] and position[id(d)] < position[id(e)]
    assert [id(p) for p in e.parents] == [id(c), id(d)]
    assert [id(p) for p in c.parents] == [id(a), id(b)] and d.parents[0] is b
    assert (e.op, c.op, d.op, a.op) == ("mul", "add", "add", None)
    assert a.parents == ()


def test_local_derivatives_are_the_seeds_edge_labels():
    a, b = cr.tensor(2.0, requires_grad=True), cr.tensor(1.0, requires_grad=True)
    c, d = a + b, b + 1
    e = c * d
    assert local_derivatives(c) == (1.0, 1.0)
    assert local_derivatives(d) == (1.0,)
    assert local_derivatives(e) == (2.0, 3.0)  # ∂e/∂c = d = 2, ∂e/∂d = c = 3
    assert local_derivatives(a) == ()
    x = cr.tensor(0.5, requires_grad=True)
    assert local_derivatives(cr.sigmoid(x))[0] == pytest.approx(
        np.exp(-0.5) / (1 + np.exp(-0.5)) ** 2)
    with pytest.raises(InputError, match="scalar nodes"):
        local_derivatives(cr.tensor([1.0, 2.0], requires_grad=True) * 2)


def test_values_inside_a_transformation_are_tensors_and_outside_are_arrays():
    seen = []

    def f(x):
        seen.append(type(x))
        return x * 2

    assert isinstance(cr.grad(f)(1.0), np.ndarray)
    assert seen == [cr.Tensor]
    assert isinstance(cr.grad(f)(cr.tensor(1.0)), np.ndarray)  # constant tensor in, array out


def test_grad_of_a_requires_grad_tensor_stays_differentiable():
    w = cr.tensor(3.0, requires_grad=True)
    g = cr.grad(lambda x: x ** 3)(w)  # 3 w^2, recorded on w's graph
    assert isinstance(g, cr.Tensor) and float(g.numpy()) == 27.0
    g.backward()
    assert w.grad == 18.0
