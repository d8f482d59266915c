"""Construction, names, init and symmetry, live parameters, unrolling, config, bad input."""

import json
import warnings

import numpy as np
import pytest

from chainrule.errors import InputError
from chainrule.nn import ACTIVATIONS, COSTS, INITS, Network


def test_name_tables():
    assert list(ACTIVATIONS) == ["sigmoid", "tanh", "relu", "leaky-relu", "identity", "softmax"]
    assert list(COSTS) == ["quadratic", "cross-entropy", "log-likelihood"]
    assert list(INITS) == ["uniform", "scaled-normal", "normal", "xavier", "he", "zeros"]


@pytest.mark.parametrize("cost,output", [("quadratic", "sigmoid"), ("cross-entropy", "sigmoid"),
                                         ("log-likelihood", "softmax")])
def test_default_output_follows_the_cost(cost, output):
    net = Network([3, 2], cost=cost)
    assert net.output == output
    assert net.cost == cost and isinstance(net.cost, str)
    assert json.loads(json.dumps({"cost": net.cost})) == {"cost": cost}


def test_params_are_live_views_shared_by_weights_biases_and_the_vector():
    net = Network([3, 4, 2], seed=0)
    assert [p.shape for p in net.params] == [(4, 3), (4,), (2, 4), (2,)]
    assert net.weights[0] is net.params[0] and net.biases[1] is net.params[3]
    net.params[0] -= 1.0                   # an optimiser's in-place update
    net.biases[1][...] = 7.0
    v = net.to_vector()
    assert np.array_equal(v[:12], net.weights[0].ravel())
    assert np.array_equal(v[-2:], [7.0, 7.0])


def test_to_vector_from_vector_round_trip_in_place():
    net = Network([3, 5, 3], init="uniform", seed=0, dtype="float64")
    v = net.to_vector()
    assert v.shape == (5 * 3 + 5 + 3 * 5 + 3,)
    W1 = net.weights[0]
    new = np.arange(v.size, dtype=float)
    net.from_vector(new)
    assert net.weights[0] is W1                      # same object, new numbers
    assert np.array_equal(net.to_vector(), new)
    assert np.array_equal(net.weights[0], new[:15].reshape(5, 3))   # row-major unrolling
    assert np.array_equal(net.biases[1], new[-3:])
    net.from_vector(v)
    assert np.array_equal(net.to_vector(), v)
    v[0] = 99.0                                      # to_vector is a copy
    assert net.to_vector()[0] != 99.0


def test_config_round_trip_and_astype():
    net = Network([4, 3, 2], activation="tanh", cost="cross-entropy", init="xavier", seed=3)
    config = json.loads(json.dumps(net.config()))
    again = Network.from_config(config)                 # same seed: same numbers
    assert np.array_equal(again.to_vector(), net.to_vector())
    copy = Network.from_config(config, [p * 2 for p in net.params])
    assert np.array_equal(copy.to_vector(), 2 * net.to_vector())
    wide = net.astype("float64")
    assert wide.dtype == np.float64 and net.dtype == np.float32
    assert np.array_equal(wide.to_vector(), net.to_vector().astype(np.float64))
    assert (wide.sizes, wide.activation, wide.output, wide.cost) == (
        net.sizes, net.activation, net.output, net.cost)


def test_explicit_weights_are_used_as_given():
    net = Network([2, 1], weights=[[[1.0, -2.0]]], biases=[[0.5]], output="identity",
                  dtype="float64")
    assert net.forward([[3.0, 1.0]])[0, 0] == pytest.approx(3.0 - 2.0 + 0.5)


# ------------------------------------------------------------------ initialisation
@pytest.mark.parametrize("init", list(INITS))
def test_init_is_seeded_and_leaves_the_global_rng_alone(init):
    np.random.seed(123)  # noqa: NPY002 - checking the legacy global RNG is untouched
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = Network([5, 4, 3], init=init, seed=7)
        b = Network([5, 4, 3], init=init, seed=7)
        c = Network([5, 4, 3], init=init, seed=8)
    assert np.array_equal(np.random.get_state()[1], state)  # noqa: NPY002
    assert np.array_equal(a.to_vector(), b.to_vector())
    assert init == "zeros" or not np.array_equal(a.to_vector(), c.to_vector())


def test_init_distributions():
    big = [400, 300]
    uniform = Network(big, init="uniform", seed=0, dtype="float64")
    assert np.abs(uniform.to_vector()).max() <= 0.12
    assert np.abs(uniform.to_vector()).max() > 0.119
    wide = Network(big, init="uniform", init_scale=0.5, seed=0, dtype="float64")
    assert 0.49 < np.abs(wide.to_vector()).max() <= 0.5
    scaled = Network(big, init="scaled-normal", seed=0, dtype="float64")
    assert scaled.weights[0].std() == pytest.approx(1 / np.sqrt(400), rel=0.02)
    assert scaled.biases[0].std() == pytest.approx(1.0, rel=0.15)
    normal = Network(big, init="normal", seed=0, dtype="float64")
    assert normal.weights[0].std() == pytest.approx(1.0, rel=0.02)
    he = Network(big, init="he", seed=0, dtype="float64")
    assert he.weights[0].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert not he.biases[0].any()
    xavier = Network(big, init="xavier", seed=0, dtype="float64")
    limit = np.sqrt(6 / 700)
    assert limit * 0.99 < np.abs(xavier.weights[0]).max() <= limit
    assert not xavier.biases[0].any()
    # float32 and float64 draws are the same numbers, rounded
    assert np.array_equal(Network(big, init="he", seed=0).to_vector(),
                          he.to_vector().astype(np.float32))


def _sgd(net, X, y, steps, eta=1.0):
    X, Y = net.check_inputs(X), net.encode_targets(y)
    for _ in range(steps):
        for p, g in zip(net.params, net.gradients(X, Y)):
            p -= eta * g


def test_zero_init_warns_and_hidden_units_stay_identical():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 4)), rng.integers(0, 3, 20)
    with pytest.warns(UserWarning, match="symmetry"):
        net = Network([4, 5, 3], init="zeros", dtype="float64")
    _sgd(net, X, y, steps=25)
    W1, W2 = net.weights
    assert np.abs(W1).max() > 1e-3                         # the first layer did learn...
    # ...but every hidden unit alike. Exactly so in exact arithmetic; in floating point a BLAS
    # may sum different rows of a product in different orders (OpenBLAS's kernels depend on
    # the CPU), so the units agree to rounding: what the warning promises, no more.
    rounding = 64 * np.finfo(np.float64).eps
    assert np.ptp(W1, axis=0).max() <= rounding * np.abs(W1).max()
    assert np.ptp(net.biases[0]) <= rounding * np.abs(net.biases[0]).max()
    assert np.ptp(W2, axis=1).max() <= rounding * np.abs(W2).max()   # the output sees them alike


def test_random_init_breaks_the_symmetry():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 4)), rng.integers(0, 3, 20)
    net = Network([4, 5, 3], init="uniform", seed=0, dtype="float64")
    _sgd(net, X, y, steps=25)
    assert np.ptp(net.weights[0], axis=0).min() > 1e-3


def test_zeros_without_hidden_layer_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Network([4, 3], init="zeros")


# ------------------------------------------------------------------ forward and predict
def test_predict_argmax_and_single_unit_threshold():
    net = Network([2, 3], output="identity", weights=[np.eye(3, 2)], biases=[[0, 0, 0.5]],
                  dtype="float64")
    assert net.predict([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]).tolist() == [0, 1, 2]
    one = Network([1, 1], weights=[[[1.0]]], biases=[[0.0]], dtype="float64")
    assert one.predict([[-1.0], [0.0], [2.0]]).tolist() == [0, 1, 1]   # σ(0) = 0.5 -> 1
    assert one.encode_targets([0, 1]).tolist() == [[0.0], [1.0]]


def test_softmax_rows_sum_to_one_and_sigmoid_does_not_overflow():
    net = Network([2, 3], output="softmax", cost="quadratic", weights=[[[1e3, 0], [0, 1e3],
                  [-1e3, 0]]], biases=[[0, 0, 0]], dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = net.forward([[5.0, 1.0], [-5.0, 0.0]])
        s = Network([1, 1], weights=[[[1.0]]], biases=[[0.0]]).forward([[-1e4], [1e4]])
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    assert s.ravel().tolist() == [0.0, 1.0]


def test_predict_proba_is_a_distribution_or_refused():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(20, 3))
    soft = Network([3, 5, 4], cost="log-likelihood", seed=1, dtype="float64")
    np.testing.assert_allclose(soft.predict_proba(X).sum(axis=1), 1.0)
    assert np.array_equal(soft.predict_proba(X), soft.forward(X))
    one = Network([3, 5, 1], cost="cross-entropy", seed=1, dtype="float64")   # P(class 1) = a
    a = one.forward(X)[:, 0]
    p = one.predict_proba(X)
    assert p.shape == (20, 2)
    np.testing.assert_allclose(p[:, 1], a)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert np.array_equal(p.argmax(axis=1), one.predict(X))
    several = Network([3, 5, 4], cost="cross-entropy", seed=1, dtype="float64")
    assert not np.allclose(several.forward(X).sum(axis=1), 1.0)   # independent outputs
    with pytest.raises(InputError, match="4 sigmoid outputs are independent.*not probabilities"):
        several.predict_proba(X)
    with pytest.raises(InputError, match="identity outputs are not probabilities"):
        Network([3, 4], output="identity").predict_proba(X)


def test_score_is_accuracy_and_totals_the_cost_sum_and_rows_right():
    rng = np.random.default_rng(5)
    net = Network([3, 6, 4], cost="log-likelihood", seed=2, dtype="float64")
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 4, 40)
    accuracy = net.score(X, y)
    assert accuracy == np.mean(net.predict(X) == y)           # scikit-learn's score
    assert 0.0 <= accuracy <= 1.0
    assert net.score(X, net.encode_targets(y)) == accuracy    # targets as well as labels
    assert net.score(X, net.predict(X)) == 1.0
    cost_sum, right = net.totals(net.check_inputs(X), net.encode_targets(y))
    assert right == round(accuracy * 40)
    assert cost_sum == pytest.approx(net.cost(X, y) * 40, rel=1e-12)


@pytest.mark.parametrize("X,y,message", [
    (np.zeros(3), [0], "X: expected"),                        # one row given as a vector
    (np.zeros((2, 5)), [0, 1], "X: expected 3 columns"),
    (np.full((2, 3), np.nan), [0, 1], "nan"),
    (np.zeros((2, 3)), [0, 4], "y: row 1 has label 4"),
    (np.zeros((2, 3)), [0, -1], "y: row 1 has label -1"),
    (np.zeros((2, 3)), [0, 1, 1], "y: 3 rows"),
    (np.zeros((2, 3)), np.zeros((2, 3)), "y: targets have 3 columns"),
    (np.zeros((2, 3)), [0.5, 1], "not an integer class label"),
])
def test_score_names_the_bad_argument(X, y, message):
    net = Network([3, 4, 4], seed=0)
    with pytest.raises(InputError, match=message):
        net.score(X, y)


@pytest.mark.parametrize("method", ["gradients", "value_and_grad", "totals"])
@pytest.mark.parametrize("X,Y,message", [
    ([[0.0, 0.0, 0.0]], [[1.0, 0.0]], "X must be checked inputs.*got list"),
    (np.zeros(3), np.zeros((1, 2)), r"X must be checked inputs.*got shape \(3,\)"),
    (np.zeros((2, 4)), np.zeros((2, 2)), r"X must be.*\(n, 3\) float64"),
    (np.zeros((2, 3), dtype=np.float32), np.zeros((2, 2)), "X must be.*got shape .* float32"),
    (np.zeros((0, 3)), np.zeros((0, 2)), "X must be"),
    (np.zeros((2, 3)), np.array([0.0, 1.0]), r"Y must be encoded targets, a \(2, 2\)"),
    (np.zeros((2, 3)), np.zeros((3, 2)), r"Y must be encoded targets.*got shape \(3, 2\)"),
])
def test_hot_paths_check_shapes_not_numpy_errors(method, X, Y, message):
    net = Network([3, 4, 2], seed=0, dtype="float64")
    with pytest.raises(InputError, match=f"{method}: {message}"):
        getattr(net, method)(X, Y)


@pytest.mark.parametrize("call,message", [
    (lambda net: net.penalty("1", 10), "l2: expected a finite number >= 0, got '1'"),
    (lambda net: net.penalty(float("nan"), 10), "l2: expected a finite number >= 0, got nan"),
    (lambda net: net.penalty(10**400, 10), "l2: expected a finite number >= 0, got 1000"),
    (lambda net: net.penalty(1.0, 0), "n: expected the number of training examples"),
    (lambda net: net.penalty(1.0, None), "n: the L2 term .* needs n"),
    (lambda net: net.gradients(np.zeros((2, 3)), np.zeros((2, 2)), l2="x"), "l2: expected"),
    (lambda net: net.value_and_grad(np.zeros((2, 3)), np.zeros((2, 2)), 1.0, 2.5), "n: expected"),
])
def test_l2_and_n_are_checked_on_every_path(call, message):
    with pytest.raises(InputError, match=message):
        call(Network([3, 4, 2], seed=0, dtype="float64"))


def test_saturated_outputs_give_a_finite_cost():
    net = Network([1, 1], cost="cross-entropy", weights=[[[1.0]]], biases=[[0.0]],
                  dtype="float64")
    assert np.isfinite(net.cost([[1e4]], [0]))
    assert net.cost([[1e4]], [0]) > 100


# ------------------------------------------------------------------ bad input
def net():
    return Network([3, 4, 2], seed=0)


BAD_CONSTRUCTION = [
    (dict(sizes=[3]), "at least two layer sizes"),
    (dict(sizes=[3, 0, 2]), "sizes"),
    (dict(sizes=[3, 2.5]), "sizes"),
    (dict(sizes="abc"), "sizes"),
    (dict(sizes=[3, 2], activation="sigmoidd"), "unknown activation 'sigmoidd'"),
    (dict(sizes=[3, 2], cost="mse"), "unknown cost 'mse'; choose one of quadratic"),
    (dict(sizes=[3, 2], init="glorot"), "unknown init 'glorot'"),
    (dict(sizes=[3, 2], output="softplus"), "unknown output activation"),
    (dict(sizes=[3, 4, 2], activation="softmax"), "only be used for the output layer"),
    (dict(sizes=[3, 1], output="softmax"), "at least 2 output units"),
    (dict(sizes=[3, 2], output="sigmoid", cost="log-likelihood"), "needs output 'softmax'"),
    (dict(sizes=[3, 2], output="tanh", cost="cross-entropy"), "outputs in\n?.*\\(0, 1\\)"),
    (dict(sizes=[3, 2], output="relu", cost="cross-entropy"), "cross-entropy"),
    (dict(sizes=[3, 2], dtype="int32"), "dtype"),
    (dict(sizes=[3, 2], dtype="float16"), "dtype"),
    (dict(sizes=[3, 2], init="uniform", init_scale=-1), "init_scale"),
    (dict(sizes=[3, 2], seed=-1), "seed"),
    (dict(sizes=[3, 2], seed="abc"), "seed"),
    (dict(sizes=[3, 2], weights=[np.zeros((2, 3))]), "both or neither"),
    (dict(sizes=[3, 2], weights=[np.zeros((2, 3))] * 2, biases=[np.zeros(2)] * 2),
     "expected 1 of each"),
    (dict(sizes=[3, 2], weights=[np.zeros((3, 2))], biases=[np.zeros(2)]),
     r"W\^1.*expected shape \(2, 3\), got \(3, 2\)"),
    (dict(sizes=[3, 2], weights=[np.zeros((2, 3))], biases=[np.zeros(3)]),
     r"b\^1.*expected shape \(2,\)"),
    (dict(sizes=[3, 2], weights=[[[0, 0, np.nan], [0, 0, 0]]], biases=[np.zeros(2)]),
     r"entry \(0, 2\) is nan"),
]


@pytest.mark.parametrize("kwargs,message", BAD_CONSTRUCTION)
def test_bad_construction_raises_input_error(kwargs, message):
    with pytest.raises(InputError, match=message):
        Network(**kwargs)


BAD_X = [
    ([[1.0, 2.0]], "expected 3 columns"),
    ([1.0, 2.0, 3.0], "2-d array"),
    (np.zeros((0, 3)), "no rows"),
    ([[1.0, 2.0, 3.0], [1.0, np.nan, 0.0]], "row 1, column 1 is nan"),
    ([[1.0, 2.0, 3.0], [1.0, 0.0, -np.inf]], "row 1, column 2 is -inf"),
    ([[1.0, 1e300, 3.0]], "row 0, column 1 is 1e\\+300; too large for float32"),
    ([["a", "b", "c"]], "expected numbers"),
    ([[1.0, 2.0, 3.0], [1.0]], "different lengths"),
]


@pytest.mark.parametrize("X,message", BAD_X)
def test_bad_inputs_name_what_and_where(X, message):
    with pytest.raises(InputError, match=message):
        net().forward(X)


X3 = np.zeros((3, 3))
BAD_Y = [
    ([0, 1, 2], r"row 2 has label 2, but the output layer has 2 units \(labels 0..1\)"),
    ([0, -1, 1], "row 1 has label -1"),
    ([0, 1.5, 1], "row 1 is 1.5, not an integer class label"),
    ([0, np.nan, 1], "row 1 is nan"),
    (np.zeros((3, 3)), "targets have 3 columns but the output layer has 2 units"),
    ([[0, 1], [1, 0], [np.inf, 0]], "row 2, column 0 is inf"),
    ([0, 1], "2 rows of labels or targets for 3 rows of X"),
    (np.zeros((3, 2, 1)), "expected class labels"),
    (["a", "b", "c"], "expected numbers"),
]


@pytest.mark.parametrize("y,message", BAD_Y)
def test_bad_labels_and_targets_name_what_and_where(y, message):
    with pytest.raises(InputError, match=message):
        net().cost(X3, y)
    with pytest.raises(InputError, match=message):
        net().backprop(X3, y)


def test_log_likelihood_targets_must_be_distributions():
    softmax = Network([3, 2], cost="log-likelihood", seed=0, dtype="float64")
    with pytest.raises(InputError, match=r"target row 1 \(\[0.5, 0.7\]\) is not a probability"):
        softmax.cost(np.zeros((2, 3)), [[1.0, 0.0], [0.5, 0.7]])
    with pytest.raises(InputError, match="target row 0"):
        softmax.encode_targets([[1.5, -0.5]])
    soft = np.array([[0.25, 0.75], [0.5, 0.5]])          # soft targets are fine ...
    X = np.random.default_rng(0).normal(size=(2, 3))
    grads = softmax.gradients(X, softmax.encode_targets(soft))
    h, W = 1e-6, softmax.weights[0]                       # ... and a − y is their gradient
    W[0, 0] += h
    up = softmax.cost(X, soft)
    W[0, 0] -= 2 * h
    down = softmax.cost(X, soft)
    W[0, 0] += h
    assert grads[0][0, 0] == pytest.approx((up - down) / (2 * h), rel=1e-6)


def test_labels_as_whole_floats_and_bools_are_accepted():
    assert net().encode_targets(np.array([1.0, 0.0])).tolist() == [[0, 1], [1, 0]]
    assert net().encode_targets(np.array([True, False])).tolist() == [[0, 1], [1, 0]]


@pytest.mark.parametrize("kwargs,message", [(dict(l2=-1.0), "l2"), (dict(l2=float("nan")), "l2"),
                                            (dict(l2="big"), "l2"), (dict(n=0), "n: expected"),
                                            (dict(n=2.5), "n: expected")])
def test_bad_l2_and_n(kwargs, message):
    with pytest.raises(InputError, match=message):
        net().cost(X3, [0, 1, 0], **kwargs)


def test_bad_vector_and_config():
    with pytest.raises(InputError, match="expected 26 numbers"):
        net().from_vector(np.zeros(21))
    with pytest.raises(InputError, match="unknown keys"):
        Network.from_config({"sizes": [3, 2], "layers": 3})
    with pytest.raises(InputError, match="sizes"):
        Network.from_config({"activation": "sigmoid"})
    with pytest.raises(InputError, match="pairs"):
        Network.from_config({"sizes": [3, 2]}, [np.zeros((2, 3))])


def test_input_error_is_a_value_error():
    with pytest.raises(ValueError):
        net().forward([[1.0]])


def test_lazy_exports_resolve_and_a_saved_network_loads_back(tmp_path):
    from chainrule import nn

    assert {"save", "load", "check_network", "EngineModel"} <= set(dir(nn))
    net = Network([3, 4, 2], activation="tanh", cost="log-likelihood", seed=0)
    nn.save(net, tmp_path / "m.npz")
    again = nn.load(tmp_path / "m.npz")
    assert again.config() == net.config()
    assert np.array_equal(again.to_vector(), net.to_vector())
    with pytest.raises(AttributeError):
        nn.no_such_name


def test_checking_a_large_X_for_finiteness_needs_no_mask_as_large_as_X():
    """Checking 60,000 MNIST-sized rows (188 MB of float32) made a 47 MB boolean mask, the
    jump in peak memory of a full-MNIST training run; the check now goes piece by piece."""
    import tracemalloc

    X = np.zeros((60000, 784), dtype=np.float32)
    tracemalloc.start()
    try:
        checked = Network([784, 10], dtype="float32").check_inputs(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert checked is X or np.shares_memory(checked, X)           # no copy either
    assert peak < 4 * 2**20


@pytest.mark.parametrize("row", [0, 333, 334, 999])
def test_a_nan_in_any_piece_is_named_by_its_row_and_column(row, monkeypatch):
    from chainrule.nn import inputs

    monkeypatch.setattr(inputs, "_FINITE_PIECE", 1000)          # 333 rows of 3 a piece
    X = np.zeros((1000, 3))
    X[row, 2] = np.inf
    with pytest.raises(InputError, match=f"row {row}, column 2 is inf"):
        Network([3, 2]).check_inputs(X)
