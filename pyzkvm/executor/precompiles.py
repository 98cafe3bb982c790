"""Precompiles: SHA-256 message schedule and compression, Keccak-f[1600].

These are what SP1's SHA_EXTEND / SHA_COMPRESS / KECCAK_PERMUTE syscalls (and RISC Zero's
SHA ecall) compute, on plain Python integers. They run once per syscall, not per cycle.
Tests check them against hashlib (sha256, sha3_256), never against themselves.
"""

from __future__ import annotations

M32 = 0xFFFFFFFF

# SHA-256 round constants K[0..64] (FIPS 180-4 §4.2.2) and initial state H0 (§5.3.3).
SHA256_K = (
    0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4, 0xAB1C5ED5,
    0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE, 0x9BDC06A7, 0xC19BF174,
    0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F, 0x4A7484AA, 0x5CB0A9DC, 0x76F988DA,
    0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7, 0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967,
    0x27B70A85, 0x2E1B2138, 0x4D2C6DFC, 0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85,
    0xA2BFE8A1, 0xA81A664B, 0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070,
    0x19A4C116, 0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
    0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7, 0xC67178F2,
)  # fmt: skip
SHA256_H0 = (0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19)


def _rotr(x: int, n: int) -> int:
    return ((x >> n) | (x << (32 - n))) & M32


def sha256_extend(w: list[int]) -> list[int]:
    """Message schedule: from w[0..16] compute w[16..64] (returns all 64 words).
    w[i] = σ1(w[i-2]) + w[i-7] + σ0(w[i-15]) + w[i-16]."""
    w = list(w[:16]) + [0] * 48
    for i in range(16, 64):
        s0 = _rotr(w[i - 15], 7) ^ _rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
        s1 = _rotr(w[i - 2], 17) ^ _rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & M32
    return w


def sha256_compress(h: list[int], w: list[int]) -> list[int]:
    """64 rounds over the extended schedule w[0..64] starting from state h; returns h + state."""
    a, b, c, d, e, f, g, hh = h
    for i in range(64):
        s1 = _rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25)
        ch = (e & f) ^ (~e & g)
        t1 = (hh + s1 + ch + SHA256_K[i] + w[i]) & M32
        s0 = _rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22)
        maj = (a & b) ^ (a & c) ^ (b & c)
        t2 = (s0 + maj) & M32
        a, b, c, d, e, f, g, hh = (t1 + t2) & M32, a, b, c, (d + t1) & M32, e, f, g
    return [(x + y) & M32 for x, y in zip(h, (a, b, c, d, e, f, g, hh))]


def sha256_compress_block(h: list[int], block: bytes) -> list[int]:
    """Compress one 64-byte message block (big-endian words) into state h."""
    w = [int.from_bytes(block[4 * i : 4 * i + 4], "big") for i in range(16)]
    return sha256_compress(h, sha256_extend(w))


# Keccak-f[1600] (FIPS 202 §3.2): round constants and rotation offsets r[x][y].
KECCAK_RC = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)  # fmt: skip
KECCAK_ROT = (
    (0, 36, 3, 41, 18),
    (1, 44, 10, 45, 2),
    (62, 6, 43, 15, 61),
    (28, 55, 25, 21, 56),
    (27, 20, 39, 8, 14),
)  # KECCAK_ROT[x][y]
M64 = (1 << 64) - 1


def _rotl64(x: int, n: int) -> int:
    return ((x << n) | (x >> (64 - n))) & M64 if n else x


def keccak_f1600(lanes: list[int]) -> list[int]:
    """Keccak-f[1600] on 25 u64 lanes, lane index x + 5y (the order SP1 and tiny-keccak use)."""
    s = list(lanes)
    for rc in KECCAK_RC:
        # θ: column parities
        c = [s[x] ^ s[x + 5] ^ s[x + 10] ^ s[x + 15] ^ s[x + 20] for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rotl64(c[(x + 1) % 5], 1) for x in range(5)]
        s = [s[i] ^ d[i % 5] for i in range(25)]
        # ρ and π: B[y, 2x+3y] = rot(A[x, y], r[x][y])
        bb = [0] * 25
        for x in range(5):
            for y in range(5):
                bb[y + 5 * ((2 * x + 3 * y) % 5)] = _rotl64(s[x + 5 * y], KECCAK_ROT[x][y])
        # χ
        s = [bb[i] ^ (~bb[(i % 5 + 1) % 5 + 5 * (i // 5)] & bb[(i % 5 + 2) % 5 + 5 * (i // 5)]) for i in range(25)]
        # ι
        s[0] ^= rc
    return s
