"""The prover's memory-saving paths give the same values as the direct ones: the DEEP codewords
combined on the columns' coefficients (deep.deep_codewords_from_coefficients), the DEEP codeword
computed in chunks of rows, and the hiding randomness read from its XOF in pieces."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.stark import deep, ext, zk
from pyzkvm.stark.domain import coset_points, coset_shift
from pyzkvm.stark.field import P
from pyzkvm.stark.lincomb import combine_columns, weighted_column_sums
from pyzkvm.stark.ntt import coset_lde_from_coefficients
from pyzkvm.stark.openings import EXT_GROUPS, opened_width


@pytest.mark.parametrize("claims", ["honest", "forged"])
def test_deep_from_coefficients_is_deep_on_the_lde_rows(monkeypatch, claims):
    """The prover's DEEP codewords (columns combined on their coefficients, then extended) equal
    the verifier's formula (deep_codewords) on every row of the columns' LDEs: two heights, two
    tables of one height (one ζω), a table read at ζ only, chunks of rows. Honest claims (the
    columns' values at ζ and ζω) take the division on coefficients (deep.divided_by_linears),
    forged ones the pointwise formula."""
    rng = np.random.default_rng(11)
    log_blowup = 2
    zeta = rng.integers(0, P, 4, dtype=np.int64).astype(np.uint32)
    coeffs_total = []
    tables = [(7, (2, 3, 4, 8)), (7, (0, 5, 0, 4)), (5, (1, 2, 4, 8))]  # (log D, base widths wp, w, wa, wq)
    layout, total = deep.deep_layout([w for _l, w in tables])
    drawn = rng.integers(0, P, (deep.opened_count(layout), 4), dtype=np.int64).astype(np.uint32)
    coeffs_total = deep.deep_coefficients(drawn, layout, total)  # aux, quotient: c_j·X^c
    by_coeffs, by_rows = [], []
    for (log_d, widths), lay in zip(tables, layout):
        l = log_d + log_blowup
        z_next = ext.ext_mul_base(zeta, np.uint32(7 + log_d))  # one ζω per height
        polys = {g: (None if w == 0 else rng.integers(0, P, (1 << log_d, w), dtype=np.int64).astype(np.uint32))
                 for g, w in zip(("prep", "main", "aux", "quotient"), widths)}
        rows = {g: None if c is None else coset_lde_from_coefficients(c, log_blowup, coset_shift(l))
                for g, c in polys.items()}
        if claims == "honest":  # aux and quotient: one F_p^4 value per 4 base columns
            local, nxt = ({g: np.zeros((0, 4), np.uint32) if c is None else
                           _opened(g, weighted_column_sums(c, ext.ext_powers(z, 1 << log_d)))
                           for g, c in polys.items() if g in groups} for z, groups in
                          ((zeta, ("prep", "main", "aux", "quotient")), (z_next, ("prep", "main", "aux"))))
        else:
            local = {g: rng.integers(0, P, (opened_width(g, w), 4), dtype=np.int64).astype(np.uint32)
                     for g, w in zip(polys, widths)}
            nxt = {g: local[g][::-1].copy() for g in ("prep", "main", "aux")}
        heights = dict.fromkeys(polys, l)
        by_coeffs += deep.split_by_height(lay, polys, local, nxt, heights, z_next)
        by_rows += deep.split_by_height(lay, rows, local, nxt, heights, z_next)
    points = lambda l: coset_points(l, coset_shift(l), bit_reversed=True)  # noqa: E731
    want = deep.deep_codewords(by_rows, points, zeta, coeffs_total)
    monkeypatch.setattr(deep, "DEEP_CHUNK_ROWS", 96)
    if claims == "honest":  # no pointwise quotient: every group divided on its coefficients
        monkeypatch.setattr(deep, "_deep_quotients", None)
    got = deep.deep_codewords_from_coefficients(by_coeffs, points, zeta, coeffs_total, log_blowup)
    assert sorted(got) == sorted(want) == [7, 9]
    for l in want:
        np.testing.assert_array_equal(got[l], want[l])


def _opened(group: str, values: np.ndarray) -> np.ndarray:
    """A group's values at a point as the proof opens them: an F_p^4 group's recombined."""
    return deep.recombine_ext_columns(values) if group in EXT_GROUPS else values


def test_an_ext_column_s_coefficients_combine_to_its_own_term():
    """deep_coefficients gives base column c of an F_p^4 column j the coefficient c_j·X^c, so
    Σ_c (c_j·X^c)·f_c = c_j·Σ_c X^c·f_c = c_j·f: the column's DEEP term is c_j·(f − f(z))."""
    rng = np.random.default_rng(5)
    layout, total = deep.deep_layout([(1, 2, 8, 4)])
    drawn = rng.integers(0, P, (deep.opened_count(layout), 4), dtype=np.int64).astype(np.uint32)
    assert len(drawn) == (1 + 2 + 2 + 1) + (1 + 2 + 2)  # at ζ: prep, main, 2 aux, 1 chunk; at ζω
    coeffs = deep.deep_coefficients(drawn, layout, total)
    f = rng.integers(0, P, (5, 8), dtype=np.int64).astype(np.uint32)  # 5 rows of the 2 aux columns' base columns
    start, width = layout[0][0]["aux"]
    combined = combine_columns(f, coeffs[start:start + width])
    columns = f.reshape(5, 2, 4)  # f_j(x) = Σ_c X^c·f_(4j+c)(x): its coordinates are the base values
    want = ext.ext_add(ext.ext_mul(columns[:, 0], drawn[3]), ext.ext_mul(columns[:, 1], drawn[4]))
    np.testing.assert_array_equal(combined, want)


def test_divided_by_linears_is_the_quotient_by_x_minus_z():
    """q = (A − A(z))/(X − z): A = q·(X − z) + A(z) coefficient by coefficient; a claim other
    than A(z) gives None."""
    rng = np.random.default_rng(4)
    for d in (1, 2, 37):
        a = rng.integers(0, P, (d, 4), dtype=np.int64).astype(np.uint32)
        z = rng.integers(0, P, 4, dtype=np.int64).astype(np.uint32)
        at_z = weighted_column_sums(a, ext.ext_powers(z, d))  # each of A's 4 coefficient lanes at z
        value = deep.recombine_ext_columns(at_z)[0]  # A(z) ∈ F_p^4
        q = deep.divided_by_linears(a, z, value)
        assert q is not None and not q[-1].any()
        shifted = np.zeros_like(a)
        shifted[1:] = q[:-1]  # X·q
        rebuilt = ext.ext_sub(shifted, ext.ext_mul(q, z))  # X·q − z·q
        rebuilt[0] = ext.ext_add(rebuilt[0], value)
        np.testing.assert_array_equal(rebuilt, a)
        assert deep.divided_by_linears(a, z, ext.ext_add(value, ext.ONE)) is None


def test_divided_by_linears_sums_the_quotients_of_each_point():
    """Two polynomials side by side (a: (D, 8)) at two points: the sum of their quotients,
    also when the rows from ``rows`` on are zero and not read; a wrong second claim gives None."""
    rng = np.random.default_rng(6)
    d, rows = 40, 29
    a = rng.integers(0, P, (d, 8), dtype=np.int64).astype(np.uint32)
    a[rows:] = 0
    z = rng.integers(0, P, (2, 4), dtype=np.int64).astype(np.uint32)
    values = np.stack([deep.recombine_ext_columns(weighted_column_sums(a[:, 4 * g:4 * g + 4], ext.ext_powers(z[g], d)))[0]
                       for g in range(2)])
    want = ext.ext_add(deep.divided_by_linears(a[:, :4], z[0], values[0]), deep.divided_by_linears(a[:, 4:], z[1], values[1]))
    np.testing.assert_array_equal(deep.divided_by_linears(a, z, values, rows), want)
    np.testing.assert_array_equal(deep.divided_by_linears(a, z, values), want)
    assert deep.divided_by_linears(a, z, np.stack([values[0], ext.ext_add(values[1], ext.ONE)]), rows) is None


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
    opened = {g: rng.integers(0, P, (opened_width(g, m.shape[1]), 4), dtype=np.int64).astype(np.uint32)
              for g, m in rows.items()}
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


def test_recombine_ext_columns_is_the_sum_of_basis_multiples():
    """Four committed base columns c = 0..3 per extension column give Σ_c X^c·value_c (X^4 = W)."""
    rng = np.random.default_rng(5)
    values = rng.integers(0, P, (4 * 6, 4), dtype=np.int64).astype(np.uint32)
    want = np.zeros((6, 4), dtype=np.uint32)
    for c in range(4):
        basis = np.zeros(4, dtype=np.uint32)
        basis[c] = 1
        want = ext.ext_add(want, ext.ext_mul(values.reshape(6, 4, 4)[:, c], basis))
    np.testing.assert_array_equal(deep.recombine_ext_columns(values), want)


def test_claimed_sums_of_many_columns_need_no_kernel(monkeypatch):
    """The verifier joins every opening of one height into one claimed sum (over a thousand
    columns for the machine): numpy's products, never ext_mul's kernel, and the same values,
    one sum per group (an empty group sums to 0)."""
    from pyzkvm.stark.field import NUMPY_MAX

    rng = np.random.default_rng(2)
    coeffs, values = (rng.integers(0, P, (NUMPY_MAX + 40, 4), dtype=np.int64).astype(np.uint32) for _ in range(2))
    products = ext.ext_mul(coeffs, values).astype(np.int64)  # the kernel (more than NUMPY_MAX elements)
    cut = 100
    want = [products[:cut].sum(axis=0) % P, np.zeros(4, dtype=np.int64), products[cut:].sum(axis=0) % P]

    def no_kernel(*args):
        raise AssertionError("_claimed_sums called ext's kernel")

    monkeypatch.setattr(ext, "_mul_kernel", no_kernel)
    groups = [[(coeffs[:cut], values[:cut])], [], [(coeffs[cut:cut + 7], values[cut:cut + 7]),
                                                  (coeffs[cut + 7:], values[cut + 7:])]]
    np.testing.assert_array_equal(deep._claimed_sums(groups), np.array(want, dtype=np.uint32))


def test_few_row_quotients_equal_the_two_inversion_formula():
    """deep._deep_quotients_few (one inversion per row, the verifier's) equals _deep_quotients."""
    from pyzkvm.stark import deep
    from pyzkvm.stark.field import P

    rng = np.random.default_rng(9)
    rand = lambda *shape: rng.integers(0, P, size=shape, dtype=np.int64).astype(np.uint32)  # noqa: E731
    num, x, zeta, z_next, local, nxt = rand(30, 8), rand(30), rand(4), rand(30, 4), rand(30, 4), rand(30, 4)
    want = np.stack([deep._deep_quotients(num[i:i + 1], x[i:i + 1], zeta, z_next[i], local[i], nxt[i])[0]
                     for i in range(30)])
    np.testing.assert_array_equal(deep._deep_quotients_few(num, x, zeta, z_next, local, nxt), want)
