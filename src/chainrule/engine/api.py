"""The functional API (JAX's signatures): grad, value_and_grad, vjp, jvp, jacfwd, jacrev, hessian.

Each call opens a fresh *level* (see tensor.py): the differentiated arguments are boxed at
that level, ``f`` runs, and the boxes are read back. ``grad`` is a special case of ``vjp``
(reverse mode, one backward pass); ``jvp`` is real forward mode (tangents travel with the
values, one pass). ``jacfwd`` makes one forward pass per input entry, ``jacrev`` one backward
pass per output entry. Results are NumPy arrays (tensors only while an outer transformation,
or a ``requires_grad`` input, is still watching them), so they nest: ``hessian(f) =
jacfwd(jacrev(f))``.

>>> import chainrule as cr
>>> f = lambda x: cr.sum(x ** 3)
>>> cr.grad(f)(np.array([1.0, 2.0]))
array([ 3., 12.])
>>> cr.hessian(f)(np.array([1.0, 2.0]))
array([[ 6.,  0.],
       [ 0., 12.]])
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from chainrule.engine.graph import _make, backward_pass, writable
from chainrule.engine.ops_shape import reshape, stack
from chainrule.engine.tensor import Tensor, refuse_complex
from chainrule.errors import InputError

_levels = itertools.count(1)  # level 0 is the requires_grad graph; -1 are constants


def _primal(x, who, i):
    """An argument as something to box: a tensor being watched elsewhere, or a float array."""
    if type(x) is Tensor and x.level >= 0:
        value = x
    else:
        value = x.numpy() if isinstance(x, Tensor) else x
        if not isinstance(value, np.ndarray | np.generic):
            try:
                value = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise InputError(f"{who}: argument {i} is not a number or array "
                                 f"({type(x).__name__})") from None
    refuse_complex(value, who, f"argument {i}")
    if value.dtype.kind != "f":
        raise InputError(f"{who} needs float inputs; argument {i} has dtype {value.dtype}")
    return value


def _export(x, handed_out=None):
    """Read a result back for the caller: an array, or a tensor an outer level still watches."""
    if type(x) is Tensor:
        return x if x.level >= 0 else writable(x.value, handed_out)
    return writable(x, handed_out)


def _unbox(x, level):
    """``x`` one level down (if it is a box of ``level``)."""
    return x.value if type(x) is Tensor and x.level == level else x


def _argnums(argnums, args, who):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not isinstance(i, int) or not -len(args) <= i < len(args):
            raise InputError(f"{who}: argnums {argnums!r} out of range for {len(args)} argument(s)")
    return tuple(i % len(args) for i in nums)


def _only(f, args, nums):
    """``f`` as a function of the arguments ``nums`` alone, the others fixed to ``args``."""
    def f_of(*watched):
        full = list(args)
        for i, w in zip(nums, watched):
            full[i] = w
        return f(*full)
    return f_of


def _export_tree(x, level):
    if isinstance(x, tuple | list):
        return type(x)(_export_tree(v, level) for v in x)
    if isinstance(x, dict):
        return {k: _export_tree(v, level) for k, v in x.items()}
    return _export(_unbox(x, level)) if type(x) is Tensor else x


def vjp(f, *primals, has_aux=False):
    """Run ``f(*primals)`` and return ``(out, vjp_fn)``; ``vjp_fn(cotangent)`` gives a tuple
    with ∂<out, cotangent>/∂primal_i for every primal (one backward pass per call).

    >>> out, vjp_fn = vjp(lambda x, y: x * y, 2.0, 3.0)
    >>> out, vjp_fn(1.0)
    (array(6.), (array(3.), array(2.)))
    """
    return _vjp(f, primals, has_aux, "vjp", range(len(primals)))


def _vjp(f, primals, has_aux, who, positions):
    """:func:`vjp`; errors name ``who`` and the argument's position among ``positions``."""
    level = next(_levels)
    leaves = [_make(_primal(p, who, i), level) for i, p in zip(positions, primals)]
    result = f(*leaves)
    out, aux = result if has_aux else (result, None)
    if isinstance(out, tuple | list):
        raise InputError("vjp: f must return one array (not a tuple); use has_aux=True for "
                         "extra outputs")
    value = _unbox(out, level)
    refuse_complex(value, "vjp", "the output of f")
    shape, dtype = np.shape(value), getattr(value, "dtype", np.dtype(np.float64))

    def vjp_fn(cotangent):
        g = cotangent if type(cotangent) is Tensor and cotangent.level >= 0 else np.asarray(
            cotangent.numpy() if isinstance(cotangent, Tensor) else cotangent)
        if g.shape != shape:
            raise InputError(f"vjp: cotangent has shape {g.shape} but the output has shape {shape}")
        if type(g) is not Tensor:
            g = g.astype(dtype)  # a copy: never the caller's own array
        found = backward_pass(out, g) if type(out) is Tensor and out.level == level else {}
        for _, g_leaf in found.values():  # a complex constant inside f makes them complex
            refuse_complex(g_leaf, "vjp", "a value inside f")
        handed_out = []
        return tuple(_export(found[id(leaf)][1], handed_out) if id(leaf) in found
                     else np.zeros(leaf.shape, leaf.dtype) for leaf in leaves)

    exported = _export(value)
    return (exported, vjp_fn, _export_tree(aux, level)) if has_aux else (exported, vjp_fn)


def value_and_grad(f, argnums=0, has_aux=False):
    """``f``'s value and its gradient with respect to argument(s) ``argnums`` (scalar ``f``).

    >>> value_and_grad(lambda x: x ** 2)(3.0)
    (array(9.), array(6.))
    """
    def value_and_grad_f(*args):
        nums = _argnums(argnums, args, "grad")
        result = _vjp(_only(f, args, nums), [args[i] for i in nums], has_aux, "grad", nums)
        out, vjp_fn = result[0], result[1]
        if math.prod(np.shape(out)) != 1:
            raise InputError(f"grad: f must return a scalar, got shape {np.shape(out)} "
                             "(use vjp or jacrev for non-scalar outputs)")
        grads = vjp_fn(np.ones(np.shape(out)))
        grads = grads[0] if isinstance(argnums, int) else grads
        return ((out, result[2]), grads) if has_aux else (out, grads)

    return value_and_grad_f


def grad(f, argnums=0, has_aux=False):
    """The gradient of scalar ``f`` with respect to argument(s) ``argnums`` (reverse mode).

    >>> grad(lambda a, b: (a + b) * (b + 1), argnums=(0, 1))(2.0, 1.0)
    (array(2.), array(5.))
    """
    vg = value_and_grad(f, argnums, has_aux)

    def grad_f(*args):
        value, grads = vg(*args)
        return (grads, value[1]) if has_aux else grads

    return grad_f


def jvp(f, primals, tangents):
    """Forward mode: ``(f(*primals), J·tangents)``, tangents pushed along with the values.

    >>> jvp(lambda x: x ** 3, (2.0,), (1.0,))
    (array(8.), array(12.))
    """
    if not isinstance(primals, tuple | list) or not isinstance(tangents, tuple | list):
        raise InputError("jvp: primals and tangents must be tuples, e.g. jvp(f, (x,), (v,))")
    if len(primals) != len(tangents):
        raise InputError(f"jvp: got {len(primals)} primal(s) but {len(tangents)} tangent(s)")
    level = next(_levels)
    duals = []
    for i, (p, t) in enumerate(zip(primals, tangents)):
        value = _primal(p, "jvp", i)
        if not (type(t) is Tensor and t.level >= 0):
            t = np.asarray(t.numpy() if isinstance(t, Tensor) else t).astype(value.dtype)
        if t.shape != value.shape:
            raise InputError(f"jvp: tangent {i} has shape {t.shape} but primal {i} has shape "
                             f"{value.shape}")
        duals.append(_make(value, level, tangent=t))
    out = f(*duals)
    if isinstance(out, tuple | list):  # several outputs: a tuple of values, one of tangents
        pairs = [_read_dual(o, level) for o in out]
        return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
    return _read_dual(out, level)


def _read_dual(out, level):
    refuse_complex(out, "jvp", "the output of f")
    if type(out) is Tensor and out.level == level:
        refuse_complex(out.tangent, "jvp", "a value inside f")
        return _export(out.value), _export(out.tangent)
    value = _export(out)  # does not depend on the primals: its tangent is zero
    return value, np.zeros(np.shape(value), getattr(value, "dtype", np.float64))


def _basis(shape, dtype):
    """The unit arrays e_k of ``shape``, one per entry."""
    n = int(np.prod(shape))
    eye = np.eye(n, dtype=dtype)
    return [eye[k].reshape(shape) for k in range(n)]


def _columns_to_jacobian(columns, in_shape):
    return _export(reshape(stack(columns, axis=-1), np.shape(columns[0]) + in_shape))


def jacfwd(f, argnums=0):
    """The Jacobian by forward mode: one jvp per input entry. Shape ``out.shape + in.shape``.

    >>> jacfwd(lambda x: x * x)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    def jac(*args):
        nums = _argnums(argnums, args, "jacfwd")
        jacobians = []
        for i in nums:
            x, f_i = _primal(args[i], "jacfwd", i), _only(f, args, (i,))
            basis = _basis(x.shape, x.dtype)
            if not basis:  # an empty input: an empty Jacobian
                jacobians.append(np.zeros(np.shape(f_i(x)) + x.shape, x.dtype))
                continue
            columns = [jvp(f_i, (x,), (e,))[1] for e in basis]  # column k = J e_k
            if isinstance(columns[0], tuple):  # several outputs: one Jacobian each
                jacobians.append(tuple(_columns_to_jacobian([c[k] for c in columns], x.shape)
                                       for k in range(len(columns[0]))))
            else:
                jacobians.append(_columns_to_jacobian(columns, x.shape))
        if isinstance(argnums, int):
            return jacobians[0]
        if jacobians and isinstance(jacobians[0], tuple):  # [input][output] -> [output][input]
            return tuple(zip(*jacobians))
        return tuple(jacobians)

    return jac


def jacrev(f, argnums=0):
    """The Jacobian by reverse mode: one backward pass per output entry.

    >>> jacrev(lambda x: x * x)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    def jac(*args):
        nums = _argnums(argnums, args, "jacrev")
        for i in nums:
            _primal(args[i], "jacrev", i)
        out, vjp_fn = vjp(_only(f, args, nums), *(args[i] for i in nums))
        out_shape = np.shape(out)
        rows = [vjp_fn(e) for e in _basis(out_shape, getattr(out, "dtype", np.float64))]
        jacobians = []
        for k, i in enumerate(nums):
            in_shape = np.shape(args[i])
            if not rows:
                jacobians.append(np.zeros(out_shape + in_shape))
                continue
            jacobians.append(_export(reshape(stack([r[k] for r in rows], axis=0),
                                             out_shape + in_shape)))
        return jacobians[0] if isinstance(argnums, int) else tuple(jacobians)

    return jac


def hessian(f, argnums=0):
    """The matrix of second derivatives of scalar ``f``: ``jacfwd(jacrev(f))`` (forward over
    reverse). With several ``argnums``, blocks ``H[i][j] = ∂²f/∂x_i∂x_j`` as JAX gives them.

    >>> hessian(lambda x, y: x * x * y, argnums=1)(3.0, 2.0)
    array(0.)
    >>> hessian(lambda x, y: x * x * y, argnums=(0, 1))(3.0, 2.0)
    ((array(4.), array(6.)), (array(6.), array(0.)))
    """
    return jacfwd(jacrev(f, argnums), argnums)
