"""The divide chip: DIV, DIVU, REM, REMU, proven by multiplication (no division in the field).

Receives (op, a0..3, b0..3, c0..3) on the ``alu`` bus, with c = q (DIV*) or r (REM*), and checks
the quotient q and remainder r by sending to the other ALU chips:
    (MUL, q, b, plo), (MULH or MULHU, q, b, phi)        phi:plo = q·b  (signed for DIV/REM)
    a = q·b + r as 64-bit integers, byte by byte with boolean carries (both sides sign-extended:
        a's and r's upper bytes are 255·sa, 255·sr)  — skipped only in the overflow case
    |r| < |b| unless b = 0: (SLTU, |r|, |b|, 1); |x| = x, or (SUB, 0, x, |x|) when signed and negative
    r has a's sign unless r = 0: Σr_i·(sr − sa) = 0
    b = 0 (bz, with Σb_i·binv = 1 − bz): q = 0xFFFFFFFF (then a = q·0 + r forces r = a)
    overflow (ov, DIV/REM of INT_MIN by −1): a = 0x80000000, b = 0xFFFFFFFF, q = a, r = 0
Because |q·b + r| < 2^63, the 64-bit identity is the integer identity, and with the remainder
bounds the pair (q, r) is unique: the RISC-V definition (spec §7.2, including its edge cases).

Columns: is_div is_divu is_rem is_remu a:4 b:4 c:4 q:4 r:4 plo:4 phi:4 carry:8 sa sb sr bz binv ov abs_r:4 abs_b:4
"""

from __future__ import annotations

import numpy as np

from ..isa import OPS
from ..stark.field import P, pow_vec
from . import buses
from .alu import AluChip
from .layout import Layout
from .program_table import to_bytes

DIV_OPS = ("div", "divu", "rem", "remu")
DIVREM = Layout("is_div is_divu is_rem is_remu a:4 b:4 c:4 q:4 r:4 plo:4 phi:4 carry:8 sa sb sr bz binv ov abs_r:4 abs_b:4")
M32 = 0xFFFFFFFF


class DivRemAir(AluChip):
    name = "alu divrem"
    optional = True  # few guests divide: an empty table is left out of their proofs (stark/optional.py)
    width = DIVREM.width
    OPS = DIV_OPS

    def answer(self, op, a, b):
        return divrem_results(op, a, b)

    def rows(self, op, a, b, c):
        """Rows for the divisions the CPU sends; q and r (and the products q·b) are this chip's
        witness. What it sends on to the multiply, subtract and compare chips is derived from
        these rows by its constraints (witness.py), not listed here."""
        return divrem_rows(op, a, b, c)

    def constraints(self, b):
        mm = b.main
        col = lambda n: mm(getattr(DIVREM, n))  # noqa: E731
        cols = lambda n: [mm(i) for i in getattr(DIVREM, n)]  # noqa: E731
        f = {o: col(f"is_{o}") for o in DIV_OPS}
        a, bv, c, q, r, plo, phi, carry, abs_r, abs_b = (cols(n) for n in ("a", "b", "c", "q", "r", "plo", "phi", "carry", "abs_r", "abs_b"))
        sa, sb, sr, bz, ov = col("sa"), col("sb"), col("sr"), col("bz"), col("ov")
        active = b.declare_active(sum(f.values()))
        signed = f["div"] + f["rem"]
        R = buses.TAG_RANGE
        for name in [f"is_{o}" for o in DIV_OPS] + ["sa", "sb", "sr", "bz", "ov"]:
            b.assert_bool(col(name), f"{name} is boolean")
        b.assert_bool(active, "one operation per row")
        for i in range(8):
            b.assert_bool(carry[i], f"carry{i} is boolean")
        # sign bits (signed ops only)
        for name, x, s in (("a", a, sa), ("b", bv, sb), ("r", r, sr)):
            b.assert_zero(s * (1 - signed), f"s{name} only for DIV/REM")
            b.send(buses.BYTE, [R, x[3] - 128 * s, 2 * (x[3] - 128 * s), 0, 0], signed)
        # q, r are bytes
        b.send(buses.BYTE, [R, q[0], q[1], 0, 0], active)
        b.send(buses.BYTE, [R, q[2], q[3], 0, 0], active)
        b.send(buses.BYTE, [R, r[0], r[1], 0, 0], active)
        b.send(buses.BYTE, [R, r[2], r[3], 0, 0], active)
        # q·b through the multiply chip
        b.send(buses.ALU, [OPS["mul"], *q, *bv, *plo], active)
        b.send(buses.ALU, [OPS["mulh"] * signed + OPS["mulhu"] * (f["divu"] + f["remu"]), *q, *bv, *phi], active)
        # a = q·b + r (64-bit, sign-extended), unless overflow
        lhs = plo + phi
        rx = r + [255 * sr] * 4
        ax = a + [255 * sa] * 4
        for i in range(8):
            cin = carry[i - 1] if i else 0
            b.assert_zero((1 - ov) * (lhs[i] + rx[i] + cin - ax[i] - 256 * carry[i]), f"a = q·b + r (byte {i})")
        # b = 0
        bsum = bv[0] + bv[1] + bv[2] + bv[3]
        b.assert_zero(bz * bsum, "bz ⇒ b = 0")
        b.assert_eq(bsum * col("binv"), active - bz, "b = 0 ⇒ bz")
        for i in range(4):
            b.assert_zero(bz * (q[i] - 255), f"b = 0 ⇒ q = 0xFFFFFFFF (byte {i})")
        # overflow: INT_MIN / −1
        b.assert_zero(ov * (1 - signed), "overflow only for DIV/REM")
        for i in range(4):
            b.assert_zero(ov * (a[i] - (0x80 if i == 3 else 0)), f"overflow ⇒ a = INT_MIN (byte {i})")
            b.assert_zero(ov * (bv[i] - 255), f"overflow ⇒ b = −1 (byte {i})")
            b.assert_zero(ov * (q[i] - a[i]), f"overflow ⇒ q = INT_MIN (byte {i})")
            b.assert_zero(ov * r[i], f"overflow ⇒ r = 0 (byte {i})")
        # remainder: sign of a (or zero), and |r| < |b| when b ≠ 0
        b.assert_zero((r[0] + r[1] + r[2] + r[3]) * (sr - sa), "r = 0 or sign(r) = sign(a)")
        for i in range(4):
            b.assert_zero((1 - sr) * (abs_r[i] - r[i]), f"|r| = r when r ≥ 0 (byte {i})")
            b.assert_zero((1 - sb) * (abs_b[i] - bv[i]), f"|b| = b when b ≥ 0 (byte {i})")
        b.send(buses.ALU, [OPS["sub"], 0, 0, 0, 0, *r, *abs_r], active * sr)
        b.send(buses.ALU, [OPS["sub"], 0, 0, 0, 0, *bv, *abs_b], active * sb)
        b.send(buses.ALU, [OPS["sltu"], *abs_r, *abs_b, 1, 0, 0, 0], active * (1 - bz))
        # the result
        quot = f["div"] + f["divu"]
        rem = f["rem"] + f["remu"]
        for i in range(4):
            b.assert_zero(quot * (c[i] - q[i]) + rem * (c[i] - r[i]), f"result byte {i}: q or r")
        op = sum(OPS[o] * x for o, x in f.items())
        b.receive(buses.ALU, [op, *a, *bv, *c], active)


def divrem_qr(op, a, b):
    """(q, r) per the RISC-V M extension, as uint64 arrays of 32-bit values."""
    a = a.astype(np.int64)
    b = b.astype(np.int64)
    signed = np.isin(op, [OPS["div"], OPS["rem"]])
    sa = np.where(signed & (a >= 1 << 31), a - (1 << 32), a)
    sb = np.where(signed & (b >= 1 << 31), b - (1 << 32), b)
    safe = np.where(sb == 0, 1, sb)
    q = np.where(sb == 0, -1, np.abs(sa) // np.abs(safe) * np.sign(sa) * np.sign(safe))
    r = np.where(sb == 0, sa, sa - q * safe)
    ov = signed & (sa == -(1 << 31)) & (sb == -1)
    q = np.where(ov, sa, q)
    r = np.where(ov, 0, r)
    return (q & M32).astype(np.uint64), (r & M32).astype(np.uint64)


def divrem_results(op, a, b) -> np.ndarray:
    q, r = divrem_qr(op, a, b)
    return np.where(np.isin(op, [OPS["div"], OPS["divu"]]), q, r)


def divrem_rows(op, a, b, c):
    """The chip's rows (unpadded int64) for these operations c = a OP b."""
    from .alu_mul import mul_results

    m = len(op)
    rows = np.zeros((m, DIVREM.width), dtype=np.int64)
    for o in DIV_OPS:
        rows[:, getattr(DIVREM, f"is_{o}")] = op == OPS[o]
    a = a.astype(np.int64)
    b = b.astype(np.int64)
    q, r = (x.astype(np.int64) for x in divrem_qr(op, a, b))
    signed = np.isin(op, [OPS["div"], OPS["rem"]])
    sa = (signed & (a >> 31 == 1)).astype(np.int64)
    sb = (signed & (b >> 31 == 1)).astype(np.int64)
    sr = (signed & (r >> 31 == 1)).astype(np.int64)
    mulh = np.where(signed, OPS["mulh"], OPS["mulhu"])
    plo = mul_results(np.full(m, OPS["mul"]), q, b).astype(np.int64)
    phi = mul_results(mulh, q, b).astype(np.int64)
    for name, v in (("a", a), ("b", b), ("q", q), ("r", r), ("plo", plo), ("phi", phi)):
        rows[:, getattr(DIVREM, name)] = to_bytes(v)
    rows[:, DIVREM.c] = to_bytes(c)
    rows[:, DIVREM.sa], rows[:, DIVREM.sb], rows[:, DIVREM.sr] = sa, sb, sr
    bsum = to_bytes(b).astype(np.int64).sum(axis=1)
    rows[:, DIVREM.bz] = bsum == 0
    rows[:, DIVREM.binv] = pow_vec((bsum % P).astype(np.uint32), P - 2) if m else 0
    ov = signed & (a == 0x80000000) & (b == M32)
    rows[:, DIVREM.ov] = ov
    # both sides as 64-bit two's complement words (uint64)
    lhs = (phi.astype(np.uint64) << np.uint64(32)) | plo.astype(np.uint64)
    rx = np.where(sr == 1, r.astype(np.uint64) | np.uint64(0xFFFFFFFF00000000), r.astype(np.uint64))
    carry = np.zeros(m, dtype=np.int64)
    for i in range(8):
        sh = np.uint64(8 * i)
        s = ((lhs >> sh) & np.uint64(0xFF)).astype(np.int64) + ((rx >> sh) & np.uint64(0xFF)).astype(np.int64) + carry
        carry = s >> 8
        rows[:, DIVREM.carry[i]] = np.where(ov, 0, carry)
    abs_r = np.where(sr == 1, (-r) & M32, r)
    abs_b = np.where(sb == 1, (-b) & M32, b)
    rows[:, DIVREM.abs_r], rows[:, DIVREM.abs_b] = to_bytes(abs_r), to_bytes(abs_b)
    return rows
