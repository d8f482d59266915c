"""The runner trains as network.py / network2.py do (step for step against the book's update
rule), prints the book's lines, scores what it says, and repeats itself exactly."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.books import curves
from chainrule.books.experiment import Run
from chainrule.books.nielsen import EXPERIMENTS
from chainrule.books.runner import Data, load_data, reproduce_nielsen, train_run
from chainrule.errors import InputError
from tests.books.conftest import learnable_parts

EPOCH_LINE = re.compile(r"^Epoch (\d+): (\d+) / (\d+)$")


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def books_sgd(weights, biases, X, y, run, orders):
    """network.py's and network2.py's SGD, written out from the book: per-example backprop,
    nabla summed over the mini-batch, w -> (1 - ηλ/n) w - η/m Σ nabla_w, b -> b - η/m Σ nabla_b."""
    weights = [w.copy() for w in weights]
    biases = [b.copy() for b in biases]
    n = len(X)
    for order in orders:
        for k in range(0, n, run.batch_size):
            batch = order[k:k + run.batch_size]
            nabla_w = [np.zeros_like(w) for w in weights]
            nabla_b = [np.zeros_like(b) for b in biases]
            for i in batch:
                activations, zs = [X[i].astype(np.float64)], []
                for w, b in zip(weights, biases):
                    zs.append(w @ activations[-1] + b)
                    activations.append(sigmoid(zs[-1]))
                target = np.eye(10)[y[i]]
                delta = activations[-1] - target                      # cross-entropy
                if run.cost == "quadratic":
                    delta = delta * sigmoid(zs[-1]) * (1 - sigmoid(zs[-1]))
                for l in range(len(weights) - 1, -1, -1):
                    nabla_b[l] += delta
                    nabla_w[l] += np.outer(delta, activations[l])
                    if l:
                        delta = (weights[l].T @ delta) * sigmoid(zs[l - 1]) * (
                            1 - sigmoid(zs[l - 1]))
            m = len(batch)
            weights = [(1 - run.lr * run.l2 / n) * w - run.lr / m * nw
                       for w, nw in zip(weights, nabla_w)]
            biases = [b - run.lr / m * nb for b, nb in zip(biases, nabla_b)]
    return weights, biases


def small_data(**sizes):
    training, validation, test = learnable_parts(**sizes)
    return Data(training, validation, test, source="made for the test")


@pytest.mark.parametrize("run", [EXPERIMENTS["nielsen-ch1"].runs[0],
                                 EXPERIMENTS["nielsen-ch3-l2"].runs[0],
                                 EXPERIMENTS["nielsen-ch3-init"].runs[1]],
                         ids=["network.py", "network2.py with L2", "network2.py new init"])
def test_a_run_is_the_books_sgd_step_for_step(run):
    data = small_data(n_train=95, n_val=20, n_test=20)     # the last mini-batch has 5 rows
    seed = 3
    start = cr.nn.Network(list(run.sizes), cost=run.cost, init=run.init, seed=seed,
                          dtype="float64")
    rng = np.random.default_rng(seed)                       # cr.train's shuffling
    orders = [rng.permutation(95) for _ in range(2)]
    expected_w, expected_b = books_sgd(start.weights, start.biases, *data.training, run,
                                       orders)
    _, _, net = train_run(run, data, seed=seed, epochs=2)
    for ours, theirs in zip(net.weights + net.biases, expected_w + expected_b):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11)


def test_the_printed_lines_are_the_books_and_score_what_they_say():
    data = small_data()
    stream = io.StringIO()
    scores, seconds, net = train_run(EXPERIMENTS["nielsen-ch1"].runs[0], data, seed=0,
                                     epochs=3, stream=stream)
    lines = stream.getvalue().splitlines()
    parsed = [EPOCH_LINE.match(line).groups() for line in lines]
    assert [int(p[0]) for p in parsed] == [0, 1, 2]                  # counted from 0
    assert all(int(p[2]) == len(data.test[0]) for p in parsed)
    assert [int(p[1]) for p in parsed] == [s.correct for s in scores.epochs]
    # the last line is the trained network's own count on the test digits
    assert scores.last.correct == int(np.sum(net.predict(data.test[0]) == data.test[1]))
    assert seconds > 0


def test_validation_runs_are_scored_on_the_validation_digits():
    data = small_data()
    run = EXPERIMENTS["nielsen-ch3-l2"].runs[1]
    scores, _, net = train_run(run, data, seed=0, epochs=1)
    assert scores.last.total == len(data.validation[0]) != len(data.test[0])
    assert scores.last.correct == int(np.sum(net.predict(data.validation[0])
                                             == data.validation[1]))


def test_the_same_seed_gives_the_same_run_bit_for_bit_and_another_seed_another():
    data = small_data()
    run = EXPERIMENTS["nielsen-ch3-cross-entropy"].runs[0]
    first, _, net1 = train_run(run, data, seed=5, epochs=3)
    again, _, net2 = train_run(run, data, seed=5, epochs=3)
    other, _, net3 = train_run(run, data, seed=6, epochs=3)
    assert first.epochs == again.epochs
    assert np.array_equal(net1.to_vector(), net2.to_vector())
    assert not np.array_equal(net1.to_vector(), net3.to_vector())


def test_reproduce_prints_the_books_code_and_its_figure_beside_ours():
    data = small_data()
    stream = io.StringIO()
    result = reproduce_nielsen(EXPERIMENTS["nielsen-ch3-l2"], data, seed=1, epochs=2,
                               stream=stream)
    text = stream.getvalue()
    assert ">>> net.SGD(training_data, 30, 10, 0.5, lmbda=5.0," in text
    assert "[30 hidden, test data]" in text and "[100 hidden, validation data]" in text
    assert len([line for line in text.splitlines() if EPOCH_LINE.match(line)]) == 4
    assert "the book:  96.49 % on the test data" in text
    assert "the book:  97.92 % on the validation data, final" in text
    ours = result.runs[1].last.percent
    assert f"chainrule: {ours:.2f} % after the last epoch" in text
    assert "after 2 of the book's 30 epochs" in text
    assert re.search(r"time: +[\d.]+ s for 4 epochs", text)


def test_the_json_document():
    data = small_data()
    result = reproduce_nielsen(EXPERIMENTS["nielsen-ch3-init"], data, seed=2, epochs=2,
                               stream=None)
    doc = result.to_dict()
    assert set(doc) == {"name", "book", "measured", "settings", "seconds"}
    assert doc["name"] == "nielsen-ch3-init"
    assert {"figure", "quote", "settings"} <= set(doc["book"])
    assert doc["book"]["figure"] == 87.0 and "under 87 percent" in doc["book"]["quote"]
    assert [s["init"] for s in doc["book"]["settings"]] == ["normal", "scaled-normal"]
    measured = doc["measured"]
    assert {"scores", "best", "last", "runs"} <= set(measured)
    assert [s["epoch"] for s in measured["scores"]] == [0, 1]
    assert measured["best"]["correct"] == max(s["correct"] for s in measured["scores"])
    assert measured["last"] == measured["scores"][-1]
    assert len(measured["runs"]) == 2 and measured["runs"][1]["label"].startswith("new")
    assert all(s["total"] == 120 for r in measured["runs"] for s in r["scores"])
    assert doc["settings"]["seed"] == 2 and doc["settings"]["dtype"] == "float64"
    assert [r["epochs"] for r in doc["settings"]["runs"]] == [2, 2]
    assert doc["seconds"] > 0


def test_a_stuck_run_is_said_to_be_stuck():
    data = small_data()
    stuck_run = Run("", (784, 30, 10), "quadratic", "normal", 1e-6, epochs=2)  # never learns
    experiment = EXPERIMENTS["nielsen-ch1"]
    patched = type(experiment)(experiment.name, experiment.title, experiment.source,
                               (stuck_run,), experiment.figures, experiment.note)
    stream = io.StringIO()
    result = reproduce_nielsen(patched, data, seed=0, stream=stream)
    assert result.stuck() == [result.runs[0]]
    assert "stuck: this run ended at" in stream.getvalue()
    assert result.to_dict()["measured"]["stuck"] == [""]


def test_a_real_slice_learns_what_the_book_says_it_learns(real_slices):
    """Two epochs of ch. 1 on 3,000 real training digits: well past chance on the test ones."""
    scores, _, _ = train_run(EXPERIMENTS["nielsen-ch1"].runs[0], real_slices, seed=0, epochs=2)
    assert scores.last.percent > 70


def test_load_data_prefers_nielsens_file_and_falls_back_to_the_idx_files(small_data_dir,
                                                                         tmp_path):
    data = load_data(small_data_dir)
    assert "Nielsen's own file" in data.source and len(data.training[0]) == 400
    with pytest.raises(InputError, match="neither Nielsen.s mnist.pkl.gz nor MNIST.s IDX"):
        load_data(tmp_path)                      # neither file there: the IDX files are named
    with pytest.raises(InputError, match="no such directory"):
        load_data(tmp_path / "absent")


def test_load_data_from_the_idx_files(full_mnist):
    data = load_data(full_mnist)
    assert "MNIST's IDX files" in data.source
    assert [len(p[0]) for p in (data.training, data.validation, data.test)] == [50_000, 10_000,
                                                                                10_000]


def test_curves_draw_one_line_per_run_and_the_books_figures(tmp_path):
    data = small_data()
    result = reproduce_nielsen(EXPERIMENTS["nielsen-ch3-init"], data, seed=0, epochs=2,
                               stream=None)
    path = tmp_path / "curves.png"
    figure = curves.draw(result, path)
    assert path.read_bytes()[:4] == b"\x89PNG"
    ax = figure.axes[0]
    labels = [line.get_label() for line in ax.lines]
    assert labels[:2] == ["old: N(0, 1) weights", "new: N(0, 1/n_in) weights"]
    assert labels[2].startswith("the book: old approach: under 87")
    assert list(ax.lines[0].get_ydata()) == [s.percent for s in result.runs[0].epochs]
    assert ax.get_xlabel() == "Epoch" and "validation" in ax.get_title()


def test_books_reproduce_from_python(small_data_dir):
    from chainrule import books

    stream = io.StringIO()
    result = books.reproduce("nielsen-ch3-100", small_data_dir, seed=0, epochs=1, stream=stream)
    assert result.runs[0].last.total == 150 and "Epoch 0: " in stream.getvalue()
    assert books.reproduce("nielsen-ch1", small_data_dir, epochs=1, stream=None).runs[0].epochs
    with pytest.raises(InputError, match="unknown experiment 'ch1'"):
        books.reproduce("ch1")
