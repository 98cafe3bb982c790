"""Evaluate expressions of a chip's constraint DAG on its plain trace (one value per row).

The debug check (debug.py) evaluates the constraints this way; trace generation uses it to
*derive* what a chip sends on a bus (bytes_table.byte_multiplicities), so a chip's interactions
are written once, in its constraints, and never mirrored by hand. Both take each AIR's DAG from
``compiled_air``, which compiles it once per AIR object.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConstraintNotSatisfied
from ..stark.air import CompiledAir, compile_air
from ..stark.tape import Inputs, base_columns, plain_inputs, tape_for


def trace_leaves(air, trace, public) -> Inputs:
    """The leaves of ``air``'s DAG on its plain trace: this row and the next (cyclically)."""
    prep = air.preprocessed_trace() if air.preprocessed_width else None
    if prep is not None and prep.shape[0] != trace.shape[0]:
        raise ConstraintNotSatisfied(f"table {air.name!r}: main trace has {trace.shape[0]} rows, preprocessed {prep.shape[0]}")
    return plain_inputs(trace, prep, public)


def evaluate_on_trace(compiled: CompiledAir, exprs: list, trace, public) -> list:
    """Each base-field expression of ``compiled``'s DAG evaluated on every row of ``trace``:
    a list of uint32 arrays (length = the trace's height)."""
    trace = np.asarray(trace, dtype=np.uint32)
    return list(base_columns(tape_for(compiled, list(exprs)), trace_leaves(compiled.air, trace, public),
                             trace.shape[0]))


def compiled_air(air) -> CompiledAir:
    """The AIR's compiled constraint DAG, compiled once per AIR object (again if its class's
    constraints were replaced since, as tests that break a chip on purpose do)."""
    cached = getattr(air, "_compiled", None)
    if cached is None or cached[0] is not type(air).constraints:
        air._compiled = (type(air).constraints, compile_air(air))
    return air._compiled[1]
