"""Completeness across shapes: tiny and tall tables side by side, every preset family,
degree-3 constraints under blowup 2, and a table that only reads preprocessed columns."""

import numpy as np
import pytest

from pyzkvm.errors import VerificationError
from pyzkvm.stark import BLOWUP2_100_BITS, INSECURE_FAST_FOR_TESTS, INSECURE_FAST_FOR_TESTS_ZK, Air, StarkConfig, prove, \
    setup, verify
from pyzkvm.stark.examples.fibonacci import FibonacciAir, fibonacci_trace
from pyzkvm.stark.field import P

# same shapes as the 100-bit presets, few queries: fast, and says so
BLOWUP2_INSECURE = StarkConfig("blowup2_insecure_for_tests", log_blowup=1, num_queries=10, pow_bits=2,
                               log_final_poly_len=3)
BLOWUP8_INSECURE = StarkConfig("blowup8_insecure_for_tests", log_blowup=3, num_queries=6, pow_bits=0,
                               log_final_poly_len=0)


class CubeChain(Air):
    """x' = x³ + k·s on transitions, s a boolean selector column; sends x to a bus that a
    second table receives (degree 3 constraints under blowup 2)."""
    name = "cube chain"
    width = 2

    def constraints(self, b):
        x, s = b.main(0), b.main(1)
        b.assert_bool(s, "s is boolean")
        b.declare_active(1)
        b.when_transition().assert_eq(b.main_next(0), x * x * x + 7 * s, "x' = x^3 + 7s")
        b.send("chain", [x, s])


class ChainSink(Air):
    name = "chain sink"
    width = 3

    def constraints(self, b):
        x, s, m = b.main_row()
        b.declare_active(1)  # m counts
        b.receive("chain", [x, s], m)


def chain_traces(log_n, log_sink, seed):
    rng = np.random.default_rng(seed)
    n = 1 << log_n
    short_sink = log_sink < log_n  # then use the fixed point x = 1, s = 0: one distinct tuple
    s = np.zeros(n, dtype=np.int64) if short_sink else rng.integers(0, 2, n)
    x = np.empty(n, dtype=object)
    x[0] = 1 if short_sink else int(rng.integers(0, P))
    for i in range(1, n):  # the reference recurrence on Python ints
        x[i] = (x[i - 1] ** 3 + 7 * int(s[i - 1])) % P
    chain = np.stack([x.astype(np.int64), s], axis=1).astype(np.uint32)
    sink = np.zeros((1 << log_sink, 3), dtype=np.uint32)
    pairs, counts = np.unique(chain, axis=0, return_counts=True)
    assert len(pairs) <= sink.shape[0]
    sink[:len(pairs), :2] = pairs
    sink[:len(pairs), 2] = counts
    return [chain, sink]


@pytest.mark.parametrize("config", [INSECURE_FAST_FOR_TESTS, BLOWUP2_INSECURE, BLOWUP8_INSECURE], ids=lambda c: c.name)
@pytest.mark.parametrize("log_n,log_sink", [(2, 6), (7, 3), (5, 5)])
def test_degree3_chain_with_bus(config, log_n, log_sink):
    pk = setup(config, [CubeChain(), ChainSink(), FibonacciAir()])
    fib, pv = fibonacci_trace(4)
    traces = chain_traces(log_n, log_sink, seed=log_n) + [fib]
    data = prove(pk, traces, pv).to_bytes()
    report = verify(pk.verifying_key, data, pv)
    assert report.log_heights == [log_n, log_sink, 2]
    bad = traces[0].copy()
    bad[-1, 0] = (int(bad[-1, 0]) + 1) % P  # breaks the last transition and unbalances the bus
    with pytest.raises(VerificationError):
        verify(pk.verifying_key, prove(pk, [bad] + traces[1:], pv, check_constraints_first=False).to_bytes(), pv)


def test_quotient_evaluated_by_blocks_gives_the_same_proof(monkeypatch):
    """The prover evaluates the constraints on blocks of QUOTIENT_BLOCK_ROWS rows of the quotient
    domain (to bound memory). With blocks of 16 rows every table here is split — "next row"
    (the cube chain's transition, LogUp's running sum) crosses block ends — and the proof is
    byte-identical to the one-block proof (Fiat–Shamir over the same data)."""
    from pyzkvm.stark import prover

    pk = setup(INSECURE_FAST_FOR_TESTS, [CubeChain(), ChainSink(), FibonacciAir()])
    fib, pv = fibonacci_trace(4)
    traces = chain_traces(6, 4, seed=3) + [fib]
    whole = prove(pk, traces, pv).to_bytes()
    monkeypatch.setattr(prover, "QUOTIENT_BLOCK_ROWS", 16)
    assert prove(pk, traces, pv).to_bytes() == whole
    verify(pk.verifying_key, whole, pv)



@pytest.mark.parametrize("config", [INSECURE_FAST_FOR_TESTS, INSECURE_FAST_FOR_TESTS_ZK], ids=lambda c: c.name)
def test_quotient_evaluated_in_coset_parts_gives_the_same_proof(monkeypatch, config):
    """A quotient coset of n points is evaluated in 2^QUOTIENT_LOG_PARTS parts when its columns'
    values are large (prover._coset_parts: each part's next rows are the next part's, the last
    part's wrap to part 0). With every coset of n points so split (4 and 8 parts, and blocks of
    16 rows inside the parts), the proof is byte-identical to the whole-coset one."""
    from pyzkvm.stark import prover

    parts = []
    coset_parts = prover._coset_parts

    def counted(t, polys, log_c, log_parts, *args):
        parts.append(log_parts)
        return coset_parts(t, polys, log_c, log_parts, *args)

    pk = setup(config, [CubeChain(), ChainSink(), FibonacciAir()])
    fib, pv = fibonacci_trace(4)
    traces = chain_traces(6, 4, seed=3) + [fib]
    whole = prove(pk, traces, pv, zk_seed=2).to_bytes()
    monkeypatch.setattr(prover, "_coset_parts", counted)
    monkeypatch.setattr(prover, "QUOTIENT_PARTS_FROM_BYTES", 0)
    for log_parts, block_rows in [(2, 1 << 16), (3, 16)]:
        monkeypatch.setattr(prover, "QUOTIENT_LOG_PARTS", log_parts)
        monkeypatch.setattr(prover, "QUOTIENT_BLOCK_ROWS", block_rows)
        parts.clear()
        assert prove(pk, traces, pv, zk_seed=2).to_bytes() == whole
        assert log_parts in parts  # some table's cosets went in parts
    verify(pk.verifying_key, whole, pv)

def test_blowup2_preset_rejects_degree_4():
    class Degree4(Air):
        name, width = "deg4", 1

        def constraints(self, b):
            x = b.main(0)
            b.when_first_row().assert_zero(x * x * x, "x^3 = 0 on the first row")  # 1 + 3 = 4

    from pyzkvm.errors import StarkConfigError
    with pytest.raises(StarkConfigError, match="blowup is 2"):
        setup(BLOWUP2_100_BITS, [Degree4()])
