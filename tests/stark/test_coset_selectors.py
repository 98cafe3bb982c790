"""domain.coset_selector_rows: the selectors and 1/Z_H on a block of a bit-reversed coset, as
the prover's quotient reads them, against their formulas at every point (galois.GF(p) as the
oracle); and domain.interpolate_from_cosets."""

import galois
import numpy as np
import pytest

from pyzkvm.stark.domain import coset_selector_rows
from pyzkvm.stark.field import FieldError, P, root_of_unity
from pyzkvm.stark.ntt import bit_reverse_indices
from pyzkvm.stark.tape import SELECTORS

GF = galois.GF(P)


def _selectors_at(log_n: int, x) -> tuple:
    """is_first_row, is_last_row, is_transition and 1/Z_H at the points x (GF), by the formulas."""
    n = 1 << log_n
    w_last = GF(root_of_unity(log_n)) ** (n - 1)
    z = x ** n - GF(1)
    first = z / (GF(n) * (x - GF(1)))
    last = w_last * z / (GF(n) * (x - w_last))
    return {"is_first_row": first, "is_last_row": last, "is_transition": x - w_last}, z ** -1


@pytest.mark.parametrize("piece, threads", [(1 << 13, 1), (2, 1), (4, 2)])
def test_coset_selector_rows_match_the_formulas_at_every_point(piece, threads, monkeypatch):
    # c ≥ n (Z_H takes c/n values, one per run of n rows), c < n (one value: a small coset), c = n;
    # a block in pieces of ``piece`` rows (each from its own first point), side by side on 2 threads
    from pyzkvm.stark import domain, pool

    monkeypatch.setattr(domain, "SELECTOR_PIECE_ROWS", piece)
    monkeypatch.setattr(pool, "threads", lambda: threads)
    monkeypatch.setattr(pool, "MIN_PARALLEL_WORK", 1)
    monkeypatch.setattr(pool, "MIN_CHUNK_WORK", 1)
    for log_n, log_c, s in [(3, 5, 31), (4, 4, 7), (2, 6, 123456789), (5, 3, 99), (0, 2, 5)]:
        c = 1 << log_c
        x = GF(s) * GF(root_of_unity(log_c)) ** bit_reverse_indices(c).astype(np.int64)  # row j: s·ω_c^rev(j)
        want, inv_z = _selectors_at(log_n, x)
        for count in [1 << k for k in range(log_c + 1)]:  # every block of every size
            for lo in range(0, c, count):
                sel, got_inv = coset_selector_rows(log_n, log_c, s, lo, count)
                assert sel.shape == (count, 3) and got_inv.tolist() == np.asarray(inv_z[lo:lo + count]).tolist()
                for k, name in enumerate(SELECTORS):  # the tape's column order
                    assert sel[:, k].tolist() == np.asarray(want[name][lo:lo + count]).tolist(), (log_n, log_c, lo, name)


def test_coset_selector_rows_refuse_a_coset_that_meets_h(monkeypatch):
    from pyzkvm.stark import domain

    with pytest.raises(FieldError):
        coset_selector_rows(3, 4, 1, 0, 16)  # K_16 ⊃ H = K_8
    monkeypatch.setattr(domain, "SELECTOR_PIECE_ROWS", 2)
    with pytest.raises(FieldError, match="row 0 "):  # in pieces: the first piece's first row, x = 1
        coset_selector_rows(3, 4, 1, 0, 16)


def test_interpolate_from_cosets_recovers_the_coefficients():
    """A polynomial of K·c coefficients from its values on K cosets of K_c (K not a power of two
    too), as the prover's quotient interpolates Q: the coefficients come back exactly."""
    from pyzkvm.stark.domain import interpolate_from_cosets
    from pyzkvm.stark.ntt import coset_evaluations

    rng = np.random.default_rng(3)
    for k, log_c in [(1, 3), (2, 4), (3, 3), (5, 2), (5, 12)]:  # the last: coefficients in chunks on the pool
        c = 1 << log_c
        q = rng.integers(0, P, (k * c, 4), dtype=np.uint32)
        shifts = [31 * pow(root_of_unity(log_c + 3), r, P) % P for r in range(k)]  # distinct s_r^c
        padded = np.zeros((1 << (k * c - 1).bit_length(), 4), dtype=np.uint32)  # a power of two rows
        padded[:k * c] = q
        values = [coset_evaluations(padded, log_c, s) for s in shifts]  # bit-reversed rows
        assert np.array_equal(interpolate_from_cosets(np.stack(values, axis=1), shifts), q)
