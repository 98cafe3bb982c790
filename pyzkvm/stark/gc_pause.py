"""Pause Python's cycle collector while building large object graphs that make no garbage.

Compiling an AIR (air.py) creates a few hundred thousand DAG nodes that all stay alive, and
flattening a DAG to a tape (tape.py) or digesting it (keys.air_digest) walks them with many
small temporary tuples. None of that is cyclic garbage, but CPython's generational collector
runs every 700 net allocations and periodically rescans every tracked object, the whole
growing DAG included: for the machine's ~50 chips that rescanning was about a quarter of a
warm fibonacci(10) prove's CPU (bench/results/cold_start.md, 2026-12-05 warm section).
Reference counting still frees everything acyclic at once; cycles made meanwhile are
collected at the next collection after the pause.
"""

from __future__ import annotations

import functools
import gc


def without_cycle_collection(function):
    """Decorate ``function`` to run with the cycle collector paused (reentrant: an inner call
    leaves it to the outermost one to turn the collector back on)."""

    @functools.wraps(function)
    def paused(*args, **kwargs):
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused
