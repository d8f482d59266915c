"""The network as an engine function, and any engine-defined model as a trainable model.

:func:`network_cost` is the cost of :class:`~chainrule.nn.Network` written with the engine's
ops, as a function of the parameters: ``cr.grad`` (reverse mode) and ``cr.jvp`` (forward mode)
differentiate it, which is how :func:`~chainrule.nn.check_network` proves BP1-BP4 right.

:class:`EngineModel` wraps *any* model the engine can express (a function ``forward(params, X)``
returning the output layer's weighted input z^L) in the same Trainable-model interface as the
network (``params``, ``gradients``, ``value_and_grad``, ``cost``, ``predict`` ...), so
``cr.train`` and the optimisers treat both alike. Its gradients come from ``cr.value_and_grad``.

>>> import numpy as np, chainrule as cr
>>> def forward(params, X):                       # a user's own two-layer tanh network
...     W1, b1, W2, b2 = params
...     return cr.tanh(X @ W1 + b1) @ W2 + b2      # the scores z^L; softmax comes from the cost
>>> rng = np.random.default_rng(0)
>>> params = [rng.normal(0, 0.5, (4, 8)), np.zeros(8), rng.normal(0, 0.5, (8, 3)), np.zeros(3)]
>>> model = EngineModel(forward, params, n_inputs=4, cost="log-likelihood")
>>> X = rng.normal(size=(60, 4)); y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
>>> X, Y = model.check_inputs(X), model.encode_targets(y)
>>> before = model.cost(X, y)
>>> for step in range(200):                      # plain gradient descent, η = 0.5
...     for p, g in zip(model.params, model.gradients(X, Y)):
...         p -= 0.5 * g
>>> bool(model.cost(X, y) < before / 2), float((model.predict(X) == y).mean()) > 0.9
(True, True)
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.errors import InputError, quoted
from chainrule.nn._fused import flat_views
from chainrule.nn.activations import ACTIVATIONS, LEAKY_SLOPE, probabilities
from chainrule.nn.costs import check_pairing
from chainrule.nn.inputs import (
    check_batch,
    check_dtype,
    check_inputs,
    check_l2,
    check_prepared,
    encode_targets,
)
from chainrule.nn.network import CostName

# the activations of activations.py, written with the engine's ops
ENGINE_ACTIVATIONS = {
    "sigmoid": cr.sigmoid,
    "tanh": cr.tanh,
    "relu": cr.relu,
    "leaky-relu": lambda z: cr.leaky_relu(z, LEAKY_SLOPE),
    "identity": lambda z: z,
    "softmax": lambda z: cr.softmax(z, axis=1),
}


def output_cost(z, Y, output, cost):
    """C_0 (mean over the rows) from the output layer's weighted input z^L, with engine ops.

    Softmax + log-likelihood uses ``log_softmax`` and sigmoid + cross-entropy uses
    ``y ln σ(z) + (1 − y) ln(1 − σ(z)) = y z − softplus(z)``: both stay finite when the
    outputs saturate. Other pairs take ln of ``max(a, tiny)`` as costs.py does.

    >>> import numpy as np
    >>> float(output_cost(np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]), "softmax",
    ...                   "log-likelihood"))   # −ln(1/2)
    0.6931471805599453
    """
    m = Y.shape[0]
    if cost == "log-likelihood":  # check_pairing guarantees a softmax output
        return -cr.sum(Y * cr.log_softmax(z, axis=1)) / m
    if cost == "cross-entropy" and output == "sigmoid":
        softplus = cr.maximum(z, 0.0) + cr.log(1.0 + cr.exp(-cr.abs(z)))
        return cr.sum(softplus - Y * z) / m
    a = ENGINE_ACTIVATIONS[output](z)
    if cost == "quadratic":
        return 0.5 * cr.sum((a - Y) ** 2) / m
    tiny = float(np.finfo(Y.dtype).tiny)  # cross-entropy on softmax outputs
    return -cr.sum(Y * cr.log(cr.maximum(a, tiny)) + (1 - Y) * cr.log(cr.maximum(1 - a, tiny))) / m


def _regularised(cost, weights, l2, n):
    """C_0 + λ/(2n) Σ w² as an engine expression (C_0 itself when λ = 0: no extra nodes)."""
    if not l2:
        return cost
    return cost + (l2 / (2 * n)) * sum(cr.sum(W * W) for W in weights)


def network_cost(params, X, Y, config, l2=0.0, n=None):
    """The network's regularised cost C(params) with the engine's ops (C_0 + λ/(2n) Σ w²).

    ``params`` is [W^1, b^1, W^2, b^2, ...] (arrays or tensors), Y encoded targets, ``config``
    the network's :meth:`~chainrule.nn.Network.config` (activation, output and cost are read).

    >>> import chainrule as cr
    >>> net = cr.nn.Network([3, 4, 2], cost="cross-entropy", seed=0, dtype="float64")
    >>> X, Y = net.check_inputs([[0.1, 0.2, 0.3]]), net.encode_targets([1])
    >>> f = lambda *params: network_cost(params, X, Y, net.config(), l2=1.0)
    >>> grads = cr.grad(f, argnums=(0, 1, 2, 3))(*net.params)
    >>> all(np.allclose(g, b) for g, b in zip(grads, net.gradients(X, Y, l2=1.0)))
    True
    """
    n = Y.shape[0] if n is None else n
    weights, biases = params[0::2], params[1::2]
    hidden = ENGINE_ACTIVATIONS[config["activation"]]
    a = X
    for l, (W, b) in enumerate(zip(weights, biases), start=1):
        z = a @ cr.transpose(W) + b               # z^l = a^{l-1} W^l^T + b^l
        if l < len(weights):
            a = hidden(z)
    return _regularised(output_cost(z, Y, config["output"], config["cost"]), weights, l2, n)


class EngineModel:
    """A model written with the engine's ops, trainable like :class:`~chainrule.nn.Network`.

    ``forward(params, X)`` returns the output layer's weighted input z^L (n, k); ``output``
    (default: softmax for log-likelihood, else sigmoid) turns it into a^L and ``cost`` scores
    it, exactly as for the network. The L2 term applies to the parameters with two or more
    dimensions (the weight matrices), or to those marked True in ``decay``. ``params`` are
    copied once into the model's dtype; ``model.params`` are the live arrays.
    """

    def __init__(self, forward, params, n_inputs, cost="log-likelihood", output=None,
                 dtype="float32", decay=None):
        self.dtype = check_dtype(dtype)
        try:
            arrays = [np.asarray(p, dtype=np.float64) for p in params]
        except (TypeError, ValueError):
            raise InputError("params: expected a list of arrays of numbers") from None
        self._theta, self.params = flat_views(arrays, self.dtype)
        self.forward_fn = forward
        self.output = output or ("softmax" if cost == "log-likelihood" else "sigmoid")
        self.cost_name = cost
        if not isinstance(n_inputs, int | np.integer) or n_inputs < 1:
            raise InputError(f"n_inputs: expected a positive int, got {quoted(n_inputs)}")
        try:
            z = np.asarray(forward(self.params, np.zeros((1, n_inputs), dtype=self.dtype)))
        except Exception as error:  # a user's function: report it as bad input, one line
            raise InputError(f"forward(params, X) failed on a (1, {n_inputs}) input: "
                             f"{type(error).__name__}: {error}") from None
        if z.ndim != 2 or z.shape[0] != 1:
            raise InputError(f"forward(params, X) must return z^L of shape (n, k); for n = 1 it "
                             f"returned shape {z.shape}")
        self.sizes = [int(n_inputs), int(z.shape[1])]
        check_pairing(self.sizes, "identity", self.output, cost)
        self._decay = ([p.ndim >= 2 for p in self.params] if decay is None else
                       [bool(d) for d in decay])
        if len(self._decay) != len(self.params):
            raise InputError(f"decay: expected {len(self.params)} flags, got {len(self._decay)}")
        self._argnums = tuple(range(len(self.params)))

    def __repr__(self):
        return (f"EngineModel({self.sizes[0]} inputs -> {self.sizes[1]} outputs, "
                f"output={self.output!r}, cost={self.cost_name!r}, dtype='{self.dtype}')")

    @property
    def cost(self):
        """The cost's name, a str that is also callable: ``model.cost(X, y, l2=0.0, n=None)``."""
        return CostName(self.cost_name, self.compute_cost)

    def _objective(self, X, Y, l2, n):
        def f(*params):
            z = self.forward_fn(list(params), X)
            decayed = [p for p, d in zip(params, self._decay) if d]
            return _regularised(output_cost(z, Y, self.output, self.cost_name), decayed, l2, n)
        return f

    def check_inputs(self, X):
        """X as an (n, n_inputs) array of the model's dtype, else InputError."""
        return check_inputs(X, self.sizes[0], self.dtype)

    def encode_targets(self, y):
        """Labels (n,) -> one-hot (n, k); a target matrix (n, k) is checked and cast."""
        return encode_targets(y, self.sizes[1], self.dtype,
                              distributions=self.cost_name == "log-likelihood")

    def value_and_grad(self, X, Y, l2=0.0, n=None):
        """(cost, gradients matching ``params``) by the engine's reverse mode; X checked and Y
        encoded (only their shapes are checked here)."""
        check_prepared(X, Y, self.sizes[0], self.sizes[1], self.dtype, "value_and_grad")
        n = check_l2(l2, n, len(X))
        f = self._objective(X, Y, l2, n)
        value, grads = cr.value_and_grad(f, argnums=self._argnums)(*self.params)
        return float(value), [np.asarray(g, dtype=self.dtype) for g in grads]

    def gradients(self, X, Y, l2=0.0, n=None):
        """Gradients matching ``params`` (X checked, Y encoded; the training hot path)."""
        return self.value_and_grad(X, Y, l2, n)[1]

    def compute_cost(self, X, y, l2=0.0, n=None):
        """C = C_0 + λ/(2n) Σ w² on (X, y), validating both."""
        X, Y = check_batch(X, y, self.sizes[0], self.sizes[1], self.dtype,
                           distributions=self.cost_name == "log-likelihood")
        n = check_l2(l2, n, len(X))
        return float(np.asarray(self._objective(X, Y, l2, n)(*self.params)))

    def penalty(self, l2, n):
        """The L2 term λ/(2n) Σ w² over the decayed parameters, a Python float."""
        n = check_l2(l2, n, None)
        if not l2:
            return 0.0
        return l2 / (2 * n) * sum(float(np.vdot(p, p)) for p, d in zip(self.params, self._decay)
                                  if d)

    def score(self, X, y):
        """Accuracy in [0, 1] on labels or targets ``y`` (scikit-learn's ``score``), validated."""
        X, Y = check_batch(X, y, self.sizes[0], self.sizes[1], self.dtype,
                           distributions=self.cost_name == "log-likelihood")
        return self.totals(X, Y)[1] / len(X)

    def totals(self, X, Y):
        """(Σ_x C_0,x, rows predicted right) on X checked and Y encoded: one forward pass, no
        validation, no L2 term (``cr.train`` scores a whole set this way, in chunks).

        >>> model = EngineModel(lambda params, X: X @ params[0], [np.zeros((2, 2))], n_inputs=2,
        ...                     dtype="float64")     # a^L = (1/2, 1/2): C_x = ln 2, argmax 0
        >>> model.totals(np.ones((3, 2)), np.eye(2)[[0, 1, 1]])
        (2.0794415416798357, 1)
        >>> model.score(np.ones((3, 2)), [0, 1, 1])
        0.3333333333333333
        """
        check_prepared(X, Y, self.sizes[0], self.sizes[1], self.dtype, "totals")
        z = np.asarray(self.forward_fn(self.params, X))
        cost = float(np.asarray(output_cost(z, Y, self.output, self.cost_name))) * len(X)
        a = np.array(z, dtype=self.dtype)
        a = ACTIVATIONS[self.output].forward(a, out=a)
        if a.shape[1] == 1:
            correct = np.count_nonzero((a[:, 0] >= 0.5) == (Y[:, 0] >= 0.5))
        else:
            correct = np.count_nonzero(a.argmax(axis=1) == Y.argmax(axis=1))
        return cost, int(correct)

    def forward(self, X):
        """The output activations a^L for the rows of X."""
        X = self.check_inputs(X)
        z = np.array(self.forward_fn(self.params, X), dtype=self.dtype)
        return ACTIVATIONS[self.output].forward(z, out=z)

    def predict_proba(self, X):
        """Class probabilities as ``Network.predict_proba`` gives them (InputError for several
        sigmoid outputs, which are independent)."""
        return probabilities(self.forward(X), self.output)

    def predict(self, X):
        """Class labels: argmax of a^L, or a >= 0.5 for a single output unit."""
        a = self.forward(X)
        return (a[:, 0] >= 0.5).astype(np.int64) if a.shape[1] == 1 else a.argmax(axis=1)

    def to_vector(self):
        """All parameters as one 1-d array, in ``params`` order."""
        return self._theta.copy()

    def from_vector(self, v):
        """Write the unrolled vector v into the live parameter arrays (in place)."""
        v = np.asarray(v)
        if v.shape != self._theta.shape:
            raise InputError(f"from_vector: expected {self._theta.size} numbers, got shape "
                             f"{v.shape}")
        self._theta[...] = v

    def config(self):
        """A JSON description (the forward function itself cannot be saved)."""
        return {"kind": "engine", "sizes": list(self.sizes), "output": self.output,
                "cost": self.cost_name, "dtype": str(self.dtype),
                "shapes": [list(p.shape) for p in self.params]}
