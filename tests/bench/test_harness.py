"""The benchmark harness: peers do the same maths, the runner produces ratios, tables, data.

No timing assertions: only that the systems compared are the same computation and the
numbers reported are the ones measured.
"""

import dataclasses
import gzip
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from chainrule.errors import InputError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import harness as bench
from peers import (
    batches,
    epoch_batches,
    jax_jit,
    jax_scan,
    matmul_floor,
    numpy_loop,
    one_hot,
    pytorch_eager,
)

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_JAX = importlib.util.find_spec("jax") is not None
needs_jax = pytest.mark.skipif(not HAS_JAX, reason="JAX is an optional benchmark peer: "
                                                   "pip install jax")
SMALL = {name: dataclasses.replace(w, sizes=(784, 12, 8, 10) if name == "N3" else w.sizes,
                                   batch_size=16, epochs=2)
         for name, w in bench.WORKLOADS.items()}


def _digits(n=48, seed=1):
    X, y, _ = bench.load_data(n, root="/nonexistent", seed=seed)
    return X, y


def test_batches_cover_every_example_once_per_epoch():
    seen = np.concatenate(list(batches(25, 10, 2, seed=3)))
    sizes = [len(b) for b in batches(25, 10, 2, seed=3)]
    assert sizes == [10, 10, 5, 10, 10, 5]
    assert sorted(seen[:25]) == list(range(25)) and sorted(seen[25:]) == list(range(25))


def test_one_hot_by_hand():
    assert one_hot(np.array([2, 0]), 3).tolist() == [[0, 0, 1], [1, 0, 0]]


def test_initial_params_follow_the_scheme():
    W1, b1, W2, b2 = bench.initial_params(bench.WORKLOADS["N2"], seed=0)
    assert W1.dtype == np.float32 and W1.shape == (100, 784) and W2.shape == (10, 100)
    assert not b1.any() and not b2.any()                       # relu: zero biases
    assert abs(W1.std() - np.sqrt(2 / 784)) < 0.05 * np.sqrt(2 / 784)   # He N(0, 2/n_in)


def test_numpy_loop_gradient_matches_central_differences():
    """One SGD step with η = 1 moves each parameter by minus its gradient: compare to the cost."""
    w = dataclasses.replace(SMALL["N1"], sizes=(784, 5, 10), lr=1.0, epochs=1, batch_size=48)
    X, y = _digits()
    X64 = X.astype(np.float64)
    params = [p.astype(np.float64) for p in bench.initial_params(w, seed=2)]
    trainer = numpy_loop(w, params, X64, y, seed=0)
    trainer.run()
    grads = [p0 - p1 for p0, p1 in zip(params, trainer.params())]
    Y = one_hot(y, 10, np.float64)

    def cost(ps):
        a = X64
        for W, b in zip(ps[0::2], ps[1::2]):
            a = 1 / (1 + np.exp(-(a @ W.T + b)))
        return 0.5 * np.mean(np.sum((a - Y) ** 2, axis=1))

    rng = np.random.default_rng(0)
    for i, p in enumerate(params):
        for flat in rng.choice(p.size, 3, replace=False):
            plus = [q.copy() for q in params]
            minus = [q.copy() for q in params]
            plus[i].flat[flat] += 1e-6
            minus[i].flat[flat] -= 1e-6
            numeric = (cost(plus) - cost(minus)) / 2e-6
            assert grads[i].flat[flat] == pytest.approx(numeric, rel=1e-4, abs=1e-9)


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is an optional benchmark peer")
@pytest.mark.parametrize("name", ["N1", "N2", "N3"])
def test_numpy_loop_and_pytorch_train_the_same_maths(name):
    """Same start, same batches, same optimiser: the same parameters after 6 steps."""
    X, y = _digits()
    params = bench.initial_params(SMALL[name], seed=0)
    ours, theirs = (peer(SMALL[name], params, X, y, seed=5) for peer in (numpy_loop, pytorch_eager))
    ours.run()
    theirs.run()
    for p, q, p0 in zip(ours.params(), theirs.params(), params):
        assert np.abs(p - p0).max() > 1e-4                     # something was learnt
        np.testing.assert_allclose(p, q, rtol=1e-3, atol=2e-5)


def test_epoch_batches_are_the_batches_in_order():
    """The scanned epoch sees the same batches as every other peer: full ones, then the rest."""
    mine = [b for full, rest in epoch_batches(53, 10, 3, seed=4) for b in [*full, rest]]
    theirs = list(batches(53, 10, 3, seed=4))
    assert len(mine) == len(theirs) == 18
    for a, b in zip(mine, theirs):
        np.testing.assert_array_equal(a, b)


@needs_jax
@pytest.mark.parametrize("peer", [jax_jit, jax_scan], ids=["jit", "scan"])
@pytest.mark.parametrize("name", ["N1", "N2", "N3"])
def test_numpy_loop_and_jax_train_the_same_maths(name, peer):
    """Same start, same batches (50 digits: three of 16, then a short one of 2, per epoch),
    same optimiser: the same parameters after 8 steps; compiling is reported, not run."""
    X, y = _digits(50)
    params = bench.initial_params(SMALL[name], seed=0)
    ours, theirs = numpy_loop(SMALL[name], params, X, y, seed=5), peer(SMALL[name], params, X,
                                                                        y, seed=5)
    assert theirs.compile_s > 0
    np.testing.assert_array_equal(theirs.params()[0], params[0])   # the warm-up left no trace
    ours.run()
    theirs.run()
    for p, q, p0 in zip(ours.params(), theirs.params(), params):
        assert q.dtype == np.float32 and np.abs(p - p0).max() > 1e-4
        np.testing.assert_allclose(p, q, rtol=1e-3, atol=2e-5)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


@needs_jax
def test_run_benchmarks_with_jax_tiny():
    results = bench.run_benchmarks(["N1"], peers=["jax-jit", "jax-scan"], repeats=1, n=60,
                                   pause=0, data_root="/nonexistent")
    (w,) = results["workloads"]
    for peer in ("jax-jit", "jax-scan"):
        r = w["systems"][peer]
        assert r["compile_s"] > 0 and r["counts"]    # same maths, same batches: same accuracy
        assert r["accuracy"] == pytest.approx(w["systems"]["chainrule"]["accuracy"], abs=0.005)
    assert w["systems"]["chainrule"]["compile_s"] is None
    assert [g["peer"] for g in w["goals"]] == ["jax-scan"]
    assert "compile" in bench.format_table(results)


def test_a_peer_of_another_accuracy_does_not_count():
    counts = bench.same_accuracy({"chainrule": 0.900, "numpy": 0.905, "sklearn": 0.8949})
    assert counts == {"numpy": True, "sklearn": False}
    (goal,) = bench.goals("N1", {"jax-scan": 0.5}, {"jax-scan": False})
    assert goal["ratio"] == 0.5 and not goal["counts"] and not goal["met"]   # fast, not counted


def test_floor_computes_the_products_of_forward_and_backward():
    w = SMALL["N3"]
    X, y = _digits(32)
    params = bench.initial_params(w, seed=0)
    trainer = matmul_floor(w, params, X, y, seed=0)
    trainer.run()                                              # shapes fit: no exception
    assert trainer.params() == [] and trainer.predict(X).shape == (32,)
    np.testing.assert_array_equal(params[0], bench.initial_params(w, seed=0)[0])  # untouched


def test_load_data_random_fallback():
    X, y, source = bench.load_data(300, root="/nonexistent", seed=0)
    assert source.startswith("random") and X.dtype == np.float32 and X.shape == (300, 784)
    assert X.min() >= 0 and X.max() <= 1 and set(np.unique(y)) == set(range(10))


def test_read_idx_round_trip(tmp_path):
    images = np.arange(2 * 784, dtype=np.uint8).reshape(2, 28, 28)
    header = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (2, 28, 28))
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(header + images.tobytes()))
    np.testing.assert_array_equal(bench._read_idx(path), images)


def test_real_mnist_when_present():
    root = bench.DATA_ROOT
    if not (root / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip("shared/data/mnist is absent")
    X, y, source = bench.load_data(10000)
    assert "MNIST" in source and X.shape == (10000, 784) and X.dtype == np.float32
    assert y[:5].tolist() == [7, 2, 1, 0, 4]                   # the test set's first digits


def test_bad_names_are_input_errors():
    with pytest.raises(InputError, match="'N9'"):
        bench.run_benchmarks(["N9"])
    with pytest.raises(InputError, match="'tensorflow'"):
        bench.run_benchmarks(["N1"], peers=["tensorflow"])


def test_table_shows_measured_ratios_and_goals():
    results = {
        "meta": {"n": 10, "data": "random", "dtype": "float32", "threads": 2, "repeats": 1,
                 "accuracy_on": "the training digits", "blas": []},
        "workloads": [{
            "name": "N1", "description": "d",
            "systems": {"chainrule": {"median": 0.1, "accuracy": 0.9},
                        "pytorch": {"median": 0.4, "accuracy": 0.91, "counts": False},
                        "jax-jit": {"median": 0.2, "accuracy": 0.9, "compile_s": 0.3},
                        "floor": {"median": 0.05, "accuracy": None}},
            "ratios": {"pytorch": 0.25, "floor": 2.0},
            "goals": [{"peer": "pytorch", "goal": 0.25, "ratio": 0.25, "met": True}]}]}
    table = bench.format_table(results)
    pytorch_row = next(line for line in table.splitlines() if "pytorch" in line)
    assert "0.400" in pytorch_row and "0.25" in pytorch_row and "met" in pytorch_row
    assert "does not count" in pytorch_row
    assert "compile 0.30 s" in next(line for line in table.splitlines() if "jax-jit" in line)
    assert "2.00" in next(line for line in table.splitlines() if "floor" in line)


def test_run_benchmarks_end_to_end_tiny():
    results = bench.run_benchmarks(["N1"], peers=["numpy", "floor"], repeats=2, n=60, pause=0)
    (w,) = results["workloads"]
    assert set(w["systems"]) == {"chainrule", "numpy", "floor"}
    for system, r in w["systems"].items():
        assert len(r["times"]) == 2 and r["median"] == pytest.approx(np.median(r["times"]))
        if system != "chainrule":
            assert w["ratios"][system] == pytest.approx(
                w["systems"]["chainrule"]["median"] / r["median"])
    assert 0 <= w["systems"]["chainrule"]["accuracy"] <= 1


def test_runner_pools_runs_and_redoes_ratios(tmp_path):
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import run

    def one(cr_times, torch_times):
        return {"meta": {"repeats": len(cr_times)}, "workloads": [{
            "name": "N1", "ratios": {}, "goals": [],
            "systems": {"chainrule": {"times": cr_times}, "pytorch": {"times": torch_times}}}]}

    paths = []
    for i, (a, b) in enumerate([([1.0, 3.0], [8.0, 8.0]), ([2.0], [10.0])]):
        paths.append(tmp_path / f"r{i}.json")
        paths[-1].write_text(json.dumps(one(a, b)))
    merged = run.combine(paths)
    (w,) = merged["workloads"]
    assert w["systems"]["chainrule"]["median"] == 2.0          # median of 1, 3, 2
    assert w["systems"]["pytorch"]["median"] == 8.0            # median of 8, 8, 10
    assert w["ratios"] == {"pytorch": 0.25}
    assert w["goals"] == [{"peer": "pytorch", "goal": 0.25, "ratio": 0.25, "counts": True,
                           "met": True}]
    assert merged["meta"]["repeats"] == 3
