"""Checkpoints: a model file that also holds the training state, so that a run resumes exactly.

A checkpoint is a model file (``chainrule.nn.io``: the network's arrays and JSON metadata, no
pickle) whose metadata has a ``training`` entry — the epoch, the optimiser's config and scalar
state, the shuffling Generator's state, the history and free metadata — and whose extra arrays
are the optimiser's (``optimizer.<name>.<i>``), early stopping's best weights
(``early_stopping.best_params``) and the weights to continue from (``training.params``, when
early stopping gave the model its best ones back). Resuming from one continues SGD, momentum
and Adam bit for bit.

>>> import tempfile, pathlib, numpy as np, chainrule as cr
>>> path = pathlib.Path(tempfile.mkdtemp()) / "run.npz"
>>> net = cr.nn.Network([2, 2], seed=0)
>>> _ = cr.train(net, np.eye(2), [0, 1], epochs=3, checkpoint=path, progress=False)
>>> net, state = load_checkpoint(path)
>>> state.epoch, state.optimizer
(3, SGD(lr=3.0, momentum=0.0, nesterov=False))
"""

from __future__ import annotations

import numpy as np

from chainrule.errors import InputError, quoted
from chainrule.nn import io
from chainrule.training.callbacks import EarlyStopping, History, TrainingState
from chainrule.training.optim import optimizer_from_config


def save_checkpoint(model, path, state):
    """Write ``model`` and its :class:`TrainingState` to ``path`` atomically (one model file)."""
    arrays = {}
    training = _state_to_json(state, arrays)
    io.save(model, path, training=training, training_arrays=arrays)


def _state_to_json(state, arrays):
    """The JSON of a TrainingState; its arrays go into ``arrays`` (name -> array)."""
    scalars, counts = {}, {}
    for key, value in state.optimizer.state_dict().items():
        if isinstance(value, list):
            counts[key] = len(value)
            for i, a in enumerate(value):
                arrays[f"optimizer.{key}.{i}"] = np.ascontiguousarray(a)
        else:
            scalars[key] = value
    early = None
    if state.early_stopping is not None:
        early = {k: v for k, v in state.early_stopping.items() if k != "best_params"}
        best = state.early_stopping.get("best_params")
        early["has_best_params"] = best is not None
        if best is not None:
            arrays["early_stopping.best_params"] = np.ascontiguousarray(best)
    if state.params is not None:
        arrays["training.params"] = np.ascontiguousarray(state.params)
    return {"epoch": int(state.epoch), "seed": state.seed, "optimizer": state.optimizer.config(),
            "optimizer_state": scalars, "optimizer_arrays": counts, "rng": state.rng_state,
            "history": state.history.to_dict(), "metadata": state.metadata,
            "early_stopping": early, "has_params": state.params is not None}


def load_checkpoint(path):
    """``(network, state)``: state is a TrainingState, or None for a file without one."""
    _, net, state = io.read(path, CheckpointReader)
    return net, state


class CheckpointReader(io.ModelReader):
    """A model file's reader that also checks and rebuilds the training state."""

    def read(self):
        """``(network, state)``, the state a :class:`TrainingState` or None."""
        net, training = super().read()
        if training is None:
            return net, None
        try:
            return net, self.state(training, net)
        except InputError as error:
            if str(error).startswith(str(self.path)):
                raise
            self.fail(f"training state: {error}")
        except (TypeError, AttributeError, KeyError, ValueError) as error:
            self.fail(f"training state: malformed ({type(error).__name__}: {error})")

    def training_members(self, training, n_params):
        counts = training.get("optimizer_arrays")
        if not isinstance(counts, dict) or not all(
                isinstance(c, int) and c in (0, n_params) for c in counts.values()):
            self.fail(f"training state: optimizer_arrays must give 0 or {n_params} arrays per "
                      f"name")
        members = {f"optimizer.{k}.{i}" for k, c in counts.items() for i in range(c)}
        early = training.get("early_stopping")
        if isinstance(early, dict) and early.get("has_best_params"):
            members.add("early_stopping.best_params")
        if training.get("has_params") is True:
            members.add("training.params")
        return members

    def check_training_arrays(self, names, dtype, nbytes):
        """Nothing to do here: :meth:`state` reads each of them with its exact shape."""

    def state(self, training, net):
        if not isinstance(training, dict):
            self.fail("training state is not a JSON object")
        keys = {"epoch", "seed", "optimizer", "optimizer_state", "optimizer_arrays", "rng",
                "history", "metadata", "early_stopping", "has_params"}
        if set(training) != keys:
            self.fail(f"training state: expected the keys {sorted(keys)}")
        history = History.from_dict(training["history"])
        epoch = training["epoch"]
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch != len(history):
            self.fail(f"training state: epoch {quoted(epoch)} does not match the history's "
                      f"{len(history)} epochs")
        optimizer = optimizer_from_config(training["optimizer"])
        optimizer_state = training["optimizer_state"]
        if not isinstance(optimizer_state, dict):
            self.fail("training state: optimizer_state is not a JSON object")
        optimizer_state = dict(optimizer_state)
        for key, count in training["optimizer_arrays"].items():
            optimizer_state[key] = [self.array(f"optimizer.{key}.{i}", p.shape, p.dtype)
                                    for i, p in zip(range(count), net.params)]
        optimizer.load_state_dict(optimizer_state, net.params)
        rng = np.random.default_rng()
        try:
            rng.bit_generator.state = training["rng"]
        except (TypeError, ValueError, KeyError, OverflowError):
            self.fail("training state: rng is not a NumPy PCG64 state")
        metadata = training["metadata"]
        if not isinstance(metadata, dict):
            self.fail("training state: metadata is not a JSON object")
        early = training["early_stopping"]
        if early is not None:
            if not isinstance(early, dict):
                self.fail("training state: early_stopping is not a JSON object")
            early = {k: v for k, v in early.items() if k != "has_best_params"}
            early["best_params"] = None
            if "early_stopping.best_params" in self.members:
                early["best_params"] = self.array("early_stopping.best_params",
                                                  (net.to_vector().size,), net.dtype)
            EarlyStopping().load_state_dict(early)          # checks it, InputError if malformed
        params = None
        if training["has_params"] is True:
            params = self.array("training.params", (net.to_vector().size,), net.dtype)
        seed = training["seed"]
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            self.fail(f"training state: seed {quoted(seed)} is not an integer")
        return TrainingState(epoch=epoch, optimizer=optimizer, history=history,
                             rng_state=rng.bit_generator.state, seed=seed, metadata=metadata,
                             early_stopping=early, params=params)
