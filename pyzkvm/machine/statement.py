"""The machine's statement: what one segment's proof claims, and its public-value vector.

A ``Statement`` is built two ways that must agree for an honest run:

    Statement.from_execution(execution, context)   the prover: from the run (tables.py)
    Statement.from_claim(...)                      the verifier: from a receipt's claim and
                                                   the seal's segment ends (backends/stark.py)

and ``public_values()`` lays it out as the vector the AIRs read with ``b.public(i)``. The slot
numbers ``PV_*`` are defined here and nowhere else; a chip that reads a public value imports its
slot from this module, a chip that reads none imports nothing (the vector's length is set on
every chip once, at registration: tables.machine_airs).

Slots (docs/machine.md §5): the exit code as 4 little-endian bytes; a flag "the guest
committed" and the 8 COMMIT words as 32 bytes; the same for COMMIT_DEFERRED_PROOFS; then where
this segment's rows start and end (clock, pc, journal length, assumption count). A whole run is
one segment with START_CLK = 0, IS_FIRST = HALTS = 1, END_PC = 0, JOURNAL_START = 0,
ASSUMPTIONS_START = 0 (docs/continuations.md).

The risc0 profile (docs/machine.md §5) reuses the slots: the exit-code slot holds HALT's whole
a0 = halt type | exit code << 8; the COMMIT slots hold the 8 words of RISC Zero's output digest
that HALT reads at a1 (has_commit = 1), which the verifier computes from the claimed journal
(executor/risc0.output_digest); the journal itself is not on the journal bus (its length
slots stay 0): the guest binds it by hashing it into that digest, as RISC Zero does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

PV_EXIT_CODE = (0, 1, 2, 3)
PV_HAS_COMMIT = 4
PV_COMMIT = tuple(range(5, 37))
PV_HAS_DEFERRED = 37
PV_DEFERRED = tuple(range(38, 70))
#: the clock after this proof's last row: the run's cycle count (HALT included) when the proof
#: ends in HALT; a segment's end clock otherwise (its last row has clk = PV_CYCLES − 1)
PV_CYCLES = 70
PV_START_CLK = 71       #: clk of the first row
PV_START_PC = 72        #: pc of the first row
PV_END_PC = 73          #: next_pc of the last row (0 after HALT)
PV_IS_FIRST = 74        #: 1: the first row is the run's first cycle, at the entry point (entry bus)
PV_HALTS = 75           #: 1: the last row is HALT; this segment holds the memory boundary and image
PV_JOURNAL_START = 76   #: journal bytes written before this segment
PV_JOURNAL_END = 77     #: journal bytes written by the end of this segment
PV_ASSUMPTIONS_START = 78  #: VERIFY_SP1_PROOF calls before this segment (its first assumption's index)
PV_ASSUMPTIONS_END = 79    #: VERIFY_SP1_PROOF calls by the end of this segment
#: the ABI profile (0 sp1, 1 risc0): every ecall row's profile, fixed by the program table,
#: must equal it (cpu.py), so a receipt cannot be read under the other profile's statement
PV_PROFILE = 80
NUM_PUBLIC_VALUES = 81

#: the profile ids (PV_PROFILE, and the program table's ecall rows)
PROFILE_IDS = {"sp1": 0, "risc0": 1}

M32 = 0xFFFFFFFF


def _word_bytes(words) -> bytes:
    return b"".join((int(w) & M32).to_bytes(4, "little") for w in words)


@dataclass(frozen=True)
class Statement:
    """One segment's claim. ``commit`` / ``deferred``: the 8 COMMIT / COMMIT_DEFERRED_PROOFS
    words (None: the guest made no such call). ``journal`` and ``assumptions`` are this
    segment's own bytes and (image_id, journal_digest) pairs; the run's are their concatenation
    over the segments (the STARK's public data, public_data.py)."""

    exit_code: int
    start_clk: int
    cycles: int                 #: end clock: clk of the last row + 1
    start_pc: int
    end_pc: int                 #: next_pc of the last row; 0 after HALT
    is_first: bool
    halts: bool
    journal_start: int = 0
    journal: bytes = b""
    assumptions_start: int = 0
    assumptions: tuple = ()
    commit: tuple | None = None
    deferred: tuple | None = None
    profile: str = "sp1"        #: the ABI family, "sp1" or "risc0"
    halt_type: int = 0          #: risc0: HALT's type (0 terminate, 1 pause)

    @property
    def journal_end(self) -> int:
        return self.journal_start + len(self.journal)

    @property
    def assumptions_end(self) -> int:
        return self.assumptions_start + len(self.assumptions)

    @classmethod
    def from_execution(cls, execution, context=None) -> "Statement":
        """The statement of one executed segment (a whole run without ``context``, a
        tables.SegmentContext): for a segment that does not halt, the exit code and commit words
        are its run's only once the caller copies them in (with_outcome)."""
        tr = execution.trace.columns
        words = lambda w: None if w is None else tuple(int(x) & M32 for x in w)  # noqa: E731
        if execution.abi == "risc0":  # the output digest HALT read stands where COMMIT's words do
            digest = execution.output_digest
            commit = None if digest is None else tuple(int.from_bytes(digest[4 * i:4 * i + 4], "little") for i in range(8))
            return cls(exit_code=int(execution.exit_code) & M32, start_clk=int(tr["clk"][0]), cycles=int(tr["clk"][-1]) + 1,
                       start_pc=int(tr["pc"][0]), end_pc=0 if execution.halted else int(tr["next_pc"][-1]),
                       is_first=int(tr["clk"][0]) == 0, halts=bool(execution.halted),
                       journal_start=context.journal_start if context else 0, commit=commit,
                       profile="risc0", halt_type=int(execution.halt_type or 0))
        return cls(exit_code=int(execution.exit_code) & M32, start_clk=int(tr["clk"][0]), cycles=int(tr["clk"][-1]) + 1,
                   start_pc=int(tr["pc"][0]), end_pc=0 if execution.halted else int(tr["next_pc"][-1]),
                   is_first=int(tr["clk"][0]) == 0, halts=bool(execution.halted),
                   journal_start=context.journal_start if context else 0, journal=bytes(execution.journal),
                   assumptions_start=context.assumptions_start if context else 0,
                   assumptions=tuple(execution.assumptions),
                   commit=words(execution.commit_words), deferred=words(execution.deferred_proofs_digest))

    @classmethod
    def from_claim(cls, exit_code: int, journal: bytes, assumptions, has_commit: bool, has_deferred: bool,
                   start_pc: int, ends, profile: str = "sp1", halt_type: int = 0) -> list:
        """Every segment's statement as the verifier rebuilds it from a claim and the seal: the
        run's outcome in each — the exit code; the COMMIT words = SHA-256(journal) when
        ``has_commit`` (the SP1 SDK commits that digest at exit); an all-zero deferred digest
        when ``has_deferred`` (assumptions are carried by the claim instead) — and the chain:
        segment k starts at segment k − 1's end clock, end pc, journal length and assumption
        count; the first at clock 0, ``start_pc`` (the entry bus checks it), with nothing
        written; only the first IS_FIRST, only the last HALTS.
        ``ends``: (end_clock, end_pc, journal_end, assumptions_end) per segment, from the seal.
        ``profile`` "risc0": the COMMIT words are RISC Zero's output digest of the journal, and
        the journal is not part of the segments' statements (module docstring)."""
        if profile == "risc0":
            from ..executor.risc0 import output_digest

            digest = output_digest(bytes(journal), bytes(32))
            commit: tuple[int, ...] | None = tuple(int.from_bytes(digest[4 * i:4 * i + 4], "little") for i in range(8))
            out, clock, pc = [], 0, start_pc
            for k, (end_clock, end_pc, _journal_end, _assumptions_end) in enumerate(ends):
                out.append(cls(exit_code=int(exit_code) & M32, start_clk=clock, cycles=int(end_clock), start_pc=pc,
                               end_pc=end_pc, is_first=k == 0, halts=k == len(ends) - 1, commit=commit,
                               profile="risc0", halt_type=int(halt_type)))
                clock, pc = end_clock, end_pc
            return out
        digest = hashlib.sha256(bytes(journal)).digest()
        commit = tuple(int.from_bytes(digest[4 * i:4 * i + 4], "little") for i in range(8)) if has_commit else None
        deferred = (0,) * 8 if has_deferred else None
        out, clock, pc, jpos, apos = [], 0, start_pc, 0, 0
        for k, (end_clock, end_pc, journal_end, assumptions_end) in enumerate(ends):
            out.append(cls(exit_code=int(exit_code) & M32, start_clk=clock, cycles=int(end_clock), start_pc=pc,
                           end_pc=end_pc, is_first=k == 0, halts=k == len(ends) - 1,
                           journal_start=jpos, journal=bytes(journal[jpos:journal_end]),
                           assumptions_start=apos, assumptions=tuple(assumptions[apos:assumptions_end]),
                           commit=commit, deferred=deferred))
            clock, pc, jpos, apos = end_clock, end_pc, journal_end, assumptions_end
        return out

    def with_outcome(self, final: "Statement") -> "Statement":
        """This segment's statement with the run's outcome (exit code, COMMIT and deferred words:
        known only to the segment that halts, ``final``) copied in, so every segment's
        statement names the same run outcome."""
        return replace(self, exit_code=final.exit_code, commit=final.commit, deferred=final.deferred,
                       halt_type=final.halt_type)

    def public_values(self) -> list:
        """The public-value vector the AIRs read (the slots above)."""
        pv = [0] * NUM_PUBLIC_VALUES
        # risc0: HALT's a0 = halt type | exit code << 8 (the exit code is below 2^24)
        halt_a0 = (self.halt_type | self.exit_code << 8) & M32 if self.profile == "risc0" else self.exit_code & M32
        pv[PV_PROFILE] = PROFILE_IDS[self.profile]
        for i, byte in zip(PV_EXIT_CODE, halt_a0.to_bytes(4, "little")):
            pv[i] = byte
        for flag, slots, words in ((PV_HAS_COMMIT, PV_COMMIT, self.commit), (PV_HAS_DEFERRED, PV_DEFERRED, self.deferred)):
            if words is not None:
                pv[flag] = 1
                for i, byte in zip(slots, _word_bytes(words)):
                    pv[i] = byte
        pv[PV_CYCLES], pv[PV_START_CLK], pv[PV_START_PC], pv[PV_END_PC] = self.cycles, self.start_clk, self.start_pc, self.end_pc
        pv[PV_IS_FIRST], pv[PV_HALTS] = int(self.is_first), int(self.halts)
        pv[PV_JOURNAL_START], pv[PV_JOURNAL_END] = self.journal_start, self.journal_end
        pv[PV_ASSUMPTIONS_START], pv[PV_ASSUMPTIONS_END] = self.assumptions_start, self.assumptions_end
        return pv
