"""Number-theoretic transforms over BabyBear's two-adic subgroups, and the coset LDE.

For n = 2^k let ω = ω_n = root_of_unity(k) and H = {ω^0, ..., ω^(n−1)}. A column of n
coefficients c_0..c_{n−1} is the polynomial f(X) = Σ c_i X^i; its evaluations on H are

    ntt:   f(ω^j) = Σ_i c_i ω^(ij)                  (j = 0..n−1, natural order)
    intt:  c_i    = n^(−1) Σ_j f(ω^j) ω^(−ij)

The low-degree extension (LDE) of a trace column is its interpolant evaluated on a coset
shift·H' of a larger subgroup H' (|H'| = n·2^log_blowup): interpolate (intt), scale
coefficient i by shift^i (so f(shift·X) is evaluated), zero-pad, transform (coset_lde does
the same as 2^log_blowup transforms of size n, one per coset of H). STARK commitments
store LDE rows in bit-reversed order, which puts the pairs x, −x that FRI folds side by side.

All transforms act on axis 0 of a 1-D (n,) or 2-D (n, w) uint32 array: a 2-D array is w
columns transformed together, row-major (a row is one trace row). Two in-place radix-2
networks do the work, with per-layer twiddle tables cached per size:

* decimation in time (Cooley–Tukey, (u, v) ↦ (u + ωv, u − ωv)): bit-reversed in, natural
  out — ntt and intt are a bit-reversing copy followed by this network;
* decimation in frequency (Gentleman–Sande, (u, v) ↦ (u + v, (u − v)ω)): natural in,
  bit-reversed out — exactly the order an LDE commitment wants, so coset_lde needs no
  permutation after its final transform.

Twiddle products use Shoup's precomputed quotients (no division), on uint32 lanes (see
_mul_tw). One column runs a kernel whose inner loops are contiguous runs (SIMD-vectorised
by LLVM): the wide layers as runs of butterflies, the narrow ones block by block in cache
(one thread). A matrix kernel's loop runs along a row's columns (vectorised), two layers at
a time (a radix-4 step: four rows, four butterflies per column in one loop, _dif_rows4):
the wide layers sweep the whole height, the last ones run block by block in cache. (Two
layers per loop ran narrow matrices 1.4–1.65× faster, wide ones within ±8 %;
bench/results/stark_kernels.md, "nttb".) A matrix narrower than one 16-column group whose
columns end in a scalar tail is transformed in a copy padded with zero columns (_transform,
_PAD_FROM).

Threads (_by_rows): after a DIF network's top k layers the rows fall into 2^k independent
blocks of n/2^k rows, each a DIF network of its own (the twiddles ω_{2h}^j of a layer do not
depend on n). So k/2 radix-4 passes run over the whole height, each pass's row quads split
among the pool's threads, then the blocks run side by side; a DIT network the same, blocks
first. Each thread reads and writes whole rows of its own. (The split it replaces gave each
thread a slice of 16-column groups of every row: the two threads' accesses interleaved
within the same rows — numpy's buffers start 16 bytes into a cache line, so the groups'
edge lines were shared, and a 64-byte-aligned buffer ran no better — and 2 threads ran at
0.86–1.74× one thread at the prover's shapes; the row split runs them at 1.07–1.96×, most
at 1.8× or more: bench/results/stark_kernels.md, "rows".)
"""

from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np
from ..lazy_njit import njit

from .._jit import inner

from ..errors import UsageError
from .field import GENERATOR, P, TWO_ADICITY, add as field_add, f_mul, root_of_unity
# a ± b mod p on uint32 lanes for canonical a, b (the tape's too): the butterflies' sums
from .field import f_add_u32 as _add, f_sub_u32 as _sub
from .pool import parallel_for, threads, worth_threads

_P = np.uint64(P)


def _log2_exact(n: int, what: str) -> int:
    if n < 1 or n & (n - 1):
        raise UsageError(f"{what}: length {n} is not a power of two; pad the column to 2^k rows")
    k = n.bit_length() - 1
    if k > TWO_ADICITY:
        raise UsageError(f"{what}: length 2^{k} exceeds BabyBear's two-adic subgroup 2^{TWO_ADICITY}")
    return k


#: a matrix block finished in cache holds about this many elements (64 KiB: inside L2)
_MATRIX_BLOCK_ELEMENTS_LOG = 14
#: columns in one 64-byte cache line of a row: a matrix narrower than this with a scalar tail
#: is padded (_PAD_FROM); one of fewer groups than threads is "narrow" (column_groups)
_GROUP_COLUMNS = 16


# --- bit reversal -------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _bit_reverse_indices_cached(log_n: int):
    n = 1 << log_n
    idx = np.arange(n, dtype=np.uint32)
    rev = np.zeros(n, dtype=np.uint32)
    for b in range(log_n):  # loop over the log n bit positions, vectorised over all indices
        rev |= ((idx >> b) & 1) << (log_n - 1 - b)
    rev.setflags(write=False)
    return rev


def bit_reverse_indices(n: int):
    """The permutation i ↦ reverse of i's log2(n)-bit binary representation (uint32 array)."""
    return _bit_reverse_indices_cached(_log2_exact(int(n), "bit_reverse_indices"))


@njit(cache=True, nogil=True)
def _bit_reverse_kernel(a, out, log_n, t, rev_tile, rev_mid, mid_in_order, mid0, mid1):
    # out[i] = a[rev(i)], in tiles of 2^t × 2^t rows. Split the row index i = (hi | mid | lo)
    # with hi, lo of t bits; then rev(i) = (rev(lo) | rev(mid) | rev(hi)): for a fixed `mid`
    # the tile (hi, lo) is a transpose of a tile of `a` — 2^t runs of 2^t consecutive rows
    # read, as many written. The tiles in the order of their rows in ``out``, or — with
    # ``mid_in_order`` — of their rows in ``a`` (see _bit_reverse_into). This call: tiles
    # mid0..mid1−1 (a chunk of pool.parallel_for).
    w = a.shape[1]
    for m in range(mid0, mid1):
        src_mid = np.int64(m if mid_in_order else rev_mid[m]) << t
        dst_mid = np.int64(rev_mid[m] if mid_in_order else m) << t
        for hi in range(1 << t):
            dst_hi = (np.int64(hi) << (log_n - t)) | dst_mid
            src_lo = np.int64(rev_tile[hi])
            for lo in range(1 << t):
                src = (np.int64(rev_tile[lo]) << (log_n - t)) | src_mid | src_lo
                dst = dst_hi | lo
                for c in range(w):
                    out[dst, c] = a[src, c]


@njit(cache=True, nogil=True)
def _permute_rows_small(a, rev, out):
    for i in range(a.shape[0]):
        for c in range(a.shape[1]):
            out[i, c] = a[rev[i], c]


#: _bit_reverse_kernel's tiles: 16 × 16 rows taken in the order they are written, or — rows of
#: 8 to 39 columns (32–156 bytes) — 8 × 8 rows taken in the order they are read (the loads in
#: order, prefetched; the stores to scattered runs of 8 rows). 1 thread, 2^20 rows, CPU ms
#: (bench/ntt_shapes.py --bit-reversal; load 2–4, 2026-12-06): 12 columns 21.8 → 15.2, 22
#: columns 32.9 → 23.7, 30 columns 36 → 28; wider rows ran slower so (64 columns: 45 → 61 ms)
#: and so did 16-byte ones (4 columns: 6.4 → 7.9 ms). Rows of 64 bytes or more move at
#: ~11–12 GB/s either way (81 columns: 58 ms), one cache line or more read and written whole.
_TILE_LOG, _SMALL_TILE_LOG = 4, 3
_SMALL_TILE_COLUMNS, _SMALL_TILE_BELOW = 8, 40


def _bit_reverse_into(a2, out):
    log_n = _log2_exact(a2.shape[0], "bit_reverse_rows")
    small = _SMALL_TILE_COLUMNS <= a2.shape[1] < _SMALL_TILE_BELOW
    t = _SMALL_TILE_LOG if small else _TILE_LOG
    if log_n < 2 * t + 1:
        _permute_rows_small(a2, _bit_reverse_indices_cached(log_n), out)
    else:
        mids = 1 << (log_n - 2 * t)
        parallel_for(_bit_reverse_kernel, mids, a2, out, log_n, t, _bit_reverse_indices_cached(t),
                     _bit_reverse_indices_cached(log_n - 2 * t), small, work_per_item=a2.size // mids)
    return out


def bit_reverse_rows(a):
    """The rows of a (n,) or (n, w) array reordered by bit reversal of the row index.

    Bit reversal is an involution: applying it twice gives back the input."""
    a = np.asarray(a, dtype=np.uint32)
    if a.ndim == 0:
        raise UsageError("bit_reverse_rows: expected an array with rows, got a scalar")
    a2 = np.ascontiguousarray(a.reshape(a.shape[0], -1))
    return _bit_reverse_into(a2, np.empty_like(a2)).reshape(a.shape)


# --- twiddles -----------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _fill_twiddles(log_n, roots, tw, tw_shoup):
    # tw[h + j] = ω_{2h}^j for every layer half-size h = 2^l (l < log_n) and j < h:
    # the twiddles of one layer are contiguous, so every layer streams through memory.
    # tw_shoup[k] = floor(tw[k] · 2^32 / p), Shoup's precomputed quotient (see _mul_tw).
    for l in range(log_n):
        h = 1 << l
        w = np.uint64(roots[l + 1])
        acc = np.uint64(1)
        for j in range(h):
            tw[h + j] = acc
            tw_shoup[h + j] = (acc << np.uint64(32)) // _P
            acc = f_mul(acc, w)


@lru_cache(maxsize=32)
def _twiddles(log_n: int, inverse: bool):
    roots = np.array([root_of_unity(l) for l in range(log_n + 1)], dtype=np.uint64)
    if inverse:
        roots = np.array([pow(int(r), P - 2, P) for r in roots], dtype=np.uint64)
    size = max(1 << log_n, 2)
    tw = np.zeros(size, dtype=np.uint32)
    tw_shoup = np.zeros(size, dtype=np.uint32)
    _fill_twiddles(log_n, roots, tw, tw_shoup)
    tw.setflags(write=False)
    tw_shoup.setflags(write=False)
    return tw, tw_shoup


# --- the transform kernel -----------------------------------------------------------------

_BLOCK_ROWS_LOG = 12  # rows per cache block (2^12 rows · 4 B = 16 KiB per column)
_CHUNK_LOG = 11  # butterflies per run in the big layers


_U32 = np.uint32
_P32 = np.uint32(P)

# The helpers below are @inner (compiled once each, no Python wrapper; LLVM inlines them into
# the kernels' loops, which still vectorise): numba's inline="always" copied and re-typed
# their IR at every call site, nested. _dif_run/_dit_run keep inline="always": as calls, the
# one-column kernels ran at ~55 % of their speed (one call per short run of butterflies).


@inner
def _mul_tw(x, t, t_shoup):
    # Shoup's modular multiplication by a fixed twiddle t with q' = floor(t·2^32/p), for any
    # x < 2^32: q = floor(x·q' / 2^32) is floor(x·t/p) or one less, so r = x·t − q·p ∈ [0, 2p),
    # which fits 32 bits — so r is computed mod 2^32 (the high halves cancel), and only q needs
    # a widening 32×32→64 multiply. Everything is a uint32 lane (8 per AVX2 instruction) and
    # the final r − p if r ≥ p is an unsigned min (r − p wraps above r when r < p).
    q = _U32((np.uint64(x) * np.uint64(t_shoup)) >> np.uint64(32))
    r = _U32(x * t - q * _P32)
    return min(r, _U32(r - _P32))


@inner
def _dif_butterfly(u, v, t, ts):
    # Gentleman–Sande: (u, v) ↦ (u + v, (u − v)·t). u + p − v ∈ (0, 2p) goes into the Shoup
    # multiply unreduced (it takes any x < 2^32): one conditional subtraction saved.
    return _add(u, v), _mul_tw(_U32(u + _P32 - v), t, ts)


@inner
def _dit_butterfly(u, v, t, ts):
    # Cooley–Tukey: (u, v) ↦ (u + v·t, u − v·t)
    v = _mul_tw(v, t, ts)
    return _add(u, v), _sub(u, v)


@njit(cache=True, inline="always")
def _dif_run(x, tw, tws, i0, h, j0, count):
    # Gentleman–Sande butterflies on a 1-D array for j = j0..j0+count−1 of the block at i0:
    #   (u, v) ↦ (u + v, (u − v)·ω_{2h}^j)  with u = x[i0 + j], v = x[i0 + j + h]
    # Slices indexed from 0 let LLVM drop negative-index checks and vectorise the loop.
    lo = x[i0 + j0 : i0 + j0 + count]
    hi = x[i0 + h + j0 : i0 + h + j0 + count]
    t = tw[h + j0 : h + j0 + count]
    ts = tws[h + j0 : h + j0 + count]
    for k in range(count):
        lo[k], hi[k] = _dif_butterfly(lo[k], hi[k], t[k], ts[k])


@njit(cache=True, inline="always")
def _dit_run(x, tw, tws, i0, h, j0, count):
    # Cooley–Tukey butterflies, the mirror image of _dif_run:
    #   (u, v) ↦ (u + v·ω_{2h}^j, u − v·ω_{2h}^j)
    lo = x[i0 + j0 : i0 + j0 + count]
    hi = x[i0 + h + j0 : i0 + h + j0 + count]
    t = tw[h + j0 : h + j0 + count]
    ts = tws[h + j0 : h + j0 + count]
    for k in range(count):
        lo[k], hi[k] = _dit_butterfly(lo[k], hi[k], t[k], ts[k])


@njit(cache=True, nogil=True)
def _dif_1d(x, tw, tws, log_n, block_log, chunk_log):
    """Decimation in frequency on one column: natural order in, bit-reversed out.
    Layers run from the widest butterflies (h = n/2) down to h = 1. One thread: a single
    column's layers depend on each other (a split would need a barrier per layer), and the
    prover's transforms are matrices, split by column."""
    n = x.shape[0]
    block_log = min(block_log, log_n)
    chunk_log = min(chunk_log, block_log - 1) if block_log > 0 else 0
    # 1. big layers (h ≥ 2^block_log): split each layer's n/2 butterflies into runs of
    #    2^chunk_log consecutive j (a run never crosses a block since 2^chunk_log ≤ h)
    for l in range(log_n - 1, block_log - 1, -1):
        h = 1 << l
        for k in range((n >> 1) >> chunk_log):
            first = k << chunk_log  # butterfly index
            _dif_run(x, tw, tws, (first >> l) << (l + 1), h, first & (h - 1), 1 << chunk_log)
    # 2. small layers: each block of 2^block_log elements is finished in cache
    bs = 1 << block_log
    for b in range(n >> block_log):
        for l in range(block_log - 1, -1, -1):
            h = 1 << l
            for i0 in range(b * bs, (b + 1) * bs, 2 * h):
                _dif_run(x, tw, tws, i0, h, 0, h)


@njit(cache=True, nogil=True)
def _dit_1d(x, tw, tws, log_n, block_log, chunk_log):
    """Decimation in time on one column: bit-reversed order in, natural out.
    Layers run from h = 1 up to h = n/2: first the in-cache blocks, then the big layers."""
    n = x.shape[0]
    block_log = min(block_log, log_n)
    chunk_log = min(chunk_log, block_log - 1) if block_log > 0 else 0
    bs = 1 << block_log
    for b in range(n >> block_log):
        for l in range(block_log):
            h = 1 << l
            for i0 in range(b * bs, (b + 1) * bs, 2 * h):
                _dit_run(x, tw, tws, i0, h, 0, h)
    for l in range(block_log, log_n):
        h = 1 << l
        for k in range((n >> 1) >> chunk_log):
            first = k << chunk_log
            _dit_run(x, tw, tws, (first >> l) << (l + 1), h, first & (h - 1), 1 << chunk_log)


@inner
def _dif_rows(x, i, h, t, ts, c0, c1):
    # one Gentleman–Sande butterfly applied to columns c0..c1−1 of rows i and i + h. Row views
    # sliced without a step keep numba's contiguous layout, so LLVM vectorises the loop (an
    # explicit x[i, c0 + k] index, or a 2-D column slice, measured 3× slower: not vectorised)
    lo = x[i][c0:c1]
    hi = x[i + h][c0:c1]
    for c in range(c1 - c0):
        lo[c], hi[c] = _dif_butterfly(lo[c], hi[c], t, ts)


@inner
def _dit_rows(x, i, h, t, ts, c0, c1):
    # one Cooley–Tukey butterfly applied to columns c0..c1−1 of rows i and i + h
    lo = x[i][c0:c1]
    hi = x[i + h][c0:c1]
    for c in range(c1 - c0):
        lo[c], hi[c] = _dit_butterfly(lo[c], hi[c], t, ts)


@inner
def _dif_rows4(x, i, h, ta, tas, tb, tbs, tc, tcs, c0, c1):
    # two Gentleman–Sande layers on the rows i, i + h, i + 2h, i + 3h (columns c0..c1−1): the
    # layer of half-size 2h pairs (i, i + 2h) with twiddle ta and (i + h, i + 3h) with tb, then
    # the layer of half-size h pairs (i, i + h) and (i + 2h, i + 3h), both with tc. Four rows
    # per loop over the columns, not two: half the loops (each with its own set-up — a narrow
    # slice's loop is only 1–2 vectors long) and half the sweeps over the rows
    r0 = x[i][c0:c1]
    r1 = x[i + h][c0:c1]
    r2 = x[i + 2 * h][c0:c1]
    r3 = x[i + 3 * h][c0:c1]
    for c in range(c1 - c0):
        b0, b2 = _dif_butterfly(r0[c], r2[c], ta, tas)
        b1, b3 = _dif_butterfly(r1[c], r3[c], tb, tbs)
        r0[c], r1[c] = _dif_butterfly(b0, b1, tc, tcs)
        r2[c], r3[c] = _dif_butterfly(b2, b3, tc, tcs)


@inner
def _dit_rows4(x, i, h, ta, tas, tb, tbs, tc, tcs, c0, c1):
    # the mirror image of _dif_rows4: the Cooley–Tukey layer of half-size h (twiddle tc), then
    # the one of half-size 2h (twiddles ta, tb)
    r0 = x[i][c0:c1]
    r1 = x[i + h][c0:c1]
    r2 = x[i + 2 * h][c0:c1]
    r3 = x[i + 3 * h][c0:c1]
    for c in range(c1 - c0):
        b0, b1 = _dit_butterfly(r0[c], r1[c], tc, tcs)
        b2, b3 = _dit_butterfly(r2[c], r3[c], tc, tcs)
        r0[c], r2[c] = _dit_butterfly(b0, b2, ta, tas)
        r1[c], r3[c] = _dit_butterfly(b1, b3, tb, tbs)


@inner
def _dif_layer(x, tw, tws, l, r0, r1, c0, c1):
    # layer l (half-size h = 2^l) of a DIF network on rows r0..r1−1 (r0, r1 multiples of 2h)
    h = 1 << l
    for i0 in range(r0, r1, 2 * h):
        for j in range(h):
            _dif_rows(x, i0 + j, h, tw[h + j], tws[h + j], c0, c1)


@inner
def _dit_layer(x, tw, tws, l, r0, r1, c0, c1):
    h = 1 << l
    for i0 in range(r0, r1, 2 * h):
        for j in range(h):
            _dit_rows(x, i0 + j, h, tw[h + j], tws[h + j], c0, c1)


@inner
def _dif_layers(x, tw, tws, l_hi, l_lo, r0, r1, c0, c1):
    # layers l_hi down to l_lo of a DIF network on rows r0..r1−1 (multiples of 2^(l_hi+1)), two
    # at a time: layers l + 1 and l (half-sizes 2h, h) on each set of rows i, i + h, i + 2h,
    # i + 3h (i = i0 + j, j < h), twiddles ω_{4h}^j, ω_{4h}^(h+j) and ω_{2h}^j (tw[2h + j],
    # tw[3h + j], tw[h + j]); an odd layer left over (l_lo) runs alone
    l = l_hi
    while l > l_lo:
        h = 1 << (l - 1)
        for i0 in range(r0, r1, 4 * h):
            for j in range(h):
                _dif_rows4(x, i0 + j, h, tw[2 * h + j], tws[2 * h + j], tw[3 * h + j], tws[3 * h + j],
                           tw[h + j], tws[h + j], c0, c1)
        l -= 2
    if l == l_lo:
        _dif_layer(x, tw, tws, l, r0, r1, c0, c1)


@inner
def _dit_layers(x, tw, tws, l_lo, l_hi, r0, r1, c0, c1):
    # layers l_lo up to l_hi of a DIT network on rows r0..r1−1, two at a time (the mirror image
    # of _dif_layers; an odd layer left over, l_lo, runs alone first)
    l = l_lo
    if l_hi >= l_lo and (l_hi - l_lo) % 2 == 0:
        _dit_layer(x, tw, tws, l, r0, r1, c0, c1)
        l += 1
    while l < l_hi:
        h = 1 << l
        for i0 in range(r0, r1, 4 * h):
            for j in range(h):
                _dit_rows4(x, i0 + j, h, tw[2 * h + j], tws[2 * h + j], tw[3 * h + j], tws[3 * h + j],
                           tw[h + j], tws[h + j], c0, c1)
        l += 2


@inner
def _block_log_of(log_b, block_elements_log, width):
    # rows per in-cache block for rows `width` columns wide (block × width ≈ 2^block_elements_log elements)
    wide = 0
    while (1 << wide) < width:
        wide += 1
    return min(log_b, max(1, block_elements_log - wide))


@njit(cache=True, nogil=True)
def _dif_blocks(x, tw, tws, log_b, block_elements_log, width, b0, b1):
    """Layers log_b − 1 … 0 of the DIF network (natural in, bit-reversed out) on the row blocks
    b0..b1−1 of 2^log_b rows each, columns 0..width−1. The whole network is the one block of
    log_b = log n rows; after the layers above log_b (_dif_top) the blocks are independent
    transforms, each a chunk of pool.parallel_for. In a block the wide layers sweep its whole
    height, two layers a sweep; the last block_log layers run 2^block_log rows at a time, each
    finished in cache. (The twiddles tw[h + j] = ω_{2h}^j do not depend on n: one table serves.)"""
    block_log = _block_log_of(log_b, block_elements_log, width)
    for b in range(b0, b1):
        r0 = np.int64(b) << log_b
        r1 = r0 + (np.int64(1) << log_b)
        _dif_layers(x, tw, tws, log_b - 1, block_log, r0, r1, np.int64(0), width)
        for r in range(r0, r1, 1 << block_log):
            _dif_layers(x, tw, tws, block_log - 1, np.int64(0), r, r + (1 << block_log), np.int64(0), width)


@njit(cache=True, nogil=True)
def _dit_blocks(x, tw, tws, log_b, block_elements_log, width, b0, b1):
    """The mirror image of _dif_blocks (bit-reversed in, natural out): layers 0 … log_b − 1 on
    each row block, in-cache blocks first, then the block's wide layers (_dit_top runs the
    layers above log_b afterwards)."""
    block_log = _block_log_of(log_b, block_elements_log, width)
    for b in range(b0, b1):
        r0 = np.int64(b) << log_b
        r1 = r0 + (np.int64(1) << log_b)
        for r in range(r0, r1, 1 << block_log):
            _dit_layers(x, tw, tws, np.int64(0), block_log - 1, r, r + (1 << block_log), np.int64(0), width)
        _dit_layers(x, tw, tws, block_log, log_b - 1, r0, r1, np.int64(0), width)


@njit(cache=True, nogil=True)
def _dif_top(x, tw, tws, l, width, t0, t1):
    # DIF layers l and l − 1 (half-sizes 2h and h, h = 2^(l−1)) over the whole height, as
    # _dif_layers runs them, for the row quads t0..t1−1 (a chunk of pool.parallel_for): quad t
    # is rows i, i + h, i + 2h, i + 3h with i = (t div h)·4h + (t mod h)
    h = np.int64(1) << (l - 1)
    for t in range(t0, t1):
        j = t & (h - 1)
        _dif_rows4(x, ((t >> (l - 1)) << (l + 1)) + j, h, tw[2 * h + j], tws[2 * h + j], tw[3 * h + j],
                   tws[3 * h + j], tw[h + j], tws[h + j], np.int64(0), width)


@njit(cache=True, nogil=True)
def _dit_top(x, tw, tws, l, width, t0, t1):
    # DIT layers l and l + 1 (half-sizes h and 2h, h = 2^l) over the whole height, as
    # _dit_layers runs them, for the row quads t0..t1−1: quad t is rows i, i + h, i + 2h,
    # i + 3h with i = (t div h)·4h + (t mod h)
    h = np.int64(1) << l
    for t in range(t0, t1):
        j = t & (h - 1)
        _dit_rows4(x, ((t >> l) << (l + 2)) + j, h, tw[2 * h + j], tws[2 * h + j], tw[3 * h + j],
                   tws[3 * h + j], tw[h + j], tws[h + j], np.int64(0), width)


@njit(cache=True, nogil=True)
def _scale_const(x, f, r0, r1):
    # x ← x · f for one constant f (e.g. n^(−1) after an inverse transform), rows r0..r1−1
    for i in range(r0, r1):
        for c in range(x.shape[1]):
            x[i, c] = _mul_tw(x[i, c], f[0], f[1])


@inner
def _shoup(t):
    # (t, Shoup's quotient floor(t·2^32/p)) for _mul_tw by a factor t: once per row, amortised
    # over its columns (p a constant: a multiply and shifts, no division)
    return t, _U32((np.uint64(t) << np.uint64(32)) // _P)


@njit(cache=True, nogil=True)
def _scale_rows_into(src, f, dst, r0, r1):
    # dst[i] = src[i] · f[i] (row i of every column times one factor), rows r0..r1−1
    for i in range(r0, r1):
        t, ts = _shoup(f[i])
        for c in range(src.shape[1]):
            dst[i, c] = _mul_tw(src[i, c], t, ts)


def scale_rows(values: np.ndarray, factors: np.ndarray) -> None:
    """values[i] ← values[i]·factors[i] in place: each row of a C-contiguous uint32 matrix times
    its own factor, in chunks of rows on the thread pool. The factors are passed read-only (a view):
    the argument types compile_ahead's plan compiles, where a writable or strided one compiled
    the kernel again on a cold prove's thread."""
    factors = factors.view()
    factors.setflags(write=False)
    parallel_for(_scale_rows_into, values.shape[0], values, factors, values, work_per_item=values.shape[1])


@njit(cache=True, nogil=True)
def _scale_fold_into(src, f, dst, r0, r1):
    # dst[i] = Σ_k src[i + k·c]·f[i + k·c] over the D/c slices of src (c = dst's rows): row i
    # of the scaled coefficients folded mod y^c − 1 (coset_evaluations), rows r0..r1−1; src's
    # rows past its own (fewer than D: the zero rows not read) count as zeros
    c = dst.shape[0]
    for i in range(r0, r1):
        if i >= src.shape[0]:
            dst[i, :] = 0
            continue
        t, ts = _shoup(f[i])
        for col in range(src.shape[1]):
            dst[i, col] = _mul_tw(src[i, col], t, ts)
        for j in range(i + c, src.shape[0], c):
            t, ts = _shoup(f[j])
            for col in range(src.shape[1]):
                dst[i, col] = _add(dst[i, col], _mul_tw(src[j, col], t, ts))


def _rows(a, what):
    # a C-contiguous (n, w) uint32 view (a copy only when needed) and log2(n)
    a = np.asarray(a)
    if a.ndim not in (1, 2):
        raise UsageError(f"{what}: expected a 1-D column or a 2-D (n, w) matrix, got shape {a.shape}")
    if a.dtype != np.uint32 and a.dtype.kind not in "iu":
        raise UsageError(f"{what}: expected uint32 field elements, got dtype {a.dtype}")
    log_n = _log2_exact(a.shape[0], what)
    return np.ascontiguousarray(a.reshape(a.shape[0], -1), dtype=np.uint32), log_n


def column_groups(width: int) -> int:
    """Groups of _GROUP_COLUMNS columns in a row of ``width`` columns (one 64-byte cache line
    each): fewer than the pool's threads marks a narrow matrix, whose blocks callers may
    transform side by side (ntt._evaluate_cosets, lde_source.py)."""
    return (width + _GROUP_COLUMNS - 1) // _GROUP_COLUMNS


def _top_layers(log_n: int, nthreads: int) -> int:
    # how many of a transform's widest layers run over the whole height, split by rows, before
    # the 2^k row blocks they leave are transformed side by side: k even (radix-4 passes), and
    # at least two blocks per thread
    k = 2
    while (1 << k) < 2 * nthreads and k + 2 <= log_n:
        k += 2
    return k


def _by_rows(dif, m, log_n, inverse, width):
    # the DIF (dif) or DIT network on columns 0..width−1 of m. One thread: the whole network in
    # one call. Several: a DIF runs its top k layers over the whole height, k/2 radix-4 passes,
    # each pass's row quads split among the threads, which leaves 2^k independent blocks of
    # n/2^k rows, transformed side by side; a DIT the same in the mirror order (blocks first).
    # A thread's rows are its own — runs of contiguous whole rows, a cache line shared with
    # another thread at most at a run's two ends (a split by column groups interleaved the
    # threads within every row: the prover's shapes ran 0.86–1.74× one thread on 2, the row
    # split 1.07–1.96×; bench/results/stark_kernels.md, "rows")
    tw, tws = _twiddles(log_n, inverse)
    n = m.shape[0]
    nthreads = threads() if worth_threads(n * width) else 1
    k = _top_layers(log_n, nthreads) if nthreads > 1 and log_n >= 4 else 0
    blocks = _dif_blocks if dif else _dit_blocks
    if k == 0:
        blocks(m, tw, tws, log_n, _MATRIX_BLOCK_ELEMENTS_LOG, width, 0, 1)
        return m
    layers = range(log_n - 1, log_n - k, -2) if dif else range(log_n - k, log_n - 1, 2)
    if not dif:
        parallel_for(blocks, 1 << k, m, tw, tws, log_n - k, _MATRIX_BLOCK_ELEMENTS_LOG, width,
                     work_per_item=(n >> k) * width)
    for l in layers:
        parallel_for(_dif_top if dif else _dit_top, n >> 2, m, tw, tws, l, width, work_per_item=4 * width)
    if dif:
        parallel_for(blocks, 1 << k, m, tw, tws, log_n - k, _MATRIX_BLOCK_ELEMENTS_LOG, width,
                     work_per_item=(n >> k) * width)
    return m


#: The matrix kernel's vectorised loop runs along a row's columns, 8 per AVX2 instruction, and
#: a tail of 4 as one 4-lane instruction; what is left past that runs as scalar code, ~4.5 ms
#: a column at 2^18 rows where 8 vectorised columns take ~14 ms. A matrix narrower than one
#: group (16 columns) with such a scalar tail is transformed in a copy padded with zero columns
#: to padded_width (2^18 × 6: 20.1 → 16.3 ms; × 14: 24.9 → 17.5 ms, the copies included); a
#: wider one in place, where the copies of its last columns cost more than their scalar code
#: (2^18 × 85: 83.8 ms through an 8-column scratch, 68.9 ms in place; × 22: 33.1 / 33.9 ms;
#: 2^20 × 85: 369 / 306 ms). A buffer the caller makes padded_width wide (ntt.padded_buffer)
#: needs no copy: there padding pays below 64 columns (2^18 × 22 in a 24-column buffer:
#: 25.1 ms), and above it the tail is a few % of the row (× 85: 71.3 ms padded to 88).
#: A tail of at most _PAD_FROM − 1 columns, or of exactly 4 past a multiple of 8, is never
#: padded (2^18 × 4: 11.0 ms in place, 13.8 padded to 8; × 20: 21.6 / 26.1 ms); one of 9–15
#: past a multiple of 16 is padded to a whole group of 16 (× 12: 17.0 ms in place, 14.9
#: padded). (1 thread, best of 5, load 2.5, 2026-12-06: bench/results/stark_kernels.md, "glue".)
_LANE_COLUMNS = 8
_PAD_FROM = 3
#: matrices of at least this many columns are never padded (see above)
_PAD_BELOW = 64


def _padding(width: int) -> int:
    # the multiple of 8 (or 16) a remainder of width's columns is padded to, or 0 (see _PAD_FROM)
    pad = _GROUP_COLUMNS if width % _GROUP_COLUMNS > _LANE_COLUMNS else _LANE_COLUMNS
    tail = width % pad
    return pad if width < _PAD_BELOW and tail >= _PAD_FROM and tail != _LANE_COLUMNS // 2 else 0


def padded_width(width: int) -> int:
    """The columns a transform of ``width`` columns runs on best (its remainder zero-padded: see
    _PAD_FROM). A buffer this wide, its first ``width`` columns the matrix, is transformed in
    place — the extra columns' values are transformed too and mean nothing (the quotient's
    coset buffers: prover._quotient_coefficients; the LDE's hash blocks: lde_source.py)."""
    pad = _padding(width)
    return width - width % pad + pad if pad else width


def padded_buffer(rows: int, width: int) -> np.ndarray:
    """A (rows, padded_width(width)) uint32 buffer to transform ``width`` columns in place: its
    padding columns zero (a padding column only ever holds transforms of zeros), and no
    zeroing pass when there are none (the caller writes every column before the transform)."""
    wide = padded_width(width)
    return np.zeros((rows, wide), dtype=np.uint32) if wide > width else np.empty((rows, width), dtype=np.uint32)


def _transform(dif, m, log_n, inverse):
    # the DIF (dif) or DIT network on all of m's columns: in place, or — a matrix narrower
    # than one column group with a scalar tail (see _PAD_FROM) — in a zero-padded copy
    w = m.shape[1]
    if w >= _GROUP_COLUMNS or padded_width(w) == w:
        return _by_rows(dif, m, log_n, inverse, w)
    scratch = padded_buffer(m.shape[0], w)
    scratch[:, :w] = m
    _by_rows(dif, scratch, log_n, inverse, scratch.shape[1])
    m[:] = scratch[:, :w]
    return m


def _dif(m, log_n, inverse):
    """In-place DIF on a C-contiguous (n, w) matrix: natural in, bit-reversed out."""
    if m.shape[1] == 1:
        tw, tws = _twiddles(log_n, inverse)
        _dif_1d(m.reshape(-1), tw, tws, log_n, _BLOCK_ROWS_LOG, _CHUNK_LOG)
        return m
    return _transform(True, m, log_n, inverse)


def _dit(m, log_n, inverse):
    """In-place DIT on a C-contiguous (n, w) matrix: bit-reversed in, natural out."""
    if m.shape[1] == 1:
        tw, tws = _twiddles(log_n, inverse)
        _dit_1d(m.reshape(-1), tw, tws, log_n, _BLOCK_ROWS_LOG, _CHUNK_LOG)
        return m
    return _transform(False, m, log_n, inverse)


def _shoup_const(c: int):
    return np.array([c, (c << 32) // P], dtype=np.uint32)


def ntt(coeffs):
    """Evaluate each column's polynomial Σ c_i X^i on H = ⟨ω_n⟩: out[j] = Σ_i c_i ω_n^(ij).

    Natural order in and out; axis 0 of a 1-D (n,) or 2-D (n, w) uint32 array. (Computed as
    a bit-reversing copy followed by an in-place decimation-in-time network.)"""
    m, log_n = _rows(coeffs, "ntt")
    out = _bit_reverse_into(m, np.empty_like(m))
    return _dit(out, log_n, False).reshape(np.shape(coeffs))


def intt(evals):
    """Interpolate: the coefficients c_i = n^(−1) Σ_j e_j ω_n^(−ij) of the polynomial taking
    the values e_j on H = ⟨ω_n⟩ (inverse of ntt). (Into the first rows of a taller matrix:
    intt_columns_into.)"""
    m, log_n = _rows(evals, "intt")
    return _scaled_intt(_bit_reverse_into(m, np.empty_like(m)), log_n).reshape(np.shape(evals))


def intt_columns_into(parts: list, out: np.ndarray) -> np.ndarray:
    """intt of the matrices ``parts`` (each (n, w_k), values on H) side by side, written to
    ``out`` (n, Σ w_k), C-contiguous: part k's coefficients in its columns — each part
    bit-reversed straight into its columns, then one in-place transform, no joined copy of
    the parts (hiding mode's main trace and the blinding ring's columns: prover.py)."""
    lo = 0
    for part in parts:
        m, _log_n = _rows(part, "intt_columns_into")
        _bit_reverse_into(m, out[:, lo:lo + m.shape[1]])
        lo += m.shape[1]
    assert lo == out.shape[1] and out.flags.c_contiguous
    return _scaled_intt(out, _log2_exact(out.shape[0], "intt_columns_into"))


def ntt_of_folded(coeffs, log_n: int, rows: int | None = None) -> np.ndarray:
    """The values on H = ⟨ω_n⟩, natural order (as ntt), of polynomials given by more than n
    coefficient rows (D, w): x^n = 1 on H, so row i adds to coefficient i mod n — the rows
    from n on folded in, then one size-n transform. ``rows``: only the first ``rows`` may be
    nonzero (those after are not read: hiding mode's f̂, whose rows from n + m_r on are zero
    pages never written)."""
    m = np.asarray(coeffs)
    n, rows = 1 << log_n, m.shape[0] if rows is None else min(int(rows), m.shape[0])
    out = _bit_reverse_into(m[:n], np.empty((n, m.shape[1]), dtype=np.uint32))
    rev = _bit_reverse_indices_cached(log_n)
    for lo in range(n, rows, n):  # rows lo … lo + n − 1 fold onto coefficients 0 … n − 1
        hi = min(lo + n, rows)
        at = rev[:hi - lo]  # coefficient i sits in row rev(i) of the bit-reversed copy
        out[at] = field_add(out[at], m[lo:hi])
    return _dit(out, log_n, False)


def intt_bit_reversed(evals):
    """intt of values given in bit-reversed order (row j holds e_rev(j): what coset_lde's rows
    and a DIF transform leave): the inverse DIT network reads them as they are, no permutation."""
    m, log_n = _rows(evals, "intt_bit_reversed")
    return _scaled_intt(np.array(m, copy=True), log_n).reshape(np.shape(evals))


def _scaled_intt(m, log_n):
    # in place: bit-reversed values → natural-order coefficients (the DIT network, then 1/n)
    out = _dit(m, log_n, True)
    parallel_for(_scale_const, out.shape[0], out, _shoup_const(pow(1 << log_n, P - 2, P)), work_per_item=out.shape[1])
    return out


#: _coset_factors keeps its last COSET_FACTORS_KEPT results, and older ones while all of them
#: hold at most COSET_FACTORS_ELEMENTS factors (×4 B: 16 MB): a proof
#: extends each table's main, aux and quotient polynomials on the same blocks' cosets, so a
#: small proof's ~16 tables reuse every table's factors (a cache of 4 missed half its calls,
#: ~50 ms of CPU in a fibonacci(10) proof) while a large one keeps about what 4 held
COSET_FACTORS_KEPT = 4
COSET_FACTORS_ELEMENTS = 1 << 22
_factors: dict = {}  # (log_n, log_blowup, shift, from_coefficients) → factors, oldest use first
_factors_lock = threading.Lock()


def drop_coset_factors() -> None:
    """Forget every cached coset factor (a large proof's last LDEs', up to tens of MB, freed
    before its FRI layers are built; the next use makes them again)."""
    with _factors_lock:
        _factors.clear()


def _coset_factors(log_n: int, log_blowup: int, shift: int, from_coefficients: bool = False):
    # factors[k, i] = (shift·ω_N^rev_b(k))^i / n for the B = 2^b cosets of H in shift·H': see
    # coset_lde. From coefficients: without the 1/n. (Their Shoup quotients are computed where
    # they are used, a row at a time: _shoup; a table of them cost a numpy uint64 division
    # pass, ~3 ms a million factors.)
    key = (log_n, log_blowup, shift, from_coefficients)
    with _factors_lock:
        if key in _factors:
            _factors[key] = _factors.pop(key)  # now the newest
            return _factors[key]
    made = _make_coset_factors(*key)
    with _factors_lock:
        _factors[key] = made
        while len(_factors) > COSET_FACTORS_KEPT and \
                sum(f.size for f in _factors.values()) > COSET_FACTORS_ELEMENTS:
            del _factors[next(iter(_factors))]  # the oldest
    return made


def _make_coset_factors(log_n: int, log_blowup: int, shift: int, from_coefficients: bool):
    from .field import powers

    n, blocks = 1 << log_n, 1 << log_blowup
    w_big = root_of_unity(log_n + log_blowup)
    n_inv = 1 if from_coefficients else pow(n, P - 2, P)
    rev_b = _bit_reverse_indices_cached(log_blowup)
    f = np.empty((blocks, n), dtype=np.uint32)
    for k in range(blocks):  # B ≤ a few dozen rows, each filled by a numba kernel
        g = shift * pow(w_big, int(rev_b[k]), P) % P
        f[k] = powers(g, n) if n_inv == 1 else ((powers(g, n).astype(np.uint64) * n_inv) % P).astype(np.uint32)
    f.setflags(write=False)
    return f


def coset_lde(evals, log_blowup: int, shift: int = GENERATOR):
    """Low-degree extension: evaluate each column's interpolant on the coset shift·H'.

    evals (n, w) are a column's values on H = ⟨ω_n⟩ (natural order). The result (N, w),
    N = n·2^log_blowup, holds f(shift·ω_N^rev(j)) in row j: BIT-REVERSED row order over the
    coset shift·H', H' = ⟨ω_N⟩. A 1-D input gives a 1-D output.

    How: interpolate, c = intt(e). With B = 2^log_blowup, H' is the union of the B cosets
    ω_N^r·H, and in bit-reversed order block k (rows k·n … k·n + n − 1) holds exactly the
    points shift·ω_N^r·H for r = rev_b(k), themselves bit-reversed. On that coset
    f(shift·ω_N^r·ω_n^j) = Σ_i (c_i·(shift·ω_N^r)^i)·ω_n^(ij): a size-n NTT of the scaled
    coefficients. So each block is one scaling pass plus one in-place decimation-in-frequency
    transform (bit-reversed out) — no zero padding, no permutation at the end."""
    evals_arr = np.asarray(evals)
    m, log_n = _rows(evals_arr, "coset_lde")
    log_blowup, shift = _check_lde(log_n, log_blowup, shift, "coset_lde")
    out = np.empty((m.shape[0] << log_blowup, m.shape[1]), dtype=np.uint32)
    # the coefficients n·c_i (natural order) are computed in the output's first block, which
    # _evaluate_cosets overwrites last: no temporary of the input's size
    coeffs = _dit(_bit_reverse_into(m, out[:m.shape[0]]), log_n, True)
    _evaluate_cosets(coeffs, log_n, log_blowup, shift, False, out)
    if evals_arr.ndim == 1:
        return out.reshape(-1)
    return out


def _check_lde(log_n: int, log_blowup: int, shift: int, what: str) -> tuple:
    log_blowup = int(log_blowup)
    if log_blowup < 0 or log_n + log_blowup > TWO_ADICITY:
        raise UsageError(f"{what}: log_blowup={log_blowup} gives an LDE of 2^{log_n + log_blowup} rows; keep it ≤ 2^{TWO_ADICITY}")
    shift = int(shift) % P
    if shift == 0:
        raise UsageError(f"{what}: the coset shift must be nonzero")
    return log_blowup, shift


def _evaluate_cosets(coeffs, log_n, log_blowup, shift, from_coefficients, out):
    # block k of out ← the size-n NTT (bit-reversed) of coeffs_i·(shift·ω_N^rev_b(k))^i (/n
    # unless from_coefficients): one scaling pass that writes the block, then its transform.
    # Block 0 goes last, so coeffs may be out's first block itself (scaled in place).
    # The blocks are independent: a narrow matrix's (fewer column groups than threads) side by
    # side on the thread pool, each thread a whole block with no barrier between its passes; a
    # wider one's one at a time, each transform split by rows (_by_rows). (The rule predates the
    # row split, when a narrow matrix's transform ran on one thread; it was not re-measured.)
    factors = _coset_factors(log_n, log_blowup, shift, from_coefficients)
    order = np.array([*range(1, 1 << log_blowup), 0])  # one coset of H per block of rows
    last = len(order) if from_coefficients else len(order) - 1  # coset_lde: block 0 after the others
    if column_groups(coeffs.shape[1]) >= threads():
        last = 0
    parallel_for(_coset_blocks, last, coeffs, factors, out, order, log_n,
                 work_per_item=coeffs.shape[0] * coeffs.shape[1])
    _coset_blocks(coeffs, factors, out, order, log_n, last, len(order))


def _coset_blocks(coeffs, factors, out, order, log_n, lo, hi):
    # _evaluate_cosets' blocks order[lo..hi−1] (a chunk of pool.parallel_for: the Python glue
    # holds the GIL, the kernels release it)
    n = coeffs.shape[0]
    for k in order[lo:hi].tolist():
        block = out[k * n : (k + 1) * n]
        parallel_for(_scale_rows_into, n, coeffs, factors[k], block, work_per_item=coeffs.shape[1])
        _dif(block, log_n, False)


def coset_evaluations(coeffs, log_size: int, shift: int, out=None, rows: int | None = None):
    """Row j of the (2^log_size, w) result is Σ_i c_i·x_j^i at x_j = shift·ω_c^rev(j), c =
    2^log_size (bit-reversed, as coset_lde): the polynomials of the D coefficient rows on the
    coset shift·K_c, of any size. c ≥ D: coset_lde_from_coefficients. c < D: with
    g_i = c_i·shift^i, f(shift·y) = Σ_i g_i·y^i and y^c = 1 on K_c, so f there is the size-c
    transform of the folded g'_i = Σ_k g_(i + k·c) — one scaling pass, D/c − 1 additions and a
    transform of size c, where an LDE of the whole polynomial would transform D ≥ 2c rows.
    ``out``: a (c, w) uint32 array to write them to (reused across cosets: a fresh one of
    tens of MB costs its page faults each time), or a wider one, (c, padded_width(w)): the
    first w columns are the result, the others are transformed in place beside them.
    ``rows``: only the first ``rows`` coefficient rows may be nonzero (those after are not
    read: hiding mode's f̂, zero from n + m_r on of its D = 2n, folds half the rows)."""
    m, log_d = _rows(coeffs, "coset_evaluations")
    if log_size >= log_d:
        return coset_lde_from_coefficients(m, log_size - log_d, shift, out)
    _check_lde(log_d, 0, shift, "coset_evaluations")
    factors = _coset_factors(log_d, 0, shift, True)
    out = np.empty((1 << log_size, m.shape[1]), dtype=np.uint32) if out is None else out
    m = m if rows is None else m[:max(0, min(int(rows), m.shape[0]))]
    parallel_for(_scale_fold_into, out.shape[0], m, factors[0], out,
                 work_per_item=-(-m.shape[0] // out.shape[0]) * m.shape[1])
    return _dif(out, log_size, False)


def coset_lde_from_coefficients(coeffs, log_blowup: int, shift: int = GENERATOR, out=None):
    """The LDE of polynomials given by their coefficients: row j of the (n·2^b, w) result is
    Σ_i c_i·x_j^i at x_j = shift·ω_N^rev(j) (bit-reversed, as coset_lde). The same blocks as
    coset_lde without the interpolation: no zero-padded transform of the whole size, no
    permutation, no temporary of the LDE's size. ``out``: the (n·2^b, w) uint32 array to write
    (C-contiguous; e.g. one block's buffer reused for every block: lde_source.py)."""
    m, log_n = _rows(coeffs, "coset_lde_from_coefficients")
    log_blowup, shift = _check_lde(log_n, log_blowup, shift, "coset_lde_from_coefficients")
    if out is None:
        out = np.empty((m.shape[0] << log_blowup, m.shape[1]), dtype=np.uint32)
    _evaluate_cosets(m, log_n, log_blowup, shift, True, out)
    return out.reshape(-1) if np.ndim(coeffs) == 1 else out
