"""The autodiff engine: tensors, the primitive table, reverse and forward mode, gradient checks.

Files in import order, each importing only those before it:

- ``tensor``    the value in a graph (no op, no calculus)
- ``graph``     primitives, the forward pass ``apply``, the backward pass, ``no_grad``,
  un-broadcasting
- ``ops_shape`` rows that move entries (reshape, transpose, indexing, matmul, concatenate, stack)
- ``ops``       rows that compute them (elementwise, reductions, softmax)
- ``ops_math``  NumPy's other elementwise functions (tan ... arctanh, log1p, mod, sign, astype)
- ``ops_reduce`` min, prod, var, std, cumsum, cumprod, logsumexp
- ``ops_index`` einsum, tensordot, dot, trace, diagonal, take, sort, ...; squeeze, moveaxis
- ``linalg``    inv, solve, det, slogdet, cholesky
- ``custom``    ``cr.primitive``: a user's own row
- ``methods``   Tensor's operators and methods, attached to the class
- ``api``       grad, value_and_grad, vjp, jvp, jacfwd, jacrev, hessian
- ``gradcheck`` central differences against both modes; ``check_grads`` to any order
"""

from __future__ import annotations

from chainrule.engine import methods as _methods  # noqa: F401  (gives Tensor its operators)
from chainrule.engine.api import grad, hessian, jacfwd, jacrev, jvp, value_and_grad, vjp
from chainrule.engine.custom import primitive
from chainrule.engine.gradcheck import GradcheckResult, check_grads, gradcheck
from chainrule.engine.graph import broadcast_to, no_grad, sum_to
from chainrule.engine.ops import (
    abs,
    add,
    clip,
    cos,
    div,
    exp,
    leaky_relu,
    log,
    log_softmax,
    max,
    maximum,
    mean,
    minimum,
    mul,
    neg,
    pow,
    relu,
    sigmoid,
    sin,
    softmax,
    sqrt,
    sub,
    sum,
    tanh,
    where,
)
from chainrule.engine.ops_reduce import cumsum, logsumexp, min, prod, std, var
from chainrule.engine.ops_shape import concatenate, getitem, matmul, reshape, stack, transpose
from chainrule.engine.tensor import ComplexValueError, Tensor, tensor

__all__ = [
    "ComplexValueError", "GradcheckResult", "Tensor", "abs", "cumsum", "logsumexp", "min", "prod",
    "std", "var", "add", "broadcast_to", "check_grads", "clip",
    "concatenate", "cos", "div", "exp", "getitem", "grad", "gradcheck", "hessian", "jacfwd",
    "jacrev", "jvp", "leaky_relu", "log", "log_softmax", "matmul", "max", "maximum", "mean",
    "minimum", "mul", "neg", "no_grad", "pow", "primitive", "relu", "reshape", "sigmoid", "sin",
    "softmax", "sqrt", "stack", "sub", "sum", "sum_to", "tanh", "tensor", "transpose",
    "value_and_grad", "vjp", "where",
]
