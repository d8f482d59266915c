"""cr.sweep on a real LocalCluster and a local process pool: the grid, exact weights, faults."""

import json
import os
import signal
import threading
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule.distributed import runner
from chainrule.distributed.sweep import grid
from chainrule.errors import InputError

from .conftest import assert_same_weights

BASE = {"epochs": 2, "hidden": [12]}


def _in_process(tmp_path, name, **options):
    """The run made here, in this process, with the same options: the reference weights."""
    path = tmp_path / f"{name}.npz"
    row = runner.run_point(runner.train_options(**BASE, **options), keep_model=True)
    path.write_bytes(row["model_bytes"])
    return path


def _by_params(result):
    return {json.dumps(r["params"], sort_keys=True): r for r in result.runs}


def test_the_grid_is_the_product_in_order():
    points = grid({"lr": [0.1, 0.5], "batch-size": [10, 20, 30]})
    assert len(points) == 6
    assert points[:3] == [{"lr": 0.1, "batch_size": b} for b in (10, 20, 30)]


@pytest.mark.parametrize("values, named", [
    ({"learning_rate": [0.1]}, "learning_rate"), ({"lr": []}, "non-empty"),
    ({"lr": 0.5}, "non-empty"), ({}, "at least one"), ({"data_dir": ["a"]}, "data_dir"),
    ({"lr": [0.1], "batch-size": [1], "batch_size": [2]}, "twice"),
])
def test_bad_grids_are_refused(values, named):
    with pytest.raises(InputError, match=named):
        grid(values)


def test_local_pool_runs_are_bit_identical_to_one_process(tmp_path):
    result = cr.sweep({"lr": [0.5, 2.0]}, **BASE, backend="local", workers=2,
                      out=tmp_path / "out", progress=False)
    assert result.backend == "local" and result.workers == 2
    assert [r["error"] for r in result.runs] == [None, None]
    for row in result.runs:
        assert_same_weights(row["model"], _in_process(tmp_path, "ref", lr=row["params"]["lr"]))
    accuracies = [r["val_accuracy"] for r in result.runs]
    assert accuracies == sorted(accuracies, reverse=True)          # best first


@pytest.mark.parametrize("workers", [1, 2])
def test_dask_runs_are_bit_identical_whatever_the_workers(tmp_path, workers, dask_installed):
    result = cr.sweep({"seed": [0, 1], "optimizer": ["momentum", "adam"]}, **BASE,
                      backend="dask", workers=workers, out=tmp_path / "out", progress=False)
    assert result.backend == "dask" and result.workers == workers
    assert result.startup_seconds > 0
    for row in result.runs:
        assert row["error"] is None
        assert_same_weights(row["model"], _in_process(tmp_path, "ref", **row["params"]))


def test_a_scheduler_address_is_used(tmp_path, dask_cluster):
    result = cr.sweep({"l2": [0.0, 3.0]}, **BASE, scheduler=dask_cluster.scheduler_address,
                      out=tmp_path / "out", progress=False)
    assert result.backend == "dask" and result.workers == 2
    for row in result.runs:
        assert_same_weights(row["model"], _in_process(tmp_path, "ref", **row["params"]))


def test_a_diverging_run_reports_its_error_and_the_others_go_on(tmp_path):
    result = cr.sweep({"lr": [0.01, 10.0, 0.02]}, epochs=2, hidden=[16], activation="relu",
                      output="identity", cost="quadratic", backend="local", workers=2,
                      out=tmp_path / "out", progress=False)
    rows = _by_params(result)
    assert "training diverged" in rows['{"lr": 10.0}']["error"]
    assert rows['{"lr": 10.0}']["test_accuracy"] is None
    assert rows['{"lr": 0.01}']["error"] is None and rows['{"lr": 0.02}']["error"] is None
    assert result.runs[-1]["params"] == {"lr": 10.0}                # failures last
    assert "training diverged" in result.table().splitlines()[-1]
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert len(saved["runs"]) == 3


def test_a_rerun_with_the_same_out_skips_the_runs_done(tmp_path):
    out = tmp_path / "out"
    first = cr.sweep({"lr": [0.5, 1.0]}, **BASE, backend="local", workers=1, out=out,
                     progress=False)
    stamps = {p: p.stat().st_mtime_ns for p in (out / "models").iterdir()}
    again = cr.sweep({"lr": [0.5, 1.0, 2.0]}, **BASE, backend="local", workers=1, out=out,
                     progress=False)
    assert first.skipped == 0 and again.skipped == 2 and len(again.runs) == 3
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps     # not written again
    assert len(list((out / "models").iterdir())) == 3
    assert _by_params(again)['{"lr": 0.5}']["val_accuracy"] == \
        _by_params(first)['{"lr": 0.5}']["val_accuracy"]
    # other options are other runs: nothing is skipped
    other = cr.sweep({"lr": [0.5]}, epochs=3, hidden=[12], backend="local", workers=1, out=out,
                     progress=False)
    assert other.skipped == 0


def test_a_worker_killed_mid_run_is_retried_and_the_result_is_exact(tmp_path, dask_cluster):
    from distributed import Client

    options = {"epochs": 300, "hidden": [64]}           # a few seconds a run
    killed = {}

    def kill_a_busy_worker():
        with Client(dask_cluster.scheduler_address, timeout="20s") as client:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                busy = [w for w, tasks in client.processing().items() if tasks]
                if busy:
                    time.sleep(0.5)                    # mid-run, not before it started
                    pids = client.run(os.getpid, workers=busy[:1])
                    os.kill(next(iter(pids.values())), signal.SIGKILL)
                    killed["at"] = time.monotonic()
                    return
                time.sleep(0.05)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    result = cr.sweep({"seed": [3]}, **options, scheduler=dask_cluster.scheduler_address,
                      out=tmp_path / "out", progress=False)
    ended = time.monotonic()
    killer.join()
    assert killed, "no worker was seen running the task"
    (row,) = result.runs
    assert row["error"] is None
    assert ended - row["seconds"] > killed["at"]       # the run that counted began after the kill
    path = tmp_path / "ref.npz"
    reference = runner.run_point(runner.train_options(**options, seed=3), keep_model=True)
    path.write_bytes(reference["model_bytes"])
    assert_same_weights(row["model"], path)
    assert row["val_accuracy"] == reference["val_accuracy"]


def test_the_sweep_plot_has_a_panel_per_swept_option(tmp_path):
    pytest.importorskip("matplotlib")
    result = cr.sweep({"lr": [0.5, 1.0], "activation": ["sigmoid", "tanh"]}, epochs=1,
                      hidden=[8], backend="local", workers=2, progress=False)
    figure = result.plot(tmp_path / "sweep.png")
    assert [ax.get_xlabel() for ax in figure.axes] == ["lr", "activation"]
    assert (tmp_path / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert sum(len(ax.collections[0].get_offsets()) for ax in figure.axes) == 8
    assert np.isfinite(result.best["val_accuracy"])
