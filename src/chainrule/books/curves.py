"""``chainrule reproduce --plot``: each run's accuracy epoch by epoch with the book's figures
marked, as Nielsen's ch. 3 graphs draw their runs (ex4: training accuracy per CG iteration).
"""

from __future__ import annotations


def draw(result, path=None):
    """The Figure of a :class:`~chainrule.books.runner.Result` or an ex4 result (saved to
    ``path`` when one is given)."""
    from chainrule.books.ex4 import Ex4Result
    from chainrule.explanations.plots import book_curves

    if isinstance(result, Ex4Result):
        scores = result.scores
        return book_curves({"CG, λ = 1": ([s.epoch for s in scores.epochs],
                                          [s.percent for s in scores.epochs])}, path,
                           title="ex4: training accuracy", xlabel="CG iteration",
                           ylabel="Training accuracy (%)",
                           marks=[("ex4: about 95.3 %", 95.3)])
    experiment = result.experiment
    curves = {s.label: ([e.epoch for e in s.epochs], [e.percent for e in s.epochs])
              for s in result.runs}
    marks = [(f"the book: {f.text}", f.percent) for f in experiment.figures]
    evaluated = sorted({r.evaluation for r in experiment.runs})
    return book_curves(curves, path, marks=marks,
                       title=f"{experiment.name}: classification accuracy on the "
                             f"{' and '.join(evaluated)} data")
