"""Optional tables: a table a proof may leave out when it is empty.

An AIR that sets ``optional = True`` claims: *an all-zero table of mine proves nothing* —
every one of its constraints holds on all-zero rows, whatever the public values, and every
bus multiplicity is 0 there, so an all-zero table adds 0 to every LogUp sum. Then leaving the
table out of a proof states exactly what proving an all-zero table of it would: the verifier
needs no commitment, no opening and no LogUp total for it. A chip that only a few programs use
(a precompile, the divider) costs nothing in the proofs of the others.

The claim is checked, not trusted (``check_optional_air``, at key building): the AIR's own
constraints and its multiplicities are evaluated, by the one constraint evaluator (tape.py),
on a 4-row all-zero trace with random public values. On zero columns a constraint is a
polynomial in the public values and the selectors alone. is_first_row and is_last_row tell
apart three kinds of row (first, middle, last); is_transition = x − ω^(n−1) takes another
value on every row but the last, and enters a constraint only as its multiplier
(``when_transition``), so linearly: f₀ + is_transition·f₁ with f₀, f₁ in the public values and
the two row selectors. Four rows have a first row, two middle rows (two different values of
is_transition, which pin both f₀ and f₁) and a last row: so a constraint that is 0 on them at a
random public-value vector is 0 on every all-zero table of any height for every public-value
vector, except with probability ≤ deg/p per trial (Schwartz–Zippel). (An AIR that multiplied
by is_transition twice would need a third middle row; none does.)
The LogUp constraints need no check: with all multiplicities 0, all-zero helper and
running-sum columns satisfy them, with total 0. A preprocessed column is not zero, so an
optional AIR has none.

The rule the prover follows (``left_out``): an optional table whose trace has no non-zero
cell is left out. It is sound by the claim above: what is left out is an all-zero table.
"""

from __future__ import annotations

import struct

import numpy as np

from .. import memo
from ..errors import ConstraintNotSatisfied, StarkConfigError
from .air import CompiledAir
from .field import P

#: rows of the all-zero trace the claim is checked on: the first, two middle rows and the last
CHECK_ROWS = 4


def check_optional_air(compiled: CompiledAir, trials: int = 2, seed: int = 0x0B7) -> None:
    """Refuse (StarkConfigError) an AIR marked optional whose all-zero table is not trivially
    valid: a constraint that fails, or a bus multiplicity that is not 0, on all-zero rows
    (module docstring). Does nothing for an AIR that is not optional. A pass needs numpy only
    (_zero_rows_hold); a failure is named by the row evaluator (tape.py's numba kernels)."""
    from .debug import check_constraints  # debug builds on keys, which calls this
    from .tape import base_columns, plain_inputs, tape_for

    air = compiled.air
    if not getattr(air, "optional", False):
        return
    if air.preprocessed_width:
        raise StarkConfigError(f"AIR {air.name!r} is marked optional but has preprocessed columns: an optional "
                               "table must be all zero when it is left out; drop `optional` or the fixed columns")
    # A passed check is remembered across processes (pyzkvm/memo.py, per code version), keyed
    # by everything it depends on: the AIR's DAG digest (constraints, multiplicities), its
    # width and public values, and the trials. Only a pass is kept: a failure is raised anew.
    from .keys import air_digest

    memo_key = air_digest(compiled) + struct.pack("<5I", air.width, air.num_public_values, trials, seed, CHECK_ROWS)
    if memo.get("optional-ok", memo_key) == b"ok":
        return
    rng = np.random.default_rng(seed)
    publics = [rng.integers(0, P, air.num_public_values, dtype=np.int64).astype(np.uint32) for _ in range(trials)]
    # numpy first (point_eval.py: no numba kernel, so a fresh verifier building its key compiles
    # nothing); only when it finds a non-zero value does the row evaluator name what fails
    if _zero_rows_hold(compiled, publics, rng):
        memo.put("optional-ok", memo_key, b"ok")
        return
    zeros = np.zeros((CHECK_ROWS, air.width), dtype=np.uint32)
    mults = tape_for(compiled, [it.multiplicity for it in compiled.interactions]) if compiled.interactions else None
    for public in publics:
        inputs = plain_inputs(zeros, None, public)
        try:
            check_constraints(compiled, inputs, CHECK_ROWS, "main")
        except ConstraintNotSatisfied as exc:
            raise StarkConfigError(f"AIR {air.name!r} is marked optional, but its all-zero table breaks a "
                                   f"constraint ({exc}); drop `optional` (its table cannot be left out)") from None
        if mults is None:
            continue
        bad = np.flatnonzero(base_columns(mults, inputs, CHECK_ROWS).any(axis=1))
        if bad.size:
            it = compiled.interactions[int(bad[0])]
            raise StarkConfigError(f"AIR {air.name!r} is marked optional, but on all-zero rows the multiplicity of its "
                                   f"{'send' if it.sign > 0 else 'receive'} #{int(bad[0])} on bus {it.bus_name!r} is "
                                   "not 0; drop `optional` (its table cannot be left out)")
    # pragma: no cover - the two evaluators disagree: a bug in one of them
    raise StarkConfigError(f"AIR {air.name!r}: the point and row evaluators disagree on its all-zero table")


def _zero_rows_hold(compiled: CompiledAir, publics: list, rng) -> bool:
    """Whether every constraint and every bus multiplicity of ``compiled`` is 0 on each of the
    CHECK_ROWS rows of an all-zero table, for each of these public-value vectors, with numpy
    only: for each row, the point evaluator (point_eval.py) computes Σ_i r_i·C_i + Σ_j s_j·m_j
    with random F_p^4 weights r, s at that row — every column and its next row 0, the selectors
    the row's own values (domain.plain_selectors, as plain_inputs gives the row evaluator).
    It is 0 when every C_i and m_j is; otherwise 0 with probability at most 1/|F_p^4| per row
    (Schwartz–Zippel in the weights). One tape for both sets of roots (one DAG walk: they
    share sub-expressions), all rows and vectors in one pass."""
    from .domain import plain_selectors
    from .ext import from_base
    from .point_eval import PointProgram, evaluate_programs, tape_levels
    from .tape import Inputs, tape_for

    roots = [c.expr for c in compiled.constraints] + [it.multiplicity for it in compiled.interactions]
    if not roots:
        return True
    tape = tape_for(compiled, roots, "point")
    program = PointProgram(tape, tape_levels(tape))
    zeros = np.zeros((2, compiled.air.width, 4), dtype=np.uint32)  # at the row and at the next
    selectors = plain_selectors(CHECK_ROWS)
    batch, points, weights = [], [], []
    for public in publics:
        for row in range(CHECK_ROWS):
            point = Inputs(zeros, None, None, public, selectors={k: from_base(v[row]) for k, v in selectors.items()})
            batch.append(program)
            points.append(point)
            weights.append(rng.integers(0, P, (len(roots), 4), dtype=np.int64).astype(np.uint32))
    return not any(value.any() for value in evaluate_programs(batch, points, weights))


def left_out(compiled: CompiledAir, trace) -> bool:
    """The prover's rule: an optional table with no non-zero cell is left out of the proof."""
    return bool(getattr(compiled.air, "optional", False)) and not np.any(trace)


def presence(compiled_airs, traces) -> list:
    """Per table: True if the proof includes it, False if it is left out (``left_out``)."""
    return [not left_out(c, t) for c, t in zip(compiled_airs, traces, strict=True)]
