"""Rerun one of Nielsen's experiments the way his code did, epoch line by epoch line, and put the
book's figures beside ours.

The data are Nielsen's own ``mnist.pkl.gz`` when it is found (``DIR/mnist.pkl.gz``), else the
same split made from MNIST's IDX files (equal pixel for pixel, see
:func:`chainrule.data.load_nielsen_idx`). Each run is ``cr.train`` with the book's settings on
a float64 network (``network.py`` computes in float64 too: its N(0, 1) weights are float64),
one shuffle per epoch seeded by ``seed``, the network drawn with the same seed. Mini-batches of
10 rows are too small for BLAS threads to pay: the runs use one thread (threadpoolctl), which
also makes a rerun with the same seed give the same scores, bit for bit.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from chainrule.books.experiment import Experiment, Run, Score, Scores
from chainrule.errors import InputError

DTYPE = "float64"
STUCK_POINTS = 3.0   # a run this far under the book's figure is reported as stuck


@dataclass
class Data:
    """Nielsen's three sets and where they came from."""

    training: tuple
    validation: tuple
    test: tuple
    source: str

    def part(self, name):
        return {"test": self.test, "validation": self.validation}[name]


def load_data(data_dir=None, download=True) -> Data:
    """Nielsen's split: ``DIR/mnist.pkl.gz`` if it is there, else MNIST's IDX files in DIR (or
    the cache, downloaded on first use when ``data_dir`` is None)."""
    from chainrule.data import cache_dir, load_nielsen, load_nielsen_idx

    folder = Path(data_dir) if data_dir is not None else cache_dir("nielsen")
    if data_dir is not None and not folder.is_dir():
        raise InputError(f"--data-dir {folder}: no such directory")
    pickle_path = folder / "mnist.pkl.gz"
    if pickle_path.is_file():
        parts = load_nielsen(pickle_path)
        source = f"{pickle_path} (Nielsen's own file)"
    else:
        try:
            parts = load_nielsen_idx(data_dir, download=download and data_dir is None)
        except InputError as error:
            if data_dir is None:
                raise
            raise InputError(f"--data-dir {folder}: neither Nielsen's mnist.pkl.gz nor MNIST's "
                             f"IDX files ({error}); mnist.pkl.gz comes with the code of "
                             "Nielsen's book (neural-networks-and-deep-learning, data/), and "
                             "without --data-dir MNIST is read from the cache, downloaded on "
                             "first use") from None
        where = data_dir if data_dir is not None else cache_dir("mnist")
        source = (f"MNIST's IDX files in {where}, split as Nielsen's mnist.pkl.gz (first 50,000 "
                  "training digits, last 10,000 validation, t10k test; pixel / 256)")
    return Data(*parts, source=source)


def one_blas_thread():
    """A context in which BLAS uses one thread (a no-op where threadpoolctl is missing)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


class _EpochPrinter:
    """A cr.train callback: the book's ``Epoch j: correct / total`` line after each epoch."""

    def __init__(self, scores: Scores, total: int, stream):
        self.scores, self.total, self.stream = scores, total, stream

    def on_epoch_end(self, epoch, history):
        correct = int(round(history.val_accuracy[-1] * self.total))
        score = Score(epoch - 1, correct, self.total)
        self.scores.epochs.append(score)
        if self.stream is not None:
            print(score.line(), file=self.stream, flush=True)


def train_run(run: Run, data: Data, seed: int = 0, epochs=None, stream=None):
    """Train one of the book's runs; ``(Scores, seconds, network)``."""
    import chainrule as cr

    X, y = data.training
    X_eval, y_eval = data.part(run.evaluation)
    net = cr.nn.Network(list(run.sizes), activation="sigmoid", output="sigmoid", cost=run.cost,
                        init=run.init, seed=seed, dtype=DTYPE)
    scores = Scores(run.label)
    started = time.perf_counter()
    with one_blas_thread():
        cr.train(net, X, y, epochs=run.epochs if epochs is None else epochs,
                 batch_size=run.batch_size, optimizer=cr.optim.SGD(lr=run.lr), l2=run.l2,
                 validation=(X_eval, y_eval), seed=seed, progress=False,
                 callbacks=(_EpochPrinter(scores, len(X_eval), stream),), score_train=False)
    return scores, time.perf_counter() - started, net


@dataclass
class Result:
    """What one ``reproduce`` measured, and how to say it."""

    experiment: Experiment
    runs: list = field(default_factory=list)        # Scores, one per run
    seconds: list = field(default_factory=list)     # training time of each run
    settings: dict = field(default_factory=dict)

    def scores_of(self, label):
        return next(s for s in self.runs if s.label == label)

    def stuck(self):
        """The runs that ended far under an exact figure of the book (an N(0, 1) start that
        never left a plateau)."""
        found = []
        for figure in self.experiment.figures:
            scores, run = self.scores_of(figure.run), self.experiment.run_named(figure.run)
            if (figure.relation == "=" and run.init == "normal" and len(scores.epochs) ==
                    run.epochs and scores.best.percent < figure.percent - STUCK_POINTS):
                found.append(scores)
        return found

    def report(self) -> str:
        """The book's figures beside ours, and the time."""
        e, lines = self.experiment, [""]
        epochs = [len(s.epochs) for s in self.runs]
        for figure in e.figures:
            book = f"the book:  {figure.text}"
            lines += [book, f"  {figure.where}: “{figure.quote}”"]
            if e.note:
                lines.append(f"  {e.note}")
            run = e.run_named(figure.run)
            shortened = len(self.scores_of(figure.run).epochs) < run.epochs
            lines.append(f"chainrule: {figure.compare(self.scores_of(figure.run))}; seed "
                         f"{self.settings['seed']}"
                         + (f" (after {len(self.scores_of(figure.run).epochs)} of the book's "
                            f"{run.epochs} epochs)" if shortened else ""))
        for scores in self.stuck():
            lines.append(f"stuck: {scores.label or 'this run'} ended at "
                         f"{scores.best.percent:.2f} % at best: its N(0, 1) start never left a "
                         "plateau, as unregularised runs sometimes do (Nielsen, ch. 3: they "
                         "\"will occasionally get 'stuck'\"); the book reports its best of three "
                         "runs: try another --seed")
        total = sum(self.seconds)
        each = total / max(sum(epochs), 1)
        lines.append(f"time:      {total:.1f} s for {sum(epochs)} epochs ({each:.2f} s each; "
                     f"{self.settings['dtype']}, {self.settings['blas_threads']} BLAS thread)")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """The ``--json`` document."""
        e = self.experiment
        first = e.figures[0]
        measured = self.scores_of(first.run).to_dict()
        measured["runs"] = [s.to_dict() for s in self.runs]
        measured["stuck"] = [s.label for s in self.stuck()]
        return {
            "name": e.name,
            "book": {"figure": first.percent, "quote": first.quote, "where": first.where,
                     "settings": [r.settings() for r in e.runs], "code": [r.code for r in e.runs],
                     "figures": [f.to_dict() for f in e.figures], "note": e.note},
            "measured": measured,
            "settings": self.settings,
            "seconds": round(sum(self.seconds), 3),
        }


def reproduce_nielsen(experiment: Experiment, data: Data, seed: int = 0, epochs=None,
                      stream=None) -> Result:
    """Run every run of ``experiment`` on ``data``, printing the book's lines to ``stream``
    as it goes (None: silently)."""
    def say(text):
        if stream is not None:
            print(text, file=stream, flush=True)

    say(f"{experiment.name}: {experiment.title} ({experiment.source})")
    say(f"data: {data.source}")
    result = Result(experiment, settings={
        "seed": seed, "dtype": DTYPE, "blas_threads": 1, "data": data.source,
        "training_digits": len(data.training[0]), "optimizer": "SGD",
        "runs": [{**r.settings(), "epochs": r.epochs if epochs is None else epochs,
                  "label": r.label} for r in experiment.runs]})
    for run in experiment.runs:
        say("")
        if run.label:
            say(f"[{run.label}]")
        say(run.describe() + ("" if epochs is None else f"; this rerun stops after {epochs}"))
        say(run.code)
        scores, seconds, _ = train_run(run, data, seed, epochs, stream)
        result.runs.append(scores)
        result.seconds.append(seconds)
    say(result.report())
    return result
