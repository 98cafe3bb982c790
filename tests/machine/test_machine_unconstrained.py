"""SP1 unconstrained blocks in the machine AIR (issue 16 §3).

The program stores 5 in x6 and in memory, then runs an unconstrained block that changes both to
7 and passes 7 out as a hint (WRITE to fd 4). After the block it reads the hint back (HINT_READ)
and writes x6, the memory word and the hint to the journal: [5, 5, 7]. The proved trace steps
from ENTER (t0 ← 0) to the instruction after the block; the block's effects are rolled back.

Attacks: a run whose block effects leak into the state after it (an executor whose EXIT does
not roll back registers and memory) is named by the debug check and its forced proof does not
verify; ENTER claiming t0 = 1 (the block "ran" in the proved trace) is rejected."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.errors import ConstraintNotSatisfied, VerificationError
from pyzkvm.executor import execute
from pyzkvm.executor.machine import Machine
from pyzkvm.machine import build_chips, check_machine, generate_tables
from pyzkvm.machine.cpu import CPU
from pyzkvm.machine.syscall import SYS
from pyzkvm.machine.witness import Witness
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, prove, setup, verify
from tests.machine.machine_helpers import forced_proof_rejected, forged, run_machine
from tests.rvasm import DATA_BASE, asm, flatten, halt, program, syscall

ENTER, EXIT = 0x03, 0x04
BLOCK = flatten([asm.li(6, 7), asm.sw(6, 1, 0),                 # register and memory effects
                 asm.sw(6, 1, 4), syscall(0x02, 4, DATA_BASE + 4, 4),  # the hint: 7 (4 bytes, fd 4)
                 syscall(EXIT)])
CODE = [asm.li(6, 5), asm.li(1, DATA_BASE), asm.sw(6, 1, 0),
        syscall(ENTER),
        asm.beq(5, 0, 4 * (len(BLOCK) + 1)),                   # t0 = 0: skip the block
        BLOCK,
        syscall(0xF0), syscall(0xF1, DATA_BASE + 64, 4),         # HINT_LEN, HINT_READ the hint
        asm.lw(7, 1, 64), asm.lw(8, 1, 0),
        asm.sw(6, 1, 16), asm.sw(8, 1, 20), asm.sw(7, 1, 24),
        syscall(0x02, 3, DATA_BASE + 16, 12),                   # journal: x6, memory word, hint
        halt(0)]
JOURNAL = (5).to_bytes(4, "little") * 2 + (7).to_bytes(4, "little")


@pytest.fixture(scope="module")
def honest():
    chips, tables, execution = run_machine(CODE, data=bytes(128))
    return chips, tables, execution


def test_block_is_rolled_back_and_its_hint_is_proved(honest):
    chips, tables, execution = honest
    assert execution.journal == JOURNAL
    # the block's rows are not in the trace: every pc executed lies outside it
    pcs = execution.trace.columns["pc"]
    start = 0x00201000 + 4 * len(flatten(CODE[:5]))
    assert not np.any((pcs >= start) & (pcs < start + 4 * len(BLOCK)))
    check_machine(chips, tables)
    pk = setup(INSECURE_FAST_FOR_TESTS, chips.airs)
    proof = prove(pk, tables.in_order(chips), tables.public_values, public_data=tables.public_data).to_bytes()
    verify(pk.verifying_key, proof, tables.public_values, public_data=tables.public_data)


def test_run_without_the_block_agrees(honest):
    """The oracle: the same program with the block cut out and the hint passed as input."""
    _, _, execution = honest
    plain = flatten(CODE[:3] + CODE[6:])
    plain_run = execute(program(plain, data=bytes(128)), [(7).to_bytes(4, "little")])
    assert plain_run.journal == execution.journal == JOURNAL


Machine_restore = Machine.restore


def _leaky_tables(monkeypatch):
    def leaky(self, snap):
        regs = self.regs.copy()
        kept = self.mem.copy()  # memory as the block left it
        Machine_restore(self, snap)
        self.mem[:] = kept
        self.regs[:] = regs
    monkeypatch.setattr(Machine, "restore", leaky)
    monkeypatch.setattr(Witness, "check_reads", False)  # build the tables of the inconsistent run
    prog = program(flatten(CODE), data=bytes(128))
    execution = execute(prog, capture_trace=True)
    assert execution.journal[:8] == (7).to_bytes(4, "little") * 2  # the leak shows in the journal
    chips = build_chips(prog)
    return chips, generate_tables(chips, execution)


def test_leaked_block_effects_are_rejected(monkeypatch):
    chips, bad = _leaky_tables(monkeypatch)
    with pytest.raises(ConstraintNotSatisfied, match=r"bus .*'memory'"):
        check_machine(chips, bad)
    pk = setup(INSECURE_FAST_FOR_TESTS, chips.airs)
    forced_proof_rejected(pk, chips, bad, VerificationError)


def test_enter_cannot_claim_the_block_ran(honest):
    """ENTER's t0 is 0 in the proved run: the CPU row and the syscall row both answering 1
    (so that the guest would run the block's code proved) break the syscall chip's constraint."""
    chips, tables, _ = honest

    def edit(t):
        sys, cpu = t.traces["syscall"], t.traces["cpu"]
        row = int(np.flatnonzero(sys[:, SYS.is_enter] == 1)[0])
        sys[row, SYS.c[0]] = 1
        cpu[int(np.flatnonzero(cpu[:, CPU.clk] == sys[row, SYS.clk])[0]), CPU.c[0]] = 1
    with pytest.raises(ConstraintNotSatisfied, match=r"ENTER/EXIT_UNCONSTRAINED: t0 = 0"):
        check_machine(chips, forged(tables, edit))
