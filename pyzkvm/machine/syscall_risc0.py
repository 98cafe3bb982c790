"""The RISC Zero profile's syscall chip: HALT, SOFTWARE (SYS_READ, SYS_WRITE) and SHA.

syscall risc0 (one row per RISC Zero ecall; an optional table: SP1-profile proofs leave it out)
    receives (clk, 1, is_halt, code, 0, 0, 0, a0 bytes, 0, 0, 0, 0) from the CPU on the ``syscall``
    bus: the profile 1 and the return value 0 are constants (t0 is not written), so an SP1 ecall
    (profile 0, which only the SP1 chip syscall.py receives) can never balance against this chip,
    nor this profile's ecalls against that one. Reads a1 through memory checking at
    ts = 4·clk + 6; then per kind:
      halt      (code 0, is_halt = 1 on the bus) a1 = word-aligned pointer to the 8-word output
                digest in guest memory: a chain of 8 words in the assumption-word chip
                (syscall_verify.py), each sent on the ``commit`` bus as COMMIT word j (the
                verifier's output digest)
      software  (code 2: SYS_READ, SYS_WRITE) a0 = host→guest buffer, a1 = nw, its length in words
                (< 0x78000000): when a1 > 0, a chain of a1 free words from a0 (word-aligned, in
                guest memory) in the hint-word chip; then a0 and a1 are written with free
                (range-checked) words at ts = 4·clk + 7 — the host's answer, as in RISC Zero, where
                the name at a2 and the arguments a3.. only inform the host
      sha       (code 3) reads a2..a4 too, checks the four pointers (out/in state, block 0's
                halves; word_buffer.py) and sends (count, their keys) on ``r0 sha call`` / ``out``
                to the SHA compress chip, which runs the blocks with the extend chip (sha_risc0.py)

The four word-buffer slots (word_buffer.py) are shared by the kinds, one kind per row:
    so  a0: SHA's out state (8 words), SOFTWARE's buffer (nw = a1 words, when a1 > 0)
    si  a1: SHA's in state, HALT's output digest (8 words)
    s1, s2  a2, a3: SHA's block halves, 16·count − 8 words from each (blocks 0..count − 1)
The chip counts nothing (no journal position, no assumption index: this profile binds its journal
through the output digest, statement.py), so its rows need no order and an all-zero table is
valid for every statement (stark/optional.py checks it).
"""

from __future__ import annotations

import numpy as np

from ..errors import UnsupportedProgram
from . import buses
from .accesses import Access
from .chip import Chip
from .cpu import TS_MEM, TS_RD, memory_access, word
from .layout import Layout
from .program_table import inverse_or_zero, pad_height, to_bytes
from .syscall import A0, A1, A2, A3, A4, register_events
from .witness import words
from .word_buffer import buffer_columns, buffer_key, buffer_witness

#: the kinds' codes (t0); their profile on the ``syscall`` bus is statement.PROFILE_IDS["risc0"] = 1
R0_CODES = {"halt": 0x00, "software": 0x02, "sha": 0x03}
R0_KINDS = tuple(R0_CODES)
#: the word-buffer slots: (name, pointer register) — module docstring
SLOTS = (("so", A0), ("si", A1), ("s1", A2), ("s2", A3))
#: the register reads at 4·clk + 6 (a1 on every row, a2..a4 on SHA's) and the SOFTWARE writes at 4·clk + 7
READS = ("a1", "a2", "a3", "a4")
WRITES = ("ra0", "ra1")

R0SYS = Layout(
    " ".join(f"is_{k}" for k in R0_KINDS) + " clk b:4 nz len_inv "
    + " ".join(f"{r}:4 {r}_prev_ts {r}_d:4" for r in READS + WRITES) + " "
    + " ".join(buffer_columns(p) for p, _ in SLOTS)
)

R = buses.TAG_RANGE


class SyscallRisc0Air(Chip):
    """The RISC Zero profile's ecalls: HALT's output digest, SOFTWARE's host answer, SHA's call."""

    name = "syscall risc0"
    optional = True  # only RISC Zero-profile programs have its ecalls (stark/optional.py)
    width = R0SYS.width
    clk_column = R0SYS.clk

    def generate(self, w):
        """One row per ecall the CPU sends with profile 1, its register values from the
        executor's syscall events; files its register accesses."""
        fields = w.received(buses.SYSCALL, self)
        if not len(fields) or not len(fields[0]):
            return np.zeros((pad_height(0), R0SYS.width), dtype=np.int64)
        mine = np.flatnonzero(fields[1] == 1)
        clk, code, a0 = fields[0][mine], words([f[mine] for f in fields[3:7]]), words([f[mine] for f in fields[7:11]])
        t, groups = risc0_rows(clk, code, a0, w.execution.trace.syscall_events)
        w.add_accesses(*groups)
        return t

    @staticmethod
    def active_rows(t) -> np.ndarray:
        """Per row: 1 for an ecall, 0 for padding (the witness side's count of real rows)."""
        return sum(t[:, getattr(R0SYS, f"is_{k}")] for k in R0_KINDS)

    def constraints(self, b):
        m = b.main
        col = lambda n: m(getattr(R0SYS, n))  # noqa: E731
        cols = lambda n: [m(i) for i in getattr(R0SYS, n)]  # noqa: E731
        halt, sw, sha = (col(f"is_{k}") for k in R0_KINDS)
        clk, a0, a1, a2, a3, a4 = col("clk"), cols("b"), cols("a1"), cols("a2"), cols("a3"), cols("a4")
        active = b.declare_active(halt + sw + sha)
        for name in [f"is_{k}" for k in R0_KINDS] + ["nz"]:
            b.assert_bool(col(name), f"{name} is boolean")
        b.assert_bool(active, "one ecall per row")
        # the CPU's ecall: profile 1, HALT flag, t0 = the kind's code, a0, and no return value
        code = sum(R0_CODES[k] * col(f"is_{k}") for k in R0_KINDS)
        b.receive(buses.SYSCALL, [clk, 1, halt, code, 0, 0, 0, *a0, 0, 0, 0, 0], active)

        # register reads at 4·clk + 6: a1 on every row, a2..a4 on SHA's; unread ones stay 0
        ts = 4 * clk + (4 + TS_MEM)
        for r, reg, mult in (("a1", A1, active), ("a2", A2, sha), ("a3", A3, sha), ("a4", A4, sha)):
            v = cols(r)
            memory_access(b, reg, v, v, col(f"{r}_prev_ts"), cols(f"{r}_d"), ts, mult, r)
            if r != "a1":
                for i in range(4):
                    b.assert_zero((1 - sha) * v[i], f"{r} unused ⇒ 0 (byte {i})")

        # SOFTWARE's word count nw = a1 (< 0x78000000, so word(a1) is the integer), and
        # nz = [a1 ≠ 0]: the executor checks the buffer only when it writes words
        nw, nz = word(a1), col("nz")
        b.send(buses.BYTE, [R, a1[3] + 0x88, 0, 0, 0], sw)  # a1 < 0x78000000
        len_sum = sw * (a1[0] + a1[1] + a1[2] + a1[3])
        b.assert_zero((1 - nz) * len_sum, "nz = 0 ⇒ SOFTWARE's a1 = 0")
        b.assert_eq(len_sum * col("len_inv"), nz, "SOFTWARE's a1 ≠ 0 ⇒ nz (else nz = 0)")

        # the four word buffers (word_buffer.py): aligned, in guest memory, n words long (so's
        # check has degree 4, the chip's degree: LogUp groups its 60 interactions by 4)
        count = word(a4)
        b.assert_zero(sha * a4[3], "RISC Zero SHA: count < 2^24 (16·count − 8 exact)")
        slot = {"so": (a0, 8 * sha + sw * nw, sha + sw * nz), "si": (a1, 8, sha + halt),
                "s1": (a2, 16 * count - 8, sha), "s2": (a3, 16 * count - 8, sha)}
        keys = {}
        for p, (ptr, n, uses) in slot.items():
            keys[p] = buffer_key(b, ptr, col(f"{p}q"), cols(f"{p}lo"), cols(f"{p}room"), n, uses, f"RISC Zero {p}")
            for x in [col(f"{p}q"), *cols(f"{p}lo"), *cols(f"{p}room")]:
                b.assert_zero((1 - uses) * x, f"buffer columns {p} are 0 when unused")

        # HALT: the output digest's 8 words j = 0..7 at a1, read at 4·clk + 6 (h = 1) and sent as
        # COMMIT words (out = 1) by the assumption-word chip: the verifier's output digest
        b.send(buses.ASSUMPTION_CHAIN, [clk, 0, keys["si"], 0, 1, 1], halt)
        b.receive(buses.ASSUMPTION_CHAIN, [clk, 8, keys["si"] + 8, 0, 1, 1], halt)

        # SOFTWARE: nw free words from a0 in the hint-word chip (nw = 0: the two cancel; no pad),
        # then the host's answer in a0 and a1 (free words, range-checked bytes), written after the
        # CPU read a0 (4·clk + 5) and this row read a1 (4·clk + 6)
        token = [0, 0, keys["so"] + nw - 1]
        b.send(buses.HINT_CHAIN, [clk, keys["so"], *token], sw)
        b.receive(buses.HINT_CHAIN, [clk, keys["so"] + nw, *token], sw)
        ts_w = 4 * clk + (4 + TS_RD)
        for r, reg, before in (("ra0", A0, a0), ("ra1", A1, a1)):
            v = cols(r)
            memory_access(b, reg, before, v, col(f"{r}_prev_ts"), cols(f"{r}_d"), ts_w, sw, f"SOFTWARE {r[1:]}")
            b.send(buses.BYTE, [R, v[0], v[1], 0, 0], sw)
            b.send(buses.BYTE, [R, v[2], v[3], 0, 0], sw)
            for i in range(4):
                b.assert_zero((1 - sw) * v[i], f"{r} unused ⇒ 0 (byte {i})")

        # SHA: hand the call to the SHA chips as memory keys (sha_compress.py runs the blocks;
        # the last block receives kout on ``r0 sha out``)
        b.send(buses.R0_SHA_CALL, [clk, count, keys["si"], keys["s1"], keys["s2"]], sha)
        b.send(buses.R0_SHA_OUT, [clk, keys["so"]], sha)


def risc0_rows(clk, code, a0, events):
    """The RISC Zero chip's rows for the profile-1 ecalls (clk, code = t0, a0 per ecall, in clk
    order; events: Trace.syscall_events). Refuses what the AIR does not cover (the executor runs
    it): an unknown code; a SHA pointer not word-aligned, count 0 or ≥ 2^24, and a SHA call whose
    in state and blocks share a word (each is read once per call).
    Returns (table, the register accesses as Access groups)."""
    n = len(clk)
    unknown = sorted(set(code.tolist()) - set(R0_CODES.values()))
    if unknown:
        raise UnsupportedProgram(f"RISC Zero syscall code(s) {', '.join(hex(c) for c in unknown)} cannot be proved")
    value, after = register_events(clk, events)
    is_ = {k: code == c for k, c in R0_CODES.items()}
    halt, sw, sha = is_["halt"], is_["software"], is_["sha"]
    reg = {"a1": value(A1), "a2": np.where(sha, value(A2), 0), "a3": np.where(sha, value(A3), 0),
           "a4": np.where(sha, value(A4), 0)}
    a1, a2, a3, count = reg["a1"], reg["a2"], reg["a3"], reg["a4"]
    _check_sha(a0[sha], a1[sha], a2[sha], a3[sha], count[sha])
    t = np.zeros((pad_height(n), R0SYS.width), dtype=np.int64)
    for k in R0_KINDS:
        t[:n, getattr(R0SYS, f"is_{k}")] = is_[k]
    t[:n, R0SYS.clk], t[:n, R0SYS.b] = clk, to_bytes(a0)
    for r, v in reg.items():
        t[:n, getattr(R0SYS, r)] = to_bytes(v)
    nz = sw & (a1 > 0)
    t[:n, R0SYS.nz] = nz
    t[:n, R0SYS.len_inv] = inverse_or_zero(np.where(sw, to_bytes(a1).astype(np.int64).sum(axis=1), 0))
    n_words = {"so": np.where(sha, 8, a1), "si": np.full(n, 8), "s1": 16 * count - 8, "s2": 16 * count - 8}
    uses = {"so": sha | nz, "si": sha | halt, "s1": sha, "s2": sha}
    for p, r in SLOTS:
        rows = np.flatnonzero(uses[p])
        ptr = a0 if r == A0 else reg[f"a{r - A0}"]
        buffer_witness(t, rows, ptr[rows], n_words[p][rows], getattr(R0SYS, f"{p}q"), getattr(R0SYS, f"{p}lo"),
                       getattr(R0SYS, f"{p}room"))
    # SOFTWARE: the registers' values after the call (the executor's last event on each)
    ra0, ra1 = after(A0), after(A1)
    t[:n, R0SYS.ra0], t[:n, R0SYS.ra1] = to_bytes(np.where(sw, ra0, 0)), to_bytes(np.where(sw, ra1, 0))
    ts = 4 * clk + 4 + TS_MEM
    groups = []
    for r, reg_index, sel in (("a1", A1, np.ones(n, dtype=bool)), ("a2", A2, sha), ("a3", A3, sha), ("a4", A4, sha)):
        rows = np.flatnonzero(sel)
        groups.append(Access(t, rows, np.full(len(rows), reg_index), ts[rows], reg[r][rows],
                             getattr(R0SYS, f"{r}_prev_ts"), getattr(R0SYS, f"{r}_d"), None, r))
    sw_rows = np.flatnonzero(sw)
    ts_w = 4 * clk[sw_rows] + 4 + TS_RD
    for r, reg_index, new, old in (("ra0", A0, ra0, a0), ("ra1", A1, ra1, a1)):
        groups.append(Access(t, sw_rows, np.full(len(sw_rows), reg_index), ts_w, new[sw_rows],
                             getattr(R0SYS, f"{r}_prev_ts"), getattr(R0SYS, f"{r}_d"), R0SYS.b if r == "ra0" else R0SYS.a1,
                             f"SOFTWARE {r[1:]}", expected_before=old[sw_rows]))
    return t, groups


def _check_sha(a0, a1, a2, a3, count) -> None:
    """Refuse the RISC Zero SHA calls (their a0..a4) the AIR does not cover (risc0_rows)."""
    if not len(a0):
        return
    if np.any((a0 | a1 | a2 | a3) & 3):
        raise UnsupportedProgram("a RISC Zero SHA ecall with a state or block pointer that is not word-aligned "
                                 "cannot be proved (the SHA chips read whole words): align the buffers to 4 bytes")
    if np.any((count == 0) | (count >= 1 << 24)):
        raise UnsupportedProgram("a RISC Zero SHA ecall with count 0 (or 2^24 blocks or more) cannot be proved: "
                                 "skip the call when there is no block")
    for i, k in enumerate(count.tolist()):  # the words read at the call's timestamp: each key once
        block = np.arange(k)[:, None] * 64 + np.arange(0, 32, 4)
        read = np.concatenate([a1[i] + np.arange(0, 32, 4), (a2[i] + block).ravel(), (a3[i] + block).ravel()])
        if len(np.unique(read)) != len(read):
            raise UnsupportedProgram("a RISC Zero SHA ecall whose in state and blocks overlap cannot be proved "
                                     "(each word is read once per call): use separate buffers")
