"""The assumption-word chip: the 16 words each VERIFY_SP1_PROOF asserts, read and made public.

VERIFY_SP1_PROOF (0x1B) asserts "a receipt exists for image ID X whose journal has SHA-256 D":
a0 → X (8 words), a1 → D (8 words). The syscall chip (syscall.py) checks the pointers and starts
two chains on the ``assumption chain`` bus; this chip has one row per word:

    receive (clk, j, key, apos, h, out)   send (clk, j + 1, key + 1, apos, h, out)  — the chain
    read memory word ``key`` at ts = 4·clk + 5 + h                           — offline memory checking
    send (apos, j, w0..w3) on the public ``assumption`` bus

j = 0..7 are the image ID's words (h = 0, read at 4·clk + 5), j = 8..15 the digest's (h = 1, at
4·clk + 6: the two buffers may overlap, and a key read twice needs two timestamps). apos is the
assumption's index in the run (the syscall chip counts 0x1B rows in clk order). The verifier
receives (i, j, word j of assumption i) for every assumption of the claim, so the bus balances
only if the claim lists exactly the assertions the guest made, in order: none added, dropped,
changed or swapped (docs/machine.md §7).

The same rows read RISC Zero HALT's output digest (out = 1; syscall_risc0.py): one chain (clk, 0..8,
key(a1), apos = 0, h = 1, out = 1) whose word j goes to the ``commit`` bus as COMMIT word j instead — the verifier
receives RISC Zero's output digest of the claimed journal there (statement.py).

Why a chain fixes the words: every row moves (j, key) to (j + 1, key + 1), so key − j is constant
along a chain; the chain from (0, key(a0)) must end at (8, key(a0) + 8), hence reads the 8 words
from a0 with j = 0..7 — and likewise from (8, key(a1)) to (16, key(a1) + 8). j only grows, so no
cycle of rows can balance itself, and clk (one syscall row per cycle) keeps calls apart.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConstraintNotSatisfied
from . import buses
from .chip import Chip
from .accesses import Access
from .cpu import memory_access
from .layout import Layout
from .memory import memory_key
from .program_table import pad_height, to_bytes
from .public_data import MachinePublicData

ASSUMPTION_WORDS = Layout("active clk j key apos h w:4 prev_ts d:4 out")
WORDS_PER_ASSUMPTION = 16
R = buses.TAG_RANGE


def assumption_ts(clk, h):
    """The timestamp of an assumption word's read: 4·clk + 5 + h (image ID h = 0, digest h = 1)."""
    return 4 * clk + 5 + h


class AssumptionWordsAir(Chip):
    """VERIFY_SP1_PROOF's words: two 8-word chains per call, each word read and sent to the verifier."""

    name = "assumption words"
    optional = True  # only composing guests call VERIFY_SP1_PROOF (stark/optional.py)
    width = ASSUMPTION_WORDS.width

    def generate(self, w):
        """Sixteen rows per VERIFY_SP1_PROOF: the words it read (the executor's syscall events),
        tagged with its syscall row's assumption index (apos)."""
        from .syscall import SYS, owned_events
        from .syscall_risc0 import R0SYS

        sys, ev_clk, ev_addr, ev_before, _after, owner = owned_events(w, SYS.is_verify)
        t, group = assumption_word_rows(owner, ev_clk, ev_addr, ev_before, sys[:, SYS.apos])
        # RISC Zero HALT's output digest (syscall_risc0.py): 8 words, j = 0..7, h = 1, out = 1, apos = 0
        _, d_clk, d_addr, d_before, _after, d_owner = owned_events(w, R0SYS.is_halt, "syscall risc0")
        if len(d_owner):
            if len(d_owner) != 8:
                raise ConstraintNotSatisfied("the RISC Zero HALT did not log exactly 8 digest word reads (a bug: report it)")
            k = len(owner)
            rows = np.zeros((8, ASSUMPTION_WORDS.width), dtype=np.int64)
            rows[:, ASSUMPTION_WORDS.active] = rows[:, ASSUMPTION_WORDS.h] = rows[:, ASSUMPTION_WORDS.out] = 1
            rows[:, ASSUMPTION_WORDS.clk], rows[:, ASSUMPTION_WORDS.j] = d_clk, np.arange(8)
            rows[:, ASSUMPTION_WORDS.key] = memory_key(d_addr)
            rows[:, ASSUMPTION_WORDS.w] = to_bytes(d_before)
            t = np.zeros((pad_height(k + 8), ASSUMPTION_WORDS.width), dtype=np.int64)
            t[:k] = group.table[:k]
            t[k:k + 8] = rows
            group = Access(t, np.arange(k + 8), memory_key(np.concatenate([ev_addr, d_addr])),
                           assumption_ts(np.concatenate([ev_clk, d_clk]), t[:k + 8, ASSUMPTION_WORDS.h]),
                           np.concatenate([ev_before, d_before]), ASSUMPTION_WORDS.prev_ts, ASSUMPTION_WORDS.d,
                           None, "assumption word")
        w.add_accesses(group)
        return t

    def constraints(self, b):
        m = b.main
        col = lambda n: m(getattr(ASSUMPTION_WORDS, n))  # noqa: E731
        cols = lambda n: [m(i) for i in getattr(ASSUMPTION_WORDS, n)]  # noqa: E731
        active, clk, j, key, apos, h = (col(n) for n in ("active", "clk", "j", "key", "apos", "h"))
        w, d, prev_ts, out = cols("w"), cols("d"), col("prev_ts"), col("out")
        b.assert_bool(active, "active is boolean")
        b.declare_active(active)
        b.assert_bool(h, "h is boolean")
        b.assert_bool(out, "out is boolean")
        b.assert_implies_active(out, "out ⇒ active")
        b.receive(buses.ASSUMPTION_CHAIN, [clk, j, key, apos, h, out], active)
        b.send(buses.ASSUMPTION_CHAIN, [clk, j + 1, key + 1, apos, h, out], active)
        # a memory read at ts (value unchanged): prev_ts < ts by 4 range-checked bytes
        memory_access(b, key, w, w, prev_ts, d, assumption_ts(clk, h), active, "assumption word")
        b.send(buses.ASSUMPTION, [apos, j, *w], active * (1 - out))
        b.send(buses.COMMIT, [0, j, *w], active * out)  # RISC Zero's output digest word j

    def public_interactions(self, public_values, public_data=b""):
        """The verifier receives (i, j, w0..w3) for word j of every claimed assumption i: the
        16 little-endian words of image_id ‖ journal_digest, as one entry with array columns."""
        pairs = MachinePublicData.decode(public_data).assumptions
        if not pairs:
            return []
        n = len(pairs)
        words = np.frombuffer(b"".join(i + d for i, d in pairs), dtype=np.uint8).reshape(n * WORDS_PER_ASSUMPTION, 4)
        # uint32 indices and the words' bytes themselves (views): the verifier keeps them as columns
        # (logup.PublicColumns), no int64 copies per word of a claim
        index = np.repeat(np.arange(n, dtype=np.uint32), WORDS_PER_ASSUMPTION)
        place = np.tile(np.arange(WORDS_PER_ASSUMPTION, dtype=np.uint32), n)
        return [(buses.ASSUMPTION, [index, place, *(words[:, i] for i in range(4))], 1, -1)]


def assumption_word_rows(owner, ev_clk, ev_addr, ev_value, apos_of_row):
    """The assumption-word table from the memory events of the VERIFY_SP1_PROOF ecalls.

    owner: the syscall row of each event (non-decreasing: events are logged in order);
    ev_clk, ev_addr, ev_value: the events; apos_of_row: each syscall row's assumption index.
    Each call logs its 8 image-ID words, then its 8 digest words: j = rank within the call.
    Returns (table, memory Access group)."""
    k = len(owner)
    first = np.searchsorted(owner, owner)  # index of the call's first event
    j = np.arange(k) - first
    if k and (j.max() >= WORDS_PER_ASSUMPTION or np.any(np.bincount(owner)[np.unique(owner)] != WORDS_PER_ASSUMPTION)):
        raise ConstraintNotSatisfied("a VERIFY_SP1_PROOF call did not log exactly 16 word reads (a bug: report it)")
    h = (j >= 8).astype(np.int64)
    t = np.zeros((pad_height(k), ASSUMPTION_WORDS.width), dtype=np.int64)
    key = memory_key(ev_addr)
    t[:k, ASSUMPTION_WORDS.active] = 1
    t[:k, ASSUMPTION_WORDS.clk] = ev_clk
    t[:k, ASSUMPTION_WORDS.j] = j
    t[:k, ASSUMPTION_WORDS.key] = key
    t[:k, ASSUMPTION_WORDS.apos] = apos_of_row[owner]
    t[:k, ASSUMPTION_WORDS.h] = h
    t[:k, ASSUMPTION_WORDS.w] = to_bytes(ev_value)
    group = Access(t, np.arange(k), key, assumption_ts(ev_clk, h), ev_value, ASSUMPTION_WORDS.prev_ts,
                   ASSUMPTION_WORDS.d, None, "assumption word")
    return t, group
