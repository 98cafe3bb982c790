"""Attacks through the real proof system: each forgery is named by the debug check, and a
proof *forced* past the prover's own check (check_constraints_first=False) does not verify.

One program exercises every binding attacked: MULH, DIV/REM, a store and the load of it,
HINT_LEN, a journal WRITE and HALT. The journal is public data: a proof of the honest tables
does not verify against a journal with one byte changed.

A second program attacks the bounds of a stdout/stderr WRITE buffer (docs/machine.md §8.2):
its tables come from an executor whose WRITE buffer check is switched off, i.e. the trace of a
run the real executor faults on."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.errors import (BusImbalance, ConstraintNotSatisfied, MemoryOutOfRange, OodEvaluationMismatch,
                           StarkConfigError, VerificationError)
from pyzkvm.executor.machine import Machine
from pyzkvm.isa import OPS
from pyzkvm.machine import check_machine
from pyzkvm.machine.alu_divrem import DIVREM
from pyzkvm.machine.alu_mul import MUL
from pyzkvm.machine.cpu import CPU
from pyzkvm.machine.statement import NUM_PUBLIC_VALUES, PV_CYCLES
from pyzkvm.machine.memop import MEMOP
from pyzkvm.machine.public_data import MachinePublicData
from pyzkvm.machine.syscall import SYS, SyscallAir
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, prove, setup, verify
from tests.machine.machine_helpers import forced_proof_rejected, forged, run_machine
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


def forced(honest, bad, expected=VerificationError):
    """Prove the forged tables without the prover's check; return the verifier's error."""
    chips, _, _, pk = honest
    return forced_proof_rejected(pk, chips, bad, expected)


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
    "changed cycles": (changed_cycles, r"the last row ends at PV_CYCLES"),
    "changed HINT_LEN reply": (changed_hint_len_reply, r"bus .*'syscall'"),
}

#: the subset also attacked through a forced proof (each costs one proof)
FORCED = ["wrong ALU result", "wrong MULH high word", "wrong DIV remainder", "stale load", "store never happened",
          "skipped instruction", "repeated instruction", "pc jump not computed", "changed instruction word",
          "changed journal byte", "changed cycles", "changed HINT_LEN reply"]

#: the verifier's specific error where it is deterministic. Dropping a CPU row removes its
#: program-bus fetch and its memory-bus accesses: the verifier checks bus balance (the tables'
#: cumulative sums + the public term) before the quotient, so it is always BusImbalance. A pc
#: jump the instruction did not compute leaves every bus balanced (next_pc is only compared with
#: the next row's pc) and breaks only the constraint pc' = next_pc: the quotient then cannot
#: match the constraints at ζ.
FORCED_ERROR = {"skipped instruction": BusImbalance, "pc jump not computed": OodEvaluationMismatch}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_debug_check_names_the_attack(honest, attack):
    chips, tables, _, _ = honest
    edit, match = ATTACKS[attack]
    with pytest.raises(ConstraintNotSatisfied, match=match):
        check_machine(chips, forged(tables, edit))


def test_honest_proof_with_journal_verifies(honest):
    chips, tables, _, pk = honest
    proof = prove(pk, tables.in_order(chips), tables.public_values, public_data=tables.public_data).to_bytes()
    verify(pk.verifying_key, proof, tables.public_values, public_data=tables.public_data)
    with pytest.raises(VerificationError):  # the same proof, another journal
        verify(pk.verifying_key, proof, tables.public_values, public_data=MachinePublicData(MSG[:3] + b"X" + MSG[4:]))
    with pytest.raises(VerificationError):  # or a journal one byte short
        verify(pk.verifying_key, proof, tables.public_values, public_data=MachinePublicData(MSG[:-1]))


@pytest.mark.parametrize("attack", FORCED)
def test_forced_proof_is_rejected(honest, attack):
    _, tables, _, _ = honest
    edit, _ = ATTACKS[attack]
    forced(honest, forged(tables, edit), FORCED_ERROR.get(attack, VerificationError))


# --- optional tables (stark/optional.py): an empty one is left out, but only an unneeded one -----


def test_a_needed_divrem_table_left_out_breaks_the_alu_bus(honest):
    """alu divrem is optional: emptied, it is left out of the proof, while the CPU still sends
    its DIV and REM on the alu bus; nothing receives them, so the bus cannot balance."""
    chips, tables, _, pk = honest
    bad = forged(tables, lambda t: t.traces["alu divrem"].fill(0))
    with pytest.raises(ConstraintNotSatisfied, match="'alu' does not balance"):
        check_machine(chips, bad)
    proof = prove(pk, bad.in_order(chips), bad.public_values, check_constraints_first=False,
                  public_data=bad.public_data)
    assert proof.tables[chips.index("alu divrem")].log_height is None  # left out
    assert proof.tables[chips.index("assumption words")].log_height is None  # unused here: left out too
    with pytest.raises(BusImbalance):
        verify(pk.verifying_key, proof.to_bytes(), bad.public_values, public_data=bad.public_data)


def test_the_syscall_chip_cannot_be_optional():
    """Its first row ties the journal and hint positions to public values: an empty syscall
    table is not trivially valid, so setup refuses to let a proof leave it out."""
    class OptionalSyscallAir(SyscallAir):  # its own class: build_chips' instance is shared (Chip.for_program)
        optional = True

    syscall_air = OptionalSyscallAir()
    syscall_air.num_public_values = NUM_PUBLIC_VALUES
    with pytest.raises(StarkConfigError, match="'syscall' is marked optional, but its all-zero table breaks"):
        setup(INSECURE_FAST_FOR_TESTS, [syscall_air])


# --- WRITE to fd 1/2: the buffer must lie in guest memory, as the executor requires ----------------

OUT = b"hello"


def _io_code(fd, ptr, length):
    return [syscall(0x02, 1, DATA_BASE, len(OUT)),     # honest stdout WRITE
            syscall(0x02, 2, 0xFFFFFFF0, 0),           # empty stderr WRITE: the executor checks no pointer
            syscall(0x02, fd, ptr, length),            # the WRITE under attack
            halt(0)]


def _run_unchecked(code, monkeypatch):
    """Execute with the executor's WRITE buffer check off: the trace of a run it would fault on."""
    check = Machine.check_range

    def lenient(self, addr, length, *, align=1, what="buffer"):
        if what != "WRITE buffer":
            check(self, addr, length, align=align, what=what)
    monkeypatch.setattr(Machine, "check_range", lenient)
    return run_machine(code, data=OUT + bytes(64))


def test_stdout_and_stderr_writes_prove():
    """Completeness: in-bounds stdout WRITEs and an empty stderr WRITE with a pointer outside
    memory (the executor accepts it) prove and verify."""
    chips, tables, execution = run_machine(_io_code(1, DATA_BASE + 1, 3), data=OUT + bytes(64))
    assert execution.stdout == OUT + OUT[1:4]
    pk = setup(INSECURE_FAST_FOR_TESTS, chips.airs)
    proof = prove(pk, tables.in_order(chips), tables.public_values, public_data=tables.public_data).to_bytes()
    verify(pk.verifying_key, proof, tables.public_values, public_data=tables.public_data)


@pytest.mark.parametrize("fd, ptr, length, match", [
    (1, 0x10, 4, r"bus .*'byte'"),                            # starts below 0x20
    (2, 0x77FFFFF8, 16, r"WRITE buffer ends in memory"),      # ends past 0x78000000
])
def test_write_buffer_outside_memory_is_rejected(monkeypatch, fd, ptr, length, match):
    with pytest.raises(MemoryOutOfRange, match="outside guest memory"):  # the real executor faults
        run_machine(_io_code(fd, ptr, length), data=OUT + bytes(64))
    chips, bad, _ = _run_unchecked(_io_code(fd, ptr, length), monkeypatch)
    with pytest.raises(ConstraintNotSatisfied, match=match):
        check_machine(chips, bad)
    forced((chips, None, None, setup(INSECURE_FAST_FOR_TESTS, chips.airs)), bad)
