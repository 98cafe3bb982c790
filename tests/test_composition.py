"""Composition: the VERIFY_SP1_PROOF syscall, conditional claims, composed receipts and their
verification (pyzkvm/composition.py through pyzkvm.verify), with the trace backend in dev mode.

Expected values come from hashlib and the tests' own arithmetic (claims are image ID ‖
SHA-256(journal); the aggregator's journal is u32 N ‖ SHA-256 of the claims), never from the
code under test. Attacks re-seal the outer trace receipt where the point is to reach the
composition checks behind the trace seal's binding (a trace receipt is not a proof: anyone can
re-seal one, which is exactly why composition must check the inner receipts itself).
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
from pathlib import Path

import pytest

import pyzkvm
from pyzkvm.backends import trace as trace_backend
from pyzkvm.errors import DevModeReceiptError, MemoryOutOfRange, SyscallError, UsageError, VerificationError
from pyzkvm.executor import execute
from pyzkvm.program import Program
from pyzkvm.receipt import Claim, Receipt
from tests.rvasm import DATA_BASE, asm, flatten, halt, program, syscall

BIN = Path(__file__).resolve().parents[1] / "guests" / "bin"
FIB = Program.from_elf(BIN / "fibonacci.elf")
SHA = Program.from_elf(BIN / "sha256.elf")
AGG = Program.from_elf(BIN / "aggregator.elf")
VERIFY, ENTER, EXIT = 0x1B, 3, 4
T0 = 5


def u32(n: int) -> bytes:
    return struct.pack("<I", n)


def fib_journal(n: int) -> bytes:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, (a + b) % (1 << 64)
    return u32(n) + struct.pack("<Q", a)


# ---- the executor: VERIFY_SP1_PROOF records assumptions ----------------------------------

IMG = [hashlib.sha256(b"image %d" % i).digest() for i in range(3)]
DIG = [hashlib.sha256(b"journal %d" % i).digest() for i in range(3)]


def verify_calls(pairs):
    """Data segment with the pairs laid out image ‖ digest, and one VERIFY per pair."""
    data = b"".join(i + d for i, d in pairs)
    code = [syscall(VERIFY, DATA_BASE + 64 * k, DATA_BASE + 64 * k + 32) for k in range(len(pairs))]
    return code, data


def run(code, data=b"", **kw):
    return execute(program(flatten([code, halt(0)]), data=data), **kw)


def test_verify_syscall_records_assumptions_in_order():
    pairs = [(IMG[2], DIG[0]), (IMG[0], DIG[1]), (IMG[2], DIG[0])]  # order and repeats are kept
    code, data = verify_calls(pairs)
    e = run([code, asm.add(18, T0, 0)], data)
    assert e.assumptions == tuple(pairs)
    assert e.final_registers[18] == VERIFY  # returns nothing: t0 keeps the code
    assert e.report.syscalls["VERIFY_SP1_PROOF"] == 3


def test_no_verify_means_no_assumptions():
    assert run([]).assumptions == ()


def test_verify_syscall_logs_its_memory_reads_in_the_trace():
    code, data = verify_calls([(IMG[1], DIG[2])])
    e = run(code, data, capture_trace=True)
    ev = e.trace.syscall_events
    reads = {int(a): int(v) for a, v, w in zip(ev["sys_addr"], ev["sys_before"], ev["sys_after"]) if a >= 0x20 and v == w}
    expected = dict(zip(range(DATA_BASE, DATA_BASE + 64, 4), struct.unpack("<16I", IMG[1] + DIG[2])))
    assert {a: reads[a] for a in expected} == expected


@pytest.mark.parametrize(
    "a0, a1, error, message",
    [
        (DATA_BASE + 2, DATA_BASE + 32, SyscallError, "image ID pointer .* not 4-byte aligned"),
        (DATA_BASE, DATA_BASE + 33, SyscallError, "journal digest pointer .* not 4-byte aligned"),
        (0x10, DATA_BASE, MemoryOutOfRange, "VERIFY_SP1_PROOF image ID"),
        (DATA_BASE, 0x77FFFFF0, MemoryOutOfRange, "VERIFY_SP1_PROOF journal digest"),
    ],
)
def test_verify_syscall_bad_pointers_are_typed_faults(a0, a1, error, message):
    with pytest.raises(error, match=message) as info:
        run(syscall(VERIFY, a0, a1), bytes(64))
    assert info.value.disassembly == "ecall"


def test_verify_inside_an_unconstrained_block_is_an_error():
    # SP1's execute_ecall allows only WRITE and EXIT_UNCONSTRAINED inside a block
    # (InvalidSyscallUsage): a VERIFY there is refused, not rolled back.
    code, data = verify_calls([(IMG[0], DIG[0])])
    body = [code[0], syscall(EXIT)]
    skip = len(flatten(body)) + 1
    with pytest.raises(SyscallError, match="VERIFY_SP1_PROOF inside an unconstrained block: SP1 stops with InvalidSyscallUsage"):
        run([syscall(ENTER), asm.addi(6, 0, 1), asm.bne(T0, 6, 4 * skip), body], data)


# ---- receipts: proving with assumptions -------------------------------------------------


def prove_fib(n: int) -> Receipt:
    return pyzkvm.prove(FIB, [u32(n)], backend="trace")


@pytest.fixture(scope="module")
def fibs():
    return [prove_fib(n) for n in range(32)]


def claim_bytes(r: Receipt) -> bytes:
    return r.claim.image_id + hashlib.sha256(r.journal).digest()


def aggregate(receipts, assumptions=None) -> Receipt:
    inputs = [u32(len(receipts))] + [claim_bytes(r) for r in receipts]
    return pyzkvm.prove(AGG, inputs, backend="trace", assumptions=receipts if assumptions is None else assumptions)


@pytest.mark.parametrize("n", [1, 2, 32])
def test_aggregating_fibonacci_receipts_verifies(fibs, n, capsys):
    inner = fibs[:n]
    outer = aggregate(inner)
    assert outer.claim.assumptions == tuple((FIB.image_id, hashlib.sha256(fib_journal(k)).digest()) for k in range(n))
    assert outer.inner == tuple(inner)
    assert outer.journal == u32(n) + hashlib.sha256(b"".join(claim_bytes(r) for r in inner)).digest()
    assert pyzkvm.verify(outer, AGG.image_id, dev_mode=True) == outer.claim
    # the encoded receipt carries every inner one and verifies the same after a round trip
    again = Receipt.from_bytes(outer.to_bytes())
    assert again == outer
    pyzkvm.verify(again.to_bytes(), AGG.image_id, dev_mode=True)
    assert capsys.readouterr().err.count("WARNING: accepting a dev-mode receipt") == 2  # once per verify call


def test_composed_receipts_nest(fibs):
    inner = aggregate(fibs[:2])
    outer = aggregate([inner, fibs[2]])
    assert outer.claim.assumptions[0] == (AGG.image_id, hashlib.sha256(inner.journal).digest())
    pyzkvm.verify(outer, AGG.image_id, dev_mode=True)
    broken = reseal(outer, inner=(reseal(inner, inner=(fibs[1], fibs[0])), fibs[2]))
    with pytest.raises(VerificationError, match="inner receipt 0: assumption 0 is .* but inner receipt 0 proves"):
        pyzkvm.verify(broken, AGG.image_id, dev_mode=True)


def test_a_composed_receipt_with_a_trace_receipt_inside_is_dev_only(fibs, monkeypatch):
    monkeypatch.delenv("PYZKVM_DEV_MODE", raising=False)
    outer = aggregate(fibs[:1])
    with pytest.raises(DevModeReceiptError):
        pyzkvm.verify(outer, AGG.image_id)
    monkeypatch.setenv("PYZKVM_DEV_MODE", "1")
    pyzkvm.verify(outer, AGG.image_id)


def test_claim_for_execution_carries_the_assumptions():
    pairs = ((IMG[0], DIG[0]), (IMG[1], DIG[1]))
    claim = Claim.for_execution(IMG[2], b"journal", 0, 7, pairs)
    assert claim.assumptions == pairs
    assert claim.journal_digest == hashlib.sha256(b"journal").digest()


# ---- proving: the given receipts must match the guest's assertions ----------------------


def test_prove_without_the_receipts_the_guest_asserts_is_an_error(fibs):
    with pytest.raises(UsageError, match="missing receipt for assumption 1 .*pass it with --assume"):
        aggregate(fibs[:2], assumptions=fibs[:1])
    with pytest.raises(UsageError, match="missing receipt for assumption 0"):
        pyzkvm.prove(AGG, [u32(1), claim_bytes(fibs[0])], backend="trace")  # no assumptions= at all


def test_prove_with_an_extra_receipt_is_an_error(fibs):
    with pytest.raises(UsageError, match="extra receipt 2 .*asserted only 2"):
        aggregate(fibs[:2], assumptions=fibs[:3])
    with pytest.raises(UsageError, match="extra receipt 0"):
        pyzkvm.prove(FIB, [u32(3)], backend="trace", assumptions=fibs[:1])


def test_prove_with_receipts_out_of_order_says_so(fibs):
    with pytest.raises(UsageError, match="assumption 0 is .* but receipt 0 is for .*it is receipt 1"):
        aggregate(fibs[:2], assumptions=[fibs[1], fibs[0]])


def test_prove_with_a_receipt_of_a_failed_run_is_an_error():
    panic = pyzkvm.prove(BIN / "panic.elf", [], backend="trace")
    assert panic.claim.exit_code == 1
    with pytest.raises(UsageError, match="failed run .*exit code 1"):
        aggregate([panic])


def test_prove_accepts_receipt_bytes(fibs):
    outer = aggregate(fibs[:1], assumptions=[fibs[0].to_bytes()])
    assert outer.inner == (fibs[0],)


def test_backends_that_cannot_compose_say_so(fibs, monkeypatch):
    import pyzkvm.api as api
    from pyzkvm.backends.base import Backend

    class NoComposition(Backend):
        name = "nocompose"

        def prove(self, program, inputs=(), *, progress=None, **options):  # pragma: no cover - not reached
            raise AssertionError("prove must not be called")

        def verify(self, receipt, image_id, **options):  # pragma: no cover
            raise AssertionError

    original = api.get_backend
    monkeypatch.setattr(api, "get_backend", lambda name: NoComposition() if name == "nocompose" else original(name))
    with pytest.raises(UsageError, match="backend 'nocompose' cannot prove composed receipts"):
        pyzkvm.prove(FIB, [u32(1)], backend="nocompose", assumptions=fibs[:1])


# ---- verification: every way to break a composed receipt is rejected ---------------------


def reseal(receipt: Receipt, **changes) -> Receipt:
    """A trace receipt with fields replaced and its seal's binding recomputed: what anyone can
    do to a dev-mode receipt (the trace seal is an integrity check, not a proof)."""
    if "assumptions" in changes:
        changes["claim"] = dataclasses.replace(receipt.claim, assumptions=changes.pop("assumptions"))
    edited = dataclasses.replace(receipt, **changes)
    head = edited.seal[: trace_backend._SEAL_HEAD.size]
    return dataclasses.replace(edited, seal=head + trace_backend._binding(edited, head))


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


@pytest.fixture(scope="module")
def agg3(fibs):
    return aggregate(fibs[:3])


def rejects(receipt, message):
    with pytest.raises(VerificationError, match=message):
        pyzkvm.verify(receipt, AGG.image_id, dev_mode=True)


def test_the_reseal_helper_alone_keeps_a_receipt_valid(agg3):
    pyzkvm.verify(reseal(agg3), AGG.image_id, dev_mode=True)


def test_missing_inner_receipt_is_rejected(agg3):
    for dropped in (dataclasses.replace(agg3, inner=agg3.inner[:2]), reseal(agg3, inner=agg3.inner[:2])):
        rejects(dropped, "assumption 2 .* has no inner receipt: the claim assumes 3 .* carries 2")
    rejects(reseal(agg3, inner=agg3.inner[1:]), "assumption 0 is .* but inner receipt 0 proves")


def test_inner_receipt_for_another_image_is_rejected(agg3):
    sha = pyzkvm.prove(SHA, [b"abc"], backend="trace")
    rejects(reseal(agg3, inner=(agg3.inner[0], sha, agg3.inner[2])), "assumption 1 is .* but inner receipt 1 proves")


def test_inner_receipt_for_another_journal_is_rejected(agg3):
    other = prove_fib(40)  # same image, another journal
    assert other.claim.image_id == agg3.inner[1].claim.image_id
    rejects(reseal(agg3, inner=(agg3.inner[0], other, agg3.inner[2])), "assumption 1 is .* but inner receipt 1 proves")


def test_inner_receipt_with_an_edited_journal_is_rejected(agg3):
    edited = dataclasses.replace(agg3.inner[1], journal=fib_journal(41))  # claim and seal untouched
    rejects(reseal(agg3, inner=(agg3.inner[0], edited, agg3.inner[2])), "inner receipt 1: journal does not match")


@pytest.mark.parametrize("at", [2, 40, 81])  # trace digest, row count, binding
def test_tampered_inner_seal_is_rejected(agg3, at):
    bad = dataclasses.replace(agg3.inner[0], seal=flip(agg3.inner[0].seal, at))
    rejects(dataclasses.replace(agg3, inner=(bad, *agg3.inner[1:])), "inner receipt 0: trace seal binding does not match")
    rejects(reseal(agg3, inner=(bad, *agg3.inner[1:])), "inner receipt 0: trace seal binding does not match")


def test_inner_receipt_of_a_failed_run_is_rejected(agg3):
    failed = reseal(agg3.inner[0], claim=dataclasses.replace(agg3.inner[0].claim, exit_code=3))
    pyzkvm.verify(failed, FIB.image_id, dev_mode=True)  # on its own, a valid receipt of a failing run
    rejects(reseal(agg3, inner=(failed, *agg3.inner[1:])), "inner receipt 0 records a failed run")


def test_reordered_inner_receipts_are_rejected(agg3):
    a, b, c = agg3.inner
    rejects(dataclasses.replace(agg3, inner=(b, a, c)), "assumption 0 is .* but inner receipt 0 proves")
    rejects(reseal(agg3, inner=(b, a, c)), "assumption 0 is .* but inner receipt 0 proves")
    rejects(reseal(agg3, inner=(a, c, b)), "assumption 1 is .* but inner receipt 1 proves")


def test_added_assumption_is_rejected(agg3, fibs):
    extra = agg3.claim.assumptions + ((FIB.image_id, fibs[5].claim.journal_digest),)
    added = dataclasses.replace(agg3, claim=dataclasses.replace(agg3.claim, assumptions=extra))
    rejects(added, "assumption 3 .* has no inner receipt")
    rejects(reseal(agg3, assumptions=extra), "assumption 3 .* has no inner receipt")
    # with its receipt attached too, only the trace seal's binding sees the edit; re-sealed,
    # the trace seal cannot tell (it binds nothing: dev mode) — re-executing can
    both_unsealed = dataclasses.replace(added, inner=agg3.inner + (fibs[5],))
    rejects(both_unsealed, "trace seal binding does not match the receipt")
    both = reseal(agg3, assumptions=extra, inner=agg3.inner + (fibs[5],))
    pyzkvm.verify(both, AGG.image_id, dev_mode=True)  # dev mode binds nothing: see docs/composition.md
    inputs = [u32(3)] + [claim_bytes(r) for r in agg3.inner]
    with pytest.raises(VerificationError, match="replay: the guest's 3 VERIFY_SP1_PROOF assertion.* differ from the claim's 4"):
        pyzkvm.verify(both, AGG.image_id, dev_mode=True, replay=(AGG, inputs))


def test_removed_assumption_is_rejected(agg3):
    fewer = agg3.claim.assumptions[:2]
    removed = dataclasses.replace(agg3, claim=dataclasses.replace(agg3.claim, assumptions=fewer))
    rejects(removed, "inner receipt 2 .* matches no assumption")
    rejects(reseal(agg3, assumptions=fewer), "inner receipt 2 .* matches no assumption")
    rejects(dataclasses.replace(removed, inner=agg3.inner[:2]), "trace seal binding does not match the receipt")
    both = reseal(agg3, assumptions=fewer, inner=agg3.inner[:2])
    pyzkvm.verify(both, AGG.image_id, dev_mode=True)  # dev mode binds nothing: see docs/composition.md
    inputs = [u32(3)] + [claim_bytes(r) for r in agg3.inner]
    with pytest.raises(VerificationError, match="replay: the guest's 3 VERIFY_SP1_PROOF assertion.* differ from the claim's 2"):
        pyzkvm.verify(both, AGG.image_id, dev_mode=True, replay=(AGG, inputs))


def test_replay_of_an_honest_composed_receipt_passes(agg3):
    inputs = [u32(3)] + [claim_bytes(r) for r in agg3.inner]
    pyzkvm.verify(agg3, AGG.image_id, dev_mode=True, replay=(AGG, inputs))


def test_inner_receipt_from_an_unknown_backend_is_rejected(agg3):
    alien = dataclasses.replace(agg3.inner[0], backend="no-such-backend")
    rejects(reseal(agg3, inner=(alien, *agg3.inner[1:])), "backend 'no-such-backend'")
