"""The runnable examples in the docstrings of the modules outside the engine and chainrule.nn
(those two have their own: tests/engine/test_engine_doctests.py, tests/nn/test_examples.py)."""

import doctest
import importlib

import pytest

MODULES = ["chainrule.blas", "chainrule.flat", "chainrule.kernels", "chainrule.optim",
           "chainrule.schedules", "chainrule.training", "chainrule.callbacks", "chainrule.nn.io",
           "chainrule.ledger", "chainrule.expr", "chainrule.diagram", "chainrule.diagram_render",
           "chainrule.plots", "chainrule.fsutil", "chainrule.errors", "chainrule.bench",
           "chainrule.bench_peers", "chainrule.data", "chainrule.data.idx",
           "chainrule.data.tabular", "chainrule.data.prepare", "chainrule.data.mnist",
           "chainrule.data.image", "chainrule.data.sources", "chainrule.data.digits"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name),
                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
