"""``chainrule sweep`` run as a user runs it: exact weights, the table, faults, Ctrl-C, resume."""

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.cli.conftest import assert_one_line_error, run_cli

from .conftest import assert_same_weights

NET = ["--layers", "64,16,10", "--epochs", "3"]


def _rows(done):
    assert done.returncode == 0, done.stderr
    return {json.dumps(r["params"], sort_keys=True): r for r in json.loads(done.stdout)["runs"]}


@pytest.mark.parametrize("backend, workers", [("dask", 2), ("dask", 1), ("local", 2)])
def test_every_run_is_bit_identical_to_chainrule_train(tmp_path, backend, workers, request):
    if backend == "dask":
        request.getfixturevalue("dask_installed")
    trained = run_cli("train", *NET, "--lr", "0.5", "--optimizer", "momentum", "--save",
                      "alone.npz", "--quiet", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    done = run_cli("sweep", *NET, "--optimizer", "momentum", "--grid", "lr=0.5,2",
                   "--backend", backend, "--workers", workers, "--out", "out", "--json",
                   cwd=tmp_path)
    rows = _rows(done)
    assert set(rows) == {'{"lr": 0.5}', '{"lr": 2.0}'}
    assert_same_weights(tmp_path / rows['{"lr": 0.5}']["model"], tmp_path / "alone.npz")
    summary = json.loads(done.stdout)
    assert summary["backend"] == backend and summary["workers"] == workers
    assert summary["startup_seconds"] > 0


def test_the_table_is_best_first_and_a_run_model_evaluates(tmp_path):
    done = run_cli("sweep", "--epochs", "3", "--grid", "lr=0.1,1",
                   "--grid", "layers=64-8-10,64-8-8-10",
                   "--backend", "local", "--workers", "2", "--out", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    header, body, footer = lines[0], lines[1:5], lines[-1]
    assert header.split()[:3] == ["#", "lr", "layers"] and "val acc" in header
    accuracies = [float(line.split()[5].rstrip("%")) for line in body]
    assert accuracies == sorted(accuracies, reverse=True)
    assert {line.split()[2] for line in body} == {"64,8,10", "64,8,8,10"}
    assert footer.startswith("4 runs, 0 failed, 0 done before (skipped) on local with 2 workers")
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    best = saved["runs"][0]
    evaluated = run_cli("evaluate", best["model"], "--json", cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["accuracy"] == best["test_accuracy"]


def test_a_diverging_run_is_a_row_and_the_sweep_goes_on(tmp_path):
    done = run_cli("sweep", "--layers", "64,16,10", "--epochs", "2", "--activation", "relu",
                   "--output", "identity", "--cost", "quadratic", "--grid", "lr=0.01,10",
                   "--backend", "local", "--workers", "2", "--json", cwd=tmp_path)
    rows = _rows(done)
    assert rows['{"lr": 0.01}']["error"] is None
    assert rows['{"lr": 10.0}']["error"].startswith("RunFailed: training diverged at epoch 1")


@pytest.mark.parametrize("argv, named", [
    (["--grid", "lr=abc"], "lr=abc"), (["--grid", "speed=1,2"], "speed"),
    (["--grid", "lr"], "NAME=V1"), ([], "--grid"), (["--grid", "lr=1", "--save", "m.npz"],
                                                      "--save"),
    (["--grid", "optimizer=sgd,fast"], "fast"), (["--grid", "lr=1", "--workers", "0"],
                                                 "--workers"),
    (["--grid", "lr=1", "--plot", "sweep.jpg"], "sweep.jpg"),
])
def test_bad_sweeps_are_one_line_errors(tmp_path, argv, named):
    assert_one_line_error(run_cli("sweep", *argv, cwd=tmp_path), 2, named)


def test_the_plot_shows_validation_accuracy_per_swept_flag(tmp_path):
    pytest.importorskip("matplotlib")
    done = run_cli("sweep", "--layers", "64,8,10", "--epochs", "1", "--grid", "lr=0.5,1",
                   "--backend", "local", "--workers", "1", "--plot", "sweep.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert "plot in sweep.png" in done.stdout


def test_ctrl_c_keeps_what_finished_and_a_rerun_does_the_rest(tmp_path, dask_installed):
    argv = ["sweep", "--layers", "64,32,10", "--epochs", "30", "--grid", "seed=0,1,2,3,4,5",
            "--backend", "dask", "--workers", "1", "--out", "out", "--quiet"]
    process = subprocess.Popen([sys.executable, "-m", "chainrule", *argv], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = tmp_path / "out" / "results.json"
    deadline = time.monotonic() + 120
    while not results.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert results.exists(), process.communicate()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    kept = json.loads(results.read_text())["runs"]
    assert 1 <= len(kept) < 6
    assert err.strip().splitlines()[-1] == (
        f"chainrule: interrupted by SIGINT: {len(kept)} of 6 runs finished; they are kept in "
        "out: the same command runs the rest")
    assert "Traceback" not in err
    assert len(list((tmp_path / "out" / "models").iterdir())) == len(kept)
    again = run_cli(*argv, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"6 runs, 0 failed, {len(kept)} done before (skipped)" in again.stdout
    assert len(json.loads(results.read_text())["runs"]) == 6
