"""The U256XU2048_MUL precompile chip (0x0001012F): a·b = lo + 2^2048·hi.

a0 → a (8 words), a1 → b (64 words), both read; a2 → lo (64 words) and a3 → hi (8 words),
written. a2 and a3 are not in the syscall chip's token (it carries a0 and a1): this chip reads
registers x12 and x13 itself through the memory argument (keys 12, 13 at 4·clk + 5, a time no
other chip uses for them during the ecall) into its shared columns x2, x3, and checks them as
buffers like a0 and a1 (word_buffer.py).

A field program (field_program.py) on the gadget of field_ops.py with the constant modulus
2^256 (limbs 0, …, 0, 1; q of 32 limbs) and a *carry-in*: b = Σ_j b_j·2^(256·j) in 8 chunks,

    row j (MUL):  a·b_j + cin_j = lo_j + q_j·2^256,   cin_0 = 0,  cin_j = q_(j−1)
    the hi row:   0 + 0 + cin_8 = hi + 0·2^256,        cin_8 = q_7

with cin the previous arithmetic row's quotient (a transition constraint: the next row's cin
columns are this row's q). Summing row j times 2^(256·j) telescopes to a·b = Σ lo_j·2^(256·j)
+ q_7·2^2048: lo and hi are the product's low 2048 and high 256 bits. Every q_j < 2^256
(a·b_j + cin < 2^512), so 32 limbs hold it; every r is 32 bytes, below 2^256 (no lt flag).
27 rows per call: 9 READ, 8 MUL, the hi row, 9 WRITE.
"""

from __future__ import annotations

import numpy as np

from ..errors import UnsupportedProgram
from .accesses import Access
from .cpu import memory_access
from .field_program import READ, WRITE, FieldProgramAir, Step
from .program_table import to_bytes
from .sha_rows import per_row, zero_unless
from . import field_ops as fo

MUL, ADD = fo.MUL, fo.ADD
TWO_256 = 1 << 256
#: the registers holding the lo and hi pointers, and when this chip reads them
A2, A3 = 12, 13
TS_REG = 1  # 4·clk + 4 + 1


class U256x2048MulAir(FieldProgramAir):
    name = "u256x2048 mul"
    code = 0x0001012F
    modulus = TWO_256
    pointers = {0: 8, 1: 64, 2: 64, 3: 8}
    extra = "x2:4 x3:4 cin:32 ra2ts ra2d:4 ra3ts ra3d:4"
    shared_extra = ("x2", "x3")
    steps = (
        Step(READ, "a", ptr=0, offset=0),
        *(Step(READ, f"b{j}", ptr=1, offset=8 * j) for j in range(8)),
        *(Step(MUL, f"lo{j}", "a", f"b{j}") for j in range(8)),
        Step(ADD, "hi", 0, 0),
        *(Step(WRITE, check=f"lo{j}", ptr=2, offset=8 * j) for j in range(8)),
        Step(WRITE, check="hi", ptr=3, offset=0),
    )

    def chained(self) -> list:
        """The step indices whose cin is the previous step's q: lo1..lo7 and hi."""
        outs = [s.out for s in self.steps]
        return [outs.index(f"lo{j}") for j in range(1, 8)] + [outs.index("hi")]

    def field_modulus(self, b, q):
        return [0] * self.n + [1], q[:self.n]

    def field_addend(self, b, pos):
        return [b.main(i) for i in self.layout().cin]

    def assert_canonical(self, b, r, lt, pos, checked):
        """No bound: every 32-byte r is below the modulus 2^256."""
        for x in lt:
            b.assert_zero(x, f"{self.name}: no lt flag (the modulus is 2^256)")

    def extra_constraints(self, b, L, pos, active):
        m = b.main
        q, cin = [m(i) for i in L.q], [m(i) for i in L.cin]
        b.assert_zero(q[self.n], f"{self.name}: q has 32 limbs (q_32 = 0)")
        chained = self.chained()
        step = b.when_transition()
        for k in chained:
            for i in range(self.n):
                step.assert_zero(pos[k - 1] * (b.main_next(L.cin[i]) - q[i]),
                                 f"{self.name}: the carry into chunk row {k} is the previous row's quotient")
        zero_unless(b, sum(pos[k] for k in chained), cin, f"{self.name}: cin only on chained rows")
        # a2, a3: read from registers x12, x13 on the call's row 0 (the buffers are checked by the framework)
        first, ts = pos[0], 4 * m(L.clk) + 4 + TS_REG
        for reg, x, ts_col, d in ((A2, L.x2, L.ra2ts, L.ra2d), (A3, L.x3, L.ra3ts, L.ra3d)):
            v = [m(i) for i in x]
            memory_access(b, reg, v, v, m(ts_col), [m(i) for i in d], ts, first, f"{self.name} a{reg - 10}")
            zero_unless(b, first, [m(ts_col), *(m(i) for i in d)], f"{self.name}: register read columns only on row 0")

    def more_pointers(self, w, calls, addr):
        """a2, a3: the addresses of the first lo and hi writes (the executor's order: a 8, b 64,
        lo 64, hi 8 words)."""
        return {2: addr[:, 72] if len(addr) else np.zeros(0, np.int64),
                3: addr[:, 136] if len(addr) else np.zeros(0, np.int64)}

    def step_addend(self, k, values):
        chained = self.chained()
        if k in chained:
            prev = values[("q", k - 1)]
            return np.asarray(prev, dtype=object)
        return None

    def step_witness(self, kind, av, bv, bound, addend):
        """mod 2^256 as a per-row modulus of 33 limbs, q of 32 limbs, no lt flag."""
        col = fo.op_witness(kind, av, bv, np.full(len(av), TWO_256, dtype=object), self.n, bound=False,
                            q_limbs=self.n, m_limbs=self.n + 1, addend=addend)
        col["lt"] = np.zeros((len(av), self.n), dtype=np.int64)
        return col

    def extra_witness(self, t, rows_of, values, calls):
        L, R = self.layout(), len(self.steps)
        ncalls = len(calls["clk"])
        for k in self.chained():
            t[rows_of(k)[:, None], L.cin] = fo.to_limbs(values[("q", k - 1)], self.n)
        lo_end, hi = calls["a2"] + 256, calls["a3"]
        if np.any((hi < lo_end) & (hi + 32 > calls["a2"])):
            raise UnsupportedProgram(f"{self.name}: the lo and hi buffers overlap; the chip writes each word once")
        for reg, col, ts_col, d in ((A2, L.x2, L.ra2ts, L.ra2d), (A3, L.x3, L.ra3ts, L.ra3d)):
            ptr = calls[f"a{reg - 10}"]
            t[np.arange(R * ncalls)[:, None], col] = per_row(to_bytes(ptr), R)
            self._register_reads.append(Access(t, rows_of(0), np.full(ncalls, reg), 4 * calls["clk"] + 4 + TS_REG, ptr,
                                               ts_col, list(d), None, f"{self.name} a{reg - 10}"))

    def generate(self, w):
        """The field program's rows, then the register reads of a2 and a3 for the memory argument."""
        self._register_reads = []
        t = super().generate(w)
        for acc in self._register_reads:  # filled by extra_witness on t
            w.add_accesses(acc)
        return t
