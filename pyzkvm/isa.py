"""RV32IM: one table of instructions, a table-driven decoder and a disassembler.

Every RV32IM instruction is one row of ``INSTRUCTIONS``: its mnemonic, its format (which
fixes where the register and immediate fields sit) and the bits that identify it (opcode,
funct3, funct7 — or the whole word for ECALL/EBREAK). The decoder matches a word against
the rows (``word & mask == match``); a word that matches no row is an illegal instruction.
Decoding is strict: a reserved encoding (SLLI with imm[11:5] ≠ 0, an R-type with an unknown
funct7, FENCE.I, CSR instructions, ...) matches nothing.

The row's index is the instruction's *op id*: the executor's numba loop decodes with its own
compact switch (pyzkvm/executor/decode.py) but produces the same op ids — tests check the
two agree on every encoding class.

Formats (bit positions of the 32-bit word)::

    R  funct7[31:25] rs2[24:20] rs1[19:15] funct3[14:12] rd[11:7] opcode[6:0]
    I  imm[11:0]=[31:20]        rs1        funct3        rd       opcode
    S  imm[11:5]=[31:25] rs2    rs1        funct3  imm[4:0]=[11:7] opcode
    B  like S, imm = sext(b31‖b7‖b30..25‖b11..8‖0)   (branch offsets are even)
    U  imm[31:12]=[31:12]                        rd       opcode
    J  imm = sext(b31‖b19..12‖b20‖b30..21‖0)        rd       opcode
"""

from __future__ import annotations

from dataclasses import dataclass

#: ABI names of x0..x31, as assemblers print them.
ABI_NAMES = (
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2",
    "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
    "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7",
    "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
)  # fmt: skip


@dataclass(frozen=True)
class Instruction:
    """One RV32IM instruction: how it is encoded and what it computes."""

    mnemonic: str
    fmt: str  # R, I, IS (shift-immediate), L (load), S, B, U, J, JR (jalr), F (fence), SYS
    opcode: int
    funct3: int | None
    funct7: int | None
    semantics: str

    @property
    def mask(self) -> int:
        """Bits of the word that identify this instruction."""
        if self.fmt == "SYS":
            return 0xFFFFFFFF
        m = 0x7F
        if self.funct3 is not None:
            m |= 0x7000
        if self.funct7 is not None:
            m |= 0xFE000000
        return m

    @property
    def match(self) -> int:
        """The values of the ``mask`` bits."""
        if self.fmt == "SYS":
            return self.opcode  # the full word (ECALL / EBREAK)
        v = self.opcode
        if self.funct3 is not None:
            v |= self.funct3 << 12
        if self.funct7 is not None:
            v |= self.funct7 << 25
        return v


_I = Instruction
# The order fixes the op ids; do not reorder (the executor's decode.py mirrors it).
INSTRUCTIONS: tuple[Instruction, ...] = (
    _I("lui", "U", 0x37, None, None, "rd = imm"),
    _I("auipc", "U", 0x17, None, None, "rd = pc + imm"),
    _I("jal", "J", 0x6F, None, None, "rd = pc + 4; pc = pc + imm"),
    _I("jalr", "JR", 0x67, 0, None, "t = (rs1 + imm) & ~1; rd = pc + 4; pc = t"),
    _I("beq", "B", 0x63, 0, None, "if rs1 == rs2: pc += imm"),
    _I("bne", "B", 0x63, 1, None, "if rs1 != rs2: pc += imm"),
    _I("blt", "B", 0x63, 4, None, "if signed(rs1) < signed(rs2): pc += imm"),
    _I("bge", "B", 0x63, 5, None, "if signed(rs1) >= signed(rs2): pc += imm"),
    _I("bltu", "B", 0x63, 6, None, "if rs1 < rs2: pc += imm"),
    _I("bgeu", "B", 0x63, 7, None, "if rs1 >= rs2: pc += imm"),
    _I("lb", "L", 0x03, 0, None, "rd = sext(mem8[rs1 + imm])"),
    _I("lh", "L", 0x03, 1, None, "rd = sext(mem16[rs1 + imm])"),
    _I("lw", "L", 0x03, 2, None, "rd = mem32[rs1 + imm]"),
    _I("lbu", "L", 0x03, 4, None, "rd = mem8[rs1 + imm]"),
    _I("lhu", "L", 0x03, 5, None, "rd = mem16[rs1 + imm]"),
    _I("sb", "S", 0x23, 0, None, "mem8[rs1 + imm] = rs2"),
    _I("sh", "S", 0x23, 1, None, "mem16[rs1 + imm] = rs2"),
    _I("sw", "S", 0x23, 2, None, "mem32[rs1 + imm] = rs2"),
    _I("addi", "I", 0x13, 0, None, "rd = rs1 + imm"),
    _I("slti", "I", 0x13, 2, None, "rd = signed(rs1) < signed(imm)"),
    _I("sltiu", "I", 0x13, 3, None, "rd = rs1 < (imm as u32)"),
    _I("xori", "I", 0x13, 4, None, "rd = rs1 ^ imm"),
    _I("ori", "I", 0x13, 6, None, "rd = rs1 | imm"),
    _I("andi", "I", 0x13, 7, None, "rd = rs1 & imm"),
    _I("slli", "IS", 0x13, 1, 0x00, "rd = rs1 << shamt"),
    _I("srli", "IS", 0x13, 5, 0x00, "rd = rs1 >> shamt (logical)"),
    _I("srai", "IS", 0x13, 5, 0x20, "rd = signed(rs1) >> shamt (arithmetic)"),
    _I("add", "R", 0x33, 0, 0x00, "rd = rs1 + rs2"),
    _I("sub", "R", 0x33, 0, 0x20, "rd = rs1 - rs2"),
    _I("sll", "R", 0x33, 1, 0x00, "rd = rs1 << (rs2 & 31)"),
    _I("slt", "R", 0x33, 2, 0x00, "rd = signed(rs1) < signed(rs2)"),
    _I("sltu", "R", 0x33, 3, 0x00, "rd = rs1 < rs2"),
    _I("xor", "R", 0x33, 4, 0x00, "rd = rs1 ^ rs2"),
    _I("srl", "R", 0x33, 5, 0x00, "rd = rs1 >> (rs2 & 31)"),
    _I("sra", "R", 0x33, 5, 0x20, "rd = signed(rs1) >> (rs2 & 31)"),
    _I("or", "R", 0x33, 6, 0x00, "rd = rs1 | rs2"),
    _I("and", "R", 0x33, 7, 0x00, "rd = rs1 & rs2"),
    _I("fence", "F", 0x0F, 0, None, "no-op (one hart, no caches)"),
    _I("ecall", "SYS", 0x00000073, None, None, "call the host (syscall code in t0)"),
    _I("ebreak", "SYS", 0x00100073, None, None, "breakpoint: a guest fault"),
    _I("mul", "R", 0x33, 0, 0x01, "rd = low32(rs1 * rs2)"),
    _I("mulh", "R", 0x33, 1, 0x01, "rd = high32(signed(rs1) * signed(rs2))"),
    _I("mulhsu", "R", 0x33, 2, 0x01, "rd = high32(signed(rs1) * rs2)"),
    _I("mulhu", "R", 0x33, 3, 0x01, "rd = high32(rs1 * rs2)"),
    _I("div", "R", 0x33, 4, 0x01, "rd = signed(rs1) / signed(rs2) toward 0; /0 = -1; MIN/-1 = MIN"),
    _I("divu", "R", 0x33, 5, 0x01, "rd = rs1 / rs2; /0 = 0xffffffff"),
    _I("rem", "R", 0x33, 6, 0x01, "rd = signed remainder (sign of rs1); %0 = rs1; MIN%-1 = 0"),
    _I("remu", "R", 0x33, 7, 0x01, "rd = rs1 % rs2; %0 = rs1"),
)
del _I

#: mnemonic -> op id (the row index).
OPS: dict[str, int] = {ins.mnemonic: i for i, ins in enumerate(INSTRUCTIONS)}
#: The op id of a word that decodes to no instruction.
ILLEGAL = len(INSTRUCTIONS)
N_OPS = len(INSTRUCTIONS) + 1


@dataclass(frozen=True)
class Decoded:
    """A decoded instruction: op id, register indices (0 when unused) and immediate."""

    op: int
    rd: int
    rs1: int
    rs2: int
    imm: int

    @property
    def instruction(self) -> Instruction | None:
        return INSTRUCTIONS[self.op] if self.op < len(INSTRUCTIONS) else None


def _sext(value: int, bits: int) -> int:
    sign = 1 << (bits - 1)
    return (value & (sign - 1)) - (value & sign)


def immediate(word: int, fmt: str) -> int:
    """The (sign-extended) immediate of ``word`` in format ``fmt`` (0 for R/SYS/F)."""
    if fmt in ("I", "L", "JR"):
        return _sext(word >> 20, 12)
    if fmt == "IS":
        return (word >> 20) & 0x1F
    if fmt == "S":
        return _sext(((word >> 25) << 5) | ((word >> 7) & 0x1F), 12)
    if fmt == "B":
        v = ((word >> 31) << 12) | (((word >> 7) & 1) << 11) | (((word >> 25) & 0x3F) << 5) | (((word >> 8) & 0xF) << 1)
        return _sext(v, 13)
    if fmt == "U":
        return _sext(word & 0xFFFFF000, 32)
    if fmt == "J":
        v = ((word >> 31) << 20) | (((word >> 12) & 0xFF) << 12) | (((word >> 20) & 1) << 11) | (((word >> 21) & 0x3FF) << 1)
        return _sext(v, 21)
    return 0


# Which register fields a format uses: (rd, rs1, rs2).
_FIELDS = {
    "R": (1, 1, 1), "I": (1, 1, 0), "IS": (1, 1, 0), "L": (1, 1, 0), "JR": (1, 1, 0),
    "S": (0, 1, 1), "B": (0, 1, 1), "U": (1, 0, 0), "J": (1, 0, 0), "F": (0, 0, 0), "SYS": (0, 0, 0),
}  # fmt: skip


def decode(word: int) -> Decoded:
    """Decode one 32-bit word by matching it against the table (strict: reserved → ILLEGAL)."""
    word = int(word) & 0xFFFFFFFF
    for op, ins in enumerate(INSTRUCTIONS):
        if word & ins.mask == ins.match:
            use_rd, use_rs1, use_rs2 = _FIELDS[ins.fmt]
            return Decoded(
                op,
                (word >> 7) & 0x1F if use_rd else 0,
                (word >> 15) & 0x1F if use_rs1 else 0,
                (word >> 20) & 0x1F if use_rs2 else 0,
                immediate(word, ins.fmt),
            )
    return Decoded(ILLEGAL, 0, 0, 0, 0)


def disassemble(word: int, pc: int | None = None) -> str:
    """Standard assembly for one word, with ABI register names (``addi a0, a0, 1``,
    ``lw a1, 8(sp)``). Branch and jump targets are absolute when ``pc`` is given."""
    word = int(word) & 0xFFFFFFFF
    d = decode(word)
    ins = d.instruction
    if ins is None:
        return f".word 0x{word & 0xFFFFFFFF:08x}  # illegal"
    r = ABI_NAMES
    m, f = ins.mnemonic, ins.fmt

    def target(offset: int) -> str:
        if pc is None:
            return f"pc{offset:+d}"
        return f"0x{(pc + offset) & 0xFFFFFFFF:08x}"

    if f == "R":
        return f"{m} {r[d.rd]}, {r[d.rs1]}, {r[d.rs2]}"
    if f in ("I", "IS"):
        return f"{m} {r[d.rd]}, {r[d.rs1]}, {d.imm}"
    if f in ("L", "JR"):
        return f"{m} {r[d.rd]}, {d.imm}({r[d.rs1]})"
    if f == "S":
        return f"{m} {r[d.rs2]}, {d.imm}({r[d.rs1]})"
    if f == "B":
        return f"{m} {r[d.rs1]}, {r[d.rs2]}, {target(d.imm)}"
    if f == "U":
        return f"{m} {r[d.rd]}, 0x{(d.imm >> 12) & 0xFFFFF:x}"
    if f == "J":
        return f"{m} {r[d.rd]}, {target(d.imm)}"
    return m  # fence, ecall, ebreak
