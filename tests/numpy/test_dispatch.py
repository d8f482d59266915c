"""What chainrule.numpy returns (NumPy's results for plain arrays, Tensors when a Tensor is in),
NumPy's own functions on Tensors (the twins, or a TypeError naming what to do), complex values
refused, and docs/numpy.md holding every function."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.numpy._wrap import COVERAGE, NOT_DIFFERENTIABLE
from tests.numpy.common import SETTINGS, assert_values_like_numpy, check, seeds

DOCS = Path(__file__).resolve().parents[2] / "docs" / "numpy.md"


def test_plain_arrays_get_numpy_s_own_results():
    x = np.array([[0.5, -1.0], [2.0, 3.0]])
    for name, args in [("var", (x,)), ("prod", (x,)), ("einsum", ("ij,jk", x, x)),
                       ("sort", (x,)), ("cumprod", (x,)), ("tan", (x,))]:
        got, want = getattr(cnp, name)(*args), getattr(np, name)(*args)
        assert type(got) is type(want) and np.array_equal(got, want), name
    assert type(cnp.linalg.det(x)) is np.float64
    assert cnp.exp(1.0) == np.exp(1.0) and type(cnp.exp([1.0, 2.0])) is np.ndarray


def test_a_tensor_in_gives_a_tensor_out_with_its_graph():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cnp.sum(cnp.square(w) * cnp.arange(2.0))
    assert type(y) is cr.Tensor
    y.backward()
    assert np.array_equal(w.grad, [0.0, 4.0])


def test_numpy_functions_on_tensors_run_the_twins():
    def f(x):  # written with NumPy itself
        return np.sum(np.exp(x) * np.ones(3)) + np.linalg.det(np.outer(x, x) + np.eye(3)) \
            + np.concatenate([x, np.zeros(1)]).max()
    x = np.array([0.1, -0.4, 0.3])
    cr.check_grads(f, x)
    assert np.isclose(f(cr.tensor(x)).item(), f(x))


def test_numpy_functions_without_a_twin_refuse_a_tensor():
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="numpy.unique .* chainrule.numpy has no unique"):
        np.unique(t)
    with pytest.raises(TypeError, match="numpy.fft.fft .* t.numpy()"):
        np.fft.fft(t)
    with pytest.raises(TypeError, match="numpy.add.reduce .* sum"):
        np.add.reduce(t)
    with pytest.raises(TypeError, match="cannot write a chainrule Tensor into an array"):
        a = np.zeros(2)
        a += t
    with pytest.raises(TypeError, match=r"numpy.exp with \['dtype'\]"):
        np.exp(t, dtype=np.float32)
    with pytest.raises(TypeError, match="numpy.frexp .* no frexp"):
        np.frexp(t)
    assert type(np.asarray(t)) is np.ndarray  # the explicit way to a plain array
    assert np.array_equal(np.shape(t), (2,)) and np.array_equal(np.isnan(t), [False, False])


def test_complex_values_are_refused_with_a_type_error():
    with pytest.raises(TypeError, match="complex"):
        cr.tensor([1.0 + 2.0j])
    with pytest.raises(TypeError, match="argument 0 is complex"):
        cr.grad(lambda z: cnp.abs(z))(np.array(1.0 + 1.0j))
    with pytest.raises(TypeError, match="the output of f is complex"):
        cr.grad(lambda x: x * (1.0 + 1.0j))(1.0)  # a complex-valued function
    with pytest.raises(TypeError, match="complex"):
        cr.grad(lambda x: cnp.sum(cnp.multiply(x, np.array([1.0j]))))(np.ones(1))
    with pytest.raises(TypeError, match="a value inside f is complex"):
        cr.grad(lambda x: abs(x * 1j))(1.0)  # complex inside, real outside
    with pytest.raises(TypeError, match="complex"):
        cr.jvp(lambda x: abs(x * 1j), (1.0,), (1.0,))
    with pytest.raises(TypeError, match="complex"):
        cr.tensor([1.0]).astype(np.complex128)
    assert cnp.real(np.array([1.0 + 2.0j])) == 1.0  # plain arrays are NumPy's business


def test_pow_with_exponent_zero_has_derivative_zero_also_at_zero():
    # JAX and autograd: d(x**0)/dx = 0 everywhere, x = 0 included (0 · 0**-1 would be nan),
    # in reverse and forward mode and at second order; d(x**1)/dx = 1 at 0
    assert cr.grad(lambda x: x ** 0.0)(0.0) == 0.0
    assert cr.jvp(lambda x: x ** np.zeros(()), (0.0,), (1.0,))[1] == 0.0
    assert cr.hessian(lambda x: cnp.sum(cnp.power(x, np.array([0.0, 2.0]))))(np.zeros(2)) \
        .tolist() == [[0.0, 0.0], [0.0, 2.0]]
    assert cr.grad(cr.grad(lambda x: x ** 0))(0.0) == 0.0
    assert cr.grad(lambda x: x ** 1.0)(0.0) == 1.0
    assert cr.grad(lambda y: 0.0 ** y)(2.0) == 0.0  # d/dy 0**y: 0 · log 0 taken as 0


def test_known_values_from_jax():
    # jax.grad(jnp.sinc)(0.) == 0 and jax.grad(jax.grad(jnp.sinc))(0.) == -π²/3 (its
    # Maclaurin series 1 - (πx)²/6 + ...); chainrule builds sinc the same way
    assert cr.grad(cnp.sinc)(0.0) == 0.0
    assert np.isclose(cr.grad(cr.grad(cnp.sinc))(0.0), -np.pi ** 2 / 3)
    assert np.isclose(cr.jvp(cr.grad(cnp.sinc), (0.0,), (1.0,))[1], -np.pi ** 2 / 3)
    # jax.grad(jnp.prod)(jnp.array([2., 0., 3.])) == [0., 6., 0.]
    assert np.array_equal(cr.grad(cnp.prod)(np.array([2.0, 0.0, 3.0])), [0.0, 6.0, 0.0])
    # jax.grad(lambda x: jnp.max(x))(jnp.array([1., 3., 3.])) == [0., .5, .5]
    assert np.array_equal(cr.grad(cnp.max)(np.array([1.0, 3.0, 3.0])), [0.0, 0.5, 0.5])
    # jax.grad(jnp.abs)(0.) == 0 (sign 0), and d|x|/dx at -2 is -1
    assert cr.grad(cnp.abs)(0.0) == 0.0 and cr.grad(cnp.abs)(-2.0) == -1.0
    # jax.grad(jnp.arctan2, argnums=(0, 1))(1., 1.) == (0.5, -0.5)
    assert cr.grad(cnp.arctan2, argnums=(0, 1))(1.0, 1.0) == (0.5, -0.5)


def test_docs_list_every_function():
    text = DOCS.read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([\w.]+)` \|", text, re.M))
    assert set(COVERAGE) | set(NOT_DIFFERENTIABLE) <= listed, sorted(
        set(COVERAGE) | set(NOT_DIFFERENTIABLE) - listed)
    for name, how in COVERAGE.items():  # and say how each is differentiated, as the code does
        assert f"| `{name}` | {how} |" in text, name


def test_the_example_at_the_top_of_the_docs_runs_and_says_what_it_claims():
    code = re.search(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S).group(1)
    scope = {}
    exec(compile(code, "docs/numpy.md", "exec"), scope)  # the page's own code, nothing else
    assert np.isclose(scope["slope"], scope["g"] @ scope["g"])  # jvp along g is |g|²
    assert np.allclose(scope["H"], scope["H"].T) and scope["H"].shape == (3, 3)


def test_import_chainrule_loads_chainrule_numpy_only_when_numpy_meets_a_tensor():
    code = ("import sys, numpy as np, chainrule as cr\n"
            "assert 'chainrule.numpy' not in sys.modules\n"
            "t = cr.tensor([0.0, 1.0], requires_grad=True)\n"
            "np.sum(np.exp(t)).backward()\n"
            "assert 'chainrule.numpy' in sys.modules\n"
            "print(t.grad.tolist())\n")
    env = {**os.environ, "PYTHONPATH": str(Path(cr.__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str([1.0, float(np.e)])


@SETTINGS
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), data=st.data(),
       seed=seeds)
def test_concatenate_and_stack_along_every_axis(shape, data, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=shape), rng.normal(size=shape)
    check(lambda x, y: cnp.concatenate([x, y * 2, x], axis=axis), x, y)
    check(lambda x, y: cnp.stack([x, y], axis=axis), x, y)
    check(lambda x, y: cnp.stack([x, y], axis=len(shape)), x, y)  # the new last axis
    assert_values_like_numpy(lambda x, y: cnp.concatenate([x, y], axis=axis),
                             lambda x, y: np.concatenate([x, y], axis=axis), x, y)
    assert_values_like_numpy(lambda x, y: cnp.stack([x, y], axis=axis),
                             lambda x, y: np.stack([x, y], axis=axis), x, y)


def test_a_list_of_tensors_is_one_array():
    assert cr.grad(lambda a, b: cnp.max([a, b * 2]), argnums=(0, 1))(1.0, 3.0) == (0.0, 2.0)
    check(lambda a, b: cnp.sum([[a, b], [b, a]], axis=0) * np.array([1.0, 3.0]), 0.5, -1.5)
