"""Every subcommand run as a user runs it: ``python -m chainrule ...`` in a fresh process."""

import json

import numpy as np
import pytest

import chainrule as cr
from tests.cli.conftest import assert_one_line_error, weights_of


def test_train_main_job_reports_epochs_and_test_accuracy(cli):
    done = cli("train", "--epochs", "3")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("chainrule: digits: 1294 training, 144 validation, 359 test")
    assert [line.split()[1] for line in lines[1:4]] == ["1/3", "2/3", "3/3"]
    assert lines[-1].startswith("test accuracy ")
    accuracy = float(lines[-1].split()[2].rstrip("%"))
    assert accuracy > 85


def test_train_json_summary_agrees_with_evaluate(cli):
    summary = cli.json("train", "--epochs", "5", "--save", "m.npz")
    assert summary["sizes"] == [64, 100, 10] and summary["epochs"] == 5
    assert len(summary["history"]["val_accuracy"]) == 5
    assert summary["test_accuracy"] > 0.9
    report = cli.json("evaluate", "m.npz")
    assert report["data"] == "digits" and report["split"] == "test"
    assert report["accuracy"] == pytest.approx(summary["test_accuracy"])
    confusion = np.array(report["confusion"])
    assert confusion.sum() == 359
    assert np.trace(confusion) / 359 == pytest.approx(report["accuracy"])
    recalls = [row["recall"] for row in report["per_class"]]
    assert recalls == pytest.approx(list(np.diag(confusion) / confusion.sum(axis=1)))


def test_evaluate_text_shows_the_confusion_matrix(cli):
    assert cli("train", "--epochs", "2", "--save", "m.npz", "--quiet").returncode == 0
    done = cli("evaluate", "m.npz")
    assert done.returncode == 0, done.stderr
    assert "confusion matrix" in done.stdout and "precision" in done.stdout


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_resume_two_plus_two_epochs_equals_four_bit_for_bit(cli, optimizer):
    flags = ["--optimizer", optimizer, "--quiet", "--seed", "3"]
    assert cli("train", "--epochs", "4", "--save", "full.npz", *flags).returncode == 0
    assert cli("train", "--epochs", "2", "--save", "half.npz", *flags).returncode == 0
    done = cli("train", "--epochs", "4", "--resume", "half.npz", "--save", "half.npz", *flags)
    assert done.returncode == 0, done.stderr
    full, resumed = weights_of(cli.path / "full.npz"), weights_of(cli.path / "half.npz")
    assert full.keys() == resumed.keys()
    for key in full:
        assert np.array_equal(full[key], resumed[key]), key


def test_same_seed_same_weights_different_seed_different_weights(cli):
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        assert cli("train", "--epochs", "2", "--seed", seed, "--save", f"{name}.npz",
                   "--quiet").returncode == 0
    a, b, c = (weights_of(cli.path / f"{n}.npz") for n in "abc")
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not all(np.array_equal(a[k], c[k]) for k in a)


def test_train_on_a_csv_file_with_hidden_sizes_only(cli):
    X, y = cr.data.load_digits()
    np.savetxt(cli.path / "digits.csv", np.column_stack([X, y]), delimiter=",", fmt="%.6g")
    summary = cli.json("train", "--data", "digits.csv", "--hidden", "30", "--epochs", "5")
    assert summary["sizes"] == [64, 30, 10]
    assert summary["test_accuracy"] > 0.85


@pytest.mark.parametrize("optimizer", ["cg", "lbfgs"])
def test_scipy_optimizers_from_the_command_line(cli, optimizer):
    summary = cli.json("train", "--optimizer", optimizer, "--epochs", "40", "--hidden", "25",
                       "--l2", "1")
    assert summary["test_accuracy"] > 0.85
    assert len(summary["history"]["train_cost"]) >= 2
    costs = summary["history"]["train_cost"]
    assert costs[-1] < costs[0]


def test_predict_rows_match_the_library(cli):
    assert cli("train", "--epochs", "3", "--save", "m.npz", "--quiet").returncode == 0
    X, _ = cr.data.load_digits(split="test")
    np.savetxt(cli.path / "rows.csv", X[:7], delimiter=",")
    np.save(cli.path / "rows.npy", X[:7])
    expected = cr.nn.load(cli.path / "m.npz").predict(X[:7]).tolist()
    for name in ("rows.csv", "rows.npy"):
        done = cli("predict", "m.npz", name, "--json")
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["predictions"] == expected
        assert np.allclose(np.sum(result["probabilities"], axis=1), 1, atol=1e-5)
        assert result["output"] == "softmax"
        assert np.allclose(result["outputs"], result["probabilities"])
    text = cli("predict", "m.npz", "rows.csv").stdout.splitlines()
    assert [int(line.split()[3]) for line in text] == expected


def test_predict_names_independent_sigmoid_outputs_for_what_they_are(cli):
    assert cli("train", "--epochs", "2", "--cost", "cross-entropy", "--save", "m.npz",
               "--quiet").returncode == 0
    X, _ = cr.data.load_digits(split="test")
    np.save(cli.path / "rows.npy", X[:9])
    net = cr.nn.load(cli.path / "m.npz")
    assert net.output == "sigmoid" and net.sizes[-1] == 10
    result = cli.json("predict", "m.npz", "rows.npy")
    assert "probabilities" not in result and result["output"] == "sigmoid"
    outputs = np.array(result["outputs"])
    np.testing.assert_allclose(outputs, net.forward(X[:9]), rtol=1e-6)
    assert ((outputs >= 0) & (outputs <= 1)).all()
    assert result["predictions"] == net.predict(X[:9]).tolist()
    text = cli("predict", "m.npz", "rows.npy").stdout.splitlines()
    assert len(text) == 9
    for line, label, row in zip(text, result["predictions"], outputs):
        assert line.startswith("row ") and f"class {label} (output {row[label]:.3f}" in line
        assert "not probabilities" in line and "p =" not in line


def test_predict_refuses_rows_of_the_wrong_width(cli):
    assert cli("train", "--epochs", "1", "--save", "m.npz", "--quiet").returncode == 0
    np.savetxt(cli.path / "rows.csv", np.zeros((2, 5)), delimiter=",")
    assert_one_line_error(cli("predict", "m.npz", "rows.csv"), 2, "rows.csv", "m.npz",
                          "5 values", "64 inputs")


def test_gradcheck_passes_for_the_ex4_network_and_a_saved_model(cli):
    done = cli("gradcheck")
    assert done.returncode == 0, done.stdout + done.stderr
    report = cli.json("gradcheck", "--cost", "quadratic", "--layers", "4,6,2")
    assert report["ok"] is True
    assert cli("train", "--epochs", "1", "--save", "m.npz", "--quiet").returncode == 0
    assert cli("gradcheck", "m.npz", "--examples", "3").returncode == 0


MAZUR = {"layers": [2, 2, 2], "activation": "sigmoid", "cost": "quadratic",
         "weights": [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
         "biases": [[0.35, 0.35], [0.60, 0.60]]}


def test_explain_reproduces_the_published_worked_example(cli):
    (cli.path / "net.json").write_text(json.dumps(MAZUR))
    done = cli("explain", "--net", "net.json", "--input", "0.05,0.10", "--target", "0.01,0.99",
               "--lr", "0.5", "--format", "json")
    assert done.returncode == 0, done.stderr
    ledger = json.loads(done.stdout)
    assert ledger["cost"] == pytest.approx(0.298371109, abs=1e-9)
    assert ledger["layers"][1]["new_weights"][0][0] == pytest.approx(0.35891648, abs=1e-8)
    assert ledger["layers"][0]["new_weights"][0][0] == pytest.approx(0.149780716, abs=1e-9)
    text = cli("explain", "--net", "net.json", "--input", "0.05,0.10", "--target", "0.01,0.99")
    assert "BP1" in text.stdout and "BP2" in text.stdout


def test_graph_of_the_seeds_expression(cli):
    done = cli("graph", "(a+b)*(b+1)", "--at", "a=2,b=1", "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["value"] == 6
    assert result["gradients"] == {"a": 2, "b": 5}
    dot = cli("graph", "(a+b)*(b+1)", "--at", "a=2,b=1", "--format", "dot").stdout
    assert dot.lstrip().startswith("digraph")


def test_train_plot_writes_a_png(cli):
    assert cli("train", "--epochs", "2", "--plot", "curves.png", "--quiet").returncode == 0
    assert (cli.path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_predict_a_png_of_a_digit(cli):
    from PIL import Image

    assert cli("train", "--epochs", "20", "--save", "m.npz", "--quiet").returncode == 0
    X, y = cr.data.load_digits(split="test")
    names = []
    for i in range(30):  # a dark digit on white paper, scaled up, as a phone photo would be
        paper = (255 - X[i].reshape(8, 8) * 255).astype(np.uint8)
        Image.fromarray(paper).resize((64, 64), Image.NEAREST).save(cli.path / f"d{i}.png")
        names.append(f"d{i}.png")
    predicted = [json.loads(cli("predict", "m.npz", name, "--json").stdout)["predictions"][0]
                 for name in names[:3]]
    net = cr.nn.load(cli.path / "m.npz")
    images = np.vstack([cr.data.load_image(cli.path / n, n_inputs=64) for n in names])
    assert predicted == net.predict(images[:3]).tolist()
    assert np.mean(net.predict(images) == y[:30]) >= 0.8


def test_gradcheck_exits_1_when_the_differences_exceed_the_tolerance(cli):
    done = cli("gradcheck", "--tolerance", "1e-14")
    assert done.returncode == 1
    assert "FAILED" in done.stdout
    report = cli.json("gradcheck", "--order", "4", "--eps", "1e-3")
    assert report["ok"] is True and report["worst"] < 1e-9  # ex4's criterion


def test_evaluate_draws_confusion_weights_and_errors(cli):
    assert cli("train", "--epochs", "2", "--save", "m.npz", "--quiet").returncode == 0
    done = cli("evaluate", "m.npz", "--plot", "c.png", "--plot-weights", "w.png",
               "--plot-errors", "e.png")
    assert done.returncode == 0, done.stderr
    for name in ("c.png", "w.png", "e.png"):
        assert (cli.path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_every_row_of_a_csv_with_split_all(cli):
    X, y = cr.data.load_digits()
    np.savetxt(cli.path / "d.csv", np.column_stack([X, y]), delimiter=",", fmt="%.6g")
    assert cli("train", "--data", "d.csv", "--epochs", "2", "--save", "m.npz",
               "--quiet").returncode == 0
    every = cli.json("evaluate", "m.npz", "--split", "all")
    held_out = cli.json("evaluate", "m.npz")
    assert every["data"] == "d.csv"
    assert np.sum(every["confusion"]) == len(y) == 1797
    assert np.sum(held_out["confusion"]) == 359  # the stratified 20% held out


def _labelled_csv(path, n_classes, rows=60):
    rng = np.random.default_rng(n_classes)
    y = np.arange(rows) % n_classes                  # every class in every split
    np.savetxt(path, np.column_stack([rng.normal(size=(rows, 2)), y]), delimiter=",",
               fmt="%.6g")


def test_evaluate_on_more_classes_than_the_model_has_outputs(cli):
    for k in (3, 5):
        _labelled_csv(cli.path / f"k{k}.csv", k)
    assert cli("train", "--data", "k3.csv", "--hidden", "4", "--epochs", "1", "--save",
               "m.npz", "--quiet").returncode == 0
    assert cr.nn.load(cli.path / "m.npz").sizes[-1] == 3
    for split in ("test", "all"):
        line = assert_one_line_error(cli("evaluate", "m.npz", "--data", "k5.csv", "--split",
                                         split), 2, "m.npz", "3 outputs", "k5.csv")
        assert "classes 0..2" in line and "at least 5 classes" in line, line
        assert "internal error" not in line
    cr.nn.save(cr.nn.Network([2, 3, 1], seed=0), cli.path / "one.npz")   # one sigmoid unit
    assert_one_line_error(cli("evaluate", "one.npz", "--data", "k3.csv"), 2, "one.npz",
                          "1 output", "classes 0..1", "at least 3 classes")
    assert cli("evaluate", "m.npz", "--data", "k3.csv").returncode == 0   # as many: fine
