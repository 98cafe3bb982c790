"""Optional tables (stark/optional.py): an empty optional table is left out of the proof.

The statement: a Fibonacci table (never optional: its first row is tied to public values)
beside a sender and a receiver on one permutation bus, both optional. Proved with the two
bus tables empty, the proof leaves them out, verifies and is smaller; the same statement with
them present (all zero, or holding balanced values) verifies too. Attacks: leaving out a
table whose AIR is not optional, flipping the presence of a table in the proof, leaving out
an optional table that was needed (its bus does not balance), and an AIR that claims to be
optional while its zero table breaks a constraint or a bus."""

import numpy as np
import pytest

from pyzkvm.errors import (BusImbalance, ConstraintNotSatisfied, ProofFormatError, ProofShapeError, StarkConfigError,
                           VerificationError)
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, INSECURE_FAST_FOR_TESTS_ZK, Air, decode_proof, prove, setup, verify
from pyzkvm.stark import joint, optional
from pyzkvm.stark.examples.fibonacci import FibonacciAir, fibonacci_trace
from pyzkvm.stark.examples.permutation import PERM_BUS, LeftAir, RightAir
from pyzkvm.stark.examples.range_check import ByteTableAir
from pyzkvm.stark.proof import TableProof, encode_proof, phase_members
from pyzkvm.stark.zk import SALT, QuotientLayout

SENDER, RECEIVER = 1, 2  # table indices in the statement


class OptionalSender(Air):
    """(value, active): sends value on the permutation bus where active."""

    name, width, optional = "optional sender", 2, True

    def constraints(self, b):
        value, active = b.main_row()
        b.assert_bool(active, "active is boolean")
        b.declare_active(active)
        b.send(PERM_BUS, [value], active)


class Sender(OptionalSender):  # the same AIR, not optional: the same verifying key (below)
    optional = False


class OptionalReceiver(RightAir):
    name, optional = "optional receiver", True


@pytest.fixture(scope="module", params=[INSECURE_FAST_FOR_TESTS, INSECURE_FAST_FOR_TESTS_ZK],
                ids=["transparent", "hiding"])
def statement(request):
    pk = setup(request.param, [FibonacciAir(), OptionalSender(), OptionalReceiver()])
    fib, pv = fibonacci_trace(16)
    empty = [fib, np.zeros((4, 2), np.uint32), np.zeros((8, 2), np.uint32)]
    return pk, empty, pv


def balanced(empty):
    """The same statement with the bus tables in use: 3 values sent and received."""
    sender = np.zeros((4, 2), np.uint32)
    sender[:3] = [[5, 1], [7, 1], [9, 1]]
    receiver = np.zeros((8, 2), np.uint32)
    receiver[[6, 1, 3]] = [[5, 1], [9, 1], [7, 1]]
    return [empty[0], sender, receiver]


def keep_every_table(monkeypatch):
    """The prover without the rule: every table present (what a proof was before optional tables)."""
    monkeypatch.setattr(optional, "left_out", lambda compiled, trace: False)
    monkeypatch.setattr(joint, "left_out", lambda compiled, trace: False)


def test_empty_optional_tables_are_left_out_and_the_proof_is_smaller(statement, monkeypatch):
    pk, empty, pv = statement
    absent = prove(pk, empty, pv)
    assert [t.log_height for t in absent.tables] == [4, None, None]
    report = verify(pk.verifying_key, absent.to_bytes(), pv)
    assert report.log_heights == [4, None, None]
    keep_every_table(monkeypatch)
    present = prove(pk, empty, pv)  # the same statement, the zero tables proved
    assert [t.log_height for t in present.tables] == [4, 2, 3]
    verify(pk.verifying_key, present.to_bytes(), pv)
    assert len(absent.to_bytes()) < len(present.to_bytes())


def test_used_optional_tables_are_present_and_verify(statement):
    pk, empty, pv = statement
    proof = prove(pk, balanced(empty), pv)
    assert [t.log_height for t in proof.tables] == [4, 2, 3]
    verify(pk.verifying_key, proof.to_bytes(), pv)


def test_segments_leave_out_different_tables_and_balance_jointly(statement):
    """A joint statement (joint.py): segment 1 sends (its receiver left out), segment 2
    receives (its sender left out); the bus balances over both proofs."""
    pk, empty, pv = statement
    sender_only, receiver_only = balanced(empty), balanced(empty)
    sender_only[RECEIVER] = np.zeros_like(sender_only[RECEIVER])
    receiver_only[SENDER] = np.zeros_like(receiver_only[SENDER])
    proofs = joint.prove(pk, [(sender_only, pv), (receiver_only, pv)])
    assert [[t.log_height for t in p.tables] for p in proofs] == [[4, 2, None], [4, None, 3]]
    reports = joint.verify(pk.verifying_key, [p.to_bytes() for p in proofs], [pv, pv])
    assert [r.log_heights for r in reports] == [[4, 2, None], [4, None, 3]]
    with pytest.raises(BusImbalance):  # either proof alone leaves the bus unbalanced
        joint.verify(pk.verifying_key, [proofs[0].to_bytes()], [pv])


def test_a_table_left_out_must_be_optional_in_the_verifiers_key(statement):
    pk, empty, pv = statement
    data = prove(pk, empty, pv).to_bytes()
    strict = setup(pk.verifying_key.config, [FibonacciAir(), Sender(), OptionalReceiver()]).verifying_key
    assert strict.digest == pk.verifying_key.digest  # `optional` is no part of the statement's key
    with pytest.raises(ProofShapeError, match="'optional sender' is left out of the proof, but it is not optional"):
        verify(strict, data, pv)


def test_a_prover_that_leaves_out_a_non_optional_table_is_rejected(statement, monkeypatch):
    pk, empty, pv = statement
    strict = setup(pk.verifying_key.config, [FibonacciAir(), Sender(), OptionalReceiver()])
    cheat = lambda compiled, trace: not np.any(trace)  # noqa: E731 - ignores `optional`
    monkeypatch.setattr(optional, "left_out", cheat)
    monkeypatch.setattr(joint, "left_out", cheat)
    data = prove(strict, empty, pv).to_bytes()
    assert decode_proof(data).tables[SENDER].log_height is None
    with pytest.raises(ProofShapeError, match="not optional"):
        verify(strict.verifying_key, data, pv)


def test_a_present_table_marked_left_out_is_rejected(statement, monkeypatch):
    pk, empty, pv = statement
    keep_every_table(monkeypatch)
    proof = decode_proof(prove(pk, empty, pv).to_bytes())
    # the mask says "left out"; its openings and query rows are dropped, its columns stay in the trees
    positions = {phase: phase_members(proof.tables, phase).index(RECEIVER) for phase in ("main", "aux", "quotient")}
    proof.tables[RECEIVER] = TableProof.left_out()
    for phase, k in positions.items():
        del proof.queries[phase][0][k]
    with pytest.raises(VerificationError):
        verify(pk.verifying_key, encode_proof(proof)[0], pv)


def test_a_left_out_table_marked_present_is_rejected(statement):
    pk, empty, pv = statement
    proof = decode_proof(prove(pk, empty, pv).to_bytes())
    # claim a zero table of 2^3 rows is present: zero openings and query rows of the right shapes
    cfg = pk.verifying_key.config
    widths = {"prep": 0, "main": 2, "aux": 8, "quotient": QuotientLayout(cfg, pk.verifying_key.compiled[RECEIVER], 3).width}
    zeros = lambda w: np.zeros((w, 4), np.uint32)  # noqa: E731
    proof.tables[RECEIVER] = TableProof(3, True, False, zeros(1)[0], {g: zeros(w) for g, w in widths.items()},
                                        {g: zeros(w) for g, w in widths.items() if g != "quotient"})
    queries = cfg.num_queries
    if "aux" not in proof.queries:  # no other table has LogUp columns: forge an aux tree's opening too
        salt = [np.zeros((queries, SALT), np.uint32)] if proof.zk else []
        proof.queries["aux"], proof.aux_root = (salt, proof.queries["main"][1]), proof.main_root
    for phase in ("main", "aux", "quotient"):
        k = phase_members(proof.tables, phase).index(RECEIVER)
        proof.queries[phase][0].insert(k, np.zeros((queries, widths[phase]), np.uint32))
    with pytest.raises(VerificationError):
        verify(pk.verifying_key, encode_proof(proof)[0], pv)


def test_a_flipped_presence_byte_is_rejected(statement):
    pk, empty, pv = statement
    data = bytearray(prove(pk, empty, pv).to_bytes())
    header = len(b"PZKSTARK") + 4  # magic, version, table count; then (log height, flags) per table
    for table, edit in [(RECEIVER, (3, 1)),  # left out → claimed present (height 2^3, with aux)
                        (RECEIVER, (0, 0)),  # a malformed mark
                        (0, (0, 4))]:        # the Fibonacci table → claimed left out
        bad = bytearray(data)
        bad[header + 2 * table: header + 2 * table + 2] = bytes(edit)
        with pytest.raises((VerificationError, ProofFormatError)):
            verify(pk.verifying_key, bytes(bad), pv)


def test_leaving_out_a_needed_optional_table_breaks_the_bus(statement):
    pk, empty, pv = statement
    traces = balanced(empty)
    traces[RECEIVER] = np.zeros_like(traces[RECEIVER])  # the sender's values reach nobody
    with pytest.raises(ConstraintNotSatisfied, match="'perm' does not balance"):
        prove(pk, traces, pv)
    forced = prove(pk, traces, pv, check_constraints_first=False)
    assert forced.tables[RECEIVER].log_height is None
    with pytest.raises(BusImbalance):
        verify(pk.verifying_key, forced.to_bytes(), pv)


def test_a_proof_of_nothing_is_refused(statement):
    pk, empty, pv = statement
    only_optional = setup(pk.verifying_key.config, [OptionalSender(), OptionalReceiver()])
    with pytest.raises(StarkConfigError, match="nothing to prove"):
        prove(only_optional, empty[1:], [])
    proof = decode_proof(prove(only_optional, balanced(empty)[1:], []).to_bytes())
    proof.tables = [TableProof.left_out(), TableProof.left_out()]
    proof.queries, proof.aux_root = {}, None
    with pytest.raises((ProofShapeError, ProofFormatError)):
        verify(only_optional.verifying_key, encode_proof(proof)[0], [])


class OptionalFibonacci(FibonacciAir):
    optional = True


class OptionalLeft(LeftAir):  # every row sends, active or not: its zero table sends zeros
    optional = True


class OptionalByteTable(ByteTableAir):
    optional = True


@pytest.mark.parametrize("air,match", [
    (OptionalFibonacci, r"'fibonacci' is marked optional.*'x starts at a' fails at row 0"),
    (OptionalLeft, r"'left' is marked optional.*multiplicity of its send #0 on bus 'perm' is not 0"),
    (OptionalByteTable, r"'byte table' is marked optional but has preprocessed columns"),
])
def test_setup_refuses_an_optional_air_whose_zero_table_is_not_trivial(air, match):
    with pytest.raises(StarkConfigError, match=match):
        setup(INSECURE_FAST_FOR_TESTS, [air()])
