"""The ``stark`` backend: a real STARK proof that the guest ran as claimed (pyzkvm/stark + pyzkvm/machine).

Proving, step by step (the names the progress callback hears):

 1. **execute** the guest with trace capture; ``check_provable`` refuses what the machine AIR
    does not cover (UnsupportedProgram naming the syscall: precompiles, unconstrained blocks,
    ...); the guest's VERIFY_SP1_PROOF assertions are paired with the receipts given as
    ``assumptions`` (pyzkvm/composition.py), which become the receipt's inner receipts
 2. **build tables**: ``build_chips`` (program and image as preprocessed columns) and
    ``generate_tables`` (every chip's main trace, vectorised)
 3. **setup**: compile the AIRs and commit the preprocessed columns; the key's circuit digest
    is the program's image ID (machine/image_id.py)
 4. the STARK protocol (stark/prover.py): commit to trace data, LogUp, commit to quotient
    chunks, open, DEEP composition, FRI commit and queries — with the **journal and the
    assumptions as public data** (machine/public_data.py, observed before the bus challenges)
    and the public values rebuilt from the claim

Verification needs only the receipt and the 32-byte image ID:

 * decode the seal strictly; rebuild the machine's verifying key from the machine's AIRs (this
   code) and the preprocessed root and heights in the seal, and require its circuit digest to
   equal the image ID — so the constraints and the program's fixed columns are the ones named;
 * rebuild the public values from the claim: exit code bytes; has_commit (seal flag, 0 or 1)
   and then the COMMIT words = SHA-256(journal), which the SP1 SDK commits at exit, else zeros;
   has_deferred (seal flag) with an all-zero deferred-proofs digest (the SDK commits zeros:
   assumptions are carried by the claim instead); the cycle count (the HALT row's clk + 1);
 * STARK-verify with the claim's journal and assumptions as public data: the journal bus
   balances only if the claimed journal is exactly the bytes the guest wrote to fd 3/13, the
   assumption bus only if the claim's assumptions are exactly the guest's VERIFY_SP1_PROOF
   assertions, in order (none added, dropped, changed or swapped). The inner receipts that
   discharge the assumptions are verified by pyzkvm.verify (pyzkvm/composition.py), not here;
 * recompute the security estimate from the parameters and heights actually verified (the
   seal's preset, every segment's table heights, the statement's bus entries:
   stark/verifier.statement_security) and refuse it below the caller's ``min_security_bits``
   (default 100; ``allow_insecure=True`` is shorthand for no minimum, for test presets);
 * bind the receipt's ``params``: each key the backend writes must be present and equal the
   value recomputed from the verified seal (preset, security_bits, proof_bytes, cycles,
   segments, segment_cycles consistent with the segments' lengths); any other key is refused.
   verify returns those recomputed values (StarkVerification), which is what callers should
   show. ``backend_version`` is the prover's label: verification neither reads nor reports it.

Continuations: ``prove(..., segment_cycles=N)`` proves the run as segments of N cycles, one
STARK proof each, whose buses balance only together (pyzkvm/stark/joint.py: every segment's
main traces are committed before the shared bus challenges are drawn). Memory accesses run on
the global clock across segments; the last segment holds the memory boundary; each segment's
public values say where it starts and ends (clock, pc, journal length), and the verifier builds
them as a chain — segment k starts where k − 1 ended (clock, pc, journal length, number of
assumptions) — so a dropped, repeated, reordered or foreign segment cannot verify
(docs/continuations.md, docs/machine.md §5). A whole run is the case of one segment.

Seal, version 3 (little-endian; version 3 = proofs of format 2)::

    u16 version (= 3) ‖ u8 len ‖ preset name ‖ prep_root[32] ‖ u8 n_tables
    ‖ n_tables × u8 preprocessed log-height (0xFF: the table has no preprocessed columns)
    ‖ u8 has_commit ‖ u8 has_deferred ‖ u32 start_pc ‖ u32 n_segments
    ‖ n_segments × (u64 end_clock ‖ u32 end_pc ‖ u64 journal_end ‖ u32 assumptions_end
                    ‖ u32 proof_len ‖ proof)
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from dataclasses import dataclass
from typing import Sequence

from ..errors import ProofFormatError, StarkConfigError, UnsupportedProgram, UsageError, VerificationError
import numpy as np

from ..receipt import Claim, Receipt
from .base import Backend, ProgressCallback

SEAL_VERSION = 3
#: the default acceptance policy: below this conjectured security a receipt is refused
#: (``verify(..., min_security_bits=)`` changes it; ``allow_insecure=True`` means no minimum)
MIN_SECURITY_BITS = 100
#: the receipt params the stark backend writes; verify requires exactly these
PARAM_KEYS = ("cycles", "preset", "proof_bytes", "security_bits", "segment_cycles", "segments")
NO_PREP = 0xFF

#: overall progress at the start of each step (the CLI shows one bar)
_STEPS = {"execute": 0.0, "build tables": 0.08, "setup": 0.12, "commit to trace data": 0.18,
          "commit to quotient chunks": 0.45, "open": 0.7, "DEEP composition": 0.75, "FRI commit": 0.82,
          "FRI queries": 0.95, "done": 1.0}


def _overall(report: ProgressCallback):
    """Map the prover's (step, fraction of this step) onto one [0, 1] bar."""
    order = list(_STEPS)

    def step(name: str, fraction: float) -> None:
        start = _STEPS.get(name)
        if start is None:
            return
        nxt = _STEPS[order[min(order.index(name) + 1, len(order) - 1)]]
        report(name, start + (nxt - start) * max(0.0, min(1.0, float(fraction))))

    return step


def segment_public_values(exit_code: int, journal: bytes, has_commit: bool, has_deferred: bool, start_pc: int,
                          ends: list) -> list:
    """Every segment's public values as the verifier rebuilds them: the run's outcome (from the
    claim) in each, and the chain — segment k starts at segment k − 1's end clock, end pc and
    journal length; the first at clock 0, the seal's start pc (the entry bus checks it) and an
    empty journal and no assumptions; only the first has IS_FIRST, only the last HALTS.
    ``ends``: (end_clock, end_pc, journal_end, assumptions_end) per segment, from the seal."""
    from ..machine.cpu import (PV_ASSUMPTIONS_END, PV_ASSUMPTIONS_START, PV_END_PC, PV_HALTS, PV_IS_FIRST,
                               PV_JOURNAL_END, PV_JOURNAL_START, PV_START_CLK, PV_START_PC)

    out, clock, pc, jpos, apos = [], 0, start_pc, 0, 0
    for k, (end_clock, end_pc, journal_end, assumptions_end) in enumerate(ends):
        pv = public_values_for(exit_code, journal, end_clock, has_commit, has_deferred)
        pv[PV_START_CLK], pv[PV_START_PC], pv[PV_END_PC] = clock, pc, end_pc
        pv[PV_IS_FIRST], pv[PV_HALTS] = int(k == 0), int(k == len(ends) - 1)
        pv[PV_JOURNAL_START], pv[PV_JOURNAL_END] = jpos, journal_end
        pv[PV_ASSUMPTIONS_START], pv[PV_ASSUMPTIONS_END] = apos, assumptions_end
        out.append(pv)
        clock, pc, jpos, apos = end_clock, end_pc, journal_end, assumptions_end
    return out


def public_values_for(exit_code: int, journal: bytes, cycles: int, has_commit: bool, has_deferred: bool) -> list:
    """The run-outcome public values rebuilt from a claim (docs/machine.md §5); the segment
    fields (start/end) are segment_public_values' to fill."""
    from ..machine.cpu import NUM_PUBLIC_VALUES, PV_COMMIT, PV_CYCLES, PV_EXIT_CODE, PV_HAS_COMMIT, PV_HAS_DEFERRED

    pv = [0] * NUM_PUBLIC_VALUES
    for i, byte in zip(PV_EXIT_CODE, int(exit_code).to_bytes(4, "little")):
        pv[i] = byte
    if has_commit:  # the SP1 SDK commits SHA-256(journal) as the 8 COMMIT words at exit
        pv[PV_HAS_COMMIT] = 1
        for i, byte in zip(PV_COMMIT, hashlib.sha256(journal).digest()):
            pv[i] = byte
    pv[PV_HAS_DEFERRED] = int(bool(has_deferred))  # the deferred-proofs digest stays 0 (assumptions are in the claim)
    pv[PV_CYCLES] = int(cycles)
    return pv


# ---- seal codec ---------------------------------------------------------------------------------


def encode_seal(preset: str, prep_root: bytes, prep_log_heights, has_commit: bool, has_deferred: bool,
                start_pc: int, segments: list) -> bytes:
    """``segments``: (end_clock, end_pc, journal_end, assumptions_end, proof bytes) per segment, in order."""
    name = preset.encode()
    out = bytearray(struct.pack("<HB", SEAL_VERSION, len(name)))
    out += name + bytes(prep_root)
    out += bytes([len(prep_log_heights)]) + bytes(NO_PREP if h is None else h for h in prep_log_heights)
    out += bytes([int(has_commit), int(has_deferred)]) + struct.pack("<II", start_pc, len(segments))
    for end_clock, end_pc, journal_end, assumptions_end, proof in segments:
        out += struct.pack("<QIQII", end_clock, end_pc, journal_end, assumptions_end, len(proof)) + proof
    return bytes(out)


#: more segments than this is refused by the decoder (2^26 cycles in segments of 2^16 or more)
MAX_SEGMENTS = 1 << 10


def decode_seal(seal: bytes) -> dict:
    """Parse a stark seal strictly: ProofFormatError says what is malformed and where."""
    pos = 0

    def take(n: int, what: str) -> bytes:
        nonlocal pos
        if pos + n > len(seal):
            raise ProofFormatError(f"stark seal is truncated: {what} at offset {pos} needs {n} bytes, {len(seal) - pos} left")
        pos += n
        return seal[pos - n:pos]

    version, name_len = struct.unpack("<HB", take(3, "header"))
    if version != SEAL_VERSION:
        raise ProofFormatError(f"stark seal version {version} is not supported (this pyzkvm reads {SEAL_VERSION}): "
                               "prove again with this pyzkvm")
    try:
        preset = take(name_len, "preset name").decode("ascii")
    except UnicodeDecodeError:
        raise ProofFormatError("stark seal: the preset name is not ASCII") from None
    prep_root = take(32, "preprocessed root")
    n = take(1, "table count")[0]
    heights = [None if h == NO_PREP else h for h in take(n, "table heights")]
    if any(h is not None and not 2 <= h <= 25 for h in heights):
        raise ProofFormatError("stark seal: a preprocessed table height is out of range")
    has_commit, has_deferred = take(2, "flags")
    if has_commit > 1 or has_deferred > 1:
        raise ProofFormatError(f"stark seal: commit flags must be 0 or 1, got {has_commit}, {has_deferred}")
    start_pc, n_segments = struct.unpack("<II", take(8, "start pc and segment count"))
    if not 1 <= n_segments <= MAX_SEGMENTS:
        raise ProofFormatError(f"stark seal: {n_segments} segments (1..{MAX_SEGMENTS} allowed)")
    segments = []
    for k in range(n_segments):
        end_clock, end_pc, journal_end, assumptions_end, proof_len = struct.unpack("<QIQII", take(28, f"segment {k} header"))
        segments.append((end_clock, end_pc, journal_end, assumptions_end, take(proof_len, f"segment {k} proof")))
    if pos != len(seal):
        raise ProofFormatError(f"stark seal has {len(seal) - pos} trailing bytes after the proofs")
    return {"preset": preset, "prep_root": prep_root, "prep_log_heights": heights, "has_commit": bool(has_commit),
            "has_deferred": bool(has_deferred), "start_pc": start_pc, "segments": segments}


def describe_segments(receipt: Receipt) -> list[dict]:
    """A JSON-ready view of a stark receipt's segments (for ``pyzkvm inspect``; verifies nothing)."""
    seal = decode_seal(receipt.seal)
    out, clock, pc, jpos = [], 0, seal["start_pc"], 0
    for k, (end_clock, end_pc, journal_end, _assumptions_end, proof) in enumerate(seal["segments"]):
        halted = k == len(seal["segments"]) - 1
        out.append({"index": k, "start_cycle": clock, "end_cycle": end_clock, "start_pc": f"0x{pc:08x}",
                    "end_pc": f"0x{end_pc:08x}", "halted": halted, "exit_code": receipt.claim.exit_code if halted else None,
                    "journal_bytes": journal_end - jpos, "proof_bytes": len(proof)})
        clock, pc, jpos = end_clock, end_pc, journal_end
    return out


def describe_seal(receipt: Receipt) -> dict:
    """What the seal itself says, for ``pyzkvm inspect`` (verifies nothing): the preset, proof
    bytes, segments and their cycles, and the security estimate recomputed — as verify would —
    from the seal's preset and its proofs' table heights (not the receipt's params). Raises
    ProofFormatError / StarkConfigError / VerificationError for a seal it cannot read."""
    from ..machine.image_id import machine_key_from_parts
    from ..machine.public_data import MachinePublicData
    from ..stark import PRESETS
    from ..stark.proof import decode_proof
    from ..stark.verifier import statement_security

    seal = decode_seal(receipt.seal)
    config = PRESETS.get(seal["preset"])
    if config is None:
        raise VerificationError(f"stark seal names an unknown preset {seal['preset']!r}")
    segments = seal["segments"]
    ends = [tuple(seg[:4]) for seg in segments]
    vk = machine_key_from_parts(config, seal["prep_root"], seal["prep_log_heights"])
    heights = [[t.log_height for t in decode_proof(seg[4]).tables] for seg in segments]
    claim = receipt.claim
    publics = segment_public_values(claim.exit_code, receipt.journal, seal["has_commit"], seal["has_deferred"],
                                    seal["start_pc"], ends)
    security = statement_security(vk, heights, publics[-1], MachinePublicData(receipt.journal, claim.assumptions))
    clocks = [0] + [e[0] for e in ends]
    return {"preset": config.name, "security": security, "security_bits": round(security.bits, 1),
            "proof_bytes": sum(len(seg[4]) for seg in segments), "segments": len(segments),
            "segment_lengths": [b - a for a, b in zip(clocks, clocks[1:])]}


@dataclass
class SegmentedRun:
    """A run cut into segments, ready to prove: each segment's (main traces, public values)."""

    chips: object
    statements: list          #: [(traces in proof order (uint32), public values)] per segment
    journal: bytes
    assumptions: tuple        #: the run's VERIFY_SP1_PROOF assertions, in order
    exit_code: int
    start_pc: int
    segment_cycles: int
    explicit: bool            #: segment_cycles was asked for (so the receipt says so even for 1 segment)
    spill: object = None      #: the temporary directory holding the earlier segments' tables (removed with the run)

    @property
    def public_data(self):
        """The STARK's public data (machine/public_data.py): the whole run's journal and assumptions."""
        from ..machine.public_data import MachinePublicData

        return MachinePublicData(self.journal, self.assumptions)


def build_statements(program, inputs, segment_cycles=None, max_cycles=None, step=lambda s, f: None) -> SegmentedRun:
    """Execute in segments with trace capture and build every segment's tables (the prover's
    first half, shared by StarkBackend.prove and pyzkvm.dist): the segments follow each other
    through SegmentContext (memory's last accesses, journal length); every segment's public
    values carry the run's outcome (exit code, COMMIT words) from the one that halts."""
    from ..executor.segments import DEFAULT_SEGMENT_CYCLES, execute_segments
    from ..machine import build_chips, check_provable, generate_tables
    from ..machine.cpu import PV_DEFERRED
    from ..machine.tables import SegmentContext, with_run_outcome

    if segment_cycles is not None and (isinstance(segment_cycles, bool) or not isinstance(segment_cycles, int)
                                       or segment_cycles <= 0):
        raise UsageError(f"segment_cycles must be a positive integer, got {segment_cycles!r}")
    step("execute", 0.0)
    run_options = {} if max_cycles is None else {"max_cycles": max_cycles}
    explicit = segment_cycles is not None
    segment_cycles = segment_cycles or DEFAULT_SEGMENT_CYCLES  # a shorter run is one segment: a whole-run proof
    chips = build_chips(program)
    context, tables_of, journal, assumptions, start_pc, exit_code = SegmentContext.first(), [], b"", (), None, 0
    spill = None  # a continuation keeps the earlier segments' tables on disk, memory-mapped
    for execution in execute_segments(program, inputs, segment_cycles, capture_trace=True, **run_options):
        check_provable(execution)
        step("build tables", min(1.0, len(tables_of) / 8))
        tables = generate_tables(chips, execution, context)
        context = context.next(tables)
        # the prover works on uint32 field elements: drop the int64 copies (half the memory)
        tables.traces = {k: np.ascontiguousarray(v, dtype=np.uint32) for k, v in tables.traces.items()}
        tables.memory_after = None
        journal += execution.journal
        assumptions += tuple(execution.assumptions)
        exit_code = execution.exit_code
        start_pc = int(execution.trace.columns["pc"][0]) if start_pc is None else start_pc
        tables_of.append(tables)
        del execution
        if len(tables_of) > 1:
            spill = spill or tempfile.TemporaryDirectory(prefix=f"{SPILL_PREFIX}{os.getpid()}-")  # pid: see fileio.remove_stale_temp_dirs
            tables_of[-2].traces = _spill_to_disk(tables_of[-2].traces, spill.name, len(tables_of) - 2)
    final_pv = tables_of[-1].public_values
    if any(final_pv[i] for i in PV_DEFERRED):
        raise UnsupportedProgram("the guest committed a non-zero deferred-proofs digest: the stark backend binds "
                                 "assumptions through VERIFY_SP1_PROOF, and proves only a zero digest")
    statements = [(t.in_order(chips), with_run_outcome(t.public_values, final_pv)) for t in tables_of]
    return SegmentedRun(chips, statements, journal, assumptions, exit_code, start_pc, segment_cycles, explicit, spill)


#: temporary folders of spilled segment tables are named SPILL_PREFIX + pid + "-" + random
SPILL_PREFIX = "pyzkvm-segments-"


def _spill_to_disk(traces: dict, directory: str, k: int) -> dict:
    """Write one segment's tables to ``directory`` and return them memory-mapped (read-only):
    between the commit and the prove phases a run holds one segment's tables in memory, not n."""
    out = {}
    for i, (name, table) in enumerate(traces.items()):
        path = os.path.join(directory, f"segment{k}-table{i}.npy")
        np.save(path, table)
        out[name] = np.load(path, mmap_mode="r")
    return out


def check_security_of_heights(run: SegmentedRun, config, vk=None) -> None:
    """Refuse, before any proving, a run every verifier with the default policy would refuse:
    a table taller than the preset allows (``config.max_log_height``), or — for a preset whose
    height-independent terms meet MIN_SECURITY_BITS — a table tall enough to bring the DEEP/FRI
    field term below it (one bit per doubling of the LDE). With the verifying key, also a
    statement of p or more bus entries (stark/verifier.statement_security)."""
    from ..executor.segments import DEFAULT_SEGMENT_CYCLES
    from ..stark import security_bits

    shorter = f"prove in shorter segments (--segment-cycles {max(1, min(run.segment_cycles // 2, DEFAULT_SEGMENT_CYCLES))} or less)"
    meant_secure = min(security_bits(config, 0).query_bits, security_bits(config, 0).hash_bits) >= MIN_SECURITY_BITS
    for k, (traces, _pv) in enumerate(run.statements):
        tallest = max(range(len(traces)), key=lambda i: traces[i].shape[0])
        log_rows = int(traces[tallest].shape[0]).bit_length() - 1
        where = f"segment {k}'s" if len(run.statements) > 1 else "the run's"
        name = run.chips.airs[tallest].name
        if log_rows > config.log_height_limit:
            raise UsageError(f"{where} table {name!r} has 2^{log_rows} rows, more than preset {config.name!r} allows "
                             f"(2^{config.log_height_limit}): {shorter}")
        bits = security_bits(config, log_rows + config.log_blowup).bits
        if meant_secure and bits < MIN_SECURITY_BITS:
            raise UsageError(f"{where} table {name!r} has 2^{log_rows} rows, where preset {config.name!r} "
                             f"gives {bits:.1f} bits (< {MIN_SECURITY_BITS}): {shorter}")
    if vk is not None:
        from ..errors import ProofShapeError
        from ..stark.joint import log_heights
        from ..stark.verifier import statement_security

        try:
            statement_security(vk, [log_heights(t) for t, _pv in run.statements], run.statements[-1][1], run.public_data)
        except ProofShapeError as exc:
            raise UsageError(f"this run is too long for one receipt: {exc}") from None


# ---- the backend --------------------------------------------------------------------------------


def _config(preset):
    from ..machine.image_id import check_image_id_config
    from ..stark import DEFAULT, StarkConfig
    from ..stark import preset as lookup

    if preset in (None, "default"):
        config = DEFAULT
    elif isinstance(preset, StarkConfig):
        config = preset
    elif isinstance(preset, str):
        config = lookup(preset)
    else:
        raise UsageError(f"preset must be a preset name or a StarkConfig, not {type(preset).__name__}")
    check_image_id_config(config)
    return config


class StarkBackend(Backend):
    """Proves RV32IM execution with the machine AIR (pyzkvm/machine) and the STARK of pyzkvm/stark."""

    name = "stark"
    produces_proofs = True
    #: prove() takes ``assumptions=`` (receipts for the guest's VERIFY_SP1_PROOF calls)
    supports_assumptions = True

    def prove(
        self,
        program,
        inputs: Sequence[bytes] = (),
        *,
        progress: ProgressCallback | None = None,
        preset="default",
        max_cycles: int | None = None,
        segment_cycles: int | None = None,
        assumptions: Sequence = (),
        **options,
    ) -> Receipt:
        """Execute ``program`` with trace capture and prove the run with the machine AIR.

        ``preset``: "default" (DEFAULT, ≥ 100 bits) or another preset name / StarkConfig whose
        blowup is the image ID's (e.g. "insecure_fast_for_tests"). ``max_cycles`` goes to the
        executor. ``segment_cycles``: prove in segments of that many cycles (a continuation). The
        default, 2^20 (executor.segments.DEFAULT_SEGMENT_CYCLES), keeps one segment's proving
        near 7 GB (bench/results/stark_prove.md); a shorter run is one whole-run proof; one
        proof covers at most 2^22 cycles, and at DEFAULT a table may have at most 2^21 rows
        (≥ 100 bits; a taller one is refused before proving). A guest
        exiting non-zero gets a receipt proving that failing run.
        ``assumptions``: one receipt per VERIFY_SP1_PROOF the guest makes, in order; the claim
        lists the assertions and the proof binds them (the ``assumption`` bus), the receipts are
        attached as inner receipts (a mismatch is a UsageError naming the missing or extra one).
        Refused: a program using a syscall the AIR does not prove (UnsupportedProgram)."""
        self.reject_options(options)
        from ..composition import resolve_assumptions
        from ..machine.image_id import remember_image_id
        from ..stark import setup
        from ..stark import joint

        config = _config(preset)
        report = progress or (lambda s, f: None)
        step = _overall(report)
        run = build_statements(program, inputs, segment_cycles, max_cycles, step)
        check_security_of_heights(run, config)
        # each VERIFY_SP1_PROOF assertion needs its receipt, one to one and in order
        inner = resolve_assumptions(run.assumptions, assumptions)
        step("setup", 0.0)
        pk = setup(config, run.chips.airs)
        check_security_of_heights(run, config, pk.verifying_key)
        remember_image_id(program, pk.verifying_key)
        n = len(run.statements)

        def segment_progress(k, name, fraction):  # segment k's steps, spread over the bar after setup
            if name in _STEPS and n > 1:
                within = _STEPS[name] + fraction * 0.05
                report(f"segment {k + 1}/{n}: {name}", _STEPS["commit to trace data"] + (1 - _STEPS["commit to trace data"])
                       * min(1.0, (k + within) / n))
            else:
                step(name, fraction)

        proofs = joint.prove(pk, run.statements, run.public_data, progress=segment_progress)
        step("done", 1.0)
        return self.receipt_from_proofs(run, config, pk.verifying_key, [p.to_bytes() for p in proofs], inner)

    def receipt_from_proofs(self, run: "SegmentedRun", config, vk, proofs: list, inner=()) -> Receipt:
        """The receipt for a run's statements and their (joint) proofs, in segment order;
        ``inner``: the receipts that discharge the run's assumptions. Its params are exactly
        what verify recomputes from the seal (PARAM_KEYS)."""
        from ..machine.cpu import PV_ASSUMPTIONS_END, PV_CYCLES, PV_END_PC, PV_HAS_COMMIT, PV_HAS_DEFERRED, PV_JOURNAL_END
        from ..stark.joint import log_heights
        from ..stark.verifier import statement_security

        final_pv = run.statements[-1][1]
        seal_segments = [(pv[PV_CYCLES], pv[PV_END_PC], pv[PV_JOURNAL_END], pv[PV_ASSUMPTIONS_END], proof)
                         for (_t, pv), proof in zip(run.statements, proofs, strict=True)]
        seal = encode_seal(config.name, vk.prep_root, vk.prep_log_heights, bool(final_pv[PV_HAS_COMMIT]),
                           bool(final_pv[PV_HAS_DEFERRED]), run.start_pc, seal_segments)
        security = statement_security(vk, [log_heights(t) for t, _pv in run.statements], final_pv, run.public_data)
        cycles = int(final_pv[PV_CYCLES])
        claim = Claim.for_execution(vk.circuit_digest, run.journal, run.exit_code, cycles, run.assumptions)
        params = {
            "preset": config.name,
            "security_bits": round(security.bits, 1),
            "proof_bytes": sum(len(p) for p in proofs),
            "cycles": cycles,
            "segments": len(proofs),
            "segment_cycles": int(run.segment_cycles),
        }
        return Receipt(claim, run.journal, self.name, self.version, params, seal, tuple(inner))

    def verify(self, receipt: Receipt, image_id: bytes, *, min_security_bits: float | None = None,
               allow_insecure: bool = False, **options) -> "StarkVerification":
        """Check the seal's STARK proofs against ``image_id`` and the receipt's claim (module docstring),
        assumptions included, and return what was verified (StarkVerification: every value
        recomputed from the seal and the claim, never read from ``params``). The inner receipts
        are not verified here: ``pyzkvm.verify`` does that.

        ``min_security_bits`` (default MIN_SECURITY_BITS = 100): refuse a proof whose recomputed
        estimate is lower. ``allow_insecure=True`` without it means no minimum (test presets)."""
        options.pop("dev_mode", None)  # pyzkvm.verify passes it to every backend; it changes nothing here
        self.reject_options(options, "verify")
        from ..program import as_image_id
        from ..machine.image_id import machine_key_from_parts
        from ..machine.public_data import MachinePublicData
        from ..machine.support import MAX_CYCLES
        from ..stark import PRESETS, security_bits
        from ..stark import joint

        minimum = _minimum_bits(min_security_bits, allow_insecure)
        image_id = as_image_id(image_id)
        self.check_claim(receipt, image_id)
        claim = receipt.claim
        if not isinstance(receipt.seal, bytes):  # pragma: no cover - Receipt normalises it
            raise ProofFormatError("stark seal must be bytes")
        _check_param_keys(receipt.params)
        seal = decode_seal(receipt.seal)
        config = PRESETS.get(seal["preset"])
        if config is None:
            raise VerificationError(f"stark seal names an unknown preset {seal['preset']!r}")
        # the height-independent terms bound the estimate from above: refuse weak presets before any work
        ceiling = min(security_bits(config, 0).query_bits, security_bits(config, 0).hash_bits)
        _check_security(config.name, ceiling, minimum)
        if not 1 <= claim.cycles <= MAX_CYCLES:
            raise VerificationError(f"claim says {claim.cycles} cycles; a stark proof covers 1..{MAX_CYCLES}")
        segments = seal["segments"]
        ends = [tuple(seg[:4]) for seg in segments]
        if ends[-1] != (claim.cycles, 0, len(receipt.journal), len(claim.assumptions)):
            raise VerificationError(
                f"the last segment ends at clock {ends[-1][0]}, pc 0x{ends[-1][1]:08x} with {ends[-1][2]} journal bytes "
                f"and {ends[-1][3]} assumptions, not at the claim's {claim.cycles} cycles after HALT with its "
                f"{len(receipt.journal)} bytes and {len(claim.assumptions)} assumptions")
        clocks = [0] + [e[0] for e in ends]
        counts = [(0, 0)] + [(e[2], e[3]) for e in ends]
        if any(b <= a for a, b in zip(clocks, clocks[1:])) or \
                any(b[0] < a[0] or b[1] < a[1] for a, b in zip(counts, counts[1:])):
            raise VerificationError("stark seal: segment end clocks must increase, journal and assumption counts "
                                    "must not shrink")
        try:
            vk = machine_key_from_parts(config, seal["prep_root"], seal["prep_log_heights"])
        except StarkConfigError as exc:
            raise ProofFormatError(f"stark seal does not describe the machine's tables: {exc}") from None
        if vk.circuit_digest != image_id:
            raise VerificationError(
                f"the seal's verifying key has digest {vk.circuit_digest.hex()}, not the image ID {image_id.hex()}: "
                "the proof is for another program")
        publics = segment_public_values(claim.exit_code, receipt.journal, seal["has_commit"], seal["has_deferred"],
                                        seal["start_pc"], ends)
        # the statement's variable part, rebuilt from the claim: the journal and the assumptions
        public_data = MachinePublicData(receipt.journal, claim.assumptions)
        reports = joint.verify(vk, [proof for *_e, proof in segments], publics, public_data)
        security = reports[0].security  # the joint statement's estimate, recomputed by the verifier
        _check_security(config.name, security.bits, minimum)
        verified = StarkVerification(
            preset=config.name, security=security, proof_bytes=sum(len(seg[4]) for seg in segments),
            cycles=claim.cycles, segments=len(segments),
            segment_lengths=[b - a for a, b in zip(clocks, clocks[1:])],
            log_heights=[r.log_heights for r in reports])
        verified.check_params(receipt.params)
        return verified


def _minimum_bits(min_security_bits, allow_insecure: bool) -> float:
    """The acceptance policy: the caller's minimum; allow_insecure alone means none."""
    if min_security_bits is not None:
        if isinstance(min_security_bits, bool) or not isinstance(min_security_bits, (int, float)):
            raise UsageError(f"min_security_bits must be a number, not {min_security_bits!r}")
        return float(min_security_bits)
    return 0.0 if allow_insecure else float(MIN_SECURITY_BITS)


def _check_security(name: str, bits: float, minimum: float) -> None:
    if bits < minimum:
        raise VerificationError(
            f"the proof's preset {name!r} gives {bits:.1f} bits, below the minimum of {minimum:g}"
            + ("; pass allow_insecure=True (or a lower min_security_bits) to accept test proofs"
               if minimum >= MIN_SECURITY_BITS else ""))


def _check_param_keys(params: dict) -> None:
    """The receipt's params must be exactly the keys the stark backend writes (each is then
    compared with its recomputed value): a missing key is not defaulted, an extra one would be
    unbound metadata."""
    missing = [k for k in PARAM_KEYS if k not in params]
    extra = sorted(k for k in params if k not in PARAM_KEYS)
    if missing or extra:
        raise VerificationError(
            "stark receipt params " + (f"lack {', '.join(missing)}" if missing else "")
            + ("; " if missing and extra else "") + (f"have unbound key(s) {', '.join(extra)}" if extra else ""))


@dataclass(frozen=True)
class StarkVerification:
    """What a stark verification established, every value recomputed from the verified seal,
    the claim and the verifying key (never read from the receipt's params):

    preset           the seal's preset (its parameters are in the verifying-key digest the
                     transcripts observe, so another preset's proof does not verify)
    security         the SecurityEstimate recomputed from the preset and the verified heights
    proof_bytes      Σ of the segments' proof lengths
    cycles           the claim's cycle count (bound: the last segment's public values)
    segments         number of segment proofs; segment_lengths their cycles (from the
                     public-value chain); log_heights every segment's table heights"""

    preset: str
    security: object
    proof_bytes: int
    cycles: int
    segments: int
    segment_lengths: list
    log_heights: list

    def params(self) -> dict:
        """The params an honest receipt of this proof carries (except segment_cycles, the
        prover's cut, which check_params checks against segment_lengths)."""
        return {"preset": self.preset, "security_bits": round(self.security.bits, 1), "proof_bytes": self.proof_bytes,
                "cycles": self.cycles, "segments": self.segments}

    def check_params(self, params: dict) -> None:
        """VerificationError unless every param equals its recomputed value; segment_cycles must
        be the length of every segment but the last, and at least the last's."""
        for key, want in self.params().items():
            got = params.get(key)
            if type(got) is not type(want) or got != want:
                raise VerificationError(f"receipt params say {key} = {got!r}, the verified seal gives {want!r}")
        cut = params.get("segment_cycles")
        if isinstance(cut, bool) or not isinstance(cut, int) or \
                any(n != cut for n in self.segment_lengths[:-1]) or self.segment_lengths[-1] > cut:
            raise VerificationError(f"receipt params say segment_cycles = {cut!r}, but the verified segments have "
                                    f"{self.segment_lengths} cycles")

    def to_json(self) -> dict:
        return {"preset": self.preset, "security": self.security.to_json(), "proof_bytes": self.proof_bytes,
                "cycles": self.cycles, "segments": self.segments, "segment_lengths": list(self.segment_lengths)}


__all__ = ["StarkBackend", "StarkVerification", "PARAM_KEYS", "encode_seal", "decode_seal", "describe_segments", "public_values_for", "segment_public_values", "MIN_SECURITY_BITS",
           "SEAL_VERSION"]
