"""The benchmark harness: time chainrule against its peers on four workloads (``chainrule bench``
and ``benchmarks/run.py`` use it).

Workloads (MNIST-shaped digits, float32, 2 threads; the first ``n`` digits of the real MNIST
test set when ``shared/data/mnist`` is present, else seeded random digits of 10 classes):

- ``N1``  [784,30,10] sigmoid, quadratic cost, SGD η=3.0, mini-batch 10, 1 epoch (Nielsen ch.1);
- ``N2``  [784,100,10] relu + softmax/log-likelihood, Adam 1e-3, mini-batch 128, 3 epochs;
- ``N3``  [784,1024,1024,10] relu + softmax/log-likelihood, SGD momentum 0.9, η=0.01, batch 256;
- ``N2g`` N2 written by a user with the engine's ops and ``cr.grad`` (the generic path).

Every system of a workload starts from the same initial parameters. Runs alternate between the
systems (A, B, C, A, B, C, ...), the table shows medians, and ratios are chainrule's median time
over the peer's (below 1: chainrule is faster). Accuracy is measured on the training digits.

>>> results = run_benchmarks(["N1"], peers=["numpy"], repeats=1, n=100, pause=0)
>>> sorted(results["workloads"][0]["systems"])
['chainrule', 'numpy']
"""

from __future__ import annotations

import gc
import gzip
import os
import platform
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

import peers as bench_peers
from chainrule.errors import InputError
from peers import Trainer, batches, one_hot


@dataclass(frozen=True)
class Workload:
    """One training job: the network, its cost and optimiser, batch size and epochs."""

    name: str
    sizes: tuple
    activation: str
    output: str
    cost: str
    optimizer: str
    lr: float
    batch_size: int
    epochs: int
    momentum: float = 0.0
    generic: bool = False

    def describe(self) -> str:
        optimizer = {"sgd": f"SGD η={self.lr:g}", "adam": f"Adam {self.lr:g}",
                     "momentum": f"SGD momentum {self.momentum:g} η={self.lr:g}"}[self.optimizer]
        path = ", engine ops + cr.grad" if self.generic else ""
        return (f"{list(self.sizes)} {self.activation} -> {self.output}, {self.cost}, {optimizer}, "
                f"batch {self.batch_size}, {self.epochs} epoch{'s' * (self.epochs > 1)}{path}")


WORKLOADS = {
    "N1": Workload("N1", (784, 30, 10), "sigmoid", "sigmoid", "quadratic", "sgd", 3.0, 10, 1),
    "N2": Workload("N2", (784, 100, 10), "relu", "softmax", "log-likelihood", "adam", 1e-3, 128, 3),
    "N3": Workload("N3", (784, 1024, 1024, 10), "relu", "softmax", "log-likelihood", "momentum",
                   0.01, 256, 1, momentum=0.9),
    "N2g": Workload("N2g", (784, 100, 10), "relu", "softmax", "log-likelihood", "adam", 1e-3, 128,
                    3, generic=True),
}

GOALS = {"N1": {"jax-scan": 1.00, "pytorch": 0.25},
         "N2": {"jax-scan": 1.00, "pytorch": 0.70},
         "N3": {"jax-jit": 0.80, "floor": 1.10, "pytorch": 1.00},
         "N2g": {"jax-jit": 1.50, "pytorch": 1.00}}
"""Workload -> {peer: the largest chainrule/peer time ratio the goals accept}."""

SAME_ACCURACY = 0.005
"""A peer's time counts only if its accuracy is within this of chainrule's (half a point)."""


def goals(name: str, ratios: dict, counts: dict) -> list:
    """The goals of workload ``name`` for the peers timed: met when the ratio is within the
    limit and the peer's accuracy matched chainrule's (``counts[peer]``).

    >>> goals("N3", {"floor": 1.05, "pytorch": 0.9}, {"floor": True, "pytorch": False})
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'peer': 'floor', 'goal': 1.1, 'ratio': 1.05, 'counts': True, 'met': True},
     {'peer': 'pytorch', 'goal': 1.0, 'ratio': 0.9, 'counts': False, 'met': False}]
    """
    return [{"peer": peer, "goal": limit, "ratio": ratios[peer],
             "counts": counts.get(peer, True),
             "met": ratios[peer] <= limit and counts.get(peer, True)}
            for peer, limit in GOALS[name].items() if peer in ratios]


def same_accuracy(accuracy: dict) -> dict:
    """Peer -> whether its accuracy is within :data:`SAME_ACCURACY` of chainrule's (a peer
    without an accuracy, the floor, counts).

    >>> same_accuracy({"chainrule": 0.90, "numpy": 0.903, "sklearn": 0.88, "floor": None})
    {'numpy': True, 'sklearn': False, 'floor': True}
    """
    ours = accuracy.get("chainrule")
    return {s: ours is None or a is None or abs(a - ours) <= SAME_ACCURACY + 1e-12
            for s, a in accuracy.items() if s != "chainrule"}

DATA_ROOT = Path(os.environ.get("CHAINRULE_BENCH_DATA") or
                 Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")


def initial_params(workload: Workload, seed: int = 0) -> list:
    """Seeded float32 ``[W^1, b^1, ...]``: N(0, 1/n_in) weights and N(0, 1) biases for sigmoid
    networks (Nielsen), He N(0, 2/n_in) weights and zero biases for relu networks.

    >>> [p.shape for p in initial_params(WORKLOADS["N1"])]
    [(30, 784), (30,), (10, 30), (10,)]
    """
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(workload.sizes[:-1], workload.sizes[1:]):
        scale = np.sqrt((1.0 if workload.activation == "sigmoid" else 2.0) / n_in)
        params.append((rng.standard_normal((n_out, n_in)) * scale).astype(np.float32))
        bias = rng.standard_normal(n_out) if workload.activation == "sigmoid" else np.zeros(n_out)
        params.append(bias.astype(np.float32))
    return params


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


SPLITS = {"test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
          "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")}


def load_data(n: int = 10000, root=None, seed: int = 0, split: str = "test"):
    """``(X float32 (n, 784) in [0, 1], y int64 (n,), source)`` for the benchmarks.

    The real MNIST ``split`` ("test": 10,000 digits, "train": 60,000) from ``root`` (default:
    the repository's sibling ``shared/data/mnist``) through :func:`chainrule.data.load_mnist`,
    else read from its IDX files directly, else (no files) seeded random digits: 10 noisy
    class prototypes.

    >>> X, y, source = load_data(50, root="/nonexistent")
    >>> X.shape, X.dtype, source
    ((50, 784), dtype('float32'), 'random (seeded, 10 classes)')
    """
    root = Path(DATA_ROOT if root is None else root)
    files = SPLITS[split]
    if not (root / files[0]).exists() and (root / "mnist").is_dir():
        root = root / "mnist"      # a --data-dir holding the mnist/ folder, as the cache does
    images, labels = root / files[0], root / files[1]
    if images.exists() and labels.exists():
        try:
            from chainrule.data import load_mnist

            X, y = load_mnist(root=str(root), split=split, download=False)
            source = f"MNIST {split} set (real, chainrule.data.load_mnist)"
        except (ImportError, AttributeError, TypeError, InputError):
            X = _read_idx(images).reshape(-1, 784) / np.float32(255)
            y = _read_idx(labels)
            source = f"MNIST {split} set (real, IDX read by chainrule.bench)"
        if n > len(X):
            raise InputError(f"n: the MNIST {split} set has {len(X)} digits, asked for {n}")
        return (np.ascontiguousarray(X[:n], dtype=np.float32), np.asarray(y[:n], np.int64),
                source)
    rng = np.random.default_rng(seed)
    prototypes = rng.random((10, 784), dtype=np.float32)
    y = rng.integers(0, 10, n)
    X = np.clip(prototypes[y] + 0.5 * rng.standard_normal((n, 784), dtype=np.float32), 0, 1)
    return X.astype(np.float32), y.astype(np.int64), "random (seeded, 10 classes)"


def chainrule_network(workload, params, X, y, seed) -> Trainer:
    """chainrule's own path: ``cr.nn.Network`` trained by ``cr.train`` with ``cr.optim``.

    >>> X, y, _ = load_data(40, root="/nonexistent")
    >>> trainer = chainrule_network(WORKLOADS["N1"], initial_params(WORKLOADS["N1"]), X, y, 0)
    >>> trainer.run(); trainer.predict(X).shape
    (40,)
    """
    import chainrule as cr

    net = cr.nn.Network(list(workload.sizes), activation=workload.activation,
                        output=workload.output, cost=workload.cost, dtype="float32",
                        weights=[W.copy() for W in params[0::2]],
                        biases=[b.copy() for b in params[1::2]])
    if workload.optimizer == "adam":
        optimizer = cr.optim.Adam(lr=workload.lr)
    else:
        optimizer = cr.optim.SGD(lr=workload.lr, momentum=workload.momentum)

    def run():
        cr.train(net, X, y, epochs=workload.epochs, batch_size=workload.batch_size,
                 optimizer=optimizer, seed=seed, progress=False)

    return Trainer(run, net.predict, lambda: [p.copy() for p in net.params])


def chainrule_generic(workload, params, X, y, seed) -> Trainer:
    """The generic path: the cost written with the engine's ops, ``cr.grad``, then Adam.

    >>> X, y, _ = load_data(40, root="/nonexistent")
    >>> w = WORKLOADS["N2g"]
    >>> trainer = chainrule_generic(w, initial_params(w), X, y, 0)
    >>> trainer.run(); [p.shape for p in trainer.params()]
    [(100, 784), (100,), (10, 100), (10,)]
    """
    import chainrule as cr

    params = [p.copy() for p in params]
    depth = len(params) // 2
    Y = one_hot(y, workload.sizes[-1], X.dtype)

    def cost(*args):
        *layers, x, target = args
        a = x
        for layer in range(depth):
            W, b = layers[2 * layer], layers[2 * layer + 1]
            z = cr.matmul(a, cr.transpose(W)) + b
            a = cr.relu(z) if layer < depth - 1 else z
        return -cr.sum(target * cr.log_softmax(a, axis=1)) / len(x)

    gradient = cr.grad(cost, argnums=tuple(range(len(params))))
    step = _adam(workload, params)

    def run():
        for idx in batches(len(X), workload.batch_size, workload.epochs, seed):
            step(gradient(*params, X[idx], Y[idx]))

    def predict(Xp):
        a = Xp
        for layer in range(depth):
            a = a @ params[2 * layer].T + params[2 * layer + 1]
            a = np.maximum(a, 0) if layer < depth - 1 else a
        return a.argmax(axis=1)

    return Trainer(run, predict, lambda: params)


def _adam(workload, params):
    """``chainrule.training.optim.Adam`` stepping the arrays in place."""
    from chainrule.training import optim

    optimizer = optim.Adam(lr=workload.lr)
    return lambda grads: optimizer.step(params, list(grads))


def _cpu_times():
    """(all CPUs' ticks, their idle ticks, this process's ticks) from /proc, or None."""
    try:
        with open("/proc/stat") as f:
            fields = [float(v) for v in f.readline().split()[1:]]
        with open("/proc/self/stat") as f:
            own = f.read().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None
    return sum(fields), fields[3] + fields[4], float(own[11]) + float(own[12])


def settle(pause: float, max_wait: float = 15.0, busy: float = 0.15) -> float:
    """Sleep ``pause`` s, longer (up to ``max_wait``) while other processes keep the CPUs more
    than ``busy`` occupied (from /proc; a plain sleep where that is missing).

    The machine is shared: a run timed while another process computes measures the other
    process too. Returns the other processes' share of the CPUs during the last ``pause``.

    >>> 0.0 <= settle(0.05, max_wait=0.05) <= 1.0
    True
    """
    waited = 0.0
    while True:
        before = _cpu_times()
        time.sleep(pause)
        waited += pause
        after = _cpu_times()
        if before is None or after is None or after[0] <= before[0]:
            return 0.0
        total = after[0] - before[0]
        others = min(1.0, max(0.0, (total - (after[1] - before[1]) - (after[2] - before[2]))
                              / total))  # tick counters are sampled at slightly different times
        if others <= busy or waited >= max_wait:
            return others


def _time(trainer: Trainer) -> float:
    gc.collect()
    start = time.perf_counter()
    trainer.run()
    return time.perf_counter() - start


def _peer_names(peers) -> list:
    if peers is True:
        return [p for p in bench_peers.PEERS if bench_peers.available(p)]
    if not peers:
        return []
    unknown = [p for p in peers if p not in bench_peers.PEERS]
    if unknown:
        raise InputError(f"peers: unknown peer {unknown[0]!r}; choose from "
                         f"{', '.join(bench_peers.PEERS)}")
    return list(peers)


def _workload_names(workloads) -> list:
    names = list(WORKLOADS) if workloads is None else [w.strip() for w in workloads]
    for name in names:
        if name not in WORKLOADS:
            raise InputError(f"workloads: unknown workload {name!r}; choose from "
                             f"{', '.join(WORKLOADS)}")
    return names


def builder(workload: Workload, system: str):
    """The function that prepares ``system`` (``chainrule`` or a peer) on ``workload``.

    >>> builder(WORKLOADS["N2g"], "chainrule").__name__, builder(WORKLOADS["N1"], "floor").__name__
    ('chainrule_generic', 'matmul_floor')
    """
    if system == "chainrule":
        return chainrule_generic if workload.generic else chainrule_network
    return bench_peers.PEERS[system]


def run_benchmarks(workloads=None, peers=True, repeats: int = 5, n: int = 10000, seed: int = 0,
                   pause: float = 0.2, data_root=None, log=None) -> dict:
    """Time every system on every workload; returns a JSON-serialisable dict of the results.

    ``peers``: True for every installed peer, False for chainrule only, or a list of names from
    :data:`chainrule.bench_peers.PEERS`. Each repeat runs every system once, in turn, after a
    ``pause`` (so the thread pools of the previous system go idle), prolonged by :func:`settle`
    while other processes are busy; ``log`` gets a line per run.
    """
    # chainrule's products run in SciPy's BLAS: loaded now, it is listed and limited below
    import scipy.linalg.blas  # noqa: F401
    from threadpoolctl import threadpool_info, threadpool_limits

    from chainrule._fast import kernels

    names, peer_names = _workload_names(workloads), _peer_names(peers)
    if repeats < 1 or n < 1:
        raise InputError(f"repeats and n must be at least 1, got repeats={repeats}, n={n}")
    X, y, source = load_data(n, data_root, seed)
    blas = [f"{i.get('internal_api')} {i.get('version')} {i.get('architecture', '')}".strip()
            for i in threadpool_info() if i.get("user_api") == "blas"]
    results = {"meta": {"data": source, "n": len(X), "dtype": "float32", "threads": 2,
                        "repeats": repeats, "accuracy_on": "the training digits",
                        "python": platform.python_version(), "numpy": np.__version__,
                        "blas": blas, "machine": platform.machine(),
                        "kernels": "C" if kernels.BUILT else "NumPy",
                        "missing_peers": bench_peers.missing() if peers is True else {}},
               "workloads": []}
    with threadpool_limits(limits=2):
        for index, name in enumerate(names):
            if log is not None:
                log(f"workload {index + 1}/{len(names)}: {name} ({WORKLOADS[name].describe()}), "
                    f"{repeats} run(s) of {', '.join(['chainrule', *peer_names])}")
            results["workloads"].append(
                _run_workload(WORKLOADS[name], ["chainrule", *peer_names], X, y, seed,
                              repeats, pause, log))
    return results


def _run_workload(workload, systems, X, y, seed, repeats, pause, log) -> dict:
    params = initial_params(workload, seed)
    times = {s: [] for s in systems}
    others = {s: [] for s in systems}
    compile_s = {s: [] for s in systems}
    accuracy = {}
    for repeat in range(repeats):
        for system in systems:
            trainer = builder(workload, system)(workload, params, X, y, seed)
            if trainer.compile_s is not None:
                compile_s[system].append(trainer.compile_s)
            others[system].append(round(settle(pause), 3) if pause else None)
            times[system].append(_time(trainer))
            if repeat == repeats - 1:
                accuracy[system] = (None if system == "floor" else
                                    float(np.mean(trainer.predict(X) == y)))
            if log is not None:
                log(f"{workload.name} {system:<9} run {repeat + 1}/{repeats}: "
                    f"{times[system][-1]:.3f} s (others' CPU share before: {others[system][-1]})")
    medians = {s: statistics.median(t) for s, t in times.items()}
    ratios = {s: medians["chainrule"] / medians[s] for s in systems if s != "chainrule"}
    counts = same_accuracy(accuracy)
    return {"name": workload.name, "description": workload.describe(),
            "workload": asdict(workload),
            "systems": {s: {"times": times[s], "median": medians[s], "accuracy": accuracy.get(s),
                            "counts": counts.get(s, True),
                            "compile_s": (statistics.median(compile_s[s]) if compile_s[s]
                                          else None),
                            "others_cpu_share": others[s]} for s in systems},
            "ratios": ratios, "goals": goals(workload.name, ratios, counts)}


def format_table(results: dict) -> str:
    """The results as a plain-text table: median time, chainrule/peer ratio, accuracy, goal.

    >>> results = run_benchmarks(["N1"], peers=["numpy"], repeats=1, n=100, pause=0,
    ...                          data_root="/nonexistent")
    >>> print(format_table(results))  # doctest: +ELLIPSIS
    chainrule bench: 100 digits, random (seeded, 10 classes), ...
    """
    meta = results["meta"]
    lines = [f"chainrule bench: {meta['n']} digits, {meta['data']}, {meta['dtype']}, "
             f"{meta['threads']} threads, median of {meta['repeats']} run(s); "
             f"accuracy on {meta['accuracy_on']}; BLAS: {', '.join(meta['blas']) or '?'}; "
             f"kernels: {meta.get('kernels', '?')}",
             "",
             f"{'workload':<9}{'system':<11}{'time (s)':>9}{'chainrule/peer':>16}"
             f"{'accuracy':>10}  goal"]
    for w in results["workloads"]:
        goals = {g["peer"]: g for g in w["goals"]}
        lines.append(f"{w['name']}: {w['description']}")
        for system, r in w["systems"].items():
            ratio = w["ratios"].get(system)
            goal = goals.get(system)
            acc = "-" if r["accuracy"] is None else f"{r['accuracy']:.4f}"
            notes = []
            if goal is not None:
                notes.append(f"<= {goal['goal']:.2f}: {'met' if goal['met'] else 'NOT met'}")
            if not r.get("counts", True):
                notes.append("accuracy differs by more than 0.5 point: does not count")
            if r.get("compile_s") is not None:
                notes.append(f"compile {r['compile_s']:.2f} s, not timed")
            lines.append(
                f"{'':<9}{system:<11}{r['median']:>9.3f}"
                f"{'' if ratio is None else f'{ratio:.2f}':>16}{acc:>10}  " + "; ".join(notes))
    for peer, how in results["meta"].get("missing_peers", {}).items():
        lines.append(f"not timed: {peer} is not installed ({how})")
    return "\n".join(lines)
