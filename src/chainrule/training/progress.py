"""Progress bars over an epoch's mini-batches: tqdm's notebook widget in Jupyter, text elsewhere.

:func:`progress_bar` picks the form: in a Jupyter kernel, tqdm's notebook bar when ipywidgets
is installed, else tqdm's text bar (never an error: ``progress=True`` works without
ipywidgets); in a terminal, the text bar on an interactive stderr; nothing when stderr is
redirected (a log file gets the per-epoch lines only) or tqdm is missing.

>>> progress_bar(100, "epoch 1/3", enabled=False) is None
True
"""

from __future__ import annotations

import sys


def in_notebook() -> bool:
    """True inside a Jupyter kernel (a ZMQ shell), False in a terminal or plain Python."""
    if "ipykernel" not in sys.modules:
        return False
    shell = sys.modules.get("IPython")
    get = getattr(shell, "get_ipython", None)
    return get is not None and type(get()).__name__ == "ZMQInteractiveShell"


def progress_bar(total, desc, enabled=True, unit="batch"):
    """A tqdm bar of ``total`` steps, or None when there is nothing to show it on."""
    if not enabled or total < 2:
        return None
    try:
        from tqdm import tqdm as text_bar  # the text bar (tqdm.std)
    except ImportError:
        return None
    if in_notebook():
        try:
            import ipywidgets  # noqa: F401  (the notebook bar is an ipywidgets widget)
            from tqdm.notebook import tqdm as notebook_bar

            return notebook_bar(total=total, desc=desc, unit=unit, leave=False)
        except ImportError:
            return text_bar(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr)
    if not sys.stderr.isatty():
        return None
    return text_bar(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr)
