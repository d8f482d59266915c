"""The graph: primitives, the forward pass (``apply``), topological order, the backward pass,
``no_grad``, and un-broadcasting (``sum_to``, ``broadcast_to``).

A :class:`Primitive` is one row of the table (ops.py, ops_shape.py): its forward function and
its rules. ``apply(prim, args, params)`` runs it on tensors: it computes the value, and records
a node (reverse mode) or pushes the tangent along (forward mode). Broadcasting is undone in one
place, the backward pass (``sum_to``), and done in one, the forward-mode push
(``broadcast_to``); the two are rows of the table defined here, each the other's transpose.

A node is a ``Tensor`` made by a primitive. For the graph drawer and for readers:

- ``node.parents``: the tensors it was computed from (its incoming edges), ``node.op``: the
  primitive's name ("add", "mul", "exp", ...; None for a leaf), ``node.numpy()``: its value;
- ``toposort(output)``: every node ``output`` depends on, inputs first, ``output`` last;
- ``local_derivatives(node)``: ∂node/∂parent for each parent (scalar nodes), the numbers
  written on the edges of a computational graph (colah, "Calculus on Computational Graphs").

The backward pass walks the nodes in reverse topological order. Each node's cotangent
(∂output/∂node) is complete once every node that uses it has been visited; it is pulled back
to the node's parents with the primitive's vjp rules and *added* to what they already hold
(a node used twice, fan-out, receives the sum). Cotangents live in a dict local to the pass,
so nothing from one pass leaks into the next.

>>> import chainrule as cr
>>> a, b = cr.tensor(2.0, requires_grad=True), cr.tensor(1.0, requires_grad=True)
>>> e = (a + b) * (b + 1)
>>> [node.op for node in toposort(e)]
[None, None, 'add', 'add', 'mul']
>>> [float(d) for d in local_derivatives(e)]   # ∂e/∂c = d = b + 1, ∂e/∂d = c = a + b
[2.0, 3.0]
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.engine.tensor import Tensor, raw, refuse_complex
from chainrule.errors import InputError


class _State:
    __slots__ = ("grad_enabled",)

    def __init__(self):
        self.grad_enabled = True


STATE = _State()


class no_grad:
    """Context manager: operations on ``requires_grad`` tensors inside it are not recorded.

    Functional transformations (``cr.grad`` and friends) are not affected.

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> with cr.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    def __enter__(self):
        self._previous = STATE.grad_enabled
        STATE.grad_enabled = False
        return self

    def __exit__(self, *exc):
        STATE.grad_enabled = self._previous
        return False


# -- the forward pass: running a primitive on tensors ------------------------------------------
_EMPTY: dict = {}  # shared "no parameters" (never mutated)
_new = object.__new__
_AxisError = getattr(np, "exceptions", np).AxisError  # np.exceptions is NumPy >= 1.25


class Primitive:
    """One row of the table: ``forward`` on NumPy arrays and the rules of both modes.

    ``vjp``/``jvp``: a tuple with one rule per argument, ``rule(g, out, *args, **params)`` and
    ``rule(t, out, *args, **params)``, or, for ops with any number of arguments,
    ``vjp(i) -> rule`` and ``jvp(tangents, out, *args)``. ``verb`` completes the error for
    operands that do not fit: "shapes ... do not <verb>".
    """

    __slots__ = ("name", "forward", "vjp", "jvp", "verb")

    def __init__(self, name, forward, vjp, jvp=None, verb="broadcast"):
        self.name, self.forward, self.vjp, self.jvp, self.verb = name, forward, vjp, jvp, verb

    def vjp_rule(self, i):
        return self.vjp[i] if type(self.vjp) is tuple else self.vjp(i)

    def __call__(self, *args, **params):
        return apply(self, args, params or _EMPTY)

    def __repr__(self):
        return f"<primitive {self.name}>"


class MissingJvpRule(InputError):
    """Forward mode reached a primitive that was given no jvp rule."""


def _make(value, level, prim=None, inputs=None, args=None, params=None, tangent=None):
    node = _new(Tensor)
    node.value, node.level, node.prim, node.inputs, node.args = value, level, prim, inputs, args
    node.params, node.tangent, node.grad = params, tangent, None
    return node


def apply(prim, args, params):
    """Run ``prim`` on ``args`` (arrays, scalars or tensors) and record what is watched.

    With no tensor among the args this is just ``prim.forward`` (how rules run on plain arrays,
    fast). Otherwise the highest level among the args is peeled off, the op is applied one
    level down, and the result is boxed again at that level: a graph node (reverse mode) or a
    value with its tangent pushed forward by the jvp rules (forward mode).
    """
    level = -2
    for a in args:
        if type(a) is Tensor and a.level > level:
            level = a.level
    if level == -2:
        return _forward(prim, args, params)
    out = _lift(prim, args, params, level)
    return out if type(out) is Tensor else _make(out, -1)  # constants in, a constant out


def _lift(prim, args, params, level):
    """``prim`` applied at ``level``: unbox that level (and constants), go one level down."""
    unboxed, below, top = [], -2, None
    for a in args:
        if type(a) is Tensor:
            if a.level == level:
                top, a = a, a.value
            elif a.level == -1:
                a = a.value
            if type(a) is Tensor and a.level > below:
                below = a.level
        unboxed.append(a)
    if below == -2:
        try:
            out = prim.forward(*unboxed, **params)
        except (ValueError, IndexError, TypeError) as e:
            raise InputError(_shape_message(prim, unboxed, e)) from None
    else:
        out = _lift(prim, unboxed, params, below)
    if level <= 0 and (level < 0 or not STATE.grad_enabled):
        return out  # a constant, or requires_grad tensors inside no_grad(): nothing to record
    if top.tangent is None:  # reverse mode: a new graph node (``_make`` inlined: the hot path)
        node = _new(Tensor)
        node.value, node.level, node.prim, node.inputs, node.args = out, level, prim, args, unboxed
        node.params, node.tangent, node.grad = params, None, None
        return node
    return _make(out, level, tangent=_push_tangent(prim, args, unboxed, out, params, level))


def _forward(prim, args, params):
    try:
        return prim.forward(*args, **params)
    except (ValueError, IndexError, TypeError) as e:
        raise InputError(_shape_message(prim, args, e)) from None


def _shape_message(prim, args, error):
    """One line for a failed forward: the op, the shapes, and what went wrong."""
    shapes = [_shape(a) for a in args if isinstance(a, np.ndarray | np.generic | Tensor)]
    if len(shapes) >= 2 and prim.verb and not isinstance(error, _AxisError):
        listed = ", ".join(map(str, shapes[:-1])) + f" and {shapes[-1]}"
        return f"{prim.name}: shapes {listed} do not {prim.verb}"
    shown = f" (shape{'s' if len(shapes) > 1 else ''} {', '.join(map(str, shapes))})"
    return f"{prim.name}: {error}{shown if shapes else ''}"


def _push_tangent(prim, args, unboxed, out, params, level):
    """Forward mode: the output's tangent from the inputs' tangents (jvp rules), one pass."""
    jvp = prim.jvp
    if jvp is None:
        raise MissingJvpRule(f"{prim.name}: forward mode needs a jvp rule, and this primitive has "
                         "none (give cr.primitive(forward, vjp, jvp=...))")
    if type(jvp) is tuple:
        tangent = None
        for i, a in enumerate(args):
            if type(a) is Tensor and a.level == level:
                part = jvp[i](a.tangent, out, *unboxed, **params)
                tangent = part if tangent is None else tangent + part
    else:
        tangents = [a.tangent if type(a) is Tensor and a.level == level
                    else np.zeros(_shape(u), _dtype(u)) for a, u in zip(args, unboxed)]
        tangent = jvp(tangents, out, *unboxed, **params)
    if _shape(tangent) != _shape(out):  # an input broadcast by the op: its tangent is too
        tangent = broadcast_to(tangent, _shape(out))
    return tangent


def _shape(x):
    return getattr(x, "shape", ())


def _dtype(x):
    return getattr(x, "dtype", np.dtype(np.float64))


# -- the backward pass ----------------------------------------------------------------------------
def toposort(output):
    """Nodes ``output`` depends on (at its level), in topological order, ``output`` last.

    Iterative depth-first search with an explicit stack, so a chain of 100,000 ops is fine.
    """
    if type(output) is not Tensor:
        raise InputError(f"toposort: expected a Tensor, got {type(output).__name__}")
    level = output.level
    order, seen = [], {id(output)}
    stack = [(output, iter(output.inputs or ()))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if type(parent) is Tensor and parent.level == level and id(parent) not in seen:
                seen.add(id(parent))
                stack.append((parent, iter(parent.inputs or ())))
                break
        else:  # every input of ``node`` is in ``order`` already
            stack.pop()
            order.append(node)
    return order


def backward_pass(output, cotangent):
    """Reverse mode from ``output`` seeded with ``cotangent``; returns ``{id(leaf): (leaf, g)}``.

    Leaves are the nodes without a primitive (inputs); ``g`` is ∂<output, cotangent>/∂leaf.
    """
    level = output.level
    grads = {id(output): cotangent}
    leaves = {}
    for node in reversed(toposort(output)):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        prim = node.prim
        if prim is None:
            leaves[id(node)] = (node, g)
            continue
        args, out, params, vjp = node.args, node.value, node.params, prim.vjp
        for i, parent in enumerate(node.inputs):
            if type(parent) is not Tensor or parent.level != level:
                continue
            rule = vjp[i] if type(vjp) is tuple else vjp(i)
            g_parent = rule(g, out, *args, **params)
            shape = args[i].shape
            if g_parent.shape != shape:  # the op broadcast this parent: undo it (sum_to)
                g_parent = sum_to(g_parent, shape)
            key = id(parent)
            held = grads.get(key)
            grads[key] = g_parent if held is None else held + g_parent  # fan-out adds up
    return leaves


def backward(output, cotangent=None):
    """``output.backward(cotangent)``: accumulate into ``.grad`` of each leaf it depends on."""
    if type(output) is not Tensor or not output.requires_grad:
        raise InputError("backward: this tensor is not part of a graph (make its inputs with "
                         "cr.tensor(..., requires_grad=True))")
    shape = output.shape
    if cotangent is None:
        if math.prod(shape) != 1:
            raise InputError(f"backward: output has shape {shape}; a non-scalar output needs "
                             "a cotangent of that shape, e.g. y.backward(np.ones_like(...))")
        cotangent = np.ones(shape, dtype=output.dtype)
    else:
        cotangent = cotangent.numpy() if isinstance(cotangent, Tensor) else np.asarray(cotangent)
        if cotangent.shape != shape:
            raise InputError(f"backward: cotangent has shape {cotangent.shape} but the output "
                             f"has shape {shape}")
        cotangent = cotangent.astype(output.dtype)  # a copy: never the caller's own array
    refuse_complex(output, "backward", "the output")
    handed_out = []
    for leaf, g in backward_pass(output, cotangent).values():
        refuse_complex(g, "backward", "a value in the graph")
        g = writable(g, handed_out)
        leaf.grad = g if leaf.grad is None else leaf.grad + g


def writable(g, handed_out=None):
    """A gradient safe to hand to a user who may update it in place: writable, and not sharing
    memory with the gradients in ``handed_out`` (``a + b`` gives ``a`` and ``b`` the very same
    cotangent). Views of the pass's own temporaries (say a transposed product) are kept as
    they are: nothing else refers to them, and copying a large one costs as much as an op.
    """
    if type(g) is Tensor:
        return g
    g = np.asarray(g)
    if not g.flags.writeable or (handed_out and any(np.may_share_memory(g, h)
                                                    for h in handed_out)):
        g = g.copy()
    if handed_out is not None:
        handed_out.append(g)
    return g


def local_derivatives(node):
    """∂node/∂parent for each of ``node.parents``, from the primitive's own vjp rule.

    Node and parents must be scalars (size 1): these are the labels on a computational
    graph's edges in colah's "Calculus on Computational Graphs".
    """
    if type(node) is not Tensor:
        raise InputError(f"local_derivatives: expected a Tensor, got {type(node).__name__}")
    if node.prim is None:
        return ()
    if int(np.prod(node.shape)) != 1:
        raise InputError(f"local_derivatives: node '{node.op}' has shape {node.shape}; edge "
                         "labels need scalar nodes")
    args, level = node.args, node.level
    one = np.ones(node.shape, dtype=node.dtype)
    result = []
    for i, parent in enumerate(node.inputs):
        if type(parent) is Tensor and parent.level == level:
            d = node.prim.vjp_rule(i)(one, node.value, *args, **node.params)
            result.append(np.asarray(raw(sum_to(d, args[i].shape))))
    return tuple(result)


# -- un-broadcasting: two rows of the table, each the other's transpose -------------------------
def _sum_to_forward(x, shape):
    """Sum ``x`` over the axes that broadcasting added or stretched, giving ``shape``."""
    x_shape = np.shape(x)
    if x_shape == shape:
        return x
    lead = len(x_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x_shape[lead + i] != 1)
    return np.reshape(np.sum(x, axis=axes, keepdims=True), shape) if axes else np.reshape(x, shape)


SUM_TO = Primitive("sum_to", _sum_to_forward,
    vjp=(lambda g, out, x, shape: broadcast_to(g, _shape(x)),),
    jvp=(lambda t, out, x, shape: sum_to(t, shape),))
BROADCAST_TO = Primitive("broadcast_to", np.broadcast_to,
    vjp=(lambda g, out, x, shape: sum_to(g, _shape(x)),),
    jvp=(lambda t, out, x, shape: broadcast_to(t, shape),))


def sum_to(x, shape):
    """Sum ``x`` down to ``shape``: undoes broadcasting (the backward pass's one place for it).
    >>> sum_to(np.ones((3, 2)), (2,))
    array([3., 3.])
    """
    return apply(SUM_TO, (x,), {"shape": tuple(shape)})


def broadcast_to(x, shape):
    """``x`` repeated to ``shape`` (NumPy broadcasting); the transpose of ``sum_to``.
    >>> broadcast_to(np.array([1.0, 2.0]), (2, 2))
    array([[1., 2.],
           [1., 2.]])
    """
    return apply(BROADCAST_TO, (x,), {"shape": tuple(shape)})
