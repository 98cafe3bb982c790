"""The compare chip: equality and (un)signed less-than, for branches and SLT/SLTU(I).

Receives (op, a0..3, b0..3, r, 0, 0, 0) on the ``alu`` bus: r ∈ {0, 1} is the branch's
"taken" bit or the SLT result.

Columns: is_beq is_bne is_blt is_bge is_bltu is_bgeu is_slt is_sltu (one-hot; none on padding)
         a0..3 b0..3 diff0..3 carry0..3 sa sb eq inv lt r

Signed order is unsigned order after flipping the sign bits: for signed ops the top bytes are
    a3' = a3 + 128 − 256·sa       (sa = a's sign bit: a3 − 128·sa ∈ [0, 128), range-checked)
Subtraction with borrow (as in add_sub), byte by byte:
    b'_i + diff_i + carry_{i−1} = a'_i + 256·carry_i,   diff bytes, carries boolean
so diff = a' − b' mod 2^32 and lt = carry_3 = [a' < b'].
Equality: eq·Σdiff_i = 0 and inv·Σdiff_i = active − eq (Σdiff_i < 1024 < p, so Σ = 0 ⇔ diff = 0).
Result: r = beq·eq + bne·(1 − eq) + (blt + bltu + slt + sltu)·lt + (bge + bgeu)·(1 − lt).
"""

from __future__ import annotations

import numpy as np

from ..isa import OPS
from . import buses
from .alu import AluChip
from .layout import Layout
from .program_table import inverse_or_zero, to_bytes

COMPARE_OPS = ("beq", "bne", "blt", "bge", "bltu", "bgeu", "slt", "sltu")
SIGNED_OPS = ("blt", "bge", "slt")
COMPARE = Layout(" ".join(f"is_{o}" for o in COMPARE_OPS) + " a:4 b:4 diff:4 carry:4 sa sb eq inv lt r")


class CompareAir(AluChip):
    name = "alu compare"
    width = COMPARE.width
    OPS = COMPARE_OPS

    def answer(self, op, a, b):
        return compare_results(op, a, b)

    def rows(self, op, a, b, c):
        return compare_rows(op, a, b)

    def constraints(self, b):
        m = b.main
        sel = {o: m(getattr(COMPARE, f"is_{o}")) for o in COMPARE_OPS}
        a, bv, diff, carry = ([m(i) for i in getattr(COMPARE, n)] for n in ("a", "b", "diff", "carry"))
        sa, sb, eq, inv, lt, r = (m(getattr(COMPARE, n)) for n in ("sa", "sb", "eq", "inv", "lt", "r"))
        active = b.declare_active(sum(sel.values()))
        for o, s in sel.items():
            b.assert_bool(s, f"is_{o} is boolean")
        b.assert_bool(active, "one operation per row")
        for name, x in (("sa", sa), ("sb", sb), ("eq", eq)):
            b.assert_bool(x, f"{name} is boolean")
        signed = sel["blt"] + sel["bge"] + sel["slt"]
        # a3 − 128·sa and b3 − 128·sb are in [0, 128): (x, 2x) are both bytes
        low_a, low_b = a[3] - 128 * sa, bv[3] - 128 * sb
        b.send(buses.BYTE, [buses.TAG_RANGE, low_a, 2 * low_a, 0, 0], active)
        b.send(buses.BYTE, [buses.TAG_RANGE, low_b, 2 * low_b, 0, 0], active)
        a_top = a[3] + signed * (128 - 256 * sa)
        b_top = bv[3] + signed * (128 - 256 * sb)
        for i in range(4):
            b.assert_bool(carry[i], f"carry{i} is boolean")
            ai, bi = (a_top, b_top) if i == 3 else (a[i], bv[i])
            cin = carry[i - 1] if i else 0
            b.assert_zero(active * (bi + diff[i] + cin - ai - 256 * carry[i]), f"compare byte {i}: b + diff + carry_in = a + 256·carry")
        b.send(buses.BYTE, [buses.TAG_RANGE, diff[0], diff[1], 0, 0], active)
        b.send(buses.BYTE, [buses.TAG_RANGE, diff[2], diff[3], 0, 0], active)
        b.assert_eq(lt, carry[3], "lt = final borrow")
        total = diff[0] + diff[1] + diff[2] + diff[3]
        b.assert_zero(eq * total, "eq ⇒ a = b")
        b.assert_eq(inv * total, active - eq, "a = b ⇒ eq (inv·Σdiff = 1 − eq on active rows)")
        b.assert_eq(r, sel["beq"] * eq + sel["bne"] * (1 - eq)
                    + (sel["blt"] + sel["bltu"] + sel["slt"] + sel["sltu"]) * lt
                    + (sel["bge"] + sel["bgeu"]) * (1 - lt), "r = the operation's outcome")
        op = sum(OPS[o] * s for o, s in sel.items())
        b.receive(buses.ALU, [op, *a, *bv, r, 0, 0, 0], active)


def compare_rows(alu_op, a_val, b_val):
    """The compare chip's rows (unpadded, int64) for these operations."""
    m = len(alu_op)
    rows = np.zeros((m, COMPARE.width), dtype=np.int64)
    signed = np.isin(alu_op, [OPS[o] for o in SIGNED_OPS])
    for o in COMPARE_OPS:
        rows[:, getattr(COMPARE, f"is_{o}")] = alu_op == OPS[o]
    a_val = a_val.astype(np.int64)
    b_val = b_val.astype(np.int64)
    flip = np.where(signed, 0x80000000, 0)
    a2, b2 = a_val ^ flip, b_val ^ flip
    diff = (a2 - b2) & 0xFFFFFFFF
    rows[:, COMPARE.a], rows[:, COMPARE.b] = to_bytes(a_val), to_bytes(b_val)
    rows[:, COMPARE.diff] = to_bytes(diff)
    for i in range(4):
        mask = (1 << (8 * (i + 1))) - 1
        rows[:, COMPARE.carry[i]] = ((b2 & mask) + (diff & mask)) >> (8 * (i + 1))
    rows[:, COMPARE.sa], rows[:, COMPARE.sb] = a_val >> 31, b_val >> 31
    lt = (a2 < b2).astype(np.int64)
    eq = (a_val == b_val).astype(np.int64)
    total = rows[:, COMPARE.diff].sum(axis=1)
    rows[:, COMPARE.eq], rows[:, COMPARE.lt] = eq, lt
    rows[:, COMPARE.inv] = inverse_or_zero(total)  # total ≤ 4·255: a small table of inverses
    is_ = lambda *ops: np.isin(alu_op, [OPS[o] for o in ops])  # noqa: E731
    rows[:, COMPARE.r] = np.where(is_("beq"), eq, 0) + np.where(is_("bne"), 1 - eq, 0) + \
        np.where(is_("blt", "bltu", "slt", "sltu"), lt, 0) + np.where(is_("bge", "bgeu"), 1 - lt, 0)
    return rows


def compare_results(alu_op, a_val, b_val):
    """r for each compare operation (uint64): what the CPU's c holds."""
    return compare_rows(alu_op, a_val, b_val)[:, COMPARE.r].astype(np.uint64)
