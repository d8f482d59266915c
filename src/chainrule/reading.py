"""Reading what a user hands chainrule: bytes bounded as they arrive, JSON bounded as it is parsed.

A file's size on disk says nothing of a pipe, ``/dev/zero`` or ``/dev/stdin``, so the readers here
count bytes as they arrive and stop at their limit with an InputError naming the file. JSON from a
file or a request is refused beyond a size, a nesting depth (deeper would overflow Python's
recursion in whatever walks it next), and numbers other than finite floats and integers of at
most 40 digits (enough for a 128-bit PCG64 state; a 400-digit one overflows ``float()``).

>>> loads_json(b'{"sizes": [2, 3], "lr": 0.5}', "net.json")
{'sizes': [2, 3], 'lr': 0.5}
>>> loads_json('{"lr": NaN}', "net.json")
Traceback (most recent call last):
  ...
chainrule.errors.InputError: net.json: expected a finite number, got NaN
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import stat
from pathlib import Path

import numpy as np

from chainrule.errors import InputError, quoted

MAX_BYTES = 1 << 30            # a data or model file, or a decompressed payload: 1 GiB
MAX_JSON_BYTES = 64 << 20      # JSON metadata, a NET.json, a sweep's results
MAX_JSON_DEPTH = 64            # nested arrays and objects
MAX_INT_DIGITS = 40            # 2**128 has 39 digits

_CHUNK = 1 << 20
HEAD = 64                      # bytes a reader's ``head`` check sees
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_OPEN, _CLOSE = np.frombuffer(b"[{", np.uint8), np.frombuffer(b"]}", np.uint8)


def _opened(path):
    """``open(path, "rb")`` with the usual failures as one InputError naming ``path``."""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None


def read_stream(stream, source, max_bytes: int = MAX_BYTES, head=None) -> bytes:
    """All of ``stream`` (a binary file), read in chunks: InputError naming ``source`` as soon
    as more than ``max_bytes`` arrive, so an endless pipe or ``/dev/zero`` stops at the limit.
    ``head(first_bytes)``, if given, sees the first :data:`HEAD` bytes as soon as they are
    there and raises InputError when they cannot start the file expected (``/dev/zero`` then
    fails at once, not after the limit).

    >>> read_stream(io.BytesIO(b"abc"), "x", 3)
    b'abc'
    >>> read_stream(io.BytesIO(b"abcd"), "x", 3)
    Traceback (most recent call last):
      ...
    chainrule.errors.InputError: x: more than the 3-byte limit (a pipe or device that never ends?)
    """
    chunks, total = [], 0
    while True:
        chunk = stream.read(min(_CHUNK, max_bytes + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        if head is not None and total < HEAD <= total + len(chunk):
            head(b"".join(chunks)[:HEAD])
        total += len(chunk)
        if total > max_bytes:
            raise InputError(f"{source}: more than the {max_bytes}-byte limit (a pipe or device "
                             f"that never ends?)")


def read_bytes(path, max_bytes: int = MAX_BYTES, head=None) -> bytes:
    """The bytes of ``path``, at most ``max_bytes``: a regular file larger than that is refused
    from its size, anything else (a pipe, ``/dev/stdin``, a device) as the bytes arrive."""
    with _opened(path) as f:
        try:
            size = os.fstat(f.fileno()).st_size
            if stat.S_ISREG(os.fstat(f.fileno()).st_mode) and size > max_bytes:
                raise InputError(f"{path}: {size} bytes is larger than the {max_bytes}-byte "
                                 f"limit")
            return read_stream(f, path, max_bytes, head)
        except IsADirectoryError:
            raise InputError(f"{path}: is a directory, expected a file") from None
        except OSError as e:
            raise InputError(f"{path}: cannot read ({e.strerror or e})") from None


def open_binary(path, max_bytes: int = MAX_BYTES, head=None):
    """A seekable binary file for ``path`` (for zipfile, SciPy's loadmat): a regular file of at
    most ``max_bytes`` itself, anything else read into memory through :func:`read_stream`."""
    path = Path(path)
    f = _opened(path)
    info = os.fstat(f.fileno())
    if stat.S_ISREG(info.st_mode):
        if info.st_size > max_bytes:
            f.close()
            raise InputError(f"{path}: {info.st_size} bytes is larger than the {max_bytes}-byte "
                             f"limit")
        return f
    with f:
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{path}: is a directory, expected a file")
        return io.BytesIO(read_stream(f, path, max_bytes, head))


def text_head(source):
    """A ``head`` check for a text file (CSV, JSON): a NUL byte means binary data.

    >>> text_head("x.csv")(b"1,2\\n\\0")
    Traceback (most recent call last):
      ...
    chainrule.errors.InputError: x.csv: not a text file (a NUL byte at byte 4)
    """
    def check(head):
        if b"\0" in head:
            raise InputError(f"{source}: not a text file (a NUL byte at byte {head.index(0)})")
    return check


def read_json(path, max_bytes: int = MAX_JSON_BYTES):
    """The JSON value in the file ``path``, read and parsed within the bounds of
    :func:`loads_json`."""
    return loads_json(read_bytes(path, max_bytes, text_head(path)), path, max_bytes)


def json_depth(text: str) -> int:
    """How deeply the arrays and objects of the JSON ``text`` nest (counted without parsing it).

    >>> json_depth('{"a": [1, [2]], "b": "[[[["}'), json_depth("3")
    (3, 0)
    """
    brackets = np.frombuffer(_STRING.sub("", text).encode("utf-8", "replace"), np.uint8)
    steps = np.isin(brackets, _OPEN).astype(np.int64) - np.isin(brackets, _CLOSE)
    return int(np.cumsum(steps).max(initial=0))


def loads_json(data, source, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH):
    """The JSON value in ``data`` (bytes, UTF-8, or str) read from ``source`` (named in errors).

    InputError for more than ``max_bytes``, text that is not UTF-8 or not JSON, nesting deeper
    than ``max_depth``, NaN/Infinity, a float beyond ±1.8e308 or an integer of more than 40
    digits.
    """
    if len(data) > max_bytes:
        raise InputError(f"{source}: {len(data)} bytes of JSON is more than the {max_bytes}-byte "
                         f"limit")
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as error:
            raise InputError(f"{source}: not a UTF-8 text file (byte {error.start})") from None
    depth = json_depth(data)
    if depth > max_depth:
        raise InputError(f"{source}: JSON nested too deeply ({depth} levels; at most "
                         f"{max_depth} are read)")

    def integer(text):
        digits = len(text.lstrip("-"))
        if digits > MAX_INT_DIGITS:
            raise InputError(f"{source}: the integer {text[:20]}… has {digits} digits; "
                             f"chainrule reads integers of at most {MAX_INT_DIGITS}")
        return int(text)

    def number(text):
        value = float(text)
        if not math.isfinite(value):
            raise InputError(f"{source}: the number {quoted(text)} is out of range (beyond "
                             f"±1.8e308)")
        return value

    def constant(text):
        raise InputError(f"{source}: expected a finite number, got {text}")

    try:
        return json.loads(data, parse_int=integer, parse_float=number, parse_constant=constant)
    except json.JSONDecodeError as error:
        raise InputError(f"{source}: invalid JSON at line {error.lineno}, column "
                         f"{error.colno}: {error.msg}") from None
    except RecursionError:      # cannot happen below max_depth, but never a traceback
        raise InputError(f"{source}: JSON nested too deeply") from None
