"""einsum for any subscripts (repeated labels, ellipses, implicit output, broadcasting) and the
products composed from it: both modes to order 2 and NumPy's values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
import chainrule.numpy as cnp
from tests.numpy.common import SETTINGS, assert_values_like_numpy, check, seeds

EINSUM = {  # subscripts -> operand shapes (n = a side drawn by hypothesis)
    "ij,jk->ik": lambda n: [(2, n), (n, 3)],
    "ij,jk": lambda n: [(2, n), (n, 3)],
    "ii": lambda n: [(n, n)],
    "ii->i": lambda n: [(n, n)],
    "iij->j": lambda n: [(n, n, 2)],
    "iji->j": lambda n: [(n, 2, n)],
    "ij->": lambda n: [(2, n)],
    "ij->ji": lambda n: [(2, n)],
    "ba": lambda n: [(2, n)],
    "i,i->": lambda n: [(n,), (n,)],
    "i,j->ij": lambda n: [(n,), (2,)],
    "ij,ij->i": lambda n: [(2, n), (1, n)],  # a label of size 1 broadcasts
    "...ii->...": lambda n: [(2, n, n)],
    "...ij,...jk->...ik": lambda n: [(2, 1, 2, n), (3, n, 2)],
    "i...,i...": lambda n: [(n, 2), (n, 2)],
    "bij,bjk,bkl->bil": lambda n: [(2, n, 2), (2, 2, n), (2, n, 1)],
    "ii,i->i": lambda n: [(n, n), (n,)],
    ",ij->ij": lambda n: [(), (n, 2)],
}


@pytest.mark.parametrize("subscripts", sorted(EINSUM))
@SETTINGS
@given(n=st.integers(1, 3), seed=seeds)
def test_einsum(subscripts, n, seed):
    rng = np.random.default_rng(seed)
    operands = [rng.normal(size=s) for s in EINSUM[subscripts](n)]
    check(lambda *xs: cnp.einsum(subscripts, *xs), *operands)
    assert_values_like_numpy(lambda *xs: cnp.einsum(subscripts, *xs),
                             lambda *xs: np.einsum(subscripts, *xs), *operands)


def test_einsum_known_values():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    # d tr(A)/dA = I; d Σ_i A_ii² / dA = 2 diag(A_ii) (a repeated label in a square)
    assert np.array_equal(cr.grad(lambda a: cnp.einsum("ii", a))(a), np.eye(2))
    assert np.array_equal(cr.grad(lambda a: cnp.sum(cnp.einsum("ii->i", a) ** 2))(a),
                          [[2.0, 0.0], [0.0, 8.0]])
    # d (xᵀ A x)/dx = (A + Aᵀ) x: at x = [1, 1], [[2, 5], [5, 8]] [1, 1] = [7, 13]
    assert np.array_equal(cr.grad(lambda x: cnp.einsum("i,ij,j", x, a, x))(np.ones(2)), [7, 13])


def test_einsum_refuses_subscripts_that_do_not_fit():
    with pytest.raises(ValueError, match="do not fit"):
        cnp.einsum("ij", cr.tensor(np.ones(3)))
    with pytest.raises(ValueError, match="2 operand"):
        cnp.einsum("i,i", cr.tensor(np.ones(3)))


PRODUCTS = {  # name -> (operand shapes, the call)
    "tensordot": ([(2, 3, 2), (3, 2, 2)], lambda m, a, b: m.tensordot(a, b)),
    "tensordot_axes": ([(2, 3), (3, 2, 2)], lambda m, a, b: m.tensordot(a, b, ([1], [0]))),
    "tensordot_pairs": ([(2, 3), (2, 3)], lambda m, a, b: m.tensordot(a, b, ([0, 1], [0, 1]))),
    "inner": ([(2, 3), (4, 3)], lambda m, a, b: m.inner(a, b)),
    "inner_scalar": ([(), (2, 3)], lambda m, a, b: m.inner(a, b)),
    "outer": ([(2, 2), (3,)], lambda m, a, b: m.outer(a, b)),
    "kron": ([(2, 2), (2, 3)], lambda m, a, b: m.kron(a, b)),
    "kron_ranks": ([(3,), (2, 2)], lambda m, a, b: m.kron(a, b)),
    "dot_scalar": ([(), (2, 3)], lambda m, a, b: m.dot(a, b)),
    "dot_vectors": ([(3,), (3,)], lambda m, a, b: m.dot(a, b)),
    "dot_matrix_vector": ([(2, 3), (3,)], lambda m, a, b: m.dot(a, b)),
    "dot_nd": ([(2, 2, 3), (2, 3, 2)], lambda m, a, b: m.dot(a, b)),
    "vdot": ([(2, 3), (3, 2)], lambda m, a, b: m.vdot(a, b)),
    "matmul": ([(2, 2, 3), (3, 2)], lambda m, a, b: m.matmul(a, b)),
    "cross": ([(2, 3), (3,)], lambda m, a, b: m.cross(a, b)),
    "cross_2d": ([(2, 2), (2, 2)], lambda m, a, b: m.cross(a, b)),
    "cross_axis": ([(3, 2), (3, 2)], lambda m, a, b: m.cross(a, b, axis=0)),
}


@pytest.mark.parametrize("name", sorted(PRODUCTS))
@pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")  # cross_2d
@SETTINGS
@given(seed=seeds)
def test_products(name, seed):
    rng = np.random.default_rng(seed)
    shapes, call = PRODUCTS[name]
    a, b = (rng.normal(size=s) for s in shapes)
    check(lambda a, b: call(cnp, a, b), a, b)
    assert_values_like_numpy(lambda a, b: call(cnp, a, b), lambda a, b: call(np, a, b), a, b)


DIAGONALS = {
    "trace": ((3, 3), lambda m, x: m.trace(x)),
    "trace_offset": ((2, 3, 4), lambda m, x: m.trace(x, 1, 1, 2)),
    "diagonal": ((3, 4), lambda m, x: m.diagonal(x, -1)),
    "diagonal_axes": ((2, 3, 3), lambda m, x: m.diagonal(x, 0, 2, 0)),
    "diag_of_matrix": ((3, 2), lambda m, x: m.diag(x, 1)),
    "diag_of_vector": ((3,), lambda m, x: m.diag(x, -1)),
    "triu": ((3, 4), lambda m, x: m.triu(x, 1)),
    "tril": ((2, 3, 3), lambda m, x: m.tril(x)),
    "tril_of_vector": ((3,), lambda m, x: m.tril(x, -1)),
}


@pytest.mark.parametrize("name", sorted(DIAGONALS))
@SETTINGS
@given(seed=seeds)
def test_diagonals(name, seed):
    shape, call = DIAGONALS[name]
    x = np.random.default_rng(seed).normal(size=shape)
    check(lambda x: call(cnp, x) * 1.5, x)
    assert_values_like_numpy(lambda x: call(cnp, x), lambda x: call(np, x), x)
