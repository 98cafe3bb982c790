"""The byte format of the keys a process stores across runs (stark/verifier_key.py,
stark/prover_key.py)::

    MAGIC ‖ BLAKE3(body) ‖ body,   body = u32 header length ‖ JSON header ‖ arrays

The arrays are little-endian, each at the [offset, count] the header gives for it. ``unpack``
refuses (StarkConfigError) bytes with another magic or a digest that does not match, and the
caller rebuilds the key; a deliberate rewrite by someone who can write the folder is the
memo's trust model (pyzkvm/memo.py).
"""

from __future__ import annotations

import json
import struct

import blake3
import numpy as np

from ..errors import StarkConfigError

_DIGEST = 32


class ArrayBlob:
    """The body's array bytes, written one array at a time."""

    def __init__(self) -> None:
        self.data = bytearray()

    def add(self, x, dtype) -> list:
        """Append ``x`` as ``dtype``; its [offset, count] for the header."""
        raw = np.ascontiguousarray(x, dtype=dtype).tobytes()
        self.data.extend(raw)
        return [len(self.data) - len(raw), int(np.size(x))]


def pack(magic: bytes, header, blob: ArrayBlob) -> bytes:
    """The key's bytes: the JSON header (keys sorted) and the arrays, framed and digested."""
    head = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    body = struct.pack("<I", len(head)) + head + bytes(blob.data)
    return magic + blake3.blake3(body).digest() + body


def unpack(magic: bytes, data: bytes, what: str) -> tuple:
    """(JSON header, the arrays' bytes) of ``pack``'s output; ``what`` names the key in errors."""
    if not data.startswith(magic) or len(data) < len(magic) + _DIGEST + 4:
        raise StarkConfigError(f"stored {what}: not a {what} (wrong magic)")
    body = memoryview(data)[len(magic) + _DIGEST:]
    if blake3.blake3(body).digest() != data[len(magic):len(magic) + _DIGEST]:
        raise StarkConfigError(f"stored {what}: its digest does not match its contents")
    (size,) = struct.unpack_from("<I", body)
    return json.loads(bytes(body[4:4 + size])), body[4 + size:]
