"""The multilayer network of Nielsen's ch. 2 and Coursera ML ex4: forward pass, cost with L2,
and BP1-BP4 over a whole batch.

Conventions (Nielsen's notation): rows of X are examples; layer l has weights
W^l (n_l, n_{l-1}) and biases b^l (n_l,); z^l = a^{l-1} W^l^T + b^l and a^l = σ(z^l). Backprop
over a batch of m rows, with δ^l = ∂C_x/∂z^l the error of each example:

    BP1  δ^L = ∇_a C ⊙ σ'(z^L)                (a^L − y for the fused pairs, see costs.py)
    BP2  δ^l = (δ^{l+1} W^{l+1}) ⊙ σ'(z^l)
    BP3  ∂C/∂b^l = 1/m Σ_rows δ^l
    BP4  ∂C/∂W^l = 1/m δ^l^T a^{l-1}  (+ λ/n W^l for the L2 term)

:meth:`Network.backprop` computes them as written (:meth:`Network.backprop_trace` keeps
every z, a and δ); :meth:`Network.gradients`, in ``_fused.py``, is the same arithmetic fused
into BLAS products for training, and is tested equal to it.

>>> import numpy as np
>>> net = Network([2, 2, 2], weights=[[[.15, .20], [.25, .30]], [[.40, .45], [.50, .55]]],
...               biases=[[.35, .35], [.60, .60]], dtype="float64")   # Mazur's worked example
>>> X, y = np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]])
>>> round(net.cost(X, y), 9)
0.298371109
>>> grad_weights, grad_biases = net.backprop(X, y)
>>> round(float(0.40 - 0.5 * grad_weights[1][0, 0]), 8)    # w5 after one step with η = 0.5
0.35891648
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chainrule.errors import InputError, quoted
from chainrule.nn._fused import FusedBackprop, flat_views
from chainrule.nn.activations import ACTIVATIONS, probabilities
from chainrule.nn.costs import COSTS, check_pairing
from chainrule.nn.init import INITS, initialise
from chainrule.nn.inputs import (
    as_matrix,
    check_batch,
    check_dtype,
    check_inputs,
    check_l2,
    check_prepared,
    check_sizes,
    encode_targets,
)

_CONFIG_KEYS = ("sizes", "activation", "output", "cost", "init", "init_scale", "seed", "dtype")


@dataclass
class BackpropTrace:
    """Everything one forward and backward pass computed (for the explain ledger).

    ``a[0]`` is the input X and ``a[l]`` the activation of layer l; ``z[l-1]``, ``delta[l-1]``
    belong to layer l (lists per weight layer). ``delta`` holds each example's error δ (no 1/m);
    ``delta_rule`` says which equation made it ("BP1" for the output layer, "BP2" otherwise) and
    ``bp1`` which form BP1 took. ``grad_a`` is ∇_a C of each example at the output.
    """

    a: list
    z: list
    delta: list
    delta_rule: list
    bp1: str
    grad_a: np.ndarray
    grad_weights: list
    grad_biases: list
    cost: float

    def _repr_html_(self):
        """Jupyter's view: the shapes per layer and a summary, not every array."""
        from chainrule.explanations.display import trace_html

        return trace_html(self)


class CostName(str):
    """A cost's name that can be called to compute it (``net.cost`` is both)."""

    def __new__(cls, name, compute):
        self = super().__new__(cls, name)
        self._compute = compute
        return self

    def __call__(self, X, y, l2=0.0, n=None):
        """C = C_0 + λ/(2n) Σ w² on (X, y), validating both."""
        return self._compute(X, y, l2, n)


class Network(FusedBackprop):
    """A fully connected network trained by backpropagation.

    ``output`` defaults to sigmoid for the quadratic and cross-entropy costs and softmax for
    log-likelihood. ``weights``/``biases`` (both or neither) build it from known numbers;
    otherwise ``init`` draws them with ``numpy.random.default_rng(seed)`` (``init_scale``:
    ε of ``uniform``, a multiplier for the others). ``params`` is [W^1, b^1, W^2, b^2, ...];
    ``weights`` and ``biases`` are the same live arrays, views into one flat vector, so
    in-place updates by an optimiser are seen everywhere.

    >>> net = Network([3, 5, 3], cost="log-likelihood", seed=0)
    >>> net.output, [p.shape for p in net.params], net.dtype
    ('softmax', [(5, 3), (5,), (3, 5), (3,)], dtype('float32'))
    """

    def __init__(self, sizes, activation="sigmoid", output=None, cost="quadratic",
                 init="scaled-normal", seed=None, dtype="float32", weights=None, biases=None,
                 init_scale=None):
        self.sizes = list(check_sizes(sizes))
        if output is None:
            output = "softmax" if cost == "log-likelihood" else "sigmoid"
        check_pairing(self.sizes, activation, output, cost)
        if init not in INITS:
            raise InputError(f"unknown init {quoted(init)}; choose one of {', '.join(INITS)}")
        self.activation, self.output, self.cost_name = activation, output, cost
        self.init, self.init_scale, self.seed = init, init_scale, seed
        self.dtype = check_dtype(dtype)
        self._hidden = ACTIVATIONS[activation]
        self._output = ACTIVATIONS[output]
        self._cost = COSTS[cost]
        if (weights is None) != (biases is None):
            raise InputError("weights and biases: give both or neither")
        if weights is None:
            weights, biases = initialise(self.sizes, init, seed, init_scale)
        else:
            weights, biases = self._check_given(weights, biases)
        self._theta, self.params = flat_views(
            [p for pair in zip(weights, biases) for p in pair], self.dtype)
        self.weights, self.biases = self.params[0::2], self.params[1::2]
        self._scratch = {}  # batch size -> (activation buffers, delta buffers) for gradients()
        self._last_output = None  # a^L of the last gradients() call (a view of its scratch)
        self._rowsums = {}   # batch size -> softmax's row sums, for the C step
        self._step_codes = False   # the C step's codes for this network (None: not taken)

    @property
    def cost(self):
        """The cost's name, a str that is also callable: ``net.cost(X, y, l2=0.0, n=None)``.

        >>> net = Network([2, 1], init="zeros", dtype="float64")
        >>> net.cost, net.cost([[1.0, 2.0]], [1])       # C = (1 − 0.5)² / 2
        ('quadratic', 0.125)
        """
        return CostName(self.cost_name, self.compute_cost)

    @property
    def cost_function(self):
        """The :class:`~chainrule.nn.costs.Cost` object (``fn``, ``grad_a``, ``delta``)."""
        return self._cost

    def _check_given(self, weights, biases):
        L = len(self.sizes) - 1
        if len(weights) != L or len(biases) != L:
            raise InputError(f"weights and biases: expected {L} of each for sizes "
                             f"{list(self.sizes)}, got {len(weights)} and {len(biases)}")
        Ws, bs = [], []
        for l, (W, b) in enumerate(zip(weights, biases), start=1):
            n_in, n_out = self.sizes[l - 1], self.sizes[l]
            Ws.append(as_matrix(W, (n_out, n_in), f"weights[{l - 1}] (W^{l}, layer "
                                 f"{n_in} -> {n_out})"))
            bs.append(as_matrix(b, (n_out,), f"biases[{l - 1}] (b^{l})"))
        return Ws, bs

    def __repr__(self):
        return (f"Network({list(self.sizes)}, activation={self.activation!r}, "
                f"output={self.output!r}, cost={self.cost_name!r}, dtype='{self.dtype}')")

    def _repr_html_(self):
        """Jupyter's view: the layers drawn, their sizes, activations and the cost."""
        from chainrule.explanations.display import network_html

        return network_html(self)

    def _repr_svg_(self):
        """The drawing of the layers alone."""
        from chainrule.explanations.drawing import network_svg

        return network_svg(self)

    # ---------------------------------------------------------------- validation
    def check_inputs(self, X):
        """X as a C-contiguous (n, sizes[0]) array of the network's dtype, else InputError.

        >>> Network([2, 1], dtype="float64").check_inputs([[0.5, float("nan")]])
        Traceback (most recent call last):
        ...
        chainrule.errors.InputError: X: row 0, column 1 is nan; inputs must be finite numbers
        """
        return check_inputs(X, self.sizes[0], self.dtype)

    def encode_targets(self, y):
        """Labels (n,) -> one-hot (n, k); a target matrix (n, k) is checked and cast.

        Labels are integers 0..k-1 for k output units, 0/1 for a single output unit.

        >>> Network([2, 3], seed=0).encode_targets([2, 0])
        array([[0., 0., 1.],
               [1., 0., 0.]], dtype=float32)
        """
        return encode_targets(y, self.sizes[-1], self.dtype,
                              distributions=self.cost_name == "log-likelihood")

    def _check_batch(self, X, y):
        return check_batch(X, y, self.sizes[0], self.sizes[-1], self.dtype,
                           distributions=self.cost_name == "log-likelihood")

    # ---------------------------------------------------------------- forward pass and cost
    def _layers(self):
        L = len(self.weights)
        for l, (W, b) in enumerate(zip(self.weights, self.biases), start=1):
            yield W, b, (self._output if l == L else self._hidden)

    def forward(self, X):
        """The output activations a^L for the rows of X.

        >>> Network([2, 3], init="zeros").forward([[1.0, 2.0]])
        array([[0.5, 0.5, 0.5]], dtype=float32)
        """
        return self._forward(self.check_inputs(X))

    def predict_proba(self, X):
        """Class probabilities: a^L of softmax outputs, [1 − a, a] of one sigmoid unit.

        Several sigmoid units are independent outputs, not a distribution over the classes
        (a row need not sum to 1): InputError, saying so; :meth:`forward` gives them.

        >>> Network([2, 1], init="zeros").predict_proba([[1.0, 2.0]])
        array([[0.5, 0.5]], dtype=float32)
        """
        return probabilities(self.forward(X), self.output)

    def predict(self, X):
        """Class labels: argmax of a^L, or a >= 0.5 for a single output unit.

        >>> Network([2, 1], init="zeros").predict([[1.0, 2.0]])
        array([1])
        """
        a = self.forward(X)
        if a.shape[1] == 1:
            return (a[:, 0] >= 0.5).astype(np.int64)
        return a.argmax(axis=1)

    def penalty(self, l2, n):
        """The L2 term λ/(2n) Σ_w w² over the weights only (Nielsen's eq. 87), a Python float.

        >>> Network([2, 1], weights=[[[3.0, 4.0]]], biases=[[1.0]]).penalty(2.0, 10)  # 2/20·25
        2.5
        """
        n = check_l2(l2, n, None)
        if not l2:
            return 0.0
        return l2 / (2 * n) * sum(float(np.vdot(W, W)) for W in self.weights)

    def _stats(self, a, Y):
        """(Σ_x C_0,x, rows predicted right) of outputs a^L against encoded targets Y."""
        if a.shape[1] == 1:
            correct = np.count_nonzero((a[:, 0] >= 0.5) == (Y[:, 0] >= 0.5))
        else:
            correct = np.count_nonzero(a.argmax(axis=1) == Y.argmax(axis=1))
        return self._cost.fn(a, Y) * len(a), int(correct)

    def score(self, X, y):
        """Accuracy in [0, 1]: the fraction of rows whose :meth:`predict` is the label
        (scikit-learn's ``score``); ``y`` is labels or targets, both validated as for
        :meth:`cost`.

        >>> net = Network([2, 1], init="zeros")          # a = 0.5 everywhere: class 1
        >>> net.score([[1.0, 2.0], [3.0, 4.0]], [1, 0])
        0.5
        """
        X, Y = self._check_batch(X, y)
        return self.totals(X, Y)[1] / len(X)

    def totals(self, X, Y):
        """(Σ_x C_0,x, rows right) on X checked and Y encoded, in one forward pass (no L2 term).

        No pass over the values (only their shapes are checked): for callers that checked X
        once and score it in chunks (``cr.train``).

        >>> net = Network([2, 1], init="zeros", dtype="float64")   # a = 0.5: C_x = 0.125
        >>> net.totals(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0], [0.0]]))
        (0.25, 1)
        """
        check_prepared(X, Y, self.sizes[0], self.sizes[-1], self.dtype, "totals")
        return self._stats(self._forward(X), Y)

    def compute_cost(self, X, y, l2=0.0, n=None):
        """C = C_0 + λ/(2n) Σ w², C_0 averaged over the rows given (labels or targets)."""
        X, Y = self._check_batch(X, y)
        n = check_l2(l2, n, len(X))
        return self._cost.fn(self._forward(X), Y) + self.penalty(l2, n)

    # ---------------------------------------------------------------- backprop, as written
    def backprop_trace(self, X, y, l2=0.0, n=None) -> BackpropTrace:
        """BP1-BP4 as Nielsen writes them (ch. 2), batched, keeping every z, a and δ.

        Validates its input. Rows are examples, so BP2's ``(W^{l+1})^T δ^{l+1}`` is the row
        form ``δ^{l+1} W^{l+1}`` and BP4's ``δ^l (a^{l-1})^T`` sums ``δ^l^T a^{l-1}`` over rows.
        """
        X, Y = self._check_batch(X, y)
        n = check_l2(l2, n, len(X))
        m, L = len(X), len(self.weights)
        # the forward pass: z^l = a^{l-1} W^l^T + b^l and a^l = σ(z^l), for l = 1 .. L
        a, z = [X], []
        for W, b, sigma in self._layers():
            z.append(a[-1] @ W.T + b)
            a.append(sigma.forward(z[-1].copy()))
        delta = [None] * L   # delta[l - 1] is δ^l, each example's ∂C_x/∂z^l
        # BP1: the output error, δ^L = ∇_a C ⊙ σ'(z^L)
        delta[L - 1] = self._cost.delta(a[-1], Y, self._output)
        # BP2: each hidden layer's error from the one above, δ^l = (δ^{l+1} W^{l+1}) ⊙ σ'(z^l)
        for l in range(L - 2, -1, -1):
            delta[l] = self._hidden.backward(delta[l + 1] @ self.weights[l + 1], a[l + 1])
        # BP3: ∂C/∂b^l = 1/m Σ_x δ^l
        grad_biases = [d.sum(axis=0) / m for d in delta]
        # BP4: ∂C/∂W^l = 1/m Σ_x δ^l a^{l-1}^T, plus λ/n W^l from the L2 term
        grad_weights = [d.T @ a_prev / m + (l2 / n) * W
                        for d, a_prev, W in zip(delta, a, self.weights)]
        fused = self._output.name == self._cost.fused_output
        return BackpropTrace(a=a, z=z, delta=delta, delta_rule=["BP2"] * (L - 1) + ["BP1"],
                             bp1="a - y" if fused else "grad_a C * sigma'(z)",
                             grad_a=self._cost.grad_a(a[-1], Y), grad_weights=grad_weights,
                             grad_biases=grad_biases,
                             cost=self._cost.fn(a[-1], Y) + self.penalty(l2, n))

    def backprop(self, X, y, l2=0.0, n=None):
        """(grad_weights, grad_biases) of the cost C, by BP1-BP4 (validates its input).

        The readable pass of :meth:`backprop_trace`; training runs the fused one,
        :meth:`gradients`, which gives the same numbers up to rounding.

        >>> import numpy as np
        >>> net = Network([2, 2], cost="cross-entropy", init="zeros", dtype="float64")
        >>> grad_weights, grad_biases = net.backprop([[1.0, 2.0]], [0])   # δ = a - y
        >>> grad_weights[0].tolist(), grad_biases[0].tolist()
        ([[-0.5, -1.0], [0.5, 1.0]], [-0.5, 0.5])
        """
        trace = self.backprop_trace(X, y, l2, n)
        return trace.grad_weights, trace.grad_biases

    # ---------------------------------------------------------------- unrolled parameters
    def to_vector(self):
        """All parameters as one 1-d array in ``params`` order (ex4's unrolled thetaVec).

        >>> Network([2, 1], init="zeros").to_vector().shape
        (3,)
        """
        return self._theta.copy()

    def from_vector(self, v):
        """Write the unrolled vector v into the live parameter arrays (in place)."""
        try:
            v = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError("from_vector: expected a 1-d array of numbers") from None
        if v.shape != self._theta.shape:
            raise InputError(f"from_vector: expected {self._theta.size} numbers (sizes "
                             f"{list(self.sizes)}), got shape {v.shape}")
        self._theta[...] = v

    # ---------------------------------------------------------------- description
    def config(self):
        """A JSON-serialisable description of the architecture (for save/load)."""
        return {"sizes": list(self.sizes), "activation": self.activation,
                "output": self.output, "cost": self.cost_name, "init": self.init,
                "init_scale": self.init_scale, "seed": self.seed, "dtype": str(self.dtype)}

    @classmethod
    def from_config(cls, config, params=None):
        """Rebuild from :meth:`config`; ``params`` ([W^1, b^1, ...]) restores the numbers.

        >>> net = Network([3, 2], seed=1)
        >>> copy = Network.from_config(net.config(), net.params)
        >>> bool((copy.to_vector() == net.to_vector()).all())
        True
        """
        if not isinstance(config, dict) or "sizes" not in config:
            raise InputError("config: expected a dict with at least 'sizes'")
        unknown = sorted(set(config) - set(_CONFIG_KEYS))
        if unknown:
            raise InputError(f"config: unknown keys {unknown}; expected {list(_CONFIG_KEYS)}")
        kwargs = dict(config)
        if params is not None:
            params = list(params)
            kwargs["weights"], kwargs["biases"] = params[0::2], params[1::2]
            if len(params) % 2:
                raise InputError(f"params: expected pairs W, b, got {len(params)} arrays")
        return cls(**kwargs)

    def astype(self, dtype):
        """A copy of this network with parameters in ``dtype`` ('float32' or 'float64')."""
        return Network.from_config({**self.config(), "dtype": str(check_dtype(dtype))},
                                   self.params)
