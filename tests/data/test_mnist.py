"""MNIST: the real test files, the cache, and downloads from a loopback server (never the net)."""

from __future__ import annotations

import gzip
import hashlib
import re
import socket

import numpy as np
import pytest

from chainrule.data import mnist
from chainrule.data.idx import encode_idx
from chainrule.data.mnist import Checksums, load_mnist
from chainrule.errors import InputError, RunFailed

# published per-class counts of the MNIST test set (LeCun et al.), digits 0..9
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_real_test_set(shared_mnist):
    X, y = load_mnist(shared_mnist, split="test", download=False)
    assert X.shape == (10000, 784) and X.dtype == np.float32
    assert y.dtype == np.int64 and y[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(y).tolist() == MNIST_TEST_COUNTS
    assert X.min() == 0.0 and X.max() == 1.0
    raw = np.frombuffer(gzip.decompress((shared_mnist / "t10k-images-idx3-ubyte.gz")
                                        .read_bytes()), np.uint8, offset=16)
    np.testing.assert_array_equal(X[0], raw[:784].astype(np.float32) / 255)


def test_real_files_match_the_payload_hashes_in_the_table(shared_mnist):
    for part in ("images", "labels"):
        data = (shared_mnist / f"{mnist.file_name('test', part)}.gz").read_bytes()
        assert sha256(gzip.decompress(data)) == mnist.FILES[("mnist", "test", part)].payload


def test_raw_uncompressed_files_are_found(shared_mnist, tmp_path):
    for part in ("images", "labels"):
        name = mnist.file_name("test", part)
        (tmp_path / name).write_bytes(gzip.decompress((shared_mnist / f"{name}.gz").read_bytes()))
    X, y = load_mnist(tmp_path, split="test", download=False)
    assert X.shape == (10000, 784) and y[:5].tolist() == [7, 2, 1, 0, 4]


def test_missing_train_files_without_download_name_the_file(shared_mnist, tmp_path):
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):   # the test set only
        (tmp_path / name).write_bytes((shared_mnist / name).read_bytes())
    assert load_mnist(tmp_path, split="test", download=False)[0].shape == (10_000, 784)
    with pytest.raises(InputError, match="train-images-idx3-ubyte.*not found.*downloading is off"):
        load_mnist(tmp_path, split="train", download=False)


# ---- small fixture "MNIST" files served over loopback ----------------------------------------

rng = np.random.default_rng(0)
IMAGES = rng.integers(0, 256, size=(6, 28, 28), dtype=np.uint8)
LABELS = np.array([3, 1, 4, 1, 5, 9], dtype=np.uint8)
RAW = {"images": encode_idx(IMAGES), "labels": encode_idx(LABELS)}
GZ = {part: gzip.compress(raw, mtime=0) for part, raw in RAW.items()}


@pytest.fixture
def fixture_table(monkeypatch):
    """Make the fixture files the 'published' MNIST test files (archive hashes only)."""
    for part in ("images", "labels"):
        monkeypatch.setitem(mnist.FILES, ("mnist", "test", part), Checksums(sha256(GZ[part]), None))


def serve(server, prefix, files=GZ, behaviour="ok"):
    for part, body in files.items():
        server.routes[f"{prefix}/{mnist.file_name('test', part)}.gz"] = (200, body, behaviour)
    return server.url + prefix + "/"


def files_in(directory):
    return sorted(p.name for p in directory.rglob("*") if p.is_file())


def test_download_success_caches_verified_files(server, fixture_table, tmp_path):
    mirror = serve(server, "/m1")
    X, y = load_mnist(tmp_path, split="test", mirrors=[mirror])
    np.testing.assert_array_equal(X, IMAGES.reshape(6, -1) / np.float32(255))
    assert y.tolist() == LABELS.tolist()
    assert files_in(tmp_path) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert (tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes() == GZ["labels"]
    n = len(server.requests)
    load_mnist(tmp_path, split="test", mirrors=[mirror])  # now from the cache
    assert len(server.requests) == n


def test_checksum_mismatch_rejects_the_file_and_leaves_nothing(server, fixture_table, tmp_path):
    tampered = {"images": gzip.compress(encode_idx(255 - IMAGES), mtime=0),
                "labels": GZ["labels"]}
    mirror = serve(server, "/evil", tampered)
    with pytest.raises(RunFailed, match="images-idx3-ubyte.gz.*SHA-256.*matches neither"):
        load_mnist(tmp_path, split="test", mirrors=[mirror])
    assert files_in(tmp_path) == []


def test_first_mirror_404_then_second_mirror(server, fixture_table, tmp_path):
    good = serve(server, "/good")
    X, y = load_mnist(tmp_path, split="test", mirrors=[server.url + "/gone/", good])
    assert y.tolist() == LABELS.tolist()
    assert server.requests[:2] == ["/gone/t10k-images-idx3-ubyte.gz",
                                   "/good/t10k-images-idx3-ubyte.gz"]
    with pytest.raises(RunFailed, match=r"/gone/t10k-images-idx3-ubyte.gz: HTTP Error 404"):
        load_mnist(tmp_path / "new", split="test", mirrors=[server.url + "/gone/"])


def test_connection_cut_mid_transfer_discards_the_partial_file(server, fixture_table, tmp_path):
    mirror = serve(server, "/cut", behaviour="cut")
    with pytest.raises(RunFailed, match="closed after"):
        load_mnist(tmp_path, split="test", mirrors=[mirror])
    assert files_in(tmp_path) == []
    good = serve(server, "/good")  # a cut first mirror falls through to the next one
    X, _ = load_mnist(tmp_path, split="test", mirrors=[mirror, good])
    assert X.shape == (6, 784)


def test_stalled_server_times_out_and_the_next_mirror_is_tried(server, fixture_table, tmp_path):
    stalled, good = serve(server, "/slow", behaviour="stall"), serve(server, "/good")
    X, _ = load_mnist(tmp_path, split="test", mirrors=[stalled, good], timeout=0.5)
    assert X.shape == (6, 784)
    with pytest.raises(RunFailed, match="/slow/t10k-images-idx3-ubyte.gz: timed out"):
        load_mnist(tmp_path / "new", split="test", mirrors=[stalled], timeout=0.5)
    assert not (tmp_path / "new").exists()


def test_a_trickling_mirror_meets_the_deadline_and_the_next_mirror_is_tried(server,
                                                                          fixture_table,
                                                                          tmp_path):
    """One byte per 50 ms never trips the per-read timeout; the overall deadline stops it."""
    trickle, good = serve(server, "/trickle", behaviour="trickle"), serve(server, "/good")
    size = len(GZ["images"])
    with pytest.raises(RunFailed) as info:
        load_mnist(tmp_path, split="test", mirrors=[trickle], timeout=5, deadline=0.3)
    message = str(info.value)
    arrived = re.search(r"/trickle/t10k-images-idx3-ubyte.gz: gave up after the 0.3 s download "
                        rf"deadline with (\d+) of {size} bytes arrived", message)
    assert arrived, message
    assert 1 <= int(arrived.group(1)) < size
    assert files_in(tmp_path) == []
    X, _ = load_mnist(tmp_path, split="test", mirrors=[trickle, good], timeout=5, deadline=0.3)
    assert X.shape == (6, 784)
    images = [r for r in server.requests if r.endswith("images-idx3-ubyte.gz")]
    assert images[-2:] == ["/trickle/t10k-images-idx3-ubyte.gz",
                           "/good/t10k-images-idx3-ubyte.gz"]


def test_a_mirror_trickling_its_headers_meets_the_deadline_too(server, fixture_table, tmp_path):
    trickle = serve(server, "/slow-start", behaviour="trickle-headers")
    with pytest.raises(RunFailed, match=r"/slow-start/t10k-images-idx3-ubyte.gz: gave up after "
                                        r"the 0.3 s download deadline with 0 bytes arrived"):
        load_mnist(tmp_path, split="test", mirrors=[trickle], timeout=5, deadline=0.3)
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "30", True])
def test_nonsense_timeouts_and_deadlines_are_input_errors(tmp_path, bad):
    for option in ("timeout", "deadline"):
        with pytest.raises(InputError, match=f"{option}: expected a finite number of seconds"):
            load_mnist(tmp_path, split="test", mirrors=["http://127.0.0.1:9/"], **{option: bad})


def test_offline_error_lists_what_was_tried_and_where_to_put_files(monkeypatch, tmp_path):
    with socket.socket() as s:  # a port on which nothing listens: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mirrors = [f"http://127.0.0.1:{port}/a/", f"http://127.0.0.1:{port}/b"]
    with pytest.raises(RunFailed) as info:
        load_mnist(tmp_path, split="test", mirrors=mirrors)
    message = str(info.value)
    assert "\n" not in message
    assert f"127.0.0.1:{port}/a/t10k-images-idx3-ubyte.gz" in message
    assert f"127.0.0.1:{port}/b/t10k-images-idx3-ubyte.gz" in message
    assert "refused" in message.lower() and f"in {tmp_path} by hand" in message
    assert files_in(tmp_path) == []


def test_unwritable_cache_is_a_clear_run_failure(server, fixture_table, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(RunFailed, match=r"cannot save t10k-images-idx3-ubyte.gz in .*file"):
        load_mnist(blocker / "cache", split="test", mirrors=[serve(server, "/w")])


def test_mirrors_and_cache_from_the_environment(server, fixture_table, tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINRULE_MNIST_MIRRORS", f"{server.url}/gone, {serve(server, '/env')}")
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path))
    X, y = load_mnist(split="test")
    assert y.tolist() == LABELS.tolist()
    assert files_in(tmp_path / "mnist") == ["t10k-images-idx3-ubyte.gz",
                                            "t10k-labels-idx1-ubyte.gz"]


def test_cache_dir_follows_xdg_when_chainrule_data_is_unset(monkeypatch, tmp_path):
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert mnist.cache_dir("fashion-mnist") == tmp_path / "chainrule" / "fashion-mnist"


def test_recompressed_copy_with_the_right_payload_is_accepted(server, monkeypatch, tmp_path):
    for part in ("images", "labels"):  # archive hash of some other gzip, payload hash right
        monkeypatch.setitem(mnist.FILES, ("mnist", "test", part),
                            Checksums(sha256(b"another archive"), sha256(RAW[part])))
    regzipped = {part: gzip.compress(raw, compresslevel=1, mtime=12345)
                 for part, raw in RAW.items()}
    X, y = load_mnist(tmp_path, split="test", mirrors=[serve(server, "/re", regzipped)])
    assert y.tolist() == LABELS.tolist()


def test_unknown_hashes_are_accepted_after_idx_checks_with_a_warning(server, monkeypatch,
                                                                       tmp_path):
    for part in ("images", "labels"):
        monkeypatch.setitem(mnist.FILES, ("mnist", "test", part), Checksums(None, None))
    with pytest.warns(UserWarning, match="no known checksum"):
        load_mnist(tmp_path, split="test", mirrors=[serve(server, "/u")])
    not_idx = {part: gzip.compress(b"<html>moved</html>") for part in GZ}
    other = tmp_path / "other"
    with pytest.raises(RunFailed, match="not an IDX file"):
        load_mnist(other, split="test", mirrors=[serve(server, "/html", not_idx)])
    assert not other.exists() or files_in(other) == []


def test_local_file_with_wrong_content_is_refused_unless_verify_is_off(fixture_table, tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(RAW["images"], mtime=7))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(RAW["labels"])
    with pytest.raises(InputError, match="t10k-images-idx3-ubyte.gz: not the published mnist"):
        load_mnist(tmp_path, split="test", download=False)
    X, y = load_mnist(tmp_path, split="test", download=False, verify=False)
    assert X.shape == (6, 784) and y.tolist() == LABELS.tolist()


def test_images_and_labels_must_agree(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(RAW["images"])
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(encode_idx(LABELS[:5]))
    with pytest.raises(InputError, match="6 images but 5 labels"):
        load_mnist(tmp_path, split="test", download=False, verify=False)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(encode_idx(np.full(6, 10, np.uint8)))
    with pytest.raises(InputError, match="label 10 at row 0"):
        load_mnist(tmp_path, split="test", download=False, verify=False)


def test_bad_kind_and_split_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="expected one of mnist, fashion-mnist"):
        load_mnist(tmp_path, kind="kmnist")
    with pytest.raises(InputError, match="unknown split 'valid'"):
        load_mnist(tmp_path, split="valid")
