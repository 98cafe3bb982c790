"""The BabyBear prime field F_p, p = 2013265921 = 15·2^27 + 1 = 0x78000001.

Every STARK value lives here: trace cells, constraint evaluations, FRI codewords. An element
is a canonical ``uint32`` in [0, p); arrays of elements are numpy ``uint32`` arrays.

Two layers:

* numba scalar kernels ``f_add, f_sub, f_mul, f_pow, f_inv`` (uint64 in, uint64 out, canonical)
  that other ``@njit`` code (NTT, extension field, FRI folding) calls inside its own loops
  (compiled for numba code only, ``pyzkvm._jit.inner``: a call from Python is a TypeError);
* vector operations ``add, sub, mul, neg, pow_vec, batch_inverse, powers`` over numpy arrays,
  with numpy broadcasting (a scalar broadcasts against an array).

Why uint64 inside: two canonical elements are < 2^31, so their product is < 2^62 and fits a
uint64 exactly; ``(a·b) mod p`` is then one multiply and one reduction by a constant.
"""

from __future__ import annotations

import math

import numpy as np
from .. import lazy_njit
from ..lazy_njit import njit

from .._jit import inner
from ..errors import UsageError
from .pool import parallel_for

P = 2013265921  #: the BabyBear prime 15·2^27 + 1
GENERATOR = 31  #: a generator of the multiplicative group F_p^*
TWO_ADICITY = 27  #: p − 1 = 15·2^27: the largest power-of-two subgroup has order 2^27
TWO_ADIC_GENERATOR = 0x1A427A41  #: 31^15, a primitive 2^27-th root of unity (Plonky3's choice)

_P = np.uint64(P)  # typed constant: numba must see uint64, never int64 (uint64 op int64 → float)
_ONE = np.uint64(1)
_ZERO = np.uint64(0)


class FieldError(UsageError, ZeroDivisionError):
    """A field operation has no answer: the inverse of zero."""


def root_of_unity(log_n: int) -> int:
    """The primitive 2^log_n-th root of unity ω_n = TWO_ADIC_GENERATOR^(2^(27 − log_n)).

    ω_n generates the subgroup H = {1, ω_n, ..., ω_n^(n−1)} that the NTT evaluates on.
    """
    if not 0 <= log_n <= TWO_ADICITY:
        raise UsageError(f"root_of_unity: log_n={log_n} is outside 0..{TWO_ADICITY}; BabyBear has 2-adicity 27")
    return _ROOTS_OF_UNITY[log_n]


#: ω_n for every log_n (root_of_unity: a prove asks thousands of times, each a pow of ~27 squarings)
_ROOTS_OF_UNITY = [pow(TWO_ADIC_GENERATOR, 1 << (TWO_ADICITY - log_n), P) for log_n in range(TWO_ADICITY + 1)]


# --- scalar kernels (call these from other @njit code) -------------------------------------
#
# @inner (plain compiled functions without Python wrappers, pyzkvm/_jit.py), not
# inline="always": numba's own inlining copies and re-types the callee's IR
# at every call site (~0.05–0.2 s of compile each, and nested: mul4_vec inlined 14 copies of
# these), while LLVM inlines functions this small into the caller's loop anyway (measured: the
# constraint tape's loops and ext.mul4_vec run as fast, and compile in about half the time).


@inner
def f_add(a, b):
    """a + b mod p for canonical a, b (uint64)."""
    s = np.uint64(a) + np.uint64(b)
    return s - _P if s >= _P else s


@inner
def f_sub(a, b):
    """a − b mod p for canonical a, b (uint64)."""
    a = np.uint64(a)
    b = np.uint64(b)
    return a - b if a >= b else a + _P - b


@inner
def f_mul(a, b):
    """a · b mod p for canonical a, b: the product is < 2^62, exact in uint64."""
    return (np.uint64(a) * np.uint64(b)) % _P


_LOW32 = np.uint64(0xFFFFFFFF)
_32 = np.uint64(32)
_30 = np.uint64(30)
_BARRETT = np.uint64((1 << 62) // P)  # ⌊2^62/p⌋ = 2290649223 < 2^32
_R32 = np.uint64((1 << 32) % P)  # 2^32 mod p
_U32 = np.uint32
_P32 = np.uint32(P)


@inner
def f_reduce(z):
    """z mod p for z < 2^62, as a uint32, with 32×32-bit multiplies only (Barrett), so a loop
    of them vectorises (AVX2 multiplies 32-bit halves; ``%`` by a constant is a 64-bit scalar
    multiply-high). t = ⌊z/2^30⌋ < 2^32; q = ⌊t·M/2^32⌋ with M = ⌊2^62/p⌋ < 2^32. z/p − t·M/2^32
    = (z mod 2^30)/p + t·(2^62/p − M)/2^32 < 0.534 + 0.396 (M's fraction is 0.3956), and the
    floor loses < 1 more, so q ≤ ⌊z/p⌋ falls at most 1 short: r = z − q·p ∈ [0, 1.93p) fits
    32 bits. So r is computed mod 2^32 from the low halves (a 32-bit multiply q·p, not the
    64-bit one AVX2 lacks) and one correction finishes: r − p if r ≥ p, as the unsigned
    min(r, r − p) (r − p wraps above r when r < p). z ≥ 2^62 breaks the bound: callers keep
    below it."""
    z = np.uint64(z)
    q = (((z >> _30) & _LOW32) * _BARRETT) >> _32
    r = _U32(_U32(z & _LOW32) - _U32(q) * _P32)
    return min(r, _U32(r - _P32))


@inner
def f_reduce64(z):
    """z mod p for any uint64 z, vectorisable: z = h·2^32 + l ≡ h·(2^32 mod p) + l, which is
    < 2^32·2^28 + 2^32 < 2^62 (2^32 mod p < 2^28), then f_reduce."""
    z = np.uint64(z)
    return f_reduce((z >> _32) * _R32 + (z & _LOW32))


# --- uint32-lane kernels: the constraint tape's row loops ----------------------------------
#
# The same values as f_add / f_sub / f_mul, computed on uint32 lanes where possible, so a
# loop of them vectorises 8 values per AVX2 instruction instead of 4 uint64. Canonical
# values are < p < 2^31, so a + b and a + p − b fit 32 bits; "x − p if x ≥ p" is the
# unsigned min(x, x − p) (x − p wraps above x when x < p): no compare-and-branch (AVX2 has
# no unsigned 64-bit compare at all).


@inner
def f_add_u32(a, b):
    """a + b mod p for canonical uint32 a, b (the sum < 2p < 2^32)."""
    s = _U32(_U32(a) + _U32(b))
    return min(s, _U32(s - _P32))


@inner
def f_sub_u32(a, b):
    """a − b mod p for canonical uint32 a, b: a + p − b ∈ (0, 2p), one conditional subtraction."""
    d = _U32(_U32(a) + _P32 - _U32(b))
    return min(d, _U32(d - _P32))


@inner
def f_mul_u32(a, b):
    """a · b mod p for canonical a, b, as a uint32: the product (< 2^62, a 32×32→64 multiply)
    reduced by f_reduce."""
    return f_reduce(np.uint64(a) * np.uint64(b))


@inner
def f_split(prod):
    """(low 32 bits, high bits) of a product: summing each half in its own uint64 delays the
    reduction of a sum of products (< 2^62 each) — up to 2^32 of them — to one f_join."""
    return prod & _LOW32, prod >> _32


@inner
def f_join(lo, hi):
    """(hi·2^32 + lo) mod p, computed as (hi mod p)·(2^32 mod p) + (lo mod p) < 2^60: no overflow."""
    return ((hi % _P) * _R32 + lo % _P) % _P


@inner
def f_join_vec(lo, hi):
    """f_join for lo, hi < 2^62 (sums of fewer than 2^30 halves), vectorisable: the same
    steps with f_reduce for each ``%``."""
    return f_add_u32(f_reduce(f_reduce(hi) * _R32), f_reduce(lo))


@inner
def f_join_small(lo, hi):
    """f_join for hi·(2^32 mod p) + lo < 2^62 — lo, hi < 3·2^32, e.g. sums of at most three
    halves (2^32 mod p < 2^28) — with one reduction where f_join_vec takes three."""
    return f_reduce(np.uint64(hi) * _R32 + np.uint64(lo))


@inner
def f_pow(a, e):
    """a^e mod p by square-and-multiply (e ≥ 0, uint64; 0^0 = 1)."""
    result = _ONE
    base = np.uint64(a) % _P
    e = np.uint64(e)
    while e > _ZERO:
        if e & _ONE:
            result = (result * base) % _P
        base = (base * base) % _P
        e >>= _ONE
    return result


@inner
def f_inv(a):
    """a^(−1) = a^(p−2) mod p (Fermat). The inverse of 0 is returned as 0: callers check."""
    return f_pow(a, _P - np.uint64(2))


# --- vector operations (numpy broadcasting, canonical uint32 in and out) -----------------


# Each operation is a numba loop over flat arrays behind numpy broadcasting. Not numba
# ufuncs (@vectorize with signatures): those are built when the module is imported, which
# cost every command ~0.5 s CPU at start-up (measured) whether it used them or not; an @njit
# kernel is loaded from the cache the first time it is called.


@njit(cache=True, nogil=True)
def _binary_kernel(kind, a, b, out):
    # out[i] = a[i] ∘ b[i] (kind 0 add, 1 sub, 2 mul); an operand of length 1 broadcasts
    sa = 1 if a.shape[0] > 1 else 0
    sb = 1 if b.shape[0] > 1 else 0
    for i in range(out.shape[0]):
        x = np.uint64(a[i * sa])
        y = np.uint64(b[i * sb])
        if kind == 0:
            out[i] = f_add(x, y)
        elif kind == 1:
            out[i] = f_sub(x, y)
        else:
            out[i] = f_mul(x, y)


@njit(cache=True, nogil=True)
def _pow_kernel(a, e, out):
    for i in range(out.shape[0]):
        out[i] = f_pow(a[i], e)


def readonly(x):
    """A read-only view of array x (no copy). numba compiles one specialisation per argument
    type, and a read-only array (np.frombuffer of a proof's bytes, a broadcast) is another type
    than a writable one: kernels whose inputs always arrive as read-only views compile once
    instead of up to four times (1–3 s of CPU each on a cold cache, bench/results/cold_start.md)."""
    view = x.view()
    view.flags.writeable = False
    return view


def _flat(x, shape):
    # x broadcast to `shape`, as a flat contiguous read-only array; a single element stays length 1
    if x.size == 1:
        return readonly(np.ascontiguousarray(x.reshape(1)))
    if x.shape == shape and x.flags.c_contiguous:  # (most calls: no broadcast to make)
        return readonly(x.reshape(-1))
    return readonly(np.ascontiguousarray(np.broadcast_to(x, shape)).reshape(-1))


def _uint32(x, what):
    x = np.asarray(x)
    if x.dtype != np.uint32:
        if x.dtype.kind not in "iu" or (x.size and (x.min() < 0 or x.max() >= P)):
            raise UsageError(f"field.{what}: expected canonical uint32 elements in [0, p), got dtype {x.dtype}")
        x = x.astype(np.uint32)
    return x


#: arrays of at most this many elements are computed with numpy, not a numba kernel: a
#: verifier's handful of values then loads (or, on a cold cache, compiles) no kernel at all,
#: and numpy's per-call cost is lower than a kernel dispatch at these sizes
NUMPY_MAX = 1024


def numpy_path(n: int, limit: int = NUMPY_MAX) -> bool:
    """Whether an operation that takes log2(n) or a dozen numpy calls (powers, inverses,
    F_p^4 products) computes its n ≤ ``limit`` elements with numpy: only in a process that has
    not loaded numba (a verifier's, which then loads no kernel). A prover's has loaded it,
    and there one kernel call (a few µs) costs less than those numpy calls (10–500 µs)."""
    return n <= limit and not lazy_njit.numba_loaded()


def _binary(kind: int, what: str, a, b):
    a, b = _uint32(a, what), _uint32(b, what)
    # the result's shape: an operand's own when the other is one element of no more axes (an
    # array and a scalar: most calls, without numpy's general broadcasting)
    if a.shape == b.shape or (b.size == 1 and b.ndim <= a.ndim):
        shape = a.shape
    elif a.size == 1 and a.ndim <= b.ndim:
        shape = b.shape
    else:
        shape = np.broadcast_shapes(a.shape, b.shape)
    if math.prod(shape) <= NUMPY_MAX:  # canonical inputs < p: sums < 2^32, products < 2^62
        x, y = a.astype(np.uint64), b.astype(np.uint64)
        out = ((x + y) if kind == 0 else (x + _P - y) if kind == 1 else (x * y)) % _P
        out = np.broadcast_to(out, shape).astype(np.uint32)
        return out[()] if out.ndim == 0 else out
    out = np.empty(shape, dtype=np.uint32)
    _binary_kernel(kind, _flat(a, shape), _flat(b, shape), out.reshape(-1))
    return out[()] if out.ndim == 0 else out


def add(a, b):
    """Elementwise a + b in F_p (numpy broadcasting: a scalar broadcasts)."""
    return _binary(0, "add", a, b)


def sub(a, b):
    """Elementwise a − b in F_p."""
    return _binary(1, "sub", a, b)


def mul(a, b):
    """Elementwise a · b in F_p."""
    return _binary(2, "mul", a, b)


def neg(a):
    """Elementwise −a in F_p (−0 = 0)."""
    return _binary(1, "neg", np.uint32(0), a)


def pow_vec(a, e: int):
    """Elementwise a^e in F_p for an integer exponent e ≥ 0 (0^0 = 1).

    The exponent is reduced modulo p − 1 (Fermat: x^(p−1) = 1 for x ≠ 0), keeping e ≥ 1 when
    e ≥ 1 so that 0^e stays 0.
    """
    e = int(e)
    if e < 0:
        raise UsageError(f"pow_vec: exponent {e} is negative; invert with batch_inverse first")
    if e > 0:
        e = (e - 1) % (P - 1) + 1
    a = _uint32(a, "pow_vec")
    out = np.empty(a.shape, dtype=np.uint32)
    _pow_kernel(readonly(np.ascontiguousarray(a).reshape(-1)), np.uint64(e), out.reshape(-1))
    return out[()] if out.ndim == 0 else out


@njit(cache=True, nogil=True)
def _batch_inverse_kernel(a, out):
    # Montgomery's trick on POWER_CHAINS interleaved chains (chain l: elements l, l + L, …,
    # L = POWER_CHAINS), so each step's products are independent and the loops vectorise:
    # prefix products c_i = product of the chain's elements before i, one inversion of each
    # chain's total, then back down the chain: a_i^(−1) = c_i · (c_i·a_i)^(−1), and
    # (c_i)^(−1) = a_i · (c_i·a_i)^(−1). Returns the index of the first zero element, or −1.
    n = a.shape[0]
    for i in range(n):
        if a[i] == 0:
            return i
    if n == 0:
        return -1
    lanes = min(n, POWER_CHAINS)
    acc = np.ones(lanes, dtype=np.uint32)
    for lo in range(0, n, lanes):
        m = min(lanes, n - lo)
        x = a[lo:lo + m]
        c = out[lo:lo + m]
        for l in range(m):
            c[l] = acc[l]  # the product of the chain's elements before this one
            acc[l] = f_mul_u32(acc[l], x[l])
    for l in range(lanes):
        acc[l] = np.uint32(f_inv(np.uint64(acc[l])))
    for lo in range(((n - 1) // lanes) * lanes, -1, -lanes):
        m = min(lanes, n - lo)
        x = a[lo:lo + m]
        c = out[lo:lo + m]
        for l in range(m):
            c[l] = f_mul_u32(c[l], acc[l])
            acc[l] = f_mul_u32(acc[l], x[l])
    return -1


def batch_inverse(a):
    """Elementwise a^(−1) for an array of nonzero elements, with one field inversion in total.

    Raises FieldError (a ZeroDivisionError) naming the first zero element.
    """
    arr = np.ascontiguousarray(a, dtype=np.uint32)
    flat = readonly(arr.reshape(-1))
    out = np.empty(flat.shape, dtype=np.uint32)
    if numpy_path(flat.size):  # a few elements: x^(p−2) each, vectorised (no kernel)
        zero = np.flatnonzero(flat == 0)
        bad = int(zero[0]) if zero.size else -1
        if bad < 0:
            out[:] = inverse_small(flat)
    else:
        bad = _batch_inverse_kernel(flat, out)
    if bad >= 0:
        raise FieldError(f"batch_inverse: element {bad} is zero and has no inverse; exclude zeros before inverting")
    return out.reshape(arr.shape)


def inverse_small(a: np.ndarray) -> np.ndarray:
    """a^(−1) elementwise for a few nonzero canonical elements (≤ NUMPY_MAX: a verifier's),
    by Montgomery's trick over Python ints: prefix products, one exponentiation x^(p−2) of
    the total, then back down the prefixes. Python ints beat numpy here: a vectorised x^(p−2)
    is ~60 numpy calls whatever the size, this ~3 integer products per element."""
    if a.size > _INVERSE_LOOP_MAX:
        return _inverse_by_tree(a)
    values = a.reshape(-1).tolist()
    prefix, acc = [], 1
    for v in values:  # prefix[i] = a_0·…·a_(i−1)
        prefix.append(acc)
        acc = acc * v % P
    inv = pow(acc, P - 2, P)  # (a_0·…·a_(k−1))^(−1)
    out = [0] * len(values)
    for i in range(len(values) - 1, -1, -1):
        out[i] = prefix[i] * inv % P      # a_i^(−1) = (a_0⋯a_(i−1)) · (a_0⋯a_i)^(−1)
        inv = inv * values[i] % P         # (a_0⋯a_(i−1))^(−1)
    return np.array(out, dtype=np.uint32).reshape(a.shape)


#: inverse_small inverts up to this many elements with Python ints, more with a numpy product tree
_INVERSE_LOOP_MAX = 64


def _inverse_by_tree(a: np.ndarray) -> np.ndarray:
    """Montgomery's trick with numpy, as a product tree: the elements (padded with ones to a
    power of two) multiplied pairwise level by level up to one product, its inverse x^(p−2)
    in Python ints, then down again — a node's inverse times its sibling is its child's
    inverse. 3·log2(n) vectorised steps: fewer than an addition chain's 40 for x^(p−2) on every
    element, and cheaper than the Python loop above a few dozen elements."""
    flat = a.reshape(-1).astype(np.uint64)
    level = np.ones(1 << max(0, (flat.size - 1).bit_length()), dtype=np.uint64)
    level[:flat.size] = flat
    levels = [level]
    while level.size > 1:  # parents: products of the pairs
        level = level[0::2] * level[1::2] % _P
        levels.append(level)
    inv = np.array([pow(int(level[0]), P - 2, P)], dtype=np.uint64)
    for below in reversed(levels[:-1]):  # 1/left = 1/parent · right, 1/right = 1/parent · left
        out = np.empty(below.size, dtype=np.uint64)
        out[0::2] = inv * below[1::2] % _P
        out[1::2] = inv * below[0::2] % _P
        inv = out
    return inv[:flat.size].astype(np.uint32).reshape(a.shape)


def pow_rows(a: np.ndarray, e: int) -> np.ndarray:
    """a^e elementwise for a small array of canonical elements, with numpy (square and
    multiply over e's bits: one vectorised step per bit, no loop over the elements)."""
    result = np.ones(a.shape, dtype=np.uint64)
    base = a.astype(np.uint64)
    while e:
        if e & 1:
            result = (result * base) % _P
        base = (base * base) % _P
        e >>= 1
    return result.astype(np.uint32)


#: independent product chains of _powers_kernel (one chain's products wait on each other)
POWER_CHAINS = 64


@njit(cache=True, nogil=True)
def _powers_kernel(base, out, lo, hi):
    # out[i] = base^i for i = lo … hi − 1 (a chunk of pool.parallel_for): base^lo by squaring,
    # the next POWER_CHAINS by one chain of products, then each run of POWER_CHAINS from the
    # run before, times base^POWER_CHAINS — POWER_CHAINS independent products per run, a loop
    # that vectorises (one chain was ~5 ns an element, its latency)
    acc = f_pow(base, lo)
    for i in range(lo, min(hi, lo + POWER_CHAINS)):
        out[i] = acc
        acc = (acc * base) % _P
    step = np.uint32(f_pow(base, POWER_CHAINS))  # base^POWER_CHAINS
    for s in range(lo + POWER_CHAINS, hi, POWER_CHAINS):
        m = min(POWER_CHAINS, hi - s)
        prev = out[s - POWER_CHAINS:s - POWER_CHAINS + m]
        cur = out[s:s + m]
        for k in range(m):
            cur[k] = f_mul_u32(prev[k], step)


#: powers() of up to this many elements are computed with numpy (doubling, log2(n) steps)
POWERS_NUMPY_MAX = 1 << 14


def powers(base: int, n: int):
    """The n successive powers [1, base, base², ..., base^(n−1)] as a uint32 array."""
    n = int(n)
    if numpy_path(n, POWERS_NUMPY_MAX):  # x^(k..2k−1) = x^(0..k−1) · x^k
        out = np.ones(max(n, 1), dtype=np.uint64)
        k, step = 1, int(base) % P
        while k < n:
            m = min(k, n - k)
            out[k:k + m] = (out[:m] * np.uint64(step)) % _P
            k, step = k + m, step * step % P
        return out[:n].astype(np.uint32)
    out = np.empty(int(n), dtype=np.uint32)
    # chunks side by side on the thread pool, each from its own first power (a coset's 2^21
    # factors at 2^20 cycles, their pages faulted in by both threads: ntt._make_coset_factors)
    parallel_for(_powers_kernel, n, np.uint64(int(base) % P), out)
    return out


def to_field(values):
    """Reduce integers (Python ints, signed or unsigned numpy arrays) to canonical uint32 elements."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "iuO":
        raise UsageError(f"to_field: expected integers, got dtype {arr.dtype}; pass integer values")
    return np.asarray(arr % P).astype(np.uint32)
