"""Many mini-batches in one C call (``_kernels.network_steps``, what ``cr.train`` runs for a
network) train bit for bit as the same batches stepped one call at a time, and as the NumPy
passes without the C extension: weights, the optimiser's state and the history alike."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule._fast import kernels
from chainrule.nn import Network
from chainrule.training.epoch import _chunk_batches

needs_c = pytest.mark.skipif(not kernels.BUILT, reason="chainrule._kernels was not built")

OPTIMIZERS = {
    "sgd": lambda: cr.optim.SGD(lr=0.3),
    "momentum": lambda: cr.optim.SGD(lr=0.05, momentum=0.9),
    "nesterov": lambda: cr.optim.SGD(lr=0.05, momentum=0.8, nesterov=True),
    "adam": lambda: cr.optim.Adam(lr=0.01),
}
NETWORKS = [("sigmoid", "sigmoid", "quadratic"), ("relu", "softmax", "log-likelihood"),
            ("tanh", "sigmoid", "cross-entropy"), ("sigmoid", "identity", "quadratic")]


def train(path, optimizer, network, dtype, sizes, n, batch_size, l2, seed, epochs=2):
    """Weights, optimiser state and history after cr.train, by one of three paths:
    "chunks" (one C call per chunk), "one by one" (one C call per batch), "numpy" (no C)."""
    hidden, output, cost = network
    net = Network(list(sizes), activation=hidden, output=output, cost=cost, dtype=dtype,
                  seed=seed)
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(n, sizes[0])), rng.integers(0, sizes[-1], n)
    opt = OPTIMIZERS[optimizer]()
    saved, calls = kernels._kernels, []
    if path == "chunks":                         # and each chunk did take the one call
        in_c = net.steps_in_c
        net.steps_in_c = lambda *args: calls.append(in_c(*args)) or calls[-1]
    elif path == "one by one":
        net.steps_in_c = lambda *args: False     # the chunk's batches one call each
    elif path == "numpy":
        kernels._kernels = None
    try:
        history = cr.train(net, X, y, epochs=epochs, batch_size=batch_size, optimizer=opt,
                           l2=l2, seed=seed, progress=False)
    finally:
        kernels._kernels = saved
    if path == "chunks" and batch_size < n:     # (a batch of all n is full-batch descent)
        assert calls and all(calls), calls
    state = opt.state_dict()
    arrays = [net.to_vector(), *state.get("velocity", []), *state.get("m", []),
              *state.get("v", [])]
    return arrays, state["step"], history.to_dict()


def assert_same(a, b):
    (arrays_a, step_a, history_a), (arrays_b, step_b, history_b) = a, b
    assert len(arrays_a) == len(arrays_b) and step_a == step_b
    for x, z in zip(arrays_a, arrays_b):
        assert x.dtype == z.dtype
        np.testing.assert_array_equal(x, z)
    for key in ("train_cost", "train_accuracy", "val_cost"):
        assert history_a[key] == history_b[key]


@needs_c
@settings(max_examples=60, deadline=None)
@given(optimizer=st.sampled_from(sorted(OPTIMIZERS)), network=st.sampled_from(NETWORKS),
       dtype=st.sampled_from(["float32", "float64"]),
       sizes=st.lists(st.integers(2, 9), min_size=2, max_size=4),
       n=st.integers(2, 90), batch_size=st.integers(1, 12), l2=st.sampled_from([0.0, 0.7]),
       seed=st.integers(0, 1000))
def test_batches_in_one_call_are_the_batches_one_by_one_bit_for_bit(optimizer, network, dtype,
                                                                    sizes, n, batch_size, l2,
                                                                    seed):
    args = (optimizer, network, dtype, sizes, n, batch_size, l2, seed)
    chunks = train("chunks", *args)
    assert_same(chunks, train("one by one", *args))
    assert_same(chunks, train("numpy", *args))


@needs_c
@pytest.mark.parametrize("optimizer", ["momentum", "nesterov"])
def test_momentum_folds_its_velocity_inside_a_chunk_as_step_with_does(optimizer):
    """μ = 0.9: the velocity scale 0.9^k drops below 2^-16 after 106 steps, inside the first
    epoch's chunks of 20 batches (120 batches an epoch), and is folded back there."""
    args = (optimizer, NETWORKS[1], "float32", (6, 5, 3), 1200, 10, 0.0, 3)
    assert _chunk_batches(120, 10, 3, 6 * 5 + 5 + 5 * 3 + 3) == 12
    chunks = train("chunks", *args, epochs=1)
    assert_same(chunks, train("one by one", *args, epochs=1))


@needs_c
def test_one_call_takes_the_batches_and_a_bad_row_is_an_error():
    net = Network([4, 3, 2], activation="relu", output="softmax", cost="log-likelihood", seed=0)
    X = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    Y = net.encode_targets([0, 1, 1, 0, 1, 0])
    opt = cr.optim.SGD(lr=0.1)
    Xb, Yb, outputs = np.empty((2, 4), np.float32), np.empty((2, 2), np.float32), \
        np.empty((6, 2), np.float32)
    rows = np.array([5, 0, 3, 1, 2, 4])
    assert net.steps_in_c(X, Y, rows, Xb, Yb, outputs, 0.0, opt.steps_plan(net.params, 3))
    assert np.allclose(outputs.sum(axis=1), 1.0)          # softmax rows: a^L of each batch
    bad = np.array([5, 0, 3, 6, 2, 4])                    # row 6 of 6 rows
    with pytest.raises(IndexError, match="row 6 of a batch is not among the 6 rows"):
        net.steps_in_c(X, Y, bad, Xb, Yb, outputs, 0.0, opt.steps_plan(net.params, 3))
    # arrays it cannot take: nothing done, the caller steps the batches one by one
    before = net.to_vector()
    assert not net.steps_in_c(X.astype(np.float64), Y, rows, Xb, Yb, outputs, 0.0,
                              opt.steps_plan(net.params, 3))
    assert not net.steps_in_c(X, Y, rows[:5], Xb, Yb, outputs, 0.0,
                              opt.steps_plan(net.params, 2))    # 5 rows: not 2 batches of 2
    np.testing.assert_array_equal(net.to_vector(), before)


def test_a_sharded_network_keeps_its_batch_by_batch_path():
    from chainrule.distributed.shards import ShardedNetwork

    sharded = ShardedNetwork(Network([4, 3, 2], seed=0), 2)
    assert not hasattr(sharded, "steps_in_c") and not hasattr(sharded, "last_output")
    assert hasattr(sharded, "batch_stats")


def test_chunks_depend_on_shapes_alone():
    assert _chunk_batches(1000, 10, 10, 1000) == 100          # ten chunks an epoch
    assert _chunk_batches(6000, 10, 10, 1000) == 600 and 600 * 10 * 10 <= 2 ** 16
    assert _chunk_batches(2340, 256, 10, 1000) == 25          # 2^16 outputs: 25 · 256 · 10
    assert _chunk_batches(2340, 256, 1, 10_000) == 104        # 2^28 rows × parameters
    assert _chunk_batches(5, 100_000, 1, 10 ** 6) == 1        # never less than one batch
