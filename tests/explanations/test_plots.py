"""Plots are valid PNGs of the promised pixel size, written atomically, with clear refusals."""

import struct
import sys
import zlib

import numpy as np
import pytest

from chainrule.errors import InputError, RunFailed
from chainrule.explanations import plots

pytest.importorskip("matplotlib")


def png_size(path):
    """(width, height) from a PNG's IHDR chunk, after checking the signature and chunk CRC."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    body, crc = data[16:29], struct.unpack(">I", data[29:33])[0]
    assert zlib.crc32(b"IHDR" + body) == crc
    assert data[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82"
    return struct.unpack(">II", body[:8])


def expected(kind):
    w, h = plots.SIZES[kind]
    return round(w * plots.DPI), round(h * plots.DPI)


def _no_temp_files(directory):
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")] == []


HISTORY = {"train_cost": [1.2, 0.8, 0.5], "val_cost": [1.3, 0.9, 0.6],
           "train_accuracy": [0.6, 0.8, 0.9], "val_accuracy": [0.55, 0.75, 0.85]}


@pytest.mark.parametrize("history", [
    HISTORY,
    [dict(zip(HISTORY, values)) for values in zip(*HISTORY.values())],  # per-epoch records
    {"epochs": [{"epoch": 1, "cost": 1.0}, {"epoch": 2, "cost": 0.5}]},
    {"epoch": [3, 4], "train_cost": [0.5, 0.4], "train_accuracy": [0.8, 0.9],  # History.to_dict
     "val_cost": [None, None], "val_accuracy": [None, None], "lr": [0.5, 0.5], "time": [0.1, 0.1]},
])
def test_learning_curves(tmp_path, history):
    path = tmp_path / "curves.png"
    plots.learning_curves(history, path)
    assert png_size(path) == expected("learning_curves")
    assert _no_temp_files(tmp_path)


def test_confusion_matrix(tmp_path):
    y = np.array([0, 1, 2, 2, 1, 0, 9])
    plots.confusion_matrix(y, np.array([0, 2, 2, 2, 1, 0, 3]), tmp_path / "c.png")
    assert png_size(tmp_path / "c.png") == expected("confusion_matrix")


@pytest.mark.parametrize("y_true,y_pred,n_classes,message", [
    ([0, 1, 4], [0, 1, 1], 3, "n_classes=3 \\(labels 0..2\\) but y_true has label 4"),
    ([0, 1, 1], [0, 5, 1], 3, "n_classes=3 .* but y_pred has label 5"),
    ([0, 1], [0, 1], 0, "n_classes: expected an integer >= 1, got 0"),
    ([0, 1], [0, 1], 2.5, "n_classes: expected an integer >= 1, got 2.5"),
])
def test_confusion_matrix_refuses_labels_beyond_n_classes(tmp_path, y_true, y_pred, n_classes,
                                                          message):
    with pytest.raises(InputError, match=message):
        plots.confusion_matrix(np.array(y_true), np.array(y_pred), tmp_path / "c.png",
                               n_classes=n_classes)
    assert not (tmp_path / "c.png").exists()


def test_weight_images_and_misclassified(tmp_path):
    rng = np.random.default_rng(0)
    plots.weight_images(rng.normal(size=(25, 64)), tmp_path / "w.png")
    assert png_size(tmp_path / "w.png") == expected("weight_images")
    X = rng.random((30, 12))
    y = rng.integers(0, 3, 30)
    plots.misclassified(X, y, (y + 1) % 3, tmp_path / "m.png", shape=(3, 4))
    assert png_size(tmp_path / "m.png") == expected("misclassified")
    plots.misclassified(X, y, y, tmp_path / "none.png", shape=(4, 3))  # nothing wrong: a note
    assert png_size(tmp_path / "none.png") == expected("misclassified")


def test_mosaic_is_ex4_display_data():
    # two 2x2 images scaled by their largest |w|, padded with -1 (black) between them
    mosaic = plots._mosaic(np.array([[1.0, -2.0, 0.0, 2.0], [3.0, 0.0, 0.0, 0.0]]), (2, 2))
    assert mosaic.shape == (1 + 2 + 1, 1 + 2 * (2 + 1))
    np.testing.assert_array_equal(mosaic[1:3, 1:3], [[0.5, -1.0], [0.0, 1.0]])
    np.testing.assert_array_equal(mosaic[1:3, 4:6], [[1.0, 0.0], [0.0, 0.0]])
    assert (mosaic[0] == -1).all() and (mosaic[:, 3] == -1).all()


def test_svg_by_file_name(tmp_path):
    plots.confusion_matrix([0, 1], [1, 1], tmp_path / "c.svg")
    assert b"<svg" in (tmp_path / "c.svg").read_bytes()[:2000]


@pytest.mark.parametrize("call, message", [
    (lambda p: plots.learning_curves({"epoch": [1, 2]}, p), "no per-epoch cost or accuracy"),
    (lambda p: plots.learning_curves(HISTORY, p.with_suffix(".gif")), "must end in .png"),
    (lambda p: plots.learning_curves(HISTORY, p.parent / "no" / "c.png"), "does not exist"),
    (lambda p: plots.confusion_matrix([0, 1], [0], p), "2 true labels but 1 predictions"),
    (lambda p: plots.confusion_matrix([0.5, 1], [0, 1], p), "class labels"),
    (lambda p: plots.weight_images(np.ones((3, 10)), p), "10 features are not a square image"),
    (lambda p: plots.weight_images(np.ones(9), p), "2-d matrix"),
    (lambda p: plots.misclassified(np.ones((2, 4)), [0, 1], [1], p), "one row each"),
])
def test_bad_input_is_refused(tmp_path, call, message):
    with pytest.raises(InputError, match=message):
        call(tmp_path / "plot.png")
    assert list(tmp_path.iterdir()) == []


def test_missing_matplotlib_is_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import now fails
    with pytest.raises(RunFailed, match=r"plots need matplotlib: pip install 'chainrule\[plots\]'"):
        plots.learning_curves(HISTORY, tmp_path / "c.png")


def test_importing_plots_does_not_import_matplotlib():
    import subprocess
    code = "import chainrule.explanations.plots, sys; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_history_series_reads_training_history_fields():
    epochs, series = plots._history_series(
        {"epoch": [3, 4], "train_cost": [0.5, 0.4], "val_cost": [None, 0.6],
         "val_accuracy": [None, None], "lr": [0.5, 0.5], "time": [0.1, 0.1]})
    assert epochs == [3, 4]
    assert set(series) == {"train_cost", "val_cost", "lr"}  # lr is kept but drawn in no panel
    assert np.isnan(series["val_cost"][0]) and series["val_cost"][1] == 0.6


def test_learning_curves_show_percent_on_whole_epochs():
    figure = plots.learning_curves(HISTORY, title="digits: network [64, 30, 10]")
    cost, accuracy = figure.axes
    assert figure._suptitle.get_text() == "digits: network [64, 30, 10]"
    assert accuracy.get_ylabel() == "accuracy (%)"
    by_label = {line.get_label(): line.get_ydata().tolist() for line in accuracy.lines}
    assert by_label["train accuracy"] == pytest.approx([60.0, 80.0, 90.0])  # as the CLI prints
    figure.canvas.draw()
    for ax in (cost, accuracy):
        ticks = ax.get_xticks()
        assert all(float(t).is_integer() for t in ticks)        # no epoch 1.5
        assert ax.get_xlabel() == "epoch"
    assert plots.learning_curves(HISTORY, xlabel="iteration").axes[0].get_xlabel() == "iteration"


def test_learning_curves_say_which_cost_is_which():
    """A History's train_cost is the objective (C_0 + λ's term), its val_cost the data cost."""
    cost = plots.learning_curves(HISTORY).axes[0]
    by_label = {line.get_label(): line.get_ydata().tolist() for line in cost.lines}
    assert by_label == {"train objective (C₀ + λ term)": HISTORY["train_cost"],
                        "val cost C₀": HISTORY["val_cost"]}


def test_the_confusion_matrix_shows_the_few_errors_off_the_diagonal():
    from matplotlib.colors import LogNorm

    y_true = np.array([0] * 500 + [1] * 500 + [0])
    y_pred = np.array([0] * 500 + [1] * 500 + [1])      # one error among a thousand
    ax = plots.confusion_matrix(y_true, y_pred).axes[0]
    image = ax.images[0]
    assert isinstance(image.norm, LogNorm)
    cmap, norm = image.get_cmap(), image.norm
    # on a linear scale a count of 1 is as pale as 0; here it is a fifth of the way up
    assert norm(1) == 0 and norm(500) == 1 and cmap(norm(1)) != cmap(norm(500))
    assert np.ma.is_masked(image.get_array()[1, 0])       # the empty cell stays blank
    assert sorted(t.get_text() for t in ax.texts) == ["0", "1", "500", "500"]


def test_the_misclassified_grid_says_how_many_it_shows():
    X = np.zeros((300, 4))
    y_true, y_pred = np.zeros(300, dtype=int), np.r_[np.ones(239, dtype=int), np.zeros(61, int)]
    figure = plots.misclassified(X, y_true, y_pred)
    assert figure._suptitle.get_text().startswith("first 36 of 239 misclassified of 300")
    assert len(figure.axes) == 36
    few = plots.misclassified(X[:5], y_true[:5], y_pred[:5])
    assert few._suptitle.get_text().startswith("5 misclassified of 5")


def test_train_plot_names_the_model_and_data(tmp_path, monkeypatch):
    from chainrule.cli import main

    seen = {}
    real = plots.learning_curves

    def spy(history, path=None, **kw):
        seen.update(kw)
        return real(history, path, **kw)

    monkeypatch.setattr(plots, "learning_curves", spy)
    assert main(["train", "--epochs", "1", "--quiet", "--plot", str(tmp_path / "c.png")]) == 0
    assert seen["title"].startswith("digits: network [64, 100, 10]")
    assert "log-likelihood" in seen["title"] and seen["xlabel"] == "epoch"
