"""The backprop ledger: every number of one forward and backward pass, ready to check by hand.

:func:`explain` runs ``net.backprop_trace`` on one example and returns a dict of nested lists
(the JSON schema of ``chainrule explain --format json``; Jupyter shows it as Markdown);
:func:`render` writes it as aligned text, a Markdown worked example with the numbers
substituted into each equation (the style of Mazur's step-by-step example), JSON, or CSV (one
row per number). Indices in text, Markdown and CSV are 1-based like Nielsen's w_jk; the JSON
arrays are plain lists.

Equations (Nielsen's notation): z^l = W^l a^(l-1) + b^l, a^l = σ(z^l);
BP1 δ^L = ∇_a C ⊙ σ'(z^L); BP2 δ^l = ((W^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l); BP3 ∂C/∂b^l_j = δ^l_j;
BP4 ∂C/∂w^l_jk = a^(l-1)_k δ^l_j; one gradient step w ← w − η ∂C/∂w.

>>> net = load_net_json(MAZUR_EXAMPLE)          # Matt Mazur's worked example
>>> result = explain(net, [0.05, 0.10], [0.01, 0.99], lr=0.5)
>>> round(result["cost"], 9), round(result["layers"][1]["new_weights"][0][0], 8)
(0.298371109, 0.35891648)
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np

from chainrule.errors import InputError, RunFailed, quoted
from chainrule.reading import read_json

FORMATS = ("text", "markdown", "json", "csv")
MAX_NET_BYTES = 10_000_000
_NET_KEYS = ("layers", "activation", "output", "cost", "weights", "biases")

# Matt Mazur, "A Step by Step Backpropagation Example" (2015): w1..w8, b1, b2 as a NET.json
MAZUR_EXAMPLE = {"layers": [2, 2, 2], "activation": "sigmoid", "cost": "quadratic",
                 "weights": [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
                 "biases": [[0.35, 0.35], [0.60, 0.60]]}


# -- building the ledger ---------------------------------------------------------------------
def _vector(values, width, what):
    try:
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be numbers, got {quoted(values)}") from None
    if v.ndim != 1 or v.size != width:
        raise InputError(f"{what} has {v.size} value(s) but the network's "
                         f"{'input' if what == 'input' else 'output'} layer has {width} units")
    bad = np.flatnonzero(~np.isfinite(v))
    if bad.size:
        raise InputError(f"{what}: value {bad[0] + 1} is {v[bad[0]]}, expected a finite number")
    return v


class Ledger(dict):
    """The dict :func:`explain` returns; a notebook shows it as the Markdown worked example."""

    def _repr_markdown_(self):
        return to_markdown(self)


def explain(net, x, y, lr=None) -> Ledger:
    """Forward pass, BP1-BP4 and (with ``lr``) one gradient step on one example, as a dict
    (a :class:`Ledger`, which Jupyter displays as the Markdown worked example).

    Keys: ``input``, ``target``, ``cost``, ``network`` (sizes, activation, output, cost, lr,
    bp1) and ``layers``: one dict per weight layer with ``weights``, ``biases``, ``z``, ``a``,
    ``delta``, ``delta_rule`` ("BP1"/"BP2"), ``grad_weights``, ``grad_biases`` and, with
    ``lr``, ``new_weights``, ``new_biases``.

    >>> import chainrule as cr
    >>> net = cr.nn.Network([1, 1], weights=[[[2.0]]], biases=[[0.0]], dtype="float64")
    >>> explain(net, [0.0], [1.0])["layers"][0]["delta"]      # (a − y) σ'(z) = −0.5 · 0.25
    [-0.125]
    """
    x = _vector(x, net.sizes[0], "input")
    y = _vector(y, net.sizes[-1], "target")
    if lr is not None and not (isinstance(lr, int | float) and math.isfinite(lr) and lr > 0):
        raise InputError(f"lr must be a finite number > 0, got {quoted(lr)}")
    trace = net.backprop_trace(x[None, :], y[None, :])
    if not math.isfinite(trace.cost):
        raise RunFailed(f"the cost is {trace.cost} for this input: the forward pass overflowed")
    layers = []
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        layer = {"weights": W.tolist(), "biases": b.tolist(), "z": trace.z[l][0].tolist(),
                 "a": trace.a[l + 1][0].tolist(), "delta": trace.delta[l][0].tolist(),
                 "delta_rule": trace.delta_rule[l],
                 "grad_weights": trace.grad_weights[l].tolist(),
                 "grad_biases": trace.grad_biases[l].tolist()}
        if lr is not None:
            layer["new_weights"] = (W - lr * trace.grad_weights[l]).tolist()
            layer["new_biases"] = (b - lr * trace.grad_biases[l]).tolist()
        layers.append(layer)
    network = {"sizes": list(net.sizes), "activation": str(net.activation),
               "output": str(net.output), "cost": str(net.cost), "lr": lr,
               "bp1": getattr(trace, "bp1", "")}
    return Ledger(input=x.tolist(), target=y.tolist(), cost=float(trace.cost),
                  network=network, layers=layers)


# -- networks from JSON or from a seed -------------------------------------------------------------
def _numbers(value, shape, where):
    """Check that ``value`` is a nested list of finite numbers of ``shape``; return an array."""
    if len(shape) == 0:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"{where}: expected a number, got "
                             f"{quoted(value, render=json.dumps)}")
        if not math.isfinite(value):
            raise InputError(f"{where}: expected a finite number, got {value}")
        return value
    if not isinstance(value, list) or len(value) != shape[0]:
        got = (f"{len(value)} entries" if isinstance(value, list)
               else quoted(value, render=json.dumps))
        raise InputError(f"{where}: expected a list of {shape[0]} entries, got {got}")
    return [_numbers(v, shape[1:], f"{where}[{i}]") for i, v in enumerate(value)]


def load_net_json(source):
    """A float64 Network from a NET.json path (or an already-parsed dict).

    Format: ``{"layers": [2, 2, 2], "activation": "sigmoid", "output": "sigmoid",
    "cost": "quadratic", "weights": [W^1 rows, ...], "biases": [b^1, ...]}``; ``activation``
    (default sigmoid), ``output`` and ``cost`` (default quadratic) are optional.

    >>> list(load_net_json({"layers": [2, 1], "weights": [[[1, 2]]], "biases": [[0]]}).sizes)
    [2, 1]
    """
    from chainrule import nn

    where = "NET.json"
    if isinstance(source, dict):
        spec = source
    else:
        where = str(source)
        spec = read_json(source, MAX_NET_BYTES)
    if not isinstance(spec, dict):
        raise InputError(f"{where}: expected a JSON object with keys {', '.join(_NET_KEYS)}")
    unknown = sorted(set(spec) - set(_NET_KEYS))
    if unknown:
        raise InputError(f"{where}: unknown key {quoted(unknown[0])}; keys: {', '.join(_NET_KEYS)}")
    for key in ("layers", "weights", "biases"):
        if key not in spec:
            raise InputError(f"{where}: missing key {quoted(key)}")
    sizes = spec["layers"]
    if (not isinstance(sizes, list) or len(sizes) < 2
            or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes)):
        raise InputError(f"{where}: 'layers' must be a list of at least 2 integers >= 1, "
                         f"got {quoted(sizes, render=json.dumps)}")
    names = {}
    for key, table, default in (("activation", nn.ACTIVATIONS, "sigmoid"),
                                ("output", nn.ACTIVATIONS, None), ("cost", nn.COSTS, "quadratic")):
        names[key] = spec.get(key, default)
        if names[key] is not None and names[key] not in table:
            raise InputError(f"{where}: unknown {key} {quoted(names[key])}; choose one of "
                             f"{', '.join(table)}")
    n_layers = len(sizes) - 1
    for key in ("weights", "biases"):
        if not isinstance(spec[key], list) or len(spec[key]) != n_layers:
            raise InputError(f"{where}: '{key}' must be a list with one entry per weight layer "
                             f"({n_layers} for layers {sizes})")
    weights, biases = spec["weights"], spec["biases"]
    weights = [np.array(_numbers(W, (sizes[l + 1], sizes[l]), f"{where}: weights[{l}]"),
                        dtype=np.float64) for l, W in enumerate(weights)]
    biases = [np.array(_numbers(b, (sizes[l + 1],), f"{where}: biases[{l}]"), dtype=np.float64)
              for l, b in enumerate(biases)]
    return nn.Network(sizes, activation=names["activation"], output=names["output"],
                      cost=names["cost"], dtype="float64", weights=weights, biases=biases)


def random_net(layers, seed=0, activation="sigmoid", cost="quadratic"):
    """A small float64 Network with seeded random weights (``chainrule explain --layers``).

    >>> list(random_net([2, 3, 1], seed=0).sizes)
    [2, 3, 1]
    """
    from chainrule import nn

    return nn.Network(layers, activation=activation, cost=cost, init="scaled-normal", seed=seed,
                      dtype="float64")


# -- renderers ------------------------------------------------------------------------------------
def render(result: dict, fmt: str = "text") -> str:
    """``result`` of :func:`explain` as ``text``, ``markdown``, ``json`` or ``csv``.

    >>> net = load_net_json(MAZUR_EXAMPLE)
    >>> print(render(explain(net, [0.05, 0.1], [0.01, 0.99]), "csv").splitlines()[1])
    ,input,1,0.05
    """
    renderers = {"text": to_text, "markdown": to_markdown, "json": to_json, "csv": to_csv}
    if fmt not in renderers:
        raise InputError(f"unknown format {quoted(fmt)}; choose one of {', '.join(FORMATS)}")
    return renderers[fmt](result)


def _n(value) -> str:
    """A number to 9 significant digits (the precision of the published worked examples)."""
    return f"{value:.9g}"


def _p(value) -> str:
    """A number as a factor in a product: negatives in parentheses."""
    return f"({_n(value)})" if value < 0 else _n(value)


def to_json(result: dict) -> str:
    """The ledger as JSON (the schema of :func:`explain`).

    >>> ledger = explain(load_net_json(MAZUR_EXAMPLE), [0.05, 0.1], [0.01, 0.99])
    >>> json.loads(to_json(ledger))["layers"][0]["z"]
    [0.3775, 0.39249999999999996]
    """
    try:
        return json.dumps(result, indent=1, allow_nan=False)
    except ValueError:
        raise RunFailed("the ledger holds NaN or infinite values; JSON cannot carry them") from None


def to_csv(result: dict) -> str:
    """One row per number: ``layer,quantity,index,value`` (indices 1-based, "j,k" for W).

    >>> ledger = explain(load_net_json(MAZUR_EXAMPLE), [0.05, 0.1], [0.01, 0.99])
    >>> to_csv(ledger).splitlines()[6]
    '1,weights,"1,1",0.15'
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["layer", "quantity", "index", "value"])
    for key in ("input", "target"):
        writer.writerows(["", key, i + 1, repr(v)] for i, v in enumerate(result[key]))
    writer.writerow(["", "cost", "", repr(result["cost"])])
    for l, layer in enumerate(result["layers"], start=1):
        for key, values in layer.items():
            if key == "delta_rule":
                writer.writerow([l, key, "", values])
            elif values and isinstance(values[0], list):
                writer.writerows([l, key, f"{j + 1},{k + 1}", repr(v)]
                                 for j, row in enumerate(values) for k, v in enumerate(row))
            else:
                writer.writerows([l, key, j + 1, repr(v)] for j, v in enumerate(values))
    return buffer.getvalue()


def _table(headers, rows, indent="  ") -> list:
    """Rows of cells as aligned lines: text left-aligned in the first column, numbers right."""
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows)]
    lines = []
    for row in [headers, *rows]:
        cells = [str(c).ljust(w) if i == 0 else str(c).rjust(w)
                 for i, (c, w) in enumerate(zip(row, widths))]
        lines.append(indent + "  ".join(cells).rstrip())
    return lines


_COST_FORMULAS = {"quadratic": "C = ½ Σ_j (y_j − a^L_j)²",
                  "cross-entropy": "C = −Σ_j [y_j ln a^L_j + (1 − y_j) ln(1 − a^L_j)]",
                  "log-likelihood": "C = −Σ_j y_j ln a^L_j"}


def to_text(result: dict) -> str:
    """The ledger aligned for a terminal, layer by layer: forward, cost, backward, step.

    >>> ledger = explain(load_net_json(MAZUR_EXAMPLE), [0.05, 0.1], [0.01, 0.99])
    >>> print(to_text(ledger).splitlines()[7])
      1  0.15   0.2  0.35  0.3775  0.593269992
    """
    net, layers = result["network"], result["layers"]
    L = len(layers)
    lines = [f"network {'-'.join(map(str, net['sizes']))}: {net['activation']} hidden, "
             f"{net['output']} output, {net['cost']} cost",
             f"input  x = a^0 = [{', '.join(map(_n, result['input']))}]",
             f"target y = [{', '.join(map(_n, result['target']))}]", "",
             "forward pass: z^l = W^l a^(l-1) + b^l,  a^l = σ(z^l)"]
    for l, layer in enumerate(layers, start=1):
        act = net["output"] if l == L else net["activation"]
        k = len(layer["weights"][0])
        rows = [[j, *map(_n, w), _n(b), _n(z), _n(a)] for j, (w, b, z, a) in enumerate(
            zip(layer["weights"], layer["biases"], layer["z"], layer["a"]), start=1)]
        lines += [f"layer {l} ({act})"] + _table(
            ["j", *(f"w_j{i}" for i in range(1, k + 1)), "b_j", "z_j", "a_j"], rows)
    lines += ["", f"cost: {_COST_FORMULAS.get(net['cost'], 'C')} = {_n(result['cost'])}", "",
              "backward pass: δ by BP1 (output layer) and BP2 (hidden layers); "
              "∂C/∂b_j = δ_j (BP3), ∂C/∂w_jk = a^(l-1)_k δ_j (BP4)"]
    for l in range(L, 0, -1):
        layer = layers[l - 1]
        if layer["delta_rule"] == "BP1":
            rule = (f"δ^{l} = a^{l} - y" if net.get("bp1") == "a - y"
                    else f"δ^{l} = ∇_a C ⊙ σ'(z^{l})")
        else:
            rule = f"δ^{l} = ((W^{l + 1})ᵀ δ^{l + 1}) ⊙ σ'(z^{l})"
        k = len(layer["grad_weights"][0])
        rows = [[j, _n(d), _n(gb), *map(_n, gw)] for j, (d, gb, gw) in enumerate(
            zip(layer["delta"], layer["grad_biases"], layer["grad_weights"]), start=1)]
        lines += [f"layer {l}: {layer['delta_rule']}  {rule}"] + _table(
            ["j", "δ_j", "∂C/∂b_j", *(f"∂C/∂w_j{i}" for i in range(1, k + 1))], rows)
    if net.get("lr") is not None and "new_weights" in layers[0]:
        lines += ["", f"gradient step (η = {_n(net['lr'])}): w ← w − η ∂C/∂w, "
                      "b ← b − η ∂C/∂b"]
        for l, layer in enumerate(layers, start=1):
            k = len(layer["new_weights"][0])
            rows = [[j, *map(_n, w), _n(b)] for j, (w, b) in
                    enumerate(zip(layer["new_weights"], layer["new_biases"]), start=1)]
            lines += [f"layer {l}"] + _table(
                ["j", *(f"new w_j{i}" for i in range(1, k + 1)), "new b_j"], rows)
    return "\n".join(lines) + "\n"


def _sigma_prime(name, a):
    """σ'(z) for an elementwise activation ``name`` (None for softmax: not elementwise)."""
    from chainrule import nn

    activation = nn.ACTIVATIONS[name]
    if not activation.elementwise:
        return None
    return float(activation.derivative(np.array([a], dtype=np.float64))[0])


def _cost_markdown(net, result, a_out):
    y, C = result["target"], _n(result["cost"])
    if net["cost"] == "quadratic":
        terms = " + ".join(f"({_n(t)} - {_n(a)})^2" for t, a in zip(y, a_out))
        return f"$$C = \\tfrac12 \\sum_j (y_j - a^L_j)^2 = \\tfrac12 \\left[{terms}\\right] = {C}$$"
    if net["cost"] == "cross-entropy":
        terms = " + ".join(f"{_n(t)} \\ln {_n(a)} + {_p(1 - t)} \\ln {_p(1 - a)}"
                           for t, a in zip(y, a_out))
        return (f"$$C = -\\sum_j [y_j \\ln a^L_j + (1 - y_j) \\ln(1 - a^L_j)] "
                f"= -\\left[{terms}\\right] = {C}$$")
    return f"$$C = -\\sum_j y_j \\ln a^L_j = {C}$$"


def to_markdown(result: dict) -> str:
    """A worked example in Markdown: each equation with the numbers substituted.

    >>> ledger = explain(load_net_json(MAZUR_EXAMPLE), [0.05, 0.1], [0.01, 0.99])
    >>> z11 = [line for line in to_markdown(ledger).splitlines() if "= 0.3775$$" in line][0]
    >>> print(z11.split(" = ", 2)[2])
    0.15 \\cdot 0.05 + 0.2 \\cdot 0.1 + 0.35 = 0.3775$$
    """
    net, layers, x = result["network"], result["layers"], result["input"]
    L = len(layers)
    out = ["# One step of backpropagation, number by number\n",
           f"Network {'-'.join(map(str, net['sizes']))} ({net['activation']} hidden units, "
           f"{net['output']} outputs, {net['cost']} cost). Input "
           f"$x = a^0 = ({', '.join(map(_n, x))})$, target "
           f"$y = ({', '.join(map(_n, result['target']))})$.\n", "## Forward pass\n"]
    previous = x
    for l, layer in enumerate(layers, start=1):
        act = net["output"] if l == L else net["activation"]
        out.append(f"### Layer {l} ({act})\n")
        for j, (w, b, z, a) in enumerate(zip(layer["weights"], layer["biases"], layer["z"],
                                             layer["a"]), start=1):
            symbols = " + ".join(f"w^{l}_{{{j}{k}}} a^{l - 1}_{k}" for k in range(1, len(w) + 1))
            numbers = " + ".join(f"{_p(wk)} \\cdot {_p(ak)}" for wk, ak in zip(w, previous))
            out.append(f"$$z^{l}_{j} = {symbols} + b^{l}_{j} = {numbers} + {_p(b)} = {_n(z)}$$")
            f = "\\sigma" if act == "sigmoid" else f"\\operatorname{{{act}}}"
            out.append(f"$$a^{l}_{j} = \\sigma(z^{l}_{j}) = {f}({_n(z)}) = {_n(a)}$$\n")
        previous = layer["a"]
    out += ["## Cost\n", _cost_markdown(net, result, layers[-1]["a"]) + "\n", "## Backward pass\n"]
    for l in range(L, 0, -1):
        layer = layers[l - 1]
        act = net["output"] if l == L else net["activation"]
        below = x if l == 1 else layers[l - 2]["a"]
        out.append(f"### Layer {l}: δ by {layer['delta_rule']}, gradients by BP3 and BP4\n")
        for j, (d, a) in enumerate(zip(layer["delta"], layer["a"]), start=1):
            s = _sigma_prime(act, a)
            if layer["delta_rule"] == "BP1" and net.get("bp1") == "a - y":
                t = result["target"][j - 1]
                out.append(f"$$\\delta^{l}_{j} = a^{l}_{j} - y_{j} = {_n(a)} - {_p(t)} = {_n(d)}$$")
            elif layer["delta_rule"] == "BP1" and s is not None:
                g = d / s if s else 0.0
                out.append(f"$$\\delta^{l}_{j} = \\frac{{\\partial C}}{{\\partial a^{l}_{j}}} "
                           f"\\sigma'(z^{l}_{j}) = {_p(g)} \\cdot {_p(s)} = {_n(d)}$$")
            elif layer["delta_rule"] == "BP2" and s is not None:
                upper = layers[l]
                terms = " + ".join(f"{_p(row[j - 1])} \\cdot {_p(dk)}" for row, dk in
                                   zip(upper["weights"], upper["delta"]))
                out.append(f"$$\\delta^{l}_{j} = \\Big(\\sum_k w^{l + 1}_{{k{j}}} "
                           f"\\delta^{l + 1}_k\\Big) \\sigma'(z^{l}_{j}) = ({terms}) \\cdot "
                           f"{_p(s)} = {_n(d)}$$")
            else:
                out.append(f"$$\\delta^{l}_{j} = {_n(d)}$$")
            out.append(f"$$\\frac{{\\partial C}}{{\\partial b^{l}_{j}}} = \\delta^{l}_{j} "
                       f"= {_n(layer['grad_biases'][j - 1])}$$")
            for k, (g, ak) in enumerate(zip(layer["grad_weights"][j - 1], below), start=1):
                out.append(f"$$\\frac{{\\partial C}}{{\\partial w^{l}_{{{j}{k}}}}} = "
                           f"a^{l - 1}_{k} \\delta^{l}_{j} = {_p(ak)} \\cdot {_p(d)} = {_n(g)}$$")
            out.append("")
    if net.get("lr") is not None and "new_weights" in layers[0]:
        eta = _n(net["lr"])
        out.append(f"## Gradient step (η = {eta})\n")
        for l, layer in enumerate(layers, start=1):
            for j, (w, nw, b, nb, gw, gb) in enumerate(zip(
                    layer["weights"], layer["new_weights"], layer["biases"],
                    layer["new_biases"], layer["grad_weights"], layer["grad_biases"]), start=1):
                for k, (wk, nwk, g) in enumerate(zip(w, nw, gw), start=1):
                    out.append(f"$$w^{l}_{{{j}{k}}} \\leftarrow {_n(wk)} - {eta} \\cdot {_p(g)} "
                               f"= {_n(nwk)}$$")
                out.append(f"$$b^{l}_{j} \\leftarrow {_n(b)} - {eta} \\cdot {_p(gb)} "
                           f"= {_n(nb)}$$\n")
    return "\n".join(out)
