"""The SHA_EXTEND chip (syscall 0x00300105): SHA-256's message schedule, one row per call.

SP1's semantics (executor/sp1.py): a0 points at w[0..64] (word-aligned, 256 bytes in guest
memory), a1 must be 0; the call reads w[0..16] and writes

    w[i] = σ1(w[i−2]) + w[i−7] + σ0(w[i−15]) + w[i−16]  mod 2^32,   i = 16..63,
    σ0(x) = ROTR^7 x ⊕ ROTR^18 x ⊕ SHR^3 x,   σ1(x) = ROTR^17 x ⊕ ROTR^19 x ⊕ SHR^10 x.

One row holds the whole call, so every word the schedule uses is in the row (a two-row window
could not reach w[i−16]): all 64 words as bits (sha_bits.py), and 2 + 2 carry bits per sum of
four terms. Memory: w[0..16] are reads, w[16..64] writes (their previous value comes from the
memory argument), all at the ecall's syscall timestamp 4·clk + 6 — one access per key, so the
timestamps stay distinct. The row receives (clk, 0x00300105, a0, a1 = 0) on the ``precompile``
bus from the syscall chip: a call with a1 ≠ 0 finds no receiver.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConstraintNotSatisfied
from . import buses
from .accesses import Access
from .chip import Chip
from .cpu import TS_MEM, memory_access
from .layout import Layout
from .program_table import pad_height, to_bytes
from .sha_bits import Word, add_carries, assert_add, mix, rotr, to_bits
from .word_buffer import buffer_columns, buffer_key, buffer_witness, call_memory_events, precompile_calls

CODE = 0x00300105
READS, WRITES = range(16), range(16, 64)
EXTEND = Layout(
    f"active clk ptr:4 {buffer_columns()} " + " ".join(f"w{j}b:32" for j in range(64)) + " "
    + " ".join(f"cl{i}:2 ch{i}:2" for i in WRITES) + " "
    + " ".join(f"r{j}_ts r{j}_d:4" for j in READS) + " "
    + " ".join(f"x{j}_ts x{j}_d:4 x{j}_prev:4" for j in WRITES)
)


class ShaExtendAir(Chip):
    name = "sha extend"
    width = EXTEND.width

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
        col = lambda n: m(getattr(EXTEND, n))  # noqa: E731
        cols = lambda n: [m(i) for i in getattr(EXTEND, n)]  # noqa: E731
        active, clk, ptr = col("active"), col("clk"), cols("ptr")
        b.assert_bool(active, "active is boolean")
        b.declare_active(active)
        b.receive(buses.PRECOMPILE, [clk, *(to_bytes([CODE])[0].tolist()), *ptr, 0, 0, 0, 0], active)
        key = buffer_key(b, ptr, col("q"), cols("lo"), cols("room"), 64, active, "SHA_EXTEND w")
        w = [Word.of_bits(cols(f"w{j}b")) for j in range(64)]
        for i in WRITES:
            s0 = mix(w[i - 15].bits, (7, 18), shift=3)
            s1 = mix(w[i - 2].bits, (17, 19), shift=10)
            assert_add(b, [s1, w[i - 7], s0, w[i - 16]], w[i].bits, cols(f"cl{i}"), cols(f"ch{i}"),
                       f"w{i} = σ1(w{i - 2}) + w{i - 7} + σ0(w{i - 15}) + w{i - 16}")
        for j in READS:  # (a written word's bits are asserted boolean by assert_add)
            for x in cols(f"w{j}b"):
                b.assert_bool(x, f"w{j} bit is boolean")
        ts = 4 * clk + (4 + TS_MEM)
        for j in READS:
            v = w[j].byte_exprs()
            memory_access(b, key + j, v, v, col(f"r{j}_ts"), cols(f"r{j}_d"), ts, active, f"SHA_EXTEND read w{j}")
        for j in WRITES:
            memory_access(b, key + j, cols(f"x{j}_prev"), w[j].byte_exprs(), col(f"x{j}_ts"), cols(f"x{j}_d"),
                          ts, active, f"SHA_EXTEND write w{j}")

    def generate(self, w):
        """One row per SHA_EXTEND the syscall chip sends: the 64 words from the executor's
        events (16 read, 48 written), recomputed here, and their memory accesses."""
        clk, a0, _a1 = precompile_calls(w, self, CODE)
        n = len(clk)
        t = np.zeros((pad_height(n), EXTEND.width), dtype=np.int64)
        rows = np.arange(n)
        addr, before, after = call_memory_events(w, clk, 64, "SHA_EXTEND")
        words = extend_words(before[:, :16])
        if np.any(addr != a0[:, None] + 4 * np.arange(64)) or np.any(after[:, 16:] != words[:, 16:]):
            raise ConstraintNotSatisfied("SHA_EXTEND: the executor's events are not the schedule of w[0..16] (inconsistent trace)")
        t[:n, EXTEND.active], t[:n, EXTEND.clk] = 1, clk
        t[:n, EXTEND.ptr] = to_bytes(a0)
        key = buffer_witness(t, rows, a0, 64, EXTEND.q, EXTEND.lo, EXTEND.room)
        for j in range(64):
            t[:n, getattr(EXTEND, f"w{j}b")] = to_bits(words[:, j])
        for i in WRITES:
            out, cl, ch = add_carries([sigma1(words[:, i - 2]), words[:, i - 7], sigma0(words[:, i - 15]),
                                       words[:, i - 16]], 2)
            t[:n, getattr(EXTEND, f"cl{i}")], t[:n, getattr(EXTEND, f"ch{i}")] = cl, ch
        ts = 4 * clk + 4 + TS_MEM
        w.add_accesses(*[Access(t, rows, key + j, ts, words[:, j], getattr(EXTEND, f"r{j}_ts"),
                                getattr(EXTEND, f"r{j}_d"), None, f"SHA_EXTEND w{j}") for j in READS])
        w.add_accesses(*[Access(t, rows, key + j, ts, words[:, j], getattr(EXTEND, f"x{j}_ts"),
                                getattr(EXTEND, f"x{j}_d"), getattr(EXTEND, f"x{j}_prev"), f"SHA_EXTEND w{j}",
                                expected_before=before[:, j]) for j in WRITES])
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
