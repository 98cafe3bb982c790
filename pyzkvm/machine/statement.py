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
committed" and the 8 COMMIT words as 32 bytes; the same for COMMIT_DEFERRED_PROOFS; then this
segment's clocks and place in the run (first, halting), and the run's journal length and
assumption count. A whole run is one segment with START_CLK = 0 and IS_FIRST = HALTS = 1
(docs/continuations.md).

What a segment does *not* state: its pc, journal length and assumption count where it starts
and ends. Those pass from one segment to the next on the boundary buses (buses.SEGMENT_PC,
SEGMENT_COUNTS), whose entries the joint bus balance checks and, in hiding mode, the blinded
totals hide: a receipt shows where its segments are cut (their clocks), not what the guest was
doing there. The run's first pc is the ELF entry point (the program chip's entry row answers
the first segment's segment pc entry); after the halting
segment the journal length and assumption count are the claim's.

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
PV_IS_FIRST = 72        #: 1: the first row is the run's first cycle, at the entry point (segment pc bus)
PV_HALTS = 73           #: 1: the last row is HALT; this segment holds the memory boundary and image
PV_JOURNAL_LEN = 74     #: the run's journal length: where the halting segment leaves jpos
PV_ASSUMPTIONS = 75     #: the run's VERIFY_SP1_PROOF calls: where the halting segment leaves apos
#: the ABI profile (0 sp1, 1 risc0): every ecall row's profile, fixed by the program table,
#: must equal it (cpu.py), so a receipt cannot be read under the other profile's statement
PV_PROFILE = 76
NUM_PUBLIC_VALUES = 77

#: the profile ids (PV_PROFILE, and the program table's ecall rows)
PROFILE_IDS = {"sp1": 0, "risc0": 1}

M32 = 0xFFFFFFFF


def _word_bytes(words) -> bytes:
    return b"".join((int(w) & M32).to_bytes(4, "little") for w in words)


def _digest_words(digest: bytes) -> tuple:
    """A 32-byte digest as the 8 little-endian words the COMMIT slots hold."""
    return tuple(int.from_bytes(digest[4 * i:4 * i + 4], "little") for i in range(8))


@dataclass(frozen=True)
class Statement:
    """One segment's claim. ``commit`` / ``deferred``: the 8 COMMIT / COMMIT_DEFERRED_PROOFS
    words (None: the guest made no such call). ``journal_len`` and ``assumption_count`` are the
    whole run's (its journal and assumptions are the STARK's public data, public_data.py): like
    the exit code, a segment that does not halt knows them only once ``with_outcome`` copies
    them in."""

    exit_code: int
    start_clk: int
    cycles: int                 #: end clock: clk of the last row + 1
    is_first: bool
    halts: bool
    journal_len: int = 0
    assumption_count: int = 0
    commit: tuple | None = None
    deferred: tuple | None = None
    profile: str = "sp1"        #: the ABI family, "sp1" or "risc0"
    halt_type: int = 0          #: risc0: HALT's type (0 terminate, 1 pause)

    @classmethod
    def from_execution(cls, execution, context=None) -> "Statement":
        """The statement of one executed segment (a whole run without ``context``, a
        tables.SegmentContext): for a segment that does not halt, the exit code, commit words,
        journal length and assumption count are its run's only once the caller copies them in
        (with_outcome)."""
        tr = execution.trace.columns
        clocks: dict = {"start_clk": int(tr["clk"][0]), "cycles": int(tr["clk"][-1]) + 1,
                        "is_first": int(tr["clk"][0]) == 0, "halts": bool(execution.halted)}
        words = lambda w: None if w is None else tuple(int(x) & M32 for x in w)  # noqa: E731
        if execution.abi == "risc0":  # the output digest HALT read stands where COMMIT's words do
            digest = execution.output_digest
            commit = None if digest is None else _digest_words(digest)
            return cls(exit_code=int(execution.exit_code) & M32, **clocks, commit=commit,
                       profile="risc0", halt_type=int(execution.halt_type or 0))
        return cls(exit_code=int(execution.exit_code) & M32, **clocks,
                   journal_len=(context.journal_start if context else 0) + len(execution.journal),
                   assumption_count=(context.assumptions_start if context else 0) + len(execution.assumptions),
                   commit=words(execution.commit_words), deferred=words(execution.deferred_proofs_digest))

    @classmethod
    def from_claim(cls, exit_code: int, journal: bytes, assumptions, has_commit: bool, has_deferred: bool,
                   end_clocks, profile: str = "sp1", halt_type: int = 0) -> list:
        """Every segment's statement as the verifier rebuilds it from a claim and the seal: the
        run's outcome in each — the exit code; the COMMIT words = SHA-256(journal) when
        ``has_commit`` (the SP1 SDK commits that digest at exit); an all-zero deferred digest
        when ``has_deferred`` (assumptions are carried by the claim instead); the journal's
        length and the assumptions' count — and the clocks: segment k starts at segment k − 1's
        end clock (``end_clocks``, from the seal), the first at clock 0; only the first IS_FIRST,
        only the last HALTS. ``profile`` "risc0": the COMMIT words are RISC Zero's output digest
        of the journal, and the journal is not part of the segments' statements (module
        docstring)."""
        outcome: dict = {"exit_code": int(exit_code) & M32}
        if profile == "risc0":
            from ..executor.risc0 import output_digest

            outcome.update(commit=_digest_words(output_digest(bytes(journal), bytes(32))), profile="risc0",
                           halt_type=int(halt_type))
        else:
            outcome.update(commit=_digest_words(hashlib.sha256(bytes(journal)).digest()) if has_commit else None,
                           deferred=(0,) * 8 if has_deferred else None,
                           journal_len=len(journal), assumption_count=len(assumptions))
        out, clock = [], 0
        for k, end_clock in enumerate(end_clocks):
            out.append(cls(start_clk=clock, cycles=int(end_clock), is_first=k == 0, halts=k == len(end_clocks) - 1,
                           **outcome))
            clock = int(end_clock)
        return out

    def with_outcome(self, final: "Statement") -> "Statement":
        """This segment's statement with the run's outcome (exit code, COMMIT and deferred words,
        journal length and assumption count: known only to the segment that halts, ``final``)
        copied in, so every segment's statement names the same run outcome."""
        return replace(self, exit_code=final.exit_code, commit=final.commit, deferred=final.deferred,
                       halt_type=final.halt_type, journal_len=final.journal_len,
                       assumption_count=final.assumption_count)

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
        pv[PV_CYCLES], pv[PV_START_CLK] = self.cycles, self.start_clk
        pv[PV_IS_FIRST], pv[PV_HALTS] = int(self.is_first), int(self.halts)
        pv[PV_JOURNAL_LEN], pv[PV_ASSUMPTIONS] = self.journal_len, self.assumption_count
        return pv
