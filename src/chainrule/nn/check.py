"""Gradient checking of a network: BP1-BP4 against three independent derivatives, per layer.

For every parameter array (W^1, b^1, W^2, ...) :func:`check_network` compares the gradient from
backprop with

- the engine's reverse mode (``cr.grad`` of :func:`~chainrule.nn.functional.network_cost`),
- the engine's forward mode (``cr.jacfwd``, one jvp per entry, for small networks; for larger
  ones jvp along random directions v, compared with the directional derivatives ⟨∇C, v⟩),
- central differences ``(C(θ + ε) − C(θ − ε)) / 2ε`` on the network's own NumPy cost
  (Coursera ex4's gradient checking; a seeded sample of entries for large arrays),

all in float64, scored by ex4's relative difference ``||a − b|| / ||a + b||``.

>>> import numpy as np, chainrule as cr
>>> net = cr.nn.Network([3, 5, 3], cost="cross-entropy", init="uniform", seed=0, dtype="float64")
>>> X = np.random.default_rng(0).uniform(-1, 1, (5, 3))
>>> report = check_network(net, X, [0, 1, 2, 0, 1], l2=3.0)
>>> report.ok, [row.param for row in report.rows]
(True, ['W^1', 'b^1', 'W^2', 'b^2'])
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

import chainrule as cr
from chainrule.errors import InputError, quoted
from chainrule.nn.functional import network_cost
from chainrule.nn.inputs import check_l2

FULL_FORWARD_LIMIT = 2000   # up to this many parameters, forward mode builds the whole gradient
DIRECTIONS = 8              # otherwise: this many random directions per parameter array
NUMERIC_LIMIT = 500         # central differences on at most this many entries per array


def relative_difference(a, b) -> float:
    """ex4's ``||a − b|| / ||a + b||`` (0 when both are zero).

    >>> round(relative_difference(np.array([3.0, 4.0]), np.array([3.0, 4.0 + 1e-9])), 12)
    1e-10
    """
    a, b = np.ravel(a), np.ravel(b)
    diff, total = np.linalg.norm(a - b), np.linalg.norm(a + b)
    if diff == 0:
        return 0.0
    return float(diff / total) if total else float("inf")


@dataclass
class CheckRow:
    """One parameter array: its relative differences to backprop, by method."""

    param: str
    shape: tuple
    reverse: float     # engine reverse mode
    forward: float     # engine forward mode
    numeric: float     # central differences
    checked: int       # entries checked by central differences


@dataclass
class NetworkCheck:
    """The report: ``rows`` per parameter array, ``ok`` when all are within ``tolerance``."""

    network: str
    examples: int
    l2: float
    eps: float
    order: int
    tolerance: float
    forward_mode: str
    rows: list

    @property
    def worst(self) -> float:
        return max(max(r.reverse, r.forward, r.numeric) for r in self.rows)

    @property
    def ok(self) -> bool:
        return self.worst <= self.tolerance

    def to_dict(self) -> dict:
        """JSON-ready: the settings, every row, ``worst`` and ``ok``."""
        rows = [{**asdict(r), "shape": list(r.shape)} for r in self.rows]
        return {"network": self.network, "examples": self.examples, "l2": self.l2,
                "eps": self.eps, "order": self.order, "tolerance": self.tolerance,
                "forward_mode": self.forward_mode,
                "rows": rows, "worst": self.worst, "ok": self.ok}

    def _repr_html_(self):
        """Jupyter's view: the table of relative differences and the verdict."""
        from chainrule.explanations.display import network_check_html

        return network_check_html(self)

    def __str__(self):
        lines = [f"gradient check of {self.network} on {self.examples} examples, "
                 f"l2 = {self.l2:g}, float64",
                 "relative difference ||a - b|| / ||a + b|| of each derivative to backprop "
                 "(BP1-BP4):",
                 f"{'param':<7}{'shape':<12}{'reverse mode':>14}{'forward mode':>14}"
                 f"{'central diff.':>15}  entries"]
        for r in self.rows:
            shape = "x".join(str(s) for s in r.shape)
            lines.append(f"{r.param:<7}{shape:<12}{r.reverse:>14.2e}{r.forward:>14.2e}"
                         f"{r.numeric:>15.2e}  {r.checked}")
        lines.append(f"forward mode: {self.forward_mode}; central differences of order "
                     f"{self.order} with eps = {self.eps:g}")
        verdict = "OK" if self.ok else "FAILED"
        lines.append(f"worst {self.worst:.2e} {'<=' if self.ok else '>'} tolerance "
                     f"{self.tolerance:g}: {verdict}")
        return "\n".join(lines)


def _forward_mode(f, params, backprop, rng):
    """Relative differences of forward mode to backprop, per array, and how they were made."""
    if sum(p.size for p in params) <= FULL_FORWARD_LIMIT:
        grads = [cr.jacfwd(f, argnums=i)(*params) for i in range(len(params))]
        return [relative_difference(g, b) for g, b in zip(grads, backprop)], \
            "cr.jacfwd (one jvp per parameter)"
    differences = []
    for i, (p, b) in enumerate(zip(params, backprop)):
        def f_i(p_i, i=i):
            return f(*params[:i], p_i, *params[i + 1:])
        directions = rng.standard_normal((DIRECTIONS, *p.shape))
        jvps = [float(cr.jvp(f_i, (p,), (v,))[1]) for v in directions]
        dots = [float(np.vdot(b, v)) for v in directions]
        differences.append(relative_difference(np.array(jvps), np.array(dots)))
    return differences, f"cr.jvp along {DIRECTIONS} random directions per array"


def _central_differences(net, X, Y, l2, n, param, b, eps, order, rng):
    """Relative difference of central differences to backprop on (a sample of) the entries.

    order 2: (C(θ+ε) − C(θ−ε)) / 2ε, error O(ε²) (Coursera ex4's gradient checking);
    order 4: (8[C(θ+ε) − C(θ−ε)] − [C(θ+2ε) − C(θ−2ε)]) / 12ε, error O(ε⁴).
    """

    def cost_at(flat, index, value):
        flat[index] = value
        return net.cost_function.fn(net._forward(X), Y) + net.penalty(l2, n)

    flat = param.reshape(-1)  # a view: perturbs the live parameter
    picked = (np.arange(flat.size) if flat.size <= NUMERIC_LIMIT
              else np.sort(rng.choice(flat.size, NUMERIC_LIMIT, replace=False)))
    numeric = np.empty(len(picked))
    for k, index in enumerate(picked):
        old = flat[index]
        step = cost_at(flat, index, old + eps) - cost_at(flat, index, old - eps)
        if order == 2:
            numeric[k] = step / (2 * eps)
        else:
            wide = cost_at(flat, index, old + 2 * eps) - cost_at(flat, index, old - 2 * eps)
            numeric[k] = (8 * step - wide) / (12 * eps)
        flat[index] = old
    return relative_difference(numeric, b.reshape(-1)[picked]), len(picked)


def check_network(net, X, y, l2=0.0, eps=1e-6, tolerance=1e-7, order=2,
                  seed=0) -> NetworkCheck:
    """Compare backprop's gradient with reverse mode, forward mode and central differences.

    The check runs on a float64 copy of ``net`` (the network itself is left unchanged);
    ``y`` are labels or targets, λ = ``l2`` with n = len(X). ``order=4`` uses the five-point
    stencil (pair it with eps ≈ 1e-3 for differences near 1e-12). ``seed`` picks the random
    directions and sampled entries.
    """
    if order not in (2, 4):
        raise InputError(f"order: expected 2 or 4 (central differences), got {quoted(order)}")
    if not (isinstance(eps, int | float) and 0 < eps < 1):
        raise InputError(f"eps: expected a small positive step such as 1e-6, got {quoted(eps)}")
    net64 = net.astype("float64")
    X, Y = net64._check_batch(X, y)
    n = check_l2(l2, None, len(X))
    rng = np.random.default_rng(seed)
    backprop = net64.gradients(X, Y, l2, n)
    params = [p.copy() for p in net64.params]
    config = net64.config()

    def f(*ps):
        return network_cost(ps, X, Y, config, l2, n)

    reverse = cr.grad(f, argnums=tuple(range(len(params))))(*params)
    forward, forward_mode = _forward_mode(f, params, backprop, rng)
    rows = []
    for i, (p, b) in enumerate(zip(net64.params, backprop)):
        numeric, checked = _central_differences(net64, X, Y, l2, n, p, b, eps, order, rng)
        name = f"{'W' if i % 2 == 0 else 'b'}^{i // 2 + 1}"
        rows.append(CheckRow(param=name, shape=tuple(p.shape),
                             reverse=relative_difference(reverse[i], b), forward=forward[i],
                             numeric=numeric, checked=checked))
    description = (f"{list(net.sizes)} {net.activation}->{net.output}, {net.cost_name} cost")
    return NetworkCheck(network=description, examples=len(X), l2=float(l2), eps=eps, order=order,
                        tolerance=tolerance, forward_mode=forward_mode, rows=rows)
