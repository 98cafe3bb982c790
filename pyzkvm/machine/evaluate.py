"""Evaluate expressions of a chip's constraint DAG on its plain trace (one value per row).

The debug check (debug.py) evaluates the constraints this way; trace generation uses it to
*derive* what a chip sends on a bus (bytes_table.byte_multiplicities), so a chip's interactions
are written once, in its constraints, and never mirrored by hand. Both take each AIR's DAG from
``compiled_air``, which compiles it once per AIR object.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConstraintNotSatisfied
from ..stark.air import CompiledAir
from ..stark.keys import compile_once
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
    constraints were replaced since, as tests that break a chip on purpose do). It is the very
    object the stark backend's keys use (keys.compile_once at the image ID's blowup): the
    expressions evaluated here do not depend on how LogUp batches its helper columns, so a
    prove builds each chip's graph once for trace generation, the debug check and setup."""
    from .image_id import IMAGE_ID_LOG_BLOWUP  # image_id builds on the chip tables, which use this module

    return compile_once(air, (1 << IMAGE_ID_LOG_BLOWUP) + 1)
