"""What a book's experiment is (its settings, the figures it reports and the sentences they come
from) and what a rerun measured: the per-epoch scores, the best and last epochs, the time.

>>> figure = Figure("95.42 % at its peak (Epoch 28)", 95.42, "best", "=", "quote", "Nielsen, ch. 1")
>>> scores = Scores("", [Score(0, 9129, 10000), Score(1, 9542, 10000)])
>>> scores.best.percent, scores.last.epoch, figure.compare(scores)
(95.42, 1, '95.42 % at its peak (Epoch 1), 0.00 points from the book')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

MEASURES = {"best": "at its peak", "last": "after the last epoch", "first": "after the first epoch"}
RELATIONS = {"=": "", "<": "under ", "~": "almost ", ">": "somewhat over "}


@dataclass(frozen=True)
class Score:
    """One epoch's score as the book's code printed it: ``Epoch 0: 9129 / 10000``."""

    epoch: int          # counted from 0, as network.py and network2.py print it
    correct: int
    total: int

    @property
    def percent(self) -> float:
        return round(100 * self.correct / self.total, 2)

    def line(self) -> str:
        return f"Epoch {self.epoch}: {self.correct} / {self.total}"

    def to_dict(self) -> dict:
        return {**asdict(self), "percent": self.percent}


@dataclass
class Scores:
    """The scores of one run, epoch by epoch (``label`` names the run in a two-run experiment)."""

    label: str
    epochs: list[Score] = field(default_factory=list)

    @property
    def best(self) -> Score:
        """The best epoch (the first of equals), as the book's "at its peak"."""
        return max(self.epochs, key=lambda s: (s.correct, -s.epoch))

    @property
    def last(self) -> Score:
        return self.epochs[-1]

    def pick(self, measure: str) -> Score:
        return {"best": self.best, "last": self.last, "first": self.epochs[0]}[measure]

    def to_dict(self) -> dict:
        return {"label": self.label, "scores": [s.to_dict() for s in self.epochs],
                "best": self.best.to_dict(), "last": self.last.to_dict()}


@dataclass(frozen=True)
class Figure:
    """A number the book reports: ``text`` as we print it, ``percent``, which epoch it is about
    (``measure``: best, last or first), how the book states it (``relation``: = exactly,
    < "under", ~ "almost", > "somewhat over"), the sentence it comes from and where."""

    text: str
    percent: float
    measure: str
    relation: str
    quote: str
    where: str
    run: str = ""       # the label of the run it is about, in a two-run experiment

    def compare(self, scores: Scores) -> str:
        """Our number for this figure, said the way the book says its own."""
        ours = scores.pick(self.measure)
        text = f"{ours.percent:.2f} % {MEASURES[self.measure]}"
        if self.measure == "best":
            text += f" (Epoch {ours.epoch})"
        if self.relation == "=":
            return text + f", {abs(ours.percent - self.percent):.2f} points from the book"
        return text + f" (the book: {RELATIONS[self.relation]}{self.percent:g} %)"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Run:
    """One training run as the book's code did it, and the book's own lines for it."""

    label: str
    sizes: tuple
    cost: str                 # chainrule's cost name
    init: str                 # "normal": N(0, 1) weights and biases; "scaled-normal": 1/√n_in
    lr: float
    l2: float = 0.0
    epochs: int = 30
    batch_size: int = 10
    evaluation: str = "test"  # scored each epoch on the test or the validation digits
    code: str = ""            # the book's lines, as printed in the chapter

    def describe(self) -> str:
        init = {"normal": "N(0, 1) weights and biases",
                "scaled-normal": "N(0, 1/n_in) weights, N(0, 1) biases"}[self.init]
        l2 = f", λ = {self.l2:g}" if self.l2 else ""
        return (f"{list(self.sizes)} sigmoid, {self.cost} cost, {init}, SGD η = {self.lr:g}"
                f"{l2}, mini-batch {self.batch_size}, {self.epochs} epochs, scored on the "
                f"{self.evaluation} digits")

    def settings(self) -> dict:
        return {"sizes": list(self.sizes), "activation": "sigmoid", "cost": self.cost,
                "init": self.init, "lr": self.lr, "l2": self.l2, "epochs": self.epochs,
                "batch_size": self.batch_size, "evaluation": self.evaluation}


@dataclass(frozen=True)
class Experiment:
    """A published experiment: its runs and the figures the book reports for them."""

    name: str
    title: str
    source: str
    runs: tuple
    figures: tuple
    note: str = ""

    def run_named(self, label: str) -> Run:
        return next(r for r in self.runs if r.label == label)
