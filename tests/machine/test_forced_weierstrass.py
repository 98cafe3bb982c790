"""Forced proofs against the short-Weierstrass ADD/DOUBLE chips (pyzkvm/machine/weierstrass.py):
each forgery (tests/machine/field_forgery.py) is a consistent witness of a run — memory, journal
and every other table agree with it — except for the one constraint it targets; proved past the
prover's own check, the verifier rejects it. One program per curve (the proving key is shared
by the curve's attacks): P, Q, R read as hints, ADD(P, Q), DOUBLE(R), P and R journalled.

Per curve, ADD and DOUBLE each get:
* a wrong result coordinate with rebuilt carries: x3 + p with the quotient adjusted (the
  identity holds over Z; only r < p objects) where it fits the limbs (BN254, BLS12-381), else
  x3 + p_BabyBear with carries solved modulo BabyBear's p (only their byte range objects);
* a coordinate read ≥ p (y1 = 2^(8n) − 1; SP1 panics on it for BN254 and BLS12-381, as
  p + y2 − y1 < 0): only ``FieldProgramAir.reads_canonical`` objects.
Then, on secp256k1, a write that never happened, a word read from a wrong address and padding
rows replaying a call. Most are slow; two run by default (secp256k1 ADD's wrong x3, BN254 ADD's
read ≥ p)."""

from __future__ import annotations

import pytest

import dataclasses

import numpy as np

from pyzkvm.errors import BusImbalance, OodEvaluationMismatch
from pyzkvm.machine.weierstrass import WEIERSTRASS_CHIPS
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, prove, setup, verify
from pyzkvm.stark.field import P as BABYBEAR
from tests.machine.field_forgery import Forgery, forge_run
from tests.machine.machine_helpers import forced_proof_rejected, run_machine
from tests.machine.test_machine_weierstrass import CURVES, group_add, point_bytes
from tests.rvasm import DATA_BASE, halt, syscall

HINT_READ, WRITE = 0xF1, 0x02


def curve_program(curve):
    """P, Q, R ← hints; ADD(P, Q); DOUBLE(R); journal P ‖ R."""
    n, add, dbl = CURVES[curve][4:7]
    P, Q, R = (DATA_BASE + 2 * n * i for i in range(3))
    return [syscall(HINT_READ, P, 2 * n), syscall(HINT_READ, Q, 2 * n), syscall(HINT_READ, R, 2 * n),
            syscall(add, P, Q), syscall(dbl, R, 0), syscall(WRITE, 3, P, 2 * n), syscall(WRITE, 3, R, 2 * n), halt(0)]


def honest_inputs(curve):
    G, n = CURVES[curve][3], CURVES[curve][4]
    return [point_bytes(G, n), point_bytes(group_add(curve, G, G), n), point_bytes(G, n)]


@pytest.fixture(scope="module")
def honest():
    """curve → its program, chips, honest tables (on G, 2G, G) and proving key, built on first
    use and shared by the curve's attacks (one setup per curve in this module)."""
    cache = {}

    def get(curve):
        if curve not in cache:
            code = curve_program(curve)
            chips, tables, _ = run_machine(code, inputs=honest_inputs(curve))
            cache[curve] = code, chips, tables, setup(INSECURE_FAST_FOR_TESTS, chips.airs)
        return cache[curve]

    return get


def chip_class(curve, op):
    return next(c for c in WEIERSTRASS_CHIPS if c.name == f"{curve} {op}")


def forge_step_result(curve, op, out, delta):
    """A Forgery whose step ``out`` of ``curve op`` has the attacker's (r, q)."""
    air = chip_class(curve, op)
    target = next(k for k, s in enumerate(air.steps) if s.out == out)
    return Forgery(f"{curve} {op}", result=lambda k, kind, a, b, r, q: delta(kind, r, q) if k == target else None)


def result_delta(curve):
    """x + p with the quotient adjusted (the identity holds over Z) where it fits the limbs, else
    x + p_BabyBear with the quotient kept (the identity holds modulo BabyBear's p only)."""
    p, n = CURVES[curve][0], CURVES[curve][4]
    if 2 * p < 256 ** n:
        return lambda kind, r, q: (r + p, q + (1 if kind in ("sub", "div") else -1))
    return lambda kind, r, q: (r + BABYBEAR, q)


SLOW = pytest.mark.slow
RESULT_CASES = [pytest.param("secp256k1", "add", "x3", id="secp256k1-add-x3")]
RESULT_CASES += [pytest.param(c, op, out, id=f"{c}-{op}-{out}", marks=SLOW)
                 for c in CURVES for op, out in (("add", "x3"), ("double", "y3")) if (c, op) != ("secp256k1", "add")]


@pytest.mark.parametrize("curve,op,out", RESULT_CASES)
def test_a_wrong_result_coordinate_with_rebuilt_carries_does_not_verify(honest, curve, op, out):
    """The debug check names only the byte bus (r < p's gap, or the carries' range)."""
    code, chips, tables, pk = honest(curve)
    _, bad = forge_run(code, forge_step_result(curve, op, out, result_delta(curve)), inputs=honest_inputs(curve))
    assert bad.journal != tables.journal  # the forged point is what the journal claims
    forced_proof_rejected(pk, chips, bad, BusImbalance)


READ_CASES = [pytest.param("bn254", "add", id="bn254-add")]
READ_CASES += [pytest.param(c, op, id=f"{c}-{op}", marks=SLOW) for c in CURVES for op in ("add", "double")
               if (c, op) != ("bn254", "add")]


@pytest.mark.parametrize("curve,op", READ_CASES)
def test_a_coordinate_read_at_or_above_p_does_not_verify(honest, curve, op):
    """y1 = 2^(8n) − 1 in P (ADD) or R (DOUBLE): the rows compute on it as the gadget allows;
    the READ row's r < p (reads_canonical: its gap on the byte bus) is the one constraint broken."""
    code, chips, _, pk = honest(curve)
    n = CURVES[curve][4]
    inputs = honest_inputs(curve)
    which = 0 if op == "add" else 2
    inputs[which] = inputs[which][:n] + bytes([255]) * n
    _, bad = forge_run(code, Forgery(f"{curve} {op}"), inputs=inputs)
    forced_proof_rejected(pk, chips, bad, BusImbalance)


@pytest.mark.slow
@pytest.mark.parametrize("curve", list(CURVES))
def test_the_honest_run_proves_and_verifies(honest, curve):
    _, chips, tables, pk = honest(curve)
    proof = prove(pk, tables.in_order(chips), tables.public_values, public_data=tables.public_data).to_bytes()
    verify(pk.verifying_key, proof, tables.public_values, public_data=tables.public_data)


# ---- secp256k1 for the module: memory and padding ---------------------------------------------

def steps_with(curve, op, k, **change):
    """The chip's steps with step k changed (the attacker's program of the call)."""
    steps = list(chip_class(curve, op).steps)
    steps[k] = dataclasses.replace(steps[k], **change)
    return tuple(steps)


@pytest.mark.slow
def test_a_write_that_never_happened_does_not_verify(honest):
    """ADD's WRITE of x3 writes x1 back (memory unchanged, the journal shows x1): the WRITE row's
    value is not x3 on the field value bus."""
    code, chips, tables, pk = honest("secp256k1")
    k = next(i for i, s in enumerate(chip_class("secp256k1", "add").steps) if s.check == "x3")
    _, bad = forge_run(code, Forgery("secp256k1 add", steps=steps_with("secp256k1", "add", k, check="x1")),
                       inputs=honest_inputs("secp256k1"))
    assert bad.journal[:32] == honest_inputs("secp256k1")[0][:32]  # x1 as it was
    forced_proof_rejected(pk, chips, bad, BusImbalance)


@pytest.mark.slow
def test_a_word_read_from_a_wrong_address_does_not_verify(honest):
    """ADD reads y2 one point further on (R's x, a word no other access of the call touches):
    memory agrees, only the READ row's key = a1 + offset objects."""
    code, chips, tables, pk = honest("secp256k1")
    k = next(i for i, s in enumerate(chip_class("secp256k1", "add").steps) if s.out == "y2")
    _, bad = forge_run(code, Forgery("secp256k1 add", steps=steps_with("secp256k1", "add", k, offset=16)),
                       inputs=honest_inputs("secp256k1"))
    forced_proof_rejected(pk, chips, bad, OodEvaluationMismatch)


@pytest.mark.slow
def test_padding_rows_that_replay_a_call_do_not_verify(honest):
    """DOUBLE's table doubled in height, its padding rows a copy of the call: the copy receives
    a precompile token no syscall sent (and repeats the call's memory accesses)."""
    _, chips, tables, pk = honest("secp256k1")
    bad = dataclasses.replace(tables, traces=dict(tables.traces))
    t = tables.traces["secp256k1 double"]
    bad.traces["secp256k1 double"] = np.concatenate([t, t])
    forced_proof_rejected(pk, chips, bad, BusImbalance)
