"""The run / info / disasm / trace commands, through a subprocess like a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.command_env import with_run_memo
from tests.rvasm import DATA_BASE, asm, elf, flatten, halt, syscall

ROOT = Path(__file__).resolve().parents[1]
FIB = ROOT / "guests" / "bin" / "fibonacci.elf"


def pyzkvm(*args, check_status=None):
    r = subprocess.run([sys.executable, "-m", "pyzkvm", *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                       env=with_run_memo(dict(os.environ)), timeout=120)
    if check_status is not None:
        assert r.returncode == check_status, (r.returncode, r.stdout, r.stderr)
    return r


@pytest.fixture(scope="module")
def hello_elf(tmp_path_factory):
    """Writes "hello\\n" to stdout, "oops" to stderr, "pub" to the journal, then exits with a0."""
    code = flatten([syscall(2, 1, DATA_BASE, 6), syscall(2, 2, DATA_BASE + 6, 4), syscall(2, 3, DATA_BASE + 10, 3), halt(0)])
    path = tmp_path_factory.mktemp("elf") / "hello.elf"
    path.write_bytes(elf(code, data=b"hello\noopspub"))
    return path


@pytest.fixture(scope="module")
def failing_elf(tmp_path_factory):
    path = tmp_path_factory.mktemp("elf") / "fail.elf"
    path.write_bytes(elf(halt(3)))
    return path


def test_run_human(hello_elf):
    r = pyzkvm("run", hello_elf, check_status=0)
    assert "hello" in r.stdout and "oops" in r.stderr
    assert "journal:   707562 (3 B)" in r.stdout and "'pub'" in r.stdout
    assert "exit code: 0" in r.stdout and "cycles:" in r.stdout and "MHz" in r.stdout


def test_run_json(hello_elf):
    r = pyzkvm("run", hello_elf, "--json", check_status=0)
    out = json.loads(r.stdout)
    assert out["exit_code"] == 0 and out["journal"] == "707562" and out["stdout"] == "hello\n"
    assert out["stderr"] == "oops" and out["cycles"] > 0
    assert out["report"]["syscalls"]["WRITE"] == 3 and out["commit_matches"] is None


def test_run_guest_failure_exits_1(failing_elf):
    r = pyzkvm("run", failing_elf, check_status=1)
    assert "exit code: 3" in r.stdout


@pytest.mark.skipif(not FIB.exists(), reason="guests not built")
def test_run_fibonacci_with_input():
    out = json.loads(pyzkvm("run", FIB, "--input", "u32:10", "--json", check_status=0).stdout)
    assert out["journal"] == "0a000000" + "3700000000000000" and out["commit_matches"] is True


@pytest.mark.parametrize(
    "args, status, message",
    [
        (["run", "/nonexistent.elf"], 1, "no such file"),
        (["run", "{hello}", "--input", "u32:x"], 2, "is not an integer"),
        (["run", "{hello}", "--max-cycles", "0"], 2, "must be positive"),
        (["run", "{hello}", "--max-cycles", "5"], 1, "cycle limit exceeded"),
        (["run", "{hello}", "--abi", "wasm"], 2, "invalid choice"),
        (["info", "{notelf}"], 1, "not an ELF file"),
        (["disasm", "{hello}", "--function", "main"], 2, "no function named 'main'"),
        (["disasm", "{hello}", "--function", ""], 2, "--function is empty"),
        (["trace", "{hello}", "--steps", "0"], 2, "not in 1..10000000"),
    ],
)
def test_user_errors_are_one_line(args, status, message, hello_elf, tmp_path):
    notelf = tmp_path / "x.elf"
    notelf.write_bytes(b"hello")
    args = [a.format(hello=hello_elf, notelf=notelf) for a in args]
    r = pyzkvm(*args, check_status=status)
    assert message in r.stderr
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 or "usage:" in r.stderr


def test_a_file_name_that_is_not_utf8_or_holds_a_newline_is_shown_on_one_line_as_its_bytes(tmp_path):
    """A byte of an argument that is not UTF-8 was shown as Python's lone surrogate, '\\udcff';
    it is the byte, '\\xff', and a newline stays '\\n'."""
    name = os.fsencode(tmp_path) + b"/\xff\xfe\n.elf"
    r = subprocess.run([sys.executable, "-m", "pyzkvm", "run", name], capture_output=True, cwd=ROOT,
                       env=with_run_memo(dict(os.environ)), timeout=120)
    assert r.returncode == 1
    err = r.stderr.decode()
    assert "/\\xff\\xfe\\n.elf: no such file" in err and "\\udc" not in err and len(err.strip().splitlines()) == 1
    r = subprocess.run([sys.executable, "-m", "pyzkvm", "run", FIB, "--input", b"u32:\xff"], capture_output=True,
                       cwd=ROOT, env=with_run_memo(dict(os.environ)), timeout=120)  # a message quoting it with repr
    assert r.returncode == 2 and r.stderr.decode().strip() == "pyzkvm: error: bad --input 'u32:\\xff': '\\xff' is not an integer"


def test_guest_fault_is_one_line(tmp_path):
    path = tmp_path / "bad.elf"
    path.write_bytes(elf([asm.lw(6, 0, 0x10)]))
    r = pyzkvm("run", path, check_status=1)
    assert r.stderr.strip() == (
        "pyzkvm: error: memory access out of range at pc=0x00201000 (0x01002303: lw t1, 16(zero)) cycle 0: "
        "load from 0x00000010, outside guest memory [0x20, 0x78000000)"
    )


def test_info(hello_elf):
    r = pyzkvm("info", hello_elf, check_status=0)
    assert "entry:     0x00201000" in r.stdout and "image ID:" in r.stdout
    out = json.loads(pyzkvm("info", hello_elf, "--json", check_status=0).stdout)
    from pyzkvm.program import Program

    assert out["image_id"] == Program.from_elf(hello_elf).image_id.hex()
    assert out["entry"] == 0x201000 and out["segments"][0]["flags"] == "R-X"


def test_disasm(hello_elf):
    r = pyzkvm("disasm", hello_elf, check_status=0)
    assert "00201000:" in r.stdout and "ecall" in r.stdout and "lui a1, 0x300" in r.stdout


@pytest.mark.skipif(not FIB.exists(), reason="guests not built")
def test_disasm_function():
    r = pyzkvm("disasm", FIB, "--function", "main", check_status=0)
    assert "<main>:" in r.stdout and "<_start>" not in r.stdout


def test_trace_teaching_view(hello_elf):
    r = pyzkvm("trace", hello_elf, "--steps", "3", check_status=0)
    lines = r.stdout.splitlines()
    assert lines[1].split()[:4] == ["0", "00201000", "lui", "a0,"]
    assert "a0 ← 0x00000001" in lines[2]
    assert "stopped after 3 cycles" in r.stdout
    full = pyzkvm("trace", hello_elf, "--steps", "1000", check_status=0).stdout
    assert "syscall t0=0x2" in full and "halted after" in full and "mem[0x00300000] = 0x6c6c6568" in full


@pytest.mark.parametrize("command", ["run", "info", "disasm", "trace"])
def test_help(command):
    r = pyzkvm(command, "--help", check_status=0)
    assert "usage: pyzkvm " + command in r.stdout and len(r.stdout) > 200
