"""Continuations at the executor level: run a guest as a chain of segments.

A long run is cut every ``segment_cycles`` cycles into segments that can be traced and proven
separately. Between two segments sits a **boundary state**: the machine state the first one
ends in and the second one starts from::

    BoundaryState = (cycle, pc, x0..x31, memory_digest)

    memory_digest = BLAKE3( "pyzkvm.memory.v1" ‖ u32 n_pages
                            ‖ the page numbers (address >> 12), ascending, as u32le
                            ‖ the pages' contents, 4096 bytes each, in the same order )

over every 4 KiB page of guest memory that holds a non-zero word. It is a function of the
memory contents only (an all-zero page is absent whoever touched it), so a segment resumed on
another machine reaches the same digest as the uninterrupted run. It is cheap: only the
image's pages and the pages stores have hit (``Machine.dirty``) can be non-zero, so a boundary
costs O(pages touched), not O(2 GiB address space). (The STARK plan in docs/continuations.md
replaces it with a Merkle root over the same pages, so a segment can open just the pages it
touches.)

Three entry points:

- ``execute_segments(program, inputs, segment_cycles)`` runs once, from the entry point to
  HALT, and yields one Execution per segment (with its Trace when asked); segment k's
  ``end_state`` is segment k+1's ``start_state``, and the traces concatenate to the trace of
  ``execute``.
- ``plan_segments(...)`` runs once without traces and returns each segment's ``SegmentStart``:
  the boundary state plus what is needed to resume there (the non-zero memory pages, the
  remaining input stream, the ABI's host-side state).
- ``run_segment(program, start, segment_cycles)`` resumes from a SegmentStart on a fresh
  machine (another process, another host) and runs that one segment.

Cycles inside an SP1 unconstrained block are rolled back at its end, so a boundary never
falls inside one: a segment whose limit arrives inside a block runs the block to its end
first (whose cycles then do not count), so segment lengths stay exact.
"""

from __future__ import annotations

import copy
import struct
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import blake3
import numpy as np

from ..errors import CycleLimitExceeded, UsageError
from ..limits import check_max_cycles
from ..isa import INSTRUCTIONS
from ..program import Program
from . import machine as machine_mod
from .host import HostIO
from .machine import PAGE_WORDS_LOG2, Machine
from .result import Execution, Report, Trace
from .run import _PROFILES, DEFAULT_MAX_CYCLES, abi_family

PAGE_WORDS = 1 << PAGE_WORDS_LOG2
PAGE_BYTES = 4 * PAGE_WORDS

#: Default segment length: 2^20 cycles. Measured (bench/results/scale.md): trace capture fills
#: 52 bytes per cycle (13 u32 columns; the returned Trace is 43 bytes per cycle), so one
#: segment's trace is ~55 MB and proving a 4.2 M-cycle run with the trace backend peaks at
#: ~210 MB instead of ~400 MB unsegmented; 2^20 is also RISC Zero's default segment size
#: (po2 = 20). The STARK backend will want the same or less: its low-degree extension
#: multiplies the trace by the blowup and by its column count (docs/continuations.md).
DEFAULT_SEGMENT_CYCLES = 1 << 20


# ---- boundary states ------------------------------------------------------------------------


@dataclass(frozen=True)
class BoundaryState:
    """The machine state between two segments: clock, pc, the 32 registers, memory digest."""

    cycle: int
    pc: int
    registers: tuple[int, ...]
    memory_digest: bytes

    _PACK = struct.Struct("<QI32I32s")
    SIZE = _PACK.size  # 172 bytes

    def to_bytes(self) -> bytes:
        """``u64 cycle ‖ u32 pc ‖ 32 × u32 register ‖ memory_digest[32]``."""
        return self._PACK.pack(self.cycle, self.pc, *self.registers, self.memory_digest)

    @classmethod
    def from_bytes(cls, data: bytes) -> "BoundaryState":
        cycle, pc, *rest = cls._PACK.unpack(data)
        return cls(cycle, pc, tuple(rest[:32]), rest[32])


@dataclass
class SegmentStart:
    """Everything a fresh machine needs to resume at a boundary (what a worker receives).

    ``page_numbers``/``pages``: every non-zero 4 KiB page of memory (uint32 [k] and [k, 1024]);
    ``inputs``: the input elements not consumed yet; ``journal``: the journal written so far
    (the ABI checks its digest at the end); ``abi_state``: the ABI profile's host-side fields
    (commit words, exit code, RISC Zero's stdin cursor...); ``host_io``: the host's output state
    that spans segments (a stdout line not ended yet, open cycle-tracker spans and the totals so
    far, the bytes the guest appended to its input: host.HostIO), so a resumed segment reports
    what the segment run in turn reports."""

    index: int
    state: BoundaryState
    page_numbers: np.ndarray
    pages: np.ndarray
    inputs: tuple[bytes, ...]
    journal: bytes
    abi_state: dict = field(default_factory=dict)
    abi: str = "sp1"
    host_io: dict = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return (int(self.pages.nbytes + self.page_numbers.nbytes) + sum(map(len, self.inputs)) + len(self.journal)
                + len(self.host_io.get("_line", b"")))


def image_pages(program: Program) -> np.ndarray:
    """The page numbers (address >> 12) the program's image covers, ascending."""
    addrs, _ = program.image_words()
    return np.unique(addrs.astype(np.int64) >> (PAGE_WORDS_LOG2 + 2))


def nonzero_pages(machine: Machine, image: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(page numbers, page contents) of every page holding a non-zero word, ascending.

    Only the image's pages (``image``, from ``image_pages``) and the dirty pages can hold
    one, so only those are looked at."""
    if image is None:
        image = image_pages(machine.program)
    candidates = np.union1d(image, _dirty_pages(machine.dirty))
    pages = machine.mem.reshape(-1, PAGE_WORDS)[candidates]
    keep = pages.any(axis=1)
    return candidates[keep].astype(np.uint32), pages[keep]


def _dirty_pages(dirty: np.ndarray) -> np.ndarray:
    """Indexes of the non-zero bytes of ``dirty``, scanning it 8 bytes at a time (8× faster)."""
    groups = np.flatnonzero(dirty.view(np.uint64))
    pages = (groups[:, None] * 8 + np.arange(8)).ravel()
    return pages[dirty[pages] != 0]


def digest_memory(page_numbers: np.ndarray, pages: np.ndarray) -> bytes:
    """memory_digest = BLAKE3("pyzkvm.memory.v1" ‖ u32 n ‖ page numbers u32le ‖ pages)."""
    h = blake3.blake3(b"pyzkvm.memory.v1")
    h.update(struct.pack("<I", len(page_numbers)))
    h.update(np.ascontiguousarray(page_numbers, dtype="<u4").tobytes())
    h.update(np.ascontiguousarray(pages, dtype="<u4").tobytes())
    return h.digest()


def initial_state(program: Program) -> BoundaryState:
    """The boundary state every run starts from: cycle 0, pc = entry, zero registers, the image."""
    m = Machine(program, max_cycles=0)
    return _boundary(m, *nonzero_pages(m))


def _boundary(m: Machine, page_numbers, pages) -> BoundaryState:
    return BoundaryState(m.cycle, m.pc, tuple(int(r) for r in m.regs), digest_memory(page_numbers, pages))


# ---- the segment runner -----------------------------------------------------------------------

_HOST_ONLY = ("m", "io")  # ABI attributes that are not its state
#: HostIO fields that carry from one segment to the next (SegmentStart.host_io)
_CARRIED_HOST_IO = ("_line", "_open_spans", "cycle_tracker", "cycle_spans", "hint_bytes")


class _Runner:
    """One machine, its host I/O and ABI profile, run segment by segment."""

    def __init__(self, program: Program, profile: str, inputs: deque, *, capture: bool, rows: int, max_cycles: int):
        if profile not in _PROFILES:
            raise UsageError(f"unknown ABI profile {profile!r}: use one of {', '.join(_PROFILES)}")
        self.program, self.profile, self.capture, self.rows = program, profile, capture, rows
        self.max_cycles = max_cycles
        self.m = Machine(program, capture_trace=capture, max_cycles=max_cycles, trace_rows=rows)
        self.io = HostIO(inputs=inputs)
        self.abi = _PROFILES[profile](self.m, self.io)
        self.m.warm_up()
        self.halted = False
        self.image_pages = image_pages(program)
        # (page numbers, pages) at the end of the last segment run
        self._last_pages: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def resume(cls, program: Program, start: SegmentStart, *, capture: bool, rows: int, max_cycles: int) -> "_Runner":
        """A fresh machine put in the state ``start`` describes."""
        r = cls(program, start.abi, deque(start.inputs), capture=capture, rows=rows, max_cycles=max_cycles)
        m = r.m
        mem_pages = m.mem.reshape(-1, PAGE_WORDS)
        mem_pages[r.image_pages] = 0  # image pages may have been cleared since
        numbers = np.asarray(start.page_numbers, dtype=np.int64)
        mem_pages[numbers] = start.pages
        m.dirty[numbers] = 1
        m._redecode(m.code_lo >> 2, len(m.packed))  # the code may have been rewritten
        m.regs[:] = start.state.registers
        m.pc, m.cycle = start.state.pc, start.state.cycle
        r.io.journal += start.journal
        for name, value in copy.deepcopy(start.abi_state).items():
            setattr(r.abi, name, value)
        for name, value in copy.deepcopy(start.host_io).items():
            setattr(r.io, name, value)
        if _boundary(m, numbers, start.pages) != start.state:
            raise UsageError(f"segment {start.index}'s start state does not match its memory pages and registers")
        return r

    def snapshot(self, index: int, state: BoundaryState, page_numbers, pages) -> SegmentStart:
        """The SegmentStart for resuming here."""
        abi_state = {k: v for k, v in vars(self.abi).items() if k not in _HOST_ONLY}
        host_io = {name: getattr(self.io, name) for name in _CARRIED_HOST_IO}
        return SegmentStart(
            index, state, page_numbers, pages.copy(), tuple(self.io.inputs), bytes(self.io.journal),
            copy.deepcopy(abi_state), self.profile, copy.deepcopy(host_io),
        )  # fmt: skip

    def boundary(self):
        numbers, pages = nonzero_pages(self.m, self.image_pages)
        return _boundary(self.m, numbers, pages), numbers, pages

    def run_segment(self, index: int, start: BoundaryState, segment_cycles: int) -> Execution:
        """Run from ``start`` (the machine's current state) for ``segment_cycles`` cycles or to HALT."""
        m, io, abi = self.m, self.io, self.abi
        began = time.perf_counter()
        counts0, syscalls0 = m.counts.copy(), Counter(io.syscalls)
        journal0, stdout0, stderr0, warnings0 = len(io.journal), len(io.stdout), len(io.stderr), len(io.warnings)
        assumptions0 = len(getattr(abi, "assumptions", ()))
        if self.capture and m.tr_len:
            m.tr, m.tr_len, m.sys_len = machine_mod._alloc_trace(self.rows), 0, 0  # a fresh buffer per segment
        end_cycle = min(start.cycle + segment_cycles, self.max_cycles)
        m.max_cycles = end_cycle
        halted = False
        while not halted:
            try:
                at_ecall = m.run_until_ecall()
            except CycleLimitExceeded:
                if m.undo_on and m.max_cycles < self.max_cycles:
                    m.max_cycles = self.max_cycles  # finish the unconstrained block first
                    continue
                if m.cycle >= self.max_cycles:
                    raise m.fault(
                        CycleLimitExceeded, f"the guest ran {self.max_cycles} cycles without halting; raise --max-cycles"
                    ) from None
                break  # the segment boundary
            halted = abi.handle_ecall() if at_ecall else abi.end_of_program()
            if not m.undo_on and m.max_cycles != end_cycle:
                m.max_cycles = end_cycle
                if m.cycle >= end_cycle and not halted:
                    break
        self.halted = halted
        if halted:
            io.flush(m.cycle)
        end, numbers, pages = self.boundary()
        self._last_pages = (numbers, pages)
        counts = m.counts - counts0
        syscalls = Counter(io.syscalls)
        syscalls.subtract(syscalls0)
        report = Report(
            instructions={INSTRUCTIONS[i].mnemonic: int(n) for i, n in enumerate(counts[: len(INSTRUCTIONS)]) if n},
            syscalls={k: v for k, v in syscalls.items() if v},
            cycle_tracker=dict(io.cycle_tracker) if halted else {},
            cycle_spans=dict(io.cycle_spans) if halted else {},
        )
        trace = None
        if self.capture:
            columns, events = m.trace_columns()
            trace = Trace(columns=columns, syscall_events=events)
        fields: dict = {}
        abi.finish(fields)
        if "assumptions" in fields:  # like the journal: the VERIFY_SP1_PROOF calls of this segment only
            fields["assumptions"] = tuple(fields["assumptions"][assumptions0:])
        return Execution(
            journal=bytes(io.journal[journal0:]),
            exit_code=int(abi.exit_code) if halted else 0,
            cycles=m.cycle - start.cycle,
            stdout=bytes(io.stdout[stdout0:]),
            stderr=bytes(io.stderr[stderr0:]),
            warnings=tuple(io.warnings[warnings0:]),  # (this segment's, like its journal: they were all dropped)
            report=report,
            trace=trace,
            abi=abi_family(self.profile),
            abi_profile=self.profile,
            elapsed_s=time.perf_counter() - began,
            final_registers=end.registers,
            final_pc=end.pc,
            **fields,
            segment_index=index,
            start_state=start,
            end_state=end,
            halted=halted,
        )


def _check_args(program: Program, segment_cycles: int, max_cycles: int, abi: str | None) -> str:
    if not isinstance(segment_cycles, int) or isinstance(segment_cycles, bool) or segment_cycles <= 0:
        raise UsageError(f"segment_cycles must be a positive integer, got {segment_cycles!r}")
    check_max_cycles(max_cycles)
    profile = abi or program.profile
    if profile not in _PROFILES:
        raise UsageError(f"unknown ABI profile {profile!r}: use one of {', '.join(_PROFILES)}")
    return profile


def _as_elements(inputs: Iterable[bytes]) -> deque:
    elements: deque[bytes] = deque()
    for x in inputs:
        if not isinstance(x, (bytes, bytearray, memoryview)):
            raise UsageError(f"input elements must be bytes, got {type(x).__name__}: encode them with pyzkvm.inputs")
        elements.append(bytes(x))
    return elements


# ---- public entry points -----------------------------------------------------------------------


def execute_segments(
    program: Program,
    inputs: Iterable[bytes] = (),
    segment_cycles: int = DEFAULT_SEGMENT_CYCLES,
    *,
    capture_trace: bool = False,
    max_cycles: int = DEFAULT_MAX_CYCLES,
    abi: str | None = None,
) -> Iterator[Execution]:
    """Run ``program`` to HALT in segments of ``segment_cycles`` cycles; yield each segment's Execution.

    Each Execution covers its segment only (journal, stdout, cycles, report, trace) and carries
    ``segment_index``, ``start_state``, ``end_state`` (BoundaryState) and ``halted`` (True for
    the last). Boundary states chain: segment k's end_state is segment k+1's start_state.
    Traces are captured per segment (one buffer of ``segment_cycles`` rows at a time), so
    memory stays bounded by one segment; their concatenation is ``execute``'s trace.
    """
    profile = _check_args(program, segment_cycles, max_cycles, abi)
    rows = min(segment_cycles, max_cycles) + 1
    runner = _Runner(program, profile, _as_elements(inputs), capture=capture_trace, rows=rows, max_cycles=max_cycles)
    state, _, _ = runner.boundary()
    index = 0
    while not runner.halted:
        execution = runner.run_segment(index, state, segment_cycles)
        yield execution
        state, index = execution.end_state, index + 1


def plan_segments(
    program: Program,
    inputs: Iterable[bytes] = (),
    segment_cycles: int = DEFAULT_SEGMENT_CYCLES,
    *,
    max_cycles: int = DEFAULT_MAX_CYCLES,
    abi: str | None = None,
) -> list[SegmentStart]:
    """Run once without traces and return the SegmentStart of every segment, in order.

    This is the fast pass of distributed proving: each SegmentStart is what one worker needs
    (with the program) to trace and prove its segment with ``run_segment``."""
    profile = _check_args(program, segment_cycles, max_cycles, abi)
    runner = _Runner(program, profile, _as_elements(inputs), capture=False, rows=1, max_cycles=max_cycles)
    state, numbers, pages = runner.boundary()
    starts = []
    index = 0
    while not runner.halted:
        starts.append(runner.snapshot(index, state, numbers, pages))
        execution = runner.run_segment(index, state, segment_cycles)
        assert runner._last_pages is not None  # run_segment sets it
        state, (numbers, pages) = execution.end_state, runner._last_pages
        index += 1
    return starts


def run_segment(
    program: Program,
    start: SegmentStart,
    segment_cycles: int,
    *,
    capture_trace: bool = True,
    max_cycles: int = DEFAULT_MAX_CYCLES,
) -> Execution:
    """Resume at ``start`` on a fresh machine and run one segment (``segment_cycles`` cycles or to HALT).

    Returns the segment's Execution, exactly as ``execute_segments`` yields it for that index."""
    _check_args(program, segment_cycles, max_cycles, start.abi)
    rows = min(segment_cycles, max_cycles) + 1
    runner = _Runner.resume(program, start, capture=capture_trace, rows=rows, max_cycles=max_cycles)
    return runner.run_segment(start.index, start.state, segment_cycles)
