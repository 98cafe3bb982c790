"""RISC Zero's SHA ecall (t0 = 3) on the SHA chips: the witness side, one SHA-256 block at a time.

The ecall (executor/risc0.py ``_sha``) compresses ``count`` 64-byte blocks into the 8-word state
at a1 and writes the result to a0. States and blocks are bytes in memory, read as big-endian
words (memory word = bswap(SHA word)); block k is 8 words at a2 + 64·k then 8 at a3 + 64·k.
There is no w[64] buffer in guest memory, so each block is one 64-row call of each SHA chip:

    syscall row ──(clk, count, kin, kb1, kb2) on ``r0 sha call``──► compress, block 0
                ──(clk, kout) on ``r0 sha out``──────────────────► compress, last block
    extend block k:   rows 0..15 read the block's 16 words (memory-checked at 4·clk + 6, byte-
                      swapped), rows 16..63 compute the schedule; every row sends (clk, kb1, kb2,
                      i, w[i]) on ``r0 sha w``
    compress block k: row i receives w[i] from there (no memory read); block 0 reads the in
                      state at kin (4·clk + 6), each other block receives its state from the
                      block before on ``r0 sha state`` (as halves); the last block (rem = 0) writes h_out to
                      kout at 4·clk + 7 (after every read, so out may equal in)

Memory keys, not pointers, travel between the chips: the syscall row proves the four pointers
aligned and their buffers in memory (the block halves up to block count − 1), and block k's keys
are block 0's + 16·k (keys < 2^30: no wrap). This module gathers, per block, what both chips
fill their rows with: the syscall chip's calls, the executor's events, the states in between.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConstraintNotSatisfied
from . import buses
from .memory import memory_key


def bswap(x) -> np.ndarray:
    """The byte-reversed 32-bit words: memory's little-endian word ↔ SHA-256's big-endian one."""
    x = np.asarray(x, dtype=np.int64)
    return ((x & 0xFF) << 24) | ((x & 0xFF00) << 8) | ((x >> 8) & 0xFF00) | (x >> 24)


def r0_sha_blocks(w, receiver) -> dict:
    """Every block of every RISC Zero SHA ecall the syscall chip hands on (``r0 sha call``), in
    clk order then block order: per block clk, rem (blocks after it), the keys kout, kin, kb1,
    kb2 (this block's halves), first/last flags, the schedule ``ws`` (blocks, 64), the state in
    ``h_in`` (blocks, 8) and out ``h_out``, and the out-state words' previous values ``out_before``
    (meaningful on last blocks). The states between blocks are recomputed here, one block index at
    a time over all ecalls, and the last one is checked against what the executor wrote."""
    from .sha_compress import compress_state  # (the chips import this module)
    from .sha_extend import extend_words

    fields = w.received(buses.R0_SHA_CALL, receiver)
    if not fields or not len(fields[0]):
        return {}
    clk, count, kin, kb1, kb2 = (np.asarray(f, dtype=np.int64) for f in fields)
    out_clk, kout = (np.asarray(f, dtype=np.int64) for f in w.received(buses.R0_SHA_OUT, receiver))
    if not np.array_equal(out_clk, clk):
        raise ConstraintNotSatisfied("RISC Zero SHA: the syscall chip's call and out-state sends differ (a bug: report it)")
    # the executor's memory events of these ecalls: in state (8), per block 2 × 8, out state (8)
    ev = w.execution.trace.syscall_events
    ev_clk, ev_addr = ev["sys_clk"].astype(np.int64), ev["sys_addr"].astype(np.int64)
    sel = np.isin(ev_clk, clk) & (ev_addr >= 0x20)
    size = 16 + 16 * count
    if sel.sum() != size.sum():
        raise ConstraintNotSatisfied("RISC Zero SHA: the executor's memory events are not 16 + 16·count per call "
                                     "(inconsistent trace)")
    key, before = memory_key(ev_addr[sel]), ev["sys_before"].astype(np.int64)[sel]
    after = ev["sys_after"].astype(np.int64)[sel]
    start = np.cumsum(size) - size
    call = np.repeat(np.arange(len(clk)), count)              # each block's ecall
    k = np.arange(len(call)) - np.repeat(np.cumsum(count) - count, count)  # its index in the ecall
    j8 = np.arange(8)
    in_ev, out_ev = start[:, None] + j8, (start + 8 + 16 * count)[:, None] + j8
    blk_ev = (start[call] + 8 + 16 * k)[:, None] + np.arange(16)
    b1, b2 = kb1[call] + 16 * k, kb2[call] + 16 * k
    expected = (np.all(key[in_ev] == kin[:, None] + j8) and np.all(key[out_ev] == kout[:, None] + j8)
                and np.all(key[blk_ev] == np.concatenate([b1[:, None] + j8, b2[:, None] + j8], axis=1)))
    if not expected:
        raise ConstraintNotSatisfied("RISC Zero SHA: the executor's events are not the call's state and block words "
                                     "(inconsistent trace)")
    ws = extend_words(bswap(before[blk_ev]))
    h_in = np.zeros((len(call), 8), dtype=np.int64)
    h_out = np.zeros_like(h_in)
    state = bswap(before[in_ev])
    for i in range(int(count.max())):  # block i of every ecall that has one: a chain, so in order
        on = np.flatnonzero(k == i)
        h_in[on] = state[call[on]]
        A, E, _ = compress_state(h_in[on], ws[on])
        final = np.stack([A[:, 67], A[:, 66], A[:, 65], A[:, 64], E[:, 67], E[:, 66], E[:, 65], E[:, 64]], axis=1)
        h_out[on] = (h_in[on] + final) & 0xFFFFFFFF
        state[call[on]] = h_out[on]
    if np.any(bswap(after[out_ev]) != state):
        raise ConstraintNotSatisfied("RISC Zero SHA: the executor's out state is not the compression of the blocks "
                                     "(inconsistent trace)")
    last = k == count[call] - 1
    return {"clk": clk[call], "rem": count[call] - 1 - k, "kout": kout[call], "kin": kin[call], "kb1": b1, "kb2": b2,
            "first": k == 0, "last": last, "ws": ws, "h_in": h_in, "h_out": h_out,
            "out_before": before[out_ev][call]}
