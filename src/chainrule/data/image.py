"""A digit drawn in a PNG file -> one input row for a network trained on digits or MNIST.

PNG is decoded here with the standard library only (``zlib``): greyscale, RGB, palette,
with or without alpha, 1 to 16 bits, all five scanline filters; interlaced files are
refused. Then the picture is turned into what the training data looks like: grey levels,
light ink on a dark background (inverted when the background is light), cropped to the
ink, scaled into a ``side x side`` frame and centred as MNIST was made, scaled to a
maximum of 1.
"""

from __future__ import annotations

import math
import struct
import zlib

import numpy as np

from chainrule.data.idx import read_bytes
from chainrule.errors import InputError, quoted

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_SIDE = 1024  # a drawn digit needs far less; bounds the time of the per-byte filters
# colour type -> (channels, allowed bit depths)
_COLOUR = {0: (1, (1, 2, 4, 8, 16)), 2: (3, (8, 16)), 3: (1, (1, 2, 4, 8)), 4: (2, (8, 16)),
           6: (4, (8, 16))}


def _chunks(data: bytes, source):
    """(type, body) of each chunk, with lengths and CRCs checked."""
    if not data.startswith(PNG_SIGNATURE):
        raise InputError(f"{source}: not a PNG file (no PNG signature)")
    at = len(PNG_SIGNATURE)
    while at < len(data):
        if at + 8 > len(data):
            raise InputError(f"{source}: truncated PNG (chunk header at byte {at})")
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        end = at + 8 + length + 4
        if end > len(data):
            raise InputError(f"{source}: truncated PNG ({quoted(kind)} chunk runs past the end)")
        body = data[at + 8:at + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[end - 4:end])[0]:
            raise InputError(f"{source}: corrupt PNG ({quoted(kind)} chunk fails its CRC check)")
        yield kind, body
        if kind == b"IEND":
            return
        at = end
    raise InputError(f"{source}: truncated PNG (no IEND chunk)")


def _unfilter(raw: bytes, height: int, stride: int, bpp: int, source) -> np.ndarray:
    """Undo the per-scanline filters (PNG spec section 9): -> (height, stride) uint8."""
    if len(raw) != height * (stride + 1):
        raise InputError(f"{source}: PNG image data has {len(raw)} bytes, expected "
                         f"{height * (stride + 1)}")
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        if kind == 0:  # None
            current = line
        elif kind == 2:  # Up
            current = (line + previous) % 256
        elif kind == 1:  # Sub: a running sum along each byte lane
            padded = np.concatenate([line, np.zeros(-stride % bpp, np.int32)])
            current = (np.cumsum(padded.reshape(-1, bpp), axis=0) % 256).ravel()[:stride]
        elif kind in (3, 4):  # Average, Paeth: each byte depends on the one bpp before
            current = line.copy()
            for i in range(stride):
                a = int(current[i - bpp]) if i >= bpp else 0
                b = int(previous[i])
                if kind == 3:
                    current[i] = (line[i] + (a + b) // 2) % 256
                else:
                    c = int(previous[i - bpp]) if i >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    nearest = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                    current[i] = (line[i] + nearest) % 256
        else:
            raise InputError(f"{source}: corrupt PNG (unknown filter type {kind} on row {y})")
        out[y] = current
        previous = current
    return out


def read_png(path, max_side: int = MAX_SIDE) -> np.ndarray:
    """A PNG as grey levels in [0, 1], shape (height, width); transparency over white."""
    data = read_bytes(path)
    header, palette, transparency, compressed = None, None, None, []
    for kind, body in _chunks(data, path):
        if kind == b"IHDR":
            if len(body) != 13:
                raise InputError(f"{path}: corrupt PNG header")
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = np.frombuffer(body[: len(body) // 3 * 3], np.uint8).reshape(-1, 3)
        elif kind == b"tRNS":
            transparency = np.frombuffer(body, np.uint8)
        elif kind == b"IDAT":
            compressed.append(body)
    if header is None:
        raise InputError(f"{path}: corrupt PNG (no IHDR header chunk)")
    width, height, depth, colour, _, _, interlace = header
    if colour not in _COLOUR or depth not in _COLOUR[colour][1]:
        raise InputError(f"{path}: unsupported PNG (colour type {colour}, bit depth {depth})")
    if interlace:
        raise InputError(f"{path}: interlaced PNG is not supported; save it without interlacing")
    if not (1 <= width <= max_side and 1 <= height <= max_side):
        raise InputError(f"{path}: a {width}x{height} image; expected sides 1..{max_side}")
    channels = _COLOUR[colour][0]
    stride = math.ceil(width * channels * depth / 8)
    expected = height * (stride + 1)
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(b"".join(compressed), expected + 1)
    except zlib.error as e:
        raise InputError(f"{path}: corrupt PNG image data ({e})") from None
    bpp = max(1, channels * depth // 8)
    rows = _unfilter(raw, height, stride, bpp, path)
    if depth == 16:
        samples = rows.view(">u2").astype(np.float64) / 65535
    else:
        bits = np.unpackbits(rows, axis=1) if depth < 8 else rows
        if depth < 8:
            bits = bits.reshape(height, -1, depth) @ (1 << np.arange(depth - 1, -1, -1))
        samples = bits[:, : width * channels].astype(np.float64)
        if colour == 3:
            if palette is None or samples.max(initial=0) >= len(palette):
                raise InputError(f"{path}: corrupt PNG (palette index without a palette entry)")
            index = samples.astype(np.intp)
            alpha = np.ones(len(palette))
            if transparency is not None:
                alpha[: len(transparency)] = transparency[: len(palette)] / 255
            rgb = palette[index] / 255
            grey = rgb @ [0.299, 0.587, 0.114]
            return grey * alpha[index] + (1 - alpha[index])
        samples /= (1 << depth) - 1
    pixels = samples.reshape(height, width, channels)
    grey = pixels[..., 0] if channels <= 2 else pixels[..., :3] @ [0.299, 0.587, 0.114]
    if channels in (2, 4):  # composite over white
        alpha = pixels[..., -1]
        grey = grey * alpha + (1 - alpha)
    return grey


def _area_matrix(n_out: int, n_in: int) -> np.ndarray:
    """(n_out, n_in) weights averaging the input cells that each output cell covers."""
    edges_out = np.linspace(0, n_in, n_out + 1)
    left, right = edges_out[:-1, None], edges_out[1:, None]
    cells = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(right, cells + 1) - np.maximum(left, cells), 0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def to_digit_input(grey: np.ndarray, side: int, margin: float | None = None) -> np.ndarray:
    """Grey image -> (side*side,) light-on-dark digit, cropped, scaled, centred, max 1.

    As MNIST was made: the ink's bounding box is scaled (aspect kept) to fit inside the
    frame less ``margin`` on each edge (default: 4 pixels in 28 for sides >= 16) and
    placed with its centre of mass at the centre. Small frames (the 8x8 digits) have no
    margin and centre the bounding box, as those digits fill their frame.

    >>> g = np.ones((4, 4)); g[1:3, 1:3] = 0.0  # a dark square on white paper
    >>> to_digit_input(g, 2).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    ink = 1 - grey if np.median(border) > 0.5 else grey.copy()
    ink -= np.median(np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]]))
    ink = np.clip(ink, 0, None)
    if ink.max() <= 0:
        return np.zeros(side * side)
    large = side >= 16
    if margin is None:
        margin = 4 / 28 if large else 0.0
    rows, cols = np.nonzero(ink > 0.1 * ink.max())
    ink = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    size = max(ink.shape) / (1 - 2 * margin)  # the square frame, in source pixels
    n = math.ceil(size)
    square = np.zeros((n, n))
    top, left = (n - ink.shape[0]) // 2, (n - ink.shape[1]) // 2
    square[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    canvas = _area_matrix(side, n) @ square @ _area_matrix(side, n).T
    if large:  # move the centre of mass to the centre of the frame (whole pixels)
        centre = side / 2  # MNIST: centre of mass at pixel index 14 of 28
        for axis in (0, 1):
            profile = canvas.sum(axis=1 - axis)
            shift = round(centre - profile @ np.arange(side) / profile.sum())
            canvas = np.roll(canvas, shift, axis=axis)
            edge = slice(0, shift) if shift > 0 else slice(side + shift, side)
            if axis == 0:
                canvas[edge] = 0
            else:
                canvas[:, edge] = 0
    return (canvas / canvas.max()).ravel()


def load_image(path, n_inputs: int) -> np.ndarray:
    """A PNG digit as a (1, n_inputs) float64 row, for a network taking a square image.

    ``n_inputs`` must be a square (64 for the 8x8 digits, 784 for 28x28 MNIST).
    """
    side = math.isqrt(n_inputs)
    if side * side != n_inputs:
        raise InputError(f"{path}: the model takes {n_inputs} inputs, not a square image; "
                         "give a .csv or .npy of input rows instead")
    return to_digit_input(read_png(path), side)[None, :]
