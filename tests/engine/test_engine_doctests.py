"""The engine's docstring examples (including the package's own) are true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["chainrule", "chainrule.tensor", "chainrule.ops", "chainrule.ops_shape",
           "chainrule.graph", "chainrule.api", "chainrule.gradcheck"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0
