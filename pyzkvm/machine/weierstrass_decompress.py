"""The DECOMPRESS chips of secp256k1 (0x0000010C), secp256r1 (0x0000012E) and BLS12-381
(0x0000011C): y from x and a sign bit, on y² = x³ + a·x + b.

a0 → [y ‖ x] (2n bytes): x is read from the second half, y written to the first; a1 = the sign
bit (0 or 1: the chip receives a1 = (s, 0, 0, 0) with s a bit, so a1 > 1 — a panic in SP1 —
finds no receiver). A field program (field_program.py) on the gadget of field_ops.py:

    x < p                   MUL x·1 whose result must *be* x (a check on the bus): SP1 panics on x ≥ p
    rhs = x³ + a·x + b      products and sums (a·x only on secp256r1, a = p − 3)
    y ("root")              a witness with y < p (the framework's bound)
    y·y = rhs               a MUL that checks its result against rhs
    the sign                secp: y's parity (y_0 = 2h + s, h < 128);
                            BLS12-381: w = 2y mod p is odd iff y > (p − 1)/2 (2y < p gives w = 2y,
                            even; 2y ≥ p + 1 gives w = 2y − p, odd): w_0 = 2h + s

Why this is exactly SP1's y (executor/curves.py ``Weierstrass.decompress``): none of the three
curves has a point with y = 0 (their group orders are odd: no 2-torsion), so rhs ≠ 0 and its
square roots in [0, p) are y and p − y ≠ y, of opposite parities (p is odd) and on opposite
sides of (p − 1)/2. The k256/p256 crates return the root of the asked parity, amcl's zcash
decoding the larger one for s = 1: the one root the sign constraint allows. No root (x not on
the curve) is a panic in SP1 and unprovable here; x ≥ p likewise.

Rows per call: secp256k1 8, secp256r1 10, BLS12-381 9.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConstraintNotSatisfied
from ..executor.curves import BLS12381, SECP256K1, SECP256R1, Sp1Panic, Weierstrass
from . import buses
from . import field_ops as fo
from .field_program import READ, WRITE, FieldProgramAir, Step
from .sha_rows import zero_unless

MUL, ADD = fo.MUL, fo.ADD
ROOT = "root"
#: (curve, syscall name, code): SP1's code.rs
CURVES = ((SECP256K1, "SECP256K1_DECOMPRESS", 0x0000010C), (SECP256R1, "SECP256R1_DECOMPRESS", 0x0000012E),
          (BLS12381, "BLS12381_DECOMPRESS", 0x0000011C))


def decompress_steps(curve: Weierstrass) -> tuple:
    """The rows of one call (module docstring); the sign is checked on the row named "sign"."""
    nw = curve.nbytes // 4
    ax = (Step(MUL, "ax", "x", curve.a), Step(ADD, "t", "xxx", "ax")) if curve.a else ()
    cubic = "t" if curve.a else "xxx"
    sign = (Step(ADD, "sign", "y", "y"),) if curve is BLS12381 else ()  # w = 2y mod p
    return (
        Step(READ, "x", ptr=0, offset=nw),
        Step(MUL, a="x", b=1, check="x"),               # x·1 mod p = x: x < p
        Step(MUL, "xx", "x", "x"), Step(MUL, "xxx", "xx", "x"), *ax,
        Step(ADD, "rhs", cubic, curve.b),
        Step(ROOT, "y"),                                # y < p (the bound), its sign below
        Step(MUL, a="y", b="y", check="rhs"),           # y² = rhs
        *sign,
        Step(WRITE, check="y", ptr=0, offset=0),
    )


class WeierstrassDecompressAir(FieldProgramAir):
    """One curve's DECOMPRESS; ``decompress_chips`` makes one subclass per curve."""

    curve: Weierstrass
    extra = "h"

    def sign_row(self) -> int:
        """The row whose r carries the sign in its bit 0: y (secp) or 2y mod p (BLS12-381)."""
        outs = [s.out for s in self.steps]
        return outs.index("sign") if "sign" in outs else outs.index("y")

    def a1_bytes(self, b):
        """a1 is the sign bit: (s, 0, 0, 0), so a1 > 1 finds no receiver."""
        return [b.main(self.layout().x1[0]), 0, 0, 0]

    def extra_constraints(self, b, L, pos, active):
        m = b.main
        sign, h, r0 = m(L.x1[0]), m(L.h), m(L.r[0])
        name = self.name.upper().replace(" ", "_")
        b.assert_bool(sign, f"{name}: the sign a1 is a bit")
        for x in L.x1[1:]:
            b.assert_zero(m(x), f"{name}: a1's upper bytes are 0")
        row = pos[self.sign_row()]
        b.assert_zero(row * (r0 - 2 * h - sign), f"{name}: the sign is bit 0 of " + ("2y mod p" if "sign" in
                      [s.out for s in self.steps] else "y"))
        b.send(buses.BYTE, [buses.TAG_RANGE, h, 2 * h, 0, 0], row)  # h < 128
        zero_unless(b, row, [h], f"{name}: h only on the sign row")

    def custom_value(self, step, values, calls):
        """y: SP1's root for the call's sign (the executor's decompress)."""
        try:
            ys = [self.curve.decompress(int(x), int(s)) for x, s in zip(values["x"], calls["a1"])]
        except Sp1Panic as e:
            raise ConstraintNotSatisfied(f"{self.name}: {e}, yet the executor did not panic (inconsistent trace)") from e
        return np.array(ys, dtype=object)

    def extra_witness(self, t, rows_of, values, calls):
        L, k = self.layout(), self.sign_row()
        out = self.steps[k].out
        t[rows_of(k), L.h] = [(int(v) & 0xFF) >> 1 for v in values[out]]


def decompress_chips() -> list:
    out = []
    for curve, syscall_name, code in CURVES:
        out.append(type(f"{curve.name.capitalize()}DecompressAir", (WeierstrassDecompressAir,), {
            "curve": curve, "name": f"{curve.name} decompress", "code": code, "modulus": curve.p, "n": curve.nbytes,
            "pointers": {0: 2 * (curve.nbytes // 4)}, "steps": decompress_steps(curve), "__module__": __name__,
            "__doc__": f"{syscall_name}: y from x and the sign bit"}))
    return out


DECOMPRESS_CHIPS = decompress_chips()
DECOMPRESS_CODES = {code: name for _, name, code in CURVES}
