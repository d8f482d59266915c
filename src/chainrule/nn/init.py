"""Weight initialisations, all drawn from a ``numpy.random.Generator`` (never the global RNG).

Each entry of :data:`INITS` maps ``(rng, n_in, n_out, scale)`` to ``(W, b)`` in float64 with W of
shape (n_out, n_in) (Nielsen's w^l_jk: row j of layer l, column k of layer l-1); the network
casts them once to its dtype, so a float32 and a float64 network built with the same seed hold
the same numbers up to rounding.

- ``uniform``: W, b ~ U(−ε, ε), ε = 0.12 by default (ex4's INIT_EPSILON; ``scale`` sets ε)
- ``scaled-normal``: W ~ N(0, 1/n_in), b ~ N(0, 1) (Nielsen's network2 default)
- ``normal``: W, b ~ N(0, 1) (Nielsen's "large weight" initialiser)
- ``xavier``: W ~ U(±√(6/(n_in + n_out))) (Glorot & Bengio), b = 0
- ``he``: W ~ N(0, 2/n_in) (He et al., for relu), b = 0
- ``zeros``: W = b = 0. Allowed to show the symmetry argument (Coursera ML ex4's "random
  initialization"): every hidden unit of a layer computes the same function and receives the
  same gradient, so they stay identical under training (to rounding: a BLAS may sum the
  units' products in different orders); :func:`initialise` warns when there is a hidden layer.

``scale`` multiplies the normal and xavier draws (default 1) and is ε for ``uniform``.

>>> import numpy as np
>>> W, b = INITS["uniform"](np.random.default_rng(0), 3, 2, None)
>>> W.shape, b.shape, bool(np.abs(W).max() <= 0.12)
((2, 3), (2,), True)
"""

from __future__ import annotations

import warnings

import numpy as np

from chainrule.errors import InputError, quoted

EX4_EPSILON = 0.12


def uniform(rng, n_in, n_out, scale):
    """W, b ~ U(−ε, ε), ε = 0.12 (ex4's INIT_EPSILON) unless ``scale`` gives it.

    >>> W, b = uniform(np.random.default_rng(0), 2, 3, 0.5)
    >>> bool(np.abs(W).max() <= 0.5), W.shape
    (True, (3, 2))
    """
    eps = EX4_EPSILON if scale is None else scale
    return rng.uniform(-eps, eps, (n_out, n_in)), rng.uniform(-eps, eps, n_out)


def scaled_normal(rng, n_in, n_out, scale):
    """W ~ N(0, 1/n_in), b ~ N(0, 1): Nielsen's network2 default_weight_initializer.

    >>> W, b = scaled_normal(np.random.default_rng(0), 10_000, 1, None)
    >>> round(float(W.std() * 100), 1)      # 1/√10000 = 0.01
    1.0
    """
    s = 1.0 if scale is None else scale
    return s * rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), rng.standard_normal(n_out)


def normal(rng, n_in, n_out, scale):
    """W, b ~ N(0, 1): Nielsen's large_weight_initializer.

    >>> W, b = normal(np.random.default_rng(0), 10_000, 1, None)
    >>> round(float(W.std()), 1)
    1.0
    """
    s = 1.0 if scale is None else scale
    return s * rng.standard_normal((n_out, n_in)), s * rng.standard_normal(n_out)


def xavier(rng, n_in, n_out, scale):
    """W ~ U(±√(6/(n_in + n_out))) (Glorot & Bengio 2010), b = 0.

    >>> W, b = xavier(np.random.default_rng(0), 3, 3, None)
    >>> bool(np.abs(W).max() <= 1.0), b.tolist()
    (True, [0.0, 0.0, 0.0])
    """
    limit = (1.0 if scale is None else scale) * np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, (n_out, n_in)), np.zeros(n_out)


def he(rng, n_in, n_out, scale):
    """W ~ N(0, 2/n_in) (He et al. 2015, for relu), b = 0.

    >>> W, b = he(np.random.default_rng(0), 5_000, 2, None)
    >>> round(float(W.std() * 50), 1)       # √(2/5000) = 0.02
    1.0
    """
    s = 1.0 if scale is None else scale
    return s * rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in), np.zeros(n_out)


def zeros(rng, n_in, n_out, scale):
    """W = b = 0: every hidden unit alike, to show the symmetry problem.

    >>> zeros(None, 2, 1, None)[0].tolist()
    [[0.0, 0.0]]
    """
    return np.zeros((n_out, n_in)), np.zeros(n_out)


INITS = {"uniform": uniform, "scaled-normal": scaled_normal, "normal": normal,
         "xavier": xavier, "he": he, "zeros": zeros}


def initialise(sizes, init="scaled-normal", seed=None, scale=None):
    """Weights and biases (float64 lists) for ``sizes``, drawn layer by layer, W then b.

    >>> weights, biases = initialise([2, 3, 1], "he", seed=0)
    >>> [W.shape for W in weights], [b.shape for b in biases]
    ([(3, 2), (1, 3)], [(3,), (1,)])
    """
    if init not in INITS:
        raise InputError(f"unknown init {quoted(init)}; choose one of {', '.join(INITS)}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)
                             or seed < 0):
        raise InputError(f"seed: expected None or an integer >= 0, got {quoted(seed)}")
    if scale is not None and not (isinstance(scale, int | float) and np.isfinite(scale)
                                  and scale > 0):
        raise InputError(f"init_scale: expected a positive number, got {quoted(scale)}")
    if init == "zeros" and len(sizes) > 2:
        warnings.warn("init='zeros': every hidden unit of a layer starts equal and gets the same "
                      "gradient, so the hidden units stay identical under training, up to rounding "
                      "(the symmetry problem); use a random init such as 'uniform' to break "
                      "the symmetry",
                      stacklevel=3)
    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        W, b = INITS[init](rng, n_in, n_out, scale)
        weights.append(W)
        biases.append(b)
    return weights, biases
