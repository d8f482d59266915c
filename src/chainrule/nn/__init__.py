"""The network of Nielsen's ch. 2: activations, costs, initialisations, BP1-BP4, and checks
against the engine.

>>> import chainrule as cr
>>> net = cr.nn.Network([3, 5, 3], cost="cross-entropy", init="uniform", seed=0)
>>> sorted(cr.nn.COSTS)
['cross-entropy', 'log-likelihood', 'quadratic']

``save`` and ``load`` (a model file: the model only) live in :mod:`chainrule.nn.io` and are
imported on first use (checkpoints, with the training state, are ``cr.training``'s);
``check_network`` and the engine-defined models (:mod:`chainrule.nn.functional`) load the
engine only when asked for.
"""

from __future__ import annotations

import importlib

from chainrule.nn.activations import ACTIVATIONS, Activation
from chainrule.nn.costs import COSTS, Cost
from chainrule.nn.init import INITS, initialise
from chainrule.nn.network import BackpropTrace, Network

# lazily loaded: public name -> module
_LAZY = {
    "save": "chainrule.nn.io",
    "load": "chainrule.nn.io",
    "check_network": "chainrule.nn.check",
    "NetworkCheck": "chainrule.nn.check",
    "EngineModel": "chainrule.nn.functional",
    "network_cost": "chainrule.nn.functional",
}

__all__ = ["ACTIVATIONS", "COSTS", "INITS", "Activation", "BackpropTrace", "Cost", "Network",
           "initialise", *_LAZY]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'chainrule.nn' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
