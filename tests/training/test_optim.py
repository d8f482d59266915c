"""Optimisers on plain arrays: closed forms, hand-worked steps, textbook references, state."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.errors import InputError
from chainrule.training.optim import CG, LBFGS, SGD, Adam, optimizer_from_config
from chainrule.training.schedules import Cosine, ReduceOnPlateau, StepDecay, schedule_from_config


def bowl_gradient(w, h):
    """∇ of the quadratic bowl C(w) = ½ Σ h_i w_i² (minimum at 0)."""
    return h * w


def test_sgd_on_a_bowl_follows_the_closed_form():
    # w_{t} = (1 − η h)^t w_0 exactly, coordinate by coordinate
    h, w0, lr = np.array([1.0, 0.5, 2.0]), np.array([3.0, -2.0, 1.0]), 0.3
    w = w0.copy()
    opt = SGD(lr=lr)
    for _ in range(25):
        opt.step([w], [bowl_gradient(w, h)])
    np.testing.assert_allclose(w, (1 - lr * h) ** 25 * w0, rtol=1e-12)


def test_momentum_and_nesterov_steps_worked_by_hand():
    # C = ½ w², w0 = 1, η = 0.1, μ = 0.5
    # momentum: v1 = −0.1, w1 = 0.9;  v2 = 0.5(−0.1) − 0.1(0.9) = −0.14, w2 = 0.76
    w, opt = np.array([1.0]), SGD(lr=0.1, momentum=0.5)
    for expected in (0.9, 0.76):
        opt.step([w], [w.copy()])
        assert w[0] == pytest.approx(expected, abs=1e-15)
    # Nesterov (w' = w + μv' − η∇C): v1 = −0.1, w1 = 1 − 0.1 − 0.05 = 0.85;
    # v2 = −0.05 − 0.085 = −0.135, w2 = 0.85 − 0.085 − 0.0675 = 0.6975
    w, opt = np.array([1.0]), SGD(lr=0.1, momentum=0.5, nesterov=True)
    for expected in (0.85, 0.6975):
        opt.step([w], [w.copy()])
        assert w[0] == pytest.approx(expected, abs=1e-15)


def reference_adam(grads, w0, lr, b1, b2, eps):
    """Kingma & Ba's Algorithm 1, written plainly (m̂, v̂ bias-corrected)."""
    w, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), steps=st.integers(1, 12),
       b1=st.floats(0.0, 0.99), b2=st.floats(0.5, 0.9999), lr=st.floats(1e-4, 1.0))
def test_adam_matches_the_papers_algorithm(seed, steps, b1, b2, lr):
    rng = np.random.default_rng(seed)
    grads = [rng.normal(size=(3, 4)) for _ in range(steps)]
    w0 = rng.normal(size=(3, 4))
    w, opt = w0.copy(), Adam(lr=lr, beta1=b1, beta2=b2, eps=1e-8)
    for g in grads:
        opt.step([w], [g.copy()])
    np.testing.assert_allclose(w, reference_adam(grads, w0, lr, b1, b2, 1e-8), rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("make", [lambda: SGD(lr=0.05), lambda: SGD(lr=0.02, momentum=0.9),
                                  lambda: SGD(lr=0.02, momentum=0.9, nesterov=True),
                                  lambda: Adam(lr=0.05)])
def test_each_optimiser_solves_least_squares(make):
    rng = np.random.default_rng(1)
    A, b = rng.normal(size=(40, 3)), rng.normal(size=40)
    expected = np.linalg.lstsq(A, b, rcond=None)[0]
    w, opt = np.zeros(3), make()
    for _ in range(3000):
        opt.step([w], [A.T @ (A @ w - b) / len(A)])      # ∇ of 1/(2n)||Aw − b||²
    np.testing.assert_allclose(w, expected, atol=1e-4)


def test_steps_update_in_place_and_float32_stays_float32():
    for opt in (SGD(lr=0.1), SGD(lr=0.1, momentum=0.9), Adam()):
        w = np.ones((2, 3), dtype=np.float32)
        before = w.__array_interface__["data"][0]
        opt.step([w], [np.full((2, 3), 0.5, dtype=np.float32)])
        assert w.dtype == np.float32 and w.__array_interface__["data"][0] == before
        assert (w < 1).all()


@pytest.mark.parametrize("make", [lambda: SGD(lr=0.1), lambda: SGD(lr=0.1, momentum=0.8),
                                  lambda: SGD(lr=0.1, momentum=0.8, nesterov=True),
                                  lambda: Adam(lr=0.1)])
def test_state_dict_round_trip_continues_exactly(make):
    rng = np.random.default_rng(3)
    grads = [[rng.normal(size=(2, 2)), rng.normal(size=2)] for _ in range(6)]
    full = [np.ones((2, 2)), np.zeros(2)]
    opt = make()
    for g in grads:
        opt.step(full, [x.copy() for x in g])
    half = [np.ones((2, 2)), np.zeros(2)]
    first = make()
    for g in grads[:3]:
        first.step(half, [x.copy() for x in g])
    second = optimizer_from_config(first.config())
    second.load_state_dict(first.state_dict(), half)
    for g in grads[3:]:
        second.step(half, [x.copy() for x in g])
    for a, b in zip(full, half):
        assert np.array_equal(a, b)


def test_state_dict_refuses_arrays_of_the_wrong_shape():
    opt = SGD(lr=0.1, momentum=0.9)
    opt.step([np.ones(3)], [np.ones(3)])
    with pytest.raises(InputError, match=r"velocity\[0\]: shape \(3,\)"):
        SGD(lr=0.1, momentum=0.9).load_state_dict(opt.state_dict(), [np.ones(4)])


@pytest.mark.parametrize("call, message", [
    (lambda: SGD(lr=0), "lr"), (lambda: SGD(lr=float("nan")), "lr"),
    (lambda: SGD(lr=-1), "lr"), (lambda: SGD(lr=0.1, momentum=1.0), "momentum"),
    (lambda: SGD(lr=0.1, nesterov=True), "nesterov"), (lambda: Adam(beta1=1.0), "beta1"),
    (lambda: Adam(eps=0), "eps"), (lambda: CG(max_iter=0), "max_iter"),
    (lambda: LBFGS(max_iter=2.5), "max_iter"), (lambda: SGD(lr="3"), "lr"),
    (lambda: optimizer_from_config({"name": "RMSprop"}), "optimizer"),
    (lambda: optimizer_from_config({"name": "SGD", "lr": 1.0, "decay": 2}), "unexpected"),
])
def test_bad_hyperparameters_are_input_errors(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_config_round_trips_every_optimiser():
    for opt in (SGD(lr=0.5, momentum=0.9, nesterov=True, schedule=StepDecay(5)),
                Adam(lr=0.01, beta1=0.8), CG(max_iter=7), LBFGS(max_iter=9)):
        assert optimizer_from_config(opt.config()).config() == opt.config()


def test_scipy_minimisers_have_no_step():
    with pytest.raises(InputError, match="SciPy"):
        CG().step([np.ones(2)], [np.ones(2)])


# ----------------------------------------------------------------- schedules
def test_step_decay_and_cosine_values():
    step = StepDecay(every=3, factor=0.1)
    assert [step(e, 1.0, None) for e in (0, 2, 3, 6)] == pytest.approx([1, 1, 0.1, 0.01])
    cosine = Cosine(epochs=4, min_lr=0.1)
    values = [cosine(e, 1.1, None) for e in range(6)]
    assert values[0] == pytest.approx(1.1) and values[4] == pytest.approx(0.1)
    assert values[2] == pytest.approx(0.6)                     # half way: the mean
    assert values[5] == pytest.approx(0.1)                     # stays at the floor
    assert all(a >= b for a, b in zip(values, values[1:]))


class FakeHistory:
    def __init__(self, **lists):
        self.__dict__.update(lists)


def test_reduce_on_plateau_halves_after_patience_and_respects_the_floor():
    # costs: 1.0, 0.9 (better), 0.95, 0.92 (2 without improvement: halve), 0.91, 0.93 (halve)
    h = FakeHistory(val_cost=[1.0, 0.9, 0.95, 0.92, 0.91, 0.93])
    plateau = ReduceOnPlateau(monitor="val_cost", patience=2, factor=0.5, min_lr=0.5)
    assert [plateau(e, 4.0, h) for e in range(7)] == [4, 4, 4, 4, 2, 2, 1]
    floor = ReduceOnPlateau(monitor="val_cost", patience=1, factor=0.1, min_lr=0.5)
    assert floor(6, 4.0, h) == 0.5


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.floats(0, 1), min_size=1, max_size=30), patience=st.integers(1, 5))
def test_plateau_only_ever_lowers_the_rate(values, patience):
    h = FakeHistory(val_accuracy=values)
    plateau = ReduceOnPlateau(patience=patience)
    rates = [plateau(e, 1.0, h) for e in range(len(values) + 1)]
    assert all(a >= b for a, b in zip(rates, rates[1:]))
    halvings = [round(math.log2(1 / r)) for r in rates]
    assert halvings[-1] <= len(values) // patience


def test_schedule_config_round_trip_and_errors():
    for s in (StepDecay(2, 0.3), Cosine(10, 0.01), ReduceOnPlateau("train_cost", 3, 0.2)):
        assert schedule_from_config(s.config()).config() == s.config()
    with pytest.raises(InputError, match="schedule"):
        schedule_from_config({"name": "exponential"})
    with pytest.raises(InputError, match="monitor"):
        ReduceOnPlateau(monitor="val_loss")
    with pytest.raises(InputError, match="every"):
        StepDecay(every=0)


@pytest.mark.parametrize("make", [lambda: SGD(lr=0.1), lambda: SGD(lr=0.1, momentum=0.9),
                                  lambda: SGD(lr=0.1, momentum=0.9, nesterov=True),
                                  lambda: Adam(lr=0.1)])
def test_updates_in_cache_sized_pieces_equal_whole_array_updates(make, monkeypatch):
    from chainrule._fast import kernels

    monkeypatch.setattr(kernels, "_kernels", None)         # the NumPy passes, in pieces
    rng = np.random.default_rng(0)
    start = [rng.normal(size=(37, 11)).astype(np.float32), rng.normal(size=(5, 9)).T.copy().T,
             rng.normal(size=50)]
    grads = [[rng.normal(size=p.shape).astype(p.dtype) for p in start] for _ in range(3)]
    results = []
    for piece in (1 << 20, 7):                              # whole arrays, then pieces of 7
        monkeypatch.setattr(kernels, "PIECE", piece)
        params, opt = [p.copy(order="K") for p in start], make()
        assert not params[1].flags.c_contiguous            # updated whole, still in place
        for g in grads:
            opt.step(params, [x.copy() for x in g])
        results.append(params)
    for whole, pieces in zip(*results):
        assert np.array_equal(whole, pieces)
    assert not np.array_equal(results[0][1], start[1])


@pytest.mark.parametrize("make", [lambda: SGD(lr=0.1), lambda: SGD(lr=0.1, momentum=0.9),
                                  lambda: Adam(lr=0.1)])
def test_transposed_gradients_are_stepped_in_c_order_with_the_same_result(make, monkeypatch):
    """cr.grad's ∂C/∂W of a cr.transpose(W) is an F-ordered view: the update copies it to C
    order (so no pass runs strided) and gives exactly the update of a C-ordered copy."""
    from chainrule._fast import kernels

    seen = []
    pieces = kernels.pieces
    monkeypatch.setattr(kernels, "pieces", lambda arrays: seen.append(
        [a.flags.c_contiguous for a in arrays]) or pieces(arrays))
    monkeypatch.setattr(kernels, "PIECE", 64)                # several pieces per array
    monkeypatch.setattr(kernels, "_kernels", None)           # the NumPy passes
    rng = np.random.default_rng(1)
    start = [rng.normal(size=(30, 20)).astype(np.float32), rng.normal(size=20)]
    grads = [[rng.normal(size=p.shape[::-1]).astype(p.dtype).T for p in start]
             for _ in range(3)]                               # F-ordered views, like cr.grad's
    assert not grads[0][0].flags.c_contiguous
    results = []
    for transform in (lambda g: g, np.ascontiguousarray):
        params, opt = [p.copy() for p in start], make()
        for g in grads:
            kept = [x.copy(order="K") for x in g]
            opt.step(params, [transform(x) for x in g])
            assert all(np.array_equal(a, b) for a, b in zip(g, kept))   # gradients untouched
        results.append(params)
    assert seen and all(all(flags) for flags in seen)
    for a, b in zip(*results):
        assert np.array_equal(a, b) and not np.array_equal(a, start[0] if a.ndim == 2 else
                                                           start[1])


@settings(max_examples=30, deadline=None)
@given(momentum=st.sampled_from([0.0, 0.5, 0.9, 0.99]), nesterov=st.booleans(),
       steps=st.integers(1, 400), seed=st.integers(0, 1000))
def test_step_with_a_fused_gradient_is_step(momentum, nesterov, steps, seed):
    """SGD.step_with(params, accumulate) (the gradient computed into its target by the model)
    follows step(params, grads) to rounding, across the velocity-scale folds (μ = 0.9 folds
    every 105 steps) and through state_dict, which holds v itself."""
    nesterov = nesterov and momentum > 0
    rng = np.random.default_rng(seed)
    h = rng.uniform(0.1, 2.0, 6)
    plain_w = [rng.normal(size=(2, 2)), rng.normal(size=2)]
    fused_w = [w.copy() for w in plain_w]
    plain, fused = (SGD(lr=0.05, momentum=momentum, nesterov=nesterov) for _ in range(2))

    def accumulate(out, scale, keep):                 # out ← scale ∇C(w) + keep out
        grads = [bowl_gradient(w, hw) for w, hw in zip(fused_w, (h[:4].reshape(2, 2), h[4:]))]
        for o, g in zip(out, grads):
            o *= keep
            o += scale * g

    for _ in range(steps):
        plain.step(plain_w, [bowl_gradient(w, hw) for w, hw in
                             zip(plain_w, (h[:4].reshape(2, 2), h[4:]))])
        fused.step_with(fused_w, accumulate)
    for a, b in zip(plain_w, fused_w):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    for key in plain.state_dict():
        if key not in ("lr", "step"):
            for a, b in zip(plain.state_dict()[key], fused.state_dict()[key]):
                np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
