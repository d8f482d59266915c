"""The graph: iterative topological order, the backward pass, ``no_grad``, edge derivatives.

A node is a ``Tensor`` made by a primitive. For the graph drawer and for readers:

- ``node.parents``: the tensors it was computed from (its incoming edges), ``node.op``: the
  primitive's name ("add", "mul", "exp", ...; None for a leaf), ``node.numpy()``: its value;
- ``toposort(output)``: every node ``output`` depends on, inputs first, ``output`` last;
- ``local_derivatives(node)``: ∂node/∂parent for each parent (scalar nodes), the numbers the
  seeds write on the edges of a computational graph.

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

import numpy as np

from chainrule.errors import InputError
from chainrule.tensor import Tensor


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


def toposort(output):
    """Nodes ``output`` depends on (at its level), in topological order, ``output`` last.

    Iterative depth-first search with an explicit stack, so a chain of 100,000 ops is fine.
    """
    if type(output) is not Tensor:
        raise InputError(f"toposort: expected a Tensor, got {type(output).__name__}")
    level = output.level
    order, seen = [], set()
    stack = [(output, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:  # all its inputs are in ``order`` already
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        if node.inputs is None:
            continue
        for parent in reversed(node.inputs):  # reversed: the first argument is visited first
            if type(parent) is Tensor and parent.level == level and id(parent) not in seen:
                stack.append((parent, False))
    return order


def _unboxed(node):
    level = node.level
    return [(a.value if a.level == level else a.numpy() if a.level < 0 else a)
            if type(a) is Tensor else a for a in node.inputs]


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
        args = _unboxed(node)
        out, params = node.value, node.params
        for i, parent in enumerate(node.inputs):
            if type(parent) is not Tensor or parent.level != level:
                continue
            g_parent = prim.vjp_rule(i)(g, out, *args, **params)
            shape = args[i].shape
            if g_parent.shape != shape:  # the op broadcast this parent: undo it (sum_to)
                g_parent = _ops.sum_to(g_parent, shape)
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
        if int(np.prod(shape)) != 1:
            raise InputError(f"backward: output has shape {shape}; a non-scalar output needs "
                             "a cotangent of that shape, e.g. y.backward(np.ones_like(...))")
        cotangent = np.ones(shape, dtype=output.dtype)
    else:
        cotangent = cotangent.numpy() if isinstance(cotangent, Tensor) else np.asarray(cotangent)
        if cotangent.shape != shape:
            raise InputError(f"backward: cotangent has shape {cotangent.shape} but the output "
                             f"has shape {shape}")
        cotangent = cotangent.astype(output.dtype, copy=False)
    for leaf, g in backward_pass(output, cotangent).values():
        g = writable(g)
        leaf.grad = g if leaf.grad is None else leaf.grad + g


def writable(g):
    """A gradient safe to hand to a user (who may update it in place): an ndarray we own."""
    if type(g) is Tensor:
        return g
    g = np.asarray(g)
    return g if g.flags.writeable and g.base is None else g.copy()


def local_derivatives(node):
    """∂node/∂parent for each of ``node.parents``, from the primitive's own vjp rule.

    Node and parents must be scalars (size 1): these are the labels on the seeds' edges.
    """
    if type(node) is not Tensor:
        raise InputError(f"local_derivatives: expected a Tensor, got {type(node).__name__}")
    if node.prim is None:
        return ()
    if int(np.prod(node.shape)) != 1:
        raise InputError(f"local_derivatives: node '{node.op}' has shape {node.shape}; edge "
                         "labels need scalar nodes")
    args, level = _unboxed(node), node.level
    one = np.ones(node.shape, dtype=node.dtype)
    result = []
    for i, parent in enumerate(node.inputs):
        if type(parent) is Tensor and parent.level == level:
            d = node.prim.vjp_rule(i)(one, node.value, *args, **node.params)
            result.append(np.asarray(_ops._raw(_ops.sum_to(d, args[i].shape))))
    return tuple(result)


from chainrule import ops as _ops  # noqa: E402  (ops builds on Tensor and this module)
