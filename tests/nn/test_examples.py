"""The runnable examples in the docstrings of chainrule.nn are correct."""

import doctest
import importlib

import pytest

MODULES = ["chainrule.nn", "chainrule.nn.activations", "chainrule.nn.costs", "chainrule.nn.init",
           "chainrule.nn.inputs", "chainrule.nn.network", "chainrule.nn.functional",
           "chainrule.nn.check"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
