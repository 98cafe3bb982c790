"""ntt.coset_lde with numpy, for a process without numba's kernels (machine/prep_root.py: a
program's preprocessed columns in ``pyzkvm info`` and ``pyzkvm verify --elf``).

The same values as ntt.py's kernels (tests/stark/test_ntt_numpy.py), by the textbook route:

    c      = intt(e)                      interpolate: DIF with ω_n^(−1) (bit-reversed out),
                                          un-permute, times n^(−1)
    out[j] = Σ_i c_i·shift^i·ω_N^(i·rev(j))   zero-pad to N = n·2^b, scale c_i by shift^i, DIF
                                          with ω_N: natural in, bit-reversed out = f(shift·ω_N^rev(j))

Each radix-2 layer is a handful of numpy operations over every butterfly of every column at
once: with half-size h, rows (k·2h + i, k·2h + h + i) are the pair (u, v), and DIF maps it to
(u + v, (u − v)·ω_2h^i). Elements are canonical uint64 (< p < 2^31), so a product is < 2^62.
"""

from __future__ import annotations

import numpy as np

from .field import GENERATOR, P, root_of_unity
from .ntt import bit_reverse_indices

_P = np.uint64(P)
_32 = np.uint64(32)


def _powers(x: int, n: int) -> np.ndarray:
    """x^0 … x^(n−1) mod p (uint64), by doubling: log2(n) vectorised steps."""
    out = np.ones(n, dtype=np.uint64)
    k = 1
    while k < n:
        out[k:2 * k] = out[:k] * np.uint64(pow(x, k, P)) % _P
        k *= 2
    return out


def _dif(x: np.ndarray, root: int) -> np.ndarray:
    """In place on (N, w) canonical uint64: Σ_i x_i·root^(i·rev(j)) in row j (root of order N).

    (u − v)·t mod p by Shoup's method, as ntt.py's kernels do (numpy's % divides: several
    times slower): with t' = ⌊t·2^32/p⌋ and d = u − v + p < 2^32, q = ⌊d·t'/2^32⌋ is ⌊d·t/p⌋
    or one less, so d·t − q·p lies in [0, 2p). A value r in [0, 2p) is reduced as
    min(r, r − p): r − p wraps past 2^63 when r < p."""
    n, w = x.shape
    h = n // 2
    while h >= 1:
        pairs = x.reshape(n // (2 * h), 2, h, w)
        u, v = pairs[:, 0], pairs[:, 1]
        t = _powers(pow(root, n // (2 * h), P), h)[:, None]  # ω_2h^i
        d = u + _P
        d -= v
        q = d * ((t << _32) // _P)
        q >>= _32
        q *= _P
        d *= t
        d -= q  # (u − v)·ω_2h^i + (0 or p)
        u += v
        np.minimum(u, u - _P, out=u)
        np.minimum(d, d - _P, out=v)
        h //= 2
    return x


def coset_lde(evals, log_blowup: int, shift: int = GENERATOR) -> np.ndarray:
    """ntt.coset_lde of an (n, w) matrix of canonical values: row j of the (n·2^log_blowup, w)
    uint32 result is f(shift·ω_N^rev(j)), f the column's interpolant on ⟨ω_n⟩."""
    e = np.asarray(evals, dtype=np.uint64)
    n = e.shape[0]
    log_n = n.bit_length() - 1
    coeffs = _dif(e.copy(), pow(root_of_unity(log_n), P - 2, P))[bit_reverse_indices(n)]
    coeffs = coeffs * np.uint64(pow(n, P - 2, P)) % _P  # intt's n^(−1)
    big = np.zeros((n << log_blowup, e.shape[1]), dtype=np.uint64)
    big[:n] = coeffs * _powers(shift % P, n)[:, None] % _P
    return _dif(big, root_of_unity(log_n + log_blowup)).astype(np.uint32)
