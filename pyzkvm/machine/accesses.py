"""Offline memory checking, prover side: the previous (value, timestamp) of every access.

Every chip that touches a register or memory word files an ``Access`` group: which rows of
which table, the key, the timestamp and the value left behind. ``resolve_accesses`` sorts all
of them by (key, ts) — one numpy lexsort — and writes back into each row the value and
timestamp of the access before it (or the initial value and ts 0), plus the range-checked
difference ts − prev_ts − 1 as 4 bytes (cpu.D_WEIGHTS). The sorted list also gives the boundary
chip each key's final value and timestamp.

In a continuation the access before may lie in an earlier segment: ``MemoryState`` carries the
last (value, ts) of every key touched so far from one segment's tables to the next.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConstraintNotSatisfied, UnsupportedProgram
from ..stark.pool import parallel_for
from ..lazy_njit import njit


@dataclass
class Access:
    """Accesses made by ``rows`` of ``table`` (one per row)."""

    table: np.ndarray
    rows: np.ndarray
    key: np.ndarray
    ts: np.ndarray
    value: np.ndarray          # the value after the access (= before, for a read)
    prev_ts_col: int
    d_cols: list
    prev_val_cols: list | None  # None: a read (the value before must equal ``value``); else its first bytes' columns
    what: str
    #: a write whose value before is known (a store: the executor's word): it must be memory's
    expected_before: np.ndarray | None = None

    def columns(self) -> set:
        """The columns of ``table`` resolve_accesses writes for this group."""
        return {self.prev_ts_col, *self.d_cols, *(self.prev_val_cols or [])}


#: ts − prev_ts − 1 must stay below this (4 bytes weighted 1, 2^8, 2^16, 2^20: d3 < 256)
MAX_TS_GAP = 1 << 28


@dataclass
class MemoryState:
    """The last access of every key touched so far: keys ascending, with value and timestamp."""

    keys: np.ndarray
    values: np.ndarray
    ts: np.ndarray

    @classmethod
    def empty(cls) -> "MemoryState":
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z.copy(), z.copy())

    def lookup(self, keys: np.ndarray):
        """(found, value, ts) of each key (value/ts meaningless where not found)."""
        if not len(self.keys):
            return np.zeros(len(keys), dtype=bool), np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return self.keys[pos] == keys, self.values[pos], self.ts[pos]

    def after(self, k_s: np.ndarray, t_s: np.ndarray, v_s: np.ndarray) -> "MemoryState":
        """This state updated with accesses sorted by (key, ts): each key's last one wins."""
        last = np.ones(len(k_s), dtype=bool)
        last[:-1] = k_s[1:] != k_s[:-1]
        keys = np.concatenate([self.keys, k_s[last]])
        values = np.concatenate([self.values, v_s[last]])
        ts = np.concatenate([self.ts, t_s[last]])
        order = np.lexsort((ts, keys))
        keys, values, ts = keys[order], values[order], ts[order]
        keep = np.ones(len(keys), dtype=bool)
        keep[:-1] = keys[1:] != keys[:-1]
        return MemoryState(keys[keep], values[keep], ts[keep])


def order_by_key_and_ts(keys: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """The permutation sorting accesses by (key, ts), ties in input order: np.lexsort's. A
    segment's timestamps span few values, so key·span + (ts − min ts) is one int64 sort key
    when it fits in 63 bits (one sort, not lexsort's two passes: ~2.5× faster)."""
    if len(keys):
        t0 = int(ts.min())
        span = int(ts.max()) - t0 + 1
        if int(keys.min()) >= 0 and (int(keys.max()) + 1) * span < 1 << 63:
            return np.argsort(keys * span + (ts - t0), kind="stable")
    return np.lexsort((ts, keys))


@njit(cache=True, nogil=True)
def _previous_accesses(order, key, ts, val, k_s, t_s, v_s, prev_ts, prev_val, first, clash, j0, j1) -> None:
    """The sorted positions j0 … j1 − 1 of (key, ts) order: the sorted accesses (k_s, t_s,
    v_s), and for each access (at its own index) the (ts, value) of the access before it — the
    previous one in sorted order, but for each key's first (``first``: filled in by the
    caller). clash[0] = True if two accesses to one key share a timestamp. Each position reads
    the one before from the unsorted arrays, so ranges of positions are independent (a chunk of
    pool.parallel_for)."""
    if j1 <= j0:
        return
    h = order[j0 - 1] if j0 > 0 else order[j0]  # the access before position j0 (itself at j0 = 0)
    hk, ht, hv = key[h], ts[h], val[h]  # then each position's, loaded once (the order is a random gather)
    for j in range(j0, j1):
        i = order[j]
        k, t, v = key[i], ts[i], val[i]
        k_s[j], t_s[j], v_s[j] = k, t, v
        first[j] = j == 0 or hk != k
        if not first[j]:
            if ht == t:
                clash[0] = True
            prev_ts[i], prev_val[i] = ht, hv
        hk, ht, hv = k, t, v


def resolve_accesses(groups: list, image, carry: MemoryState | None = None, *, check_reads: bool = True):
    """Fill prev_ts / d / prev value columns; return (keys, ts, values) sorted by (key, ts). A key's first access here takes its previous (value,
    ts) from ``carry`` (earlier segments) if it is there, else the image word (or 0) at ts 0.
    ``check_reads``: refuse a read that does not return the last value written (Witness.check_reads)."""
    acc_key = np.concatenate([g.key for g in groups]).astype(np.int64, copy=False)
    acc_ts = np.concatenate([g.ts for g in groups]).astype(np.int64, copy=False)
    acc_val = np.concatenate([np.asarray(g.value, dtype=np.int64) for g in groups])
    order = order_by_key_and_ts(acc_key, acc_ts)
    k_s, t_s, v_s = np.empty_like(acc_key), np.empty_like(acc_ts), np.empty_like(acc_val)
    prev_ts, prev_val = np.empty_like(acc_ts), np.empty_like(acc_val)
    is_first = np.empty(len(order), dtype=np.bool_)
    clash = np.zeros(1, dtype=np.bool_)
    parallel_for(_previous_accesses, len(order), order, acc_key, acc_ts, acc_val, k_s, t_s, v_s, prev_ts, prev_val,
                 is_first, clash, work_per_item=8)
    if clash[0]:
        raise ConstraintNotSatisfied("two accesses to one key share a timestamp (a bug: report it)")
    first = np.flatnonzero(is_first)
    keys = k_s[first]  # each key once: its state before this segment
    pos = np.minimum(np.searchsorted(image.keys, keys), len(image.keys) - 1)
    init, init_ts = np.where(image.keys[pos] == keys, image.words[pos], 0), np.zeros(len(keys), dtype=np.int64)  # the image word, else 0
    if carry is not None:
        found, value, ts = carry.lookup(keys)
        init, init_ts = np.where(found, value, init), np.where(found, ts, 0)
    prev_ts[order[first]], prev_val[order[first]] = init_ts, init
    del order
    diff = np.subtract(acc_ts, prev_ts, out=acc_ts)  # ts − prev_ts − 1, in acc_ts's memory (its last use)
    diff -= 1
    if len(diff) and diff.max() >= MAX_TS_GAP:
        raise UnsupportedProgram("a timestamp difference reaches 2^28: the run is too long for the machine AIR")
    start = 0
    for g in groups:
        sl = slice(start, start + len(g.rows))
        start += len(g.rows)
        if check_reads and g.prev_val_cols is None and np.any(prev_val[sl] != np.asarray(g.value, dtype=np.int64)):
            raise ConstraintNotSatisfied(f"a {g.what} read does not return the last value written (inconsistent trace)")
        if check_reads and g.expected_before is not None and np.any(prev_val[sl] != np.asarray(g.expected_before, dtype=np.int64)):
            raise ConstraintNotSatisfied(f"a {g.what}'s word does not match memory (inconsistent trace)")
        cols = np.array([g.prev_ts_col, *g.d_cols, *(g.prev_val_cols or [])], dtype=np.int64)
        parallel_for(_write_access_columns, len(g.rows), g.table, np.asarray(g.rows, dtype=np.int64), cols, prev_ts[sl],
                     diff[sl], prev_val[sl], work_per_item=len(cols))
    return k_s, t_s, v_s


@njit(cache=True, nogil=True)
def _write_access_columns(table, rows, cols, prev_ts, diff, prev_val, r0, r1) -> None:
    """Row rows[r] of ``table`` for r = r0 … r1 − 1: prev_ts[r] in cols[0]; d = diff[r] as d0,
    d1 (bytes), d2 (the low nibble of byte 2), d3 = d >> 20 in cols[1..4]; and prev_val[r]'s
    first len(cols) − 5 little-endian bytes in cols[5..] (all 4 for a write, none for a read;
    1 for a cell whose other bytes are always 0). A row at a time: its cells are
    near each other (a column at a time strides a row-major table once per column). A group's
    accesses are in distinct rows, so ranges of r are independent (a chunk of pool.parallel_for)."""
    for r in range(r0, r1):
        i, d = rows[r], diff[r]
        table[i, cols[0]] = prev_ts[r]
        table[i, cols[1]] = d & 0xFF
        table[i, cols[2]] = (d >> 8) & 0xFF
        table[i, cols[3]] = (d >> 16) & 0xF
        table[i, cols[4]] = d >> 20
        for k in range(len(cols) - 5):
            table[i, cols[5 + k]] = (prev_val[r] >> (8 * k)) & 0xFF
