"""IDX reading and writing: hand-worked bytes, round trips, corrupt files, fuzzing."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from chainrule.data.idx import (
    IMAGES_MAGIC,
    LABELS_MAGIC,
    decompress,
    encode_idx,
    parse_idx,
    read_idx,
    write_idx,
)
from chainrule.errors import InputError


def test_encoding_by_hand():
    # magic 0x00000B02: int16 (0x0B), 2 dimensions; sizes 1 and 2; then 1 and -2 big-endian
    assert encode_idx(np.array([[1, -2]], dtype=np.int16)).hex() == (
        "00000b02" "00000001" "00000002" "0001" "fffe")
    raw = bytes.fromhex("00000803" "00000001" "00000002" "00000003") + bytes(range(6))
    np.testing.assert_array_equal(parse_idx(raw, "x", IMAGES_MAGIC),
                                  np.arange(6, dtype=np.uint8).reshape(1, 2, 3))


def test_real_files_gzip_and_raw(shared_mnist, tmp_path):
    images = read_idx(shared_mnist / "t10k-images-idx3-ubyte.gz", IMAGES_MAGIC)
    labels = read_idx(shared_mnist / "t10k-labels-idx1-ubyte.gz", LABELS_MAGIC)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels[:5].tolist() == [7, 2, 1, 0, 4]
    raw = tmp_path / "t10k-labels-idx1-ubyte"
    raw.write_bytes(gzip.decompress((shared_mnist / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    np.testing.assert_array_equal(read_idx(raw, LABELS_MAGIC), labels)
    with pytest.raises(InputError, match=r"t10k-images.*wrong IDX magic number 0x00000803 "
                                         r"\(unsigned bytes, 3 dimensions\); expected 0x00000801"):
        read_idx(shared_mnist / "t10k-images-idx3-ubyte.gz", LABELS_MAGIC)


IDX_DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(array=st.sampled_from(IDX_DTYPES).flatmap(lambda dt: hnp.arrays(
           dt, hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5))),
       compress=st.booleans())
def test_round_trip(tmp_path, array, compress):
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    write_idx(path, array)
    assert path.read_bytes().startswith(b"\x1f\x8b") == compress
    back = read_idx(path)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def labels_file(n=5):
    return encode_idx(np.arange(n, dtype=np.uint8))


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b"\x01" + b[1:], r"not an IDX file: magic number 0x01000801"),
    (lambda b: b[:2] + b"\x07" + b[3:], r"not an IDX file: magic number 0x00000701"),
    (lambda b: b[:3] + b"\x00" + b[4:], r"not an IDX file: magic number 0x00000800"),
    (lambda b: b[:-1], r"sizes 5 need 5 bytes of data but the file has 4"),
    (lambda b: b + b"\x00", r"sizes 5 need 5 bytes of data but the file has 6"),
    (lambda b: b[:6], r"truncated IDX header: 1 sizes need 8 bytes, the file has 6"),
    (lambda b: b"", r"0 bytes is too short for an IDX header"),
    (lambda b: b[:4] + b"\xff\xff\xff\xff" + b[8:], r"sizes 4294967295 need 4294967295 bytes"),
])
def test_corrupt_raw_files(tmp_path, mutate, message):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(mutate(labels_file()))
    with pytest.raises(InputError, match=r"bad-idx1-ubyte: .*" + message):
        read_idx(path)


def test_absurd_header_is_refused_without_allocating(tmp_path):
    # 4 dimensions of 2**32-1 claim ~3e38 bytes; the file holds 4: nothing is allocated
    path = tmp_path / "huge.idx.gz"
    path.write_bytes(gzip.compress(bytes.fromhex("00000804") + b"\xff" * 16 + b"abcd"))
    with pytest.raises(InputError, match="huge.idx.gz: IDX sizes 4294967295x4294967295x"):
        read_idx(path)


def test_truncated_and_corrupt_gzip(tmp_path):
    data = gzip.compress(encode_idx(np.arange(3000, dtype=np.int32)))
    path = tmp_path / "labels.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"labels.gz: truncated or corrupt gzip data"):
        read_idx(path)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(flipped))
    with pytest.raises(InputError, match=r"labels.gz: truncated or corrupt gzip data"):
        read_idx(path)


def test_gzip_bombs_are_stopped_early(tmp_path):
    path = tmp_path / "bomb.gz"  # a header promising 4 bytes, then 50 MiB of zeros
    path.write_bytes(gzip.compress(bytes.fromhex("00000801" "00000004") + bytes(50 << 20)))
    with pytest.raises(InputError, match=r"sizes 4 need 4 bytes of data but the file has 5 \("):
        read_idx(path)  # stops reading one byte past the promise
    assert len(decompress(path.read_bytes(), "bomb")) == 8 + 5
    path.write_bytes(gzip.compress(bytes.fromhex("00000801" "7fffffff") + bytes(5 << 20)))
    with pytest.raises(InputError, match="decompresses to more than 1048576 bytes"):
        read_idx(path, max_bytes=1 << 20)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="nope.idx: no such file"):
        read_idx(tmp_path / "nope.idx")
    with pytest.raises(InputError, match="is a directory"):
        read_idx(tmp_path)


def test_unstorable_dtype_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="IDX cannot store dtype int64"):
        write_idx(tmp_path / "x.idx", np.arange(3))
    assert list(tmp_path.iterdir()) == []


def check_outcome(data: bytes):
    """The fuzzing property: a valid array whose size matches the bytes, or InputError."""
    try:
        array = parse_idx(decompress(data, "fuzz", max_bytes=1 << 20), "fuzz")
    except InputError as e:
        assert "\n" not in str(e) and str(e).startswith("fuzz")
        return
    assert isinstance(array, np.ndarray) and array.ndim >= 1
    raw = decompress(data, "fuzz")
    assert len(raw) == 4 + 4 * array.ndim + array.nbytes


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_fuzz_random_bytes(data):
    check_outcome(data)
    check_outcome(b"\x00\x00" + data)  # past the first check more often
    check_outcome(gzip.compress(data, mtime=0))


VALID = [encode_idx(np.arange(12, dtype=np.uint8).reshape(2, 2, 3)),
         encode_idx(np.linspace(-1, 1, 5))]


@settings(max_examples=300, deadline=None)
@given(base=st.sampled_from(VALID), compress=st.booleans(), data=st.data())
def test_fuzz_mutations_of_valid_files(base, compress, data):
    blob = bytearray(gzip.compress(base, mtime=0) if compress else base)
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        i = data.draw(st.integers(0, max(len(blob) - 1, 0)))
        if action == "flip" and blob:
            blob[i] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del blob[i:]
        else:
            blob[i:i] = data.draw(st.binary(min_size=1, max_size=8))
    check_outcome(bytes(blob))
