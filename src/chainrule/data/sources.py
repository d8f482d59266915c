"""One entry point for the command line: a data set name or a file path -> ``(X, y)``.

Names: ``digits`` (embedded), ``mnist``, ``fashion-mnist`` (IDX files, downloaded on first
use). Files: ``.csv`` (last column = integer labels), ``.npz`` (arrays X and y), Nielsen's
``mnist.pkl.gz`` (any ``.pkl.gz``: his training, validation and test sets) and ex4's
``ex4data1.mat`` (any ``.mat`` with X and y, labels 1..10, 10 the digit 0).

Splits: the named data sets have their own train/test sets. A file has one set of rows, so
``split="train"`` / ``"test"`` give a fixed, stratified, seeded 80/20 partition of it (seed
0, the same rule as the digits), and ``split="all"`` (or None) every row. Nielsen's file has
its own sets: "train" is his 50,000 training digits, "test" his 10,000 test digits, "all" all
70,000 (training, validation, test).
"""

from __future__ import annotations

from pathlib import Path

from chainrule.errors import InputError, quoted

NAMES = ("digits", "mnist", "fashion-mnist")
FILE_TEST_FRACTION = 0.2
FILE_SPLIT_SEED = 0


def load(source, data_dir=None, split: str | None = "train", download: bool = True):
    """``(X, y)`` for a data set name or a ``.csv`` / ``.npz`` path.

    >>> X, y = load("digits", split="test")
    >>> X.shape, y.dtype
    ((359, 64), dtype('int64'))
    """
    if split not in ("train", "test", "all", None):
        raise InputError(f"unknown split {quoted(split)}; expected 'train', 'test' or 'all'")
    name = str(source)
    if name == "digits":
        from chainrule.data.digits import load_digits

        return load_digits(split)
    if name in ("mnist", "fashion-mnist"):
        from chainrule.data.mnist import load_mnist

        if split in ("all", None):
            raise InputError(f"{name}: choose split 'train' or 'test'")
        return load_mnist(data_dir, split=split, download=download, kind=name)
    if name.lower().endswith(".pkl.gz"):
        return _nielsen_split(name, split)
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".npz", ".mat"):
        raise InputError(f"unknown data {quoted(name)}; expected one of {', '.join(NAMES)}, or a "
                         "path ending in .csv, .npz, .mat or .pkl.gz")
    from chainrule.data.prepare import split_indices

    if suffix == ".mat":
        from chainrule.data.matlab import load_mat

        X, y = load_mat(name)
    else:
        from chainrule.data.tabular import load_csv, load_npz

        X, y = load_csv(name) if suffix == ".csv" else load_npz(name)
    if split in ("all", None):
        return X, y
    parts = split_indices(y, (1 - FILE_TEST_FRACTION, FILE_TEST_FRACTION), FILE_SPLIT_SEED)
    rows = parts[0] if split == "train" else parts[1]
    return X[rows], y[rows]


def _nielsen_split(path, split):
    import numpy as np

    from chainrule.data.nielsen import load_nielsen

    training, validation, test = load_nielsen(path)
    if split == "train":
        return training
    if split == "test":
        return test
    parts = (training, validation, test)
    return np.concatenate([X for X, _ in parts]), np.concatenate([y for _, y in parts])
