"""The peers ``chainrule bench`` times chainrule against, each training one workload.

Every peer starts from the same initial parameters (the arrays the harness hands it), sees the
same shuffled mini-batches (``np.random.default_rng(seed).permutation`` once per epoch) and
minimises the same averaged cost (C = 1/n Σ_x C_x), so their times and accuracies compare:

- ``numpy``: a bare NumPy loop of the same maths (BP1-BP4, the update), no tricks;
- ``floor``: only the matrix products of forward + backward per batch (the GEMM floor);
- ``pytorch``: ``nn.Linear`` layers and ``torch.optim``, eager, ``torch.set_num_threads(2)``;
- ``jax-jit``: a train step as JAX users write it, ``jax.jit`` of ``value_and_grad`` and the
  update (parameters and optimiser state donated), called once per mini-batch;
- ``jax-scan``: the whole epoch in one jitted ``lax.scan`` over the batches' indices (the short
  last batch, if any, through the jitted step) -- the fastest way JAX runs these workloads;
- ``sklearn``: ``MLPClassifier``, its own initialisation and shuffling, and always a
  softmax/log-loss output (it cannot train N1's sigmoid outputs on the quadratic cost).

A peer is a function ``(workload, params, X, y, seed) -> Trainer``; building it is not timed,
``trainer.run()`` is (JAX's peers compile and warm up while they are built, and report the
compile time apart in ``trainer.compile_s``). ``trainer.predict(X)`` gives labels,
``trainer.params()`` the final ``[W^1, b^1, W^2, b^2, ...]`` (NumPy, Nielsen's shapes: ``W^l``
is ``(n_l, n_{l-1})``).

>>> from harness import WORKLOADS, initial_params
>>> import numpy as np
>>> X = np.random.default_rng(0).random((20, 784), dtype=np.float32); y = np.arange(20) % 10
>>> trainer = numpy_loop(WORKLOADS["N1"], initial_params(WORKLOADS["N1"], 0), X, y, 0)
>>> trainer.run(); trainer.predict(X).shape
(20,)
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Trainer:
    """A prepared training run: ``run()`` is timed, ``predict``/``params`` read the result."""

    run: Callable[[], object]
    predict: Callable[[np.ndarray], np.ndarray]
    params: Callable[[], list]
    compile_s: float | None = None
    """Seconds spent compiling while the trainer was built (JAX), not part of ``run()``."""


def batches(n: int, batch_size: int, epochs: int, seed: int):
    """Yield index arrays of the mini-batches: a fresh permutation per epoch, last batch short."""
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            yield order[start:start + batch_size]


def epoch_batches(n: int, batch_size: int, epochs: int, seed: int):
    """Per epoch ``(full, rest)``: the full batches' indices as a ``(n // batch_size,
    batch_size)`` matrix (for ``lax.scan``) and the short last batch; the same batches, in the
    same order, as :func:`batches`.

    >>> [(full.shape, len(rest)) for full, rest in epoch_batches(25, 10, 2, seed=0)]
    [((2, 10), 5), ((2, 10), 5)]
    """
    rng = np.random.default_rng(seed)
    whole = n // batch_size * batch_size
    for _ in range(epochs):
        order = rng.permutation(n)
        yield order[:whole].reshape(-1, batch_size), order[whole:]


def one_hot(y: np.ndarray, k: int, dtype=np.float32) -> np.ndarray:
    """Integer labels ``(n,)`` -> target matrix ``(n, k)``."""
    Y = np.zeros((len(y), k), dtype=dtype)
    Y[np.arange(len(y)), y] = 1
    return Y


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _numpy_forward(workload, weights, biases, x):
    """All activations a^0..a^L of a batch (rows are examples)."""
    hidden = _sigmoid if workload.activation == "sigmoid" else (lambda z: np.maximum(z, 0))
    activations = [x]
    for layer, (W, b) in enumerate(zip(weights, biases)):
        z = activations[-1] @ W.T + b
        last = layer == len(weights) - 1
        if last:
            activations.append(_softmax(z) if workload.output == "softmax" else _sigmoid(z))
        else:
            activations.append(hidden(z))
    return activations


def _update_rule(workload, params):
    """The optimiser as an in-place ``step(grads)`` (PyTorch's SGD/momentum/Adam formulas)."""
    lr, mu = workload.lr, workload.momentum
    if workload.optimizer == "adam":
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        t = [0]

        def step(grads):
            t[0] += 1
            c1, c2 = 1 - beta1 ** t[0], 1 - beta2 ** t[0]
            for p, g, mi, vi in zip(params, grads, m, v):
                mi *= beta1
                mi += (1 - beta1) * g
                vi *= beta2
                vi += (1 - beta2) * g * g
                p -= (lr / c1) * mi / (np.sqrt(vi / c2) + eps)
        return step
    velocity = [np.zeros_like(p) for p in params]

    def step(grads):
        for p, g, vel in zip(params, grads, velocity):
            if mu:
                vel *= mu
                vel += g
                g = vel
            p -= lr * g
    return step


def numpy_loop(workload, params, X, y, seed) -> Trainer:
    """The same maths as a plain NumPy loop: forward, BP1-BP4 over the batch, update."""
    params = [p.copy() for p in params]
    weights, biases = params[0::2], params[1::2]
    Y = one_hot(y, workload.sizes[-1], X.dtype)
    step = _update_rule(workload, params)

    def run():
        for idx in batches(len(X), workload.batch_size, workload.epochs, seed):
            a = _numpy_forward(workload, weights, biases, X[idx])
            delta = a[-1] - Y[idx]                          # BP1 (softmax + log-likelihood)
            if workload.cost == "quadratic":
                delta *= a[-1] * (1 - a[-1])                         # BP1: (a - y) ⊙ σ'(z^L)
            delta /= len(idx)
            grads = [None] * len(params)
            for layer in range(len(weights) - 1, -1, -1):
                grads[2 * layer] = delta.T @ a[layer]                # BP4
                grads[2 * layer + 1] = delta.sum(axis=0)             # BP3
                if layer:
                    delta = delta @ weights[layer]                   # BP2
                    delta *= (a[layer] * (1 - a[layer]) if workload.activation == "sigmoid"
                              else a[layer] > 0)
            step(grads)

    def predict(Xp):
        return _numpy_forward(workload, weights, biases, Xp)[-1].argmax(axis=1)

    return Trainer(run, predict, lambda: params)


def matmul_floor(workload, params, X, y, seed) -> Trainer:
    """Only the GEMMs of forward + backward per batch, into preallocated buffers.

    Forward ``z^l = a^{l-1} W^l^T`` for every layer, backward ``δ^l^T a^{l-1}`` (BP4) for every
    layer and ``δ^{l+1} W^{l+1}`` (BP2) for all but the first; contiguous batches, no activation,
    no update: the time no implementation of the same workload can beat.
    """
    weights = [p.copy() for p in params[0::2]]
    m, sizes = workload.batch_size, workload.sizes
    z = [np.empty((m, n), X.dtype) for n in sizes[1:]]
    d = [np.empty((m, n), X.dtype) for n in sizes[1:-1]]
    grads = [np.empty_like(W) for W in weights]
    n_batches = -(-len(X) // m)

    def run():
        for _ in range(workload.epochs):
            for b in range(n_batches):
                x = X[b * m:(b + 1) * m]
                rows = len(x)
                a = x
                for layer, W in enumerate(weights):
                    a = np.matmul(a, W.T, out=z[layer][:rows])
                delta = a
                for layer in range(len(weights) - 1, -1, -1):
                    prev = x if layer == 0 else z[layer - 1][:rows]
                    np.matmul(delta.T, prev, out=grads[layer])
                    if layer:
                        delta = np.matmul(delta, weights[layer], out=d[layer - 1][:rows])

    def predict(Xp):
        return np.zeros(len(Xp), dtype=np.int64)

    return Trainer(run, predict, list)


def pytorch_eager(workload, params, X, y, seed) -> Trainer:
    """``nn.Sequential`` of ``nn.Linear`` + ``torch.optim``, eager mode on the CPU, 2 threads."""
    import torch
    from torch import nn

    torch.set_num_threads(2)
    layers = []
    for layer, (W, b) in enumerate(zip(params[0::2], params[1::2])):
        linear = nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if layer < len(params) // 2 - 1:
            layers.append(nn.Sigmoid() if workload.activation == "sigmoid" else nn.ReLU())
    model = nn.Sequential(*layers)
    if workload.optimizer == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=workload.lr)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=workload.lr, momentum=workload.momentum)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(np.asarray(y, dtype=np.int64))
    Yt = torch.from_numpy(one_hot(y, workload.sizes[-1], X.dtype))

    def cost(out, idx):
        if workload.cost == "quadratic":
            return 0.5 * ((torch.sigmoid(out) - Yt[idx]) ** 2).sum(dim=1).mean()
        return nn.functional.cross_entropy(out, yt[idx])

    def run():
        for idx in batches(len(X), workload.batch_size, workload.epochs, seed):
            idx = torch.from_numpy(idx)
            loss = cost(model(Xt[idx]), idx)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    def predict(Xp):
        with torch.no_grad():
            return model(torch.from_numpy(Xp)).argmax(dim=1).numpy()

    def final_params():
        return [p.detach().numpy().copy() for p in model.parameters()]

    return Trainer(run, predict, final_params)


def _jax_functions(workload):
    """JAX's pure ``step(params, state, X, Y, idx) -> (params, state)`` for a workload: the
    mean cost of the batch ``X[idx]``, its gradient by ``jax.value_and_grad`` and the update
    (PyTorch's SGD, momentum and Adam formulas), plus the optimiser's initial state."""
    import jax
    import jax.numpy as jnp

    depth = len(workload.sizes) - 1
    hidden = jax.nn.sigmoid if workload.activation == "sigmoid" else jax.nn.relu
    lr, mu = workload.lr, workload.momentum

    def cost(params, x, target):
        a = x
        for layer in range(depth):
            z = a @ params[2 * layer].T + params[2 * layer + 1]
            a = hidden(z) if layer < depth - 1 else z
        if workload.cost == "quadratic":
            return 0.5 * jnp.mean(jnp.sum((jax.nn.sigmoid(a) - target) ** 2, axis=1))
        return -jnp.sum(target * jax.nn.log_softmax(a, axis=1)) / x.shape[0]

    def init_state(params):
        if workload.optimizer == "adam":
            return ([jnp.zeros_like(p) for p in params], [jnp.zeros_like(p) for p in params],
                    jnp.zeros((), jnp.float32))
        if mu:
            return [jnp.zeros_like(p) for p in params]
        return ()

    def update(params, state, grads):
        if workload.optimizer == "adam":
            beta1, beta2, eps = 0.9, 0.999, 1e-8
            m, v, t = state
            t = t + 1
            c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t
            m = [beta1 * mi + (1 - beta1) * g for mi, g in zip(m, grads)]
            v = [beta2 * vi + (1 - beta2) * g * g for vi, g in zip(v, grads)]
            params = [p - (lr / c1) * mi / (jnp.sqrt(vi / c2) + eps)
                      for p, mi, vi in zip(params, m, v)]
            return params, (m, v, t)
        if mu:
            state = [mu * vel + g for vel, g in zip(state, grads)]
            return [p - lr * vel for p, vel in zip(params, state)], state
        return [p - lr * g for p, g in zip(params, grads)], state

    def step(params, state, X, Y, idx):
        _, grads = jax.value_and_grad(cost)(params, X[idx], Y[idx])
        return update(params, state, grads)

    return step, init_state


def _jax_trainer(workload, params, X, y, seed, scan: bool) -> Trainer:
    import time

    import jax
    import jax.numpy as jnp

    step, init_state = _jax_functions(workload)
    Xd = jnp.asarray(X)
    Yd = jnp.asarray(one_hot(y, workload.sizes[-1], X.dtype))
    orders = list(epoch_batches(len(X), workload.batch_size, workload.epochs, seed))

    def epoch(params, state, X, Y, full):
        def body(carry, idx):
            return step(*carry, X, Y, idx), None
        return jax.lax.scan(body, (params, state), full)[0]

    def fresh():
        ps = [jnp.array(p) for p in params]
        return ps, init_state(ps)

    # compile every shape the run meets (ahead of time, timed apart), then warm up on copies
    start = time.perf_counter()
    compiled = {}
    example = fresh()
    full, rest = orders[0]
    jit_step = jax.jit(step, donate_argnums=(0, 1))
    if scan:
        compiled["epoch"] = jax.jit(epoch, donate_argnums=(0, 1)).lower(
            *example, Xd, Yd, full).compile()
    shapes = {len(rest)} if scan else {len(rest), workload.batch_size}
    for size in shapes - {0}:
        compiled[size] = jit_step.lower(*example, Xd, Yd, np.zeros(size, np.int64)).compile()
    compile_s = time.perf_counter() - start
    for key, fn in compiled.items():
        ps, st = fresh()
        args = (full,) if key == "epoch" else (np.zeros(key, np.int64),)
        jax.block_until_ready(fn(ps, st, Xd, Yd, *args))
    state = dict(zip(("params", "opt"), fresh()))

    def run():
        ps, st = state["params"], state["opt"]
        for full, rest in orders:
            if scan:
                ps, st = compiled["epoch"](ps, st, Xd, Yd, full)
            else:
                for idx in full:
                    ps, st = compiled[workload.batch_size](ps, st, Xd, Yd, idx)
            if len(rest):
                ps, st = compiled[len(rest)](ps, st, Xd, Yd, rest)
        state["params"], state["opt"] = jax.block_until_ready((ps, st))

    def final_params():
        return [np.asarray(p) for p in state["params"]]

    def predict(Xp):
        trained = final_params()
        return _numpy_forward(workload, trained[0::2], trained[1::2], Xp)[-1].argmax(axis=1)

    return Trainer(run, predict, final_params, compile_s)


def jax_jit(workload, params, X, y, seed) -> Trainer:
    """A jitted train step (``value_and_grad`` + the update, buffers donated), one call per
    mini-batch; the batch is gathered on the device from the digits, passed once."""
    return _jax_trainer(workload, params, X, y, seed, scan=False)


def jax_scan(workload, params, X, y, seed) -> Trainer:
    """The whole epoch in one jitted ``lax.scan`` of the same step over the batches' indices."""
    return _jax_trainer(workload, params, X, y, seed, scan=True)


def scikit_learn(workload, params, X, y, seed) -> Trainer:
    """``MLPClassifier`` with the same sizes, batch size, solver, rate, epochs and no L2.

    NOTE: scikit-learn initialises and shuffles by itself and always ends in softmax/log-loss
    (logistic for two classes), so on N1 it trains a different cost than the quadratic one.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    classifier = MLPClassifier(
        hidden_layer_sizes=tuple(workload.sizes[1:-1]),
        activation="logistic" if workload.activation == "sigmoid" else "relu",
        solver="adam" if workload.optimizer == "adam" else "sgd",
        alpha=0.0, batch_size=workload.batch_size, learning_rate_init=workload.lr,
        learning_rate="constant", momentum=workload.momentum, nesterovs_momentum=False,
        max_iter=workload.epochs, shuffle=True, random_state=seed, tol=0.0,
        n_iter_no_change=10**9, early_stopping=False)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            classifier.fit(X, y)

    def final_params():
        out = []
        for W, b in zip(classifier.coefs_, classifier.intercepts_):
            out += [W.T.copy(), b.copy()]
        return out

    return Trainer(run, classifier.predict, final_params)


PEERS = {"numpy": numpy_loop, "floor": matmul_floor, "pytorch": pytorch_eager,
         "jax-jit": jax_jit, "jax-scan": jax_scan, "sklearn": scikit_learn}
"""Peer name -> builder, in the order the table shows them."""

_NEEDS = {"pytorch": "torch", "jax-jit": "jax", "jax-scan": "jax", "sklearn": "sklearn"}
INSTALL = {"pytorch": "pip install torch==2.13.0 (or pip install -e '.[bench]')",
           "jax-jit": "pip install jax (or pip install -e '.[bench]')",
           "jax-scan": "pip install jax (or pip install -e '.[bench]')",
           "sklearn": "pip install scikit-learn"}
"""Peer name -> how to install its library."""


def missing() -> dict:
    """The peers whose library is not installed -> how to install it.

    >>> set(missing()) <= set(INSTALL)
    True
    """
    return {peer: INSTALL[peer] for peer in PEERS if not available(peer)}


def available(peer: str) -> bool:
    """Whether a peer's library is installed (NumPy peers always are)."""
    module = _NEEDS.get(peer)
    return module is None or importlib.util.find_spec(module) is not None
