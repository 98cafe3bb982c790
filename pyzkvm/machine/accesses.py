"""Offline memory checking, prover side: the previous (value, timestamp) of every access.

Every chip that touches a register or memory word files an ``Access`` group: which rows of
which table, the key, the timestamp and the value left behind. ``resolve_accesses`` sorts all
of them by (key, ts) — one numpy lexsort — and writes back into each row the value and
timestamp of the access before it (or the initial value and ts 0), plus the range-checked
difference ts − prev_ts − 1 as 3 bytes. The sorted list also gives the boundary chip each
key's final value and timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConstraintNotSatisfied, UnsupportedProgram
from . import buses
from .program_table import to_bytes


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
    prev_val_cols: list | None  # None: a read (the value before must equal ``value``)
    what: str


def resolve_accesses(groups: list, image):
    """Fill prev_ts / d / prev value columns; return (keys, ts, values) sorted by (key, ts) and
    the byte lookups of the d columns."""
    acc_key = np.concatenate([g.key for g in groups]).astype(np.int64)
    acc_ts = np.concatenate([g.ts for g in groups]).astype(np.int64)
    acc_val = np.concatenate([np.asarray(g.value, dtype=np.int64) for g in groups])
    pos = np.minimum(np.searchsorted(image.keys, acc_key), len(image.keys) - 1)
    init = np.where(image.keys[pos] == acc_key, image.words[pos], 0)  # the image word, else 0
    order = np.lexsort((acc_ts, acc_key))
    k_s, t_s, v_s = acc_key[order], acc_ts[order], acc_val[order]
    if np.any((k_s[1:] == k_s[:-1]) & (t_s[1:] == t_s[:-1])):
        raise ConstraintNotSatisfied("two accesses to one key share a timestamp (a bug: report it)")
    same = np.zeros(len(order), dtype=bool)
    same[1:] = k_s[1:] == k_s[:-1]
    prev_ts_s = np.zeros(len(order), dtype=np.int64)
    prev_ts_s[1:] = np.where(same[1:], t_s[:-1], 0)
    prev_val_s = init[order].copy()
    prev_val_s[1:] = np.where(same[1:], v_s[:-1], prev_val_s[1:])
    prev_ts, prev_val = np.empty_like(prev_ts_s), np.empty_like(prev_val_s)
    prev_ts[order], prev_val[order] = prev_ts_s, prev_val_s
    diff = acc_ts - prev_ts - 1
    if len(diff) and diff.max() >= 1 << 24:
        raise UnsupportedProgram("a timestamp difference reaches 2^24: the run is too long for the machine AIR")
    lookups, start = [], 0
    for g in groups:
        sl = slice(start, start + len(g.rows))
        start += len(g.rows)
        if g.prev_val_cols is None and np.any(prev_val[sl] != np.asarray(g.value, dtype=np.int64)):
            raise ConstraintNotSatisfied(f"a {g.what} read does not return the last value written (inconsistent trace)")
        g.table[g.rows, g.prev_ts_col] = prev_ts[sl]
        d = to_bytes(diff[sl])[:, :3].astype(np.int64)
        g.table[g.rows[:, None], g.d_cols] = d
        if g.prev_val_cols is not None:
            g.table[g.rows[:, None], g.prev_val_cols] = to_bytes(prev_val[sl])
        lookups += [(buses.TAG_RANGE, d[:, 0], d[:, 1]), (buses.TAG_RANGE, d[:, 2], 0 * d[:, 2])]
    return (k_s, t_s, v_s), lookups
