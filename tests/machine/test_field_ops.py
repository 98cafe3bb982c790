"""The non-native field gadget (machine/field_ops.py) on its own: a toy AIR with one operation
per row, checked against Python's integers for ed25519's p (32 limbs) and BLS12-381's p (48
limbs), and the forgeries the gadget must refuse — a wrong r, r + m in place of r, and a
quotient/carry change that keeps every coefficient equation true modulo BabyBear's p (it wraps)
but puts a carry out of the byte range."""

from __future__ import annotations

import random

import numpy as np
import pytest

from pyzkvm.errors import ConstraintNotSatisfied
from pyzkvm.machine import buses
from pyzkvm.machine import field_ops as fo
from pyzkvm.machine.chip import Chip
from pyzkvm.machine.evaluate import compiled_air, evaluate_on_trace, trace_leaves
from pyzkvm.machine.layout import Layout
from pyzkvm.stark.air import bus_id
from pyzkvm.stark.debug import check_constraints
from pyzkvm.stark.field import P as BABYBEAR

ED_P = 2**255 - 19  # written here, not imported: RFC 8032 §5.1
BLS_P = int("1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab", 16)


def toy(n: int, modulus: int):
    """One field operation per row, its kind a one-hot flag column."""
    lay = Layout(f"mul div add sub {fo.op_columns(n)}")

    class ToyFieldAir(Chip):
        name, width = f"toy field {n}", lay.width

        def constraints(self, b):
            m = b.main
            cols = lambda x: [m(i) for i in getattr(lay, x)]  # noqa: E731
            kind = {k: m(getattr(lay, k)) for k in fo.KINDS}
            for f in kind.values():
                b.assert_bool(f, "kind flag is boolean")
            on = b.declare_active(sum(kind.values()))
            fo.assert_field_op(b, kind, cols("a"), cols("b"), cols("r"), cols("q"), cols("cl"), cols("ch"), modulus, "toy")
            fo.assert_below(b, cols("r"), fo.limbs_of(modulus, n), cols("lt"), on, "toy")
            fo.op_range_checks(b, cols("r"), cols("q"), cols("cl"), cols("ch"), on)

    return ToyFieldAir(), lay


def rows_for(lay, n, modulus, ops):
    """ops: [(kind, a, b)] → the toy table (int64) and the expected results."""
    t = np.zeros((len(ops), lay.width), dtype=np.int64)
    expect = []
    for k in fo.KINDS:
        idx = [i for i, op in enumerate(ops) if op[0] == k]
        if not idx:
            continue
        a = np.array([ops[i][1] for i in idx], dtype=object)
        bb = np.array([ops[i][2] for i in idx], dtype=object)
        w = fo.op_witness(k, a, bb, modulus, n)
        t[idx, getattr(lay, k)] = 1
        for name in ("a", "b", "r", "q", "cl", "ch", "lt"):
            t[np.ix_(idx, getattr(lay, name))] = w[name]
        expect += list(zip(idx, w["r_int"]))
    return t, dict(expect)


def expected(kind, a, b, m):
    """The answer, from Python's integers (not the gadget's witness code)."""
    return {"mul": a * b % m, "add": (a + b) % m, "sub": (a - b) % m, "div": a * pow(b, -1, m) % m}[kind]


def byte_lookups_ok(air, t) -> bool:
    """Every (tag 0) lookup this table sends on the byte bus is a pair of bytes."""
    comp = compiled_air(air)
    its = [it for it in comp.interactions if it.bus == bus_id(buses.BYTE)]
    vals = evaluate_on_trace(comp, [e for it in its for e in (it.values[1], it.values[2], it.multiplicity)], t, [])
    for i in range(len(its)):
        x, y, mult = (np.asarray(v, dtype=np.int64) for v in vals[3 * i:3 * i + 3])
        if np.any((mult != 0) & ((x > 255) | (y > 255))):
            return False
    return True


def check(air, t):
    check_constraints(compiled_air(air), trace_leaves(air, np.asarray(t % BABYBEAR, dtype=np.uint32), []), len(t))


@pytest.fixture(scope="module", params=[(32, ED_P), (48, BLS_P)], ids=["ed25519", "bls12-381"])
def case(request):
    n, m = request.param
    air, lay = toy(n, m)
    rng = random.Random(n)
    big = 256 ** n - 1
    ops = []
    for k in fo.KINDS:
        for _ in range(3):
            a, b = rng.randrange(m), rng.randrange(1, m)
            ops.append((k, a, b))
    # edges: unreduced operands (any bytes) for MUL/ADD, zeros, m − 1
    ops += [("mul", big, big), ("add", big, big), ("mul", 0, big), ("add", m - 1, 1), ("sub", 0, m - 1),
            ("div", 1, m - 1), ("mul", m - 1, m - 1)]
    t, results = rows_for(lay, n, m, ops)
    return air, lay, n, m, ops, t, results


def test_results_agree_with_python_integers_and_pass(case):
    air, lay, n, m, ops, t, results = case
    for i, (k, a, b) in enumerate(ops):
        assert results[i] == expected(k, a, b, m)
        assert fo.from_limbs(t[i:i + 1, lay.r])[0] == results[i]
    check(air, t)
    assert byte_lookups_ok(air, t)
    # the bound argument's premise: every honest carry is within OFFSET of 0
    c = t[:, lay.cl] + 256 * t[:, lay.ch] - fo.OFFSET
    assert np.abs(c).max() < fo.OFFSET


def _set_int(t, row, cols, value):
    t[row, cols] = fo.to_limbs([value], len(cols))[0]


def test_a_wrong_result_is_named(case):
    air, lay, n, m, ops, t, results = case
    bad = t.copy()
    _set_int(bad, 0, lay.r, (results[0] + 1) % m)
    with pytest.raises(ConstraintNotSatisfied, match="coefficient 0 of a op b − r − q·m"):
        check(air, bad)


def test_r_plus_m_is_refused_by_the_canonical_check(case):
    """r + m with q − 1 satisfies the identity (rebuilt carries): only r < m rejects it."""
    air, lay, n, m, ops, t, results = case
    i = next(i for i, op in enumerate(ops) if op[0] == "mul" and results[i] + m < 256 ** n)
    bad = t.copy()
    a, b = ops[i][1], ops[i][2]
    r2, q2 = results[i] + m, a * b // m - 1
    _set_int(bad, i, lay.r, r2)
    _set_int(bad, i, lay.q, q2)
    cl, ch = fo.op_carries("mul", bad[i:i + 1, lay.a], bad[i:i + 1, lay.b], bad[i:i + 1, lay.r], bad[i:i + 1, lay.q], m)
    bad[i, lay.cl], bad[i, lay.ch] = cl[0], ch[0]
    # the identity holds; whichever lt flag is set, r < m fails: equal top bytes or a negative gap
    for top in range(n):
        bad[i, lay.lt] = 0
        bad[i, lay.lt[top]] = 1
        try:
            check(air, bad)
        except ConstraintNotSatisfied as e:
            assert "r < bound" in str(e)
            continue
        assert not byte_lookups_ok(air, bad), f"r + m accepted with lt at byte {top}"


def test_a_result_off_by_babybears_p_satisfies_every_equation_mod_p_but_not_the_carry_range(case):
    """The "values that wrap modulo p" attack: r' = r + p_BabyBear (still < m, so the canonical
    check passes) changes v(256) by a multiple of p, so carries solving every coefficient
    equation *modulo p* exist (c_k = (c_{k−1} − v_k)/256 in the field). Every constraint holds;
    only the carries' byte range (the integer bound argument) rejects the forgery."""
    air, lay, n, m, ops, t, results = case
    i = next(i for i, op in enumerate(ops) if op[0] == "mul" and results[i] + BABYBEAR < m)
    bad = t.copy()
    _set_int(bad, i, lay.r, results[i] + BABYBEAR)
    bad[i, lay.lt] = fo.lt_flags(bad[i:i + 1, lay.r], fo.limbs_of(m, n))[0]
    v = _coefficients(bad[i], lay, n, m)
    inv256, prev = pow(256, -1, BABYBEAR), 0
    for k in range(len(lay.cl)):
        prev = (prev - v[k]) * inv256 % BABYBEAR
        x = (prev + fo.OFFSET) % BABYBEAR
        bad[i, lay.cl[k]], bad[i, lay.ch[k]] = x % 256, x // 256
    assert (v[-1] - prev) % BABYBEAR == 0  # the top equation closes mod p
    check(air, bad)  # every constraint holds modulo p ...
    assert not byte_lookups_ok(air, bad)  # ... and the carry bytes are not bytes


def _coefficients(row, lay, n, m):
    a, b, r, q = (list(int(x) for x in row[getattr(lay, c)]) for c in ("a", "b", "r", "q"))
    ml = fo.limbs_of(m, n)
    v = [0] * (n + len(q) - 1)
    for i in range(n):
        for j in range(n):
            v[i + j] += a[i] * b[j]
        v[i] -= r[i]
    for i in range(len(q)):
        for j in range(n):
            v[i + j] -= q[i] * ml[j]
    return v


def test_the_bound_argument_holds_for_the_largest_limb_count():
    """The module docstring's bound: |v_k| + |c_{k−1}| + 256·|c_k| < p/2 for n = 48."""
    n = 48
    v_max = (n + 1) * 255 ** 2 + 510
    c_max = 1 << 16
    assert v_max + c_max + 256 * c_max < BABYBEAR // 2
    # and honest carries need no more than OFFSET: |c| ≤ (|c| + v_max)/256 ⇒ |c| ≤ v_max/255
    assert v_max / 255 < fo.OFFSET


def test_a_modulus_in_columns_with_a_long_quotient():
    """The interface UINT256_MUL-like chips use: the modulus is read (columns, bytes), so it may be
    tiny and q needs 2n limbs; every modulus from 1 to 2^256 − 1, against Python's integers."""
    n = 32
    lay = Layout(f"mul m:{n} {fo.op_columns(n, q_limbs=2 * n)}")

    class ToyModulusAir(Chip):
        name, width = "toy variable modulus", lay.width

        def constraints(self, b):
            m = b.main
            cols = lambda x: [m(i) for i in getattr(lay, x)]  # noqa: E731
            on = b.declare_active(m(lay.mul))
            b.assert_bool(on, "kind flag is boolean")
            fo.assert_field_op(b, {fo.MUL: on}, cols("a"), cols("b"), cols("r"), cols("q"), cols("cl"), cols("ch"),
                               cols("m"), "toy")
            fo.assert_below(b, cols("r"), cols("m"), cols("lt"), on, "toy")
            fo.op_range_checks(b, cols("r"), cols("q"), cols("cl"), cols("ch"), on)

    rng = random.Random(7)
    mods = [1, 3, 255, 256, 2**64 + 13, ED_P, 2**256 - 1] + [rng.getrandbits(rng.randrange(8, 257)) | 1 for _ in range(5)]
    a = np.array([rng.getrandbits(256) for _ in mods], dtype=object)
    bb = np.array([rng.getrandbits(256) for _ in mods], dtype=object)
    w = fo.op_witness(fo.MUL, a, bb, np.array(mods, dtype=object), n, q_limbs=2 * n)
    assert w["r_int"].tolist() == [int(x) * int(y) % m for x, y, m in zip(a, bb, mods)]
    t = np.zeros((len(mods), lay.width), dtype=np.int64)
    t[:, lay.mul] = 1
    t[:, lay.m] = fo.to_limbs(mods, n)
    for name in ("a", "b", "r", "q", "cl", "ch", "lt"):
        t[:, getattr(lay, name)] = w[name]
    air = ToyModulusAir()
    check(air, t)
    assert byte_lookups_ok(air, t)
    bad = t.copy()
    bad[1, lay.r] = fo.to_limbs([int(w["r_int"][1]) + 3], n)[0]  # r + m for m = 3, q − 1: caught by r < m
    bad[1, lay.q] = fo.to_limbs([int(a[1]) * int(bb[1]) // 3 - 1], 2 * n)[0]
    bad[1, lay.cl], bad[1, lay.ch] = (x[0] for x in fo.op_carries(fo.MUL, bad[1:2, lay.a], bad[1:2, lay.b], bad[1:2, lay.r],
                                                                   bad[1:2, lay.q], bad[1:2, lay.m]))
    check_failed = False
    try:
        check(air, bad)
    except ConstraintNotSatisfied:
        check_failed = True
    assert check_failed or not byte_lookups_ok(air, bad)
