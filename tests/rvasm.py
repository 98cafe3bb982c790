"""A tiny RV32IM assembler and ELF32 writer for tests (independent of pyzkvm.isa).

    from tests.rvasm import asm, elf
    code = [asm.addi(10, 0, 5), asm.li(5, 0), asm.ecall()]   # a0 = 5; t0 = HALT; ecall
    program = Program.from_elf(elf(code))

Encodings follow the RISC-V unprivileged spec, chapter 2 and 7 (M extension).
"""

from __future__ import annotations

import struct

TEXT_BASE = 0x00201000
DATA_BASE = 0x00300000

REG = {n: i for i, n in enumerate(
    "zero ra sp gp tp t0 t1 t2 s0 s1 a0 a1 a2 a3 a4 a5 a6 a7 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 t3 t4 t5 t6".split()
)}  # fmt: skip


def _r(f7, rs2, rs1, f3, rd, op):
    return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op


def _i(imm, rs1, f3, rd, op):
    assert -2048 <= imm < 2048, imm
    return ((imm & 0xFFF) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op


def _s(imm, rs2, rs1, f3, op):
    assert -2048 <= imm < 2048, imm
    imm &= 0xFFF
    return ((imm >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1F) << 7) | op


def _b(imm, rs2, rs1, f3):
    assert imm % 2 == 0 and -4096 <= imm < 4096, imm
    imm &= 0x1FFF
    return (((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3F) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (((imm >> 1) & 0xF) << 8) | (((imm >> 11) & 1) << 7) | 0x63


class asm:
    """One static method per instruction; returns the 32-bit word (``li`` returns a list)."""

    # U / J
    lui = staticmethod(lambda rd, imm20: ((imm20 & 0xFFFFF) << 12) | (rd << 7) | 0x37)
    auipc = staticmethod(lambda rd, imm20: ((imm20 & 0xFFFFF) << 12) | (rd << 7) | 0x17)

    @staticmethod
    def jal(rd, imm):
        assert imm % 2 == 0 and -(1 << 20) <= imm < (1 << 20)
        imm &= 0x1FFFFF
        return (((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3FF) << 21) | (((imm >> 11) & 1) << 20) | (((imm >> 12) & 0xFF) << 12) | (rd << 7) | 0x6F

    jalr = staticmethod(lambda rd, rs1, imm: _i(imm, rs1, 0, rd, 0x67))
    # branches
    beq = staticmethod(lambda rs1, rs2, imm: _b(imm, rs2, rs1, 0))
    bne = staticmethod(lambda rs1, rs2, imm: _b(imm, rs2, rs1, 1))
    blt = staticmethod(lambda rs1, rs2, imm: _b(imm, rs2, rs1, 4))
    bge = staticmethod(lambda rs1, rs2, imm: _b(imm, rs2, rs1, 5))
    bltu = staticmethod(lambda rs1, rs2, imm: _b(imm, rs2, rs1, 6))
    bgeu = staticmethod(lambda rs1, rs2, imm: _b(imm, rs2, rs1, 7))
    # loads / stores
    lb = staticmethod(lambda rd, rs1, imm: _i(imm, rs1, 0, rd, 0x03))
    lh = staticmethod(lambda rd, rs1, imm: _i(imm, rs1, 1, rd, 0x03))
    lw = staticmethod(lambda rd, rs1, imm: _i(imm, rs1, 2, rd, 0x03))
    lbu = staticmethod(lambda rd, rs1, imm: _i(imm, rs1, 4, rd, 0x03))
    lhu = staticmethod(lambda rd, rs1, imm: _i(imm, rs1, 5, rd, 0x03))
    sb = staticmethod(lambda rs2, rs1, imm: _s(imm, rs2, rs1, 0, 0x23))
    sh = staticmethod(lambda rs2, rs1, imm: _s(imm, rs2, rs1, 1, 0x23))
    sw = staticmethod(lambda rs2, rs1, imm: _s(imm, rs2, rs1, 2, 0x23))
    # OP-IMM
    addi = staticmethod(lambda rd, rs1, imm: _i(imm, rs1, 0, rd, 0x13))
    slti = staticmethod(lambda rd, rs1, imm: _i(imm, rs1, 2, rd, 0x13))
    sltiu = staticmethod(lambda rd, rs1, imm: _i(imm, rs1, 3, rd, 0x13))
    xori = staticmethod(lambda rd, rs1, imm: _i(imm, rs1, 4, rd, 0x13))
    ori = staticmethod(lambda rd, rs1, imm: _i(imm, rs1, 6, rd, 0x13))
    andi = staticmethod(lambda rd, rs1, imm: _i(imm, rs1, 7, rd, 0x13))
    slli = staticmethod(lambda rd, rs1, sh: _r(0, sh, rs1, 1, rd, 0x13))
    srli = staticmethod(lambda rd, rs1, sh: _r(0, sh, rs1, 5, rd, 0x13))
    srai = staticmethod(lambda rd, rs1, sh: _r(0x20, sh, rs1, 5, rd, 0x13))
    # OP
    add = staticmethod(lambda rd, rs1, rs2: _r(0, rs2, rs1, 0, rd, 0x33))
    sub = staticmethod(lambda rd, rs1, rs2: _r(0x20, rs2, rs1, 0, rd, 0x33))
    sll = staticmethod(lambda rd, rs1, rs2: _r(0, rs2, rs1, 1, rd, 0x33))
    slt = staticmethod(lambda rd, rs1, rs2: _r(0, rs2, rs1, 2, rd, 0x33))
    sltu = staticmethod(lambda rd, rs1, rs2: _r(0, rs2, rs1, 3, rd, 0x33))
    xor = staticmethod(lambda rd, rs1, rs2: _r(0, rs2, rs1, 4, rd, 0x33))
    srl = staticmethod(lambda rd, rs1, rs2: _r(0, rs2, rs1, 5, rd, 0x33))
    sra = staticmethod(lambda rd, rs1, rs2: _r(0x20, rs2, rs1, 5, rd, 0x33))
    or_ = staticmethod(lambda rd, rs1, rs2: _r(0, rs2, rs1, 6, rd, 0x33))
    and_ = staticmethod(lambda rd, rs1, rs2: _r(0, rs2, rs1, 7, rd, 0x33))
    mul = staticmethod(lambda rd, rs1, rs2: _r(1, rs2, rs1, 0, rd, 0x33))
    mulh = staticmethod(lambda rd, rs1, rs2: _r(1, rs2, rs1, 1, rd, 0x33))
    mulhsu = staticmethod(lambda rd, rs1, rs2: _r(1, rs2, rs1, 2, rd, 0x33))
    mulhu = staticmethod(lambda rd, rs1, rs2: _r(1, rs2, rs1, 3, rd, 0x33))
    div = staticmethod(lambda rd, rs1, rs2: _r(1, rs2, rs1, 4, rd, 0x33))
    divu = staticmethod(lambda rd, rs1, rs2: _r(1, rs2, rs1, 5, rd, 0x33))
    rem = staticmethod(lambda rd, rs1, rs2: _r(1, rs2, rs1, 6, rd, 0x33))
    remu = staticmethod(lambda rd, rs1, rs2: _r(1, rs2, rs1, 7, rd, 0x33))
    fence = staticmethod(lambda: 0x0FF0000F)
    ecall = staticmethod(lambda: 0x00000073)
    ebreak = staticmethod(lambda: 0x00100073)

    @staticmethod
    def li(rd, value):
        """Load a 32-bit constant: lui + addi (always two words, for predictable layout)."""
        value &= 0xFFFFFFFF
        lo = value & 0xFFF
        lo = lo - 0x1000 if lo >= 0x800 else lo
        hi = ((value - lo) >> 12) & 0xFFFFF
        return [asm.lui(rd, hi), asm.addi(rd, rd, lo)]


def flatten(code) -> list[int]:
    out = []
    for x in code:
        out.extend(flatten(x) if isinstance(x, (list, tuple)) else [x])
    return out


def halt(exit_code_reg_value: int | None = 0) -> list[int]:
    """SP1 HALT: a0 = exit code (when given), t0 = 0, ecall."""
    code = [] if exit_code_reg_value is None else asm.li(10, exit_code_reg_value)
    return flatten([code, asm.li(5, 0), asm.ecall()])


def elf(code, *, data: bytes = b"", data_base: int = DATA_BASE, text_base: int = TEXT_BASE,
        entry: int | None = None, machine: int = 243, e_type: int = 2, flags: int = 0,
        ei_class: int = 1, ei_data: int = 1, segments=None) -> bytes:  # fmt: skip
    """An ELF32 executable: a PT_LOAD text segment (R+X) and optionally a data segment (R+W).
    ``segments`` overrides with a list of (vaddr, bytes, p_flags, memsz or None)."""
    text = b"".join(struct.pack("<I", w & 0xFFFFFFFF) for w in flatten(code))
    if segments is None:
        segments = [(text_base, text, 5, None)]
        if data:
            segments.append((data_base, data, 6, None))
    phoff, phentsize = 52, 32
    offset = phoff + phentsize * len(segments)
    phdrs, bodies = b"", b""
    for vaddr, body, pflags, memsz in segments:
        phdrs += struct.pack("<IIIIIIII", 1, offset + len(bodies), vaddr, vaddr, len(body), memsz if memsz is not None else len(body), pflags, 4)
        bodies += body
    ident = b"\x7fELF" + bytes([ei_class, ei_data, 1, 0]) + bytes(8)
    header = ident + struct.pack(
        "<HHIIIIIHHHHHH", e_type, machine, 1, text_base if entry is None else entry, phoff, 0, flags,
        52, phentsize, len(segments), 40, 0, 0,
    )  # fmt: skip
    return header + phdrs + bodies


def program(code, *, data: bytes = b"", abi: str = "sp1"):
    """A pyzkvm Program from assembled code (and an optional data segment at DATA_BASE)."""
    from pyzkvm.program import Program

    return Program.from_elf(elf(code, data=data), abi=abi)


def syscall(code: int, *args: int) -> list[int]:
    """SP1 ecall: a0, a1, a2 = args, t0 = code."""
    out = []
    for reg, value in zip((10, 11, 12), args):
        out += asm.li(reg, value)
    return out + asm.li(5, code) + [asm.ecall()]
