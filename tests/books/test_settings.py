"""Each experiment's settings agree with the book's own lines and the figures with its sentences."""

from __future__ import annotations

import re

import pytest

from chainrule import books
from chainrule.books import ex4
from chainrule.books.nielsen import EXPERIMENTS

# what the chapters say in prose, beside the code (Nielsen, ch. 1 and ch. 3)
PROSE = {
    "nielsen-ch1": dict(hidden=[30], cost="quadratic", lr=3.0, l2=0.0),
    "nielsen-ch3-cross-entropy": dict(hidden=[30], cost="cross-entropy", lr=0.5, l2=0.0),
    "nielsen-ch3-100": dict(hidden=[100], cost="cross-entropy", lr=0.5, l2=0.0),
    "nielsen-ch3-l2": dict(hidden=[30, 100], cost="cross-entropy", lr=0.5, l2=5.0),
    "nielsen-ch3-init": dict(hidden=[30, 30], cost="cross-entropy", lr=0.1, l2=5.0),
}
FIGURES = {"nielsen-ch1": [95.42], "nielsen-ch3-cross-entropy": [95.49],
           "nielsen-ch3-100": [96.82], "nielsen-ch3-l2": [96.49, 97.92],
           "nielsen-ch3-init": [87, 93, 96, 96]}


def parse_sgd(code):
    """The arguments of the book's ``net.SGD(...)`` line, read from the quoted code."""
    call = re.search(r"net\.SGD\((.*?)\)\s*$", code.replace("\n... ", " "), re.S).group(1)
    positional = [a.strip() for a in call.split(",") if "=" not in a]
    keywords = dict(re.findall(r"(\w+)\s*=\s*([\w.]+)", call))
    epochs, batch, eta = int(positional[1]), int(positional[2]), float(positional[3])
    return epochs, batch, eta, keywords


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_settings_are_the_books_own_lines(name):
    for run in EXPERIMENTS[name].runs:
        epochs, batch, eta, keywords = parse_sgd(run.code)
        assert (run.epochs, run.batch_size, run.lr) == (epochs, batch, eta)
        assert run.l2 == float(keywords.get("lmbda", 0.0))
        evaluation = keywords.get("evaluation_data", keywords.get("test_data"))
        assert f"{run.evaluation}_data" == evaluation
        hidden = int(re.search(r"Network\(\[784, (\d+), 10\]", run.code).group(1))
        assert list(run.sizes) == [784, hidden, 10]
        network2 = "network2" in run.code
        assert run.cost == ("cross-entropy" if "CrossEntropyCost" in run.code else "quadratic")
        # network.py and large_weight_initializer: N(0, 1); network2's default: 1/√n_in
        large = not network2 or "large_weight_initializer()" in run.code
        assert run.init == ("normal" if large else "scaled-normal")


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_settings_are_what_the_prose_says(name):
    prose, runs = PROSE[name], EXPERIMENTS[name].runs
    assert [r.sizes[1] for r in runs] == prose["hidden"]
    for run in runs:
        assert (run.cost, run.lr, run.l2, run.epochs, run.batch_size) == (
            prose["cost"], prose["lr"], prose["l2"], 30, 10)


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_each_figure_is_in_the_sentence_it_quotes(name):
    experiment = EXPERIMENTS[name]
    assert [f.percent for f in experiment.figures] == FIGURES[name]
    labels = {r.label for r in experiment.runs}
    for figure in experiment.figures:
        number = f"{figure.percent:g}"
        assert re.search(rf"\b{re.escape(number)} percent", figure.quote), (number, figure.quote)
        assert figure.run in labels and figure.where.startswith("Nielsen, ch.")
        assert figure.measure in ("best", "last", "first")


def test_the_figures_measure_what_the_sentences_say():
    ch1 = EXPERIMENTS["nielsen-ch1"].figures[0]
    assert "at its peak" in ch1.quote and ch1.measure == "best"
    final = EXPERIMENTS["nielsen-ch3-l2"].figures[1]
    assert final.quote.startswith("The final result") and final.measure == "last"
    init = EXPERIMENTS["nielsen-ch3-init"].figures
    assert [(f.measure, f.relation) for f in init] == [("first", "<"), ("first", "~"),
                                                       ("last", ">"), ("last", ">")]
    assert "under 87 percent" in init[0].quote and "almost 93" in init[1].quote
    assert "somewhat over 96" in init[2].quote


def test_the_names_on_the_command_line():
    assert books.NAMES == ("nielsen-ch1", "nielsen-ch3-cross-entropy", "nielsen-ch3-100",
                           "nielsen-ch3-l2", "nielsen-ch3-init", "ex4")


def test_ex4_settings_and_quote():
    assert ex4.SETTINGS["sizes"] == [400, 25, 10] and ex4.SETTINGS["iterations"] == 50
    assert ex4.SETTINGS["l2"] == 1.0
    assert "about 95.3%" in ex4.ACCURACY_QUOTE and "vary by about 1%" in ex4.ACCURACY_QUOTE
