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
 * enforce a minimum security: proofs whose preset gives < 100 bits are rejected unless the
   preset's name contains "insecure" AND the caller passes ``allow_insecure=True`` (tests).

Seal, version 1 (little-endian)::

    u16 version (= 1) ‖ u8 len ‖ preset name ‖ prep_root[32] ‖ u8 n_tables
    ‖ n_tables × u8 preprocessed log-height (0xFF: the table has no preprocessed columns)
    ‖ u8 has_commit ‖ u8 has_deferred ‖ u32 proof_len ‖ proof (pyzkvm/stark/proof.py)
"""

from __future__ import annotations

import hashlib
import struct
from typing import Sequence

from ..errors import ProofFormatError, StarkConfigError, UnsupportedProgram, UsageError, VerificationError
from ..receipt import Claim, Receipt
from .base import Backend, ProgressCallback

SEAL_VERSION = 1
#: below this conjectured security a receipt is refused unless allow_insecure=True and its
#: preset says "insecure" (tests only)
MIN_SECURITY_BITS = 100
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


def public_values_for(exit_code: int, journal: bytes, cycles: int, has_commit: bool, has_deferred: bool) -> list:
    """The machine's public values as the verifier rebuilds them from a claim (docs/machine.md §5)."""
    from ..machine.cpu import NUM_PUBLIC_VALUES, PV_COMMIT, PV_CYCLES, PV_EXIT_CODE, PV_HAS_COMMIT, PV_HAS_DEFERRED

    pv = [0] * NUM_PUBLIC_VALUES
    for i, byte in zip(PV_EXIT_CODE, int(exit_code).to_bytes(4, "little")):
        pv[i] = byte
    if has_commit:  # the SP1 SDK commits SHA-256(journal) as the 8 COMMIT words at exit
        pv[PV_HAS_COMMIT] = 1
        for i, byte in zip(PV_COMMIT, hashlib.sha256(journal).digest()):
            pv[i] = byte
    pv[PV_HAS_DEFERRED] = int(bool(has_deferred))  # the deferred-proofs digest stays 0: no assumptions
    pv[PV_CYCLES] = int(cycles)
    return pv


# ---- seal codec ---------------------------------------------------------------------------------


def encode_seal(preset: str, prep_root: bytes, prep_log_heights, has_commit: bool, has_deferred: bool,
                proof: bytes) -> bytes:
    name = preset.encode()
    out = bytearray(struct.pack("<HB", SEAL_VERSION, len(name)))
    out += name + bytes(prep_root)
    out += bytes([len(prep_log_heights)]) + bytes(NO_PREP if h is None else h for h in prep_log_heights)
    out += bytes([int(has_commit), int(has_deferred)]) + struct.pack("<I", len(proof)) + proof
    return bytes(out)


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
        raise ProofFormatError(f"stark seal version {version} is not supported (this pyzkvm reads {SEAL_VERSION})")
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
    (proof_len,) = struct.unpack("<I", take(4, "proof length"))
    proof = take(proof_len, "proof")
    if pos != len(seal):
        raise ProofFormatError(f"stark seal has {len(seal) - pos} trailing bytes after the proof")
    return {"preset": preset, "prep_root": prep_root, "prep_log_heights": heights, "has_commit": bool(has_commit),
            "has_deferred": bool(has_deferred), "proof": proof}


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
        assumptions: Sequence = (),
        **options,
    ) -> Receipt:
        """Execute ``program`` with trace capture and prove the run with the machine AIR.

        ``preset``: "default" (DEFAULT, ≥ 100 bits) or another preset name / StarkConfig whose
        blowup is the image ID's (e.g. "insecure_fast_for_tests"). ``max_cycles`` goes to the
        executor. A guest exiting non-zero gets a receipt proving that failing run.
        ``assumptions``: one receipt per VERIFY_SP1_PROOF the guest makes, in order; the claim
        lists the assertions and the proof binds them (the ``assumption`` bus), the receipts are
        attached as inner receipts (a mismatch is a UsageError naming the missing or extra one).
        Refused: a program using a syscall the AIR does not prove (UnsupportedProgram)."""
        self.reject_options(options)
        from ..composition import resolve_assumptions
        from ..executor import execute
        from ..machine import build_chips, check_provable, generate_tables
        from ..machine.cpu import PV_DEFERRED
        from ..machine.image_id import remember_image_id
        from ..stark import prove as stark_prove
        from ..stark import security_bits, setup

        config = _config(preset)
        step = _overall(progress or (lambda s, f: None))
        step("execute", 0.0)
        run_options = {} if max_cycles is None else {"max_cycles": max_cycles}
        execution = execute(program, inputs, capture_trace=True, **run_options)
        check_provable(execution)
        # each VERIFY_SP1_PROOF assertion needs its receipt, one to one and in order
        inner = resolve_assumptions(execution.assumptions, assumptions)
        step("build tables", 0.0)
        chips = build_chips(program)
        tables = generate_tables(chips, execution)
        # the prover works on uint32 field elements: hand it uint32 tables (values ≥ p or < 0 are
        # still refused by its trace check) and drop the int64 ones — half the traces' memory
        import numpy as np

        tables.traces = {k: np.ascontiguousarray(v, dtype=np.uint32) for k, v in tables.traces.items()}
        if any(tables.public_values[i] for i in PV_DEFERRED):
            raise UnsupportedProgram("the guest committed a non-zero deferred-proofs digest: the stark backend binds "
                                     "assumptions through VERIFY_SP1_PROOF, and proves only a zero digest")
        step("setup", 0.0)
        pk = setup(config, chips.airs)
        vk = pk.verifying_key
        remember_image_id(program, vk)
        proof = stark_prove(pk, tables.in_order(chips), tables.public_values, progress=step,
                            public_data=tables.public_data).to_bytes()
        from ..machine.cpu import PV_HAS_COMMIT, PV_HAS_DEFERRED

        has_commit = bool(tables.public_values[PV_HAS_COMMIT])
        has_deferred = bool(tables.public_values[PV_HAS_DEFERRED])
        seal = encode_seal(config.name, vk.prep_root, vk.prep_log_heights, has_commit, has_deferred, proof)
        lde_log = max(t.shape[0] for t in tables.in_order(chips)).bit_length() - 1 + config.log_blowup
        claim = Claim.for_execution(vk.circuit_digest, execution.journal, execution.exit_code, execution.cycles,
                                    execution.assumptions)
        params = {
            "preset": config.name,
            "security_bits": round(security_bits(config, lde_log).bits, 1),
            "proof_bytes": len(proof),
            "cycles": int(execution.cycles),
        }
        step("done", 1.0)
        return Receipt(claim, execution.journal, self.name, self.version, params, seal, inner)

    def verify(self, receipt: Receipt, image_id: bytes, *, allow_insecure: bool = False, **options) -> None:
        """Check the seal's STARK proof against ``image_id`` and the receipt's claim (module docstring),
        assumptions included. The inner receipts are not verified here: ``pyzkvm.verify`` does that.

        ``allow_insecure=True`` accepts proofs below 100 bits whose preset name says "insecure"
        (tests only); otherwise such receipts are rejected."""
        options.pop("dev_mode", None)  # pyzkvm.verify passes it to every backend; it changes nothing here
        self.reject_options(options, "verify")
        from ..api import as_image_id
        from ..machine.image_id import machine_key_from_parts
        from ..machine.public_data import MachinePublicData
        from ..machine.support import MAX_CYCLES
        from ..stark import PRESETS, security_bits
        from ..stark import verify as stark_verify

        image_id = as_image_id(image_id)
        self.check_claim(receipt, image_id)
        claim = receipt.claim
        if not isinstance(receipt.seal, bytes):  # pragma: no cover - Receipt normalises it
            raise ProofFormatError("stark seal must be bytes")
        seal = decode_seal(receipt.seal)
        config = PRESETS.get(seal["preset"])
        if config is None:
            raise VerificationError(f"stark seal names an unknown preset {seal['preset']!r}")
        if receipt.params.get("preset", config.name) != config.name:
            raise VerificationError("receipt params name another preset than its seal")
        # the query term alone (the field term only lowers it): refuse weak presets before any work
        claimed = min(security_bits(config, 0).query_bits, security_bits(config, 0).hash_bits)
        self._check_security(config.name, claimed, allow_insecure)
        if not 1 <= claim.cycles <= MAX_CYCLES:
            raise VerificationError(f"claim says {claim.cycles} cycles; a stark proof covers 1..{MAX_CYCLES}")
        try:
            vk = machine_key_from_parts(config, seal["prep_root"], seal["prep_log_heights"])
        except StarkConfigError as exc:
            raise ProofFormatError(f"stark seal does not describe the machine's tables: {exc}") from None
        if vk.circuit_digest != image_id:
            raise VerificationError(
                f"the seal's verifying key has digest {vk.circuit_digest.hex()}, not the image ID {image_id.hex()}: "
                "the proof is for another program")
        public = public_values_for(claim.exit_code, receipt.journal, claim.cycles, seal["has_commit"], seal["has_deferred"])
        # the statement's variable part, rebuilt from the claim: the journal and the assumptions
        public_data = MachinePublicData(receipt.journal, claim.assumptions)
        report = stark_verify(vk, seal["proof"], public, public_data=public_data)
        self._check_security(config.name, report.security.bits, allow_insecure)

    @staticmethod
    def _check_security(name: str, bits: float, allow_insecure: bool) -> None:
        if bits >= MIN_SECURITY_BITS:
            return
        if "insecure" in name and allow_insecure:
            return
        raise VerificationError(
            f"the proof's preset {name!r} gives {bits:.0f} bits, below the minimum of {MIN_SECURITY_BITS}"
            + ("; pass allow_insecure=True to accept test proofs" if "insecure" in name else ""))


__all__ = ["StarkBackend", "encode_seal", "decode_seal", "public_values_for", "MIN_SECURITY_BITS", "SEAL_VERSION"]
