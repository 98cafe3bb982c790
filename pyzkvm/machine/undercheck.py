"""Under-constraint detector: mutate honest tables, list what the full debug check still accepts.

``check_machine`` (debug.py) accepts a set of tables iff every constraint of every chip holds
on every row and every bus balances (with the verifier's public entries). An honest run passes.
This module changes a few cells of an honest run and asks the same question, without running
``check_machine`` per mutation:

1. **Local constraints.** A constraint reads one row and the next (the last row's next is row
   0). Changing row r can only break the constraints evaluated at rows r − 1 and r, so each
   AIR is compiled once and its DAG is evaluated on that two-row window only (with the rows'
   true first/last/transition selector values).
2. **Witness repair.** A one-cell change usually breaks a definition (an inverse column, a
   helper product). After the change, for each failing constraint C and each other cell x of
   the mutated row that C reads, evaluate C at x = 0, 1, 2: if C(x) = a·x + b (affine, a ≠ 0)
   the repair x = −b/a makes C hold. The repair that leaves the fewest failing constraints is
   kept; a few rounds of this find the "honest-looking" completion of a forged row.
3. **Buses, exactly.** The LogUp sum of the honest tables is zero. A change alters only the
   entries of the window rows, so the bus argument still balances iff the multiset
   Σ (bus, tuple) ↦ sign·multiplicity of the window rows is unchanged (the random-α LogUp sum
   of the difference is zero iff the difference is empty, up to ~2^-100). The delta is this
   dict of (bus, tuple) → signed multiplicity mod p.
4. **Coordinated groups.** A change that passes every constraint but leaves a bus delta is a
   *candidate*. The detector tries to cancel its delta elsewhere: (a) *retarget* — the entry
   that consumed the old tuple T (signed multiplicity −m) is made to consume the new tuple
   instead (its value cells solved as in 2.); (b) *recount* — a row that has tuple T (e.g. the
   byte table) changes its multiplicity cell by −Δ. Each partner row is repaired too; a few
   rounds. If everything cancels, the group is an accepted mutation.
5. **The framework rule.** A row whose activity selector is 0 (``ACTIVITY``) must not emit a bus
   entry with nonzero multiplicity, whatever its other cells; a constraint-passing mutation
   where it does is reported as a rule violation even when its delta cannot be cancelled here.

6. **A run cut into segments** (``segment_samples``). The verifier checks each segment's
   constraints and one bus sum over all segments' tables (plus its public entries, from the
   public values): Σ_k Σ_rows(segment k) entries = 0, not each segment's sum. The honest
   segments' joint sum is 0, so a change in segment k is accepted iff constraints hold in k and
   its delta cancels against edits of rows in *any* segment: the partners of 4. are looked up
   in every segment's tables (the CPU's last row's ``segment pc`` entry is consumed by the
   next segment's first row). Each segment's tables read that segment's own public values
   (IS_FIRST, HALTS, START_CLK, CYCLES: the multiplicities and values of the boundary entries
   ``send_on_row``/``receive_on_row``), and the rows those entries sit on (a table's first and
   last) are mutated besides the rows of ``pick_rows``. A boundary entry is exempt from 5.:
   it may sit on a padding row; a change of it is judged by the bus, never documented as "a
   cell of an inactive row".

Every accepted mutation is either listed in ``FREE_WITNESSES`` (a cell that may change without
changing the statement, with the reason) or reported as *undocumented*: a suspected hole.
Run: ``python -m pyzkvm.machine.undercheck ELF [--input SPEC] [--segment-cycles N]`` or ``scan(samples)``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field as dc_field
from typing import Any, Callable

import numpy as np

from ..stark.air import CompiledAir, bus_id, compile_air
from ..stark.tape import SELECTORS, Inputs, plain_inputs, run, tape_for
from . import buses
from .evaluate import compiled_air
from ..stark.domain import plain_selectors
from ..stark.field import P
from ..stark.logup import interaction_columns
from .alu import ADD_SUB, BITWISE
from .alu_compare import COMPARE
from .alu_divrem import DIVREM
from .alu_mul import MUL
from .alu_shift import SHIFT
from .bytes_table import BYTES
from .cpu import CPU
from .keccak import KECCAK, KECCAK_WORDS
from .memop import MEMOP
from .memory import BOUNDARY
from .program_table import PROG_MAIN
from .syscall import HINT_WORDS, JOURNAL_WORDS, SYS
from .syscall_risc0 import R0SYS
from .sha_compress import COMPRESS
from .sha_extend import EXTEND
from .syscall_verify import ASSUMPTION_WORDS
from .field_program import FieldProgramAir
from .tables import CHIPS

LAYOUTS = {"cpu": CPU, "program": PROG_MAIN, "alu add/sub": ADD_SUB, "alu bitwise": BITWISE, "alu compare": COMPARE,
           "alu shift": SHIFT, "alu mul": MUL, "alu divrem": DIVREM, "load/store": MEMOP, "syscall": SYS, "syscall risc0": R0SYS,
           "hint words": HINT_WORDS, "journal words": JOURNAL_WORDS, "assumption words": ASSUMPTION_WORDS,
           "bytes": BYTES, "memory boundary": BOUNDARY, "sha extend": EXTEND, "sha compress": COMPRESS,
           "keccak permute": KECCAK, "keccak words": KECCAK_WORDS}
#: the field-program chips (field_program.py: ED_*, the Weierstrass curves): each class its layout
LAYOUTS.update({c.name: c.layout() for c in CHIPS if isinstance(c, type) and issubclass(c, FieldProgramAir)})

#: chips the scan leaves out unless named (scan(..., chips=...), --chip), with the reason
NOT_SCANNED_BY_DEFAULT = {
    "sha extend": "no CI sample calls SHA_EXTEND, and a scan takes minutes (255 columns × 64 rows a call; "
                  "~150 s for one block on this shared machine): scan it with --chip; "
                  "attacked by tests/machine/test_machine_sha.py",
    "sha compress": "no CI sample calls SHA_COMPRESS, and a scan takes many minutes (535 columns, a round's "
                    "sums read ~200 cells): scan it with --chip; attacked by tests/machine/test_machine_sha.py",
    # the field-program chips (field_program.py: ED_*, UINT256_MUL, the Weierstrass curves, DECOMPRESS,
    # FP/FP2, U256XU2048_MUL): the CI programs call none of them (the default scan stays the core
    # chips'); tests/machine/test_machine_undercheck.py samples secp256k1 add and bn254 fp mul on
    # their own run, bench/underconstraint_fields.py scans every column of every one
    **{c.name: "a field-program chip: sampled by test_field_chips_sample_is_clean (secp256k1 add, bn254 fp mul), "
       "every column by bench/underconstraint_fields.py; attacked by tests/machine/test_machine_{ed25519,uint256,"
       "weierstrass,decompress,fp_ops,u256x2048}.py"
       for c in CHIPS if isinstance(c, type) and issubclass(c, FieldProgramAir)},
}


def column_names(chip: str, width: int) -> list:
    layout = LAYOUTS.get(chip)
    return list(layout.names) if layout is not None else [f"c{i}" for i in range(width)]


def activity_columns(names: list) -> list:
    """The columns whose sum is the row's activity selector: is_real / active, else the one-hot
    kind flags is_*; [] for fixed tables (program, bytes, image) whose every row is real."""
    for single in ("is_real", "active"):
        if single in names:
            return [names.index(single)]
    if "pos0" in names:  # a call's rows (sha_rows.py): the one-hot position
        return [i for i, n in enumerate(names) if n.startswith("pos") and n[3:].isdigit()]
    return [i for i, n in enumerate(names) if n.startswith("is_")]


# ---------------------------------------------------------------------------------------------
# Documented free witnesses: (chip, columns, condition on the changed cell, reason)
# ---------------------------------------------------------------------------------------------


@dataclass
class Cell:
    """One changed cell, with what a condition may need to judge it."""

    chip: str
    row: int
    column: str
    old: int
    new: int
    inactive: bool       # the row's activity is 0 before and after, and it emits nothing
    values: dict         # the row after the change, column name → value
    sample: "Sample"


@dataclass(frozen=True)
class FreeWitness:
    chip: str            # "*" = every chip
    columns: tuple       # column names ("*" = every column)
    when: Callable       # Cell → bool
    reason: str


def _hint_byte_within_len(c: Cell) -> bool:
    """Byte j of a hint word lies within the HINT_READ's length (the buffer's key range), or
    within a RISC Zero SOFTWARE call's a1 words."""
    sys_, r0 = c.sample.tables.traces["syscall"], c.sample.tables.traces["syscall risc0"]
    row = sys_[(sys_[:, SYS.clk] == c.values["clk"]) & (sys_[:, SYS.is_hint_read] == 1)]
    sw = r0[(r0[:, R0SYS.clk] == c.values["clk"]) & (r0[:, R0SYS.is_software] == 1)]
    value = lambda r, cols: int(sum(int(r[0, cols[i]]) << (8 * i) for i in range(4)))  # noqa: E731
    if len(row):
        length, start = value(row, SYS.a1), 32 + (value(row, SYS.ptr) >> 2)
    elif len(sw):  # SOFTWARE: a1 words from a0
        length, start = 4 * value(sw, R0SYS.a1), 32 + (value(sw, R0SYS.b) >> 2)
    else:
        return False
    return 4 * (c.values["key"] - start) + int(c.column[-1]) < length


def _after_software_answer(c: Cell) -> bool:
    """A CPU row writes a0/a1 whose previous value was a RISC Zero SOFTWARE call's answer (its
    write at 4·clk + 7): rd_prev follows that free answer."""
    ts = c.values["rd_prev_ts"] - 7
    if c.values["rd"] not in (10, 11) or ts < 0 or ts % 4:
        return False
    r0 = c.sample.tables.traces["syscall risc0"]
    return bool(np.any((r0[:, R0SYS.clk] == ts // 4) & (r0[:, R0SYS.is_software] == 1)))


FREE_WITNESSES = [
    FreeWitness("*", ("*",), lambda c: c.inactive,
                "a cell of an inactive row whose bus entries stay as they were: no bus sees the change"),
    FreeWitness("bytes", ("*",), lambda c: True,
                "lookup-table counts are the looked-up side: they follow the lookups (the sender decides)"),
    FreeWitness("program", ("mult",), lambda c: True, "fetch counts follow the CPU rows (the sender decides)"),
    FreeWitness("memory boundary", ("final0", "final1", "final2", "final3", "final_ts"), lambda c: True,
                "the final memory state is not part of the statement; it only closes the last access"),
    FreeWitness("hint words", ("after0", "after1", "after2", "after3"), _hint_byte_within_len,
                "bytes of the hint within len: the hint is the prover's private input"),
    FreeWitness("syscall", ("c0", "c1", "c2", "c3"), lambda c: c.values.get("is_hint_len") == 1,
                "HINT_LEN's answer is the prover's private input"),
    FreeWitness("syscall risc0", tuple(f"ra{r}{i}" for r in (0, 1) for i in range(4)),
                lambda c: c.values.get("is_software") == 1,
                "a RISC Zero SOFTWARE call's a0/a1 answer is the host's, the prover's private input"),
    FreeWitness("cpu", ("rd_prev0", "rd_prev1", "rd_prev2", "rd_prev3"), _after_software_answer,
                "the value a0/a1 held before this write is a RISC Zero SOFTWARE call's free answer"),
    FreeWitness("syscall", ("clk_d0", "clk_d1", "clk_d2"),
                lambda c: c.row == len(c.sample.tables.traces["syscall"]) - 1,
                "the clk order is a transition constraint: on the last row of a full table it has no next row "
                "(its byte lookup, with the wrapped-around multiplicity, only keeps the bytes in range)"),
]

FREE_WITNESSES.append(FreeWitness(
    "cpu", ("sum0", "sum1", "sum2", "sum3", "off0", "off1", "q", "hz", "hinv"),
    lambda c: c.values["f_jalr"] + c.values["f_load"] + c.values["f_store"] == 0,
    "the address columns are read (ALU bus, range checks, memory key) only by JALR, loads and stores"))

# inverse columns: x·inv = flag proves "x ≠ 0 ⇒ flag"; where x = 0 (flag at its x = 0 value) inv is free
for _chip, _col, _flag, _at_zero in (("cpu", "hinv", "hz", 0), ("alu compare", "inv", "eq", 1), ("alu divrem", "binv", "bz", 1),
                                     ("syscall", "len_inv", "nz", 0), ("syscall", "phinv", "phz", 0),
                                     ("syscall", "a1hinv", "a1hz", 0), ("syscall risc0", "len_inv", "nz", 0)):
    FREE_WITNESSES.append(FreeWitness(_chip, (_col,), lambda c, f=_flag, z=_at_zero: c.values.get(f) == z,
                                      f"an inverse column is free where the value it inverts is 0 ({_flag} = {_at_zero})"))
for _chip in ("journal words", "hint words"):
    FREE_WITNESSES.append(FreeWitness(_chip, ("inv",), lambda c: c.values["key"] == c.values["last_key"],
                                      "an inverse column is free where key − last_key = 0"))


DEAD = ("dead cell: in this row no constraint and no bus entry depends on it (nothing repaired, bus multiset "
        "unchanged), so the debug check, the prover and the verifier all see the same statement")


def documented(cell: Cell) -> str | None:
    for fw in FREE_WITNESSES:
        if fw.chip in ("*", cell.chip) and ("*" in fw.columns or cell.column in fw.columns) and fw.when(cell):
            return fw.reason
    return None


# ---------------------------------------------------------------------------------------------
# One chip's table, evaluated on a few rows at a time
# ---------------------------------------------------------------------------------------------


def _main_deps(compiled, exprs) -> list:
    """For each expression, the (column, offset) main cells it reads (walk of the DAG)."""
    memo: dict = {}

    def deps(node):
        if node.index not in memo:
            if node.op == "main":
                memo[node.index] = frozenset([node.args])
            elif node.op in ("const", "prep", "aux", "public", "challenge", "cumsum", "sel"):
                memo[node.index] = frozenset()
            else:
                memo[node.index] = frozenset().union(*(deps(a) for a in node.args))
        return memo[node.index]

    return [deps(e) for e in exprs]


@dataclass(eq=False)
class ChipTable:
    name: str
    air: Any
    compiled: CompiledAir
    trace: np.ndarray      # (n, w) uint32, mutated in place and restored
    prep: np.ndarray | None
    public: np.ndarray
    names: list
    active: list           # activity columns ([] = every row is real)
    deps: list             # per constraint: frozenset of (col, offset)
    honest: list = dc_field(default_factory=list)  # per interaction: (value matrix (n, m), multiplicity (n,))
    n: int = dc_field(init=False)                # rows (the trace's shape never changes)
    reads: np.ndarray = dc_field(init=False)     # (constraints, width) bool: constraint i reads column c
    reads_at: np.ndarray = dc_field(init=False)  # (2, constraints, width): … at this row (0) / the next (1)
    cells_at: list = dc_field(init=False)        # per constraint: (columns read at this row, at the next), int arrays
    iexprs: tuple = dc_field(init=False)         # every interaction's values then multiplicity, in order
    istart: np.ndarray = dc_field(init=False)    # where interaction k's block starts in iexprs
    imult: np.ndarray = dc_field(init=False)     # where interaction k's multiplicity is in iexprs
    iexpr_at: dict = dc_field(init=False)        # an interaction expression's DAG index → its place in iexprs
    cexprs: tuple | None = None                  # every constraint's expression (on first use)
    tapes: dict = dc_field(default_factory=dict)  # the tapes of cexprs and iexprs
    segment: int | None = None                   # its segment in a run cut into segments (module doc, 6.)

    def __post_init__(self) -> None:
        """Index the constraints' reads and the interactions' expressions once (the scan asks
        these for every mutation: numpy lookups instead of walks over the dependency sets)."""
        self.n = self.trace.shape[0]
        width = self.trace.shape[1]
        self.reads = np.zeros((len(self.deps), width), dtype=bool)
        self.reads_at = np.zeros((2, len(self.deps), width), dtype=bool)
        self.cells_at = []
        for i, d in enumerate(self.deps):
            for c, off in d:
                self.reads[i, c] = self.reads_at[off, i, c] = True
            self.cells_at.append(tuple(np.array(sorted(c for c, off in d if off == k), dtype=np.int64) for k in (0, 1)))
        inter = self.compiled.interactions
        self.iexprs = tuple(e for it in inter for e in (*it.values, it.multiplicity))
        sizes = np.array([len(it.values) + 1 for it in inter], dtype=np.int64)
        self.istart = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if len(sizes) else sizes
        self.imult = self.istart + sizes - 1
        self.iexpr_at = {}
        for i, e in enumerate(self.iexprs):
            self.iexpr_at.setdefault(e.index, i)

    @property
    def label(self) -> str:
        """The chip's name, with its segment's index in a run cut into segments ("cpu #1")."""
        return self.name if self.segment is None else f"{self.name} #{self.segment}"

    def split(self, entries: list) -> tuple:
        """A row's ``entries``: (the regular ones, the boundary ones: ``send_on_row``, Interaction.row set)."""
        on_row = [bool(self.compiled.interactions[e[0]].row) for e in entries]
        return [e for e, b in zip(entries, on_row) if not b], [e for e, b in zip(entries, on_row) if b]

    @property
    def helpers(self) -> set:
        """Columns no bus tuple reads (inverse columns, products, flags used only in constraints)."""
        if "_helpers" not in self.__dict__:
            read = set()
            for d in _main_deps(self.compiled, [v for it in self.compiled.interactions for v in it.values]):
                read |= {c for c, _ in d}
            self.__dict__["_helpers"] = set(range(self.trace.shape[1])) - read
        return self.__dict__["_helpers"]

    @property
    def byte_cols(self) -> set:
        """Columns sent as they are in a byte-bus tuple (range-checked: a non-byte cannot balance)."""
        if "_byte_cols" not in self.__dict__:
            self.__dict__["_byte_cols"] = {v.args[0] for it in self.compiled.interactions if it.bus == bus_id(buses.BYTE)
                                          for v in it.values if v.op == "main"}
        return self.__dict__["_byte_cols"]

    @property
    def selectors(self) -> dict:
        if "_sel" not in self.__dict__:
            self.__dict__["_sel"] = plain_selectors(self.n)
        return self.__dict__["_sel"]

    def window(self, row: int) -> np.ndarray:
        """The rows whose constraints and bus entries read row `row`: row − 1 (via next) and row."""
        return np.unique(np.array([row - 1, row]) % self.n)

    def eval(self, exprs: tuple, rows, cur=None, nxt=None) -> np.ndarray:
        """(len(exprs), len(rows)) int64: the expressions on explicit row matrices cur/nxt
        standing at table rows `rows` (default: the table's own rows). The rows are stacked
        [cur; nxt] for the evaluator (tape.py), so row i's "next row" is row i + len(rows)."""
        rows = np.asarray(rows) % self.n
        cur = self.trace[rows] if cur is None else cur
        nxt = self.trace[(rows + 1) % self.n] if nxt is None else nxt
        prep = None if self.prep is None else np.concatenate([self.prep[rows], self.prep[(rows + 1) % self.n]])
        sel = np.stack([self.selectors[k][rows] for k in SELECTORS], axis=1)
        inputs = Inputs(np.concatenate([cur, nxt]), prep, None, self.public, selectors=sel, step=len(rows))
        tape = self.tapes.get(id(exprs)) if exprs is self.cexprs or exprs is self.iexprs else None
        if tape is None:
            tape = tape_for(self.compiled, list(exprs))
            if exprs is self.cexprs or exprs is self.iexprs:  # the two tapes the scan reuses: no key to build
                self.tapes[id(exprs)] = tape
        return run(tape, inputs, len(rows))[:, 0, :].astype(np.int64)

    def cvals(self, rows, cur=None, nxt=None) -> np.ndarray:
        """(constraints, len(rows)): every constraint's value. Always the one tape of all of them:
        evaluating a subset costs about as much (the batch's rows dominate) and each new subset
        would build a tape."""
        if self.cexprs is None:
            self.cexprs = tuple(c.expr for c in self.compiled.constraints)
        return self.eval(self.cexprs, rows, cur, nxt) if self.cexprs else np.zeros((0, len(rows)), np.int64)

    def failing(self, rows, cur=None, nxt=None, only=None) -> np.ndarray:
        """(constraints, len(rows)) bool: constraint i fails at row j (``only``: a boolean mask
        of the constraints asked about; the result then has their rows only)."""
        bad = np.asarray(self.cvals(rows, cur, nxt) != 0)
        return bad if only is None else bad[only]

    def readers(self, columns: set) -> np.ndarray:
        """Boolean mask of the constraints that read any of ``columns`` (this row's or the next's)."""
        return np.asarray(self.reads[:, sorted(columns)].any(axis=1))

    def ivals(self, rows, cur=None, nxt=None) -> np.ndarray:
        """(len(iexprs), len(rows)): every interaction's values and multiplicity at the rows."""
        return self.eval(self.iexprs, rows, cur, nxt) if self.iexprs else np.zeros((0, len(rows)), np.int64)

    def entries(self, rows, vals=None) -> list:
        """Bus entries of the rows: per row, a list of (interaction k, bus, tuple, signed multiplicity)."""
        vals = self.ivals(rows) if vals is None else vals
        out: list = [[] for _ in rows]
        for k, j in zip(*np.nonzero(vals[self.imult])):  # the live entries only (multiplicity ≠ 0)
            out[j].append(self._entry(vals, int(k), int(j)))
        return out

    def _entry(self, vals, k: int, j: int) -> tuple:
        it, pos, mpos = self.compiled.interactions[k], self.istart[k], self.imult[k]
        signed = int(vals[mpos, j]) if it.sign > 0 else (P - int(vals[mpos, j])) % P
        return (k, it.bus, _key(vals[pos:mpos, j]), signed)

    def delta(self, before: np.ndarray, after: np.ndarray) -> dict:
        """The bus multiset's change (after − before) from two ivals of the same rows: only the
        interactions whose values or multiplicity moved are read (the others cancel exactly)."""
        out: dict = {}
        if not len(before):
            return out
        moved = np.logical_or.reduceat((before != after).any(axis=1), self.istart)
        for k in np.flatnonzero(moved):
            for vals, sign in ((before, -1), (after, 1)):
                for j in np.flatnonzero(vals[self.imult[k]]):
                    _, bus, tup, m = self._entry(vals, int(k), int(j))
                    key = (bus, tup)
                    out[key] = (out.get(key, 0) + sign * m) % P
                    if not out[key]:
                        del out[key]
        return out

    def activity(self, row: int) -> int | None:
        return None if not self.active else int(self.trace[row, self.active].astype(np.int64).sum() % P)


def _key(values) -> tuple:
    """A bus tuple as the fingerprint sees it: trailing zeros do not change bus + Σ γ^(j+1)·v_j."""
    t = [int(v) for v in values]
    while t and t[-1] == 0:
        t.pop()
    return tuple(t)


def _multiset(entries, delta=None, sign=1) -> dict:
    """Add sign·(bus, tuple) ↦ multiplicity for every entry of every row into delta."""
    delta = {} if delta is None else delta
    for row in entries:
        for _, bus, tup, m in row:
            key = (bus, tup)
            delta[key] = (delta.get(key, 0) + sign * m) % P
            if not delta[key]:
                del delta[key]
    return delta


def _add(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = (out.get(k, 0) + v) % P
        if not out[k]:
            del out[k]
    return out


def _with_expressions(air):
    """The AIR compiled with its constraint expressions (the DAG this module walks): the one
    ``compiled_air`` gives, unless that is the stored prover key's view (machine/prover_key.py,
    read from a warm memo), which holds tapes and index stand-ins, not expressions."""
    from .image_id import IMAGE_ID_LOG_BLOWUP  # (as evaluate.compiled_air: image_id builds on the chip tables)

    compiled = compiled_air(air)
    # (the multiplicities too: a chip without constraints — the byte table — is no sign of the view)
    if all(hasattr(c.expr, "op") for c in compiled.constraints) and \
            all(hasattr(it.multiplicity, "op") for it in compiled.interactions):
        return compiled
    if "_undercheck_compiled" not in air.__dict__:
        air._undercheck_compiled = compile_air(air, (1 << IMAGE_ID_LOG_BLOWUP) + 1)
    return air._undercheck_compiled


def chip_table(air, trace, public) -> ChipTable:
    compiled = _with_expressions(air)
    names = column_names(air.name, air.width)
    t = ChipTable(air.name, air, compiled, np.array(trace, dtype=np.uint32), air.preprocessed_trace() if air.preprocessed_width else None,
                  np.asarray(public, dtype=np.uint32), names, activity_columns(names),
                  getattr(compiled, "_undercheck_deps", None) or _main_deps(compiled, [c.expr for c in compiled.constraints]))
    setattr(compiled, "_undercheck_deps", t.deps)  # noqa: B010 — a cache hung on CompiledAir (no such field): the DAG walk once per compiled AIR
    n = t.n
    full = plain_inputs(t.trace, t.prep, t.public)
    t.honest = [(np.stack(v, axis=1) if v else np.zeros((n, 0), np.uint32), m)
                for v, m in interaction_columns(compiled, full, n)]
    return t


@dataclass
class Sample:
    """One honest run (or one segment of a run cut into segments): its name and, per chip, the
    table the detector mutates."""

    name: str
    tables: Any          # machine.tables.Tables (the syscall trace is read by some conditions)
    chips: dict
    bus_index: dict | None = None   # _by_bus's index, built on first use
    bus_tables: list = dc_field(default_factory=list)
    #: a segment's sample: every segment's sample of its run, in order (their buses balance
    #: only together: module doc, 6.); [] for a one-segment run
    joint: list = dc_field(default_factory=list)

    def owner(self, t: ChipTable) -> "Sample":
        """The sample whose tables hold ``t`` (another segment's, for a partner row there)."""
        return self if t.segment is None else self.joint[t.segment]


def sample(name, chips, tables, public=None) -> Sample:
    public = tables.public_values if public is None else public
    return Sample(name, tables, {a.name: chip_table(a, tables.traces[a.name], public) for a in chips.airs})


def segment_samples(name, chips, segments: list) -> list:
    """One sample per segment of a run cut into segments (``segments``: each one's tables, as
    ``segment_tables`` builds them), linked so that a bus delta in one may be cancelled in
    any (module doc, 6.). Each segment's public values are the prover's (backends/stark.py
    build_statements): its own clocks, IS_FIRST and HALTS, and the run's outcome (exit code,
    COMMIT words, journal length, assumption count) from the segment that halts."""
    final = segments[-1].statement
    out = [sample(f"{name} #{k}", chips, tables, tables.statement.with_outcome(final).public_values())
           for k, tables in enumerate(segments)]
    for k, s in enumerate(out):
        s.joint = out
        for t in s.chips.values():
            t.segment = k
    return out


def segment_tables(chips, program, inputs, segment_cycles: int) -> list:
    """The tables of every segment of a run cut every ``segment_cycles`` cycles, each built on
    the context the segments before it leave (SegmentContext: memory, journal and assumption
    counts), as the prover builds them."""
    from ..executor.segments import execute_segments
    from .tables import SegmentContext, generate_tables

    context, out = SegmentContext.first(), []
    for execution in execute_segments(program, inputs, segment_cycles, capture_trace=True):
        out.append(generate_tables(chips, execution, context))
        context = context.next(out[-1])
    return out


# ---------------------------------------------------------------------------------------------
# Editing cells (with an undo log) and repairing a row
# ---------------------------------------------------------------------------------------------


def _set(t: ChipTable, row: int, col: int, value: int, log: list) -> None:
    log.append((t, row, col, int(t.trace[row, col])))
    t.trace[row, col] = value % P


def _undo(log: list, checkpoint: int = 0) -> None:
    while len(log) > checkpoint:
        t, row, col, old = log.pop()
        t.trace[row, col] = old


def _inverse(a: np.ndarray) -> np.ndarray:
    """a^(p−2) mod p elementwise (Fermat; a ≠ 0), on uint64: products of residues < 2^62."""
    a = np.asarray(a, dtype=np.uint64) % np.uint64(P)
    out, e = np.ones_like(a), P - 2
    while e:
        if e & 1:
            out = out * a % np.uint64(P)
        a, e = a * a % np.uint64(P), e >> 1
    return out


def _affine_roots(v: np.ndarray, target) -> tuple:
    """v[..., x] = C(x) at x = 0, 1, 2: (affine mask, the root of C(x) = target where affine)."""
    v = v.astype(np.int64)
    a, b = (v[..., 1] - v[..., 0]) % P, v[..., 0]
    affine = (a != 0) & ((v[..., 2] - v[..., 1]) % P == a)       # c(2) − c(1) = c(1) − c(0)
    x = np.zeros(affine.shape, dtype=np.int64)  # the root where affine (0 elsewhere: unused)
    num = (np.broadcast_to(np.asarray(target, dtype=np.int64), affine.shape)[affine] - b[affine]) % P
    x[affine] = (num.astype(np.uint64) * _inverse(a[affine]) % np.uint64(P)).astype(np.int64)
    return affine, x


def _probe(t: ChipTable, at_row: int, row: int, cells: np.ndarray) -> tuple:
    """The window rows at at_row with each of ``cells`` (of row `row`) set to 0, 1, 2 in turn:
    (cur, nxt, table rows), 3·len(cells) rows (cell i, value x at 3i + x)."""
    k, at = len(cells), at_row % t.n
    cur = np.repeat(t.trace[[at]], 3 * k, axis=0)
    nxt = np.repeat(t.trace[[(at + 1) % t.n]], 3 * k, axis=0)
    idx, cols, xs = np.arange(3 * k), np.repeat(cells, 3), np.tile(np.arange(3, dtype=np.uint32), k)
    if at == row:  # the same cell is in cur (row = at_row) and/or in nxt (row = at_row + 1)
        cur[idx, cols] = xs
    if (at + 1) % t.n == row:
        nxt[idx, cols] = xs
    return cur, nxt, np.full(3 * k, at)


def _solve(t: ChipTable, expr, at_row: int, row: int, cells, target: int = 0):
    """Cells x of row `row` (at offset row − at_row) such that expr(at_row) = target, for each
    cell on which expr is affine: expr(x) = a·x + b ⇒ x = (target − b)/a. Returns [(col, x)]."""
    cells = np.array(list(cells), dtype=np.int64)
    if not len(cells):
        return []
    cur, nxt, rows = _probe(t, at_row, row, cells)
    at = t.iexpr_at.get(expr.index)  # an interaction's value or multiplicity: the shared tape
    v = t.eval((expr,), rows, cur, nxt)[0] if at is None else t.ivals(rows, cur, nxt)[at]
    affine, x = _affine_roots(v.reshape(len(cells), 3), target)
    return [(int(c), int(x[i])) for i, c in enumerate(cells) if affine[i]]


def _repair_fixes(t: ChipTable, row: int, win, bad: np.ndarray, fixed: set) -> dict:
    """Every (cell, value) of `row` that makes one failing constraint hold (``_solve`` for each
    failing (constraint, window row), in that order), batched: per window row, one evaluation
    of its failing constraints with each cell any of them reads set to 0, 1, 2."""
    editable = np.ones(t.trace.shape[1], dtype=bool)
    editable[sorted(fixed)] = False
    parts = []  # per window row: (constraint, window index, cell, root) of every affine solution
    for j, at in enumerate(win):
        cis = np.flatnonzero(bad[:, j])
        if not len(cis):
            continue
        own = np.zeros((len(cis), t.trace.shape[1]), dtype=bool)  # the cells of `row` each one reads here
        if at == row:
            own |= t.reads_at[0][cis]
        if (at + 1) % t.n == row:
            own |= t.reads_at[1][cis]
        own &= editable
        union = np.flatnonzero(own.any(axis=0))
        if not len(union):
            continue
        cur, nxt, rows = _probe(t, int(at), row, union)
        vals = t.cvals(rows, cur, nxt)[cis].reshape(len(cis), len(union), 3)
        affine, x = _affine_roots(vals, 0)
        i, u = np.nonzero(affine & own[:, union])
        parts.append(np.stack([cis[i], np.full(len(i), j), union[u], x[i, u]], axis=1))
    if not parts:
        return {}
    sol = np.concatenate(parts)
    sol = sol[np.lexsort((sol[:, 2], sol[:, 1], sol[:, 0]))]  # constraint, window row, cell: _solve's order
    fixes: dict = dict.fromkeys(zip(sol[:, 2].tolist(), sol[:, 3].tolist()))
    return fixes


def repair(t: ChipTable, row: int, fixed: set, log: list, helpers_first: bool = False, rounds: int = 8) -> bool:
    """Make every constraint on row's window hold by solving other cells of `row` (module doc, 2.).

    Each round keeps the fix that leaves the fewest failing constraints (never more than before;
    equal counts move along a chain of definitions: lw, then room), then the fewest changed bus
    entries, then the smallest value; each cell is solved at most once. With helpers_first,
    a fix of a helper cell (one no bus tuple reads: an inverse, a product) wins over any other —
    the completion an attacker would pick, where the other policy finds the honest one."""
    win = t.window(row)
    for _ in range(rounds):
        bad = t.failing(win)
        if not bad.any():
            return True
        found = _repair_fixes(t, row, win, bad, fixed)
        if not found:
            return False
        # keep the fix that leaves the fewest failing constraints (all fixes in one evaluation).
        # A fix sets one cell of column c, so only the constraints that read column c can change:
        # those are evaluated, the others keep their count from `bad` (the same total, far less
        # work on a wide chip: keccak permute has 2 821 constraints, a bit column feeds a few)
        fixes = list(found)
        rows = np.tile(win, len(fixes))
        cur, nxt = t.trace[rows].copy(), t.trace[(rows + 1) % t.n].copy()
        fc, fx = np.array([c for c, _ in fixes]), np.array([x for _, x in fixes], dtype=np.uint32)
        for j, r in enumerate(win):  # fix i at batch rows i·len(win) + j
            k = np.arange(len(fixes)) * len(win) + j
            if r == row:
                cur[k, fc] = fx
            if (r + 1) % t.n == row:
                nxt[k, fc] = fx
        reads = t.readers({c for c, _ in fixes})
        counts = int(bad[~reads].sum()) + t.failing(rows, cur, nxt, only=reads).reshape(-1, len(fixes), len(win)).sum(axis=(0, 2))
        # ties: no non-byte in a range-checked column, then fewer changed bus entries, then small
        # values (honest witnesses are mostly bytes and flags). The tie-breaks add < 64, so only
        # the fixes of the best count (and class) are ranked by them: their bus moves alone are
        # evaluated (the same choice as ranking every fix, for less work)
        first = 64 * counts.astype(np.int64)
        if helpers_first:
            first = first - 100_000 * np.array([c in t.helpers for c, _ in fixes])
        cand = np.flatnonzero(first == first.min())
        sub = (cand[:, None] * len(win) + np.arange(len(win))).ravel()
        moved = _bus_moves(t, win, rows[sub], cur[sub], nxt[sub]).reshape(len(cand), len(win)).sum(axis=1)
        size = np.array([16 * (c in t.byte_cols and x >= 256) + (x >= 256) + (x >= 1 << 16) for c, x in (fixes[i] for i in cand)])
        best_i = int(cand[np.argmin(4 * np.minimum(moved, 3) + size)])
        if not helpers_first and counts[best_i] > int(bad.sum()):
            return False
        best = fixes[best_i]
        _set(t, row, best[0], best[1], log)
        fixed = fixed | {best[0]}  # each cell is solved once: a definition chain moves forward
    return not t.failing(win).any()


def _bus_moves(t: ChipTable, win, rows, cur, nxt) -> np.ndarray:
    """Per batched row: how many bus entries (values or multiplicity) differ from the window's now."""
    if not t.iexprs:
        return np.zeros(len(rows), dtype=np.int64)
    now = np.tile(t.ivals(win), len(rows) // len(win))   # (exprs, len(rows)), rows = win tiled
    new = t.ivals(rows, cur, nxt)
    changed = np.logical_or.reduceat(new != now, t.istart, axis=0)   # (interactions, rows)
    live = (new[t.imult] != 0) | (now[t.imult] != 0)     # an entry with multiplicity 0 is no entry
    return (changed & live).sum(axis=0)


def _edit_row(t: ChipTable, row: int, cells: dict, log: list, helpers_first: bool = False) -> dict | None:
    """Set cells of a row, repair it; the change of the bus multiset, or None if it fails."""
    win = t.window(row)
    before = t.ivals(win)
    for c, v in cells.items():
        _set(t, row, c, v, log)
    if not repair(t, row, set(cells) | set(t.active), log, helpers_first):  # repair never changes the row's kind
        return None
    return t.delta(before, t.ivals(win))


# ---------------------------------------------------------------------------------------------
# Cancelling a bus delta on the other side (module doc, 4.)
# ---------------------------------------------------------------------------------------------


#: up to 64 values a tuple (a field program's ``field value`` tuples have 2 + 48 on BLS12-381)
_HASH = np.array([0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F, 0x165667B1, 0xD3A2646C, 0xFD7046C5, 0xB55A4F09] * 8,
                 dtype=np.uint64)


def _tuple_hash(matrix: np.ndarray) -> np.ndarray:
    """One uint64 per row of a (n, m) tuple matrix (equal tuples, equal hashes; a hit is re-checked)."""
    if not matrix.shape[1]:
        return np.zeros(len(matrix), np.uint64)
    return (matrix.astype(np.uint64) * _HASH[:matrix.shape[1]]).sum(axis=1)


def _by_bus(s: Sample) -> dict:
    """bus → (sorted hashes, chip indices, interaction indices, rows) of every honest entry, so
    a tuple's entries in all tables are found by one binary search (trailing zeros hash to 0,
    so tuples of different widths compare as the fingerprint does). A segment's index holds
    every segment's tables: a partner may sit in another (module doc, 6.)."""
    if s.bus_index is None:
        every = [t for seg in s.joint or [s] for t in seg.chips.values()]
        tables = sorted(every, key=lambda t: bool(t.active))  # lookup tables first
        parts: dict = {}
        for ti, t in enumerate(tables):
            for j, it in enumerate(t.compiled.interactions):
                h = _tuple_hash(t.honest[j][0])
                n = len(h)
                parts.setdefault(it.bus, []).append((h, np.full(n, ti), np.full(n, j), np.arange(n)))
        index = {}
        for bus, ps in parts.items():
            h, tis, ks, r = (np.concatenate(x) for x in zip(*ps))
            order = np.lexsort((r, tis, h))
            index[bus] = (h[order], tis[order], ks[order], r[order])
        s.bus_index, s.bus_tables = index, tables
    return s.bus_index


def _rows_with(s: Sample, bus: int, tup: tuple, signed=None, busy=()):
    """(chip table, row, interaction index) of honest entries with this tuple (and multiplicity)."""
    if bus not in _by_bus(s):
        return
    h_sorted, ti, ks, rs = _by_bus(s)[bus]
    h = _tuple_hash(np.array([tup], dtype=np.int64))[0]
    lo, hi = np.searchsorted(h_sorted, h, "left"), np.searchsorted(h_sorted, h, "right")
    found = 0
    for i in range(lo, min(hi, lo + 64)):  # a few candidates suffice (e.g. the zero tuple of padding rows)
        t, k, r = s.bus_tables[ti[i]], int(ks[i]), int(rs[i])
        matrix, mult = t.honest[k]
        if len(tup) > matrix.shape[1] or _key(matrix[r]) != tup or (t, r) in busy:
            continue  # a hash collision, or a row edited already (its honest entries are stale)
        if signed is not None and (int(mult[r]) * t.compiled.interactions[k].sign) % P != signed:
            continue
        yield t, r, k
        found += 1
        if found == 3:
            return


def _retarget(s, delta, log, busy):
    """A pair {T_a: d, T_b: −d} on one bus: make the entry with d at T_a use T_b instead."""
    items = list(delta.items())
    for (bus, ta), d in items:
        for (bus2, tb), d2 in items:
            if bus2 != bus or ta == tb or (d + d2) % P:
                continue
            for t, r, k in _rows_with(s, bus, ta, d, busy):
                cp, cells = len(log), _solve_tuple(t, r, k, ta, tb)
                step = None if cells is None else _edit_row(t, r, cells, log)
                if step is not None:
                    busy.append((t, r))
                    return step
                _undo(log, cp)
    return None


def _solve_tuple(t: ChipTable, r: int, k: int, ta: tuple, tb: tuple) -> dict | None:
    """Cells of row r that turn interaction k's tuple from ta into tb (one cell per changed value)."""
    it = t.compiled.interactions[k]
    width = len(it.values)
    have, want = list(ta) + [0] * (width - len(ta)), list(tb) + [0] * (width - len(tb))
    cells: dict = {}
    orig: dict = {}
    try:
        for j, e in enumerate(it.values):
            if want[j] == have[j]:
                continue
            deps = {c for c, off in _main_deps(t.compiled, [e])[0] if off == 0} - set(cells)
            sol = _solve(t, e, r, r, sorted(deps), want[j])
            if not sol:
                return None
            c, x = sol[0]
            orig.setdefault(c, int(t.trace[r, c]))
            cells[c] = x
            t.trace[r, c] = x  # the next value is solved on top of this one
        return cells
    finally:
        for c, v in orig.items():
            t.trace[r, c] = v


def _recount(s, delta, log, busy):
    """A single {T: d}: change the multiplicity of another entry with tuple T by −d."""
    for (bus, tup), d in delta.items():
        for t, r, k in _rows_with(s, bus, tup, None, busy):
            it = t.compiled.interactions[k]
            old = int(t.honest[k][1][r])
            target = (old - d * it.sign) % P                # sign·m' = sign·m − d
            deps = {c for c, off in _main_deps(t.compiled, [it.multiplicity])[0] if off == 0}
            for c, x in _solve(t, it.multiplicity, r, r, sorted(deps), target)[:1]:
                cp = len(log)
                step = _edit_row(t, r, {c: x}, log)
                if step is not None:
                    busy.append((t, r))
                    return step
                _undo(log, cp)
    return None


def cancel(s: Sample, delta: dict, log: list, busy: list, rounds: int = 6) -> bool:
    """Try to cancel a bus delta with edits of other rows (retarget first, then recount); on
    failure the partner edits are undone (the log keeps only the row's own change)."""
    checkpoint = len(log)
    for _ in range(rounds):
        if not delta:
            return True
        step = _retarget(s, delta, log, busy)
        if step is None:
            step = _recount(s, delta, log, busy)
        if step is None:
            break
        delta = _add(delta, step)
    if delta:
        _undo(log, checkpoint)
    return not delta


# ---------------------------------------------------------------------------------------------
# Mutations and their outcomes
# ---------------------------------------------------------------------------------------------

SPECIAL = (0, 1, P - 1, P - 2, 256, 1 << 16, (1 << 31) % P, 0x77FFFFFF)  # 0x78000000 ≡ −1 = p − 1


def candidate_values(x: int, rng, deep: bool) -> list:
    """Values to put in a cell holding x: x ± 1, 0/1/2, near p (p − 1 = −1, p − 2), byte and
    word boundaries (2^8, 2^16, 2^31 mod p, 0x78000000 ≡ −1), x ± 2^8 (a carry), a random one."""
    vals = [x + 1, x - 1, *SPECIAL, x + 256, int(rng.integers(0, P))]
    if not deep:
        vals = [x + 1]
    return list(dict.fromkeys(v % P for v in vals if v % P != x))


@dataclass
class Outcome:
    sample: str
    chip: str
    row: int
    kind: str            # "active" / "padding" / "fixed" (a table without an activity selector)
    mutated: dict        # column name → (old, new)
    status: str          # "rejected" / "accepted" / "rule" (inactive row emits) / "bus" (unbalanced)
    changes: list = dc_field(default_factory=list)  # every changed cell: (chip, row, column, old, new)
    reason: str | None = None  # None = undocumented (for accepted / rule)

    def describe(self) -> str:
        mut = ", ".join(f"{c} {o:#x} → {n:#x}" for c, (o, n) in self.mutated.items())
        extra = [f"{ch}[{r}].{c} {o:#x}→{n:#x}" for ch, r, c, o, n in self.changes
                 if not (ch == self.chip and r == self.row and c in self.mutated)]
        what = "inactive row emits a bus entry" if self.status == "rule" else "accepted"
        return (f"[{self.sample}] {self.chip} row {self.row} ({self.kind}): {mut} — {what}"
                + (f"; repair/partners: {'; '.join(extra)}" if extra else ""))


def _row_kind(t: ChipTable, row: int) -> str:
    a = t.activity(row)
    return "fixed" if a is None else ("active" if a else "padding")


def _emits(t: ChipTable, row: int) -> bool:
    return bool(t.entries([row])[0])


def _changes(log: list) -> list:
    first: dict = {}
    for t, r, c, old in log:
        first.setdefault((t, r, c), old)
    return [(t, r, c, old, int(t.trace[r, c])) for (t, r, c), old in first.items() if int(t.trace[r, c]) != old]


def _permuted(changes: list) -> bool:
    """The edited rows of each chip hold the same multiset of rows as before: two operations of
    an unordered table (an ALU or memop chip) exchanged their witnesses, which no bus can see —
    in a run cut into segments, also two segments' tables of one chip (the buses balance over
    all segments together: module doc, 6.)."""
    rows: dict = {}
    for t, r, _c, _old, _new in changes:
        rows.setdefault(t.name, {})[(t, r)] = None
    for rs in rows.values():
        if not all(t.active for t, _r in rs) or len(rs) < 2:
            return False
        now = np.stack([t.trace[r] for t, r in rs])
        before = now.copy()
        at = {key: i for i, key in enumerate(rs)}
        for t, r, c, old, _new in changes:
            if (t, r) in at:
                before[at[(t, r)], c] = old
        if sorted(map(tuple, now.tolist())) != sorted(map(tuple, before.tolist())):
            return False
    return True


def _judge(s: Sample, changes: list, was_active: dict, sends: bool = False, primary=None) -> str | None:
    """The reason every changed cell may change (FREE_WITNESSES), or None. Rows are keyed
    (ChipTable, row) in ``was_active`` and ``primary`` (the mutated row, whose entries changed
    iff ``sends``: an activity rule violation, or a boundary entry moved)."""
    if _permuted(changes):
        return "rows of an unordered table exchanged (same multiset of rows: every bus sees the same entries)"
    # every changed row's activity before the group's edits: a partner row the cancellation
    # switched off (an ADD row's is_add 1 → 0) was an operation, not "a cell of an inactive row"
    was_active = {**{(t, r): _activity_before(t, r, changes) != 0 for t, r, *_ in changes}, **was_active}
    reasons = []
    if _hint_words_reordered(changes):  # (its words' bytes, if changed too, are judged below: within len)
        reasons.append(HINT_WORDS_REORDERED)
        changes = [ch for ch in changes if ch[0].name != "hint words" or ch[0].names[ch[2]] not in _REORDER_COLUMNS]
    for t, r, c, old, new in changes:
        act = t.activity(r)
        # inactive: activity 0 before and after, and the row sends what it sent before (the
        # mutated row: its entries unchanged; a partner row: nothing at all)
        quiet = not sends if (t, r) == primary else not _emits(t, r)
        inactive = act == 0 and not was_active.get((t, r)) and quiet
        cell = Cell(t.name, r, t.names[c], old, new, inactive, dict(zip(t.names, (int(v) for v in t.trace[r]))),
                    s.owner(t))
        why = documented(cell)
        if why is None:
            return None
        reasons.append(why)
    return "; ".join(dict.fromkeys(reasons))


HINT_WORDS_REORDERED = ("a hint call's words exchanged among its own addresses (keys permuted within one call): the "
                        "tables of another answer to the same free hint")


_REORDER_COLUMNS = ("key", "is_last", "inv")


def _hint_words_reordered(changes: list) -> bool:
    """The hint-word rows ``changes`` edits are rows of one call (one clk) whose keys were permuted
    among themselves — key, is_last and inv changed, and perhaps the words' bytes (judged on
    their own: within len), the call's addresses the same set — so the call's words sit at its
    addresses in another order: another answer of the same hint (found by the deep scan of a
    risc0 SOFTWARE call, session 26; its boundary finals and byte counts follow)."""
    edits = [(t, r, t.names[c], old) for t, r, c, old, _new in changes if t.name == "hint words"]
    names = {name for _t, _r, name, _o in edits}
    if not edits or "key" not in names or not names <= {*_REORDER_COLUMNS, "after0", "after1", "after2", "after3"}:
        return False
    t = edits[0][0]
    rows = sorted({r for _t, r, _n, _o in edits})
    key, clk = t.names.index("key"), t.names.index("clk")
    before = {r: int(t.trace[r, key]) for r in rows}
    before.update({r: old for _t, r, name, old in edits if name == "key"})
    after = {r: int(t.trace[r, key]) for r in rows}
    return len({int(t.trace[r, clk]) for r in rows}) == 1 and sorted(before.values()) == sorted(after.values())


def _activity_before(t: ChipTable, r: int, changes: list) -> int | None:
    """Row r's activity selector with the cells ``changes`` edited back at their old values."""
    if not t.active:
        return None
    old = {c: o for ch, rr, c, o, _n in changes if ch is t and rr == r}
    return sum(int(old.get(c, t.trace[r, c])) for c in t.active) % P


def _severity(o: Outcome) -> int:
    return {"rejected": 0, "bus": 1, "accepted": 2, "rule": 4}[o.status] + (o.status == "accepted" and o.reason is None)


def try_mutation(s: Sample, t: ChipTable, row: int, cells: dict) -> Outcome:
    """Set cells (column index → value) of one row, repair it (both policies), cancel the bus
    delta on other rows; the most severe of the two outcomes."""
    kind = _row_kind(t, row)
    mutated = {t.names[c]: (int(t.trace[row, c]), v % P) for c, v in cells.items()}
    outs = []
    for helpers_first in (False, True):
        out = Outcome(s.name, t.name, row, kind, mutated, "rejected")
        log: list = []
        busy = [(t, row)]
        try:
            own = t.entries([row])[0]
            delta = _edit_row(t, row, cells, log, helpers_first)
            if delta is not None:
                # the framework rule: an inactive row emits nothing new (its entries stay as they
                # were), boundary entries (placed by the row's selector, module doc 6.) exempt
                (now, now_b), (was, was_b) = t.split(t.entries([row])[0]), t.split(own)
                rule = kind == "padding" and t.activity(row) == 0 and bool(now) and _multiset([now], _multiset([was]), -1) != {}
                moved = _multiset([now_b], _multiset([was_b]), -1) != {}  # a boundary entry changed
                cancelled = not delta or cancel(s, delta, log, busy)
                out.status = "rule" if rule else ("accepted" if cancelled else "bus")
                changes = _changes(log)
                out.changes = [(ch.label, r, ch.names[c], o, n) for ch, r, c, o, n in changes]
                if out.status == "accepted" and not delta and len(changes) <= len(cells):
                    out.reason = DEAD  # nothing repaired, no bus entry changed
                elif out.status in ("accepted", "rule"):
                    out.reason = _judge(s, changes, {(t, row): kind == "active"}, rule or moved, (t, row))
        finally:
            _undo(log)
        outs.append(out)
    return max(outs, key=_severity)


def unrepairable(t: ChipTable, row: int, cols: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For single-cell mutations (cols[i] := values[i]) of `row`, all in one evaluation: True
    where the change breaks a constraint on the window that reads no cell of `row` the repair
    may change (every cell but the mutated one and the activity columns). No repair can make
    it hold, so ``try_mutation`` would reject the mutation under both policies: the scan
    records it without running the repair (exactly the same outcome, far less work)."""
    win, m = t.window(row), len(cols)
    rows = np.tile(win, m)
    cur, nxt = t.trace[rows].copy(), t.trace[(rows + 1) % t.n].copy()
    out = np.zeros(m, dtype=bool)
    editable = np.ones(t.trace.shape[1], dtype=bool)
    editable[t.active] = False
    for j, r in enumerate(win):
        k = np.arange(m) * len(win) + j
        if r == row:
            cur[k, cols] = values
        if (r + 1) % t.n == row:
            nxt[k, cols] = values
    bad = t.failing(rows, cur, nxt).reshape(-1, m, len(win))       # (constraints, m, window)
    for j, r in enumerate(win):
        reads = np.zeros_like(t.reads)                                # constraint reads row's cell at window j
        if r == row:
            reads |= t.reads_at[0]
        if (r + 1) % t.n == row:
            reads |= t.reads_at[1]
        free = (reads & editable).sum(axis=1)[:, None] - (reads[:, cols] & editable[cols])  # (constraints, m)
        out |= (bad[:, :, j] & (free == 0)).any(axis=0)
    return out


def scan_row(s: Sample, t: ChipTable, row: int, mutations: list) -> list:
    """The outcome of each mutation of `row` (a dict column → value): single-cell mutations
    that ``unrepairable`` settles are rejected at once, the rest go through ``try_mutation``."""
    single = [i for i, cells in enumerate(mutations) if len(cells) == 1]
    settled = set()
    if single:
        cols = np.array([next(iter(mutations[i])) for i in single], dtype=np.int64)
        vals = np.array([next(iter(mutations[i].values())) % P for i in single], dtype=np.uint32)
        settled = {single[i] for i in np.flatnonzero(unrepairable(t, row, cols, vals))}
    kind = _row_kind(t, row)
    return [Outcome(s.name, t.name, row, kind, {t.names[c]: (int(t.trace[row, c]), v % P) for c, v in cells.items()},
                    "rejected") if i in settled else try_mutation(s, t, row, cells)
            for i, cells in enumerate(mutations)]


def pick_rows(t: ChipTable, rng, deep: bool) -> list:
    """Rows to mutate: one active row per kind flag (every operation the table has), the first
    and last active row, the first padding row and the last row; fixed tables: looked-up rows.
    In a segment (module doc, 6.) also the first and last row if the table has boundary entries."""
    return sorted({*_pick_rows(t, rng, deep), *_boundary_rows(t)})


def _boundary_rows(t: ChipTable) -> list:
    """The rows a segment's boundary entries sit on (the first / last: ``send_on_row``)."""
    if t.segment is None:
        return []
    where = {it.row for it in t.compiled.interactions}
    return [r for r, name in ((0, "first"), (t.n - 1, "last")) if name in where]


def _pick_rows(t: ChipTable, rng, deep: bool) -> list:
    n = t.n
    if not t.active:
        used = np.flatnonzero(np.any(np.stack([m for _, m in t.honest], axis=1) != 0, axis=1)) if t.honest else np.arange(n)
        rows = list(used[:1]) + (list(used[1:2]) + list(used[-1:]) + [int(rng.integers(0, n))] if deep else [])
        return sorted({int(r) for r in rows})
    act = t.trace[:, t.active].astype(np.int64).sum(axis=1)
    real, pad = np.flatnonzero(act), np.flatnonzero(act == 0)
    rows = []
    if len(t.active) > 1 and deep:
        for c in t.active:
            hit = np.flatnonzero(t.trace[:, c] == 1)
            rows += list(hit[:1]) + (list(hit[-1:]) if deep else [])
    rows += list(real[:1]) + list(real[-1:]) + list(pad[:1]) + ([n - 1] if deep else [])
    if deep and len(real) > 2:
        rows += list(rng.choice(real, 2))
    return sorted({int(r) for r in rows})


def one_hot_moves(t: ChipTable, row: int):
    """Coordinated pairs: in a group of flag columns x0, x1, … (same name, digit suffix) holding
    one 1, move the 1 to another position (e.g. WRITE's end offset lh, a pointer offset oh)."""
    groups: dict = {}
    for c, name in enumerate(t.names):
        if name[-1].isdigit():
            groups.setdefault(name.rstrip("0123456789"), []).append(c)
    for cols in groups.values():
        vals = t.trace[row, cols]
        if len(cols) > 1 and set(vals.tolist()) <= {0, 1} and vals.sum() == 1:
            one = cols[int(np.argmax(vals))]
            for c in cols:
                if c != one:  # the whole group is set (and so held fixed by the repair)
                    yield {x: int(x == c) for x in cols}


#: The CI scan (not deep) of a table wider than WIDE_TABLE columns tries CI_COLUMN_SAMPLE random
#: columns and no one-hot moves: the keccak permute chip's 2 381 columns cost seconds each to
#: repair (bench/underconstraint_keccak.py samples it more widely; --deep tries every column).
WIDE_TABLE, CI_COLUMN_SAMPLE = 256, 12


def row_mutations(t: ChipTable, row: int, rng, deep: bool, sample: int = CI_COLUMN_SAMPLE):
    """Single cells × candidate values, then the row's whole tuple replaced by another honest row's
    (a wide table, not deep: ``sample`` random columns)."""
    width = t.trace.shape[1]
    wide = not deep and width > WIDE_TABLE
    columns = sorted(rng.choice(width, sample, replace=False)) if wide else range(width)
    for c in columns:
        for v in candidate_values(int(t.trace[row, c]), rng, deep):
            yield {int(c): v}
    if not wide:
        yield from one_hot_moves(t, row)
    others = np.flatnonzero(np.any(t.trace != t.trace[row], axis=1))
    if not deep or not len(others):
        return
    for r in rng.choice(others, min(3, len(others)), replace=False):
        yield {c: int(t.trace[r, c]) for c in range(t.trace.shape[1]) if t.trace[r, c] != t.trace[row, c]}


@dataclass
class Report:
    outcomes: list
    seconds: float

    def table(self) -> list:
        """Per chip: (chip, tried, accepted, documented, rule violations)."""
        rows: dict = {}
        for o in self.outcomes:
            r = rows.setdefault(o.chip, [0, 0, 0, 0])
            r[0] += 1
            r[1] += o.status in ("accepted", "rule")
            r[2] += o.status in ("accepted", "rule") and o.reason is not None
            r[3] += o.status == "rule"
        return [(c, *v) for c, v in rows.items()]

    def undocumented(self) -> list:
        return [o for o in self.outcomes if o.status in ("accepted", "rule") and o.reason is None]

    def render(self) -> str:
        lines = [f"{'chip':<18} {'tried':>7} {'accepted':>9} {'documented':>11} {'inactive emits':>15} {'undocumented':>13}"]
        for chip, tried, acc, doc, rule in self.table():
            lines.append(f"{chip:<18} {tried:>7} {acc:>9} {doc:>11} {rule:>15} {acc - doc:>13}")
        bad = self.undocumented()
        lines.append(f"{len(self.outcomes)} mutations in {self.seconds:.1f} s; {len(bad)} undocumented accepted"
                     + (" (one example per chip, row kind and mutated columns):" if bad else ""))
        groups: dict = {}
        for o in bad:
            groups.setdefault((o.chip, o.kind, o.status, tuple(o.mutated)), []).append(o)
        for os_ in groups.values():
            lines.append(f"  ×{len(os_)} " + os_[0].describe())
        return "\n".join(lines)


def scan(samples: list, chips: tuple | None = None, deep: bool = False, seed: int = 0, log=None,
         sample: int = CI_COLUMN_SAMPLE) -> Report:
    """Mutate every chosen chip of every sample (module doc); return every outcome. Not deep
    (the CI variant): each chip once, in the sample where it has the most active rows (a
    segment's sample: every chip, in every segment); rows:
    first/last active and first padding; values x + 1; ``sample`` random columns of a row of a
    table wider than WIDE_TABLE."""
    rng = np.random.default_rng(seed)
    t0, outcomes = time.perf_counter(), []
    best: dict = {}
    for s in samples:
        for name, t in s.chips.items():
            size = len(np.flatnonzero(t.trace[:, t.active].astype(np.int64).sum(axis=1))) if t.active else 0
            if not s.joint and (name not in best or size > best[name][0]):
                best[name] = (size, s.name)
    for s in samples:
        for name, t in s.chips.items():
            if chips is None and name in NOT_SCANNED_BY_DEFAULT:
                continue
            # (a segment's chips are scanned in every segment: each has its own boundary rows)
            if (chips is not None and name not in chips) or (not deep and not s.joint and best[name][1] != s.name):
                continue
            for row in pick_rows(t, rng, deep):
                outcomes += scan_row(s, t, row, list(row_mutations(t, row, rng, deep, sample)))
            if log:
                log(f"{s.name}: {name} done ({time.perf_counter() - t0:.1f} s, {len(outcomes)} mutations)")
    return Report(outcomes, time.perf_counter() - t0)


# ---------------------------------------------------------------------------------------------
# Command line: python -m pyzkvm.machine.undercheck ELF [--input SPEC] [--deep] [--segment-cycles N]
# ---------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    import argparse

    from .. import inputs
    from ..errors import PyzkvmError
    from ..executor import execute
    from ..program import Program
    from .tables import build_chips, generate_tables

    parser = argparse.ArgumentParser(prog="python -m pyzkvm.machine.undercheck",
                                     description="Mutate the honest tables of a guest run; list what the debug check still accepts.")
    parser.add_argument("elf")
    parser.add_argument("--input", action="append", default=[],
                        help="an input element as for pyzkvm run: u32:N, u64:N, hex:HEX, str:TEXT or file:PATH (repeatable)")
    parser.add_argument("--chip", action="append", help="only this chip (repeatable)")
    parser.add_argument("--deep", action="store_true", help="more rows and values per cell (minutes)")
    parser.add_argument("--segment-cycles", type=int, help="cut the run into segments of N cycles, scanned together")
    args = parser.parse_args(argv)
    try:  # (the CLI's own parser: a bad spec is one line, never a traceback)
        elements = [inputs.parse_input_spec(spec) for spec in args.input]
        program = Program.from_elf(args.elf)
    except PyzkvmError as exc:
        parser.error(str(exc))
    if args.segment_cycles is not None and args.segment_cycles <= 0:
        parser.error(f"--segment-cycles must be positive, got {args.segment_cycles}")
    chips = build_chips(program)
    if args.segment_cycles:
        samples = segment_samples(args.elf, chips, segment_tables(chips, program, elements, args.segment_cycles))
    else:
        samples = [sample(args.elf, chips, generate_tables(chips, execute(program, elements, capture_trace=True)))]
    report = scan(samples, tuple(args.chip) if args.chip else None, deep=args.deep, log=lambda m: print(m, file=sys.stderr))
    print(report.render())
    return 1 if report.undocumented() else 0


if __name__ == "__main__":
    sys.exit(main())
