"""Drawing a :class:`~chainrule.explanations.diagram.Graph`: aligned text, Graphviz DOT and SVG.

The text form writes each mode's computation step by step, as colah's "Calculus on
Computational Graphs" does; DOT puts the inputs at the bottom as its figures do; SVG is DOT
drawn by Graphviz when installed.

>>> from chainrule.explanations.diagram import trace
>>> print(to_text(trace(lambda a: a * 2, 3.0)).splitlines()[0])
nodes (forward pass, inputs first):
"""

from __future__ import annotations

import shutil
import subprocess

from chainrule.errors import RunFailed


def _fmt(x) -> str:
    return f"{float(x):.6g}"


def _show(value) -> str:
    """A node's value: the number for a scalar, the shape for a tensor."""
    return _fmt(value) if value.size == 1 else f"shape {value.shape}"


def _q(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_text(graph, mode="reverse", wrt=None) -> str:
    """The graph and the chosen mode's computation, one line per step."""
    chosen = graph._check(mode, wrt)
    o = graph._name(graph.output)
    lines = []
    if graph.expression is not None:
        at = ", ".join(f"{graph._name(i)} = {_fmt(graph.nodes[i].value)}" for i in graph.inputs)
        named = graph.expression if graph.expression == o else f"{o} = {graph.expression}"
        lines += [named + (f" at {at}" if at else "")
                  + f": {_show(graph.value)}", ""]
    lines.append("nodes (forward pass, inputs first):")
    width = max(len(n.label) for n in graph.nodes)
    for i, n in enumerate(graph.nodes):
        role = "  (input)" if n.kind == "input" else "  (output)" if i == graph.output else ""
        lines.append(f"  {n.label:<{width}}  = {_show(n.value)}{role}")
    lines.append("edges (local derivatives):" if graph.scalar else "edges:")
    if not graph.edges:
        lines.append("  (none)")
    for e in graph.edges:
        c, p = graph._name(e.child), graph._name(e.parent)
        lines.append(f"  ∂{c}/∂{p} = {_fmt(e.derivative)}" if e.derivative is not None
                     else f"  {p} → {c}")
    if not graph.scalar:
        lines.append("(derivative modes need scalar nodes: shapes shown instead of values)")
        return "\n".join(lines) + "\n"
    lines.append("")
    if mode == "reverse":
        adjoint, _ = graph.reverse()
        lines.append(f"reverse mode: d{o}/d(node) for every node, one backward pass from "
                     f"{o} (d{o}/d{o} = 1); each node adds up what its consumers send")
        for i in range(len(graph.nodes) - 1, -1, -1):
            n = graph.nodes[i]
            if n.kind == "constant" or i == graph.output:
                continue
            uses = [(c, e) for c in range(len(graph.nodes)) for e in graph.into[c]
                    if e.parent == i]
            terms = " + ".join(f"d{o}/d{graph._name(c)}·∂{graph._name(c)}/∂{n.name}"
                               for c, _ in uses) or "0 (not used)"
            numbers = " + ".join(f"{_fmt(adjoint[c])}·{_fmt(e.derivative)}" for c, e in uses)
            lines.append(f"  d{o}/d{n.name} = {terms}" + (f" = {numbers}" if len(uses) else "")
                         + f" = {_fmt(adjoint[i])}")
    elif mode == "forward":
        for w in chosen:
            tangent, _ = graph.forward(w)
            x = graph._name(w)
            lines.append(f"forward mode: d(node)/d{x} for every node, one pass from {x} "
                         f"(d{x}/d{x} = 1, other inputs 0)")
            for i, n in enumerate(graph.nodes):
                if not graph.into[i]:
                    continue
                terms = " + ".join(f"∂{n.name}/∂{graph._name(e.parent)}·d{graph._name(e.parent)}"
                                   f"/d{x}" for e in graph.into[i])
                numbers = " + ".join(f"{_fmt(e.derivative)}·{_fmt(tangent[e.parent])}"
                                     for e in graph.into[i])
                lines.append(f"  d{n.name}/d{x} = {terms} = {numbers} = {_fmt(tangent[i])}")
    else:
        lines.append(f"paths: every path from an input to {o}, with the product of its "
                     "edge derivatives")
        for w in chosen:
            found = graph.paths(w)
            total = sum(p for *_, p in found)
            lines.append(f"  d{o}/d{graph._name(w)} = {_fmt(total)} ({len(found)} path"
                         f"{'' if len(found) == 1 else 's'})")
            for nodes, factors, product in found:
                lines.append(f"    {' → '.join(graph._name(k) for k in nodes)}   "
                             f"{' × '.join(map(_fmt, factors)) or '1'} = {_fmt(product)}")
    c = graph.cost()
    n_in = c["forward"]["passes"]
    lines += ["", f"cost: reverse 1 pass, {c['reverse']['edge_visits']} edge visits; "
                  f"forward {n_in} pass{'' if n_in == 1 else 'es'} (one per input), "
                  f"{c['forward']['edge_visits']} edge visits; paths {c['paths']['paths']} "
                  f"path{'' if c['paths']['paths'] == 1 else 's'}, "
                  f"{c['paths']['edge_visits']} edge visits"]
    return "\n".join(lines) + "\n"

def to_dot(graph, mode="reverse", wrt=None) -> str:
    """Graphviz DOT, inputs at the bottom as in colah's figures.

    >>> from chainrule.explanations.diagram import trace
    >>> print(to_dot(trace(lambda a: a * 2, 3.0)).splitlines()[-2])
      "a" -> "b" [label="∂b/∂a = 2"];
    """
    chosen = graph._check(mode, wrt)
    o = graph._name(graph.output)
    notes = {}
    if graph.scalar and mode == "reverse":
        adjoint, _ = graph.reverse()
        notes = {i: f"d{o}/d{n.name} = {_fmt(adjoint[i])}" for i, n in enumerate(graph.nodes)}
    elif graph.scalar and mode == "forward":
        for w in chosen:
            tangent, _ = graph.forward(w)
            for i, n in enumerate(graph.nodes):
                line = f"d{n.name}/d{graph._name(w)} = {_fmt(tangent[i])}"
                notes[i] = f"{notes[i]}\n{line}" if i in notes else line
    lines = ["digraph chainrule {", '  graph [rankdir=BT, fontname="Helvetica"];',
             '  node [shape=box, style=rounded, fontname="Helvetica"];',
             '  edge [fontname="Helvetica", fontsize=10];']
    for i, n in enumerate(graph.nodes):
        label = f"{n.label}\n= {_show(n.value)}" + (f"\n{notes[i]}" if i in notes else "")
        shape = ', shape=ellipse' if n.kind == "input" else (
            ", penwidth=2" if i == graph.output else "")
        lines.append(f"  {_q(n.name)} [label={_q(label)}{shape}];")
    for e in graph.edges:
        c, p = graph._name(e.child), graph._name(e.parent)
        attr = f" [label={_q(f'∂{c}/∂{p} = {_fmt(e.derivative)}')}]" if (
            e.derivative is not None) else ""
        lines.append(f"  {_q(p)} -> {_q(c)}{attr};")
    if graph.scalar and mode == "paths":
        sums = [f"d{o}/d{graph._name(w)} = " + " + ".join(_fmt(p) for *_, p in found)
                + f" = {_fmt(sum(p for *_, p in found))}" if found else
                f"d{o}/d{graph._name(w)} = 0 (no path)"
                for w in chosen for found in [graph.paths(w)]]
        lines.append(f"  label={_q('sums over paths: ' + '; '.join(sums))};")
    lines.append("}")
    return "\n".join(lines) + "\n"

def to_svg(graph, mode="reverse", wrt=None) -> str:
    """SVG drawn by Graphviz's ``dot`` program (RunFailed when it is not installed)."""
    source = to_dot(graph, mode, wrt)  # bad --mode/--wrt are reported before Graphviz is sought
    program = shutil.which("dot")
    if program is None:
        raise RunFailed("--format svg needs Graphviz's 'dot' program, which is not "
                        "installed (e.g. apt-get install graphviz); --format dot works "
                        "without it")
    try:
        done = subprocess.run([program, "-Tsvg"], input=source.encode(),
                              capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RunFailed(f"Graphviz 'dot' failed to run: {e}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RunFailed(f"Graphviz 'dot' failed: {message[0] if message else done.returncode}")
    return done.stdout.decode("utf-8")
