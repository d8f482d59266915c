"""chainrule: backpropagation you can read, check and run fast.

>>> import chainrule as cr
>>> cr.grad(lambda a, b: (a + b) * (b + 1), argnums=(0, 1))(2.0, 1.0)
(array(2.), array(5.))

The engine (small, NumPy only) is imported here; everything heavier (the network,
optimisers, data, plots) is loaded on first use so that ``import chainrule`` stays fast.
The package's rooms: ``engine`` (autodiff), ``nn`` (the network and BP1-BP4), ``training``
(``cr.train``, optimisers, schedules, checkpoints), ``explanations`` (ledger, graphs, plots),
``data``, ``cli`` (the command line) and ``_fast`` (BLAS, C kernels: speed only).
"""

from __future__ import annotations

import importlib

from chainrule.engine import (
    ComplexValueError,
    GradcheckResult,
    Tensor,
    abs,
    check_grads,
    clip,
    concatenate,
    cos,
    cumsum,
    exp,
    grad,
    gradcheck,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    leaky_relu,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    no_grad,
    primitive,
    prod,
    relu,
    reshape,
    sigmoid,
    sin,
    softmax,
    sqrt,
    stack,
    std,
    sum,
    tanh,
    tensor,
    transpose,
    value_and_grad,
    var,
    vjp,
    where,
)

__version__ = "0.1.0"

# lazily loaded: public name -> (module, attribute or None for the module itself)
_LAZY = {
    "numpy": ("chainrule.numpy", None),
    "nn": ("chainrule.nn", None),
    "optim": ("chainrule.training.optim", None),
    "data": ("chainrule.data", None),
    "plots": ("chainrule.explanations.plots", None),
    "training": ("chainrule.training", None),
    "schedules": ("chainrule.training.schedules", None),
    "kernels": ("chainrule._fast.kernels", None),
    "train": ("chainrule.training", "train"),
    "History": ("chainrule.training", "History"),
    "explain": ("chainrule.explanations", "explain"),
    "trace": ("chainrule.explanations", "trace"),
    "distributed": ("chainrule.distributed", None),
    "sweep": ("chainrule.distributed.sweep", "sweep"),
}

__all__ = [
    "ComplexValueError", "cumsum", "logsumexp", "min", "prod", "std", "var",
    "GradcheckResult", "Tensor", "abs", "check_grads", "clip", "concatenate", "cos", "exp",
    "grad", "gradcheck", "hessian", "jacfwd", "jacrev", "jvp", "leaky_relu", "log", "log_softmax",
    "matmul", "max",
    "maximum", "mean", "minimum", "no_grad", "primitive", "relu", "reshape", "sigmoid", "sin",
    "softmax",
    "sqrt", "stack", "sum", "tanh", "tensor", "transpose", "value_and_grad", "vjp", "where",
    *_LAZY,
]


def _numpy_protocol(name):
    """NumPy's protocol ``name`` for Tensor until chainrule.numpy is loaded: the first NumPy
    function called on a Tensor loads it, which puts the real protocols in place. So
    ``np.exp(t)`` always runs chainrule.numpy's twin, and ``import chainrule`` stays light."""
    def first_call(self, *args, **kwargs):
        importlib.import_module("chainrule.numpy")
        return getattr(Tensor, name)(self, *args, **kwargs)
    first_call.__name__ = name
    return first_call


Tensor.__array_ufunc__ = _numpy_protocol("__array_ufunc__")
Tensor.__array_function__ = _numpy_protocol("__array_function__")


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # cache: the next lookup is a plain attribute
    return value


def __dir__():
    return __all__
