"""MLPRegressor: scikit-learn's multilayer-perceptron regressor, trained by chainrule."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import column_or_1d, validate_data

from chainrule.sklearn._base import BaseMLP


class MLPRegressor(RegressorMixin, BaseMLP):
    """A multilayer perceptron regressor with scikit-learn's parameters, defaults and
    attributes: identity outputs, the quadratic cost, trained by chainrule's BP1-BP4.

    Parameters and attributes are those of :class:`~chainrule.sklearn.MLPClassifier` (and of
    scikit-learn's ``MLPRegressor``), except:

    - ``loss``: ``'squared_error'`` (scikit-learn's ``'poisson'`` needs an exponential output
      layer, which chainrule's network does not have, and is refused);
    - ``cost``: None or ``'quadratic'``, C = 1/(2n) Σ ||y − a||² (Nielsen ch. 1). The other
      costs need outputs in (0, 1) and are refused;
    - ``loss_`` and ``loss_curve_`` report scikit-learn's number, the squared error averaged
      over the outputs as well as the rows (chainrule's quadratic cost divided by
      ``n_outputs_``), plus the L2 term. Its gradient is the quadratic cost's: L-BFGS and CG
      minimise that (the same function for one output).

    >>> import numpy as np
    >>> X = np.linspace(-1, 1, 50)[:, None]
    >>> reg = MLPRegressor(hidden_layer_sizes=(20,), activation="tanh", solver="lbfgs",
    ...                    random_state=0).fit(X, np.sin(3 * X).ravel())
    >>> reg.score(X, np.sin(3 * X).ravel()) > 0.99, reg.out_activation_
    (True, 'identity')
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 cost=None, init=None):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.cost = cost
        self.init = init

    def _output_and_cost(self):
        if self.loss == "poisson":
            raise ValueError("loss='poisson' needs an exponential output layer, which "
                             "chainrule's Network does not have; use loss='squared_error'")
        if self.cost not in (None, "quadratic"):
            raise ValueError(f"cost={self.cost!r} needs outputs in (0, 1); a regressor's "
                             "identity outputs take cost=None or 'quadratic'")
        return "identity", "quadratic"

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        Y = y.reshape(len(y), -1) if y.ndim == 1 else y
        return X, Y.astype(X.dtype)

    def _data_scale(self):
        return 1.0 / self.network_.sizes[-1]

    @staticmethod
    def _decode(a):
        return a.ravel() if a.shape[1] == 1 else a

    def _targets_to_labels(self, Y):
        return self._decode(Y)

    _score_function = staticmethod(r2_score)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to X and the targets y, shape (n,) or (n, n_outputs)."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), continuing from the current weights."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X):
        """The network's outputs for the rows of X, shape (n,) or (n, n_outputs)."""
        return self._decode(self._forward(X))
