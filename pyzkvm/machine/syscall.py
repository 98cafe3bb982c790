"""The SP1 profile's syscall chips: WRITE, HINT_LEN, HINT_READ, COMMIT, COMMIT_DEFERRED_PROOFS,
VERIFY_SP1_PROOF, ENTER/EXIT_UNCONSTRAINED and the precompiles' routing (SP1's HALT is in the CPU;
VERIFY_SP1_PROOF's word chip is in syscall_verify.py; the RISC Zero profile's ecalls have their
own chip, syscall_risc0.py).

syscall (one row per non-HALT SP1 ecall, in clk order)
    receives (clk, 0, 0, t0 bytes, a0 bytes, ret bytes) from the CPU on the ``syscall`` bus: the
    profile 0 (statement.PROFILE_IDS["sp1"]) and is_halt = 0 are constants, so a RISC Zero ecall
    (profile 1) can only be received by syscall_risc0.py's chip; reads a1 (and a2
    for WRITE) through memory checking at ts = 4·clk + 6; then per kind:
      HINT_LEN     ret: range-checked bytes, the length the next HINT_READ reads (a promise kept
                   in two memory cells until then; an ENTER_UNCONSTRAINED clears it), or one
                   value for every HINT_LEN after the last read (the input is the prover's)
      buffers      HINT_READ's buffer and every WRITE's non-empty buffer (fd 1/2 as well, like
                   the executor) lie in [0x20, 0x78000000)
      HINT_READ    a0 = word-aligned pointer, a1 = length; 4·nw = a1 + pad (pad < 4): the chain
                   of destination words [a0/4, a0/4 + nw) in the hint-word chip (free values)
      WRITE        a0 = fd ∈ {1, 2, 3, 13} (one-hot); for fd 3/13 with a2 > 0 the chain of words
                   covering [a1, a1 + a2) in the journal-word chip, whose bytes go to the journal
                   at positions jpos.. (jpos: running journal length, in clk order); for fd 1/2
                   only the bounds (their bytes are not public, so their words are not read)
      COMMIT(_DEFERRED_PROOFS)  a0 = index < 8: sends (kind, index, a1) on the ``commit`` bus
      ENTER/EXIT_UNCONSTRAINED  t0 ← 0 and nothing else: the block between them is not in the
                   trace (the executor rolled it back), so the rows after ENTER continue from
                   the state before it through the memory argument; a block's hints reach the
                   proved run only through HINT_READ's free words
      VERIFY_SP1_PROOF  a0, a1 = word-aligned pointers to 8-word buffers in [0x20, 0x78000000)
                   (image ID, journal digest): two chains of 8 words each in the assumption-word
                   chip, tagged with apos (the assumption's index: running count of 0x1B rows)
      precompile   (SHA_EXTEND, SHA_COMPRESS, KECCAK_PERMUTE: PRECOMPILE_CODES) t0 = the code's
                   bytes pc0..3 (free here): sends (clk, pc0..3, a0, a1) on the ``precompile`` bus;
                   the chip of that code receives it with its code as constants and checks its own
                   pointers (word_buffer.py), so a code no chip receives cannot balance the bus
    ret = code for every kind but HINT_LEN and ENTER/EXIT_UNCONSTRAINED (t0 keeps the code).
    The chip is never left out of a proof, even with no row: it carries the running counters
    jpos and apos from segment to segment (its padding rows keep them; its first and last rows
    receive and send them on the segment counts bus, the run's first segment starts them at 0
    and the halting one leaves the claim's totals).
hint words (one row per word HINT_READ, or RISC Zero SOFTWARE, writes): a memory write of a free, range-checked word.
journal words (one row per word a journal WRITE reads): a memory read; byte j of the word at
    address A = 4·(key − 32) + j goes to the journal at position jbase + A (jbase = jpos − ptr)
    iff it lies in [ptr, ptr + len): e_j = (is_first ? fm_j : 1)·(is_last ? lm_j : 1), where
    fm_j = [j ≥ ptr mod 4] and lm_j = [j ≤ (ptr + len − 1) mod 4] come with the chain token.
"""

from __future__ import annotations

import numpy as np

from ..errors import UnsupportedProgram
from ..stark.field import P
from . import buses
from .chip import Chip
from .accesses import Access
from .cpu import MEM_KEY_BASE, TS_MEM, memory_access, word
from .layout import Layout
from .memory import memory_key
from .program_table import inverse_or_zero, pad_height, to_bytes
from .public_data import MachinePublicData
from .statement import (PV_ASSUMPTIONS, PV_COMMIT, PV_CYCLES, PV_DEFERRED, PV_HALTS, PV_HAS_COMMIT, PV_HAS_DEFERRED,
                        PV_IS_FIRST, PV_JOURNAL_LEN, PV_START_CLK)
from .field_ops import range_check
from .fp_ops import FP_CODES
from .weierstrass import WEIERSTRASS_CODES
from .weierstrass_decompress import DECOMPRESS_CODES
from .witness import words

#: the SP1 kinds' codes (t0); their profile on the ``syscall`` bus is statement.PROFILE_IDS["sp1"] = 0
CODES = {"write": 0x02, "hint_len": 0xF0, "hint_read": 0xF1, "commit": 0x10, "commit_deferred": 0x1A, "verify": 0x1B,
         "enter": 0x03, "exit": 0x04}
KINDS = tuple(CODES)
#: the syscalls proved by a precompile chip (which receives them on the ``precompile`` bus)
PRECOMPILE_CODES = {0x00300105: "SHA_EXTEND", 0x00010106: "SHA_COMPRESS", 0x00010109: "KECCAK_PERMUTE",
                    0x00010107: "ED_ADD", 0x00000108: "ED_DECOMPRESS", **WEIERSTRASS_CODES, **DECOMPRESS_CODES,
                    0x0001011D: "UINT256_MUL", 0x0001012F: "U256XU2048_MUL", **FP_CODES}
FDS = (1, 2, 3, 13)
A0, A1, A2, A3, A4 = 10, 11, 12, 13, 14

SYS = Layout(
    " ".join(f"is_{k}" for k in KINDS) + " " + " ".join(f"fd{f}" for f in FDS) +
    " is_precompile pc:4 clk clk_d:3 since:3 until:3 b:4 c:4 a1:4 a2:4 a1_prev_ts a1_d:4 a2_prev_ts a2_d:4 ptr:4 pq oh:4 nw pad0 pad1 "
    "lh:4 lw span:3 nz len_inv jpos phz phinv room:4 apos a1q a1hz a1hinv a1room:4 "
    "hint_prev_ts hint_d:4 hp hl:4"
)
#: Two memory cells outside guest memory (keys 32 + address/4 for addresses below 0x20, which no
#: guest access reaches) that hold HINT_LEN's promise from one ecall to the next, across
#: segments too (the memory argument carries them): PROMISE = 1 after a HINT_LEN, 0 after a
#: HINT_READ or an ENTER_UNCONSTRAINED; LENGTH = that HINT_LEN's answer (0 after the others)
HINT_PROMISE_KEY, HINT_LENGTH_KEY = MEM_KEY_BASE, MEM_KEY_BASE + 1
#: one past the key of the last word of guest memory (address 0x78000000)
KEY_END = MEM_KEY_BASE + (0x78000000 >> 2)
HINT_WORDS = Layout("active clk key before:4 after:4 prev_ts d:4 last_key pad0 pad1 is_last inv z1 z3")
JOURNAL_WORDS = Layout("active clk key w:4 prev_ts d:4 is_first is_last inv fm:4 lm:4 jbase last_key u:4 e:4")

R = buses.TAG_RANGE


def _running_counts(b, counters, halt_totals):
    """Counters over the syscall rows, chained across segments (docs/continuations.md):
    ``counters`` are (name, value, value at the next row, step) with value' = value + step on
    every row — step vanishes on a padding row, so the padding keeps the count after the last
    syscall down to the table's last row, where value + step is the segment's end count. The
    first row starts at 0 in the run's first segment and receives the counts the previous
    segment left otherwise; the last row leaves the run's totals (``halt_totals``) in the halting
    segment and sends its counts to the next segment otherwise (segment counts bus: clk, counts)."""
    is_first, halts = b.public(PV_IS_FIRST), b.public(PV_HALTS)
    for name, value, value_next, step in counters:
        b.when_transition().assert_zero(value_next - value - step, f"{name}' = {name} + step")
        b.when_first_row().assert_zero(is_first * value, f"{name} starts at 0 in the run's first segment")
    for (name, value, _next, step), total in zip(counters, halt_totals):
        b.when_last_row().assert_zero(halts * (value + step - total), f"the halting segment leaves {name} at the run's total")
    b.receive_on_row("first", buses.SEGMENT_COUNTS, [b.public(PV_START_CLK), *(c[1] for c in counters)], 1 - is_first)
    b.send_on_row("last", buses.SEGMENT_COUNTS, [b.public(PV_CYCLES), *(c[1] + c[3] for c in counters)], 1 - halts)


def _read(b, key, value, prev_ts, d, ts, mult, what):
    """A memory read at ts (value unchanged), prev_ts < ts proven by 4 range-checked bytes."""
    memory_access(b, key, value, value, prev_ts, d, ts, mult, what)


class SyscallAir(Chip):
    name = "syscall"
    width = SYS.width
    # one row per ecall, so a short table: 50 interactions in 14 helper columns of degree 5
    # (4 quotient chunks on its few rows) rather than 28 of degree 3 (bench/results/proof_size.md)
    helper_degree = 5

    def generate(self, w):
        """One row per non-HALT ecall the CPU sends with profile 0 on the ``syscall`` bus (clk,
        code, a0, ret), reading a1/a2 from the executor's syscall events; files the a1/a2 reads."""
        fields = w.received(buses.SYSCALL, self)
        mine = np.flatnonzero(fields[1] == 0) if len(fields) else np.zeros(0, dtype=np.int64)
        f = [x[mine] for x in fields] if len(fields) else [np.zeros(0, dtype=np.int64)] * 15
        t, groups = syscall_rows(f[0], words(f[3:7]), words(f[7:11]), words(f[11:15]), w.execution.trace.syscall_events,
                                 w.public_values[PV_START_CLK], w.public_values[PV_CYCLES],
                                 w.context.journal_start, w.context.assumptions_start)
        w.add_accesses(*groups)
        return t

    clk_column = SYS.clk

    @staticmethod
    def active_rows(t) -> np.ndarray:
        """Per row: 1 for an ecall, 0 for padding (the witness side's count of real rows)."""
        return sum(t[:, getattr(SYS, f"is_{k}")] for k in KINDS) + t[:, SYS.is_precompile]

    def constraints(self, b):
        m = b.main
        col = lambda n: m(getattr(SYS, n))  # noqa: E731
        cols = lambda n: [m(i) for i in getattr(SYS, n)]  # noqa: E731
        k = {x: col(f"is_{x}") for x in KINDS}
        fd = {f: col(f"fd{f}") for f in FDS}
        clk, bv, c, a1, a2, ptr, oh, lh = col("clk"), cols("b"), cols("c"), cols("a1"), cols("a2"), cols("ptr"), cols("oh"), cols("lh")
        pre, pc = col("is_precompile"), cols("pc")
        active = b.declare_active(sum(k.values()) + pre)
        for name in [f"is_{x}" for x in KINDS] + [f"fd{f}" for f in FDS] + ["pad0", "pad1", "nz", "is_precompile"]:
            b.assert_bool(col(name), f"{name} is boolean")
        for i in range(4):
            b.assert_bool(oh[i], f"oh{i} is boolean")
            b.assert_bool(lh[i], f"lh{i} is boolean")
        b.assert_bool(active, "one syscall per row")
        next_active = sum(b.main_next(getattr(SYS, f"is_{x}")) for x in KINDS) + b.main_next(SYS.is_precompile)
        b.when_transition().assert_zero((1 - active) * next_active, "real rows form a prefix")
        nreal = active * next_active  # this row and the next are real (a bus multiplicity: a multiple of active)
        # rows in clk order (the journal positions follow execution order): clk' − clk − 1 is 3
        # bytes. No wrap: every clk < 2^26 (MAX_CYCLES), so a pair out of order gives
        # clk' − clk − 1 ≥ p − 2^26 > 2^24 as a field element, which 3 bytes cannot make.
        cd = cols("clk_d")
        b.when_transition().assert_zero(nreal * (b.main_next(SYS.clk) - clk - 1 - word(cd + [0])), "syscalls in clk order")
        range_check(b, cd, nreal)
        # every row's ecall is one of this segment's: START_CLK ≤ clk < PV_CYCLES (its end clock).
        # The buses balance over all segments together, so without this a prover could file an
        # ecall's row in another segment's table, where the running counters below would give a
        # journal WRITE another position (the journal's writes reordered across segments).
        # since = clk − START_CLK, until = PV_CYCLES − 1 − clk, 3 range-checked bytes each: their
        # sum is PV_CYCLES − 1 − START_CLK < 2^26 (the verifier's clocks) and they are < 2^25
        # together, so it holds over the integers and clk lies in the range.
        since, until = cols("since"), cols("until")
        b.assert_zero(active * (clk - b.public(PV_START_CLK) - word(since + [0])), "clk ≥ START_CLK: since = clk − START_CLK")
        b.assert_zero(active * (b.public(PV_CYCLES) - 1 - clk - word(until + [0])), "clk < PV_CYCLES: until = PV_CYCLES − 1 − clk")
        range_check(b, since, active)
        range_check(b, until, active)

        # the CPU's ecall: code in t0 (its bytes: the kind's code < 256, or a precompile's free
        # pc0..3), a0, and the value t0 gets back
        code_bytes = [sum(CODES[x] * k[x] for x in KINDS) + pre * pc[0]] + [pre * pc[i] for i in (1, 2, 3)]
        b.receive(buses.SYSCALL, [clk, 0, 0, *code_bytes, *bv, *c], active)  # profile 0 (SP1), not HALT
        # ENTER/EXIT_UNCONSTRAINED leave t0 = 0: the proved run is the one where the block was
        # skipped (SP1's EXIT restores the state at ENTER and returns 0, so the guest's
        # `if enter() == 1` is false); nothing of the block is in the trace
        keeps_code = active - k["hint_len"] - k["enter"] - k["exit"]
        for i in range(4):
            b.assert_zero(keeps_code * (c[i] - code_bytes[i]), f"t0 keeps the code (byte {i})")
        for i in range(4):
            b.assert_zero((k["enter"] + k["exit"]) * c[i], f"ENTER/EXIT_UNCONSTRAINED: t0 = 0 (byte {i})")
            b.assert_zero((1 - pre) * pc[i], f"pc{i} = 0 unless a precompile")
        # a precompile: its chip (the one receiving this code) checks a0/a1 and does the work
        b.send(buses.PRECOMPILE, [clk, *pc, *bv, *a1], pre)
        b.send(buses.BYTE, [R, c[0], c[1], 0, 0], k["hint_len"])  # HINT_LEN's answer: bytes, and below
        b.send(buses.BYTE, [R, c[2], c[3], 0, 0], k["hint_len"])

        # a1, a2 register reads
        ts = 4 * clk + (4 + TS_MEM)
        vp = k["verify"]
        reads_a1 = k["write"] + k["hint_read"] + k["commit"] + k["commit_deferred"] + vp + pre
        reads_a2 = k["write"]
        _read(b, A1, a1, col("a1_prev_ts"), cols("a1_d"), ts, reads_a1, "a1")
        _read(b, A2, a2, col("a2_prev_ts"), cols("a2_d"), ts, reads_a2, "a2")
        for i in range(4):  # unread registers stay 0 in the row (keeps the pointer algebra below exact)
            b.assert_zero((1 - reads_a1) * a1[i], f"a1 unused ⇒ 0 (byte {i})")
            b.assert_zero((1 - reads_a2) * a2[i], f"a2 unused ⇒ 0 (byte {i})")

        # HINT_LEN's answer is the length of the input element the next HINT_READ reads (SP1's
        # executor answers the front element's length, and HINT_READ must read exactly that
        # many bytes), or, when no HINT_READ follows, any one value (0xFFFFFFFF: no input left,
        # or an element never read) — the same for every HINT_LEN until then. As a promise kept
        # in two memory cells: a HINT_LEN finds the promise (hp, hl) the last of these ecalls
        # left, must give the promised length if there is one, and promises its answer; a
        # HINT_READ must read the promised length if there is one, and clears it; so does an
        # ENTER_UNCONSTRAINED (the block may push input to the front: the proved run's hints
        # after it are free). The cells start at 0 (no promise) and the memory argument carries
        # them across segments. Each cell holds the last bytes written: (0|1, 0, 0, 0) — so hp is
        # boolean and the promise's bytes 1..3 need no columns — and HINT_LEN's range-checked
        # answer (or 0). The two are accessed on the same rows at the same ts, so their previous
        # accesses share one timestamp: one prev_ts and one range-checked difference for both.
        hp, hl = col("hp"), cols("hl")
        keeps = k["hint_len"] + k["hint_read"] + k["enter"]
        prev_ts = col("hint_prev_ts")
        memory_access(b, HINT_PROMISE_KEY, [hp, 0, 0, 0], [k["hint_len"], 0, 0, 0], prev_ts, cols("hint_d"), ts, keeps,
                      "hint promise")
        b.receive(buses.MEMORY, [HINT_LENGTH_KEY, *hl, prev_ts], keeps)  # (prev_ts < ts: proved just above)
        b.send(buses.MEMORY, [HINT_LENGTH_KEY, *(k["hint_len"] * c[i] for i in range(4)), ts], keeps)
        for i in range(4):
            b.assert_zero(k["hint_len"] * hp * (c[i] - hl[i]), f"HINT_LEN gives the promised length (byte {i})")
            b.assert_zero(k["hint_read"] * hp * (a1[i] - hl[i]), f"HINT_READ reads the promised length (byte {i})")

        # COMMIT / COMMIT_DEFERRED_PROOFS: index < 8 → the public words
        commits = k["commit"] + k["commit_deferred"]
        b.assert_zero(commits * (bv[1] + bv[2] + bv[3]), "commit index < 256")
        b.send(buses.BYTE, [R, bv[0], 32 * bv[0], 0, 0], commits)  # index < 8
        b.send(buses.COMMIT, [k["commit_deferred"], bv[0], *a1], commits)

        # WRITE: fd one-hot
        b.assert_eq(fd[1] + fd[2] + fd[3] + fd[13], k["write"], "WRITE has one fd")
        b.assert_zero(k["write"] * (bv[0] - fd[1] - 2 * fd[2] - 3 * fd[3] - 13 * fd[13]), "WRITE fd ∈ {1, 2, 3, 13}")
        b.assert_zero(k["write"] * (bv[1] + bv[2] + bv[3]), "WRITE fd < 256")
        journal = fd[3] + fd[13]

        # the buffer pointer: a0 for HINT_READ and VERIFY_SP1_PROOF, a1 for any WRITE (else 0);
        # ptr0 = offset + 4·pq
        for i in range(4):
            b.assert_eq(ptr[i], (k["hint_read"] + vp) * bv[i] + k["write"] * a1[i], f"ptr byte {i}")
        b.assert_eq(ptr[0], oh[1] + 2 * oh[2] + 3 * oh[3] + 4 * col("pq"), "ptr0 = offset + 4·pq")
        b.assert_eq(oh[0] + oh[1] + oh[2] + oh[3], k["hint_read"] + k["write"] + vp, "one pointer offset")
        b.send(buses.BYTE, [R, col("pq"), 4 * col("pq"), 0, 0], active)
        # nz: the buffer is not empty — WRITE's length a2
        len_sum = a2[0] + a2[1] + a2[2] + a2[3]
        nz = col("nz")
        b.assert_zero((1 - nz) * len_sum, "nz = 0 ⇒ len = 0")
        b.assert_eq(len_sum * col("len_inv"), nz, "len ≠ 0 ⇒ nz")
        hr = k["hint_read"]
        wnz = k["write"] * nz  # a WRITE with a non-empty buffer (the executor checks only those)
        uses = hr + wnz + vp  # rows whose buffer (at ptr) must lie in guest memory
        b.send(buses.BYTE, [R, ptr[3] + 0x88, 0, 0, 0], uses)  # ptr < 0x78000000
        start_key = MEM_KEY_BASE + col("pq") + 64 * ptr[1] + 16384 * ptr[2] + 4194304 * ptr[3]

        # HINT_READ: aligned; nw = ceil(len / 4) words from start_key. No wrap: len < 0x78000000
        # (a1_3 + 0x88 is a byte, below) and pad < 4, so len + pad < p and 4·nw = len + pad holds
        # over the integers: nw = ⌈len/4⌉ (any other pad makes nw ≈ p/4, a chain of that many rows)
        b.assert_zero(hr * (1 - oh[0]), "HINT_READ pointer is word-aligned")
        b.assert_zero(hr * (4 * col("nw") - word(a1) - col("pad0") - 2 * col("pad1")), "HINT_READ: 4·nw = len + pad")
        # HINT_READ: len < p; VERIFY: a1 < 0x78000000
        b.send(buses.BYTE, [R, a1[3] + 0x88, 0, 0, 0], hr + vp)
        # the chain token also names the last word and the pad, so that the hint-word chip can
        # require the pad bytes of the last word to be zero (the executor zero-pads them)
        hint_token = [col("pad0"), col("pad1"), start_key + col("nw") - 1]
        b.send(buses.HINT_CHAIN, [clk, start_key, *hint_token], hr)  # nw = 0: nothing (the two cancel)
        b.receive(buses.HINT_CHAIN, [clk, start_key + col("nw"), *hint_token], hr)

        # any non-empty WRITE: its last byte ptr + len − 1 = 4·lw + lo. This is a field equation:
        # ptr < 0x78000000 and len < 2^24 give ptr + len − 1 < 0x79000000 < 2p, so it holds over
        # the integers or with one p subtracted (or added to 4·lw + lo). Both wrapped solutions
        # put lw about 2^29 words away from the first word ptr/4 (p/4 ≈ 2^29), so requiring
        # span = lw − ⌊ptr/4⌋ < 2^24 (3 range-checked bytes; an honest span is < 2^22 + 1)
        # leaves only the integer solution.
        b.assert_zero(k["write"] * a2[3], "WRITE length < 2^24")
        b.assert_eq(lh[0] + lh[1] + lh[2] + lh[3], wnz, "one end offset")
        lo = lh[1] + 2 * lh[2] + 3 * lh[3]
        b.assert_zero(wnz * (word(ptr) + word(a2) - 1 - 4 * col("lw") - lo), "ptr + len − 1 = 4·lw + lo")
        span = cols("span")
        b.assert_zero(wnz * (col("lw") - (start_key - MEM_KEY_BASE) - word(span + [0])),
                      "WRITE: last word − first word = span < 2^24 (no wrap modulo p)")
        range_check(b, span, wnz)
        # journal WRITE: bytes [ptr, ptr + len) to positions jpos.., when len > 0
        jw = journal * wnz  # (k_write keeps the multiplicity a multiple of the activity selector)
        fm = [sum(oh[: j + 1]) for j in range(4)]   # fm_j = [j ≥ ptr mod 4]
        lm = [sum(lh[j:]) for j in range(4)]        # lm_j = [j ≤ (ptr + len − 1) mod 4]
        jbase = col("jpos") - word(ptr)
        last_key = MEM_KEY_BASE + col("lw")
        b.send(buses.JOURNAL_CHAIN, [clk, start_key, 1, jbase, *fm, *lm, last_key], jw)
        b.receive(buses.JOURNAL_CHAIN, [clk, last_key + 1, 0, jbase, *fm, *lm, last_key], jw)
        # the buffer lies in guest memory: ptr ≥ 0x20 (phz = [ptr ≥ 256]) and its end ≤ 0x78000000
        phz, high = col("phz"), ptr[1] + ptr[2] + ptr[3]
        b.assert_bool(phz, "phz is boolean")
        b.assert_zero((1 - phz) * high, "phz = 0 ⇒ ptr < 256")
        b.assert_eq(high * col("phinv"), phz, "ptr ≥ 256 ⇒ phz")
        b.send(buses.BYTE, [R, ptr[0] - 32 + 32 * phz, 0, 0, 0], uses)
        room = cols("room")  # KEY_END − (one past the buffer's last key), < 2^29 so it cannot wrap
        b.assert_zero(hr * (KEY_END - start_key - col("nw") - word(room)), "HINT_READ buffer ends in memory")
        b.assert_zero(wnz * (KEY_END - last_key - 1 - word(room)), "WRITE buffer ends in memory")
        b.assert_zero(vp * (KEY_END - start_key - 8 - word(room)), "VERIFY image ID buffer ends in memory")
        b.send(buses.BYTE, [R, room[0], room[1], 0, 0], uses)
        b.send(buses.BYTE, [R, room[2], room[3], 0, 0], uses)
        b.send(buses.BYTE, [R, 8 * room[3], 0, 0, 0], uses)

        # VERIFY_SP1_PROOF: a1 (the journal digest's pointer) is word-aligned, its 8 words lie in
        # guest memory — the same bounds as ptr's above, on a1's own columns
        a1q, a1hz, a1room = col("a1q"), col("a1hz"), cols("a1room")
        b.assert_zero(vp * (a1[0] - 4 * a1q), "VERIFY digest pointer is word-aligned")
        b.send(buses.BYTE, [R, a1q, 4 * a1q, 0, 0], vp)  # a1q < 64
        a1_high = a1[1] + a1[2] + a1[3]
        b.assert_bool(a1hz, "a1hz is boolean")
        b.assert_zero((1 - a1hz) * a1_high, "a1hz = 0 ⇒ a1 < 256")
        b.assert_eq(a1_high * col("a1hinv"), a1hz, "a1 ≥ 256 ⇒ a1hz")
        b.send(buses.BYTE, [R, a1[0] - 32 + 32 * a1hz, 0, 0, 0], vp)  # a1 ≥ 0x20
        digest_key = MEM_KEY_BASE + a1q + 64 * a1[1] + 16384 * a1[2] + 4194304 * a1[3]
        b.assert_zero(vp * (KEY_END - digest_key - 8 - word(a1room)), "VERIFY digest buffer ends in memory")
        b.send(buses.BYTE, [R, a1room[0], a1room[1], 0, 0], vp)
        b.send(buses.BYTE, [R, a1room[2], a1room[3], 0, 0], vp)
        b.send(buses.BYTE, [R, 8 * a1room[3], 0, 0, 0], vp)
        b.assert_zero(vp * (1 - oh[0]), "VERIFY image ID pointer is word-aligned")
        # the 16 words: j = 0..7 the image ID at a0, j = 8..15 the digest at a1 (h = 0 / 1), each a
        # chain through the assumption-word chip that carries the assumption's index apos
        apos = col("apos")
        b.send(buses.ASSUMPTION_CHAIN, [clk, 0, start_key, apos, 0, 0], vp)
        b.receive(buses.ASSUMPTION_CHAIN, [clk, 8, start_key + 8, apos, 0, 0], vp)
        b.send(buses.ASSUMPTION_CHAIN, [clk, 8, digest_key, apos, 1, 0], vp)
        b.receive(buses.ASSUMPTION_CHAIN, [clk, 16, digest_key + 8, apos, 1, 0], vp)

        # ---- running counters over the rows, in clk order, chained across segments ------------
        # jpos: journal bytes written before this row; apos: VERIFY_SP1_PROOF calls before this row
        # (= the index of this row's assumption); each step is 0 on a padding row (journal and vp
        # are flags of the activity selector, a2 is 0 where unread)
        _running_counts(b, [(name, col(name), b.main_next(getattr(SYS, name)), step)
                            for name, step in (("jpos", journal * word(a2)), ("apos", vp))],
                        (b.public(PV_JOURNAL_LEN), b.public(PV_ASSUMPTIONS)))

    def public_interactions(self, public_values, public_data=b""):
        """The verifier receives the claimed COMMIT / COMMIT_DEFERRED_PROOFS words."""
        out = []
        for kind, flag, pv in ((0, PV_HAS_COMMIT, PV_COMMIT), (1, PV_HAS_DEFERRED, PV_DEFERRED)):
            for index in range(8):
                w = [int(public_values[pv[4 * index + i]]) for i in range(4)]
                out.append((buses.COMMIT, [kind, index, *w], int(public_values[flag]), -1))
        return out


class HintWordsAir(Chip):
    """HINT_READ's destination words: a chain of consecutive keys, each written with a free word."""

    name = "hint words"
    optional = True  # a guest without input leaves the empty table out (stark/optional.py)
    width = HINT_WORDS.width

    def generate(self, w):
        """One row per word a HINT_READ wrote (the executor's syscall events), with what its
        syscall row says about the buffer (pointer, word count, padding)."""
        ev_clk, ev_addr, ev_after, ptr, nw, pad0, pad1 = hint_buffers(w)
        # only the buffer's words (a RISC Zero SYS_WRITE's host reads of its data are not proved)
        mine = (ev_addr >= ptr) & (ev_addr < ptr + 4 * nw)
        ev_clk, ev_addr, ev_after, ptr, nw, pad0, pad1 = (x[mine] for x in (ev_clk, ev_addr, ev_after, ptr, nw, pad0, pad1))
        k = len(ev_clk)
        hw = np.zeros((pad_height(k), HINT_WORDS.width), dtype=np.int64)
        hw[:k, HINT_WORDS.active] = 1
        hw[:k, HINT_WORDS.clk] = ev_clk
        hw[:k, HINT_WORDS.key] = memory_key(ev_addr)
        hw[:k, HINT_WORDS.after] = to_bytes(ev_after)
        last_key = memory_key(ptr) + nw - 1
        hw[:k, HINT_WORDS.last_key], hw[:k, HINT_WORDS.pad0], hw[:k, HINT_WORDS.pad1] = last_key, pad0, pad1
        hw[:k, HINT_WORDS.is_last] = hw[:k, HINT_WORDS.key] == last_key
        hw[:k, HINT_WORDS.inv] = inverse_or_zero(hw[:k, HINT_WORDS.key] - last_key)
        hw[:k, HINT_WORDS.z1], hw[:k, HINT_WORDS.z3] = pad0 & pad1, pad0 | pad1
        w.add_accesses(Access(hw, np.arange(k), hw[:k, HINT_WORDS.key], 4 * ev_clk + 4 + TS_MEM, ev_after,
                              HINT_WORDS.prev_ts, HINT_WORDS.d, HINT_WORDS.before, "hint word"))
        return hw

    def constraints(self, b):
        m = b.main
        col = lambda n: m(getattr(HINT_WORDS, n))  # noqa: E731
        cols = lambda n: [m(i) for i in getattr(HINT_WORDS, n)]  # noqa: E731
        active, clk, key = col("active"), col("clk"), col("key")
        before, after, d = cols("before"), cols("after"), cols("d")
        last_key, pad0, pad1, is_last, z1, z3 = (col(n) for n in ("last_key", "pad0", "pad1", "is_last", "z1", "z3"))
        b.assert_bool(active, "active is boolean")
        b.declare_active(active)
        token = [pad0, pad1, last_key]
        b.receive(buses.HINT_CHAIN, [clk, key, *token], active)
        b.send(buses.HINT_CHAIN, [clk, key + 1, *token], active)
        memory_access(b, key, before, after, col("prev_ts"), d, 4 * clk + (4 + TS_MEM), active, "hint word")
        b.send(buses.BYTE, [R, after[0], after[1], 0, 0], active)  # the input word is free, but bytes
        b.send(buses.BYTE, [R, after[2], after[3], 0, 0], active)
        # the last word's pad bytes are zero: pad = 4·nw − len = pad0 + 2·pad1 bytes at the top,
        # byte j is padding iff j ≥ 4 − pad: byte 3 iff pad ≥ 1 (z3), byte 2 iff pad ≥ 2 (pad1),
        # byte 1 iff pad = 3 (z1)
        b.assert_bool(is_last, "is_last is boolean")
        b.assert_implies_active(is_last, "is_last ⇒ active")
        b.assert_zero(is_last * (key - last_key), "is_last ⇒ key = last_key")
        b.assert_eq((key - last_key) * col("inv"), active - is_last, "key = last_key ⇒ is_last")
        b.assert_eq(z1, pad0 * pad1, "z1 = [pad = 3]")
        b.assert_eq(z3, pad0 + pad1 - z1, "z3 = [pad ≥ 1]")
        for j, z in ((1, z1), (2, pad1), (3, z3)):
            b.assert_zero(is_last * z * after[j], f"HINT_READ pad byte {j} of the last word is 0")


def hint_buffers(w):
    """Per memory event of the ecalls that write hint words — SP1's HINT_READ (this module's
    chip) and RISC Zero's SOFTWARE (syscall_risc0.py; its buffer at a0, a1 words, no pad) —:
    (clk, addr, after, the buffer's pointer, its words nw, pad0, pad1), int64 arrays."""
    from .syscall_risc0 import R0SYS

    sys, ev_clk, ev_addr, _before, ev_after, owner = owned_events(w, SYS.is_hint_read)
    r0, r_clk, r_addr, _rb, r_after, r_owner = owned_events(w, R0SYS.is_software, "syscall risc0")
    ptr = np.concatenate([words([sys[owner, i] for i in SYS.ptr]), words([r0[r_owner, i] for i in R0SYS.b])])
    nw = np.concatenate([sys[owner, SYS.nw], words([r0[r_owner, i] for i in R0SYS.a1])])
    no_pad = np.zeros(len(r_owner), dtype=np.int64)
    pad0, pad1 = np.concatenate([sys[owner, SYS.pad0], no_pad]), np.concatenate([sys[owner, SYS.pad1], no_pad])
    return np.concatenate([ev_clk, r_clk]), np.concatenate([ev_addr, r_addr]), np.concatenate([ev_after, r_after]), ptr, nw, pad0, pad1


class JournalWordsAir(Chip):
    """A journal WRITE's buffer words: read each, emit the bytes that lie in the buffer."""

    name = "journal words"
    optional = True  # a guest that writes no journal leaves the empty table out (stark/optional.py)
    width = JOURNAL_WORDS.width

    def generate(self, w):
        """One row per word a non-empty journal WRITE (fd 3/13) read, with the byte masks of
        the buffer's first and last word and the journal position (jpos) of its syscall row."""
        sys = w.trace_of("syscall")
        journal = (sys[:, SYS.fd3] + sys[:, SYS.fd13]) * sys[:, SYS.nz]
        sys, ev_clk, ev_addr, ev_before, _after, owner = owned_events(w, journal)
        k = len(owner)
        ptr = words([sys[owner, i] for i in SYS.ptr])
        end = ptr + words([sys[owner, i] for i in SYS.a2]) - 1
        jt = np.zeros((pad_height(k), JOURNAL_WORDS.width), dtype=np.int64)
        key = memory_key(ev_addr)
        last_key = memory_key(end & ~3)
        jt[:k, JOURNAL_WORDS.active] = 1
        jt[:k, JOURNAL_WORDS.clk] = ev_clk
        jt[:k, JOURNAL_WORDS.key] = key
        jt[:k, JOURNAL_WORDS.w] = to_bytes(ev_before)
        is_first, is_last = key == memory_key(ptr & ~3), key == last_key
        jt[:k, JOURNAL_WORDS.is_first], jt[:k, JOURNAL_WORDS.is_last] = is_first, is_last
        jt[:k, JOURNAL_WORDS.inv] = inverse_or_zero(key - last_key)
        j = np.arange(4)
        fm = (j[None, :] >= (ptr & 3)[:, None]).astype(np.int64)
        lm = (j[None, :] <= (end & 3)[:, None]).astype(np.int64)
        jt[:k, JOURNAL_WORDS.fm], jt[:k, JOURNAL_WORDS.lm] = fm, lm
        jt[:k, JOURNAL_WORDS.jbase] = (sys[owner, SYS.jpos] - ptr) % P
        jt[:k, JOURNAL_WORDS.last_key] = last_key
        u = np.where(is_first[:, None], fm, 1)
        jt[:k, JOURNAL_WORDS.u] = u
        jt[:k, JOURNAL_WORDS.e] = u * np.where(is_last[:, None], lm, 1)
        w.add_accesses(Access(jt, np.arange(k), key, 4 * ev_clk + 4 + TS_MEM, ev_before,
                              JOURNAL_WORDS.prev_ts, JOURNAL_WORDS.d, None, "journal word"))
        return jt

    def constraints(self, b):
        m = b.main
        col = lambda n: m(getattr(JOURNAL_WORDS, n))  # noqa: E731
        cols = lambda n: [m(i) for i in getattr(JOURNAL_WORDS, n)]  # noqa: E731
        active, clk, key, is_first, is_last = col("active"), col("clk"), col("key"), col("is_first"), col("is_last")
        w, fm, lm, u, e = cols("w"), cols("fm"), cols("lm"), cols("u"), cols("e")
        jbase, last_key = col("jbase"), col("last_key")
        for name in ("active", "is_first", "is_last"):
            b.assert_bool(col(name), f"{name} is boolean")
        b.declare_active(active)
        b.assert_implies_active(is_first, "is_first ⇒ active")  # a padding row starts no chain
        b.assert_implies_active(is_last, "is_last ⇒ active")
        token = [jbase, *fm, *lm, last_key]
        b.receive(buses.JOURNAL_CHAIN, [clk, key, is_first, *token], active)
        b.send(buses.JOURNAL_CHAIN, [clk, key + 1, 0, *token], active)
        b.assert_zero(is_last * (key - last_key), "is_last ⇒ key = last_key")
        b.assert_eq((key - last_key) * col("inv"), active - is_last, "key = last_key ⇒ is_last")
        _read(b, key, w, col("prev_ts"), cols("d"), 4 * clk + (4 + TS_MEM), active, "journal word")
        for j in range(4):
            b.assert_eq(u[j], active - is_first + is_first * fm[j], f"u{j} = is_first ? fm{j} : 1")
            b.assert_eq(e[j], u[j] * (1 - is_last + is_last * lm[j]), f"e{j} = u{j}·(is_last ? lm{j} : 1)")
            # byte j of this word is at address 4·(key − 32) + j, i.e. journal position jbase + address
            b.send(buses.JOURNAL, [jbase + 4 * (key - MEM_KEY_BASE) + j, w[j]], active * e[j])

    def public_interactions(self, public_values, public_data=b""):
        """The verifier receives (i, journal[i]) for every byte of the claimed journal (the
        public data's journal part): one entry with two columns, positions 0..n−1 and the bytes."""
        journal = np.frombuffer(MachinePublicData.decode(public_data).journal, dtype=np.uint8)
        if not len(journal):
            return []
        # uint32 positions (a journal is < 2^28 bytes: receipt.MAX_JOURNAL_BYTES) and the bytes themselves, not int64
        # copies: the verifier keeps them as columns (logup.PublicColumns), 4 bytes per journal byte
        return [(buses.JOURNAL, [np.arange(len(journal), dtype=np.uint32), journal], 1, -1)]


def register_events(clk, events):
    """The register values the executor logged at the ecalls ``clk`` (sorted): (value, after),
    where value(r) is register r's value at each ecall (its first logged read) and after(r) its
    value after the ecall's events (the last one logged), 0 where the ecall logged none."""
    n = len(clk)
    ev_clk, ev_addr = events["sys_clk"].astype(np.int64), events["sys_addr"].astype(np.int64)
    row_of_event = np.minimum(np.searchsorted(clk, ev_clk), max(n - 1, 0))  # the ecall at each event's clk
    ours = (clk[row_of_event] == ev_clk) if n else np.zeros(len(ev_clk), dtype=bool)

    def value(index):
        out = np.zeros(n, dtype=np.int64)
        sel = np.flatnonzero(ours & (ev_addr == index))[::-1]  # reversed: the first event's value lands last
        out[row_of_event[sel]] = events["sys_before"].astype(np.int64)[sel]
        return out

    def after(index):
        out = np.zeros(n, dtype=np.int64)
        sel = np.flatnonzero(ours & (ev_addr == index))
        out[row_of_event[sel]] = events["sys_after"].astype(np.int64)[sel]  # the last event's value lands last
        return out

    return value, after


def syscall_rows(clk, code, a0, ret, events, start_clk: int, end_clk: int, journal_start: int = 0,
                 assumptions_start: int = 0):
    """The syscall chip's rows for the SP1 ecalls the CPU sends (every one but HALT).

    clk, code, a0, ret: per ecall (in clk order); events: Trace.syscall_events;
    start_clk, end_clk: the segment's clocks (its first row's clk, one past its last row's);
    journal_start, assumptions_start: journal bytes written and VERIFY_SP1_PROOF calls made
    before (earlier segments of a continuation).
    Returns (table, the register accesses as Access groups)."""
    n = len(clk)
    unknown = sorted(set(code.tolist()) - set(CODES.values()) - set(PRECOMPILE_CODES))
    if unknown:
        raise UnsupportedProgram(f"syscall code(s) {', '.join(hex(c) for c in unknown)} cannot be proved")
    register_value, _after = register_events(clk, events)

    t = np.zeros((pad_height(n), SYS.width), dtype=np.int64)
    is_ = {k: code == CODES[k] for k in KINDS}
    for k in KINDS:
        t[:n, getattr(SYS, f"is_{k}")] = is_[k]
    pre = np.isin(code, list(PRECOMPILE_CODES))
    t[:n, SYS.is_precompile] = pre
    t[:n, SYS.pc] = to_bytes(np.where(pre, code, 0))
    t[:n, SYS.clk] = clk
    t[: n - 1, SYS.clk_d] = to_bytes(np.diff(clk) - 1)[:, :3] if n > 1 else 0
    t[:n, SYS.since] = to_bytes(clk - start_clk)[:, :3]
    t[:n, SYS.until] = to_bytes(end_clk - 1 - clk)[:, :3]
    t[:n, SYS.b], t[:n, SYS.c] = to_bytes(a0), to_bytes(ret)
    vp = is_["verify"]
    reads_a1 = is_["write"] | is_["hint_read"] | is_["commit"] | is_["commit_deferred"] | vp | pre
    a1 = np.where(reads_a1, register_value(A1), 0)
    a2 = np.where(is_["write"], register_value(A2), 0)
    t[:n, SYS.a1], t[:n, SYS.a2] = to_bytes(a1), to_bytes(a2)
    fd = np.where(is_["write"], a0, 0)
    bad_fd = is_["write"] & ~np.isin(fd, FDS)
    if bad_fd.any():
        raise UnsupportedProgram(f"WRITE to fd {int(fd[bad_fd][0])} cannot be proved (provable fds: 1, 2, 3, 13)")
    for f in FDS:
        t[:n, getattr(SYS, f"fd{f}")] = is_["write"] & (fd == f)
    journal = is_["write"] & np.isin(fd, (3, 13))
    if np.any(is_["write"] & (a2 >= 1 << 24)):
        raise UnsupportedProgram("a WRITE of 2^24 bytes or more cannot be proved (the AIR bounds its length below 2^24)")
    ptr = np.where(is_["hint_read"] | vp, a0, np.where(is_["write"], a1, 0))
    t[:n, SYS.ptr] = to_bytes(ptr)
    uses_ptr = is_["hint_read"] | is_["write"] | vp
    t[np.flatnonzero(uses_ptr), np.asarray(SYS.oh)[(ptr & 3)[uses_ptr]]] = 1
    t[:n, SYS.pq] = (ptr & 0xFF) >> 2
    nw = np.where(is_["hint_read"], (a1 + 3) >> 2, 0)
    pad = np.where(is_["hint_read"], 4 * nw - a1, 0)
    t[:n, SYS.nw], t[:n, SYS.pad0], t[:n, SYS.pad1] = nw, pad & 1, pad >> 1
    length = np.where(journal, a2, 0)  # bytes each row appends to the journal
    wnz = is_["write"] & (a2 > 0)      # non-empty WRITE (any fd): its buffer is bounds-checked
    end = ptr + np.where(is_["write"], a2, 0) - 1
    t[np.flatnonzero(wnz), np.asarray(SYS.lh)[(end & 3)[wnz]]] = 1
    t[:n, SYS.lw] = np.where(wnz, end >> 2, 0)
    t[:n, SYS.span] = to_bytes(np.where(wnz, (end >> 2) - (ptr >> 2), 0))[:, :3]
    len_sum = to_bytes(a2).astype(np.int64).sum(axis=1)
    t[:n, SYS.nz] = len_sum > 0
    t[:n, SYS.len_inv] = inverse_or_zero(len_sum)
    # jpos: the journal bytes before each row; the padding rows keep the count after the last one
    row_or_end = np.minimum(np.arange(len(t)), n)
    t[:, SYS.jpos] = journal_start + np.concatenate([[0], np.cumsum(length)])[row_or_end]
    high = to_bytes(ptr)[:, 1:].astype(np.int64).sum(axis=1)
    t[:n, SYS.phz] = high != 0
    t[:n, SYS.phinv] = inverse_or_zero(high)
    uses = is_["hint_read"] | wnz | vp
    end_key = np.where(is_["hint_read"], memory_key(ptr) + nw, memory_key(np.maximum(end, 0)) + 1)
    end_key = np.where(vp, memory_key(ptr) + 8, end_key)
    t[:n, SYS.room] = to_bytes(np.where(uses, KEY_END - end_key, 0))
    if np.any(a0[is_["commit"] | is_["commit_deferred"]] >= 8):
        raise UnsupportedProgram("COMMIT index ≥ 8")

    # VERIFY_SP1_PROOF: a1's bounds (its own columns), and apos = the calls before each row
    t[:n, SYS.a1q] = np.where(vp, (a1 & 0xFF) >> 2, 0)
    a1_high = to_bytes(a1)[:, 1:].astype(np.int64).sum(axis=1)
    t[:n, SYS.a1hz] = a1_high != 0
    t[:n, SYS.a1hinv] = inverse_or_zero(a1_high)
    t[:n, SYS.a1room] = to_bytes(np.where(vp, KEY_END - memory_key(a1) - 8, 0))
    t[:, SYS.apos] = assumptions_start + np.concatenate([[0], np.cumsum(vp)])[row_or_end]
    ts = 4 * clk + 4 + TS_MEM
    keeps = is_["hint_len"] | is_["hint_read"] | is_["enter"]  # the hint promise's cells (constraints)
    at, m = np.flatnonzero(keeps), int(keeps.sum())
    groups = [
        Access(t, np.flatnonzero(reads_a1), np.full(int(reads_a1.sum()), A1), ts[reads_a1], a1[reads_a1],
               SYS.a1_prev_ts, SYS.a1_d, None, "a1"),
        Access(t, np.flatnonzero(is_["write"]), np.full(int(is_["write"].sum()), A2),
               ts[is_["write"]], a2[is_["write"]], SYS.a2_prev_ts, SYS.a2_d, None, "a2"),
        # both fill the shared prev_ts and difference (the same: both cells are accessed on these
        # rows only); the promise's previous value gives hp (its byte 0: the others are 0), the
        # length's hl
        Access(t, at, np.full(m, HINT_PROMISE_KEY), ts[keeps], is_["hint_len"][keeps].astype(np.int64),
               SYS.hint_prev_ts, SYS.hint_d, [SYS.hp], "hint promise"),
        Access(t, at, np.full(m, HINT_LENGTH_KEY), ts[keeps], np.where(is_["hint_len"], ret, 0)[keeps],
               SYS.hint_prev_ts, SYS.hint_d, list(SYS.hl), "hint length"),
    ]
    return t, groups


def owned_events(w, selector, chip: str = "syscall"):
    """The memory-word events (the executor's syscall events at addresses ≥ 0x20) of the rows
    ``selector`` picks (a column index, or a 0/1 value per row) of a syscall chip (``chip``:
    "syscall" or "syscall risc0"): (that chip's trace, clk, addr, before, after, the owning row)
    per event, in the order they were logged."""
    air = next(a for a in w.airs if a.name == chip)
    sys = w.trace(air)
    pick = sys[:, selector] if isinstance(selector, int) else np.asarray(selector)
    events = w.execution.trace.syscall_events
    ev_clk, ev_addr = events["sys_clk"].astype(np.int64), events["sys_addr"].astype(np.int64)
    n = int(air.active_rows(sys).sum())
    row = np.minimum(np.searchsorted(sys[:n, air.clk_column], ev_clk), len(sys) - 1)
    sel = (ev_addr >= 0x20) & (pick[row] == 1) & (sys[row, air.clk_column] == ev_clk) if n else np.zeros(len(ev_clk), dtype=bool)
    return (sys, ev_clk[sel], ev_addr[sel], events["sys_before"].astype(np.int64)[sel],
            events["sys_after"].astype(np.int64)[sel], row[sel])
