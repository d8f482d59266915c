"""Data for chainrule: the embedded digits, MNIST/Fashion-MNIST, Nielsen's mnist.pkl.gz,
Coursera ex4's ex4data1.mat, CSV/NPZ/NPY files, and the preparation steps (label checks,
one-hot, scaling, seeded splits).

>>> from chainrule import data
>>> X, y = data.load("digits", split="train")
>>> X.shape, data.one_hot(y[:2], 10).shape
((1438, 64), (2, 10))
"""

from chainrule.data.digits import load_digits
from chainrule.data.idx import read_idx, write_idx
from chainrule.data.image import load_image, read_png
from chainrule.data.matlab import load_mat, mat_images
from chainrule.data.mnist import cache_dir, load_mnist, read_mnist
from chainrule.data.nielsen import load_nielsen, load_nielsen_idx
from chainrule.data.prepare import (
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
from chainrule.data.sources import NAMES, load
from chainrule.data.tabular import load_array, load_csv, load_npz

__all__ = [
    "NAMES", "MinMaxScaler", "Standardizer", "cache_dir", "check_labels", "load", "load_array",
    "load_csv", "load_digits", "load_image", "load_mat", "load_mnist", "load_nielsen",
    "load_nielsen_idx", "load_npz", "mat_images", "one_hot", "read_idx", "read_mnist",
    "read_png", "scale",
    "split_indices", "standardize", "train_test_split", "train_val_split",
    "train_val_test_split", "write_idx",
]
