"""UINT256_MUL in the machine (pyzkvm/machine/uint256.py): x ← x·y mod m (m = 0: 2^256) on
moduli from 1 to 2^256 − 1 and m = 0, against Python's integers; attacks, each named by the
debug check (or the bus that no longer balances)."""

from __future__ import annotations

import random
import re

import pytest

from pyzkvm.errors import ConstraintNotSatisfied
from pyzkvm.machine import check_machine
from pyzkvm.machine import field_ops as fo
from pyzkvm.machine.evaluate import compiled_air
from pyzkvm.stark.debug import check_buses
from pyzkvm.stark.field import P as BABYBEAR
from tests.machine.machine_helpers import forged, run_machine
from tests.rvasm import DATA_BASE, halt, syscall

UINT256_MUL = 0x0001011D
TOP = 2**256 - 1
_rng = random.Random(256)
#: (x, y, m): a random modulus, m = 0 (2^256), m = 1, a tiny m under huge operands (⌊x·y/m⌋ ≈ 2^510),
#: x·y < m, the largest m, and BN254's p (r + m fits 32 bytes: the canonical-check attack)
CASES = [(_rng.getrandbits(256), _rng.getrandbits(256), _rng.getrandbits(256)), (TOP, TOP - 5, 0), (TOP, TOP, 1),
         (TOP, TOP - 1, 3), (5, 7, 1000), (_rng.getrandbits(256), TOP, TOP),
         (_rng.getrandbits(256), _rng.getrandbits(256), 21888242871839275222246405745257275088696311157297823662689037894645226208583)]


def expected(x, y, m):
    return x * y % (m or 2**256)


def run_cases(cases):
    data, code = b"", []
    for k, (x, y, m) in enumerate(cases):
        base = DATA_BASE + 96 * k
        data += x.to_bytes(32, "little") + y.to_bytes(32, "little") + m.to_bytes(32, "little")
        code.append(syscall(UINT256_MUL, base, base + 32))
    code += [syscall(0x02, 3, DATA_BASE + 96 * k, 32) for k in range(len(cases))]
    return run_machine(code + [halt(0)], data=data)


@pytest.fixture(scope="module")
def honest():
    return run_cases(CASES)


def test_every_case_checks_and_matches_python(honest):
    chips, tables, _ = honest
    check_machine(chips, tables)
    want = b"".join(expected(*c).to_bytes(32, "little") for c in CASES)
    assert tables.journal == want
    air = chips.airs[chips.index("uint256 mul")]
    assert int(tables.traces["uint256 mul"][:, air.layout().pos].sum()) == 7 * len(CASES)


# ---- attacks -------------------------------------------------------------------------------------

def _air(chips):
    return chips.airs[chips.index("uint256 mul")]


def _row(air, call, out=None, check=None):
    k = next(i for i, s in enumerate(air.steps) if (out is None or s.out == out) and (check is None or s.check == check))
    return len(air.steps) * call + k


def _expect(chips, bad, match):
    with pytest.raises(ConstraintNotSatisfied, match=match):
        check_machine(chips, bad)


def _unbalanced(chips, tables) -> set:
    names = ("syscall", "uint256 mul")
    compiled = [compiled_air(chips.airs[chips.index(x)]) for x in names]
    try:
        check_buses(compiled, [None] * len(names), [([tables.traces[x] for x in names], tables.public_values)],
                    tables.public_data, seed=1)
    except ConstraintNotSatisfied as e:
        return set(re.findall(r"'([^']+)'", str(e))) & {"precompile", "field value"}
    return set()


def _set_int(t, row, cols, value):
    t[row, cols] = fo.to_limbs([value], len(cols))[0]


def test_a_wrong_product_is_named(honest):
    chips, tables, _ = honest
    air = _air(chips)
    L, row = air.layout(), _row(air, 0, out="r")

    def edit(t):
        t.traces["uint256 mul"][row, L.r[0]] ^= 1

    _expect(chips, forged(tables, edit), r"uint256 mul.*coefficient 0 of a op b − r − q·m")


def test_r_plus_m_is_refused_by_the_canonical_check(honest):
    """The BN254-modulus call: r + m with q − 1 and rebuilt carries satisfies the identity; with
    the lt flag at the top byte the gap m_31 − r_31 − 1 is negative, not a byte."""
    chips, tables, _ = honest
    air = _air(chips)
    L, call = air.layout(), len(CASES) - 1
    row, m = _row(air, call, out="r"), CASES[call][2]

    def edit(t):
        tab = t.traces["uint256 mul"]
        r, q = fo.from_limbs(tab[row:row + 1, L.r])[0], fo.from_limbs(tab[row:row + 1, L.q])[0]
        _set_int(tab, row, L.r, r + m)
        _set_int(tab, row, L.q[:32], q - 1)
        cl, ch = fo.op_carries("mul", tab[row:row + 1, L.a], tab[row:row + 1, L.b], tab[row:row + 1, L.r],
                               tab[row:row + 1, L.q[:32]], fo.np.array([m], dtype=object))
        tab[row, L.cl], tab[row, L.ch] = cl[0], ch[0]
        tab[row, L.lt] = 0
        tab[row, L.lt[31]] = 1

    _expect(chips, forged(tables, edit), r"bus .*'byte'")


def test_a_carry_wrapping_modulo_babybear_is_refused_by_the_byte_range(honest):
    """The first call's product with r + p_BabyBear (still < m): carries solving every
    coefficient equation modulo p pass every constraint, but are not bytes."""
    chips, tables, _ = honest
    air = _air(chips)
    L, row, m = air.layout(), _row(air, 0, out="r"), CASES[0][2]

    def edit(t):
        tab = t.traces["uint256 mul"]
        r = fo.from_limbs(tab[row:row + 1, L.r])[0]
        assert r + BABYBEAR < m
        _set_int(tab, row, L.r, r + BABYBEAR)
        tab[row, L.lt] = fo.lt_flags(tab[row:row + 1, L.r], fo.limbs_of(m, 32))[0]
        a, b, rr, q = ([int(x) for x in tab[row, getattr(L, c)]] for c in ("a", "b", "r", "q"))
        ml = fo.limbs_of(m, 32) + [0]
        v = [0] * 64
        for i in range(32):
            for j in range(32):
                v[i + j] += a[i] * b[j]
            v[i] -= rr[i]
        for i in range(32):
            for j in range(33):
                v[i + j] -= q[i] * ml[j]
        inv256, prev = pow(256, -1, BABYBEAR), 0
        for j in range(len(L.cl)):
            prev = (prev - v[j]) * inv256 % BABYBEAR
            x = (prev + fo.OFFSET) % BABYBEAR
            tab[row, L.cl[j]], tab[row, L.ch[j]] = x % 256, x // 256

    _expect(chips, forged(tables, edit), r"bus .*'byte'")


def test_a_zero_modulus_claimed_for_a_nonzero_m_is_named(honest):
    """mz = 1 on a call with m ≠ 0 (every row of the call: mz is shared) would drop the r < m check."""
    chips, tables, _ = honest
    air = _air(chips)
    L = air.layout()

    def edit(t):
        t.traces["uint256 mul"][0:7, L.mz] = 1

    _expect(chips, forged(tables, edit), r"uint256 mul.*(mz = 1 only when m = 0|m = 0 sets mz)")


def test_a_modulus_other_than_the_m_read_is_named(honest):
    """The first call proved mod m' = m ^ 2^24 (the m columns, minv and its three MUL rows all
    recomputed for m': each row is a valid product mod m'): only the READ of m disagrees."""
    chips, tables, _ = honest
    air = _air(chips)
    L, (x, y, m) = air.layout(), CASES[0]
    m2 = m ^ (1 << 24)

    def edit(t):
        tab = t.traces["uint256 mul"]
        tab[0:7, L.m] = fo.to_limbs([m2], 32)[0]
        tab[0:7, L.minv] = pow(sum(m2.to_bytes(32, "little")), BABYBEAR - 2, BABYBEAR)
        xr, yr = x % m2, y % m2
        for out, a, b in (("xr", x, 1), ("yr", y, 1), ("r", xr, yr)):
            col = fo.op_witness("mul", fo.np.array([a], dtype=object), fo.np.array([b], dtype=object),
                                fo.np.array([m2], dtype=object), 32)
            row = _row(air, 0, out=out)
            tab[row, L.q] = 0
            for name in ("a", "b", "r", "q", "cl", "ch", "lt"):
                tab[row, getattr(L, name)[:col[name].shape[1]]] = col[name][0]

    _expect(chips, forged(tables, edit), r"uint256 mul.*the m columns are the m read")


def test_a_word_read_from_a_wrong_address_is_named(honest):
    chips, tables, _ = honest
    air = _air(chips)
    L, row = air.layout(), _row(air, 0, out="mod")

    def edit(t):
        t.traces["uint256 mul"][row, L.ekey] -= 8  # y's words in place of m's

    _expect(chips, forged(tables, edit), r"uint256 mul.*the element's first word key")


def test_a_write_that_never_happened_is_named(honest):
    chips, tables, _ = honest
    air = _air(chips)
    L, row = air.layout(), _row(air, 0, check="r")

    def edit(t):
        tab = t.traces["uint256 mul"]
        tab[row, L.r] = tab[row, L.b]

    assert "field value" in _unbalanced(chips, forged(tables, edit))


def test_a_padding_row_is_zero(honest):
    chips, tables, _ = honest
    air = _air(chips)
    L = air.layout()

    def edit(t):
        t.traces["uint256 mul"][7 * len(CASES), L.mz] = 1

    _expect(chips, forged(tables, edit), r"uint256 mul.*padding row is 0")


def test_a_call_made_inactive_leaves_the_syscall_unanswered(honest):
    chips, tables, _ = honest
    air = _air(chips)
    L = air.layout()

    def edit(t):
        t.traces["uint256 mul"][0:7, L.pos] = 0

    assert "precompile" in _unbalanced(chips, forged(tables, edit))
