"""Receipt-level attacks on stark receipts (issue 16 §6: "anything the receipt shows that the
proof does not bind"), each on an honest receipt of a tiny guest, edited the way an attacker
with only the receipt file would edit it, and checked with the real verifier:

* a failing run (exit code 3) claimed as a success (0), or as 3 + 256 (a byte that wraps);
* the seal's has_deferred flag set for a guest that never committed a deferred digest;
* seal fields that are equal modulo p to the honest ones (start pc + p, the last end pc = p);
* an sp1 receipt relabelled as a RISC Zero-profile one (params abi / halt_type);
* a RISC Zero-profile seal with has_deferred = 1 (that statement has no deferred digest, so
  the byte was bound by nothing: a second seal for the same claim verified);
* a RISC Zero-profile run that *paused* (HALT type 1, exit code 0): its receipt verifies as
  what it is (verify_report), but it must not discharge an assumption ("a receipt of a
  successful run"), pyzkvm.verify (whose Claim cannot say it) refuses it, and the CLI must not
  print it as a finished run.

The other receipt edits (journal, exit code 0 → 1, cycles, image ID, seal bytes, has_commit,
params, preset, an added assumption, segment chains) are in test_stark_backend.py,
test_stark_segments.py and test_stark_hints_and_risc0.py. Proofs use the insecure fast preset."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from pyzkvm.backends import get_backend
from pyzkvm.backends.stark import decode_seal, encode_seal
from pyzkvm.composition import resolve_assumptions, verify_composition
from pyzkvm.errors import UsageError, VerificationError
from pyzkvm.receipt import Claim, Receipt
from pyzkvm.stark.field import P
from tests.machine.test_machine_risc0 import CODE as R0_CODE, DATA as R0_DATA, r0_halt
from tests.rvasm import DATA_BASE, flatten, halt, program

FAST = "insecure_fast_for_tests"


@pytest.fixture(scope="module")
def stark():
    return get_backend("stark")


@pytest.fixture(scope="module")
def failing(stark):
    """A guest that halts with exit code 3 (no journal, no COMMIT): its honest receipt."""
    prog = program(halt(3))
    return prog, stark.prove(prog, preset=FAST)


@pytest.fixture(scope="module")
def paused(stark):
    """The RISC Zero-profile program of test_machine_risc0 with HALT type 1 (pause), exit code 0."""
    prog = program(flatten([*R0_CODE[:-1], r0_halt(1 | 0 << 8, DATA_BASE + 32)]), data=R0_DATA, abi="risc0")
    return prog, stark.prove(prog, [b"abcdefgh"], preset=FAST)


def check(stark, receipt, image_id):
    return stark.verify(receipt, image_id, allow_insecure=True)


def with_seal(receipt: Receipt, **changes) -> Receipt:
    p = decode_seal(receipt.seal)
    p.update(changes)
    return dataclasses.replace(receipt, seal=encode_seal(p["preset"], p["prep_root"], p["prep_log_heights"],
                                                         p["has_commit"], p["has_deferred"],
                                                         p["segments"], others=p["others"]))


def test_the_honest_receipts_verify(stark, failing, paused):
    for prog, receipt in (failing, paused):
        check(stark, receipt, prog.image_id)
    assert failing[1].claim.exit_code == 3
    assert paused[1].claim.exit_code == 0 and paused[1].params["halt_type"] == 1


@pytest.mark.parametrize("code", [0, 3 + 256, 3 << 8])
def test_a_failing_run_claimed_with_another_exit_code_is_rejected(stark, failing, code):
    prog, receipt = failing
    forged = dataclasses.replace(receipt, claim=dataclasses.replace(receipt.claim, exit_code=code))
    with pytest.raises(VerificationError):
        check(stark, forged, prog.image_id)


def test_the_deferred_flag_is_bound(stark, failing):
    """has_deferred = 1 says the guest committed an all-zero deferred-proofs digest: this one
    never called COMMIT_DEFERRED_PROOFS, so the commit bus's 8 public entries have no sender."""
    prog, receipt = failing
    assert not decode_seal(receipt.seal)["has_deferred"]
    with pytest.raises(VerificationError):
        check(stark, with_seal(receipt, has_deferred=True), prog.image_id)


def test_a_risc0_seal_cannot_carry_a_deferred_flag(stark, paused):
    """The RISC Zero statement has no deferred-proofs digest, so the verifier built the same
    statement whatever the seal's has_deferred byte said: a second seal, with a byte no proof
    binds, verified for the same claim. It must be 0."""
    prog, receipt = paused
    assert not decode_seal(receipt.seal)["has_deferred"]
    with pytest.raises(VerificationError, match="has_deferred = 0"):
        check(stark, with_seal(receipt, has_deferred=True), prog.image_id)


def test_seal_values_equal_modulo_p_are_not_the_statement(stark, failing):
    """The seal's u64 end clock is not reduced modulo p: an end clock of the claim's + p, or a
    claim of the seal's + p, is refused, not read as the honest value."""
    prog, receipt = failing
    p = decode_seal(receipt.seal)
    (end_clock, proof), = p["segments"]
    with pytest.raises(VerificationError, match="last segment ends"):
        check(stark, with_seal(receipt, segments=[(end_clock + P, proof)]), prog.image_id)
    with pytest.raises(VerificationError, match="cycles"):  # the claim's cycle count + p
        check(stark, dataclasses.replace(receipt, claim=dataclasses.replace(receipt.claim, cycles=end_clock + P)),
              prog.image_id)


def test_an_sp1_receipt_relabelled_as_risc0_is_rejected(stark, failing):
    """params abi = risc0 makes the verifier build the RISC Zero statement (PV_PROFILE = 1, the
    exit code byte-shifted by the halt type): the program's ecall rows say profile 0."""
    prog, receipt = failing
    for halt_type in (0, 1):
        forged = dataclasses.replace(receipt, params={**receipt.params, "abi": "risc0", "halt_type": halt_type})
        with pytest.raises(VerificationError):
            check(stark, forged, prog.image_id)


def _assuming(inner: Receipt) -> Receipt:
    """A receipt whose claim assumes ``inner`` and carries it (what an aggregator's would be)."""
    claim = Claim(bytes(32), 0, hashlib.sha256(b"").digest(), 1, ((inner.claim.image_id, inner.claim.journal_digest),))
    return Receipt(claim, b"", "stark", "", {}, b"", (inner,))


def test_a_paused_run_discharges_no_assumption(stark, paused):
    """A paused run's exit code 0 means "resume me", not success: the verified paused receipt
    must not stand for an assumption, neither when proving (resolve_assumptions) nor when
    verifying a composed receipt (verify_composition, with the real stark verifier inside)."""
    prog, receipt = paused
    outer = _assuming(receipt)
    with pytest.raises(VerificationError, match="paused run"):
        verify_composition(outer, lambda inner: check(stark, inner, inner.claim.image_id))
    with pytest.raises(UsageError, match="paused run"):
        resolve_assumptions(outer.claim.assumptions, [receipt])
    # a finished run with the same claim shape passes both (the check is the halt type, nothing else)
    finished = dataclasses.replace(receipt, params={**receipt.params, "halt_type": 0})
    verify_composition(_assuming(finished), lambda inner: None)
    assert resolve_assumptions(outer.claim.assumptions, [finished]) == (finished,)


def test_pyzkvm_verify_refuses_a_paused_run_that_its_claim_would_show_as_success(paused):
    """pyzkvm.verify returns a Claim, which has no field for the halt: a paused run would read as
    exit code 0, a finished success (a red-team review's finding). It is refused there;
    verify_report verifies it and says it paused."""
    import pyzkvm

    prog, receipt = paused
    with pytest.raises(VerificationError, match="paused"):
        pyzkvm.verify(receipt, prog.image_id, allow_insecure=True)
    verified = pyzkvm.verify_report(receipt, prog.image_id, allow_insecure=True)
    assert verified.paused and verified.claim.exit_code == 0


def test_the_cli_says_a_paused_run_has_not_finished(paused, tmp_path, capsys):
    from pyzkvm.cli import main

    prog, receipt = paused
    path = tmp_path / "paused.receipt"
    path.write_bytes(receipt.to_bytes())
    assert main(["verify", str(path), "--image-id", prog.image_id.hex(), "--min-security-bits", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("verified: stark receipt") and "exit code 0 (paused, not finished" in out


def test_a_nan_minimum_security_is_a_usage_error_not_no_minimum(stark, failing):
    """`bits < NaN` is False, so a NaN minimum (e.g. `pyzkvm verify --min-security-bits nan`)
    accepted this 24-bit test proof as if it met the policy: it is refused as bad input."""
    prog, receipt = failing
    with pytest.raises(UsageError, match="NaN"):
        stark.verify(receipt, prog.image_id, min_security_bits=float("nan"))
    with pytest.raises(VerificationError, match="below the minimum of inf"):
        stark.verify(receipt, prog.image_id, min_security_bits=float("inf"))
    with pytest.raises(UsageError, match="give a number of bits ≥ 0"):  # (-1 read as no minimum)
        stark.verify(receipt, prog.image_id, min_security_bits=-1)


def test_a_journal_padded_to_megabytes_is_refused_without_runaway_memory(stark, failing):
    """A memory bomb with no proving work: an honest seal, and a claim whose journal an attacker
    padded to many MiB (the claim's digest recomputed, so every check before the seal's passes).
    The verifier builds the journal's public bus entries before any cryptographic check can
    fail; they cost ~56 bytes of memory per journal byte (int64 positions and bytes, their
    remainders, an int64 stack, then the uint32 matrix), so a 64 MiB receipt took 3.9 GB and a
    256 MiB one (the receipt file limit, docs/limits.md) ~15 GB — a numpy MemoryError traceback
    on a smaller machine (a red-team review). Now the entries are kept as their columns and the
    public term is evaluated a block of rows at a time: a few bytes per journal byte."""
    import tracemalloc

    prog, receipt = failing
    journal = bytes(4 << 20)
    claim = dataclasses.replace(receipt.claim, journal_digest=hashlib.sha256(journal).digest())
    forged = dataclasses.replace(receipt, claim=claim, journal=journal)
    tracemalloc.start()
    try:
        with pytest.raises(VerificationError):
            check(stark, forged, prog.image_id)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12 * len(journal), f"verifying a {len(journal)}-byte journal peaked at {peak} bytes"
