"""Data-parallel ``chainrule train``: ``--shards K`` in one process and ``mpiexec -n K --mpi``."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from chainrule import training
from tests.cli.conftest import assert_one_line_error, run_cli

from .conftest import assert_same_weights, mpiexec_or_skip, weights_of

NET = ["--layers", "64,16,10", "--epochs", "3", "--batch-size", "16", "--quiet"]
SRC = Path(__file__).resolve().parents[2] / "src"


def _mpi_train(tmp_path, ranks, *argv, timeout=300):
    env = {**os.environ, "PYTHONPATH": str(SRC), "CHAINRULE_DATA": str(tmp_path / "no-cache")}
    return subprocess.run([*mpiexec_or_skip(), "-n", str(ranks), sys.executable, "-m",
                           "chainrule", "train", "--mpi", *map(str, argv)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.parametrize("flags", [
    ["--optimizer", "sgd", "--lr", "0.5"],
    ["--optimizer", "momentum", "--l2", "2", "--patience", "2"],
    ["--optimizer", "adam", "--lr", "0.01", "--validation", "0.2"],
])
def test_mpi_weights_are_the_sharded_runs_bit_for_bit(tmp_path, flags):
    mpi = _mpi_train(tmp_path, 2, *NET, *flags, "--save", "mpi.npz")
    assert mpi.returncode == 0, mpi.stderr
    assert mpi.stdout.count("test accuracy") == 1               # rank 0 alone prints
    shards = run_cli("train", *NET, *flags, "--shards", "2", "--save", "shards.npz",
                     cwd=tmp_path)
    assert shards.returncode == 0, shards.stderr
    assert_same_weights(tmp_path / "mpi.npz", tmp_path / "shards.npz")
    assert mpi.stdout.replace("mpi.npz", "shards.npz") == shards.stdout


def test_float64_mpi_and_plain_runs_agree_to_rounding(tmp_path):
    """Measured: the largest weight difference is ~1e-15 of the largest weight here."""
    flags = [*NET, "--dtype", "float64", "--optimizer", "momentum", "--l2", "1"]
    assert _mpi_train(tmp_path, 2, *flags, "--save", "mpi.npz").returncode == 0
    assert run_cli("train", *flags, "--save", "plain.npz", cwd=tmp_path).returncode == 0
    mpi, plain = weights_of(tmp_path / "mpi.npz"), weights_of(tmp_path / "plain.npz")
    scale = max(np.abs(plain[k]).max() for k in ("W1", "W2"))
    for name in ("W1", "b1", "W2", "b2"):
        assert np.abs(mpi[name] - plain[name]).max() <= 1e-12 * scale, name


def test_a_single_rank_run_needs_no_mpiexec(tmp_path):
    pytest.importorskip("mpi4py", reason="needs mpi4py: pip install 'chainrule[mpi]'")
    done = run_cli("train", *NET, "--mpi", "--save", "one.npz", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert run_cli("train", *NET, "--shards", "1", "--save", "k1.npz", cwd=tmp_path
                   ).returncode == 0
    _, state = training.load_checkpoint(tmp_path / "one.npz")
    assert state.epoch == 3


@pytest.mark.parametrize("argv, named", [
    (["--shards", "0"], "--shards"), (["--shards", "2", "--optimizer", "lbfgs"], "lbfgs"),
    (["--mpi", "--optimizer", "cg"], "cg"), (["--threads", "0"], "--threads"),
    (["--mpi", "--shards", "2"], "--shards"),
])
def test_bad_parallel_flags_are_one_line_errors(tmp_path, argv, named):
    assert_one_line_error(run_cli("train", *argv, cwd=tmp_path), 2, named)


def _rank_process(parent_pid, rank):
    import psutil

    for child in psutil.Process(parent_pid).children(recursive=True):
        try:
            if child.environ().get("OMPI_COMM_WORLD_RANK") == str(rank):
                return child
        except psutil.Error:
            continue
    return None


def test_a_rank_that_dies_ends_the_job_with_the_checkpoint_intact(tmp_path):
    pytest.importorskip("psutil")
    env = {**os.environ, "PYTHONPATH": str(SRC), "CHAINRULE_DATA": str(tmp_path / "no-cache")}
    process = subprocess.Popen(
        [*mpiexec_or_skip(), "-n", "2", sys.executable, "-m", "chainrule", "train", "--mpi",
         "--layers", "64,64,10", "--epochs", "500", "--save", "m.npz"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not (tmp_path / "m.npz").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    rank1 = _rank_process(process.pid, 1)
    assert rank1 is not None and (tmp_path / "m.npz").exists()
    os.kill(rank1.pid, signal.SIGKILL)
    out, err = process.communicate(timeout=120)
    assert process.returncode != 0
    lines = [line for line in err.splitlines() if line.startswith("chainrule:")]
    assert len(lines) == 1, err
    assert lines[0].startswith("chainrule: error: rank 0 of 2: the MPI job was ended")
    assert "is intact: continue with --resume m.npz" in lines[0]
    epoch = int(lines[0].split("(epoch ")[1].split(")")[0])
    _, state = training.load_checkpoint(tmp_path / "m.npz")       # whole, and that epoch
    assert state.epoch == epoch >= 1
    assert "Traceback" not in err
