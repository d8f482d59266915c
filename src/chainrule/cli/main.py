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
import sys

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
from chainrule.errors import InputError, RunFailed


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors become one-line InputErrors instead of usage dumps."""

    def error(self, message):
        raise InputError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="chainrule",
                     description="Backpropagation you can read, check and run fast.")
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    from chainrule.cli import sweep, train

    t = train.add_parser(sub)

    e = sub.add_parser("evaluate", help="accuracy, cost, per-class precision/recall, confusion")
    e.add_argument("model", metavar="M.npz")
    _add_data_options(e, None)
    e.add_argument("--split", choices=("train", "test", "all"), default="test",
                   help="rows to score (files, digits: a fixed 80/20 split; all: every row)")
    e.add_argument("--plot", metavar="confusion.png", help="plot the confusion matrix")
    e.add_argument("--plot-weights", metavar="W.png",
                   help="draw each first-layer hidden unit's weights as an image (ex4)")
    e.add_argument("--plot-errors", metavar="E.png", help="draw the misclassified examples")
    e.add_argument("--json", action="store_true")

    p = sub.add_parser("predict", help="classes of CSV/NPY rows or of a PNG digit")
    p.add_argument("model", metavar="M.npz")
    p.add_argument("input", metavar="INPUT", help="a .csv or .npy of rows, or a .png image")
    p.add_argument("--json", action="store_true")

    g = sub.add_parser("gradcheck", help="Coursera ex4's gradient check on a small network "
                       "or a model")
    g.add_argument("model", metavar="M.npz", nargs="?", help="check a saved model instead")
    g.add_argument("--layers", type=_layers, default=[3, 5, 3], metavar="SIZES")
    g.add_argument("--activation", type=_choice(ACTIVATIONS), default="sigmoid")
    g.add_argument("--output", type=_choice(ACTIVATIONS))
    g.add_argument("--cost", type=_choice(COSTS), default="cross-entropy")
    g.add_argument("--l2", type=_number(float, low=0, what="a regularisation λ"), default=3.0)
    g.add_argument("--examples", type=_number(int, low=1, what="an integer"), default=5)
    g.add_argument("--seed", type=_number(int, low=0, what="an integer"), default=0)
    g.add_argument("--eps", type=_number(float, low=0, low_inclusive=False, what="a step"),
                   default=1e-4, help="finite-difference step (default: ex4's 1e-4)")
    g.add_argument("--order", type=int, choices=(2, 4), default=2,
                   help="central differences of order 2 (ex4) or 4 (five points)")
    g.add_argument("--tolerance", type=_number(float, low=0, low_inclusive=False,
                                               what="a tolerance"), default=1e-7,
                   help="largest relative difference accepted; exit 1 above it")
    g.add_argument("--json", action="store_true")

    x = sub.add_parser("explain", help="every number of one forward and backward pass")
    x.add_argument("--net", metavar="NET.json", help="a network with known weights")
    x.add_argument("--layers", type=_layers, default=[2, 2, 2], metavar="SIZES",
                   help="a random network of these sizes when --net is not given")
    x.add_argument("--seed", type=_number(int, low=0, what="an integer"), default=0)
    x.add_argument("--input", type=_floats, required=True, metavar="X1,X2,...")
    x.add_argument("--target", type=_floats, required=True, metavar="Y1,Y2,...")
    x.add_argument("--lr", type=_number(float, low=0, low_inclusive=False, what="a learning rate"))
    x.add_argument("--format", choices=("text", "markdown", "json", "csv"), default="text")

    gr = sub.add_parser("graph", help="a computational graph with local derivatives and path sums")
    gr.add_argument("expression", help='e.g. "(a+b)*(b+1)"')
    gr.add_argument("--at", type=_assignments, default={}, metavar="a=2,b=1",
                    help="the value of every name in the expression")
    gr.add_argument("--mode", choices=("reverse", "forward", "paths"), default="reverse")
    gr.add_argument("--wrt", metavar="NAME", help="forward mode: the input to differentiate by")
    gr.add_argument("--format", choices=("text", "json", "dot", "svg"), default="text")

    b = sub.add_parser("bench", help="time chainrule (and PyTorch, scikit-learn when installed)")
    b.add_argument("--workloads", default=None, metavar="N1,N2,...")
    b.add_argument("--repeats", type=_number(int, low=1, what="an integer"), default=3)
    b.add_argument("--no-peers", action="store_true", help="time chainrule only")
    b.add_argument("--json", action="store_true")

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
    try:
        args = build_parser().parse_args(argv)
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
    except (InputError, RunFailed, OSError, MemoryError) as error:
        if debug:
            raise
        code = 2 if isinstance(error, (InputError, OSError)) else 1
        print(f"chainrule: error: {_one_line(error)}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug in chainrule: still one line, and a way to see more
        if debug:
            raise
        print(f"chainrule: internal error: {type(error).__name__}: {_one_line(error)} "
              "(run again with --debug for the traceback)", file=sys.stderr)
        return 1


def _one_line(error) -> str:
    if isinstance(error, OSError) and error.filename is not None:
        text = f"{error.filename}: {error.strerror or error}"
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())
