"""Evaluation domains: the trace subgroup H, the LDE cosets, and the selectors on them.

Trace domain of a table with n = 2^k rows: H = ⟨ω_n⟩, row i ↦ ω_n^i.

LDE cosets. Every committed codeword of size 2^l lives on the coset

    D_l = s_l · K_l,   K_l = ⟨ω_{2^l}⟩,   s_l = g^(2^(27 − l)),  g = 31.

Why this shift and not plain g: squaring maps D_l onto D_{l−1} exactly (s_l² = s_{l−1}), so
after FRI folds the size-2^L codeword down to size 2^l, the folded domain *is* the LDE domain of
every table whose LDE has size 2^l: tables of different heights roll into one FRI, and a
preprocessed table's LDE does not depend on the other tables (it is committed once, into the
verifying key). D_l avoids the trace domain: x ∈ D_l ⇒ x^(2^l) = g^(2^27) ≠ 1, an element of
order 15.

Rows of committed LDEs are stored in bit-reversed order: row r holds x = s_l·ω_{2^l}^rev(r),
so rows 2i and 2i+1 hold x and −x (the pair FRI folds), and the first 2^m rows are the smaller
coset s_l·K_m in bit-reversed order (used as the quotient domain).
"""

from __future__ import annotations

import numpy as np
from ..lazy_njit import njit

from . import field
from .field import GENERATOR, P, TWO_ADICITY, _batch_inverse_kernel, f_add_u32, f_inv, f_mul, f_mul_u32, f_pow, \
    f_reduce64, f_sub, f_sub_u32, root_of_unity
from . import ntt
from .ntt import _mul_tw, _shoup, bit_reverse_indices, intt_bit_reversed
from .pool import parallel_for


def coset_shift(log_size: int) -> int:
    """s_l = g^(2^(27 − l)): the shift of the size-2^l LDE coset D_l."""
    return _COSET_SHIFTS[log_size] if 0 <= log_size <= TWO_ADICITY else pow(GENERATOR, 1 << (TWO_ADICITY - log_size), P)


#: s_l for every l (coset_shift: asked hundreds of times a prove)
_COSET_SHIFTS = [pow(GENERATOR, 1 << (TWO_ADICITY - log_size), P) for log_size in range(TWO_ADICITY + 1)]


def coset_points(log_size: int, shift: int, bit_reversed: bool) -> np.ndarray:
    """The points shift·ω^j of a coset of size 2^log_size (natural or bit-reversed order)."""
    pts = field.mul(field.powers(root_of_unity(log_size), 1 << log_size), np.uint32(shift))
    return pts[bit_reverse_indices(1 << log_size)] if bit_reversed else pts


def point_at(log_size: int, index: np.ndarray) -> np.ndarray:
    """x = s_l·ω_{2^l}^rev(index) for committed (bit-reversed) rows `index` of D_l."""
    return _points(log_size, index, root_of_unity(log_size), coset_shift(log_size))


def inverse_point_at(log_size: int, index: np.ndarray) -> np.ndarray:
    """1/x for the points point_at gives: s_l^−1·(ω_{2^l}^−1)^rev(index), no inversion."""
    return _points(log_size, index, pow(root_of_unity(log_size), P - 2, P), pow(coset_shift(log_size), P - 2, P))


def _points(log_size: int, index: np.ndarray, w: int, shift: int) -> np.ndarray:
    # shift·w^rev(index). A verifier's few points: Python ints (rev(i) from i's bits written
    # backwards, one pow each) cost less than a numpy pass per bit position
    index = np.asarray(index, dtype=np.int64)
    rev = [int(f"{i:0{log_size}b}"[::-1], 2) if log_size else 0 for i in index.reshape(-1).tolist()]
    return np.array([pow(w, r, P) * shift % P for r in rev], dtype=np.uint32).reshape(index.shape)


class QueryPoints:
    """A verifier's query points on every LDE coset at once: the points x of rows
    ``indices`` of D_L (the tallest) and, for each l < L, of rows indices >> (L − l) of D_l,
    with their inverses. Squaring maps D_l onto D_(l−1) row by row (rows 2i and 2i+1 hold x and
    −x, row i of D_(l−1) holds x²), so each height's points are the squares of the one above:
    one point_at and one batch inversion for all heights, then one product per height."""

    def __init__(self, log_size: int, indices):
        self.log_size = log_size
        x = point_at(log_size, indices)
        self._points = {log_size: x.astype(np.uint64)}
        self._inverses = {log_size: field.inverse_small(x).astype(np.uint64)}

    @staticmethod
    def _down(memo: dict, l: int) -> np.ndarray:
        low = min(memo)
        while low > l:  # x ↦ x² from one height to the next
            memo[low - 1] = memo[low] * memo[low] % np.uint64(P)
            low -= 1
        return memo[l]

    def point(self, l: int) -> np.ndarray:
        """point_at(l, indices >> (L − l)), uint64."""
        return self._down(self._points, l)

    def inverse(self, l: int) -> np.ndarray:
        """1/point(l), uint64."""
        return self._down(self._inverses, l)


def plain_selectors(n: int) -> dict:
    """The selector polynomials evaluated on the trace domain H itself (debug check, aux trace):
    is_first_row = [1, 0, …, 0], is_last_row = [0, …, 0, 1], is_transition_i = ω^i − ω^(n−1)
    (zero only on the last row; it is a constraint multiplier, not a 0/1 column)."""
    log_n = n.bit_length() - 1
    first = np.zeros(n, dtype=np.uint32)
    first[0] = 1
    last = np.zeros(n, dtype=np.uint32)
    last[-1] = 1
    w = root_of_unity(log_n)
    transition = field.sub(field.powers(w, n), np.uint32(pow(w, n - 1, P)))
    return {"is_first_row": first, "is_last_row": last, "is_transition": transition}


#: root_of_unity(l) for l = 0 … TWO_ADICITY (_selector_rows: the points' doubling steps)
_ROOTS = np.array([root_of_unity(l) for l in range(TWO_ADICITY + 1)], dtype=np.uint32)


def coset_selector_rows(log_n: int, log_c: int, shift: int, lo: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The selectors of a table of n = 2^log_n rows and 1/Z_H, Z_H(x) = x^n − 1, at rows
    lo … lo + count − 1 of the coset shift·K_c in bit-reversed order (row j: x = shift·ω_c^rev(j),
    c = 2^log_c; ``count`` a power of two that divides ``lo``) — a quotient coset's block, as
    the constraint tape reads it: a (count, 3) matrix in tape.SELECTORS' order, and (count,).

    is_first_row(x) = L_0(x)     = Z_H(x) / (n·(x − 1))                 (1 at row 0, 0 elsewhere on H)
    is_last_row(x)  = L_{n−1}(x) = ω^(n−1)·Z_H(x) / (n·(x − ω^(n−1)))   (1 at row n−1)
    is_transition(x) = x − ω^(n−1)                                      (zero exactly on the last row)

    One kernel (_selector_rows) per piece of SELECTOR_PIECE_ROWS rows, the pieces side by side
    on the thread pool: the points from the first, x_lo = shift·ω_c^rev(lo) (the piece's rows
    lo + j hold x_lo·ω_c^rev(j): row j + 2^k is row j's point times ω_(2^(k+1))), the 2·count
    inverses by one batch inversion, and Z_H once per n rows (x^n is the same on each aligned
    run of n rows: the steps below ω_n's order leave it unchanged). The coset must avoid H
    (Z_H ≠ 0 at every point)."""
    piece = min(count, SELECTOR_PIECE_ROWS)  # powers of two: each piece's first row a multiple of its size
    sel = np.empty((count, 3), dtype=np.uint32)
    inv_z = np.empty(count, dtype=np.uint32)
    bad = np.full(count // piece, -1, dtype=np.int64)
    parallel_for(_selector_pieces, count // piece, log_n, log_c, shift, lo, sel, inv_z, bad,
                 work_per_item=piece * SELECTOR_WORDS_PER_ROW)
    if (bad >= 0).any():
        raise field.FieldError(f"coset_selector_rows: row {lo + int(bad[bad >= 0][0])} of the coset is a point of H")
    return sel, inv_z


#: rows of a block of coset_selector_rows that one _selector_rows call computes (a batch
#: inversion each: one more exponentiation per piece); words of its work per row, roughly
SELECTOR_PIECE_ROWS = 1 << 13
SELECTOR_WORDS_PER_ROW = 8


def _selector_pieces(log_n, log_c, shift, lo, sel, inv_z, bad, p0, p1) -> None:
    # coset_selector_rows' pieces p0 … p1 − 1 (a chunk of pool.parallel_for; the kernel releases
    # the GIL): piece p's rows at = lo + p·piece …, its first point shift·ω_c^rev(at); bad[p] a
    # row of the block where Z_H = 0, or −1
    n, piece = 1 << log_n, sel.shape[0] // bad.shape[0]
    w_last = pow(root_of_unity(log_n), n - 1, P)
    n_inv = pow(n, P - 2, P)
    for p in range(p0, p1):
        at = lo + p * piece
        rev_at = int(f"{at:0{log_c}b}"[::-1], 2) if log_c else 0
        rows = slice(p * piece, (p + 1) * piece)
        row = _selector_rows(shift * pow(root_of_unity(log_c), rev_at, P) % P, _ROOTS, log_n, n_inv, w_last,
                             w_last * n_inv % P, sel[rows], inv_z[rows])
        bad[p] = -1 if row < 0 else p * piece + row


@njit(cache=True, nogil=True)
def _selector_rows(x_lo, roots, log_n, n_inv, w_last, last_factor, sel, inv_z):
    # coset_selector_rows' rows: sel[j] = (Z·n⁻¹/(x − 1), Z·ω^(n−1)·n⁻¹/(x − ω^(n−1)), x − ω^(n−1)),
    # inv_z[j] = 1/Z at x = x_lo·ω_c^rev(j); returns −1, or a row where Z_H(x) = 0 (x in H)
    count = sel.shape[0]
    n = 1 << log_n
    x = np.empty(count, dtype=np.uint32)
    x[0] = x_lo
    h, k = 1, 1
    while h < count:  # rows h … 2h − 1: rows 0 … h − 1 times ω_(2h)
        w = np.uint64(roots[k])
        for j in range(h):
            x[h + j] = f_mul_u32(x[j], w)
        h, k = 2 * h, k + 1
    d = np.empty(2 * count, dtype=np.uint32)  # x − 1, then x − ω^(n−1)
    for j in range(count):
        d[j] = f_sub_u32(x[j], np.uint32(1))
        d[count + j] = f_sub_u32(x[j], np.uint32(w_last))
    inv = np.empty(2 * count, dtype=np.uint32)
    for j0 in range(0, count, n):  # Z_H ≠ 0 (so x ∉ H: x ≠ 1, ω^(n−1)) before inverting
        if f_pow(np.uint64(x[j0]), np.uint64(n)) == 1:
            return j0
    _batch_inverse_kernel(d, inv)
    for j0 in range(0, count, n):  # Z_H(x) = x^n − 1: one value per n rows
        z = f_sub(f_pow(np.uint64(x[j0]), np.uint64(n)), np.uint64(1))
        z_inv = np.uint32(f_inv(z))
        first, last = np.uint64(f_mul(z, n_inv)), np.uint64(f_mul(z, last_factor))
        for j in range(j0, min(count, j0 + n)):
            sel[j, 0] = f_mul_u32(inv[j], first)
            sel[j, 1] = f_mul_u32(inv[count + j], last)
            sel[j, 2] = d[count + j]
            inv_z[j] = z_inv
    return -1


def coset_values(matrices: list, log_size: int, shifts: list, outs: list, rows: int) -> list:
    """Each matrix's polynomials — its coefficient rows, only the first ``rows`` nonzero — on the
    cosets shifts[q]·K_c, c = 2^log_size (any c: a quotient coset's part, a whole coset, a
    small one): a (Q·c, w) matrix whose rows q·c … q·c + c − 1 are the values on coset q,
    bit-reversed (row j: x = shifts[q]·ω_c^rev(j), as ntt.coset_evaluations), written into
    the matching buffer of ``outs`` (None: a new one; a wider one: its first w columns, the
    others — zero padding — transformed in place beside them). None gives None.

    On s·K_c, y^c = 1, so f(s·y) = Σ_i c_i·s^i·y^i is the size-c transform of
    g_i = s^i·Σ_k s^(k·c)·c_(i + k·c) (the coefficients folded mod y^c − 1): per coset one
    pass over the coefficients with a constant per slice k and the c powers s^i (_fold_cosets;
    no factor table of all D rows), the Q cosets' folds from the same reads, then Q transforms
    of c rows."""
    c = 1 << log_size
    slices = max(1, -(-int(rows) // c))
    consts = np.stack([field.powers(pow(s, c, P), slices) for s in shifts])  # s^(k·c)
    scale = np.stack([field.powers(s, c) for s in shifts])  # s^i, i < c
    done: list = [None] * len(matrices)
    top = max((m.shape[1] for m in matrices if m is not None), default=0)
    parallel_for(_coset_values_chunk, len(matrices), matrices, log_size, consts, scale, FOLD_TILE_ROWS, outs, rows, done,
                 work_per_item=c * len(shifts) * top, chunks_per_thread=1)
    return done


#: rows of the fold's output a tile (_fold_cosets): one tile's sums stay in L1 while each
#: slice's rows of the tile are read, in order (a small coset's hundreds of slices), and the
#: per-tile setup is shared by its rows (2^16 × 22 columns, one slice: 1.1 ms a row at a
#: time, 0.8 ms in tiles of 16)
FOLD_TILE_ROWS = 16


def _coset_values_chunk(matrices, log_size, consts, scale, tile, outs, rows, done, lo, hi):
    # coset_values' matrices lo..hi−1 (a chunk of pool.parallel_for)
    c, cosets = 1 << log_size, consts.shape[0]
    for k in range(lo, hi):
        m = matrices[k]
        if m is None:
            continue
        src = np.ascontiguousarray(m[:max(0, min(int(rows), m.shape[0]))], dtype=np.uint32)
        out = np.empty((cosets * c, m.shape[1]), dtype=np.uint32) if outs[k] is None else outs[k]
        parallel_for(_fold_cosets, c, src, consts, scale, out, tile,
                     work_per_item=cosets * max(1, -(-src.shape[0] // c)) * m.shape[1])
        for q in range(cosets):
            ntt._dif(out[q * c:(q + 1) * c], log_size, False)  # (through the module: bench/prove_profile.py times it)
        done[k] = out


@njit(cache=True, nogil=True)
def _fold_cosets(src, consts, scale, dst, tile, r0, r1):
    """dst[q·c + i] = Σ_k scale[q, i]·consts[q, k]·src[i + k·c] for the output rows r0 ≤ i < r1
    (c = scale's columns; src's rows past its own count as zeros), the first src.shape[1]
    columns. A row of one slice (rows − c ≤ i < rows: most rows of a part or a whole coset)
    is one Shoup product by s^i per column; a row of none (i ≥ rows) zeros. A row of several
    (a small coset's hundreds of slices), ``tile`` rows at a time: per row and four slices,
    the four factors s^i·s^(k·c) (scalar products), then the four products of each column
    (each < 2^62) summed below 2^64 and reduced once (field.f_reduce64), every column of a
    row in one loop (LLVM vectorises it); a row of more than four sums its groups in ``acc``."""
    c = scale.shape[1]
    w = src.shape[1]
    rows = src.shape[0]
    slices = consts.shape[1]
    cosets = consts.shape[0]
    one = max(r0, min(r1, rows - c))  # rows r0 … one − 1 have two slices or more
    none = max(one, min(r1, rows))  # rows one … none − 1 have one, none … r1 − 1 none
    for i in range(one, none):  # s^i·src[i]  (s^(0·c) = 1)
        for q in range(cosets):
            s, shoup = _shoup(scale[q, i])
            for col in range(w):
                dst[q * c + i, col] = _mul_tw(src[i, col], s, shoup)
    for i in range(none, r1):
        for q in range(cosets):
            for col in range(w):
                dst[q * c + i, col] = 0
    acc = np.empty((cosets, tile, w), dtype=np.uint32)
    for i0 in range(r0, one, tile):
        h = min(tile, one - i0)
        groups = 1  # groups of four slices of the tile's first row (the most of its rows; no division: slow)
        while 4 * groups < slices and i0 + 4 * groups * c < rows:
            groups += 1
        for g in range(groups):
            k0 = 4 * g
            for i in range(i0, i0 + h):
                have = 0  # this row's slices from k0, up to four
                while have < 4 and k0 + have < slices and i + (k0 + have) * c < rows:
                    have += 1
                x0 = src[min(i + k0 * c, rows - 1)]
                x1 = src[i + (k0 + 1) * c] if have > 1 else x0
                x2 = src[i + (k0 + 2) * c] if have > 2 else x0
                x3 = src[i + (k0 + 3) * c] if have > 3 else x0
                for q in range(cosets):
                    out = dst[q * c + i] if groups == 1 else acc[q, i - i0]
                    if have == 0:  # (a later group past this row's last slice)
                        continue
                    s = scale[q, i]
                    e0 = np.uint64(f_mul_u32(s, consts[q, k0]))
                    e1 = np.uint64(f_mul_u32(s, consts[q, k0 + 1])) if have > 1 else np.uint64(0)
                    e2 = np.uint64(f_mul_u32(s, consts[q, k0 + 2])) if have > 2 else np.uint64(0)
                    e3 = np.uint64(f_mul_u32(s, consts[q, k0 + 3])) if have > 3 else np.uint64(0)
                    if g == 0:
                        for col in range(w):
                            out[col] = f_reduce64(e0 * np.uint64(x0[col]) + e1 * np.uint64(x1[col])
                                                  + e2 * np.uint64(x2[col]) + e3 * np.uint64(x3[col]))
                    else:
                        for col in range(w):
                            out[col] = f_add_u32(out[col], f_reduce64(e0 * np.uint64(x0[col]) + e1 * np.uint64(x1[col])
                                                                      + e2 * np.uint64(x2[col]) + e3 * np.uint64(x3[col])))
        if groups > 1:
            for q in range(cosets):
                for i in range(i0, i0 + h):
                    a = acc[q, i - i0]
                    d = dst[q * c + i]
                    for col in range(w):
                        d[col] = a[col]


def interpolate_from_cosets(values: np.ndarray, shifts: list, out: np.ndarray | None = None) -> np.ndarray:
    """Coefficients (K·c, 4) of the F_p^4 polynomial Q of degree < K·c whose values on the K
    cosets s_r·K_c are ``values[:, r]`` ((c, K, 4): the cosets side by side, each bit-reversed,
    row j: Q(s_r·ω_c^rev(j)); transformed in place, so consumed); the s_r^c must be distinct.
    ``out``: a (K, c, 4) array to write them to (e.g. the first rows of a longer result).

    On s_r·K_c, x^c = e_r = s_r^c, so Q = Σ_j x^(j·c)·P_j (deg P_j < c) takes there the values
    of V_r = Σ_j e_r^j·P_j, of degree < c: one size-c interpolation gives V_r(s_r·y)'s
    coefficients, V_r's are those divided by s_r^i, and P_j = Σ_r E⁻¹[j][r]·V_r with E the
    K×K Vandermonde matrix E[r][j] = e_r^j, coefficient by coefficient. (K cosets of K_c are
    as many points as Q has coefficients; K = 2^u standard cosets make E a DFT.) The
    interpolation's 1/c rides in E⁻¹ (no pass of its own over the K·4 columns)."""
    c, k = values.shape[0], values.shape[1]
    log_c = c.bit_length() - 1
    c_inv = pow(c, P - 2, P)
    e_inv = np.array([[x * c_inv % P for x in row] for row in _vandermonde_inverse([pow(s, c, P) for s in shifts])],
                     dtype=np.uint32)
    s_inv_pows = np.stack([field.powers(pow(s, P - 2, P), c) for s in shifts])
    out = np.empty((k, c, 4), dtype=np.uint32) if out is None else out
    # the K interpolations as one in-place inverse transform of K·4 columns (coset r's in
    # columns 4r..4r+3), c·V_r(s_r·y)'s coefficients (through the module: bench/prove_profile.py times it)
    coeffs = ntt._dit(values.reshape(c, 4 * k), log_c, True).reshape(c, k, 4)
    # the coefficients i are independent: in chunks side by side on the thread pool
    parallel_for(_solve_on_cosets, c, coeffs, s_inv_pows, e_inv, out, work_per_item=4 * k * k)
    return out.reshape(-1, 4)


#: coefficients _solve_on_cosets scales before it combines them (its scratch: SOLVE_ROWS·4·K words)
SOLVE_ROWS = 64


@njit(cache=True, nogil=True)
def _solve_on_cosets(a, s_inv_pows, e_inv, out, i0, i1):
    """out[j, i] = Σ_r E⁻¹[j][r]·s_r^(−i)·a[i, r] (F_p^4, lane by lane) for i0 ≤ i < i1
    (interpolate_from_cosets): V_r's coefficient i from V_r(s_r·y)'s, then P_j's. SOLVE_ROWS
    coefficients at a time: each coset's scaled (v), then each P_j's 4·SOLVE_ROWS values
    summed over the cosets in one loop (it vectorises), four products (each < 2^62) summed
    below 2^64 and reduced once."""
    k = s_inv_pows.shape[0]
    v = np.empty((k, 4 * SOLVE_ROWS), dtype=np.uint32)
    acc = np.empty(4 * SOLVE_ROWS, dtype=np.uint64)
    for b0 in range(i0, i1, SOLVE_ROWS):
        h = min(SOLVE_ROWS, i1 - b0)
        for r in range(k):
            vr, sr = v[r], s_inv_pows[r]
            for i in range(h):
                s = np.uint64(sr[b0 + i])
                x = a[b0 + i, r]
                for lane in range(4):
                    vr[4 * i + lane] = f_mul_u32(x[lane], s)
        for j in range(k):
            o = out[j, b0:b0 + h].reshape(-1)
            for r0 in range(0, k, 4):
                for x in range(4 * h):
                    acc[x] = 0
                for r in range(r0, min(k, r0 + 4)):
                    e, vr = np.uint64(e_inv[j, r]), v[r]
                    for x in range(4 * h):
                        acc[x] += e * np.uint64(vr[x])
                if r0 == 0:  # (a loop each: both vectorise)
                    for x in range(4 * h):
                        o[x] = f_reduce64(acc[x])
                else:
                    for x in range(4 * h):
                        o[x] = f_add_u32(o[x], f_reduce64(acc[x]))


def interpolate_with_small_coset(values: np.ndarray, shifts: list, small: np.ndarray, small_shift: int) -> np.ndarray:
    """Coefficients (K·n + m, 4) of the F_p^4 polynomial Q of degree < K·n + m (m ≤ n) from its
    values on K cosets s_r·K_n (``values`` (n, K, 4), as interpolate_from_cosets: consumed) and on one small coset
    c·K_m (``small`` (m, 4), bit-reversed), c^n ≠ s_r^n: the K·n + m points of a quotient whose
    degree is just past K·n, where K + 1 full cosets would take n − m more.

    Chinese remainders: the K cosets give R1 = Q mod M, M = Π_r (x^n − e_r), e_r = s_r^n
    (interpolate_from_cosets), the small coset R2 = Q mod (x^m − γ), γ = c^m (on c·K_m, x^m = γ).
    Write Q = R1 + M·T, deg T < m. Mod x^m − γ, x^n ≡ γ^(n/m) = c^n, so M ≡ μ = Π_r (c^n − e_r),
    a nonzero constant, and R2 = (R1 mod (x^m − γ)) + μ·T: T = (R2 − R1 mod (x^m − γ))/μ.
    M = Σ_k M_k·x^(k·n) (M_k its coefficients in y = x^n), so M·T adds M_k·T at x^(k·n): the
    m-coefficient pieces do not overlap (m ≤ n)."""
    n, m, k = values.shape[0], small.shape[0], len(shifts)
    assert m <= n, "the small coset has at most n points"
    out = np.empty((k * n + m, 4), dtype=np.uint32)
    r1 = interpolate_from_cosets(values, shifts, out[:k * n].reshape(k, n, 4))  # Q mod M, (K·n, 4), in out's rows
    out[k * n:] = 0
    gamma = pow(small_shift, m, P)
    # R2: V(c·y) = Q(c·y) on K_m, its coefficients divided by c^i
    r2 = field.mul(intt_bit_reversed(small), field.powers(pow(small_shift, P - 2, P), m)[:, None])
    folded = np.empty((m, 4), dtype=np.uint32)
    _fold_mod(r1, gamma, folded)  # R1 mod (x^m − γ)
    m_coeffs = [1]  # M in y = x^n, lowest coefficient first
    for s in shifts:
        e = pow(s, n, P)
        m_coeffs = [(a - e * b) % P for a, b in zip([0, *m_coeffs], [*m_coeffs, 0])]
    mu = sum(c * pow(small_shift, n * j, P) for j, c in enumerate(m_coeffs)) % P  # M(c^n)
    assert mu != 0, "the small coset meets a full one"
    t = field.mul(field.sub(r2, folded), np.uint32(pow(mu, P - 2, P)))
    for j, c in enumerate(m_coeffs):  # + M_j·x^(j·n)·T (R1 read above)
        out[j * n:j * n + m] = field.add(out[j * n:j * n + m], field.mul(t, np.uint32(c)))
    return out


@njit(cache=True, nogil=True)
def _fold_mod(r, gamma, out):
    """out = r mod (x^m − γ), m = out's rows: with x^m ≡ γ, Σ_j x^(j·m)·r_j ≡ Σ_j γ^j·r_j (r_j
    rows j·m … j·m + m − 1 of r), by Horner from the top block (interpolate_with_small_coset):
    acc ← acc·γ + r_j over the block's 4·m values in one loop (a Shoup product by the
    constant γ: it vectorises), r read in order."""
    m = out.shape[0]
    g, g_shoup = _shoup(np.uint32(gamma))
    acc = out.reshape(-1)
    flat = r.reshape(-1)
    for x in range(4 * m):
        acc[x] = 0
    for j in range((r.shape[0] + m - 1) // m - 1, -1, -1):  # block by block: r read in order
        lo, have = 4 * j * m, 4 * min(m, r.shape[0] - j * m)
        for x in range(have):
            acc[x] = f_add_u32(_mul_tw(acc[x], g, g_shoup), flat[lo + x])
        for x in range(have, 4 * m):  # a short top block's missing rows: zeros
            acc[x] = _mul_tw(acc[x], g, g_shoup)


def _vandermonde_inverse(nodes: list) -> list:
    """E⁻¹ for E[r][j] = nodes[r]^j (distinct nodes), as Python ints: column r of E⁻¹ is the
    coefficients of the Lagrange polynomial L_r(x) = Π_(s≠r) (x − e_s)/(e_r − e_s)."""
    k = len(nodes)
    inv = [[0] * k for _ in range(k)]
    for r, e_r in enumerate(nodes):
        poly, denom = [1], 1  # Π (x − e_s), lowest coefficient first
        for s, e_s in enumerate(nodes):
            if s != r:
                poly = [(a - e_s * b) % P for a, b in zip([0, *poly], [*poly, 0])]
                denom = denom * (e_r - e_s) % P
        scale = pow(denom, P - 2, P)
        for j in range(k):
            inv[j][r] = poly[j] * scale % P
    return inv
