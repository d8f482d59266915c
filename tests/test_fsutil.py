"""atomic_write: all or nothing, and no pile of leftovers from killed writers."""

import errno
import os
import subprocess
import sys

import pytest

from chainrule.fsutil import WriteFailed, atomic_write


def test_failure_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "m.npz"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(target) as f:
        f.write(b"half of the new")
        raise RuntimeError("killed")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def test_leftovers_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".m.npz.{dead_pid}.abcd1234.tmp"
    live = tmp_path / f".m.npz.{os.getpid()}.feedbeef.tmp"
    other = tmp_path / f".other.npz.{dead_pid}.abcd1234.tmp"
    for p in (stale, live, other):
        p.write_bytes(b"x")
    with atomic_write(tmp_path / "m.npz") as f:
        f.write(b"new")
    assert (tmp_path / "m.npz").read_bytes() == b"new"
    assert not stale.exists()
    assert live.exists() and other.exists()


def test_text_mode(tmp_path):
    with atomic_write(tmp_path / "a.txt", "w") as f:
        f.write("δ")
    assert (tmp_path / "a.txt").read_text() == "δ"


def _raise(code, name_the_source):
    def fail(*args, **kwargs):       # as the OS does: os.replace names its source, the tmp
        raise OSError(code, os.strerror(code), *(args[:1] if name_the_source else ()))
    return fail


@pytest.mark.parametrize("where, code", [("replace", errno.EROFS), ("fsync", errno.ENOSPC),
                                         ("replace", errno.EACCES)])
def test_a_failed_write_names_the_target_and_the_reason(tmp_path, monkeypatch, where, code):
    target = tmp_path / "m.npz"
    target.write_bytes(b"old")
    # the OS names the temporary file (os.replace) or nothing at all (disk full on fsync)
    monkeypatch.setattr(os, where, _raise(code, where == "replace"))
    with pytest.raises(WriteFailed) as caught, atomic_write(target) as f:
        f.write(b"new")
    error = caught.value
    assert isinstance(error, OSError) and error.errno == code
    assert error.filename == str(target)
    assert str(error) == f"cannot write {target}: {os.strerror(code).lower()}"
    assert ".tmp" not in str(error)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def _write(path, data=b"x"):
    with atomic_write(path) as f:
        f.write(data)


def test_disk_full_during_the_callers_write_is_reported_for_the_target(tmp_path):
    target = tmp_path / "m.npz"
    with pytest.raises(WriteFailed, match="cannot write .*m.npz: no space left on device"), \
            atomic_write(target):
        raise OSError(errno.ENOSPC, "No space left on device")   # as np.savez's write would
    assert list(tmp_path.iterdir()) == []


def test_a_path_under_a_file_or_a_missing_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("a file")
    with pytest.raises(WriteFailed, match="cannot write .*notes.txt/m.npz: not a directory"):
        _write(tmp_path / "notes.txt" / "m.npz")
    with pytest.raises(WriteFailed, match="the folder .*missing does not exist"):
        _write(tmp_path / "missing" / "m.npz")
    (tmp_path / "d").mkdir()
    with pytest.raises(WriteFailed, match="is a directory"):
        _write(tmp_path / "d")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "notes.txt"]


FAULT = """
import errno, os, sys
from chainrule.cli.main import main
def fail(*args, **kwargs):
    code = errno.{code}
    raise OSError(code, os.strerror(code), *(args[:1] if "{where}" == "replace" else ()))
os.{where} = fail
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("where, code, reason", [("replace", "EROFS", "read-only file system"),
                                                 ("fsync", "ENOSPC", "no space left on device")])
def test_cli_write_failure_is_one_line_naming_the_target(tmp_path, where, code, reason):
    """chainrule train --save on a read-only or full disk (the fault injected into os)."""
    target = tmp_path / "m.npz"
    target.write_bytes(b"the good model")
    env = {**os.environ, "CHAINRULE_DATA": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", FAULT.format(code=code, where=where), "train",
                           "--epochs", "1", "--save", "m.npz"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"chainrule: error: cannot write m.npz: {reason}"
    assert target.read_bytes() == b"the good model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def test_another_files_error_inside_the_block_is_not_relabelled(tmp_path):
    target = tmp_path / "m.npz"
    with pytest.raises(FileNotFoundError) as caught, atomic_write(target):
        (tmp_path / "missing.csv").read_bytes()
    assert not isinstance(caught.value, WriteFailed)
    assert caught.value.filename == str(tmp_path / "missing.csv")
    assert list(tmp_path.iterdir()) == []
