"""Rich display in notebooks: what Jupyter shows for chainrule's objects.

Each function returns the HTML (or Markdown) a ``_repr_*_`` method hands to Jupyter:

- :func:`network_html`: the drawing of a Network's layers, sizes, activations, cost;
- :func:`history_html`: a training History as a small table and its curves;
- :func:`graph_html`: a traced graph (``cr.trace``) drawn as SVG with its local derivatives
  (no Graphviz), plus the derivative of the output for every input;
- :func:`network_check_html`: ``cr.nn.check_network``'s verdict and relative differences;
- :func:`trace_html`: a BackpropTrace's shapes and a summary, not every array.

The classes' ``_repr_html_``/``_repr_svg_`` methods call these. The explain ledger shows
itself as the CLI's Markdown (``Ledger._repr_markdown_``) and ``cr.gradcheck``'s result as
Markdown written by the engine itself, which imports nothing from here.

>>> import chainrule as cr
>>> html = network_html(cr.nn.Network([2, 3, 1], seed=0))
>>> "<svg" in html and "quadratic" in html and "13 parameters" in html
True
"""

from __future__ import annotations

from html import escape

import numpy as np

from chainrule.explanations.drawing import curves_svg, graph_svg, network_svg

STYLE = ('style="border-collapse:collapse;font-size:12px;margin:4px 0" '
         'border="1" cellpadding="3"')
MAX_ROWS = 10     # a History longer than this shows its first 3 and last 6 epochs
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _sup(l) -> str:
    """A layer index as superscript digits: W¹², as Nielsen writes W^l."""
    return str(l).translate(_SUPERSCRIPT)


def _table(headers, rows) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table {STYLE}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _number(value, percent=False) -> str:
    if value is None:
        return "–"
    return f"{value:.2%}" if percent else f"{value:.4g}"


# -- Network -----------------------------------------------------------------------------------
def network_summary(net) -> str:
    """One line: sizes, activations, cost, parameter count and dtype.

    >>> import chainrule as cr
    >>> network_summary(cr.nn.Network([2, 3, 1], activation="tanh", cost="cross-entropy"))
    'Network 2-3-1: tanh hidden, sigmoid output, cross-entropy cost, 13 parameters, float32'
    """
    count = sum(int(p.size) for p in net.params)
    hidden = f"{net.activation} hidden, " if len(net.sizes) > 2 else ""
    return (f"Network {'-'.join(map(str, net.sizes))}: {hidden}{net.output} output, "
            f"{net.cost_name} cost, {count:,} parameters, {net.dtype}")


def network_html(net) -> str:
    """The layers drawn, and a table of each weight layer's W^l, b^l and activation."""
    rows = [[f"{l}", f"W{_sup(l)} {tuple(W.shape)}", f"b{_sup(l)} {tuple(b.shape)}",
             net.output if l == len(net.weights) else net.activation]
            for l, (W, b) in enumerate(zip(net.weights, net.biases), start=1)]
    return (f"<div><b>{escape(network_summary(net))}</b><br>{network_svg(net)}"
            + _table(["layer", "weights", "biases", "activation"], rows) + "</div>")


# -- History -----------------------------------------------------------------------------------
def _shown_epochs(n):
    if n <= MAX_ROWS:
        return list(range(n))
    return [0, 1, 2, None, *range(n - 6, n)]


def history_html(history) -> str:
    """The epochs as a table (first and last ones when long) and the cost/accuracy curves."""
    n = len(history)
    if not n:
        return "<div>History: no epochs yet</div>"
    has_val = any(v is not None for v in history.val_cost)
    headers = ["epoch", "train objective", "train accuracy"]     # C_0 + λ's term; val: C_0
    headers += ["val cost", "val accuracy"] if has_val else []
    headers += ["lr", "seconds"]
    rows = []
    for i in _shown_epochs(n):
        if i is None:
            rows.append(["…"] * len(headers))
            continue
        row = [history.epoch[i], _number(history.train_cost[i]),
               _number(history.train_accuracy[i], True)]
        if has_val:
            row += [_number(history.val_cost[i]), _number(history.val_accuracy[i], True)]
        row += [_number(history.lr[i]), f"{history.time[i]:.2f}"]
        rows.append(row)
    costs = {"train_cost": history.train_cost}
    accuracies = {"train_accuracy": history.train_accuracy}
    if has_val:
        costs["val_cost"], accuracies["val_accuracy"] = history.val_cost, history.val_accuracy
    pictures = curves_svg(history.epoch, costs, "cost")
    if any(v is not None for v in history.train_accuracy + history.val_accuracy):
        pictures += curves_svg(history.epoch, accuracies, "accuracy")
    return (f"<div><b>History: {n} epoch{'s' * (n != 1)}</b><br>{pictures}"
            + _table(headers, rows) + "</div>")


# -- traced graphs -----------------------------------------------------------------------------
def graph_html(graph, mode="reverse", wrt=None) -> str:
    """The SVG drawing and, for scalar graphs, the output's derivative for every input."""
    parts = [graph_svg(graph, mode, wrt)]
    if graph.scalar and graph.inputs:
        o = graph._name(graph.output)
        gradients = graph.gradients("reverse")
        parts.append("<br>" + escape(", ".join(f"d{o}/d{x} = {g:.6g}"
                                               for x, g in gradients.items())))
    return "<div>" + "".join(parts) + "</div>"


# -- gradient checks ---------------------------------------------------------------------------
def _verdict(ok) -> str:
    colour, word = ("#26a269", "ok") if ok else ("#c01c28", "FAILED")
    return f'<b style="color:{colour}">{word}</b>'


def network_check_html(report) -> str:
    """``cr.nn.check_network``: BP1-BP4 against three independent derivatives, per array."""
    rows = [[r.param, str(tuple(r.shape)), f"{r.reverse:.2e}", f"{r.forward:.2e}",
             f"{r.numeric:.2e}", r.checked] for r in report.rows]
    return (f"<div>backprop check {_verdict(report.ok)}: relative differences "
            "‖a − b‖/‖a + b‖ (ex4)"
            + _table(["parameter", "shape", "vs reverse mode", "vs forward mode",
                      "vs central differences", "entries differenced"], rows) + "</div>")


# -- BackpropTrace -----------------------------------------------------------------------------
def trace_html(trace) -> str:
    """Per layer: the rule that made δ, the shapes of z, a, δ and the gradients' sizes."""
    L, m = len(trace.z), len(trace.a[0])
    rows = []
    for l in range(L):
        rule = trace.delta_rule[l] + (f" ({trace.bp1})" if trace.delta_rule[l] == "BP1" else "")
        rows.append([l + 1, rule, str(trace.z[l].shape), str(trace.a[l + 1].shape),
                     str(trace.delta[l].shape),
                     f"{float(np.linalg.norm(trace.grad_weights[l])):.4g}",
                     f"{float(np.linalg.norm(trace.grad_biases[l])):.4g}"])
    return (f"<div><b>BackpropTrace</b>: {m} example{'s' * (m != 1)} of {trace.a[0].shape[1]} "
            f"inputs, cost {trace.cost:.6g}"
            + _table(["layer l", "δˡ by", "zˡ", "aˡ", "δˡ", "‖∂C/∂Wˡ‖", "‖∂C/∂bˡ‖"], rows)
            + "</div>")
