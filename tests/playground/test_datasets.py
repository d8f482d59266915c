"""The data sets follow TensorFlow Playground's definitions; features are what they say."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.errors import InputError
from chainrule.playground.datasets import FEATURES, features, make_dataset

seeds = st.integers(0, 2**32 - 1)


def _all(data):
    P = np.concatenate([data.P_train, data.P_test])
    y = np.concatenate([data.y_train, data.y_test])
    return P, y


@settings(max_examples=10, deadline=None)
@given(seeds)
def test_circle_without_noise_is_a_disc_and_a_ring(seed):
    P, y = _all(make_dataset("circle", points=200, seed=seed))
    r = np.hypot(P[:, 0], P[:, 1])
    assert len(P) == 200 and y.sum() == 100                      # half inside, half outside
    assert (r[y == 1] < 2.5).all()                                 # radius 5 × 0.5
    assert ((r[y == 0] >= 3.5) & (r[y == 0] <= 5)).all()           # 5 × 0.7 .. 5


@settings(max_examples=10, deadline=None)
@given(seeds)
def test_xor_labels_are_the_sign_of_x1_x2_and_points_keep_off_the_axes(seed):
    P, y = _all(make_dataset("xor", points=300, seed=seed))
    assert (np.abs(P) >= 0.3).all() and (np.abs(P) <= 5.3).all()
    np.testing.assert_array_equal(y, (P[:, 0] * P[:, 1] >= 0).astype(int))


def test_gauss_has_two_clouds_around_plus_and_minus_two():
    P, y = _all(make_dataset("gauss", points=4000, seed=0))
    np.testing.assert_allclose(P[y == 1].mean(axis=0), [2, 2], atol=0.1)
    np.testing.assert_allclose(P[y == 0].mean(axis=0), [-2, -2], atol=0.1)
    # noise 0: variance 0.5; noise 0.5: variance 4 (TensorFlow Playground's linear scale)
    assert P[y == 1].var(axis=0) == pytest.approx([0.5, 0.5], rel=0.1)
    P, y = _all(make_dataset("gauss", points=4000, noise=0.5, seed=0))
    assert P[y == 1].var(axis=0) == pytest.approx([4, 4], rel=0.1)


def test_spiral_arms_are_opposite_without_noise():
    P, y = _all(make_dataset("spiral", points=400, seed=0))
    first, second = P[y == 1], P[y == 0]
    r1 = np.sort(np.hypot(*first.T))
    np.testing.assert_allclose(r1, np.arange(200) / 200 * 5, atol=1e-12)
    # the second arm is the first turned by π: the same radii, every point negated
    np.testing.assert_allclose(np.sort(np.hypot(*second.T)), r1, atol=1e-12)
    assert sorted(map(tuple, np.round(-second, 9))) == sorted(map(tuple, np.round(first, 9)))


def test_regression_targets():
    P, t = _all(make_dataset("plane", points=300, seed=2))
    np.testing.assert_allclose(t[:, 0], (P[:, 0] + P[:, 1]) / 10)
    P, t = _all(make_dataset("multi-gauss", points=2000, seed=2))
    assert (np.abs(P) <= 6).all() and (np.abs(t) <= 1).all()
    near = np.hypot(P[:, 0] + 4, P[:, 1] - 2.5) < 0.1           # the positive bump at (−4, 2.5)
    assert near.any() and (t[near, 0] > 0.9).all()
    far = (np.abs(P[:, 1]) > 5) & (np.abs(P[:, 0]) < 1)          # > 2 from every centre
    assert far.any() and (t[far, 0] == 0).all()


def test_seeded_split_and_sizes():
    a = make_dataset("circle", seed=5, train_fraction=0.3)
    b = make_dataset("circle", seed=5, train_fraction=0.3)
    c = make_dataset("circle", seed=6, train_fraction=0.3)
    assert len(a.X_train) == 150 and len(a.X_test) == 350           # TF's 500 points
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)
    assert len(make_dataset("plane").X_train) == 600                 # TF's 1200 for regression


def test_features_by_hand():
    P = np.array([[2.0, -3.0], [0.5, math.pi / 2]])
    got = features(P, list(FEATURES))
    expected = [[2, -3, 4, 9, -6, math.sin(2), math.sin(-3)],
                [0.5, math.pi / 2, 0.25, math.pi ** 2 / 4, math.pi / 4, math.sin(0.5), 1.0]]
    np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_digits_are_chainrules_fixed_split():
    from chainrule.data import load_digits

    d = make_dataset("digits", train_fraction=0.9, seed=7)
    X_test, y_test = load_digits("test")
    np.testing.assert_array_equal(d.X_test, X_test)
    np.testing.assert_array_equal(d.y_test, y_test)
    assert not d.planar and d.classes == 10


def test_csv_of_two_columns_is_planar_and_others_are_not():
    rows = [f"{x},{y},{(x > 0) + (y > 0)}" for x in (-2, -1, 1, 2) for y in (-3, 3)]
    d = make_dataset("csv", csv="a,b,label\n" + "\n".join(rows) + "\n", names=["x1", "x1_sq"])
    assert d.planar and d.classes == 3 and d.names == ["x1", "x1_sq"]
    np.testing.assert_allclose(d.X_train[:, 1], d.P_train[:, 0] ** 2)
    assert d.domain[0][0] < -2 and d.domain[1][1] > 3
    three = "\n".join(f"{i},{i * 2},{i % 3},{i % 2}" for i in range(10))
    d = make_dataset("csv", csv=three)
    assert not d.planar and d.X_train.shape[1] == 3 and d.classes == 2


@pytest.mark.parametrize(("text", "named"), [
    ("1,2,0\n3,x,1\n", "csv:2:2: not a number"),
    ("1,2,0\n3,4,0.5\n5,6,1\n7,8,0\n", "not a class number"),
    ("1,2,0\n3,4,1\n", "at least 4"),
    ("1,2,0\n3,4,0\n5,6,0\n7,8,0\n", "two classes"),
    ("0," * 600_000 + "1\n", "limit"),
])
def test_bad_csv_names_the_problem(text, named):
    with pytest.raises(InputError, match=named):
        make_dataset("csv", csv=text)


def test_a_full_disk_while_keeping_an_upload_says_where_and_leaves_nothing(monkeypatch, tmp_path):
    """The CSV upload is kept in a temporary file to be read: disk full names the folder and the
    reason (not "[Errno 28]" and not the temporary file's name) and removes what it began."""
    import errno
    import os
    import tempfile

    from chainrule.errors import RunFailed

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def full(fd, mode):
        os.close(fd)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fdopen", full)
    rows = "".join(f"{i},{i},{i % 2}\n" for i in range(8))
    with pytest.raises(RunFailed) as info:
        make_dataset("csv", csv=rows)
    assert str(info.value) == (f"csv: cannot keep the upload for reading in {tmp_path}: "
                               "no space left on device")
    assert list(tmp_path.iterdir()) == []
