"""Segmented dev-mode receipts (continuations) for the ``trace`` backend. **Not proofs.**

A run cut into segments (pyzkvm/executor/segments.py) gets one *segment receipt* per segment,
made independently (on any worker), and one receipt for the whole run that carries them all
in its seal. Each segment receipt is a **segment claim** plus the digest of that segment's
trace (trace.py's ``digest_trace``)::

    segment_claim = image_id[32] ‖ u32 index ‖ start[172] ‖ end[172] ‖ u8 halted
                    ‖ u32 exit_code ‖ u64 journal_len ‖ SHA-256(journal chunk)[32]
    start, end    = BoundaryState: u64 cycle ‖ u32 pc ‖ 32 × u32 register ‖ memory_digest[32]
    segment_receipt = segment_claim ‖ trace_digest[32] ‖ u64 n_rows ‖ u64 n_syscall_events

Seal (version 2, for segmented receipts; version 1 stays the unsegmented seal)::

    u16 2 ‖ u32 n_segments ‖ n × segment_receipt ‖ binding[32]

with the same binding as version 1 (BLAKE3 over the receipt with the seal cut before it). The
receipt's params say ``segments`` (n) and ``segment_cycles``.

What verification checks (``verify_segment_chain``), beyond the unsegmented checks:
every segment names the receipt's image ID and its position; the first starts at cycle 0
with zero registers (and, with ``replay``, at the program's entry pc and initial image digest);
each starts in exactly the state the previous one ended in (cycle, pc, every register, memory
digest); every segment but the last runs at least ``segment_cycles`` cycles and does not halt;
the last halts, with the claim's exit code, at the claim's cycle count; the journal chunks
concatenate to the receipt's journal. A dropped, duplicated, reordered or foreign segment
breaks one of these. In dev mode all of it is an integrity check only: whoever holds the ELF
can fabricate every digest (docs/continuations.md has the plan for the STARK backend).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Callable, Sequence

from ..errors import BackendError, CycleLimitExceeded, GuestError, UsageError, VerificationError
from ..limits import MAX_CYCLES_LIMIT
from ..executor.segments import BoundaryState
from ..receipt import Claim, Receipt

SEGMENTED_SEAL_VERSION = 2
_CLAIM_HEAD = struct.Struct("<32sI")  # image_id, index
_CLAIM_TAIL = struct.Struct("<BIQ32s")  # halted, exit_code, journal_len, journal chunk digest
_PROOF_TAIL = struct.Struct("<32sQQ")  # trace digest, rows, syscall events
CLAIM_SIZE = _CLAIM_HEAD.size + 2 * BoundaryState.SIZE + _CLAIM_TAIL.size
RECORD_SIZE = CLAIM_SIZE + _PROOF_TAIL.size
_SEAL_HEAD = struct.Struct("<HI")


@dataclass(frozen=True)
class SegmentClaim:
    """What one segment receipt vouches for: this program, started in ``start``, ran to ``end``
    (halting there when ``halted``, with ``exit_code``) and wrote this journal chunk."""

    image_id: bytes
    index: int
    start: BoundaryState
    end: BoundaryState
    halted: bool
    exit_code: int
    journal_len: int
    journal_digest: bytes

    def to_bytes(self) -> bytes:
        return (
            _CLAIM_HEAD.pack(self.image_id, self.index) + self.start.to_bytes() + self.end.to_bytes()
            + _CLAIM_TAIL.pack(int(self.halted), self.exit_code, self.journal_len, self.journal_digest)
        )  # fmt: skip

    @classmethod
    def from_bytes(cls, data: bytes) -> "SegmentClaim":
        image_id, index = _CLAIM_HEAD.unpack_from(data, 0)
        pos = _CLAIM_HEAD.size
        start = BoundaryState.from_bytes(data[pos : pos + BoundaryState.SIZE])
        end = BoundaryState.from_bytes(data[pos + BoundaryState.SIZE : pos + 2 * BoundaryState.SIZE])
        halted, exit_code, journal_len, journal_digest = _CLAIM_TAIL.unpack_from(data, pos + 2 * BoundaryState.SIZE)
        if halted > 1:
            raise VerificationError(f"segment {index}: halted flag is {halted}, expected 0 or 1")
        return cls(image_id, index, start, end, bool(halted), exit_code, journal_len, journal_digest)


@dataclass(frozen=True)
class SegmentReceipt:
    """One segment's dev-mode receipt: its claim, its trace digest, and its journal chunk
    (the chunk travels beside the record; the whole receipt's journal holds it)."""

    claim: SegmentClaim
    trace_digest: bytes
    n_rows: int
    n_syscall_events: int
    journal: bytes = b""

    def to_bytes(self) -> bytes:
        """The segment receipt record (journal chunk excluded: the receipt's journal holds it)."""
        return self.claim.to_bytes() + _PROOF_TAIL.pack(self.trace_digest, self.n_rows, self.n_syscall_events)

    @classmethod
    def from_bytes(cls, data: bytes) -> "SegmentReceipt":
        claim = SegmentClaim.from_bytes(data[:CLAIM_SIZE])
        return cls(claim, *_PROOF_TAIL.unpack_from(data, CLAIM_SIZE))


def prove_segment(image_id: bytes, execution) -> SegmentReceipt:
    """The segment receipt of one segment Execution (from execute_segments or run_segment, with trace)."""
    from .trace import digest_trace

    if execution.trace is None or execution.start_state is None:
        raise BackendError("prove_segment needs a segment Execution with its trace (capture_trace=True)")
    if execution.assumptions:
        raise UsageError("segmented proving does not support VERIFY_SP1_PROOF (composition) yet: prove unsegmented")
    digest, n_rows, n_sys = digest_trace(execution.trace)
    claim = SegmentClaim(
        bytes(image_id), execution.segment_index, execution.start_state, execution.end_state,
        execution.halted, execution.exit_code if execution.halted else 0, len(execution.journal),
        hashlib.sha256(execution.journal).digest(),
    )  # fmt: skip
    return SegmentReceipt(claim, digest, n_rows, n_sys, execution.journal)


def assemble_segmented_receipt(backend, program, segments: Sequence[SegmentReceipt], segment_cycles: int) -> Receipt:
    """The whole run's receipt from its segment receipts (in order): claim, journal, seal v2."""
    if not segments or not segments[-1].claim.halted:
        raise BackendError("a segmented receipt needs every segment, the last one ending in HALT")
    last = segments[-1].claim
    journal = b"".join(s.journal for s in segments)
    claim = Claim.for_execution(program.image_id, journal, last.exit_code, last.end.cycle)
    params = {"dev_mode": True, "receipt_kind": "dev", "segments": len(segments), "segment_cycles": segment_cycles}
    head = _SEAL_HEAD.pack(SEGMENTED_SEAL_VERSION, len(segments)) + b"".join(s.to_bytes() for s in segments)
    return seal_segmented(Receipt(claim, journal, backend.name, backend.version, params, head), head)


def seal_segmented(unsealed: Receipt, head: bytes) -> Receipt:
    """Append the binding to a version-2 seal head (tests use it to build tampered receipts)."""
    from .trace import _binding

    r = unsealed
    return Receipt(r.claim, r.journal, r.backend, r.backend_version, r.params, head + _binding(r, head), r.inner)


def prove_segmented(backend, program, inputs, segment_cycles: int, *, progress: Callable, max_cycles=None) -> Receipt:
    """Execute in segments (one trace in memory at a time), make each segment's receipt, assemble."""
    from ..executor.segments import execute_segments

    options = {} if max_cycles is None else {"max_cycles": max_cycles}
    segments = []
    progress("execute and digest segments", 0.0)
    for execution in execute_segments(program, inputs, segment_cycles, capture_trace=True, **options):
        segments.append(prove_segment(program.image_id, execution))
        execution.trace = None  # free the segment's trace before the next one
    progress("assemble segments", 0.95)
    return assemble_segmented_receipt(backend, program, segments, segment_cycles)


def decode_segmented_seal(seal: bytes) -> tuple[list[SegmentReceipt], bytes, bytes]:
    """(segment receipts, head, binding) of a version-2 seal; strict about its length."""
    if len(seal) < _SEAL_HEAD.size + 32:
        raise VerificationError(f"segmented trace seal is {len(seal)} bytes, too short")
    version, n = _SEAL_HEAD.unpack_from(seal, 0)
    if version != SEGMENTED_SEAL_VERSION:
        raise VerificationError(f"trace seal version {version} is not the segmented version {SEGMENTED_SEAL_VERSION}")
    expected = _SEAL_HEAD.size + n * RECORD_SIZE + 32
    if n == 0 or len(seal) != expected:
        raise VerificationError(f"segmented trace seal of {n} segments is {len(seal)} bytes, expected {expected}")
    head = seal[:-32]
    records = [
        SegmentReceipt.from_bytes(head[_SEAL_HEAD.size + i * RECORD_SIZE : _SEAL_HEAD.size + (i + 1) * RECORD_SIZE])
        for i in range(n)
    ]
    return records, head, seal[-32:]


def _state_difference(a: BoundaryState, b: BoundaryState) -> str | None:
    """Which part of two boundary states differs (None when equal)."""
    if a.cycle != b.cycle:
        return f"cycle {b.cycle} instead of {a.cycle}"
    if a.pc != b.pc:
        return f"pc 0x{b.pc:08x} instead of 0x{a.pc:08x}"
    for i, (x, y) in enumerate(zip(a.registers, b.registers)):
        if x != y:
            return f"registers (x{i} = 0x{y:08x} instead of 0x{x:08x})"
    if a.memory_digest != b.memory_digest:
        return "memory (its digest differs)"
    return None


def verify_segment_chain(receipt: Receipt, image_id: bytes, segments: Sequence[SegmentReceipt]) -> None:
    """Check that the segments chain from the program's start to the claim's HALT (module docstring)."""
    claim = receipt.claim
    n = len(segments)
    if receipt.params.get("segments") != n:
        raise VerificationError(f"receipt says {receipt.params.get('segments')} segments, its seal holds {n}")
    segment_cycles = receipt.params.get("segment_cycles")
    if not isinstance(segment_cycles, int) or isinstance(segment_cycles, bool) or segment_cycles <= 0:
        raise VerificationError("segmented receipt lacks a positive integer segment_cycles param")
    offset = 0
    for i, s in enumerate(segments):
        c = s.claim
        if c.image_id != image_id:
            raise VerificationError(f"segment {i} is for image {c.image_id.hex()}, not {image_id.hex()}: it belongs to another program")
        if c.index != i:
            raise VerificationError(f"segment at position {i} says it is segment {c.index}: segments are missing, repeated or out of order")
        if i == 0:
            if c.start.cycle != 0 or any(c.start.registers):
                raise VerificationError("segment 0 does not start at cycle 0 with zero registers (the program's entry state)")
        else:
            diff = _state_difference(segments[i - 1].claim.end, c.start)
            if diff:
                raise VerificationError(f"segment {i} does not start where segment {i - 1} ended: its start has {diff}")
        if c.end.cycle < c.start.cycle or s.n_rows != c.end.cycle - c.start.cycle:
            raise VerificationError(f"segment {i} runs from cycle {c.start.cycle} to {c.end.cycle} but has {s.n_rows} trace rows")
        if i < n - 1:
            if c.halted:
                raise VerificationError(f"segment {i} halts, but {n - 1 - i} segment(s) follow it")
            if c.end.cycle - c.start.cycle < segment_cycles:
                raise VerificationError(f"segment {i} ends after {c.end.cycle - c.start.cycle} cycles, before the segment length {segment_cycles}")
        chunk = receipt.journal[offset : offset + c.journal_len]
        if len(chunk) != c.journal_len or hashlib.sha256(chunk).digest() != c.journal_digest:
            raise VerificationError(f"segment {i}'s journal chunk does not match the receipt's journal")
        offset += c.journal_len
    last = segments[-1].claim
    if not last.halted:
        raise VerificationError(f"the last segment ({n - 1}) does not end in HALT: segments are missing")
    if offset != len(receipt.journal):
        raise VerificationError(f"the segments wrote {offset} journal bytes, the receipt's journal has {len(receipt.journal)}")
    if last.exit_code != claim.exit_code:
        raise VerificationError(f"the last segment halts with exit code {last.exit_code}, the claim says {claim.exit_code}")
    if last.end.cycle != claim.cycles:
        raise VerificationError(f"the segments run {last.end.cycle} cycles, the claim says {claim.cycles}")


def replay_segmented(receipt: Receipt, image_id: bytes, segments: Sequence[SegmentReceipt], replay) -> None:
    """Re-execute in segments and compare every segment receipt: sound, not succinct, not private."""
    from ..executor.segments import execute_segments, initial_state

    try:
        program, inputs = replay
    except (TypeError, ValueError):
        raise UsageError("replay must be a (program, inputs) pair") from None
    if program.image_id != image_id:
        raise VerificationError("replay program's image ID differs from the expected image ID")
    diff = _state_difference(initial_state(program), segments[0].claim.start)
    if diff:
        raise VerificationError(f"segment 0 does not start in the program's initial state: its start has {diff}")
    cycles = receipt.claim.cycles
    try:
        again = [
            prove_segment(image_id, e)
            for e in execute_segments(program, inputs, receipt.params["segment_cycles"], capture_trace=True,
                                      max_cycles=min(cycles + 1, MAX_CYCLES_LIMIT))
        ]  # fmt: skip
    except GuestError as exc:
        raise replay_did_not_halt(exc, cycles) from None
    if len(again) != len(segments):
        raise VerificationError(f"replay: {len(again)} segments, the receipt has {len(segments)}")
    for i, (a, b) in enumerate(zip(again, segments)):
        if a.to_bytes() != b.to_bytes():
            raise VerificationError(f"replay: segment {i}'s claim or trace digest differs from the receipt's")


def describe_segments(receipt: Receipt) -> list[dict]:
    """A JSON-ready view of a segmented receipt's segments (for ``pyzkvm inspect``; verifies nothing)."""
    segments, _, _ = decode_segmented_seal(receipt.seal)
    return [
        {
            "index": s.claim.index,
            "start_cycle": s.claim.start.cycle,
            "end_cycle": s.claim.end.cycle,
            "start_pc": f"0x{s.claim.start.pc:08x}",
            "end_pc": f"0x{s.claim.end.pc:08x}",
            "start_memory": s.claim.start.memory_digest.hex(),
            "end_memory": s.claim.end.memory_digest.hex(),
            "halted": s.claim.halted,
            "exit_code": s.claim.exit_code,
            "journal_bytes": s.claim.journal_len,
            "trace_digest": s.trace_digest.hex(),
        }
        for s in segments
    ]


def replay_did_not_halt(exc: GuestError, cycles: int) -> VerificationError:
    """A replay's re-execution (bounded by the claimed ``cycles`` + 1) that ended in ``exc`` instead
    of halting as the receipt claims. Running past the claimed cycles says the run is not the
    receipt's (other inputs or another program), not that a limit should be raised: the cycle
    limit's own advice (--max-cycles) is no answer here."""
    if isinstance(exc, CycleLimitExceeded):
        return VerificationError(f"replay: the guest runs past the receipt's {cycles} cycles without halting: not the "
                                 "run the receipt claims (other inputs than the ones it ran on?)")
    return VerificationError(f"replay: the guest did not halt as the receipt claims ({cycles} cycles): {exc}")
