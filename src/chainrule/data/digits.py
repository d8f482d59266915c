"""The embedded default data set: scikit-learn's bundled 8x8 handwritten digits.

1797 images of the digits 0-9, 8x8 pixels with intensities 0..16, shipped inside
scikit-learn (no download). ``load_digits`` divides by 16 so every feature lies in [0, 1].

``split="train"`` / ``"test"`` give a fixed, stratified, seeded 80/20 partition (seed 0,
:func:`chainrule.data.prepare.split_indices`): 1438 training and 359 test images, the same
on every machine, so ``chainrule train`` always reports accuracy on the same held-out set.
"""

from __future__ import annotations

import numpy as np

from chainrule.data.prepare import split_indices
from chainrule.errors import InputError, quoted

DIGITS_TEST_FRACTION = 0.2
DIGITS_SPLIT_SEED = 0


def load_digits(split: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: X float64 (n, 64) in [0, 1], y int64 labels 0..9.

    ``split``: None for all 1797 images, ``"train"`` (1438) or ``"test"`` (359).

    >>> X, y = load_digits()
    >>> X.shape, X.dtype, float(X.min()), float(X.max()), y[:5].tolist()
    ((1797, 64), dtype('float64'), 0.0, 1.0, [0, 1, 2, 3, 4])
    >>> [len(load_digits(s)[0]) for s in ("train", "test")]
    [1438, 359]
    """
    if split not in (None, "all", "train", "test"):
        raise InputError(f"digits: unknown split {quoted(split)}; expected 'train', 'test' or None")
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    X = np.asarray(bunch.data, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    if split in (None, "all"):
        return X, y
    train, test = split_indices(y, (1 - DIGITS_TEST_FRACTION, DIGITS_TEST_FRACTION),
                                seed=DIGITS_SPLIT_SEED)
    rows = train if split == "train" else test
    return X[rows], y[rows]
