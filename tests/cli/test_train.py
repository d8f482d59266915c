"""``chainrule train`` as a user runs it: it says what it did, and only that."""

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import chainrule as cr
from tests.cli.conftest import assert_one_line_error, run_cli, weights_of


@pytest.fixture
def big(cli):
    """The digits three times over: epochs long enough to be interrupted in (a run of 5,000
    takes about a minute, so it is always interrupted before its end)."""
    X, y = cr.data.load_digits()
    np.savez(cli.path / "big.npz", X=np.repeat(X, 3, axis=0), y=np.repeat(y, 3))
    return "big.npz"


def interrupt(cli, stop, *argv, wait_for=None):
    """Start ``chainrule train ARGV``, send ``stop`` once ``wait_for`` exists (or after a
    second), and return (exit code, stderr)."""
    process = subprocess.Popen([sys.executable, "-m", "chainrule", "train", *argv],
                               cwd=cli.path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 120
    if wait_for is None:
        time.sleep(3)
    while wait_for is not None and not (cli.path / wait_for).exists() \
            and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(stop)
    _, err = process.communicate(timeout=120)
    return process.returncode, err


LINE = re.compile(r"chainrule: interrupted by (SIG\w+) with (\d+) of 5000 epochs done; epoch "
                  r"(\d+) is saved in m\.npz; continue with: (.*)")


@pytest.mark.parametrize(("stop", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_names_the_epoch_on_disk_and_resumes_exactly(cli, big, stop, code):
    argv = ["--data", big, "--hidden", "30", "--batch-size", "5", "--epochs", "5000",
            "--save", "m.npz", "--quiet"]
    returncode, err = interrupt(cli, stop, *argv, wait_for="m.npz")
    assert returncode == code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    found = LINE.fullmatch(lines[0])
    assert found, lines[0]
    assert found.group(1) == stop.name
    saved = int(found.group(3))
    assert saved == cr.training.load_checkpoint(cli.path / "m.npz")[1].epoch
    assert int(found.group(2)) in (saved, saved + 1)
    command = shlex.split(found.group(4))
    assert command == ["chainrule", "train", "--resume", "m.npz", "--epochs", "5000",
                       "--save", "m.npz", "--quiet"]
    # the printed command continues the run exactly: to 2 epochs more, it equals a run of
    # as many epochs uninterrupted
    command[command.index("--epochs") + 1] = str(saved + 2)
    assert run_cli(*command[1:], cwd=cli.path).returncode == 0
    whole = [*argv[:argv.index("--epochs")], "--epochs", str(saved + 2), "--save", "whole.npz"]
    assert cli("train", *whole).returncode == 0
    resumed, uninterrupted = weights_of(cli.path / "m.npz"), weights_of(cli.path / "whole.npz")
    assert all(np.array_equal(resumed[k], uninterrupted[k]) for k in uninterrupted)


def test_an_interrupted_run_without_save_says_nothing_was_saved(cli, big):
    returncode, err = interrupt(cli, signal.SIGTERM, "--data", big, "--epochs", "5000",
                                "--quiet")
    assert returncode == 143, err
    line = err.strip()
    assert re.fullmatch(r"chainrule: interrupted by SIGTERM with \d+ of 5000 epochs done; "
                        r"nothing was saved \(give --save M\.npz to keep each epoch and "
                        r"resume\)", line), line


def test_early_stopping_says_when_why_and_which_weights_it_kept(cli):
    argv = ["--hidden", "30", "--patience", "2", "--epochs", "60", "--save", "m.npz"]
    report = cli.json("train", *argv)
    history, stop = report["history"], report["early_stopping"]
    # worked from the history: the first epoch of the best validation accuracy, then
    # `patience` epochs without a better one
    best = int(np.argmax(history["val_accuracy"])) + 1
    assert stop == {"monitor": "val_accuracy", "patience": 2, "stopped_epoch": best + 2,
                    "best_epoch": best, "best": history["val_accuracy"][best - 1],
                    "restored_epoch": best}
    assert report["epochs"] == best + 2 < 60
    assert report["val_accuracy"] == pytest.approx(history["val_accuracy"][best - 1])
    evaluated = json.loads(cli("evaluate", "m.npz", "--json").stdout)
    assert evaluated["accuracy"] == report["test_accuracy"]    # the file holds those weights
    text = cli("train", *argv).stdout.splitlines()
    assert text[-2] == (f"early stopping at epoch {best + 2} of 60: validation accuracy had not "
                        f"improved for 2 epochs; the weights of epoch {best} (validation "
                        f"accuracy {stop['best']:.2%}, the best) are restored")


@pytest.fixture
def huge(cli):
    """Inputs of 1e30: a ReLU network's quadratic cost overflows at the first line search."""
    rng = np.random.default_rng(0)
    rows = np.c_[rng.normal(size=(60, 3)) * 1e30, rng.integers(0, 3, 60)]
    np.savetxt(cli.path / "huge.csv", rows, delimiter=",")
    return ["--data", "huge.csv", "--activation", "relu", "--output", "identity", "--cost",
            "quadratic", "--optimizer", "lbfgs", "--epochs", "5"]


def test_a_minimiser_that_fails_before_its_first_iteration_is_an_error(cli, huge):
    done = cli("train", *huge, "--save", "m.npz", "--json")
    assert_one_line_error(done, 1, "LBFGS failed before its first iteration",
                          "nothing was trained or saved")
    assert done.stdout == "" and not (cli.path / "m.npz").exists()


def test_a_minimiser_that_ends_early_says_so(cli):
    """λ = 50 on a small network: L-BFGS converges long before 400 iterations; resumed from
    the converged weights, it stops before its first iteration, and says that instead."""
    argv = ["--optimizer", "lbfgs", "--hidden", "5", "--l2", "50", "--epochs", "400",
            "--validation", "0"]
    report = cli.json("train", *argv)
    assert report["epochs"] < 400 and report["minimizer"].startswith("CONVERGENCE")
    text = cli("train", *argv, "--quiet", "--save", "m.npz").stdout.splitlines()
    assert text[0] == (f"lbfgs stopped at iteration {report['epochs']} of 400: SciPy says "
                       f"{report['minimizer']!r}")
    again = cli.json("train", "--resume", "m.npz", "--epochs", "500", "--save", "m.npz")
    if again["epochs_run"] == 0:    # the saved float32 weights still meet SciPy's tolerance
        assert again["saved"] is None and again["minimizer"].startswith("CONVERGENCE")
        line = cli("train", "--resume", "m.npz", "--epochs", "500").stdout.splitlines()[-2]
        assert line == (f"nothing trained: lbfgs stopped before its first iteration: SciPy "
                        f"says {again['minimizer']!r}; the scores are m.npz's model's")
    else:                           # or they moved a little: then it trained and saved
        assert again["saved"] == "m.npz" and again["epochs"] > report["epochs"]


def test_validation_and_test_costs_are_the_data_cost(cli):
    """With λ > 0 the per-epoch validation cost is C_0, as the test cost: the last epoch's
    equals the final weights' validation cost, and the text labels the training objective."""
    argv = ["--hidden", "30", "--l2", "5", "--epochs", "2"]
    report = cli.json("train", *argv)
    assert report["history"]["val_cost"][-1] == pytest.approx(report["val_cost"], rel=1e-5)
    assert report["objective"] > report["train_cost"]      # λ's term
    last = cli("train", *argv).stdout.splitlines()[-2]
    found = re.match(r"epoch 2/2  objective ([\d.]+)  accuracy [\d.]+%  val cost ([\d.]+)  "
                     r"val accuracy [\d.]+%", last)
    assert found, last
    assert float(found.group(2)) == pytest.approx(report["val_cost"], abs=5e-5)


def test_layers_is_the_full_list_and_hidden_the_hidden_sizes(cli):
    assert cli.json("train", "--layers", "64,20,10", "--epochs", "1")["sizes"] == [64, 20, 10]
    assert cli.json("train", "--hidden", "30,10", "--epochs", "1")["sizes"] == [64, 30, 10, 10]
    assert_one_line_error(cli("train", "--layers", "10,5,3", "--epochs", "1"), 2,
                          "64 features", "10 classes")
    assert_one_line_error(cli("train", "--layers", "64,5,10", "--hidden", "5"), 2, "hidden")


@pytest.fixture
def saved(cli):
    assert cli("train", "--layers", "64,20,10", "--epochs", "2", "--save", "m.npz",
               "--quiet").returncode == 0
    return cli.path / "m.npz"


@pytest.mark.parametrize(("flag", "value", "named"), [
    ("--lr", "0.1", ["with lr 0.5", "not lr 0.1"]),
    ("--layers", "64,30,10", ["with layers 64,20,10", "not layers 64,30,10"]),
    ("--hidden", "30", ["with layers 64,20,10", "not layers 64,30,10"]),
    ("--cost", "quadratic", ["with cost log-likelihood", "not cost quadratic"]),
    ("--optimizer", "adam", ["with optimizer sgd", "not optimizer adam"]),
])
def test_resume_refuses_a_flag_that_differs_from_the_saved_run(cli, saved, flag, value, named):
    before = saved.read_bytes()
    done = cli("train", "--resume", "m.npz", "--epochs", "3", "--save", "m.npz", flag, value)
    assert_one_line_error(done, 2, "m.npz", *named)
    assert saved.read_bytes() == before
    same = cli.json("train", "--resume", "m.npz", "--epochs", "3", "--lr", "0.5")
    assert same["epochs"] == 3 and same["lr"] == 0.5         # the same value is no conflict


@pytest.mark.parametrize(("argv", "named"), [
    (["--momentum", "0.8"], "momentum: only optimizer momentum uses it"),
    (["--optimizer", "adam", "--momentum", "0.8"], "the optimizer is adam"),
    (["--optimizer", "lbfgs", "--lr", "0.1"], "lr: optimizer lbfgs has no learning rate"),
    (["--optimizer", "cg", "--batch-size", "20"], "batch-size: optimizer cg has no mini-batches"),
])
def test_a_flag_the_run_would_ignore_is_refused(cli, argv, named):
    assert_one_line_error(cli("train", *argv, "--save", "m.npz"), 2, named)
    assert not (cli.path / "m.npz").exists()


def test_saved_only_when_written(cli, saved):
    done = cli("train", "--resume", "m.npz", "--epochs", "2", "--save", "new.npz")
    assert done.returncode == 0, done.stderr
    assert "saved" not in done.stdout and not (cli.path / "new.npz").exists()
    assert done.stdout.splitlines()[-2] == ("nothing to train: m.npz already holds 2 epochs "
                                            "(--epochs 2 is the total); the scores are its "
                                            "model's")
    report = cli.json("train", "--resume", "m.npz", "--epochs", "2", "--save", "new.npz")
    assert report["saved"] is None and report["epochs_run"] == 0
    assert not (cli.path / "new.npz").exists()
    report = cli.json("train", "--resume", "m.npz", "--epochs", "3", "--save", "new.npz")
    assert report["saved"] == "new.npz" and report["epochs_run"] == 1
    assert cr.training.load_checkpoint(cli.path / "new.npz")[1].epoch == 3


def test_a_resumed_minimiser_runs_to_the_new_epochs(cli):
    assert cli("train", "--optimizer", "cg", "--hidden", "10", "--epochs", "3", "--save",
               "m.npz", "--quiet").returncode == 0
    report = cli.json("train", "--resume", "m.npz", "--epochs", "5", "--save", "m.npz")
    assert (report["epochs"], report["epochs_run"], report["saved"]) == (5, 2, "m.npz")
    assert cr.training.load_checkpoint(cli.path / "m.npz")[1].epoch == 5


@pytest.mark.parametrize(("plot", "named"), [
    ("c.jpg", "c.jpg"), ("missing/c.png", "folder missing does not exist")])
def test_a_bad_plot_is_refused_before_any_data_is_read(cli, plot, named):
    # the data file does not exist: the plot is named first, so it was checked before
    done = cli("train", "--data", "nowhere.csv", "--plot", plot, "--save", "m.npz")
    line = assert_one_line_error(done, 2, named)
    assert "nowhere.csv" not in line and not (cli.path / "m.npz").exists()


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_a_save_the_file_system_refuses_is_refused_before_any_data_is_read(cli):
    # /proc takes no new files, even from root (for whom os.access says yes): the file system
    # is asked, by making and removing the temporary file the save would make
    done = cli("train", "--data", "nowhere.csv", "--save", "/proc/m.npz")
    line = assert_one_line_error(done, 2, "--save", "cannot write /proc/m.npz")
    assert "nowhere.csv" not in line


def test_json_gives_every_option_and_the_set_sizes(cli):
    report = cli.json("train", "--optimizer", "momentum", "--lr", "0.2", "--momentum", "0.8",
                      "--batch-size", "20", "--l2", "0.5", "--seed", "3", "--init", "uniform",
                      "--activation", "tanh", "--validation", "0.2", "--patience", "4",
                      "--dtype", "float64", "--hidden", "12", "--epochs", "1")
    given = {"optimizer": "momentum", "lr": 0.2, "momentum": 0.8, "batch_size": 20, "l2": 0.5,
             "seed": 3, "init": "uniform", "activation": "tanh", "output": "softmax",
             "cost": "log-likelihood", "validation": 0.2, "patience": 4, "dtype": "float64",
             "sizes": [64, 12, 10], "data": "digits"}
    assert {key: report[key] for key in given} == given
    X, _ = cr.data.load_digits()
    sets = report["examples"]
    assert sets["train"] + sets["validation"] + sets["test"] == len(X)
    assert sets["test"] == 359 and sets["validation"] == round(0.2 * (len(X) - 359))


@pytest.mark.parametrize("shards", [[], ["--shards", "2"]])
def test_the_weights_do_not_depend_on_threads(cli, shards):
    """A network whose products are cut into pieces (784 inputs, 200 hidden units, batch 250):
    OpenBLAS alone rounds them differently on one thread than on two; the saved files are the
    same bytes whatever --threads says."""
    rng = np.random.default_rng(0)
    np.savez(cli.path / "wide.npz", X=rng.random((500, 784), dtype=np.float32),
             y=rng.integers(0, 10, 500))
    saved = []
    for threads in ("1", "2"):
        done = cli("train", "--data", "wide.npz", "--layers", "784,200,10", "--epochs", "2",
                   "--batch-size", "250", "--optimizer", "momentum", "--lr", "0.05",
                   "--dtype", "float32", "--threads", threads, *shards,
                   "--save", f"t{threads}.npz", "--quiet")
        assert done.returncode == 0, done.stderr
        saved.append(weights_of(cli.path / f"t{threads}.npz"))
    assert sorted(saved[0]) == sorted(saved[1])
    for name in saved[0]:
        assert saved[0][name].tobytes() == saved[1][name].tobytes(), name
