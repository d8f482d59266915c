"""Model files: one ``.npz`` holding the parameters and JSON metadata (and, for checkpoints,
what ``chainrule.training.checkpoint`` adds) — read back without ever unpickling anything.

Layout (``version`` 1): the arrays ``W1, b1, W2, b2, ...`` (the network's params, in its dtype),
``__meta__`` (uint8, UTF-8 JSON ``{"format": "chainrule-model", "version": 1, "config": ...,
"dtype": ..., "params": [names], "training": null | {...}}``) and, in a checkpoint, the
optimiser's arrays ``optimizer.<name>.<i>``, ``early_stopping.best_params`` and
``training.params`` (the weights to continue from, when early stopping gave the model its best
ones back). ``training`` holds the epoch, the optimiser's config and scalar state, the
shuffling Generator's state, the history and free metadata.

Loading reads each member with NumPy's header parser (no pickle, no ``allow_pickle``),
checks every name, shape, dtype and value (every float finite: the model's, the optimiser's,
early stopping's) against the config before building anything, and turns every problem into
one :class:`~chainrule.errors.InputError` line naming the file and the entry.

Coursera ex4's ``ex4weights.mat`` loads too (:func:`load_ex4_weights`): a path ending in
``.mat`` is read as MATLAB's ``Theta1``, ``Theta2``, ... (no training state).

>>> import tempfile, pathlib, chainrule as cr
>>> path = pathlib.Path(tempfile.mkdtemp()) / "model.npz"
>>> net = cr.nn.Network([3, 4, 2], seed=0)
>>> save(net, path)
>>> bool((load(path).to_vector() == net.to_vector()).all())
True
"""

from __future__ import annotations

import itertools
import json
import math
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from chainrule.errors import InputError, quoted
from chainrule.fsutil import atomic_write
from chainrule.reading import MAX_BYTES, loads_json, open_binary

FORMAT, VERSION = "chainrule-model", 1
META = "__meta__"
_META_LIMIT = 64 << 20          # bytes of JSON metadata we are willing to read
_HEADER_SLACK = 1 << 16         # room for a .npy header beyond the data itself
TRAINING_PREFIXES = ("optimizer.", "early_stopping.", "training.")   # a checkpoint's arrays


def _param_names(model):
    config = model.config()
    if "kind" not in config:    # a Network: W^l and b^l, in Nielsen's names
        return [f"{c}{l}" for l in range(1, len(model.params) // 2 + 1) for c in "Wb"]
    return [f"p{i}" for i in range(len(model.params))]


class NotFinite(InputError):
    """:func:`save` refused: an array (``name``) or the metadata holds NaN or inf."""

    def __init__(self, path, name, what):
        super().__init__(f"{path}: not written: {what} (NaN or inf); any file already there "
                         "is kept")
        self.name = name


def _refuse_non_finite(path, arrays):
    """NotFinite for the first array holding NaN or inf (nothing non-finite is ever saved)."""
    for name, array in arrays.items():
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            bad = int(array.size - np.count_nonzero(np.isfinite(array)))
            raise NotFinite(path, name, f"{name} holds {bad} non-finite "
                            f"value{'s' if bad > 1 else ''}")


def _non_finite_number(value, where=""):
    """The JSON path of the first NaN or inf in ``value`` ("training.history.val_cost[2]")."""
    if isinstance(value, float) and not math.isfinite(value):
        return where
    items = (value.items() if isinstance(value, dict)
             else enumerate(value) if isinstance(value, list | tuple) else ())
    for key, item in items:
        inner = f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}".lstrip(".")
        found = _non_finite_number(item, inner)
        if found:
            return found
    return None


def save(model, path, training=None, training_arrays=None):
    """Write ``model`` to ``path`` atomically.

    The file is exactly ``path`` (no suffix is added). A ``kill -9`` at any moment leaves the
    previous complete file or the new one. ``training`` (JSON) and ``training_arrays`` (name
    -> array) are what ``cr.training.save_checkpoint`` adds; the model file keeps them as given.
    An array or a metadata number that is NaN or inf is refused (:class:`NotFinite`, an
    InputError) before anything is written, so a good file is never replaced by a broken one.

    >>> import tempfile, pathlib, chainrule as cr
    >>> net = cr.nn.Network([2, 1], seed=0)
    >>> net.biases[0][0] = float("nan")
    >>> try:
    ...     save(net, pathlib.Path(tempfile.mkdtemp()) / "m.npz")
    ... except InputError as e:
    ...     print(str(e).split(": ", 1)[1])
    not written: b1 holds 1 non-finite value (NaN or inf); any file already there is kept
    """
    arrays = {name: np.ascontiguousarray(p) for name, p in zip(_param_names(model), model.params)}
    meta = {"format": FORMAT, "version": VERSION, "config": model.config(),
            "dtype": str(model.dtype), "params": list(arrays), "training": training}
    for name, array in (training_arrays or {}).items():
        if name in arrays or name == META or not name.startswith(TRAINING_PREFIXES):
            raise InputError(f"{path}: training array name {quoted(name)} is not allowed")
        arrays[name] = np.ascontiguousarray(array)
    _refuse_non_finite(path, arrays)
    try:
        text = json.dumps(meta, allow_nan=False)
    except ValueError as error:
        if "Out of range float" not in str(error):
            raise InputError(f"{path}: the metadata cannot be written as JSON ({error})") \
                from None
        where = _non_finite_number(meta) or "the metadata"
        raise NotFinite(path, where, f"{where} in the metadata is not finite") from None
    except (TypeError, RecursionError) as error:
        raise InputError(f"{path}: the metadata cannot be written as JSON ({error})") from None
    arrays[META] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    with atomic_write(path, "wb") as f:
        np.savez(f, **arrays)


def load(path):
    """The :class:`~chainrule.nn.Network` saved in ``path`` (a checkpoint's training state is
    left unread: ``cr.training.load_checkpoint`` reads it), or ex4's weights from a ``.mat``."""
    return read(path)[1]


def load_ex4_weights(path):
    """The sigmoid network of Coursera ex4's ``ex4weights.mat`` ([400, 25, 10] for the real file).

    ex4 stores layer l as ``Theta<l>`` with the bias in column 0, so ``W = Theta[:, 1:]`` and
    ``b = Theta[:, 0]``. Its output unit k (1-based) means MATLAB's label k, where the label 10
    is the digit 0; with 10 outputs the rows are reordered so that unit d means the digit d,
    as :func:`chainrule.data.load_mat` maps the labels (unit 0 is ex4's tenth row). The cost
    is ex4's regularised cross-entropy; the network is float64, as MATLAB computes.

    >>> import tempfile, pathlib, numpy as np, scipy.io
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "weights.mat"
    >>> Theta1, Theta2 = np.arange(6.0).reshape(2, 3), np.arange(30.0).reshape(10, 3)
    >>> scipy.io.savemat(path, {"Theta1": Theta1, "Theta2": Theta2})
    >>> net = load_ex4_weights(path)
    >>> net.sizes, net.biases[0].tolist(), net.weights[0].tolist()
    ([2, 2, 10], [0.0, 3.0], [[1.0, 2.0], [4.0, 5.0]])
    >>> net.biases[1][:2].tolist()                   # unit 0 = ex4's row 10 (the digit 0)
    [27.0, 0.0]
    """
    from chainrule.data.matlab import read_mat
    from chainrule.nn.network import Network

    path = Path(path)
    names = [f"Theta{l}" for l in range(1, 10)]
    found = read_mat(path, names, required=names[:1])
    thetas = [found[name] for name in itertools.takewhile(found.__contains__, names)]
    sizes = [thetas[0].shape[1] - 1] + [t.shape[0] for t in thetas]
    for l, theta in enumerate(thetas, start=1):
        if theta.ndim != 2 or theta.shape[1] != sizes[l - 1] + 1 or theta.shape[1] < 2:
            raise InputError(f"{path}: Theta{l} has shape {theta.shape}, expected "
                             f"({sizes[l]}, {sizes[l - 1] + 1}): layer {l}'s units × (1 + "
                             f"layer {l - 1}'s units), bias first")
        if not np.isfinite(theta).all():
            raise InputError(f"{path}: Theta{l} contains NaN or infinite values")
    weights = [t[:, 1:].astype(np.float64) for t in thetas]
    biases = [t[:, 0].astype(np.float64) for t in thetas]
    if sizes[-1] == 10:                 # ex4's label 10 is the digit 0: make it unit 0
        order = np.roll(np.arange(10), 1)
        weights[-1], biases[-1] = weights[-1][order], biases[-1][order]
    return Network(sizes, activation="sigmoid", output="sigmoid", cost="cross-entropy",
                   init="uniform", dtype="float64", weights=weights, biases=biases)


def read(path, reader_class=None):
    """Open ``path`` and read it with ``reader_class`` (default :class:`ModelReader`):
    ``(reader, network, training)``, where ``training`` is what the reader's ``read`` made of
    the file's training entry (the raw JSON or None here; a checkpoint reader's state).
    Every problem with the file is one InputError naming it."""
    path = Path(path)
    if path.suffix.lower() == ".mat":
        return None, load_ex4_weights(path), None
    try:
        with open_binary(path, MAX_BYTES, head=lambda head: _zip_head(path, head)) as f:
            try:
                zf = zipfile.ZipFile(f)
            except zipfile.BadZipFile as error:
                f.seek(0)
                raise InputError(f"{path}: {_not_a_zip(f.read(6), error)}") from None
            with zf:
                reader = (reader_class or ModelReader)(path, zf)
                net, training = reader.read()
                return reader, net, training
    except InputError:
        raise
    except zipfile.BadZipFile as error:
        raise InputError(f"{path}: truncated or corrupt zip ({error})") from None
    # what zipfile raises on damaged archives (NotImplementedError: an unknown compression
    # method in a corrupted header)
    except (OSError, EOFError, ValueError, KeyError, NotImplementedError, RuntimeError,
            struct.error, zlib.error, OverflowError, MemoryError) as error:
        raise InputError(f"{path}: truncated or corrupt zip ({type(error).__name__}: "
                         f"{error})") from None


def _zip_head(path, head):
    """A pipe's first bytes: an .npz starts with a zip entry ("PK"); refuse anything else now."""
    if not head.startswith(b"PK"):
        raise InputError(f"{path}: {_not_a_zip(head, 'no zip header')}")


def _not_a_zip(head, error):
    if head.startswith(b"\x93NUMPY"):
        return "not a chainrule model (a single .npy array, not an .npz archive)"
    if head.startswith(b"PK"):
        return f"truncated or corrupt zip ({error})"
    return "not a chainrule model (not an .npz archive)"


class ModelReader:
    """Reads and checks one model file, member by member (subclassed for checkpoints)."""

    def __init__(self, path, zf):
        self.path, self.zf = path, zf
        names = zf.namelist()
        odd = [n for n in names if not n.endswith(".npy")]
        if odd:
            self.fail(f"not a chainrule model (unexpected entry {quoted(odd[0])})")
        self.members = {n[:-4] for n in names}
        if len(self.members) != len(names):
            self.fail("not a chainrule model (repeated entries)")

    def fail(self, problem):
        raise InputError(f"{self.path}: {problem}")

    def array(self, name, shape, dtype, limit=None):
        """Member ``name`` after checking its header against ``shape`` (None: any shape of at
        most ``limit`` bytes) and ``dtype``, and (a floating-point array) that every value in
        it is finite."""
        if name not in self.members:
            self.fail(f"missing {name}")
        info = self.zf.getinfo(name + ".npy")
        if info.compress_type != zipfile.ZIP_STORED:   # np.savez stores; refuse zip bombs
            self.fail(f"{name} is compressed; chainrule model files store their arrays as is")
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize if shape is not None else limit
        if info.file_size > nbytes + _HEADER_SLACK:
            self.fail(f"{name} is larger than expected ({info.file_size} bytes)")
        with self.zf.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                found, fortran, found_dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                found, fortran, found_dtype = np.lib.format.read_array_header_2_0(f)
            else:
                self.fail(f"{name} uses .npy format {version}, not 1.0 or 2.0")
            if found_dtype.hasobject:
                self.fail(f"{name} holds Python objects (pickled data); refusing to load it")
            if shape is None:           # any shape, within the limit
                if math.prod(found) * found_dtype.itemsize > limit:
                    self.fail(f"{name} has shape {found}, larger than expected")
                shape = found
            if tuple(found) != tuple(shape):
                self.fail(f"{name} has shape {tuple(found)}, expected {tuple(shape)}")
            if found_dtype != np.dtype(dtype):
                self.fail(f"{name} has dtype {found_dtype}, expected {np.dtype(dtype)}")
            size = int(np.prod(shape)) * found_dtype.itemsize
            data = f.read(size + 1)       # one byte more: reach the end, so the CRC is checked
        if len(data) != size:
            self.fail(f"{name} holds {len(data)} bytes of data, expected {size}")
        order = "F" if fortran else "C"
        array = np.frombuffer(data, dtype=found_dtype).reshape(shape, order=order).copy()
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            self.fail(f"{name} contains NaN or infinite values")
        return array

    def meta(self):
        if META not in self.members:
            self.fail(f"not a chainrule model (no {META} entry)")
        raw = self.array(META, None, np.uint8, limit=_META_LIMIT)
        if raw.ndim != 1:
            self.fail(f"{META} has shape {raw.shape}, expected a vector")
        meta = loads_json(raw.tobytes(), f"{self.path}: {META}", max_bytes=_META_LIMIT)
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            self.fail(f"not a chainrule model ({META} has no format {quoted(FORMAT)})")
        version = meta.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            self.fail(f"format version {quoted(version)} is not valid")
        if version > VERSION:
            self.fail(f"format version {version} is newer than this chainrule ({VERSION}); "
                      f"upgrade chainrule to read it")
        return meta

    def read(self):
        from chainrule.nn.inputs import check_dtype, check_sizes
        from chainrule.nn.network import Network

        meta = self.meta()
        config = meta.get("config")
        if not isinstance(config, dict):
            self.fail("metadata has no config")
        if "kind" in config:
            self.fail(f"holds a {config['kind']}-defined model; only networks can be loaded "
                      f"(rebuild the model from its code)")
        try:
            sizes = check_sizes(config.get("sizes"))
            dtype = check_dtype(config.get("dtype"))
        except InputError as error:
            self.fail(f"config: {error}")
        names = [f"{c}{l}" for l in range(1, len(sizes)) for c in "Wb"]
        shapes = [s for l in range(1, len(sizes)) for s in ((sizes[l], sizes[l - 1]),
                                                            (sizes[l],))]
        if meta.get("params") != names:
            self.fail(f"metadata lists params {quoted(meta.get('params'))}, expected {names}")
        training = meta.get("training")
        expected = {META, *names}
        if isinstance(training, dict):
            expected |= self.training_members(training, len(names))
        extra = sorted(self.members - expected)
        if extra:
            self.fail(f"not a chainrule model (unexpected entry {quoted(extra[0])})")
        params = [self.array(name, shape, dtype) for name, shape in zip(names, shapes)]
        self.check_training_arrays(sorted(expected - {META, *names}), dtype,
                                   sum(p.nbytes for p in params))
        odd = [k for k in ("activation", "output", "cost", "init") if not isinstance(
            config.get(k, ""), str)]
        if odd:
            self.fail(f"config: {odd[0]} must be a name, got {quoted(config[odd[0]])}")
        try:
            net = Network.from_config(config, params)
        except (InputError, TypeError) as error:
            self.fail(f"config: {error}")
        return net, training

    def training_members(self, training, n_params):
        """The members a file's training state may hold (read by checkpoints, not here)."""
        return {m for m in self.members if m.startswith(TRAINING_PREFIXES)}

    def check_training_arrays(self, names, dtype, nbytes):
        """Check the training state's arrays without using them: each in the model's dtype, no
        larger than its parameters (``nbytes``), every value finite."""
        for name in names:
            self.array(name, None, dtype, limit=nbytes)
