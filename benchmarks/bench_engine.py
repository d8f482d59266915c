"""The engine's path (a user's own model, ``cr.grad``) side by side with PyTorch eager and JAX jit.

Workloads (runs alternating between the systems, medians):

- ``chain``: 2,000 mixed elementwise ops on (10,) float64 arrays (mul, add, tanh, sub,
  sigmoid, div, exp, ...), then ``.sum().backward()``: pure per-op overhead (PyTorch).
- ``mlp``: the "generic N2" step: a [784, 100, 10] relu + log_softmax MLP, the mean
  negative log-likelihood of a batch of 128 in float32, gradients of all four parameters
  (PyTorch eager; JAX: ``jax.jit(jax.grad(cost))``, compiled before the timed runs).
- ``train``: that model trained as the benchmark's N2g workload trains it (the first 10,000
  MNIST test digits when ``shared/data/mnist`` is there, 3 epochs, batch 128, Adam 1e-3, the
  same initial weights and batches): chainrule's ``cr.grad`` + ``cr.optim.Adam`` against
  JAX's jitted train step and scanned epoch, the very peers ``run.py`` times (``peers.py``;
  compile time reported apart, not timed), so the two benchmarks cannot disagree on them.

Run: ``python benchmarks/bench_engine.py [--repeats 15] [--threads 2] [--only train]``. Prints
microseconds per op (chain), milliseconds per step (mlp) or seconds per run (train) and the
ratios chainrule / peer (goals: <= 1.0 against PyTorch, <= 1.5 against JAX jit). Peers that
are not installed are skipped. The products are BLAS-bound and multi-threaded: on a busy
machine (see the load average printed first) a 2-thread barrier can wait for a free core,
so read the numbers with care.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import chainrule as cr

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness

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


def mlp_jax(params):
    """``jax.jit(jax.grad(cost))`` of the same model, compiled (and warmed up) here."""
    import jax
    import jax.numpy as jnp

    def cost(W1, b1, W2, b2, X, Y):
        a = jax.nn.relu(X @ W1.T + b1)
        z = a @ W2.T + b2
        return -jnp.sum(Y * jax.nn.log_softmax(z, axis=1)) / X.shape[0]

    step = jax.jit(jax.grad(cost, argnums=(0, 1, 2, 3)))
    device = [jnp.asarray(p) for p in params]

    def run(X, Y):
        return [np.asarray(g) for g in jax.block_until_ready(step(*device, X, Y))]

    return run


def compare_train(repeats, peers):
    """The N2g workload: chainrule's engine path and JAX's jitted step and scanned epoch, built
    by ``peers.py`` exactly as ``run.py`` builds them, alternating runs."""
    workload = harness.WORKLOADS["N2g"]
    X, y, source = harness.load_data(10000)
    params = harness.initial_params(workload, 0)
    print(f"train: {workload.describe()}; {len(X)} digits, {source}; medians of {repeats} runs")
    systems = ["chainrule"] + (["jax-jit", "jax-scan"] if "jax" in peers else [])
    times = {name: [] for name in systems}
    accuracy = {}
    for _ in range(repeats):
        for name in systems:
            trainer = harness.builder(workload, name)(workload, params, X, y, 0)
            if trainer.compile_s is not None and name not in accuracy:
                print(f"train    {name} compile (not timed) {trainer.compile_s:.2f} s")
            harness.settle(0.1, max_wait=2.0)
            seconds, _ = timed(trainer.run)
            times[name].append(seconds)
            accuracy[name] = float(np.mean(trainer.predict(X) == y))
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        ratio = "" if name == "chainrule" else f"   ratio {medians['chainrule'] / median:5.2f}"
        print(f"train    {name:<9} {median:8.3f} s   accuracy {accuracy[name]:.4f}{ratio}")
    return medians


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def compare(name, ours, theirs, repeats, unit, per, peer="pytorch"):
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
    print(f"{name:<8} chainrule {m_ours / per * scale:8.2f} {unit}   {peer} "
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
    parser.add_argument("--only", choices=["chain", "mlp", "train"], action="append",
                        help="run only these workloads (repeatable; default: all three)")
    args = parser.parse_args(argv)
    only = set(args.only or ["chain", "mlp", "train"])
    peers = {name for name in ("torch", "jax") if importlib.util.find_spec(name)}
    import scipy.linalg.blas  # noqa: F401  (chainrule's BLAS, loaded so that it is limited too)

    blas = _limit_numpy_threads(args.threads)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"numpy {np.__version__} ({blas}), peers: {', '.join(sorted(peers)) or 'none'}, "
          f"{os.cpu_count()} cores, load average {load}")
    if "train" in only:
        compare_train(max(3, args.repeats // 3), peers)
    if "torch" not in peers or not only & {"chain", "mlp"}:
        return
    import torch

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x0, w, b = rng.normal(size=10), rng.normal(size=10), rng.normal(size=10)
    if "chain" in only:
        print(f"per op (chain of {N_OPS} ops on (10,) arrays, forward + backward), "
              f"medians of {args.repeats} alternating runs")
        compare("chain", lambda: chain_chainrule(x0, w, b), lambda: chain_torch(torch, x0, w, b),
                args.repeats, "us", N_OPS)
    if "mlp" not in only:
        return

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
    if "jax" in peers:
        jax_step = mlp_jax(params)
        compare("mlp", lambda: mlp_chainrule(params, X, Y), lambda: jax_step(X, Y),
                args.repeats, "ms", 1, peer="jax-jit")


if __name__ == "__main__":
    main()
