"""Data-parallel arithmetic in one process: each mini-batch split into K shards, one gradient per
shard by the same BP1–BP4, the K gradients summed in shard order, one step.

This is what ``mpiexec -n K chainrule train --mpi`` computes, with the K ranks' work done here
in a loop, so it can be read and tested without MPI. For a batch of m rows, shard k holds rows
``[k·m//K, (k+1)·m//K)`` (m_k of them) and contributes

    g_k = (m_k / m) · (1/m_k) Σ_{x in shard k} ∇C_0,x        (BP3, BP4 on the shard)

so that g_0 + g_1 + … + g_{K-1} is the batch's mean gradient (Nielsen's eq. 20); the L2 term
λ/n W (BP4's weight decay) is added once, after the sum. The sum goes in shard order, one
addition at a time, so it is the same numbers whoever adds them: an MPI run whose ranks gather
every g_k and add them in rank order gives these weights bit for bit. Against the unsharded
batch the result differs only by rounding (a sum over m rows split into K partial sums).

>>> import numpy as np, chainrule as cr
>>> X = np.random.default_rng(0).normal(size=(60, 4)); y = (X[:, 0] > 0).astype(int)
>>> def net():
...     return cr.nn.Network([4, 5, 2], cost="log-likelihood", seed=1, dtype="float64")
>>> plain, sharded = net(), ShardedNetwork(net(), shards=3)
>>> Y = plain.encode_targets(y)
>>> a = plain.gradients(X, Y, 0.1, 60); b = sharded.gradients(X, Y, 0.1, 60)
>>> max(float(np.abs(p - q).max()) for p, q in zip(a, b)) < 1e-15
True
"""

from __future__ import annotations

import numpy as np

from chainrule.errors import InputError, quoted

__all__ = ["ShardedNetwork", "shard_bounds", "sum_in_order"]


def shard_bounds(m, shards):
    """Row ranges [start, stop) of the ``shards`` shards of a batch of m rows, in order.

    >>> shard_bounds(10, 3)
    [(0, 3), (3, 6), (6, 10)]
    >>> shard_bounds(2, 3)                 # a short last batch: a shard may be empty
    [(0, 0), (0, 1), (1, 2)]
    """
    return [(k * m // shards, (k + 1) * m // shards) for k in range(shards)]


def sum_in_order(rows, out):
    """out ← rows[0] + rows[1] + … , one addition at a time in row order (no pairwise tree).

    >>> import numpy as np
    >>> sum_in_order(np.array([[1e16, 1.0], [-1e16, 1.0], [1.0, 1.0]]), np.empty(2))
    array([1., 3.])
    """
    if len(rows) == 1:
        np.copyto(out, rows[0])
        return out
    np.add(rows[0], rows[1], out=out)
    for row in rows[2:]:
        out += row
    return out


class ShardedNetwork:
    """A :class:`~chainrule.nn.Network` whose ``gradients`` are computed shard by shard.

    Everything else (the forward pass, scores, parameters, saving) is the network's own, so
    ``cr.train`` trains it as it trains the network itself; give it SGD, momentum or Adam
    (CG and L-BFGS take the whole training set in one gradient, which is not sharded).

    ``ranks``: which shards this process computes (all of them here; one each under MPI);
    ``combine(local, rows, stats)`` fills the rows of the other shards (MPI's gather).
    """

    def __init__(self, net, shards, ranks=None, combine=None):
        if isinstance(shards, bool) or not isinstance(shards, int | np.integer) or shards < 1:
            raise InputError(f"shards: expected an integer >= 1, got {quoted(shards)}")
        self.net, self.shards = net, int(shards)
        self.ranks = list(range(self.shards)) if ranks is None else list(ranks)
        self._combine = combine
        sizes = [p.size for p in net.params]
        self._offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self._rows = np.zeros((self.shards, self._offsets[-1]), dtype=net.dtype)
        self._stats = np.zeros((self.shards, 2))   # (Σ C_0,x, rows right) per shard, float64
        self._last = None

    # the network's batch-after-batch path: its batches would not be sharded
    _UNSHARDED = frozenset({"net", "steps_in_c", "last_output", "output_totals"})

    def __getattr__(self, name):            # the network's own attributes and methods
        if name in ShardedNetwork._UNSHARDED:
            raise AttributeError(name)
        return getattr(self.net, name)

    def __repr__(self):
        return f"ShardedNetwork({self.net!r}, shards={self.shards})"

    def _views(self, flat):
        """``flat`` (one vector) as arrays shaped like the network's parameters."""
        return [flat[a:b].reshape(p.shape)
                for a, b, p in zip(self._offsets[:-1], self._offsets[1:], self.net.params)]

    def gradients(self, X, Y, l2=0.0, n=None, out=None):
        """[∂C/∂W^1, ∂C/∂b^1, …] of the batch (X, Y), from its shards summed in shard order."""
        m = X.shape[0]
        n = m if n is None else n
        bounds = shard_bounds(m, self.shards)
        for k in self.ranks:
            start, stop = bounds[k]
            if stop == start:                # an empty shard adds nothing
                self._rows[k] = 0.0
                self._stats[k] = 0.0
                continue
            Xk, Yk = X[start:stop], Y[start:stop]
            self.net.gradients(Xk, Yk, 0.0, n, out=self._views(self._rows[k]),
                               scale=(stop - start) / m)
            self._stats[k] = self.net.batch_stats(Yk)
        if self._combine is not None:
            self._combine(self.ranks, self._rows, self._stats)
        out = [np.empty_like(p) for p in self.net.params] if out is None else out
        pieces = zip(self._offsets[:-1], self._offsets[1:], out)
        for i, (start, stop, o) in enumerate(pieces):      # the sum, parameter by parameter
            sum_in_order(self._rows[:, start:stop], o.reshape(-1))
            if l2 and i % 2 == 0:                         # BP4's λ/n W, once for the batch
                o += (l2 / n) * self.net.weights[i // 2]
        self._last = m
        return out

    def batch_stats(self, Y):
        """(Σ C_0,x, rows right) of the last batch: its shards' sums, added in shard order."""
        if self._last != len(Y):
            raise InputError("batch_stats: needs the targets of the last gradients() call")
        cost = 0.0
        for k in range(self.shards):
            cost += float(self._stats[k, 0])
        return cost, int(round(float(self._stats[:, 1].sum())))
