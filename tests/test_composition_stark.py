"""Composition with a STARK outer receipt: the stark backend proves the aggregator (VERIFY_SP1_PROOF,
0x1B) and its proof binds the claim's assumptions through the ``assumption`` bus.

Proofs use the insecure fast preset (accepted with allow_insecure=True, which pyzkvm.verify
applies to inner receipts too), except one DEFAULT-preset aggregate (marked slow). Oracles: hashlib
(the aggregator's journal is u32 N ‖ SHA-256 of the claims), struct (the public-data encoding),
and the claims' own bytes. The AIR-level attacks (an assumption added, dropped, changed or
reordered in the outer *trace*) are in tests/machine/test_machine_assumptions.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
from pathlib import Path

import pytest

import pyzkvm
from pyzkvm.errors import DevModeReceiptError, UsageError, VerificationError
from pyzkvm.program import Program
from pyzkvm.receipt import Receipt

BIN = Path(__file__).resolve().parents[1] / "guests" / "bin"
FIB = Program.from_elf(BIN / "fibonacci.elf")
AGG = Program.from_elf(BIN / "aggregator.elf")
FAST = "insecure_fast_for_tests"
UNBALANCED = "LogUp buses do not balance"
#: a claim with more or fewer assumptions than the proof's: the assumption bus does not balance
#: (16 words a claim lists that no VERIFY_SP1_PROOF row sent, or the other way round; checked
#: first), and the halting segment's syscall chip would leave apos at another count than the
#: statement's ASSUMPTIONS (a constraint at ζ)
OTHER_COUNT = UNBALANCED


def u32(n: int) -> bytes:
    return struct.pack("<I", n)


def claim_bytes(r: Receipt) -> bytes:
    return r.claim.image_id + hashlib.sha256(r.journal).digest()


def aggregate(receipts, preset=FAST) -> Receipt:
    """The aggregator's stark receipt over ``receipts`` (input: u32 N, then each claim)."""
    inputs = [u32(len(receipts))] + [claim_bytes(r) for r in receipts]
    return pyzkvm.prove(AGG, inputs, backend="stark", preset=preset, assumptions=receipts)


def check(receipt, **kw):
    return pyzkvm.verify(receipt, AGG.image_id, allow_insecure=True, **kw)


@pytest.fixture(scope="module")
def fibs():
    """Three stark receipts of fibonacci (n = 1, 2, 3)."""
    return [pyzkvm.prove(FIB, [u32(n)], backend="stark", preset=FAST) for n in (1, 2, 3)]


@pytest.fixture(scope="module")
def agg2(fibs):
    return aggregate(fibs[:2])


def expected_journal(receipts) -> bytes:
    return u32(len(receipts)) + hashlib.sha256(b"".join(claim_bytes(r) for r in receipts)).digest()


# ---- honest aggregates --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def agg1(fibs):
    return aggregate(fibs[:1])


def test_aggregating_one_stark_receipt_with_a_stark_outer_verifies(fibs, agg1):
    outer = agg1
    assert outer.backend == "stark" and not outer.dev_mode
    assert outer.claim.assumptions == ((FIB.image_id, fibs[0].claim.journal_digest),)
    assert outer.inner == (fibs[0],)
    assert outer.journal == expected_journal(fibs[:1])
    assert check(outer) == outer.claim  # no dev mode needed: every receipt in the tree is a proof


def test_aggregating_two_stark_receipts_with_a_stark_outer_verifies(agg2, fibs, monkeypatch):
    monkeypatch.delenv("PYZKVM_DEV_MODE", raising=False)
    assert agg2.claim.assumptions == tuple((FIB.image_id, hashlib.sha256(r.journal).digest()) for r in fibs[:2])
    assert agg2.inner == tuple(fibs[:2])
    assert agg2.journal == expected_journal(fibs[:2])
    again = Receipt.from_bytes(agg2.to_bytes())
    assert again == agg2
    assert check(again.to_bytes()) == agg2.claim
    # without allow_insecure the test-preset proofs are refused (the inner ones too)
    with pytest.raises(VerificationError, match="below the minimum"):
        pyzkvm.verify(agg2, AGG.image_id)


@pytest.mark.slow  # ~30 s: the outer STARK covers 168k cycles
def test_aggregating_32_receipts_with_a_stark_outer_verifies(monkeypatch):
    """32 inner receipts: *trace* inners (32 stark inner proofs would add ~40 s of proving and
    ~15 s of verifying to this file); the outer receipt is a STARK of 168k cycles. A trace
    receipt inside makes the tree dev-only, as documented."""
    monkeypatch.delenv("PYZKVM_DEV_MODE", raising=False)
    inner = [pyzkvm.prove(FIB, [u32(n)], backend="trace") for n in range(32)]
    outer = aggregate(inner)
    assert outer.backend == "stark"
    assert len(outer.claim.assumptions) == 32 and outer.inner == tuple(inner)
    assert outer.journal == expected_journal(inner)
    with pytest.raises(DevModeReceiptError):
        check(outer)
    assert check(outer, dev_mode=True) == outer.claim
    # the outer proof binds all 32: the last one swapped for another fibonacci claim is rejected
    other = pyzkvm.prove(FIB, [u32(40)], backend="trace")
    changed = dataclasses.replace(outer, inner=outer.inner[:31] + (other,), claim=dataclasses.replace(
        outer.claim, assumptions=outer.claim.assumptions[:31] + ((FIB.image_id, other.claim.journal_digest),)))
    with pytest.raises(VerificationError, match=UNBALANCED):
        check(changed, dev_mode=True)


@pytest.mark.slow
def test_aggregate_at_the_default_preset_verifies(monkeypatch):
    monkeypatch.delenv("PYZKVM_DEV_MODE", raising=False)
    inner = pyzkvm.prove(FIB, [u32(5)], backend="stark")
    outer = aggregate([inner], preset="default")
    assert outer.params["security_bits"] >= 100
    assert pyzkvm.verify(outer, AGG.image_id) == outer.claim  # no allow_insecure, no dev mode
    # the same outer proof over a test-preset inner receipt: the tree is as strong as its weakest
    weak = aggregate([pyzkvm.prove(FIB, [u32(5)], backend="stark", preset=FAST)], preset="default")
    verified = pyzkvm.verify_report(weak, AGG.image_id, min_security_bits=24)
    assert verified.report.security.bits >= 100 and [e.bits for e in verified.inner_security] == [24.0]
    assert verified.security.bits == 24.0


def test_proving_needs_the_receipts_the_guest_asserts(fibs):
    inputs = [u32(2)] + [claim_bytes(r) for r in fibs[:2]]
    with pytest.raises(UsageError, match="missing receipt for assumption 1"):
        pyzkvm.prove(AGG, inputs, backend="stark", preset=FAST, assumptions=fibs[:1])
    with pytest.raises(UsageError, match="assumption 0 is .* but receipt 0 is for .*it is receipt 1"):
        pyzkvm.prove(AGG, inputs, backend="stark", preset=FAST, assumptions=[fibs[1], fibs[0]])


# ---- composed receipts that do not hold together --------------------------------------------


def rejects(receipt, message):
    with pytest.raises(VerificationError, match=message):
        check(receipt)


def test_missing_inner_receipt_is_rejected(agg2):
    rejects(dataclasses.replace(agg2, inner=agg2.inner[:1]), "assumption 1 .* has no inner receipt")
    rejects(dataclasses.replace(agg2, inner=()), "assumption 0 .* has no inner receipt")


def test_inner_receipt_for_another_image_is_rejected(agg2, agg1):
    # agg1 is a valid stark receipt of the aggregator, not of fibonacci (verified in the test above)
    rejects(dataclasses.replace(agg2, inner=(agg2.inner[0], agg1)), "assumption 1 is .* but inner receipt 1 proves")


def test_inner_receipt_for_another_journal_is_rejected(agg2, fibs):
    assert fibs[2].claim.image_id == FIB.image_id  # same image, another journal
    rejects(dataclasses.replace(agg2, inner=(agg2.inner[0], fibs[2])), "assumption 1 is .* but inner receipt 1 proves")


@pytest.mark.parametrize("where", [0.3, 0.6, 0.9])  # positions inside the inner STARK proof
def test_tampered_inner_seal_is_rejected(agg2, where):
    seal = agg2.inner[0].seal
    at = int(len(seal) * where)
    bad = dataclasses.replace(agg2.inner[0], seal=seal[:at] + bytes([seal[at] ^ 0x10]) + seal[at + 1:])
    rejects(dataclasses.replace(agg2, inner=(bad, agg2.inner[1])), "inner receipt 0: ")


def test_reordered_inner_receipts_are_rejected(agg2):
    rejects(dataclasses.replace(agg2, inner=agg2.inner[::-1]), "assumption 0 is .* but inner receipt 0 proves")


# ---- the claim lists other assumptions than the proof binds (inner receipts matching) ------------


def with_assumptions(receipt, inner) -> Receipt:
    """The receipt with its claim's assumptions AND its inner receipts replaced consistently, so
    that composition's checks pass and only the outer STARK can tell."""
    claim = dataclasses.replace(receipt.claim, assumptions=tuple((r.claim.image_id, r.claim.journal_digest) for r in inner))
    return dataclasses.replace(receipt, claim=claim, inner=tuple(inner))


def test_honest_rebuild_of_the_claim_still_verifies(agg2):
    check(with_assumptions(agg2, agg2.inner))  # the helper alone changes nothing


@pytest.mark.parametrize("edit", ["one more", "one fewer", "one changed", "two swapped"])
def test_claim_assumptions_other_than_the_proof_binds_are_rejected(agg2, fibs, edit):
    a, b = agg2.inner
    inner = {"one more": (a, b, fibs[2]), "one fewer": (a,), "one changed": (a, fibs[2]), "two swapped": (b, a)}[edit]
    rejects(with_assumptions(agg2, inner), OTHER_COUNT if edit in ("one more", "one fewer") else UNBALANCED)


def test_stark_backend_verify_rebuilds_the_public_data_from_the_claim(agg2, fibs):
    """The backend's own check of the seal (inner_verified: the composition checks skipped):
    the same proof against the claim with one assumption altered in a single byte fails."""
    from pyzkvm.backends import get_backend

    stark = get_backend("stark")
    stark.verify(agg2, AGG.image_id, allow_insecure=True, inner_verified=True)
    image, digest = agg2.claim.assumptions[1]
    altered = (image, digest[:31] + bytes([digest[31] ^ 1]))
    bad = dataclasses.replace(agg2, claim=dataclasses.replace(agg2.claim, assumptions=(agg2.claim.assumptions[0], altered)))
    with pytest.raises(VerificationError, match=UNBALANCED):
        stark.verify(bad, AGG.image_id, allow_insecure=True, inner_verified=True)


@pytest.mark.parametrize("edit", ["inner receipts stripped", "inner seals junk"])
def test_the_stark_backends_own_verify_checks_the_inner_receipts(agg2, edit):
    """``backend.verify(receipt, image_id)`` (the Backend interface) of a composed receipt is no
    weaker than pyzkvm.verify: its claim is conditional on the receipts it assumes, so they are
    verified too (a red-team review found them skipped). The honest one verifies both ways."""
    from pyzkvm.backends import get_backend

    stark = get_backend("stark")
    report = stark.verify(agg2, AGG.image_id, allow_insecure=True)
    verified = pyzkvm.verify_report(agg2, AGG.image_id, allow_insecure=True)
    # the same report, its security the tree's weakest (the claim holds only as far as that one)
    assert report == dataclasses.replace(verified.report, security=verified.security)
    bad = dataclasses.replace(agg2, inner=() if edit == "inner receipts stripped" else
                              tuple(dataclasses.replace(r, seal=b"junk") for r in agg2.inner))
    message = "assumption 0 .* has no inner receipt" if edit == "inner receipts stripped" else "inner receipt 0: stark seal"
    for verify in (stark.verify, pyzkvm.verify):
        with pytest.raises(VerificationError, match=message):
            verify(bad, AGG.image_id, allow_insecure=True)



def test_aggregate_s_verify_hint_names_the_weakest_seal_s_bits(agg2, fibs):
    # after aggregating test-preset receipts, the printed `pyzkvm verify ...` was refused as it stood
    from pyzkvm.cli.aggregate import _weakest_bits_option
    from pyzkvm.cli.inspect import weakest_security

    weakest = weakest_security(agg2)
    assert weakest.bits == min(pyzkvm.verify_report(r, FIB.image_id, allow_insecure=True).security.bits for r in fibs)
    assert _weakest_bits_option(agg2) == f" --min-security-bits {int(weakest.bits)}" and weakest.bits < 100
    assert _weakest_bits_option(pyzkvm.prove(FIB, [u32(1)], backend="trace")) == ""  # (no stark seal)

@pytest.fixture(scope="module")
def over_trace():
    """A stark aggregate whose one inner receipt is a trace (dev-mode) receipt."""
    return aggregate([pyzkvm.prove(FIB, [u32(1)], backend="trace")])


def test_a_proof_over_a_dev_mode_receipt_is_reported_as_no_proof(over_trace, tmp_path, capsys, monkeypatch):
    """A stark aggregate whose inner receipt is a trace (dev-mode) receipt verifies only in dev
    mode, and then says so: no security estimate (the outer's bits said nothing about its
    inner claim) and the CLI's "NOT a proof" (it printed "stark receipt ... bits": a red-team
    finding, session 24)."""
    from pyzkvm.cli import main

    monkeypatch.delenv("PYZKVM_DEV_MODE", raising=False)
    outer = over_trace
    verified = pyzkvm.verify_report(outer, AGG.image_id, dev_mode=True, allow_insecure=True)
    assert verified.dev_mode and verified.security is None and verified.report.security.bits > 0
    path = tmp_path / "agg.receipt"
    path.write_bytes(outer.to_bytes())
    assert main(["verify", str(path), "--image-id", AGG.image_id.hex(), "--min-security-bits", "0", "--dev-mode"]) == 0
    out = capsys.readouterr().out
    assert "verified: stark receipt with a dev-mode receipt inside (NOT a proof)" in out and "bits" not in out
    stark_only = pyzkvm.verify_report(aggregate([]), AGG.image_id, allow_insecure=True)
    assert not stark_only.dev_mode and stark_only.security is not None


def test_every_report_of_a_proof_over_a_dev_mode_receipt_says_it_is_no_proof(over_trace, fibs, tmp_path, capsys,
                                                                              monkeypatch):
    """What prove and aggregate print, inspect, and the stark backend's own verify, for a proof
    whose claim assumes a dev-mode receipt's: each says it is NOT a proof (they looked at the
    outer receipt alone: "backend: stark", "dev mode: no", a 100-bit report; red-team review,
    session 26). A receipt of stark receipts only is a proof everywhere."""
    import json

    from pyzkvm.backends import get_backend
    from pyzkvm.cli import main
    from pyzkvm.cli.prove import write_receipt

    monkeypatch.delenv("PYZKVM_DEV_MODE", raising=False)
    path = tmp_path / "agg.receipt"
    write_receipt(over_trace, path, 0.1)
    assert "backend:    stark" in (out := capsys.readouterr().out) and "(a dev-mode receipt inside: NOT a proof)" in out
    assert main(["inspect", str(path)]) == 0
    assert "dev mode:" in (out := capsys.readouterr().out) and "yes: a dev-mode receipt inside: NOT a proof" in out
    assert main(["inspect", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dev_mode"] is True
    stark = get_backend("stark")
    with pytest.raises(DevModeReceiptError, match="not a proof"):
        stark.verify(over_trace, AGG.image_id, allow_insecure=True)
    monkeypatch.setenv("PYZKVM_DEV_MODE", "1")  # dev mode on: still no proof to report
    with pytest.raises(DevModeReceiptError, match="reports proofs only"):
        stark.verify(over_trace, AGG.image_id, allow_insecure=True)
    monkeypatch.delenv("PYZKVM_DEV_MODE")
    honest = tmp_path / "fib.receipt"
    write_receipt(fibs[0], honest, 0.1)
    assert "NOT a proof" not in capsys.readouterr().out
    assert main(["inspect", str(honest)]) == 0
    assert "dev mode:" in (out := capsys.readouterr().out) and "NOT a proof" not in out


def test_inspect_shows_the_weakest_security_inside_a_composed_receipt(agg2, tmp_path, capsys):
    """inspect's security of a composed receipt is the lowest its seals imply, as verify's (it
    showed the outer seal's alone: a 24-bit inner receipt under a 100-bit outer read 100 bits)."""
    import json

    from pyzkvm.cli import main

    path = tmp_path / "agg.receipt"
    path.write_bytes(agg2.to_bytes())
    verified = pyzkvm.verify_report(agg2, AGG.image_id, allow_insecure=True)
    assert main(["inspect", str(path), "--json"]) == 0
    view = json.loads(capsys.readouterr().out)
    assert view["weakest_security_inside"]["bits"] == pytest.approx(min(e.bits for e in verified.inner_security))
    assert main(["inspect", str(path)]) == 0
    security = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("security:"))
    assert f"{verified.security.bits:.1f} bits" in security


def test_an_assumption_receipt_that_does_not_verify_is_refused_before_proving(fibs, monkeypatch):
    """prove (and aggregate) check each assumption receipt before proving on it: a corrupt seal,
    or a receipt that is itself conditional (its inner receipt stripped), would give a composed
    receipt that no verifier accepts, after all the proving time (red-team review, session 26).
    Dev-mode and test-preset receipts pass this check: their verifier decides."""
    from pyzkvm.backends import stark as stark_backend

    def not_reached(*a, **k):
        raise AssertionError("proving started")

    monkeypatch.setattr(stark_backend.StarkBackend, "prove", not_reached)
    junk = dataclasses.replace(fibs[1], seal=fibs[1].seal[:-1] + bytes([fibs[1].seal[-1] ^ 1]))
    with pytest.raises(UsageError, match="assumption receipt 1 does not verify"):
        aggregate([fibs[0], junk])


def test_a_composed_receipts_security_is_its_weakest_receipts(agg2):
    verified = pyzkvm.verify_report(agg2, AGG.image_id, allow_insecure=True)
    assert len(verified.inner_security) == 2  # both inner receipts' estimates, recomputed
    assert verified.security.bits == min(e.bits for e in (verified.report.security, *verified.inner_security))


def test_segmented_aggregate_chains_the_assumptions_across_segments(fibs, agg2):
    """The aggregator proved in segments of 512 cycles: its VERIFY_SP1_PROOF calls fall in
    different segments, whose assumption counters chain (the segment counts bus); the receipt
    verifies like the whole-run one, and a claim with the two assumptions swapped does not."""
    from pyzkvm.backends.stark import decode_seal
    from pyzkvm.executor.segments import execute_segments

    inputs = [u32(2)] + [claim_bytes(r) for r in fibs[:2]]
    seg = pyzkvm.prove(AGG, inputs, backend="stark", preset=FAST, assumptions=fibs[:2], segment_cycles=512)  # ~2.2 k cycles
    calls = [len(e.assumptions) for e in execute_segments(AGG, inputs, 512)]
    assert len(calls) == len(decode_seal(seg.seal)["segments"]) > 2
    assert sum(calls) == 2 and calls[0] < 2  # the calls are not all in the first segment
    assert seg.claim == agg2.claim
    check(seg)
    swapped = dataclasses.replace(seg, claim=dataclasses.replace(seg.claim, assumptions=seg.claim.assumptions[::-1]),
                                  inner=seg.inner[::-1])
    rejects(swapped, UNBALANCED)
