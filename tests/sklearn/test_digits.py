"""On the problems scikit-learn's MLP is used for, the estimators do as well as scikit-learn's."""

import warnings

import numpy as np
import pytest
import sklearn.neural_network as sk
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from chainrule.sklearn import MLPClassifier, MLPRegressor


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, random_state=0)


def test_digits_accuracy_matches_sklearns(digits):
    X_train, X_test, y_train, y_test = digits
    scores = []
    for cls in (sk.MLPClassifier, MLPClassifier):
        model = make_pipeline(StandardScaler(), cls(hidden_layer_sizes=(100,), max_iter=200,
                                                    random_state=0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        scores.append(model.score(X_test, y_test))
    assert scores[0] > 0.95
    assert abs(scores[1] - scores[0]) <= 0.01


def test_grid_search_with_two_workers_and_cross_validation(digits):
    X_train, _, y_train, _ = digits
    X, y = X_train[:450], y_train[:450]
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(30,), max_iter=20,
                                                         learning_rate_init=0.01,
                                                         random_state=0))
    search = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 3.0],
                                 "mlpclassifier__solver": ["adam", "sgd"]}, cv=2, n_jobs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
        scores = cross_val_score(pipe, X, y, cv=3)
    assert search.best_score_ > 0.9 and search.best_estimator_[-1].network_.sizes == [64, 30, 10]
    assert len(search.cv_results_["mean_test_score"]) == 4
    assert scores.shape == (3,) and scores.min() > 0.85


def test_regressor_fits_a_smooth_function_as_well_as_sklearns():
    rng = np.random.default_rng(0)
    X = rng.uniform(-np.pi, np.pi, (300, 2))
    y = np.sin(X[:, 0]) * np.cos(X[:, 1])
    X_test = rng.uniform(-np.pi, np.pi, (200, 2))
    y_test = np.sin(X_test[:, 0]) * np.cos(X_test[:, 1])
    scores = []
    for cls in (sk.MLPRegressor, MLPRegressor):
        model = cls(hidden_layer_sizes=(20,), activation="tanh", solver="lbfgs", max_iter=200,
                    random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            scores.append(model.fit(X, y).score(X_test, y_test))
    assert scores[0] > 0.95 and scores[1] > scores[0] - 0.01
