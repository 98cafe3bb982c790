"""Quartic extension F_p[X]/(X^4 − 11) cross-checked against galois.GF(p^4).

galois represents an element of GF(p^4) by its coefficient vector with the HIGHEST degree
first (`.vector()` / `GF4.Vector`), ours lists c0 (constant term) first: convert by reversing.
"""

import galois
import numpy as np
import pytest
from numba import njit

from pyzkvm.errors import UsageError
from pyzkvm.stark import ext as E
from pyzkvm.stark.field import P

GF = galois.GF(P)


@pytest.fixture(scope="module")
def GF4():
    poly = galois.Poly([1, 0, 0, 0, (-E.W) % P], field=GF)  # X^4 − 11
    return galois.GF(P**4, irreducible_poly=poly, verify=False)


def to_g(GF4, a):
    return GF4.Vector(GF(np.asarray(a)[..., ::-1]))


def from_g(g):
    return np.asarray(g.vector())[..., ::-1].astype(np.uint32)


def _random(n, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, P, (n, 4), dtype=np.uint32)
    edges = np.array([[0, 0, 0, 0], [1, 0, 0, 0], [P - 1] * 4, [0, 0, 0, 1], [0, P - 1, 0, 1], [1, 1, 1, 1]], dtype=np.uint32)
    a[: len(edges)] = edges
    return a


def test_irreducible_modulus_euler_criterion():
    # X^4 − a is irreducible over F_p (p ≡ 1 mod 4) iff a is a quadratic non-residue
    # (Lidl–Niederreiter, Thm 3.75): Euler's criterion a^((p−1)/2) = −1
    assert P % 4 == 1
    assert pow(E.W, (P - 1) // 2, P) == P - 1


@pytest.mark.slow
def test_irreducible_modulus_galois():
    assert galois.Poly([1, 0, 0, 0, (-11) % P], field=GF).is_irreducible()


def test_vector_ops_match_galois(GF4):
    a, b = _random(1500, 1), _random(1500, 2)[::-1].copy()
    ga, gb = to_g(GF4, a), to_g(GF4, b)
    np.testing.assert_array_equal(E.ext_add(a, b), from_g(ga + gb))
    np.testing.assert_array_equal(E.ext_sub(a, b), from_g(ga - gb))
    np.testing.assert_array_equal(E.ext_mul(a, b), from_g(ga * gb))
    # broadcasting one (4,) element
    np.testing.assert_array_equal(E.ext_mul(a, b[7]), from_g(ga * to_g(GF4, b[7])))
    np.testing.assert_array_equal(E.ext_sub(b[9], a), from_g(to_g(GF4, b[9]) - ga))
    # every coefficient p − 1 on both sides: the largest sums mul4's delayed reduction adds
    worst = np.full((1, 4), P - 1, dtype=np.uint32)
    np.testing.assert_array_equal(E.ext_mul(worst, worst), from_g(to_g(GF4, worst) ** 2))


def test_mul_base(GF4):
    a = _random(500, 3)
    s = np.random.default_rng(4).integers(0, P, 500, dtype=np.uint32)
    expected = from_g(to_g(GF4, a) * to_g(GF4, E.from_base(s)))
    np.testing.assert_array_equal(E.ext_mul_base(a, s), expected)
    np.testing.assert_array_equal(E.ext_mul_base(a, 5), from_g(to_g(GF4, a) * to_g(GF4, [5, 0, 0, 0])))


def test_inverse(GF4):
    a = _random(300, 5)[1:]  # drop the zero
    inv = E.ext_batch_inverse(a)
    np.testing.assert_array_equal(inv, from_g(to_g(GF4, a) ** -1))
    np.testing.assert_array_equal(E.ext_inv(a[3]), inv[3])
    with pytest.raises(ZeroDivisionError, match="element 1 is zero"):
        E.ext_batch_inverse(np.array([[1, 2, 3, 4], [0, 0, 0, 0]], dtype=np.uint32))


def test_pow_and_powers(GF4):
    x = _random(10, 6)[8]
    for e in (0, 1, 2, 5, 1000003, P**4 - 2):
        np.testing.assert_array_equal(E.ext_pow(x, e), from_g(to_g(GF4, x) ** e))
    pw = E.ext_powers(x, 40)
    np.testing.assert_array_equal(pw, from_g(to_g(GF4, x) ** np.arange(40)))
    with pytest.raises(UsageError):
        E.ext_pow(x, -1)


@pytest.mark.parametrize("threads", [1, 2])
def test_long_powers_on_threads_are_successive(threads, monkeypatch):
    """ext_powers past the numpy path (the kernel, in chunks on the pool, each starting from
    x^lo): 1, x, then each row the one before times x, and x^i where a chunk starts."""
    from pyzkvm.stark import pool

    monkeypatch.setattr(pool, "threads", lambda: threads)
    x = np.array([123456789, 987654321, 5, P - 1], dtype=np.uint32)
    n = (1 << 15) + 3
    pw = E.ext_powers(x, n)
    assert pw[0].tolist() == [1, 0, 0, 0]
    np.testing.assert_array_equal(pw[1:], E.ext_mul(pw[:-1], x))
    for i in pool.chunk_bounds(n, 8)[1:-1]:
        np.testing.assert_array_equal(pw[i], E.ext_pow(x, i))


def test_from_base_and_shape_errors():
    np.testing.assert_array_equal(E.from_base(np.array([5, 6], np.uint32)), [[5, 0, 0, 0], [6, 0, 0, 0]])
    with pytest.raises(UsageError):
        E.ext_mul(np.zeros((3, 3), np.uint32), np.zeros((3, 3), np.uint32))


def test_ext_sum_is_repeated_addition():
    # the LogUp totals' sum (prover and verifier): canonical values near p, and none at all
    rng = np.random.default_rng(11)
    values = rng.integers(P - 1000, P, (37, 4), dtype=np.int64).astype(np.uint32)
    want = E.ZERO.copy()
    for v in values:
        want = E.ext_add(want, v)
    np.testing.assert_array_equal(E.ext_sum(values), want)
    np.testing.assert_array_equal(E.ext_sum(list(values)), want)
    np.testing.assert_array_equal(E.ext_sum([]), E.ZERO)


@njit
def _scalar_kernels(a, b):
    return E.e_add(a, b), E.e_sub(a, b), E.e_mul(a, b), E.e_inv(a)


def test_scalar_kernels_in_njit(GF4):
    a, b = _random(20, 7)[10:12]
    s, d, m, inv = _scalar_kernels(a, b)
    ga, gb = to_g(GF4, a), to_g(GF4, b)
    np.testing.assert_array_equal(s, from_g(ga + gb))
    np.testing.assert_array_equal(d, from_g(ga - gb))
    np.testing.assert_array_equal(m, from_g(ga * gb))
    np.testing.assert_array_equal(inv, from_g(ga**-1))


@njit
def _mul4_both(a, b, out, out_vec):
    for i in range(a.shape[0]):
        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = E.mul4(a[i, 0], a[i, 1], a[i, 2], a[i, 3],
                                                            b[i, 0], b[i, 1], b[i, 2], b[i, 3])
        out_vec[i, 0], out_vec[i, 1], out_vec[i, 2], out_vec[i, 3] = E.mul4_vec(a[i, 0], a[i, 1], a[i, 2], a[i, 3],
                                                                                b[i, 0], b[i, 1], b[i, 2], b[i, 3])


def test_mul4_vec_is_mul4(GF4):
    # the vectorisable product (Barrett reductions of each coefficient's sum, up to 4 products
    # plus W·h < 2^64) equals mul4 and galois, at the largest sums (every coefficient p − 1) too
    rng = np.random.default_rng(5)
    a = np.concatenate([np.full((1, 4), P - 1), np.eye(4, dtype=np.int64) * (P - 1), rng.integers(0, P, (5000, 4))])
    b = np.concatenate([np.full((1, 4), P - 1), np.full((4, 4), P - 1), rng.integers(0, P, (5000, 4))])
    a, b = a.astype(np.uint64), b.astype(np.uint64)
    out, out_vec = np.empty_like(a), np.empty_like(a)
    _mul4_both(a, b, out, out_vec)
    np.testing.assert_array_equal(out_vec, out)
    np.testing.assert_array_equal(out_vec[:200], from_g(to_g(GF4, a[:200]) * to_g(GF4, b[:200])))


def test_mul_rows_column_path_matches_the_reference():
    """mul_rows multiplies column by column above _LANE_TABLE_ROWS rows (row against row, or
    one element against every row): the same values as the Python-int schoolbook product."""
    from tests.ext_reference import rmul

    rng = np.random.default_rng(4)
    n = E._LANE_TABLE_ROWS + 3
    for rows_x, rows_y in ((n, n), (n, 1), (1, n)):
        x = rng.integers(0, P, (rows_x, 4), dtype=np.int64).astype(np.uint32)
        y = rng.integers(0, P, (rows_y, 4), dtype=np.int64).astype(np.uint32)
        x[0] = y[0] = P - 1  # the largest products: four of them summed unreduced must not wrap
        want = [rmul([int(v) for v in x[min(i, rows_x - 1)]], [int(v) for v in y[min(i, rows_y - 1)]]) for i in range(n)]
        assert E.mul_rows(x, y).tolist() == want


def test_verifier_powers_of_zeta_in_python_ints():
    """verifier._PowersOf (ζ^e and a chunk's weights (ζ^S)^k, in Python ints) equals ext_pow /
    ext_powers."""
    from pyzkvm.stark.verifier import _PowersOf

    z = np.array([123456789, 987654321, 5, P - 1], dtype=np.uint32)
    powers = _PowersOf(z)
    for e in (1, 2, 3, 12345, 1 << 20, (1 << 21) - 7):
        assert powers(e).tolist() == E.ext_pow(z, e).tolist()
    assert powers.run(777, 6).tolist() == E.ext_powers(E.ext_pow(z, 777), 6).tolist()
