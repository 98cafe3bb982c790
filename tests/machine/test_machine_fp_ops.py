"""The FP / FP2 chips of BN254 and BLS12-381 (pyzkvm/machine/fp_ops.py) in the machine: every
operation on reduced and unreduced operands against Python's integers (Fp2 = Fp[u]/(u² + 1)),
cross-checked with py_ecc's FQ and FQ2; attacks on BN254's tables."""

from __future__ import annotations

import random

import pytest

from pyzkvm.errors import ConstraintNotSatisfied
from pyzkvm.machine import check_machine
from pyzkvm.machine import field_ops as fo
from tests.machine.machine_helpers import forged, run_machine, unbalanced_buses
from tests.rvasm import DATA_BASE, halt, syscall

# the base fields' primes (EIP-196 for BN254; the BLS12-381 draft / zkcrypto for BLS12-381) and FP_ADD's code
FIELDS = {"bn254": (21888242871839275222246405745257275088696311157297823662689037894645226208583, 32, 0x00010126),
          "bls12381": (int("1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab", 16),
                       48, 0x00010120)}
OPS = ("fp add", "fp sub", "fp mul", "fp2 add", "fp2 sub", "fp2 mul")


def oracle(op, x, y, p):
    """The answer from the field definitions: Fp ops on residues; Fp2 on pairs with u² = −1."""
    if op.startswith("fp2"):
        (a0, a1), (b0, b1) = x, y
        return {"fp2 add": ((a0 + b0) % p, (a1 + b1) % p), "fp2 sub": ((a0 - b0) % p, (a1 - b1) % p),
                "fp2 mul": ((a0 * b0 - a1 * b1) % p, (a0 * b1 + a1 * b0) % p)}[op]
    return {"fp add": (x + y) % p, "fp sub": (x - y) % p, "fp mul": x * y % p}[op]


def operands(field, rng):
    """Per op: reduced operands, and for the Fp ops (SP1 reduces them first) also unreduced ones."""
    p, n, _ = FIELDS[field]
    out = []
    for op in OPS:
        if op.startswith("fp2"):
            out.append((op, (rng.randrange(p), rng.randrange(p)), (rng.randrange(p), rng.randrange(p))))
        else:
            out.append((op, rng.randrange(p), rng.randrange(p)))
            out.append((op, 256 ** n - 1 - rng.randrange(1000), p + rng.randrange(p)))  # both ≥ p
    return out


def as_bytes(v, n):
    return b"".join(c.to_bytes(n, "little") for c in (v if isinstance(v, tuple) else (v,)))


def field_run(field, calls):
    p, n, first = FIELDS[field]
    data, code, at = b"", [], []
    for op, x, y in calls:
        base = DATA_BASE + len(data)
        xb, yb = as_bytes(x, n), as_bytes(y, n)
        data += xb + yb
        code.append(syscall(first + OPS.index(op), base, base + len(xb)))
        at.append((base, len(xb)))
    code += [syscall(0x02, 3, base, size) for base, size in at]
    return run_machine(code + [halt(0)], data=data)


def test_the_oracle_agrees_with_py_ecc():
    from py_ecc.fields import bls12_381_FQ, bls12_381_FQ2, bn128_FQ, bn128_FQ2

    rng = random.Random(7)
    for field, fq, fq2 in (("bn254", bn128_FQ, bn128_FQ2), ("bls12381", bls12_381_FQ, bls12_381_FQ2)):
        p = FIELDS[field][0]
        assert fq.field_modulus == p
        x, y = (rng.randrange(p), rng.randrange(p)), (rng.randrange(p), rng.randrange(p))
        for op, f in (("fp2 add", lambda a, b: a + b), ("fp2 sub", lambda a, b: a - b), ("fp2 mul", lambda a, b: a * b)):
            c = f(fq2(list(x)), fq2(list(y))).coeffs
            assert (c[0].n, c[1].n) == oracle(op, x, y, p)
        assert (fq(x[0]) * fq(y[0])).n == oracle("fp mul", x[0], y[0], p)


@pytest.fixture(scope="module", params=list(FIELDS))
def honest(request):
    calls = operands(request.param, random.Random(request.param))
    return (request.param, calls, *field_run(request.param, calls))


def test_every_operation_checks_and_matches_the_field(honest):
    field, calls, chips, tables, _ = honest
    p, n, _ = FIELDS[field]
    check_machine(chips, tables)
    assert tables.journal == b"".join(as_bytes(oracle(op, x, y, p), n) for op, x, y in calls)
    for op in OPS:
        air = chips.airs[chips.index(f"{field} {op}")]
        count = sum(c[0] == op for c in calls)
        assert int(tables.traces[air.name][:, air.layout().pos].sum()) == count * len(air.steps)


# ---- attacks (BN254) ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bn():
    calls = operands("bn254", random.Random(1))
    return (calls, *field_run("bn254", calls))


def _air(chips, op):
    return chips.airs[chips.index(f"bn254 {op}")]


def _row(air, out=None, check=None):
    return next(k for k, s in enumerate(air.steps) if (out is None or s.out == out) and (check is None or s.check == check))


def _expect(chips, bad, match):
    with pytest.raises(ConstraintNotSatisfied, match=match):
        check_machine(chips, bad)


def _unbalanced(chips, tables, name) -> set:
    return unbalanced_buses(chips, tables, (name,), ("precompile", "field value"))


def test_a_wrong_fp2_cross_term_is_named(bn):
    """c0 = x0·y0 − x1·y1 computed as x0·y0 + x1·y1 (u² = +1): the SUB row's identity breaks."""
    _, chips, tables, _ = bn
    air = _air(chips, "fp2 mul")
    L, k, p = air.layout(), _row(air, out="c0"), FIELDS["bn254"][0]

    def edit(t):
        tab = t.traces[air.name]
        a, b = fo.from_limbs(tab[k:k + 1, L.a])[0], fo.from_limbs(tab[k:k + 1, L.b])[0]
        tab[k, L.r] = fo.to_limbs([(a + b) % p], 32)[0]

    _expect(chips, forged(tables, edit), r"bn254 fp2 mul.*coefficient \d+ of a op b − r − q·m")


def test_r_plus_p_is_refused_by_the_canonical_check(bn):
    """FP_ADD's second call (operands ≥ p, so q ≥ 1): r + p with q − 1 and rebuilt carries
    satisfies the identity; with the lt flag at the top byte the gap is negative."""
    _, chips, tables, _ = bn
    air = _air(chips, "fp add")
    L, k, p = air.layout(), len(air.steps) + _row(air, out="r"), FIELDS["bn254"][0]

    def edit(t):
        tab = t.traces[air.name]
        r, q = fo.from_limbs(tab[k:k + 1, L.r])[0], fo.from_limbs(tab[k:k + 1, L.q])[0]
        assert q >= 1
        tab[k, L.r] = fo.to_limbs([r + p], 32)[0]
        tab[k, L.q] = fo.to_limbs([q - 1], 33)[0]
        cl, ch = fo.op_carries("add", tab[k:k + 1, L.a], tab[k:k + 1, L.b], tab[k:k + 1, L.r], tab[k:k + 1, L.q], p)
        tab[k, L.cl], tab[k, L.ch] = cl[0], ch[0]
        tab[k, L.lt] = 0
        tab[k, L.lt[31]] = 1

    _expect(chips, forged(tables, edit), r"bus .*'byte'")


def test_a_word_read_from_a_wrong_address_is_named(bn):
    _, chips, tables, _ = bn
    air = _air(chips, "fp2 sub")
    L, k = air.layout(), _row(air, out="y1")

    def edit(t):
        t.traces[air.name][k, L.ekey] -= 8  # y0's words in place of y1's

    _expect(chips, forged(tables, edit), r"bn254 fp2 sub.*the element's first word key")


def test_a_write_that_never_happened_is_named(bn):
    _, chips, tables, _ = bn
    air = _air(chips, "fp sub")
    L, k = air.layout(), _row(air, check="r")

    def edit(t):
        tab = t.traces[air.name]
        tab[k, L.r] = tab[k, L.b]

    assert "field value" in _unbalanced(chips, forged(tables, edit), air.name)


def test_a_call_made_inactive_leaves_the_syscall_unanswered(bn):
    _, chips, tables, _ = bn
    air = _air(chips, "fp mul")
    L = air.layout()

    def edit(t):
        t.traces[air.name][0:len(air.steps), L.pos] = 0

    assert "precompile" in _unbalanced(chips, forged(tables, edit), air.name)


def test_fp2_sub_with_a_subtrahend_above_a_plus_p_has_no_witness(bn):
    """SP1 panics on FP2_SUB when b > a + p: a row claiming c0 for y0 + p (an unreduced b, q + 1,
    carries rebuilt so the identity holds) breaks the quotient's 0-or-1 rule."""
    _, chips, tables, _ = bn
    air = _air(chips, "fp2 sub")
    L, k, p = air.layout(), _row(air, out="c0"), FIELDS["bn254"][0]

    def edit(t):
        tab = t.traces[air.name]
        b, q = fo.from_limbs(tab[k:k + 1, L.b])[0], fo.from_limbs(tab[k:k + 1, L.q])[0]
        tab[k, L.b] = fo.to_limbs([b + 2 * p], 32)[0]
        tab[k, L.q] = fo.to_limbs([q + 2], 33)[0]
        cl, ch = fo.op_carries("sub", tab[k:k + 1, L.a], tab[k:k + 1, L.b], tab[k:k + 1, L.r], tab[k:k + 1, L.q], p)
        tab[k, L.cl], tab[k, L.ch] = cl[0], ch[0]

    _expect(chips, forged(tables, edit), r"bn254 fp2 sub.*quotient is 0 or 1")


def test_fp2_sub_that_sp1_accepts_but_the_chip_cannot_prove_is_refused():
    """x0 = p + 5 (unreduced), y0 = 2p ≤ x0 + p: SP1 returns 5, but the SUB row would need q = 2."""
    from pyzkvm.errors import UnsupportedProgram

    p = FIELDS["bn254"][0]
    with pytest.raises(UnsupportedProgram, match="fp2 sub.*not provable"):
        field_run("bn254", [("fp2 sub", (p + 5, 1), (2 * p, 0))])
