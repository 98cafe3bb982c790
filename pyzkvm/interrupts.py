"""Where a thread that waits for other threads asks whether the command was interrupted.

The prover's thread pool (stark/pool.py) calls ``check()`` while it waits for another thread's
work, and ends the wait if it raises. The CLI points ``check`` at its test for an interrupt whose
exception was dropped on its way up (cli/_signals.py). A module of its own, importing nothing, so
that the CLI sets it without loading the prover: `pyzkvm run`, `info` and `disasm` never import
pyzkvm.stark."""

from __future__ import annotations

from collections.abc import Callable


def _not_interrupted() -> None:
    pass


#: raises (KeyboardInterrupt) when the command was interrupted; by default nothing is
check: Callable[[], None] = _not_interrupted
