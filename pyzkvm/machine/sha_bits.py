"""SHA-256 over bit columns: the constraint side (expressions) and the witness side (numpy).

The SHA chips (sha_extend.py, sha_compress.py) keep every 32-bit word they rotate or mix as
32 boolean columns, bit k weighing 2^k (words they only add are halves or bytes). On bits:

* a rotation or shift is free: it only renames columns (a shifted-in bit is the constant 0);
* x ⊕ y ⊕ z = x + y + z − 2(xy + yz + zx) + 4xyz (degree 3), so σ0, σ1, Σ0, Σ1 bit k is one
  degree-3 polynomial in three bits of the input;
* Ch(e, f, g) = ef + (1 − e)g and Maj(a, b, c) = ab + bc + ca − 2abc, bit by bit;
* a modular add works on 16-bit halves, so that no sum wraps modulo p ≈ 2^31: with the output
  as bits (each half in [0, 2^16)) and a carry of a few boolean columns, Σ lo terms = out_lo +
  2^16·c_lo and Σ hi terms + c_lo = out_hi + 2^16·c_hi hold over the integers (n terms < 2^16
  and a carry < 8 stay far below p), so the out bits are the sum mod 2^32 and nothing else.
  c_hi is what mod 2^32 drops.

A word here is a ``Word``: its lo/hi halves as expressions, and its bits or bytes when the chip has them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

M32 = 0xFFFFFFFF


# ---- constraints ---------------------------------------------------------------------------------
@dataclass
class Word:
    """A 32-bit word in a constraint: halves (lo = bits 0..15, hi = 16..31) and maybe its bits."""

    lo: object
    hi: object
    bits: list | None = None
    by: list | None = None  # its 4 bytes, when the chip keeps it as bytes

    @classmethod
    def of_bits(cls, bits) -> "Word":
        return cls(_weighted(bits[:16]), _weighted(bits[16:]), list(bits))

    @classmethod
    def of_bytes(cls, by) -> "Word":
        return cls(by[0] + 256 * by[1], by[2] + 256 * by[3], by=list(by))

    def byte_exprs(self) -> list:
        """The word's 4 little-endian bytes (what the memory bus carries), from its bits."""
        if self.by is not None:
            return self.by
        assert self.bits is not None, "a Word built from its halves only has no bytes (use of_bits/of_bytes)"
        return [_weighted(self.bits[8 * i: 8 * i + 8]) for i in range(4)]


def _weighted(bits):
    return sum((1 << k) * x for k, x in enumerate(bits))


def xor3(x, y, z=None):
    """x ⊕ y ⊕ z on bits (z None: x ⊕ y)."""
    if z is None:
        return x + y - 2 * x * y
    return x + y + z - 2 * (x * y + y * z + z * x) + 4 * x * y * z


def mix(bits, rotations, shift=None) -> Word:
    """ROTR^r1 ⊕ ROTR^r2 (⊕ ROTR^r3, or ⊕ SHR^shift): SHA-256's Σ0, Σ1 (three rotations) and
    σ0, σ1 (two rotations and a shift); bit k of ROTR^r(x) is x[(k + r) mod 32]."""
    out = []
    for k in range(32):
        terms = [bits[(k + r) % 32] for r in rotations]
        if shift is not None and k + shift < 32:
            terms.append(bits[k + shift])
        out.append(xor3(*terms) if len(terms) > 1 else terms[0])
    return Word.of_bits(out)


def choose(e, f, g) -> Word:
    """Ch(e, f, g) = (e ∧ f) ⊕ (¬e ∧ g): bit k is e·f + g − e·g."""
    return Word.of_bits([e[k] * f[k] + g[k] - e[k] * g[k] for k in range(32)])


def majority(a, b, c) -> Word:
    """Maj(a, b, c): bit k is ab + bc + ca − 2abc."""
    return Word.of_bits([a[k] * b[k] + b[k] * c[k] + c[k] * a[k] - 2 * a[k] * b[k] * c[k] for k in range(32)])


def carry_value(carry_bits):
    return sum((1 << k) * c for k, c in enumerate(carry_bits))


def assert_add(b, terms, out_bits, carry_lo, carry_hi, name: str, when=1) -> None:
    """out = Σ terms mod 2^32 (terms: Words, or ints times the activity selector as (lo, hi)
    Words), with out as 32 boolean columns and each carry as a few boolean columns. The sums
    are asserted where ``when`` ≠ 0 (a row flag), the bits are boolean on every row."""
    out = Word.of_bits(out_bits)
    for x in (*out_bits, *carry_lo, *carry_hi):
        b.assert_bool(x, f"{name}: bit is boolean")
    clo, chi = carry_value(carry_lo), carry_value(carry_hi)
    on = (lambda x: x) if isinstance(when, int) and when == 1 else (lambda x: when * x)
    b.assert_zero(on(sum(t.lo for t in terms) - out.lo - 65536 * clo), f"{name}: low halves add up")
    b.assert_zero(on(sum(t.hi for t in terms) + clo - out.hi - 65536 * chi), f"{name}: high halves add up")


# ---- witness (numpy, vectorised over calls) ------------------------------------------------------
def rotr(x, n):
    x = np.asarray(x, dtype=np.uint64)
    return ((x >> np.uint64(n)) | (x << np.uint64(32 - n))) & np.uint64(M32)


def to_bits(x) -> np.ndarray:
    """(n,) 32-bit values → (n, 32) bits, bit k in column k."""
    x = np.asarray(x, dtype=np.uint64)
    return ((x[:, None] >> np.arange(32, dtype=np.uint64)) & np.uint64(1)).astype(np.int64)


def add_carries(terms, n_bits: int):
    """The (out, lo-carry bits, hi-carry bits) of Σ terms mod 2^32, per call."""
    t = [np.asarray(x, dtype=np.int64) for x in terms]
    lo: np.ndarray = sum(x & 0xFFFF for x in t)  # type: ignore[assignment]  # sum's start 0 + arrays: an array
    hi = sum(x >> 16 for x in t) + (lo >> 16)
    out = (lo & 0xFFFF) | ((hi & 0xFFFF) << 16)
    k = np.arange(n_bits)
    return out, ((lo >> 16)[:, None] >> k) & 1, ((hi >> 16)[:, None] >> k) & 1
