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

import sys

from chainrule.books.nielsen import EXPERIMENTS

NAMES = (*EXPERIMENTS, "ex4")

__all__ = ["EXPERIMENTS", "NAMES", "reproduce"]


def reproduce(name, data_dir=None, seed=0, epochs=None, stream="stdout"):
    """Rerun the experiment ``name`` (one of :data:`NAMES`) and return what it measured
    (``result.report()``, ``result.to_dict()``; :func:`chainrule.books.curves.draw` plots it).

    ``data_dir``: Nielsen's ``mnist.pkl.gz`` (else MNIST's IDX files) or ex4's two .mat files;
    None: the chainrule cache. ``epochs``: stop early (ex4: CG iterations). ``stream``: where
    the book's lines go, sys.stdout by default, None for none.
    """
    from chainrule.errors import InputError, quoted

    stream = sys.stdout if stream == "stdout" else stream
    if name == "ex4":
        from chainrule.books.ex4 import reproduce_ex4
        from chainrule.data import cache_dir

        folder = data_dir if data_dir is not None else cache_dir("ex4")
        return reproduce_ex4(folder, seed=seed, iterations=epochs or 50, stream=stream)
    if name not in EXPERIMENTS:
        raise InputError(f"unknown experiment {quoted(name)}; choose one of: {', '.join(NAMES)}")
    from chainrule.books.runner import load_data, reproduce_nielsen

    return reproduce_nielsen(EXPERIMENTS[name], load_data(data_dir), seed=seed, epochs=epochs,
                             stream=stream)
