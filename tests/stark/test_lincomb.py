"""The linear-combination kernels (lincomb.py) against Python-int sums mod p.

A base element times an F_p^4 coefficient is the coefficient's four lanes each times the
element, so every kernel is an integer matrix product reduced mod p: numpy object arrays
(Python ints, no overflow) are the independent reference. Entries p − 1 everywhere are the
worst case for the delayed reduction's accumulators; each kernel runs on both sides of
pool.MIN_PARALLEL_WORK (on the calling thread, and in chunks of rows on the thread pool)."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.stark import lincomb
from pyzkvm.stark.field import P

SHAPES = [(1, 1), (37, 5), (200, 44), (3000, 70)]  # the last one ≥ 2^16 elements: chunks on the pool


def _matrix(rng, n, w, worst):
    if worst:
        return np.full((n, w), P - 1, dtype=np.uint32)
    return rng.integers(0, P, (n, w), dtype=np.uint32)


def _ref(a, b):
    return ((a.astype(object) @ b.astype(object)) % P).astype(np.uint32)


@pytest.mark.parametrize("worst", [False, True])
@pytest.mark.parametrize("n,w", SHAPES)
def test_combine_columns(n, w, worst):
    rng = np.random.default_rng(n * w)
    m, c = _matrix(rng, n, w, worst), _matrix(rng, w, 8, worst)
    assert np.array_equal(lincomb.combine_columns(m, c), _ref(m, c))
    assert np.array_equal(lincomb.combine_columns(m, c[:, :4]), _ref(m, c[:, :4]))


@pytest.mark.parametrize("worst", [False, True])
@pytest.mark.parametrize("chunk", [64, 1 << 12])
@pytest.mark.parametrize("threads", [1, 2])
def test_combine_terms_is_the_sum_of_the_combinations(worst, chunk, threads, monkeypatch):
    """combine_terms adds every term's combination (each reduced once): matrices of odd
    heights and widths (a shorter one adds zeros past its last row), a row range that starts
    and ends mid-chunk, columns whose coefficients are zero from lane 4 on (the kernel skips
    those lanes), in chunks of rows on 1 thread and on 2, against numpy object sums."""
    from pyzkvm.stark import pool

    monkeypatch.setattr(lincomb, "COMBINE_CHUNK_ROWS", chunk)
    monkeypatch.setattr(pool, "threads", lambda: threads)
    rng = np.random.default_rng(chunk + threads + worst)
    shapes = [(3001, 13), (2999, 1), (1500, 70), (3001, 0), (5, 6)]
    terms = [(_matrix(rng, n, w, worst), _matrix(rng, w, 8, worst)) for n, w in shapes]
    terms[0][1][::3, 4:] = 0
    terms[2][1][:, 4:] = 0
    for r0, r1 in ((0, 3001), (3, 2998), (1499, 1502), (40, 41)):
        want = np.zeros((r1 - r0, 8), dtype=object)
        for m, c in terms:
            part = m[r0:r1]
            want[:len(part)] += part.astype(object) @ c.astype(object)
        assert np.array_equal(lincomb.combine_terms(terms, r0, r1), (want % P).astype(np.uint32))


def test_combine_columns_of_no_columns_is_zero():
    assert not lincomb.combine_columns(np.zeros((5, 0), np.uint32), np.zeros((0, 4), np.uint32)).any()


@pytest.mark.parametrize("worst", [False, True])
@pytest.mark.parametrize("n,w", SHAPES)
def test_denominators(n, w, worst):
    rng = np.random.default_rng(n + w)
    m, c = _matrix(rng, n, w, worst), _matrix(rng, w, 4, worst)
    const = rng.integers(0, P, 4, dtype=np.uint32)
    want = ((const.astype(object)[None, :] - m.astype(object) @ c.astype(object)) % P).astype(np.uint32)
    assert np.array_equal(lincomb.denominators(m, c, const), want)


@pytest.mark.parametrize("worst", [False, True])
@pytest.mark.parametrize("n,w", SHAPES)
def test_weighted_column_sums(n, w, worst):
    rng = np.random.default_rng(3 * n + w)
    m, weights = _matrix(rng, n, w, worst), _matrix(rng, n, 4, worst)
    assert np.array_equal(lincomb.weighted_column_sums(m, weights), _ref(m.T, weights))


@pytest.mark.parametrize("worst", [False, True])
@pytest.mark.parametrize("n,w", SHAPES)
def test_column_sums_at_two_points_is_both_sums(n, w, worst):
    """One pass gives every column's sums with the first weights and the chosen columns' with
    the second (the openings at ζ and ζω)."""
    rng = np.random.default_rng(5 * n + w)
    m, weights, weights2 = _matrix(rng, n, w, worst), _matrix(rng, n, 4, worst), _matrix(rng, n, 4, worst)
    columns = np.array([w - 1, 0, w // 2], dtype=np.int64)
    at, at2 = lincomb.column_sums_at_two_points(m, weights, weights2, columns)
    assert np.array_equal(at, _ref(m.T, weights))
    assert np.array_equal(at2, _ref(m[:, columns].T, weights2))
    assert lincomb.column_sums_at_two_points(m, weights, weights2, columns[:0])[1].shape == (0, 4)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 9, 16387])
def test_column_sums_at_two_points_on_odd_shapes(n, monkeypatch):
    """Row counts off the kernel's groups of 4 rows (the last 1–3 rows weighted alone), the
    chosen columns in any order and repeated, worst-case entries, on 1 thread and on 2 (a
    tall matrix's row chunks side by side: 16387 rows), against numpy object sums."""
    from pyzkvm.stark import pool

    rng = np.random.default_rng(n)
    for worst in (False, True):
        m, weights, weights2 = _matrix(rng, n, 9, worst), _matrix(rng, n, 4, worst), _matrix(rng, n, 4, worst)
        columns = np.array([8, 0, 3, 3], dtype=np.int64)
        for threads in (1, 2):
            monkeypatch.setattr(pool, "threads", lambda threads=threads: threads)
            at, at2 = lincomb.column_sums_at_two_points(m, weights, weights2, columns)
            assert np.array_equal(at, _ref(m.T, weights))
            assert np.array_equal(at2, _ref(m[:, columns].T, weights2))


def test_combine_columns_few_rows_wide_worst_case():
    """The verifier's numpy path (lincomb_numpy: float64 products of 16-bit halves) at its
    widest useful width, every entry p − 1 (the largest sums) and 2^32 − 1 (beyond canonical)."""
    from pyzkvm.stark import lincomb_numpy
    for value in (P - 1, 0xFFFFFFFF):
        m = np.full((lincomb_numpy.MAX_ROWS, 3000), value, dtype=np.uint32)
        c = np.full((3000, 8), value, dtype=np.uint32)
        assert np.array_equal(lincomb_numpy.combine_columns(m, c), _ref(m, c))
