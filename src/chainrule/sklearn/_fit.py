"""How the estimators train their Network: scikit-learn's solvers, with chainrule's backprop.

The objective is scikit-learn's. For a mini-batch (or, for L-BFGS and CG, the whole set) of
m rows with sample weights s_x (all 1 when none are given)::

    J = Σ_x s_x C_x / Σ_x s_x  +  α / (2 Σ_x s_x) · Σ_w w²

C_x being the chainrule cost of one example (Nielsen ch. 2-3). Without weights this is the
Network's own cost with λ = α and n = m, the *batch's* size: ``net.gradients(X, Y, α, m)``
is BP1-BP4 with exactly scikit-learn's gradient ``(δ^T a + α W) / m``. (chainrule's
``cr.train`` divides λ by the training set's n instead, Nielsen's convention; that is why the
estimators run their own loop.) With weights, each example's error δ_x is scaled by
s_x / Σ s before BP3/BP4 (:func:`weighted_value_and_grad`).

The epoch loop follows scikit-learn's ``_fit_stochastic`` line for line — the same shuffles
and early-stopping split drawn from the same ``RandomState``, the same stopping rule and
learning-rate schedules — so the defaults start from scikit-learn's weights and see the
batches in scikit-learn's order. SGD (with momentum and Nesterov's look-ahead) is
:class:`chainrule.training.steps.SGD`, its step fused into BP4's product; Adam is
:class:`chainrule.training.steps.Adam` with scikit-learn's placement of ε (see :func:`adam_step`).

>>> import numpy as np, chainrule as cr
>>> net = cr.nn.Network([2, 1], cost="cross-entropy", init="zeros", dtype="float64")
>>> X, Y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0], [0.0]])
>>> J, g = weighted_value_and_grad(net, X, Y, np.ones(2), alpha=0.0)
>>> bool(np.allclose(g[0], net.gradients(X, Y)[0])), round(J, 6)    # ln 2 per example
(True, 0.693147)
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import gen_batches, shuffle

from chainrule import nn, optim


def example_costs(net, a, Y):
    """C_x for each row: the network's cost of one example (its mean over rows is ``cost.fn``)."""
    log = nn.costs.safe_log
    if net.cost_name == "quadratic":
        return 0.5 * np.square(a - Y).sum(axis=1, dtype=np.float64)
    if net.cost_name == "cross-entropy":
        return -(Y * log(a) + (1 - Y) * log(1 - a)).sum(axis=1, dtype=np.float64)
    return -(Y * log(a)).sum(axis=1, dtype=np.float64)                 # log-likelihood


def squared_weights(net):
    """Σ_w w² over the weights (never the biases), as a Python float."""
    return sum(float(np.vdot(W, W)) for W in net.weights)


def weighted_value_and_grad(net, X, Y, s, alpha, data_scale=1.0):
    """(J, [∂J/∂W^1, ∂J/∂b^1, ...]) for sample weights ``s``: BP1-BP4 with δ_x · s_x / Σ s.

    BP2 maps each example's δ to the layer below on its own, so scaling δ^L_x by s_x scales
    δ^l_x in every layer; BP3/BP4 then sum the scaled errors. ``data_scale`` multiplies the
    data term of J only (the regressor reports scikit-learn's mean over outputs).
    """
    trace = net.backprop_trace(X, Y)          # every example's δ, without the 1/m
    total = float(s.sum())
    share = (s / total).astype(net.dtype)[:, None]
    grads = []
    for l, W in enumerate(net.weights):
        delta = trace.delta[l] * share
        grads += [delta.T @ trace.a[l] + (alpha / total) * W, delta.sum(axis=0)]
    data = float(s @ example_costs(net, trace.a[-1], Y)) / total
    return data * data_scale + 0.5 * alpha * squared_weights(net) / total, grads


def make_optimizer(est):
    """chainrule's SGD or Adam with the estimator's settings (``learning_rate_init`` as η)."""
    if est.solver == "sgd":
        return optim.SGD(lr=est.learning_rate_init, momentum=est.momentum,
                   nesterov=bool(est.nesterovs_momentum and est.momentum > 0))
    return optim.Adam(lr=est.learning_rate_init, beta1=est.beta_1, beta2=est.beta_2,
                      eps=est.epsilon)


def adam_step(optimizer, params, grads, epsilon):
    """One Adam step as scikit-learn writes it: w ← w − η √(1−β2^t)/(1−β1^t) · m / (√v + ε).

    NOTE: chainrule's Adam (PyTorch's arrangement) adds ε·√(1−β2^t) to √v instead, so ε is
    divided by √(1−β2^t) for the step: the two updates are then the same number.
    """
    optimizer.eps = epsilon / math.sqrt(1.0 - optimizer.beta2 ** (optimizer.t + 1))
    optimizer.step(params, grads)


class _Batches:
    """Gathers mini-batches into reused buffers (one per batch size), rows in a given order."""

    def __init__(self, X, Y):
        self.X, self.Y, self._buffers = X, Y, {}

    def take(self, rows):
        m = len(rows)
        if m not in self._buffers:
            self._buffers[m] = (np.empty((m, self.X.shape[1]), self.X.dtype),
                                np.empty((m, self.Y.shape[1]), self.Y.dtype))
        Xb, Yb = self._buffers[m]
        self.X.take(rows, axis=0, out=Xb, mode="clip")   # rows come from a permutation
        self.Y.take(rows, axis=0, out=Yb, mode="clip")
        return Xb, Yb


def _flat_like(params):
    """Zero arrays shaped like ``params``, consecutive views of one vector (updated whole)."""
    flat = np.zeros(sum(p.size for p in params), dtype=params[0].dtype)
    views, start = [], 0
    for p in params:
        views.append(flat[start:start + p.size].reshape(p.shape))
        start += p.size
    return views


def _batch_step(est, optimizer, grads, Xb, Yb, sb, data_scale):
    """One optimiser step on a batch; returns its loss × rows, as scikit-learn accumulates it."""
    net, alpha, m = est.network_, est.alpha, len(Xb)
    if sb is not None:
        loss, g = weighted_value_and_grad(net, Xb, Yb, sb, alpha, data_scale)
        if est.solver == "adam":
            adam_step(optimizer, net.params, g, est.epsilon)
        else:
            optimizer.step(net.params, g)
        return loss * m
    penalty = 0.5 * alpha * squared_weights(net) if alpha else 0.0   # weights before the step
    if est.solver == "sgd":      # w ← w − η(∂C/∂w) inside BP4's product (SGD.step_with)
        optimizer.step_with(net.params, lambda out, scale, keep: net.gradients(
            Xb, Yb, alpha, m, out=out, scale=scale, keep=keep))
    else:
        net.gradients(Xb, Yb, alpha, m, out=grads)
        adam_step(optimizer, net.params, grads, est.epsilon)
    return net.batch_stats(Yb)[0] * data_scale + penalty


def fit_stochastic(est, X, Y, s, rng, incremental, data_scale):
    """scikit-learn's ``_fit_stochastic``: epochs of shuffled mini-batches, tol-based stopping."""
    net = est.network_
    if not incremental or getattr(est, "_optimizer", None) is None:
        est._optimizer = make_optimizer(est)
    optimizer = est._optimizer
    if est.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    X_val = y_val = s_val = None
    if est.early_stopping:
        stratify = Y if est._stratified_split() else None
        arrays = (X, Y) if s is None else (X, Y, s)
        parts = train_test_split(*arrays, random_state=rng, test_size=est.validation_fraction,
                                 stratify=stratify)
        X, X_val, Y, Y_val = parts[:4]
        if s is not None:
            s, s_val = parts[4:]
        if len(X_val) < 2:
            raise ValueError("The validation set is too small. Increase 'validation_fraction' "
                             "or the size of your dataset.")
        y_val = est._targets_to_labels(Y_val)
    n = len(X)
    if est.batch_size == "auto":
        batch_size = min(200, n)
    else:
        if est.batch_size > n:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is "
                          "going to be clipped", stacklevel=5)
        batch_size = int(np.clip(est.batch_size, 1, n))
    batches, grads = _Batches(X, Y), _flat_like(net.params)
    order = np.arange(n)
    est.n_iter_ = 0
    for _ in range(est.max_iter):
        if est.shuffle:
            order = shuffle(order, random_state=rng)
        optimizer.start_epoch(est.n_iter_, None)     # (folds SGD's momentum scale back)
        total = 0.0
        for piece in gen_batches(n, batch_size):
            Xb, Yb = batches.take(order[piece])
            sb = None if s is None else s[order[piece]]
            total += _batch_step(est, optimizer, grads, Xb, Yb, sb, data_scale)
        est.n_iter_ += 1
        est.loss_ = total / n
        est.t_ += n
        est.loss_curve_.append(est.loss_)
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")
        _count_no_improvement(est, X_val, y_val, s_val)
        if est.solver == "sgd" and est.learning_rate == "invscaling":
            optimizer.lr = est.learning_rate_init / (est.t_ + 1) ** est.power_t
        if est._no_improvement_count > est.n_iter_no_change:
            watched = "Validation score" if est.early_stopping else "Training loss"
            message = (f"{watched} did not improve more than tol={est.tol:f} for "
                       f"{est.n_iter_no_change} consecutive epochs.")
            if _stop(est, optimizer, message):
                break
            est._no_improvement_count = 0
        if incremental:
            break
        if est.n_iter_ == est.max_iter:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) reached "
                          "and the optimization hasn't converged yet.", ConvergenceWarning,
                          stacklevel=5)
    if est.early_stopping:
        net.from_vector(est._best_params)


def _stop(est, optimizer, message):
    """scikit-learn's ``trigger_stopping``: 'adaptive' SGD divides η by 5 instead, down to 1e-6."""
    if est.solver != "sgd" or est.learning_rate != "adaptive":
        if est.verbose:
            print(message + " Stopping.")
        return True
    if optimizer.lr <= 1e-6:
        if est.verbose:
            print(message + " Learning rate too small. Stopping.")
        return True
    optimizer.lr /= 5.0
    if est.verbose:
        print(message + f" Setting learning rate to {optimizer.lr:f}")
    return False


def _count_no_improvement(est, X_val, y_val, s_val):
    """Epochs without improvement by ``tol``: of the validation score, or else of the loss."""
    if est.early_stopping:
        score = est._score(X_val, y_val, s_val)
        est.validation_scores_.append(score)
        if est.verbose:
            print(f"Validation score: {score:f}")
        if score < est.best_validation_score_ + est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if score > est.best_validation_score_:
            est.best_validation_score_ = score
            est._best_params = est.network_.to_vector()
        return
    if est.loss_curve_[-1] > est.best_loss_ - est.tol:
        est._no_improvement_count += 1
    else:
        est._no_improvement_count = 0
    est.best_loss_ = min(est.best_loss_, est.loss_curve_[-1])


def fit_full_batch(est, X, Y, s, data_scale):
    """L-BFGS (scikit-learn's ``maxiter``, ``maxfun``, ``gtol=tol``) or CG on the whole set.

    SciPy gets J and its gradient in float64 over the unrolled parameters (ex4's thetaVec).
    ``loss_curve_`` holds J after each SciPy iteration (scikit-learn keeps none for L-BFGS).
    """
    net, alpha, n = est.network_, est.alpha, len(X)
    last = {}

    def fun(v):
        net.from_vector(v)
        if s is None:
            cost, grads = net.value_and_grad(X, Y, alpha, n)
            penalty = 0.5 * alpha * squared_weights(net) / n
            cost = (cost - penalty) * data_scale + penalty
        else:
            cost, grads = weighted_value_and_grad(net, X, Y, s, alpha, data_scale)
        last["v"], last["cost"] = v.copy(), float(cost)
        return float(cost), np.concatenate([np.ravel(g) for g in grads]).astype(np.float64)

    def callback(xk):
        if "v" not in last or not np.array_equal(last["v"], xk):
            fun(xk)
        est.loss_curve_.append(last["cost"])
        if est.verbose:
            print(f"Iteration {len(est.loss_curve_)}, loss = {last['cost']:.8f}")

    if est.solver == "lbfgs":
        options = {"maxfun": est.max_fun, "maxiter": est.max_iter, "gtol": est.tol}
        method = "L-BFGS-B"
    else:
        options, method = {"maxiter": est.max_iter, "gtol": est.tol}, "CG"
    result = scipy.optimize.minimize(fun, net.to_vector().astype(np.float64), jac=True,
                                     method=method, callback=callback, options=options)
    if not result.success:
        warnings.warn(f"{est.solver} failed to converge after {result.nit} iteration(s) "
                      f"(status={result.status}): {result.message}. Increase the number of "
                      "iterations (max_iter) or scale the data.", ConvergenceWarning,
                      stacklevel=5)
    est.n_iter_ = min(int(result.nit), est.max_iter)
    net.from_vector(result.x)
    est.loss_ = float(result.fun)
