"""``cr.train``: mini-batch gradient descent (or SciPy's CG/L-BFGS) on any trainable model.

Each epoch shuffles the training set with one seeded permutation, walks it in mini-batches of
``batch_size`` rows, asks the model for ∂C/∂w on each batch (``model.gradients``, BP1-BP4 for a
:class:`~chainrule.nn.Network`) and lets the optimiser update the parameters in place — Nielsen's
"for each mini-batch: w → w − η/m Σ_x ∇C_x" (ch. 1, eq. 20). After each epoch the training cost and
accuracy (running means over the epoch's mini-batches, as Keras reports them) and the exact
validation cost C_0 (no L2 term) and accuracy go into the
:class:`~chainrule.training.callbacks.History`, a
NaN/inf cost or weight stops the run, callbacks run and the checkpoint file is rewritten atomically.

>>> import numpy as np, chainrule as cr
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 2)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
>>> net = cr.nn.Network([2, 2], cost="log-likelihood", seed=0)
>>> history = train(net, X, y, epochs=5, batch_size=10, optimizer=cr.optim.SGD(lr=0.5),
...                 progress=False)
>>> len(history), history.train_accuracy[-1] > 0.9
(5, True)
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from chainrule.errors import InputError, RunFailed, quoted
from chainrule.training.callbacks import EarlyStopping, History, ProgressPrinter, TrainingState
from chainrule.training.epoch import full_batch, in_chunks, one_by_one
from chainrule.training.steps import blas_threads

__all__ = ["train"]

_EVAL_CHUNK = 1_000  # rows per forward pass when scoring a whole set


class _Stop(Exception):
    """Raised inside SciPy's callback to end CG/L-BFGS early (callbacks or early stopping)."""


def _labels(Y):
    """Class labels of encoded targets: argmax, or a ≥ 0.5 for a single output unit."""
    return (Y[:, 0] >= 0.5).astype(np.int64) if Y.shape[1] == 1 else Y.argmax(axis=1)


def _evaluate(model, X, Y, labels, l2, n):
    """Exact (cost, accuracy) of a whole set, in chunks; the L2 term uses the training set's n.

    X is already checked and Y encoded. A model with ``totals(X, Y) -> (Σ_x C_0,x, rows right)``
    and ``penalty(l2, n)`` (Network, EngineModel) is scored with one forward pass per chunk
    and no re-validation; other models are asked for ``cost`` and ``predict`` separately.
    """
    one_pass = hasattr(model, "totals") and hasattr(model, "penalty")
    cost, correct = 0.0, 0
    for start in range(0, len(X), _EVAL_CHUNK):
        Xc, Yc = X[start:start + _EVAL_CHUNK], Y[start:start + _EVAL_CHUNK]
        if one_pass:
            chunk_cost, chunk_correct = model.totals(Xc, Yc)
            cost += chunk_cost
            correct += chunk_correct
        else:
            cost += model.cost(Xc, Yc, l2, n) * len(Xc)   # the penalty is the same in each chunk
            predicted = model.predict(Xc)
            correct += int(np.count_nonzero(predicted == labels[start:start + _EVAL_CHUNK]))
    cost /= len(X)
    if one_pass:
        cost += model.penalty(l2, n)
    return cost, correct / len(X)


def _check_int(value, what, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError(f"{what}: expected an integer >= 1, got {quoted(value)}")
    return int(value)


def _check_l2(l2):
    if isinstance(l2, bool) or not isinstance(l2, int | float | np.number) \
            or not math.isfinite(l2) or l2 < 0:
        raise InputError(f"l2: expected a finite number >= 0, got {quoted(l2)}")
    return float(l2)


def _prepare(model, X, y, what="X"):
    X, Y = model.check_inputs(X), model.encode_targets(y)
    if len(X) != len(Y):
        raise InputError(f"{what}: {len(X)} rows of inputs but {len(Y)} labels or targets")
    return X, Y, _labels(Y)


def _default_optimizer(model):
    """SGD with Nielsen's η = 3.0 for the quadratic cost, η = 0.5 for the others (ch. 1 and 3)."""
    from chainrule.training.optim import SGD

    return SGD(lr=3.0 if str(model.cost) == "quadratic" else 0.5)


def _resume_optimizer(optimizer, state, params):
    if optimizer is None or optimizer is state.optimizer:
        return state.optimizer
    if type(optimizer) is not type(state.optimizer):
        raise InputError(f"resume: the checkpoint was trained with {quoted(state.optimizer)}, "
                         f"not {quoted(optimizer)}")
    optimizer.load_state_dict(state.optimizer.state_dict(), params)
    return optimizer


def _callback_list(callbacks, early_stopping, progress):
    if callable(callbacks) or hasattr(callbacks, "on_epoch_end"):
        callbacks = (callbacks,)                # one callback given on its own
    listed = [cb if hasattr(cb, "on_epoch_end") or not callable(cb) else _FunctionCallback(cb)
              for cb in callbacks]
    for cb in listed:
        if not hasattr(cb, "on_epoch_end"):
            raise InputError(f"callbacks: {quoted(cb)} is neither a function nor has on_epoch_end")
    if progress and not any(isinstance(cb, ProgressPrinter) for cb in listed):
        listed.insert(0, ProgressPrinter())
    if early_stopping is not None:
        if not isinstance(early_stopping, EarlyStopping):
            raise InputError("early_stopping: expected a chainrule.training.EarlyStopping")
        listed.append(early_stopping)
    return listed


class _FunctionCallback:
    def __init__(self, fn):
        self.on_epoch_end = fn


def _diverged(epoch, cost, optimizer, model):
    if optimizer.lr is None:                        # CG / L-BFGS: no learning rate to lower
        advice = "try scaling the inputs, an L2 term or another cost"
    else:
        advice = f"try a smaller learning rate than η = {optimizer.lr:g}"
        if str(model.cost) == "quadratic":
            advice += " or the cross-entropy / log-likelihood cost"
    return RunFailed(f"training diverged at epoch {epoch}: the training cost is {cost}; "
                     f"{advice} (the last good weights are kept)")


class _Run:
    """One call of :func:`train`: the data, the bookkeeping after each epoch and the two loops."""

    def __init__(self, model, X, Y, labels, validation, l2, optimizer, history, rng,
                 callbacks, early_stopping, checkpoint, seed, metadata, epochs, score_train):
        self.model, self.X, self.Y, self.labels = model, X, Y, labels
        self.validation, self.l2, self.n = validation, l2, len(X)
        self.optimizer, self.history, self.rng = optimizer, history, rng
        self.callbacks, self.early_stopping = callbacks, early_stopping
        self.checkpoint, self.seed, self.metadata, self.epochs = (checkpoint, seed, metadata,
                                                                  epochs)
        self.score_train = score_train
        self.last_good = model.to_vector()

    def end_epoch(self, epoch, lr, started, running=None):
        """Score the epoch, stop on divergence, run callbacks, save; True means stop.

        ``running``: (Σ C_0,x, rows right) summed over the epoch's mini-batches, when the
        model reports them (:mod:`chainrule.training.epoch`); otherwise the training set is
        scored afresh.
        """
        model, train_cost, train_acc = self.model, None, None
        if running is not None:
            train_cost = running[0] / self.n + model.penalty(self.l2, self.n)
            train_acc = running[1] / self.n
        elif self.score_train:
            train_cost, train_acc = _evaluate(model, self.X, self.Y, self.labels, self.l2,
                                              self.n)
        weights = model.to_vector()
        finite = bool(np.isfinite(weights).all())
        if not finite or (train_cost is not None and not math.isfinite(train_cost)):
            model.from_vector(self.last_good)
            raise _diverged(epoch, train_cost if finite else "not finite (the weights "
                            "overflowed)", self.optimizer, model)
        self.last_good = weights
        val_cost = val_acc = None
        if self.validation is not None:
            # the data cost C_0 alone, as a test set is scored: λ's term is the training's
            val_cost, val_acc = _evaluate(model, *self.validation, 0.0, self.n)
        self.history.append(epoch, train_cost, train_acc, val_cost, val_acc, lr,
                            time.perf_counter() - started)
        stop = False
        for cb in self.callbacks:
            stop = bool(cb.on_epoch_end(epoch, self.history)) or stop
        self.save(epoch)
        return stop

    def state(self, epoch, params=None):
        es = None if self.early_stopping is None else self.early_stopping.state_dict()
        return TrainingState(epoch=epoch, optimizer=self.optimizer, history=self.history,
                             rng_state=self.rng.bit_generator.state, seed=self.seed,
                             metadata=self.metadata, early_stopping=es, params=params)

    def save(self, epoch, params=None):
        """Rewrite the checkpoint; a state holding NaN or inf (say, an optimiser's moment that
        overflowed while the weights stayed finite) ends the run and the file keeps its epoch."""
        if self.checkpoint is not None:
            from chainrule.nn.io import NotFinite
            from chainrule.training.checkpoint import save_checkpoint

            try:
                save_checkpoint(self.model, self.checkpoint, self.state(epoch, params))
            except NotFinite as error:
                raise RunFailed(f"training diverged at epoch {epoch}: {error.name} is not "
                                f"finite, so {self.checkpoint} was not rewritten (it keeps the "
                                "last good epoch)") from None

    def sgd(self, done, batch_size, progress):
        """The mini-batch loop (the hot path: no validation, no allocation per batch)."""
        model, optimizer, n = self.model, self.optimizer, self.n
        scored = self.score_train and hasattr(model, "penalty")
        full = batch_size is None or batch_size >= n
        if full:
            epochs_of = full_batch
        elif hasattr(model, "last_output") and hasattr(model, "output_totals"):
            epochs_of = in_chunks
        else:
            epochs_of = one_by_one
        run = epochs_of(self, batch_size, progress, scored)
        for epoch in range(done + 1, self.epochs + 1):
            started = time.perf_counter()
            lr = optimizer.start_epoch(epoch - 1, self.history)
            running = run(epoch)
            if self.end_epoch(epoch, lr, started, running if scored else None):
                break

    def scipy(self, done):
        """CG/L-BFGS on the unrolled parameters; one history entry per SciPy iteration."""
        model, optimizer = self.model, self.optimizer
        X, Y, l2, n = self.X, self.Y, self.l2, self.n
        counter = {"epoch": done, "started": time.perf_counter()}

        def fun(v):
            model.from_vector(v)
            cost, grads = model.value_and_grad(X, Y, l2, n)
            flat = np.concatenate([np.ravel(g) for g in grads]).astype(np.float64)
            return float(cost), flat

        def callback(xk):
            model.from_vector(xk)
            counter["epoch"] += 1
            optimizer.t = counter["epoch"]
            stop = self.end_epoch(counter["epoch"], None, counter["started"])
            counter["started"] = time.perf_counter()
            if stop:
                raise _Stop

        remaining = optimizer.max_iter - done
        optimizer.message = None
        if remaining > 0:
            start = model.to_vector()
            try:
                result = optimizer.minimize(fun, start, callback, remaining)
            except _Stop:                   # a callback or early stopping ended the run
                result = None
            if result is not None:
                optimizer.message = str(result.message)
            if result is not None and counter["epoch"] == done and not result.success:
                model.from_vector(self.last_good)   # no iteration ended: nothing was trained
                cost = fun(start)[0]
                raise RunFailed(f"{optimizer.name} failed before its first iteration: SciPy "
                                f"stopped with {optimizer.message!r} from a training cost of "
                                f"{cost:.4g}; nothing was trained or saved; try scaling the "
                                "inputs, an L2 term or another cost")
        model.from_vector(self.last_good)   # the weights of the last iteration in the history


def train(model, X, y, epochs=30, batch_size=10, optimizer=None, l2=0.0, validation=None,
          seed=0, progress=True, callbacks=(), early_stopping=None, checkpoint=None,
          resume=None, metadata=None, score_train=True) -> History:
    """Train ``model`` on (X, y) and return its :class:`~chainrule.training.callbacks.History`.

    - ``model``: a :class:`~chainrule.nn.Network` or any trainable model (``params``,
      ``gradients``, ``cost``, ``predict``), e.g. :class:`~chainrule.nn.functional.EngineModel`.
      X is checked and y encoded once.
      Optional, used when present: ``totals(X, Y) -> (Σ_x C_0,x, rows right)`` and
      ``penalty(l2, n)`` (a whole set scored in 1,000-row chunks without re-validation);
      ``last_output`` (a^L of the last ``gradients`` call) with ``output_totals(a, Y)`` (the
      same totals of outputs a), or ``batch_stats(Y)`` (the totals of the last batch): the
      running cost and accuracy; ``steps_in_c`` (a :class:`~chainrule.nn.Network`): many
      batches in one call (:func:`chainrule.training.batch.batch_steps`).
    - ``epochs``: the total number of epochs (a resumed run continues up to it);
      ``batch_size=None`` (or ≥ n) means full-batch gradient descent.
    - ``optimizer``: default ``SGD(lr=3.0)`` for the quadratic cost, ``SGD(lr=0.5)`` otherwise.
      For ``CG``/``LBFGS`` ``epochs`` and ``batch_size`` are ignored (``max_iter`` counts the
      iterations, one history entry each).
    - ``l2``: λ of the L2 term λ/(2n) Σ w², n the training-set size: in ``train_cost`` (the
      objective minimised), not in ``val_cost`` (the data cost C_0, as a test set is scored).
    - ``validation``: (X_val, y_val), scored after every epoch.
    - ``seed``: seeds the Generator that shuffles the examples (one permutation per epoch).
    - ``progress``: a line per epoch on stderr (unless a ProgressPrinter is among
      ``callbacks``) and, with tqdm installed, a bar over each epoch's batches (in a terminal, or
      in Jupyter: the notebook widget with ipywidgets, else the text bar).
    - ``callbacks``: objects with ``on_train_begin(model, epochs)``,
      ``on_epoch_end(epoch, history)`` (return True to stop) and
      ``on_train_end(model, history)``, all optional, or plain functions (on_epoch_end).
    - ``early_stopping``: an :class:`EarlyStopping` (patience on a metric, best weights back).
    - ``checkpoint``: a path rewritten atomically after every epoch (weights and training
      state, see :func:`chainrule.training.save_checkpoint`); a diverging run never overwrites
      it.
    - ``resume``: the :class:`TrainingState` from :func:`chainrule.training.load_checkpoint`;
      ``model`` must be the network loaded with it. SGD/momentum/Adam continue bit for bit.
    - ``metadata``: a JSON-able dict stored in the checkpoint (e.g. the data set's name).
    - ``score_train``: record the training cost and accuracy of each epoch. For a model with
      ``last_output`` or ``batch_stats`` (a :class:`~chainrule.nn.Network`) they are what
      Keras reports: running
      means over the epoch's mini-batches, each batch scored by its own forward pass, i.e. with
      the weights *before* its update (no extra pass), so ``train_cost`` = mean over the
      epoch's rows of C_0 + λ/(2n) Σ w² of the weights at the end of the epoch, and can
      differ slightly from ``model.cost(X, y)`` after the epoch. Other models (e.g.
      EngineModel) and CG/L-BFGS score the whole training set exactly after each epoch.
      False leaves train_cost/train_accuracy None and detects divergence from the weights only.
      Validation is always scored exactly, with the weights at the end of the epoch.

    Raises InputError for bad arguments or data, and RunFailed when the cost becomes NaN/inf
    or SciPy's CG/L-BFGS fails before its first iteration (SciPy's message is kept in
    ``optimizer.message`` after a CG/L-BFGS run, e.g. "CONVERGENCE: ...").

    >>> import numpy as np, chainrule as cr
    >>> net = cr.nn.Network([2, 4, 2], cost="log-likelihood", seed=0)
    >>> X, y = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([0, 1, 1, 0])
    >>> history = train(net, X, y, epochs=3, batch_size=2, progress=False)
    >>> history.epoch, history.lr
    ([1, 2, 3], [0.5, 0.5, 0.5])
    """
    X, Y, labels = _prepare(model, X, y)
    if validation is not None:
        if not (isinstance(validation, tuple | list) and len(validation) == 2):
            raise InputError("validation: expected a pair (X_val, y_val)")
        validation = _prepare(model, *validation, what="validation X")
    epochs = _check_int(epochs, "epochs")
    batch_size = _check_int(batch_size, "batch_size", allow_none=True)
    l2 = _check_l2(l2)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)
                             or seed < 0):
        raise InputError(f"seed: expected an integer >= 0 or None, got {quoted(seed)}")
    if metadata is not None and not isinstance(metadata, dict):
        raise InputError("metadata: expected a dict")
    if checkpoint is not None and not Path(checkpoint).resolve().parent.is_dir():
        raise InputError(f"checkpoint: the directory of {checkpoint} does not exist")
    rng = np.random.default_rng(seed)
    if resume is not None:
        if not isinstance(resume, TrainingState):
            raise InputError("resume: expected the TrainingState from load_checkpoint")
        optimizer = _resume_optimizer(optimizer, resume, model.params)
        history = History.from_dict(resume.history.to_dict())
        rng.bit_generator.state = resume.rng_state
        done, metadata = resume.epoch, {**resume.metadata, **(metadata or {})}
        if resume.params is not None:      # early stopping had restored the best weights
            model.from_vector(resume.params)
        if early_stopping is not None and resume.early_stopping is not None:
            early_stopping.load_state_dict(resume.early_stopping)
    else:
        optimizer = _default_optimizer(model) if optimizer is None else optimizer
        history, done, metadata = History(), 0, dict(metadata or {})
        if isinstance(early_stopping, EarlyStopping):
            early_stopping.reset()
    if not hasattr(optimizer, "uses_scipy"):
        raise InputError(f"optimizer: expected one from cr.optim, got {quoted(optimizer)}")
    optimizer.check_params(model.params)
    if checkpoint is not None:
        optimizer.config()          # a checkpoint records it: refused now, not after an epoch
    monitors = [getattr(early_stopping, "monitor", ""), getattr(optimizer.schedule, "monitor", "")]
    watched = [m for m in monitors if m.startswith("val_")]
    if validation is None and watched:
        raise InputError(f"{watched[0]}: monitoring a validation metric needs "
                         f"validation=(X_val, y_val)")
    if not score_train and any(m.startswith("train_") for m in monitors):
        raise InputError("monitoring a training metric needs score_train=True")
    listed = _callback_list(callbacks, early_stopping, progress)
    total = optimizer.max_iter if optimizer.uses_scipy else epochs
    run = _Run(model, X, Y, labels, validation, l2, optimizer, history, rng, listed,
               early_stopping, checkpoint, seed, metadata, total, bool(score_train))
    for cb in listed:
        if hasattr(cb, "on_train_begin"):
            cb.on_train_begin(model, total)
    # overflow is not warned about: a diverging run is reported below
    with np.errstate(over="ignore", invalid="ignore"), blas_threads(model):
        if optimizer.uses_scipy:
            run.scipy(done)
        else:
            run.sgd(done, batch_size, progress)
    for cb in listed:
        if hasattr(cb, "on_train_end"):
            cb.on_train_end(model, history)
    if early_stopping is not None and early_stopping.restore_best \
            and early_stopping.best_params is not None and len(history) > done:
        run.save(len(history), params=run.last_good)   # best weights; resume from the last
    return history
