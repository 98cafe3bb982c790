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

from .. import interrupts

#: exit status for an interrupted command: 128 + the signal number, as shells report it
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM

_received: list[int] = []


class Terminated(KeyboardInterrupt):
    """SIGTERM (what ``timeout`` and ``kill`` send), raised like Ctrl-C so that cleanup runs."""


def _on_signal(signum, frame) -> None:
    _received.append(signum)
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def install() -> tuple:
    """Route SIGINT and SIGTERM through ``_on_signal``, and have a thread that waits for the
    prover's other threads check for one (pyzkvm/interrupts.py, read by stark/pool.py); returns
    what ``restore`` puts back. Outside the main thread (main() called from a worker thread)
    nothing changes."""
    _received.clear()
    if threading.current_thread() is not threading.main_thread():
        return {}, None
    handlers = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    check, interrupts.check = interrupts.check, check_interrupted
    return handlers, check


def restore(previous: tuple) -> None:
    handlers, check = previous
    for sig, handler in handlers.items():
        signal.signal(sig, handler)
    if check is not None:
        interrupts.check = check


def check_interrupted() -> None:
    """Raise again an interrupt that arrived earlier but was swallowed on its way up."""
    if _received:
        raise Terminated() if _received[-1] == signal.SIGTERM else KeyboardInterrupt()


def exit_status() -> int:
    """The status for the interrupt received (130 for SIGINT, 143 for SIGTERM)."""
    return EXIT_TERMINATED if _received and _received[-1] == signal.SIGTERM else EXIT_INTERRUPTED
