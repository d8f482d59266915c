"""scikit-learn's own estimator checks, every one of them, on both estimators.

The instances use ``max_iter=100``, as scikit-learn's test suite does for its own MLPs
(the published defaults stay scikit-learn's); the L-BFGS and SGD instances run the checks
through the other solvers' code paths.
"""

import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from chainrule.sklearn import MLPClassifier, MLPRegressor

ESTIMATORS = [MLPClassifier(max_iter=100), MLPRegressor(max_iter=100),
              MLPClassifier(solver="lbfgs", max_iter=100),
              MLPRegressor(solver="sgd", max_iter=100)]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
