"""The hot path's BLAS: C ← α·A·B + β·C and y ← a·x + y, in place, through one library.

Every product of :class:`~chainrule.nn.Network` (z^l = a^{l-1} W^l^T + b^l, BP2's
δ^{l+1} W^{l+1}, BP4's δ^l^T a^{l-1}) goes through :func:`gemm`, which calls BLAS's ``?gemm``
(NumPy's own OpenBLAS, else SciPy's: ``chainrule._fast.library``) with its α and β. β is what
lets an optimiser's step ride on the BP4 product: plain SGD writes ``W ← (1 − ηλ/n)·W − η/m·δ^T a``
(Nielsen's eq. 93) straight into W, momentum ``v ← μ·v − η/m·δ^T a`` into its velocity, with no
gradient array and no extra pass over memory (``Network.gradients(keep=)``), and the forward
pass starts C at b^l with β = 1. :func:`axpy` then moves the weights by the velocity.

Why BLAS itself and not ``np.dot(out=)``: NumPy has no α or β. One library for the whole hot
path: a process that alternates between two (NumPy and SciPy each bundle their own OpenBLAS)
makes each one's idle threads spin against the other's work.

Row-major arrays are column-major transposes: a C-ordered ``C`` (m, n) is the Fortran array
``C^T`` (n, m), so C = α A B + β C is computed as C^T = α B^T A^T + β C^T, each operand
passed without a copy as itself or as its transpose.

>>> import numpy as np
>>> A = np.array([[1.0, 2.0], [3.0, 4.0]]); B = np.array([[1.0, 0.0], [1.0, 1.0]])
>>> C = np.ones((2, 2))
>>> gemm(2.0, A, B.T, 0.5, C)       # 2·A·Bᵀ + 0.5·C
array([[ 2.5,  6.5],
       [ 6.5, 14.5]])
>>> axpy(-1.0, np.ones(2), C[0])    # row 0 of C minus 1, in place
array([1.5, 5.5])
"""

from __future__ import annotations

import numpy as np

from chainrule._fast import kernels
from chainrule._fast.library import library


def _routine(name, dtype):
    return library()["routines"].get((name, dtype.char))


def _fortran(M):
    """(F-ordered array P, trans) with op(P) = M: M itself, or the transpose of a C-ordered M."""
    if M.flags.f_contiguous:
        return M, 0
    if M.flags.c_contiguous:
        return M.T, 1
    return np.asfortranarray(M), 0


MAX_PIECES = 4
PIECE_MACS = 1 << 22
ALIGN = 16


def plan(rows, cols, k):
    """How :func:`gemm` cuts C (rows × cols) = A (rows × k) B into pieces: ``(by_rows, piece,
    count)``, pieces of C's rows (``by_rows``) or of its columns, whichever C has more of,
    ``piece`` wide each but the last, which takes the rest.

    BLAS rounds a product differently when it is cut differently (OpenBLAS cuts it by its
    thread count), so the pieces depend on the shape only: at most :data:`MAX_PIECES`, each of
    about :data:`PIECE_MACS` multiply-adds or more, a multiple of :data:`ALIGN` wide. The C
    step shares them between threads (the same plan, ``_kernels.c``), so a training run gives
    the same bits on one thread or several, on an idle machine or a busy one.

    >>> plan(128, 100, 784)      # N2's forward product: two pieces of 64 rows
    (True, 64, 2)
    >>> plan(10, 30, 784)        # N1's: whole
    (False, 30, 1)
    """
    dim = max(rows, cols)
    count = min(MAX_PIECES, rows * cols * k // PIECE_MACS, dim // ALIGN)
    if count < 2:
        return rows >= cols, dim, 1
    return rows >= cols, dim // count // ALIGN * ALIGN, count


def _bounds(dim, piece, count):
    """The (lo, hi) of each piece."""
    return [(i * piece, dim if i == count - 1 else (i + 1) * piece) for i in range(count)]


def _block(M, parent_transposed):
    """A piece of an operand as the C step passes it to BLAS: itself if contiguous, else a
    copy in its parent's order (the same transpose flag, so the same routine)."""
    if M.flags.c_contiguous or M.flags.f_contiguous:
        return M
    return np.asfortranarray(M) if parent_transposed else np.ascontiguousarray(M)


def gemm(alpha, A, B, beta, C):
    """C ← α·A·B + β·C in place, for 2-d arrays (C C-contiguous); returns C.

    A and B may be C- or F-ordered (e.g. ``W.T``) and are not copied. With β = 0 the old
    contents of C are never read (C may be ``np.empty``). Arrays of another dtype than C, or
    a dtype BLAS has no routine for, take NumPy's slower path with the same result. A large
    product runs in the pieces of :func:`plan`, one after the other.

    >>> C = np.empty((1, 1), dtype=np.float32)
    >>> gemm(1.0, np.ones((1, 3), np.float32), np.ones((3, 1), np.float32), 0.0, C)
    array([[3.]], dtype=float32)
    """
    routine = _routine("gemm", C.dtype)
    if routine is None or A.dtype != C.dtype or B.dtype != C.dtype or not C.dtype.isnative \
            or not C.flags.c_contiguous or not C.size:
        product = np.dot(A, B)
        C[...] = alpha * product + beta * C if beta else alpha * product
        return C
    if kernels.gemm(alpha, A, B, beta, C):     # the same pieces in C, on the run's threads
        return C
    by_rows, piece, count = plan(C.shape[0], C.shape[1], A.shape[1])
    if count == 1:
        return _whole(routine, alpha, A, B, beta, C)
    a_t = A.flags.f_contiguous and not A.flags.c_contiguous
    b_t = B.flags.f_contiguous and not B.flags.c_contiguous
    for lo, hi in _bounds(C.shape[0] if by_rows else C.shape[1], piece, count):
        if by_rows:
            _whole(routine, alpha, _block(A[lo:hi], a_t), B, beta, C[lo:hi])
        else:
            block = np.ascontiguousarray(C[:, lo:hi])
            _whole(routine, alpha, A, _block(B[:, lo:hi], b_t), beta, block)
            C[:, lo:hi] = block
    return C


def _whole(routine, alpha, A, B, beta, C):
    """C ← α·A·B + β·C in one call of ``routine`` (C C-contiguous)."""
    b, trans_b = _fortran(B.T)
    a, trans_a = _fortran(A.T)
    result = routine(alpha, b, a, beta=beta, c=C.T, trans_a=trans_b, trans_b=trans_a,
                     overwrite_c=1)
    if not np.may_share_memory(result, C):   # f2py had to copy C: write the result back
        C[...] = result.T
    return C


def axpy(a, x, y):
    """y ← a·x + y in place, for C-contiguous arrays of one shape and dtype; returns y.

    One BLAS call over the whole array, or (with the C extension) the same call over pieces of
    it on the run's threads, the same bits; anything else takes NumPy's path.

    >>> y = np.ones(3, dtype=np.float32)
    >>> axpy(2.0, np.arange(3, dtype=np.float32), y)
    array([1., 3., 5.], dtype=float32)
    """
    if kernels.axpy(a, x, y):       # in pieces, on the run's threads: the same bits
        return y
    routine = _routine("axpy", y.dtype)
    if routine is None or x.dtype != y.dtype or x.shape != y.shape or not y.dtype.isnative \
            or not (x.flags.c_contiguous and y.flags.c_contiguous) or not y.size:
        y += a * x
        return y
    flat = y.reshape(-1)
    result = routine(x.reshape(-1), flat, a=a)
    if not np.may_share_memory(result, y):   # f2py had to copy y: write the result back
        flat[...] = result
    return y
