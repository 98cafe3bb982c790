"""Forced proofs against the short-Weierstrass ADD/DOUBLE chips (pyzkvm/machine/weierstrass.py):
each forgery (tests/machine/field_forgery.py) is a consistent witness of a run — memory, journal
and every other table agree with it — except for the one constraint it targets; proved past the
prover's own check, the verifier rejects it. One program per curve (the proving key is shared
by the curve's attacks): P, Q, R read as hints, ADD(P, Q), DOUBLE(R), P and R journalled.

Per curve, ADD and DOUBLE each get:
* a wrong result coordinate with rebuilt carries: x3 (ADD) or y3 (DOUBLE) + p with the quotient
  adjusted (the identity holds over Z; only r < p objects) where it fits the limbs (BN254,
  BLS12-381), else + p_BabyBear with carries solved modulo BabyBear's p (only their byte range
  objects);
* a coordinate read ≥ p (y1 = 2^(8n) − 1; SP1 panics on it for BN254 and BLS12-381, as
  p + y2 − y1 < 0): only ``FieldProgramAir.reads_canonical`` objects.
Then, on secp256k1, a write that never happened, a word read from a wrong address and padding
rows replaying a call. All slow but BN254 ADD's two."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pyzkvm.errors import BusImbalance, OodEvaluationMismatch
from pyzkvm.machine.weierstrass import WEIERSTRASS_CHIPS
from pyzkvm.stark.field import P as BABYBEAR
from tests.machine.field_forgery import Forgery, ProvingKeys, forge_run, steps_with
from tests.machine.machine_helpers import forced_proof_rejected, proof_verifies, run_machine
from tests.machine.test_machine_weierstrass import CURVES, group_add, point_bytes
from tests.rvasm import DATA_BASE, halt, syscall

HINT_READ, WRITE = 0xF1, 0x02
SLOW = pytest.mark.slow


def curve_program(curve):
    """P, Q, R ← hints; ADD(P, Q); DOUBLE(R); journal P ‖ R."""
    n, add, dbl = CURVES[curve][4:7]
    P, Q, R = (DATA_BASE + 2 * n * i for i in range(3))
    return [syscall(HINT_READ, P, 2 * n), syscall(HINT_READ, Q, 2 * n), syscall(HINT_READ, R, 2 * n),
            syscall(add, P, Q), syscall(dbl, R, 0), syscall(WRITE, 3, P, 2 * n), syscall(WRITE, 3, R, 2 * n), halt(0)]


def honest_inputs(curve):
    """P = G, Q = 2G, R = G: the journal is 3G ‖ 2G."""
    G, n = CURVES[curve][3], CURVES[curve][4]
    return [point_bytes(G, n), point_bytes(group_add(curve, G, G), n), point_bytes(G, n)]


@pytest.fixture(scope="module")
def keys():
    return ProvingKeys(curve_program)


def chip_class(curve, op):
    return next(c for c in WEIERSTRASS_CHIPS if c.name == f"{curve} {op}")


def step_index(curve, op, **match):
    return next(k for k, s in enumerate(chip_class(curve, op).steps) if all(getattr(s, a) == v for a, v in match.items()))


def result_shift(curve):
    """(what is added to the result, its quotient's change per kind): p where r + p fits the
    limbs, else p_BabyBear with the quotient kept (the identity then holds modulo BabyBear only)."""
    p, n = CURVES[curve][0], CURVES[curve][4]
    if 2 * p < 256 ** n:
        return p, {"sub": 1, "div": 1, "add": -1, "mul": -1}  # r has sign + in SUB/DIV, − in ADD/MUL
    return BABYBEAR, {"sub": 0, "div": 0, "add": 0, "mul": 0}


RESULT_CASES = [pytest.param(c, op, id=f"{c}-{op}", marks=[] if (c, op) == ("bn254", "add") else SLOW)
                for c in CURVES for op in ("add", "double")]


@pytest.mark.parametrize("curve,op", RESULT_CASES)
def test_a_wrong_result_coordinate_with_rebuilt_carries_does_not_verify(keys, curve, op):
    code, chips, pk = keys(curve)
    out = "x3" if op == "add" else "y3"
    k, (shift, dq) = step_index(curve, op, out=out), result_shift(curve)
    forgery = Forgery(f"{curve} {op}", result=lambda j, kind, a, b, r, q: (r + shift, q + dq[kind]) if j == k else None)
    _, bad = forge_run(code, forgery, inputs=honest_inputs(curve))
    G, n = CURVES[curve][3], CURVES[curve][4]
    claimed = int.from_bytes(bad.journal[:n] if op == "add" else bad.journal[3 * n:], "little")
    three, two = group_add(curve, group_add(curve, G, G), G), group_add(curve, G, G)
    assert claimed == (three[0] if op == "add" else two[1]) + shift  # the forged coordinate is what the journal claims
    forced_proof_rejected(pk, chips, bad, BusImbalance)


@pytest.mark.parametrize("curve,op", RESULT_CASES)
def test_a_coordinate_read_at_or_above_p_does_not_verify(keys, curve, op):
    """y1 = 2^(8n) − 1 in P (ADD) or R (DOUBLE): the rows compute on it as the gadget allows;
    the READ row's r < p (reads_canonical: its gap on the byte bus) is the one constraint broken."""
    code, chips, pk = keys(curve)
    n = CURVES[curve][4]
    inputs = honest_inputs(curve)
    which = 0 if op == "add" else 2
    inputs[which] = inputs[which][:n] + bytes([255]) * n
    _, bad = forge_run(code, Forgery(f"{curve} {op}"), inputs=inputs)
    forced_proof_rejected(pk, chips, bad, BusImbalance)


@SLOW
@pytest.mark.parametrize("curve", ["bn254"])
def test_the_honest_run_proves_and_verifies(keys, curve):
    """The baseline beside the forced proofs (one curve: the programs differ only in it)."""
    code, chips, pk = keys(curve)
    proof_verifies(pk, chips, run_machine(code, inputs=honest_inputs(curve))[1])


# ---- secp256k1 for the module: memory and padding ---------------------------------------------

@SLOW
def test_a_write_that_never_happened_does_not_verify(keys):
    """ADD's WRITE of x3 writes x1 back (memory unchanged, the journal shows x1): the WRITE row's
    value is not x3 on the field value bus."""
    code, chips, pk = keys("secp256k1")
    steps = steps_with(chip_class("secp256k1", "add"), step_index("secp256k1", "add", check="x3"), check="x1")
    _, bad = forge_run(code, Forgery("secp256k1 add", steps=steps), inputs=honest_inputs("secp256k1"))
    assert bad.journal[:32] == honest_inputs("secp256k1")[0][:32]  # x1 as it was
    forced_proof_rejected(pk, chips, bad, BusImbalance)


@SLOW
def test_a_word_read_from_a_wrong_address_does_not_verify(keys):
    """ADD reads y2 one point further on (R's x, a word no other access of the call touches):
    memory agrees, only the READ row's key = a1 + offset objects."""
    code, chips, pk = keys("secp256k1")
    steps = steps_with(chip_class("secp256k1", "add"), step_index("secp256k1", "add", out="y2"), offset=16)
    _, bad = forge_run(code, Forgery("secp256k1 add", steps=steps), inputs=honest_inputs("secp256k1"))
    forced_proof_rejected(pk, chips, bad, OodEvaluationMismatch)


@SLOW
def test_padding_rows_that_replay_a_call_do_not_verify(keys):
    """DOUBLE's table doubled in height, its padding rows a copy of the call: the copy receives
    a precompile token no syscall sent (and repeats the call's memory accesses)."""
    code, chips, pk = keys("secp256k1")
    tables = run_machine(code, inputs=honest_inputs("secp256k1"))[1]
    t = tables.traces["secp256k1 double"]
    bad = dataclasses.replace(tables, traces={**tables.traces, "secp256k1 double": np.concatenate([t, t])})
    forced_proof_rejected(pk, chips, bad, BusImbalance)
