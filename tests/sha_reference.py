"""SHA-256 written from FIPS 180-4 for the tests, independent of pyzkvm's executor and chips:
the round constants computed (not copied), the message schedule and the compression on words.
The oracle for raw blocks and arbitrary h, where hashlib (which only hashes messages from the
standard IV) cannot be used."""

from __future__ import annotations

import struct

M = 0xFFFFFFFF


def ror(x: int, n: int) -> int:
    return (x >> n | x << (32 - n)) & M


def _primes(n: int) -> list:
    out, x = [], 2
    while len(out) < n:
        if all(x % p for p in out):
            out.append(x)
        x += 1
    return out


def _icbrt(n: int) -> int:
    """⌊n^(1/3)⌋ of a big integer (Newton's method)."""
    x = 1 << (n.bit_length() // 3 + 1)
    while True:
        y = (2 * x + n // (x * x)) // 3
        if y >= x:
            return x
        x = y


#: K[t]: the first 32 bits of the fractional parts of the cube roots of the first 64 primes (§4.2.2)
K = [_icbrt(p << 96) & M for p in _primes(64)]


def schedule(w16) -> list:
    """w[0..64] from w[0..16] (§6.2.2 step 1)."""
    w = list(w16)
    for t in range(16, 64):
        s0 = ror(w[t - 15], 7) ^ ror(w[t - 15], 18) ^ w[t - 15] >> 3
        s1 = ror(w[t - 2], 17) ^ ror(w[t - 2], 19) ^ w[t - 2] >> 10
        w.append((w[t - 16] + s0 + w[t - 7] + s1) & M)
    return w


def compress_words(h, w64) -> list:
    """h + the state after 64 rounds from h over the schedule w64 (§6.2.2 steps 2–4)."""
    v = list(h)
    for t in range(64):
        a, b, c, d, e, f, g, hh = v
        t1 = (hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w64[t]) & M
        t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) & M
        v = [(t1 + t2) & M, a, b, c, (d + t1) & M, e, f, g]
    return [(x + y) & M for x, y in zip(h, v)]


def compress_block(h, block: bytes) -> list:
    """The compression of one raw 64-byte block (big-endian words) into h."""
    return compress_words(h, schedule(struct.unpack(">16I", block)))
