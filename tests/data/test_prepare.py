"""Preparation: label checks, one-hot targets, scalers fitted on training data, seeded splits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from chainrule.data import (
    MinMaxScaler,
    Standardizer,
    check_labels,
    one_hot,
    scale,
    split_indices,
    standardize,
    train_test_split,
    train_val_split,
    train_val_test_split,
)
from chainrule.errors import InputError


def test_one_hot_by_hand():
    np.testing.assert_array_equal(one_hot([1, 0, 3], 4), [[0, 1, 0, 0], [1, 0, 0, 0],
                                                          [0, 0, 0, 1]])
    assert one_hot([2, 0]).shape == (2, 3)  # k from the largest label
    assert one_hot([1], 2, dtype="float32").dtype == np.float32
    with pytest.raises(InputError, match="row 1 has label 4, outside 0..3 for 4 classes"):
        one_hot([0, 4], 4)


@pytest.mark.parametrize("labels, n, message", [
    ([0, 1, 2.5], None, r"row 2 has label 2.5, not an integer"),
    ([0, np.nan], None, r"row 1 has label nan, not an integer"),
    ([3, -1], None, r"row 1 has label -1, labels must be >= 0"),
    ([0, 1, 9, 10], 10, r"row 3 has label 10, outside 0..9 for 10 classes"),
    ([1e300], None, r"row 0 has label 1e\+300, too large"),
    ([[0, 1]], None, r"expected a 1-d array of class labels, got shape \(1, 2\)"),
    (["a"], None, r"expected integer class labels, got dtype <U1"),
])
def test_check_labels_names_the_first_bad_row(labels, n, message):
    with pytest.raises(InputError, match=message):
        check_labels(np.array(labels), n)


def test_check_labels_accepts_integer_valued_floats():
    y = check_labels(np.array([0.0, 2.0, 1.0]), 3)
    assert y.dtype == np.int64 and y.tolist() == [0, 2, 1]


def test_a_tiny_column_is_standardized_without_subnormal_squares():
    # std of (0, 1.37e-159) is 6.8e-160; squaring the raw values (1e-319, subnormal) lost digits
    Z = standardize(np.array([[0.0], [1.36934443e-159]]))
    np.testing.assert_allclose(Z.ravel(), [-1.0, 1.0], rtol=1e-12)


def test_a_subnormal_column_is_standardized_without_overflow():
    # its largest |x| is 5e-310: the scale 2^1029 would be inf; the std (2.5e-310) is kept
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Z = standardize(np.array([[0.0], [5e-310]]))
    np.testing.assert_allclose(Z.ravel(), [-1.0, 1.0], rtol=1e-9)


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(2, 20), st.integers(1, 4)),
                  elements=st.floats(-1e3, 1e3)))
def test_the_standardizer_std_is_numpy_s_bit_for_bit_on_ordinary_columns(X):
    from chainrule.data.prepare import Standardizer

    std = X.std(axis=0)
    assume(np.all((std == 0) | (std > 1e-150)))    # ordinary: no squares in the subnormals
    fitted = Standardizer.fit(X).std
    kept = std > 64 * np.finfo(np.float64).eps * np.abs(X).max(axis=0)
    assert np.array_equal(fitted[kept], std[kept])


def test_scalers_fit_on_train_and_apply_unchanged_to_test():
    train = np.array([[1.0, 5.0], [3.0, 5.0]])  # column 2 is constant: its std/span is kept 1
    test = np.array([[5.0, 7.0]])
    tr, te = standardize(train, test)
    np.testing.assert_allclose(tr, [[-1, 0], [1, 0]])
    np.testing.assert_allclose(te, [[(5 - 2) / 1, 7 - 5]])  # mean (2, 5), std (1, 1)
    tr, te = scale(train, test, feature_range=(-1, 1))
    np.testing.assert_allclose(tr, [[-1, -1], [1, -1]])
    np.testing.assert_allclose(te, [[-1 + (5 - 1) / 2 * 2, -1 + 2 * 2]])
    with pytest.raises(InputError, match="fitted on 2 features, got 3"):
        Standardizer.fit(train).transform(np.zeros((1, 3)))
    with pytest.raises(InputError, match="low < high"):
        MinMaxScaler.fit(train, (1, 1))


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(2, 20), st.integers(1, 4)),
                  elements=st.floats(-1e3, 1e3)))
def test_standardized_training_data_has_mean_0_and_std_1_or_0(X):
    Z = standardize(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-9)
    std = Z.std(axis=0)
    assert np.all((np.abs(std - 1) < 1e-6) | (std < 1e-6))
    S = scale(X)
    assert S.min() >= -1e-12 and S.max() <= 1 + 1e-12


labels_strategy = st.lists(st.integers(0, 4), min_size=10, max_size=200)


@settings(max_examples=60, deadline=None)
@given(labels=labels_strategy, fraction=st.floats(0.1, 0.5), seed=st.integers(0, 2**32 - 1),
       stratify=st.booleans())
def test_split_is_a_seeded_partition(labels, fraction, seed, stratify):
    y = np.array(labels)
    train, test = split_indices(y, (1 - fraction, fraction), seed, stratify)
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(len(y)))
    assert abs(len(test) - fraction * len(y)) < 1
    again = split_indices(y, (1 - fraction, fraction), seed, stratify)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])
    if stratify:  # each class's test count is its proportional share, up to rounding
        for c in np.unique(y):
            share = fraction * np.sum(y == c) * len(test) / (fraction * len(y))
            assert abs(np.sum(y[test] == c) - share) < 1 + 1e-9


def test_stratified_split_by_hand_and_seeds_matter():
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    X = np.arange(100)[:, None]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_fraction=0.2, seed=3)
    assert np.bincount(y_te).tolist() == [12, 6, 2] and np.bincount(y_tr).tolist() == [48, 24, 8]
    np.testing.assert_array_equal(X_te[:, 0], np.flatnonzero(np.isin(np.arange(100), X_te)))
    other = train_test_split(X, y, test_fraction=0.2, seed=4)[1]
    assert not np.array_equal(X_te, other)
    parts = train_val_test_split(X, y, (0.7, 0.2, 0.1), seed=0)
    assert [len(p) for p in parts[:3]] == [70, 20, 10]
    assert [np.bincount(p, minlength=3).tolist() for p in parts[3:]] == [[42, 21, 7],
                                                                         [12, 6, 2], [6, 3, 1]]
    X_tr, X_val, y_tr, y_val = train_val_split(X, y, 0.1, seed=0)
    assert len(X_val) == 10 and set(X_val[:, 0]).isdisjoint(X_tr[:, 0])


@pytest.mark.parametrize("call, message", [
    (lambda: split_indices(np.zeros(10), (0.5, 0.6)), "positive and sum to 1"),
    (lambda: split_indices(np.zeros(10), (1.0, 0.0)), "positive and sum to 1"),
    (lambda: split_indices(np.zeros(3), (0.9, 0.05, 0.05)), "every part non-empty"),
    (lambda: train_test_split(np.zeros((3, 1)), np.zeros(2)), "X has 3 rows but y has 2"),
    (lambda: train_val_test_split(np.zeros((3, 1)), np.zeros(3), (0.5, 0.5)), "three fractions"),
])
def test_split_errors(call, message):
    with pytest.raises(InputError, match=message):
        call()
