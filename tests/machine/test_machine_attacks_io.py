"""Soundness by attack on memory, syscalls and the public statement: forge one thing in an
honest trace of a program that loads, stores, branches, reads hints, writes the journal and
commits, and show that the debug check names the broken constraint or bus."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.errors import ConstraintNotSatisfied
from pyzkvm.isa import OPS
from pyzkvm.machine import check_machine
from pyzkvm.machine.alu_shift import SHIFT
from pyzkvm.machine.cpu import CPU
from pyzkvm.machine.statement import PV_COMMIT, PV_HAS_COMMIT
from pyzkvm.machine.memop import MEMOP
from pyzkvm.machine.syscall import HINT_WORDS, JOURNAL_WORDS
from tests.machine.machine_helpers import forged, run_machine
from tests.rvasm import DATA_BASE, asm, halt, syscall

MSG = b"journal bytes!!!"


@pytest.fixture(scope="module")
def honest():
    code = [asm.li(1, DATA_BASE),
            asm.lw(2, 1, 0), asm.sw(2, 1, 20), asm.lw(3, 1, 20),    # store then load back
            asm.slli(4, 3, 7),
            asm.beq(2, 3, 8), asm.addi(6, 0, 1),                     # taken: skip
            syscall(0xF0), asm.addi(13, 5, 0),
            asm.li(10, DATA_BASE + 64), asm.addi(11, 13, 0), asm.li(5, 0xF1), asm.ecall(),
            syscall(0x02, 3, DATA_BASE + 2, 9),
            [syscall(0x10, i, 0x01020304 * (i + 1)) for i in range(8)],
            halt(0)]
    chips, tables, execution = run_machine(code, inputs=[b"12345678"], data=MSG + bytes(128))
    check_machine(chips, tables)
    return chips, tables, execution


def expect(chips, tables, match):
    with pytest.raises(ConstraintNotSatisfied, match=match):
        check_machine(chips, tables)


def _cpu_rows(tables, op):
    cpu = tables.traces["cpu"]
    return np.flatnonzero((cpu[:, CPU.alu_op] == OPS[op]) & (cpu[:, CPU.is_real] == 1))


def test_stale_load(honest):
    chips, tables, _ = honest

    def edit(t):  # the load after the store returns the word as it was before the store
        cpu, ls = t.traces["cpu"], t.traces["load/store"]
        row = _cpu_rows(t, "lw")[1]
        cpu[row, CPU.mem_prev[0]] ^= 1
        cpu[row, CPU.mem_new[0]] ^= 1
        cpu[row, CPU.c[0]] ^= 1
        lw_rows = np.flatnonzero(ls[:, MEMOP.is_lw] == 1)
        for c in (MEMOP.m[0], MEMOP.n[0], MEMOP.c[0]):
            ls[lw_rows[1], c] ^= 1
    expect(chips, forged(tables, edit), r"bus .*'memory'")


def test_load_returns_a_value_other_than_the_word(honest):
    chips, tables, _ = honest

    def edit(t):
        row = _cpu_rows(t, "lw")[0]
        t.traces["cpu"][row, CPU.c[2]] ^= 4
        ls = t.traces["load/store"]
        ls[np.flatnonzero(ls[:, MEMOP.is_lw] == 1)[0], MEMOP.c[2]] ^= 4
    expect(chips, forged(tables, edit), r"LW: loaded byte 2")


def test_wrong_shift_result(honest):
    chips, tables, _ = honest

    def edit(t):
        t.traces["cpu"][_cpu_rows(t, "sll")[0], CPU.c[1]] ^= 1
        sh = t.traces["alu shift"]
        sh[0, SHIFT.c[1]] ^= 1
    expect(chips, forged(tables, edit), r"SLL: result byte 1")


def test_branch_not_taken_when_it_should_be(honest):
    chips, tables, _ = honest

    def edit(t):  # claim BEQ fell through (next_pc = pc + 4) although its operands are equal
        cpu = t.traces["cpu"]
        row = _cpu_rows(t, "beq")[0]
        cpu[row, CPU.c[0]] = 0
        cpu[row, CPU.next_pc] = cpu[row, CPU.pc] + 4
    expect(chips, forged(tables, edit), r"pc' = next_pc|bus .*'alu'")


def test_changed_journal_byte(honest):
    chips, tables, execution = honest
    assert tables.journal == MSG[2:11]

    def edit(t):
        t.journal = t.journal[:3] + bytes([t.journal[3] ^ 1]) + t.journal[4:]
    expect(chips, forged(tables, edit), r"bus .*'journal'")


def test_journal_with_a_byte_dropped(honest):
    chips, tables, _ = honest
    expect(chips, forged(tables, lambda t: setattr(t, "journal", t.journal[:-1])), r"bus .*'journal'")


def test_journal_mask_forged(honest):
    chips, tables, _ = honest

    def edit(t):  # emit the byte before the buffer's start as well
        jw = t.traces["journal words"]
        jw[0, JOURNAL_WORDS.e[1]] = 1
    expect(chips, forged(tables, edit), r"e1 = u1")


def test_changed_commit_word(honest):
    chips, tables, _ = honest
    assert tables.public_values[PV_HAS_COMMIT] == 1

    def edit(t):
        t.public_values[PV_COMMIT[5]] ^= 0x10
    expect(chips, forged(tables, edit), r"bus .*'commit'")


def test_hint_read_writes_outside_its_buffer(honest):
    chips, tables, _ = honest

    def edit(t):  # the hint word lands one word further than the destination
        hw = t.traces["hint words"]
        hw[1, HINT_WORDS.key] += 1
    # the last word: its key must be the chain's last key (else the chain itself breaks)
    expect(chips, forged(tables, edit), r"bus .*'hint chain'|'is_last ⇒ key = last_key'")


def test_changed_hint_length_answer_is_allowed_only_as_bytes(honest):
    chips, tables, _ = honest
    from pyzkvm.machine.syscall import SYS

    def edit(t):  # HINT_LEN's answer is free witness, but it must be bytes like every register value
        t.traces["syscall"][0, SYS.c[0]] = 300
    expect(chips, forged(tables, edit), r"bus .*'byte'")


def test_high_address_claimed_low(honest):
    """hz says "address < 256" for a load at DATA_BASE: the zero-page check cannot be dodged."""
    chips, tables, _ = honest

    def edit(t):
        row = _cpu_rows(t, "lw")[0]
        t.traces["cpu"][row, CPU.hz] = 0
    expect(chips, forged(tables, edit), r"hz = 0 ⇒ sum < 256")


def test_hint_buffer_bound_is_checked(honest):
    from pyzkvm.machine.syscall import SYS

    def edit(t):  # claim more room after the HINT_READ buffer than there is
        sysc = t.traces["syscall"]
        row = int(np.flatnonzero(sysc[:, SYS.is_hint_read] == 1)[0])
        sysc[row, SYS.room[0]] += 1
    chips, tables, _ = honest
    expect(chips, forged(tables, edit), r"HINT_READ buffer ends in memory")
