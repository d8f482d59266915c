"""The two kinds of failure chainrule reports to its users.

``InputError`` is bad input (a file, a flag, an array of the wrong shape): the CLI prints
its message on one line and exits 2. ``RunFailed`` is a run that went wrong after the
input was accepted (a diverging cost, say): the CLI exits 1. Both carry a message that
names the problem, so no traceback is needed to understand them. A value quoted in a message
goes through :func:`quoted`, so a 3 MB cell makes a short line, not a 3 MB one.

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


QUOTE_LIMIT = 60    # characters of a value quoted in an error message


def quoted(value, limit: int = QUOTE_LIMIT, render=repr) -> str:
    """``render(value)`` (``repr``; ``json.dumps`` for a value read from JSON) for a message, cut
    to about ``limit`` characters with an ellipsis and the full length.

    >>> quoted("x"), quoted("ab" * 50, limit=6)
    ("'x'", "'ababab'… (100 characters)")
    >>> quoted(list(range(100)), limit=10)
    '[0, 1, 2, … (390 characters)'
    """
    if isinstance(value, str | bytes):     # cut the value, so that its quotes stay whole
        unit = "characters" if isinstance(value, str) else "bytes"
        return render(value) if len(value) <= limit else \
            f"{render(value[:limit])}… ({len(value)} {unit})"
    text = render(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"
