"""Getting arrays ready for a network: label checks, one-hot targets, scaling, seeded splits.

Scalers are fitted on the training set only and then applied unchanged to validation and
test data, so no information leaks from held-out data into training.

>>> X = np.array([[0.0, 10.0], [2.0, 30.0]])
>>> X_train, X_test = standardize(X, np.array([[1.0, 20.0]]))
>>> X_train
array([[-1., -1.],
       [ 1.,  1.]])
>>> X_test
array([[0., 0.]])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chainrule.errors import InputError, quoted

MAX_LABEL = 2**31 - 1  # larger "labels" are data errors, not class numbers


def check_labels(y, n_classes: int | None = None, where: str = "labels") -> np.ndarray:
    """Validate class labels: a 1-d array of integers in ``0 .. n_classes-1``; return int64.

    Floats are accepted when integer-valued (``2.0``); the first offending row is named.

    >>> check_labels([0, 2.0, 1], n_classes=3)
    array([0, 2, 1])
    >>> check_labels([0, 3], n_classes=3)
    Traceback (most recent call last):
    ...
    chainrule.errors.InputError: labels: row 1 has label 3, outside 0..2 for 3 classes
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise InputError(f"{where}: expected a 1-d array of class labels, got shape {y.shape}")
    if y.dtype.kind not in "biuf":
        raise InputError(f"{where}: expected integer class labels, got dtype {y.dtype}")
    if y.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(y) | (y != np.round(y)))
        if bad.size:
            i = bad[0]
            raise InputError(f"{where}: row {i} has label {quoted(y[i].item())}, not an integer")
    negative = np.flatnonzero(y < 0)
    if negative.size:
        i = negative[0]
        raise InputError(f"{where}: row {i} has label {quoted(y[i].item())}, labels must be >= 0")
    huge = np.flatnonzero(y > MAX_LABEL)
    if huge.size:
        i = huge[0]
        raise InputError(f"{where}: row {i} has label {quoted(y[i].item())}, too large for a class "
                         "number")
    if n_classes is not None:
        outside = np.flatnonzero(y >= n_classes)
        if outside.size:
            i = outside[0]
            raise InputError(f"{where}: row {i} has label {quoted(y[i].item())}, outside "
                             f"0..{n_classes - 1} for {n_classes} classes")
    return y.astype(np.int64)


def one_hot(y, k: int | None = None, dtype="float64") -> np.ndarray:
    """The (n, k) matrix with a 1 in column ``y[i]`` of row ``i`` (ex4's vector
    targets: y = 3 as [0, 0, 0, 1, ...]).

    >>> one_hot([2, 0], 3)
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    y = check_labels(y, k)
    k = int(y.max()) + 1 if k is None and y.size else (k or 0)
    Y = np.zeros((y.size, k), dtype=dtype)
    Y[np.arange(y.size), y] = 1
    return Y


def _features(X, what: str) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or X.dtype.kind not in "biuf":
        raise InputError(f"{what}: expected a 2-d numeric array (rows x features), got "
                         f"shape {X.shape} dtype {X.dtype}")
    return X


@dataclass(frozen=True)
class Standardizer:
    """Per-feature ``(x - mean) / std`` fitted on training data; constant features keep std 1.

    >>> s = Standardizer.fit(np.array([[1.0], [3.0]]))
    >>> s.transform(np.array([[5.0]]))
    array([[3.]])
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, X) -> Standardizer:
        X = _features(X, "standardize")
        peak = np.abs(X).max(axis=0, initial=0.0)
        # the squares are taken of x·2^-e (|x| < 1, 2^e just above the column's largest |x|):
        # a power of two scales exactly, so the std is the same bits as X.std's, except that
        # tiny columns (1e-159) no longer square into subnormals and lose their digits; 2^-e
        # stops at 2^1022 (a subnormal column's 2^-e would overflow to inf)
        unit = np.ldexp(1.0, np.minimum(-np.frexp(peak)[1], 1022))
        std = (X * unit).std(axis=0) / unit
        # a constant column's computed std is rounding noise (~eps * |x|), not spread
        noise = 64 * np.finfo(np.float64).eps * peak
        return cls(mean=X.mean(axis=0), std=np.where(std > noise, std, 1.0))

    def transform(self, X) -> np.ndarray:
        X = _features(X, "standardize")
        if X.shape[1] != self.mean.size:
            raise InputError(f"standardize: fitted on {self.mean.size} features, got "
                             f"{X.shape[1]}")
        return (X - self.mean) / self.std


@dataclass(frozen=True)
class MinMaxScaler:
    """Per-feature affine map of the training range onto ``[low, high]`` (default [0, 1]).

    >>> MinMaxScaler.fit(np.array([[2.0], [4.0]])).transform(np.array([[3.0], [6.0]]))
    array([[0.5],
           [2. ]])
    """

    minimum: np.ndarray
    span: np.ndarray
    low: float = 0.0
    high: float = 1.0

    @classmethod
    def fit(cls, X, feature_range=(0.0, 1.0)) -> MinMaxScaler:
        X = _features(X, "scale")
        low, high = map(float, feature_range)
        if not low < high:
            raise InputError(f"scale: feature_range must be (low, high) with low < high, got "
                             f"{feature_range}")
        span = X.max(axis=0) - X.min(axis=0)
        return cls(minimum=X.min(axis=0), span=np.where(span > 0, span, 1.0), low=low, high=high)

    def transform(self, X) -> np.ndarray:
        X = _features(X, "scale")
        if X.shape[1] != self.minimum.size:
            raise InputError(f"scale: fitted on {self.minimum.size} features, got {X.shape[1]}")
        return self.low + (X - self.minimum) / self.span * (self.high - self.low)


def standardize(X_train, *others):
    """Fit a :class:`Standardizer` on ``X_train`` and apply it to it and to ``others``.

    Returns one array per argument (a tuple when ``others`` are given).
    """
    s = Standardizer.fit(X_train)
    out = tuple(s.transform(X) for X in (X_train, *others))
    return out if others else out[0]


def scale(X_train, *others, feature_range=(0.0, 1.0)):
    """Fit a :class:`MinMaxScaler` on ``X_train`` and apply it to it and to ``others``.

    >>> scale(np.array([[0.0], [4.0]]))
    array([[0.],
           [1.]])
    """
    s = MinMaxScaler.fit(X_train, feature_range)
    out = tuple(s.transform(X) for X in (X_train, *others))
    return out if others else out[0]


def _allocate(counts: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` over groups proportionally to ``counts`` (largest remainders)."""
    exact = counts * (total / counts.sum())
    share = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - share), kind="stable")
    share[order[: total - share.sum()]] += 1
    return share


def split_indices(y, fractions, seed: int = 0, stratify: bool = True) -> list[np.ndarray]:
    """Seeded partition of ``range(len(y))`` into parts of the given fractions (summing to 1).

    With ``stratify`` each part keeps the class proportions of ``y`` (up to rounding). Each
    part's indices are sorted, so the result depends only on ``y``, ``fractions`` and ``seed``.

    >>> [len(p) for p in split_indices(np.repeat([0, 1], 50), (0.8, 0.2), seed=1)]
    [80, 20]
    """
    y = np.asarray(y)
    n = len(y)
    fractions = np.asarray(fractions, dtype=float)
    if (fractions.ndim != 1 or fractions.size < 2 or not np.all(np.isfinite(fractions))
            or np.any(fractions <= 0) or abs(fractions.sum() - 1) > 1e-9):
        raise InputError(f"split: fractions must be positive and sum to 1, got "
                         f"{fractions.tolist()}")
    sizes = _allocate(fractions, n)
    if np.any(sizes == 0):
        raise InputError(f"split: {n} examples cannot be split into parts of fractions "
                         f"{fractions.tolist()} with every part non-empty")
    rng = np.random.default_rng(seed)
    if not stratify:
        order = rng.permutation(n)
        bounds = np.cumsum(sizes)[:-1]
        return [np.sort(p) for p in np.split(order, bounds)]
    classes, inverse = np.unique(y, return_inverse=True)
    per_class = [rng.permutation(np.flatnonzero(inverse == c)) for c in range(classes.size)]
    counts = np.array([len(members) for members in per_class])
    parts = [[] for _ in sizes]
    remaining = counts.copy()
    for j, size in enumerate(sizes[:-1]):  # the last part takes what is left
        take = _allocate(remaining, int(size)) if remaining.sum() else remaining * 0
        take = np.minimum(take, remaining)
        for c, members in enumerate(per_class):
            start = counts[c] - remaining[c]
            parts[j].append(members[start:start + take[c]])
        remaining -= take
    for c, members in enumerate(per_class):
        parts[-1].append(members[counts[c] - remaining[c]:])
    return [np.sort(np.concatenate(p)) for p in parts]


def _check_xy(X, y):
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise InputError(f"split: X has {len(X)} rows but y has {len(y)}")
    return X, y


def train_test_split(X, y, test_fraction: float = 0.2, seed: int = 0, stratify: bool = True):
    """Seeded (stratified) split: ``X_train, X_test, y_train, y_test`` (scikit-learn's order).

    >>> X, y = np.arange(20).reshape(10, 2), np.array([0] * 5 + [1] * 5)
    >>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_fraction=0.4, seed=0)
    >>> X_tr.shape, X_te.shape, np.bincount(y_te).tolist()
    ((6, 2), (4, 2), [2, 2])
    """
    X, y = _check_xy(X, y)
    train, test = split_indices(y, (1 - test_fraction, test_fraction), seed, stratify)
    return X[train], X[test], y[train], y[test]


def train_val_split(X, y, val_fraction: float = 0.1, seed: int = 0, stratify: bool = True):
    """Hold out a validation set: ``X_train, X_val, y_train, y_val``.

    >>> X_tr, X_val, y_tr, y_val = train_val_split(np.zeros((10, 3)), np.arange(10) % 2, 0.2)
    >>> len(X_tr), len(X_val)
    (8, 2)
    """
    return train_test_split(X, y, val_fraction, seed, stratify)


def train_val_test_split(X, y, fractions=(0.8, 0.1, 0.1), seed: int = 0, stratify: bool = True):
    """Three-way seeded split: ``X_train, X_val, X_test, y_train, y_val, y_test``.

    >>> parts = train_val_test_split(np.zeros((20, 1)), np.arange(20) % 2, (0.6, 0.2, 0.2))
    >>> [len(p) for p in parts]
    [12, 4, 4, 12, 4, 4]
    """
    X, y = _check_xy(X, y)
    fractions = tuple(fractions)
    if len(fractions) != 3:
        raise InputError(f"split: expected three fractions (train, validation, test), got "
                         f"{fractions}")
    train, val, test = split_indices(y, fractions, seed, stratify)
    return X[train], X[val], X[test], y[train], y[val], y[test]
