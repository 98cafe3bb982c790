"""The ``trace`` backend: dev-mode receipts, instantly. **A trace receipt is not a proof.**

Proving runs the guest with trace capture and records, beside the claim, a BLAKE3 digest of
the whole execution trace. Nothing about this convinces anyone who did not run the program:
whoever holds the ELF can write any claim and any digest. Verification therefore refuses a
trace receipt unless dev mode is on (``PYZKVM_DEV_MODE=1`` or ``dev_mode=True``), and then warns.

What verification checks in dev mode: the claim's image ID, SHA-256(journal) against the claim,
the seal's structure, and the seal's *binding digest* over every other receipt field (so an
edited receipt is caught; an integrity check, not security). With ``replay=(program, inputs)``
it re-executes the program and compares the trace digest and the claim: that is sound, but
neither succinct (the verifier redoes all the work) nor private (it needs the inputs).

Trace digest (version 1), over the columns of ``pyzkvm.executor.Trace``::

    trace_digest = BLAKE3( "pyzkvm.trace_digest.v1" ‖ u64 n_rows ‖ u64 n_syscall_events
                           ‖ for each row column, in ROW_COLUMNS order then extra columns by name:
                               u8 len(name) ‖ name ‖ the column as n_rows u32le values
                           ‖ for each syscall column, in SYSCALL_COLUMNS order then extras by name:
                               u8 len(name) ‖ name ‖ the column as n_syscall_events u32le values )

Composition: a guest's VERIFY_SP1_PROOF assertions (``Execution.assumptions``) enter the claim
as its assumptions, and the receipts given for them (``prove(..., assumptions=[...])``) become
``Receipt.inner``; the binding digest covers them (they are part of the receipt's encoding).
``pyzkvm.verify`` verifies the inner receipts and matches them to the assumptions
(pyzkvm/composition.py); this backend's ``verify`` checks only its own seal.

Seal (version 1, 82 bytes)::

    u16 seal_version ‖ trace_digest[32] ‖ u64 n_rows ‖ u64 n_syscall_events ‖ binding[32]
    binding = BLAKE3( "pyzkvm.trace_seal.v1" ‖ the receipt's encoding with the seal cut
                      to its first 50 bytes (everything before the binding) )
"""

from __future__ import annotations

import struct
from typing import Sequence

import blake3
import numpy as np

from ..composition import resolve_assumptions
from ..errors import BackendError, GuestError, UsageError, VerificationError
from ..limits import MAX_CYCLES_LIMIT
from ..receipt import Claim, Receipt
from .base import Backend, ProgressCallback, refuse_unless_dev_mode, warn_dev_mode_accepted

ROW_COLUMNS = (
    "clk", "pc", "next_pc", "insn", "rs1", "rs2", "rd",
    "rs1_val", "rs2_val", "rd_val", "mem_addr", "mem_before", "mem_after",
)  # fmt: skip
SYSCALL_COLUMNS = ("sys_clk", "sys_addr", "sys_before", "sys_after")

SEAL_VERSION = 1
_SEAL_HEAD = struct.Struct("<H32sQQ")  # version, trace digest, rows, syscall events
SEAL_SIZE = _SEAL_HEAD.size + 32


def _column_u32le(name: str, column: np.ndarray, n: int) -> bytes:
    """One trace column as little-endian u32 bytes, after checking its length and range."""
    column = np.asarray(column)
    if column.ndim != 1 or len(column) != n:
        raise BackendError(f"trace column {name!r} has shape {column.shape}, expected ({n},)")
    if column.dtype.kind not in "ui":
        raise BackendError(f"trace column {name!r} has dtype {column.dtype}, expected unsigned integers")
    if column.dtype.itemsize > 4 or column.dtype.kind == "i":
        if n and (int(column.min()) < 0 or int(column.max()) > 0xFFFFFFFF):
            raise BackendError(f"trace column {name!r} holds values outside u32")
    return np.ascontiguousarray(column, dtype="<u4").tobytes()


def _digest_table(h, table: dict, order: Sequence[str], what: str, n: int) -> None:
    missing = [c for c in order if c not in table]
    if missing:
        raise BackendError(f"the execution trace lacks {what} column(s) {', '.join(missing)}")
    names = list(order) + sorted(c for c in table if c not in order)
    for name in names:
        raw = name.encode()
        h.update(bytes([len(raw)]) + raw)
        h.update(_column_u32le(name, table[name], n))


def digest_trace(trace) -> tuple[bytes, int, int]:
    """BLAKE3 digest of every trace column in the documented order: (digest, n_rows, n_syscall_events)."""
    n_rows = len(trace.columns["clk"]) if "clk" in trace.columns else 0
    events = trace.syscall_events
    n_sys = len(events["sys_clk"]) if "sys_clk" in events else 0
    h = blake3.blake3(b"pyzkvm.trace_digest.v1")
    h.update(struct.pack("<QQ", n_rows, n_sys))
    _digest_table(h, trace.columns, ROW_COLUMNS, "row", n_rows)
    _digest_table(h, events, SYSCALL_COLUMNS, "syscall", n_sys)
    return h.digest(), n_rows, n_sys


def _binding(receipt: Receipt, seal_head: bytes) -> bytes:
    """BLAKE3 over the receipt with its seal cut to the head: ties the seal to every other field."""
    unbound = Receipt(
        receipt.claim, receipt.journal, receipt.backend, receipt.backend_version,
        receipt.params, seal_head, receipt.inner,
    )  # fmt: skip
    return blake3.blake3(b"pyzkvm.trace_seal.v1" + unbound.to_bytes()).digest()


class TraceBackend(Backend):
    """Dev mode: execute, digest the trace, and sign nothing. Instant; proves nothing."""

    name = "trace"
    produces_proofs = False
    #: prove() takes ``assumptions=`` (receipts for the guest's VERIFY_SP1_PROOF calls)
    supports_assumptions = True

    def prove(
        self,
        program,
        inputs: Sequence[bytes] = (),
        *,
        progress: ProgressCallback | None = None,
        assumptions: Sequence[Receipt] = (),
        **options,
    ) -> Receipt:
        """Execute ``program`` with trace capture and return a dev-mode receipt for its claim.

        Options: ``max_cycles`` (passed to the executor). A guest that exits non-zero still
        gets a receipt: its claim carries the exit code. ``assumptions``: one receipt per
        VERIFY_SP1_PROOF the guest makes, in order; they are attached as inner receipts
        (a mismatch is a UsageError naming the missing or extra one).
        """
        if options.get("segment_cycles") is not None:  # continuations (trace_segments.py)
            return self._prove_segments(program, inputs, progress, assumptions, **options)
        options.pop("segment_cycles", None)
        unknown = set(options) - {"max_cycles"}
        if unknown:
            raise UsageError(f"the trace backend takes no option(s) {', '.join(sorted(unknown))}: only max_cycles")
        from ..executor import execute
        report = progress or (lambda step, fraction: None)

        report("execute", 0.0)
        execution = execute(program, inputs, capture_trace=True, **options)
        if execution.trace is None:
            raise BackendError("the executor returned no trace although capture_trace=True")

        # each VERIFY_SP1_PROOF assertion needs its receipt, one to one and in order
        inner = resolve_assumptions(execution.assumptions, assumptions)

        report("digest trace", 0.8)
        trace_digest, n_rows, n_sys = digest_trace(execution.trace)
        claim = Claim.for_execution(
            program.image_id, execution.journal, execution.exit_code, execution.cycles, execution.assumptions
        )
        head = _SEAL_HEAD.pack(SEAL_VERSION, trace_digest, n_rows, n_sys)
        unsealed = Receipt(
            claim, execution.journal, self.name, self.version,
            {"dev_mode": True, "receipt_kind": "dev"}, head, inner,
        )  # fmt: skip
        seal = head + _binding(unsealed, head)
        report("done", 1.0)
        return Receipt(claim, unsealed.journal, self.name, self.version, unsealed.params, seal, inner)

    def verify(
        self,
        receipt: Receipt,
        image_id: bytes,
        *,
        dev_mode: bool | None = None,
        replay: tuple | None = None,
        **options,
    ) -> None:
        """Accept a trace receipt only in dev mode; check its claim, journal and seal binding.

        ``replay=(program, inputs)`` re-executes the program and compares the trace digest and
        the claim (assumptions included): sound, but neither succinct nor private. Inner
        receipts are not verified here: ``pyzkvm.verify`` does that for every backend.
        """
        self.reject_options(options, "verify")
        from ..program import as_image_id

        refuse_unless_dev_mode(dev_mode)
        image_id = as_image_id(image_id)
        self.check_claim(receipt, image_id)
        if receipt.seal[:2] == struct.pack("<H", 2):  # a segmented run (trace_segments.py)
            return self._verify_segments(receipt, image_id, replay)
        if len(receipt.seal) != SEAL_SIZE:
            raise VerificationError(f"trace seal is {len(receipt.seal)} bytes, expected {SEAL_SIZE}")
        head, binding = receipt.seal[: _SEAL_HEAD.size], receipt.seal[_SEAL_HEAD.size :]
        version, trace_digest, _, _ = _SEAL_HEAD.unpack(head)
        if version != SEAL_VERSION:
            raise VerificationError(f"trace seal version {version} is not supported (expected {SEAL_VERSION})")
        if _binding(receipt, head) != binding:
            raise VerificationError("trace seal binding does not match the receipt: the receipt was altered")
        if replay is not None:
            self._replay(receipt, image_id, trace_digest, replay)
        warn_dev_mode_accepted()

    def _replay(self, receipt: Receipt, image_id: bytes, trace_digest: bytes, replay) -> None:
        """Re-execute and compare: the claim and the trace digest must come out the same."""
        try:
            program, inputs = replay
        except (TypeError, ValueError):
            raise UsageError("replay must be a (program, inputs) pair") from None
        from ..executor import execute
        from .trace_segments import replay_did_not_halt

        if program.image_id != image_id:
            raise VerificationError("replay program's image ID differs from the expected image ID")
        claim = receipt.claim
        # An honest run halts within the cycles it claims; bound the re-execution by that.
        try:
            execution = execute(program, inputs, capture_trace=True, max_cycles=min(claim.cycles + 1, MAX_CYCLES_LIMIT))
        except GuestError as exc:
            raise replay_did_not_halt(exc, claim.cycles) from None
        again = Claim.for_execution(program.image_id, execution.journal, execution.exit_code, execution.cycles)
        if again.exit_code != claim.exit_code:
            raise VerificationError(f"replay: exit code is {again.exit_code}, receipt claims {claim.exit_code}")
        if again.journal_digest != claim.journal_digest:
            raise VerificationError("replay: the journal differs from the one the receipt claims")
        if tuple(execution.assumptions) != claim.assumptions:
            raise VerificationError(
                f"replay: the guest's {len(execution.assumptions)} VERIFY_SP1_PROOF assertion(s) differ from "
                f"the claim's {len(claim.assumptions)} assumption(s)"
            )
        if again.cycles != claim.cycles:
            raise VerificationError(f"replay: ran {again.cycles} cycles, receipt claims {claim.cycles}")
        if digest_trace(execution.trace)[0] != trace_digest:
            raise VerificationError("replay: the execution trace digest differs from the receipt's")

    # ---- continuations: segmented receipts (seal version 2, trace_segments.py) -----------------

    def _prove_segments(self, program, inputs, progress, assumptions, *, segment_cycles, **options) -> Receipt:
        """``prove(..., segment_cycles=N)``: one segment receipt per N cycles, chained in one receipt."""
        from .trace_segments import prove_segmented

        unknown = set(options) - {"max_cycles"}
        if unknown:
            raise UsageError(f"the trace backend takes no option(s) {', '.join(sorted(unknown))}: only max_cycles, segment_cycles")
        if assumptions:
            raise UsageError("segmented proving does not compose receipts yet: drop segment_cycles or the assumptions")
        return prove_segmented(self, program, inputs, segment_cycles, progress=progress or (lambda s, f: None), **options)

    def _verify_segments(self, receipt: Receipt, image_id: bytes, replay) -> None:
        """Check a segmented receipt's binding and its chain of segments (trace_segments.py)."""
        from .trace_segments import decode_segmented_seal, replay_segmented, verify_segment_chain

        if receipt.inner or receipt.claim.assumptions:
            raise VerificationError("segmented trace receipts do not compose: this one carries assumptions")
        segments, head, binding = decode_segmented_seal(receipt.seal)
        if _binding(receipt, head) != binding:
            raise VerificationError("trace seal binding does not match the receipt: the receipt was altered")
        verify_segment_chain(receipt, image_id, segments)
        if replay is not None:
            replay_segmented(receipt, image_id, segments, replay)
        warn_dev_mode_accepted()
