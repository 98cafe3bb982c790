"""domain.zerofier_on_coset: Z_H and 1/Z_H on a coset s·K_D from D/n values, as the prover's
quotient uses them, against x^n − 1 computed at every point (galois.GF(p) as the oracle)."""

import galois
import numpy as np

from pyzkvm.stark.domain import coset_selectors, zerofier_on_coset
from pyzkvm.stark.field import P, root_of_unity

GF = galois.GF(P)


def test_zerofier_on_coset_matches_every_point():
    for log_n, log_d, s in [(3, 5, 31), (4, 4, 7), (2, 6, 123456789)]:
        d = 1 << log_d
        points = GF(s) * GF(root_of_unity(log_d)) ** np.arange(d)  # x_i = s·ω_D^i
        z_h, inv_z = zerofier_on_coset(log_n, log_d, s)
        k = np.arange(d) % len(z_h)
        want = points ** (1 << log_n) - GF(1)
        assert z_h[k].tolist() == np.asarray(want).tolist()
        assert inv_z[k].tolist() == np.asarray(want ** -1).tolist()
        # the selectors are the same whether the zerofier is given or computed
        pts = np.asarray(points, dtype=np.uint32)[::-1].copy()  # any order: here reversed
        kk = (d - 1 - np.arange(d)) % len(z_h)
        sel_a, inv_a = coset_selectors(log_n, pts)
        sel_b, inv_b = coset_selectors(log_n, pts, (z_h[kk], inv_z[kk]))
        assert inv_a.tolist() == inv_b.tolist()
        for name in sel_a:
            assert np.asarray(sel_a[name]).tolist() == np.asarray(sel_b[name]).tolist(), name


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
