"""The BLAS thread policy of training runs (chainrule._fast.threads): one thread for small
products, the limit for large ones, chosen from the sizes alone, the old counts restored."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from threadpoolctl import threadpool_info, threadpool_limits

import chainrule as cr
from chainrule._fast import threads


def scipy_threads():
    import scipy.linalg.blas  # noqa: F401

    return {i["filepath"]: i["num_threads"] for i in threadpool_info()
            if i["user_api"] == "blas"}


@given(st.integers(0, 1 << 40), st.integers(1, 64))
def test_choose_is_one_below_the_threshold_and_the_limit_above(macs, limit):
    chosen = threads.choose(macs, limit)
    assert 1 <= chosen <= limit
    assert chosen == (1 if macs < threads.MIN_MACS else limit)
    assert threads.choose(macs * 2, limit) >= chosen                  # more work, never fewer


def test_largest_product_by_hand():
    # N2: 128 · 784 · 100 (first layer) > 128 · 100 · 10
    assert threads.largest_product([784, 100, 10], 128) == 10_035_200
    assert threads.largest_product([2, 3], 5) == 30


@pytest.mark.parametrize("limit, macs, inside", [(2, 1000, 1), (2, 1 << 28, 2), (1, 1 << 28, 1)])
def test_blas_threads_sets_the_count_and_restores_it(limit, macs, inside):
    with threadpool_limits(limits=limit):
        before = scipy_threads()
        with threads.BlasThreads(macs) as chosen:
            assert chosen.threads == inside
            assert set(scipy_threads().values()) == {inside}
        assert scipy_threads() == before


def _train_n2_shapes(limit, X, y):
    net = cr.nn.Network([784, 100, 10], activation="relu", output="softmax",
                        cost="log-likelihood", dtype="float32", seed=0)
    seen = []
    with threadpool_limits(limits=limit):
        cr.train(net, X, y, epochs=2, batch_size=128, optimizer=cr.optim.Adam(lr=1e-3),
                 progress=False, callbacks=[lambda epoch, h: seen.append(scipy_threads())])
        after = scipy_threads()
    return net.to_vector(), seen, after


def test_a_small_network_trains_to_the_same_bits_whatever_the_thread_limit():
    """N2's products (784-term sums) round differently on two OpenBLAS threads than on one; a
    training run uses one thread for them, so the limit in force does not change the weights."""
    rng = np.random.default_rng(0)
    X = rng.random((656, 784), dtype=np.float32)      # 5 batches of 128, one of 16
    y = rng.integers(0, 10, 656)
    one, seen_one, _ = _train_n2_shapes(1, X, y)
    two, seen_two, after = _train_n2_shapes(2, X, y)
    assert all(set(s.values()) == {1} for s in seen_one + seen_two)   # one thread while training
    assert set(after.values()) == {2}                                  # the limit back after
    np.testing.assert_array_equal(one, two)
