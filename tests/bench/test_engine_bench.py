"""benchmarks/bench_engine.py: its JAX peer trains the same model to the same parameters."""

import dataclasses
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_engine
import harness

needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="needs jax")


@needs_jax
def test_the_jax_peers_train_what_the_engine_path_trains():
    workload = dataclasses.replace(harness.WORKLOADS["N2g"], batch_size=16, epochs=2)
    X, y, _ = harness.load_data(40, root="/nonexistent", seed=1)    # batches of 16, 16, 8
    params = harness.initial_params(workload, 0)
    ours = harness.chainrule_generic(workload, params, X, y, 0)
    ours.run()
    for peer in ("jax-jit", "jax-scan"):
        theirs = harness.builder(workload, peer)(workload, params, X, y, 0)
        theirs.run()
        assert theirs.compile_s > 0
        for got, mine, start in zip(theirs.params(), ours.params(), params):
            assert not np.allclose(mine, start)                 # both trained ...
            # ... the same way: Adam moves each weight by up to 6 steps × 1e-3; float32
            # rounding of near-zero gradients may flip an early step's sign, so 1e-4 absolute
            np.testing.assert_allclose(got, mine, rtol=1e-3, atol=1e-4)
        np.testing.assert_array_equal(theirs.predict(X), ours.predict(X))


def test_the_train_comparison_runs_each_system_and_reports_medians(capsys):
    medians = bench_engine.compare_train(1, peers=[])
    assert list(medians) == ["chainrule"] and medians["chainrule"] > 0
    assert "train    chainrule" in capsys.readouterr().out
