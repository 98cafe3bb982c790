"""Random linear combinations: the kernels behind "Σ α^i C_i" and "Σ c_i f_i".

Three numba kernels the prover and verifier share:

* ``accumulate(acc, c, coeff)``: acc ← acc + coeff·c over a column (c base (N,) or ext (N,4),
  coeff ∈ F_p^4): folding one constraint into the quotient numerator Σ α^i C_i(x).
* ``combine_columns(matrix, coeffs)``: Σ_j coeffs_j · matrix[:, j] for a base matrix (N, w) and
  w extension coefficients: the DEEP combination Σ c_i f_i(x) of committed columns.
* ``denominators(matrix, coeffs, const)``: const − Σ_j coeffs_j · matrix[:, j] per row: the
  LogUp denominators α − (bus + Σ_j γ^(j+1)·v_j) of one bus interaction over whole columns.
* ``weighted_column_sums(matrix, weights)``: Σ_i weights_i · matrix[i, :] for each column:
  evaluating every column's polynomial at one point (barycentric weights or powers of ζ).

Base products are < 2^62; each reduced term is < 2^31, so up to 2^33 reduced terms add in a
uint64 without overflow and only the total is reduced again.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .ext import mul4
from .field import P

_P = np.uint64(P)


@njit(cache=True)
def _accumulate_base(acc, c, coeff):
    for i in range(acc.shape[0]):
        x = np.uint64(c[i])
        for k in range(4):
            acc[i, k] = (np.uint64(acc[i, k]) + (x * np.uint64(coeff[k])) % _P) % _P


@njit(cache=True)
def _accumulate_ext(acc, c, coeff):
    b0, b1, b2, b3 = np.uint64(coeff[0]), np.uint64(coeff[1]), np.uint64(coeff[2]), np.uint64(coeff[3])
    for i in range(acc.shape[0]):
        r0, r1, r2, r3 = mul4(np.uint64(c[i, 0]), np.uint64(c[i, 1]), np.uint64(c[i, 2]), np.uint64(c[i, 3]),
                              b0, b1, b2, b3)
        acc[i, 0] = (np.uint64(acc[i, 0]) + r0) % _P
        acc[i, 1] = (np.uint64(acc[i, 1]) + r1) % _P
        acc[i, 2] = (np.uint64(acc[i, 2]) + r2) % _P
        acc[i, 3] = (np.uint64(acc[i, 3]) + r3) % _P


def accumulate(acc: np.ndarray, c: np.ndarray, coeff: np.ndarray, is_ext: bool) -> None:
    """acc ← acc + coeff·c in place (acc (N,4); c base (N,) or ext (N,4); a scalar c broadcasts)."""
    c = np.asarray(c, dtype=np.uint32)
    n = acc.shape[0]
    coeff = np.ascontiguousarray(coeff, dtype=np.uint32).reshape(4)
    if not is_ext:
        c = np.ascontiguousarray(np.broadcast_to(c, (n,)), dtype=np.uint32)
        _accumulate_base(acc, c, coeff)
    else:
        c = np.ascontiguousarray(np.broadcast_to(c, (n, 4)), dtype=np.uint32)
        _accumulate_ext(acc, c, coeff)


@njit(cache=True, parallel=True)
def _combine_columns(matrix, coeffs, out):
    n, w = matrix.shape
    k_out = coeffs.shape[1]
    for i in prange(n):
        acc = np.zeros(k_out, dtype=np.uint64)
        for j in range(w):
            x = np.uint64(matrix[i, j])
            for k in range(k_out):
                acc[k] += (x * np.uint64(coeffs[j, k])) % _P
        for k in range(k_out):
            out[i, k] = acc[k] % _P


def combine_columns(matrix: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """Row-wise Σ_j coeffs_j · matrix[:, j] for a base matrix (N, w) and coefficients (w, 4)
    in F_p^4 → (N, 4). Several combinations in one pass over the matrix: coeffs (w, 4·m) →
    (N, 4·m) (each group of 4 output columns is one F_p^4 combination)."""
    matrix = np.ascontiguousarray(matrix, dtype=np.uint32)
    coeffs = np.ascontiguousarray(coeffs, dtype=np.uint32)
    out = np.zeros((matrix.shape[0], coeffs.shape[1]), dtype=np.uint32)
    if matrix.shape[1]:
        _combine_columns(matrix, coeffs, out)
    return out


@njit(cache=True, parallel=True)
def _denominators(matrix, coeffs, const, out):
    n, w = matrix.shape
    for i in prange(n):
        s0 = np.uint64(0)
        s1 = np.uint64(0)
        s2 = np.uint64(0)
        s3 = np.uint64(0)
        for j in range(w):
            x = np.uint64(matrix[i, j])
            s0 += (x * np.uint64(coeffs[j, 0])) % _P
            s1 += (x * np.uint64(coeffs[j, 1])) % _P
            s2 += (x * np.uint64(coeffs[j, 2])) % _P
            s3 += (x * np.uint64(coeffs[j, 3])) % _P
        out[i, 0] = (np.uint64(const[0]) + _P - s0 % _P) % _P
        out[i, 1] = (np.uint64(const[1]) + _P - s1 % _P) % _P
        out[i, 2] = (np.uint64(const[2]) + _P - s2 % _P) % _P
        out[i, 3] = (np.uint64(const[3]) + _P - s3 % _P) % _P


def denominators(matrix: np.ndarray, coeffs: np.ndarray, const: np.ndarray) -> np.ndarray:
    """Row-wise const − Σ_j coeffs_j · matrix[:, j] ∈ F_p^4 (matrix (N, m) base, coeffs (m, 4),
    const (4,)): with const = α − bus and coeffs_j = γ^(j+1) this is α − fingerprint."""
    matrix = np.ascontiguousarray(matrix, dtype=np.uint32)
    out = np.empty((matrix.shape[0], 4), dtype=np.uint32)
    _denominators(matrix, np.ascontiguousarray(coeffs, dtype=np.uint32).reshape(-1, 4),
                  np.ascontiguousarray(const, dtype=np.uint32).reshape(4), out)
    return out


@njit(cache=True)
def _weighted_column_sums(matrix, weights, out):
    n, w = matrix.shape
    acc = np.zeros((w, 4), dtype=np.uint64)
    for i in range(n):
        a0, a1, a2, a3 = np.uint64(weights[i, 0]), np.uint64(weights[i, 1]), np.uint64(weights[i, 2]), np.uint64(weights[i, 3])
        for j in range(w):
            x = np.uint64(matrix[i, j])
            acc[j, 0] += (x * a0) % _P
            acc[j, 1] += (x * a1) % _P
            acc[j, 2] += (x * a2) % _P
            acc[j, 3] += (x * a3) % _P
        if (i & 0xFFFFF) == 0xFFFFF:  # keep partial sums far below 2^64
            for j in range(w):
                for k in range(4):
                    acc[j, k] %= _P
    for j in range(w):
        for k in range(4):
            out[j, k] = acc[j, k] % _P


def weighted_column_sums(matrix: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """For each column j: Σ_i weights_i · matrix[i, j] ∈ F_p^4 (matrix (n, w) base, weights (n, 4)).

    With weights_i = ζ^i and matrix = coefficients this is f_j(ζ); with barycentric weights
    and matrix = evaluations on H it is also f_j(ζ)."""
    matrix = np.ascontiguousarray(matrix, dtype=np.uint32)
    out = np.zeros((matrix.shape[1], 4), dtype=np.uint32)
    _weighted_column_sums(matrix, np.ascontiguousarray(weights, dtype=np.uint32), out)
    return out
