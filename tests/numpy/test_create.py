"""Constructors: those computed from their arguments propagate derivatives, those that take
only a shape do not (and say so by returning NumPy arrays)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from tests.numpy.common import assert_values_like_numpy, check


@pytest.mark.parametrize("endpoint", [True, False])
@pytest.mark.parametrize("num", [1, 2, 5])
def test_linspace_with_watched_ends(num, endpoint):
    start, stop = np.array([0.5, -1.0]), np.array([[2.0, 3.0], [1.0, 0.0]])
    f = lambda a, b: cnp.linspace(a, b, num, endpoint=endpoint, axis=1)  # noqa: E731
    check(f, start, stop)
    assert_values_like_numpy(f, lambda a, b: np.linspace(a, b, num, endpoint=endpoint, axis=1),
                             start, stop)
    # d Σ linspace(0, b, 5) / db = Σ_k k/4 = 2.5
    assert cr.grad(lambda b: cnp.sum(cnp.linspace(0.0, b, 5)))(1.0) == 2.5


def test_logspace_geomspace_arange_and_meshgrid_propagate():
    check(lambda a, b: cnp.logspace(a, b, 4, base=2.0), np.array(0.5), np.array(1.5))
    check(lambda a, b: cnp.geomspace(a, b, 4), np.array(0.5), np.array(3.0))
    check(lambda s: cnp.arange(s, 5.0, 1.5), np.array(0.25))
    check(lambda x, y: cnp.meshgrid(x, y)[0] * cnp.meshgrid(x, y)[1], np.ones(2),
          np.arange(3.0))
    x, y = np.arange(2.0), np.arange(3.0) + 5
    for indexing in ("xy", "ij"):
        ours = cnp.meshgrid(cr.tensor(x), cr.tensor(y), indexing=indexing)
        for got, want in zip(ours, np.meshgrid(x, y, indexing=indexing)):
            np.testing.assert_array_equal(got.numpy(), want)
    np.testing.assert_array_equal(cnp.arange(cr.tensor(1.0), 4.0).numpy(), np.arange(1.0, 4.0))


def test_array_of_tensors_stacks_them():
    f = lambda a, b: cnp.array([[a, b], [b, a * 2]])  # noqa: E731
    check(f, np.array(1.5), np.array(-0.5))
    assert cnp.array([[cr.tensor(1.0), 2.0]]).shape == (1, 2)


def test_full_like_propagates_a_watched_fill_value_and_zeros_like_is_a_constant():
    check(lambda v: cnp.full_like(np.zeros((2, 3)), v), np.array(1.5))
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    for made in (cnp.zeros_like(t), cnp.ones_like(t), cnp.full_like(t, 3.0)):
        assert type(made) is np.ndarray and made.shape == (2,)
    assert type(cnp.eye(2)) is np.ndarray
