"""Ctrl-C (SIGINT) and SIGTERM end a command the same way: one line, exit 128 + the signal.

Python turns SIGINT into KeyboardInterrupt; :func:`sigterm_interrupts` turns SIGTERM into
:class:`Terminated`, a KeyboardInterrupt too, so every ``except KeyboardInterrupt`` that keeps
what is done (a sweep's finished runs, a train run's last saved epoch) handles both. The exit
code is what a shell reports for a process ended by the signal: 130 for SIGINT, 143 for SIGTERM.

>>> exit_code(KeyboardInterrupt()), exit_code(Terminated()), signal_name(Terminated())
(130, 143, 'SIGTERM')
"""

from __future__ import annotations

import contextlib
import signal


class Terminated(KeyboardInterrupt):
    """SIGTERM received (``kill PID``, a job scheduler's end of a job)."""

    signum = signal.SIGTERM


def _raise_terminated(signum, frame):
    raise Terminated


@contextlib.contextmanager
def sigterm_interrupts():
    """While inside: SIGTERM raises :class:`Terminated` (in the main thread only)."""
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:          # not the main thread: leave the signal alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def signal_name(stop) -> str:
    """``SIGINT`` or ``SIGTERM``: the signal behind a KeyboardInterrupt."""
    return signal.Signals(getattr(stop, "signum", signal.SIGINT)).name


def exit_code(stop) -> int:
    """128 + the signal's number, as a shell reports a process ended by it."""
    return 128 + int(getattr(stop, "signum", signal.SIGINT))
