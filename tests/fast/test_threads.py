"""The threads of training runs (chainrule._fast.threads, blas.plan, the C pool): every product
cut into pieces by its shape alone, the pieces shared by threads, and the bits of a run the
same whatever the number of threads, a busy core, or the C extension."""

import contextlib
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_info, threadpool_limits

import chainrule as cr
from chainrule._fast import blas, kernels, library, threads

needs_c = pytest.mark.skipif(not kernels.BUILT, reason="chainrule._kernels was not built "
                             "(pip install -e . with a C compiler builds it)")


def blas_counts():
    import scipy.linalg.blas  # noqa: F401

    return {i["filepath"]: i["num_threads"] for i in threadpool_info()
            if i["user_api"] == "blas"}


@contextlib.contextmanager
def numpy_passes():
    """The readable twin: chainrule as it runs without the C extension."""
    saved = kernels._kernels
    kernels._kernels = None
    try:
        yield
    finally:
        kernels._kernels = saved


@contextlib.contextmanager
def shared_by(n):
    before = kernels.set_threads(n)
    try:
        yield
    finally:
        kernels.set_threads(before)


def test_plan_by_hand():
    # N1's products are whole; N2's first layer in two pieces of 64 rows (128 >= 100); its
    # BP4 product (100 x 784, 128-term sums) in two of 384 and 400 columns; N3's in four
    assert blas.plan(10, 30, 784) == (False, 30, 1)
    assert blas.plan(128, 100, 784) == (True, 64, 2)
    assert blas.plan(100, 784, 128) == (False, 384, 2)
    assert blas.plan(256, 1024, 1024) == (False, 256, 4)
    assert blas.plan(1 << 18, 4, 4) == (True, 1 << 18, 1)         # 2^22 multiply-adds: whole
    assert blas.plan(1 << 18, 8, 4) == (True, 1 << 17, 2)         # 2^23: two pieces


@given(st.integers(1, 5000), st.integers(1, 5000), st.integers(1, 5000))
def test_the_pieces_cover_the_product_and_are_the_c_plan(rows, cols, k):
    by_rows, piece, count = blas.plan(rows, cols, k)
    dim = rows if by_rows else cols
    assert by_rows == (rows >= cols) and 1 <= count <= blas.MAX_PIECES
    bounds = blas._bounds(dim, piece, count)
    assert bounds[0][0] == 0 and bounds[-1][1] == dim
    assert all(hi == lo for (_, hi), (lo, _) in zip(bounds, bounds[1:]))   # no gap, no overlap
    if count > 1:
        assert piece % blas.ALIGN == 0 and all(hi - lo >= piece for lo, hi in bounds)
        assert rows * cols * k >= count * blas.PIECE_MACS    # each piece worth a thread
    if kernels.BUILT:
        assert kernels._kernels.product_plan(rows, cols, k) == (by_rows, piece, count)


def operand(rng, rows, cols, transposed, dtype):
    M = rng.standard_normal((cols, rows) if transposed else (rows, cols)).astype(dtype)
    return M.T if transposed else M


@needs_c
@settings(max_examples=60, deadline=None)
@given(rows=st.integers(1, 300), cols=st.integers(1, 300), k=st.integers(1, 1500),
       ta=st.booleans(), tb=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]),
       beta=st.sampled_from([0.0, 1.0, 0.9]), threads_=st.integers(1, 3),
       seed=st.integers(0, 1000))
def test_the_shared_pieces_are_the_numpy_twins_pieces_bit_for_bit(rows, cols, k, ta, tb, dtype,
                                                                  beta, threads_, seed):
    rng = np.random.default_rng(seed)
    A, B = operand(rng, rows, k, ta, dtype), operand(rng, k, cols, tb, dtype)
    C0 = rng.standard_normal((rows, cols)).astype(dtype)
    shared, twin = C0.copy(), C0.copy()
    with threadpool_limits(limits=1), shared_by(threads_):
        assert kernels.gemm(-0.5, A, B, beta, shared)
        with numpy_passes():
            blas.gemm(-0.5, A, B, beta, twin)
    np.testing.assert_array_equal(shared, twin)
    exact = -0.5 * (A.astype(np.float64) @ B) + beta * C0
    np.testing.assert_allclose(shared, exact, rtol=1e-3 if dtype == np.float32 else 1e-10,
                               atol=1e-3 * np.sqrt(k) if dtype == np.float32 else 1e-9)


@needs_c
@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300_000), dtype=st.sampled_from([np.float32, np.float64]),
       a=st.floats(-3, 3), threads_=st.integers(1, 3), seed=st.integers(0, 1000))
def test_the_shared_axpy_is_one_blas_axpy_bit_for_bit(n, dtype, a, threads_, seed):
    """BLAS's axpy kernels treat a vector's tail apart (no fused multiply-add there): pieces of
    2^16 elements keep every tail where the whole vector has it."""
    from scipy.linalg import blas as scipy_blas

    rng = np.random.default_rng(seed)
    x, y0 = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    shared = y0.copy()
    with threadpool_limits(limits=1):        # (OpenBLAS on two threads cuts it elsewhere)
        whole = (scipy_blas.saxpy if dtype == np.float32 else scipy_blas.daxpy)(x, y0.copy(),
                                                                                 a=a)
        with shared_by(threads_):
            assert kernels.axpy(a, x, shared)
    np.testing.assert_array_equal(shared, whole)


@needs_c
def test_gemm_refuses_what_it_cannot_take():
    A, B = np.ones((40, 30)), np.ones((30, 20))
    assert not kernels.gemm(1.0, A, B, 0.0, np.zeros((20, 40)).T)      # C not C-ordered
    assert not kernels.gemm(1.0, A[:, ::2], B[::2], 0.0, np.zeros((40, 20)))   # strided
    assert not kernels.gemm(1.0, A.astype(np.float32), B, 0.0, np.zeros((40, 20)))
    C = np.zeros((40, 30))
    assert not kernels.gemm(1.0, C, np.eye(30), 0.0, C)                 # C is A
    assert not kernels.gemm(1.0, A, B[:, :5], 0.0, np.zeros((40, 20)))  # shapes disagree
    C = np.zeros((40, 20))
    assert blas.gemm(1.0, A, B, 0.0, C) is C and (C == 30).all()        # blas.gemm: any way


@pytest.mark.parametrize("limit", [1, 2])
def test_blas_threads_puts_blas_on_one_thread_and_shares_by_the_limit(limit):
    with threadpool_limits(limits=limit):
        before = blas_counts()
        with threads.BlasThreads() as run:
            assert run.threads == limit
            assert set(blas_counts().values()) == {1}
            if kernels.BUILT:
                assert kernels.set_threads(run.threads) == limit     # (sets the same again)
        assert blas_counts() == before
    assert kernels.set_threads(1) == 1 or not kernels.BUILT           # and the pool's back


def train_n2(X, y, epochs=2):
    """N2's network and optimiser (784-100-10 relu/softmax, Adam, batch 128), float32."""
    net = cr.nn.Network([784, 100, 10], activation="relu", output="softmax",
                        cost="log-likelihood", dtype="float32", seed=0)
    history = cr.train(net, X, y, epochs=epochs, batch_size=128,
                       optimizer=cr.optim.Adam(lr=1e-3), progress=False)
    return np.concatenate([net.to_vector(), history.train_cost])


def digits(n=656, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)   # 5 batches + 16


def test_n2_trains_to_the_same_bits_on_one_thread_or_two_and_without_c():
    """Every product of N2 is cut in two; OpenBLAS alone would round them differently on two
    threads than on one."""
    X, y = digits()
    with threadpool_limits(limits=1):
        one = train_n2(X, y)
    with threadpool_limits(limits=2):
        two = train_n2(X, y)
    np.testing.assert_array_equal(one, two)
    with numpy_passes(), threadpool_limits(limits=2):
        np.testing.assert_array_equal(one, train_n2(X, y))


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_trains_to_the_same_bits_on_one_thread_or_two_and_without_c(nesterov):
    """The velocity moves N2's 79,510 weights by axpy, in two pieces of 2^16 elements."""
    X, y = digits()

    def train():
        net = cr.nn.Network([784, 100, 10], activation="relu", output="softmax",
                            cost="log-likelihood", dtype="float32", seed=0)
        cr.train(net, X, y, epochs=2, batch_size=128, progress=False,
                 optimizer=cr.optim.SGD(lr=0.05, momentum=0.9, nesterov=nesterov))
        return net.to_vector()

    with threadpool_limits(limits=1):
        one = train()
    with threadpool_limits(limits=2):
        np.testing.assert_array_equal(one, train())
        with numpy_passes():
            np.testing.assert_array_equal(one, train())


@contextlib.contextmanager
def busy_core():
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        yield
    finally:
        spinner.kill()
        spinner.wait()


def test_the_same_bits_with_another_process_on_a_core():
    X, y = digits()
    with threadpool_limits(limits=2):
        quiet = train_n2(X, y)
        with busy_core():
            busy = train_n2(X, y)
    np.testing.assert_array_equal(quiet, busy)


def test_two_runs_at_once_in_one_process_each_give_their_own_bits():
    """Threads of one process (a thread pool running a sweep) train at once: a product another
    thread is sharing runs its own pieces alone, the same bits."""
    data = [digits(seed=s) for s in (1, 2)]
    alone = [train_n2(X, y, epochs=1) for X, y in data]
    results = [None, None]

    def run(i):
        results[i] = train_n2(*data[i], epochs=1)

    workers = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    with threadpool_limits(limits=2):
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    for got, expected in zip(results, alone):
        np.testing.assert_array_equal(got, expected)


FORKED = """
import os
import numpy as np
from threadpoolctl import threadpool_limits
from chainrule._fast import blas, kernels, threads
A = np.ones((256, 1024), np.float32)
kernels.set_threads(2)
blas.gemm(1.0, A, A.T, 0.0, np.empty((256, 256), np.float32))   # the pool's worker is running
pid = os.fork()
if pid == 0:                                                     # the child: no worker came
    C = np.zeros((256, 512), np.float32)
    with threadpool_limits(limits=2), threads.BlasThreads():
        blas.gemm(1.0, A, np.ones((1024, 512), np.float32), 0.0, C)
    os._exit(0 if (C == 1024).all() else 3)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"""


@needs_c
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_computes_its_products_without_the_parents_threads():
    """(In a fresh process: forking the test process, which may run JAX's threads, is not
    safe.)"""
    done = subprocess.run([sys.executable, "-c", FORKED], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"


NUMPY_OPENBLAS = any(i["internal_api"] == "openblas" and "numpy" in i["filepath"]
                     for i in threadpool_info())


@pytest.mark.skipif(not NUMPY_OPENBLAS, reason="NumPy here has no bundled OpenBLAS")
@pytest.mark.skipif(os.environ.get("CHAINRULE_BLAS") == "scipy",
                    reason="CHAINRULE_BLAS=scipy chooses SciPy's BLAS")
def test_the_hot_path_calls_numpys_openblas_when_numpy_bundles_one():
    found = library.library()
    assert found["name"] == "numpy's openblas"
    assert all(isinstance(p, int) and p for p in found["pointers"].values())


SAME_BITS = """
import numpy as np
from chainrule._fast import blas, kernels, library
from threadpoolctl import threadpool_limits
rng = np.random.default_rng(3)
with threadpool_limits(limits=1):
    kernels.set_threads(2)
    for rows, k, cols in [(128, 784, 100), (100, 128, 784), (10, 784, 30), (300, 700, 64)]:
        A = rng.standard_normal((rows, k)).astype(np.float32)
        B = rng.standard_normal((cols, k)).astype(np.float32).T
        shared, twin = np.zeros((rows, cols), np.float32), np.zeros((rows, cols), np.float32)
        assert kernels.gemm(0.5, A, B, 0.0, shared)
        saved, kernels._kernels = kernels._kernels, None
        blas.gemm(0.5, A, B, 0.0, twin)
        kernels._kernels = saved
        assert np.array_equal(shared, twin), (rows, k, cols)
        np.testing.assert_allclose(shared, 0.5 * (A.astype(np.float64) @ B), rtol=1e-4,
                                   atol=1e-3)
print(library.library()["name"])
"""


@needs_c
@pytest.mark.parametrize("choice", [None, "scipy"])
def test_either_library_gives_the_c_step_and_the_numpy_passes_the_same_bits(choice):
    env = {k: v for k, v in os.environ.items() if k != "CHAINRULE_BLAS"}
    if choice:
        env["CHAINRULE_BLAS"] = choice
    done = subprocess.run([sys.executable, "-c", SAME_BITS], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    default = "numpy's openblas" if NUMPY_OPENBLAS else "scipy's blas"
    assert done.stdout.strip() == ("scipy's blas" if choice else default)
