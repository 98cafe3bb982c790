"""The machine AIR accepts honest executions: tables built from real runs pass the debug check.

Oracles: the expected register results are computed here with Python integers (not by the
executor or the machine), and the debug check evaluates the chips' constraints and buses."""

from __future__ import annotations

import hashlib
import random

import numpy as np
import pytest

from pyzkvm.errors import UnsupportedProgram
from pyzkvm.executor import execute
from pyzkvm.machine import build_chips, check_machine, generate_tables
from pyzkvm.machine.cpu import CPU
from pyzkvm.machine.statement import PV_COMMIT, PV_DEFERRED, PV_HAS_COMMIT, PV_HAS_DEFERRED
from pyzkvm.program import Program
from tests.machine.machine_helpers import run_machine
from tests.rvasm import DATA_BASE, asm, halt, program, syscall

M32 = 0xFFFFFFFF


def _row_results(tables, n):
    cpu = tables.traces["cpu"]
    c = cpu[:n, CPU.c].astype(np.int64)
    return c[:, 0] | c[:, 1] << 8 | c[:, 2] << 16 | c[:, 3] << 24


def test_alu_group_passes_and_results_match_python():
    x, y = 0x89ABCDEF, 0x7654321F
    code = [asm.li(1, x), asm.li(2, y),
            asm.add(13, 1, 2), asm.sub(14, 1, 2), asm.sub(15, 2, 1), asm.xor(16, 1, 2), asm.or_(17, 1, 2),
            asm.and_(18, 1, 2), asm.addi(19, 1, -2048), asm.xori(20, 2, -1), asm.ori(21, 1, 0x7F0),
            asm.andi(22, 2, -16), halt(0)]
    chips, tables, execution = run_machine(code)
    check_machine(chips, tables)
    expect = {13: (x + y) & M32, 14: (x - y) & M32, 15: (y - x) & M32, 16: x ^ y, 17: x | y, 18: x & y,
              19: (x - 2048) & M32, 20: y ^ M32, 21: x | 0x7F0, 22: y & (M32 - 15)}
    for reg, value in expect.items():
        assert execution.final_registers[reg] == value
    rows = _row_results(tables, execution.cycles)
    assert set(expect.values()) <= set(int(v) for v in rows)
    assert tables.public_values[:4] == [0, 0, 0, 0]


def test_lui_jal_x0_and_exit_code():
    code = [asm.lui(1, 0xFFFFF),             # x1 = 0xFFFFF000
            asm.jal(2, 8),                   # x2 = pc + 4, skip one word
            asm.addi(1, 0, 1),               # skipped
            asm.addi(0, 1, 5),               # writes x0: stays 0
            asm.add(3, 0, 1),                # x3 = x0 + x1 = x1
            asm.jal(0, 8), asm.addi(3, 0, 0),  # rd = x0 jump over one word
            halt(0x12345678 & 0x7FF)]
    chips, tables, execution = run_machine(code)
    check_machine(chips, tables)
    assert execution.final_registers[3] == 0xFFFFF000
    assert execution.final_registers[0] == 0
    assert tables.public_values[:4] == [0x78, 0x06, 0, 0]


def test_backward_jump_loop():
    # x1 counts down from 5 with a backward JAL-free loop is impossible without branches, so
    # run a chain of forward and backward JALs instead
    code = [asm.jal(0, 12),             # 0: → 12
            asm.addi(6, 6, 1),          # 4: reached from 12
            asm.jal(0, 12),             # 8: → 20
            asm.jal(1, -8),             # 12: → 4, x1 = 16 + base
            asm.addi(6, 6, 100),        # 16: skipped
            halt(3)]
    chips, tables, execution = run_machine(code)
    check_machine(chips, tables)
    assert execution.final_registers[6] == 1
    assert tables.public_values[0] == 3


@pytest.mark.parametrize("seed", range(6))
def test_random_alu_programs(seed):
    """Random register-register and register-immediate ALU instructions (all ALU chips)."""
    rng = random.Random(seed)
    specials = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]
    code = [asm.li(r, rng.choice(specials) if rng.random() < 0.4 else rng.getrandbits(32)) for r in range(1, 8)]
    ops = [asm.add, asm.sub, asm.xor, asm.or_, asm.and_, asm.slt, asm.sltu, asm.sll, asm.srl, asm.sra,
           asm.mul, asm.mulh, asm.mulhsu, asm.mulhu]
    iops = [asm.addi, asm.xori, asm.ori, asm.andi, asm.slti, asm.sltiu]
    shifts = [asm.slli, asm.srli, asm.srai]
    for _ in range(40):
        rd, rs1, rs2 = rng.randrange(0, 8), rng.randrange(0, 8), rng.randrange(0, 8)
        roll = rng.random()
        if roll < 0.5:
            code.append(rng.choice(ops)(rd, rs1, rs2))
        elif roll < 0.8:
            code.append(rng.choice(iops)(rd, rs1, rng.randrange(-2048, 2048)))
        else:
            code.append(rng.choice(shifts)(rd, rs1, rng.randrange(32)))
    code.append(halt(None))  # exit code = whatever a0 holds
    chips, tables, execution = run_machine(code)
    check_machine(chips, tables)
    assert tables.public_values[:4] == list(execution.exit_code.to_bytes(4, "little"))


def test_tables_are_powers_of_two_and_canonical():
    chips, tables, _ = run_machine([asm.addi(1, 0, 1), halt(0)])
    for air in chips.airs:
        t = tables.traces[air.name]
        assert t.shape[1] == air.width
        assert t.shape[0] >= 4 and t.shape[0] & (t.shape[0] - 1) == 0
        assert t.dtype == np.uint32
    # every register and every image word has a boundary row
    bnd = tables.traces["memory boundary"]
    assert int(bnd[:, 0].sum()) == 32 + len(chips.image.keys)


@pytest.mark.parametrize("n", [3, 25])
def test_fibonacci_guest_passes_the_debug_check(n):
    prog = Program.from_elf("guests/bin/fibonacci.elf")
    execution = execute(prog, [n.to_bytes(4, "little")], capture_trace=True)
    assert execution.cycles == 5778 + 12 * n  # ~4 700 of them the journal's SHA-256 in software
    chips = build_chips(prog)
    tables = generate_tables(chips, execution)
    check_machine(chips, tables)
    # public values: exit code 0; the COMMIT words are SHA-256 of the journal (oracle: hashlib)
    pv = tables.public_values
    assert pv[:4] == [0, 0, 0, 0]
    assert pv[PV_HAS_COMMIT] == 1
    assert bytes(pv[i] for i in PV_COMMIT) == hashlib.sha256(execution.journal).digest()
    assert pv[PV_HAS_DEFERRED] == 1 and not any(pv[i] for i in PV_DEFERRED)
    assert tables.journal == execution.journal and len(execution.journal) > 0
    # a program that hashes nothing leaves the SHA chips empty: they are left out of its proof
    assert not tables.traces["sha extend"].any() and not tables.traces["sha compress"].any()


@pytest.mark.slow
def test_rv32im_selftest_guest_passes_the_debug_check():
    """The self-test guest runs every RV32IM instruction with its edge cases (~780k cycles)."""
    prog = Program.from_elf("guests/bin/rv32im-selftest.elf")
    execution = execute(prog, capture_trace=True)
    assert execution.exit_code == 0
    chips = build_chips(prog)
    check_machine(chips, generate_tables(chips, execution))


def test_write_to_the_hint_fd_is_refused():
    code = [syscall(0x02, 4, DATA_BASE, 4), halt(0)]  # WRITE(fd 4 = hint stream)
    prog = program(code, data=b"abcd")
    with pytest.raises(UnsupportedProgram, match="WRITE to fd 4"):
        generate_tables(build_chips(prog), execute(prog, capture_trace=True))


def test_every_sp1_syscall_has_constraints():
    """Every syscall the SP1 executor knows is provable (each precompile has its chip, routed by
    code on the precompile bus); what is still refused by name is RISC Zero's SHA ecall
    (test_machine_risc0.py)."""
    from pyzkvm.executor.sp1 import SYSCALL_NAMES
    from pyzkvm.machine.support import PROVABLE_SYSCALLS
    from pyzkvm.machine.syscall import PRECOMPILE_CODES

    assert set(SYSCALL_NAMES.values()) <= set(PROVABLE_SYSCALLS)
    precompiles = {c for c in SYSCALL_NAMES if c > 0xFF}
    assert precompiles == set(PRECOMPILE_CODES) and all(PRECOMPILE_CODES[c] == SYSCALL_NAMES[c] for c in precompiles)


def test_without_trace_is_refused():
    prog = program([halt(0)])
    with pytest.raises(UnsupportedProgram, match="capture_trace"):
        generate_tables(build_chips(prog), execute(prog))


def test_accesses_are_ordered_as_lexsort_orders_them():
    # memory checking sorts its accesses by (key, ts) with one combined sort key when it fits
    # in 63 bits, else np.lexsort: both must give lexsort's permutation (ties in input order)
    from pyzkvm.machine.accesses import order_by_key_and_ts

    rng = np.random.default_rng(5)
    for n in (0, 1, 7, 5000):
        keys = rng.integers(0, 40, n).astype(np.int64)
        ts = rng.integers(0, 200, n).astype(np.int64) * 4 + 4  # repeated (key, ts) pairs too
        assert np.array_equal(order_by_key_and_ts(keys, ts), np.lexsort((ts, keys)))
    keys, ts = np.array([3, 1 << 40, 3, 0]), np.array([9, 1 << 41, 5, 1 << 41])  # too wide: lexsort itself
    assert order_by_key_and_ts(keys, ts).tolist() == [3, 2, 0, 1]


def two_threads(monkeypatch) -> None:
    """The pool shares even the smallest loop between two threads."""
    from pyzkvm.stark import pool

    monkeypatch.setattr(pool, "MIN_PARALLEL_WORK", 1)
    monkeypatch.setattr(pool, "MIN_CHUNK_WORK", 1)
    monkeypatch.setattr(pool, "threads", lambda: 2)


@pytest.mark.parametrize("clash", [False, True])
def test_previous_accesses_in_chunks_on_two_threads_are_the_serial_ones(clash, monkeypatch):
    """_previous_accesses on 1,001 sorted positions (an odd count: the pool's chunks uneven), one
    range on this thread against chunks side by side: the same sorted accesses, previous
    (ts, value) and first flags; a repeated (key, ts) is flagged either way."""
    from pyzkvm.machine.accesses import _previous_accesses
    from pyzkvm.stark.pool import parallel_for

    rng = np.random.default_rng(9)
    n = 1001
    key = rng.integers(0, 30, n).astype(np.int64)
    ts = rng.permutation(n).astype(np.int64) * 4 + 4  # distinct timestamps
    if clash:
        ts[-1], key[-1] = ts[0], key[0]  # one access repeats another's (key, ts)
    val = rng.integers(0, 1 << 32, n).astype(np.int64)
    order = np.lexsort((ts, key))

    def run(parallel):
        out = [np.full(n, -1, dtype=np.int64) for _ in range(5)]
        first, flag = np.zeros(n, dtype=np.bool_), np.zeros(1, dtype=np.bool_)
        if parallel:
            parallel_for(_previous_accesses, n, order, key, ts, val, *out, first, flag)
        else:
            _previous_accesses(order, key, ts, val, *out, first, flag, 0, n)
        return out + [first, flag]

    serial = run(False)
    with monkeypatch.context() as m:
        two_threads(m)
        chunked = run(True)
    assert all(np.array_equal(a, b) for a, b in zip(serial, chunked))
    assert bool(serial[-1][0]) == clash


def test_tables_built_on_two_threads_equal_those_built_on_one(monkeypatch):
    """Trace generation's pool loops (the CPU table's rows in parts, each filing its own access
    groups; memory checking's previous accesses; the byte table's counts in parts; the tape's
    sends) split even the smallest table: the same tables."""
    prog = Program.from_elf("guests/bin/fibonacci.elf")
    execution = execute(prog, [(3).to_bytes(4, "little")], capture_trace=True)
    chips = build_chips(prog)
    with monkeypatch.context() as m:
        m.setattr("pyzkvm.stark.pool.threads", lambda: 1)
        one = generate_tables(chips, execution).traces
    two_threads(monkeypatch)
    two = generate_tables(chips, execution).traces
    assert one.keys() == two.keys() and all(np.array_equal(one[k], two[k]) for k in one)
    monkeypatch.setattr("pyzkvm.machine.cpu.FILL_PART_ROWS", 7)  # the CPU rows in many uneven parts
    parts = generate_tables(chips, execution).traces
    assert len(execution.trace.columns["clk"]) > 10 * 7
    assert all(np.array_equal(one[k], parts[k]) for k in one)


def test_access_columns_are_written_row_by_row_as_column_writes_would():
    # prev_ts, the 4 limbs of d (bytes, a nibble, d >> 20) and the previous value's bytes, at
    # any rows and columns, in a uint32 or an int64 table
    from pyzkvm.machine.accesses import _write_access_columns

    rng = np.random.default_rng(7)
    for dtype in (np.uint32, np.int64):
        for rows, cols in ((np.arange(3, 9), [4, 2, 3, 11, 0]), (np.array([7, 1, 4]), [0, 1, 2, 3, 4, 5, 6, 7, 8]),
                           (np.array([2, 5]), [8, 1, 3, 12, 5, 0, 9, 10, 6])):
            prev_ts, diff, prev_val = (rng.integers(0, hi, len(rows)) for hi in (1 << 30, 1 << 28, 1 << 32))
            d = [diff & 0xFF, (diff >> 8) & 0xFF, (diff >> 16) & 0xF, diff >> 20]
            values = [prev_ts, *d, *[(prev_val >> (8 * k)) & 0xFF for k in range(4)]][:len(cols)]
            want = np.zeros((10, 13), dtype=dtype)
            for col, value in zip(cols, values):
                want[rows, col] = value
            got = np.zeros((10, 13), dtype=dtype)
            _write_access_columns(got, rows, np.array(cols), prev_ts, diff, prev_val, 0, 1)  # a chunk, then the rest
            _write_access_columns(got, rows, np.array(cols), prev_ts, diff, prev_val, 1, len(rows))
            assert np.array_equal(got, want)


def test_a_sent_field_keeps_the_value_memory_checking_rewrites():
    # a send's fields are gathered when first read; settle gathers first those whose trace
    # column an access group is about to write, so they hold the value at the send
    from pyzkvm.machine.accesses import Access
    from pyzkvm.machine.witness import Sent

    table = np.arange(12, dtype=np.uint32).reshape(4, 3)
    sent = Sent(table, np.array([0, 2]), np.zeros((0, 4), dtype=np.uint32), np.array([1, 3]))
    group = Access(table, np.arange(4), np.zeros(4), np.arange(4), np.zeros(4), 2, [], None, "test")
    sent.settle([group])
    table[:, 2] = 99  # what resolve_accesses writes
    assert sent[1].tolist() == [5, 11] and sent[1].dtype == np.int64
    assert sent[0].tolist() == [3, 9] and len(sent) == 2 and sent[0:2][0].tolist() == [3, 9]


@pytest.mark.parametrize("threads", [1, 2])
def test_a_sends_fields_gathered_at_once_are_its_columns_at_its_rows(threads, monkeypatch):
    # Sent.gather reads several fields row by row, in chunks of rows on the thread pool: each
    # field is its table column (sources ≥ 0) or computed row (< 0) at the send's rows, int64,
    # whether gathered all at once, some first, or one by one as read; Sent.take, some fields of
    # some tuples, from the table or from a gathered column
    from pyzkvm.machine.witness import Sent
    from pyzkvm.stark import pool

    monkeypatch.setattr(pool, "threads", lambda: threads)
    monkeypatch.setattr(pool, "MIN_PARALLEL_WORK", 1)
    monkeypatch.setattr(pool, "MIN_CHUNK_WORK", 1)
    rng = np.random.default_rng(8)
    table = rng.integers(0, 1 << 31, (1000, 9), dtype=np.uint32)
    computed = rng.integers(0, 1 << 31, (3, 1000), dtype=np.uint32)
    sources = np.array([4, -2, 0, 8, -1, 4, -3])
    rows = np.flatnonzero(rng.integers(0, 3, 1000))
    want = [(table[:, s] if s >= 0 else computed[-1 - s])[rows].astype(np.int64) for s in sources]
    for first in (None, [1, 3], []):
        sent = Sent(table, sources, computed, rows)
        if first is not None:
            sent.gather(first)
        at = np.array([5, 0, 7, 7, len(rows) - 1])  # some tuples' fields, gathered ones or not
        assert np.array_equal(sent.take([6, 1, 2, 0], at), np.stack([want[i][at] for i in (6, 1, 2, 0)]))
        got = [sent[i] for i in range(len(sent))]
        assert all(g.dtype == np.int64 and np.array_equal(g, w) for g, w in zip(got, want, strict=True))
        assert sent._table is None  # every field gathered: the table is let go
        assert np.array_equal(sent.take([3], at), want[3][at][None])


def test_inverse_or_zero_through_its_table_is_the_inverse():
    # small values go through a table of inverses of 0..max, others are inverted directly; a
    # long array (beyond field.NUMPY_MAX) takes the batch-inversion kernel, zeros among them
    from pyzkvm.machine.program_table import inverse_or_zero
    from pyzkvm.stark.field import P

    long = np.random.default_rng(3).integers(0, P, 5000)
    long[::97] = 0
    for x in (np.array([0, 1, 2, 765, 3, 0, 2, 7, 9, 11]), np.array([5, P - 1, 1 << 30]), np.zeros(0, dtype=np.int64),
              long, long % 1000):
        got = inverse_or_zero(x)
        assert got.tolist() == [pow(int(v), P - 2, P) for v in x]
