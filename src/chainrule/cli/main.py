"""The ``chainrule`` command line: argparse subcommands that call the library.

Every error a user can cause is one line on stderr and exit code 2; a run that fails after
its input was accepted exits 1; ``--debug`` shows the traceback instead.

>>> main(["graph", "a*b", "--at", "a=2,b=3"])        # doctest: +ELLIPSIS
c = a * b at a = 2, b = 3: 6
...
  ∂c/∂a = 3
  ∂c/∂b = 2
...
0
>>> main(["trian"])                                  # one line on stderr, exit code 2
2
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
import traceback
import warnings

from chainrule.cli import interrupts
from chainrule.cli.flags import (
    ACTIVATIONS,
    COSTS,
    _add_data_options,
    _assignments,
    _choice,
    _floats,
    _layers,
    _number,
)
from chainrule.errors import QUOTE_LIMIT, InputError, RunFailed, quoted
from chainrule.fsutil import WriteFailed


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors become one-line InputErrors instead of usage dumps."""

    def error(self, message):
        hint = _did_you_mean(message)
        command = re.match(r"argument COMMAND: invalid choice: ('[^']*')", message)
        if command:  # a mistyped command: name it and the closest one, not all ten
            message = f"unknown command {command.group(1)}"
        # argparse quotes the whole value it refuses: cut a long one short
        message = re.sub(rf"'([^']{{{QUOTE_LIMIT + 1},}})'", lambda m: quoted(m.group(1)),
                         message)
        where = f"{self.prog}: " if " " in self.prog else ""   # a command's, not the top's
        raise InputError(f"{where}{message}{hint} (see {self.prog} --help)")

    def parse_args(self, args=None, namespace=None):
        """As argparse, but an unknown flag is named with the closest flag of its command."""
        namespace, extras = self.parse_known_args(args, namespace)
        if extras:
            chosen = self._chosen_command(namespace)
            known = list(chosen._option_string_actions) if chosen is not None else []
            hints = []
            for extra in extras:
                flag = extra.split("=", 1)[0]
                close = difflib.get_close_matches(flag, known, n=1) if flag.startswith("-") else []
                if close:
                    hints.append(f"{flag}: did you mean {close[0]}?")
            hint = f" ({'; '.join(hints)})" if hints else ""
            prog = chosen.prog if chosen is not None else self.prog
            where = f"{prog}: " if " " in prog else ""
            raise InputError(f"{where}unrecognized arguments: {' '.join(extras)}{hint} "
                             f"(see {prog} --help)")
        return namespace

    def _chosen_command(self, namespace):
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return action.choices.get(getattr(namespace, action.dest, None))
        return None


def _did_you_mean(message):
    """``invalid choice: 'trian' (choose from 'train', ...)`` -> `` (did you mean train?)``."""
    found = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    if not found:
        return ""
    choices = re.findall(r"'([^']*)'", found.group(2)) or found.group(2).split(", ")
    close = difflib.get_close_matches(found.group(1), choices, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


class _MergeAssignments(argparse.Action):
    """``--at a=2 --at b=1`` adds up to a=2,b=1; a name given twice is refused, not overwritten."""

    def __call__(self, parser, namespace, values, option_string=None):
        merged = dict(getattr(namespace, self.dest) or {})
        for name in values:
            if name in merged:
                raise argparse.ArgumentError(self, f"{name} is given twice")
        merged.update(values)
        setattr(namespace, self.dest, merged)


_FLAG = re.compile(r"--?[A-Za-z][\w-]*(=.*)?")


def _expressions_are_not_flags(argv):
    """``graph "-x*y"``: an argument after ``graph`` that starts with '-' but cannot be a flag
    (``-x*y``, ``-2*a``) is an expression; a leading space tells argparse so (as it does for
    ``"-x * y"``), and the expression reader ignores the space."""
    commands = [i for i, arg in enumerate(argv) if not arg.startswith("-")]
    if not commands or argv[commands[0]] != "graph":
        return argv
    start = commands[0] + 1
    return argv[:start] + [" " + arg if arg.startswith("-") and len(arg) > 1 and arg != "--"
                           and not _FLAG.fullmatch(arg) else arg for arg in argv[start:]]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="chainrule",
                     description="Backpropagation you can read, check and run fast.")
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    from chainrule.cli import sweep, train

    t = train.add_parser(sub)

    e = sub.add_parser("evaluate", help="accuracy, cost, per-class precision/recall, confusion")
    e.add_argument("model", metavar="M.npz",
                   help="a model saved by chainrule train --save, or ex4's ex4weights.mat")
    _add_data_options(e, None, shown="the data the model was trained on, else digits")
    e.add_argument("--split", choices=("train", "test", "all"), default="test",
                   help="rows to score (files, digits: a fixed 80/20 split; all: every row) "
                        "(default: %(default)s)")
    e.add_argument("--plot", metavar="confusion.png",
                   help="plot the confusion matrix (needs matplotlib)")
    e.add_argument("--plot-weights", metavar="W.png",
                   help="draw each first-layer hidden unit's weights as an image (ex4)")
    e.add_argument("--plot-errors", metavar="E.png",
                   help="draw the first 36 misclassified examples")
    e.add_argument("--json", action="store_true", help="print the report as JSON on stdout")

    p = sub.add_parser("predict", help="classes of CSV/NPY rows or of a PNG digit")
    p.add_argument("model", metavar="M.npz",
                   help="a model saved by chainrule train --save, or ex4's ex4weights.mat")
    p.add_argument("input", metavar="INPUT",
                   help="a .csv or .npy of rows (one example per row, as many columns as the "
                        "model has inputs), or a .png image of a digit")
    p.add_argument("--json", action="store_true",
                   help="print JSON on stdout: the predictions, the output activations "
                        "('outputs') and, for softmax outputs or one sigmoid unit, the class "
                        "'probabilities' (several sigmoid outputs are independent, each in "
                        "[0, 1], and are not probabilities)")

    g = sub.add_parser("gradcheck", help="Coursera ex4's gradient check on a small network "
                       "or a model")
    g.add_argument("model", metavar="M.npz", nargs="?",
                   help="check a saved model instead of a new small network")
    g.add_argument("--layers", type=_layers, default=[3, 5, 3], metavar="SIZES",
                   help="sizes of the network checked, input to output (default: 3,5,3 as ex4)")
    g.add_argument("--activation", type=_choice(ACTIVATIONS), default="sigmoid",
                   help="hidden activation: " + ", ".join(ACTIVATIONS) + " (default: %(default)s)")
    g.add_argument("--output", type=_choice(ACTIVATIONS),
                   help="output activation (default: softmax for log-likelihood, else sigmoid)")
    g.add_argument("--cost", type=_choice(COSTS), default="cross-entropy",
                   help="cost: " + ", ".join(COSTS) + " (default: %(default)s, as ex4)")
    g.add_argument("--l2", type=_number(float, low=0, what="a regularisation λ"), default=3.0,
                   help="L2 regularisation λ included in the cost checked (default: %(default)s, "
                        "as ex4)")
    g.add_argument("--examples", type=_number(int, low=1, what="an integer"), default=5,
                   help="number of random examples the cost averages over "
                        "(default: %(default)s, as ex4)")
    g.add_argument("--seed", type=_number(int, low=0, what="an integer"), default=0,
                   help="random seed of the weights and examples (default: %(default)s)")
    g.add_argument("--eps", type=_number(float, low=0, low_inclusive=False, what="a step"),
                   default=1e-4, help="finite-difference step (default: ex4's 1e-4)")
    g.add_argument("--order", type=int, choices=(2, 4), default=2,
                   help="central differences of order 2 (ex4) or 4 (five points) "
                        "(default: %(default)s)")
    g.add_argument("--tolerance", type=_number(float, low=0, low_inclusive=False,
                                               what="a tolerance"), default=1e-7,
                   help="largest relative difference accepted; exit 1 above it "
                        "(default: %(default)s)")
    g.add_argument("--json", action="store_true", help="print the check as JSON on stdout")

    x = sub.add_parser("explain", help="every number of one forward and backward pass",
                       description="Every number of one forward pass, BP1-BP4 and (with --lr) "
                                   "one gradient step on one example, as in Mazur's "
                                   "step-by-step example.")
    x.add_argument("--net", metavar="NET",
                   help="the network: a NET.json with known weights, a model M.npz as "
                        "chainrule train --save writes it, or an example shipped with "
                        "chainrule by name (mazur: Mazur's 2-2-2 network)")
    x.add_argument("--layers", type=_layers, metavar="SIZES",
                   help="instead of --net: a network of these sizes (e.g. 2,3,1) with random "
                        "weights drawn with --seed")
    x.add_argument("--seed", type=_number(int, low=0, what="an integer"), default=0,
                   help="random seed of the --layers network's weights (default: %(default)s)")
    x.add_argument("--input", type=_floats, required=True, metavar="X1,X2,...",
                   help="the example: one value per input unit")
    x.add_argument("--target", type=_floats, required=True, metavar="Y1,...|LABEL",
                   help="the desired output: one value per output unit, or a class label "
                        "0..k-1 as chainrule train takes them (one-hot encoded)")
    x.add_argument("--lr", type=_number(float, low=0, low_inclusive=False, what="a learning rate"),
                   help="learning rate η: also show one gradient step w <- w - η ∂C/∂w "
                        "(default: no step)")
    x.add_argument("--format", choices=("text", "markdown", "json", "csv"), default="text",
                   help="text tables, a Markdown worked example, JSON or CSV (one row per "
                        "number) (default: %(default)s)")

    gr = sub.add_parser("graph", help="a computational graph with local derivatives and path sums")
    gr.add_argument("expression",
                    help='e.g. "(a+b)*(b+1)": + - * / **, parentheses and abs, cos, exp, log, '
                         'relu, sigmoid, sin, sqrt, tanh')
    gr.add_argument("--at", type=_assignments, action=_MergeAssignments, default={},
                    metavar="a=2,b=1",
                    help="the value of every name in the expression; may be repeated "
                         "(--at a=2 --at b=1), each name once")
    gr.add_argument("--mode", choices=("reverse", "forward", "paths"), default="reverse",
                    help="reverse mode (backprop), forward mode (one input at a time) or the "
                         "sum over paths of products of local derivatives (default: %(default)s)")
    gr.add_argument("--wrt", metavar="NAME",
                    help="forward mode: the input to differentiate by "
                         "(default: each input in turn)")
    gr.add_argument("--format", choices=("text", "json", "dot", "svg"), default="text",
                    help="text, JSON, Graphviz DOT source, or SVG (needs Graphviz's dot "
                         "program) (default: %(default)s)")

    b = sub.add_parser("bench", help="time chainrule (and PyTorch, scikit-learn when installed)",
                       description="Time chainrule against PyTorch, scikit-learn, a NumPy loop "
                                   "and the matrix-multiply floor on the same networks and "
                                   "digits (from a source checkout: benchmarks/ is not "
                                   "installed).")
    b.add_argument("--workloads", default=None, metavar="N1,N2,...",
                   help="the workloads to time (default: all: N1, N2, N3, N2g)")
    b.add_argument("--repeats", type=_number(int, low=1, what="an integer"), default=3,
                   help="runs of each system per workload; the table shows the median "
                        "(default: %(default)s)")
    b.add_argument("--no-peers", action="store_true", help="time chainrule only")
    b.add_argument("--data-dir", metavar="DIR",
                   help="where the MNIST test set is (DIR or DIR/mnist; default: "
                        "$CHAINRULE_DATA/mnist or the platform cache, as train --data mnist); "
                        "without it: seeded random digits")
    b.add_argument("--quiet", action="store_true",
                   help="no progress lines on stderr (one per workload and run)")
    b.add_argument("--json", action="store_true", help="print the results as JSON on stdout")

    from chainrule.playground import command as playground

    playground.add_parser(sub)
    from chainrule.cli import reproduce

    reproduce.add_parser(sub)
    sweep.add_parser(sub, t)
    return parser


def _version():
    from chainrule import __version__

    return f"chainrule {__version__}"


def main(argv=None) -> int:
    """Run the command line; return the exit code (0 ok, 1 failed run, 2 bad input)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv  # accepted anywhere on the line, before or after the subcommand
    argv = [arg for arg in argv if arg != "--debug"]
    with warnings.catch_warnings(), interrupts.sigterm_interrupts():
        warnings.showwarning = _warning_line    # a warning is one line, no source path
        return _run(argv, debug)


def _warning_line(message, category, filename, lineno, file=None, line=None):
    print(f"chainrule: warning: {' '.join(str(message).split())}", file=sys.stderr)


def _run(argv, debug) -> int:
    try:
        args = build_parser().parse_args(_expressions_are_not_flags(argv))
        if args.command is None:
            build_parser().print_help()
            return 2
        if hasattr(args, "handler"):    # a command that registers its own function
            return args.handler(args)
        if args.command == "playground":
            from chainrule.playground import command as playground

            return playground.run(args)
        if args.command == "sweep":
            from chainrule.cli import sweep

            return sweep.run(args, sweep.train_parser(build_parser()))
        from chainrule.cli import commands

        return getattr(commands, args.command)(args)
    except BrokenPipeError:     # `chainrule train | head -3`: the reader left; end as a shell does
        _silence_stdout()
        return 141
    except (InputError, RunFailed, OSError, MemoryError) as error:
        if debug:               # the traceback as well, and the same exit code as without it
            traceback.print_exc()
        code = 2 if isinstance(error, (InputError, OSError)) else 1
        print(f"chainrule: error: {_one_line(error)}", file=sys.stderr)
        return code
    except KeyboardInterrupt as stop:  # Ctrl-C or SIGTERM: 130 or 143, as a shell reports them
        print(f"chainrule: interrupted by {interrupts.signal_name(stop)}", file=sys.stderr)
        return interrupts.exit_code(stop)
    except Exception as error:  # a bug in chainrule: still one line, and a way to see more
        if debug:
            traceback.print_exc()
        print(f"chainrule: internal error: {type(error).__name__}: {_one_line(error)} "
              "(run again with --debug for the traceback)", file=sys.stderr)
        return 1


def _silence_stdout():
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _one_line(error) -> str:
    if isinstance(error, OSError) and error.filename is not None \
            and not isinstance(error, WriteFailed):      # WriteFailed says "cannot write X: ..."
        text = f"{error.filename}: {error.strerror or error}"
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())
