"""The embedded digits and the ``load`` dispatcher the command line uses."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.data import load, load_digits
from chainrule.errors import InputError


def test_digits_all_scaled_to_unit_interval():
    from sklearn.datasets import load_digits as sklearn_digits

    X, y = load_digits()
    raw = sklearn_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(X * 16, raw.data)
    assert X.min() == 0.0 and X.max() == 1.0
    assert y[:10].tolist() == list(range(10))


def test_digits_split_is_fixed_stratified_and_disjoint():
    X, y = load_digits()
    X_tr, y_tr = load_digits("train")
    X_te, y_te = load_digits("test")
    assert (len(X_tr), len(X_te)) == (1438, 359)
    rows = {tuple(r) + (c,) for r, c in zip(X, y)}
    assert {tuple(r) + (c,) for r, c in zip(X_tr, y_tr)} | {
        tuple(r) + (c,) for r, c in zip(X_te, y_te)} == rows
    expected = np.bincount(y) * 0.2  # each digit's share of the test set, up to rounding
    assert np.all(np.abs(np.bincount(y_te) - expected) < 1)
    X_again, _ = load_digits("test")
    np.testing.assert_array_equal(X_te, X_again)
    with pytest.raises(InputError, match="unknown split 'valid'"):
        load_digits("valid")


def test_load_names_and_files(tmp_path):
    X, y = load("digits", split="test")
    assert X.shape == (359, 64)
    path = tmp_path / "d.csv"
    rows = [f"{i},{i * 2},{i % 3}" for i in range(30)]
    path.write_text("\n".join(rows) + "\n")
    X_all, y_all = load(path, split="all")
    assert X_all.shape == (30, 2) and y_all.tolist() == [i % 3 for i in range(30)]
    X_tr, y_tr = load(str(path), split="train")
    X_te, y_te = load(path, split="test")
    assert (len(X_tr), len(X_te)) == (24, 6) and np.bincount(y_te).tolist() == [2, 2, 2]
    np.testing.assert_array_equal(np.sort(np.concatenate([X_tr, X_te])[:, 0]), X_all[:, 0])
    np.savez(tmp_path / "d.npz", X=X_all, y=y_all)
    X_npz, _ = load(tmp_path / "d.npz", split=None)
    np.testing.assert_array_equal(X_npz, X_all)


def test_load_mnist_through_the_dispatcher(shared_mnist):
    X, y = load("mnist", data_dir=shared_mnist, split="test", download=False)
    assert X.shape == (10000, 784) and y[:3].tolist() == [7, 2, 1]


@pytest.mark.parametrize("source, split, message", [
    ("cifar", "train", r"unknown data 'cifar'; expected one of digits, mnist, fashion-mnist, "
                       r"or a path ending in .csv, .npz, .mat or .pkl.gz"),
    ("data.xlsx", "train", r"unknown data 'data.xlsx'"),
    ("digits", "validation", r"unknown split 'validation'"),
    ("mnist", "all", r"mnist: choose split 'train' or 'test'"),
    ("missing.csv", "train", r"missing.csv: no such file"),
])
def test_load_errors(source, split, message):
    with pytest.raises(InputError, match=message):
        load(source, split=split)
