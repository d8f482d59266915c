"""Tensor: dtypes, operators with arrays and scalars on either side, comparisons, indexing,
methods, and float32 kept float32 end to end."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.engine.ops import cos, sin
from chainrule.errors import InputError


def test_dtypes_are_kept_and_python_numbers_become_float64():
    assert cr.tensor(1).dtype == np.float64
    assert cr.tensor([1, 2]).dtype == np.float64
    assert cr.tensor(np.zeros(2, np.float32)).dtype == np.float32
    assert cr.tensor(np.arange(3)).dtype == np.int64  # arrays keep their dtype
    t = cr.tensor(np.ones((2, 3)), requires_grad=True)
    assert (t.shape, t.ndim, t.size, t.requires_grad, t.grad, t.op) == ((2, 3), 2, 6, True, None,
                                                                        None)
    with pytest.raises(InputError, match="cannot make a float array"):
        cr.tensor("abc")


OPERATORS = [
    ("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b), ("pow", lambda a, b: a ** b),
]


@pytest.mark.parametrize("name,op", OPERATORS)
def test_operators_with_arrays_and_scalars_on_either_side(name, op):
    x = np.array([0.5, 1.5, 2.0])
    t = cr.tensor(x, requires_grad=True)
    for other in (2.0, np.array([1.0, 2.0, 3.0]), np.float64(1.5)):
        left, right = op(t, other), op(other, t)
        assert type(left) is cr.Tensor and type(right) is cr.Tensor, type(right)
        assert left.op == name and right.op == name
        assert np.allclose(left.numpy(), op(x, other))
        assert np.allclose(right.numpy(), op(other, x))


def test_matmul_neg_abs_and_methods():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
    tA = cr.tensor(A)
    assert np.allclose((tA @ B).numpy(), A @ B) and np.allclose((B.T @ tA.T).numpy(), B.T @ A.T)
    assert np.allclose((-tA).numpy(), -A) and np.allclose(abs(tA).numpy(), np.abs(A))
    assert np.allclose(tA.T.numpy(), A.T)
    assert np.allclose(tA.sum(axis=0).numpy(), A.sum(axis=0))
    assert np.allclose(tA.mean(axis=1, keepdims=True).numpy(), A.mean(axis=1, keepdims=True))
    assert np.allclose(tA.max().numpy(), A.max())
    assert tA.reshape(3, 2).shape == (3, 2) and tA.reshape((6,)).shape == (6,)
    assert tA.transpose(1, 0).shape == (3, 2) and tA.transpose().shape == (3, 2)
    assert np.allclose(tA[1, ::-1].numpy(), A[1, ::-1])
    assert np.allclose(tA[[0, 0]].numpy(), A[[0, 0]])
    assert np.allclose(tA.exp().numpy(), np.exp(A)) and len(tA) == 2
    assert float(cr.tensor(2.5)) == 2.5 and cr.tensor(2.5).item() == 2.5
    rows = list(tA)
    assert len(rows) == 2 and np.array_equal(rows[1].numpy(), A[1])


def test_comparisons_return_plain_boolean_arrays():
    t = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result in (t < 2, t <= 2, t > 2, t >= 2, t == 2, t != 2, t > cr.tensor(1.5)):
        assert type(result) is np.ndarray and result.dtype == bool
    assert np.array_equal(t > 1.5, [False, True, True])


def test_numpy_functions_keep_the_graph_or_refuse_the_tensor():
    t = cr.tensor([1.0], requires_grad=True)
    np.sum(np.exp(t) * np.ones(1)).backward()  # the twins of chainrule.numpy: still a graph
    assert np.allclose(t.grad, np.e)
    with pytest.raises(TypeError, match="chainrule.numpy has no unique"):
        np.unique(t)  # no twin: refused, not silently converted
    assert np.array_equal(np.asarray(t), [1.0])  # explicit conversion is allowed


def test_repr_says_what_the_tensor_is():
    assert repr(cr.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    x = cr.tensor(1.0, requires_grad=True)
    assert repr(x) == "tensor(1., requires_grad=True)"
    assert repr(x * 2) == "tensor(2., op=mul)"


FLOAT32_OPS = {
    "add/sub/mul/div with python floats": lambda x: (0.5 * x + 1.5 - x / 3.0) * 2.0 - 1.0 / (x + 3),
    "pow": lambda x: x ** 2 + 2.0 ** x + (x * x + 1) ** 0.5,
    "exp/log/sqrt": lambda x: cr.exp(x) + cr.log(x * x + 1) + cr.sqrt(x * x + 1),
    "activations": lambda x: cr.tanh(x) + cr.sigmoid(x) + cr.relu(x) + cr.leaky_relu(x, 0.1),
    "trig/abs/clip": lambda x: sin(x) + cos(x) + cr.abs(x) + cr.clip(x, -0.5, 0.5),
    "max/min/where": lambda x: cr.maximum(x, 0.1) + cr.minimum(x, 0.2) + cr.where(x > 0, x, 0.0),
    "reductions": lambda x: cr.sum(x, axis=0) + cr.mean(x, axis=0) + cr.max(x, axis=0),
    "softmax": lambda x: cr.softmax(x, axis=1) + cr.log_softmax(x, axis=0),
    "shape ops": lambda x: cr.concatenate([x, x.T])[1:4] + cr.stack([x, x])[1:2].sum(0),
    "matmul": lambda x: x @ x.T @ x[:, 0] * 1.0,
}


@pytest.mark.parametrize("name", sorted(FLOAT32_OPS))
def test_float32_stays_float32_values_and_gradients(name):
    f = FLOAT32_OPS[name]
    x = np.random.default_rng(0).normal(size=(3, 3)).astype(np.float32)
    assert np.asarray(f(cr.tensor(x))).dtype == np.float32
    assert cr.grad(lambda x: cr.sum(f(x)))(x).dtype == np.float32
    assert cr.jvp(f, (x,), (np.ones_like(x),))[1].dtype == np.float32
    assert cr.hessian(lambda x: cr.sum(f(x)))(x[:2, :2] if name == "matmul" else x).dtype == \
        np.float32


def test_float32_mlp_gradients_stay_float32():
    rng = np.random.default_rng(0)
    W1, b1 = rng.normal(size=(5, 8)).astype(np.float32), np.zeros(5, np.float32)
    W2, b2 = rng.normal(size=(3, 5)).astype(np.float32), np.zeros(3, np.float32)
    X = rng.random((4, 8), dtype=np.float32)
    Y = np.eye(3, dtype=np.float32)[[0, 2, 1, 0]]

    def cost(W1, b1, W2, b2):
        a = cr.relu(X @ W1.T + b1)
        return -cr.sum(Y * cr.log_softmax(a @ W2.T + b2, axis=1)) / len(X)

    value, grads = cr.value_and_grad(cost, argnums=(0, 1, 2, 3))(W1, b1, W2, b2)
    assert value.dtype == np.float32
    assert [g.dtype for g in grads] == [np.float32] * 4
    assert [g.shape for g in grads] == [(5, 8), (5,), (3, 5), (3,)]
    for g in grads:
        assert g.flags.writeable  # optimisers update gradients and parameters in place
