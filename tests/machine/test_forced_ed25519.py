"""Forced proofs of the memory attacks on ED_ADD (pyzkvm/machine/ed25519.py), from the malicious
prover of tests/machine/field_forgery.py (tables consistent with the run in everything but the
targeted constraint): a word read from a wrong address and a write that never happened. The
chips' other forced proofs are in test_machine_ed25519.py. Both slow."""

from __future__ import annotations

import pytest

from pyzkvm.errors import BusImbalance, OodEvaluationMismatch
from pyzkvm.machine.ed25519 import EdAddAir
from tests.machine.field_forgery import Forgery, ProvingKeys, forge_run, steps_with
from tests.machine.machine_helpers import forced_proof_rejected
from tests.machine.test_machine_ed25519 import G, G2, point
from tests.rvasm import DATA_BASE, halt, syscall

HINT_READ, WRITE = 0xF1, 0x02
P, Q, R = DATA_BASE, DATA_BASE + 64, DATA_BASE + 128
CODE = [syscall(HINT_READ, P, 64), syscall(HINT_READ, Q, 64), syscall(HINT_READ, R, 64),
        syscall(EdAddAir.code, P, Q), syscall(WRITE, 3, P, 64), halt(0)]
INPUTS = [point(G), point(G2), point(G)]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def honest():
    """The program's chips and proving key."""
    return ProvingKeys(lambda _: CODE)("ed add")[1:]


def test_a_word_read_from_a_wrong_address_does_not_verify(honest):
    """y2 read 16 words on (R's x): only the READ row's key = a1 + offset objects."""
    chips, pk = honest
    k = next(i for i, s in enumerate(EdAddAir.steps) if s.out == "y2")
    _, bad = forge_run(CODE, Forgery("ed add", steps=steps_with(EdAddAir, k, offset=16)), inputs=INPUTS)
    forced_proof_rejected(pk, chips, bad, OodEvaluationMismatch)


def test_a_write_that_never_happened_does_not_verify(honest):
    """x3's WRITE writes x1 back (memory unchanged): the row's value is not x3 on the field value bus."""
    chips, pk = honest
    k = next(i for i, s in enumerate(EdAddAir.steps) if s.check == "x3")
    _, bad = forge_run(CODE, Forgery("ed add", steps=steps_with(EdAddAir, k, check="x1")), inputs=INPUTS)
    assert bad.journal[:32] == INPUTS[0][:32]
    forced_proof_rejected(pk, chips, bad, BusImbalance)
