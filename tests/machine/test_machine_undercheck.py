"""The under-constraint detector (pyzkvm/machine/undercheck.py) in CI: mutate honest tables of
small programs that exercise every chip and require that every mutation the full debug check
would still accept is a documented free witness — except in the chips of KNOWN_HOLES, whose
holes (issue 14 §1) the detector must keep finding until they are fixed."""

from __future__ import annotations

import pytest

from pyzkvm.machine import undercheck
from pyzkvm.machine.syscall import JOURNAL_WORDS
from tests.machine.undercheck_programs import samples

#: chips with a known, not yet fixed hole (issue 14 §1): empty this when the fixes land
KNOWN_HOLES = {
    "journal words": "padding row with is_first = 1 emits journal bytes with multiplicity fm_j − 1",
    "hint words": "bytes past len in the last hint word are free",
    "syscall": "WRITE's bound ptr + len − 1 = 4·lw + lo wraps mod p (lw = −1, lo = 2 for ptr 0x77FFFFF8, len 8)",
}


@pytest.fixture(scope="module")
def runs():
    return samples()


@pytest.fixture(scope="module")
def report(runs):
    return undercheck.scan(runs)


def test_every_chip_is_scanned(report, runs):
    assert {o.chip for o in report.outcomes} == set(runs[0].chips)
    assert len(report.outcomes) > 500


def test_no_undocumented_accepted_mutation_outside_known_holes(report):
    bad = [o for o in report.undocumented() if o.chip not in KNOWN_HOLES]
    assert not bad, report.render()


@pytest.mark.parametrize("chip", sorted(KNOWN_HOLES))
def test_the_known_holes_are_still_found(report, chip):
    """While a hole is listed, the detector must see it (when it is fixed, remove it from KNOWN_HOLES)."""
    assert any(o.chip == chip for o in report.undocumented()), f"{chip}: {KNOWN_HOLES[chip]} — not found; fixed?"


def test_a_dropped_constraint_is_found(monkeypatch):
    """Reintroduce a hole on purpose: without 'image rows are real' an inactive boundary row
    with in_image = 1 consumes an image word (it could initialise a key twice); the detector
    must report the inactive row that emits a bus entry."""
    from pyzkvm.machine.memory import BoundaryAir
    from tests.machine.undercheck_programs import honest_runs

    original = BoundaryAir.constraints

    def weakened(self, b):
        original(self, b)
        b.constraints[:] = [c for c in b.constraints if c.name != "image rows are real"]

    monkeypatch.setattr(BoundaryAir, "constraints", weakened)
    monkeypatch.setattr(undercheck, "_COMPILED", {})
    _, chips, tables = honest_runs()[1]
    report = undercheck.scan([undercheck.sample("io, weakened", chips, tables)], chips=("memory boundary",))
    found = [o for o in report.undocumented() if o.status == "rule" and "in_image" in o.mutated]
    assert found, report.render()
