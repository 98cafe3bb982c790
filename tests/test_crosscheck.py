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
    # named in --backends, a backend that cannot run is a failure when fewer than two could: exit 1,
    # its reason (by default crosscheck runs what is installed: trace and stark here)
    run, sp1_elf, _, _ = setup
    out = run(sp1_elf, "--input", f"hex:{INPUT.hex()}", "--backends", "trace,risc0,sp1", "--json", fakes=False)
    assert out.returncode == 1, out.stdout + out.stderr
    rows = _rows(out)
    assert rows["trace"]["verified"] == "dev (not a proof)"
    assert rows["risc0"]["available"] is False and "rzup install" in rows["risc0"]["reason"]
    assert rows["sp1"]["available"] is False and "sp1up" in rows["sp1"]["reason"]
    assert [f.split(":")[0] for f in json.loads(out.stdout)["failures"]] == ["risc0", "sp1"]
    table = run(sp1_elf, "--input", f"hex:{INPUT.hex()}", "--backends", "trace,risc0", fakes=False)
    assert table.returncode == 1 and "FAILED: risc0: r0vm not found" in table.stdout


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


# ---- real guests from guests/bin (both ABI profiles) ---------------------------------------

from pathlib import Path  # noqa: E402

GUESTS_BIN = Path(__file__).resolve().parents[1] / "guests" / "bin"

#: Wrappers around the fakes that behave like the real tools on a failing guest: r0vm proves
#: only runs that halt with exit code 0, SP1 v5 stops with "execution failed with exit code N".
_REFUSING_R0VM = '''
import json, os, subprocess, sys
args = sys.argv[1:]
run = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "r0vm-fake"), *args])
if run.returncode or "--receipt" not in args:
    sys.exit(run.returncode)
path = args[args.index("--receipt") + 1]
body = json.loads(open(path, "rb").read().split(b"\\n", 1)[1])
if body["exit_code"] != 0:
    os.remove(path)
    print(f"Error: guest halted with exit code {body['exit_code']}; not proving it", file=sys.stderr)
    sys.exit(1)
'''
_REFUSING_SP1 = '''
import json, os, subprocess, sys
run = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "sp1-fake"), *sys.argv[1:]],
                     capture_output=True, text=True)
sys.stderr.write(run.stderr)
line = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
if run.returncode == 0 and line.startswith("{") and json.loads(line)["exit_code"] != 0:
    code = json.loads(line)["exit_code"]
    print(f"sp1-runner: error: execution failed: execution failed with exit code {code}", file=sys.stderr)
    sys.exit(1)
sys.stdout.write(run.stdout)
sys.exit(run.returncode)
'''


def _refusing_tools(tmp_path) -> None:
    """Install the refusing wrappers as r0vm / sp1-runner in the setup's bin folder."""
    bin_dir = tmp_path / "bin"
    install_fake(bin_dir, "r0vm", "r0vm-fake")
    install_fake(bin_dir, "sp1_runner", "sp1-fake")
    for name, body in (("r0vm", _REFUSING_R0VM), ("sp1-runner", _REFUSING_SP1)):
        path = bin_dir / name
        path.write_text(f"#!{sys.executable}\n" + body)
        path.chmod(0o755)


def test_real_risc0_profile_guest_agrees_with_its_sp1_twin(setup):
    run, _, _, _ = setup
    out = run(GUESTS_BIN / "fibonacci.elf", "--input", "u32:20", "--risc0-elf", GUESTS_BIN / "risc0" / "fibonacci.elf",
              "--backends", "trace,risc0,sp1", "--json")  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    rows = _rows(out)
    journal = (20).to_bytes(4, "little") + (6765).to_bytes(8, "little")  # F(20) = 6765
    for name in ("trace", "risc0", "sp1"):
        assert rows[name]["journal_hex"] == journal.hex(), name
        assert rows[name]["exit_code"] == 0
    assert rows["risc0"]["abi"] == "risc0" and rows["risc0"]["elf"].endswith("risc0/fibonacci.elf")
    assert rows["risc0"]["verified"] == "yes" and rows["sp1"]["verified"] == "yes"


def test_tools_refusing_a_failing_guest_agree_with_pyzkvm(setup):
    run, _, _, tmp_path = setup
    _refusing_tools(tmp_path)
    args = (GUESTS_BIN / "panic.elf", "--risc0-elf", GUESTS_BIN / "risc0" / "panic.elf", "--backends", "trace,risc0,sp1")
    out = run(*args, "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["agree"] is True and report["failures"] == [] and report["mismatches"] == []
    rows = _rows(out)
    assert rows["trace"]["exit_code"] == 1 and rows["trace"]["refused_exit_code"] is None
    assert rows["risc0"]["notes"][0].startswith("prove failed: r0vm crashed (exit code 1): Error: guest halted")
    assert rows["sp1"]["notes"][0].startswith("prove failed: sp1-runner crashed (exit code 1)")
    for name in ("risc0", "sp1"):
        assert rows[name]["reason"] == "refused: guest exits 1 (agrees)"
        assert rows[name]["refused_exit_code"] == 1 and rows[name]["verified"] == "refused"
        assert rows[name]["exit_code"] is None and rows[name]["error"] == ""

    table = run(*args)
    assert table.returncode == 0, table.stdout + table.stderr
    assert "refused: guest exits 1 (agrees)" in table.stdout
    assert "agree: 1 backend proved the same journal and exit code; 2 refused the failing guest" in table.stdout


def test_refusal_is_a_mismatch_when_the_builds_disagree(setup):
    # trace runs a guest that exits 0; the risc0 build handed to r0vm is one that exits 1
    run, _, _, tmp_path = setup
    _refusing_tools(tmp_path)
    out = run(GUESTS_BIN / "fibonacci.elf", "--input", "u32:3", "--risc0-elf", GUESTS_BIN / "risc0" / "panic.elf",
              "--backends", "trace,risc0", "--json")  # fmt: skip
    assert out.returncode == 1
    report = json.loads(out.stdout)
    assert report["mismatches"] == [
        "trace and risc0 disagree on the exit code: 0 vs 1 (pyzkvm's run of the build risc0 refused)"
    ]


def test_refusal_of_a_succeeding_guest_is_a_failure(setup):
    # the fake r0vm refuses (crashes) although pyzkvm runs the guest to exit 0: not agreement
    run, _, _, _ = setup
    out = run(GUESTS_BIN / "fibonacci.elf", "--input", "u32:3", "--risc0-elf", GUESTS_BIN / "risc0" / "fibonacci.elf",
              "--backends", "trace,risc0", "--json", FAKE_R0VM_MODE="crash")  # fmt: skip
    assert out.returncode == 1
    rows = _rows(out)
    assert rows["risc0"]["refused_exit_code"] is None
    assert rows["risc0"]["error"].startswith("prove failed: r0vm crashed (exit code 101)")


def test_risc0_input_feeds_the_risc0_build_its_serde_words(setup):
    # sha256 reads a byte string: raw bytes under sp1, a length word + padded bytes under risc0
    run, _, _, _ = setup
    out = run(GUESTS_BIN / "sha256.elf", "--input", "str:abc", "--risc0-elf", GUESTS_BIN / "risc0" / "sha256.elf",
              "--risc0-input", "hex:0300000061626300", "--backends", "trace,risc0", "--json")  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    rows = _rows(out)
    digest = hashlib.sha256(b"abc").digest()
    assert rows["trace"]["journal_hex"] == rows["risc0"]["journal_hex"] == digest.hex()
    # without --risc0-input the risc0 build would read "abc\0" as a length word and fail
    out = run(GUESTS_BIN / "sha256.elf", "--input", "str:abc", "--risc0-elf", GUESTS_BIN / "risc0" / "sha256.elf",
              "--backends", "trace,risc0", "--json")  # fmt: skip
    assert out.returncode == 1
    assert "disagree" in " ".join(json.loads(out.stdout)["mismatches"])


def test_risc0_input_needs_risc0_elf(setup):
    run, sp1_elf, _, _ = setup
    out = run(sp1_elf, "--risc0-input", "u32:1", "--backends", "trace")
    assert out.returncode == 2
    assert out.stderr == "pyzkvm: error: --risc0-input is the input of the --risc0-elf build: pass --risc0-elf ELF too\n"


def test_a_hanging_tool_on_a_failing_guest_is_not_a_refusal(setup):
    run, _, _, _ = setup
    out = run(GUESTS_BIN / "panic.elf", "--backends", "trace,sp1", "--timeout", "1", "--json", FAKE_SP1_MODE="hang")
    assert out.returncode == 1
    rows = _rows(out)
    assert rows["sp1"]["refused_exit_code"] is None
    assert rows["sp1"]["error"].startswith("prove failed: sp1-runner hung")


def test_compare_claims_checks_refusals_against_each_other():
    from pyzkvm.cli.crosscheck import Outcome, compare_claims

    r0 = Outcome("risc0", True, verified="refused", refused_exit_code=1)
    sp1 = Outcome("sp1", True, verified="refused", refused_exit_code=2)
    assert compare_claims([r0, sp1]) == [
        "risc0 and sp1 disagree on the exit code: 1 vs 2 (pyzkvm's run of the build sp1 refused)"
    ]
    same = Outcome("sp1", True, verified="refused", refused_exit_code=1)
    assert compare_claims([r0, same]) == []
    trace = Outcome("trace", True, journal_sha256="e3b0", exit_code=1)
    assert compare_claims([trace, r0, same]) == []
