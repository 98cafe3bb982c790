"""lincomb.py's linear combinations for a few rows, with numpy (a verifier's query rows).

The verifier combines ~42 opened rows per table: numba's kernels are no faster there than
numpy's matrix product, and calling them loads (on a cold cache: compiles) a kernel.
Same values as lincomb.py's kernels, with a delayed reduction that lets the product run in
floating point (numpy hands a float64 product to BLAS; its integer product is a plain loop,
several times slower): each coefficient c is split into 11-bit pieces,
c = c_0 + 2^11·c_1 + 2^22·c_2, so every product x·c_i (any uint32 x) is an integer < 2^43 and
a sum of up to 2^10 of them is an integer < 2^53, which float64 holds exactly (in any order of
summation). The three sums are reduced and joined once:

    Σ x·c = Σ x·c_0 + 2^11·Σ x·c_1 + 2^22·Σ x·c_2   (mod p)
"""

from __future__ import annotations

import numpy as np

from .field import P

_P = np.uint64(P)
#: lincomb.py hands matrices of at most this many rows here
MAX_ROWS = 128
#: columns per float product: 2^10 products x·c_i < 2^43 sum below 2^53. A block is kept
#: smaller still, so that each product is one single-threaded BLAS call: OpenBLAS wakes its
#: thread pool for a product of over 2^18 multiply-adds, which costs a verifier's few rows more
#: CPU time than it saves (and much more on a loaded machine)
_BLOCK_MULTIPLY_ADDS = 1 << 18
_PIECE = np.uint32(0x7FF)


def combine_columns(matrix: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """Row-wise Σ_j coeffs[j] · matrix[:, j] mod p: (N, w) base × (w, k) → (N, k) uint32."""
    m = np.asarray(matrix, dtype=np.uint32)
    c = np.asarray(coeffs, dtype=np.uint32)
    n, k = m.shape[0], c.shape[1]
    pieces = np.concatenate([c & _PIECE, (c >> 11) & _PIECE, c >> 22], axis=1).astype(np.float64)  # (w, 3k)
    block = min(1 << 10, max(1, _BLOCK_MULTIPLY_ADDS // max(1, 3 * n * k)))
    out = np.zeros((n, 3 * k), dtype=np.uint64)
    for j in range(0, m.shape[1], block):  # [Σ x·c_0 | Σ x·c_1 | Σ x·c_2] of the block: exact integers < 2^53
        out += (m[:, j:j + block].astype(np.float64) @ pieces[j:j + block]).astype(np.uint64) % _P
    out %= _P  # (a sum of the blocks' terms < p each: far below 2^63)
    return ((out[:, :k] + (out[:, k:2 * k] << 11) % _P + (out[:, 2 * k:] << 22) % _P) % _P).astype(np.uint32)


def denominators(matrix: np.ndarray, coeffs: np.ndarray, const: np.ndarray) -> np.ndarray:
    """Row-wise const − Σ_j coeffs[j] · matrix[:, j] ∈ F_p^4: (N, m) base, coeffs (m, 4)."""
    s = combine_columns(matrix, coeffs).astype(np.uint64)
    return ((np.asarray(const, dtype=np.uint64).reshape(1, 4) + _P - s) % _P).astype(np.uint32)
