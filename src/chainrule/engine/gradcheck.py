"""Gradient checking: central differences in float64 against reverse and forward mode.

Every entry of the Jacobian is estimated as ``(f(x + εe_k) - f(x - εe_k)) / 2ε`` (error O(ε²),
Coursera ML ex4's gradient checking) and compared with the engine's reverse-mode Jacobian (one
backward pass per output entry) and forward-mode Jacobian (one forward pass per input entry).
An entry passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.

>>> import chainrule as cr
>>> result = cr.gradcheck(lambda x: cr.sum(cr.tanh(x) ** 2), np.array([0.3, -1.2]))
>>> result.ok
True

:func:`check_grads` (autograd's name and signature) asserts the same to any order: at order 2
it also checks the derivative functions themselves (a vjp and a jvp) in both modes, so a new
op's rules are known to be right when differentiated again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from chainrule.engine.api import jacfwd, jacrev, jvp, vjp
from chainrule.engine.graph import MissingJvpRule
from chainrule.engine.ops_shape import concatenate, reshape
from chainrule.engine.tensor import Tensor
from chainrule.errors import InputError

MODES = ("rev", "fwd")


@dataclass
class GradcheckResult:
    """What ``gradcheck`` found. ``worst`` is the entry that came closest to (or furthest past)
    its tolerance: ``{"mode", "input", "index", "output_index", "analytic", "numeric"}``."""

    ok: bool
    max_abs_error: float
    max_rel_error: float
    worst: dict | None
    modes: tuple
    entries: int
    skipped: dict = field(default_factory=dict)
    atol: float = 1e-5
    rtol: float = 1e-3

    def to_dict(self):
        """Plain JSON-serialisable fields (for ``--json`` output)."""
        return {**asdict(self), "modes": list(self.modes)}

    def __str__(self):
        verdict = "ok" if self.ok else "FAILED"
        lines = [f"gradcheck {verdict}: {self.entries} Jacobian entries, modes "
                 f"{'+'.join(self.modes) or 'none'} (atol {self.atol:g}, rtol {self.rtol:g})",
                 f"  max abs error {self.max_abs_error:.3g}, max rel error "
                 f"{self.max_rel_error:.3g}"]
        if self.worst is not None:
            w = self.worst
            lines.append(f"  worst: input {w['input']} index {w['index']} (output index "
                         f"{w['output_index']}), {w['mode']} mode: analytic {w['analytic']:.8g}"
                         f" vs numeric {w['numeric']:.8g}")
        lines += [f"  skipped {mode}: {why}" for mode, why in self.skipped.items()]
        return "\n".join(lines)

    def _repr_markdown_(self):
        """Jupyter's view: the verdict in bold, the errors and the worst entry below it."""
        verdict, *details = str(self).split("\n")
        return f"**{verdict}**\n\n```\n" + "\n".join(d.strip() for d in details) + "\n```"


def _as_float64(x, i):
    array = x.numpy() if isinstance(x, Tensor) else np.asarray(x)
    if array.dtype.kind not in "fiub":
        raise InputError(f"gradcheck: input {i} is not numeric (dtype {array.dtype})")
    if array.dtype.kind != "f":
        raise InputError(f"gradcheck needs float inputs; input {i} has dtype {array.dtype}")
    return array.astype(np.float64)


def _evaluate(f, xs):
    out = f(*xs)
    return (out.numpy() if isinstance(out, Tensor) else np.asarray(out)).astype(np.float64)


def numeric_jacobian(f, xs, i, eps):
    """Central differences for input ``i``: shape ``(out.size, xs[i].size)``."""
    x = xs[i]
    columns = []
    for k in range(x.size):
        step = np.zeros(x.size)
        step[k] = eps
        step = step.reshape(x.shape)
        plus = _evaluate(f, [*xs[:i], x + step, *xs[i + 1:]])
        minus = _evaluate(f, [*xs[:i], x - step, *xs[i + 1:]])
        columns.append(((plus - minus) / (2 * eps)).ravel())
    return np.stack(columns, axis=1) if columns else np.zeros((_evaluate(f, xs).size, 0))


def gradcheck(f, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, modes=MODES):
    """Compare ``f``'s derivatives from the engine with central differences, in float64.

    ``f(*inputs)`` returns an array (any shape). Forward mode is skipped (and said so in
    ``result.skipped``) when ``f`` uses a user primitive without a jvp rule.
    """
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise InputError(f"gradcheck: modes must be chosen from {MODES}, got {modes!r}")
    if not inputs:
        raise InputError("gradcheck: give at least one input array")
    if not (eps > 0 and atol >= 0 and rtol >= 0):
        raise InputError(f"gradcheck: need eps > 0, atol >= 0, rtol >= 0 (got eps={eps}, "
                         f"atol={atol}, rtol={rtol})")
    xs = [_as_float64(x, i) for i, x in enumerate(inputs)]
    argnums = tuple(range(len(xs)))
    numeric = [numeric_jacobian(f, xs, i, eps) for i in argnums]
    out_shape = _evaluate(f, xs).shape

    checked, skipped = [], {}
    worst, worst_ratio, max_abs, max_rel = None, -1.0, 0.0, 0.0
    for mode in modes:
        transform = jacrev if mode == "rev" else jacfwd
        try:
            analytic = transform(f, argnums)(*xs)
        except MissingJvpRule as e:
            skipped[mode] = str(e)
            continue
        checked.append(mode)
        for i, (a, n) in enumerate(zip(analytic, numeric)):
            a = np.asarray(a, dtype=np.float64).reshape(n.shape)
            error = np.abs(a - n)
            if error.size == 0:
                continue
            scale = np.maximum(np.abs(a), np.abs(n))
            rel = np.divide(error, scale, out=np.zeros_like(error), where=scale > 0)
            max_abs, max_rel = max(max_abs, float(error.max())), max(max_rel, float(rel.max()))
            ratio = error / (atol + rtol * np.abs(n))
            flat = int(np.nanargmax(ratio)) if not np.isnan(ratio).all() else 0
            if ratio.flat[flat] > worst_ratio or np.isnan(ratio.flat[flat]):
                out_k, in_k = np.unravel_index(flat, n.shape)
                worst_ratio = float(ratio.flat[flat])
                worst = {"mode": mode, "input": i,
                         "index": tuple(int(j) for j in np.unravel_index(in_k, xs[i].shape)),
                         "output_index": tuple(int(j) for j in np.unravel_index(out_k, out_shape)),
                         "analytic": float(a.flat[flat]), "numeric": float(n.flat[flat])}
    ok = bool(checked) and (worst is None or worst_ratio <= 1.0)
    entries = int(sum(n.size for n in numeric))
    return GradcheckResult(ok, max_abs, max_rel, worst, tuple(checked), entries, skipped,
                           atol, rtol)


def check_grads(f, *inputs, modes=("fwd", "rev"), order=2, eps=1e-6, atol=1e-5, rtol=1e-4):
    """Assert that ``f``'s derivatives in ``modes`` agree with central differences, up to ``order``.

    HIPS autograd's ``check_grads``. Order 1 is :func:`gradcheck` in every mode asked for (a
    mode that cannot run, such as forward mode through a primitive without a jvp rule, fails
    the check). Order k then checks, at order k − 1, the derivative functions themselves: the
    vector-Jacobian product ``xs ↦ vjp(f, *xs)(v)`` ("rev") and the Jacobian-vector product
    ``xs ↦ jvp(f, xs, t)`` ("fwd") for a fixed random v and t — reverse over reverse, forward
    over reverse, reverse over forward and forward over forward at order 2. Raises
    ``AssertionError`` naming the order and the worst entry; returns None when all hold.

    >>> import chainrule as cr
    >>> cr.check_grads(lambda x, y: cr.sum(cr.sin(x) * y ** 2), [0.1, 0.7], [1.5, -2.0])
    >>> bad = cr.primitive(lambda x: x ** 2, lambda g, out, x: (g * x,), name="half_wrong")
    >>> cr.check_grads(lambda x: cr.sum(bad(x)), [1.0], modes="rev", order=1)
    Traceback (most recent call last):
    ...
    AssertionError: check_grads at order 1 of <lambda>: gradcheck FAILED: 1 Jacobian entries, ...
    """
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise InputError(f"check_grads: order must be an integer >= 1, got {order!r}")
    xs = [_as_float64(x, i) for i, x in enumerate(inputs)]
    _check_order(f, xs, modes, order, 1, dict(eps=eps, atol=atol, rtol=rtol))


def _check_order(f, xs, modes, order, depth, tolerances):
    result = gradcheck(f, *xs, modes=modes, **tolerances)
    name = getattr(f, "__name__", type(f).__name__)
    if not result.ok or set(result.modes) != set(modes):
        detail = "; ".join(str(result).splitlines())
        raise AssertionError(f"check_grads at order {depth} of {name}: {detail}")
    if depth == order:
        return
    rng = np.random.default_rng(1234)
    cotangent = rng.normal(size=_evaluate(f, xs).shape)
    tangents = [rng.normal(size=x.shape) for x in xs]

    def vjp_of_f(*args):
        return concatenate([reshape(g, (-1,)) for g in vjp(f, *args)[1](cotangent)])

    def jvp_of_f(*args):
        return jvp(f, args, tangents)[1]

    for mode, derivative in (("rev", vjp_of_f), ("fwd", jvp_of_f)):
        if mode in modes:
            _check_order(derivative, xs, modes, order, depth + 1, tolerances)
