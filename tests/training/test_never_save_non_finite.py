"""Nothing non-finite is ever written over a good file: the save side of model files."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import InputError, RunFailed
from chainrule.nn.io import NotFinite, save
from chainrule.training import EarlyStopping, TrainingState
from chainrule.training.checkpoint import load_checkpoint, save_checkpoint


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 3])       # W^1, b^2
def test_saving_a_network_with_nan_or_inf_refuses_and_keeps_the_file(tmp_path, value, where):
    path = tmp_path / "m.npz"
    good = cr.nn.Network([3, 4, 2], seed=0)
    save(good, path)
    before = path.read_bytes()
    bad = cr.nn.Network([3, 4, 2], seed=1)
    bad.params[where].flat[1] = value
    name = ["W1", "b1", "W2", "b2"][where]
    with pytest.raises(InputError, match=f"m.npz: not written: {name} holds 1 non-finite value"):
        save(bad, path)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def _state(net, **changes):
    rng = np.random.default_rng(0)
    X, y = rng.random((12, 3)), rng.integers(0, 2, 12)
    optimizer = cr.optim.Adam(0.01)
    history = cr.train(net, X, y, epochs=1, optimizer=optimizer, progress=False)
    fields = dict(epoch=1, optimizer=optimizer, history=history,
                  rng_state=np.random.default_rng(0).bit_generator.state, seed=0)
    return TrainingState(**{**fields, **changes})


def test_a_checkpoint_with_nan_best_weights_or_moments_is_refused(tmp_path):
    net = cr.nn.Network([3, 4, 2], seed=0)
    path = tmp_path / "run.npz"
    save_checkpoint(net, path, _state(net))
    before = path.read_bytes()
    best = net.to_vector()
    best[2] = np.nan
    early = {**EarlyStopping().state_dict(), "best": 0.5, "best_epoch": 1, "best_params": best}
    with pytest.raises(NotFinite, match="early_stopping.best_params holds 1 non-finite"):
        save_checkpoint(net, path, _state(net, early_stopping=early))
    state = _state(net)
    state.optimizer._buffers[1][0][0, 0] = np.inf           # Adam's v of W^1
    with pytest.raises(NotFinite, match=r"optimizer\.v\.0 holds 1 non-finite"):
        save_checkpoint(net, path, state)
    with pytest.raises(NotFinite, match=r"training\.metadata\.note\[1\] in the metadata is not"):
        save_checkpoint(net, path, _state(net, metadata={"note": [1.0, float("nan")]}))
    assert path.read_bytes() == before


def test_training_stops_before_writing_a_non_finite_state_over_its_checkpoint(tmp_path):
    """The per-epoch checkpoint (what `chainrule train --save` writes): an optimiser moment
    that overflowed while the weights stayed finite ends the run and the file keeps epoch 2."""
    rng = np.random.default_rng(0)
    X, y = rng.random((20, 3)), rng.integers(0, 2, 20)
    net, optimizer = cr.nn.Network([3, 4, 2], seed=0), cr.optim.Adam(0.01)
    path = tmp_path / "run.npz"

    class Overflow:
        def on_epoch_end(self, epoch, history):
            if epoch == 3:
                optimizer._buffers[1][2][0, 0] = np.inf   # one of Adam's v for W^2

    with pytest.raises(RunFailed, match=r"epoch 3: optimizer\.v\.2 is not finite, so .*run.npz "
                                        "was not rewritten"):
        cr.train(net, X, y, epochs=5, optimizer=optimizer, progress=False, checkpoint=path,
                 callbacks=[Overflow()])
    saved, state = load_checkpoint(path)
    assert state.epoch == 2 and np.isfinite(saved.to_vector()).all()


POISON = """
import sys, numpy as np
from chainrule.cli.main import main
from chainrule.training import steps
honest, calls = steps.Optimizer.state_dict, []
def overflowed(self):           # Adam's first moment of W^1 overflows in the second epoch
    state = honest(self)
    calls.append(1)
    if len(calls) == 2:
        state["m"][0][0, 0] = np.inf
    return state
steps.Optimizer.state_dict = overflowed
sys.exit(main(sys.argv[1:]))
"""


def test_chainrule_train_never_writes_a_non_finite_checkpoint(tmp_path):
    """`chainrule train --save` as a user runs it, with the overflow injected into Adam."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "CHAINRULE_DATA": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", POISON, "train", "--optimizer", "adam",
                           "--lr", "0.01", "--epochs", "3", "--save", "m.npz"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[-1] == ("chainrule: error: training diverged at epoch 2: optimizer.m.0 is not "
                         "finite, so m.npz was not rewritten (it keeps the last good epoch)")
    assert "Traceback" not in done.stderr and "model saved" not in done.stdout
    net, state = load_checkpoint(tmp_path / "m.npz")
    assert state.epoch == 1 and np.isfinite(net.to_vector()).all()
    assert all(np.isfinite(v).all() for v in state.optimizer.state_dict()["m"])
