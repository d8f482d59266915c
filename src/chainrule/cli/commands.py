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

DEFAULT_HIDDEN = {"digits": [100], "mnist": [100], "fashion-mnist": [100]}


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


def _resolve_sizes(layers, n_features, n_classes, source):
    """Complete ``--layers`` with the ends the data fixes (a full list starts with the width)."""
    if layers is None:
        layers = DEFAULT_HIDDEN.get(source, [30])
    if layers[0] == n_features and len(layers) >= 2:
        sizes = list(layers)
    else:
        sizes = [n_features, *layers, n_classes]
    if sizes[-1] != n_classes and not (n_classes == 2 and sizes[-1] == 1):
        raise InputError(f"--layers: the output layer has {sizes[-1]} units but the data has "
                         f"{n_classes} classes")
    return sizes


def _n_classes(*label_arrays):
    labels = np.concatenate([np.asarray(y) for y in label_arrays if y is not None])
    return int(labels.max()) + 1 if labels.size else 0


def _optimizer(args, cost):
    from chainrule.training import optim

    name = args.optimizer
    if name in ("cg", "lbfgs"):
        cls = optim.CG if name == "cg" else optim.LBFGS
        return cls(max_iter=args.epochs)
    lr = args.lr
    if lr is None:
        lr = 0.001 if name == "adam" else (3.0 if cost == "quadratic" else 0.5)
    if name == "adam":
        return optim.Adam(lr=lr)
    return optim.SGD(lr=lr, momentum=args.momentum if name == "momentum" else 0.0)


def _accuracy(model, X, y):
    return float(np.mean(model.predict(X) == y))


def train(args) -> int:
    from chainrule import data, nn, training
    from chainrule.cli.parallel import Parallel

    par = Parallel(args)       # --shards / --mpi: checked before any data is read
    source = args.data
    download = not args.no_download
    if args.plot:  # fail now, not after a long run
        from chainrule.explanations import plots

        plots.require_matplotlib()
    X, y = _load_split(source, args.data_dir, download, "train")
    X_test, y_test = _load_split(source, args.data_dir, download, "test")
    if args.validation > 0:
        if args.validation >= 1:
            raise InputError(f"--validation: expected a fraction below 1, got {args.validation}")
        X, X_val, y, y_val = data.train_val_split(X, y, val_fraction=args.validation,
                                                  seed=args.seed)
        validation = (X_val, y_val)
    else:
        validation = None

    state = None
    if args.resume:
        net, state = training.load_checkpoint(args.resume)
        if state is None:
            raise InputError(f"{args.resume}: a model without training state cannot be resumed")
        if net.sizes[0] != X.shape[1]:
            raise InputError(f"{args.resume}: the model takes {net.sizes[0]} inputs but "
                             f"{source} has {X.shape[1]} features")
        optimizer = state.optimizer
    else:
        cost = args.cost or "log-likelihood"
        sizes = _resolve_sizes(args.layers, X.shape[1], _n_classes(y, y_test), source)
        net = nn.Network(sizes, activation=args.activation, output=args.output, cost=cost,
                         init=args.init, seed=args.seed, dtype=args.dtype)
        optimizer = _optimizer(args, cost)

    speaks = par.speaks and not (args.quiet or args.json)
    printer = training.ProgressPrinter(stream=sys.stdout) if speaks else None
    if printer is not None:
        _emit(f"chainrule: {source}: {len(X)} training, "
              f"{0 if validation is None else len(validation[0])} validation, "
              f"{len(X_test)} test examples; network {net.sizes} {net.activation}->{net.output}, "
              f"{net.cost} cost, {optimizer}{par.describe()}")
    with par.running(args.save, net):
        history = training.train(
            par.model(net), X, y, epochs=args.epochs, batch_size=args.batch_size,
            optimizer=optimizer, l2=args.l2, validation=validation, seed=args.seed,
            progress=speaks, callbacks=() if printer is None else (printer,),
            early_stopping=None if args.patience is None else training.EarlyStopping(
                patience=args.patience, monitor="val_accuracy"),
            checkpoint=par.checkpoint(args.save), resume=state, metadata={"data": source},
        )
    if not par.speaks:
        return 0
    test_accuracy = _accuracy(net, X_test, y_test)
    test_cost = net.cost(X_test, y_test)  # the data cost C_0: λ's term is not about the test set
    if args.plot:
        from chainrule.explanations import plots

        plots.learning_curves(
            history.to_dict(), args.plot,
            title=f"{source}: network {net.sizes}, {net.activation} -> {net.output}, {net.cost}",
            xlabel="iteration" if args.optimizer in ("cg", "lbfgs") else "epoch")
    summary = {
        "data": source, "sizes": list(net.sizes), "activation": net.activation,
        "output": net.output, "cost": net.cost, "epochs": len(history),
        "test_accuracy": test_accuracy, "test_cost": test_cost, "history": history.to_dict(),
        "saved": args.save,
    }
    if args.json:
        _emit(json.dumps(summary))
    else:
        _emit(f"test accuracy {test_accuracy:.2%} ({int(round(test_accuracy * len(X_test)))}"
              f"/{len(X_test)}), test cost {test_cost:.4f}"
              + (f"; model saved to {args.save}" if args.save else ""))
    return 0


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

    net = nn.load(args.model)
    path = Path(args.input)
    if path.suffix.lower() == ".png":
        X = data.load_image(path, n_inputs=net.sizes[0])
    else:
        X = data.load_array(path)
    if X.ndim == 1:
        X = X[None, :]
    X = net.check_inputs(X)
    proba = net.predict_proba(X)
    labels = net.predict(X)
    if args.json:
        _emit(json.dumps({"predictions": labels.tolist(), "probabilities": proba.tolist()}))
    else:
        for i, (label, p) in enumerate(zip(labels, proba)):
            confidence = p[label] if p.shape[0] > 1 else (p[0] if label == 1 else 1 - p[0])
            _emit(f"row {i}: class {label} (p = {confidence:.3f})")
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
