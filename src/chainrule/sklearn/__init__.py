"""scikit-learn estimators over chainrule's network: ``MLPClassifier`` and ``MLPRegressor``.

Drop-in replacements for scikit-learn's: the same parameter names and defaults, the same
fitted attributes, ``fit``/``partial_fit``/``predict``/``predict_proba``/``score``, in
pipelines, grid searches and joblib workers; plus ``network_``, the fitted
:class:`chainrule.nn.Network`, for ``cr.explain``, ``cr.plots`` and ``cr.nn.save``.

>>> from sklearn.datasets import load_iris
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> X, y = load_iris(return_X_y=True)
>>> model = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(10,),
...                       solver="lbfgs", random_state=0)).fit(X, y)
>>> model.score(X, y) > 0.95, model[-1].network_.sizes, model[-1].network_.cost
(True, [4, 10, 3], 'log-likelihood')
"""

from chainrule.sklearn.classifier import MLPClassifier
from chainrule.sklearn.regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
