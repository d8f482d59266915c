"""The chainrule playground: a page in the browser where a network learns live.

TensorFlow Playground's page (its data sets, features, layers, heatmaps), with every number
from chainrule's own backprop and explained on request: a point's ledger (BP1-BP4), a
weight's nudges from each example of the mini-batch (3Blue1Brown), its path sum (colah) and
gradient check, and why training is stuck. ``chainrule playground`` serves it.

>>> from chainrule.playground import Session
>>> Session({"dataset": "circle", "layers": [3]}).net.sizes
[2, 3, 1]
"""

from __future__ import annotations

import importlib

# loaded on first use, so that the command line's parser stays light
_LAZY = {"Session": "chainrule.playground.session", "make_server": "chainrule.playground.server",
         "make_dataset": "chainrule.playground.datasets",
         "DATASETS": "chainrule.playground.datasets"}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'chainrule.playground' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


def __dir__():
    return __all__
