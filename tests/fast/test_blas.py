"""chainrule._fast.blas: C ← αAB + βC and y ← ax + y in place, for every layout and dtype."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule._fast.blas import axpy, gemm


def operand(rng, rows, cols, dtype, transposed):
    """A (rows, cols) array, C-ordered or as the transpose of a C-ordered one (F-ordered)."""
    if transposed:
        return rng.normal(size=(cols, rows)).astype(dtype).T
    return rng.normal(size=(rows, cols)).astype(dtype)


@settings(max_examples=80, deadline=None)
@given(m=st.integers(1, 9), k=st.integers(1, 9), n=st.integers(1, 9),
       ta=st.booleans(), tb=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]),
       alpha=st.sampled_from([1.0, -0.3, 2.5]), beta=st.sampled_from([0.0, 1.0, 0.9]),
       seed=st.integers(0, 1000))
def test_gemm_is_alpha_a_b_plus_beta_c_in_place(m, k, n, ta, tb, dtype, alpha, beta, seed):
    rng = np.random.default_rng(seed)
    A, B = operand(rng, m, k, dtype, ta), operand(rng, k, n, dtype, tb)
    C = rng.normal(size=(m, n)).astype(dtype)
    expected = alpha * (A.astype(np.float64) @ B.astype(np.float64)) + beta * C
    address = C.__array_interface__["data"][0]
    assert gemm(alpha, A, B, beta, C) is C
    assert C.__array_interface__["data"][0] == address and C.dtype == dtype
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(C, expected, rtol=tolerance, atol=tolerance)


def test_beta_zero_never_reads_c():
    C = np.full((2, 2), np.nan)
    gemm(1.0, np.eye(2), np.ones((2, 2)), 0.0, C)
    np.testing.assert_array_equal(C, np.ones((2, 2)))


def test_what_blas_cannot_take_goes_through_numpy_with_the_same_result():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(3, 4)), rng.normal(size=(4, 5))
    strided = rng.normal(size=(3, 10))[:, ::2]                     # not contiguous
    kept = strided.copy()
    gemm(2.0, A, B, 0.5, strided)
    np.testing.assert_allclose(strided, 2 * A @ B + 0.5 * kept)
    mixed = np.zeros((3, 5), np.float32)                           # float64 operands
    gemm(1.0, A, B, 0.0, mixed)
    np.testing.assert_allclose(mixed, A @ B, rtol=1e-6)
    ints = np.zeros((3, 5), np.int64)                              # no BLAS routine
    gemm(1.0, np.ones((3, 4), np.int64), np.ones((4, 5), np.int64), 0.0, ints)
    np.testing.assert_array_equal(ints, 4)
    sliced = rng.normal(size=(6, 4))[::2]                          # a strided operand
    C = np.empty((3, 5))
    np.testing.assert_allclose(gemm(1.0, sliced, B, 0.0, C), sliced @ B)
    swapped = np.zeros((3, 5), ">f8")                              # big-endian, all three
    gemm(1.0, A.astype(">f8"), B.astype(">f8"), 0.0, swapped)
    np.testing.assert_allclose(swapped, A @ B)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axpy_in_place_and_its_fallbacks(dtype):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(4, 5)).astype(dtype), rng.normal(size=(4, 5)).astype(dtype)
    expected = -0.5 * x + y
    address = y.__array_interface__["data"][0]
    assert axpy(-0.5, x, y) is y and y.__array_interface__["data"][0] == address
    np.testing.assert_allclose(y, expected, rtol=1e-6)
    strided = np.zeros(10, dtype)[::2]
    axpy(2.0, np.ones(5, dtype), strided)
    np.testing.assert_array_equal(strided, 2.0)
    swapped = np.ones(5, np.dtype(dtype).newbyteorder(">"))           # big-endian
    axpy(2.0, np.arange(5).astype(swapped.dtype), swapped)
    np.testing.assert_array_equal(swapped, 1.0 + 2.0 * np.arange(5))
