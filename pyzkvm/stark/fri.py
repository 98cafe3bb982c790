"""FRI: proving that a committed codeword is close to a polynomial of low degree.

Input: codewords over F_p^4 on the LDE cosets D_l (domain.py), one per height 2^l, in
bit-reversed order (the DEEP combinations of each table, see prover.py). Rate ρ = 2^−log_blowup.

Commit phase (arity 2). Write f(x) = f_e(x²) + x·f_o(x²). With lo = f(x), hi = f(−x):

    f_e(x²) = (lo + hi)/2,   f_o(x²) = (lo − hi)/(2x)
    fold:  f'(x²) = f_e(x²) + β·f_o(x²) = (lo + hi)/2 + β·(lo − hi)/(2x)

In bit-reversed order rows 2i and 2i+1 hold x and −x, and the folded row i holds x² ∈ D_{l−1}.
Each round: commit the codeword (a Merkle leaf = the pair (f(x), f(−x)), 8 words), draw β,
fold; when the folded codeword reaches the height of another input, a fresh challenge τ is
drawn and that input is rolled in: f' ← f' + τ·input. (τ independent of β keeps every
combination affine in independent challenges — correlated agreement over affine spaces,
BCIKS20 — where β² would make a degree-2 curve and cost a factor 2: config.py.) Stop at 2^log_final_len·blowup entries and send the final polynomial's
2^log_final_len coefficients in the clear.

Query phase: after grinding, draw query positions in the largest domain. For each round the
prover opens the leaf holding position idx_r = idx >> r and its sibling; the verifier checks
the value it expects (from the previous fold, or from the inputs at the first round) sits
in that leaf, folds the pair itself, and at the end compares with the final polynomial.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from ..errors import FriQueryError, MerklePathError
from . import ext, field, rounds
from .domain import coset_shift, point_at
from .ext import mul4
from .field import P, root_of_unity
from .merkle import MerkleTree, verify_openings
from .ntt import bit_reverse_indices, bit_reverse_rows, intt

_P = np.uint64(P)
INV_TWO = (P + 1) // 2


@dataclass
class FriProof:
    """What FRI adds to a proof: one root per folding round, the final polynomial, the PoW
    nonce, and per round the opened leaves (pairs) with their authentication paths."""

    layer_roots: list          # bytes (32) per round
    final_poly: np.ndarray     # (2^log_final_len, 4) coefficients, lowest degree first
    pow_nonce: int
    layer_openings: list       # per round: (rows (q, 8), paths (q, depth, 8))


@njit(cache=True, parallel=True)
def _fold_kernel(cw, beta, inv_x, out):
    b0, b1, b2, b3 = np.uint64(beta[0]), np.uint64(beta[1]), np.uint64(beta[2]), np.uint64(beta[3])
    half = np.uint64(INV_TWO)
    for i in prange(out.shape[0]):
        ix = (np.uint64(inv_x[i]) * half) % _P  # 1/(2x)
        d0 = ((np.uint64(cw[2 * i, 0]) + _P - np.uint64(cw[2 * i + 1, 0])) * ix) % _P
        d1 = ((np.uint64(cw[2 * i, 1]) + _P - np.uint64(cw[2 * i + 1, 1])) * ix) % _P
        d2 = ((np.uint64(cw[2 * i, 2]) + _P - np.uint64(cw[2 * i + 1, 2])) * ix) % _P
        d3 = ((np.uint64(cw[2 * i, 3]) + _P - np.uint64(cw[2 * i + 1, 3])) * ix) % _P
        r0, r1, r2, r3 = mul4(d0, d1, d2, d3, b0, b1, b2, b3)  # β·(lo − hi)/(2x)
        out[i, 0] = ((np.uint64(cw[2 * i, 0]) + np.uint64(cw[2 * i + 1, 0])) * half % _P + r0) % _P
        out[i, 1] = ((np.uint64(cw[2 * i, 1]) + np.uint64(cw[2 * i + 1, 1])) * half % _P + r1) % _P
        out[i, 2] = ((np.uint64(cw[2 * i, 2]) + np.uint64(cw[2 * i + 1, 2])) * half % _P + r2) % _P
        out[i, 3] = ((np.uint64(cw[2 * i, 3]) + np.uint64(cw[2 * i + 1, 3])) * half % _P + r3) % _P


def fold_codeword(codeword: np.ndarray, beta: np.ndarray, log_size: int) -> np.ndarray:
    """One FRI fold of a bit-reversed codeword on D_l (size 2^l) into one on D_{l−1}:
    out[i] = (lo + hi)/2 + β·(lo − hi)/(2x), lo = cw[2i] at x, hi = cw[2i+1] at −x."""
    half = 1 << (log_size - 1)
    # x at even rows 2i: s_l·ω^rev_l(2i) = s_l·ω^rev_{l−1}(i); so 1/x = s_l^−1·ω^−rev_{l−1}(i)
    w_inv = pow(root_of_unity(log_size), P - 2, P)
    inv_x = field.mul(field.powers(w_inv, half)[bit_reverse_indices(half)],
                      np.uint32(pow(coset_shift(log_size), P - 2, P)))
    out = np.empty((half, 4), dtype=np.uint32)
    _fold_kernel(np.ascontiguousarray(codeword), np.ascontiguousarray(beta, dtype=np.uint32), inv_x, out)
    return out


def fold_pairs(lo: np.ndarray, hi: np.ndarray, beta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The verifier's fold of opened pairs (q, 4) at points x (q,): (lo+hi)/2 + β(lo−hi)/(2x)."""
    inv_2x = field.mul(field.batch_inverse(x), np.uint32(INV_TWO))
    even = ext.ext_mul_base(ext.ext_add(lo, hi), np.uint32(INV_TWO))
    odd = ext.ext_mul_base(ext.ext_sub(lo, hi), inv_2x)
    return ext.ext_add(even, ext.ext_mul(odd, beta))


def final_polynomial(codeword: np.ndarray, log_size: int, log_final_len: int) -> np.ndarray:
    """Coefficients (lowest first) of the polynomial whose evaluations on D_l (bit-reversed)
    are the codeword, truncated to 2^log_final_len (an honest codeword has no higher terms).

    intt of the natural-order values gives the coefficients of f(s·y); divide c_i by s^i."""
    coeffs = intt(bit_reverse_rows(codeword))
    s_inv = pow(coset_shift(log_size), P - 2, P)
    coeffs = ext.ext_mul_base(coeffs, field.powers(s_inv, coeffs.shape[0]))
    return np.ascontiguousarray(coeffs[: 1 << log_final_len])


def evaluate_polynomial(coeffs: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Horner's rule for an F_p^4-coefficient polynomial at base points x (q,): (q, 4)."""
    acc = np.zeros((x.shape[0], 4), dtype=np.uint32)
    for c in coeffs[::-1]:  # over the few final coefficients, vectorised over queries
        acc = ext.ext_add(ext.ext_mul_base(acc, x), c)
    return acc


class FriProver:
    """Commit phase state: the committed layers (for opening queries later)."""

    def __init__(self):
        self.trees: list = []
        self.roots: list = []
        self.final_poly = None

    def commit_phase(self, inputs: dict, log_final_size: int, log_final_len: int, transcript, progress=None):
        """Fold the inputs (height log-size → (2^l, 4) codeword) down to the final polynomial,
        committing each layer and drawing its β from the transcript."""
        log_size = max(inputs)
        cur = np.ascontiguousarray(inputs[log_size], dtype=np.uint32)
        n_layers = log_size - log_final_size
        for r in range(n_layers):
            tree = MerkleTree.commit(cur.reshape(-1, 8))  # leaf = (f(x), f(−x))
            self.trees.append(tree)
            self.roots.append(tree.root)
            beta, tau = rounds.fri_layer(transcript, tree.root, rolls_in=log_size - 1 in inputs)
            cur = fold_codeword(cur, beta, log_size)
            log_size -= 1
            if tau is not None:  # roll in the next table height: f' += τ·input
                cur = ext.ext_add(cur, ext.ext_mul(inputs[log_size], tau))
            if progress:
                progress("FRI commit", (r + 1) / max(n_layers, 1))
        self.final_poly = final_polynomial(cur, log_size, log_final_len)
        rounds.fri_final(transcript, self.final_poly)

    def open_queries(self, indices: np.ndarray) -> list:
        """Per round: the leaves holding positions idx >> r (with siblings) and their paths."""
        out = []
        idx = np.asarray(indices, dtype=np.int64)
        for tree in self.trees:
            out.append(tree.open(idx >> 1))
            idx = idx >> 1
        return out


def draw_fold_challenges(transcript, proof: "FriProof", input_logs) -> tuple:
    """Verifier: replay the commit phase's transcript — per layer observe its root, draw β, and
    draw τ when the folded codeword reaches the height of another input (``input_logs``, the
    log-sizes of the inputs); then observe the final polynomial. Returns (betas, {log-size: τ})."""
    betas, taus = [], {}
    log_size = max(input_logs)
    for root in proof.layer_roots:
        log_size -= 1
        beta, tau = rounds.fri_layer(transcript, root, rolls_in=log_size in input_logs)
        betas.append(beta)
        if tau is not None:
            taus[log_size] = tau
    rounds.fri_final(transcript, proof.final_poly)
    return betas, taus


def verify_queries(proof: FriProof, betas: list, indices: np.ndarray, inputs: dict, log_final_size: int,
                   taus: dict) -> None:
    """Check every query's folding chain, vectorised over queries.

    inputs: height l → (q, 4) values of the input codewords at positions idx >> (L − l),
    computed by the verifier from the opened trace rows (the DEEP combination); taus: height
    → the roll-in challenge (draw_fold_challenges)."""
    log_size = max(inputs)
    idx = np.asarray(indices, dtype=np.int64)
    cur = inputs[log_size]
    for r, (root, (rows, paths)) in enumerate(zip(proof.layer_roots, proof.layer_openings)):
        leaf = idx >> 1
        if not verify_openings(root, log_size - 1, leaf, rows, paths):
            raise MerklePathError(f"FRI layer {r}: an opened leaf does not match the layer's Merkle root")
        rows = np.asarray(rows, dtype=np.uint32)
        lo, hi = rows[:, 0:4], rows[:, 4:8]
        mine = np.where((idx & 1)[:, None] == 0, lo, hi)
        if not np.array_equal(mine, cur):
            q = int(np.nonzero(np.any(mine != cur, axis=1))[0][0])
            raise FriQueryError(f"FRI layer {r}, query {q}: the opened value differs from the previous fold")
        cur = fold_pairs(lo, hi, betas[r], point_at(log_size, leaf << 1))
        log_size -= 1
        idx = leaf
        if log_size in inputs:
            cur = ext.ext_add(cur, ext.ext_mul(inputs[log_size], taus[log_size]))
    if log_size != log_final_size:
        raise FriQueryError(f"FRI has {len(proof.layer_roots)} layers but the domain needs {max(inputs) - log_final_size}")
    expected = evaluate_polynomial(proof.final_poly, point_at(log_size, idx))
    if not np.array_equal(expected, cur):
        q = int(np.nonzero(np.any(expected != cur, axis=1))[0][0])
        raise FriQueryError(f"FRI query {q}: the last fold differs from the final polynomial")
