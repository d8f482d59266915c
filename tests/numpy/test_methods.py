"""Tensor's NumPy-style methods and operators: both modes to order 2, NumPy's values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

import chainrule as cr
from tests.numpy.common import SETTINGS, check, seeds, values


def tensor(x):
    return x if isinstance(x, cr.Tensor) else cr.tensor(x)


METHODS = {  # name -> (the method call, NumPy's)
    "min": lambda x: x.min(axis=1),
    "prod": lambda x: x.prod(axis=0, keepdims=True),
    "var": lambda x: x.var(ddof=1),
    "std": lambda x: x.std(axis=1),
    "cumsum": lambda x: x.cumsum(axis=1),
    "cumprod": lambda x: x.cumprod(),
    "ravel": lambda x: x.ravel() * np.arange(6.0),
    "flatten": lambda x: x.flatten() * np.arange(6.0),
    "squeeze": lambda x: x.reshape(1, 2, 3).squeeze() * 2,
    "clip": lambda x: x.clip(-0.7, 0.7),
    "clip_above": lambda x: x.clip(max=0.7),
    "mod": lambda x: x % 0.9,
    "rmod": lambda x: 3.3 % (x + 3),
    "floordiv": lambda x: (x // 0.9) * x,
    "swapaxes": lambda x: x.swapaxes(0, 1),
    "dot": lambda x: x.dot(x.T),
    "trace": lambda x: x.trace(1),
    "diagonal": lambda x: x.diagonal(),
    "round": lambda x: (x + 0.0123).round(1) * x,  # away from the jumps at k.k5
    "take": lambda x: x.take([0, 5, 5]),
    "astype": lambda x: x.astype(np.float64) * 2,
}


@pytest.mark.parametrize("name", sorted(METHODS))
@SETTINGS
@given(seed=seeds)
def test_methods(name, seed):
    x = values(np.random.default_rng(seed), (2, 3), "distinct") + 0.05
    call = METHODS[name]
    check(lambda x: call(tensor(x)), x)
    plain = x.copy()
    want = call(plain) if name not in ("clip_above",) else np.clip(plain, None, 0.7)
    np.testing.assert_allclose(call(cr.tensor(x)).numpy(), want, rtol=1e-12)


def test_at_add_and_set_are_functional_updates():
    x = np.array([1.0, 2.0, 3.0])
    check(lambda x: tensor(x).at[[0, 0, 2]].add(x[:3] * 2), x)
    check(lambda x: tensor(x).at[1:].set(x[:2] ** 2), x)
    t = cr.tensor(x)
    assert np.array_equal(t.at[[0, 0]].add(1.0).numpy(), [3.0, 2.0, 3.0])  # repeats add up
    assert np.array_equal(t.at[1].set(9.0).numpy(), [1.0, 9.0, 3.0])
    assert np.array_equal(t.numpy(), x)  # a new tensor each time
    with pytest.raises(ValueError, match="more than once"):
        t.at[[1, 1]].set(0.0)


def test_astype_to_an_integer_type_is_a_constant():
    w = cr.tensor([1.7, -0.2], requires_grad=True)
    assert np.array_equal(w.astype(int).numpy(), [1, 0]) and not w.astype(int).requires_grad
    assert w.astype(np.float32).dtype == np.float32
    assert w.argmax() == 0 and w.argsort().tolist() == [1, 0]
