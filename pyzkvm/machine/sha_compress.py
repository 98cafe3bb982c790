"""The SHA_COMPRESS chip (syscall 0x00010106): SHA-256's 64 rounds and h += state, one row per call.

SP1's semantics (executor/sp1.py): a0 points at w[0..64], a1 at h[0..8] (both word-aligned,
in guest memory); the call reads w and h, runs the 64 rounds of FIPS 180-4 §6.2.2 from
(a..h) = h and writes h[j] + state[j] mod 2^32 back to h.

One row per call. The state after round i is (A[i+1], A[i], A[i−1], A[i−2], E[i+1], E[i],
E[i−1], E[i−2]): round i only adds the two new words

    T1 = h + Σ1(e) + Ch(e, f, g) + K[i] + w[i],   T2 = Σ0(a) + Maj(a, b, c)
    A[i+1] = T1 + T2 (7 terms),   E[i+1] = d + T1 (6 terms)          mod 2^32,

with (a, b, c, d) = (A[i], A[i−1], A[i−2], A[i−3]) and (e, f, g, h) likewise from E. So the
row holds A[−2..64] and E[−2..64] as bits (sha_bits.py), 3 + 3 carry bits per sum, and the
initial d = A[−3], h = E[−3] only as the bytes memory gives. The round constants K[i] are
constants of the constraint polynomials (part of the circuit, hence of the circuit digest),
multiplied by the activity selector so that a padding row stays all zero.

Memory, all at the ecall's syscall timestamp 4·clk + 6: 64 reads of w; 8 accesses of h that
read h_in (the previous value, from the memory argument) and write h_out = h_in + final state.
One access per key: a call whose w and h buffers overlap cannot be proved (the executor runs
it; the prover refuses it).
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
from .program_table import pad_height, to_bytes
from .sha_bits import Word, add_carries, assert_add, choose, constant, majority, mix, rotr, to_bits
from .word_buffer import buffer_columns, buffer_key, buffer_witness, call_memory_events, precompile_calls

CODE = 0x00010106
ROUNDS = range(64)
#: A[k] and E[k] as bits for k = −2..64 (column group A{k+3}b / E{k+3}b)
BIT_WORDS = range(-2, 65)
COMPRESS = Layout(
    f"active clk wp:4 {buffer_columns('w')} hp:4 {buffer_columns('h')} "
    + " ".join(f"w{j}v:4 w{j}_ts w{j}_d:4" for j in ROUNDS) + " "
    + " ".join(f"h{j}_in:4 h{j}_ts h{j}_d:4" for j in range(8)) + " "
    + " ".join(f"A{k + 3}b:32 E{k + 3}b:32" for k in BIT_WORDS) + " "
    + " ".join(f"ca{i}l:3 ca{i}h:3 ce{i}l:3 ce{i}h:3" for i in ROUNDS) + " "
    + " ".join(f"o{j}b:32 co{j}l:1 co{j}h:1" for j in range(8))
)


class ShaCompressAir(Chip):
    name = "sha compress"
    width = COMPRESS.width

    @classmethod
    def for_program(cls, program, image):
        """One shared instance: the chip does not depend on the program, and compiling its
        constraint DAG (tens of thousands of nodes) once per process, not once per machine,
        keeps every build_chips/check_machine/setup cheap (compiled_air and the tapes are
        cached on the instance)."""
        if "_shared" not in cls.__dict__:
            cls._shared = cls()
        return cls._shared

    def constraints(self, b):
        m = b.main
        col = lambda n: m(getattr(COMPRESS, n))  # noqa: E731
        cols = lambda n: [m(i) for i in getattr(COMPRESS, n)]  # noqa: E731
        active, clk, wp, hp = col("active"), col("clk"), cols("wp"), cols("hp")
        b.assert_bool(active, "active is boolean")
        b.declare_active(active)
        b.receive(buses.PRECOMPILE, [clk, *(to_bytes([CODE])[0].tolist()), *wp, *hp], active)
        w_key = buffer_key(b, wp, col("wq"), cols("wlo"), cols("wroom"), 64, active, "SHA_COMPRESS w")
        h_key = buffer_key(b, hp, col("hq"), cols("hlo"), cols("hroom"), 8, active, "SHA_COMPRESS h")
        h_in = [cols(f"h{j}_in") for j in range(8)]

        def A(k):
            return Word.of_bytes(h_in[3]) if k == -3 else Word.of_bits(cols(f"A{k + 3}b"))

        def E(k):
            return Word.of_bytes(h_in[7]) if k == -3 else Word.of_bits(cols(f"E{k + 3}b"))

        # the initial state (a, b, c, d, e, f, g, h) = h_in: A[0], A[−1], A[−2] and E[0..−2] as bits
        for k in (0, -1, -2):
            for word, j in ((A(k), -k), (E(k), 4 - k)):
                for x in word.bits:
                    b.assert_bool(x, "initial state bit is boolean")
                for i, (x, y) in enumerate(zip(word.byte_exprs(), h_in[j])):
                    b.assert_eq(x, y, f"initial state word {j} byte {i} = h[{j}]")
        for i in ROUNDS:
            a, e = A(i), E(i)
            s1, ch = mix(e.bits, (6, 11, 25)), choose(e.bits, E(i - 1).bits, E(i - 2).bits)
            s0, mj = mix(a.bits, (2, 13, 22)), majority(a.bits, A(i - 1).bits, A(i - 2).bits)
            t1 = [E(i - 3), s1, ch, constant(SHA256_K[i], active), Word.of_bytes(cols(f"w{i}v"))]
            assert_add(b, t1 + [s0, mj], cols(f"A{i + 4}b"), cols(f"ca{i}l"), cols(f"ca{i}h"),
                       f"round {i}: a' = T1 + T2")
            assert_add(b, [A(i - 3)] + t1, cols(f"E{i + 4}b"), cols(f"ce{i}l"), cols(f"ce{i}h"),
                       f"round {i}: e' = d + T1")
        final = [A(64), A(63), A(62), A(61), E(64), E(63), E(62), E(61)]
        for j in range(8):
            assert_add(b, [Word.of_bytes(h_in[j]), final[j]], cols(f"o{j}b"), cols(f"co{j}l"), cols(f"co{j}h"),
                       f"h[{j}] += state[{j}]")
        ts = 4 * clk + (4 + TS_MEM)
        for j in ROUNDS:
            v = cols(f"w{j}v")
            memory_access(b, w_key + j, v, v, col(f"w{j}_ts"), cols(f"w{j}_d"), ts, active, f"SHA_COMPRESS read w{j}")
        for j in range(8):
            memory_access(b, h_key + j, h_in[j], Word.of_bits(cols(f"o{j}b")).byte_exprs(), col(f"h{j}_ts"),
                          cols(f"h{j}_d"), ts, active, f"SHA_COMPRESS h{j}")

    def generate(self, w):
        """One row per SHA_COMPRESS the syscall chip sends: w and h_in from the executor's
        events, the rounds recomputed here (and checked against the h it wrote)."""
        clk, a0, a1 = precompile_calls(w, self, CODE)
        n = len(clk)
        t = np.zeros((pad_height(n), COMPRESS.width), dtype=np.int64)
        rows = np.arange(n)
        if np.any((a1 < a0 + 256) & (a0 < a1 + 32)):
            raise UnsupportedProgram("SHA_COMPRESS with overlapping w and h buffers cannot be proved "
                                     "(each word is accessed once per call); use separate buffers")
        addr, before, after = call_memory_events(w, clk, 80, "SHA_COMPRESS")
        expected = np.concatenate([a0[:, None] + 4 * np.arange(64), a1[:, None] + 4 * np.arange(8),
                                   a1[:, None] + 4 * np.arange(8)], axis=1)
        ws, h_in = before[:, :64], before[:, 64:72]
        A, E, carries = compress_state(h_in, ws)
        h_out = (h_in + np.stack([A[:, 67], A[:, 66], A[:, 65], A[:, 64], E[:, 67], E[:, 66], E[:, 65], E[:, 64]],
                                 axis=1)) & 0xFFFFFFFF
        if np.any(addr != expected) or np.any(after[:, 72:] != h_out):
            raise ConstraintNotSatisfied("SHA_COMPRESS: the executor's events are not a compression of w into h "
                                         "(inconsistent trace)")
        t[:n, COMPRESS.active], t[:n, COMPRESS.clk] = 1, clk
        t[:n, COMPRESS.wp], t[:n, COMPRESS.hp] = to_bytes(a0), to_bytes(a1)
        w_key = buffer_witness(t, rows, a0, 64, COMPRESS.wq, COMPRESS.wlo, COMPRESS.wroom)
        h_key = buffer_witness(t, rows, a1, 8, COMPRESS.hq, COMPRESS.hlo, COMPRESS.hroom)
        for j in ROUNDS:
            t[:n, getattr(COMPRESS, f"w{j}v")] = to_bytes(ws[:, j])
        for k in BIT_WORDS:
            t[:n, getattr(COMPRESS, f"A{k + 3}b")] = to_bits(A[:, k + 3])
            t[:n, getattr(COMPRESS, f"E{k + 3}b")] = to_bits(E[:, k + 3])
        for i in ROUNDS:
            for name, bits in zip(("ca{}l", "ca{}h", "ce{}l", "ce{}h"), carries[i]):
                t[:n, getattr(COMPRESS, name.format(i))] = bits
        for j in range(8):
            _, lo, hi = add_carries([h_in[:, j], h_out[:, j] - h_in[:, j] & 0xFFFFFFFF], 1)
            t[:n, getattr(COMPRESS, f"o{j}b")] = to_bits(h_out[:, j])
            t[:n, getattr(COMPRESS, f"co{j}l")], t[:n, getattr(COMPRESS, f"co{j}h")] = lo, hi
        ts = 4 * clk + 4 + TS_MEM
        w.add_accesses(*[Access(t, rows, w_key + j, ts, ws[:, j], getattr(COMPRESS, f"w{j}_ts"),
                                getattr(COMPRESS, f"w{j}_d"), None, f"SHA_COMPRESS w{j}") for j in ROUNDS])
        w.add_accesses(*[Access(t, rows, h_key + j, ts, h_out[:, j], getattr(COMPRESS, f"h{j}_ts"),
                                getattr(COMPRESS, f"h{j}_d"), getattr(COMPRESS, f"h{j}_in"), f"SHA_COMPRESS h{j}",
                                expected_before=h_in[:, j]) for j in range(8)])
        return t


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
