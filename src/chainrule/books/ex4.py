"""Coursera's Machine Learning, programming exercise 4 (ex4, "Neural Networks Learning"): its
checks and its training run, in the order ``ex4.m`` runs them, with the figures it prints.

1. the feedforward cost of the trained ``ex4weights.mat`` on ``ex4data1.mat``, λ = 0 and 1;
2. the sigmoid gradient at z = −1, −0.5, 0, 0.5, 1;
3. ``checkNNGradients``: backprop on a 3-5-3 network with ex4's ``debugInitializeWeights``
   (sin-valued weights) against central differences, ε = 1e-4, λ = 0 and 3, and the cost of
   ex4weights.mat at λ = 3;
4. 50 iterations of conjugate gradients at λ = 1 from ex4's ±0.12 initialisation, then the
   training accuracy. ex4's fmincg is Rasmussen's conjugate gradients; chainrule runs SciPy's
   (``cr.optim.CG``), the same method with another line search, so the iterates differ.

Labels are digits 0..9 (ex4's label 10 is the digit 0, see :mod:`chainrule.data.matlab`).

>>> round(gradient_check(0.0), 12) < 1e-9
True
>>> sigmoid_gradient([0.0]).tolist()
[0.25]
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chainrule.books.experiment import Score, Scores
from chainrule.errors import InputError

NAME = "ex4"
TITLE = "ex4: the 400-25-10 network, its checks and 50 iterations of CG"
SOURCE = "Coursera, Machine Learning (Andrew Ng), programming exercise 4"
FILES = ("ex4data1.mat", "ex4weights.mat")
WHERE = ("both come with Coursera's Machine Learning course (Andrew Ng), programming exercise 4, "
         "in machine-learning-ex4/ex4/")
Z = (-1.0, -0.5, 0.0, 0.5, 1.0)
SETTINGS = {"sizes": [400, 25, 10], "activation": "sigmoid", "cost": "cross-entropy",
            "init": "uniform ±0.12", "optimizer": "CG", "iterations": 50, "l2": 1.0}


@dataclass(frozen=True)
class Check:
    """One of ex4.m's printed checks: the book's value, ours, and whether ours passes."""

    name: str
    book: float
    measured: float
    passes: bool
    quote: str

    def __post_init__(self):          # plain Python numbers, for the JSON document
        object.__setattr__(self, "measured", float(self.measured))
        object.__setattr__(self, "passes", bool(self.passes))

    def line(self) -> str:
        mark = "ok" if self.passes else "DIFFERS"
        return f"{self.name}: {self.measured:.6g} (ex4: {self.book:g}) {mark}"


def missing(folder) -> list[str]:
    folder = Path(folder)
    return [name for name in FILES if not (folder / name).is_file()]


def sigmoid_gradient(z):
    """ex4's sigmoidGradient: σ'(z) = σ(z)(1 − σ(z)), from chainrule's own sigmoid."""
    from chainrule.nn.activations import ACTIVATIONS

    sigmoid = ACTIVATIONS["sigmoid"]
    return sigmoid.derivative(sigmoid.forward(np.asarray(z, dtype=np.float64)))


def debug_weights(fan_out, fan_in):
    """ex4's debugInitializeWeights: sin(1), sin(2), ... / 10 filled in column-major order."""
    shape = (fan_out, 1 + fan_in)
    return np.sin(np.arange(1, shape[0] * shape[1] + 1)).reshape(shape, order="F") / 10


def gradient_check(lam, input_size=3, hidden_size=5, labels=3, m=5):
    """ex4's checkNNGradients: ``||numgrad − grad|| / ||numgrad + grad||`` on a small network."""
    import chainrule as cr

    thetas = [debug_weights(hidden_size, input_size), debug_weights(labels, hidden_size)]
    X = debug_weights(m, input_size - 1)
    y = np.arange(1, m + 1) % labels              # ex4's 1 + mod(1:m, K), as 0-based classes
    net = cr.nn.Network([input_size, hidden_size, labels], cost="cross-entropy",
                        dtype="float64", weights=[t[:, 1:] for t in thetas],
                        biases=[t[:, 0] for t in thetas])
    grad_w, grad_b = net.backprop(X, y, l2=lam)
    grad = np.concatenate([g.ravel() for pair in zip(grad_w, grad_b) for g in pair])
    theta, e = net.to_vector(), 1e-4
    numgrad = np.empty_like(theta)
    for i in range(len(theta)):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += e
        minus[i] -= e
        net.from_vector(plus)
        cost_plus = net.cost(X, y, l2=lam)
        net.from_vector(minus)
        numgrad[i] = (cost_plus - net.cost(X, y, l2=lam)) / (2 * e)
    net.from_vector(theta)
    return float(np.linalg.norm(numgrad - grad) / np.linalg.norm(numgrad + grad))


@dataclass
class Ex4Result:
    """The checks, the per-iteration training accuracy, the time."""

    checks: list = field(default_factory=list)
    scores: Scores = field(default_factory=lambda: Scores("CG"))
    seconds: float = 0.0
    settings: dict = field(default_factory=dict)

    def report(self) -> str:
        best, last = self.scores.best, self.scores.last
        return "\n".join([
            "",
            "the book:  training accuracy of about 95.3 % (this may vary by about 1 %)",
            f"  {SOURCE}: “{ACCURACY_QUOTE}”",
            f"chainrule: {last.percent:.2f} % after {last.epoch} iterations "
            f"(best {best.percent:.2f} % at iteration {best.epoch}), "
            f"{last.percent - 95.3:+.2f} points from the book; seed {self.settings['seed']}",
            f"time:      {self.seconds:.1f} s for {last.epoch} iterations of CG "
            f"({self.seconds / max(last.epoch, 1):.2f} s each)",
        ])

    def to_dict(self) -> dict:
        measured = self.scores.to_dict()
        measured["checks"] = [vars(c) for c in self.checks]
        return {"name": NAME,
                "book": {"figure": 95.3, "quote": ACCURACY_QUOTE, "where": SOURCE,
                         "settings": SETTINGS,
                         "checks": {c.name: c.book for c in self.checks}},
                "measured": measured, "settings": self.settings,
                "seconds": round(self.seconds, 3)}


ACCURACY_QUOTE = ("If your implementation is correct, you should see a reported training "
                  "accuracy of about 95.3% (this may vary by about 1% due to the random "
                  "initialization).")


def run_checks(X, y, net):
    """ex4.m's printed checks, in its order."""
    z_values = sigmoid_gradient(Z)
    checks = [
        Check("cost at λ = 0", 0.287629, net.cost(X, y), abs(net.cost(X, y) - 0.287629) < 5e-7,
              "(this value should be about 0.287629)"),
        Check("cost at λ = 1", 0.383770, net.cost(X, y, l2=1.0),
              abs(net.cost(X, y, l2=1.0) - 0.383770) < 5e-7,
              "(this value should be about 0.383770)"),
        Check("sigmoid gradient at 0", 0.25, float(z_values[2]), z_values[2] == 0.25,
              "When z = 0, the gradient should be exactly 0.25."),
    ]
    for lam in (0.0, 3.0):
        difference = gradient_check(lam)
        checks.append(Check(f"gradient check, λ = {lam:g}", 1e-9, difference, difference < 1e-9,
                            "If your backpropagation implementation is correct, then the "
                            "relative difference will be small (less than 1e-9)."))
    debug = net.cost(X, y, l2=3.0)
    checks.append(Check("cost at λ = 3", 0.576051, debug, abs(debug - 0.576051) < 5e-7,
                        "(for lambda = 3, this value should be about 0.576051)"))
    return checks, z_values


def reproduce_ex4(data_dir, seed=0, iterations=50, stream=None) -> Ex4Result:
    """ex4.m from its two files in ``data_dir``, its lines printed to ``stream`` (None:
    silently); InputError naming the missing files."""
    import chainrule as cr
    from chainrule.books.runner import one_blas_thread

    folder = Path(data_dir)
    absent = missing(folder)
    if absent:
        raise InputError(f"ex4 needs {' and '.join(FILES)} in {folder}; missing: "
                         f"{', '.join(absent)} ({WHERE})")

    def say(text):
        if stream is not None:
            print(text, file=stream, flush=True)

    X, y = cr.data.load_mat(folder / FILES[0])
    trained = cr.nn.load(folder / FILES[1])
    if trained.sizes[0] != X.shape[1]:
        raise InputError(f"{folder / FILES[1]}: the network takes {trained.sizes[0]} inputs but "
                         f"{FILES[0]} has {X.shape[1]} features")
    say(f"{NAME}: {TITLE} ({SOURCE})")
    say(f"data: {folder / FILES[0]} ({len(X)} digits), weights: {folder / FILES[1]}")
    checks, z_values = run_checks(X, y, trained)
    say("Sigmoid gradient evaluated at [-1 -0.5 0 0.5 1]: "
        + " ".join(f"{v:.6f}" for v in z_values))
    for check in checks:
        say(check.line())
    result = Ex4Result(checks, settings={**SETTINGS, "iterations": iterations, "seed": seed,
                                         "dtype": "float64", "blas_threads": 1,
                                         "data": str(folder / FILES[0])})
    net = cr.nn.Network([X.shape[1], 25, 10], cost="cross-entropy", init="uniform", seed=seed,
                        dtype="float64")
    say("\nTraining Neural Network...")

    def on_epoch_end(epoch, history):
        score = Score(epoch, int(round(history.train_accuracy[-1] * len(X))), len(X))
        result.scores.epochs.append(score)
        say(f"Iteration {epoch:5d} | Cost: {history.train_cost[-1]:4.6e}")

    started = time.perf_counter()
    with one_blas_thread():
        cr.train(net, X, y, optimizer=cr.optim.CG(max_iter=iterations), l2=1.0, seed=seed,
                 progress=False, callbacks=(on_epoch_end,))
    result.seconds = time.perf_counter() - started
    final = float(np.mean(net.predict(X) == y)) * 100
    say(f"\nTraining Set Accuracy: {final:f}")
    say(result.report())
    return result
