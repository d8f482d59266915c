"""Computational graphs as in colah's "Calculus on Computational Graphs": nodes carry values,
edges carry local derivatives.

:func:`trace` records any engine computation as a :class:`Graph`; :func:`graph_report` does
it for an expression typed by a user (parsed by :mod:`chainrule.explanations.expr`, never
``eval``). A graph of scalars can then be differentiated three ways, each written out step by step:

- ``reverse``: d out/d node for every node in one backward pass (backpropagation: each node
  passes d out/d node · ∂node/∂parent to its parents, which add up what they receive);
- ``forward``: d node/d x for one input x, one pass per input;
- ``paths``: every path from an input to the output with the product of its edge derivatives;
  the sum over paths is the derivative (the chain rule, written out redundantly).

Each report ends with the cost of the three (passes and edge visits): reverse mode visits every
edge once whatever the number of inputs, forward mode once per input, path sums once per path.
Notation: ∂c/∂a is a local derivative on an edge, dc/da a total derivative (a sum over paths).

>>> report = graph_report("(a+b)*(b+1)", {"a": 2, "b": 1}, mode="paths")
>>> print(report.split("paths:")[1].split("cost:")[0].strip())
every path from an input to e, with the product of its edge derivatives
  de/da = 2 (1 path)
    a → c → e   1 × 2 = 2
  de/db = 5 (2 paths)
    b → c → e   1 × 2 = 2
    b → d → e   1 × 3 = 3
"""

from __future__ import annotations

import inspect
import json
import string
from dataclasses import dataclass

import numpy as np

from chainrule.errors import InputError, RunFailed, quoted
from chainrule.explanations import render as diagram_render
from chainrule.explanations.render import _fmt

MODES = ("reverse", "forward", "paths")
FORMATS = ("text", "json", "dot", "svg")
MAX_PATHS = 10_000  # listing more paths than this is the combinatorial explosion colah warns of
_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "matmul": "@"}


@dataclass
class Node:
    name: str
    op: str | None  # the engine primitive, None for an input or a constant
    label: str  # "c = a + b"
    value: np.ndarray
    kind: str  # "input", "op" or "constant"


@dataclass
class Edge:
    parent: int  # index into Graph.nodes
    child: int
    derivative: float | None  # ∂child/∂parent (None when the nodes are not scalars)


def _const(x) -> str:
    x = np.asarray(x)
    if x.size != 1:
        return f"const{tuple(x.shape)}"
    return f"({_fmt(x)})" if float(x) < 0 else _fmt(x)


class Graph:
    """A recorded computation: ``nodes`` (topological order, inputs first), ``edges``, output.

    >>> g = trace(lambda a, b: (a + b) * (b + 1), 2.0, 1.0)
    >>> [n.label for n in g.nodes]
    ['a', 'b', 'c = a + b', 'd = b + 1', 'e = c * d']
    >>> g.reverse()[0]                       # de/dnode for a, b, c, d, e
    [2.0, 5.0, 2.0, 3.0, 1.0]
    """

    def __init__(self, nodes, edges, output, expression=None):
        self.nodes, self.edges, self.output = nodes, edges, output
        self.expression = expression
        self.inputs = [i for i, n in enumerate(nodes) if n.kind == "input"]
        self.scalar = all(n.value.size == 1 for n in nodes)
        self.into = [[] for _ in nodes]  # edges arriving at each node
        for e in edges:
            self.into[e.child].append(e)

    @property
    def value(self) -> np.ndarray:
        return self.nodes[self.output].value

    def _name(self, i):
        return self.nodes[i].name

    def _input(self, wrt):
        for i in self.inputs:
            if self.nodes[i].name == wrt:
                return i
        names = ", ".join(self._name(i) for i in self.inputs) or "none"
        raise InputError(f"--wrt {quoted(wrt)} is not an input of the graph; inputs: {names}")

    def _need_scalars(self):
        if not self.scalar:
            shapes = {n.name: n.value.shape for n in self.nodes if n.value.size != 1}
            raise InputError(f"derivative modes need a graph of scalars; these nodes are not: "
                             f"{', '.join(f'{k} {v}' for k, v in list(shapes.items())[:5])}")

    # -- the three ways to the derivative -------------------------------------------------------
    def reverse(self):
        """(d out/d node for every node, edge visits): one backward pass from the output."""
        self._need_scalars()
        adjoint = [0.0] * len(self.nodes)
        adjoint[self.output] = 1.0
        visits = 0
        for child in range(len(self.nodes) - 1, -1, -1):  # reverse topological order
            for e in self.into[child]:
                adjoint[e.parent] += adjoint[child] * e.derivative  # fan-out adds up
                visits += 1
        return adjoint, visits

    def forward(self, wrt: int):
        """(d node/d input for every node, edge visits): one forward pass seeded at ``wrt``."""
        self._need_scalars()
        tangent = [0.0] * len(self.nodes)
        tangent[wrt] = 1.0
        visits = 0
        for child in range(len(self.nodes)):
            if self.into[child]:
                tangent[child] = sum(e.derivative * tangent[e.parent] for e in self.into[child])
                visits += len(self.into[child])
        return tangent, visits

    def _path_counts(self, start: int):
        """Per node: the number of paths from ``start`` to it, and their total length in edges."""
        count, length = [0] * len(self.nodes), [0] * len(self.nodes)
        count[start] = 1
        for child in range(start + 1, len(self.nodes)):
            for e in self.into[child]:
                count[child] += count[e.parent]
                length[child] += length[e.parent] + count[e.parent]
        return count, length

    def paths(self, start: int) -> list:
        """Every path from ``start`` to the output: (node indices, edge derivatives, product).

        >>> g = trace(lambda a, b: (a + b) * (b + 1), 2.0, 1.0)
        >>> [(nodes, product) for nodes, _, product in g.paths(1)]     # from b: via c, via d
        [([1, 2, 4], 2.0), ([1, 3, 4], 3.0)]
        """
        self._need_scalars()
        count, _ = self._path_counts(start)
        if count[self.output] > MAX_PATHS:
            raise InputError(f"{count[self.output]} paths lead from {self._name(start)} to the "
                             f"output, too many to list (limit {MAX_PATHS}); this explosion is "
                             "why backprop merges paths: use --mode reverse")
        found, stack = [], [(self.output, [], [], 1.0)]  # walk backwards from the output
        while stack:
            node, suffix, factors, product = stack.pop()
            if node == start:
                found.append(([start, *suffix], factors, product))
                continue
            for e in reversed(self.into[node]):
                if count[e.parent]:
                    stack.append((e.parent, [node, *suffix], [e.derivative, *factors],
                                  e.derivative * product))
        return found

    def gradients(self, mode="reverse") -> dict:
        """{input name: d out/d input}, computed by ``mode`` (they agree).

        >>> trace(lambda a, b: (a + b) * (b + 1), 2.0, 1.0).gradients("paths")
        {'a': 2.0, 'b': 5.0}
        """
        if mode == "reverse":
            adjoint, _ = self.reverse()
            return {self._name(i): adjoint[i] for i in self.inputs}
        if mode == "forward":
            return {self._name(i): self.forward(i)[0][self.output] for i in self.inputs}
        if mode == "paths":
            return {self._name(i): float(sum(p for *_, p in self.paths(i))) for i in self.inputs}
        raise InputError(f"unknown mode {quoted(mode)}; choose one of {', '.join(MODES)}")

    def cost(self) -> dict:
        """Passes and edge visits of each mode for this graph (one output, n inputs).

        >>> trace(lambda a, b: (a + b) * (b + 1), 2.0, 1.0).cost()["forward"]
        {'passes': 2, 'edge_visits': 10}
        """
        counts = [self._path_counts(i) for i in self.inputs]  # counted, never enumerated
        return {"reverse": {"passes": 1, "edge_visits": self.reverse()[1]},
                "forward": {"passes": len(self.inputs),
                            "edge_visits": sum(self.forward(i)[1] for i in self.inputs)},
                "paths": {"paths": sum(c[self.output] for c, _ in counts),
                          "edge_visits": sum(n[self.output] for _, n in counts)}}

    # -- renderings ---------------------------------------------------------------------------
    def _check(self, mode, wrt):
        if mode not in MODES:
            raise InputError(f"unknown mode {quoted(mode)}; choose one of {', '.join(MODES)}")
        if wrt is not None and mode == "reverse":
            raise InputError("--wrt picks the input for --mode forward or paths; reverse mode "
                             "gives the derivative for every input at once")
        return [self._input(wrt)] if wrt is not None else list(self.inputs)

    def to_dict(self, mode="reverse", wrt=None) -> dict:
        """JSON-ready: value, nodes, edges, gradients, and the mode's own numbers and cost."""
        chosen = self._check(mode, wrt)
        nodes = [{"name": n.name, "op": n.op, "label": n.label, "kind": n.kind,
                  **({"value": float(n.value.reshape(()))} if n.value.size == 1
                     else {"shape": list(n.value.shape)})} for n in self.nodes]
        out = {"expression": self.expression, "output": self._name(self.output), "mode": mode,
               "nodes": nodes,
               "edges": [{"from": self._name(e.parent), "to": self._name(e.child),
                          "derivative": e.derivative} for e in self.edges]}
        if self.value.size == 1:
            out["value"] = float(self.value.reshape(()))
        if not self.scalar:
            return out
        o = self._name(self.output)
        if mode == "reverse":
            adjoint, _ = self.reverse()
            out["adjoints"] = {n.name: a for n, a in zip(self.nodes, adjoint)}
            out["gradients"] = {self._name(i): adjoint[i] for i in self.inputs}
        elif mode == "forward":
            out["tangents"] = {self._name(i): dict(zip((n.name for n in self.nodes),
                                                        self.forward(i)[0])) for i in chosen}
            out["gradients"] = {x: t[o] for x, t in out["tangents"].items()}
        else:
            out["paths"] = {self._name(i): [
                {"nodes": [self._name(k) for k in nodes], "factors": factors, "product": p}
                for nodes, factors, p in self.paths(i)] for i in chosen}
            out["gradients"] = {x: float(sum(p["product"] for p in found))
                                for x, found in out["paths"].items()}
        out["cost"] = self.cost()
        return out

    def to_text(self, mode="reverse", wrt=None) -> str:
        """The graph and the chosen mode's computation, one line per step."""
        return diagram_render.to_text(self, mode, wrt)

    def to_dot(self, mode="reverse", wrt=None) -> str:
        """Graphviz DOT, inputs at the bottom as in colah's figures."""
        return diagram_render.to_dot(self, mode, wrt)

    def to_svg(self, mode="reverse", wrt=None) -> str:
        """SVG drawn by Graphviz's ``dot`` program (RunFailed when it is not installed)."""
        return diagram_render.to_svg(self, mode, wrt)

    def _repr_svg_(self):
        """Jupyter's view: the graph drawn with its local derivatives (no Graphviz needed)."""
        from chainrule.explanations.drawing import graph_svg

        return graph_svg(self)

    def _repr_html_(self):
        """The drawing and the output's derivative for every input."""
        from chainrule.explanations.display import graph_html

        return graph_html(self)

    def render(self, fmt="text", mode="reverse", wrt=None) -> str:
        """``fmt`` one of text, json, dot, svg.

        >>> import json
        >>> json.loads(trace(lambda a: a * a, 3.0).render("json", "paths"))["gradients"]
        {'a': 6.0}
        """
        if fmt == "json":
            try:
                return json.dumps(self.to_dict(mode, wrt), indent=1, allow_nan=False)
            except ValueError:
                raise RunFailed("the graph holds an infinite or NaN value or derivative, "
                                "which JSON cannot carry; use --format text") from None
        renderers = {"text": self.to_text, "dot": self.to_dot, "svg": self.to_svg}
        if fmt not in renderers:
            raise InputError(f"unknown format {quoted(fmt)}; choose one of {', '.join(FORMATS)}")
        return renderers[fmt](mode, wrt)


# -- recording ------------------------------------------------------------------------------------
def _namer(input_names):
    """Names for intermediate nodes: the letters after the inputs' (a, b -> c, d, e...)."""
    used = set(input_names)
    singles = [n for n in input_names if len(n) == 1 and n in string.ascii_lowercase]
    start = string.ascii_lowercase.index(max(singles)) + 1 if singles else 0
    letters = string.ascii_lowercase[start:] + string.ascii_lowercase[:start]
    pool = iter([c for c in letters if c not in used])
    k = 0
    while True:
        name = next(pool, None)
        while name is None or name in used:
            k += 1
            name = f"v{k}"
        used.add(name)
        yield name


def _label(node, names):
    args = []
    for arg in node.inputs or ():
        args.append(names.get(id(arg)) or _const(arg.numpy() if hasattr(arg, "numpy") else arg))
    op = node.op
    if op in _SYMBOLS and len(args) == 2:
        return f"{args[0]} {_SYMBOLS[op]} {args[1]}"
    if op == "neg":
        return f"-{args[0]}"
    extra = [f"{k}={v}" for k, v in (node.params or {}).items() if v not in (None, False)]
    return f"{op}({', '.join(args + extra)})"


def trace(f, *inputs, names=None) -> Graph:
    """The computational graph of ``f(*inputs)`` recorded by the engine.

    Inputs become ``requires_grad`` tensors named after ``f``'s parameters (or ``names``).
    Scalars give values and local derivatives on every edge; tensors give shapes.

    >>> g = trace(lambda x: x * x + 1, 3.0)
    >>> print(g.to_text().splitlines()[3])
      z = y + 1  = 10  (output)
    """
    import chainrule as cr
    from chainrule.engine.graph import local_derivatives, toposort
    from chainrule.engine.tensor import Tensor

    if names is None:
        try:
            params = list(inspect.signature(f).parameters.values())
        except (TypeError, ValueError):
            params = []
        plain = all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
        names = ([p.name for p in params] if plain and len(params) == len(inputs)
                 else [f"x{i + 1}" for i in range(len(inputs))])
    if len(names) != len(inputs) or len(set(names)) != len(names):
        raise InputError(f"trace: need {len(inputs)} distinct input names, got {names}")
    leaves = []
    for x in inputs:
        value = np.asarray(x.numpy() if isinstance(x, Tensor) else x)
        if value.dtype.kind not in "fc":
            value = value.astype(np.float64)
        leaves.append(cr.tensor(value, requires_grad=True))
    out = f(*leaves)
    if not (type(out) is Tensor and out.requires_grad):  # does not depend on any input
        out = cr.tensor(np.asarray(out.numpy() if type(out) is Tensor else out))
        order = [out]
    else:
        order = toposort(out)
    # inputs first, in the order given (unused ones as isolated nodes), then the rest in order
    given_ids = {id(t) for t in leaves}
    order = leaves + [t for t in order if id(t) not in given_ids]
    ids = {id(t): i for i, t in enumerate(order)}
    given = {id(t): n for t, n in zip(leaves, names)}
    namer = _namer(names)
    node_names, nodes, edges = {}, [], []
    scalar = all(t.size == 1 for t in order)
    for i, t in enumerate(order):
        if t.op is None:
            name = given.get(id(t)) or next(namer)
            kind = "input" if (id(t) in given or t.requires_grad) else "constant"
            label = name
        else:
            name, kind = next(namer), "op"
            label = f"{name} = {_label(t, node_names)}"
            derivatives = local_derivatives(t) if scalar else [None] * len(t.parents)
            for parent, d in zip(t.parents, derivatives):
                edges.append(Edge(ids[id(parent)], i, None if d is None else float(d)))
        node_names[id(t)] = name
        nodes.append(Node(name, t.op, label, np.asarray(t.numpy()), kind))
    return Graph(nodes, edges, ids[id(out)])


def graph_report(expression: str, at: dict, mode="reverse", wrt=None, fmt="text") -> str:
    """``chainrule graph``: the expression's graph at the values ``at``, rendered as ``fmt``.

    >>> print(graph_report("a*b", {"a": 3, "b": 4}, fmt="json"))  # doctest: +ELLIPSIS
    {...
     "gradients": {
      "a": 4.0,
      "b": 3.0
     },...
    """
    from chainrule.engine import ops
    from chainrule.explanations import expr

    if mode not in MODES:
        raise InputError(f"unknown mode {quoted(mode)}; choose one of {', '.join(MODES)}")
    if fmt not in FORMATS:
        raise InputError(f"unknown format {quoted(fmt)}; choose one of {', '.join(FORMATS)}")
    tree = expr.parse(expression)
    names = expr.names(tree)
    extra = [n for n in at if n not in names]
    if extra:
        raise InputError(f"--at gives {quoted(extra[0])}, which is not in the expression "
                         f"(its names: {', '.join(names) or 'none'})")
    missing = [n for n in names if n not in at]
    if missing:
        raise InputError(f"--at has no value for {', '.join(missing)}")
    values = []
    for n in names:
        try:
            values.append(float(at[n]))
        except (TypeError, ValueError):
            raise InputError(f"--at: value of {n} must be a number, got {quoted(at[n])}") from None
        if not np.isfinite(values[-1]):
            raise InputError(f"--at: value of {n} must be finite, got {values[-1]}")
    functions = {name: getattr(ops, name) for name in expr.FUNCTIONS}
    with np.errstate(all="ignore"):
        graph = trace(lambda *xs: expr.evaluate(tree, dict(zip(names, xs)), functions),
                      *values, names=names)
    if not np.isfinite(graph.value).all() and not graph.inputs:
        raise InputError(f"{expression.strip()} is {_fmt(graph.value)}: too large for a float "
                         "or outside a function's domain")
    for n in graph.nodes:
        if not np.all(np.isfinite(n.value)):
            raise InputError(f"{n.label} is {_fmt(n.value)} at {_at(names, values)}: outside "
                             "its domain or too large for a float")
    for e in graph.edges:
        if not np.isfinite(e.derivative):
            c, p = graph.nodes[e.child], graph.nodes[e.parent]
            raise InputError(f"∂{c.name}/∂{p.name} is {_fmt(e.derivative)} for {c.label} at "
                             f"{_at(names, values)}: not differentiable there")
    adjoint, _ = graph.reverse()  # products of finite edge derivatives can still overflow
    for n, g in zip(graph.nodes, adjoint):
        if not np.isfinite(g):
            raise InputError(f"d{graph.nodes[graph.output].name}/d{n.name} is {_fmt(g)} at "
                             f"{_at(names, values)}: the derivative is too large for a float")
    graph.expression = expr.to_text(tree)
    return graph.render(fmt, mode, wrt)


def _at(names, values):
    return ", ".join(f"{n}={_fmt(v)}" for n, v in zip(names, values)) or "no values"
