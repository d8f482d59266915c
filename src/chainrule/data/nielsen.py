"""Nielsen's ``mnist.pkl.gz`` (*Neural Networks and Deep Learning*, ch. 1's ``mnist_loader``),
read without running anything it holds, and the same split made from MNIST's IDX files.

The file is a gzip'd pickle of ``((X, y) training, (X, y) validation, (X, y) test)``: 50,000,
10,000 and 10,000 digits, X float32 (n, 784) holding pixel / 256, y int64 digits 0..9. The
training and validation sets are the first 50,000 and the last 10,000 of MNIST's training
archive, the test set is MNIST's t10k: :func:`load_nielsen_idx` builds the same arrays from
the IDX files, pixel for pixel.

A pickle is a program for a small stack machine, and it may call anything importable
(``os.system``, say). :class:`AllowListUnpickler` lets it name only NumPy's array
reconstruction (``numpy.core.multiarray._reconstruct``, ``numpy.ndarray``, ``numpy.dtype``):
any other name is refused, naming what it tried to load, before anything is called. The arrays
it builds are then checked (shapes, dtypes, no Python objects, labels 0..9).

>>> import gzip, pickle, tempfile, pathlib, numpy as np
>>> part = (np.zeros((2, 784), np.float32), np.array([3, 8]))
>>> path = pathlib.Path(tempfile.mkdtemp()) / "mnist.pkl.gz"
>>> path.write_bytes(gzip.compress(pickle.dumps((part, part, part), protocol=4))) > 0
True
>>> (X, y), validation, test = load_nielsen(path)
>>> X.shape, X.dtype, y.tolist()
((2, 784), dtype('float32'), [3, 8])
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import zlib
from pathlib import Path

import numpy as np

from chainrule.errors import InputError

try:                                          # NumPy >= 2 keeps it in numpy._core
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core.multiarray import _reconstruct

FILE_NAME = "mnist.pkl.gz"
SIZES = {"training": 50_000, "validation": 10_000, "test": 10_000}
MAX_BYTES = 512 << 20            # the real file unpickles from 220 MB; refuse more than this
ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,   # written by NumPy 1.x
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,  # written by NumPy 2.x
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _Bounded(io.RawIOBase):
    """A read-only view of ``stream`` that fails past ``limit`` bytes (a gzip bomb stops here)."""

    def __init__(self, stream, limit, source):
        self.stream, self.left, self.source = stream, limit, source

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.stream.read(min(len(buffer), self.left + 1))
        if len(data) > self.left:
            raise InputError(f"{self.source}: more than {MAX_BYTES} bytes once decompressed; "
                             "Nielsen's file is 220 MB")
        self.left -= len(data)
        buffer[:len(data)] = data
        return len(data)


class AllowListUnpickler(pickle.Unpickler):
    """An Unpickler that can build NumPy arrays and nothing else.

    >>> import pickle, io
    >>> AllowListUnpickler(io.BytesIO(pickle.dumps(print)), "x.pkl").load()
    Traceback (most recent call last):
    ...
    chainrule.errors.InputError: x.pkl: refused to load builtins.print: ...
    """

    def __init__(self, file, source):
        super().__init__(file, encoding="latin1")   # Nielsen wrote it with Python 2
        self.source = source

    def find_class(self, module, name):
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise InputError(f"{self.source}: refused to load {module}.{name}: Nielsen's "
                             f"{FILE_NAME} names only NumPy's array reconstruction "
                             "(numpy.core.multiarray._reconstruct, numpy.ndarray, numpy.dtype), "
                             "so this is not that file") from None

    def persistent_load(self, pid):
        raise InputError(f"{self.source}: refused a persistent id; not Nielsen's {FILE_NAME}")


def _check(data, source):
    """The three (X, y) pairs, after checking every shape, dtype and label."""
    if not (isinstance(data, tuple) and len(data) == 3):
        raise InputError(f"{source}: expected (training, validation, test), got "
                         f"{type(data).__name__}")
    parts = []
    for name, part in zip(SIZES, data):
        if not (isinstance(part, tuple) and len(part) == 2
                and all(isinstance(a, np.ndarray) for a in part)):
            raise InputError(f"{source}: the {name} part is not a pair of arrays (X, y)")
        X, y = part
        if X.dtype != np.float32 or X.ndim != 2 or X.shape[1] != 784:
            raise InputError(f"{source}: {name} X is {X.dtype} {X.shape}, expected float32 "
                             "(n, 784)")
        if y.ndim != 1 or y.dtype.kind not in "iu" or len(y) != len(X):
            raise InputError(f"{source}: {name} y is {y.dtype} {y.shape}, expected {len(X)} "
                             "integer labels")
        if y.size and (y.min() < 0 or y.max() > 9):
            raise InputError(f"{source}: {name} y holds labels outside 0..9")
        if not np.isfinite(X).all():
            raise InputError(f"{source}: {name} X holds NaN or infinite values")
        parts.append((np.ascontiguousarray(X), y.astype(np.int64)))
    return tuple(parts)


def load_nielsen(path):
    """``((X, y) training, (X, y) validation, (X, y) test)`` from Nielsen's mnist.pkl.gz.

    X float32 (n, 784), pixels / 256 as the file holds them; y int64. Refuses any pickle that
    names anything but NumPy's array reconstruction (see the module docstring).
    """
    path = Path(path)
    try:
        with gzip.open(path, "rb") as raw:
            stream = io.BufferedReader(_Bounded(raw, MAX_BYTES, path))
            data = AllowListUnpickler(stream, path).load()
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected {FILE_NAME}") from None
    except gzip.BadGzipFile:
        raise InputError(f"{path}: not a gzip file; expected Nielsen's {FILE_NAME}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, KeyError,
            IndexError, OverflowError, MemoryError, RecursionError, struct.error, zlib.error,
            OSError) as error:
        raise InputError(f"{path}: truncated or not Nielsen's {FILE_NAME} "
                         f"({type(error).__name__}: {error})") from None
    return _check(data, path)


def load_nielsen_idx(root=None, download: bool = True):
    """Nielsen's split made from MNIST's IDX files, equal to :func:`load_nielsen`'s arrays.

    Training: the first 50,000 digits of the training archive; validation: its last 10,000;
    test: t10k. X = pixel / 256 in float32, as in mnist.pkl.gz. ``root`` and ``download`` as
    for :func:`chainrule.data.load_mnist`.
    """
    from chainrule.data.mnist import read_mnist

    def scaled(images):
        return images.reshape(len(images), -1).astype(np.float32) / np.float32(256)

    train_images, train_labels = read_mnist(root, "train", download)
    test_images, test_labels = read_mnist(root, "test", download)
    n = SIZES["training"]
    if len(train_images) != n + SIZES["validation"]:
        raise InputError(f"MNIST's training archive has {len(train_images)} digits, "
                         f"expected {n + SIZES['validation']}")
    return ((scaled(train_images[:n]), train_labels[:n]),
            (scaled(train_images[n:]), train_labels[n:]),
            (scaled(test_images), test_labels))
