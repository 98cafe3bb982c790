"""Hand-written programs per instruction group pass the machine's debug check; the values
they compute are checked against Python's own integer semantics (the oracle)."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from pyzkvm.machine import check_machine
from tests.machine.machine_helpers import run_machine
from tests.rvasm import DATA_BASE, TEXT_BASE, asm, halt, syscall

M32 = 0xFFFFFFFF
DATA = bytes(range(0x70, 0x90)) + b"\xff\x80\x7f\x01" * 4


def sx(value, bits):
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def test_loads_stores_branches_jumps():
    code = [asm.li(1, DATA_BASE),                                        # 0, 4
            asm.lw(2, 1, 0), asm.lb(3, 1, 17), asm.lbu(4, 1, 17),       # 8..16
            asm.lh(6, 1, 16), asm.lhu(7, 1, 18), asm.lb(8, 1, 32),      # 20..28
            asm.lh(9, 1, 32), asm.lh(11, 1, 34),                        # 32, 36
            asm.sw(2, 1, 40), asm.sb(3, 1, 45), asm.sh(4, 1, 46),       # 40..48
            asm.lw(12, 1, 44), asm.sh(9, 1, 44), asm.lw(13, 1, 44),     # 52..60
            asm.slt(14, 3, 4), asm.sltu(15, 3, 4),                      # 64, 68
            asm.auipc(18, 0x12345),                                     # 72
            asm.jal(19, 8), asm.addi(0, 0, 0),                          # 76, 80 (skipped)
            asm.auipc(20, 0), asm.jalr(21, 20, 13),                     # 84, 88 → 84 + 12 = 96
            asm.addi(22, 0, 1),                                         # 92 (skipped)
            asm.beq(14, 15, 8), asm.addi(23, 0, 1),                     # 96 (not taken), 100
            asm.bne(14, 15, 8), asm.addi(23, 0, 2),                     # 104 (taken), 108 skipped
            asm.blt(3, 4, 8), asm.addi(24, 0, 1),                       # 112 taken
            asm.bge(3, 4, 8), asm.addi(24, 0, 2),                       # 120 not taken, 124
            asm.bltu(3, 4, 8), asm.addi(25, 0, 1),                      # 128 not taken, 132
            asm.bgeu(3, 4, 8), asm.addi(25, 0, 2),                      # 136 taken
            asm.fence() if hasattr(asm, "fence") else asm.addi(0, 0, 0),
            halt(0)]
    chips, tables, e = run_machine(code, data=DATA)
    check_machine(chips, tables)
    regs = e.final_registers
    word = lambda off: struct.unpack_from("<I", DATA, off)[0]  # noqa: E731
    assert regs[2] == word(0)
    assert regs[3] == sx(DATA[17], 8) & M32 and regs[4] == DATA[17]
    assert regs[6] == sx(DATA[16] | DATA[17] << 8, 16) & M32 and regs[7] == DATA[18] | DATA[19] << 8
    assert regs[8] == sx(DATA[32], 8) & M32 and regs[9] == sx(DATA[32] | DATA[33] << 8, 16) & M32
    stored = bytearray(DATA[44:48])
    stored[1] = regs[3] & 0xFF
    stored[2:4] = (regs[4] & 0xFFFF).to_bytes(2, "little")
    assert regs[12] == int.from_bytes(stored, "little")
    stored[0:2] = (regs[9] & 0xFFFF).to_bytes(2, "little")
    assert regs[13] == int.from_bytes(stored, "little")
    assert regs[14] == int(sx(regs[3], 32) < sx(regs[4], 32)) and regs[15] == int(regs[3] < regs[4])
    assert regs[18] == (TEXT_BASE + 72 + (0x12345 << 12)) & M32
    assert regs[19] == TEXT_BASE + 80 and regs[21] == TEXT_BASE + 92 and regs[22] == 0
    assert (regs[23], regs[24], regs[25]) == (1, 2, 1)


def test_syscalls_hint_write_commit():
    hint = bytes(range(1, 11))  # 10 bytes: 3 words, the last one padded
    msg = b"hello, journal!"
    code = [syscall(0xF0),                                   # HINT_LEN → t0 = 10
            asm.addi(13, 5, 0),                              # a3 = length
            asm.li(10, DATA_BASE + 64), asm.addi(11, 13, 0), asm.li(5, 0xF1), asm.ecall(),  # HINT_READ
            asm.li(10, DATA_BASE + 64), asm.lw(14, 10, 8),   # read the third hint word back
            syscall(0x02, 1, DATA_BASE + 1, 5),              # WRITE stdout (not bound)
            syscall(0x02, 3, DATA_BASE + 1, 7),              # journal: unaligned start, spans 2 words
            syscall(0x02, 13, DATA_BASE + 8, 0),             # journal: empty write
            syscall(0x02, 3, DATA_BASE + 8, 8),              # journal: two whole words
            [syscall(0x10, i, 0x01010101 * i) for i in range(8)],
            [syscall(0x1A, i, 0) for i in range(8)],
            halt(0)]
    data = msg + bytes(64)
    chips, tables, e = run_machine(code, inputs=[hint], data=data)
    check_machine(chips, tables)
    assert e.journal == data[1:8] + data[8:16]
    assert tables.journal == e.journal
    assert e.final_registers[14] == int.from_bytes(hint[8:] + b"\0\0", "little")
    assert e.final_registers[13] == len(hint)


DIV_CASES = [(7, 2), (-7, 2), (7, -2), (-7, -2), (5, 0), (-5, 0), (0, 0), (-(1 << 31), -1), (-(1 << 31), 1),
             (0xFFFFFFFF, 1), (123456789, 1000), (-1, 0x7FFFFFFF), (1 << 31, 3)]


def _div_oracle(x, y, mnemonic):
    """RISC-V M semantics in Python integers (spec §7.2 table of edge cases)."""
    ux, uy = x & M32, y & M32
    sxv, syv = sx(ux, 32), sx(uy, 32)
    if mnemonic == "divu":
        return M32 if uy == 0 else ux // uy
    if mnemonic == "remu":
        return ux if uy == 0 else ux % uy
    if syv == 0:
        return M32 if mnemonic == "div" else ux
    if sxv == -(1 << 31) and syv == -1:
        return ux if mnemonic == "div" else 0
    q = abs(sxv) // abs(syv) * (1 if (sxv < 0) == (syv < 0) else -1)
    return (q if mnemonic == "div" else sxv - q * syv) & M32


def test_div_rem_edge_cases():
    code, expect = [], []
    for i, (x, y) in enumerate(DIV_CASES):
        code += [asm.li(1, x & M32), asm.li(2, y & M32)]
        for j, name in enumerate(("div", "divu", "rem", "remu")):
            code.append(getattr(asm, name)(16 + j, 1, 2))
            code.append(asm.sw(16 + j, 3, 4 * (4 * i + j)))
            expect.append(_div_oracle(x, y, name))
    code = [asm.li(3, DATA_BASE)] + code + [halt(0)]
    chips, tables, e = run_machine(code, data=bytes(4 * len(expect)))
    check_machine(chips, tables)
    # read the results back from the final memory state (boundary table), not from the executor
    from pyzkvm.machine.memory import BOUNDARY, memory_key
    bnd = tables.traces["memory boundary"]
    keys = bnd[:, BOUNDARY.key].astype(np.int64)
    got = []
    for k in range(len(expect)):
        row = int(np.flatnonzero(keys == memory_key(DATA_BASE + 4 * k))[0])
        got.append(int.from_bytes(bytes(int(v) for v in bnd[row, BOUNDARY.final]), "little"))
    assert got == expect


def test_forged_remainder_sign_is_named():
    """−7 / 2: the honest answer is q = −3, r = −1. The pair q = −4, r = 1 also satisfies
    a = q·b + r and |r| < |b|; only the sign rule (r takes a's sign) rules it out."""
    from pyzkvm.errors import ConstraintNotSatisfied
    from pyzkvm.machine.alu_divrem import DIVREM
    from tests.machine.machine_helpers import forged

    code = [asm.li(1, (-7) & M32), asm.li(2, 2), asm.div(3, 1, 2), halt(0)]
    chips, tables, _ = run_machine(code)
    check_machine(chips, tables)

    def edit(t):
        row = t.traces["alu divrem"][0]
        q = (-4) & M32
        row[DIVREM.q] = list(q.to_bytes(4, "little"))
        row[DIVREM.c] = list(q.to_bytes(4, "little"))
        row[DIVREM.r] = [1, 0, 0, 0]
        row[DIVREM.abs_r] = [1, 0, 0, 0]
        row[DIVREM.sr] = 0
        row[DIVREM.plo] = list(((-8) & M32).to_bytes(4, "little"))
        row[DIVREM.phi] = [255] * 4
        row[DIVREM.carry] = 0
    with pytest.raises(ConstraintNotSatisfied, match=r"r = 0 or sign\(r\) = sign\(a\)"):
        check_machine(chips, forged(tables, edit))
