"""The UINT256_MUL chip (machine/uint256.py: a field program whose modulus is read from memory):
x·y mod m against Python's integers for moduli from 0 (2^256) and 1 up to 2^256 − 1, and the
forgeries of the modulus handling named by the debug check."""

from __future__ import annotations

import random

import pytest

from pyzkvm.errors import ConstraintNotSatisfied
from pyzkvm.machine import check_machine
from pyzkvm.machine import field_ops as fo
from pyzkvm.machine.uint256 import Uint256MulAir
from tests.machine.machine_helpers import forged, run_machine
from tests.rvasm import DATA_BASE, halt, syscall

UINT256_MUL = 0x0001011D
rng = random.Random(3)
CASES = [(rng.getrandbits(256), rng.getrandbits(256), m)
         for m in (0, 1, 3, 2**255 - 19, rng.getrandbits(256), 2**256 - 1, 2**64)]
CASES.append((2**256 - 1, 2**256 - 1, 0))
L = Uint256MulAir.layout()
A = DATA_BASE + 12


def le(x: int) -> bytes:
    return x.to_bytes(32, "little")


@pytest.fixture(scope="module")
def honest():
    data, code = bytes(12), []
    for i, (x, y, m) in enumerate(CASES):
        data += le(x) + le(y) + le(m)
        code.append(syscall(UINT256_MUL, A + 96 * i, A + 96 * i + 32))
    code += [syscall(0x02, 3, A, 96 * len(CASES)), halt(0)]
    return run_machine(code, data=data)


def test_products_agree_with_python_integers_and_pass(honest):
    chips, tables, _ = honest
    j = tables.journal
    for i, (x, y, m) in enumerate(CASES):
        assert int.from_bytes(j[96 * i:96 * i + 32], "little") == x * y % (m or 1 << 256)
        assert j[96 * i + 32:96 * i + 96] == le(y) + le(m)  # y and m are left as they were
    check_machine(chips, tables)
    assert tables.traces["uint256 mul"][:, L.pos].sum() == 5 * len(CASES)


def _int(row, cols) -> int:
    return int.from_bytes(bytes(int(v) for v in row[cols]), "little")


def wrong_product(t):  # call 3's result + 1
    row = t.traces["uint256 mul"][5 * 3 + 3]
    row[L.r] = list(le((_int(row, L.r) + 1) % (2**255 - 19)))


def r_plus_m(t):
    """Call 2 (m = 3): r + 3 with q − 1 and rebuilt carries; the lt flags kept (byte 0)."""
    row = t.traces["uint256 mul"][5 * 2 + 3]
    r, q = _int(row, L.r), _int(row, L.q)
    row[L.r] = list(le(r + 3))
    row[L.q] = list((q - 1).to_bytes(64, "little"))
    cl, ch = fo.op_carries(fo.MUL, row[None, L.a], row[None, L.b], row[None, L.r], row[None, L.q],
                           row[None, [*L.m, L.mz]])
    row[L.cl], row[L.ch] = cl[0], ch[0]


def modulus_claimed_zero(t):
    """Call 1 (m = 1) with the "m is 0" flag set: the modulus becomes m + 2^256 = 2^256 + 1, the
    result x·y mod (2^256 + 1) with its q and carries; the identity and r < m + 2^256 hold, m's
    bytes are still what was read (every bus balances): only the m = 0 test rejects it."""
    row = t.traces["uint256 mul"][5 * 1 + 3]
    x, y, m = CASES[1][0], CASES[1][1], 2**256 + 1
    row[L.r], row[L.q] = list(le(x * y % m)), list((x * y // m).to_bytes(64, "little"))
    row[L.mz], row[L.minv] = 1, 0
    cl, ch = fo.op_carries(fo.MUL, row[None, L.a], row[None, L.b], row[None, L.r], row[None, L.q],
                           row[None, [*L.m, L.mz]])
    row[L.cl], row[L.ch] = cl[0], ch[0]
    row[L.lt] = 0
    row[L.lt[32]] = 1


ATTACKS = {
    "wrong product": (wrong_product, r"uint256 mul.*coefficient 0 of a op b − r − q·m.*fails at row 18 "),
    "r + m in place of r (m = 3)": (r_plus_m, r"bus .*'byte'"),
    "a modulus claimed to be 0": (modulus_claimed_zero, r"uint256 mul.*m = 0 ⇒ its bytes are 0.*fails at row 8 "),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_debug_check_names_the_forgery(honest, attack):
    chips, tables, _ = honest
    edit, match = ATTACKS[attack]
    with pytest.raises(ConstraintNotSatisfied, match=match):
        check_machine(chips, forged(tables, edit))


def test_the_chip_obeys_the_inactive_row_rule_and_is_left_out_when_unused():
    """compile_air accepts it (every multiplicity vanishes where Σ pos = 0), and a run without
    UINT256_MUL leaves its all-zero table out of the proof (optional)."""
    from pyzkvm.machine.evaluate import compiled_air
    from pyzkvm.stark.optional import left_out

    air = Uint256MulAir()
    assert compiled_air(air).builder.active is not None and air.optional
    chips, tables, _ = run_machine([syscall(0x02, 3, DATA_BASE, 4), halt(0)], data=bytes(16))
    assert left_out(compiled_air(chips.airs[chips.index("uint256 mul")]), tables.traces["uint256 mul"])
