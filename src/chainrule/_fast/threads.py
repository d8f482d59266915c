"""The threads of a training run's matrix products, and why their number changes no bit.

BLAS rounds a product differently when it cuts it differently, and OpenBLAS cuts a product by
its thread count: on one thread and on two, the same product differs in its last bits (with
OpenBLAS's Haswell kernels every shape of N1-N3 measured; with its SkylakeX kernels the long
inner sums of N2 and N3). So during a training run every
product runs on **one** BLAS thread, cut into pieces by its shape alone
(:func:`chainrule._fast.blas.plan`), and the threads of the C extension take the pieces as
each comes free, the calling thread too. The weights of a seeded run are then the same bits on
one thread or several, on an idle machine or a busy one.

It is also what keeps a busy machine from slowing a run down many times over. OpenBLAS's
threads split a product in equal parts and wait for each other at its end, spinning: with
another process on one of two cores, every product waited for the part whose thread was not
running, a scheduler time slice at a time (N2 took 40-70× longer than on an idle machine).
Here a thread that is off its core simply takes fewer pieces.

:class:`BlasThreads` sets that up for a run: the BLAS libraries on one thread, the C step's
products shared by the limit in force (``OPENBLAS_NUM_THREADS``, threadpoolctl's
``threadpool_limits``, else one per core); both restored after. Without the C extension the
pieces run one after the other on one thread: the same bits, slower on a large network.
(docs/performance.md has the measurements.)

>>> with BlasThreads() as run:
...     run.threads >= 1
True
"""

from __future__ import annotations

import threading

from chainrule._fast import kernels
from chainrule._fast.library import blas_libraries


class BlasThreads:
    """A context in which the BLAS libraries run on one thread and the C step's products are
    shared by ``threads`` threads: the largest BLAS limit in force when it was entered. The
    counts before are restored on exit. Runs in several threads of one process at once share
    one setting: the first to enter makes it, the last to leave restores what was before.

    >>> from threadpoolctl import threadpool_limits
    >>> with threadpool_limits(limits=1), BlasThreads() as run:
    ...     run.threads
    1
    """

    _lock = threading.Lock()
    _inside = 0            # contexts entered and not left, in every thread of the process
    _saved: list = []      # (library, its thread count) before the first of them
    _threads = 1           # the threads the first of them found
    _shared_before = 1

    def __init__(self):
        self.threads = None

    def __enter__(self):
        cls = type(self)
        with cls._lock:
            if cls._inside == 0:
                cls._saved = [(lib, lib.get()) for lib in blas_libraries()]
                cls._threads = max([1, *(n for _, n in cls._saved)])
                for lib, threads in cls._saved:
                    if threads != 1:
                        lib.set(1)
                cls._shared_before = kernels.set_threads(cls._threads)
            cls._inside += 1
            self.threads = cls._threads
        return self

    def __exit__(self, *exc):
        cls = type(self)
        with cls._lock:
            cls._inside -= 1
            if cls._inside == 0:
                kernels.set_threads(cls._shared_before)
                for lib, threads in cls._saved:
                    lib.set(threads)
        return False
