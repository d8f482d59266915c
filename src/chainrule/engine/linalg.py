"""Linear algebra rows: inv, solve, det, slogdet, cholesky (stacks of matrices broadcast, as
in NumPy). The rules are the matrix calculus of Giles, "An extended collection of matrix
derivative results" (2008), and of Murray, "Differentiation of the Cholesky decomposition"
(2016), written with matmul and these rows, so they differentiate again:

- inv:  dX⁻¹ = -X⁻¹ dX X⁻¹,  so  Ā = -X⁻ᵀ Ḡ X⁻ᵀ;
- solve (x = A⁻¹b):  dx = A⁻¹(db - dA x),  so  b̄ = A⁻ᵀ ḡ,  Ā = -b̄ xᵀ;
- det:  d det A = det A · tr(A⁻¹ dA),  so  Ā = ḡ det A · A⁻ᵀ;  log|det A| likewise without det A;
- cholesky (A = L Lᵀ):  dL = L Φ(L⁻¹ sym(dA) L⁻ᵀ), Φ the lower triangle with half its diagonal.

Derivatives of det and slogdet need an invertible matrix (they use A⁻¹), as autograd's do.

>>> import chainrule as cr
>>> cr.grad(det)(np.array([[2.0, 1.0], [1.0, 3.0]]))   # the cofactors: det A · A⁻ᵀ
array([[ 3., -1.],
       [-1.,  2.]])
"""

from __future__ import annotations

import numpy as np

from chainrule.engine.graph import _EMPTY, Primitive, _shape, apply
from chainrule.engine.ops import sum
from chainrule.engine.ops_shape import _add_axis, _swap_last, matmul, reshape
from chainrule.engine.tensor import raw


def _phi(x):
    """The lower triangle of each matrix, its diagonal halved (a constant mask: linear)."""
    n = _shape(x)[-1]
    return x * (np.tril(np.ones((n, n))) - 0.5 * np.eye(n))


def _symmetric(x):
    return (x + _swap_last(x)) * 0.5


def _cholesky_jvp(t, out, a):
    l_inv = inv(out)
    return matmul(out, _phi(matmul(matmul(l_inv, _symmetric(t)), _swap_last(l_inv))))


def _cholesky_vjp(g, out, a):
    l_inv = inv(out)
    return _symmetric(matmul(matmul(_swap_last(l_inv), _phi(matmul(_swap_last(out), g))), l_inv))


def _det_factor(out):
    return _add_axis(_add_axis(out, -1), -1)


# -- THE TABLE, continued --------------------------------------------------------------------------
INV = Primitive("inv", np.linalg.inv,
    vjp=(lambda g, out, a: -matmul(matmul(_swap_last(out), g), _swap_last(out)),),
    jvp=(lambda t, out, a: -matmul(matmul(out, t), out),), verb="invert")
# solve takes a stack of matrices b (..., n, k); solve() below turns a vector b into one
SOLVE = Primitive("solve", np.linalg.solve,
    vjp=(lambda g, out, a, b: -matmul(solve(_swap_last(a), g), _swap_last(out)),
         lambda g, out, a, b: solve(_swap_last(a), g)),
    jvp=(lambda t, out, a, b: -solve(a, matmul(t, out)),
         lambda t, out, a, b: solve(a, t)), verb="solve")
DET = Primitive("det", np.linalg.det,
    vjp=(lambda g, out, a: _det_factor(g * out) * _swap_last(inv(a)),),
    jvp=(lambda t, out, a: out * sum(_swap_last(inv(a)) * t, (-2, -1)),))
LOGABSDET = Primitive("logabsdet", lambda a: np.linalg.slogdet(a)[1],
    vjp=(lambda g, out, a: _det_factor(g) * _swap_last(inv(a)),),
    jvp=(lambda t, out, a: sum(_swap_last(inv(a)) * t, (-2, -1)),))
CHOLESKY = Primitive("cholesky", np.linalg.cholesky, vjp=(_cholesky_vjp,), jvp=(_cholesky_jvp,))


# -- the public functions --------------------------------------------------------------------------
def inv(a):
    """The inverse of a matrix (or of each in a stack).
    >>> inv(np.array([[2.0, 0.0], [0.0, 4.0]]))
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    return apply(INV, (a,), _EMPTY)


def solve(a, b):
    """x with a x = b; b a vector (n,) or a stack of matrices (..., n, k), as NumPy 2 reads it.
    >>> solve(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([1.0, 1.0]))
    array([0.5 , 0.25])
    """
    if np.ndim(raw(b)) == 1:
        x = apply(SOLVE, (a, _add_axis(b, -1)), _EMPTY)
        return reshape(x, _shape(x)[:-1])
    return apply(SOLVE, (a, b), _EMPTY)


def det(a):
    """The determinant (of each matrix in a stack).
    >>> det(np.array([[2.0, 1.0], [1.0, 3.0]]))
    np.float64(5.000000000000001)
    """
    return apply(DET, (a,), _EMPTY)


def slogdet(a):
    """``(sign, log|det a|)``: the sign is a constant, the log differentiable.
    >>> slogdet(np.array([[-2.0, 0.0], [0.0, 3.0]]))
    (np.float64(-1.0), np.float64(1.791759469228055))
    """
    sign = np.linalg.slogdet(raw(a))[0]
    return sign, apply(LOGABSDET, (a,), _EMPTY)


def cholesky(a):
    """The lower-triangular L with L Lᵀ = a (a symmetric positive definite; NumPy reads only
    its lower triangle, and the gradient is the symmetric one, as JAX and autograd give it).
    >>> cholesky(np.array([[4.0, 2.0], [2.0, 2.0]]))
    array([[2., 0.],
           [1., 1.]])
    """
    return apply(CHOLESKY, (a,), _EMPTY)
