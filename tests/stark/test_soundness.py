"""Soundness by attack: invalid witnesses are named by the debug check and forced proofs fail;
every section of a valid proof resists byte flips; wrong public values are rejected. Every
attack runs on transparent and on hiding (zero-knowledge, stark/zk.py) proofs."""

import copy
import re

import numpy as np
import pytest

from pyzkvm.errors import (ConstraintNotSatisfied, FriQueryError, MerklePathError, OodEvaluationMismatch, ProofFormatError,
                           ProofShapeError, PublicValueMismatch, StarkConfigError, VerificationError)
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, INSECURE_FAST_FOR_TESTS_ZK, encode_proof, prove, setup, verify
from pyzkvm.stark.examples.fibonacci import FibonacciAir, fibonacci_trace
from pyzkvm.stark.examples.range_check import ByteTableAir, U16ValuesAir, range_check_traces
from pyzkvm.stark.field import P
from pyzkvm.stark.proof import Proof



@pytest.fixture(scope="module", params=[INSECURE_FAST_FOR_TESTS, INSECURE_FAST_FOR_TESTS_ZK],
                ids=["transparent", "hiding"])
def mode(request):
    return request.param


@pytest.fixture(scope="module")
def fib(mode):
    pk = setup(mode, [FibonacciAir()])
    trace, pv = fibonacci_trace(64)
    return pk, trace, pv


@pytest.mark.parametrize("row,col,name", [
    (0, 0, "x starts at a"),        # first-row constraint
    (20, 1, "y' = x + y"),          # transition constraint (row 19 → 20 breaks first)
    (63, 1, "y' = x + y"),          # last row: the transition into it breaks
])
def test_broken_witness_is_named_and_forced_proof_fails(fib, row, col, name):
    pk, trace, pv = fib
    bad = trace.copy()
    bad[row, col] = (int(bad[row, col]) + 1) % P
    with pytest.raises(ConstraintNotSatisfied, match=re.escape(f"'{name}' fails at row {max(row - 1, 0)}")):
        prove(pk, [bad], pv)
    forced = prove(pk, [bad], pv, check_constraints_first=False)
    with pytest.raises(VerificationError):
        verify(pk.verifying_key, forced.to_bytes(), pv)


def test_wrong_public_value_is_rejected(fib):
    pk, trace, pv = fib
    data = prove(pk, [trace], pv).to_bytes()
    verify(pk.verifying_key, data, pv)
    for k in range(3):
        wrong = list(pv)
        wrong[k] = (wrong[k] + 1) % P
        with pytest.raises(VerificationError):
            verify(pk.verifying_key, data, wrong)
    with pytest.raises(PublicValueMismatch):
        verify(pk.verifying_key, data, pv[:2])
    with pytest.raises(PublicValueMismatch):
        verify(pk.verifying_key, data, [pv[0], pv[1], P])


def test_forged_final_value_needs_a_false_statement(fib):
    # a proof for a different result: the prover lies about the last row (forced)
    pk, trace, pv = fib
    lie = list(pv)
    lie[2] = (lie[2] + 5) % P
    with pytest.raises(ConstraintNotSatisfied, match="y ends at the result"):
        prove(pk, [trace], lie)
    forced = prove(pk, [trace], lie, check_constraints_first=False)
    with pytest.raises(OodEvaluationMismatch):
        verify(pk.verifying_key, forced.to_bytes(), lie)


def test_byte_flips_in_every_section_are_rejected(mode):
    # a proof with every section populated: two tables, preprocessed columns, a LogUp bus
    rng = np.random.default_rng(7)
    pk = setup(mode, [U16ValuesAir(), ByteTableAir()])
    proof = prove(pk, range_check_traces(rng.integers(0, 1 << 16, 16)), [])
    data, marks = encode_proof(proof)
    verify(pk.verifying_key, data, [])
    assert set(marks) == {"header", "commitments", "ood_openings", "trace_queries", "fri"}
    flips = 0
    for start, end in marks.values():
        positions = set(rng.integers(start, end, 5).tolist()) | {start, end - 1}
        for pos in sorted(positions):
            for mask in (0x01, 0x80):
                bad = bytearray(data)
                bad[pos] ^= mask
                with pytest.raises((ProofFormatError, VerificationError)):
                    verify(pk.verifying_key, bytes(bad), [])
                flips += 1
    assert flips >= 5 * 2 * 2


def test_a_false_preprocessed_opening_fails_fri_without_the_ood_check(monkeypatch, mode):
    """The DEEP terms bind the claimed preprocessed values at ζ and ζω to the key's columns
    on their own: with the AIR check at ζ switched off, a prover that claims a wrong value of
    the byte table's column (hiding mode: that group lives on n·blowup rows, lifted into the
    table's D·blowup FRI input, fri.lift) is caught by FRI's last fold; the honest proof passes."""
    from pyzkvm.stark import prover as prover_module, verifier as verifier_module

    rng = np.random.default_rng(9)
    pk = setup(mode, [U16ValuesAir(), ByteTableAir()])
    traces = range_check_traces(rng.integers(0, 1 << 16, 16))
    monkeypatch.setattr(verifier_module, "_check_ood", lambda *args: None)
    verify(pk.verifying_key, prove(pk, traces, [], zk_seed=1).to_bytes(), [])
    honest = prover_module._prep_openings

    def lying(*args):
        at_z, at_zn = honest(*args)
        at_z = at_z.copy()
        at_z[:1, 0] = (at_z[:1, 0].astype(np.int64) + 1) % P  # the first column's claim at ζ, off by one
        return at_z, at_zn

    monkeypatch.setattr(prover_module, "_prep_openings", lying)
    forged = prove(pk, traces, [], zk_seed=1, check_constraints_first=False)
    with pytest.raises(FriQueryError, match="last fold"):
        verify(pk.verifying_key, forged.to_bytes(), [])


def test_truncated_proofs_and_edited_multiproofs_are_typed_errors(mode):
    """A proof cut short anywhere is a ProofFormatError; a multiproof with a node the verifier
    computes itself sent anyway, or a needed one left out, is a MerklePathError (trace trees
    and FRI layers alike) — one-line messages, never a traceback."""
    rng = np.random.default_rng(8)
    pk = setup(mode, [U16ValuesAir(), ByteTableAir()])
    proof = prove(pk, range_check_traces(rng.integers(0, 1 << 16, 16)), [])
    data = proof.to_bytes()
    for cut in (len(data) - 1, len(data) // 2, len(data) // 7, 12):
        with pytest.raises(ProofFormatError, match="truncated") as info:
            verify(pk.verifying_key, data[:cut], [])
        assert "\n" not in str(info.value)

    def edited(where, change):  # at the first level that sends a digest
        p = Proof.from_bytes(data)
        rows, mp = p.queries["main"] if where == "main" else p.fri.layer_openings[0]
        mp = copy.deepcopy(mp)
        level = next(k for k, lv in enumerate(mp.levels) if lv.shape[0])
        mp.levels[level] = change(mp.levels[level])
        if where == "main":
            p.queries["main"] = (rows, mp)
        else:
            p.fri.layer_openings[0] = (rows, mp)
        return p.to_bytes()

    # a table's rows are one per distinct position: a row more or fewer is refused
    for change in (lambda r: np.vstack([r[:1], r]), lambda r: r[1:]):
        p = Proof.from_bytes(data)
        rows, mp = p.queries["main"]
        p.queries["main"] = ([change(rows[0])] + rows[1:], mp)
        with pytest.raises((MerklePathError, ProofShapeError)) as info:
            verify(pk.verifying_key, p.to_bytes(), [])
        assert "\n" not in str(info.value)

    for where in ("main", "fri"):
        extra = edited(where, lambda lv: np.vstack([lv[:1], lv]))      # one digest too many
        fewer = edited(where, lambda lv: lv[1:])                      # one too few
        wrong = edited(where, lambda lv: lv ^ np.uint32(1))           # wrong siblings
        for bad in (extra, fewer, wrong):
            with pytest.raises(MerklePathError) as info:
                verify(pk.verifying_key, bad, [])
            assert "\n" not in str(info.value)


@pytest.mark.parametrize("also_fix_running_sum", [False, True])
def test_prover_that_fakes_the_logup_total_is_caught(monkeypatch, mode, also_fix_running_sum):
    # The byte table claims one extra lookup; a cheating prover then shifts its LogUp total so
    # that the buses balance (and optionally rewrites the running sum's last row to match).
    import pyzkvm.stark.prover as prover_module
    from pyzkvm.stark import ext, pool
    from pyzkvm.stark.logup import build_aux_trace

    rng = np.random.default_rng(8)
    pk = setup(mode, [U16ValuesAir(), ByteTableAir()])
    traces = range_check_traces(rng.integers(0, 1 << 16, 16))
    traces[1] = traces[1].copy()
    traces[1][5, 0] += 1
    totals = []

    def cheating_build(compiled, leaves, n, alpha, gamma):
        aux, cumsum, per_interaction = build_aux_trace(compiled, leaves, n, alpha, gamma)
        totals.append(cumsum)
        if compiled.air.name == "byte table":  # built last: make Σ totals = 0
            cumsum = ext.ext_sub(cumsum, ext.ext_add(totals[0], totals[1]))
            if also_fix_running_sum:
                aux = aux.copy()
                aux[n - 1, -1] = ext.ext_sub(cumsum, ext.ext_sum(aux[n - 1, :-1]))  # S + Σ h = total
        return aux, cumsum, per_interaction

    monkeypatch.setattr(prover_module, "build_aux_trace", cheating_build)
    # the tables' LogUp traces one after another in proof order, as on one thread (on several, all
    # but the largest are side by side, the tallest first: prover._each_table), so the byte table's is last
    monkeypatch.setattr(pool, "threads", lambda: 1)
    forced = prove(pk, traces, [], check_constraints_first=False)
    with pytest.raises(VerificationError) as err:
        verify(pk.verifying_key, forced.to_bytes(), [])
    assert "balance" not in str(err.value)  # the bus check passes; the AIR identity does not


def test_debug_check_alone_names_constraints_and_buses(fib):
    from pyzkvm.stark import debug_check

    pk, trace, pv = fib
    debug_check(pk, [trace], pv)
    bad = trace.copy()
    bad[30, 0] = (int(bad[30, 0]) + 1) % P
    with pytest.raises(ConstraintNotSatisfied, match=re.escape("'x' = y' fails at row 29")):
        debug_check(pk, [bad], pv)
    pk2 = setup(INSECURE_FAST_FOR_TESTS, [U16ValuesAir(), ByteTableAir()])
    traces = range_check_traces(np.arange(16) * 1000)
    debug_check(pk2, traces, [])
    traces[1] = traces[1].copy()
    traces[1][3, 0] += 1
    with pytest.raises(ConstraintNotSatisfied, match="'byte'"):
        debug_check(pk2, traces, [], seed=1)


def test_debug_check_names_the_first_failing_table_in_proof_order(fib, monkeypatch):
    """On two threads the tables are checked side by side, the tallest first: with a short table
    and a tall one both failing, the one named is still the first in proof order."""
    from pyzkvm.stark import pool
    from pyzkvm.stark.debug import check_all_constraints

    pk, trace, pv = fib
    c = pk.verifying_key.compiled[0]
    short = trace.copy()
    short[30, 0] = (int(short[30, 0]) + 1) % P
    tall = fibonacci_trace(256)[0].copy()
    tall[100, 0] = (int(tall[100, 0]) + 1) % P
    order = []
    run_tasks = pool.side_by_side
    monkeypatch.setattr(pool, "side_by_side", lambda tasks: order.append(len(tasks)) or run_tasks(tasks))
    for threads in (1, 2):
        monkeypatch.setattr(pool, "threads", lambda threads=threads: threads)
        with pytest.raises(ConstraintNotSatisfied, match=re.escape("'x' = y' fails at row 29")):
            check_all_constraints([c, c], [None, None], [([short, tall], pv)])
        with pytest.raises(ConstraintNotSatisfied, match=re.escape("'x' = y' fails at row 99")):
            check_all_constraints([c, c], [None, None], [([tall, short], pv)])
    assert order == [2, 2, 2, 2]
    # a later table's malformed input does not hide an earlier table's failing constraint, and an
    # earlier one's hides a later failure, as in turn (tables after a malformed one are not checked)
    for threads in (1, 2):
        monkeypatch.setattr(pool, "threads", lambda threads=threads: threads)
        with pytest.raises(ConstraintNotSatisfied, match=re.escape("'x' = y' fails at row 29")):
            check_all_constraints([c], [None], [([short], pv), ([tall[:48]], pv)])
        with pytest.raises(StarkConfigError, match="48 rows"):
            check_all_constraints([c], [None], [([tall[:48]], pv), ([short], pv)])


def test_joint_verify_refuses_what_is_not_a_statement(fib):
    """Arguments of the wrong kind are a typed error, and a public value that is not an integer
    is refused, not truncated (int(1.9) was 1: fuzzing, session 24)."""
    from pyzkvm.errors import PublicValueMismatch, UsageError
    from pyzkvm.stark.joint import verify as verify_joint

    pk, trace, public_values = fib
    proof = prove(pk, [trace], public_values).to_bytes()
    for args in ((None, [public_values], b""), ([proof], None, b""), ([proof], [public_values], "abc"),
                 ([proof], [public_values], None)):
        with pytest.raises(UsageError):
            verify_joint(pk.verifying_key, *args)
    floats = [float(v) + 0.9 for v in public_values]
    with pytest.raises(PublicValueMismatch, match="integers"):
        verify_joint(pk.verifying_key, [proof], [floats], b"")
