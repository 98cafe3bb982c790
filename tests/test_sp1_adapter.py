"""The sp1 adapter against a fake sp1-runner (tests/fakes), plus the real toolchain when it
is installed (skipped otherwise, with the reason)."""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyzkvm.backends import sp1 as sp1_mod
from pyzkvm.backends.sp1 import NOT_FOUND, Sp1Backend, sp1_stdin_bytes
from pyzkvm.errors import (
    BackendUnavailable,
    DevModeReceiptError,
    ToolchainError,
    UnsupportedProgram,
    UsageError,
    VerificationError,
)
from pyzkvm.program import Program
from pyzkvm.receipt import Receipt
from tests.fakes import echo_guest_risc0, echo_guest_sp1, fake_env, install_fake

INPUT = [b"zkvm"]
FIBONACCI = Path(__file__).resolve().parents[1] / "guests" / "bin" / "fibonacci.elf"


@pytest.fixture
def fake_runner(tmp_path, monkeypatch):
    runner = install_fake(tmp_path / "bin", "sp1_runner", "sp1-runner")
    monkeypatch.setenv("PYZKVM_SP1_RUNNER", str(runner))
    monkeypatch.setenv("PYZKVM_CACHE_DIR", str(tmp_path / "cache"))
    for key in ("FAKE_SP1_MODE", "PYZKVM_DEV_MODE", "PYZKVM_TOOL_TIMEOUT", "SP1_PROVER"):
        monkeypatch.delenv(key, raising=False)
    return runner


@pytest.fixture
def program():
    return Program.from_elf(echo_guest_sp1(), abi="sp1")


def test_not_installed_gives_install_text(tmp_path, monkeypatch):
    monkeypatch.delenv("PYZKVM_SP1_RUNNER", raising=False)
    monkeypatch.setenv("PYZKVM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.sp1
    monkeypatch.delenv("SP1_DIR", raising=False)
    # cargo present (this machine has it) but no SP1: the SP1 install text
    cargo_dir = tmp_path / "cargo-only"
    cargo_dir.mkdir()
    (cargo_dir / "cargo").write_text("#!/bin/sh\nexit 0\n")
    (cargo_dir / "cargo").chmod(0o755)
    monkeypatch.setenv("PATH", str(cargo_dir))
    a = Sp1Backend().availability()
    assert not a.available
    assert a.reason == NOT_FOUND
    assert "`curl -L https://sp1up.succinct.xyz | bash && sp1up --version v5.2.4` (needs cargo)" in a.reason
    # no cargo at all: say that Rust is needed first
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    a = Sp1Backend().availability()
    assert not a.available and a.reason.startswith("cargo not found") and "sp1up" in a.reason
    with pytest.raises(BackendUnavailable):
        Sp1Backend().prove(Program.from_elf(echo_guest_sp1()), INPUT)


def test_pyzkvm_backends_lists_sp1_as_unavailable(tmp_path):
    env = fake_env(tmp_path / "empty", HOME=str(tmp_path), PYZKVM_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-m", "pyzkvm", "backends", "--json"], env=env, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    import json

    row = next(b for b in json.loads(out.stdout)["backends"] if b["name"] == "sp1")
    assert row["available"] is False and "sp1up" in row["reason"]


def test_stdin_file_is_bincode_vec_of_byte_strings():
    # bincode 1 (fixint, little-endian): Vec<Vec<u8>> = u64 count, then u64 length + bytes each
    assert sp1_stdin_bytes([b"ab", b""]) == (
        b"\x02\x00\x00\x00\x00\x00\x00\x00" + b"\x02\x00\x00\x00\x00\x00\x00\x00ab" + b"\x00" * 8
    )
    assert sp1_stdin_bytes([]) == struct.pack("<Q", 0)


def test_version_mismatch(fake_runner, monkeypatch, program):
    monkeypatch.setenv("FAKE_SP1_MODE", "old")
    a = Sp1Backend().availability()
    assert not a.available
    assert a.reason == "sp1-sdk 4.1.0 is not supported: pyzkvm supports >= 5.0.0, < 6.0.0; install a supported version"
    with pytest.raises(ToolchainError, match="not supported"):
        Sp1Backend().prove(program, INPUT)


def test_prove_and_verify(fake_runner, program):
    from pyzkvm.executor import execute

    expected = execute(program, INPUT)
    backend = Sp1Backend()
    assert backend.availability().version == "sp1-runner 0.1.0 (sp1-sdk circuit v5.0.0)"
    receipt = backend.prove(program, INPUT, timeout=60)
    assert receipt.journal == expected.journal == b"zkvm"
    assert (receipt.claim.exit_code, receipt.claim.cycles) == (expected.exit_code, expected.cycles)
    assert receipt.claim.image_id == program.image_id
    assert receipt.params == {"dev_mode": False, "proof_kind": "core",
                              "sp1_vk_hash": "0x" + hashlib.sha256(sp1_mod.sp.guest_elf_bytes(program)).hexdigest()}
    again = Receipt.from_bytes(receipt.to_bytes())
    backend.verify(again, program.image_id, program=program, timeout=60)
    from pyzkvm.api import verify

    assert verify(again, program.image_id, program=program) == receipt.claim  # the library entry point


def test_same_elf_file_runs_unchanged(fake_runner):
    program = Program.from_elf(FIBONACCI)
    receipt = Sp1Backend().prove(program, [(10).to_bytes(4, "little")], elf=FIBONACCI, timeout=60)
    # journal: u32 n || F(n) as u64, F(10) = 55
    assert receipt.journal == (10).to_bytes(4, "little") + (55).to_bytes(8, "little")
    Sp1Backend().verify(receipt, program.image_id, elf=FIBONACCI, timeout=60)


def test_verify_rejections(fake_runner, program):
    backend = Sp1Backend()
    receipt = backend.prove(program, INPUT, timeout=60)
    with pytest.raises(VerificationError, match="pass program= or elf="):
        backend.verify(receipt, program.image_id)
    # the image ID checked must be the one of the ELF the tool is handed (a red-team finding, session 25)
    with pytest.raises(UsageError, match="program= and elf= are different guests"):
        backend.verify(receipt, program.image_id, program=program, elf=echo_guest_sp1(exit_code=2))
    other = Program.from_elf(echo_guest_sp1(exit_code=2))
    with pytest.raises(VerificationError, match="image ID mismatch"):
        backend.verify(receipt, other.image_id, program=other)
    forged_seal = receipt.seal.replace(b"zkvm".hex().encode(), b"ZKVM".hex().encode())
    assert forged_seal != receipt.seal
    forged = Receipt(receipt.claim, receipt.journal, "sp1", receipt.backend_version, receipt.params, forged_seal)
    with pytest.raises(VerificationError, match="SP1 verifier rejected the proof: Invalid proof"):
        backend.verify(forged, program.image_id, program=program)


def test_mock_proof_needs_dev_mode(fake_runner, program):
    backend = Sp1Backend()
    receipt = backend.prove(program, INPUT, dev_mode=True, timeout=60)
    with pytest.raises(DevModeReceiptError):
        backend.verify(receipt, program.image_id, program=program)
    backend.verify(receipt, program.image_id, program=program, dev_mode=True)


def test_a_mock_proof_relabelled_as_a_proof_is_checked_as_one_even_in_dev_mode(fake_runner, program, monkeypatch):
    """The receipt's dev_mode param is the prover's label, bound by nothing: a mock proof whose
    label says "proof" got past pyzkvm.verify's dev-mode gate, and with PYZKVM_DEV_MODE=1 the
    adapter ran SP1's verifier in mock mode, which accepted it, although the caller passed
    dev_mode=False (a red-team finding, session 24). A receipt that says it is a proof is now
    verified as one: SP1_PROVER=mock only for a receipt labelled dev mode, with dev mode on."""
    from pyzkvm.api import verify

    mock = Sp1Backend().prove(program, INPUT, dev_mode=True, timeout=60)
    relabelled = Receipt(mock.claim, mock.journal, "sp1", mock.backend_version, {**mock.params, "dev_mode": False},
                         mock.seal)
    monkeypatch.setenv("PYZKVM_DEV_MODE", "1")
    for dev_mode in (False, None, True):
        with pytest.raises(VerificationError, match="rejected the proof: Invalid proof: mock proof"):
            verify(relabelled, program.image_id, dev_mode=dev_mode, program=program)
        with pytest.raises(VerificationError, match="rejected the proof: Invalid proof: mock proof"):
            Sp1Backend().verify(relabelled, program.image_id, program=program, dev_mode=dev_mode, timeout=60)
    assert verify(mock, program.image_id, dev_mode=True, program=program) == mock.claim  # labelled: dev mode


def test_the_callers_sp1_prover_mock_never_makes_or_passes_a_mock_proof(fake_runner, program, monkeypatch):
    """SP1_PROVER=mock in the caller's shell (how SP1 users switch on SP1's dev mode) reached the
    runner: prove made mock proofs labelled as proofs, and verify accepted them (a review,
    session 27). Outside pyzkvm's dev mode the runner gets SP1_PROVER=cpu instead."""
    from pyzkvm.api import verify

    monkeypatch.setenv("SP1_PROVER", "mock")
    receipt = Sp1Backend().prove(program, INPUT, timeout=60)
    assert receipt.params["dev_mode"] is False
    monkeypatch.delenv("SP1_PROVER")
    assert verify(receipt, program.image_id, program=program) == receipt.claim  # a real proof, checked as one
    mock = Sp1Backend().prove(program, INPUT, dev_mode=True, timeout=60)
    relabelled = Receipt(mock.claim, mock.journal, "sp1", mock.backend_version, {**mock.params, "dev_mode": False},
                         mock.seal)
    monkeypatch.setenv("SP1_PROVER", "mock")
    with pytest.raises(VerificationError, match="rejected the proof: Invalid proof: mock proof"):
        verify(relabelled, program.image_id, program=program)


def test_an_sp1_receipt_as_an_assumption_is_refused_for_what_it_is(fake_runner, program):
    """prove --assume / aggregate of an sp1 receipt said "pass program= or elf= (CLI: --elf)",
    an option those commands do not have (a review, session 27): the reason is that no composed
    receipt can carry an ELF for its verifier."""
    import pyzkvm
    from pyzkvm.errors import UsageError

    receipt = Sp1Backend().prove(program, INPUT, timeout=60)
    with pytest.raises(UsageError, match=r"assumption receipt 0 does not verify \(it was made by backend 'sp1', whose "
                                         r"verifier needs the guest ELF, which a composed receipt does not carry"):
        pyzkvm.prove(program, INPUT, backend="trace", assumptions=[receipt])


def test_composition_is_refused_for_a_backend_that_makes_none(fake_runner, program):
    """An sp1 proof binds no assumptions: a receipt listing one (with a matching inner receipt)
    would claim a condition its proof never made; verify refuses it (red-team, session 24)."""
    from pyzkvm.api import verify
    from pyzkvm.backends.trace import TraceBackend
    from pyzkvm.composition import assumption_of
    from pyzkvm.receipt import Claim

    receipt = Sp1Backend().prove(program, INPUT, timeout=60)
    inner = TraceBackend().prove(program, INPUT)
    c = receipt.claim
    claim = Claim(c.image_id, c.exit_code, c.journal_digest, c.cycles, (assumption_of(inner),))
    composed = Receipt(claim, receipt.journal, "sp1", receipt.backend_version, receipt.params, receipt.seal, (inner,))
    with pytest.raises(VerificationError, match="makes no composed receipts"):
        verify(composed, program.image_id, dev_mode=True, program=program)


def test_wrong_abi_is_refused(fake_runner):
    with pytest.raises(UnsupportedProgram, match="sp1-profile"):
        Sp1Backend().prove(Program.from_elf(echo_guest_risc0(), abi="risc0"), INPUT)


def test_crash(fake_runner, monkeypatch, program):
    monkeypatch.setenv("FAKE_SP1_MODE", "crash")
    with pytest.raises(ToolchainError) as info:
        Sp1Backend().prove(program, INPUT, timeout=60)
    assert str(info.value) == (
        "sp1-runner crashed (exit code 1): sp1-runner: error: execution failed: HaltWithNonZeroExitCode(1)"
    )


def test_hang(fake_runner, monkeypatch, program):
    monkeypatch.setenv("FAKE_SP1_MODE", "hang")
    with pytest.raises(ToolchainError, match=r"sp1-runner hung: no result after 1 s \(killed\)"):
        Sp1Backend().prove(program, INPUT, timeout=1)


def test_garbage(fake_runner, monkeypatch, program):
    monkeypatch.setenv("FAKE_SP1_MODE", "garbage")
    with pytest.raises(ToolchainError, match="sp1-runner printed no JSON result line"):
        Sp1Backend().prove(program, INPUT, timeout=60)


def _sp1_installed() -> bool:
    return (Path.home() / ".sp1").is_dir() or bool(os.environ.get("PYZKVM_SP1_RUNNER"))


@pytest.mark.slow
@pytest.mark.skipif(not _sp1_installed(), reason="SP1 is not installed here (no ~/.sp1 and no PYZKVM_SP1_RUNNER)")
def test_real_sp1_mock_prover():
    backend = Sp1Backend()
    a = backend.availability()
    if not a.available:
        pytest.skip(f"sp1 backend not available: {a.reason}")
    from pyzkvm.executor import execute

    program = Program.from_elf(echo_guest_sp1())
    receipt = backend.prove(program, INPUT, dev_mode=True)
    assert receipt.journal == execute(program, INPUT).journal
    backend.verify(receipt, program.image_id, program=program, dev_mode=True)


def test_rebuilt_elf_keeps_the_image():
    # A Program written back as an ELF (for a tool) loads to the same entry, segments and image ID.
    from elftools.elf.elffile import ELFFile
    import io

    program = Program.from_elf(echo_guest_sp1())
    data = sp1_mod.sp.guest_elf_bytes(program)
    again = Program.from_elf(data)
    assert again.image_id == program.image_id and again.entry == program.entry
    elf = ELFFile(io.BytesIO(data))  # pyelftools as the independent reader
    loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
    assert [(s["p_vaddr"], s["p_memsz"]) for s in loads] == [(s.vaddr, len(s.data)) for s in program.segments]
    assert elf.header["e_machine"] == "EM_RISCV" and elf.header["e_entry"] == program.entry


def test_hung_tool_is_killed_with_its_children(tmp_path):
    # A prover that forks workers: the timeout must end the whole process group.
    script = tmp_path / "forks"
    pidfile = tmp_path / "child.pid"
    script.write_text(
        f"#!{sys.executable}\nimport subprocess, time\n"
        f"child = subprocess.Popen(['sleep', '120'])\nopen({str(pidfile)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(120)\n"
    )
    script.chmod(0o755)
    with pytest.raises(ToolchainError, match="forks hung"):
        sp1_mod.sp.run_tool([str(script)], tool="forks", timeout=1.5)
    child = int(pidfile.read_text())
    # the child was killed (and reaped by init, or is a zombie at most): not running any more.
    # SIGKILL is delivered asynchronously: give the kernel up to 5 s to finish the kill.
    deadline = time.monotonic() + 5
    while True:
        try:
            state = Path(f"/proc/{child}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            state = "gone"
        if state in ("gone", "Z") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert state in ("gone", "Z")


def test_runner_is_built_once_with_cargo(tmp_path, monkeypatch, program):
    # No prebuilt runner: the adapter copies the crate into the cache and runs `cargo build
    # --release` there once. A fake cargo "builds" by installing the fake runner and counts calls.
    bin_dir = tmp_path / "bin"
    runner_src = install_fake(tmp_path / "src", "sp1_runner", "sp1-runner")
    calls = tmp_path / "cargo-calls"
    cargo = bin_dir / "cargo"
    bin_dir.mkdir()
    cargo.write_text(
        f"#!{sys.executable}\nimport sys, shutil, pathlib\n"
        f"open({str(calls)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "manifest = pathlib.Path(sys.argv[sys.argv.index('--manifest-path') + 1])\n"
        "assert (manifest.parent / 'src' / 'main.rs').is_file()\n"
        "out = manifest.parent / 'target' / 'release' / 'sp1-runner'\n"
        "out.parent.mkdir(parents=True, exist_ok=True)\n"
        f"shutil.copy({str(runner_src)!r}, out)\n"
    )
    cargo.chmod(0o755)
    (tmp_path / ".sp1").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin:/bin")
    monkeypatch.setenv("PYZKVM_CACHE_DIR", str(tmp_path / "cache"))
    for key in ("PYZKVM_SP1_RUNNER", "SP1_DIR", "FAKE_SP1_MODE", "PYZKVM_TOOL_TIMEOUT"):
        monkeypatch.delenv(key, raising=False)
    backend = Sp1Backend()
    assert backend.availability().version == "sp1-runner (built on first use)"
    first = backend.prove(program, INPUT, timeout=60)
    second = backend.prove(program, INPUT, timeout=60)
    assert first.journal == second.journal == b"zkvm"
    lines = calls.read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("build --release --manifest-path ")
    assert str(tmp_path / "cache" / "tools") in lines[0]
    assert backend.availability().version == "sp1-runner 0.1.0 (sp1-sdk circuit v5.0.0)"


def test_install_hint_names_the_version_the_crosscheck_workflow_pins():
    import yaml

    from pyzkvm.backends import sp1

    pinned = yaml.safe_load((Path(__file__).parents[1] / ".github" / "workflows" / "crosscheck.yml").read_text())
    assert sp1.TESTED_VERSION == pinned["env"]["SP1_VERSION"]
    version = tuple(int(x) for x in sp1.TESTED_VERSION.lstrip("v").split("."))
    assert sp1.SUPPORTED[0] <= version < sp1.SUPPORTED[1]


# ---- receipt edits an attacker makes (issue 16 §6) ------------------------------------------------


def test_an_edited_exit_code_is_refused_and_the_cycle_count_is_not_shown_as_proved(fake_runner, program):
    """SP1 v5 proves only runs that exit with 0 and its proof carries no exit code, so SP1's
    verifier does not check the claim's exit code: a receipt whose claim says the (successful)
    run failed, or any other code, must be refused by the adapter itself. Nor does the proof
    bind the cycle count: an edited count still verifies (SP1 cannot tell), so verification must
    not present it as proved — Verified.cycles_proved is False (risc0's proofs neither: the same
    flag; the CLI's line: the slow test below)."""
    import dataclasses

    from pyzkvm.api import verify, verify_report
    from pyzkvm.backends.risc0 import Risc0Backend

    receipt = Sp1Backend().prove(program, INPUT, timeout=60)
    assert receipt.claim.exit_code == 0
    for code in (1, 0xFFFFFFFF):
        forged = dataclasses.replace(receipt, claim=dataclasses.replace(receipt.claim, exit_code=code))
        with pytest.raises(VerificationError, match=f"exit code {code}.*only a run that exited with 0"):
            Sp1Backend().verify(forged, program.image_id, program=program, timeout=60)
        with pytest.raises(VerificationError, match="exited with 0"):
            verify(forged.to_bytes(), program.image_id, program=program)
    edited = dataclasses.replace(receipt, claim=dataclasses.replace(receipt.claim, cycles=123456789))
    verified = verify_report(edited, program.image_id, program=program)
    assert verified.cycles_proved is False and verified.claim.cycles == 123456789
    assert Risc0Backend.proves_cycles is False and Sp1Backend.proves_cycles is False


@pytest.mark.slow
def test_the_cli_shows_an_unproved_cycle_count_as_the_provers_report(fake_runner, program, tmp_path, capsys):
    import dataclasses

    from pyzkvm.cli import main

    receipt = Sp1Backend().prove(program, INPUT, timeout=60)
    edited = dataclasses.replace(receipt, claim=dataclasses.replace(receipt.claim, cycles=123456789))
    path, elf = tmp_path / "r.receipt", tmp_path / "echo.elf"
    path.write_bytes(edited.to_bytes())
    elf.write_bytes(echo_guest_sp1())
    assert main(["verify", str(path), "--elf", str(elf)]) == 0
    assert "123456789 cycles (reported by the prover, not proved)" in capsys.readouterr().out
