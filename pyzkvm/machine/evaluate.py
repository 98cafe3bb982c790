"""Evaluate expressions of a chip's constraint DAG on its plain trace (one value per row).

The debug check (debug.py) evaluates the constraints this way; trace generation uses it to
*derive* what a chip sends on a bus (bytes_table.byte_multiplicities), so a chip's interactions
are written once, in its constraints, and never mirrored by hand. Both take each AIR's DAG from
``compiled_air``, which compiles it once per AIR object.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConstraintNotSatisfied
from ..stark.air import ColumnSource, CompiledAir, Constraint, Leaves, compile_air, evaluate_constraints
from ..stark.domain import plain_selectors


def trace_leaves(air, trace, public) -> Leaves:
    """The leaves of ``air``'s DAG on its plain trace: this row and the next (cyclically)."""
    n = trace.shape[0]
    prep = air.preprocessed_trace() if air.preprocessed_width else None
    if prep is not None and prep.shape[0] != n:
        raise ConstraintNotSatisfied(f"table {air.name!r}: main trace has {n} rows, preprocessed {prep.shape[0]}")
    roll = lambda x: None if x is None else np.roll(x, -1, axis=0)  # noqa: E731 (next row wraps)
    return Leaves((trace, roll(trace)), (prep, roll(prep)), (None, None), np.asarray(public, dtype=np.uint32),
                  None, None, plain_selectors(n))


class RowMajorColumns(ColumnSource):
    """The columns of a row-major trace (N, w), read one at a time as uint32 (the row ``shift``
    positions later, cyclically, for shift > 0): an expression that reads a few columns of a
    wide trace costs those columns, not a copy of the whole matrix."""

    def __init__(self, trace, shift: int = 0):
        super().__init__(None, shift)
        self.trace = trace

    def column(self, c: int) -> np.ndarray:
        col = np.asarray(self.trace[:, c], dtype=np.uint32)
        return np.roll(col, -self.shift) if self.shift else col


def evaluate_on_trace(compiled: CompiledAir, exprs: list, trace, public) -> list:
    """Each base-field expression of ``compiled``'s DAG evaluated on every row of ``trace``:
    a list of uint32 arrays (length = the trace's height; a constant is broadcast)."""
    trace = np.asarray(trace)
    n = trace.shape[0]
    air = compiled.air
    prep = air.preprocessed_trace() if air.preprocessed_width else None
    if prep is not None and prep.shape[0] != n:
        raise ConstraintNotSatisfied(f"table {air.name!r}: main trace has {n} rows, preprocessed {prep.shape[0]}")
    lazy = lambda x: (None, None) if x is None else (RowMajorColumns(x), RowMajorColumns(x, 1))  # noqa: E731
    leaves = Leaves(lazy(trace), lazy(prep), (None, None), np.asarray(public, dtype=np.uint32), None, None,
                    plain_selectors(n))
    out: list = [None] * len(exprs)

    def keep(i, is_ext, value):
        out[i] = np.broadcast_to(np.asarray(value, dtype=np.uint32), (n,))

    evaluate_constraints(compiled.builder.nodes, [Constraint(f"expr {i}", e) for i, e in enumerate(exprs)], leaves, keep)
    return out


def compiled_air(air) -> CompiledAir:
    """The AIR's compiled constraint DAG, compiled once per AIR object (again if its class's
    constraints were replaced since, as tests that break a chip on purpose do)."""
    cached = getattr(air, "_compiled", None)
    if cached is None or cached[0] is not type(air).constraints:
        air._compiled = (type(air).constraints, compile_air(air))
    return air._compiled[1]
