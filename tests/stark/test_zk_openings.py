"""Hiding mode leaves enough randomness for everything a proof reveals (zk.py, docs/stark.md
"Zero knowledge"): the values the verifier sees of one committed column, and those the
simulator needs, are F_p-linear functionals of the column's random coefficients; they are
jointly uniform iff the functionals are independent, i.e. their matrix has full row rank
(galois is the oracle). Checked in the worst case: q query points whose next rows are all
other points (2q distinct points), with exactly m_r = 2q + 8 coefficients of r (a square
matrix: no slack), for small tables and a tall one."""

import galois
import numpy as np
import pytest

from pyzkvm.stark import BLOWUP8_100_BITS_ZK, COMPACT_ZK, DEFAULT_ZK, setup
from pyzkvm.stark.domain import coset_shift
from pyzkvm.stark.examples.fibonacci import FibonacciAir
from pyzkvm.stark.ext import W
from pyzkvm.stark.field import P, root_of_unity
from pyzkvm.stark.zk import QuotientLayout, committed_bound, lde_log, quotient_mask_size, trace_randomiser_size

GF = galois.GF(P)
CONFIGS = [DEFAULT_ZK, COMPACT_ZK, BLOWUP8_100_BITS_ZK]
LOG_NS = (2, 4, 5, 6, 10, 13)  # 2^13 rows: a tall table (zk.tall) in each config, on n·blowup points


def ext_mul(a, b):
    """a·b in F_p[X]/(X^4 − W), coefficient lists."""
    c = [0] * 7
    for i in range(4):
        for j in range(4):
            c[i + j] += a[i] * b[j]
    return [(c[k] + W * c[k + 4]) % P for k in range(3)] + [c[3] % P]


def ext_pow(a, e):
    out = [1, 0, 0, 0]
    for bit in bin(e)[2:]:
        out = ext_mul(out, out)
        if bit == "1":
            out = ext_mul(out, a)
    return out


def base_rows(points, factors, m):
    """Row per point x: the functional t ↦ factor(x)·t(x) on t's m coefficients."""
    rows = np.empty((len(points), m), dtype=np.int64)
    rows[:, 0] = np.asarray(factors, dtype=np.int64) % P
    x = np.asarray(points, dtype=np.int64)
    for i in range(1, m):
        rows[:, i] = rows[:, i - 1] * x % P
    return rows


def ext_rows(z, factor, m):
    """4 rows: the coordinates of t ↦ factor·t(z) ∈ F_p^4 on t's m coefficients."""
    cols, term = [], list(factor)
    for _ in range(m):
        cols.append(term)
        term = ext_mul(term, z)
    return np.array(cols, dtype=np.int64).T


def query_points(log_lde, log_n, q, rng):
    """q distinct points of the LDE coset (natural index j ↦ s·ω^j) and their next rows
    x·ω_n (index j + L/n), all 2q distinct: j in the even blocks of L/n indices."""
    size, step = 1 << log_lde, 1 << (log_lde - log_n)
    even = np.flatnonzero((np.arange(size) // step) % 2 == 0)
    j = rng.choice(even, size=q, replace=False)
    s, w = coset_shift(log_lde), root_of_unity(log_lde)
    return [s * pow(w, int(i), P) % P for i in j], [s * pow(w, int(i) + step, P) % P for i in j]


def full_row_rank(rows) -> bool:
    return np.linalg.matrix_rank(GF(rows)) == rows.shape[0]


def random_ext(rng):
    return [int(v) for v in rng.integers(0, P, 4)]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
@pytest.mark.parametrize("log_n", LOG_NS)
def test_the_trace_randomiser_covers_the_openings_and_the_next_rows(cfg, log_n):
    """f̂ = f + Z_H·r, r with m_r coefficients: f̂ at the query points x (opened), at x·ω_n
    (the quotient's values at x depend on them), and the 4 coordinates of f̂(ζ), f̂(ζω)."""
    rng = np.random.default_rng(log_n)
    n = 1 << log_n
    m, w_n = trace_randomiser_size(cfg), root_of_unity(log_n)
    here, nxt = query_points(lde_log(cfg, log_n), log_n, cfg.num_queries, rng)
    points = here + nxt
    zeta = random_ext(rng)
    rows = [base_rows(points, [pow(x, n, P) - 1 for x in points], m)]  # Z_H(x)·r(x)
    for z in (zeta, ext_mul(zeta, [w_n, 0, 0, 0])):
        z_h = ext_pow(z, n)
        rows.append(ext_rows(z, [(z_h[0] - 1) % P] + z_h[1:], m))  # Z_H(z)·r(z)
    rows = np.concatenate(rows)
    assert rows.shape[0] == 2 * cfg.num_queries + 8
    assert full_row_rank(rows), f"n = {n}: r's {m} coefficients cannot make {rows.shape[0]} values uniform"


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
@pytest.mark.parametrize("log_n", LOG_NS)
def test_the_quotient_masks_cover_the_chunk_openings(cfg, log_n):
    """q̂_k = q_k + x^S·t_(k+1) − t_k, t with B − S coefficients (B = zk.committed_bound: D, or
    n + n/F for a tall table): a chunk's base column is opened at the query points and at ζ
    (4 coordinates)."""
    rng = np.random.default_rng(100 + log_n)
    air = setup(cfg, [FibonacciAir()]).verifying_key.compiled[0]
    size = QuotientLayout(cfg, air, log_n).size
    m = committed_bound(cfg, log_n) - size
    assert m == quotient_mask_size(cfg)
    points, _ = query_points(lde_log(cfg, log_n), log_n, cfg.num_queries, rng)
    zeta = random_ext(rng)
    rows = np.concatenate([base_rows(points, [pow(x, size, P) for x in points], m),  # x^S·t(x)
                           ext_rows(zeta, ext_pow(zeta, size), m)])                    # ζ^S·t(ζ)
    assert full_row_rank(rows), f"n = {1 << log_n}: t's {m} coefficients cannot make {rows.shape[0]} values uniform"
