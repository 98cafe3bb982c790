"""A hiding table's quotient of degree just past K·n, evaluated on K cosets of K_n and one small
coset c·K_m (domain.interpolate_with_small_coset, prover._quotient_on_small_coset), is the
polynomial the K + 1 full cosets give: the same coefficients, the same proof bytes."""

import numpy as np

from pyzkvm.stark import INSECURE_FAST_FOR_TESTS_ZK as FAST_ZK, prove, setup, verify
from pyzkvm.stark import prover
from pyzkvm.stark.domain import interpolate_with_small_coset
from pyzkvm.stark.examples.fibonacci import FibonacciAir, fibonacci_trace
from pyzkvm.stark.examples.range_check import ByteTableAir, U16ValuesAir, range_check_traces
from pyzkvm.stark.field import P, root_of_unity
from pyzkvm.stark.ntt import coset_evaluations


def test_k_cosets_and_a_small_one_recover_the_coefficients():
    rng = np.random.default_rng(5)
    for k, log_n, rest in [(1, 3, 1), (2, 4, 3), (2, 6, 16), (3, 5, 32), (4, 10, 200)]:  # rest ≤ m = 2^⌈log rest⌉ ≤ n
        n, m = 1 << log_n, 1 << (rest - 1).bit_length()
        q = np.zeros((k * n + m, 4), dtype=np.uint32)
        q[:k * n + rest] = rng.integers(0, P, (k * n + rest, 4), dtype=np.uint32)  # deg Q < K·n + rest
        w = root_of_unity(log_n + 3)
        shifts = [31 * pow(w, r, P) % P for r in range(k)]  # as the prover's: s·ω_q^r, then r = K
        small_shift = 31 * pow(w, k, P) % P
        padded = np.zeros((1 << (k * n + m - 1).bit_length(), 4), dtype=np.uint32)
        padded[:k * n + m] = q
        values = [coset_evaluations(padded, log_n, s) for s in shifts]
        small = coset_evaluations(padded, (m - 1).bit_length(), small_shift)
        # the zero rows past deg Q need not be read (the prover's f̂: rows = n + m_r)
        assert all(np.array_equal(coset_evaluations(padded, log_n, s, rows=k * n + rest), v)
                   for s, v in zip(shifts, values))
        assert np.array_equal(coset_evaluations(padded, (m - 1).bit_length(), small_shift, rows=k * n + rest), small)
        assert np.array_equal(interpolate_with_small_coset(np.stack(values, axis=1), shifts, small, small_shift), q)


def test_the_prover_s_quotient_on_a_small_coset_is_the_full_cosets_one(monkeypatch):
    """Random tables with next-row, preprocessed and LogUp columns, seeded hiding proofs:
    byte-identical whether the excess past K·n is evaluated on a small coset (up to n/2 here,
    so every table of these sizes takes it) or on one more full coset."""
    calls = []
    small_coset = prover._quotient_on_small_coset

    def counted(t, log_m, *args):
        calls.append((t.air.name, t.log_n, log_m))
        return small_coset(t, log_m, *args)

    monkeypatch.setattr(prover, "_quotient_on_small_coset", counted)
    rng = np.random.default_rng(6)
    pk = setup(FAST_ZK, [FibonacciAir(), U16ValuesAir(), ByteTableAir()])
    fib, pv = fibonacci_trace(64, int(rng.integers(1, 100)), int(rng.integers(1, 100)))
    traces = [fib, *range_check_traces(rng.integers(0, 1 << 16, 512))]
    proofs = []
    for fraction in (2, 1 << 40):  # n // 2^40 = 0: no small coset
        monkeypatch.setattr(prover, "SMALL_COSET_FRACTION", fraction)
        proofs.append(prove(pk, traces, pv, zk_seed=3).to_bytes())
    assert sorted(calls) == [("byte table", 8, 7), ("fibonacci", 6, 0), ("u16 values", 9, 7)]
    assert proofs[0] == proofs[1]
    verify(pk.verifying_key, proofs[0], pv)


def test_coset_values_of_several_cosets_are_the_coset_evaluations():
    # domain.coset_values (the quotient's parts and small coset: several cosets from one read
    # of the coefficients, a padded buffer) against ntt.coset_evaluations coset by coset
    from pyzkvm.stark.domain import coset_values
    from pyzkvm.stark.ntt import padded_buffer

    rng = np.random.default_rng(6)
    for log_d, w, rows, log_c, cosets in [(5, 3, 20, 2, 2), (6, 13, 40, 4, 1), (6, 5, 64, 6, 2), (8, 9, 150, 3, 3),
                                          (5, 4, 10, 4, 2)]:
        m = np.zeros((1 << log_d, w), dtype=np.uint32)
        m[:rows] = rng.integers(0, P, (rows, w), dtype=np.uint32)
        shifts = [31 * pow(7, q, P) % P for q in range(cosets)]
        want = np.concatenate([coset_evaluations(m, log_c, s, rows=rows) for s in shifts])
        got = coset_values([m, None], log_c, shifts, [None, None], rows)
        assert got[1] is None and np.array_equal(got[0], want)
        buf = padded_buffer(cosets << log_c, w)
        assert coset_values([m], log_c, shifts, [buf], rows)[0] is buf
        assert np.array_equal(buf[:, :w], want)
