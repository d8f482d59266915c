"""An epoch of mini-batch training, three ways: one full batch, in chunks, one batch at a time.

:func:`chainrule.train` asks one of these for the function that runs an epoch of its run and
returns the epoch's running (Σ C_0,x, rows right) over its batches, read from each batch's own
forward pass (the weights before its step), or None when the model does not report them:

- :func:`in_chunks` for a :class:`~chainrule.nn.Network`: the epoch's batches in chunks of
  many batches (:func:`~chainrule.training.batch.batch_steps`: one call into the C extension
  each where it was built), the running sums from each chunk's outputs a^L;
- :func:`one_by_one` for other models (e.g. a sharded network): each batch stepped alone,
  the running sums from its ``batch_stats``;
- :func:`full_batch`: full-batch gradient descent, one step on the whole set.
"""

from __future__ import annotations

import numpy as np

from chainrule.training.batch import batch_step, batch_steps
from chainrule.training.progress import progress_bar

_CHUNK_OUTPUTS = 2 ** 16   # a^L values kept per chunk of training batches (_chunk_batches)
_CHUNK_WORK = 2 ** 28      # rows x parameters per chunk: ~0.1 s of products (about 3x this)


def _chunk_batches(batches, m, k, params):
    """Mini-batches per chunk of an epoch of ``batches`` batches of m rows, k outputs and
    ``params`` parameters: about 2^16 outputs kept, at least ten chunks an epoch (so a
    progress bar moves), and about 2^28 row-parameter products (so Ctrl-C, seen between
    chunks, is seen within a fraction of a second); at least one batch. Shapes alone decide
    it, so the running cost is the same whatever runs the chunks.

    >>> _chunk_batches(1000, 10, 10, 23_860), _chunk_batches(78, 128, 10, 79_510)
    (100, 8)
    >>> _chunk_batches(39, 256, 10, 1_863_690)          # N3's network: one batch a chunk
    1
    """
    most = min(_CHUNK_OUTPUTS // (m * k), _CHUNK_WORK // (m * params), -(-batches // 10))
    return max(1, most)


def _progress_bar(progress, total, epoch, epochs):
    """A transient bar over the batches of one epoch: tqdm's notebook widget in Jupyter,
    its text bar on an interactive stderr, none otherwise (:mod:`chainrule.training.progress`)."""
    return progress_bar(total, f"epoch {epoch}/{epochs}", enabled=bool(progress))


def full_batch(run, batch_size, progress, scored):
    """Full-batch gradient descent: an epoch is one step on all of X."""
    model, X, Y = run.model, run.X, run.Y
    step = batch_step(model, run.optimizer, run.l2, run.n)
    batch_stats = getattr(model, "batch_stats", None) if scored else None

    def epoch_of(epoch):
        step(X, Y)
        return None if batch_stats is None else batch_stats(Y)
    return epoch_of


def in_chunks(run, batch_size, progress, scored):
    """An epoch's mini-batches in chunks (:func:`batch_steps`, for a network one call into
    the C extension each); the running cost and accuracy from each chunk's a^L."""
    model, X, Y, n = run.model, run.X, run.Y, run.n
    steps = batch_steps(model, run.optimizer, run.l2, n)
    whole, last = divmod(n, batch_size)
    params = sum(p.size for p in model.params)
    per = _chunk_batches(whole, batch_size, Y.shape[1], params) * batch_size   # rows
    outputs = np.empty((max(per, last), Y.shape[1]), Y.dtype)

    def chunk(rows, m, totals):
        steps(X, Y, rows, m, outputs)
        if scored:
            cost, right = model.output_totals(outputs[:len(rows)], Y.take(rows, axis=0))
            totals[0] += cost
            totals[1] += right

    def epoch_of(epoch):
        order, totals = run.rng.permutation(n), [0.0, 0]
        bar = _progress_bar(progress, whole + (last > 0), epoch, run.epochs)
        for start in range(0, whole * batch_size, per):
            rows = order[start:min(start + per, whole * batch_size)]
            chunk(rows, batch_size, totals)
            if bar is not None:
                bar.update(len(rows) // batch_size)
        if last:
            chunk(order[whole * batch_size:], last, totals)
        if bar is not None:
            bar.update(bar.total - bar.n)
            bar.close()
        return tuple(totals)
    return epoch_of


def one_by_one(run, batch_size, progress, scored):
    """An epoch's mini-batches one :func:`batch_step` at a time, for models without
    ``last_output``; the running cost and accuracy from ``batch_stats`` when they have it."""
    model, X, Y, n = run.model, run.X, run.Y, run.n
    step = batch_step(model, run.optimizer, run.l2, n)
    batch_stats = getattr(model, "batch_stats", None) if scored else None
    buffers = {m: (np.empty((m, X.shape[1]), X.dtype), np.empty((m, Y.shape[1]), Y.dtype))
               for m in {batch_size, n % batch_size} if m}

    def epoch_of(epoch):
        order, cost_sum, correct = run.rng.permutation(n), 0.0, 0
        bar = _progress_bar(progress, -(-n // batch_size), epoch, run.epochs)
        tick = max(1, (n // batch_size) // 100)
        for k, start in enumerate(range(0, n, batch_size)):
            idx = order[start:start + batch_size]
            Xb, Yb = buffers[len(idx)]
            X.take(idx, axis=0, out=Xb, mode="clip")     # in range: a permutation's
            Y.take(idx, axis=0, out=Yb, mode="clip")
            step(Xb, Yb)
            if batch_stats is not None:
                batch_cost, batch_correct = batch_stats(Yb)
                cost_sum += batch_cost
                correct += batch_correct
            if bar is not None and (k + 1) % tick == 0:
                bar.update(tick)
        if bar is not None:
            bar.update(bar.total - bar.n)
            bar.close()
        return None if batch_stats is None else (cost_sum, correct)
    return epoch_of
