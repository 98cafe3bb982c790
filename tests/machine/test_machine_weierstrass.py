"""The short-Weierstrass ADD/DOUBLE chips (pyzkvm/machine/weierstrass.py) in the machine: honest
calls on every curve against the group law written here from the curves' definitions (SEC 2,
FIPS 186-4, the BN254 and BLS12-381 parameters), cross-checked with ``ecdsa`` and ``py_ecc``;
then attacks on secp256k1's and BN254's tables, each named by the debug check."""

from __future__ import annotations


import numpy as np
import pytest

from pyzkvm.errors import ConstraintNotSatisfied, UnsupportedProgram
from pyzkvm.machine import check_machine
from pyzkvm.machine import field_ops as fo
from pyzkvm.machine.weierstrass import WEIERSTRASS_CHIPS
from pyzkvm.stark.field import P as BABYBEAR
from tests.machine.machine_helpers import forged, run_machine, unbalanced_buses
from tests.rvasm import DATA_BASE, halt, syscall

# ---- the curves, from their definitions (not the executor's table) ------------------------------
# (p, a, b, G, n bytes, ADD code, DOUBLE code); codes: SP1's syscalls/code.rs
CURVES = {
    "secp256k1": (2**256 - 2**32 - 977, 0, 7,  # SEC 2 §2.4.1
                  (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
                   0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8), 32, 0x0001010A, 0x0000010B),
    "secp256r1": (2**256 - 2**224 + 2**192 + 2**96 - 1, -3,  # FIPS 186-4 D.1.2.3 (P-256)
                  0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
                  (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
                   0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5), 32, 0x0001012C, 0x0000012D),
    "bn254": (21888242871839275222246405745257275088696311157297823662689037894645226208583, 0, 3, (1, 2), 32,
              0x0001010E, 0x0000010F),
    "bls12381": (int("1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab", 16),
                 0, 4,
                 (int("17f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb", 16),
                  int("08b3f481e3aaa0f1a09e30ed741d8ae4fcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1", 16)),
                 48, 0x0001011E, 0x0000011F),
}


def group_add(curve, P, Q):
    """P + Q on y² = x³ + ax + b (P ≠ ±Q, or P = Q with y ≠ 0): the textbook chord and tangent."""
    p, a = CURVES[curve][0], CURVES[curve][1]
    (x1, y1), (x2, y2) = P, Q
    s = ((3 * x1 * x1 + a) * pow(2 * y1, -1, p) if P == Q else (y2 - y1) * pow(x2 - x1, -1, p)) % p
    x3 = (s * s - x1 - x2) % p
    return x3, (s * (x1 - x3) - y1) % p


def on_curve(curve, P) -> bool:
    p, a, b = CURVES[curve][:3]
    return (P[1] ** 2 - P[0] ** 3 - a * P[0] - b) % p == 0


def point_bytes(P, n) -> bytes:
    return P[0].to_bytes(n, "little") + P[1].to_bytes(n, "little")


def doubling_run(curve):
    """DOUBLE(A) then ADD(A, B) with A = B = G at first: A = 2G, then 3G; A journalled."""
    p, a, b, G, n, add, dbl = CURVES[curve]
    data = point_bytes(G, n) * 2
    A, B = DATA_BASE, DATA_BASE + 2 * n
    code = [syscall(dbl, A, 0), syscall(add, A, B), syscall(0x02, 3, A, 2 * n), halt(0)]
    return run_machine(code, data=data)


def test_the_oracle_agrees_with_ecdsa_and_py_ecc():
    import ecdsa
    from py_ecc import bls12_381, bn128

    for name, curve in (("secp256k1", ecdsa.SECP256k1), ("secp256r1", ecdsa.NIST256p)):
        G = CURVES[name][3]
        assert (curve.generator.x(), curve.generator.y()) == G
        three = group_add(name, group_add(name, G, G), G)
        pt = curve.generator * 3
        assert (pt.x(), pt.y()) == three and on_curve(name, three)
    for name, lib in (("bn254", bn128), ("bls12381", bls12_381)):
        G = CURVES[name][3]
        assert (lib.G1[0].n, lib.G1[1].n) == G
        pt = lib.multiply(lib.G1, 3)
        assert (pt[0].n, pt[1].n) == group_add(name, group_add(name, G, G), G)


@pytest.fixture(scope="module", params=list(CURVES))
def honest(request):
    return (request.param, *doubling_run(request.param))


def test_double_then_add_checks_and_matches_the_group_law(honest):
    curve, chips, tables, _ = honest
    G, n = CURVES[curve][3], CURVES[curve][4]
    check_machine(chips, tables)
    three = group_add(curve, group_add(curve, G, G), G)
    assert on_curve(curve, three)
    assert tables.journal == point_bytes(three, n)
    for op, rows in (("add", 16), ("double", 16 if curve == "secp256r1" else 15)):
        table = tables.traces[f"{curve} {op}"]
        assert int(table[:, :rows].sum()) == rows  # one call: its position one-hot


# ---- attacks (secp256k1; BN254 where r + p must fit in 32 bytes) -------------------------------

def chip_of(chips, name):
    return chips.airs[chips.index(name)]


def row_of(air, out=None, check=None, kind=None):
    return next(k for k, s in enumerate(air.steps) if (out is None or s.out == out) and (check is None or s.check == check)
                and (kind is None or s.kind == kind))


def unbalanced(chips, tables, names) -> set:
    """The private/precompile buses that do not balance over the syscall chip and ``names``."""
    return unbalanced_buses(chips, tables, names, ("precompile", "field value"))


@pytest.fixture(scope="module")
def k1():
    return doubling_run("secp256k1")


@pytest.fixture(scope="module")
def bn():
    return doubling_run("bn254")


def _expect(chips, bad, match):
    with pytest.raises(ConstraintNotSatisfied, match=match):
        check_machine(chips, bad)


def _set_int(t, row, cols, value):
    t[row, cols] = fo.to_limbs([value], len(cols))[0]


def test_a_wrong_slope_is_named(k1):
    """The slope row's r changed by one: its own identity breaks."""
    chips, tables, _ = k1
    air = chip_of(chips, "secp256k1 add")
    L, k = air.layout(), row_of(air, out="s")

    def edit(t):
        r = t.traces["secp256k1 add"]
        r[k, L.r[0]] = (r[k, L.r[0]] + 1) % 256

    _expect(chips, forged(tables, edit), r"secp256k1 add.*coefficient 0 of a op b − r − q·m")


def test_r_plus_p_is_refused_by_the_canonical_check(bn):
    """BN254 (p < 2^254, so r + p fits 32 bytes): x3 = ss − sum replaced by x3 + p with q + 1 and
    rebuilt carries satisfies the identity; only r < p rejects it: with the lt flag on the top
    byte (where x3 + p and p differ) the gap p_31 − r_31 − 1 is negative, not a byte."""
    chips, tables, _ = bn
    air = chip_of(chips, "bn254 add")
    L, k, p = air.layout(), row_of(air, out="x3"), CURVES["bn254"][0]

    def edit(t):
        r = t.traces["bn254 add"]
        x3, q = fo.from_limbs(r[k:k + 1, L.r])[0], fo.from_limbs(r[k:k + 1, L.q])[0]
        _set_int(r, k, L.r, x3 + p)
        _set_int(r, k, L.q, q + 1)
        cl, ch = fo.op_carries("sub", r[k:k + 1, L.a], r[k:k + 1, L.b], r[k:k + 1, L.r], r[k:k + 1, L.q], p)
        r[k, L.cl], r[k, L.ch] = cl[0], ch[0]
        r[k, L.lt] = 0
        r[k, L.lt[31]] = 1

    # (the field value bus fails too: the rows that use x3 still hold the honest value)
    _expect(chips, forged(tables, edit), r"bus .*'byte'")


def test_a_carry_wrapping_modulo_babybear_is_refused_by_the_byte_range(k1):
    """The slope's product row with r + p_BabyBear: carries solving every equation modulo p exist
    (and pass every constraint), but they are not bytes: the byte bus refuses them."""
    chips, tables, _ = k1
    air = chip_of(chips, "secp256k1 add")
    L, k = air.layout(), row_of(air, out="s")
    p = CURVES["secp256k1"][0]

    def edit(t):
        r = t.traces["secp256k1 add"]
        s = fo.from_limbs(r[k:k + 1, L.r])[0]
        if s + BABYBEAR >= p:
            pytest.skip("slope too close to p")
        _set_int(r, k, L.r, s + BABYBEAR)
        r[k, L.lt] = fo.lt_flags(r[k:k + 1, L.r], fo.limbs_of(p, 32))[0]
        v = _coefficients([int(x) for x in r[k, L.a]], [int(x) for x in r[k, L.b]], [int(x) for x in r[k, L.r]],
                          [int(x) for x in r[k, L.q]], fo.limbs_of(p, 32))
        inv256, prev = pow(256, -1, BABYBEAR), 0
        for j in range(len(L.cl)):
            prev = (prev - v[j]) * inv256 % BABYBEAR
            x = (prev + fo.OFFSET) % BABYBEAR
            r[k, L.cl[j]], r[k, L.ch[j]] = x % 256, x // 256

    bad = forged(tables, edit)
    # every constraint of the row holds modulo p; the carry "bytes" are not bytes
    _expect(chips, bad, r"bus .*'byte'")


def _coefficients(a, b, r, q, m):
    v = [0] * (len(a) + len(q) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            v[i + j] += x * y
        v[i] -= r[i]
    for i, x in enumerate(q):
        for j, y in enumerate(m):
            v[i + j] -= x * y
    return v


def test_a_wrong_point_written_is_named(k1):
    """The WRITE of x3 writes another value (its r and the memory word after): the WRITE row no
    longer checks out against x3 on the field value bus."""
    chips, tables, _ = k1
    air = chip_of(chips, "secp256k1 add")
    L, k = air.layout(), row_of(air, check="x3")

    def edit(t):
        t.traces["secp256k1 add"][k, L.r[5]] ^= 1

    assert "field value" in unbalanced(chips, forged(tables, edit), ("secp256k1 add", "secp256k1 double"))


def test_a_word_read_from_a_wrong_address_is_named(k1):
    chips, tables, _ = k1
    air = chip_of(chips, "secp256k1 add")
    L, k = air.layout(), row_of(air, out="y2")

    def edit(t):
        t.traces["secp256k1 add"][k, L.ekey] += 1

    _expect(chips, forged(tables, edit), r"secp256k1 add.*the element's first word key")


def test_a_write_that_never_happened_is_named(k1):
    """The WRITE of y3 leaves memory as it was (r = b, the previous words): not y3."""
    chips, tables, _ = k1
    air = chip_of(chips, "secp256k1 double")
    L, k = air.layout(), row_of(air, check="y3")

    def edit(t):
        r = t.traces["secp256k1 double"]
        r[k, L.r] = r[k, L.b]

    assert "field value" in unbalanced(chips, forged(tables, edit), ("secp256k1 add", "secp256k1 double"))


def test_a_padding_row_is_zero(k1):
    """DOUBLE's one call is 15 rows, padded to 16: row 15 is padding."""
    chips, tables, _ = k1
    air = chip_of(chips, "secp256k1 double")
    L = air.layout()

    def edit(t):
        t.traces["secp256k1 double"][len(air.steps), L.r[0]] = 1

    _expect(chips, forged(tables, edit), r"secp256k1 double.*a padding row is 0")


def test_a_call_made_inactive_leaves_the_syscall_unanswered(k1):
    """The inactive-row rule: the call's rows with their position flags cleared emit nothing."""
    chips, tables, _ = k1
    air = chip_of(chips, "secp256k1 double")
    L = air.layout()

    def edit(t):
        r = t.traces["secp256k1 double"]
        r[:, L.pos] = 0

    assert "precompile" in unbalanced(chips, forged(tables, edit), ("secp256k1 add", "secp256k1 double"))


def test_equal_x_is_refused_by_the_prover():
    """ADD(P, −P): SP1 divides by 0 as 0; the chip proves x2 − x1 ≢ 0, so the prover refuses."""
    p, a, b, G, n, add, dbl = CURVES["secp256k1"]
    data = point_bytes(G, n) + point_bytes((G[0], p - G[1]), n)
    with pytest.raises(UnsupportedProgram, match="division by 0"):
        run_machine([syscall(add, DATA_BASE, DATA_BASE + 2 * n), halt(0)], data=data)


def test_unreduced_coordinates_are_refused_by_the_prover():
    p, a, b, G, n, add, dbl = CURVES["bn254"]
    data = point_bytes((G[0] + p, G[1]), n)
    with pytest.raises(UnsupportedProgram, match="not below p"):
        run_machine([syscall(dbl, DATA_BASE, 0), halt(0)], data=data)


def test_every_curve_has_an_add_and_a_double_chip():
    names = {c.name for c in WEIERSTRASS_CHIPS}
    assert names == {f"{c} {op}" for c in CURVES for op in ("add", "double")}
    assert all(np.all(np.asarray(c.layout().pos) < c.layout().width) for c in WEIERSTRASS_CHIPS)


@pytest.mark.parametrize("flag", [None, 31])
def test_a_coordinate_read_at_or_above_p_has_no_witness(bn, flag):
    """SP1's p + y2 − y1 panics for y1 > p + y2, and the gadget's SUB would prove it (any q ≥ 0):
    every coordinate read is proved < p. y1 read as y1 + p (fits 32 bytes on BN254): with no
    lt flag the READ row lacks its one flag; with the flag on the top byte the gap is negative."""
    chips, tables, _ = bn
    air = chip_of(chips, "bn254 add")
    L, k, p = air.layout(), row_of(air, out="y1", kind="read"), CURVES["bn254"][0]

    def edit(t):
        r = t.traces["bn254 add"]
        y1 = fo.from_limbs(r[k:k + 1, L.r])[0]
        _set_int(r, k, L.r, y1 + p)
        _set_int(r, k, L.b, y1 + p)
        r[k, L.lt] = 0
        if flag is not None:
            r[k, L.lt[flag]] = 1

    _expect(chips, forged(tables, edit), r"bn254 add.*one lt flag" if flag is None else r"bus .*'byte'")
