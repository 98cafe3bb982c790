"""NTT, inverse NTT and coset LDE cross-checked against galois.

galois.ntt uses ω = g^((p−1)/n) with g = galois's primitive root 31, which is exactly our
root_of_unity(log n) = 31^(15·2^(27−log n)); test_galois_root_matches_ours pins that, and a
naive O(n²) DFT in galois arithmetic checks small sizes independently of galois.ntt.
"""

import galois
import numpy as np
import pytest

from pyzkvm.errors import UsageError
from pyzkvm.stark import ntt as N
from pyzkvm.stark.field import GENERATOR, P, root_of_unity

GF = galois.GF(P)


def _random(shape, seed):
    return np.random.default_rng(seed).integers(0, P, shape, dtype=np.uint32)


def test_galois_root_matches_ours():
    for log_n in (1, 4, 16, 27):
        n = 1 << log_n
        assert GF.primitive_element ** ((P - 1) // n) == root_of_unity(log_n)


@pytest.mark.parametrize("log_n", [0, 1, 2, 3, 4, 6])
def test_ntt_against_naive_dft(log_n):
    n = 1 << log_n
    a = _random((n, 3), log_n)
    w = GF(root_of_unity(log_n))
    ij = np.outer(np.arange(n), np.arange(n))
    vandermonde = w ** ij  # V[j, i] = ω^(ij)
    expected = np.asarray(vandermonde @ GF(a))
    np.testing.assert_array_equal(N.ntt(a), expected)
    np.testing.assert_array_equal(N.intt(expected), a)


@pytest.mark.parametrize("log_n", [5, 10, 13, 14, 15])
def test_ntt_against_galois(log_n):
    # sizes on both sides of the kernel's cache-block size (2^12 rows)
    n = 1 << log_n
    a = _random((n, 2), 100 + log_n)
    out = N.ntt(a)
    for c in range(2):
        np.testing.assert_array_equal(out[:, c], np.asarray(galois.ntt(GF(a[:, c]))))
    np.testing.assert_array_equal(N.intt(out), a)
    # 1-D input gives a 1-D output equal to the column transform
    col = N.ntt(a[:, 1])
    assert col.shape == (n,)
    np.testing.assert_array_equal(col, out[:, 1])
    # and intt agrees with galois.intt
    np.testing.assert_array_equal(N.intt(a[:, 0]), np.asarray(galois.intt(GF(a[:, 0]))))


def test_extreme_values_on_32_bit_lanes():
    # the butterflies compute on uint32 lanes (sums < 2p, the Shoup remainder < 2p, taken mod
    # 2^32): columns of p − 1 everywhere, 0/p − 1 alternating, and values within 3 of p or of
    # 0 hit the largest intermediates; one column (the 1-D kernel), a 24-column matrix (the
    # row kernel), and matrices whose columns past a multiple of 8 go to a padded scratch
    n = 1 << 13
    cols = [np.full(n, P - 1), np.where(np.arange(n) % 2, P - 1, 0), np.arange(n) % 4 + (P - 4),
            np.arange(n) % 4, _random(n, 5)]
    a = np.stack([cols[c % len(cols)] for c in range(24)], axis=1).astype(np.uint32)
    out, inv = N.ntt(a), N.intt(a)
    for c in range(len(cols)):
        np.testing.assert_array_equal(out[:, c], np.asarray(galois.ntt(GF(a[:, c]))))
        np.testing.assert_array_equal(inv[:, c], np.asarray(galois.intt(GF(a[:, c]))))
        np.testing.assert_array_equal(N.ntt(a[:, c]), out[:, c])
    np.testing.assert_array_equal(N.ntt(a[:, :4]), out[:, :4])  # narrow: a 4-lane tail, in place
    np.testing.assert_array_equal(N.ntt(a[:, :6]), out[:, :6])  # narrow: in a copy padded to 8
    np.testing.assert_array_equal(N.ntt(a[:, 2:22]), out[:, 2:22])  # 16 columns + a 4-column tail, in place
    np.testing.assert_array_equal(N.ntt(a[:, 1:11]), out[:, 1:11])  # 10 columns: padded to 16
    np.testing.assert_array_equal(N.ntt(a[:, 1:20]), out[:, 1:20])  # 19 columns: in place, a scalar tail
    np.testing.assert_array_equal(N.ntt(a[:, 0:17]), out[:, 0:17])  # 16 columns in place, 1 scalar
    np.testing.assert_array_equal(N.intt(a[:, 3:10]), inv[:, 3:10])
    np.testing.assert_array_equal(N.intt(a[:, 5:19]), inv[:, 5:19])  # 14 columns: padded to 16
    # + the coset scaling pass: block 0 of the LDE is the NTT of c_i·shift^i, bit-reversed
    lde = N.coset_lde(a[:, :len(cols)], 1)
    np.testing.assert_array_equal(N.coset_lde(a[:, 0], 1), lde[:, 0])
    for c in range(len(cols)):
        scaled = galois.intt(GF(a[:, c])) * GF(GENERATOR) ** np.arange(n)
        np.testing.assert_array_equal(lde[:n, c], np.asarray(galois.ntt(scaled))[N.bit_reverse_indices(n)])


def test_wide_batch_and_input_untouched():
    a = _random((1 << 13, 37), 7)
    keep = a.copy()
    out = N.ntt(a)
    np.testing.assert_array_equal(a, keep)
    for c in (0, 17, 36):
        np.testing.assert_array_equal(out[:, c], np.asarray(galois.ntt(GF(a[:, c]))))


def test_bit_reverse():
    np.testing.assert_array_equal(N.bit_reverse_indices(8), [0, 4, 2, 6, 1, 5, 3, 7])
    np.testing.assert_array_equal(N.bit_reverse_indices(1), [0])
    a = _random((16, 3), 8)
    r = N.bit_reverse_rows(a)
    np.testing.assert_array_equal(r, a[N.bit_reverse_indices(16)])
    np.testing.assert_array_equal(N.bit_reverse_rows(r), a)


@pytest.mark.parametrize("log_n", [6, 7, 8, 9, 12])
def test_bit_reverse_tiles_on_every_width(log_n):
    # the row permutation (small, or in tiles: of 8 × 8 rows read in order, or of 16 × 16
    # written in order, _bit_reverse_into picks by the row's width) on odd widths, and the
    # tiled kernel's chunks of tiles cut anywhere, as the thread pool may cut them
    for w in (1, 3, 7, 8, 9, 17, 39, 40, 83):
        a = _random((1 << log_n, w), 100 + w)
        want = a[N.bit_reverse_indices(1 << log_n)]
        np.testing.assert_array_equal(N.bit_reverse_rows(a), want)
        for t, in_order in ((3, True), (4, False), (3, False), (4, True)):
            if log_n >= 2 * t:
                out = np.zeros_like(a)
                mids = 1 << (log_n - 2 * t)
                for lo, hi in ((0, mids // 3), (mids // 3, mids)):
                    N._bit_reverse_kernel(a, out, log_n, t, N.bit_reverse_indices(1 << t),
                                          N.bit_reverse_indices(mids), in_order, lo, hi)
                np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("log_n,log_blowup,shift", [(0, 1, GENERATOR), (3, 1, GENERATOR), (6, 2, GENERATOR), (5, 3, 7), (13, 1, GENERATOR), (4, 0, 1)])
def test_coset_lde_evaluates_interpolant(log_n, log_blowup, shift):
    n = 1 << log_n
    big = n << log_blowup
    evals = _random((n, 2), 200 + log_n)
    lde = N.coset_lde(evals, log_blowup, shift)
    assert lde.shape == (big, 2) and lde.dtype == np.uint32
    # oracle: interpolate with galois.intt, evaluate the polynomial with galois at the coset
    # points shift·ω_N^rev(j) (bit-reversed order)
    xs = GF(shift) * GF(root_of_unity(log_n + log_blowup)) ** N.bit_reverse_indices(big).astype(np.int64)
    for c in range(2):
        coeffs = galois.intt(GF(evals[:, c]))
        poly = galois.Poly(coeffs[::-1])  # galois.Poly wants highest degree first
        np.testing.assert_array_equal(lde[:, c], np.asarray(poly(xs)))
    # on the subgroup itself (shift 1, no blowup) the LDE is the input, bit-reversed
    if shift == 1 and log_blowup == 0:
        np.testing.assert_array_equal(lde, N.bit_reverse_rows(evals))


def test_coset_lde_single_column_kernel():
    # one column (1-D, and (n, 1)) runs the vectorised 1-D kernel: check it against galois
    # at a size past its cache block (2^12)
    log_n, log_blowup = 13, 1
    evals = _random(1 << log_n, 9)
    lde = N.coset_lde(evals, log_blowup)
    assert lde.shape == (1 << (log_n + log_blowup),)
    np.testing.assert_array_equal(N.coset_lde(evals.reshape(-1, 1), log_blowup)[:, 0], lde)
    xs = GF(GENERATOR) * GF(root_of_unity(log_n + log_blowup)) ** N.bit_reverse_indices(lde.size).astype(np.int64)
    poly = galois.Poly(galois.intt(GF(evals))[::-1])
    np.testing.assert_array_equal(lde, np.asarray(poly(xs)))


def test_bad_input():
    with pytest.raises(UsageError, match="not a power of two"):
        N.ntt(np.zeros(12, np.uint32))
    with pytest.raises(UsageError):
        N.intt(np.zeros((2, 2, 2), np.uint32))
    with pytest.raises(UsageError):
        N.coset_lde(np.zeros((4, 1), np.uint32), 2, shift=0)
    with pytest.raises(UsageError):
        N.coset_lde(np.zeros((1 << 20, 1), np.uint32), 8)


def test_parallel_sizes_against_galois():
    # from 2^16 elements on, the kernels run multi-threaded: check that path too (one column
    # and a matrix), and the LDE against galois.ntt of the shifted, zero-padded coefficients
    a = _random(1 << 16, 11)
    np.testing.assert_array_equal(N.ntt(a), np.asarray(galois.ntt(GF(a))))
    np.testing.assert_array_equal(N.intt(a), np.asarray(galois.intt(GF(a))))
    m = _random((1 << 14, 40), 12)  # big enough to be split by rows
    out = N.ntt(m)
    for c in (0, 19, 20, 39):
        np.testing.assert_array_equal(out[:, c], np.asarray(galois.ntt(GF(m[:, c]))))
    log_n, log_blowup = 15, 1
    e = _random(1 << log_n, 13)
    coeffs = galois.intt(GF(e)) * GF(GENERATOR) ** np.arange(1 << log_n)
    padded = np.concatenate([coeffs, GF.Zeros((1 << log_n) * ((1 << log_blowup) - 1))])
    expected = np.asarray(galois.ntt(padded))[N.bit_reverse_indices(1 << (log_n + log_blowup))]
    np.testing.assert_array_equal(N.coset_lde(e, log_blowup), expected)
    cols = np.stack([e, e[::-1]], axis=1)
    np.testing.assert_array_equal(N.coset_lde(cols, log_blowup)[:, 0], expected)


@pytest.mark.parametrize("k,cuts,block_log", [(2, (0, 4), 14), (2, (0, 1, 4), 5), (2, (0, 3, 4), 1), (4, (0, 5, 16), 30),
                                               (4, (0, 1, 2, 16), 3), (10, (0, 1024), 14)])
def test_matrix_kernels_any_row_split_and_blocking(k, cuts, block_log):
    # a transform on several threads: the top k layers over the whole height, each radix-4
    # pass's row quads cut anywhere (as the pool may cut them), then the 2^k row blocks they
    # leave, cut anywhere, each with in-cache blocks of 2 rows … the whole height; DIT in the
    # mirror order. 40 columns (16 + 16 + 8, a scalar-free width) and 19 (a scalar tail)
    log_n = 10
    for width in (40, 19):
        a = _random((1 << log_n, width), 21 + width)
        want = np.stack([np.asarray(galois.ntt(GF(a[:, c]))) for c in range(width)], axis=1)
        tw, tws = N._twiddles(log_n, False)
        quads = (0, 37, 100, 1 << (log_n - 2))
        dif = a.copy()
        for l in range(log_n - 1, log_n - k, -2):
            for t0, t1 in zip(quads, quads[1:]):
                N._dif_top(dif, tw, tws, l, width, t0, t1)
        for b0, b1 in zip(cuts, cuts[1:]):
            N._dif_blocks(dif, tw, tws, log_n - k, block_log, width, b0, b1)
        np.testing.assert_array_equal(dif, want[N.bit_reverse_indices(1 << log_n)])
        dit = N._bit_reverse_into(a.copy(), np.empty_like(a))
        for b0, b1 in zip(cuts, cuts[1:]):
            N._dit_blocks(dit, tw, tws, log_n - k, block_log, width, b0, b1)
        for l in range(log_n - k, log_n - 1, 2):
            for t0, t1 in zip(quads, quads[1:]):
                N._dit_top(dit, tw, tws, l, width, t0, t1)
        np.testing.assert_array_equal(dit, want)


@pytest.mark.parametrize("nthreads", [2, 3, 8])
def test_transforms_split_by_rows_equal_one_thread(monkeypatch, nthreads):
    # the public transforms with the pool's thread count set to 2, 3 or 8 (top 2, 4 or 4
    # layers; the chunks run on however many threads the machine gives): the same values
    # as on one thread, at sizes past pool.MIN_PARALLEL_WORK, narrow, padded and wide
    for log_n, width in ((13, 16), (15, 6), (12, 40), (14, 1 + 16)):
        a = _random((1 << log_n, width), 50 + log_n + width)
        monkeypatch.setattr(N, "threads", lambda: 1)
        want_ntt, want_intt = N.ntt(a), N.intt(a)
        want_lde = N.coset_lde_from_coefficients(a, 1, shift=7)
        monkeypatch.setattr(N, "threads", lambda: nthreads)
        assert N._top_layers(log_n, nthreads) == (2 if nthreads <= 2 else 4)
        np.testing.assert_array_equal(N.ntt(a), want_ntt)
        np.testing.assert_array_equal(N.intt(a), want_intt)
        np.testing.assert_array_equal(N.coset_lde_from_coefficients(a, 1, shift=7), want_lde)


@pytest.mark.parametrize("log_n", [4, 9, 11])
def test_every_width_in_place_or_padded_equals_column_by_column(log_n):
    # _transform runs a matrix of 16+ columns in place, its scalar tail included, a narrower
    # one with a scalar tail in a zero-padded copy (padded_width), the rest in place: every
    # route equals the one-column kernel's transform of each column, forward and inverse, and
    # a padded_buffer transformed in place holds the same in its first columns
    for w in (1, 3, 4, 6, 7, 9, 12, 17, 19, 22, 83):
        a = _random((1 << log_n, w), 200 + w + log_n)
        want = np.stack([N.ntt(a[:, c]) for c in range(w)], axis=1)
        np.testing.assert_array_equal(N.ntt(a), want)
        np.testing.assert_array_equal(N.intt(want), a)
        buf = N.padded_buffer(1 << log_n, w)
        buf[:, :w] = N.bit_reverse_rows(a)
        N._dit(buf, log_n, False)
        np.testing.assert_array_equal(buf[:, :w], want)
        assert not buf[:, w:].any()


@pytest.mark.parametrize("log_n", [1, 2, 3, 8, 9])
def test_matrix_kernels_two_layers_at_a_time(log_n):
    # the matrix kernels run the layers two at a time (four rows per loop), an odd layer left
    # over alone, in the wide layers and in each in-cache block: every parity of both, on
    # widths with a scalar remainder (2, 17), a padded one (3, 13) and whole lane groups (8, 32)
    for width, block_log in ((2, 4), (3, 5), (8, 6), (13, 7), (17, 9), (32, 10)):
        a = _random((1 << log_n, width), 40 + log_n + width)
        want = np.stack([np.asarray(galois.ntt(GF(a[:, c]))) for c in range(width)], axis=1)
        dif = a.copy()
        N._dif_blocks(dif, *N._twiddles(log_n, False), log_n, block_log, width, 0, 1)
        np.testing.assert_array_equal(dif, want[N.bit_reverse_indices(1 << log_n)])
        np.testing.assert_array_equal(N.ntt(a), want)
        np.testing.assert_array_equal(N.intt(want), a)


@pytest.mark.parametrize("log_n,log_blowup,width", [(3, 1, 1), (6, 2, 5), (9, 1, 20)])
def test_coset_lde_from_coefficients(log_n, log_blowup, width):
    # the LDE of a polynomial given by its coefficients c equals coset_lde of its values
    # ntt(c) on H (coset_lde is checked against galois above), bit for bit
    c = _random((1 << log_n, width), 31 + log_n)
    c = c[:, 0] if width == 1 else c
    np.testing.assert_array_equal(N.coset_lde_from_coefficients(c, log_blowup, shift=7),
                                  N.coset_lde(N.ntt(c), log_blowup, shift=7))
    with pytest.raises(UsageError):
        N.coset_lde_from_coefficients(c, log_blowup, shift=0)


@pytest.mark.parametrize("from_coefficients", [True, False])
def test_narrow_lde_blocks_side_by_side_equal_one_at_a_time(monkeypatch, from_coefficients):
    # a narrow matrix's LDE blocks run side by side on the thread pool (one block's transform
    # would use one thread; coset_lde's block 0 holds the coefficients, so it goes after the
    # others): the same rows as one block at a time
    c = _random((1 << 14, 4), 41)  # 2^16 words per block: big enough for the pool
    lde = N.coset_lde_from_coefficients if from_coefficients else N.coset_lde
    monkeypatch.setattr(N, "threads", lambda: 4)
    calls = []
    real = N.parallel_for
    monkeypatch.setattr(N, "parallel_for", lambda kernel, n, *a, **k: calls.append((kernel, n)) or real(kernel, n, *a, **k))
    side_by_side = lde(c, 2, shift=7)
    assert (N._coset_blocks, 4 if from_coefficients else 3) in calls
    monkeypatch.setattr(N, "threads", lambda: 1)
    np.testing.assert_array_equal(side_by_side, lde(c, 2, shift=7))


@pytest.mark.parametrize("log_d,log_size,width", [(4, 2, 3), (5, 4, 1), (6, 3, 9), (3, 5, 2)])
def test_coset_evaluations_of_polynomials_of_any_degree(log_d, log_size, width):
    # the D coefficient rows' polynomials on shift·K_c (c = 2^log_size, bit-reversed), against
    # galois evaluating them there: a fold when c < D, coset_lde_from_coefficients when c ≥ D
    coeffs = _random((1 << log_d, width), 70 + log_d)
    shift = 7
    got = N.coset_evaluations(coeffs, log_size, shift)
    assert got.shape == (1 << log_size, width)
    xs = GF(shift) * GF(root_of_unity(log_size)) ** N.bit_reverse_indices(1 << log_size).astype(np.int64)
    for col in range(width):
        poly = galois.Poly(GF(coeffs[::-1, col]))
        np.testing.assert_array_equal(got[:, col], np.asarray(poly(xs)))
    with pytest.raises(UsageError):
        N.coset_evaluations(coeffs, log_size, 0)


@pytest.mark.parametrize("log_d,log_size,width", [(6, 5, 6), (5, 5, 9), (4, 6, 12), (5, 4, 18)])
def test_coset_evaluations_into_a_padded_buffer(log_d, log_size, width):
    # a buffer padded_width(width) wide (the quotient's: transformed in place, no scratch copy)
    # holds in its first columns what an exact one does; its padding columns stay zero when
    # they start so (the transform of zeros)
    coeffs = _random((1 << log_d, width), 90 + width)
    wide = N.padded_width(width)
    assert wide >= width and (wide == width or wide % 8 == 0)
    out = np.zeros((1 << log_size, wide), dtype=np.uint32)
    got = N.coset_evaluations(coeffs, log_size, 7, out=out)
    assert got.shape == (1 << log_size, wide)
    np.testing.assert_array_equal(got[:, :width], N.coset_evaluations(coeffs, log_size, 7))
    assert not got[:, width:].any()


def test_intt_bit_reversed_reads_rows_in_their_stored_order():
    values = _random((32, 4), 5)
    np.testing.assert_array_equal(N.intt_bit_reversed(N.bit_reverse_rows(values)), N.intt(values))


def test_coset_factors_kept_within_their_budget(monkeypatch):
    # past COSET_FACTORS_KEPT results, older factors stay only while the budget allows; an LDE
    # is the same whether its factors were kept or made again
    monkeypatch.setattr(N, "_factors", {})
    monkeypatch.setattr(N, "COSET_FACTORS_ELEMENTS", 3 * 64)
    coeffs = _random((64, 3), 11)
    first = [N.coset_lde_from_coefficients(coeffs, 0, s) for s in range(3, 10)]
    assert len(N._factors) == N.COSET_FACTORS_KEPT  # 7 shifts of 64 factors: only the newest 4
    monkeypatch.setattr(N, "COSET_FACTORS_ELEMENTS", 1 << 20)
    again = [N.coset_lde_from_coefficients(coeffs, 0, s) for s in range(3, 10)]
    assert len(N._factors) == 7  # within the budget every shift is kept
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


def test_intt_columns_into_interpolates_the_parts_side_by_side():
    """intt_columns_into: the parts' coefficients in their columns of the rows given, as intt
    of the parts joined (no joined copy is made)."""
    rng = np.random.default_rng(11)
    for log_n in (3, 10):  # the small permutation and the tiled one
        parts = [rng.integers(0, P, size=(1 << log_n, w), dtype=np.uint32) for w in (5, 4)]
        out = np.zeros((2 << log_n, 9), dtype=np.uint32)
        N.intt_columns_into(parts, out[:1 << log_n])
        np.testing.assert_array_equal(out[:1 << log_n], N.intt(np.hstack(parts)))
        assert not out[1 << log_n:].any()


@pytest.mark.parametrize("rows", [None, 9, 16, 20, 40])
def test_ntt_of_folded_is_the_values_on_h(rows):
    """ntt_of_folded: polynomials of more than n coefficients on H (natural order) — each
    coefficient i counted at i mod n — reading only the first ``rows`` rows."""
    rng = np.random.default_rng(12)
    log_n, w = 3, 3
    coeffs = rng.integers(0, P, size=(64, w), dtype=np.uint32)
    used = 64 if rows is None else rows
    coeffs[used:] = 0
    h = np.array([pow(root_of_unity(log_n), j, P) for j in range(1 << log_n)], dtype=object)
    want = np.array([[sum(int(coeffs[i, c]) * pow(int(x), i, P) for i in range(used)) % P for c in range(w)] for x in h])
    poisoned = coeffs.copy()
    poisoned[used:] = 1  # never read
    np.testing.assert_array_equal(N.ntt_of_folded(poisoned, log_n, rows), want.astype(np.uint32))
