"""Forced proofs against the DECOMPRESS chips of secp256k1, secp256r1 and BLS12-381
(pyzkvm/machine/weierstrass_decompress.py), from the malicious prover of
tests/machine/field_forgery.py: tables consistent with the run in everything but the targeted
constraint, proved past the prover's check, rejected by the verifier.

One program per curve: the buffer [y ‖ x] read as a hint, with x = G's x in both halves (so the
y half's old content is x), DECOMPRESS(buffer, 1), the buffer journalled. Per curve:

* a wrong y: the other root p − y written (y² = rhs still holds): only the sign row objects;
* a wrong sign bit: the same, with the chip's a1 claiming the other sign (its sign row then
  holds): the call's token differs from the one the syscall sent;
* (secp256k1) a write that never happened (y's half keeps x) and a word read from a wrong
  address (x read from the y half, which holds the same value).
secp256k1's wrong y runs by default, the rest are slow."""

from __future__ import annotations

import pytest

from pyzkvm.errors import BusImbalance, OodEvaluationMismatch
from pyzkvm.machine.weierstrass_decompress import DECOMPRESS_CHIPS
from tests.machine.field_forgery import Forgery, ProvingKeys, forge_run, steps_with
from tests.machine.machine_helpers import forced_proof_rejected, forged, proof_verifies, run_machine
from tests.machine.test_machine_weierstrass import CURVES as CURVE_PARAMS
from tests.rvasm import DATA_BASE, halt, syscall

HINT_READ, WRITE = 0xF1, 0x02
CURVES = ("secp256k1", "secp256r1", "bls12381")
SIGN = 1


def chip_class(curve):
    return next(c for c in DECOMPRESS_CHIPS if c.name == f"{curve} decompress")


def curve_program(curve):
    n = CURVE_PARAMS[curve][4]
    return [syscall(HINT_READ, DATA_BASE, 2 * n), syscall(chip_class(curve).code, DATA_BASE, SIGN),
            syscall(WRITE, 3, DATA_BASE, 2 * n), halt(0)]


def honest_inputs(curve):
    G, n = CURVE_PARAMS[curve][3], CURVE_PARAMS[curve][4]
    return [G[0].to_bytes(n, "little") * 2]


@pytest.fixture(scope="module")
def keys():
    return ProvingKeys(curve_program)


def sp1_y(curve):
    """SP1's y for G's x and SIGN (executor/curves.py's rule, written here): secp the root of
    parity SIGN, BLS12-381 the larger of y and p − y for SIGN = 1."""
    p, G = CURVE_PARAMS[curve][0], CURVE_PARAMS[curve][3]
    roots = (G[1], p - G[1])
    if curve == "bls12381":
        return max(roots) if SIGN else min(roots)
    return next(y for y in roots if y % 2 == SIGN)


def other_root(curve):
    """The Forgery whose root is p − y: the wrong y for the call's sign."""
    p = CURVE_PARAMS[curve][0]
    return Forgery(f"{curve} decompress", root=lambda y: p - y)


SLOW = pytest.mark.slow


@pytest.mark.parametrize("curve", [pytest.param(c, marks=[] if c == "secp256k1" else SLOW) for c in CURVES])
def test_the_other_root_written_does_not_verify(keys, curve):
    code, chips, pk = keys(curve)
    _, bad = forge_run(code, other_root(curve), inputs=honest_inputs(curve))
    n, p = CURVE_PARAMS[curve][4], CURVE_PARAMS[curve][0]
    assert int.from_bytes(bad.journal[:n], "little") == p - sp1_y(curve)
    forced_proof_rejected(pk, chips, bad, OodEvaluationMismatch)


@pytest.mark.slow
@pytest.mark.parametrize("curve", CURVES)
def test_a_wrong_sign_bit_does_not_verify(keys, curve):
    code, chips, pk = keys(curve)
    _, bad = forge_run(code, other_root(curve), inputs=honest_inputs(curve))
    air = chip_class(curve)
    L = air.layout()

    def claim_the_other_sign(t):
        t.traces[air.name][:len(air.steps), L.x1[0]] ^= 1

    forced_proof_rejected(pk, chips, forged(bad, claim_the_other_sign), BusImbalance)


@pytest.mark.slow
def test_a_write_that_never_happened_does_not_verify(keys):
    """y's WRITE writes x (the half's old content): memory unchanged, the row's value is not y."""
    code, chips, pk = keys("secp256k1")
    k = next(i for i, s in enumerate(chip_class("secp256k1").steps) if s.kind == "write")
    _, bad = forge_run(code, Forgery("secp256k1 decompress", steps=steps_with(chip_class("secp256k1"), k, check="x")),
                       inputs=honest_inputs("secp256k1"))
    forced_proof_rejected(pk, chips, bad, BusImbalance)


@pytest.mark.slow
def test_a_word_read_from_a_wrong_address_does_not_verify(keys):
    """x read from the y half (the same value there): only the READ row's key objects."""
    code, chips, pk = keys("secp256k1")
    _, bad = forge_run(code, Forgery("secp256k1 decompress", steps=steps_with(chip_class("secp256k1"), 0, offset=0)),
                       inputs=honest_inputs("secp256k1"))
    forced_proof_rejected(pk, chips, bad, OodEvaluationMismatch)


@pytest.mark.slow
@pytest.mark.parametrize("curve", ["secp256k1"])
def test_the_honest_run_proves_and_verifies(keys, curve):
    """The baseline beside the forced proofs (one curve: the programs differ only in it; the
    other-root tests check sp1_y against the chip's root on every curve)."""
    code, chips, pk = keys(curve)
    tables = run_machine(code, inputs=honest_inputs(curve))[1]
    assert int.from_bytes(tables.journal[:CURVE_PARAMS[curve][4]], "little") == sp1_y(curve)
    proof_verifies(pk, chips, tables)
