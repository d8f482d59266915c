"""The network's training hot path: BP1-BP4 fused into BLAS products, in reused buffers.

:meth:`Network.backprop <chainrule.nn.Network.backprop>` is the four equations as written;
this is the same arithmetic arranged for speed, and it is what training runs. It is tested
equal to the readable pass (to rounding: BLAS may order a product's sums differently). The
differences, each changing no result beyond rounding:

- every product is one BLAS ``gemm`` (``C ← αAB + βC``): the bias enters the forward product
  through β = 1, and with ``scale``/``keep`` the optimiser's step rides on BP4's product —
  ``out=net.params, scale=-η, keep=1`` *is* an SGD step, ``W ← (1 − ηλ/n)·W − η/m·δ^T a``
  (Nielsen's eq. 93), with no gradient array at all;
- the cost's 1/m is folded into δ^L once and carried through BP2, which is linear in δ;
- a^l, δ^l and Σ_rows δ^l live in scratch buffers kept per batch size;
- relu's BP2 mask and BP3's column sums are one pass (a C kernel where it was built);
- BP2's product comes before BP4's in each layer, since BP4 may write into W^l itself;
- where the C extension was built, the whole pass is one call into it (``_c_step``): these
  same operations in the same order, bit for bit, without Python between them.

This file is the network's one door into :mod:`chainrule._fast`.

>>> import numpy as np, chainrule as cr
>>> net = cr.nn.Network([2, 2], cost="cross-entropy", init="zeros", dtype="float64")
>>> X, Y = np.array([[1.0, 2.0]]), np.array([[1.0, 0.0]])
>>> [g.tolist() for g in net.gradients(X, Y)]
[[[-0.5, -1.0], [0.5, 1.0]], [-0.5, 0.5]]
"""

from __future__ import annotations

import numpy as np

from chainrule._fast import kernels
from chainrule._fast.blas import gemm
from chainrule._fast.flat import flat_views
from chainrule.errors import InputError
from chainrule.nn.inputs import check_l2, check_prepared

__all__ = ["FusedBackprop", "flat_views"]


def backward_sums(activation, g, a, sums):
    """BP2's ``g ⊙ σ'(z)`` in place in g (m, n), and ``sums`` ← its column sums (BP3's Σ δ).

    NOTE: a column sum, not a ones-vector GEMV: BLAS rounds columns differently, which would
    break the exact symmetry of identical hidden units (zeros init).
    """
    if activation.name == "relu":
        return kernels.relu_backward(g, a, sums)    # the mask and the sums in one pass
    g = activation.backward(g, a)
    np.add.reduce(g, axis=0, out=sums)
    return g


class FusedBackprop:
    """The hot-path methods of :class:`~chainrule.nn.Network` (a mixin: it uses the network's
    ``weights``, ``biases``, ``sizes``, ``dtype``, ``_layers()``, ``_cost`` and ``penalty``)."""

    @staticmethod
    def _weighted_input(a, W, b, z):
        """z ← a W^T + b, into z: z starts at b and BLAS adds a W^T to it (β = 1)."""
        z[...] = b
        return gemm(1.0, a, W.T, 1.0, z)

    def _forward(self, X):
        """a^L of rows already checked: one gemm per layer, the activation in place."""
        a = X
        for W, b, act in self._layers():
            z = self._weighted_input(a, W, b, np.empty((len(a), len(W)), dtype=self.dtype))
            a = act.forward(z, out=z)
        return a

    def batch_stats(self, Y):
        """:meth:`totals` of the batch of the last :meth:`gradients` call, whose targets are Y.

        Reads a^L from the scratch buffers that call filled (computed with the weights as
        they were before any update since), so it costs no forward pass.

        >>> import numpy as np, chainrule as cr
        >>> net = cr.nn.Network([2, 1], init="zeros", dtype="float64")
        >>> X, Y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0], [0.0]])
        >>> _ = net.gradients(X, Y); net.batch_stats(Y) == net.totals(X, Y)
        True
        """
        if self._last_output is None or len(self._last_output) != len(Y):
            raise InputError("batch_stats: needs the targets of the last gradients() call")
        check_prepared(self._last_output, Y, self.sizes[-1], self.sizes[-1], self.dtype,
                       "batch_stats")
        return self._stats(self._last_output, Y)

    @property
    def last_output(self):
        """a^L of the batch of the last :meth:`gradients` (or :meth:`steps_in_c`) call: a
        scratch buffer the next call overwrites, None before the first."""
        return self._last_output

    def output_totals(self, a, Y):
        """(Σ_x C_0,x, rows right) of outputs ``a`` (rows of a^L) against encoded targets Y:
        :meth:`totals` without its forward pass.

        >>> import numpy as np, chainrule as cr
        >>> net = cr.nn.Network([2, 1], dtype="float64")
        >>> net.output_totals(np.array([[0.5], [0.5]]), np.array([[1.0], [0.0]]))   # 2 · 0.125
        (0.25, 1)
        """
        return self._stats(a, Y)

    def steps_in_c(self, X, Y, rows, Xb, Yb, outputs, decay, plan):
        """Mini-batches of ``rows`` (len(Xb) rows each) of X checked and Y encoded, with an
        optimiser's :class:`~chainrule.training.steps.StepsPlan`, in one call into the C
        extension (:func:`chainrule._fast.kernels.network_steps`): each batch's a^L into
        ``outputs``. The same bits as the batches stepped one :meth:`gradients` call at a time;
        False, having done nothing, where the extension was not built or cannot take them.
        """
        codes = self._codes()
        m = len(Xb)
        acts, deltas, sums = self._buffers(m)
        done = kernels.network_steps(codes, tuple(self.weights), tuple(self.biases), plan.outs,
                                     X, Y, rows, Xb, Yb, acts, deltas, sums, self._row_sums(m),
                                     decay, plan.mode, plan.numbers, outputs, plan.flats,
                                     plan.adam)
        if done:
            self._last_output = acts[-1]
        return done

    def _buffers(self, m):
        """Scratch for a batch of m rows: a^l, δ^l and Σ_rows δ^l per layer."""
        if m not in self._scratch:
            if len(self._scratch) >= 4:  # e.g. a full batch size and a last partial one
                self._scratch.clear()
                self._rowsums.clear()
            acts = [np.empty((m, k), dtype=self.dtype) for k in self.sizes[1:]]
            deltas = [np.empty((m, k), dtype=self.dtype) for k in self.sizes[1:]]
            sums = [np.empty(k, dtype=self.dtype) for k in self.sizes[1:]]
            self._scratch[m] = (acts, deltas, sums)
        return self._scratch[m]

    def _backprop(self, X, Y, l2, n, want_cost, out, scale=1.0, keep=0.0, adam=None):
        m, L = X.shape[0], len(self.weights)
        acts, deltas, sums = self._buffers(m)
        if not want_cost and out is not None and self._c_step(X, Y, l2 / n, out, scale, keep,
                                                              adam):
            self._last_output = acts[L - 1]
            return None, out
        a = X
        for l, (W, b, act) in enumerate(self._layers()):          # forward, into the buffers
            a = act.forward(self._weighted_input(a, W, b, acts[l]), out=acts[l])
        self._last_output = a
        cost = self._cost.fn(a, Y) + self.penalty(l2, n) if want_cost else None
        delta = self._cost.delta(a, Y, self._output, out=deltas[L - 1])   # BP1
        delta *= 1.0 / m                     # the cost's 1/m, carried through BP2 linearly
        grads = [None] * (2 * L) if out is None else out
        total = None      # Σ_rows δ^l, when BP2's σ' step below already summed it
        for l in range(L - 1, -1, -1):
            W, a_prev = self.weights[l], (acts[l - 1] if l else X)
            if l:   # BP2's product first, with W^l as it is: BP4 may write into W^l itself
                below = gemm(1.0, delta, W, 0.0, deltas[l - 1])
            grads[2 * l] = self._bp4(delta, a_prev, W, l2 / n, grads[2 * l], scale, keep)
            grads[2 * l + 1] = self._bp3(delta, grads[2 * l + 1], scale, keep, total)
            if l:
                delta = backward_sums(self._hidden, below, a_prev, sums[l - 1])    # BP2
                total = sums[l - 1]
        if adam is not None:     # Adam's step, parameter by parameter, as the C step runs it
            ms, vs, scratch, beta1, beta2, eps, step_size = adam
            for p, g, m_, v, s in zip(self.params, grads, ms, vs, scratch):
                kernels.adam(p, g, m_, v, s, beta1, beta2, eps, step_size)
        return cost, grads

    def _row_sums(self, m):
        """Scratch for softmax's Σ_k e^(z_k) of m rows, for the C step."""
        rowsums = self._rowsums.get(m)
        if rowsums is None:
            rowsums = self._rowsums[m] = np.empty(m, dtype=self.dtype)
        return rowsums

    def _codes(self):
        """The C step's codes for this network (:func:`kernels.step_codes`), looked up once."""
        if self._step_codes is False:
            self._step_codes = kernels.step_codes(self._hidden.name, self._output.name,
                                                  self._cost.name)
        return self._step_codes

    def _c_step(self, X, Y, decay, out, scale, keep, adam=None):
        """The whole pass below in one call into the C extension, where it was built and takes
        this network and these arrays (the same operations in the same order: the same bits)."""
        codes = self._codes()
        if codes is None:
            return False
        acts, deltas, sums = self._scratch[len(X)]
        return kernels.network_step(codes, tuple(self.weights), tuple(self.biases), out, X, Y,
                                    acts, deltas, sums, self._row_sums(len(X)), scale, keep, decay,
                                    None if adam is None else (*adam[:2], *adam[3:]))

    @staticmethod
    def _bp4(delta, a_prev, W, decay, out, scale, keep):
        """out ← scale·(δ^T a^{l-1} + λ/n W) + keep·out, the L2 term folded into β when out is W."""
        if out is None:
            out = np.empty_like(W)
        if np.may_share_memory(out, W):   # a step in place: W ← (keep + scale·λ/n) W + scale·δ^T a
            return gemm(scale, delta.T, a_prev, keep + scale * decay, out)
        gemm(scale, delta.T, a_prev, keep, out)
        if decay:
            out += (scale * decay) * W
        return out

    @staticmethod
    def _bp3(delta, out, scale, keep, total=None):
        """out ← scale·Σ_rows δ + keep·out; ``total``: Σ_rows δ if summed already (scratch)."""
        if total is None:
            if not keep and scale == 1.0:
                return np.add.reduce(delta, axis=0, out=out)
            total = np.add.reduce(delta, axis=0)
        if out is None:
            out = np.empty_like(total)
        if not keep:
            return np.multiply(total, scale, out=out)
        total *= scale
        if keep != 1.0:
            out *= keep
        out += total
        return out

    def gradients(self, X, Y, l2=0.0, n=None, out=None, scale=1.0, keep=0.0, adam=None):
        """[∂C/∂W^1, ∂C/∂b^1, ...] matching ``params``; X checked, Y encoded (no validation).

        ``out``: optional list of arrays shaped like ``params`` (C-contiguous, same dtype) to
        write the gradients into instead of allocating new ones (e.g. an optimiser's buffers).
        With ``scale`` α and ``keep`` β it computes ``out_i ← α·∂C/∂θ_i + β·out_i`` instead,
        inside BP4's matrix product (BLAS's α and β): ``out=net.params, scale=-η, keep=1``
        *is* an SGD step (``SGD.step_with`` passes the velocity for momentum). ``adam``:
        ``(m, v, scratch, β1, β2, ε, step size)`` (``Adam.step_fused``) also runs
        :func:`chainrule._fast.kernels.adam` on each parameter with its gradient, inside the
        C step right after that gradient is computed. The forward
        activations and δs live in scratch buffers kept per batch size, so one network
        should not compute gradients in two threads at once.

        >>> import numpy as np, chainrule as cr
        >>> net = cr.nn.Network([2, 2], cost="cross-entropy", init="zeros", dtype="float64")
        >>> X, Y = np.array([[1.0, 2.0]]), np.array([[1.0, 0.0]])
        >>> _ = net.gradients(X, Y, out=net.params, scale=-0.1, keep=1.0)   # one step, η = 0.1
        >>> net.weights[0].tolist(), net.biases[0].tolist()
        ([[0.05, 0.1], [-0.05, -0.1]], [0.05, -0.05])
        """
        if out is None and keep:
            raise InputError("gradients: keep= needs the arrays out= to keep")
        check_prepared(X, Y, self.sizes[0], self.sizes[-1], self.dtype, "gradients")
        if out is None and adam is not None:
            raise InputError("gradients: adam= needs the arrays out= for the gradients")
        n = check_l2(l2, n, len(X))
        return self._backprop(X, Y, l2, n, False, out, float(scale), float(keep), adam)[1]

    def value_and_grad(self, X, Y, l2=0.0, n=None):
        """(cost, gradients) in one pass; X checked and Y encoded, as for :meth:`gradients`."""
        check_prepared(X, Y, self.sizes[0], self.sizes[-1], self.dtype, "value_and_grad")
        return self._backprop(X, Y, l2, check_l2(l2, n, len(X)), True, None)
