"""``cr.sweep``: train one network per point of a grid of train options, side by side.

Nielsen's chapter 3 searches η, λ, the hidden sizes and the seed by hand, one run after
another; a sweep runs the product of the values given, each point as one task on a local
process pool or a Dask cluster (:mod:`chainrule.distributed.backends`), and returns the rows
best first. Every run is :func:`chainrule.distributed.runner.run_point` of its options, so its
weights are those ``chainrule train`` gives with the same flags, bit for bit, on any backend
and any number of workers.

>>> points = grid({"lr": [0.1, 0.5], "hidden": [[10], [30]]})
>>> [(p["lr"], p["hidden"]) for p in points]
[(0.1, [10]), (0.1, [30]), (0.5, [10]), (0.5, [30])]
>>> result = sweep({"lr": [0.5, 2.0]}, epochs=2, hidden=[8], backend="local", workers=1,
...                progress=False)
>>> len(result.runs), all(row["error"] is None for row in result.runs)
(2, True)
"""

from __future__ import annotations

import itertools
import time

from chainrule.distributed import results
from chainrule.distributed.backends import open_backend
from chainrule.distributed.runner import DEFAULTS, train_options
from chainrule.errors import InputError, quoted

__all__ = ["SweepResult", "grid", "sweep"]

NOT_SWEPT = ("data_dir", "no_download")   # where the data is, not how to train on it


def grid(values) -> list[dict]:
    """The product of ``{name: [v1, v2, ...]}``, in the order given (the last name fastest)."""
    if not isinstance(values, dict) or not values:
        raise InputError("grid: expected a dict {option: [values, ...]} with at least one option")
    names = []
    for name, options in values.items():
        key = str(name).replace("-", "_")
        if key not in DEFAULTS or key in NOT_SWEPT:
            raise InputError(f"grid: {quoted(name)} is not a train option to sweep; choose from: "
                             + ", ".join(k.replace("_", "-") for k in DEFAULTS
                                         if k not in NOT_SWEPT))
        if key in names:
            raise InputError(f"grid: {quoted(name)} is given twice")
        if not isinstance(options, list | tuple) or not options:
            raise InputError(f"grid: {name}: expected a non-empty list of values")
        names.append(key)
    return [dict(zip(names, point)) for point in itertools.product(*values.values())]


class SweepResult:
    """The rows of a sweep, best first (``runs``); ``startup_seconds``: what starting the
    backend cost (a cluster, its workers' imports), ``seconds``: the runs after that."""

    def __init__(self, rows, names, backend, workers, startup_seconds, seconds, skipped):
        self.runs = results.best_first(rows)
        self.names, self.backend, self.workers = names, backend, workers
        self.startup_seconds, self.seconds, self.skipped = startup_seconds, seconds, skipped

    @property
    def best(self):
        """The best run's row (None when every run failed)."""
        ok = [r for r in self.runs if not r.get("error")]
        return ok[0] if ok else None

    def table(self) -> str:
        return results.table(self.runs, self.names)

    def to_dict(self) -> dict:
        return results.document(self.runs, backend=self.backend, workers=self.workers,
                                startup_seconds=self.startup_seconds, seconds=self.seconds,
                                skipped=self.skipped)

    def plot(self, path=None):
        """Validation accuracy against each swept option (matplotlib): the Figure."""
        from chainrule.explanations import plots

        return plots.sweep_accuracy(self.runs, self.names, path)

    def __repr__(self):
        best = self.best
        return (f"SweepResult({len(self.runs)} runs on {self.backend}, best "
                f"{None if best is None else best['params']})")


class _Bar:
    """A bar over the runs, the best validation accuracy so far in its postfix."""

    def __init__(self, total, enabled):
        from chainrule.training.progress import progress_bar

        self.bar = progress_bar(total, "sweep", enabled=enabled, unit="run")
        self.best = None

    def update(self, row):
        if self.bar is None:
            return
        score = row.get("val_accuracy", row.get("test_accuracy"))
        if not row.get("error") and score is not None and (self.best is None
                                                          or score > self.best[0]):
            self.best = (score, row["params"])
        if self.best is not None:
            self.bar.set_postfix_str(f"best {self.best[0]:.2%} at {self.best[1]}")
        self.bar.update(1)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def sweep(values, *, backend=None, workers=None, scheduler=None, out=None, progress=True,
          on_row=None, **options) -> SweepResult:
    """Train one network per point of ``grid(values)``; the other train options are
    ``options`` (as :func:`~chainrule.distributed.runner.train_options` takes them).

    - ``backend``: ``"dask"`` (the default when Dask's distributed is installed) or
      ``"local"``; ``workers``: K worker processes (default: the cores); ``scheduler``: a Dask
      scheduler's address instead of a LocalCluster on this machine.
    - ``out``: a folder that keeps each run's model and ``results.json``; a second call with
      the same folder skips the runs already done there (``skipped`` counts them).
    - ``on_row(row)``: called as each run ends (the CLI's progress uses it).

    A run that fails (a diverging η, bad options) has its ``error`` set and the others go on.
    Ctrl-C (KeyboardInterrupt) cancels the runs not yet finished and re-raises; with ``out``,
    every finished run is already kept there.
    """
    base = train_options(**options)
    points = grid(values)
    names = list(points[0])
    store = None if out is None else results.Store(out)
    todo, rows, skipped = [], [], 0
    for params in points:
        run_options = {**base, **params}
        saved = None if store is None else store.done(run_options)
        if saved is not None:
            rows.append(saved)
            skipped += 1
        else:
            todo.append((params, run_options))
    seconds = 0.0
    bar = _Bar(len(points), progress)
    for row in rows:
        bar.update(row)
    extra = {}
    try:
        opening = open_backend(backend, workers, scheduler, warm=base) if todo else _NoBackend()
        with opening as opened:
            extra = {"backend": opened.name, "workers": opened.workers,
                     "startup_seconds": opened.startup_seconds}
            started = time.perf_counter()
            for index, (params, run_options) in enumerate(todo):
                opened.submit(index, run_options, params, store is not None)
            for index, row, ran in opened.as_completed():
                params, run_options = todo[index]
                row = {"params": params, "model": None, **row}
                if store is not None and ran:
                    row = store.keep(row, run_options, extra)
                row.pop("model_bytes", None)
                rows.append(row)
                bar.update(row)
                if on_row is not None:
                    on_row(row)
            seconds = time.perf_counter() - started
    finally:
        bar.close()
    return SweepResult(rows, names, extra.get("backend"), extra.get("workers"),
                       extra.get("startup_seconds", 0.0), seconds, skipped)


class _NoBackend:
    """Every run was done already: nothing to start."""

    name, workers, startup_seconds = None, 0, 0.0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def as_completed(self):
        return iter(())
