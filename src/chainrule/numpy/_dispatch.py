"""NumPy's functions called on a Tensor (``np.exp(t)``, ``np.sum(t)``, ``ndarray * t``) run
chainrule.numpy's twin of the function, through NumPy's two protocols for array types
(``__array_ufunc__``, NEP 13, and ``__array_function__``, NEP 18, as CuPy and Dask implement
them); a function without a twin is refused with a TypeError that says so, never answered with
a silent, non-differentiable result. ``np.asarray(t)`` remains the explicit way to a plain array.
"""

from __future__ import annotations

from chainrule.engine.tensor import Tensor


def _twin(namespace, function):
    twin = getattr(namespace, getattr(function, "__name__", ""), None)
    return twin if getattr(twin, "numpy_function", None) is function else None


def install(cnp, linalg):
    """Give Tensor the two protocols, answered by the functions of ``cnp`` and ``linalg``."""
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        twin = _twin(cnp, ufunc)
        if method == "__call__" and not kwargs and twin is not None:
            return twin(*inputs)
        call = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        if "out" in kwargs:
            raise TypeError(f"{call}(..., out=...) cannot write a chainrule Tensor into an array: "
                            "write a = a + t, not a += t")
        if method != "__call__":
            raise TypeError(f"{call} does not differentiate chainrule Tensors: use "
                            "chainrule.numpy's sum, prod, cumsum, max, ... instead")
        if twin is not None:
            raise TypeError(f"{call} with {sorted(kwargs)} on a chainrule Tensor: call "
                            f"chainrule.numpy.{ufunc.__name__} without them")
        raise TypeError(f"{call} does not differentiate chainrule Tensors and chainrule.numpy "
                        f"has no {ufunc.__name__}: convert with t.numpy() for a value without a "
                        "derivative")

    def __array_function__(self, function, types, args, kwargs):
        module = getattr(function, "__module__", "") or ""
        namespace = linalg if module.endswith("linalg") else cnp
        twin = _twin(namespace, function)
        if twin is None:
            room = module.removeprefix("numpy").lstrip(".")
            name = (room + "." if room and not room.startswith("_") else "") + getattr(
                function, "__name__", repr(function))
            raise TypeError(f"numpy.{name} does not differentiate chainrule Tensors and "
                            f"chainrule.numpy has no {name}: convert with t.numpy() for a value "
                            "without a derivative, or write it with chainrule.numpy's functions")
        return twin(*args, **kwargs)

    Tensor.__array_ufunc__ = __array_ufunc__
    Tensor.__array_function__ = __array_function__
