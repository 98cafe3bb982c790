"""The DECOMPRESS chips of secp256k1, secp256r1 and BLS12-381 (pyzkvm/machine/
weierstrass_decompress.py): y from x and the sign for points k·G and both signs, against the
curves written from their definitions (tests/machine/test_machine_weierstrass.py's CURVES and
group law); the sign conventions from SEC 1 (parity) and the zcash BLS12-381 encoding (the
larger y); attacks on the root's sign, each named by the debug check."""

from __future__ import annotations


import pytest

from pyzkvm.errors import ConstraintNotSatisfied, SyscallError
from pyzkvm.executor import execute
from pyzkvm.machine import check_machine
from pyzkvm.machine import field_ops as fo
from tests.machine.machine_helpers import forged, run_machine, unbalanced_buses
from tests.machine.test_machine_weierstrass import CURVES, group_add
from tests.rvasm import DATA_BASE, flatten, halt, program, syscall

CODES = {"secp256k1": 0x0000010C, "secp256r1": 0x0000012E, "bls12381": 0x0000011C}


def expected_y(curve, y, sign):
    """SEC 1 §2.3.4: the root of parity ``sign``; zcash's BLS12-381 flag: the larger of y, p − y."""
    p = CURVES[curve][0]
    if curve == "bls12381":
        return max(y, p - y) if sign else min(y, p - y)
    return y if y % 2 == sign else p - y


def cases(curve):
    """(x, sign, y expected) for G, 2G, 3G and both signs."""
    G = CURVES[curve][3]
    pts = [G, group_add(curve, G, G)]
    pts.append(group_add(curve, pts[1], G))
    return [(x, s, expected_y(curve, y, s)) for x, y in pts for s in (0, 1)]


def decompress_run(curve, calls):
    n = CURVES[curve][4]
    data, code = b"", []
    for k, (x, sign, _) in enumerate(calls):
        base = DATA_BASE + 2 * n * k
        data += bytes(n) + x.to_bytes(n, "little")
        code.append(syscall(CODES[curve], base, sign))
    code += [syscall(0x02, 3, DATA_BASE + 2 * n * k, n) for k in range(len(calls))]
    return run_machine(code + [halt(0)], data=data)


@pytest.fixture(scope="module", params=list(CODES))
def honest(request):
    calls = cases(request.param)
    return (request.param, calls, *decompress_run(request.param, calls))


def test_every_root_checks_and_is_the_one_the_sign_asks_for(honest):
    curve, calls, chips, tables, _ = honest
    p, n = CURVES[curve][0], CURVES[curve][4]
    check_machine(chips, tables)
    assert tables.journal == b"".join(y.to_bytes(n, "little") for _, _, y in calls)
    for x, _, y in calls:  # and each is a point's y
        assert (y * y - x ** 3 - CURVES[curve][1] * x - CURVES[curve][2]) % p == 0 and y < p


BLS12_381_R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001  # G1's subgroup order


def _times(curve, k, P):
    """k·P by double-and-add with the textbook group law (None: the identity)."""
    p, acc = CURVES[curve][0], None
    while k:
        if k & 1:
            acc = P if acc is None else (None if acc[0] == P[0] and (acc[1] + P[1]) % p == 0 else group_add(curve, acc, P))
        P, k = group_add(curve, P, P), k >> 1
    return acc


def test_a_bls12_381_point_outside_the_subgroup_decompresses_as_in_sp1():
    """SP1 decodes BLS12-381 x with amcl's zcash-format ``deserialize_g1``, which checks the x is
    reduced and on the curve but not that its point lies in the order-r subgroup (amcl has a separate
    ``subgroup_check_g1``), and SP1's decompress AIR has no subgroup check either: any point of the
    curve decompresses. Here the first x ≥ 1 of a curve point, which r does not annihilate."""
    p = CURVES["bls12381"][0]
    x = next(x for x in range(1, 100) if pow(x ** 3 + 4, (p - 1) // 2, p) == 1)
    y = pow(x ** 3 + 4, (p + 1) // 4, p)  # p ≡ 3 (mod 4)
    assert _times("bls12381", BLS12_381_R, CURVES["bls12381"][3]) is None  # r·G = O: the order is right
    assert _times("bls12381", BLS12_381_R, (x, y)) is not None  # and this point is outside G1
    calls = [(x, s, expected_y("bls12381", y, s)) for s in (0, 1)]
    chips, tables, _ = decompress_run("bls12381", calls)
    check_machine(chips, tables)
    assert tables.journal == b"".join(v.to_bytes(48, "little") for _, _, v in calls)


def test_x_not_reduced_or_off_the_curve_faults_in_the_executor():
    """SP1 panics on both (x ≥ p; 5³ + 7 = 132 not a square mod p): no run exists to prove."""
    p = CURVES["secp256k1"][0]
    for x in (p + 1, 5):
        prog = program(flatten([syscall(CODES["secp256k1"], DATA_BASE, 0), halt(0)]), data=bytes(32) + x.to_bytes(32, "little"))
        with pytest.raises(SyscallError, match="SECP256K1_DECOMPRESS"):
            execute(prog, [])


# ---- attacks ------------------------------------------------------------------------------------

def _flip_root(t, air, call, p):
    """Replace call ``call``'s root y by p − y on every row that holds it (the ROOT row's r, the
    y·y row's operands, the WRITE, BLS12-381's 2y row recomputed), h recomputed: every value
    is consistent and y'² = rhs; only the sign is wrong."""
    L, tab = air.layout(), t.traces[air.name]
    base = len(air.steps) * call
    kinds = [s.kind for s in air.steps]
    root = base + kinds.index("root")
    y = fo.from_limbs(tab[root:root + 1, L.r])[0]
    y2 = p - y
    limbs = fo.to_limbs([y2], air.n)[0]
    tab[root, L.r] = limbs
    tab[root, L.lt] = fo.lt_flags(limbs[None], fo.limbs_of(p, air.n))[0]
    sq = base + next(k for k, s in enumerate(air.steps) if s.a == "y" and s.b == "y")
    col = fo.op_witness("mul", fo.np.array([y2], dtype=object), fo.np.array([y2], dtype=object), p, air.n)
    for name in ("a", "b", "r", "q", "cl", "ch", "lt"):
        tab[sq, getattr(L, name)] = col[name][0]
    write = base + kinds.index("write")
    tab[write, L.r] = limbs
    sign_row = base + air.sign_row()
    if air.steps[air.sign_row()].out == "sign":
        col = fo.op_witness("add", fo.np.array([y2], dtype=object), fo.np.array([y2], dtype=object), p, air.n)
        for name in ("a", "b", "r", "q", "cl", "ch", "lt"):
            tab[sign_row, getattr(L, name)] = col[name][0]
    tab[sign_row, L.h] = (int(tab[sign_row, L.r[0]]) & 0xFF) >> 1


def test_the_other_root_is_refused_by_the_sign(honest):
    curve, calls, chips, tables, _ = honest
    air = chips.airs[chips.index(f"{curve} decompress")]
    p = CURVES[curve][0]
    bad = forged(tables, lambda t: _flip_root(t, air, 0, p))
    with pytest.raises(ConstraintNotSatisfied, match=rf"{curve} decompress.*the sign is bit 0 of"):
        check_machine(chips, bad)


def _unbalanced(chips, tables, name) -> set:
    return unbalanced_buses(chips, tables, (name,), ("precompile", "field value"))


def small_x():
    """The least secp256k1 x with x³ + 7 a square (Euler's criterion), and its y: x + p < 2^256."""
    p = CURVES["secp256k1"][0]
    x = next(x for x in range(1, 100) if pow(x ** 3 + 7, (p - 1) // 2, p) == 1)
    y = pow(x ** 3 + 7, (p + 1) // 4, p)  # p ≡ 3 mod 4
    return x, y


@pytest.fixture(scope="module")
def k1():
    x, y = small_x()
    calls = [(x, 0, expected_y("secp256k1", y, 0))] + cases("secp256k1")[:1]
    return decompress_run("secp256k1", calls)


def test_a_sign_other_than_0_or_1_finds_no_receiver(k1):
    """The syscall row claims a1 = 2 (SP1 panics on it): the chip only receives (s, 0, 0, 0)."""
    chips, tables, _ = k1
    from pyzkvm.machine.syscall import SYS

    def edit(t):
        sys_ = t.traces["syscall"]
        row = int(fo.np.flatnonzero(sys_[:, SYS.is_precompile] == 1)[0])
        sys_[row, SYS.a1[0]] = 2

    assert "precompile" in _unbalanced(chips, forged(tables, edit), "secp256k1 decompress")


def test_an_unreduced_x_is_named(k1):
    """The READ claims x + p (memory as the forger has it) and every row using x takes x + p as
    its operand (each recomputed: same residues, other quotients): only the x·1 = x check fails."""
    chips, tables, _ = k1
    air = chips.airs[chips.index("secp256k1 decompress")]
    L, p = air.layout(), CURVES["secp256k1"][0]
    x = small_x()[0]
    values = {"x": x + p, "xx": x * x % p}

    def edit(t):
        tab = t.traces[air.name]
        tab[0, L.r] = tab[0, L.b] = fo.to_limbs([x + p], 32)[0]  # the READ
        for k, s in enumerate(air.steps):
            if s.kind == "mul" and "x" in (s.a, s.b):
                a, b = (values[v] if isinstance(v, str) else v for v in (s.a, s.b))
                col = fo.op_witness("mul", fo.np.array([a], dtype=object), fo.np.array([b], dtype=object), p, 32)
                for name in ("a", "b", "r", "q", "cl", "ch", "lt"):
                    tab[k, getattr(L, name)] = col[name][0]

    assert _unbalanced(chips, forged(tables, edit), air.name) == {"field value"}
    # the honest tables balance over the same two chips: the imbalance is the forgery's
    assert _unbalanced(chips, tables, air.name) == set()


def test_a_write_that_never_happened_is_named(k1):
    chips, tables, _ = k1
    air = chips.airs[chips.index("secp256k1 decompress")]
    L = air.layout()
    k = [s.kind for s in air.steps].index("write")

    def edit(t):
        tab = t.traces[air.name]
        tab[k, L.r] = tab[k, L.b]

    assert "field value" in _unbalanced(chips, forged(tables, edit), air.name)
