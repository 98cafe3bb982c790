"""The numpy transforms and hashes a process without numba uses (stark/ntt_numpy.py,
stark/blake3_numpy.py: a program's image ID in `pyzkvm info` and `verify --elf`): the same
bytes as numba's kernels (ntt.py, merkle.py) and as the blake3 package, on random inputs."""

from __future__ import annotations

import blake3
import numpy as np
import pytest

from pyzkvm.errors import UsageError
from pyzkvm.stark import blake3_numpy, merkle, ntt, ntt_numpy
from pyzkvm.stark.field import GENERATOR, P


def _random(shape, seed, high=1 << 32):
    return np.random.default_rng(seed).integers(0, high, shape, dtype=np.uint64).astype(np.uint32)


@pytest.mark.parametrize("width", [1, 2, 8, 9, 15, 16, 17, 21, 32, 33, 100, 255, 256])
def test_hash_rows_is_blake3_of_each_row(width):
    rows = _random((5, width), width)
    out = blake3_numpy.hash_rows(rows)
    assert out.dtype == np.uint32 and out.shape == (5, 8)
    for row, digest in zip(rows, out):
        assert merkle.digest_bytes(digest) == blake3.blake3(row.astype("<u4").tobytes()).digest()
    assert np.array_equal(out, merkle.hash_rows(rows))  # numba's kernel


def test_hash_rows_of_many_rows_and_one_column_is_numbas():
    rows = _random((3000, 21), 1, high=P)
    assert np.array_equal(blake3_numpy.hash_rows(rows), merkle.hash_rows(rows))
    column = _random(64, 2)
    assert np.array_equal(blake3_numpy.hash_rows(column), merkle.hash_rows(column))


def test_compress_pairs_is_blake3_of_each_pair():
    digests = _random((2 * 300, 8), 3)
    out = blake3_numpy.compress_pairs(digests)
    assert np.array_equal(out, merkle.compress_pairs(digests))
    for k in (0, 1, 299):
        assert merkle.digest_bytes(out[k]) == blake3.blake3(digests[2 * k:2 * k + 2].astype("<u4").tobytes()).digest()



def test_compress_each_is_numbas():
    left, right = _random((301, 8), 4), _random((301, 8), 5)
    assert np.array_equal(blake3_numpy.compress_each(left, right), merkle.compress_each(left, right))

def test_bad_shapes_are_refused():
    with pytest.raises(UsageError):
        blake3_numpy.hash_rows(np.zeros((4, 257), dtype=np.uint32))  # more than one chunk
    with pytest.raises(UsageError):
        blake3_numpy.hash_rows(np.zeros((4, 0), dtype=np.uint32))
    with pytest.raises(UsageError):
        blake3_numpy.compress_pairs(np.zeros((3, 8), dtype=np.uint32))


@pytest.mark.parametrize("log_n, width, log_blowup, shift", [
    (0, 3, 2, GENERATOR), (1, 1, 1, 7), (2, 5, 2, GENERATOR), (4, 21, 4, 123456789), (6, 9, 3, P - 1),
    (10, 6, 2, GENERATOR), (12, 21, 1, 5)])
def test_coset_lde_is_numbas(log_n, width, log_blowup, shift):
    evals = _random((1 << log_n, width), log_n * 100 + width, high=P)
    out = ntt_numpy.coset_lde(evals, log_blowup, shift)
    assert out.dtype == np.uint32
    assert np.array_equal(out, ntt.coset_lde(evals, log_blowup, shift=shift))


def test_coset_lde_evaluates_the_interpolant_at_the_bit_reversed_coset():
    # independently of ntt.py: f(x) = Σ c_i x^i, evals f(ω_n^j); row j of the LDE is f(s·ω_N^rev(j))
    from pyzkvm.stark.field import root_of_unity

    n, log_blowup, s = 8, 2, 11
    coeffs = [int(c) for c in _random(n, 9, high=P)]
    f = lambda x: sum(c * pow(x, i, P) for i, c in enumerate(coeffs)) % P  # noqa: E731
    w_n, w_big = root_of_unity(3), root_of_unity(3 + log_blowup)
    evals = np.array([[f(pow(w_n, j, P))] for j in range(n)], dtype=np.uint32)
    rev = ntt.bit_reverse_indices(n << log_blowup)
    expected = [f(s * pow(w_big, int(rev[j]), P) % P) for j in range(n << log_blowup)]
    assert ntt_numpy.coset_lde(evals, log_blowup, s)[:, 0].tolist() == expected
