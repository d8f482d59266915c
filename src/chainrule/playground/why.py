"""Why a number on the page is what it is: a point's ledger, a weight's nudges, path sums and
gradient check, and why training is stuck. All from the session's own network, in float64.

- :func:`ledger`: ``cr.explain`` of one training example — every z, a, δ (BP1/BP2),
  ∂C/∂b (BP3), ∂C/∂w (BP4) and the update of one step with η (Nielsen ch. 2).
- :func:`nudges`: each example of the next mini-batch wants to move w by −η ∂C_x/∂w; their
  mean is −η ∂C/∂w, the step plain SGD takes (3Blue1Brown, "What is backpropagation really
  doing?"). ``step`` is the change the session's optimiser really makes, run on a copy.
- :func:`paths`: ∂C_x/∂w^l_jk as the sum over every path from the weight to the cost of the
  product of the local derivatives on its edges (colah, "Calculus on Computational Graphs"):
  a^(l-1)_k, then σ'(z) · w for each unit passed, then δ^L = ∂C_x/∂z^L at the output.
- :func:`gradcheck`: backprop's ∂C/∂w on the mini-batch against central differences.
- :func:`stuck`: the share of hidden units with σ' ≈ 0 (saturated sigmoid/tanh) or dead relus.

>>> from chainrule.playground.session import Session
>>> s = Session({"dataset": "gauss", "layers": [2], "seed": 0})
>>> p = paths(s, 0, 1, 0, index=3)
>>> p["count"], abs(p["sum"] - p["backprop"]) < 1e-12
(1, True)
"""

from __future__ import annotations

import copy
import math

import numpy as np

import chainrule as cr
from chainrule.errors import InputError, quoted
from chainrule.playground.session import locate
from chainrule.training.batch import batch_step

MAX_PATHS = 2_000           # paths listed for one weight (all are counted)
EPS = 1e-6                  # central differences' step (float64)
SATURATED = 0.01            # σ'(z) below this counts as saturated
STUCK_SHARE = 0.9           # ... on this share of the training points


def _index(session, index):
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < session.n:
        raise InputError(f"index: expected a training example from 0 to {session.n - 1}, "
                         f"got {quoted(index)}")
    return index


def _name(layer, row, col):
    return f"b^{layer + 1}[{row}]" if col is None else f"w^{layer + 1}[{row}][{col}]"


def ledger(session, index):
    """``cr.explain`` of training example ``index`` with the session's η, plus where it is."""
    index = _index(session, index)
    result = cr.explain(session.net, session.X[index], session.Y[index], lr=session.lr)
    result["index"] = index
    result["label"] = np.asarray(session.data.y_train[index]).tolist()
    if session.data.planar:
        result["point"] = session.data.P_train[index].tolist()
    return result


def _per_example(session, idx, layer, row, col):
    """∂C_x/∂θ (with the L2 term λ/n w for a weight) for each row x of ``idx``."""
    trace = session.net.backprop_trace(session.X[idx], session.Y[idx])
    delta = trace.delta[layer][:, row]
    if col is None:
        return delta
    decay = session.l2 / session.n * session.net.weights[layer][row, col]
    return delta * trace.a[layer][:, col] + decay


def nudges(session, layer, row, col=None):
    """Each example of the next mini-batch's nudge −η ∂C_x/∂θ to one weight (or bias), their
    mean, and the change the optimiser really makes when it trains on that batch."""
    W, b = locate(session.net, layer, row, col)
    idx = session.next_batch()
    grads = _per_example(session, idx, layer, row, col)
    lr = session.lr
    clone = _stepped_copy(session, idx)
    before = float(b[row] if col is None else W[row, col])
    after = float(clone.biases[layer][row] if col is None else clone.weights[layer][row, col])
    return {"param": _name(layer, row, col), "value": before, "lr": lr,
            "epoch": session.epoch, "batch": session.batch, "examples": idx.tolist(),
            "gradients": grads.tolist(), "nudges": (-lr * grads).tolist(),
            "mean": float(np.mean(-lr * grads)), "gradient": float(np.mean(grads)),
            "step": after - before, "optimizer": repr(session.optimizer)}


def _stepped_copy(session, idx):
    """A copy of the network after the session's optimiser (a copy too) steps on ``idx``."""
    net = cr.nn.Network.from_config(session.net.config(), session.net.params)
    optimizer = copy.deepcopy(session.optimizer)
    step = batch_step(net, optimizer, session.l2, session.n)
    step(session.X[idx], session.Y[idx])
    return net


def _count_paths(net, layer):
    """Paths from a unit of hidden/output layer ``layer`` to the cost: one per output unit
    reached through one unit of every later layer."""
    return math.prod(net.sizes[layer + 2:])


def _factor_names(layer, col, units, L):
    """What each factor of a path is, named as in Nielsen (layers from 1, units from 0)."""
    names = ["∂z/∂b = 1" if col is None else f"a^{layer}[{col}]"]
    for m in range(1, len(units)):
        l, j, i = layer + m, units[m - 1], units[m]
        names += [f"σ'(z^{l}[{j}])", f"w^{l + 1}[{i}][{j}]"]
    return [*names, f"δ^{L}[{units[-1]}]"]


def paths(session, layer, row, col=None, index=None):
    """∂C_x/∂θ of one example as a path sum; every path listed while they are few."""
    locate(session.net, layer, row, col)
    index = int(session.next_batch()[0]) if index is None else _index(session, index)
    net = session.net
    trace = net.backprop_trace(session.X[index:index + 1], session.Y[index:index + 1])
    L = len(net.weights)
    count = _count_paths(net, layer)
    first = 1.0 if col is None else float(trace.a[layer][0, col])   # ∂z^l_j/∂w = a^(l-1)_k
    start = {"factor": first, "what": "1 (∂z/∂b)" if col is None else
             f"a^{layer}[{col}] (∂z/∂w)"}
    listed, total = [], 0.0
    if count <= MAX_PATHS:
        hidden = cr.nn.ACTIVATIONS[net.activation]
        # σ'(z) of every hidden unit from its output a (what BP2 multiplies by)
        slopes = [hidden.derivative(trace.a[l + 1][0]) for l in range(L - 1)]
        stack = [([row], [first])]
        while stack:
            units, factors = stack.pop()
            l = layer + len(units) - 1              # the weight layer of the last unit
            if l == L - 1:                           # at the output: δ^L = ∂C_x/∂z^L
                factors = [*factors, float(trace.delta[L - 1][0, units[-1]])]
                product = float(np.prod(factors))
                listed.append({"units": units, "factors": factors, "product": product,
                               "names": _factor_names(layer, col, units, L)})
                total += product
                continue
            j = units[-1]
            for i in range(net.sizes[l + 2] - 1, -1, -1):
                stack.append(([*units, i], [*factors, float(slopes[l][j]),
                                            float(net.weights[l + 1][i, j])]))
    backprop = float(trace.grad_biases[layer][row] if col is None
                     else trace.grad_weights[layer][row, col])
    return {"param": _name(layer, row, col), "layer": layer, "index": index, "count": count,
            "start": start, "paths": listed, "listed": len(listed) == count,
            "sum": total if listed else None, "backprop": backprop,
            "factors": "a^(l-1)_k, then σ'(z^m_j) and w^(m+1)_ij for each layer m passed, "
                       "then δ^L_o = ∂C_x/∂z^L_o (BP1)"}


def gradcheck(session, layer, row, col=None):
    """∂C/∂θ on the next mini-batch (with the L2 term): backprop against central differences
    (C(θ + ε) − C(θ − ε)) / 2ε, and ex4's relative difference."""
    W, b = locate(session.net, layer, row, col)
    idx = session.next_batch()
    net = cr.nn.Network.from_config(session.net.config(), session.net.params)
    X, Y = session.X[idx], session.Y[idx]
    l2, n = session.l2, session.n
    grad_w, grad_b = net.backprop(X, Y, l2, n)
    backprop = float(grad_b[layer][row] if col is None else grad_w[layer][row, col])
    target = net.biases[layer] if col is None else net.weights[layer]
    where = (row,) if col is None else (row, col)
    theta = float(target[where])
    costs = []
    for shift in (EPS, -EPS):
        target[where] = theta + shift
        costs.append(net.cost(X, Y, l2, n))
    numeric = (costs[0] - costs[1]) / (2 * EPS)
    total = abs(backprop) + abs(numeric)
    relative = 0.0 if backprop == numeric else abs(backprop - numeric) / total
    return {"param": _name(layer, row, col), "examples": len(idx), "eps": EPS,
            "backprop": backprop, "numeric": numeric, "relative_difference": relative,
            "ok": relative < 1e-6 or abs(backprop - numeric) < 1e-9}


def stuck(session):
    """Per hidden layer: the units saturated (σ' < 0.01) or dead (relu: a = 0) on at least 90 %
    of the training points, and a hint when they are many."""
    net = session.net
    hidden = cr.nn.ACTIVATIONS[net.activation]
    a = session.X
    layers, flagged, units = [], 0, 0
    for W, b in zip(net.weights[:-1], net.biases[:-1]):
        a = hidden.forward(a @ W.T + b)
        if net.activation in ("relu", "leaky-relu"):
            off = np.mean(a <= 0, axis=0)         # relu's σ' = 0 (leaky: 0.01) where z ≤ 0
        elif net.activation == "identity":
            off = np.zeros(a.shape[1])
        else:
            off = np.mean(hidden.derivative(a) < SATURATED, axis=0)
        bad = np.flatnonzero(off >= STUCK_SHARE)
        layers.append({"share_off": off.tolist(), "stuck_units": bad.tolist()})
        flagged, units = flagged + bad.size, units + a.shape[1]
    share = flagged / units if units else 0.0
    if not flagged:
        hint = "no hidden unit is stuck: each has σ'(z) well above 0 on most training points"
    elif net.activation in ("relu", "leaky-relu"):
        hint = (f"{flagged} of {units} hidden units are dead (z ≤ 0 on ≥ 90 % of the training "
                "points): BP2 multiplies their δ by σ'(z) = 0, so no gradient reaches the "
                "weights into them. Try leaky-relu, a smaller learning rate, or reset.")
    else:
        hint = (f"{flagged} of {units} hidden units are saturated (σ'(z) < 0.01 on ≥ 90 % of "
                "the training points): BP2 multiplies their δ by σ'(z) ≈ 0, so the weights "
                "into them barely move. Try a smaller learning rate, smaller inputs (fewer "
                "squared features), more L2, or relu.")
    return {"activation": net.activation, "layers": layers, "stuck": flagged, "units": units,
            "share": share, "hint": hint}
