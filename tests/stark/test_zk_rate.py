"""Hiding mode's tall tables (zk.tall): FRI's final polynomial has F + 1 coefficients, so FRI
proves each input of h·blowup points close to degree < h + h/F, and a table of n ≥ F·m_r rows
is committed on n·blowup points with degree bound B = n + n/F (docs/stark.md, "Zero
knowledge", item 6). Attacks on those bounds, and the security term at rate (F + 1)/(F·blowup)."""

import math

import numpy as np
import pytest

from pyzkvm.errors import FriQueryError, ProofShapeError
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS_ZK as FAST_ZK, PRESETS, fri, prove, rounds, setup, verify
from pyzkvm.stark.domain import coset_shift
from pyzkvm.stark.examples.permutation import LeftAir, RightAir, permutation_traces
from pyzkvm.stark.field import P
from pyzkvm.stark.ntt import coset_lde_from_coefficients
from pyzkvm.stark.proof import decode_proof
from pyzkvm.stark.transcript import Transcript
from pyzkvm.stark.zk import committed_bound, final_poly_len, tall

LOG_FINAL, LOG_BLOWUP = 2, 2  # F = 4, blowup 4: the final codeword has 16 entries, the polynomial 5


def codeword_of_degree(degree: int, log_size: int) -> np.ndarray:
    """A codeword on D_log_size (bit-reversed) of a random F_p^4 polynomial of exactly ``degree``."""
    rng = np.random.default_rng(degree)
    coeffs = np.zeros((1 << log_size, 4), dtype=np.uint32)
    coeffs[:degree + 1] = rng.integers(0, P, (degree + 1, 4), dtype=np.uint32)
    coeffs[degree, 0] = max(int(coeffs[degree, 0]), 1)  # the top coefficient nonzero
    return coset_lde_from_coefficients(coeffs, 0, coset_shift(log_size))


def hiding_fri(inputs: dict, final_len: int) -> None:
    """Prove FRI with a final polynomial of ``final_len`` coefficients and verify it, as hiding
    mode does (zk.final_poly_len: F + 1), 16 queries."""
    final_size = LOG_FINAL + LOG_BLOWUP
    t = Transcript(b"rate-test")
    prover = fri.FriProver()
    prover.commit_phase(inputs, final_size, final_len, t, 2)
    log_max = max(inputs)
    nonce, idx = rounds.query_positions(t, 2, 16, log_max)
    proof = fri.FriProof(prover.roots, prover.final_poly, nonce, prover.open_queries(np.asarray(idx, np.int64)))
    assert proof.final_poly.shape == (final_len, 4)
    v = Transcript(b"rate-test")
    betas, taus = fri.draw_fold_challenges(v, proof, set(inputs), fri.layer_arities(set(inputs), final_size, 2))
    _, vidx = rounds.query_positions(v, 2, 16, log_max, nonce=proof.pow_nonce)
    fri.verify_queries(proof, betas, vidx, {h: cw[vidx >> (log_max - h)] for h, cw in inputs.items()}, final_size, taus)


def test_fri_with_f_plus_one_final_coefficients_bounds_inputs_by_h_plus_h_over_f():
    """An input of h·blowup points (h = 2^7, F = 4): degree h + h/F − 1 = 159 passes, degree
    h + h/F = 160 (one past the bound) is caught by the last fold, and so is degree h with
    transparent mode's F final coefficients — the bound is the final length's doing. With a
    second input rolled in at h/4: the same bound, h/4 + h/(4F), for it."""
    h, f = 1 << 7, 1 << LOG_FINAL
    log_size = 7 + LOG_BLOWUP
    hiding_fri({log_size: codeword_of_degree(h + h // f - 1, log_size)}, f + 1)
    with pytest.raises(FriQueryError, match="final polynomial"):
        hiding_fri({log_size: codeword_of_degree(h + h // f, log_size)}, f + 1)
    with pytest.raises(FriQueryError, match="final polynomial"):
        hiding_fri({log_size: codeword_of_degree(h, log_size)}, f)
    low = log_size - 2
    top = codeword_of_degree(h + h // f - 1, log_size)
    hiding_fri({log_size: top, low: codeword_of_degree(h // 4 + h // (4 * f) - 1, low)}, f + 1)
    with pytest.raises(FriQueryError, match="final polynomial"):
        hiding_fri({log_size: top, low: codeword_of_degree(h // 4 + h // (4 * f), low)}, f + 1)


def tall_table_proof(monkeypatch, extra_degree: int | None):
    """A hiding proof of the permutation pair (32 and 256 rows; 256 ≥ F·m_r = 128: tall) whose
    256-row table's first main column, f̂, gets Z_H·x^k·c added (k = extra_degree − n: zero on H,
    so the trace, the constraints and the LogUp sums are unchanged, and deg f̂ = extra_degree)."""
    from pyzkvm.stark import prover as prover_module

    honest = prover_module._hide

    def patched(coefficients, n, rng, label, m_r):
        out = honest(coefficients, n, rng, label, m_r)
        if label == "main 1" and extra_degree is not None:
            k = extra_degree - n
            out[k, 0] = (int(out[k, 0]) + P - 7) % P   # − x^k·c
            out[n + k, 0] = (int(out[n + k, 0]) + 7) % P  # + x^(n+k)·c
        return out

    monkeypatch.setattr(prover_module, "_hide", patched)
    # f̂ on H for the LogUp trace, its committed LDE, and the DEEP codeword, from all its
    # coefficient rows (an honest prover reads n + m_r, n + m_r and B of them)
    monkeypatch.setattr(prover_module._Table, "main_trace",
                        lambda t: prover_module.ntt_of_folded(t.main_lde.coefficients, t.log_n))

    class EveryRow(prover_module.LdeSource):
        def __init__(self, *args, rows=None, **kwargs):
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(prover_module, "LdeSource", EveryRow)
    monkeypatch.setattr(prover_module, "_nonzero_rows", lambda cfg, t: t.main_lde.coefficients.shape[0])
    pk = setup(FAST_ZK, [LeftAir(), RightAir()])
    traces = permutation_traces(np.random.default_rng(4).integers(0, P, 32), 256)
    return pk, prove(pk, traces, [], zk_seed=5, check_constraints_first=False).to_bytes()


def test_a_tall_tables_column_above_its_bound_fails_fri(monkeypatch):
    """With the AIR check at ζ switched off (it catches the quotient's lost coefficients
    first), FRI alone rejects a tall table's committed column of degree B + 1 (B = n + n/F =
    320): its DEEP quotient (f̂ − v)/(x − ζ) has degree B, one past FRI's bound at n·blowup —
    and passes one of degree B − 1. (FRI bounds the DEEP quotient, so it gives deg f̂ ≤ B, as
    it gave deg f̂ ≤ D before: the DEEP-ALI argument's bound, docs/stark.md.)"""
    from pyzkvm.stark import verifier as verifier_module

    assert tall(FAST_ZK, 8) and not tall(FAST_ZK, 5) and committed_bound(FAST_ZK, 8) == 320
    monkeypatch.setattr(verifier_module, "_check_ood", lambda *args: None)
    pk, inside = tall_table_proof(monkeypatch, 319)
    assert verify(pk.verifying_key, inside, []).log_heights == [5, 8]
    pk, above = tall_table_proof(monkeypatch, 321)
    with pytest.raises(FriQueryError, match="final polynomial"):
        verify(pk.verifying_key, above, [])


def test_the_verifier_takes_only_f_plus_one_final_coefficients():
    """A hiding proof's final polynomial has F + 1 coefficients; one with F (transparent
    mode's) or F + 2 is refused before any fold."""
    pk = setup(FAST_ZK, [LeftAir(), RightAir()])
    proof = prove(pk, permutation_traces(np.random.default_rng(6).integers(0, P, 32), 256), [], zk_seed=2)
    f = 1 << FAST_ZK.log_final_poly_len
    assert proof.fri.final_poly.shape == (f + 1, 4) == (final_poly_len(FAST_ZK, FAST_ZK.log_final_poly_len), 4)
    honest = proof.fri.final_poly
    for final in (honest[:f], np.concatenate([honest, honest[:1]])):
        forged = decode_proof(proof.to_bytes())
        forged.fri.final_poly = np.ascontiguousarray(final)
        with pytest.raises(ProofShapeError, match="final polynomial"):
            verify(pk.verifying_key, forged.to_bytes(), [])


def test_hiding_presets_count_the_rate_of_f_plus_one_coefficients():
    """Every hiding preset's query term is queries·log2(1/ρ) + pow_bits with
    ρ = (F + 1)/(F·blowup), and its field term loses log2((F + 1)/F); a transparent preset's
    are log2(blowup)·queries + pow_bits and log2|F_p^4| − LDE. (Every secure preset keeps
    ≥ 100 bits at its worst case: tests/stark/test_security.py, with these terms.)"""
    from pyzkvm.stark.config import EXTENSION_FIELD_BITS, security_bits
    from pyzkvm.stark.zk import lde_log

    for cfg in PRESETS.values():
        lde = lde_log(cfg, cfg.log_height_limit)
        est = security_bits(cfg, lde)
        f = 1 << cfg.log_final_poly_len
        rate = (f + 1) / (f * cfg.blowup) if cfg.zk else 1 / cfg.blowup
        assert est.query_bits == pytest.approx(cfg.num_queries * math.log2(1 / rate) + cfg.pow_bits)
        assert est.field_bits == pytest.approx(EXTENSION_FIELD_BITS - lde - (math.log2((f + 1) / f) if cfg.zk else 0))
        if cfg.zk and "insecure" not in cfg.name:
            assert cfg.log_final_poly_len == 6 and 100.0 <= est.query_bits < 101  # one PoW bit (two at blowup 2) over


def test_a_tall_and_a_short_table_of_one_lde_height_share_the_tall_ones_deep_mask():
    """A short table of 64 rows (D = 128) and a tall one of 128 (committed on 128·blowup
    points) share an LDE height; its DEEP mask, of degree < the largest bound there (B = 160),
    is held by the tall table though the short one comes first (zk.deep_mask_holders), and the
    proof verifies."""
    from pyzkvm.stark.zk import QuotientLayout, deep_mask_holders, lde_log

    assert lde_log(FAST_ZK, 6) == lde_log(FAST_ZK, 7) and not tall(FAST_ZK, 6) and tall(FAST_ZK, 7)
    assert committed_bound(FAST_ZK, 6) == 128 < committed_bound(FAST_ZK, 7) == 160
    assert deep_mask_holders(FAST_ZK, [6, 7]) == [False, True]
    assert deep_mask_holders(FAST_ZK, [7, None, 6, 8]) == [True, False, False, True]
    pk = setup(FAST_ZK, [LeftAir(), RightAir()])
    proof = prove(pk, permutation_traces(np.random.default_rng(7).integers(0, P, 64), 128), [], zk_seed=3)
    compiled = pk.verifying_key.proved
    widths = [4 * t.open_local["quotient"].shape[0] for t in proof.tables]
    assert widths == [QuotientLayout(FAST_ZK, compiled[0], 6, False).width, QuotientLayout(FAST_ZK, compiled[1], 7).width]
    report = verify(pk.verifying_key, proof.to_bytes(), [])
    assert report.log_heights == [6, 7]
    # verify's recomputed estimate counts rate (F + 1)/(F·blowup) = 5/16
    assert report.security.query_bits == pytest.approx(FAST_ZK.num_queries * math.log2(16 / 5) + FAST_ZK.pow_bits)
