"""The ed25519 precompile chips: ED_ADD (0x00010107) and ED_DECOMPRESS (0x00000108).

Both are field programs (field_program.py: one row per step, values on the ``field value``
bus, the gadget of field_ops.py on 32 byte limbs mod p = 2^255 − 19), agreeing with SP1's
executor (executor/curves.py, sp1_precompiles.py) on every input it does not panic on.

**ED_ADD** — a0 → P = x1 ‖ y1 (16 words, read and written), a1 → Q = x2 ‖ y2 (16 words, read);
P ← P + Q by the complete twisted-Edwards formula (a = −1), on the coordinates as they are
(not reduced, not checked to be on the curve — as SP1):

    x3 = (x1·y2 + y1·x2) / (1 + d·x1·x2·y1·y2),   y3 = (y1·y2 + x1·x2) / (1 − d·x1·x2·y1·y2)

Each denominator's inverse is its own step (DIV with a = 1: den·inv ≡ 1, so den ≢ 0 is proved
and inv is unique); x3, y3 are then products. The executor inverts 0 to 0 (possible only off
the curve): such a call is refused by the prover (UnsupportedProgram), never mis-proved.
20 rows per call: 4 READ, 14 arithmetic, 2 WRITE.

**ED_DECOMPRESS** — a0 → [x | y] (16 words), a1 = the sign (0 or 1: anything else finds no
receiver, as SP1 panics); y's 8 words are read (bit 255 ignored), x's 8 written:

    y = y_raw mod 2^255 ("mask": y_raw's top byte = r_31 + 128·hb), y < p, y ≠ 0 (y·y⁻¹ = 1)
    u = y² − 1,  v = d·y² + 1,  w = u / v            (v ≠ 0: −1/d is not a square mod p)
    x ("root"): x ≤ p, x ≡ sign (mod 2) (x_0 = 2h + sign, h < 128), x² ≡ w

The executor writes the even root R of w for sign 0 and p − R for sign 1 (p itself when R = 0).
In [0, p] the values whose square is w are {R, p − R} (w ≠ 0, opposite parities) or {0, p}
(w = 0, parities 0 and 1), so x ≤ p with x's parity = sign is exactly the executor's x. y = 0 or
y ≥ p panics there (y² − 1 underflows, or y > p), and so does a w that is not a square: no x
exists here either. 11 rows per call: READ, mask, 7 arithmetic, root, WRITE.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConstraintNotSatisfied
from ..executor.curves import ED_D, ED_P, ed25519_even_sqrt
from . import buses
from . import field_ops as fo
from .field_program import READ, WRITE, FieldProgramAir, Step
from .sha_rows import zero_unless

MUL, DIV, ADD, SUB = fo.MUL, fo.DIV, fo.ADD, fo.SUB


class EdAddAir(FieldProgramAir):
    name = "ed add"
    code = 0x00010107
    modulus = ED_P
    pointers = {0: 16, 1: 16}
    steps = (
        Step(READ, "x1", ptr=0, offset=0), Step(READ, "y1", ptr=0, offset=8),
        Step(READ, "x2", ptr=1, offset=0), Step(READ, "y2", ptr=1, offset=8),
        Step(MUL, "x1y2", "x1", "y2"), Step(MUL, "y1x2", "y1", "x2"),
        Step(MUL, "y1y2", "y1", "y2"), Step(MUL, "x1x2", "x1", "x2"),
        Step(ADD, "nx", "x1y2", "y1x2"), Step(ADD, "ny", "y1y2", "x1x2"),
        Step(MUL, "t", "x1x2", "y1y2"), Step(MUL, "dt", "t", ED_D),
        Step(ADD, "dx", 1, "dt"), Step(SUB, "dy", 1, "dt"),
        Step(DIV, "ix", 1, "dx"), Step(DIV, "iy", 1, "dy"),      # the denominators' inverses
        Step(MUL, "x3", "nx", "ix"), Step(MUL, "y3", "ny", "iy"),
        Step(WRITE, check="x3", ptr=0, offset=0), Step(WRITE, check="y3", ptr=0, offset=8),
    )


MASK, ROOT = "mask", "root"


class EdDecompressAir(FieldProgramAir):
    name = "ed decompress"
    code = 0x00000108
    modulus = ED_P
    pointers = {0: 16}
    extra = "hb h"
    steps = (
        Step(READ, "yraw", ptr=0, offset=8),
        Step(MASK, "y", "yraw"),                   # y = y_raw mod 2^255, and y < p
        Step(DIV, "yinv", 1, "y"),                 # y ≠ 0
        Step(MUL, "yy", "y", "y"),
        Step(SUB, "u", "yy", 1),
        Step(MUL, "dyy", "yy", ED_D),
        Step(ADD, "v", "dyy", 1),
        Step(DIV, "w", "u", "v"),
        Step(ROOT, "x", bound=ED_P + 1),           # x ≤ p, parity = sign
        Step(MUL, a="x", b="x", check="w"),        # x² = w
        Step(WRITE, check="x", ptr=0, offset=0),
    )

    def a1_bytes(self, b):
        """a1 is the sign bit: (s, 0, 0, 0), so a1 > 1 finds no receiver."""
        x1 = self.layout().x1
        return [b.main(x1[0]), 0, 0, 0]

    def extra_constraints(self, b, L, pos, active):
        m = b.main
        r, a = [m(i) for i in L.r], [m(i) for i in L.a]
        sign, hb, h = m(L.x1[0]), m(L.hb), m(L.h)
        mask, root = (pos[[s.kind for s in self.steps].index(k)] for k in (MASK, ROOT))
        b.assert_bool(sign, "ED_DECOMPRESS: the sign a1 is a bit")
        for x in L.x1[1:]:
            b.assert_zero(m(x), "ED_DECOMPRESS: a1's upper bytes are 0")
        # mask: r = a but bit 255 (hb)
        b.assert_bool(hb, "ED_DECOMPRESS: bit 255 of y is a bit")
        for i in range(self.n - 1):
            b.assert_zero(mask * (r[i] - a[i]), "ED_DECOMPRESS: y = y_raw below bit 255")
        b.assert_zero(mask * (a[-1] - r[-1] - 128 * hb), "ED_DECOMPRESS: y's top byte is y_raw's without bit 255")
        zero_unless(b, mask, [hb], "ED_DECOMPRESS: hb only on the mask row")
        # root: x_0 = 2h + sign with h < 128
        b.assert_zero(root * (r[0] - 2 * h - sign), "ED_DECOMPRESS: x is odd iff the sign is 1")
        b.send(buses.BYTE, [buses.TAG_RANGE, h, 2 * h, 0, 0], root)
        zero_unless(b, root, [h], "ED_DECOMPRESS: h only on the root row")

    def custom_value(self, step, values, calls):
        if step.kind == MASK:
            return np.array([int(y) & ((1 << 255) - 1) for y in values["yraw"]], dtype=object)
        roots = [ed25519_even_sqrt(int(w)) for w in values["w"]]
        if any(x is None for x in roots):
            raise ConstraintNotSatisfied("ED_DECOMPRESS: no square root, yet the executor did not panic (inconsistent trace)")
        return np.array([ED_P - x if s else x for x, s in zip(roots, calls["a1"])], dtype=object)

    def extra_witness(self, t, rows_of, values, calls):
        L = self.layout()
        kinds = [s.kind for s in self.steps]
        t[rows_of(kinds.index(MASK)), L.hb] = [int(y) >> 255 for y in values["yraw"]]
        t[rows_of(kinds.index(ROOT)), L.h] = [(int(x) & 0xFF) >> 1 for x in values["x"]]
