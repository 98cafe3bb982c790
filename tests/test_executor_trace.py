"""Trace capture: a prover must be able to rebuild every register and memory value from the
trace and the program image. This file replays captured traces with its own small checker
(every read equals the last write or the image) and checks the trace matches a plain run."""

from __future__ import annotations

import struct
from collections import deque
from pathlib import Path

import numpy as np
import pytest

from pyzkvm.executor import execute
from pyzkvm.executor.host import HostIO
from pyzkvm.executor.machine import Machine
from pyzkvm.executor.sp1 import Sp1Abi
from pyzkvm.isa import decode
from pyzkvm.program import Program
from tests.rvasm import DATA_BASE, asm, flatten, halt, program, syscall

BIN = Path(__file__).resolve().parents[1] / "guests" / "bin"
COLUMNS = ("clk", "pc", "next_pc", "insn", "rs1", "rs2", "rd", "rs1_val", "rs2_val", "rd_val",
           "mem_addr", "mem_before", "mem_after")  # fmt: skip


def replay(trace, prog: Program, execution) -> None:
    """Rebuild registers and memory row by row; fail on the first inconsistent value.

    Order inside a row: read rs1/rs2, then the row's load/store, then its syscall events (in
    order; address < 32 is a register), then the write of rd."""
    c = {k: trace.columns[k].astype(np.int64).tolist() for k in COLUMNS}
    ev = {k: v.astype(np.int64).tolist() for k, v in trace.syscall_events.items()}
    addrs, words = prog.image_words()
    image = dict(zip(addrs.tolist(), words.tolist()))
    mem: dict[int, int] = {}
    regs = [0] * 32
    n = len(trace)
    assert c["clk"] == list(range(n))
    assert c["next_pc"][:-1] == c["pc"][1:], "pc continuity"
    assert c["pc"][0] == prog.entry
    j = 0
    for i in range(n):
        read = lambda a: mem.get(a, image.get(a, 0))  # noqa: E731
        pc, insn = c["pc"][i], c["insn"][i]
        assert insn == read(pc), f"row {i}: fetched word is not the memory at pc"
        assert c["rs1_val"][i] == regs[c["rs1"][i]], f"row {i}: rs1 value"
        assert c["rs2_val"][i] == regs[c["rs2"][i]], f"row {i}: rs2 value"
        if insn != 0x73:
            d = decode(insn)
            assert (c["rd"][i], c["rs1"][i], c["rs2"][i]) == (d.rd, d.rs1, d.rs2), f"row {i}: register fields"
        else:
            assert (c["rs1"][i], c["rs2"][i]) == (5, 10), "ecall row reads t0 and a0"
        if c["mem_addr"][i]:
            a = c["mem_addr"][i]
            assert a % 4 == 0
            assert c["mem_before"][i] == read(a), f"row {i}: memory word before"
            mem[a] = c["mem_after"][i]
        while j < len(ev["sys_clk"]) and ev["sys_clk"][j] == c["clk"][i]:
            a, before, after = ev["sys_addr"][j], ev["sys_before"][j], ev["sys_after"][j]
            if a < 32:
                assert before == regs[a], f"row {i}: syscall register x{a}"
                if a:
                    regs[a] = after
            else:
                assert before == read(a), f"row {i}: syscall memory 0x{a:08x}"
                mem[a] = after
            j += 1
        if c["rd"][i]:
            regs[c["rd"][i]] = c["rd_val"][i]
    assert j == len(ev["sys_clk"]), "syscall events after the last row"
    assert tuple(regs) == execution.final_registers
    assert n == execution.cycles


def _check(prog, inputs=()):
    plain = execute(prog, inputs)
    traced = execute(prog, inputs, capture_trace=True)
    assert (traced.cycles, traced.journal, traced.exit_code) == (plain.cycles, plain.journal, plain.exit_code)
    assert plain.trace is None
    t = traced.trace
    assert list(t.columns) == list(COLUMNS)
    assert all(len(v) == len(t) for v in t.columns.values())
    assert t.columns["rd"].dtype == np.uint8 and t.columns["pc"].dtype == np.uint32
    replay(t, prog, traced)
    return traced


def test_trace_replays_for_a_small_program_with_loads_stores_and_a_hint():
    code = [syscall(0xF1, DATA_BASE + 16, 6), asm.li(6, DATA_BASE), asm.lw(7, 6, 0), asm.sb(7, 6, 5),
            asm.lhu(8, 6, 4), asm.sw(8, 6, 8), syscall(2, 3, DATA_BASE, 24)]  # fmt: skip
    e = _check(program(flatten([code, halt(0)]), data=b"\x01\x02\x03\x04" + bytes(28)), [b"abcdef"])
    ev = e.trace.syscall_events
    # HINT_READ wrote two words (the last zero-padded); WRITE read 6 words
    mem_events = ev["sys_addr"] >= 0x20
    assert ev["sys_addr"][mem_events][:2].tolist() == [DATA_BASE + 16, DATA_BASE + 20]
    assert ev["sys_after"][mem_events][:2].tolist() == [int.from_bytes(b"abcd", "little"), int.from_bytes(b"ef\0\0", "little")]


def test_trace_of_an_unconstrained_block_keeps_only_the_enter_row():
    block = flatten([asm.li(6, 0x11111111), asm.sw(6, 7, 0), syscall(4)])
    code = [asm.li(7, DATA_BASE), syscall(3), asm.addi(6, 0, 1), asm.bne(5, 6, 4 * (len(block) + 1)), block, asm.lw(8, 7, 0)]
    e = _check(program(flatten([code, halt(0)]), data=b"orig"))
    assert e.final_registers[8] == int.from_bytes(b"orig", "little")
    assert not (e.trace.columns["mem_after"] == 0x11111111).any()  # the block's store is not in the trace
    ecall_rows = np.flatnonzero(e.trace.columns["insn"] == 0x73)
    assert e.trace.columns["rd_val"][ecall_rows[0]] == 0  # ENTER row: t0 ← 0, EXIT's return value


def test_long_trace_and_an_undersized_buffer_that_must_grow():
    prog = program(flatten([asm.li(6, 40000), asm.addi(6, 6, -1), asm.bne(6, 0, -4), halt(0)]))
    e = _check(prog)
    assert len(e.trace) > 1 << 16
    # execute() sizes the buffer exactly; a Machine given 16 rows must grow it (by copying)
    m = Machine(prog, capture_trace=True, max_cycles=1 << 20, trace_rows=16)
    abi = Sp1Abi(m, HostIO(inputs=deque()))
    while True:
        m.run_until_ecall()
        if abi.handle_ecall():
            break
    columns, _ = m.trace_columns()
    for name in COLUMNS:
        assert np.array_equal(columns[name], e.trace.columns[name]), name


@pytest.mark.parametrize("name, inputs", [("fibonacci", [struct.pack("<I", 50)]), ("sha256", [bytes(range(150))]),
                                          ("sort", [struct.pack("<6I", 9, 2, 7, 2, 0, 1)])])  # fmt: skip
def test_trace_replays_for_guest(name, inputs):
    path = BIN / f"{name}.elf"
    if not path.exists():
        pytest.skip(f"{path} not built")
    _check(Program.from_elf(path), inputs)


def test_nbytes_per_cycle():
    e = execute(program(flatten([asm.li(6, 100), asm.addi(6, 6, -1), asm.bne(6, 0, -4), halt(0)])), capture_trace=True)
    t = e.trace
    row_bytes = sum(v.itemsize for v in t.columns.values())
    assert row_bytes == 10 * 4 + 3  # documented in docs/trace.md
    assert t.nbytes == row_bytes * len(t) + 16 * len(t.syscall_events["sys_clk"])


@pytest.mark.parametrize("column", ["rd_val", "mem_after", "rs2_val", "insn", "sys_after"])
def test_replay_checker_catches_a_tampered_cell(column):
    """The checker above is the test's oracle: show it rejects a trace with one wrong cell."""
    code = [syscall(0xF1, DATA_BASE, 4), asm.li(6, DATA_BASE), asm.lw(7, 6, 0), asm.addi(7, 7, 1),
            asm.sw(7, 6, 4), asm.lw(8, 6, 4), asm.add(9, 8, 7)]  # fmt: skip
    prog = program(flatten([code, halt(0)]))
    e = execute(prog, [b"\x05\0\0\0"], capture_trace=True)
    replay(e.trace, prog, e)  # untampered: fine
    t = e.trace
    if column == "sys_after":
        arr = t.syscall_events["sys_after"]
        i = int(np.flatnonzero(t.syscall_events["sys_addr"] == DATA_BASE)[0])  # the HINT_READ word
    else:
        arr = t.columns[column]
        rows = {"rd_val": t.columns["rd"] == 7, "mem_after": t.columns["mem_addr"] == DATA_BASE + 4,
                "rs2_val": t.columns["rs2"] == 7, "insn": t.columns["insn"] != 0x73}  # fmt: skip
        i = int(np.flatnonzero(rows[column])[0])
    arr[i] ^= 1
    with pytest.raises(AssertionError):
        replay(t, prog, e)


def test_trace_replays_for_risc0_syscalls_that_write_registers():
    """risc0 SYS_READ writes memory and a0/a1 (register events); SHA reads and writes memory."""
    from tests.test_executor_risc0 import BUF, NAMES, data, halt as r0_halt, regs

    code = [regs(a0=BUF, a1=1, a2=NAMES, a3=0, a4=6, t0=2), asm.ecall(), asm.add(18, 10, 11),
            regs(a0=BUF + 64, a1=BUF, a2=BUF, a3=BUF + 32, a4=1, t0=3), asm.ecall()]  # fmt: skip
    prog = program(flatten([code, r0_halt()]), data=data(), abi="risc0")
    e = _check(prog, [b"abcdef"])
    ev = e.trace.syscall_events
    assert {10, 11} <= set(ev["sys_addr"][ev["sys_before"] != ev["sys_after"]].tolist())
