"""Forced proofs against the FP / FP2 chips of BN254 and BLS12-381 (pyzkvm/machine/fp_ops.py),
from the malicious prover of tests/machine/field_forgery.py: tables consistent with the run in
everything but the targeted constraint, proved past the prover's check, rejected by the verifier.

One program per field (its proving key shared by the field's attacks): FP2_SUB(A, B),
FP_MUL(C, D), FP2_MUL(E, F), FP_SUB(G, H) on operands read as hints; A, C, E, G journalled.

* FP2_SUB with a subtrahend above a + p (SP1 panics on a + p − b < 0): the SUB row's quotient
  is 2, and only Fp2SubAir's q ∈ {0, 1} objects;
* FP_MUL and FP2_MUL (c0) with r + p and the quotient adjusted: only r < p objects;
* a write that never happened (FP_SUB writes x back) and a word read from a wrong address
  (FP2_SUB reads y1 from the next buffer), BN254.
The BN254 FP2_SUB attack runs by default, the rest are slow."""

from __future__ import annotations

import random

import pytest

from pyzkvm.errors import BusImbalance, OodEvaluationMismatch
from pyzkvm.machine.fp_ops import FP_CHIPS
from tests.machine.field_forgery import Forgery, ProvingKeys, forge_run, steps_with
from tests.machine.machine_helpers import forced_proof_rejected, proof_verifies, run_machine
from tests.machine.test_machine_fp_ops import FIELDS, OPS, oracle
from tests.rvasm import DATA_BASE, halt, syscall

HINT_READ, WRITE = 0xF1, 0x02
#: the calls: (op, x buffer, y buffer); buffers are 2n bytes apart (room for an Fp2 element)
CALLS = (("fp2 sub", 0, 1), ("fp mul", 2, 3), ("fp2 mul", 4, 5), ("fp sub", 6, 7))


def field_program(field):
    p, n, first = FIELDS[field]
    buf = lambda i: DATA_BASE + 2 * n * i  # noqa: E731
    size = lambda op: 2 * n if op.startswith("fp2") else n  # noqa: E731
    code = [syscall(HINT_READ, buf(i), size(op)) for op, x, y in CALLS for i in (x, y)]
    code += [syscall(first + OPS.index(op), buf(x), buf(y)) for op, x, y in CALLS]
    code += [syscall(WRITE, 3, buf(x), size(op)) for op, x, y in CALLS]
    return code + [halt(0)]


def honest_inputs(field):
    """Reduced operands, seeded: [x, y] per call in CALLS order, as little-endian bytes."""
    p, n, _ = FIELDS[field]
    rng = random.Random(field)
    out = []
    for op, _, _ in CALLS:
        for _ in range(2):
            out.append(b"".join(rng.randrange(p).to_bytes(n, "little") for _ in range(2 if op.startswith("fp2") else 1)))
    return out


@pytest.fixture(scope="module")
def keys():
    return ProvingKeys(field_program)


def int_parts(raw: bytes, n: int) -> tuple:
    """An element's coefficients from its little-endian bytes."""
    return tuple(int.from_bytes(raw[i:i + n], "little") for i in range(0, len(raw), n))


def chip_class(field, op):
    return next(c for c in FP_CHIPS if c.name == f"{field} {op}")


def step_of(field, op, **match):
    return next(k for k, s in enumerate(chip_class(field, op).steps) if all(getattr(s, a) == v for a, v in match.items()))


SLOW = pytest.mark.slow


@pytest.mark.parametrize("field", [pytest.param("bn254"), pytest.param("bls12381", marks=SLOW)])
def test_fp2_sub_with_a_subtrahend_above_a_plus_p_does_not_verify(keys, field):
    """y0 = x0 + p + 5: the gadget's SUB row holds with q = 2 (r = x0 − y0 mod p, carries exact)."""
    code, chips, pk = keys(field)
    p, n, _ = FIELDS[field]
    inputs = honest_inputs(field)
    x0 = int.from_bytes(inputs[0][:n], "little")
    inputs[1] = (x0 + p + 5).to_bytes(n, "little") + inputs[1][n:]
    _, bad = forge_run(code, Forgery(f"{field} fp2 sub"), inputs=inputs)
    forced_proof_rejected(pk, chips, bad, OodEvaluationMismatch)


@pytest.mark.slow
@pytest.mark.parametrize("field", list(FIELDS))
@pytest.mark.parametrize("op,out", [("fp mul", "r"), ("fp2 mul", "c0")])
def test_a_mul_result_plus_p_does_not_verify(keys, field, op, out):
    """r + p written (it fits the limbs on both fields), q adjusted, carries exact."""
    code, chips, pk = keys(field)
    p, n, _ = FIELDS[field]
    k = step_of(field, op, out=out)
    fix = {"mul": -1, "add": -1, "sub": 1}

    def result(j, kind, a, b, r, q):
        return (r + p, q + fix[kind]) if j == k else None

    _, bad = forge_run(code, Forgery(f"{field} {op}", result=result), inputs=honest_inputs(field))
    i = [c[0] for c in CALLS].index(op)
    x, y = (int_parts(v, n) for v in honest_inputs(field)[2 * i:2 * i + 2])
    want = oracle(op, *(x, y) if op.startswith("fp2") else (x[0], y[0]), p)
    at = sum(2 * n if o.startswith("fp2") else n for o, _, _ in CALLS[:i])  # the call's place in the journal
    assert int.from_bytes(bad.journal[at:at + n], "little") == (want[0] if op.startswith("fp2") else want) + p
    forced_proof_rejected(pk, chips, bad, BusImbalance)


@pytest.mark.slow
def test_a_write_that_never_happened_does_not_verify(keys):
    """FP_SUB writes x back (memory unchanged): its WRITE row's value is not r on the field value bus."""
    code, chips, pk = keys("bn254")
    k = step_of("bn254", "fp sub", check="r")
    _, bad = forge_run(code, Forgery("bn254 fp sub", steps=steps_with(chip_class("bn254", "fp sub"), k, check="x")),
                       inputs=honest_inputs("bn254"))
    forced_proof_rejected(pk, chips, bad, BusImbalance)


@pytest.mark.slow
def test_a_word_read_from_a_wrong_address_does_not_verify(keys):
    """FP2_SUB reads y1 from FP_MUL's x (one buffer on): only the READ row's key objects."""
    code, chips, pk = keys("bn254")
    k = step_of("bn254", "fp2 sub", out="y1")
    _, bad = forge_run(code, Forgery("bn254 fp2 sub", steps=steps_with(chip_class("bn254", "fp2 sub"), k, offset=16)),
                       inputs=honest_inputs("bn254"))
    forced_proof_rejected(pk, chips, bad, OodEvaluationMismatch)


@pytest.mark.slow
@pytest.mark.parametrize("field", ["bn254"])
def test_the_honest_run_proves_and_verifies(keys, field):
    """The baseline beside the forced proofs (one field: the programs differ only in it)."""
    code, chips, pk = keys(field)
    proof_verifies(pk, chips, run_machine(code, inputs=honest_inputs(field))[1])
