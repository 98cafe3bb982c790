"""Attacks on how an ecall reaches the chip that proves it (issue 16 §6): an ecall code no chip
proves, and a syscall routed to a precompile chip that is not there.

The syscall chip receives every non-HALT ecall on the ``syscall`` bus with the code's bytes
built from its kind flags (each kind's code as a constant) or, for a precompile, from free
bytes pc0..3 that it must send on the ``precompile`` bus — where only a precompile chip
receives, with its own code as constants. So a code outside the table has two ways in, and
each is closed: as a kind its bytes cannot match (the flags are one-hot and give only the
kinds' codes), and as a "precompile" nobody answers it. The honest run here makes a HINT_LEN
call (code 0xF0, a kind) and a WRITE to stdout (code 0x02); the forgeries relabel a row."""

from __future__ import annotations

import pytest

from pyzkvm.machine.syscall import CODES, KINDS, PRECOMPILE_CODES, SYS
from tests.machine.machine_helpers import forged, run_machine, unbalanced_buses
from tests.rvasm import halt, syscall

BUSES = ("syscall", "precompile")


@pytest.fixture(scope="module")
def honest():
    code = [syscall(0xF0), syscall(0x02, 1, 0, 0), halt(0)]  # HINT_LEN; WRITE(fd 1, len 0)
    chips, tables, _ = run_machine(code, inputs=[b"abcd"])
    assert unbalanced_buses(chips, tables, ("cpu",), BUSES) == set()
    return chips, tables


def _relabel_as_precompile(row: int, code: int):
    """The syscall row claims to be a precompile with code bytes ``code`` (its kind flag off)."""
    def edit(t):
        s = t.traces["syscall"]
        for k in KINDS:
            s[row, getattr(SYS, f"is_{k}")] = 0
        for f in (1, 2, 3, 13):
            s[row, getattr(SYS, f"fd{f}")] = 0
        s[row, SYS.is_precompile] = 1
        s[row, list(SYS.pc)] = list(code.to_bytes(4, "little"))
    return edit


@pytest.mark.parametrize("row, code", [(0, 0xF0), (1, 0x02)])
def test_a_kind_relabelled_as_a_precompile_is_answered_by_no_chip(honest, row, code):
    """The CPU's code bytes still match (the syscall bus balances), but no chip receives a
    precompile call with a kind's code: the precompile bus is left with the row's send."""
    chips, tables = honest
    assert code not in PRECOMPILE_CODES and code in CODES.values()
    bad = forged(tables, _relabel_as_precompile(row, code))
    assert unbalanced_buses(chips, bad, ("cpu",), BUSES) == {"precompile"}


def test_a_code_that_is_no_kind_cannot_be_received_by_a_kind(honest):
    """t0 = 0xF0 answered as COMMIT (0x10) instead: the kind's constant gives code byte 0x10,
    the CPU sent 0xF0, so the syscall bus no longer balances (and no free byte can fix it:
    code byte 0 of a non-precompile row is Σ code·flag)."""
    chips, tables = honest

    def edit(t):
        s = t.traces["syscall"]
        s[0, SYS.is_hint_len], s[0, SYS.is_commit] = 0, 1

    assert "syscall" in unbalanced_buses(chips, forged(tables, edit), ("cpu",), BUSES)
