"""Per-op overhead of the engine, side by side with PyTorch eager, in the same run.

Workloads (each timed forward + backward, runs alternating between the two systems, medians):

- ``chain``: 2,000 mixed elementwise ops on (10,) float64 arrays (mul, add, tanh, sub,
  sigmoid, div, exp, ...), then ``.sum().backward()``: pure per-op overhead.
- ``mlp``: the "generic N2" step: a [784, 100, 10] relu + log_softmax MLP, the mean
  negative log-likelihood of a batch of 128 in float32, gradients of all four parameters.

Run: ``python benchmarks/bench_engine.py [--repeats 15] [--threads 2]``. Prints
microseconds per op (chain) or milliseconds per step (mlp) and the ratio chainrule / PyTorch
(goal <= 1.0). The mlp step is BLAS-bound and multi-threaded: on a busy machine (see the load
average printed first) a 2-thread barrier can wait for a free core, so read it with care.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import chainrule as cr

N_OPS = 2000


def chain_chainrule(x0, w, b):
    x = cr.tensor(x0, requires_grad=True)
    w, b = cr.tensor(w, requires_grad=True), cr.tensor(b, requires_grad=True)
    y = x
    for _ in range(N_OPS // 8):
        y = cr.tanh(y * w + b)
        y = cr.sigmoid(y - 0.5) / 1.5
        y = cr.exp(y * 0.1)
    y.sum().backward()
    return x.grad


def chain_torch(torch, x0, w, b):
    x = torch.tensor(x0, requires_grad=True)
    w, b = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    y = x
    for _ in range(N_OPS // 8):
        y = torch.tanh(y * w + b)
        y = torch.sigmoid(y - 0.5) / 1.5
        y = torch.exp(y * 0.1)
    y.sum().backward()
    return x.grad.numpy()


def mlp_cost(W1, b1, W2, b2, X, Y):
    a = cr.relu(cr.matmul(X, cr.transpose(W1)) + b1)
    z = cr.matmul(a, cr.transpose(W2)) + b2
    return -cr.sum(Y * cr.log_softmax(z, axis=1)) / len(X)


def mlp_chainrule(params, X, Y):
    return cr.grad(mlp_cost, argnums=(0, 1, 2, 3))(*params, X, Y)


def mlp_torch(torch, params, X, Y):
    W1, b1, W2, b2 = (torch.tensor(p, requires_grad=True) for p in params)
    X, Y = torch.from_numpy(X), torch.from_numpy(Y)
    a = torch.relu(X @ W1.T + b1)
    z = a @ W2.T + b2
    cost = -(Y * torch.log_softmax(z, dim=1)).sum() / len(X)
    cost.backward()
    return [p.grad.numpy() for p in (W1, b1, W2, b2)]


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def compare(name, ours, theirs, repeats, unit, per):
    """Alternate the two systems ``repeats`` times; check they agree; return the medians."""
    ours(), theirs()  # warm up (and check agreement below)
    times_ours, times_theirs = [], []
    for _ in range(repeats):
        t, a = timed(ours)
        times_ours.append(t)
        t, b = timed(theirs)
        times_theirs.append(t)
    for x, y in zip(a if isinstance(a, list | tuple) else [a], b if isinstance(b, list) else [b]):
        np.testing.assert_allclose(x, y, rtol=1e-3, atol=1e-5)
    m_ours, m_theirs = statistics.median(times_ours), statistics.median(times_theirs)
    scale = {"us": 1e6, "ms": 1e3}[unit]
    print(f"{name:<8} chainrule {m_ours / per * scale:8.2f} {unit}   pytorch "
          f"{m_theirs / per * scale:8.2f} {unit}   ratio {m_ours / m_theirs:5.2f}")
    return m_ours / m_theirs


def _limit_numpy_threads(n):
    """Give NumPy's BLAS the same number of threads as PyTorch (if threadpoolctl is there)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return "numpy BLAS threads: default"
    threadpool_limits(n)
    return f"numpy BLAS threads: {n}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2, help="for PyTorch and NumPy's BLAS")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    blas = _limit_numpy_threads(args.threads)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"numpy {np.__version__} ({blas}), torch {torch.__version__} ({args.threads} threads), "
          f"{os.cpu_count()} cores, load average {load}")
    rng = np.random.default_rng(0)
    x0, w, b = rng.normal(size=10), rng.normal(size=10), rng.normal(size=10)
    print(f"per op (chain of {N_OPS} ops on (10,) arrays, forward + backward), "
          f"medians of {args.repeats} alternating runs")
    compare("chain", lambda: chain_chainrule(x0, w, b), lambda: chain_torch(torch, x0, w, b),
            args.repeats, "us", N_OPS)

    sizes = (784, 100, 10)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params += [rng.normal(0, n_in ** -0.5, (n_out, n_in)).astype(np.float32),
                   np.zeros(n_out, np.float32)]
    X = rng.random((128, 784), dtype=np.float32)
    Y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 128)]
    grads = mlp_chainrule(params, X, Y)
    assert all(g.dtype == np.float32 for g in grads), "float32 must stay float32"
    print("per step ([784,100,10] relu + log_softmax MLP, batch 128, float32, all gradients)")
    compare("mlp", lambda: mlp_chainrule(params, X, Y), lambda: mlp_torch(torch, params, X, Y),
            args.repeats, "ms", 1)


if __name__ == "__main__":
    main()
