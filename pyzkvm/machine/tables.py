"""Trace generation: every chip's main table from one Execution (with its Trace).

    chips = build_chips(program)                       # the AIRs (fixed per program)
    tables = generate_tables(chips, execution)         # their main traces + public values

This module only orchestrates. Each chip builds its own table in its own module
(``generate(self, w)`` next to its constraints), from the execution's events and from what the
other chips send it, which ``witness.Witness`` derives from their constraints (the ALU chips'
rows are the CPU's and the divide chip's sends on the ``alu`` bus, the program multiplicities
are the CPU's fetches, the byte-table multiplicities every chip's byte lookups). The
machine's chips are registered in one place, ``machine_airs`` (docs/machine.md "Adding a
chip"). Heights are padded to powers of two with inactive (all-zero) rows; nothing loops over
rows in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UsageError
from ..executor.result import Execution
from ..program import Program
from .accesses import MemoryState
from .alu import AddSubAir, BitwiseAir
from .alu_compare import CompareAir
from .alu_divrem import DivRemAir
from .alu_mul import MulAir
from .alu_shift import ShiftAir
from .bytes_table import ByteTableAir
from .cpu import CpuAir
from .ed25519 import EdAddAir, EdDecompressAir
from .fp_ops import FP_CHIPS
from .keccak import KeccakPermuteAir, KeccakWordsAir
from .memop import LoadStoreAir
from .memory import BoundaryAir, ImageAir, ImageTable
from .program_table import ProgramAir, ProgramTable
from .public_data import MachinePublicData
from .statement import NUM_PUBLIC_VALUES, Statement
from .support import check_constrained
from .syscall import HintWordsAir, JournalWordsAir, SyscallAir
from .syscall_risc0 import SyscallRisc0Air
from .sha_compress import ShaCompressAir
from .sha_extend import ShaExtendAir
from .syscall_verify import AssumptionWordsAir
from .u256x2048 import U256x2048MulAir
from .uint256 import Uint256MulAir
from .weierstrass import WEIERSTRASS_CHIPS
from .weierstrass_decompress import DECOMPRESS_CHIPS
from .witness import Witness


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
    public_values: list   #: statement.public_values() (a copy the soundness tests may tamper with)
    journal: bytes = b""  #: the bytes the verifier balances the journal bus with
    assumptions: tuple = ()  #: the (image_id, journal_digest) pairs it balances the assumption bus with
    #: the last access of every key after these rows (what the next segment's accesses follow)
    memory_after: MemoryState | None = None
    statement: Statement | None = None  #: what these tables prove (statement.py)

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
        assert tables.memory_after is not None  # generate_tables always resolves it (w.memory_after())
        return SegmentContext(tables.memory_after, self.journal_start + len(tables.journal),
                              self.assumptions_start + len(tables.assumptions))


def build_chips(program: Program) -> Chips:
    """The AIRs of the machine for this program: the program and image chips carry the
    program as preprocessed columns; the others are the same for every program."""
    prog = ProgramTable(program)
    image = ImageTable(program)
    return Chips(prog, image, machine_airs(prog, image))


#: The machine's chips, in proof order: the one registration list. Adding a chip is its module
#: plus one line here (docs/machine.md "Adding a chip"); the order is part of the circuit digest.
CHIPS = [CpuAir, ProgramAir, AddSubAir, BitwiseAir, CompareAir, ShiftAir, MulAir, DivRemAir, LoadStoreAir,
         SyscallAir, SyscallRisc0Air, HintWordsAir, JournalWordsAir, AssumptionWordsAir, ShaExtendAir, ShaCompressAir,
         KeccakPermuteAir, KeccakWordsAir, EdAddAir, EdDecompressAir, *WEIERSTRASS_CHIPS, *DECOMPRESS_CHIPS,
         Uint256MulAir, U256x2048MulAir, *FP_CHIPS, ByteTableAir, BoundaryAir, ImageAir]


def chips_are_pyzkvms() -> bool:
    """Whether every chip of CHIPS has pyzkvm's own constraints and preprocessed trace (none
    replaced at run time, as a test's forgery or an experiment does): only then does a value
    computed from the machine's circuit (image IDs, circuit digests, prover and verifier keys)
    go into the memo, which every later process of this code version trusts (pyzkvm/memo.py)."""
    return all(getattr(getattr(chip, method), "__module__", "").startswith("pyzkvm.")
               for chip in CHIPS for method in ("constraints", "preprocessed_trace", "for_program"))


def machine_airs(prog: ProgramTable | None = None, image: ImageTable | None = None) -> list:
    """The machine's AIRs (CHIPS) for a program. Without a program (prog, image None) the
    program and image chips have their constraints but no preprocessed data: what a verifier
    compiles, as it gets the preprocessed commitment from the seal (image_id.machine_key_from_parts)."""
    airs = [chip.for_program(prog, image) for chip in CHIPS]
    for air in airs:  # every chip sees the statement's whole public-value vector (statement.py)
        air.num_public_values = NUM_PUBLIC_VALUES
    return airs


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
    statement = Statement.from_execution(execution, context)
    pv = statement.public_values()
    w = Witness(chips.airs, chips.program, chips.image, execution, context, pv)
    for air in chips.airs:  # each in turn; a chip generates those it receives from first (witness.py)
        w.trace(air)
    memory_after = w.memory_after()
    traces = {a.name: np.ascontiguousarray(w.traces[a.name], dtype=np.uint32) for a in chips.airs}
    # risc0: the journal is bound through the output digest HALT reads, not the journal bus (statement.py)
    journal = b"" if statement.profile == "risc0" else execution.journal
    return MachineTables(traces, pv, journal, tuple(execution.assumptions), memory_after, statement)

