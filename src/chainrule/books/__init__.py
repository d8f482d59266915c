"""The books, reproduced: Nielsen's MNIST experiments (ch. 1 and ch. 3) and Coursera ex4's,
run from the books' own files the way the books' code ran them, each figure the book reports
printed beside the one measured. ``chainrule reproduce NAME`` is the command line for it.

- :mod:`~chainrule.books.experiment`: what an experiment and a figure are, and the scores;
- :mod:`~chainrule.books.nielsen`: Nielsen's settings, quotes and figures;
- :mod:`~chainrule.books.ex4`: ex4's checks and training run;
- :mod:`~chainrule.books.runner`: Nielsen's runs, epoch line by epoch line;
- :mod:`~chainrule.books.curves`: the learning curves as the book drew them.

>>> from chainrule import books
>>> books.NAMES[0], books.NAMES[-1]
('nielsen-ch1', 'ex4')
"""

from __future__ import annotations

from chainrule.books.nielsen import EXPERIMENTS

NAMES = (*EXPERIMENTS, "ex4")

__all__ = ["EXPERIMENTS", "NAMES"]
