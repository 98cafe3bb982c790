"""Differential tests: pyzkvm's interpreter against unicorn (an independent RV32 CPU).

Random programs (hypothesis) — straight-line ALU, forward-only branches and jumps, loads and
stores into a data region — run on both; all registers, the data region and the instruction
count must agree. Each runs twice on pyzkvm's side: with the compiled loop and with the loop's
Python source, which runs a process's first cycles (executor/python_start.py), so both are
held against unicorn, not only against each other. Then every prebuilt guest ELF in guests/bin/ runs on both, unicorn with a
minimal SP1 syscall layer written here, compared at HALT (registers, memory, count).
"""

from __future__ import annotations

import struct
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyzkvm.executor import execute, python_start
from pyzkvm.executor.machine import Machine
from pyzkvm.program import Program
from tests.rvasm import DATA_BASE, TEXT_BASE, asm, elf, flatten

unicorn = pytest.importorskip("unicorn")
from unicorn import UC_ARCH_RISCV, UC_HOOK_BLOCK, UC_HOOK_CODE, UC_HOOK_INTR, UC_MODE_RISCV32, Uc  # noqa: E402
from unicorn import riscv_const as rv  # noqa: E402
from tests.test_guests_unicorn import sha_precompile_on_unicorn  # noqa: E402

BIN = Path(__file__).resolve().parents[1] / "guests" / "bin"
UC_REGS = [getattr(rv, f"UC_RISCV_REG_X{i}") for i in range(32)]
DATA_SIZE = 256
BASE = 27  # s11 holds DATA_BASE and is never written by random code

# ---- random programs ---------------------------------------------------------------------

SPECIAL = [0, 1, 2, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFF, 0xFFFFFFFE, 31, 32, 33]
values = st.one_of(st.sampled_from(SPECIAL), st.integers(0, 0xFFFFFFFF))
reg = st.integers(0, 31)
dst = st.integers(0, 31).filter(lambda r: r != BASE)
R_OPS = ["add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or_", "and_",
         "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu"]  # fmt: skip
I_OPS = ["addi", "slti", "sltiu", "xori", "ori", "andi"]
SH_OPS = ["slli", "srli", "srai"]
B_OPS = ["beq", "bne", "blt", "bge", "bltu", "bgeu"]
LOADS = {"lb": 1, "lh": 2, "lw": 4, "lbu": 1, "lhu": 2}
STORES = {"sb": 1, "sh": 2, "sw": 4}


@st.composite
def alu_insn(draw):
    kind = draw(st.sampled_from(["r", "r", "r", "i", "sh", "lui", "auipc"]))
    if kind == "r":
        return getattr(asm, draw(st.sampled_from(R_OPS)))(draw(dst), draw(reg), draw(reg))
    if kind == "i":
        return getattr(asm, draw(st.sampled_from(I_OPS)))(draw(dst), draw(reg), draw(st.integers(-2048, 2047)))
    if kind == "sh":
        return getattr(asm, draw(st.sampled_from(SH_OPS)))(draw(dst), draw(reg), draw(st.integers(0, 31)))
    return getattr(asm, kind)(draw(dst), draw(st.integers(0, 0xFFFFF)))


@st.composite
def mem_insn(draw):
    if draw(st.booleans()):
        name = draw(st.sampled_from(sorted(LOADS)))
        size = LOADS[name]
        return getattr(asm, name)(draw(dst), BASE, size * draw(st.integers(0, DATA_SIZE // size - 1)))
    name = draw(st.sampled_from(sorted(STORES)))
    size = STORES[name]
    return getattr(asm, name)(draw(reg), BASE, size * draw(st.integers(0, DATA_SIZE // size - 1)))


@st.composite
def program_body(draw, with_branches: bool, with_memory: bool):
    """Random instructions; branches/jumps only forward and inside the body."""
    n = draw(st.integers(1, 40))
    kinds = ["alu"] + (["branch", "jal"] if with_branches else []) + (["mem", "mem"] if with_memory else [])
    body = []
    for i in range(n):
        kind = draw(st.sampled_from(kinds))
        remaining = n - i  # instructions from here to the end of the body, this one included
        if kind == "branch":
            body.append(getattr(asm, draw(st.sampled_from(B_OPS)))(draw(reg), draw(reg), 4 * draw(st.integers(1, remaining))))
        elif kind == "jal":
            body.append(asm.jal(draw(dst), 4 * draw(st.integers(1, remaining))))
        elif kind == "mem":
            body.append(draw(mem_insn()))
        else:
            body.append(draw(alu_insn()))
    return body


def build(init_regs, body, data: bytes):
    """li x1..x31 (s11 = DATA_BASE), the body, then t0 = 0 (HALT) and ecall."""
    prologue = []
    for r in range(1, 32):
        prologue += asm.li(r, DATA_BASE if r == BASE else init_regs[r])
    code = flatten([prologue, body, asm.li(5, 0), asm.ecall()])
    ecall_addr = TEXT_BASE + 4 * (len(code) - 1)
    return code, ecall_addr, elf(code, data=data)


def run_unicorn_until(code, data: bytes, stop: int):
    uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
    uc.mem_map(0x200000, 0x200000)
    uc.mem_write(TEXT_BASE, b"".join(struct.pack("<I", w) for w in code))
    uc.mem_write(DATA_BASE, data)
    count = [0]

    def on_code(uc_, address, size, _):
        count[0] += 1

    uc.hook_add(UC_HOOK_CODE, on_code)
    uc.emu_start(TEXT_BASE, stop)
    regs = [uc.reg_read(r) & 0xFFFFFFFF for r in UC_REGS]
    return regs, bytes(uc.mem_read(DATA_BASE, len(data))), count[0]


def run_pyzkvm_until_ecall(elf_bytes: bytes, data_len: int):
    m = Machine(Program.from_elf(elf_bytes), max_cycles=1 << 20)
    m.run_until_ecall()
    return [int(r) for r in m.regs], m.mem_bytes[DATA_BASE : DATA_BASE + data_len].tobytes(), m.cycle


@contextmanager
def interpreter_loop(mode: str):
    """Run pyzkvm's side with the compiled loop, or with the loop's Python source throughout."""
    saved = python_start.compiled_loaded, python_start._cycles_left
    if mode == "python":
        python_start.compiled_loaded = lambda: False  # as in a process that has not loaded it
        python_start._cycles_left = 10**9
    else:
        python_start._cycles_left = 0
    try:
        yield
    finally:
        python_start.compiled_loaded, python_start._cycles_left = saved


LOOPS = pytest.mark.parametrize("loop", ["compiled", "python"])


def check_against_unicorn(init_regs, body, data, loop: str = "compiled"):
    code, stop, elf_bytes = build(init_regs, body, data)
    uc_regs, uc_mem, uc_count = run_unicorn_until(code, data, stop)
    with interpreter_loop(loop):
        regs, mem, count = run_pyzkvm_until_ecall(elf_bytes, len(data))
        if loop == "python":  # every cycle was run by the Python loop (it counts them)
            assert python_start._cycles_left == 10**9 - count
    assert count == uc_count
    for i in range(32):
        assert regs[i] == uc_regs[i], f"x{i}: pyzkvm 0x{regs[i]:08x} != unicorn 0x{uc_regs[i]:08x}"
    assert mem == uc_mem


_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_regs = st.lists(values, min_size=32, max_size=32)
_data = st.binary(min_size=DATA_SIZE, max_size=DATA_SIZE)


@LOOPS
@_SETTINGS
@given(_regs, program_body(with_branches=False, with_memory=False))
def test_straight_line_alu_matches_unicorn(loop, init_regs, body):
    check_against_unicorn(init_regs, body, bytes(DATA_SIZE), loop)


@LOOPS
@_SETTINGS
@given(_regs, program_body(with_branches=True, with_memory=False))
def test_forward_branches_match_unicorn(loop, init_regs, body):
    check_against_unicorn(init_regs, body, bytes(DATA_SIZE), loop)


@LOOPS
@_SETTINGS
@given(_regs, program_body(with_branches=True, with_memory=True), _data)
def test_loads_and_stores_match_unicorn(loop, init_regs, body, data):
    check_against_unicorn(init_regs, body, data, loop)


@LOOPS
def test_division_edge_cases_match_unicorn(loop):
    """Every M-extension op on every pair of special values, in one program."""
    body = []
    pairs = [(a, b) for a in SPECIAL for b in SPECIAL]
    for a, b in pairs:
        body += asm.li(6, a) + asm.li(7, b)
        for i, op in enumerate(["mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu"]):
            body.append(getattr(asm, op)(8 + i, 6, 7))  # s0, s1, a0..a5
            body.append(asm.sw(8 + i, BASE, 0))
            body.append(asm.add(28, 28, 8 + i))  # t3 accumulates every result
    check_against_unicorn([0] * 32, body, bytes(DATA_SIZE), loop)


# ---- every prebuilt guest ELF ----------------------------------------------------------

UC_SPAN = 0x0400_0000  # 64 MiB from 0: stack, image and heap of every guest


def run_guest_on_unicorn(program: Program, inputs):
    """Unicorn with a minimal SP1 syscall layer (HALT, WRITE, HINT_LEN, HINT_READ, COMMIT*,
    SHA_EXTEND/SHA_COMPRESS, and
    unconstrained blocks: ENTER saves registers, memory and the count and returns 1; EXIT puts
    them back and resumes after ENTER with t0 = 0; hints written to fd 4/14 stay, in front)."""
    uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
    uc.mem_map(0, UC_SPAN)
    for seg in program.segments:
        uc.mem_write(seg.vaddr, seg.data)
    pending = list(inputs)
    out = {"count": 0, "exit": None, "journal": b"", "resume": None}
    fork = []

    def on_block(uc_, address, size, _):
        out["count"] += size // 4

    def on_intr(uc_, intno, _):
        code = uc_.reg_read(rv.UC_RISCV_REG_T0)
        a0, a1, a2 = (uc_.reg_read(r) for r in (rv.UC_RISCV_REG_A0, rv.UC_RISCV_REG_A1, rv.UC_RISCV_REG_A2))
        ret = code
        if code == 0x00:
            out["exit"] = a0
            uc_.emu_stop()
        elif code == 0x02:
            if a0 in (3, 13):
                out["journal"] += bytes(uc_.mem_read(a1, a2))
            elif a0 in (4, 14):  # a hint: the next HINT_READ reads it (SP1 v4+)
                pending.insert(0, bytes(uc_.mem_read(a1, a2)))
        elif code == 0x03:  # ENTER_UNCONSTRAINED
            pc = uc_.reg_read(rv.UC_RISCV_REG_PC)  # unicorn reports the ecall's pc + 4 here
            fork.append((pc, [uc_.reg_read(r) for r in UC_REGS], bytes(uc_.mem_read(0, UC_SPAN)), out["count"]))
            ret = 1
        elif code == 0x04:  # EXIT_UNCONSTRAINED: restart after ENTER's ecall with its state, t0 = 0
            ret = 0
            if fork:
                pc, regs, mem, count = fork.pop()
                for r, v in zip(UC_REGS, regs):
                    uc_.reg_write(r, v)
                uc_.mem_write(0, mem)
                out["count"], out["resume"] = count, pc
                uc_.reg_write(rv.UC_RISCV_REG_T0, 0)
                uc_.emu_stop()
                return
        elif code == 0xF0:
            ret = len(pending[0]) if pending else 0xFFFFFFFF
        elif code == 0xF1:
            element = pending.pop(0)
            uc_.mem_write(a0, element + bytes(-len(element) % 4))
        elif sha_precompile_on_unicorn(uc_, code, a0, a1):  # the SDK hashes with SHA_EXTEND/COMPRESS
            pass
        elif code not in (0x10, 0x1A, 0x1B):  # COMMIT*, VERIFY_SP1_PROOF: no effect on registers or memory
            raise AssertionError(f"unexpected syscall 0x{code:x}")
        uc_.reg_write(rv.UC_RISCV_REG_T0, ret)

    uc.hook_add(UC_HOOK_BLOCK, on_block)
    uc.hook_add(UC_HOOK_INTR, on_intr)
    start = program.entry
    while start is not None:
        uc.emu_start(start, 0xFFFFFFFF, count=50_000_000)
        start, out["resume"] = out["resume"], None
    regs = [uc.reg_read(r) & 0xFFFFFFFF for r in UC_REGS]
    return out, regs, bytes(uc.mem_read(0, UC_SPAN))


GUEST_INPUTS = {
    "fibonacci": [struct.pack("<I", 300)],
    "sha256": [bytes(range(200))],
    "sort": [struct.pack("<9I", 5, 3, 9, 1, 0, 7, 7, 2, 0xFFFFFFFF)],
    "rv32im-selftest": [],
    "panic": [],
    "aggregator": [struct.pack("<I", 2), bytes(range(64)), bytes(range(64, 128))],
    "isqrt-hint": [struct.pack("<I", 1_000_003)],
}


def _guest_elfs():
    return sorted(BIN.glob("*.elf")) if BIN.is_dir() else []


@pytest.mark.parametrize("path", _guest_elfs(), ids=lambda p: p.stem)
def test_guest_elf_matches_unicorn(path):
    program = Program.from_elf(path)
    inputs = GUEST_INPUTS.get(path.stem, [])
    ours = execute(program, inputs)
    theirs, uc_regs, uc_mem = run_guest_on_unicorn(program, inputs)
    assert ours.exit_code == theirs["exit"]
    assert ours.journal == theirs["journal"]
    assert ours.cycles == theirs["count"]
    assert list(ours.final_registers) == uc_regs
    # memory at HALT: rerun on a Machine to read its memory (execute() does not return it)
    m = Machine(program, max_cycles=1 << 26)
    from pyzkvm.executor.host import HostIO
    from pyzkvm.executor.sp1 import Sp1Abi
    from collections import deque

    abi = Sp1Abi(m, HostIO(inputs=deque(inputs)))
    while True:
        m.run_until_ecall()
        if abi.handle_ecall():
            break
    assert np.array_equal(m.mem_bytes[:UC_SPAN], np.frombuffer(uc_mem, dtype=np.uint8))
