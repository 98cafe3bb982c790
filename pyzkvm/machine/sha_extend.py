"""The SHA_EXTEND chip (syscall 0x00300105): SHA-256's message schedule, one row per word.

SP1's semantics (executor/sp1.py): a0 points at w[0..64] (word-aligned, 256 bytes in guest
memory), a1 must be 0; the call reads w[0..16] and writes

    w[i] = σ1(w[i−2]) + w[i−7] + σ0(w[i−15]) + w[i−16]  mod 2^32,   i = 16..63,
    σ0(x) = ROTR^7 x ⊕ ROTR^18 x ⊕ SHR^3 x,   σ1(x) = ROTR^17 x ⊕ ROTR^19 x ⊕ SHR^10 x.

A call is 64 rows (sha_rows.py: one-hot position i, rows linked in order, clk and the pointer
equal on all of them). Row i holds w[i] as 32 bits and a sliding window win[k] = w[i−16+k],
k = 0..15, shifted by the transition win'[k] = win[k+1], win'[15] = w[i] (row 0's window is 0,
so rows 16..63 see exactly w[i−16..i−1]). Only win[1] = w[i−15] (σ0) and win[14] = w[i−2] (σ1)
are bits; the others are 4 bytes. σ0 and σ1 are two 16-bit halves each, defined from the bits
(degree 3), so the add w[i] = σ1 + win[9] + σ0 + win[0] (2 + 2 carry bits) is linear and can
be switched on by the compute flag (rows 16..63) within degree 3.

Memory: one access per row, at the ecall's syscall timestamp 4·clk + 6, key = key(a0) + i:
rows 0..15 read w[i] (the previous value equals w[i]), rows 16..63 write it (the previous
value comes from the memory argument). Row 0 receives (clk, 0x00300105, a0, a1 = 0) on the
``precompile`` bus and checks the pointer (word_buffer.py): a call with a1 ≠ 0 finds no receiver.

RISC Zero mode (r0 = 1, one block of RISC Zero's SHA ecall: sha_risc0.py): no w buffer in memory.
Rows 0..15 read the block's words — keys kb1 + i (i < 8) and kb2 + i − 8, at 4·clk + 6, the
memory word being w[i] byte-swapped (big-endian) — rows 16..63 make no access, and every row
sends (clk, kb1, kb2, i, w[i]) on ``r0 sha w`` to the compress chip's block with those keys.
The row's memory key and value are columns (mkey, mv) so that both modes share one access.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConstraintNotSatisfied
from . import buses
from .accesses import Access
from .chip import Chip
from .cpu import TS_MEM, memory_access
from .layout import Layout
from .program_table import to_bytes
from .sha_bits import Word, add_carries, assert_add, mix, rotr, to_bits
from .sha_rows import POSITIONS, ROWS, call_chain, call_table, per_row, zero_unless
from .word_buffer import buffer_columns, buffer_key, buffer_witness, call_memory_events, precompile_calls

CODE = 0x00300105
READS, WRITES = range(16), range(16, 64)
#: the window words kept as bits (σ0 reads win[1] = w[i−15], σ1 reads win[14] = w[i−2])
BIT_WINDOW = (1, 14)
EXTEND = Layout(
    f"{POSITIONS} clk ptr:4 {buffer_columns()} wb:32 "
    + " ".join(f"win{k}b:32" if k in BIT_WINDOW else f"win{k}:4" for k in range(16))
    + " s0:2 s1:2 cl:2 ch:2 prev:4 prev_ts d:4 r0 kb1 kb2 mkey mv:4"
)


def _window(get):
    """The 16 window words of a row (get = b.main or b.main_next)."""
    return [Word.of_bits([get(c) for c in getattr(EXTEND, f"win{k}b")]) if k in BIT_WINDOW
            else Word.of_bytes([get(c) for c in getattr(EXTEND, f"win{k}")]) for k in range(16)]


class ShaExtendAir(Chip):
    name = "sha extend"
    width = EXTEND.width
    optional = True  # only guests that hash with the SHA precompiles fill it: an empty table is left out of the proof

    def constraints(self, b):
        m = b.main
        col = lambda n: m(getattr(EXTEND, n))  # noqa: E731
        cols = lambda n: [m(i) for i in getattr(EXTEND, n)]  # noqa: E731
        clk, ptr = col("clk"), cols("ptr")
        active, pos = call_chain(b, EXTEND.pos, [EXTEND.clk, *EXTEND.ptr, EXTEND.q, EXTEND.r0, EXTEND.kb1, EXTEND.kb2],
                                 "SHA_EXTEND")
        first, compute = pos[0], sum(pos[16:])
        r0, kb1, kb2 = col("r0"), col("kb1"), col("kb2")
        b.assert_bool(r0, "SHA_EXTEND: r0 is boolean")
        sp1_first = first * (1 - r0)  # an SP1 call's row 0 (a RISC Zero block has no pointer here)
        b.receive(buses.PRECOMPILE, [clk, *(to_bytes([CODE])[0].tolist()), *ptr, 0, 0, 0, 0], sp1_first)
        key = buffer_key(b, ptr, col("q"), cols("lo"), cols("room"), 64, sp1_first, "SHA_EXTEND w")
        zero_unless(b, 1 - r0, [*ptr, col("q")], "SHA_EXTEND: a RISC Zero block has no w pointer")
        zero_unless(b, r0, [kb1, kb2], "SHA_EXTEND: block keys only in RISC Zero mode")
        # (q, part of the key, is shared by the call's rows; the range proofs live on row 0)
        zero_unless(b, first, [*cols("lo"), *cols("room")], "SHA_EXTEND: pointer checks only on row 0")

        w, win = Word.of_bits(cols("wb")), _window(m)
        for k in BIT_WINDOW:
            for x in win[k].bits:
                b.assert_bool(x, f"SHA_EXTEND: window word {k} bit is boolean")
        # σ0(w[i−15]), σ1(w[i−2]) as 16-bit halves (definitions, on every row)
        s0, s1 = Word(*cols("s0")), Word(*cols("s1"))
        for s, mixed in ((s0, mix(win[1].bits, (7, 18), shift=3)), (s1, mix(win[14].bits, (17, 19), shift=10))):
            b.assert_eq(s.lo, mixed.lo, "SHA_EXTEND: σ low half")
            b.assert_eq(s.hi, mixed.hi, "SHA_EXTEND: σ high half")
        assert_add(b, [s1, win[9], s0, win[0]], cols("wb"), cols("cl"), cols("ch"),
                   "SHA_EXTEND w[i] = σ1(w[i−2]) + w[i−7] + σ0(w[i−15]) + w[i−16]", when=compute)
        zero_unless(b, compute, cols("cl") + cols("ch"), "SHA_EXTEND: carries only on rows 16..63")

        # the window slides: win'[k] = win[k+1], win'[15] = w (byte by byte, while the call continues)
        cont, nxt = active - pos[ROWS - 1], _window(b.main_next)
        for k in range(16):
            new = w if k == 15 else win[k + 1]
            for x, y in zip(nxt[k].byte_exprs(), new.byte_exprs()):
                b.when_transition().assert_zero(cont * (x - y), f"SHA_EXTEND: window word {k} slides")
        window_cells = [m(c) for k in range(16) for c in getattr(EXTEND, f"win{k}b" if k in BIT_WINDOW else f"win{k}")]
        zero_unless(b, active - first, window_cells, "SHA_EXTEND: the window starts at 0")

        # one memory access per row (SP1: a read of w[i] on rows 0..15, a write on rows 16..63;
        # RISC Zero: a read of the block's word on rows 0..15 only), at key mkey with value mv
        index = sum(k * p for k, p in enumerate(pos) if k)
        half1, half2 = sum(pos[:8]), sum(pos[8:16])
        r0_key = kb1 * half1 + kb2 * half2 + index - 8 * half2
        b.assert_eq(col("mkey"), (active - r0) * (key + index) + r0 * r0_key, "SHA_EXTEND: the row's memory key")
        wbytes, mv = w.byte_exprs(), cols("mv")
        for j in range(4):  # RISC Zero's words are big-endian in memory: the bytes reversed
            b.assert_eq(mv[j], wbytes[j] + r0 * (wbytes[3 - j] - wbytes[j]), "SHA_EXTEND: the row's memory value")
        mem = active - r0 * compute
        ts = 4 * clk + (4 + TS_MEM)
        memory_access(b, col("mkey"), cols("prev"), mv, col("prev_ts"), cols("d"), ts, mem, "SHA_EXTEND w[i]")
        for x, y in zip(cols("prev"), mv):
            b.assert_zero((active - compute) * (x - y), "SHA_EXTEND: rows 0..15 read w[i]")
        zero_unless(b, active, cols("wb"), "SHA_EXTEND: a padding row is 0")
        zero_unless(b, mem, cols("prev") + [col("prev_ts")] + cols("d"), "SHA_EXTEND: no access, no previous value")
        b.send(buses.R0_SHA_W, [clk, kb1, kb2, index, *wbytes], active * r0)  # (r0 = 0 on padding: active·r0 = r0)

    def generate(self, w):
        """64 rows per SHA_EXTEND the syscall chip sends (the words from the executor's events,
        16 read, 48 written, recomputed here) and per block of a RISC Zero SHA ecall (its 16
        words read, sha_risc0.py): the window, the memory key and value, one access per read or write."""
        from .sha_risc0 import bswap, r0_sha_blocks

        clk, a0, _a1 = precompile_calls(w, self, CODE)
        n = len(clk)
        addr, before, after = call_memory_events(w, clk, 64, "SHA_EXTEND")
        r0 = r0_sha_blocks(w, self)
        nr = len(r0.get("clk", ()))
        if n + nr == 0:  # no call: the all-zero table (the schedule below is ~1,000 numpy calls, even on no rows)
            return call_table(0, EXTEND.width, EXTEND.pos)[0]
        words = extend_words(before[:, :16])
        if np.any(addr != a0[:, None] + 4 * np.arange(64)) or np.any(after[:, 16:] != words[:, 16:]):
            raise ConstraintNotSatisfied("SHA_EXTEND: the executor's events are not the schedule of w[0..16] (inconsistent trace)")
        words = np.concatenate([words, r0["ws"]]) if nr else words
        t, rows = call_table(n + nr, EXTEND.width, EXTEND.pos)
        i, call = rows % ROWS, rows // ROWS
        is_r0 = call >= n  # RISC Zero blocks after the SP1 calls
        t[rows, EXTEND.clk] = per_row(np.concatenate([clk, r0["clk"]]) if nr else clk)
        sp1 = rows[~is_r0]
        t[sp1[:, None], EXTEND.ptr] = per_row(to_bytes(a0))
        key = buffer_witness(t, sp1[i[sp1] == 0], a0, 64, EXTEND.q, EXTEND.lo, EXTEND.room)
        t[sp1, EXTEND.q] = per_row(t[sp1[i[sp1] == 0], EXTEND.q])
        w_i = words.reshape(-1)
        t[rows[:, None], EXTEND.wb] = to_bits(w_i)
        padded = np.concatenate([np.zeros((n + nr, 16), dtype=np.int64), words], axis=1)
        win = [padded[:, k:k + ROWS].reshape(-1) for k in range(16)]  # win[k] on row i = w[i − 16 + k]
        for k in range(16):
            if k in BIT_WINDOW:
                t[rows[:, None], getattr(EXTEND, f"win{k}b")] = to_bits(win[k])
            else:
                t[rows[:, None], getattr(EXTEND, f"win{k}")] = to_bytes(win[k])
        s0, s1 = sigma0(win[1]).astype(np.int64), sigma1(win[14]).astype(np.int64)
        t[rows[:, None], EXTEND.s0] = np.stack([s0 & 0xFFFF, s0 >> 16], axis=1)
        t[rows[:, None], EXTEND.s1] = np.stack([s1 & 0xFFFF, s1 >> 16], axis=1)
        _, cl, ch = add_carries([s1, win[9], s0, win[0]], 2)
        comp = rows[i >= 16]
        t[comp[:, None], EXTEND.cl], t[comp[:, None], EXTEND.ch] = cl[i >= 16], ch[i >= 16]
        # the row's memory key and value: SP1 key(a0) + i and w[i]; RISC Zero kb1/kb2 + i and bswap(w[i])
        mkey = np.where(is_r0, i, per_row(np.concatenate([key, np.zeros(nr, dtype=np.int64)])) + i)
        mv = np.where(is_r0, bswap(w_i), w_i)
        if nr:
            r = rows[is_r0]
            t[r, EXTEND.r0] = 1
            t[r, EXTEND.kb1], t[r, EXTEND.kb2] = per_row(r0["kb1"]), per_row(r0["kb2"])
            mkey[r] = np.where(i[r] < 8, t[r, EXTEND.kb1] + i[r], np.where(i[r] < 16, t[r, EXTEND.kb2] + i[r] - 8, i[r]))
        t[rows, EXTEND.mkey], t[rows[:, None], EXTEND.mv] = mkey, to_bytes(mv)
        ts = per_row(4 * t[rows[i == 0], EXTEND.clk] + 4 + TS_MEM)
        load, store = rows[i < 16], rows[(i >= 16) & ~is_r0]
        t[load[:, None], EXTEND.prev] = to_bytes(mv[load])
        w.add_accesses(
            Access(t, load, mkey[load], ts[load], mv[load], EXTEND.prev_ts, EXTEND.d, None, "SHA_EXTEND read"),
            Access(t, store, mkey[store], ts[store], w_i[store], EXTEND.prev_ts, EXTEND.d, EXTEND.prev,
                   "SHA_EXTEND write", expected_before=before[:, 16:].reshape(-1)))
        return t


def sigma0(x):
    return rotr(x, 7) ^ rotr(x, 18) ^ (np.asarray(x, dtype=np.uint64) >> np.uint64(3))


def sigma1(x):
    return rotr(x, 17) ^ rotr(x, 19) ^ (np.asarray(x, dtype=np.uint64) >> np.uint64(10))


def extend_words(w16) -> np.ndarray:
    """(calls, 16) first words → (calls, 64): the schedule, one column at a time over all calls."""
    out = np.zeros((len(w16), 64), dtype=np.int64)
    out[:, :16] = w16
    for i in WRITES:
        out[:, i] = add_carries([sigma1(out[:, i - 2]), out[:, i - 7], sigma0(out[:, i - 15]), out[:, i - 16]], 2)[0]
    return out
