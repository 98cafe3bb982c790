"""An independent Keccak-f[1600] written from FIPS 202 §3 (the test oracle for the keccak chips).

Unlike pyzkvm/executor/precompiles.py it derives its constants the way the standard defines
them: the round constants from the LFSR rc(t) (Algorithm 5), the ρ offsets by walking
(x, y) → (y, 2x + 3y) (Algorithm 2), and works on the state array A[x][y] of lanes. It is
checked against hashlib.sha3_256 (tests/machine/test_machine_keccak.py).
"""

from __future__ import annotations

MASK = (1 << 64) - 1


def _rc_bit(t: int) -> int:
    """rc(t) of FIPS 202 Algorithm 5: the LFSR x^8 + x^6 + x^5 + x^4 + 1."""
    if t % 255 == 0:
        return 1
    r = [1, 0, 0, 0, 0, 0, 0, 0]
    for _ in range(t % 255):
        r = [0] + r
        r[0] ^= r[8]
        r[4] ^= r[8]
        r[5] ^= r[8]
        r[6] ^= r[8]
        r = r[:8]
    return r[0]


def round_constant(ir: int) -> int:
    """RC of round ir (Algorithm 6, step 3: bit 2^j − 1 is rc(j + 7·ir))."""
    return sum(_rc_bit(j + 7 * ir) << ((1 << j) - 1) for j in range(7))


def _rho_offsets() -> dict:
    """ρ's offset per (x, y) (Algorithm 2): (t + 1)(t + 2)/2 along (x, y) → (y, 2x + 3y)."""
    off, (x, y) = {(0, 0): 0}, (1, 0)
    for t in range(24):
        off[(x, y)] = ((t + 1) * (t + 2) // 2) % 64
        x, y = y, (2 * x + 3 * y) % 5
    return off


RHO = _rho_offsets()


def _rot(v: int, n: int) -> int:
    n %= 64
    return ((v << n) | (v >> (64 - n))) & MASK


def keccak_f(lanes: list) -> list:
    """Keccak-f[1600] on 25 lanes in FIPS 202 order (lane x + 5y: byte 8·(x + 5y) of the state)."""
    a = [[lanes[x + 5 * y] for y in range(5)] for x in range(5)]  # a[x][y]
    for ir in range(24):
        c = [a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4] for x in range(5)]     # θ
        d = [c[(x - 1) % 5] ^ _rot(c[(x + 1) % 5], 1) for x in range(5)]
        a = [[a[x][y] ^ d[x] for y in range(5)] for x in range(5)]
        b = [[0] * 5 for _ in range(5)]                                               # ρ, π
        for x in range(5):
            for y in range(5):
                b[y][(2 * x + 3 * y) % 5] = _rot(a[x][y], RHO[(x, y)])
        a = [[b[x][y] ^ (~b[(x + 1) % 5][y] & b[(x + 2) % 5][y]) for y in range(5)] for x in range(5)]  # χ
        a[0][0] ^= round_constant(ir)                                                 # ι
    return [a[i % 5][i // 5] for i in range(25)]


def permute_bytes(state: bytes) -> bytes:
    """Keccak-f[1600] on a 200-byte state (little-endian lanes)."""
    lanes = [int.from_bytes(state[8 * i: 8 * i + 8], "little") for i in range(25)]
    return b"".join(v.to_bytes(8, "little") for v in keccak_f(lanes))


def sponge(message: bytes, rate: int, suffix: int, out_len: int) -> bytes:
    """The Keccak sponge with pad10*1 and a domain suffix (0x06 SHA-3, 0x01 Keccak)."""
    padded = bytearray(message) + bytes([suffix])
    padded += bytes(-len(padded) % rate)
    padded[-1] |= 0x80
    state = bytes(200)
    for i in range(0, len(padded), rate):
        block = bytes(padded[i:i + rate]) + bytes(200 - rate)
        state = permute_bytes(bytes(s ^ m for s, m in zip(state, block)))
    return state[:out_len]


def keccak256(message: bytes) -> bytes:
    """Keccak-256 (Ethereum's: rate 136, suffix 0x01)."""
    return sponge(message, 136, 0x01, 32)
