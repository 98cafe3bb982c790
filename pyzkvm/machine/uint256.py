"""The UINT256_MUL chip (syscall 0x0001011D): x ← x·y mod m on 256-bit integers.

SP1's semantics (executor/sp1_precompiles.py): a0 → x (8 little-endian words, read and written),
a1 → y (8 words) followed by the modulus m (8 words); x ← x·y mod m, where m = 0 means 2^256.
A field program (field_program.py) whose modulus is read from memory: 5 rows per call — READ x,
READ y, READ m, MUL with the modulus m + 2^256·[m = 0] in columns (the gadget's q has 64 limbs,
as m may be as small as 1), WRITE x. r < m + 2^256·[m = 0] is proved on 33 limbs.
"""

from __future__ import annotations

from . import field_ops as fo
from .field_program import READ, WRITE, FieldProgramAir, Step


class Uint256MulAir(FieldProgramAir):
    name = "uint256 mul"
    code = 0x0001011D
    modulus = None  # read from memory
    pointers = {0: 8, 1: 16}
    steps = (
        Step(READ, "x", ptr=0, offset=0), Step(READ, "y", ptr=1, offset=0), Step(READ, "m", ptr=1, offset=8),
        Step(fo.MUL, "xy", "x", "y", mod="m"),
        Step(WRITE, check="xy", ptr=0, offset=0),
    )
