"""A playground session's settings: the defaults (TensorFlow Playground's where it has one),
the bounds, and the check of a JSON config, every problem an InputError naming the key.

>>> config = parse_config({"dataset": "xor", "layers": [3]})
>>> config["layers"], config["activation"], config["lr"], config["output"], config["cost"]
([3], 'tanh', 0.1, 'sigmoid', 'cross-entropy')
>>> parse_config({"lr": -1})
Traceback (most recent call last):
...
chainrule.errors.InputError: lr: expected a number > 0 and <= 10, got -1
"""

from __future__ import annotations

import math

from chainrule.errors import InputError, quoted
from chainrule.playground.datasets import DATASETS, FEATURES, REGRESSION

HIDDEN_ACTIVATIONS = ("tanh", "sigmoid", "relu", "leaky-relu", "identity")
OUTPUTS = ("sigmoid", "softmax", "tanh", "identity")
COSTS = ("cross-entropy", "log-likelihood", "quadratic")
OPTIMIZERS = ("sgd", "momentum", "adam")
MOMENTUM = 0.9                 # the optimiser "momentum" is SGD(momentum=0.9), as the CLI's

MAX_LAYERS = 16                # hidden layers
MAX_NEURONS = 256              # units in one hidden layer
MAX_POINTS = 5_000             # examples drawn for a 2-D set
MAX_PARAMS = 200_000           # weights and biases of one network
MAX_BATCH = 10_000

DEFAULTS = {
    "dataset": "circle", "noise": 0.0, "train_fraction": 0.5, "points": None,
    "features": ["x1", "x2"], "layers": [4, 2], "activation": "tanh", "output": None,
    "cost": None, "optimizer": "sgd", "lr": 0.1, "l2": 0.0, "batch_size": 10, "seed": 0,
    "csv": None,
}


def _number(config, key, low, high, low_open=False, integer=False):
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, int if integer else int | float) \
            or not math.isfinite(value) or value > high or value < low \
            or (low_open and value == low):
        kind = "an integer" if integer else "a number"
        bound = f"> {low:g}" if low_open else f">= {low:g}"
        raise InputError(f"{key}: expected {kind} {bound} and <= {high:g}, got {quoted(value)}")
    return value


def _name(config, key, names):
    value = config[key]
    if value not in names:
        raise InputError(f"{key}: unknown name {quoted(value)}; choose one of {', '.join(names)}")
    return value


def _layers(value):
    if not isinstance(value, list) or len(value) > MAX_LAYERS:
        raise InputError(f"layers: expected a list of at most {MAX_LAYERS} hidden layer sizes, "
                         f"got {str(value)[:60]}")
    for size in value:
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_NEURONS:
            raise InputError(f"layers: every hidden layer has 1 to {MAX_NEURONS} units, got "
                             f"{quoted(size)}")
    return list(value)


def _features(value):
    if not isinstance(value, list) or not value:
        raise InputError(f"features: expected a non-empty list of names from "
                         f"{', '.join(FEATURES)}, got {str(value)[:60]}")
    unknown = [f for f in value if f not in FEATURES]
    if unknown:
        raise InputError(f"features: unknown name {quoted(unknown[0])}; choose from "
                         f"{', '.join(FEATURES)}")
    if len(set(value)) != len(value):
        raise InputError("features: a feature is listed twice")
    return [f for f in FEATURES if f in value]      # the canonical order


def _output_and_cost(config, classes):
    """Fill in the output activation and cost the data set calls for, then check the pair:
    quadratic and tanh for regression, log-likelihood and softmax for more than two classes,
    cross-entropy and one sigmoid unit for two."""
    regression = config["dataset"] in REGRESSION
    many = classes > 2 and config["output"] in (None, "softmax")
    cost = config["cost"] or ("quadratic" if regression else
                              "log-likelihood" if config["output"] == "softmax" or many else
                              "cross-entropy")
    cost = config["cost"] = _name({"cost": cost}, "cost", COSTS)
    output = config["output"] or ("tanh" if regression else
                                  "softmax" if cost == "log-likelihood" else "sigmoid")
    config["output"] = _name({"output": output}, "output", OUTPUTS)
    if regression and cost != "quadratic":
        raise InputError(f"cost: {config['dataset']} is a regression set (targets in [-1, 1]); "
                         "it needs the quadratic cost")
    if regression and output not in ("tanh", "identity"):
        raise InputError(f"output: the targets of {config['dataset']} lie in [-1, 1]; choose "
                         "output tanh or identity")


def parse_config(raw, classes=None) -> dict:
    """The full, checked config: ``raw`` (a dict from JSON) with the defaults filled in.

    ``classes``: of the data set, when known (an uploaded CSV's); the digits have 10.
    """
    if not isinstance(raw, dict):
        raise InputError("config: expected a JSON object")
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise InputError(f"config: unknown key {quoted(unknown[0])}; the keys are "
                         f"{', '.join(DEFAULTS)}")
    config = {**DEFAULTS, **{k: v for k, v in raw.items() if v is not None}}
    _name(config, "dataset", DATASETS)
    _number(config, "noise", 0.0, 0.5)
    _number(config, "train_fraction", 0.1, 0.9)
    if config["points"] is not None:
        _number(config, "points", 10, MAX_POINTS, integer=True)
    config["features"] = _features(config["features"])
    config["layers"] = _layers(config["layers"])
    _name(config, "activation", HIDDEN_ACTIVATIONS)
    _name(config, "optimizer", OPTIMIZERS)
    _number(config, "lr", 0.0, 10.0, low_open=True)
    _number(config, "l2", 0.0, 100.0)
    _number(config, "batch_size", 1, MAX_BATCH, integer=True)
    _number(config, "seed", 0, 2**32 - 1, integer=True)
    if config["csv"] is not None and not isinstance(config["csv"], str):
        raise InputError("csv: expected the text of a CSV file")
    if config["dataset"] != "csv":
        config["csv"] = None
    if classes is None:
        classes = 10 if config["dataset"] == "digits" else 2
    _output_and_cost(config, classes)
    return config
