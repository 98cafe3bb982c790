"""The hot loop's decoder: a compact numba switch on opcode/funct3/funct7.

It produces the same op ids as the table in pyzkvm/isa.py (tests check every encoding class
agrees). The text segment is decoded once, before running, into two arrays:

    packed[i] = op | rd << 8 | rs1 << 16 | rs2 << 24     imm[i] = sign-extended immediate

for the word at ``code_lo + 4*i``. Under the ABI profiles these are what runs, whatever is
stored into the range later (interpreter.py's ``fixed_code``); a Machine run without a profile
re-decodes a word a store changed.
"""

from __future__ import annotations

import numpy as np
from ..lazy_njit import njit

from .._jit import inner

from ..isa import ILLEGAL, OPS

# op ids, frozen into the numba code as constants
LUI, AUIPC, JAL, JALR = OPS["lui"], OPS["auipc"], OPS["jal"], OPS["jalr"]
BEQ = OPS["beq"]  # beq..bgeu are BEQ + {0,1,4,5,6,7} → table rows BEQ..BEQ+5
LB = OPS["lb"]  # lb, lh, lw, lbu, lhu
SB = OPS["sb"]  # sb, sh, sw
ADDI = OPS["addi"]  # addi, slti, sltiu, xori, ori, andi
SLLI, SRLI, SRAI = OPS["slli"], OPS["srli"], OPS["srai"]
ADD, SUB, SRA = OPS["add"], OPS["sub"], OPS["sra"]
FENCE, ECALL, EBREAK = OPS["fence"], OPS["ecall"], OPS["ebreak"]
MUL = OPS["mul"]  # mul..remu are MUL + funct3

# funct3 → row offset inside a group (-1: reserved)
_BRANCH_F3 = np.array([0, 1, -1, -1, 2, 3, 4, 5], dtype=np.int64)
_LOAD_F3 = np.array([0, 1, 2, -1, 3, 4, -1, -1], dtype=np.int64)
_OPIMM_F3 = np.array([0, -1, 1, 2, 3, -1, 4, 5], dtype=np.int64)  # addi, -, slti, sltiu, xori, -, ori, andi
# R-type funct7 = 0 rows by funct3: add sll slt sltu xor srl or and
_OP_F3 = np.array([OPS["add"], OPS["sll"], OPS["slt"], OPS["sltu"], OPS["xor"], OPS["srl"], OPS["or"], OPS["and"]], dtype=np.int64)


# immediate widths, as int64 values: a literal width (``_sext(v, 12)``) would make numba compile
# _sext once per width (four copies) instead of once
_W12, _W13, _W21, _W32 = np.int64(12), np.int64(13), np.int64(21), np.int64(32)


@inner
def _sext(value, bits):
    sign = np.int64(1) << (bits - 1)
    return (value & (sign - 1)) - (value & sign)


@inner
def decode_word(word):
    """Decode one instruction word → (op, rd, rs1, rs2, imm); op = ILLEGAL when reserved.
    Unused register fields are 0, so rd = 0 means 'writes no register'."""
    w = np.int64(word) & 0xFFFFFFFF
    opcode = w & 0x7F
    rd = (w >> 7) & 0x1F
    f3 = (w >> 12) & 7
    rs1 = (w >> 15) & 0x1F
    rs2 = (w >> 20) & 0x1F
    f7 = w >> 25
    i_imm = _sext(w >> 20, _W12)
    if opcode == 0x37 or opcode == 0x17:  # LUI / AUIPC: imm = word[31:12] << 12
        return (LUI if opcode == 0x37 else AUIPC), rd, 0, 0, _sext(w & 0xFFFFF000, _W32)
    if opcode == 0x6F:  # JAL
        v = ((w >> 31) << 20) | (((w >> 12) & 0xFF) << 12) | (((w >> 20) & 1) << 11) | (((w >> 21) & 0x3FF) << 1)
        return JAL, rd, 0, 0, _sext(v, _W21)
    if opcode == 0x67:
        if f3 != 0:
            return ILLEGAL, 0, 0, 0, 0
        return JALR, rd, rs1, 0, i_imm
    if opcode == 0x63:  # branches
        k = _BRANCH_F3[f3]
        if k < 0:
            return ILLEGAL, 0, 0, 0, 0
        v = ((w >> 31) << 12) | (((w >> 7) & 1) << 11) | (((w >> 25) & 0x3F) << 5) | (((w >> 8) & 0xF) << 1)
        return BEQ + k, 0, rs1, rs2, _sext(v, _W13)
    if opcode == 0x03:  # loads
        k = _LOAD_F3[f3]
        if k < 0:
            return ILLEGAL, 0, 0, 0, 0
        return LB + k, rd, rs1, 0, i_imm
    if opcode == 0x23:  # stores
        if f3 > 2:
            return ILLEGAL, 0, 0, 0, 0
        return SB + f3, 0, rs1, rs2, _sext(((w >> 25) << 5) | ((w >> 7) & 0x1F), _W12)
    if opcode == 0x13:  # OP-IMM
        if f3 == 1:
            if f7 != 0:
                return ILLEGAL, 0, 0, 0, 0
            return SLLI, rd, rs1, 0, rs2
        if f3 == 5:
            if f7 == 0:
                return SRLI, rd, rs1, 0, rs2
            if f7 == 0x20:
                return SRAI, rd, rs1, 0, rs2
            return ILLEGAL, 0, 0, 0, 0
        return ADDI + _OPIMM_F3[f3], rd, rs1, 0, i_imm
    if opcode == 0x33:  # OP (R-type)
        if f7 == 0:
            return _OP_F3[f3], rd, rs1, rs2, 0
        if f7 == 1:
            return MUL + f3, rd, rs1, rs2, 0
        if f7 == 0x20:
            if f3 == 0:
                return SUB, rd, rs1, rs2, 0
            if f3 == 5:
                return SRA, rd, rs1, rs2, 0
        return ILLEGAL, 0, 0, 0, 0
    if opcode == 0x0F:
        if f3 != 0:
            return ILLEGAL, 0, 0, 0, 0  # FENCE.I (Zifencei) is not RV32IM
        return FENCE, 0, 0, 0, 0
    if w == 0x00000073:
        return ECALL, 0, 0, 0, 0
    if w == 0x00100073:
        return EBREAK, 0, 0, 0, 0
    return ILLEGAL, 0, 0, 0, 0


@inner
def pack(op, rd, rs1, rs2):
    return np.int64(op) | (np.int64(rd) << 8) | (np.int64(rs1) << 16) | (np.int64(rs2) << 24)


@njit(cache=True, nogil=True)
def decode_range(mem, lo_index, n, packed, imm):
    """Pre-decode words mem[lo_index : lo_index + n] into ``packed`` / ``imm``."""
    for i in range(n):
        op, rd, rs1, rs2, im = decode_word(np.int64(mem[lo_index + i]))  # int64, as the interpreter passes
        packed[i] = pack(op, rd, rs1, rs2)
        imm[i] = im


def decode_words(words: np.ndarray) -> np.ndarray:
    """Decode many words (the program table, tests): returns an (n, 5) int64 array of op, rd,
    rs1, rs2, imm. A few words in a process without the compiled loop are decoded by the
    kernel's Python source (python_start.decoder: `pyzkvm info` loads no numba)."""
    from .python_start import decoder

    words = np.ascontiguousarray(words, dtype=np.uint32)
    packed = np.zeros(len(words), dtype=np.int64)
    imm = np.zeros(len(words), dtype=np.int64)
    decoder(len(words))(words, 0, len(words), packed, imm)
    out = np.empty((len(words), 5), dtype=np.int64)
    out[:, 0] = packed & 0xFF
    out[:, 1] = (packed >> 8) & 0xFF
    out[:, 2] = (packed >> 16) & 0xFF
    out[:, 3] = (packed >> 24) & 0xFF
    out[:, 4] = imm
    return out
