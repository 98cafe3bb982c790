"""A committed LDE kept as its polynomials' coefficients and recomputed block by block.

The prover commits each table's main, aux and quotient columns through their low-degree
extension: N = D·2^b rows (D = the committed degree bound, 2^b the blowup), bit-reversed, on
the coset s·K_N (ntt.coset_lde). Kept whole, those LDEs were most of the prover's peak
memory (≈ 10 KB per cycle at 2^18 cycles in hiding mode: bench/results/stark_prove.md,
"Peak memory"). An ``LdeSource`` keeps only the D coefficients per column (1/2^b of the LDE)
and produces the LDE one block of D rows at a time:

    block k = rows k·D … (k+1)·D − 1 of the bit-reversed LDE
            = the columns' values on the coset s·ω_N^rev_b(k)·K_D, bit-reversed over log D bits
            = coset_lde_from_coefficients(coefficients, 0, shift = s·ω_N^rev_b(k))

(rev over log N bits of k·D + p is rev_D(p)·2^b + rev_b(k): ntt.coset_lde's blocks). The
values are exact field elements, so every block is byte-for-byte the rows the whole LDE had.
Users: the Merkle commitment hashes the rows block by block (``row_digests``), the query
openings recompute the blocks their rows fall in (``rows``), the openings at ζ and the DEEP
composition read the coefficients directly (deep.py).
"""

from __future__ import annotations

import numpy as np

from .field import P, root_of_unity
from . import merkle
from .ntt import bit_reverse_indices, coset_lde_from_coefficients, intt


class LdeSource:
    """The (D·2^log_blowup, w) bit-reversed LDE on the coset shift·K_N of the polynomials whose
    coefficients are the columns of ``coefficients`` (D, w)."""

    def __init__(self, coefficients: np.ndarray, log_blowup: int, shift: int):
        self.coefficients = np.ascontiguousarray(coefficients, dtype=np.uint32)
        self.log_blowup = int(log_blowup)
        self.shift = int(shift) % P
        d, w = self.coefficients.shape
        self.shape = (d << self.log_blowup, w)

    @classmethod
    def from_values(cls, values: np.ndarray, log_blowup: int, shift: int) -> "LdeSource":
        """The LDE of the columns' interpolants through ``values`` (D, w) on K_D, natural order
        (what ntt.coset_lde(values, log_blowup, shift) returns, kept as coefficients)."""
        return cls(intt(values), log_blowup, shift)

    @property
    def block_rows(self) -> int:
        return self.coefficients.shape[0]

    def block_shift(self, k: int) -> int:
        """The coset of block k: shift·ω_N^rev_b(k)."""
        b = self.log_blowup
        rev = int(bit_reverse_indices(1 << b)[k]) if b else 0
        log_n = (self.shape[0]).bit_length() - 1
        return self.shift * pow(root_of_unity(log_n), rev, P) % P

    def block(self, k: int) -> np.ndarray:
        """Rows k·D … (k+1)·D − 1 of the LDE, (D, w)."""
        return coset_lde_from_coefficients(self.coefficients, 0, self.block_shift(k))

    def full(self) -> np.ndarray:
        """The whole LDE (N, w): for tests and small matrices."""
        return coset_lde_from_coefficients(self.coefficients, self.log_blowup, self.shift)

    def row_digests(self) -> np.ndarray:
        """merkle.hash_rows of the whole LDE, (N, 8), one block of rows in memory at a time
        (a row's leaf hash needs only that row)."""
        d = self.block_rows
        out = np.empty((self.shape[0], 8), dtype=np.uint32)
        for k in range(1 << self.log_blowup):
            out[k * d:(k + 1) * d] = merkle.hash_rows(self.block(k))
        return out

    def rows(self, positions) -> np.ndarray:
        """The LDE's rows at ``positions`` (in that order), recomputing only the blocks they
        fall in."""
        pos = np.asarray(positions, dtype=np.int64).reshape(-1)
        out = np.empty((pos.shape[0], self.shape[1]), dtype=np.uint32)
        d = self.block_rows
        for k in np.unique(pos // d):
            hit = pos // d == k
            out[hit] = self.block(int(k))[pos[hit] - k * d]
        return out
