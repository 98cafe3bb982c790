"""A precompile call as 64 consecutive rows: the round position and the links between rows.

The SHA chips (sha_extend.py, sha_compress.py) lay one call out as 64 rows, row i doing step i
(schedule word i, compression round i). The row's position is a one-hot ``pos0..pos63``:

* active = Σ pos_k (boolean: at most one position per row), the chip's activity selector;
* transition: pos_{k+1}' = pos_k for k < 63. So a row at position k < 63 is followed by
  position k + 1, and a row at position k + 1 is preceded by position k; after position 63
  (or a padding row) the next row is position 0 (a new call) or padding;
* first row: position 0 or padding (no call starts half-way); last row: position 63 or
  padding (no call is cut short). With the transitions, every call is exactly 64 rows in order,
  so no step can be skipped, repeated or reordered;
* the call's shared columns (clk, pointers, ...) are equal from row to row while the call
  continues (cont = active − pos63), so no row of one call can be spliced into another;
* the step's constant (K[i] for compress) and its memory key offset are Σ_k c_k·pos_k
  (degree 1), and pos0 / pos63 mark the first and last row.

Columns a chip only uses on some rows (the pointer checks on the first row, the h write-back
on the last) are asserted 0 elsewhere, so no cell of the table is a free witness.
"""

from __future__ import annotations

import numpy as np

from .program_table import pad_height

ROWS = 64
POSITIONS = f"pos:{ROWS}"


def call_chain(b, pos_cols, shared_cols, what: str):
    """Constrain the one-hot position and the shared columns; return (active, pos expressions).
    A call is len(pos_cols) rows (64 for the SHA chips; the field-program chips have their own)."""
    rows = len(pos_cols)
    pos = [b.main(c) for c in pos_cols]
    for x in pos:
        b.assert_bool(x, f"{what}: position flag is boolean")
    active = b.declare_active(sum(pos))
    b.assert_bool(active, f"{what}: at most one position per row")
    step = b.when_transition()
    for k in range(rows - 1):
        step.assert_eq(b.main_next(pos_cols[k + 1]), pos[k], f"{what}: row {k + 1} of a call follows row {k}")
    for k in range(1, rows):
        b.when_first_row().assert_zero(pos[k], f"{what}: the table starts with a call's row 0")
    for k in range(rows - 1):
        b.when_last_row().assert_zero(pos[k], f"{what}: the table ends with a call's row {rows - 1}")
    cont = active - pos[rows - 1]
    for c in shared_cols:
        step.assert_zero(cont * (b.main_next(c) - b.main(c)), f"{what}: a call's rows share column {c}")
    zero_unless(b, active, [b.main(c) for c in shared_cols], f"{what}: a padding row is 0")
    return active, pos


def zero_unless(b, flag, exprs, name: str) -> None:
    """Each expression is 0 on rows where ``flag`` (a boolean expression) is 0."""
    for x in exprs:
        b.assert_zero((1 - flag) * x, name)


def by_position(pos, values):
    """Σ_k values[k]·pos_k: the step's constant on each row (0 on a padding row)."""
    return sum(int(v) * p for v, p in zip(values, pos) if v)


# ---- witness -------------------------------------------------------------------------------------
def call_table(n_calls: int, width: int, pos_cols) -> tuple:
    """An all-zero table for ``n_calls`` calls of len(pos_cols) rows (padded to a power of two),
    with the position one-hot filled; returns (table, active rows)."""
    per_call = len(pos_cols)
    rows = np.arange(per_call * n_calls)
    t = np.zeros((pad_height(len(rows)), width), dtype=np.int64)
    t[rows, np.asarray(pos_cols)[rows % per_call]] = 1
    return t, rows


def per_row(x, rows: int = ROWS) -> np.ndarray:
    """(calls, ...) per-call values → (rows·calls, ...): each call's value on each of its rows."""
    return np.repeat(np.asarray(x), rows, axis=0)
