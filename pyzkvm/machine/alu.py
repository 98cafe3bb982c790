"""ALU chips: each receives "c = a OP b" tuples from the CPU on the ``alu`` bus and proves them.

All operands are 4 byte limbs (little-endian). a and b are bytes already (register values and
immediates are range-checked where they are produced); each chip range-checks the c it accepts,
so every value written to a register is bytes (the induction the memory argument relies on).

add_sub   ADD/ADDI and SUB, one row per instruction:
    ADD:  a_i + b_i + carry_{i−1} = c_i + 256·carry_i      (carry_{−1} = 0, carry_i ∈ {0,1})
    SUB:  b_i + c_i + carry_{i−1} = a_i + 256·carry_i      (c = a − b  ⇔  b + c = a mod 2^32)
    range-check c0..c3.  Byte-wise with boolean carries, c is the unique byte vector with
    a ± b ≡ c (mod 2^32).
bitwise   AND/OR/XOR (and the I-forms), one row per instruction: for each byte i, the tuple
    (op tag, a_i, b_i, c_i) must be a row of the fixed byte table, which holds x AND/OR/XOR y.
"""

from __future__ import annotations

import numpy as np

from ..isa import OPS
from . import buses
from .chip import Chip
from .layout import Layout
from .program_table import pad_height, padded, to_bytes
from .witness import words

ADD_SUB = Layout("is_add is_sub a:4 b:4 c:4 carry:4")
BITWISE = Layout("is_and is_or is_xor a:4 b:4 c:4")
M32 = 0xFFFFFFFF


class AluChip(Chip):
    """A chip that proves "c = a OP b" for the operations ``OPS`` it receives on the ``alu`` bus:
    its rows are those tuples (``rows``: unpadded, with its own witness), and ``answer`` gives
    the result where the execution recorded none (witness.Witness.answer)."""

    OPS: tuple = ()

    def answer(self, op, a, b):
        raise NotImplementedError

    def rows(self, op, a, b, c) -> np.ndarray:
        """The chip's rows for these tuples: unpadded, or already padded as uint32 (padded())."""
        raise NotImplementedError

    def generate(self, w):
        return padded(self.rows(*alu_events(w, self)))


def alu_events(w, chip):
    """The "c = a OP b" tuples sent on the ``alu`` bus (by the CPU, and by the divide chip)
    whose OP ``chip`` proves: (op, a, b, c) arrays, a, b, c as 32-bit values."""
    codes = [OPS[o] for o in chip.OPS]
    # this chip's rows of each send (by the op, gathered once for every chip), then their other
    # fields read at those rows only (Sent.take: one pass on the thread pool), per send: the
    # rows of the concatenated tuples received(), without gathering every field of every row
    parts = [(p, np.flatnonzero(np.isin(p[0], codes))) for p in w.received_parts(buses.ALU, chip)]
    if not parts:
        return (np.zeros(0, np.int64),) * 4
    op = np.concatenate([p[0][sel] for p, sel in parts])
    fields = np.concatenate([p.take(range(1, 13), sel) for p, sel in parts], axis=1)  # a0…a3 b0…b3 c0…c3
    return (op, *(words(fields[k:k + 4]) for k in (0, 4, 8)))


class AddSubAir(AluChip):
    """c = a + b or c = a − b (mod 2^32), byte limbs with boolean carries."""

    name = "alu add/sub"
    width = ADD_SUB.width
    OPS = ("add", "sub")

    def answer(self, op, a, b):
        return np.where(op == OPS["sub"], a - b, a + b) & M32

    def rows(self, op, a, b, c):
        m = len(op)
        is_sub = op == OPS["sub"]
        # carry_i = carry out of byte i of x + y, where (x, y) = (a, b) for ADD and (b, c) for SUB:
        # the carry into bit k of a sum is bit k of x ^ y ^ (x + y), so carry_i is its bit 8(i + 1)
        x, y = np.where(is_sub, b, a), np.where(is_sub, c, b)
        carries = (x ^ y ^ (x + y)) >> 8
        # the padded table written a column block at a time (is_add is_sub a b c carry)
        t = np.zeros((pad_height(m), ADD_SUB.width), dtype=np.uint32)
        t[:m, ADD_SUB.is_add], t[:m, ADD_SUB.is_sub] = ~is_sub, is_sub
        for name, v in (("a", a), ("b", b), ("c", c)):
            t[:m, ADD_SUB.adjacent(name)] = v.astype("<u4").view(np.uint8).reshape(m, 4)  # to_bytes(v), uncopied
        for i, col in enumerate(ADD_SUB.carry):
            t[:m, col] = carries >> (8 * i) & 1
        return t

    def constraints(self, b):
        m = b.main
        is_add, is_sub = m(ADD_SUB.is_add), m(ADD_SUB.is_sub)
        a, bv, c, carry = ([m(i) for i in getattr(ADD_SUB, n)] for n in ("a", "b", "c", "carry"))
        b.assert_bool(is_add, "is_add is boolean")
        b.assert_bool(is_sub, "is_sub is boolean")
        b.assert_bool(is_add + is_sub, "one operation per row")
        for i in range(4):
            b.assert_bool(carry[i], f"carry{i} is boolean")
            cin = carry[i - 1] if i else 0
            b.assert_zero(is_add * (a[i] + bv[i] + cin - c[i] - 256 * carry[i]), f"ADD byte {i}: a + b + carry_in = c + 256·carry")
            b.assert_zero(is_sub * (bv[i] + c[i] + cin - a[i] - 256 * carry[i]), f"SUB byte {i}: b + c + carry_in = a + 256·carry")
        active = b.declare_active(is_add + is_sub)
        b.send(buses.BYTE, [buses.TAG_RANGE, c[0], c[1], 0, 0], active)
        b.send(buses.BYTE, [buses.TAG_RANGE, c[2], c[3], 0, 0], active)
        op = OPS["add"] * is_add + OPS["sub"] * is_sub
        b.receive(buses.ALU, [op, *a, *bv, *c], active)


class BitwiseAir(AluChip):
    """c = a AND/OR/XOR b, byte by byte through the fixed byte table."""

    name = "alu bitwise"
    width = BITWISE.width
    OPS = ("and", "or", "xor")

    def answer(self, op, a, b):
        return np.where(op == OPS["and"], a & b, np.where(op == OPS["or"], a | b, a ^ b))

    def rows(self, op, a, b, c):
        m = len(op)
        t = np.zeros((m, BITWISE.width), dtype=np.int64)
        t[:m, BITWISE.a], t[:m, BITWISE.b], t[:m, BITWISE.c] = to_bytes(a), to_bytes(b), to_bytes(c)
        for o in self.OPS:
            t[:m, getattr(BITWISE, f"is_{o}")] = op == OPS[o]
        return t

    def constraints(self, b):
        m = b.main
        is_and, is_or, is_xor = m(BITWISE.is_and), m(BITWISE.is_or), m(BITWISE.is_xor)
        a, bv, c = ([m(i) for i in getattr(BITWISE, n)] for n in ("a", "b", "c"))
        for name, f in (("is_and", is_and), ("is_or", is_or), ("is_xor", is_xor)):
            b.assert_bool(f, f"{name} is boolean")
        active = b.declare_active(is_and + is_or + is_xor)
        b.assert_bool(active, "one operation per row")
        tag = buses.TAG_AND * is_and + buses.TAG_OR * is_or + buses.TAG_XOR * is_xor
        for i in range(4):
            b.send(buses.BYTE, [tag, a[i], bv[i], c[i], 0], active)
        op = OPS["and"] * is_and + OPS["or"] * is_or + OPS["xor"] * is_xor
        b.receive(buses.ALU, [op, *a, *bv, *c], active)
