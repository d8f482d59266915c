"""`chainrule bench` as a user runs it: missing peers named up front and under the table,
progress per workload, --data-dir honoured."""

import os
import subprocess
import sys

WITHOUT_TORCH = ("import importlib.util as u, sys; real = u.find_spec; "
                 "u.find_spec = lambda name, *a: None if name in ('torch', 'jax') "
                 "else real(name, *a); "
                 "from chainrule.cli import main; sys.exit(main(sys.argv[1:]))")


def run(tmp_path, *argv):
    env = {**os.environ, "CHAINRULE_DATA": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-c", WITHOUT_TORCH, "bench", *argv], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, env=env)


def test_bench_without_pytorch_and_jax_says_so_first_and_last(tmp_path):
    done = run(tmp_path, "--workloads", "N1", "--repeats", "1")
    assert done.returncode == 0, done.stderr
    err = done.stderr.splitlines()
    assert err[0].startswith("chainrule bench: pytorch is not installed")
    assert "pip install torch" in err[0]
    assert err[1].startswith("chainrule bench: jax-jit is not installed")
    assert err[2].startswith("chainrule bench: jax-scan is not installed")
    assert "pip install jax" in err[1]
    assert any(line.startswith("workload 1/1: N1") for line in err)       # progress
    assert any(line.startswith("N1 chainrule run 1/1") for line in err)
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith(" ")]
    assert [row[0] for row in rows] == ["chainrule", "numpy", "floor", "sklearn"]
    last = done.stdout.rstrip().splitlines()[-3:]
    assert [line.split()[2] for line in last] == ["pytorch", "jax-jit", "jax-scan"]
    assert all(line.startswith("not timed: ") for line in last)
    assert "random (seeded" in done.stdout    # no MNIST in the empty cache: said in the table


def test_bench_reads_the_mnist_test_set_from_data_dir(tmp_path):
    import gzip

    import numpy as np

    folder = tmp_path / "mine" / "mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(10000, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=10000, dtype=np.uint8)
    for name, array, code in (("t10k-images-idx3-ubyte.gz", images, 3),
                              ("t10k-labels-idx1-ubyte.gz", labels, 1)):
        header = bytes([0, 0, 8, code]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
        with gzip.open(folder / name, "wb") as f:
            f.write(header + array.tobytes())
    done = run(tmp_path, "--workloads", "N1", "--repeats", "1", "--no-peers", "--quiet",
               "--data-dir", tmp_path / "mine")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""                                  # --quiet: no progress
    assert "MNIST test set (real" in done.stdout
