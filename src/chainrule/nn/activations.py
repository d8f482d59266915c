"""Activation functions σ with the derivative the backward pass needs.

Each activation knows its value ``a = σ(z)`` and how to turn ``∂C/∂a`` into ``∂C/∂z``
(:meth:`Activation.backward`). For the elementwise ones that is ``∂C/∂a ⊙ σ'(z)`` (the ``⊙ σ'(z)``
of BP1 and BP2), with ``σ'(z)`` taken from the output ``a`` where that is cheaper, as
scikit-learn does: ``σ' = a(1 − a)`` for sigmoid, ``1 − a²`` for tanh, ``[a > 0]`` for relu.
So the hot path never needs to keep ``z``. Softmax is not elementwise: its ``backward`` is the
Jacobian-vector product ``a ⊙ (g − Σ_j g_j a_j)``, and it may only be an output layer.

``forward(z, out=z)`` and ``backward(g, a)`` may overwrite their first argument (they are
called on the network's own scratch buffers).

>>> import numpy as np
>>> sigmoid = ACTIVATIONS["sigmoid"]
>>> a = sigmoid.forward(np.array([0.0, 2.0]))
>>> a.round(4), sigmoid.derivative(a).round(4)
(array([0.5   , 0.8808]), array([0.25 , 0.105]))
"""

from __future__ import annotations

import numpy as np

from chainrule.errors import InputError

LEAKY_SLOPE = 0.01  # leaky-relu: σ(z) = z for z > 0, 0.01 z otherwise


class Activation:
    """One activation: ``forward``, ``derivative`` (elementwise σ' from a) and ``backward``."""

    name = ""
    elementwise = True
    hidden_ok = True  # may be used in a hidden layer
    bounds = (-np.inf, np.inf)  # open range of the outputs, used to validate cost pairings

    # forward(z, out=None) -> a = σ(z) (``out=z`` computes in place) and
    # derivative(a) -> σ'(z) written in terms of a, are defined by each activation below.

    def backward(self, g, a):
        """∂C/∂z from g = ∂C/∂a: ``g ⊙ σ'(z)``, computed in place in g."""
        g *= self.derivative(a)
        return g

    def __repr__(self):
        return f"<activation {self.name}>"


class Sigmoid(Activation):
    """σ(z) = 1 / (1 + e^(−z)), σ' = a(1 − a)."""

    name = "sigmoid"
    bounds = (0.0, 1.0)

    def forward(self, z, out=None):
        # 1/(1+e^-z) = (1 + tanh(z/2)) / 2: the same function without overflow in exp
        out = np.multiply(z, 0.5, out=out)
        np.tanh(out, out=out)
        out *= 0.5
        out += 0.5
        return out

    def derivative(self, a):
        return a * (1 - a)

    def backward(self, g, a):
        g *= a          # g a
        g -= g * a      # g a − g a² = g a (1 − a)
        return g


class Tanh(Activation):
    """tanh(z), σ' = 1 − a²."""

    name = "tanh"
    bounds = (-1.0, 1.0)

    def forward(self, z, out=None):
        return np.tanh(z, out=out)

    def derivative(self, a):
        return 1 - a * a

    def backward(self, g, a):
        g -= g * a * a  # g (1 − a²)
        return g


class ReLU(Activation):
    """max(0, z), σ' = [a > 0] (0 at z = 0)."""

    name = "relu"
    bounds = (0.0, np.inf)

    def forward(self, z, out=None):
        return np.maximum(z, 0, out=out)

    def derivative(self, a):
        return (a > 0).astype(a.dtype)

    def backward(self, g, a):
        # NOTE: a multiply by the boolean mask, not masked writes
        # (copyto/putmask with where=), which branch on every element
        return np.multiply(g, a > 0, out=g)


class LeakyReLU(Activation):
    """z for z > 0 else 0.01 z; σ' = 1 or 0.01 (the sign of a is the sign of z)."""

    name = "leaky-relu"

    def forward(self, z, out=None):
        # max(z, 0.01 z) equals z for z > 0 and 0.01 z otherwise
        return np.maximum(z, z * LEAKY_SLOPE, out=out)

    def derivative(self, a):
        return np.where(a > 0, 1, LEAKY_SLOPE).astype(a.dtype)

    def backward(self, g, a):
        factor = (a > 0).astype(g.dtype)   # 1 where z > 0, else 0 ...
        factor *= 1 - LEAKY_SLOPE
        factor += LEAKY_SLOPE              # ... now 1 or 0.01 (no branchy masked write)
        g *= factor
        return g


class Identity(Activation):
    """σ(z) = z, σ' = 1 (a linear layer; as output: regression or raw scores)."""

    name = "identity"

    def forward(self, z, out=None):
        if out is None or out is z:
            return z
        np.copyto(out, z)
        return out

    def derivative(self, a):
        return np.ones_like(a)

    def backward(self, g, a):
        return g


class Softmax(Activation):
    """softmax(z)_j = e^(z_j) / Σ_k e^(z_k) over each row; output layer only.

    Not elementwise: ``backward`` applies the transposed Jacobian
    ``∂a_j/∂z_i = a_j([i = j] − a_i)`` to g, giving ``a ⊙ (g − Σ_j g_j a_j)``
    (the ``p − p²`` and ``−p_1 p_2`` entries of a worked two-layer softmax derivation).
    """

    name = "softmax"
    elementwise = False
    hidden_ok = False
    bounds = (0.0, 1.0)

    def forward(self, z, out=None):
        out = np.subtract(z, z.max(axis=1, keepdims=True), out=out)  # shift: no overflow
        np.exp(out, out=out)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def derivative(self, a):
        raise TypeError("softmax is not elementwise: use backward(g, a), the Jacobian product")

    def backward(self, g, a):
        inner = np.einsum("ij,ij->i", g, a)[:, None]  # Σ_j g_j a_j per row
        g -= inner
        g *= a
        return g


ACTIVATIONS: dict[str, Activation] = {
    act.name: act for act in (Sigmoid(), Tanh(), ReLU(), LeakyReLU(), Identity(), Softmax())
}


def probabilities(a, output):
    """Class probabilities from output activations a^L, or InputError saying why there are none.

    Softmax outputs are a distribution over the classes (each row sums to 1). One sigmoid unit
    is the probability of class 1, so the row is [1 − a, a] (scikit-learn's binary
    ``predict_proba``). Several sigmoid units are independent outputs, each in [0, 1] on its
    own: a row need not sum to 1, so they are no distribution over classes, and any other
    output activation is no probability at all.

    >>> probabilities(np.array([[0.8]]), "sigmoid")
    array([[0.2, 0.8]])
    >>> probabilities(np.array([[0.9, 0.4]]), "sigmoid")
    Traceback (most recent call last):
    ...
    chainrule.errors.InputError: predict_proba: the network's 2 sigmoid outputs are independent...
    """
    reason = no_probabilities(output, a.shape[1])
    if reason:
        raise InputError(f"predict_proba: {reason}")
    return np.hstack([1 - a, a]) if a.shape[1] == 1 else a


def no_probabilities(output, n_outputs) -> str:
    """Why ``n_outputs`` units of ``output`` are not class probabilities ("" when they are)."""
    if output == "softmax" or (output == "sigmoid" and n_outputs == 1):
        return ""
    if output == "sigmoid":
        return (f"the network's {n_outputs} sigmoid outputs are independent, each in [0, 1] on "
                "its own (a row need not sum to 1), so they are not probabilities of classes; "
                "forward(X) gives them as they are, and output 'softmax' (cost "
                "'log-likelihood') gives probabilities")
    return (f"the network's {output} outputs are not probabilities; forward(X) gives them as "
            "they are, and output 'softmax' (cost 'log-likelihood') gives probabilities")
