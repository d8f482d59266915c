"""``cr.optim``: every optimiser and schedule, and an optimiser rebuilt from its config.

``SGD`` and ``Adam`` (steps.py) take one gradient step per mini-batch; ``CG`` and ``LBFGS``
(minimizers.py) hand the unrolled parameters to SciPy, as Coursera ex4 hands them to fmincg.
The learning-rate schedules (schedules.py) are here too:
``cr.optim.SGD(lr=3.0, schedule=cr.optim.ReduceOnPlateau(patience=10))``.

>>> sorted(OPTIMIZERS)
['Adam', 'CG', 'LBFGS', 'SGD']
"""

from __future__ import annotations

from chainrule.errors import InputError, quoted
from chainrule.training.minimizers import CG, LBFGS
from chainrule.training.schedules import Cosine, ReduceOnPlateau, StepDecay, schedule_from_config
from chainrule.training.steps import SGD, Adam, Optimizer, gradient_buffers

__all__ = ["CG", "LBFGS", "OPTIMIZERS", "SGD", "Adam", "Cosine", "Optimizer", "ReduceOnPlateau",
           "StepDecay", "gradient_buffers", "optimizer_from_config"]

OPTIMIZERS = {cls.name: cls for cls in (SGD, Adam, CG, LBFGS)}


def optimizer_from_config(config):
    """Rebuild an optimiser from :meth:`Optimizer.config` (its state comes separately).

    >>> optimizer_from_config(SGD(lr=0.5, momentum=0.9).config())
    SGD(lr=0.5, momentum=0.9, nesterov=False)
    """
    if not isinstance(config, dict) or not isinstance(config.get("name"), str) \
            or config["name"] not in OPTIMIZERS:
        name = config.get("name") if isinstance(config, dict) else config
        raise InputError(f"optimizer: expected one of {', '.join(OPTIMIZERS)}, got {quoted(name)}")
    kwargs = {k: v for k, v in config.items() if k != "name"}
    if "schedule" in kwargs:
        kwargs["schedule"] = schedule_from_config(kwargs["schedule"])
    try:
        return OPTIMIZERS[config["name"]](**kwargs)
    except TypeError:
        raise InputError(f"optimizer {quoted(config['name'])}: unexpected settings "
                         f"{sorted(kwargs)}") from None
