"""Continuations with the stark backend: segment proofs whose buses balance only together.

A run of fibonacci(10) (5898 cycles) is proved in segments of 2048 cycles (3 segments) at the
fast test preset. Honest receipts verify; the attacks of issue 9 — a segment dropped,
duplicated, reordered, swapped with the same segment of another run, or starting from
registers other than those the previous segment ended with — are rejected. The last one is
made the way a cheating prover would: segment 1 really executed from altered registers, its
tables consume the altered values from the memory bus, and the joint proof is forced.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import pyzkvm
from pyzkvm.backends import get_backend
from pyzkvm.backends.stark import build_statements, decode_seal, encode_seal
from pyzkvm.errors import BusImbalance, ConstraintNotSatisfied, UsageError, VerificationError
from pyzkvm.executor.segments import execute_segments, plan_segments, run_segment
from pyzkvm.machine import build_chips, generate_tables
from pyzkvm.machine.public_data import MachinePublicData
from pyzkvm.machine.statement import PV_CYCLES, PV_HALTS, PV_IS_FIRST, PV_START_CLK
from pyzkvm.machine.tables import SegmentContext
from pyzkvm.program import Program
from pyzkvm.receipt import Receipt
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, setup
from pyzkvm.stark.debug import check_buses
from pyzkvm.stark.joint import prove as prove_joint, verify as verify_joint
from tests.rvasm import DATA_BASE, asm, flatten, halt, program, syscall

ROOT = Path(__file__).resolve().parent.parent
FIB = Program.from_elf(ROOT / "guests" / "bin" / "fibonacci.elf")
FAST = INSECURE_FAST_FOR_TESTS.name
SEG = 2048


def u32(n: int) -> bytes:
    return int(n).to_bytes(4, "little")


@pytest.fixture(scope="module")
def stark():
    return get_backend("stark")


@pytest.fixture(scope="module")
def receipts(stark):
    """fibonacci(10) and fibonacci(11), each in 3 segments of ≤ 2048 cycles."""
    return {n: stark.prove(FIB, [u32(n)], preset=FAST, segment_cycles=SEG) for n in (10, 11)}


def check(stark, receipt):
    stark.verify(receipt, FIB.image_id, allow_insecure=True)


def with_segments(receipt, segments, **changes):
    p = decode_seal(receipt.seal)
    p.update(changes)
    seal = encode_seal(p["preset"], p["prep_root"], p["prep_log_heights"], p["has_commit"], p["has_deferred"],
                       segments, others=p["others"])
    params = dict(receipt.params, segments=len(segments))
    return dataclasses.replace(receipt, seal=seal, params=params)


def test_segmented_receipt_verifies_like_a_whole_one(stark, receipts):
    r = receipts[10]
    run = pyzkvm.execute(FIB, [u32(10)])
    assert (r.claim.image_id, r.claim.cycles, r.claim.exit_code, r.journal) == (FIB.image_id, run.cycles, 0, run.journal)
    segments = decode_seal(r.seal)["segments"]
    # each segment is its end clock (the boundaries) and its proof: no pc, journal length or count
    assert [end for end, _proof in segments] == [SEG, 2 * SEG, run.cycles]
    assert r.params["segments"] == 3 and r.params["segment_cycles"] == SEG
    check(stark, r)
    assert pyzkvm.verify(r.to_bytes(), FIB.image_id, allow_insecure=True) == r.claim
    # a whole-run proof of the same run has the same claim
    whole = stark.prove(FIB, [u32(10)], preset=FAST)
    assert whole.claim == r.claim and len(decode_seal(whole.seal)["segments"]) == 1


@pytest.mark.parametrize("attack", ["drop middle", "drop last", "drop first", "duplicate", "reorder",
                                    "foreign segment", "foreign last segment"])
def test_segment_chain_attacks_are_rejected(stark, receipts, attack):
    segs = decode_seal(receipts[10].seal)["segments"]
    other = decode_seal(receipts[11].seal)["segments"]
    forged = {
        "drop middle": [segs[0], segs[2]],
        "drop last": segs[:2],
        "drop first": segs[1:],
        "duplicate": [segs[0], segs[1], segs[1], segs[2]],
        "reorder": [segs[1], segs[0], segs[2]],
        "foreign segment": [segs[0], other[1], segs[2]],   # same boundaries, another run's middle
        "foreign last segment": [segs[0], segs[1], (segs[2][0], other[2][1])],
    }[attack]
    with pytest.raises(VerificationError):
        check(stark, with_segments(receipts[10], forged))


def test_a_moved_boundary_is_rejected(stark, receipts):
    segs = decode_seal(receipts[10].seal)["segments"]
    for shift in (4, -1):
        with pytest.raises(VerificationError):
            check(stark, with_segments(receipts[10], [(segs[0][0] + shift, segs[0][1]), *segs[1:]]))


def assert_only_the_joint_bus_rejects(pk, statements, public_data):
    """The prover's check names the joint imbalance; a joint proof forced past it fails
    verification with BusImbalance (every segment's own constraints hold)."""
    with pytest.raises(ConstraintNotSatisfied, match="does not balance"):
        prove_joint(pk, statements, public_data=public_data)
    proofs = prove_joint(pk, statements, public_data=public_data, check_constraints_first=False)
    with pytest.raises(BusImbalance):
        verify_joint(pk.verifying_key, [p.to_bytes() for p in proofs], [pv for _t, pv in statements], public_data)


def _segment_tables(starts, altered_registers=None, seg=SEG, program=FIB, altered_pc=None, altered_journal_start=None):
    """The segments' (chips, statements) the way the prover builds them; segment 1 optionally
    re-executed from altered start registers, its memory context claiming those values, or
    from another pc, or built as if the journal before it had another length."""
    chips = build_chips(program)
    context, out = SegmentContext.first(), []
    for k, start in enumerate(starts):
        if k == 1 and altered_journal_start is not None:
            context = dataclasses.replace(context, journal_start=altered_journal_start)
        if k == 1 and altered_pc is not None:
            start = dataclasses.replace(start, state=dataclasses.replace(start.state, pc=altered_pc))
        if k == 1 and altered_registers:
            state = dataclasses.replace(start.state, registers=tuple(altered_registers))
            start = dataclasses.replace(start, state=state)
            mem = context.memory
            values = mem.values.copy()
            for r in range(1, 32):  # registers are memory keys 0..31
                values[np.searchsorted(mem.keys, r)] = altered_registers[r]
            context = dataclasses.replace(context, memory=dataclasses.replace(mem, values=values))
        execution = run_segment(program, start, seg)
        tables = generate_tables(chips, execution, context)
        context = context.next(tables)
        out.append(tables)
    final = out[-1].statement
    journal = MachinePublicData(b"".join(t.journal for t in out))
    return chips, [(t.in_order(chips), t.statement.with_outcome(final).public_values()) for t in out], journal


def test_segment_starting_from_other_registers_is_rejected():
    seg = 4096  # two segments: the second, which runs to HALT, is re-executed from altered registers
    starts = plan_segments(FIB, [u32(10)], seg)
    assert len(starts) == 2
    regs = list(starts[1].state.registers)
    regs[11] ^= 1  # a1 (x11), which the COMMIT calls after the boundary overwrite (a write consumes
    #                the previous value too): segment 1 pretends the run left another value in it
    chips, statements, journal = _segment_tables(starts, regs, seg)
    pk = setup(INSECURE_FAST_FOR_TESTS, chips.airs)
    # each segment alone satisfies its constraints; only the joint memory bus sees the lie
    assert_only_the_joint_bus_rejects(pk, statements, journal)
    # the honest segments, through the same path, verify
    chips, statements, journal = _segment_tables(starts, seg=seg)
    proofs = prove_joint(pk, statements, public_data=journal)
    verify_joint(pk.verifying_key, [p.to_bytes() for p in proofs], [pv for _t, pv in statements], journal)
    pvs = [pv for _t, pv in statements]
    assert [pv[PV_START_CLK] for pv in pvs] == [0, seg] and pvs[-1][PV_CYCLES] == pyzkvm.execute(FIB, [u32(10)]).cycles
    assert [pv[PV_IS_FIRST] for pv in pvs] == [1, 0] and [pv[PV_HALTS] for pv in pvs] == [0, 1]


def test_halting_segment_elsewhere_is_refused_by_the_verifier(stark, receipts):
    """Claiming the run ends after segment 0 (a shorter claim with its proof alone) fails."""
    segs = decode_seal(receipts[10].seal)["segments"]
    short = dataclasses.replace(receipts[10], claim=dataclasses.replace(receipts[10].claim, cycles=segs[0][0]))
    with pytest.raises(VerificationError):
        check(stark, with_segments(short, [segs[0]]))


def _straight_line(n=30):
    """x6 += 1, n times, then HALT: a segment can start at any of its pcs and still halt."""
    return program(flatten([[asm.addi(6, 6, 1)] * n, halt(0)]))


def test_a_segment_starting_at_another_pc_is_rejected():
    """Segment 1 really executed from the next instruction (skipping one): its tables hold, and
    their start pc is nowhere public — the joint segment pc bus refuses it (its first row
    receives (clk, pc) that segment 0's last row did not send)."""
    prog, seg = _straight_line(), 20
    starts = plan_segments(prog, [], seg)
    assert len(starts) == 2
    chips, statements, data = _segment_tables(starts, seg=seg, program=prog, altered_pc=starts[1].state.pc + 4)
    pk = setup(INSECURE_FAST_FOR_TESTS, chips.airs)
    with pytest.raises(ConstraintNotSatisfied, match="segment pc"):
        check_buses(pk.verifying_key.compiled, pk.prep_traces, statements, data)
    assert_only_the_joint_bus_rejects(pk, statements, data)
    chips, statements, data = _segment_tables(starts, seg=seg, program=prog)  # the honest cut proves
    proofs = prove_joint(pk, statements, public_data=data)
    verify_joint(pk.verifying_key, [p.to_bytes() for p in proofs], [pv for _t, pv in statements], data)


def test_a_run_starting_past_the_entry_point_is_rejected():
    """A whole run really executed from the entry point's next instruction: every table holds,
    and the run's first pc is nowhere public — the program chip's entry row answers (0, entry
    point) on the segment pc bus, which the CPU's first row did not send."""
    prog = _straight_line()
    start = plan_segments(prog, [], 1 << 10)[0]
    start = dataclasses.replace(start, state=dataclasses.replace(start.state, pc=prog.entry + 4))
    execution = run_segment(prog, start, 1 << 10)
    assert execution.halted
    chips = build_chips(prog)
    tables = generate_tables(chips, execution)
    statements = [(tables.in_order(chips), tables.public_values)]
    pk = setup(INSECURE_FAST_FOR_TESTS, chips.airs)
    with pytest.raises(ConstraintNotSatisfied, match="segment pc"):
        check_buses(pk.verifying_key.compiled, pk.prep_traces, statements, tables.public_data)
    assert_only_the_joint_bus_rejects(pk, statements, tables.public_data)


def _write_twice():
    """WRITE "AA" to the journal, 30 cycles of x6 += 1, WRITE "BB", HALT: cut at 32 cycles, one
    WRITE in each segment."""
    return program(flatten([syscall(0x02, 3, DATA_BASE, 2), [asm.addi(6, 6, 1)] * 30,
                            syscall(0x02, 3, DATA_BASE + 4, 2), halt(0)]), data=b"AA\0\0BB\0\0")


def test_a_segment_starting_its_journal_elsewhere_is_rejected():
    """Segment 1 built as if segment 0 had written 3 journal bytes, not 2 (its "BB" at 3..4 of a
    claimed "AA?BB"): the segment counts bus refuses the start the previous segment did not
    leave, besides the journal bus."""
    prog, seg = _write_twice(), 32
    starts = plan_segments(prog, [], seg)
    assert len(starts) == 2  # segment 1, the halting one, claims a 5-byte journal (3 + "BB")
    chips, statements, _data = _segment_tables(starts, seg=seg, program=prog, altered_journal_start=3)
    data = MachinePublicData(b"AA?BB")
    pk = setup(INSECURE_FAST_FOR_TESTS, chips.airs)
    with pytest.raises(ConstraintNotSatisfied, match="segment counts"):
        check_buses(pk.verifying_key.compiled, pk.prep_traces, statements, data)
    assert_only_the_joint_bus_rejects(pk, statements, data)


@pytest.mark.parametrize("table, column, constraint", [
    ("cpu", "next_pc", "a padding row keeps the last next_pc"),
    ("cpu", "clk", "a padding row keeps the last clk"),
    ("syscall", "jpos", "jpos' = jpos \\+ step"),
    ("syscall", "apos", "apos' = apos \\+ step"),
])
def test_the_padding_keeps_the_exit_state_to_the_last_row(table, column, constraint):
    """A segment hands its exit state to the next from its tables' last rows — padding rows when
    it has fewer cycles or syscalls than rows. The CPU's padding keeps the last clk and next_pc,
    the syscall chip's its counters (a step is 0 on padding): a last row that says otherwise
    breaks those constraints, so what it sends is the state after the last executed row; a
    joint proof forced past the check does not verify."""
    from pyzkvm.machine.cpu import CPU
    from pyzkvm.machine.syscall import SYS
    from pyzkvm.stark.debug import check_all_constraints

    run = build_statements(_write_twice(), [], 24)  # segment 0: 24 cycles (32 rows), "AA" written
    at = {a.name: i for i, a in enumerate(run.chips.airs)}
    traces, pv = run.statements[0]
    forged_table = np.array(traces[at[table]], copy=True)
    col = getattr(CPU if table == "cpu" else SYS, column)
    assert forged_table.shape[0] > (24 if table == "cpu" else 1)  # the last row is padding
    if table == "syscall":
        assert set(forged_table[1:, SYS.jpos].tolist()) == {2}  # "AA" written: the padding holds 2
    forged_table[-1, col] = (int(forged_table[-1, col]) + 4) % (1 << 31)
    forged = [forged_table if i == at[table] else t for i, t in enumerate(traces)]
    pk = setup(INSECURE_FAST_FOR_TESTS, run.chips.airs)
    check_all_constraints(pk.verifying_key.compiled, pk.prep_traces, [(traces, pv)])
    with pytest.raises(ConstraintNotSatisfied, match=f"table '{table}': constraint '{constraint}"):
        check_all_constraints(pk.verifying_key.compiled, pk.prep_traces, [(forged, pv)])
    # forced into the run's joint proof, it does not verify
    statements = [(forged, pv), *run.statements[1:]]
    proofs = prove_joint(pk, statements, public_data=run.public_data, check_constraints_first=False)
    with pytest.raises(VerificationError):
        verify_joint(pk.verifying_key, [p.to_bytes() for p in proofs], [p for _t, p in statements], run.public_data)


def _private_branch(n=24):
    """Reads a private word; 0 runs n instructions at one address range, anything else n at
    another, then HALT: the same cycles, journal and exit code either way."""
    return program(flatten([
        syscall(0xF0), syscall(0xF1, DATA_BASE, 4),          # HINT_LEN, HINT_READ 4 bytes
        asm.li(9, DATA_BASE), asm.lw(7, 9, 0),
        asm.beq(7, 0, 4 * (n + 2)),                           # 0: to region B
        [asm.addi(6, 6, 1)] * n, asm.jal(0, 4 * (n + 2)),     # region A, then over B to HALT
        [asm.addi(8, 8, 1)] * n, asm.jal(0, 4),               # region B
        halt(0)]), data=bytes(4))


def test_a_hiding_receipt_of_segments_does_not_show_where_the_guest_was():
    """A private bit sends the guest through one of two code regions, and the segments are cut
    inside them (a red-team demonstration, session 25: the seal's boundary pcs read the bit).
    The two receipts now differ in their proofs only: the seal holds each segment's end clock
    and proof, the claims are equal, and every public value is the same."""
    stark = get_backend("stark")
    prog = _private_branch()
    receipts = [stark.prove(prog, [u32(bit)], preset="insecure_fast_for_tests_zk", segment_cycles=16) for bit in (0, 1)]
    seals = [decode_seal(r.seal) for r in receipts]
    assert len(seals[0]["segments"]) == 3
    for r in receipts:
        stark.verify(r, prog.image_id, allow_insecure=True)
    assert receipts[0].claim == receipts[1].claim
    assert {k: v for k, v in seals[0].items() if k != "segments"} == {k: v for k, v in seals[1].items() if k != "segments"}
    assert [end for end, _p in seals[0]["segments"]] == [end for end, _p in seals[1]["segments"]]
    runs = [build_statements(prog, [u32(bit)], 16) for bit in (0, 1)]
    assert [pv for _t, pv in runs[0].statements] == [pv for _t, pv in runs[1].statements]
    starts = [[s.state.pc for s in plan_segments(prog, [u32(bit)], 16)] for bit in (0, 1)]
    assert starts[0][1:] != starts[1][1:]  # (what the old seals showed)


def test_bad_segment_cycles_are_refused(stark):
    for bad in (0, -5, 1.5, True):
        with pytest.raises(UsageError, match="segment_cycles"):
            stark.prove(FIB, [u32(10)], preset=FAST, segment_cycles=bad)


def test_segments_concatenate_to_the_whole_run_tables():
    """Segment tables hold exactly the whole run's CPU rows, split (the global clock runs on)."""
    chips = build_chips(FIB)
    whole = generate_tables(chips, pyzkvm.execute(FIB, [u32(10)], capture_trace=True))
    context, cpu_rows = SegmentContext.first(), []
    for execution in execute_segments(FIB, [u32(10)], SEG, capture_trace=True):
        t = generate_tables(chips, execution, context)
        context = context.next(t)
        cpu = t.traces["cpu"]
        cpu_rows.append(cpu[: execution.cycles, :4])  # is_real clk pc next_pc
    assert np.array_equal(np.concatenate(cpu_rows), whole.traces["cpu"][: whole.public_values[PV_CYCLES], :4])


@pytest.mark.slow  # ~25–85 s: run by CI's second step
def test_segment_of_another_run_with_the_same_boundaries_is_rejected(stark):
    """sha256 has no data-dependent branches: two messages of one length give runs with the same
    pc at every clock, the same cycles and journal length. Their middle segments are
    interchangeable as far as clock, pc and journal length go (the boundary buses balance). In
    a receipt the swap fails
    because every segment's statement names the run's outcome (its COMMIT words); a prover who
    proves the mixed segments under run A's outcome is caught by the memory bus alone."""
    sha = Program.from_elf(ROOT / "guests" / "bin" / "sha256.elf")
    a, b = (stark.prove(sha, [m * 64], preset=FAST, segment_cycles=512) for m in (b"A", b"B"))
    sa, sb = decode_seal(a.seal)["segments"], decode_seal(b.seal)["segments"]
    assert len(sa) == 4 and [s[0] for s in sa] == [s[0] for s in sb]  # identical chains
    stark.verify(a, sha.image_id, allow_insecure=True)
    with pytest.raises(VerificationError):
        stark.verify(with_segments(a, [sa[0], sb[1], sa[2], sa[3]]), sha.image_id, allow_insecure=True)

    chips = build_chips(sha)
    runs = {}
    for m in (b"A", b"B"):
        context, tables = SegmentContext.first(), []
        for execution in execute_segments(sha, [m * 64], 512, capture_trace=True):
            tables.append(generate_tables(chips, execution, context))
            context = context.next(tables[-1])
        runs[m] = tables
    mixed = [runs[b"A"][0], runs[b"B"][1], runs[b"A"][2], runs[b"A"][3]]
    final = runs[b"A"][-1].statement
    statements = [(t.in_order(chips), t.statement.with_outcome(final).public_values()) for t in mixed]
    journal = MachinePublicData(b"".join(t.journal for t in runs[b"A"]))
    assert_only_the_joint_bus_rejects(setup(INSECURE_FAST_FOR_TESTS, chips.airs), statements, journal)


@pytest.mark.slow  # ~25–85 s: run by CI's second step
def test_segments_proved_on_a_dask_cluster_give_the_same_receipt(receipts):
    """Phase 1 (commit) and phase 2 (prove) of every segment run as tasks on a 2-worker
    LocalCluster; proving is deterministic, so the receipt is byte-identical to the local one."""
    from pyzkvm import dist

    if not dist.dask_available():
        pytest.skip("Dask is not installed (the dist extra)")
    receipt = dist.prove_stark_segments(FIB, [u32(10)], SEG, preset=FAST, workers=2, memory_limit=0)
    assert receipt.to_bytes() == receipts[10].to_bytes()


def test_a_segment_too_tall_for_the_presets_security_is_refused_before_proving(stark, monkeypatch):
    """The field term loses a bit per doubling of the LDE. With a preset whose query term is
    high (60 queries: 136 bits), the field term binds: the 2^16-row byte table gives 105.6
    bits; against a minimum of 106 the backend refuses up front (UsageError naming the table and
    what to do), instead of proving a receipt every verifier would refuse."""
    import dataclasses as dc

    import pyzkvm.backends.stark_policy as stark_module
    from pyzkvm.stark import DEFAULT, security_bits

    strict = dc.replace(DEFAULT, name="strict_for_this_test", num_queries=60)
    assert security_bits(strict, 16 + 2).bits == pytest.approx(105.6, abs=0.05)
    monkeypatch.setattr(stark_module, "MIN_SECURITY_BITS", 106)
    with pytest.raises(UsageError, match=r"table 'bytes' has 2\^16 rows.*105\.6 bits.*--segment-cycles"):
        stark.prove(FIB, [u32(10)], preset=strict, segment_cycles=8192)


def test_a_run_with_more_bus_entries_than_p_is_refused_before_proving(stark, monkeypatch):
    """A statement's bus entries (Σ height × interactions over every segment's tables) must stay
    below p, or a count could wrap (stark/verifier.statement_security): about 2^25 cycles of
    fibonacci (a 66 M-cycle run was refused after its tables were built, session 26). The
    prover refuses such a run before proving, saying what to do; here a short run's segments
    are repeated until they pass p (the check reads their heights only)."""
    import pyzkvm.backends.stark as stark_module

    build = stark_module.build_statements

    def repeated(*a, **k):  # the run's segments, each counted many times
        run = build(*a, **k)
        return dataclasses.replace(run, statements=run.statements * 4000)

    monkeypatch.setattr(stark_module, "build_statements", repeated)
    monkeypatch.setattr("pyzkvm.stark.joint.prove", lambda *a, **k: pytest.fail("proving started"))
    with pytest.raises(UsageError, match=r"too long for one receipt: .* bus entries.*pyzkvm aggregate"):
        stark.prove(FIB, [u32(10)], preset=INSECURE_FAST_FOR_TESTS.name, segment_cycles=8192)


def test_a_run_past_p_bus_entries_stops_while_its_tables_are_built(stark, monkeypatch):
    """The count of the segments built so far (stark_policy.bus_entries_at_least, a lower bound)
    stops the build as soon as it passes p (here, with p's limit lowered, after the first of
    six segments: a 2^26-cycle run spent 2 min 15 s building all its tables first, session 26)."""
    import pyzkvm.machine as machine
    from pyzkvm.stark import config

    built = []
    generate = machine.generate_tables
    monkeypatch.setattr(machine, "generate_tables", lambda *a, **k: built.append(1) or generate(*a, **k))
    monkeypatch.setattr(config, "MAX_BUS_ENTRIES", 1)
    with pytest.raises(UsageError, match=r"too long for one receipt: its first 1 segment\(s\) already hold at least "
                                         r"\d+ bus entries.*pyzkvm aggregate"):
        stark.prove(FIB, [u32(3000)], preset=INSECURE_FAST_FOR_TESTS.name, segment_cycles=8192)
    assert len(built) == 1  # of 6 segments (41,724 cycles)


def test_the_running_bus_entry_count_is_below_the_statements(monkeypatch):
    """bus_entries_at_least never refuses what the exact count accepts: with p's limit set to
    the running count of a hiding run's six segments, the build passes it and the exact check
    (the hiding ring's interactions and the public entries counted too) refuses."""
    import pyzkvm.backends.stark as stark_module
    import pyzkvm.stark.verifier as verifier
    from pyzkvm.backends.stark_policy import bus_entries_at_least, check_security_of_heights
    from pyzkvm.stark import INSECURE_FAST_FOR_TESTS_ZK, config

    run = stark_module.build_statements(FIB, [u32(3000)], 8192)
    lower = sum(bus_entries_at_least(run.chips.airs, dict(zip((a.name for a in run.chips.airs), traces)))
                for traces, _pv in run.statements)
    assert len(run.statements) == 6 and lower > 0
    monkeypatch.setattr(config, "MAX_BUS_ENTRIES", lower)
    stark_module.build_statements(FIB, [u32(3000)], 8192)  # the running count reaches the limit, not past it
    monkeypatch.setattr(verifier, "MAX_BUS_ENTRIES", lower)
    pk = setup(INSECURE_FAST_FOR_TESTS_ZK, run.chips.airs)
    with pytest.raises(UsageError, match="too long for one receipt: the statement has"):
        check_security_of_heights(run, INSECURE_FAST_FOR_TESTS_ZK, pk.verifying_key)


@pytest.mark.slow  # ~25–85 s: run by CI's second step
def test_cli_proves_the_segments_on_a_cluster(tmp_path, capsys, monkeypatch, receipts):
    """`pyzkvm prove --segment-cycles N --workers 2`: the segments as Dask tasks; the receipt
    (DEFAULT preset) verifies and makes the same claim in as many segments as the local one
    (byte identity with local proving is the library test above); bad options are usage errors."""
    from pyzkvm import dist
    from pyzkvm.cli import main

    if not dist.dask_available():
        pytest.skip("Dask is not installed (the dist extra)")
    out = tmp_path / "fib.receipt"
    elf = str(ROOT / "guests" / "bin" / "fibonacci.elf")
    monkeypatch.setenv("PYZKVM_PROGRESS_AFTER_S", "0")  # every phase line (stderr is not a terminal here)
    assert main(["prove", elf, "--input", "u32:10", "--segment-cycles", str(SEG), "--workers", "2", "-o", str(out)]) == 0
    said = capsys.readouterr()
    assert f"segments:   3 of up to {SEG} cycles" in said.out
    phases = [line.split(": ", 2)[2] for line in said.err.splitlines() if line.startswith("pyzkvm: proving with stark on workers: ")]
    assert phases == ["execute and build the segment tables", "setup", "starting workers", "committed segment 1/3",
                      "committed segment 2/3", "committed segment 3/3", "proved segment 1/3", "proved segment 2/3",
                      "proved segment 3/3", "verify the assembled receipt"]  # fmt: skip
    receipt = Receipt.from_bytes(out.read_bytes())
    assert receipt.claim == receipts[10].claim and receipt.params["segments"] == 3
    assert main(["verify", str(out), "--elf", elf]) == 0
    for bad, message in ((["--segment-cycles", "0", "--workers", "2"], "must be positive"),
                         (["--workers", "0"], "--workers must be positive"),
                         (["--workers", "2", "-b", "risc0"], "stark or trace")):
        assert main(["prove", elf, "--input", "u32:10", *bad, "-o", str(tmp_path / "x")]) == 2
        assert message in capsys.readouterr().err


def test_default_segments_are_halved_until_every_table_fits_the_preset(monkeypatch):
    """A preset's default segments (default_segment_cycles) whose tables would be taller than
    it allows are cut again, in halves, without marking the run's segments as asked for; a run
    whose tallest table does not shrink (the 2^16-row byte table) is left for the refusal."""
    import dataclasses as dc

    import pyzkvm.backends.stark as stark_backend

    cfg = dc.replace(INSECURE_FAST_FOR_TESTS, name="tall_17_for_this_test", max_log_height=17)
    monkeypatch.setattr(stark_backend, "default_segment_cycles", lambda config: 1 << 18)  # one table of 2^18 rows
    run = stark_backend.fitting_statements(FIB, [u32(17000)], cfg)  # ~204,000 cycles
    assert (run.segment_cycles, len(run.statements), run.explicit) == (1 << 17, 2, False)
    assert max(t.shape[0] for traces, _pv in run.statements for t in traces) == 1 << 17
    low = dc.replace(cfg, max_log_height=15)  # below the byte table: halved once, then given up
    assert stark_backend.fitting_statements(FIB, [u32(2000)], low).segment_cycles == 1 << 17


def test_an_ecall_filed_in_another_segments_syscall_table_is_rejected(stark):
    """The journal's writes cannot be reordered across segments. The buses balance over all
    segments together, so a syscall row could sit in any segment's table; there the running
    journal position (jpos) would give its bytes another place. A guest that writes "AA" in
    segment 0 and "BB" in segment 1 (no COMMIT of the digest, which would bind the order) is
    forged into the claim "BBAA": the two rows swap tables, every count and byte lookup
    follows. The buses still balance; only the rows' clock range (START_CLK ≤ clk < PV_CYCLES)
    refuses it, in the prover's check and in the verifier."""
    from pyzkvm.machine.bytes_table import BYTES
    from pyzkvm.machine.image_id import other_circuit_digests
    from pyzkvm.machine.syscall import JOURNAL_WORDS, SYS
    from pyzkvm.stark.debug import check_all_constraints
    from pyzkvm.stark.field import P

    seg = 32
    prog = _write_twice()
    assert pyzkvm.execute(prog, []).journal == b"AABB"
    run = build_statements(prog, [], seg)
    assert len(run.statements) == 2
    at = {a.name: i for i, a in enumerate(run.chips.airs)}
    tables = [[np.array(t, dtype=np.uint32, copy=True) for t in traces] for traces, _pv in run.statements]
    sys_tables = [t[at["syscall"]] for t in tables]
    assert [int(s[:, SYS.is_write].sum()) for s in sys_tables] == [1, 1]  # "AA" in segment 0, "BB" in 1
    rows = [s[0].copy() for s in sys_tables]
    starts = [pv[PV_START_CLK] for _t, pv in run.statements]
    ends = [pv[PV_CYCLES] for _t, pv in run.statements]

    def le_word(v) -> int:
        return sum(int(x) << (8 * i) for i, x in enumerate(v))

    def count(k: int, lookups, sign: int) -> None:  # the byte table's range counts of segment k
        bt = tables[k][at["bytes"]]
        for x, y in lookups:
            bt[256 * int(x) + int(y), BYTES.m_range] = (int(bt[256 * int(x) + int(y), BYTES.m_range]) + sign) % P

    def bound_lookups(row):
        return [(row[SYS.since[0]], row[SYS.since[1]]), (row[SYS.since[2]], 0),
                (row[SYS.until[0]], row[SYS.until[1]]), (row[SYS.until[2]], 0)]

    # segment k's table gets the other's row, first in its journal: "BB" at 0, "AA" at 2;
    # its clock-range bytes as close as 3 bytes come (clk − START_CLK, PV_CYCLES − 1 − clk mod 2^24)
    lengths = [le_word(r[SYS.a2]) for r in rows]
    for k in (0, 1):
        row = rows[1 - k].copy()
        count(1 - k, bound_lookups(rows[1 - k]), -1)
        clk = int(row[SYS.clk])
        row[SYS.since] = [(clk - starts[k]) % (1 << 24) >> (8 * i) & 0xFF for i in range(3)]
        row[SYS.until] = [(ends[k] - 1 - clk) % (1 << 24) >> (8 * i) & 0xFF for i in range(3)]
        count(k, bound_lookups(row), +1)
        row[SYS.jpos] = 0 if k == 0 else lengths[1]
        sys_tables[k][0] = row
    # the journal words keep their segment; their base follows the new position
    for t in tables:
        jw = t[at["journal words"]]
        for r in np.flatnonzero(jw[:, JOURNAL_WORDS.active]):
            src = next(row for row in sys_tables if int(row[0, SYS.clk]) == int(jw[r, JOURNAL_WORDS.clk]))[0]
            jw[r, JOURNAL_WORDS.jbase] = (int(src[SYS.jpos]) - le_word(src[SYS.ptr])) % P
    # (where each segment's journal starts is not public: the statements stay the honest run's)
    statements = [(tables[k], pv) for k, (_t, pv) in enumerate(run.statements)]
    forged = dataclasses.replace(run, statements=statements, journal=b"BBAA")

    pk = setup(INSECURE_FAST_FOR_TESTS, run.chips.airs)
    compiled = pk.verifying_key.compiled
    check_buses(compiled, pk.prep_traces, statements, forged.public_data)  # the swap is invisible to the buses
    for k, bound in ((0, "clk < PV_CYCLES"), (1, "clk ≥ START_CLK")):
        with pytest.raises(ConstraintNotSatisfied, match=f"table 'syscall': constraint '{bound}"):
            check_all_constraints(compiled, pk.prep_traces, [statements[k]])
    proofs = prove_joint(pk, statements, public_data=forged.public_data, check_constraints_first=False)
    receipt = stark.receipt_from_proofs(forged, INSECURE_FAST_FOR_TESTS, pk.verifying_key, proofs, (),
                                        others=other_circuit_digests(prog, pk.verifying_key))
    assert receipt.journal == b"BBAA"
    with pytest.raises(VerificationError):
        stark.verify(receipt, prog.image_id, allow_insecure=True)


def test_a_run_of_more_segments_than_a_seal_holds_is_refused_before_proving(stark, monkeypatch):
    """A seal holds at most MAX_SEGMENTS segments (stark_seal.py): a run cut into more was proved in
    full and then refused by every verifier (a red-team finding, session 25). Here the cap is
    lowered to 2, so fibonacci(10)'s three segments of 2048 cycles exceed it."""
    from pyzkvm.backends import stark as stark_module
    from pyzkvm.errors import UnsupportedProgram

    monkeypatch.setattr(stark_module, "MAX_SEGMENTS", 2)
    with pytest.raises(UnsupportedProgram, match="more than 2 segments of 2048 cycles"):
        stark.prove(FIB, [u32(10)], preset=FAST, segment_cycles=SEG)
    assert len(stark_module.build_statements(FIB, [u32(10)], segment_cycles=4096).statements) == 2


def test_prove_says_a_hiding_receipt_of_segments_shows_their_boundaries(tmp_path, capsys):
    """Each segment's clocks and table heights are public (docs/backend-guide.md): where a
    segment's length or its tables' depend on private input they show it, and prove says so."""
    from pyzkvm.cli import main

    out = tmp_path / "fib.receipt"
    assert main(["prove", str(ROOT / "guests" / "bin" / "fibonacci.elf"), "--input", "u32:10", "--preset",
                 "insecure_fast_for_tests_zk", "--segment-cycles", str(SEG), "-o", str(out)]) == 0
    assert "zero-knowledge receipt of several segments shows each segment's" in capsys.readouterr().err


def test_only_the_boundary_entries_use_the_segment_buses():
    """The boundary buses carry one entry per table end, placed by a row selector (send_on_row),
    and the program chip's entry row, fixed by the verifier: a chip that put witness-chosen
    entries on them, or a verifier's public entry, could add or cancel a segment's exit state.
    Nothing in the proof system reserves them (a red-team note, session 31): this test does, over
    every chip of the machine."""
    from pyzkvm.machine import buses
    from pyzkvm.machine.statement import NUM_PUBLIC_VALUES, Statement
    from pyzkvm.stark.air import LEAF_KINDS, _subtree, bus_id, compile_air

    chips = build_chips(FIB)
    segment_buses = {bus_id(buses.SEGMENT_PC), bus_id(buses.SEGMENT_COUNTS)}
    users = {}
    for air in chips.airs:
        for it in compile_air(air, 5).interactions:
            if it.bus in segment_buses:
                leaves = {n.op for n in _subtree(it.multiplicity) if n.op in LEAF_KINDS}
                assert it.row in ("first", "last") or leaves <= {"prep", "public", "const"}, \
                    f"{air.name} puts witness-chosen entries on {it.bus_name!r}"
                users.setdefault(it.bus_name, set()).add((air.name, it.row, it.sign))
    assert users == {"segment pc": {("cpu", "first", 1), ("cpu", "last", -1), ("program", "", -1)},
                     "segment counts": {("syscall", "first", -1), ("syscall", "last", 1)}}
    middle = Statement(exit_code=0, start_clk=8, cycles=16, is_first=False, halts=False, journal_len=3).public_values()
    assert len(middle) == NUM_PUBLIC_VALUES
    public = [bus for air in chips.airs for bus, *_ in air.public_interactions(middle, bytes(MachinePublicData(b"abc")))]
    assert not segment_buses & {bus_id(b) for b in public}


def test_a_risc0_guest_proves_in_segments(stark):
    """The risc0 profile's run handed from segment to segment the same way (its SP1 syscall chip
    has no row: the counts pass through as 0), in hiding mode; the first two proofs swapped under
    the seal's clocks are refused."""
    prog = Program.from_elf(ROOT / "guests" / "bin" / "risc0" / "fibonacci.elf", abi="risc0")
    cycles = pyzkvm.execute(prog, [u32(10)]).cycles
    receipt = stark.prove(prog, [u32(10)], preset="insecure_fast_for_tests_zk", segment_cycles=cycles // 3 + 1)
    segs = decode_seal(receipt.seal)["segments"]
    assert len(segs) == 3 and segs[-1][0] == cycles
    assert stark.verify(receipt, prog.image_id, allow_insecure=True).profile == "risc0"
    with pytest.raises(VerificationError):
        stark.verify(with_segments(receipt, [(segs[0][0], segs[1][1]), (segs[1][0], segs[0][1]), segs[2]]),
                     prog.image_id, allow_insecure=True)
