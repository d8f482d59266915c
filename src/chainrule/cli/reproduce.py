"""``chainrule reproduce NAME``: a published experiment rerun from the book's own files, one
line per epoch as the book's code printed it, then the book's figure beside ours and the time.

Names: ``nielsen-ch1``, ``nielsen-ch3-cross-entropy``, ``nielsen-ch3-100``, ``nielsen-ch3-l2``,
``nielsen-ch3-init`` (Nielsen's *Neural Networks and Deep Learning*; data: ``mnist.pkl.gz`` in
``--data-dir``, else MNIST's IDX files split the same way) and ``ex4`` (Coursera ex4; data:
``ex4data1.mat`` and ``ex4weights.mat`` in ``--data-dir``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from chainrule.errors import InputError, quoted


def _name(text):
    from chainrule.books import NAMES

    if text not in NAMES:
        raise argparse.ArgumentTypeError(f"unknown experiment {quoted(text)}; choose one of: "
                                         f"{', '.join(NAMES)}")
    return text


def _count(text):
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {quoted(text)}")
    return int(text)


def _positive(text):
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {quoted(text)}")
    return value


def add_parser(sub):
    """Register ``reproduce`` on the command line's subparsers."""
    p = sub.add_parser("reproduce", help="rerun a book's experiment and print its figure "
                       "beside ours (Nielsen ch. 1 and 3, Coursera ex4)",
                       description="Rerun a published experiment exactly as the book did: one "
                                   "line per epoch as the book's code printed it, then the "
                                   "book's figure beside the measured one, and the time.")
    p.add_argument("name", type=_name, metavar="NAME",
                   help="nielsen-ch1 | nielsen-ch3-cross-entropy | nielsen-ch3-100 | "
                        "nielsen-ch3-l2 | nielsen-ch3-init | ex4")
    p.add_argument("--data-dir", metavar="DIR",
                   help="Nielsen: the folder of mnist.pkl.gz (else MNIST's IDX files there, or "
                        "the MNIST cache); ex4: the folder of ex4data1.mat and ex4weights.mat")
    p.add_argument("--seed", type=_count, default=0,
                   help="seeds the initial weights and the shuffling (default: 0)")
    p.add_argument("--epochs", type=_positive,
                   help="stop after this many epochs (ex4: CG iterations); the books ran 30 "
                        "(ex4: 50)")
    p.add_argument("--plot", metavar="curves.png",
                   help="draw the learning curves as the book did (needs matplotlib)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON document instead of the book's lines")
    p.set_defaults(handler=run)


def run(args) -> int:
    from chainrule import books
    from chainrule.books import curves

    if args.plot:          # fail now, not after a long run
        from chainrule.explanations import plots

        plots.require_matplotlib()
        plot = Path(args.plot)
        if plot.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise InputError(f"--plot {plot}: the name must end in .png, .svg or .pdf")
        if not plot.resolve().parent.is_dir():
            raise InputError(f"--plot {plot}: directory {plot.parent} does not exist")
    stream = None if args.json else sys.stdout
    result = books.reproduce(args.name, args.data_dir, seed=args.seed, epochs=args.epochs,
                             stream=stream)
    if args.plot:
        curves.draw(result, args.plot)
        if stream is not None:
            print(f"learning curves: {args.plot}", file=stream)
    if args.json:
        print(json.dumps(result.to_dict()))
    return 0
