"""The multiply chip: MUL, MULH, MULHSU, MULHU by schoolbook byte convolution.

Receives (op, a0..3, b0..3, c0..3) on the ``alu`` bus. The operands are sign-extended to 8
bytes where the operation treats them as signed (a for MULH/MULHSU, b for MULH):
    a_ext = (a0, a1, a2, a3, F_a, F_a, F_a, F_a),  F_a = 255·sa,  sa = a's top bit (else 0)
and the 64-bit product a_ext·b_ext mod 2^64 (which is the signed/unsigned product's low 64 bits)
is computed byte-wise with carries:
    Σ_{i+j=k} a_ext_i·b_ext_j + carry_{k−1} = r_k + 256·carry_k      (k = 0..7)
r_k bytes; carry_k = cl_k + 256·ch_k with cl_k a byte and ch_k < 8 (every sum is < 2^20, so
carries are < 2^11 and no identity can wrap mod p). c = r0..r3 for MUL, r4..r7 otherwise.

Columns: is_mul is_mulh is_mulhsu is_mulhu a:4 b:4 c:4 sa sb r:8 cl:8 ch:8
"""

from __future__ import annotations

import numpy as np

from ..isa import OPS
from . import buses
from .alu import AluChip
from .layout import Layout
from .program_table import to_bytes

MUL_OPS = ("mul", "mulh", "mulhsu", "mulhu")
MUL = Layout("is_mul is_mulh is_mulhsu is_mulhu a:4 b:4 c:4 sa sb r:8 cl:8 ch:8")


class MulAir(AluChip):
    name = "alu mul"
    optional = True  # a guest that never multiplies leaves the empty table out (stark/optional.py)
    width = MUL.width
    OPS = MUL_OPS

    def answer(self, op, a, b):
        return mul_results(op, a, b)

    def rows(self, op, a, b, c):
        return mul_rows(op, a, b)

    def constraints(self, b):
        mm = b.main
        cols = lambda name: [mm(i) for i in getattr(MUL, name)]  # noqa: E731
        f = {o: mm(getattr(MUL, f"is_{o}")) for o in MUL_OPS}
        a, bv, c, r, cl, ch = (cols(n) for n in ("a", "b", "c", "r", "cl", "ch"))
        sa, sb = mm(MUL.sa), mm(MUL.sb)
        active = b.declare_active(sum(f.values()))
        R = buses.TAG_RANGE
        for o, x in f.items():
            b.assert_bool(x, f"is_{o} is boolean")
        b.assert_bool(active, "one operation per row")
        b.assert_bool(sa, "sa is boolean")
        b.assert_bool(sb, "sb is boolean")
        b.assert_zero(sa * (1 - f["mulh"] - f["mulhsu"]), "a is signed only for MULH, MULHSU")
        b.assert_zero(sb * (1 - f["mulh"]), "b is signed only for MULH")
        b.send(buses.BYTE, [R, a[3] - 128 * sa, 2 * (a[3] - 128 * sa), 0, 0], f["mulh"] + f["mulhsu"])
        b.send(buses.BYTE, [R, bv[3] - 128 * sb, 2 * (bv[3] - 128 * sb), 0, 0], f["mulh"])
        a_ext = a + [255 * sa] * 4
        b_ext = bv + [255 * sb] * 4
        carry = [cl[k] + 256 * ch[k] for k in range(8)]
        for k in range(8):
            conv = sum(a_ext[i] * b_ext[k - i] for i in range(k + 1))
            cin = carry[k - 1] if k else 0
            b.assert_zero(conv + cin - r[k] - 256 * carry[k], f"product byte {k}")
        for k in range(0, 8, 2):
            b.send(buses.BYTE, [R, r[k], r[k + 1], 0, 0], active)
            b.send(buses.BYTE, [R, cl[k], cl[k + 1], 0, 0], active)
        for k in range(8):
            b.send(buses.BYTE, [R, ch[k], 32 * ch[k], 0, 0], active)
        high = f["mulh"] + f["mulhsu"] + f["mulhu"]
        for i in range(4):
            b.assert_zero(f["mul"] * (c[i] - r[i]) + high * (c[i] - r[4 + i]), f"result byte {i}: low or high word")
        op = sum(OPS[o] * x for o, x in f.items())
        b.receive(buses.ALU, [op, *a, *bv, *c], active)


def mul_results(op, a, b) -> np.ndarray:
    a = a.astype(np.uint64)
    b = b.astype(np.uint64)
    sa = np.where(np.isin(op, [OPS["mulh"], OPS["mulhsu"]]), a >> 31, 0).astype(bool)
    sb = np.where(op == OPS["mulh"], b >> 31, 0).astype(bool)
    lo = (a * b) & 0xFFFFFFFF
    # high word of the (un)signed product: unsigned high minus the sign corrections (mod 2^32)
    hi_u = ((a >> 16) * (b >> 16) + (((a & 0xFFFF) * (b >> 16) + (a >> 16) * (b & 0xFFFF) + (((a & 0xFFFF) * (b & 0xFFFF)) >> 16)) >> 16))
    hi = (hi_u - np.where(sa, b, 0) - np.where(sb, a, 0)) & 0xFFFFFFFF
    return np.where(op == OPS["mul"], lo, hi).astype(np.uint64)


def mul_rows(op, a, b):
    """The chip's rows (unpadded int64) for these multiplications."""
    m = len(op)
    rows = np.zeros((m, MUL.width), dtype=np.int64)
    for o in MUL_OPS:
        rows[:, getattr(MUL, f"is_{o}")] = op == OPS[o]
    a = a.astype(np.int64)
    b = b.astype(np.int64)
    sa = (np.isin(op, [OPS["mulh"], OPS["mulhsu"]]) & (a >= 1 << 31)).astype(np.int64)
    sb = ((op == OPS["mulh"]) & (b >= 1 << 31)).astype(np.int64)
    ab, bb = to_bytes(a).astype(np.int64), to_bytes(b).astype(np.int64)
    a_ext = np.concatenate([ab, np.repeat(255 * sa[:, None], 4, axis=1)], axis=1)
    b_ext = np.concatenate([bb, np.repeat(255 * sb[:, None], 4, axis=1)], axis=1)
    carry = np.zeros(m, dtype=np.int64)
    for k in range(8):
        conv = sum(a_ext[:, i] * b_ext[:, k - i] for i in range(k + 1)) + carry
        rows[:, MUL.r[k]] = conv & 0xFF
        carry = conv >> 8
        rows[:, MUL.cl[k]], rows[:, MUL.ch[k]] = carry & 0xFF, carry >> 8
    rows[:, MUL.a], rows[:, MUL.b], rows[:, MUL.sa], rows[:, MUL.sb] = ab, bb, sa, sb
    rows[:, MUL.c] = np.where((op == OPS["mul"])[:, None], rows[:, MUL.r[:4]], rows[:, MUL.r[4:]])
    return rows
