"""docs/machine.md "Adding a chip", done with a toy chip: one module-level class and one
registration line (tables.CHIPS, patched here for the test only). The byte-table multiplicities
take in the toy chip's lookups with no other edit, and the debug check catches a toy chip whose
witness is wrong."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.errors import ConstraintNotSatisfied
from pyzkvm.executor import execute
from pyzkvm.machine import build_chips, check_machine, generate_tables, tables
from pyzkvm.machine import buses
from pyzkvm.machine.bytes_table import BYTES
from pyzkvm.machine.chip import Chip
from pyzkvm.machine.layout import Layout
from pyzkvm.machine.program_table import pad_height
from tests.rvasm import asm, flatten, halt, program

# ---- the toy chip, as the docs write it ----------------------------------------------------------
CLOCK_BYTES = Layout("active value lo hi")


class ClockBytesAir(Chip):
    """Toy: one row per cycle; value = the cycle's clk mod 2^16 = lo + 256·hi, lo and hi bytes."""

    name = "clock bytes"
    width = CLOCK_BYTES.width

    def constraints(self, b):
        m = lambda name: b.main(getattr(CLOCK_BYTES, name))  # noqa: E731
        active = b.declare_active(m("active"))
        b.assert_bool(active, "active is boolean")
        b.assert_zero(active * (m("value") - m("lo") - 256 * m("hi")), "value = lo + 256·hi")
        b.send(buses.BYTE, [buses.TAG_RANGE, m("lo"), m("hi"), 0, 0], active)  # lo, hi are bytes

    def generate(self, w):
        clk = w.execution.trace.columns["clk"].astype(np.int64)  # the execution's events
        n = len(clk)
        t = np.zeros((pad_height(n), CLOCK_BYTES.width), dtype=np.int64)
        value = clk & 0xFFFF
        t[:n, CLOCK_BYTES.active], t[:n, CLOCK_BYTES.value] = 1, value
        t[:n, CLOCK_BYTES.lo], t[:n, CLOCK_BYTES.hi] = self.split(value)
        return t

    @staticmethod
    def split(value):
        return value & 0xFF, value >> 8


class NotAByteSplit(ClockBytesAir):
    """A wrong witness that still meets value = lo + 256·hi: on the row of clk 0x100, lo = 256."""

    @staticmethod
    def split(value):
        lo, hi = value & 0xFF, value >> 8
        bad = value == 0x100
        return np.where(bad, 256, lo), np.where(bad, 0, hi)


class WrongValue(ClockBytesAir):
    """A wrong witness that breaks the toy chip's own constraint: hi one too big on row 3."""

    @staticmethod
    def split(value):
        return value & 0xFF, (value >> 8) + (np.arange(len(value)) == 3)


# ---- the test ------------------------------------------------------------------------------------
CODE = [asm.li(1, 0)] + [asm.addi(1, 1, 1)] * 300 + [halt(0)]  # > 256 cycles: clk reaches 0x100


@pytest.fixture(scope="module")
def execution_and_program():
    prog = program(flatten(CODE))
    return prog, execute(prog, [], capture_trace=True)


def _tables(monkeypatch, prog, execution, chip=None):
    """Build the machine's tables with ``chip`` registered: one line added to tables.CHIPS."""
    if chip is not None:
        monkeypatch.setattr(tables, "CHIPS", [*tables.CHIPS, chip])
    chips = build_chips(prog)
    return chips, generate_tables(chips, execution)


def test_a_registered_chip_is_proved_and_its_byte_lookups_are_counted(monkeypatch, execution_and_program):
    prog, execution = execution_and_program
    _, without = _tables(monkeypatch, prog, execution)
    chips, with_toy = _tables(monkeypatch, prog, execution, ClockBytesAir)
    assert chips.airs[-1].name == "clock bytes"
    check_machine(chips, with_toy)  # constraints and every bus, the byte bus with the toy's lookups
    # the byte table's range column grew by exactly the toy chip's lookups (lo, hi) = row 256·lo + hi
    clk = execution.trace.columns["clk"].astype(np.int64) & 0xFFFF
    expected = np.bincount(((clk & 0xFF) << 8) | (clk >> 8), minlength=1 << 16)
    grown = with_toy.traces["bytes"][:, BYTES.m_range].astype(np.int64) - without.traces["bytes"][:, BYTES.m_range]
    assert np.array_equal(grown, expected)
    others = [n for n in without.traces if n != "bytes"]
    assert all(np.array_equal(without.traces[n], with_toy.traces[n]) for n in others)


def test_a_lookup_that_is_not_a_byte_is_caught_by_the_byte_bus(monkeypatch, execution_and_program):
    chips, t = _tables(monkeypatch, *execution_and_program, NotAByteSplit)
    with pytest.raises(ConstraintNotSatisfied, match="bus 'byte' does not balance"):
        check_machine(chips, t)


def test_a_broken_constraint_of_the_new_chip_is_named(monkeypatch, execution_and_program):
    chips, t = _tables(monkeypatch, *execution_and_program, WrongValue)
    with pytest.raises(ConstraintNotSatisfied, match=r"clock bytes.*value = lo \+ 256·hi"):
        check_machine(chips, t)
