"""How many BLAS threads a training run's products get: one, unless they are large.

OpenBLAS cuts a product between its threads, and each thread waits for the others at the end,
spinning. When another process holds one of the cores, every product waits for the thread that
is not running, a scheduler time slice at a time: with one of two cores busy, N2 ([784,100,10],
batch 128) took 40-70× longer on two BLAS threads than on an idle machine, and 2-3× on one.
On an idle machine a second thread gains little on products that small. So
:class:`BlasThreads` runs a training loop on

- **one** thread when the largest product of a step has fewer than :data:`MIN_MACS`
  multiply-adds (N1, N2 and every network of the books);
- the limit in force (``OPENBLAS_NUM_THREADS``, threadpoolctl, else one per core) above it
  (N3's 256 × 784 × 1024 products), where the second core pays on an idle machine.

The count depends on the sizes only, never on how busy the machine is, because it can change
the result: OpenBLAS cuts a long inner sum (more than a few hundred terms, e.g. the 784 pixels
of ``a^0 W^1^T``) into other pieces on one thread than on several, so the last bits of a
product differ, and a seeded run must give the same weights on a busy machine as on an idle
one. (docs/performance.md has the measurements.)

>>> choose(macs=10 * 784 * 30, limit=2)        # N1's largest product: one thread
1
>>> choose(macs=256 * 784 * 1024, limit=2)     # N3's: the limit
2
"""

from __future__ import annotations

MIN_MACS = 1 << 25
"""Multiply-adds (≈ 33.6 M) of a step's largest product below which it runs on one thread."""


def choose(macs: int, limit: int) -> int:
    """The BLAS threads for a step whose largest product has ``macs`` multiply-adds, with at
    most ``limit`` threads allowed: 1 below :data:`MIN_MACS`, else ``limit``.

    >>> choose(macs=1 << 30, limit=4), choose(macs=1 << 30, limit=1), choose(macs=1000, limit=4)
    (4, 1, 1)
    """
    return 1 if macs < MIN_MACS else max(1, limit)


def largest_product(sizes, batch_size: int) -> int:
    """Multiply-adds of the largest product in a step of a network of ``sizes`` on batches of
    ``batch_size`` rows: ``m · n_{l-1} · n_l`` (forward, BP2 and BP4 of a layer are that size).

    >>> largest_product([784, 30, 10], 10), largest_product([784, 1024, 1024, 10], 256)
    (235200, 268435456)
    """
    return max(batch_size * n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


_CONTROLLERS = None   # found once per process: threadpoolctl takes ~5 ms to find the libraries


def _blas_libraries() -> list:
    """threadpoolctl's controllers of the BLAS libraries loaded (NumPy's and SciPy's)."""
    global _CONTROLLERS
    if _CONTROLLERS is None:
        try:
            import scipy.linalg.blas  # noqa: F401  (the hot path's BLAS: loaded, so listed)
            from threadpoolctl import ThreadpoolController
        except ImportError:   # pragma: no cover - scikit-learn brings threadpoolctl
            _CONTROLLERS = []
        else:
            _CONTROLLERS = ThreadpoolController().select(user_api="blas").lib_controllers
    return _CONTROLLERS


class BlasThreads:
    """A context in which the BLAS libraries use :func:`choose`'s thread count for products of
    up to ``macs`` multiply-adds; the counts before are restored on exit.

    >>> with BlasThreads(macs=10 * 784 * 30) as threads:
    ...     threads.threads
    1
    """

    def __init__(self, macs: int):
        self.macs = macs
        self.threads = None
        self._saved = []

    def __enter__(self):
        libraries = _blas_libraries()
        self._saved = [(lib, lib.get_num_threads()) for lib in libraries]
        self.threads = choose(self.macs, max((n for _, n in self._saved), default=1))
        for lib, threads in self._saved:
            if threads != self.threads and threads >= 1:
                lib.set_num_threads(min(threads, self.threads))
        return self

    def __exit__(self, *exc):
        for lib, threads in self._saved:
            lib.set_num_threads(threads)
        return False
