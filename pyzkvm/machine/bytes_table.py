"""The byte chip: a fixed table of every byte pair (x, y) with the byte operations on them.

Preprocessed columns (2^16 rows, row = 256·x + y), with s = y & 7:
    x, y, and_xy, or_xy, xor_xy,
    shl_z = (x << s) & 0xFF,  shl_w = x >> (8 − s)        (x·2^s = shl_z + 256·shl_w)
    shr_z = x >> s,           shr_w = (x << (8 − s)) & 0xFF (the bits shifted out, moved to the top)
Main columns: m_range, m_and, m_or, m_xor, m_shl, m_shr — how often each tuple was looked up.

It receives six kinds of tuple on the ``byte`` bus (tag, x, y, z, w):
    (0, x, y, 0, 0)                 "x and y are bytes" (two range checks for one lookup)
    (1, x, y, x AND y, 0)   (2, x, y, x OR y, 0)   (3, x, y, x XOR y, 0)
    (4, x, y, shl_z, shl_w)         (5, x, y, shr_z, shr_w)
Any sent tuple that is not a row here leaves an uncancellable term on the bus.
"""

from __future__ import annotations

import numpy as np

from ..lazy_njit import njit
from . import buses
from .chip import Chip
from .layout import Layout
from ..stark import pool
from ..stark.field import P, f_add_u32

BYTES_PREP = Layout("x y and_xy or_xy xor_xy shl_z shl_w shr_z shr_w")
BYTES = Layout("m_range m_and m_or m_xor m_shl m_shr")
HEIGHT = 1 << 16


def byte_table_columns() -> np.ndarray:
    """The fixed (2^16, 9) table of BYTES_PREP."""
    r = np.arange(HEIGHT, dtype=np.uint32)
    x, y = r >> 8, r & 0xFF
    s = y & 7
    shl, shr = x << s, (x << (8 - s))  # x·2^s and x·2^(8−s) (≤ 2^16: exact in uint32)
    return np.stack([x, y, x & y, x | y, x ^ y, shl & 0xFF, shl >> 8, shr >> 8, shr & 0xFF], axis=1).astype(np.uint32)


class ByteTableAir(Chip):
    name = "bytes"
    width = BYTES.width
    preprocessed_width = BYTES_PREP.width

    def preprocessed_trace(self):
        return byte_table_columns()

    def generate(self, w):
        """The multiplicities, derived from every other chip's sends (byte_multiplicities),
        once memory checking has filled their timestamp differences (which they range-check)."""
        others = [a for a in w.airs if a is not self]
        return byte_multiplicities(others, w.field_traces(others), w.public_values)

    def constraints(self, b):
        p = lambda name: b.prep(getattr(BYTES_PREP, name))  # noqa: E731
        m = lambda name: b.main(getattr(BYTES, name))  # noqa: E731
        b.declare_active(1)  # a fixed table: every row is a real entry, its multiplicities are free counts
        x, y = p("x"), p("y")
        b.receive(buses.BYTE, [buses.TAG_RANGE, x, y, 0, 0], m("m_range"))
        b.receive(buses.BYTE, [buses.TAG_AND, x, y, p("and_xy"), 0], m("m_and"))
        b.receive(buses.BYTE, [buses.TAG_OR, x, y, p("or_xy"), 0], m("m_or"))
        b.receive(buses.BYTE, [buses.TAG_XOR, x, y, p("xor_xy"), 0], m("m_xor"))
        b.receive(buses.BYTE, [buses.TAG_SHL, x, y, p("shl_z"), p("shl_w")], m("m_shl"))
        b.receive(buses.BYTE, [buses.TAG_SHR, x, y, p("shr_z"), p("shr_w")], m("m_shr"))


def byte_sends(compiled) -> tuple:
    """A chip's sends on the ``byte`` bus and their (tag, x, y, μ) as one list of Exprs (the
    roots of the tape byte_multiplicities evaluates; machine/prover_key.py stores it)."""
    from ..stark.air import bus_id

    byte_bus = bus_id(buses.BYTE)
    sends = [it for it in compiled.interactions if it.bus == byte_bus and it.sign > 0]
    return sends, [e for it in sends for e in (it.values[0], it.values[1], it.values[2], it.multiplicity)]


#: rows counted a block at a time, send by send: a block of the trace and of the computed
#: values stays in cache while every send reads it (the CPU's: 512 × 81 + 35 columns, 240 kB)
COUNT_BLOCK = 512


@njit(cache=True, nogil=True)
def count_lookups(counts, trace, computed, fields, width, r0, r1):
    """counts[(256·x + y)·width + tag] += μ in F_p for every send's (tag, x, y, μ) on every row
    r0 … r1 − 1 whose μ ≠ 0 and whose (tag, x, y) names a cell (x, y bytes, tag < width): uint32
    counts, canonical (half the bytes of int64 sums, and no reduction afterwards).
    ``fields[s]`` says where each of send s's four values is: column f ≥ 0 of the row-major
    ``trace``, or row −1 − f of ``computed``. A block of rows at a time (COUNT_BLOCK), every
    send on it: the block is read from memory once (a column at a time would stride the whole
    table)."""
    plain = fields >= 0
    at = np.where(plain, fields, -1 - fields)
    v = np.empty(4, dtype=np.int64)
    for start in range(r0, r1, COUNT_BLOCK):
        for s in range(fields.shape[0]):
            for i in range(start, min(r1, start + COUNT_BLOCK)):
                for j in range(4):
                    v[j] = trace[i, at[s, j]] if plain[s, j] else computed[at[s, j], i]
                if v[3] != 0 and v[1] < 256 and v[2] < 256 and v[0] < width:
                    cell = ((v[1] << 8) | v[2]) * width + v[0]
                    counts[cell] = f_add_u32(counts[cell], np.uint32(v[3]))


def _count_parts(counts, trace, computed, fields, width, bounds, lo, hi):
    # count_lookups on parts lo..hi−1 of the rows, part p = rows bounds[p]..bounds[p+1]−1 into
    # counts[p] (a chunk of pool.parallel_for: the kernel releases the GIL)
    for p in range(lo, hi):
        count_lookups(counts[p], trace, computed, fields, width, bounds[p], bounds[p + 1])


def byte_multiplicities(airs, traces: dict, public_values) -> np.ndarray:
    """The byte table's main trace, *derived* from the other chips' constraints: evaluate every
    send on the ``byte`` bus — its (tag, x, y) and its multiplicity μ — on each chip's trace, and
    add μ at row 256·x + y of column tag. No chip keeps a list of its lookups: whatever the AIR
    sends is what is counted. A tuple whose x or y is not a byte (only a faulty or forged witness
    makes one) has no row to count in: it is left out, so the byte bus does not balance and the
    debug check names it. Padding rows contribute nothing (their multiplicities vanish: the
    activity rule, stark/air.py)."""
    from ..stark.optional import left_out
    from .evaluate import compiled_air, evaluate_split

    # the (HEIGHT, width) table, row-major: cell (256·x + y)·width + tag; one per part of the
    # rows counted side by side on the thread pool, added up at the end
    threads = pool.threads()
    counts = np.zeros((threads, HEIGHT * BYTES.width), dtype=np.uint32)
    for air in airs:
        if isinstance(air, ByteTableAir) or left_out(compiled_air(air), traces[air.name]):  # an all-zero
            continue  # optional table sends nothing
        sends, exprs = byte_sends(compiled_air(air))
        if not sends:
            continue
        trace = np.ascontiguousarray(traces[air.name], dtype=np.uint32)
        fields, computed = evaluate_split(compiled_air(air), exprs, trace, public_values)  # count_lookups' fields
        bounds = np.array(pool.chunk_bounds(len(trace), len(sends), threads, chunks_per_thread=1), dtype=np.int64)
        pool.parallel_for(_count_parts, len(bounds) - 1, counts, trace, np.ascontiguousarray(computed),
                          fields.reshape(-1, 4), BYTES.width, bounds, work_per_item=len(sends) * len(trace) // threads,
                          chunks_per_thread=1)
    return sum_parts(counts).reshape(HEIGHT, BYTES.width)


def sum_parts(counts: np.ndarray) -> np.ndarray:
    """Σ_p counts[p] in F_p, into counts[0] (canonical uint32 rows): two canonical values sum
    below 2^32, at most one P over, and min(s, s − P) takes it off (below P, s − P wraps past
    2^32 − P > s). Two vector passes a part (the uint64 sum and % P were 5 ms for two parts)."""
    total = counts[0]
    for part in counts[1:]:
        total += part
        np.minimum(total, total - np.uint32(P), out=total)
    return total
