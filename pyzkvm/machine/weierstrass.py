"""The short-Weierstrass precompile chips: *_ADD and *_DOUBLE for secp256k1, secp256r1, BN254
and BLS12-381 (y² = x³ + a·x + b over F_p).

Each is a field program (field_program.py: one row per step, values on the ``field value`` bus,
the gadget of field_ops.py on n = 32 byte limbs, 48 for BLS12-381), one chip class per curve
and operation (``weierstrass_chips``), so every table is as narrow as its curve allows: a
curve selector column would make the modulus a variable and every table as wide as BLS12-381's.
They agree with SP1's executor (executor/curves.py ``Weierstrass.add``/``double``) on every
input it does not panic on, and refuse the rest:

**ADD** — a0 → P = x1 ‖ y1 (2·n/4 words, read and written), a1 → Q = x2 ‖ y2 (read); the chord:

    s = (y2 − y1) / (x2 − x1),   x3 = s² − x1 − x2,   y3 = s·(x1 − x3) − y1      (mod p)

SP1 computes x3 = (s² + 2p − x1 − x2) mod p and y3 = (s·(p + x1 − x3) + p − y1) mod p, the same
residues. The slope is two steps: inv = 1 / (x2 − x1) (DIV with a = 1 proves x2 − x1 ≢ 0 and
makes inv unique), then s = (y2 − y1)·inv. So x1 ≡ x2 is refused by the prover
(UnsupportedProgram): SP1 panics on P = Q and divides by 0 as 0 for P = −Q (off the group law;
no guest that adds with SP1's libraries does it). 16 rows: 4 READ, 10 arithmetic, 2 WRITE.

**DOUBLE** — a0 → P (read and written); a1 is not read. The tangent:

    s = (3·x1² + a) / (2·y1),   x3 = s² − 2·x1,   y3 = s·(x1 − x3) − y1

with the same inverse step (2·y1 ≢ 0; y1 = 0 is refused: SP1 divides by 0 as 0). 15 rows
(16 on secp256r1, whose a ≠ 0 is one more ADD).

Every coordinate is used as SP1 reads it (no reduction, no on-curve check — as SP1), but each
is proved < p (``reads_canonical``: the READ rows' lt flags). SP1's unsigned subtractions
panic on some coordinates ≥ p (p + y2 − y1 with y1 > p + y2, …), and the gadget's SUB would
prove those (any q ≥ 0), so without it a panicking call would have a proof; with every
coordinate < p none of SP1's subtractions can go negative. The prover refuses coordinates
≥ p (UnsupportedProgram), which SP1's libraries never pass (they hold reduced field elements).
"""

from __future__ import annotations

from ..errors import UnsupportedProgram
from ..executor.curves import BLS12381, BN254, SECP256K1, SECP256R1, Weierstrass
from . import field_ops as fo
from .field_program import READ, WRITE, FieldProgramAir, Step

MUL, DIV, ADD, SUB = fo.MUL, fo.DIV, fo.ADD, fo.SUB

#: curve → (syscall name prefix, ADD code, DOUBLE code): SP1's code.rs
CURVES = ((SECP256K1, "SECP256K1", 0x0001010A, 0x0000010B), (SECP256R1, "SECP256R1", 0x0001012C, 0x0000012D),
          (BN254, "BN254", 0x0001010E, 0x0000010F), (BLS12381, "BLS12381", 0x0001011E, 0x0000011F))


def add_steps(nw: int) -> tuple:
    """P ← P + Q: the chord rule, one row per field operation (module docstring)."""
    return (
        Step(READ, "x1", ptr=0, offset=0), Step(READ, "y1", ptr=0, offset=nw),
        Step(READ, "x2", ptr=1, offset=0), Step(READ, "y2", ptr=1, offset=nw),
        Step(SUB, "num", "y2", "y1"), Step(SUB, "den", "x2", "x1"),
        Step(DIV, "inv", 1, "den"),                     # x2 − x1 ≢ 0, inv unique
        Step(MUL, "s", "num", "inv"),
        Step(MUL, "ss", "s", "s"), Step(ADD, "sum", "x1", "x2"), Step(SUB, "x3", "ss", "sum"),
        Step(SUB, "dx", "x1", "x3"), Step(MUL, "sdx", "s", "dx"), Step(SUB, "y3", "sdx", "y1"),
        Step(WRITE, check="x3", ptr=0, offset=0), Step(WRITE, check="y3", ptr=0, offset=nw),
    )


def double_steps(nw: int, a: int) -> tuple:
    """P ← 2P: the tangent rule (module docstring); the ``+ a`` row only where a ≠ 0."""
    slope_num = (Step(MUL, "t", "xx", 3), Step(ADD, "num", "t", a)) if a else (Step(MUL, "num", "xx", 3),)
    return (
        Step(READ, "x1", ptr=0, offset=0), Step(READ, "y1", ptr=0, offset=nw),
        Step(MUL, "xx", "x1", "x1"), *slope_num,
        Step(ADD, "y2", "y1", "y1"),
        Step(DIV, "inv", 1, "y2"),                      # 2·y1 ≢ 0, inv unique
        Step(MUL, "s", "num", "inv"),
        Step(MUL, "ss", "s", "s"), Step(ADD, "x2", "x1", "x1"), Step(SUB, "x3", "ss", "x2"),
        Step(SUB, "dx", "x1", "x3"), Step(MUL, "sdx", "s", "dx"), Step(SUB, "y3", "sdx", "y1"),
        Step(WRITE, check="x3", ptr=0, offset=0), Step(WRITE, check="y3", ptr=0, offset=nw),
    )


class WeierstrassAir(FieldProgramAir):
    """A curve operation's chip; ``weierstrass_chips`` makes one subclass per curve and op."""

    curve: Weierstrass
    modulus: int  # the curve's p, never None here (weierstrass_chips)
    reads_canonical = True

    def check_read(self, step, values) -> None:
        """Refuse coordinates the gadget cannot prove: ≥ p (module docstring)."""
        big = [int(v) for v in values if int(v) >= self.modulus]
        if big:
            raise UnsupportedProgram(f"{self.name}: the coordinate {step.out} = {big[0]:#x} is not below p: the chip proves "
                                     "reduced coordinates only (SP1's libraries pass reduced ones); prove this run "
                                     "with the trace backend")


def weierstrass_chips() -> list:
    """The ADD and DOUBLE chip classes of every curve, in CHIPS order."""
    out = []
    for curve, prefix, add_code, double_code in CURVES:
        nw = curve.nbytes // 4
        common = {"curve": curve, "modulus": curve.p, "n": curve.nbytes, "__module__": __name__}
        out.append(type(f"{curve.name.capitalize()}AddAir", (WeierstrassAir,), {
            **common, "name": f"{curve.name} add", "code": add_code, "pointers": {0: 2 * nw, 1: 2 * nw},
            "steps": add_steps(nw), "__doc__": f"{prefix}_ADD: P ← P + Q (the chord rule)"}))
        out.append(type(f"{curve.name.capitalize()}DoubleAir", (WeierstrassAir,), {
            **common, "name": f"{curve.name} double", "code": double_code, "pointers": {0: 2 * nw},
            "steps": double_steps(nw, curve.a), "__doc__": f"{prefix}_DOUBLE: P ← 2P (the tangent rule)"}))
    return out


WEIERSTRASS_CHIPS = weierstrass_chips()
#: code → syscall name, for the syscall chip's routing
WEIERSTRASS_CODES = {c: f"{prefix}_{op}" for _, prefix, add, dbl in CURVES for c, op in ((add, "ADD"), (dbl, "DOUBLE"))}
