"""What Jupyter shows for chainrule's objects: well-formed SVG/HTML carrying the right numbers."""

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import chainrule as cr
from chainrule.explanations import display, drawing
from chainrule.explanations.ledger import MAZUR_EXAMPLE, load_net_json

SVG = "{http://www.w3.org/2000/svg}"


def parse_svg(svg):
    root = ET.fromstring(svg)                       # raises on malformed XML
    assert root.tag == SVG + "svg"
    return root


def texts(root):
    return [t.text for t in root.iter(SVG + "text")]


def parse_html(html):
    """HTML fragments here are XHTML-clean (every tag closed): parse them as XML."""
    return ET.fromstring(html.replace("<br>", "<br/>"))


def test_graph_svg_has_every_node_edge_and_adjoint():
    graph = cr.trace(lambda a, b: (a + b) * (b + 1), 2.0, 1.0)
    root = parse_svg(graph._repr_svg_())
    labels = texts(root)
    adjoint, _ = graph.reverse()
    for node, d in zip(graph.nodes, adjoint):
        assert node.label in labels and f"de/d{node.name} = {d:.6g}" in labels
    for e in graph.edges:
        child, parent = graph.nodes[e.child].name, graph.nodes[e.parent].name
        assert f"∂{child}/∂{parent} = {e.derivative:.6g}" in labels
    assert len(list(root.iter(SVG + "line"))) == len(graph.edges)
    assert len(list(root.iter(SVG + "rect"))) == len(graph.nodes)
    # inputs are drawn below the nodes computed from them (as in colah's figures)
    y = {t.text: float(t.get("y")) for t in root.iter(SVG + "text")}
    assert y["a"] > y["c = a + b"] > y["e = c * d"]


@pytest.mark.parametrize("mode,wrt", [("forward", "a"), ("forward", None), ("paths", "b")])
def test_graph_svg_in_the_other_modes(mode, wrt):
    graph = cr.trace(lambda a, b: (a + b) * (b + 1), 2.0, 1.0)
    labels = " ".join(texts(parse_svg(drawing.graph_svg(graph, mode, wrt))))
    if mode == "forward":
        assert "de/da = 2" in labels and ("de/db = 5" in labels) == (wrt is None)
    else:
        assert "sum over paths: de/db = 2 + 3 = 5" in labels and "de/da" not in labels


def test_graph_of_tensors_shows_shapes_and_escapes_labels():
    graph = cr.trace(lambda W, x: cr.sum(cr.tanh(W @ x)), np.ones((2, 3)), np.ones(3))
    labels = texts(parse_svg(graph._repr_svg_()))
    assert "= shape (2, 3)" in labels and not any("∂" in t for t in labels)
    html = graph._repr_html_()
    assert "W @ x" in html and "<svg" in html


def test_network_drawing_caps_the_units_drawn():
    net = cr.nn.Network([64, 30, 10], cost="log-likelihood", seed=0)
    root = parse_svg(net._repr_svg_())
    assert len(list(root.iter(SVG + "circle"))) == 3 * drawing.MAX_UNITS
    assert texts(root).count("⋮") == 3
    assert {"input: 64", "hidden 1: 30", "output: 10", "softmax", "sigmoid"} <= set(texts(root))
    small = parse_svg(cr.nn.Network([2, 3, 1], seed=0)._repr_svg_())
    assert len(list(small.iter(SVG + "circle"))) == 6
    assert len(list(small.iter(SVG + "line"))) == 2 * 3 + 3 * 1
    table = parse_html(net._repr_html_())
    rows = [[td.text for td in tr] for tr in table.iter("tr")][1:]
    assert rows == [["1", "W¹ (30, 64)", "b¹ (30,)", "sigmoid"],
                    ["2", "W² (10, 30)", "b² (10,)", "softmax"]]
    assert display._sup(12) == "¹²"
    assert "2,260 parameters" in display.network_summary(net)


def test_history_table_and_curves():
    history = cr.History()
    for epoch in range(1, 15):
        history.append(epoch, 1.0 / epoch, 0.5 + epoch / 40, 1.2 / epoch, 0.45 + epoch / 40,
                       lr=0.5, time=0.01)
    root = parse_html(history._repr_html_())
    rows = [[cell.text for cell in tr] for tr in root.iter("tr")]
    assert rows[0] == ["epoch", "train objective", "train accuracy", "val cost", "val accuracy",
                       "lr", "seconds"]
    epochs = [r[0] for r in rows[1:]]
    assert epochs == ["1", "2", "3", "…", "9", "10", "11", "12", "13", "14"]
    assert rows[-1][1:3] == [f"{1 / 14:.4g}", f"{0.5 + 14 / 40:.2%}"]
    polylines = list(root.iter(SVG + "polyline"))
    assert len(polylines) == 4 and all(len(p.get("points").split()) == 14 for p in polylines)
    # the training cost falls, so its polyline's y coordinates (SVG: down is +y) rise
    ys = [float(point.split(",")[1]) for point in polylines[0].get("points").split()]
    assert ys == sorted(ys)
    assert "no epochs yet" in cr.History()._repr_html_()


def test_ledger_is_a_dict_shown_as_markdown():
    ledger = cr.explain(load_net_json(MAZUR_EXAMPLE), [0.05, 0.10], [0.01, 0.99], lr=0.5)
    assert isinstance(ledger, dict)
    markdown = ledger._repr_markdown_()
    assert markdown.startswith("# One step of backpropagation")
    assert "0.298371109" in markdown and "0.35891648" in markdown


def test_gradient_checks_and_backprop_trace():
    good = cr.gradcheck(lambda x: cr.sum(x ** 3), np.array([1.0, 2.0]))
    assert good._repr_markdown_().startswith("**gradcheck ok: 2 Jacobian entries")
    bad = cr.gradcheck(cr.primitive(lambda x: x ** 2, lambda g, out, x: (g * 3 * x,)),
                       np.array([1.5]), modes="rev")
    assert bad._repr_markdown_().startswith("**gradcheck FAILED") and "worst" in \
        bad._repr_markdown_()
    net = cr.nn.Network([3, 4, 2], cost="cross-entropy", dtype="float64", seed=1)
    X, y = np.random.default_rng(0).normal(size=(5, 3)), [0, 1, 1, 0, 1]
    report = parse_html(cr.nn.check_network(net, X, y)._repr_html_())
    cells = [[td.text for td in tr] for tr in report.iter("tr")][1:]
    assert [c[0] for c in cells] == ["W^1", "b^1", "W^2", "b^2"]
    trace = net.backprop_trace(X, y)
    html = trace._repr_html_()
    rows = [[td.text for td in tr] for tr in parse_html(html).iter("tr")][1:]
    assert rows[0][:5] == ["1", "BP2", "(5, 4)", "(5, 4)", "(5, 4)"]
    assert rows[1][:2] == ["2", "BP1 (a - y)"]
    assert float(rows[1][5]) == pytest.approx(np.linalg.norm(trace.grad_weights[1]), rel=1e-3)
    assert not re.search(r"-?\d\.\d{5,}e", html)     # a summary, not the arrays
