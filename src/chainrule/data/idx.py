"""IDX files (the format MNIST ships in): read and write, gzip or raw, validated.

An IDX file is a 4-byte magic number ``0x00 0x00 TT DD`` (TT: element type, DD: number of
dimensions), then DD big-endian uint32 sizes, then the elements, row-major, big-endian.
MNIST labels have magic ``0x00000801`` (unsigned bytes, 1 dimension), images ``0x00000803``
(unsigned bytes, 3 dimensions: count, rows, columns).

Nothing in a header is trusted: the payload must have exactly the length the sizes promise,
and memory is never allocated from what a header claims, only from bytes actually present.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "labels-idx1-ubyte.gz"
>>> write_idx(p, np.array([7, 2, 1], dtype=np.uint8))
>>> read_idx(p, magic=LABELS_MAGIC)
array([7, 2, 1], dtype=uint8)
"""

from __future__ import annotations

import gzip
import io
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from chainrule.errors import InputError
from chainrule.fsutil import atomic_write
from chainrule.reading import MAX_BYTES, read_bytes

LABELS_MAGIC = 0x00000801
IMAGES_MAGIC = 0x00000803
GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20

# element type code -> big-endian NumPy dtype (the IDX specification's table)
DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODES = {np.dtype(v).newbyteorder("="): k for k, v in DTYPES.items()}


def _describe(magic: int) -> str:
    code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    kind = {0x08: "unsigned bytes", 0x09: "signed bytes", 0x0B: "int16", 0x0C: "int32",
            0x0D: "float32", 0x0E: "float64"}.get(code, f"unknown type 0x{code:02X}")
    return f"0x{magic:08X} ({kind}, {ndim} dimension{'s' if ndim != 1 else ''})"


def _promised_length(head: bytes) -> int | None:
    """Total file length an IDX header promises; 0 if ``head`` cannot start an IDX file,
    None if more bytes are needed to tell."""
    if len(head) < 4:
        return None
    if head[0] or head[1] or head[2] not in DTYPES or head[3] == 0:
        return 0
    header = 4 + 4 * head[3]
    if len(head) < header:
        return None
    dims = struct.unpack(f">{head[3]}I", head[4:header])
    return header + math.prod(dims) * np.dtype(DTYPES[head[2]]).itemsize


def decompress(data: bytes, source, max_bytes: int = MAX_BYTES) -> bytes:
    """Return ``data`` itself, or its gunzipped content if it starts with the gzip magic.

    Decompression runs in chunks and stops one byte past the length the IDX header
    promises (or past ``max_bytes``), so neither a lying header nor a gzip bomb can make
    us hold more than the file really is or more than ``max_bytes``. A truncated or
    corrupt stream raises :class:`InputError` naming ``source``.
    """
    if not data.startswith(GZIP_MAGIC):
        return data
    out = bytearray()
    limit, promised = max_bytes + 1, None
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            while len(out) < limit:
                step = _CHUNK if promised is not None else 4  # word by word through the header
                chunk = stream.read(min(step, limit - len(out)))
                if not chunk:
                    break
                out += chunk
                if promised is None:
                    promised = _promised_length(bytes(out[:1024]))
                    if promised is not None:
                        limit = min(limit, promised + 1)
    except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as e:
        raise InputError(f"{source}: truncated or corrupt gzip data ({e})") from None
    if len(out) > max_bytes:
        raise InputError(f"{source}: decompresses to more than {max_bytes} bytes; refusing "
                         "to read it")
    return bytes(out)


def parse_idx(raw: bytes, source, magic: int | None = None) -> np.ndarray:
    """Parse uncompressed IDX bytes into an array (native byte order), validating everything.

    ``magic``, when given, is the magic number the caller expects (e.g. ``IMAGES_MAGIC``).

    >>> parse_idx(b"\\x00\\x00\\x08\\x01\\x00\\x00\\x00\\x02\\x05\\x09", "x.idx")
    array([5, 9], dtype=uint8)
    """
    if len(raw) < 4:
        raise InputError(f"{source}: {len(raw)} bytes is too short for an IDX header (4 bytes "
                         "magic number, then the sizes)")
    found = int.from_bytes(raw[:4], "big")
    code, ndim = raw[2], raw[3]
    if raw[0] or raw[1] or code not in DTYPES or ndim == 0:
        expected = f"; expected {_describe(magic)}" if magic is not None else ""
        raise InputError(f"{source}: not an IDX file: magic number 0x{found:08X}{expected}")
    if magic is not None and found != magic:
        raise InputError(f"{source}: wrong IDX magic number {_describe(found)}; expected "
                         f"{_describe(magic)}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise InputError(f"{source}: truncated IDX header: {ndim} sizes need {header} bytes, "
                         f"the file has {len(raw)}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(DTYPES[code])
    expected_bytes = math.prod(dims) * dtype.itemsize  # Python ints: no overflow
    actual = len(raw) - header
    if actual != expected_bytes:
        shape = "x".join(map(str, dims))
        raise InputError(f"{source}: IDX sizes {shape} need {expected_bytes} bytes of data but "
                         f"the file has {actual} (truncated or not an IDX file)")
    array = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="))


def read_idx(path, magic: int | None = None, max_bytes: int = MAX_BYTES) -> np.ndarray:
    """Read an IDX file, gzip-compressed or raw (detected from its first bytes, not its name).

    Raises :class:`InputError` naming the file for a missing file, a wrong magic number, sizes
    that disagree with the file's length, or truncated/corrupt gzip data.
    """
    def head(first):                # a pipe or device: refused at its first bytes if not IDX
        if not first.startswith(GZIP_MAGIC) and _promised_length(first) == 0:
            parse_idx(first, path, magic)

    raw = read_bytes(path, max_bytes, head)
    return parse_idx(decompress(raw, path, max_bytes), path, magic)


def encode_idx(array) -> bytes:
    """The uncompressed IDX bytes of ``array`` (uint8, int8, int16, int32, float32 or float64).

    >>> encode_idx(np.array([1, 2], dtype=np.uint8)).hex()
    '00000801000000020102'
    """
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise InputError(f"IDX cannot store dtype {array.dtype}; use one of "
                         + ", ".join(str(np.dtype(v).newbyteorder("=")) for v in DTYPES.values()))
    if not 1 <= array.ndim <= 255:
        raise InputError(f"IDX stores 1 to 255 dimensions, got an array of shape {array.shape}")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=DTYPES[code]).tobytes()


def write_idx(path, array, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file, atomically; gzip it when ``compress`` (default: the
    name ends in ``.gz``). The gzip header carries no timestamp, so output is reproducible."""
    path = Path(path)
    data = encode_idx(array)
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    with atomic_write(path, "wb") as f:
        f.write(data)
