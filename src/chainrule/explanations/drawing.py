"""SVG drawings for notebooks, written directly (no Graphviz, no matplotlib needed).

- :func:`graph_svg`: a traced computational graph as in colah's figures — inputs at the
  bottom, each node with its value, each edge with its local derivative ∂child/∂parent, and
  the chosen mode's numbers: d out/d node (reverse), d node/d x (forward) or the sum over
  paths for each input;
- :func:`network_svg`: a network's layers as columns of units (at most 8 drawn per layer);
- :func:`curves_svg`: per-epoch series as polylines (a History's cost and accuracy).

>>> from chainrule.explanations.diagram import trace
>>> svg = graph_svg(trace(lambda a, b: (a + b) * (b + 1), 2.0, 1.0))
>>> svg.startswith("<svg") and "∂e/∂c = 2" in svg and "de/db = 5" in svg
True
"""

from __future__ import annotations

import math
from html import escape

from chainrule.explanations.render import _fmt, _show

FONT = 'font-family="Helvetica, Arial, sans-serif"'
CHAR = 7.0           # approximate width of one character at 12px
MAX_UNITS = 8        # units drawn per layer of a network drawing


def _text(x, y, content, size=12, anchor="middle", weight="normal", fill="#222"):
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}" fill="{fill}" {FONT}>{escape(content)}</text>')


def _svg(width, height, body, title):
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" role="img"><title>{escape(title)}</title>'
            + "".join(body) + "</svg>")


# -- computational graphs ----------------------------------------------------------------------
def _depths(graph):
    """Each node's layer: 0 for nodes without parents, else 1 + the deepest parent's."""
    depth = [0] * len(graph.nodes)
    for child in range(len(graph.nodes)):
        for e in graph.into[child]:
            depth[child] = max(depth[child], depth[e.parent] + 1)
    return depth


def _notes(graph, mode, wrt):
    """Extra lines under each node, and a caption, for the chosen mode."""
    chosen = graph._check(mode, wrt)
    notes = [[] for _ in graph.nodes]
    if not graph.scalar:
        return notes, "derivative modes need scalar nodes: shapes shown"
    o = graph._name(graph.output)
    if mode == "reverse":
        adjoint, _ = graph.reverse()
        for i, n in enumerate(graph.nodes):
            notes[i].append(f"d{o}/d{n.name} = {_fmt(adjoint[i])}")
        return notes, f"reverse mode: one backward pass from {o} gives d{o}/d(every node)"
    if mode == "forward":
        for w in chosen:
            tangent, _ = graph.forward(w)
            for i, n in enumerate(graph.nodes):
                notes[i].append(f"d{n.name}/d{graph._name(w)} = {_fmt(tangent[i])}")
        names = ", ".join(graph._name(w) for w in chosen)
        return notes, f"forward mode: one pass per input ({names}) gives d(node)/d(input)"
    sums = []
    for w in chosen:
        products = [p for *_, p in graph.paths(w)]
        total = _fmt(sum(products))
        sums.append(f"d{o}/d{graph._name(w)} = {' + '.join(map(_fmt, products)) or '0'}"
                    f" = {total}")
    return notes, "sum over paths: " + "; ".join(sums)


def graph_svg(graph, mode="reverse", wrt=None) -> str:
    """The graph as SVG, inputs at the bottom; ``mode`` reverse, forward or paths."""
    notes, caption = _notes(graph, mode, wrt)
    depth = _depths(graph)
    layers = {}
    for i, d in enumerate(depth):
        layers.setdefault(d, []).append(i)
    lines = [[n.label, f"= {_show(n.value)}", *notes[i]] for i, n in enumerate(graph.nodes)]
    box_w = [max(len(t) for t in ls) * CHAR + 16 for ls in lines]
    box_h = [16 * len(ls) + 10 for ls in lines]
    row_h, gap = max(box_h) + 60, 80      # room between boxes for the edges' labels
    widths = {d: sum(box_w[i] for i in nodes) + gap * (len(nodes) - 1)
              for d, nodes in layers.items()}
    width = max(max(widths.values()) + 40, len(caption) * CHAR + 40, 200)
    height = row_h * len(layers) + 50
    centre = {}
    for d, nodes in layers.items():
        x = (width - widths[d]) / 2
        y = height - 40 - d * row_h - row_h / 2           # depth 0 (inputs) at the bottom
        for i in nodes:
            centre[i] = (x + box_w[i] / 2, y)
            x += box_w[i] + gap
    body = ['<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/>'
            '</marker></defs>']
    for e in graph.edges:
        (x1, y1), (x2, y2) = centre[e.parent], centre[e.child]
        y1 -= box_h[e.parent] / 2
        y2 += box_h[e.child] / 2
        body.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                    'stroke="#555" stroke-width="1.2" marker-end="url(#arrow)"/>')
        if e.derivative is not None:
            c, p = graph._name(e.child), graph._name(e.parent)
            body.append(_text((x1 + x2) / 2 + 4, (y1 + y2) / 2, f"∂{c}/∂{p} = "
                              f"{_fmt(e.derivative)}", size=11, anchor="start", fill="#a33"))
    for i, n in enumerate(graph.nodes):
        x, y = centre[i]
        w, h = box_w[i], box_h[i]
        shape = "#e8f0fe" if n.kind == "input" else "#f4f4f4"
        stroke = 2.2 if i == graph.output else 1.0
        radius = h / 2 if n.kind == "input" else 6
        body.append(f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" '
                    f'height="{h:.1f}" rx="{radius:.1f}" fill="{shape}" stroke="#333" '
                    f'stroke-width="{stroke}"/>')
        for k, line in enumerate(lines[i]):
            body.append(_text(x, y - h / 2 + 19 + 16 * k, line, weight="bold" if k == 0
                              else "normal", fill="#222" if k < 2 else "#1a5fb4"))
    body.append(_text(width / 2, height - 14, caption, size=12))
    return _svg(width, height, body, f"computational graph, {mode} mode")


# -- networks --------------------------------------------------------------------------------
def _unit_rows(n):
    """Which of a layer's n units to draw: all up to MAX_UNITS, else the first and last few."""
    if n <= MAX_UNITS:
        return list(range(n)), None
    half = MAX_UNITS // 2
    return list(range(half)) + list(range(n - half, n)), half


def network_svg(net) -> str:
    """A network's layers as columns of units, edges between the units drawn."""
    sizes = list(net.sizes)
    col_w, unit_gap, r = 150, 34, 11
    height = unit_gap * (MAX_UNITS + 1) + 90
    width = col_w * len(sizes)
    positions = []
    for l, n in enumerate(sizes):
        shown, gap_at = _unit_rows(n)
        rows = len(shown) + (gap_at is not None)
        top = (height - 60 - unit_gap * (rows - 1)) / 2 + 10
        x = col_w * l + col_w / 2
        ys = [top + unit_gap * (k + (gap_at is not None and k >= gap_at))
              for k in range(len(shown))]
        positions.append((x, ys, top + unit_gap * gap_at if gap_at is not None else None))
    body = []
    for (x1, ys1, _), (x2, ys2, _) in zip(positions[:-1], positions[1:]):
        for y1 in ys1:
            for y2 in ys2:
                body.append(f'<line x1="{x1 + r:.1f}" y1="{y1:.1f}" x2="{x2 - r:.1f}" '
                            f'y2="{y2:.1f}" stroke="#bbb" stroke-width="0.6"/>')
    L = len(sizes) - 1
    for l, (x, ys, dots) in enumerate(positions):
        fill = "#e8f0fe" if l == 0 else "#fde8d8" if l == L else "#e6f4ea"
        for y in ys:
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{fill}" '
                        'stroke="#333" stroke-width="1"/>')
        if dots is not None:
            body.append(_text(x, dots + 5, "⋮", size=16))
        role = "input" if l == 0 else "output" if l == L else f"hidden {l}"
        act = "" if l == 0 else net.output if l == L else net.activation
        body.append(_text(x, height - 42, f"{role}: {sizes[l]}", weight="bold"))
        if act:
            body.append(_text(x, height - 26, act, size=11, fill="#555"))
    return _svg(width, height, body, "network " + "-".join(map(str, sizes)))


# -- curves ----------------------------------------------------------------------------------
COLOURS = ("#1a5fb4", "#c01c28", "#26a269", "#a347ba")


def curves_svg(epochs, series, title, width=320, height=180) -> str:
    """Polylines of ``series`` ({name: values, None skipped}) over ``epochs``, one panel."""
    pad_l, pad_b, pad_t = 46, 28, 22
    values = [v for vs in series.values() for v in vs if v is not None and math.isfinite(v)]
    body = [_text(width / 2, 14, title, size=12, weight="bold")]
    if not values or len(epochs) < 1:
        return _svg(width, height, body + [_text(width / 2, height / 2, "no data")], title)
    low, high = min(values), max(values)
    high = high if high > low else low + 1.0
    first, last = epochs[0], epochs[-1] if epochs[-1] > epochs[0] else epochs[0] + 1

    def point(e, v):
        x = pad_l + (e - first) / (last - first) * (width - pad_l - 10)
        y = pad_t + (high - v) / (high - low) * (height - pad_t - pad_b)
        return f"{x:.1f},{y:.1f}"

    body.append(f'<rect x="{pad_l}" y="{pad_t}" width="{width - pad_l - 10}" '
                f'height="{height - pad_t - pad_b}" fill="none" stroke="#ccc"/>')
    body.append(_text(pad_l - 4, pad_t + 8, f"{high:.3g}", size=10, anchor="end"))
    body.append(_text(pad_l - 4, height - pad_b, f"{low:.3g}", size=10, anchor="end"))
    body.append(_text(pad_l, height - 8, f"epoch {first}", size=10, anchor="start"))
    body.append(_text(width - 10, height - 8, str(epochs[-1]), size=10, anchor="end"))
    for k, (name, vs) in enumerate(series.items()):
        colour = COLOURS[k % len(COLOURS)]
        points = [point(e, v) for e, v in zip(epochs, vs) if v is not None and math.isfinite(v)]
        dash = ' stroke-dasharray="5,3"' if name.startswith("val") else ""
        body.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                    f'stroke-width="1.8"{dash}><title>{escape(name)}</title></polyline>')
        body.append(_text(width - 14, pad_t + 14 + 13 * k, name.replace("_", " "), size=10,
                          anchor="end", fill=colour))
    return _svg(width, height, body, title)
