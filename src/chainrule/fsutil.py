"""Atomic file writes: a reader (or a ``kill -9``) sees the old file or the new one, never half.

The new content goes to ``.NAME.PID.RANDOM.tmp`` beside the target, is flushed and fsynced, then
renamed over the target. A process killed mid-write leaves its temporary file behind; the next
write to the same target removes such leftovers of processes that no longer exist.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "hello.txt"
>>> with atomic_write(p, "w") as f:
...     _ = f.write("hi")
>>> p.read_text()
'hi'
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
from pathlib import Path


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

    On any exception the temporary file is removed and ``path`` is left as it was.
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
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where the OS allows
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
