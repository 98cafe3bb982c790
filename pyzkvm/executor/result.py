"""What an execution produces: the Execution record, its Report, and the optional Trace."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Report:
    """Counts gathered while running: per-mnemonic instruction counts, syscall counts, and
    SP1-style cycle-tracker spans (``cycle-tracker-start: NAME`` / ``cycle-tracker-end: NAME``
    lines written to fd 1)."""

    instructions: dict[str, int] = field(default_factory=dict)
    syscalls: dict[str, int] = field(default_factory=dict)
    cycle_tracker: dict[str, int] = field(default_factory=dict)
    #: spans closed by plain ``cycle-tracker-end`` (SP1 logs them; its report has only the
    #: ``cycle-tracker-report-*`` ones, which are ``cycle_tracker``)
    cycle_spans: dict[str, int] = field(default_factory=dict)


@dataclass
class Trace:
    """Columnar execution trace: one row per cycle (numpy arrays of equal length), plus the
    memory accesses made by syscalls (which touch many words in one cycle).

    Row columns (all ``uint32`` unless noted):
      clk          cycle number, 0-based
      pc, next_pc  program counter before and after the instruction
      insn         the 32-bit instruction word fetched at pc
      rs1, rs2, rd register indices (uint8); rd = 0 when nothing is written
      rs1_val, rs2_val   values read from rs1, rs2
      rd_val       value written to rd (0 when rd = 0)
      mem_addr     word-aligned address of the load/store (0 when none)
      mem_before   the word at mem_addr before the instruction
      mem_after    the word at mem_addr after it (equal to mem_before for loads)
    Syscall events (``sys_*`` arrays, one row per word a syscall reads or writes):
      sys_clk, sys_addr, sys_before, sys_after
    See docs/trace.md for how ecall rows use the register columns.
    """

    columns: dict[str, np.ndarray]
    syscall_events: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.columns["clk"])

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.columns.values()) + sum(
            a.nbytes for a in self.syscall_events.values()
        )


@dataclass
class Execution:
    """The outcome of running a guest to HALT.

    ``journal`` is the public output (the concatenation of writes to the public-values fds);
    ``exit_code`` is the guest's exit code (non-zero is a guest failure, not a crash);
    ``commit_words`` holds the 8 COMMIT words (sp1) and ``commit_matches`` says whether they
    equal SHA-256(journal) (None when the guest issued no COMMIT); for the risc0 profile
    ``output_digest`` and ``output_digest_matches`` play the same role.
    ``assumptions`` lists the (image_id, journal_digest) pairs, 32 bytes each, that the guest
    asserted with VERIFY_SP1_PROOF, in call order: the run's claim holds only if a receipt
    exists for each (docs/composition.md).
    """

    journal: bytes
    exit_code: int
    cycles: int
    stdout: bytes = b""
    stderr: bytes = b""
    report: Report = field(default_factory=Report)
    trace: Trace | None = None
    abi: str = "sp1"
    commit_words: tuple[int, ...] | None = None
    commit_matches: bool | None = None
    deferred_proofs_digest: tuple[int, ...] | None = None
    output_digest: bytes | None = None
    output_digest_matches: bool | None = None
    elapsed_s: float = 0.0
    final_registers: tuple[int, ...] = ()
    final_pc: int = 0
    #: risc0 profile: the HALT type (0 terminate, 1 pause); None for sp1
    halt_type: int | None = None
    assumptions: tuple[tuple[bytes, bytes], ...] = ()
    #: the exact profile the run used (``abi`` is its family): e.g. "sp1@3" (docs/abi.md)
    abi_profile: str = "sp1"
    #: what the host ignored and said so (SP1 logs these as warnings), e.g. WRITE to an unknown fd
    warnings: tuple[str, ...] = ()
    #: segmented runs only (executor/segments.py; docs/continuations.md): the segment's index,
    #: the BoundaryState it started from and the one it ended in, and whether it ended in HALT.
    #: A segment's journal/stdout/stderr/cycles/report cover that segment alone.
    segment_index: int | None = None
    start_state: object | None = None
    end_state: object | None = None
    halted: bool = True

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0
