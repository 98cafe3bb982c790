"""U256XU2048_MUL in the machine (pyzkvm/machine/u256x2048.py): a·b = lo + 2^2048·hi against
Python's integers (random, all-ones, zero and one operands); attacks on the carry chain, the
register reads of a2/a3 and the writes, each named by the debug check (or the unbalanced bus)."""

from __future__ import annotations

import random

import pytest

from pyzkvm.errors import ConstraintNotSatisfied
from pyzkvm.machine import check_machine
from pyzkvm.machine import field_ops as fo
from tests.machine.machine_helpers import forged, run_machine, unbalanced_buses
from tests.rvasm import DATA_BASE, asm, halt

U256XU2048_MUL = 0x0001012F
_rng = random.Random(2048)
CASES = [(_rng.getrandbits(256), _rng.getrandbits(2048)), (2**256 - 1, 2**2048 - 1), (0, _rng.getrandbits(2048)),
         (1, 2**2048 - 1)]
STRIDE = 32 + 256 + 256 + 32  # a, b, lo, hi


def call(base):
    """ecall with a0 → a, a1 → b, a2 → lo, a3 → hi."""
    regs = {10: base, 11: base + 32, 12: base + 288, 13: base + 544}
    return [asm.li(r, v) for r, v in regs.items()] + [asm.li(5, U256XU2048_MUL), asm.ecall()]


def run_cases(cases):
    data, code = b"", []
    for k, (a, b) in enumerate(cases):
        data += a.to_bytes(32, "little") + b.to_bytes(256, "little") + bytes(288)
        code.append(call(DATA_BASE + STRIDE * k))
    for k in range(len(cases)):  # journal lo ‖ hi
        code += [asm.li(10, 3), asm.li(11, DATA_BASE + STRIDE * k + 288), asm.li(12, 288), asm.li(5, 0x02), asm.ecall()]
    return run_machine(code + [halt(0)], data=data)


@pytest.fixture(scope="module")
def honest():
    return run_cases(CASES)


def test_every_product_checks_and_matches_python(honest):
    chips, tables, _ = honest
    check_machine(chips, tables)
    want = b"".join((a * b).to_bytes(288, "little") for a, b in CASES)  # lo (256 bytes) then hi (32)
    assert tables.journal == want


def _air(chips):
    return chips.airs[chips.index("u256x2048 mul")]


def _row(air, call, out=None, check=None):
    return len(air.steps) * call + next(k for k, s in enumerate(air.steps) if (out is None or s.out == out)
                                        and (check is None or s.check == check))


def _expect(chips, bad, match):
    with pytest.raises(ConstraintNotSatisfied, match=match):
        check_machine(chips, bad)


def _unbalanced(chips, tables) -> set:
    return unbalanced_buses(chips, tables, ("u256x2048 mul",), ("precompile", "field value"))


def test_a_dropped_carry_is_named(honest):
    """Chunk 3's row proved without the carry from chunk 2 (cin = 0, its r, q and carries
    recomputed: a valid product row): the chain's transition names it."""
    chips, tables, _ = honest
    air = _air(chips)
    L, row = air.layout(), _row(air, 0, out="lo3")

    def edit(t):
        tab = t.traces[air.name]
        a, b = fo.from_limbs(tab[row:row + 1, L.a])[0], fo.from_limbs(tab[row:row + 1, L.b])[0]
        col = fo.op_witness("mul", fo.np.array([a], dtype=object), fo.np.array([b], dtype=object),
                            fo.np.array([2**256], dtype=object), 32, bound=False, q_limbs=32, m_limbs=33)
        tab[row, L.cin] = 0
        tab[row, L.q] = 0
        for name in ("r", "q", "cl", "ch"):
            tab[row, getattr(L, name)[:col[name].shape[1]]] = col[name][0]

    _expect(chips, forged(tables, edit), r"u256x2048 mul.*the carry into chunk row \d+ is the previous row's quotient")


def test_a_wrong_chunk_is_named(honest):
    chips, tables, _ = honest
    air = _air(chips)
    L, row = air.layout(), _row(air, 0, out="lo5")

    def edit(t):
        t.traces[air.name][row, L.r[7]] ^= 4

    _expect(chips, forged(tables, edit), r"u256x2048 mul.*coefficient 7 of a op b − r − q·m")


def test_a_lo_pointer_other_than_the_register_is_named(honest):
    """The call writes lo one word further than a2 says: x2 (a2's bytes, shared by the call)
    moved by 4 with its buffer checks and the lo WRITE rows' keys recomputed — every constraint
    holds, but the register read of x12 claims a value register 12 never held: the memory
    argument does not balance."""
    from pyzkvm.machine.word_buffer import buffer_witness

    chips, tables, _ = honest
    air = _air(chips)
    L, R = air.layout(), len(air.steps)

    def edit(t):
        tab = t.traces[air.name]
        ptr = int.from_bytes(bytes(int(x) for x in tab[0, L.x2]), "little") + 4
        tab[0:R, L.x2] = list(ptr.to_bytes(4, "little"))
        buffer_witness(tab, fo.np.array([0]), fo.np.array([ptr]), 64, L.p2q, L.p2lo, L.p2room)
        tab[0:R, L.p2q] = tab[0, L.p2q]
        for j in range(8):
            tab[_row(air, 0, check=f"lo{j}"), L.ekey] += 1

    _expect(chips, forged(tables, edit), r"bus .*'memory'")


def test_a_word_written_to_a_wrong_address_is_named(honest):
    chips, tables, _ = honest
    air = _air(chips)
    L, row = air.layout(), _row(air, 0, check="hi")

    def edit(t):
        t.traces[air.name][row, L.ekey] += 1

    _expect(chips, forged(tables, edit), r"u256x2048 mul.*the element's first word key")


def test_a_write_that_never_happened_is_named(honest):
    chips, tables, _ = honest
    air = _air(chips)
    L, row = air.layout(), _row(air, 1, check="lo2")

    def edit(t):
        tab = t.traces[air.name]
        tab[row, L.r] = tab[row, L.b]

    assert "field value" in _unbalanced(chips, forged(tables, edit))


def test_a_call_made_inactive_leaves_the_syscall_unanswered(honest):
    chips, tables, _ = honest
    air = _air(chips)
    L = air.layout()

    def edit(t):
        t.traces[air.name][0:len(air.steps), L.pos] = 0

    assert "precompile" in _unbalanced(chips, forged(tables, edit))
