"""ex4data1.mat: a small file written by scipy.io.savemat in ex4's layout (the real one is not
at hand), its 10 -> 0 label mapping, the column-major images, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from chainrule.data import load, load_mat, mat_images
from chainrule.errors import InputError


def ex4_like(path, images, labels):
    """Save images (m, 20, 20) and MATLAB labels 1..10 as ex4 did: rows unrolled by columns."""
    X = np.stack([image.ravel(order="F") for image in images])
    scipy.io.savemat(path, {"X": X, "y": np.asarray(labels, dtype=np.uint8).reshape(-1, 1)})
    return path


def test_labels_map_ten_to_the_digit_zero_and_keep_one_to_nine(tmp_path):
    images = np.zeros((11, 20, 20))
    path = ex4_like(tmp_path / "ex4data1.mat", images, [10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    X, y = load_mat(path)
    assert y.tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0]
    assert y.dtype == np.int64 and X.dtype == np.float64 and X.shape == (11, 400)


def test_images_come_back_upright_and_pixels_keep_ex4s_order(tmp_path):
    image = np.zeros((20, 20))
    image[2, 3:15] = 1.0          # a horizontal stroke near the top
    image[:, 17] = 0.5            # a vertical one on the right
    path = ex4_like(tmp_path / "d.mat", [image], [7])
    X, _ = load_mat(path)
    np.testing.assert_array_equal(mat_images(X)[0], image)
    np.testing.assert_array_equal(X[0], image.ravel(order="F"))     # as MATLAB unrolled it
    assert not np.array_equal(X[0].reshape(20, 20), image)          # a row-major read is wrong


def test_round_trip_of_values(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.uniform(-0.13, 1.1, (30, 20, 20))     # ex4's pixels are not in [0, 1]
    labels = rng.integers(1, 11, 30)
    X, y = load_mat(ex4_like(tmp_path / "d.mat", images, labels))
    np.testing.assert_array_equal(mat_images(X), images)
    np.testing.assert_array_equal(y, np.where(labels == 10, 0, labels))


def test_data_sources_split_a_mat_file_like_any_file(tmp_path):
    rng = np.random.default_rng(1)
    path = ex4_like(tmp_path / "d.mat", rng.uniform(size=(50, 20, 20)), np.tile(range(1, 11), 5))
    X_train, y_train = load(path, split="train")
    X_test, y_test = load(path, split="test")
    X_all, y_all = load(path, split="all")
    assert (len(X_train), len(X_test), len(X_all)) == (40, 10, 50)
    assert sorted(y_train.tolist() + y_test.tolist()) == sorted(y_all.tolist())
    assert set(y_all) == set(range(10))


@pytest.mark.parametrize("contents, problem", [
    ({"y": np.ones((2, 1))}, "no variable 'X'"),
    ({"X": np.zeros((2, 400))}, "no variable 'y'"),
    ({"X": np.zeros((2, 400)), "y": np.array([[0], [1]])}, "expected ex4's 1..10"),
    ({"X": np.zeros((2, 400)), "y": np.array([[11], [1]])}, "expected ex4's 1..10"),
    ({"X": np.zeros((2, 400)), "y": np.array([[1.5], [1]])}, "not whole numbers"),
    ({"X": np.zeros((2, 400)), "y": np.ones((3, 1))}, "expected 2 labels"),
    ({"X": np.full((1, 400), np.nan), "y": np.ones((1, 1))}, "NaN"),
    ({"X": np.array(["a"]), "y": np.ones((1, 1))}, "X is not a numeric matrix"),
])
def test_bad_contents_are_named(tmp_path, contents, problem):
    path = tmp_path / "bad.mat"
    scipy.io.savemat(path, contents)
    with pytest.raises(InputError, match=problem) as caught:
        load_mat(path)
    assert str(path) in str(caught.value)


def test_not_a_mat_file_and_missing_file(tmp_path):
    junk = tmp_path / "junk.mat"
    junk.write_bytes(b"MATLAB? no." * 20)
    with pytest.raises(InputError, match="not a readable MATLAB file"):
        load_mat(junk)
    with pytest.raises(InputError, match="no such file"):
        load_mat(tmp_path / "absent.mat")
