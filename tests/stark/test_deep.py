"""The prover's memory-saving paths give the same values as the direct ones: openings at ζ read
from an LDE's first rows (deep.lde_barycentric_weights), the DEEP codeword computed in chunks
of rows, and the hiding randomness read from its XOF in pieces."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.stark import deep, ext, zk
from pyzkvm.stark.domain import coset_points, coset_shift
from pyzkvm.stark.field import P
from pyzkvm.stark.lincomb import weighted_column_sums
from pyzkvm.stark.ntt import coset_lde_from_coefficients


@pytest.mark.parametrize("log_d, log_blowup", [(3, 2), (6, 3), (8, 1)])
def test_opening_from_the_lde_is_the_polynomial_at_z(log_d, log_blowup):
    # f of degree < D given by coefficients; its LDE on s·K_N (bit-reversed rows); f(z) by
    # Σ c_i z^i (an independent formula) against the LDE's first D rows with the coset weights
    rng = np.random.default_rng(log_d)
    coeffs = rng.integers(0, P, (1 << log_d, 5), dtype=np.int64).astype(np.uint32)
    shift = coset_shift(log_d + log_blowup)
    lde = coset_lde_from_coefficients(coeffs, log_blowup, shift)
    z = rng.integers(0, P, 4, dtype=np.int64).astype(np.uint32)
    want = weighted_column_sums(coeffs, ext.ext_powers(z, 1 << log_d))
    got = deep.evaluate_lde_at(lde, deep.lde_barycentric_weights(log_d, shift, z))
    np.testing.assert_array_equal(got, want)
    assert deep.evaluate_lde_at(None, deep.lde_barycentric_weights(log_d, shift, z)).shape == (0, 4)


def test_deep_values_in_chunks_equal_one_pass(monkeypatch):
    rng = np.random.default_rng(3)
    n, wm, wq = 1 << 10, 6, 8
    rows = {"main": rng.integers(0, P, (n, wm), dtype=np.int64).astype(np.uint32),
            "quotient": rng.integers(0, P, (n, wq), dtype=np.int64).astype(np.uint32)}
    (layout,), total = deep.deep_layout([(0, wm, 0, wq)])
    local, nxt = layout
    layout = ({g: local[g] for g in ("main", "quotient")}, {"main": nxt["main"]})
    coeffs = rng.integers(0, P, (total, 4), dtype=np.int64).astype(np.uint32)
    zeta, z_next = (rng.integers(0, P, 4, dtype=np.int64).astype(np.uint32) for _ in range(2))
    opened = {g: rng.integers(0, P, (m.shape[1], 4), dtype=np.int64).astype(np.uint32) for g, m in rows.items()}
    member = (layout, rows, opened, {"main": opened["main"]})
    x = coset_points(10, coset_shift(10), bit_reversed=True)
    whole = deep.deep_values([member], x, zeta, z_next, coeffs)
    monkeypatch.setattr(deep, "DEEP_CHUNK_ROWS", 96)  # 11 chunks, the last one short
    np.testing.assert_array_equal(deep.deep_values([member], x, zeta, z_next, coeffs), whole)


def test_randomness_does_not_depend_on_how_the_xof_is_read(monkeypatch):
    rng = zk.ZkRandomness(bytes(range(32)), 1, 3)
    whole = rng.field("main 0", (3000, 7))
    monkeypatch.setattr(zk, "XOF_CHUNK_WORDS", 1000)  # 22 reads
    np.testing.assert_array_equal(rng.field("main 0", (3000, 7)), whole)
    assert not np.array_equal(rng.field("main 1", (3000, 7)), whole)
