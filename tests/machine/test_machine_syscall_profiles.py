"""Attacks on the split of the syscall chips by ABI profile: the SP1 kinds in ``syscall``
(syscall.py, receives profile 0), the RISC Zero kinds in ``syscall risc0`` (syscall_risc0.py,
receives profile 1, optional).

The CPU sends every ecall on the ``syscall`` bus with the profile its program table gives
(= PV_PROFILE, cpu.py); each chip receives with its profile as a constant. So an ecall answered
by the other profile's chip, or a profile that is neither 0 nor 1, leaves the bus unbalanced;
a RISC Zero proof that drops its (optional) chip leaves the CPU's sends unanswered; and the SP1
chip, which ties the journal and assumption counters to the statement, is never left out."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.errors import BusImbalance, ConstraintNotSatisfied
from pyzkvm.machine import check_machine
from pyzkvm.machine.cpu import CPU
from pyzkvm.machine.statement import PV_ASSUMPTIONS, PV_JOURNAL_LEN, PV_PROFILE
from pyzkvm.machine.syscall import CODES, SYS, SyscallAir
from pyzkvm.machine.syscall_risc0 import R0_CODES, R0SYS, SyscallRisc0Air
from pyzkvm.stark.optional import presence
from tests.machine.machine_helpers import forced_proof_rejected, forged, run_machine, unbalanced_buses
from tests.machine.test_machine_risc0 import honest  # noqa: F401  (the RISC Zero run's fixture)
from tests.rvasm import halt, syscall

BUSES = ("syscall",)
BOTH = ("cpu", "syscall risc0")  # with "syscall" (unbalanced_buses adds it)


@pytest.fixture(scope="module")
def sp1():
    code = [syscall(0xF0), syscall(0x02, 1, 0, 0), halt(0)]  # HINT_LEN; WRITE(fd 1, len 0)
    chips, tables, _ = run_machine(code, inputs=[b"abcd"])
    assert unbalanced_buses(chips, tables, BOTH, BUSES) == set()
    return chips, tables


def _move_row(src: str, dst: str, src_flag: int, dst_flag: int, dst_layout, src_layout):
    """Zero the ``src`` chip's row with ``src_flag`` set and give ``dst``'s first free row the same
    clk and a0 with ``dst_flag`` set: the ecall answered by the other profile's chip."""
    def edit(t):
        s, d = t.traces[src], t.traces[dst]
        row = int(np.flatnonzero(s[:, src_flag] == 1)[0])
        free = int(np.flatnonzero(~d.any(axis=1))[0])
        d[free, dst_flag], d[free, dst_layout.clk] = 1, s[row, src_layout.clk]
        d[free, list(dst_layout.b)] = s[row, list(src_layout.b)]
        s[row] = 0
    return edit


def test_an_sp1_ecall_cannot_be_answered_by_the_risc0_chip(sp1):
    """WRITE (t0 = 2) relabelled as RISC Zero SOFTWARE (t0 = 2 too): same clk, code and a0, but
    the RISC Zero chip receives profile 1 and the CPU sent 0."""
    chips, tables = sp1
    assert CODES["write"] == R0_CODES["software"]
    bad = forged(tables, _move_row("syscall", "syscall risc0", SYS.is_write, R0SYS.is_software, R0SYS, SYS))
    assert unbalanced_buses(chips, bad, BOTH, BUSES) == {"syscall"}


def test_a_risc0_ecall_cannot_be_answered_by_the_sp1_chip(honest):  # noqa: F811
    """RISC Zero SOFTWARE (t0 = 2) relabelled as SP1 WRITE: the SP1 chip receives profile 0."""
    chips, tables, _, _ = honest
    bad = forged(tables, _move_row("syscall risc0", "syscall", R0SYS.is_software, SYS.is_write, SYS, R0SYS))
    assert unbalanced_buses(chips, bad, BOTH, BUSES) == {"syscall"}


def test_a_profile_neither_0_nor_1_is_received_by_no_chip(sp1):
    """Ecall rows sent with profile 2 (their program-table alu_op and PV_PROFILE both 2, as a
    forged program would): the CPU's constraint holds, but no syscall chip receives profile 2."""
    chips, tables = sp1

    def edit(t):
        cpu = t.traces["cpu"]
        cpu[cpu[:, CPU.f_ecall] == 1, CPU.alu_op] = 2
        t.public_values[PV_PROFILE] = 2
    assert unbalanced_buses(chips, forged(tables, edit), BOTH, BUSES) == {"syscall"}


def test_the_risc0_chip_is_left_out_of_sp1_proofs_only(sp1, honest):  # noqa: F811
    """The RISC Zero chip is optional (setup checks the claim), the SP1 chip is not: its first
    row ties jpos / apos to the statement's START and END values, which an all-zero table
    (jpos = 0) would not do for every statement (test_machine_forced_proofs.py: setup refuses
    the flag on it)."""
    from pyzkvm.machine.evaluate import compiled_air

    assert SyscallRisc0Air.optional and not getattr(SyscallAir, "optional", False)
    for (chips, tables), r0_in in ((sp1, False), (honest[:2], True)):
        airs = [compiled_air(a) for a in chips.airs]
        present = dict(zip([a.name for a in chips.airs], presence(airs, tables.in_order(chips))))
        assert (present["syscall"], present["syscall risc0"]) == (True, r0_in)


@pytest.mark.parametrize("slot", [PV_JOURNAL_LEN, PV_ASSUMPTIONS])
def test_a_risc0_statement_cannot_claim_sp1_counters(honest, slot):  # noqa: F811
    """A RISC Zero run has no SP1 syscall row, yet the SP1 chip (always in the proof) still
    carries the journal and assumption counters from 0 to the run's totals, which must be 0."""
    chips, tables, _, _ = honest
    with pytest.raises(ConstraintNotSatisfied, match="leaves (jpos|apos) at the run's total"):
        check_machine(chips, forged(tables, lambda t: t.public_values.__setitem__(slot, 4)))


def test_a_risc0_proof_without_its_syscall_chip_is_rejected(honest):  # noqa: F811
    """The prover leaves the RISC Zero chip out (an all-zero table): the CPU's profile-1 ecalls
    are then received by nobody, and the verifier's LogUp sum is not 0."""
    chips, tables, _, pk = honest

    def edit(t):
        t.traces["syscall risc0"][:] = 0
    forced_proof_rejected(pk, chips, forged(tables, edit), BusImbalance)
