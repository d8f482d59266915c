"""Elementwise kernels of the training hot path: one pass in C where it was built, else NumPy.

Each kernel is written twice with the same arithmetic in the same order: as a loop in
``chainrule._fast._kernels`` (_kernels.c beside this file, built by ``pip install`` when a C
compiler is present) and as NumPy passes here. The results are bit-identical; the C loop only
streams the arrays through memory once instead of once per operation (Adam's twelve
operations; relu's BP2 mask with BP3's sums). What that gains is in docs/performance.md.
``BUILT`` says which one runs.

>>> import numpy as np
>>> p, m, v = np.ones(2), np.zeros(2), np.zeros(2)
>>> adam(p, np.array([1.0, -1.0]), m, v, np.empty(2), 0.9, 0.999, 1e-8, 0.001)
>>> m, v
(array([ 0.1, -0.1]), array([0.001, 0.001]))
"""

from __future__ import annotations

import numpy as np

try:
    from chainrule._fast import _kernels
except ImportError:   # built without a C compiler: the NumPy versions below
    _kernels = None

BUILT = _kernels is not None
"""True when the C kernels were built and are used."""


PIECE = 1 << 16   # elements per piece of a NumPy update (five pieces fit in L2 cache)


def pieces(arrays):
    """Equal-shaped arrays cut into matching flat views of at most ``PIECE`` elements.

    A NumPy update of several operations then runs piece by piece while the piece is in the
    CPU cache, instead of streaming every whole array through memory once per operation; the
    arithmetic, element by element, is the same. Arrays that are small or not C-contiguous
    are returned whole.

    >>> [len(p) for p, in pieces([np.zeros(PIECE + 1)])]
    [65536, 1]
    """
    size = arrays[0].size
    if size <= PIECE or not all(a.flags.c_contiguous for a in arrays):
        return (arrays,)
    flats = [a.reshape(-1) for a in arrays]
    return [[f[i:i + PIECE] for f in flats] for i in range(0, size, PIECE)]


def _compiled(arrays):
    """True when the C kernels can take ``arrays``: C-contiguous and writable, of one float
    dtype and one size."""
    if _kernels is None:
        return False
    first = arrays[0]
    return first.dtype.char in "fd" and all(
        a.dtype == first.dtype and a.size == first.size and a.flags.c_contiguous
        and a.flags.writeable for a in arrays)


def adam(p, g, m, v, scratch, beta1, beta2, eps, step_size):
    """One Adam step in place: m ← β1 m + (1 − β1) g, v ← β2 v + (1 − β2) g²,
    p ← p − m / (√v + ε) · step_size (``scratch``: an array like p, used by NumPy only).

    >>> p, m, v = np.array([1.0]), np.zeros(1), np.zeros(1)
    >>> adam(p, np.array([2.0]), m, v, np.empty(1), 0.9, 0.999, 0.0, 0.1)
    >>> m, v, p.round(6)              # p − 0.2 / (√0.004) · 0.1
    (array([0.2]), array([0.004]), array([0.683772]))
    """
    if _compiled((p, g, m, v)):
        _kernels.adam(p, g, m, v, beta1, 1 - beta1, beta2, 1 - beta2, eps, step_size)
        return
    for p_, g_, m_, v_, s in pieces((p, g, m, v, scratch)):
        m_ *= beta1
        np.multiply(g_, 1 - beta1, out=s)
        m_ += s                                   # m = β1 m + (1 − β1) g
        v_ *= beta2
        np.multiply(g_, g_, out=s)
        s *= 1 - beta2
        v_ += s                                   # v = β2 v + (1 − β2) g²
        np.sqrt(v_, out=s)
        s += eps
        np.divide(m_, s, out=s)
        s *= step_size
        p_ -= s


def relu_backward(g, a, sums):
    """g ← g ⊙ [a > 0] in place (relu's σ'(z) in BP2, from its output a) and ``sums`` ← the
    column sums of the new g (BP3's Σ_rows δ), both in one pass over g; returns g.

    >>> g, sums = np.array([[1.0, -2.0], [3.0, 4.0]]), np.empty(2)
    >>> relu_backward(g, np.array([[0.5, 0.0], [2.0, 1.0]]), sums), sums
    (array([[ 1., -0.],
           [ 3.,  4.]]), array([4., 4.]))
    """
    if (g.ndim == 2 and a.shape == g.shape and sums.shape == g.shape[1:]
            and _compiled((g, a)) and _compiled((sums,)) and sums.dtype == g.dtype):
        _kernels.relu_backward(g, a, sums)
        return g
    # NOTE: a multiply by the boolean mask, not masked writes
    # (copyto/putmask with where=), which branch on every element
    np.multiply(g, a > 0, out=g)
    np.add.reduce(g, axis=0, out=sums)
    return g


_ACTIVATION_CODES = {"identity": 0, "sigmoid": 1, "tanh": 2, "relu": 3, "softmax": 4}
_FUSED = {("sigmoid", "cross-entropy"), ("softmax", "log-likelihood")}
_ready = []   # [True] once the C step has the hot path's BLAS and NumPy's ufuncs


def _setup():
    """Hand the C extension the hot path's BLAS (:func:`chainrule._fast.library.library`) and
    NumPy's ufuncs, once."""
    if not _ready:
        from chainrule._fast.library import library

        found = library()
        pointers = found["pointers"]
        _kernels.setup(pointers["sgemm"], pointers["dgemm"], pointers["saxpy"],
                       pointers["daxpy"], found["ilp64"], np.tanh, np.exp, np.add.reduce)
        _ready.append(True)


def gemm(alpha, A, B, beta, C):
    """C ← α·A·B + β·C in place in C's pieces (:func:`chainrule._fast.blas.plan`), shared by
    the threads of :func:`set_threads`; True when done, False (nothing done) where the
    extension was not built or cannot take the arrays (C not C-ordered, A or B neither C- nor
    F-ordered, mixed dtypes, C overlapping A or B). The same bits as blas.gemm's pieces.

    >>> C = np.zeros((2, 2))
    >>> gemm(1.0, np.eye(2), np.ones((2, 2)), 0.0, C) in (True, False), C.sum() in (0.0, 4.0)
    (True, True)
    """
    if _kernels is None:
        return False
    _setup()
    return _kernels.gemm(alpha, A, B, beta, C)


def axpy(a, x, y):
    """y ← a·x + y in place in pieces shared by the threads of :func:`set_threads`, the same
    bits as one BLAS ``?axpy`` over the whole; True when done, False (nothing done) where the
    extension was not built or cannot take the arrays (not C-contiguous, another dtype or
    length, overlapping).

    >>> y = np.ones(3)
    >>> axpy(2.0, np.arange(3.0), y) in (True, False)
    True
    """
    if _kernels is None:
        return False
    _setup()
    return _kernels.axpy(a, x, y)


def set_threads(threads):
    """Let ``threads`` threads (the caller's included) share the C step's products; returns
    the count before. Without the C extension nothing is shared: returns 1.

    >>> before = set_threads(1); set_threads(before)
    1
    """
    if _kernels is None:
        return 1
    return _kernels.set_threads(threads)


def step_codes(hidden, output, cost):
    """The C step's (hidden, output, cost) codes for a network, or None if it does not take it.

    It takes sigmoid, tanh, relu or identity hidden layers and δ^L = a − y (sigmoid with
    cross-entropy, softmax with log-likelihood) or the quadratic cost of an elementwise output.

    >>> step_codes("sigmoid", "sigmoid", "quadratic")
    (1, 1, 0)
    >>> step_codes("leaky-relu", "softmax", "log-likelihood") is None
    True
    """
    fused = (output, cost) in _FUSED
    if hidden not in _ACTIVATION_CODES or hidden == "softmax" or output not in _ACTIVATION_CODES \
            or not (fused or (cost == "quadratic" and output != "softmax")):
        return None
    return _ACTIVATION_CODES[hidden], _ACTIVATION_CODES[output], int(fused)


def network_step(codes, Ws, bs, outs, X, Y, acts, deltas, sums, rowsums, scale, keep, decay,
                 adam=None):
    """One mini-batch of :class:`~chainrule.nn.Network` in one C call: the forward pass into
    ``acts``, BP1-BP4 with δ in ``deltas`` and out_i ← scale·∂C/∂θ_i + keep·out_i (the L2
    term's ``decay`` = λ/n), exactly as ``nn/_fused.py`` computes it in NumPy (the same BLAS
    routine with the same arguments, NumPy's tanh and exp). Returns False, having done
    nothing, where the extension was not built or cannot take the arrays (another dtype, not
    C-contiguous, a network ``step_codes`` refuses): the caller then runs the NumPy passes.
    ``adam``: None, or ``(ms, vs, beta1, beta2, eps, step_size)`` to run :func:`adam` on each
    parameter as soon as its gradient is in ``outs`` (while it is still in the CPU's cache).
    """
    if _kernels is None or codes is None:
        return False
    _setup()
    if adam is None:
        return _kernels.network_step(Ws, bs, outs, X, Y, acts, deltas, sums, rowsums, *codes,
                                     scale, keep, decay)
    ms, vs, beta1, beta2, eps, step_size = adam
    return _kernels.network_step(Ws, bs, outs, X, Y, acts, deltas, sums, rowsums, *codes,
                                 scale, keep, decay, (ms, vs, beta1, 1 - beta1, beta2, 1 - beta2),
                                 eps, step_size)


STEPS_MODES = {"sgd": 0, "momentum": 1, "nesterov": 2, "adam": 3}
"""The optimiser updates :func:`network_steps` runs after each batch's step."""


def network_steps(codes, Ws, bs, outs, X, Y, rows, Xb, Yb, acts, deltas, sums, rowsums, decay,
                  mode, plan, outputs, flats=None, adam=None):
    """Many mini-batches in one C call: batch j is rows ``rows[j·m:(j+1)·m]`` of X, Y
    (m = len(Xb)), gathered into Xb, Yb and stepped as :func:`network_step` steps it, a^L
    copied into ``outputs[j·m:(j+1)·m]`` (``outputs`` may have more rows), then the
    optimiser's updates of ``mode`` (:data:`STEPS_MODES`) with the numbers of ``plan[j]``
    (float64, 4 per batch):

    - ``"sgd"``: ``(scale, -, -, -)``, ``outs`` the parameters (w ← w + scale·∂C/∂w);
    - ``"momentum"``: ``(scale, -, c, fold)``, ``outs`` the velocity's arrays u, ``flats`` =
      ``(w, u)`` as one vector each: u ← u + scale·∂C/∂w, then w ← w + c·u and, when fold ≠ 0,
      u ← fold·u;
    - ``"nesterov"``: ``(scale, c0, c, fold)``, ``flats = (w, u, old)``: old ← u first, then
      w ← w + c0·old before momentum's w ← w + c·u;
    - ``"adam"``: ``(step size, eps, -, -)``, ``outs`` the gradients, ``adam`` = (ms, vs, β1,
      β2): Adam's step on each parameter inside the step.

    The same operations as the batches run one :func:`network_step` and
    :func:`chainrule._fast.blas.axpy` at a time (the same bits). Returns False, having done
    nothing, where the extension was not built or cannot take the arrays.
    """
    if _kernels is None or codes is None:
        return False
    _setup()
    if adam is not None:
        ms, vs, beta1, beta2 = adam
        adam = (ms, vs, beta1, 1 - beta1, beta2, 1 - beta2)
    return _kernels.network_steps(Ws, bs, outs, X, Y, rows, Xb, Yb, acts, deltas, sums,
                                  rowsums, *codes, decay, STEPS_MODES[mode], plan, outputs,
                                  () if flats is None else tuple(flats), adam)
