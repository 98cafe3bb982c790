"""machine/statement.py: the prover's statements (from the execution) and the verifier's (from the
claim and the seal's segment ends) are the same, segment by segment, and lay out the slots the
AIRs read."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pyzkvm.executor.segments import execute_segments
from pyzkvm.machine.statement import (NUM_PUBLIC_VALUES, PV_ASSUMPTIONS, PV_COMMIT, PV_CYCLES, PV_HALTS, PV_HAS_COMMIT,
                                      PV_IS_FIRST, PV_JOURNAL_LEN, PV_START_CLK, Statement)
from pyzkvm.machine.tables import SegmentContext
from pyzkvm.program import Program

SHA = Program.from_elf(Path(__file__).resolve().parents[2] / "guests" / "bin" / "sha256.elf")


def _prover_statements(segment_cycles):
    """The segments' statements as the prover makes them, and the run's journal."""
    context, out, journal = SegmentContext.first(), [], b""
    for execution in execute_segments(SHA, [b"abc" * 40], segment_cycles, capture_trace=True):
        out.append(Statement.from_execution(execution, context))
        # what SegmentContext.next takes from the tables: the journal and assumptions written
        context = SegmentContext(context.memory, context.journal_start + len(execution.journal),
                                 context.assumptions_start + len(execution.assumptions))
        journal += execution.journal
    return [s.with_outcome(out[-1]) for s in out], journal


def test_the_verifier_rebuilds_the_provers_statements_segment_by_segment():
    for segment_cycles in (4096, 1 << 20):  # a continuation, and a whole run (one segment)
        prover, journal = _prover_statements(segment_cycles)
        final = prover[-1]
        verifier = Statement.from_claim(final.exit_code, journal, (), final.commit is not None,
                                        final.deferred is not None, [s.cycles for s in prover])
        assert verifier == prover
        assert [s.public_values() for s in verifier] == [s.public_values() for s in prover]


def test_public_values_lay_out_the_statement():
    prover, journal = _prover_statements(1024)  # the sha256 run is ~2 k cycles (SHA precompiles): 3 segments
    assert len(prover) > 1
    pvs = [s.public_values() for s in prover]
    assert all(len(pv) == NUM_PUBLIC_VALUES for pv in pvs)
    assert [pv[PV_IS_FIRST] for pv in pvs] == [1] + [0] * (len(pvs) - 1)
    assert [pv[PV_HALTS] for pv in pvs] == [0] * (len(pvs) - 1) + [1]
    assert [pv[PV_START_CLK] for pv in pvs[1:]] == [pv[PV_CYCLES] for pv in pvs[:-1]]
    # every segment states the run's journal length and assumption count (where the halting one
    # leaves its counters), not where its own journal starts or ends: that is not public
    assert len(journal) > 0 and all(pv[PV_JOURNAL_LEN] == len(journal) and pv[PV_ASSUMPTIONS] == 0 for pv in pvs)
    # the SP1 SDK commits SHA-256(journal) at exit: the COMMIT words, as bytes, in every segment
    assert all(pv[PV_HAS_COMMIT] == 1 and bytes(pv[i] for i in PV_COMMIT) == hashlib.sha256(journal).digest()
               for pv in pvs)
