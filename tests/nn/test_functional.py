"""The network as an engine function, and engine-defined models behind the Trainable contract."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import InputError
from chainrule.nn import EngineModel, Network, network_cost
from chainrule.nn.functional import output_cost


def network_as_forward(net):
    """The network's z^L written by hand with the engine's ops (a user's forward function)."""
    hidden = {"sigmoid": cr.sigmoid, "tanh": cr.tanh, "relu": cr.relu}[net.activation]

    def forward(params, X):
        a = X
        for l in range(0, len(params), 2):
            z = a @ cr.transpose(params[l]) + params[l + 1]
            a = hidden(z)
        return z
    return forward


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation,cost", [("sigmoid", "quadratic"), ("tanh", "cross-entropy"),
                                             ("relu", "log-likelihood")])
def test_engine_model_of_the_network_has_the_network_gradients(activation, cost, dtype):
    net = Network([4, 5, 3], activation=activation, cost=cost, seed=0, dtype=dtype)
    model = EngineModel(network_as_forward(net), net.params, n_inputs=4, cost=cost, dtype=dtype)
    assert model.output == net.output and model.sizes == [4, 3]
    rng = np.random.default_rng(1)
    X = model.check_inputs(rng.normal(size=(6, 4)))
    y = rng.integers(0, 3, 6)
    Y = model.encode_targets(y)
    rtol = 1e-12 if dtype == "float64" else 1e-4
    value, grads = model.value_and_grad(X, Y, l2=2.0, n=20)
    assert all(g.dtype == np.dtype(dtype) for g in grads)
    for g, b in zip(grads, net.gradients(X, Y, l2=2.0, n=20)):
        np.testing.assert_allclose(g, b, rtol=rtol, atol=rtol * 1e-2)
    assert value == pytest.approx(net.cost(X, y, l2=2.0, n=20), rel=rtol)
    assert model.cost(X, y, l2=2.0, n=20) == pytest.approx(value, rel=rtol)
    np.testing.assert_allclose(model.forward(X), net.forward(X), rtol=rtol)
    if net.output == "softmax":
        np.testing.assert_allclose(model.predict_proba(X), net.predict_proba(X), rtol=rtol)
    else:   # three independent sigmoid outputs: no distribution, for either model
        for m in (model, net):
            with pytest.raises(InputError, match="independent"):
                m.predict_proba(X)
    assert np.array_equal(model.predict(X), net.predict(X))
    assert model.score(X, y) == net.score(X, y) == np.mean(net.predict(X) == y)
    with pytest.raises(InputError, match="y: row 0 has label 7"):
        model.score(X, [7] * 6)
    with pytest.raises(InputError, match="value_and_grad: Y must be encoded targets"):
        model.value_and_grad(X, y)                       # labels where targets belong


def test_engine_model_trains_in_place_and_unrolls():
    rng = np.random.default_rng(0)
    params = [rng.normal(0, 0.5, (2, 6)), np.zeros(6), rng.normal(0, 0.5, (6, 1)), np.zeros(1)]

    def forward(p, X):
        return cr.tanh(X @ p[0] + p[1]) @ p[2] + p[3]

    model = EngineModel(forward, params, n_inputs=2, cost="cross-entropy")
    assert model.output == "sigmoid" and model.dtype == np.float32
    X = rng.normal(size=(80, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)          # XOR-like: needs the hidden layer
    Xc, Y = model.check_inputs(X), model.encode_targets(y)
    start = model.cost(X, y)
    live = model.params[0]
    for _ in range(600):
        for p, g in zip(model.params, model.gradients(Xc, Y)):
            p -= 0.5 * g
    assert model.params[0] is live
    assert model.cost(X, y) < start / 2
    assert (model.predict(X) == y).mean() > 0.9
    v = model.to_vector()
    assert v.size == 2 * 6 + 6 + 6 + 1
    model.from_vector(np.zeros_like(v))
    assert not model.params[2].any()
    model.from_vector(v)
    assert np.array_equal(model.to_vector(), v)


def test_engine_model_l2_applies_to_matrices_or_the_decay_flags():
    def forward(p, X):
        return X @ p[0] + p[1]

    params = [np.ones((2, 2)), np.ones(2)]
    X, Y = np.zeros((1, 2)), np.array([[0.0, 1.0]])
    default = EngineModel(forward, params, 2, cost="quadratic", output="identity",
                          dtype="float64")
    plain = default.gradients(X, Y)
    reg = default.gradients(X, Y, l2=4.0, n=2)
    np.testing.assert_allclose(reg[0] - plain[0], 2.0 * np.ones((2, 2)))
    assert np.array_equal(reg[1], plain[1])
    flagged = EngineModel(forward, params, 2, cost="quadratic", output="identity",
                          dtype="float64", decay=[False, True])
    reg = flagged.gradients(X, Y, l2=4.0, n=2)
    assert np.array_equal(reg[0], plain[0])
    np.testing.assert_allclose(reg[1] - plain[1], 2.0 * np.ones(2))


def test_engine_model_bad_input():
    def forward(p, X):
        return X @ p[0]

    with pytest.raises(InputError, match="forward\\(params, X\\) failed"):
        EngineModel(forward, [np.ones((3, 2))], n_inputs=4)
    with pytest.raises(InputError, match="shape"):
        EngineModel(lambda p, X: cr.sum(X @ p[0]), [np.ones((3, 2))], n_inputs=3)
    with pytest.raises(InputError, match="needs output 'softmax'"):
        EngineModel(forward, [np.ones((3, 2))], n_inputs=3, cost="log-likelihood",
                    output="sigmoid")
    with pytest.raises(InputError, match="decay"):
        EngineModel(forward, [np.ones((3, 2))], n_inputs=3, decay=[True, False])
    model = EngineModel(forward, [np.ones((3, 2))], n_inputs=3)
    with pytest.raises(InputError, match="expected 3 columns"):
        model.cost(np.zeros((2, 2)), [0, 1])
    with pytest.raises(InputError, match="row 1 has label 2"):
        model.cost(np.zeros((2, 3)), [0, 2])
    with pytest.raises(InputError, match="expected 6 numbers"):
        model.from_vector(np.zeros(5))


def test_output_cost_is_stable_where_the_outputs_saturate():
    z = np.array([[800.0, -800.0]])
    Y = np.array([[0.0, 1.0]])
    assert float(output_cost(z, Y, "softmax", "log-likelihood")) == pytest.approx(1600.0)
    assert float(output_cost(z, Y, "sigmoid", "cross-entropy")) == pytest.approx(1600.0)
    g = cr.grad(lambda z: output_cost(z, Y, "sigmoid", "cross-entropy"))(z)
    np.testing.assert_allclose(g, [[1.0, -1.0]])         # a − y, no NaN


def test_network_cost_matches_the_numpy_cost_for_every_pairing():
    rng = np.random.default_rng(0)
    for output, cost in [("sigmoid", "quadratic"), ("softmax", "quadratic"),
                         ("identity", "quadratic"), ("sigmoid", "cross-entropy"),
                         ("softmax", "cross-entropy"), ("softmax", "log-likelihood")]:
        net = Network([3, 4, 2], activation="leaky-relu", output=output, cost=cost, seed=1,
                      dtype="float64")
        X, y = rng.normal(size=(5, 3)), rng.integers(0, 2, 5)
        Y = net.encode_targets(y)
        value = float(network_cost(net.params, X, Y, net.config(), l2=1.5, n=9))
        assert value == pytest.approx(net.cost(X, y, l2=1.5, n=9), rel=1e-12), (output, cost)


def test_cr_train_trains_an_engine_model_like_a_network():
    rng = np.random.default_rng(0)

    def forward(p, X):
        return cr.tanh(X @ p[0] + p[1]) @ p[2] + p[3]

    params = [rng.normal(0, 0.5, (4, 8)), np.zeros(8), rng.normal(0, 0.5, (8, 3)), np.zeros(3)]
    model = EngineModel(forward, params, n_inputs=4, dtype="float64")
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    before = model.cost(X, y)
    history = cr.train(model, X, y, epochs=3, optimizer=cr.optim.LBFGS(max_iter=40),
                       progress=False)
    assert history.to_dict()["train_cost"][-1] < before / 3
    assert (model.predict(X) == y).mean() > 0.95
