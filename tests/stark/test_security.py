"""The security accounting (config.py) and the checks behind its terms: the proof of work
before the bus challenges, the p-entries limit, the presets' worst cases, and the verifier
reporting the estimate it recomputed (never a number it was handed).

Oracles: the formula written out by hand from its sources (config.py docstring); the machine
AIR's shape counted directly from its compiled interactions."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from pyzkvm.errors import PowError, ProofShapeError, StarkConfigError
from pyzkvm.stark import DEFAULT, INSECURE_FAST_FOR_TESTS as FAST, PRESETS, prove, security_bits, setup, verify
from pyzkvm.stark.config import EXTENSION_FIELD_BITS, MAX_BUS_ENTRIES
from pyzkvm.stark.examples.range_check import ByteTableAir, U16ValuesAir, range_check_traces
from pyzkvm.stark.joint import prove as prove_joint, verify as verify_joint
from pyzkvm.stark.proof import Proof
from pyzkvm.stark.security import machine_shape, worst_case
from pyzkvm.stark.verifier import statement_security

P = 2013265921
F = 4 * math.log2(P)
#: a quick preset that grinds before the bus challenges (8 bits: ~256 hashes)
GRIND = dataclasses.replace(FAST, name="insecure_grinding_for_tests", bus_pow_bits=8)


def test_the_formula_term_by_term():
    est = security_bits(DEFAULT, 23, bus_entries=1 << 24, bus_width=21, constraints=510)
    assert dict(est.terms) == pytest.approx({
        "FRI queries+PoW": 2 * 42 + 16,
        "DEEP/FRI field": F - 23,
        "constraint batching": F - math.log2(510),
        "LogUp": F - math.log2((1 << 24) * 22) + 16,   # ε ≤ N·(w+1)/|F|, times 2^16 work per try
        "hash": 128,
    })
    assert est.bits == min(b for _n, b in est.terms) == pytest.approx(100.0)  # the queries; the field term 100.6
    assert est.limiting == "FRI queries+PoW"
    for name, _bits in est.terms:
        assert name in str(est)
    # without grinding, 2^24 entries would leave the LogUp term at ~95 bits (issue 14's example)
    assert security_bits(FAST, 23, bus_entries=1 << 24, bus_width=21).logup_bits == pytest.approx(95.2, abs=0.1)
    with pytest.raises(StarkConfigError):
        security_bits(DEFAULT, 20, bus_entries=P, bus_width=2)


def test_every_secure_preset_keeps_100_bits_at_its_largest_heights():
    """At the tallest table a preset allows and the most bus entries a verifier accepts
    (p − 1), with the machine's widest tuple and all its constraints."""
    width, constraints = machine_shape()
    assert 2 <= width <= 1 << 8 and constraints > 100  # DEFAULT's 16 bus PoW bits cover tuples up to 2^8 wide
    for name, cfg in PRESETS.items():
        est = worst_case(cfg, width, constraints)
        if "insecure" not in name:
            assert est.bits >= 100, (name, str(est))
            assert cfg.max_log_height is not None
        else:
            assert est.bits < 100
    assert DEFAULT.log_height_limit == 21
    assert width == 51  # the field chips' `field value` bus: clk, slot, 48 limbs (BLS12-381, machine.md §2.11), the bus id
    assert worst_case(DEFAULT, width, constraints).logup_bits == pytest.approx(F - math.log2(MAX_BUS_ENTRIES * (width + 1)) + 16)


def test_taller_tables_than_the_preset_allows_are_refused():
    strict = dataclasses.replace(FAST, name="insecure_short_for_tests", max_log_height=4)
    pk = setup(strict, [U16ValuesAir(), ByteTableAir()])  # the byte table has 2^8 rows
    with pytest.raises(StarkConfigError, match="taller than preset"):
        prove(pk, range_check_traces(np.arange(16)), [])
    # and a verifier with that limit refuses a proof made without it
    loose = setup(FAST, [U16ValuesAir(), ByteTableAir()])
    data = prove(loose, range_check_traces(np.arange(16)), []).to_bytes()
    vk = dataclasses.replace(loose.verifying_key, config=strict)
    with pytest.raises(ProofShapeError, match="out of range"):
        verify(vk, data, [])


def test_the_verifier_reports_the_estimate_it_recomputed():
    pk = setup(FAST, [U16ValuesAir(), ByteTableAir()])
    traces = range_check_traces(np.arange(16) * 1000)
    report = verify(pk.verifying_key, prove(pk, traces, []).to_bytes(), [])
    vk = pk.verifying_key
    entries = sum(len(c.interactions) * t.shape[0] for c, t in zip(vk.compiled, traces))
    width = max(1 + len(it.values) for c in vk.compiled for it in c.interactions)
    assert report.security == security_bits(FAST, 8 + FAST.log_blowup, bus_entries=entries, bus_width=width,
                                            constraints=sum(len(c.all_constraints) for c in vk.compiled))


def test_a_statement_of_p_bus_entries_is_refused():
    """LogUp multiplicities are field elements: counts must not wrap modulo p."""
    vk = setup(FAST, [U16ValuesAir(), ByteTableAir()]).verifying_key
    per_row = sum(len(c.interactions) for c in vk.compiled)
    # k proofs of two 2^25-row tables: k·2^25·(interactions) entries ≥ p
    k = -(-P // (per_row << 25))
    with pytest.raises(ProofShapeError, match="bus entries"):
        statement_security(vk, [[25, 25]] * k, [], b"")
    assert statement_security(vk, [[25, 25]] * (k - 1), [], b"").logup_bits > 0


def test_the_bus_proof_of_work_is_checked():
    pk = setup(GRIND, [U16ValuesAir(), ByteTableAir()])
    proof = prove(pk, range_check_traces(np.arange(16) * 1000), [])
    verify(pk.verifying_key, proof.to_bytes(), [])
    bad = Proof.from_bytes(proof.to_bytes())
    bad.bus_pow_nonce ^= 1
    with pytest.raises(PowError):
        verify(pk.verifying_key, bad.to_bytes(), [])


def test_joint_statements_grind_once_and_share_the_nonce():
    pk = setup(GRIND, [U16ValuesAir(), ByteTableAir()])
    statements = [(range_check_traces(np.arange(16) * k), []) for k in (3, 5)]
    proofs = prove_joint(pk, statements)
    assert len({p.bus_pow_nonce for p in proofs}) == 1
    data = [p.to_bytes() for p in proofs]
    reports = verify_joint(pk.verifying_key, data, [[], []])
    # the estimate counts both proofs' entries under the one challenge pair
    single = verify(setup(FAST, [U16ValuesAir(), ByteTableAir()]).verifying_key,
                    prove(setup(FAST, [U16ValuesAir(), ByteTableAir()]), statements[0][0], []).to_bytes(), [])
    assert reports[0].security.logup_bits == pytest.approx(single.security.logup_bits - 1 + GRIND.bus_pow_bits)
    for k in range(2):
        bad = [Proof.from_bytes(d) for d in data]
        bad[k].bus_pow_nonce ^= 1
        with pytest.raises(PowError):
            verify_joint(pk.verifying_key, [b.to_bytes() for b in bad], [[], []])
    assert F == pytest.approx(EXTENSION_FIELD_BITS)
