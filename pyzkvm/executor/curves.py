"""Field and curve arithmetic behind SP1's precompiles, exactly as SP1's executor computes it.

Plain Python integers; one call per syscall, never per cycle. The formulas are SP1's own
(``crates/curves/src/weierstrass/mod.rs``, ``edwards/mod.rs``, ``edwards/ed25519.rs`` and the
``fptower`` syscalls), including what they do on inputs that are not valid points or not
reduced: SP1 computes with unsigned big integers, so a subtraction that would go negative is
a panic there (``Sp1Panic`` here), an inverse of 0 is ``0^(p-2) = 0``, and points are not
checked to lie on the curve. Tests compare with py-ecc, ecdsa and PyNaCl on valid inputs.
"""

from __future__ import annotations

from dataclasses import dataclass


class Sp1Panic(ValueError):
    """SP1's executor panics on this input (the syscall layer turns it into a guest fault)."""


def _sub(a: int, b: int, what: str) -> int:
    """Unsigned subtraction as SP1's BigUint/UBig does it: a negative result panics."""
    if b > a:
        raise Sp1Panic(f"{what} underflows (SP1's unsigned big-integer subtraction panics)")
    return a - b


def inv(x: int, p: int) -> int:
    """SP1's x^(p-2) mod p for a prime p: the inverse of x (computed here with the faster
    extended Euclid of ``pow(x, -1, p)``), and 0 when x ≡ 0."""
    x %= p
    return pow(x, -1, p) if x else 0


def sqrt_mod(a: int, p: int, nqr: int | None = None) -> int | None:
    """A square root of a mod p, or None: a^((p+1)/4) when p ≡ 3 mod 4, else Tonelli–Shanks
    with the non-residue ``nqr`` (found when not given). Which of the two roots comes out is
    fixed by the algorithm; SP1's hooks use the same one (hook.rs ``sqrt_fp``)."""
    a %= p
    if a == 0:
        return 0
    if p % 4 == 3:
        r = pow(a, (p + 1) // 4, p)
        return r if r * r % p == a else None
    if pow(a, (p - 1) // 2, p) != 1:  # Legendre symbol
        return None
    if nqr is None:
        nqr = next(z for z in range(2, p) if pow(z, (p - 1) // 2, p) == p - 1)
    q, s = p - 1, 0  # p - 1 = q·2^s, q odd
    while q % 2 == 0:
        q, s = q // 2, s + 1
    m, c, t, r = s, pow(nqr, q, p), pow(a, q, p), pow(a, (q + 1) // 2, p)
    while t != 1:
        i, tt = 0, t
        while tt != 1:  # the least i with t^(2^i) = 1
            tt, i = tt * tt % p, i + 1
            if i == m:
                return None
        b = pow(c, 1 << (m - i - 1), p)
        m, c, t, r = i, b * b % p, t * b * b % p, r * b % p
    return r


# ---- short Weierstrass curves y² = x³ + ax + b ------------------------------------------


@dataclass(frozen=True)
class Weierstrass:
    name: str
    p: int
    a: int
    b: int
    nbytes: int  # bytes per coordinate (32, or 48 for BLS12-381)
    gx: int
    gy: int

    def add(self, p1: tuple[int, int], p2: tuple[int, int]) -> tuple[int, int]:
        """SP1's ``sw_add``: the chord rule on the raw coordinates. Equal inputs panic (use
        DOUBLE); x1 = x2 with y1 ≠ y2 divides by 0, which SP1 computes as 0 (no identity)."""
        (x1, y1), (x2, y2), p = p1, p2, self.p
        if p1 == p2:
            raise Sp1Panic("the two points are the same (SP1 panics: use the DOUBLE syscall)")
        num = _sub(p + y2, y1, "p + y2 - y1") % p
        den = _sub(p + x2, x1, "p + x2 - x1") % p
        s = num * inv(den, p) % p
        x3 = _sub(s * s + 2 * p, x1 + x2, "s² + 2p - x1 - x2") % p
        y3 = _sub(s * (p + x1 - x3) + p, y1, "s(p + x1 - x3) + p - y1") % p
        return x3, y3

    def double(self, p1: tuple[int, int]) -> tuple[int, int]:
        """SP1's ``sw_double``: tangent slope (3x² + a) / 2y; y = 0 divides by 0 (→ 0)."""
        (x1, y1), p = p1, self.p
        s = (self.a + 3 * x1 * x1) % p * inv(2 * y1 % p, p) % p
        x3 = _sub(s * s + 2 * p, 2 * x1, "s² + 2p - 2x") % p
        y3 = _sub(s * (p + x1 - x3) + p, y1, "s(p + x - x3) + p - y") % p
        return x3, y3

    def decompress(self, x: int, odd: int) -> int:
        """y with y² = x³ + ax + b. secp256k1/r1 (k256/p256 crates): the root whose parity is
        ``odd``. BLS12-381 (amcl's zcash-format G1 decoding): ``odd`` = 1 picks the larger of
        y and p − y. x must be reduced, and on the curve: otherwise SP1 panics."""
        p = self.p
        if x >= p:
            raise Sp1Panic(f"x is not a reduced {self.name} field element (SP1 panics)")
        y = sqrt_mod(x * x * x + self.a * x + self.b, p)
        if y is None:
            raise Sp1Panic(f"x is not the x-coordinate of a {self.name} point (SP1 panics)")
        if self.name == "bls12381":
            return max(y, p - y) if odd else min(y, p - y)
        return y if (y & 1) == odd else (p - y) % p

    def mul(self, k: int, point: tuple[int, int] | None) -> tuple[int, int] | None:
        """k·point with the textbook group law (None is the identity), by double-and-add.
        Not an SP1 syscall formula: the v3 ecrecover hooks' public-key recovery uses it."""
        acc = None
        while k:
            if k & 1:
                acc = self.group_add(acc, point)
            point, k = self.group_add(point, point), k >> 1
        return acc

    def group_add(self, p1, p2):
        """P + Q on the curve, doubling and the identity (None) included."""
        if p1 is None or p2 is None:
            return p2 if p1 is None else p1
        (x1, y1), (x2, y2), p = p1, p2, self.p
        if x1 == x2 and (y1 + y2) % p == 0:
            return None  # P + (−P)
        if p1 == p2:
            s = (3 * x1 * x1 + self.a) * pow(2 * y1, -1, p) % p  # tangent
        else:
            s = (y2 - y1) * pow(x2 - x1, -1, p) % p  # chord
        x3 = (s * s - x1 - x2) % p
        return x3, (s * (x1 - x3) - y1) % p


SECP256K1 = Weierstrass(
    "secp256k1", p=2**256 - 2**32 - 977, a=0, b=7, nbytes=32,
    gx=0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    gy=0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
)  # fmt: skip
SECP256R1 = Weierstrass(
    "secp256r1", p=2**256 - 2**224 + 2**192 + 2**96 - 1, a=2**256 - 2**224 + 2**192 + 2**96 - 4,
    b=0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B, nbytes=32,
    gx=0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    gy=0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)  # fmt: skip
BN254 = Weierstrass(
    "bn254", p=0x30644E72E131A029B85045B68181585D97816A916871CA8D3C208C16D87CFD47, a=0, b=3, nbytes=32,
    gx=1, gy=2,
)  # fmt: skip
BLS12381 = Weierstrass(
    "bls12381",
    p=0x1A0111EA397FE69A4B1BA7B6434BACD764774B84F38512BF6730D2A0F6B0F6241EABFFFEB153FFFFB9FEFFFFFFFFAAAB,
    a=0, b=4, nbytes=48,
    gx=0x17F1D3A73197D7942695638C4FA9AC0FC3688C4F9774B905A14E3A3F171BAC586C55E83FF97A1AEFFB3AF00ADB22C6BB,
    gy=0x08B3F481E3AAA0F1A09E30ED741D8AE4FCF5E095D5D00AF600DB18CB2C04B3EDD03CC744A2888AE40CAA232946C5E7E1,
)  # fmt: skip


# ---- ed25519: the twisted Edwards curve -x² + y² = 1 + d x² y² over p = 2^255 - 19 --------

ED_P = 2**255 - 19
ED_D = -121665 * inv(121666, ED_P) % ED_P
ED_GX = 15112221349535400772501151409588531511454012693041857206046113283949847762202
ED_GY = 46316835694926478169428394003475163141307993866256225615783033603165251855960
ED_SQRT_M1 = pow(2, (ED_P - 1) // 4, ED_P)


def ed_add(p1: tuple[int, int], p2: tuple[int, int]) -> tuple[int, int]:
    """SP1's ``ed_add`` (complete for points on the curve, doubling included):
    x3 = (x1 y2 + y1 x2) / (1 + d x1 x2 y1 y2), y3 = (y1 y2 + x1 x2) / (1 − d x1 x2 y1 y2).
    Off-curve inputs get the same formula; a zero denominator inverts to 0."""
    (x1, y1), (x2, y2), p = p1, p2, ED_P
    dxy = ED_D * (x1 * y1 * x2 * y2 % p) % p
    den_x, den_y = (1 + dxy) % p, (1 + p - dxy) % p
    both = inv(den_x * den_y, p)  # one inversion for two: 1/den_x = den_y/(den_x den_y)
    inv_x, inv_y = (den_y * both, den_x * both) if both else (inv(den_x, p), inv(den_y, p))
    return (x1 * y2 + y1 * x2) * inv_x % p, (y1 * y2 + x1 * x2) * inv_y % p


def ed25519_even_sqrt(a: int) -> int | None:
    """SP1's ``ed25519_sqrt``: the square root of a mod p whose bit 0 is clear (None if none)."""
    x = sqrt_mod(a, ED_P)
    return None if x is None else (ED_P - x) % ED_P if x & 1 else x


def ed_decompress(y: int, sign: int) -> int:
    """SP1's ed25519 ``decompress``: x from y (bit 255 already cleared) and the sign bit.
    x² = (y² − 1) / (d y² + 1); the root with bit 0 clear is taken, and negated (p − x) when
    ``sign`` is 1 — so x = 0 with sign 1 gives p, unreduced, as SP1 writes it."""
    p = ED_P
    if y > p:
        raise Sp1Panic("y is not a reduced ed25519 field element (y > p)")
    yy = y * y % p
    u = _sub(yy, 1, "y² - 1") % p
    v = (yy * ED_D + 1) % p
    x = ed25519_even_sqrt(u * inv(v, p))
    if x is None:
        raise Sp1Panic("y is not the y-coordinate of an ed25519 point (no square root)")
    return p - x if sign else x


# ---- Fp and Fp2 (BN254, BLS12-381 base fields) and 256-bit products -----------------------


def fp_op(op: str, a: int, b: int, p: int) -> int:
    """FP_ADD / FP_SUB / FP_MUL: both operands are reduced first, the result is in [0, p)."""
    a, b = a % p, b % p
    return {"add": a + b, "sub": a + p - b, "mul": a * b}[op] % p


def fp2_op(op: str, x: tuple[int, int], y: tuple[int, int], p: int) -> tuple[int, int]:
    """FP2_ADD / FP2_SUB / FP2_MUL on c0 + c1·u (u² = −1 in both BN254's and BLS12-381's Fp2).
    Operands are not reduced first: SUB computes (a + p − b) mod p, which panics for b > a + p."""
    (a0, a1), (b0, b1) = x, y
    if op == "add":
        return (a0 + b0) % p, (a1 + b1) % p
    if op == "sub":
        return _sub(a0 + p, b0, "a0 + p - b0") % p, _sub(a1 + p, b1, "a1 + p - b1") % p
    return (a0 * b0 - a1 * b1) % p, (a0 * b1 + a1 * b0) % p


def uint256_mulmod(x: int, y: int, m: int) -> int:
    """UINT256_MUL: x·y mod m, where m = 0 means 2^256."""
    return x * y % (m or 1 << 256)


def u256x2048_mul(a: int, b: int) -> tuple[int, int]:
    """U256XU2048_MUL: the 2304-bit product a·b as (low 2048 bits, high 256 bits)."""
    prod = a * b
    return prod & ((1 << 2048) - 1), prod >> 2048
