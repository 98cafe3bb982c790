"""The risc0 adapter against a fake r0vm and a fake host helper (tests/fakes), plus the real
toolchain when it is installed (skipped otherwise, with the reason)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.command_env import with_run_memo
from tests.fakes import echo_guest_risc0, echo_guest_sp1, fake_env, install_fake
from pyzkvm.backends import risc0 as risc0_mod
from pyzkvm.backends.risc0 import NOT_FOUND, Risc0Backend, parse_session_log, risc0_input_stream
from pyzkvm.errors import (
    BackendUnavailable,
    DevModeReceiptError,
    ToolchainError,
    UnsupportedProgram,
    VerificationError,
)
from pyzkvm.program import Program
from pyzkvm.receipt import Receipt

INPUT = [(0x2A).to_bytes(4, "little")]


@pytest.fixture
def fakes(tmp_path, monkeypatch):
    """Fake r0vm + helper installed under tmp_path and named by RISC0_R0VM / PYZKVM_RISC0_HELPER."""
    bin_dir = tmp_path / "bin"
    r0vm = install_fake(bin_dir, "r0vm", "r0vm")
    helper = install_fake(bin_dir, "risc0_helper", "risc0-helper")
    monkeypatch.setenv("RISC0_R0VM", str(r0vm))
    monkeypatch.setenv("PYZKVM_RISC0_HELPER", str(helper))
    monkeypatch.setenv("PYZKVM_CACHE_DIR", str(tmp_path / "cache"))
    for key in ("FAKE_R0VM_MODE", "FAKE_RISC0_HELPER_MODE", "PYZKVM_DEV_MODE", "PYZKVM_TOOL_TIMEOUT"):
        monkeypatch.delenv(key, raising=False)
    return bin_dir


@pytest.fixture
def program():
    return Program.from_elf(echo_guest_risc0(), abi="risc0")


def test_not_installed_gives_install_text(tmp_path, monkeypatch):
    monkeypatch.delenv("RISC0_R0VM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no r0vm anywhere
    a = Risc0Backend().availability()
    assert not a.available
    assert a.reason == (
        "r0vm not found on PATH (or RISC0_R0VM): install r0vm 2.3.1 (supported: >= 1.2, < 4) with "
        "`curl -L https://risczero.com/install | bash && rzup install r0vm 2.3.1`"
    )
    assert a.reason == NOT_FOUND
    with pytest.raises(BackendUnavailable, match="r0vm not found"):
        Risc0Backend().prove(Program.from_elf(echo_guest_risc0(), abi="risc0"), INPUT)
    plain = tmp_path / "r0vm-not-executable"
    plain.write_text("")
    monkeypatch.setenv("RISC0_R0VM", str(plain))  # named, but not executable: said so (not "not found on PATH")
    assert Risc0Backend().availability().reason == f"RISC0_R0VM={plain} is not an executable file"


def test_pyzkvm_backends_lists_risc0_as_unavailable(tmp_path):
    env = fake_env(tmp_path / "empty")
    out = subprocess.run([sys.executable, "-m", "pyzkvm", "backends"], env=env, capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("risc0"))
    assert "not available: r0vm not found on PATH" in line
    assert "rzup install r0vm 2.3.1" in line


def test_install_hint_names_the_version_the_crosscheck_workflow_pins():
    import yaml

    from pyzkvm.backends import risc0

    pinned = yaml.safe_load((Path(__file__).parents[1] / ".github" / "workflows" / "crosscheck.yml").read_text())
    assert risc0.TESTED_VERSION == pinned["env"]["RISC0_VERSION"]
    version = tuple(int(x) for x in risc0.TESTED_VERSION.split("."))
    assert risc0.SUPPORTED[0] <= version < risc0.SUPPORTED[1]


def test_found_on_path_with_version(fakes, monkeypatch):
    monkeypatch.delenv("RISC0_R0VM")
    monkeypatch.setenv("PATH", f"{fakes}{os.pathsep}{os.environ['PATH']}")
    a = Risc0Backend().availability()
    assert a.available, a.reason
    assert a.version == "r0vm 2.3.1"


def test_version_mismatch(fakes, monkeypatch, program):
    monkeypatch.setenv("FAKE_R0VM_MODE", "old")
    a = Risc0Backend().availability()
    assert not a.available
    assert a.reason == "r0vm 0.19.1 is not supported: pyzkvm supports >= 1.2.0, < 4.0.0; install a supported version"
    with pytest.raises(ToolchainError, match="not supported"):
        Risc0Backend().prove(program, INPUT)


def test_prove_and_verify(fakes, program):
    from pyzkvm.executor import execute

    expected = execute(program, INPUT)  # the same guest in pyzkvm's own interpreter
    receipt = Risc0Backend().prove(program, INPUT, timeout=60)
    assert receipt.backend == "risc0" and receipt.backend_version == "r0vm 2.3.1"
    assert receipt.journal == expected.journal == INPUT[0]
    assert receipt.claim.exit_code == expected.exit_code == 0
    assert receipt.claim.image_id == program.image_id
    assert receipt.claim.journal_digest == hashlib.sha256(INPUT[0]).digest()
    # cycles are r0vm's "user cycles" log line (the fake logs the executor's count)
    assert receipt.claim.cycles == expected.cycles
    assert receipt.params["segments"] == 1 and receipt.params["receipt_kind"] == "composite"
    assert receipt.params["dev_mode"] is False
    # the seal is the receipt file exactly as r0vm wrote it
    assert receipt.seal.startswith(b"FAKE-R0-RECEIPT\n")
    # RISC Zero's image ID is of the ProgramBinary r0vm ran (R0BF + ELF in the fake)
    wrapped = b"R0BF" + risc0_mod.sp.guest_elf_bytes(program)
    assert receipt.params["risc0_image_id"] == hashlib.sha256(wrapped).hexdigest()
    # the receipt survives pyzkvm's codec and verifies through the tool
    again = Receipt.from_bytes(receipt.to_bytes())
    Risc0Backend().verify(again, program.image_id, program=program, timeout=60)
    from pyzkvm.api import verify

    assert verify(again, program.image_id, program=program) == receipt.claim  # the library entry point


def test_verify_rejections(fakes, program):
    backend = Risc0Backend()
    receipt = backend.prove(program, INPUT, timeout=60)
    with pytest.raises(VerificationError, match="pass program= or elf="):
        backend.verify(receipt, program.image_id)
    with pytest.raises(VerificationError, match="image ID mismatch"):
        backend.verify(receipt, bytes(32), program=program)
    other = Program.from_elf(echo_guest_risc0(exit_code=1), abi="risc0")
    with pytest.raises(VerificationError):
        backend.verify(receipt, other.image_id, program=other)
    # a seal whose journal was changed: the tool's verifier says no
    forged_seal = receipt.seal.replace(INPUT[0].hex().encode(), b"2b000000")
    assert forged_seal != receipt.seal
    forged = Receipt(receipt.claim, receipt.journal, "risc0", receipt.backend_version, receipt.params, forged_seal)
    with pytest.raises(VerificationError, match="rejected the receipt: Invalid proof"):
        backend.verify(forged, program.image_id, program=program)


def test_dev_mode_receipt_needs_dev_mode(fakes, program):
    backend = Risc0Backend()
    receipt = backend.prove(program, INPUT, dev_mode=True, timeout=60)
    assert receipt.params["dev_mode"] is True
    with pytest.raises(DevModeReceiptError):
        backend.verify(receipt, program.image_id, program=program)
    backend.verify(receipt, program.image_id, program=program, dev_mode=True)


def test_a_fake_receipt_relabelled_as_a_proof_is_checked_as_one_even_in_dev_mode(fakes, program, monkeypatch):
    """As for sp1 (test_sp1_adapter.py): a fake (dev-mode) RISC Zero receipt whose dev_mode
    param says "proof" is verified with RISC0_DEV_MODE=0, whatever PYZKVM_DEV_MODE says."""
    from pyzkvm.api import verify

    fake = Risc0Backend().prove(program, INPUT, dev_mode=True, timeout=60)
    relabelled = Receipt(fake.claim, fake.journal, "risc0", fake.backend_version, {**fake.params, "dev_mode": False},
                         fake.seal)
    monkeypatch.setenv("PYZKVM_DEV_MODE", "1")
    for dev_mode in (False, None, True):
        with pytest.raises(VerificationError, match="fake receipt outside dev mode"):
            verify(relabelled, program.image_id, dev_mode=dev_mode, program=program)
    assert verify(fake, program.image_id, dev_mode=True, program=program) == fake.claim


def test_the_callers_risc0_dev_mode_never_makes_a_fake_receipt(fakes, program, monkeypatch):
    """RISC0_DEV_MODE=1 in the caller's environment reached r0vm: it wrote a fake receipt that
    prove and inspect reported as a proof (a review, session 27); r0vm now always gets
    RISC0_DEV_MODE=0 outside pyzkvm's dev mode."""
    from pyzkvm.api import verify

    monkeypatch.setenv("RISC0_DEV_MODE", "1")
    receipt = Risc0Backend().prove(program, INPUT, timeout=60)
    assert receipt.params["dev_mode"] is False
    monkeypatch.delenv("RISC0_DEV_MODE")
    assert verify(receipt, program.image_id, program=program) == receipt.claim


def test_wrong_abi_is_refused(fakes):
    with pytest.raises(UnsupportedProgram, match="risc0 ABI profile"):
        Risc0Backend().prove(Program.from_elf(echo_guest_sp1(), abi="sp1"), INPUT)


def test_crash_is_typed_with_last_stderr_line(fakes, monkeypatch, program):
    monkeypatch.setenv("FAKE_R0VM_MODE", "crash")
    with pytest.raises(ToolchainError) as info:
        Risc0Backend().prove(program, INPUT, timeout=60)
    msg = str(info.value)
    assert msg.startswith("r0vm crashed (exit code 101): ")
    assert msg.endswith("guest fault at pc 0x00201000")
    assert "\n" not in msg


def test_hang_is_killed_after_timeout(fakes, monkeypatch, program):
    monkeypatch.setenv("FAKE_R0VM_MODE", "hang")
    with pytest.raises(ToolchainError, match=r"r0vm hung: no result after 1\.5 s \(killed\)"):
        Risc0Backend().prove(program, INPUT, timeout=1.5)


def test_hang_honours_env_timeout(fakes, monkeypatch, program):
    monkeypatch.setenv("FAKE_R0VM_MODE", "hang")
    monkeypatch.setenv("PYZKVM_TOOL_TIMEOUT", "1")
    with pytest.raises(ToolchainError, match="hung: no result after 1 s"):
        Risc0Backend().prove(program, INPUT)


def test_garbage_image_id(fakes, monkeypatch, program):
    monkeypatch.setenv("FAKE_R0VM_MODE", "garbage")
    with pytest.raises(ToolchainError, match="r0vm --id printed 'this is not an image id'"):
        Risc0Backend().prove(program, INPUT, timeout=60)


def test_garbage_from_helper(fakes, monkeypatch, program):
    monkeypatch.setenv("FAKE_RISC0_HELPER_MODE", "garbage")
    with pytest.raises(ToolchainError, match="printed no JSON result line"):
        Risc0Backend().prove(program, INPUT, timeout=60)


def test_parse_session_log_reads_risc0_info_lines():
    log = (
        "\x1b[2m2025-03-01T10:00:00Z\x1b[0m \x1b[32m INFO\x1b[0m risc0_zkvm::host::server::session: execution time: 1.2ms\n"
        "2025-03-01T10:00:00Z  INFO risc0_zkvm::host::server::session: number of segments: 3\n"
        "2025-03-01T10:00:00Z  INFO risc0_zkvm::host::server::session: 3145728 total cycles\n"
        "2025-03-01T10:00:00Z  INFO risc0_zkvm::host::server::session: 2500000 user cycles (79.47%)\n"
        "2025-03-01T10:00:00Z  INFO risc0_zkvm::host::server::session: 500000 paging cycles (15.89%)\n"
    )
    assert parse_session_log(log) == {"segments": 3, "total_cycles": 3145728, "user_cycles": 2500000}
    assert parse_session_log("no info lines") == {}


def test_input_stream_is_the_elements_back_to_back():
    # RISC Zero serde: u32 = one LE word; u64 = low word, high word. u32:/u64: inputs already are.
    assert risc0_input_stream([(7).to_bytes(4, "little"), (1 << 32 | 5).to_bytes(8, "little")]) == bytes(
        [7, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0]
    )


R0VM = shutil.which("r0vm") or os.environ.get("RISC0_R0VM")


@pytest.mark.slow
@pytest.mark.skipif(not R0VM, reason="RISC Zero is not installed here (no r0vm on PATH or RISC0_R0VM)")
def test_real_r0vm_dev_mode(tmp_path):
    backend = Risc0Backend()
    a = backend.availability()
    if not a.available:
        pytest.skip(f"risc0 backend not available: {a.reason}")
    from pyzkvm.executor import execute

    program = Program.from_elf(echo_guest_risc0(), abi="risc0")
    receipt = backend.prove(program, INPUT, dev_mode=True)
    assert receipt.journal == execute(program, INPUT).journal
    backend.verify(receipt, program.image_id, program=program, dev_mode=True)


def test_cli_verify_with_elf_passes_the_program_to_risc0(fakes, program, tmp_path):
    """`pyzkvm verify R --elf E` hands the program to backends that need it (risc0 derives its key from the ELF)."""
    receipt = Risc0Backend().prove(program, INPUT, timeout=60)
    path = tmp_path / "echo.risc0.receipt"
    path.write_bytes(receipt.to_bytes())
    elf = tmp_path / "echo.elf"
    elf.write_bytes(echo_guest_risc0())
    env = with_run_memo(dict(os.environ))
    ok = subprocess.run(
        [sys.executable, "-m", "pyzkvm", "verify", str(path), "--elf", str(elf), "--abi", "risc0"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("verified: risc0 receipt")
    no_elf = subprocess.run(
        [sys.executable, "-m", "pyzkvm", "verify", str(path), "--image-id", program.image_id.hex()],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert no_elf.returncode == 1 and "--elf" in no_elf.stderr


def test_cli_prove_prints_a_risc0_receipts_segments(fakes, tmp_path):
    """`pyzkvm prove -b risc0` ended in a KeyError traceback after writing the receipt: its
    params carry RISC Zero's segment count but no segment_cycles (a review, session 27)."""
    elf = tmp_path / "echo.elf"
    elf.write_bytes(echo_guest_risc0())
    out = subprocess.run([sys.executable, "-m", "pyzkvm", "prove", "-b", "risc0", str(elf), "--abi", "risc0",
                          "-i", "hex:7a6b766d", "-o", str(tmp_path / "r.receipt")],
                         capture_output=True, text=True, env=with_run_memo(dict(os.environ)), timeout=120)  # fmt: skip
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert "segments:   1\n" in out.stdout and (tmp_path / "r.receipt").is_file()


# ---- receipt edits an attacker makes (issue 16 §6) ------------------------------------------------


def test_a_paused_run_is_not_a_halted_claim(fakes):
    """RISC Zero's receipt says Halted(code) or Paused(code); a pyzkvm claim has only the exit
    code, so a paused run's receipt would read as "exit code 0": a successful, finished run. The
    adapter refuses it (its halt was ignored before, and such a receipt verified)."""
    paused = Program.from_elf(echo_guest_risc0(halt_type=1), abi="risc0")
    receipt = Risc0Backend().prove(paused, INPUT, timeout=60)
    assert receipt.claim.exit_code == 0
    with pytest.raises(VerificationError, match="'paused' run, not a halted one"):
        Risc0Backend().verify(receipt, paused.image_id, program=paused, timeout=60)

