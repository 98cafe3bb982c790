"""Soundness by attack: change one witness cell (or a consistent set of cells) of an honest
machine trace and show the debug check names the broken constraint or bus."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.errors import ConstraintNotSatisfied
from pyzkvm.machine import check_machine
from pyzkvm.machine.alu import ADD_SUB, BITWISE
from pyzkvm.machine.cpu import CPU
from pyzkvm.machine.memory import BOUNDARY
from pyzkvm.stark.field import P
from tests.machine.machine_helpers import forged, run_machine
from tests.rvasm import asm, halt

X, Y = 0x89ABCDEF, 0x7654321F


@pytest.fixture(scope="module")
def honest():
    code = [asm.li(1, X), asm.li(2, Y),  # rows 0-3
            asm.add(13, 1, 2),           # row 4
            asm.xor(14, 13, 2),          # row 5
            asm.jal(0, 8),               # row 6: jump over row "7"
            asm.addi(15, 0, 1),          # skipped
            asm.sub(16, 14, 1),          # row 7
            halt(42)]                    # rows 8-10: a0 = 42, t0 = 0, ecall
    chips, tables, execution = run_machine(code)
    check_machine(chips, tables)  # the honest trace passes
    return chips, tables, execution


def _row(tables, mnemonic_pc_offset):
    pc = tables.traces["cpu"][:, CPU.pc]
    return int(np.flatnonzero(pc == 0x00201000 + mnemonic_pc_offset)[0])


def expect(chips, tables, match):
    with pytest.raises(ConstraintNotSatisfied, match=match):
        check_machine(chips, tables)


def test_wrong_alu_result_in_cpu_breaks_alu_and_memory_buses(honest):
    chips, tables, _ = honest

    def edit(t):
        t.traces["cpu"][4, CPU.c[1]] ^= 1
    bad = forged(tables, edit)
    expect(chips, bad, r"bus .*'alu'")


def test_wrong_add_result_everywhere_names_the_add_constraint(honest):
    chips, tables, _ = honest

    def edit(t):  # forge ADD's result consistently in the CPU row and the ALU chip row
        t.traces["cpu"][4, CPU.c[0]] ^= 1
        add = t.traces["alu add/sub"]
        row = int(np.flatnonzero(add[:, ADD_SUB.is_add] == 1)[-1])
        add[row, ADD_SUB.c[0]] ^= 1
    expect(chips, forged(tables, edit), r"constraint 'ADD byte 0")


def test_wrong_xor_result_everywhere_fails_the_byte_lookup(honest):
    chips, tables, _ = honest

    def edit(t):
        t.traces["cpu"][5, CPU.c[2]] ^= 0x10
        bw = t.traces["alu bitwise"]
        bw[int(np.flatnonzero(bw[:, BITWISE.is_xor] == 1)[0]), BITWISE.c[2]] ^= 0x10
    expect(chips, forged(tables, edit), r"bus .*'byte'")


def test_stale_register_read(honest):
    chips, tables, _ = honest
    # row 5 (xor x14, x13, x2) reads x13 = X + Y; claim it read x13's older value 0 instead
    def edit(t):
        t.traces["cpu"][5, CPU.a] = 0
    expect(chips, forged(tables, edit), r"bus .*'memory'")


def test_read_from_the_future(honest):
    chips, tables, _ = honest

    def edit(t):  # row 4 reads x1 claiming the timestamp of a later access: ts − prev_ts − 1 < 0
        cpu = t.traces["cpu"]
        ts = 4 * int(cpu[4, CPU.clk]) + 4
        d = (ts - (ts + 100) - 1) % P  # the field value the d bytes would have to encode
        cpu[4, CPU.rs1_prev_ts] = ts + 100
        cpu[4, CPU.rs1_d] = [d & 0xFF, (d >> 8) & 0xFF, (d >> 16) & 0xF, d >> 20]  # d3 is no byte
    expect(chips, forged(tables, edit), r"bus .*'byte'")


def test_skipped_instruction(honest):
    chips, tables, _ = honest

    def edit(t):  # drop row 5 and shift the rest up
        cpu = t.traces["cpu"]
        cpu[5:-1] = cpu[6:].copy()
        cpu[-1] = 0
    expect(chips, forged(tables, edit), r"clk' = clk \+ 1|pc' = next_pc")


def test_wrong_pc_jump(honest):
    chips, tables, _ = honest

    def edit(t):  # the JAL claims to land one instruction further, and the trace follows it
        cpu = t.traces["cpu"]
        cpu[6, CPU.next_pc] += 4
    expect(chips, forged(tables, edit), r"JAL: next_pc = pc \+ imm|pc' = next_pc")


def test_changed_instruction_word(honest):
    chips, tables, _ = honest
    # row 4 runs `add`; claim it ran `sub` (the decoded fields no longer match the program)
    from pyzkvm.isa import OPS

    def edit(t):
        t.traces["cpu"][4, CPU.alu_op] = OPS["sub"]
    expect(chips, forged(tables, edit), r"bus .*'program'")


def test_changed_immediate(honest):
    chips, tables, _ = honest
    expect(chips, forged(tables, lambda t: t.traces["cpu"].__setitem__((6, CPU.imm_f), 12)), r"JAL|bus .*'program'")


def test_changed_exit_code(honest):
    chips, tables, _ = honest
    assert tables.public_values[:4] == [42, 0, 0, 0]
    bad = forged(tables, lambda t: t.public_values.__setitem__(0, 43))
    expect(chips, bad, r"HALT: exit code = a0 \(byte 0\)")


def test_write_to_x0(honest):
    chips, tables, _ = honest

    def edit(t):  # the skipped-over `addi x15` is not run; make row 7's SUB also "write" x0
        cpu = t.traces["cpu"]
        cpu[7, CPU.rd] = 0
    expect(chips, forged(tables, edit), r"bus .*'program'")


def test_forged_initial_image_word(honest):
    chips, tables, _ = honest

    def edit(t):
        bnd = t.traces["memory boundary"]
        row = int(np.flatnonzero(bnd[:, BOUNDARY.in_image] == 1)[0])
        bnd[row, BOUNDARY.init[0]] ^= 1
        bnd[row, BOUNDARY.final[0]] ^= 1  # keep the untouched word's chain closed
    expect(chips, forged(tables, edit), r"bus .*'image'")


def test_image_word_initialised_as_non_image(honest):
    chips, tables, _ = honest

    def edit(t):  # claim an image word starts at 0 (off the image)
        bnd = t.traces["memory boundary"]
        row = int(np.flatnonzero(bnd[:, BOUNDARY.in_image] == 1)[0])
        bnd[row, BOUNDARY.in_image] = 0
        bnd[row, BOUNDARY.init] = 0
        bnd[row, BOUNDARY.final] = 0
    expect(chips, forged(tables, edit), r"bus .*'image'")


def test_duplicate_boundary_key(honest):
    chips, tables, _ = honest

    def edit(t):  # a second chain for register x1 (would let a read see a forged initial value)
        bnd = t.traces["memory boundary"]
        bnd[2] = bnd[1]
    expect(chips, forged(tables, edit), r"keys strictly increase")


def test_halt_must_end_the_run(honest):
    chips, tables, execution = honest

    def edit(t):  # cut the run before HALT
        cpu = t.traces["cpu"]
        cpu[execution.cycles - 1] = 0
    expect(chips, forged(tables, edit), r"the last executed row is HALT")


def test_zero_image_words_are_off_the_image_and_still_start_at_zero():
    """The image table keeps only non-zero words (memory.ImageTable): a zero data word the
    program reads is a boundary row with in_image = 0 and init = 0. Claiming it started
    non-zero is refused either way a forger can say it: off the image (the boundary's
    constraint) or on it (the image chip never sent that word)."""
    from tests.rvasm import DATA_BASE

    data = (0).to_bytes(4, "little") + (0x1234).to_bytes(4, "little")
    code = [asm.li(5, DATA_BASE), asm.lw(6, 5, 0), asm.lw(7, 5, 4), halt(0)]
    chips, tables, _ = run_machine(code, data=data)
    check_machine(chips, tables)
    image = chips.image
    zero_key, word_key = 32 + DATA_BASE // 4, 32 + DATA_BASE // 4 + 1
    assert zero_key not in image.keys and word_key in image.keys
    bnd = tables.traces["memory boundary"]
    row = int(np.flatnonzero(bnd[:, BOUNDARY.key] == zero_key)[0])
    assert bnd[row, BOUNDARY.in_image] == 0 and not bnd[row, list(BOUNDARY.init)].any()

    def off_image(t):  # the loaded zero "was" 1: init and the value lw read (CPU and memory chain)
        t.traces["memory boundary"][row, BOUNDARY.init[0]] = 1
    expect(chips, forged(tables, off_image), r"init = 0 off the image")

    def on_image(t):
        b = t.traces["memory boundary"]
        b[row, BOUNDARY.in_image] = 1
        b[row, BOUNDARY.init[0]] = 1
    expect(chips, forged(tables, on_image), r"bus .*'(image|memory)'")
