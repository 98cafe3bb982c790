"""Attacks through the real proof system: each forgery is named by the debug check, and a
proof *forced* past the prover's own check (check_constraints_first=False) does not verify.

One program exercises every binding attacked: MULH, DIV/REM, a store and the load of it,
HINT_LEN, a journal WRITE and HALT. The journal is public data: a proof of the honest tables
does not verify against a journal with one byte changed."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.errors import ConstraintNotSatisfied, VerificationError
from pyzkvm.isa import OPS
from pyzkvm.machine import check_machine
from pyzkvm.machine.alu_divrem import DIVREM
from pyzkvm.machine.alu_mul import MUL
from pyzkvm.machine.cpu import CPU, PV_CYCLES
from pyzkvm.machine.memop import MEMOP
from pyzkvm.machine.syscall import SYS
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, prove, setup, verify
from tests.machine.machine_helpers import forged, run_machine
from tests.rvasm import DATA_BASE, asm, halt, syscall

MSG = b"public journal"
A, B = 0x89ABCDEF, 0x00012345


@pytest.fixture(scope="module")
def honest():
    code = [asm.li(1, DATA_BASE), asm.li(2, A), asm.li(3, B),
            asm.mulh(4, 2, 3), asm.div(6, 2, 3), asm.rem(7, 2, 3),
            asm.add(8, 4, 7),
            asm.sw(8, 1, 32), asm.lw(9, 1, 32),
            syscall(0xF0), asm.addi(13, 5, 0),                # HINT_LEN → t0, copied to x13
            syscall(0x02, 3, DATA_BASE, len(MSG)),             # journal WRITE
            halt(0)]
    chips, tables, execution = run_machine(code, inputs=[b"1234"], data=MSG + bytes(64))
    check_machine(chips, tables)
    assert tables.journal == MSG
    pk = setup(INSECURE_FAST_FOR_TESTS, chips.airs)
    return chips, tables, execution, pk


def rows(tables, op):
    cpu = tables.traces["cpu"]
    return np.flatnonzero((cpu[:, CPU.alu_op] == OPS[op]) & (cpu[:, CPU.is_real] == 1))


def chip_row(table, flag_col):
    return int(np.flatnonzero(table[:, flag_col] == 1)[0])


def forced(honest, bad):
    """Prove the forged tables without the prover's check; return the verifier's error."""
    chips, _, _, pk = honest
    proof = prove(pk, bad.in_order(chips), bad.public_values, check_constraints_first=False,
                  public_data=bad.journal).to_bytes()
    with pytest.raises(VerificationError) as err:
        verify(pk.verifying_key, proof, bad.public_values, public_data=bad.journal)
    return err.value


# --- each attack: the edit, and what the debug check names ------------------------------------


def wrong_alu_result(t):
    t.traces["cpu"][rows(t, "add")[-1], CPU.c[1]] ^= 1


def wrong_mulh_high_word(t):  # forged in the CPU row and the MUL chip row alike
    t.traces["cpu"][rows(t, "mulh")[0], CPU.c[0]] ^= 1
    mul = t.traces["alu mul"]
    mul[chip_row(mul, MUL.is_mulh), MUL.c[0]] ^= 1


def wrong_div_remainder(t):  # rem forged consistently in the CPU and the divrem chip
    t.traces["cpu"][rows(t, "rem")[0], CPU.c[0]] ^= 2
    dr = t.traces["alu divrem"]
    r = chip_row(dr, DIVREM.is_rem)
    dr[r, DIVREM.c[0]] ^= 2
    dr[r, DIVREM.r[0]] ^= 2


def stale_load(t):  # the load after the store returns the word as it was before the store
    cpu, ls = t.traces["cpu"], t.traces["load/store"]
    row = rows(t, "lw")[-1]
    for c in (CPU.mem_prev[0], CPU.mem_new[0], CPU.c[0]):
        cpu[row, c] ^= 1
    lw = np.flatnonzero(ls[:, MEMOP.is_lw] == 1)[-1]
    for c in (MEMOP.m[0], MEMOP.n[0], MEMOP.c[0]):
        ls[lw, c] ^= 1


def store_never_happened(t):  # the SW row leaves memory unchanged, the load still reads the value
    cpu, ls = t.traces["cpu"], t.traces["load/store"]
    row = rows(t, "sw")[0]
    cpu[row, CPU.mem_new] = cpu[row, CPU.mem_prev]
    sw = chip_row(ls, MEMOP.is_sw)
    ls[sw, MEMOP.n] = ls[sw, MEMOP.m]


def skipped_instruction(t):  # drop the ADD row and shift the rest up
    cpu = t.traces["cpu"]
    r = rows(t, "add")[-1]
    cpu[r:-1] = cpu[r + 1:].copy()
    cpu[-1] = 0


def repeated_instruction(t):  # run the ADD row twice
    cpu = t.traces["cpu"]
    r = rows(t, "add")[-1]
    cpu[r + 1:] = cpu[r:-1].copy()


def pc_jump_not_computed(t):  # the row after the MULH claims to be one instruction further
    cpu = t.traces["cpu"]
    r = rows(t, "mulh")[0]
    cpu[r, CPU.next_pc] += 4


def changed_instruction_word(t):
    t.traces["cpu"][rows(t, "add")[-1], CPU.alu_op] = OPS["sub"]


def changed_journal_byte(t):
    t.journal = t.journal[:3] + bytes([t.journal[3] ^ 1]) + t.journal[4:]


def changed_exit_code(t):
    t.public_values[0] ^= 1


def changed_cycles(t):
    t.public_values[PV_CYCLES] += 1


def changed_hint_len_reply(t):  # the syscall chip answers another (byte-valued) length than the CPU got
    t.traces["syscall"][0, SYS.c[0]] ^= 1


ATTACKS = {
    "wrong ALU result": (wrong_alu_result, r"bus .*'alu'"),
    "wrong MULH high word": (wrong_mulh_high_word, r"alu mul"),
    "wrong DIV remainder": (wrong_div_remainder, r"alu divrem|bus .*'alu'"),
    "stale load": (stale_load, r"bus .*'memory'"),
    "store never happened": (store_never_happened, r"SW"),
    "skipped instruction": (skipped_instruction, r"clk' = clk \+ 1|pc' = next_pc"),
    "repeated instruction": (repeated_instruction, r"clk' = clk \+ 1|pc' = next_pc"),
    "pc jump not computed": (pc_jump_not_computed, r"next_pc"),
    "changed instruction word": (changed_instruction_word, r"bus .*'program'"),
    "changed journal byte": (changed_journal_byte, r"bus .*'journal'"),
    "changed exit code": (changed_exit_code, r"HALT: exit code = a0"),
    "changed cycles": (changed_cycles, r"HALT: cycles = clk \+ 1"),
    "changed HINT_LEN reply": (changed_hint_len_reply, r"bus .*'syscall'"),
}

#: the subset also attacked through a forced proof (each costs one proof)
FORCED = ["wrong ALU result", "wrong MULH high word", "wrong DIV remainder", "stale load", "store never happened",
          "repeated instruction", "changed instruction word", "changed journal byte", "changed cycles",
          "changed HINT_LEN reply"]


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_debug_check_names_the_attack(honest, attack):
    chips, tables, _, _ = honest
    edit, match = ATTACKS[attack]
    with pytest.raises(ConstraintNotSatisfied, match=match):
        check_machine(chips, forged(tables, edit))


def test_honest_proof_with_journal_verifies(honest):
    chips, tables, _, pk = honest
    proof = prove(pk, tables.in_order(chips), tables.public_values, public_data=tables.journal).to_bytes()
    verify(pk.verifying_key, proof, tables.public_values, public_data=tables.journal)
    with pytest.raises(VerificationError):  # the same proof, another journal
        verify(pk.verifying_key, proof, tables.public_values, public_data=MSG[:3] + b"X" + MSG[4:])
    with pytest.raises(VerificationError):  # or a journal one byte short
        verify(pk.verifying_key, proof, tables.public_values, public_data=MSG[:-1])


@pytest.mark.parametrize("attack", FORCED)
def test_forced_proof_is_rejected(honest, attack):
    _, tables, _, _ = honest
    edit, _ = ATTACKS[attack]
    forced(honest, forged(tables, edit))
