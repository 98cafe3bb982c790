"""Hiding mode's blinding ring (stark/blind.py): each table's LogUp total no longer confirms a
guessed witness, the ring still balances (also across segments), and breaking it or the
totals is rejected."""

import numpy as np
import pytest

import pyzkvm.stark.prover as prover_module
from pyzkvm.errors import BusImbalance, ConstraintNotSatisfied, VerificationError
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS as FAST, INSECURE_FAST_FOR_TESTS_ZK as FAST_ZK, setup
from pyzkvm.stark import blind
from pyzkvm.stark.field import P
from pyzkvm.stark.examples.permutation import LeftAir, RightAir, permutation_traces
from pyzkvm.stark.joint import log_heights, prove as prove_joint, verify as verify_joint
from pyzkvm.stark import logup
from pyzkvm.stark.logup import build_aux_trace
from pyzkvm.stark.proof import decode_proof, encode_proof
from pyzkvm.stark.rounds import joint_bus_challenges
from pyzkvm.stark.tape import plain_inputs

#: two runs of one public statement ("left and right hold the same multiset") that differ
#: only in one private value
RUN_A = [11, 22, 33, 44]
RUN_B = [11, 22, 33, 45]


def run_traces(values):
    return permutation_traces(values, 8)


def proof_totals(proof) -> list:
    return [np.asarray(t.cumsum) for t in proof.tables]


def guessed_totals(pk, proof, guess) -> list:
    """What an attacker computes: the transparent per-table totals of a guessed witness under
    the proof's own bus challenges (replayed from its main root, as the verifier does)."""
    vk = pk.verifying_key
    traces = run_traces(guess)
    bus = joint_bus_challenges(vk, [np.zeros(0, np.uint32)], [log_heights(vk, traces)], [proof.main_root], b"",
                               pow_nonce=proof.bus_pow_nonce)
    return [build_aux_trace(c, plain_inputs(t, None, np.zeros(0, np.uint32)), t.shape[0], bus.alpha, bus.gamma)[1]
            for c, t in zip(vk.compiled, traces)]


def matches(a: list, b: list) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_transparent_totals_confirm_the_guessed_witness():
    """The leak, shown where it is not closed: a transparent proof's totals equal the
    recomputed totals of the right guess and not of the wrong one."""
    pk = setup(FAST, [LeftAir(), RightAir()])
    proof = prove_joint(pk, [(run_traces(RUN_A), [])])[0]
    assert matches(proof_totals(proof), guessed_totals(pk, proof, RUN_A))
    assert not matches(proof_totals(proof), guessed_totals(pk, proof, RUN_B))


def test_hiding_totals_match_no_guess_and_differ_between_proofs_of_one_run():
    pk = setup(FAST_ZK, [LeftAir(), RightAir()])
    vk = pk.verifying_key
    first, second = (prove_joint(pk, [(run_traces(RUN_A), [])])[0] for _ in range(2))
    for proof in (first, second):
        verify_joint(vk, [proof], [[]])
        for guess in (RUN_A, RUN_B):
            totals, guessed = proof_totals(proof), guessed_totals(pk, proof, guess)
            assert not any(np.array_equal(x, y) for x, y in zip(totals, guessed))
    assert not any(np.array_equal(x, y) for x, y in zip(proof_totals(first), proof_totals(second)))
    # the totals still sum to −(public term) = 0 here: the ring's terms cancel
    assert not np.any(np.sum([t.astype(np.int64) for t in proof_totals(first)], axis=0) % P)


def test_the_ring_columns_are_in_the_proved_air_only():
    """The circuit digest (image ID) names the chips' AIRs in both modes; the hiding key proves
    them with the ring's 4 columns and 1 interaction on the 'zk blind' bus (send ρ on the first
    row, receive σ on the last: multiplicity is_first_row − is_last_row)."""
    airs = [LeftAir(), RightAir()]
    plain, hiding = setup(FAST, airs).verifying_key, setup(FAST_ZK, airs).verifying_key
    assert plain.circuit_digest == hiding.circuit_digest and plain.digest != hiding.digest
    assert plain.proved is plain.compiled
    for base, proved in zip(hiding.compiled, hiding.proved):
        assert proved.air.width == base.air.width + blind.BLIND_COLUMNS
        extra = proved.interactions[len(base.interactions):]
        assert [(it.bus_name, it.sign, len(it.values)) for it in extra] == [(blind.BLIND_BUS, 1, 4)]


def test_the_ring_closes_over_the_segments_of_a_statement():
    """Two hiding segments: each verifies only jointly, and one segment's totals alone do not
    balance (the ring runs through both), unlike transparent segments whose own buses do."""
    statements = [(run_traces(RUN_A), []), (run_traces(RUN_B), [])]
    for cfg, alone_balances in ((FAST, True), (FAST_ZK, False)):
        pk = setup(cfg, [LeftAir(), RightAir()])
        proofs = prove_joint(pk, statements)
        verify_joint(pk.verifying_key, proofs, [[], []])
        segment_sum = np.sum([t.astype(np.int64) for t in proof_totals(proofs[0])], axis=0) % P
        assert (not np.any(segment_sum)) == alone_balances


def test_a_broken_ring_does_not_balance(monkeypatch):
    """σ of one table is not its predecessor's ρ: the 'zk blind' bus is unbalanced and the
    verifier refuses the proof (the prover's own check refuses to make it first)."""
    honest = blind.ring_values

    def broken(rng, indices):
        rho, sigma = honest(rng, indices)
        sigma = sigma.copy()
        sigma[1, 0] = (int(sigma[1, 0]) + 1) % P
        return rho, sigma

    monkeypatch.setattr(prover_module, "ring_values", broken)
    pk = setup(FAST_ZK, [LeftAir(), RightAir()])
    with pytest.raises(ConstraintNotSatisfied, match="do not balance"):
        prove_joint(pk, [(run_traces(RUN_A), [])])
    proof = prove_joint(pk, [(run_traces(RUN_A), [])], check_constraints_first=False)[0]
    with pytest.raises(BusImbalance):
        verify_joint(pk.verifying_key, [proof], [[]])


@pytest.mark.parametrize("keep_sum", [False, True], ids=["one total", "two totals, same sum"])
def test_a_tampered_total_is_rejected(keep_sum):
    """Changing a table's total breaks the balance; changing two so that their sum stays
    breaks the table's running-sum constraint at ζ (the total is bound to its aux columns)."""
    pk = setup(FAST_ZK, [LeftAir(), RightAir()])
    proof = decode_proof(encode_proof(prove_joint(pk, [(run_traces(RUN_A), [])])[0])[0])
    delta = np.array([1, 0, 0, 0], dtype=np.uint32)
    proof.tables[0].cumsum = (proof.tables[0].cumsum + delta) % P
    if keep_sum:
        proof.tables[1].cumsum = (proof.tables[1].cumsum + P - delta) % P
    with pytest.raises(BusImbalance if not keep_sum else VerificationError):
        verify_joint(pk.verifying_key, [proof], [[]])


def test_the_security_estimate_counts_the_ring_entries():
    """One more interaction per row of every table (height × 1, like every interaction)."""
    from pyzkvm.stark import security_bits
    from pyzkvm.stark.verifier import statement_security

    airs = [LeftAir(), RightAir()]
    plain, hiding = setup(FAST, airs).verifying_key, setup(FAST_ZK, airs).verifying_key
    heights = [5, 8]
    entries = (1 << 5) + (1 << 8)  # left sends every row, right receives every row
    ring = (1 << 5) + (1 << 8)
    assert statement_security(plain, [heights], []).logup_bits == \
        security_bits(FAST, 8 + FAST.log_blowup, bus_entries=entries, bus_width=2).logup_bits
    assert statement_security(hiding, [heights], []).logup_bits == \
        security_bits(FAST_ZK, 8 + FAST_ZK.log_blowup, bus_entries=entries + ring, bus_width=5).logup_bits


def test_blinded_air_copied_from_its_chip_is_the_one_compiled_from_scratch():
    """blind.blinded copies the chip's recorded DAG (air.replay_recorded) instead of running its
    constraints again: the result must be the very DAG a fresh compile of the BlindedAir
    records — same digest (so the same key and proofs), constraints, groups and booleans."""
    from pyzkvm.machine import machine_airs
    from pyzkvm.stark.air import compile_air
    from pyzkvm.stark.keys import air_digest

    chips = {a.name: a for a in machine_airs()}
    for chip in (chips["cpu"], chips["load/store"], LeftAir()):
        copied = blind.blinded(compile_air(chip, 5), 5)
        ring = blind.BlindedAir(chip)
        fresh = compile_air(ring, 5, framework_interactions=ring.ring_interactions)
        assert air_digest(copied) == air_digest(fresh)
        assert [c.name for c in copied.all_constraints] == [c.name for c in fresh.all_constraints]
        assert copied.interaction_groups == fresh.interaction_groups
        assert copied.num_aux_columns == fresh.num_aux_columns
        assert copied.builder.booleans == fresh.builder.booleans
        assert [n.degree for n in copied.builder.nodes] == [n.degree for n in fresh.builder.nodes]
        assert all(n.builder is copied.builder for n in copied.builder.nodes)


def test_replaying_into_a_builder_that_already_holds_nodes_is_refused():
    from pyzkvm.errors import StarkConfigError
    from pyzkvm.stark.air import AirBuilder, compile_air, replay_recorded

    source = compile_air(LeftAir(), 5)
    b = AirBuilder(LeftAir())
    b.main(0) + 1  # a node the recording does not start with
    with pytest.raises(StarkConfigError, match="cannot replay"):
        replay_recorded(source, b)


# ---- the ring's entries are the running sum's boundaries (logup.boundary_interaction) ----------


def ring_table(alpha=None, gamma=None):
    """LeftAir's blinded twin on RUN_A with random ρ (row 0) and σ (last row): (compiled, trace,
    α, γ, the F_p^4 challenges and public inputs for tape.plain_inputs)."""
    from pyzkvm.stark.air import compile_air

    rng = np.random.default_rng(7)
    compiled = blind.blinded(compile_air(LeftAir(), 5), 5)
    left = run_traces(RUN_A)[0]
    rho, sigma = (rng.integers(0, P, blind.RING_VALUE).astype(np.uint32) for _ in range(2))
    trace = np.concatenate([left, blind.ring_columns(left.shape[0], rho, sigma)], axis=1)
    alpha = rng.integers(0, P, 4).astype(np.uint32) if alpha is None else alpha
    gamma = rng.integers(0, P, 4).astype(np.uint32) if gamma is None else gamma
    return compiled, trace, alpha, gamma


def check_logup(compiled, trace, alpha, gamma, aux, cumsum):
    from pyzkvm.stark.debug import check_constraints

    inputs = plain_inputs(trace, None, np.zeros(0, np.uint32), aux=aux, challenges=np.stack([alpha, gamma]),
                          cumsum=cumsum)
    check_constraints(compiled, inputs, trace.shape[0], "logup")


def ring_term(compiled, trace, row, alpha, gamma):
    """1/(α − fp(v)) of the ring's values on ``row``."""
    from pyzkvm.stark import ext
    from pyzkvm.stark.air import bus_id

    w = compiled.air.base.width
    powers = ext.ext_powers(gamma, blind.RING_VALUE + 1)[1:]
    fp = ext.ext_add(np.array([bus_id(blind.BLIND_BUS), 0, 0, 0], np.uint32),
                     ext.ext_sum([ext.ext_mul_base(powers[j], trace[row, w + j]) for j in range(blind.RING_VALUE)]))
    return ext.ext_inv(ext.ext_sub(alpha, fp))


def test_the_ring_needs_no_helper_column_and_its_entries_are_the_running_sums_ends():
    """The blinded AIR has the chip's aux columns; S_0 = 1/d(ρ), and the total is the chip's
    own total + 1/d(ρ) − 1/d(σ); the honest columns satisfy the LogUp constraints."""
    from pyzkvm.stark import ext
    from pyzkvm.stark.air import compile_air

    compiled, trace, alpha, gamma = ring_table()
    chip = compile_air(LeftAir(), 5)
    assert compiled.num_aux_columns == chip.num_aux_columns
    assert compiled.max_degree == max(chip.max_degree, 3)
    aux, cumsum, totals = build_aux_trace(compiled, plain_inputs(trace, None, np.zeros(0, np.uint32)),
                                          trace.shape[0], alpha, gamma)
    per_bus = logup.bus_totals(compiled, totals)
    n = trace.shape[0]
    first, last = ring_term(compiled, trace, 0, alpha, gamma), ring_term(compiled, trace, n - 1, alpha, gamma)
    assert np.array_equal(aux[0, -1], first)
    own = build_aux_trace(chip, plain_inputs(trace[:, :chip.air.width], None, np.zeros(0, np.uint32)), n, alpha,
                          gamma)[1]
    assert np.array_equal(cumsum, ext.ext_sub(ext.ext_add(own, first), last))
    assert np.array_equal(per_bus[blind.BLIND_BUS], ext.ext_sub(first, last))
    check_logup(compiled, trace, alpha, gamma, aux, cumsum)


@pytest.mark.parametrize("end", ["first", "last"])
def test_a_running_sum_without_a_ring_entry_is_caught(end):
    """A prover that leaves ρ's entry out of S (S_0 = 0, every S shifted) or σ's out of the
    total breaks the boundary constraint of that end."""
    from pyzkvm.stark import ext

    compiled, trace, alpha, gamma = ring_table()
    aux, cumsum, _ = build_aux_trace(compiled, plain_inputs(trace, None, np.zeros(0, np.uint32)), trace.shape[0],
                                     alpha, gamma)
    if end == "first":
        start = ring_term(compiled, trace, 0, alpha, gamma)
        aux[:, -1] = ext.ext_sub(aux[:, -1], start)
        cumsum = ext.ext_sub(cumsum, start)  # still the sum of what S accumulates
        with pytest.raises(ConstraintNotSatisfied, match="starts at the first row's entry.*row 0"):
            check_logup(compiled, trace, alpha, gamma, aux, cumsum)
    else:
        cumsum = ext.ext_add(cumsum, ring_term(compiled, trace, trace.shape[0] - 1, alpha, gamma))
        with pytest.raises(ConstraintNotSatisfied, match="ends at the table's total"):
            check_logup(compiled, trace, alpha, gamma, aux, cumsum)


def test_a_wrong_sigma_under_the_right_total_is_caught():
    """σ changed in the trace while the aux columns and total are those of the right σ: the
    last row's constraint (S + Σh − total)·d(σ) = 1 fails."""
    compiled, trace, alpha, gamma = ring_table()
    aux, cumsum, _ = build_aux_trace(compiled, plain_inputs(trace, None, np.zeros(0, np.uint32)), trace.shape[0],
                                     alpha, gamma)
    wrong = trace.copy()
    wrong[-1, compiled.air.base.width] = (int(wrong[-1, compiled.air.base.width]) + 1) % P
    with pytest.raises(ConstraintNotSatisfied, match="ends at the table's total"):
        check_logup(compiled, wrong, alpha, gamma, aux, cumsum)


def test_a_ring_value_whose_fingerprint_is_alpha_cannot_be_proved():
    """d(ρ) = 0 (α equal to ρ's fingerprint): the prover refuses, and no running sum satisfies
    S_0·d(ρ) = 1 — whatever S_0 is, row 0's constraint is −1 (as a helper's h·d = μ was)."""
    from pyzkvm.stark import ext
    from pyzkvm.stark.air import compile_air

    compiled, trace, alpha, gamma = ring_table()
    alpha = ext.ext_sub(alpha, ext.ext_inv(ring_term(compiled, trace, 0, alpha, gamma)))  # α − d(ρ): d(ρ) = 0
    with pytest.raises(ConstraintNotSatisfied, match="equals the challenge"):
        build_aux_trace(compiled, plain_inputs(trace, None, np.zeros(0, np.uint32)), trace.shape[0], alpha, gamma)
    # the chip's honest helpers, S from any S_0, the honest total: only row 0 can fail
    chip = compile_air(LeftAir(), 5)
    aux, own, _ = build_aux_trace(chip, plain_inputs(trace[:, :chip.air.width], None, np.zeros(0, np.uint32)),
                                  trace.shape[0], alpha, gamma)
    for start in (ext.ZERO, np.array([1, 2, 3, 4], np.uint32)):
        shifted = aux.copy()
        shifted[:, -1] = ext.ext_add(shifted[:, -1], start)
        cumsum = ext.ext_sub(ext.ext_add(own, start), ring_term(compiled, trace, trace.shape[0] - 1, alpha, gamma))
        with pytest.raises(ConstraintNotSatisfied, match="starts at the first row's entry.*fails at row 0 .1 failing"):
            check_logup(compiled, trace, alpha, gamma, shifted, cumsum)


def test_an_air_without_other_buses_keeps_the_rings_helper_and_its_degree():
    """Folding the ring into S's ends makes degree-3 constraints: an AIR of degree 2 with no
    bus of its own keeps the ring's lone helper column (degree 2) instead; one with a bus
    folds it and has its chip's aux columns."""
    from pyzkvm.stark.air import compile_air
    from pyzkvm.stark.examples.fibonacci import FibonacciAir

    fib = blind.blinded(compile_air(FibonacciAir(), 5), 5)
    assert fib.max_degree == 2 and fib.interaction_groups == [[0]] and fib.num_aux_columns == 2
    left_chip = compile_air(LeftAir(), 5)
    left = blind.blinded(left_chip, 5)
    assert left.interaction_groups == left_chip.interaction_groups
    assert left.num_aux_columns == left_chip.num_aux_columns
