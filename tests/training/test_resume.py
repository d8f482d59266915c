"""Checkpoints continue exactly: k epochs, then the rest from the file, equal all at once."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import InputError
from chainrule.training import EarlyStopping
from chainrule.training.schedules import ReduceOnPlateau

OPTIMIZERS = {
    "sgd": lambda: cr.optim.SGD(lr=3.0),
    "momentum": lambda: cr.optim.SGD(lr=0.5, momentum=0.9),
    "nesterov": lambda: cr.optim.SGD(lr=0.5, momentum=0.9, nesterov=True),
    "adam": lambda: cr.optim.Adam(lr=0.01),
}


def run(digits, optimizer, epochs, dtype, path=None, resume=None, net=None, **kwargs):
    X, y, X_val, y_val = digits
    if net is None:
        net = cr.nn.Network([64, 16, 10], cost="quadratic", seed=0, dtype=dtype)
    history = cr.train(net, X[:400], y[:400], epochs=epochs, batch_size=10,
                       optimizer=optimizer, l2=1.0, validation=(X_val, y_val), seed=5,
                       progress=False, checkpoint=path, resume=resume, **kwargs)
    return net, history


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_two_plus_two_epochs_equal_four_bit_for_bit(digits, tmp_path, name, dtype):
    straight, straight_history = run(digits, OPTIMIZERS[name](), 4, dtype)
    path = tmp_path / "m.npz"
    run(digits, OPTIMIZERS[name](), 2, dtype, path=path)
    net, state = cr.training.load_checkpoint(path)
    assert state.epoch == 2
    resumed, history = run(digits, None, 4, dtype, path=path, resume=state, net=net)
    assert np.array_equal(resumed.to_vector(), straight.to_vector())
    assert history.to_dict()["train_cost"] == straight_history.train_cost
    assert cr.training.load_checkpoint(path)[1].epoch == 4


@pytest.mark.parametrize("split", [1, 3])
def test_any_resume_point_with_a_plateau_schedule(digits, tmp_path, split):
    def make():
        return cr.optim.SGD(lr=3.0, momentum=0.5,
                            schedule=ReduceOnPlateau("val_accuracy", patience=1, min_delta=0.2))

    straight, straight_history = run(digits, make(), 4, "float32")
    path = tmp_path / "m.npz"
    run(digits, make(), split, "float32", path=path)
    net, state = cr.training.load_checkpoint(path)
    resumed, history = run(digits, make(), 4, "float32", resume=state, net=net)
    assert np.array_equal(resumed.to_vector(), straight.to_vector())
    assert history.lr == straight_history.lr and len(set(history.lr)) > 1   # η was lowered


def test_early_stopping_state_survives_a_resume(digits, tmp_path):
    straight, _ = run(digits, OPTIMIZERS["sgd"](), 4, "float64",
                      early_stopping=EarlyStopping("val_accuracy", patience=10))
    path = tmp_path / "m.npz"
    run(digits, OPTIMIZERS["sgd"](), 2, "float64", path=path,
        early_stopping=EarlyStopping("val_accuracy", patience=10))
    net, state = cr.training.load_checkpoint(path)
    assert state.early_stopping["best_params"].shape == net.to_vector().shape
    stopper = EarlyStopping("val_accuracy", patience=10)
    resumed, history = run(digits, None, 4, "float64", resume=state, net=net,
                           early_stopping=stopper)
    assert np.array_equal(resumed.to_vector(), straight.to_vector())   # both restored the best
    assert stopper.best_epoch == int(np.argmax(history.val_accuracy)) + 1


def test_resuming_a_finished_run_changes_nothing(digits, tmp_path):
    path = tmp_path / "m.npz"
    run(digits, OPTIMIZERS["adam"](), 2, "float32", path=path)
    net, state = cr.training.load_checkpoint(path)
    before = net.to_vector()
    _, history = run(digits, None, 2, "float32", resume=state, net=net)
    assert len(history) == 2 and np.array_equal(net.to_vector(), before)


def test_resume_with_another_optimizer_is_refused(digits, tmp_path):
    path = tmp_path / "m.npz"
    run(digits, OPTIMIZERS["adam"](), 1, "float32", path=path)
    net, state = cr.training.load_checkpoint(path)
    with pytest.raises(InputError, match="trained with Adam"):
        run(digits, cr.optim.SGD(lr=1.0), 2, "float32", resume=state, net=net)
    same_kind = cr.optim.Adam(lr=0.01)                     # the same kind takes the saved state
    run(digits, same_kind, 2, "float32", resume=state, net=net)
    assert same_kind.t == 2 * 40


def test_scipy_runs_resume_up_to_max_iter(least_squares, linear_net, tmp_path):
    X, t, w, _ = least_squares
    path = tmp_path / "m.npz"
    cr.train(linear_net(), X, t, optimizer=cr.optim.LBFGS(max_iter=2), checkpoint=path,
             progress=False)
    net, state = cr.training.load_checkpoint(path)
    assert state.epoch == 2 and state.optimizer.config()["max_iter"] == 2
    history = cr.train(net, X, t, optimizer=cr.optim.LBFGS(max_iter=40, gtol=1e-10),
                       resume=state, progress=False)
    assert history.epoch[:3] == [1, 2, 3]
    np.testing.assert_allclose(net.weights[0][0], w, atol=1e-6)
