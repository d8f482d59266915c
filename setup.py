"""The project's metadata is in pyproject.toml; this file only declares the optional C kernels.

``chainrule._fast._kernels`` (src/chainrule/_fast/_kernels.c) is built when a C compiler is
there; if the build fails the install goes on and chainrule uses the NumPy versions of the same
kernels (chainrule._fast.kernels), with bit-identical results, only slower.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "chainrule._fast._kernels", ["src/chainrule/_fast/_kernels.c"], optional=True,
    # no fused multiply-add, so the kernels round exactly as NumPy's passes do; no errno from
    # sqrt (its argument is never negative) and no trapping comparisons (nothing reads the FP
    # exception flags), so that GCC vectorises the loops; neither changes a result
    extra_compile_args=["-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"])])
