"""The BN254 and BLS12-381 base-field precompile chips: *_FP_{ADD,SUB,MUL} and
*_FP2_{ADD,SUB,MUL} (Fp2 = Fp[u]/(u² + 1): the non-residue is −1 for both curves).

Field programs (field_program.py) on the gadget of field_ops.py, one chip class per field and
operation (``fp_chips``: 12 narrow tables, each optional). a0 → x (n bytes; 2n for Fp2, c0 then
c1), read and written; a1 → y, read. They agree with SP1's executor (executor/curves.py
``fp_op`` / ``fp2_op``):

* FP_ADD, FP_MUL: r = x ∘ y mod p. SP1 reduces both operands first; the gadget's ADD and MUL
  take any byte operands, and (x mod p) ∘ (y mod p) ≡ x ∘ y, so one row does it.
* FP_SUB: xr = x·1 mod p first (the gadget's SUB needs its minuend below p), then r = xr − y.
* FP2_ADD: c0 = x0 + y0, c1 = x1 + y1.  FP2_SUB: c_i = (x_i·1) − y_i.
* FP2_MUL: c0 = x0·y0 − x1·y1, c1 = x0·y1 + x1·y0 (u² = −1).

Every result is canonical (< p), as SP1's. SP1's FP2_SUB computes the unsigned a + p − b and
panics when b > a + p (an unreduced b), so a proof must not exist there: each SUB row's
quotient is held to q ∈ {0, 1} (``Fp2SubAir``). With x = xr + k·p (the reducing row) and
c + y − xr = q·p (the SUB row), y ≤ x + p ⇔ q ≤ k + 1 (c < p); q ≤ 1 implies it (no panicking
call proves) and equals it when x is reduced (k = 0). The one honest case it leaves out, an
unreduced x with y > xr + p − c, is refused by the prover (``UnsupportedProgram``).

Rows per call: FP_ADD/MUL 4, FP_SUB 5, FP2_ADD 8, FP2_SUB 10, FP2_MUL 12.
"""

from __future__ import annotations

from ..errors import UnsupportedProgram
from ..executor.curves import BLS12381, BN254
from . import field_ops as fo
from .field_program import READ, WRITE, FieldProgramAir, Step

MUL, ADD, SUB = fo.MUL, fo.ADD, fo.SUB

#: (curve, syscall prefix, FP_ADD's code): SUB, MUL, FP2_ADD, FP2_SUB, FP2_MUL follow (+1 … +5)
FIELDS = ((BN254, "BN254", 0x00010126), (BLS12381, "BLS12381", 0x00010120))
OPS = ("FP_ADD", "FP_SUB", "FP_MUL", "FP2_ADD", "FP2_SUB", "FP2_MUL")


def fp_steps(op: str, nw: int) -> tuple:
    """The rows of one call of ``op`` (module docstring) on nw-word coefficients."""
    if op.startswith("FP2"):
        io: tuple[Step, ...] = (Step(READ, "x0", ptr=0, offset=0), Step(READ, "x1", ptr=0, offset=nw),
              Step(READ, "y0", ptr=1, offset=0), Step(READ, "y1", ptr=1, offset=nw))
        body = {
            "FP2_ADD": (Step(ADD, "c0", "x0", "y0"), Step(ADD, "c1", "x1", "y1")),
            "FP2_SUB": (Step(MUL, "x0r", "x0", 1), Step(MUL, "x1r", "x1", 1),
                        Step(SUB, "c0", "x0r", "y0"), Step(SUB, "c1", "x1r", "y1")),
            "FP2_MUL": (Step(MUL, "t00", "x0", "y0"), Step(MUL, "t11", "x1", "y1"), Step(SUB, "c0", "t00", "t11"),
                        Step(MUL, "t01", "x0", "y1"), Step(MUL, "t10", "x1", "y0"), Step(ADD, "c1", "t01", "t10")),
        }[op]
        return (*io, *body, Step(WRITE, check="c0", ptr=0, offset=0), Step(WRITE, check="c1", ptr=0, offset=nw))
    io = (Step(READ, "x", ptr=0, offset=0), Step(READ, "y", ptr=1, offset=0))
    body = {"FP_ADD": (Step(ADD, "r", "x", "y"),),
            "FP_SUB": (Step(MUL, "xr", "x", 1), Step(SUB, "r", "xr", "y")),
            "FP_MUL": (Step(MUL, "r", "x", "y"),)}[op]
    return (*io, *body, Step(WRITE, check="r", ptr=0, offset=0))


class Fp2SubAir(FieldProgramAir):
    """FP2_SUB: the field program plus q ∈ {0, 1} on its SUB rows (module docstring: no proof
    of a call where SP1 panics on b > a + p)."""

    def extra_constraints(self, b, L, pos, active) -> None:
        super().extra_constraints(b, L, pos, active)
        q = [b.main(i) for i in L.q]
        for k, s in enumerate(self.steps):
            if s.kind != SUB:
                continue
            b.assert_zero(pos[k] * q[0] * (q[0] - 1), f"{self.name}: step {k}'s quotient is 0 or 1 (b ≤ a + p)")
            for x in q[1:]:
                b.assert_zero(pos[k] * x, f"{self.name}: step {k}'s quotient is 0 or 1 (b ≤ a + p)")

    def step_witness(self, kind, av, bv, bound, addend) -> dict:
        col = super().step_witness(kind, av, bv, bound, addend)
        if kind == SUB and (col["q"][:, 1:].any() or (col["q"][:, 0] > 1).any()):
            raise UnsupportedProgram(f"{self.name}: an unreduced a with b > (a mod p) + p − result is not provable by "
                                     "this chip (SP1 accepts it); reduce the operands before the call")
        return col


def fp_chips() -> list:
    """The 12 chip classes (6 operations × 2 fields), in CHIPS order."""
    out = []
    for curve, prefix, first in FIELDS:
        nw = curve.nbytes // 4
        for i, op in enumerate(OPS):
            words = 2 * nw if op.startswith("FP2") else nw
            cls_name = curve.name.capitalize() + "".join(w.capitalize() for w in op.split("_")) + "Air"
            base = Fp2SubAir if op == "FP2_SUB" else FieldProgramAir
            out.append(type(cls_name, (base,), {
                "name": f"{curve.name} {op.lower().replace('_', ' ')}", "code": first + i, "modulus": curve.p,
                "n": curve.nbytes, "pointers": {0: words, 1: words}, "steps": fp_steps(op, nw),
                "__module__": __name__, "__doc__": f"{prefix}_{op}: x ← x ∘ y in F_p{'²' if '2' in op else ''}"}))
    return out


FP_CHIPS = fp_chips()
#: code → syscall name, for the syscall chip's routing
FP_CODES = {first + i: f"{prefix}_{op}" for _, prefix, first in FIELDS for i, op in enumerate(OPS)}
