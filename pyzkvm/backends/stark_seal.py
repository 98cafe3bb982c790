"""The stark backend's seal: its byte format, and a read-only description for ``pyzkvm inspect``.

Seal, version 4 (little-endian; proofs of format 2)::

    u16 version (= 4) ‖ u8 len ‖ preset name ‖ prep_root[32]
    ‖ u8 n_others ‖ n_others × circuit digest[32] ‖ u8 n_tables
    ‖ n_tables × u8 preprocessed log-height (0xFF: the table has no preprocessed columns)
    ‖ u8 has_commit ‖ u8 has_deferred ‖ u32 start_pc ‖ u32 n_segments
    ‖ n_segments × (u64 end_clock ‖ u32 end_pc ‖ u64 journal_end ‖ u32 assumptions_end
                    ‖ u32 proof_len ‖ proof)

The circuit digests are the program's at the image ID's other blowups (machine/image_id.py,
version 3 IDs: the verifier recomputes the one of the proof's blowup and hashes all of them).
Version 4 added them (version 3 had none: image IDs v2 named blowup 4 only).
"""

from __future__ import annotations

import struct

from ..errors import ProofFormatError, StarkConfigError, VerificationError
from ..receipt import Receipt

SEAL_VERSION = 4
NO_PREP = 0xFF


def encode_seal(preset: str, prep_root: bytes, prep_log_heights, has_commit: bool, has_deferred: bool,
                start_pc: int, segments: list, *, others) -> bytes:
    """``segments``: (end_clock, end_pc, journal_end, assumptions_end, proof bytes) per segment, in
    order; ``others``: the program's circuit digests at the image ID's other blowups, in order."""
    name = preset.encode()
    out = bytearray(struct.pack("<HB", SEAL_VERSION, len(name)))
    out += name + bytes(prep_root)
    out += bytes([len(others)]) + b"".join(bytes(d) for d in others)
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
    n_others = take(1, "circuit digest count")[0]
    others = [take(32, f"circuit digest {k}") for k in range(n_others)]
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
    return {"preset": preset, "prep_root": prep_root, "others": others, "prep_log_heights": heights, "has_commit": bool(has_commit),
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
    VerificationError (ProofFormatError among them) for a seal it cannot read."""
    from ..machine.image_id import machine_key_from_parts
    from ..machine.public_data import MachinePublicData
    from ..machine.statement import Statement
    from .stark_policy import profile_of_params
    from ..stark import PRESETS
    from ..stark.proof import decode_proof
    from ..stark.verifier import statement_security

    seal = decode_seal(receipt.seal)
    config = PRESETS.get(seal["preset"])
    if config is None:
        raise VerificationError(f"stark seal names an unknown preset {seal['preset']!r}")
    segments = seal["segments"]
    ends = [tuple(seg[:4]) for seg in segments]
    try:
        vk = machine_key_from_parts(config, seal["prep_root"], seal["prep_log_heights"])
    except StarkConfigError as exc:
        raise ProofFormatError(f"stark seal does not describe the machine's tables: {exc}") from None
    heights = [[t.log_height for t in decode_proof(seg[4]).tables] for seg in segments]
    claim = receipt.claim
    try:  # the statement as StarkBackend.verify rebuilds it (a risc0 run's journal is not on the bus)
        profile, halt_type = profile_of_params(receipt.params)
    except VerificationError:  # (verify refuses such params; the view reads them as sp1's)
        profile, halt_type = "sp1", 0
    final = Statement.from_claim(claim.exit_code, receipt.journal, claim.assumptions, seal["has_commit"],
                                 seal["has_deferred"], seal["start_pc"], ends, profile, halt_type)[-1]
    bus_journal = b"" if profile == "risc0" else receipt.journal
    security = statement_security(vk, heights, final.public_values(),
                                  bytes(MachinePublicData(bus_journal, claim.assumptions)))
    clocks = [0] + [e[0] for e in ends]
    return {"preset": config.name, "zero_knowledge": config.zk, "security": security,
            "security_bits": round(security.bits, 1),
            "proof_bytes": sum(len(seg[4]) for seg in segments), "segments": len(segments),
            "segment_lengths": [b - a for a, b in zip(clocks, clocks[1:])]}
