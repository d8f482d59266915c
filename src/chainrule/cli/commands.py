"""One function per ``chainrule`` subcommand: arguments in, library calls, text out, exit code.

The parser and the error boundary live in :mod:`chainrule.cli`; nothing here prints a
traceback: bad input raises :class:`~chainrule.errors.InputError`, failed runs
:class:`~chainrule.errors.RunFailed`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from chainrule.errors import InputError


def _emit(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _load_split(source, data_dir, download, split):
    from chainrule import data

    if source not in ("mnist", "fashion-mnist"):   # the flags mean nothing to other data
        flag = "--data-dir" if data_dir is not None else None if download else "--no-download"
        if flag:
            raise InputError(f"{flag} is for --data mnist or fashion-mnist; {source} is read "
                             "from where it is (drop the flag)")
    return data.load(source, data_dir=data_dir, split=split, download=download)


def evaluate(args) -> int:
    from chainrule import training

    net, state = training.load_checkpoint(args.model)
    source = args.data or (state.metadata.get("data") if state is not None else None) or "digits"
    X, y = _load_split(source, args.data_dir, not args.no_download, args.split)
    if X.shape[1] != net.sizes[0] and not args.data:
        raise InputError(f"{args.model}: the model takes {net.sizes[0]} inputs but {source} "
                         f"(the default data) has {X.shape[1]}; give --data with "
                         f"{net.sizes[0]} features per row (ex4's weights: --data ex4data1.mat)")
    if X.shape[1] != net.sizes[0]:
        raise InputError(f"{args.model}: the model takes {net.sizes[0]} inputs but {source} has "
                         f"{X.shape[1]} features")
    _check_classes(net, y, args.model, source)
    report = classification_report(net, X, y)
    if args.plot or args.plot_weights or args.plot_errors:
        from chainrule.explanations import plots

        predicted = net.predict(X)
        if args.plot:
            plots.confusion_matrix(y, predicted, args.plot, n_classes=max(net.sizes[-1], 2))
        if args.plot_weights:
            plots.weight_images(net.weights[0], args.plot_weights)
        if args.plot_errors:
            plots.misclassified(X, y, predicted, args.plot_errors)
    if args.json:
        _emit(json.dumps({"model": args.model, "data": source, "split": args.split, **report}))
        return 0
    lines = [f"{args.model} on {source} ({args.split}, {len(y)} examples)",
             f"accuracy {report['accuracy']:.2%}   cost {report['cost']:.4f}",
             "", "class  precision  recall  support"]
    for row in report["per_class"]:
        lines.append(f"{row['class']:>5}  {row['precision']:>9.3f}  {row['recall']:>6.3f}  "
                     f"{row['support']:>7}")
    lines += ["", "confusion matrix (rows: true class, columns: predicted)"]
    width = max(len(str(v)) for r in report["confusion"] for v in r)
    lines += [" ".join(f"{v:>{width}}" for v in r) for r in report["confusion"]]
    _emit("\n".join(lines))
    return 0


def _check_classes(net, y, model, source):
    """InputError unless every label of ``source`` is a class the model's outputs can name."""
    k = net.sizes[-1]
    classes = max(k, 2)         # one sigmoid unit tells two classes apart: a < 0.5 and a >= 0.5
    found = int(np.max(y)) + 1 if len(y) else 0
    if found > classes:
        units = f"{k} outputs" if k > 1 else "1 output (a sigmoid unit)"
        raise InputError(f"{model}: the model has {units}, so classes 0..{classes - 1}, but "
                         f"{source} has labels up to {found - 1}, so at least {found} classes; "
                         "evaluate it on data with the classes it was trained on")


def classification_report(net, X, y) -> dict:
    """Accuracy, cost, per-class precision/recall/support and the confusion matrix."""
    k = max(net.sizes[-1], 2)
    predicted = net.predict(X)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (np.asarray(y), predicted), 1)
    per_class = []
    for c in range(k):
        true_positive = int(confusion[c, c])
        predicted_c, actual_c = int(confusion[:, c].sum()), int(confusion[c, :].sum())
        per_class.append({
            "class": c, "support": actual_c,
            "precision": true_positive / predicted_c if predicted_c else 0.0,
            "recall": true_positive / actual_c if actual_c else 0.0,
        })
    return {"accuracy": float(np.mean(predicted == y)), "cost": float(net.cost(X, y)),
            "per_class": per_class, "confusion": confusion.tolist()}


def predict(args) -> int:
    from chainrule import data, nn
    from chainrule.nn.activations import no_probabilities

    net = nn.load(args.model)
    path = Path(args.input)
    if path.suffix.lower() == ".png":
        X = data.load_image(path, n_inputs=net.sizes[0])
    else:
        X = data.load_array(path)
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim == 2 and X.shape[1] != net.sizes[0]:
        raise InputError(f"{args.input}: rows of {X.shape[1]} values, but {args.model} takes "
                         f"{net.sizes[0]} inputs per row")
    X = net.check_inputs(X)
    a = net.forward(X)
    labels = net.predict(X)
    # softmax outputs (and one sigmoid unit) are class probabilities; several sigmoid units
    # are independent outputs, each in [0, 1] on its own, and are named as such
    distribution = not no_probabilities(net.output, net.sizes[-1])
    if args.json:
        report = {"predictions": labels.tolist(), "output": net.output, "outputs": a.tolist()}
        if distribution:
            report["probabilities"] = net.predict_proba(X).tolist()
        _emit(json.dumps(report))
    elif distribution:
        for i, (label, p) in enumerate(zip(labels, net.predict_proba(X))):
            _emit(f"row {i}: class {label} (p = {p[label]:.3f})")
    else:
        for i, (label, row) in enumerate(zip(labels, a)):
            _emit(f"row {i}: class {label} (output {row[label]:.3f}; independent "
                  f"{net.output} outputs, not probabilities)")
    return 0


def gradcheck(args) -> int:
    from chainrule import nn

    rng = np.random.default_rng(args.seed)
    if args.model:
        net = nn.load(args.model).astype("float64")
    else:
        net = nn.Network(args.layers, activation=args.activation, output=args.output,
                         cost=args.cost, init="uniform", seed=args.seed, dtype="float64")
    X = rng.uniform(-1, 1, size=(args.examples, net.sizes[0]))
    y = rng.integers(0, max(net.sizes[-1], 2) if net.sizes[-1] > 1 else 2, size=args.examples)
    report = nn.check_network(net, X, y, l2=args.l2, eps=args.eps, tolerance=args.tolerance,
                              order=args.order)
    _emit(json.dumps(report.to_dict()) if args.json else str(report))
    return 0 if report.ok else 1


def explain(args) -> int:
    from chainrule.explanations import ledger, networks

    if args.net and args.layers:
        raise InputError("explain: give --net or --layers, not both")
    if args.net:
        net = networks.load_network(args.net)
    elif args.layers:
        net = ledger.random_net(args.layers, seed=args.seed)
    else:
        raise InputError("explain needs a network: --net NET.json, --net M.npz (a trained "
                         f"model), --net {' or '.join(networks.example_names())} (an example), "
                         "or --layers 2,3,1 for random weights")
    target = networks.target_vector(args.target, net.sizes[-1])
    result = ledger.explain(net, args.input, target, lr=args.lr)
    _emit(ledger.render(result, args.format))
    return 0


def graph(args) -> int:
    from chainrule.explanations import diagram

    _emit(diagram.graph_report(args.expression, args.at, mode=args.mode, wrt=args.wrt,
                               fmt=args.format))
    return 0


def _benchmarks():
    """The harness in a source checkout's benchmarks/ (not part of the installed package)."""
    import importlib

    folder = Path(__file__).resolve().parents[3] / "benchmarks"
    if not (folder / "harness.py").is_file():
        raise InputError("bench runs the benchmarks of a source checkout, and benchmarks/ is not "
                         "installed with chainrule: clone the repository, install it with "
                         "pip install -e ., and run chainrule bench (or benchmarks/run.py) there")
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    return importlib.import_module("harness")


def bench(args) -> int:
    from chainrule.data import mnist

    benchmarks = _benchmarks()
    workloads = None if args.workloads is None else args.workloads.split(",")
    if not args.no_peers:
        import peers

        for peer, how in peers.missing().items():
            print(f"chainrule bench: {peer} is not installed, so it is not timed ({how})",
                  file=sys.stderr, flush=True)
    data_dir = Path(args.data_dir) if args.data_dir else mnist.cache_dir("mnist")
    results = benchmarks.run_benchmarks(
        workloads=workloads, peers=not args.no_peers, repeats=args.repeats, data_root=data_dir,
        log=None if args.quiet else lambda line: print(line, file=sys.stderr, flush=True))
    _emit(json.dumps(results) if args.json else benchmarks.format_table(results))
    return 0
