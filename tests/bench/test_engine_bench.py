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
def test_the_jitted_jax_step_trains_what_the_engine_path_trains():
    workload = dataclasses.replace(harness.WORKLOADS["N2g"], batch_size=16, epochs=2)
    X, y, _ = harness.load_data(40, root="/nonexistent", seed=1)    # batches of 16, 16, 8
    params = harness.initial_params(workload, 0)
    run, predict, final_params, compile_s = bench_engine.train_jax(workload, params, X, y, 0)
    run()
    ours = harness.chainrule_generic(workload, params, X, y, 0)
    ours.run()
    assert compile_s > 0
    for theirs, mine, start in zip(final_params(), ours.params(), params):
        assert not np.allclose(mine, start)                 # both trained ...
        # ... the same way: Adam moves each weight by up to 6 steps × 1e-3; float32 rounding of
        # near-zero gradients may flip an early step's sign, so 1e-4 absolute
        np.testing.assert_allclose(theirs, mine, rtol=1e-3, atol=1e-4)
    np.testing.assert_array_equal(predict(X), ours.predict(X))
