"""Nielsen's mnist.pkl.gz: the real file, the same split from MNIST's IDX files, hostile pickles."""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import pickletools

import numpy as np
import pytest

from chainrule.data import load, load_nielsen, load_nielsen_idx, read_mnist
from chainrule.data import nielsen as nielsen_module
from chainrule.errors import InputError
from tests.conftest import NIELSEN_SHA256


def write_pickle(path, obj, protocol=4):
    path.write_bytes(gzip.compress(pickle.dumps(obj, protocol=protocol)))
    return path


def small_parts(n=(5, 3, 2)):
    rng = np.random.default_rng(0)
    return tuple((rng.integers(0, 256, (k, 784)).astype(np.float32) / 256,
                  rng.integers(0, 10, k)) for k in n)


# ---------------------------------------------------------------- the real file

def test_real_file_is_the_published_one(nielsen_pkl):
    assert hashlib.sha256(nielsen_pkl.read_bytes()).hexdigest() == NIELSEN_SHA256


def test_real_file_names_only_numpys_reconstruction(nielsen_pkl):
    """What the allow-list must let through is exactly what the real file names."""
    with gzip.open(nielsen_pkl) as f:
        head = f.read(200)          # the names appear before the first array's pixels
    names = set()
    with pytest.raises(ValueError):  # genops stops where the 200 bytes cut the pixel string
        for op, arg, _ in pickletools.genops(head):
            if op.name == "GLOBAL":
                names.add(arg)
    assert names == {"numpy.core.multiarray _reconstruct", "numpy ndarray", "numpy dtype"}


def test_real_file_sizes_scaling_and_labels(nielsen_data):
    (X, y), (Xv, yv), (Xt, yt) = nielsen_data
    assert [len(X), len(Xv), len(Xt)] == [50_000, 10_000, 10_000]
    for images, labels in nielsen_data:
        assert images.dtype == np.float32 and images.shape[1] == 784
        assert labels.dtype == np.int64 and set(np.unique(labels)) == set(range(10))
        # pixel / 256: every value is k/256 for an integer k in 0..255
        assert images.min() == 0.0 and images.max() == np.float32(255 / 256)
        assert np.array_equal(images * 256, np.round(images * 256))
    assert yt[:5].tolist() == [7, 2, 1, 0, 4]        # MNIST's first test digits
    assert y[:5].tolist() == [5, 0, 4, 1, 9]        # MNIST's first training digits


def test_real_test_part_is_mnists_t10k_pixel_for_pixel(nielsen_data, full_mnist):
    images, labels = read_mnist(full_mnist, "test", download=False)
    X_test, y_test = nielsen_data[2]
    np.testing.assert_array_equal(X_test, images.reshape(10_000, 784).astype(np.float32) / 256)
    np.testing.assert_array_equal(y_test, labels)


def test_idx_split_equals_the_pickle(nielsen_data, full_mnist):
    """First 50,000 of the training archive = training, its last 10,000 = validation."""
    for (X, y), (Xi, yi) in zip(nielsen_data, load_nielsen_idx(full_mnist, download=False)):
        assert X.dtype == Xi.dtype == np.float32
        np.testing.assert_array_equal(X, Xi)
        np.testing.assert_array_equal(y, yi)


def test_data_sources_take_the_pickle_path(nielsen_pkl, nielsen_data):
    X, y = load(nielsen_pkl, split="train")
    np.testing.assert_array_equal(y, nielsen_data[0][1])
    X_all, y_all = load(nielsen_pkl, split="all")
    assert X_all.shape == (70_000, 784)
    np.testing.assert_array_equal(y_all[-10_000:], nielsen_data[2][1])


# ---------------------------------------------------------------- small files, round trips

@pytest.mark.parametrize("protocol", [2, 3, 4])
def test_round_trip_of_arrays_pickled_as_nielsen_did(tmp_path, protocol):
    parts = small_parts()
    if protocol == 2:   # Python 3 writes protocol-2 bytes through _codecs.encode: refused
        path = write_pickle(tmp_path / "p2.pkl.gz", parts, protocol)
        with pytest.raises(InputError, match="refused to load _codecs.encode"):
            load_nielsen(path)
        return
    loaded = load_nielsen(write_pickle(tmp_path / "m.pkl.gz", parts, protocol))
    for (X, y), (Xl, yl) in zip(parts, loaded):
        np.testing.assert_array_equal(X, Xl)
        np.testing.assert_array_equal(y, yl)
        assert Xl.dtype == np.float32 and yl.dtype == np.int64


# ---------------------------------------------------------------- hostile and broken files

class RunsACommand:
    """Unpickling this object would run a shell command: the classic pickle attack."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class OpensAFile:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


class SavesThroughNumpy:
    """A NumPy function that is not array reconstruction (it writes a file) is refused too."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (np.save, (str(self.marker), np.zeros(1)))


@pytest.mark.parametrize("attack, named", [(RunsACommand, "system"), (OpensAFile, "open"),
                                           (SavesThroughNumpy, "numpy.save")])
def test_a_hostile_pickle_runs_nothing(tmp_path, attack, named):
    marker = tmp_path / "it-ran"
    X, y = small_parts()[0]
    payload = ((X, y), attack(marker), (X, y))      # the attack in the validation slot
    path = write_pickle(tmp_path / "mnist.pkl.gz", payload)
    assert not marker.exists()
    with pytest.raises(InputError) as caught:
        load_nielsen(path)
    assert not marker.exists() and not (tmp_path / "it-ran.npy").exists()
    message = str(caught.value)
    assert str(path) in message and "refused to load" in message and named in message


def test_the_same_pickle_loaded_by_plain_pickle_would_run(tmp_path):
    """The hostile file of the test above is real: plain pickle executes it."""
    marker = tmp_path / "it-ran"
    data = pickle.dumps(RunsACommand(marker))
    pickle.loads(data)
    assert marker.exists()


def test_pickled_python_objects_inside_an_array_are_refused(tmp_path):
    X = np.empty((1, 784), dtype=object)
    X[:] = 0.0
    path = write_pickle(tmp_path / "m.pkl.gz", ((X, np.zeros(1, int)),) * 3)
    with pytest.raises(InputError, match="training X is object"):
        load_nielsen(path)


@pytest.mark.parametrize("parts, problem", [
    ("not a tuple", "expected \\(training, validation, test\\)"),
    ((1, 2), "expected \\(training, validation, test\\)"),
    (((np.zeros((2, 783), np.float32), np.zeros(2, int)),) * 3, "float32 \\(n, 784\\)"),
    (((np.zeros((2, 784), np.float32), np.zeros(3, int)),) * 3, "2 integer labels"),
    (((np.zeros((2, 784), np.float32), np.array([0, 10])),) * 3, "outside 0..9"),
    (((np.full((1, 784), np.nan, np.float32), np.zeros(1, int)),) * 3, "NaN"),
])
def test_wrong_contents_are_named(tmp_path, parts, problem):
    with pytest.raises(InputError, match=problem):
        load_nielsen(write_pickle(tmp_path / "m.pkl.gz", parts))


def test_truncated_missing_and_not_gzip(tmp_path):
    full = gzip.compress(pickle.dumps(small_parts(), protocol=4))
    cut = tmp_path / "cut.pkl.gz"
    cut.write_bytes(full[: len(full) // 2])
    with pytest.raises(InputError, match="truncated"):
        load_nielsen(cut)
    with pytest.raises(InputError, match="no such file"):
        load_nielsen(tmp_path / "absent.pkl.gz")
    plain = tmp_path / "plain.pkl.gz"
    plain.write_bytes(pickle.dumps(small_parts(), protocol=4))
    with pytest.raises(InputError, match="not a gzip file"):
        load_nielsen(plain)


def test_a_decompression_bomb_stops_at_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(nielsen_module, "MAX_BYTES", 10_000)
    path = write_pickle(tmp_path / "big.pkl.gz", small_parts((20, 1, 1)))   # ~63 kB unpacked
    with pytest.raises(InputError, match="more than 10000 bytes"):
        load_nielsen(path)
