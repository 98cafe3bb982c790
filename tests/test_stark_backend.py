"""The stark backend end to end: prove guests, verify from the receipt and the image ID alone,
reject every claim the proof does not support, and refuse what the AIR does not prove.

Proofs use the insecure fast preset (tests only, accepted with allow_insecure=True), except
one DEFAULT-preset proof. Oracles: hashlib for the journal digest, the executor's own run for
the claim (exit code, cycles, journal), Program.image_id for the image ID."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from pathlib import Path

import pytest

import pyzkvm
from pyzkvm import Program
from pyzkvm.backends import default_backend_name, get_backend
from pyzkvm.backends.stark import decode_seal, encode_seal
from pyzkvm.errors import ProofFormatError, UsageError, VerificationError
from pyzkvm.executor import execute
from pyzkvm.receipt import Claim, Receipt

BIN = Path(__file__).resolve().parent.parent / "guests" / "bin"
FAST = "insecure_fast_for_tests"


def u32(n: int) -> bytes:
    return n.to_bytes(4, "little")


@pytest.fixture(scope="module")
def stark():
    return get_backend("stark")


@pytest.fixture(scope="module")
def fib():
    return Program.from_elf(BIN / "fibonacci.elf")


@pytest.fixture(scope="module")
def fib_receipt(stark, fib):
    return stark.prove(fib, [u32(10)], preset=FAST)


def check(stark, receipt, image_id):
    stark.verify(receipt, image_id, allow_insecure=True)


def with_claim(receipt: Receipt, **changes) -> Receipt:
    return dataclasses.replace(receipt, claim=dataclasses.replace(receipt.claim, **changes))


# ---- honest runs -------------------------------------------------------------------------


def test_stark_is_the_default_backend():
    assert default_backend_name() == "stark"
    assert get_backend("stark").availability().available


def test_fibonacci_receipt_matches_the_run_and_verifies(stark, fib, fib_receipt):
    run = execute(fib, [u32(10)])
    claim = fib_receipt.claim
    assert claim.image_id == fib.image_id
    assert (claim.exit_code, claim.cycles, fib_receipt.journal) == (run.exit_code, run.cycles, run.journal)
    assert claim.journal_digest == hashlib.sha256(run.journal).digest()
    assert fib_receipt.params["cycles"] == run.cycles
    assert fib_receipt.params["preset"] == FAST and fib_receipt.params["security_bits"] < 100
    (segment,) = decode_seal(fib_receipt.seal)["segments"]  # a whole run: one segment
    assert fib_receipt.params["proof_bytes"] == len(segment[1])
    assert segment[0] == run.cycles  # the seal's one segment: its end clock (after HALT) and proof
    check(stark, fib_receipt, fib.image_id)
    # the library entry point passes options through to the backend
    assert pyzkvm.verify(fib_receipt.to_bytes(), fib.image_id.hex(), allow_insecure=True) == claim


def test_insecure_receipts_need_allow_insecure(stark, fib, fib_receipt):
    with pytest.raises(VerificationError, match="below the minimum of 100"):
        stark.verify(fib_receipt, fib.image_id)
    with pytest.raises(VerificationError, match="below the minimum"):
        pyzkvm.verify(fib_receipt, fib.image_id)


def test_default_preset_proof(stark):
    """The one DEFAULT-preset proof: zero-knowledge (the default, DEFAULT_ZK), ≥ 100 bits, under
    800 KB (a hiding proof is ~1.2× a transparent one, bench/results/zk.md; the SDK's exit path
    hashes the journal with SHA_EXTEND/SHA_COMPRESS, so the two SHA tables are opened too: this
    one measured 714.5 KB on 2026-12-05, 540 KB before the SHA chips), verified without options."""
    prog = Program.from_elf(BIN / "sort.elf")
    heard = []
    receipt = stark.prove(prog, [bytes([5, 3, 9, 1, 7])], progress=lambda step, f: heard.append((step, f)))
    steps = list(dict.fromkeys(step for step, _ in heard))  # progress by protocol step, in order
    assert steps == ["execute", "build tables", "setup", "commit to trace data", "commit to quotient chunks", "open",
                     "DEEP composition", "FRI commit", "FRI queries", "done"]
    fractions = [f for _, f in heard]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert receipt.params["security_bits"] >= 100 and receipt.params["zero_knowledge"] is True
    assert receipt.params["proof_bytes"] <= 800_000
    run = execute(prog, [bytes([5, 3, 9, 1, 7])])
    assert receipt.journal == run.journal and receipt.claim.exit_code == run.exit_code
    stark.verify(receipt, prog.image_id)
    pyzkvm.verify(Receipt.from_bytes(receipt.to_bytes()), prog)


@pytest.mark.slow
def test_compact_preset_proof(stark, fib):
    """compact_100_bits (blowup 16, 20 queries): ≥ 100 bits recomputed by a verifier with the
    default policy, against the same image ID as every other preset, and smaller than DEFAULT's
    transparent proof of the same run (fibonacci(10): 303.6 vs 460.0 KB measured 2026-12-05,
    bench/results/proof_size.md)."""
    receipt = stark.prove(fib, [u32(10)], preset="compact_100_bits")
    assert receipt.claim.image_id == fib.image_id and receipt.params["zero_knowledge"] is False
    verified = stark.verify(receipt, fib.image_id)
    assert verified.preset == "compact_100_bits" and verified.security.bits >= 100
    assert receipt.params["proof_bytes"] <= 330_000
    pyzkvm.verify(Receipt.from_bytes(receipt.to_bytes()), fib)


@pytest.mark.parametrize("name, inputs", [
    ("sha256.elf", [b"abc" * 20]),
    ("panic.elf", []),
])
def test_guests_prove_and_verify(stark, name, inputs):
    prog = Program.from_elf(BIN / name)
    run = execute(prog, inputs)
    receipt = stark.prove(prog, inputs, preset=FAST)
    assert (receipt.claim.exit_code, receipt.claim.cycles, receipt.journal) == (run.exit_code, run.cycles, run.journal)
    check(stark, receipt, prog.image_id)
    if name == "sha256.elf":
        assert receipt.journal == hashlib.sha256(b"abc" * 20).digest()  # the guest's documented output
    else:
        assert receipt.claim.exit_code == 1  # a receipt proving the failing run


@pytest.mark.slow
def test_rv32im_selftest_proves_and_verifies(stark):
    """The self-test guest (every RV32IM instruction with its edge cases, 782 874 cycles: a
    2^20-row CPU table) proves and verifies at the fast preset: ≈ 1–1.5 min and ≈ 6.1 GB peak
    (docs/machine.md §10). Oracle: the executor's own run for the claim; exit code 0 is the
    guest's verdict that every instruction matched its expected results."""
    prog = Program.from_elf(BIN / "rv32im-selftest.elf")
    run = execute(prog)
    assert run.exit_code == 0
    receipt = stark.prove(prog, [], preset=FAST)
    assert (receipt.claim.exit_code, receipt.claim.cycles, receipt.journal) == (0, run.cycles, run.journal)
    check(stark, receipt, prog.image_id)
    with pytest.raises(VerificationError):
        check(stark, with_claim(receipt, exit_code=1), prog.image_id)


def test_aggregator_without_its_receipts_is_refused_before_proving(stark):
    """The aggregator asserts a claim with VERIFY_SP1_PROOF (0x1B): the stark backend proves it
    (tests/test_composition.py) but only with a receipt for each assertion."""
    prog = Program.from_elf(BIN / "aggregator.elf")
    inputs = [u32(1), bytes(range(64))]
    assert "VERIFY_SP1_PROOF" in execute(prog, inputs).report.syscalls
    with pytest.raises(UsageError, match="missing receipt for assumption 0 .*pass it with --assume"):
        stark.prove(prog, inputs, preset=FAST)


def test_assumptions_and_other_blowups_are_refused(stark, fib, fib_receipt):
    with pytest.raises(UsageError, match="extra receipt 0 .*asserted only 0"):  # fibonacci asserts nothing
        stark.prove(fib, [u32(10)], preset=FAST, assumptions=[fib_receipt])
    with pytest.raises(UsageError, match="blowup"):
        stark.prove(fib, [u32(10)], preset="blowup2_100_bits")
    with pytest.raises(UsageError, match="no option"):
        stark.prove(fib, [u32(10)], preset=FAST, fast=True)


# ---- claims the proof does not support -------------------------------------------------------


def test_changed_journal_is_rejected(stark, fib, fib_receipt):
    journal = bytearray(fib_receipt.journal)
    journal[0] ^= 1
    forged = dataclasses.replace(with_claim(fib_receipt, journal_digest=hashlib.sha256(journal).digest()),
                                 journal=bytes(journal))
    with pytest.raises(VerificationError):
        check(stark, forged, fib.image_id)
    # and the journal without the digest: caught before the proof
    with pytest.raises(VerificationError, match="journal does not match"):
        check(stark, dataclasses.replace(fib_receipt, journal=bytes(journal)), fib.image_id)


@pytest.mark.parametrize("change", [{"exit_code": 1}, {"cycles": 5698}, {"cycles": 5696}])
def test_changed_exit_code_or_cycles_is_rejected(stark, fib, fib_receipt, change):
    with pytest.raises(VerificationError):
        check(stark, with_claim(fib_receipt, **change), fib.image_id)


def test_other_image_id_is_rejected(stark, fib, fib_receipt):
    other = Program.from_elf(BIN / "sort.elf").image_id
    with pytest.raises(VerificationError, match="image ID mismatch"):
        check(stark, fib_receipt, other)
    # relabel the claim too: the seal's verifying key names fibonacci, not sort
    with pytest.raises(VerificationError, match="another program"):
        check(stark, with_claim(fib_receipt, image_id=other), other)


def test_flipped_seal_bytes_are_rejected(stark, fib, fib_receipt):
    seal = fib_receipt.seal
    proof = decode_seal(seal)["segments"][0][1]
    proof_start = len(seal) - len(proof)
    for pos in (0, 3, 10, proof_start - 3, proof_start - 20, proof_start - 30, proof_start + 100,
                proof_start + len(proof) // 2, len(seal) - 1):
        bad = bytearray(seal)
        bad[pos] ^= 0x04
        with pytest.raises((VerificationError, ProofFormatError)):
            check(stark, dataclasses.replace(fib_receipt, seal=bytes(bad)), fib.image_id)
    for cut in (seal[:5], seal[:-1], seal + b"\x00"):
        with pytest.raises(ProofFormatError):
            check(stark, dataclasses.replace(fib_receipt, seal=cut), fib.image_id)


def test_seal_flags_are_bound(stark, fib, fib_receipt):
    """Claiming the guest did not commit (has_commit = 0) changes the public values: rejected."""
    p = decode_seal(fib_receipt.seal)
    assert p["has_commit"]
    flipped = encode_seal(p["preset"], p["prep_root"], p["prep_log_heights"], False, p["has_deferred"],
                          p["segments"], others=p["others"])
    with pytest.raises(VerificationError):
        check(stark, dataclasses.replace(fib_receipt, seal=flipped), fib.image_id)
    assert encode_seal(p["preset"], p["prep_root"], p["prep_log_heights"], True, p["has_deferred"],
                       p["segments"], others=p["others"]) == fib_receipt.seal
    bad = bytearray(fib_receipt.seal)
    bad[len(fib_receipt.seal) - len(p["segments"][0][1]) - 12 - 4 - 2] = 2  # has_commit byte = 2
    with pytest.raises(ProofFormatError, match="0 or 1"):
        check(stark, dataclasses.replace(fib_receipt, seal=bytes(bad)), fib.image_id)


def test_an_assumption_the_guest_never_made_is_rejected(stark, fib, fib_receipt):
    """fibonacci makes no VERIFY_SP1_PROOF: a claim listing one does not match the proof (the
    statement's assumption count, 1, is not where the syscall chip leaves apos, and the
    assumption bus would see 16 words nobody sent)."""
    claim = Claim(fib_receipt.claim.image_id, 0, fib_receipt.claim.journal_digest, fib_receipt.claim.cycles,
                  ((b"\x01" * 32, b"\x02" * 32),))
    forged = dataclasses.replace(fib_receipt, claim=claim)
    with pytest.raises(VerificationError, match="has no inner receipt"):  # the composition check comes first
        check(stark, forged, fib.image_id)
    with pytest.raises(VerificationError, match="do not balance|constraint"):
        stark.verify(forged, fib.image_id, allow_insecure=True, inner_verified=True)


# ---- receipt metadata: bound or not reported as verified (issue 14 §4) --------------------------


def with_params(receipt: Receipt, **changes) -> Receipt:
    return dataclasses.replace(receipt, params={**receipt.params, **changes})


def test_verify_reports_what_it_recomputed_from_the_seal(stark, fib, fib_receipt):
    """The report's values come from the seal and the claim: the security estimate the
    verifier computed from the heights it checked, the proof bytes it read, the segments."""
    from pyzkvm.machine.image_id import machine_key_from_parts
    from pyzkvm.stark import preset
    from pyzkvm.stark.proof import decode_proof

    report = stark.verify(fib_receipt, fib.image_id, allow_insecure=True)
    p = decode_seal(fib_receipt.seal)
    (segment,) = p["segments"]
    heights = [t.log_height for t in decode_proof(segment[1]).tables]
    assert report.log_heights == [heights]
    assert report.proof_bytes == len(segment[1]) and report.segments == 1 and report.cycles == fib_receipt.claim.cycles
    assert report.preset == FAST and report.security.query_bits == 24 and report.security.bits == 24
    assert report.security.logup_bits is not None  # the machine's buses are counted
    vk = machine_key_from_parts(preset(FAST), p["prep_root"], p["prep_log_heights"])
    entries = sum(len(c.interactions) << h for c, h in zip(vk.compiled, heights) if h is not None)  # a left-out table has none
    width = max(1 + len(it.values) for c in vk.compiled for it in c.interactions)  # the machine's widest tuple, bus id included
    assert report.security.logup_bits > 123.6 - math.log2(entries * (width + 1)) - 1e-9  # + journal entries: a hair lower
    verified = pyzkvm.verify_report(fib_receipt, fib.image_id, allow_insecure=True)
    assert verified.claim == fib_receipt.claim and verified.security == report.security
    assert report.params() == {k: v for k, v in fib_receipt.params.items() if k != "segment_cycles"}


@pytest.mark.parametrize("key, forged", [
    ("security_bits", 256.0), ("security_bits", 24.1), ("security_bits", 24),   # value, rounding, type
    ("proof_bytes", 1), ("cycles", 5698), ("preset", "default_100_bits"), ("segments", 2),
    ("segment_cycles", 100), ("zero_knowledge", True), ("zero_knowledge", 0),
])
def test_every_param_is_bound_to_the_seal(stark, fib, fib_receipt, key, forged):
    with pytest.raises(VerificationError, match=key):
        check(stark, with_params(fib_receipt, **{key: forged}), fib.image_id)
    with pytest.raises(VerificationError):
        pyzkvm.verify(with_params(fib_receipt, **{key: forged}).to_bytes(), fib.image_id, allow_insecure=True)


def test_a_one_segment_receipts_cut_is_its_length(stark, fib, fib_receipt):
    """One segment: any cut at least its length was consistent with the proof, a number
    nothing bound (a red-team review); the receipt records the length, and only it verifies."""
    cycles = fib_receipt.claim.cycles
    assert fib_receipt.params["segment_cycles"] == cycles
    for forged in (cycles + 1, 1 << 20, 1 << 62):
        with pytest.raises(VerificationError, match="segment_cycles"):
            check(stark, with_params(fib_receipt, segment_cycles=forged), fib.image_id)


def test_any_bus_nonce_in_a_proof_is_a_verification_failure(stark, fib, fib_receipt):
    """The bus proof-of-work nonce is a u64 the transcript absorbs as bytes: one whose 32-bit
    words are not field elements (≥ p) made the verifier's transcript raise a UsageError (the
    CLI's "bad arguments" status) instead of failing verification."""
    from pyzkvm.backends.stark import decode_seal, encode_seal
    from pyzkvm.stark.proof import decode_proof, encode_proof

    p = decode_seal(fib_receipt.seal)
    for nonce in (0xFFFFFFFF, (1 << 64) - 1):
        proof = decode_proof(p["segments"][0][1])
        proof.bus_pow_nonce = nonce
        data = encode_proof(proof)[0]
        seal = encode_seal(p["preset"], p["prep_root"], p["prep_log_heights"], p["has_commit"], p["has_deferred"],
                           [(p["segments"][0][0], data)], others=p["others"])
        with pytest.raises(VerificationError):
            check(stark, dataclasses.replace(fib_receipt, seal=seal), fib.image_id)


@pytest.mark.parametrize("key", ["security_bits", "proof_bytes", "cycles", "preset", "segments", "segment_cycles",
                                 "zero_knowledge"])
def test_a_missing_param_is_an_error_not_a_default(stark, fib, fib_receipt, key):
    params = {k: v for k, v in fib_receipt.params.items() if k != key}
    with pytest.raises(VerificationError, match=f"lack {key}"):
        check(stark, dataclasses.replace(fib_receipt, params=params), fib.image_id)


def test_an_unbound_extra_param_is_refused(stark, fib, fib_receipt):
    with pytest.raises(VerificationError, match="unbound key"):
        check(stark, with_params(fib_receipt, audited_by="nobody"), fib.image_id)
    with pytest.raises(VerificationError, match="unbound key"):
        check(stark, with_params(fib_receipt, conjectured_security_bits=256.0), fib.image_id)


def test_a_rewritten_backend_version_changes_nothing_reported_as_verified(stark, fib, fib_receipt):
    """backend_version is the prover's label: verification neither reads nor reports it, so a
    rewritten one verifies with the identical report."""
    relabelled = dataclasses.replace(fib_receipt, backend_version="99.0-audited-256-bits")
    assert stark.verify(relabelled, fib.image_id, allow_insecure=True) == \
        stark.verify(fib_receipt, fib.image_id, allow_insecure=True)
    assert pyzkvm.verify_report(relabelled.to_bytes(), fib.image_id, allow_insecure=True) == \
        pyzkvm.verify_report(fib_receipt, fib.image_id, allow_insecure=True)


def test_the_seal_preset_is_bound(stark, fib, fib_receipt):
    """Renaming the seal's preset changes the verifying key (its digest holds the parameters):
    the proof does not verify under another preset."""
    p = decode_seal(fib_receipt.seal)
    for name in ("default_100_bits", "insecure_fast_for_tests_zk", "no_such_preset"):
        seal = encode_seal(name, p["prep_root"], p["prep_log_heights"], p["has_commit"], p["has_deferred"],
                           p["segments"], others=p["others"])
        forged = dataclasses.replace(fib_receipt, seal=seal, params={**fib_receipt.params, "preset": name})
        with pytest.raises((VerificationError, ProofFormatError)):
            stark.verify(forged, fib.image_id, min_security_bits=0)


def test_the_minimum_security_is_the_callers_value(stark, fib, fib_receipt):
    """The acceptance policy is a number, not a preset name: the same 24-bit receipt passes a
    minimum of 24 and fails 25; allow_insecure=True is shorthand for no minimum."""
    assert stark.verify(fib_receipt, fib.image_id, min_security_bits=24).security.bits == 24
    with pytest.raises(VerificationError, match="below the minimum of 25"):
        stark.verify(fib_receipt, fib.image_id, min_security_bits=25)
    with pytest.raises(VerificationError, match="below the minimum of 100"):
        stark.verify(fib_receipt, fib.image_id)
    assert pyzkvm.verify(fib_receipt, fib.image_id, min_security_bits=20) == fib_receipt.claim
    with pytest.raises(UsageError):
        stark.verify(fib_receipt, fib.image_id, min_security_bits="high")


def test_inspect_shows_the_seals_security_and_flags_forged_params(stark, fib, fib_receipt, tmp_path, capsys):
    """`pyzkvm inspect` of a receipt whose security_bits was rewritten to 256: the security
    line is recomputed from the seal (24 bits), the forged param is flagged, and the backend
    version is labelled as unverified; verify refuses the receipt."""
    from pyzkvm.cli import main

    forged = with_params(dataclasses.replace(fib_receipt, backend_version="9.9"), security_bits=256.0)
    path = tmp_path / "forged.receipt"
    path.write_bytes(forged.to_bytes())
    assert main(["inspect", str(path)]) == 0
    shown = dict(line.split(":", 1) for line in capsys.readouterr().out.splitlines() if ":" in line)
    shown = {k.strip(): v.strip() for k, v in shown.items()}
    assert shown["verified"].startswith("no")
    assert shown["security"].startswith("24.0 bits conjectured") and "256" not in shown["security"]
    assert "DISAGREES with the seal, which gives 24.0" in shown["param security_bits"]
    assert "not verified" in shown["backend version"]
    assert main(["inspect", str(path), "--json"]) == 0
    view = json.loads(capsys.readouterr().out)
    assert view["verified"] is False and view["from_seal"]["security_bits"] == 24.0
    assert main(["verify", str(path), "--elf", str(BIN / "fibonacci.elf"), "--min-security-bits", "0"]) == 1
    capsys.readouterr()
    # the honest receipt: `pyzkvm verify` prints the bits it recomputed; the minimum is a number
    path.write_bytes(fib_receipt.to_bytes())
    assert main(["verify", str(path), "--elf", str(BIN / "fibonacci.elf")]) == 1  # 24 < 100
    assert "below the minimum of 100" in capsys.readouterr().err
    assert main(["verify", str(path), "--elf", str(BIN / "fibonacci.elf"), "--min-security-bits", "24"]) == 0
    assert capsys.readouterr().out.rstrip().endswith(", 24.0 bits")


# ---- command line ------------------------------------------------------------------------------


def test_cli_prove_verify_inspect_default_backend(tmp_path, capsys):
    from pyzkvm.cli import main

    out = tmp_path / "fib.receipt"
    assert main(["prove", str(BIN / "fibonacci.elf"), "--input", "u32:10", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "backend:    stark" in printed and "NOT a proof" not in printed
    assert main(["verify", str(out), "--elf", str(BIN / "fibonacci.elf")]) == 0
    assert main(["inspect", str(out)]) == 0
    shown = capsys.readouterr().out
    import re
    bits = re.search(r"security:\s*([0-9.]+) bits", shown)
    assert bits and float(bits.group(1)) >= 100.0, shown  # the default preset's conjectured floor
    cycles = pyzkvm.execute(Program.from_elf(BIN / "fibonacci.elf"), [(10).to_bytes(4, "little")]).cycles
    assert "param proof_bytes" in shown and "cycles:" in shown and str(cycles) in shown


def test_a_fresh_verify_command_loads_no_numba(stark, fib, fib_receipt, tmp_path, monkeypatch):
    """`pyzkvm verify` runs no numba kernel (issue 18: nothing compiled on the verify path): with
    the verifier key and the image ID in the memo, as an earlier command leaves them, a fresh
    process verifies by --image-id and by --elf without importing numba."""
    from pyzkvm import memo
    from pyzkvm.machine import image_id
    from pyzkvm.stark import PRESETS
    from pyzkvm.stark.verifier_key import encode_views
    from tests.test_start_up import child

    check(stark, fib_receipt, fib.image_id)  # builds the machine's verifier key in this process
    views = image_id.machine_verifier_airs(PRESETS[FAST])
    monkeypatch.setenv("PYZKVM_MEMO_DIR", str(tmp_path))
    monkeypatch.delenv("PYZKVM_NO_MEMO", raising=False)
    memo.put(image_id.VERIFIER_KEYS, image_id.verifier_key_name(PRESETS[FAST]),
             encode_views([(v, getattr(v, "_blinded", (0, None))[1]) for v in views]))
    memo.put(memo.IMAGE_IDS, memo.program_key(fib), fib.image_id)
    (tmp_path / "r").write_bytes(fib_receipt.to_bytes())
    weak = ["--min-security-bits", "0"]  # the fast test preset
    assert child(["verify", str(tmp_path / "r"), "--image-id", fib.image_id.hex(), *weak], tmp_path) == (0, [])
    assert child(["verify", str(tmp_path / "r"), "--elf", str(BIN / "fibonacci.elf"), *weak], tmp_path) == (0, [])
    # a machine that never proved (an empty memo): the shipped verifier key, the image ID with numpy
    fresh = tmp_path / "fresh"
    assert child(["verify", str(tmp_path / "r"), "--elf", str(BIN / "fibonacci.elf"), *weak], fresh) == (0, [])


@pytest.mark.parametrize("profile", ["sp1@3", "sp1@4.0"])
def test_sp1_versions_whose_syscalls_the_proof_does_not_follow_are_refused(stark, fib, fib_receipt, profile, tmp_path):
    """The image ID binds the ABI family, not the SP1 version, and the proof follows sp1@5
    (fd 13 is the journal; HINT_LEN answers 0xFFFFFFFF when no input is left). A v3 ELF's
    executor ignores fd 13 and panics there: a receipt verified against such an ELF claimed a
    journal its own executor never wrote (a red-team finding, session 24). So neither prove
    nor verify accepts those profiles; the same ELF under sp1@5 (--abi sp1) still does."""
    import dataclasses

    from pyzkvm.cli import main
    from pyzkvm.errors import UnsupportedProgram

    old = dataclasses.replace(fib, sp1_profile=profile)
    assert old.image_id == fib.image_id  # the same image: only the executor's behaviour differs
    with pytest.raises(UnsupportedProgram, match=f"under profile {profile}"):
        stark.prove(old, [u32(10)], preset=FAST)
    with pytest.raises(VerificationError, match=f"under profile {profile}"):
        pyzkvm.verify(fib_receipt, old, allow_insecure=True)
    assert pyzkvm.verify(fib_receipt, fib, allow_insecure=True) == fib_receipt.claim
    path = tmp_path / "fib.receipt"
    path.write_bytes(fib_receipt.to_bytes())
    elf = str(BIN / "fibonacci.elf")
    assert main(["verify", str(path), "--elf", elf, "--abi", profile, "--min-security-bits", "0"]) == 1
    assert main(["verify", str(path), "--elf", elf, "--min-security-bits", "0"]) == 0


def test_a_seal_with_an_extra_table_is_a_typed_error_for_inspect_too(fib_receipt):
    """A segment proof with one more (left-out) table than the machine's: verify refused it, but
    inspect's view (describe_seal) crashed with a raw ValueError (a fuzzing finding, session 24)."""
    from pyzkvm.backends.stark_seal import decode_seal, describe_seal, encode_seal
    from pyzkvm.errors import ProofShapeError
    from pyzkvm.stark.proof import TableProof, decode_proof, encode_proof

    s = decode_seal(fib_receipt.seal)
    (end_clock, proof), = s["segments"]
    p = decode_proof(proof)
    p.tables.append(TableProof.left_out())
    seal = encode_seal(s["preset"], s["prep_root"], s["prep_log_heights"], s["has_commit"], s["has_deferred"],
                       [(end_clock, encode_proof(p)[0])], others=s["others"])
    bad = dataclasses.replace(fib_receipt, seal=seal)
    with pytest.raises(ProofShapeError, match="tables"):
        describe_seal(bad)
    with pytest.raises(ProofShapeError):
        pyzkvm.verify(bad, fib_receipt.claim.image_id, allow_insecure=True)


def test_the_acceptance_policy_refuses_what_is_not_a_policy(stark, fib, fib_receipt):
    """allow_insecure must be a bool ("no" read as True accepted a 24-bit proof); a minimum past
    float's range is a minimum no proof reaches, not an OverflowError (fuzzing, session 24)."""
    with pytest.raises(UsageError, match="allow_insecure must be True or False"):
        stark.verify(fib_receipt, fib.image_id, allow_insecure="no")
    with pytest.raises(VerificationError, match="below the minimum"):
        stark.verify(fib_receipt, fib.image_id, min_security_bits=10**400)
