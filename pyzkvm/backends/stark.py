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
    and the public values rebuilt from the claim; by default in the **hiding mode**
    (DEFAULT_ZK, stark/zk.py): the receipt reveals nothing about the private input, and
    ``zk=False`` gives the transparent twin (docs/backend-guide.md)

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
   segments, segment_cycles consistent with the segments' lengths, zero_knowledge = the
   preset's hiding mode); any other key is refused.
   verify returns those recomputed values (StarkVerification), which is what callers should
   show. ``backend_version`` is the prover's label: verification neither reads nor reports it.

Continuations: ``prove(..., segment_cycles=N)`` proves the run as segments of N cycles, one
STARK proof each, whose buses balance only together (pyzkvm/stark/joint.py: every segment's
main traces are committed before the shared bus challenges are drawn). Memory accesses run on
the global clock across segments; the last segment holds the memory boundary; each segment's
public values say where it starts and ends in clock, and the verifier builds them as a chain —
segment k starts at the clock where k − 1 ended; the pc, journal length and number of
assumptions pass between them on the boundary buses, not in the receipt — so a dropped,
repeated, reordered or foreign segment cannot verify, and a hiding receipt does not show what
the guest was doing at a cut (docs/continuations.md, docs/machine.md §5). A whole run is the
case of one segment.

The seal's byte format: stark_seal.py; the acceptance policy (minimum security, params):
stark_policy.py; the temporary disk of a continuation's tables: spill.py.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..errors import ProofFormatError, StarkConfigError, UnsupportedProgram, UsageError, VerificationError
from ..receipt import Claim, Receipt
from .base import Backend, ProgressCallback
from .spill import SPILL_PREFIX, spill_to_disk
from .stark_policy import (MIN_SECURITY_BITS, PARAM_KEYS, StarkVerification, bus_entries_at_least,
                           check_bus_entries_so_far, check_param_keys, check_security, check_security_of_heights,
                           minimum_bits, profile_of_params, profile_params, unproved_profile)
from .stark_seal import MAX_SEGMENTS, SEAL_VERSION, decode_seal, describe_seal, describe_segments, encode_seal

if TYPE_CHECKING:  # the machine loads lazily (numba kernels, seconds): for the types only
    from ..machine.statement import Statement
    from ..machine.tables import Chips, MachineTables

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


@dataclass
class SegmentedRun:
    """A run cut into segments, ready to prove: each segment's (main traces, public values)."""

    chips: Chips
    statements: list          #: [(traces in proof order (uint32), public values)] per segment
    journal: bytes
    assumptions: tuple        #: the run's VERIFY_SP1_PROOF assertions, in order
    segment_statements: list  #: each segment's Statement (machine/statement.py), the run's outcome in each
    exit_code: int
    segment_cycles: int
    explicit: bool            #: segment_cycles was asked for (so the receipt says so even for 1 segment)
    spill: object = None      #: the temporary directory holding the earlier segments' tables (removed with the run)

    @property
    def profile(self) -> str:
        """The ABI family proved: "sp1" or "risc0" (the statements say it)."""
        return self.segment_statements[-1].profile

    @property
    def public_data(self):
        """The STARK's public data (machine/public_data.py): the whole run's journal and assumptions
        (risc0: no journal — it is bound through the output digest, machine/statement.py)."""
        from ..machine.public_data import MachinePublicData

        return MachinePublicData(b"" if self.profile == "risc0" else self.journal, self.assumptions)


def default_segment_cycles(config) -> int:
    """Cycles per segment when none are asked for: 2^20, and no more than the preset's tallest
    table (DEFAULT_ZK: 2^20 rows, so a 2^20-cycle run is one hiding proof; COMPACT 2^19, its
    hiding twin 2^18). A run whose segments still hold a taller table (a precompile's rows can
    outnumber the cycles) is cut again, in halves, by ``fitting_statements``."""
    from ..executor.segments import DEFAULT_SEGMENT_CYCLES

    return min(DEFAULT_SEGMENT_CYCLES, 1 << config.log_height_limit)


def _tallest_log_rows(run: "SegmentedRun") -> int:
    return max(int(t.shape[0]).bit_length() - 1 for traces, _pv in run.statements for t in traces)


def fitting_statements(program, inputs, config, max_cycles=None, step=lambda s, f: None) -> "SegmentedRun":
    """build_statements with the preset's default segments (default_segment_cycles), halved
    until every segment's tables fit the preset's tallest table (a run cut again executes again;
    a run whose tallest table does not shrink with its segments is left to
    check_security_of_heights to refuse)."""
    cycles, before = default_segment_cycles(config), None
    while True:
        run = build_statements(program, inputs, None, max_cycles, step, default_segment_cycles=cycles)
        tallest = _tallest_log_rows(run)
        if tallest <= config.log_height_limit or run.segment_cycles <= 1 or (before is not None and tallest >= before):
            return run
        cycles, before = run.segment_cycles // 2, tallest


def build_statements(program, inputs, segment_cycles=None, max_cycles=None, step=lambda s, f: None,
                     default_segment_cycles=None) -> SegmentedRun:
    """Execute in segments with trace capture and build every segment's tables (the prover's
    first half, shared by StarkBackend.prove and pyzkvm.dist): the segments follow each other
    through SegmentContext (memory's last accesses, journal length); every segment's public
    values carry the run's outcome (exit code, COMMIT words) from the one that halts."""
    from ..executor.segments import DEFAULT_SEGMENT_CYCLES, execute_segments
    from ..machine import build_chips, check_provable, generate_tables
    from ..machine.support import check_output_digest
    from ..machine.tables import SegmentContext

    if segment_cycles is not None and (isinstance(segment_cycles, bool) or not isinstance(segment_cycles, int)
                                       or segment_cycles <= 0):
        raise UsageError(f"segment_cycles must be a positive integer, got {segment_cycles!r}")
    why = unproved_profile(program.profile)
    if why is not None:
        raise UnsupportedProgram(f"cannot prove this ELF under profile {program.profile}: {why}")
    step("execute", 0.0)
    run_options = {} if max_cycles is None else {"max_cycles": max_cycles}
    explicit = segment_cycles is not None
    # a shorter run is one segment: a whole-run proof
    segment_cycles = segment_cycles or default_segment_cycles or DEFAULT_SEGMENT_CYCLES
    chips = build_chips(program)
    tables_of: list[MachineTables] = []
    assumptions: tuple[tuple[bytes, bytes], ...] = ()
    context, journal, exit_code = SegmentContext.first(), b"", 0
    entries = 0  # bus entries of the segments built so far, at least (stark_policy.bus_entries_at_least)
    spill = None  # a continuation keeps the earlier segments' tables on disk, memory-mapped
    for execution in execute_segments(program, inputs, segment_cycles, capture_trace=True, **run_options):
        if len(tables_of) == MAX_SEGMENTS:  # (the seal holds at most that many: refused before proving any)
            raise UnsupportedProgram(f"the run needs more than {MAX_SEGMENTS} segments of {segment_cycles} cycles "
                                     f"(a receipt holds at most {MAX_SEGMENTS}): give a larger --segment-cycles")
        check_provable(execution)
        check_output_digest(execution)
        step("build tables", min(1.0, len(tables_of) / 8))
        tables = generate_tables(chips, execution, context)
        entries += bus_entries_at_least(chips.airs, tables.traces)
        check_bus_entries_so_far(entries, len(tables_of) + 1)  # (not only once every segment is built)
        context = context.next(tables)
        # the prover works on uint32 field elements: drop the int64 copies (half the memory)
        tables.traces = {k: np.ascontiguousarray(v, dtype=np.uint32) for k, v in tables.traces.items()}
        tables.memory_after = None
        journal += execution.journal
        assumptions += tuple(execution.assumptions)
        exit_code = execution.exit_code
        assert execution.trace is not None  # capture_trace=True
        tables_of.append(tables)
        del execution
        if len(tables_of) > 1:
            spill = spill or tempfile.TemporaryDirectory(prefix=f"{SPILL_PREFIX}{os.getpid()}-")
            tables_of[-2].traces = spill_to_disk(tables_of[-2].traces, spill.name, len(tables_of) - 2)
    final = _statement(tables_of[-1])
    if final.deferred is not None and any(final.deferred):
        raise UnsupportedProgram("the guest committed a non-zero deferred-proofs digest: the stark backend binds "
                                 "assumptions through VERIFY_SP1_PROOF, and proves only a zero digest")
    segment_statements = [_statement(t).with_outcome(final) for t in tables_of]
    statements = [(t.in_order(chips), s.public_values()) for t, s in zip(tables_of, segment_statements)]
    return SegmentedRun(chips, statements, journal, assumptions, segment_statements, exit_code, segment_cycles,
                        explicit, spill)


def _statement(tables: MachineTables) -> Statement:
    assert tables.statement is not None  # generate_tables sets what the tables prove
    return tables.statement


# ---- the backend --------------------------------------------------------------------------------


def config_for_preset(preset, zk: bool | None = None):
    """The StarkConfig a preset name (or None/"default", or a StarkConfig) stands for, checked
    against the blowups the image ID binds. "default" is the hiding DEFAULT_ZK (zero knowledge);
    ``zk`` True/False picks the preset's hiding or transparent twin (stark.config.with_zk),
    None keeps what the name says."""
    from ..machine.image_id import check_image_id_config
    from ..stark import DEFAULT_ZK, StarkConfig, with_zk
    from ..stark import preset as lookup

    if preset in (None, "default"):
        config = DEFAULT_ZK
    elif isinstance(preset, StarkConfig):
        config = preset
    elif isinstance(preset, str):
        config = lookup(preset)
    else:
        raise UsageError(f"preset must be a preset name or a StarkConfig, not {type(preset).__name__}")
    if zk is not None:
        if not isinstance(zk, bool):  # ("no" would read as True)
            raise UsageError(f"zk must be True, False or None, not {zk!r}")
        config = with_zk(config, zk)
    check_image_id_config(config)
    return config


class StarkBackend(Backend):
    """Proves RV32IM execution with the machine AIR (pyzkvm/machine) and the STARK of pyzkvm/stark."""

    name = "stark"
    produces_proofs = True
    #: prove() takes ``assumptions=`` (receipts for the guest's VERIFY_SP1_PROOF calls)
    supports_assumptions = True
    #: why a receipt cannot show a run under an executor profile, or None (pyzkvm.verify asks,
    #: given the program: its image ID binds the ABI family, not the SP1 version)
    unproved_profile = staticmethod(unproved_profile)

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
        zk: bool | None = None,
        **options,
    ) -> Receipt:
        """Execute ``program`` with trace capture and prove the run with the machine AIR.

        ``preset``: "default" (DEFAULT_ZK: zero-knowledge, ≥ 100 bits) or another preset name /
        StarkConfig whose blowup the image ID binds (4, 8 or 16: e.g. "compact_100_bits",
        "insecure_fast_for_tests"). ``zk``:
        False for the preset's transparent twin (faster, smaller, but the proof reveals trace
        values: docs/backend-guide.md), True for its hiding twin; None keeps the preset's. ``max_cycles`` goes to the
        executor. ``segment_cycles``: prove in segments of that many cycles (a continuation). The
        default, 2^20 (executor.segments.DEFAULT_SEGMENT_CYCLES), keeps one segment's proving
        under 3 GB (1.75 GB transparent at 2^20 cycles: bench/results/stark_prove.md, session 11;
        hiding: the same file, issue 18's `hid` section); a shorter run is one whole-run proof; one
        proof covers at most 2^22 cycles, and at DEFAULT a table may have at most 2^21 rows
        (≥ 100 bits; a taller one is refused before proving), at DEFAULT_ZK 2^20 rows (default
        segments that would hold a taller table are halved until none does). A guest
        exiting non-zero gets a receipt proving that failing run.
        ``assumptions``: one receipt per VERIFY_SP1_PROOF the guest makes, in order; the claim
        lists the assertions and the proof binds them (the ``assumption`` bus), the receipts are
        attached as inner receipts (a mismatch is a UsageError naming the missing or extra one).
        Refused: a program using a syscall the AIR does not prove (UnsupportedProgram)."""
        self.reject_options(options)
        from ..composition import resolve_assumptions
        from ..machine.image_id import other_circuit_digests
        from ..machine.prep_root import commit_preprocessed
        from ..machine.prover_key import ensure_prover_key
        from ..stark.keys import _max_degree
        from ..stark import setup
        from ..stark import joint
        from ..stark.heap import ordinary_pages

        config = config_for_preset(preset, zk)
        report = progress or (lambda s, f: None)
        step = _overall(report)
        with ordinary_pages():  # numpy's huge-page advice off while proving (stark/heap.py)
            # every chip's compiled data from the memo's prover key (built once per code version, ~7 s)
            # (and the verifier key of this mode: the first `pyzkvm verify` of the receipt loads it)
            ensure_prover_key(_max_degree(config), lambda: report("build the prover key (once per code version)", 0.0),
                              zk_modes=(config.zk,))
            run = (fitting_statements(program, inputs, config, max_cycles, step) if segment_cycles is None
                   else build_statements(program, inputs, segment_cycles, max_cycles, step))
            check_security_of_heights(run, config)
            # each VERIFY_SP1_PROOF assertion needs its receipt, one to one and in order
            inner = resolve_assumptions(run.assumptions, assumptions)
            step("setup", 0.0)
            pk = setup(config, run.chips.airs, commit=commit_preprocessed)  # the byte table's part from the memo
            check_security_of_heights(run, config, pk.verifying_key)
            others = other_circuit_digests(program, pk.verifying_key)  # the image ID's other blowups, for the seal
            n = len(run.statements)

            def segment_progress(k, name, fraction):  # segment k's steps, spread over the bar after setup
                if name in _STEPS and n > 1:
                    within = _STEPS[name] + fraction * 0.05
                    report(f"segment {k + 1}/{n}: {name}", _STEPS["commit to trace data"] + (1 - _STEPS["commit to trace data"])
                           * min(1.0, (k + within) / n))
                else:
                    step(name, fraction)

            # the tables are handed over: each segment's go once its aux traces are built (joint.prove)
            proofs = joint.prove(pk, run.statements, run.public_data, progress=segment_progress, release_tables=True)
            step("done", 1.0)
            return self.receipt_from_proofs(run, config, pk.verifying_key, proofs, inner, others=others)

    def receipt_from_proofs(self, run: "SegmentedRun", config, vk, proofs: list, inner=(), *, others) -> Receipt:
        """The receipt for a run's statements and their (joint) Proofs, in segment order (the
        tables' heights are read from the proofs: the run's tables may have been released);
        ``inner``: the receipts that discharge the run's assumptions; ``others``: the program's
        circuit digests at the image ID's other blowups (image_id.other_circuit_digests). Its
        params are exactly what verify recomputes from the seal (PARAM_KEYS)."""
        from ..machine.image_id import image_id_from_seal
        from ..stark.verifier import statement_security

        heights = [[t.log_height for t in p.tables] for p in proofs]  # None: a table left out (optional.py)
        encoded = [p.to_bytes() for p in proofs]
        final = run.segment_statements[-1]
        seal_segments = [(s.cycles, proof) for s, proof in zip(run.segment_statements, encoded, strict=True)]
        seal = encode_seal(config.name, vk.prep_root, vk.prep_log_heights, final.commit is not None,
                           final.deferred is not None, seal_segments, others=others)
        security = statement_security(vk, heights, run.statements[-1][1], run.public_data)
        cycles = final.cycles
        claim = Claim.for_execution(image_id_from_seal(vk, others), run.journal, run.exit_code, cycles, run.assumptions)
        params = {
            "preset": config.name,
            "security_bits": round(security.bits, 1),
            "proof_bytes": sum(len(p) for p in encoded),
            "cycles": cycles,
            "segments": len(proofs),
            "segment_cycles": int(run.segment_cycles) if len(proofs) > 1 else cycles,  # one segment: its length
            "zero_knowledge": bool(config.zk),
            **profile_params(final),
        }
        return Receipt(claim, run.journal, self.name, self.version, params, seal, tuple(inner))

    def verify(self, receipt: Receipt, image_id: bytes, *, min_security_bits: float | None = None,
               allow_insecure: bool = False, inner_verified: bool = False, **options) -> "StarkVerification":
        """Check the seal's STARK proofs against ``image_id`` and the receipt's claim (module docstring),
        assumptions included, and return what was verified (StarkVerification: every value
        recomputed from the seal and the claim, never read from ``params``).

        A composed receipt (its claim assumes other receipts) proves only "this run happened and
        assumed them": it is verified whole, its inner receipts too, through pyzkvm.verify_report
        (composition.py), unless ``inner_verified`` says the caller has done that already (pyzkvm.verify).

        ``min_security_bits`` (default MIN_SECURITY_BITS = 100): refuse a proof whose recomputed
        estimate is lower. ``allow_insecure=True`` without it means no minimum (test presets)."""
        dev_mode = options.pop("dev_mode", None)  # pyzkvm.verify passes it to every backend; only the tree's gate reads it
        self.reject_options(options, "verify")
        if (receipt.claim.assumptions or receipt.inner) and not inner_verified:
            import dataclasses

            from ..api import verify_report
            from ..errors import DevModeReceiptError

            tree = verify_report(receipt, image_id, dev_mode, min_security_bits=min_security_bits,
                                 allow_insecure=allow_insecure)
            if tree.dev_mode:  # (dev mode on: a StarkVerification has no way to say "NOT a proof")
                raise DevModeReceiptError("the receipt carries a dev-mode receipt inside: it is NOT a proof, and "
                                          "StarkBackend.verify reports proofs only; pyzkvm.verify_report accepts it in "
                                          "dev mode (Verified.dev_mode)")
            # the claim holds only as far as the weakest receipt of its tree: that one's estimate
            return dataclasses.replace(tree.report, security=tree.security)
        from ..program import as_image_id
        from ..machine.image_id import check_image_id_config, image_id_from_seal, machine_key_from_parts
        from ..machine.public_data import MachinePublicData
        from ..machine.statement import Statement
        from ..machine.support import MAX_CYCLES
        from ..stark import PRESETS, security_bits
        from ..stark import joint

        minimum = minimum_bits(min_security_bits, allow_insecure)
        image_id = as_image_id(image_id)
        self.check_claim(receipt, image_id)
        claim = receipt.claim
        if not isinstance(receipt.seal, bytes):  # pragma: no cover - Receipt normalises it
            raise ProofFormatError("stark seal must be bytes")
        check_param_keys(receipt.params)
        profile, halt_type = profile_of_params(receipt.params)
        seal = decode_seal(receipt.seal)
        config = PRESETS.get(seal["preset"])
        if config is None:
            raise VerificationError(f"stark seal names an unknown preset {seal['preset']!r}")
        try:  # a preset whose blowup no image ID binds cannot match one: refuse before any work
            check_image_id_config(config)
        except StarkConfigError as exc:
            raise VerificationError(f"stark seal: {exc}") from None
        # the height-independent terms bound the estimate from above: refuse weak presets before any work
        ceiling = min(security_bits(config, 0).query_bits, security_bits(config, 0).hash_bits)
        check_security(config.name, ceiling, minimum)
        if not 1 <= claim.cycles <= MAX_CYCLES:
            raise VerificationError(f"claim says {claim.cycles} cycles; a stark proof covers 1..{MAX_CYCLES}")
        segments = seal["segments"]
        ends = [end_clock for end_clock, _proof in segments]
        bus_journal = b"" if profile == "risc0" else receipt.journal  # risc0: bound by the output digest instead
        if ends[-1] != claim.cycles:
            raise VerificationError(f"the last segment ends at clock {ends[-1]}, not at the claim's {claim.cycles} "
                                    "cycles after HALT")
        clocks = [0, *ends]
        if any(b <= a for a, b in zip(clocks, clocks[1:])):
            raise VerificationError("stark seal: segment end clocks must increase")
        try:
            vk = machine_key_from_parts(config, seal["prep_root"], seal["prep_log_heights"])
        except StarkConfigError as exc:
            raise ProofFormatError(f"stark seal does not describe the machine's tables: {exc}") from None
        # image ID v3 (machine/image_id.py): this blowup's circuit digest, recomputed from the
        # seal's root and heights, at its place among the seal's digests of the other blowups
        sealed_id = image_id_from_seal(vk, seal["others"])
        if sealed_id != image_id:
            raise VerificationError(
                f"the seal's verifying key gives image ID {sealed_id.hex()}, not {image_id.hex()}: "
                "the proof is for another program")
        # the RISC Zero statement has no deferred-proofs digest: its seal flag would be a byte
        # the proof does not bind (a second seal for the same claim), so it must be 0
        if profile == "risc0" and (not seal["has_commit"] or seal["has_deferred"] or claim.exit_code >= 1 << 24):
            raise VerificationError("a risc0 receipt binds an output digest (has_commit = 1, has_deferred = 0) "
                                    "and an exit code below 2^24")
        publics = [s.public_values() for s in Statement.from_claim(
            claim.exit_code, receipt.journal, claim.assumptions, seal["has_commit"], seal["has_deferred"], ends,
            profile, halt_type)]
        # the statement's variable part, rebuilt from the claim: the journal and the assumptions
        public_data = MachinePublicData(bus_journal, claim.assumptions)
        reports = joint.verify(vk, [proof for _end, proof in segments], publics, bytes(public_data))
        security = reports[0].security  # the joint statement's estimate, recomputed by the verifier
        check_security(config.name, security.bits, minimum)
        verified = StarkVerification(
            preset=config.name, security=security, proof_bytes=sum(len(proof) for _end, proof in segments),
            cycles=claim.cycles, segments=len(segments),
            segment_lengths=[b - a for a, b in zip(clocks, clocks[1:])],
            log_heights=[r.log_heights for r in reports], zero_knowledge=config.zk,
            profile=profile, halt_type=halt_type)
        verified.check_params(receipt.params)
        return verified


__all__ = ["StarkBackend", "StarkVerification", "PARAM_KEYS", "encode_seal", "decode_seal", "describe_seal",
           "describe_segments", "MIN_SECURITY_BITS", "SEAL_VERSION", "build_statements", "check_security_of_heights"]
