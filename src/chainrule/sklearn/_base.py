"""What MLPClassifier and MLPRegressor share: scikit-learn's parameters over a chainrule Network.

The fitted model *is* ``network_``, a :class:`chainrule.nn.Network`; scikit-learn's
``coefs_`` and ``intercepts_`` are views of its arrays: ``coefs_[i]`` is W^{i+1} transposed
(scikit-learn multiplies ``X @ coefs_[i]``, Nielsen's notation ``a W^T``), ``intercepts_[i]``
is b^{i+1}. Writing into them (``coefs_[0][...] = 0`` or ``coefs_[0] = array``) writes the
network's weights.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from chainrule import nn, optim
from chainrule.sklearn import _fit

# scikit-learn's activation names -> chainrule's
ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
# chainrule's output layers -> scikit-learn's out_activation_
OUT_ACTIVATIONS = {"sigmoid": "logistic", "softmax": "softmax", "identity": "identity"}
STOCHASTIC = ("sgd", "adam")


class ParameterList(list):
    """The network's W^T (or b) per layer; ``coefs_[i] = value`` copies into the network."""

    def __setitem__(self, i, value):
        view = self[i]
        value = np.asarray(value)
        if value.shape != view.shape:
            raise ValueError(f"layer {i}: expected an array of shape {view.shape}, got "
                             f"{value.shape}")
        view[...] = value


class BaseMLP(BaseEstimator):
    """Shared by the classifier and the regressor (not for direct use)."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "solver": [StrOptions({"lbfgs", "sgd", "adam", "cg"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        # NOTE: scikit-learn allows momentum = 1 (a velocity that never decays); chainrule's
        # SGD needs μ < 1
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"),
                             Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "cost": [StrOptions(set(nn.COSTS)), None],
        "init": [StrOptions(set(nn.INITS)), None],
    }

    # ------------------------------------------------------------------ the fitted network
    def _network(self):
        net = self.__dict__.get("network_")
        if net is None:
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet; call "
                                 "'fit' first")
        return net

    @property
    def coefs_(self):
        """[W^1.T, W^2.T, ...]: views of the network's weights, shape (n_{l-1}, n_l)."""
        return ParameterList(W.T for W in self._network().weights)

    @coefs_.setter
    def coefs_(self, values):
        target = self.coefs_
        for i, value in enumerate(self._same_length(values, target)):
            target[i] = value

    @property
    def intercepts_(self):
        """[b^1, b^2, ...]: views of the network's biases."""
        return ParameterList(self._network().biases)

    @intercepts_.setter
    def intercepts_(self, values):
        target = self.intercepts_
        for i, value in enumerate(self._same_length(values, target)):
            target[i] = value

    @staticmethod
    def _same_length(values, target):
        values = list(values)
        if len(values) != len(target):
            raise ValueError(f"expected {len(target)} arrays, one per layer, got {len(values)}")
        return values

    @property
    def out_activation_(self):
        """The output layer's activation in scikit-learn's names (logistic, softmax, identity)."""
        return OUT_ACTIVATIONS[self._network().output]

    # ------------------------------------------------------------------ fitting
    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        if np.any(np.array(sizes) <= 0):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        return [int(s) for s in sizes]

    def _fit(self, X, y, sample_weight=None, incremental=False):
        hidden = self._hidden_sizes()
        first_pass = "network_" not in self.__dict__ or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        s = self._weights(sample_weight, X)
        rng = check_random_state(self.random_state)
        if first_pass:
            self._initialize(X, Y, hidden, rng)
        else:
            net = self.network_
            if Y.shape[1] != net.sizes[-1]:
                raise ValueError(f"the network has {net.sizes[-1]} output units but these "
                                 f"targets need {Y.shape[1]}; fit again without warm_start")
            X, Y = X.astype(net.dtype, copy=False), Y.astype(net.dtype, copy=False)
        if self.solver in STOCHASTIC:
            _fit.fit_stochastic(self, X, Y, s, rng, incremental, self._data_scale())
        else:
            _fit.fit_full_batch(self, X, Y, s, self._data_scale())
        if not np.isfinite(self.network_.to_vector()).all():
            raise ValueError("Solver produced non-finite parameter weights. The input data may "
                             "contain large values and need to be preprocessed.")
        return self

    @staticmethod
    def _weights(sample_weight, X):
        """Sample weights as an array, or None when there are none or all are equal (then the
        weighted objective is the plain one and the fused path computes it)."""
        if sample_weight is None:
            return None
        s = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
        return None if (s == s[0]).all() else s

    def _initialize(self, X, Y, hidden, rng):
        sizes = [X.shape[1], *hidden, Y.shape[1]]
        output, cost = self._output_and_cost()
        weights, biases = self._initial_parameters(sizes, rng)
        self.network_ = nn.Network(sizes, activation=ACTIVATIONS[self.activation], output=output,
                                   cost=cost, dtype=X.dtype.name, weights=weights,
                                   biases=biases)
        self.n_iter_, self.t_ = 0, 0
        self.n_outputs_, self.n_layers_ = Y.shape[1], len(sizes)
        self._optimizer = None
        self._best_params = self.network_.to_vector()
        self._no_improvement_count = 0
        self.loss_curve_ = []
        stopping = self.early_stopping and self.solver in STOCHASTIC
        self.validation_scores_ = [] if stopping else None
        self.best_validation_score_ = -np.inf if stopping else None
        self.best_loss_ = np.inf if self.solver in STOCHASTIC and not stopping else None

    def _initial_parameters(self, sizes, rng):
        """scikit-learn's Glorot-uniform draw by default (the same numbers for the same
        ``random_state``), else chainrule's ``init`` seeded from ``random_state``."""
        if self.init is not None:
            return nn.initialise(sizes, self.init, seed=int(rng.randint(np.iinfo(np.int32).max)))
        factor = 2.0 if self.activation == "logistic" else 6.0
        weights, biases = [], []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = np.sqrt(factor / (fan_in + fan_out))
            weights.append(rng.uniform(-bound, bound, (fan_in, fan_out)).T)   # W = coef.T
            biases.append(rng.uniform(-bound, bound, fan_out))
        return weights, biases

    def _data_scale(self):
        return 1.0

    def _stratified_split(self):
        return False

    def _check_solver(self):
        if self.solver not in STOCHASTIC:
            raise AttributeError(f"partial_fit is only available for stochastic optimizers. "
                                 f"{self.solver} is not stochastic.")
        return True

    # ------------------------------------------------------------------ predicting
    def _forward(self, X, output_z=False):
        """a^L for X, validated as scikit-learn does (feature count and names); with
        ``output_z``, the output layer's weighted input z^L instead."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        net = self.network_
        if not output_z:
            return net.forward(X)
        a = net.check_inputs(X)
        for W, b in zip(net.weights[:-1], net.biases[:-1]):
            a = nn.ACTIVATIONS[net.activation].forward(a @ W.T + b)
        return a @ net.weights[-1].T + net.biases[-1]

    def _score(self, X, y, sample_weight=None):
        """The early-stopping score of rows already validated: NaN if the outputs overflowed."""
        a = self.network_.forward(X)
        if not np.isfinite(a).all():
            return np.nan
        return self._score_function(y, self._decode(a), sample_weight=sample_weight)

    # ------------------------------------------------------------------ pickling (joblib)
    def __getstate__(self):
        """The network as its config and numbers, the optimiser as config and state: a
        Network's arrays are views of one vector, which pickle would copy apart."""
        state = super().__getstate__()
        if "network_" in state:
            net = state["network_"]
            state = {**state, "network_": (net.config(), [p.copy() for p in net.params])}
        optimizer = state.get("_optimizer")
        if optimizer is not None:
            state["_optimizer"] = (optimizer.config(), optimizer.state_dict())
        return state

    def __setstate__(self, state):
        state = dict(state)
        if isinstance(state.get("network_"), tuple):
            state["network_"] = nn.Network.from_config(*state["network_"])
        if isinstance(state.get("_optimizer"), tuple):
            config, saved = state["_optimizer"]
            optimizer = optim.optimizer_from_config(config)
            optimizer.load_state_dict(saved, state["network_"].params)
            state["_optimizer"] = optimizer
        super().__setstate__(state)
