"""``pyzkvm crosscheck`` through the command line, with fake RISC Zero and SP1 tools."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from tests.fakes import echo_guest_risc0, echo_guest_sp1, fake_env, install_fake

INPUT = b"zkvm"


@pytest.fixture
def setup(tmp_path):
    """Guest ELFs for both ABI profiles, the fakes on PATH, and a runner for the CLI."""
    sp1_elf = tmp_path / "echo.elf"
    sp1_elf.write_bytes(echo_guest_sp1())
    risc0_elf = tmp_path / "echo.risc0.elf"
    risc0_elf.write_bytes(echo_guest_risc0())
    bin_dir = tmp_path / "bin"
    install_fake(bin_dir, "r0vm", "r0vm")
    helper = install_fake(bin_dir, "risc0_helper", "risc0-helper")
    runner = install_fake(bin_dir, "sp1_runner", "sp1-runner")

    def run(*args, fakes=True, **modes):
        env = fake_env(bin_dir if fakes else tmp_path / "nothing", HOME=str(tmp_path),
                       PYZKVM_CACHE_DIR=str(tmp_path / "cache"), **modes)  # fmt: skip
        if fakes:
            env.update(PYZKVM_RISC0_HELPER=str(helper), PYZKVM_SP1_RUNNER=str(runner))
        return subprocess.run([sys.executable, "-m", "pyzkvm", "crosscheck", *map(str, args)], env=env,
                              capture_output=True, text=True, timeout=300)  # fmt: skip

    return run, sp1_elf, risc0_elf, tmp_path


def _rows(out) -> dict:
    return {row["backend"]: row for row in json.loads(out.stdout)["backends"]}


def test_all_backends_agree(setup):
    run, sp1_elf, risc0_elf, _ = setup
    args = (sp1_elf, "--input", f"hex:{INPUT.hex()}", "--risc0-elf", risc0_elf, "--backends", "trace,risc0,sp1")
    out = run(*args, "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["agree"] is True and report["mismatches"] == [] and report["failures"] == []
    rows = _rows(out)
    digest = hashlib.sha256(INPUT).hexdigest()
    for name in ("trace", "risc0", "sp1"):
        assert rows[name]["available"] is True
        assert rows[name]["journal_sha256"] == digest
        assert rows[name]["exit_code"] == 0
        assert rows[name]["proof_bytes"] > 0
    assert rows["trace"]["verified"] == "dev (not a proof)"
    assert rows["risc0"]["verified"] == "yes" and rows["sp1"]["verified"] == "yes"
    assert rows["risc0"]["abi"] == "risc0" and rows["sp1"]["abi"] == "sp1"

    table = run(*args)
    assert table.returncode == 0, table.stdout + table.stderr
    assert "agree: 3 backends proved the same journal and exit code" in table.stdout
    assert "dev (not a proof)" in table.stdout
    assert digest[:16] in table.stdout
    assert "WARNING" not in table.stderr  # the dev-mode warning is shown in the table instead


def test_journal_mismatch_exits_1_naming_backends(setup):
    run, sp1_elf, risc0_elf, _ = setup
    out = run(sp1_elf, "--input", f"hex:{INPUT.hex()}", "--risc0-elf", risc0_elf, "--backends", "trace,risc0,sp1",
              FAKE_SP1_MODE="tamper")  # fmt: skip
    assert out.returncode == 1, out.stdout + out.stderr
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("MISMATCH")]
    assert len(lines) == 1
    assert lines[0].startswith("MISMATCH: trace and sp1 disagree on the journal: sha256 ")


def test_exit_code_mismatch(setup):
    run, sp1_elf, _, tmp_path = setup
    failing = tmp_path / "echo-exit1.risc0.elf"
    failing.write_bytes(echo_guest_risc0(exit_code=1))
    out = run(sp1_elf, "--input", f"hex:{INPUT.hex()}", "--risc0-elf", failing, "--backends", "trace,risc0", "--json")
    assert out.returncode == 1
    assert json.loads(out.stdout)["mismatches"] == ["trace and risc0 disagree on the exit code: 0 vs 1"]


def test_unavailable_backends_show_their_reason(setup):
    run, sp1_elf, _, _ = setup
    out = run(sp1_elf, "--input", f"hex:{INPUT.hex()}", "--backends", "trace,risc0,sp1", "--json", fakes=False)
    assert out.returncode == 0, out.stdout + out.stderr
    rows = _rows(out)
    assert rows["trace"]["verified"] == "dev (not a proof)"
    assert rows["risc0"]["available"] is False and "rzup install" in rows["risc0"]["reason"]
    assert rows["sp1"]["available"] is False and "sp1up" in rows["sp1"]["reason"]
    table = run(sp1_elf, "--input", f"hex:{INPUT.hex()}", "--backends", "trace,risc0", fakes=False)
    assert "nothing to compare: only 1 backend ran here" in table.stdout


def test_risc0_needs_a_risc0_build(setup):
    run, sp1_elf, _, _ = setup
    out = run(sp1_elf, "--input", f"hex:{INPUT.hex()}", "--backends", "trace,risc0,sp1", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    rows = _rows(out)
    assert rows["risc0"]["available"] is False
    assert rows["risc0"]["reason"].startswith("needs the guest built for the risc0 ABI profile: pass --risc0-elf")
    assert rows["sp1"]["verified"] == "yes"


def test_abi_risc0_runs_trace_and_risc0_on_the_same_elf(setup):
    run, _, risc0_elf, _ = setup
    out = run(risc0_elf, "--abi", "risc0", "--input", f"hex:{INPUT.hex()}", "--backends", "trace,risc0,sp1", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    rows = _rows(out)
    assert rows["trace"]["journal_sha256"] == rows["risc0"]["journal_sha256"] == hashlib.sha256(INPUT).hexdigest()
    assert rows["sp1"]["available"] is False and "sp1-profile" in rows["sp1"]["reason"]


def test_crashing_tool_fails_the_crosscheck(setup):
    run, sp1_elf, risc0_elf, _ = setup
    out = run(sp1_elf, "--input", f"hex:{INPUT.hex()}", "--risc0-elf", risc0_elf, "--backends", "trace,risc0",
              FAKE_R0VM_MODE="crash")  # fmt: skip
    assert out.returncode == 1
    assert "FAILED: risc0: prove failed: r0vm crashed (exit code 101): called `Result::unwrap()`" in out.stdout
    assert "Traceback" not in out.stderr


def test_hanging_tool_is_killed_at_the_timeout(setup):
    run, sp1_elf, _, _ = setup
    out = run(sp1_elf, "--input", f"hex:{INPUT.hex()}", "--backends", "sp1", "--timeout", "1", "--json",
              FAKE_SP1_MODE="hang")  # fmt: skip
    assert out.returncode == 1
    assert json.loads(out.stdout)["failures"] == [
        "sp1: prove failed: sp1-runner hung: no result after 1 s (killed); raise $PYZKVM_TOOL_TIMEOUT or pass "
        "timeout= if it needs longer"
    ]


def test_version_mismatch_makes_backend_unavailable(setup):
    run, sp1_elf, _, _ = setup
    out = run(sp1_elf, "--input", f"hex:{INPUT.hex()}", "--backends", "trace,sp1", "--json", FAKE_SP1_MODE="old")
    rows = _rows(out)
    assert rows["sp1"]["available"] is False
    assert rows["sp1"]["reason"].startswith("sp1-sdk 4.1.0 is not supported")


@pytest.mark.parametrize(
    "args, message",
    [
        (("--backends", ""), "--backends is empty"),
        (("--backends", "trace,trace"), "names a backend twice"),
        (("--backends", "nosuch"), "unknown backend 'nosuch'"),
        (("--timeout", "0"), "--timeout must be a positive number"),
        (("--input", "u32:x"), "bad --input"),
    ],
)
def test_usage_errors(setup, args, message):
    run, sp1_elf, _, _ = setup
    out = run(sp1_elf, *args)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.startswith("pyzkvm: error: ") and message in out.stderr
    assert out.stderr.count("\n") == 1


def test_missing_elf_is_one_line(setup):
    run, _, _, tmp_path = setup
    out = run(tmp_path / "missing.elf", "--backends", "trace")
    assert out.returncode == 1
    assert out.stderr == f"pyzkvm: error: {tmp_path / 'missing.elf'}: no such file\n"
