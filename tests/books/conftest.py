"""Small data in the books' layouts: a Nielsen-style mnist.pkl.gz of learnable digits and
slices of the real file."""

from __future__ import annotations

import gzip
import pickle

import numpy as np
import pytest

from chainrule.books.runner import Data


def learnable_parts(n_train=400, n_val=120, n_test=150, seed=0):
    """Ten noisy prototypes on 784 pixels, stored as Nielsen stores them (float32 k/256)."""
    rng = np.random.default_rng(seed)
    prototypes = rng.uniform(0, 1, (10, 784)) > 0.7

    def part(n):
        y = rng.integers(0, 10, n)
        X = np.clip(prototypes[y] * 0.8 + rng.uniform(0, 0.3, (n, 784)), 0, 255 / 256)
        return (np.floor(X * 256) / 256).astype(np.float32), y.astype(np.int64)

    return part(n_train), part(n_val), part(n_test)


@pytest.fixture(scope="session")
def small_data_dir(tmp_path_factory):
    """A --data-dir holding a small mnist.pkl.gz (400 training, 120 validation, 150 test)."""
    folder = tmp_path_factory.mktemp("nielsen")
    (folder / "mnist.pkl.gz").write_bytes(gzip.compress(pickle.dumps(learnable_parts(),
                                                                     protocol=4)))
    return folder


@pytest.fixture(scope="session")
def real_slices(nielsen_data):
    """The first 3,000 training digits and 1,000 of each scored set of Nielsen's real file."""
    (X, y), (Xv, yv), (Xt, yt) = nielsen_data
    return Data((X[:3000], y[:3000]), (Xv[:1000], yv[:1000]), (Xt[:1000], yt[:1000]),
                source="slices of Nielsen's mnist.pkl.gz")
