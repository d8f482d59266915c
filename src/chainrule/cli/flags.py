"""The argparse types and shared flags of the ``chainrule`` subcommands.

>>> _layers("64,30,10")
[64, 30, 10]
"""

from __future__ import annotations

import argparse
import math

from chainrule.errors import quoted

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky-relu", "identity", "softmax")
COSTS = ("quadratic", "cross-entropy", "log-likelihood")
INITS = ("uniform", "scaled-normal", "normal", "xavier", "he", "zeros")
OPTIMIZERS = ("sgd", "momentum", "adam", "cg", "lbfgs")


def _choice(names):
    """An argparse type accepting one of ``names``, with the valid list in the error."""

    def parse(text):
        if text not in names:
            raise argparse.ArgumentTypeError(
                f"unknown name {quoted(text)}; choose one of: {', '.join(names)}"
            )
        return text

    return parse


def _number(kind, *, low=None, low_inclusive=True, what="a number"):
    """An argparse type for a finite int/float with an optional lower bound."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {quoted(text)}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {quoted(text)}")
        if low is not None and (value < low if low_inclusive else value <= low):
            sign = ">=" if low_inclusive else ">"
            raise argparse.ArgumentTypeError(f"expected {what} {sign} {low}, got {quoted(text)}")
        return value

    return parse


def _layers(text):
    """``64,30,10`` -> [64, 30, 10]; every size an integer >= 1."""
    sizes = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise argparse.ArgumentTypeError(
                f"layer sizes must be integers >= 1 separated by commas, got {quoted(part)} "
                f"in {quoted(text)}"
            )
        sizes.append(int(part))
    return sizes


def _floats(text):
    """``0.05,0.10`` -> [0.05, 0.1] (finite numbers only)."""
    values = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected numbers separated by commas, got {quoted(part.strip())} "
                f"in {quoted(text)}"
            ) from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected finite numbers, got {quoted(part.strip())}")
        values.append(value)
    return values


def _assignments(text):
    """``a=2,b=1`` -> {"a": 2.0, "b": 1.0}."""
    values = {}
    for part in text.split(","):
        name, sep, number = part.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise argparse.ArgumentTypeError(
                f"expected name=value pairs like a=2,b=1, got {quoted(part)}"
            )
        if name in values:
            raise argparse.ArgumentTypeError(f"{name} is given twice in {quoted(text)}")
        try:
            values[name] = float(number)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"value of {name} must be a number, got {quoted(number.strip())}"
            ) from None
        if not math.isfinite(values[name]):
            raise argparse.ArgumentTypeError(f"value of {name} must be finite, got "
                                             f"{quoted(number)}")
    return values


def _add_data_options(p, default, shown=None):
    """--data (``shown``: the default the help names, when ``default`` is None because the
    command applies it later), --data-dir and --no-download."""
    p.add_argument("--data", default=default,
                   help="digits (scikit-learn's 8x8), mnist, fashion-mnist (IDX files, "
                        "downloaded once), FILE.csv (label in the last column), FILE.npz (X, y), "
                        "FILE.mat (ex4's ex4data1.mat), Nielsen's mnist.pkl.gz "
                        f"(default: {shown or '%(default)s'})")
    p.add_argument("--data-dir", metavar="DIR",
                   help="mnist and fashion-mnist only: where their IDX files are kept or "
                        "downloaded (DIR or DIR/mnist; default: $CHAINRULE_DATA/mnist or the "
                        "platform cache)")
    p.add_argument("--no-download", action="store_true",
                   help="mnist and fashion-mnist only: never download, fail if not on disk")
