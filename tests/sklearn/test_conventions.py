"""scikit-learn's conventions held by the chainrule estimators, and the mapping between them."""

import io
import json
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

import chainrule as cr
from chainrule.sklearn import MLPClassifier, MLPRegressor
from chainrule.sklearn._fit import example_costs, weighted_value_and_grad

ROOT = Path(__file__).resolve().parents[2]


def blobs(n=90, seed=0, classes=3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    return rng.normal(size=(n, 4)) + 2.0 * y[:, None], y


def quiet(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def test_coefs_are_views_of_the_transposed_weights():
    X, y = blobs()
    clf = quiet(MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0), X, y)
    net = clf.network_
    for coef, W, b, intercept in zip(clf.coefs_, net.weights, net.biases, clf.intercepts_,
                                     strict=True):
        assert coef.shape == W.T.shape and np.shares_memory(coef, W)
        np.testing.assert_array_equal(coef, W.T)
        assert np.shares_memory(intercept, b)
    np.testing.assert_allclose(clf.predict_proba(X),             # sklearn's X @ coefs_ + b
                               net.forward(X), rtol=1e-12)
    clf.coefs_[1] = np.zeros_like(clf.coefs_[1])                   # writes W^2 itself
    clf.intercepts_[1][...] = [0.0, 0.0, 5.0]
    assert (net.weights[1] == 0).all() and (clf.predict(X) == 2).all()
    with pytest.raises(ValueError, match=r"expected an array of shape \(5, 3\)"):
        clf.coefs_[1] = np.zeros((3, 5))
    with pytest.raises(NotFittedError):
        MLPClassifier().coefs_
    assert not hasattr(MLPClassifier(), "coefs_")


def test_pickle_and_joblib_round_trips_keep_views_and_optimizer_state():
    X, y = blobs()
    clf = MLPClassifier(hidden_layer_sizes=(6,), solver="sgd", learning_rate_init=0.05,
                        random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    copy = pickle.loads(pickle.dumps(clf))
    buffer = io.BytesIO()
    joblib.dump(clf, buffer)
    buffer.seek(0)
    from_joblib = joblib.load(buffer)
    for other in (copy, from_joblib):
        np.testing.assert_array_equal(other.predict_proba(X), clf.predict_proba(X))
        assert np.shares_memory(other.coefs_[0], other.network_.weights[0])
        params = other.network_.params        # views of one vector again, as in any Network
        assert all(p.base is params[0].base for p in params)
    # momentum's velocity came along: the next epoch is the same as the original's
    clf.partial_fit(X, y)
    copy.partial_fit(X, y)
    np.testing.assert_allclose(copy.loss_curve_, clf.loss_curve_, rtol=1e-12)
    np.testing.assert_allclose(copy.coefs_[0], clf.coefs_[0], rtol=1e-12)


def test_clone_and_set_params_keep_parameters_untouched():
    clf = MLPClassifier(hidden_layer_sizes=[7], cost="cross-entropy", init="he", alpha=0.1)
    assert clone(clf).get_params() == clf.get_params()
    assert clf.set_params(solver="cg").solver == "cg"
    X, y = blobs()
    quiet(clf, X, y)
    assert clf.hidden_layer_sizes == [7] and "network_" not in clone(clf).__dict__


def test_string_and_non_contiguous_labels():
    X, y = blobs()
    for labels in (np.array(["cat", "dog", "emu"]), np.array([2, 5, 11])):
        clf = quiet(MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0),
                    X, labels[y])
        np.testing.assert_array_equal(clf.classes_, labels)
        assert clf.predict(X).dtype == labels.dtype and clf.score(X, labels[y]) > 0.9
        proba = clf.predict_proba(X)
        np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))


def test_multilabel_targets():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0, X[:, 0] + X[:, 1] > 0]).astype(int)
    clf = quiet(MLPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", random_state=0), X, Y)
    assert clf.predict(X).shape == Y.shape and clf.out_activation_ == "logistic"
    assert clf.predict_proba(X).shape == Y.shape and clf.score(X, Y) > 0.9
    with pytest.raises(ValueError, match="multilabel targets need independent outputs"):
        MLPClassifier(cost="log-likelihood").fit(X, Y)


@pytest.mark.parametrize("cost", ["cross-entropy", "quadratic", "log-likelihood"])
def test_chainrule_costs_give_probabilities(cost):
    X, y = blobs()
    clf = quiet(MLPClassifier(hidden_layer_sizes=(6,), solver="lbfgs", cost=cost,
                              random_state=0), X, y)
    assert clf.network_.cost == cost
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.score(X, y) > 0.9
    binary = quiet(clone(clf), X, y % 2)
    assert binary.predict_proba(X).shape == (len(X), 2)
    assert binary.network_.sizes[-1] == (2 if cost == "log-likelihood" else 1)
    np.testing.assert_allclose(binary.predict_proba(X).sum(axis=1), 1.0)


def test_init_is_seeded_from_random_state():
    X, y = blobs()
    a = quiet(MLPClassifier(hidden_layer_sizes=(6,), init="he", max_iter=3, random_state=4),
              X, y)
    b = quiet(MLPClassifier(hidden_layer_sizes=(6,), init="he", max_iter=3, random_state=4),
              X, y)
    c = quiet(MLPClassifier(hidden_layer_sizes=(6,), init="he", max_iter=3, random_state=5),
              X, y)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    assert not np.allclose(a.coefs_[0], c.coefs_[0])


def test_cg_solver_converges():
    X, y = blobs()
    clf = quiet(MLPClassifier(hidden_layer_sizes=(6,), solver="cg", max_iter=200,
                              random_state=0), X, y)
    assert clf.score(X, y) > 0.95 and len(clf.loss_curve_) == clf.n_iter_
    assert clf.loss_curve_[-1] < clf.loss_curve_[0] / 5


def test_convergence_warnings():
    X, y = blobs()
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        MLPClassifier(max_iter=3).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        MLPClassifier(solver="lbfgs", max_iter=2).fit(X, y)


def test_refusals_name_the_problem():
    X, y = blobs()
    with pytest.raises(ValueError, match="loss='poisson' needs an exponential output layer"):
        MLPRegressor(loss="poisson").fit(X, y)
    with pytest.raises(ValueError, match="identity outputs take cost=None or 'quadratic'"):
        MLPRegressor(cost="cross-entropy").fit(X, y)
    with pytest.raises(InvalidParameterError, match="'momentum' parameter"):
        MLPClassifier(momentum=1.0).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'cost' parameter"):
        MLPClassifier(cost="hinge").fit(X, y)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        MLPClassifier().partial_fit(X, y)
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    assert not hasattr(MLPRegressor(solver="cg"), "partial_fit")
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        MLPClassifier().fit(X, y, sample_weight=-np.ones(len(y)))


# ---------------------------------------------------------------- the objective and weights
def random_net(cost, output, sizes=(3, 4, 2)):
    return cr.nn.Network(list(sizes), activation="tanh", output=output, cost=cost,
                         dtype="float64", seed=0)


@pytest.mark.parametrize("cost,output", [("quadratic", "identity"),
                                         ("cross-entropy", "sigmoid"),
                                         ("log-likelihood", "softmax")])
def test_weighted_gradient_is_the_derivative_of_sklearns_objective(cost, output):
    net = random_net(cost, output)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(7, 3))
    Y = np.eye(2)[rng.integers(0, 2, 7)] if output == "softmax" else rng.uniform(0, 1, (7, 2))
    s, alpha = rng.uniform(0.2, 2.0, 7), 0.3
    # example costs add up to the network's cost
    assert example_costs(net, net.forward(X), Y).mean() == pytest.approx(net.cost(X, Y))
    J, grads = weighted_value_and_grad(net, X, Y, s, alpha)
    theta = net.to_vector()

    def objective(v):
        net.from_vector(v)
        data = s @ example_costs(net, net.forward(X), Y) / s.sum()
        return data + alpha / (2 * s.sum()) * sum((W ** 2).sum() for W in net.weights)

    assert pytest.approx(objective(theta), rel=1e-12) == J
    eps, numeric = 1e-6, np.empty_like(theta)
    for k in range(theta.size):
        step = np.zeros_like(theta)
        step[k] = eps
        numeric[k] = (objective(theta + step) - objective(theta - step)) / (2 * eps)
    net.from_vector(theta)
    np.testing.assert_allclose(np.concatenate([g.ravel() for g in grads]), numeric,
                               rtol=1e-6, atol=1e-9)
    # all weights 1: the Network's own gradient with λ = alpha and n = the batch's size
    _, plain = weighted_value_and_grad(net, X, Y, np.ones(7), alpha)
    for g, h in zip(plain, net.gradients(X, Y, alpha, 7), strict=True):
        np.testing.assert_allclose(g, h, rtol=1e-12)


def test_integer_weights_are_repeated_rows_for_lbfgs():
    X, y = blobs(40)
    w = np.random.default_rng(0).integers(1, 4, len(y))
    weighted = quiet(MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=50,
                                   random_state=0), X, y, sample_weight=w)
    repeated = quiet(MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=50,
                                   random_state=0), np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X),
                               rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- network_ in chainrule
def test_fitted_network_works_with_explain_save_and_the_cli(tmp_path):
    X, y = cr.data.load_digits("train")
    clf = quiet(MLPClassifier(hidden_layer_sizes=(20,), max_iter=20, random_state=0), X, y)
    ledger = cr.explain(clf.network_, X[0], np.eye(10)[y[0]])
    np.testing.assert_allclose(ledger["layers"][-1]["a"], clf.predict_proba(X[:1])[0],
                               rtol=1e-9)
    pytest.importorskip("matplotlib", reason="pip install 'chainrule[plots]'")
    figure = cr.plots.weight_images(clf.network_.weights[0])      # ex4's hidden-unit images
    assert figure.axes[0].get_title() == "weights of 20 hidden units"
    path = tmp_path / "mlp.npz"
    cr.nn.save(clf.network_, path)
    np.testing.assert_array_equal(cr.nn.load(path).predict(X), clf.predict(X))
    done = subprocess.run([sys.executable, "-m", "chainrule", "evaluate", str(path),
                           "--data", "digits", "--json"], capture_output=True, text=True,
                          cwd=tmp_path, env={"PYTHONPATH": str(ROOT / "src"),
                                             "PATH": "/usr/bin:/bin"}, check=False)
    assert done.returncode == 0, done.stderr
    X_test, y_test = cr.data.load_digits("test")
    assert json.loads(done.stdout)["accuracy"] == pytest.approx(clf.score(X_test, y_test))
