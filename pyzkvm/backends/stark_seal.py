"""The stark backend's seal: its byte format, and a read-only description for ``pyzkvm inspect``.

Seal, version 5 (little-endian; proofs of format 2)::

    u16 version (= 5) ‖ u8 len ‖ preset name ‖ prep_root[32]
    ‖ u8 n_others ‖ n_others × circuit digest[32] ‖ u8 n_tables
    ‖ n_tables × u8 preprocessed log-height (0xFF: the table has no preprocessed columns)
    ‖ u8 has_commit ‖ u8 has_deferred ‖ u32 n_segments
    ‖ n_segments × (u64 end_clock ‖ u32 proof_len ‖ proof)

The circuit digests are the program's at the image ID's other blowups (machine/image_id.py,
version 3 IDs: the verifier recomputes the one of the proof's blowup and hashes all of them).
Version 4 added them (version 3 had none: image IDs v2 named blowup 4 only). Version 5 dropped
each segment's end pc, journal length and assumption count, and the run's start pc: the
segments pass them to each other on the boundary buses (docs/continuations.md), so a hiding
receipt no longer shows them; only the cut clocks remain.
"""

from __future__ import annotations

import struct

from ..errors import ProofFormatError, StarkConfigError, VerificationError
from ..receipt import Receipt

SEAL_VERSION = 5
NO_PREP = 0xFF


def encode_seal(preset: str, prep_root: bytes, prep_log_heights, has_commit: bool, has_deferred: bool,
                segments: list, *, others) -> bytes:
    """``segments``: (end_clock, proof bytes) per segment, in order; ``others``: the program's
    circuit digests at the image ID's other blowups, in order."""
    name = preset.encode()
    out = bytearray(struct.pack("<HB", SEAL_VERSION, len(name)))
    out += name + bytes(prep_root)
    out += bytes([len(others)]) + b"".join(bytes(d) for d in others)
    out += bytes([len(prep_log_heights)]) + bytes(NO_PREP if h is None else h for h in prep_log_heights)
    out += bytes([int(has_commit), int(has_deferred)]) + struct.pack("<I", len(segments))
    for end_clock, proof in segments:
        out += struct.pack("<QI", end_clock, len(proof)) + proof
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
    (n_segments,) = struct.unpack("<I", take(4, "segment count"))
    if not 1 <= n_segments <= MAX_SEGMENTS:
        raise ProofFormatError(f"stark seal: {n_segments} segments (1..{MAX_SEGMENTS} allowed)")
    segments = []
    for k in range(n_segments):
        end_clock, proof_len = struct.unpack("<QI", take(12, f"segment {k} header"))
        segments.append((end_clock, take(proof_len, f"segment {k} proof")))
    if pos != len(seal):
        raise ProofFormatError(f"stark seal has {len(seal) - pos} trailing bytes after the proofs")
    return {"preset": preset, "prep_root": prep_root, "others": others, "prep_log_heights": heights, "has_commit": bool(has_commit),
            "has_deferred": bool(has_deferred), "segments": segments}


def describe_segments(receipt: Receipt) -> list[dict]:
    """A JSON-ready view of a stark receipt's segments (for ``pyzkvm inspect``; verifies nothing):
    their clocks and proof sizes — what the seal shows; where each segment's pc and journal
    stood, it does not (module docstring)."""
    seal = decode_seal(receipt.seal)
    out, clock = [], 0
    for k, (end_clock, proof) in enumerate(seal["segments"]):
        halted = k == len(seal["segments"]) - 1
        out.append({"index": k, "start_cycle": clock, "end_cycle": end_clock, "halted": halted,
                    "exit_code": receipt.claim.exit_code if halted else None, "proof_bytes": len(proof)})
        clock = end_clock
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
    ends = [end_clock for end_clock, _proof in segments]
    try:
        vk = machine_key_from_parts(config, seal["prep_root"], seal["prep_log_heights"])
    except StarkConfigError as exc:
        raise ProofFormatError(f"stark seal does not describe the machine's tables: {exc}") from None
    heights = [[t.log_height for t in decode_proof(proof).tables] for _end, proof in segments]
    claim = receipt.claim
    try:  # the statement as StarkBackend.verify rebuilds it (a risc0 run's journal is not on the bus)
        profile, halt_type = profile_of_params(receipt.params)
    except VerificationError:  # (verify refuses such params; the view reads them as sp1's)
        profile, halt_type = "sp1", 0
    final = Statement.from_claim(claim.exit_code, receipt.journal, claim.assumptions, seal["has_commit"],
                                 seal["has_deferred"], ends, profile, halt_type)[-1]
    bus_journal = b"" if profile == "risc0" else receipt.journal
    security = statement_security(vk, heights, final.public_values(),
                                  bytes(MachinePublicData(bus_journal, claim.assumptions)))
    clocks = [0, *ends]
    return {"preset": config.name, "zero_knowledge": config.zk, "security": security,
            "security_bits": round(security.bits, 1),
            "proof_bytes": sum(len(proof) for _end, proof in segments), "segments": len(segments),
            "segment_lengths": [b - a for a, b in zip(clocks, clocks[1:])]}
