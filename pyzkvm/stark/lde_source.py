"""A committed LDE kept as its polynomials' coefficients and recomputed block by block.

The prover commits each table's main, aux and quotient columns through their low-degree
extension: N = D·2^b rows (D = the committed degree bound, 2^b the blowup), bit-reversed, on
the coset s·K_N (ntt.coset_lde). Kept whole, those LDEs were most of the prover's peak
memory (≈ 10 KB per cycle at 2^18 cycles in hiding mode: bench/results/stark_prove.md,
"Peak memory"). An ``LdeSource`` keeps only the D coefficients per column (1/2^b of the LDE)
and produces the LDE one block of D rows at a time:

    block k = rows k·D … (k+1)·D − 1 of the bit-reversed LDE
            = the columns' values on the coset s·ω_N^rev_b(k)·K_D, bit-reversed over log D bits
            = coset_lde_from_coefficients(coefficients, 0, shift = s·ω_N^rev_b(k))

(rev over log N bits of k·D + p is rev_D(p)·2^b + rev_b(k): ntt.coset_lde's blocks). The
values are exact field elements, so every block is byte-for-byte the rows the whole LDE had.
A source may hash its rows in smaller blocks of B = 2^hash_log rows (hiding mode: f̂ has
n + m_r ≈ D/2 coefficients, so B = D/2): block k is then the polynomials on the coset
s·ω_N^rev_(N/B)(k)·K_B, ntt.coset_evaluations (the coefficients folded to B, one size-B
transform; only the rows a source is told may be nonzero are read: f̂'s n + m_r, the
quotient's B), and the block buffer is half as large (the CPU table's main block at 2^20 cycles:
713 → 356 MB).
Users: the Merkle commitment hashes the rows block by block (``row_digests``, and
``inject_row_digests`` beside a tree's first matrix), the query openings recompute the
blocks their rows fall in (``rows``), the quotient (its own cosets: ntt.coset_evaluations),
the openings at ζ and the DEEP composition read the coefficients directly (prover.py, deep.py).
"""

from __future__ import annotations

import contextlib
import functools
import threading

import numpy as np
from .._jit import inner
from ..lazy_njit import njit

from . import merkle
from .field import P, f_mul, f_pow, root_of_unity
# the NTT's uint32-lane butterflies and Shoup products (ntt.py), for the partial transforms
from .ntt import _P32, _U32, _add, _dif_butterfly, _mul_tw, _shoup, _twiddles, bit_reverse_indices, column_groups, \
    coset_evaluations, coset_lde_from_coefficients, intt, padded_buffer, padded_width
from .pool import parallel_for, threads


class LdeSource:
    """The (D·2^log_blowup, w) bit-reversed LDE on the coset shift·K_N of the polynomials whose
    coefficients are the columns of ``coefficients`` (D, w)."""

    def __init__(self, coefficients: np.ndarray, log_blowup: int, shift: int, hash_log: int | None = None,
                 rows: int | None = None):
        self.coefficients = np.ascontiguousarray(coefficients, dtype=np.uint32)
        self.log_blowup = int(log_blowup)
        self.shift = int(shift) % P
        d, w = self.coefficients.shape
        self.shape = (d << self.log_blowup, w)
        # rows per block that row_digests / inject_row_digests hash (module docstring): D unless smaller
        log_d = d.bit_length() - 1
        self.hash_log = log_d if hash_log is None else min(int(hash_log), log_d)
        # coefficient rows that may be nonzero (hiding mode: f̂'s n + m_r, the quotient's B, of
        # D): the blocks fold and the openings' first layer read only these, the rest are zero
        self.nonzero_rows = d if rows is None else max(0, min(int(rows), d))

    @classmethod
    def from_values(cls, values: np.ndarray, log_blowup: int, shift: int) -> "LdeSource":
        """The LDE of the columns' interpolants through ``values`` (D, w) on K_D, natural order
        (what ntt.coset_lde(values, log_blowup, shift) returns, kept as coefficients)."""
        return cls(intt(values), log_blowup, shift)

    @property
    def block_rows(self) -> int:
        return self.coefficients.shape[0]

    def block_shift(self, k: int, log_blocks: int | None = None) -> int:
        """The coset of block k of 2^log_blocks (default 2^b: blocks of D rows): shift·ω_N^rev(k)."""
        b = self.log_blowup if log_blocks is None else log_blocks
        return _block_shifts(self.shift, self.shape[0].bit_length() - 1, b)[k]

    def block(self, k: int, out: np.ndarray | None = None) -> np.ndarray:
        """Rows k·D … (k+1)·D − 1 of the LDE, (D, w) (written to ``out`` if given)."""
        return coset_lde_from_coefficients(self.coefficients, 0, self.block_shift(k), out=out)

    def hash_block(self, k: int, out: np.ndarray | None = None) -> np.ndarray:
        """Rows k·B … (k+1)·B − 1 of the LDE, B = 2^hash_log (module docstring)."""
        if self.hash_log == self.coefficients.shape[0].bit_length() - 1:
            return self.block(k, out)
        log_blocks = self.shape[0].bit_length() - 1 - self.hash_log
        return coset_evaluations(self.coefficients, self.hash_log, self.block_shift(k, log_blocks), out=out,
                                 rows=self.nonzero_rows)

    @property
    def _hash_blocks_count(self) -> int:
        return self.shape[0] >> self.hash_log

    def full(self) -> np.ndarray:
        """The whole LDE (N, w): for tests and small matrices."""
        return coset_lde_from_coefficients(self.coefficients, self.log_blowup, self.shift)

    def row_digests(self) -> np.ndarray:
        """merkle.hash_rows of the whole LDE, (N, 8), one block of rows in memory at a time (a
        row's leaf hash needs only that row; a narrow matrix's blocks: one per thread)."""
        out = np.empty((self.shape[0], 8), dtype=np.uint32)
        parallel_for(self._hash_blocks, self._hash_blocks_count, out, work_per_item=self._block_work())
        return out

    def _block_work(self) -> int:
        """parallel_for's work per hash block: its words, for the blocks side by side on the
        thread pool — a narrow matrix's (fewer column groups than threads, as
        ntt._evaluate_cosets decides) whose block buffer per thread is small; else 0, one at a
        time, each block's transform split by rows among the threads (memory: one block; at
        2^18 cycles, hiding, the quotient's padded blocks are 64 MB each, and two side by side
        set the 2-thread peak)."""
        side_by_side = column_groups(self.shape[1]) < threads() and self._block_buffer_bytes() <= ROWS_SIDE_BY_SIDE_BYTES
        return (1 << self.hash_log) * self.shape[1] if side_by_side else 0

    def inject_row_digests(self, nodes: np.ndarray) -> None:
        """nodes_i = C(nodes_i ‖ H(row_i)) over the LDE's rows (merkle.inject_row_hashes), a
        block at a time on each thread (side by side as row_digests's): a tree injects the rows
        of a source beside its first one into its leaves (mmcs._rows_digest), so no block's
        digests are whole beside the tree's leaves (the quotient tree at 2^18 cycles, hiding:
        16 MB a block of D = 2^19 rows)."""
        parallel_for(self._inject_blocks, self._hash_blocks_count, nodes, work_per_item=self._block_work())

    def _inject_blocks(self, nodes, lo: int, hi: int) -> None:
        # inject_row_digests of blocks lo..hi−1 (a chunk of pool.parallel_for)
        d, w = 1 << self.hash_log, self.shape[1]
        block = self._block_buffer()  # one buffer for the chunk's blocks
        for k in range(lo, hi):
            # a padded block's rows: their first w words hashed in place
            merkle.inject_row_hashes(nodes[k * d:(k + 1) * d], self.hash_block(k, block), w)

    def _hash_blocks(self, out, lo: int, hi: int) -> None:
        # row_digests of blocks lo..hi−1 (a chunk of pool.parallel_for)
        d = 1 << self.hash_log
        block = self._block_buffer()  # one buffer for the chunk's blocks
        for k in range(lo, hi):
            # a padded block's rows (_block_buffer) are hashed in place: their first w words
            merkle.hash_rows(self.hash_block(k, block), out[k * d:(k + 1) * d], self.shape[1])

    def _block_width(self) -> int:
        # a hash block buffer's columns: as wide as its transform runs best (ntt.padded_width:
        # a remainder past a multiple of 8 padded, transformed in place with the block)
        return padded_width(self.shape[1])

    def _block_buffer_bytes(self) -> int:
        return 4 * (1 << self.hash_log) * self._block_width()

    def _block_buffer(self) -> np.ndarray:
        """A buffer for one hash block, _block_width columns: a block whose columns end in a
        scalar tail is transformed in place with its zero padding columns, not in a slower
        unpadded transform or through a zero-padded copy (the CPU table's quotient at 2^18
        cycles, hiding: 12 columns, a 32 MB copy beside each 24 MB block; a 22-column main
        trace's blocks at 2^20: 170 → 115 ms each). Inside shared_block_buffers, this thread's
        buffer of that block (grown when too small), else a fresh one."""
        rows, width = 1 << self.hash_log, self.shape[1]
        with _blocks_lock:
            buffers = _block_buffers
            if buffers is None:
                return padded_buffer(rows, width)
            wide = padded_width(width)
            buffer = buffers.pop(threading.get_ident(), None)
            if buffer is None or buffer.size < rows * wide:
                buffer = None  # the old one freed before the new one is made
                buffer = np.zeros(rows * wide, dtype=np.uint32)
            buffers[threading.get_ident()] = buffer
        # a reused buffer's padding columns hold an earlier block's values (field elements): they
        # are transformed too and mean nothing (ntt.padded_width)
        return buffer[:rows * wide].reshape(rows, wide)

    def rows(self, positions) -> np.ndarray:
        """The LDE's rows at ``positions`` (in that order): per block they fall in, only the
        parts of its transform those rows depend on (``_block_rows``). A small matrix's blocks
        side by side on the thread pool, each chunk of them with its own work buffer; a large
        one's one after another in one work buffer, each block's transform split by rows among
        the threads (``_block_rows``)."""
        pos = np.asarray(positions, dtype=np.int64).reshape(-1)
        out = np.empty((pos.shape[0], self.shape[1]), dtype=np.uint32)
        d, w = self.coefficients.shape
        blocks = np.unique(pos // d)
        # side by side only while a work buffer per thread is small (one buffer for a large
        # matrix: no more memory for the openings of a large proof, its threads inside a block)
        side_by_side = 4 * d * w <= ROWS_SIDE_BY_SIDE_BYTES
        parallel_for(self._rows_of_blocks, len(blocks), blocks, pos, out, work_per_item=d * w if side_by_side else 0,
                     chunks_per_thread=1)
        return out

    def _rows_of_blocks(self, blocks, pos, out, lo: int, hi: int) -> None:
        # rows() of the positions in blocks[lo:hi] (a chunk of pool.parallel_for)
        d, w = self.coefficients.shape
        log_d = d.bit_length() - 1
        # a matrix of more than ROWS_WHOLE_BYTES (the CPU table's D × w is 336 MB at 2^20
        # rows, 168 MB at 2^18 in hiding mode) is transformed in parts of its columns within
        # about ROWS_WORK_BYTES, each read in place into one work buffer (D × its columns); a
        # narrower one whole. (Whole up to twice ROWS_WORK_BYTES, as before session 13, put a
        # 128 MB buffer on the 2^18 hiding peak once the blinding ring's helper column left the
        # CPU table's aux matrix.) A part's slice of every coefficient row costs about a pass
        # over the whole matrix (the prefetchers fetch the lines around it), so parts are
        # multiples of 32 columns, not 16: 80 columns are 3 passes, not 5, in the memory a
        # 16-column part and its copy took (bench/results/lde_rows.md)
        parts = 1 if 4 * d * w <= ROWS_WHOLE_BYTES else -(-4 * d * w // ROWS_WORK_BYTES)
        step = w if parts <= 1 else 32 * -(-w // (32 * parts))
        work = _work_buffer(d * step).reshape(d, step)  # one buffer for the chunk's blocks and parts
        tw, tws = _twiddles(log_d, False)
        for k in blocks[lo:hi]:
            hit = pos // d == k
            local = pos[hit] - k * d
            active = np.zeros(2 * d, dtype=np.bool_)
            for l in range(log_d + 1):  # the subproblems of each layer that some wanted row is in
                active[(1 << l) + (local >> (log_d - l))] = True
            g = self.block_shift(int(k))
            for c0 in range(0, w, step):
                c1 = min(c0 + step, w)
                _block_rows(self.coefficients, self.nonzero_rows, c0, c1, g, tw, tws, active, log_d, work)
                out[hit, c0:c1] = work[local, :c1 - c0]


@functools.lru_cache(maxsize=256)
def _block_shifts(shift: int, log_n: int, b: int) -> tuple:
    """LdeSource.block_shift of every block k < 2^b: shift·ω_N^rev_b(k), N = 2^log_n (worked out
    once per coset and block count: a proof's tables share them, and a block's shift was
    ~6 µs of Python, ~250 blocks a tree)."""
    rev = bit_reverse_indices(1 << b).tolist() if b else [0]
    w = root_of_unity(log_n)
    return tuple(shift * pow(w, r, P) % P for r in rev)


_blocks_lock = threading.Lock()
_block_buffers: dict | None = None  # thread id → its hash block buffer, inside shared_block_buffers


@contextlib.contextmanager
def shared_block_buffers():
    """Inside the block, every thread's ``LdeSource`` hash blocks (row_digests, inject_row_digests)
    go in one buffer per thread, as large as the largest asked for so far, instead of a fresh
    one per source and pool chunk: a fresh buffer of tens of MB cost its page faults again
    (the Merkle commit's ≈ 90k faults at 2^18 cycles, hiding, 7 % fewer so, its ≈ 395k at
    2^20 12 % fewer; and freed buffers no longer grow the heap: the 2-thread peak at 2^18,
    −60 B/cycle; bench/results/block_buffers.md). mmcs._rows_digest holds
    one block per group of a tree's sources of one height (their blocks have as many rows;
    the tallest group's first source, the largest table's, has the largest block anyway), and
    the buffers go when the group's digests are made. A thread uses its buffer for one block
    at a time (the pool's nested loops run only kernels inside a block's transform, never
    another source's blocks)."""
    global _block_buffers
    with _blocks_lock:
        outer = _block_buffers is not None
        if not outer:
            _block_buffers = {}
    try:
        yield
    finally:
        if not outer:
            with _blocks_lock:
                _block_buffers = None


_shared = threading.local()  # the calling thread's shared_rows_work buffer, while one is in use


@contextlib.contextmanager
def shared_rows_work():
    """Inside the block, ``LdeSource.rows`` on this thread takes its work buffer from one
    buffer, as large as the largest asked for so far, instead of a fresh one per source: a
    proof's trace queries open every table's sources of one tree one after another, and each
    fresh buffer of tens of MB cost its page faults again. The prover opens all three trees
    in one block: the main tree's buffer (its tallest table's, the largest) serves the aux and
    quotient trees' openings too. One block per tree faulted each tree's buffer in anew: at
    2^20 cycles, hiding, ~100k more page faults; at 2^18 the one-thread peak is the same, 547 MB
    (bench/results/stark_prove.md, session 21)."""
    _shared.buffer = np.empty(0, dtype=np.uint32)
    try:
        yield
    finally:
        _shared.buffer = None


@contextlib.contextmanager
def fresh_rows_work():
    """Inside the block, ``LdeSource.rows`` on this thread takes a fresh work buffer, as outside
    shared_rows_work: for sources whose rows are computed side by side (mmcs._rows_side_by_side),
    where a thread that helps with one source's blocks may be inside another's, in the shared
    buffer."""
    saved = getattr(_shared, "buffer", None)
    _shared.buffer = None
    try:
        yield
    finally:
        _shared.buffer = saved


def _work_buffer(size: int) -> np.ndarray:
    # ``size`` uint32 words: the shared buffer's first ones inside shared_rows_work on this
    # thread (grown when too small), else a fresh array
    buffer = getattr(_shared, "buffer", None)
    if buffer is None:
        return np.empty(size, dtype=np.uint32)
    if buffer.size < size:
        _shared.buffer = buffer = None  # the old one freed before the new one is made
        _shared.buffer = buffer = np.empty(size, dtype=np.uint32)
    return buffer[:size]


#: about the most bytes of a part of the columns ``LdeSource.rows`` transforms at once (D rows ×
#: its columns, rounded up to 32 columns), for a matrix of more than ROWS_WHOLE_BYTES
ROWS_WORK_BYTES = 64 << 20
#: ``LdeSource.rows`` transforms a matrix of at most this many bytes whole, in one work buffer:
#: the transparent CPU table at 2^18 rows (84 MB) took 2.3× the CPU in two parts, 64 + 16
#: columns, each of whose first layers read its slice of every coefficient row (0.19 → 0.08 s
#: for its 42 rows at 1 thread; bench/results/stark_prove.md, session 14's fixed section)
ROWS_WHOLE_BYTES = 96 << 20
#: ``LdeSource.rows`` transforms the blocks side by side (a work buffer per thread) for a
#: matrix of at most this many bytes (D × w: the hiding byte table's aux, 10 MB), and
#: ``row_digests`` hashes a narrow matrix's blocks side by side when one block's buffer is at most this
ROWS_SIDE_BY_SIDE_BYTES = 16 << 20


#: ``_block_rows`` finishes a subproblem of at most this many bytes (its rows × the part's
#: columns) on one thread, all its remaining layers (a core's L2 cache holds it: 1 MiB here);
#: the layers of larger subproblems are split by rows among the threads, a barrier each
FINISH_BYTES = 1 << 20


def _block_rows(coeffs, nonzero, c0, c1, g: int, tw, tws, active, log_d, out) -> None:
    """Rows of one LDE block in columns c0 … c1 − 1, y_p = Σ_i c_i·(g·ω_D^rev(p))^i, at the
    positions p marked in ``active``, written to out[p, :c1 − c0] (other rows of out are left
    partial). ``coeffs`` is the whole (D, w) coefficient matrix: the columns are read in place,
    only its first ``nonzero`` rows (the others are zero: hiding mode's f̂ and quotient chunks).

    The block is the decimation-in-frequency transform (natural in, bit-reversed out) of the
    scaled coefficients c_i·g^i. Its first layer, (u, v) ↦ (u + v, (u − v)·ω_D^i), splits it
    into two independent half-size transforms whose outputs are the first and the second half
    of the rows; recursively, subproblem s of layer l (2^l of them, D/2^l rows each) yields
    rows s·D/2^l … (s+1)·D/2^l − 1. So a layer computes only the halves that hold a wanted
    row: for q wanted rows about D·(log2 q + 2)/2 butterflies instead of D·log2(D)/2.
    ``active[2^l + s]``: subproblem s of layer l holds a wanted row (layer log_d: the rows).

    On the thread pool, in the one buffer ``out``: a butterfly reads and writes only its own
    two rows, so each layer whose subproblems are larger than FINISH_BYTES is split by rows
    among the threads (one layer after another); then each active subproblem of the next
    layer is finished by one thread (its remaining layers touch only its own rows, which stay
    in the core's cache). ``_dif_chunk`` runs the chunks of both."""
    w = c1 - c0
    if log_d == 0:  # one row: y_0 = c_0
        out[0, :w] = coeffs[0, c0:c1]
        return
    args = (coeffs, nonzero, c0, c1, np.uint32(g), tw, tws, active, log_d, out)
    finish_log = max(0, (FINISH_BYTES // (4 * w)).bit_length() - 1)  # rows of a subproblem finished in cache
    l = 0
    while log_d - l > finish_log:
        subs = np.flatnonzero(active[1 << l:2 << l])  # the layer's active subproblems, D/2^(l+1) butterflies each
        parallel_for(_dif_chunk, len(subs) << (log_d - l - 1), *args, l, subs, False, work_per_item=w)
        l += 1
    subs = np.flatnonzero(active[1 << l:2 << l])
    parallel_for(_dif_chunk, len(subs), *args, l, subs, True, work_per_item=w << (log_d - l))


@njit(cache=True, nogil=True)
def _dif_chunk(coeffs, nonzero, c0, c1, g, tw, tws, active, log_d, out, l, subs, finish, lo, hi):
    # a chunk of one of _block_rows' loops over the active subproblems ``subs`` of layer l:
    # finish — subproblems subs[lo:hi], each through the last layer (within subproblem s,
    # layer m's subproblems are s·2^(m−l) … (s+1)·2^(m−l) − 1); else butterflies lo … hi − 1
    # of layer l, numbered along subs (h = D/2^(l+1) each)
    if finish:
        for k in range(lo, hi):
            s = subs[k]
            for m in range(l, log_d):
                h = (1 << log_d) >> (m + 1)
                for t in range(s << (m - l), (s + 1) << (m - l)):
                    if active[(1 << m) + t]:
                        _butterflies(coeffs, nonzero, c0, c1, g, tw, tws, active, log_d, out, m, t, np.int64(0), h)
        return
    h = (1 << log_d) >> (l + 1)
    j = lo
    while j < hi:
        i0 = j % h
        i1 = min(h, i0 + hi - j)
        _butterflies(coeffs, nonzero, c0, c1, g, tw, tws, active, log_d, out, l, subs[j // h], i0, i1)
        j += i1 - i0


@inner
def _butterflies(coeffs, nonzero, c0, c1, g, tw, tws, active, log_d, out, l, s, i0, i1):
    # butterflies i0 … i1 − 1 of subproblem s of layer l: (u, v) = rows (a + i, a + i + h) of
    # out, h = D/2^(l+1), a = 2·s·h, t = ω_{2h}^i; only the halves some wanted row is in
    # (the butterflies are ntt.py's: uint32 lanes, Shoup products with its twiddle tables
    # tw, tws: tw[h + i] = ω_{2h}^i, and at layer l, 2h = D/2^l, so ω_{2h}^i = ω_D^(i·2^l)).
    # The indices are told to be ≥ 0 (max) and the row loop counts from 0: with numba's
    # negative-index checks left in, the column loops ran 1.3–1.4× slower (22 and 12 columns)
    h, s, i0 = max((1 << log_d) >> (l + 1), 1), max(s, 0), max(i0, 0)
    top, bottom = active[(2 << l) + 2 * s], active[(2 << l) + 2 * s + 1]
    if l == 0:
        _first_layer(coeffs, nonzero, c0, c1, g, tw, tws, top, bottom, h, out, i0, i1)
        return
    a, w = 2 * s * h, c1 - c0
    for k in range(i1 - i0):
        i = i0 + k
        t, ts = tw[h + i], tws[h + i]
        ru, rv = out[a + i, :w], out[a + i + h, :w]
        if top and bottom:
            for c in range(w):
                ru[c], rv[c] = _dif_butterfly(ru[c], rv[c], t, ts)
        elif top:  # u + v
            for c in range(w):
                ru[c] = _add(ru[c], rv[c])
        else:  # (u − v)·t, u + p − v unreduced into the Shoup multiply (see _dif_butterfly)
            for c in range(w):
                rv[c] = _mul_tw(_U32(ru[c] + _P32 - rv[c]), t, ts)


@inner
def _first_layer(coeffs, nonzero, c0, c1, g, tw, tws, top, bottom, h, out, i0, i1):
    # layer 0 for i = i0 … i1 − 1 on the scaled coefficients, u = c_i·g^i, v = c_(i+h)·g^(i+h)
    # (h = D/2): (u, v) ↦ (u + v, (u − v)·ω_D^i) into rows i and i + h of out, the scaling done
    # as the coefficients are read (one pass less over memory); g^i one product per row
    w = c1 - c0
    gu, g_h = f_pow(g, i0), f_pow(g, h)
    for k in range(i1 - i0):
        i = i0 + k
        ru, rv = out[i, :w], out[i + h, :w]
        gi, gis = _shoup(_U32(gu))  # g^i, its Shoup quotient
        t, ts = tw[h + i], tws[h + i]
        if i + h >= nonzero:  # v = 0: (u, v) ↦ (u, u·t), u = 0 too from row ``nonzero`` on
            su = coeffs[i, c0:c1]
            if i >= nonzero:
                for c in range(w):
                    ru[c] = rv[c] = 0
            elif top and bottom:
                for c in range(w):
                    u = _mul_tw(su[c], gi, gis)
                    ru[c], rv[c] = u, _mul_tw(u, t, ts)
            elif top:
                for c in range(w):
                    ru[c] = _mul_tw(su[c], gi, gis)
            else:
                for c in range(w):
                    rv[c] = _mul_tw(_mul_tw(su[c], gi, gis), t, ts)
        else:
            gv = f_mul(gu, g_h)
            gih, gihs = _shoup(_U32(gv))  # g^(i+h), its Shoup quotient
            su, sv = coeffs[i, c0:c1], coeffs[i + h, c0:c1]
            if top and bottom:
                for c in range(w):
                    ru[c], rv[c] = _dif_butterfly(_mul_tw(su[c], gi, gis), _mul_tw(sv[c], gih, gihs), t, ts)
            elif top:
                for c in range(w):
                    ru[c] = _add(_mul_tw(su[c], gi, gis), _mul_tw(sv[c], gih, gihs))
            else:
                for c in range(w):
                    u, v = _mul_tw(su[c], gi, gis), _mul_tw(sv[c], gih, gihs)
                    rv[c] = _mul_tw(_U32(u + _P32 - v), t, ts)
        gu = f_mul(gu, g)
