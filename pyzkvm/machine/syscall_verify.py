"""The assumption-word chip: the 16 words each VERIFY_SP1_PROOF asserts, read and made public.

VERIFY_SP1_PROOF (0x1B) asserts "a receipt exists for image ID X whose journal has SHA-256 D":
a0 → X (8 words), a1 → D (8 words). The syscall chip (syscall.py) checks the pointers and starts
two chains on the ``assumption chain`` bus; this chip has one row per word:

    receive (clk, j, key, apos, h)   send (clk, j + 1, key + 1, apos, h)       — the chain
    read memory word ``key`` at ts = 4·clk + 5 + h                           — offline memory checking
    send (apos, j, w0..w3) on the public ``assumption`` bus

j = 0..7 are the image ID's words (h = 0, read at 4·clk + 5), j = 8..15 the digest's (h = 1, at
4·clk + 6: the two buffers may overlap, and a key read twice needs two timestamps). apos is the
assumption's index in the run (the syscall chip counts 0x1B rows in clk order). The verifier
receives (i, j, word j of assumption i) for every assumption of the claim, so the bus balances
only if the claim lists exactly the assertions the guest made, in order: none added, dropped,
changed or swapped (docs/machine.md §7).

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

ASSUMPTION_WORDS = Layout("active clk j key apos h w:4 prev_ts d:4")
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

        sys, ev_clk, ev_addr, ev_before, _after, owner = owned_events(w, SYS.is_verify)
        t, group = assumption_word_rows(owner, ev_clk, ev_addr, ev_before, sys[:, SYS.apos])
        w.add_accesses(group)
        return t

    def constraints(self, b):
        m = b.main
        col = lambda n: m(getattr(ASSUMPTION_WORDS, n))  # noqa: E731
        cols = lambda n: [m(i) for i in getattr(ASSUMPTION_WORDS, n)]  # noqa: E731
        active, clk, j, key, apos, h = (col(n) for n in ("active", "clk", "j", "key", "apos", "h"))
        w, d, prev_ts = cols("w"), cols("d"), col("prev_ts")
        b.assert_bool(active, "active is boolean")
        b.declare_active(active)
        b.assert_bool(h, "h is boolean")
        b.receive(buses.ASSUMPTION_CHAIN, [clk, j, key, apos, h], active)
        b.send(buses.ASSUMPTION_CHAIN, [clk, j + 1, key + 1, apos, h], active)
        # a memory read at ts (value unchanged): prev_ts < ts by 4 range-checked bytes
        memory_access(b, key, w, w, prev_ts, d, assumption_ts(clk, h), active, "assumption word")
        b.send(buses.ASSUMPTION, [apos, j, *w], active)

    def public_interactions(self, public_values, public_data=b""):
        """The verifier receives (i, j, w0..w3) for word j of every claimed assumption i: the
        16 little-endian words of image_id ‖ journal_digest, as one entry with array columns."""
        pairs = MachinePublicData.decode(public_data).assumptions
        if not pairs:
            return []
        n = len(pairs)
        words = np.frombuffer(b"".join(i + d for i, d in pairs), dtype=np.uint8).reshape(n * WORDS_PER_ASSUMPTION, 4)
        index = np.repeat(np.arange(n, dtype=np.int64), WORDS_PER_ASSUMPTION)
        place = np.tile(np.arange(WORDS_PER_ASSUMPTION, dtype=np.int64), n)
        return [(buses.ASSUMPTION, [index, place, *(words[:, i].astype(np.int64) for i in range(4))], 1, -1)]


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
