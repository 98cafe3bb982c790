"""The activity rule (stark/air.py, docs/stark.md "Padding rows"): every AIR with bus
interactions declares its activity selector, and compile_air refuses a multiplicity that does
not vanish, as a polynomial, where the selector is 0."""

from __future__ import annotations

import pytest

from pyzkvm.errors import StarkConfigError
from pyzkvm.machine import build_chips
from pyzkvm.program import Program
from pyzkvm.stark.air import Air, AirBuilder, compile_air


def air(body, width=4):
    """An AIR whose constraints are ``body(b, columns)``."""

    class Toy(Air):
        name = "toy"

        def constraints(self, b):
            body(b, b.main_row())

    Toy.width = width
    return Toy()


def _flag_chip(b, c):
    active, first, e, v = c
    b.assert_bool(active, "active is boolean")
    b.assert_bool(first, "first is boolean")
    b.declare_active(active)
    return active, first, e, v


def test_bus_interactions_need_an_activity_selector():
    with pytest.raises(StarkConfigError, match="no activity selector"):
        compile_air(air(lambda b, c: b.send("bus", [c[0]], c[1])))


@pytest.mark.parametrize("multiplicity", [
    lambda active, first, e, b: e,                      # a helper column: "its own constraint makes it 0"
    lambda active, first, e, b: active - first,         # the old journal-word u_j on a padding row with first = 1
    lambda active, first, e, b: b.main_next(0),         # the next row's selector, not this row's
    lambda active, first, e, b: b.is_first_row,         # a row selector
    lambda active, first, e, b: active * e + first,     # a multiple of active plus a leak
])
def test_multiplicities_that_survive_an_inactive_row_are_refused(multiplicity):
    def body(b, c):
        active, first, e, v = _flag_chip(b, c)
        b.send("journal", [v], multiplicity(active, first, e, b))
    with pytest.raises(StarkConfigError, match="does not vanish where the activity selector is 0"):
        compile_air(air(body))


@pytest.mark.parametrize("multiplicity", [
    lambda active, first, e, b: active,
    lambda active, first, e, b: active * e,                      # the journal-word send after the fix
    lambda active, first, e, b: active * b.main_next(0),         # this row and the next are real
    lambda active, first, e, b: active * (1 - first) * b.is_first_row,
    lambda active, first, e, b: 3 * active - active * e * e,
])
def test_multiples_of_the_selector_are_accepted(multiplicity):
    def body(b, c):
        active, first, e, v = _flag_chip(b, c)
        b.send("journal", [v], multiplicity(active, first, e, b))
    compile_air(air(body))


def test_a_sum_of_flags_as_selector_zeroes_every_flag():
    def body(b, c):
        f, g, h, v = c
        for x, n in ((f, "f"), (g, "g"), (h, "h")):
            b.assert_bool(x, f"{n} is boolean")
        b.declare_active(f + g + h)
        b.send("bus", [v], f)
        b.send("bus", [v], 2 * g + 5 * h)
    compile_air(air(body))


@pytest.mark.parametrize("selector, match", [
    (lambda b, c: c[0], "not asserted boolean"),                 # no assert_bool
    (lambda b, c: c[1] * c[2], "must be a column or a sum of columns"),
    (lambda b, c: b.main_next(1), "must be a column or a sum of columns"),
    (lambda b, c: b.const(2), "constant activity selector must be 1"),
])
def test_selector_shape_is_checked(selector, match):
    def body(b, c):
        b.assert_bool(c[1], "c1 is boolean")
        b.assert_bool(c[2], "c2 is boolean")
        b.declare_active(selector(b, c))
        b.send("bus", [c[3]], c[1])
    with pytest.raises(StarkConfigError, match=match):
        compile_air(air(body))


def test_selector_is_declared_once_and_before_implications():
    def twice(b, c):
        b.assert_bool(c[0], "c0")
        b.declare_active(c[0])
        b.declare_active(c[0])
    with pytest.raises(StarkConfigError, match="twice"):
        compile_air(air(twice))
    with pytest.raises(StarkConfigError, match="declare_active before"):
        compile_air(air(lambda b, c: b.assert_implies_active(c[1], "flag ⇒ active")))


def test_every_machine_chip_declares_a_selector_built_from_columns():
    """Only the fixed byte table (every row a real entry) may declare the constant 1."""
    chips = build_chips(Program.from_elf("guests/bin/fibonacci.elf"))
    for a in chips.airs:
        b = AirBuilder(a)
        a.constraints(b)
        assert b.active is not None, a.name
        if a.name == "bytes":
            assert b.active.op == "const" and b.active.args == 1
        else:
            assert b.active.op != "const", a.name
        compile_air(a)  # the rule holds for every chip


def test_a_boundary_entry_is_placed_by_its_row_selector_and_public_values():
    """send_on_row / receive_on_row (a segment's entry and exit state): one entry on the first or
    last row, whatever that row holds, so the activity rule does not apply — and only because the
    statement decides whether it is there: its multiplicity may read public values and constants."""

    class Chained(Air):
        name = "chained"
        width = 4
        num_public_values = 1

        def constraints(self, b):
            active, first, e, v = _flag_chip(b, b.main_row())
            b.send_on_row("last", "chain", [v], 1 - b.public(0))
            b.receive_on_row("first", "chain", [v])

    compiled = compile_air(Chained())
    rows = [it.row for it in compiled.interactions]
    assert rows == ["last", "first"]


@pytest.mark.parametrize("multiplicity", [
    lambda b, c: c[2],                 # a column: the witness would choose how often
    lambda b, c: b.main_next(0),
    lambda b, c: b.public(0) * c[1],
    lambda b, c: b.is_transition,      # (its row's selector is the only one it may have)
])
def test_a_boundary_entry_whose_multiplicity_reads_the_witness_is_refused(multiplicity):
    class Chained(Air):
        name = "chained"
        width = 4
        num_public_values = 1

        def constraints(self, b):
            _flag_chip(b, b.main_row())
            b.send_on_row("first", "chain", [b.main(3)], multiplicity(b, b.main_row()))

    with pytest.raises(StarkConfigError, match="multiplicity may read public values and constants only"):
        compile_air(Chained())


def test_a_boundary_entry_sits_on_the_first_or_last_row():
    def body(b, c):
        _flag_chip(b, c)
        b.send_on_row("middle", "chain", [c[3]])
    with pytest.raises(StarkConfigError, match="'first' or 'last' row"):
        compile_air(air(body))
