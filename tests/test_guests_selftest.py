"""rv32im-selftest: its results recomputed here from the RISC-V spec (unprivileged ISA,
RV32I and M chapters), independently of pyzkvm's interpreter, in the order documented at the
top of guests/rv32im-selftest/main.c.

The guest's journal is SHA-256 of the result words; with input u32 1 it also writes the raw
words to stdout, so a mismatch is reported as "result #i (section, operation): got/expected".
"""

from __future__ import annotations

import hashlib
import struct

import pytest

try:  # tests/ is a package when it has __init__.py, a plain folder on sys.path otherwise
    from .test_guests_unicorn import BIN, assert_committed, run_on_unicorn
except ImportError:
    from test_guests_unicorn import BIN, assert_committed, run_on_unicorn

M32 = 0xFFFF_FFFF
VALS = [0, 1, 2, 32, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFF9, 0x12345678]


def signed(x: int) -> int:
    x &= M32
    return x - (1 << 32) if x >> 31 else x


def _div(a: int, b: int) -> int:
    # DIV rounds toward zero; x/0 = -1; INT_MIN / -1 = INT_MIN (overflow)
    sa, sb = signed(a), signed(b)
    if sb == 0:
        return M32
    if sa == -(1 << 31) and sb == -1:
        return 0x80000000
    q = abs(sa) // abs(sb)
    return (q if (sa < 0) == (sb < 0) else -q) & M32


def _rem(a: int, b: int) -> int:
    # REM has the sign of the dividend; x % 0 = x; INT_MIN % -1 = 0
    sa, sb = signed(a), signed(b)
    if sb == 0:
        return a & M32
    if sa == -(1 << 31) and sb == -1:
        return 0
    r = abs(sa) % abs(sb)
    return (-r if sa < 0 else r) & M32


RTYPE = {
    "add": lambda a, b: (a + b) & M32,
    "sub": lambda a, b: (a - b) & M32,
    "sll": lambda a, b: (a << (b & 31)) & M32,  # shift amount = low 5 bits of rs2
    "slt": lambda a, b: int(signed(a) < signed(b)),
    "sltu": lambda a, b: int(a < b),
    "xor": lambda a, b: a ^ b,
    "srl": lambda a, b: a >> (b & 31),
    "sra": lambda a, b: (signed(a) >> (b & 31)) & M32,
    "or": lambda a, b: a | b,
    "and": lambda a, b: a & b,
    "mul": lambda a, b: (a * b) & M32,
    "mulh": lambda a, b: ((signed(a) * signed(b)) >> 32) & M32,
    "mulhsu": lambda a, b: ((signed(a) * b) >> 32) & M32,
    "mulhu": lambda a, b: ((a * b) >> 32) & M32,
    "div": _div,
    "divu": lambda a, b: M32 if b == 0 else a // b,
    "rem": _rem,
    "remu": lambda a, b: a if b == 0 else a % b,
}

ITYPE = {  # the 12-bit immediate is sign-extended to 32 bits first
    "addi": lambda a, i: (a + i) & M32,
    "slti": lambda a, i: int(signed(a) < i),
    "sltiu": lambda a, i: int(a < (i & M32)),
    "xori": lambda a, i: a ^ (i & M32),
    "ori": lambda a, i: a | (i & M32),
    "andi": lambda a, i: a & (i & M32),
}
SHIFTI = {
    "slli": lambda a, s: (a << s) & M32,
    "srli": lambda a, s: a >> s,
    "srai": lambda a, s: (signed(a) >> s) & M32,
}
BRANCH = {
    "beq": lambda a, b: a == b,
    "bne": lambda a, b: a != b,
    "blt": lambda a, b: signed(a) < signed(b),
    "bge": lambda a, b: signed(a) >= signed(b),
    "bltu": lambda a, b: a < b,
    "bgeu": lambda a, b: a >= b,
}

MEM = struct.pack("<4I", 0x80FF7F01, 0x7FFF8000, 0x12345678, 0xFEDCBA98)


def _load(op: str, off: int) -> int:
    addr = 8 + off  # base register points at MEM + 8
    width = {"lb": 1, "lbu": 1, "lh": 2, "lhu": 2, "lw": 4}[op]
    raw = int.from_bytes(MEM[addr : addr + width], "little")
    if op in ("lb", "lh") and raw >> (8 * width - 1):
        raw -= 1 << (8 * width)  # sign-extend
    return raw & M32


def _store(op: str, value: int, off: int) -> list[int]:
    area = bytearray(b"\xa5" * 16)
    width = {"sb": 1, "sh": 2, "sw": 4}[op]
    addr = 8 + off
    area[addr : addr + width] = (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
    return list(struct.unpack("<4I", area))


def expected_results() -> list[tuple[str, int]]:
    """(label, value) for every result word, in the guest's order."""
    out: list[tuple[str, int]] = []
    for op, f in RTYPE.items():
        out += [(f"{op} 0x{a:x}, 0x{b:x}", f(a, b)) for a in VALS for b in VALS]
    for op, f in ITYPE.items():
        out += [(f"{op} 0x{a:x}, {i}", f(a, i)) for i in (0, 1, -1, 2047, -2048) for a in VALS]
    for op, f in SHIFTI.items():
        out += [(f"{op} 0x{a:x}, {s}", f(a, s)) for s in (0, 1, 5, 31) for a in VALS]
    out += [(f"lui 0x{i:x}", (i << 12) & M32) for i in (0, 1, 0x80000, 0xFFFFF, 0x12345)]
    out += [(f"auipc 0x{i:x} - pc", (i << 12) & M32) for i in (0, 1, 0x80000, 0xFFFFF)]
    for op, f in BRANCH.items():
        out += [(f"{op} 0x{a:x}, 0x{b:x} taken", int(f(a, b))) for a in VALS for b in VALS]
    out += [("bne backward loop", 5), ("bltu backward loop", 7), ("bge backward loop", 6)]
    out += [("jal link - pc", 4), ("jal skipped", 0)]
    for case in ("target+0, imm 0", "target+0, imm 1", "target+1, imm 0", "target+3, imm -3", "rd = rs1"):
        out += [(f"jalr ({case}) link - pc", 4), (f"jalr ({case}) skipped", 0)]
    for op in ("lb", "lbu"):
        out += [(f"{op} {o}(base)", _load(op, o)) for o in range(-8, 8)]
    for op in ("lh", "lhu"):
        out += [(f"{op} {o}(base)", _load(op, o)) for o in range(-8, 8, 2)]
    out += [(f"lw {o}(base)", _load("lw", o)) for o in (-8, -4, 0, 4)]
    for op, value, offsets in (
        ("sb", 0x123456F0, (-5, 0, 1, 2, 3, 7)),
        ("sh", 0xBEEF8001, (-6, -2, 0, 2, 6)),
        ("sw", 0xCAFEBABE, (-8, 0, 4)),
    ):
        for o in offsets:
            out += [(f"{op} {o}(base) word {k}", w) for k, w in enumerate(_store(op, value, o))]
    out += [(f"x0 after {insn}", 0) for insn in ("addi", "lui", "auipc", "lw", "mul", "jal")]
    return out


def expected_journal() -> bytes:
    words = [v for _, v in expected_results()]
    return hashlib.sha256(struct.pack(f"<{len(words)}I", *words)).digest()


def first_mismatch(raw: bytes) -> str | None:
    """Describe the first result word that differs from the spec (None when all agree)."""
    expected = expected_results()
    got = list(struct.unpack(f"<{len(raw) // 4}I", raw[: len(raw) // 4 * 4]))
    for i, ((label, want), have) in enumerate(zip(expected, got)):
        if want != have:
            return f"result #{i} ({label}): got 0x{have:08x}, expected 0x{want:08x}"
    if len(got) != len(expected):
        return f"{len(got)} result words, expected {len(expected)}"
    return None


def test_spec_reference_edge_cases():
    """Spot checks of the reference itself against values quoted in the spec's M chapter."""
    assert RTYPE["div"](0x80000000, M32) == 0x80000000  # overflow: INT_MIN / -1
    assert RTYPE["rem"](0x80000000, M32) == 0
    assert RTYPE["div"](7, 0) == M32 and RTYPE["divu"](7, 0) == M32
    assert RTYPE["rem"](7, 0) == 7 and RTYPE["remu"](7, 0) == 7
    assert RTYPE["div"](0xFFFFFFF9, 2) == 0xFFFFFFFD  # -7 / 2 = -3 (toward zero)
    assert RTYPE["rem"](0xFFFFFFF9, 2) == M32  # -7 % 2 = -1 (sign of dividend)
    assert RTYPE["mulhsu"](M32, M32) == M32  # -1 * (2^32 - 1) = -(2^32 - 1): high word -1
    assert RTYPE["sll"](1, 32) == 1  # shift amounts use the low 5 bits only
    assert _load("lb", -5) == 0xFFFFFF80 and _load("lbu", -5) == 0x80


def test_selftest_on_unicorn_matches_spec():
    run = run_on_unicorn(BIN / "rv32im-selftest.elf", [struct.pack("<I", 1)])
    assert run.exit_code == 0
    assert first_mismatch(run.stdout) is None, first_mismatch(run.stdout)
    assert run.journal == expected_journal()
    assert_committed(run)


@pytest.mark.parametrize("dump", [False, True])
def test_selftest_journal_is_independent_of_the_dump_flag(dump):
    run = run_on_unicorn(BIN / "rv32im-selftest.elf", [struct.pack("<I", 1)] if dump else [])
    assert run.journal == expected_journal()
    assert (len(run.stdout) > 0) == dump
