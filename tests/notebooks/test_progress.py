"""Progress bars: tqdm's notebook widget in Jupyter, its text bar without ipywidgets, none when
stderr is not a terminal; cr.plots hands back its Figure."""

import io
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.training import progress

tqdm = pytest.importorskip("tqdm", reason="pip install 'chainrule[test]' (tqdm)")


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_no_bar_when_disabled_short_or_redirected(monkeypatch):
    assert progress.progress_bar(10, "x", enabled=False) is None
    assert progress.progress_bar(1, "x") is None
    monkeypatch.setattr(sys, "stderr", io.StringIO())          # a log file: lines only
    assert progress.progress_bar(10, "x") is None
    assert not progress.in_notebook()                          # pytest is not a kernel


def test_terminal_gets_the_text_bar(monkeypatch):
    monkeypatch.setattr(sys, "stderr", Terminal())
    bar = progress.progress_bar(10, "epoch 1/2")
    assert type(bar) is tqdm.tqdm
    bar.update(10)
    bar.close()
    assert "epoch 1/2" in sys.stderr.getvalue()


def test_notebook_gets_the_widget_and_without_ipywidgets_the_text_bar(monkeypatch):
    pytest.importorskip("ipywidgets", reason="pip install 'chainrule[test]' (ipywidgets)")
    from tqdm.notebook import tqdm as notebook_bar

    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    monkeypatch.setattr(sys, "stderr", io.StringIO())          # a kernel's stderr is no tty
    bar = progress.progress_bar(5, "epoch 1/1")
    assert isinstance(bar, notebook_bar)
    bar.close()
    monkeypatch.setitem(sys.modules, "ipywidgets", None)        # ipywidgets not installed
    bar = progress.progress_bar(5, "epoch 1/1")
    assert type(bar) is tqdm.tqdm
    bar.update(5)
    bar.close()
    assert "epoch 1/1" in sys.stderr.getvalue()


def test_training_with_progress_in_a_notebook_without_ipywidgets(monkeypatch):
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    X, y = cr.data.load_digits("train")
    history = cr.train(cr.nn.Network([64, 5, 10], seed=0), X[:200], y[:200], epochs=2,
                       batch_size=10, progress=True)
    assert len(history) == 2
    assert "epoch 2/2" in sys.stderr.getvalue() and "batch" in sys.stderr.getvalue()


def test_plots_return_their_figure_and_save_only_with_a_path(tmp_path):
    pytest.importorskip("matplotlib", reason="pip install 'chainrule[plots]'")
    from matplotlib.figure import Figure

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 30)
    figures = [cr.plots.learning_curves({"train_cost": [0.9, 0.5], "val_cost": [1.0, 0.7]}),
               cr.plots.confusion_matrix(y, (y + 1) % 3),
               cr.plots.weight_images(rng.normal(size=(4, 9))),
               cr.plots.misclassified(rng.random((30, 4)), y, (y + 1) % 3)]
    assert all(isinstance(f, Figure) for f in figures)
    assert list(tmp_path.iterdir()) == []
    assert figures[1].axes[0].get_title() == "confusion matrix (accuracy 0.00%, 30 examples)"
    saved = cr.plots.confusion_matrix(y, y, tmp_path / "c.svg")
    assert isinstance(saved, Figure) and (tmp_path / "c.svg").read_text().startswith("<?xml")
