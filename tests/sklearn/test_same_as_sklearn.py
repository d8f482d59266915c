"""Same parameters, same numbers: each solver follows scikit-learn's MLP step for step.

The default initialisation draws scikit-learn's weights from the same ``random_state`` and
the epoch loop draws the same shuffles, so loss curves, weights and stopping agree with
scikit-learn's to rounding (float64, a few epochs: tolerances far above BLAS's rounding).
"""

import io
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
import sklearn.neural_network as sk
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning

import chainrule.sklearn as cr_sk

RTOL = 1e-7
# a few epochs only: neither library converges, and says so; that is not what is tested here
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def data(kind, n=120, seed=0):
    if kind == "multilabel":
        return make_multilabel_classification(n_samples=n, n_features=6, n_classes=3,
                                              random_state=seed)
    if kind == "regression":
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(n, 5))
        return X, np.column_stack([np.sin(X[:, 0]) + X[:, 1], X[:, 2] * X[:, 3]])
    classes = 2 if kind == "binary" else 4
    return make_classification(n_samples=n, n_features=6, n_informative=4,
                               n_classes=classes, random_state=seed)


def both(kind, fit="fit", **params):
    """scikit-learn's and chainrule's estimator fitted on the same data with ``params``."""
    X, y = data(kind)
    name = "MLPRegressor" if kind == "regression" else "MLPClassifier"
    fitted = []
    for module in (sk, cr_sk):
        est = getattr(module, name)(**params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if fit == "fit":
                est.fit(X, y)
            else:                                      # three partial_fit calls
                for _ in range(3):
                    extra = {"classes": np.unique(y)} if name == "MLPClassifier" \
                        and kind != "multilabel" else {}
                    est.partial_fit(X, y, **extra)
        fitted.append(est)
    return (*fitted, X)


def assert_same(ours, theirs, X, rtol=RTOL):
    assert ours.n_iter_ == theirs.n_iter_ and ours.t_ == theirs.t_
    if hasattr(theirs, "loss_curve_"):
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=rtol)
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=rtol)
    for a, b in zip([*ours.coefs_, *ours.intercepts_], [*theirs.coefs_, *theirs.intercepts_],
                    strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
    if ours.predict(X).dtype.kind == "f":
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-6, atol=1e-9)
    else:
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    assert ours.out_activation_ == theirs.out_activation_
    assert ours.n_outputs_ == theirs.n_outputs_ and ours.n_layers_ == theirs.n_layers_


SOLVERS = [
    dict(solver="adam"),
    dict(solver="adam", alpha=0.5, batch_size=32, beta_1=0.8, epsilon=1e-4),
    dict(solver="sgd", learning_rate_init=0.05),                          # Nesterov momentum
    dict(solver="sgd", learning_rate_init=0.05, nesterovs_momentum=False, alpha=0.01),
    dict(solver="sgd", learning_rate_init=0.1, momentum=0.0, learning_rate="invscaling"),
    dict(solver="sgd", learning_rate_init=0.2, learning_rate="adaptive", n_iter_no_change=2,
         tol=0.05),
    dict(solver="adam", shuffle=False, activation="tanh", hidden_layer_sizes=(7, 5)),
    dict(solver="adam", activation="logistic", tol=1e-2, n_iter_no_change=2),  # stops early
]


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel", "regression"])
@pytest.mark.parametrize("params", SOLVERS, ids=lambda p: ",".join(f"{k}={v}" for k, v in
                                                                     p.items()))
def test_stochastic_solvers_follow_sklearn(kind, params):
    theirs, ours, X = both(kind, **{"max_iter": 12, "random_state": 3,
                                    "hidden_layer_sizes": (9,), **params})
    assert_same(ours, theirs, X)
    assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=RTOL)


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_early_stopping_follows_sklearn(kind):
    theirs, ours, X = both(kind, max_iter=15, random_state=1, early_stopping=True,
                           n_iter_no_change=3, hidden_layer_sizes=(8,))
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=RTOL)
    assert ours.best_validation_score_ == pytest.approx(theirs.best_validation_score_)
    assert ours.best_loss_ is None and theirs.best_loss_ is None
    assert_same(ours, theirs, X)       # the best epoch's weights restored in both


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel", "regression"])
def test_lbfgs_follows_sklearn(kind):
    if kind == "regression":       # one output: scikit-learn's loss is then the quadratic cost
        X, y = data(kind)
        theirs = sk.MLPRegressor(solver="lbfgs", max_iter=30, random_state=0).fit(X, y[:, 0])
        ours = cr_sk.MLPRegressor(solver="lbfgs", max_iter=30, random_state=0).fit(X, y[:, 0])
    else:
        theirs, ours, X = both(kind, solver="lbfgs", max_iter=30, random_state=0, alpha=0.1)
    assert_same(ours, theirs, X, rtol=1e-6)


@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_partial_fit_and_warm_start_follow_sklearn(kind):
    theirs, ours, X = both(kind, fit="partial_fit", random_state=2, solver="sgd",
                           learning_rate_init=0.05)
    assert_same(ours, theirs, X)
    for est in (theirs, ours):
        est.set_params(warm_start=True, max_iter=4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(*data(kind))
    assert_same(ours, theirs, X)
    assert len(ours.loss_curve_) == 3 + 4


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_sample_weights_follow_sklearn(solver):
    X, y = data("multiclass")
    w = np.random.default_rng(0).uniform(0.1, 3.0, len(y))
    fitted = [module.MLPClassifier(solver=solver, max_iter=10, random_state=0, alpha=0.3)
              for module in (sk, cr_sk)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for est in fitted:
            est.fit(X, y, sample_weight=w)
    assert_same(fitted[1], fitted[0], X, rtol=1e-6)


def test_verbose_prints_what_sklearn_prints():
    printed = []
    for module in (sk, cr_sk):
        out = io.StringIO()
        with redirect_stdout(out), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            module.MLPClassifier(max_iter=30, verbose=True, random_state=0, tol=0.05,
                                 n_iter_no_change=2).fit(*data("binary"))
        printed.append(out.getvalue())
    assert printed[0] == printed[1]
    assert printed[1].startswith("Iteration 1, loss = ") and "Stopping." in printed[1]


def test_float32_stays_float32_like_sklearn():
    X, y = data("multiclass")
    theirs = sk.MLPClassifier(max_iter=5, random_state=0).fit(X.astype(np.float32), y)
    ours = cr_sk.MLPClassifier(max_iter=5, random_state=0).fit(X.astype(np.float32), y)
    assert ours.network_.dtype == np.float32 and ours.coefs_[0].dtype == theirs.coefs_[0].dtype
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-4)
