"""Forced proofs against UINT256_MUL (pyzkvm/machine/uint256.py) and U256XU2048_MUL
(pyzkvm/machine/u256x2048.py), from the malicious prover of tests/machine/field_forgery.py:
tables consistent with the run in everything but the targeted constraint, proved past the
prover's check, rejected by the verifier.

One program (one proving key): UINT256_MUL(X, Y ‖ M), then U256XU2048_MUL(A, B, LO, HI), with
HI holding a copy of A beforehand; X, LO and HI journalled. The attacks:

* UINT256_MUL with r + m (q − 1, carries exact): only r < m objects;
* UINT256_MUL with a nonzero m claimed to be 0, i.e. 2^256 (the result x·y mod (m + 2^256),
  its q and exact carries, r < m + 2^256 holds): only "m = 0 ⇒ its bytes are 0" objects;
* U256XU2048_MUL with a wrong high word (hi + 1 from a carry-in one above the last chunk's
  quotient; the hi row's identity holds): only the carry chain objects;
* for each, a write that never happened (HI keeps its copy of A; X is written back) and a word
  read from a wrong address.
All slow."""

from __future__ import annotations

import random

import pytest

from pyzkvm.errors import BusImbalance, OodEvaluationMismatch
from pyzkvm.machine import field_ops as fo
from pyzkvm.machine.u256x2048 import U256x2048MulAir
from pyzkvm.machine.uint256 import Uint256MulAir
from tests.machine.field_forgery import Forgery, ProvingKeys, forge_run, steps_with
from tests.machine.machine_helpers import forced_proof_rejected, proof_verifies, run_machine
from tests.rvasm import DATA_BASE, asm, halt, syscall

HINT_READ, WRITE = 0xF1, 0x02
pytestmark = pytest.mark.slow
X, YM, A, B, LO, HI = DATA_BASE, DATA_BASE + 32, DATA_BASE + 96, DATA_BASE + 128, DATA_BASE + 384, DATA_BASE + 640
rng = random.Random(16)
M = rng.getrandbits(200) | 1 << 199  # a small modulus: r + m fits 32 bytes
A_VALUE = rng.getrandbits(256)
#: the hints: x, y ‖ m, a, b, and HI's old content (a copy of a)
INPUTS = [v.to_bytes(size, "little") for v, size in (
    (rng.getrandbits(256), 32), (rng.getrandbits(256) | M << 256, 64), (A_VALUE, 32), (rng.getrandbits(2048), 256),
    (A_VALUE, 32))]
CODE = [syscall(HINT_READ, X, 32), syscall(HINT_READ, YM, 64), syscall(HINT_READ, A, 32), syscall(HINT_READ, B, 256),
        syscall(HINT_READ, HI, 32),
        syscall(Uint256MulAir.code, X, YM),
        asm.li(13, HI), syscall(U256x2048MulAir.code, A, B, LO),
        syscall(WRITE, 3, X, 32), syscall(WRITE, 3, LO, 256 + 32), halt(0)]


@pytest.fixture(scope="module")
def honest():
    """The program's chips and proving key."""
    return ProvingKeys(lambda _: CODE)("bigint")[1:]


def journal_int(journal: bytes, at: int) -> int:
    return int.from_bytes(journal[at:at + 32], "little")


def mul_step(cls, out):
    return next(k for k, s in enumerate(cls.steps) if s.out == out)


def test_uint256_result_plus_m_does_not_verify(honest):
    chips, pk = honest
    k = mul_step(Uint256MulAir, "xy")
    _, bad = forge_run(CODE, Forgery("uint256 mul", result=lambda j, kind, a, b, r, q: (r + M, q - 1) if j == k else None),
                       inputs=INPUTS)
    x, y = journal_int(INPUTS[0], 0), journal_int(INPUTS[1], 0)
    assert journal_int(bad.journal, 0) == x * y % M + M
    forced_proof_rejected(pk, chips, bad, BusImbalance)


def test_uint256_with_a_nonzero_modulus_claimed_zero_does_not_verify(honest):
    chips, pk = honest
    k, n = mul_step(Uint256MulAir, "xy"), 32
    big = M + (1 << 256)

    def result(j, kind, a, b, r, q):  # x·y mod (m + 2^256), q against the limbs of m + 2^256
        if j == k:
            ab = a * b
            return ab % big, ab // big, fo.to_limbs([big] * len(ab), n + 1)

    L = Uint256MulAir.layout()

    def extra_witness(self, t, rows_of, values, calls):  # mz = 1 (so minv = 0), r < m + 2^256 flagged at limb 32
        rows = rows_of(k)
        t[rows, L.mz], t[rows, L.minv] = 1, 0
        t[rows[:, None], L.lt] = 0
        t[rows, L.lt[n]] = 1

    _, bad = forge_run(CODE, Forgery("uint256 mul", result=result, methods={"extra_witness": extra_witness}),
                       inputs=INPUTS)
    forced_proof_rejected(pk, chips, bad, OodEvaluationMismatch)


def test_u256x2048_wrong_high_word_does_not_verify(honest):
    chips, pk = honest
    air = U256x2048MulAir
    k_hi = mul_step(air, "hi")
    L = air.layout()

    def step_addend(self, k, values):  # the hi row's carry-in one above the last chunk's quotient
        add = air.step_addend(self, k, values)
        return add + 1 if k == k_hi else add

    def extra_witness(self, t, rows_of, values, calls):
        air.extra_witness(self, t, rows_of, values, calls)
        t[rows_of(k_hi)[:, None], L.cin] = fo.to_limbs(values[("q", k_hi - 1)] + 1, self.n)

    _, bad = forge_run(CODE, Forgery("u256x2048 mul", methods={"step_addend": step_addend, "extra_witness": extra_witness}),
                       inputs=INPUTS)
    b = int.from_bytes(INPUTS[3], "little")
    assert journal_int(bad.journal, 32 + 256) == (A_VALUE * b >> 2048) + 1
    forced_proof_rejected(pk, chips, bad, OodEvaluationMismatch)


@pytest.mark.parametrize("cls,check,old", [(Uint256MulAir, "xy", "x"), (U256x2048MulAir, "hi", "a")])
def test_a_write_that_never_happened_does_not_verify(honest, cls, check, old):
    """The WRITE of ``check`` writes ``old``, the value already there: memory unchanged."""
    chips, pk = honest
    k = next(i for i, s in enumerate(cls.steps) if s.check == check)
    _, bad = forge_run(CODE, Forgery(cls.name, steps=steps_with(cls, k, check=old)), inputs=INPUTS)
    forced_proof_rejected(pk, chips, bad, BusImbalance)


@pytest.mark.parametrize("cls,out,offset", [(Uint256MulAir, "m", 16), (U256x2048MulAir, "b7", 64)])
def test_a_word_read_from_a_wrong_address_does_not_verify(honest, cls, out, offset):
    """UINT256_MUL's m read 16 words after y (A's words); U256XU2048_MUL's last chunk of b read
    one chunk past b (LO's words before the call writes them): memory agrees, only the READ row's
    key = pointer + offset objects."""
    chips, pk = honest
    k = next(i for i, s in enumerate(cls.steps) if s.out == out)
    _, bad = forge_run(CODE, Forgery(cls.name, steps=steps_with(cls, k, offset=offset)), inputs=INPUTS)
    forced_proof_rejected(pk, chips, bad, OodEvaluationMismatch)


def test_the_honest_run_proves_and_verifies(honest):
    chips, pk = honest
    proof_verifies(pk, chips, run_machine(CODE, inputs=INPUTS)[1])
