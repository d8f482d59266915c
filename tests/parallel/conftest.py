"""Fixtures for the sweeps (a real Dask LocalCluster) and data-parallel training (mpiexec).

Each skips with the command that installs what it needs: ``pip install -e '.[test]'`` brings
Dask's distributed, mpi4py and Open MPI's wheel (``.ci/run`` does that).
"""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

MPI_FLAGS = ["--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])


def weights_of(path):
    """Every array of a model file but its metadata, by name."""
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k].copy() for k in f.files if not k.startswith("__")}


def assert_same_weights(a, b):
    """The model files a and b hold the same arrays, bit for bit (and the same dtype)."""
    wa, wb = weights_of(a), weights_of(b)
    params = [k for k in wa if not k.startswith(("optimizer.", "early_stopping.", "training."))]
    assert params and sorted(params) == sorted(k for k in wb if k in params)
    for name in params:
        assert wa[name].dtype == wb[name].dtype, name
        assert wa[name].tobytes() == wb[name].tobytes(), name


@pytest.fixture(scope="session")
def dask_installed():
    """Dask's distributed, or a skip saying how to install it."""
    return pytest.importorskip(
        "distributed", reason="the Dask tests need Dask's distributed: pip install "
                              "'chainrule[dask]' (or the test extra)")


@pytest.fixture(scope="session")
def dask_cluster(dask_installed):
    """A LocalCluster of 2 worker processes, one thread each (as the dask backend starts)."""
    distributed = dask_installed
    import logging

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.ERROR)
    yield cluster
    cluster.close()


def mpiexec_or_skip():
    """The mpiexec command line start (with the flags Open MPI wants as root), or a skip."""
    pytest.importorskip("mpi4py", reason="the MPI tests need mpi4py and an MPI: pip install "
                                         "'chainrule[mpi]' (or the test extra)")
    # Open MPI's wheel puts mpiexec beside this Python (a pyenv shim may not exist yet)
    found = shutil.which("mpiexec", path=sysconfig.get_path("scripts")) or shutil.which("mpiexec")
    if found is None:
        pytest.skip("the MPI tests need mpiexec: pip install 'chainrule[mpi]' brings Open MPI's")
    return [found, *MPI_FLAGS]


def run_mpi(ranks, *argv, cwd, timeout=300):
    """``mpiexec -n RANKS python ARGV`` in cwd, the source tree on the path."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"),
           "CHAINRULE_DATA": str(Path(cwd) / "no-cache")}
    return subprocess.run([*mpiexec_or_skip(), "-n", str(ranks), sys.executable, *map(str, argv)],
                          cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
