"""``chainrule train``: its flags (:func:`add_parser`) and the run (:func:`run`).

The flags are the train options of :mod:`chainrule.training.options` with dashes; every one
left out is None here, and the options module applies the defaults, so a given flag can be
told from a default (a resumed run refuses a given flag that differs from the saved one).
Every flag, output file and folder is checked before the first epoch.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

from chainrule.cli import interrupts, parallel
from chainrule.cli.flags import (
    ACTIVATIONS,
    COSTS,
    INITS,
    OPTIMIZERS,
    _add_data_options,
    _choice,
    _layers,
    _number,
)
from chainrule.errors import InputError
from chainrule.fsutil import WriteFailed, check_writable
from chainrule.training import options as run_options


def add_parser(sub):
    """The ``train`` subcommand and its flags (their defaults are the options module's)."""
    t = sub.add_parser("train", help="train a network and report its test accuracy",
                       description="Train a network with backpropagation. With no options: the "
                                   "embedded 8x8 digits, a [64,100,10] network, test accuracy.")
    _add_data_options(t, None, shown="digits")
    t.add_argument("--layers", type=_layers, metavar="SIZES",
                   help="every layer's size, the data's width first and its number of classes "
                        "last, e.g. 64,30,10 for the digits (default: --hidden's)")
    t.add_argument("--hidden", type=_layers, metavar="SIZES",
                   help="the hidden layers' sizes only, e.g. 30 or 30,10: the data fixes the "
                        "ends (default: 100 for digits and MNIST, else 30)")
    t.add_argument("--activation", type=_choice(ACTIVATIONS),
                   help="hidden layers' activation: " + ", ".join(ACTIVATIONS)
                        + " (default: sigmoid)")
    t.add_argument("--output", type=_choice(ACTIVATIONS),
                   help="output activation (default: softmax for log-likelihood, else sigmoid)")
    t.add_argument("--cost", type=_choice(COSTS),
                   help="cost: " + ", ".join(COSTS) + " (default: log-likelihood)")
    t.add_argument("--init", type=_choice(INITS),
                   help="initial weights: " + ", ".join(INITS) + " (default: scaled-normal, "
                        "N(0, 1/n_in) as Nielsen ch. 3; uniform is ex4's ±0.12)")
    t.add_argument("--optimizer", type=_choice(OPTIMIZERS),
                   help="optimiser: " + ", ".join(OPTIMIZERS) + " (default: sgd; cg and lbfgs "
                        "are SciPy's, on the whole training set)")
    t.add_argument("--lr", type=_number(float, low=0, low_inclusive=False, what="a learning rate"),
                   help="learning rate η for sgd, momentum, adam (default: 0.001 for adam; 3.0 "
                        "with the quadratic cost, as Nielsen ch. 1, else 0.5)")
    t.add_argument("--momentum", type=_number(float, low=0, what="a momentum"),
                   help="momentum coefficient, for --optimizer momentum only (default: 0.9)")
    t.add_argument("--batch-size", type=_number(int, low=1, what="an integer"),
                   help="examples per mini-batch for sgd, momentum, adam (default: 10)")
    t.add_argument("--epochs", type=_number(int, low=1, what="an integer"),
                   help="total epochs, with --resume including those done; iterations for cg "
                        "and lbfgs (default: 30)")
    t.add_argument("--l2", type=_number(float, low=0, what="a regularisation λ"),
                   help="L2 regularisation λ: the training objective adds λ/(2n) Σ w² over the "
                        "weights, n the training set's size (default: 0)")
    t.add_argument("--validation", type=_number(float, low=0, what="a fraction"),
                   help="fraction of the training data held out for validation (default: 0.1)")
    t.add_argument("--patience", type=_number(int, low=1, what="an integer"),
                   help="stop early when validation accuracy has not improved for this many "
                        "epochs, and keep the best epoch's weights (default: no early stopping)")
    t.add_argument("--seed", type=_number(int, low=0, what="an integer"),
                   help="seeds the initial weights, the validation split and the shuffling "
                        "(default: 0)")
    t.add_argument("--dtype", type=_choice(("float32", "float64")),
                   help="the network's floating-point type: float32 or float64 "
                        "(default: float32)")
    t.add_argument("--save", metavar="M.npz",
                   help="write the model and its training state after every epoch, atomically "
                        "(default: not saved)")
    t.add_argument("--resume", metavar="M.npz",
                   help="continue a saved run, with its saved options, up to --epochs in total")
    t.add_argument("--plot", metavar="curves.png",
                   help="draw the learning curves to a .png, .svg or .pdf (needs matplotlib)")
    t.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    t.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    parallel.add_arguments(t)
    t.set_defaults(handler=run)
    return t


def check_output(path, flag):
    """An output file's folder must exist and be writable, and the file not be a folder."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{flag} {path}: folder {folder} does not exist")
    if target.is_dir():
        raise InputError(f"{flag} {path}: is a folder, not a file")
    try:
        check_writable(target)      # a file is made and removed: the file system answers
    except WriteFailed as error:
        raise InputError(f"{flag} {error}") from None


def _check_outputs(args):
    """Every output path and the plotting library, before any data is read."""
    if args.save:
        check_output(args.save, "--save")
    if args.plot:
        from chainrule.explanations import plots

        check_output(args.plot, "--plot")
        plots.check_path(args.plot)
        plots.require_matplotlib()


def given_options(args) -> dict:
    """The train options given on the command line (None for those left out)."""
    return {key: getattr(args, key) for key in run_options.DEFAULTS if hasattr(args, key)}


class _Epochs:
    """Counts the epochs done (a callback), to say where an interrupted run stopped."""

    def __init__(self, done):
        self.done = done

    def on_epoch_end(self, epoch, history):
        self.done = epoch


def _stamp(path):
    """What identifies the file at ``path`` now (an atomic write replaces it), or None."""
    try:
        found = os.stat(path) if path else None
    except OSError:
        return None
    return None if found is None else (found.st_ino, found.st_mtime_ns, found.st_size)


def _what_is_saved(args, before, done, total):
    """For an interrupted run: which epoch the files hold, and the command that continues it."""
    from chainrule.training import load_checkpoint

    path = None
    if args.save and (_stamp(args.save) != before or (
            args.resume and os.path.abspath(args.save) == os.path.abspath(args.resume))):
        path = args.save                        # written by this run, or the file resumed
    elif args.resume:
        path = args.resume                      # nothing new saved: the resumed file holds it
    if path is None:
        return ("nothing was saved: no epoch ended" if args.save else
                "nothing was saved (give --save M.npz to keep each epoch and resume)")
    try:
        epoch = load_checkpoint(path)[1].epoch
    except (InputError, OSError):
        return f"{path} cannot be read back, so nothing is known to be saved"
    line = ["chainrule", "train", "--resume", path, "--epochs", str(total)]
    if args.save:
        line += ["--save", args.save]
    for flag, value in (("--data-dir", args.data_dir), ("--plot", args.plot),
                        ("--threads", args.threads),
                        ("--shards", args.shards if args.shards > 1 else None)):
        if value is not None:
            line += [flag, str(value)]
    line += ["--no-download"] if args.no_download else []
    line += [flag for flag, on in (("--json", args.json), ("--quiet", args.quiet)) if on]
    saved = (f"epoch {epoch} is saved in {path}" if epoch > done
             else f"nothing new was saved, {path} holds epoch {epoch}")
    return f"{saved}; continue with: {shlex.join(line)}"


def _how_it_ended(report, opts):
    """Lines saying why a run ended before ``--epochs`` and which epoch's weights it keeps."""
    stop, total = report["early_stopping"], opts["epochs"]
    if stop is not None and stop["best_epoch"] is not None:
        kept = (f"the weights of epoch {stop['restored_epoch']} (validation accuracy "
                f"{stop['best']:.2%}, the best) are restored")
        if stop["stopped_epoch"] is not None:
            yield (f"early stopping at epoch {stop['stopped_epoch']} of {total}: validation "
                   f"accuracy had not improved for {stop['patience']} epochs; {kept}")
        elif stop["restored_epoch"] != report["epochs"]:
            yield f"no early stop in {total} epochs; {kept}"
    message = report["minimizer"]
    if message is not None and report["epochs"] < total:
        yield (f"{opts['optimizer']} stopped at iteration {report['epochs']} of {total}: "
               f"SciPy says {message!r}")


def _emit(text):
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def run(args) -> int:
    from chainrule import training

    par = parallel.Parallel(args)       # --shards / --mpi: checked before any data is read
    _check_outputs(args)
    resume = None
    if args.resume:
        resume = training.load_checkpoint(args.resume)
        if resume[1] is None:
            raise InputError(f"{args.resume}: a model without training state cannot be resumed")
    options = given_options(args)
    run_options.resolve(options)        # refuses a flag the run would ignore
    prepared = run_options.prepare(options, resume=resume, where=args.resume)
    net, opts = prepared.net, prepared.options
    done = 0 if prepared.state is None else prepared.state.epoch
    if opts["epochs"] < done:
        raise InputError(f"--epochs {opts['epochs']}: {args.resume} already holds {done} "
                         "epochs (--epochs is the total, including those done)")
    speaks = par.speaks and not (args.quiet or args.json)
    printer = training.ProgressPrinter(stream=sys.stdout) if speaks else None
    if printer is not None:
        _emit(f"chainrule: {prepared.source}: {len(prepared.X)} training, "
              f"{0 if prepared.validation is None else len(prepared.validation[0])} validation, "
              f"{len(prepared.X_test)} test examples; network {net.sizes} "
              f"{net.activation}->{net.output}, {net.cost} cost, {prepared.optimizer}"
              f"{par.describe()}")
    watch = _Epochs(done)
    on_disk = _stamp(args.save)
    try:
        with par.running(args.save, net):
            history = run_options.fit(prepared, par.model(net),
                                      checkpoint=par.checkpoint(args.save), progress=speaks,
                                      callbacks=(watch,) if printer is None else (printer, watch))
    except KeyboardInterrupt as stop:   # Ctrl-C or SIGTERM: say what is on disk, and how on
        if not par.speaks:
            raise
        saved = _what_is_saved(args, on_disk, done, opts["epochs"])
        print(f"chainrule: interrupted by {interrupts.signal_name(stop)} with {watch.done} of "
              f"{opts['epochs']} epochs done; {saved}", file=sys.stderr)
        return interrupts.exit_code(stop)
    if not par.speaks:
        return 0
    report = run_options.summary(prepared, history)
    ran = report["epochs_run"] > 0
    if args.plot:
        from chainrule.explanations import plots

        plots.learning_curves(
            history.to_dict(), args.plot,
            title=f"{prepared.source}: network {net.sizes}, {net.activation} -> {net.output}, "
                  f"{net.cost}",
            xlabel="iteration" if opts["optimizer"] in ("cg", "lbfgs") else "epoch")
    report.update(history=history.to_dict(), saved=args.save if ran else None,
                  plot=args.plot)
    if args.json:
        _emit(json.dumps(report))
        return 0
    if not ran and done < opts["epochs"]:      # SciPy found nothing to do at the start
        _emit(f"nothing trained: {opts['optimizer']} stopped before its first iteration: SciPy "
              f"says {report['minimizer']!r}; the scores are {args.resume}'s model's")
    elif not ran:
        _emit(f"nothing to train: {args.resume} already holds {done} epochs (--epochs "
              f"{opts['epochs']} is the total); the scores are its model's")
    else:
        for line in _how_it_ended(report, opts):
            _emit(line)
    test = report["examples"]["test"]
    _emit(f"test accuracy {report['test_accuracy']:.2%} "
          f"({int(round(report['test_accuracy'] * test))}/{test}), "
          f"test cost {report['test_cost']:.4f}"
          + (f"; model saved to {args.save}" if args.save and ran else ""))
    return 0
