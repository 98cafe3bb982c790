"""The UINT256_MUL precompile chip (0x0001011D): x ← x·y mod m, m = 0 meaning 2^256.

a0 → x (8 words, read and written), a1 → y ‖ m (16 words, read). A field program
(field_program.py) whose modulus is not a constant but the call's m, read from memory: the
gadget (field_ops.py) takes a *variable* modulus, the limbs

    m_eff(X) = m_0 + m_1·X + … + m_31·X^31 + mz·X^32      (m_eff(256) = m + 2^256·mz)

held in columns shared by the call's rows (``m``, ``mz``, ``minv``, constant within a call like
clk), with mz = [m = 0]:

    mz·Σ m_i = 0,   active·(1 − mz) = minv·Σ m_i

(the m_i are bytes — memory holds range-checked bytes — so Σ m_i < p is 0 only when m = 0: the
first says m = 0 where mz = 1, the second that mz = 1 where m = 0). The READ of m checks its
words equal the ``m`` columns. The product is three MUL rows, each with q of 32 limbs (q_32 = 0):

    xr = x·1 mod m_eff   (q = ⌊x / m_eff⌋ < 2^256)
    yr = y·1 mod m_eff
    r  = xr·yr mod m_eff (q < m_eff ≤ 2^256)

so every quotient fits 32 bytes although x·y / m can be 2^512 for a small m. r < m_eff: the
lt flags prove r < m where mz = 0; where mz = 1 every 32-byte r is below 2^256 (no flag).
r ≡ x·y (mod m_eff) and r < m_eff make r = x·y mod m_eff, SP1's answer (``uint256_mulmod``).
7 rows per call: 3 READ, 3 MUL, 1 WRITE.
"""

from __future__ import annotations

import numpy as np

from ..stark.field import P
from . import field_ops as fo
from .field_program import READ, WRITE, FieldProgramAir, Step

MUL = fo.MUL


class Uint256MulAir(FieldProgramAir):
    name = "uint256 mul"
    code = 0x0001011D
    modulus = 1 << 256  # placeholder: the gadget uses each call's m (field_modulus)
    pointers = {0: 8, 1: 16}
    extra = "m:32 mz minv"
    shared_extra = ("m", "mz", "minv")
    steps = (
        Step(READ, "x", ptr=0, offset=0), Step(READ, "y", ptr=1, offset=0), Step(READ, "mod", ptr=1, offset=8),
        Step(MUL, "xr", "x", 1), Step(MUL, "yr", "y", 1), Step(MUL, "r", "xr", "yr"),
        Step(WRITE, check="r", ptr=0, offset=0),
    )

    def field_modulus(self, b, q):
        L = self.layout()
        return [b.main(i) for i in L.m] + [b.main(L.mz)], q[:self.n]

    def assert_canonical(self, b, r, lt, pos, checked):
        """r < m on the MUL rows of calls with m ≠ 0 (module docstring)."""
        L = self.layout()
        fo.assert_below(b, r, [b.main(i) for i in L.m], lt, checked * (1 - b.main(L.mz)), self.name)

    def extra_constraints(self, b, L, pos, active):
        m = b.main
        mod, mz, minv = [m(i) for i in L.m], m(L.mz), m(L.minv)
        total = sum(mod)
        b.assert_bool(mz, "UINT256_MUL: mz is a bit")
        b.assert_zero(mz * total, "UINT256_MUL: mz = 1 only when m = 0")
        b.assert_eq(active * (1 - mz), minv * total, "UINT256_MUL: m = 0 sets mz (minv inverts Σ m_i)")
        read_m = pos[[s.out for s in self.steps].index("mod")]
        r = [m(i) for i in L.r]
        for x, y in zip(r, mod):
            b.assert_zero(read_m * (x - y), "UINT256_MUL: the m columns are the m read")
        b.assert_zero(m(L.q[self.n]), "UINT256_MUL: q has 32 limbs (q_32 = 0)")

    def call_modulus(self, values):
        """m_eff per call: m, or 2^256 for m = 0."""
        return np.array([int(v) or 1 << 256 for v in values["mod"]], dtype=object)

    def extra_witness(self, t, rows_of, values, calls):
        L = self.layout()
        mods = [int(v) for v in values["mod"]]
        total = np.array([sum(v.to_bytes(32, "little")) for v in mods], dtype=np.int64)
        minv = np.array([pow(int(s), P - 2, P) if s else 0 for s in total], dtype=np.int64)
        limbs = fo.to_limbs(mods, 32)
        for k in range(len(self.steps)):
            rk = rows_of(k)
            t[rk[:, None], L.m] = limbs
            t[rk, L.mz] = total == 0
            t[rk, L.minv] = minv
