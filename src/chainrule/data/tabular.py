"""Tables from files: numeric CSV (features + an integer label column), NPZ (X, y) and NPY.

Every problem is reported as an :class:`~chainrule.errors.InputError` naming the place:
``data.csv:12:3: not a number: 'abc'`` (file:line:column, both counted from 1). NumPy files
are read with ``allow_pickle=False`` after their headers are checked against the bytes
actually present, so a hostile file can neither run code nor make us allocate memory it
does not contain.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "tiny.csv"
>>> _ = p.write_text("x1,x2,label\\n0.5,1,0\\n2,3.5,1\\n")
>>> X, y = load_csv(p)
>>> X.tolist(), y.tolist()
([[0.5, 1.0], [2.0, 3.5]], [0, 1])
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np

from chainrule.data.idx import MAX_BYTES, read_bytes
from chainrule.data.prepare import MAX_LABEL, check_labels
from chainrule.errors import InputError, quoted
from chainrule.reading import text_head


def _number(cell: str) -> float | None:
    """The value of a CSV cell, or None if it is not a number (surrounding quotes allowed)."""
    cell = cell.strip()
    if len(cell) >= 2 and cell[0] == cell[-1] == '"':
        cell = cell[1:-1].strip()
    try:
        return float(cell)
    except ValueError:
        return None


def _data_lines(path, delimiter: str):
    """(line number, cells) for every non-blank, non-comment line of the file."""
    raw = read_bytes(path, head=text_head(path))     # /dev/zero: refused at its first bytes
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: not UTF-8 text (byte 0x{raw[e.start]:02x}); "
                         "expected a numeric CSV file") from None
    rows = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if line.strip() and not line.lstrip().startswith("#"):
            rows.append((number, line.split(delimiter)))
    return rows


def _parse_rows(path, rows, first_is_data_only: bool) -> np.ndarray:
    """Cells -> float64 matrix; the first bad cell is reported with its line and column."""
    width = len(rows[0][1])
    values = np.empty((len(rows), width), dtype=np.float64)
    for i, (line, cells) in enumerate(rows):
        if len(cells) != width:
            raise InputError(f"{path}:{line}: {len(cells)} columns, but line {rows[0][0]} has "
                             f"{width} (ragged rows)")
        for j, cell in enumerate(cells):
            value = _number(cell)
            if value is None:
                what = "empty cell" if not cell.strip() else f"not a number: {quoted(cell.strip())}"
                hint = (" (a header line? it is read as one when none of its cells is a number; "
                        "in Python, load_csv(..., header=True))"
                        if i == 0 and first_is_data_only else "")
                raise InputError(f"{path}:{line}:{j + 1}: {what}{hint}")
            if not math.isfinite(value):
                raise InputError(f"{path}:{line}:{j + 1}: {quoted(cell.strip())} is not a finite "
                                 "number (NaN and inf are not allowed)")
            values[i, j] = value
    return values


def _matrix(path, rows, delimiter: str, header_removed: bool) -> np.ndarray:
    """Fast path through ``np.loadtxt``; any doubt falls back to the exact, slower parser."""
    try:
        values = np.loadtxt([delimiter.join(cells) for _, cells in rows], delimiter=delimiter,
                            dtype=np.float64, ndmin=2, comments=None)
        if values.shape == (len(rows), len(rows[0][1])) and np.all(np.isfinite(values)):
            return values
    except Exception:  # any failure: let the exact parser explain it
        pass
    return _parse_rows(path, rows, first_is_data_only=not header_removed)


def load_csv(path, label_column: int | str | None = -1, header="auto", delimiter: str = ","):
    """Read a numeric CSV file: ``(X, y)`` with X float64 (n, features), y int64 labels.

    ``label_column``: index (negative counts from the end), a header name, or None for no
    labels (then ``y`` is None). ``header``: ``"auto"`` (the first row is a header when none
    of its cells is a number), True or False. Blank lines and lines starting with ``#`` are
    skipped. Labels must be integers >= 0 (``2.0`` is fine, ``2.5`` is not).
    """
    if header not in ("auto", True, False):
        raise InputError(f"load_csv: header must be 'auto', True or False, got {quoted(header)}")
    rows = _data_lines(path, delimiter)
    if not rows:
        raise InputError(f"{path}: empty file (no rows)")
    names = None
    header_line, first = rows[0]
    if header is True or (header == "auto" and all(_number(c) is None for c in first)):
        names = [c.strip().strip('"').strip() for c in first]
        rows = rows[1:]
        if not rows:
            raise InputError(f"{path}: a header line but no data rows")
    values = _matrix(path, rows, delimiter, header_removed=names is not None)
    width = values.shape[1]
    if names is not None and len(names) != width:
        raise InputError(f"{path}:{header_line}: the header has {len(names)} columns but line "
                         f"{rows[0][0]} has {width}")
    if label_column is None:
        return values, None
    if isinstance(label_column, str):
        if names is None or label_column not in names:
            found = f"columns are {names}" if names else "the file has no header"
            raise InputError(f"{path}: no label column named {quoted(label_column)} ({found})")
        column = names.index(label_column)
    else:
        column = int(label_column)
        if not -width <= column < width:
            raise InputError(f"{path}: label column {label_column} does not exist (the file "
                             f"has {width} columns)")
        column %= width
    if width < 2:
        raise InputError(f"{path}: only the label column, no feature columns")
    labels = values[:, column]
    bad = np.flatnonzero((labels != np.round(labels)) | (labels < 0) | (labels > MAX_LABEL))
    if bad.size:
        line, cells = rows[bad[0]]
        raise InputError(f"{path}:{line}:{column + 1}: label {quoted(cells[column].strip())} "
                         "is not a class number (expected an integer >= 0)")
    return np.delete(values, column, axis=1), labels.astype(np.int64)


def _checked_npy_header(stream, size: int, source) -> None:
    """Check an .npy header (no object dtype, shape matching the ``size`` bytes present)."""
    from numpy.lib import format as npy

    try:
        version = npy.read_magic(stream)
        reader = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, _, dtype = reader(stream)
        start = stream.tell()
    except Exception as e:  # numpy raises several kinds
        raise InputError(f"{source}: not a valid .npy array ({e})") from None
    if dtype.hasobject:
        raise InputError(f"{source}: holds Python objects (pickled data), which chainrule "
                         "never loads; save numeric arrays only")
    claimed = math.prod(shape) * dtype.itemsize
    if claimed != size - start:
        raise InputError(f"{source}: header promises shape {shape} ({claimed} bytes) but "
                         f"{size - start} bytes follow (truncated or corrupt)")


def _numeric(array, source, ndim: int) -> np.ndarray:
    if array.ndim != ndim or array.dtype.kind not in "biuf":
        raise InputError(f"{source}: expected a {ndim}-d numeric array, got shape "
                         f"{array.shape} dtype {array.dtype}")
    return array


def _finite_features(X, source) -> np.ndarray:
    X = np.asarray(_numeric(X, source, 2), dtype=np.float64)
    bad = np.argwhere(~np.isfinite(X))
    if bad.size:
        i, j = bad[0]
        raise InputError(f"{source}: row {i}, column {j} is {X[i, j]}; NaN and inf are not "
                         "allowed")
    return X


def load_npz(path, max_bytes: int = MAX_BYTES):
    """Read ``(X, y)`` from an ``.npz`` archive holding arrays ``X`` (n, features) and ``y`` (n,).

    X is returned as float64 (not rescaled), y as int64 labels (integer-valued, >= 0).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.npz"
    >>> np.savez(p, X=np.eye(2, dtype=np.uint8), y=np.array([1, 0]))
    >>> load_npz(p)
    (array([[1., 0.],
           [0., 1.]]), array([1, 0]))
    """
    path = Path(path)
    arrays = {}
    try:
        with zipfile.ZipFile(read_path(path)) as archive:
            members = {Path(info.filename).stem: info for info in archive.infolist()
                       if info.filename.endswith(".npy")}
            missing = [key for key in ("X", "y") if key not in members]
            if missing:
                raise InputError(f"{path}: no array {' or '.join(map(repr, missing))}; an .npz "
                                 f"for chainrule holds X and y (found {sorted(members)})")
            for key in ("X", "y"):
                info = members[key]
                if info.file_size > max_bytes:
                    raise InputError(f"{path}: array {quoted(key)} is larger than {max_bytes} "
                                     f"bytes")
                with archive.open(info) as stream:
                    _checked_npy_header(stream, info.file_size, f"{path}: array {key!r}")
                with archive.open(info) as stream:
                    arrays[key] = np.load(stream, allow_pickle=False)
    except InputError:
        raise
    except Exception as e:  # zip, zlib and numpy errors all mean: a corrupt archive
        raise InputError(f"{path}: not a readable .npz archive ({type(e).__name__}: {e})"
                         ) from None
    X = _finite_features(arrays["X"], f"{path}: X")
    y = check_labels(_numeric(arrays["y"], f"{path}: y", 1), where=f"{path}: y")
    if len(X) != len(y):
        raise InputError(f"{path}: X has {len(X)} rows but y has {len(y)} labels")
    return X, y


def read_path(path) -> Path:
    """``path`` as a Path, after checking it names an existing regular file."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a regular file")
    return path


def load_array(path) -> np.ndarray:
    """Rows to predict on, from a ``.csv`` (no label column) or ``.npy``: float64 (n, features).

    A 1-d ``.npy`` array (or a one-line CSV) is one row.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "row.npy"
    >>> np.save(p, np.array([0.0, 0.5]))
    >>> load_array(p)
    array([[0. , 0.5]])
    """
    path = read_path(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return load_csv(path, label_column=None)[0]
    if suffix != ".npy":
        raise InputError(f"{path}: expected a .csv or .npy file of input rows")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InputError(f"{path}: {size} bytes is larger than the {MAX_BYTES}-byte limit")
    with path.open("rb") as stream:
        _checked_npy_header(stream, size, path)
    try:
        array = np.load(path, allow_pickle=False)
    except Exception as e:
        raise InputError(f"{path}: not a readable .npy array ({e})") from None
    if array.ndim == 1:
        array = array[None, :]
    return _finite_features(array, path)
