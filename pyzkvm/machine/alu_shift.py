"""The shift chip: SLL, SRL, SRA (and SLLI, SRLI, SRAI) by byte-table lookups.

Receives (op, a0..3, b0..3, c0..3) on the ``alu`` bus. Only b's low 5 bits count:
    b0 = sh0 + 2·sh1 + 4·sh2 + 8·sh3 + 16·sh4 + 32·r     (sh_k boolean, r < 8: (r, 32·r) are bytes)
    s  = sh0 + 2·sh1 + 4·sh2      the bit shift, 0..7
    k  = sh3 + 2·sh4               the byte shift, one-hot k0..k3 (sh3 = k1 + k3, sh4 = k2 + k3)

SLL: per byte, (SHL, a_i, s) → (p_i, q_i) with a_i·2^s = p_i + 256·q_i; the bit-shifted bytes
     are y_j = p_j + q_{j−1} (q_{−1} = 0; no carry: p_j's low s bits are 0 and q < 2^s), and
     c_j = Σ_k k_k·y_{j−k} (zero where j − k < 0).
SRL/SRA: per byte, (SHR, a_i, s) → (p_i, q_i) with p_i = a_i >> s and q_i the spilled low bits
     moved to the top; z_j = p_j + q_{j+1} where q_4 is the spill of the fill byte F = 255·sign
     ((SHR, F, s) → (fill_p, fill_q = q_4)); c_j = Σ_k k_k·Z_{j+k} with Z_m = z_m (m ≤ 3), F (m ≥ 4).
     sign = a's top bit for SRA (a3 − 128·sign ∈ [0, 128)), 0 for SRL.

Columns: is_sll is_srl is_sra a:4 b:4 c:4 sh:5 r k:4 p:4 q:4 fill_p fill_q sign
"""

from __future__ import annotations

import numpy as np

from ..isa import OPS
from . import buses
from .alu import AluChip
from .layout import Layout
from .program_table import to_bytes

SHIFT_OPS = ("sll", "srl", "sra")
SHIFT = Layout("is_sll is_srl is_sra a:4 b:4 c:4 sh:5 r k:4 p:4 q:4 fill_p fill_q sign")


class ShiftAir(AluChip):
    name = "alu shift"
    width = SHIFT.width
    OPS = SHIFT_OPS

    def answer(self, op, a, b):
        return shift_results(op, a, b)

    def rows(self, op, a, b, c):
        return shift_rows(op, a, b, c)

    def constraints(self, b):
        mm = b.main
        cols = lambda name: [mm(i) for i in getattr(SHIFT, name)]  # noqa: E731
        is_sll, is_srl, is_sra = mm(SHIFT.is_sll), mm(SHIFT.is_srl), mm(SHIFT.is_sra)
        a, bv, c, sh, k, p, q = (cols(n) for n in ("a", "b", "c", "sh", "k", "p", "q"))
        r, fill_p, fill_q, sign = mm(SHIFT.r), mm(SHIFT.fill_p), mm(SHIFT.fill_q), mm(SHIFT.sign)
        right = is_srl + is_sra
        active = b.declare_active(is_sll + right)
        R = buses.TAG_RANGE
        for name, x in (("is_sll", is_sll), ("is_srl", is_srl), ("is_sra", is_sra), ("sign", sign)):
            b.assert_bool(x, f"{name} is boolean")
        b.assert_bool(active, "one operation per row")
        for i in range(5):
            b.assert_bool(sh[i], f"sh{i} is boolean")
        for i in range(4):
            b.assert_bool(k[i], f"k{i} is boolean")
        b.assert_zero(active * (bv[0] - sh[0] - 2 * sh[1] - 4 * sh[2] - 8 * sh[3] - 16 * sh[4] - 32 * r),
                      "b0 = shift amount + 32·r")
        b.send(buses.BYTE, [R, r, 32 * r, 0, 0], active)
        b.assert_eq(k[0] + k[1] + k[2] + k[3], active, "one byte shift")
        b.assert_eq(sh[3], k[1] + k[3], "k encodes sh3")
        b.assert_eq(sh[4], k[2] + k[3], "k encodes sh4")
        s = sh[0] + 2 * sh[1] + 4 * sh[2]
        tag = buses.TAG_SHL * is_sll + buses.TAG_SHR * right
        for i in range(4):
            b.send(buses.BYTE, [tag, a[i], s, p[i], q[i]], active)
        # SRA's fill byte and its spill into byte 3
        b.assert_zero(sign * (1 - is_sra), "only SRA extends the sign")
        b.send(buses.BYTE, [R, a[3] - 128 * sign, 2 * (a[3] - 128 * sign), 0, 0], is_sra)
        fill = 255 * sign
        b.send(buses.BYTE, [buses.TAG_SHR, fill, s, fill_p, fill_q], right)
        y = [p[j] + (q[j - 1] if j else 0) for j in range(4)]
        z = [p[j] + (q[j + 1] if j < 3 else fill_q) for j in range(4)]
        for j in range(4):
            left = sum(k[kk] * y[j - kk] for kk in range(4) if j - kk >= 0)
            rgt = sum(k[kk] * (z[j + kk] if j + kk <= 3 else fill) for kk in range(4))
            b.assert_zero(is_sll * (c[j] - left), f"SLL: result byte {j}")
            b.assert_zero(right * (c[j] - rgt), f"SRL/SRA: result byte {j}")
        op = OPS["sll"] * is_sll + OPS["srl"] * is_srl + OPS["sra"] * is_sra
        b.receive(buses.ALU, [op, *a, *bv, *c], active)


def shift_results(op, a, b) -> np.ndarray:
    sh = (b & 31).astype(np.uint64)
    a = a.astype(np.uint64)
    signed = np.where(a >= 0x80000000, a.astype(np.int64) - (1 << 32), a.astype(np.int64))
    out = np.where(op == OPS["sll"], (a << sh) & 0xFFFFFFFF, 0)
    out = np.where(op == OPS["srl"], a >> sh, out)
    out = np.where(op == OPS["sra"], (signed >> sh.astype(np.int64)) & 0xFFFFFFFF, out)
    return out.astype(np.uint64)


def shift_rows(op, a, b, c):
    """The chip's rows (unpadded int64) for these shifts c = a OP b."""
    m = len(op)
    rows = np.zeros((m, SHIFT.width), dtype=np.int64)
    for name in SHIFT_OPS:
        rows[:, getattr(SHIFT, f"is_{name}")] = op == OPS[name]
    a = a.astype(np.int64)
    b = b.astype(np.int64)
    rows[:, SHIFT.a], rows[:, SHIFT.b], rows[:, SHIFT.c] = to_bytes(a), to_bytes(b), to_bytes(c)
    for i in range(5):
        rows[:, SHIFT.sh[i]] = (b >> i) & 1
    rows[:, SHIFT.r] = (b & 0xFF) >> 5
    kk = (b >> 3) & 3
    rows[np.arange(m), np.asarray(SHIFT.k, dtype=np.int64)[kk]] = 1
    s = b & 7
    ab = to_bytes(a).astype(np.int64)
    left = op == OPS["sll"]
    right = ~left
    sign = (op == OPS["sra"]) & (a >= 0x80000000)
    rows[:, SHIFT.sign] = sign
    s2 = s[:, None]
    rows[:, SHIFT.p] = np.where(left[:, None], (ab << s2) & 0xFF, ab >> s2)
    rows[:, SHIFT.q] = np.where(left[:, None], ab >> (8 - s2), (ab << (8 - s2)) & 0xFF)
    fill = 255 * sign.astype(np.int64)
    rows[:, SHIFT.fill_p] = np.where(right, fill >> s, 0)
    rows[:, SHIFT.fill_q] = np.where(right, (fill << (8 - s)) & 0xFF, 0)
    return rows
