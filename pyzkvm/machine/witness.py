"""Trace generation's shared state for one segment: what each chip's ``generate`` reads.

Every chip builds its own main trace in its own module (``generate(self, w)``, next to its
constraints). What it needs from the others it asks this object for, and the answer is
*derived* from the other chips' constraints rather than kept in a list beside them:

    w.received(bus, self)   every tuple the other chips send on ``bus`` (their recorded
                            interactions, evaluated on their traces: evaluate.py), in proof
                            order — what an ALU chip proves, what the program chip counts
    w.trace(air)            that chip's trace, generated first if it is not yet (memoised;
                            a chip that asks for itself, directly or not, is a cycle: an error)
    w.answer(bus, op, *xs)  the result a receiving chip gives for operation ``op`` — for the
                            rows whose result the executor did not record (rd = x0, branches)
    w.add_accesses(...)     memory checking: every chip files its register/memory accesses;
    w.memory_after()        resolved (accesses.py) once every chip that sends on the memory
                            bus has its trace: fills their previous-value/timestamp columns

The execution's events (its Trace) are the one reference for instruction semantics: a chip's
rows come from them and from what other chips send it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ConstraintNotSatisfied
from ..stark.air import bus_id, send_buses
from . import buses
from ..lazy_njit import njit
from ..stark.pool import parallel_for
from .accesses import resolve_accesses


def words(byte_columns) -> np.ndarray:
    """Four byte columns (little-endian) → their 32-bit values (int64)."""
    b = [np.asarray(x, dtype=np.int64) for x in byte_columns]
    return b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24


def late_buses(bus: str | None) -> set:
    """The ids of the buses whose sent columns are final only once memory checking has run
    (``byte``, ``memory``), but for ``bus`` itself (None: any other bus)."""
    return {bus_id(buses.BYTE), bus_id(buses.MEMORY)} - ({bus_id(bus)} if bus is not None else set())


def early_sends(compiled, bus: str | None) -> tuple:
    """What Witness._sent evaluates in one pass when ``bus``'s sends are first asked for: every
    send not on a late bus (late_buses), and their values and multiplicities as one list of
    Exprs (the roots of one tape; machine/prover_key.py stores it for each kind of ``bus``)."""
    late = late_buses(bus)
    sends = [it for it in compiled.interactions if it.sign > 0 and it.bus not in late]
    return sends, [e for it in sends for e in (*it.values, it.multiplicity)]


def _send_buses(compiled) -> frozenset:
    """The ids of the buses a chip sends on: a prover key's view reads them from its stored
    lists (stark/prover_key.ProverAir.send_buses), a compiled AIR from its interactions."""
    buses_of = getattr(compiled, "send_buses", None)
    return buses_of if buses_of is not None else send_buses(compiled.interactions)


class Sent(Sequence):
    """One send's tuples, a column per field, at the ``rows`` whose multiplicity is not zero:
    each column is gathered (int64) when first read, so a receiver that reads a few fields (the
    program chip: the pc) copies no others. A field is column ``sources[i]`` of the sender's
    uint32 ``table`` if that is ≥ 0 (a plain column: ``settle`` gathers, before memory checking
    writes its columns, those it would change — the values are the table's at the send, as if
    gathered at once), else row −1 − sources[i] of the ``computed`` values (evaluate.py's
    evaluate_split). ``gather`` and ``take`` read several fields at once, row by row, on the
    thread pool."""

    def __init__(self, table: np.ndarray, sources: np.ndarray, computed: np.ndarray, rows: np.ndarray) -> None:
        self._table: np.ndarray | None = table
        self._computed: np.ndarray | None = computed
        self._sources, self._rows = sources, rows
        self._gathered: dict = {}

    def __len__(self) -> int:
        return len(self._sources)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(len(self))[i]]
        i = range(len(self))[i]  # an IndexError past the end (ends iteration)
        if i not in self._gathered:
            self.gather([i])
        return self._gathered[i]

    def gather(self, fields=None) -> None:
        """Gather now the ``fields`` (default: all) not gathered yet: one pass over the rows for
        them all (a row's fields are near each other in the table), chunks of rows on the
        thread pool. Once every field is, the table and computed values are let go."""
        todo = [i for i in (range(len(self)) if fields is None else fields) if i not in self._gathered]
        if todo:
            self._gathered.update(zip(todo, self._read(todo, self._rows)))
        if len(self._gathered) == len(self):  # the (uint32 copy of an int64) table is not read again
            self._table = self._computed = None

    def take(self, fields, at: np.ndarray) -> np.ndarray:
        """The ``fields`` of the tuples ``at`` (positions among the send's rows), (len(fields),
        len(at)) int64: a gathered field from its column, the others read from the table at
        those rows only (a receiver that keeps a few tuples — an ALU chip its operations' —
        gathers no whole column of them)."""
        todo = [i for i in fields if i not in self._gathered]
        read = self._read(todo, self._rows[at]) if todo else np.empty((0, len(at)), dtype=np.int64)
        if len(todo) == len(fields):
            return read
        fresh = dict(zip(todo, read))
        return np.stack([fresh[i] if i in fresh else self._gathered[i][at] for i in fields])

    def _read(self, fields: list, rows: np.ndarray) -> np.ndarray:
        # the fields (none gathered yet) at the table's ``rows``: one pass, chunks of rows on the pool
        out = np.empty((len(fields), len(rows)), dtype=np.int64)
        parallel_for(_gather_fields, len(rows), self._table, self._computed, self._sources[fields], rows, out,
                     work_per_item=len(fields))
        return out

    def settle(self, groups: list) -> None:
        """Gather now every field that is a trace column one of the access ``groups`` writes."""
        if self._table is None:
            return
        self.gather([i for i, col in enumerate(self._sources.tolist()) if col >= 0 and i not in self._gathered and any(
            col in g.columns() and np.may_share_memory(self._table, g.table) for g in groups)])


@njit(cache=True, nogil=True)
def _gather_fields(table, computed, sources, rows, out, lo, hi):
    # out[f, r] = the field's value at row rows[r] (Sent.gather), for r = lo … hi − 1: column
    # sources[f] ≥ 0 of the table, else row −1 − sources[f] of computed. Row by row, so a table
    # row's fields are read from the cache lines it loaded once (a column at a time strode the
    # whole row-major table once per field: the CPU's 13 ALU fields, 0.19 s at 2^20 rows)
    for r in range(lo, hi):
        i = rows[r]
        for f in range(sources.shape[0]):
            s = sources[f]
            out[f, r] = table[i, s] if s >= 0 else computed[-1 - s, i]


class Witness:
    """One segment's trace generation: ``airs`` in proof order, the ``program`` and ``image``
    tables, the ``execution`` (its Trace) and the SegmentContext of the segments before."""

    #: refuse a trace whose reads do not return the last value written (accesses.py). Attack
    #: tests switch it off to build the tables of an inconsistent run: the memory argument of
    #: the AIR, not this convenience check, is what rejects them.
    check_reads = True

    def __init__(self, airs, program, image, execution, context, public_values) -> None:
        self.airs, self.program, self.image = airs, program, image
        self.execution, self.context, self.public_values = execution, context, public_values
        self.traces: dict = {}
        self._busy: set = set()
        self._accesses: list = []
        self._memory_after = None
        self._sent_cache: dict = {}
        self._sends_on: dict | None = None

    # ---- traces -------------------------------------------------------------------------------
    def trace(self, air) -> np.ndarray:
        """``air``'s main trace (int64 or uint32), generating it now if needed."""
        if air.name not in self.traces:
            if air.name in self._busy:
                raise ConstraintNotSatisfied(f"trace generation of {air.name!r} depends on itself (a bug in a chip's generate)")
            self._busy.add(air.name)
            self.traces[air.name] = air.generate(self)
            self._busy.discard(air.name)
        return self.traces[air.name]

    def field_traces(self, airs) -> dict:
        """``airs``' final traces as the uint32 field elements the prover reads, by name: each is
        generated (all of them first), then its int64 copy replaced by the uint32 one here too
        (half the memory: the CPU's int64 table was 160 MB at 2^18 cycles). For the byte table,
        which reads every other trace after memory checking has filled their last columns."""
        self.memory_after()  # every access resolved: no chip writes a trace after this
        traces = {a.name: self.trace(a) for a in airs}
        for name, trace in traces.items():
            self.traces[name] = traces[name] = np.ascontiguousarray(trace, dtype=np.uint32)
            del trace
        return traces

    def trace_of(self, name: str) -> np.ndarray:
        return self.trace(next(a for a in self.airs if a.name == name))

    def senders(self, bus: str, exclude=None) -> list:
        """The chips (other than ``exclude``) whose constraints send on ``bus``, in proof order."""
        from .evaluate import compiled_air

        if self._sends_on is None:  # per chip, the ids of the buses it sends on (read once)
            self._sends_on = {a.name: _send_buses(compiled_air(a)) for a in self.airs}
        b = bus_id(bus)
        return [a for a in self.airs if a is not exclude and b in self._sends_on[a.name]]

    def received(self, bus: str, receiver) -> Sequence:
        """Every tuple sent on ``bus`` by the chips other than ``receiver``: a sequence of int64
        columns (one per tuple field), rows in proof order of the senders, then in the order of
        their sends, then by row; only rows whose multiplicity is not zero (each sent once).
        The columns may be shared with other receivers of ``bus``: read them, never write them."""
        parts = self.received_parts(bus, receiver)
        if len(parts) <= 1:  # one send (the CPU's, mostly): its columns, each gathered when first read
            return parts[0] if parts else []
        return [np.concatenate([p[i] for p in parts]) for i in range(len(parts[0]))]

    def received_parts(self, bus: str, receiver) -> list:
        """What ``received`` concatenates: one Sent per send, in the same order (a receiver
        that keeps a few rows selects them in each part, copying no whole column twice)."""
        parts = []
        for air in self.senders(bus, exclude=receiver):
            parts += self._sent(air, bus)
        return parts

    def _sent(self, air, bus: str) -> list:
        """``air``'s sends on ``bus``: per send, its columns at the rows whose multiplicity is
        not zero (a Sent). On the first call for ``air``, its sends on every bus but ``byte`` and
        ``memory`` are evaluated in one pass (each column read once) and kept: those two are
        left out as their columns are final only once memory checking has run."""
        from ..stark.optional import left_out
        from .evaluate import compiled_air, evaluate_split

        if (air.name, bus) not in self._sent_cache:
            compiled = compiled_air(air)
            sends, exprs = early_sends(compiled, bus)
            late = late_buses(bus)
            trace = self.trace(air)
            if left_out(compiled, trace):  # an all-zero optional table sends nothing (stark/optional.py's claim)
                sends = []
            table = np.asarray(trace, dtype=np.uint32) if sends else trace  # (a uint32 copy of an int64 trace)
            sources, computed = evaluate_split(compiled, exprs, table, self.public_values) if sends else (None, None)
            k = 0
            for it in sends:
                fields, m = slice(k, k + len(it.values)), sources[k + len(it.values)]
                k += len(it.values) + 1
                mult = table[:, m] if m >= 0 else computed[-1 - m]
                rows = np.flatnonzero(mult)
                if np.any(mult[rows] != 1):
                    raise ConstraintNotSatisfied(f"{air.name!r} sends on bus {it.bus_name!r} with a multiplicity other than 0 or 1")
                part = Sent(table, sources[fields], computed, rows)
                if trace.dtype != np.uint32:  # it would keep the uint32 copy alive
                    part.gather()
                self._sent_cache.setdefault((air.name, it.bus_name), []).append(part)
            for name in {bus, *(it.bus_name for it in compiled.interactions if it.bus not in late)}:
                self._sent_cache.setdefault((air.name, name), [])
        return self._sent_cache[(air.name, bus)]

    def answer(self, bus: str, op, *operands) -> np.ndarray:
        """The result of each operation ``op`` (with ``operands``) as the chip that receives it
        on ``bus`` computes it (its ``OPS`` and ``answer``): a uint64 array."""
        from ..isa import OPS
        from .evaluate import compiled_air

        out = np.zeros(len(op), dtype=np.uint64)
        b = bus_id(bus)
        for air in self.airs:
            ops = getattr(air, "OPS", None)
            if ops is None or not any(it.bus == b and it.sign < 0 for it in compiled_air(air).interactions):
                continue
            sel = np.isin(op, [OPS[o] for o in ops])
            if sel.any():
                out[sel] = air.answer(op[sel], *(x[sel] for x in operands))
        return out

    # ---- memory checking ----------------------------------------------------------------------
    def add_accesses(self, *groups) -> None:
        """File Access groups (accesses.py) for the memory argument."""
        self._accesses.extend(groups)

    def memory_after(self):
        """Resolve every register/memory access of this segment (each chip that sends on the
        memory bus filed its accesses while generating) and return the MemoryState after it."""
        if self._memory_after is None:
            asker = [a for a in self.airs if a.name in self._busy]
            for air in self.senders(buses.MEMORY):
                if air not in asker:
                    self.trace(air)
            if self._memory_after is not None:  # one of those chips resolved it already
                return self._memory_after
            for parts in self._sent_cache.values():  # what the tuples sent so far read of a column it rewrites
                for part in parts:
                    part.settle(self._accesses)
            k_s, t_s, v_s = resolve_accesses(self._accesses, self.image, self.context.memory, check_reads=self.check_reads)
            self._memory_after = self.context.memory.after(k_s, t_s, v_s)
            self._accesses = []  # filled in: their views of the int64 traces would keep those alive
        return self._memory_after
