"""MNIST and Fashion-MNIST: find the IDX files, or download them, check them, read them.

Where files are looked for (the four standard names, each ``.gz`` or raw):
``root`` (and ``root/<kind>``) when given, else ``$CHAINRULE_DATA/<kind>``, else
``$XDG_CACHE_HOME/chainrule/<kind>`` (default ``~/.cache/chainrule/<kind>``). Downloads go to
the first of those directories.

Downloads try each mirror in turn (``mirrors=`` argument, else the space- or comma-separated
base URLs in ``$CHAINRULE_MNIST_MIRRORS`` / ``$CHAINRULE_FASHION_MNIST_MIRRORS``, else the
built-in list), with a timeout per connection attempt or stalled read and an overall deadline
per file (:data:`DOWNLOAD_DEADLINE` seconds, ``deadline=``: a mirror that trickles a byte a
second is given up, saying how many bytes arrived, and the next one is tried), and keep a file
only if its checksum matches (see :data:`FILES`). Files are written atomically: a cut download
never leaves a partial file.

Checksums: each file has two SHA-256 values, of the ``.gz`` archive as the mirrors publish it
and of the decompressed IDX bytes (the payload). A file is accepted when either known hash
matches, so a re-compressed copy with the right content passes. ``None`` marks a hash that
is *not known*: when no hash of a file is known, it is accepted after the IDX structure
checks alone and a warning says it could not be verified. Files already on disk are checked
the same way (``verify=False`` skips it, e.g. for a deliberately modified copy).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chainrule.data.idx import (
    IMAGES_MAGIC,
    LABELS_MAGIC,
    MAX_BYTES,
    decompress,
    parse_idx,
    read_bytes,
)
from chainrule.errors import InputError, RunFailed, quoted
from chainrule.fsutil import atomic_write


@dataclass(frozen=True)
class Checksums:
    """Known SHA-256 values of one file; ``None`` = not known (see the module docstring)."""

    archive: str | None  # of the .gz file as published
    payload: str | None  # of the decompressed IDX bytes


# (kind, split, part) -> checksums. The MNIST t10k payload hashes were computed here from the
# real test files; the others are the values published by many independent MNIST and
# Fashion-MNIST loaders (not recomputed here, because those files were not at hand).
FILES = {
    ("mnist", "train", "images"): Checksums(
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    ("mnist", "train", "labels"): Checksums(
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    ("mnist", "test", "images"): Checksums(
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    ("mnist", "test", "labels"): Checksums(
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    ("fashion-mnist", "train", "images"): Checksums(
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", None),
    ("fashion-mnist", "train", "labels"): Checksums(
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", None),
    ("fashion-mnist", "test", "images"): Checksums(
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", None),
    ("fashion-mnist", "test", "labels"): Checksums(
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", None),
}

MIRRORS = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}
MIRRORS_ENV = {"mnist": "CHAINRULE_MNIST_MIRRORS",
               "fashion-mnist": "CHAINRULE_FASHION_MNIST_MIRRORS"}
_STEM = {"train": "train", "test": "t10k"}
_PART = {"images": ("images-idx3-ubyte", IMAGES_MAGIC), "labels": ("labels-idx1-ubyte",
                                                                   LABELS_MAGIC)}
MAX_DOWNLOAD = 64 << 20  # the largest file, Fashion-MNIST train images, is 26 MB
DOWNLOAD_DEADLINE = 300.0   # seconds for one file from one mirror: MNIST's 9.9 MB at 34 kB/s


def file_name(split: str, part: str) -> str:
    """The standard raw file name, e.g. ``file_name("test", "images")`` = t10k-images-idx3-ubyte."""
    return f"{_STEM[split]}-{_PART[part][0]}"


def cache_dir(kind: str = "mnist") -> Path:
    """Where ``kind`` is cached: ``$CHAINRULE_DATA/<kind>``, else the platform cache.

    >>> cache_dir("fashion-mnist").name
    'fashion-mnist'
    """
    base = os.environ.get("CHAINRULE_DATA")
    if base:
        return Path(base).expanduser() / kind
    xdg = os.environ.get("XDG_CACHE_HOME")
    root = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return root / "chainrule" / kind


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_checksums(data: bytes, payload: bytes, expected: Checksums) -> str | None:
    """None when the file is accepted (see the module docstring), else the reason it is not."""
    checks = [(h, d) for h, d in ((expected.archive, data), (expected.payload, payload))
              if h is not None]
    if not checks or any(_sha256(d) == h for h, d in checks):
        return None
    return (f"SHA-256 {_sha256(data)} matches neither the known archive hash "
            f"{expected.archive} nor the payload hash {expected.payload}")


def _mirrors(kind: str, mirrors) -> list[str]:
    if mirrors is None:
        configured = os.environ.get(MIRRORS_ENV[kind], "").replace(",", " ").split()
        mirrors = configured or MIRRORS[kind]
    elif isinstance(mirrors, str):
        mirrors = [mirrors]
    return [m if m.endswith("/") else m + "/" for m in mirrors]


class _Watchdog:
    """Shuts a download's sockets down ``deadline`` seconds after it started, whatever they wait
    for (a trickled status line, header or body): the read then ends and ``expired`` is set."""

    def __init__(self, deadline: float):
        self.expired = False
        self._sockets = []
        self._timer = threading.Timer(deadline, self._expire)
        self._timer.daemon = True

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._timer.cancel()

    def _expire(self):
        self.expired = True
        for sock in self._sockets:
            with contextlib.suppress(OSError):   # the plain socket's shutdown, also under TLS
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def watch(self, sock):
        self._sockets.append(sock)
        if self.expired:
            self._expire()

    def opener(self):
        """A urllib opener whose HTTP(S) connections hand their socket to :meth:`watch`."""
        import http.client
        import urllib.request

        watch = self.watch

        def watched(base):
            class Connection(base):
                def connect(self):
                    super().connect()
                    watch(self.sock)
            return Connection

        class HTTP(urllib.request.HTTPHandler):
            def http_open(self, req):
                return self.do_open(watched(http.client.HTTPConnection), req)

        class HTTPS(urllib.request.HTTPSHandler):
            def https_open(self, req):
                return self.do_open(watched(http.client.HTTPSConnection), req,
                                    context=self._context)

        return urllib.request.build_opener(HTTP, HTTPS)


def _http_get(url: str, timeout: float, limit: int, deadline: float = DOWNLOAD_DEADLINE) -> bytes:
    """The body of ``url`` (status 200), refusing bodies over ``limit``, short reads, and a
    download still going ``deadline`` seconds after it began (``timeout`` bounds each wait)."""
    import http.client
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "chainrule"})
    body, declared = bytearray(), None
    with _Watchdog(deadline) as watchdog:
        try:
            with watchdog.opener().open(request, timeout=timeout) as response:
                declared = response.headers.get("Content-Length")
                if declared is not None and int(declared) > limit:
                    raise OSError(f"{declared} bytes is more than the {limit}-byte limit")
                while chunk := response.read1(1 << 16):   # what has arrived: a trickle counts
                    body += chunk
                    if len(body) > limit:
                        raise OSError(f"more than the {limit}-byte limit")
        except (OSError, http.client.HTTPException, ValueError):
            if not watchdog.expired:
                raise
        if watchdog.expired:
            of = f"of {declared} " if declared is not None else ""
            raise OSError(f"gave up after the {deadline:g} s download deadline with "
                          f"{len(body)} {of}bytes arrived (a slow or stuck mirror)")
    if declared is not None and len(body) != int(declared):
        raise OSError(f"connection closed after {len(body)} of {declared} bytes")
    return bytes(body)


def fetch(kind: str, split: str, part: str, directory, mirrors=None,
          timeout: float = 30.0, deadline: float = DOWNLOAD_DEADLINE) -> Path:
    """Fetch one ``.gz`` file into ``directory`` from the first mirror that serves a good copy.

    ``timeout``: seconds per connection attempt or stalled read; ``deadline``: seconds for the
    whole file from one mirror, after which the next mirror is tried.

    Raises :class:`RunFailed` listing every URL tried and why it failed, and where to put the
    file by hand. Nothing is written unless the file passed its checks.
    """
    import http.client
    import urllib.error

    for value, what in ((timeout, "timeout"), (deadline, "deadline")):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0 \
                or value == float("inf"):
            raise InputError(f"{what}: expected a finite number of seconds > 0, "
                             f"got {quoted(value)}")
    name = file_name(split, part) + ".gz"
    expected = FILES[(kind, split, part)]
    directory = Path(directory)
    attempts = []
    for base in _mirrors(kind, mirrors):
        url = base + name
        try:
            data = _http_get(url, timeout, MAX_DOWNLOAD, deadline)
        except (OSError, http.client.HTTPException, ValueError) as e:
            plain = isinstance(e, urllib.error.URLError) and not isinstance(
                e, urllib.error.HTTPError)  # "<urlopen error ...>": show only the reason
            attempts.append(f"{url}: {e.reason if plain else e}")
            continue
        try:
            payload = decompress(data, url, MAX_BYTES)
            parse_idx(payload, url, _PART[part][1])
        except InputError as e:
            attempts.append(str(e))
            continue
        problem = check_checksums(data, payload, expected)
        if problem:
            attempts.append(f"{url}: {problem}")
            continue
        if expected.archive is None and expected.payload is None:
            warnings.warn(f"{url}: no known checksum; accepted after IDX checks only",
                          stacklevel=2)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            with atomic_write(directory / name, "wb") as f:
                f.write(data)
        except OSError as e:
            raise RunFailed(f"cannot save {name} in {directory}: {e.strerror or e}; choose "
                            "another directory with --data-dir or $CHAINRULE_DATA") from None
        return directory / name
    tried = "; ".join(attempts) or "no mirrors configured"
    raise RunFailed(f"could not download {kind} {name} ({tried}). Offline? Put {name} (or "
                    f"{file_name(split, part)}) in {directory} by hand, or point --data-dir "
                    "at a directory holding it")


def _find(directories, split: str, part: str) -> Path | None:
    for directory in directories:
        for suffix in (".gz", ""):
            path = directory / (file_name(split, part) + suffix)
            if path.is_file():
                return path
    return None


def _read_part(path: Path, kind: str, split: str, part: str, verify_hash: bool) -> np.ndarray:
    data = read_bytes(path)
    payload = decompress(data, path)
    array = parse_idx(payload, path, _PART[part][1])
    if verify_hash:
        problem = check_checksums(data, payload, FILES[(kind, split, part)])
        if problem:
            raise InputError(f"{path}: not the published {kind} file: {problem}; delete it to "
                             "download it again, or pass verify=False to use it anyway")
    return array


def load_mnist(root=None, split: str = "train", download: bool = True, kind: str = "mnist",
               mirrors=None, verify: bool = True, dtype="float32", timeout: float = 30.0,
               deadline: float = DOWNLOAD_DEADLINE):
    """``(X, y)``: X (n, 784) in [0, 1] (pixel / 255, ``dtype``), y int64 labels 0..9.

    ``split``: "train" (60,000 images) or "test" (10,000); ``kind``: "mnist" or
    "fashion-mnist". Missing files are downloaded when ``download`` is true (``timeout``
    seconds per connection attempt or stalled read, ``deadline`` seconds per file and mirror).

    >>> import tempfile
    >>> from chainrule.data.idx import write_idx
    >>> d = tempfile.mkdtemp()  # files put there by hand (verify=False: they are not MNIST's)
    >>> write_idx(f"{d}/t10k-images-idx3-ubyte.gz", np.full((2, 28, 28), 255, np.uint8))
    >>> write_idx(f"{d}/t10k-labels-idx1-ubyte", np.array([7, 2], np.uint8))
    >>> X, y = load_mnist(d, split="test", download=False, verify=False)
    >>> X.shape, float(X.max()), y.tolist()
    ((2, 784), 1.0, [7, 2])
    """
    images, labels = read_mnist(root, split, download, kind, mirrors, verify, timeout, deadline)
    X = images.reshape(len(images), -1).astype(dtype)
    if X.dtype.kind != "f":
        return X / np.asarray(255, dtype=X.dtype), labels
    X /= np.asarray(255, dtype=X.dtype)     # in place: one (n, 784) array at a time, not two
    return X, labels


def read_mnist(root=None, split: str = "train", download: bool = True, kind: str = "mnist",
               mirrors=None, verify: bool = True, timeout: float = 30.0,
               deadline: float = DOWNLOAD_DEADLINE):
    """``(images, labels)`` as the IDX files hold them: uint8 (n, 28, 28) and int64 (n,).

    Found, downloaded and checked as :func:`load_mnist` does; scaling is left to the caller
    (``load_mnist`` divides by 255, Nielsen's ``mnist.pkl.gz`` by 256).
    """
    if kind not in MIRRORS:
        raise InputError(f"unknown data set {quoted(kind)}; expected one of {', '.join(MIRRORS)}")
    if split not in _STEM:
        raise InputError(f"{kind}: unknown split {quoted(split)}; expected 'train' or 'test'")
    directories = ([Path(root), Path(root) / kind] if root is not None else [cache_dir(kind)])
    arrays = {}
    for part in ("images", "labels"):
        path = _find(directories, split, part)
        if path is None:
            if not download:
                where = " or ".join(str(d) for d in directories)
                raise InputError(f"{kind}: {file_name(split, part)}(.gz) not found in {where} "
                                 "and downloading is off; put the file there or allow "
                                 "downloads")
            path = fetch(kind, split, part, directories[0], mirrors, timeout, deadline)
        arrays[part] = _read_part(path, kind, split, part, verify)
    images, labels = arrays["images"], arrays["labels"]
    if images.shape[1:] != (28, 28):
        raise InputError(f"{kind} {split}: images are {images.shape[1]}x{images.shape[2]}, "
                         "expected 28x28")
    if len(images) != len(labels):
        raise InputError(f"{kind} {split}: {len(images)} images but {len(labels)} labels")
    if labels.size and labels.max() > 9:
        i = int(np.argmax(labels > 9))
        raise InputError(f"{kind} {split}: label {labels[i]} at row {i} is not a digit 0..9")
    return images, labels.astype(np.int64)
