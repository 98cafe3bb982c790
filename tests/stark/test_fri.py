"""FRI: folding against a pure-Python oracle, acceptance of low-degree codewords (several
heights rolled in), rejection of a codeword far from low degree and of tampered layers."""

import numpy as np
import pytest

from pyzkvm.errors import FriQueryError, MerklePathError, PowError, VerificationError
from pyzkvm.stark import fri, ntt, rounds
from pyzkvm.stark.domain import coset_shift, point_at
from pyzkvm.stark.field import P
from pyzkvm.stark.transcript import Transcript
from tests.ext_reference import rmul


# --- an independent reference for F_p^4 = F_p[X]/(X^4 − 11) on Python ints -----------------


def radd(a, b):
    return [(x + y) % P for x, y in zip(a, b)]


def rscale(a, s):
    return [x * s % P for x in a]


def reval(coeffs, x):
    acc = [0, 0, 0, 0]
    for c in reversed(coeffs):
        acc = radd(rscale(acc, x), c)
    return acc


def random_ext(rng, n):
    return rng.integers(0, P, size=(n, 4), dtype=np.uint32)


def test_fold_matches_even_odd_decomposition():
    # f(x) = f_e(x²) + x·f_o(x²); folding must give f_e(y) + β·f_o(y) at y = x² ∈ D_{l−1}
    rng = np.random.default_rng(1)
    log_size, deg = 5, 8
    coeffs = [list(map(int, c)) for c in random_ext(rng, deg)]
    beta = [int(v) for v in rng.integers(0, P, 4)]
    xs = [int(x) for x in point_at(log_size, np.arange(1 << log_size))]
    codeword = np.array([reval(coeffs, x) for x in xs], dtype=np.uint32)
    folded = fri.fold_codeword(codeword, np.array(beta, dtype=np.uint32), log_size)
    even, odd = coeffs[0::2], coeffs[1::2]
    for i in range(1 << (log_size - 1)):
        y = xs[2 * i] * xs[2 * i] % P
        assert y == int(point_at(log_size - 1, np.array([i]))[0])  # the folded row's point
        want = radd(reval(even, y), rmul(beta, reval(odd, y)))
        assert folded[i].tolist() == want


@pytest.mark.parametrize("threads", [1, 2])
def test_the_provers_fold_is_the_verifiers_on_every_row(threads, monkeypatch):
    """fold_codeword (the prover's kernel: flat rows, 32-bit-multiply reductions, chunks of rows
    on the thread pool) gives every row what the verifier's fold_cosets computes from the same
    pair, extreme values included."""
    from pyzkvm.stark import pool

    monkeypatch.setattr(pool, "threads", lambda: threads)
    rng = np.random.default_rng(11)
    log_size = 15
    codeword = random_ext(rng, 1 << log_size)
    codeword[:4] = [[P - 1] * 4, [0] * 4, [P - 1] * 4, [P - 1] * 4]
    beta = np.array([P - 1, 1, P - 2, 12345], dtype=np.uint32)
    half = 1 << (log_size - 1)
    want = fri.fold_cosets(codeword.reshape(half, 2, 4), [beta], np.arange(half), log_size)
    assert np.array_equal(fri.fold_codeword(codeword, beta, log_size), want)


@pytest.mark.parametrize("threads", [1, 2])
def test_roll_in_adds_tau_times_the_input_in_place(threads, monkeypatch):
    from pyzkvm.stark import pool

    monkeypatch.setattr(pool, "threads", lambda: threads)
    rng = np.random.default_rng(7)
    cur, inp = (rng.integers(0, P, size=(1 << 14, 4), dtype=np.uint32) for _ in range(2))  # 2^16 words: split on 2 threads
    tau = rng.integers(0, P, size=4, dtype=np.uint32)
    want = [radd(c, rmul(x, tau.tolist())) for c, x in zip(cur[:64].tolist(), inp[:64].tolist())]
    before = cur.copy()
    fri.roll_in(cur, inp, tau)
    assert cur[:64].tolist() == want
    # every row, against a second roll-in of −τ (back to the start)
    fri.roll_in(cur, inp, (P - tau.astype(np.int64)) % P)
    assert np.array_equal(cur, before)


@pytest.mark.parametrize("m", [1, 3])
def test_lift_is_the_codeword_of_h_of_x_to_the_m(m):
    # a codeword of h on D_l, lifted m heights: the codeword of g(x) = h(x^(2^m)) on D_(l+m),
    # row by row (the bit-reversed rows and the cosets' shifts line up: s_l = s_(l+1)^2)
    rng = np.random.default_rng(11)
    log_size = 4
    coeffs = [list(map(int, c)) for c in random_ext(rng, 4)]
    low = np.array([reval(coeffs, int(x)) for x in point_at(log_size, np.arange(1 << log_size))], dtype=np.uint32)
    top = [int(x) for x in point_at(log_size + m, np.arange(1 << (log_size + m)))]
    want = [reval(coeffs, pow(x, 1 << m, P)) for x in top]
    assert fri.lift(low, m).tolist() == want


def test_final_polynomial_recovers_coefficients():
    rng = np.random.default_rng(2)
    log_size = 4
    coeffs = [list(map(int, c)) for c in random_ext(rng, 4)]
    xs = [int(x) for x in point_at(log_size, np.arange(16))]
    codeword = np.array([reval(coeffs, x) for x in xs], dtype=np.uint32)
    got = fri.final_polynomial(codeword, log_size, 8)
    assert got[:4].tolist() == coeffs and not got[4:].any()
    assert fri.evaluate_polynomial(got, np.array(xs[:3], dtype=np.uint32)).tolist() == codeword[:3].tolist()


def low_degree_codeword(rng, log_deg, log_blowup):
    l = log_deg + log_blowup
    return ntt.coset_lde(random_ext(rng, 1 << log_deg), log_blowup, shift=coset_shift(l))


def run_fri(inputs, log_final_len=2, log_blowup=2, queries=16, pow_bits=4, tamper=None, log_arity=1, final_len=None):
    """Prove and verify FRI on the given inputs with fresh transcripts; tamper(proof) may edit.
    ``final_len``: the final polynomial's coefficients (default 2^log_final_len; F + 1 in hiding mode)."""
    t = Transcript(b"fri-test")
    prover = fri.FriProver()
    final_len = 1 << log_final_len if final_len is None else final_len
    prover.commit_phase(inputs, log_final_len + log_blowup, final_len, t, log_arity)
    log_max = max(inputs)
    nonce, idx = rounds.query_positions(t, pow_bits, queries, log_max)
    proof = fri.FriProof(prover.roots, prover.final_poly, nonce, prover.open_queries(np.asarray(idx, np.int64)))
    if tamper:
        tamper(proof)
    v = Transcript(b"fri-test")
    arities = fri.layer_arities(set(inputs), log_final_len + log_blowup, log_arity)
    betas, taus = fri.draw_fold_challenges(v, proof, set(inputs), arities)
    _, vidx = rounds.query_positions(v, pow_bits, queries, log_max, nonce=proof.pow_nonce)
    values = {h: cw[vidx >> (log_max - h)] for h, cw in inputs.items()}
    fri.verify_queries(proof, betas, vidx, values, log_final_len + log_blowup, taus)


@pytest.mark.parametrize("log_arity", [1, 2, 3, 4])
def test_low_degree_codewords_of_three_heights_verify(log_arity):
    rng = np.random.default_rng(3)
    inputs = {l + 2: low_degree_codeword(rng, l, 2) for l in (9, 6, 5, 3)}
    run_fri(inputs, log_arity=log_arity)


def test_layer_arities_stop_at_every_input_height_and_the_final_size():
    # inputs at 18, 16, 13, 12, 7; final size 2^4; arity up to 8
    assert fri.layer_arities({18, 16, 13, 12, 7}, 4, 3) == [2, 3, 1, 3, 2, 3]
    assert fri.layer_arities({18, 16, 13, 12, 7}, 4, 1) == [1] * 14
    assert fri.layer_arities({5}, 5, 3) == []


def test_fold_cosets_is_k_binary_folds_with_their_own_challenges():
    """The verifier's fold of an opened coset of 8 equals three prover folds of the codeword
    with β_1, β_2, β_3 (fold_codeword, checked against the Python-int oracle above)."""
    rng = np.random.default_rng(9)
    log_size = 7
    cw = random_ext(rng, 1 << log_size)  # any codeword: the fold is linear, degree plays no part
    betas = random_ext(rng, 3)
    folded = cw
    for j, beta in enumerate(betas):
        folded = fri.fold_codeword(folded, beta, log_size - j)
    leaf = np.arange(1 << (log_size - 3), dtype=np.int64)
    got = fri.fold_cosets(cw.reshape(-1, 8, 4), betas, leaf, log_size)
    assert np.array_equal(got, folded)


def test_fold_with_powers_of_one_beta_is_not_accepted():
    """Each fold of a layer draws its own β: a prover folding with β, β², β⁴ (one challenge,
    StarkWare-style powers) commits layers the verifier's fold does not reproduce."""
    rng = np.random.default_rng(10)
    inputs = {10: low_degree_codeword(rng, 8, 2)}
    real_layer = rounds.fri_layer

    def powers_of_one_beta(t, root, k, rolls_in):
        betas, tau = real_layer(t, root, k, rolls_in)
        for j in range(1, k):  # β_j ← β_(j−1)²: what a single-challenge prover would use
            betas[j] = ext_reference_square(betas[j - 1])
        return betas, tau

    import pyzkvm.stark.fri as fri_module
    fri_module.rounds.fri_layer = powers_of_one_beta
    try:
        t = Transcript(b"fri-test")
        prover = fri.FriProver()
        prover.commit_phase(inputs, 4, 4, t, 3)
    finally:
        fri_module.rounds.fri_layer = real_layer
    nonce, idx = rounds.query_positions(t, 4, 16, 10)
    proof = fri.FriProof(prover.roots, prover.final_poly, nonce, prover.open_queries(np.asarray(idx, np.int64)))
    v = Transcript(b"fri-test")
    betas, taus = fri.draw_fold_challenges(v, proof, {10}, fri.layer_arities({10}, 4, 3))
    _, vidx = rounds.query_positions(v, 4, 16, 10, nonce=proof.pow_nonce)
    with pytest.raises((FriQueryError, MerklePathError), match="layer 1|final polynomial"):
        fri.verify_queries(proof, betas, vidx, {10: inputs[10][vidx]}, 4, taus)


def ext_reference_square(a):
    return np.array(rmul([int(x) for x in a], [int(x) for x in a]), dtype=np.uint32)


@pytest.mark.parametrize("step", [0, 1, 2])
def test_tampered_fold_inside_an_arity_8_layer_is_rejected(step, monkeypatch):
    """A prover whose fold is wrong at one step of the first layer (step 2 is the committed next
    layer, steps 0 and 1 the skipped ones) is caught: the verifier refolds the opened coset."""
    rng = np.random.default_rng(11)
    inputs = {11: low_degree_codeword(rng, 9, 2)}
    real_fold = fri.fold_codeword
    calls = []

    def bad_fold(codeword, beta, log_size):
        out = real_fold(codeword, beta, log_size)
        if len(calls) == step:
            out = out.copy()
            out[:, 0] = (out[:, 0] + 1) % P  # every folded value off by one
        calls.append(log_size)
        return out

    monkeypatch.setattr(fri, "fold_codeword", bad_fold)
    with pytest.raises((FriQueryError, MerklePathError), match="layer 1|final polynomial"):
        run_fri(inputs, log_arity=3)


def test_codeword_far_from_low_degree_is_rejected():
    rng = np.random.default_rng(4)
    far = random_ext(rng, 1 << 11)  # random values: distance ≈ 1 − 1/p from any low-degree code word
    with pytest.raises((FriQueryError, MerklePathError)):
        run_fri({11: far})


def test_slightly_corrupted_codeword_is_rejected():
    rng = np.random.default_rng(5)
    cw = low_degree_codeword(rng, 9, 2)
    cw[::4] = random_ext(rng, cw.shape[0] // 4)  # a quarter of the positions wrong
    with pytest.raises(VerificationError):
        run_fri({11: cw}, queries=30)


def test_tampered_final_polynomial_and_layers_are_rejected():
    rng = np.random.default_rng(6)
    inputs = {10: low_degree_codeword(rng, 8, 2)}

    def bump_final(p):
        p.final_poly = p.final_poly.copy()
        p.final_poly[0, 0] = (int(p.final_poly[0, 0]) + 1) % P

    def bump_leaf(p):
        rows, paths = p.layer_openings[1]
        rows = rows.copy()
        rows[0, 0] = (int(rows[0, 0]) + 1) % P
        p.layer_openings[1] = (rows, paths)

    def bad_nonce(p):
        p.pow_nonce += 1

    with pytest.raises(VerificationError):  # changes the transcript → different queries/values
        run_fri(inputs, tamper=bump_final)
    with pytest.raises(MerklePathError):
        run_fri(inputs, tamper=bump_leaf)
    with pytest.raises(PowError):
        run_fri(inputs, pow_bits=8, tamper=bad_nonce)
    with pytest.raises(MerklePathError):  # the same with arity 8: a value of a coset changed
        run_fri(inputs, tamper=bump_leaf, log_arity=3)


def test_an_opened_coset_leaves_out_the_value_the_verifier_has():
    """FRI sends each query's coset less its own entry; the verifier puts back the value it
    carries (a wrong one then fails the leaf's hash: test_tampered_fold_inside_an_arity_8_layer)."""
    rng = np.random.default_rng(12)
    cosets = rng.integers(0, P, size=(5, 32), dtype=np.uint32)  # 5 queries, arity 8
    idx = np.array([0, 7, 12, 21, 39], dtype=np.int64)
    sent = fri.without_own_entry(cosets, idx, 3)
    assert sent.shape == (5, 28)
    own = cosets.reshape(5, 8, 4)[np.arange(5), idx & 7]
    assert np.array_equal(fri.with_own_entry(sent, idx, 3, own).reshape(5, 32), cosets)


def test_inverse_point_at_inverts_point_at():
    """fold_cosets takes 1/x from inverse_point_at (the inverse root and shift, no inversion)."""
    from pyzkvm.stark.domain import inverse_point_at

    for log_size in (0, 1, 6):
        idx = np.arange(1 << log_size)
        assert all(int(x) * int(y) % P == 1 for x, y in zip(point_at(log_size, idx), inverse_point_at(log_size, idx)))


def test_query_points_square_down_the_heights():
    """domain.QueryPoints: the points (and inverses) of positions idx >> (L − l) on every height,
    by squaring from the tallest, equal point_at / inverse_point_at there; and fri's coset
    start 1/x_0 from 1/x at a query's own row equals inverse_point_at of the coset's first row."""
    from pyzkvm.stark.domain import QueryPoints, inverse_point_at

    rng = np.random.default_rng(3)
    idx = rng.integers(0, 1 << 12, size=20)
    points = QueryPoints(12, idx)
    for l in (12, 9, 4, 0):
        assert points.point(l).tolist() == point_at(l, idx >> (12 - l)).tolist()
        assert points.inverse(l).tolist() == inverse_point_at(l, idx >> (12 - l)).tolist()
    for k in (1, 3, 4):
        at = idx >> 2
        want = inverse_point_at(10, (at >> k) << k)
        assert fri.coset_start_inverses(points.inverse(10), at, k).tolist() == want.tolist()
