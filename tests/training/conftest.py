"""Shared data for the training tests: the digits split and a small least-squares problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED_MNIST = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist"


@pytest.fixture
def mnist_dir() -> Path:
    """The directory with the real MNIST test set, or a clean skip where it is absent."""
    if not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("the real MNIST files (../shared/data/mnist) are not on this machine")
    return SHARED_MNIST


@pytest.fixture(scope="session")
def digits():
    """(X_train, y_train, X_test, y_test) from scikit-learn's 8x8 digits, scaled to [0, 1]."""
    from chainrule.data import load_digits

    X, y = load_digits("train")
    X_test, y_test = load_digits("test")
    return X, y, X_test, y_test


@pytest.fixture(scope="session")
def least_squares():
    """(X, t, w*, b*): targets t = X w + b + noise and the exact minimiser from lstsq."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 3))
    t = X @ np.array([1.5, -2.0, 0.5]) + 0.3 + 0.1 * rng.normal(size=60)
    A = np.hstack([X, np.ones((60, 1))])
    solution = np.linalg.lstsq(A, t, rcond=None)[0]
    return X, t[:, None], solution[:3], solution[3]


@pytest.fixture
def linear_net():
    """Makes a one-layer, identity-output, quadratic-cost network: C = 1/(2n) Σ (x·w + b − t)²,
    i.e. least squares."""
    from chainrule.nn import Network

    def make(dtype="float64"):
        return Network([3, 1], output="identity", cost="quadratic", init="zeros", dtype=dtype)

    return make
