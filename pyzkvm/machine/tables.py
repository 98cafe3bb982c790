"""Trace generation: every chip's main table from one Execution (with its Trace) — vectorised.

    chips = build_chips(program)                       # the AIRs (fixed per program)
    tables = generate_tables(chips, execution)         # their main traces + public values

Every table is built with whole-column numpy operations (sorts, gathers, bincounts); nothing
loops over rows in Python. Heights are padded to powers of two with inactive (all-zero) rows.
Order of work: CPU rows → the ALU/memop events the CPU sends → memory accesses (previous
value and timestamp of each) → boundary → byte-table multiplicities (counted last, from the
list of every byte lookup any chip made).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConstraintNotSatisfied, UnsupportedProgram, UsageError
from ..executor.result import Execution
from ..isa import OPS
from ..program import Program
from .alu import ADD_SUB, BITWISE, AddSubAir, BitwiseAir
from .alu_compare import COMPARE_OPS, CompareAir, compare_results, compare_rows
from .alu_divrem import DIV_OPS, DivRemAir, divrem_results, divrem_rows
from .alu_mul import MUL_OPS, MulAir, mul_results, mul_rows
from .alu_shift import SHIFT_OPS, ShiftAir, shift_results, shift_rows
from .bytes_table import ByteTableAir, byte_multiplicities
from .accesses import Access, MemoryState, resolve_accesses
from .cpu import (CPU, NUM_PUBLIC_VALUES, PV_ASSUMPTIONS_END, PV_ASSUMPTIONS_START, PV_COMMIT, PV_CYCLES, PV_DEFERRED, PV_END_PC, PV_HALTS, PV_HAS_COMMIT,
                  PV_HAS_DEFERRED, PV_IS_FIRST, PV_JOURNAL_END, PV_JOURNAL_START, PV_START_CLK, PV_START_PC, TS_MEM,
                  TS_RD, TS_RS1, TS_RS2, CpuAir)
from .memop import LoadStoreAir, load_store_rows
from .memory import BOUNDARY, N_REGISTERS, BoundaryAir, ImageAir, ImageTable, memory_key
from .program_table import FETCH_FIELDS, PROG, ProgramAir, ProgramTable, inverse_or_zero, pad_height, to_bytes
from .support import check_constrained
from .public_data import MachinePublicData
from .syscall import HintWordsAir, JournalWordsAir, SyscallAir
from .syscall_verify import AssumptionWordsAir
from .syscall_tables import syscall_tables

M32 = 0xFFFFFFFF


@dataclass
class Chips:
    """The machine's tables, in proof order. ``airs`` is what stark.setup takes."""

    program: ProgramTable
    image: ImageTable
    airs: list

    def index(self, name: str) -> int:
        return [a.name for a in self.airs].index(name)


@dataclass
class MachineTables:
    """One execution's main traces (name → (height, width) uint32), public values, and the
    statement's variable-length part: the journal and the VERIFY_SP1_PROOF assumptions."""

    traces: dict
    public_values: list
    journal: bytes = b""  #: the bytes the verifier balances the journal bus with
    assumptions: tuple = ()  #: the (image_id, journal_digest) pairs it balances the assumption bus with
    #: the last access of every key after these rows (what the next segment's accesses follow)
    memory_after: MemoryState | None = None

    def in_order(self, chips: Chips) -> list:
        return [self.traces[a.name] for a in chips.airs]

    @property
    def public_data(self) -> MachinePublicData:
        """The STARK's public data for this statement (public_data.py): journal and assumptions."""
        return MachinePublicData(self.journal, self.assumptions)


@dataclass
class SegmentContext:
    """What a segment's tables need from the segments before it (docs/continuations.md)."""

    memory: MemoryState       #: last (value, ts) of every key the earlier segments touched
    journal_start: int = 0    #: journal bytes the earlier segments wrote
    assumptions_start: int = 0  #: VERIFY_SP1_PROOF calls the earlier segments made

    @classmethod
    def first(cls) -> "SegmentContext":
        return cls(MemoryState.empty(), 0, 0)

    def next(self, tables: "MachineTables") -> "SegmentContext":
        return SegmentContext(tables.memory_after, self.journal_start + len(tables.journal),
                              self.assumptions_start + len(tables.assumptions))


def build_chips(program: Program) -> Chips:
    """The AIRs of the machine for this program: the program and image chips carry the
    program as preprocessed columns; the others are the same for every program."""
    prog = ProgramTable(program)
    image = ImageTable(program)
    return Chips(prog, image, machine_airs(prog, image))


def machine_airs(prog: ProgramTable | None = None, image: ImageTable | None = None) -> list:
    """The machine's AIRs in proof order. Without a program (prog, image None) the program and
    image chips have their constraints but no preprocessed data: what a verifier compiles, as
    it gets the preprocessed commitment from the seal (image_id.machine_key_from_parts)."""
    return [CpuAir(), ProgramAir(prog, NUM_PUBLIC_VALUES), AddSubAir(), BitwiseAir(), CompareAir(), ShiftAir(),
            MulAir(), DivRemAir(), LoadStoreAir(), SyscallAir(), HintWordsAir(), JournalWordsAir(), AssumptionWordsAir(),
            ByteTableAir(),
            BoundaryAir(), ImageAir(image)]


def _padded(rows: np.ndarray, width: int) -> np.ndarray:
    out = np.zeros((pad_height(len(rows)), width), dtype=np.int64)
    out[: len(rows)] = rows
    return out


def _word(limbs: np.ndarray) -> np.ndarray:
    limbs = limbs.astype(np.uint64)
    return limbs[:, 0] | limbs[:, 1] << 8 | limbs[:, 2] << 16 | limbs[:, 3] << 24


def alu_results(alu_op, a, b) -> np.ndarray:
    """c = a OP b for every ALU operation the CPU sends (uint64 arrays of 32-bit values)."""
    c = np.zeros_like(a)
    for name, f in (("add", lambda x, y: (x + y) & M32), ("sub", lambda x, y: (x - y) & M32),
                    ("xor", np.bitwise_xor), ("or", np.bitwise_or), ("and", np.bitwise_and)):
        rows = alu_op == OPS[name]
        c[rows] = f(a[rows], b[rows])
    cmp = np.isin(alu_op, [OPS[o] for o in COMPARE_OPS])
    c[cmp] = compare_results(alu_op[cmp], a[cmp], b[cmp])
    for ops, results in ((SHIFT_OPS, shift_results), (MUL_OPS, mul_results), (DIV_OPS, divrem_results)):
        sel = np.isin(alu_op, [OPS[o] for o in ops])
        c[sel] = results(alu_op[sel], a[sel], b[sel])
    return c


def load_results(op, word, offset) -> np.ndarray:
    """The value a load puts in rd (uint64), from the word and the byte offset."""
    sh = (8 * offset).astype(np.uint64)
    byte, half = (word >> sh) & 0xFF, (word >> sh) & 0xFFFF
    out = np.where(op == OPS["lw"], word, 0)
    out = np.where(op == OPS["lbu"], byte, out)
    out = np.where(op == OPS["lhu"], half, out)
    out = np.where(op == OPS["lb"], np.where(byte >= 0x80, byte | 0xFFFFFF00, byte), out)
    out = np.where(op == OPS["lh"], np.where(half >= 0x8000, half | 0xFFFF0000, half), out)
    return out.astype(np.uint64)


def generate_tables(chips: Chips, execution: Execution, context: SegmentContext | None = None) -> MachineTables:
    """Fill every chip's main trace from the execution (docs/machine.md §6).

    A whole run needs no ``context``. A segment of a continuation (an Execution from
    executor.segments, its clk global) takes the state the earlier segments left: memory
    accesses follow their last ones, the journal continues at journal_start; the segment that
    halts builds the memory boundary for the whole run."""
    check_constrained(execution)
    if context is None:
        if not execution.halted:
            raise UsageError("a segment that does not halt needs a SegmentContext (see executor.segments)")
        context = SegmentContext.first()
    tr = execution.trace.columns
    n = len(tr["clk"])
    pc = tr["pc"].astype(np.int64)
    prog = chips.program
    rows = prog.rows_of(pc)
    if np.any(rows < 0):
        bad = int(pc[np.argmax(rows < 0)])
        raise UnsupportedProgram(f"pc 0x{bad:08x} executed outside the program's executable segments")
    if np.any(prog.words[rows] != tr["insn"]):
        bad = int(pc[np.argmax(prog.words[rows] != tr["insn"])])
        raise UnsupportedProgram(f"the instruction at pc 0x{bad:08x} was modified at run time: self-modifying code cannot be proved")
    fetched = prog.columns[rows].astype(np.int64)
    f = lambda name: fetched[:, getattr(PROG, name)]  # noqa: E731
    flag = lambda name: f(name) == 1  # noqa: E731

    # ---- CPU: fetched fields, operands, results -------------------------------------------
    cpu = np.zeros((pad_height(n), CPU.width), dtype=np.int64)
    cpu[:n, CPU.is_real] = 1
    cpu[:n, CPU.clk] = tr["clk"]
    cpu[:n, CPU.pc] = pc
    cpu[:n, CPU.next_pc] = tr["next_pc"]
    for name in FETCH_FIELDS[1:]:
        cpu[:n, getattr(CPU, name)] = f(name)
    alu_op = f("alu_op")
    a_val = tr["rs1_val"].astype(np.uint64)
    b_val = tr["rs2_val"].astype(np.uint64)
    imm_val = _word(fetched[:, PROG.imm])
    opb_val = np.where(flag("uses_imm"), imm_val, b_val)
    is_halt = flag("f_ecall") & (a_val == 0)
    cpu[:n, CPU.is_halt] = is_halt
    # address arithmetic: sum = rs1 + imm (JALR target, load/store address)
    addr_user = flag("f_jalr") | flag("f_load") | flag("f_store")
    sum_val = np.where(addr_user, (a_val + imm_val) & M32, 0).astype(np.uint64)
    offset = (sum_val & 3).astype(np.int64)
    is_mem = flag("f_load") | flag("f_store")
    mem_prev = np.where(is_mem, tr["mem_before"], 0).astype(np.uint64)
    mem_new = np.where(is_mem, tr["mem_after"], 0).astype(np.uint64)
    # the value each row hands to rd (computed even when rd = x0, where the trace records 0)
    c_val = alu_results(alu_op, a_val, opb_val)  # f_alu and branches (taken bit)
    c_val = np.where(flag("f_static"), imm_val, c_val)
    c_val = np.where(flag("f_jal") | flag("f_jalr"), (pc + 4).astype(np.uint64), c_val)
    c_val = np.where(flag("f_load"), load_results(alu_op, mem_prev, offset), c_val)
    c_val = np.where(flag("f_store"), 0, c_val)
    c_val = np.where(flag("f_ecall"), tr["rd_val"], c_val).astype(np.uint64)  # t0 ← the syscall's return
    writes = flag("writes_rd")
    if np.any(c_val[writes] != tr["rd_val"][writes]):
        bad = int(pc[writes][np.argmax(c_val[writes] != tr["rd_val"][writes])])
        raise ConstraintNotSatisfied(f"machine and executor disagree on the result at pc 0x{bad:08x} (a bug: report it)")
    for col, val in (("a", a_val), ("b", b_val), ("opb", opb_val), ("c", c_val), ("sum", sum_val),
                     ("mem_prev", mem_prev), ("mem_new", mem_new)):
        cpu[:n, getattr(CPU, col)] = to_bytes(val)
    cpu[:n, CPU.off0], cpu[:n, CPU.off1] = offset & 1, offset >> 1
    cpu[:n, CPU.q] = (sum_val & 0xFF).astype(np.int64) >> 2
    high = cpu[:n, CPU.sum[1]] + cpu[:n, CPU.sum[2]] + cpu[:n, CPU.sum[3]]
    cpu[:n, CPU.hz] = high != 0
    cpu[:n, CPU.hinv] = inverse_or_zero(high)
    au = np.flatnonzero(addr_user)

    # ---- syscalls (other than HALT): their own chips, and their register/memory accesses ----
    clk = tr["clk"].astype(np.int64)
    ecalls = np.flatnonzero(flag("f_ecall") & ~is_halt)
    sys_tables, sys_groups = syscall_tables(clk[ecalls], a_val[ecalls].astype(np.int64), b_val[ecalls].astype(np.int64),
                                                c_val[ecalls].astype(np.int64), execution.trace.syscall_events,
                                                context.journal_start, context.assumptions_start)

    # ---- memory accesses: previous (value, ts) of every register and memory access ---------
    image = chips.image
    ts0 = 4 * clk + 4
    mem_rows = np.flatnonzero(is_mem)
    wr = np.flatnonzero(writes)
    real = np.arange(n)
    groups = [
        Access(cpu, real, f("rs1"), ts0 + TS_RS1, a_val, CPU.rs1_prev_ts, CPU.rs1_d, None, "register"),
        Access(cpu, real, f("rs2"), ts0 + TS_RS2, b_val, CPU.rs2_prev_ts, CPU.rs2_d, None, "register"),
        Access(cpu, mem_rows, memory_key(sum_val[mem_rows]), ts0[mem_rows] + TS_MEM, mem_new[mem_rows],
               CPU.mem_prev_ts, CPU.mem_d, CPU.mem_prev, "memory"),
        Access(cpu, wr, f("rd")[wr], ts0[wr] + TS_RD, c_val[wr], CPU.rd_prev_ts, CPU.rd_d, CPU.rd_prev, "register"),
    ] + sys_groups
    k_s, t_s, v_s = resolve_accesses(groups, image, context.memory)
    memory_after = context.memory.after(k_s, t_s, v_s)
    if np.any(cpu[mem_rows[:, None], CPU.mem_prev] != to_bytes(mem_prev[mem_rows])):
        raise ConstraintNotSatisfied("a load/store's word does not match memory (inconsistent trace)")

    # ---- ALU chips: every "c = a OP b" the CPU sends -------------------------------------
    alu_rows = np.flatnonzero(flag("f_alu") | flag("f_branch"))
    ev_op = np.concatenate([alu_op[alu_rows], np.full(len(au), OPS["add"])])
    ev_a = np.concatenate([a_val[alu_rows], a_val[au]])
    ev_b = np.concatenate([opb_val[alu_rows], imm_val[au]])
    ev_c = np.concatenate([c_val[alu_rows], sum_val[au]])
    traces = {"cpu": cpu, **sys_tables}
    # the divide chip is itself a client of the multiply, subtract and compare chips
    sel = np.isin(ev_op, [OPS[o] for o in DIV_OPS])
    div_rows, (d_op, d_a, d_b, d_c) = divrem_rows(ev_op[sel], ev_a[sel], ev_b[sel])
    traces["alu divrem"] = _padded(div_rows, div_rows.shape[1])
    ev_op = np.concatenate([ev_op, d_op])
    ev_a, ev_b, ev_c = (np.concatenate([x.astype(np.uint64), y.astype(np.uint64)]) for x, y in
                        ((ev_a, d_a), (ev_b, d_b), (ev_c, d_c)))
    traces["alu add/sub"] = _add_sub_table(ev_op, ev_a, ev_b, ev_c)
    traces["alu bitwise"] = _bitwise_table(ev_op, ev_a, ev_b, ev_c)
    cmp = np.isin(ev_op, [OPS[o] for o in COMPARE_OPS])
    cmp_rows = compare_rows(ev_op[cmp], ev_a[cmp], ev_b[cmp])
    traces["alu compare"] = _padded(cmp_rows, cmp_rows.shape[1])
    for name, ops, make in (("alu shift", SHIFT_OPS, shift_rows), ("alu mul", MUL_OPS, mul_rows)):
        sel = np.isin(ev_op, [OPS[o] for o in ops])
        chip_rows = make(ev_op[sel], ev_a[sel], ev_b[sel])
        traces[name] = _padded(chip_rows, chip_rows.shape[1])
    ls_rows = load_store_rows(alu_op[mem_rows], offset[mem_rows], mem_prev[mem_rows], mem_new[mem_rows],
                                  b_val[mem_rows], c_val[mem_rows])
    traces["load/store"] = _padded(ls_rows, ls_rows.shape[1])

    # ---- memory boundary: every register, every image word, every touched key, sorted ------
    #      (once per run: in the segment that halts, from the whole run's last accesses)
    if execution.halted:
        traces["memory boundary"] = _boundary_table(image, memory_after.keys, memory_after.ts, memory_after.values)
    else:
        traces["memory boundary"] = np.zeros((pad_height(0), BOUNDARY.width), dtype=np.int64)

    # ---- program multiplicities, byte table, image ---------------------------------------
    prog_main = np.zeros((pad_height(len(prog.pcs)), 1), dtype=np.int64)
    prog_main[: len(prog.pcs), 0] = np.bincount(rows, minlength=len(prog.pcs))
    traces["program"] = prog_main
    traces["memory image"] = np.zeros((pad_height(len(image.keys)), 1), dtype=np.int64)
    pv = public_values(execution, context)
    traces = {name: np.ascontiguousarray(t, dtype=np.uint32) for name, t in traces.items()}
    # the byte table counts what every other chip's constraints send on the byte bus
    traces["bytes"] = byte_multiplicities(chips.airs, traces, pv)
    return MachineTables(traces, pv, execution.journal, tuple(execution.assumptions), memory_after)


def public_values(execution: Execution, context: SegmentContext | None = None) -> list:
    """The statement's public values (docs/machine.md §5): exit code, commit and deferred words,
    the end clock, and where the rows start and end (pc, clock, journal length). For a segment
    that does not halt, the exit code and commit words are its run's final ones only once the
    caller copies them in (with_run_outcome)."""
    context = context or SegmentContext.first()
    tr = execution.trace.columns
    pv = [0] * NUM_PUBLIC_VALUES
    pv[0:4] = list((execution.exit_code & M32).to_bytes(4, "little"))
    pv[PV_START_CLK] = int(tr["clk"][0])
    pv[PV_CYCLES] = int(tr["clk"][-1]) + 1
    pv[PV_START_PC] = int(tr["pc"][0])
    pv[PV_END_PC] = 0 if execution.halted else int(tr["next_pc"][-1])
    pv[PV_IS_FIRST] = int(pv[PV_START_CLK] == 0)
    pv[PV_HALTS] = int(bool(execution.halted))
    pv[PV_JOURNAL_START] = context.journal_start
    pv[PV_JOURNAL_END] = context.journal_start + len(execution.journal)
    pv[PV_ASSUMPTIONS_START] = context.assumptions_start
    pv[PV_ASSUMPTIONS_END] = context.assumptions_start + len(execution.assumptions)
    for flag, slots, words in ((PV_HAS_COMMIT, PV_COMMIT, execution.commit_words),
                               (PV_HAS_DEFERRED, PV_DEFERRED, execution.deferred_proofs_digest)):
        if words is not None:
            pv[flag] = 1
            for i, b in enumerate(b"".join(int(w).to_bytes(4, "little") for w in words)):
                pv[slots[i]] = b
    return pv


#: the public values that describe the whole run (the same in every segment's proof)
RUN_OUTCOME = (0, 1, 2, 3, PV_HAS_COMMIT, *PV_COMMIT, PV_HAS_DEFERRED, *PV_DEFERRED)


def with_run_outcome(pv: list, final_pv: list) -> list:
    """A segment's public values with the run's exit code and commit words (from the segment
    that halts) copied in, so every segment's statement names the same run outcome."""
    out = list(pv)
    for i in RUN_OUTCOME:
        out[i] = final_pv[i]
    return out


def _add_sub_table(op, a, b, c):
    sel = np.isin(op, [OPS["add"], OPS["sub"]])
    m = int(sel.sum())
    t = np.zeros((pad_height(m), ADD_SUB.width), dtype=np.int64)
    is_sub = op[sel] == OPS["sub"]
    t[:m, ADD_SUB.is_add], t[:m, ADD_SUB.is_sub] = ~is_sub, is_sub
    t[:m, ADD_SUB.a], t[:m, ADD_SUB.b], t[:m, ADD_SUB.c] = to_bytes(a[sel]), to_bytes(b[sel]), to_bytes(c[sel])
    # carry_i = carry out of byte i of x + y, where (x, y) = (a, b) for ADD and (b, c) for SUB
    x = np.where(is_sub, b[sel], a[sel]).astype(np.int64)
    y = np.where(is_sub, c[sel], b[sel]).astype(np.int64)
    for i in range(4):
        mask = (1 << (8 * (i + 1))) - 1
        t[:m, ADD_SUB.carry[i]] = ((x & mask) + (y & mask)) >> (8 * (i + 1))
    return t


def _bitwise_table(op, a, b, c):
    sel = np.isin(op, [OPS["and"], OPS["or"], OPS["xor"]])
    m = int(sel.sum())
    t = np.zeros((pad_height(m), BITWISE.width), dtype=np.int64)
    t[:m, BITWISE.a], t[:m, BITWISE.b], t[:m, BITWISE.c] = to_bytes(a[sel]), to_bytes(b[sel]), to_bytes(c[sel])
    for name, o in (("is_and", "and"), ("is_or", "or"), ("is_xor", "xor")):
        t[:m, getattr(BITWISE, name)] = op[sel] == OPS[o]
    return t


def _boundary_table(image, k_s, t_s, v_s):
    """Boundary rows from the accesses sorted by (key, ts)."""
    keys = np.union1d(np.union1d(np.arange(N_REGISTERS), image.keys), k_s)
    nb = len(keys)
    t = np.zeros((pad_height(nb), BOUNDARY.width), dtype=np.int64)
    t[:nb, BOUNDARY.is_real] = 1
    t[:nb, BOUNDARY.key] = keys
    t[:nb, BOUNDARY.kb] = to_bytes(keys)
    t[: nb - 1, BOUNDARY.dk] = to_bytes(np.diff(keys) - 1)
    pos = np.minimum(np.searchsorted(image.keys, keys), len(image.keys) - 1)
    in_image = image.keys[pos] == keys
    init = np.where(in_image, image.words[pos], 0)
    t[:nb, BOUNDARY.in_image] = in_image
    t[:nb, BOUNDARY.init] = to_bytes(init)
    last = np.ones(len(k_s), dtype=bool)  # the last access of each key closes its chain
    last[:-1] = k_s[1:] != k_s[:-1]
    final_val, final_ts = init.copy(), np.zeros(nb, dtype=np.int64)
    where = np.searchsorted(keys, k_s[last])
    final_val[where], final_ts[where] = v_s[last], t_s[last]
    t[:nb, BOUNDARY.final] = to_bytes(final_val)
    t[:nb, BOUNDARY.final_ts] = final_ts
    return t
