"""Pictures of training (matplotlib, an optional extra: ``pip install 'chainrule[plots]'``).

- :func:`learning_curves`: cost and accuracy per epoch, training vs validation;
- :func:`confusion_matrix`: counts of (true class, predicted class);
- :func:`weight_images`: each hidden unit's incoming weights as a square image, in a grid
  (Coursera ex4's ``displayData``: the features a hidden unit has learned to look for);
- :func:`misclassified`: the examples the network got wrong, titled "true → predicted";
- :func:`book_curves`: accuracy per epoch of a book's runs with its figures marked, as
  Nielsen's ch. 3 graphs draw them (``chainrule reproduce --plot``).

Figures have a fixed size in pixels (``figsize × dpi``; no tight bounding box) and are
drawn with matplotlib's object API on the Agg canvas (no pyplot state, no display needed).
Every function returns its :class:`matplotlib.figure.Figure` (a notebook shows it), and with
a ``path`` also writes it there atomically, in the format the name ends with: ``.png``,
``.svg`` or ``.pdf``.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "curves.png"
>>> figure = learning_curves({"train_cost": [0.9, 0.5, 0.4], "val_cost": [1.0, 0.6, 0.5]}, path)
>>> path.read_bytes()[:4] == b"\\x89PNG", [ax.get_ylabel() for ax in figure.axes]
(True, ['cost'])
>>> confusion_matrix([0, 1, 1], [0, 1, 0]).axes[0].get_title()   # no path: just the Figure
'confusion matrix (accuracy 66.67%, 3 examples)'
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from chainrule.errors import InputError, RunFailed, quoted
from chainrule.fsutil import atomic_write

DPI = 100
SIZES = {"learning_curves": (10, 4), "confusion_matrix": (6, 6), "weight_images": (6, 6),
         "misclassified": (8, 8), "book_curves": (8, 5),
         "sweep_accuracy": (10, 4)}  # inches; pixels = inches × DPI


def require_matplotlib():
    """Import matplotlib's Figure and Agg canvas, or say how to install it (RunFailed)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise RunFailed("plots need matplotlib: pip install 'chainrule[plots]'") from None
    return Figure, FigureCanvasAgg


def _figure(kind):
    Figure, FigureCanvasAgg = require_matplotlib()
    figure = Figure(figsize=SIZES[kind], dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _finish(figure, path):
    """The figure, written to ``path`` first when one is given."""
    if path is not None:
        _save(figure, path)
    return figure


def check_path(path):
    """The format of a plot file's name (png, svg, pdf), or an InputError: its name or folder
    is wrong (checked before the work that makes the plot)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg", "pdf"):
        raise InputError(f"plot file {path}: the name must end in .png, .svg or .pdf")
    if not path.parent.is_dir():
        raise InputError(f"plot file {path}: directory {path.parent} does not exist")
    return fmt


def _save(figure, path):
    fmt = check_path(path)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=DPI)
    with atomic_write(path, "wb") as f:
        f.write(buffer.getvalue())


def _history_series(history):
    """(epochs, {name: per-epoch list}) from a dict of lists, per-epoch dicts or .to_dict()."""
    if hasattr(history, "to_dict"):
        history = history.to_dict()
    if isinstance(history, dict):
        records = [v for v in history.values() if isinstance(v, list) and v
                   and all(isinstance(r, dict) for r in v)]
        if records:
            history = records[0]
    if isinstance(history, list):
        keys = {k for r in history if isinstance(r, dict) for k in r}
        history = {k: [r.get(k) for r in history] for k in keys}
    if not isinstance(history, dict):
        raise InputError(f"learning curves need a history dict, got {type(history).__name__}")
    series, epochs = {}, history.get("epoch")
    for key, values in history.items():
        if key.lower() in ("epoch", "epochs", "time", "seconds") or not isinstance(values, list):
            continue
        numbers = [v if isinstance(v, int | float) and not isinstance(v, bool) else None
                   for v in values]
        if any(v is not None for v in numbers):
            series[key] = [math.nan if v is None else float(v) for v in numbers]
    length = max((len(v) for v in series.values()), default=0)
    if not (isinstance(epochs, list) and len(epochs) == length
            and all(isinstance(e, int | float) and not isinstance(e, bool) for e in epochs)):
        epochs = list(range(1, length + 1))
    return epochs, series


# a History's costs: the training objective (C_0 + λ's term) and the validation data cost C_0
_CURVE_LABELS = {"train_cost": "train objective (C₀ + λ term)", "val_cost": "val cost C₀"}


def learning_curves(history, path=None, title="learning curves", xlabel="epoch"):
    """Cost and accuracy (in percent) per epoch, training (solid) vs validation (dashed), as in
    Nielsen ch. 3, on whole-number ticks (``xlabel="iteration"`` for CG and L-BFGS).

    ``history``: per-epoch lists keyed by names containing "cost"/"loss" or "acc", with
    "val" in the validation ones (e.g. ``train_cost``, ``val_accuracy``), or a list of
    per-epoch dicts with such keys, or a History (``.to_dict()``). ``title``: say which
    model on which data (``chainrule train --plot`` does).

    >>> figure = learning_curves({"train_accuracy": [0.5, 0.75]})
    >>> figure.axes[0].get_ylabel(), figure.axes[0].lines[0].get_ydata().tolist()
    ('accuracy (%)', [50.0, 75.0])
    """
    from matplotlib.ticker import MaxNLocator

    epochs, series = _history_series(history)
    panels = {"cost": {k: v for k, v in series.items() if "cost" in k or "loss" in k},
              "accuracy": {k: v for k, v in series.items() if "acc" in k}}
    panels = {name: curves for name, curves in panels.items() if curves}
    if not panels:
        raise InputError(f"learning curves: no per-epoch cost or accuracy in the history "
                         f"(keys: {', '.join(series) or 'none'})")
    figure = _figure("learning_curves")
    for i, (name, curves) in enumerate(panels.items()):
        ax = figure.add_subplot(1, len(panels), i + 1)
        percent = 100.0 if name == "accuracy" else 1.0   # as the command line prints it
        for key, values in sorted(curves.items()):
            validation = "val" in key.lower() or "test" in key.lower()
            ax.plot(epochs[:len(values)], [v * percent for v in values],
                    "--" if validation else "-", marker="o", markersize=3,
                    label=_CURVE_LABELS.get(key, key.replace("_", " ")))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(xlabel)
        ax.set_ylabel("accuracy (%)" if name == "accuracy" else name)
        ax.grid(alpha=0.3)
        ax.legend()
    figure.suptitle(title)
    return _finish(figure, path)


def confusion_matrix(y_true, y_pred, path=None, n_classes=None):
    """Counts of (true class, predicted class), rows true and columns predicted, on a log
    colour scale so that the few errors off the diagonal show beside the many right answers;
    empty cells stay white, every cell is labelled with its count (up to 20 classes)."""
    from matplotlib.colors import LogNorm

    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise InputError(f"confusion matrix: {y_true.size} true labels but {y_pred.size} "
                         "predictions")
    found = int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    if n_classes is not None:
        if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer) \
                or n_classes < 1:
            raise InputError(f"n_classes: expected an integer >= 1, got {quoted(n_classes)}")
        if found > n_classes:
            which = "y_true" if y_true.max(initial=0) + 1 == found else "y_pred"
            raise InputError(f"confusion matrix: n_classes={n_classes} (labels 0.."
                             f"{n_classes - 1}) but {which} has label {found - 1}")
    k = n_classes or found
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    figure = _figure("confusion_matrix")
    ax = figure.add_subplot(1, 1, 1)
    top = max(int(counts.max()), 2)
    ax.imshow(np.ma.masked_equal(counts, 0), cmap="Blues", norm=LogNorm(vmin=1, vmax=top))
    if k <= 20:
        for (i, j), c in np.ndenumerate(counts):
            dark = c > 0 and math.log(c) > math.log(top) / 2    # past the middle of the scale
            ax.text(j, i, str(c), ha="center", va="center", fontsize=8 if k > 10 else 10,
                    color="white" if dark else "black")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"confusion matrix (accuracy {accuracy:.2%}, {counts.sum()} examples)")
    return _finish(figure, path)


def _labels(y, what):
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0 or y.dtype.kind not in "iu" or (y < 0).any():
        raise InputError(f"{what}: expected a non-empty 1-d array of class labels >= 0")
    return y.astype(np.int64)


def _image_shape(features, shape):
    if shape is not None:
        if int(np.prod(shape)) != features:
            raise InputError(f"image shape {tuple(shape)} does not hold {features} features")
        return tuple(shape)
    side = math.isqrt(features)
    if side * side != features:
        raise InputError(f"{features} features are not a square image; give shape=(h, w)")
    return side, side


def _mosaic(rows, shape, pad=1):
    """Images (one per row, each scaled to [-1, 1] by its largest |value|) tiled in a grid."""
    n = len(rows)
    cols = math.ceil(math.sqrt(n))
    grid_rows = math.ceil(n / cols)
    h, w = shape
    mosaic = -np.ones((pad + grid_rows * (h + pad), pad + cols * (w + pad)))
    for i, row in enumerate(rows):
        r, c = divmod(i, cols)
        scale = np.abs(row).max() or 1.0
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        mosaic[top:top + h, left:left + w] = (row / scale).reshape(h, w)
    return mosaic


def weight_images(W, path=None, shape=None):
    """Each row of ``W`` (a hidden unit's weights from the inputs) as an image, ex4 style."""
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.size == 0 or not np.isfinite(W).all():
        raise InputError(f"weight images need a finite 2-d matrix (hidden units × inputs), "
                         f"got shape {W.shape}")
    figure = _figure("weight_images")
    ax = figure.add_subplot(1, 1, 1)
    ax.imshow(_mosaic(W, _image_shape(W.shape[1], shape)), cmap="gray", vmin=-1, vmax=1)
    ax.set_axis_off()
    ax.set_title(f"weights of {W.shape[0]} hidden units")
    return _finish(figure, path)


def misclassified(X, y_true, y_pred, path=None, shape=None, limit=36):
    """The first ``limit`` examples with ``y_pred != y_true``, each titled "true → predicted"."""
    X = np.asarray(X, dtype=np.float64)
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if X.ndim != 2 or not (len(X) == len(y_true) == len(y_pred)):
        raise InputError(f"misclassified: X {X.shape}, {len(y_true)} labels and {len(y_pred)} "
                         "predictions must have one row each")
    wrong = np.flatnonzero(y_true != y_pred)
    figure = _figure("misclassified")
    shown = wrong[:limit]
    first = f"first {len(shown)} of " if len(shown) < len(wrong) else ""
    figure.suptitle(f"{first}{len(wrong)} misclassified of {len(X)} examples "
                    "(true → predicted)")
    if len(wrong) == 0:
        figure.text(0.5, 0.5, "no misclassified examples", ha="center", va="center")
    image_shape = _image_shape(X.shape[1], shape)
    cols = max(math.ceil(math.sqrt(len(shown))), 4)  # a few examples stay small
    for i, index in enumerate(shown):
        ax = figure.add_subplot(math.ceil(len(shown) / cols), cols, i + 1)
        ax.imshow(X[index].reshape(image_shape), cmap="gray_r")
        ax.set_title(f"{y_true[index]} → {y_pred[index]}", fontsize=9)
        ax.set_axis_off()
    return _finish(figure, path)


def book_curves(curves, path=None, title="Classification accuracy", marks=(),
                xlabel="Epoch", ylabel="Accuracy (%)"):
    """One line per run, ``curves = {label: (epochs, percents)}``, as Nielsen's ch. 3 graphs
    draw a run's accuracy epoch by epoch; ``marks``: ``(text, percent)`` pairs, the book's
    figures, drawn as dotted levels.

    >>> figure = book_curves({"run": ([0, 1, 2], [91.3, 93.0, 93.5])}, marks=[("book", 95.4)])
    >>> [line.get_label() for line in figure.axes[0].lines]
    ['run', 'book']
    """
    if not curves or any(len(e) != len(v) or not len(v) for e, v in curves.values()):
        raise InputError("book curves: expected {label: (epochs, percents)} of equal, "
                         "non-zero lengths")
    figure = _figure("book_curves")
    ax = figure.add_subplot(1, 1, 1)
    for label, (epochs, percents) in curves.items():
        ax.plot(epochs, percents, marker="o", markersize=3, label=label or "chainrule")
    for text, percent in marks:
        ax.axhline(percent, linestyle=":", color="#555555", label=text)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return _finish(figure, path)


def sweep_accuracy(rows, names, path=None):
    """A sweep's validation accuracy (the test accuracy without a validation set) against
    each swept option, one panel per option; failed runs are left out.

    >>> rows = [{"params": {"lr": 0.1}, "val_accuracy": 0.8}, {"params": {"lr": 0.5},
    ...          "val_accuracy": 0.9}, {"params": {"lr": 9.0}, "error": "diverged"}]
    >>> sweep_accuracy(rows, ["lr"]).axes[0].get_xlabel()
    'lr'
    """
    figure = _figure("sweep_accuracy")
    ok = [r for r in rows if not r.get("error")]
    metric = "val_accuracy" if any(r.get("val_accuracy") is not None for r in ok) \
        else "test_accuracy"
    for i, name in enumerate(names):
        ax = figure.add_subplot(1, len(names), i + 1)
        values = [r["params"].get(name) for r in ok if r.get(metric) is not None]
        scores = [100 * r[metric] for r in ok if r.get(metric) is not None]
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        if numeric:
            ax.scatter(values, scores)
            if values and min(values) > 0 and max(values) / min(values) >= 100:
                ax.set_xscale("log")
        else:
            labels = list(dict.fromkeys(str(v) for v in values))
            ax.scatter([labels.index(str(v)) for v in values], scores)
            ax.set_xticks(range(len(labels)), labels)
        ax.set_xlabel(name)
        if i == 0:
            ax.set_ylabel(metric.replace("_", " ") + " (%)")
        ax.grid(alpha=0.3)
    figure.suptitle(f"sweep: {metric.replace('_', ' ')} of {len(ok)} runs")
    return _finish(figure, path)
