"""The under-constraint detector (pyzkvm/machine/undercheck.py) in CI: mutate honest tables of
small programs that exercise every chip and require that every mutation the full debug check
would still accept is a documented free witness; and that the holes of issue 14 §1, reopened on
purpose by dropping the constraints that closed them, are found."""

from __future__ import annotations

import pytest

from pyzkvm.machine import undercheck
from tests.machine.undercheck_programs import samples

#: the whole scan takes ~50 s: its tests run in CI's second step (pytest -m slow)
slow = pytest.mark.slow


@pytest.fixture(scope="module")
def runs():
    return samples()


@pytest.fixture(scope="module")
def report(runs):
    return undercheck.scan(runs)


@slow
def test_every_chip_is_scanned(report, runs):
    assert {o.chip for o in report.outcomes} == set(runs[0].chips) - set(undercheck.NOT_SCANNED_BY_DEFAULT)
    assert len(report.outcomes) > 500


@slow
def test_no_undocumented_accepted_mutation(report):
    assert not report.undocumented(), report.render()


@slow
@pytest.mark.parametrize("air, dropped, chip", [
    # hole 2 of issue 14: without the pad-byte constraints a hint's padding bytes are free
    ("HintWordsAir", "HINT_READ pad byte", "hint words"),
    # hole 3: without the span check, ptr + len − 1 = 4·lw + lo has a solution modulo p
    ("SyscallAir", "WRITE: last word − first word = span", "syscall"),
])
def test_a_dropped_constraint_is_found(monkeypatch, air, dropped, chip):
    """Reintroduce a hole on purpose (drop the constraints that closed it): the detector must
    report an accepted mutation that no free witness explains."""
    from pyzkvm.machine import syscall
    from tests.machine.undercheck_programs import honest_runs

    cls = getattr(syscall, air)
    original = cls.constraints

    def weakened(self, b):
        original(self, b)
        b.constraints[:] = [c for c in b.constraints if not c.name.startswith(dropped)]

    monkeypatch.setattr(cls, "constraints", weakened)
    _, chips, tables = honest_runs()[1]
    report = undercheck.scan([undercheck.sample("io, weakened", chips, tables)], chips=(chip,))
    assert report.undocumented(), report.render()


@slow
@pytest.mark.parametrize("run, chips", [
    ("unconstrained", ("syscall",)),
    ("risc0", ("syscall risc0", "hint words", "assumption words")),
])
def test_unconstrained_and_risc0_rows_are_scanned(run, chips):
    """The scan above mutates each chip in the run where it has the most rows, which is not
    where the ENTER/EXIT and RISC Zero kinds are: scan those runs' rows on their own (issue 16)."""
    from tests.machine.undercheck_programs import honest_runs

    (name, c, tables), = [r for r in honest_runs() if r[0] == run]
    report = undercheck.scan([undercheck.sample(name, c, tables)], chips=chips)
    assert not report.undocumented(), report.render()


@pytest.fixture(scope="module")
def segments():
    """A run cut into two segments (undercheck_programs.segmented_run: journal writes,
    VERIFY_SP1_PROOF and a hint on both sides of the cut), whose buses balance together."""
    from tests.machine.undercheck_programs import segmented_run

    return undercheck.segment_samples(*segmented_run(2, check=True))


@pytest.fixture(scope="module")
def segment_report(segments):
    """Every chip scanned in both segments, each mutation's bus delta cancelled against the two
    segments' tables together."""
    return undercheck.scan(segments)


@slow
def test_a_run_cut_into_two_segments_has_no_undocumented_accepted_mutation(segment_report):
    assert {o.chip for o in segment_report.outcomes} >= {"cpu", "syscall", "journal words", "assumption words"}
    assert not segment_report.undocumented(), segment_report.render()


@slow
def test_the_segment_boundary_rows_are_mutated(segments, segment_report):
    """The rows the segment buses' boundary entries sit on — the CPU's and the syscall chip's first
    and last rows, in both segments — are mutated in the cells those entries send (segment pc:
    clk, pc, next_pc; segment counts: jpos, apos). Each table starts on an executed row and ends
    on a padding row: segment 0's last rows receive the pc and send the counts segment 1's
    first rows send and receive."""
    mutated = {(o.sample, o.chip, o.row, o.kind, column) for o in segment_report.outcomes for column in o.mutated}
    for s in segments:
        cpu, sys_ = (s.chips[chip].n - 1 for chip in ("cpu", "syscall"))
        for chip, row, kind, columns in (("cpu", 0, "active", ("clk", "pc")), ("cpu", cpu, "padding", ("clk", "next_pc")),
                                         ("syscall", 0, "active", ("jpos", "apos")),
                                         ("syscall", sys_, "padding", ("jpos", "apos"))):
            assert {(s.name, chip, row, kind, c) for c in columns} <= mutated


@slow
def test_a_dropped_segment_count_constraint_is_found_across_segments(monkeypatch):
    """Without the syscall chip's ``apos' = apos + step`` the padding no longer keeps the
    assumption count down to the last row, which sends it on the segment counts bus: segment 0's
    last (padding) row may send another count if segment 1's first row receives it. The scan
    finds that group — one row in each segment, balanced only by the two segments' buses together
    (a boundary entry on a padding row is no "inactive row" free witness). (The CPU's padding
    constraints on clk and next_pc are out of this model's reach: a next segment that starts
    elsewhere must be re-executed — many rows — and tests/test_stark_segments.py attacks them.)"""
    from pyzkvm.machine import syscall
    from tests.machine.undercheck_programs import segmented_run

    original = syscall.SyscallAir.constraints

    def weakened(self, b):
        original(self, b)
        b.constraints[:] = [c for c in b.constraints if c.name != "apos' = apos + step"]

    monkeypatch.setattr(syscall.SyscallAir, "constraints", weakened)
    samples = undercheck.segment_samples(*segmented_run(2))
    report = undercheck.scan(samples, chips=("syscall",))
    groups = [{(chip, row, column) for chip, row, column, _old, _new in o.changes} for o in report.undocumented()]
    last = samples[0].chips["syscall"].n - 1
    assert {("syscall #0", last, "apos"), ("syscall #1", 0, "apos")} in groups, report.render()


@pytest.fixture(scope="module")
def field_sample():
    from tests.machine.undercheck_programs import field_run

    return undercheck.sample(*field_run())


@pytest.mark.parametrize("columns", [pytest.param(3, id="3 columns"), pytest.param(12, id="12 columns", marks=slow)])
def test_field_chips_sample_is_clean(field_sample, columns):
    """The field/curve chips (issue 16 §6): a secp256k1 DOUBLE and a BN254 FP_SUB call (an
    unreduced x: its reducing MUL row, then the SUB), each chip's first and last active row and
    first padding row, ``columns`` random columns a row, x + 1, repaired and bus-cancelled:
    every accepted mutation must be documented. The default suite samples 3 columns a row (a
    second or so a mutation); slow, 12 (CI_COLUMN_SAMPLE); bench/underconstraint_fields.py
    scans every column of every field chip."""
    from tests.machine.undercheck_programs import FIELD_CHIPS

    report = undercheck.scan([field_sample], chips=FIELD_CHIPS, sample=columns)
    assert {o.chip for o in report.outcomes} == set(FIELD_CHIPS)
    assert {o.kind for o in report.outcomes} == {"active", "padding"}
    assert len(report.outcomes) == 2 * 3 * columns
    assert not report.undocumented(), report.render()


def test_the_scan_reads_expressions_when_the_prover_key_is_stored(tmp_path):
    """With a warm memo a chip's compiled AIR is the stored prover key's view (tapes, no
    expression DAG: machine/prover_key.py); the detector walks expressions, and crashed on it
    (bench/underconstraint*.py outside the tests, whose memo is off). It compiles them itself.
    In a process of its own: a memo-on prove leaves stored views in the shared chips' caches."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from pyzkvm import memo

    script = """
from pyzkvm.backends import get_backend
from pyzkvm.backends.stark import build_statements
from pyzkvm.machine import undercheck
from pyzkvm.machine.evaluate import compiled_air
from pyzkvm.program import Program
fib = Program.from_elf("guests/bin/fibonacci.elf")
get_backend("stark").prove(fib, [(5).to_bytes(4, "little")], preset="insecure_fast_for_tests")  # stores the key
run = build_statements(fib, [(5).to_bytes(4, "little")])
traces, public = run.statements[0]
k = next(k for k, a in enumerate(run.chips.airs) if a.name == "cpu")
air = run.chips.airs[k]
air.__dict__.pop("_compiled_for", None)  # as a fresh process would: the stored view, not a DAG built here
assert not hasattr(compiled_air(air).constraints[0].expr, "op")  # the stored view
table = undercheck.chip_table(air, traces[k], public)
assert table.deps and hasattr(table.compiled.constraints[0].expr, "op")
# a chip without constraints (the byte table): its bus multiplicities say it is the stored view
k = next(k for k, a in enumerate(run.chips.airs) if a.name == "bytes")
air = run.chips.airs[k]
air.__dict__.pop("_compiled_for", None)
assert not compiled_air(air).constraints and not hasattr(compiled_air(air).interactions[0].multiplicity, "op")
table = undercheck.chip_table(air, traces[k], public)
assert all(hasattr(it.multiplicity, "op") for it in table.compiled.interactions)
print("expressions walked")
"""
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != memo.NO_MEMO_ENV}
    env[memo.MEMO_DIR_ENV] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and "expressions walked" in out.stdout, out.stderr[-2000:]


def test_a_partner_row_switched_off_is_not_judged_an_inactive_row():
    """The judge documents "a cell of an inactive row" only for a row inactive before the group's
    edits too: an ALU add/sub row switched off by the cancellation step (is_add 1 → 0: a real
    operation's three bus entries gone) was passed as documented when the group's primary row
    was elsewhere (a red-team review of the judge, session 26)."""
    import numpy as np

    s = samples()[0]  # alu+mem
    alu = s.chips["alu add/sub"]
    r = int(np.flatnonzero(alu.trace[:, alu.names.index("is_add")] == 1)[0])
    log: list = []
    undercheck._set(alu, r, alu.names.index("is_add"), 0, log)
    try:
        assert alu.activity(r) == 0 and not alu.entries([r])[0]
        assert undercheck._judge(s, undercheck._changes(log), {("cpu", 0): True}, False, ("cpu", 0)) is None
    finally:
        undercheck._undo(log)


def test_a_hint_calls_words_exchanged_among_its_addresses_are_documented_and_prove_the_same_claim():
    """The deep scan's risc0 sample: a SOFTWARE call's two hint words exchange their keys (is_last,
    inv and the boundary's final values follow). The debug check accepts it and a forced proof
    verifies with the honest public values: it is the honest tables of the host answering the two
    words in the other order, a free hint. The judge documents exactly that group (HINT_WORDS_
    REORDERED), and not a key moved to an address outside the call."""
    import copy

    import numpy as np

    from pyzkvm.machine import check_machine
    from pyzkvm.machine.memory import BOUNDARY as B
    from pyzkvm.machine.syscall import HINT_WORDS as H
    from pyzkvm.stark.field import P
    from tests.machine.undercheck_programs import _risc0_program, _run

    name, chips, tables = _run("risc0", _risc0_program(), [b"abcdefgh"])
    bad = copy.deepcopy(tables)
    hw, bd = bad.traces["hint words"], bad.traces["memory boundary"]
    k0, k1 = int(hw[0, H.key]), int(hw[1, H.key])
    assert k1 == k0 + 1 and hw[1, H.is_last] == 1 and hw[0, H.clk] == hw[1, H.clk]
    hw[0, H.key], hw[1, H.key], hw[0, H.is_last], hw[1, H.is_last] = k1, k0, 1, 0
    hw[0, H.inv], hw[1, H.inv] = 0, P - 1
    b0, b1 = (int(np.flatnonzero(bd[:, B.key] == k)[0]) for k in (k0, k1))
    bd[[b0, b1], B.final[0]:B.final[-1] + 1] = bd[[b1, b0], B.final[0]:B.final[-1] + 1]
    check_machine(chips, bad)  # accepted: another answer of the same free hint
    assert np.array_equal(np.asarray(bad.public_values), np.asarray(tables.public_values))

    s = undercheck.sample(name, chips, tables)
    t = s.chips["hint words"]
    log: list = []
    for r, k in ((0, k1), (1, k0)):
        undercheck._set(t, r, t.names.index("key"), k, log)
    undercheck._set(t, 0, t.names.index("is_last"), 1, log)
    try:
        assert undercheck._judge(s, undercheck._changes(log), {}, False, None) == undercheck.HINT_WORDS_REORDERED
        undercheck._set(t, 1, t.names.index("key"), k1 + 5, log)  # an address outside the call's
        assert undercheck._judge(s, undercheck._changes(log), {}, False, None) is None
    finally:
        undercheck._undo(log)


def test_the_command_line_takes_the_cli_s_input_specs(capsys):
    # docs/undercheck.md's `--input str:abc` ended in a KeyError traceback (the tool took text: only)
    from pathlib import Path

    sha256 = Path(__file__).resolve().parents[2] / "guests" / "bin" / "sha256.elf"
    with pytest.raises(SystemExit) as raised:
        undercheck.main([str(sha256), "--input", "x:abc", "--chip", "sha extend"])
    assert raised.value.code == 2 and "bad --input 'x:abc': unknown kind 'x'" in capsys.readouterr().err
    assert undercheck.main([str(sha256), "--input", "str:abc", "--chip", "sha extend"]) == 0


def test_an_alu_operation_moved_to_another_segments_table_is_documented():
    """The ALU tables are unordered and their buses balance over all segments together: two
    segments' add/sub rows exchanged are the same statement (the 3-segment scan's group: segment
    1's row 34 and segment 2's row 7, both x6 += 1, exchanged their a and c). The judge documents
    the exchange across segments as within one table — and not one row's edit alone."""
    import numpy as np

    from tests.machine.undercheck_programs import segmented_run

    samples = undercheck.segment_samples(*segmented_run(3))
    a, b = (s.chips["alu add/sub"] for s in samples[1:])
    ra, rb = (int(np.flatnonzero(t.trace[:, t.names.index("is_add")] == 1)[0]) for t in (a, b))
    assert not np.array_equal(a.trace[ra], b.trace[rb])
    log: list = []
    row_a, row_b = a.trace[ra].copy(), b.trace[rb].copy()
    for c in range(a.trace.shape[1]):
        undercheck._set(a, ra, c, int(row_b[c]), log)
        undercheck._set(b, rb, c, int(row_a[c]), log)
    try:
        changes = undercheck._changes(log)
        assert "rows of an unordered table exchanged" in undercheck._judge(samples[1], changes, {}, False, None)
        assert undercheck._judge(samples[1], [ch for ch in changes if ch[0] is a], {}, False, None) is None
    finally:
        undercheck._undo(log)
