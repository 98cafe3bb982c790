"""Shared helpers for the machine AIR tests: assemble, execute, build tables, forge."""

from __future__ import annotations

import copy

from pyzkvm.executor import execute
from pyzkvm.machine import build_chips, check_machine, generate_tables
from tests.rvasm import flatten, program


def run_machine(code, inputs=(), data: bytes = b""):
    """Assemble ``code``, execute it with a trace, and build the machine's tables."""
    prog = program(flatten(code), data=data)
    execution = execute(prog, inputs, capture_trace=True)
    chips = build_chips(prog)
    return chips, generate_tables(chips, execution), execution


def forged(tables, edit):
    """A deep copy of the tables with ``edit(copy)`` applied (the original stays valid)."""
    t = copy.deepcopy(tables)
    edit(t)
    return t


__all__ = ["run_machine", "forged", "check_machine"]
