"""Functions that move entries: both modes to order 2 (a gather's gradient is a scatter-add:
an entry used twice gets both cotangents) and NumPy's values, over random shapes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import chainrule as cr
import chainrule.numpy as cnp
from tests.numpy.common import SETTINGS, assert_values_like_numpy, check, seeds, values

matrices = array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=3)
stacks = array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=3)

# name -> (shapes to draw from, the call with NumPy's arguments, as a function of (module, x))
CASES = {
    "reshape": (stacks, lambda m, x: m.reshape(x, (-1, x.shape[0]))),
    "transpose": (stacks, lambda m, x: m.transpose(x, (2, 0, 1))),
    "ravel": (stacks, lambda m, x: m.ravel(x)),
    "squeeze": (stacks, lambda m, x: m.squeeze(m.expand_dims(x, (0, 2)), axis=0)),
    "expand_dims": (matrices, lambda m, x: m.expand_dims(x, (-1, 0))),
    "moveaxis": (stacks, lambda m, x: m.moveaxis(x, [0, 1], [-1, 0])),
    "swapaxes": (stacks, lambda m, x: m.swapaxes(x, 0, 2)),
    "broadcast_to": (matrices, lambda m, x: m.broadcast_to(x, (2,) + x.shape)),
    "broadcast_arrays": (matrices, lambda m, x: m.broadcast_arrays(x[:, None], x)[1]),
    "atleast_1d": (matrices, lambda m, x: m.atleast_1d(x[0, 0])),
    "atleast_2d": (matrices, lambda m, x: m.atleast_2d(x[0])),
    "atleast_3d": (matrices, lambda m, x: m.atleast_3d(x)),
    "concatenate": (stacks, lambda m, x: m.concatenate([x, x[:, :1] * 2], axis=1)),
    "concatenate_none": (stacks, lambda m, x: m.concatenate([x, x[0]], axis=None)),
    "stack": (matrices, lambda m, x: m.stack([x, x * 3], axis=-1)),
    "vstack": (matrices, lambda m, x: m.vstack([x, x[0]])),
    "hstack": (matrices, lambda m, x: m.hstack([x, x[:, :1]])),
    "dstack": (matrices, lambda m, x: m.dstack([x, x])),
    "column_stack": (matrices, lambda m, x: m.column_stack([x[:, 0], x])),
    "array_split": (stacks, lambda m, x: m.array_split(x, 2, axis=2)[-1]),
    "split": (stacks, lambda m, x: m.split(x, [1], axis=1)[1]),
    "hsplit": (matrices, lambda m, x: m.hsplit(x, [1])[0]),
    "vsplit": (matrices, lambda m, x: m.vsplit(x, [1])[-1]),
    "dsplit": (stacks, lambda m, x: m.dsplit(x, [1])[-1]),
    "flip": (stacks, lambda m, x: m.flip(x, (0, 2))),
    "fliplr": (matrices, lambda m, x: m.fliplr(x)),
    "flipud": (matrices, lambda m, x: m.flipud(x)),
    "rot90": (stacks, lambda m, x: m.rot90(x, 1, (1, 2))),
    "rot90_twice": (matrices, lambda m, x: m.rot90(x, 2)),
    "rot90_back": (matrices, lambda m, x: m.rot90(x, -1)),
    "roll": (stacks, lambda m, x: m.roll(x, (1, -2), axis=(0, 2))),
    "roll_flat": (matrices, lambda m, x: m.roll(x, 2)),
    "repeat": (matrices, lambda m, x: m.repeat(x, 2, axis=1)),
    "repeat_flat": (matrices, lambda m, x: m.repeat(x, 3)),
    "tile": (matrices, lambda m, x: m.tile(x, (2, 1, 2))),
    "pad": (matrices, lambda m, x: m.pad(x, ((1, 0), (2, 1)), constant_values=((1.5, 2), (3, 4)))),
    "pad_edge": (matrices, lambda m, x: m.pad(x, 2, mode="edge")),
    "pad_reflect": (matrices, lambda m, x: m.pad(x, ((0, 1), (1, 1)), mode="symmetric")),
    "pad_wrap": (matrices, lambda m, x: m.pad(x, 1, mode="wrap")),
    "diff": (matrices, lambda m, x: m.diff(x, axis=0)),
    "diff_twice": (stacks, lambda m, x: m.diff(x, n=2, prepend=0.5, append=x[..., :1])),
    "sort": (stacks, lambda m, x: m.sort(x, axis=1)),
    "sort_flat": (matrices, lambda m, x: m.sort(x, axis=None)),
    "take": (stacks, lambda m, x: m.take(x, [0, -1, 0], axis=2)),
    "take_wrap": (matrices, lambda m, x: m.take(x, [[5, 1], [0, 7]], mode="wrap")),
    "take_along_axis": (matrices, lambda m, x: m.take_along_axis(
        x, np.argsort(np.asarray(x), axis=0)[::-1], axis=0)),
}


@pytest.mark.parametrize("name", sorted(CASES))
@SETTINGS
@given(data=st.data(), seed=seeds)
def test_moves(name, data, seed):
    shapes, call = CASES[name]
    x = values(np.random.default_rng(seed), data.draw(shapes), "distinct")
    weights = np.random.default_rng(seed + 1).normal(size=np.shape(call(np, x)))
    check(lambda x: call(cnp, x) * weights, x)
    assert_values_like_numpy(lambda x: call(cnp, x), lambda x: call(np, x), x)


@SETTINGS
@given(shape=stacks, seed=seeds, kth=st.integers(0, 2))
def test_partition_puts_the_kth_entry_in_place(shape, seed, kth):
    x = values(np.random.default_rng(seed), shape, "distinct")
    kth = kth % shape[-1]
    check(lambda x: cnp.partition(x, kth)[..., kth], x)
    np.testing.assert_array_equal(cnp.partition(cr.tensor(x), kth).numpy()[..., kth],
                                  np.partition(x, kth)[..., kth])


def test_select_picks_the_first_condition_that_holds():
    x = np.array([-2.0, -0.5, 0.5, 2.0])
    conditions = [x < -1, x < 1]
    f = lambda x: cnp.select(conditions, [x * 2, x ** 2], default=x * 10)  # noqa: E731
    check(f, x)
    assert_values_like_numpy(f, f, x)  # NumPy's select on plain arrays
    assert np.allclose(cr.grad(lambda x: cnp.sum(f(x)))(x), [2.0, -1.0, 1.0, 10.0])


def test_a_gather_adds_up_the_cotangents_of_repeated_entries():
    x = np.array([1.0, 2.0, 3.0])
    assert np.array_equal(cr.grad(lambda x: cnp.sum(cnp.repeat(x, [2, 0, 3])))(x), [2, 0, 3])
    assert np.array_equal(cr.grad(lambda x: cnp.sum(cnp.pad(x, 2, mode="reflect")))(x),
                          [2.0, 3.0, 2.0])  # reflect: [3 2 | 1 2 3 | 2 1]


def test_sort_ties_give_each_entry_the_cotangent_of_its_place():
    # the stable argsort of [2, 1, 2] is [1, 0, 2]: place 1 (weight 10) goes to x0, place 2
    # (weight 100) to x2, as JAX's sort does
    x = np.array([2.0, 1.0, 2.0])
    weights = np.array([1.0, 10.0, 100.0])
    assert np.array_equal(cr.grad(lambda x: cnp.sum(cnp.sort(x) * weights))(x), [10, 1, 100])
