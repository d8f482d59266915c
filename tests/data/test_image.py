"""PNG digits: decoding (every filter, colour type and depth) and conversion to an input row."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.data import load_digits, load_image, read_png
from chainrule.errors import InputError


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def encode_png(pixels: np.ndarray, colour: int, filters) -> bytes:
    """Our own 8-bit PNG encoder, applying the given filter type to each row (spec section 9)."""
    height, width = pixels.shape[:2]
    bpp = 1 if pixels.ndim == 2 else pixels.shape[2]
    lines = pixels.reshape(height, -1).astype(int)
    raw = bytearray()
    for y, line in enumerate(lines):
        up = lines[y - 1] if y else np.zeros_like(line)
        kind = filters[y % len(filters)]
        out = []
        for i, x in enumerate(line):
            a = line[i - bpp] if i >= bpp else 0
            c = up[i - bpp] if i >= bpp else 0
            predictor = [0, a, up[i], (a + up[i]) // 2, paeth(a, up[i], c)][kind]
            out.append((x - predictor) % 256)
        raw += bytes([kind, *out])
    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


rng = np.random.default_rng(1)


@pytest.mark.parametrize("filters", [[0], [1], [2], [3], [4], [0, 1, 2, 3, 4]])
def test_every_filter_decodes_exactly(tmp_path, filters):
    grey = rng.integers(0, 256, size=(7, 9), dtype=np.uint8)
    path = tmp_path / "g.png"
    path.write_bytes(encode_png(grey, 0, filters))
    np.testing.assert_allclose(read_png(path), grey / 255)
    rgb = rng.integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    path.write_bytes(encode_png(rgb, 2, filters))
    np.testing.assert_allclose(read_png(path), rgb / 255 @ [0.299, 0.587, 0.114])


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "LA", "P", "1", "I;16"])
def test_pillow_written_modes(tmp_path, mode):
    from PIL import Image

    grey = np.linspace(0, 255, 24 * 20).reshape(20, 24).astype(np.uint8)
    image = Image.fromarray(grey, "L")
    if mode == "I;16":
        image = Image.fromarray(grey.astype(np.uint16) * 257)
    elif mode != "L":
        image = image.convert(mode)
    path = tmp_path / f"{mode.replace(';', '')}.png"
    image.save(path)
    expected = grey / 255
    if mode == "1":  # Pillow dithers to black/white: compare the overall level
        assert abs(read_png(path).mean() - expected.mean()) < 0.05
    else:
        np.testing.assert_allclose(read_png(path), expected, atol=1 / 255 + 1e-9)


def test_transparent_background_counts_as_white(tmp_path):
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)  # fully transparent black...
    rgba[1:3, 1:3] = [0, 0, 0, 255]            # ...around an opaque black square
    path = tmp_path / "t.png"
    path.write_bytes(encode_png(rgba, 6, [0]))
    expected = np.ones((4, 4))
    expected[1:3, 1:3] = 0
    np.testing.assert_allclose(read_png(path), expected)


def test_a_digit_drawn_dark_on_light_becomes_the_training_digit(tmp_path):
    X, y = load_digits("test")
    digit = X[0].reshape(8, 8)
    paper = 255 - np.kron(digit, np.ones((10, 10))) * 255  # 80x80, black ink on white
    path = tmp_path / "digit.png"
    path.write_bytes(encode_png(paper.astype(np.uint8), 0, [4]))
    row = load_image(path, n_inputs=64)
    assert row.shape == (1, 64) and row.max() == 1.0 and row.min() >= 0
    assert np.corrcoef(row[0], X[0])[0, 1] > 0.8  # the same digit after crop/centre/resize
    assert load_image(path, n_inputs=784).shape == (1, 784)


def test_mnist_digits_survive_a_round_trip_through_png(tmp_path, shared_mnist):
    from chainrule.data import load_mnist

    X, _ = load_mnist(shared_mnist, split="test", download=False)
    for i in range(5):
        paper = 255 - np.kron(X[i].reshape(28, 28), np.ones((3, 3))) * 255
        path = tmp_path / f"{i}.png"
        path.write_bytes(encode_png(paper.astype(np.uint8), 0, [1]))
        assert np.corrcoef(load_image(path, n_inputs=784)[0], X[i])[0, 1] > 0.8


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b"GIF89a" + b[6:], "not a PNG file"),
    (lambda b: b[:40], "truncated PNG"),
    (lambda b: b[:-12], "truncated PNG \\(no IEND chunk\\)"),
    (lambda b: b[:20] + bytes([b[20] ^ 1]) + b[21:], "corrupt PNG .*fails its CRC check"),
])
def test_corrupt_png(tmp_path, mutate, message):
    path = tmp_path / "bad.png"
    path.write_bytes(mutate(encode_png(np.zeros((3, 3), np.uint8), 0, [0])))
    with pytest.raises(InputError, match="bad.png: " + message):
        read_png(path)


def test_unsupported_and_non_square(tmp_path):
    header = struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 1)  # interlaced
    path = tmp_path / "i.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    with pytest.raises(InputError, match="interlaced PNG is not supported"):
        read_png(path)
    path.write_bytes(encode_png(np.zeros((3, 3), np.uint8), 0, [0]))
    with pytest.raises(InputError, match="the model takes 10 inputs, not a square image"):
        load_image(path, n_inputs=10)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_png_mutations(tmp_path, data):
    blob = bytearray(encode_png(rng.integers(0, 256, (4, 5, 3), dtype=np.uint8), 2, [1, 4]))
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(8, len(blob) - 1))
        blob[i] = data.draw(st.integers(0, 255))
    path = tmp_path / "f.png"
    path.write_bytes(bytes(blob))
    try:
        grey = read_png(path)
    except InputError:
        return
    assert grey.ndim == 2 and np.all((grey >= 0) & (grey <= 1))


MODES = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (2, 8), (2, 16), (3, 1), (3, 2), (3, 4),
         (3, 8), (4, 8), (4, 16), (6, 8), (6, 16)]  # (colour type, bit depth) pairs PNG allows


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(width=st.integers(0, 6), height=st.integers(0, 6),
       mode=st.sampled_from(MODES + [(5, 8), (2, 4), (0, 3)]),  # the last three are invalid
       palette=st.binary(max_size=12), trns=st.binary(max_size=5), data=st.data())
def test_fuzz_png_well_formed_chunks_with_random_content(tmp_path, width, height, mode,
                                                         palette, trns, data):
    """Valid CRCs and zlib streams, random sizes, modes, filters, samples and palettes: an
    image of the announced size with grey levels in [0, 1], or InputError."""
    colour, depth = mode
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour, 1)
    stride = -(-width * channels * depth // 8)
    raw = b"".join(bytes([data.draw(st.integers(0, 5))]) + data.draw(
        st.binary(min_size=stride, max_size=stride)) for _ in range(height))
    if data.draw(st.booleans()):  # sometimes the wrong amount of image data
        raw = raw[: data.draw(st.integers(0, len(raw)))] + data.draw(st.binary(max_size=3))
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    blob = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"PLTE", palette)
            + chunk(b"tRNS", trns) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    path = tmp_path / "w.png"
    path.write_bytes(blob)
    try:
        grey = read_png(path)
    except InputError:
        return
    assert grey.shape == (height, width) and np.all((grey >= 0) & (grey <= 1))
