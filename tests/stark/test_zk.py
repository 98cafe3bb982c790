"""Hiding mode (stark/zk.py): fresh randomness per proof, reproducible with a test seed, and
openings whose distribution does not depend on the witness — checked by a chi-square test
that the same code shows failing on transparent proofs."""

import math
from math import log2

import numpy as np
import pytest

from pyzkvm.errors import ProofShapeError, StarkConfigError, VerificationError
from pyzkvm.stark import (INSECURE_FAST_FOR_TESTS as FAST, INSECURE_FAST_FOR_TESTS_ZK as FAST_ZK, PRESETS,
                          DEFAULT, DEFAULT_ZK, prove, security_bits, setup, verify, with_zk)
from pyzkvm.stark.examples.fibonacci import FibonacciAir, fibonacci_trace
from pyzkvm.stark.examples.permutation import LeftAir, RightAir, permutation_traces
from pyzkvm.stark.examples.private_value import PrivateValueAir, private_value_trace
from pyzkvm.stark.field import P
from pyzkvm.stark.proof import decode_proof
from pyzkvm.stark.zk import (SALT, QuotientLayout, ZkRandomness, committed_log_degree, lde_log,
                             quotient_mask_size, trace_randomiser_size)


# ---- the mode and its parameters ---------------------------------------------------------------


def test_presets_have_hiding_twins():
    assert DEFAULT_ZK.zk and not DEFAULT.zk and with_zk(DEFAULT, True) is DEFAULT_ZK and with_zk(DEFAULT_ZK, False) is DEFAULT
    assert PRESETS["insecure_fast_for_tests_zk"] is FAST_ZK
    # the secure hiding preset stops one height lower; its tallest table is tall (zk.tall):
    # committed on n·blowup points, its field term a bit above transparent's at 2^21 rows
    assert DEFAULT_ZK.log_height_limit == DEFAULT.log_height_limit - 1
    lde = lde_log(DEFAULT_ZK, DEFAULT_ZK.log_height_limit)
    assert lde == DEFAULT_ZK.log_height_limit + DEFAULT_ZK.log_blowup
    assert security_bits(DEFAULT_ZK, lde).field_bits >= 100
    with pytest.raises(StarkConfigError, match="max_log_height"):
        with_zk(DEFAULT, True).__class__("x", log_blowup=2, num_queries=44, pow_bits=16, log_final_poly_len=3,
                                         max_log_height=25, zk=True)


def test_committed_degree_leaves_room_for_every_opening():
    """r has m_r coefficients and t_k has B − S = m_t: at least the number of values a proof
    reveals of one column (test_zk_openings.py checks that those are independent); B bounds
    f̂ (degree < n + m_r): n + n/F for a tall table (n ≥ F·m_r, on n·blowup points), D for a
    short one (2n, and a tiny table's D ≥ TINY_DEGREE_FACTOR·m_r keeps its quotient in few
    chunks)."""
    from pyzkvm.stark.zk import TINY_DEGREE_FACTOR, committed_bound, hidden_length, tall

    m_r, m_t = trace_randomiser_size(FAST_ZK), quotient_mask_size(FAST_ZK)
    assert (m_r, m_t) == (2 * FAST_ZK.num_queries + 8, FAST_ZK.num_queries + 4)
    air = setup(FAST_ZK, [PrivateValueAir()]).verifying_key.compiled[0]
    f = 1 << FAST_ZK.log_final_poly_len
    assert [tall(FAST_ZK, log_n) for log_n in (6, 7)] == [False, True]  # m_r·F = 128 rows
    for log_n in (2, 3, 6, 7, 8, 12):
        n, d_big, b = 1 << log_n, 1 << committed_log_degree(FAST_ZK, log_n), committed_bound(FAST_ZK, log_n)
        e = hidden_length(FAST_ZK, log_n)
        assert e == n + m_r <= b <= d_big and d_big >= TINY_DEGREE_FACTOR * m_r
        assert d_big // 2 < max(e, TINY_DEGREE_FACTOR * m_r)  # the least such power of two
        assert d_big == 2 * n or n < TINY_DEGREE_FACTOR * m_r
        assert b == (n + n // f if tall(FAST_ZK, log_n) else d_big)
        assert lde_log(FAST_ZK, log_n) == (log_n if tall(FAST_ZK, log_n) else log2(d_big)) + FAST_ZK.log_blowup
        lay = QuotientLayout(FAST_ZK, air, log_n)
        # deg C ≤ d·(e − 1) + 1 (the transition selector counts 0 in air.py), deg Q ≤ that − n
        assert b - lay.size == m_t and lay.chunks * lay.size >= air.max_degree * (e - 1) + 2 - n
        assert (1 << lay.log_q) >= lay.bound >= air.max_degree * (e - 1) + 2 - n
        assert lay.chunks <= max(air.max_degree, 2)  # a tall table's ~(d − 1)·n/B + 1, a tiny one's ≤ 2
    assert committed_log_degree(FAST, 12) == 12 and hidden_length(FAST, 12) == 1 << 12


def test_randomness_is_a_function_of_secret_segment_and_label():
    a = ZkRandomness(b"k" * 32, 0)
    assert np.array_equal(a.field("x", (5, 3)), ZkRandomness(b"k" * 32, 0).field("x", (5, 3)))
    assert not np.array_equal(a.field("x", 15), a.field("y", 15))
    assert not np.array_equal(a.field("x", 15), ZkRandomness(b"k" * 32, 1).field("x", 15))
    values = a.field("many", 20000)
    assert values.max() < P and abs(values.mean() / P - 0.5) < 0.01  # uniform on [0, p)
    with pytest.raises(StarkConfigError):
        ZkRandomness(b"short")


def test_randomness_is_the_streams_words_below_p_in_order():
    """field(label, n): the label's keyed BLAKE3 XOF read as little-endian words, each cut to 31
    bits, those below p kept in order (rejection sampling), across XOF_CHUNK_WORDS reads."""
    import blake3
    import struct

    from pyzkvm.stark import zk

    n = 3 * zk.XOF_CHUNK_WORDS + 5
    stream = blake3.blake3(b"pyzkvm-zk-v1" + struct.pack("<Q", 2) + b"salt", key=b"k" * 32)
    words = np.frombuffer(stream.digest(length=8 * n), dtype="<u4") & np.uint32(0x7FFFFFFF)
    assert np.array_equal(ZkRandomness(b"k" * 32, 2, 3).field("salt", n), words[words < P][:n])


@pytest.mark.parametrize("words, room", [(100, 100), (100, 60), (100, 97), (100, 150), (7, 3), (0, 4), (50, 0)])
def test_keep_canonical_keeps_the_first_words_below_p_that_fit(words, room):
    """_keep_canonical: the words' low 31 bits below p, in order, as many as fit in ``out``
    (its room shorter, equal to or longer than the words; about a third of them ≥ p here)."""
    from pyzkvm.stark import zk

    w = np.random.default_rng(words * 1000 + room).integers(0, 1 << 32, words, dtype=np.uint64).astype(np.uint32)
    w[::3] |= np.uint32(0x7FFFFFFF)  # ≥ p after the cut to 31 bits
    low = w & np.uint32(0x7FFFFFFF)
    want = low[low < P][:room]
    out = np.full(room, 7, dtype=np.uint32)
    k = zk._keep_canonical(w, out)
    assert k == want.size and np.array_equal(out[:k], want)


def test_a_salt_matrix_hashes_and_opens_its_rows_block_by_block(monkeypatch):
    """field_rows gives field's elements in order, a few rows at a time (blocks of 7 rows
    here, a last one shorter; each copied, as the blocks share one buffer, valid until the
    next), and a SaltMatrix's digests (its rows themselves: a salt row is
    one digest, injected unhashed) and opened rows are those of its whole matrix
    (zk.SALT_BLOCK_ROWS rows of salt at a time; and kept whole when small)."""
    from pyzkvm.stark import zk

    rng = ZkRandomness(b"k" * 32, 0)
    blocks = [(lo, block.copy()) for lo, block in rng.field_rows("s", (40, SALT), 7)]
    assert [lo for lo, _ in blocks] == list(range(0, 40, 7))
    assert np.array_equal(np.concatenate([b for _, b in blocks]), rng.field("s", (40, SALT)))
    positions = np.array([39, 0, 16, 15, 16, 31])
    whole = rng.field("s", (40, SALT))
    monkeypatch.setattr(zk, "SALT_BLOCK_ROWS", 16)
    for keep in (0, 1 << 22):  # streamed in blocks; kept whole (a small salt)
        monkeypatch.setattr(zk, "KEEP_SALT_ELEMENTS", keep)
        salt = zk.SaltMatrix(rng, "s", 40)
        assert np.array_equal(salt.row_digests(), whole) and salt.digest_rows
        assert np.array_equal(np.concatenate([d.copy() for _lo, d in salt.digest_blocks()]), whole)
        assert np.array_equal(salt.rows(positions), whole[positions])
        assert (salt._kept is not None) == (keep > 0)
        assert np.array_equal(salt.values(), whole)


def test_a_streamed_salt_opens_its_rows_from_the_chunks_they_are_in(monkeypatch):
    """Once hashed, a streamed salt regenerates only the XOF chunks its opened rows fall in
    (chunks of 16 words here: ~20 of them, rows across chunk boundaries), the same rows."""
    from pyzkvm.stark import zk

    rng = ZkRandomness(b"k" * 32, 0)
    whole = rng.field("s", (40, SALT))
    monkeypatch.setattr(zk, "KEEP_SALT_ELEMENTS", 0)
    monkeypatch.setattr(zk, "XOF_CHUNK_WORDS", 16)
    salt = zk.SaltMatrix(rng, "s", 40)
    assert np.array_equal(np.concatenate([d.copy() for _lo, d in salt.digest_blocks()]), whole)
    assert salt._chunks is not None and len(salt._chunks) > 10
    positions = np.array([39, 0, 16, 15, 16, 31, 2])
    assert np.array_equal(salt.rows(positions), whole[positions])


def test_chunks_read_side_by_side_give_the_stream_read_in_turn(monkeypatch):
    """_Xof.keep_next_into reads the chunks a block needs side by side on the pool's threads
    (chunks of 16 words, every loop split, 3 threads here): field's elements, field_rows'
    blocks and the chunks a streamed salt records are those of one chunk at a time."""
    from pyzkvm.stark import pool, zk

    monkeypatch.setattr(zk, "XOF_CHUNK_WORDS", 16)
    rng = ZkRandomness(b"k" * 32, 0)
    batches = []
    read_side_by_side = zk._Xof.keep_chunks_into

    def counted(xof, out, k):
        batches.append(k)
        return read_side_by_side(xof, out, k)

    def made():
        chunks: list = []
        blocks = [b.copy() for _lo, b in rng.field_rows("s", (1000, SALT), 37, chunks)]
        return rng.field("t", 5000), np.concatenate(blocks), chunks

    monkeypatch.setattr(zk._Xof, "keep_next_into", lambda xof, out, need: xof.keep_into(out))
    in_turn = made()
    monkeypatch.undo()
    monkeypatch.setattr(zk, "XOF_CHUNK_WORDS", 16)
    monkeypatch.setattr(zk._Xof, "keep_chunks_into", counted)
    monkeypatch.setattr(pool, "threads", lambda: 3)
    monkeypatch.setattr(pool, "MIN_PARALLEL_WORK", 1)
    monkeypatch.setattr(pool, "MIN_CHUNK_WORK", 1)
    side_by_side = made()
    assert len(batches) > 10 and max(batches) >= 3  # the batches ran, several chunks each
    assert np.array_equal(side_by_side[0], in_turn[0]) and np.array_equal(side_by_side[1], in_turn[1])
    assert side_by_side[2] == in_turn[2] and len(in_turn[2]) > 500


# ---- proofs --------------------------------------------------------------------------------------


def test_two_hiding_proofs_differ_and_both_verify_and_a_seed_reproduces_one():
    pk = setup(FAST_ZK, [FibonacciAir()])
    trace, pv = fibonacci_trace(64, 3, 5)
    first, second = prove(pk, [trace], pv).to_bytes(), prove(pk, [trace], pv).to_bytes()
    assert first != second
    for proof in (first, second):
        verify(pk.verifying_key, proof, pv)
    seeded = prove(pk, [trace], pv, zk_seed=7).to_bytes()
    assert seeded == prove(pk, [trace], pv, zk_seed=7).to_bytes() != prove(pk, [trace], pv, zk_seed=8).to_bytes()
    decoded = decode_proof(seeded)
    # a salt row per distinct query position of the tree's top height: the one table's rows
    assert decoded.zk and all(rows[-1].shape == (rows[0].shape[0], SALT) and rows[0].shape[0] <= FAST_ZK.num_queries
                              for phase, (rows, _paths) in decoded.queries.items() if phase != "prep")


def test_fri_inputs_are_the_tables_lde_heights_only():
    """A hiding table's preprocessed group (n·blowup rows) is lifted into its table's D·blowup
    FRI input and a table without one adds no empty group below it (zk.prep_lde_log): FRI
    folds past n·blowup, with fewer layers than rolling those heights in took."""
    from pyzkvm.stark.examples.range_check import ByteTableAir, U16ValuesAir, range_check_traces
    from pyzkvm.stark.fri import layer_arities
    from pyzkvm.stark.zk import lde_log

    pk = setup(FAST_ZK, [U16ValuesAir(), ByteTableAir()])
    proof = decode_proof(prove(pk, range_check_traces(np.arange(0, 1 << 16, 1 << 10)), [], zk_seed=3).to_bytes())
    logs = [t.log_height for t in proof.tables]
    assert len(set(logs)) == 2  # two heights, one with preprocessed columns
    final = FAST_ZK.log_final_poly_len + FAST_ZK.log_blowup

    def layers(inputs):
        return len(layer_arities(inputs, final, FAST_ZK.log_fri_arity))

    lifted = {lde_log(FAST_ZK, l) for l in logs}
    rolled_in = lifted | {l + FAST_ZK.log_blowup for l in logs}
    assert len(proof.fri.layer_roots) == layers(lifted) < layers(rolled_in)


def test_a_changed_salt_value_is_rejected():
    """The salt rows enter the trees unhashed (zk.SaltMatrix.digest_rows): still bound, one
    changed salt element of any salted phase breaks its tree's path."""
    from pyzkvm.errors import MerklePathError
    from pyzkvm.stark.proof import encode_proof

    pk = setup(FAST_ZK, [FibonacciAir()])
    trace, pv = fibonacci_trace(64, 3, 5)
    for phase in ("main", "aux", "quotient"):
        proof = decode_proof(prove(pk, [trace], pv, zk_seed=3).to_bytes())
        if phase not in proof.queries:
            continue
        salt = proof.queries[phase][0][-1]
        salt[0, 0] = (int(salt[0, 0]) + 1) % P
        with pytest.raises(MerklePathError):
            verify(pk.verifying_key, encode_proof(proof)[0], pv)


def test_transparent_proofs_are_deterministic_and_modes_do_not_mix():
    pk = setup(FAST, [FibonacciAir()])
    pk_zk = setup(FAST_ZK, [FibonacciAir()])
    trace, pv = fibonacci_trace(64, 3, 5)
    plain = prove(pk, [trace], pv).to_bytes()
    assert plain == prove(pk, [trace], pv, zk_seed=7).to_bytes()  # no randomness: the seed changes nothing
    assert not decode_proof(plain).zk
    with pytest.raises(ProofShapeError, match="transparent proof for a hiding"):
        verify(pk_zk.verifying_key, plain, pv)
    with pytest.raises(ProofShapeError, match="hiding proof for a transparent"):
        verify(pk.verifying_key, prove(pk_zk, [trace], pv).to_bytes(), pv)


class QuarticAir(PrivateValueAir):
    """acc' = acc + c⁵ on transitions: degree 5, the most blowup 4 allows. Its hiding quotient
    has degree < 5·(n + m_r) − n ≈ 2·D (tall) and is cut into 3 chunks, evaluated on 5 cosets
    of n points (an r of D − n coefficients made it ≈ 4.5·D: 5 chunks, 9 cosets)."""

    name = "quartic"

    def constraints(self, b):
        c, acc = b.main(0), b.main(1)
        b.when_first_row().assert_zero(acc, "acc starts at 0")
        b.when_transition().assert_eq(b.main_next(0), c, "c is constant")
        b.when_transition().assert_eq(b.main_next(1), acc + c * c * c * c * c, "acc' = acc + c⁵")


@pytest.mark.parametrize("log_n", [5, 9])
def test_a_degree_5_table_in_hiding_mode(log_n):
    pk = setup(FAST_ZK, [QuarticAir()])
    c = pk.verifying_key.compiled[0]
    from pyzkvm.stark.zk import tall

    lay = QuotientLayout(FAST_ZK, c, log_n)
    assert c.max_degree == 5 and lay.log_q <= committed_log_degree(FAST_ZK, log_n) + FAST_ZK.log_blowup
    # 5 before r had m_r coefficients; a tall table's chunks have B − m_t = n + n/F − m_t
    # coefficients (F = 4 here), not 2n − m_t, and its LDE is n·blowup
    assert lay.chunks == (4 if tall(FAST_ZK, log_n) else 3)
    n, c4 = 1 << log_n, pow(7, 5, P)
    trace = np.stack([np.full(n, 7), np.arange(n) * c4 % P], axis=1).astype(np.uint32)
    verify(pk.verifying_key, prove(pk, [trace], []).to_bytes(), [])
    bad = trace.copy()
    bad[9, 1] = (int(bad[9, 1]) + 1) % P
    with pytest.raises(VerificationError):
        verify(pk.verifying_key, prove(pk, [bad], [], check_constraints_first=False).to_bytes(), [])


def test_hiding_proofs_of_tables_of_different_heights_with_buses_and_preprocessed_columns():
    rng = np.random.default_rng(2)
    pk = setup(FAST_ZK, [LeftAir(), RightAir()])
    traces = permutation_traces(rng.integers(0, P, 32), 256)
    assert verify(pk.verifying_key, prove(pk, traces, []).to_bytes(), []).log_heights == [5, 8]


def test_one_deep_mask_per_lde_height():
    """The DEEP mask R is committed once per LDE height, by the first present table of it
    (zk.deep_mask_holders): 32 and 64 rows share D = 128 (≥ 4·m_r, m_r = 32), so the second
    table's quotient has no mask columns, and the proof verifies."""
    from pyzkvm.stark.zk import deep_mask_holders

    assert deep_mask_holders(FAST_ZK, [5, None, 6, 8, 8]) == [True, False, False, True, False]
    assert deep_mask_holders(FAST, [5, 6]) == [False, False]
    rng = np.random.default_rng(3)
    pk = setup(FAST_ZK, [LeftAir(), RightAir()])
    proof = prove(pk, permutation_traces(rng.integers(0, P, 32), 64), [])
    widths = [4 * t.open_local["quotient"].shape[0] for t in proof.tables]  # one F_p^4 value per 4 base columns
    compiled = pk.verifying_key.proved
    assert widths == [QuotientLayout(FAST_ZK, compiled[0], 5).width, QuotientLayout(FAST_ZK, compiled[1], 6, False).width]
    assert widths[1] == 4 * QuotientLayout(FAST_ZK, compiled[1], 6).chunks
    assert verify(pk.verifying_key, proof.to_bytes(), []).log_heights == [5, 6]


# ---- the statistical test -------------------------------------------------------------------------


def opened_features(proof) -> dict:
    """Every value a verifier sees of the one table, by name: the out-of-domain openings
    (each F_p^4 coordinate), the first query's rows, the first FRI layer's first leaf and the
    final polynomial."""
    t = proof.tables[0]
    out = {}
    for where, groups in (("zeta", t.open_local), ("zeta*omega", t.open_next)):
        for g, values in groups.items():
            for k, v in enumerate(np.asarray(values).reshape(-1)):
                out[f"{g} at {where} #{k}"] = int(v)
    for phase, (rows, _paths) in proof.queries.items():
        for k, v in enumerate(np.asarray(rows[0])[0]):
            out[f"{phase} query row #{k}"] = int(v)
    for k, v in enumerate(np.asarray(proof.fri.layer_openings[0][0])[0]):
        out[f"FRI layer 0 #{k}"] = int(v)
    for k, v in enumerate(np.asarray(proof.fri.final_poly).reshape(-1)):
        out[f"final polynomial #{k}"] = int(v)
    return out


def chi2_sf(x: float, df: int) -> float:
    """P(X ≥ x) for a chi-square variable with df ∈ {1, 2, 3} degrees of freedom (closed forms)."""
    if df == 1:
        return math.erfc(math.sqrt(x / 2))
    if df == 2:
        return math.exp(-x / 2)
    return math.erfc(math.sqrt(x / 2)) + math.sqrt(2 * x / math.pi) * math.exp(-x / 2)


def homogeneity_p_value(a: list, b: list, bins: int = 4) -> float:
    """Chi-square test that two samples of field elements come from one distribution, on
    `bins` equal ranges of [0, p) (df = bins − 1 = 3). Degenerate (all in one bin) both: 1."""
    table = np.array([np.bincount(np.asarray(s, dtype=np.int64) * bins // P, minlength=bins) for s in (a, b)], float)
    cols = table.sum(axis=0)
    keep = cols > 0
    table, cols = table[:, keep], cols[keep]
    if table.shape[1] < 2:
        return 1.0
    expected = np.outer(table.sum(axis=1), cols) / cols.sum()
    stat = float(((table - expected) ** 2 / expected).sum())
    return chi2_sf(stat, table.shape[1] - 1)


def smallest_p_value(config, proofs_per_witness: int) -> tuple:
    """Prove the private-value statement with c = 3 and c = 5 (same public statement), and
    return the smallest homogeneity p-value over every opened value, with its name."""
    pk = setup(config, [PrivateValueAir()])
    samples = []
    for c in (3, 5):
        trace = private_value_trace(c)
        features = [opened_features(prove(pk, [trace], [], zk_seed=(c, i))) for i in range(proofs_per_witness)]
        samples.append({k: [f[k] for f in features] for k in features[0]})
    return min((homogeneity_p_value(samples[0][k], samples[1][k]), k) for k in samples[0])


#: significance of the whole test: 0.1%, Bonferroni-split over the opened values
ALPHA = 1e-3


@pytest.fixture
def one_thread():
    """Hundreds of proofs of an 8-row table: numba's thread pool costs more than it saves there
    (≈ 15× slower on two shared cores), so these run on one thread."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(before)


def test_hiding_openings_do_not_depend_on_the_private_value(one_thread):
    """200 hiding proofs per witness (fixed seeds, so the test is deterministic): no opened
    value's distribution differs between c = 3 and c = 5 at significance 0.1% overall."""
    p, name = smallest_p_value(FAST_ZK, 200)
    features = len(opened_features(prove(setup(FAST_ZK, [PrivateValueAir()]), [private_value_trace(3)], [], zk_seed=0)))
    assert p >= ALPHA / features, f"{name} differs between the witnesses (p = {p:.2e})"


def test_the_same_test_detects_the_witness_in_transparent_proofs(one_thread):
    """The control: transparent openings at ζ are the trace polynomials' values there, so
    the constant column opens to c itself: the test must reject."""
    p, name = smallest_p_value(FAST, 30)
    assert p < ALPHA / len(opened_features(prove(setup(FAST, [PrivateValueAir()]), [private_value_trace(3)], []))), f"no opened value told the witnesses apart (smallest p = {p:.2e} at {name})"
