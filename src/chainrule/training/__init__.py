"""Training: ``cr.train``, the optimisers, learning-rate schedules, callbacks and checkpoints.

- ``loop``       ``cr.train``: mini-batches from one seeded permutation per epoch, or SciPy's
  CG/L-BFGS on the unrolled parameters (Coursera ex4's fmincg route)
- ``optim``      SGD (momentum, Nesterov), Adam, CG, L-BFGS
- ``schedules``  step decay, cosine, reduce-on-plateau (Nielsen's "halve η when it stalls")
- ``callbacks``  History, the progress printer, EarlyStopping, TrainingState
- ``checkpoint`` save_checkpoint / load_checkpoint: a model file with the training state

>>> import chainrule as cr
>>> cr.training.EarlyStopping(patience=3).patience
3
"""

from __future__ import annotations

from chainrule.training.callbacks import EarlyStopping, History, ProgressPrinter, TrainingState
from chainrule.training.checkpoint import load_checkpoint, save_checkpoint
from chainrule.training.loop import train

__all__ = ["EarlyStopping", "History", "ProgressPrinter", "TrainingState", "load_checkpoint",
           "save_checkpoint", "train"]
