"""Model files: one ``.npz`` holding the parameters, JSON metadata and, for checkpoints, the
training state — read back without ever unpickling anything.

Layout (``version`` 1): the arrays ``W1, b1, W2, b2, ...`` (the network's params, in its dtype),
``__meta__`` (uint8, UTF-8 JSON ``{"format": "chainrule-model", "version": 1, "config": ...,
"dtype": ..., "params": [names], "training": null | {...}}``) and, in a checkpoint, the
optimiser's arrays ``optimizer.<name>.<i>``, ``early_stopping.best_params`` and
``training.params`` (the weights to continue from, when early stopping gave the model its best
ones back). ``training`` holds the epoch, the optimiser's config and scalar state, the
shuffling Generator's state, the history and free metadata.

Loading reads each member with NumPy's header parser (no pickle, no ``allow_pickle``),
checks every name, shape, dtype and value against the config before building anything, and
turns every problem into one :class:`~chainrule.errors.InputError` line naming the file.

>>> import tempfile, pathlib, chainrule as cr
>>> path = pathlib.Path(tempfile.mkdtemp()) / "model.npz"
>>> net = cr.nn.Network([3, 4, 2], seed=0)
>>> save(net, path)
>>> bool((load(path).to_vector() == net.to_vector()).all())
True
"""

from __future__ import annotations

import json
import math
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from chainrule.errors import InputError
from chainrule.fsutil import atomic_write

FORMAT, VERSION = "chainrule-model", 1
META = "__meta__"
_META_LIMIT = 64 << 20          # bytes of JSON metadata we are willing to read
_HEADER_SLACK = 1 << 16         # room for a .npy header beyond the data itself


def _param_names(model):
    config = model.config()
    if "kind" not in config:    # a Network: W^l and b^l, as in the seeds
        return [f"{c}{l}" for l in range(1, len(model.params) // 2 + 1) for c in "Wb"]
    return [f"p{i}" for i in range(len(model.params))]


def save(model, path, state=None):
    """Write ``model`` (and a :class:`~chainrule.training.TrainingState`) to ``path`` atomically.

    The file is exactly ``path`` (no suffix is added). A ``kill -9`` at any moment leaves the
    previous complete file or the new one.
    """
    arrays = {name: np.ascontiguousarray(p) for name, p in zip(_param_names(model), model.params)}
    meta = {"format": FORMAT, "version": VERSION, "config": model.config(),
            "dtype": str(model.dtype), "params": list(arrays), "training": None}
    if state is not None:
        meta["training"] = _state_to_json(state, arrays)
    try:
        text = json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InputError(f"{path}: the metadata cannot be written as JSON ({error})") from None
    arrays[META] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    with atomic_write(path, "wb") as f:
        np.savez(f, **arrays)


def _state_to_json(state, arrays):
    scalars, counts = {}, {}
    for key, value in state.optimizer.state_dict().items():
        if isinstance(value, list):
            counts[key] = len(value)
            for i, a in enumerate(value):
                arrays[f"optimizer.{key}.{i}"] = np.ascontiguousarray(a)
        else:
            scalars[key] = value
    early = None
    if state.early_stopping is not None:
        early = {k: v for k, v in state.early_stopping.items() if k != "best_params"}
        best = state.early_stopping.get("best_params")
        early["has_best_params"] = best is not None
        if best is not None:
            arrays["early_stopping.best_params"] = np.ascontiguousarray(best)
    if state.params is not None:
        arrays["training.params"] = np.ascontiguousarray(state.params)
    return {"epoch": int(state.epoch), "seed": state.seed, "optimizer": state.optimizer.config(),
            "optimizer_state": scalars, "optimizer_arrays": counts, "rng": state.rng_state,
            "history": state.history.to_dict(), "metadata": state.metadata,
            "early_stopping": early, "has_params": state.params is not None}


def load(path):
    """The :class:`~chainrule.nn.Network` saved in ``path`` (any training state is ignored)."""
    return load_checkpoint(path)[0]


def load_checkpoint(path):
    """``(network, state)``: state is a TrainingState, or None for a file without one.

    >>> import tempfile, pathlib, numpy as np, chainrule as cr
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "run.npz"
    >>> net = cr.nn.Network([2, 2], seed=0)
    >>> _ = cr.train(net, np.eye(2), [0, 1], epochs=3, checkpoint=path, progress=False)
    >>> net, state = load_checkpoint(path)
    >>> state.epoch, state.optimizer
    (3, SGD(lr=3.0, momentum=0.0, nesterov=False))
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            return _Reader(path, zf).read()
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a model file") from None
    except zipfile.BadZipFile as error:
        raise InputError(f"{path}: {_not_a_zip(path, error)}") from None
    # what zipfile raises on damaged archives (NotImplementedError: an unknown compression
    # method in a corrupted header)
    except (OSError, EOFError, ValueError, KeyError, NotImplementedError, RuntimeError,
            struct.error, zlib.error, OverflowError, MemoryError) as error:
        raise InputError(f"{path}: truncated or corrupt zip ({type(error).__name__}: "
                         f"{error})") from None


def _not_a_zip(path, error):
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except OSError:
        head = b""
    if head.startswith(b"\x93NUMPY"):
        return "not a chainrule model (a single .npy array, not an .npz archive)"
    if head.startswith(b"PK"):
        return f"truncated or corrupt zip ({error})"
    return "not a chainrule model (not an .npz archive)"


class _Reader:
    """Reads and checks one model file, member by member."""

    def __init__(self, path, zf):
        self.path, self.zf = path, zf
        names = zf.namelist()
        odd = [n for n in names if not n.endswith(".npy")]
        if odd:
            self.fail(f"not a chainrule model (unexpected entry {odd[0]!r})")
        self.members = {n[:-4] for n in names}
        if len(self.members) != len(names):
            self.fail("not a chainrule model (repeated entries)")

    def fail(self, problem):
        raise InputError(f"{self.path}: {problem}")

    def array(self, name, shape, dtype, limit=None):
        """Member ``name`` after checking its header against ``shape`` and ``dtype``."""
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
            if shape is None:           # a 1-d vector of unknown length (the metadata)
                if len(found) != 1 or found[0] > limit:
                    self.fail(f"{name} has shape {found}, expected a vector")
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
        return np.frombuffer(data, dtype=found_dtype).reshape(shape, order=order).copy()

    def meta(self):
        if META not in self.members:
            self.fail(f"not a chainrule model (no {META} entry)")
        raw = self.array(META, None, np.uint8, limit=_META_LIMIT)
        try:
            meta = json.loads(raw.tobytes().decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            self.fail(f"not a chainrule model ({META} is not JSON)")
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            self.fail(f"not a chainrule model ({META} has no format {FORMAT!r})")
        version = meta.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            self.fail(f"format version {version!r} is not valid")
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
            self.fail(f"metadata lists params {meta.get('params')!r}, expected {names}")
        training = meta.get("training")
        expected = {META, *names}
        if isinstance(training, dict):
            expected |= self.state_members(training, len(names))
        extra = sorted(self.members - expected)
        if extra:
            self.fail(f"not a chainrule model (unexpected entry {extra[0]!r})")
        params = [self.array(name, shape, dtype) for name, shape in zip(names, shapes)]
        for name, p in zip(names, params):
            if not np.isfinite(p).all():
                self.fail(f"{name} contains NaN or infinite values")
        odd = [k for k in ("activation", "output", "cost", "init") if not isinstance(
            config.get(k, ""), str)]
        if odd:
            self.fail(f"config: {odd[0]} must be a name, got {config[odd[0]]!r}")
        try:
            net = Network.from_config(config, params)
        except (InputError, TypeError) as error:
            self.fail(f"config: {error}")
        try:
            state = None if training is None else self.state(training, net)
        except InputError as error:
            if str(error).startswith(str(self.path)):
                raise
            self.fail(f"training state: {error}")
        except (TypeError, AttributeError, KeyError, ValueError) as error:
            self.fail(f"training state: malformed ({type(error).__name__}: {error})")
        return net, state

    def state_members(self, training, n_params):
        counts = training.get("optimizer_arrays")
        if not isinstance(counts, dict) or not all(
                isinstance(c, int) and c in (0, n_params) for c in counts.values()):
            self.fail(f"training state: optimizer_arrays must give 0 or {n_params} arrays per "
                      f"name")
        members = {f"optimizer.{k}.{i}" for k, c in counts.items() for i in range(c)}
        early = training.get("early_stopping")
        if isinstance(early, dict) and early.get("has_best_params"):
            members.add("early_stopping.best_params")
        if training.get("has_params") is True:
            members.add("training.params")
        return members

    def state(self, training, net):
        from chainrule.callbacks import EarlyStopping, History, TrainingState
        from chainrule.optim import optimizer_from_config

        if not isinstance(training, dict):
            self.fail("training state is not a JSON object")
        keys = {"epoch", "seed", "optimizer", "optimizer_state", "optimizer_arrays", "rng",
                "history", "metadata", "early_stopping", "has_params"}
        if set(training) != keys:
            self.fail(f"training state: expected the keys {sorted(keys)}")
        history = History.from_dict(training["history"])
        epoch = training["epoch"]
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch != len(history):
            self.fail(f"training state: epoch {epoch!r} does not match the history's "
                      f"{len(history)} epochs")
        optimizer = optimizer_from_config(training["optimizer"])
        optimizer_state = training["optimizer_state"]
        if not isinstance(optimizer_state, dict):
            self.fail("training state: optimizer_state is not a JSON object")
        optimizer_state = dict(optimizer_state)
        for key, count in training["optimizer_arrays"].items():
            optimizer_state[key] = [self.array(f"optimizer.{key}.{i}", p.shape, p.dtype)
                                    for i, p in zip(range(count), net.params)]
        optimizer.load_state_dict(optimizer_state, net.params)
        rng = np.random.default_rng()
        try:
            rng.bit_generator.state = training["rng"]
        except (TypeError, ValueError, KeyError, OverflowError):
            self.fail("training state: rng is not a NumPy PCG64 state")
        metadata = training["metadata"]
        if not isinstance(metadata, dict):
            self.fail("training state: metadata is not a JSON object")
        early = training["early_stopping"]
        if early is not None:
            if not isinstance(early, dict):
                self.fail("training state: early_stopping is not a JSON object")
            early = {k: v for k, v in early.items() if k != "has_best_params"}
            early["best_params"] = None
            if "early_stopping.best_params" in self.members:
                early["best_params"] = self.array("early_stopping.best_params",
                                                  (net.to_vector().size,), net.dtype)
            EarlyStopping().load_state_dict(early)          # checks it, InputError if malformed
        params = None
        if training["has_params"] is True:
            params = self.array("training.params", (net.to_vector().size,), net.dtype)
            if not np.isfinite(params).all():
                self.fail("training.params contains NaN or infinite values")
        seed = training["seed"]
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            self.fail(f"training state: seed {seed!r} is not an integer")
        return TrainingState(epoch=epoch, optimizer=optimizer, history=history,
                             rng_state=rng.bit_generator.state, seed=seed, metadata=metadata,
                             early_stopping=early, params=params)
