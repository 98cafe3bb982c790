"""Memory chips: the initial and final state of every register and memory word.

Keys. Registers and memory share one key space so one bus checks both:
    register x_r          key = r                       (0 ≤ r < 32)
    memory word at addr   key = 32 + addr/4             (addr < 0x78000000, so 32 ≤ key < 2^29)

Offline memory checking (the argument, docs/machine.md §4). Every access at timestamp ts to
key k receives (k, value_before, prev_ts) and sends (k, value_after, ts), after proving
prev_ts < ts. The boundary chip sends (k, init_k, 0) once per key and receives
(k, final_k, final_ts) once per key. In a continuation (docs/continuations.md) the accesses of
all segments form one argument on the global clock, and the boundary and image live in the
last segment only (the one whose HALTS public value is 1). The ``memory`` bus balances iff, for every key, the
accesses form one chain from the initial to the final state in which each access consumes
exactly the (value, ts) the previous one produced — i.e. every read returns the last write.

boundary (main): is_real key kb0..3 dk0..3 in_image init0..3 final0..3 final_ts
    one row per key ever touched, plus every register and every image word, sorted by key:
    - key = Σ kb_i·256^i with bytes kb_i and kb3 < 32        (key < 2^29)
    - key' − key − 1 = Σ dk_i·256^i, bytes, dk3 < 32          (strictly increasing: keys distinct)
    - in_image rows take init from the image chip (image bus); other rows init = 0
image (preprocessed): key w0..w3 is_word — sends (key, w) once per ELF word (multiplicity fixed
    by the verifying key), so every image word is received by exactly one boundary row, and
    since keys are distinct no other row can initialise that word to anything else.
"""

from __future__ import annotations

import numpy as np

from . import buses
from .chip import Chip
from .cpu import MEM_KEY_BASE, word
from .layout import Layout
from .program_table import pad_height, to_bytes
from .statement import PV_HALTS

N_REGISTERS = 32

BOUNDARY = Layout("is_real key kb:4 dk:4 in_image init:4 final:4 final_ts")
IMAGE = Layout("key w:4 is_word")


def memory_key(addr):
    """The bus key of the memory word at byte address addr (word-aligned)."""
    return MEM_KEY_BASE + (np.asarray(addr, dtype=np.int64) >> 2)


class ImageTable:
    """The ELF's initial memory as (key, word) rows, sorted by key: its **non-zero** words only.

    A zero word need not be a row: the boundary chip sets init = 0 for every key off the image
    (``init = 0 off the image``), and every image row must be received by a boundary row with
    in_image = 1, so "absent" and "present with value 0" are the same initial memory. Leaving
    zeros out keeps a large zero-fill (.bss) from becoming a tall preprocessed table (an image
    ID, a setup and a boundary row per zero word: docs/limits.md)."""

    def __init__(self, program):
        addrs, words = program.image_words()
        nonzero = words != 0
        self.keys = memory_key(addrs[nonzero])
        self.words = words[nonzero].astype(np.int64)

    def preprocessed_trace(self) -> np.ndarray:
        out = np.zeros((pad_height(len(self.keys)), IMAGE.width), dtype=np.uint32)
        out[: len(self.keys), IMAGE.key] = self.keys
        out[: len(self.keys), IMAGE.w] = to_bytes(self.words)
        out[: len(self.keys), IMAGE.is_word] = 1
        return out


class ImageAir(Chip):
    name = "memory image"
    width = 1  # unused main column (every table has a main trace); constrained to 0
    preprocessed_width = IMAGE.width

    def __init__(self, table: ImageTable | None):
        self.table = table

    @classmethod
    def for_program(cls, program, image):
        return cls(image)

    def preprocessed_trace(self):
        return self.table.preprocessed_trace()

    def generate(self, w):
        return np.zeros((pad_height(len(self.table.keys)), 1), dtype=np.int64)

    def constraints(self, b):
        b.assert_zero(b.main(0), "the image table has no witness")
        is_word = b.prep(IMAGE.is_word)
        b.assert_bool(is_word, "is_word is boolean")
        b.declare_active(is_word)
        # sent once per run: by the segment that holds the boundary (the one that HALTS)
        b.send(buses.IMAGE, [b.prep(IMAGE.key), *[b.prep(i) for i in IMAGE.w]], is_word * b.public(PV_HALTS))


class BoundaryAir(Chip):
    """Initial and final value of every touched key, keys sorted and distinct."""

    name = "memory boundary"
    width = BOUNDARY.width

    def generate(self, w):
        """Every register, every image word and every key the run touched, sorted, with its
        initial and final value: once per run, in the segment that halts, from the whole run's
        last accesses (w.memory_after); the other segments have no rows."""
        if not w.execution.halted:
            return np.zeros((pad_height(0), BOUNDARY.width), dtype=np.int64)
        after = w.memory_after()
        return boundary_rows(w.image, after.keys, after.ts, after.values)

    def constraints(self, b):
        m = b.main
        is_real, key, in_image = m(BOUNDARY.is_real), m(BOUNDARY.key), m(BOUNDARY.in_image)
        kb, dk, init, final = ([m(i) for i in getattr(BOUNDARY, n)] for n in ("kb", "dk", "init", "final"))
        b.assert_bool(is_real, "is_real is boolean")
        b.declare_active(is_real)
        b.assert_bool(in_image, "in_image is boolean")
        b.assert_zero(in_image * (1 - is_real), "image rows are real")
        # one boundary per run, so each key opens exactly once: only the segment that HALTS has rows
        b.assert_zero(is_real * (1 - b.public(PV_HALTS)), "boundary rows only in the segment that halts")
        b.when_transition().assert_zero((1 - is_real) * b.main_next(BOUNDARY.is_real), "real rows form a prefix")

        # key < 2^29: bytes with kb3 < 32 (8·kb3 is a byte)
        b.assert_eq(key, word(kb), "key = Σ kb_i·256^i")
        b.send(buses.BYTE, [buses.TAG_RANGE, kb[0], kb[1], 0, 0], is_real)
        b.send(buses.BYTE, [buses.TAG_RANGE, kb[2], kb[3], 0, 0], is_real)
        b.send(buses.BYTE, [buses.TAG_RANGE, 8 * kb[3], 0, 0, 0], is_real)
        # sorted, distinct: key' = key + 1 + dk with dk < 2^29 (so key + 1 + dk < 2^30 < p: no wrap)
        nreal = is_real * b.main_next(BOUNDARY.is_real)  # this row and the next are real
        b.when_transition().assert_zero(nreal * (b.main_next(BOUNDARY.key) - key - 1 - word(dk)),
                                        "keys strictly increase (key' − key − 1 = dk)")
        b.send(buses.BYTE, [buses.TAG_RANGE, dk[0], dk[1], 0, 0], nreal)
        b.send(buses.BYTE, [buses.TAG_RANGE, dk[2], dk[3], 0, 0], nreal)
        b.send(buses.BYTE, [buses.TAG_RANGE, 8 * dk[3], 0, 0, 0], nreal)

        # initial value: the image word, or 0 off the image
        for i in range(4):
            b.assert_zero((1 - in_image) * init[i], f"init = 0 off the image (byte {i})")
        b.receive(buses.IMAGE, [key, *init], is_real * in_image)
        # open each key's chain at ts 0 and close it at its last access
        b.send(buses.MEMORY, [key, *init, 0], is_real)
        b.receive(buses.MEMORY, [key, *final, m(BOUNDARY.final_ts)], is_real)


def boundary_rows(image, k_s, t_s, v_s):
    """Boundary rows from the last access of every key (sorted by key)."""
    keys = np.union1d(np.union1d(np.arange(N_REGISTERS), image.keys), k_s)
    nb = len(keys)
    t = np.zeros((pad_height(nb), BOUNDARY.width), dtype=np.int64)
    t[:nb, BOUNDARY.is_real] = 1
    t[:nb, BOUNDARY.key] = keys
    t[:nb, BOUNDARY.kb] = to_bytes(keys)
    t[: nb - 1, BOUNDARY.dk] = to_bytes(np.diff(keys) - 1)
    pos = np.minimum(np.searchsorted(image.keys, keys), len(image.keys) - 1)
    in_image = image.keys[pos] == keys
    init = np.where(in_image, image.words[pos], 0)
    t[:nb, BOUNDARY.in_image] = in_image
    t[:nb, BOUNDARY.init] = to_bytes(init)
    last = np.ones(len(k_s), dtype=bool)  # the last access of each key closes its chain
    last[:-1] = k_s[1:] != k_s[:-1]
    final_val, final_ts = init.copy(), np.zeros(nb, dtype=np.int64)
    where = np.searchsorted(keys, k_s[last])
    final_val[where], final_ts[where] = v_s[last], t_s[last]
    t[:nb, BOUNDARY.final] = to_bytes(final_val)
    t[:nb, BOUNDARY.final_ts] = final_ts
    return t
