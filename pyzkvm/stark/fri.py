"""FRI: proving that a committed codeword is close to a polynomial of low degree.

Input: codewords over F_p^4 on the LDE cosets D_l (domain.py), one per height 2^l, in
bit-reversed order (the DEEP combinations of each table, see prover.py). Rate ρ = 2^−log_blowup.

Commit phase, one binary fold. Write f(x) = f_e(x²) + x·f_o(x²). With lo = f(x), hi = f(−x):

    f_e(x²) = (lo + hi)/2,   f_o(x²) = (lo − hi)/(2x)
    fold:  f'(x²) = f_e(x²) + β·f_o(x²) = (lo + hi)/2 + β·(lo − hi)/(2x)

In bit-reversed order rows 2i and 2i+1 hold x and −x, and the folded row i holds x² ∈ D_{l−1}.
With arity 2 each layer commits the codeword (a Merkle leaf = the pair (f(x), f(−x)), 8
words), draws β and folds; when the folded codeword reaches the height of another input, a
fresh challenge τ is drawn and that input is rolled in: f' ← f' + τ·input. (τ independent of
β keeps every combination affine in independent challenges — correlated agreement over
affine spaces, BCIKS20 — where β² would make a degree-2 curve and cost a factor 2:
config.py.) Stop at F·blowup entries (F = 2^log_final_len) and send the final polynomial's
coefficients in the clear: F of them, or F + 1 in hiding mode (zk.final_poly_len), where FRI
then proves each input of h·blowup entries close to a polynomial of degree < h + h/F.

Higher arity (``StarkConfig.log_fri_arity`` = a). A committed layer may span k ≤ a binary
folds, each with its own challenge β_1 … β_k (drawn together after the layer's root): after k
folds row i of the folded codeword depends only on rows [2^k·i, 2^k·(i+1)) of the committed
one (bit-reversed order keeps a coset of the 2^k-th roots together), so a Merkle leaf is that
coset (2^k·4 words) and a query opens one leaf per layer. A layer never jumps over the height
of an input to roll in, nor below the final size (``layer_arities``): k = min(a, distance to the
next input height, distance to the final size). Why each fold has its own β, and why the
arity changes no term of the security estimate: config.py, "FRI folding arity".

Query phase: after grinding, draw query positions in the largest domain. For each layer the
prover opens the leaf holding position idx (the coset idx >> k) less the entry at idx mod 2^k:
the verifier puts there the value it expects (from the previous fold, or from the inputs at
the first layer), so the leaf hashes to the root only if that value is right; it folds the
coset itself k times, and at the end compares with the final polynomial.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from ..lazy_njit import njit
from .._jit import inner

from ..errors import FriQueryError, MerklePathError
from . import ext, field, rounds
from .domain import QueryPoints, coset_shift, inverse_point_at
from .ext import mul4_vec
from .heap import release_free_heap
from .field import P, f_add_u32, f_reduce, f_sub_u32, root_of_unity
from .merkle import MerkleTree, rows_in_tree
from .multiproof import WalkPlans
from .ntt import bit_reverse_indices, bit_reverse_rows, intt
from .pool import parallel_for

_P = np.uint64(P)
_U32, _P32 = np.uint32, np.uint32(P)
INV_TWO = (P + 1) // 2
#: a committed layer of at least 2^this rows hands its freed temporaries (leaf digests, the
#: fold's) back to the OS before the next layer (heap.py); smaller ones free too little
RELEASE_HEAP_MIN_LOG_SIZE = 20


@dataclass
class FriProof:
    """What FRI adds to a proof: one root per committed layer, the final polynomial, the PoW
    nonce, and per layer the opened leaves (cosets of 2^k values) with their authentication paths."""

    layer_roots: list          # bytes (32) per layer
    final_poly: np.ndarray     # (F or F + 1, 4) coefficients, lowest degree first (zk.final_poly_len)
    pow_nonce: int
    layer_openings: list       # per layer: (rows (q, 4·2^k), paths (q, depth, 8))


def lift(codeword: np.ndarray, log_factor: int) -> np.ndarray:
    """A codeword h on D_l (bit-reversed rows) as the codeword of g(x) = h(x^M), M = 2^m, on
    D_(l+m): row i of D_(l+m) holds a point x whose x^M is the point of row i >> m of D_l
    (s_l = s_(l+1)^2, domain.coset_shift, and the fold's pairing of rows 2i, 2i + 1), so g's
    rows are h's, each repeated M times, and a query of D_(l+m) at row idx reads h at row
    idx >> m: the row the query opens at height l anyway (mmcs.py). deg g = M·deg h: the
    rate is kept. Used for a table's preprocessed DEEP terms, n·blowup rows under a hiding
    table's D·blowup (zk.prep_lde_log; why it is as sound as rolling them in there: prover.py
    step 6)."""
    return np.repeat(codeword, 1 << log_factor, axis=0)


def sort_by_input(entries: list, top: int, direct: list, lifted: list, lifted_to: dict) -> None:
    """One table's DEEP entries (deep.split_by_height: (height, ζω, member)) into ``direct``, those
    of its FRI input height ``top`` (zk.lde_log), and ``lifted``, its preprocessed group's
    below it (zk.prep_lde_log), with lifted_to[that height] = top (a height n·blowup is one
    table height's: the same top for every table there)."""
    for e in entries:
        if e[0] == top:
            direct.append(e)
        else:
            lifted.append(e)
            lifted_to[e[0]] = top


def layer_arities(input_logs, log_final_size: int, log_arity: int) -> list:
    """k per committed layer (the layer folds 2^k entries into one), from the tallest input down
    to the final size: as many binary folds as ``log_arity`` allows without passing the height
    of another input (it is rolled in right after the fold that reaches it) or the final size."""
    log_size = max(input_logs)
    stops = sorted({l for l in input_logs if log_final_size < l < log_size} | {log_final_size}, reverse=True)
    out = []
    for stop in stops:
        while log_size > stop:
            k = min(log_arity, log_size - stop)
            out.append(k)
            log_size -= k
    return out


@inner
def _halve(s):
    # s/2 mod p for s = a + b < 2p (a, b canonical), as a canonical uint32: an odd s is s + p
    # halved (< 1.5p: one conditional subtraction), so no product
    t = (np.uint64(s) + (np.uint64(s) & np.uint64(1)) * _P) >> np.uint64(1)
    return min(_U32(t), _U32(_U32(t) - _P32))


@njit(cache=True, nogil=True)
def _fold_kernel(cw, beta, inv_hi, inv_lo, log_lo, out, lo, hi):
    # out[i] = (e + o)/2 + β·(e − o)/(2x) for i in [lo, hi) (a chunk of pool.parallel_for), e, o
    # = cw[2i], cw[2i + 1], 1/(2x) = inv_hi[i >> log_lo]·inv_lo[i mod 2^log_lo] (_half_inverse_x).
    # Taken in runs of one inv_hi entry, the rows read as flat views counted from 0 (no
    # negative-index checks) and the products reduced with 32-bit multiplies only
    # (field.f_reduce, ext.mul4_vec), so the inner loop vectorises
    x, y = cw.reshape(-1), out.reshape(-1)
    mask = (1 << log_lo) - 1
    i = lo
    while i < hi:
        end = min(hi, ((i >> log_lo) + 1) << log_lo)
        _fold_run(x[8 * i:8 * end], y[4 * i:4 * end], beta, np.uint64(inv_hi[i >> log_lo]),
                  inv_lo[i & mask:(i & mask) + end - i])
        i = end


@inner
def _fold_run(x, y, beta, scale, inv_lo):
    # rows 0..len(inv_lo)−1 of the flat views x (pairs e, o: 8 words a row) and y (4 words): the
    # fold with 1/(2x) = scale·inv_lo[k]
    b0, b1, b2, b3 = beta[0], beta[1], beta[2], beta[3]
    for k in range(inv_lo.shape[0]):
        ix = np.uint64(f_reduce(scale * np.uint64(inv_lo[k])))
        e0, e1, e2, e3 = x[8 * k], x[8 * k + 1], x[8 * k + 2], x[8 * k + 3]
        o0, o1, o2, o3 = x[8 * k + 4], x[8 * k + 5], x[8 * k + 6], x[8 * k + 7]
        r0, r1, r2, r3 = mul4_vec(f_reduce(np.uint64(f_sub_u32(e0, o0)) * ix), f_reduce(np.uint64(f_sub_u32(e1, o1)) * ix),
                                  f_reduce(np.uint64(f_sub_u32(e2, o2)) * ix), f_reduce(np.uint64(f_sub_u32(e3, o3)) * ix),
                                  b0, b1, b2, b3)  # β·(e − o)/(2x)
        y[4 * k] = f_add_u32(_halve(e0 + o0), r0)
        y[4 * k + 1] = f_add_u32(_halve(e1 + o1), r1)
        y[4 * k + 2] = f_add_u32(_halve(e2 + o2), r2)
        y[4 * k + 3] = f_add_u32(_halve(e3 + o3), r3)


@njit(cache=True, nogil=True)
def _roll_in_kernel(cur, inp, tau, lo, hi):
    # cur[i] += τ·inp[i] for i in [lo, hi), in place (a chunk of pool.parallel_for; written
    # as _fold_kernel, for the same reason)
    t0, t1, t2, t3 = tau[0], tau[1], tau[2], tau[3]
    c, x = cur[lo:hi].reshape(-1), inp[lo:hi].reshape(-1)
    for k in range(hi - lo):
        r0, r1, r2, r3 = mul4_vec(x[4 * k], x[4 * k + 1], x[4 * k + 2], x[4 * k + 3], t0, t1, t2, t3)
        c[4 * k] = f_add_u32(c[4 * k], r0)
        c[4 * k + 1] = f_add_u32(c[4 * k + 1], r1)
        c[4 * k + 2] = f_add_u32(c[4 * k + 2], r2)
        c[4 * k + 3] = f_add_u32(c[4 * k + 3], r3)


def roll_in(cur: np.ndarray, codeword: np.ndarray, tau: np.ndarray) -> None:
    """f' ← f' + τ·input, in place on the folded codeword ``cur`` (its own (2^l, 4) array): no
    copy of τ to the input's shape, no product array beside it."""
    parallel_for(_roll_in_kernel, cur.shape[0], cur, np.ascontiguousarray(codeword, dtype=np.uint32),
                 np.ascontiguousarray(tau, dtype=np.uint32), work_per_item=8)


def fold_codeword(codeword: np.ndarray, beta: np.ndarray, log_size: int) -> np.ndarray:
    """One FRI fold of a bit-reversed codeword on D_l (size 2^l) into one on D_{l−1}:
    out[i] = (lo + hi)/2 + β·(lo − hi)/(2x), lo = cw[2i] at x, hi = cw[2i+1] at −x."""
    half = 1 << (log_size - 1)
    inv_hi, inv_lo, log_lo = _half_inverse_x(log_size)
    out = np.empty((half, 4), dtype=np.uint32)
    parallel_for(_fold_kernel, half, np.ascontiguousarray(codeword), np.ascontiguousarray(beta, dtype=np.uint32),
                 inv_hi, inv_lo, log_lo, out, work_per_item=16)
    return out


#: 1/(2x) of a fold's rows is a product of two tables' entries, the lower one of 2^this entries
#: at most (_half_inverse_x)
FOLD_LOG_TABLE = 12


@functools.lru_cache(maxsize=None)
def _half_inverse_x(log_size: int) -> tuple:
    """(inv_hi, inv_lo, b): 1/(2x_i) at the fold's rows i < 2^m, m = log_size − 1, as
    inv_hi[i >> b]·inv_lo[i mod 2^b] — two tables of 2^(m − b) and 2^b entries, not one of 2^m
    made on the calling thread (the fold's kernel multiplies them, on the pool's threads).

    x_i = s_l·ω^rev_m(i) (the even row 2i of D_l, ω = ω_(2^l)), so 1/(2x_i) = (2·s_l)^−1·ω^−rev_m(i);
    with i = a·2^b + c, rev_m(i) = rev_b(c)·2^(m − b) + rev_(m − b)(a): inv_hi[a] =
    (2·s_l)^−1·ω^−rev_(m − b)(a), inv_lo[c] = (ω^−2^(m − b))^rev_b(c)."""
    m = log_size - 1
    b = min(m, FOLD_LOG_TABLE)
    w_inv = pow(root_of_unity(log_size), P - 2, P)
    inv_hi = field.mul(field.powers(w_inv, 1 << (m - b))[bit_reverse_indices(1 << (m - b))],
                       np.uint32(pow(coset_shift(log_size), P - 2, P) * INV_TWO % P))
    inv_lo = field.powers(pow(w_inv, 1 << (m - b), P), 1 << b)[bit_reverse_indices(1 << b)]
    inv_hi.setflags(write=False)  # (kept: made once per height, ≤ 2^13 words)
    inv_lo.setflags(write=False)
    return inv_hi, inv_lo, b


def fold_cosets(values: np.ndarray, betas: np.ndarray, leaf: np.ndarray, log_size: int,
                inv_x0: np.ndarray | None = None) -> np.ndarray:
    """The verifier's k binary folds of opened cosets: values (q, 2^k, 4) are rows
    [2^k·leaf, 2^k·(leaf+1)) of a codeword on D_log_size; fold j uses betas[j]. Returns (q, 4),
    each query's value at row ``leaf`` of the codeword on D_(log_size − k). ``inv_x0``: 1/x_0 per
    query, x_0 the point of row 2^k·leaf (``coset_start_inverses``; computed here if not given).

    The coset's points need one power per query: bit-reversing row 2^k·leaf + t puts t's k
    bits on top, so x_t = x_0·ω_(2^k)^rev_k(t) (x_0 = the point of row 2^k·leaf). A fold takes
    the pairs' points x (the even rows) to x², the points of the folded coset, whose even
    rows the next fold uses: 1/x is squared along, never inverted again."""
    m = values.shape[1]
    if inv_x0 is None:
        inv_x0 = inverse_point_at(log_size, leaf * m)
    k = m.bit_length() - 1
    # 1/(2x_t) = 1/x_0 · ω_(2^k)^(−rev_k(t))/2 at the even rows t (the pairs' first points)
    half_inv_x = (np.asarray(inv_x0, dtype=np.uint64)[:, None] * _twiddles(k)[1][None, :] % _P)[:, :, None]
    cur = np.asarray(values, dtype=np.uint64)
    for j, beta in enumerate(betas):  # k ≤ 4 steps, vectorised over queries and pairs
        lo, hi = cur[:, 0::2], cur[:, 1::2]
        odd = (lo + _P - hi) * half_inv_x % _P                  # (lo − hi)/(2x)
        # (lo + hi)/2 + β·odd: β·odd is odd @ M_β (< 4p²), plus a value < p: < 2^64
        cur = ((lo + hi) * INV_TWO % _P + odd @ ext.multiplier(beta)) % _P
        if j + 1 < len(betas):  # the next fold's pair points: squares of every other point
            half_inv_x = half_inv_x[:, 0::2] ** 2 * 2 % _P      # 2·(1/(2x))² = 1/(2x²)
    return cur[:, 0].astype(np.uint32)


@functools.cache
def _twiddles(k: int) -> tuple:
    """(ω^rev_k(t) for t < 2^k, ω^(−rev_k(t))/2 for the even t), ω = ω_(2^k), uint64: the
    coset's point ratios (coset_start_inverses; fold_cosets, with the fold's 1/2), made once
    per arity."""
    w = root_of_unity(k)
    w_inv = pow(w, P - 2, P)
    rev = bit_reverse_indices(1 << k).tolist()
    forward = np.array([pow(w, r, P) for r in rev], dtype=np.uint64)
    inverse_even = np.array([pow(w_inv, r, P) * INV_TWO % P for r in rev[0::2]], dtype=np.uint64)
    forward.setflags(write=False)
    inverse_even.setflags(write=False)
    return forward, inverse_even


def coset_start_inverses(inv_x: np.ndarray, idx: np.ndarray, k: int) -> np.ndarray:
    """1/x_0 of each query's coset (fold_cosets) from 1/x at the query's own row idx of the
    same codeword: x_idx = x_0·ω_(2^k)^rev_k(t), t = idx mod 2^k, so 1/x_0 = 1/x_idx·ω_(2^k)^rev_k(t)."""
    return np.asarray(inv_x, dtype=np.uint64) * _twiddles(k)[0][np.asarray(idx) & ((1 << k) - 1)] % _P


def final_polynomial(codeword: np.ndarray, log_size: int, final_len: int) -> np.ndarray:
    """Coefficients (lowest first) of the polynomial whose evaluations on D_l (bit-reversed)
    are the codeword, truncated to ``final_len`` (an honest codeword has no higher terms).

    intt of the natural-order values gives the coefficients of f(s·y); divide c_i by s^i."""
    coeffs = intt(bit_reverse_rows(codeword))
    s_inv = pow(coset_shift(log_size), P - 2, P)
    coeffs = ext.ext_mul_base(coeffs, field.powers(s_inv, coeffs.shape[0]))
    return np.ascontiguousarray(coeffs[:final_len])


def evaluate_polynomial(coeffs: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Horner's rule for an F_p^4-coefficient polynomial at base points x (q,): (q, 4)."""
    acc = np.zeros((x.shape[0], 4), dtype=np.uint32)
    for c in coeffs[::-1]:  # over the few final coefficients, vectorised over queries
        acc = ext.ext_add(ext.ext_mul_base(acc, x), c)
    return acc


class FriProver:
    """Commit phase state: the committed layers (for opening queries later)."""

    trees: list  # each layer's Merkle tree
    roots: list  # and its root

    def __init__(self):
        self.trees = []
        self.roots = []
        self.final_poly = None

    def commit_phase(self, inputs: dict, log_final_size: int, final_len: int, transcript, log_arity: int = 1,
                     progress=None):
        """Fold the inputs (height log-size → (2^l, 4) codeword) down to the final polynomial,
        committing each layer (leaves: cosets of 2^k values) and drawing its k β's from the transcript."""
        log_size = max(inputs)
        cur = np.ascontiguousarray(inputs[log_size], dtype=np.uint32)
        self.arities = layer_arities(inputs, log_final_size, log_arity)
        for r, k in enumerate(self.arities):
            tree = MerkleTree.commit(cur.reshape(-1, 4 << k))  # leaf = the coset folded into one value
            self.trees.append(tree)
            self.roots.append(tree.root)
            betas, tau = rounds.fri_layer(transcript, tree.root, k, rolls_in=log_size - k in inputs)
            for beta in betas:
                cur = fold_codeword(cur, beta, log_size)
                log_size -= 1
            if tau is not None:  # roll in the next table height: f' += τ·input
                roll_in(cur, inputs[log_size], tau)
            if log_size + k >= RELEASE_HEAP_MIN_LOG_SIZE:  # this layer's leaf digests and fold temporaries
                release_free_heap()
            if progress:
                progress("FRI commit", (r + 1) / len(self.arities))
        self.final_poly = final_polynomial(cur, log_size, final_len)
        rounds.fri_final(transcript, self.final_poly)

    def open_queries(self, indices: np.ndarray) -> list:
        """Per layer: the leaves (cosets) holding the queries' positions less each query's own
        entry (the verifier has it: the previous fold, or the input), and their multiproof."""
        out = []
        idx = np.asarray(indices, dtype=np.int64)
        for tree, k in zip(self.trees, self.arities):
            rows, paths = tree.open(idx >> k)
            out.append((without_own_entry(rows, idx, k), paths))
            idx = idx >> k
        return out


def _own_entry_mask(idx: np.ndarray, k: int) -> np.ndarray:
    """(q, 2^k) True except at each query's own entry, idx mod 2^k, in its coset."""
    return np.arange(1 << k)[None, :] != (idx & ((1 << k) - 1))[:, None]


def without_own_entry(rows: np.ndarray, idx: np.ndarray, k: int) -> np.ndarray:
    """Opened cosets (q, 4·2^k) → (q, 4·(2^k − 1)): each query's own entry left out."""
    q = rows.shape[0]
    return rows.reshape(q, 1 << k, 4)[_own_entry_mask(idx, k)].reshape(q, 4 * ((1 << k) - 1))


def with_own_entry(rows: np.ndarray, idx: np.ndarray, k: int, own: np.ndarray) -> np.ndarray:
    """The verifier's cosets (q, 2^k, 4): the opened entries with each query's own value ``own``
    (q, 4) put back at idx mod 2^k."""
    q = own.shape[0]
    if k == 1:  # a pair (most layers): [own, sibling], swapped where the query's row is odd
        pair = np.stack((own, np.asarray(rows, dtype=np.uint32).reshape(q, 4)), axis=1)
        return np.where((idx & 1).astype(bool)[:, None, None], pair[:, ::-1], pair).astype(np.uint32, copy=False)
    values = np.empty((q, 1 << k, 4), dtype=np.uint32)
    values[_own_entry_mask(idx, k)] = np.asarray(rows, dtype=np.uint32).reshape(-1, 4)
    values[np.arange(q), idx & ((1 << k) - 1)] = own
    return values


def draw_fold_challenges(transcript, proof: "FriProof", input_logs, arities: list) -> tuple:
    """Verifier: replay the commit phase's transcript — per layer observe its root, draw its k
    β's, and τ when the folded codeword reaches the height of another input (``input_logs``,
    the log-sizes of the inputs; ``arities``: layer_arities); then observe the final polynomial.
    Returns (betas per layer (k, 4), {log-size: τ})."""
    betas, taus = [], {}
    log_size = max(input_logs)
    for root, k in zip(proof.layer_roots, arities, strict=True):
        log_size -= k
        layer_betas, tau = rounds.fri_layer(transcript, root, k, rolls_in=log_size in input_logs)
        betas.append(layer_betas)
        if tau is not None:
            taus[log_size] = tau
    rounds.fri_final(transcript, proof.final_poly)
    return betas, taus


def _rolled_in(inputs: dict, taus: dict) -> dict:
    """τ_l·input_l (uint64) for every input height l below the tallest (each is rolled in),
    all in one product."""
    heights = sorted(l for l in inputs if l < max(inputs))
    if not heights:
        return {}
    count = [len(inputs[l]) for l in heights]
    products = ext.mul_rows(np.concatenate([inputs[l] for l in heights]),
                            np.repeat(np.stack([taus[l] for l in heights]), count, axis=0))
    starts = np.cumsum([0] + count)
    return {l: products[a:b] for l, a, b in zip(heights, starts[:-1], starts[1:])}


def verify_queries(proof: FriProof, betas: list, indices: np.ndarray, inputs: dict, log_final_size: int,
                   taus: dict, points: QueryPoints | None = None, plans=None) -> None:
    """Check every query's folding chain, vectorised over queries.

    inputs: height l → (q, 4) values of the input codewords at positions idx >> (L − l),
    computed by the verifier from the opened trace rows (the DEEP combination); taus: height
    → the roll-in challenge (draw_fold_challenges); points: the queries' points on every
    height (domain.QueryPoints of the tallest height and ``indices``; built here if not given);
    plans: the proof's multiproof.WalkPlans, shared with its trace trees."""
    log_size = max(inputs)
    idx = np.asarray(indices, dtype=np.int64)
    if points is None:
        points = QueryPoints(log_size, idx)
    plans = WalkPlans() if plans is None else plans
    rolled = _rolled_in(inputs, taus)
    cur = inputs[log_size]
    for r, (root, (rows, paths), layer_betas) in enumerate(zip(proof.layer_roots, proof.layer_openings, betas,
                                                               strict=True)):
        k = len(layer_betas)
        leaf = idx >> k
        # the query's own entry is the value it carries from the previous fold (or the input):
        # if that is wrong, the coset does not hash to the committed leaf
        values = with_own_entry(rows, idx, k, cur)
        if not rows_in_tree(root, log_size - k, leaf, values.reshape(idx.shape[0], -1), paths, plans):
            raise MerklePathError(f"FRI layer {r}: an opened coset, with the value folded from the layer before, "
                                  "does not match the layer's Merkle root")
        cur = fold_cosets(values, layer_betas, leaf, log_size, coset_start_inverses(points.inverse(log_size), idx, k))
        log_size -= k
        idx = leaf
        if log_size in rolled:
            cur = ((cur + rolled[log_size]) % _P).astype(np.uint32)  # f' + τ·input
    if log_size != log_final_size:
        raise FriQueryError(f"FRI folds down to 2^{log_size} entries but the final polynomial needs 2^{log_final_size}")
    expected = evaluate_polynomial(proof.final_poly, points.point(log_size).astype(np.uint32))
    if not np.array_equal(expected, cur):
        q = int(np.nonzero(np.any(expected != cur, axis=1))[0][0])
        raise FriQueryError(f"FRI query {q}: the last fold differs from the final polynomial")
