"""Cost functions C with their value and the output-layer error δ^L (BP1).

All costs average over the n rows they are given (Nielsen's C = 1/n Σ_x C_x), ``a``
and ``y`` are (n, k):

- ``quadratic``:      C = 1/(2n) Σ_x ||y − a||²,                      ∇_a C = a − y
- ``cross-entropy``:  C = −1/n Σ_x Σ_j [y_j ln a_j + (1 − y_j) ln(1 − a_j)]   (ex4, independent
  sigmoid outputs),                                                   ∇_a C = (a − y) / (a(1 − a))
- ``log-likelihood``: C = −1/n Σ_x Σ_j y_j ln a_j  (= −ln a_y for one-hot y, softmax output),
  ∇_a C = −y / a

BP1 is ``δ^L = ∇_a C ⊙ σ'(z^L)`` (for softmax the Jacobian product, see activations.py). For
sigmoid + cross-entropy and softmax + log-likelihood the σ' cancels and ``δ^L = a − y``: these
"fused" pairs never divide by a(1 − a) (Nielsen ch.3). ``delta`` returns the error of each
example, without the 1/n.

Allowed pairings (:func:`check_pairing`): quadratic with any output; cross-entropy with outputs
in (0, 1), i.e. sigmoid (ex4) or softmax (each unit scored as an independent yes/no; for the usual
categorical cross-entropy use log-likelihood); log-likelihood only with softmax, the one output
that is a probability distribution (with sigmoid outputs −ln a_y is minimised by switching every
unit on, which teaches nothing). Logs are taken of ``max(x, tiny)``, so saturated outputs give
a large finite cost instead of inf or NaN.

>>> import numpy as np
>>> a, y = np.array([[0.75136507, 0.772928465]]), np.array([[0.01, 0.99]])
>>> round(COSTS["quadratic"].fn(a, y), 9)   # Mazur's worked example: E_total
0.298371109
"""

from __future__ import annotations

import numpy as np

from chainrule.errors import InputError, quoted
from chainrule.nn.activations import ACTIVATIONS, Activation


def safe_log(x):
    """ln(max(x, tiny)): finite for outputs that saturated at exactly 0."""
    return np.log(np.maximum(x, np.finfo(x.dtype).tiny))


class Cost:
    """One cost: ``fn(a, y)`` (mean over rows), ``grad_a`` (∇_a C per row), ``delta`` (BP1)."""

    name = ""
    fused_output = ""  # the output activation for which δ^L = a − y

    def delta(self, a, y, output: Activation, out=None):
        """δ^L = ∇_a C ⊙ σ'(z^L) per example (BP1); ``a − y`` for the fused pair."""
        if output.name == self.fused_output:
            return np.subtract(a, y, out=out)  # BP1 with σ' cancelled
        return output.backward(self.grad_a(a, y, out=out), a)

    def __repr__(self):
        return f"<cost {self.name}>"


class Quadratic(Cost):
    """C = 1/(2n) Σ ||y − a||² (Nielsen ch.1-2)."""

    name = "quadratic"

    def fn(self, a, y):
        diff = a - y
        return 0.5 * float(np.einsum("ij,ij->", diff, diff, dtype=np.float64)) / len(a)

    def grad_a(self, a, y, out=None):
        return np.subtract(a, y, out=out)


class CrossEntropy(Cost):
    """C = −1/n Σ Σ_j [y_j ln a_j + (1 − y_j) ln(1 − a_j)] (ex4's cost, without the L2 term)."""

    name = "cross-entropy"
    fused_output = "sigmoid"

    def fn(self, a, y):
        total = np.sum(y * safe_log(a) + (1 - y) * safe_log(1 - a), dtype=np.float64)
        return -float(total) / len(a)

    def grad_a(self, a, y, out=None):
        tiny = np.finfo(a.dtype).tiny
        return np.divide(a - y, np.maximum(a * (1 - a), tiny), out=out)


class LogLikelihood(Cost):
    """C = −1/n Σ_x ln a^L_{y(x)} (softmax output, Nielsen ch. 3)."""

    name = "log-likelihood"
    fused_output = "softmax"

    def fn(self, a, y):
        return -float(np.sum(y * safe_log(a), dtype=np.float64)) / len(a)

    def grad_a(self, a, y, out=None):
        tiny = np.finfo(a.dtype).tiny
        out = np.divide(y, np.maximum(a, tiny), out=out)
        return np.negative(out, out=out)


COSTS: dict[str, Cost] = {cost.name: cost for cost in (Quadratic(), CrossEntropy(),
                                                       LogLikelihood())}


def lookup(table: dict, name, what: str):
    """``table[name]`` or an InputError listing the valid names."""
    try:
        return table[name]
    except (KeyError, TypeError):
        raise InputError(f"unknown {what} {quoted(name)}; choose one of "
                         f"{', '.join(table)}") from None


def check_pairing(sizes, activation: str, output: str, cost: str) -> None:
    """Raise InputError for a network whose layers and cost do not fit together.

    >>> check_pairing([3, 5, 3], "sigmoid", "sigmoid", "log-likelihood")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    chainrule.errors.InputError: cost 'log-likelihood' needs output 'softmax' ...
    """
    hidden = lookup(ACTIVATIONS, activation, "activation")
    out = lookup(ACTIVATIONS, output, "output activation")
    lookup(COSTS, cost, "cost")
    if not hidden.hidden_ok and len(sizes) > 2:
        raise InputError(f"activation {quoted(activation)} can only be used for the output layer; "
                         "choose one of sigmoid, tanh, relu, leaky-relu, identity for the "
                         "hidden layers")
    if output == "softmax" and sizes[-1] < 2:
        raise InputError(f"output 'softmax' needs at least 2 output units, the last layer has "
                         f"{sizes[-1]} (with one unit use output 'sigmoid')")
    if cost == "log-likelihood" and output != "softmax":
        raise InputError("cost 'log-likelihood' needs output 'softmax' (a probability "
                         f"distribution over the classes), got output {quoted(output)}")
    if cost == "cross-entropy" and output not in ("sigmoid", "softmax"):
        low, high = out.bounds
        raise InputError(f"cost 'cross-entropy' takes ln a and ln(1 − a), so it needs outputs in "
                         f"(0, 1) (output 'sigmoid' or 'softmax'); output {quoted(output)} ranges "
                         f"over ({low}, {high})")
