"""The machine state in Python: memory, registers, buffers, and the accessors syscalls use.

Memory is one flat, lazily zeroed ``uint32`` array covering every guest address below
0x78000000 (``np.zeros`` maps it without touching it; a page is committed only when written).
Addresses below 0x20 and from 0x78000000 up are out of range.

Syscalls (run in Python, see sp1.py / risc0.py) go through ``read_word``/``write_word`` so
that every word they touch is range-checked, logged as a syscall event when a trace is
being captured, and recorded in the undo log inside an SP1 unconstrained block (a word in the
code range is re-decoded only for a Machine run without an ABI profile: the profiles fetch the
program as loaded, interpreter.py).
"""

from __future__ import annotations

import time

import numpy as np

from ..errors import (
    Breakpoint,
    CycleLimitExceeded,
    GuestFault,
    IllegalInstruction,
    MemoryOutOfRange,
    MisalignedAccess,
    SyscallError,
)
from ..isa import N_OPS, disassemble
from ..program import MEM_HI, MEM_LO, Program
from . import interpreter as it
from . import python_start

N_MEM_WORDS = MEM_HI // 4
#: A memory page is 4 KiB (1024 words); ``Machine.dirty`` marks the pages stores have hit.
PAGE_WORDS_LOG2 = 10
_U8_COLUMNS = ("rs1", "rs2", "rd")
#: Largest span (in words) pre-decoded when no segment is marked executable (every segment is
#: then code; an executable span is at most program.MAX_CODE_WORDS, Program.executable_span)
MAX_DECODED_WORDS = 1 << 24
#: The compiled loop runs at most this many cycles a call (0.04–0.5 s: 30–415 M cycles/s) and
#: comes back to Python in between: the interpreter then runs any pending signal handler, so
#: Ctrl-C and SIGTERM end a guest that loops without a syscall (no ecall returns it to Python),
#: which one call up to --max-cycles (2^40 allowed) held for hours
SLICE_CYCLES = 1 << 24
_SYS_EVENT_COLUMNS = ("sys_clk", "sys_addr", "sys_before", "sys_after")


class Machine:
    """One guest run's state: registers, memory, pre-decoded code, counters, trace buffers."""

    def __init__(self, program: Program, *, capture_trace: bool = False, max_cycles: int, trace_rows: int = 1 << 16):
        self.program = program
        self.mem = np.zeros(N_MEM_WORDS, dtype=np.uint32)
        addrs, words = program.image_words()
        self.mem[addrs >> 2] = words
        self.mem_bytes = self.mem.view(np.uint8)  # byte address A is mem_bytes[A] (little-endian)
        self.regs = np.zeros(32, dtype=np.int64)
        self.pc = program.entry
        self.cycle = 0
        self.max_cycles = int(max_cycles)
        #: the run's clock start (run.py sets it; the compiled loop's loading is taken off it)
        self.started: float | None = None
        self.counts = np.zeros(N_OPS, dtype=np.int64)
        self._setup_code_range()
        # trace buffers (a 1-column dummy when not capturing keeps numba's types fixed)
        self.capture = bool(capture_trace)
        # execute() sizes the trace exactly (it knows the cycle count from a plain run first), so
        # the buffer normally never grows; when it must, it doubles (a copy).
        self.tr = _alloc_trace(max(int(trace_rows), 1) if self.capture else 1)
        self.tr_len = 0
        self.sys = np.zeros((4, 1 << 10 if self.capture else 1), dtype=np.uint32)
        self.sys_len = 0
        # undo log for SP1 unconstrained blocks
        self.undo_on = False
        self.undo = np.zeros((2, 1 << 12), dtype=np.int64)
        self.undo_len = 0
        # pages written since start (stores and syscall writes), for segment boundary digests
        self.dirty = np.zeros(N_MEM_WORDS >> PAGE_WORDS_LOG2, dtype=np.uint8)

    def _setup_code_range(self) -> None:
        """Pre-decode the span of executable segments (all segments if none is marked X)."""
        span = self.program.executable_span()  # (at most MAX_CODE_WORDS: the Program checked it)
        if span is not None:
            lo, hi = span
        else:  # no executable segment (nothing a proof can run): every segment, or the entry's
            segs = self.program.segments
            lo, hi = min(s.vaddr for s in segs) & ~3, (max(s.end for s in segs) + 3) & ~3
            if (hi - lo) // 4 > MAX_DECODED_WORDS:
                seg = next(s for s in segs if s.vaddr <= self.program.entry < s.end)
                lo, hi = seg.words
                hi = min(hi, lo + 4 * MAX_DECODED_WORDS)
        self.code_lo = lo
        n = (hi - lo) // 4
        self.packed = np.zeros(n, dtype=np.int64)
        self.imm = np.zeros(n, dtype=np.int64)
        python_start.decoder(n)(self.mem, lo >> 2, n, self.packed, self.imm)
        self.code_words = self.mem[lo >> 2 : (lo >> 2) + n].copy()
        #: the fetch model (interpreter.py): the program as loaded, set by both ABI profiles
        #: (a Machine run without one, as the unicorn tests do, fetches from memory)
        self.fixed_code = False

    # ---- running ---------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load the compiled loop (numba's cache) with a zero-cycle call, so that timing the
        run measures execution only; nothing while this process's first cycles run in Python
        (python_start.py: the loop is then loaded at the hand-over, if the run gets there)."""
        if python_start.loop_for(self.cycle, self.max_cycles)[0] is it.run_until_host:
            self._load_compiled_loop()

    def _load_compiled_loop(self) -> None:
        it.run_until_host(
            self.regs, self.mem, self.packed, self.imm, self.code_lo, self.pc, self.cycle, 0,
            self.counts, self.capture, self.tr, self.tr_len, self.undo_on, self.undo, self.undo_len, self.dirty,
            self.fixed_code, self.code_words,
        )  # fmt: skip

    def run_until_ecall(self) -> bool:
        """Run the hot loop until the next ECALL (pc then points at it; returns True) or, with
        ``fixed_code``, until pc leaves the program (returns False); raise on faults."""
        while True:
            # the first cycles of a process run in Python (python_start.py: no numba start-up)
            loop, limit = python_start.loop_for(self.cycle, self.max_cycles)
            if loop is it.run_until_host:  # a slice at a time: see SLICE_CYCLES
                limit = min(limit, self.cycle + SLICE_CYCLES)
            start = self.cycle
            status, pc, cycle, tr_len, undo_len, aux = loop(
                self.regs, self.mem, self.packed, self.imm, self.code_lo, self.pc, self.cycle,
                limit, self.counts, self.capture, self.tr, self.tr_len, self.undo_on,
                self.undo, self.undo_len, self.dirty, self.fixed_code, self.code_words,
            )  # fmt: skip
            self.pc, self.cycle, self.tr_len, self.undo_len = int(pc), int(cycle), int(tr_len), int(undo_len)
            if status == it.ST_CYCLE_LIMIT and self.fixed_code and not self._pc_in_code():
                # SP1 tests its limit after each instruction: a run that has left the program
                # when the limit (or a slice's end) is reached ends there, it does not exceed it
                status = it.ST_PROGRAM_END
            if loop is not it.run_until_host:
                python_start.spent(self.cycle - start)
                if status == it.ST_CYCLE_LIMIT and limit < self.max_cycles:
                    # the Python budget is spent, not the run's: go on compiled, loading it off the clock
                    loading = time.perf_counter()
                    self._load_compiled_loop()
                    if self.started is not None:  # set by run.py: the run's clock
                        self.started += time.perf_counter() - loading
                    continue
            if status == it.ST_CYCLE_LIMIT and self.cycle < self.max_cycles:
                continue  # a slice's end: Python ran any pending signal handler (Ctrl-C) on the way
            if status == it.ST_ECALL:
                return True
            if status == it.ST_PROGRAM_END:
                return False
            if status == it.ST_TRACE_FULL:
                self.tr = _grow_trace(self.tr, self.tr_len)
            elif status == it.ST_UNDO_FULL:
                self.undo = _grow(self.undo, self.undo_len)
            else:
                raise self._fault(status, int(aux))

    def _fault(self, status: int, aux: int) -> GuestFault:
        if status == it.ST_CYCLE_LIMIT:
            return self.fault(CycleLimitExceeded, f"the guest ran {self.max_cycles} cycles without halting; raise --max-cycles")
        reasons = {
            it.F_ILLEGAL: (IllegalInstruction, "not an RV32IM instruction"),
            it.F_EBREAK: (Breakpoint, "the guest executed EBREAK"),
            it.F_FETCH_RANGE: (MemoryOutOfRange, f"instruction fetch from 0x{aux:08x}, outside guest memory [0x{MEM_LO:x}, 0x{MEM_HI:x})"),
            it.F_LOAD_RANGE: (MemoryOutOfRange, f"load from 0x{aux:08x}, outside guest memory [0x{MEM_LO:x}, 0x{MEM_HI:x})"),
            it.F_STORE_RANGE: (MemoryOutOfRange, f"store to 0x{aux:08x}, outside guest memory [0x{MEM_LO:x}, 0x{MEM_HI:x})"),
            it.F_LOAD_MISALIGNED: (MisalignedAccess, f"load from 0x{aux:08x} is not naturally aligned"),
            it.F_STORE_MISALIGNED: (MisalignedAccess, f"store to 0x{aux:08x} is not naturally aligned"),
            it.F_JUMP_MISALIGNED: (MisalignedAccess, f"jump/branch target 0x{aux:08x} is not 4-byte aligned (no compressed instructions)"),
        }  # fmt: skip
        cls, reason = reasons[status]
        return self.fault(cls, reason)

    def _pc_in_code(self) -> bool:
        return 0 <= (self.pc - self.code_lo) >> 2 < len(self.code_words)

    def insn_word(self) -> int:
        """The instruction word at pc, as the fetch model sees it (0 outside guest memory)."""
        if self.fixed_code and self._pc_in_code():
            return int(self.code_words[(self.pc - self.code_lo) >> 2])
        return int(self.mem[self.pc >> 2]) if MEM_LO <= self.pc < MEM_HI else 0

    def fault(self, cls: type[GuestFault], reason: str) -> GuestFault:
        """A typed fault located at the current pc and cycle."""
        word = self.insn_word()
        return cls(reason, pc=self.pc, word=word, disassembly=disassemble(word, self.pc), cycle=self.cycle)

    # ---- accessors for syscalls ------------------------------------------------------

    def reg(self, index: int) -> int:
        return int(self.regs[index])

    def check_range(self, addr: int, length: int, *, align: int = 1, what: str = "buffer") -> None:
        """Raise the right fault unless [addr, addr+length) lies in guest memory and addr is aligned."""
        if addr < MEM_LO or addr + length > MEM_HI:
            raise self.fault(MemoryOutOfRange, f"syscall {what} [0x{addr:08x}, +{length}) lies outside guest memory")
        if addr % align:
            raise self.fault(SyscallError, f"syscall {what} pointer 0x{addr:08x} is not {align}-byte aligned")

    def read_words(self, addr: int, n: int, what: str = "buffer") -> np.ndarray:
        """n words at a word-aligned address, logged as syscall reads."""
        self.check_range(addr, 4 * n, align=4, what=what)
        words = self.mem[addr >> 2 : (addr >> 2) + n].copy()
        self.log_events(addr, words, words)
        return words

    def write_words(self, addr: int, words, what: str = "buffer") -> None:
        """Store words at a word-aligned address (logged, undoable; re-decoded if code and the
        fetch is from memory: a Machine run without an ABI profile)."""
        words = np.asarray(words, dtype=np.uint32)
        n = len(words)
        self.check_range(addr, 4 * n, align=4, what=what)
        i = addr >> 2
        before = self.mem[i : i + n].copy()
        self.log_events(addr, before, words)
        if self.undo_on:
            while self.undo_len + n > self.undo.shape[1]:
                self.undo = _grow(self.undo, self.undo_len)
            self.undo[0, self.undo_len : self.undo_len + n] = np.arange(i, i + n)
            self.undo[1, self.undo_len : self.undo_len + n] = before
            self.undo_len += n
        self.mem[i : i + n] = words
        if n:
            self.dirty[i >> PAGE_WORDS_LOG2 : ((i + n - 1) >> PAGE_WORDS_LOG2) + 1] = 1
        self._redecode(i, n)

    def read_bytes(self, addr: int, length: int, what: str = "buffer") -> bytes:
        """Bytes [addr, addr+length), logged as reads of the words that hold them."""
        if length == 0:
            return b""
        self.check_range(addr, length, what=what)
        lo, hi = addr & ~3, (addr + length + 3) & ~3
        words = self.mem[lo >> 2 : hi >> 2]
        self.log_events(lo, words, words)
        return self.mem_bytes[addr : addr + length].tobytes()

    def read_cstring(self, addr: int, limit: int = 256) -> bytes | None:
        """A NUL-terminated string (None when unreadable or unterminated within ``limit``)."""
        if not MEM_LO <= addr < MEM_HI:
            return None
        raw = self.mem_bytes[addr : min(addr + limit, MEM_HI)].tobytes()
        end = raw.find(b"\0")
        return None if end < 0 else raw[:end]

    def log_events(self, addr: int, before, after) -> None:
        """Record syscall memory accesses (one row per word; before == after for a read)."""
        if not self.capture:
            return
        n = len(before)
        while self.sys_len + n > self.sys.shape[1]:
            self.sys = _grow(self.sys, self.sys_len)
        s = slice(self.sys_len, self.sys_len + n)
        self.sys[0, s] = self.cycle
        self.sys[1, s] = np.arange(addr, addr + 4 * n, 4, dtype=np.int64)
        self.sys[2, s] = before
        self.sys[3, s] = after
        self.sys_len += n

    def log_register(self, index: int, before: int, after: int | None = None) -> None:
        """Record a register a syscall reads (after=None) or writes, as an event at address
        ``index`` (< 0x20, so it cannot be confused with memory)."""
        if not self.capture:
            return
        if self.sys_len + 1 > self.sys.shape[1]:
            self.sys = _grow(self.sys, self.sys_len)
        self.sys[:, self.sys_len] = (self.cycle, index, before, before if after is None else after)
        self.sys_len += 1

    def set_register(self, index: int, value: int) -> None:
        """A syscall writing a register other than the ecall row's rd (logged as an event)."""
        if index == 0:
            return
        self.log_register(index, self.reg(index), value & 0xFFFFFFFF)
        self.regs[index] = value & 0xFFFFFFFF

    def _redecode(self, first_word: int, n: int) -> None:
        if self.fixed_code:  # SP1 runs the program as loaded, whatever memory holds
            return
        lo = max(first_word, self.code_lo >> 2)
        hi = min(first_word + n, (self.code_lo >> 2) + len(self.packed))
        if lo < hi:
            k = lo - (self.code_lo >> 2)
            python_start.decoder(hi - lo)(self.mem, lo, hi - lo, self.packed[k:], self.imm[k:])

    def finish_ecall(self, *, rs1: int, rs2: int, rd: int, rd_val: int, next_pc: int, rs1_val: int, rs2_val: int) -> None:
        """Retire the ECALL at pc: write its trace row, count it, advance pc and the cycle."""
        if rd:
            self.regs[rd] = rd_val & 0xFFFFFFFF
        if self.capture:
            if self.tr_len >= self.tr.shape[1]:
                self.tr = _grow_trace(self.tr, self.tr_len)
            self.tr[:, self.tr_len] = (
                self.cycle, self.pc, next_pc, self.insn_word(), rs1, rs2, rd,
                rs1_val, rs2_val, rd_val & 0xFFFFFFFF if rd else 0, 0, 0, 0,
            )  # fmt: skip
            self.tr_len += 1
        self.counts[it.ECALL] += 1
        self.cycle += 1
        self.pc = next_pc

    # ---- SP1 unconstrained blocks ----------------------------------------------------

    def snapshot(self) -> dict:
        """What ENTER_UNCONSTRAINED saves: registers, pc, cycle, counters, trace lengths."""
        self.undo_on = True
        self.undo_len = 0
        return {
            "regs": self.regs.copy(), "pc": self.pc, "cycle": self.cycle, "counts": self.counts.copy(),
            "tr_len": self.tr_len, "sys_len": self.sys_len,
        }  # fmt: skip

    def restore(self, snap: dict) -> None:
        """Undo every memory write since the snapshot (newest first) and restore the state."""
        n = self.undo_len
        # each word gets back the value logged by its first (oldest) write
        words, first = np.unique(self.undo[0, :n], return_index=True)
        self.mem[words] = self.undo[1, :n][first]
        lo = self.code_lo >> 2
        for i in words[(words >= lo) & (words < lo + len(self.packed))]:  # restored code words
            self._redecode(int(i), 1)
        self.undo_on = False
        self.undo_len = 0
        self.regs[:] = snap["regs"]
        self.pc, self.cycle = snap["pc"], snap["cycle"]
        self.counts[:] = snap["counts"]
        self.tr_len, self.sys_len = snap["tr_len"], snap["sys_len"]

    # ---- results ---------------------------------------------------------------------

    def trace_columns(self, copy_events: bool = True) -> tuple[dict, dict]:
        """The captured rows and syscall events as named numpy columns. The events are copied
        out of the buffer (segments reuse it) unless ``copy_events`` is False: a caller that
        drops the machine saves a copy as large as the events (512 MiB for a 64 MiB HINT_READ)."""
        cols = {}
        for i, name in enumerate(it.TRACE_COLUMNS):
            col = self.tr[i, : self.tr_len]  # a contiguous view: no copy
            cols[name] = col.astype(np.uint8) if name in _U8_COLUMNS else col
        events = {name: self.sys[i, : self.sys_len] for i, name in enumerate(_SYS_EVENT_COLUMNS)}
        if copy_events:
            events = {name: column.copy() for name, column in events.items()}
        return cols, events


def _alloc_trace(rows: int) -> np.ndarray:
    """A (13, rows) uint32 view whose column arrays start 320 bytes apart modulo 4 KiB, so the
    loop's 13 sequential write streams fall in different L1 cache sets."""
    stride = ((rows + 1023) // 1024) * 1024 + 80
    return np.empty((len(it.TRACE_COLUMNS), stride), dtype=np.uint32)[:, :rows]


def _grow_trace(tr: np.ndarray, used: int) -> np.ndarray:
    new = _alloc_trace(2 * tr.shape[1])
    new[:, :used] = tr[:, :used]
    return new


def _grow(buf: np.ndarray, used: int) -> np.ndarray:
    """Double a column-major buffer's capacity, keeping its first ``used`` entries."""
    new = np.zeros((buf.shape[0], max(2 * buf.shape[1], 16)), dtype=buf.dtype)
    new[:, :used] = buf[:, :used]
    return new
