"""The debug check: does a statement's witness satisfy its AIRs? Cheap, and no proof.

The check has two parts:

  1. every table's constraints hold on every row of its plain trace (ConstraintNotSatisfied
     names the table, the constraint and its first failing row): ``check_all_constraints``;
  2. every bus balances over all the statement's tables and proofs plus the public entries,
     under random challenges α, γ ∈ F_p^4 (ConstraintNotSatisfied names the unbalanced
     buses): ``check_buses``.

``check_statement`` runs both: it is the machine's debug check (machine/debug.py) and
``pyzkvm.stark.debug_check``. ``joint.prove`` runs part 1 before proving and checks the
balance with the proofs' own LogUp totals afterwards (free: the prover built them anyway),
running part 2 only to name the buses when that fails — part 2 before proving would build
every LogUp column twice (≈ 6 % of a machine proof).
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np

from ..errors import ConstraintNotSatisfied, StarkConfigError
from . import ext, pool
from .air import CompiledAir
from .field import P
from .keys import check_trace
from .logup import build_aux_trace, bus_totals, public_term
from .optional import left_out
from .rounds import PublicData
from .tape import Inputs, plain_inputs, root_values, tape_for


def check_constraints(compiled: CompiledAir, inputs: Inputs, n: int, which: str = "main") -> None:
    """Evaluate the constraints on every row of the plain trace; raise ConstraintNotSatisfied
    naming the failing constraint (by its assert-time name) and its first failing row.

    which = "main" checks the AIR's own constraints; "logup" the bus-argument constraints."""
    constraints = compiled.constraints if which == "main" else compiled.logup_constraints
    tape = tape_for(compiled, [c.expr for c in constraints])
    failures: dict = {}  # constraint index → (first failing row, failing rows)

    def scan(lo, values):
        if not values.max(initial=0):  # every constraint holds on the chunk (the common case: one fast pass)
            return
        bad = values.any(axis=1)  # (constraints, rows): a nonzero lane
        for i in np.flatnonzero(bad.any(axis=1)):
            rows = np.flatnonzero(bad[i])
            first, count = failures.get(int(i), (lo + int(rows[0]), 0))
            failures[int(i)] = (first, count + len(rows))

    root_values(tape, inputs, n, scan)
    if failures:
        row, i = min((first, i) for i, (first, _count) in failures.items())
        more = f" ({len(failures) - 1} other constraint(s) fail too)" if len(failures) > 1 else ""
        raise ConstraintNotSatisfied(
            f"table {compiled.air.name!r}: constraint '{constraints[i].name}' fails at row {row} "
            f"({failures[i][1]} failing row(s)){more}")


def check_statement(compiled: Sequence[CompiledAir], prep_traces: Sequence, statements: Sequence,
                    public_data: PublicData = b"", seed: int | None = None) -> None:
    """Check n ≥ 1 (traces, public_values) statements of the same AIRs (``compiled``, with their
    preprocessed traces or None) as one joint statement: every constraint of every table, then
    every bus over all of them plus the public entries of the last statement's public values
    and ``public_data``."""
    check_all_constraints(compiled, prep_traces, statements)
    check_buses(compiled, prep_traces, statements, public_data, seed)


def _tables(compiled, prep_traces, statements):
    """(compiled AIR, plain-trace inputs, height) of every table of every statement, validated."""
    for traces, public_values in statements:
        if len(traces) != len(compiled):
            raise StarkConfigError(f"expected {len(compiled)} traces (one per table), got {len(traces)}")
        public = np.asarray([int(v) % P for v in public_values], dtype=np.uint32)
        for c, prep, trace in zip(compiled, prep_traces, traces):
            trace = check_trace(c.air, trace)
            if left_out(c, trace):  # the proof leaves it out: all zero, which holds and sends nothing (optional.py)
                continue
            if prep is not None and prep.shape[0] != trace.shape[0]:
                raise StarkConfigError(f"table {c.air.name!r}: main trace has {trace.shape[0]} rows but its "
                                       f"preprocessed columns have {prep.shape[0]}")
            yield c, plain_inputs(trace, prep, public), trace.shape[0]


def check_all_constraints(compiled: Sequence[CompiledAir], prep_traces: Sequence, statements: Sequence) -> None:
    """Part 1: every constraint of every table on every row. The tables are checked side by side
    on the thread pool, the tallest first (pool.side_by_side: one table's Python beside another's
    kernels); the error raised is the one checking them one after another in proof order meets
    first — a table's failing constraint, or a later table's malformed input."""
    tables: list = []
    malformed = None  # a table's input error (its trace's shape, ...): the tables after it are not checked
    try:
        for table in _tables(compiled, prep_traces, statements):
            tables.append(table)
    except Exception as e:  # (raised below, after the constraint errors of the tables before it)
        malformed = e
    failures: list = [None] * len(tables)

    def check(k: int) -> None:
        c, inputs, n = tables[k]
        try:
            check_constraints(c, inputs, n, "main")
        except Exception as e:  # kept, so the first in proof order is raised whichever thread met it first
            failures[k] = e

    pool.side_by_side([functools.partial(check, k) for k in sorted(range(len(tables)), key=lambda k: -tables[k][2])])
    first = next((e for e in failures if e is not None), malformed)
    if first is not None:
        raise first


def check_buses(compiled: Sequence[CompiledAir], prep_traces: Sequence, statements: Sequence,
                public_data: PublicData = b"", seed: int | None = None) -> None:
    """Part 2: every bus's LogUp sum over all tables and the public entries, under random
    challenges α, γ ∈ F_p^4, is zero; else ConstraintNotSatisfied names the buses that are not."""
    rng = np.random.default_rng(seed)
    alpha, gamma = (rng.integers(0, P, 4, dtype=np.int64).astype(np.uint32) for _ in range(2))
    per_bus: dict = {}
    for c, inputs, n in _tables(compiled, prep_traces, statements):
        if c.interactions:
            _, _, totals = build_aux_trace(c, inputs, n, alpha, gamma)
            for bus, s in bus_totals(c, totals).items():
                per_bus[bus] = ext.ext_add(per_bus.get(bus, ext.ZERO), s)
    term_pv = statements[-1][1]  # the public term reads the last statement's values, as the verifier does
    # the verifier's side: the public entries (e.g. a journal), added bus by bus
    public_term([c.air for c in compiled], [int(v) % P for v in term_pv], alpha, gamma, per_bus, public_data)
    bad = [repr(name) for name, s in per_bus.items() if np.any(s)]
    if bad:
        raise ConstraintNotSatisfied(f"bus {', '.join(bad)} does not balance")
