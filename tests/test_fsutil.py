"""atomic_write: all or nothing, and no pile of leftovers from killed writers."""

import os
import subprocess
import sys

import pytest

from chainrule.fsutil import atomic_write


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
