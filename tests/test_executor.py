"""The interpreter: every instruction's semantics on edge cases, x0, faults, limits.

Expected values come from the RISC-V unprivileged spec (chapters 2 and 7: e.g. division by
zero gives all ones, MIN / -1 overflows to MIN); unicorn cross-checks the same ground on
random programs in test_unicorn_diff.py.
"""

from __future__ import annotations

import pytest

from pyzkvm.errors import (
    Breakpoint,
    CycleLimitExceeded,
    GuestFault,
    IllegalInstruction,
    MemoryOutOfRange,
    MisalignedAccess,
    SyscallError,
    UsageError,
)
from pyzkvm.executor import DEFAULT_MAX_CYCLES, execute
from tests.rvasm import DATA_BASE, TEXT_BASE, asm, flatten, halt, program

S2 = 18  # results go to s2 (a0 is the exit code at HALT)
M = 0xFFFFFFFF


def run(code, **kw):
    data = kw.pop("data", b"")
    return execute(program(flatten([code, halt(0)]), data=data), **kw)


def neg(x: int) -> int:
    return x & M


R_CASES = [
    ("add", M, 1, 0), ("add", 0x7FFFFFFF, 1, 0x80000000),
    ("sub", 0, 1, M), ("sub", 0x80000000, 1, 0x7FFFFFFF),
    ("sll", 1, 33, 2), ("sll", 1, 31, 0x80000000),
    ("slt", 0x80000000, 0, 1), ("slt", 0, 0x80000000, 0), ("slt", M, M, 0),
    ("sltu", 0x80000000, 0, 0), ("sltu", 0, M, 1),
    ("xor", 0xF0F0F0F0, 0xFF00FF00, 0x0FF00FF0),
    ("srl", 0x80000000, 31, 1), ("srl", 0x80000000, 32, 0x80000000),
    ("sra", 0x80000000, 31, M), ("sra", 0x80000000, 4, 0xF8000000), ("sra", 0x40000000, 30, 1),
    ("or", 0xF0F00000, 0x0000F0F0, 0xF0F0F0F0),
    ("and", 0xF0F0F0F0, 0xFF00FF00, 0xF000F000),
    ("mul", M, M, 1), ("mul", 0x10000, 0x10000, 0), ("mul", 0x12345678, 0x9ABCDEF0, (0x12345678 * 0x9ABCDEF0) & M),
    ("mulh", 0x80000000, 0x80000000, 0x40000000), ("mulh", M, M, 0), ("mulh", M, 1, M),
    ("mulhsu", M, M, M), ("mulhsu", 0x80000000, M, 0x80000000), ("mulhsu", 1, M, 0),
    ("mulhu", M, M, 0xFFFFFFFE), ("mulhu", 0x80000000, 2, 1),
    ("div", 7, 0, M), ("div", 0x80000000, M, 0x80000000), ("div", neg(-7), 2, neg(-3)), ("div", 7, neg(-2), neg(-3)),
    ("divu", 7, 0, M), ("divu", M, 2, 0x7FFFFFFF),
    ("rem", 7, 0, 7), ("rem", 0x80000000, M, 0), ("rem", neg(-7), 2, neg(-1)), ("rem", 7, neg(-2), 1),
    ("remu", 7, 0, 7), ("remu", M, 10, 5),
]  # fmt: skip


@pytest.mark.parametrize("op, a, b, expected", R_CASES)
def test_r_type(op, a, b, expected):
    e = run([asm.li(11, a), asm.li(12, b), getattr(asm, op if hasattr(asm, op) else op + "_")(S2, 11, 12)])
    assert e.final_registers[S2] == expected


I_CASES = [
    ("addi", M, 1, 0), ("addi", 0, -1, M), ("addi", 5, -2048, neg(5 - 2048)),
    ("slti", M, 0, 1), ("slti", 0, -1, 0), ("sltiu", 0, -1, 1), ("sltiu", M, -1, 0),
    ("xori", 0x12345678, -1, 0x12345678 ^ M), ("ori", 0x100, 0x0FF, 0x1FF), ("andi", M, -2048, 0xFFFFF800),
    ("slli", 3, 31, 0x80000000), ("srli", M, 28, 0xF), ("srai", 0x80000000, 28, 0xFFFFFFF8), ("srai", 0x70000000, 28, 7),
]  # fmt: skip


@pytest.mark.parametrize("op, a, imm, expected", I_CASES)
def test_i_type(op, a, imm, expected):
    e = run([asm.li(11, a), getattr(asm, op)(S2, 11, imm)])
    assert e.final_registers[S2] == expected


DATA = bytes([0x80, 0xFF, 0x7F, 0x01, 0x34, 0x12, 0xCD, 0xAB])


@pytest.mark.parametrize(
    "op, offset, expected",
    [
        ("lb", 0, 0xFFFFFF80), ("lb", 2, 0x7F), ("lbu", 0, 0x80), ("lbu", 1, 0xFF),
        ("lh", 0, 0xFFFFFF80), ("lh", 2, 0x017F), ("lh", 6, 0xFFFFABCD), ("lhu", 6, 0xABCD),
        ("lw", 0, 0x017FFF80), ("lw", 4, 0xABCD1234),
    ],
)  # fmt: skip
def test_loads(op, offset, expected):
    e = run([asm.li(11, DATA_BASE), getattr(asm, op)(S2, 11, offset)], data=DATA)
    assert e.final_registers[S2] == expected


@pytest.mark.parametrize(
    "op, offset, expected_word0, expected_word1",
    [
        ("sb", 0, 0x017FFFAA, 0xABCD1234), ("sb", 3, 0xAA7FFF80, 0xABCD1234),
        ("sh", 2, 0xBBAAFF80, 0xABCD1234), ("sh", 4, 0x017FFF80, 0xABCDBBAA), ("sw", 4, 0x017FFF80, 0xDDCCBBAA),
    ],
)  # fmt: skip
def test_stores_merge_into_words(op, offset, expected_word0, expected_word1):
    value = 0xDDCCBBAA
    e = run([asm.li(11, DATA_BASE), asm.li(12, value), getattr(asm, op)(12, 11, offset),
             asm.lw(S2, 11, 0), asm.lw(S2 + 1, 11, 4)], data=DATA)  # fmt: skip
    assert (e.final_registers[S2], e.final_registers[S2 + 1]) == (expected_word0, expected_word1)


def test_lui_auipc_jal_jalr():
    code = [
        asm.lui(18, 0xFFFFF),  # s2 = 0xfffff000                       @ +0
        asm.auipc(19, 0x1),  # s3 = pc + 0x1000                         @ +4
        asm.jal(20, 12),  # s4 = pc + 4, skip two                       @ +8
        asm.addi(21, 0, 1), asm.addi(21, 0, 2),  # skipped              @ +12, +16
        asm.auipc(22, 0),  # s6 = pc                                    @ +20
        asm.jalr(23, 22, 13),  # target (s6 + 13) & ~1 = s6 + 12; s7 = pc + 4   @ +24
        asm.addi(24, 0, 9),  # skipped                                  @ +28
        asm.addi(25, 0, 7),  # runs                                     @ +32
    ]
    r = run(code).final_registers
    assert r[18] == 0xFFFFF000
    assert r[19] == TEXT_BASE + 4 + 0x1000
    assert r[20] == TEXT_BASE + 12
    assert r[21] == 0
    assert r[22] == TEXT_BASE + 20 and r[23] == TEXT_BASE + 28
    assert r[24] == 0 and r[25] == 7


def test_branches_taken_and_not_taken():
    code = []
    expected = {}
    cases = [("beq", 5, 5, True), ("beq", 5, 6, False), ("bne", 5, 6, True), ("blt", M, 0, True),
             ("blt", 0, M, False), ("bge", 0, M, True), ("bge", M, M, True), ("bltu", 0, M, True),
             ("bltu", M, 0, False), ("bgeu", M, 0, True), ("bgeu", 0, 1, False)]  # fmt: skip
    for i, (op, a, b, taken) in enumerate(cases):
        rd = (6, 7, 8, 9, 18, 19, 20, 21, 22, 23, 24)[i]  # not a0: HALT sets it
        code += [asm.li(28, a), asm.li(29, b), asm.addi(rd, 0, 1), getattr(asm, op)(28, 29, 8), asm.addi(rd, 0, 2)]
        expected[rd] = 1 if taken else 2
    r = run(code).final_registers
    assert {rd: r[rd] for rd in expected} == expected


def test_x0_stays_zero_and_fence_is_a_no_op():
    e = run([asm.addi(0, 0, 5), asm.li(11, DATA_BASE), asm.lw(0, 11, 0), asm.lui(0, 0x12345), asm.fence(),
             asm.add(S2, 0, 0)], data=DATA)  # fmt: skip
    assert e.final_registers[0] == 0 and e.final_registers[S2] == 0
    assert e.report.instructions["fence"] == 1


def test_one_instruction_is_one_cycle_and_counts_per_mnemonic():
    # a0 = 10; loop: a0 -= 1; bne a0, zero, loop
    e = run([asm.li(10, 10), asm.addi(10, 10, -1), asm.bne(10, 0, -4)])
    # li (2) + 10 * 2 loop + halt: li a0 (2) + li t0 (2) + ecall
    assert e.cycles == 2 + 20 + 5
    assert e.report.instructions["bne"] == 10
    assert e.report.instructions["addi"] == 1 + 10 + 2
    assert e.report.instructions["ecall"] == 1
    assert sum(e.report.instructions.values()) == e.cycles


def _run_risc0(code, **kw):
    """Under the risc0 profile: HALT with a1 → 8 zero words."""
    halt_risc0 = flatten([asm.li(10, 0), asm.li(11, DATA_BASE), asm.li(5, 0), asm.ecall()])
    return execute(program(flatten([code, halt_risc0]), data=bytes(32), abi="risc0"), **kw)


# store "addi s2, zero, 42" over the instruction at +12 from the auipc: the first one after _PATCH
_PATCH = flatten([asm.li(6, asm.addi(S2, 0, 42)), asm.auipc(7, 0), asm.sw(6, 7, 12), asm.addi(S2, 0, 1)])


def test_risc0_runs_the_program_as_loaded_as_its_proof_does():
    """The risc0 profile fetches the program as loaded, as the proof's program table holds it
    (it once re-decoded stored words, RISC Zero's own model: a self-modifying guest's run then
    differed from the run its receipt proved). The store still changes memory."""
    e = _run_risc0([_PATCH, asm.auipc(8, 0), asm.lw(9, 8, 0)], capture_trace=True)
    assert e.final_registers[S2] == 1  # the auipc ran, not the addi stored over it
    assert e.final_registers[9] == asm.addi(S2, 0, 42)  # memory holds the stored word
    assert list(e.trace.columns["insn"][:6]) == _PATCH + [asm.auipc(8, 0)]


def test_risc0_faults_on_a_fetch_outside_the_program_s_code():
    f = _fault([asm.li(11, DATA_BASE), asm.jalr(0, 11, 0)], MemoryOutOfRange, abi="risc0")
    assert f"instruction fetch from 0x{DATA_BASE:08x}, outside the program's code" in str(f)


def test_sp1_runs_the_program_as_loaded_whatever_is_stored_into_code():
    """SP1 fetches from program.instructions, decoded at load time: the store changes memory
    (a load sees it) but the original instruction runs."""
    e = run([_PATCH, asm.auipc(8, 0), asm.lw(9, 8, 0)], capture_trace=True)
    assert e.final_registers[S2] == 1  # the auipc ran, not the addi stored over it
    assert e.final_registers[9] == asm.addi(S2, 0, 42)  # memory holds the stored word
    # the trace's insn column shows the instruction that ran
    assert list(e.trace.columns["insn"][:6]) == _PATCH + [asm.auipc(8, 0)]


def test_sp1_ends_the_run_when_pc_leaves_the_program():
    """SP1's executor is done once pc is outside the program: a jump out ends the run with
    exit code 0, as if it had halted (no fault); inside an unconstrained block it is an error."""
    e = run([asm.li(18, 7), asm.li(11, 0x78000000), asm.jalr(0, 11, 0), asm.li(18, 9)])
    assert e.exit_code == 0 and e.final_registers[18] == 7 and e.final_pc == 0x78000000
    assert "HALT" not in e.report.syscalls
    with pytest.raises(SyscallError, match="left the program inside an unconstrained block"):
        run([asm.li(5, 3), asm.ecall(), asm.jalr(0, 0, 0)])
    f = _fault([asm.li(11, 0x78000000), asm.jalr(0, 11, 0)], MemoryOutOfRange, abi="risc0")
    assert "instruction fetch from 0x78000000" in str(f)


def test_a_run_of_exactly_max_cycles_may_then_leave_the_program():
    """SP1 tests its cycle limit after each instruction and is done once pc is outside the
    program, so a run that leaves the program after exactly ``max_cycles`` cycles finishes
    (pyzkvm tested the limit first and faulted: such a run needed one cycle more); one cycle
    fewer is the limit's fault."""
    code = [asm.li(18, 7), asm.li(11, 0x78000000), asm.jalr(0, 11, 0)]
    n = run(code).cycles
    e = run(code, max_cycles=n)
    assert (e.exit_code, e.cycles, e.final_pc) == (0, n, 0x78000000)
    with pytest.raises(CycleLimitExceeded):
        run(code, max_cycles=n - 1)


def test_a_run_that_leaves_the_program_at_a_segment_boundary_ends_in_that_segment():
    """Cut into segments of exactly its length (or a divisor of it), a run that leaves the
    program ends in its last full segment: no empty segment after it."""
    from pyzkvm.executor.segments import execute_segments

    body = [asm.li(10, 0)] + [asm.addi(10, 10, 1)] * 9 + [asm.li(11, 0x78000000), asm.jalr(0, 11, 0)]
    prog = program(flatten([body, halt(0)]))
    n = execute(prog).cycles
    assert n % 2 == 0
    for size in (n, n // 2):
        segments = list(execute_segments(prog, [], size))
        assert [s.cycles for s in segments] == [size] * (n // size)
        assert segments[-1].halted and segments[-1].exit_code == 0
        assert segments[-1].final_registers[10] == 9


# ---- faults ---------------------------------------------------------------------------


def _fault(code, cls, **kw):
    with pytest.raises(cls) as info:
        run(code, **kw)
    return info.value


def test_illegal_instruction_fault_carries_pc_word_disassembly_cycle():
    f = _fault([asm.addi(6, 0, 1), 0xFFFFFFFF], IllegalInstruction)
    assert (f.pc, f.word, f.cycle) == (TEXT_BASE + 4, 0xFFFFFFFF, 1)
    assert "illegal" in f.disassembly and "0x00201004" in str(f)


def test_reserved_shift_encoding_faults():
    f = _fault([asm.slli(6, 6, 1) | (1 << 25)], IllegalInstruction)
    assert f.pc == TEXT_BASE


def test_ebreak_is_a_guest_fault():
    f = _fault([asm.ebreak()], Breakpoint)
    assert f.disassembly == "ebreak" and isinstance(f, GuestFault)


@pytest.mark.parametrize(
    "code, what",
    [
        ([asm.li(11, DATA_BASE + 1), asm.lw(6, 11, 0)], "load from 0x00300001"),
        ([asm.li(11, DATA_BASE + 1), asm.lh(6, 11, 0)], "load from 0x00300001"),
        ([asm.li(11, DATA_BASE + 2), asm.sw(6, 11, 0)], "store to 0x00300002"),
        ([asm.li(11, DATA_BASE + 3), asm.sh(6, 11, 0)], "store to 0x00300003"),
        ([asm.jal(0, 6)], "jump/branch target 0x00201006"),
        ([asm.li(11, TEXT_BASE + 2), asm.jalr(0, 11, 0)], "jump/branch target 0x00201002"),
        ([asm.beq(0, 0, 10)], "jump/branch target 0x0020100a"),
    ],
)
def test_misaligned_faults(code, what):
    f = _fault(code, MisalignedAccess, data=DATA)
    assert what in str(f)


def test_untaken_branch_to_misaligned_target_is_fine():
    e = run([asm.bne(0, 0, 6)])
    assert e.exit_code == 0


@pytest.mark.parametrize(
    "code, what",
    [
        ([asm.lw(6, 0, 0x10)], "load from 0x00000010"),
        ([asm.li(11, 0x78000000), asm.sb(6, 11, 0)], "store to 0x78000000"),
        ([asm.li(11, 0xFFFFFFFC), asm.lw(6, 11, 0)], "load from 0xfffffffc"),
    ],
)
def test_out_of_range_faults(code, what):
    f = _fault(code, MemoryOutOfRange)
    assert what in str(f)


def test_memory_below_0x78000000_is_writable_and_reads_zero():
    top = 0x78000000 - 4
    e = run([asm.li(11, top), asm.lw(S2, 11, 0), asm.li(12, 0xCAFEBABE), asm.sw(12, 11, 0), asm.lw(S2 + 1, 11, 0),
             asm.lw(S2 + 2, 0, 0x20)])  # fmt: skip
    assert e.final_registers[S2 : S2 + 3] == (0, 0xCAFEBABE, 0)


def test_cycle_limit():
    f = _fault([asm.jal(0, 0)], CycleLimitExceeded, max_cycles=1000)
    assert f.cycle == 1000 and f.pc == TEXT_BASE


def test_default_cycle_limit_is_documented_value():
    assert DEFAULT_MAX_CYCLES == 1 << 26


def test_bad_arguments_are_usage_errors():
    with pytest.raises(UsageError):
        run([], max_cycles=0)
    with pytest.raises(UsageError, match="must be bytes"):
        run([], inputs=[5])
