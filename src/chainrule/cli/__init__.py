"""The ``chainrule`` command line: ``main`` (the parser and the error boundary) and the commands.

The library never imports this package; it imports the library.
"""

from __future__ import annotations

from chainrule.cli.main import main

__all__ = ["main"]
