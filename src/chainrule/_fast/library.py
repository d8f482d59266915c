"""Which BLAS the hot path calls, and the thread counts of the BLAS libraries loaded.

NumPy and SciPy each bundle an OpenBLAS in their PyPI wheels. The hot path (``blas.gemm``,
``blas.axpy`` and the C step) calls one of them, :func:`library`: NumPy's where its Fortran
routines are found (faster here: docs/performance.md), else SciPy's. :func:`blas_libraries`
lists both with a thread-count setter that works from any thread (``threads`` uses it).

>>> sorted(library())
['ilp64', 'name', 'pointers', 'routines']
"""

from __future__ import annotations

import numpy as np

_LIBRARIES = None   # found once per process: threadpoolctl takes ~5 ms to find the libraries


class _Library:
    """One BLAS library's thread count, read and set from any thread.

    threadpoolctl sets an OpenBLAS count only from the first thread that set one (its
    "controlling thread") and silently ignores the others, yet OpenBLAS's pthreads count is
    one for the whole process; a run in a worker thread (a sweep's thread pool, the
    playground's server) calls OpenBLAS's own setter instead.
    """

    def __init__(self, controller):
        self.controller = controller
        self.dll = None       # the library through ctypes (OpenBLAS only)
        self._set = None
        if controller.internal_api == "openblas":
            import ctypes

            try:
                self.dll = ctypes.CDLL(controller.filepath)
            except OSError:   # pragma: no cover - threadpoolctl found it loaded
                return
            names = [f"{prefix}openblas_set_num_threads{suffix}"
                     for prefix in ("", "scipy_") for suffix in ("", "64_", "_64")]
            self._set = next((getattr(self.dll, n) for n in names if hasattr(self.dll, n)),
                             None)

    def get(self) -> int:
        return self.controller.get_num_threads()

    def set(self, threads: int):
        if self._set is not None:
            self._set(int(threads))
        else:
            self.controller.set_num_threads(threads)


def blas_libraries() -> list:
    """The BLAS libraries loaded (NumPy's and SciPy's), as :class:`_Library`."""
    global _LIBRARIES
    if _LIBRARIES is None:
        import scipy.linalg.blas  # noqa: F401  (the hot path's BLAS: loaded, so listed)
        from threadpoolctl import ThreadpoolController

        _LIBRARIES = [_Library(c) for c in
                      ThreadpoolController().select(user_api="blas").lib_controllers]
    return _LIBRARIES


_LIBRARY = {}  # the hot path's BLAS, found on first use (SciPy is slow to import, and
#               ``import chainrule`` does not need it)


def library() -> dict:
    """The BLAS the hot path calls, found once: ``name``, ``ilp64`` (its routines take 64-bit
    integers), ``routines`` (``(name, dtype char)`` → a callable with SciPy's f2py signature,
    for the NumPy passes) and ``pointers`` (``sgemm``, ``dgemm``, ``saxpy``, ``daxpy``: capsules
    or addresses, for the C step).

    NumPy's own OpenBLAS where its Fortran routines are found (the PyPI wheels bundle one):
    on the machine of docs/performance.md it does N1's forward product in 19 µs where SciPy's
    bundled OpenBLAS takes 36, and N2's BP4 product 1.25× faster; else SciPy's (through
    ``scipy.linalg.cython_blas``'s capsules and its f2py wrappers). ``CHAINRULE_BLAS=scipy``
    chooses SciPy's. The C step and the NumPy passes always call the same library, so they
    give the same bits.

    >>> library()["name"] in ("numpy's openblas", "scipy's blas")
    True
    """
    if not _LIBRARY:
        import os

        found = None if os.environ.get("CHAINRULE_BLAS") == "scipy" else _numpy_openblas()
        _LIBRARY.update(found or _scipy_blas())
    return _LIBRARY


def _scipy_blas() -> dict:
    from scipy.linalg import blas, cython_blas

    capsules = cython_blas.__pyx_capi__
    return {"name": "scipy's blas", "ilp64": False,
            "routines": {("gemm", "f"): blas.sgemm, ("gemm", "d"): blas.dgemm,
                         ("axpy", "f"): blas.saxpy, ("axpy", "d"): blas.daxpy},
            "pointers": {name: capsules[name] for name in ("sgemm", "dgemm", "saxpy", "daxpy")}}


def _numpy_openblas():
    """NumPy's OpenBLAS (its routines through ctypes), or None where it is not found."""
    import ctypes
    from pathlib import Path

    home = Path(np.__file__).resolve().parent
    for lib in blas_libraries():
        path = Path(lib.controller.filepath).resolve()
        dll = lib.dll
        if dll is None or not (home in path.parents or home.parent / "numpy.libs" in path.parents):
            continue
        for prefix in ("scipy_", ""):
            for suffix in ("_64_", "_"):          # Fortran names, 64- or 32-bit integers
                names = {n: f"{prefix}{n}{suffix}" for n in ("sgemm", "dgemm", "saxpy", "daxpy")}
                if all(hasattr(dll, symbol) for symbol in names.values()):
                    fns = {n: getattr(dll, symbol) for n, symbol in names.items()}
                    wide = "64" in suffix
                    return {"name": "numpy's openblas", "ilp64": wide,
                            "routines": {("gemm", "f"): _Gemm(fns["sgemm"], np.float32, wide),
                                         ("gemm", "d"): _Gemm(fns["dgemm"], np.float64, wide),
                                         ("axpy", "f"): _Axpy(fns["saxpy"], np.float32, wide),
                                         ("axpy", "d"): _Axpy(fns["daxpy"], np.float64, wide)},
                            "pointers": {n: ctypes.cast(f, ctypes.c_void_p).value
                                         for n, f in fns.items()}}
    return None


class _Routine:
    """A BLAS routine through ctypes, with its float and integer types."""

    def __init__(self, fn, dtype, ilp64):
        import ctypes

        self.fn, self.scalar = fn, ctypes.c_float if dtype == np.float32 else ctypes.c_double
        self.int = ctypes.c_int64 if ilp64 else ctypes.c_int32


class _Gemm(_Routine):
    """A ``?gemm_`` called through ctypes as SciPy's f2py wrapper calls it: F-ordered a, b
    and c, ``trans_a``/``trans_b``, leading dimensions the arrays' rows; c in place."""

    def __call__(self, alpha, a, b, beta=0.0, c=None, trans_a=0, trans_b=0, overwrite_c=1):
        import ctypes

        m, k = (a.shape[1], a.shape[0]) if trans_a else a.shape
        n = b.shape[0] if trans_b else b.shape[1]
        i, ref = self.int, ctypes.byref
        self.fn(ref(ctypes.c_char(b"T" if trans_a else b"N")),
                ref(ctypes.c_char(b"T" if trans_b else b"N")), ref(i(m)), ref(i(n)), ref(i(k)),
                ref(self.scalar(alpha)), ctypes.c_void_p(a.ctypes.data), ref(i(max(1, a.shape[0]))),
                ctypes.c_void_p(b.ctypes.data), ref(i(max(1, b.shape[0]))), ref(self.scalar(beta)),
                ctypes.c_void_p(c.ctypes.data), ref(i(max(1, c.shape[0]))))
        return c


class _Axpy(_Routine):
    """A ``?axpy_`` called through ctypes: y ← a·x + y over contiguous vectors, in place."""

    def __call__(self, x, y, a=1.0):
        import ctypes

        i, ref, one = self.int, ctypes.byref, self.int(1)
        self.fn(ref(i(len(y))), ref(self.scalar(a)), ctypes.c_void_p(x.ctypes.data), ref(one),
                ctypes.c_void_p(y.ctypes.data), ref(one))
        return y
