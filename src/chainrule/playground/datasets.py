"""The playground's data: TensorFlow Playground's six 2-D sets, the 8×8 digits, a user's CSV.

The 2-D generators follow TensorFlow Playground's ``dataset.ts`` point for point (same
radii, paddings, variances and label rules; ``noise`` in [0, 0.5] as there), drawn from
``numpy.random.default_rng(seed)`` instead of ``Math.random``. Classification labels are 0/1
(TensorFlow Playground's −1/+1); regression targets stay in [−1, 1]. Every point lies in
the square [−6, 6]², the domain of the heatmaps. The examples are shuffled with the same
generator and the first ``train_fraction`` of them are the training set.

Input features of a 2-D point (x₁, x₂), as in TensorFlow Playground: x₁, x₂, x₁², x₂², x₁x₂,
sin x₁, sin x₂.

>>> data = make_dataset("xor", points=200, seed=0)
>>> data.X_train.shape, data.kind, sorted(set(data.y_train.tolist()))
((100, 2), 'classification', [0, 1])
>>> features(np.array([[2.0, 3.0]]), ["x1_sq", "x1_x2", "sin_x2"]).round(4).tolist()
[[4.0, 6.0, 0.1411]]
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass

import numpy as np

from chainrule.errors import InputError, RunFailed, quoted

CLASSIFICATION = ("circle", "xor", "gauss", "spiral")
REGRESSION = ("plane", "multi-gauss")
DATASETS = (*CLASSIFICATION, *REGRESSION, "digits", "csv")
DOMAIN = 6.0                      # the 2-D points and heatmaps live in [−6, 6]²
FEATURES = {                      # name -> (label, function of the raw points P (n, 2))
    "x1": ("x₁", lambda P: P[:, 0]),
    "x2": ("x₂", lambda P: P[:, 1]),
    "x1_sq": ("x₁²", lambda P: P[:, 0] ** 2),
    "x2_sq": ("x₂²", lambda P: P[:, 1] ** 2),
    "x1_x2": ("x₁x₂", lambda P: P[:, 0] * P[:, 1]),
    "sin_x1": ("sin x₁", lambda P: np.sin(P[:, 0])),
    "sin_x2": ("sin x₂", lambda P: np.sin(P[:, 1])),
}
MAX_CSV_BYTES = 1 << 20           # an uploaded CSV: at most 1 MiB ...
MAX_CSV_ROWS = 20_000             # ... of at most this many rows ...
MAX_CSV_COLUMNS = 1_000           # ... and columns


@dataclass
class Dataset:
    """What a session trains and tests on.

    ``X_*``: the feature matrices; ``y_*``: labels (classification) or (n, 1) targets;
    ``P_*``: the raw 2-D points behind the features (None unless the set is 2-D);
    ``names``: the feature names; ``classes``: the number of classes (0 for regression);
    ``domain``: ((x₁ low, high), (x₂ low, high)) of the heatmaps for a 2-D set.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    P_train: np.ndarray | None
    P_test: np.ndarray | None
    names: list
    kind: str
    classes: int
    domain: tuple = ((-DOMAIN, DOMAIN), (-DOMAIN, DOMAIN))

    @property
    def planar(self) -> bool:
        """True when the examples are points of the plane (heatmaps make sense)."""
        return self.P_train is not None


def features(P, names) -> np.ndarray:
    """The feature matrix of the raw points P (n, 2): one column per name in ``names``."""
    return np.column_stack([FEATURES[name][1](P) for name in names]).astype(np.float64)


# -- TensorFlow Playground's generators: (points (n, 2), labels or targets (n,)) --------------
def _circle(rng, n, noise):
    radius = 5.0
    halves = []
    for low, high in ((0.0, radius * 0.5), (radius * 0.7, radius)):  # inside, then outside
        r = rng.uniform(low, high, n // 2)
        angle = rng.uniform(0, 2 * math.pi, n // 2)
        P = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
        shifted = P + rng.uniform(-radius, radius, P.shape) * noise
        halves.append((P, (np.hypot(shifted[:, 0], shifted[:, 1]) < radius * 0.5)))
    return np.concatenate([P for P, _ in halves]), np.concatenate([y for _, y in halves])


def _xor(rng, n, noise):
    P = rng.uniform(-5, 5, (n, 2))
    P += np.where(P > 0, 0.3, -0.3)                               # padding off the axes
    shifted = P + rng.uniform(-5, 5, (n, 2)) * noise
    return P, shifted[:, 0] * shifted[:, 1] >= 0


def _gauss(rng, n, noise):
    variance = 0.5 + noise / 0.5 * 3.5                            # noise 0 .. 0.5 -> 0.5 .. 4
    positive = rng.normal(2.0, math.sqrt(variance), (n // 2, 2))
    negative = rng.normal(-2.0, math.sqrt(variance), (n // 2, 2))
    return np.concatenate([positive, negative]), np.arange(2 * (n // 2)) < n // 2


def _spiral(rng, n, noise):
    half = n // 2
    arms = []
    for delta_t in (0.0, math.pi):                                # the positive arm, then the other
        i = np.arange(half)
        r = i / half * 5
        t = 1.75 * i / half * 2 * math.pi + delta_t
        arms.append(np.column_stack([r * np.sin(t), r * np.cos(t)])
                    + rng.uniform(-1, 1, (half, 2)) * noise)
    return np.concatenate(arms), np.arange(2 * half) < half


def _plane(rng, n, noise):
    P = rng.uniform(-DOMAIN, DOMAIN, (n, 2))
    shifted = P + rng.uniform(-DOMAIN, DOMAIN, (n, 2)) * noise
    return P, (shifted[:, 0] + shifted[:, 1]) / 10                 # x + y in [−10, 10] -> [−1, 1]


_BUMPS = ((-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1))


def _multi_gauss(rng, n, noise):
    P = rng.uniform(-DOMAIN, DOMAIN, (n, 2))
    shifted = P + rng.uniform(-DOMAIN, DOMAIN, (n, 2)) * noise
    target = np.zeros(n)
    for cx, cy, sign in _BUMPS:   # the bump largest in absolute value wins
        bump = sign * np.clip(1 - np.hypot(shifted[:, 0] - cx, shifted[:, 1] - cy) / 2, 0, 1)
        target = np.where(np.abs(bump) > np.abs(target), bump, target)
    return P, target


_GENERATORS = {"circle": _circle, "xor": _xor, "gauss": _gauss, "spiral": _spiral,
               "plane": _plane, "multi-gauss": _multi_gauss}


def _split(rng, arrays, train_fraction):
    """Shuffle ``arrays``' rows together: the first ``train_fraction`` train, the rest test."""
    order = rng.permutation(len(arrays[0]))
    cut = min(max(1, round(train_fraction * len(order))), len(order) - 1)
    return [(a[order[:cut]], a[order[cut:]]) for a in arrays]


def _planar(P, target, kind, names, rng, train_fraction):
    (P_train, P_test), (y_train, y_test) = _split(rng, [P, target], train_fraction)
    if kind == "classification":
        y_train, y_test = y_train.astype(np.int64), y_test.astype(np.int64)
    else:
        y_train, y_test = y_train[:, None], y_test[:, None]
    return Dataset(features(P_train, names), y_train, features(P_test, names), y_test,
                   P_train, P_test, list(names), kind,
                   2 if kind == "classification" else 0)


def _load_csv_text(text):
    """(X, y) of a CSV given as text, through chainrule's own CSV reader (same checks)."""
    raw = text.encode("utf-8")
    if len(raw) > MAX_CSV_BYTES:
        raise InputError(f"csv: {len(raw)} bytes; the limit is {MAX_CSV_BYTES} (1 MiB)")
    from chainrule.data import load_csv

    path = None
    try:
        fd, path = tempfile.mkstemp(suffix=".csv", prefix="playground-")
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
    except OSError as error:            # disk full: say where, not the temporary file's name
        if path is not None:
            os.unlink(path)
        reason = os.strerror(error.errno).lower() if error.errno else str(error)
        raise RunFailed(f"csv: cannot keep the upload for reading in {tempfile.gettempdir()}: "
                        f"{reason}") from None
    try:
        try:
            X, y = load_csv(path)
        except InputError as error:     # name the upload, not the temporary file
            raise InputError(str(error).replace(path, "csv")) from None
    finally:
        os.unlink(path)
    if len(X) > MAX_CSV_ROWS or X.shape[1] > MAX_CSV_COLUMNS:
        raise InputError(f"csv: {len(X)} rows and {X.shape[1]} feature columns; the limits are "
                         f"{MAX_CSV_ROWS} rows and {MAX_CSV_COLUMNS} columns")
    if len(X) < 4:
        raise InputError(f"csv: {len(X)} rows; at least 4 are needed (training and test rows)")
    return X, y


def make_dataset(name, noise=0.0, train_fraction=0.5, points=None, seed=0,
                 names=("x1", "x2"), csv=None) -> Dataset:
    """The data set ``name`` (one of :data:`DATASETS`), split into training and test rows.

    ``points``: examples to draw for the 2-D sets (TensorFlow Playground's 500 for
    classification, 1200 for regression by default). ``names``: the input features of a 2-D
    set (a CSV of exactly two feature columns counts as one). ``digits`` is chainrule's fixed
    80/20 split (1438/359, the one ``chainrule train`` and ``chainrule evaluate`` use), so
    ``train_fraction`` and ``seed`` do not change it; ``csv`` is the text of a CSV file
    (features, then an integer label column last, as ``chainrule.data.load_csv`` reads it).

    >>> d = make_dataset("digits")
    >>> d.X_train.shape, d.X_test.shape, d.classes, d.planar
    ((1438, 64), (359, 64), 10, False)
    """
    rng = np.random.default_rng(seed)
    if name in _GENERATORS:
        if points is None:
            points = 500 if name in CLASSIFICATION else 1200
        P, target = _GENERATORS[name](rng, points, noise)
        kind = "classification" if name in CLASSIFICATION else "regression"
        return _planar(P, target, kind, names, rng, train_fraction)
    if name == "digits":
        from chainrule.data import load_digits

        X_train, y_train = load_digits("train")
        X_test, y_test = load_digits("test")
        return Dataset(X_train, y_train, X_test, y_test, None, None,
                       [f"pixel {i + 1}" for i in range(X_train.shape[1])], "classification",
                       10)
    if name == "csv":
        if not isinstance(csv, str):
            raise InputError("csv: the data set 'csv' needs the file's text in \"csv\"")
        X, y = _load_csv_text(csv)
        classes = int(y.max()) + 1
        if classes < 2:
            raise InputError("csv: every label is 0; at least two classes are needed")
        if X.shape[1] == 2:      # points of the plane: features and heatmaps as for the others
            data = _planar(X, y, "classification", names, rng, train_fraction)
            low, high = X.min(axis=0), X.max(axis=0)
            pad = np.maximum((high - low) * 0.05, 1e-3)
            data.classes = classes
            data.domain = tuple((float(lo - p), float(hi + p)) for lo, hi, p in zip(low, high, pad))
            return data
        (X_train, X_test), (y_train, y_test) = _split(rng, [X, y], train_fraction)
        return Dataset(X_train, y_train, X_test, y_test, None, None,
                       [f"column {i + 1}" for i in range(X.shape[1])], "classification",
                       classes)
    raise InputError(f"unknown dataset {quoted(name)}; choose one of {', '.join(DATASETS)}")
