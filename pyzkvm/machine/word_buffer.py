"""A precompile's word buffer: a pointer register that must name n words inside guest memory.

The executor (Machine.check_range) faults unless the pointer is word-aligned and
[ptr, ptr + 4n) lies in [0x20, 0x78000000). On the pointer's 4 bytes p0..p3 (register bytes,
range-checked where they were written) the AIR proves the same, with 9 columns:

    p0 = 4·q, q < 64                         (byte lookup (q, 4q)): aligned
    key = 32 + q + 64·p1 + 2^14·p2 + 2^22·p3  the memory key of word 0 (< 2^30 + 32: exact)
    key − 40 = Σ lo_i·256^i, lo3 < 64         ptr ≥ 0x20: a smaller key makes key − 40 ≈ p > 2^30
    KEY_END − key − n = Σ room_i·256^i, room3 < 32
                                              the buffer ends by 0x78000000: past it the left
                                              side is ≈ p, not < 2^29

buffer_columns(prefix) names the columns; ``buffer_key`` writes the constraints and returns the key,
``buffer_witness`` fills the columns.
"""

from __future__ import annotations

import numpy as np

from . import buses
from .cpu import MEM_KEY_BASE, word
from .program_table import to_bytes

#: one past the key of the last word of guest memory (address 0x78000000)
KEY_END = MEM_KEY_BASE + (0x78000000 >> 2)


def buffer_columns(prefix: str = "") -> str:
    """The Layout spec of one pointer's columns (named with ``prefix``)."""
    return f"{prefix}q {prefix}lo:4 {prefix}room:4"


def buffer_key(b, ptr, q, lo, room, n_words: int, active, what: str):
    """Constrain pointer bytes ``ptr`` to name ``n_words`` aligned words in guest memory;
    return the key of its first word. q, lo, room: the columns above (expressions)."""
    R = buses.TAG_RANGE
    b.assert_zero(active * (ptr[0] - 4 * q), f"{what}: pointer is word-aligned")
    key = MEM_KEY_BASE + q + 64 * ptr[1] + 16384 * ptr[2] + 4194304 * ptr[3]
    b.assert_zero(active * (key - (MEM_KEY_BASE + 8) - word(lo)), f"{what}: pointer ≥ 0x20")
    b.assert_zero(active * (KEY_END - key - n_words - word(room)), f"{what}: buffer ends in memory")
    b.send(buses.BYTE, [R, q, 4 * q, 0, 0], active)                  # q < 64
    b.send(buses.BYTE, [R, lo[0], lo[1], 0, 0], active)
    b.send(buses.BYTE, [R, lo[2], lo[3], 0, 0], active)
    b.send(buses.BYTE, [R, room[0], room[1], 0, 0], active)
    b.send(buses.BYTE, [R, room[2], room[3], 0, 0], active)
    b.send(buses.BYTE, [R, 4 * lo[3], 8 * room[3], 0, 0], active)   # and lo3 < 64, room3 < 32
    return key


def buffer_witness(t, rows, ptr, n_words: int, q_col: int, lo_cols, room_cols) -> np.ndarray:
    """Fill q, lo, room for pointers ``ptr`` (int64, already checked by the executor) at
    ``rows`` of table ``t``; return the keys of the buffers' first words."""
    ptr = np.asarray(ptr, dtype=np.int64)
    key = MEM_KEY_BASE + (ptr >> 2)
    t[rows, q_col] = (ptr & 0xFF) >> 2
    t[rows[:, None], lo_cols] = to_bytes(key - (MEM_KEY_BASE + 8))
    t[rows[:, None], room_cols] = to_bytes(KEY_END - key - n_words)
    return key


def precompile_calls(w, receiver, code: int):
    """The ecalls of precompile ``code`` that the syscall chip sends on the ``precompile`` bus:
    (clk, a0, a1) as int64 arrays, in clk order."""
    from .witness import words

    fields = w.received(buses.PRECOMPILE, receiver)
    if not fields:
        return (np.zeros(0, dtype=np.int64),) * 3
    mine = words(fields[1:5]) == code
    return fields[0][mine], words(fields[5:9])[mine], words(fields[9:13])[mine]


def call_memory_events(w, clk, per_call: int, what: str):
    """The executor's memory-word events (address ≥ 0x20) of the ecalls at ``clk``, exactly
    ``per_call`` each, in the order they were logged: (addr, before, after), each (calls, per_call)."""
    from ..errors import ConstraintNotSatisfied

    ev = w.execution.trace.syscall_events
    ev_clk, ev_addr = ev["sys_clk"].astype(np.int64), ev["sys_addr"].astype(np.int64)
    sel = np.isin(ev_clk, clk) & (ev_addr >= 0x20)
    if sel.sum() != per_call * len(clk):
        raise ConstraintNotSatisfied(f"{what}: the executor logged {int(sel.sum())} memory events for "
                                     f"{len(clk)} call(s), not {per_call} each (inconsistent trace)")
    shape = (len(clk), per_call)
    return (ev_addr[sel].reshape(shape), ev["sys_before"].astype(np.int64)[sel].reshape(shape),
            ev["sys_after"].astype(np.int64)[sel].reshape(shape))
