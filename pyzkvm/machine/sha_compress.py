"""The SHA_COMPRESS chip (syscall 0x00010106): SHA-256's 64 rounds and h += state, one row per round.

SP1's semantics (executor/sp1.py): a0 points at w[0..64], a1 at h[0..8] (both word-aligned,
in guest memory); the call reads w and h, runs the 64 rounds of FIPS 180-4 §6.2.2 from
(a..h) = h and writes h[j] + state[j] mod 2^32 back to h.

A call is 64 rows (sha_rows.py: one-hot position i, rows linked in order, clk, both pointers
and h_in equal on all of them). Row i is round i:

    T1 = h + Σ1(e) + Ch(e, f, g) + K[i] + w[i],   T2 = Σ0(a) + Maj(a, b, c)
    a' = T1 + T2 (7 terms),   e' = d + T1 (6 terms)                  mod 2^32,

with a, b, c, e, f, g as bits (Σ0/Maj need a, b, c; Σ1/Ch need e, f, g), d and h as 16-bit
halves, a' and e' as bits with 3 + 3 carry bits (sha_bits.py). The transition shifts the state
into the next round: a ← a', b ← a, c ← b, d ← c, e ← e', f ← e, g ← f, h ← g (compared on
halves: bits are boolean on both sides, so equal halves mean equal bits). Row 0's state is
h_in; K[i] = Σ_k K[k]·pos_k (the constants are in the circuit, hence its digest).

Memory, all at the ecall's syscall timestamp 4·clk + 6: row i reads w[i]; the last row (63)
also holds the state after round 63 — (a', a, b, c, e', e, f, g) — and does the 8 accesses of h
that read h_in[j] (the previous value, from the memory argument) and write
h_out[j] = h_in[j] + state[j] (bytes, range-checked, 1 + 1 carry bits). One access per key: a
call whose w and h buffers overlap cannot be proved (the executor runs it; the prover refuses it).

RISC Zero mode (r0 = 1, one block of RISC Zero's SHA ecall: sha_risc0.py). The rounds are the
same; what differs is where w and the state come from and go to. Shared by the block's rows:
rem (blocks after this one), bf / bl (first / last block: bl ⇔ rem = 0), kout, kin (the state
keys; kin on the first block only, kout on the last) and kb1, kb2 (this block's keys). Row i
receives w[i] on ``r0 sha w`` instead of reading memory. The first block receives (clk, count =
rem + 1, kin, kb1, kb2) from the syscall row and reads h_in at kin (row 0, 4·clk + 6, big-endian:
the bytes reversed); any other block receives its h_in (as halves) from the block before on
``r0 sha state``, and every block but the last sends its h_out on with (rem − 1, keys + 16). The
o columns hold h_out's memory bytes (big-endian in this mode); the last block receives kout on
``r0 sha out`` and writes them there at 4·clk + 7, after every read of the call.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConstraintNotSatisfied, UnsupportedProgram
from ..executor.precompiles import SHA256_K
from . import buses
from .accesses import Access
from .chip import Chip
from .cpu import TS_MEM, memory_access
from .layout import Layout
from .program_table import inverse_or_zero, to_bytes
from .sha_bits import Word, add_carries, assert_add, choose, majority, mix, rotr, to_bits
from .sha_rows import POSITIONS, ROWS, by_position, call_chain, call_table, per_row, zero_unless
from .word_buffer import buffer_columns, buffer_key, buffer_witness, call_memory_events, precompile_calls

CODE = 0x00010106
ROUNDS = range(64)
#: the state words kept as bits, and the two kept as 16-bit halves
BIT_STATE, HALF_STATE = "abcefg", "dh"
COMPRESS = Layout(
    f"{POSITIONS} clk wp:4 hp:4 {buffer_columns('w')} {buffer_columns('h')} "
    + " ".join(f"h{j}_in:4" for j in range(8)) + " "
    + " ".join(f"{s}b:32" for s in BIT_STATE) + " d:2 h:2 anb:32 enb:32 cal:3 cah:3 cel:3 ceh:3 "
    + "w:4 w_ts w_d:4 "
    + " ".join(f"o{j}:4 co{j}l co{j}h h{j}_ts h{j}_d:4 hv{j}:4" for j in range(8))
    + " r0 bf bl rem rinv kout kin kb1 kb2 hk hts"
)
#: a block's shared columns in RISC Zero mode (equal on its 64 rows)
R0_SHARED = [COMPRESS.r0, COMPRESS.bf, COMPRESS.bl, COMPRESS.rem, COMPRESS.rinv, COMPRESS.kout, COMPRESS.kin,
             COMPRESS.kb1, COMPRESS.kb2]
H_IN = [c for j in range(8) for c in getattr(COMPRESS, f"h{j}_in")]


def _state(get) -> dict:
    """The round's input state (a..h) as Words (get = b.main or b.main_next)."""
    st = {s: Word.of_bits([get(c) for c in getattr(COMPRESS, f"{s}b")]) for s in BIT_STATE}
    st.update({s: Word(*(get(c) for c in getattr(COMPRESS, s))) for s in HALF_STATE})
    return st


class ShaCompressAir(Chip):
    name = "sha compress"
    width = COMPRESS.width
    optional = True  # only guests that hash with the SHA precompiles fill it: an empty table is left out of the proof

    def constraints(self, b):
        m = b.main
        col = lambda n: m(getattr(COMPRESS, n))  # noqa: E731
        cols = lambda n: [m(i) for i in getattr(COMPRESS, n)]  # noqa: E731
        clk, wp, hp = col("clk"), cols("wp"), cols("hp")
        active, pos = call_chain(b, COMPRESS.pos, [COMPRESS.clk, *COMPRESS.wp, *COMPRESS.hp, COMPRESS.wq, COMPRESS.hq, *H_IN,
                                                   *R0_SHARED], "SHA_COMPRESS")
        first, last = pos[0], pos[ROWS - 1]
        r0 = col("r0")
        sp1_first = first * (1 - r0)  # an SP1 call's row 0 (a RISC Zero block has no pointers here)
        b.receive(buses.PRECOMPILE, [clk, *(to_bytes([CODE])[0].tolist()), *wp, *hp], sp1_first)
        w_key = buffer_key(b, wp, col("wq"), cols("wlo"), cols("wroom"), 64, sp1_first, "SHA_COMPRESS w")
        h_key = buffer_key(b, hp, col("hq"), cols("hlo"), cols("hroom"), 8, sp1_first, "SHA_COMPRESS h")
        zero_unless(b, 1 - r0, [*wp, *hp, col("wq"), col("hq")], "SHA_COMPRESS: a RISC Zero block has no w/h pointers")
        hread, hwrite = risc0_block(b, col, cols, clk, first, last, r0)
        # (wq, hq, part of the keys, are shared by the call's rows; the range proofs live on row 0)
        zero_unless(b, first, [m(c) for p in "wh" for n in ("lo", "room") for c in getattr(COMPRESS, p + n)],
                    "SHA_COMPRESS: pointer checks only on row 0")
        h_in = [Word.of_bytes(cols(f"h{j}_in")) for j in range(8)]

        # round i on row i
        st = _state(m)
        a, bb, c, d, e, f, g, h = (st[s] for s in "abcdefgh")
        for s in BIT_STATE:
            for x in st[s].bits:
                b.assert_bool(x, f"SHA_COMPRESS: state bit {s} is boolean")
        s1, ch = mix(e.bits, (6, 11, 25)), choose(e.bits, f.bits, g.bits)
        s0, mj = mix(a.bits, (2, 13, 22)), majority(a.bits, bb.bits, c.bits)
        k = Word(by_position(pos, [x & 0xFFFF for x in SHA256_K]), by_position(pos, [x >> 16 for x in SHA256_K]))
        t1 = [h, s1, ch, k, Word.of_bytes(cols("w"))]
        assert_add(b, t1 + [s0, mj], cols("anb"), cols("cal"), cols("cah"), "SHA_COMPRESS round: a' = T1 + T2")
        assert_add(b, [d] + t1, cols("enb"), cols("cel"), cols("ceh"), "SHA_COMPRESS round: e' = d + T1")
        a_new, e_new = Word.of_bits(cols("anb")), Word.of_bits(cols("enb"))

        # row 0 starts from h_in; each row hands its state on to the next round
        for s, j in zip("abcdefgh", range(8)):
            b.assert_zero(first * (st[s].lo - h_in[j].lo), f"SHA_COMPRESS: round 0's {s} = h[{j}] (low half)")
            b.assert_zero(first * (st[s].hi - h_in[j].hi), f"SHA_COMPRESS: round 0's {s} = h[{j}] (high half)")
        cont, nxt = active - last, _state(b.main_next)
        for s, old in zip("abcdefgh", (a_new, a, bb, c, e_new, e, f, g)):
            for x, y in ((nxt[s].lo, old.lo), (nxt[s].hi, old.hi)):
                b.when_transition().assert_zero(cont * (x - y), f"SHA_COMPRESS: the next round's {s} is this round's output")

        # memory: SP1: row i reads w[i] (RISC Zero: receives it); the last row reads h_in and writes
        # h_in + state (RISC Zero: block 0 reads h_in on row 0, the last block writes h_out at kout)
        index = sum(i * p for i, p in enumerate(pos) if i)
        ts = 4 * clk + (4 + TS_MEM)
        memory_access(b, w_key + index, cols("w"), cols("w"), col("w_ts"), cols("w_d"), ts, active * (1 - r0),
                      "SHA_COMPRESS read w[i]")
        b.receive(buses.R0_SHA_W, [clk, col("kb1"), col("kb2"), index, *cols("w")], active * r0)
        final = (a_new, a, bb, c, e_new, e, f, g)
        # h's 8 accesses, one per word on one row: row 63 reads h_in / writes h_out (SP1, at h's key)
        # or writes h_out (a RISC Zero ecall's last block, at kout, 4·clk + 7); row 0 of a RISC Zero
        # ecall's first block reads the in state at kin. hk, hts: the row's h key and timestamp.
        hk, hts = col("hk"), col("hts")
        b.assert_zero(last * (hk - (1 - r0) * h_key - col("bl") * col("kout")), "SHA_COMPRESS: row 63's h key")
        b.assert_zero(hread * (hk - col("kin")), "SHA_COMPRESS: the in state's key")
        b.assert_zero(hwrite * (hts - ts - r0), "SHA_COMPRESS: h is written at 4·clk + 6 (SP1), + 7 (RISC Zero)")
        b.assert_zero(hread * (hts - ts), "SHA_COMPRESS: the in state is read at 4·clk + 6")
        zero_unless(b, hread + hwrite, [hk, hts], "SHA_COMPRESS: h's key and timestamp only where h is accessed")
        for j in range(8):
            o, lo, hi = cols(f"o{j}"), col(f"co{j}l"), col(f"co{j}h")
            out = Word.of_bytes([x + r0 * (y - x) for x, y in zip(o, o[::-1])])  # the value: o reversed in RISC Zero mode
            b.assert_bool(lo, "SHA_COMPRESS: carry is boolean")
            b.assert_bool(hi, "SHA_COMPRESS: carry is boolean")
            b.assert_zero(last * (h_in[j].lo + final[j].lo - out.lo - 65536 * lo), f"h[{j}] += state[{j}] (low half)")
            b.assert_zero(last * (h_in[j].hi + final[j].hi + lo - out.hi - 65536 * hi), f"h[{j}] += state[{j}] (high half)")
            b.send(buses.BYTE, [buses.TAG_RANGE, o[0], o[1], 0, 0], last)
            b.send(buses.BYTE, [buses.TAG_RANGE, o[2], o[3], 0, 0], last)
            h_ts, h_d, hv_j, hin_bytes = col(f"h{j}_ts"), cols(f"h{j}_d"), cols(f"hv{j}"), h_in[j].byte_exprs()
            for x, y, z in zip(hv_j, hin_bytes, o):
                # SP1: the value before is h_in (read and written at once); the in state's read:
                # before = after = h_in as memory holds it (big-endian: bytes reversed)
                b.assert_zero(last * (1 - r0) * (x - y), f"SHA_COMPRESS h{j}: the previous value is h_in")
                b.assert_zero(hread * (z - x), f"SHA_COMPRESS h{j}: the in state is read (unchanged)")
            for x, y in zip(hv_j, hin_bytes[::-1]):
                b.assert_zero(hread * (x - y), f"SHA_COMPRESS h{j}: the in state read is h_in")
            memory_access(b, hk + j, hv_j, o, h_ts, h_d, hts, hread + hwrite, f"SHA_COMPRESS h{j}")
            zero_unless(b, last, [lo, hi], "SHA_COMPRESS: h's carries on row 63 only")
            zero_unless(b, last + hread, o, "SHA_COMPRESS: h_out on row 63 only (and the in state on its read)")
            zero_unless(b, hread + hwrite, [*hv_j, h_ts, *h_d], "SHA_COMPRESS: h's previous value only where h is accessed")
        # RISC Zero: the state goes on to the next block of the ecall, as 16-bit halves (o holds
        # h_out's big-endian bytes in this mode: the value's low half is o3 + 256·o2)
        halves = [x for j in range(8) for o in [cols(f"o{j}")] for x in (o[3] + 256 * o[2], o[1] + 256 * o[0])]
        b.send(buses.R0_SHA_STATE, [clk, col("rem") - 1, col("kb1") + 16, col("kb2") + 16, *halves], last * (r0 - col("bl")))
        state_cells = [m(x) for s in BIT_STATE for x in getattr(COMPRESS, f"{s}b")] + cols("d") + cols("h")
        zero_unless(b, active, state_cells + cols("w"), "SHA_COMPRESS: a padding row is 0")
        zero_unless(b, active * (1 - r0), [col("w_ts")] + cols("w_d"), "SHA_COMPRESS: w's timestamps only where w is read")

    def generate(self, w):
        """64 rows per SHA_COMPRESS the syscall chip sends (w and h_in from the executor's events)
        and per block of a RISC Zero SHA ecall (sha_risc0.py): the rounds recomputed here and
        checked against the h the executor wrote."""
        from .sha_risc0 import bswap, r0_sha_blocks

        clk, a0, a1 = precompile_calls(w, self, CODE)
        n = len(clk)
        if np.any((a1 < a0 + 256) & (a0 < a1 + 32)):
            raise UnsupportedProgram("SHA_COMPRESS with overlapping w and h buffers cannot be proved "
                                     "(each word is accessed once per call); use separate buffers")
        addr, before, after = call_memory_events(w, clk, 80, "SHA_COMPRESS")
        expected = np.concatenate([a0[:, None] + 4 * np.arange(64), a1[:, None] + 4 * np.arange(8),
                                   a1[:, None] + 4 * np.arange(8)], axis=1)
        ws, h_in = before[:, :64], before[:, 64:72]
        r0 = r0_sha_blocks(w, self)
        nr = len(r0.get("clk", ()))
        if n + nr == 0:  # no call: the all-zero table (the rounds below are ~2,000 numpy calls, even on no rows)
            return call_table(0, COMPRESS.width, COMPRESS.pos)[0]
        if nr:
            clk, ws, h_in = (np.concatenate([x, r0[k]]) for x, k in ((clk, "clk"), (ws, "ws"), (h_in, "h_in")))
        A, E, carries = compress_state(h_in, ws)
        final = np.stack([A[:, 67], A[:, 66], A[:, 65], A[:, 64], E[:, 67], E[:, 66], E[:, 65], E[:, 64]], axis=1)
        h_out = (h_in + final) & 0xFFFFFFFF
        if np.any(addr != expected) or np.any(after[:, 72:] != h_out[:n]):
            raise ConstraintNotSatisfied("SHA_COMPRESS: the executor's events are not a compression of w into h "
                                         "(inconsistent trace)")
        t, rows = call_table(n + nr, COMPRESS.width, COMPRESS.pos)
        i = rows % ROWS
        first, last = rows[i == 0], rows[i == ROWS - 1]
        t[rows, COMPRESS.clk] = per_row(clk)
        sp1, sp1_first, sp1_last = rows[:ROWS * n], first[:n], last[:n]
        t[sp1[:, None], COMPRESS.wp], t[sp1[:, None], COMPRESS.hp] = per_row(to_bytes(a0)), per_row(to_bytes(a1))
        w_key = buffer_witness(t, sp1_first, a0, 64, COMPRESS.wq, COMPRESS.wlo, COMPRESS.wroom)
        h_key = buffer_witness(t, sp1_first, a1, 8, COMPRESS.hq, COMPRESS.hlo, COMPRESS.hroom)
        for q in (COMPRESS.wq, COMPRESS.hq):
            t[sp1, q] = per_row(t[sp1_first, q])
        for j in range(8):
            t[rows[:, None], getattr(COMPRESS, f"h{j}_in")] = per_row(to_bytes(h_in[:, j]))
        # row i's state: A[:, k + 3] holds A[k], and (a, b, c, d) = A[i], A[i−1], A[i−2], A[i−3]
        for s, back in zip("abc", range(3)):
            t[rows[:, None], getattr(COMPRESS, f"{s}b")] = to_bits(A[:, 3 - back:67 - back].reshape(-1))
        for s, back in zip("efg", range(3)):
            t[rows[:, None], getattr(COMPRESS, f"{s}b")] = to_bits(E[:, 3 - back:67 - back].reshape(-1))
        for s, X in (("d", A), ("h", E)):
            v = X[:, 0:64].reshape(-1)
            t[rows[:, None], getattr(COMPRESS, s)] = np.stack([v & 0xFFFF, v >> 16], axis=1)
        t[rows[:, None], COMPRESS.anb] = to_bits(A[:, 4:68].reshape(-1))
        t[rows[:, None], COMPRESS.enb] = to_bits(E[:, 4:68].reshape(-1))
        for name, bits in zip(("cal", "cah", "cel", "ceh"), zip(*carries)):
            t[rows[:, None], getattr(COMPRESS, name)] = np.stack(bits, axis=1).reshape(-1, 3)
        w_i = ws.reshape(-1)
        t[rows[:, None], COMPRESS.w] = to_bytes(w_i)
        is_r0 = np.arange(n + nr) >= n
        for j in range(8):  # o: h_out's bytes as memory holds them (big-endian words in RISC Zero mode)
            _, lo, hi = add_carries([h_in[:, j], final[:, j]], 1)
            t[last[:, None], getattr(COMPRESS, f"o{j}")] = to_bytes(np.where(is_r0, bswap(h_out[:, j]), h_out[:, j]))
            t[last, getattr(COMPRESS, f"co{j}l")], t[last, getattr(COMPRESS, f"co{j}h")] = lo[:, 0], hi[:, 0]
        ts = 4 * clk + 4 + TS_MEM
        t[sp1_last, COMPRESS.hk], t[sp1_last, COMPRESS.hts] = h_key, ts[:n]
        w.add_accesses(Access(t, sp1, per_row(w_key[:n]) + i[sp1], per_row(ts[:n]), w_i[:ROWS * n], COMPRESS.w_ts,
                              COMPRESS.w_d, None, "SHA_COMPRESS w"))
        w.add_accesses(*[Access(t, sp1_last, h_key + j, ts[:n], h_out[:n, j], getattr(COMPRESS, f"h{j}_ts"),
                                getattr(COMPRESS, f"h{j}_d"), getattr(COMPRESS, f"hv{j}"), f"SHA_COMPRESS h{j}",
                                expected_before=h_in[:n, j]) for j in range(8)])
        if nr:
            self._risc0_rows(w, t, r0, first[n:], last[n:], ts[n:], bswap(h_in[n:]), bswap(h_out[n:]))
        return t

    @staticmethod
    def _risc0_rows(w, t, r0, first, last, ts, in_words, out_words):
        """The RISC Zero blocks' own columns (flags, rem, keys) and their state accesses: block 0
        reads the in state at kin (its memory words: in_words), the last block writes out_words at kout."""
        blocks = np.arange(len(first))
        rows = (first[:, None] + np.arange(ROWS)).reshape(-1)
        shared = {"r0": np.ones(len(first), dtype=np.int64), "bf": r0["first"], "bl": r0["last"], "rem": r0["rem"],
                  "rinv": inverse_or_zero(r0["rem"]), "kin": np.where(r0["first"], r0["kin"], 0),
                  "kout": np.where(r0["last"], r0["kout"], 0),
                  "kb1": r0["kb1"], "kb2": r0["kb2"]}
        for name, v in shared.items():
            t[rows, getattr(COMPRESS, name)] = per_row(np.asarray(v, dtype=np.int64))
        rd, wr = blocks[r0["first"]], blocks[r0["last"]]
        t[first[rd], COMPRESS.hk], t[first[rd], COMPRESS.hts] = r0["kin"][rd], ts[rd]
        t[last[wr], COMPRESS.hk], t[last[wr], COMPRESS.hts] = r0["kout"][wr], ts[wr] + 1
        groups = []
        for j in range(8):
            t[first[rd][:, None], getattr(COMPRESS, f"hv{j}")] = to_bytes(in_words[rd, j])
            t[first[rd][:, None], getattr(COMPRESS, f"o{j}")] = to_bytes(in_words[rd, j])
            groups.append(Access(t, first[rd], r0["kin"][rd] + j, ts[rd], in_words[rd, j], getattr(COMPRESS, f"h{j}_ts"),
                                 getattr(COMPRESS, f"h{j}_d"), None, f"RISC Zero SHA in state h{j}"))
            groups.append(Access(t, last[wr], r0["kout"][wr] + j, ts[wr] + 1, out_words[wr, j], getattr(COMPRESS, f"h{j}_ts"),
                                 getattr(COMPRESS, f"h{j}_d"), getattr(COMPRESS, f"hv{j}"), f"RISC Zero SHA out state h{j}",
                                 expected_before=r0["out_before"][wr, j]))
        w.add_accesses(*groups)


def risc0_block(b, col, cols, clk, first, last, r0):
    """RISC Zero mode's block columns (module docstring): the flags, the blocks left, where the
    block's state comes from. Returns (hread, hwrite): the rows that read the in state (row 0
    of block 0) and write h (row 63: every SP1 call, a RISC Zero ecall's last block)."""
    bf, bl, rem, rinv = col("bf"), col("bl"), col("rem"), col("rinv")
    for x, name in ((r0, "r0"), (bf, "bf"), (bl, "bl")):
        b.assert_bool(x, f"SHA_COMPRESS: {name} is boolean")
    zero_unless(b, r0, [bf, bl, rem, col("kb1"), col("kb2")], "SHA_COMPRESS: RISC Zero columns only in RISC Zero mode")
    zero_unless(b, bf, [col("kin")], "SHA_COMPRESS: kin only on an ecall's first block")
    zero_unless(b, bl, [col("kout")], "SHA_COMPRESS: kout only on an ecall's last block")
    b.assert_zero(bl * rem, "SHA_COMPRESS: the last block has rem = 0")
    b.assert_eq(rem * rinv, r0 - bl, "SHA_COMPRESS: rem = 0 ⇒ the last block")
    zero_unless(b, r0 - bl, [rinv], "SHA_COMPRESS: rinv only where rem ≠ 0")
    b.receive(buses.R0_SHA_CALL, [clk, rem + 1, col("kin"), col("kb1"), col("kb2")], first * bf)
    b.receive(buses.R0_SHA_OUT, [clk, col("kout")], last * bl)
    # h_in as halves (its bytes are not range-checked here: only the halves enter the rounds and
    # h_in + state, and the sender's halves are of range-checked bytes)
    h_in = [Word.of_bytes(cols(f"h{j}_in")) for j in range(8)]
    b.receive(buses.R0_SHA_STATE, [clk, rem, col("kb1"), col("kb2"), *(x for h in h_in for x in (h.lo, h.hi))],
              first * (r0 - bf))
    return first * bf, last * (1 - r0 + bl)


def compress_state(h_in, ws):
    """The rounds over all calls at once: A, E as (calls, 68) arrays (column k + 3 holds A[k],
    k = −3..64) and, per round, the carry bits (a' lo, a' hi, e' lo, e' hi)."""
    n = len(h_in)
    A, E = np.zeros((n, 68), dtype=np.int64), np.zeros((n, 68), dtype=np.int64)
    A[:, :4], E[:, :4] = h_in[:, 3::-1], h_in[:, 7:3:-1]  # A[−3..0] = d, c, b, a
    carries = []
    for i in ROUNDS:
        a, b, c, d = (A[:, i + 3 - k].astype(np.uint64) for k in range(4))
        e, f, g, h = (E[:, i + 3 - k].astype(np.uint64) for k in range(4))
        s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
        ch = (e & f) ^ (~e & g & np.uint64(0xFFFFFFFF))
        s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
        mj = (a & b) ^ (a & c) ^ (b & c)
        t1 = [h, s1, ch, np.full(n, SHA256_K[i], dtype=np.uint64), ws[:, i]]
        A[:, i + 4], al, ah = add_carries(t1 + [s0, mj], 3)
        E[:, i + 4], el, eh = add_carries([d] + t1, 3)
        carries.append((al, ah, el, eh))
    return A, E, carries
