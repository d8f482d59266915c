"""Fit time of chainrule.sklearn's MLPs against scikit-learn's, on the same settings.

Each case fits scikit-learn's estimator and chainrule's with identical parameters on the
same data, alternating the two ``--repeats`` times; it reports the median fit time of each,
their ratio (chainrule / scikit-learn: below 1 is faster), the number of epochs or
iterations each ran and their test scores (the defaults start from the same weights and see
the same batches, so those agree). Both run under the same BLAS thread limit (``--threads``,
through threadpoolctl, for NumPy's and SciPy's BLAS alike).

    python benchmarks/bench_sklearn.py                      # every case, 5 alternating repeats
    python benchmarks/bench_sklearn.py --cases digits-adam --repeats 3 --json results.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from chainrule.fsutil import atomic_write
from chainrule.sklearn import MLPClassifier, MLPRegressor


def digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def smooth(n=2000):
    rng = np.random.default_rng(0)
    X = rng.uniform(-np.pi, np.pi, (n, 2))
    y = np.sin(X[:, 0]) * np.cos(X[:, 1])
    return X[: n // 2], X[n // 2:], y[: n // 2], y[n // 2:]


# name -> (data, scikit-learn's class, chainrule's class, parameters)
CASES = {
    "digits-adam": (digits, SkClassifier, MLPClassifier,
                    dict(hidden_layer_sizes=(100,), max_iter=200, random_state=0)),
    "digits-sgd": (digits, SkClassifier, MLPClassifier,
                   dict(hidden_layer_sizes=(100,), solver="sgd", learning_rate_init=0.05,
                        max_iter=200, random_state=0)),
    "digits-lbfgs": (digits, SkClassifier, MLPClassifier,
                     dict(hidden_layer_sizes=(100,), solver="lbfgs", max_iter=200,
                          random_state=0)),
    "smooth-adam": (smooth, SkRegressor, MLPRegressor,
                    dict(hidden_layer_sizes=(50, 50), activation="tanh", max_iter=200,
                         random_state=0)),
}


def fit_once(cls, params, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        started = time.perf_counter()
        model = cls(**params).fit(X, y)
        return time.perf_counter() - started, model


def run_case(name, repeats, log):
    data, theirs, ours, params = CASES[name]
    X_train, X_test, y_train, y_test = data()
    times = {"scikit-learn": [], "chainrule": []}
    models = {}
    for r in range(repeats):
        order = [("scikit-learn", theirs), ("chainrule", ours)]
        for system, cls in order if r % 2 == 0 else order[::-1]:   # alternate who goes first
            seconds, models[system] = fit_once(cls, params, X_train, y_train)
            times[system].append(seconds)
            log(f"  {name} {system:<12} run {r + 1}: {seconds:.3f} s")
    medians = {system: statistics.median(t) for system, t in times.items()}
    return {"case": name, "params": {k: list(v) if isinstance(v, tuple) else v
                                     for k, v in params.items()},
            "times": times, "median_s": medians,
            "ratio": medians["chainrule"] / medians["scikit-learn"],
            "n_iter": {s: int(m.n_iter_) for s, m in models.items()},
            "test_score": {s: float(m.score(X_test, y_test)) for s, m in models.items()}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads for both")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    log = lambda line: print(line, file=sys.stderr, flush=True)   # noqa: E731
    with threadpool_limits(limits=args.threads):
        results = [run_case(name, args.repeats, log) for name in args.cases]
    print(f"BLAS threads: {args.threads}; {args.repeats} alternating runs per case, medians")
    print(f"{'case':<14} {'scikit-learn s':>14} {'chainrule s':>12} {'ratio':>6} "
          f"{'iterations':>11} {'test score (sk / cr)':>21}")
    for r in results:
        m, it, sc = r["median_s"], r["n_iter"], r["test_score"]
        print(f"{r['case']:<14} {m['scikit-learn']:>14.3f} {m['chainrule']:>12.3f} "
              f"{r['ratio']:>6.2f} {it['scikit-learn']:>5}/{it['chainrule']:<5} "
              f"{sc['scikit-learn']:>10.4f} / {sc['chainrule']:.4f}")
    if args.json:
        with atomic_write(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
