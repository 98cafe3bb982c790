"""Interrupts: Ctrl-C (SIGINT) and SIGTERM end a command with nothing half-done.

Both raise an exception in the main thread, so every ``finally`` and ``with`` block runs:
temporary files and folders are removed, and an output file is written only by a rename
after the work is complete (fileio.write_atomically), so the old one stays intact.

An interrupt can arrive while Python runs a ctypes callback (numba loading its cache), where
the exception is printed and dropped ("Exception ignored on calling ctypes callback
function"). The flag set here survives that: ``check_interrupted`` is called before any
output is written and at the end of the command, so a dropped interrupt still ends the
command with status 130 and writes nothing.
"""

from __future__ import annotations

import signal
import threading

#: exit status for an interrupted command: 128 + the signal number, as shells report it
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM

_received: list[int] = []


class Terminated(KeyboardInterrupt):
    """SIGTERM (what ``timeout`` and ``kill`` send), raised like Ctrl-C so that cleanup runs."""


def _on_signal(signum, frame) -> None:
    _received.append(signum)
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def install() -> dict:
    """Route SIGINT and SIGTERM through ``_on_signal``; returns the handlers to ``restore``.
    Outside the main thread (main() called from a worker thread) nothing changes."""
    _received.clear()
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}


def restore(previous: dict) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def check_interrupted() -> None:
    """Raise again an interrupt that arrived earlier but was swallowed on its way up."""
    if _received:
        raise Terminated() if _received[-1] == signal.SIGTERM else KeyboardInterrupt()


def exit_status() -> int:
    """The status for the interrupt received (130 for SIGINT, 143 for SIGTERM)."""
    return EXIT_TERMINATED if _received and _received[-1] == signal.SIGTERM else EXIT_INTERRUPTED
