"""The KECCAK_PERMUTE chips: Keccak-f[1600] (FIPS 202) on 25 u64 lanes, in place at a0.

The syscall chip (syscall.py) sends every precompile ecall as (clk, code bytes, a0 bytes, a1
bytes) on the ``precompile`` bus. The permute chip receives the calls of its own code (code bytes
and a1 = 0, as SP1 asserts, are constants of the receive, so another code or a1 ≠ 0 finds no
receiver) and checks a0 itself (word_buffer.py: word-aligned, ≥ 0x20, its 50 words end in guest
memory; key = the first word's memory key). Two chips do the work:

keccak permute — 25 rows per call: rows 0..23 hold the state *before* round i, row 24 the
    output. Columns `active clk key ptr:4 q lo:4 room:4 r0..24 a:100 c:320 cp:320 ap:1600`
    (ptr: a0's bytes; q, lo, room: its pointer checks, on row 0 of a call):
      r_i        round flag bits: one-hot on an active row (an active first row has r0),
                 r_(i+1)' = r_i, r0' = r24, so with any call the rows run 0, 1, …, 24, 0, 1, …
                 through the whole table (padding included); a table without calls is all zero
      a          the state as 100 limbs of 16 bits, lane x + 5y limb l at a[4·(x + 5y) + l]
      c, cp      bits C[x][z] (column parities of the state) and C'[x][z] = C ⊕ D (θ)
      ap         bits A'[x][y][z] of the state after θ
    θ (Plonky3's keccak-air): with D[x][z] = C[x−1][z] ⊕ C[x+1][z−1],
      a's limbs are the bits A' ⊕ D (so A' = θ(A) once D is right),
      C'[x][z] = C[x][z] ⊕ C[x−1][z] ⊕ C[x+1][z−1]   (= C ⊕ D),
      Σ_y A'[x][y][z] − C'[x][z] ∈ {0, 2, 4}          (⊕_y A' = C'), hence
      ⊕_y A = ⊕_y A' ⊕ D = C' ⊕ D = C: C is the parity of the state, D is θ's D.
    ρ and π are re-indexing: B[y][2x + 3y][z] = A'[x][y][z − r[x][y]].
    χ and ι: next row's limbs (while r24 = 0) are Σ_k 2^k·χ-bits, with
      χ = B[x][y] ⊕ (¬B[x+1][y] ∧ B[x+2][y]) and ι's RC_i bits selected by the flags on lane 0.
    Degrees: xor of bits a ⊕ b = a + b − 2ab; χ is degree 3, the transition constraint
    (1 − r24)·(a' − Σ 2^k·χ_k) − Σ 2^k·rc_k·(1 − 2χ_k) degree 4 (ι's term needs no (1 − r24):
    rc is a sum of r0..r23, which vanish on an r24 row when the flags are one-hot).
keccak words — one row per state word, 50 per call: a memory access before → after at
    ts = 4·clk + 6; `after` range-checked as bytes; sends (clk, key, 0, before as two 16-bit
    limbs) and (clk, key, 1, after's limbs) on ``keccak io``.

The permute chip receives (clk, key0 + j, 0, limbs of word j) on each call's row 0 and
(clk, key0 + j, 1, …) on its row 24, for j = 0..49 (word j = lane j // 2, half j % 2): the bus
balances only if the call's 50 words are each read once as the input and written once with the
output. A call is 25 rows with constant active, clk, key: (1 − r24)·(x' − x) = 0; an active
call cannot be cut off by the table's end (last row: active ⇒ r24).
"""

from __future__ import annotations

import numpy as np

from ..executor.precompiles import KECCAK_RC, KECCAK_ROT
from . import buses
from .accesses import Access
from .chip import Chip
from .cpu import TS_MEM, memory_access
from .layout import Layout
from .memory import memory_key
from .program_table import pad_height, to_bytes
from .word_buffer import buffer_columns, buffer_key, buffer_witness

KECCAK_PERMUTE_CODE = 0x00010109
ROUNDS = 24
ROWS_PER_CALL = ROUNDS + 1
WORDS = 50  #: the state: 25 lanes × 2 little-endian words
KECCAK = Layout(f"active clk key ptr:4 {buffer_columns()} r:{ROWS_PER_CALL} a:100 c:320 cp:320 ap:1600")
KECCAK_WORDS = Layout("active clk key before:4 after:4 prev_ts d:4")
R = buses.TAG_RANGE


def _xor(a, b):
    """a ⊕ b for bits, as a polynomial."""
    return a + b - 2 * a * b


def _limb_of_word(j):
    """Word j of the state (lane j // 2, half j % 2) as the limb indices (lo, hi) of ``a``."""
    lane, half = divmod(j, 2)
    return 4 * lane + 2 * half, 4 * lane + 2 * half + 1


class KeccakPermuteAir(Chip):
    """Keccak-f[1600]: 24 rounds on 25 rows per KECCAK_PERMUTE call (module docstring)."""

    name = "keccak permute"
    width = KECCAK.width
    optional = True  # few guests call KECCAK_PERMUTE: an empty table is left out of their proofs

    def constraints(self, b):
        m, nx = b.main, b.main_next
        active, clk, key = m(KECCAK.active), m(KECCAK.clk), m(KECCAK.key)
        r = [m(i) for i in KECCAK.r]
        a = [m(i) for i in KECCAK.a]
        c = lambda x, z: m(KECCAK.c[64 * (x % 5) + z % 64])  # noqa: E731
        cp = lambda x, z: m(KECCAK.cp[64 * x + z])  # noqa: E731
        ap = lambda x, y, z: m(KECCAK.ap[64 * (x + 5 * y) + z % 64])  # noqa: E731
        b.assert_bool(active, "active is boolean")
        b.declare_active(active)

        # the round flags: bits, one-hot on an active row, shifted by one from row to row (r0 after
        # r24). The shift is a bijection between neighbouring rows, so one active row makes them
        # one-hot on every row, cycling 0..24; an active first row is round 0. (An all-zero table
        # satisfies all of this: the chip is optional, stark/optional.py.)
        for i in range(ROWS_PER_CALL):
            b.assert_bool(r[i], f"round flag {i} is a bit")
            b.when_transition().assert_eq(nx(KECCAK.r[(i + 1) % ROWS_PER_CALL]), r[i], f"round flag {i} moves on")
        b.assert_zero(active * (sum(r) - 1), "an active row has one round flag")
        b.when_first_row().assert_zero(active * (1 - r[0]), "an active first row is round 0")
        last = r[ROUNDS]
        inside = 1 - last  # this row and the next belong to the same call
        for name, x in (("active", active), ("clk", clk), ("key", key)):
            b.when_transition().assert_zero(inside * (nx(getattr(KECCAK, name)) - x), f"{name} is constant within a call")
        b.when_last_row().assert_zero(active * inside, "an active call ends within the table (last row: active ⇒ r24)")

        # the call: the syscall chip's token, the input words on row 0, the output words on row 24
        call = active * r[0]
        code = to_bytes([KECCAK_PERMUTE_CODE])[0].tolist()
        ptr = [m(i) for i in KECCAK.ptr]
        b.receive(buses.PRECOMPILE, [clk, *code, *ptr, 0, 0, 0, 0], call)  # a1 = 0
        first_key = buffer_key(b, ptr, m(KECCAK.q), [m(i) for i in KECCAK.lo], [m(i) for i in KECCAK.room],
                               WORDS, call, "KECCAK_PERMUTE state")
        b.assert_zero(call * (key - first_key), "KECCAK_PERMUTE: key is the state pointer's first word")
        for j in range(WORDS):
            lo, hi = _limb_of_word(j)
            b.receive(buses.KECCAK_IO, [clk, key + j, last, a[lo], a[hi]], active * (r[0] + last))

        # θ: C bits, C' = C ⊕ C[x−1] ⊕ C[x+1] rotated, A' bits; the state's limbs are A' ⊕ D
        for x in range(5):
            for z in range(64):
                b.assert_bool(c(x, z), f"C[{x}][{z}] is a bit")
                b.assert_eq(cp(x, z), _xor(_xor(c(x, z), c(x - 1, z)), c(x + 1, z - 1)), f"C'[{x}][{z}] = C ⊕ D")
                for y in range(5):
                    b.assert_bool(ap(x, y, z), f"A'[{x}][{y}][{z}] is a bit")
                diff = sum(ap(x, y, z) for y in range(5)) - cp(x, z)
                b.assert_zero(diff * (diff - 2) * (diff - 4), f"A'[{x}][·][{z}] has parity C'[{x}][{z}]")
        for x in range(5):
            for y in range(5):
                for limb in range(4):
                    bits = [_xor(ap(x, y, z), _xor(c(x - 1, z), c(x + 1, z - 1))) for z in range(16 * limb, 16 * limb + 16)]
                    b.assert_eq(a[4 * (x + 5 * y) + limb], sum((1 << k) * bit for k, bit in enumerate(bits)),
                                f"state lane ({x},{y}) limb {limb} = A' ⊕ D")

        # ρ, π (re-indexing), χ, ι → the next row's state
        def bb(x, y, z):  # B[x][y][z] = A'[x0][y0][z − r[x0][y0]] with x = y0, y = 2·x0 + 3·y0
            y0 = x % 5
            x0 = (3 * (y - 3 * y0)) % 5
            return ap(x0, y0, z - KECCAK_ROT[x0][y0])

        # ι on lane (0,0): χ ⊕ rc = χ + rc·(1 − 2χ). rc is a sum of r0..r23, so inside·rc = rc
        # wherever the flags are one-hot (every row, once one is active; a table without an
        # active row emits nothing), and rc's term needs no `inside` factor: degree 4, not 5.
        rc = [sum(((KECCAK_RC[i] >> z) & 1) * r[i] for i in range(ROUNDS)) for z in range(64)]
        for x in range(5):
            for y in range(5):
                for limb in range(4):
                    chi_sum, iota = 0, 0
                    for k in range(16):
                        z = 16 * limb + k
                        chi = _xor(bb(x, y, z), (1 - bb(x + 1, y, z)) * bb(x + 2, y, z))
                        chi_sum = chi_sum + (1 << k) * chi
                        if x == y == 0:
                            iota = iota + (1 << k) * rc[z] * (1 - 2 * chi)
                    b.when_transition().assert_zero(inside * (nx(KECCAK.a[4 * (x + 5 * y) + limb]) - chi_sum) - iota,
                                                    f"round output lane ({x},{y}) limb {limb} is the next row's state")

    def generate(self, w):
        """25 rows per KECCAK_PERMUTE call (its state from the executor's events), then padding
        calls (inactive) that permute the zero state, so every transition holds there too."""
        clk, key, inputs = keccak_calls(w)
        n = ROWS_PER_CALL * len(clk)
        height = pad_height(n)
        if n == 0:  # no call: all zero, so the proof leaves the table out (optional)
            return np.zeros((height, KECCAK.width), dtype=np.int64)
        blocks = -(-height // ROWS_PER_CALL)
        lanes = np.zeros((blocks, 25), dtype=np.uint64)
        lanes[: len(clk)] = inputs
        states = np.stack(permutation_states(lanes), axis=1).reshape(-1, 25)[:height]  # row → state
        t = np.zeros((height, KECCAK.width), dtype=np.int64)
        t[:n, KECCAK.active] = 1
        t[:n, KECCAK.clk] = np.repeat(clk, ROWS_PER_CALL)
        t[:n, KECCAK.key] = np.repeat(key, ROWS_PER_CALL)
        first = np.arange(0, n, ROWS_PER_CALL)  # row 0 of each call: a0's bytes and its pointer checks
        ptr = 4 * (key - memory_key(0))
        t[first[:, None], KECCAK.ptr] = to_bytes(ptr)
        buffer_witness(t, first, ptr, WORDS, KECCAK.q, KECCAK.lo, KECCAK.room)
        t[np.arange(height), np.asarray(KECCAK.r)[np.arange(height) % ROWS_PER_CALL]] = 1
        state_columns(t, states)
        return t


class KeccakWordsAir(Chip):
    """The 50 state words of each KECCAK_PERMUTE call: read the input, write the output."""

    name = "keccak words"
    width = KECCAK_WORDS.width
    optional = True

    def constraints(self, b):
        m = b.main
        col = lambda n: m(getattr(KECCAK_WORDS, n))  # noqa: E731
        cols = lambda n: [m(i) for i in getattr(KECCAK_WORDS, n)]  # noqa: E731
        active, clk, key, before, after = col("active"), col("clk"), col("key"), cols("before"), cols("after")
        b.assert_bool(active, "active is boolean")
        b.declare_active(active)
        memory_access(b, key, before, after, col("prev_ts"), cols("d"), 4 * clk + (4 + TS_MEM), active, "keccak word")
        b.send(buses.BYTE, [R, after[0], after[1], 0, 0], active)  # the written word is bytes
        b.send(buses.BYTE, [R, after[2], after[3], 0, 0], active)
        for tag, v in ((0, before), (1, after)):
            b.send(buses.KECCAK_IO, [clk, key, tag, v[0] + 256 * v[1], v[2] + 256 * v[3]], active)

    def generate(self, w):
        """One row per word a KECCAK_PERMUTE wrote (the executor's events): before = the input
        word (filled by memory checking), after = the output word."""
        ev_clk, ev_addr, _before, ev_after = keccak_write_events(w)
        k = len(ev_clk)
        t = np.zeros((pad_height(k), KECCAK_WORDS.width), dtype=np.int64)
        key = memory_key(ev_addr)
        t[:k, KECCAK_WORDS.active] = 1
        t[:k, KECCAK_WORDS.clk] = ev_clk
        t[:k, KECCAK_WORDS.key] = key
        t[:k, KECCAK_WORDS.after] = to_bytes(ev_after)
        w.add_accesses(Access(t, np.arange(k), key, 4 * ev_clk + 4 + TS_MEM, ev_after, KECCAK_WORDS.prev_ts,
                              KECCAK_WORDS.d, KECCAK_WORDS.before, "keccak word"))
        return t


def state_columns(t, states) -> None:
    """Fill the state columns of permute-chip rows from their states (rows, 25) uint64: the
    limbs ``a`` and θ's bits C, C' = C ⊕ D and A' = A ⊕ D (module docstring)."""
    h = len(states)
    shifts16 = np.arange(4, dtype=np.uint64) * np.uint64(16)
    t[:, KECCAK.a] = ((states[:, :, None] >> shifts16) & np.uint64(0xFFFF)).reshape(h, 100).astype(np.int64)
    bits = ((states[:, :, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)).astype(np.int64)  # (h, 25, 64)
    col = np.bitwise_xor.reduce(bits.reshape(h, 5, 5, 64), axis=1)  # C[x][z] (lane x + 5y → [y][x])
    d = np.roll(col, 1, axis=1) ^ np.roll(np.roll(col, -1, axis=1), 1, axis=2)  # C[x−1][z] ⊕ C[x+1][z−1]
    t[:, KECCAK.c] = col.reshape(h, 320)
    t[:, KECCAK.cp] = (col ^ d).reshape(h, 320)
    t[:, KECCAK.ap] = (bits ^ np.tile(d, (1, 5, 1))).reshape(h, 1600)


def keccak_write_events(w):
    """The executor's writes of the KECCAK_PERMUTE calls: (clk, addr, before, after), 50 per
    call in word order (each call logs its 50 reads, then its 50 writes)."""
    from .syscall import SYS, owned_events

    sys = w.trace_of("syscall")
    code = sys[:, SYS.pc] @ (256 ** np.arange(4, dtype=np.int64))  # t0 of a precompile row (0 elsewhere)
    _sys, ev_clk, ev_addr, ev_before, ev_after, owner = owned_events(w, sys[:, SYS.is_precompile] * (code == KECCAK_PERMUTE_CODE))
    rank = np.arange(len(owner)) - np.searchsorted(owner, owner)  # index of the event within its call
    writes = rank >= WORDS
    return ev_clk[writes], ev_addr[writes], ev_before[writes], ev_after[writes]


def keccak_calls(w):
    """(clk, first key, input lanes (n, 25) uint64) of every KECCAK_PERMUTE call."""
    ev_clk, ev_addr, ev_before, _after = keccak_write_events(w)
    words = ev_before.astype(np.uint64).reshape(-1, 25, 2)
    lanes = words[:, :, 0] | (words[:, :, 1] << np.uint64(32))
    return ev_clk[::WORDS], memory_key(ev_addr[::WORDS]), lanes


def _rotl(x, n):
    return (x << np.uint64(n)) | (x >> np.uint64(64 - n)) if n else x


def permutation_states(lanes, first: int = 0, end: int = ROUNDS):
    """Keccak-f[1600] on many states at once (lanes: (n, 25) uint64, lane x + 5y): the state
    before each of the 24 rounds, then the output — 25 arrays (n, 25). (``first``, ``end``:
    only rounds first..end − 1, for tests.)"""
    s = lanes.copy()
    out = [s]
    for rc in KECCAK_RC[first:end]:
        col = s[:, 0:5] ^ s[:, 5:10] ^ s[:, 10:15] ^ s[:, 15:20] ^ s[:, 20:25]
        d = np.roll(col, 1, axis=1) ^ _rotl(np.roll(col, -1, axis=1), 1)
        s = s ^ np.tile(d, (1, 5))
        bb = np.empty_like(s)
        for x in range(5):
            for y in range(5):
                bb[:, y + 5 * ((2 * x + 3 * y) % 5)] = _rotl(s[:, x + 5 * y], KECCAK_ROT[x][y])
        planes = bb.reshape(-1, 5, 5)  # [plane y][x]
        s = (planes ^ (~np.roll(planes, -1, axis=2) & np.roll(planes, -2, axis=2))).reshape(-1, 25)
        s[:, 0] ^= np.uint64(rc)
        out.append(s)
    return out
