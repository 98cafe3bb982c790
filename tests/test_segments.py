"""Continuations: segmented execution (executor/segments.py) and segmented trace receipts.

Oracles: the unsegmented executor's trace (segments must concatenate to it), a memory image
rebuilt here from the trace's own write log and hashed with the blake3 package by the
documented formula, and the chain rules checked by attack (segments dropped, duplicated,
reordered, swapped with another run's, or with altered start registers).
"""

from __future__ import annotations

import pickle
import struct
import subprocess
import sys
from pathlib import Path

import blake3
import numpy as np
import pytest

import pyzkvm
from pyzkvm import inputs as I
from pyzkvm.backends.trace_segments import (
    RECORD_SIZE,
    SegmentReceipt,
    decode_segmented_seal,
    seal_segmented,
)
from pyzkvm.errors import CycleLimitExceeded, UsageError, VerificationError
from pyzkvm.executor import execute
from pyzkvm.executor.segments import execute_segments, initial_state, plan_segments, run_segment
from pyzkvm.program import Program
from pyzkvm.receipt import Receipt
from tests.rvasm import DATA_BASE, TEXT_BASE, asm, flatten, halt, program, syscall

ROOT = Path(__file__).resolve().parent.parent
FIB = Program.from_elf(ROOT / "guests" / "bin" / "fibonacci.elf")
SHA = Program.from_elf(ROOT / "guests" / "bin" / "sha256.elf")
ENTER, EXIT, WRITE = 3, 4, 2
T0 = 5


def _concat(segments, table):
    names = getattr(segments[0].trace, table).keys()
    return {n: np.concatenate([getattr(s.trace, table)[n] for s in segments]) for n in names}


def _memory_digest_oracle(prog: Program, trace) -> bytes:
    """Final memory rebuilt from the image and every write in the trace, hashed by the formula."""
    mem = {}
    addrs, words = prog.image_words()
    mem.update(zip(addrs.tolist(), words.tolist()))
    c, e = trace.columns, trace.syscall_events
    rows = np.flatnonzero(c["mem_addr"] != 0)
    events = np.flatnonzero(e["sys_addr"] >= 0x20)  # addresses below 0x20 are registers
    writes = sorted(
        [(int(c["clk"][i]), 0, int(c["mem_addr"][i]), int(c["mem_after"][i])) for i in rows]
        + [(int(e["sys_clk"][i]), 1, int(e["sys_addr"][i]), int(e["sys_after"][i])) for i in events]
    )
    for _, _, addr, value in writes:
        mem[addr] = value
    pages = {}
    for addr, value in mem.items():
        if value:
            pages.setdefault(addr >> 12, {})[addr] = value
    body = b""
    numbers = sorted(pages)
    for p in numbers:
        page = bytearray(4096)
        for addr, value in pages[p].items():
            page[addr & 0xFFF : (addr & 0xFFF) + 4] = struct.pack("<I", value)
        body += bytes(page)
    raw = b"pyzkvm.memory.v1" + struct.pack("<I", len(numbers)) + struct.pack(f"<{len(numbers)}I", *numbers) + body
    return blake3.blake3(raw).digest()


# ---- a hand-written guest: stores over two pages, an unconstrained block, journal writes ----


def _block_program(block_pcs: bool = False):
    """The program, or (block_pcs=True) the range of pcs its unconstrained block occupies."""
    block = flatten([asm.li(6, 0x11111111), asm.sw(6, 7, 0), asm.li(18, 99), syscall(EXIT)])
    loop = flatten([  # 40 words from DATA_BASE + 4000 (crossing into the next page), then zero them again
        asm.li(8, DATA_BASE + 4000), asm.li(9, 40),
        asm.sw(9, 8, 0), asm.addi(8, 8, 4), asm.addi(9, 9, -1), asm.bne(9, 0, -12),
    ])  # fmt: skip
    code = [
        asm.li(7, DATA_BASE), asm.li(18, 5), loop,
        syscall(ENTER), asm.addi(6, 0, 1), asm.bne(T0, 6, 4 * (len(block) + 1)), block,
        asm.sw(0, 7, 0),  # clear the data page's only non-zero word: the page drops out of the digest
        syscall(WRITE, 3, DATA_BASE + 4000, 8), syscall(WRITE, 3, DATA_BASE + 4040, 4),
        halt(0),
    ]  # fmt: skip
    if block_pcs:
        start = TEXT_BASE + 4 * len(flatten(code[:6]))
        return range(start, start + 4 * len(block))
    return program(flatten(code), data=b"orig")


def _risc0_program():
    """RISC Zero profile: 50 stores, then HALT (t0 = 0, a0 = 0: terminate, exit 0; a1 -> digest)."""
    loop = flatten([asm.li(8, DATA_BASE), asm.li(9, 50), asm.sw(9, 8, 0), asm.addi(8, 8, 4), asm.addi(9, 9, -1), asm.bne(9, 0, -12)])
    return program(flatten([loop, asm.li(10, 0), asm.li(11, DATA_BASE), asm.li(5, 0), asm.ecall()]), abi="risc0")


@pytest.mark.parametrize("prog,inputs,n", [
    (FIB, [I.u32(300)], 1000), (FIB, [I.u32(300)], 1), (SHA, [I.bincode_bytes(b"a" * 200)], 777),
    (_block_program(), [], 3), (_block_program(), [], 10), (_risc0_program(), [], 7),
])  # fmt: skip
def test_segments_concatenate_to_the_unsegmented_run(prog, inputs, n):
    full = execute(prog, inputs, capture_trace=True)
    segments = list(execute_segments(prog, inputs, n, capture_trace=True))
    assert len(segments) == -(-full.cycles // n)
    for name, column in _concat(segments, "columns").items():
        assert np.array_equal(column, full.trace.columns[name]), name
    for name, column in _concat(segments, "syscall_events").items():
        assert np.array_equal(column, full.trace.syscall_events[name]), name
    assert b"".join(s.journal for s in segments) == full.journal
    assert sum(s.cycles for s in segments) == full.cycles
    assert [s.halted for s in segments] == [False] * (len(segments) - 1) + [True]
    assert segments[-1].exit_code == full.exit_code
    assert (segments[-1].commit_matches, segments[-1].output_digest) == (full.commit_matches, full.output_digest)
    assert segments[0].start_state == initial_state(prog)
    for a, b in zip(segments, segments[1:]):
        assert a.end_state == b.start_state
        assert b.start_state.cycle == a.start_state.cycle + a.cycles
    last = segments[-1].end_state
    assert (last.cycle, last.pc, last.registers) == (full.cycles, full.final_pc, full.final_registers)
    assert last.memory_digest == _memory_digest_oracle(prog, full.trace)
    counts = {}
    for s in segments:
        for k, v in s.report.instructions.items():
            counts[k] = counts.get(k, 0) + v
    assert counts == full.report.instructions


def test_a_boundary_never_falls_inside_an_unconstrained_block():
    prog = _block_program()
    segments = list(execute_segments(prog, [], 3))
    # the block (11 instructions, rolled back at EXIT) runs whole inside one 3-cycle segment
    inside = [s for s in segments if "ENTER_UNCONSTRAINED" in s.report.syscalls]
    assert len(inside) == 1  # (SP1's report, like ours, does not count the block's EXIT)
    block = _block_program(block_pcs=True)
    assert not any(s.end_state.pc in block for s in segments)
    assert [s.cycles for s in segments[:-1]] == [3] * (len(segments) - 1)


@pytest.mark.parametrize("prog,inputs,n", [(FIB, [I.u32(300)], 1000), (_block_program(), [], 4), (_risc0_program(), [], 7)])
def test_resuming_each_segment_on_a_fresh_machine_reproduces_it(prog, inputs, n):
    reference = list(execute_segments(prog, inputs, n, capture_trace=True))
    starts = plan_segments(prog, inputs, n)
    assert [s.state for s in starts] == [s.start_state for s in reference]
    for start, ref in zip(starts, reference):
        start = pickle.loads(pickle.dumps(start))  # what a worker receives
        again = run_segment(prog, start, n)
        assert (again.end_state, again.journal, again.halted, again.cycles) == (
            ref.end_state, ref.journal, ref.halted, ref.cycles)  # fmt: skip
        for name in ref.trace.columns:
            assert np.array_equal(again.trace.columns[name], ref.trace.columns[name]), name


def _output_program():
    """stdout and cycle-tracker lines written in parts, with filler between them, so a segment
    boundary falls inside a stdout line and inside two cycle-tracker spans."""
    text = b"cycle-tracker-report-start: whole\ncycle-tracker-start: part\npar" + b"tial line\n" \
           + b"cycle-tracker-end: part\ncycle-tracker-report-end: whole\nlast, unended"
    cuts = [0, 35, 63, 66, 76, 100, 133, len(text)]
    filler = [asm.addi(6, 6, 1)] * 9
    code = []
    for lo, hi in zip(cuts, cuts[1:]):
        code += [syscall(WRITE, 1, DATA_BASE + lo, hi - lo), filler]
    return program(flatten([code, halt(0)]), data=text)


def test_a_resumed_segment_reports_the_output_that_spans_segments():
    """A fresh machine resuming a segment gets the host's output state that spans segments (a
    stdout line not ended yet, open cycle-tracker spans, the totals so far): each segment's stdout
    and the last one's cycle-tracker totals are those of the segments run in turn (a resumed
    segment lost the line's first part and the spans opened before it)."""
    prog = _output_program()
    whole = execute(prog)
    assert whole.stdout == b"partial line\nlast, unended"
    assert set(whole.report.cycle_tracker) == {"whole"} and set(whole.report.cycle_spans) == {"part"}
    for n in (7, 13, 29):
        reference = list(execute_segments(prog, [], n))
        assert b"".join(s.stdout for s in reference) == whole.stdout
        for start, ref in zip(plan_segments(prog, [], n), reference):
            again = run_segment(prog, pickle.loads(pickle.dumps(start)), n, capture_trace=False)
            assert (again.stdout, again.report.cycle_tracker, again.report.cycle_spans) == (
                ref.stdout, ref.report.cycle_tracker, ref.report.cycle_spans), (n, start.index)
        assert reference[-1].report.cycle_tracker == whole.report.cycle_tracker


def test_segment_arguments_and_cycle_limit():
    with pytest.raises(UsageError, match="segment_cycles must be a positive integer"):
        list(execute_segments(FIB, [I.u32(10)], 0))
    with pytest.raises(CycleLimitExceeded, match="ran 2500 cycles without halting"):
        list(execute_segments(FIB, [I.u32(300)], 1000, max_cycles=2500))
    start = plan_segments(FIB, [I.u32(300)], 1000)[1]
    start.pages = start.pages.copy()
    start.pages[0, 0] ^= 1  # pages that do not hash to the state's memory digest
    with pytest.raises(UsageError, match="start state does not match its memory pages"):
        run_segment(FIB, start, 1000)


# ---- segmented receipts -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def receipts():
    """fibonacci(300) and fibonacci(301), each proved in segments of 1000 cycles."""
    a = pyzkvm.prove(FIB, [I.u32(300)], backend="trace", segment_cycles=1000)
    b = pyzkvm.prove(FIB, [I.u32(301)], backend="trace", segment_cycles=1000)
    return a, b


def _reseal(receipt: Receipt, records: list[bytes], **param_changes) -> Receipt:
    """Rebuild a receipt around other segment records, re-bound (the binding is keyless: anyone
    can recompute it, so the chain checks must catch what the binding does not)."""
    params = dict(receipt.params, segments=len(records), **param_changes)
    head = struct.pack("<HI", 2, len(records)) + b"".join(records)
    unsealed = Receipt(receipt.claim, receipt.journal, receipt.backend, receipt.backend_version, params, head)
    return seal_segmented(unsealed, head)


def _records(receipt: Receipt) -> list[bytes]:
    segments, _, _ = decode_segmented_seal(receipt.seal)
    return [s.to_bytes() for s in segments]


def test_segmented_receipt_verifies_like_a_single_one(receipts):
    a, _ = receipts
    single = pyzkvm.prove(FIB, [I.u32(300)], backend="trace")
    assert a.claim == single.claim and a.journal == single.journal
    assert a.params["segments"] == len(_records(a)) == -(-single.claim.cycles // 1000) > 3
    again = Receipt.from_bytes(a.to_bytes())
    assert pyzkvm.verify(again, FIB.image_id, dev_mode=True) == single.claim
    pyzkvm.verify(again, FIB.image_id, dev_mode=True, replay=(FIB, [I.u32(300)]))
    with pytest.raises(VerificationError, match="does not halt|claim|journal|differs"):
        pyzkvm.verify(again, FIB.image_id, dev_mode=True, replay=(FIB, [I.u32(301)]))
    # a longer run than the receipt's: named as another run, not a limit to raise
    with pytest.raises(VerificationError, match="runs past the receipt's .*other inputs than the ones it ran on"):
        pyzkvm.verify(again, FIB.image_id, dev_mode=True, replay=(FIB, [I.u32(400)]))
    resealed = _reseal(a, _records(a))
    assert resealed.to_bytes() == a.to_bytes()  # the test helper builds exactly what prove builds


def test_an_edited_segmented_receipt_fails_its_binding(receipts):
    a, _ = receipts
    seal = bytearray(a.seal)
    seal[6 + RECORD_SIZE + 40] ^= 1  # a byte of segment 1's start state
    edited = Receipt(a.claim, a.journal, a.backend, a.backend_version, a.params, bytes(seal))
    with pytest.raises(VerificationError, match="binding"):
        pyzkvm.verify(edited, FIB.image_id, dev_mode=True)


@pytest.mark.parametrize("attack,message", [
    (lambda r, o: r[:2] + r[3:], "segment at position 2 says it is segment 3"),
    (lambda r, o: r[:3] + r[2:], "segment at position 3 says it is segment 2"),
    (lambda r, o: r[:1] + [r[2], r[1]] + r[3:], "segment at position 1 says it is segment 2"),
    (lambda r, o: r[:2] + [o[2]] + r[3:], "segment [23] does not start where segment [12] ended"),
    (lambda r, o: r[:-1], "does not end in HALT"),
])  # fmt: skip
def test_dropped_duplicated_reordered_or_foreign_segments_are_rejected(receipts, attack, message):
    a, b = receipts
    tampered = _reseal(a, attack(_records(a), _records(b)))
    with pytest.raises(VerificationError, match=message):
        pyzkvm.verify(tampered, FIB.image_id, dev_mode=True)


def test_renumbered_segments_still_break_the_chain(receipts):
    a, b = receipts
    records = _records(a)
    for attack in (records[:2] + records[3:], records[:1] + [records[2], records[1]] + records[3:]):
        renumbered = []
        for i, rec in enumerate(attack):  # an attacker fixes the indexes too
            renumbered.append(rec[:32] + struct.pack("<I", i) + rec[36:])
        with pytest.raises(VerificationError, match="does not start where segment"):
            pyzkvm.verify(_reseal(a, renumbered), FIB.image_id, dev_mode=True)


def test_a_segment_whose_start_registers_differ_from_the_previous_end_is_rejected(receipts):
    a, _ = receipts
    records = _records(a)
    seg = SegmentReceipt.from_bytes(records[2])
    regs = list(seg.claim.start.registers)
    regs[10] ^= 1  # a0
    start = type(seg.claim.start)(seg.claim.start.cycle, seg.claim.start.pc, tuple(regs), seg.claim.start.memory_digest)
    forged = SegmentReceipt(type(seg.claim)(**{**seg.claim.__dict__, "start": start}), seg.trace_digest, seg.n_rows, seg.n_syscall_events)
    records[2] = forged.to_bytes()
    with pytest.raises(VerificationError, match=r"segment 2 does not start where segment 1 ended: its start has registers \(x10"):
        pyzkvm.verify(_reseal(a, records), FIB.image_id, dev_mode=True)


def test_a_forged_initial_memory_is_caught_by_replay(receipts):
    a, _ = receipts
    records = _records(a)
    seg = SegmentReceipt.from_bytes(records[0])
    start = type(seg.claim.start)(0, seg.claim.start.pc, seg.claim.start.registers, bytes(32))
    records[0] = SegmentReceipt(type(seg.claim)(**{**seg.claim.__dict__, "start": start}), seg.trace_digest, seg.n_rows, seg.n_syscall_events).to_bytes()
    forged = _reseal(a, records)
    # Without the program the dev verifier cannot tell (a STARK's first segment binds the image);
    # with replay it can.
    pyzkvm.verify(forged, FIB.image_id, dev_mode=True)
    with pytest.raises(VerificationError, match="segment 0 does not start in the program's initial state: its start has memory"):
        pyzkvm.verify(forged, FIB.image_id, dev_mode=True, replay=(FIB, [I.u32(300)]))


def test_claim_mismatches_are_rejected(receipts):
    a, _ = receipts
    for params, message in (({"segment_cycles": 5000}, "before the segment length"),):
        with pytest.raises(VerificationError, match=message):
            pyzkvm.verify(_reseal(a, _records(a), **params), FIB.image_id, dev_mode=True)
    wrong = Receipt(a.claim.__class__(**{**a.claim.__dict__, "exit_code": 1}), a.journal, a.backend, a.backend_version, a.params, b"")
    with pytest.raises(VerificationError, match="exit code 0, the claim says 1"):
        pyzkvm.verify(_reseal(wrong, _records(a)), FIB.image_id, dev_mode=True)


def test_inspect_shows_the_segments(receipts, tmp_path):
    a, _ = receipts
    path = tmp_path / "fib.receipt"
    path.write_bytes(a.to_bytes())
    out = subprocess.run([sys.executable, "-m", "pyzkvm", "inspect", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    n = a.params["segments"]
    assert f"param segments:       {n}" in out.stdout
    assert "segment 0:" in out.stdout and "cycles 0..1000, pc 0x" in out.stdout
    assert f"segment {n - 1}:" in out.stdout and "HALT, exit code 0" in out.stdout


def test_segment_assumptions_are_the_segments_own_and_concatenate_to_the_run():
    """Like the journal: each segment's Execution lists the VERIFY_SP1_PROOF calls made in it."""
    agg = Program.from_elf(ROOT / "guests" / "bin" / "aggregator.elf")
    claims = [bytes([i]) * 32 + bytes([i + 1]) * 32 for i in range(3)]
    inputs = [struct.pack("<I", 3)] + claims
    whole = execute(agg, inputs)
    segments = list(execute_segments(agg, inputs, 512))  # ~2.5 k cycles
    assert len(segments) > 3
    assert tuple(a for s in segments for a in s.assumptions) == whole.assumptions == \
        tuple((c[:32], c[32:]) for c in claims)
    assert sum(1 for s in segments if s.assumptions) >= 2  # the calls are spread over segments


def test_each_segment_reports_its_own_warnings():
    """A segment's Execution carries the host's warnings of its cycles, as its journal (they were
    dropped: every segment said none; a review, session 26)."""
    from pyzkvm.executor import execute
    from pyzkvm.executor.segments import execute_segments
    from tests.rvasm import DATA_BASE, flatten, halt, program, syscall

    p = program(flatten([syscall(2, 99, DATA_BASE, 4), syscall(2, 99, DATA_BASE, 4), halt(0)]), data=b"abcd")
    whole = execute(p, []).warnings
    assert len(whole) == 2
    assert sum((s.warnings for s in execute_segments(p, [], 8)), ()) == whole
