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
from ..stark.tape import L_MAIN_B, Inputs, base_columns, plain_inputs, tape_for


def trace_leaves(air, trace, public) -> Inputs:
    """The leaves of ``air``'s DAG on its plain trace: this row and the next (cyclically)."""
    prep = air.preprocessed_trace() if air.preprocessed_width else None
    if prep is not None and prep.shape[0] != trace.shape[0]:
        raise ConstraintNotSatisfied(f"table {air.name!r}: main trace has {trace.shape[0]} rows, preprocessed {prep.shape[0]}")
    return plain_inputs(trace, prep, public)


def plain_columns(compiled: CompiledAir, exprs: list) -> list:
    """For each expression, the main column it is if it is just that column at the current row
    (else None), read off the tape of ``exprs`` (a stored prover key holds tapes, not the DAG)."""
    tape = tape_for(compiled, list(exprs))
    return [int(tape.a[k]) if tape.op[k] == L_MAIN_B and tape.b[k] == 0 else None for k in tape.roots.tolist()]


def computed(exprs: list) -> list:
    """The expressions of a (real) DAG that evaluate_on_trace hands to a tape: all but the plain
    columns, each node once, in order (machine/prover_key.py stores their tape beside that of
    ``exprs``). A chip's sends repeat nodes: the CPU's 14 byte sends have 35 values that are not
    plain columns but 10 distinct nodes (the tag and the zeros, a multiplicity sent twice)."""
    return _distinct([e for e in exprs if not (e.op == "main" and e.args[1] == 0)])


def _distinct(exprs: list) -> list:
    return list({e.index: e for e in exprs}.values())


def evaluate_on_trace(compiled: CompiledAir, exprs: list, trace, public) -> list:
    """Each base-field expression of ``compiled``'s DAG evaluated on every row of ``trace``:
    a list of uint32 arrays (length = the trace's height), to read, never to write. A plain
    column (most values a chip sends) is that column of the trace, a view: only the others are
    evaluated by a tape, each node once (the expressions of one node share its array)."""
    trace = np.asarray(trace, dtype=np.uint32)
    sources, computed = evaluate_split(compiled, exprs, trace, public)
    return [trace[:, s] if s >= 0 else computed[-1 - s] for s in sources.tolist()]


def evaluate_split(compiled: CompiledAir, exprs: list, trace: np.ndarray, public) -> tuple:
    """evaluate_on_trace's two halves, for a kernel that reads the trace row by row: per
    expression where its values are, an int64 array (``sources``: s ≥ 0 is column s of the
    trace, s < 0 row −1 − s of the computed values), and the (k, height) uint32 values of the
    k distinct nodes that are not plain columns (``computed``'s order), evaluated by one tape."""
    columns = plain_columns(compiled, exprs)
    rest = _distinct([e for e, col in zip(exprs, columns) if col is None])
    row_of = {e.index: r for r, e in enumerate(rest)}
    sources = np.array([col if col is not None else -1 - row_of[e.index] for e, col in zip(exprs, columns)],
                       dtype=np.int64)
    computed = (base_columns(tape_for(compiled, rest), trace_leaves(compiled.air, trace, public), trace.shape[0])
                if rest else np.zeros((0, trace.shape[0]), dtype=np.uint32))
    return sources, computed


def compiled_air(air) -> CompiledAir:
    """The AIR's compiled constraint DAG, compiled once per AIR object (again if its class's
    constraints were replaced since, as tests that break a chip on purpose do). It is the very
    object the stark backend's keys use (keys.compile_once at the image ID's blowup): the
    expressions evaluated here do not depend on how LogUp batches its helper columns, so a
    prove builds each chip's graph once for trace generation, the debug check and setup."""
    from .image_id import IMAGE_ID_LOG_BLOWUP  # image_id builds on the chip tables, which use this module

    return compile_once(air, (1 << IMAGE_ID_LOG_BLOWUP) + 1)
