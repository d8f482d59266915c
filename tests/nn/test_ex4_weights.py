"""Coursera ex4's ex4weights.mat as a Network: W = Theta[:, 1:], b = Theta[:, 0], the digit 0 on
unit 0; costs and predictions equal to ex4's formulas written out in MATLAB's convention."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.io

import chainrule as cr
from chainrule.errors import InputError
from tests.cli.conftest import run_cli


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def ex4_forward(Theta1, Theta2, X):
    """ex4's predict.m / nnCostFunction.m feedforward: a bias column of ones at each layer."""
    m = len(X)
    a2 = sigmoid(np.hstack([np.ones((m, 1)), X]) @ Theta1.T)
    return sigmoid(np.hstack([np.ones((m, 1)), a2]) @ Theta2.T)


def ex4_cost(Theta1, Theta2, X, y_matlab, lam):
    """ex4's J: labels 1..K, Y(i, k) = 1 when y(i) = k; the bias columns are not regularised."""
    h = ex4_forward(Theta1, Theta2, X)
    m, K = h.shape
    Y = np.zeros((m, K))
    Y[np.arange(m), y_matlab - 1] = 1
    J = -np.sum(Y * np.log(h) + (1 - Y) * np.log(1 - h)) / m
    return J + lam / (2 * m) * (np.sum(Theta1[:, 1:] ** 2) + np.sum(Theta2[:, 1:] ** 2))


@pytest.fixture(scope="module")
def thetas(ex4_weights):
    mat = scipy.io.loadmat(ex4_weights)
    return mat["Theta1"], mat["Theta2"]


def test_the_real_file_is_ex4s_trained_network(ex4_weights, thetas):
    Theta1, Theta2 = thetas
    net = cr.nn.load(ex4_weights)
    assert net.sizes == [400, 25, 10]
    assert (net.activation, net.output, net.cost, str(net.dtype)) == (
        "sigmoid", "sigmoid", "cross-entropy", "float64")
    np.testing.assert_array_equal(net.weights[0], Theta1[:, 1:])
    np.testing.assert_array_equal(net.biases[0], Theta1[:, 0])
    # unit 0 is ex4's tenth output (the label 10, the digit 0); units 1..9 its first nine
    np.testing.assert_array_equal(net.weights[1][0], Theta2[9, 1:])
    np.testing.assert_array_equal(net.biases[1][1:], Theta2[:9, 0])


@pytest.mark.parametrize("lam", [0.0, 1.0, 3.0])
def test_cost_and_predictions_equal_ex4s_formulas(ex4_weights, thetas, tmp_path, lam):
    Theta1, Theta2 = thetas
    rng = np.random.default_rng(0)
    X = rng.uniform(-0.13, 1.1, (60, 400))
    y_matlab = rng.integers(1, 11, 60)
    path = tmp_path / "d.mat"
    scipy.io.savemat(path, {"X": X, "y": y_matlab.reshape(-1, 1)})
    X_loaded, y = cr.data.load_mat(path)
    net = cr.nn.load(ex4_weights)
    assert net.cost(X_loaded, y, l2=lam) == pytest.approx(
        ex4_cost(Theta1, Theta2, X, y_matlab, lam), rel=1e-12)
    ex4_predicted = ex4_forward(Theta1, Theta2, X).argmax(axis=1) + 1     # MATLAB labels
    np.testing.assert_array_equal(net.predict(X_loaded), np.where(ex4_predicted == 10, 0,
                                                                  ex4_predicted))


def test_on_mnist_digits_cropped_to_ex4s_20_by_20_the_order_is_right(ex4_weights, full_mnist):
    """ex4's digits are MNIST's, 20 x 20 and unrolled by columns: on MNIST's own test digits
    cropped to their central 20 x 20 the trained net is far above chance (10 %) only when
    they are unrolled by columns and its units are read as the digits load_mat gives."""
    images, y = cr.data.read_mnist(full_mnist, "test", download=False)
    crop = images[:, 4:24, 4:24].astype(np.float64) / 255
    net = cr.nn.load(ex4_weights)
    by_columns = np.mean(net.predict(crop.transpose(0, 2, 1).reshape(len(crop), -1)) == y)
    by_rows = np.mean(net.predict(crop.reshape(len(crop), -1)) == y)
    assert by_columns > 0.5 and by_rows < 0.3, (by_columns, by_rows)


def test_chainrule_evaluate_reads_the_mat_weights(ex4_weights, thetas, tmp_path):
    Theta1, Theta2 = thetas
    rng = np.random.default_rng(2)
    X = rng.uniform(-0.13, 1.1, (40, 400))
    y_matlab = ex4_forward(Theta1, Theta2, X).argmax(axis=1) + 1   # ex4's own answers
    path = tmp_path / "answers.mat"
    scipy.io.savemat(path, {"X": X, "y": y_matlab.reshape(-1, 1)})
    done = run_cli("evaluate", ex4_weights, "--data", path, "--split", "all", "--json",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["accuracy"] == 1.0
    assert report["cost"] == pytest.approx(ex4_cost(Theta1, Theta2, X, y_matlab, 0.0), rel=1e-9)


@pytest.mark.parametrize("contents, problem", [
    ({"Theta2": np.zeros((10, 26))}, "no variable 'Theta1'"),
    ({"Theta1": np.zeros((25, 401)), "Theta2": np.zeros((10, 25))}, "Theta2 has shape"),
    ({"Theta1": np.full((2, 3), np.inf)}, "Theta1 contains NaN or infinite"),
    ({"Theta1": np.zeros((2, 1))}, "Theta1 has shape"),
])
def test_bad_weight_files_are_named(tmp_path, contents, problem):
    path = tmp_path / "w.mat"
    scipy.io.savemat(path, contents)
    with pytest.raises(InputError, match=problem) as caught:
        cr.nn.load(path)
    assert str(path) in str(caught.value)


def test_three_layers_of_thetas_and_no_reordering_without_ten_outputs(tmp_path):
    rng = np.random.default_rng(3)
    thetas = {"Theta1": rng.normal(size=(4, 4)), "Theta2": rng.normal(size=(5, 5)),
              "Theta3": rng.normal(size=(3, 6))}
    path = tmp_path / "w.mat"
    scipy.io.savemat(path, thetas)
    net = cr.nn.load(path)
    assert net.sizes == [3, 4, 5, 3]
    for W, b, theta in zip(net.weights, net.biases, thetas.values()):
        np.testing.assert_array_equal(W, theta[:, 1:])
        np.testing.assert_array_equal(b, theta[:, 0])
