"""Checking what users hand to a model: inputs X, labels or targets y, sizes, dtypes, λ and n.

Every problem is an :class:`~chainrule.errors.InputError` naming what is wrong and where
(row, column, value), never a NumPy traceback. Shared by :class:`~chainrule.nn.Network` and the
engine-defined models of :mod:`chainrule.nn.functional`.

>>> check_inputs([[1, 2], [3, 4]], 2, "float32").dtype
dtype('float32')
>>> encode_targets([0, 3], 3, "float64")
Traceback (most recent call last):
...
chainrule.errors.InputError: y: row 1 has label 3, but the output layer has 3 units (labels 0..2)
"""

from __future__ import annotations

import math
import sys

import numpy as np

from chainrule.errors import InputError, quoted


def check_dtype(dtype):
    """np.dtype float32 or float64, else InputError."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        dtype = None
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise InputError("dtype: expected 'float32' or 'float64'")
    return dtype


def check_sizes(sizes):
    """Layer sizes as a tuple of at least two ints >= 1, else InputError."""
    try:
        ints = [int(s) for s in sizes]
        ok = all(float(s) == float(t) for s, t in zip(sizes, ints))
    except (TypeError, ValueError):
        ok = False
    if not ok or len(ints) < 2 or min(ints) < 1:
        raise InputError(f"sizes: expected at least two layer sizes >= 1 (e.g. [784, 30, 10]), "
                         f"got {quoted(sizes)}")
    return tuple(ints)


_REALS, _INTEGERS = (int, float, np.integer, np.floating), (int, np.integer)
_FLOAT_MAX = sys.float_info.max   # a larger integer λ (10**400) has no float


def check_l2(l2, n, m):
    """The n of the L2 term: ``m`` (the batch) when n is None; InputError for bad λ or n
    (and for n None when there is no batch, m None, and λ > 0)."""
    if isinstance(l2, bool) or not (isinstance(l2, _REALS) and l2 >= 0 and (
            l2 <= _FLOAT_MAX if isinstance(l2, _INTEGERS) else math.isfinite(l2))):
        raise InputError(f"l2: expected a finite number >= 0, got {quoted(l2)}")
    if n is None:
        if m is None and l2:
            raise InputError("n: the L2 term λ/(2n) Σ w² needs n, the number of training "
                             "examples")
        return m
    if isinstance(n, bool) or not (isinstance(n, _INTEGERS) and n >= 1):
        raise InputError(f"n: expected the number of training examples (>= 1), got {quoted(n)}")
    return int(n)


def as_matrix(value, shape, what):
    """``value`` as a finite float64 array of exactly ``shape``, else InputError naming it."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{what}: expected numbers of shape {shape}") from None
    if array.shape != shape:
        raise InputError(f"{what}: expected shape {shape}, got {array.shape}")
    if not np.isfinite(array).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise InputError(f"{what}: entry {index} is {array[index]}, not a finite number")
    return array


def _numbers(value, what):
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise InputError(f"{what}: rows of different lengths or values that are not numbers") \
            from None
    if array.dtype.kind not in "biuf":
        raise InputError(f"{what}: expected numbers, got values of type {array.dtype}")
    return array


_FINITE_PIECE = 1 << 18
"""Entries of a 2-d array checked for finiteness at a time: the mask of a piece is 256 KiB,
not as large as the array (47 MB for the 60,000 MNIST training digits)."""


def _check_finite(array, what, why, shown=None):
    if array.dtype.kind != "f":
        return
    rows = max(1, _FINITE_PIECE // max(1, array.shape[1]))
    for start in range(0, len(array), rows):
        finite = np.isfinite(array[start:start + rows])
        if not finite.all():
            row, col = (int(i) for i in np.argwhere(~finite)[0])
            row += start
            value = (array if shown is None else shown)[row, col]
            raise InputError(f"{what}: row {row}, column {col} is {value}; {why}")


def check_inputs(X, n_inputs, dtype):
    """X as a C-contiguous (n, n_inputs) array of ``dtype`` (cast once), else InputError."""
    array = _numbers(X, "X")
    if array.ndim != 2:
        raise InputError(f"X: expected a 2-d array (examples, {n_inputs} features), got shape "
                         f"{array.shape}")
    if array.shape[1] != n_inputs:
        raise InputError(f"X: expected {n_inputs} columns (the input layer's size), got "
                         f"{array.shape[1]}")
    if array.shape[0] == 0:
        raise InputError("X: no rows (0 examples)")
    _check_finite(array, "X", "inputs must be finite numbers")
    with np.errstate(over="ignore"):  # a value beyond float32's range: reported just below
        cast = np.ascontiguousarray(array, dtype=dtype)
    if cast.dtype != array.dtype:
        _check_finite(cast, "X", f"too large for {cast.dtype}", shown=array)
    return cast


def encode_targets(y, k, dtype, distributions=False):
    """Integer labels (n,) one-hot encoded against k outputs (0/1 for k = 1), or a target
    matrix (n, k) checked and cast; InputError naming the bad row, label or width.

    ``distributions``: target rows must be probability distributions (the log-likelihood
    cost, whose δ^L = a − y holds only when each row of y sums to 1).
    """
    y = _numbers(y, "y")
    if y.ndim == 2:
        if y.shape[1] != k:
            raise InputError(f"y: targets have {y.shape[1]} columns but the output layer has "
                             f"{k} units")
        _check_finite(y, "y", "targets must be finite numbers")
        if distributions:
            sums = y.sum(axis=1)
            bad = np.flatnonzero((np.abs(sums - 1) > 1e-6) | (y < 0).any(axis=1))
            if bad.size:
                raise InputError(f"y: target row {bad[0]} ({y[bad[0]].tolist()}) is not a "
                                 "probability distribution (entries >= 0 summing to 1), as "
                                 "the log-likelihood cost needs")
        return np.ascontiguousarray(y, dtype=dtype)
    if y.ndim != 1:
        raise InputError(f"y: expected class labels (n,) or targets (n, {k}), got shape "
                         f"{y.shape}")
    if y.dtype.kind == "f":
        bad = np.flatnonzero(~(y == np.floor(y)))
        if bad.size:
            raise InputError(f"y: row {bad[0]} is {y[bad[0]]}, not an integer class label")
    classes = k if k > 1 else 2
    bad = np.flatnonzero((y < 0) | (y >= classes))
    if bad.size:
        raise InputError(f"y: row {bad[0]} has label {y[bad[0]]}, but the output layer has {k} "
                         f"unit{'s' if k > 1 else ''} (labels 0..{classes - 1})")
    labels = y.astype(np.int64)
    if k == 1:
        return labels[:, None].astype(dtype)
    Y = np.zeros((len(labels), k), dtype=dtype)
    Y[np.arange(len(labels)), labels] = 1
    return Y


def check_batch(X, y, n_inputs, k, dtype, distributions=False):
    """(X, Y) checked, encoded and of matching length, for a model with the given widths."""
    X, Y = check_inputs(X, n_inputs, dtype), encode_targets(y, k, dtype, distributions)
    if len(Y) != len(X):
        raise InputError(f"y: {len(Y)} rows of labels or targets for {len(X)} rows of X")
    return X, Y



def check_prepared(X, Y, n_inputs, k, dtype, method):
    """The O(1) checks of a hot path that takes X checked and Y encoded (``gradients``,
    ``totals``): no pass over the values, but never a NumPy error for the wrong arrays.

    >>> check_prepared(np.zeros((4, 2)), np.zeros(4), 2, 3, np.float64, "gradients")
    Traceback (most recent call last):
    ...
    chainrule.errors.InputError: gradients: Y must be encoded targets, a (4, 3) float64 array ...
    """
    if (type(X) is np.ndarray and type(Y) is np.ndarray and X.ndim == 2 and Y.ndim == 2
            and X.shape[1] == n_inputs and Y.shape == (len(X), k) and len(X)
            and X.dtype == dtype and Y.dtype == dtype):
        return      # the hot path: a few attribute reads
    _check_array(X, None, n_inputs, dtype, method, "X", "checked inputs", "check_inputs(X)")
    _check_array(Y, len(X), k, dtype, method, "Y", "encoded targets",
                 "encode_targets(y) from labels")


def _check_array(array, rows, columns, dtype, method, name, what, maker):
    ok = isinstance(array, np.ndarray) and array.ndim == 2 and array.dtype == dtype \
        and array.shape[1] == columns and rows in (None, array.shape[0]) and len(array) > 0
    if not ok:
        got = (f"shape {array.shape} {array.dtype}" if isinstance(array, np.ndarray)
               else type(array).__name__)
        raise InputError(f"{method}: {name} must be {what}, a ({rows or 'n'}, {columns}) "
                         f"{np.dtype(dtype)} array ({maker} makes one); got {got}")
