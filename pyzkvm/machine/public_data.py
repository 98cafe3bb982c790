"""The machine's public data: the journal and the assumptions, as one unambiguous byte string.

The STARK's public data is a byte string that both transcripts observe before the bus
challenges and that the AIRs' ``public_interactions`` read (pyzkvm/stark/prover.py). The
machine's statement has two variable-length parts, so they are encoded together::

    u64 len(journal) ‖ journal ‖ u32 n ‖ n × (image_id[32] ‖ journal_digest[32])

The journal-word chip balances the ``journal`` bus with the journal part, the assumption-word
chip the ``assumption`` bus with the assumptions (docs/machine.md §5). Because the lengths come
first, no two statements share an encoding: a journal cannot pass for an assumption or the
other way round. The empty byte string is accepted as "empty journal, no assumptions" (a
program without journal writes or VERIFY_SP1_PROOF, proved without public data); it is not the
encoding of anything else (an encoding has at least 12 bytes).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import UsageError

DIGEST_BYTES = 32
#: a VERIFY_SP1_PROOF assumption's bytes: image ID ‖ journal digest (16 words)
ASSUMPTION_BYTES = 2 * DIGEST_BYTES


@dataclass(frozen=True)
class MachinePublicData:
    """What the verifier knows besides the public values: the claimed journal and the claimed
    assumptions ((image_id, journal_digest) pairs, 32 bytes each, in the guest's call order)."""

    journal: bytes = b""
    assumptions: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "journal", bytes(self.journal))
        pairs = tuple((bytes(i), bytes(d)) for i, d in self.assumptions)
        if any(len(i) != DIGEST_BYTES or len(d) != DIGEST_BYTES for i, d in pairs):
            raise UsageError("an assumption is a pair (image ID, journal digest) of 32 bytes each")
        object.__setattr__(self, "assumptions", pairs)

    def __bytes__(self) -> bytes:
        return (struct.pack("<Q", len(self.journal)) + self.journal + struct.pack("<I", len(self.assumptions))
                + b"".join(i + d for i, d in self.assumptions))

    @classmethod
    def decode(cls, data: bytes) -> "MachinePublicData":
        """Parse the encoding strictly (UsageError: the caller passed something else, e.g. a
        bare journal — wrap it in MachinePublicData)."""
        data = bytes(data)
        if not data:
            return cls()
        bad = UsageError("the machine's public data must be MachinePublicData's encoding "
                         "(u64 journal length ‖ journal ‖ u32 n ‖ n × 64 bytes): wrap the journal in MachinePublicData")
        if len(data) < 12:
            raise bad
        (jlen,) = struct.unpack_from("<Q", data, 0)
        if 8 + jlen + 4 > len(data):
            raise bad
        journal = data[8: 8 + jlen]
        (n,) = struct.unpack_from("<I", data, 8 + jlen)
        rest = data[12 + jlen:]
        if len(rest) != n * ASSUMPTION_BYTES:
            raise bad
        pairs = tuple((rest[k: k + DIGEST_BYTES], rest[k + DIGEST_BYTES: k + ASSUMPTION_BYTES])
                      for k in range(0, len(rest), ASSUMPTION_BYTES))
        return cls(journal, pairs)


__all__ = ["MachinePublicData", "ASSUMPTION_BYTES"]
