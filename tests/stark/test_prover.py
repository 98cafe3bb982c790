"""Completeness: the three toy AIRs (and a bus balanced by public values) prove and verify;
one proof at the default ≥100-bit preset; presets and the security estimate."""

import math

import numpy as np
import pytest

from pyzkvm.errors import StarkConfigError
from pyzkvm.stark.field import P
from pyzkvm.stark import (DEFAULT, INSECURE_FAST_FOR_TESTS, PRESETS, Air, Proof, StarkConfig, preset, prove,
                          security_bits, setup, verify)
from pyzkvm.stark.examples.fibonacci import FibonacciAir, fibonacci_trace
from pyzkvm.stark.examples.permutation import LeftAir, RightAir, permutation_traces
from pyzkvm.stark.examples.range_check import ByteTableAir, U16ValuesAir, range_check_traces

FAST = INSECURE_FAST_FOR_TESTS


def fib_reference(n, a=0, b=1):
    x, y = a, b
    for _ in range(n - 1):
        x, y = y, (x + y) % 2013265921
    return y


def test_fibonacci_proves_and_verifies():
    pk = setup(FAST, [FibonacciAir()])
    trace, pv = fibonacci_trace(128, 3, 5)
    assert pv[2] == fib_reference(128, 3, 5)  # the witness generator against a plain loop
    steps = []
    proof = prove(pk, [trace], pv, progress=lambda step, frac: steps.append(step))
    for step in ("commit to trace data", "commit to quotient chunks", "open", "FRI commit", "FRI queries"):
        assert step in steps
    report = verify(pk.verifying_key, proof.to_bytes(), pv)
    assert report.log_heights == [7]
    assert report.security.bits == FAST.log_blowup * FAST.num_queries + FAST.pow_bits


def test_range_check_via_byte_table_lookup():
    rng = np.random.default_rng(1)
    values = rng.integers(0, 1 << 16, 128)
    values[:3] = [0, 0xFFFF, 0x0100]  # the edges
    pk = setup(FAST, [U16ValuesAir(), ByteTableAir()])
    proof = prove(pk, range_check_traces(values), [])
    verify(pk.verifying_key, proof.to_bytes(), [])
    # the preprocessed byte table lives in the verifying key; its root is fixed
    assert pk.verifying_key.prep_root is not None and pk.verifying_key.prep_log_heights == [None, 8]


def test_permutation_between_tables_of_different_heights():
    rng = np.random.default_rng(2)
    pk = setup(FAST, [LeftAir(), RightAir()])
    traces = permutation_traces(rng.integers(0, 2013265921, 32), 256)
    assert traces[0].shape[0] == 32 and traces[1].shape[0] == 256
    proof = prove(pk, traces, [])
    assert verify(pk.verifying_key, proof.to_bytes(), []).log_heights == [5, 8]


def test_released_tables_are_dropped_and_the_proofs_are_the_same():
    """joint.prove(release_tables=True), what StarkBackend.prove asks for: each segment's
    traces list is emptied once its main commitment exists (nothing but the prover holds the
    tables), and the proofs are byte for byte those made without it."""
    from pyzkvm.stark import joint

    rng = np.random.default_rng(3)
    pk = setup(FAST, [LeftAir(), RightAir()])
    for segments in (1, 2):  # a kept commitment; commitments rebuilt in step 3
        statements = [(list(permutation_traces(rng.integers(0, 2013265921, 16), 64)), []) for _ in range(segments)]
        kept = joint.prove(pk, [(list(t), pv) for t, pv in statements], check_constraints_first=False)
        released = joint.prove(pk, statements, release_tables=True)
        assert all(traces == [] for traces, _pv in statements)
        assert [p.to_bytes() for p in released] == [p.to_bytes() for p in kept]
        joint.verify(pk.verifying_key, [p.to_bytes() for p in released], [[]] * segments)


class PublicListAir(Air):
    """A column that must be a permutation of the 4 public values (bus balanced by the verifier's term)."""
    name = "public list"
    width = 1
    num_public_values = 4

    def constraints(self, b):
        b.declare_active(1)
        b.send("public list", [b.main(0)])

    def public_interactions(self, public_values, public_data=b""):
        return [("public list", [v], 1, -1) for v in public_values]


def test_bus_balanced_by_public_term():
    pk = setup(FAST, [PublicListAir()])
    pv = [7, 11, 7, 1000]
    proof = prove(pk, [np.array([[11], [7], [1000], [7]], dtype=np.uint32)], pv)
    verify(pk.verifying_key, proof.to_bytes(), pv)


def test_default_preset_end_to_end():
    pk = setup(DEFAULT, [FibonacciAir()])
    trace, pv = fibonacci_trace(256)
    data = prove(pk, [trace], pv).to_bytes()
    report = verify(pk.verifying_key, data, pv)
    assert report.security.bits >= 100
    assert Proof.from_bytes(data).to_bytes() == data


def test_security_estimate_terms():
    est = security_bits(DEFAULT, 22)  # 2^20 rows × blowup 4
    assert est.query_bits == 2 * 42 + 16
    assert math.isclose(est.field_bits, 4 * math.log2(2013265921) - 22)
    assert est.bits == min(est.query_bits, est.field_bits, 128) >= 100
    for name, cfg in PRESETS.items():
        if security_bits(cfg, 22).bits < 100:
            assert "insecure" in name
    assert preset("insecure_fast_for_tests") is FAST
    with pytest.raises(StarkConfigError):
        preset("nope")
    with pytest.raises(StarkConfigError):
        StarkConfig("bad", log_blowup=0, num_queries=10, pow_bits=0, log_final_poly_len=0)


def test_trace_shape_errors_are_typed():
    pk = setup(FAST, [FibonacciAir()])
    trace, pv = fibonacci_trace(16)
    with pytest.raises(StarkConfigError, match="power of two"):
        prove(pk, [trace[:12]], pv)
    with pytest.raises(StarkConfigError, match="shape"):
        prove(pk, [trace[:, :1]], pv)
    with pytest.raises(StarkConfigError, match="one per table"):
        prove(pk, [trace, trace], pv)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_value_outside_the_field_is_refused_wherever_it_is(threads, monkeypatch):
    """check_trace's value check: a large uint32 trace in blocks on the thread pool (each
    block's maximum), a signed or small one with numpy; p or more anywhere is refused."""
    from pyzkvm.stark import keys, pool

    monkeypatch.setattr(pool, "threads", lambda: threads)
    air = FibonacciAir()
    rows = 1 << (4 * keys.CANONICAL_BLOCK // air.width - 1).bit_length()  # a power of two: ≥ 4 blocks
    trace = np.random.default_rng(2).integers(0, P, (rows, air.width), dtype=np.int64).astype(np.uint32)
    assert keys.check_trace(air, trace) is trace
    for at in (0, keys.CANONICAL_BLOCK + 5, trace.size - 1):
        for bad in (P, 0xFFFFFFFF):
            wrong = trace.copy()
            wrong.reshape(-1)[at] = bad
            with pytest.raises(StarkConfigError, match="canonical"):
                keys.check_trace(air, wrong)
    with pytest.raises(StarkConfigError, match="canonical"):
        keys.check_trace(air, np.full((4, air.width), -1, dtype=np.int64))


class SelectorValuesAir(Air):
    """Uses the row selectors as values: a column equal to is_first_row, a bus entry with
    multiplicity is_last_row (received from the public term)."""
    name = "selector values"
    width = 2
    num_public_values = 1

    def constraints(self, b):
        flag, x = b.main(0), b.main(1)
        b.assert_eq(flag, b.is_first_row, "flag = is_first_row")
        b.declare_active(1)
        b.send("last x", [x], b.is_last_row)

    def public_interactions(self, public_values, public_data=b""):
        return [("last x", [public_values[0]], 1, -1)]


def test_selectors_are_exact_lagrange_values():
    pk = setup(FAST, [SelectorValuesAir()])
    trace = np.zeros((16, 2), dtype=np.uint32)
    trace[0, 0] = 1
    trace[:, 1] = np.arange(100, 116)
    proof = prove(pk, [trace], [115])
    verify(pk.verifying_key, proof.to_bytes(), [115])
    from pyzkvm.errors import ConstraintNotSatisfied, VerificationError
    with pytest.raises(ConstraintNotSatisfied, match="does not balance"):
        prove(pk, [trace], [114])
    with pytest.raises(VerificationError):
        verify(pk.verifying_key, proof.to_bytes(), [114])


class PublicBytesAir(Air):
    """A column that must list the public data's bytes, in order, on its active rows: the
    verifier's entries (i, data[i]) come from public_data as one array-valued entry."""
    name = "public bytes"
    width = 3  # active, position, byte

    def constraints(self, b):
        b.assert_bool(b.main(0), "active is boolean")
        b.declare_active(b.main(0))
        b.send("public bytes", [b.main(1), b.main(2)], b.main(0))

    def public_interactions(self, public_values, public_data=b""):
        data = np.frombuffer(public_data, dtype=np.uint8)
        return [("public bytes", [np.arange(len(data)), data.astype(np.int64)], 1, -1)] if len(data) else []


def test_variable_length_public_data_balances_a_bus():
    pk = setup(FAST, [PublicBytesAir()])
    data = b"hello, journal"
    trace = np.zeros((16, 3), dtype=np.uint32)
    trace[: len(data), 0] = 1
    trace[: len(data), 1] = np.arange(len(data))
    trace[: len(data), 2] = np.frombuffer(data, dtype=np.uint8)
    proof = prove(pk, [trace], [], public_data=data).to_bytes()
    verify(pk.verifying_key, proof, [], public_data=data)
    from pyzkvm.errors import ConstraintNotSatisfied, VerificationError
    for other in (b"hello, journaL", data[:-1], data + b"!", b""):
        with pytest.raises(VerificationError):
            verify(pk.verifying_key, proof, [], public_data=other)
    with pytest.raises(ConstraintNotSatisfied, match="public bytes"):
        prove(pk, [trace], [], public_data=b"hello, journaL")
