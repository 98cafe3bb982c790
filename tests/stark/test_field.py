"""BabyBear field kernels cross-checked against galois.GF(p) (the independent oracle)."""

import galois
import numpy as np
import pytest
from numba import njit

from pyzkvm.errors import UsageError
from pyzkvm.stark import field as F

P = F.P
GF = galois.GF(P)
EDGE = np.array([0, 1, 2, P - 2, P - 1, 1 << 30, (1 << 31) - 1 - (1 << 27)], dtype=np.uint32)


def _random(n, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, P, n, dtype=np.uint32)
    k = min(n, len(EDGE))
    a[:k] = EDGE[:k]
    return a


def test_constants():
    assert P == 15 * 2**27 + 1 == 0x78000001
    assert GF.primitive_element == F.GENERATOR == 31
    assert F.TWO_ADIC_GENERATOR == pow(31, 15, P)
    g = GF(F.TWO_ADIC_GENERATOR)
    assert g ** (2**27) == 1 and g ** (2**26) != 1  # primitive 2^27-th root
    for log_n in (0, 1, 5, 20, 27):
        w = GF(F.root_of_unity(log_n))
        assert w ** (2**log_n) == 1
        if log_n:
            assert w ** (2 ** (log_n - 1)) == P - 1  # order exactly 2^log_n
    with pytest.raises(UsageError):
        F.root_of_unity(28)


def test_binary_ops_match_galois():
    a, b = _random(5000, 1), _random(5000, 2)[::-1].copy()
    # every pair of edge values too
    ea, eb = np.meshgrid(EDGE, EDGE)
    a = np.concatenate([a, ea.ravel()])
    b = np.concatenate([b, eb.ravel()])
    ga, gb = GF(a), GF(b)
    np.testing.assert_array_equal(F.add(a, b), np.asarray(ga + gb))
    np.testing.assert_array_equal(F.sub(a, b), np.asarray(ga - gb))
    np.testing.assert_array_equal(F.mul(a, b), np.asarray(ga * gb))
    np.testing.assert_array_equal(F.neg(a), np.asarray(-ga))
    for op in (F.add, F.sub, F.mul):
        assert op(a, b).dtype == np.uint32


def test_scalar_broadcast_and_2d():
    a = _random(600, 3).reshape(200, 3)
    np.testing.assert_array_equal(F.mul(a, np.uint32(7)), np.asarray(GF(a) * GF(7)))
    np.testing.assert_array_equal(F.add(a, P - 1), np.asarray(GF(a) + GF(P - 1)))
    row = _random(3, 4)
    np.testing.assert_array_equal(F.sub(a, row), np.asarray(GF(a) - GF(row)))


@pytest.mark.parametrize("e", [0, 1, 2, 3, 17, P - 2, P - 1, P, 2 * (P - 1), 2**70 + 5])
def test_pow_vec(e):
    a = _random(300, 5)
    if e < 2**63:
        expected = np.asarray(GF(a) ** e)  # galois: 0^0 = 1, 0^e = 0 for e > 0
    else:  # galois exponents are int64: use Python's pow as the oracle
        expected = np.array([pow(int(x), e, P) for x in a], dtype=np.uint32)
    np.testing.assert_array_equal(F.pow_vec(a, e), expected)


def test_batch_inverse_and_zero():
    a = _random(4000, 6)
    a = a[a != 0]
    inv = F.batch_inverse(a)
    np.testing.assert_array_equal(inv, np.asarray(GF(a) ** -1))
    np.testing.assert_array_equal(F.batch_inverse(a.reshape(-1)[:3000].reshape(1000, 3)).ravel(), inv[:3000])
    assert F.batch_inverse(np.zeros(0, np.uint32)).shape == (0,)
    with pytest.raises(ZeroDivisionError, match="element 2 is zero"):
        F.batch_inverse(np.array([3, 5, 0, 7], dtype=np.uint32))
    with pytest.raises(UsageError):
        F.batch_inverse(np.array([0], dtype=np.uint32))


def test_powers():
    for base in (0, 1, 5, P - 1, F.TWO_ADIC_GENERATOR):
        got = F.powers(base, 50)
        expected = np.asarray(GF(base) ** np.arange(50))
        np.testing.assert_array_equal(got, expected)
    assert F.powers(3, 0).shape == (0,)


@pytest.mark.parametrize("threads", [1, 3])
def test_long_powers_in_chunks_on_threads(threads, monkeypatch):
    """powers past the numpy path: the kernel in chunks on the pool (small ones here), each
    starting from base^lo: the same successive powers as galois's, where chunks start too."""
    from pyzkvm.stark import pool

    monkeypatch.setattr(pool, "threads", lambda: threads)
    monkeypatch.setattr(pool, "MIN_PARALLEL_WORK", 1)
    monkeypatch.setattr(pool, "MIN_CHUNK_WORK", 1)
    n = 28 * F.POWER_CHAINS + 11  # 3 threads: 12 chunks of ~150, each its first chain and runs from base^lo
    for base in (0, 1, 7, P - 1):
        got = F.powers(base, n)
        np.testing.assert_array_equal(got, np.asarray(GF(base) ** np.arange(n)))
    assert len(pool.chunk_bounds(n, 1)) - 1 == (1 if threads == 1 else 12)


@njit
def _njit_caller(a, b):
    # the scalar kernels must be callable from user @njit code
    return F.f_add(a, b), F.f_sub(a, b), F.f_mul(a, b), F.f_pow(a, b), F.f_inv(a)


def test_scalar_kernels_in_njit():
    for a, b in [(0, 0), (1, P - 1), (P - 1, P - 1), (123456789, 987654321), (P - 2, 3)]:
        s, d, m, pw, inv = _njit_caller(np.uint64(a), np.uint64(b))
        assert int(s) == int(GF(a) + GF(b))
        assert int(d) == int(GF(a) - GF(b))
        assert int(m) == int(GF(a) * GF(b))
        assert int(pw) == int(GF(a) ** b)
        if a:
            assert int(inv) == int(GF(a) ** -1)
        else:
            assert int(inv) == 0  # documented: inverse of 0 is returned as 0


@njit
def _lanes_all(a, b, add, sub, neg, mul):
    # the uint32-lane kernels of the constraint tape, elementwise on uint32 arrays
    for i in range(a.shape[0]):
        add[i] = F.f_add_u32(a[i], b[i])
        sub[i] = F.f_sub_u32(a[i], b[i])
        neg[i] = F.f_sub_u32(np.uint32(0), a[i])
        mul[i] = F.f_mul_u32(a[i], b[i])


def test_uint32_lane_kernels_are_exact():
    # f_add_u32 / f_sub_u32 / f_mul_u32 against Python ints. Edges: 0, 1, p − 1 (a + b up to
    # 2p − 2 and a + p − b up to 2p − 1: near 2^32, where a wrong reduction wraps), every
    # pair of them; f_mul_u32's Barrett quotient may fall one short, so products at and just
    # around multiples of p, the largest product (p − 1)², and random canonical pairs
    rng = np.random.default_rng(11)
    a = [0, 1, P - 1, P - 1, P - 2, 1 << 30, (1 << 31) - 1 - (1 << 27)]
    b = [0, P - 1, P - 1, 1, P - 2, 1 << 30, 3]
    for k in (1, 2, 3, 1 << 15, (P - 1) // 2):  # a·b = k·p − 1 and k·p + 1 where they factor
        for z in (k * P - 1, k * P + 1):
            for d in (1, 2, 3, 4, 5, 7, 8, 16):
                if z % d == 0 and z // d < P and d < P:
                    a.append(z // d)
                    b.append(d)
    a = np.concatenate([np.array(a, dtype=np.uint64), rng.integers(0, P, 200_000).astype(np.uint64)])
    b = np.concatenate([np.array(b, dtype=np.uint64), rng.integers(0, P, 200_000).astype(np.uint64)])
    pairs = np.array([(x, y) for x in EDGE.tolist() for y in EDGE.tolist()], dtype=np.uint64)
    a = np.concatenate([a, pairs[:, 0]]).astype(np.uint32)
    b = np.concatenate([b, pairs[:, 1]]).astype(np.uint32)
    add, sub, neg, mul = (np.empty_like(a) for _ in range(4))
    _lanes_all(a, b, add, sub, neg, mul)
    x, y = a.astype(object), b.astype(object)
    assert add.tolist() == ((x + y) % P).tolist()
    assert sub.tolist() == ((x - y) % P).tolist()
    assert neg.tolist() == ((-x) % P).tolist()
    assert mul.tolist() == ((x * y) % P).tolist()
    assert add.dtype == sub.dtype == mul.dtype == np.uint32


@njit
def _reduce_all(z, out, out64):
    for i in range(z.shape[0]):
        out[i] = F.f_reduce(z[i] >> np.uint64(2))  # f_reduce takes z < 2^62
        out64[i] = F.f_reduce64(z[i])


def test_barrett_reduction_is_exact():
    # f_reduce's quotient falls at most 1 short for every z < 2^62 (its one correction and
    # its remainder computed mod 2^32 rely on it): z at and around multiples of p up to the
    # top, around 2^62 and 2^64 (z is shifted right 2 for f_reduce), and random uint64
    rng = np.random.default_rng(12)
    top = (1 << 62) // P
    near = [k * P + e for k in (0, 1, 2, top - 1, top) for e in (-1, 0, 1) if 0 <= k * P + e < 1 << 62]
    z = [v << 2 for v in near] + [(1 << 64) - 1, (1 << 62) - 1, (1 << 62) - 4, 0, 1 << 32, (1 << 32) - 1]
    z = np.concatenate([np.array(z, dtype=np.uint64), rng.integers(0, 1 << 63, 200_000, dtype=np.uint64) * 2
                        + rng.integers(0, 2, 200_000, dtype=np.uint64)])
    out, out64 = np.empty(len(z), np.uint32), np.empty(len(z), np.uint32)
    _reduce_all(z, out, out64)
    zs = z.astype(object)
    assert out.tolist() == ((zs >> 2) % P).tolist()
    assert out64.tolist() == (zs % P).tolist()


def test_to_field():
    np.testing.assert_array_equal(F.to_field([-1, P, P + 3, 2**40]), [P - 1, 0, 3, 2**40 % P])
    with pytest.raises(UsageError):
        F.to_field([1.5])


def test_inverse_small_above_the_loop_size_uses_a_product_tree():
    """inverse_small's numpy product tree (more than _INVERSE_LOOP_MAX elements, not a power
    of two: padded) inverts like its Python-int loop."""
    from pyzkvm.stark import field

    rng = np.random.default_rng(5)
    for size in (field._INVERSE_LOOP_MAX + 1, 128, 300):
        a = np.concatenate([rng.integers(1, field.P, size=size - 2, dtype=np.int64), [1, field.P - 1]]).astype(np.uint32)
        assert a.size > field._INVERSE_LOOP_MAX
        assert np.all(a.astype(np.uint64) * field.inverse_small(a) % field.P == 1)
