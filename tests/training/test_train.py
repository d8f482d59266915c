"""cr.train: Nielsen's updates step by step, known minima, history, callbacks, divergence."""

from __future__ import annotations

import io
import json
import math
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.errors import InputError, RunFailed
from chainrule.training import EarlyStopping, ProgressPrinter, loop


def test_nielsen_chapter_one_on_digits(digits):
    """[64, 30, 10], quadratic cost, η = 3, mini-batches of 10 (Nielsen ch. 1) learns digits."""
    X, y, X_test, y_test = digits
    net = cr.nn.Network([64, 30, 10], cost="quadratic", seed=0)
    history = cr.train(net, X, y, epochs=8, batch_size=10, optimizer=cr.optim.SGD(lr=3.0),
                       validation=(X_test, y_test), progress=False)
    assert np.mean(net.predict(X_test) == y_test) > 0.9
    assert history.val_accuracy[-1] == np.mean(net.predict(X_test) == y_test)
    assert history.train_cost[-1] < history.train_cost[0] / 2


def test_full_batch_is_the_seeds_update(digits):
    """cr.train fuses w → w − η ∂C/∂w into BP4's product: the same numbers to rounding."""
    X, y = digits[0][:200], digits[1][:200]
    net = cr.nn.Network([64, 10, 10], cost="cross-entropy", seed=4, dtype="float64")
    manual = cr.nn.Network.from_config(net.config(), net.params)
    cr.train(net, X, y, epochs=5, batch_size=None, optimizer=cr.optim.SGD(lr=0.5), l2=2.0,
             progress=False)
    Xc, Y = manual.check_inputs(X), manual.encode_targets(y)
    for _ in range(5):                                    # w → w − η ∂C/∂w on all n examples
        for p, g in zip(manual.params, manual.gradients(Xc, Y, 2.0, len(X))):
            p -= 0.5 * g
    np.testing.assert_allclose(net.to_vector(), manual.to_vector(), rtol=1e-12, atol=1e-14)
    assert not np.array_equal(net.to_vector(), cr.nn.Network.from_config(  # it did train
        manual.config()).to_vector())


@pytest.mark.parametrize("cost, batch_size", [("log-likelihood", 20), ("quadratic", 7),
                                               ("cross-entropy", None)])
def test_training_cost_is_the_running_mean_over_the_epochs_batches(digits, cost, batch_size):
    """Keras's figure: C_0 of each batch before its step, averaged over the epoch's rows, plus
    λ/(2n) Σ w² of the weights at the end of the epoch; accuracy the same way."""
    X, y = digits[0][:95], digits[1][:95]
    net = cr.nn.Network([64, 8, 10], cost=cost, seed=2, dtype="float64")
    manual = cr.nn.Network.from_config(net.config(), net.params)
    history = cr.train(net, X, y, epochs=3, batch_size=batch_size, l2=2.0, seed=11,
                       optimizer=cr.optim.SGD(lr=0.5), progress=False)
    Xc, Y = manual.check_inputs(X), manual.encode_targets(y)
    rng, size = np.random.default_rng(11), batch_size or len(X)
    for epoch in range(3):
        order = rng.permutation(len(X)) if batch_size else np.arange(len(X))
        cost_sum, right = 0.0, 0
        for start in range(0, len(X), size):
            idx = order[start:start + size]
            cost_sum += manual.cost(X[idx], y[idx]) * len(idx)      # weights before the step
            right += int(np.sum(manual.predict(X[idx]) == y[idx]))
            for p, g in zip(manual.params, manual.gradients(Xc[idx], Y[idx], 2.0, len(X))):
                p -= 0.5 * g
        penalty = 2.0 / (2 * len(X)) * sum(np.sum(W ** 2) for W in manual.weights)
        assert history.train_cost[epoch] == pytest.approx(cost_sum / len(X) + penalty,
                                                          rel=1e-12)
        assert history.train_accuracy[epoch] == right / len(X)
    # the step is fused into BP4's product (SGD.step_with): the same numbers, rounded apart
    np.testing.assert_allclose(net.to_vector(), manual.to_vector(), rtol=1e-12, atol=1e-14)
    assert history.train_cost[-1] != pytest.approx(net.cost(X, y, l2=2.0), rel=1e-6)


def test_divergence_is_seen_in_the_running_cost(digits, tmp_path):
    class Overflowing(cr.nn.Network):                 # a chunk of batches whose cost overflowed
        def output_totals(self, a, Y):
            self.calls += 1
            cost_sum, right = super().output_totals(a, Y)
            return (math.inf if self.calls == 7 else cost_sum), right

    X, y = digits[0][:100], digits[1][:100]
    net = Overflowing([64, 10, 10], seed=0)
    net.calls, snapshots = 0, {}
    with pytest.raises(RunFailed, match="diverged at epoch 1: the training cost is inf"):
        cr.train(net, X, y, epochs=3, batch_size=10, progress=False,
                 callbacks=lambda e, h: snapshots.update({e: net.to_vector()}))
    # ten batches, a chunk each: the whole epoch ran, then stopped, the weights put back
    assert net.calls == 10 and not snapshots
    assert np.array_equal(net.to_vector(), Overflowing([64, 10, 10], seed=0).to_vector())


def test_mini_batches_follow_one_seeded_permutation_per_epoch(digits):
    X, y = digits[0][:95], digits[1][:95]
    net = cr.nn.Network([64, 8, 10], seed=2, dtype="float64")
    manual = cr.nn.Network.from_config(net.config(), net.params)
    cr.train(net, X, y, epochs=2, batch_size=20, optimizer=cr.optim.SGD(lr=3.0), l2=1.0,
             seed=11, progress=False)
    Xc, Y = manual.check_inputs(X), manual.encode_targets(y)
    rng = np.random.default_rng(11)
    for _ in range(2):
        order = rng.permutation(len(X))
        for start in range(0, len(X), 20):              # the last batch has 15 rows
            idx = order[start:start + 20]
            # λ/n with n the whole training set (Nielsen), the 1/m of the batch in the cost
            for p, g in zip(manual.params, manual.gradients(Xc[idx], Y[idx], 1.0, len(X))):
                p -= 3.0 * g
    np.testing.assert_allclose(net.to_vector(), manual.to_vector(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("optimizer, kwargs", [
    (cr.optim.SGD(lr=0.5), {"epochs": 400, "batch_size": None}),
    (cr.optim.CG(max_iter=50, gtol=1e-10), {}),
    (cr.optim.LBFGS(max_iter=50, gtol=1e-10), {}),
])
def test_least_squares_minimum_agrees_with_lstsq(least_squares, linear_net, optimizer, kwargs):
    X, t, w, b = least_squares
    net = linear_net()
    history = cr.train(net, X, t, optimizer=optimizer, progress=False, **kwargs)
    np.testing.assert_allclose(net.weights[0][0], w, atol=1e-6)
    np.testing.assert_allclose(net.biases[0], [b], atol=1e-6)
    # SGD reports the cost before its last step (the running mean), the same at the minimum
    assert history.train_cost[-1] == pytest.approx(net.cost(X, t), rel=1e-12)
    if optimizer.uses_scipy:                  # one entry per SciPy iteration, no learning rate
        assert 2 <= len(history) <= optimizer.max_iter and set(history.lr) == {None}


def test_callbacks_stop_scipy_runs_on_the_reported_iterate(least_squares, linear_net, tmp_path):
    X, t, _, _ = least_squares
    net, snapshots = linear_net(), {}

    def watch(epoch, history):
        snapshots[epoch] = net.to_vector()
        return epoch == 3

    history = cr.train(net, X, t, optimizer=cr.optim.CG(max_iter=50), callbacks=watch,
                       checkpoint=tmp_path / "m.npz", progress=False)
    assert history.epoch == [1, 2, 3] and np.array_equal(net.to_vector(), snapshots[3])
    assert history.train_cost[2] < history.train_cost[0]
    saved, state = cr.training.load_checkpoint(tmp_path / "m.npz")
    assert state.epoch == 3 and np.array_equal(saved.to_vector(), snapshots[3])


class Rosenbrock:
    """A trainable model (params, gradients, cost, predict) whose cost is Rosenbrock's
    (1 − u)² + 100 (v − u²)²."""

    dtype = np.dtype(np.float64)

    def __init__(self):
        self.params = [np.array([-1.2, 1.0])]

    def check_inputs(self, X):
        return np.asarray(X, dtype=float)

    def encode_targets(self, y):
        return np.asarray(y, dtype=float).reshape(-1, 1)

    def value_and_grad(self, X, Y, l2=0.0, n=None):
        u, v = self.params[0]
        cost = (1 - u) ** 2 + 100 * (v - u * u) ** 2
        grad = np.array([-2 * (1 - u) - 400 * u * (v - u * u), 200 * (v - u * u)])
        return cost, [grad]

    def gradients(self, X, Y, l2=0.0, n=None):
        return self.value_and_grad(X, Y)[1]

    def cost(self, X, y, l2=0.0, n=None):
        return self.value_and_grad(X, y)[0]

    def predict(self, X):
        return np.zeros(len(X), dtype=int)

    def to_vector(self):
        return self.params[0].copy()

    def from_vector(self, v):
        self.params[0][...] = v

    def config(self):
        return {"kind": "rosenbrock"}


@pytest.mark.parametrize("optimizer", [cr.optim.LBFGS(max_iter=200), cr.optim.CG(max_iter=500)])
def test_scipy_minimisers_find_rosenbrocks_minimum(optimizer):
    model = Rosenbrock()
    history = cr.train(model, np.zeros((1, 1)), [0], optimizer=optimizer, progress=False)
    np.testing.assert_allclose(model.params[0], [1.0, 1.0], atol=1e-4)
    assert history.train_cost[-1] < 1e-8 and history.train_cost[0] > history.train_cost[-1]


def test_engine_models_train_like_networks():
    from chainrule.nn.functional import EngineModel

    def forward(params, X):
        W1, b1, W2, b2 = params
        return cr.tanh(X @ W1 + b1) @ W2 + b2

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)               # XOR of the signs: needs the hidden layer
    params = [rng.normal(0, 1, (2, 8)), np.zeros(8), rng.normal(0, 1, (8, 2)), np.zeros(2)]
    model = EngineModel(forward, params, n_inputs=2, cost="log-likelihood", dtype="float64")
    history = cr.train(model, X, y, epochs=60, batch_size=20, optimizer=cr.optim.Adam(0.05),
                       progress=False)
    assert history.train_accuracy[-1] > 0.9
    assert history.train_cost[-1] == pytest.approx(model.cost(X, y), rel=1e-12)


def test_evaluation_matches_the_models_own_cost_and_predictions(digits, monkeypatch):
    X, y = digits[0], digits[1]
    net = cr.nn.Network([64, 12, 10], cost="cross-entropy", seed=5, dtype="float64")
    Xc, Y = net.check_inputs(X), net.encode_targets(y)
    monkeypatch.setattr(loop, "_EVAL_CHUNK", len(X))      # one chunk: exactly the same
    cost, accuracy = loop._evaluate(net, Xc, Y, y, 3.0, 5000)
    assert cost == net.cost(X, y, l2=3.0, n=5000)
    assert accuracy == np.mean(net.predict(X) == y)
    for chunk in (1000, 100):                                # in chunks: the same up to rounding
        monkeypatch.setattr(loop, "_EVAL_CHUNK", chunk)
        chunked = loop._evaluate(net, Xc, Y, y, 3.0, 5000)
        assert chunked[0] == pytest.approx(cost, rel=1e-12) and chunked[1] == accuracy


def test_history_records_every_epoch_and_the_schedule(digits):
    X, y, X_val, y_val = digits
    net = cr.nn.Network([64, 10, 10], seed=0)
    schedule = cr.optim.StepDecay(every=2, factor=0.5)
    history = cr.train(net, X[:300], y[:300], epochs=5, batch_size=30,
                       optimizer=cr.optim.SGD(lr=2.0, schedule=schedule), progress=False)
    assert history.epoch == [1, 2, 3, 4, 5] and history.lr == [2.0, 2.0, 1.0, 1.0, 0.5]
    assert history.val_cost == [None] * 5 and all(t > 0 for t in history.time)
    as_json = json.loads(json.dumps(history.to_dict()))
    assert cr.History.from_dict(as_json).to_dict() == history.to_dict()
    unscored = cr.train(net, X[:300], y[:300], epochs=2, progress=False, score_train=False,
                        validation=(X_val, y_val))
    assert unscored.train_cost == [None, None] and None not in unscored.val_cost


def test_same_seed_same_weights_other_seed_other_weights(digits):
    X, y = digits[0][:300], digits[1][:300]
    runs = {}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        net = cr.nn.Network([64, 10, 10], seed=0)
        cr.train(net, X, y, epochs=2, batch_size=10, seed=seed, progress=False)
        runs[name] = net.to_vector()
    assert np.array_equal(runs["a"], runs["b"]) and not np.array_equal(runs["a"], runs["c"])


def test_callbacks_see_each_epoch_and_can_stop(digits):
    X, y = digits[0][:200], digits[1][:200]
    seen, events = [], []

    class Watcher:
        def on_train_begin(self, model, epochs):
            events.append(("begin", epochs))

        def on_epoch_end(self, epoch, history):
            events.append(("epoch", epoch, len(history)))
            return epoch == 3

        def on_train_end(self, model, history):
            events.append(("end", len(history)))

    history = cr.train(cr.nn.Network([64, 5, 10], seed=0), X, y, epochs=10, progress=False,
                       callbacks=(lambda epoch, h: seen.append(h.train_cost[-1]), Watcher()))
    assert len(history) == 3 and seen == history.train_cost
    alone = cr.train(cr.nn.Network([64, 5, 10], seed=0), X, y, epochs=10, progress=False,
                     callbacks=lambda epoch, h: epoch == 2)             # one, not in a tuple
    assert len(alone) == 2
    assert events == [("begin", 10), ("epoch", 1, 1), ("epoch", 2, 2), ("epoch", 3, 3),
                      ("end", 3)]


def test_early_stopping_restores_the_best_weights(digits, tmp_path):
    X, y, X_val, y_val = digits
    X, y = X[:40], y[:40]                                 # few examples: it overfits
    net = cr.nn.Network([64, 30, 10], cost="log-likelihood", seed=0)
    snapshots = {}
    stopper = EarlyStopping(monitor="val_cost", patience=3)
    history = cr.train(net, X, y, epochs=200, batch_size=5, optimizer=cr.optim.SGD(lr=2.0),
                       validation=(X_val, y_val), early_stopping=stopper, progress=False,
                       checkpoint=tmp_path / "m.npz",
                       callbacks=(lambda epoch, h: snapshots.update({epoch: net.to_vector()}),))
    best = int(np.argmin(history.val_cost)) + 1
    assert len(history) == best + 3 < 200                 # stopped after 3 epochs without progress
    assert stopper.best_epoch == best and stopper.stopped_epoch == best + 3
    assert np.array_equal(net.to_vector(), snapshots[best])
    assert not np.array_equal(snapshots[best], snapshots[best + 3])
    saved, state = cr.training.load_checkpoint(tmp_path / "m.npz")   # the file: best weights, and
    assert np.array_equal(saved.to_vector(), snapshots[best])   # the last ones to resume from
    assert np.array_equal(state.params, snapshots[best + 3]) and state.epoch == best + 3


def test_divergence_stops_and_keeps_the_last_good_file(least_squares, linear_net, tmp_path):
    X, t, _, _ = least_squares
    X = X * 30                                             # large inputs: η = 1 explodes
    net, path, snapshots = linear_net("float32"), tmp_path / "m.npz", {}
    with pytest.raises(RunFailed, match=r"diverged at epoch (\d+).*smaller learning rate than "
                                        r"η = 1") as caught:
        cr.train(net, X, t, epochs=500, batch_size=None, optimizer=cr.optim.SGD(lr=1.0),
                 checkpoint=path, progress=False,
                 callbacks=(lambda e, h: snapshots.update({e: net.to_vector()}),))
    failed = int(caught.value.args[0].split("epoch ")[1].split(":")[0])
    assert failed > 2 and "\n" not in str(caught.value)
    saved, state = cr.training.load_checkpoint(path)
    assert state.epoch == failed - 1 and np.isfinite(state.history.train_cost).all()
    assert np.array_equal(saved.to_vector(), snapshots[failed - 1])
    assert np.array_equal(net.to_vector(), snapshots[failed - 1])   # the model is rolled back


def test_validation_cost_is_the_data_cost_and_train_cost_the_objective(digits):
    """With λ > 0: val_cost is C_0 of the final weights on the validation set (as a test cost),
    train_cost adds λ/(2n) Σ w², n the training set's size (a running mean over the batches:
    so only the full batch, scored before its one step, is checked against the weights)."""
    X, y, X_val, y_val = digits[0][:300], digits[1][:300], digits[2], digits[3]
    net = cr.nn.Network([64, 10, 10], cost="log-likelihood", seed=1, dtype="float64")
    history = cr.train(net, X, y, epochs=2, batch_size=20, l2=5.0, validation=(X_val, y_val),
                       progress=False)
    assert history.val_cost[-1] == pytest.approx(net.cost(X_val, y_val), rel=1e-12)
    assert history.val_cost[-1] < net.cost(X_val, y_val, l2=5.0, n=len(X))
    first = net.to_vector()
    history = cr.train(net, X, y, epochs=1, batch_size=None, l2=5.0, progress=False,
                       optimizer=cr.optim.SGD(lr=0.1))
    after = net.to_vector()
    net.from_vector(first)
    data_cost = net.cost(X, y)
    net.from_vector(after)
    assert history.train_cost[0] == pytest.approx(data_cost + net.penalty(5.0, len(X)),
                                                  rel=1e-12)


def test_a_minimiser_that_fails_before_its_first_iteration_raises(least_squares, tmp_path):
    """Inputs of 1e30 in float32: the first line search overflows, SciPy gives up, and the run
    is a RunFailed that names SciPy's message; the model and the checkpoint are untouched."""
    X, t, _, _ = least_squares
    net = cr.nn.Network([3, 4, 1], activation="relu", output="identity", cost="quadratic",
                        seed=0, dtype="float32")
    before = net.to_vector()
    with pytest.raises(RunFailed, match="LBFGS failed before its first iteration: SciPy "
                                        "stopped with '.+' from a training cost of"):
        cr.train(net, X * 1e30, t, optimizer=cr.optim.LBFGS(max_iter=5),
                 checkpoint=tmp_path / "m.npz", progress=False)
    assert np.array_equal(net.to_vector(), before) and not (tmp_path / "m.npz").exists()


def test_progress_lines_on_stderr_and_quiet_mode(digits, capsys):
    X, y = digits[0][:100], digits[1][:100]
    cr.train(cr.nn.Network([64, 5, 10], seed=0), X, y, epochs=3, progress=True)
    err = capsys.readouterr().err.splitlines()
    assert [line.split()[:2] for line in err] == [["epoch", "1/3"], ["epoch", "2/3"],
                                                  ["epoch", "3/3"]]
    cr.train(cr.nn.Network([64, 5, 10], seed=0), X, y, epochs=3, progress=False)
    assert capsys.readouterr() == ("", "")
    mine = io.StringIO()
    cr.train(cr.nn.Network([64, 5, 10], seed=0), X, y, epochs=2, progress=True,
             callbacks=(ProgressPrinter(stream=mine),))
    assert capsys.readouterr().err == "" and mine.getvalue().count("\n") == 2


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_terminal_gets_a_progress_bar(digits, monkeypatch):
    X, y = digits[0][:100], digits[1][:100]
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    cr.train(cr.nn.Network([64, 5, 10], seed=0), X, y, epochs=1, batch_size=10, progress=True)
    assert "batch" in terminal.getvalue() and "epoch 1/1" in terminal.getvalue()
    monkeypatch.setitem(sys.modules, "tqdm", None)       # tqdm not installed: lines only
    plain = Terminal()
    monkeypatch.setattr(sys, "stderr", plain)
    cr.train(cr.nn.Network([64, 5, 10], seed=0), X, y, epochs=2, batch_size=10, progress=True)
    assert [line.split()[:2] for line in plain.getvalue().splitlines()] == [
        ["epoch", "1/2"], ["epoch", "2/2"]]


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": 0}, "epochs"), ({"batch_size": 0}, "batch_size"), ({"l2": -1.0}, "l2"),
    ({"l2": float("inf")}, "l2"), ({"seed": -1}, "seed"), ({"validation": "X"}, "validation"),
    ({"validation": (np.zeros((3, 5)), [0, 1, 2])}, "columns"),
    ({"early_stopping": EarlyStopping()}, "val_cost.*validation"),
    ({"optimizer": "sgd"}, "optimizer"), ({"callbacks": (3,)}, "callbacks"),
    ({"resume": {"epoch": 1}}, "resume"), ({"metadata": [1]}, "metadata"),
    ({"early_stopping": EarlyStopping("train_cost"), "score_train": False}, "score_train"),
    ({"checkpoint": "/nonexistent-dir/m.npz"}, "checkpoint: the directory"),
    ({"optimizer": cr.optim.SGD(0.1, schedule=cr.optim.ReduceOnPlateau("val_cost")),
      "early_stopping": EarlyStopping("train_cost")}, "val_cost: monitoring a validation"),
])
def test_bad_arguments_are_input_errors(digits, kwargs, message):
    X, y = digits[0][:20], digits[1][:20]
    with pytest.raises(InputError, match=message):
        cr.train(cr.nn.Network([64, 5, 10], seed=0), X, y, progress=False, **kwargs)


def test_an_optimizer_with_state_for_another_model_is_refused(digits):
    X, y = digits[0][:20], digits[1][:20]
    adam = cr.optim.Adam()
    cr.train(cr.nn.Network([64, 5, 10], seed=0), X, y, epochs=1, optimizer=adam, progress=False)
    with pytest.raises(InputError, match=r"state was made for parameters of shapes \[\(5, 64\)"):
        cr.train(cr.nn.Network([64, 6, 10], seed=0), X, y, optimizer=adam, progress=False)
    sgd = cr.optim.SGD(lr=1.0)                             # no state: fine for any model
    for hidden in (5, 6):
        cr.train(cr.nn.Network([64, hidden, 10], seed=0), X, y, epochs=1, optimizer=sgd,
                 progress=False)


def test_bad_data_is_named(digits):
    X, y = digits[0][:20], digits[1][:20]
    net = cr.nn.Network([64, 5, 10], seed=0)
    with pytest.raises(InputError, match="y: 19 rows|19 labels"):
        cr.train(net, X, y[:19], progress=False)
    with pytest.raises(InputError, match="label 10"):
        cr.train(net, X, np.full(20, 10), progress=False)


class Recorder:
    """A Network that remembers which rows each call of ``gradients`` saw (by their first value)."""

    def __init__(self, net):
        self.net, self.batches = net, []

    def __getattr__(self, name):
        return getattr(self.net, name)

    def gradients(self, X, Y, l2=0.0, n=None):
        self.batches.append(X[:, 0].copy())
        return self.net.gradients(X, Y, l2, n)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 60), batch_size=st.integers(1, 70), epochs=st.integers(1, 3),
       seed=st.integers(0, 2**32 - 1))
def test_each_epoch_visits_every_example_once(n, batch_size, epochs, seed):
    X = np.column_stack([np.arange(n, dtype=float), np.zeros(n)])    # column 0 names the row
    model = Recorder(cr.nn.Network([2, 2], seed=0, dtype="float64"))
    cr.train(model, X, np.zeros(n, dtype=int), epochs=epochs, batch_size=batch_size, seed=seed,
             optimizer=cr.optim.SGD(lr=0.1), progress=False)
    per_epoch = -(-n // batch_size)
    assert len(model.batches) == epochs * per_epoch
    for e in range(epochs):
        batches = model.batches[e * per_epoch:(e + 1) * per_epoch]
        assert all(len(b) == min(batch_size, n) for b in batches[:-1])
        assert sorted(np.concatenate(batches)) == list(range(n))


def test_nielsen_chapter_one_on_real_mnist_digits(mnist_dir):
    """[784, 30, 10], quadratic, η = 3, batches of 10 on the real MNIST test images."""
    from chainrule.data import load_mnist

    X, y = load_mnist(root=mnist_dir, split="test", download=False)
    net = cr.nn.Network([784, 30, 10], cost="quadratic", seed=0)
    history = cr.train(net, X[:8000], y[:8000], epochs=3, batch_size=10,
                       optimizer=cr.optim.SGD(lr=3.0), validation=(X[8000:], y[8000:]),
                       progress=False)
    assert history.val_accuracy[-1] > 0.92
