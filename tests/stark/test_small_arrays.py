"""field.py and ext.py compute arrays of at most NUMPY_MAX elements with numpy in a process
without numba (a verifier's few values load no numba kernel) and longer ones — and, once numba
is loaded, the short powers, inverses and F_p^4 products too (field.numpy_path) — with their
kernels: both give the same canonical values (the galois checks of test_field / test_ext run
on the short path)."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.stark.field import FieldError
from pyzkvm.stark import ext, field
from pyzkvm.stark.field import NUMPY_MAX, POWERS_NUMPY_MAX, P

N = NUMPY_MAX + 8  # one call takes the kernel, its pieces the short path


@pytest.fixture(autouse=True, params=["without numba", "with numba"])
def short_path(request, monkeypatch):
    """The short path as a process without numba takes it (numpy) and as one with numba does."""
    from pyzkvm import lazy_njit

    monkeypatch.setattr(lazy_njit, "numba_loaded", lambda: request.param == "with numba")


def rand(*shape, seed=0):
    x = np.random.default_rng(seed).integers(1, P, size=shape, dtype=np.int64).astype(np.uint32)
    if x.size >= 3:
        x.reshape(-1)[:3] = [P - 1, 1, P - 2]  # the extremes: no overflow anywhere
    return x


def in_pieces(f, *arrays):
    return np.concatenate([f(*(a[i:i + 100] for a in arrays)) for i in range(0, N, 100)])


@pytest.mark.parametrize("name", ["add", "sub", "mul", "batch_inverse"])
def test_field_short_path_equals_the_kernel(name):
    f = getattr(field, name)
    args = (rand(N),) if name == "batch_inverse" else (rand(N), rand(N, seed=1))
    assert np.array_equal(f(*args), in_pieces(f, *args))


@pytest.mark.parametrize("name", ["ext_add", "ext_sub", "ext_mul", "ext_mul_base", "ext_batch_inverse"])
def test_ext_short_path_equals_the_kernel(name):
    f = getattr(ext, name)
    args = (rand(N, 4),) if name == "ext_batch_inverse" else \
        (rand(N, 4), rand(N, seed=1) if name == "ext_mul_base" else rand(N, 4, seed=1))
    assert np.array_equal(f(*args), in_pieces(f, *args))


def test_powers_and_pow_short_paths():
    x, n = rand(4, seed=5), POWERS_NUMPY_MAX + 8
    long = ext.ext_powers(x, n)  # the kernel
    for m in (POWERS_NUMPY_MAX, 1000, 1):
        assert np.array_equal(ext.ext_powers(x, m), long[:m])
    assert ext.ext_powers(x, 0).shape == (0, 4)
    assert np.array_equal(ext.ext_pow(x, n - 1), long[n - 1])
    long = field.powers(P - 2, n)
    for m in (POWERS_NUMPY_MAX, 1000, 1):
        assert np.array_equal(field.powers(P - 2, m), long[:m])
    assert field.powers(7, 0).shape == (0,)


def test_a_zero_is_named_on_the_short_path():
    a = rand(10, 4)
    a[6] = 0
    with pytest.raises(FieldError, match="element 6"):
        ext.ext_batch_inverse(a)
    with pytest.raises(FieldError, match="element 2"):
        field.batch_inverse(np.array([3, 4, 0, 5], dtype=np.uint32))


@pytest.mark.parametrize("width", [0, 1, 37, 700])
def test_lincomb_short_path_equals_the_kernel(width):
    from pyzkvm.stark import lincomb, lincomb_numpy

    rows = lincomb_numpy.MAX_ROWS + 20
    matrix, coeffs, const = rand(rows, width), rand(width, 8, seed=2), rand(4, seed=3)
    if width:
        matrix[0] = P - 1
    combined = lincomb.combine_columns(matrix, coeffs)  # the kernel
    assert np.array_equal(np.concatenate([lincomb.combine_columns(matrix[i:i + 50], coeffs)
                                          for i in range(0, rows, 50)]), combined)
    denom = lincomb.denominators(matrix, coeffs[:, :4], const)
    assert np.array_equal(np.concatenate([lincomb.denominators(matrix[i:i + 50], coeffs[:, :4], const)
                                          for i in range(0, rows, 50)]), denom)
