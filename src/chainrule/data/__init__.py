"""Data for chainrule: the embedded digits, MNIST/Fashion-MNIST, CSV/NPZ/NPY files, and the
preparation steps (label checks, one-hot, scaling, seeded splits).

>>> from chainrule import data
>>> X, y = data.load("digits", split="train")
>>> X.shape, data.one_hot(y[:2], 10).shape
((1438, 64), (2, 10))
"""

from chainrule.data.digits import load_digits
from chainrule.data.idx import read_idx, write_idx
from chainrule.data.image import load_image, read_png
from chainrule.data.mnist import cache_dir, load_mnist
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
    "load_csv", "load_digits", "load_image", "load_mnist", "load_npz", "one_hot", "read_idx",
    "read_png", "scale",
    "split_indices", "standardize", "train_test_split", "train_val_split",
    "train_val_test_split", "write_idx",
]
