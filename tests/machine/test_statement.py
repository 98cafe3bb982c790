"""machine/statement.py: the prover's statements (from the execution) and the verifier's (from the
claim and the seal's segment ends) are the same, segment by segment, and lay out the slots the
AIRs read."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pyzkvm.executor.segments import execute_segments
from pyzkvm.machine.statement import (NUM_PUBLIC_VALUES, PV_COMMIT, PV_CYCLES, PV_END_PC, PV_HALTS, PV_HAS_COMMIT,
                                      PV_IS_FIRST, PV_JOURNAL_END, PV_JOURNAL_START, PV_START_CLK, Statement)
from pyzkvm.machine.tables import SegmentContext
from pyzkvm.program import Program

SHA = Program.from_elf(Path(__file__).resolve().parents[2] / "guests" / "bin" / "sha256.elf")


def _prover_statements(segment_cycles):
    context, out = SegmentContext.first(), []
    for execution in execute_segments(SHA, [b"abc" * 40], segment_cycles, capture_trace=True):
        s = Statement.from_execution(execution, context)
        # what SegmentContext.next takes from the tables: the journal and assumptions written
        context = SegmentContext(context.memory, s.journal_end, s.assumptions_end)
        out.append(s)
    return [s.with_outcome(out[-1]) for s in out]


def test_the_verifier_rebuilds_the_provers_statements_segment_by_segment():
    for segment_cycles in (4096, 1 << 20):  # a continuation, and a whole run (one segment)
        prover = _prover_statements(segment_cycles)
        final = prover[-1]
        journal = b"".join(s.journal for s in prover)
        ends = [(s.cycles, s.end_pc, s.journal_end, s.assumptions_end) for s in prover]
        verifier = Statement.from_claim(final.exit_code, journal, (), final.commit is not None,
                                        final.deferred is not None, prover[0].start_pc, ends)
        assert verifier == prover
        assert [s.public_values() for s in verifier] == [s.public_values() for s in prover]


def test_public_values_lay_out_the_statement():
    prover = _prover_statements(1024)  # the sha256 run is ~2 k cycles (SHA precompiles): 3 segments
    assert len(prover) > 1
    pvs = [s.public_values() for s in prover]
    assert all(len(pv) == NUM_PUBLIC_VALUES for pv in pvs)
    assert [pv[PV_IS_FIRST] for pv in pvs] == [1] + [0] * (len(pvs) - 1)
    assert [pv[PV_HALTS] for pv in pvs] == [0] * (len(pvs) - 1) + [1]
    assert [pv[PV_START_CLK] for pv in pvs[1:]] == [pv[PV_CYCLES] for pv in pvs[:-1]]
    assert [pv[PV_JOURNAL_START] for pv in pvs[1:]] == [pv[PV_JOURNAL_END] for pv in pvs[:-1]]
    assert pvs[-1][PV_END_PC] == 0
    # the SP1 SDK commits SHA-256(journal) at exit: the COMMIT words, as bytes, in every segment
    journal = b"".join(s.journal for s in prover)
    assert all(pv[PV_HAS_COMMIT] == 1 and bytes(pv[i] for i in PV_COMMIT) == hashlib.sha256(journal).digest()
               for pv in pvs)
