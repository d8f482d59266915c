"""``chainrule reproduce`` run as a user runs it, on a small mnist.pkl.gz in the book's layout."""

from __future__ import annotations

import json
import re

import pytest

from tests.cli.conftest import assert_one_line_error, run_cli

EPOCH_LINE = re.compile(r"^Epoch (\d+): (\d+) / (\d+)$", re.M)


@pytest.fixture(scope="module")
def ch1_text(small_data_dir, tmp_path_factory):
    """The whole of nielsen-ch1 (30 epochs) on the small file, as text and as JSON."""
    cwd = tmp_path_factory.mktemp("cwd")
    text = run_cli("reproduce", "nielsen-ch1", "--data-dir", small_data_dir, "--seed", "7",
                   cwd=cwd)
    doc = run_cli("reproduce", "nielsen-ch1", "--data-dir", small_data_dir, "--seed", "7",
                  "--json", cwd=cwd)
    return text, doc


def test_one_line_per_epoch_as_network_py_printed_them(ch1_text):
    text, _ = ch1_text
    assert text.returncode == 0, text.stderr
    lines = EPOCH_LINE.findall(text.stdout)
    assert [int(epoch) for epoch, _, _ in lines] == list(range(30))
    assert {total for _, _, total in lines} == {"150"}
    assert ">>> net.SGD(training_data, 30, 10, 3.0, test_data=test_data)" in text.stdout
    assert "the book:  95.42 % at its peak (Epoch 28)" in text.stdout
    assert "best-of-three runs" in text.stdout
    assert re.search(r"^chainrule: [\d.]+ % at its peak \(Epoch \d+\), [\d.]+ points from the "
                     r"book; seed 7$", text.stdout, re.M)
    assert re.search(r"^time: +[\d.]+ s for 30 epochs", text.stdout, re.M)
    assert text.stderr == ""


def test_the_json_document_matches_the_printed_run(ch1_text):
    text, done = ch1_text
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)                     # stdout is the document and nothing else
    assert set(doc) == {"name", "book", "measured", "settings", "seconds"}
    assert doc["name"] == "nielsen-ch1"
    assert doc["book"]["figure"] == 95.42 and "95.42 percent at its peak" in doc["book"]["quote"]
    assert doc["book"]["settings"] == [{"sizes": [784, 30, 10], "activation": "sigmoid",
                                        "cost": "quadratic", "init": "normal", "lr": 3.0,
                                        "l2": 0.0, "epochs": 30, "batch_size": 10,
                                        "evaluation": "test"}]
    printed = [int(correct) for _, correct, _ in EPOCH_LINE.findall(text.stdout)]
    scores = doc["measured"]["scores"]
    assert [s["correct"] for s in scores] == printed       # the same seed, the same run
    assert doc["measured"]["best"]["correct"] == max(printed)
    assert doc["measured"]["last"]["correct"] == printed[-1]
    assert scores[-1]["percent"] == round(100 * printed[-1] / 150, 2)
    assert printed[-1] > 100                        # it learned the ten prototypes
    assert doc["settings"]["seed"] == 7 and doc["settings"]["training_digits"] == 400
    assert doc["seconds"] > 0


def test_epochs_seed_and_plot(small_data_dir, tmp_path):
    plot = tmp_path / "curves.png"
    done = run_cli("reproduce", "nielsen-ch3-init", "--data-dir", small_data_dir, "--epochs",
                   "2", "--seed", "1", "--plot", plot, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(EPOCH_LINE.findall(done.stdout)) == 4              # two runs, two epochs each
    assert {t for _, _, t in EPOCH_LINE.findall(done.stdout)} == {"120"}   # validation digits
    assert "this rerun stops after 2" in done.stdout
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert f"learning curves: {plot}" in done.stdout


@pytest.mark.parametrize("argv, named", [
    (["nielsen-ch9"], ["unknown experiment 'nielsen-ch9'", "nielsen-ch1", "ex4"]),
    (["nielsen-ch1", "--seed", "-1"], ["--seed", "integer >= 0"]),
    (["nielsen-ch1", "--epochs", "0"], ["--epochs", ">= 1"]),
    (["nielsen-ch1", "--plot", "curves.gif", "--data-dir", "DATA"],
     ["curves.gif", ".png, .svg or .pdf"]),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, argv, named, small_data_dir):
    argv = [str(small_data_dir) if a == "DATA" else a for a in argv]
    assert_one_line_error(run_cli("reproduce", *argv, cwd=tmp_path), 2, *named)


def test_ex4_without_its_files_names_them_and_where_they_come_from(tmp_path):
    done = run_cli("reproduce", "ex4", "--data-dir", tmp_path, cwd=tmp_path)
    line = assert_one_line_error(done, 2, "ex4data1.mat", "ex4weights.mat", "Coursera",
                                 "programming exercise 4", str(tmp_path))
    assert line.startswith("chainrule: error: ex4 needs")
    assert done.stdout == ""


def test_a_data_dir_without_the_books_files(tmp_path):
    assert_one_line_error(run_cli("reproduce", "nielsen-ch1", "--data-dir", tmp_path,
                                  cwd=tmp_path), 2, "mnist.pkl.gz", "IDX", str(tmp_path))


def test_a_hostile_pickle_in_the_data_dir_runs_nothing(tmp_path):
    import gzip
    import pickle

    from tests.data.test_nielsen import RunsACommand

    marker = tmp_path / "it-ran"
    (tmp_path / "mnist.pkl.gz").write_bytes(gzip.compress(pickle.dumps(RunsACommand(marker))))
    done = run_cli("reproduce", "nielsen-ch1", "--data-dir", tmp_path, cwd=tmp_path)
    assert_one_line_error(done, 2, "refused to load", "system")
    assert not marker.exists()


def test_ex4_with_its_files_in_the_layout_of_ex4(tmp_path):
    from tests.books.test_ex4 import fake_ex4_dir

    fake_ex4_dir(tmp_path)
    done = run_cli("reproduce", "ex4", "--data-dir", tmp_path, "--epochs", "3", "--json",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["name"] == "ex4" and doc["book"]["figure"] == 95.3
    assert [s["epoch"] for s in doc["measured"]["scores"]] == [1, 2, 3]
    checks = {c["name"]: c for c in doc["measured"]["checks"]}
    assert checks["gradient check, λ = 0"]["measured"] < 1e-9
    assert checks["cost at λ = 0"]["book"] == 0.287629


def test_the_books_files_as_train_data(small_data_dir, tmp_path):
    """``--data mnist.pkl.gz`` trains on Nielsen's training digits and tests on his test ones;
    ``--data ex4data1.mat`` reads ex4's layout."""
    from tests.books.test_ex4 import fake_ex4_dir

    done = run_cli("train", "--data", small_data_dir / "mnist.pkl.gz", "--epochs", "1",
                   "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["sizes"][0] == 784 and summary["sizes"][-1] == 10
    assert summary["history"]["epoch"] == [1]
    fake_ex4_dir(tmp_path)
    done = run_cli("train", "--data", tmp_path / "ex4data1.mat", "--epochs", "1", "--json",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sizes"][0] == 400
