"""Coursera ex4's ``ex4data1.mat``: 5,000 handwritten digits as MATLAB saved them.

``X`` is 5000 × 400: each row a 20 × 20 grey image unrolled in MATLAB's column-major order
(``X[i].reshape(20, 20, order="F")``, or :func:`mat_images`, shows it upright). ``y`` holds
MATLAB's 1-based labels 1..10, where **10 stands for the digit 0** (MATLAB has no index
0, so ex4 labels a zero as 10); :func:`load_mat` maps it back explicitly, 10 → 0 and 1..9
unchanged, so ``y`` is the digit itself, as everywhere else in chainrule. X keeps ex4's
pixel order, so ex4's own weights (``cr.nn.load("ex4weights.mat")``) apply to it directly.

Read with SciPy's ``loadmat`` (MATLAB 5 files: numbers only, nothing is executed).

>>> import tempfile, pathlib, numpy as np, scipy.io
>>> path = pathlib.Path(tempfile.mkdtemp()) / "ex4data1.mat"
>>> scipy.io.savemat(path, {"X": np.zeros((3, 400)), "y": np.array([[10], [1], [9]])})
>>> X, y = load_mat(path)
>>> X.shape, y.tolist()
((3, 400), [0, 1, 9])
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from chainrule.errors import InputError, quoted
from chainrule.reading import open_binary

MAX_BYTES = 256 << 20        # ex4data1.mat is 7.5 MB
IMAGE_SHAPE = (20, 20)
ZERO_LABEL = 10              # ex4: the digit 0 is stored as the label 10


def read_mat(path, names, required=None):
    """``{name: array}`` for the variables ``names`` a MATLAB file holds; each of ``required``
    (default: all of ``names``) must be there. One InputError per problem, naming the file."""
    from scipy.io import loadmat

    path = Path(path)
    try:
        with open_binary(path, MAX_BYTES) as f:       # a pipe or device: bounded as it is read
            contents = loadmat(f, variable_names=list(names))
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a .mat file") from None
    except NotImplementedError:            # MATLAB 7.3 files are HDF5
        raise InputError(f"{path}: a MATLAB 7.3 (HDF5) file; save it with -v7 or older "
                         "(ex4's files are MATLAB 5)") from None
    except (ValueError, TypeError, OSError, EOFError, KeyError, IndexError, OverflowError,
            MemoryError) as error:
        raise InputError(f"{path}: not a readable MATLAB file ({type(error).__name__}: "
                         f"{error})") from None
    missing = [n for n in (names if required is None else required) if n not in contents]
    if missing:
        found = sorted(k for k in contents if not k.startswith("__"))
        raise InputError(f"{path}: no variable {quoted(missing[0])}"
                         + (f" (of {', '.join(names)} it holds {', '.join(found)})" if found
                            else ""))
    arrays = {}
    for name in (n for n in names if n in contents):
        value = contents[name]
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
            raise InputError(f"{path}: {name} is not a numeric matrix")
        arrays[name] = value
    return arrays


def load_mat(path):
    """``(X, y)`` from ex4data1.mat: X float64 (m, 400) in ex4's column-major pixel order,
    y int64 digits 0..9 (ex4's label 10 mapped to the digit 0)."""
    arrays = read_mat(path, ("X", "y"))
    X, y = arrays["X"].astype(np.float64), arrays["y"]
    if X.ndim != 2:
        raise InputError(f"{path}: X has shape {X.shape}, expected (examples, features)")
    if y.ndim == 2 and 1 in y.shape:
        y = y.ravel()
    if y.ndim != 1 or len(y) != len(X):
        raise InputError(f"{path}: y has shape {arrays['y'].shape}, expected {len(X)} labels "
                         "(a column, as ex4 saves it)")
    if not np.isfinite(X).all():
        raise InputError(f"{path}: X holds NaN or infinite values")
    if not (np.isfinite(y).all() and (y == np.round(y)).all()):
        raise InputError(f"{path}: y holds labels that are not whole numbers")
    y = y.astype(np.int64)
    if y.size and (y.min() < 1 or y.max() > ZERO_LABEL):
        raise InputError(f"{path}: y holds labels {int(y.min())}..{int(y.max())}; expected "
                         f"ex4's 1..{ZERO_LABEL} (10 for the digit 0)")
    return X, np.where(y == ZERO_LABEL, 0, y)


def mat_images(X, shape=IMAGE_SHAPE):
    """The rows of ex4's X as upright images (n, 20, 20): MATLAB unrolled them by columns.

    >>> X = np.arange(4.0).reshape(1, 4)         # a 2 x 2 image, column-major
    >>> mat_images(X, (2, 2))[0].tolist()
    [[0.0, 2.0], [1.0, 3.0]]
    """
    X = np.asarray(X)
    return X.reshape(len(X), shape[1], shape[0]).transpose(0, 2, 1)
