"""Contractions and gathers: einsum (a row), and what is composed from it or from indexing:
tensordot, dot, trace, diagonal, flip, take, take_along_axis, sort, partition; and the shape
functions composed from reshape and transpose (squeeze, expand_dims, moveaxis, swapaxes).

``einsum`` is one row for any subscripts. It is linear in each operand, so its jvp is the same
contraction with the operand replaced by its tangent, and its vjp for operand i is another
einsum: the cotangent contracted with the other operands, back to operand i's labels. Two
things make that second einsum exist for every subscript string: a label repeated in operand i
(``"ii->i"``, a diagonal) is renamed and tied to the original by an identity matrix, and a
label summed away in operand i alone (``"ij->i"``) is given back by a vector of ones (autograd's
grad_einsum does the latter). Both are constants, so the rules differentiate again.

Gathers (``sort``, ``take_along_axis``) index with integer arrays: their vjp scatters the
cotangent back (repeated indices add up), so ties in ``sort`` give each tied entry the
cotangent of the place it was sorted to, as JAX's sort does.

>>> import chainrule as cr
>>> cr.grad(lambda a: einsum("ii", a))(np.arange(4.0).reshape(2, 2))   # d trace / dA = I
array([[1., 0.],
       [0., 1.]])
"""

from __future__ import annotations

import string
from collections import Counter

import numpy as np

from chainrule.engine.graph import Primitive, _shape, apply
from chainrule.engine.ops import sum
from chainrule.engine.ops_shape import getitem, matmul, reshape, transpose
from chainrule.engine.tensor import raw
from chainrule.errors import InputError


# -- einsum's subscripts: every operand's labels written out, no ellipsis ----------------------
def parse_subscripts(subscripts, shapes):
    """``("...ij,jk", shapes)`` -> ``(["Zij", "jk"], "Zik")``: ellipses become letters unused
    by the subscripts (right-aligned as NumPy broadcasts them), the implicit output is made
    explicit (ellipsis labels first, then labels used once, in alphabetical order)."""
    if not isinstance(subscripts, str):
        raise InputError("einsum: give the subscripts as a string, e.g. einsum('ij,jk', a, b)")
    text = subscripts.replace(" ", "")
    inputs, arrow, output = text.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise InputError(f"einsum: subscripts {subscripts!r} name {len(terms)} operand(s), "
                         f"got {len(shapes)}")
    fresh = (c for c in reversed(string.ascii_letters) if c not in text)
    spans = [len(shape) - len(term.replace("...", "")) for term, shape in zip(terms, shapes)
             if "..." in term]
    ellipsis = "".join(next(fresh) for _ in range(max(spans, default=0)))
    written = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            span = len(shape) - len(term) + 3
            term = term.replace("...", ellipsis[len(ellipsis) - span:] if span > 0 else "")
        if len(term) != len(shape) or not all(c in string.ascii_letters for c in term):
            raise InputError(f"einsum: subscripts {subscripts!r} do not fit an operand of "
                             f"shape {shape}")
        written.append(term)
    if arrow:
        output = output.replace("...", ellipsis)
    else:
        counts = Counter("".join(written))
        output = ellipsis + "".join(sorted(c for c, k in counts.items()
                                           if k == 1 and c not in ellipsis))
    if len(set(output)) != len(output) or not set(output) <= set("".join(written)):
        raise InputError(f"einsum: output subscripts of {subscripts!r} must be distinct labels "
                         "of the operands")
    return written, output


def _einsum_forward(*operands, subscripts):
    return np.einsum(subscripts, *operands)


def _einsum_vjp(i):
    def rule(g, out, *operands, subscripts):
        inputs, output = subscripts.split("->")
        terms = inputs.split(",")
        term, shape = terms[i], _shape(operands[i])
        others = [t for j, t in enumerate(terms) if j != i]
        fresh = (c for c in reversed(string.ascii_letters) if c not in subscripts)
        renamed, extra_terms, extra_arrays, first = [], [], [], {}
        for label, n in zip(term, shape):
            if label in first:  # a repeated label: a new one, tied to the first by I
                new = next(fresh)
                extra_terms.append(label + new)
                extra_arrays.append(np.eye(n, dtype=np.result_type(raw(g))))
                renamed.append(new)
            else:
                first[label] = n
                renamed.append(label)
        named_elsewhere = set(output + "".join(others + extra_terms))
        for label, n in first.items():
            if label not in named_elsewhere:  # summed away in this operand alone
                extra_terms.append(label)
                extra_arrays.append(np.ones(n, dtype=np.result_type(raw(g))))
        pulled = ",".join([output, *others, *extra_terms]) + "->" + "".join(renamed)
        rest = [x for j, x in enumerate(operands) if j != i]
        return apply(EINSUM, (g, *rest, *extra_arrays), {"subscripts": pulled})
    return rule


def _einsum_jvp(tangents, out, *operands, subscripts):
    total = None
    for i, t in enumerate(tangents):
        if type(t) is np.ndarray and not t.any():  # an operand that is not watched
            continue
        part = apply(EINSUM, (*operands[:i], t, *operands[i + 1:]), {"subscripts": subscripts})
        total = part if total is None else total + part
    return np.zeros(_shape(out), np.result_type(raw(out))) if total is None else total


# -- THE TABLE, continued --------------------------------------------------------------------------
EINSUM = Primitive("einsum", _einsum_forward, vjp=_einsum_vjp, jvp=_einsum_jvp, verb="contract")


# -- the public functions -------------------------------------------------------------------------
def einsum(subscripts, *operands):
    """Einstein summation, any subscripts NumPy takes: repeated labels, ellipses, implicit
    output.
    >>> einsum("...i,...i->...", np.ones((2, 3)), np.arange(3.0))
    array([3., 3.])
    """
    terms, output = parse_subscripts(subscripts, [np.shape(raw(x)) for x in operands])
    return apply(EINSUM, operands, {"subscripts": ",".join(terms) + "->" + output})


def tensordot(a, b, axes=2):
    """Sum of products over ``axes`` (an int N: a's last N with b's first N; or two lists).
    >>> tensordot(np.ones((2, 3, 4)), np.ones((3, 4, 5))).shape
    (2, 5)
    """
    na, nb = len(np.shape(raw(a))), len(np.shape(raw(b)))
    if isinstance(axes, int | np.integer):
        axes_a, axes_b = list(range(na - axes, na)), list(range(axes))
    else:
        axes_a, axes_b = ([x] if isinstance(x, int | np.integer) else list(x) for x in axes)
    if len(axes_a) != len(axes_b):
        raise InputError(f"tensordot: axes {axes!r} pair {len(axes_a)} with {len(axes_b)} axes")
    letters = iter(string.ascii_letters)
    ta, tb = [next(letters) for _ in range(na)], [None] * nb
    for i, j in zip(axes_a, axes_b):
        tb[j % nb] = ta[i % na]
    tb = [c or next(letters) for c in tb]
    shared = {ta[i % na] for i in axes_a}
    out = [c for c in ta if c not in shared] + [c for c in tb if c not in shared]
    return einsum("".join(ta) + "," + "".join(tb) + "->" + "".join(out), a, b)


def diagonal(a, offset=0, axis1=0, axis2=1):
    """The diagonal over ``axis1`` and ``axis2`` (moved to the end, as NumPy does).
    >>> diagonal(np.arange(9.0).reshape(3, 3), offset=1)
    array([1., 5.])
    """
    shape = _shape(a) if hasattr(a, "shape") else np.shape(a)
    ndim = len(shape)
    axis1, axis2 = axis1 % ndim, axis2 % ndim
    order = [i for i in range(ndim) if i not in (axis1, axis2)] + [axis1, axis2]
    rows, cols = shape[axis1], shape[axis2]
    n = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    index = np.arange(n)
    return getitem(transpose(a, order), (Ellipsis, index - min(offset, 0), index + max(offset, 0)))


def flip(m, axis=None):
    """Entries in reverse order along ``axis`` (every axis by default).
    >>> flip(np.arange(3.0))
    array([2., 1., 0.])
    """
    ndim = len(np.shape(raw(m)))
    axes = range(ndim) if axis is None else [axis] if isinstance(axis, int) else axis
    axes = {a % ndim for a in axes}
    return getitem(m, tuple(slice(None, None, -1) if i in axes else slice(None)
                            for i in range(ndim)))


def take(a, indices, axis=None, mode="raise"):
    """Entries at ``indices`` along ``axis`` (of the flattened array when None).
    >>> take(np.array([[1.0, 2.0], [3.0, 4.0]]), [1, 1], axis=1)
    array([[2., 2.],
           [4., 4.]])
    """
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    n = np.shape(raw(a))[axis]
    indices = np.asarray(raw(indices))
    if mode == "wrap":
        indices = np.mod(indices, n)
    elif mode == "clip":
        indices = np.clip(indices, 0, n - 1)
    elif mode != "raise":
        raise InputError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    return getitem(a, (slice(None),) * (axis % np.ndim(raw(a))) + (indices,))


def take_along_axis(arr, indices, axis):
    """``arr`` gathered along ``axis`` at ``indices`` (argsort's output, say), NumPy's rules.
    >>> take_along_axis(np.array([[3.0, 1.0, 2.0]]), np.array([[1, 2, 0]]), axis=1)
    array([[1., 2., 3.]])
    """
    indices = np.asarray(raw(indices))
    if axis is None:
        arr, axis = reshape(arr, (-1,)), 0
    shape = np.shape(raw(arr))
    if indices.ndim != len(shape):
        raise InputError(f"take_along_axis: indices have {indices.ndim} dimension(s), the "
                         f"array {len(shape)}")
    axis = axis % len(shape)
    index = tuple(indices if d == axis else np.arange(n).reshape(
        (1,) * d + (n,) + (1,) * (len(shape) - d - 1)) for d, n in enumerate(shape))
    return getitem(arr, index)


def sort(a, axis=-1):
    """Sorted along ``axis`` (the flattened array when None); a gather by the stable argsort.
    >>> sort(np.array([3.0, 1.0, 2.0]))
    array([1., 2., 3.])
    """
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    return take_along_axis(a, np.argsort(raw(a), axis=axis, kind="stable"), axis)


def partition(a, kth, axis=-1):
    """Entry ``kth`` in its sorted place, smaller before and larger after (NumPy's partition).
    >>> partition(np.array([3.0, 1.0, 2.0]), 0)[0]
    np.float64(1.0)
    """
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    return take_along_axis(a, np.argpartition(raw(a), kth, axis=axis), axis)


def dot(a, b):
    """NumPy's dot for every rank: a product by a scalar, matmul up to 2-d, and for N-d the
    sum over a's last axis and b's second-to-last.
    >>> dot(np.ones((2, 3, 4)), np.ones((5, 4, 6))).shape
    (2, 3, 5, 6)
    """
    na, nb = np.ndim(raw(a)), np.ndim(raw(b))
    if na == 0 or nb == 0:
        return a * b
    if nb <= 2:
        return matmul(a, b)
    return tensordot(a, b, ([na - 1], [nb - 2]))


def trace(a, offset=0, axis1=0, axis2=1):
    """The sum of a diagonal.
    >>> trace(np.arange(4.0).reshape(2, 2))
    np.float64(3.0)
    """
    return sum(diagonal(a, offset, axis1, axis2), -1)


# -- shape functions composed from reshape and transpose -------------------------------------------
def squeeze(a, axis=None):
    """``a`` without its axes of length 1 (or only ``axis``, which must have length 1).
    >>> squeeze(np.zeros((1, 2, 1))).shape
    (2,)
    """
    shape = np.shape(raw(a))
    axes = range(len(shape)) if axis is None else [axis] if isinstance(axis, int) else axis
    axes = {i % len(shape) for i in axes}
    if any(shape[i] != 1 for i in axes) and axis is not None:
        raise InputError(f"squeeze: axis {axis} of shape {shape} does not have length 1")
    return reshape(a, tuple(n for i, n in enumerate(shape) if not (i in axes and n == 1)))


def expand_dims(a, axis):
    """``a`` with new axes of length 1 at ``axis`` (an int or a tuple, of the result).
    >>> expand_dims(np.zeros(3), (0, -1)).shape
    (1, 3, 1)
    """
    shape = list(np.shape(raw(a)))
    axes = [axis] if isinstance(axis, int) else list(axis)
    ndim = len(shape) + len(axes)
    for i in sorted(i % ndim for i in axes):
        shape.insert(i, 1)
    return reshape(a, tuple(shape))


def moveaxis(a, source, destination):
    """Axes ``source`` moved to ``destination``, the others kept in order.
    >>> moveaxis(np.zeros((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    ndim = np.ndim(raw(a))
    source = [s % ndim for s in ([source] if isinstance(source, int) else source)]
    destination = [d % ndim for d in ([destination] if isinstance(destination, int)
                                      else destination)]
    order = [i for i in range(ndim) if i not in source]
    for d, s in sorted(zip(destination, source)):
        order.insert(d, s)
    return transpose(a, order)


def swapaxes(a, axis1, axis2):
    """Axes ``axis1`` and ``axis2`` exchanged.
    >>> swapaxes(np.zeros((2, 3, 4)), 0, 2).shape
    (4, 3, 2)
    """
    order = list(range(np.ndim(raw(a))))
    order[axis1], order[axis2] = order[axis2], order[axis1]
    return transpose(a, order)
