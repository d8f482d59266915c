"""A sweep's results: rows best first, the table, the JSON document, the ``--out`` folder.

The folder holds ``results.json`` (the same document ``--json`` prints, each row with the full
options it ran) and one model file per finished run in ``models/``, each written atomically
as soon as its run ends. A rerun with the same folder reads ``results.json`` and skips every
run whose options are already there, so an interrupted sweep continues where it stopped.

>>> rows = [{"params": {"lr": 0.1}, "val_accuracy": 0.8, "error": None},
...         {"params": {"lr": 9.0}, "val_accuracy": None, "error": "RunFailed: diverged"},
...         {"params": {"lr": 0.5}, "val_accuracy": 0.9, "error": None}]
>>> [row["params"]["lr"] for row in best_first(rows)]
[0.5, 0.1, 9.0]
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from chainrule.errors import InputError
from chainrule.fsutil import atomic_write
from chainrule.reading import read_json

__all__ = ["RESULTS", "Store", "best_first", "document", "run_id", "table"]

RESULTS = "results.json"
SCORES = ("train_accuracy", "train_cost", "val_accuracy", "val_cost", "test_accuracy",
          "test_cost")


def _key(row):
    """Best first: validation accuracy (the test set is for reporting, not choosing), then
    the test accuracy when there is no validation set; failed runs last."""
    if row.get("error"):
        return (2, 0.0, 0.0)
    val, test = row.get("val_accuracy"), row.get("test_accuracy")
    if val is not None:
        return (0, -val, -(test or 0.0))
    return (1, -(test or 0.0), 0.0)


def best_first(rows):
    """The rows sorted best first (stable: equal rows keep the grid's order)."""
    return sorted(rows, key=_key)


def canonical(options) -> str:
    """The options as one JSON text, keys sorted: the identity of a run."""
    return json.dumps(options, sort_keys=True, separators=(",", ":"))


def run_id(params, options) -> str:
    """A file name for a run: its swept values, readable, and a hash of all its options.

    >>> run_id({"lr": 0.5, "hidden": [30, 10]}, {"lr": 0.5})
    'lr=0.5_hidden=30-10-...'
    """
    def text(value):
        if isinstance(value, list | tuple):
            return "-".join(text(v) for v in value)
        return str(value)

    readable = "_".join(f"{k}={text(v)}" for k, v in params.items())
    readable = re.sub(r"[^A-Za-z0-9=._-]+", "-", readable)[:80] or "run"
    return f"{readable}-{hashlib.sha256(canonical(options).encode()).hexdigest()[:10]}"


def public_row(row):
    """A row as ``--json`` and ``results.json`` show it (no bytes)."""
    return {k: v for k, v in row.items() if k != "model_bytes"}


def document(rows, **extra) -> dict:
    """``{"runs": [...best first], **extra}``."""
    return {"runs": [public_row(r) for r in best_first(rows)], **extra}


def _cell(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def table(rows, names=None) -> str:
    """One line per run, best first: its swept values, its scores, epochs, seconds, error.

    >>> print(table([{"params": {"lr": 0.5}, "train_accuracy": 0.9, "train_cost": 0.3,
    ...               "val_accuracy": 0.8, "val_cost": 0.5, "test_accuracy": 0.75,
    ...               "test_cost": 0.6, "epochs": 3, "seconds": 1.25, "error": None}]))
    #  lr   train acc  train cost  val acc  val cost  test acc  test cost  epochs  seconds
    1  0.5  90.00%     0.3         80.00%   0.5       75.00%    0.6        3       1.2
    """
    rows = best_first(rows)
    if names is None:
        names = list(dict.fromkeys(k for r in rows for k in r.get("params", {})))
    head = ["#", *names, "train acc", "train cost", "val acc", "val cost", "test acc",
            "test cost", "epochs", "seconds"]
    errors = any(r.get("error") for r in rows)
    if errors:
        head.append("error")
    body = []
    for i, row in enumerate(rows, start=1):
        cells = [str(i), *(_cell(row.get("params", {}).get(n)) for n in names)]
        for score in SCORES:
            value = row.get(score)
            cells.append("-" if value is None else
                         f"{value:.2%}" if score.endswith("accuracy") else f"{value:.4g}")
        cells += [_cell(row.get("epochs")),
                  "-" if row.get("seconds") is None else f"{row['seconds']:.1f}"]
        if errors:
            cells.append(row.get("error") or "")
        body.append(cells)
    widths = [max(len(line[c]) for line in [head, *body]) for c in range(len(head))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip()
                     for line in [head, *body])


class Store:
    """The ``--out`` folder: finished runs by their options, kept as they finish."""

    def __init__(self, folder):
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(f"--out {folder}: exists and is not a folder")
        if not self.folder.parent.is_dir():
            raise InputError(f"--out {folder}: its parent folder does not exist")
        self.rows = {}
        path = self.folder / RESULTS
        if path.is_file():
            try:
                saved = read_json(path)
                runs = saved["runs"]
                self.rows = {canonical(r["options"]): r for r in runs}
            except InputError:
                raise
            except (ValueError, KeyError, TypeError) as error:
                raise InputError(f"{path}: not a sweep's results file ({error})") from None

    def done(self, options):
        """The saved row of the run with these options, or None."""
        return self.rows.get(canonical(options))

    def keep(self, row, options, extra=None):
        """Write the run's model (if any) and the results file, both atomically."""
        self.folder.mkdir(exist_ok=True)
        row = dict(row)
        model = row.pop("model_bytes", None)
        if model is not None:
            (self.folder / "models").mkdir(exist_ok=True)
            path = self.folder / "models" / f"{run_id(row['params'], options)}.npz"
            with atomic_write(path, "wb") as f:
                f.write(model)
            row["model"] = str(path)
        row["options"] = options
        self.rows[canonical(options)] = row
        with atomic_write(self.folder / RESULTS, "w") as f:
            json.dump(document(list(self.rows.values()), **(extra or {})), f, indent=1)
        return row
