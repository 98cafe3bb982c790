"""lincomb.py's linear combinations for a few rows, with numpy (a verifier's query rows).

The verifier combines ~42 opened rows per table: numba's kernels are no faster there than
numpy's integer matrix product, and calling them loads (on a cold cache: compiles) a kernel.
Same values as lincomb.py's kernels, with the same kind of delayed reduction: a coefficient
c < p is split into 16-bit halves c = c_hi·2^16 + c_lo, so every product x·c_half < 2^47 and
a sum of up to 2^16 of them stays < 2^63 in uint64; the two sums are then joined and reduced
once: (Σ x·c_hi mod p)·2^16 + Σ x·c_lo, mod p.
"""

from __future__ import annotations

import numpy as np

from .field import P

_P = np.uint64(P)
#: lincomb.py hands matrices of at most this many rows here
MAX_ROWS = 128
#: columns one product may sum (2^16 products < 2^47 each stay below 2^63)
_MAX_COLUMNS = 1 << 16


def combine_columns(matrix: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """Row-wise Σ_j coeffs[j] · matrix[:, j] mod p: (N, w) base × (w, k) → (N, k) uint32."""
    m = matrix.astype(np.uint64)
    c = coeffs.astype(np.uint64)
    out = np.zeros((m.shape[0], c.shape[1]), dtype=np.uint64)
    for j0 in range(0, m.shape[1], _MAX_COLUMNS):  # one step for every table there is
        part, cp = m[:, j0:j0 + _MAX_COLUMNS], c[j0:j0 + _MAX_COLUMNS]
        hi = (part @ (cp >> np.uint64(16))) % _P
        lo = part @ (cp & np.uint64(0xFFFF))
        out = (out + (hi << np.uint64(16)) % _P + lo % _P) % _P
    return out.astype(np.uint32)


def denominators(matrix: np.ndarray, coeffs: np.ndarray, const: np.ndarray) -> np.ndarray:
    """Row-wise const − Σ_j coeffs[j] · matrix[:, j] ∈ F_p^4: (N, m) base, coeffs (m, 4)."""
    s = combine_columns(matrix, coeffs).astype(np.uint64)
    return ((np.asarray(const, dtype=np.uint64).reshape(1, 4) + _P - s) % _P).astype(np.uint32)
