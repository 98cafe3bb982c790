"""The debug check: does a statement's witness satisfy its AIRs? Cheap, and no proof.

Before proving anything the prover checks (joint.prove, unless told not to) that

  1. every table's constraints hold on every row of its plain trace (ConstraintNotSatisfied
     names the table, the constraint and its first failing row), and
  2. every bus balances over all the statement's tables and proofs plus the public entries,
     under random challenges α, γ ∈ F_p^4 (ConstraintNotSatisfied names the unbalanced buses).

A wrong witness would otherwise cost a whole proof to produce one the verifier rejects. The
machine's debug check (machine/debug.py) and ``pyzkvm.stark.debug_check`` are this function.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import ConstraintNotSatisfied, StarkConfigError
from . import ext
from .air import CompiledAir
from .field import P
from .keys import check_trace
from .logup import build_aux_trace, public_term
from .tape import Inputs, plain_inputs, root_values, tape_for


def check_constraints(compiled: CompiledAir, inputs: Inputs, n: int, which: str = "main") -> None:
    """Evaluate the constraints on every row of the plain trace; raise ConstraintNotSatisfied
    naming the failing constraint (by its assert-time name) and its first failing row.

    which = "main" checks the AIR's own constraints; "logup" the bus-argument constraints."""
    constraints = compiled.constraints if which == "main" else compiled.logup_constraints
    tape = tape_for(compiled, f"{which} constraints", [c.expr for c in constraints])
    failures: dict = {}  # constraint index → (first failing row, failing rows)

    def scan(lo, values):
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
                    public_data: bytes = b"", term_public_values=None, seed: int | None = None) -> None:
    """Check n ≥ 1 (traces, public_values) statements of the same AIRs (``compiled``, with their
    preprocessed traces or None) as one joint statement: every constraint of every table, then
    every bus over all of them plus the public entries of ``term_public_values`` (default: the
    last statement's) and ``public_data``."""
    rng = np.random.default_rng(seed)
    alpha, gamma = (rng.integers(0, P, 4, dtype=np.int64).astype(np.uint32) for _ in range(2))
    per_bus: dict = {}
    for traces, public_values in statements:
        if len(traces) != len(compiled):
            raise StarkConfigError(f"expected {len(compiled)} traces (one per table), got {len(traces)}")
        public = np.asarray([int(v) % P for v in public_values], dtype=np.uint32)
        for c, prep, trace in zip(compiled, prep_traces, traces):
            trace = check_trace(c.air, trace)
            if prep is not None and prep.shape[0] != trace.shape[0]:
                raise StarkConfigError(f"table {c.air.name!r}: main trace has {trace.shape[0]} rows but its "
                                       f"preprocessed columns have {prep.shape[0]}")
            inputs = plain_inputs(trace, prep, public)
            check_constraints(c, inputs, trace.shape[0], "main")
            if c.interactions:
                _, _, sums = build_aux_trace(c, inputs, trace.shape[0], alpha, gamma)
                for bus, s in sums.items():
                    per_bus[bus] = ext.ext_add(per_bus.get(bus, ext.ZERO), s)
    term_pv = statements[-1][1] if term_public_values is None else term_public_values
    # the verifier's side: the public entries (e.g. a journal), added bus by bus
    public_term([c.air for c in compiled], [int(v) % P for v in term_pv], alpha, gamma, per_bus, public_data)
    bad = [repr(name) for name, s in per_bus.items() if np.any(s)]
    if bad:
        raise ConstraintNotSatisfied(f"bus {', '.join(bad)} does not balance")
