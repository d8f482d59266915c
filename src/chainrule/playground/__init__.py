"""The chainrule playground: a page in the browser where a network learns live.

TensorFlow Playground's page (its data sets, features, layers, heatmaps), with every number
from chainrule's own backprop and explained on request: a point's ledger (BP1-BP4), a
weight's nudges from each example of the mini-batch (3Blue1Brown), its path sum (colah) and
gradient check, and why training is stuck. ``chainrule playground`` serves it.

>>> from chainrule.playground import Session
>>> Session({"dataset": "circle", "layers": [3]}).net.sizes
[2, 3, 1]
"""

from chainrule.playground.datasets import DATASETS, make_dataset
from chainrule.playground.server import make_server
from chainrule.playground.session import Session

__all__ = ["DATASETS", "Session", "make_dataset", "make_server"]
