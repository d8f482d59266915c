"""``chainrule sweep``: ``chainrule train``'s flags, and ``--grid NAME=V1,V2,...`` to vary them.

The sweep parser takes every train flag (the same types, defaults and checks, copied from the
train parser) and each grid value is read by that flag's own type, so a sweep's run with
``lr=0.5`` is the run ``chainrule train --lr 0.5`` makes. The runs go to
:func:`chainrule.sweep`; the table (best first) or ``--json`` goes to stdout, the bar over the
runs to stderr.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys

from chainrule.cli import interrupts
from chainrule.errors import InputError, quoted

# train flags a sweep does not take (one run's files, how one run is spread) or has its own of
NOT_IN_A_SWEEP = ("help", "save", "resume", "shards", "mpi", "plot", "json", "quiet")
LISTS = ("layers", "hidden")    # values that are lists themselves: items joined by "-"


def add_parser(sub, train_parser):
    """The ``sweep`` subcommand: the train parser's flags (but --save, --resume, --shards,
    --mpi: a sweep keeps its models with --out), then the sweep's own."""
    s = sub.add_parser(
        "sweep",
        help="train one network per point of a grid of train options (Dask or processes)",
        description="Train one network per point of the product of the --grid values, each as "
                    "chainrule train would with the same flags, side by side on a Dask cluster "
                    "(a LocalCluster of --workers processes, or --scheduler ADDRESS) or a local "
                    "process pool; print one row per run, best validation accuracy first.")
    for action in train_parser._actions:
        if action.option_strings and action.dest not in NOT_IN_A_SWEEP:
            s._add_action(copy.copy(action))
    s.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2,...",
                   help="a train flag without its dashes and its values (repeat for more: the "
                        "grid is their product); list values such as hidden sizes join their "
                        "items with '-': --grid hidden=30,100,30-10")
    s.add_argument("--backend", choices=("local", "dask"), default=None,
                   help="dask (the default when Dask's distributed is installed) or local "
                        "(a process pool)")
    s.add_argument("--scheduler", metavar="ADDRESS",
                   help="a running Dask scheduler, e.g. tcp://host:8786 (default: a LocalCluster "
                        "on this machine)")
    s.add_argument("--workers", type=_positive, metavar="K",
                   help="worker processes of the LocalCluster or pool (default: the cores)")
    s.add_argument("--out", metavar="DIR",
                   help="keep each run's model and results.json here; a rerun with the same "
                        "DIR skips the runs already done")
    s.add_argument("--plot", metavar="sweep.png",
                   help="draw validation accuracy against each swept flag (needs matplotlib)")
    s.add_argument("--json", action="store_true",
                   help='print {"runs": [...]} on stdout instead of the table')
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    return s


def train_parser(parser):
    """The ``train`` subcommand's parser inside the command line's parser."""
    for action in parser._subparsers._group_actions:
        if "train" in getattr(action, "choices", {}):
            return action.choices["train"]
    raise LookupError("the command line has no train command")


def _positive(text):
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {quoted(text)}")
    return int(text)


def _flag_actions(train_parser):
    return {a.dest: a for a in train_parser._actions if a.option_strings}


def parse_grid(specs, train_parser) -> dict:
    """``["lr=0.1,0.5", "hidden=30,30-10"]`` -> {"lr": [0.1, 0.5], "hidden": [[30], [30, 10]]},
    each value read by the train flag's own parser (its type, choices and checks)."""
    from chainrule.distributed.runner import DEFAULTS

    if not specs:
        raise InputError("sweep: give at least one --grid NAME=V1,V2,... (e.g. --grid "
                         "lr=0.1,0.5)")
    actions, grid = _flag_actions(train_parser), {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        dest = name.strip().lstrip("-").replace("-", "_")
        if not sep or not values.strip():
            raise InputError(f"--grid {quoted(spec)}: expected NAME=V1,V2,... (e.g. lr=0.1,0.5)")
        if dest not in DEFAULTS or dest not in actions or dest in ("data_dir", "no_download"):
            raise InputError(f"--grid {name.strip()}: not a train flag to sweep; choose from: "
                             + ", ".join(k.replace("_", "-") for k in DEFAULTS
                                         if k in actions and k not in ("data_dir",
                                                                       "no_download")))
        if dest in grid:
            raise InputError(f"--grid {name.strip()}: given twice")
        flag = max(actions[dest].option_strings, key=len)
        parsed = []
        for value in values.split(","):
            text = value.strip().replace("-", ",") if dest in LISTS else value.strip()
            try:
                parsed.append(getattr(train_parser.parse_args([flag, text]), dest))
            except InputError as error:
                raise InputError(f"--grid {name.strip()}={value.strip()}: "
                                 f"{str(error).split(': ', 1)[-1]}") from None
        grid[dest] = parsed
    return grid


def train_options(args) -> dict:
    """The train options of a parsed sweep or train command line."""
    from chainrule.distributed.runner import DEFAULTS

    return {key: getattr(args, key) for key in DEFAULTS if hasattr(args, key)}


def run(args, train_parser) -> int:
    import chainrule as cr
    from chainrule.distributed import results

    values = parse_grid(args.grid, train_parser)
    if args.plot:                                  # refused now, not after the sweep
        from chainrule.explanations import plots

        plots.require_matplotlib()
        plots.check_path(args.plot)
    finished = []
    total = 1
    for options in values.values():
        total *= len(options)
    try:
        result = cr.sweep(values, backend=args.backend, workers=args.workers,
                          scheduler=args.scheduler, out=args.out,
                          progress=not (args.quiet or args.json), on_row=finished.append,
                          **train_options(args))
    except KeyboardInterrupt as stop:       # Ctrl-C or SIGTERM
        kept = f"; they are kept in {args.out}: the same command runs the rest" if args.out \
            else " (none kept: give --out DIR to keep runs)"
        print(f"chainrule: interrupted by {interrupts.signal_name(stop)}: {len(finished)} of "
              f"{total} runs finished{kept}", file=sys.stderr)
        return interrupts.exit_code(stop)
    if args.plot:
        result.plot(args.plot)
    failed = sum(1 for r in result.runs if r.get("error"))
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict()) + "\n")
    else:
        lines = [results.table(result.runs, result.names), ""]
        ran = (f" on {result.backend} with {result.workers} worker"
               f"{'s' if result.workers != 1 else ''}: {result.seconds:.1f} s, start-up "
               f"{result.startup_seconds:.1f} s") if result.backend else ": nothing left to run"
        lines.append(f"{len(result.runs)} runs, {failed} failed, {result.skipped} done before "
                     f"(skipped){ran}"
                     + (f"; models and results.json in {args.out}" if args.out else "")
                     + (f"; plot in {args.plot}" if args.plot else ""))
        sys.stdout.write("\n".join(lines) + "\n")
    return 1 if failed == len(result.runs) else 0
