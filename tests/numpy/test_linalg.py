"""chainrule.numpy.linalg: both modes to order 2 over stacks of well-conditioned matrices, NumPy's
values, and known values of the matrix calculus."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
import chainrule.numpy as cnp
from tests.numpy.common import SETTINGS, assert_values_like_numpy, check, seeds

batches = st.sampled_from([(), (2,)])
sides = st.integers(1, 3)


def well_conditioned(rng, batch, n):
    return rng.normal(size=batch + (n, n)) * 0.3 + 2 * np.eye(n)


CASES = {  # name -> the call, on (module, a, b); b is a stack of matrices (n, 2)
    "inv": lambda m, a, b: m.linalg.inv(a),
    "solve": lambda m, a, b: m.linalg.solve(a, b),
    "solve_vector": lambda m, a, b: m.linalg.solve(a, b[..., 0]) if a.ndim == 2 else
    m.linalg.solve(a, b[..., 0, :1] * np.ones(a.shape[-1])),
    "det": lambda m, a, b: m.linalg.det(a),
    "slogdet": lambda m, a, b: m.linalg.slogdet(a)[1],
    "cholesky": lambda m, a, b: m.linalg.cholesky(m.matmul(a, m.swapaxes(a, -1, -2))),
    "cholesky_upper": lambda m, a, b: m.linalg.cholesky((a + m.swapaxes(a, -1, -2)) * 2,
                                                        upper=True),
    "matrix_power_5": lambda m, a, b: m.linalg.matrix_power(a, 5),
    "matrix_power_-2": lambda m, a, b: m.linalg.matrix_power(a, -2),
    "matrix_power_0": lambda m, a, b: m.linalg.matrix_power(a, 0) * 1.0 + a,
    "multi_dot": lambda m, a, b: m.linalg.multi_dot([a[..., 0, :], a, b]) if a.ndim == 2 else
    m.linalg.inv(a),
}


@pytest.mark.parametrize("name", sorted(CASES))
@SETTINGS
@given(batch=batches, n=sides, seed=seeds)
def test_linalg(name, batch, n, seed):
    rng = np.random.default_rng(seed)
    a, b = well_conditioned(rng, batch, n), rng.normal(size=(n, 2))
    call = CASES[name]
    check(lambda a, b: call(cnp, a, b), a, b)
    assert_values_like_numpy(lambda a, b: call(cnp, a, b), lambda a, b: call(np, a, b), a, b)


NORMS = [(None, None), (2, None), (1, None), (np.inf, None), (-np.inf, None), (3, None),
         (0.5, 0), (None, 1), (2, -1), (np.inf, 0), ("fro", (0, 1)), (1, (0, 1)),
         (-1, (1, 0)), (np.inf, (0, 1)), (-np.inf, (0, 1)), (None, (0, 1))]


@pytest.mark.parametrize(("ord", "axis"), NORMS)
@SETTINGS
@given(seed=seeds, keepdims=st.booleans(), vector=st.booleans())
def test_norm(ord, axis, seed, keepdims, vector):
    x = np.random.default_rng(seed).normal(size=(2, 3))  # no ties among sums or entries
    if axis is None and ord is not None and (vector or ord not in (1, -1, np.inf, -np.inf)):
        x = x[0]  # ord with axis None: a vector norm of a vector, a matrix norm of a matrix
    check(lambda x: cnp.linalg.norm(x, ord, axis, keepdims), x)
    assert_values_like_numpy(cnp.linalg.norm, np.linalg.norm, x, ord=ord, axis=axis,
                             keepdims=keepdims)


def test_norm_refuses_what_needs_the_svd():
    with pytest.raises(ValueError, match="SVD"):
        cnp.linalg.norm(cr.tensor(np.eye(2)), 2)


def test_known_values():
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    # d det A / dA = det A · A⁻ᵀ = the cofactor matrix [[3, -1], [-1, 2]]
    assert np.allclose(cr.grad(cnp.linalg.det)(a), [[3.0, -1.0], [-1.0, 2.0]])
    # d log|det A| / dA = A⁻ᵀ = [[3, -1], [-1, 2]] / 5
    assert np.allclose(cr.grad(lambda a: cnp.linalg.slogdet(a).logabsdet)(a),
                       np.array([[3.0, -1.0], [-1.0, 2.0]]) / 5)
    # ∂(A⁻¹)₀₀/∂A_ij = -(A⁻¹)₀ᵢ (A⁻¹)ⱼ₀: with A⁻¹ = [[3, -1], [-1, 2]] / 5, -[[9, -3], [-3, 1]] / 25
    assert np.allclose(cr.grad(lambda a: cnp.linalg.inv(a)[0, 0])(a),
                       -np.array([[9.0, -3.0], [-3.0, 1.0]]) / 25)
    # the Cholesky factor of [[4, 2], [2, 2]] is [[2, 0], [1, 1]]; d L₀₀ / dA₀₀ = 1 / (2 L₀₀)
    assert np.isclose(cr.grad(lambda a: cnp.linalg.cholesky(a)[0, 0])(
        np.array([[4.0, 2.0], [2.0, 2.0]]))[0, 0], 0.25)
