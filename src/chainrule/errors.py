"""The two kinds of failure chainrule reports to its users.

``InputError`` is bad input (a file, a flag, an array of the wrong shape): the CLI prints
its message on one line and exits 2. ``RunFailed`` is a run that went wrong after the
input was accepted (a diverging cost, say): the CLI exits 1. Both carry a message that
names the problem, so no traceback is needed to understand them.

>>> try:
...     raise InputError("layers: expected integers >= 1, got '0'")
... except ValueError as e:
...     print(e)
layers: expected integers >= 1, got '0'
"""


class InputError(ValueError):
    """Bad input from the user: wrong shape, bad value, unreadable or hostile file."""


class RunFailed(RuntimeError):
    """A run that failed after its input was accepted (e.g. the cost became NaN)."""
