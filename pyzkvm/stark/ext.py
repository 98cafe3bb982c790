"""The quartic extension F_p^4 = F_p[X]/(X^4 − W), W = 11 (Plonky3/SP1's BabyBear extension).

Challenges (FRI folding β, out-of-domain point ζ, LogUp α) are drawn from here because
|F_p^4| ≈ 2^123.6 is large enough for soundness while F_p alone (2^31) is not.

An element c0 + c1·X + c2·X² + c3·X³ is 4 uint32 coefficients, lowest degree first; an array
of elements has shape (..., 4). Multiplication is polynomial multiplication reduced with
X^4 = W:

    (a·b)_k = Σ_{i+j=k} a_i·b_j + W · Σ_{i+j=k+4} a_i·b_j

Two layers, as in field.py: numba scalar kernels ``e_add, e_sub, e_mul, e_inv`` on (4,)
arrays (callable from @njit code; they return new arrays), and vector operations over (n, 4)
arrays that broadcast a single (4,) element.
"""

from __future__ import annotations

import math

import numpy as np
from ..lazy_njit import njit

from .._jit import inner

from ..errors import UsageError
from .pool import parallel_for
from .field import (NUMPY_MAX, POWERS_NUMPY_MAX, P, FieldError, f_add, f_inv, f_mul, f_reduce64, f_sub, inverse_small,
                    numpy_path, readonly)

W = 11  #: the non-residue: X^4 − 11 is irreducible over F_p
_W = np.uint64(W)
_P = np.uint64(P)
_ZERO = np.uint64(0)
_ONE = np.uint64(1)


# --- coefficient-level kernels (tuples of 4 uint64: no allocation, for hot loops) ----------


# mul4 and norm_conj4 are @inner (LLVM inlines them where it pays; numba's inline="always"
# re-types a copy per call site, compile time); mul4_vec keeps it: without it LLVM leaves the
# call in the row loops and they stop vectorising (measured ~2× slower)
@inner
def mul4(a0, a1, a2, a3, b0, b1, b2, b3):
    """(a·b) in F_p^4 on coefficient tuples: schoolbook product with X^4 = W folded in.

    Delayed reduction: a product of two canonical elements is ≤ (p − 1)² < 2^61.82, so up to
    four of them add in a uint64 (< 2^63.82) and each coefficient needs one ``%``, not one per
    product (7 reductions in all instead of 23; the result is the same canonical value)."""
    a0, a1, a2, a3 = np.uint64(a0), np.uint64(a1), np.uint64(a2), np.uint64(a3)
    b0, b1, b2, b3 = np.uint64(b0), np.uint64(b1), np.uint64(b2), np.uint64(b3)
    # high part h_k = Σ_{i+j=k+4} a_i b_j (reduced, so W·h_k < 2^35 adds without overflow)
    h0 = (a1 * b3 + a2 * b2 + a3 * b1) % _P
    h1 = (a2 * b3 + a3 * b2) % _P
    h2 = (a3 * b3) % _P
    c0 = (a0 * b0 + h0 * _W) % _P
    c1 = (a0 * b1 + a1 * b0 + h1 * _W) % _P
    c2 = (a0 * b2 + a1 * b1 + a2 * b0 + h2 * _W) % _P
    c3 = (a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0) % _P
    return c0, c1, c2, c3


@njit(cache=True, inline="always")
def mul4_vec(a0, a1, a2, a3, b0, b1, b2, b3):
    """mul4 with each coefficient's sum reduced by field.f_reduce64 (32-bit multiplies only),
    so a loop of them vectorises. Same value as mul4: each sum is < 2^64 and reduced exactly."""
    a0, a1, a2, a3 = np.uint64(a0), np.uint64(a1), np.uint64(a2), np.uint64(a3)
    b0, b1, b2, b3 = np.uint64(b0), np.uint64(b1), np.uint64(b2), np.uint64(b3)
    h0 = f_reduce64(a1 * b3 + a2 * b2 + a3 * b1)
    h1 = f_reduce64(a2 * b3 + a3 * b2)
    h2 = f_reduce64(a3 * b3)
    c0 = f_reduce64(a0 * b0 + h0 * _W)
    c1 = f_reduce64(a0 * b1 + a1 * b0 + h1 * _W)
    c2 = f_reduce64(a0 * b2 + a1 * b1 + a2 * b0 + h2 * _W)
    c3 = f_reduce64(a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0)
    return c0, c1, c2, c3


@inner
def norm_conj4(a0, a1, a2, a3):
    """For a ≠ 0 return (n, d0, d1, d2, d3) with a · d = n ∈ F_p (so a^(−1) = d / n).

    Write a(X) = e(X²) + X·o(X²). Then a(X)·a(−X) = e² − X²·o² = b0 + b1·X² with
        b0 = a0² + W·a2² − 2W·a1·a3,   b1 = 2·a0·a2 − a1² − W·a3²,
    and (b0 + b1·Y)(b0 − b1·Y) = b0² − W·b1² = n (Y = X², Y² = W). So
    d = a(−X) · (b0 − b1·X²)."""
    two = np.uint64(2)
    b0 = f_sub(f_add(f_mul(a0, a0), f_mul(_W, f_mul(a2, a2))), f_mul(f_mul(two, _W), f_mul(a1, a3)))
    b1 = f_sub(f_sub(f_mul(two, f_mul(a0, a2)), f_mul(a1, a1)), f_mul(_W, f_mul(a3, a3)))
    n = f_sub(f_mul(b0, b0), f_mul(_W, f_mul(b1, b1)))
    # a(−X) = a0 − a1 X + a2 X² − a3 X³ ; (b0 − b1 X²)
    nb1 = f_sub(_ZERO, b1)
    d0, d1, d2, d3 = mul4(a0, f_sub(_ZERO, a1), a2, f_sub(_ZERO, a3), b0, _ZERO, nb1, _ZERO)
    return n, d0, d1, d2, d3


# --- scalar kernels on (4,) arrays ---------------------------------------------------------


@njit(cache=True, nogil=True)
def e_add(a, b):
    """a + b in F_p^4 (coefficientwise) for (4,) uint32 arrays."""
    out = np.empty(4, dtype=np.uint32)
    for k in range(4):
        out[k] = f_add(a[k], b[k])
    return out


@njit(cache=True, nogil=True)
def e_sub(a, b):
    """a − b in F_p^4 (coefficientwise)."""
    out = np.empty(4, dtype=np.uint32)
    for k in range(4):
        out[k] = f_sub(a[k], b[k])
    return out


@njit(cache=True, nogil=True)
def e_mul(a, b):
    """a · b in F_p^4, reduced with X^4 = 11."""
    c0, c1, c2, c3 = mul4(np.uint64(a[0]), np.uint64(a[1]), np.uint64(a[2]), np.uint64(a[3]),
                          np.uint64(b[0]), np.uint64(b[1]), np.uint64(b[2]), np.uint64(b[3]))
    out = np.empty(4, dtype=np.uint32)
    out[0] = c0
    out[1] = c1
    out[2] = c2
    out[3] = c3
    return out


@njit(cache=True, nogil=True)
def e_inv(a):
    """a^(−1) in F_p^4 via the norm to F_p (see norm_conj4). The inverse of 0 is 0: callers check."""
    n, d0, d1, d2, d3 = norm_conj4(np.uint64(a[0]), np.uint64(a[1]), np.uint64(a[2]), np.uint64(a[3]))
    ni = f_inv(n)
    out = np.empty(4, dtype=np.uint32)
    out[0] = f_mul(d0, ni)
    out[1] = f_mul(d1, ni)
    out[2] = f_mul(d2, ni)
    out[3] = f_mul(d3, ni)
    return out


# --- vector kernels over (n, 4) -----------------------------------------------------------


@njit(cache=True, nogil=True)
def _add_kernel(a, b, out):
    for i in range(out.shape[0]):
        for k in range(4):
            out[i, k] = f_add(a[i, k], b[i, k])


@njit(cache=True, nogil=True)
def _sub_kernel(a, b, out):
    for i in range(out.shape[0]):
        for k in range(4):
            out[i, k] = f_sub(a[i, k], b[i, k])


@njit(cache=True, nogil=True)
def _mul_kernel(a, b, out):
    for i in range(out.shape[0]):
        c0, c1, c2, c3 = mul4(np.uint64(a[i, 0]), np.uint64(a[i, 1]), np.uint64(a[i, 2]), np.uint64(a[i, 3]),
                              np.uint64(b[i, 0]), np.uint64(b[i, 1]), np.uint64(b[i, 2]), np.uint64(b[i, 3]))
        out[i, 0] = c0
        out[i, 1] = c1
        out[i, 2] = c2
        out[i, 3] = c3


@njit(cache=True, nogil=True)
def _mul_base_kernel(a, b, out):
    for i in range(out.shape[0]):
        s = np.uint64(b[i])
        for k in range(4):
            out[i, k] = f_mul(a[i, k], s)


@njit(cache=True, nogil=True)
def _inv_kernel(a, out):
    # Montgomery's batch trick over F_p^4 on top of the norm inversion; returns first zero or −1.
    n = a.shape[0]
    p0, p1, p2, p3 = _ONE, _ZERO, _ZERO, _ZERO
    for i in range(n):
        x0, x1, x2, x3 = np.uint64(a[i, 0]), np.uint64(a[i, 1]), np.uint64(a[i, 2]), np.uint64(a[i, 3])
        if x0 == _ZERO and x1 == _ZERO and x2 == _ZERO and x3 == _ZERO:
            return i
        out[i, 0] = p0
        out[i, 1] = p1
        out[i, 2] = p2
        out[i, 3] = p3
        p0, p1, p2, p3 = mul4(p0, p1, p2, p3, x0, x1, x2, x3)
    if n == 0:
        return -1
    nn, d0, d1, d2, d3 = norm_conj4(p0, p1, p2, p3)
    ni = f_inv(nn)
    q0, q1, q2, q3 = f_mul(d0, ni), f_mul(d1, ni), f_mul(d2, ni), f_mul(d3, ni)  # (a_0⋯a_{n−1})^(−1)
    for i in range(n - 1, -1, -1):
        x0, x1, x2, x3 = np.uint64(a[i, 0]), np.uint64(a[i, 1]), np.uint64(a[i, 2]), np.uint64(a[i, 3])
        r0, r1, r2, r3 = mul4(np.uint64(out[i, 0]), np.uint64(out[i, 1]), np.uint64(out[i, 2]), np.uint64(out[i, 3]),
                              q0, q1, q2, q3)
        out[i, 0] = r0
        out[i, 1] = r1
        out[i, 2] = r2
        out[i, 3] = r3
        q0, q1, q2, q3 = mul4(q0, q1, q2, q3, x0, x1, x2, x3)
    return -1


#: the batch inversion for numba kernels: out ← a^(−1) row by row; returns the index of the
#: first zero row (nothing inverted then) or −1
batch_inverse_into = _inv_kernel


@njit(cache=True, nogil=True)
def _powers_kernel(x0, x1, x2, x3, out, lo, hi):
    # out[i] = x^i for i in [lo, hi) (a chunk of pool.parallel_for): x^lo by squaring and
    # multiplying, then one product a row
    p0, p1, p2, p3 = _ONE, _ZERO, _ZERO, _ZERO
    b0, b1, b2, b3 = x0, x1, x2, x3
    e = lo
    while e:
        if e & 1:
            p0, p1, p2, p3 = mul4(p0, p1, p2, p3, b0, b1, b2, b3)
        b0, b1, b2, b3 = mul4(b0, b1, b2, b3, b0, b1, b2, b3)
        e >>= 1
    rows = out[lo:hi]  # (its rows counted from 0: no negative-index checks in the loop)
    for i in range(rows.shape[0]):
        rows[i, 0] = p0
        rows[i, 1] = p1
        rows[i, 2] = p2
        rows[i, 3] = p3
        p0, p1, p2, p3 = mul4(p0, p1, p2, p3, x0, x1, x2, x3)


# --- numpy paths for a few elements (field.NUMPY_MAX): no kernel load on a verifier's values --

#: (16, 4): lane (i, j) of the 4×4 product table goes to coefficient (i + j) mod 4, times W
#: when i + j ≥ 4 (X^4 = W)
_FOLD = np.array([[(1 if i + j < 4 else W) if (i + j) % 4 == k else 0 for k in range(4)]
                  for i in range(4) for j in range(4)], dtype=np.uint64)


_FOLD_FLOAT = _FOLD.astype(np.float64)


def mul_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise product in F_p^4 of two (k, 4) arrays of canonical values, with numpy
    (uint64 result). Each lane product is < 2^62 and reduced before the fold's ≤ 4 + 3·W
    terms are added (< 2^37): nothing overflows."""
    x, y = x.astype(np.uint64), y.astype(np.uint64)
    if max(x.shape[0], y.shape[0]) > _LANE_TABLE_ROWS:
        return _mul_columns(x, y)
    prod = (x[:, :, None] * y[:, None, :]) % _P
    return fold_lanes(prod.reshape(-1, 16))


#: above this many rows mul_rows multiplies column by column (16 column products and the fold
#: written out: ~40 numpy calls, but no (k, 16) lane table, whose products and reductions cost
#: more from ~150 rows on: 420 rows, 53 → 30 µs; a verifier's DEEP quotients, tapes, claimed sums)
_LANE_TABLE_ROWS = 128


def _mul_columns(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # coefficient k of x·y: Σ_{i+j=k} x_i·y_j + W·Σ_{i+j=k+4} x_i·y_j. Canonical inputs: each
    # product < p² < 2^62, and up to four of them add up below 2^64 (4p² < 2^64), so a
    # coefficient's products are summed unreduced and reduced once; the W part is reduced
    # first (< p), so W times it adds < 2^35
    x0, x1, x2, x3 = x[:, 0], x[:, 1], x[:, 2], x[:, 3]
    y0, y1, y2, y3 = y[:, 0], y[:, 1], y[:, 2], y[:, 3]
    out = np.empty((max(x.shape[0], y.shape[0]), 4), dtype=np.uint64)
    out[:, 0] = (x0 * y0 + _W * ((x1 * y3 + x2 * y2 + x3 * y1) % _P)) % _P
    out[:, 1] = (x0 * y1 + x1 * y0 + _W * ((x2 * y3 + x3 * y2) % _P)) % _P
    out[:, 2] = (x0 * y2 + x1 * y1 + x2 * y0 + _W * (x3 * y3 % _P)) % _P
    out[:, 3] = (x0 * y3 + x1 * y2 + x2 * y1 + x3 * y0) % _P
    return out


def fold_lanes(lanes: np.ndarray) -> np.ndarray:
    """(k, 16) canonical values, lane 4i + j a coefficient of X^(i+j) → (k, 4) uint64 elements
    of F_p^4 (X^4 = W folds the high half down). The last step of a product (lane (i, j) =
    x_i·y_j), and the recombination of an extension column committed as 4 base columns
    (lane (c, i) = coefficient i of column c's value, times X^c: deep.recombine_ext_columns)."""
    # a float64 product (BLAS): each sum is < 4p + 3·W·p < 2^37, exact in a double
    return (lanes.astype(np.float64) @ _FOLD_FLOAT).astype(np.uint64) % _P


def multiplier(c) -> np.ndarray:
    """The (4, 4) uint64 matrix M of multiplication by one c ∈ F_p^4: x·c = x @ M for
    coefficient rows x (..., 4). Row i is X^i·c (c shifted up i places, X^4 = W folded down),
    entries < p: a product of canonical rows is four terms < p² each, < 4p² < 2^64 in all, so
    ``(x @ M) % p`` is exact in uint64 — one small matrix product where mul_rows spends a
    (k, 16) lane table on a single element."""
    row = [int(v) for v in np.asarray(c).reshape(4)]
    rows = []
    for _ in range(4):
        rows.append(row)
        row = [W * row[3] % P, row[0], row[1], row[2]]  # ·X
    return np.array(rows, dtype=np.uint64)


def _inverse_rows(a: np.ndarray) -> np.ndarray:
    """Row-wise inverse of nonzero (k, 4) elements, with numpy. With a(X)·a(−X) = b(X²) and
    b(Y)·b(−Y) = b0² − W·b1² = n ∈ F_p:  a^(−1) = a(−X) · b(−X²) · n^(−1)."""
    sign = np.array([1, P - 1, 1, P - 1], dtype=np.uint64)  # a(X) → a(−X)
    conj = (a.astype(np.uint64) * sign) % _P
    b = mul_rows(a, conj)  # lanes 1 and 3 are zero
    b_conj = np.zeros_like(b)
    b_conj[:, 0], b_conj[:, 2] = b[:, 0], (_P - b[:, 2]) % _P
    n = (b[:, 0] * b[:, 0] % _P + _P - (_W * (b[:, 2] * b[:, 2] % _P)) % _P) % _P
    n_inv = inverse_small(n.astype(np.uint32)).astype(np.uint64)
    return (mul_rows(conj, b_conj) * n_inv[:, None]) % _P


def _as_ext(a, name):
    arr = np.asarray(a, dtype=np.uint32)
    if arr.ndim == 0 or arr.shape[-1] != 4:
        raise UsageError(f"{name}: expected extension elements of shape (..., 4), got shape {arr.shape}")
    return arr


def _common_shape(a: np.ndarray, b: np.ndarray) -> tuple:
    """The broadcast shape of two (..., 4) arrays; the verifier's usual cases (equal shapes, one
    single element) without numpy's general rule, which costs more than a small product."""
    if a.shape == b.shape or b.shape == (4,):
        return a.shape
    if a.shape == (4,):
        return b.shape
    return np.broadcast_shapes(a.shape, b.shape)


def _binary(a, b, kernel, name):
    a = _as_ext(a, name)
    b = _as_ext(b, name)
    shape = _common_shape(a, b)
    # at most NUMPY_MAX elements (a product: field.numpy_path; a sum is one numpy call anyway)
    if math.prod(shape) <= 4 * NUMPY_MAX and (kernel is not _mul_kernel or numpy_path(math.prod(shape) // 4)):
        x, y = a.astype(np.uint64), b.astype(np.uint64)  # numpy broadcasts: no copies to a common shape
        if kernel is _mul_kernel:
            # rows against rows, or a single element against every row (mul_rows broadcasts it)
            row_wise = all(v.shape == shape or v.size == 4 for v in (x, y))
            out = mul_rows(x.reshape(-1, 4), y.reshape(-1, 4)) if row_wise else \
                mul_rows(np.broadcast_to(x, shape).reshape(-1, 4), np.broadcast_to(y, shape).reshape(-1, 4))
        else:
            out = (x + y if kernel is _add_kernel else x + _P - y) % _P
        return out.astype(np.uint32).reshape(shape)
    a2 = readonly(np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1, 4))  # one kernel type
    b2 = readonly(np.ascontiguousarray(np.broadcast_to(b, shape)).reshape(-1, 4))
    out = np.empty(a2.shape, dtype=np.uint32)
    kernel(a2, b2, out)
    return out.reshape(shape)


def ext_add(a, b):
    """Elementwise a + b in F_p^4 over (..., 4) arrays (a (4,) element broadcasts)."""
    return _binary(a, b, _add_kernel, "ext_add")


def ext_sub(a, b):
    """Elementwise a − b in F_p^4."""
    return _binary(a, b, _sub_kernel, "ext_sub")


def ext_mul(a, b):
    """Elementwise a · b in F_p^4 (product reduced with X^4 = 11)."""
    return _binary(a, b, _mul_kernel, "ext_mul")


def ext_mul_base(a, b):
    """a · b for extension elements a (..., 4) and base-field elements b (...,) or a scalar:
    each coefficient of a is multiplied by b (F_p^4 is an F_p-vector space)."""
    a = _as_ext(a, "ext_mul_base")
    b = np.asarray(b, dtype=np.uint32)
    if b.shape == a.shape[:-1] and b.size <= NUMPY_MAX:  # one base element per extension element
        return (a.astype(np.uint64) * b.astype(np.uint64)[..., None] % _P).astype(np.uint32)
    if b.ndim == 0 and a.size <= 4 * NUMPY_MAX:  # one base element for all
        return (a.astype(np.uint64) * np.uint64(b) % _P).astype(np.uint32)
    shape = np.broadcast_shapes(a.shape[:-1], b.shape)
    a2 = readonly(np.ascontiguousarray(np.broadcast_to(a, shape + (4,))).reshape(-1, 4))
    b2 = readonly(np.ascontiguousarray(np.broadcast_to(b, shape)).reshape(-1))
    if b2.shape[0] <= NUMPY_MAX:
        return ((a2.astype(np.uint64) * b2.astype(np.uint64)[:, None]) % _P).astype(np.uint32).reshape(shape + (4,))
    out = np.empty(a2.shape, dtype=np.uint32)
    _mul_base_kernel(a2, b2, out)
    return out.reshape(shape + (4,))


def ext_batch_inverse(a):
    """Elementwise a^(−1) in F_p^4 with a single base-field inversion (Montgomery's trick).

    Raises FieldError (a ZeroDivisionError) naming the first zero element."""
    a = _as_ext(a, "ext_batch_inverse")
    # a writable array, as logup's numba kernel passes it: one compiled _inv_kernel for both
    a2 = np.ascontiguousarray(a).reshape(-1, 4)
    a2 = a2 if a2.flags.writeable else a2.copy()
    out = np.empty(a2.shape, dtype=np.uint32)
    if a2.shape[0] <= NUMPY_MAX:
        zero = np.flatnonzero(~a2.any(axis=1))
        bad = int(zero[0]) if zero.size else -1
        if bad < 0:
            out[:] = _inverse_rows(a2)
    else:
        bad = _inv_kernel(a2, out)
    if bad >= 0:
        raise FieldError(f"ext_batch_inverse: element {bad} is zero and has no inverse; exclude zeros before inverting")
    return out.reshape(a.shape)


def ext_inv(a):
    """a^(−1) in F_p^4 for one element (4,) or an array (..., 4); raises FieldError on zero."""
    return ext_batch_inverse(a)


def ext_pow(x, e: int):
    """x^e in F_p^4 for one element x (4,) and an integer e ≥ 0 (square-and-multiply)."""
    x = _as_ext(x, "ext_pow").reshape(4)
    e = int(e)
    if e < 0:
        raise UsageError(f"ext_pow: exponent {e} is negative; invert with ext_inv first")
    result = np.array([[1, 0, 0, 0]], dtype=np.uint64)
    base = x.astype(np.uint64).reshape(1, 4)
    while e:  # loop over exponent bits (≤ a few hundred), not over field arrays
        if e & 1:
            result = mul_rows(result, base)
        base = mul_rows(base, base)
        e >>= 1
    return result.reshape(4).astype(np.uint32)


def ext_powers(x, n: int):
    """The n successive powers [1, x, x², ..., x^(n−1)] of x ∈ F_p^4 as an (n, 4) array."""
    x = _as_ext(x, "ext_powers").reshape(4)
    n = int(n)
    if numpy_path(n, POWERS_NUMPY_MAX):  # doubling: x^(k..2k−1) = x^(0..k−1) · x^k, log2(n) numpy products
        out = np.zeros((max(n, 1), 4), dtype=np.uint64)
        out[0, 0] = 1
        k, step = 1, x.astype(np.uint64)
        while k < n:
            m = min(k, n - k)
            times = multiplier(step)  # ·x^k as a (4, 4) matrix product
            out[k:k + m] = out[:m] @ times % _P
            k, step = k + m, step @ times % _P
        return out[:n].astype(np.uint32)
    out = np.empty((n, 4), dtype=np.uint32)  # (a long run of ζ's powers: the openings' weights, prover.py)
    parallel_for(_powers_kernel, n, np.uint64(x[0]), np.uint64(x[1]), np.uint64(x[2]), np.uint64(x[3]), out,
                 work_per_item=8)
    return out


def ext_sum(values) -> np.ndarray:
    """Σ of F_p^4 elements (a (k, 4) array or a list of (4,) ones; 0 for none): summed in
    uint64 and reduced once (k < 2^33 canonical terms fit)."""
    v = np.asarray(values, dtype=np.uint64).reshape(-1, 4)
    return (v.sum(axis=0) % P).astype(np.uint32)


def from_base(a):
    """Embed base-field elements a (...,) into F_p^4 as (a, 0, 0, 0): shape (..., 4)."""
    a = np.asarray(a, dtype=np.uint32)
    out = np.zeros(a.shape + (4,), dtype=np.uint32)
    out[..., 0] = a
    return out


ZERO = np.zeros(4, dtype=np.uint32)  #: 0 ∈ F_p^4 (do not mutate)
ONE = np.array([1, 0, 0, 0], dtype=np.uint32)  #: 1 ∈ F_p^4 (do not mutate)
