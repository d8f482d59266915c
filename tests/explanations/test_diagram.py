"""Computational graphs: colah's example, three modes vs each other, the engine and finite
differences, DOT/SVG output, tensor traces, and refusals."""

import json
import math
import re
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.engine import ops
from chainrule.errors import InputError, RunFailed
from chainrule.explanations import expr
from chainrule.explanations import render as diagram_render
from chainrule.explanations.diagram import MODES, graph_report, trace
from chainrule.explanations.expr import Binary, Call, Name, Negate, Number

SEEDS = "(a+b)*(b+1)"  # seeds 000: e = (a+b)*(b+1) at a=2, b=1; c = a+b, d = b+1
AT = {"a": 2.0, "b": 1.0}


def report(expression=SEEDS, at=AT, **kw):
    return json.loads(graph_report(expression, at, fmt="json", **kw))


@pytest.mark.parametrize("mode", MODES)
def test_seeds_example_values_edges_and_gradients(mode):
    r = report(mode=mode)
    assert r["value"] == 6.0
    assert {n["name"]: n["value"] for n in r["nodes"]} == {"a": 2, "b": 1, "c": 3, "d": 2, "e": 6}
    assert [n["label"] for n in r["nodes"][2:]] == ["c = a + b", "d = b + 1", "e = c * d"]
    # local derivatives on the edges: ∂c/∂a = ∂c/∂b = ∂d/∂b = 1, ∂e/∂c = d = 2, ∂e/∂d = c = 3
    edges = {(e["from"], e["to"]): e["derivative"] for e in r["edges"]}
    assert edges == {("a", "c"): 1, ("b", "c"): 1, ("b", "d"): 1, ("c", "e"): 2, ("d", "e"): 3}
    assert r["gradients"] == {"a": 2.0, "b": 5.0}
    assert r["cost"] == {"reverse": {"passes": 1, "edge_visits": 5},
                         "forward": {"passes": 2, "edge_visits": 10},
                         "paths": {"paths": 3, "edge_visits": 6}}


def test_seeds_example_paths_and_their_products():
    paths = report(mode="paths")["paths"]
    assert paths["a"] == [{"nodes": ["a", "c", "e"], "factors": [1.0, 2.0], "product": 2.0}]
    assert sorted((p["nodes"], p["product"]) for p in paths["b"]) == [
        (["b", "c", "e"], 2.0), (["b", "d", "e"], 3.0)]


def test_seeds_example_reverse_adjoints_and_forward_tangents():
    assert report(mode="reverse")["adjoints"] == {"a": 2, "b": 5, "c": 2, "d": 3, "e": 1}
    forward = report(mode="forward", wrt="b")
    assert forward["tangents"] == {"b": {"a": 0, "b": 1, "c": 1, "d": 1, "e": 5}}
    assert forward["gradients"] == {"b": 5.0}


def test_seeds_example_text_shows_each_step():
    text = graph_report(SEEDS, AT, mode="reverse")
    assert "de/db = de/dc·∂c/∂b + de/dd·∂d/∂b = 2·1 + 3·1 = 5" in text
    text = graph_report(SEEDS, AT, mode="forward", wrt="b")
    assert "de/db = ∂e/∂c·dc/db + ∂e/∂d·dd/db = 2·1 + 3·1 = 5" in text
    text = graph_report(SEEDS, AT, mode="paths")
    assert "b → c → e   1 × 2 = 2" in text and "b → d → e   1 × 3 = 3" in text
    assert "reverse 1 pass, 5 edge visits; forward 2 passes" in text


def test_reverse_mode_wins_with_many_inputs():
    names = [f"x{i}" for i in range(1, 9)]
    r = report("*".join(names), dict.fromkeys(names, 1.5))
    edges = len(r["edges"])
    assert r["cost"]["reverse"] == {"passes": 1, "edge_visits": edges}
    assert r["cost"]["forward"] == {"passes": 8, "edge_visits": 8 * edges}
    assert r["gradients"] == pytest.approx(dict.fromkeys(names, 1.5 ** 7))


# -- the three modes agree with each other, with the engine and with finite differences -------
def _smooth(children):
    """Trees of smooth operations whose values stay in a safe range (no kinks, no poles)."""
    def safe_div(t):
        return Binary("/", t[0], Binary("+", Number(1.5, 0), Binary("*", t[1], t[1], 0), 0), 0)

    def safe_log(x):
        return Call("log", Binary("+", Number(1.0, 0), Binary("*", x, x, 0), 0), 0)

    return st.one_of(
        children.map(lambda x: Negate(x, 0)),
        st.tuples(st.sampled_from(["+", "-", "*"]), children, children).map(
            lambda t: Binary(t[0], t[1], t[2], 0)),
        st.tuples(children, children).map(safe_div),
        children.map(safe_log),
        children.map(lambda x: Binary("**", Call("tanh", x, 0), Number(2.0, 0), 0)),
        st.tuples(st.sampled_from(["sin", "cos", "tanh", "sigmoid"]), children).map(
            lambda t: Call(t[0], t[1], 0)),
        children.map(lambda x: Call("exp", Call("tanh", x, 0), 0)),
    )


smooth_trees = st.recursive(
    st.one_of(st.sampled_from("abc").map(lambda n: Name(n, 0)),
              st.floats(0.1, 2).map(lambda v: Number(round(v, 2), 0))),
    _smooth, max_leaves=10)
points = st.fixed_dictionaries({n: st.floats(-2, 2).map(lambda v: round(v, 3)) for n in "abc"})


@settings(max_examples=80, deadline=None)
@given(smooth_trees, points)
def test_three_modes_engine_and_central_differences_agree(tree, point):
    text = expr.to_text(tree)
    names = expr.names(tree)
    at = {n: point[n] for n in names}
    by_mode = {mode: report(text, at, mode=mode)["gradients"] for mode in MODES}
    assert by_mode["forward"] == pytest.approx(by_mode["reverse"], rel=1e-9, abs=1e-12)
    assert by_mode["paths"] == pytest.approx(by_mode["reverse"], rel=1e-9, abs=1e-12)
    if not names:
        return
    engine = cr.grad(lambda *xs: expr.evaluate(tree, dict(zip(names, xs)), _ENGINE),
                     argnums=tuple(range(len(names))))(*[at[n] for n in names])
    for name, g in zip(names, engine):
        assert by_mode["reverse"][name] == pytest.approx(float(g), rel=1e-9, abs=1e-12)
    for name in names:  # central differences on plain NumPy floats
        h = 1e-5
        up = float(expr.evaluate(tree, {**at, name: at[name] + h}))
        down = float(expr.evaluate(tree, {**at, name: at[name] - h}))
        assert by_mode["reverse"][name] == pytest.approx((up - down) / (2 * h), rel=1e-5,
                                                         abs=1e-6)


_ENGINE = {name: getattr(ops, name) for name in expr.FUNCTIONS}


@pytest.mark.parametrize("expression, at, gradients", [
    ("a*a", {"a": 3.0}, {"a": 6.0}),                       # two parallel edges, 3 + 3
    ("relu(a) + abs(b)", {"a": 2.0, "b": -3.0}, {"a": 1.0, "b": -1.0}),
    ("a**b", {"a": 2.0, "b": 3.0}, {"a": 12.0, "b": 8 * math.log(2)}),
    ("-a**2", {"a": 3.0}, {"a": -6.0}),
    ("sqrt(a) / exp(b)", {"a": 4.0, "b": 0.0}, {"a": 0.25, "b": -2.0}),
    ("2 + 3", {}, {}),
    ("a", {"a": 5.0}, {"a": 1.0}),
])
def test_known_derivatives_in_every_mode(expression, at, gradients):
    for mode in MODES:
        assert report(expression, at, mode=mode)["gradients"] == pytest.approx(gradients)


def test_wrt_picks_one_input_and_is_checked():
    assert report(mode="paths", wrt="a")["gradients"] == {"a": 2.0}
    with pytest.raises(InputError, match="--wrt 'z' is not an input of the graph; inputs: a, b"):
        graph_report(SEEDS, AT, mode="forward", wrt="z")
    with pytest.raises(InputError, match="--wrt picks the input for --mode forward or paths"):
        graph_report(SEEDS, AT, mode="reverse", wrt="a")


# -- DOT and SVG -------------------------------------------------------------------------------
def _check_dot(text):
    """A structural parse of our DOT subset: node statements first, edges between them."""
    lines = text.strip().splitlines()
    assert lines[0] == "digraph chainrule {" and lines[-1] == "}"
    quoted = r'"(?:[^"\\]|\\.)*"'
    declared, edges = set(), []
    for line in lines[1:-1]:
        line = line.strip()
        if m := re.fullmatch(rf'({quoted}) -> ({quoted})(?: \[label={quoted}\])?;', line):
            edges.append((m.group(1), m.group(2)))
        elif m := re.fullmatch(rf'({quoted}) \[label={quoted}(?:, [a-z]+=[a-z0-9]+)*\];', line):
            declared.add(m.group(1))
        else:
            assert re.fullmatch(rf'(graph|node|edge) \[.*\];|label={quoted};', line), line
    assert all(a in declared and b in declared for a, b in edges)
    return declared, edges


@pytest.mark.parametrize("mode", MODES)
def test_dot_parses_and_has_the_seeds_edges(mode):
    declared, edges = _check_dot(graph_report(SEEDS, AT, mode=mode, fmt="dot"))
    assert declared == {'"a"', '"b"', '"c"', '"d"', '"e"'}
    assert len(edges) == 5
    text = graph_report(SEEDS, AT, mode=mode, fmt="dot")
    assert 'label="∂e/∂d = 3"' in text


def test_dot_escapes_quotes_and_backslashes():
    assert diagram_render._q('say "hi"\\\n') == '"say \\"hi\\"\\\\\\n"'


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize("mode", MODES)
def test_svg_through_graphviz(mode):
    svg = graph_report(SEEDS, AT, mode=mode, fmt="svg")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "∂e/∂c = 2" in svg


def test_svg_without_graphviz_says_so(monkeypatch):
    monkeypatch.setattr(diagram_render.shutil, "which", lambda name: None)
    with pytest.raises(RunFailed, match="Graphviz.*not installed.*--format dot works"):
        graph_report(SEEDS, AT, fmt="svg")


# -- cr.trace on engine computations -----------------------------------------------------------
def test_trace_names_inputs_after_parameters_and_matches_the_engine():
    def f(x, w):
        return cr.tanh(x * w) + x
    g = trace(f, 0.5, -1.5)
    assert [n.name for n in g.nodes[:2]] == ["x", "w"]
    assert g.gradients() == pytest.approx(
        dict(zip("xw", map(float, cr.grad(f, argnums=(0, 1))(0.5, -1.5)))))
    assert g.render("text").splitlines()[0] == "nodes (forward pass, inputs first):"


def test_trace_of_tensor_ops_shows_shapes():
    g = trace(lambda W, x: cr.sigmoid(W @ x).sum(), np.ones((3, 2)), np.ones(2))
    data = g.to_dict()
    assert [n.get("shape") for n in data["nodes"]] == [[3, 2], [2], [3], [3], None]
    assert data["value"] == pytest.approx(3 / (1 + math.exp(-2)))
    assert "shape (3, 2)" in g.render("text") and "gradients" not in data
    _check_dot(g.render("dot"))
    with pytest.raises(InputError, match="derivative modes need a graph of scalars"):
        g.reverse()


def test_unused_input_is_an_isolated_node_with_zero_gradient():
    g = trace(lambda a, b: a * 2, 1.0, 7.0)
    assert g.gradients("paths") == {"a": 2.0, "b": 0.0}
    assert g.gradients("forward") == g.gradients("reverse") == {"a": 2.0, "b": 0.0}


def test_output_that_is_an_input():
    g = trace(lambda a, b: a, 1.0, 2.0)
    assert g.nodes[g.output].name == "a" and g.value == 1.0
    for mode in MODES:
        assert g.gradients(mode) == {"a": 1.0, "b": 0.0}


def test_parameters_captured_by_a_closure_are_inputs_too():
    w = cr.tensor(3.0, requires_grad=True)
    g = trace(lambda x: x * w, 2.0)
    assert [n.kind for n in g.nodes] == ["input", "input", "op"]
    assert g.gradients() == {"x": 3.0, g.nodes[1].name: 2.0}


def test_path_explosion_is_refused_but_reverse_mode_is_not():
    def f(x):
        for _ in range(30):
            x = x * x * 0.5 + x * 0.1
        return x
    g = trace(f, 0.3)
    assert g.cost()["paths"]["paths"] > 10 ** 12
    assert g.cost()["reverse"]["edge_visits"] == len(g.edges) < 200
    assert g.gradients()["x"] == pytest.approx(float(cr.grad(f)(0.3)), rel=1e-12)
    with pytest.raises(InputError, match="too many to list"):
        g.render("text", "paths")


# -- refusals ---------------------------------------------------------------------------------
@pytest.mark.parametrize("expression, at, message", [
    ("__import__('os')", {}, "unexpected character '_' at column 1"),
    ("a.real", {"a": 1.0}, "no attribute access"),
    ("log(a)", {"a": -1.0}, "b = log(a) is nan at a=-1"),
    ("a / b", {"a": 1.0, "b": 0.0}, "c = a / b is inf"),
    ("exp(a)", {"a": 1000.0}, "b = exp(a) is inf"),
    ("sqrt(a)", {"a": 0.0}, "∂b/∂a is inf for b = sqrt(a) at a=0: not differentiable there"),
    ("9**9**9**9", {}, "9**9**9**9 is inf"),
    ("a + b", {"a": 1.0}, "--at has no value for b"),
    ("a", {"a": 1.0, "z": 2.0}, "--at gives 'z', which is not in the expression"),
    ("a", {"a": "x"}, "value of a must be a number"),
    ("a", {"a": math.inf}, "value of a must be finite, got inf"),
])
def test_bad_expressions_and_values_are_refused(expression, at, message):
    with pytest.raises(InputError, match=re.escape(message)):
        graph_report(expression, at)


def test_unknown_mode_and_format():
    with pytest.raises(InputError, match="unknown mode 'sideways'"):
        graph_report(SEEDS, AT, mode="sideways")
    with pytest.raises(InputError, match="unknown format 'png'"):
        graph_report(SEEDS, AT, fmt="png")


_pieces = st.sampled_from(["a", "b", "1", "0", "2.5", "1e308", "+", "-", "*", "/", "**", "(",
                           ")", " ", *(f"{f}(" for f in expr.FUNCTIONS)])


@settings(max_examples=300, deadline=None)
@given(st.lists(_pieces, min_size=1, max_size=25).map("".join),
       st.floats(allow_nan=False, allow_infinity=False), st.floats(-1e3, 1e3))
def test_fuzz_graph_report_only_input_error_escapes(text, a, b):
    try:
        names = expr.names(expr.parse(text))
    except InputError:
        names = []
    at = {n: v for n, v in (("a", a), ("b", b)) if n in names}
    try:
        out = json.loads(graph_report(text, at, mode="paths", fmt="json"))
    except InputError as error:
        assert "\n" not in str(error)
        return
    # whatever is accepted has finite values and derivatives that add up over paths
    assert math.isfinite(out["value"])
    for name, found in out["paths"].items():
        assert out["gradients"][name] == pytest.approx(sum(p["product"] for p in found))


def test_overflowing_derivatives_are_refused():
    # every edge is finite, but their product overflows: d/da of a^(1/64) at 1e-320
    with pytest.raises(InputError, match="too large for a float"):
        graph_report("sqrt(sqrt(sqrt(sqrt(sqrt(sqrt(a))))))", {"a": 1e-320}, fmt="json")
    with np.errstate(over="ignore"):  # a traced graph: JSON says what went wrong
        g = trace(lambda a: a * 1e300 * 1e300, 1.0)
    with pytest.raises(RunFailed, match="JSON cannot carry"):
        g.render("json")
