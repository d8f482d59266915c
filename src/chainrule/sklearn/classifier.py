"""MLPClassifier: scikit-learn's multilayer-perceptron classifier, trained by chainrule."""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d, validate_data

from chainrule.sklearn._base import BaseMLP


class MLPClassifier(ClassifierMixin, BaseMLP):
    """A multilayer perceptron classifier with scikit-learn's parameters, defaults and
    attributes, trained by chainrule's backpropagation (BP1-BP4, Nielsen ch. 2).

    Parameters are scikit-learn's ``MLPClassifier``'s, with the same defaults and meaning
    (see its documentation), plus:

    - ``solver='cg'``: SciPy's nonlinear conjugate gradients on the unrolled parameters, the
      counterpart of Coursera ex4's ``fmincg`` (full batch, like ``'lbfgs'``);
    - ``cost``: None for scikit-learn's log-loss (softmax outputs with ``'log-likelihood'``
      for several classes; sigmoid outputs with ``'cross-entropy'`` for two classes and for
      multilabel targets), or one of chainrule's costs: ``'log-likelihood'`` (softmax; two
      classes get two output units), ``'cross-entropy'`` (a sigmoid unit per class, as in
      ex4) or ``'quadratic'`` (sigmoid units, Nielsen ch. 1). With sigmoid units for
      several classes, ``predict_proba`` divides each row by its sum;
    - ``init``: None for scikit-learn's Glorot-uniform draw (identical weights for the same
      ``random_state``), or a chainrule initialisation (``'uniform'``, ``'scaled-normal'``,
      ``'xavier'``, ``'he'``, ...) seeded from ``random_state``.

    Where the two libraries' conventions differ, the estimator keeps scikit-learn's:
    ``alpha`` is divided by the size of each *mini-batch* (chainrule's λ/(2n) divides by the
    training set's n); ``coefs_[i]`` is a view of ``network_.weights[i].T``;
    ``momentum`` must be below 1. Sparse inputs are not accepted (the network is dense).

    Fitted attributes: scikit-learn's (``classes_``, ``loss_``, ``best_loss_``,
    ``loss_curve_``, ``validation_scores_``, ``best_validation_score_``, ``t_``, ``coefs_``,
    ``intercepts_``, ``n_features_in_``, ``feature_names_in_``, ``n_iter_``, ``n_layers_``,
    ``n_outputs_``, ``out_activation_``) and ``network_``, the :class:`chainrule.nn.Network`
    itself (its class i is ``classes_[i]``), for ``cr.explain``, ``cr.plots`` and
    ``cr.nn.save``. ``loss_curve_`` also records L-BFGS and CG iterations.

    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=500,
    ...                     random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.95, [c.shape for c in clf.coefs_], clf.network_.sizes
    (True, [(4, 10), (10, 3)], [4, 10, 3])
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 cost=None, init=None):
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

    # ------------------------------------------------------------------ targets
    def _cost(self):
        kind = self._label_binarizer.y_type_
        return self.cost or ("log-likelihood" if kind == "multiclass" else "cross-entropy")

    def _two_units(self):
        """Two classes with softmax outputs: one unit per class (scikit-learn uses one)."""
        return self._label_binarizer.y_type_ == "binary" and self._cost() == "log-likelihood"

    def _output_and_cost(self):
        cost = self._cost()
        if cost != "log-likelihood":
            return "sigmoid", cost
        if self._label_binarizer.y_type_.startswith("multilabel"):
            raise ValueError("cost='log-likelihood' makes the labels compete in one softmax; "
                             "multilabel targets need independent outputs: use cost=None or "
                             "'cross-entropy'")
        return "softmax", cost

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, multi_output=True, dtype=(np.float64, np.float32),
                             reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(f"warm_start can only be used where `y` has the same "
                                     f"classes as in the previous call to fit. Previously "
                                     f"got {self.classes_}, `y` has {classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                                 f"{self.classes_}. 'y' has {classes}.")
        Y = self._label_binarizer.transform(y).astype(X.dtype)
        if self._two_units():
            Y = np.hstack([1 - Y, Y])
        return X, Y

    def _stratified_split(self):
        return self._label_binarizer.y_type_ == "binary"

    def _decode(self, a):
        """Labels from the outputs a^L: argmax, or a >= 0.5 per unit (binary, multilabel)."""
        if self._two_units():
            a = a[:, 1:]
        if a.shape[1] == 1:
            a = a.ravel()
        return self._label_binarizer.inverse_transform(a)

    def _targets_to_labels(self, Y):
        return self._decode(Y)

    _score_function = staticmethod(accuracy_score)

    # ------------------------------------------------------------------ the estimator API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to X and the class labels (or label indicator matrix) y."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y); ``classes`` (every label) is required on the first call."""
        known = getattr(self, "classes_", None)
        if known is None and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if classes is not None and known is not None \
                and not np.array_equal(known, unique_labels(classes)):
            raise ValueError(f"`classes={classes!r}` is not the same as on last call to "
                             f"partial_fit, was: {known!r}")
        if known is None:
            self.classes_ = unique_labels(classes)
            multilabel = type_of_target(y).startswith("multilabel")
            self._label_binarizer = LabelBinarizer().fit(y if multilabel else classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X):
        """Class labels for the rows of X."""
        return self._decode(self._forward(X))

    def predict_proba(self, X):
        """Probability of each class, columns in the order of ``classes_``.

        Sigmoid outputs are taken as scipy's ``expit(z^L)``: the network's faster
        (1 + tanh(z/2))/2 rounds probabilities below about 1e-17 to 0 (and ln 0 to −inf).
        """
        net = self._network()
        if net.output == "sigmoid":
            a = self._forward(X, output_z=True)
            expit(a, out=a)
        else:
            a = self._forward(X)
        if a.shape[1] == 1:
            return np.hstack([1 - a, a])
        if self.network_.output == "sigmoid" and self._label_binarizer.y_type_ == "multiclass":
            return a / a.sum(axis=1, keepdims=True)
        return a

    def predict_log_proba(self, X):
        """ln of :meth:`predict_proba`."""
        p = self.predict_proba(X)
        return np.log(p, out=p)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
