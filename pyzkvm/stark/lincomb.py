"""Random linear combinations: the kernels behind "Σ α^i C_i" and "Σ c_i f_i".

Three numba kernels the prover and verifier share (the quotient's Σ α^i C_i is folded inside
the constraint evaluator, tape.py):

* ``combine_columns(matrix, coeffs)``: Σ_j coeffs_j · matrix[:, j] for a base matrix (N, w) and
  w extension coefficients: the DEEP combination Σ c_i f_i(x) of committed columns
  (``combine_terms``: of several matrices, added up before one reduction).
* ``denominators(matrix, coeffs, const)``: const − Σ_j coeffs_j · matrix[:, j] per row: the
  LogUp denominators α − (bus + Σ_j γ^(j+1)·v_j) of one bus interaction over whole columns.
* ``weighted_column_sums(matrix, weights)``: Σ_i weights_i · matrix[i, :] for each column:
  evaluating every column's polynomial at one point (powers of ζ on coefficients);
  ``column_sums_at_two_points`` adds chosen columns' sums with other weights in the same
  pass (the openings at ζ and ζω).

Delayed reduction: a base product x·c (x, c < p < 2^31) is < (p − 1)^2 < 2^62, so four of them
add up to s < 4·(p − 1)^2 < 2^64 without overflow. Instead of reducing each product (a 64-bit
``%`` per multiply-add), each sum keeps two uint64 accumulators, the low and the high 32 bits of
every such group of four products (of 4 columns in ``combine_columns``, of 4 rows in the column
sums; ``denominators``: of every product): ``lo += s & (2^32 − 1)``, ``hi += s >> 32``. Up to
2^32 groups add without overflow, the loop is multiplies, shifts and adds (vectorisable; ~3
operations per product), and the total hi·2^32 + lo is reduced once (``field.f_join``).

Threads: the row kernels take a range of rows [r0, r1) and release the GIL; the prover's
whole-LDE calls run chunks of rows side by side on the thread pool (pool.parallel_for), and a
small matrix (the verifier's few query rows, small tables) runs on the calling thread.
"""

from __future__ import annotations

import numpy as np
from .._jit import inner
from ..lazy_njit import LazyIntrinsic, njit

from . import lincomb_numpy
from .field import P, f_join, f_join_vec
from .pool import chunk_bounds, parallel_for

_P = np.uint64(P)
_LOW = np.uint64(0xFFFFFFFF)
_32 = np.uint64(32)

_TILE = 32  # rows combined at once (their accumulators and the tile's columns stay in cache)
_rows_to_lanes = LazyIntrinsic("pyzkvm.stark.lane_tiles", "rows_to_lanes")  # (imports numba: on first use)


@njit(cache=True, nogil=True)
def _combine_rows(matrix, coeffs, lo, hi, r0, r1):
    # the halves of Σ_j matrix[i, j]·coeffs[j, k] (canonical entries) added to lo[k, i − r0] and
    # hi[k, i − r0] for rows r0..r1−1: delayed reduction by groups of 4 columns, s = Σ of 4
    # products < 4·(p − 1)^2 < 2^64, then its halves go to the accumulators (module docstring;
    # _join_halves reduces them once, after every term). A tile of _TILE rows at a time,
    # transposed (tile[j, i] = matrix[t0 + i, j]: 16 × 16 blocks in vector registers,
    # lane_tiles.rows_to_lanes), so the innermost loop runs along the tile's rows (vectorised).
    # The columns go in groups of 4 sorted by how many lanes they need (the last group padded
    # with the tile's zero row): a column whose coefficients are zero from lane 4 on (a DEEP
    # column not read at ζω: openings.zero_unread_coefficients; most main columns) adds into
    # lanes 0–3 only, and its group computes only those if all four columns are such
    w = matrix.shape[1]
    k_out = coeffs.shape[1]
    lanes = np.empty(w, dtype=np.int64)  # per column: the lanes its products go to
    for j in range(w):
        lanes[j] = min(4, k_out)
        for k in range(4, k_out):
            if coeffs[j, k]:
                lanes[j] = min(k_out, (k // 4 + 1) * 4)  # through the 4-lane block of its last nonzero
    order = np.empty(w, dtype=np.int64)  # the widest columns first (they share groups), else in order
    placed = 0
    for width in range(k_out, 0, -4):
        for j in range(w):
            if lanes[j] == width:
                order[placed] = j
                placed += 1
    groups = (w + 3) // 4
    w16 = (w + 15) // 16 * 16
    column = np.full(4 * groups, w16, dtype=np.int64)  # the tile row of each column in that order (w16: zero)
    c = np.zeros((4 * groups, k_out), dtype=np.uint64)  # their coefficients
    group_lanes = np.zeros(groups, dtype=np.int64)
    for jj in range(w):
        column[jj] = order[jj]
        c[jj] = coeffs[order[jj]]
        group_lanes[jj // 4] = max(group_lanes[jj // 4], lanes[order[jj]])
    tile = np.zeros((w16 + 1, _TILE), dtype=np.uint32)  # rows w.. stay 0
    words, tile_words = matrix.reshape(-1), tile.reshape(-1)
    tile_lo = np.empty((k_out, _TILE), dtype=np.uint64)  # the tile's sums (its own arrays: the
    tile_hi = np.empty((k_out, _TILE), dtype=np.uint64)  # loop vectorises), then added to lo/hi
    for t0 in range(r0, r1, _TILE):
        m = min(_TILE, r1 - t0)
        if m == _TILE and (t0 + _TILE) * w + 16 <= words.shape[0]:  # (a block reads 16 words of each row)
            for j in range(0, w, 16):
                for i in range(0, _TILE, 16):
                    _rows_to_lanes(words, (t0 + i) * w + j, w, min(16, w - j), tile_words, j * _TILE + i, _TILE)
        else:  # the matrix's last rows: one word at a time
            for i in range(m):
                for j in range(w):
                    tile[j, i] = matrix[t0 + i, j]
        tile_lo[:] = 0
        tile_hi[:] = 0
        for g in range(groups):
            j = 4 * g
            x0, x1, x2, x3 = tile[column[j]], tile[column[j + 1]], tile[column[j + 2]], tile[column[j + 3]]
            for k in range(group_lanes[g]):
                c0, c1, c2, c3 = c[j, k], c[j + 1, k], c[j + 2, k], c[j + 3, k]
                lk, hk = tile_lo[k], tile_hi[k]
                for i in range(_TILE):
                    s = np.uint64(x0[i]) * c0 + np.uint64(x1[i]) * c1 + np.uint64(x2[i]) * c2 + np.uint64(x3[i]) * c3
                    lk[i] += s & _LOW
                    hk[i] += s >> _32
        at = t0 - r0
        for k in range(k_out):
            for i in range(m):
                lo[k, at + i] += tile_lo[k, i]
                hi[k, at + i] += tile_hi[k, i]


@njit(cache=True, nogil=True)
def _join_halves(lo, hi, out):
    # out[i, k] = (hi[k, i]·2^32 + lo[k, i]) mod p for out's rows (lo, hi < 2^62: f_join_vec),
    # vectorised along i in place in lo, then written row by row
    rows, k_out = out.shape
    for k in range(k_out):
        lk, hk = lo[k], hi[k]
        for i in range(rows):
            lk[i] = f_join_vec(lk[i], hk[i])
    for i in range(rows):
        for k in range(k_out):
            out[i, k] = lo[k, i]


#: rows combined per kernel call (combine_terms): every term adds into accumulators of this
#: many rows (2·k·8 bytes a row: 512 KB for the DEEP's k = 8, in L2), reduced once
COMBINE_CHUNK_ROWS = 1 << 12


def combine_columns(matrix: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """Row-wise Σ_j coeffs_j · matrix[:, j] for a base matrix (N, w) and coefficients (w, 4)
    in F_p^4 → (N, 4). Several combinations in one pass over the matrix: coeffs (w, 4·m) →
    (N, 4·m) (each group of 4 output columns is one F_p^4 combination)."""
    return combine_terms([(matrix, coeffs)], 0, matrix.shape[0])


def combine_terms(terms: list, r0: int, r1: int) -> np.ndarray:
    """Rows r0..r1−1 of Σ_t combine_columns(matrix_t, coeffs_t) over the terms (matrix_t
    (N_t, w_t) base, coeffs_t (w_t, k) with one k for all, canonical), (r1 − r0, k): a matrix
    with fewer rows adds zeros past its last. Each row's values are reduced once, however
    many terms add into it: the rows go in chunks of COMBINE_CHUNK_ROWS (side by side on the
    thread pool), every term adding into a chunk's accumulators before they are reduced."""
    k = terms[0][1].shape[1]
    out = np.zeros((r1 - r0, k), dtype=np.uint32)
    terms = [(np.ascontiguousarray(m, dtype=np.uint32), np.ascontiguousarray(c, dtype=np.uint32))
             for m, c in terms if m.shape[1] and min(r1, m.shape[0]) > r0]
    if not terms:
        return out
    if r1 - r0 <= lincomb_numpy.MAX_ROWS:  # a verifier's few rows: no kernel
        acc = out.astype(np.uint64)
        for m, c in terms:
            part = lincomb_numpy.combine_columns(m[r0:r1], c)
            acc[:len(part)] += part
        return (acc % _P).astype(np.uint32)  # < 2^32 canonical terms
    end = min(r1, max(m.shape[0] for m, _c in terms))  # rows from here on stay 0
    chunks = -(-(end - r0) // COMBINE_CHUNK_ROWS)
    parallel_for(_combine_chunks, chunks, terms, r0, end, out,
                 work_per_item=COMBINE_CHUNK_ROWS * sum(m.shape[1] for m, _c in terms) * k // 4)
    return out


def _combine_chunks(terms: list, r0: int, r1: int, out: np.ndarray, first: int, last: int) -> None:
    # combine_terms' chunks first..last−1 (a range of pool.parallel_for): each chunk's rows
    # [a, b) summed over the terms in lo/hi, then reduced into out's rows a − r0 …
    k = out.shape[1]
    lo = np.empty((k, COMBINE_CHUNK_ROWS), dtype=np.uint64)
    hi = np.empty((k, COMBINE_CHUNK_ROWS), dtype=np.uint64)
    for chunk in range(first, last):
        a = r0 + chunk * COMBINE_CHUNK_ROWS
        b = min(r1, a + COMBINE_CHUNK_ROWS)
        lo[:] = 0
        hi[:] = 0
        for matrix, coeffs in terms:
            if min(b, matrix.shape[0]) > a:
                _combine_rows(matrix, coeffs, lo, hi, a, min(b, matrix.shape[0]))
        _join_halves(lo, hi, out[a - r0:b - r0])


@njit(cache=True, nogil=True)
def _denominator_rows(matrix, coeffs, const, out, r0, r1):
    # out[i] = const − Σ_j matrix[i, j]·coeffs[j] ∈ F_p^4 for rows r0..r1−1, delayed reduction
    w = matrix.shape[1]
    for i in range(r0, r1):
        lo0 = lo1 = lo2 = lo3 = np.uint64(0)
        hi0 = hi1 = hi2 = hi3 = np.uint64(0)
        for j in range(w):
            x = np.uint64(matrix[i, j])
            p0 = x * np.uint64(coeffs[j, 0])
            p1 = x * np.uint64(coeffs[j, 1])
            p2 = x * np.uint64(coeffs[j, 2])
            p3 = x * np.uint64(coeffs[j, 3])
            lo0 += p0 & _LOW
            lo1 += p1 & _LOW
            lo2 += p2 & _LOW
            lo3 += p3 & _LOW
            hi0 += p0 >> _32
            hi1 += p1 >> _32
            hi2 += p2 >> _32
            hi3 += p3 >> _32
        out[i, 0] = (np.uint64(const[0]) + _P - f_join(lo0, hi0)) % _P
        out[i, 1] = (np.uint64(const[1]) + _P - f_join(lo1, hi1)) % _P
        out[i, 2] = (np.uint64(const[2]) + _P - f_join(lo2, hi2)) % _P
        out[i, 3] = (np.uint64(const[3]) + _P - f_join(lo3, hi3)) % _P


def denominators(matrix: np.ndarray, coeffs: np.ndarray, const: np.ndarray) -> np.ndarray:
    """Row-wise const − Σ_j coeffs_j · matrix[:, j] ∈ F_p^4 (matrix (N, m) base, coeffs (m, 4),
    const (4,)): with const = α − bus and coeffs_j = γ^(j+1) this is α − fingerprint."""
    matrix = np.ascontiguousarray(matrix, dtype=np.uint32)
    if matrix.shape[0] <= lincomb_numpy.MAX_ROWS:  # a few rows (the verifier's public entries): no kernel
        return lincomb_numpy.denominators(matrix, np.asarray(coeffs, dtype=np.uint32).reshape(-1, 4), const)
    out = np.empty((matrix.shape[0], 4), dtype=np.uint32)
    args = (matrix, np.ascontiguousarray(coeffs, dtype=np.uint32).reshape(-1, 4),
            np.ascontiguousarray(const, dtype=np.uint32).reshape(4), out)
    parallel_for(_denominator_rows, matrix.shape[0], *args, work_per_item=4 * matrix.shape[1])
    return out


@njit(cache=True, nogil=True)
def _weighted_column_sums(matrix, weights, columns2, weights2, out, out2, r0, r1):
    # out[j] = Σ_i weights[i]·matrix[i, j] for every column j, and out2[c] = Σ_i
    # weights2[i]·matrix[i, columns2[c]] for the chosen columns, over rows r0 … r1 − 1, in one
    # pass over the rows (canonical entries). Delayed reduction by groups of 4 rows: per column
    # and lane, s = Σ of the 4 rows' products < 4·(p − 1)^2 < 2^64, whose halves go to the lo/hi
    # accumulators (module docstring; < 2^32 groups: 2^34 rows is beyond any table), reduced
    # once at the end. The j loop runs along a row's contiguous columns (vectorised), the
    # accumulators (4, w) stay in L1
    w, w2 = matrix.shape[1], columns2.shape[0]
    lo = np.zeros((4, w), dtype=np.uint64)
    hi = np.zeros((4, w), dtype=np.uint64)
    lo2 = np.zeros((w2, 4), dtype=np.uint64)
    hi2 = np.zeros((w2, 4), dtype=np.uint64)
    i = r0
    while i < r1:
        rows = min(4, r1 - i)  # 4, or the last 1–3 rows (the others' weights taken as 0)
        x0, x1, x2, x3 = matrix[i], matrix[i + min(1, rows - 1)], matrix[i + min(2, rows - 1)], matrix[i + rows - 1]
        for k in range(4):
            a0, a1, a2, a3 = _four_weights(weights, i, rows, k)
            lk, hk = lo[k], hi[k]
            for j in range(w):
                s = np.uint64(x0[j]) * a0 + np.uint64(x1[j]) * a1 + np.uint64(x2[j]) * a2 + np.uint64(x3[j]) * a3
                lk[j] += s & _LOW
                hk[j] += s >> _32
        for c in range(w2):  # the few chosen columns
            j = columns2[c]
            y0, y1, y2, y3 = np.uint64(x0[j]), np.uint64(x1[j]), np.uint64(x2[j]), np.uint64(x3[j])
            for k in range(4):
                a0, a1, a2, a3 = _four_weights(weights2, i, rows, k)
                s = y0 * a0 + y1 * a1 + y2 * a2 + y3 * a3
                lo2[c, k] += s & _LOW
                hi2[c, k] += s >> _32
        i += rows
    for j in range(w):
        for k in range(4):
            out[j, k] = f_join(lo[k, j], hi[k, j])
    for c in range(w2):
        for k in range(4):
            out2[c, k] = f_join(lo2[c, k], hi2[c, k])


@inner
def _four_weights(weights, i, rows, k):
    # lane k of weights[i … i + 3] as uint64, those from row i + rows on 0 (a last group of < 4 rows)
    a0 = np.uint64(weights[i, k])
    a1 = np.uint64(weights[i + 1, k]) if rows > 1 else np.uint64(0)
    a2 = np.uint64(weights[i + 2, k]) if rows > 2 else np.uint64(0)
    a3 = np.uint64(weights[i + 3, k]) if rows > 3 else np.uint64(0)
    return a0, a1, a2, a3


_NO_COLUMNS = np.zeros(0, dtype=np.int64)


def weighted_column_sums(matrix: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """For each column j: Σ_i weights_i · matrix[i, j] ∈ F_p^4 (matrix (n, w) base, weights
    (n, 4), both canonical); (w, 4).

    With weights_i = ζ^i and matrix = coefficients this is f_j(ζ); with barycentric weights
    and matrix = evaluations on H it is also f_j(ζ). A tall matrix's rows are summed in
    chunks side by side on the thread pool, then the chunks' sums added."""
    return column_sums_at_two_points(matrix, weights, weights, _NO_COLUMNS)[0]


def column_sums_at_two_points(matrix: np.ndarray, weights: np.ndarray, weights2: np.ndarray, columns2) -> tuple:
    """(weighted_column_sums(matrix, weights), the same sums with ``weights2`` of the columns
    ``columns2``, in that order): a committed matrix's openings at ζ (every column) and at ζω
    (the columns read at the next row), in one pass over the matrix (the chosen columns are
    read in place, beside the rest of their row)."""
    matrix = np.ascontiguousarray(matrix, dtype=np.uint32)
    weights = np.ascontiguousarray(weights, dtype=np.uint32)
    weights2 = np.ascontiguousarray(weights2, dtype=np.uint32)
    cols = np.ascontiguousarray(columns2, dtype=np.int64)
    w, w2 = matrix.shape[1], cols.shape[0]
    bounds = chunk_bounds(matrix.shape[0], w + w2, chunks_per_thread=1)
    parts = np.zeros((len(bounds) - 1, w, 4), dtype=np.uint32)
    parts2 = np.zeros((len(bounds) - 1, w2, 4), dtype=np.uint32)
    parallel_for(_sums_of_chunks, len(parts), matrix, weights, cols, weights2, bounds, parts, parts2,
                 work_per_item=matrix.shape[0] * (w + w2) // len(parts), chunks_per_thread=1)
    return _added(parts), _added(parts2)


def _added(parts: np.ndarray) -> np.ndarray:
    # the chunks' sums (chunks, w, 4) added: < 2^32 canonical terms
    return parts[0] if len(parts) == 1 else (parts.astype(np.uint64).sum(axis=0) % P).astype(np.uint32)


def _sums_of_chunks(matrix, weights, cols, weights2, bounds, parts, parts2, lo: int, hi: int) -> None:
    # column_sums_at_two_points of row chunks lo..hi−1 (a chunk of pool.parallel_for), each into its parts
    for c in range(lo, hi):
        _weighted_column_sums(matrix, weights, cols, weights2, parts[c], parts2[c], bounds[c], bounds[c + 1])
