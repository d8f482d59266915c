"""The sharded arithmetic in one process: each batch in K shards, gradients summed in order."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.distributed import runner
from chainrule.distributed.shards import ShardedNetwork, shard_bounds, sum_in_order
from chainrule.errors import InputError


def _net(**kw):
    return cr.nn.Network([5, 7, 3], activation="tanh", cost="log-likelihood", seed=2,
                         dtype="float64", **kw)


@given(m=st.integers(0, 40), k=st.integers(1, 9))
def test_the_shards_cover_the_batch_in_order(m, k):
    bounds = shard_bounds(m, k)
    assert len(bounds) == k and bounds[0][0] == 0 and bounds[-1][1] == m
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    sizes = [b - a for a, b in bounds]
    assert max(sizes) - min(sizes) <= 1          # as even as rows allow


def test_the_sum_goes_in_row_order():
    rows = np.array([[1e16], [1.0], [-1e16], [1.0]])
    # in order: ((1e16 + 1) - 1e16) + 1 = 0 + 1 (the first 1 is lost); pairwise would give 2
    assert sum_in_order(rows, np.empty(1))[0] == 1.0


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 30), k=st.integers(1, 6), l2=st.sampled_from([0.0, 0.7]))
def test_sharded_gradients_are_the_batch_gradient(m, k, l2):
    """Σ_k (m_k/m) ∇C_k + λ/n W is the batch's ∇C (Nielsen eq. 20 with BP4's decay), to
    rounding, with empty shards when m < k."""
    rng = np.random.default_rng(m * 10 + k)
    X, y = rng.normal(size=(m, 5)), rng.integers(0, 3, size=m)
    plain, sharded = _net(), ShardedNetwork(_net(), k)
    Y = plain.encode_targets(y)
    want = plain.backprop(X, y, l2, 50)
    want = [g for pair in zip(*want) for g in pair]
    got = sharded.gradients(X, Y, l2, 50)
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15)
    cost, right = sharded.batch_stats(Y)
    plain_cost, plain_right = plain.totals(X, Y)
    assert right == plain_right and cost == pytest.approx(plain_cost, rel=1e-12)


def test_batch_stats_needs_the_last_batch():
    sharded = ShardedNetwork(_net(), 2)
    with pytest.raises(InputError, match="last gradients"):
        sharded.batch_stats(np.zeros((3, 3)))


@pytest.mark.parametrize("shards", [0, -1, 2.5, True])
def test_bad_shard_counts_are_refused(shards):
    with pytest.raises(InputError, match="shards"):
        ShardedNetwork(_net(), shards)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_sharded_training_is_the_plain_run_to_rounding(optimizer):
    """Measured: float64 weights after 3 epochs of the digits agree to ~1e-13 relative."""
    options = runner.train_options(epochs=3, hidden=[12], optimizer=optimizer, l2=1.0,
                                   dtype="float64", batch_size=16)
    plain, sharded = runner.prepare(options), runner.prepare(options)
    want = runner.fit(plain)
    history = runner.fit(sharded, shards=3)
    a, b = plain.net.to_vector(), sharded.net.to_vector()
    assert np.abs(a - b).max() <= 1e-10 * np.abs(a).max()   # another order of additions
    assert len(history) == 3
    np.testing.assert_allclose(history.train_cost, want.train_cost, rtol=1e-10)
    assert history.val_accuracy == want.val_accuracy


def test_a_sharded_run_resumes_bit_for_bit(tmp_path):
    """Checkpoints, early stopping and validation work through the sharded network."""
    options = runner.train_options(epochs=4, hidden=[10], optimizer="momentum", patience=3)
    whole = runner.prepare(options)
    runner.fit(whole, shards=2)
    first = runner.prepare({**options, "epochs": 2})
    runner.fit(first, shards=2, checkpoint=tmp_path / "m.npz")
    net, state = cr.training.load_checkpoint(tmp_path / "m.npz")
    resumed = runner.prepare(options, resume=(net, state))
    runner.fit(resumed, shards=2)
    assert resumed.net.to_vector().tobytes() == whole.net.to_vector().tobytes()


@pytest.mark.parametrize("optimizer", ["cg", "lbfgs"])
def test_full_batch_optimisers_are_refused(optimizer):
    prepared = runner.prepare(runner.train_options(epochs=2, hidden=[4], optimizer=optimizer))
    with pytest.raises(InputError, match="CG/L-BFGS"):
        runner.fit(prepared, shards=2)
