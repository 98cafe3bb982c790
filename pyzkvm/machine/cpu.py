"""The CPU chip: one row per executed instruction (cycle), padded with inactive rows.

The CPU is deliberately thin. It fetches (a lookup into the program chip), reads rs1 and rs2
and writes rd through offline memory checking (memory.py), moves the pc, and delegates the
arithmetic to ALU chips through the ``alu`` bus. The few instruction classes whose result is
cheap to state here (LUI/AUIPC, JAL, JALR, branches' next pc, HALT) are constrained in this
table; loads and stores do their memory access here and hand the byte selection to the
load/store chip (``memop`` bus).

Columns (see docs/machine.md §2.1 for the full list with their constraints):
    is_real clk pc next_pc             row is an executed cycle; cycle number; pc before/after
    alu_op rd rs1 rs2 imm0..3 imm_f    decoded fields, fetched from the program chip
    uses_imm f_alu f_static f_jal f_jalr f_branch f_load f_store f_ecall writes_rd
                                       class flags, fetched too
    is_halt                            this ecall is HALT (t0 = 0)
    a0..3 b0..3                        rs1's and rs2's values (bytes)
    opb0..3                            the ALU's second operand: imm or rs2's value
    c0..3                              the result written to rd (bytes); branch: (taken, 0, 0, 0)
    sum0..3                            a + imm (JALR target, load/store byte address), from add_sub
    off0 off1 q                        sum0 = off0 + 2·off1 + 4·q: the byte offset in the word
    hz hinv                            hz = [sum ≥ 256] (inverse trick): with it, loads/stores prove sum ≥ 0x20
    mem_prev0..3 mem_new0..3           the memory word before/after a load or store
    rs1_prev_ts rs1_d0..3 (same for rs2, mem)  memory checking: the previous access's timestamp and
                                           (ts − prev_ts − 1) in bytes (proves prev_ts < ts)
    rd_prev_ts rd_prev0..3 rd_d0..3    the previous access of rd: its timestamp and value

Timestamps: the k-th access of cycle clk happens at ts = 4·clk + 4 + k (k = 0 rs1, 1 rs2,
2 memory, 3 rd), so every access has its own timestamp and ts > 0 (0 is the initial state).
clk is the run's global cycle number, also in a segment of a continuation (docs/continuations.md):
a segment's first row has clk = its public start clock.
"""

from __future__ import annotations

import functools

import numpy as np

from ..errors import UnsupportedProgram
from ..isa import OPS
from . import buses
from .chip import Chip
from .accesses import Access
from .layout import Layout
from .program_table import CLASS_FLAGS, FETCH_FIELDS, PROG, inverse_or_zero, pad_height
from .statement import PV_CYCLES, PV_EXIT_CODE, PV_HALTS, PV_PROFILE, PV_START_CLK
from .witness import words
from ..stark.pool import chunk_bounds, parallel_for

CPU = Layout(
    "is_real clk pc next_pc alu_op rd rs1 rs2 imm:4 imm_f uses_imm "
    "f_alu f_static f_jal f_jalr f_branch f_load f_store f_ecall writes_rd is_halt "
    "a:4 b:4 opb:4 c:4 sum:4 off0 off1 q hz hinv mem_prev:4 mem_new:4 "
    "rs1_prev_ts rs1_d:4 rs2_prev_ts rs2_d:4 mem_prev_ts mem_d:4 rd_prev_ts rd_prev:4 rd_d:4"
)

#: the fetched fields but pc, adjacent and in FETCH_FIELDS' order in both tables (checked below)
FETCHED_CPU, FETCHED_PROG = CPU.adjacent(FETCH_FIELDS[1], FETCH_FIELDS[-1]), PROG.adjacent(FETCH_FIELDS[1], FETCH_FIELDS[-1])
assert [getattr(CPU, f) for f in FETCH_FIELDS[1:]] == list(range(FETCHED_CPU.start, FETCHED_CPU.stop))
assert [getattr(PROG, f) for f in FETCH_FIELDS[1:]] == list(range(FETCHED_PROG.start, FETCHED_PROG.stop))

#: the blocks of adjacent columns _fill builds a row at a time: is_real … is_halt (HEAD_FIRST, the
#: fetched fields, is_halt) and a … mem_new (the words of WORDS as bytes, with off0 … hinv)
HEAD, HEAD_FIRST = CPU.adjacent("is_real", "is_halt"), (CPU.is_real, CPU.clk, CPU.pc, CPU.next_pc)
BODY, WORDS = CPU.adjacent("a", "mem_new"), ("a", "b", "opb", "c", "sum", "mem_prev", "mem_new")
assert HEAD.start == 0 and FETCHED_CPU.start == CPU.next_pc + 1 and FETCHED_CPU.stop == CPU.is_halt == HEAD.stop - 1
assert BODY.start == HEAD.stop and [c for name in WORDS for c in getattr(CPU, name)] == \
    [*range(BODY.start, CPU.off0), *range(CPU.hinv + 1, BODY.stop)]


def _at(block: slice, columns: slice) -> slice:
    """``columns`` of the table as columns of a block that starts at ``block.start``."""
    return slice(columns.start - block.start, columns.stop - block.start)


TS_RS1, TS_RS2, TS_MEM, TS_RD = 0, 1, 2, 3
OPS_ADD = OPS["add"]
MEM_KEY_BASE = 32  #: bus key of the memory word at address A: 32 + A/4 (registers are keys 0..31)


def word(limbs):
    """Σ limb_i·256^i: the 32-bit value of 4 byte limbs (exact while the value is < p)."""
    return limbs[0] + 256 * limbs[1] + 65536 * limbs[2] + 16777216 * limbs[3]


def timestamp(b, clk, k):
    """ts = 4·clk + 4 + k: the k-th memory access of the cycle."""
    return 4 * clk + (4 + k)


#: weights of the 4 bytes d0..d3 of ts − prev_ts − 1. d3 weighs 2^20, not 2^24, so the sum
#: is < 2^28 + 2^24: with every timestamp < 2^28 + 8 (clk < 2^26, MAX_CYCLES) a "negative"
#: difference would be ≥ p − 2^28 − 8 > 2^28 + 2^24 in the field, so it cannot be written.
D_WEIGHTS = (1, 1 << 8, 1 << 16, 1 << 20)

#: rows of the CPU table filled at a time (CpuAir._fill; the parts are shared out among the
#: pool's threads): a part's temporaries, a few dozen int64 columns of its rows, are 0.5 MB each
#: and malloc reuses them part after part, where one part per thread made them 8 MB each at 2^20
#: cycles, fresh pages every time (the table build at 2^20, hiding: 1.04 → 0.89 s on one thread,
#: 0.88 → 0.71 s on two, system time 0.24 → 0.11 s and 0.33 → 0.13 s; medians of 5)
FILL_PART_ROWS = 1 << 16


def memory_access(b, key, before, after, prev_ts, d, ts, mult, what):
    """One offline-memory-checking access at ts (docs/machine.md §4): consume (key, before,
    prev_ts), produce (key, after, ts), and prove prev_ts < ts with ts − prev_ts − 1 = Σ d_i·w_i
    over range-checked bytes d_i (D_WEIGHTS). A read passes after = before."""
    diff = sum(w * x for w, x in zip(D_WEIGHTS, d))
    b.assert_zero(mult * (ts - prev_ts - 1 - diff), f"{what}: previous access is earlier (ts − prev_ts − 1 = d)")
    b.receive(buses.MEMORY, [key, *before, prev_ts], mult)
    b.send(buses.MEMORY, [key, *after, ts], mult)
    b.send(buses.BYTE, [buses.TAG_RANGE, d[0], d[1], 0, 0], mult)
    b.send(buses.BYTE, [buses.TAG_RANGE, d[2], d[3], 0, 0], mult)


class CpuAir(Chip):
    """Fetch, register access, pc update and the CPU-local instruction classes."""

    name = "cpu"
    width = CPU.width

    def constraints(self, b):
        m = lambda c: b.main(c)  # noqa: E731
        nxt = lambda c: b.main_next(c)  # noqa: E731
        cols = lambda name: [m(i) for i in getattr(CPU, name)]  # noqa: E731
        is_real, clk, pc, next_pc = m(CPU.is_real), m(CPU.clk), m(CPU.pc), m(CPU.next_pc)
        a, bv, opb, c, imm, s = (cols(n) for n in ("a", "b", "opb", "c", "imm", "sum"))
        flags = {f: m(getattr(CPU, f)) for f in CLASS_FLAGS}
        f_alu, f_static, f_jal, f_jalr, f_branch, f_load, f_store, f_ecall = (flags[f] for f in CLASS_FLAGS)
        uses_imm, writes_rd, is_halt = m(CPU.uses_imm), m(CPU.writes_rd), m(CPU.is_halt)
        off0, off1, q = m(CPU.off0), m(CPU.off1), m(CPU.q)
        R = buses.TAG_RANGE

        # --- row shape: booleans, exactly one class per executed row ----------------------
        for name in ("is_real", "uses_imm", "writes_rd", "is_halt", "off0", "off1", *CLASS_FLAGS):
            b.assert_bool(m(getattr(CPU, name)), f"{name} is boolean")
        # the activity selector is the sum of the class flags (= is_real): a bus multiplicity
        # built from flags then vanishes on a padding row by construction (stark/air.py)
        active = b.declare_active(sum(flags.values()))
        b.assert_eq(active, is_real, "exactly one instruction class per executed row")
        b.assert_zero((1 - is_real) * writes_rd, "padding rows write no register")

        # --- fetch: (pc, decoded fields) must be a row of the program chip --------------------
        b.send(buses.PROGRAM, [m(getattr(CPU, f)) for f in FETCH_FIELDS], active)

        # --- start: the first row runs at the public start clock, and says where it starts on
        #     the segment pc bus: the program chip's entry row answers (0, entry point) in the run's
        #     first segment, the previous segment's last row (below) every other
        b.when_first_row().assert_eq(is_real, 1, "the first row is executed")
        b.when_first_row().assert_eq(clk, b.public(PV_START_CLK), "the clock starts at START_CLK")
        b.send_on_row("first", buses.SEGMENT_PC, [clk, pc])

        # --- sequencing: real rows are a prefix, each the successor of the one before ---------
        nreal = nxt(CPU.is_real)
        t = b.when_transition()
        t.assert_zero((1 - is_real) * nreal, "executed rows form a prefix of the table")
        t.assert_zero(nreal * (nxt(CPU.clk) - clk - 1), "clk' = clk + 1")
        t.assert_zero(nreal * (nxt(CPU.pc) - next_pc), "pc' = next_pc (the next row runs the computed pc)")
        t.assert_zero(is_halt * nreal, "nothing runs after HALT")
        # --- end: the last executed row (next row padding, or the table's last row) is HALT iff
        #     HALTS, and it leaves clk + 1 = PV_CYCLES. The padding rows keep its clk and next_pc,
        #     so the table's last row holds them, padding or not: unless the segment halts, that
        #     row receives (clk + 1, next_pc), the next segment's first row's send
        halts = b.public(PV_HALTS)
        for cond, name in ((t, ""), (b.when_last_row(), " (full table)")):
            last = is_real * (1 - nreal) if cond is t else is_real
            cond.assert_zero(last * (halts - is_halt), f"the last executed row is HALT iff HALTS{name}")
            cond.assert_zero(last * (clk + 1 - b.public(PV_CYCLES)), f"the last row ends at PV_CYCLES{name}")
        t.assert_zero((1 - nreal) * (nxt(CPU.clk) - clk), "a padding row keeps the last clk")
        t.assert_zero((1 - nreal) * (nxt(CPU.next_pc) - next_pc), "a padding row keeps the last next_pc")
        b.receive_on_row("last", buses.SEGMENT_PC, [clk + 1, next_pc], 1 - halts)

        # --- next pc per class -------------------------------------------------------------
        b.assert_zero((f_alu + f_static + f_load + f_store + f_ecall - is_halt) * (next_pc - pc - 4),
                      "next_pc = pc + 4 (ALU, LUI/AUIPC, loads, stores, syscalls)")
        b.assert_zero(f_jal * (next_pc - pc - m(CPU.imm_f)), "JAL: next_pc = pc + imm")
        b.assert_zero(f_jalr * (next_pc - word(s) + off0), "JALR: next_pc = (rs1 + imm) & ~1")
        b.assert_zero(f_branch * (next_pc - pc - 4 - c[0] * (m(CPU.imm_f) - 4)),
                      "branch: next_pc = taken ? pc + imm : pc + 4")

        # --- results computed here --------------------------------------------------------
        for i in range(4):
            b.assert_zero(f_static * (c[i] - imm[i]), f"LUI/AUIPC: rd = the static value (byte {i})")
        # JAL/JALR link: rd = pc + 4 as bytes; c3 < 0x78 makes Σ c_i·256^i < p, so the bytes are unique
        link = f_jal + f_jalr
        b.assert_zero(link * (word(c) - pc - 4), "JAL/JALR: rd = pc + 4")
        b.send(buses.BYTE, [R, c[0], c[1], 0, 0], link)
        b.send(buses.BYTE, [R, c[2], c[3], 0, 0], link)
        b.send(buses.BYTE, [R, c[3] + 0x88, 0, 0, 0], link)

        # --- ALU: the second operand is imm or rs2's value; the ALU chips check c = a OP opb --
        for i in range(4):
            b.assert_eq(opb[i], bv[i] + uses_imm * (imm[i] - bv[i]), f"opb = uses_imm ? imm : rs2 (byte {i})")
        b.send(buses.ALU, [m(CPU.alu_op), *a, *opb, *c], f_alu + f_branch)

        # --- address arithmetic (JALR, loads, stores): sum = rs1 + imm, checked by add_sub ------
        addr_user = f_jalr + f_load + f_store
        b.send(buses.ALU, [OPS_ADD, *a, *imm, *s], addr_user)
        b.assert_zero(addr_user * (s[0] - off0 - 2 * off1 - 4 * q), "sum0 = off0 + 2·off1 + 4·q")
        b.send(buses.BYTE, [R, q, 4 * q, 0, 0], addr_user)              # q < 64
        b.send(buses.BYTE, [R, s[3] + 0x88, 0, 0, 0], addr_user)        # sum < 0x78000000 (< p, in range)
        # loads/stores: address ≥ 0x20 (below is the zero page, a fault): hz = [sum1 + sum2 + sum3 ≠ 0],
        # and when hz = 0, sum0 − 32 must be a byte
        hz, high = m(CPU.hz), s[1] + s[2] + s[3]
        b.assert_bool(hz, "hz is boolean")
        b.assert_zero((1 - hz) * high, "hz = 0 ⇒ sum < 256")
        b.assert_eq(high * m(CPU.hinv), hz, "sum ≥ 256 ⇒ hz")

        # --- loads and stores: one memory access at ts 4·clk + 6; bytes checked by the memop chip
        mem = f_load + f_store
        key = MEM_KEY_BASE + q + 64 * s[1] + 16384 * s[2] + 4194304 * s[3]  # 32 + address/4
        mem_prev, mem_new = cols("mem_prev"), cols("mem_new")
        self._access(b, key, mem_prev, mem_new, CPU.mem_prev_ts, CPU.mem_d, timestamp(b, clk, TS_MEM), mem, "memory")
        b.send(buses.MEMOP, [m(CPU.alu_op), off0, off1, *mem_prev, *mem_new, *bv, *c], mem)
        b.send(buses.BYTE, [R, s[0] - 32 + 32 * hz, 0, 0, 0], mem)  # address ≥ 0x20

        # --- ecall: HALT here; every other syscall goes to the syscall chip ---------------------
        b.assert_zero(is_halt * (1 - f_ecall), "only an ecall halts")
        # the tuple names the profile (the ecall's alu_op, from the program table: statement.PROFILE_IDS)
        # and whether the row halts. SP1's HALT is done here; RISC Zero's also reads the output
        # digest, so it goes to the syscall chip too (with is_halt = 1, which only that kind accepts)
        profile = m(CPU.alu_op)
        b.assert_zero(f_ecall * (profile - b.public(PV_PROFILE)), "ecall: the program's ABI profile is PV_PROFILE")
        b.send(buses.SYSCALL, [clk, profile, is_halt, *a, *bv, *c], f_ecall * (1 - is_halt + is_halt * profile))
        b.assert_zero(is_halt * (a[0] + a[1] + a[2] + a[3]), "HALT: t0 = 0")
        for i in range(4):
            b.assert_zero(is_halt * c[i], f"HALT: t0 keeps the code 0 (byte {i})")
            # (risc0: a0 = halt type | exit code << 8, and so is the public slot: statement.py)
            b.assert_zero(is_halt * (bv[i] - b.public(PV_EXIT_CODE[i])), f"HALT: exit code = a0 (byte {i})")
        b.assert_zero(is_halt * next_pc, "HALT: next_pc = 0")

        # --- registers through offline memory checking --------------------------------------
        self._access(b, m(CPU.rs1), a, a, CPU.rs1_prev_ts, CPU.rs1_d, timestamp(b, clk, TS_RS1), active, "rs1")
        self._access(b, m(CPU.rs2), bv, bv, CPU.rs2_prev_ts, CPU.rs2_d, timestamp(b, clk, TS_RS2), active, "rs2")
        self._access(b, m(CPU.rd), cols("rd_prev"), c, CPU.rd_prev_ts, CPU.rd_d, timestamp(b, clk, TS_RD), active * writes_rd, "rd")

    @staticmethod
    def _access(b, key, before, after, prev_ts_col, d_cols, ts, mult, what):
        memory_access(b, key, before, after, b.main(prev_ts_col), [b.main(i) for i in d_cols], ts, mult, what)

    def generate(self, w) -> np.ndarray:
        """One row per executed instruction, from the execution's trace: the fields fetched
        from the program, the operands and the value written to rd as the executor recorded
        them (rd_val); only a result the trace does not hold — rd = x0, a branch's taken bit —
        is asked of the chip that proves it (w.answer). Files the four register/memory
        accesses of every row for memory checking.

        The rows are filled in parts, at least one per thread and none over FILL_PART_ROWS rows,
        side by side on the thread pool (``_fill``: numpy releases the GIL in its array loops;
        each part files its own access groups, which memory checking sorts by (key, ts) with the
        others); the results asked of other chips are then asked once, for every part's rows, on
        this thread."""
        tr = w.execution.trace.columns
        n = len(tr["clk"])
        prog = w.program
        rows = prog.rows_of(tr["pc"])
        if np.any(rows < 0):
            bad = int(tr["pc"][np.argmax(rows < 0)])
            raise UnsupportedProgram(f"pc 0x{bad:08x} executed outside the program's executable segments")
        if np.any(prog.words[rows] != tr["insn"]):
            bad = int(tr["pc"][np.argmax(prog.words[rows] != tr["insn"])])
            raise UnsupportedProgram(f"the instruction run at pc 0x{bad:08x} is not the program's as loaded (a trace that "
                                     "fetched from memory: the ABI profiles' executors fetch the program as loaded, docs/abi.md)")
        # uint32 field elements from the start (every cell is < p): half the bytes an int64
        # table writes, column by column, and no copy to the prover's dtype afterwards
        # (its pages faulted in by the parts that write them, side by side: a fill(0) pass first,
        # on this thread, was ~100 ms of the 2-thread build at 2^20 rows, median 1.22 → 1.11 s)
        cpu = np.zeros((pad_height(n), CPU.width), dtype=np.uint32)
        # as many parts as the pool's threads take (one each: chunk_bounds), and none over FILL_PART_ROWS
        count = max(len(chunk_bounds(n, 8 * CPU.width, chunks_per_thread=1)) - 1, -(-n // FILL_PART_ROWS))
        bounds = [n * p // count for p in range(count + 1)]
        parts: list = [None] * count

        def fill(p0, p1):  # parts p0..p1−1 (a chunk of pool.parallel_for)
            for p in range(p0, p1):
                parts[p] = self._fill(w, rows, cpu, bounds[p], bounds[p + 1])

        parallel_for(fill, count, work_per_item=8 * CPU.width * n // count)
        # c where no register write recorded it: the ALU's result (rd = x0, a branch's taken bit),
        # a load's (rd = x0); asked once, for every part's rows
        for bus, k in ((buses.ALU, 1), (buses.MEMOP, 2)):
            at, op, x, y = (np.concatenate([part[k][j] for part in parts]) for j in range(4))
            cpu[at, CPU.adjacent("c")] = w.answer(bus, op, x, y).astype("<u4").view(np.uint8).reshape(len(at), 4)
        w.add_accesses(*(g for part in parts for g in part[0]))
        # the padding rows keep the last executed row's clk and next_pc (the segment's exit state,
        # which the table's last row matches against the next segment's first row: segment pc bus)
        cpu[n:, CPU.clk], cpu[n:, CPU.next_pc] = cpu[n - 1, CPU.clk], cpu[n - 1, CPU.next_pc]
        return cpu

    @staticmethod
    def _fill(w, rows, cpu, lo: int, hi: int) -> tuple:
        """Rows lo … hi − 1 of the CPU table (but c where w.answer gives it): returns their
        access groups and what to ask of the ALU and memop chips, (rows, op, x, y) each."""
        tr = {k: v[lo:hi] for k, v in w.execution.trace.columns.items()}
        n, rows, prog = hi - lo, rows[lo:hi], w.program
        pc = tr["pc"].astype(np.int64)
        f = functools.cache(lambda name: prog.columns[rows, getattr(PROG, name)])  # a fetched field, per row
        flag = lambda name: f(name) == 1  # noqa: E731
        t = cpu[lo:hi]
        # the row's columns is_real … is_halt, then a … mem_new, are each built in a small row-major
        # block and copied into the table in one pass: the table's rows are 324 bytes, and a
        # narrow block of columns written at a time strides them all again (numpy's per-row cost too)
        head = np.empty((n, HEAD.stop), dtype=np.uint32)
        for col, v in zip(HEAD_FIRST, (1, tr["clk"], pc, tr["next_pc"])):
            head[:, col] = v
        # the fetched fields, adjacent in both tables: each row's gathered straight into its columns
        np.take(np.ascontiguousarray(prog.columns[:, FETCHED_PROG]), rows, axis=0, out=head[:, FETCHED_CPU], mode="clip")
        alu_op = f("alu_op")
        a_val = tr["rs1_val"].astype(np.uint64)
        b_val = tr["rs2_val"].astype(np.uint64)
        imm_val = words(prog.columns[:, PROG.imm].T).astype(np.uint64)[rows]  # the immediate's 32-bit value
        opb_val = np.where(flag("uses_imm"), imm_val, b_val)
        is_halt = flag("f_ecall") & (a_val == 0)
        head[:, CPU.is_halt] = is_halt
        t[:, HEAD] = head
        # address arithmetic: sum = rs1 + imm (JALR target, load/store address)
        addr_user = flag("f_jalr") | flag("f_load") | flag("f_store")
        sum_val = np.where(addr_user, (a_val + imm_val) & 0xFFFFFFFF, 0).astype(np.uint64)
        offset = (sum_val & 3).astype(np.int64)
        is_mem = flag("f_load") | flag("f_store")
        mem_prev = np.where(is_mem, tr["mem_before"], 0).astype(np.uint64)
        mem_new = np.where(is_mem, tr["mem_after"], 0).astype(np.uint64)
        # c: what the row hands to rd — the executor's rd_val where it wrote one; the CPU's own
        # results (LUI/AUIPC, links, stores) by their constraints; otherwise the proving chip's
        writes = flag("writes_rd")
        c_val = np.where(writes, tr["rd_val"], 0).astype(np.uint64)
        c_val = np.where(flag("f_static"), imm_val, c_val)
        c_val = np.where(flag("f_jal") | flag("f_jalr"), (pc + 4).astype(np.uint64), c_val)
        c_val = np.where(flag("f_ecall"), tr["rd_val"], c_val).astype(np.uint64)  # t0 ← the syscall's return
        alu = np.flatnonzero((flag("f_alu") | flag("f_branch")) & ~writes)
        loads = np.flatnonzero(flag("f_load") & ~writes)
        # a … sum, off0 … hinv, mem_prev, mem_new: the words' 4 little-endian bytes (to_bytes) are
        # those of their uint32 values, side by side in one (n, 7) array
        values = np.empty((n, len(WORDS)), dtype=np.uint32)
        for k, val in enumerate((a_val, b_val, opb_val, c_val, sum_val, mem_prev, mem_new)):
            values[:, k] = val
        value_bytes = values.view(np.uint8)  # (n, 28): word k's bytes in columns 4k … 4k + 3, as in the table
        s64 = sum_val.astype(np.int64)
        high = (s64 >> 8 & 0xFF) + (s64 >> 16 & 0xFF) + (s64 >> 24)  # sum1 + sum2 + sum3
        body = np.empty((n, BODY.stop - BODY.start), dtype=np.uint32)
        body[:, _at(BODY, CPU.adjacent("a", "sum"))] = value_bytes[:, :20]  # words 0–4: twenty adjacent columns
        body[:, _at(BODY, CPU.adjacent("mem_prev", "mem_new"))] = value_bytes[:, 20:]
        for col, v in zip(range(CPU.off0, CPU.hinv + 1), (offset & 1, offset >> 1, (s64 & 0xFF) >> 2, high != 0,
                                                          inverse_or_zero(high))):
            body[:, col - BODY.start] = v
        t[:, BODY] = body

        # memory checking: rs1, rs2, the load/store word, rd (the load/store's word before must be
        # the one memory holds: checked when the accesses are resolved); the table's rows are lo + r
        ts0 = 4 * tr["clk"].astype(np.int64) + 4
        mem_rows, wr, real = np.flatnonzero(is_mem), np.flatnonzero(writes), np.arange(n)
        accesses = (
            Access(cpu, lo + real, f("rs1"), ts0 + TS_RS1, a_val, CPU.rs1_prev_ts, CPU.rs1_d, None, "register"),
            Access(cpu, lo + real, f("rs2"), ts0 + TS_RS2, b_val, CPU.rs2_prev_ts, CPU.rs2_d, None, "register"),
            Access(cpu, lo + mem_rows, MEM_KEY_BASE + (sum_val[mem_rows].astype(np.int64) >> 2), ts0[mem_rows] + TS_MEM,
                   mem_new[mem_rows], CPU.mem_prev_ts, CPU.mem_d, CPU.mem_prev, "load/store",
                   expected_before=mem_prev[mem_rows]),
            Access(cpu, lo + wr, f("rd")[wr], ts0[wr] + TS_RD, c_val[wr], CPU.rd_prev_ts, CPU.rd_d, CPU.rd_prev, "register"),
        )
        return (accesses, (lo + alu, alu_op[alu], a_val[alu], opb_val[alu]),
                (lo + loads, alu_op[loads], mem_prev[loads], offset[loads]))
