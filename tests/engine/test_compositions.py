"""Random programs: any composition of the engine's ops, with fan-out and broadcasting, has the
derivatives central differences give, in reverse and forward mode and to second order."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import check_grads
from chainrule.engine.ops import cos, sin

# smooth everywhere, so finite differences are reliable at any point
UNARY = {
    "tanh": cr.tanh,
    "sigmoid": cr.sigmoid,
    "sin": sin,
    "cos": cos,
    "exp∘tanh": lambda u: cr.exp(cr.tanh(u)),
    "square": lambda u: u * u,
    "log(1+u²)": lambda u: cr.log(u * u + 1.0),
    "sqrt(1+u²)": lambda u: cr.sqrt(1.0 + u ** 2),
    "softmax": lambda u: cr.softmax(u, axis=-1),
    "log_softmax": lambda u: cr.log_softmax(u, axis=0),
    "sum": lambda u: cr.sum(u, axis=-1, keepdims=True),
    "mean": lambda u: u.mean(axis=0, keepdims=True),
    "neg": lambda u: -u,
    "transpose twice": lambda u: u.T.T,
    "reshape": lambda u: cr.reshape(cr.reshape(u, (-1,)), u.shape),
    "getitem": lambda u: cr.concatenate([u[..., 1:], u[..., :1]], axis=-1),
}
BINARY = {
    "add": lambda u, v: u + v,
    "sub": lambda u, v: u - v,
    "mul": lambda u, v: u * v,
    "div": lambda u, v: u / (v * v + 1.0),
    "pow": lambda u, v: (u * u + 1.0) ** cr.tanh(v),
    "where": lambda u, v: cr.where(np.array([True, False, True]), u, v),
    "stack+sum": lambda u, v: cr.sum(cr.stack([u + 0 * v, v + 0 * u]), axis=0),
}

program_steps = st.lists(
    st.one_of(
        st.tuples(st.just("unary"), st.sampled_from(sorted(UNARY)), st.integers(0, 99)),
        st.tuples(st.just("binary"), st.sampled_from(sorted(BINARY)), st.integers(0, 99),
                  st.integers(0, 99)),
    ),
    min_size=1, max_size=7,
)


def run(program, x, y):
    """Each step reads earlier values (any of them: fan-out) and appends its result."""
    values = [x, y]
    for step in program:
        if step[0] == "unary":
            values.append(UNARY[step[1]](values[step[2] % len(values)]))
        else:
            u, v = values[step[2] % len(values)], values[step[3] % len(values)]
            values.append(BINARY[step[1]](u, v))
    return values[-1] * 1.0 + 0.5 * values[-2]


@settings(max_examples=30, deadline=None)
@given(program=program_steps, seed=st.integers(0, 2**32 - 1))
def test_random_programs_first_and_second_order(program, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(2, 3)), rng.normal(size=3)  # (2, 3) and (3,): broadcasting
    check_grads(lambda x, y: run(program, x, y), x, y, order=2)


@settings(max_examples=15, deadline=None)
@given(program=program_steps, seed=st.integers(0, 2**32 - 1))
def test_random_programs_jacfwd_equals_jacrev_and_float32_is_kept(program, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(2, 3)), rng.normal(size=3)
    f = lambda x: run(program, x, y)  # noqa: E731
    assert np.allclose(cr.jacfwd(f)(x), cr.jacrev(f)(x), atol=1e-12)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    g32 = cr.grad(lambda x: cr.sum(run(program, x, y32)))(x32)
    assert g32.dtype == np.float32
    g64 = cr.grad(lambda x: cr.sum(run(program, x, y)))(x)
    assert np.allclose(g32, g64, rtol=1e-3, atol=1e-4)
