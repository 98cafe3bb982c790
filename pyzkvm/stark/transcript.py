"""The Fiat–Shamir transcript: the verifier's random challenges, derived from everything sent so far.

An interactive STARK has the verifier send random challenges after each prover message. The
transcript replaces the verifier: prover and verifier both *observe* every message (Merkle
roots, out-of-domain values, public values) and *sample* challenges from a hash of all of it.
Both sides must make the identical sequence of observe/sample calls with identical labels.

Construction (BLAKE3 as a sponge-like hash chain over a 32-byte state s):

    start:      s = BLAKE3("pyzkvm-transcript-v1" ‖ lp(domain))
    observe:    s = BLAKE3(s ‖ kind ‖ lp(label) ‖ lp(data))      kind: one byte per data type
    sample:     o = BLAKE3-XOF(s ‖ "S" ‖ lp(label)), first 32 bytes → new s, the rest → output

where lp(x) = len(x) as u64 LE ‖ x, so label/data boundaries cannot be shifted (domain
separation). A field element is sampled from 128 output bits reduced mod p: the bias from
uniform is at most p / 2^128 < 2^-97. Query indices in [0, 2^log_n) take the low log_n bits
of 64 output bits, exactly uniform.

Proof of work ("grinding"): before drawing query indices the prover finds a nonce with
BLAKE3(s ‖ nonce as u64 LE) having its first 8 bytes, read as a little-endian u64, below
2^(64 − bits): about 2^bits hashes of work which every cheating attempt must repeat, so the
queries add `bits` bits of security. The search runs in numba; the check uses the
reference blake3 package. Both grind and check_grinding observe the nonce afterwards.
"""

from __future__ import annotations

import struct

import blake3
import numpy as np

from ..errors import UsageError
from .blake3_numba import grind_kernel
from .field import P

_VERSION = b"pyzkvm-transcript-v1"
_MAX_POW_BITS = 40


def _lp(b: bytes) -> bytes:
    return struct.pack("<Q", len(b)) + b


def _canonical(arr: np.ndarray) -> bool:
    """An integer array of canonical field elements (each in [0, p)): one reduction for an
    unsigned array (a proof's), two for a signed one."""
    if arr.dtype.kind not in "iu":
        return False
    if not arr.size:
        return True
    return bool(arr.max() < P) if arr.dtype.kind == "u" else bool(arr.min() >= 0 and arr.max() < P)


class Transcript:
    """A Fiat–Shamir transcript for one proof; `domain` separates protocols and versions."""

    def __init__(self, domain: bytes):
        if not isinstance(domain, (bytes, bytearray)):
            raise UsageError("Transcript: the domain separator must be bytes, e.g. b'pyzkvm-stark-v1'")
        self._state = blake3.blake3(_VERSION + _lp(bytes(domain))).digest()

    # --- observing prover messages ----------------------------------------------------

    def _absorb(self, kind: bytes, label: str, data: bytes) -> None:
        # s ← BLAKE3(s ‖ kind ‖ lp(label) ‖ lp(data))
        self._state = blake3.blake3(self._state + kind + _lp(label.encode()) + _lp(data)).digest()

    def observe(self, label: str, data: bytes) -> None:
        """Absorb raw bytes (public values, a claim, parameters) under `label`."""
        self._absorb(b"B", label, bytes(data))

    def observe_digest(self, label: str, digest: bytes) -> None:
        """Absorb a 32-byte commitment (a Merkle root)."""
        if not isinstance(digest, (bytes, bytearray)) or len(digest) != 32:
            raise UsageError(f"observe_digest({label!r}): expected a 32-byte digest")
        self._absorb(b"D", label, bytes(digest))

    def observe_field(self, label: str, values) -> None:
        """Absorb base-field elements (any shape; canonical uint32 in [0, p)); the shape is
        absorbed too, so [a, b] and [[a], [b]] differ."""
        arr = np.asarray(values)
        if not _canonical(arr):
            raise UsageError(f"observe_field({label!r}): values must be canonical field elements in [0, p)")
        shape = struct.pack(f"<{arr.ndim + 1}Q", arr.ndim, *arr.shape)
        self._absorb(b"F", label, shape + np.ascontiguousarray(arr, dtype="<u4").tobytes())

    def observe_ext(self, label: str, values) -> None:
        """Absorb extension-field elements, an array of shape (..., 4)."""
        self.observe_exts([(label, values)])

    def observe_exts(self, items) -> None:
        """observe_ext(label, values) for each (label, values) in order, with the canonical
        check made once over all of them (a proof's ~100 opened groups: one reduction instead
        of one per group)."""
        arrays = [(label, np.asarray(values)) for label, values in items]
        for label, arr in arrays:
            if arr.ndim == 0 or arr.shape[-1] != 4:
                raise UsageError(f"observe_ext({label!r}): expected extension elements of shape (..., 4), got {arr.shape}")
        joined = arrays[0][1] if len(arrays) == 1 else np.concatenate([arr.reshape(-1) for _label, arr in arrays]) \
            if arrays else np.zeros(0, dtype=np.uint32)
        if not _canonical(joined):
            for label, arr in arrays:  # which one (mixed dtypes may also join into floats: each is checked)
                if not _canonical(arr):
                    raise UsageError(f"observe_ext({label!r}): coefficients must be canonical field elements in [0, p)")
        for label, arr in arrays:
            shape = struct.pack(f"<{arr.ndim + 1}Q", arr.ndim, *arr.shape)
            self._absorb(b"E", label, shape + np.ascontiguousarray(arr, dtype="<u4").tobytes())

    # --- sampling challenges --------------------------------------------------------------

    def _squeeze(self, label: str, nbytes: int) -> bytes:
        # o = BLAKE3-XOF(s ‖ "S" ‖ lp(label)); s ← o[:32]; return o[32:]
        out = blake3.blake3(self._state + b"S" + _lp(label.encode())).digest(length=32 + nbytes)
        self._state = out[:32]
        return out[32:]

    def sample_field(self, label: str) -> int:
        """A uniform element of F_p (128 random bits mod p; bias ≤ 2^-97)."""
        return int.from_bytes(self._squeeze(label, 16), "little") % P

    def sample_ext(self, label: str):
        """A uniform element of F_p^4 as a (4,) uint32 array (four independent 128-bit draws)."""
        raw = self._squeeze(label, 64)
        return np.array([int.from_bytes(raw[16 * k : 16 * k + 16], "little") % P for k in range(4)], dtype=np.uint32)

    def sample_ext_vector(self, label: str, count: int):
        """``count`` independent uniform elements of F_p^4 as a (count, 4) uint32 array, from
        one squeeze (each coefficient 128 output bits mod p, like sample_ext)."""
        count = int(count)
        raw = np.frombuffer(self._squeeze(label, 64 * count), dtype="<u8").reshape(count, 4, 2)
        lo, hi = raw[..., 0] % np.uint64(P), raw[..., 1] % np.uint64(P)
        # (hi·2^64 + lo) mod p, with (hi mod p)·(2^64 mod p) < 2^62: no uint64 overflow
        return ((hi * np.uint64((1 << 64) % P) + lo) % np.uint64(P)).astype(np.uint32)

    def sample_indices(self, label: str, count: int, log_n: int):
        """`count` independent uniform indices in [0, 2^log_n) (uint32; repeats possible)."""
        count, log_n = int(count), int(log_n)
        if count < 0 or not 0 <= log_n <= 32:
            raise UsageError(f"sample_indices({label!r}): need count ≥ 0 and 0 ≤ log_n ≤ 32, got {count}, {log_n}")
        raw = np.frombuffer(self._squeeze(label, 8 * count), dtype="<u8")
        return (raw & np.uint64((1 << log_n) - 1)).astype(np.uint32)

    # --- proof of work --------------------------------------------------------------------

    @staticmethod
    def _check_bits(bits: int) -> int:
        bits = int(bits)
        if not 0 <= bits <= _MAX_POW_BITS:
            raise UsageError(f"grinding bits must be in 0..{_MAX_POW_BITS}, got {bits}")
        return bits

    def _pow_ok(self, nonce: int, bits: int) -> bool:
        h = blake3.blake3(self._state + struct.pack("<Q", nonce)).digest()
        return int.from_bytes(h[:8], "little") >> (64 - bits) == 0 if bits else True

    def grind(self, bits: int) -> int:
        """Find the smallest nonce meeting the `bits` proof-of-work target on the current
        state (numba, on the thread pool), observe it, and return it."""
        bits = self._check_bits(bits)
        nonce = 0
        if bits:
            state_words = np.frombuffer(self._state, dtype="<u4").astype(np.uint32)
            batch = 1 << 16
            start = 0
            while True:
                found = grind_kernel(state_words, bits, start, batch)
                if found >= 0:
                    nonce = int(found)
                    break
                start += batch
                batch = min(batch * 2, 1 << 24)
        self._absorb(b"W", "pow-nonce", struct.pack("<Q", nonce))
        return nonce

    def check_grinding(self, nonce: int, bits: int) -> bool:
        """Verifier side of grind: does `nonce` meet the target on the current state? The
        nonce is then observed, exactly as grind does (an out-of-range nonce is rejected and
        not observed)."""
        bits = self._check_bits(bits)
        if not isinstance(nonce, (int, np.integer)) or not 0 <= int(nonce) < 1 << 64:
            return False
        nonce = int(nonce)
        ok = self._pow_ok(nonce, bits)
        self._absorb(b"W", "pow-nonce", struct.pack("<Q", nonce))
        return ok

    # --- helpers --------------------------------------------------------------------------

    def copy(self) -> "Transcript":
        """An independent copy with the same state (e.g. to try a branch)."""
        t = Transcript.__new__(Transcript)
        t._state = self._state
        return t

    @property
    def state(self) -> bytes:
        """The current 32-byte state (for debugging and tests)."""
        return self._state
