"""A session is cr.train, bit for bit, however its epochs are cut into steps; the why-answers
agree with backprop, central differences and the optimiser's real step."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.errors import InputError
from chainrule.playground import why
from chainrule.playground.session import Session

OPTIMIZERS = {"sgd": lambda lr: cr.optim.SGD(lr=lr),
              "momentum": lambda lr: cr.optim.SGD(lr=lr, momentum=0.9),
              "adam": lambda lr: cr.optim.Adam(lr=lr)}


def reference(session, epochs):
    """The documented mapping: the same network, optimiser and seed, trained by cr.train."""
    c = session.config
    net = cr.nn.Network(session.net.sizes, activation=c["activation"], output=c["output"],
                        cost=c["cost"], seed=c["seed"], dtype="float64")
    cr.train(net, session.data.X_train, session.data.y_train, epochs=epochs,
             batch_size=c["batch_size"], optimizer=OPTIMIZERS[c["optimizer"]](c["lr"]),
             l2=c["l2"], seed=c["seed"], progress=False)
    return net.to_vector()


@pytest.mark.parametrize(("config", "pieces"), [
    ({"optimizer": "sgd"}, [("epochs", 3)]),
    ({"optimizer": "momentum", "l2": 0.5, "batch_size": 7}, [("batches", 5), ("epochs", 2),
                                                             ("batches", 36)]),
    ({"optimizer": "adam", "lr": 0.01, "batch_size": 16, "activation": "relu"},
     [("batches", 1)] * 20 + [("epochs", 1)]),
    ({"dataset": "spiral", "batch_size": 500, "layers": [6, 6, 6]}, [("epochs", 4)]),  # full batch
    ({"dataset": "plane", "layers": [3], "activation": "sigmoid"}, [("epochs", 2)]),
    ({"dataset": "digits", "layers": [12], "batch_size": 50}, [("batches", 10), ("batches", 48)]),
])
def test_steps_are_bit_identical_to_cr_train(config, pieces):
    session = Session({"seed": 4, **config})
    for what, count in pieces:
        session.step(**{what: count})
    assert session.batch == 0 and session.epoch >= 1     # the pieces end on an epoch
    np.testing.assert_array_equal(session.net.to_vector(), reference(session, session.epoch))


@settings(max_examples=8, deadline=None)
@given(st.lists(st.integers(1, 30), min_size=1, max_size=6), st.integers(1, 40))
def test_any_split_into_batches_gives_the_same_weights(batches, batch_size):
    one = Session({"dataset": "xor", "layers": [3], "batch_size": batch_size,
                   "optimizer": "momentum"})
    other = Session(one.config)
    total = sum(batches)
    for b in batches:
        one.step(batches=b)
    other.step(batches=total)
    np.testing.assert_array_equal(one.net.to_vector(), other.net.to_vector())
    assert (one.epoch, one.batch) == divmod(total, one.batches_per_epoch)


def test_step_arguments_are_checked():
    s = Session({})
    for kwargs, named in [({}, "either"), ({"epochs": 1, "batches": 1}, "either"),
                          ({"epochs": 0}, "epochs"), ({"epochs": 10**6}, "epochs"),
                          ({"batches": 2.5}, "batches"), ({"epochs": True}, "epochs")]:
        with pytest.raises(InputError, match=named):
            s.step(**kwargs)
    assert s.epoch == 0 and s.batch == 0


def test_losses_are_the_networks_cost():
    s = Session({"l2": 0.3})
    s.step(epochs=2)
    status = s.status()
    expected = s.net.cost(s.data.X_train, s.data.y_train, l2=0.3)
    assert status["train_loss"] == pytest.approx(expected, rel=1e-12)
    expected = s.net.cost(s.data.X_test, s.data.y_test, l2=0.3, n=s.n)
    assert status["test_loss"] == pytest.approx(expected, rel=1e-12)


def test_nudges_mean_is_the_sgd_step_and_the_step_really_happens():
    s = Session({"layers": [4, 3], "l2": 1.0, "seed": 2})
    s.step(batches=7)
    n = why.nudges(s, 1, 2, 3)
    idx = s.next_batch()
    assert n["examples"] == idx.tolist() and len(n["nudges"]) == 10
    # each nudge by hand: −η (δ_j a_k + λ/n w) of that example alone
    trace = s.net.backprop_trace(s.X[idx], s.Y[idx])
    w = s.net.weights[1][2, 3]
    by_hand = -0.1 * (trace.delta[1][:, 2] * trace.a[1][:, 3] + 1.0 / s.n * w)
    np.testing.assert_allclose(n["nudges"], by_hand, rtol=1e-13)
    assert n["mean"] == pytest.approx(n["step"], rel=1e-12)
    before = float(s.net.weights[1][2, 3])
    s.step(batches=1)
    assert float(s.net.weights[1][2, 3]) - before == n["step"]


def test_nudges_of_a_bias_and_adams_step_differ_from_the_mean():
    s = Session({"optimizer": "adam", "lr": 0.01})
    s.step(batches=3)
    n = why.nudges(s, 0, 1)
    assert n["param"] == "b^1[1]"
    before = float(s.net.biases[0][1])
    s.step(batches=1)
    assert float(s.net.biases[0][1]) - before == pytest.approx(n["step"], rel=1e-12)
    assert abs(n["step"]) > 0 and n["step"] != pytest.approx(n["mean"], rel=1e-3)


def test_path_sum_of_a_first_layer_weight_is_backprop():
    s = Session({"layers": [3, 4], "features": ["x1", "x2", "x1_x2"], "seed": 1})
    s.step(epochs=1)
    p = why.paths(s, 0, 2, 1, index=10)
    assert p["count"] == 4 * 1 == len(p["paths"])
    assert p["sum"] == pytest.approx(p["backprop"], rel=1e-12, abs=1e-15)
    # one path by hand: a⁰_1 · σ'(z¹_2) · w²_{i,2} · σ'(z²_i) · w³_{0,i} · δ³_0
    trace = s.net.backprop_trace(s.X[10:11], s.Y[10:11])
    slope = [1 - trace.a[l][0] ** 2 for l in (1, 2)]              # tanh' = 1 − a²
    i = p["paths"][0]["units"][1]
    by_hand = (trace.a[0][0, 1] * slope[0][2] * s.net.weights[1][i, 2] * slope[1][i]
               * s.net.weights[2][0, i] * trace.delta[2][0, 0])
    assert p["paths"][0]["product"] == pytest.approx(by_hand, rel=1e-12)


def test_too_many_paths_are_counted_not_listed():
    s = Session({"layers": [16, 16, 16]})
    p = why.paths(s, 0, 0, 0)
    assert p["count"] == 16 ** 2 and p["listed"]
    s = Session({"layers": [40, 40, 40]})
    p = why.paths(s, 0, 0, 0)
    assert p["count"] == 1600 and p["listed"]
    s = Session({"layers": [60, 60, 60]})
    p = why.paths(s, 0, 0, 0)
    assert p["count"] == 3600 and not p["listed"] and p["sum"] is None


def test_gradcheck_agrees_with_backprop():
    s = Session({"layers": [5], "l2": 2.0, "activation": "sigmoid"})
    s.step(batches=4)
    for layer, row, col in [(0, 3, 1), (1, 0, 4), (0, 2, None)]:
        g = why.gradcheck(s, layer, row, col)
        assert g["ok"] and g["relative_difference"] < 1e-6, g


def test_stuck_finds_saturated_and_dead_units():
    s = Session({"activation": "sigmoid", "layers": [3]})
    assert why.stuck(s)["stuck"] == 0
    for col in (0, 1):
        s.set_param(0, 1, col, 500.0)                      # unit 1 saturates almost everywhere
    report = why.stuck(s)
    assert report["layers"][0]["stuck_units"] == [1] and "saturated" in report["hint"]
    s = Session({"activation": "relu", "layers": [3, 2], "seed": 1})
    assert 0 not in why.stuck(s)["layers"][1]["stuck_units"]
    s.set_param(1, 0, None, -1000.0)                        # z ≤ 0 for every point: dead
    report = why.stuck(s)
    assert 0 in report["layers"][1]["stuck_units"] and "dead" in report["hint"]
    assert report["layers"][1]["share_off"][0] == 1.0


def test_ledger_is_cr_explain_of_the_example():
    s = Session({"layers": [3]})
    s.step(epochs=1)
    got = why.ledger(s, 7)
    expected = cr.explain(s.net, s.X[7], s.Y[7], lr=0.1)
    assert got["layers"] == expected["layers"] and got["point"] == s.data.P_train[7].tolist()
    with pytest.raises(InputError, match="index"):
        why.ledger(s, s.n)


def test_path_factors_are_named():
    s = Session({"layers": [2, 2]})
    p = why.paths(s, 0, 1, 0, index=0)
    assert p["paths"][0]["names"] == ["a^0[0]", "σ'(z^1[1])", "w^2[0][1]", "σ'(z^2[0])",
                                      "w^3[0][0]", "δ^3[0]"]
    assert why.paths(s, 2, 0, None)["paths"][0]["names"] == ["∂z/∂b = 1", "δ^3[0]"]
