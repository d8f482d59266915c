"""Atomic file writes: a reader (or a ``kill -9``) sees the old file or the new one, never half.

The new content goes to ``.NAME.PID.RANDOM.tmp`` beside the target, is flushed and fsynced, then
renamed over the target. A process killed mid-write leaves its temporary file behind; the next
write to the same target removes such leftovers of processes that no longer exist. A write that
fails (disk full, read-only folder, ...) removes its temporary file, leaves the target as it
was, and raises :class:`WriteFailed` naming the target, not the temporary file.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "hello.txt"
>>> with atomic_write(p, "w") as f:
...     _ = f.write("hi")
>>> p.read_text()
'hi'
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import secrets
from pathlib import Path


class WriteFailed(OSError):
    """A write to ``filename`` (the target) failed: ``errno`` and the reason say why.

    >>> str(WriteFailed(errno.ENOSPC, "m.npz"))
    'cannot write m.npz: no space left on device'
    """

    def __init__(self, code, target, reason=None):
        super().__init__(code, reason or _reason(code), str(target))

    def __str__(self):
        return f"cannot write {self.filename}: {self.strerror}"


def _reason(code) -> str:
    """os.strerror in lower case ("no space left on device"), or "input/output error"."""
    if code is None:
        return "input/output error"
    text = os.strerror(code)
    return text[:1].lower() + text[1:]


def _failed(error: OSError, path: Path) -> WriteFailed:
    """The OSError of a write to ``path`` (maybe naming its temporary file) as a WriteFailed."""
    if isinstance(error, WriteFailed):
        return error
    if error.errno == errno.ENOENT and not path.parent.is_dir():
        return WriteFailed(error.errno, path, f"the folder {path.parent} does not exist")
    if error.errno is None:
        return WriteFailed(errno.EIO, path, str(error) or None)
    return WriteFailed(error.errno, path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _remove_leftovers(directory: Path, name: str) -> None:
    """Delete ``.NAME.PID.RANDOM.tmp`` files whose writer process is gone (killed mid-write)."""
    for leftover in directory.glob(f".{glob.escape(name)}.*.*.tmp"):
        pid = leftover.name[len(name) + 2:-4].split(".")[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                leftover.unlink()


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb"):
    """Open a temporary file beside ``path``; on success flush, fsync and rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is left as it was; an
    OSError (from the write, the flush or the rename) is raised as :class:`WriteFailed`,
    which names ``path`` and the reason.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    _remove_leftovers(directory, path.name)
    tmp = directory / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        with open(tmp, mode.replace("w", "x")) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(error, OSError) and (error.filename is None or {str(tmp), str(path)} & {
                str(error.filename), str(error.filename2)}):
            raise _failed(error, path) from error
        raise                   # another file's error (the caller's own reads, say) as it is
    with contextlib.suppress(OSError):  # make the rename itself durable where the OS allows
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def check_writable(path) -> None:
    """Raise :class:`WriteFailed` now if :func:`atomic_write` could not write ``path``.

    It creates and removes the temporary file ``atomic_write`` would create, so it asks the
    file system itself (a read-only mount, ``/proc``, a full disk's inode table), which
    ``os.access`` does not for root.

    >>> import tempfile, pathlib
    >>> check_writable(pathlib.Path(tempfile.mkdtemp()) / "m.npz")   # nothing is left behind
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    probe = directory / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as error:
        raise _failed(error, path) from error
    with contextlib.suppress(OSError):
        os.unlink(probe)
